//! The VEN: registration, reports, events and polling, generic over the seams
//! (HTTP, clock, crypto) and over a [`VenHandler`] that makes the decisions
//! (opt in or out) and supplies report values — JS callbacks in WASM.

use super::dsig::{self, Validator};
use super::keys::{Certificate, PrivateKey};
use super::api::{self as msg, EventResponse, ReportOffer, ReportUpdate};
use super::model::{Event, Opt, ReportPayload, ReportRequest, ReportValue, VtnMessage};
use crate::core::crypto::random_bytes;
use crate::core::http::check_service_url;
use crate::core::time::{format_utc_millis, parse_utc};
use crate::core::{Clock, Error, ErrorCode, HttpClient, HttpRequest, Method, PublicKeyCrypto, Result, Secret};
use serde::{Deserialize, Serialize};
use futures_util::lock::Mutex;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::time::Duration;

pub const PROVIDER: &str = "openadr";
/// Poll this often when the VTN does not say.
const DEFAULT_POLL_SECS: i64 = 10;
/// The longest poll or report interval a VTN may ask for: a day.
const MAX_INTERVAL_SECS: i64 = 86_400;
/// The loop wakes at least this often, so `stop()` is honoured promptly.
const TICK_MS: i64 = 200;

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VenConfig {
    /// e.g. `http://127.0.0.1:8080/OpenADR2/Simple/2.0b`
    pub vtn_url: String,
    pub ven_name: String,
    #[serde(default)]
    pub reports: Vec<ReportOffer>,
    /// PEM certificate and key to sign our messages with.
    #[serde(default)]
    pub cert: Option<String>,
    #[serde(default)]
    pub key: Option<Secret>,
    #[serde(default)]
    pub passphrase: Option<Secret>,
    /// The VTN certificate's fingerprint: when set, unsigned or badly signed VTN messages are refused.
    #[serde(default)]
    pub vtn_fingerprint: Option<String>,
    /// OpenLEADR's `disable_signature`: send our messages unsigned even with
    /// a certificate and key (a VTN that checks no signatures, a test bench).
    #[serde(default)]
    pub disable_signature: bool,
    /// OpenLEADR's `allow_jitter`: polls are spread ±10 % around the VTN's
    /// rate (default); `false` polls exactly at it.
    #[serde(default = "yes")]
    pub allow_jitter: bool,
}

fn yes() -> bool {
    true
}

/// What the VEN reports as it goes (the CLI prints these; a page may show them).
/// JS sees `type` and the fields in camelCase, like the rest of the package;
/// only the `event` inside keeps OpenLEADR's snake_case event shape.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Notice {
    Registered { ven_id: String, registration_id: String, poll_secs: i64 },
    ReportRequested { report_request_id: String, r_ids: Vec<String>, interval_secs: i64 },
    Event { event: Box<Event>, opt: Option<Opt>, modified: bool },
    Cancelled { event_id: String, implied: bool },
    /// `values`: `[rId, reading]`, the reading a number or a resource status.
    ReportSent { report_request_id: String, values: Vec<(String, ReportPayload)> },
    /// The VTN sent a report: its readings as `{rId, dtstart, value}`.
    ReportReceived { request_id: String, values: Vec<ReceivedValue> },
    Reregistering,
    /// The VTN cancelled a report (`oadrCancelReport`): no more of it is sent.
    ReportCancelled { report_request_id: String },
    Error { code: String, message: String },
    RegistrationCancelled,
}

/// A reading of a report the VTN sent.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedValue {
    pub r_id: String,
    pub dtstart: String,
    pub value: ReportPayload,
}

/// The decisions and values the VEN needs from its user.
#[allow(async_fn_in_trait)]
pub trait VenHandler {
    /// A new or modified event: opt in or out. An error means opt out.
    async fn on_event(&self, event: &Event) -> Result<Opt>;
    /// The current value of a report reading: a number, or a resource
    /// status for a TELEMETRY_STATUS report.
    async fn report_value(&self, r_id: &str) -> Result<ReportPayload>;
    fn notice(&self, notice: Notice);
}

/// A report the VTN asked for: read every `sample_ms` (its granularity),
/// sent every `send_ms` (its report-back duration) with the readings since.
struct ActiveReport {
    request: ReportRequest,
    report_name: String,
    sample_ms: i64,
    send_ms: i64,
    next_sample_ms: i64,
    next_send_ms: i64,
    /// Taken, not sent yet.
    readings: Vec<ReportValue>,
}

