//! An EnergyID device: provisioning (hello), claim state and sending readings.

use super::api::{self, ProvisioningCredentials, SendOutcome};
use super::model::{Claim, HelloBody, HelloOutcome, Reading, Webhook};
use super::PROVIDER;
use crate::core::http::check_service_url;
use crate::core::store::{load, save};
use crate::core::{Clock, Error, ErrorCode, HttpClient, Result, Secret, Store};
use serde::{Deserialize, Serialize};

pub const DEFAULT_HELLO_URL: &str = "https://hooks.energyid.eu/hello";
/// The store key of the device document.
const STATE_KEY: &str = "energyid";

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnergyIdConfig {
    #[serde(default = "default_hello_url")]
    pub hello_url: String,
    pub provisioning_key: Secret,
    pub provisioning_secret: Secret,
    /// Generated once and remembered in the store when not given.
    #[serde(default)]
    pub device_id: Option<String>,
    #[serde(default = "default_device_name")]
    pub device_name: String,
    #[serde(default)]
    pub firmware_version: Option<String>,
}

fn default_hello_url() -> String {
    DEFAULT_HELLO_URL.to_owned()
}

fn default_device_name() -> String {
    "wattbridge".to_owned()
}

/// What the store remembers between runs. The webhook headers inside are
/// secrets; the Node store writes this document with mode 0600.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeviceState {
    device_id: String,
    #[serde(default)]
    webhook: Option<Webhook>,
    #[serde(default)]
    claim: Option<Claim>,
    /// When the last hello answered (unix ms).
    #[serde(default)]
    hello_at_ms: Option<i64>,
}

