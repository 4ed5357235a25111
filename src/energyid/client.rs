//! An EnergyID device: provisioning (hello), claim state and sending readings.

use super::api::{self, ProvisioningCredentials};
use super::model::{Claim, HelloBody, HelloOutcome, Reading, Webhook};
use super::outbox::Outbox;
use crate::core::clock::backoff;
use std::time::Duration;
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
    /// Readings (objects, one per timestamp) per POST; a community bridge caps at 1000.
    #[serde(default = "default_batch_cap")]
    pub batch_cap: usize,
    /// Custom metric keys accepted besides the standard ones (and their dot suffixes).
    #[serde(default)]
    pub allowed_keys: Vec<String>,
}

fn default_batch_cap() -> usize {
    1000
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
    /// When the last webhook POST left (unix ms): the policy counts from there.
    #[serde(default)]
    last_post_ms: Option<i64>,
}

/// The result of a hello, safe to show: it never contains the webhook headers.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "status")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
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
        /// Until when the webhook credentials of this hello are counted on
        /// (unix ms): the official client's `auth_valid_until`, hello + 24 h.
        auth_valid_until_ms: i64,
    },
}

/// What a flush (or a send, which queues then flushes) did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct SendReport {
    /// Values queued by this call (a send), 0 for a flush.
    pub queued: usize,
    /// Readings (timestamps) delivered.
    pub readings: usize,
    /// Webhook POSTs made, retries included.
    pub requests: usize,
    /// Values still in the outbox.
    pub remaining: usize,
    /// Readings set aside because EnergyID refused them (HTTP 400).
    pub quarantined: usize,
    /// When the policy allows the next POST (unix ms), if values remain.
    pub next_upload_at_ms: Option<i64>,
}

/// How long a flush may wait for the upload policy, and whether it may at all.
#[derive(Clone, Copy, Debug)]
pub struct FlushOptions {
    /// Wait for the policy's next slot (or a `Retry-After`) when it is at most this far away.
    pub max_wait: Duration,
}

/// `get_claim_info()` of the official client.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub enum ClaimInfo {
    #[serde(rename = "needs_claiming")]
    NeedsClaiming { claim_code: String, claim_url: String, valid_until: i64 },
    #[serde(rename = "already_claimed")]
    AlreadyClaimed { record_name: Option<String>, record_number: Option<String> },
    #[serde(rename = "not_authenticated")]
    NotAuthenticated,
}

