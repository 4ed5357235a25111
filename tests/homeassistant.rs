//! The Home Assistant statistics sink in virtual time, through the real
//! bridge, against a fake HA WebSocket that keeps rows as HA's recorder does
//! and refuses what HA refuses (contract §1, §2): hourly rows at whole UTC
//! hours, DST days, holes, refills, sums, reruns, cost, metadata by release.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use support::{run, MemoryStore, VirtualClock};
use wattbridge::bridge::sinks::homeassistant::{HomeAssistantSink, Options};
use wattbridge::bridge::{Bridge, Channel, Fetched, Pending, Resolution, Source, SyncOptions};
use wattbridge::core::{Error, ErrorCode, IntervalEnergy, Result, Secret, WebSocket};
use wattbridge::homeassistant::Connection;
use wattbridge::linky::stats::{OffPeakSlots, Tariff};

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
/// Paris midnights (UTC instants) around the 2026 changes.
const SPRING_DAY: i64 = 1_774_738_800; // 2026-03-29 00:00 +01:00 (23 h long)
const AUTUMN_DAY: i64 = 1_792_879_200; // 2026-10-25 00:00 +02:00 (25 h long)
const TOKEN: &str = "secret-long-lived-token";

const METER: &[Channel] = &[Channel { name: "consumption", resolutions: &[Resolution::HalfHour], optional: false }];

/// A meter whose half-hours the test edits between runs.
struct Meter {
    data: RefCell<Vec<IntervalEnergy>>,
    /// What the next fetch says it added, and the holes each refill asked for.
    fresh: std::cell::Cell<u32>,
    asked: RefCell<Vec<Vec<(i64, i64)>>>,
}

impl Meter {
    /// Half-hours of `[from, to)`, `wh(start)` Wh each, except those `hole` says.
    fn new(from: i64, to: i64, wh: impl Fn(i64) -> f64, hole: impl Fn(i64) -> bool) -> Self {
        let data = (from..to).step_by(1800).filter(|s| !hole(*s)).map(|start| IntervalEnergy { start, end: start + 1800, kwh: wh(start) / 1000.0 }).collect();
        Meter { data: RefCell::new(data), fresh: Default::default(), asked: RefCell::default() }
    }
    fn fill(&self, start: i64, wh: f64) {
        let mut data = self.data.borrow_mut();
        data.push(IntervalEnergy { start, end: start + 1800, kwh: wh / 1000.0 });
        data.sort_by_key(|i| i.start);
    }
    fn wh(&self, from: i64, to: i64) -> f64 {
        self.data.borrow().iter().filter(|i| i.start >= from && i.start < to).map(|i| (i.kwh * 1000.0).round()).sum()
    }
}

