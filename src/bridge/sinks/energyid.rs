//! EnergyID as a sink: rows become meter readings in the device's durable
//! outbox, and delivery is the outbox's flush within the record's policy.

use crate::bridge::sink::{Row, Sink};
use crate::bridge::source::Pending;
use crate::core::{Clock, HttpClient, Store};
use crate::energyid::client::FlushOptions;
use crate::energyid::{EnergyIdDevice, Reading};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// Which EnergyID key each source channel fills; `None` skips it.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Mapping {
    pub linky_consumption: Option<String>,
    /// `pv` for a full-sale installation.
    pub linky_production: Option<String>,
    pub heat: Option<String>,
    pub heat_pump_electricity: Option<String>,
}

impl Default for Mapping {
    fn default() -> Self {
        Mapping {
            linky_consumption: Some("el".into()),
            linky_production: Some("el-i".into()),
            heat: Some("heat".into()),
            heat_pump_electricity: Some("el.heatpump".into()),
        }
    }
}

pub struct EnergyIdSink<'a, H, S, C> {
    device: &'a EnergyIdDevice<H, S, C>,
    mapping: Mapping,
    /// kWh meter reading per key at the first data.
    start_index: BTreeMap<String, f64>,
    /// How long delivery may wait for the record's next upload slot.
    max_wait: Duration,
}

impl<'a, H, S, C> EnergyIdSink<'a, H, S, C> {
    pub fn new(device: &'a EnergyIdDevice<H, S, C>, mapping: Mapping, start_index: BTreeMap<String, f64>, max_wait: Duration) -> Self {
        EnergyIdSink { device, mapping, start_index, max_wait }
    }
}

impl<'a, H: HttpClient, S: Store, C: Clock> Sink for EnergyIdSink<'a, H, S, C> {
    fn name(&self) -> &'static str {
        crate::energyid::PROVIDER
    }

    fn key(&self, source: &str, channel: &str) -> Option<String> {
        let key = match (source, channel) {
            ("linky", "consumption") => &self.mapping.linky_consumption,
            ("linky", "production") => &self.mapping.linky_production,
            ("weheat", "heat") => &self.mapping.heat,
            ("weheat", "electricity") => &self.mapping.heat_pump_electricity,
            _ => return None,
        };
        key.clone().filter(|k| !k.is_empty() && k != "none")
    }

    fn start_index(&self, key: &str) -> f64 {
        self.start_index.get(key).copied().filter(|v| v.is_finite() && *v >= 0.0).unwrap_or(0.0)
    }

    /// EnergyID was the only target before there were sinks: its cursors keep
    /// their first keys, so existing installs continue where they were.
    fn cursor_key(&self, key: &str) -> String {
        format!("sync/cursor/{key}")
    }

    fn queue<'b>(&'b self, rows: &'b [Row]) -> Pending<'b, usize> {
        Box::pin(async move {
            let readings: Vec<Reading> = rows
                .iter()
                .map(|row| {
                    let mut reading = Reading { ts: row.ts, values: Default::default() };
                    for (key, value) in &row.values {
                        reading.values.insert(key.clone(), *value);
                    }
                    reading
                })
                .collect();
            self.device.enqueue(&readings).await
        })
    }

    fn deliver<'b>(&'b self, progress: &'b dyn Fn(u32, u32)) -> Pending<'b, Map<String, Value>> {
        Box::pin(async move {
            let report = self.device.flush(FlushOptions { max_wait: self.max_wait }, |sent, total| progress(sent as u32, total as u32)).await?;
            match serde_json::to_value(report) {
                Ok(Value::Object(fields)) => Ok(fields),
                _ => Ok(Map::new()),
            }
        })
    }
}
