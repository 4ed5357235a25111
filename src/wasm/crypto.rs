//! `Crypto` over WebCrypto (`globalThis.crypto.subtle`, Node >= 19 and every
//! browser): SHA-256 without shipping a hash implementation in the wasm.

use super::error::from_js;
use crate::core::{Crypto, Error, ErrorCode, Result};
use js_sys::{Function, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[derive(Clone, Copy, Default)]
pub struct WebCrypto;

fn unavailable() -> Error {
    Error::new(ErrorCode::InvalidConfig, "WebCrypto (crypto.subtle) is not available here; use Node >= 20 or a secure (https) page")
}

impl Crypto for WebCrypto {
    async fn sha256(&self, data: &[u8]) -> Result<[u8; 32]> {
        let get = |target: &JsValue, name: &str| Reflect::get(target, &JsValue::from_str(name)).ok().filter(|v| !v.is_undefined());
        let subtle = get(&js_sys::global(), "crypto").and_then(|c| get(&c, "subtle")).ok_or_else(unavailable)?;
        let digest: Function = get(&subtle, "digest").ok_or_else(unavailable)?.dyn_into().map_err(|_| unavailable())?;
        let promise = digest
            .call2(&subtle, &JsValue::from_str("SHA-256"), &Uint8Array::from(data))
            .map_err(|e| from_js(&e, ErrorCode::InvalidConfig, "crypto.subtle.digest failed"))?;
        let buffer = JsFuture::from(js_sys::Promise::resolve(&promise))
            .await
            .map_err(|e| from_js(&e, ErrorCode::InvalidConfig, "crypto.subtle.digest failed"))?;
        let bytes = Uint8Array::new(&buffer).to_vec();
        bytes.try_into().map_err(|_| Error::new(ErrorCode::BadResponse, "SHA-256 digest is not 32 bytes"))
    }
}