impl Source for Meter {
    fn name(&self) -> &'static str {
        "linky"
    }
    fn channels(&self) -> &'static [Channel] {
        METER
    }
    fn known_absent<'a>(&'a self, _: &'a Channel, _: Resolution) -> Pending<'a, bool> {
        Box::pin(async { Ok(false) })
    }
    fn fetch<'a>(&'a self, _: &'a Channel, _: Resolution, _: Option<i64>, _: &'a dyn Fn(&str, u32, u32)) -> Pending<'a, Fetched> {
        Box::pin(async { Ok(Fetched { fresh: self.fresh.take(), ..Fetched::default() }) })
    }
    fn refill<'a>(&'a self, _: &'a Channel, _: Resolution, holes: &'a [(i64, i64)]) -> Pending<'a, (u32, u32)> {
        self.asked.borrow_mut().push(holes.to_vec());
        Box::pin(async { Ok((1, 0)) })
    }
    fn span<'a>(&'a self, _: &'a Channel, _: Resolution) -> Pending<'a, Option<(i64, i64)>> {
        Box::pin(async move {
            let data = self.data.borrow();
            Ok(data.first().zip(data.last()).map(|(a, b)| (a.start, b.end)))
        })
    }
    fn energy<'a>(&'a self, _: &'a Channel, _: Resolution, from: i64, to: i64) -> Pending<'a, Vec<IntervalEnergy>> {
        Box::pin(async move { Ok(self.data.borrow().iter().filter(|i| i.start >= from && i.start < to).copied().collect()) })
    }
    fn subject(&self) -> Option<String> {
        Some("11111111111111".into())
    }
    fn describe(&self, _: &[(&'static str, f64)]) -> serde_json::Map<String, Value> {
        serde_json::Map::new()
    }
}

/// Rows per statistic id: start (unix s) → (state, sum). Shared by every
/// connection to the same fake HA, as the recorder's database is.
type Db = Rc<RefCell<BTreeMap<String, BTreeMap<i64, (f64, f64)>>>>;

/// A fake HA WebSocket, strict where HA is: the auth handshake, ids rising
/// from 1, the metadata keys of its release, starts with an offset at whole hours.
#[derive(Clone)]
struct FakeHa {
    version: &'static str,
    db: Db,
    out: Rc<RefCell<VecDeque<String>>>,
    sent: Rc<RefCell<Vec<String>>>,
    last_id: Rc<RefCell<u64>>,
    admin: bool,
    down: bool,
    /// Check the ≤ 2025.10 schema whatever the version says.
    old_schema: bool,
}

impl FakeHa {
    fn new(version: &'static str, db: &Db) -> Self {
        let out = VecDeque::from([json!({"type": "auth_required", "ha_version": version}).to_string()]);
        FakeHa { version, db: db.clone(), out: Rc::new(RefCell::new(out)), sent: Rc::default(), last_id: Rc::default(), admin: true, down: false, old_schema: false }
    }
    fn imports(&self) -> Vec<Value> {
        self.sent.borrow().iter().map(|t| serde_json::from_str::<Value>(t).unwrap()).filter(|v| v["type"] == "recorder/import_statistics").collect()
    }
    fn rows_imported(&self) -> usize {
        self.imports().iter().map(|v| v["stats"].as_array().unwrap().len()).sum()
    }
    fn answer(&self, id: u64, outcome: std::result::Result<Value, (&str, String)>) {
        let frame = match outcome {
            Ok(result) => json!({"id": id, "type": "result", "success": true, "result": result}),
            Err((code, message)) => json!({"id": id, "type": "result", "success": false, "error": {"code": code, "message": message}}),
        };
        self.out.borrow_mut().push_back(frame.to_string());
    }
    fn import(&self, message: &Value) -> std::result::Result<Value, (&'static str, String)> {
        let meta = message["metadata"].as_object().ok_or(("invalid_format", "no metadata".to_owned()))?;
        let new = self.version >= "2025.11" && !self.old_schema;
        let allowed: &[&str] = if new {
            &["has_sum", "name", "source", "statistic_id", "unit_of_measurement", "mean_type", "unit_class", "has_mean"]
        } else {
            &["has_mean", "has_sum", "name", "source", "statistic_id", "unit_of_measurement"]
        };
        if let Some(extra) = meta.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(("invalid_format", format!("extra keys not allowed @ data['metadata']['{extra}']")));
        }
        if !new && !meta.contains_key("has_mean") {
            return Err(("invalid_format", "required key not provided @ data['metadata']['has_mean']".into()));
        }
        let id = meta["statistic_id"].as_str().unwrap_or("");
        if !id.starts_with("wattbridge:") || meta["source"] != "wattbridge" {
            return Err(("home_assistant_error", "Invalid source".into()));
        }
        let mut db = self.db.borrow_mut();
        let rows = db.entry(id.to_owned()).or_default();
        for row in message["stats"].as_array().unwrap() {
            let start = row["start"].as_str().unwrap();
            if !start.ends_with("+00:00") || !start.ends_with(":00:00+00:00") {
                return Err(("invalid_format", format!("Invalid timestamp {start}")));
            }
            let ms = wattbridge::core::time::parse_utc(start).unwrap();
            rows.insert(ms / 1000, (row["state"].as_f64().unwrap(), row["sum"].as_f64().unwrap()));
        }
        Ok(Value::Null)
    }
}

