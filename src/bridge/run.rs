//! One run of the bridge: fetch every source, stream its new intervals into
//! every sink as cumulative readings, then let each sink deliver.

use super::index::{continue_index, Cursor};
use super::sink::{Row, Sink};
use super::source::{Channel, Fetched, Pending, Progress, Resolution, Source};
use crate::core::store::{load, save};
use crate::core::{Clock, Disposition, Error, ErrorCode, Result, Store};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A source stopped by an error a person must resolve is tried again after
/// this long anyway (at once after a login, which deletes the block).
pub const BLOCK_SECS: i64 = 24 * 3600;

/// Intervals are read and queued a window at a time, so a backfill of years
/// holds one month in memory, not years.
pub const WINDOW_SECS: i64 = 31 * 86_400;

/// What a run may do.
#[derive(Clone, Debug)]
pub struct SyncOptions {
    /// Limit the first backfill (unix seconds); default: as far as each source goes.
    pub since: Option<i64>,
    /// The finest resolution wanted; a channel that does not offer it uses its
    /// finest coarser one.
    pub resolution: Resolution,
    /// Fetch and compute, queue and deliver nothing, move no cursor.
    pub dry_run: bool,
    /// Also try sources blocked by an error a person had to resolve.
    pub retry_blocked: bool,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions { since: None, resolution: Resolution::HalfHour, dry_run: false, retry_blocked: false }
    }
}

/// The document that pauses a source: its error and when it happened.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Blocked {
    code: String,
    message: String,
    #[serde(default)]
    provider: Option<String>,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    retry_after: Option<u64>,
    at_ms: i64,
}

fn block_key(source: &str) -> String {
    format!("sync/blocked/{source}")
}

/// An error as reports show it (never a secret: messages carry none).
pub fn error_json(error: &Error) -> Value {
    let mut object = Map::new();
    object.insert("code".into(), error.code.as_str().into());
    object.insert("message".into(), error.message.clone().into());
    object.insert("provider".into(), error.provider.as_deref().map_or(Value::Null, Value::from));
    object.insert("status".into(), error.status.map_or(Value::Null, Value::from));
    object.insert("retryAfter".into(), error.retry_after.map_or(Value::Null, Value::from));
    object.insert("disposition".into(), error.code.disposition().as_str().into());
    Value::Object(object)
}

/// A channel a source fetched, at the resolution it settled on.
struct Resolved<'a> {
    source: usize,
    channel: &'a Channel,
    resolution: Resolution,
    /// Intervals this run's fetch added to the source's history.
    fresh: u32,
}

/// One series of one sink during the stream.
struct Lane<'a> {
    resolved: &'a Resolved<'a>,
    key: String,
    cursor: Option<Cursor>,
    /// Where the source's stored data of this lane begin (used until there is
    /// a cursor) and end.
    first: i64,
    end: i64,
    readings: usize,
    kwh: f64,
}

pub struct Bridge<'a, S, C> {
    store: &'a S,
    clock: &'a C,
    sources: Vec<&'a dyn Source>,
    sinks: Vec<&'a dyn Sink>,
}

impl<'a, S: Store, C: Clock> Bridge<'a, S, C> {
    pub fn new(store: &'a S, clock: &'a C) -> Self {
        Bridge { store, clock, sources: Vec::new(), sinks: Vec::new() }
    }

    pub fn source(mut self, source: &'a dyn Source) -> Self {
        self.sources.push(source);
        self
    }

    pub fn sink(mut self, sink: &'a dyn Sink) -> Self {
        self.sinks.push(sink);
        self
    }

