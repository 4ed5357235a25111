//! Home Assistant as a sink: interval energy becomes external long-term
//! statistics (`wattbridge:linky_<prm>_consumption`, …), hourly rows with a
//! continuous `sum`, imported over HA's WebSocket API.
//!
//! HA is the ledger: a run starts from what HA holds, not from a local
//! cursor. [`Sink::resume`] reads HA's recent rows and moves the stream back
//! to the earliest of their end, the correction window (the last days Enedis
//! still completes) and the first hole the sink left that the source now
//! fills, with HA's `sum` there. HA's rows are then read a window at a time
//! beside the stream, and rows equal to what HA holds are not sent: a rerun
//! imports nothing, and a corrected or refilled hour is sent with every later
//! row whose `sum` it shifts. A row counts as imported only once HA
//! acknowledged it.
//!
//! A small record per key remembers what HA cannot say cheaply: the holes the
//! sink left (so that a hole of any age is refilled once the source has it,
//! without reading years back every run) and where the source's data began
//! (so that older history, after a wider `--since`, is put before HA's first
//! row, every later `sum` shifted). Without a record, or when HA lacks a
//! statistic, the whole history is streamed once and compared.

use crate::bridge::index::Cursor;
use crate::bridge::sink::{energy_key, Row, Sink, SourceData};
use crate::bridge::source::Pending;
use crate::bridge::WINDOW_SECS;
use crate::core::store::{load, save};
use crate::core::time::paris_date;
use crate::core::{Clock, Result, Store, WebSocket};
use crate::homeassistant::model::{object_id, SOURCE};
use crate::homeassistant::statistics::{differs, hour_of, Hours, HOUR};
use crate::homeassistant::{Connection, StatRow, Statistic};
use crate::linky::stats::Tariff;
use serde::{Deserialize, Serialize};
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

/// What the sink remembers of a key between runs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Record {
    /// Where the source's data began when HA got them all (unix seconds):
    /// data before it are older history to put first.
    first: i64,
    /// Hours left without a row between two rows, `[start, end)`, oldest first.
    holes: Vec<(i64, i64)>,
}

/// One statistic being streamed: its rows so far and what HA holds.
struct Stat {
    statistic: Statistic,
    decimals: i32,
    hours: Hours,
    /// HA's rows not yet compared, read a window at a time.
    held: BTreeMap<i64, StatRow>,
    pending: Vec<StatRow>,
    imported: usize,
    unchanged: usize,
    last: Option<StatRow>,
    /// How far the intervals reach, and the hours left without a row where
    /// they do not follow each other (the holes found on the way).
    covered_to: Option<i64>,
    holes: Vec<(i64, i64)>,
}

impl Stat {
    fn new(statistic: Statistic, decimals: i32) -> Self {
        Stat {
            statistic,
            decimals,
            hours: Hours::new(0.0, decimals),
            held: BTreeMap::new(),
            pending: Vec::new(),
            imported: 0,
            unchanged: 0,
            last: None,
            covered_to: None,
            holes: Vec::new(),
        }
    }

    fn push(&mut self, start: i64, end: i64, amount: f64) {
        // The hours a gap between intervals touches have no row (a daily
        // value's 24 hours are one row, not a hole).
        if let Some(covered_to) = self.covered_to.filter(|c| start > *c) {
            self.holes.push((hour_of(covered_to), hour_of(start + HOUR - 1)));
        }
        self.covered_to = Some(self.covered_to.map_or(end, |c| c.max(end)));
        let Some(row) = self.hours.push(start, end, amount) else { return };
        if differs(&row, self.held.remove(&row.start).as_ref(), self.decimals) {
            self.pending.push(row);
        } else {
            self.unchanged += 1;
        }
    }
}

/// A key of the bridge: its statistic, and the cost that follows it.
struct Lane {
    stats: Vec<Stat>,
    /// Price the energy into `stats[1]`.
    priced: bool,
    last_index: Option<f64>,
    /// The statistics HA has, and how far their rows were read.
    present: Vec<String>,
    held_until: i64,
    /// Where this run's rows begin (`i64::MIN`: the first data): the
    /// record's holes from there on are replaced by those found.
    from: i64,
    record: Record,
    /// The record as stored, to write it only when it changed.
    stored: Option<Record>,
}

pub struct HomeAssistantSink<'a, W, S, C> {
    connection: &'a Connection<W>,
    store: &'a S,
    clock: &'a C,
    options: Options,
    known: RefCell<Option<BTreeSet<String>>>,
    lanes: RefCell<BTreeMap<String, Lane>>,
    /// A statistic's id → (source, subject, channel), from [`Sink::subject_key`].
    origins: RefCell<BTreeMap<String, (String, String, String)>>,
    settled: Cell<bool>,
}