impl WebSocket for FakeHa {
    async fn send(&self, text: String) -> Result<()> {
        if self.down {
            return Err(Error::new(ErrorCode::Network, "connection refused"));
        }
        self.sent.borrow_mut().push(text.clone());
        let message: Value = serde_json::from_str(&text).unwrap();
        if message["type"] == "auth" {
            let ok = message["access_token"] == TOKEN;
            let frame = if ok { json!({"type": "auth_ok", "ha_version": self.version}) } else { json!({"type": "auth_invalid", "message": "Invalid access token or password"}) };
            self.out.borrow_mut().push_back(frame.to_string());
            return Ok(());
        }
        let id = message["id"].as_u64().unwrap();
        assert!(id > *self.last_id.borrow(), "ids must rise strictly");
        *self.last_id.borrow_mut() = id;
        // An event between commands, as a subscribed client may get: skipped.
        self.out.borrow_mut().push_back(json!({"id": 999, "type": "event", "event": {}}).to_string());
        let outcome = match message["type"].as_str().unwrap() {
            "recorder/import_statistics" if !self.admin => Err(("unauthorized", "Unauthorized".to_owned())),
            "recorder/import_statistics" => self.import(&message),
            "recorder/list_statistic_ids" => Ok(Value::Array(self.db.borrow().keys().map(|id| json!({"statistic_id": id, "source": "wattbridge"})).collect())),
            "recorder/statistics_during_period" => {
                let from = wattbridge::core::time::parse_utc(message["start_time"].as_str().unwrap()).unwrap() / 1000;
                let to = message["end_time"].as_str().map_or(i64::MAX, |t| wattbridge::core::time::parse_utc(t).unwrap() / 1000);
                let mut result = serde_json::Map::new();
                for id in message["statistic_ids"].as_array().unwrap() {
                    let id = id.as_str().unwrap();
                    if let Some(rows) = self.db.borrow().get(id) {
                        let list: Vec<Value> = rows.range(from..to).map(|(s, (state, sum))| json!({"start": (s * 1000) as f64, "end": ((s + HOUR) * 1000) as f64, "state": state, "sum": sum})).collect();
                        result.insert(id.to_owned(), list.into());
                    }
                }
                Ok(Value::Object(result))
            }
            _ => Err(("unknown_command", "Unknown command.".to_owned())),
        };
        self.answer(id, outcome);
        Ok(())
    }
    async fn receive(&self) -> Result<String> {
        if self.down {
            return Err(Error::new(ErrorCode::Network, "connection refused"));
        }
        self.out.borrow_mut().pop_front().ok_or_else(|| Error::new(ErrorCode::Network, "closed"))
    }
}

const CONSUMPTION: &str = "wattbridge:linky_11111111111111_consumption";
const COST: &str = "wattbridge:linky_11111111111111_cost";

struct Run {
    report: Value,
    ha: FakeHa,
}

fn import(meter: &Meter, db: &Db, store: &MemoryStore, now: i64, version: &'static str, options: Options) -> Result<Run> {
    let ha = FakeHa::new(version, db);
    let clock = VirtualClock::at_secs(now);
    let connection = Connection::new(ha.clone(), Secret::new(TOKEN));
    let sink = HomeAssistantSink::new(&connection, store, &clock, options);
    let report = run(Bridge::new(store, &clock).source(meter).sink(&sink).run(&SyncOptions::default(), &|_, _, _| {}))?;
    Ok(Run { report, ha })
}

fn rows(db: &Db, id: &str, from: i64, to: i64) -> Vec<(i64, f64, f64)> {
    db.borrow().get(id).map(|r| r.range(from..to).map(|(s, (state, sum))| (*s, *state, *sum)).collect()).unwrap_or_default()
}

/// Wh by the half-hour's start: a pattern that makes every hour different.
fn wh(start: i64) -> f64 {
    (100 + (start / 1800) % 7 * 20) as f64
}

