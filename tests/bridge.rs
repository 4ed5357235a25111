//! The bridge in virtual time, over scripted sources and sinks: streaming,
//! merge, cursors per sink, fallbacks, the block policy for each disposition,
//! and a crash between any two steps.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;
use support::{run, MemoryStore, VirtualClock};
use wattbridge::bridge::{Bridge, Channel, Fetched, Pending, Resolution, Row, Sink, Source, SyncOptions, BLOCK_SECS, WINDOW_SECS};
use wattbridge::core::{Error, ErrorCode, IntervalEnergy, Result, Store};

const NOW: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z
const HALF_HOUR: i64 = 1800;
const DAY: i64 = 86_400;

const METER: &[Channel] = &[
    Channel { name: "consumption", resolutions: &[Resolution::HalfHour, Resolution::Day], optional: false },
    Channel { name: "production", resolutions: &[Resolution::HalfHour, Resolution::Day], optional: true },
];
const PUMP: &[Channel] = &[Channel { name: "heat", resolutions: &[Resolution::Hour], optional: false }];

/// Crash after this many more durable steps (store writes and sink queues).
#[derive(Clone, Default)]
struct Crash(Rc<Cell<Option<usize>>>);

impl Crash {
    fn after(&self, steps: usize) {
        self.0.set(Some(steps));
    }
    fn step(&self) -> Result<()> {
        match self.0.get() {
            Some(0) => Err(Error::new(ErrorCode::Storage, "crash (simulated)")),
            Some(n) => {
                self.0.set(Some(n - 1));
                Ok(())
            }
            None => Ok(()),
        }
    }
}

/// A store whose writes can crash.
#[derive(Clone, Default)]
struct CrashStore {
    inner: MemoryStore,
    crash: Crash,
}

impl Store for CrashStore {
    async fn get(&self, key: &str) -> Result<Option<String>> {
        self.inner.get(key).await
    }
    async fn put(&self, key: &str, document: &str) -> Result<()> {
        self.crash.step()?;
        self.inner.put(key, document).await
    }
    async fn delete(&self, key: &str) -> Result<()> {
        self.crash.step()?;
        self.inner.delete(key).await
    }
    async fn locked<T>(&self, key: &str, change: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        self.inner.locked(key, change).await
    }
}