/// Most readings one `oadrUpdateReport` carries per rID: a tiny granularity
/// under a long report-back duration is sampled more coarsely, not buffered
/// into a message no VTN would read.
const MAX_READINGS_PER_SEND: i64 = 1000;

/// The next slot of a cadence at or after `now`, skipping missed ones
/// rather than bursting (counted, not stepped through one by one).
fn next_slot(due_ms: i64, every_ms: i64, now: i64) -> i64 {
    let every = every_ms.max(1000);
    due_ms + ((now - due_ms) / every + 1) * every
}

#[derive(Default)]
struct State {
    ven_id: Option<String>,
    registration_id: Option<String>,
    poll_ms: i64,
    next_poll_ms: i64,
    /// Event id → (modification number, opt given).
    events: BTreeMap<String, (u32, Option<Opt>)>,
    /// The events as last received, for `next_events`.
    received: BTreeMap<String, Event>,
    reports: Vec<ActiveReport>,
}

pub struct Ven<H, C, K, A> {
    config: VenConfig,
    http: H,
    clock: C,
    crypto: K,
    handler: A,
    signing: RefCell<Option<(PrivateKey, Certificate)>>,
    /// Behind an async lock: a check awaits the crypto, and two exchanges at
    /// once must each check against the one validator (its fingerprint never
    /// changes, its nonce cache is shared), never against an empty one.
    validator: Mutex<Validator>,
    state: RefCell<State>,
    stop: Cell<bool>,
}

fn rejected(status: u16, what: &str) -> Error {
    let code = match status {
        400 => ErrorCode::Rejected,
        403 => ErrorCode::InvalidCredentials,
        500..=599 => ErrorCode::Unavailable,
        _ => ErrorCode::UnexpectedStatus,
    };
    let hint = match status {
        400 => " (the message failed the VTN's schema check)",
        403 => " (the VTN refused our certificate or signature)",
        _ => "",
    };
    Error::new(code, format!("the VTN answered HTTP {status} to {what}{hint}")).provider(PROVIDER).status(status)
}

fn protocol(message: String) -> Error {
    Error::new(ErrorCode::BadResponse, message).provider(PROVIDER)
}

fn unexpected(expected: &str, got: &VtnMessage) -> Error {
    protocol(format!("expected {expected}, got {}", got.name()))
}

fn new_id() -> Result<String> {
    Ok(random_bytes(8)?.iter().map(|b| format!("{b:02x}")).collect())
}

impl<H: HttpClient, C: Clock, K: PublicKeyCrypto, A: VenHandler> Ven<H, C, K, A> {
    pub fn new(config: VenConfig, http: H, clock: C, crypto: K, handler: A) -> Result<Self> {
        check_service_url("--vtn", &config.vtn_url)?;
        if config.ven_name.trim().is_empty() {
            return Err(Error::invalid_config("the VEN needs a name").provider(PROVIDER));
        }
        if !config.disable_signature && config.cert.is_some() != config.key.is_some() {
            return Err(Error::invalid_config("signing needs both a certificate and a key").provider(PROVIDER));
        }
        for offer in &config.reports {
            offer.check()?;
        }
        let validator = Validator::new(config.vtn_fingerprint.clone());
        Ok(Ven { config, http, clock, crypto, handler, signing: RefCell::new(None), validator: Mutex::new(validator), state: RefCell::default(), stop: Cell::new(false) })
    }

    pub fn ven_id(&self) -> Option<String> {
        self.state.borrow().ven_id.clone()
    }

    /// Until the next poll: the VTN's rate, ±10 % unless `allow_jitter` is off.
    fn poll_gap(&self) -> i64 {
        let poll_ms = self.state.borrow().poll_ms;
        if self.config.allow_jitter {
            crate::core::clock::jittered(poll_ms, &self.clock)
        } else {
            poll_ms
        }
    }

    /// The events still to come or under way (not cancelled, not completed,
    /// not ended), soonest first: OpenLEADR's `show_next_events`.
    pub fn next_events(&self) -> Vec<Event> {
        let now = self.clock.now_ms();
        let state = self.state.borrow();
        let mut events: Vec<(i64, Event)> = state
            .received
            .values()
            .filter(|e| !matches!(e.event_descriptor.event_status.as_str(), "cancelled" | "completed"))
            .filter_map(|e| {
                let start = parse_utc(&e.active_period.dtstart)?;
                // A duration of 0 is an event without end (OpenADR: unbounded).
                let ended = e.active_period.duration > 0 && start.saturating_add(e.active_period.duration.saturating_mul(1000)) <= now;
                (!ended).then(|| (start, e.clone()))
            })
            .collect();
        events.sort_by_key(|(start, _)| *start);
        events.into_iter().map(|(_, e)| e).collect()
    }

