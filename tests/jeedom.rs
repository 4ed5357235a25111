//! The Jeedom sink in virtual time, driven as the bridge drives it (resume,
//! queue, deliver) against a small in-memory Jeedom that keeps history rows
//! by (command, datetime) as Jeedom does.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use support::{run, MemoryStore, RoutedHttp, VirtualClock};
use wattbridge::bridge::index::Cursor;
use wattbridge::bridge::sinks::jeedom::{Current, JeedomSink, Options};
use wattbridge::bridge::{Pending, Row, Sink};
use wattbridge::core::time::parse_utc;
use wattbridge::core::{Error, ErrorCode, HttpResponse, Result, Secret};
use wattbridge::jeedom::Jeedom;

const KEY: &str = "the-api-key";
const PRM: &str = "33333333333333";

#[derive(Default)]
struct Box_ {
    eqs: Vec<Value>,
    cmds: Vec<Value>,
    /// (cmd id, datetime) → value, and every event in order.
    history: BTreeMap<(String, String), Value>,
    events: Vec<(String, String)>,
    /// cmd id → its current value: the value of its last event, whatever its datetime.
    current: BTreeMap<String, Value>,
    down: bool,
    /// No `timezone` setting: an empty result, which comes back as "ok".
    no_timezone: bool,
}

/// A Jeedom of the contract's §2, just enough of it.
fn jeedom(state: Rc<RefCell<Box_>>) -> RoutedHttp {
    RoutedHttp::new(move |request| {
        let mut state = state.borrow_mut();
        if state.down {
            return Err(Error::new(ErrorCode::Network, "connection refused"));
        }
        let body: Value = serde_json::from_str(request.body.as_deref().unwrap_or("")).unwrap();
        let params = &body["params"];
        let answer = |result: Value| Ok(HttpResponse::new(200, json!({"jsonrpc": "2.0", "id": body["id"], "result": result}).to_string()));
        if params["apikey"] != KEY {
            return Ok(HttpResponse::new(200, json!({"jsonrpc": "2.0", "id": body["id"], "error": {"code": -32002, "message": "Vous n'êtes pas autorisé à effectuer cette action"}}).to_string()));
        }
        match body["method"].as_str().unwrap() {
            "config::byKey" if state.no_timezone => answer(json!("ok")),
            "config::byKey" => answer(json!("Europe/Brussels")),
            "eqLogic::byType" => answer(Value::Array(state.eqs.clone())),
            "eqLogic::save" => {
                let id = (state.eqs.len() + 1).to_string();
                let eq = json!({"id": id, "name": params["name"], "logicalId": params["logicalId"], "isEnable": params["isEnable"], "isVisible": params["isVisible"]});
                state.eqs.push(eq.clone());
                answer(eq)
            }
            "cmd::byEqLogicId" => answer(Value::Array(state.cmds.iter().filter(|c| c["eqLogic_id"] == params["eqLogic_id"]).cloned().collect())),
            "cmd::save" if params["id"].is_string() => {
                // An update: the fields given replace, `configuration` merges key by key.
                let cmd = state.cmds.iter_mut().find(|c| c["id"] == params["id"]).unwrap();
                for (field, value) in params.as_object().unwrap().iter().filter(|(f, _)| !["apikey", "configuration"].contains(&f.as_str())) {
                    cmd[field] = value.clone();
                }
                for (field, value) in params["configuration"].as_object().into_iter().flatten() {
                    cmd["configuration"][field] = value.clone();
                }
                answer(cmd.clone())
            }
            "cmd::save" => {
                let id = (state.cmds.len() + 100).to_string();
                let cmd = json!({"id": id, "eqLogic_id": params["eqLogic_id"], "logicalId": params["logicalId"], "unite": params["unite"],
                    "isHistorized": params["isHistorized"], "configuration": params.get("configuration").cloned().unwrap_or(json!({}))});
                state.cmds.push(cmd.clone());
                answer(cmd)
            }
            "cmd::event" => {
                let (id, at) = (params["id"].as_str().unwrap().to_owned(), params["datetime"].as_str().unwrap_or("now").to_owned());
                state.history.insert((id.clone(), at.clone()), params["value"].clone());
                state.current.insert(id.clone(), params["value"].clone());
                state.events.push((id, at));
                answer(json!("ok"))
            }
            other => panic!("unexpected method {other}"),
        }
    })
}