/// A source with data per (channel, resolution) and scripted fetch failures.
struct FakeSource {
    name: &'static str,
    channels: &'static [Channel],
    data: BTreeMap<(&'static str, Resolution), Vec<IntervalEnergy>>,
    fail: RefCell<BTreeMap<(&'static str, Resolution), ErrorCode>>,
    absent: Vec<(&'static str, Resolution)>,
    fetches: RefCell<Vec<(&'static str, Resolution, Option<i64>)>>,
    /// What the data are of (a meter, a pump), for sinks whose keys name it.
    subject: Option<String>,
}

impl FakeSource {
    fn new(name: &'static str, channels: &'static [Channel]) -> Self {
        FakeSource { name, channels, data: BTreeMap::new(), fail: RefCell::default(), absent: Vec::new(), fetches: RefCell::default(), subject: None }
    }
    /// `count` intervals of `step` seconds from `start`, `kwh` each.
    fn with(mut self, channel: &'static str, resolution: Resolution, start: i64, step: i64, count: i64, kwh: f64) -> Self {
        let series = (0..count).map(|i| IntervalEnergy { start: start + i * step, end: start + (i + 1) * step, kwh }).collect();
        self.data.insert((channel, resolution), series);
        self
    }
    fn failing(self, channel: &'static str, resolution: Resolution, code: ErrorCode) -> Self {
        self.fail.borrow_mut().insert((channel, resolution), code);
        self
    }
    fn of(mut self, subject: &str) -> Self {
        self.subject = Some(subject.to_owned());
        self
    }
    fn fetched(&self) -> Vec<(&'static str, Resolution)> {
        self.fetches.borrow().iter().map(|(c, r, _)| (*c, *r)).collect()
    }
}

impl Source for FakeSource {
    fn name(&self) -> &'static str {
        self.name
    }
    fn channels(&self) -> &'static [Channel] {
        self.channels
    }
    fn known_absent<'a>(&'a self, channel: &'a Channel, resolution: Resolution) -> Pending<'a, bool> {
        Box::pin(async move { Ok(self.absent.contains(&(channel.name, resolution))) })
    }
    fn fetch<'a>(&'a self, channel: &'a Channel, resolution: Resolution, since: Option<i64>, progress: &'a dyn Fn(&str, u32, u32)) -> Pending<'a, Fetched> {
        Box::pin(async move {
            self.fetches.borrow_mut().push((channel.name, resolution, since));
            progress(&format!("{} {}", self.name, channel.name), 1, 1);
            if let Some(code) = self.fail.borrow().get(&(channel.name, resolution)) {
                return Err(Error::new(*code, format!("{} says no", self.name)).provider(self.name));
            }
            Ok(Fetched { series: format!("{}-{:?}", channel.name, resolution), requests: 2, minimum_requests: 2, ..Fetched::default() })
        })
    }
    fn span<'a>(&'a self, channel: &'a Channel, resolution: Resolution) -> Pending<'a, Option<(i64, i64)>> {
        Box::pin(async move {
            let series = self.data.get(&(channel.name, resolution));
            Ok(series.and_then(|s| Some((s.first()?.start, s.last()?.end))))
        })
    }
    fn energy<'a>(&'a self, channel: &'a Channel, resolution: Resolution, from: i64, to: i64) -> Pending<'a, Vec<IntervalEnergy>> {
        Box::pin(async move {
            let series = self.data.get(&(channel.name, resolution)).cloned().unwrap_or_default();
            Ok(series.into_iter().filter(|i| i.start >= from && i.start < to).collect())
        })
    }
    fn subject(&self) -> Option<String> {
        self.subject.clone()
    }
    fn describe(&self, new_kwh: &[(&'static str, f64)]) -> serde_json::Map<String, Value> {
        let mut report = serde_json::Map::new();
        for (channel, kwh) in new_kwh {
            report.insert(format!("{channel}Kwh"), (*kwh).into());
        }
        report
    }
}

/// A sink that keeps every (key, ts) once, as an idempotent outbox would.
#[derive(Clone)]
struct FakeSink {
    name: &'static str,
    /// (source, channel) → key.
    keys: Vec<(&'static str, &'static str, &'static str)>,
    start: BTreeMap<String, f64>,
    held: Rc<RefCell<BTreeMap<(String, i64), f64>>>,
    queue_calls: Rc<RefCell<Vec<usize>>>,
    deliver_error: Option<ErrorCode>,
    /// `(n, code)`: the n-th call of `queue` (from 0) and every later one fail with `code`.
    queue_error: Option<(usize, ErrorCode)>,
    /// `connect` fails with this code.
    connect_error: Option<ErrorCode>,
    crash: Crash,
}

impl FakeSink {
    fn new(name: &'static str, keys: &[(&'static str, &'static str, &'static str)], crash: &Crash) -> Self {
        FakeSink { name, keys: keys.to_vec(), start: BTreeMap::new(), held: Rc::default(), queue_calls: Rc::default(), deliver_error: None, queue_error: None, connect_error: None, crash: crash.clone() }
    }
    fn held(&self) -> BTreeMap<(String, i64), f64> {
        self.held.borrow().clone()
    }
    fn series(&self, key: &str) -> Vec<(i64, f64)> {
        self.held.borrow().iter().filter(|((k, _), _)| k == key).map(|((_, ts), v)| (*ts, *v)).collect()
    }
}

impl Sink for FakeSink {
    fn name(&self) -> &'static str {
        self.name
    }
    fn key(&self, source: &str, channel: &str) -> Option<String> {
        self.keys.iter().find(|(s, c, _)| *s == source && *c == channel).map(|(_, _, k)| (*k).to_owned())
    }
    fn start_index(&self, key: &str) -> f64 {
        self.start.get(key).copied().unwrap_or(0.0)
    }
    fn connect(&self) -> Pending<'_, ()> {
        Box::pin(async move { self.connect_error.map_or(Ok(()), |code| Err(Error::new(code, "the peer turned us away"))) })
    }
    fn queue<'a>(&'a self, rows: &'a [Row]) -> Pending<'a, usize> {
        Box::pin(async move {
            self.crash.step()?;
            if let Some((from, code)) = self.queue_error {
                if self.queue_calls.borrow().len() >= from {
                    return Err(Error::new(code, "the peer is gone"));
                }
            }
            let mut values = 0;
            for row in rows {
                for (key, value) in &row.values {
                    self.held.borrow_mut().insert((key.clone(), row.ts), *value);
                    values += 1;
                }
            }
            self.queue_calls.borrow_mut().push(rows.len());
            Ok(values)
        })
    }
    fn deliver<'a>(&'a self, progress: &'a dyn Fn(u32, u32)) -> Pending<'a, serde_json::Map<String, Value>> {
        Box::pin(async move {
            progress(1, 1);
            if let Some(code) = self.deliver_error {
                return Err(Error::new(code, "the peer says no"));
            }
            let mut report = serde_json::Map::new();
            report.insert("delivered".into(), self.held.borrow().len().into());
            // A sink's own field of the same name (EnergyID's flush has one) must not hide the run's count.
            report.insert("queued".into(), 0.into());
            Ok(report)
        })
    }
}