    async fn load_keys(&self) -> Result<()> {
        if self.signing.borrow().is_some() || self.config.disable_signature {
            return Ok(());
        }
        if let (Some(cert), Some(key)) = (&self.config.cert, &self.config.key) {
            let cert = Certificate::from_pem(cert)?;
            let key = PrivateKey::from_pem(key.expose(), self.config.passphrase.as_ref(), &self.crypto).await?;
            if cert.algorithm != key.algorithm {
                return Err(Error::invalid_config("the certificate and the key are of different types (RSA vs EC)").provider(PROVIDER));
            }
            *self.signing.borrow_mut() = Some((key, cert));
        }
        Ok(())
    }

    /// Send one message to `{vtn}/{service}` and read the (validated) answer.
    async fn exchange(&self, service: &str, signed_object: String, what: &str) -> Result<VtnMessage> {
        let body = self.post(service, signed_object, what).await?;
        self.read_answer(&body, what).await
    }

    /// Send our `oadrResponse`, which OpenLEADR's VTN answers with an empty
    /// HTTP 200 (any other VTN may answer an oadrResponse of its own).
    async fn respond(&self, service: &str, signed_object: String, what: &str) -> Result<()> {
        let body = self.post(service, signed_object, what).await?;
        if body.trim().is_empty() {
            return Ok(());
        }
        let answer = self.read_answer(&body, what).await?;
        self.expect_ok(answer, what)
    }

    /// POST one message; the body of a 2xx answer.
    async fn post(&self, service: &str, signed_object: String, what: &str) -> Result<String> {
        let signing = self.signing.borrow().clone();
        let body = match signing {
            Some((key, cert)) => dsig::sign(&signed_object, &key, &cert, self.clock.now_ms(), &self.crypto).await?,
            None => dsig::wrap(&signed_object),
        };
        let url = format!("{}/{service}", self.config.vtn_url.trim_end_matches('/'));
        // The XML reader refuses more than MAX_INPUT anyway: do not read more.
        let mut request = HttpRequest::new(Method::Post, url).header("content-type", "application/xml").max_body(super::xml::MAX_INPUT);
        request.body = Some(body);
        let response = self.http.send(request).await?;
        if !response.is_success() {
            return Err(rejected(response.status, what));
        }
        Ok(response.body)
    }

    /// The validated answer to `what`; an OpenADR error code in it is an error.
    async fn read_answer(&self, body: &str, what: &str) -> Result<VtnMessage> {
        let now = self.clock.now_ms();
        let opened = self.validator.lock().await.open(body, now, &self.crypto).await;
        match msg::read_signed_object(&opened?)? {
            VtnMessage::Refused { code, description } => {
                let name = msg::status_name(code).map(|n| format!(" ({n})")).unwrap_or_default();
                Err(Error::new(ErrorCode::Rejected, format!("the VTN answered {what} with code {code}{name}: {description}")).provider(PROVIDER))
            }
            answer => Ok(answer),
        }
    }

    fn ids(&self) -> Result<String> {
        self.state.borrow().ven_id.clone().ok_or_else(|| Error::new(ErrorCode::InvalidInput, "the VEN is not registered yet").provider(PROVIDER))
    }

