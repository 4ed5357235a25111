//! `Store` over any JS object with `get(key)`, `put(key, text)` and
//! `delete(key)`, each returning a value or a Promise. The package's
//! FileStore, MemoryStore, LocalStorageStore and ChromeStorageStore all fit.

use super::error::from_js;
use crate::core::{Error, ErrorCode, Result, Store};
use js_sys::{Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    #[derive(Clone)]
    pub type JsStoreObject;
    #[wasm_bindgen(method, catch)]
    fn get(this: &JsStoreObject, key: &str) -> std::result::Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn put(this: &JsStoreObject, key: &str, document: &str) -> std::result::Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn delete(this: &JsStoreObject, key: &str) -> std::result::Result<JsValue, JsValue>;
}

#[derive(Clone)]
pub struct JsStore(JsStoreObject);

impl JsStore {
    pub fn new(object: JsValue) -> Result<JsStore> {
        for method in ["get", "put", "delete"] {
            let is_function = Reflect::get(&object, &JsValue::from_str(method)).is_ok_and(|f| f.is_function());
            if !is_function {
                return Err(Error::invalid_config(format!(
                    "the store must be an object with get, put and delete methods (no `{method}`)"
                )));
            }
        }
        Ok(JsStore(object.unchecked_into()))
    }
}

/// Await a store call whether it returned a Promise or a plain value.
async fn settle(call: std::result::Result<JsValue, JsValue>, what: &str) -> Result<JsValue> {
    let promise = Promise::resolve(&call.map_err(|e| from_js(&e, ErrorCode::Storage, what))?);
    JsFuture::from(promise).await.map_err(|e| from_js(&e, ErrorCode::Storage, what))
}

impl Store for JsStore {
    async fn get(&self, key: &str) -> Result<Option<String>> {
        let value = settle(self.0.get(key), &format!("store.get('{key}') failed")).await?;
        if value.is_null() || value.is_undefined() {
            return Ok(None);
        }
        value.as_string().map(Some).ok_or_else(|| {
            Error::new(ErrorCode::Storage, format!("store.get('{key}') must return a string or null"))
        })
    }

    async fn put(&self, key: &str, document: &str) -> Result<()> {
        settle(self.0.put(key, document), &format!("store.put('{key}') failed")).await.map(drop)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        settle(self.0.delete(key), &format!("store.delete('{key}') failed")).await.map(drop)
    }
}