/// An empty Jeedom, an empty store, and the clock at `now`.
fn world(now: &str) -> (Rc<RefCell<Box_>>, RoutedHttp, MemoryStore, VirtualClock) {
    let state = Rc::new(RefCell::new(Box_::default()));
    (state.clone(), jeedom(state), MemoryStore::default(), VirtualClock::at_secs(ms(now) / 1000))
}

fn ms(text: &str) -> i64 {
    parse_utc(text).unwrap()
}

/// Half-hour intervals `(start, kWh)` from `from` (unix s).
fn intervals(from: i64, count: i64, kwh: impl Fn(i64) -> f64) -> Vec<(i64, f64)> {
    (0..count).map(|n| from + n * 1800).map(|start| (start, kwh(start))).collect()
}

fn none<'a>() -> Box<dyn Fn() -> Pending<'a, Vec<Current>> + 'a> {
    Box::new(|| Box::pin(async { Ok(Vec::new()) }))
}

/// One run of the sink, fed as the bridge feeds it: from where `resume`
/// says, cumulative readings with the starts of their intervals.
fn push(http: &RoutedHttp, store: &MemoryStore, clock: &VirtualClock, stored: Option<Cursor>, data: &[(i64, f64)]) -> Result<Option<Cursor>> {
    run(async {
        let client = Jeedom::new("http://127.0.0.1:9", Secret::new(KEY), http.clone())?;
        let sink = JeedomSink::new(&client, store, clock, Options::default(), none());
        let key = sink.subject_key("linky", Some(PRM), "consumption").unwrap();
        let cursor = sink.resume(&key, stored, (0, 0), &|_, _| Box::pin(async { Ok(Vec::new()) })).await?;
        let mut index = cursor.map_or(0.0, |c| c.index);
        let mut rows = Vec::new();
        for &(start, kwh) in data.iter().filter(|(start, _)| cursor.map_or(true, |c| *start >= c.ts)) {
            if rows.is_empty() && cursor.is_none() {
                rows.push(Row { ts: start, values: vec![(key.clone(), index)], starts: vec![] });
            }
            index += kwh;
            rows.push(Row { ts: start + 1800, values: vec![(key.clone(), index)], starts: vec![(key.clone(), start)] });
        }
        // A day at a time, as the bridge streams (in months).
        for day in rows.chunks(48) {
            sink.queue(day).await?;
        }
        sink.deliver(&|_, _| {}).await?;
        Ok(rows.last().map(|r| Cursor { ts: r.ts, index: r.values[0].1 }).or(cursor))
    })
}

fn curve(state: &Box_, cmd: &str) -> Vec<(String, f64)> {
    state.history.iter().filter(|((id, _), _)| id == cmd).map(|((_, at), v)| (at.clone(), v.as_f64().unwrap())).collect()
}

