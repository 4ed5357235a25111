//! `WeheatSession` for JS: pumps, logs, energy, totals, gap filling and the
//! watch loop. Login and logout go through `OAuthSession` with [`oauthConfig`]'s settings.

use super::clock::JsClock;
use super::crypto::WebCrypto;
use super::error::{from_js_value, promise, settle, to_js, to_value};
use super::http::FetchHttp;
use super::store::JsStore;
use crate::core::{Error, ErrorCode};
use crate::weheat::{self, Interval, WeheatConfig};
use js_sys::{Function, Promise};
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::prelude::*;

pub(super) type Client = weheat::Weheat<FetchHttp, JsStore, JsClock, WebCrypto>;

#[wasm_bindgen(js_name = WeheatSession)]
pub struct JsWeheatSession {
    pub(super) client: Rc<Client>,
    config: WeheatConfig,
}

fn interval(name: &str) -> Result<Interval, JsValue> {
    Interval::parse(name).ok_or_else(|| {
        let names: Vec<&str> = Interval::ALL.iter().map(|i| i.name()).collect();
        to_js(Error::invalid_input(format!("unknown interval '{name}': use one of {}", names.join(", "))).provider(weheat::PROVIDER))
    })
}

/// A progress callback `(done, total)` that never stops the work when it throws.
fn progress(callback: Option<Function>) -> impl Fn(u32, u32) {
    move |done, total| {
        if let Some(callback) = &callback {
            let _ = callback.call2(&JsValue::NULL, &done.into(), &total.into());
        }
    }
}

/// Every state name `latest()` can give (`stateName`), in a fixed order.
#[wasm_bindgen(js_name = weheatStateNames)]
pub fn weheat_state_names() -> Vec<String> {
    weheat::derive::STATE_NAMES.iter().map(|name| (*name).to_owned()).collect()
}

