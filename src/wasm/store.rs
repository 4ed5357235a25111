//! `Store` over any JS object with `get(key)`, `put(key, text)` and
//! `delete(key)`, each returning a value or a Promise. The package's
//! FileStore, MemoryStore, LocalStorageStore and ChromeStorageStore all fit.
//! A store that also has `lock(key)` is locked through it too, so that the
//! changes of others sharing it serialize as well: other processes for the
//! FileStore (a lock file), other pages and workers for the browser stores
//! (a Web Lock).

use super::error::from_js;
use crate::core::store::DocumentLocks;
use crate::core::{Error, ErrorCode, Result, Store};
use js_sys::{Function, Promise, Reflect};
use std::future::Future;
use std::rc::Rc;
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
    #[wasm_bindgen(method, catch)]
    fn lock(this: &JsStoreObject, key: &str) -> std::result::Result<JsValue, JsValue>;
}

thread_local! {
    /// The in-process locks, one table for the whole wasm instance: every
    /// JsStore shares it, so the objects a page or a CLI run builds over one
    /// store serialize their changes. Two different stores with a document of
    /// the same key share a lock too, which costs a wait, never a deadlock
    /// (no change locks a second document).
    static LOCKS: Rc<DocumentLocks> = Rc::default();
}

#[derive(Clone)]
pub struct JsStore {
    object: JsStoreObject,
    /// The store has `lock(key)`, resolving to a release function: others
    /// (processes, pages, workers) share it.
    shared: bool,
}

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
        let shared = Reflect::get(&object, &JsValue::from_str("lock")).is_ok_and(|f| f.is_function());
        Ok(JsStore { object: object.unchecked_into(), shared })
    }
}

/// Await a store call whether it returned a Promise or a plain value.
async fn settle(call: std::result::Result<JsValue, JsValue>, what: &str) -> Result<JsValue> {
    let promise = Promise::resolve(&call.map_err(|e| from_js(&e, ErrorCode::Storage, what))?);
    JsFuture::from(promise).await.map_err(|e| from_js(&e, ErrorCode::Storage, what))
}

impl Store for JsStore {
    async fn get(&self, key: &str) -> Result<Option<String>> {
        let value = settle(self.object.get(key), &format!("store.get('{key}') failed")).await?;
        if value.is_null() || value.is_undefined() {
            return Ok(None);
        }
        value.as_string().map(Some).ok_or_else(|| {
            Error::new(ErrorCode::Storage, format!("store.get('{key}') must return a string or null"))
        })
    }

    async fn put(&self, key: &str, document: &str) -> Result<()> {
        settle(self.object.put(key, document), &format!("store.put('{key}') failed")).await.map(drop)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        settle(self.object.delete(key), &format!("store.delete('{key}') failed")).await.map(drop)
    }

    async fn locked<T>(&self, key: &str, change: impl Future<Output = Result<T>>) -> Result<T> {
        let locks = LOCKS.with(Rc::clone);
        let _in_process = locks.lock(key).await;
        if !self.shared {
            return change.await;
        }
        let release = settle(self.object.lock(key), &format!("store.lock('{key}') failed")).await?;
        let release: Function = release
            .dyn_into()
            .map_err(|_| Error::new(ErrorCode::Storage, format!("store.lock('{key}') must resolve to a release function")))?;
        let result = change.await;
        let released = settle(release.call0(&JsValue::UNDEFINED), &format!("releasing the lock of '{key}' failed")).await;
        // A failed change says more than a failed release after it.
        let value = result?;
        released?;
        Ok(value)
    }
}
