#![cfg(not(target_arch = "wasm32"))]
//! The EnergyID slice through the native seams: provisioning, claiming,
//! sending, and every way the service or the store can go wrong.

mod support;

use std::time::Duration;
use support::{run, MemoryStore, ScriptedHttp, VirtualClock};
use wattbridge::core::{Error, ErrorCode, Method, Secret};
use wattbridge::energyid::{EnergyIdConfig, EnergyIdDevice, HelloSummary, Reading};

const NOW: i64 = 1_731_974_400;
const UNCLAIMED: &str = r#"{"claimCode":"4H7A70","claimUrl":"https://app.energyid.eu/integrations/webhook-in/new?code=4H7A70","exp":1731975000}"#;
const CLAIMED: &str = r#"{"webhookUrl":"https://hooks.energyid.eu/webhook-in","headers":{"authorization":"Bearer webhook-jwt-SECRET","x-twin-id":"twin-1"},"webhookPolicy":{"uploadInterval":60},"recordName":"My home","recordNumber":"EA-12345678"}"#;

fn config() -> EnergyIdConfig {
    EnergyIdConfig {
        hello_url: "https://hooks.energyid.eu/hello".into(),
        provisioning_key: Secret::new("prov-key-SECRET"),
        provisioning_secret: Secret::new("prov-secret-SECRET"),
        device_id: None,
        device_name: "Home".into(),
        firmware_version: Some("0.1.0".into()),
        batch_cap: 1000,
        allowed_keys: Vec::new(),
    }
}

type Device = EnergyIdDevice<ScriptedHttp, MemoryStore, VirtualClock>;

fn device() -> (Device, ScriptedHttp, MemoryStore) {
    device_with(config(), MemoryStore::default())
}

fn device_with(config: EnergyIdConfig, store: MemoryStore) -> (Device, ScriptedHttp, MemoryStore) {
    let (device, http, store, _) = device_and_clock(config, store);
    (device, http, store)
}

fn device_and_clock(config: EnergyIdConfig, store: MemoryStore) -> (Device, ScriptedHttp, MemoryStore, VirtualClock) {
    let http = ScriptedHttp::default();
    let clock = VirtualClock::at_secs(NOW);
    let device = EnergyIdDevice::new(config, http.clone(), store.clone(), clock.clone()).unwrap();
    (device, http, store, clock)
}

fn reading() -> Reading {
    Reading { ts: NOW, values: [("el".to_owned(), 1250.5), ("pv".to_owned(), 3560.0)].into() }
}