/// The result of a hello, safe to show: it never contains the webhook headers.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "status")]
pub enum HelloSummary {
    #[serde(rename = "needs_claiming", rename_all = "camelCase")]
    NeedsClaiming { device_id: String, claim_code: String, claim_url: String, expires_at: i64 },
    #[serde(rename = "claimed", rename_all = "camelCase")]
    Claimed {
        device_id: String,
        webhook_url: String,
        policy: super::model::Policy,
        record_name: Option<String>,
        record_number: Option<String>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SendReport {
    pub readings: usize,
    pub requests: usize,
}

pub struct EnergyIdDevice<H, S, C> {
    config: EnergyIdConfig,
    http: H,
    store: S,
    clock: C,
}

impl<H: HttpClient, S: Store, C: Clock> EnergyIdDevice<H, S, C> {
    pub fn new(config: EnergyIdConfig, http: H, store: S, clock: C) -> Result<Self> {
        check_service_url("energyid.hello_url", &config.hello_url).map_err(|e| e.provider(PROVIDER))?;
        if config.provisioning_key.is_empty() || config.provisioning_secret.is_empty() {
            return Err(Error::invalid_config(
                "EnergyID provisioning key and secret are required \
                 (WATTBRIDGE_ENERGYID_PROVISIONING_KEY / _SECRET)",
            )
            .provider(PROVIDER));
        }
        if config.device_name.trim().is_empty() {
            return Err(Error::invalid_config("EnergyID device name must not be empty").provider(PROVIDER));
        }
        Ok(EnergyIdDevice { config, http, store, clock })
    }

    async fn state(&self) -> Result<DeviceState> {
        let stored: Option<DeviceState> = load(&self.store, STATE_KEY).await?;
        match (stored, &self.config.device_id) {
            // A device id given in the config wins; a different one starts a new device.
            (Some(state), Some(id)) if &state.device_id != id => {
                Ok(DeviceState { device_id: id.clone(), ..Default::default() })
            }
            (Some(state), _) => Ok(state),
            (None, Some(id)) => Ok(DeviceState { device_id: id.clone(), ..Default::default() }),
            (None, None) => Ok(DeviceState { device_id: new_device_id()?, ..Default::default() }),
        }
    }

    /// Introduce the device to EnergyID and remember the answer.
    pub async fn hello(&self) -> Result<HelloSummary> {
        let mut state = self.state().await?;
        let outcome = self.hello_into(&mut state).await?;
        Ok(summary(&state.device_id, outcome))
    }

    async fn hello_into(&self, state: &mut DeviceState) -> Result<HelloOutcome> {
        let credentials = ProvisioningCredentials {
            key: self.config.provisioning_key.clone(),
            secret: self.config.provisioning_secret.clone(),
        };
        let body = HelloBody {
            device_id: &state.device_id,
            device_name: &self.config.device_name,
            firmware_version: self.config.firmware_version.as_deref().filter(|v| !v.is_empty()),
        };
        let request = api::hello_request(&self.config.hello_url, &credentials, &body);
        let response = self.http.send(request).await.map_err(|e| e.provider(PROVIDER))?;
        let outcome = api::parse_hello(&response)?;
        match &outcome {
            HelloOutcome::Claimed(webhook) => {
                state.webhook = Some(webhook.clone());
                state.claim = None;
            }
            HelloOutcome::Unclaimed(claim) => {
                state.webhook = None;
                state.claim = Some(claim.clone());
            }
        }
        state.hello_at_ms = Some(self.clock.now_ms());
        save(&self.store, STATE_KEY, state).await?;
        Ok(outcome)
    }

    /// Send readings in one POST. Hellos first when the device has no webhook
    /// yet, and once more (then resends) when EnergyID says the webhook
    /// credentials expired (401) or moved (404).
    pub async fn send(&self, readings: &[Reading]) -> Result<SendReport> {
        api::validate_readings(readings, self.clock.now_secs())?;
        let mut state = self.state().await?;
        if state.webhook.is_none() {
            self.hello_into(&mut state).await?;
        }
        let mut requests = 0;
        for attempt in 0..2 {
            let webhook = claimed_webhook(&state)?;
            let response = self
                .http
                .send(api::send_request(webhook, readings))
                .await
                .map_err(|e| e.provider(PROVIDER))?;
            requests += 1;
            match api::parse_send(&response)? {
                SendOutcome::Delivered => return Ok(SendReport { readings: readings.len(), requests }),
                SendOutcome::HelloAgain if attempt == 0 => {
                    self.hello_into(&mut state).await?;
                }
                SendOutcome::HelloAgain => {}
            }
        }
        Err(Error::new(
            ErrorCode::AuthRequired,
            "EnergyID still refuses the webhook credentials after a fresh hello; \
             the record may have removed this device: run `wattbridge energyid login` again",
        )
        .provider(PROVIDER))
    }
}

fn claimed_webhook(state: &DeviceState) -> Result<&Webhook> {
    if let Some(webhook) = &state.webhook {
        return Ok(webhook);
    }
    let how = match &state.claim {
        Some(claim) => format!(
            "open {} (or enter code {} at app.energyid.eu) to claim it",
            claim.claim_url, claim.claim_code
        ),
        None => "run hello first".to_owned(),
    };
    Err(Error::new(
        ErrorCode::NotClaimed,
        format!("EnergyID device {} is not claimed yet: {how}", state.device_id),
    )
    .provider(PROVIDER))
}

fn summary(device_id: &str, outcome: HelloOutcome) -> HelloSummary {
    let device_id = device_id.to_owned();
    match outcome {
        HelloOutcome::Claimed(webhook) => HelloSummary::Claimed {
            device_id,
            webhook_url: webhook.url,
            policy: webhook.policy,
            record_name: webhook.record_name,
            record_number: webhook.record_number,
        },
        HelloOutcome::Unclaimed(claim) => HelloSummary::NeedsClaiming {
            device_id,
            claim_code: claim.claim_code,
            claim_url: claim.claim_url,
            expires_at: claim.expires_at,
        },
    }
}

fn new_device_id() -> Result<String> {
    let bytes = crate::core::crypto::random_bytes(6)?;
    Ok(bytes.iter().fold("wattbridge-".to_owned(), |mut id, b| {
        id.push_str(&format!("{b:02x}"));
        id
    }))
}
