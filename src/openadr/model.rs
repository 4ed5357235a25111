//! What OpenADR messages carry, as the VEN and its JS handlers see it: the
//! VTN's messages read (`api::read_signed_object`), events in OpenLEADR's
//! shape, report requests and values, and the VEN's opt.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Opt {
    #[serde(rename = "optIn")]
    In,
    #[serde(rename = "optOut")]
    Out,
}

impl Opt {
    pub fn as_str(self) -> &'static str {
        match self {
            Opt::In => "optIn",
            Opt::Out => "optOut",
        }
    }
}

/// One value of an `oadrUpdateReport`.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportValue {
    pub r_id: String,
    pub dtstart_ms: i64,
    pub value: ReportPayload,
}

/// A report reading in the forms OpenADR 2.0b's `oadrReportPayload` allows:
/// `ei:payloadFloat` (a number; an integer is written without a decimal
/// point, as xs:float allows) for the measurement reports, and
/// `oadr:oadrPayloadResourceStatus` for TELEMETRY_STATUS reports. In JS: a
/// number, or `{online, manualOverride, loadControlState?}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ReportPayload {
    Float(f64),
    ResourceStatus(ResourceStatus),
}

/// `oadrPayloadResourceStatus`: whether the resource is online, whether its
/// control was overridden by hand, and optionally where its load stands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceStatus {
    pub online: bool,
    pub manual_override: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_control_state: Option<LoadControlState>,
}

/// `oadrLoadControlState`: each of the four kinds is optional.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoadControlState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<LoadControlValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level_offset: Option<LoadControlValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent_offset: Option<LoadControlValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_point: Option<LoadControlValue>,
}

/// `oadrLoadControlStateTypeType`: the current value, with its bounds and normal value if known.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoadControlValue {
    pub current: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normal: Option<f64>,
}

impl LoadControlState {
    /// The kinds present, by their element names, in the schema's order.
    pub fn kinds(&self) -> [(&'static str, Option<&LoadControlValue>); 4] {
        [
            ("oadrCapacity", self.capacity.as_ref()),
            ("oadrLevelOffset", self.level_offset.as_ref()),
            ("oadrPercentOffset", self.percent_offset.as_ref()),
            ("oadrSetPoint", self.set_point.as_ref()),
        ]
    }
}

impl LoadControlValue {
    /// Its numbers by element name, in the schema's order (min, max, current, normal).
    pub fn fields(&self) -> [(&'static str, Option<f64>); 4] {
        [("oadrMin", self.min), ("oadrMax", self.max), ("oadrCurrent", Some(self.current)), ("oadrNormal", self.normal)]
    }
}

/// What a VTN answered, by message name.
#[derive(Debug, PartialEq)]
pub enum VtnMessage {
    Response { code: u16, description: String },
    CreatedPartyRegistration(CreatedPartyRegistration),
    /// `request_id`: the eiResponse's, which our oadrCreatedReport echoes.
    RegisteredReport { code: u16, request_id: String, requests: Vec<ReportRequest> },
    CreateReport { request_id: String, requests: Vec<ReportRequest> },
    DistributeEvent { request_id: String, vtn_id: String, events: Vec<Event> },
    RequestReregistration,
    CanceledPartyRegistration { code: u16 },
    CancelPartyRegistration { request_id: String },
    /// The VTN no longer wants these reports.
    CancelReport { request_id: String, report_request_ids: Vec<String> },
    UpdatedReport { code: u16 },
    /// A report the VTN sends the VEN (its readings, in any 2.0b payload form).
    UpdateReport { request_id: String, values: Vec<ReportValue> },
    /// A message the VEN does not act on: named, ignored.
    Other(String),
    /// Any answer whose `eiResponse` carries an OpenADR error code (4xx):
    /// the VTN refused what we sent, whatever message it chose to say so.
    Refused { code: u16, description: String },
}

impl VtnMessage {
    /// The message's element name, for error messages (no Debug formatting:
    /// it would print whole messages and cost wasm size).
    pub fn name(&self) -> &str {
        match self {
            VtnMessage::Response { .. } => "oadrResponse",
            VtnMessage::CreatedPartyRegistration(_) => "oadrCreatedPartyRegistration",
            VtnMessage::RegisteredReport { .. } => "oadrRegisteredReport",
            VtnMessage::CreateReport { .. } => "oadrCreateReport",
            VtnMessage::DistributeEvent { .. } => "oadrDistributeEvent",
            VtnMessage::RequestReregistration => "oadrRequestReregistration",
            VtnMessage::CanceledPartyRegistration { .. } => "oadrCanceledPartyRegistration",
            VtnMessage::CancelPartyRegistration { .. } => "oadrCancelPartyRegistration",
            VtnMessage::CancelReport { .. } => "oadrCancelReport",
            VtnMessage::UpdatedReport { .. } => "oadrUpdatedReport",
            VtnMessage::UpdateReport { .. } => "oadrUpdateReport",
            VtnMessage::Other(name) => name,
            VtnMessage::Refused { .. } => "an OpenADR error",
        }
    }
}

#[derive(Debug, PartialEq)]
pub struct CreatedPartyRegistration {
    pub code: u16,
    pub description: String,
    pub ven_id: Option<String>,
    pub registration_id: Option<String>,
    pub vtn_id: Option<String>,
    pub poll_freq_secs: Option<i64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReportRequest {
    pub report_request_id: String,
    pub report_specifier_id: String,
    pub granularity_secs: i64,
    pub report_back_secs: i64,
    pub r_ids: Vec<String>,
}

/// An event in OpenLEADR's shape, as JS handlers receive it. `event_id`
/// stands at the top level too, as in OpenLEADR's documentation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    pub event_id: String,
    pub event_descriptor: EventDescriptor,
    pub active_period: ActivePeriod,
    pub event_signals: Vec<EventSignal>,
    pub targets: Vec<BTreeMap<String, String>>,
    pub targets_by_type: BTreeMap<String, Vec<String>>,
    pub response_required: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EventDescriptor {
    pub event_id: String,
    pub modification_number: u32,
    pub priority: Option<u32>,
    pub market_context: Option<String>,
    pub event_status: String,
    pub test_event: bool,
    pub created_date_time: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ActivePeriod {
    pub dtstart: String,
    /// Seconds.
    pub duration: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EventSignal {
    pub signal_name: String,
    pub signal_type: String,
    pub signal_id: String,
    pub current_value: Option<f64>,
    pub intervals: Vec<Interval>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Interval {
    pub dtstart: String,
    /// Seconds.
    pub duration: i64,
    pub uid: Option<String>,
    /// The payload's value, whichever form 2.0b allows carries it
    /// (`payloadFloat`, an integer form, any other `payload…` with a `value`).
    pub signal_payload: Option<f64>,
}