#[test]
fn unclaimed_then_claimed_then_one_send() {
    let (device, http, store) = device();
    http.respond(200, UNCLAIMED);
    let first = run(device.hello()).unwrap();
    let HelloSummary::NeedsClaiming { claim_code, device_id, expires_at, .. } = first.clone() else {
        panic!("expected needs_claiming, got {first:?}")
    };
    assert_eq!(claim_code, "4H7A70");
    assert_eq!(expires_at, 1_731_975_000);
    assert!(device_id.starts_with("wattbridge-") && device_id.len() == 23, "{device_id}");

    // Not claimed yet: sending asks hello once more (the person may have claimed
    // meanwhile), then says how to claim, and posts nothing.
    http.respond(200, UNCLAIMED);
    let err = run(device.send(&[reading()])).unwrap_err();
    assert_eq!(err.code, ErrorCode::NotClaimed);
    assert!(err.message.contains("4H7A70"), "{}", err.message);

    http.respond(200, CLAIMED);
    let second = run(device.hello()).unwrap();
    assert!(matches!(&second, HelloSummary::Claimed { record_number: Some(n), .. } if n == "EA-12345678"));

    http.respond(202, "");
    let report = run(device.send(&[reading()])).unwrap();
    assert_eq!((report.readings, report.requests), (1, 1));

    let sent = http.sent();
    // hello, hello (the not-claimed send hellos once more), hello, webhook POST
    let hellos: Vec<_> = sent.iter().filter(|r| r.url.ends_with("/hello")).collect();
    assert!(hellos.iter().all(|r| r.body.as_deref().unwrap().contains(&format!("\"deviceId\":\"{device_id}\""))),
        "the generated device id is remembered across hellos");
    let post = sent.last().unwrap();
    assert_eq!((post.method, post.url.as_str()), (Method::Post, "https://hooks.energyid.eu/webhook-in"));
    assert_eq!(post.body.as_deref(), Some(r#"{"ts":1731974400,"el":1250.5,"pv":3560.0}"#));
    let header = |name: &str| post.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.expose().to_owned());
    assert_eq!(header("authorization").as_deref(), Some("Bearer webhook-jwt-SECRET"));
    assert_eq!(header("x-twin-id").as_deref(), Some("twin-1"));

    // Nothing printable carries a secret; the store (the 0600 state file) does hold the headers.
    let printable = format!("{first:?} {second:?} {err} {sent:?}");
    for secret in ["prov-key-SECRET", "prov-secret-SECRET", "webhook-jwt-SECRET"] {
        assert!(!printable.contains(secret), "{secret} leaked into {printable}");
    }
    assert!(store.doc("energyid").unwrap().contains("webhook-jwt-SECRET"));
}

#[test]
fn a_401_on_the_webhook_hellos_again_and_resends_once() {
    let (device, http, _, clock) = device_and_clock(config(), MemoryStore::default());
    http.respond(200, CLAIMED).respond(401, "").respond(200, CLAIMED).respond(200, "");
    let report = run(device.send(&[reading()])).unwrap();
    assert_eq!(report.requests, 2);
    assert_eq!(http.remaining(), 0);

    // A webhook that keeps refusing ends with auth_required, not a loop.
    clock.advance(std::time::Duration::from_secs(60));
    http.respond(404, "").respond(200, CLAIMED).respond(404, "");
    let err = run(device.send(&[reading()])).unwrap_err();
    assert_eq!(err.code, ErrorCode::AuthRequired);
    assert_eq!(http.remaining(), 0);
}

#[test]
fn configured_device_id_is_used_and_wrong_credentials_are_named() {
    let (device, http, _) = device_with(EnergyIdConfig { device_id: Some("my-meter".into()), ..config() }, MemoryStore::default());
    http.respond(401, r#"{"error":"unauthorized"}"#);
    let err = run(device.hello()).unwrap_err();
    assert_eq!((err.code, err.status, err.provider.as_deref()), (ErrorCode::InvalidCredentials, Some(401), Some("energyid")));
    assert!(err.message.contains("WATTBRIDGE_ENERGYID_PROVISIONING_KEY"), "{}", err.message);
    assert!(http.sent()[0].body.as_deref().unwrap().contains("\"deviceId\":\"my-meter\""));
}

#[test]
fn bad_answers_leave_the_stored_state_untouched() {
    let (device, http, store) = device();
    http.respond(200, CLAIMED);
    run(device.hello()).unwrap();
    let before = store.doc("energyid").unwrap();

    for (status, body, needle) in [
        (200, "<html><body>Maintenance</body></html>", "HTML"),
        (200, r#"{"webhookUrl":"https://hooks.energyid.eu/webhook-in","headers":{"authoriz"#, "truncated"),
        (200, r#"{"recordName":"x"}"#, "neither"),
        (502, "Bad gateway", "unavailable"),
    ] {
        http.respond(status, body);
        let err = run(device.hello()).unwrap_err();
        assert!(err.message.contains(needle), "{needle}: {}", err.message);
        assert_eq!(store.doc("energyid").unwrap(), before, "state changed after: {needle}");
    }

    http.fail(Error::new(ErrorCode::Network, "could not reach hooks.energyid.eu"));
    let err = run(device.hello()).unwrap_err();
    assert_eq!((err.code, err.provider.as_deref()), (ErrorCode::Network, Some("energyid")));
    assert_eq!(store.doc("energyid").unwrap(), before);
}

#[test]
fn a_corrupt_state_document_is_reported_and_kept() {
    let store = MemoryStore::default();
    store.set_doc("energyid", "{\"deviceId\": 12");
    let (device, http, store) = device_with(config(), store);
    let err = run(device.hello()).unwrap_err();
    assert_eq!(err.code, ErrorCode::CorruptState);
    assert!(err.message.contains("'energyid'") && err.message.contains("untouched"), "{}", err.message);
    assert!(http.sent().is_empty(), "no request is made on a corrupt state");
    assert_eq!(store.doc("energyid").unwrap(), "{\"deviceId\": 12");
}

#[test]
fn invalid_readings_are_refused_before_any_request() {
    let (device, http, _) = device();
    let bad = Reading { ts: NOW, values: [("el".to_owned(), f64::INFINITY)].into() };
    assert_eq!(run(device.send(&[bad])).unwrap_err().code, ErrorCode::InvalidInput);
    assert!(http.sent().is_empty());
}

#[test]
fn a_rate_limited_send_keeps_the_reading_queued_until_retry_after() {
    let (device, http, _) = device();
    http.respond(200, CLAIMED)
        .respond_with(wattbridge::core::HttpResponse::new(429, "").with_header("Retry-After", "90"));
    let report = run(device.send(&[reading()])).unwrap();
    assert_eq!((report.queued, report.readings, report.remaining), (2, 0, 2));
    assert_eq!(report.next_upload_at_ms, Some((NOW + 90) * 1000));
}

#[test]
fn insecure_or_incomplete_config_is_refused_up_front() {
    let make = |config| EnergyIdDevice::new(config, ScriptedHttp::default(), MemoryStore::default(), VirtualClock::at_secs(NOW));
    let err = make(EnergyIdConfig { hello_url: "http://hooks.energyid.eu/hello".into(), ..config() }).err().unwrap();
    assert_eq!(err.code, ErrorCode::InvalidConfig);
    let err = make(EnergyIdConfig { provisioning_secret: Secret::new(""), ..config() }).err().unwrap();
    assert!(err.message.contains("PROVISIONING_KEY"), "{}", err.message);
}

#[test]
fn waiting_for_the_claim_shows_each_new_code_and_ends_claimed() {
    let (device, http, _, clock) = device_and_clock(config(), MemoryStore::default());
    let code_b = UNCLAIMED.replace("4H7A70", "9Z9Z9Z");
    http.respond(200, UNCLAIMED).respond(200, UNCLAIMED).respond(200, &code_b).respond(200, CLAIMED);
    let shown = std::cell::RefCell::new(Vec::new());
    let start = clock.now();
    let done = run(device.wait_for_claim(Duration::from_secs(5), Duration::from_secs(600), |claim| shown.borrow_mut().push(claim.claim_code.clone()))).unwrap();
    assert!(matches!(done, HelloSummary::Claimed { .. }));
    assert_eq!(*shown.borrow(), ["4H7A70", "9Z9Z9Z"], "a new code after expiry is shown once");
    assert_eq!(clock.now() - start, 15_000);

    // Nobody claims: a clear not_claimed at the deadline.
    let (device, http, _, _) = device_and_clock(config(), MemoryStore::default());
    for _ in 0..3 {
        http.respond(200, UNCLAIMED);
    }
    let err = run(device.wait_for_claim(Duration::from_secs(5), Duration::from_secs(12), |_| {})).unwrap_err();
    assert_eq!(err.code, ErrorCode::NotClaimed);
}

/// `backoff(tries)` of core::clock with the jitter the clock will give: 2 s, 4 s, …, plus up to half again.
fn backoff_ms(tries: u32, jitter: f64) -> i64 {
    let base = 2000i64 << (tries - 1);
    base + (base as f64 * 0.5 * jitter) as i64
}

#[test]
fn a_429_without_retry_after_backs_off_with_jitter_and_gives_up_after_three_tries() {
    let (device, http, _, clock) = device_and_clock(config(), MemoryStore::default());
    // No upload interval in the policy, and no Retry-After: nothing said how long to wait.
    http.respond(200, &CLAIMED.replace(r#""webhookPolicy":{"uploadInterval":60}"#, r#""webhookPolicy":{}"#));
    for _ in 0..10 {
        http.respond(429, "");
    }
    run(device.enqueue(&[reading()])).unwrap();
    let jitter = clock.peek_fractions(2);
    let start = clock.now();
    let err = run(device.flush(wattbridge::energyid::client::FlushOptions { max_wait: Duration::from_secs(3600) }, |_, _| {})).unwrap_err();
    assert_eq!(err.code, ErrorCode::RateLimited);
    assert!(err.message.contains("stay queued"), "{}", err.message);
    let posts = http.sent().iter().filter(|r| r.method == Method::Post && r.url.ends_with("/webhook-in")).count();
    assert_eq!(posts, 3, "three tries, not a hot loop");
    assert_eq!(clock.now() - start, backoff_ms(1, jitter[0]) + backoff_ms(2, jitter[1]), "2 s then 4 s, each plus its jitter");
    assert_eq!(run(device.status()).unwrap().outbox, 2, "the reading stays queued");
}

#[test]
fn a_429_with_an_http_date_waits_until_that_date() {
    let (device, http, _) = device();
    let later = httpdate::fmt_http_date(std::time::UNIX_EPOCH + Duration::from_secs(NOW as u64 + 120));
    http.respond(200, CLAIMED).respond_with(wattbridge::core::HttpResponse::new(429, "").with_header("Retry-After", &later));
    let report = run(device.send(&[reading()])).unwrap();
    assert_eq!(report.next_upload_at_ms, Some((NOW + 120) * 1000));
    assert_eq!(report.remaining, 2);
}

#[test]
fn an_upload_interval_beyond_a_day_is_read_as_a_day() {
    // Found by the fuzzer: 4.7e16 s overflowed the time of the next upload.
    let (device, http, _) = device();
    http.respond(200, &CLAIMED.replace(r#""uploadInterval":60"#, r#""uploadInterval":46744073709551616"#)).respond(202, "");
    run(device.send(&[reading()])).unwrap();
    let later = Reading { ts: NOW + 60, ..reading() };
    let report = run(device.send(&[later])).unwrap();
    assert_eq!((report.requests, report.remaining), (0, 2));
    assert_eq!(report.next_upload_at_ms, Some(NOW * 1000 + 24 * 3600 * 1000));
}
