//! MQTT as a sink. What a home-automation system needs of a meter is its index
//! (an `energy` sensor with `total_increasing` kWh): the bridge computes it
//! like every other sink's, this sink keeps the newest one per series in one
//! document, and the publisher (js/mqtt/) sends it as a retained state. MQTT
//! keeps no history, so older rows only move the index forward.

use crate::bridge::sink::{Row, Sink};
use crate::bridge::source::Pending;
use crate::core::store::{load, save};
use crate::core::Store;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Where the newest index of each series lives: `{key: {ts, kwh}}`.
pub const ENERGY_DOC: &str = "mqtt/energy";

/// The series this sink takes, as `(source, channel)`; the key is
/// `source_subject_channel` (`linky_<prm>_consumption`, `weheat_<pump>_heat`),
/// so another meter or pump starts an index of its own.
const SERIES: [(&str, &str); 4] = [("linky", "consumption"), ("linky", "production"), ("weheat", "electricity"), ("weheat", "heat")];

/// The newest index of one series: kWh at `ts` (unix seconds).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Latest {
    pub ts: i64,
    pub kwh: f64,
}

pub struct MqttSink<'a, S> {
    store: &'a S,
}

impl<'a, S> MqttSink<'a, S> {
    pub fn new(store: &'a S) -> Self {
        MqttSink { store }
    }
}

impl<'a, S: Store> MqttSink<'a, S> {
    async fn energy(&self) -> crate::core::Result<BTreeMap<String, Latest>> {
        Ok(load(self.store, ENERGY_DOC).await?.unwrap_or_default())
    }
}

impl<'a, S: Store> Sink for MqttSink<'a, S> {
    fn name(&self) -> &'static str {
        "mqtt"
    }

    fn key(&self, source: &str, channel: &str) -> Option<String> {
        SERIES.iter().any(|pair| *pair == (source, channel)).then(|| format!("{source}_{channel}"))
    }

    fn subject_key(&self, source: &str, subject: Option<&str>, channel: &str) -> Option<String> {
        let series = self.key(source, channel)?;
        Some(match subject {
            Some(subject) => format!("{source}_{subject}_{channel}"),
            None => series,
        })
    }

    /// Keeps the newest value of each key; an older row (a crash replay) never
    /// moves an index back.
    fn queue<'b>(&'b self, rows: &'b [Row]) -> Pending<'b, usize> {
        Box::pin(async move {
            let mut energy = self.energy().await?;
            let mut values = 0;
            for row in rows {
                for (key, kwh) in &row.values {
                    values += 1;
                    let newer = energy.get(key).map_or(true, |latest| row.ts >= latest.ts);
                    if newer {
                        energy.insert(key.clone(), Latest { ts: row.ts, kwh: *kwh });
                    }
                }
            }
            save(self.store, ENERGY_DOC, &energy).await?;
            Ok(values)
        })
    }

    /// Nothing leaves here: the report hands the indexes to the publisher.
    fn deliver<'b>(&'b self, _progress: &'b dyn Fn(u32, u32)) -> Pending<'b, Map<String, Value>> {
        Box::pin(async move {
            let mut report = Map::new();
            report.insert("status".into(), "ok".into());
            report.insert("energy".into(), serde_json::to_value(self.energy().await?).unwrap_or(Value::Null));
            Ok(report)
        })
    }
}
