//! Linky as a source: consumption (load curve, else daily values) and
//! production (when the meter produces).

use crate::bridge::source::{Channel, Fetched, Pending, Progress, Resolution, Source};
use crate::core::{Clock, Crypto, ErrorCode, HttpClient, IntervalEnergy, Store};
use crate::core::time::paris_date;
use crate::linky::{Linky, Series};
use serde_json::{Map, Value};
use std::cell::RefCell;

const CHANNELS: &[Channel] = &[
    Channel { name: "consumption", resolutions: &[Resolution::HalfHour, Resolution::Day], optional: false },
    Channel { name: "production", resolutions: &[Resolution::HalfHour, Resolution::Day], optional: true },
];

pub struct LinkySource<'a, H, S, C, K> {
    client: &'a Linky<H, S, C, K>,
    meter: RefCell<Option<String>>,
}

impl<'a, H, S, C, K> LinkySource<'a, H, S, C, K> {
    pub fn new(client: &'a Linky<H, S, C, K>) -> Self {
        LinkySource { client, meter: RefCell::new(None) }
    }
}

/// The Enedis series of a channel at a resolution.
pub fn series(channel: &Channel, resolution: Resolution) -> Series {
    match (channel.name, resolution) {
        ("production", Resolution::Day) => Series::DailyProduction,
        ("production", _) => Series::ProductionLoadCurve,
        (_, Resolution::Day) => Series::DailyConsumption,
        _ => Series::ConsumptionLoadCurve,
    }
}

impl<'a, H: HttpClient + Clone, S: Store + Clone, C: Clock + Clone, K: Crypto> Source for LinkySource<'a, H, S, C, K> {
    fn name(&self) -> &'static str {
        crate::linky::PROVIDER
    }

    fn channels(&self) -> &'static [Channel] {
        CHANNELS
    }

    fn known_absent<'b>(&'b self, channel: &'b Channel, resolution: Resolution) -> Pending<'b, bool> {
        Box::pin(async move {
            let last = self.client.last_error(series(channel, resolution)).await?;
            Ok(last.is_some_and(|e| e.code == ErrorCode::WrongDirection.as_str()))
        })
    }

    fn fetch<'b>(&'b self, channel: &'b Channel, resolution: Resolution, since: Option<i64>, progress: Progress<'b>) -> Pending<'b, Fetched> {
        Box::pin(async move {
            let series = series(channel, resolution);
            let stage = format!("linky {}", series.name());
            let from = since.map(|secs| paris_date(secs * 1000));
            let report = self.client.fetch(series, from, None, |p| progress(&stage, p.done, p.total)).await?;
            self.meter.borrow_mut().get_or_insert(report.meter.clone());
            Ok(Fetched {
                series: series.name().to_owned(),
                requests: report.requests,
                // The windows planned: what this run had to ask at the least.
                minimum_requests: report.windows,
                holes: report.holes.len() as u32,
                fresh: report.new_points,
            })
        })
    }

    fn refill<'b>(&'b self, channel: &'b Channel, resolution: Resolution, holes: &'b [(i64, i64)]) -> Pending<'b, (u32, u32)> {
        Box::pin(self.client.refill(series(channel, resolution), holes))
    }

    fn span<'b>(&'b self, channel: &'b Channel, resolution: Resolution) -> Pending<'b, Option<(i64, i64)>> {
        Box::pin(self.client.stored_span(series(channel, resolution)))
    }

    fn energy<'b>(&'b self, channel: &'b Channel, resolution: Resolution, from: i64, to: i64) -> Pending<'b, Vec<IntervalEnergy>> {
        Box::pin(self.client.energy_between(series(channel, resolution), from, to))
    }

    fn subject(&self) -> Option<String> {
        self.meter.borrow().clone()
    }

    fn describe(&self, _new_kwh: &[(&'static str, f64)]) -> Map<String, Value> {
        let mut report = Map::new();
        report.insert("meter".into(), self.meter.borrow().clone().map_or(Value::Null, Value::from));
        report
    }
}