#[test]
fn dst_days_have_23_and_25_rows_each_the_sum_of_its_two_half_hours() {
    let db = Db::default();
    let meter = Meter::new(SPRING_DAY - DAY, AUTUMN_DAY + 2 * DAY, wh, |_| false);
    let run = import(&meter, &db, &MemoryStore::default(), AUTUMN_DAY + 3 * DAY, "2024.3.3", Options::default()).unwrap();
    assert_eq!(rows(&db, CONSUMPTION, SPRING_DAY, SPRING_DAY + 23 * HOUR).len(), 23);
    assert_eq!(rows(&db, CONSUMPTION, AUTUMN_DAY, AUTUMN_DAY + 25 * HOUR).len(), 25, "the repeated hour is two rows");
    let all = rows(&db, CONSUMPTION, 0, i64::MAX);
    let mut sum = 0.0;
    for (start, state, row_sum) in &all {
        assert_eq!(start % HOUR, 0);
        assert_eq!((state * 1000.0).round(), meter.wh(*start, start + HOUR), "hour {start}");
        sum += state;
        assert!((row_sum - sum).abs() < 1e-6, "sum continuous at {start}");
    }
    assert_eq!(all.len() as i64, (AUTUMN_DAY + 2 * DAY - (SPRING_DAY - DAY)) / HOUR);
    assert_eq!(run.report["ha"]["imported"], all.len());
    // 7 months of hours went in 31-day windows, each under the 4 MiB frame limit.
    assert!(run.ha.imports().iter().all(|m| m["stats"].as_array().unwrap().len() <= 1000));
    let meta = &run.ha.imports()[0]["metadata"];
    assert_eq!(meta["has_mean"], false, "2024.3.3 takes the old keys");
    assert_eq!(meta["unit_of_measurement"], "kWh");
}

#[test]
fn a_rerun_imports_nothing_and_a_later_run_continues_the_sum() {
    let db = Db::default();
    let store = MemoryStore::default();
    let now = SPRING_DAY + 10 * DAY;
    let meter = Meter::new(SPRING_DAY, SPRING_DAY + 9 * DAY, wh, |_| false);
    import(&meter, &db, &store, now, "2024.3.3", Options::default()).unwrap();
    let before = rows(&db, CONSUMPTION, 0, i64::MAX);
    let again = import(&meter, &db, &store, now, "2024.3.3", Options::default()).unwrap();
    assert_eq!(again.ha.rows_imported(), 0, "a rerun imports 0 rows");
    assert_eq!(again.report["ha"]["imported"], 0);
    assert_eq!(rows(&db, CONSUMPTION, 0, i64::MAX), before);

    // A day later, with a new day of data: only it is imported, continuing the sum.
    let day = SPRING_DAY + 9 * DAY;
    for start in (day..day + DAY).step_by(1800) {
        meter.fill(start, wh(start));
    }
    let next = import(&meter, &db, &store, now + DAY, "2024.3.3", Options::default()).unwrap();
    assert_eq!(next.ha.rows_imported(), 24);
    let last_before = before.last().unwrap().2;
    let first_new = rows(&db, CONSUMPTION, day, day + HOUR)[0];
    assert!((first_new.2 - (last_before + meter.wh(day, day + HOUR) / 1000.0)).abs() < 1e-6);
}

#[test]
fn a_hole_has_no_row_and_once_filled_its_row_and_every_later_sum_are_fixed() {
    let db = Db::default();
    let store = MemoryStore::default();
    let day = SPRING_DAY + 20 * DAY;
    let now = day + 2 * DAY + 12 * HOUR;
    let hole = day + 10 * HOUR + 1800; // one half-hour of the hour 10:00 UTC
    let meter = Meter::new(day - 5 * DAY, day + 2 * DAY, wh, |s| s == hole);
    import(&meter, &db, &store, now, "2024.3.3", Options::default()).unwrap();
    let hour = day + 10 * HOUR;
    assert!(rows(&db, CONSUMPTION, hour, hour + HOUR).is_empty(), "no row for the hour with a missing half-hour, never a 0");
    let next = rows(&db, CONSUMPTION, hour + HOUR, hour + 2 * HOUR)[0];
    let prev = rows(&db, CONSUMPTION, hour - HOUR, hour)[0];
    assert!((next.2 - prev.2 - next.1).abs() < 1e-6, "the next row's change counts from the last row before the hole");

    // The source fills the hole (inside the correction window): the row appears, later sums move.
    meter.fill(hole, wh(hole));
    let refill = import(&meter, &db, &store, now, "2024.3.3", Options::default()).unwrap();
    let filled = rows(&db, CONSUMPTION, hour, hour + HOUR);
    assert_eq!(filled.len(), 1);
    assert_eq!((filled[0].1 * 1000.0).round(), meter.wh(hour, hour + HOUR));
    let later = (day + 2 * DAY - (hour + HOUR)) / HOUR;
    assert_eq!(refill.ha.rows_imported() as i64, 1 + later, "the hour and every later row (sum shifted), nothing before");
    let all = rows(&db, CONSUMPTION, 0, i64::MAX);
    assert!((all.last().unwrap().2 - meter.wh(0, i64::MAX) / 1000.0).abs() < 1e-6, "the final sum is the whole source");
    assert_eq!(import(&meter, &db, &store, now, "2024.3.3", Options::default()).unwrap().ha.rows_imported(), 0);
}

