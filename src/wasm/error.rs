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

/// Turn a core result into what an exported function resolves with: a plain
/// JS value (objects, arrays, null for `None`), through serde-wasm-bindgen.
pub fn settle<T: serde::Serialize>(result: crate::core::Result<T>) -> Result<JsValue, JsValue> {
    to_value(&result.map_err(to_js)?)
}

/// A Rust value as a plain JS value: objects rather than `Map`s, `null` for
/// `None`, numbers for integers (timestamps in ms fit a double exactly).
pub fn to_value<T: serde::Serialize + ?Sized>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|err| to_js(Error::new(ErrorCode::BadResponse, format!("cannot hand the result to JS: {err}"))))
}

/// The exception for large answers that JS reads as one JSON text (a year of
/// half-hours parses faster with one JSON.parse than as a tree of values).
pub fn settle_json<T: serde::Serialize>(result: crate::core::Result<T>) -> Result<JsValue, JsValue> {
    let json = serde_json::to_string(&result.map_err(to_js)?)
        .map_err(|err| to_js(Error::new(ErrorCode::BadResponse, format!("cannot hand the result to JS: {err}"))))?;
    Ok(JsValue::from_str(&json))
}

/// `future_to_promise` for every exported async method. Boxing the future
/// first means one instantiation of wasm-bindgen-futures' task and promise
/// glue for the whole module instead of one per method.
pub fn promise(future: impl std::future::Future<Output = Result<JsValue, JsValue>> + 'static) -> js_sys::Promise {
    let future: std::pin::Pin<Box<dyn std::future::Future<Output = Result<JsValue, JsValue>>>> = Box::pin(future);
    wasm_bindgen_futures::future_to_promise(future)
}

/// Read a JS value handed over by the glue (settings, readings, options);
/// `what` names it in the error, which never echoes the value itself.
pub fn from_js_value<T: serde::de::DeserializeOwned>(value: JsValue, what: &str, code: ErrorCode, provider: &'static str) -> Result<T, JsValue> {
    serde_wasm_bindgen::from_value(value).map_err(|err| to_js(Error::new(code, format!("{what}: {}", without_strings(&err.to_string()))).provider(provider)))
}

/// serde's "invalid type: string \"…\"" quotes the value it got, which may be a
/// secret given in the wrong place: keep the message, drop the quoted text.
fn without_strings(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quoted = false;
    for c in message.chars() {
        if c == '"' {
            if !quoted {
                out.push_str("\"…\"");
            }
            quoted = !quoted;
        } else if !quoted {
            out.push(c);
        }
    }
    out
}
