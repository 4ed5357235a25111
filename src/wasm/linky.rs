//! `LinkySession` for JS: meters, fetching into the history, export, status.
//! Login and logout go through `OAuthSession` with [`oauthConfig`]'s settings.

use super::clock::JsClock;
use super::crypto::WebCrypto;
use super::error::{from_js_value, promise, settle, settle_json, to_js, to_value};
use super::http::FetchHttp;
use super::store::JsStore;
use crate::core::{Error, ErrorCode};
use crate::linky::stats::Tariff;
use crate::linky::{self, export, Date, LinkyConfig, Series};
use js_sys::{Function, Promise};
use std::rc::Rc;
use wasm_bindgen::prelude::*;

pub(super) type Client = linky::Linky<FetchHttp, JsStore, JsClock, WebCrypto>;

#[wasm_bindgen(js_name = LinkySession)]
pub struct JsLinkySession {
    pub(super) client: Rc<Client>,
    config: LinkyConfig,
}

fn series(name: &str) -> Result<Series, JsValue> {
    Series::parse(name).ok_or_else(|| {
        let names: Vec<&str> = Series::ALL.iter().map(|s| s.name()).collect();
        to_js(Error::invalid_input(format!("unknown series '{name}': use one of {}", names.join(", "))).provider(linky::PROVIDER))
    })
}

fn date(text: Option<String>, what: &str) -> Result<Option<Date>, JsValue> {
    match text.filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(text) => Date::parse(&text)
            .map(Some)
            .ok_or_else(|| to_js(Error::invalid_input(format!("{what} '{text}' is not a date (YYYY-MM-DD)")).provider(linky::PROVIDER))),
    }
}

#[wasm_bindgen(js_class = LinkySession)]
impl JsLinkySession {
    /// `config`: the core's `LinkyConfig` (camelCase); `store`: `{ get, put, delete }`.
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue, store: JsValue) -> Result<JsLinkySession, JsValue> {
        let config: LinkyConfig = from_js_value(config, "Linky settings", ErrorCode::InvalidConfig, linky::PROVIDER)?;
        let store = JsStore::new(store).map_err(to_js)?;
        let client = Client::new(config.clone(), FetchHttp::default(), store, JsClock, WebCrypto).map_err(to_js)?;
        Ok(JsLinkySession { client: Rc::new(client), config })
    }

    /// `gateway`, `conso` or `enedis`.
    pub fn access(&self) -> String {
        self.client.access().to_owned()
    }

    /// The `OAuthSession` settings for logging in (null for a Conso token).
    #[wasm_bindgen(js_name = oauthConfig)]
    pub fn oauth_config(&self) -> Result<JsValue, JsValue> {
        to_value(&self.config.oauth_config().map_err(to_js)?)
    }

    pub fn meters(&self) -> Promise {
        let client = self.client.clone();
        promise(async move { settle(client.meters().await) })
    }

    /// Fetch a series into the history; `on_progress` gets `(done, total)`.
    pub fn fetch(&self, series_name: String, from: Option<String>, to: Option<String>, on_progress: Option<Function>) -> Promise {
        let client = self.client.clone();
        promise(async move {
            let (series, from, to) = (series(&series_name)?, date(from, "--from")?, date(to, "--to")?);
            let progress = |p: linky::Progress| {
                if let Some(callback) = &on_progress {
                    // A failing progress callback must not stop a fetch.
                    let _ = callback.call2(&JsValue::NULL, &p.done.into(), &p.total.into());
                }
            };
            settle(client.fetch(series, from, to, progress).await)
        })
    }

    /// Stored values of `[from, to)` as `json` or `csv` text.
    pub fn export(&self, series_name: String, from: String, to: String, format: String) -> Promise {
        let client = self.client.clone();
        promise(async move {
            let series = series(&series_name)?;
            let (from, to) = (date(Some(from), "--from")?.unwrap_or(Date(0)), date(Some(to), "--to")?.unwrap_or(client.today()));
            let points = client.points(series, from, to).await.map_err(to_js)?;
            match format.as_str() {
                "csv" => Ok(JsValue::from_str(&export::to_csv(series, &points))),
                "json" => Ok(JsValue::from_str(&export::to_json(series, &points))),
                other => Err(to_js(Error::invalid_input(format!("unknown format '{other}': use json or csv")))),
            }
        })
    }

    /// Periods, daily and hourly energy from the history; `tariff`:
    /// `{tariff: "base"|"hphc", priceBase, priceHp, priceHc, offpeakHours}` or undefined.
    pub fn stats(&self, tariff: JsValue, from: Option<String>, to: Option<String>) -> Promise {
        let client = self.client.clone();
        let tariff = tariff_of(tariff);
        promise(async move {
            let tariff = tariff?;
            let (from, to) = (date(from, "--from")?, date(to, "--to")?);
            settle(client.stats(tariff.as_ref(), from, to).await)
        })
    }

    /// Stored energy from `from_secs` on (all when not given) as `[{start, end, kwh}]`.
    #[wasm_bindgen(js_name = energySince)]
    pub fn energy_since(&self, series_name: String, from_secs: Option<f64>) -> Promise {
        let client = self.client.clone();
        promise(async move { settle(client.energy_since(series(&series_name)?, from_secs.map(|s| s as i64)).await) })
    }

    /// Keep gateway tokens obtained by another install (JSON text); resolves
    /// to the token status, never the tokens.
    #[wasm_bindgen(js_name = importTokens)]
    pub fn import_tokens(&self, json: String) -> Promise {
        let client = self.client.clone();
        let json = crate::core::Secret::new(json);
        promise(async move { settle(client.import_tokens(&json).await) })
    }

    pub fn status(&self) -> Promise {
        let client = self.client.clone();
        promise(async move { settle(client.status().await) })
    }

    /// Own Enedis app: the consent page URL.
    #[wasm_bindgen(js_name = consentUrl)]
    pub fn consent_url(&self, redirect_uri: Option<String>) -> Promise {
        let client = self.client.clone();
        promise(async move { settle(client.consent_url(redirect_uri.as_deref()).await) })
    }

    /// Own Enedis app: read the consent redirect; resolves to the meters.
    #[wasm_bindgen(js_name = completeConsent)]
    pub fn complete_consent(&self, callback_url: String) -> Promise {
        let client = self.client.clone();
        promise(async move { settle(client.complete_consent(&callback_url).await) })
    }
}