    /// Query and create the registration, register our reports, ask for events.
    pub async fn register(&self) -> Result<()> {
        self.load_keys().await?;
        let answer = self.exchange("EiRegisterParty", msg::query_registration(&new_id()?), "oadrQueryRegistration").await?;
        let poll_secs = match answer {
            VtnMessage::CreatedPartyRegistration(r) => r.poll_freq_secs,
            other => return Err(unexpected("oadrCreatedPartyRegistration", &other)),
        };
        let (ven_id, registration_id) = {
            let state = self.state.borrow();
            (state.ven_id.clone(), state.registration_id.clone())
        };
        let registration = msg::Registration {
            request_id: &new_id()?,
            ven_name: &self.config.ven_name,
            ven_id: ven_id.as_deref(),
            registration_id: registration_id.as_deref(),
            // Whether we sign: keys were loaded (none with disableSignature).
            xml_signature: self.signing.borrow().is_some(),
        };
        let created = match self.exchange("EiRegisterParty", msg::create_party_registration(&registration), "oadrCreatePartyRegistration").await? {
            VtnMessage::CreatedPartyRegistration(created) => created,
            other => return Err(unexpected("oadrCreatedPartyRegistration", &other)),
        };
        let (Some(ven_id), Some(registration_id)) = (created.ven_id, created.registration_id) else {
            return Err(Error::new(ErrorCode::Rejected, format!("the VTN refused the registration (code {}: {})", created.code, created.description)).provider(PROVIDER));
        };
        // The VTN's durations are clamped before any arithmetic: a huge one
        // would overflow into a negative wait and a poll loop without sleep.
        let poll_secs = created.poll_freq_secs.or(poll_secs).filter(|s| *s > 0).unwrap_or(DEFAULT_POLL_SECS).clamp(1, MAX_INTERVAL_SECS);
        {
            let mut state = self.state.borrow_mut();
            state.ven_id = Some(ven_id.clone());
            state.registration_id = Some(registration_id.clone());
            state.poll_ms = poll_secs * 1000;
            state.reports.clear();
        }
        self.handler.notice(Notice::Registered { ven_id: ven_id.clone(), registration_id, poll_secs });

        if !self.config.reports.is_empty() {
            let message = msg::register_report(&new_id()?, &ven_id, &self.config.reports, self.clock.now_ms());
            match self.exchange("EiReport", message, "oadrRegisterReport").await? {
                VtnMessage::RegisteredReport { request_id, requests, .. } => self.accept_report_requests(&request_id, requests).await?,
                VtnMessage::Response { .. } => {}
                other => return Err(unexpected("oadrRegisteredReport", &other)),
            }
        }
        let answer = self.exchange("EiEvent", msg::request_event(&new_id()?, &ven_id), "oadrRequestEvent").await?;
        self.handle(answer).await?;
        let now = self.clock.now_ms();
        let next = self.poll_gap();
        self.state.borrow_mut().next_poll_ms = now + next;
        Ok(())
    }

    /// Keep the requests whose readings we offer and confirm them with
    /// `oadrCreatedReport`, echoing `request_id` (of the message that asked).
    async fn accept_report_requests(&self, request_id: &str, requests: Vec<ReportRequest>) -> Result<()> {
        let ven_id = self.ids()?;
        let now = self.clock.now_ms();
        for request in requests {
            let offers: Vec<&ReportOffer> = self.config.reports.iter().filter(|o| request.r_ids.contains(&o.r_id())).collect();
            let Some(first) = offers.first() else { continue };
            // OpenADR: sample at the granularity, send at the report-back
            // duration; either stands for the other when missing, and the
            // offered sampling rate for both.
            let fallback = first.sampling_rate_secs as i64;
            let send_secs = [request.report_back_secs, request.granularity_secs, fallback].into_iter().find(|s| *s > 0).unwrap_or(1).clamp(1, MAX_INTERVAL_SECS);
            let sample_secs = [request.granularity_secs, send_secs].into_iter().find(|s| *s > 0).unwrap_or(1).clamp(1, send_secs).max(send_secs / MAX_READINGS_PER_SEND);
            self.handler.notice(Notice::ReportRequested { report_request_id: request.report_request_id.clone(), r_ids: request.r_ids.clone(), interval_secs: send_secs });
            let mut state = self.state.borrow_mut();
            state.reports.retain(|r| r.request.report_request_id != request.report_request_id);
            state.reports.push(ActiveReport {
                report_name: first.report_name.clone(),
                sample_ms: sample_secs * 1000,
                send_ms: send_secs * 1000,
                next_sample_ms: now + sample_secs * 1000,
                next_send_ms: now + send_secs * 1000,
                readings: Vec::new(),
                request,
            });
        }
        // Pending: every periodic report not yet delivered, those asked before included (the schema's definition).
        let pending: Vec<String> = self.state.borrow().reports.iter().map(|r| r.request.report_request_id.clone()).collect();
        let answer = self.exchange("EiReport", msg::created_report(request_id, &ven_id, &pending), "oadrCreatedReport").await?;
        self.expect_ok(answer, "oadrCreatedReport")
    }

