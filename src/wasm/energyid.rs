//! `EnergyIdDevice` for JS. Methods return Promises that resolve to plain
//! objects (never the webhook headers) or reject with a `WattbridgeError`.

use super::clock::JsClock;
use super::error::{settle, to_js};
use super::http::FetchHttp;
use super::store::JsStore;
use crate::core::{Error, ErrorCode};
use crate::energyid::{self, EnergyIdConfig, Reading};
use js_sys::Promise;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

type Device = energyid::EnergyIdDevice<FetchHttp, JsStore, JsClock>;

#[wasm_bindgen(js_name = EnergyIdDevice)]
pub struct JsEnergyIdDevice {
    // Rc: each call's future owns a handle, so concurrent calls never fight
    // over a borrow of the exported object.
    device: Rc<Device>,
}

#[wasm_bindgen(js_class = EnergyIdDevice)]
impl JsEnergyIdDevice {
    /// `config`: `{ helloUrl?, provisioningKey, provisioningSecret, deviceId?,
    /// deviceName?, firmwareVersion? }`; `store`: `{ get, put, delete }`.
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue, store: JsValue) -> Result<JsEnergyIdDevice, JsValue> {
        let config: EnergyIdConfig = serde_wasm_bindgen::from_value(config).map_err(|err| {
            to_js(Error::invalid_config(format!("EnergyID settings: {err}")).provider(energyid::PROVIDER))
        })?;
        let store = JsStore::new(store).map_err(to_js)?;
        let device = Device::new(config, FetchHttp, store, JsClock).map_err(to_js)?;
        Ok(JsEnergyIdDevice { device: Rc::new(device) })
    }

    /// Say hello; resolves to `{status: "needs_claiming", claimCode, claimUrl,
    /// expiresAt, deviceId}` or `{status: "claimed", webhookUrl, policy, ...}`.
    pub fn hello(&self) -> Promise {
        let device = self.device.clone();
        future_to_promise(async move { settle(device.hello().await) })
    }

    /// Send readings `[{ts, el, pv, ...}]` (ts in unix seconds) in one POST.
    pub fn send(&self, readings: JsValue) -> Promise {
        let device = self.device.clone();
        future_to_promise(async move {
            let readings: Vec<Reading> = serde_wasm_bindgen::from_value(readings).map_err(|err| {
                to_js(
                    Error::new(ErrorCode::InvalidInput, format!("readings must be [{{ts, key: number}}]: {err}"))
                        .provider(energyid::PROVIDER),
                )
            })?;
            settle(device.send(&readings).await)
        })
    }
}
