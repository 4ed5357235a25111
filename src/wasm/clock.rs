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
        // setTimeout fires at once for delays over 2^31 - 1 ms: wait in steps
        // (and a zero wait still yields to the event loop once, as before).
        let steps: Vec<u64> = crate::core::clock::timer_steps(duration).collect();
        for step in if steps.is_empty() { vec![0] } else { steps } {
            let promise = Promise::new(&mut |resolve, _reject| set_timeout(&resolve, step as f64));
            // A timer promise only ever resolves.
            let _ = JsFuture::from(promise).await;
        }
    }

    fn random_fraction(&self) -> f64 {
        // crypto.getRandomValues; without it, jitter degrades to none.
        crate::core::crypto::random_fraction().unwrap_or(0.5)
    }
}