#[test]
fn a_correction_inside_the_window_is_reimported_with_the_same_continuous_sum() {
    let db = Db::default();
    let store = MemoryStore::default();
    let day = SPRING_DAY + 40 * DAY; // summer: Paris midnight is 22:00 UTC
    let now = day + 2 * DAY + 6 * HOUR;
    let meter = Meter::new(day - 10 * DAY, day + 2 * DAY, wh, |_| false);
    import(&meter, &db, &store, now, "2024.3.3", Options::default()).unwrap();
    // Enedis corrects a half-hour of yesterday; one older than the window is left as it was.
    let old = day - 6 * DAY;
    meter.data.borrow_mut().iter_mut().filter(|i| i.start == day + DAY || i.start == old).for_each(|i| i.kwh += 0.5);
    let run = import(&meter, &db, &store, now, "2024.3.3", Options::default()).unwrap();
    assert_eq!(run.ha.rows_imported() as i64, DAY / HOUR, "the corrected hour and the 23 after it");
    let row = rows(&db, CONSUMPTION, day + DAY, day + DAY + HOUR)[0];
    assert_eq!((row.1 * 1000.0).round(), meter.wh(day + DAY, day + DAY + HOUR));
    let old_row = rows(&db, CONSUMPTION, old, old + HOUR)[0];
    assert_eq!((old_row.1 * 1000.0).round(), meter.wh(old, old + HOUR) - 500.0, "outside the window nothing is re-read");
}

#[test]
fn cost_has_a_row_for_every_hour_priced_by_the_tariff_of_linky_stats() {
    let db = Db::default();
    let day = AUTUMN_DAY + 7 * DAY; // a Sunday in winter time: Paris midnight is 23:00 UTC
    let meter = Meter::new(day, day + 3 * DAY, |_| 500.0, |_| false);
    let tariff = Tariff::PeakOffPeak { peak_price: 0.25, off_peak_price: 0.2, off_peak: OffPeakSlots::parse("22:00-06:00").unwrap() };
    let options = Options { tariff: Some(tariff), ..Options::default() };
    import(&meter, &db, &MemoryStore::default(), day + 4 * DAY, "2024.3.3", options.clone()).unwrap();
    for n in 0..3 {
        let from = day + n * DAY;
        let cost = rows(&db, COST, from, from + DAY);
        assert_eq!(cost.len(), 24, "24 cost rows on day {n}, 23:00 included");
        // 1 kWh an hour: 8 off-peak hours at 0.20, 16 peak at 0.25.
        let total: f64 = cost.iter().map(|r| r.1).sum();
        assert!((total - (8.0 * 0.2 + 16.0 * 0.25)).abs() < 1e-6, "{total}");
    }
    let last = rows(&db, COST, 0, i64::MAX).last().unwrap().2;
    assert!((last - 3.0 * 5.6).abs() < 1e-6);
}

#[test]
fn the_metadata_follows_the_release_and_old_releases_refuse_the_new_keys() {
    let db = Db::default();
    let meter = Meter::new(SPRING_DAY, SPRING_DAY + DAY, wh, |_| false);
    let tariff = Tariff::Base { price_per_kwh: 0.2 };
    let run = import(&meter, &db, &MemoryStore::default(), SPRING_DAY + 5 * DAY, "2025.11.0", Options { tariff: Some(tariff), ..Options::default() }).unwrap();
    let metas: Vec<Value> = run.ha.imports().iter().map(|m| m["metadata"].clone()).collect();
    let energy = metas.iter().find(|m| m["statistic_id"] == CONSUMPTION).unwrap();
    assert_eq!((energy["mean_type"].clone(), energy["unit_class"].clone(), energy.get("has_mean")), (json!(0), json!("energy"), None));
    let money = metas.iter().find(|m| m["statistic_id"] == COST).unwrap();
    assert_eq!((money["unit_class"].clone(), money["unit_of_measurement"].clone()), (Value::Null, json!("EUR")));
    assert_eq!(run.report["ha"]["schema"], "new");
}

