//! The OpenADR 2.0b messages of the pull-mode sequence: pure builders for
//! what the VEN sends and pure parsers for what the VTN answers.
//!
//! Builders write the `oadrSignedObject` exactly as OpenLEADR's own templates
//! do (same prefixes, same declarations, same element order — the VTN
//! validates against the XSD and an element out of order is an HTTP 400), but
//! without whitespace between elements.

use super::time::{format_duration, parse_duration};
use crate::core::time::{format_utc_millis, parse_utc};
use super::model::{
    ActivePeriod, CreatedPartyRegistration, Event, EventDescriptor, EventSignal, Interval, LoadControlState, LoadControlValue, Opt, ReportPayload, ReportRequest, ReportValue, ResourceStatus, VtnMessage,
};
use super::xml::{escape, Element};
use crate::core::{Error, ErrorCode, Result};
use serde::Serialize;
use std::collections::BTreeMap;

pub const NS_OADR: &str = "http://openadr.org/oadr-2.0b/2012/07";
pub const NS_EI: &str = "http://docs.oasis-open.org/ns/energyinterop/201110";
pub const NS_PYLD: &str = "http://docs.oasis-open.org/ns/energyinterop/201110/payloads";
pub const NS_EMIX: &str = "http://docs.oasis-open.org/ns/emix/2011/06";
pub const NS_XCAL: &str = "urn:ietf:params:xml:ns:icalendar-2.0";
pub const NS_STRM: &str = "urn:ietf:params:xml:ns:icalendar-2.0:stream";
pub const NS_POWER: &str = "http://docs.oasis-open.org/ns/emix/2011/06/power";
pub const NS_SCALE: &str = "http://docs.oasis-open.org/ns/emix/2011/06/siscale";
pub const NS_DS: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const NS_DSP: &str = "http://openadr.org/oadr-2.0b/2012/07/xmldsig-properties";

fn bad(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::BadResponse, message.into()).provider("openadr")
}

/// `<oadr:oadrSignedObject …><oadr:{name} ei:schemaVersion="2.0b" …>{body}</…></…>`.
fn signed_object(name: &str, extra_ns: &str, body: &str) -> String {
    format!(
        r#"<oadr:oadrSignedObject xmlns:oadr="{NS_OADR}"{extra_ns} oadr:Id="oadrSignedObject"><oadr:{name} ei:schemaVersion="2.0b" xmlns:ei="{NS_EI}">{body}</oadr:{name}></oadr:oadrSignedObject>"#
    )
}

fn request_id(id: &str) -> String {
    format!(r#"<requestID xmlns="{NS_PYLD}">{}</requestID>"#, escape(id))
}

fn tag(name: &str, value: &str) -> String {
    format!("<{name}>{}</{name}>", escape(value))
}

pub fn query_registration(request: &str) -> String {
    signed_object("oadrQueryRegistration", "", &request_id(request))
}

pub struct Registration<'a> {
    pub request_id: &'a str,
    pub ven_name: &'a str,
    pub ven_id: Option<&'a str>,
    pub registration_id: Option<&'a str>,
    pub xml_signature: bool,
}

pub fn create_party_registration(r: &Registration) -> String {
    let mut body = request_id(r.request_id);
    if let Some(id) = r.registration_id {
        body += &tag("ei:registrationID", id);
    }
    if let Some(id) = r.ven_id {
        body += &tag("ei:venID", id);
    }
    body += "<oadr:oadrProfileName>2.0b</oadr:oadrProfileName><oadr:oadrTransportName>simpleHttp</oadr:oadrTransportName>";
    body += "<oadr:oadrReportOnly>false</oadr:oadrReportOnly>";
    body += &tag("oadr:oadrXmlSignature", if r.xml_signature { "true" } else { "false" });
    body += &tag("oadr:oadrVenName", r.ven_name);
    body += "<oadr:oadrHttpPullModel>true</oadr:oadrHttpPullModel>";
    signed_object("oadrCreatePartyRegistration", "", &body)
}

pub fn cancel_party_registration(request: &str, registration_id: &str, ven_id: &str) -> String {
    let body = request_id(request) + &tag("ei:registrationID", registration_id) + &tag("ei:venID", ven_id);
    signed_object("oadrCancelPartyRegistration", "", &body)
}