    fn expect_ok(&self, answer: VtnMessage, what: &str) -> Result<()> {
        match answer {
            // Error codes were refused on reading (`read_answer`).
            VtnMessage::Response { .. } => Ok(()),
            other => Err(unexpected(&format!("oadrResponse to {what}"), &other)),
        }
    }

    /// Act on what the VTN sent (an answer to a poll or to a request for events).
    async fn handle(&self, message: VtnMessage) -> Result<()> {
        match message {
            VtnMessage::DistributeEvent { request_id, events, .. } => self.handle_events(&request_id, events).await,
            VtnMessage::RequestReregistration => {
                self.handler.notice(Notice::Reregistering);
                let ven_id = self.ids()?;
                // Acknowledged on the registration service, as OpenLEADR's VEN does.
                self.respond("EiRegisterParty", msg::response(None, &ven_id), "oadrResponse").await?;
                Box::pin(self.register()).await
            }
            VtnMessage::CreateReport { request_id, requests } => self.accept_report_requests(&request_id, requests).await,
            VtnMessage::UpdateReport { request_id, values } => {
                let ven_id = self.ids()?;
                let values = values.into_iter().map(|v| ReceivedValue { r_id: v.r_id, dtstart: format_utc_millis(v.dtstart_ms), value: v.value }).collect();
                self.handler.notice(Notice::ReportReceived { request_id: request_id.clone(), values });
                let answer = self.exchange("EiReport", msg::updated_report(&request_id, &ven_id), "oadrUpdatedReport").await?;
                self.expect_ok(answer, "oadrUpdatedReport")
            }
            VtnMessage::CancelReport { request_id, report_request_ids } => self.cancel_reports(&request_id, &report_request_ids).await,
            VtnMessage::CancelPartyRegistration { request_id } => {
                let ven_id = self.ids()?;
                let registration_id = self.state.borrow().registration_id.clone().unwrap_or_default();
                let answer = self.exchange("EiRegisterParty", msg::canceled_party_registration(&request_id, &registration_id, &ven_id), "oadrCanceledPartyRegistration").await?;
                self.expect_ok(answer, "oadrCanceledPartyRegistration")?;
                // Unregistered: nothing more to poll or report; the loop ends.
                self.forget_registration();
                self.stop();
                Ok(())
            }
            VtnMessage::Response { .. } | VtnMessage::Other(_) => Ok(()),
            other => Err(protocol(format!("unexpected message {}", other.name()))),
        }
    }

    /// The list is complete each time: new and modified events go to the
    /// handler, missing ones are cancelled implicitly.
    async fn handle_events(&self, request_id: &str, events: Vec<Event>) -> Result<()> {
        let ven_id = self.ids()?;
        let mut responses: Vec<(String, u32, Opt)> = Vec::new();
        for event in &events {
            let descriptor = &event.event_descriptor;
            let known = self.state.borrow().events.get(&descriptor.event_id).copied();
            if known.is_some_and(|(number, _)| number == descriptor.modification_number) {
                continue;
            }
            let opt = if descriptor.event_status == "cancelled" {
                self.handler.notice(Notice::Cancelled { event_id: descriptor.event_id.clone(), implied: false });
                // Acknowledge the cancellation with the answer we gave before.
                Some(known.and_then(|(_, opt)| opt).unwrap_or(Opt::In))
            } else if descriptor.event_status == "completed" {
                None
            } else {
                let opt = match self.handler.on_event(event).await {
                    Ok(opt) => opt,
                    Err(err) => {
                        self.handler.notice(Notice::Error { code: err.code.as_str().to_owned(), message: format!("the onEvent handler failed, opting out: {}", err.message) });
                        Opt::Out
                    }
                };
                self.handler.notice(Notice::Event { event: Box::new(event.clone()), opt: Some(opt), modified: known.is_some() });
                Some(opt)
            };
            {
                let mut state = self.state.borrow_mut();
                state.events.insert(descriptor.event_id.clone(), (descriptor.modification_number, opt));
                state.received.insert(descriptor.event_id.clone(), event.clone());
            }
            if let (Some(opt), "always") = (opt, event.response_required.as_str()) {
                responses.push((descriptor.event_id.clone(), descriptor.modification_number, opt));
            }
        }
        let gone: Vec<String> = {
            let state = self.state.borrow();
            state.events.keys().filter(|id| !events.iter().any(|e| &e.event_descriptor.event_id == *id)).cloned().collect()
        };
        for id in gone {
            let mut state = self.state.borrow_mut();
            state.events.remove(&id);
            state.received.remove(&id);
            drop(state);
            self.handler.notice(Notice::Cancelled { event_id: id, implied: true });
        }
        if responses.is_empty() {
            return Ok(());
        }
        let responses: Vec<EventResponse> = responses.iter().map(|(id, number, opt)| EventResponse { event_id: id, modification_number: *number, request_id, opt: *opt }).collect();
        let answer = self.exchange("EiEvent", msg::created_event(&ven_id, request_id, &responses), "oadrCreatedEvent").await?;
        self.expect_ok(answer, "oadrCreatedEvent")
    }

