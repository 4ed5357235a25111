//! Linky end to end in virtual time: recorded answers, DST days, request
//! planning and politeness against a fake Enedis.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;
use support::{run, MemoryStore, NativeCrypto, RoutedHttp, VirtualClock};
use wattbridge::core::{Error, ErrorCode, HttpRequest, HttpResponse, Secret};
use wattbridge::linky::api::{data_request, parse_answer, status_error, Relay};
use wattbridge::core::time::{format_paris, format_utc, paris_date, paris_local};
use wattbridge::linky::{Date, Linky, LinkyConfig, Series};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/linky/");
const METER: &str = "11111111111111";
const DAY_MS: i64 = 86_400_000;

fn fixture(name: &str) -> HttpResponse {
    HttpResponse::new(200, std::fs::read_to_string(format!("{FIXTURES}{name}")).expect("fixture"))
}

fn d(text: &str) -> Date {
    Date::parse(text).unwrap()
}

fn total_wh(series: Series, response: &HttpResponse) -> f64 {
    parse_answer(series, response).unwrap().points.iter().map(|p| p.energy_wh(series).unwrap()).sum()
}

#[test]
fn recorded_curves_integrate_to_the_daily_totals() {
    let curve = fixture("consumption_load_curve_2023-04-01_2023-04-02.json");
    let answer = parse_answer(Series::ConsumptionLoadCurve, &curve).unwrap();
    assert_eq!(answer.points.len(), 48);
    assert!(answer.holes.is_empty());
    assert_eq!(format_paris(answer.points[0].start), "2023-04-01T00:00:00+02:00");
    assert_eq!(format_paris(answer.points[47].end), "2023-04-02T00:00:00+02:00");
    assert_eq!(total_wh(Series::ConsumptionLoadCurve, &curve), 11_776.0);
    let daily = parse_answer(Series::DailyConsumption, &fixture("daily_consumption_2023-04-01_2023-04-04.json")).unwrap();
    assert_eq!(daily.points[0].value, 11_776.0, "the curve sums to Enedis' own daily figure");
    assert_eq!(total_wh(Series::ProductionLoadCurve, &fixture("production_load_curve_2023-04-01_2023-04-02.json")), 643.0);
    let production = parse_answer(Series::DailyProduction, &fixture("daily_production_2023-04-01_2023-04-04.json")).unwrap();
    assert_eq!(production.points[0].value, 643.0);
}

/// Every recorded answer, none left out (a new recording is read here too):
/// data through the parser, errors through the classifier the fetch uses.
#[test]
fn every_recorded_answer_is_read_or_classified() {
    let mut seen: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(FIXTURES).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let Some(stem) = name.strip_suffix(".json") else { continue };
        let body = std::fs::read_to_string(format!("{FIXTURES}{name}")).unwrap();
        let outcome = match stem.strip_prefix("error_") {
            Some(rest) => {
                let status: u16 = rest[..3].parse().unwrap();
                let error = status_error(&HttpResponse::new(status, body), Series::DailyConsumption, METER, d("2023-04-02"), d("2023-04-01"));
                format!("{} {:?} {}", error.code, error.status, error.message)
            }
            None => {
                let path = &stem[..stem.find("_20").unwrap()];
                let series = Series::ALL.into_iter().find(|s| s.enedis_path().ends_with(&format!("/{path}"))).unwrap();
                let answer = parse_answer(series, &HttpResponse::new(200, body)).unwrap();
                let wh: Option<f64> = answer.points.iter().map(|p| p.energy_wh(series)).sum();
                format!("{} points, {wh:?} Wh, {} holes", answer.points.len(), answer.holes.len())
            }
        };
        seen.push(format!("{stem}: {outcome}"));
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            "consumption_load_curve_2023-04-01_2023-04-02: 48 points, Some(11776.0) Wh, 0 holes",
            "daily_consumption_2023-04-01_2023-04-04: 3 points, Some(38997.0) Wh, 0 holes",
            "daily_consumption_max_power_2023-04-01_2023-04-04: 3 points, None Wh, 0 holes",
            "daily_production_2023-04-01_2023-04-04: 3 points, Some(16060.0) Wh, 0 holes",
            "error_400_invalid_request: invalid_input Some(400) Enedis refuses the request for daily of meter 11111111111111 from 2023-04-02 to 2023-04-01 (Enedis: Start date should be before end date)",
            "error_429_quota: rate_limited Some(429) Enedis quota reached while fetching daily of meter 11111111111111 from 2023-04-02 to 2023-04-01 (Enedis: Message throttled out)",
            "production_load_curve_2023-04-01_2023-04-02: 48 points, Some(643.0) Wh, 0 holes",
        ]
    );
}