#[test]
fn the_fall_back_day_is_written_in_local_time_once_per_wall_time_and_a_rerun_writes_nothing() {
    let (state, http, store, clock) = world("2024-10-30T09:00:00Z");
    // 2024-10-27 in Brussels/Paris: 25 hours, from 22:00 UTC the day before; then the 28th.
    let from = ms("2024-10-26T22:00:00Z") / 1000;
    let kwh = |start: i64| 0.1 + (start / 1800 % 7) as f64 * 0.05;
    let data = intervals(from, 50 + 48, kwh);
    let cursor = push(&http, &store, &clock, None, &data).unwrap();

    let s = state.borrow();
    assert_eq!(s.eqs.len(), 1);
    assert_eq!(s.eqs[0]["logicalId"], format!("wattbridge_linky_{PRM}"));
    assert_eq!((s.eqs[0]["isEnable"].as_str(), s.eqs[0]["isVisible"].as_str()), (Some("1"), Some("1")));
    let ids: BTreeMap<String, String> = s.cmds.iter().map(|c| (c["logicalId"].as_str().unwrap().to_owned(), c["id"].as_str().unwrap().to_owned())).collect();
    let load = curve(&s, &ids["consumption_load_curve"]);
    let day27: Vec<&(String, f64)> = load.iter().filter(|(at, _)| at.starts_with("2024-10-27")).collect();
    assert_eq!(day27.len(), 48, "50 half-hours, 48 wall times");
    assert_eq!(day27[0].0, "2024-10-27 00:00:00");
    // 02:00 and 02:30 came twice: each row is the mean power of both.
    let at = |utc: &str| kwh(ms(utc) / 1000) * 2000.0;
    let two = day27.iter().find(|(t, _)| t == "2024-10-27 02:00:00").unwrap().1;
    assert!((two - (at("2024-10-27T00:00:00Z") + at("2024-10-27T01:00:00Z")) / 2.0).abs() < 1e-6, "{two}");
    let three = day27.iter().find(|(t, _)| t == "2024-10-27 03:00:00").unwrap().1;
    assert!((three - at("2024-10-27T02:00:00Z")).abs() < 1e-6);
    // The day's energy counts all 50 half-hours; the 28th is complete too.
    let daily = curve(&s, &ids["daily_consumption"]);
    let expected: f64 = (0..50).map(|n| kwh(from + n * 1800)).sum();
    assert_eq!(daily[0].0, "2024-10-27 00:00:00");
    assert!((daily[0].1 - expected).abs() < 1e-3, "{} vs {expected}", daily[0].1);
    assert_eq!(daily.len(), 2);
    assert_eq!(s.cmds.iter().find(|c| c["logicalId"] == "consumption_load_curve").unwrap()["unite"], "W");
    // Oldest first: every command's datetimes rise (the repeated hour aside).
    let events = s.events.len();
    drop(s);

    // A rerun over the same data: Jeedom is asked nothing new.
    push(&http, &store, &clock, cursor, &data).unwrap();
    assert_eq!(state.borrow().events.len(), events, "a rerun writes nothing");
    assert_eq!(state.borrow().eqs.len(), 1, "and finds its equipment again");

    // Enedis corrects the 28th: that day, and only it, is written again.
    let corrected = intervals(from, 50 + 48, |start| if start >= from + 50 * 1800 { kwh(start) + 0.01 } else { kwh(start) });
    push(&http, &store, &clock, cursor, &corrected).unwrap();
    let s = state.borrow();
    let again: Vec<&(String, String)> = s.events[events..].iter().collect();
    assert_eq!(again.len(), 48 + 1, "48 half-hours and the day's total");
    assert!(again.iter().all(|(_, at)| at.starts_with("2024-10-28")));
    let total28 = curve(&s, &ids["daily_consumption"])[1].1;
    let expected28: f64 = (50..98).map(|n| kwh(from + n * 1800) + 0.01).sum();
    assert!((total28 - expected28).abs() < 1e-3);
}