    /// Take the readings and send the reports that are due. Each report
    /// stands alone: one whose reading or sending fails is reported (naming
    /// it) and the others still go.
    async fn send_due_reports(&self) -> Result<()> {
        let now = self.clock.now_ms();
        let to_sample: Vec<ReportRequest> = {
            let mut state = self.state.borrow_mut();
            let due = state.reports.iter_mut().filter(|r| r.next_sample_ms <= now);
            due.map(|r| {
                r.next_sample_ms = next_slot(r.next_sample_ms, r.sample_ms, now);
                r.request.clone()
            })
            .collect()
        };
        for request in to_sample {
            match self.read_report(&request, now).await {
                Ok(values) => {
                    let mut state = self.state.borrow_mut();
                    if let Some(report) = state.reports.iter_mut().find(|r| r.request.report_request_id == request.report_request_id) {
                        report.readings.extend(values);
                    }
                }
                Err(err) => self.report_failed(&request.report_request_id, "could not be read", &err),
            }
        }
        let to_send: Vec<(ReportRequest, String, Vec<ReportValue>)> = {
            let mut state = self.state.borrow_mut();
            let due = state.reports.iter_mut().filter(|r| r.next_send_ms <= now);
            due.map(|r| {
                r.next_send_ms = next_slot(r.next_send_ms, r.send_ms, now);
                (r.request.clone(), r.report_name.clone(), std::mem::take(&mut r.readings))
            })
            .collect()
        };
        let ven_id = self.ids()?;
        for (request, report_name, values) in to_send {
            if values.is_empty() {
                continue;
            }
            let count = values.len();
            if let Err(err) = self.send_report(&ven_id, &request, &report_name, values, now).await {
                self.report_failed(&request.report_request_id, &format!("was not sent ({count} readings dropped)"), &err);
            }
        }
        Ok(())
    }

    fn report_failed(&self, report_request_id: &str, what: &str, err: &Error) {
        self.handler.notice(Notice::Error { code: err.code.as_str().to_owned(), message: format!("report {report_request_id} {what}: {}", err.message) });
    }

    /// One reading of each of a report's rIDs, checked against its description.
    async fn read_report(&self, request: &ReportRequest, now: i64) -> Result<Vec<ReportValue>> {
        let mut values = Vec::new();
        for r_id in &request.r_ids {
            let value = self.handler.report_value(r_id).await?;
            if let Some(offer) = self.config.reports.iter().find(|o| o.r_id() == *r_id) {
                offer.check_payload(&value)?;
            }
            values.push(ReportValue { r_id: r_id.clone(), dtstart_ms: now, value });
        }
        Ok(values)
    }

    /// Send a report's readings in an `oadrUpdateReport`.
    async fn send_report(&self, ven_id: &str, request: &ReportRequest, report_name: &str, values: Vec<ReportValue>, now: i64) -> Result<()> {
        let update = ReportUpdate {
            report_request_id: &request.report_request_id,
            report_specifier_id: &request.report_specifier_id,
            report_name,
            report_id: &new_id()?,
            values: &values,
        };
        let answer = self.exchange("EiReport", msg::update_report(&new_id()?, ven_id, &update, now), "oadrUpdateReport").await?;
        match answer {
            VtnMessage::UpdatedReport { code: 200..=299 } | VtnMessage::Response { code: 200..=299, .. } => {}
            // OpenLEADR answers any message of a VEN it no longer knows so:
            // register again now, and say the readings did not arrive.
            VtnMessage::RequestReregistration => {
                // Boxed: `handle` may come back here (a cancelled report's last readings).
                Box::pin(self.handle(VtnMessage::RequestReregistration)).await?;
                return Err(Error::new(ErrorCode::Rejected, "the VTN asked us to register again (done)").provider(PROVIDER));
            }
            other => return Err(unexpected("oadrUpdatedReport", &other)),
        }
        self.handler.notice(Notice::ReportSent { report_request_id: request.report_request_id.clone(), values: values.into_iter().map(|v| (v.r_id, v.value)).collect() });
        Ok(())
    }