#[wasm_bindgen(js_class = WeheatSession)]
impl JsWeheatSession {
    /// `config`: `{authUrl?, apiUrl?, clientId?, budgetPerHour?, pump?}`; `store`: `{ get, put, delete }`.
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue, store: JsValue) -> Result<JsWeheatSession, JsValue> {
        let config: WeheatConfig = from_js_value(config, "Weheat settings", ErrorCode::InvalidConfig, weheat::PROVIDER)?;
        let store = JsStore::new(store).map_err(to_js)?;
        let client = Client::new(config.clone(), FetchHttp::default(), store, JsClock, WebCrypto).map_err(to_js)?;
        Ok(JsWeheatSession { client: Rc::new(client), config })
    }

    /// The `OAuthSession` settings (Keycloak realm, community client).
    #[wasm_bindgen(js_name = oauthConfig)]
    pub fn oauth_config(&self) -> Result<JsValue, JsValue> {
        settle(self.config.oauth_config())
    }

    pub fn me(&self) -> Promise {
        let client = self.client.clone();
        promise(async move { settle(client.me().await) })
    }

    pub fn pumps(&self) -> Promise {
        let client = self.client.clone();
        promise(async move { settle(client.pumps().await) })
    }

    /// The pump `id`, else the configured one, else the account's first.
    pub fn pump(&self, id: Option<String>) -> Promise {
        let client = self.client.clone();
        promise(async move { settle(client.pump_or_default(id.as_deref()).await) })
    }

    pub fn latest(&self, pump_id: Option<String>) -> Promise {
        let client = self.client.clone();
        promise(async move {
            let pump = client.pump_or_default(pump_id.as_deref()).await.map_err(to_js)?;
            settle(client.latest(&pump).await)
        })
    }

    /// Raw logs (no interval) or aggregated logs of `[from, to)` in unix seconds.
    pub fn logs(&self, pump_id: String, from: f64, to: f64, interval_name: Option<String>, on_progress: Option<Function>) -> Promise {
        let client = self.client.clone();
        promise(async move {
            let (from, to) = (from as i64, to as i64);
            match interval_name {
                Some(name) => settle(client.logs(&pump_id, from, to, interval(&name)?, progress(on_progress)).await),
                None => settle(client.raw_logs(&pump_id, from, to, progress(on_progress)).await),
            }
        })
    }

    pub fn energy(&self, pump_id: String, from: f64, to: f64, interval_name: String, on_progress: Option<Function>) -> Promise {
        let client = self.client.clone();
        promise(async move { settle(client.energy(&pump_id, from as i64, to as i64, interval(&interval_name)?, progress(on_progress)).await) })
    }

    pub fn totals(&self, pump_id: String) -> Promise {
        let client = self.client.clone();
        promise(async move { settle(client.totals(&pump_id).await) })
    }

    /// Fetch the energy buckets missing since the last stored one (first run: since `since`).
    #[wasm_bindgen(js_name = fillEnergy)]
    pub fn fill_energy(&self, pump_id: String, interval_name: String, since: f64, on_progress: Option<Function>) -> Promise {
        let client = self.client.clone();
        promise(async move { settle(client.fill_energy(&pump_id, interval(&interval_name)?, since as i64, progress(on_progress)).await) })
    }

    /// Stored energy buckets of `[from, to)`.
    #[wasm_bindgen(js_name = storedEnergy)]
    pub fn stored_energy(&self, pump_id: String, interval_name: String, from: f64, to: f64) -> Promise {
        let client = self.client.clone();
        promise(async move { settle(client.stored_energy(&pump_id, interval(&interval_name)?, from as i64, to as i64).await) })
    }

    /// Fill the live feed since its last point at `resolution_secs`.
    #[wasm_bindgen(js_name = fillFeed)]
    pub fn fill_feed(&self, pump_id: String, resolution_secs: f64, since: Option<f64>, on_progress: Option<Function>) -> Promise {
        let client = self.client.clone();
        // No `since`: a new install's first load (`firstLoadSecs`, 2 h).
        let since = since.map_or_else(|| client.first_load_since(), |s| s as i64);
        promise(async move { settle(client.fill_feed(&pump_id, resolution_secs as i64, since, progress(on_progress)).await) })
    }

    pub fn feed(&self, pump_id: String, from: f64, to: f64) -> Promise {
        let client = self.client.clone();
        promise(async move { settle(client.feed(&pump_id, from as i64, to as i64).await) })
    }

    /// Watch a pump; `on_event` gets the JSON of each event. Resolves when
    /// `duration_secs` passes (never when not given) or on `auth_required`.
    pub fn watch(&self, pump_id: Option<String>, resolution_secs: f64, duration_secs: Option<f64>, on_event: Function) -> Promise {
        let client = self.client.clone();
        promise(async move {
            let pump = client.pump_or_default(pump_id.as_deref()).await.map_err(to_js)?;
            let duration = duration_secs.filter(|s| s.is_finite() && *s > 0.0).map(|s| Duration::from_nanos((s * 1e9) as u64));
            let emit = |event: weheat::client::WatchEvent| {
                if let Ok(event) = to_value(&event) {
                    let _ = on_event.call1(&JsValue::NULL, &event);
                }
            };
            settle(client.watch(&pump, resolution_secs as i64, duration, emit).await)
        })
    }

    /// Complete stored buckets from `from_secs` on as `{electricity: [...], heat: [...]}` intervals.
    #[wasm_bindgen(js_name = energySince)]
    pub fn energy_since(&self, pump_id: String, interval_name: String, from_secs: f64) -> Promise {
        let client = self.client.clone();
        promise(async move {
            let (electricity, heat) = client.energy_since(&pump_id, interval(&interval_name)?, from_secs as i64).await.map_err(to_js)?;
            settle(Ok(EnergySince { electricity, heat }))
        })
    }

    /// Requests the account may still send this hour.
    #[wasm_bindgen(js_name = budgetLeft)]
    pub fn budget_left(&self) -> Promise {
        let client = self.client.clone();
        promise(async move { settle(client.budget_left().await) })
    }
}

/// A struct rather than `json!` (see `wasm::sync`).
#[derive(serde::Serialize)]
struct EnergySince {
    electricity: Vec<crate::core::IntervalEnergy>,
    heat: Vec<crate::core::IntervalEnergy>,
}

/// Read logs you already have and find their energy: raw logs (`/logs/raw`)
/// by integrating their power fields, aggregated logs (`/logs`) from their
/// average powers × `timeCoveredInInterval`. JSON of `{logs, energy:
/// {electricityKwh, heatKwh, cop}}` (`energy` null when Weheat sent no power fields).
#[wasm_bindgen(js_name = energyFromWeheatLogs)]
pub fn energy_from_weheat_logs(body: String) -> Result<JsValue, JsValue> {
    let response = crate::core::HttpResponse::new(200, body);
    let logs = weheat::api::parse_logs(&response, "Weheat logs").map_err(to_js)?;
    let energy = weheat::derive::energy_of_logs(&logs);
    to_value(&LogsEnergy { logs: logs.len(), energy })
}

#[derive(serde::Serialize)]
struct LogsEnergy {
    logs: usize,
    energy: Option<weheat::derive::Energy>,
}
