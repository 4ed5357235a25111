//! Weheat in virtual time against a fake API that enforces the request
//! budget: a day of watch, gap filling after outages, refusals and tokens.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::cell::RefCell;
use std::time::Duration;
use support::run;
use support::weheat_fake::{rig, rig_with, PUMP, T0};
use wattbridge::core::ErrorCode;
use wattbridge::weheat::client::WatchEvent;
use wattbridge::weheat::derive::{format_utc, parse_utc};
use wattbridge::weheat::Interval;

#[test]
fn a_simulated_day_of_watch_never_exceeds_the_budget() {
    let r = rig();
    let pump = run(r.weheat.default_pump()).unwrap();
    let events = RefCell::new(Vec::new());
    run(r.weheat.watch(&pump, 300, Some(Duration::from_secs(24 * 3600)), |e| events.borrow_mut().push(e))).unwrap();
    let fake = r.fake.borrow();
    assert!(fake.log.iter().all(|(_, _, status)| *status == 200), "a request was refused: {:?}", fake.log.iter().find(|l| l.2 != 200));
    for (i, (at, _, _)) in fake.log.iter().enumerate() {
        let in_hour = fake.log[..=i].iter().filter(|(t, _, _)| *t > at - 3_600_000).count();
        assert!(in_hour <= 30, "{in_hour} requests in the hour before {}", format_utc(at / 1000));
    }
    let latest: Vec<i64> = fake.log.iter().filter(|(_, p, _)| p.ends_with("/logs/latest")).map(|(at, _, _)| *at).collect();
    assert!(latest.windows(2).all(|w| w[1] - w[0] >= 120_000), "latest polled faster than every 120 s");
    assert!(latest.len() >= 400, "a live feed: {} polls in a day", latest.len());
    let energy: Vec<i64> = fake.log.iter().filter(|(_, p, _)| p.starts_with("energy-logs/")).map(|(at, _, _)| *at).collect();
    assert!(energy.windows(2).all(|w| w[1] - w[0] >= 27 * 60_000), "energy asked faster than every 30 min (less 10 % jitter)");
    assert!(energy.len() >= 40, "{} energy refreshes", energy.len());
    // The feed is kept by the polls: the gap filler finds nothing to ask for after the first day.
    let feed = run(r.weheat.feed(PUMP, T0, T0 + 86_400)).unwrap();
    assert!(feed.len() >= 400);
    let events = events.borrow();
    assert!(events.iter().all(|e| !matches!(e, WatchEvent::Error { .. })));
    assert!(matches!(&events[0], WatchEvent::Latest(l) if l.state_name == "heating" && l.room.is_none() && l.compressor_percent == Some(50.0) && l.cop == Some(4.0)));
}

#[test]
fn gap_filling_after_6_hours_and_3_days_costs_one_request_each() {
    let r = rig();
    let pump = PUMP;
    let first = run(r.weheat.fill_energy(pump, Interval::Hour, T0 - 86_400, |_, _| {})).unwrap();
    assert_eq!((first.requests, first.minimum_requests, first.buckets), (1, 1, 24));
    for (outage_hours, expected) in [(6, 1), (72, 1), (24 * 40, 2)] {
        r.clock.advance(Duration::from_secs(outage_hours * 3600));
        let before = r.fake.borrow().log.len();
        let fill = run(r.weheat.fill_energy(pump, Interval::Hour, 0, |_, _| {})).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fill.requests, expected, "after {outage_hours} h");
        assert_eq!(fill.requests, fill.minimum_requests);
        assert_eq!(r.fake.borrow().log.len() - before, expected as usize);
        // Budget: wait an hour between outages so the test is about windows, not the budget.
        r.clock.advance(Duration::from_secs(3600));
    }
    let stored = run(r.weheat.stored_energy(pump, Interval::Hour, T0 - 86_400, T0)).unwrap();
    assert_eq!(stored.len(), 24);
    assert_eq!(stored[0].energy.cop, Some(3.5));
}