impl<'a, W, S, C> HomeAssistantSink<'a, W, S, C> {
    pub fn new(connection: &'a Connection<W>, store: &'a S, clock: &'a C, options: Options) -> Self {
        HomeAssistantSink {
            connection,
            store,
            clock,
            options,
            known: RefCell::default(),
            lanes: RefCell::default(),
            origins: RefCell::default(),
            settled: Cell::new(true),
        }
    }
}

/// `Linky 11111111111111 consumption`.
fn title(source: &str) -> &'static str {
    if source == "linky" { "Linky" } else { "Weheat" }
}

/// The object part of a key (`linky_<prm>_consumption`), for store keys.
fn object(key: &str) -> &str {
    key.rsplit(':').next().unwrap_or(key)
}

fn record_key(key: &str) -> String {
    format!("sync/ha/record/{}", object(key))
}

/// The first recorded hole before `before` in which the source now has a
/// whole hour: `(the hole's start, that hour)`. The holes are read a window
/// at a time, so that hundreds of small holes cost a few reads.
async fn first_filled(holes: &[(i64, i64)], before: i64, source: SourceData<'_>) -> Result<Option<(i64, i64)>> {
    let mut rest = holes.iter().copied().filter(|h| h.0 < before).peekable();
    while let Some(&(from, _)) = rest.peek() {
        let to = from + WINDOW_SECS;
        let intervals = source(from, to).await?;
        while let Some(&(start, end)) = rest.peek().filter(|h| h.0 < to) {
            rest.next();
            let mut hours = Hours::new(0.0, ENERGY_DECIMALS);
            let inside = intervals.iter().filter(|i| i.start >= start && i.end <= end);
            if let Some(row) = inside.filter_map(|i| hours.push(i.start, i.end, i.kwh)).next() {
                return Ok(Some((start, row.start)));
            }
        }
    }
    Ok(None)
}

impl<'a, W: WebSocket, S: Store, C: Clock> HomeAssistantSink<'a, W, S, C> {
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

    /// The first Paris midnight of the correction window, in unix seconds.
    fn correction_start(&self) -> i64 {
        paris_date(self.clock.now_ms()).add_days(-self.options.correction_days.max(0)).paris_midnight_ms() / 1000
    }

    /// Where to stream `key` from (None: the source's first data) and HA's
    /// last row before it per statistic (the `sum` to go on from).
    async fn resume_point(&self, ids: &[String], present: &[String], record: Option<&Record>, stored: Option<Cursor>, span: (i64, i64), source: SourceData<'_>) -> Result<Option<(i64, BTreeMap<String, StatRow>)>> {
        // A statistic HA lacks, no record of what HA got (or no cursor), or
        // older history than HA's first row: the whole history, compared
        // with HA's rows a window at a time.
        let (Some(record), Some(stored)) = (record.filter(|r| present.len() == ids.len() && span.0 >= r.first), stored) else { return Ok(None) };
        let correction = self.correction_start();
        let from = stored.ts.min(correction) - 2 * DAY;
        let recent = self.connection.rows(present, from, None).await?;
        if recent.values().any(Vec::is_empty) {
            // HA has the statistic but nothing since the hint: compare it all.
            return Ok(None);
        }
        let ends = recent.values().filter_map(|rows| rows.last()).map(|r| r.start + HOUR);
        let mut at = ends.fold(correction, i64::min);
        let mut before = recent;
        if let Some((hole, hour)) = first_filled(&record.holes, at, source).await? {
            at = at.min(hour);
            // The row before the hole holds the sum to go on from.
            before = self.connection.rows(present, hole - HOUR, Some(at)).await?;
        }
        let bases: BTreeMap<String, StatRow> = before.into_iter().filter_map(|(id, rows)| Some((id, rows.into_iter().rev().find(|r| r.start + HOUR <= at)?))).collect();
        // A statistic with no row before that point has no sum to go on from: compare it all.
        Ok((bases.len() == present.len()).then_some((at, bases)))
    }