#[test]
fn a_corrected_older_day_leaves_the_newest_value_as_the_current_one() {
    // Contract §2: every cmd::event becomes the command's current value, even
    // one older than what Jeedom shows. A day corrected behind the newest one
    // must not leave Jeedom showing that older day as "now".
    let (state, http, store, clock) = world("2024-10-30T09:00:00Z");
    let from = ms("2024-10-26T22:00:00Z") / 1000;
    let kwh = |start: i64| 0.1 + (start / 1800 % 5) as f64 * 0.03;
    let data = intervals(from, 50 + 48, kwh);
    let cursor = push(&http, &store, &clock, None, &data).unwrap();
    let ids: BTreeMap<String, String> = state.borrow().cmds.iter().map(|c| (c["logicalId"].as_str().unwrap().to_owned(), c["id"].as_str().unwrap().to_owned())).collect();
    let newest = |s: &Box_, cmd: &str| s.history.iter().filter(|((id, _), _)| id == cmd).last().map(|(_, v)| v.clone()).unwrap();
    let events = state.borrow().events.len();

    // Enedis corrects the 27th; the 28th, the newest day, is unchanged.
    let corrected = intervals(from, 50 + 48, |start| if start < from + 50 * 1800 { kwh(start) + 0.02 } else { kwh(start) });
    push(&http, &store, &clock, cursor, &corrected).unwrap();
    let s = state.borrow();
    assert!(s.events[events..].iter().any(|(_, at)| at.starts_with("2024-10-27")), "the corrected day was written again");
    for logical in ["consumption_load_curve", "daily_consumption"] {
        let cmd = &ids[logical];
        assert_eq!(s.current[cmd], newest(&s, cmd), "{logical}: Jeedom's current value is the newest row, not the corrected day's");
    }
    assert!(s.events[events..].iter().all(|(_, at)| at.starts_with("2024-10-27") || at == "2024-10-28 23:30:00" || at == "2024-10-28 00:00:00"), "the 28th is not written again, but for its newest value of each command");
    let total27 = curve(&s, &ids["daily_consumption"])[0].1;
    let expected27: f64 = (0..50).map(|n| kwh(from + n * 1800) + 0.02).sum();
    assert!((total27 - expected27).abs() < 1e-3);
    drop(s);

    // And a rerun after that writes nothing.
    let events = state.borrow().events.len();
    push(&http, &store, &clock, cursor, &corrected).unwrap();
    assert_eq!(state.borrow().events.len(), events);

    // The 27th is corrected again and the 29th has come: the 29th becomes
    // the current value by itself, so the 28th is not sent again.
    let next = intervals(from, 50 + 48 + 48, |start| if start < from + 50 * 1800 { kwh(start) + 0.04 } else { kwh(start) });
    push(&http, &store, &clock, cursor, &next).unwrap();
    let s = state.borrow();
    let again = &s.events[events..];
    assert!(again.iter().all(|(_, at)| !at.starts_with("2024-10-28")), "{again:?}");
    assert_eq!(again.len(), 48 + 1 + 48 + 1, "the 27th and the 29th, each with its total");
    for logical in ["consumption_load_curve", "daily_consumption"] {
        assert_eq!(s.current[&ids[logical]], newest(&s, &ids[logical]));
    }
}

#[test]
fn a_wrong_key_or_a_jeedom_that_is_down_stops_before_anything_is_sent() {
    let (state, http, store, clock) = world("2024-10-30T09:00:00Z");
    let err = run(async {
        let client = Jeedom::new("http://127.0.0.1:9", Secret::new("wrong"), http.clone())?;
        let sink = JeedomSink::new(&client, &store, &clock, Options::default(), none());
        let key = sink.subject_key("linky", Some(PRM), "consumption").unwrap();
        sink.resume(&key, None, (0, 0), &|_, _| Box::pin(async { Ok(Vec::new()) })).await
    })
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::AuthRequired);
    assert!(!err.message.contains("wrong"), "the key is never in a message");
    assert!(http.sent().iter().all(|r| !r.url.contains("wrong")), "nor in a URL");

    state.borrow_mut().down = true;
    let err = push(&http, &store, &clock, None, &intervals(ms("2024-10-26T22:00:00Z") / 1000, 4, |_| 0.1)).unwrap_err();
    assert_eq!(err.code, ErrorCode::Network);
    assert!(state.borrow().events.is_empty());
    assert_eq!(store.dump(), "{}", "nothing kept as sent");
}