#[test]
fn the_feed_is_filled_after_a_restart_with_the_coarsest_interval_that_keeps_the_resolution() {
    let r = rig();
    // Asked for 15-minute points, a 3-day gap takes FifteenMinute logs: one request (28-day windows).
    let fill = run(r.weheat.fill_feed(PUMP, 900, T0 - 3 * 86_400, |_, _| {})).unwrap();
    assert_eq!((fill.interval, fill.requests, fill.minimum_requests), ("FifteenMinute", 1, 1));
    let logs: Vec<String> = r.fake.borrow().log.iter().map(|l| l.1.clone()).collect();
    assert!(logs[0].contains("interval=FifteenMinute"), "{logs:?}");
    // Minute points over the same 3 days: 2-day windows, two requests.
    let r = rig();
    let fill = run(r.weheat.fill_feed(PUMP, 60, T0 - 3 * 86_400, |_, _| {})).unwrap();
    assert_eq!((fill.interval, fill.requests), ("Minute", 2));
}

#[test]
fn energy_over_a_range_and_its_cop_by_hand() {
    let r = rig();
    let report = run(r.weheat.energy(PUMP, T0 - 48 * 3600, T0, Interval::Hour, |_, _| {})).unwrap();
    assert_eq!(report.buckets.len(), 48);
    assert_eq!(report.total.electricity_kwh, Some(48.0));
    assert_eq!(report.total.heat_kwh, Some(168.0));
    assert_eq!(report.total.cop, Some(3.5));
    assert_eq!(report.requests, 1);
}

#[test]
fn a_429_backs_off_and_each_retry_counts_against_the_budget() {
    let r = rig();
    r.fake.borrow_mut().script = vec![429, 503];
    let start = r.clock.now();
    let pumps = run(r.weheat.pumps()).unwrap();
    assert_eq!(pumps.len(), 1);
    // 2–3 s, then 4–6 s.
    let waited = r.clock.now() - start;
    assert!((6_000..=9_000).contains(&waited), "waited {waited} ms");
    assert_eq!(run(r.weheat.budget_left()).unwrap(), 27);
    // Three refusals in a row: a clear error after three tries.
    r.fake.borrow_mut().script = vec![429, 429, 429];
    assert_eq!(run(r.weheat.pumps()).unwrap_err().code, ErrorCode::RateLimited);
    assert_eq!(run(r.weheat.budget_left()).unwrap(), 24);
}

#[test]
fn the_budget_refuses_before_the_service_does() {
    let r = rig();
    for _ in 0..30 {
        run(r.weheat.pumps()).unwrap();
    }
    let err = run(r.weheat.pumps()).unwrap_err();
    assert_eq!(err.code, ErrorCode::RateLimited);
    assert!(err.retry_after.unwrap() <= 3600);
    assert!(err.message.contains("weheat.budget_per_hour"), "{}", err.message);
    assert_eq!(r.fake.borrow().log.len(), 30, "the 31st request never left");
}

