//! A fake Weheat for tests and the bench: token endpoint with refresh and
//! "Session not active", heat pumps in both list shapes, latest logs, hourly
//! energy buckets, and the proxy's budget (30 requests an hour, 429 beyond).

use super::{MemoryStore, NativeCrypto, RoutedHttp, VirtualClock};
use std::cell::RefCell;
use std::rc::Rc;
use wattbridge::core::{HttpRequest, HttpResponse};
use wattbridge::weheat::derive::{format_utc, parse_utc};
use wattbridge::weheat::{Weheat, WeheatConfig};

pub const T0: i64 = 1_772_323_200; // 2026-03-01T00:00:00Z
pub const PUMP: &str = "b1acb1d0-0080-4e5a-9d1c-5a4db0000001";

#[derive(Default)]
pub struct Fake {
    /// Every API request (not token calls): (virtual ms, path+query, status).
    pub log: Vec<(i64, String, u16)>,
    /// Statuses to answer the next API requests with.
    pub script: Vec<u16>,
    pub session_ended: bool,
    pub access_token: u32,
    pub plain_list: bool,
    /// Energy logs answer 403, as for a client Weheat does not give them to.
    pub no_energy_logs: bool,
    /// The energy logs' answer, when not the fake's hourly buckets.
    pub energy_body: Option<String>,
    /// The aggregated logs' answer, when not an empty list.
    pub logs_body: Option<String>,
}

pub struct Rig {
    pub weheat: Weheat<RoutedHttp, MemoryStore, VirtualClock, NativeCrypto>,
    pub fake: Rc<RefCell<Fake>>,
    pub clock: VirtualClock,
    pub store: MemoryStore,
    pub http: RoutedHttp,
}

fn query<'a>(url: &'a str, name: &str) -> Option<&'a str> {
    url.split_once('?')?.1.split('&').find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

/// Hourly energy buckets of [start, end): 1 kWh in, 3.5 kWh out each.
fn buckets(url: &str) -> String {
    let (start, end) = (parse_utc(query(url, "startTime").unwrap()).unwrap(), parse_utc(query(url, "endTime").unwrap()).unwrap());
    let mut items = Vec::new();
    let mut t = start - start.rem_euclid(3600);
    while t < end {
        items.push(format!(r#"{{"interval":"Hour","timeBucket":"{}","totalEInHeating":1.0,"totalEInStandby":0,"totalEInDhw":0,"totalEInHeatingDefrost":0,"totalEInDhwDefrost":0,"totalEInCooling":0,"totalEOutHeating":3.5,"totalEOutDhw":0,"totalEOutHeatingDefrost":0,"totalEOutDhwDefrost":0,"totalEOutCooling":0}}"#, format_utc(t)));
        t += 3600;
    }
    format!("[{}]", items.join(","))
}

fn answer(fake: &mut Fake, now_ms: i64, request: &HttpRequest) -> HttpResponse {
    if request.url.contains("/protocol/openid-connect/token") {
        if fake.session_ended {
            return HttpResponse::new(400, r#"{"error":"invalid_grant","error_description":"Session not active"}"#);
        }
        fake.access_token += 1;
        return HttpResponse::new(200, format!(r#"{{"access_token":"at-{}","refresh_token":"rt-{}","expires_in":300,"token_type":"Bearer"}}"#, fake.access_token, fake.access_token));
    }
    let path = request.url.split("/api/v1/").nth(1).unwrap().to_owned();
    let bearer = request.headers.iter().find(|(k, _)| k == "authorization").map(|(_, v)| v.expose().to_owned()).unwrap();
    // The proxy's budget: 30 requests in any hour, 429 with an empty body beyond.
    let in_last_hour = fake.log.iter().filter(|(at, _, status)| *at > now_ms - 3_600_000 && *status != 429).count();
    let status = if !fake.script.is_empty() {
        fake.script.remove(0)
    } else if fake.no_energy_logs && path.starts_with("energy-logs/") {
        403
    } else if bearer != format!("Bearer at-{}", fake.access_token) {
        401
    } else if in_last_hour >= 30 {
        429
    } else {
        200
    };
    fake.log.push((now_ms, path.clone(), status));
    if status != 200 {
        return HttpResponse::new(status, "");
    }
    let body = if path.starts_with("heat-pumps?") {
        let pump = format!(r#"{{"id":"{PUMP}","name":"Home","model":0,"boilerType":1}}"#);
        if fake.plain_list { format!("[{pump}]") } else { format!(r#"{{"metadata":{{"totalPages":1}},"data":[{pump}]}}"#) }
    } else if path.ends_with("/logs/latest") {
        format!(r#"{{"heatPumpId":"{PUMP}","timestamp":"{}","state":70,"tAirIn":5.0,"tRoom":-1,"rpm":2250,"cmMassPowerIn":1000,"cmMassPowerOut":4000,"isOnline":true}}"#, format_utc(now_ms / 1000))
    } else if path.starts_with("energy-logs/") {
        fake.energy_body.clone().unwrap_or_else(|| buckets(&request.url))
    } else if path.contains("/logs?") {
        fake.logs_body.clone().unwrap_or_else(|| "[]".to_owned())
    } else {
        "{}".to_owned()
    };
    HttpResponse::new(200, body)
}

pub fn rig() -> Rig {
    rig_with(serde_json::json!({}))
}

/// A rig whose Weheat settings add `extra` (camelCase) to the defaults.
pub fn rig_with(extra: serde_json::Value) -> Rig {
    let clock = VirtualClock::at_secs(T0);
    let fake: Rc<RefCell<Fake>> = Rc::default();
    let (f, c) = (fake.clone(), clock.clone());
    let http = RoutedHttp::new(move |request: &HttpRequest| Ok(answer(&mut f.borrow_mut(), c.now(), request)));
    let store = MemoryStore::default();
    // Logged in: an expired access token, so the first call refreshes.
    store.set_doc("tokens/weheat", r#"{"accessToken":"at-0","tokenType":"Bearer","refreshToken":"rt-0","expiresAtMs":0,"scopes":["openid","offline_access"],"obtainedAtMs":0}"#);
    let mut settings = serde_json::json!({ "authUrl": "https://auth.weheat.example/realms/Weheat", "apiUrl": "https://api.weheat.example/third_party" });
    settings.as_object_mut().unwrap().extend(extra.as_object().cloned().unwrap_or_default());
    let config: WeheatConfig = serde_json::from_value(settings).unwrap();
    let weheat = Weheat::new(config, http.clone(), store.clone(), clock.clone(), NativeCrypto).unwrap();
    Rig { weheat, fake, clock, store, http }
}