const EI_KEYS: &[(&str, &str, &str)] = &[("linky", "consumption", "el"), ("linky", "production", "el-i"), ("weheat", "heat", "heat")];

fn meter() -> FakeSource {
    // Two days of half-hours ending at NOW, 0.25 kWh each; production every half-hour too.
    FakeSource::new("linky", METER)
        .with("consumption", Resolution::HalfHour, NOW - 2 * DAY, HALF_HOUR, 96, 0.25)
        .with("production", Resolution::HalfHour, NOW - 2 * DAY, HALF_HOUR, 96, 0.125)
        .with("consumption", Resolution::Day, NOW - 2 * DAY, DAY, 2, 12.0)
        .with("production", Resolution::Day, NOW - 2 * DAY, DAY, 2, 6.0)
}

fn pump() -> FakeSource {
    FakeSource::new("weheat", PUMP).with("heat", Resolution::Hour, NOW - DAY, 3600, 24, 1.5)
}

fn options() -> SyncOptions {
    SyncOptions::default()
}

fn sync(store: &CrashStore, clock: &VirtualClock, sources: &[&dyn Source], sinks: &[&dyn Sink], options: &SyncOptions) -> Result<Value> {
    let mut bridge = Bridge::new(store, clock);
    for source in sources {
        bridge = bridge.source(*source);
    }
    for sink in sinks {
        bridge = bridge.sink(*sink);
    }
    run(bridge.run(options, &|_, _, _| {}))
}

