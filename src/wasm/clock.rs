//! `Clock` over `Date.now()` and `setTimeout`, both globals in Node and browsers.

use crate::core::Clock;
use js_sys::{Function, Promise};
use std::time::Duration;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, milliseconds: f64);
}

#[derive(Clone, Copy, Default)]
pub struct JsClock;

impl Clock for JsClock {
    fn now_ms(&self) -> i64 {
        js_sys::Date::now() as i64
    }

    async fn sleep(&self, duration: Duration) {
        let milliseconds = duration.as_millis() as f64;
        let promise = Promise::new(&mut |resolve, _reject| set_timeout(&resolve, milliseconds));
        // A timer promise only ever resolves.
        let _ = JsFuture::from(promise).await;
    }

    fn random_fraction(&self) -> f64 {
        // crypto.getRandomValues; without it, jitter degrades to none.
        crate::core::crypto::random_fraction().unwrap_or(0.5)
    }
}
