//! `WebSocket` over a JS object with `send(text)` and `receive()` (a Promise
//! of the next text frame, rejected when the socket closed or stayed silent).
//! js/homeassistant.js makes one from `ws` in Node or the browser's WebSocket.

use super::error::from_js;
use crate::core::{Error, ErrorCode, Result, WebSocket};
use js_sys::{Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    pub type JsSocketObject;
    #[wasm_bindgen(method, catch)]
    fn send(this: &JsSocketObject, text: &str) -> std::result::Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn receive(this: &JsSocketObject) -> std::result::Result<JsValue, JsValue>;
}

pub struct JsWebSocket(JsSocketObject);

impl JsWebSocket {
    pub fn new(object: JsValue) -> Result<JsWebSocket> {
        for method in ["send", "receive"] {
            if !Reflect::get(&object, &JsValue::from_str(method)).is_ok_and(|f| f.is_function()) {
                return Err(Error::invalid_config(format!("the WebSocket transport must have send and receive methods (no `{method}`)")));
            }
        }
        Ok(JsWebSocket(object.unchecked_into()))
    }
}

async fn settle(call: std::result::Result<JsValue, JsValue>) -> Result<JsValue> {
    let promise = Promise::resolve(&call.map_err(|e| from_js(&e, ErrorCode::Network, "the WebSocket failed"))?);
    JsFuture::from(promise).await.map_err(|e| from_js(&e, ErrorCode::Network, "the WebSocket failed"))
}

impl WebSocket for JsWebSocket {
    async fn send(&self, text: String) -> Result<()> {
        settle(self.0.send(&text)).await.map(drop)
    }

    async fn receive(&self) -> Result<String> {
        settle(self.0.receive()).await?.as_string().ok_or_else(|| Error::new(ErrorCode::BadResponse, "the WebSocket gave a frame that is not text"))
    }
}
