//! `EnergyIdDevice` for JS. Methods return Promises that resolve to JSON
//! strings (never holding the webhook headers) or reject with a `WattbridgeError`.

use super::clock::JsClock;
use super::error::{from_js_value, promise, settle, to_js, to_value};
use super::http::FetchHttp;
use super::store::JsStore;
use crate::core::ErrorCode;
use crate::energyid::client::FlushOptions;
use crate::energyid::{self, EnergyIdConfig, Reading};
use js_sys::{Function, Promise};
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::prelude::*;

pub(super) type Device = energyid::EnergyIdDevice<FetchHttp, JsStore, JsClock>;

#[wasm_bindgen(js_name = EnergyIdDevice)]
pub struct JsEnergyIdDevice {
    // Rc: each call's future owns a handle, so concurrent calls never fight
    // over a borrow of the exported object.
    pub(super) device: Rc<Device>,
}

fn readings(value: JsValue) -> Result<Vec<Reading>, JsValue> {
    from_js_value(value, "readings must look like [{ts, el: 1250.5}]", ErrorCode::InvalidInput, energyid::PROVIDER)
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
    pub fn new(config: JsValue, store: JsValue) -> Result<JsEnergyIdDevice, JsValue> {
        let config: EnergyIdConfig =
            from_js_value(config, "EnergyID settings", ErrorCode::InvalidConfig, energyid::PROVIDER)?;
        let store = JsStore::new(store).map_err(to_js)?;
        let device = Device::new(config, FetchHttp::default(), store, JsClock).map_err(to_js)?;
        Ok(JsEnergyIdDevice { device: Rc::new(device) })
    }

    /// Say hello; resolves to `{status: "needs_claiming", claimCode, claimUrl,
    /// expiresAt, deviceId}` or `{status: "claimed", ...}`.
    pub fn hello(&self) -> Promise {
        let device = self.device.clone();
        promise(async move { settle(device.hello().await) })
    }

    /// The name the device introduces itself with.
    #[wasm_bindgen(getter, js_name = deviceName)]
    pub fn device_name(&self) -> String {
        self.device.config().device_name.clone()
    }

    /// The firmware version the device reports, if one is set.
    #[wasm_bindgen(getter, js_name = firmwareVersion)]
    pub fn firmware_version(&self) -> Option<String> {
        self.device.config().firmware_version.clone().filter(|v| !v.is_empty())
    }

    /// Queue readings (`[{ts, el, ...}]`, ts in unix seconds) and send what the policy allows now.
    pub fn send(&self, readings_value: JsValue) -> Promise {
        let (device, readings) = (self.device.clone(), readings(readings_value));
        promise(async move { settle(device.send(&readings?).await) })
    }

    /// Queue readings only.
    pub fn enqueue(&self, readings_value: JsValue) -> Promise {
        let (device, readings) = (self.device.clone(), readings(readings_value));
        promise(async move { settle(device.enqueue(&readings?).await) })
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

    /// Hello every `poll_secs` until claimed; `on_code` gets each new claim.
    #[wasm_bindgen(js_name = waitForClaim)]
    pub fn wait_for_claim(&self, poll_secs: f64, timeout_secs: f64, on_code: Function) -> Promise {
        let device = self.device.clone();
        promise(async move {
            let show = |claim: &energyid::model::Claim| {
                if let Ok(claim) = to_value(claim) {
                    let _ = on_code.call1(&JsValue::NULL, &claim);
                }
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