pub fn request_event(request: &str, ven_id: &str) -> String {
    let body = format!(r#"<eiRequestEvent xmlns="{NS_PYLD}">{}{}</eiRequestEvent>"#, tag("requestID", request), tag("ei:venID", ven_id));
    signed_object("oadrRequestEvent", "", &body)
}

pub fn poll(ven_id: &str) -> String {
    signed_object("oadrPoll", "", &tag("ei:venID", ven_id))
}

/// A bare `oadrResponse` (200 OK), the answer to `oadrRequestReregistration`.
pub fn response(request: Option<&str>, ven_id: &str) -> String {
    let request = match request {
        Some(id) => request_id(id),
        None => format!(r#"<requestID xmlns="{NS_PYLD}"></requestID>"#),
    };
    let body = format!("<ei:eiResponse><ei:responseCode>200</ei:responseCode><ei:responseDescription>OK</ei:responseDescription>{request}</ei:eiResponse>{}", tag("ei:venID", ven_id));
    signed_object("oadrResponse", "", &body)
}

pub struct EventResponse<'a> {
    pub event_id: &'a str,
    pub modification_number: u32,
    pub request_id: &'a str,
    pub opt: Opt,
}

pub fn created_event(ven_id: &str, request: &str, responses: &[EventResponse]) -> String {
    let mut body = format!(
        r#"<eiCreatedEvent xmlns="{NS_PYLD}"><ei:eiResponse><ei:responseCode>200</ei:responseCode><ei:responseDescription>OK</ei:responseDescription>{}</ei:eiResponse><ei:eventResponses>"#,
        request_id(request)
    );
    for r in responses {
        body += &format!(
            "<ei:eventResponse><ei:responseCode>200</ei:responseCode><ei:responseDescription>OK</ei:responseDescription>{}<ei:qualifiedEventID>{}{}</ei:qualifiedEventID>{}</ei:eventResponse>",
            request_id(r.request_id),
            tag("ei:eventID", r.event_id),
            tag("ei:modificationNumber", &r.modification_number.to_string()),
            tag("ei:optType", r.opt.as_str())
        );
    }
    body += "</ei:eventResponses>";
    body += &tag("ei:venID", ven_id);
    body += "</eiCreatedEvent>";
    signed_object("oadrCreatedEvent", "", &body)
}

/// What the VEN offers: one reading (rID) of a report (TELEMETRY_USAGE).
#[derive(Clone, Debug, PartialEq, serde::Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportOffer {
    #[serde(default = "telemetry_usage")]
    pub report_name: String,
    pub resource_id: String,
    /// OpenLEADR's measurement names: voltage, current, energyReal, powerReal, …
    /// (none for a TELEMETRY_STATUS report, whose readings are resource statuses).
    #[serde(default)]
    pub measurement: String,
    /// Defaults to the measurement's usual unit.
    #[serde(default)]
    pub unit: Option<String>,
    /// SI scale code: p n micro m c d k M G T none.
    #[serde(default = "no_scale")]
    pub scale: String,
    /// Seconds between samples the VEN can deliver (min = max).
    #[serde(default = "ten")]
    pub sampling_rate_secs: u64,
    /// The rID; defaults to `{resource_id}_{measurement}`.
    #[serde(default)]
    pub r_id: Option<String>,
    /// The power attributes of a power or energy measurement (default 50 Hz,
    /// 230 V, AC: OpenLEADR's defaults).
    #[serde(default)]
    pub power_attributes: PowerAttributes,
}

/// `power:powerAttributes` of a report description.
#[derive(Clone, Debug, PartialEq, serde::Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PowerAttributes {
    pub hertz: f64,
    pub voltage: f64,
    pub ac: bool,
}

impl Default for PowerAttributes {
    fn default() -> Self {
        PowerAttributes { hertz: 50.0, voltage: 230.0, ac: true }
    }
}

fn telemetry_usage() -> String {
    "TELEMETRY_USAGE".to_owned()
}
fn no_scale() -> String {
    "none".to_owned()
}
fn ten() -> u64 {
    10
}

/// OpenLEADR's measurements (contract: voltage V, current A, energyReal Wh,
/// …): element prefix, element name, description, and the units it accepts
/// (the first is the default).
const MEASUREMENTS: [(&str, &str, &str, &[&str]); 11] = [
    ("power", "voltage", "Voltage", &["V"]),
    ("oadr", "current", "Current", &["A"]),
    ("power", "energyReal", "RealEnergy", &["Wh"]),
    ("power", "energyReactive", "ReactiveEnergy", &["VARh"]),
    ("power", "energyApparent", "ApparentEnergy", &["VAh"]),
    ("power", "powerReal", "RealPower", &["W"]),
    ("power", "powerReactive", "ReactivePower", &["VAR"]),
    ("power", "powerApparent", "ApparentPower", &["VA"]),
    ("oadr", "frequency", "Frequency", &["Hz"]),
    ("oadr", "temperature", "temperature", &["celsius", "fahrenheit"]),
    ("oadr", "pulseCount", "pulse count", &["count"]),
];