    /// One run. (Its steps, pulling a source and streaming into a sink, are
    /// boxed: compiled as one state machine they made a 35 KB wasm function
    /// that V8's optimizing compiler needed 20 MB of memory for.)
    ///
    /// Errors of a source or a sink are reported, not returned: the
    /// others go on. An error is returned only when the bridge's own state
    /// cannot be read or written, or a sink refuses rows as invalid
    /// ([`stops_the_run`]).
    /// `progress(stage, done, total)` reports long work.
    pub async fn run(&self, options: &SyncOptions, progress: Progress<'_>) -> Result<Value> {
        if self.sinks.is_empty() {
            return Err(Error::invalid_config("nothing to sync to: configure a target such as EnergyID"));
        }
        let started_ms = self.clock.now_ms();
        let mut source_reports = Map::new();
        let mut sink_reports = Map::new();
        let mut resolved: Vec<Resolved> = Vec::new();
        let mut fetched_by_source: Vec<Option<Vec<Fetched>>> = Vec::new();
        let mut ok = true;

        let mut sinks = Vec::new();
        for sink in &self.sinks {
            match sink.connect().await {
                Ok(()) => sinks.push(*sink),
                Err(error) if stops_the_run(&error) => return Err(error),
                Err(error) => {
                    ok = false;
                    sink_reports.insert(sink.name().into(), Value::Object(sink_failed(&error, 0)));
                }
            }
        }

        // No sink to take data: no source is asked for any.
        let sources = if sinks.is_empty() { &[][..] } else { &self.sources[..] };
        for (at, source) in sources.iter().enumerate() {
            let pulled: Pending<'_, _> = Box::pin(self.pull(at, *source, &sinks, options, progress, &mut resolved));
            let outcome = pulled.await?;
            if let Err(report) = &outcome {
                ok = false;
                source_reports.insert(source.name().into(), report.clone());
            }
            fetched_by_source.push(outcome.ok());
        }

        // Per source, over every sink: readings made and kWh of new data.
        let mut made: Vec<(usize, BTreeMap<&'static str, f64>)> = vec![(0, BTreeMap::new()); self.sources.len()];
        for sink in &sinks {
            let streamed: Pending<'_, _> = Box::pin(self.stream(*sink, &resolved, options, progress));
            let (report, lanes) = streamed.await?;
            let mut per_source = vec![0usize; self.sources.len()];
            for lane in &lanes {
                per_source[lane.resolved.source] += lane.readings;
                let kwh = made[lane.resolved.source].1.entry(lane.resolved.channel.name).or_insert(0.0);
                // The sink furthest behind saw the most new data (the others' is a suffix of it).
                *kwh = kwh.max(lane.kwh);
            }
            for (at, count) in per_source.into_iter().enumerate() {
                made[at].0 = made[at].0.max(count);
            }
            if report.get("status").and_then(Value::as_str) == Some("error") {
                ok = false;
            }
            sink_reports.insert(sink.name().into(), Value::Object(report));
        }

        for (at, source) in sources.iter().enumerate() {
            let Some(fetched) = &fetched_by_source[at] else { continue };
            let new_kwh: Vec<(&'static str, f64)> = made[at].1.iter().map(|(k, v)| (*k, *v)).collect();
            let mut report = Map::new();
            report.insert("status".into(), "ok".into());
            report.extend(source.describe(&new_kwh));
            let series: Vec<Value> = fetched.iter().filter(|f| !f.series.is_empty()).map(|f| f.series.clone().into()).collect();
            report.insert("series".into(), series.into());
            report.insert("requests".into(), fetched.iter().map(|f| f.requests).sum::<u32>().into());
            report.insert("minimumRequests".into(), fetched.iter().map(|f| f.minimum_requests).sum::<u32>().into());
            report.insert("holes".into(), fetched.iter().map(|f| f.holes).sum::<u32>().into());
            report.insert("readings".into(), made[at].0.into());
            source_reports.insert(source.name().into(), Value::Object(report));
        }

        let mut report = Map::new();
        report.insert("sources".into(), Value::Object(source_reports));
        report.extend(sink_reports);
        report.insert("dryRun".into(), options.dry_run.into());
        report.insert("seconds".into(), ((self.clock.now_ms() - started_ms) as f64 / 1000.0).into());
        report.insert("ok".into(), ok.into());
        Ok(Value::Object(report))
    }

    /// Fetch a source's channels, honouring its block. `Ok(Err(report))` is a
    /// source that failed or was skipped; `Err` only a state error.
    async fn pull<'s>(
        &self,
        at: usize,
        source: &'s dyn Source,
        sinks: &[&dyn Sink],
        options: &SyncOptions,
        progress: Progress<'_>,
        resolved: &mut Vec<Resolved<'s>>,
    ) -> Result<std::result::Result<Vec<Fetched>, Value>> {
        let key = block_key(source.name());
        let blocked: Option<Blocked> = load(self.store, &key).await?;
        if let Some(block) = &blocked {
            if !options.retry_blocked && self.clock.now_ms() - block.at_ms < BLOCK_SECS * 1000 {
                let mut report = Map::new();
                report.insert("status".into(), "skipped".into());
                report.insert("error".into(), serde_json::to_value(block).unwrap_or(Value::Null));
                report.insert("retry".into(), false.into());
                return Ok(Err(Value::Object(report)));
            }
        }
        let before = resolved.len();
        match self.fetch_channels(at, source, sinks, options, progress, resolved).await {
            Ok(fetched) => {
                if blocked.is_some() && !options.dry_run {
                    self.store.delete(&key).await?;
                }
                Ok(Ok(fetched))
            }
            Err(error) => {
                // Half a source is not synced: its other channels wait with it.
                resolved.truncate(before);
                let disposition = error.code.disposition();
                if disposition == Disposition::Person && !options.dry_run {
                    let block = Blocked {
                        code: error.code.as_str().to_owned(),
                        message: error.message.clone(),
                        provider: error.provider.as_deref().map(str::to_owned),
                        status: error.status,
                        retry_after: error.retry_after,
                        at_ms: self.clock.now_ms(),
                    };
                    save(self.store, &key, &block).await?;
                }
                let mut report = Map::new();
                report.insert("status".into(), "error".into());
                report.insert("error".into(), error_json(&error));
                report.insert("retry".into(), (disposition != Disposition::Person).into());
                Ok(Err(Value::Object(report)))
            }
        }
    }

    /// Each channel some sink takes, at the finest resolution the service has:
    /// on `no_data` the next coarser one; later channels of the source start at
    /// the resolution the earlier ones settled on.
    async fn fetch_channels<'s>(
        &self,
        at: usize,
        source: &'s dyn Source,
        sinks: &[&dyn Sink],
        options: &SyncOptions,
        progress: Progress<'_>,
        resolved: &mut Vec<Resolved<'s>>,
    ) -> Result<Vec<Fetched>> {
        let mut floor = options.resolution;
        let mut fetched = Vec::new();
        for channel in source.channels() {
            if !sinks.iter().any(|sink| sink.key(source.name(), channel.name).is_some()) {
                continue;
            }
            let mut candidates: Vec<Resolution> = channel.resolutions.iter().copied().filter(|r| *r >= floor).collect();
            if candidates.is_empty() {
                candidates.extend(channel.resolutions.last());
            }
            for (tried, &resolution) in candidates.iter().enumerate() {
                if channel.optional && source.known_absent(channel, resolution).await? {
                    break;
                }
                match source.fetch(channel, resolution, options.since, progress).await {
                    Ok(report) => {
                        resolved.push(Resolved { source: at, channel, resolution, fresh: report.fresh });
                        fetched.push(report);
                        floor = resolution;
                        break;
                    }
                    Err(err) if err.code == ErrorCode::NoData && tried + 1 < candidates.len() => {
                        // The request that found out counts.
                        fetched.push(Fetched { requests: 1, minimum_requests: 1, ..Fetched::default() });
                    }
                    Err(err) if channel.optional && matches!(err.code, ErrorCode::WrongDirection | ErrorCode::NoData) => {
                        fetched.push(Fetched { requests: 1, minimum_requests: 1, ..Fetched::default() });
                        break;
                    }
                    Err(err) => return Err(err),
                }
            }
        }
        Ok(fetched)
    }

