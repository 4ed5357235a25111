//! Home Assistant as a sink: interval energy becomes external long-term
//! statistics (`wattbridge:linky_<prm>_consumption`, …), hourly rows with a
//! continuous `sum`, imported over HA's WebSocket API.
//!
//! HA is the ledger: a run starts from what HA holds, not from a local
//! cursor. [`Sink::resume`] reads HA's rows and moves the stream back to the
//! earliest of their end, the correction window (the last days Enedis still
//! completes) and the first hole HA shows in the last [`REFILL_DAYS`], with
//! HA's `sum` there; rows equal to what HA holds are not
//! sent, so a rerun imports nothing, and a corrected or refilled hour is sent
//! with every later row whose `sum` it shifts. A row counts as imported only
//! once HA acknowledged it.

use crate::bridge::index::Cursor;
use crate::bridge::sink::{energy_key, Row, Sink};
use crate::bridge::source::Pending;
use crate::core::time::paris_date;
use crate::core::{Clock, Result, WebSocket};
use crate::homeassistant::model::{object_id, SOURCE};
use crate::homeassistant::statistics::{differs, Hours, HOUR};
use crate::homeassistant::{Connection, StatRow, Statistic};
use crate::linky::stats::Tariff;
use serde_json::{Map, Value};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const DAY: i64 = 86_400;
/// kWh to the Wh; money to a millionth.
const ENERGY_DECIMALS: i32 = 3;
const MONEY_DECIMALS: i32 = 6;
/// How long delivery waits for HA's recorder to have written the last rows
/// (an import is acknowledged when queued, and written a moment later).
/// 2024.3.3 writes a 2-year import (~90,000 rows) in tens of seconds on 2 cores.
const SETTLE_TRIES: u32 = 240;
const SETTLE_STEP: Duration = Duration::from_millis(250);
/// Holes HA shows in its last this-many days are read again every run: the
/// sources fill them late (Linky re-asks days until they are a week old,
/// Weheat fills its gaps), and HA must follow. Older holes are settled.
pub const REFILL_DAYS: i64 = 31;

/// What the person configured beyond the connection.
#[derive(Clone, Debug)]
pub struct Options {
    /// Days before today re-read every run (Linky's `correction_days`).
    pub correction_days: i32,
    /// The cost statistic's unit.
    pub currency: String,
    /// Prices of `linky stats`; without one there is no cost statistic.
    pub tariff: Option<Tariff>,
}

impl Default for Options {
    fn default() -> Self {
        Options { correction_days: 3, currency: "EUR".into(), tariff: None }
    }
}

/// One statistic being streamed: its rows so far and what HA holds.
struct Stat {
    statistic: Statistic,
    decimals: i32,
    hours: Hours,
    held: BTreeMap<i64, StatRow>,
    pending: Vec<StatRow>,
    imported: usize,
    unchanged: usize,
    last: Option<StatRow>,
}

impl Stat {
    fn new(statistic: Statistic, decimals: i32) -> Self {
        Stat { statistic, decimals, hours: Hours::new(0.0, decimals), held: BTreeMap::new(), pending: Vec::new(), imported: 0, unchanged: 0, last: None }
    }

    fn push(&mut self, start: i64, end: i64, amount: f64) {
        if let Some(row) = self.hours.push(start, end, amount) {
            if differs(&row, self.held.get(&row.start), self.decimals) {
                self.pending.push(row);
            } else {
                self.unchanged += 1;
            }
        }
    }
}

/// A key of the bridge: its statistic, and the cost that follows it.
struct Lane {
    stats: Vec<Stat>,
    /// Price the energy into `stats[1]`.
    priced: bool,
    last_index: Option<f64>,
}

pub struct HomeAssistantSink<'a, W, C> {
    connection: &'a Connection<W>,
    clock: &'a C,
    options: Options,
    known: RefCell<Option<BTreeSet<String>>>,
    lanes: RefCell<BTreeMap<String, Lane>>,
    /// A statistic's id → (source, subject, channel), from [`Sink::subject_key`].
    origins: RefCell<BTreeMap<String, (String, String, String)>>,
    settled: Cell<bool>,
}

impl<'a, W, C> HomeAssistantSink<'a, W, C> {
    pub fn new(connection: &'a Connection<W>, clock: &'a C, options: Options) -> Self {
        HomeAssistantSink { connection, clock, options, known: RefCell::default(), lanes: RefCell::default(), origins: RefCell::default(), settled: Cell::new(true) }
    }
}

/// `Linky 11111111111111 consumption`.
fn title(source: &str) -> &'static str {
    if source == "linky" { "Linky" } else { "Weheat" }
}