#[test]
fn a_first_run_indexes_and_merges_every_series_and_a_rerun_queues_nothing() {
    let (store, clock, crash) = (CrashStore::default(), VirtualClock::at_secs(NOW), Crash::default());
    let (linky, weheat) = (meter(), pump());
    let mut sink = FakeSink::new("energyid", EI_KEYS, &crash);
    sink.start.insert("el".into(), 1000.0);
    let report = sync(&store, &clock, &[&linky, &weheat], &[&sink], &options()).unwrap();

    assert_eq!(report["ok"], true);
    let el = sink.series("el");
    assert_eq!(el.len(), 97, "96 half-hours give 97 readings: the start and each end");
    assert_eq!(el[0], (NOW - 2 * DAY, 1000.0), "the index starts from the given meter reading");
    assert_eq!(el[96], (NOW, 1024.0));
    assert_eq!(sink.series("el-i").last(), Some(&(NOW, 12.0)));
    assert_eq!(sink.series("heat").last(), Some(&(NOW, 36.0)));
    // Merged per timestamp: one row carries every key that has a value then.
    assert_eq!(report["energyid"]["queued"], 97 + 97 + 25);
    assert_eq!(report["sources"]["linky"]["readings"], 97 + 97);
    assert_eq!(report["sources"]["linky"]["consumptionKwh"], 24.0);
    assert_eq!(report["sources"]["weheat"]["heatKwh"], 36.0);
    assert_eq!(report["sources"]["linky"]["series"], serde_json::json!(["consumption-HalfHour", "production-HalfHour"]));
    assert_eq!(report["sources"]["linky"]["requests"], 4);
    assert_eq!(store.inner.doc("sync/energyid/cursor/el").as_deref(), Some(r#"{"ts":1767225600,"index":1024.0}"#));

    let again = sync(&store, &clock, &[&meter(), &pump()], &[&sink], &options()).unwrap();
    assert_eq!(again["energyid"]["queued"], 0, "nothing is queued twice");
    assert_eq!(again["sources"]["linky"]["readings"], 0);
}

#[test]
fn new_data_continues_the_index_from_the_cursor() {
    let (store, clock, crash) = (CrashStore::default(), VirtualClock::at_secs(NOW), Crash::default());
    let sink = FakeSink::new("energyid", EI_KEYS, &crash);
    sync(&store, &clock, &[&meter()], &[&sink], &options()).unwrap();
    let later = FakeSource::new("linky", METER).with("consumption", Resolution::HalfHour, NOW - 2 * DAY, HALF_HOUR, 100, 0.25);
    let report = sync(&store, &clock, &[&later], &[&sink], &options()).unwrap();
    assert_eq!(report["sources"]["linky"]["readings"], 4);
    assert_eq!(sink.series("el").last(), Some(&(NOW + 4 * HALF_HOUR, 25.0)));
}

#[test]
fn a_backfill_of_two_years_is_streamed_a_window_at_a_time() {
    let (store, clock, crash) = (CrashStore::default(), VirtualClock::at_secs(NOW), Crash::default());
    let long = FakeSource::new("linky", METER).with("consumption", Resolution::HalfHour, NOW - 730 * DAY, HALF_HOUR, 730 * 48, 0.1);
    let sink = FakeSink::new("energyid", EI_KEYS, &crash);
    sync(&store, &clock, &[&long], &[&sink], &options()).unwrap();
    let calls = sink.queue_calls.borrow().clone();
    assert_eq!(calls.len(), 24, "730 days in 31-day windows");
    assert!(calls.iter().all(|rows| *rows as i64 <= WINDOW_SECS / HALF_HOUR + 1), "no window holds more than a month: {calls:?}");
    assert_eq!(sink.series("el").len(), 730 * 48 + 1);
    let last = sink.series("el").last().copied().unwrap();
    assert!((last.1 - 3504.0).abs() < 1e-6);
}

#[test]
fn a_crash_between_any_two_steps_ends_like_a_clean_run_after_a_rerun() {
    let clean_sink = FakeSink::new("energyid", EI_KEYS, &Crash::default());
    let clean_store = CrashStore::default();
    let clock = VirtualClock::at_secs(NOW);
    sync(&clean_store, &clock, &[&meter(), &pump()], &[&clean_sink], &options()).unwrap();
    let expected = clean_sink.held();

    let mut crashed_at_least_once = 0;
    for steps in 0.. {
        let crash = Crash::default();
        let store = CrashStore { inner: MemoryStore::default(), crash: crash.clone() };
        let sink = FakeSink::new("energyid", EI_KEYS, &crash);
        crash.after(steps);
        let first = sync(&store, &clock, &[&meter(), &pump()], &[&sink], &options());
        crash.0.set(None);
        if first.is_ok() {
            assert!(steps > 3, "the run has several durable steps");
            break;
        }
        crashed_at_least_once += 1;
        assert_eq!(first.unwrap_err().code, ErrorCode::Storage);
        // Whatever the sink got before the crash is a prefix of the clean run's.
        for (key, value) in sink.held() {
            assert_eq!(expected.get(&key), Some(&value), "crash after {steps} steps queued a value the clean run does not have");
        }
        sync(&store, &clock, &[&meter(), &pump()], &[&sink], &options()).unwrap();
        assert_eq!(sink.held(), expected, "crash after {steps} steps, then a rerun");
        for key in ["el", "el-i", "heat"] {
            assert_eq!(store.inner.doc(&format!("sync/energyid/cursor/{key}")), clean_store.inner.doc(&format!("sync/energyid/cursor/{key}")));
        }
    }
    assert!(crashed_at_least_once >= 4);
}

#[test]
fn load_curve_without_data_falls_back_to_daily_values_and_production_follows() {
    let (store, clock, crash) = (CrashStore::default(), VirtualClock::at_secs(NOW), Crash::default());
    let linky = meter().failing("consumption", Resolution::HalfHour, ErrorCode::NoData);
    let sink = FakeSink::new("energyid", EI_KEYS, &crash);
    let report = sync(&store, &clock, &[&linky], &[&sink], &options()).unwrap();
    assert_eq!(linky.fetched(), [("consumption", Resolution::HalfHour), ("consumption", Resolution::Day), ("production", Resolution::Day)]);
    assert_eq!(report["sources"]["linky"]["status"], "ok");
    assert_eq!(sink.series("el"), [(NOW - 2 * DAY, 0.0), (NOW - DAY, 12.0), (NOW, 24.0)]);
    assert_eq!(report["sources"]["linky"]["requests"], 1 + 2 + 2, "the request that found no data counts");
}

#[test]
fn daily_resolution_is_asked_for_directly() {
    let (store, clock, crash) = (CrashStore::default(), VirtualClock::at_secs(NOW), Crash::default());
    let (linky, weheat) = (meter(), pump());
    let sink = FakeSink::new("energyid", EI_KEYS, &crash);
    sync(&store, &clock, &[&linky, &weheat], &[&sink], &SyncOptions { resolution: Resolution::Day, ..options() }).unwrap();
    assert_eq!(linky.fetched(), [("consumption", Resolution::Day), ("production", Resolution::Day)]);
    assert_eq!(weheat.fetched(), [("heat", Resolution::Hour)], "a source without daily values uses its coarsest");
}

#[test]
fn a_meter_that_does_not_produce_is_not_an_error_and_is_not_asked_again() {
    let (store, clock, crash) = (CrashStore::default(), VirtualClock::at_secs(NOW), Crash::default());
    let linky = meter().failing("production", Resolution::HalfHour, ErrorCode::WrongDirection);
    let sink = FakeSink::new("energyid", EI_KEYS, &crash);
    let report = sync(&store, &clock, &[&linky], &[&sink], &options()).unwrap();
    assert_eq!(report["sources"]["linky"]["status"], "ok");
    assert_eq!(report["sources"]["linky"]["series"], serde_json::json!(["consumption-HalfHour"]));
    assert!(sink.series("el-i").is_empty());

    let mut known = meter();
    known.absent.push(("production", Resolution::HalfHour));
    sync(&store, &clock, &[&known], &[&sink], &options()).unwrap();
    assert_eq!(known.fetched(), [("consumption", Resolution::HalfHour)], "known absent: no request");
}

#[test]
fn a_channel_no_sink_takes_is_not_fetched() {
    let (store, clock, crash) = (CrashStore::default(), VirtualClock::at_secs(NOW), Crash::default());
    let linky = meter();
    let sink = FakeSink::new("energyid", &[("linky", "consumption", "el")], &crash);
    sync(&store, &clock, &[&linky], &[&sink], &options()).unwrap();
    assert_eq!(linky.fetched(), [("consumption", Resolution::HalfHour)]);
}

#[test]
fn an_error_a_person_must_resolve_pauses_the_source_for_a_day() {
    let (store, clock, crash) = (CrashStore::default(), VirtualClock::at_secs(NOW), Crash::default());
    let sink = FakeSink::new("energyid", EI_KEYS, &crash);
    let refused = || meter().failing("consumption", Resolution::HalfHour, ErrorCode::ConsentRequired);
    let (linky, weheat) = (refused(), pump());
    let report = sync(&store, &clock, &[&linky, &weheat], &[&sink], &options()).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["sources"]["linky"]["status"], "error");
    assert_eq!(report["sources"]["linky"]["retry"], false);
    assert_eq!(report["sources"]["linky"]["error"]["disposition"], "person");
    assert_eq!(report["sources"]["weheat"]["status"], "ok", "the other source goes on");
    assert!(store.inner.doc("sync/blocked/linky").is_some());

    clock.advance(Duration::from_secs(3600));
    let paused = refused();
    let report = sync(&store, &clock, &[&paused], &[&sink], &options()).unwrap();
    assert_eq!(report["sources"]["linky"]["status"], "skipped");
    assert!(paused.fetched().is_empty(), "a paused source makes no request");

    let forced = refused();
    sync(&store, &clock, &[&forced], &[&sink], &SyncOptions { retry_blocked: true, ..options() }).unwrap();
    assert_eq!(forced.fetched().len(), 1, "--retry-blocked tries it");

    clock.advance(Duration::from_secs(BLOCK_SECS as u64));
    let healed = meter();
    let report = sync(&store, &clock, &[&healed], &[&sink], &options()).unwrap();
    assert_eq!(report["sources"]["linky"]["status"], "ok", "a day later it is tried again");
    assert!(store.inner.doc("sync/blocked/linky").is_none(), "success lifts the block");
}

#[test]
fn temporary_errors_and_bad_settings_do_not_pause_a_source() {
    for (code, disposition) in [(ErrorCode::RateLimited, "retry_later"), (ErrorCode::Network, "retry_later"), (ErrorCode::InvalidConfig, "bad_input")] {
        let (store, clock, crash) = (CrashStore::default(), VirtualClock::at_secs(NOW), Crash::default());
        let sink = FakeSink::new("energyid", EI_KEYS, &crash);
        let linky = meter().failing("consumption", Resolution::HalfHour, code);
        let report = sync(&store, &clock, &[&linky], &[&sink], &options()).unwrap();
        assert_eq!(report["sources"]["linky"]["retry"], true, "{code}");
        assert_eq!(report["sources"]["linky"]["error"]["disposition"], disposition);
        assert!(store.inner.doc("sync/blocked/linky").is_none(), "{code} does not block");
        assert!(sink.held().is_empty(), "a failed source sends nothing, not half of itself");
        let next = meter();
        sync(&store, &clock, &[&next], &[&sink], &options()).unwrap();
        assert!(!next.fetched().is_empty(), "the next run tries again after {code}");
    }
}

#[test]
fn a_dry_run_queues_nothing_moves_no_cursor_and_blocks_nothing() {
    let (store, clock, crash) = (CrashStore::default(), VirtualClock::at_secs(NOW), Crash::default());
    let sink = FakeSink::new("energyid", EI_KEYS, &crash);
    let dry = SyncOptions { dry_run: true, ..options() };
    let report = sync(&store, &clock, &[&meter(), &pump()], &[&sink], &dry).unwrap();
    assert!(sink.held().is_empty());
    assert_eq!(report["energyid"]["wouldQueue"], 97, "rows merged per timestamp: the hours fall on half-hours");
    assert_eq!(report["energyid"]["values"], 97 + 97 + 25);
    assert_eq!(report["energyid"]["first"][0]["ts"], NOW - 2 * DAY);
    assert_eq!(report["energyid"]["last"][2]["ts"], NOW);
    assert!(store.inner.doc("sync/energyid/cursor/el").is_none());
    let refused = meter().failing("consumption", Resolution::HalfHour, ErrorCode::AuthRequired);
    sync(&store, &clock, &[&refused], &[&sink], &dry).unwrap();
    assert!(store.inner.doc("sync/blocked/linky").is_none());
}

#[test]
fn two_sinks_keep_independent_cursors() {
    let (store, clock, crash) = (CrashStore::default(), VirtualClock::at_secs(NOW), Crash::default());
    let first = FakeSink::new("energyid", EI_KEYS, &crash);
    sync(&store, &clock, &[&meter()], &[&first], &options()).unwrap();

    // A second sink added later gets the whole history; the first nothing again.
    let mut second = FakeSink::new("ha", &[("linky", "consumption", "consumption")], &crash);
    second.start.insert("consumption".into(), 5.0);
    let report = sync(&store, &clock, &[&meter()], &[&first, &second], &options()).unwrap();
    assert_eq!(report["energyid"]["queued"], 0);
    assert_eq!(report["ha"]["queued"], 97);
    assert_eq!(second.series("consumption").last(), Some(&(NOW, 29.0)));
    assert!(store.inner.doc("sync/ha/cursor/consumption").is_some());
    assert_eq!(report["sources"]["linky"]["readings"], 97, "counted for the sink that was furthest behind");
}

#[test]
fn a_sink_that_cannot_deliver_keeps_its_rows_and_says_whether_to_retry() {
    let (store, clock, crash) = (CrashStore::default(), VirtualClock::at_secs(NOW), Crash::default());
    let mut down = FakeSink::new("energyid", EI_KEYS, &crash);
    down.deliver_error = Some(ErrorCode::Unavailable);
    let report = sync(&store, &clock, &[&meter()], &[&down], &options()).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["energyid"]["status"], "error");
    assert_eq!(report["energyid"]["retry"], true);
    assert_eq!(report["energyid"]["queued"], 194, "queued before delivery failed: the next run delivers");
    down.deliver_error = Some(ErrorCode::WebhookDisabled);
    let report = sync(&store, &clock, &[&meter()], &[&down], &options()).unwrap();
    assert_eq!(report["energyid"]["retry"], false, "a person must re-enable the webhook");
}