#[test]
fn max_power_keeps_the_time_of_the_peak() {
    let answer = parse_answer(Series::MaxPower, &fixture("daily_consumption_max_power_2023-04-01_2023-04-04.json")).unwrap();
    let first = answer.points[0];
    assert_eq!(first.value, 4638.0);
    assert_eq!(format_paris(first.start), "2023-04-01T00:00:00+02:00");
    assert_eq!(format_utc(first.at.unwrap()), "2023-04-01T10:06:20Z");
    assert_eq!(answer.points.len(), 3);
}

/// A load curve answer from local stamps, 30-minute steps, all at `watts`.
fn curve_answer(stamps: &[String], watts: u32) -> HttpResponse {
    let items: Vec<String> = stamps
        .iter()
        .map(|s| format!(r#"{{"value":"{watts}","date":"{s}","interval_length":"PT30M","measure_type":"B"}}"#))
        .collect();
    HttpResponse::new(200, format!(r#"{{"meter_reading":{{"interval_reading":[{}]}}}}"#, items.join(",")))
}

/// Wall-clock half-hour ends of a day, written by hand from the rules of the
/// day: `hours` lists the local hours that exist, in the order a clock shows them.
fn stamps(date: &str, next: &str, hours: &[u32]) -> Vec<String> {
    let mut out = Vec::new();
    let mut first = true;
    for &h in hours {
        for m in [0, 30] {
            if first && m == 0 {
                first = false;
                continue; // the day's first stamp is 00:30
            }
            out.push(format!("{date} {h:02}:{m:02}:00"));
        }
    }
    out.push(format!("{next} 00:00:00"));
    out
}

#[test]
fn the_spring_forward_day_has_46_half_hours() {
    let hours: Vec<u32> = (0..24).filter(|h| *h != 2).collect();
    let answer = parse_answer(Series::ConsumptionLoadCurve, &curve_answer(&stamps("2024-03-31", "2024-04-01", &hours), 1000)).unwrap();
    assert_eq!(answer.points.len(), 46);
    assert!(answer.holes.is_empty(), "{:?}", answer.holes);
    // 01:30 CET ends at 00:30Z; the next stamp, 03:00 CEST, ends at 01:00Z.
    assert_eq!(format_utc(answer.points[2].end), "2024-03-31T00:30:00Z");
    assert_eq!(format_utc(answer.points[3].end), "2024-03-31T01:00:00Z");
    assert_eq!(format_utc(answer.points[0].start), "2024-03-30T23:00:00Z");
    assert_eq!(format_utc(answer.points[45].end), "2024-03-31T22:00:00Z");
    assert_eq!(total_wh(Series::ConsumptionLoadCurve, &curve_answer(&stamps("2024-03-31", "2024-04-01", &hours), 1000)), 23_000.0);
}

#[test]
fn the_fall_back_day_has_50_half_hours_with_the_repeated_hour_in_order() {
    let hours: Vec<u32> = (0..=2).chain(2..24).collect();
    let answer = parse_answer(Series::ConsumptionLoadCurve, &curve_answer(&stamps("2023-10-29", "2023-10-30", &hours), 1000)).unwrap();
    assert_eq!(answer.points.len(), 50);
    assert!(answer.holes.is_empty(), "{:?}", answer.holes);
    let ends: Vec<String> = answer.points[3..8].iter().map(|p| format_utc(p.end)).collect();
    // 02:00 CEST, 02:30 CEST, then 02:00 CET, 02:30 CET, 03:00 CET.
    assert_eq!(ends, ["2023-10-29T00:00:00Z", "2023-10-29T00:30:00Z", "2023-10-29T01:00:00Z", "2023-10-29T01:30:00Z", "2023-10-29T02:00:00Z"]);
    assert_eq!(format_utc(answer.points[0].start), "2023-10-28T22:00:00Z");
    assert_eq!(format_utc(answer.points[49].end), "2023-10-29T23:00:00Z");
}

// ---- a fake Enedis behind the gateway ----

/// Today is 2026-11-21 in Paris; data exist up to yesterday.
const NOW_MS: i64 = 1_795_258_800_000; // 2026-11-21T09:00:00Z

fn query(request: &HttpRequest, name: &str) -> Option<String> {
    let (_, query) = request.url.split_once('?')?;
    form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// Serves every series for any window, with 30-minute curves of 2000 W.
fn enedis_answer(request: &HttpRequest) -> HttpResponse {
    let (start, end) = (d(&query(request, "start").unwrap()), d(&query(request, "end").unwrap()));
    let today = d("2026-11-21");
    let end = end.min(today);
    let curve = request.url.contains("load_curve");
    let mut items = Vec::new();
    let mut day = start;
    while day < end {
        if curve {
            let (from, to) = (day.paris_midnight_ms(), day.add_days(1).paris_midnight_ms());
            let mut t = from + 1_800_000;
            while t <= to {
                let (date, ms) = paris_local(t);
                let (date, ms) = if ms == 0 { (date.add_days(-1), DAY_MS) } else { (date, ms) };
                let stamp = if ms == DAY_MS { format!("{} 00:00:00", date.add_days(1)) } else { format!("{date} {:02}:{:02}:00", ms / 3_600_000, ms / 60_000 % 60) };
                items.push(format!(r#"{{"value":"2000","date":"{stamp}","interval_length":"PT30M"}}"#));
                t += 1_800_000;
            }
        } else {
            items.push(format!(r#"{{"value":"24000","date":"{day}"}}"#));
        }
        day = day.add_days(1);
    }
    HttpResponse::new(200, format!(r#"{{"meter_reading":{{"usage_point_id":"{METER}","interval_reading":[{}]}}}}"#, items.join(",")))
}

type Client = Linky<RoutedHttp, MemoryStore, VirtualClock, NativeCrypto>;

struct Rig {
    linky: Client,
    http: RoutedHttp,
    clock: VirtualClock,
}

fn logged_in_store() -> MemoryStore {
    let store = MemoryStore::default();
    store.set_doc(
        "tokens/linky",
        &format!(r#"{{"accessToken":"at-1","tokenType":"Bearer","refreshToken":"rt-1","expiresAtMs":{},"scopes":[],"obtainedAtMs":{NOW_MS},"extra":{{"usage_points_id":"{METER},22222222222222"}}}}"#, NOW_MS + 3 * 3_600_000),
    );
    store
}

fn rig(route: impl Fn(&HttpRequest) -> wattbridge::core::Result<HttpResponse> + 'static) -> Rig {
    rig_with(route, serde_json::json!({ "gatewayUrl": "https://gateway.example" }), logged_in_store())
}

fn rig_with(route: impl Fn(&HttpRequest) -> wattbridge::core::Result<HttpResponse> + 'static, config: serde_json::Value, store: MemoryStore) -> Rig {
    let http = RoutedHttp::new(route);
    let clock = VirtualClock::at_secs(NOW_MS / 1000);
    let config: LinkyConfig = serde_json::from_value(config).unwrap();
    let linky = Linky::new(config, http.clone(), store, clock.clone(), NativeCrypto).unwrap();
    Rig { linky, http, clock }
}

fn fetch(rig: &Rig, series: Series, from: Option<&str>) -> wattbridge::core::Result<wattbridge::linky::FetchReport> {
    run(rig.linky.fetch(series, from.map(d), None, |_| {}))
}

#[test]
fn a_full_backfill_costs_the_minimum_and_a_second_run_only_the_correction_window() {
    let times = Rc::new(std::cell::RefCell::new(Vec::new()));
    let clock_times = times.clone();
    let clock_cell: Rc<Cell<Option<VirtualClock>>> = Rc::new(Cell::new(None));
    let clock_for_route = clock_cell.clone();
    let r = rig(move |request| {
        let clock = clock_for_route.take().unwrap();
        clock_times.borrow_mut().push(clock.now());
        clock_for_route.set(Some(clock));
        Ok(enedis_answer(request))
    });
    clock_cell.set(Some(r.clock.clone()));

    let curve = fetch(&r, Series::ConsumptionLoadCurve, None).unwrap();
    // 24 months + 15 days before 2026-11-21 is 2024-11-06: 745 days in windows of 6.
    assert_eq!((curve.from, curve.to), (d("2024-11-06"), d("2026-11-21")));
    assert_eq!(curve.requests, 125);
    assert_eq!(curve.requests, curve.minimum_requests);
    assert_eq!(curve.points, 745 * 48 - 2 + 2, "23 h in March, 25 h in October");
    assert!(curve.holes.is_empty());
    let daily = fetch(&r, Series::DailyConsumption, None).unwrap();
    assert_eq!((daily.from, daily.requests, daily.minimum_requests), (d("2023-11-06"), 4, 4));
    assert_eq!(r.http.count(), 129);

    // Never more than 5 requests in any second.
    assert!(times.borrow().windows(6).all(|w| w[5] - w[0] >= 1000), "more than 5 requests in a second");

    let again = fetch(&r, Series::ConsumptionLoadCurve, None).unwrap();
    assert_eq!((again.windows, again.requests), (1, 1));
    let last = r.http.sent().last().unwrap().url.clone();
    assert!(last.contains("start=2026-11-18&end=2026-11-21"), "{last}");
    assert_eq!(fetch(&r, Series::DailyConsumption, None).unwrap().requests, 1);

    // A re-fetch overwrites: still one point per half-hour.
    let points = run(r.linky.points(Series::ConsumptionLoadCurve, d("2026-11-14"), d("2026-11-21"))).unwrap();
    assert_eq!(points.len(), 7 * 48);
    assert!(points.windows(2).all(|w| w[0].end == w[1].start));
}

#[test]
fn every_request_goes_to_the_gateway_proxy_with_the_bearer_token() {
    let r = rig(|request| Ok(enedis_answer(request)));
    fetch(&r, Series::MaxPower, Some("2026-11-01")).unwrap();
    let sent = r.http.sent();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].url.starts_with("https://gateway.example/data/proxy/metering_data_dcmp/v5/daily_consumption_max_power?start=2026-11-01&end=2026-11-21&usage_point_id=11111111111111"), "{}", sent[0].url);
    let auth = sent[0].headers.iter().find(|(k, _)| k == "authorization").unwrap();
    assert_eq!(auth.1.expose(), "Bearer at-1");
    assert!(!format!("{:?}", sent[0]).contains("at-1"), "the token is redacted in Debug");
}

fn throttled(retry_after: Option<&str>) -> HttpResponse {
    let body = std::fs::read_to_string(format!("{FIXTURES}error_429_quota.json")).unwrap();
    let response = HttpResponse::new(429, body);
    match retry_after {
        Some(seconds) => response.with_header("Retry-After", seconds),
        None => response,
    }
}

#[test]
fn a_429_with_retry_after_waits_that_long_and_one_without_backs_off_with_jitter() {
    let calls = Rc::new(Cell::new(0));
    let c = calls.clone();
    let r = rig(move |request| {
        c.set(c.get() + 1);
        Ok(match c.get() {
            1 => throttled(Some("7")),
            2 => throttled(None),
            _ => enedis_answer(request),
        })
    });
    let before = r.clock.now();
    let jitter = r.clock.peek_fractions(1)[0];
    let report = fetch(&r, Series::DailyConsumption, Some("2026-11-01")).unwrap();
    assert_eq!(report.requests, 3);
    let waited = r.clock.now() - before;
    // 7 s as told, then 4 s plus up to half again of backoff after the second
    // failure (the seeded jitter), and nothing else: each wait already spaces
    // the requests by more than the 5-a-second pacing.
    assert_eq!(waited, 7_000 + 4_000 + (4_000.0 * 0.5 * jitter) as i64, "jitter {jitter}");
}

#[test]
fn a_429_storm_stops_after_three_tries_with_a_resumable_error() {
    let storm = Rc::new(Cell::new(false));
    let s = storm.clone();
    let r = rig(move |request| Ok(if s.get() && request.url.contains("start=2026-11-") { enedis_answer(request) } else if s.get() { throttled(None) } else { enedis_answer(request) }));
    // First the newest window succeeds, then every other one is throttled.
    storm.set(true);
    let err = fetch(&r, Series::ConsumptionLoadCurve, Some("2026-10-01")).unwrap_err();
    assert_eq!(err.code, ErrorCode::RateLimited);
    assert!(err.message.contains("run the same fetch again later"), "{}", err.message);
    let sent = r.http.count();
    // Windows inside November succeed; the first October one is tried 3 times.
    let november_windows = r.http.sent().iter().filter(|q| q.url.contains("start=2026-11-")).count();
    assert_eq!(sent, november_windows + 3);
    // The rerun resumes: stored November days are not asked again (beyond the correction window).
    storm.set(false);
    let report = fetch(&r, Series::ConsumptionLoadCurve, Some("2026-10-01")).unwrap();
    // October 1 – November 2 is 33 days (6 windows), plus the 3-day correction window.
    assert_eq!(report.requests, 7);
    let points = run(r.linky.points(Series::ConsumptionLoadCurve, d("2026-10-01"), d("2026-11-21"))).unwrap();
    assert_eq!(points.len(), 51 * 48 + 2, "October has a 25-hour day");
}

#[test]
fn server_errors_are_retried_but_refusals_are_not() {
    let calls = Rc::new(Cell::new(0));
    let c = calls.clone();
    let r = rig(move |request| {
        c.set(c.get() + 1);
        match c.get() {
            1 => Ok(HttpResponse::new(500, r#"{"error":"ADAM-DC-0500","error_description":"technical error"}"#)),
            2 => Err(Error::new(ErrorCode::Network, "connection reset")),
            _ => Ok(enedis_answer(request)),
        }
    });
    assert_eq!(fetch(&r, Series::DailyConsumption, Some("2026-11-01")).unwrap().requests, 3);

    for (status, body, code) in [
        (400, r#"{"error":"Invalid_request","error_description":"Start date should be before end date."}"#, ErrorCode::InvalidInput),
        (403, r#"{"error":"ADAM-DC-0008","error_description":"No consent"}"#, ErrorCode::ConsentRequired),
        (400, r#"{"error":"ADAM-ERR0069","error_description":"wrong direction"}"#, ErrorCode::WrongDirection),
    ] {
        let r = rig(move |_| Ok(HttpResponse::new(status, body)));
        let err = fetch(&r, Series::DailyProduction, Some("2026-11-01")).unwrap_err();
        assert_eq!((err.code, err.status, r.http.count()), (code, Some(status), 1), "{body}");
    }
}

#[test]
fn no_data_on_the_first_window_says_to_turn_on_hourly_collection_after_one_request() {
    let r = rig(|_| Ok(HttpResponse::new(404, r#"{"error":"no_data_found","error_description":"no data"}"#)));
    let err = fetch(&r, Series::ConsumptionLoadCurve, None).unwrap_err();
    assert_eq!((err.code, r.http.count()), (ErrorCode::NoData, 1));
    assert!(err.message.contains("hourly collection"), "{}", err.message);
}

#[test]
fn data_before_the_activation_date_are_found_by_bisection_once() {
    let activation = d("2026-03-10");
    let r = rig(move |request| {
        let start = d(&query(request, "start").unwrap());
        Ok(if start < activation {
            HttpResponse::new(400, r#"{"error":"ADAM-ERR0123","error_description":"before activation"}"#)
        } else {
            enedis_answer(request)
        })
    });
    let report = fetch(&r, Series::DailyConsumption, None).unwrap();
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].code, "before_activation");
    assert_eq!(report.skipped[0].end, activation);
    let points = run(r.linky.points(Series::DailyConsumption, d("2023-01-01"), d("2026-11-21"))).unwrap();
    assert_eq!(points.len() as i32, d("2026-11-21").0 - activation.0, "every day since activation, none lost");
    // 1 window accepted, 1 refused, ≤ 9 probes (log2 365).
    assert!(report.requests <= 11, "{} requests", report.requests);
    // Next time nothing before the activation is asked.
    let count = r.http.count();
    let again = fetch(&r, Series::DailyConsumption, None).unwrap();
    assert_eq!((again.requests, r.http.count() - count), (1, 1));
}

/// A Conso API token for `meters` (its `sub`, which clients read).
fn conso_token(meters: &[&str]) -> String {
    let payload = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, serde_json::json!({ "sub": meters, "exp": 1_900_000_000 }).to_string());
    format!("eyJhbGciOiJIUzI1NiJ9.{payload}.c2ln")
}

/// The Conso API answers without the meter_reading envelope.
fn conso_answer(request: &HttpRequest) -> HttpResponse {
    let wrapped = enedis_answer(request).body;
    HttpResponse::new(200, wrapped.strip_prefix(r#"{"meter_reading":"#).unwrap().strip_suffix('}').unwrap())
}

/// A Linky on the Conso API of `METER`, with `settings` added to its config.
fn conso_rig(store: MemoryStore, settings: serde_json::Value) -> Rig {
    let mut config = serde_json::json!({ "consoToken": conso_token(&[METER]), "consoApiUrl": "https://conso.example/api" });
    config.as_object_mut().unwrap().extend(settings.as_object().unwrap().clone());
    rig_with(|request| Ok(conso_answer(request)), config, store)
}

#[test]
fn a_conso_token_alone_is_enough() {
    let r = rig_with(
        |request| Ok(conso_answer(request)),
        serde_json::json!({ "consoToken": conso_token(&["33333333333333"]), "consoApiUrl": "https://conso.example/api" }),
        MemoryStore::default(),
    );
    assert_eq!(r.linky.access(), "conso");
    assert_eq!(run(r.linky.meters()).unwrap(), ["33333333333333"]);
    let report = fetch(&r, Series::DailyConsumption, Some("2026-11-10")).unwrap();
    assert_eq!(report.points, 11);
    let url = &r.http.sent()[0].url;
    assert_eq!(url, "https://conso.example/api/daily_consumption?prm=33333333333333&start=2026-11-10&end=2026-11-21");
}

// ---- the Conso API's 12-hour budget ----

/// The first day of the stored load curve.
fn first_stored_day(r: &Rig) -> Date {
    let (first, _) = run(r.linky.stored_span(Series::ConsumptionLoadCurve)).unwrap().unwrap();
    paris_date(first * 1000)
}

#[test]
fn a_conso_backfill_larger_than_the_budget_stops_at_it_keeps_every_window_and_continues_when_the_window_rolls() {
    let r = conso_rig(MemoryStore::default(), serde_json::json!({}));
    let started = r.clock.now();
    // Two years of load curve are 125 windows; the budget is 90 per 12 h.
    let err = fetch(&r, Series::ConsumptionLoadCurve, None).unwrap_err();
    assert_eq!(err.code, ErrorCode::RateLimited);
    assert_eq!(r.http.count(), 90, "the 91st request never left");
    // It continues when the first request leaves the 12-hour window.
    let retry_after = err.retry_after.unwrap();
    assert_eq!(retry_after, ((started + 12 * 3_600_000 - r.clock.now()) as u64).div_ceil(1000));
    assert!(err.message.contains("about 100 requests in 12 h"), "{}", err.message);
    assert!(err.message.contains("budget of 90 (linky.conso_budget)"), "{}", err.message);
    // NOW is noon in Paris (UTC+1 in November): 12 h later is midnight.
    assert!(err.message.contains("continue after 00:00 Paris time on 2026-11-22 (in 12 h 00 min)"), "{}", err.message);
    assert!(err.message.contains("90 of 125 windows of load-curve are stored"), "{}", err.message);
    // Nothing lost: the 90 newest windows (6 days each) are in the history, whole.
    assert_eq!(first_stored_day(&r), d("2026-11-21").add_days(-90 * 6));
    let stored = run(r.linky.points(Series::ConsumptionLoadCurve, d("2026-11-21").add_days(-540), d("2026-11-21"))).unwrap();
    assert_eq!(stored.len(), 540 * 48 + 2, "two October days of 25 h, one March day of 23 h");
    let status = run(r.linky.status()).unwrap().conso_budget.unwrap();
    assert_eq!((status.limit, status.left, status.window_secs), (90, 0, 12 * 3600));
    assert_eq!(status.frees_at_ms, Some(started + 12 * 3_600_000));

    // A second before then: still refused, without a request.
    r.clock.advance(Duration::from_secs(retry_after - 1));
    assert_eq!(fetch(&r, Series::ConsumptionLoadCurve, None).unwrap_err().code, ErrorCode::RateLimited);
    assert_eq!(r.http.count(), 90);

    // Then the window rolls, request by request as they went out, and it is
    // a new day in Paris: the next run asks exactly what is missing (204
    // days: 34 windows) and the correction window, which holds the new day.
    r.clock.advance(Duration::from_secs(1));
    let sent_before = r.http.sent().len();
    let rest = fetch(&r, Series::ConsumptionLoadCurve, None).unwrap();
    assert_eq!((rest.requests, rest.windows), (35, 35));
    let asked_again: Vec<(Date, Date)> = r.http.sent()[sent_before..]
        .iter()
        .map(|q| (d(&query(q, "start").unwrap()), d(&query(q, "end").unwrap())))
        .filter(|(start, end)| *end > d("2026-11-21").add_days(-540) && *start < d("2026-11-21"))
        .collect();
    assert_eq!(asked_again, [(d("2026-11-19"), d("2026-11-22"))], "only the correction window is asked again");
    assert_eq!(first_stored_day(&r), d("2024-11-07"));
    // (The fake Enedis has nothing after 2026-11-20.)
    let all = run(r.linky.points(Series::ConsumptionLoadCurve, d("2024-11-07"), d("2026-11-22"))).unwrap();
    assert_eq!(all.len(), 744 * 48, "two DST changes of each kind cancel out");
    assert!(all.windows(2).all(|w| w[0].end == w[1].start), "no gap where the two runs meet");
}

#[test]
fn the_conso_budget_is_a_setting_and_only_the_conso_api_has_one() {
    let r = conso_rig(MemoryStore::default(), serde_json::json!({ "consoBudget": 3 }));
    let err = fetch(&r, Series::ConsumptionLoadCurve, Some("2026-10-01")).unwrap_err();
    assert_eq!((err.code, r.http.count()), (ErrorCode::RateLimited, 3));
    assert!(err.message.contains("budget of 3"), "{}", err.message);

    let zero: LinkyConfig = serde_json::from_value(serde_json::json!({ "consoToken": conso_token(&[METER]), "consoBudget": 0 })).unwrap();
    let refused = Linky::new(zero, r.http.clone(), MemoryStore::default(), r.clock.clone(), NativeCrypto).err().unwrap();
    assert_eq!(refused.code, ErrorCode::InvalidConfig);
    assert!(refused.message.contains("linky.conso_budget"), "{}", refused.message);

    // The gateway has no such limit: 129 requests, nothing counted, no budget shown.
    let gateway = rig(|request| Ok(enedis_answer(request)));
    fetch(&gateway, Series::ConsumptionLoadCurve, None).unwrap();
    fetch(&gateway, Series::DailyConsumption, None).unwrap();
    assert_eq!(gateway.http.count(), 129);
    assert!(run(gateway.linky.status()).unwrap().conso_budget.is_none());
}

/// Two clients over one store (two CLI runs, a page and its sync job) spend
/// one budget; with one request left, one of two concurrent fetches gets it.
#[test]
fn two_conso_clients_over_one_store_share_the_budget() {
    let store = MemoryStore::default();
    let one = conso_rig(store.clone(), serde_json::json!({ "consoBudget": 5 }));
    fetch(&one, Series::DailyConsumption, Some("2026-11-01")).unwrap();
    let two = conso_rig(store.clone(), serde_json::json!({ "consoBudget": 5 }));
    assert_eq!(run(two.linky.status()).unwrap().conso_budget.unwrap().left, 4);
    fetch(&two, Series::ConsumptionLoadCurve, Some("2026-11-09")).unwrap();
    fetch(&two, Series::MaxPower, Some("2026-11-01")).unwrap();
    assert_eq!(run(one.linky.status()).unwrap().conso_budget.unwrap().left, 1);

    store.yielding(true);
    let (a, b) = run(async { futures::join!(one.linky.fetch(Series::DailyProduction, Some(d("2026-11-01")), None, |_| {}), two.linky.fetch(Series::DailyProduction, Some(d("2026-11-01")), None, |_| {})) });
    assert_eq!([a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(), 1, "exactly one of the two went out");
    assert_eq!(one.http.count() + two.http.count(), 5);
}

#[test]
fn a_conso_ban_says_so_and_is_not_retried_while_enedis_refusals_through_it_keep_their_meaning() {
    let ban = r#"<!DOCTYPE html><title>Attention Required! | Cloudflare</title><h1>Sorry, you have been blocked</h1>"#;
    let banned = rig_with(
        move |_| Ok(HttpResponse::new(403, ban)),
        serde_json::json!({ "consoToken": conso_token(&[METER]), "consoApiUrl": "https://conso.example/api" }),
        MemoryStore::default(),
    );
    let err = fetch(&banned, Series::DailyConsumption, Some("2026-11-01")).unwrap_err();
    assert_eq!((err.code, err.status, banned.http.count()), (ErrorCode::RateLimited, Some(403), 1));
    assert!(err.message.contains("refuses this IP address") && err.message.contains("github.com/bokub/conso-api"), "{}", err.message);
    assert!(!err.message.contains("again later"), "waiting does not lift a ban: {}", err.message);

    let no_consent = rig_with(
        |_| Ok(HttpResponse::new(403, r#"{"error":"ADAM-DC-0008","error_description":"No consent can be found for this customer and this usage point."}"#)),
        serde_json::json!({ "consoToken": conso_token(&[METER]), "consoApiUrl": "https://conso.example/api" }),
        MemoryStore::default(),
    );
    assert_eq!(fetch(&no_consent, Series::DailyConsumption, Some("2026-11-01")).unwrap_err().code, ErrorCode::ConsentRequired);
}

#[test]
fn a_meter_outside_the_consent_is_refused_before_any_request() {
    let r = rig_with(|request| Ok(enedis_answer(request)), serde_json::json!({ "gatewayUrl": "https://gateway.example", "meter": "99999999999999" }), logged_in_store());
    let err = fetch(&r, Series::DailyConsumption, None).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    assert!(err.message.contains("11111111111111, 22222222222222"), "{}", err.message);
    assert_eq!(r.http.count(), 0);
    assert!(!format!("{} {err:?}", err.message).contains("at-1"), "the refusal names no token: {}", err.message);

    // A meter the consent does cover gets exactly the gateway's data request,
    // the token only in a (redacted) header: what the refused meter never got.
    let ok = rig_with(|request| Ok(enedis_answer(request)), serde_json::json!({ "gatewayUrl": "https://gateway.example", "meter": "22222222222222" }), logged_in_store());
    fetch(&ok, Series::DailyConsumption, Some("2026-11-10")).unwrap();
    let expected = data_request(&Relay::Gateway("https://gateway.example".into()), Series::DailyConsumption, "22222222222222", d("2026-11-10"), d("2026-11-21"), &Secret::new("at-1"))
        .header("user-agent", concat!("wattbridge/", env!("CARGO_PKG_VERSION")));
    assert_eq!(ok.http.sent(), [expected]);
    assert!(!format!("{:?}", ok.http.sent()).contains("at-1"), "the token never shows in Debug");
}

// ---- Linky as a bridge source ----

#[test]
fn the_bridge_asks_linky_from_the_paris_day_of_since_and_streams_it_back_by_window() {
    use wattbridge::bridge::sources::linky::LinkySource;
    use wattbridge::bridge::{Resolution, Source};
    let r = rig(|request| Ok(enedis_answer(request)));
    let source = LinkySource::new(&r.linky);
    let consumption = &source.channels()[0];
    // Paris midnight of the 10th is 23:00 UTC on the 9th: a UTC day would ask from the 9th.
    let since = d("2026-11-10").paris_midnight_ms() / 1000;
    let fetched = run(source.fetch(consumption, Resolution::HalfHour, Some(since), &|_, _, _| {})).unwrap();
    assert_eq!(fetched.series, "load-curve");
    let starts: Vec<String> = r.http.sent().iter().filter_map(|request| query(request, "start")).collect();
    assert_eq!(starts.iter().min().map(String::as_str), Some("2026-11-10"), "{starts:?}");

    let (first, end) = run(source.span(consumption, Resolution::HalfHour)).unwrap().unwrap();
    assert_eq!((first, end), (since, d("2026-11-21").paris_midnight_ms() / 1000));
    let week = run(source.energy(consumption, Resolution::HalfHour, first, first + 7 * 86_400)).unwrap();
    assert_eq!(week.len(), 7 * 48);
    assert_eq!(week[0].start, since);
    assert!(week.iter().all(|i| (i.kwh - 1.0).abs() < 1e-9), "2000 W for half an hour is 1 kWh");
}

#[test]
fn the_gateway_preset_sets_url_and_client_id_together_and_pieces_can_be_overridden() {
    let config = |json: serde_json::Value| serde_json::from_value::<LinkyConfig>(json).unwrap().oauth_config().map(|c| c.unwrap());
    let prod = config(serde_json::json!({})).unwrap();
    assert_eq!(prod.client_id, "d198fd52-61c0-4b77-8725-06a1ef90da9f", "production is the default");
    assert_eq!(prod.device_authorization_url.as_deref(), Some("https://enedis.domoticz.russandol.pro/device/code"));
    assert_eq!(prod.refresh_url.as_deref(), Some("https://enedis.domoticz.russandol.pro/device/token"));
    let test = config(serde_json::json!({ "gateway": "test" })).unwrap();
    assert_eq!(test.client_id, "9c551777-9d1b-447c-9e68-bfe6896ee002");
    assert_eq!(test.token_url, "https://enedis.domoticz.russandol.pro/domoticzlinkyconnect/device/token");
    assert_eq!(test.device_authorization_url.as_deref(), Some("https://enedis.domoticz.russandol.pro/domoticzlinkyconnect/device/code"));
    let mixed = config(serde_json::json!({ "gateway": "test", "clientId": "mine", "gatewayUrl": "https://gw.example/" })).unwrap();
    assert_eq!((mixed.client_id.as_str(), mixed.token_url.as_str()), ("mine", "https://gw.example/device/token"));
    let wrong = config(serde_json::json!({ "gateway": "staging" })).unwrap_err();
    assert_eq!(wrong.code, ErrorCode::InvalidConfig);
    assert!(wrong.message.contains("prod, test"), "{}", wrong.message);
    let bad_path = config(serde_json::json!({ "refreshPath": "device/proxy" })).unwrap_err();
    assert_eq!(bad_path.code, ErrorCode::InvalidConfig);
}

#[test]
fn every_gateway_call_names_us_and_the_refresh_goes_to_the_configured_path() {
    let token = r#"{"access_token":"at-2","token_type":"Bearer","expires_in":12600}"#;
    let r = rig_with(
        move |request| Ok(if request.url.contains("/device/") { HttpResponse::new(200, token) } else { enedis_answer(request) }),
        serde_json::json!({ "gatewayUrl": "https://gateway.example", "refreshPath": "/device/proxy", "userAgent": "my-box/1.0" }),
        logged_in_store(),
    );
    // Past the stored token's expiry: the fetch renews it first.
    r.clock.advance(std::time::Duration::from_secs(3 * 3600));
    fetch(&r, Series::DailyConsumption, Some("2026-11-18")).unwrap();
    let sent = r.http.sent();
    assert_eq!(sent[0].url, "https://gateway.example/device/proxy", "the refresh goes where refreshPath says");
    assert!(sent[0].body.as_deref().unwrap().contains("grant_type=refresh_token"));
    assert!(sent[1].url.starts_with("https://gateway.example/data/proxy/"));
    for request in &sent {
        let agent = request.headers.iter().find(|(name, _)| name == "user-agent").map(|(_, v)| v.expose());
        assert_eq!(agent, Some("my-box/1.0"), "{}", request.url);
    }
    // Without a setting, the User-Agent names wattbridge and its version.
    let plain = wattbridge::linky::LinkyConfig { user_agent: None, ..serde_json::from_value(serde_json::json!({})).unwrap() };
    assert!(plain.gateway().unwrap().user_agent.starts_with("wattbridge/"));
}

#[test]
fn the_gateway_device_answer_has_no_complete_uri_so_the_code_is_put_in_the_link_as_the_plugin_does() {
    // Contract §1 step 1, field for field: no verification_uri_complete.
    let device = r#"{"device_code":"dc-1","user_code":"WXYZ-ABCD","verification_uri":"https://gateway.example/device","expires_in":300,"interval":5}"#;
    let token = format!(r#"{{"access_token":"at-1","refresh_token":"rt-1","token_type":"Bearer","expires_in":12600,"usage_points_id":"{METER}","scope":""}}"#);
    let r = rig_with(
        move |request| Ok(HttpResponse::new(200, if request.url.ends_with("/device/code") { device.to_owned() } else { token.clone() })),
        serde_json::json!({ "gatewayUrl": "https://gateway.example" }),
        MemoryStore::default(),
    );
    let shown = std::cell::RefCell::new(Vec::new());
    run(r.linky.oauth().unwrap().device_login(|v| {
        shown.borrow_mut().push(v.clone());
        Ok(())
    }, None))
    .unwrap();
    let shown = shown.into_inner();
    assert_eq!(shown[0].verification_uri, "https://gateway.example/device");
    assert_eq!(shown[0].verification_uri_complete.as_deref(), Some("https://gateway.example/device?code=WXYZ-ABCD"));
    assert_eq!(run(r.linky.meters()).unwrap(), [METER]);
}
