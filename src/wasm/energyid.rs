//! `EnergyIdDevice` for JS. Methods return Promises that resolve to JSON
//! strings (never holding the webhook headers) or reject with a `WattbridgeError`.

use super::clock::JsClock;
use super::error::{from_json, promise, settle, to_js};
use super::http::FetchHttp;
use super::store::JsStore;
use crate::core::ErrorCode;
use crate::energyid::device::FlushOptions;
use crate::energyid::{self, EnergyIdConfig, Reading};
use js_sys::{Function, Promise};
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::prelude::*;

type Device = energyid::EnergyIdDevice<FetchHttp, JsStore, JsClock>;

#[wasm_bindgen(js_name = EnergyIdDevice)]
pub struct JsEnergyIdDevice {
    // Rc: each call's future owns a handle, so concurrent calls never fight
    // over a borrow of the exported object.
    device: Rc<Device>,
}

fn readings(json: &str) -> Result<Vec<Reading>, JsValue> {
    from_json(json, "readings must look like [{ts, el: 1250.5}]", ErrorCode::InvalidInput, energyid::PROVIDER)
}

/// Seconds from JS: negative, NaN or infinite mean no wait; more than 584
/// years is 584 years (what the waits below can count in ms).
fn seconds(value: f64) -> Duration {
    if !value.is_finite() || value <= 0.0 {
        return Duration::ZERO;
    }
    Duration::try_from_secs_f64(value).map_or(Duration::from_nanos(u64::MAX), |d| d.min(Duration::from_nanos(u64::MAX)))
}

#[wasm_bindgen(js_class = EnergyIdDevice)]
impl JsEnergyIdDevice {
    /// `config`: JSON of `{ helloUrl?, provisioningKey, provisioningSecret,
    /// deviceId?, deviceName?, firmwareVersion?, batchCap?, allowedKeys? }`;
    /// `store`: `{ get, put, delete }`.
    #[wasm_bindgen(constructor)]
    pub fn new(config: &str, store: JsValue) -> Result<JsEnergyIdDevice, JsValue> {
        let config: EnergyIdConfig =
            from_json(config, "EnergyID settings", ErrorCode::InvalidConfig, energyid::PROVIDER)?;
        let store = JsStore::new(store).map_err(to_js)?;
        let device = Device::new(config, FetchHttp, store, JsClock).map_err(to_js)?;
        Ok(JsEnergyIdDevice { device: Rc::new(device) })
    }

    /// Say hello; resolves to `{status: "needs_claiming", claimCode, claimUrl,
    /// expiresAt, deviceId}` or `{status: "claimed", ...}`.
    pub fn hello(&self) -> Promise {
        let device = self.device.clone();
        promise(async move { settle(device.hello().await) })
    }

    /// Queue readings (JSON of `[{ts, el, ...}]`, ts in unix seconds) and send what the policy allows now.
    pub fn send(&self, json: String) -> Promise {
        let device = self.device.clone();
        promise(async move { settle(device.send(&readings(&json)?).await) })
    }

    /// Queue readings only.
    pub fn enqueue(&self, json: String) -> Promise {
        let device = self.device.clone();
        promise(async move { settle(device.enqueue(&readings(&json)?).await) })
    }

    /// Send the outbox, waiting for the policy up to `max_wait_secs`;
    /// `on_progress(sent, total)` counts readings.
    pub fn flush(&self, max_wait_secs: f64, on_progress: Option<Function>) -> Promise {
        let device = self.device.clone();
        promise(async move {
            let progress = |sent: usize, total: usize| {
                if let Some(callback) = &on_progress {
                    let _ = callback.call2(&JsValue::NULL, &(sent as f64).into(), &(total as f64).into());
                }
            };
            settle(device.flush(FlushOptions { max_wait: seconds(max_wait_secs) }, progress).await)
        })
    }

    #[wasm_bindgen(js_name = claimInfo)]
    pub fn claim_info(&self) -> Promise {
        let device = self.device.clone();
        promise(async move { settle(device.claim_info().await) })
    }

    /// Hello every `poll_secs` until claimed; `on_code` gets the JSON of each new claim.
    #[wasm_bindgen(js_name = waitForClaim)]
    pub fn wait_for_claim(&self, poll_secs: f64, timeout_secs: f64, on_code: Function) -> Promise {
        let device = self.device.clone();
        promise(async move {
            let show = |claim: &energyid::model::Claim| {
                let json = serde_json::to_string(claim).unwrap_or_default();
                let _ = on_code.call1(&JsValue::NULL, &JsValue::from_str(&json));
            };
            settle(device.wait_for_claim(seconds(poll_secs), seconds(timeout_secs), show).await)
        })
    }

    pub fn status(&self) -> Promise {
        let device = self.device.clone();
        promise(async move { settle(device.status().await) })
    }

    /// Readings still queued, oldest first.
    pub fn pending(&self) -> Promise {
        let device = self.device.clone();
        promise(async move { settle(device.pending().await) })
    }

    /// Directives (list, or one with `id`) as EnergyID sends them.
    pub fn directives(&self, id: Option<String>) -> Promise {
        let device = self.device.clone();
        promise(async move { settle(device.directives(id.as_deref()).await) })
    }
}
