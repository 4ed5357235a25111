//! `OpenAdrVenCore` for JS: the VEN loop with fetch, JS timers, WebCrypto and
//! JS callbacks (`onEvent` may return a Promise). Events and notices cross as plain objects.

use super::clock::JsClock;
use super::crypto::WebCrypto;
use super::error::{from_js, from_js_value, promise, settle, to_js, to_value};
use super::http::FetchHttp;
use crate::core::{Error, ErrorCode, Result};
use crate::openadr::{Event, Notice, Opt, ReportOffer, ReportPayload, Ven, VenConfig, VenHandler, PROVIDER};
use js_sys::{Function, Promise};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

pub struct JsHandler {
    on_event: Function,
    report_value: Function,
    on_notice: Function,
}

/// Call a JS callback and await it when it returns a Promise.
async fn call(function: &Function, arg: JsValue, what: &str) -> Result<JsValue> {
    let value = function.call1(&JsValue::NULL, &arg).map_err(|e| from_js(&e, ErrorCode::InvalidInput, what))?;
    JsFuture::from(Promise::resolve(&value)).await.map_err(|e| from_js(&e, ErrorCode::InvalidInput, what))
}

impl VenHandler for JsHandler {
    async fn on_event(&self, event: &Event) -> Result<Opt> {
        let event = to_value(event).map_err(|e| from_js(&e, ErrorCode::BadResponse, "an event could not be handed to JS"))?;
        let answer = call(&self.on_event, event, "the onEvent handler failed").await?;
        match answer.as_string().as_deref() {
            Some("optIn") => Ok(Opt::In),
            Some("optOut") => Ok(Opt::Out),
            _ => Err(Error::invalid_input("the onEvent handler must return 'optIn' or 'optOut'").provider(PROVIDER)),
        }
    }

    async fn report_value(&self, r_id: &str) -> Result<ReportPayload> {
        let value = call(&self.report_value, JsValue::from_str(r_id), "a report callback failed").await?;
        // A number or a resource status; the core checks it fits the report.
        match value.as_f64() {
            Some(number) => Ok(ReportPayload::Float(number)),
            // serde's own message may quote what it got: not kept.
            None => serde_wasm_bindgen::from_value(value).map(ReportPayload::ResourceStatus).map_err(|_| {
                Error::invalid_input(format!("the report callback of {r_id} must return a number, or a resource status {{online, manualOverride, loadControlState?}}")).provider(PROVIDER)
            }),
        }
    }

    fn notice(&self, notice: Notice) {
        // A failing listener must not break the VEN loop.
        if let Ok(notice) = to_value(&notice) {
            let _ = self.on_notice.call1(&JsValue::NULL, &notice);
        }
    }
}

type Core = Ven<FetchHttp, JsClock, WebCrypto, JsHandler>;

#[wasm_bindgen(js_name = OpenAdrVenCore)]
pub struct JsOpenAdrVen {
    ven: Rc<Core>,
}

#[wasm_bindgen(js_class = OpenAdrVenCore)]
impl JsOpenAdrVen {
    /// `config`: `VenConfig` (camelCase). `on_event(event)` → 'optIn' | 'optOut'
    /// (or a Promise of it); `report_value(rId)` → number; `on_notice(notice)`;
    /// `fetch(request)`, when given, carries every request instead of the
    /// global fetch (Node: one with an undici dispatcher for the TLS options).
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue, on_event: Function, report_value: Function, on_notice: Function, fetch: Option<Function>) -> std::result::Result<JsOpenAdrVen, JsValue> {
        let config: VenConfig = from_js_value(config, "OpenADR VEN settings", ErrorCode::InvalidConfig, PROVIDER)?;
        let handler = JsHandler { on_event, report_value, on_notice };
        let http = fetch.map_or_else(FetchHttp::default, FetchHttp::with_fetch);
        let ven = Ven::new(config, http, JsClock, WebCrypto, handler).map_err(to_js)?;
        Ok(JsOpenAdrVen { ven: Rc::new(ven) })
    }

    pub fn register(&self) -> Promise {
        let ven = self.ven.clone();
        promise(async move { settle(ven.register().await.map(|()| ven.ven_id())) })
    }

    /// Resolves when `stop()` was called and the loop ended.
    pub fn run(&self) -> Promise {
        let ven = self.ven.clone();
        promise(async move { settle(ven.run().await) })
    }

    pub fn stop(&self) {
        self.ven.stop();
    }

    /// The events still to come or under way, soonest first (OpenLEADR's shape).
    #[wasm_bindgen(js_name = nextEvents)]
    pub fn next_events(&self) -> std::result::Result<JsValue, JsValue> {
        to_value(&self.ven.next_events())
    }

    #[wasm_bindgen(js_name = cancelRegistration)]
    pub fn cancel_registration(&self) -> Promise {
        let ven = self.ven.clone();
        promise(async move { settle(ven.cancel_registration().await) })
    }
}

/// The rID a report offer goes by (its `rId`, else `{resourceId}_{measurement}`
/// with the measurement's element name), so that JS finds the callback the
/// VEN asks for.
#[wasm_bindgen(js_name = reportRid)]
pub fn report_r_id(offer: JsValue) -> std::result::Result<String, JsValue> {
    let offer: ReportOffer = from_js_value(offer, "a report", ErrorCode::InvalidInput, PROVIDER)?;
    Ok(offer.r_id())
}
