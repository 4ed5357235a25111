//! `EnergyIdDevice` for JS. Methods return Promises that resolve to JSON
//! strings (never holding the webhook headers) or reject with a `WattbridgeError`.

use super::clock::JsClock;
use super::error::{from_json, promise, settle, to_js};
use super::http::FetchHttp;
use super::store::JsStore;
use crate::core::ErrorCode;
use crate::energyid::{self, EnergyIdConfig, Reading};
use js_sys::Promise;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

type Device = energyid::EnergyIdDevice<FetchHttp, JsStore, JsClock>;

#[wasm_bindgen(js_name = EnergyIdDevice)]
pub struct JsEnergyIdDevice {
    // Rc: each call's future owns a handle, so concurrent calls never fight
    // over a borrow of the exported object.
    device: Rc<Device>,
}

#[wasm_bindgen(js_class = EnergyIdDevice)]
impl JsEnergyIdDevice {
    /// `config`: JSON of `{ helloUrl?, provisioningKey, provisioningSecret,
    /// deviceId?, deviceName?, firmwareVersion? }`; `store`: `{ get, put, delete }`.
    #[wasm_bindgen(constructor)]
    pub fn new(config: &str, store: JsValue) -> Result<JsEnergyIdDevice, JsValue> {
        let config: EnergyIdConfig =
            from_json(config, "EnergyID settings", ErrorCode::InvalidConfig, energyid::PROVIDER)?;
        let store = JsStore::new(store).map_err(to_js)?;
        let device = Device::new(config, FetchHttp, store, JsClock).map_err(to_js)?;
        Ok(JsEnergyIdDevice { device: Rc::new(device) })
    }

    /// Say hello; resolves to `{status: "needs_claiming", claimCode, claimUrl,
    /// expiresAt, deviceId}` or `{status: "claimed", webhookUrl, policy, ...}`.
    pub fn hello(&self) -> Promise {
        let device = self.device.clone();
        promise(async move { settle(device.hello().await) })
    }

    /// Send readings, JSON of `[{ts, el, pv, ...}]` (ts in unix seconds), in one POST.
    pub fn send(&self, readings: String) -> Promise {
        let device = self.device.clone();
        promise(async move {
            let readings: Vec<Reading> = from_json(
                &readings,
                "readings must look like [{ts, el: 1250.5}]",
                ErrorCode::InvalidInput,
                energyid::PROVIDER,
            )?;
            settle(device.send(&readings).await)
        })
    }
}