#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct TariffSettings {
    #[serde(default)]
    tariff: Option<String>,
    #[serde(default)]
    price_base: Option<f64>,
    #[serde(default)]
    price_hp: Option<f64>,
    #[serde(default)]
    price_hc: Option<f64>,
    #[serde(default)]
    offpeak_hours: Option<String>,
}

/// No prices, no tariff: statistics then come without cost.
pub(super) fn tariff_of(value: JsValue) -> Result<Option<Tariff>, JsValue> {
    if value.is_null() || value.is_undefined() {
        return Ok(None);
    }
    let s: TariffSettings = from_js_value(value, "tariff settings", ErrorCode::InvalidConfig, linky::PROVIDER)?;
    if s.price_base.is_none() && s.price_hp.is_none() && s.price_hc.is_none() {
        return Ok(None);
    }
    let kind = s.tariff.as_deref().unwrap_or("base");
    Tariff::parse(kind, s.price_base, s.price_hp, s.price_hc, s.offpeak_hours.as_deref())
        .map(Some)
        .map_err(|e| to_js(e.provider(linky::PROVIDER)))
}

/// Read an Enedis metering answer (Data Connect or Conso API JSON) without
/// fetching anything: JSON of `{points: [{start, end, value, at?}], holes}`,
/// times in UTC unix ms.
#[wasm_bindgen(js_name = parseEnedisAnswer)]
pub fn parse_enedis_answer(series_name: &str, body: String) -> Result<JsValue, JsValue> {
    let series = series(series_name)?;
    let answer = linky::api::parse_answer(series, &crate::core::HttpResponse::new(200, body)).map_err(to_js)?;
    // One JSON text: a year of half-hours crosses faster so (measured, bench).
    settle_json(Ok(ParsedAnswer { points: answer.points, holes: answer.holes }))
}

#[derive(serde::Serialize)]
struct ParsedAnswer {
    points: Vec<linky::Point>,
    holes: Vec<linky::model::Hole>,
}
