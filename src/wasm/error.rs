//! Core `Error` <-> JS `WattbridgeError`.

use crate::core::{Error, ErrorCode};
use js_sys::{Function, Object, Reflect};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

thread_local! {
    static ERROR_CLASS: RefCell<Option<Function>> = const { RefCell::new(None) };
}

/// Called once by the package entry with its `WattbridgeError` class, so that
/// errors thrown from Rust are `instanceof WattbridgeError` in user code.
#[wasm_bindgen(js_name = setErrorClass)]
pub fn set_error_class(class: Function) {
    ERROR_CLASS.with(|slot| *slot.borrow_mut() = Some(class));
}

pub fn to_js(error: Error) -> JsValue {
    let details = Object::new();
    let set = |key: &str, value: JsValue| {
        let _ = Reflect::set(&details, &JsValue::from_str(key), &value);
    };
    set("code", error.code.as_str().into());
    set("provider", error.provider.as_deref().map_or(JsValue::NULL, JsValue::from_str));
    set("status", error.status.map_or(JsValue::NULL, JsValue::from));
    set("retryAfter", error.retry_after.map_or(JsValue::NULL, |s| JsValue::from(s as f64)));

    let class = ERROR_CLASS.with(|slot| slot.borrow().clone());
    let args = js_sys::Array::of2(&JsValue::from_str(&error.message), &details);
    if let Some(class) = class {
        if let Ok(instance) = Reflect::construct(&class, &args) {
            return instance;
        }
    }
    // Without the package entry (raw pkg/ use): a plain Error with the same fields.
    let plain = js_sys::Error::new(&error.message);
    plain.set_name("WattbridgeError");
    let _ = Object::assign(&plain, &details);
    plain.into()
}

/// Read an exception thrown by JS code we called (a store, a callback). A
/// `WattbridgeError` keeps its code; anything else gets `fallback`.
pub fn from_js(value: &JsValue, fallback: ErrorCode, context: &str) -> Error {
    let field = |name: &str| Reflect::get(value, &JsValue::from_str(name)).ok().and_then(|v| v.as_string());
    let message = field("message").or_else(|| value.as_string()).unwrap_or_else(|| "unknown error".to_owned());
    let code = field("code").and_then(|c| ErrorCode::parse(&c)).unwrap_or(fallback);
    if code == fallback {
        Error::new(code, format!("{context}: {message}"))
    } else {
        Error::new(code, message)
    }
}

/// Turn a core result into what an exported async function resolves with: a
/// JSON string the JS glue parses. One JSON string crosses the boundary faster
/// than a tree of JS values and spares serde-wasm-bindgen's code (6 KB gzipped,
/// measured) since serde_json is in the module anyway.
pub fn settle<T: serde::Serialize>(result: crate::core::Result<T>) -> Result<JsValue, JsValue> {
    // Generic only in the serialisation; the error mapping is compiled once.
    settle_json(result.map(|value| serde_json::to_string(&value)))
}

fn settle_json(result: crate::core::Result<serde_json::Result<String>>) -> Result<JsValue, JsValue> {
    match result.map_err(to_js)? {
        Ok(json) => Ok(JsValue::from_str(&json)),
        Err(err) => Err(to_js(Error::new(ErrorCode::BadResponse, format!("cannot hand result to JS: {err}")))),
    }
}

/// `future_to_promise` for every exported async method. Boxing the future
/// first means one instantiation of wasm-bindgen-futures' task and promise
/// glue for the whole module instead of one per method.
pub fn promise(future: impl std::future::Future<Output = Result<JsValue, JsValue>> + 'static) -> js_sys::Promise {
    let future: std::pin::Pin<Box<dyn std::future::Future<Output = Result<JsValue, JsValue>>>> = Box::pin(future);
    wasm_bindgen_futures::future_to_promise(future)
}

/// Decode a JSON string handed over by the JS glue.
pub fn from_json<T: serde::de::DeserializeOwned>(json: &str, what: &str, code: ErrorCode, provider: &'static str) -> Result<T, JsValue> {
    serde_json::from_str(json).map_err(|err| input_error(&err, what, code, provider))
}

fn input_error(err: &serde_json::Error, what: &str, code: ErrorCode, provider: &'static str) -> JsValue {
    to_js(Error::new(code, format!("{what}: {}", crate::core::error::json_reason(err))).provider(provider))
}