impl<'a, W: WebSocket, C: Clock> HomeAssistantSink<'a, W, C> {
    fn statistics_of(&self, key: &str) -> Vec<(Statistic, i32)> {
        let origins = self.origins.borrow();
        let Some((source, subject, channel)) = origins.get(key) else { return Vec::new() };
        let name = |what: &str| format!("{} {subject} {what}", title(source));
        let mut stats = vec![(Statistic { id: key.to_owned(), name: name(channel), unit: "kWh".into(), unit_class: Some("energy") }, ENERGY_DECIMALS)];
        if source == "linky" && channel == "consumption" && self.options.tariff.is_some() {
            let id = format!("{SOURCE}:{}", object_id(&[source, subject, "cost"]));
            stats.push((Statistic { id, name: name("cost"), unit: self.options.currency.clone(), unit_class: None }, MONEY_DECIMALS));
        }
        stats
    }

    async fn known_ids(&self) -> Result<BTreeSet<String>> {
        if let Some(known) = self.known.borrow().clone() {
            return Ok(known);
        }
        let known: BTreeSet<String> = self.connection.statistic_ids().await?.into_iter().collect();
        *self.known.borrow_mut() = Some(known.clone());
        Ok(known)
    }

    /// Send what differs from HA; counts only rows HA acknowledged.
    async fn import_pending(&self) -> Result<usize> {
        let mut sent = 0;
        let batches: Vec<(Statistic, Vec<StatRow>)> = self
            .lanes
            .borrow_mut()
            .values_mut()
            .flat_map(|lane| lane.stats.iter_mut())
            .filter(|stat| !stat.pending.is_empty())
            .map(|stat| (stat.statistic.clone(), std::mem::take(&mut stat.pending)))
            .collect();
        for (statistic, rows) in batches {
            self.connection.import(&statistic, &rows).await?;
            self.settled.set(false);
            sent += rows.len();
            let mut lanes = self.lanes.borrow_mut();
            if let Some(stat) = lanes.values_mut().flat_map(|l| l.stats.iter_mut()).find(|s| s.statistic.id == statistic.id) {
                stat.imported += rows.len();
                stat.last = rows.last().copied();
            }
        }
        Ok(sent)
    }

    /// Wait until HA's recorder wrote the last row imported of each statistic,
    /// so the next run (or a reader) sees them.
    async fn settle(&self) -> Result<bool> {
        if self.settled.get() {
            return Ok(true);
        }
        let lasts: Vec<(String, StatRow)> =
            self.lanes.borrow().values().flat_map(|l| l.stats.iter()).filter_map(|s| Some((s.statistic.id.clone(), s.last?))).collect();
        let Some(from) = lasts.iter().map(|(_, row)| row.start).min() else { return Ok(true) };
        let ids: Vec<String> = lasts.iter().map(|(id, _)| id.clone()).collect();
        for _ in 0..SETTLE_TRIES {
            let held = self.connection.rows(&ids, from).await?;
            let written = lasts.iter().all(|(id, last)| {
                held.get(id).and_then(|rows| rows.iter().find(|r| r.start == last.start)).is_some_and(|r| (r.sum - last.sum).abs() < 1e-6)
            });
            if written {
                self.settled.set(true);
                return Ok(true);
            }
            self.clock.sleep(SETTLE_STEP).await;
        }
        Ok(false)
    }
}

