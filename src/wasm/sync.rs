//! `SyncJob` for JS: the bridge run over the sessions the JS side made. The
//! `sync()` wrapper in js/sync.js adds the sessions, runs, and parses the report.

use super::clock::JsClock;
use super::error::{from_js_value, promise, to_js, to_value};
use super::store::JsStore;
use super::websocket::JsWebSocket;
use super::{energyid, linky, weheat};
use crate::bridge::sinks::energyid::{EnergyIdSink, Mapping};
use crate::bridge::sinks::mqtt::MqttSink;
use crate::bridge::sinks::homeassistant::{self as ha_sink, HomeAssistantSink};
use crate::bridge::sinks::jeedom::{self as jeedom_sink, Current, JeedomSink};
use crate::jeedom::Jeedom;
use super::http::FetchHttp;
use super::error::from_js;
use wasm_bindgen_futures::JsFuture;
use crate::homeassistant::Connection;
use crate::bridge::sources::{linky::LinkySource, weheat::WeheatSource};
use crate::bridge::{Bridge, Pending, Resolution, Sink, Source, SyncOptions};
use crate::core::{Error, ErrorCode, Secret};
use js_sys::{Function, Promise};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(js_name = SyncJob)]
pub struct JsSyncJob {
    store: JsStore,
    linky: Option<Rc<linky::Client>>,
    weheat: Option<Rc<weheat::Client>>,
    energyid: Option<Rc<energyid::Device>>,
    /// Keep the newest index of each series for the MQTT publisher.
    mqtt: bool,
    homeassistant: Option<HomeAssistant>,
    jeedom: Option<JeedomTarget>,
}

/// The Jeedom target: its URL, API key, options, and the function that
/// gathers the current values when delivering.
struct JeedomTarget {
    url: String,
    key: Secret,
    options: jeedom_sink::Options,
    current: Function,
}

/// `addJeedom`'s options, camelCase.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct JeedomOptions {
    correction_days: Option<i32>,
    object: Option<String>,
    timezone: Option<String>,
    currency: Option<String>,
}

/// The Home Assistant target: an open WebSocket, the token and the options.
struct HomeAssistant {
    socket: JsValue,
    token: Secret,
    options: ha_sink::Options,
}

/// `addHomeAssistant`'s options, camelCase.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct HomeAssistantOptions {
    correction_days: Option<i32>,
    currency: Option<String>,
}

/// The options of js/sync.js, camelCase.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct RunOptions {
    since: Option<i64>,
    resolution: Option<String>,
    dry_run: bool,
    retry_blocked: bool,
    max_wait_seconds: f64,
    mapping: Mapping,
    start_index: BTreeMap<String, f64>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { since: None, resolution: None, dry_run: false, retry_blocked: false, max_wait_seconds: 900.0, mapping: Mapping::default(), start_index: BTreeMap::new() }
    }
}

#[wasm_bindgen(js_class = SyncJob)]
impl JsSyncJob {
    /// `store`: where cursors and blocks live, `{ get, put, delete }`.
    #[wasm_bindgen(constructor)]
    pub fn new(store: JsValue) -> Result<JsSyncJob, JsValue> {
        Ok(JsSyncJob { store: JsStore::new(store).map_err(to_js)?, linky: None, weheat: None, energyid: None, mqtt: false, homeassistant: None, jeedom: None })
    }

    #[wasm_bindgen(js_name = addLinky)]
    pub fn add_linky(&mut self, session: &linky::JsLinkySession) {
        self.linky = Some(session.client.clone());
    }

    #[wasm_bindgen(js_name = addWeheat)]
    pub fn add_weheat(&mut self, session: &weheat::JsWeheatSession) {
        self.weheat = Some(session.client.clone());
    }

    #[wasm_bindgen(js_name = addEnergyId)]
    pub fn add_energyid(&mut self, device: &energyid::JsEnergyIdDevice) {
        self.energyid = Some(device.device.clone());
    }

    /// Also feed the MQTT sink (its indexes come back in the report's `mqtt`).
    #[wasm_bindgen(js_name = addMqtt)]
    pub fn add_mqtt(&mut self) {
        self.mqtt = true;
    }