/// Two clients over one store (a page's Weheat and its sync job) spend one
/// budget: with one request left, one of two concurrent calls goes out.
#[test]
fn two_clients_over_one_store_share_the_budget() {
    let r = rig();
    for _ in 0..29 {
        run(r.weheat.pumps()).unwrap();
    }
    let config: wattbridge::weheat::WeheatConfig = serde_json::from_value(serde_json::json!({ "authUrl": "https://auth.weheat.example/realms/Weheat", "apiUrl": "https://api.weheat.example/third_party" })).unwrap();
    let other = wattbridge::weheat::Weheat::new(config, r.http.clone(), r.store.clone(), r.clock.clone(), support::NativeCrypto).unwrap();
    r.store.yielding(true);
    let (a, b) = run(async { futures::join!(r.weheat.pumps(), other.pumps()) });
    assert_eq!([a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(), 1, "exactly one of the two went out");
    assert_eq!(r.fake.borrow().log.len(), 30, "the 31st request never left");
}

#[test]
fn a_401_refreshes_once_and_an_ended_session_asks_for_a_login() {
    let r = rig();
    run(r.weheat.pumps()).unwrap();
    // The access token dies early: one refresh, one retry.
    r.fake.borrow_mut().access_token += 1;
    run(r.weheat.pumps()).unwrap();
    let statuses: Vec<u16> = r.fake.borrow().log.iter().map(|l| l.2).collect();
    assert_eq!(statuses, [200, 401, 200]);
    r.fake.borrow_mut().session_ended = true;
    r.fake.borrow_mut().access_token += 1;
    let err = run(r.weheat.pumps()).unwrap_err();
    assert_eq!(err.code, ErrorCode::AuthRequired);
    assert!(err.message.contains("weheat login"), "{}", err.message);
}

#[test]
fn the_legacy_plain_list_reads_the_same() {
    let r = rig();
    r.fake.borrow_mut().plain_list = true;
    assert_eq!(run(r.weheat.pumps()).unwrap()[0].id, PUMP);
}

#[test]
fn energy_is_kept_a_month_a_document_and_an_older_one_document_history_moves_over_intact() {
    let r = rig();
    let key = format!("weheat/{PUMP}/energy-Hour");
    // The form before monthly documents: every bucket's whole log in one document.
    let log = |t: i64, e_in: f64| format!(r#""{t}":{{"timeBucket":"{}","totalEInHeating":{e_in},"totalEInStandby":0,"totalEInDhw":0,"totalEInHeatingDefrost":0,"totalEInDhwDefrost":0,"totalEInCooling":0,"totalEOutHeating":4.0,"totalEOutDhw":0,"totalEOutHeatingDefrost":0,"totalEOutDhwDefrost":0,"totalEOutCooling":0}}"#, format_utc(t));
    let old_start = T0 - 40 * 86_400;
    r.store.set_doc(&key, &format!(r#"{{"cursor":{},"buckets":{{{},{}}}}}"#, old_start + 7200, log(old_start, 2.0), log(old_start + 3600, 1.0)));

    let moved = run(r.weheat.stored_energy(PUMP, Interval::Hour, old_start, old_start + 7200)).unwrap();
    assert_eq!(moved.len(), 2);
    assert_eq!((moved[0].energy.electricity_kwh, moved[0].energy.heat_kwh, moved[0].energy.cop), (Some(2.0), Some(4.0), Some(2.0)));
    assert_eq!(moved[1].time_bucket.as_deref(), Some(format_utc(old_start + 3600).as_str()));
    let index = r.store.doc(&key).unwrap();
    assert!(!index.contains("totalEIn"), "the logs left the index: {index}");

    // A fill resumes at the last stored bucket and spreads over the months it covers.
    let fill = run(r.weheat.fill_energy(PUMP, Interval::Hour, 0, |_, _| {})).unwrap();
    assert_eq!(fill.from.as_deref(), Some(format_utc(old_start + 3600).as_str()));
    let months: Vec<String> = (0..40).map(|day| format_utc(old_start + day * 86_400)[..7].to_owned()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    assert!(months.len() >= 2);
    for month in &months {
        let doc = r.store.doc(&format!("{key}/{month}")).unwrap_or_else(|| panic!("no document for {month}"));
        assert!(doc.len() < 100_000, "{month} is small: {} bytes", doc.len());
    }
    let all = run(r.weheat.stored_energy(PUMP, Interval::Hour, old_start, T0)).unwrap();
    assert_eq!(all.len(), 40 * 24, "every hour from the old start to now, each once");
    assert_eq!(all[0].energy.electricity_kwh, Some(2.0), "the moved bucket was not fetched again");
    let (electricity, heat) = run(r.weheat.energy_between(PUMP, Interval::Hour, old_start, T0)).unwrap();
    assert_eq!((electricity.len(), heat.len()), (40 * 24, 40 * 24));
}

#[test]
fn the_default_pump_is_looked_up_once() {
    let r = rig();
    let first = run(r.weheat.default_pump()).unwrap();
    let second = run(r.weheat.pump_or_default(None)).unwrap();
    assert_eq!(first, second);
    let lookups = r.fake.borrow().log.iter().filter(|(_, path, _)| path.starts_with("heat-pumps?")).count();
    assert_eq!(lookups, 1, "each lookup costs a request of the hourly budget");
}

/// When each gap-fill run of a two-hour watch happened (virtual ms), and
/// where the first load of energy started (the feed begins with the first poll).
fn gap_fills(r: &support::weheat_fake::Rig) -> (Vec<i64>, Option<String>) {
    let pump = run(r.weheat.default_pump()).unwrap();
    let runs = RefCell::new(Vec::new());
    let first_from = RefCell::new(None);
    run(r.weheat.watch(&pump, 300, Some(Duration::from_secs(2 * 3600)), |e| match e {
        WatchEvent::GapFill(_) => runs.borrow_mut().push(r.clock.now()),
        WatchEvent::Energy(report) => {
            first_from.borrow_mut().get_or_insert(report.from);
        }
        _ => {}
    }))
    .unwrap();
    (runs.into_inner(), first_from.into_inner().flatten())
}

#[test]
fn a_new_install_loads_two_hours_first_and_the_gap_filler_runs_about_every_10_minutes() {
    let (runs, first_from) = gap_fills(&rig());
    assert_eq!(first_from.as_deref(), Some(format_utc(T0 - 2 * 3600).as_str()), "the first load reaches 2 h back, not 24 h");
    assert!((11..=14).contains(&runs.len()), "{} runs in 2 h", runs.len());
    assert!(runs.windows(2).all(|w| (540_000..=660_000).contains(&(w[1] - w[0]))), "every 10 min ± 10 %: {runs:?}");
    let gaps: std::collections::BTreeSet<i64> = runs.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.len() > 1, "jittered, not a fixed beat");
}

#[test]
fn the_gap_fillers_period_and_the_first_load_are_settings() {
    let (runs, first_from) = gap_fills(&rig_with(serde_json::json!({ "gapFillSecs": 300, "firstLoadSecs": 6 * 3600 })));
    assert_eq!(first_from.as_deref(), Some(format_utc(T0 - 6 * 3600).as_str()));
    assert!((22..=27).contains(&runs.len()), "{} runs in 2 h", runs.len());
    assert!(runs.windows(2).all(|w| (270_000..=330_000).contains(&(w[1] - w[0]))), "every 5 min ± 10 %: {runs:?}");
    for (settings, what) in [(serde_json::json!({ "gapFillSecs": 10 }), "at least 60 s"), (serde_json::json!({ "firstLoadSecs": 0 }), "a year")] {
        let mut all = serde_json::json!({ "authUrl": "https://auth.weheat.example/realms/Weheat" });
        all.as_object_mut().unwrap().extend(settings.as_object().cloned().unwrap());
        let config: wattbridge::weheat::WeheatConfig = serde_json::from_value(all).unwrap();
        let err = wattbridge::weheat::Weheat::new(config, support::RoutedHttp::new(|_| unreachable!()), support::MemoryStore::default(), support::VirtualClock::at_secs(T0), support::NativeCrypto).err().unwrap();
        assert_eq!(err.code, ErrorCode::InvalidConfig);
        assert!(err.message.contains(what), "{}", err.message);
    }
}

#[test]
fn without_energy_logs_the_watch_computes_energy_from_the_feeds_power() {
    let r = rig();
    r.fake.borrow_mut().no_energy_logs = true;
    let pump = run(r.weheat.default_pump()).unwrap();
    let events = RefCell::new(Vec::new());
    run(r.weheat.watch(&pump, 300, Some(Duration::from_secs(3 * 3600)), |e| events.borrow_mut().push(e))).unwrap();
    let events = events.into_inner();
    assert!(!events.iter().any(|e| matches!(e, WatchEvent::Error { .. })), "a missing energy log is not an error: the power stands in");
    let computed: Vec<(i64, i64, f64, f64)> = events
        .iter()
        .filter_map(|e| match e {
            WatchEvent::PowerEnergy { energy: Some(energy), from, to, .. } => Some((parse_utc(from)?, parse_utc(to)?, energy.electricity_kwh?, energy.heat_kwh?)),
            _ => None,
        })
        .collect();
    assert!(computed.len() >= 5, "every 30 min: {computed:?}");
    assert!(computed.windows(2).all(|w| w[0].1 == w[1].0), "each window goes on where the last ended");
    // The fake pump draws 1 kW and gives 4 kW all along: 1 kWh per hour covered, to a few per cent.
    let hours = (computed.last().unwrap().1 - computed[0].0) as f64 / 3600.0;
    let (electricity, heat) = computed.iter().fold((0.0, 0.0), |(a, b), c| (a + c.2, b + c.3));
    assert!((electricity / hours - 1.0).abs() < 0.05, "{electricity} kWh in {hours} h at 1 kW");
    assert!((heat / electricity - 4.0).abs() < 1e-9, "COP 4");
}

#[test]
fn an_energy_answer_with_a_bucket_that_cannot_be_filed_is_refused_whole_and_asked_again() {
    let r = rig();
    let since = T0 - 7200;
    let bucket = |time: &str| format!(r#"{{"interval":"Hour"{time},"totalEInHeating":1,"totalEInStandby":0,"totalEInDhw":0,"totalEInHeatingDefrost":0,"totalEInDhwDefrost":0,"totalEInCooling":0,"totalEOutHeating":3,"totalEOutDhw":0,"totalEOutHeatingDefrost":0,"totalEOutDhwDefrost":0,"totalEOutCooling":0}}"#);
    let good = bucket(&format!(r#","timeBucket":"{}""#, format_utc(since)));
    for (body, why) in [
        (format!("[{good},{}]", bucket("")), "bucket 2 of 2 has no timeBucket"),
        (format!(r#"[{good},{}]"#, bucket(r#","timeBucket":"yesterday""#)), "bucket 2 of 2 has timeBucket 'yesterday'"),
        (format!("[{good},42]"), "item 2 of 2 is not an object"),
    ] {
        r.fake.borrow_mut().energy_body = Some(body);
        let err = run(r.weheat.fill_energy(PUMP, Interval::Hour, since, |_, _| {})).unwrap_err();
        assert_eq!(err.code, ErrorCode::BadResponse, "{}", err.message);
        assert!(err.message.contains(why), "{}", err.message);
        // Nothing of that window was kept, not even the good bucket: the next fill asks again.
        assert!(run(r.weheat.stored_energy(PUMP, Interval::Hour, 0, T0 + 3600)).unwrap().is_empty());
    }
    r.fake.borrow_mut().energy_body = None;
    let fill = run(r.weheat.fill_energy(PUMP, Interval::Hour, since, |_, _| {})).unwrap();
    assert_eq!((fill.from.as_deref(), fill.buckets), (Some(format_utc(since).as_str()), 2));

    // The live feed's aggregated logs alike: a log with neither timeBucket nor timestamp.
    r.fake.borrow_mut().logs_body = Some(format!(r#"[{{"timestamp":"{}","state":70}},{{"state":70}}]"#, format_utc(since)));
    let err = run(r.weheat.fill_feed(PUMP, 300, since, |_, _| {})).unwrap_err();
    assert_eq!(err.code, ErrorCode::BadResponse);
    assert!(err.message.contains("bucket 2 of 2 has no timeBucket"), "{}", err.message);
    assert!(run(r.weheat.feed(PUMP, 0, T0 + 3600)).unwrap().is_empty());
}
