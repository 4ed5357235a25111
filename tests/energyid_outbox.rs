//! The outbox and the upload policy in virtual time: batching, spacing,
//! refusals, outages and cumulative checks, against a fake EnergyID.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use std::time::Duration;
use support::{run, MemoryStore, RoutedHttp, VirtualClock};
use wattbridge::core::{Error, ErrorCode, HttpRequest, HttpResponse, Secret};
use wattbridge::energyid::client::{ClaimInfo, FlushOptions};
use wattbridge::energyid::{EnergyIdConfig, EnergyIdDevice, Reading};

const NOW: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z
const CLAIMED: &str = r#"{"webhookUrl":"https://hooks.energyid.eu/webhook-in","headers":{"authorization":"Bearer SECRET-JWT"},"webhookPolicy":{"uploadInterval":60},"recordName":"Home","recordNumber":"EA-1","apiAccessToken":"SECRET-API"}"#;

/// A fake EnergyID: claimed hello, a webhook that enforces 60 s between POSTs
/// and keeps each (key, ts) once, and a queue of scripted answers.
#[derive(Default)]
struct Fake {
    posts: Vec<(i64, usize)>,
    accepted: BTreeMap<(String, i64), f64>,
    script: VecDeque<Result<HttpResponse, Error>>,
    refuse_ts: Option<i64>,
    /// POSTs refused as closer than the policy allows.
    throttled: usize,
}

struct Rig {
    device: EnergyIdDevice<RoutedHttp, MemoryStore, VirtualClock>,
    fake: Rc<RefCell<Fake>>,
    clock: VirtualClock,
    store: MemoryStore,
}

fn rig() -> Rig {
    rig_with(MemoryStore::default(), 1000)
}

fn device_config(batch_cap: usize) -> EnergyIdConfig {
    EnergyIdConfig {
        hello_url: "https://hooks.energyid.eu/hello".into(),
        provisioning_key: Secret::new("pk"),
        provisioning_secret: Secret::new("ps"),
        device_id: Some("dev-1".into()),
        device_name: "Home".into(),
        firmware_version: None,
        batch_cap,
        allowed_keys: vec!["water-softener".into()],
    }
}

fn rig_with(store: MemoryStore, batch_cap: usize) -> Rig {
    let clock = VirtualClock::at_secs(NOW);
    let fake: Rc<RefCell<Fake>> = Rc::default();
    let (f, c) = (fake.clone(), clock.clone());
    let http = RoutedHttp::new(move |request: &HttpRequest| answer(&mut f.borrow_mut(), c.now(), request));
    let config = device_config(batch_cap);
    let device = EnergyIdDevice::new(config, http, store.clone(), clock.clone()).unwrap();
    Rig { device, fake, clock, store }
}