#[test]
fn a_sink_whose_peer_fails_mid_stream_reports_it_and_the_other_sinks_and_the_report_go_on() {
    let (store, clock, crash) = (CrashStore::default(), VirtualClock::at_secs(NOW), Crash::default());
    let long = || FakeSource::new("linky", METER).with("consumption", Resolution::HalfHour, NOW - 90 * DAY, HALF_HOUR, 90 * 48, 0.1);
    let energyid = FakeSink::new("energyid", EI_KEYS, &crash);
    let mut ha = FakeSink::new("ha", &[("linky", "consumption", "consumption")], &crash);
    ha.queue_error = Some((1, ErrorCode::Network));
    let report = sync(&store, &clock, &[&long()], &[&ha, &energyid], &options()).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["ha"]["status"], "error");
    assert_eq!(report["ha"]["retry"], true);
    assert_eq!(report["ha"]["error"]["code"], "network");
    let first_window = ha.series("consumption").len();
    assert_eq!(report["ha"]["queued"], first_window, "what the first window queued is reported");
    assert!(first_window > 0 && first_window < 90 * 48);
    assert_eq!(report["energyid"]["status"], "ok", "the sink after the failing one still ran");
    assert_eq!(energyid.series("el").len(), 90 * 48 + 1);
    assert_eq!(report["sources"]["linky"]["status"], "ok");

    // The cursor stayed at the end of the last queued window: the next run
    // continues from there, and ends with the series an unbroken run makes.
    let cursor: Value = serde_json::from_str(&store.inner.doc("sync/ha/cursor/consumption").unwrap()).unwrap();
    assert_eq!(cursor["ts"], ha.series("consumption").last().unwrap().0);
    ha.queue_error = None;
    let report = sync(&store, &clock, &[&long()], &[&ha, &energyid], &options()).unwrap();
    assert_eq!(report["ok"], true);
    assert_eq!(report["energyid"]["queued"], 0);
    let unbroken = FakeSink::new("ha", &[("linky", "consumption", "consumption")], &crash);
    sync(&CrashStore::default(), &clock, &[&long()], &[&unbroken], &options()).unwrap();
    assert_eq!(ha.series("consumption"), unbroken.series("consumption"));

    // A refused token is for a person to fix: reported, not retried on its own.
    let mut refused = FakeSink::new("jeedom", &[("linky", "consumption", "consumption")], &crash);
    refused.queue_error = Some((0, ErrorCode::AuthRequired));
    let report = sync(&CrashStore::default(), &clock, &[&long()], &[&refused], &options()).unwrap();
    assert_eq!((report["jeedom"]["status"].as_str(), report["jeedom"]["retry"].as_bool(), report["jeedom"]["queued"].as_u64()), (Some("error"), Some(false), Some(0)));
}