/// A measurement by its element name (`powerReal`) or one of OpenLEADR's
/// enum names for it (`POWER_REAL`, `REAL_POWER`, `ACTIVE_POWER`, …; case
/// and underscores do not matter).
fn measurement_info(name: &str) -> Option<(&'static str, &'static str, &'static str, &'static [&'static str])> {
    let key: String = name.chars().filter(|c| *c != '_').map(|c| c.to_ascii_lowercase()).collect();
    let key = match key.as_str() {
        "realpower" | "activepower" => "powerreal",
        "reactivepower" => "powerreactive",
        "apparentpower" => "powerapparent",
        "realenergy" | "activeenergy" => "energyreal",
        "reactiveenergy" => "energyreactive",
        "apparentenergy" => "energyapparent",
        other => other,
    };
    MEASUREMENTS.into_iter().find(|m| m.1.eq_ignore_ascii_case(key))
}

const SCALES: [&str; 11] = ["p", "n", "micro", "m", "c", "d", "k", "M", "G", "T", "none"];

/// The report whose readings are resource statuses (`oadrPayloadResourceStatus`);
/// every other report's are numbers (`payloadFloat`).
pub const TELEMETRY_STATUS: &str = "TELEMETRY_STATUS";

impl ReportOffer {
    pub fn r_id(&self) -> String {
        let name = if self.is_status() { "status" } else { measurement_info(&self.measurement).map_or(self.measurement.as_str(), |m| m.1) };
        self.r_id.clone().unwrap_or_else(|| format!("{}_{name}", self.resource_id))
    }

    /// A TELEMETRY_STATUS report: resource statuses, no measurement.
    pub fn is_status(&self) -> bool {
        self.report_name == TELEMETRY_STATUS
    }

    pub fn check(&self) -> Result<()> {
        let invalid = |m: String| Err(Error::invalid_input(m).provider("openadr"));
        if self.report_name != "TELEMETRY_USAGE" && !self.is_status() {
            return invalid(format!("unsupported report name '{}': use TELEMETRY_USAGE or TELEMETRY_STATUS", self.report_name));
        }
        if self.sampling_rate_secs == 0 || self.resource_id.is_empty() {
            return invalid("a report needs a resource id and a sampling rate of at least 1 s".to_owned());
        }
        if self.is_status() {
            // Its readings are statuses: a measurement or unit would describe nothing.
            if !self.measurement.is_empty() || self.unit.is_some() {
                return invalid(format!("a {TELEMETRY_STATUS} report carries resource statuses: give it no measurement or unit"));
            }
            return Ok(());
        }
        let Some((_, name, _, units)) = measurement_info(&self.measurement) else {
            let names: Vec<&str> = MEASUREMENTS.iter().map(|m| m.1).collect();
            if self.measurement.is_empty() {
                return invalid(format!("a {} report needs a measurement: one of {} (or make it a {TELEMETRY_STATUS} report, whose readings are resource statuses)", self.report_name, names.join(", ")));
            }
            return invalid(format!("unknown measurement '{}': use one of {} (OpenLEADR's enum names such as POWER_REAL work too)", self.measurement, names.join(", ")));
        };
        if let Some(unit) = self.unit.as_deref().filter(|u| !units.contains(u)) {
            return invalid(format!("unit '{unit}' does not fit {name}: use {}", units.join(" or ")));
        }
        let p = &self.power_attributes;
        if !(p.hertz.is_finite() && p.hertz >= 0.0 && p.voltage.is_finite() && p.voltage > 0.0) {
            return invalid(format!("power attributes {} Hz / {} V: give a frequency of 0 or more (0 for DC) and a voltage above 0", p.hertz, p.voltage));
        }
        if !SCALES.contains(&self.scale.as_str()) {
            return invalid(format!("unknown scale '{}': use one of {}", self.scale, SCALES.join(" ")));
        }
        Ok(())
    }

    /// A reading's form must be the one this report's description declares:
    /// a resource status for TELEMETRY_STATUS, a finite number otherwise.
    pub fn check_payload(&self, payload: &ReportPayload) -> Result<()> {
        let r_id = self.r_id();
        let invalid = |m: String| Err(Error::invalid_input(m).provider("openadr"));
        match payload {
            ReportPayload::Float(_) if self.is_status() => {
                invalid(format!("the report callback of {r_id} ({TELEMETRY_STATUS}) must return a resource status {{online, manualOverride, loadControlState?}}, not a number"))
            }
            ReportPayload::ResourceStatus(_) if !self.is_status() => invalid(format!("the report callback of {r_id} must return a number (a {} reading), not a resource status", self.measurement)),
            ReportPayload::Float(value) if !value.is_finite() => invalid(format!("the report callback of {r_id} must return a finite number")),
            ReportPayload::ResourceStatus(status) => {
                let numbers = status.load_control_state.iter().flat_map(|s| s.kinds()).filter_map(|(_, v)| v).flat_map(|v| v.fields()).filter_map(|(_, n)| n);
                if numbers.into_iter().all(f64::is_finite) { Ok(()) } else { invalid(format!("the resource status of {r_id} must hold finite numbers only")) }
            }
            ReportPayload::Float(_) => Ok(()),
        }
    }

    fn description(&self) -> String {
        let rate = format_duration(self.sampling_rate_secs as i64);
        let sampling = format!(
            "<oadr:oadrSamplingRate><oadr:oadrMinPeriod>{rate}</oadr:oadrMinPeriod><oadr:oadrMaxPeriod>{rate}</oadr:oadrMaxPeriod><oadr:oadrOnChange>false</oadr:oadrOnChange></oadr:oadrSamplingRate>"
        );
        if self.is_status() {
            // As OpenADR 2.0b describes a status report: no item, x-resourceStatus, x-notApplicable.
            return format!(
                r#"<oadr:oadrReportDescription xmlns:emix="{NS_EMIX}" xmlns:power="{NS_POWER}">{rid}<ei:reportDataSource>{res}</ei:reportDataSource><ei:reportType>x-resourceStatus</ei:reportType><ei:readingType>x-notApplicable</ei:readingType>{sampling}</oadr:oadrReportDescription>"#,
                rid = tag("ei:rID", &self.r_id()),
                res = tag("ei:resourceID", &self.resource_id),
            );
        }
        let (prefix, name, description, units) = measurement_info(&self.measurement).unwrap_or(("oadr", "customUnit", "custom", &["unit"]));
        let unit = self.unit.as_deref().unwrap_or(units[0]);
        let p = &self.power_attributes;
        format!(
            r#"<oadr:oadrReportDescription xmlns:emix="{NS_EMIX}" xmlns:power="{NS_POWER}">{rid}<ei:reportDataSource>{res}</ei:reportDataSource><ei:reportType>usage</ei:reportType><{prefix}:{name} xmlns:scale="{NS_SCALE}" xmlns:power="{NS_POWER}"><{prefix}:itemDescription>{description}</{prefix}:itemDescription><{prefix}:itemUnits>{unit}</{prefix}:itemUnits>{scale}{attributes}</{prefix}:{name}><ei:readingType>Direct Read</ei:readingType>{sampling}</oadr:oadrReportDescription>"#,
            rid = tag("ei:rID", &self.r_id()),
            res = tag("ei:resourceID", &self.resource_id),
            unit = escape(unit),
            // As OpenLEADR renders them (its templates, checked against its VTN's schema): a pulse
            // count has a pulse factor instead of a scale; only the power items carry power
            // attributes (default: OpenLEADR's 50 Hz, 230 V, AC).
            scale = if name == "pulseCount" { "<oadr:pulseFactor>1000</oadr:pulseFactor>".to_owned() } else { format!("<scale:siScaleCode>{}</scale:siScaleCode>", escape(&self.scale)) },
            attributes = if name.starts_with("power") {
                format!("<power:powerAttributes><power:hertz>{}</power:hertz><power:voltage>{}</power:voltage><power:ac>{}</power:ac></power:powerAttributes>", p.hertz, p.voltage, p.ac)
            } else {
                String::new()
            },
        )
    }
}

/// The report specifier id of the METADATA report that carries `report_name`.
pub fn specifier_id(report_name: &str) -> String {
    format!("wattbridge_{}", report_name.to_ascii_lowercase())
}

/// The METADATA reports offering `offers`: one per report name and sampling
/// rate, since OpenADR allows one sampling rate per report (OpenLEADR's VTN
/// forces the smallest on all); a name offered at several rates gets a
/// report per rate, `wattbridge_<name>_<rate>s`.
pub fn register_report(request: &str, ven_id: &str, offers: &[ReportOffer], now_ms: i64) -> String {
    let mut groups: Vec<(&str, u64)> = Vec::new();
    for offer in offers {
        if !groups.contains(&(offer.report_name.as_str(), offer.sampling_rate_secs)) {
            groups.push((offer.report_name.as_str(), offer.sampling_rate_secs));
        }
    }
    let mut body = request_id(request);
    for &(name, rate) in &groups {
        let specifier = match groups.iter().filter(|(n, _)| *n == name).count() {
            1 => specifier_id(name),
            _ => format!("{}_{rate}s", specifier_id(name)),
        };
        body += &format!(r#"<oadr:oadrReport xmlns:xcal="{NS_XCAL}" xmlns:strm="{NS_STRM}">"#);
        for offer in offers.iter().filter(|o| o.report_name == name && o.sampling_rate_secs == rate) {
            body += &offer.description();
        }
        body += "<ei:reportRequestID>0</ei:reportRequestID>";
        body += &tag("ei:reportSpecifierID", &specifier);
        body += &tag("ei:reportName", &format!("METADATA_{name}"));
        body += &tag("ei:createdDateTime", &format_utc_millis(now_ms));
        body += "</oadr:oadrReport>";
    }
    body += &tag("ei:venID", ven_id);
    signed_object("oadrRegisterReport", "", &body)
}

/// `oadrCreatedReport`: `request` is the id of the message that asked for
/// the reports (echoed), `pending` every periodic report still to deliver.
pub fn created_report(request: &str, ven_id: &str, pending: &[String]) -> String {
    pending_reports_answer("oadrCreatedReport", request, ven_id, pending)
}

/// `oadrCanceledReport`, the answer to the VTN's `oadrCancelReport`: the
/// same form, `pending` the reports that go on.
pub fn canceled_report(request: &str, ven_id: &str, pending: &[String]) -> String {
    pending_reports_answer("oadrCanceledReport", request, ven_id, pending)
}

fn pending_reports_answer(name: &str, request: &str, ven_id: &str, pending: &[String]) -> String {
    let mut body = format!("<ei:eiResponse><ei:responseCode>200</ei:responseCode><ei:responseDescription>OK</ei:responseDescription>{}</ei:eiResponse><oadr:oadrPendingReports>", request_id(request));
    for id in pending {
        body += &tag("ei:reportRequestID", id);
    }
    body += "</oadr:oadrPendingReports>";
    body += &tag("ei:venID", ven_id);
    signed_object(name, "", &body)
}

/// `oadrCanceledPartyRegistration`, the answer to the VTN's cancellation of our registration.
pub fn canceled_party_registration(request: &str, registration_id: &str, ven_id: &str) -> String {
    let body = format!(
        "<ei:eiResponse><ei:responseCode>200</ei:responseCode><ei:responseDescription>OK</ei:responseDescription>{}</ei:eiResponse>{}{}",
        request_id(request),
        tag("ei:registrationID", registration_id),
        tag("ei:venID", ven_id)
    );
    signed_object("oadrCanceledPartyRegistration", "", &body)
}

pub struct ReportUpdate<'a> {
    pub report_request_id: &'a str,
    pub report_specifier_id: &'a str,
    pub report_name: &'a str,
    pub report_id: &'a str,
    pub values: &'a [ReportValue],
}

pub fn update_report(request: &str, ven_id: &str, update: &ReportUpdate, now_ms: i64) -> String {
    let extra = format!(r#" xmlns:pyld="{NS_PYLD}" xmlns:emix="{NS_EMIX}""#);
    let mut body = tag("pyld:requestID", request);
    body += &format!(r#"<oadr:oadrReport xmlns:xcal="{NS_XCAL}">"#);
    if let Some(first) = update.values.first() {
        body += &format!("<xcal:dtstart><xcal:date-time>{}</xcal:date-time></xcal:dtstart>", format_utc_millis(first.dtstart_ms));
        body += &format!(r#"<strm:intervals xmlns:strm="{NS_STRM}" xmlns:xcal="{NS_XCAL}">"#);
        for value in update.values {
            body += &format!(
                "<ei:interval><xcal:dtstart><xcal:date-time>{}</xcal:date-time></xcal:dtstart><oadr:oadrReportPayload>{}{}</oadr:oadrReportPayload></ei:interval>",
                format_utc_millis(value.dtstart_ms),
                tag("ei:rID", &value.r_id),
                payload_xml(&value.value)
            );
        }
        body += "</strm:intervals>";
    }
    body += &tag("ei:eiReportID", update.report_id);
    body += &tag("ei:reportRequestID", update.report_request_id);
    body += &tag("ei:reportSpecifierID", update.report_specifier_id);
    body += &tag("ei:reportName", update.report_name);
    body += &tag("ei:createdDateTime", &format_utc_millis(now_ms));
    body += "</oadr:oadrReport>";
    body += &tag("ei:venID", ven_id);
    signed_object("oadrUpdateReport", &extra, &body)
}

/// A reading in the element its form has: `ei:payloadFloat` or
/// `oadr:oadrPayloadResourceStatus` (elements in the schema's order).
fn payload_xml(payload: &ReportPayload) -> String {
    match payload {
        ReportPayload::Float(value) => format!("<ei:payloadFloat><ei:value>{}</ei:value></ei:payloadFloat>", format_float(*value)),
        ReportPayload::ResourceStatus(status) => {
            let mut xml = format!(
                "<oadr:oadrPayloadResourceStatus><oadr:oadrOnline>{}</oadr:oadrOnline><oadr:oadrManualOverride>{}</oadr:oadrManualOverride>",
                status.online, status.manual_override
            );
            if let Some(state) = &status.load_control_state {
                xml += "<oadr:oadrLoadControlState>";
                for (kind, value) in state.kinds() {
                    let Some(value) = value else { continue };
                    xml += &format!("<oadr:{kind}>");
                    for (field, number) in value.fields() {
                        if let Some(number) = number {
                            xml += &format!("<oadr:{field}>{}</oadr:{field}>", format_float(number));
                        }
                    }
                    xml += &format!("</oadr:{kind}>");
                }
                xml += "</oadr:oadrLoadControlState>";
            }
            xml + "</oadr:oadrPayloadResourceStatus>"
        }
    }
}

/// `oadrUpdatedReport`: the VEN's answer to a report the VTN sent it.
pub fn updated_report(request: &str, ven_id: &str) -> String {
    let body = format!(
        "<ei:eiResponse><ei:responseCode>200</ei:responseCode><ei:responseDescription>OK</ei:responseDescription>{}</ei:eiResponse>{}",
        request_id(request),
        tag("ei:venID", ven_id)
    );
    signed_object("oadrUpdatedReport", "", &body)
}

/// xs:float text: f64's `Display`, the shortest decimal that reads back the
/// same ("42.5", "0.0000001"). Non-finite values never get here (the report
/// callback's value is checked); "NaN" keeps the XML valid anyway.
fn format_float(value: f64) -> String {
    if value.is_finite() { value.to_string() } else { "NaN".to_owned() }
}

// ---------------------------------------------------------------- parsing

/// Read the message inside an `oadrSignedObject` element.
pub fn read_signed_object(signed_object: &Element) -> Result<VtnMessage> {
    let message = signed_object.elements().next().ok_or_else(|| bad("oadrSignedObject is empty"))?;
    if message.ns.as_deref() != Some(NS_OADR) {
        return Err(bad(format!("unexpected message element {}", message.local)));
    }
    let code = || response_code(message);
    // A refusal is one whatever message carries it (OpenLEADR answers errors
    // with an oadrResponse, an event request's with an empty oadrDistributeEvent).
    if let Some(code) = message.text_at(&["eiResponse", "responseCode"]).and_then(|c| c.trim().parse::<u16>().ok()).filter(|c| !(200..300).contains(c)) {
        let description: String = message.text_at(&["eiResponse", "responseDescription"]).unwrap_or_default().chars().take(200).collect();
        return Ok(VtnMessage::Refused { code, description });
    }
    Ok(match message.local.as_str() {
        "oadrResponse" => VtnMessage::Response { code: code()?, description: message.text_at(&["eiResponse", "responseDescription"]).unwrap_or_default() },
        "oadrCreatedPartyRegistration" => VtnMessage::CreatedPartyRegistration(CreatedPartyRegistration {
            code: code()?,
            description: message.text_at(&["eiResponse", "responseDescription"]).unwrap_or_default(),
            ven_id: message.text_at(&["venID"]).filter(|s| !s.is_empty()),
            registration_id: message.text_at(&["registrationID"]).filter(|s| !s.is_empty()),
            vtn_id: message.text_at(&["vtnID"]),
            poll_freq_secs: message.text_at(&["oadrRequestedOadrPollFreq", "duration"]).and_then(|d| parse_duration(&d)),
        }),
        "oadrRegisteredReport" => VtnMessage::RegisteredReport { code: code()?, request_id: message.text_at(&["eiResponse", "requestID"]).unwrap_or_default(), requests: report_requests(message)? },
        "oadrCreateReport" => VtnMessage::CreateReport { request_id: message.text_at(&["requestID"]).unwrap_or_default(), requests: report_requests(message)? },
        "oadrDistributeEvent" => VtnMessage::DistributeEvent {
            request_id: message.text_at(&["requestID"]).unwrap_or_default(),
            vtn_id: message.text_at(&["vtnID"]).unwrap_or_default(),
            events: message.children_named("oadrEvent").map(read_event).collect::<Result<_>>()?,
        },
        "oadrRequestReregistration" => VtnMessage::RequestReregistration,
        "oadrCanceledPartyRegistration" => VtnMessage::CanceledPartyRegistration { code: code()? },
        "oadrCancelPartyRegistration" => VtnMessage::CancelPartyRegistration { request_id: message.text_at(&["requestID"]).unwrap_or_default() },
        "oadrCancelReport" => VtnMessage::CancelReport {
            request_id: message.text_at(&["requestID"]).unwrap_or_default(),
            report_request_ids: message.children_named("reportRequestID").map(Element::text).collect(),
        },
        "oadrUpdatedReport" => VtnMessage::UpdatedReport { code: code()? },
        "oadrUpdateReport" => VtnMessage::UpdateReport { request_id: message.text_at(&["requestID"]).unwrap_or_default(), values: report_values(message)? },
        other => VtnMessage::Other(other.to_owned()),
    })
}

/// What an OpenADR response code means (OpenADR 2.0b, 8.1; OpenLEADR's STATUS_CODES).
pub fn status_name(code: u16) -> Option<&'static str> {
    Some(match code {
        450 => "out of sequence",
        451 => "not allowed",
        452 => "invalid ID",
        453 => "not recognized",
        454 => "invalid data",
        459 => "compliance error",
        460 => "signal not supported",
        461 => "report not supported",
        462 => "target mismatch",
        463 => "not registered or authorized",
        469 => "deployment error or other error",
        _ => return None,
    })
}

fn response_code(message: &Element) -> Result<u16> {
    message
        .text_at(&["eiResponse", "responseCode"])
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| bad(format!("{} has no responseCode", message.local)))
}

fn report_requests(message: &Element) -> Result<Vec<ReportRequest>> {
    message
        .children_named("oadrReportRequest")
        .map(|request| {
            let specifier = request.child("reportSpecifier").ok_or_else(|| bad("oadrReportRequest without reportSpecifier"))?;
            Ok(ReportRequest {
                report_request_id: request.text_at(&["reportRequestID"]).ok_or_else(|| bad("oadrReportRequest without reportRequestID"))?,
                report_specifier_id: specifier.text_at(&["reportSpecifierID"]).unwrap_or_default(),
                granularity_secs: specifier.text_at(&["granularity", "duration"]).and_then(|d| parse_duration(&d)).unwrap_or(0),
                report_back_secs: specifier.text_at(&["reportBackDuration", "duration"]).and_then(|d| parse_duration(&d)).unwrap_or(0),
                r_ids: specifier.children_named("specifierPayload").filter_map(|p| p.text_at(&["rID"])).collect(),
            })
        })
        .collect()
}

/// The number inside a `signalPayload`, `currentValue` or `oadrReportPayload`:
/// `payloadFloat` (its text may be an integer, a decimal or an exponent form,
/// as xs:float allows), an integer form (`payloadInt`, `payloadInteger`) or
/// any other `payload…` element with a `value`.
fn payload_value(holder: &Element) -> Option<f64> {
    holder
        .elements()
        .filter(|e| e.local.starts_with("payload"))
        .find_map(|e| e.text_at(&["value"])?.trim().parse::<f64>().ok().filter(|v| v.is_finite()))
}

/// A report reading in any form 2.0b allows: a number (see [`payload_value`])
/// or an `oadrPayloadResourceStatus`.
pub fn read_report_payload(holder: &Element) -> Option<ReportPayload> {
    if let Some(value) = payload_value(holder) {
        return Some(ReportPayload::Float(value));
    }
    let status = holder.child("oadrPayloadResourceStatus")?;
    let flag = |name: &str| status.text_at(&[name]).map(|t| matches!(t.trim(), "true" | "1"));
    let number = |holder: &Element, name: &str| holder.text_at(&[name]).and_then(|t| t.trim().parse::<f64>().ok()).filter(|v| v.is_finite());
    let value = |kind: &str| {
        let element = status.path(&["oadrLoadControlState", kind])?;
        Some(LoadControlValue { current: number(element, "oadrCurrent")?, min: number(element, "oadrMin"), max: number(element, "oadrMax"), normal: number(element, "oadrNormal") })
    };
    Some(ReportPayload::ResourceStatus(ResourceStatus {
        online: flag("oadrOnline")?,
        manual_override: flag("oadrManualOverride")?,
        load_control_state: status.child("oadrLoadControlState").map(|_| LoadControlState {
            capacity: value("oadrCapacity"),
            level_offset: value("oadrLevelOffset"),
            percent_offset: value("oadrPercentOffset"),
            set_point: value("oadrSetPoint"),
        }),
    }))
}

/// The readings of every `oadrReport` in an `oadrUpdateReport`. A reading
/// whose payload cannot be read is an error naming it, never dropped.
fn report_values(message: &Element) -> Result<Vec<ReportValue>> {
    let mut values = Vec::new();
    for report in message.children_named("oadrReport") {
        let report_start = report.text_at(&["dtstart", "date-time"]).and_then(|d| parse_utc(&d));
        for interval in report.child("intervals").into_iter().flat_map(|i| i.children_named("interval")) {
            let payload = interval.child("oadrReportPayload").ok_or_else(|| bad("a report interval has no oadrReportPayload"))?;
            let r_id = payload.text_at(&["rID"]).ok_or_else(|| bad("a report payload has no rID"))?;
            let value = read_report_payload(payload).ok_or_else(|| bad(format!("the report payload of {r_id} is in no form OpenADR 2.0b allows (payloadFloat, oadrPayloadResourceStatus)")))?;
            let dtstart_ms = interval.text_at(&["dtstart", "date-time"]).and_then(|d| parse_utc(&d)).or(report_start).ok_or_else(|| bad(format!("the report interval of {r_id} has no readable dtstart")))?;
            values.push(ReportValue { r_id, dtstart_ms, value });
        }
    }
    Ok(values)
}

/// `venID` → `ven_id`, `endDeviceAsset` → `end_device_asset`.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() && previous_lower {
            out.push('_');
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn read_event(oadr_event: &Element) -> Result<Event> {
    let ei_event = oadr_event.child("eiEvent").ok_or_else(|| bad("oadrEvent without eiEvent"))?;
    let descriptor = ei_event.child("eventDescriptor").ok_or_else(|| bad("eiEvent without eventDescriptor"))?;
    let event_id = descriptor.text_at(&["eventID"]).ok_or_else(|| bad("event without eventID"))?;
    let number = |text: Option<String>| text.and_then(|t| t.parse().ok());
    let properties = ei_event.path(&["eiActivePeriod", "properties"]).ok_or_else(|| bad(format!("event {event_id} has no active period")))?;
    let period_start = properties.text_at(&["dtstart", "date-time"]).and_then(|d| parse_utc(&d)).ok_or_else(|| bad(format!("event {event_id} has no readable dtstart")))?;
    let mut signals = Vec::new();
    for signal in ei_event.path(&["eiEventSignals"]).into_iter().flat_map(|s| s.children_named("eiEventSignal")) {
        let mut start = period_start;
        let mut intervals = Vec::new();
        for interval in signal.child("intervals").into_iter().flat_map(|i| i.children_named("interval")) {
            // Intervals without their own dtstart follow each other from the period's start.
            let dtstart = interval.text_at(&["dtstart", "date-time"]).and_then(|d| parse_utc(&d)).unwrap_or(start);
            let duration = interval.text_at(&["duration", "duration"]).and_then(|d| parse_duration(&d)).unwrap_or(0);
            start = dtstart.saturating_add(duration.saturating_mul(1000));
            intervals.push(Interval {
                dtstart: format_utc_millis(dtstart),
                duration,
                uid: interval.text_at(&["uid", "text"]),
                signal_payload: interval.child("signalPayload").and_then(payload_value),
            });
        }
        signals.push(EventSignal {
            signal_name: signal.text_at(&["signalName"]).unwrap_or_default(),
            signal_type: signal.text_at(&["signalType"]).unwrap_or_default(),
            signal_id: signal.text_at(&["signalID"]).unwrap_or_default(),
            current_value: signal.child("currentValue").and_then(payload_value),
            intervals,
        });
    }
    let mut targets = Vec::new();
    let mut targets_by_type: BTreeMap<String, Vec<String>> = BTreeMap::new();
    // Every target kind is kept (ven, resource, group, party, and the EMIX
    // ones: endDeviceAsset, meterAsset, pnode, serviceArea, …), named in
    // snake case as OpenLEADR names them; nested ones by their text.
    for target in ei_event.child("eiTarget").into_iter().flat_map(Element::elements) {
        let kind = snake_case(&target.local);
        targets.push(BTreeMap::from([(kind.clone(), target.text())]));
        targets_by_type.entry(kind).or_default().push(target.text());
    }
    Ok(Event {
        event_id: event_id.clone(),
        event_descriptor: EventDescriptor {
            modification_number: number(descriptor.text_at(&["modificationNumber"])).unwrap_or(0),
            priority: number(descriptor.text_at(&["priority"])),
            market_context: descriptor.text_at(&["eiMarketContext", "marketContext"]),
            event_status: descriptor.text_at(&["eventStatus"]).unwrap_or_default(),
            test_event: descriptor.text_at(&["testEvent"]).is_some_and(|t| t == "true"),
            created_date_time: descriptor.text_at(&["createdDateTime"]).and_then(|d| parse_utc(&d)).map(format_utc_millis),
            event_id,
        },
        active_period: ActivePeriod {
            dtstart: format_utc_millis(period_start),
            duration: properties.text_at(&["duration", "duration"]).and_then(|d| parse_duration(&d)).unwrap_or(0),
        },
        event_signals: signals,
        targets,
        targets_by_type,
        response_required: oadr_event.text_at(&["oadrResponseRequired"]).unwrap_or_else(|| "always".to_owned()),
    })
}