fn answer(fake: &mut Fake, now: i64, request: &HttpRequest) -> Result<HttpResponse, Error> {
    if request.url.ends_with("/hello") {
        return Ok(HttpResponse::new(200, CLAIMED));
    }
    if request.url.contains("/directives") {
        return Ok(HttpResponse::new(200, r#"[{"id":"d1","title":"Cheap hours","properties":[]}]"#));
    }
    if let Some(scripted) = fake.script.pop_front() {
        return scripted;
    }
    if let Some(&(last, _)) = fake.posts.last() {
        if now - last < 60_000 {
            let wait = (60_000 - (now - last) + 999) / 1000;
            fake.throttled += 1;
            return Ok(HttpResponse::new(429, "").with_header("Retry-After", &wait.to_string()));
        }
    }
    let body: serde_json::Value = serde_json::from_str(request.body.as_deref().unwrap()).unwrap();
    let objects = match body {
        serde_json::Value::Array(items) => items,
        one => vec![one],
    };
    if objects.iter().any(|o| Some(o["ts"].as_i64().unwrap()) == fake.refuse_ts) {
        return Ok(HttpResponse::new(400, r#"{"error":"value out of range"}"#));
    }
    fake.posts.push((now, objects.len()));
    for object in objects {
        let ts = object["ts"].as_i64().unwrap();
        for (key, value) in object.as_object().unwrap().iter().filter(|(k, _)| *k != "ts") {
            fake.accepted.insert((key.clone(), ts), value.as_f64().unwrap());
        }
    }
    Ok(HttpResponse::new(202, ""))
}

/// `n` half-hourly `el` readings from a year ago, rising by 0.25 kWh each.
fn half_hours(n: usize) -> Vec<Reading> {
    (0..n)
        .map(|i| Reading { ts: NOW - 366 * 86_400 + i as i64 * 1800, values: [("el".to_owned(), 1000.0 + i as f64 * 0.25)].into() })
        .collect()
}

fn flush_all(rig: &Rig) -> wattbridge::core::Result<wattbridge::energyid::SendReport> {
    run(rig.device.flush(FlushOptions { max_wait: Duration::from_secs(3600) }, |_, _| {}))
}

#[test]
fn a_year_of_half_hours_goes_out_in_18_posts_a_minute_apart() {
    let r = rig();
    assert_eq!(run(r.device.enqueue(&half_hours(17_520))).unwrap(), 17_520);
    assert_eq!(run(r.device.status()).unwrap().outbox, 17_520);
    let start = r.clock.now();
    let report = flush_all(&r).unwrap();
    assert_eq!((report.readings, report.requests, report.remaining), (17_520, 18, 0));
    let fake = r.fake.borrow();
    assert_eq!(fake.posts.len(), 18);
    assert!(fake.posts.iter().all(|(_, n)| *n <= 1000));
    assert!(fake.posts.windows(2).all(|w| w[1].0 - w[0].0 >= 60_000), "two POSTs closer than uploadInterval");
    assert_eq!(fake.accepted.len(), 17_520);
    assert_eq!(r.clock.now() - start, 17 * 60_000, "17 waits of a minute, no more");
    assert_eq!(run(r.device.status()).unwrap().outbox, 0);
}

#[test]
fn requeuing_the_same_key_and_time_replaces_the_value() {
    let r = rig();
    let one = |v: f64| Reading { ts: NOW - 3600, values: [("el".to_owned(), v), ("pwr".to_owned(), 2.0)].into() };
    run(r.device.enqueue(&[one(10.0)])).unwrap();
    run(r.device.enqueue(&[one(10.5)])).unwrap();
    assert_eq!(run(r.device.status()).unwrap().outbox, 2, "el and pwr once each");
    flush_all(&r).unwrap();
    assert_eq!(r.fake.borrow().accepted[&("el".to_owned(), NOW - 3600)], 10.5);
}

#[test]
fn a_refused_reading_is_quarantined_with_the_reason_and_the_rest_goes_on() {
    let r = rig_with(MemoryStore::default(), 8);
    let readings = half_hours(20);
    r.fake.borrow_mut().refuse_ts = Some(readings[13].ts);
    run(r.device.enqueue(&readings)).unwrap();
    let report = flush_all(&r).unwrap();
    assert_eq!((report.readings, report.quarantined, report.remaining), (19, 1, 0));
    let fake = r.fake.borrow();
    assert_eq!(fake.accepted.len(), 19);
    assert!(!fake.accepted.contains_key(&("el".to_owned(), readings[13].ts)));
    let quarantine = r.store.doc("energyid/quarantine").unwrap();
    assert!(quarantine.contains("value out of range") && quarantine.contains(&readings[13].ts.to_string()), "{quarantine}");
    assert_eq!(run(r.device.status()).unwrap().quarantined, 1);
}

#[test]
fn a_disabled_webhook_stops_with_a_clear_error_and_keeps_everything() {
    let r = rig();
    run(r.device.enqueue(&half_hours(5))).unwrap();
    r.fake.borrow_mut().script.push_back(Ok(HttpResponse::new(403, "")));
    let err = flush_all(&r).unwrap_err();
    assert_eq!(err.code, ErrorCode::WebhookDisabled);
    assert!(err.message.contains("disabled for this record") && err.message.contains("stay queued"), "{}", err.message);
    assert_eq!(run(r.device.status()).unwrap().outbox, 5);
}

#[test]
fn an_outage_stops_after_three_tries_and_the_next_flush_delivers_each_reading_once() {
    let r = rig();
    run(r.device.enqueue(&half_hours(1500))).unwrap();
    {
        let mut fake = r.fake.borrow_mut();
        // The first batch goes through; then the service falls over.
        fake.script.push_back(Ok(HttpResponse::new(202, "")));
        fake.script.push_back(Ok(HttpResponse::new(500, "")));
        fake.script.push_back(Err(Error::new(ErrorCode::Network, "connection reset")));
        fake.script.push_back(Ok(HttpResponse::new(503, "")));
    }
    let err = flush_all(&r).unwrap_err();
    assert_eq!(err.code, ErrorCode::Unavailable);
    assert_eq!(run(r.device.status()).unwrap().outbox, 500, "the answered batch left, the rest waits");
    r.clock.advance(Duration::from_secs(3600));
    let report = flush_all(&r).unwrap();
    assert_eq!((report.readings, report.remaining), (500, 0));
    let fake = r.fake.borrow();
    // The scripted 202 was not recorded by the fake, so EnergyID holds the second half only once.
    assert_eq!(fake.accepted.len(), 500);
}

#[test]
fn the_policy_is_kept_across_runs_and_a_flush_that_cannot_wait_says_when() {
    let r = rig();
    run(r.device.enqueue(&half_hours(3))).unwrap();
    flush_all(&r).unwrap();
    run(r.device.enqueue(&half_hours(4)[3..])).unwrap();
    let report = run(r.device.flush(FlushOptions { max_wait: Duration::ZERO }, |_, _| {})).unwrap();
    assert_eq!((report.requests, report.remaining), (0, 1));
    assert_eq!(report.next_upload_at_ms, Some(NOW * 1000 + 60_000));
    // A new device object on the same store (the next run) remembers the last POST.
    let again = rig_with(r.store.clone(), 1000);
    again.clock.advance(Duration::from_secs(30));
    let report = run(again.device.flush(FlushOptions { max_wait: Duration::ZERO }, |_, _| {})).unwrap();
    assert_eq!(report.requests, 0);
}

#[test]
fn cumulative_readings_may_not_go_down_and_nan_is_refused() {
    let r = rig();
    let at = |ts: i64, el: f64| Reading { ts, values: [("el".to_owned(), el)].into() };
    run(r.device.enqueue(&[at(NOW - 7200, 100.0), at(NOW - 3600, 101.0)])).unwrap();
    let err = run(r.device.enqueue(&[at(NOW - 1800, 99.5)])).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    assert!(err.message.contains("'el'") && err.message.contains("99.5") && err.message.contains("101") && err.message.contains(&(NOW - 1800).to_string()), "{}", err.message);
    assert_eq!(run(r.device.status()).unwrap().outbox, 2, "nothing of a refused call is queued");
    // After delivery the last value still counts.
    flush_all(&r).unwrap();
    assert!(run(r.device.enqueue(&[at(NOW - 60, 100.5)])).is_err());
    // Gauges and allowed custom keys may go down.
    let gauge = |ts: i64, v: f64| Reading { ts, values: [("pwr".to_owned(), v), ("water-softener".to_owned(), v)].into() };
    run(r.device.enqueue(&[gauge(NOW - 120, 5.0), gauge(NOW - 60, 1.0)])).unwrap();
    let nan = Reading { ts: NOW, values: [("el".to_owned(), f64::NAN)].into() };
    assert!(run(r.device.enqueue(&[nan])).unwrap_err().message.contains("finite"));
    let unknown = Reading { ts: NOW, values: [("elec".to_owned(), 1.0)].into() };
    assert!(run(r.device.enqueue(&[unknown])).unwrap_err().message.contains("'elec'"));
}

#[test]
fn claim_info_and_directives() {
    let r = rig();
    assert!(matches!(run(r.device.claim_info()).unwrap(), ClaimInfo::AlreadyClaimed { record_number: Some(ref n), .. } if n == "EA-1"));
    let list = run(r.device.directives(None)).unwrap();
    assert_eq!(list[0]["title"], "Cheap hours");
}

/// A store that remembers which documents were read.
#[derive(Clone, Default)]
struct CountingStore {
    inner: MemoryStore,
    reads: Rc<RefCell<Vec<String>>>,
}

impl wattbridge::core::Store for CountingStore {
    async fn get(&self, key: &str) -> wattbridge::core::Result<Option<String>> {
        self.reads.borrow_mut().push(key.to_owned());
        self.inner.get(key).await
    }
    async fn put(&self, key: &str, document: &str) -> wattbridge::core::Result<()> {
        self.inner.put(key, document).await
    }
    async fn delete(&self, key: &str) -> wattbridge::core::Result<()> {
        self.inner.delete(key).await
    }
    async fn locked<T>(&self, key: &str, change: impl std::future::Future<Output = wattbridge::core::Result<T>>) -> wattbridge::core::Result<T> {
        self.inner.locked(key, change).await
    }
}

#[test]
fn a_backfill_queued_a_month_at_a_time_reads_only_the_buckets_it_adds_to() {
    use wattbridge::energyid::outbox::Outbox;
    let store = CountingStore::default();
    let outbox = Outbox::new(&store);
    let year = half_hours(17_520);
    let months: Vec<&[Reading]> = year.chunks(1488).collect();
    for month in &months[..months.len() - 1] {
        run(outbox.enqueue(month)).unwrap();
    }
    store.reads.borrow_mut().clear();
    let last = months[months.len() - 1];
    run(outbox.enqueue(last)).unwrap();
    let buckets: Vec<String> = store.reads.borrow().iter().filter(|k| k.starts_with("energyid/outbox/")).cloned().collect();
    let added: std::collections::BTreeSet<String> = last.iter().map(|r| format!("energyid/outbox/{}", r.ts.div_euclid(30 * 86_400))).collect();
    assert!(!buckets.is_empty() && buckets.iter().all(|k| added.contains(k)), "read {buckets:?}, added to {added:?}");
    assert_eq!(run(outbox.len()).unwrap(), 17_520);

    // The quick check still refuses a value below the newest one queued.
    let below = Reading { ts: NOW + 3600, values: [("el".to_owned(), 1.0)].into() };
    assert!(run(outbox.enqueue(&[below])).unwrap_err().message.contains("cannot go down"));
}

#[test]
fn after_a_quarantine_the_check_walks_the_queue_again() {
    let r = rig_with(MemoryStore::default(), 8);
    let readings = half_hours(20);
    // The newest reading is refused and set aside; the queue's last value is then readings[18].
    r.fake.borrow_mut().refuse_ts = Some(readings[19].ts);
    run(r.device.enqueue(&readings)).unwrap();
    flush_all(&r).unwrap();
    assert_eq!(run(r.device.status()).unwrap().quarantined, 1);
    // Above the last delivered value, below the refused one: accepted now.
    let between = Reading { ts: readings[19].ts + 1800, values: [("el".to_owned(), readings[18].values.get("el").copied().unwrap() + 0.1)].into() };
    run(r.device.enqueue(&[between])).unwrap();
}

#[test]
fn the_upload_interval_counts_from_the_answer_for_the_next_process_too() {
    // A slow EnergyID: each POST is answered 5 s after it arrived, and the
    // policy counts from that answer.
    let clock = VirtualClock::at_secs(NOW);
    let store = MemoryStore::default();
    let answered: Rc<RefCell<Vec<(i64, u16)>>> = Rc::default();
    let (log, c) = (answered.clone(), clock.clone());
    let http = RoutedHttp::new(move |request: &HttpRequest| {
        if request.url.ends_with("/hello") {
            return Ok(HttpResponse::new(200, CLAIMED));
        }
        let arrived = c.now();
        let too_early = log.borrow().iter().rev().find(|(_, status)| *status == 202).is_some_and(|(last, _)| arrived - last < 60_000);
        c.advance(Duration::from_secs(5));
        let status = if too_early { 429 } else { 202 };
        log.borrow_mut().push((c.now(), status));
        Ok(HttpResponse::new(status, ""))
    });
    let device = |http: RoutedHttp| {
        let config = device_config(1);
        EnergyIdDevice::new(config, http, store.clone(), clock.clone()).unwrap()
    };
    let first = device(http.clone());
    run(first.enqueue(&half_hours(2))).unwrap();
    // One process sends what it may now (one batch), then ends.
    let report = run(first.flush(FlushOptions { max_wait: Duration::ZERO }, |_, _| {})).unwrap();
    assert_eq!(report.readings, 1);
    // Another process goes on with the rest.
    let second = device(http);
    let report = run(second.flush(FlushOptions { max_wait: Duration::from_secs(3600) }, |_, _| {})).unwrap();
    assert_eq!((report.readings, report.remaining), (1, 0));
    assert!(answered.borrow().iter().all(|(_, status)| *status == 202), "no POST came too early: {:?}", answered.borrow());
}

#[test]
fn a_crash_between_energyid_s_2xx_and_the_outbox_removal_resends_that_batch_once_more() {
    // Delivery is at least once (README): the crash window after EnergyID
    // accepted a batch and before the outbox let go of it.
    let clock = VirtualClock::at_secs(NOW);
    let store = MemoryStore::default();
    let accepted: Rc<RefCell<BTreeMap<(String, i64), f64>>> = Rc::default();
    let posts = Rc::new(std::cell::Cell::new(0));
    let (seen, count, crash, c) = (accepted.clone(), posts.clone(), store.clone(), clock.clone());
    let http = RoutedHttp::new(move |request: &HttpRequest| {
        if request.url.ends_with("/hello") {
            return Ok(HttpResponse::new(200, CLAIMED));
        }
        count.set(count.get() + 1);
        let body: serde_json::Value = serde_json::from_str(request.body.as_deref().unwrap()).unwrap();
        for object in body.as_array().cloned().unwrap_or_else(|| vec![body.clone()]) {
            let ts = object["ts"].as_i64().unwrap();
            for (key, value) in object.as_object().unwrap().iter().filter(|(k, _)| *k != "ts") {
                seen.borrow_mut().insert((key.clone(), ts), value.as_f64().unwrap());
            }
        }
        // Accepted; then the process "dies": nothing it writes from now on lands.
        if count.get() == 1 {
            crash.fail_puts(true);
        }
        c.advance(Duration::from_millis(10));
        Ok(HttpResponse::new(202, ""))
    });
    let config = device_config(1000);
    let readings = half_hours(10);
    let first = EnergyIdDevice::new(config.clone(), http.clone(), store.clone(), clock.clone()).unwrap();
    run(first.enqueue(&readings)).unwrap();
    let err = run(first.flush(FlushOptions { max_wait: Duration::ZERO }, |_, _| {})).unwrap_err();
    assert_eq!(err.code, ErrorCode::Storage);
    assert_eq!(accepted.borrow().len(), 10, "EnergyID has the batch");

    // The next run finds the batch still queued and sends it again; EnergyID
    // keeps one value per (key, ts), so its record is the same.
    store.fail_puts(false);
    clock.advance(Duration::from_secs(60));
    let second = EnergyIdDevice::new(config, http, store.clone(), clock.clone()).unwrap();
    let report = run(second.flush(FlushOptions { max_wait: Duration::from_secs(3600) }, |_, _| {})).unwrap();
    assert_eq!((report.readings, report.remaining), (10, 0));
    assert_eq!(posts.get(), 2, "the batch went twice");
    let expected: BTreeMap<(String, i64), f64> = readings.iter().map(|r| (("el".to_owned(), r.ts), r.values["el"])).collect();
    assert_eq!(*accepted.borrow(), expected, "every reading once in the record, with its value");
}

fn el_at(ts: i64, value: f64) -> Reading {
    Reading { ts, values: [("el".to_owned(), value)].into() }
}

/// The documented `updateSensor` + `startAutoSync` pattern: a reading queued
/// while a flush is sending and removing its batch. Each store operation
/// waits for the executor, so the two interleave at every await; for every
/// offset between them, both readings must reach EnergyID.
#[test]
fn a_reading_queued_while_a_flush_removes_its_batch_is_kept() {
    for head_start in 0..40 {
        let r = rig();
        run(r.device.enqueue(&[el_at(NOW - 3600, 10.0)])).unwrap();
        r.store.yielding(true);
        let late = async {
            for _ in 0..head_start {
                support::YieldOnce(false).await;
            }
            r.device.enqueue(&[el_at(NOW - 1800, 11.0)]).await
        };
        let flush = r.device.flush(FlushOptions { max_wait: Duration::ZERO }, |_, _| {});
        let (flushed, queued) = run(async { futures::join!(flush, late) });
        flushed.unwrap();
        queued.unwrap();
        flush_all(&r).unwrap();
        let fake = r.fake.borrow();
        let delivered: Vec<i64> = fake.accepted.keys().map(|(_, ts)| *ts).collect();
        assert_eq!(delivered, [NOW - 3600, NOW - 1800], "a reading was lost (enqueue started {head_start} awaits after the flush)");
        drop(fake);
        assert_eq!(run(r.device.status()).unwrap().outbox, 0, "the outbox count is wrong (head start {head_start})");
    }
}

/// Overlapping `send()` calls, as two event handlers make them: every reading
/// of every call reaches EnergyID, the outbox ends empty, and no two of them
/// take the same upload slot (EnergyID would answer 429).
#[test]
fn overlapping_sends_lose_nothing() {
    let r = rig();
    r.store.yielding(true);
    let calls: Vec<Vec<Reading>> = (0..20).map(|i| vec![el_at(NOW - 86_400 + i * 60, i as f64)]).collect();
    let reports = run(futures::future::join_all(calls.iter().map(|readings| r.device.send(readings))));
    assert!(reports.iter().all(Result::is_ok), "{reports:?}");
    flush_all(&r).unwrap();
    assert_eq!(r.fake.borrow().accepted.len(), 20, "readings were lost");
    assert_eq!(r.fake.borrow().throttled, 0, "two sends took the same upload slot");
    assert_eq!(run(r.device.status()).unwrap().outbox, 0);
}