/// Everything a person may want to know, never the webhook headers.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct DeviceStatus {
    pub device_id: String,
    pub claimed: bool,
    pub claim: Option<Claim>,
    pub record_name: Option<String>,
    pub record_number: Option<String>,
    pub webhook_url: Option<String>,
    pub policy: Option<super::model::Policy>,
    pub hello_at_ms: Option<i64>,
    pub last_post_ms: Option<i64>,
    pub next_upload_at_ms: Option<i64>,
    pub outbox: usize,
    pub quarantined: usize,
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
        match self.known_state().await? {
            Some(state) => Ok(state),
            // A new device id, remembered at once, so status, hello and send
            // all speak of the same device.
            None => self.update_state(|_| true).await,
        }
    }

    /// The device state; `None` when a device id must be made up first.
    async fn known_state(&self) -> Result<Option<DeviceState>> {
        let stored: Option<DeviceState> = load(&self.store, STATE_KEY).await?;
        Ok(match (stored, &self.config.device_id) {
            // A device id given in the config wins; a different one starts a new device.
            (Some(state), Some(id)) if &state.device_id != id => Some(DeviceState { device_id: id.clone(), ..Default::default() }),
            (Some(state), _) => Some(state),
            (None, Some(id)) => Some(DeviceState { device_id: id.clone(), ..Default::default() }),
            (None, None) => None,
        })
    }

    /// Change the device state with it held (another flush, here or in
    /// another process, changes it too), saving it when `change` says it
    /// changed; the state as it is now.
    async fn update_state(&self, change: impl FnOnce(&mut DeviceState) -> bool) -> Result<DeviceState> {
        self.store
            .locked(STATE_KEY, async {
                let mut state = match self.known_state().await? {
                    Some(state) => state,
                    None => DeviceState { device_id: new_device_id()?, ..Default::default() },
                };
                if change(&mut state) {
                    save(&self.store, STATE_KEY, &state).await?;
                }
                Ok(state)
            })
            .await
    }

    /// Introduce the device to EnergyID and remember the answer.
    pub async fn hello(&self) -> Result<HelloSummary> {
        let mut state = self.state().await?;
        let outcome = self.hello_into(&mut state).await?;
        Ok(summary(&state, outcome))
    }

    /// The settings the device introduces itself with (name, firmware).
    pub fn config(&self) -> &EnergyIdConfig {
        &self.config
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
        let now = self.clock.now_ms();
        *state = self
            .update_state(|state| {
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
                state.hello_at_ms = Some(now);
                true
            })
            .await?;
        Ok(outcome)
    }

    /// Queue readings in the durable outbox (validated first; nothing is
    /// queued when one is wrong) and send what the policy allows now.
    pub async fn send(&self, readings: &[Reading]) -> Result<SendReport> {
        let queued = self.enqueue(readings).await?;
        let report = self.flush(FlushOptions { max_wait: Duration::ZERO }, |_, _| {}).await?;
        Ok(SendReport { queued, ..report })
    }

    /// Validate and queue readings; they leave at the next flush.
    pub async fn enqueue(&self, readings: &[Reading]) -> Result<usize> {
        api::validate_readings(readings, self.clock.now_secs(), &self.config.allowed_keys)?;
        Outbox::new(&self.store).enqueue(readings).await
    }

    /// Send the outbox oldest first, in batches of `batch_cap` readings, never
    /// two POSTs closer than the policy's `uploadInterval`. Readings leave the
    /// outbox only after a 2xx. Stops without error when the next allowed POST
    /// is further than `max_wait` away (the report says when); stops with an
    /// error on 403 (webhook disabled), after three failed tries on 5xx or a
    /// dropped connection, or when credentials stay refused. A 400 halves the
    /// batch until the refused reading is alone, then quarantines it.
    /// `on_progress(sent, total)` counts readings.
    pub async fn flush(&self, options: FlushOptions, on_progress: impl Fn(usize, usize)) -> Result<SendReport> {
        let outbox = Outbox::new(&self.store);
        let mut report = SendReport::default();
        let total = outbox.timestamps().await?;
        let mut cap = self.config.batch_cap.max(1);
        let mut state = self.state().await?;
        let mut failures = 0u32;
        let mut throttled = 0u32;
        let mut hello_retries = 0u32;
        loop {
            let batch = outbox.next_batch(cap).await?;
            if batch.is_empty() {
                break;
            }
            if state.webhook.is_none() || self.hello_is_stale(&state) {
                self.hello_into(&mut state).await?;
            }
            let webhook = claimed_webhook(&state).map_err(still_queued)?.clone();
            let interval_ms = interval_ms(&webhook.policy);
            // Take the upload slot with the state held: two flushes (overlapping
            // send() calls, another process) never take the same one.
            let departure = self.clock.now_ms();
            let mut taken = false;
            state = self
                .update_state(|state| {
                    taken = state.last_post_ms.map_or(0, |last| last.saturating_add(interval_ms)) <= departure;
                    if taken {
                        state.last_post_ms = Some(departure);
                    }
                    taken
                })
                .await?;
            if !taken {
                let allowed_at = state.last_post_ms.map_or(0, |last| last.saturating_add(interval_ms));
                if !self.wait_until(allowed_at, options.max_wait).await {
                    report.next_upload_at_ms = Some(allowed_at);
                    break;
                }
                continue;
            }
            report.requests += 1;
            let sent = self.http.send(api::send_request(&webhook, &batch)).await;
            // Count the interval from the answer, not the departure: however long the
            // request travelled, the next one cannot arrive too early. Saved, so the
            // next process (a flush after an import) counts from it too.
            let answered = self.clock.now_ms();
            state = self
                .update_state(|state| {
                    state.last_post_ms = Some(state.last_post_ms.map_or(answered, |last| last.max(answered)));
                    true
                })
                .await?;
            let response = match sent {
                Ok(response) => response,
                Err(error) => {
                    failures += 1;
                    if failures >= MAX_TRIES {
                        return Err(still_queued(error.provider(PROVIDER)));
                    }
                    self.clock.sleep(backoff(failures, &self.clock)).await;
                    continue;
                }
            };
            match response.status {
                200..=299 => {
                    outbox.remove(&batch).await?;
                    report.readings += batch.len();
                    failures = 0;
                    throttled = 0;
                    hello_retries = 0;
                    cap = self.config.batch_cap.max(1);
                    on_progress(report.readings, total);
                }
                401 | 404 if hello_retries == 0 => {
                    hello_retries += 1;
                    self.hello_into(&mut state).await?;
                    // The refused POST was not accepted: resend at once.
                    state = self
                        .update_state(|state| {
                            state.last_post_ms = None;
                            true
                        })
                        .await?;
                }
                401 | 404 => {
                    return Err(Error::new(
                        ErrorCode::AuthRequired,
                        "EnergyID still refuses the webhook credentials after a fresh hello; \
                         the record may have removed this device: run `wattbridge energyid login` again",
                    )
                    .provider(PROVIDER));
                }
                400 if batch.len() > 1 => cap = batch.len() / 2,
                400 => {
                    let reason = api::status_error(&response, "webhook").message;
                    outbox.quarantine(&batch, &reason).await?;
                    report.quarantined += batch.len();
                    cap = self.config.batch_cap.max(1);
                }
                429 => {
                    throttled += 1;
                    let now = self.clock.now_ms();
                    // Retry-After in either form; without it, back off with jitter
                    // rather than retry at once. Either way, not forever.
                    let told = response.retry_after_at(now);
                    let retry_at = told.unwrap_or_else(|| now + backoff(throttled, &self.clock).as_millis() as i64);
                    if throttled >= if told.is_some() { MAX_TOLD_TRIES } else { MAX_TRIES } {
                        let seconds = (retry_at - now).div_euclid(1000) as u64;
                        return Err(still_queued(api::status_error(&response, "webhook").retry_after(Some(seconds))));
                    }
                    // Pretend the POST left later, so the next one waits for the later of both.
                    state = self
                        .update_state(|state| {
                            let allowed = state.last_post_ms.unwrap_or(0) + interval_ms;
                            state.last_post_ms = Some(retry_at.max(allowed) - interval_ms);
                            true
                        })
                        .await?;
                }
                status if status >= 500 => {
                    failures += 1;
                    if failures >= MAX_TRIES {
                        return Err(still_queued(api::status_error(&response, "webhook")));
                    }
                    self.clock.sleep(backoff(failures, &self.clock)).await;
                }
                _ => return Err(still_queued(api::status_error(&response, "webhook"))),
            }
        }
        report.remaining = outbox.len().await?;
        if report.remaining == 0 {
            report.next_upload_at_ms = None;
        }
        Ok(report)
    }

    /// Sleep until `at_ms` if that is within `max_wait`; false when it is not.
    async fn wait_until(&self, at_ms: i64, max_wait: Duration) -> bool {
        let wait = at_ms - self.clock.now_ms();
        if wait <= 0 {
            return true;
        }
        if wait as u128 > max_wait.as_millis() {
            return false;
        }
        self.clock.sleep(Duration::from_millis(wait as u64)).await;
        true
    }

    /// The webhook credentials live 48 h; like the official client, hello
    /// again once 18 h have passed (when 6 h of its 24 h window remain).
    fn hello_is_stale(&self, state: &DeviceState) -> bool {
        state.hello_at_ms.map_or(true, |at| self.clock.now_ms() - at >= HELLO_REFRESH_MS)
    }

    /// The official client's claim info, from a fresh hello.
    pub async fn claim_info(&self) -> Result<ClaimInfo> {
        let mut state = self.state().await?;
        match self.hello_into(&mut state).await {
            Ok(HelloOutcome::Claimed(webhook)) => Ok(ClaimInfo::AlreadyClaimed { record_name: webhook.record_name, record_number: webhook.record_number }),
            Ok(HelloOutcome::Unclaimed(claim)) => Ok(ClaimInfo::NeedsClaiming { claim_code: claim.claim_code, claim_url: claim.claim_url, valid_until: claim.expires_at }),
            Err(err) if err.code == ErrorCode::InvalidCredentials => Ok(ClaimInfo::NotAuthenticated),
            Err(err) => Err(err),
        }
    }

    /// Hello every `poll` until the device is claimed or `timeout` passes.
    /// `on_code` gets each claim code to show (a new one after expiry).
    pub async fn wait_for_claim(&self, poll: Duration, timeout: Duration, on_code: impl Fn(&Claim)) -> Result<HelloSummary> {
        let deadline = self.clock.now_ms() + timeout.as_millis() as i64;
        let mut state = self.state().await?;
        let mut shown: Option<String> = None;
        loop {
            match self.hello_into(&mut state).await? {
                HelloOutcome::Claimed(webhook) => return Ok(summary(&state, HelloOutcome::Claimed(webhook))),
                HelloOutcome::Unclaimed(claim) => {
                    if shown.as_deref() != Some(claim.claim_code.as_str()) {
                        on_code(&claim);
                        shown = Some(claim.claim_code.clone());
                    }
                }
            }
            if self.clock.now_ms() + poll.as_millis() as i64 > deadline {
                return Err(claimed_webhook(&state).err().unwrap_or_else(|| Error::new(ErrorCode::NotClaimed, "not claimed")));
            }
            self.clock.sleep(poll).await;
        }
    }

    /// What is stored about the device, and the outbox.
    pub async fn status(&self) -> Result<DeviceStatus> {
        let state = self.state().await?;
        let outbox = Outbox::new(&self.store);
        let webhook = state.webhook.as_ref();
        let interval_ms = webhook.map_or(0, |w| interval_ms(&w.policy));
        Ok(DeviceStatus {
            device_id: state.device_id.clone(),
            claimed: webhook.is_some(),
            claim: state.claim.clone(),
            record_name: webhook.and_then(|w| w.record_name.clone()),
            record_number: webhook.and_then(|w| w.record_number.clone()),
            webhook_url: webhook.map(|w| w.url.clone()),
            policy: webhook.map(|w| w.policy.clone()),
            hello_at_ms: state.hello_at_ms,
            last_post_ms: state.last_post_ms,
            next_upload_at_ms: state.last_post_ms.map(|t| (t + interval_ms).max(self.clock.now_ms())),
            outbox: outbox.len().await?,
            quarantined: outbox.quarantined().await?.len(),
        })
    }

    /// Readings still queued, oldest first (what a flush would send).
    pub async fn pending(&self) -> Result<Vec<Reading>> {
        Outbox::new(&self.store).all().await
    }

    /// Directives (`GET {hello base}/directives[/id]`) with the hello's
    /// `apiAccessToken`; a 401 hellos again and retries once. The answer is
    /// handed over as EnergyID sent it.
    pub async fn directives(&self, id: Option<&str>) -> Result<serde_json::Value> {
        let mut state = self.state().await?;
        if state.webhook.is_none() {
            self.hello_into(&mut state).await?;
        }
        let base = self.config.hello_url.trim_end_matches('/').trim_end_matches("/hello");
        let url = match id {
            Some(id) => format!("{base}/directives/{}", crate::core::form::component(id)),
            None => format!("{base}/directives"),
        };
        for attempt in 0..2 {
            let token = claimed_webhook(&state)?.api_access_token.clone().ok_or_else(|| {
                Error::new(ErrorCode::InvalidConfig, "this EnergyID record gives no apiAccessToken: directives are not available").provider(PROVIDER)
            })?;
            let request = crate::core::HttpRequest::new(crate::core::Method::Get, &url)
                .header("accept", "application/json")
                .secret_header("authorization", Secret::new(format!("device {}", token.expose())));
            let response = self.http.send(request).await.map_err(|e| e.provider(PROVIDER))?;
            if response.status == 401 && attempt == 0 {
                self.hello_into(&mut state).await?;
                continue;
            }
            if !response.is_success() {
                return Err(api::status_error(&response, "directives"));
            }
            return response.json(PROVIDER, "EnergyID directives");
        }
        Err(Error::new(ErrorCode::AuthRequired, "EnergyID refuses the apiAccessToken after a fresh hello").provider(PROVIDER))
    }
}