    /// The source just got something new from its service: ask it again for
    /// the holes the sink left in this key, which the service may have filled
    /// too. A failure is reported and leaves the holes for a later run.
    async fn refill(&self, sink: &dyn Sink, source: &dyn Source, item: &Resolved<'_>, key: &str, report: &mut Map<String, Value>) -> Result<()> {
        let holes = sink.holes(key).await?;
        if holes.is_empty() {
            return Ok(());
        }
        let requests = report.get("refillRequests").and_then(Value::as_u64).unwrap_or(0);
        match source.refill(item.channel, item.resolution, &holes).await {
            Ok((sent, _)) => {
                report.insert("refillRequests".into(), (requests + u64::from(sent)).into());
            }
            Err(error) => {
                report.insert("refillError".into(), error_json(&error));
            }
        }
        Ok(())
    }

    /// Stream every resolved channel the sink takes into it, a window at a
    /// time: read, index, merge per timestamp, queue, then move the cursors.
    async fn stream<'r>(
        &self,
        sink: &dyn Sink,
        resolved: &'r [Resolved<'r>],
        options: &SyncOptions,
        progress: Progress<'_>,
    ) -> Result<(Map<String, Value>, Vec<Lane<'r>>)> {
        let mut lanes = Vec::new();
        let mut refill = Map::new();
        for item in resolved {
            let source = self.sources[item.source];
            let Some(key) = sink.subject_key(source.name(), source.subject().as_deref(), item.channel.name) else { continue };
            if item.fresh > 0 && !options.dry_run {
                self.refill(sink, source, item, &key, &mut refill).await?;
            }
            let stored: Option<Cursor> = load(self.store, &sink.cursor_key(&key)).await?;
            let span = source.span(item.channel, item.resolution).await?;
            let Some((first, end)) = span else { continue };
            let read = |from: i64, to: i64| source.energy(item.channel, item.resolution, from, to);
            let cursor = match sink.resume(&key, stored, (first, end), &read).await {
                Ok(cursor) => cursor,
                // The sink's peer cannot say where it stands: nothing goes to it this run.
                Err(error) => return Ok((sink_failed(&error, 0), Vec::new())),
            };
            lanes.push(Lane { resolved: item, key, cursor, first, end, readings: 0, kwh: 0.0 });
        }
        let start = lanes.iter().map(|lane| lane.cursor.map_or(lane.first, |c| c.ts)).min();
        let end = lanes.iter().map(|lane| lane.end).max();

        let mut queued = 0usize;
        let mut preview: Vec<Row> = Vec::new();
        let mut rows_total = 0usize;
        if let (Some(start), Some(end)) = (start, end) {
            let mut from = start;
            while from < end {
                let to = from + WINDOW_SECS;
                // Per instant: the values, and the starts of the intervals they close.
                let mut merged: BTreeMap<i64, (Vec<(String, f64)>, Vec<(String, i64)>)> = BTreeMap::new();
                let mut moved = Vec::new();
                for (at, lane) in lanes.iter_mut().enumerate() {
                    if lane.cursor.is_some_and(|c| to <= c.ts) || from >= lane.end {
                        continue;
                    }
                    let source = self.sources[lane.resolved.source];
                    let intervals = source.energy(lane.resolved.channel, lane.resolved.resolution, from, to).await?;
                    let before = lane.cursor.map(|c| c.index);
                    let (readings, next) = continue_index(&intervals, lane.cursor, sink.start_index(&lane.key));
                    if readings.is_empty() {
                        continue;
                    }
                    if let Some(next) = next {
                        lane.kwh += next.index - before.unwrap_or(sink.start_index(&lane.key));
                    }
                    lane.readings += readings.len();
                    // A first run's first reading opens the series at an interval's start.
                    let opening = lane.cursor.is_none();
                    let ends: BTreeMap<i64, i64> = intervals.iter().map(|i| (i.end, i.start)).collect();
                    for (n, reading) in readings.into_iter().enumerate() {
                        let (values, starts) = merged.entry(reading.ts).or_default();
                        values.push((lane.key.clone(), reading.value));
                        match ends.get(&reading.ts) {
                            Some(start) if !(opening && n == 0) => starts.push((lane.key.clone(), *start)),
                            _ => {}
                        }
                    }
                    lane.cursor = next;
                    moved.push(at);
                }
                if !merged.is_empty() {
                    let rows: Vec<Row> = merged.into_iter().map(|(ts, (values, starts))| Row { ts, values, starts }).collect();
                    rows_total += rows.len();
                    if options.dry_run {
                        keep_preview(&mut preview, rows);
                    } else {
                        match sink.queue(&rows).await {
                            Ok(values) => queued += values,
                            Err(error) if stops_the_run(&error) => return Err(error),
                            // The peer failed (unreachable, a refused token, an answer
                            // it rejected): this sink stops here, with its cursors where
                            // the last queued window left them; the other sinks and the
                            // run's report go on.
                            Err(error) => return Ok((sink_failed(&error, queued), lanes)),
                        }
                        // Only now, with the rows safe in the sink, do the cursors move.
                        for at in moved {
                            let lane = &lanes[at];
                            if let Some(cursor) = &lane.cursor {
                                save(self.store, &sink.cursor_key(&lane.key), cursor).await?;
                            }
                        }
                    }
                }
                from = to;
            }
        }
        let values: usize = lanes.iter().map(|l| l.readings).sum();

        let mut report = refill;
        if options.dry_run {
            report.insert("wouldQueue".into(), rows_total.into());
            report.insert("values".into(), values.into());
            let split = preview.len().min(3);
            report.insert("first".into(), preview[..split].iter().map(Row::to_json).collect::<Vec<_>>().into());
            report.insert("last".into(), preview[split..].iter().map(Row::to_json).collect::<Vec<_>>().into());
            return Ok((report, lanes));
        }
        let stage = format!("{} upload", sink.name());
        match sink.deliver(&|done, total| progress(&stage, done, total)).await {
            Ok(delivered) => {
                report.extend(delivered);
                // What this run queued, whatever the sink calls its own fields.
                report.insert("status".into(), "ok".into());
                report.insert("queued".into(), queued.into());
            }
            // The rows wait in the sink's queue; the next run delivers them.
            Err(error) => report = sink_failed(&error, queued),
        }
        Ok((report, lanes))
    }
}

/// Errors that end a whole run rather than one sink's part: the bridge's own
/// state cannot be read or written, or rows were refused as invalid (a bug to
/// fix, not a peer to wait for).
fn stops_the_run(error: &Error) -> bool {
    matches!(error.code, ErrorCode::Storage | ErrorCode::CorruptState | ErrorCode::InvalidInput)
}

/// A sink's report when an error stopped it: what it queued before, the error,
/// and whether the next run retries by itself (not when a person must act).
fn sink_failed(error: &Error, queued: usize) -> Map<String, Value> {
    let mut report = Map::new();
    report.insert("status".into(), "error".into());
    report.insert("queued".into(), queued.into());
    report.insert("retry".into(), (error.code.disposition() != Disposition::Person).into());
    report.insert("error".into(), error_json(error));
    report
}

/// The first three rows and the last three, for a dry run's report.
fn keep_preview(preview: &mut Vec<Row>, rows: Vec<Row>) {
    for row in rows {
        if preview.len() == 6 {
            preview.remove(3);
        }
        preview.push(row);
    }
}