#[test]
fn a_sink_that_cannot_connect_costs_no_source_request_when_alone_and_stops_no_other_sink() {
    let (clock, crash) = (VirtualClock::at_secs(NOW), Crash::default());
    let mut ha = FakeSink::new("ha", &[("linky", "consumption", "consumption")], &crash);
    ha.connect_error = Some(ErrorCode::AuthRequired);
    let linky = meter();
    let report = sync(&CrashStore::default(), &clock, &[&linky], &[&ha], &options()).unwrap();
    assert!(linky.fetched().is_empty(), "nothing fetched for a sink that cannot take it");
    assert_eq!((report["ok"].as_bool(), report["ha"]["status"].as_str(), report["ha"]["retry"].as_bool()), (Some(false), Some("error"), Some(false)));
    assert_eq!(report["ha"]["error"]["code"], "auth_required");
    assert_eq!(report["sources"], serde_json::json!({}));

    let energyid = FakeSink::new("energyid", EI_KEYS, &crash);
    let store = CrashStore::default();
    let report = sync(&store, &clock, &[&meter()], &[&ha, &energyid], &options()).unwrap();
    assert_eq!(report["ha"]["error"]["code"], "auth_required");
    assert_eq!(report["energyid"]["status"], "ok");
    assert_eq!(energyid.series("el").len(), 97);
    assert!(store.inner.doc("sync/ha/cursor/consumption").is_none(), "the sink that could not connect got nothing");
}