#[test]
fn errors_say_what_to_do_and_nothing_counts_as_imported() {
    let meter = Meter::new(SPRING_DAY, SPRING_DAY + DAY, wh, |_| false);
    let clock = VirtualClock::at_secs(SPRING_DAY + 5 * DAY);
    let attempt = |ha: FakeHa, token: &str| {
        let store = MemoryStore::default();
        let connection = Connection::new(ha, Secret::new(token));
        let sink = HomeAssistantSink::new(&connection, &store, &clock, Options::default());
        let report = run(Bridge::new(&store, &clock).source(&meter).sink(&sink).run(&SyncOptions::default(), &|_, _, _| {}));
        (report, store)
    };
    let (report, store) = attempt(FakeHa::new("2024.3.3", &Db::default()), "wrong");
    let report = report.unwrap();
    assert_eq!(report["ha"]["error"]["code"], "auth_required");
    assert!(!report.to_string().contains("wrong"), "the token is never in a report");
    assert!(store.doc("sync/ha/cursor/linky_11111111111111_consumption").is_none());

    let mut down = FakeHa::new("2024.3.3", &Db::default());
    down.down = true;
    let report = attempt(down, TOKEN).0.unwrap();
    assert_eq!(report["ha"]["error"]["code"], "network");
    assert_eq!(report["ha"]["retry"], true);

    let mut user = FakeHa::new("2024.3.3", &Db::default());
    user.admin = false;
    // Errors of HA's answers to an import are HA's part of the report: the run goes on.
    let (report, store) = attempt(user, TOKEN);
    let error = &report.unwrap()["ha"];
    assert_eq!((error["status"].as_str(), error["retry"].as_bool()), (Some("error"), Some(false)));
    assert_eq!(error["error"]["code"], "auth_required");
    assert!(error["error"]["message"].as_str().unwrap().contains("administrator"), "{error}");
    assert!(store.doc("sync/ha/cursor/linky_11111111111111_consumption").is_none(), "nothing counts as imported");

    // A release that says it is new but checks the old schema: HA's words come back as `rejected`.
    let mut liar = FakeHa::new("2025.11.0", &Db::default());
    liar.old_schema = true;
    let error = &attempt(liar, TOKEN).0.unwrap()["ha"]["error"];
    assert_eq!(error["code"], "rejected");
    assert!(error["message"].as_str().unwrap().contains("extra keys not allowed @ data['metadata']['mean_type']"), "{error}");
}

#[test]
fn a_hole_of_any_age_is_refilled_once_the_source_has_it_and_a_rerun_reads_little() {
    let db = Db::default();
    let store = MemoryStore::default();
    let now = SPRING_DAY + 200 * DAY;
    let recent = now - 10 * DAY + 6 * HOUR; // outside the 3-day correction window
    let old = now - 90 * DAY + 6 * HOUR; // three months back
    let meter = Meter::new(now - 120 * DAY, now - DAY, wh, |s| s == recent || s == old);
    let first = import(&meter, &db, &store, now, "2025.11.0", Options::default()).unwrap();
    assert!(rows(&db, CONSUMPTION, old, old + 1800).is_empty());
    assert_eq!(first.report["ha"]["holes"], 2, "{}", first.report);
    let again = import(&meter, &db, &store, now, "2025.11.0", Options::default()).unwrap();
    assert_eq!(again.ha.rows_imported(), 0, "a hole the source still has costs no import");
    let read: usize = again.ha.sent.borrow().iter().filter(|t| t.contains("statistics_during_period")).count();
    assert!(read <= 3, "a rerun reads HA's last days, not its months: {read} reads");
    assert!(meter.asked.borrow().is_empty(), "nothing new at the source: its service is not asked for the holes");
    // The source got a new day: the holes older than the correction window are asked for again.
    meter.fresh.set(48);
    let asked = import(&meter, &db, &store, now, "2025.11.0", Options::default()).unwrap();
    let hour = |s: i64| s - s % HOUR;
    assert_eq!(*meter.asked.borrow(), [vec![(hour(old), hour(old) + HOUR), (hour(recent), hour(recent) + HOUR)]]);
    assert_eq!(asked.report["ha"]["refillRequests"], 1);

    meter.fill(old, wh(old));
    let refill = import(&meter, &db, &store, now, "2025.11.0", Options::default()).unwrap();
    assert_eq!(rows(&db, CONSUMPTION, old - old % HOUR, old + 1800).len(), 1, "the old hole is filled");
    assert_eq!(refill.ha.rows_imported() as i64, (now - DAY - (old - old % HOUR)) / HOUR - 1, "it and every later row, but the recent hole");
    assert_eq!(refill.report["ha"]["holes"], 1, "the recent hole is still recorded");
    let all = rows(&db, CONSUMPTION, 0, i64::MAX);
    assert!(all.windows(2).all(|p| (p[1].2 - p[0].2 - p[1].1).abs() < 1e-6 || p[1].0 - p[0].0 > HOUR), "sums stay continuous");
    let recent_hour = recent - recent % HOUR;
    let without_recent = meter.wh(0, i64::MAX) - meter.wh(recent_hour, recent_hour + HOUR);
    assert!((all.last().unwrap().2 - without_recent / 1000.0).abs() < 1e-6, "the final sum is the source but the hour still a hole");
    assert_eq!(import(&meter, &db, &store, now, "2025.11.0", Options::default()).unwrap().ha.rows_imported(), 0);

    meter.fill(recent, wh(recent));
    import(&meter, &db, &store, now, "2025.11.0", Options::default()).unwrap();
    assert_eq!(rows(&db, CONSUMPTION, recent - recent % HOUR, recent + 1800).len(), 1);
    let whole = rows(&db, CONSUMPTION, 0, i64::MAX);
    assert_eq!(whole.len() as i64, 119 * DAY / HOUR, "no hole left");
    let mut sum = 0.0;
    for (start, state, row_sum) in &whole {
        sum += state;
        assert!((row_sum - sum).abs() < 1e-6, "sum continuous at {start}");
    }
}