/// The longest pause between POSTs a policy can ask for: a day. The
/// `uploadInterval` is EnergyID's number; a bigger one (found by the fuzzer:
/// 4.7e16 s overflowed the next upload's time) is read as a day.
const MAX_INTERVAL_MS: i64 = 24 * 3600 * 1000;

fn interval_ms(policy: &super::model::Policy) -> i64 {
    policy.upload_interval.filter(|s| s.is_finite() && *s > 0.0).map_or(0, |s| ((s * 1000.0).ceil() as i64).min(MAX_INTERVAL_MS))
}

/// Tries per batch on 5xx, a dropped connection or a 429 that says nothing
/// of when to come back, before the flush stops (the readings stay queued).
const MAX_TRIES: u32 = 3;
/// 429s in a row that each said when to come back (`Retry-After`).
const MAX_TOLD_TRIES: u32 = 10;
/// The documentation gives the webhook credentials 48 h; like the official
/// client we count on 24 h and hello again when 6 h of them remain.
const AUTH_VALID_MS: i64 = 24 * 3_600_000;
const HELLO_REFRESH_MS: i64 = AUTH_VALID_MS - 6 * 3_600_000;

/// Say that nothing is lost: the readings wait in the outbox.
fn still_queued(mut error: Error) -> Error {
    error.message.push_str("; the readings stay queued and go out with the next flush");
    error
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

fn summary(state: &DeviceState, outcome: HelloOutcome) -> HelloSummary {
    let device_id = state.device_id.clone();
    match outcome {
        HelloOutcome::Claimed(webhook) => HelloSummary::Claimed {
            device_id,
            webhook_url: webhook.url,
            policy: webhook.policy,
            record_name: webhook.record_name,
            record_number: webhook.record_number,
            auth_valid_until_ms: state.hello_at_ms.unwrap_or_default().saturating_add(AUTH_VALID_MS),
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