#[test]
fn a_sink_that_cannot_write_the_bridges_state_or_refuses_rows_as_invalid_stops_the_run() {
    let (clock, crash) = (VirtualClock::at_secs(NOW), Crash::default());
    for code in [ErrorCode::Storage, ErrorCode::CorruptState, ErrorCode::InvalidInput] {
        let mut sink = FakeSink::new("energyid", EI_KEYS, &crash);
        sink.queue_error = Some((0, code));
        let err = sync(&CrashStore::default(), &clock, &[&meter()], &[&sink], &options()).unwrap_err();
        assert_eq!(err.code, code);
    }
}

#[test]
fn without_a_sink_nothing_runs() {
    let (store, clock) = (CrashStore::default(), VirtualClock::at_secs(NOW));
    let linky = meter();
    let err = sync(&store, &clock, &[&linky], &[], &options()).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidConfig);
    assert!(linky.fetched().is_empty());
}

#[test]
fn a_corrupt_block_document_stops_the_run_and_is_left_untouched() {
    let (store, clock, crash) = (CrashStore::default(), VirtualClock::at_secs(NOW), Crash::default());
    store.inner.set_doc("sync/blocked/linky", "{not json");
    let sink = FakeSink::new("energyid", EI_KEYS, &crash);
    let err = sync(&store, &clock, &[&meter()], &[&sink], &options()).unwrap_err();
    assert_eq!(err.code, ErrorCode::CorruptState);
    assert_eq!(store.inner.doc("sync/blocked/linky").as_deref(), Some("{not json"));
}