#[test]
fn older_history_goes_before_what_ha_has_and_every_later_sum_shifts() {
    let db = Db::default();
    let store = MemoryStore::default();
    let now = SPRING_DAY + 200 * DAY;
    let meter = Meter::new(now - 30 * DAY, now - DAY, wh, |_| false);
    import(&meter, &db, &store, now, "2024.3.3", Options::default()).unwrap();
    assert_eq!(rows(&db, CONSUMPTION, 0, i64::MAX).len() as i64, 29 * DAY / HOUR);

    // A wider --since: the source now has 60 more days before.
    for start in (now - 90 * DAY..now - 30 * DAY).step_by(1800) {
        meter.fill(start, wh(start));
    }
    let wider = import(&meter, &db, &store, now, "2024.3.3", Options::default()).unwrap();
    assert_eq!(wider.ha.rows_imported() as i64, 89 * DAY / HOUR, "the older rows, and every later one with its sum shifted");
    assert!(wider.ha.imports().iter().all(|m| m["stats"].as_array().unwrap().len() <= 1000));
    let all = rows(&db, CONSUMPTION, 0, i64::MAX);
    assert_eq!(all.len() as i64, 89 * DAY / HOUR);
    let mut sum = 0.0;
    for (start, state, row_sum) in &all {
        assert_eq!((state * 1000.0).round(), meter.wh(*start, start + HOUR));
        sum += state;
        assert!((row_sum - sum).abs() < 1e-6, "sum continuous at {start}");
    }
    assert_eq!(import(&meter, &db, &store, now, "2024.3.3", Options::default()).unwrap().ha.rows_imported(), 0, "then a rerun imports nothing");
}

#[test]
fn daily_values_are_rows_not_holes_and_a_missing_day_is_one_hole() {
    let db = Db::default();
    let store = MemoryStore::default();
    let first = SPRING_DAY + 60 * DAY;
    let days: Vec<IntervalEnergy> = (0..20).filter(|n| *n != 7).map(|n| IntervalEnergy { start: first + n * DAY, end: first + (n + 1) * DAY, kwh: 10.0 + n as f64 }).collect();
    let meter = Meter::new(0, 0, wh, |_| false);
    *meter.data.borrow_mut() = days;
    let run = import(&meter, &db, &store, first + 25 * DAY, "2024.3.3", Options::default()).unwrap();
    assert_eq!(rows(&db, CONSUMPTION, 0, i64::MAX).len(), 19, "a row per day, at its first hour");
    assert_eq!(run.report["ha"]["holes"], 1, "the missing day is the only hole: {}", run.report);
}