#[test]
fn the_spring_day_has_46_half_hours_and_its_total() {
    let (state, http, store, clock) = world("2024-04-02T09:00:00Z");
    // 2024-03-31 in Brussels/Paris: 23 hours, from 23:00 UTC the day before; then the 1st of April.
    let from = ms("2024-03-30T23:00:00Z") / 1000;
    push(&http, &store, &clock, None, &intervals(from, 46 + 48, |_| 0.25)).unwrap();
    let s = state.borrow();
    let id = |logical: &str| s.cmds.iter().find(|c| c["logicalId"] == logical).unwrap()["id"].as_str().unwrap().to_owned();
    let load = curve(&s, &id("consumption_load_curve"));
    let day31: Vec<&String> = load.iter().map(|(at, _)| at).filter(|at| at.starts_with("2024-03-31")).collect();
    assert_eq!(day31.len(), 46);
    assert!(!day31.iter().any(|at| at.starts_with("2024-03-31 02:")), "02:00–03:00 does not exist that day");
    assert!(load.iter().all(|(_, w)| *w == 500.0));
    assert_eq!(curve(&s, &id("daily_consumption")), [("2024-03-31 00:00:00".to_owned(), 11.5), ("2024-04-01 00:00:00".to_owned(), 12.0)]);
}

#[test]
fn kwh_keep_their_wh_through_the_archive_and_a_command_found_unhistorized_is_historized_again() {
    let (state, http, store, clock) = world("2024-10-30T09:00:00Z");
    let from = ms("2024-10-26T22:00:00Z") / 1000;
    let data = intervals(from, 50 + 48, |_| 0.1234);
    let cursor = push(&http, &store, &clock, None, &data).unwrap();
    let config = |s: &Box_, logical: &str| s.cmds.iter().find(|c| c["logicalId"] == logical).unwrap()["configuration"].clone();
    {
        let s = state.borrow();
        // Jeedom's archive rounds to 2 decimals unless historizeRound says otherwise (contract §7).
        assert_eq!(config(&s, "daily_consumption")["historizeRound"], "3");
        assert_eq!(config(&s, "consumption_load_curve"), json!({"historizeMode": "none"}), "W to the tenth: no rounding asked, every point kept");
    }

    // Someone unticks "Historiser" on the curve and clears the daily total's
    // rounding (or the commands come from an older wattbridge).
    {
        let mut s = state.borrow_mut();
        let curve = s.cmds.iter_mut().find(|c| c["logicalId"] == "consumption_load_curve").unwrap();
        curve["isHistorized"] = json!("0");
        let daily = s.cmds.iter_mut().find(|c| c["logicalId"] == "daily_consumption").unwrap();
        daily["configuration"] = json!({});
    }
    clock.advance(std::time::Duration::from_secs(86_400));
    let more = intervals(from, 50 + 48 + 48, |_| 0.1234);
    push(&http, &store, &clock, cursor, &more).unwrap();
    let s = state.borrow();
    let curve = s.cmds.iter().find(|c| c["logicalId"] == "consumption_load_curve").unwrap();
    assert_eq!(curve["isHistorized"], "1", "the history of a value written at its own date would be dropped otherwise");
    assert_eq!(curve["configuration"]["historizeMode"], "none");
    assert_eq!(config(&s, "daily_consumption")["historizeRound"], "3");
    assert_eq!(s.cmds.len(), 2, "updated, not created again");
}

#[test]
fn without_a_timezone_setting_jeedom_s_default_brussels_is_used() {
    let (state, http, store, clock) = world("2024-10-30T09:00:00Z");
    state.borrow_mut().no_timezone = true;
    let report = run(async {
        let client = Jeedom::new("http://127.0.0.1:9", Secret::new(KEY), http.clone())?;
        let sink = JeedomSink::new(&client, &store, &clock, Options::default(), none());
        let key = sink.subject_key("linky", Some(PRM), "consumption").unwrap();
        sink.resume(&key, None, (0, 0), &|_, _| Box::pin(async { Ok(Vec::new()) })).await?;
        sink.deliver(&|_, _| {}).await
    })
    .unwrap();
    assert_eq!(report["timezone"], "Europe/Brussels", "contract §7: config timezone, default Europe/Brussels");
}
