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

#[cfg(feature = "openadr")]
mod public_key {
    use super::*;
    use crate::core::{PbkdfHash, PublicKeyCrypto, SignatureAlgorithm};
    use js_sys::{Array, Object};

    fn subtle() -> Result<JsValue> {
        let get = |target: &JsValue, name: &str| Reflect::get(target, &JsValue::from_str(name)).ok().filter(|v| !v.is_undefined());
        get(&js_sys::global(), "crypto").and_then(|c| get(&c, "subtle")).ok_or_else(unavailable)
    }

    fn object(pairs: &[(&str, JsValue)]) -> JsValue {
        let object = Object::new();
        for (key, value) in pairs {
            let _ = Reflect::set(&object, &JsValue::from_str(key), value);
        }
        object.into()
    }

    /// `crypto.subtle[method](...args)`, awaited. WebCrypto's own messages
    /// never contain key material.
    async fn call(method: &str, args: &[JsValue], code: ErrorCode) -> Result<JsValue> {
        let subtle = subtle()?;
        let function: Function = Reflect::get(&subtle, &JsValue::from_str(method)).ok().and_then(|f| f.dyn_into().ok()).ok_or_else(unavailable)?;
        let context = format!("crypto.subtle.{method} failed");
        let promise = function.apply(&subtle, &args.iter().collect::<Array>()).map_err(|e| from_js(&e, code, &context))?;
        JsFuture::from(js_sys::Promise::resolve(&promise)).await.map_err(|e| from_js(&e, code, &context))
    }

    fn params(algorithm: SignatureAlgorithm) -> (JsValue, JsValue) {
        match algorithm {
            SignatureAlgorithm::RsaSha256 => (
                object(&[("name", "RSASSA-PKCS1-v1_5".into()), ("hash", "SHA-256".into())]),
                object(&[("name", "RSASSA-PKCS1-v1_5".into())]),
            ),
            SignatureAlgorithm::EcdsaP256Sha256 => (
                object(&[("name", "ECDSA".into()), ("namedCurve", "P-256".into())]),
                object(&[("name", "ECDSA".into()), ("hash", "SHA-256".into())]),
            ),
        }
    }

    fn usages(usage: &str) -> JsValue {
        Array::of1(&JsValue::from_str(usage)).into()
    }

    impl PublicKeyCrypto for WebCrypto {
        async fn sign(&self, algorithm: SignatureAlgorithm, pkcs8_der: &[u8], data: &[u8]) -> Result<Vec<u8>> {
            let (import, sign) = params(algorithm);
            let key = call("importKey", &["pkcs8".into(), Uint8Array::from(pkcs8_der).into(), import, false.into(), usages("sign")], ErrorCode::InvalidConfig).await?;
            let signature = call("sign", &[sign, key, Uint8Array::from(data).into()], ErrorCode::InvalidConfig).await?;
            Ok(Uint8Array::new(&signature).to_vec())
        }

        async fn verify(&self, algorithm: SignatureAlgorithm, spki_der: &[u8], data: &[u8], signature: &[u8]) -> Result<bool> {
            let (import, verify) = params(algorithm);
            let key = call("importKey", &["spki".into(), Uint8Array::from(spki_der).into(), import, false.into(), usages("verify")], ErrorCode::SignatureInvalid).await?;
            let ok = call("verify", &[verify, key, Uint8Array::from(signature).into(), Uint8Array::from(data).into()], ErrorCode::SignatureInvalid).await?;
            Ok(ok.as_bool() == Some(true))
        }

        async fn pbkdf2(&self, hash: PbkdfHash, password: &[u8], salt: &[u8], iterations: u32, length: usize) -> Result<Vec<u8>> {
            let key = call("importKey", &["raw".into(), Uint8Array::from(password).into(), "PBKDF2".into(), false.into(), usages("deriveBits")], ErrorCode::InvalidConfig).await?;
            let hash = match hash {
                PbkdfHash::Sha1 => "SHA-1",
                PbkdfHash::Sha256 => "SHA-256",
            };
            let algorithm = object(&[("name", "PBKDF2".into()), ("salt", Uint8Array::from(salt).into()), ("iterations", iterations.into()), ("hash", hash.into())]);
            let bits = call("deriveBits", &[algorithm, key, ((length * 8) as u32).into()], ErrorCode::InvalidConfig).await?;
            Ok(Uint8Array::new(&bits).to_vec())
        }

        async fn aes_cbc_decrypt(&self, key: &[u8], iv: &[u8], data: &[u8]) -> Result<Vec<u8>> {
            let key = call("importKey", &["raw".into(), Uint8Array::from(key).into(), "AES-CBC".into(), false.into(), usages("decrypt")], ErrorCode::InvalidConfig).await?;
            let algorithm = object(&[("name", "AES-CBC".into()), ("iv", Uint8Array::from(iv).into())]);
            let plain = call("decrypt", &[algorithm, key, Uint8Array::from(data).into()], ErrorCode::InvalidCredentials).await?;
            Ok(Uint8Array::new(&plain).to_vec())
        }
    }
}