    /// Also import into Home Assistant's long-term statistics. `socket`:
    /// `{send(text), receive()}` over HA's WebSocket API, opened but not yet
    /// authenticated; `token`: a long-lived access token (used in the `auth`
    /// frame only); `options`: `{correctionDays?, currency?}`; `tariff`: as
    /// `Linky.stats` takes it, for the cost statistic (none without prices).
    #[wasm_bindgen(js_name = addHomeAssistant)]
    pub fn add_home_assistant(&mut self, socket: JsValue, token: String, options: JsValue, tariff: JsValue) -> Result<(), JsValue> {
        let given: HomeAssistantOptions =
            if options.is_undefined() || options.is_null() { HomeAssistantOptions::default() } else { from_js_value(options, "Home Assistant options", ErrorCode::InvalidConfig, crate::homeassistant::PROVIDER)? };
        let mut options = ha_sink::Options { tariff: linky::tariff_of(tariff)?, ..ha_sink::Options::default() };
        if let Some(days) = given.correction_days {
            options.correction_days = days.clamp(0, 30);
        }
        if let Some(currency) = given.currency.filter(|c| !c.trim().is_empty()) {
            options.currency = currency.trim().to_owned();
        }
        JsWebSocket::new(socket.clone()).map_err(to_js)?;
        self.homeassistant = Some(HomeAssistant { socket, token: Secret::new(token), options });
        Ok(())
    }

    /// Also write into Jeedom's commands over its JSON-RPC API. `url`:
    /// `jeedom.url`; `api_key`: sent in request bodies only; `options`:
    /// `{correctionDays?, object?, timezone?, currency?}`; `current()`: a
    /// Promise of the values that are not interval energy,
    /// `[{source, subject, cmd, value, atMs?}]`, called when delivering.
    #[wasm_bindgen(js_name = addJeedom)]
    pub fn add_jeedom(&mut self, url: String, api_key: String, options: JsValue, current: Function) -> Result<(), JsValue> {
        let given: JeedomOptions = if options.is_undefined() || options.is_null() { JeedomOptions::default() } else { from_js_value(options, "Jeedom options", ErrorCode::InvalidConfig, crate::jeedom::PROVIDER)? };
        let mut options = jeedom_sink::Options { object: given.object, timezone: given.timezone, ..jeedom_sink::Options::default() };
        if let Some(days) = given.correction_days {
            options.correction_days = days.clamp(0, 30);
        }
        if let Some(currency) = given.currency.filter(|c| !c.trim().is_empty()) {
            options.currency = currency.trim().to_owned();
        }
        // Checked now, so a wrong URL fails before anything is fetched.
        Jeedom::new(&url, Secret::new(api_key.clone()), FetchHttp::default()).map_err(to_js)?;
        self.jeedom = Some(JeedomTarget { url, key: Secret::new(api_key), options, current });
        Ok(())
    }