impl<'a, W: WebSocket, C: Clock> Sink for HomeAssistantSink<'a, W, C> {
    fn name(&self) -> &'static str {
        "ha"
    }

    /// Authenticate before the sources are fetched: HA closes a connection
    /// that has not authenticated within 10 s, and a first backfill takes longer.
    fn connect(&self) -> Pending<'_, ()> {
        Box::pin(async move { self.connection.open().await.map(drop) })
    }

    /// Which channels it takes; the statistic's id names the meter or pump
    /// and comes from [`Sink::subject_key`].
    fn key(&self, source: &str, channel: &str) -> Option<String> {
        energy_key(source, channel)
    }

    fn subject_key(&self, source: &str, subject: Option<&str>, channel: &str) -> Option<String> {
        self.key(source, channel)?;
        let subject = subject?;
        let id = format!("{SOURCE}:{}", object_id(&[source, subject, channel]));
        self.origins.borrow_mut().insert(id.clone(), (source.to_owned(), subject.to_owned(), channel.to_owned()));
        Some(id)
    }

    fn cursor_key(&self, key: &str) -> String {
        format!("sync/ha/cursor/{}", key.rsplit(':').next().unwrap_or(key))
    }

    fn resume<'b>(&'b self, key: &'b str, stored: Option<Cursor>, span: (i64, i64)) -> Pending<'b, Option<Cursor>> {
        Box::pin(async move {
            let now_ms = self.clock.now_ms();
            let correction = paris_date(now_ms).add_days(-self.options.correction_days.max(0)).paris_midnight_ms() / 1000;
            let statistics = self.statistics_of(key);
            let ids: Vec<String> = statistics.iter().map(|(s, _)| s.id.clone()).collect();
            let known = self.known_ids().await?;
            let present: Vec<String> = ids.iter().filter(|id| known.contains(*id)).cloned().collect();
            // A statistic HA lacks is imported whole, and the others of the lane with it.
            let whole = present.len() < ids.len();
            let refill = now_ms / 1000 - REFILL_DAYS * DAY;
            let mut from = if whole { 0 } else { stored.map_or(span.0, |c| c.ts).min(correction).min(refill) - 2 * DAY };
            let mut held: BTreeMap<String, Vec<StatRow>> = BTreeMap::new();
            if !present.is_empty() {
                held = self.connection.rows(&present, from).await?;
                if from > 0 && held.values().any(Vec::is_empty) {
                    // HA has the statistic but nothing since the hint: read it all.
                    from = 0;
                    held = self.connection.rows(&present, from).await?;
                }
            }
            let resume_at = if whole {
                None
            } else {
                let ends = ids.iter().map(|id| held.get(id).and_then(|rows| rows.last()).map_or(span.0, |r| r.start + HOUR));
                // The first hour missing between two recent rows: a hole the source may have filled.
                let holes = held.values().filter_map(|rows| {
                    rows.windows(2).find(|pair| pair[1].start >= refill && pair[1].start - pair[0].start > HOUR).map(|pair| pair[0].start + HOUR)
                });
                Some(ends.chain(holes).fold(correction, i64::min))
            };
            let mut stats = Vec::new();
            for (statistic, decimals) in statistics {
                let rows = held.remove(&statistic.id).unwrap_or_default();
                let mut stat = Stat::new(statistic, decimals);
                let base = resume_at.and_then(|at| rows.iter().filter(|r| r.start + HOUR <= at).last()).map_or(0.0, |r| r.sum);
                stat.hours = Hours::new(base, decimals);
                stat.held = rows.into_iter().filter(|r| resume_at.map_or(true, |at| r.start >= at)).map(|r| (r.start, r)).collect();
                stats.push(stat);
            }
            let cursor = resume_at.map(|ts| Cursor { ts, index: stats.first().map_or(0.0, |s| s.hours.sum()) });
            let priced = stats.len() > 1;
            self.lanes.borrow_mut().insert(key.to_owned(), Lane { stats, priced, last_index: cursor.map(|c| c.index) });
            Ok(cursor)
        })
    }

    fn queue<'b>(&'b self, rows: &'b [Row]) -> Pending<'b, usize> {
        Box::pin(async move {
            {
                let mut lanes = self.lanes.borrow_mut();
                for row in rows {
                    for (key, value) in &row.values {
                        let Some(lane) = lanes.get_mut(key) else { continue };
                        if let Some((start, kwh)) = row.closed(key, *value, &mut lane.last_index) {
                            lane.stats[0].push(start, row.ts, kwh);
                            if lane.priced {
                                let price = self.options.tariff.as_ref().map_or(0.0, |t| t.price_at(start * 1000));
                                lane.stats[1].push(start, row.ts, kwh * price);
                            }
                        }
                    }
                }
            }
            self.import_pending().await
        })
    }

    fn deliver<'b>(&'b self, _progress: &'b dyn Fn(u32, u32)) -> Pending<'b, Map<String, Value>> {
        Box::pin(async move {
            self.import_pending().await?;
            let settled = self.settle().await?;
            let mut report = Map::new();
            let mut statistics = Map::new();
            let (mut imported, mut unchanged) = (0, 0);
            for stat in self.lanes.borrow().values().flat_map(|l| l.stats.iter()) {
                imported += stat.imported;
                unchanged += stat.unchanged;
                let mut one = Map::new();
                one.insert("imported".into(), stat.imported.into());
                one.insert("unchanged".into(), stat.unchanged.into());
                one.insert("unit".into(), stat.statistic.unit.clone().into());
                one.insert("sum".into(), stat.hours.sum().into());
                statistics.insert(stat.statistic.id.clone(), Value::Object(one));
            }
            report.insert("imported".into(), imported.into());
            report.insert("unchanged".into(), unchanged.into());
            report.insert("statistics".into(), Value::Object(statistics));
            report.insert("haVersion".into(), self.connection.open().await?.into());
            report.insert("schema".into(), serde_json::to_value(self.connection.schema().await?).unwrap_or(Value::Null));
            report.insert("messages".into(), self.connection.messages().into());
            report.insert("written".into(), settled.into());
            Ok(report)
        })
    }
}