    /// Poll and report until [`Ven::stop`] is called. Failures of one round are
    /// reported (a bad signature never reaches the handler) and the loop goes on.
    pub async fn run(&self) -> Result<()> {
        self.ids()?;
        while !self.stop.get() {
            let now = self.clock.now_ms();
            let (next_poll, next_report) = {
                let state = self.state.borrow();
                (state.next_poll_ms, state.reports.iter().map(|r| r.next_sample_ms.min(r.next_send_ms)).min().unwrap_or(i64::MAX))
            };
            let wake = next_poll.min(next_report);
            if wake > now {
                self.clock.sleep(Duration::from_millis((wake - now).min(TICK_MS) as u64)).await;
                continue;
            }
            // A failed poll does not hold back the reports due with it.
            let polled = if next_poll <= now { self.poll_once().await } else { Ok(()) };
            for result in [polled, self.send_due_reports().await] {
                if let Err(err) = result {
                    self.handler.notice(Notice::Error { code: err.code.as_str().to_owned(), message: err.message.clone() });
                }
            }
        }
        Ok(())
    }

    async fn poll_once(&self) -> Result<()> {
        let ven_id = self.ids()?;
        {
            let now = self.clock.now_ms();
            let next = self.poll_gap();
            self.state.borrow_mut().next_poll_ms = now + next;
        }
        let answer = self.exchange("OadrPoll", msg::poll(&ven_id), "oadrPoll").await?;
        self.handle(answer).await
    }

    fn forget_registration(&self) {
        let mut state = self.state.borrow_mut();
        state.registration_id = None;
        state.reports.clear();
        drop(state);
        self.handler.notice(Notice::RegistrationCancelled);
    }

    /// The VTN's `oadrCancelReport`: the readings taken are sent a last time
    /// (as OpenLEADR's VEN does), then the reports stop; `oadrCanceledReport`
    /// answers with the reports that go on.
    async fn cancel_reports(&self, request_id: &str, report_request_ids: &[String]) -> Result<()> {
        let ven_id = self.ids()?;
        let cancelled: Vec<ActiveReport> = {
            let mut state = self.state.borrow_mut();
            let (cancelled, kept) = std::mem::take(&mut state.reports).into_iter().partition(|r| report_request_ids.contains(&r.request.report_request_id));
            state.reports = kept;
            cancelled
        };
        let now = self.clock.now_ms();
        for report in cancelled {
            let count = report.readings.len();
            if count > 0 {
                if let Err(err) = self.send_report(&ven_id, &report.request, &report.report_name, report.readings, now).await {
                    self.report_failed(&report.request.report_request_id, &format!("was not sent ({count} readings dropped)"), &err);
                }
            }
            self.handler.notice(Notice::ReportCancelled { report_request_id: report.request.report_request_id });
        }
        let pending: Vec<String> = self.state.borrow().reports.iter().map(|r| r.request.report_request_id.clone()).collect();
        let answer = self.exchange("EiReport", msg::canceled_report(request_id, &ven_id, &pending), "oadrCanceledReport").await?;
        self.expect_ok(answer, "oadrCanceledReport")
    }

    /// Ask the loop to end after its current step.
    pub fn stop(&self) {
        self.stop.set(true);
    }

    /// Tell the VTN we leave (`oadrCancelPartyRegistration`).
    pub async fn cancel_registration(&self) -> Result<()> {
        let (ven_id, registration_id) = {
            let state = self.state.borrow();
            match (state.ven_id.clone(), state.registration_id.clone()) {
                (Some(v), Some(r)) => (v, r),
                _ => return Ok(()),
            }
        };
        let answer = self.exchange("EiRegisterParty", msg::cancel_party_registration(&new_id()?, &registration_id, &ven_id), "oadrCancelPartyRegistration").await?;
        match answer {
            VtnMessage::CanceledPartyRegistration { code: 200..=299 } | VtnMessage::Response { code: 200..=299, .. } => {
                self.forget_registration();
                Ok(())
            }
            other => Err(unexpected("oadrCanceledPartyRegistration", &other)),
        }
    }
}