#[test]
fn the_mqtt_sink_keeps_the_newest_index_of_each_meter_and_pump_across_runs() {
    use wattbridge::bridge::sinks::mqtt::{MqttSink, ENERGY_DOC};
    let (store, clock) = (CrashStore::default(), VirtualClock::at_secs(NOW));
    let mqtt = MqttSink::new(&store);
    let report = sync(&store, &clock, &[&meter().of("11111111111111"), &pump().of("pump-1")], &[&mqtt], &options()).unwrap();
    // 96 half-hours of 0.25 kWh: the index at the last one; 24 hours of 1.5 kWh of heat.
    let energy = &report["mqtt"]["energy"];
    assert_eq!(energy["linky_11111111111111_consumption"]["kwh"], 24.0);
    assert_eq!(energy["linky_11111111111111_consumption"]["ts"], NOW);
    assert_eq!(energy["linky_11111111111111_production"]["kwh"], 12.0);
    assert_eq!(energy["weheat_pump-1_heat"]["kwh"], 36.0);
    assert!(store.inner.doc(ENERGY_DOC).is_some());

    // A day later the index continues from the cursor, and a run without new
    // data still reports the stored index (the publisher sends it again).
    let clock = VirtualClock::at_secs(NOW + DAY);
    let later = || FakeSource::new("linky", METER).with("consumption", Resolution::HalfHour, NOW - 2 * DAY, HALF_HOUR, 144, 0.25).of("11111111111111");
    let report = sync(&store, &clock, &[&later()], &[&mqtt], &options()).unwrap();
    assert_eq!(report["mqtt"]["energy"]["linky_11111111111111_consumption"]["kwh"], 36.0);
    let again = sync(&store, &clock, &[&later()], &[&mqtt], &options()).unwrap();
    assert_eq!(again["mqtt"]["energy"]["linky_11111111111111_consumption"]["kwh"], 36.0);
    assert_eq!(again["mqtt"]["queued"], 0);

    // Another meter starts an index of its own.
    let other = FakeSource::new("linky", METER).with("consumption", Resolution::HalfHour, NOW - DAY, HALF_HOUR, 4, 0.5).of("22222222222222");
    let report = sync(&store, &clock, &[&other], &[&mqtt], &options()).unwrap();
    assert_eq!(report["mqtt"]["energy"]["linky_22222222222222_consumption"]["kwh"], 2.0);
    assert_eq!(report["mqtt"]["energy"]["linky_11111111111111_consumption"]["kwh"], 36.0);
}
