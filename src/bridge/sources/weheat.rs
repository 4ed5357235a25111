//! Weheat as a source: the heat pump's hourly electricity and heat.

use crate::bridge::source::{Channel, Fetched, Pending, Progress, Resolution, Source};
use crate::core::{Clock, Crypto, HttpClient, IntervalEnergy, Store};
use crate::weheat::{Interval, Weheat};
use serde_json::{Map, Value};
use std::cell::{Cell, RefCell};

const CHANNELS: &[Channel] = &[
    Channel { name: "heat", resolutions: &[Resolution::Hour], optional: false },
    Channel { name: "electricity", resolutions: &[Resolution::Hour], optional: false },
];

/// A first run backfills this far when no `since` is given.
pub const FIRST_BACKFILL_SECS: i64 = 365 * 86_400;

pub struct WeheatSource<'a, H, S, C, K> {
    client: &'a Weheat<H, S, C, K>,
    clock: C,
    /// The pump, once looked up; and whether its energy was filled this run
    /// (one fill serves both channels).
    pump: RefCell<Option<String>>,
    filled: Cell<bool>,
    /// The last window read: both channels come from the same buckets, so
    /// the second channel of a window is not read again.
    window: RefCell<Option<((i64, i64), (Vec<IntervalEnergy>, Vec<IntervalEnergy>))>>,
}

impl<'a, H, S, C, K> WeheatSource<'a, H, S, C, K> {
    pub fn new(client: &'a Weheat<H, S, C, K>, clock: C) -> Self {
        WeheatSource { client, clock, pump: RefCell::new(None), filled: Cell::new(false), window: RefCell::new(None) }
    }
}

impl<'a, H: HttpClient, S: Store + Clone, C: Clock + Clone, K: Crypto> WeheatSource<'a, H, S, C, K> {
    fn pump_id(&self) -> crate::core::Result<String> {
        self.pump.borrow().clone().ok_or_else(|| crate::core::Error::new(crate::core::ErrorCode::InvalidInput, "the pump is looked up by fetching first").provider(crate::weheat::PROVIDER))
    }
}

impl<'a, H: HttpClient, S: Store + Clone, C: Clock + Clone, K: Crypto> Source for WeheatSource<'a, H, S, C, K> {
    fn name(&self) -> &'static str {
        crate::weheat::PROVIDER
    }

    fn channels(&self) -> &'static [Channel] {
        CHANNELS
    }

    fn known_absent<'b>(&'b self, _channel: &'b Channel, _resolution: Resolution) -> Pending<'b, bool> {
        Box::pin(async { Ok(false) })
    }

    fn fetch<'b>(&'b self, _channel: &'b Channel, _resolution: Resolution, since: Option<i64>, progress: Progress<'b>) -> Pending<'b, Fetched> {
        Box::pin(async move {
            if self.filled.get() {
                return Ok(Fetched::default());
            }
            let pump = self.client.pump_or_default(None).await?;
            let since = since.unwrap_or_else(|| self.clock.now_secs() - FIRST_BACKFILL_SECS);
            let fill = self.client.fill_energy(&pump.id, Interval::Hour, since, |done, total| progress("weheat energy", done, total)).await?;
            *self.pump.borrow_mut() = Some(pump.id);
            self.filled.set(true);
            Ok(Fetched {
                series: format!("energy-{}", Interval::Hour.name()),
                // The pump lookup counts against the account's budget too.
                requests: fill.requests + 1,
                minimum_requests: fill.minimum_requests,
                // Weheat's own fill asks again for what it lacks: no refill.
                ..Fetched::default()
            })
        })
    }

    fn span<'b>(&'b self, _channel: &'b Channel, _resolution: Resolution) -> Pending<'b, Option<(i64, i64)>> {
        Box::pin(async move { self.client.stored_energy_span(&self.pump_id()?, Interval::Hour).await })
    }

    fn energy<'b>(&'b self, channel: &'b Channel, _resolution: Resolution, from: i64, to: i64) -> Pending<'b, Vec<IntervalEnergy>> {
        Box::pin(async move {
            let cached = self.window.borrow().as_ref().filter(|(window, _)| *window == (from, to)).map(|(_, both)| both.clone());
            let (electricity, heat) = match cached {
                Some(both) => both,
                None => {
                    let both = self.client.energy_between(&self.pump_id()?, Interval::Hour, from, to).await?;
                    *self.window.borrow_mut() = Some(((from, to), both.clone()));
                    both
                }
            };
            Ok(if channel.name == "heat" { heat } else { electricity })
        })
    }

    fn subject(&self) -> Option<String> {
        self.pump.borrow().clone()
    }

    fn describe(&self, new_kwh: &[(&'static str, f64)]) -> Map<String, Value> {
        let kwh = |name: &str| new_kwh.iter().find(|(n, _)| *n == name).map_or(0.0, |(_, v)| *v);
        let (heat, electricity) = (kwh("heat"), kwh("electricity"));
        let mut report = Map::new();
        report.insert("pump".into(), self.pump.borrow().clone().map_or(Value::Null, Value::from));
        report.insert("heatKwh".into(), heat.into());
        report.insert("electricityKwh".into(), electricity.into());
        report.insert("cop".into(), if electricity > 0.0 { (heat / electricity).into() } else { Value::Null });
        report
    }
}