    /// `options`: `{since?, resolution?, dryRun?, retryBlocked?,
    /// maxWaitSeconds?, mapping?, startIndex?}`; `on_progress(stage, done,
    /// total)`. Resolves to the report.
    pub fn run(&self, options: JsValue, on_progress: Option<Function>) -> Promise {
        let options: Result<RunOptions, JsValue> = from_js_value(options, "sync options", ErrorCode::InvalidInput, "sync");
        let (store, linky, weheat, energyid, mqtt) = (self.store.clone(), self.linky.clone(), self.weheat.clone(), self.energyid.clone(), self.mqtt);
        let homeassistant = self.homeassistant.as_ref().map(|ha| (ha.socket.clone(), ha.token.clone(), ha.options.clone()));
        let jeedom = self.jeedom.as_ref().map(|j| (j.url.clone(), j.key.clone(), j.options.clone(), j.current.clone()));
        promise(async move {
            let options = options?;
            let resolution = match options.resolution.as_deref() {
                None => Resolution::HalfHour,
                Some(name) => Resolution::parse(name)
                    .ok_or_else(|| to_js(Error::invalid_input(format!("resolution '{name}' is not one of half-hour, hour, day"))))?,
            };
            let max_wait = Duration::from_secs_f64(if options.max_wait_seconds.is_finite() { options.max_wait_seconds.max(0.0) } else { 0.0 });
            let energyid_sink = energyid.as_deref().map(|device| EnergyIdSink::new(device, options.mapping, options.start_index, max_wait));
            let mqtt_sink = mqtt.then(|| MqttSink::new(&store));
            let connection = match homeassistant {
                Some((socket, token, ha_options)) => Some((Connection::new(JsWebSocket::new(socket).map_err(to_js)?, token), ha_options)),
                None => None,
            };
            let ha = connection.as_ref().map(|(connection, ha_options)| HomeAssistantSink::new(connection, &store, &JsClock, ha_options.clone()));
            let jeedom_client = match &jeedom {
                Some((url, key, _, _)) => Some(Jeedom::new(url, key.clone(), FetchHttp::default()).map_err(to_js)?),
                None => None,
            };
            let jeedom_sink = match (&jeedom, &jeedom_client) {
                (Some((_, _, jeedom_options, current)), Some(client)) => {
                    let current = current.clone();
                    let gather: jeedom_sink::CurrentValues = Box::new(move || {
                        let current = current.clone();
                        Box::pin(async move { current_values(&current).await })
                    });
                    Some(JeedomSink::new(client, &store, &JsClock, jeedom_sink::Options { dry_run: options.dry_run, ..jeedom_options.clone() }, gather))
                }
                _ => None,
            };
            let linky_source = linky.as_deref().map(LinkySource::new);
            let weheat_source = weheat.as_deref().map(|client| WeheatSource::new(client, JsClock));
            let mut bridge = Bridge::new(&store, &JsClock);
            let sinks: [Option<&dyn Sink>; 4] = [
                energyid_sink.as_ref().map(|s| s as &dyn Sink),
                mqtt_sink.as_ref().map(|s| s as &dyn Sink),
                ha.as_ref().map(|s| s as &dyn Sink),
                jeedom_sink.as_ref().map(|s| s as &dyn Sink),
            ];
            for sink in sinks.into_iter().flatten() {
                bridge = bridge.sink(sink);
            }
            let sources: [Option<&dyn Source>; 2] = [linky_source.as_ref().map(|s| s as &dyn Source), weheat_source.as_ref().map(|s| s as &dyn Source)];
            for source in sources.into_iter().flatten() {
                bridge = bridge.source(source);
            }
            let sync_options = SyncOptions { since: options.since, resolution, dry_run: options.dry_run, retry_blocked: options.retry_blocked };
            let progress = |stage: &str, done: u32, total: u32| {
                if let Some(callback) = &on_progress {
                    // A failing progress callback must not stop the run.
                    let _ = callback.call3(&JsValue::NULL, &stage.into(), &done.into(), &total.into());
                }
            };
            // Boxed: a future of its own, not inlined into this one (see Bridge::run).
            let run: Pending<'_, _> = Box::pin(bridge.run(&sync_options, &progress));
            let report = run.await.map_err(to_js)?;
            to_value(&report)
        })
    }
}

/// The platform's current values for Jeedom: `current()` resolves to an array
/// of `{source, subject, cmd, value, atMs?}`.
async fn current_values(current: &Function) -> crate::core::Result<Vec<Current>> {
    let fail = |e: JsValue| from_js(&e, ErrorCode::InvalidInput, "gathering the current values for Jeedom");
    let promise = Promise::resolve(&current.call0(&JsValue::NULL).map_err(fail)?);
    let values = JsFuture::from(promise).await.map_err(fail)?;
    if values.is_undefined() || values.is_null() {
        return Ok(Vec::new());
    }
    serde_wasm_bindgen::from_value(values).map_err(|e| Error::invalid_input(format!("the current values for Jeedom: {e}")))
}

/// What an error code asks for: `person`, `retry_later` or `bad_input`
/// (undefined for a code wattbridge does not know).
#[wasm_bindgen]
pub fn disposition(code: &str) -> Option<String> {
    ErrorCode::parse(code).map(|c| c.disposition().as_str().to_owned())
}

/// The exit code of a process that ends with this error code: 2 bad input or
/// settings, 3 a person must act, 4 retry later, 1 anything else.
#[wasm_bindgen(js_name = exitCodeOf)]
pub fn exit_code_of(code: &str) -> i32 {
    ErrorCode::parse(code).map_or(1, |c| c.disposition().exit_code())
}


/// The WebSocket URL of a Home Assistant at `url` (`ha.url`, e.g.
/// `http://homeassistant.local:8123`): `ws(s)://host:port/api/websocket`.
/// https anywhere, plain http only to this machine (the token travels in it).
#[wasm_bindgen(js_name = homeAssistantSocketUrl)]
pub fn home_assistant_socket_url(url: &str) -> Result<String, JsValue> {
    let url = url.trim().trim_end_matches('/');
    crate::core::http::check_service_url("ha.url", url).map_err(|e| to_js(e.provider(crate::homeassistant::PROVIDER)))?;
    let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
    let scheme = if scheme.eq_ignore_ascii_case("https") { "wss" } else { "ws" };
    Ok(format!("{scheme}://{rest}/api/websocket"))
}