    /// Read HA's rows of a lane up to `until`, a window per message.
    async fn hold_until(&self, key: &str, until: i64) -> Result<()> {
        loop {
            let (present, from) = match self.lanes.borrow_mut().get_mut(key) {
                Some(lane) if lane.held_until < until && lane.present.is_empty() => {
                    lane.held_until = until;
                    return Ok(());
                }
                Some(lane) if lane.held_until < until => (lane.present.clone(), lane.held_until),
                _ => return Ok(()),
            };
            let to = from + WINDOW_SECS;
            let mut rows = self.connection.rows(&present, from, Some(to)).await?;
            let mut lanes = self.lanes.borrow_mut();
            let Some(lane) = lanes.get_mut(key) else { return Ok(()) };
            for stat in &mut lane.stats {
                stat.held.extend(rows.remove(&stat.statistic.id).unwrap_or_default().into_iter().map(|r| (r.start, r)));
            }
            lane.held_until = to;
        }
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

    /// Keep what this run learnt of each key: the holes from where its rows
    /// began are those found now (a filled one is gone), the older ones stay.
    async fn save_records(&self) -> Result<usize> {
        let updates: Vec<(String, Option<Record>, Record)> = self
            .lanes
            .borrow()
            .iter()
            .map(|(key, lane)| {
                let mut record = lane.record.clone();
                // Older holes stay (a hole across `from` keeps its part before it).
                record.holes.retain(|h| h.0 < lane.from);
                record.holes.iter_mut().for_each(|h| h.1 = h.1.min(lane.from));
                record.holes.extend(lane.stats[0].holes.iter().copied());
                (key.clone(), lane.stored.clone(), record)
            })
            .collect();
        let mut holes = 0;
        for (key, before, record) in updates {
            holes += record.holes.len();
            if before.as_ref() != Some(&record) {
                save(self.store, &record_key(&key), &record).await?;
            }
        }
        Ok(holes)
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
            let held = self.connection.rows(&ids, from, None).await?;
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

impl<'a, W: WebSocket, S: Store, C: Clock> Sink for HomeAssistantSink<'a, W, S, C> {
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

    fn resume<'b>(&'b self, key: &'b str, stored: Option<Cursor>, span: (i64, i64), source: SourceData<'b>) -> Pending<'b, Option<Cursor>> {
        Box::pin(async move {
            let statistics = self.statistics_of(key);
            let ids: Vec<String> = statistics.iter().map(|(s, _)| s.id.clone()).collect();
            let known = self.known_ids().await?;
            let present: Vec<String> = ids.iter().filter(|id| known.contains(*id)).cloned().collect();
            let record: Option<Record> = load(self.store, &record_key(key)).await?;
            let point = self.resume_point(&ids, &present, record.as_ref(), stored, span, source).await?;
            let mut stats = Vec::new();
            for (statistic, decimals) in statistics {
                let mut stat = Stat::new(statistic, decimals);
                if let Some((at, bases)) = &point {
                    stat.hours = Hours::new(bases.get(&stat.statistic.id).map_or(0.0, |base| base.sum), decimals);
                    stat.covered_to = Some(*at);
                }
                stats.push(stat);
            }
            let cursor = point.as_ref().map(|(ts, _)| Cursor { ts: *ts, index: stats[0].hours.sum() });
            let from = point.as_ref().map_or(i64::MIN, |(ts, _)| *ts);
            // Streaming from the first data: the record starts again from it.
            let (stored, record) = match (&point, record) {
                (Some(_), Some(record)) => (Some(record.clone()), record),
                (_, stored) => (stored, Record { first: span.0, holes: Vec::new() }),
            };
            let lane = Lane {
                stats,
                priced: ids.len() > 1,
                last_index: cursor.map(|c| c.index),
                present,
                held_until: hour_of(cursor.map_or(span.0, |c| c.ts)),
                from,
                record,
                stored,
            };
            self.lanes.borrow_mut().insert(key.to_owned(), lane);
            Ok(cursor)
        })
    }

    fn holes<'b>(&'b self, key: &'b str) -> Pending<'b, Vec<(i64, i64)>> {
        Box::pin(async move {
            let record: Option<Record> = load(self.store, &record_key(key)).await?;
            // The correction window is asked again by every fetch anyway.
            let correction = self.correction_start();
            Ok(record.map(|r| r.holes.into_iter().filter(|h| h.0 < correction).collect()).unwrap_or_default())
        })
    }

    fn queue<'b>(&'b self, rows: &'b [Row]) -> Pending<'b, usize> {
        Box::pin(async move {
            // HA's rows beside the stream: up to the last hour these rows reach.
            let mut reach: BTreeMap<&str, i64> = BTreeMap::new();
            for row in rows {
                for (key, _) in &row.values {
                    reach.insert(key, row.ts + HOUR);
                }
            }
            for (key, until) in reach {
                self.hold_until(key, until).await?;
            }
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
            let holes = self.save_records().await?;
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
            report.insert("holes".into(), holes.into());
            report.insert("messages".into(), self.connection.messages().into());
            report.insert("written".into(), settled.into());
            Ok(report)
        })
    }
}
