//! The OpenADR VEN natively: every message of the pull-mode sequence (the
//! VTN's as OpenLEADR 0.5.36 renders them, in tests/fixtures/openadr/, made
//! by tests/openadr/make_fixtures.py), XML-DSig with RustCrypto behind the
//! crypto seam, replay protection, and the VEN loop in virtual time.
#![cfg(feature = "openadr")]

mod support;

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use support::{certificate, pem, run, ven_config as config, NativeCrypto, RoutedHttp, VirtualClock};
use wattbridge::core::{ErrorCode, HttpResponse, Result, Secret, SignatureAlgorithm};
use wattbridge::openadr::dsig::{self, Validator, REPLAY_WINDOW_MS};
use wattbridge::openadr::keys::{Certificate, PrivateKey};
use wattbridge::openadr::api::{self as msg, NS_OADR};
use wattbridge::openadr::client::ReceivedValue;
use wattbridge::openadr::model::{LoadControlState, LoadControlValue, ReportValue, ResourceStatus, VtnMessage};
use wattbridge::openadr::xml::{parse, Element};
use wattbridge::openadr::{Event, Notice, Opt, ReportOffer, ReportPayload, Ven, VenConfig, VenHandler};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/openadr/{name}.xml", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The `oadrSignedObject` of a fixture, to sign it again with a test key.
fn signed_object_of(document: &str) -> String {
    let start = document.find("<oadr:oadrSignedObject").unwrap();
    let end = document.rfind("</oadr:oadrSignedObject>").unwrap() + "</oadr:oadrSignedObject>".len();
    document[start..end].to_owned()
}

/// Read a VTN answer the way the VEN does (no fingerprint: unsigned accepted).
fn read(document: &str) -> VtnMessage {
    let element = run(Validator::new(None).open(document, 0, &NativeCrypto)).unwrap();
    msg::read_signed_object(&element).unwrap()
}

// ------------------------------------------------------------ the VTN's messages

#[test]
fn reads_every_vtn_message_as_openleadr_writes_it() {
    let VtnMessage::CreatedPartyRegistration(query) = read(&fixture("query_registration_answer")) else { panic!() };
    assert_eq!((query.code, query.vtn_id.as_deref(), query.poll_freq_secs, query.ven_id), (200, Some("VTN-1"), Some(10), None));
    let VtnMessage::CreatedPartyRegistration(created) = read(&fixture("created_party_registration")) else { panic!() };
    assert_eq!((created.ven_id.as_deref(), created.registration_id.as_deref()), (Some("ven-1"), Some("reg-1")));

    let VtnMessage::RegisteredReport { code: 200, request_id, requests } = read(&fixture("registered_report")) else { panic!() };
    assert_eq!(request_id, "req-1", "the eiResponse's, for oadrCreatedReport to echo");
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!((request.report_request_id.as_str(), request.report_specifier_id.as_str()), ("rr-1", "wattbridge_telemetry_usage"));
    assert_eq!((request.granularity_secs, request.report_back_secs, request.r_ids.clone()), (10, 30, vec!["meter1_powerReal".to_owned()]));
    let VtnMessage::CreateReport { request_id, requests } = read(&fixture("create_report")) else { panic!() };
    assert_eq!((request_id.as_str(), requests[0].report_request_id.as_str()), ("req-2", "rr-1"));

    let VtnMessage::DistributeEvent { request_id, vtn_id, events } = read(&fixture("distribute_event")) else { panic!() };
    assert_eq!((request_id.as_str(), vtn_id.as_str(), events.len()), ("req-3", "VTN-1", 2));
    let event = serde_json::to_value(&events[0]).unwrap();
    assert_eq!(
        event,
        serde_json::json!({
            "event_id": "ev-1",
            "event_descriptor": {"event_id": "ev-1", "modification_number": 0, "priority": 1, "market_context": "http://marketcontext01",
                                 "event_status": "far", "test_event": false, "created_date_time": "2026-11-22T09:00:00.000Z"},
            "active_period": {"dtstart": "2026-11-22T10:00:00.000Z", "duration": 1200},
            "event_signals": [{"signal_name": "simple", "signal_type": "level", "signal_id": "sig-1", "current_value": 0.0, "intervals": [
                {"dtstart": "2026-11-22T10:00:00.000Z", "duration": 600, "uid": "0", "signal_payload": 1.0},
                {"dtstart": "2026-11-22T10:10:00.000Z", "duration": 600, "uid": "1", "signal_payload": 3.5}]}],
            "targets": [{"group_id": "g1"}, {"resource_id": "meter1"}, {"ven_id": "ven-1"}],
            "targets_by_type": {"group_id": ["g1"], "resource_id": ["meter1"], "ven_id": ["ven-1"]},
            "response_required": "always"
        })
    );
    assert_eq!((events[1].event_descriptor.event_status.as_str(), events[1].event_descriptor.modification_number, events[1].response_required.as_str()), ("cancelled", 2, "never"));

    assert!(matches!(read(&fixture("response")), VtnMessage::Response { code: 200, .. }));
    assert_eq!(read(&fixture("request_reregistration")), VtnMessage::RequestReregistration);
    assert_eq!(read(&fixture("canceled_party_registration")), VtnMessage::CanceledPartyRegistration { code: 200 });
    assert_eq!(read(&fixture("updated_report")), VtnMessage::UpdatedReport { code: 200 });
}

#[test]
fn events_carry_event_id_at_the_top_every_payload_form_and_every_target_kind() {
    let VtnMessage::DistributeEvent { events, .. } = read(&fixture("distribute_event_payloads")) else { panic!() };
    let event = serde_json::to_value(&events[0]).unwrap();
    assert_eq!(event["event_id"], "ev-1", "as in OpenLEADR's docs, besides event_descriptor");
    assert_eq!(event["event_descriptor"]["event_id"], "ev-1");
    let payloads: Vec<&serde_json::Value> = event["event_signals"][0]["intervals"].as_array().unwrap().iter().map(|i| &i["signal_payload"]).collect();
    assert_eq!(payloads, [&serde_json::json!(1.0), &serde_json::json!(4.0)], "payloadFloat and payloadInt");
    assert_eq!(event["event_signals"][0]["current_value"], 1.5);
    assert_eq!(
        event["targets_by_type"],
        serde_json::json!({
            "aggregated_pnode": ["pn-7"], "end_device_asset": ["heatpump-1"], "group_id": ["g1"], "group_name": ["North"],
            "meter_asset": ["meter-9"], "party_id": ["party-3"], "resource_id": ["meter1", "meter2"],
            "service_delivery_point": ["sdp-5"], "ven_id": ["ven-1"]
        })
    );
    assert_eq!(event["targets"].as_array().unwrap().len(), 10, "none dropped");
    assert_eq!(event["targets"][4], serde_json::json!({"group_name": "North"}));
}

#[test]
fn measurements_as_openleadrs_enums_name_them_their_units_and_the_power_attributes() {
    let offer = |measurement: &str, unit: Option<&str>, power: serde_json::Value| {
        serde_json::from_value::<ReportOffer>(serde_json::json!({ "resourceId": "meter1", "measurement": measurement, "unit": unit, "powerAttributes": power })).unwrap()
    };
    // OpenLEADR's enum names stand for the same element (case and underscores aside).
    for name in ["powerReal", "POWER_REAL", "real_power", "ACTIVE_POWER"] {
        let o = offer(name, None, serde_json::json!({}));
        o.check().unwrap();
        assert_eq!(o.r_id(), "meter1_powerReal", "{name}");
    }
    for name in ["voltage", "current", "energyReal", "ENERGY_REACTIVE", "energyApparent", "powerReactive", "powerApparent", "frequency", "temperature", "PULSE_COUNT"] {
        offer(name, None, serde_json::json!({})).check().unwrap_or_else(|e| panic!("{name}: {}", e.message));
    }
    offer("temperature", Some("fahrenheit"), serde_json::json!({})).check().unwrap();
    let unknown = offer("power", None, serde_json::json!({})).check().unwrap_err();
    assert_eq!(unknown.code, ErrorCode::InvalidInput);
    assert!(unknown.message.contains("voltage, current, energyReal, energyReactive, energyApparent, powerReal, powerReactive, powerApparent, frequency, temperature, pulseCount"), "{}", unknown.message);
    let unit = offer("voltage", Some("W"), serde_json::json!({})).check().unwrap_err();
    assert_eq!((unit.code, unit.message.as_str()), (ErrorCode::InvalidInput, "unit 'W' does not fit voltage: use V"));

    // The power attributes are options now, not fixed at AC, 50 Hz, 230 V.
    let dc = offer("POWER_REAL", None, serde_json::json!({ "hertz": 0, "voltage": 48, "ac": false }));
    dc.check().unwrap();
    let message = built(&msg::register_report("r2", "ven-1", &[dc], 1_795_000_000_000), "oadrRegisterReport");
    let attributes = message.path(&["oadrReport", "oadrReportDescription", "powerReal", "powerAttributes"]).unwrap();
    assert_eq!([attributes.text_at(&["hertz"]), attributes.text_at(&["voltage"]), attributes.text_at(&["ac"])], [Some("0".into()), Some("48".into()), Some("false".into())]);
    let default = built(&msg::register_report("r2", "ven-1", &[offer("powerReal", None, serde_json::json!({}))], 1_795_000_000_000), "oadrRegisterReport");
    let attributes = default.path(&["oadrReport", "oadrReportDescription", "powerReal", "powerAttributes"]).unwrap();
    assert_eq!([attributes.text_at(&["hertz"]), attributes.text_at(&["voltage"]), attributes.text_at(&["ac"])], [Some("50".into()), Some("230".into()), Some("true".into())]);
    assert_eq!(offer("powerReal", None, serde_json::json!({ "voltage": -1 })).check().unwrap_err().code, ErrorCode::InvalidInput);
    // Only the power items take power attributes (the VTN's schema check refuses them elsewhere).
    let voltage = built(&msg::register_report("r2", "ven-1", &[offer("voltage", None, serde_json::json!({}))], 1_795_000_000_000), "oadrRegisterReport");
    let item = voltage.path(&["oadrReport", "oadrReportDescription", "voltage"]).unwrap();
    assert!(item.child("powerAttributes").is_none());
    assert_eq!(item.text_at(&["itemUnits"]).as_deref(), Some("V"));
}

#[test]
fn refuses_broken_vtn_messages_with_an_error_not_a_panic() {
    for (body, what) in [
        ("", "empty"),
        ("<oadr:oadrPayload xmlns:oadr=\"http://openadr.org/oadr-2.0b/2012/07\"/>", "no signed object"),
        ("<html>502 Bad Gateway</html>", "not OpenADR"),
        ("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>", "DTD"),
    ] {
        let err = run(Validator::new(None).open(body, 0, &NativeCrypto)).unwrap_err();
        assert_eq!(err.code, ErrorCode::BadResponse, "{what}");
    }
    // An event without its active period is a clear error.
    let broken = fixture("distribute_event").replacen("<ei:eiActivePeriod>", "<ei:eiActivePeriodX>", 1).replacen("</ei:eiActivePeriod>", "</ei:eiActivePeriodX>", 1);
    let element = run(Validator::new(None).open(&broken, 0, &NativeCrypto)).unwrap();
    assert!(msg::read_signed_object(&element).unwrap_err().message.contains("active period"));
}

// ------------------------------------------------------------ the VEN's messages

/// Parse one of our messages back: the envelope, the message element with its
/// schema version, and its children's local names in order (the XSD's order).
fn built(signed_object: &str, name: &str) -> Element {
    let root = parse(&dsig::wrap(signed_object)).unwrap();
    assert!(root.is(NS_OADR, "oadrPayload"));
    let object = root.elements().next().unwrap();
    assert!(object.is(NS_OADR, "oadrSignedObject"));
    assert_eq!(object.attr("Id"), Some("oadrSignedObject"));
    let message = object.elements().next().unwrap().clone();
    assert!(message.is(NS_OADR, name), "{}", message.local);
    assert_eq!(message.attr("schemaVersion"), Some("2.0b"));
    message
}

fn names(element: &Element) -> Vec<&str> {
    element.elements().map(|e| e.local.as_str()).collect()
}

#[test]
fn writes_every_ven_message_in_schema_order() {
    let message = built(&msg::query_registration("q1"), "oadrQueryRegistration");
    assert_eq!(message.text_at(&["requestID"]).as_deref(), Some("q1"));

    let registration = msg::Registration { request_id: "r1", ven_name: "ven <&> one", ven_id: Some("ven-1"), registration_id: Some("reg-1"), xml_signature: true };
    let message = built(&msg::create_party_registration(&registration), "oadrCreatePartyRegistration");
    assert_eq!(
        names(&message),
        ["requestID", "registrationID", "venID", "oadrProfileName", "oadrTransportName", "oadrReportOnly", "oadrXmlSignature", "oadrVenName", "oadrHttpPullModel"]
    );
    assert_eq!(message.text_at(&["oadrVenName"]).as_deref(), Some("ven <&> one"));
    assert_eq!(message.text_at(&["oadrXmlSignature"]).as_deref(), Some("true"));

    let offer = ReportOffer { report_name: "TELEMETRY_USAGE".into(), resource_id: "meter1".into(), measurement: "powerReal".into(), unit: None, scale: "k".into(), sampling_rate_secs: 10, r_id: None, power_attributes: Default::default() };
    let message = built(&msg::register_report("r2", "ven-1", &[offer], 1_795_000_000_000), "oadrRegisterReport");
    assert_eq!(names(&message), ["requestID", "oadrReport", "venID"]);
    let report = message.child("oadrReport").unwrap();
    assert_eq!(names(report), ["oadrReportDescription", "reportRequestID", "reportSpecifierID", "reportName", "createdDateTime"]);
    assert_eq!(report.text_at(&["reportName"]).as_deref(), Some("METADATA_TELEMETRY_USAGE"));
    assert_eq!(report.text_at(&["reportRequestID"]).as_deref(), Some("0"));
    let description = report.child("oadrReportDescription").unwrap();
    assert_eq!(description.text_at(&["rID"]).as_deref(), Some("meter1_powerReal"));
    assert_eq!(description.text_at(&["powerReal", "itemUnits"]).as_deref(), Some("W"));
    assert_eq!(description.text_at(&["powerReal", "siScaleCode"]).as_deref(), Some("k"));
    assert_eq!(description.text_at(&["oadrSamplingRate", "oadrMinPeriod"]).as_deref(), Some("PT10S"));

    let message = built(&msg::created_report("r3", "ven-1", &["rr-1".to_owned()]), "oadrCreatedReport");
    assert_eq!(names(&message), ["eiResponse", "oadrPendingReports", "venID"]);
    assert_eq!(message.text_at(&["oadrPendingReports", "reportRequestID"]).as_deref(), Some("rr-1"));

    let message = built(&msg::request_event("r4", "ven-1"), "oadrRequestEvent");
    assert_eq!(names(message.child("eiRequestEvent").unwrap()), ["requestID", "venID"]);

    let message = built(&msg::poll("ven-1"), "oadrPoll");
    assert_eq!(message.text_at(&["venID"]).as_deref(), Some("ven-1"));

    let responses = [msg::EventResponse { event_id: "ev-1", modification_number: 3, request_id: "req-3", opt: Opt::Out }];
    let message = built(&msg::created_event("ven-1", "req-3", &responses), "oadrCreatedEvent");
    let created = message.child("eiCreatedEvent").unwrap();
    assert_eq!(names(created), ["eiResponse", "eventResponses", "venID"]);
    let response = created.path(&["eventResponses", "eventResponse"]).unwrap();
    assert_eq!(names(response), ["responseCode", "responseDescription", "requestID", "qualifiedEventID", "optType"]);
    assert_eq!(response.text_at(&["qualifiedEventID", "modificationNumber"]).as_deref(), Some("3"));
    assert_eq!(response.text_at(&["optType"]).as_deref(), Some("optOut"));

    let values = [ReportValue { r_id: "meter1_powerReal".into(), dtstart_ms: 1_795_000_000_000, value: ReportPayload::Float(42.5) }];
    let update = msg::ReportUpdate { report_request_id: "rr-1", report_specifier_id: "wattbridge_telemetry_usage", report_name: "TELEMETRY_USAGE", report_id: "rep-1", values: &values };
    let message = built(&msg::update_report("r5", "ven-1", &update, 1_795_000_000_000), "oadrUpdateReport");
    let report = message.child("oadrReport").unwrap();
    assert_eq!(names(report), ["dtstart", "intervals", "eiReportID", "reportRequestID", "reportSpecifierID", "reportName", "createdDateTime"]);
    let interval = report.path(&["intervals", "interval"]).unwrap();
    assert_eq!(interval.text_at(&["oadrReportPayload", "payloadFloat", "value"]).as_deref(), Some("42.5"));
    assert_eq!(interval.text_at(&["dtstart", "date-time"]).as_deref(), Some("2026-11-18T11:06:40.000Z"));

    let message = built(&msg::cancel_party_registration("r6", "reg-1", "ven-1"), "oadrCancelPartyRegistration");
    assert_eq!(names(&message), ["requestID", "registrationID", "venID"]);

    let message = built(&msg::response(None, "ven-1"), "oadrResponse");
    assert_eq!(message.text_at(&["eiResponse", "responseCode"]).as_deref(), Some("200"));
}

// ------------------------------------------------------------ keys and signatures

/// A DER TLV.
struct TestKeys {
    cert_pem: String,
    key_pem: String,
    pkcs8: Vec<u8>,
}

fn keys(algorithm: SignatureAlgorithm) -> TestKeys {
    use p256::pkcs8::{EncodePrivateKey, EncodePublicKey};
    let mut rng = rand_core::OsRng;
    let (pkcs8, spki) = match algorithm {
        SignatureAlgorithm::RsaSha256 => {
            // 1024 bits keeps key generation fast in debug builds; the size is irrelevant here.
            let key = rsa::RsaPrivateKey::new(&mut rng, 1024).unwrap();
            (key.to_pkcs8_der().unwrap().as_bytes().to_vec(), key.to_public_key().to_public_key_der().unwrap().as_bytes().to_vec())
        }
        SignatureAlgorithm::EcdsaP256Sha256 => {
            let key = p256::SecretKey::random(&mut rng);
            (key.to_pkcs8_der().unwrap().as_bytes().to_vec(), key.public_key().to_public_key_der().unwrap().as_bytes().to_vec())
        }
    };
    TestKeys { cert_pem: pem("CERTIFICATE", &certificate(&spki)), key_pem: pem("PRIVATE KEY", &pkcs8), pkcs8 }
}

struct Signer {
    key: PrivateKey,
    cert: Certificate,
    fingerprint: String,
}

fn signer(keys: &TestKeys) -> Signer {
    let key = run(PrivateKey::from_pem(&keys.key_pem, None, &NativeCrypto)).unwrap();
    let cert = Certificate::from_pem(&keys.cert_pem).unwrap();
    let fingerprint = run(cert.fingerprint(&NativeCrypto)).unwrap();
    Signer { key, cert, fingerprint }
}

impl Signer {
    /// Synchronous (NativeCrypto never waits), so the fake VTN can sign inside the VEN's executor.
    fn sign(&self, signed_object: &str, now_ms: i64) -> String {
        use futures::FutureExt;
        dsig::sign(signed_object, &self.key, &self.cert, now_ms, &NativeCrypto).now_or_never().unwrap().unwrap()
    }
}

const NOW: i64 = 1_795_000_000_000;

#[test]
fn signed_messages_verify_and_altered_ones_do_not() {
    for algorithm in [SignatureAlgorithm::RsaSha256, SignatureAlgorithm::EcdsaP256Sha256] {
        let vtn = signer(&keys(algorithm));
        let body = vtn.sign(&signed_object_of(&fixture("distribute_event")), NOW);
        assert!(body.contains("<ds:Signature") && body.contains("<dsp:nonce>"));
        let mut validator = Validator::new(Some(vtn.fingerprint.to_lowercase()));
        let element = run(validator.open(&body, NOW + 1000, &NativeCrypto)).unwrap();
        assert!(matches!(msg::read_signed_object(&element).unwrap(), VtnMessage::DistributeEvent { .. }));

        // Any change to the signed object, the replay protection or the signature fails.
        for (from, to) in [("ev-1", "ev-9"), ("<ei:value>3.5</ei:value>", "<ei:value>9.5</ei:value>"), ("<dsp:nonce>", "<dsp:nonce>0")] {
            let altered = body.replacen(from, to, 1);
            assert_ne!(altered, body);
            let err = run(Validator::new(Some(vtn.fingerprint.clone())).open(&altered, NOW, &NativeCrypto)).unwrap_err();
            assert_eq!(err.code, ErrorCode::SignatureInvalid, "{from}: {}", err.message);
        }
        let value_at = body.find("<ds:SignatureValue>").unwrap() + "<ds:SignatureValue>".len();
        let flipped = format!("{}{}{}", &body[..value_at], if &body[value_at..value_at + 1] == "A" { "B" } else { "A" }, &body[value_at + 1..]);
        let err = run(Validator::new(Some(vtn.fingerprint.clone())).open(&flipped, NOW, &NativeCrypto)).unwrap_err();
        assert_eq!((err.code, err.message.contains("does not verify")), (ErrorCode::SignatureInvalid, true), "{}", err.message);

        // Another key's signature, an unsigned message: refused when a fingerprint is set.
        let other = signer(&keys(algorithm));
        let err = run(Validator::new(Some(vtn.fingerprint.clone())).open(&other.sign(&signed_object_of(&fixture("response")), NOW), NOW, &NativeCrypto)).unwrap_err();
        assert!(err.message.contains("fingerprint"), "{}", err.message);
        let err = run(Validator::new(Some(vtn.fingerprint.clone())).open(&fixture("response"), NOW, &NativeCrypto)).unwrap_err();
        assert_eq!((err.code, err.message.as_str()), (ErrorCode::SignatureInvalid, "the VTN's message is not signed"));
    }
}

#[test]
fn a_wrapped_copy_of_the_signed_object_is_refused() {
    let vtn = signer(&keys(SignatureAlgorithm::EcdsaP256Sha256));
    let body = vtn.sign(&signed_object_of(&fixture("response")), NOW);
    // Signature wrapping: the genuine object kept for the digest, a forged one read.
    let forged = signed_object_of(&fixture("distribute_event"));
    let wrapped = body.replacen("</oadr:oadrPayload>", &format!("{forged}</oadr:oadrPayload>"), 1);
    let err = run(Validator::new(Some(vtn.fingerprint.clone())).open(&wrapped, NOW, &NativeCrypto)).unwrap_err();
    assert_eq!(err.code, ErrorCode::SignatureInvalid, "{}", err.message);
}

#[test]
fn replay_window_and_nonce_cache() {
    let vtn = signer(&keys(SignatureAlgorithm::EcdsaP256Sha256));
    let object = signed_object_of(&fixture("response"));
    let mut validator = Validator::new(Some(vtn.fingerprint.clone()));
    let first = vtn.sign(&object, NOW);
    run(validator.open(&first, NOW + 100, &NativeCrypto)).unwrap();
    // The same message again (same timestamp and nonce) within the window.
    let err = run(validator.open(&first, NOW + 200, &NativeCrypto)).unwrap_err();
    assert!(err.message.contains("already received"), "{}", err.message);
    // A new signature of the same content has a new nonce: fine.
    run(validator.open(&vtn.sign(&object, NOW + 300), NOW + 400, &NativeCrypto)).unwrap();
    // Exactly at the edge of the window is still accepted, one ms later is not.
    run(validator.open(&vtn.sign(&object, NOW), NOW + REPLAY_WINDOW_MS, &NativeCrypto)).unwrap();
    let err = run(validator.open(&vtn.sign(&object, NOW), NOW + REPLAY_WINDOW_MS + 1, &NativeCrypto)).unwrap_err();
    assert!(err.message.contains("more than 5 s ago"), "{}", err.message);
    // Once outside the window the replay is refused for its age; the cache forgets it.
    let err = run(validator.open(&first, NOW + 60_000, &NativeCrypto)).unwrap_err();
    assert!(err.message.contains("more than 5 s ago"), "{}", err.message);
    assert_eq!(validator.remembered(), 0);
}

#[test]
fn a_message_signed_in_the_future_is_refused_beyond_the_allowed_skew() {
    let vtn = signer(&keys(SignatureAlgorithm::EcdsaP256Sha256));
    let object = signed_object_of(&fixture("response"));
    let mut validator = Validator::new(Some(vtn.fingerprint.clone()));
    // Within the clock skew the window allows: fine.
    run(validator.open(&vtn.sign(&object, NOW + REPLAY_WINDOW_MS), NOW, &NativeCrypto)).unwrap();
    // An hour ahead: it would stay "fresh" (and in the nonce cache) for an hour.
    let err = run(validator.open(&vtn.sign(&object, NOW + 3_600_000), NOW, &NativeCrypto)).unwrap_err();
    assert_eq!(err.code, ErrorCode::SignatureInvalid);
    assert!(err.message.contains("in the future"), "{}", err.message);
    assert_eq!(validator.remembered(), 1, "the refused message is not remembered");
}

#[test]
fn encrypted_keys_need_the_right_passphrase_which_is_never_echoed() {
    use pkcs8::pkcs5::pbes2;
    let keys = keys(SignatureAlgorithm::EcdsaP256Sha256);
    let params = pbes2::Parameters::pbkdf2_sha256_aes256cbc(2048, &[7u8; 16], &[9u8; 16]).unwrap();
    let encrypted = pkcs8::PrivateKeyInfo::try_from(keys.pkcs8.as_slice()).unwrap().encrypt_with_params(params, "correct horse").unwrap();
    let encrypted_pem = encrypted.to_pem("ENCRYPTED PRIVATE KEY", pkcs8::LineEnding::LF).unwrap().to_string();

    let key = run(PrivateKey::from_pem(&encrypted_pem, Some(&Secret::new("correct horse")), &NativeCrypto)).unwrap();
    assert_eq!((key.pkcs8.as_slice(), key.algorithm), (keys.pkcs8.as_slice(), SignatureAlgorithm::EcdsaP256Sha256));
    assert!(!format!("{key:?}").contains(&format!("{:?}", &key.pkcs8[..8])), "Debug must not print the key");

    let err = run(PrivateKey::from_pem(&encrypted_pem, Some(&Secret::new("wrong horse")), &NativeCrypto)).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidCredentials);
    assert!(!err.message.contains("horse"));
    let err = run(PrivateKey::from_pem(&encrypted_pem, None, &NativeCrypto)).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidConfig);
}

// ------------------------------------------------------------ the VEN loop

#[derive(Clone, Default)]
struct Recorder {
    events: Rc<RefCell<Vec<Event>>>,
    notices: Rc<RefCell<Vec<Notice>>>,
}

impl VenHandler for Recorder {
    /// Opt out when any interval asks for more than 2 (the CLI's `signal>2`).
    async fn on_event(&self, event: &Event) -> Result<Opt> {
        self.events.borrow_mut().push(event.clone());
        let high = event.event_signals.iter().flat_map(|s| &s.intervals).any(|i| i.signal_payload.is_some_and(|p| p > 2.0));
        Ok(if high { Opt::Out } else { Opt::In })
    }
    async fn report_value(&self, _r_id: &str) -> Result<ReportPayload> {
        Ok(ReportPayload::Float(42.5))
    }
    fn notice(&self, notice: Notice) {
        self.notices.borrow_mut().push(notice);
    }
}

/// Stops the VEN once the virtual clock reaches `at_ms`.
struct StopAt<'a, V: Fn()> {
    clock: &'a VirtualClock,
    at_ms: i64,
    stop: V,
}

impl<V: Fn()> Future for StopAt<'_, V> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.clock.now() >= self.at_ms {
            (self.stop)();
            return Poll::Ready(());
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// What the fake VTN was sent: (virtual time, service, message name, body).
type Log = Rc<RefCell<Vec<(i64, String, String, String)>>>;

fn message_name(body: &str) -> String {
    let object = body.split("oadr:oadrSignedObject").nth(1).unwrap();
    let start = object.find("<oadr:").unwrap() + "<oadr:".len();
    object[start..].split([' ', '>']).next().unwrap().to_owned()
}

/// A VTN scripted from OpenLEADR's renderings. Polls are answered in turn by
/// `polls` (then plain oadrResponses). A VEN's own oadrResponse gets an empty
/// HTTP 200, as OpenLEADR's VTN answers it. With `signer`, every answer not
/// already signed is signed.
fn fake_vtn(clock: VirtualClock, log: Log, polls: Vec<String>, signer: Option<Rc<Signer>>) -> RoutedHttp {
    fake_vtn_answering(clock, log, polls, signer, |_| None)
}

/// [`fake_vtn`], with `answer(message name)` taking precedence when it has one.
fn fake_vtn_answering(clock: VirtualClock, log: Log, polls: Vec<String>, signer: Option<Rc<Signer>>, answer: impl Fn(&str) -> Option<String> + 'static) -> RoutedHttp {
    let polls = RefCell::new(polls.into_iter());
    let own_answer = answer;
    RoutedHttp::new(move |request| {
        assert_eq!(request.headers.iter().find(|(n, _)| n == "content-type").map(|(_, v)| v.expose()), Some("application/xml"));
        let body = request.body.clone().unwrap_or_default();
        let service = request.url.rsplit('/').next().unwrap().to_owned();
        let name = message_name(&body);
        log.borrow_mut().push((clock.now(), service, name.clone(), body));
        let answer = own_answer(&name);
        let answer = answer.unwrap_or_else(|| match name.as_str() {
            "oadrQueryRegistration" => fixture("query_registration_answer"),
            "oadrCreatePartyRegistration" => fixture("created_party_registration"),
            "oadrRegisterReport" => fixture("registered_report"),
            "oadrPoll" => polls.borrow_mut().next().unwrap_or_else(|| fixture("response")),
            "oadrUpdateReport" => fixture("updated_report"),
            "oadrCancelPartyRegistration" => fixture("canceled_party_registration"),
            "oadrResponse" => String::new(),
            _ => fixture("response"),
        });
        let answer = match &signer {
            Some(signer) if !answer.is_empty() && !answer.contains("<ds:Signature") => signer.sign(&signed_object_of(&answer), clock.now()),
            _ => answer,
        };
        Ok(HttpResponse::new(200, answer))
    })
}


fn sent<'a>(log: &'a [(i64, String, String, String)], name: &str) -> Vec<&'a (i64, String, String, String)> {
    log.iter().filter(|(_, _, n, _)| n == name).collect()
}

#[test]
fn the_ven_loop_in_virtual_time() {
    let clock = VirtualClock::at_secs(1_795_000_000);
    let start = clock.now();
    let log: Log = Rc::default();
    let distribute = fixture("distribute_event");
    // ev-1 modified: modification number 1, its high interval lowered.
    let modified = distribute.replacen("<ei:modificationNumber>0</ei:modificationNumber>", "<ei:modificationNumber>1</ei:modificationNumber>", 1).replacen("<ei:value>3.5</ei:value>", "<ei:value>1.5</ei:value>", 1);
    let empty = {
        let (head, _) = distribute.split_once("<oadr:oadrEvent>").unwrap();
        let (_, tail) = distribute.rsplit_once("</oadr:oadrEvent>").unwrap();
        format!("{head}{tail}")
    };
    let polls = vec![fixture("response"), distribute, modified.clone(), modified, fixture("request_reregistration"), empty];
    let http = fake_vtn(clock.clone(), log.clone(), polls, None);
    let recorder = Recorder::default();
    let ven = Ven::new(config(None), http, clock.clone(), NativeCrypto, recorder.clone()).unwrap();
    run(ven.register()).unwrap();
    assert_eq!(ven.ven_id().as_deref(), Some("ven-1"));
    run(async { futures::join!(ven.run(), StopAt { clock: &clock, at_ms: start + 95_000, stop: || ven.stop() }) }).0.unwrap();
    run(ven.cancel_registration()).unwrap();

    let log = log.borrow();
    let order: Vec<&str> = log.iter().take(6).map(|(_, _, n, _)| n.as_str()).collect();
    assert_eq!(order, ["oadrQueryRegistration", "oadrCreatePartyRegistration", "oadrRegisterReport", "oadrCreatedReport", "oadrRequestEvent", "oadrPoll"]);
    assert!(log.iter().all(|(_, service, name, _)| service == match name.as_str() {
        // The answer to oadrRequestReregistration belongs to the registration service, as OpenLEADR's VEN sends it.
        "oadrQueryRegistration" | "oadrCreatePartyRegistration" | "oadrCancelPartyRegistration" | "oadrResponse" => "EiRegisterParty",
        "oadrRegisterReport" | "oadrCreatedReport" | "oadrUpdateReport" => "EiReport",
        "oadrRequestEvent" | "oadrCreatedEvent" => "EiEvent",
        _ => "OadrPoll",
    }));

    // Polls at the VTN's 10 s, ± 10 % jitter, never in a burst.
    let polls: Vec<i64> = sent(&log, "oadrPoll").iter().map(|(t, ..)| *t).collect();
    assert!((8..=11).contains(&polls.len()), "{polls:?}");
    for pair in polls.windows(2) {
        assert!((9_000..=11_000).contains(&(pair[1] - pair[0])), "{polls:?}");
    }

    // ev-1: opted out (3.5 > 2), then in after the modification; answered once per
    // modification number (the repeated list is not a new event). ev-2 arrives
    // cancelled and needs no answer: the handler never sees it.
    let events = recorder.events.borrow();
    let seen: Vec<(&str, u32)> = events.iter().map(|e| (e.event_descriptor.event_id.as_str(), e.event_descriptor.modification_number)).collect();
    assert_eq!(seen, [("ev-1", 0), ("ev-1", 1)]);
    let answers: Vec<(String, String, String)> = sent(&log, "oadrCreatedEvent")
        .iter()
        .map(|(_, _, _, body)| {
            let element = run(Validator::new(None).open(body, 0, &NativeCrypto)).unwrap();
            let response = element.find(&|e| e.local == "eventResponse").unwrap().1;
            (response.text_at(&["qualifiedEventID", "eventID"]).unwrap(), response.text_at(&["qualifiedEventID", "modificationNumber"]).unwrap(), response.text_at(&["optType"]).unwrap())
        })
        .collect();
    assert_eq!(answers, [("ev-1".into(), "0".into(), "optOut".into()), ("ev-1".into(), "1".into(), "optIn".into())]);

    // Reports: sent every 30 s (the requested report-back duration), each
    // with the readings taken every 10 s (the requested granularity) since the last.
    let updates = sent(&log, "oadrUpdateReport");
    assert!(updates.len() >= 2, "{}", updates.len());
    for (at, _, _, body) in &updates {
        let message = built(&signed_object_of(body), "oadrUpdateReport");
        let times: Vec<i64> = message.path(&["oadrReport", "intervals"]).unwrap().children_named("interval").map(|i| wattbridge::core::time::parse_utc(&i.text_at(&["dtstart", "date-time"]).unwrap()).unwrap()).collect();
        assert_eq!(times, [at - 20_000, at - 10_000, *at], "three readings 10 s apart, the last taken as it is sent");
    }
    assert!(updates.iter().all(|(_, _, _, body)| body.contains("<ei:value>42.5</ei:value>") && body.contains("<ei:reportRequestID>rr-1</ei:reportRequestID>") && body.contains("<ei:rID>meter1_powerReal</ei:rID>")));
    // On the cadence set when the request was accepted (again at the re-registration).
    let accepted: Vec<i64> = sent(&log, "oadrCreatedReport").iter().map(|(t, ..)| *t).collect();
    for (at, ..) in &updates {
        let since = accepted.iter().filter(|t| *t < at).max().unwrap();
        assert_eq!((at - since) % 30_000, 0, "update at {at}, accepted at {accepted:?}");
    }

    // Re-registration on request, then the empty list cancels what is left.
    assert_eq!(sent(&log, "oadrCreatePartyRegistration").len(), 2);
    let notices = recorder.notices.borrow();
    let cancelled: Vec<(&str, bool)> = notices.iter().filter_map(|n| match n { Notice::Cancelled { event_id, implied } => Some((event_id.as_str(), *implied)), _ => None }).collect();
    assert_eq!(cancelled, [("ev-2", false), ("ev-1", true), ("ev-2", true)]);
    assert!(notices.contains(&Notice::Reregistering));
    assert!(!notices.iter().any(|n| matches!(n, Notice::Error { .. })), "{notices:?}");
    assert_eq!(notices.last(), Some(&Notice::RegistrationCancelled));
    assert_eq!(log.last().unwrap().2, "oadrCancelPartyRegistration");
}

#[test]
fn a_signed_vtn_is_followed_and_a_forged_answer_never_reaches_the_handler() {
    let clock = VirtualClock::at_secs(1_795_000_000);
    let start = clock.now();
    let log: Log = Rc::default();
    let vtn = Rc::new(signer(&keys(SignatureAlgorithm::EcdsaP256Sha256)));
    let fingerprint = vtn.fingerprint.clone();
    // A forged event list (signed by another key) answers the first poll
    // (about 10 s in), the genuine one the second.
    let forger = signer(&keys(SignatureAlgorithm::EcdsaP256Sha256));
    let forged = forger.sign(&signed_object_of(&fixture("distribute_event")), start + 9_000);
    let http = fake_vtn(clock.clone(), log.clone(), vec![forged, fixture("distribute_event")], Some(vtn));
    let recorder = Recorder::default();
    let ven = Ven::new(config(Some(fingerprint)), http, clock.clone(), NativeCrypto, recorder.clone()).unwrap();
    run(ven.register()).unwrap();
    run(async { futures::join!(ven.run(), StopAt { clock: &clock, at_ms: start + 35_000, stop: || ven.stop() }) }).0.unwrap();

    let notices = recorder.notices.borrow();
    let errors: Vec<&str> = notices.iter().filter_map(|n| match n { Notice::Error { code, .. } => Some(code.as_str()), _ => None }).collect();
    assert_eq!(errors, ["signature_invalid"]);
    // Only the genuine list reached the handler, once.
    assert_eq!(recorder.events.borrow().len(), 1);
    assert_eq!(sent(&log.borrow(), "oadrCreatedEvent").len(), 1);
}

#[test]
fn absurd_durations_from_the_vtn_are_clamped_not_multiplied_into_an_overflow() {
    let clock = VirtualClock::at_secs(1_795_000_000);
    let start = clock.now();
    let log: Log = Rc::default();
    let (record, c) = (log.clone(), clock.clone());
    // Poll frequency and report granularity of 15.4 billion weeks.
    let http = RoutedHttp::new(move |request| {
        let body = request.body.clone().unwrap_or_default();
        let name = message_name(&body);
        record.borrow_mut().push((c.now(), String::new(), name.clone(), String::new()));
        let answer = match name.as_str() {
            "oadrQueryRegistration" => fixture("query_registration_answer"),
            "oadrCreatePartyRegistration" => fixture("created_party_registration").replace("PT10S", "P15400000000W"),
            "oadrRegisterReport" => fixture("registered_report").replace("PT10S", "P15400000000W").replace("PT30S", "P15400000000W"),
            _ => fixture("response"),
        };
        Ok(HttpResponse::new(200, answer))
    });
    let ven = Ven::new(config(None), http, clock.clone(), NativeCrypto, Recorder::default()).unwrap();
    run(ven.register()).unwrap();
    run(async { futures::join!(ven.run(), StopAt { clock: &clock, at_ms: start + 3_600_000, stop: || ven.stop() }) }).0.unwrap();
    let log = log.borrow();
    // Clamped to a day: within the hour only the poll that follows the
    // registration, no report, and no hot loop either.
    assert_eq!(sent(&log, "oadrPoll").len(), 1);
    assert_eq!(sent(&log, "oadrUpdateReport").len(), 0);
}

/// NativeCrypto whose signature check really waits, as WebCrypto's does, so
/// two exchanges can interleave.
struct SlowCrypto;

impl wattbridge::core::Crypto for SlowCrypto {
    async fn sha256(&self, data: &[u8]) -> Result<[u8; 32]> {
        wattbridge::core::Crypto::sha256(&NativeCrypto, data).await
    }
}

impl wattbridge::core::PublicKeyCrypto for SlowCrypto {
    async fn sign(&self, algorithm: SignatureAlgorithm, pkcs8_der: &[u8], data: &[u8]) -> Result<Vec<u8>> {
        NativeCrypto.sign(algorithm, pkcs8_der, data).await
    }
    async fn verify(&self, algorithm: SignatureAlgorithm, spki_der: &[u8], data: &[u8], signature: &[u8]) -> Result<bool> {
        for _ in 0..3 {
            support::YieldOnce(false).await;
        }
        NativeCrypto.verify(algorithm, spki_der, data, signature).await
    }
    async fn pbkdf2(&self, hash: wattbridge::core::PbkdfHash, password: &[u8], salt: &[u8], iterations: u32, length: usize) -> Result<Vec<u8>> {
        NativeCrypto.pbkdf2(hash, password, salt, iterations, length).await
    }
    async fn aes_cbc_decrypt(&self, key: &[u8], iv: &[u8], data: &[u8]) -> Result<Vec<u8>> {
        NativeCrypto.aes_cbc_decrypt(key, iv, data).await
    }
}

#[test]
fn two_exchanges_at_once_both_check_the_vtn_signature() {
    let vtn = Rc::new(signer(&keys(SignatureAlgorithm::EcdsaP256Sha256)));
    let clock = VirtualClock::at_secs(1_795_000_000);
    let (signing, c) = (vtn.clone(), clock.clone());
    let answered = Rc::new(std::cell::Cell::new(0));
    let count = answered.clone();
    // The second request is answered unsigned (a forgery); every other one signed.
    let http = RoutedHttp::new(move |request| {
        count.set(count.get() + 1);
        let name = message_name(request.body.as_deref().unwrap_or_default());
        let answer = match name.as_str() {
            "oadrQueryRegistration" => fixture("query_registration_answer"),
            "oadrCreatePartyRegistration" => fixture("created_party_registration"),
            "oadrRegisterReport" => fixture("registered_report"),
            _ => fixture("response"),
        };
        Ok(HttpResponse::new(200, if count.get() == 2 { answer } else { signing.sign(&signed_object_of(&answer), c.now()) }))
    });
    let ven = Ven::new(config(Some(vtn.fingerprint.clone())), http, clock.clone(), SlowCrypto, Recorder::default()).unwrap();
    let (first, second) = run(async { futures::join!(ven.register(), ven.register()) });
    let refused = [&first, &second].iter().filter(|r| r.as_ref().is_err_and(|e| e.code == ErrorCode::SignatureInvalid)).count();
    assert_eq!(refused, 1, "the unsigned answer is refused whichever exchange gets it: {first:?} / {second:?}");
}

/// Run a VEN on the fake VTN for `secs` virtual seconds; its log, and the VEN.
fn run_for(config: VenConfig, at_secs: i64, polls: Vec<String>, secs: i64) -> (Vec<(i64, String, String, String)>, Ven<RoutedHttp, VirtualClock, NativeCrypto, Recorder>, VirtualClock) {
    let clock = VirtualClock::at_secs(at_secs);
    let start = clock.now();
    let log: Log = Rc::default();
    let ven = Ven::new(config, fake_vtn(clock.clone(), log.clone(), polls, None), clock.clone(), NativeCrypto, Recorder::default()).unwrap();
    run(ven.register()).unwrap();
    run(async { futures::join!(ven.run(), StopAt { clock: &clock, at_ms: start + secs * 1000, stop: || ven.stop() }) }).0.unwrap();
    let log = log.borrow().clone();
    (log, ven, clock)
}

#[test]
fn allow_jitter_false_polls_exactly_at_the_vtns_rate() {
    let (log, ..) = run_for(VenConfig { allow_jitter: false, ..config(None) }, 1_795_000_000, Vec::new(), 65);
    let polls: Vec<i64> = sent(&log, "oadrPoll").iter().map(|(t, ..)| *t).collect();
    assert!(polls.len() >= 5, "{polls:?}");
    assert!(polls.windows(2).all(|w| w[1] - w[0] == 10_000), "exactly every 10 s: {polls:?}");
    let (log, ..) = run_for(config(None), 1_795_000_000, Vec::new(), 65);
    let polls: Vec<i64> = sent(&log, "oadrPoll").iter().map(|(t, ..)| *t).collect();
    assert!(polls.windows(2).any(|w| w[1] - w[0] != 10_000), "jittered by default: {polls:?}");
}

#[test]
fn disable_signature_sends_unsigned_messages_even_with_a_certificate_and_key() {
    let keys = keys(SignatureAlgorithm::EcdsaP256Sha256);
    let with_keys = VenConfig { cert: Some(keys.cert_pem.clone()), key: Some(Secret::new(keys.key_pem.clone())), ..config(None) };
    let (signed, ..) = run_for(with_keys.clone(), 1_795_000_000, Vec::new(), 5);
    assert!(signed.iter().all(|(_, _, _, body)| body.contains("<ds:Signature")), "signed when keys are given");
    let (unsigned, ..) = run_for(VenConfig { disable_signature: true, ..with_keys }, 1_795_000_000, Vec::new(), 5);
    assert!(!unsigned.is_empty() && unsigned.iter().all(|(_, _, _, body)| !body.contains("<ds:Signature")), "disableSignature: nothing signed");
    // A key without its certificate is no longer an error once signing is off.
    let half = VenConfig { disable_signature: true, key: Some(Secret::new("unused")), ..config(None) };
    assert!(Ven::new(half, RoutedHttp::new(|_| unreachable!()), VirtualClock::at_secs(0), NativeCrypto, Recorder::default()).is_ok());
}

#[test]
fn next_events_lists_what_is_still_to_come_soonest_first() {
    // 2026-11-18: ev-1 (2026-11-22 10:00, 20 min) is ahead; ev-2 arrives cancelled.
    let (_, ven, _) = run_for(config(None), 1_795_000_000, vec![fixture("distribute_event")], 15);
    let next: Vec<String> = ven.next_events().iter().map(|e| e.event_id.clone()).collect();
    assert_eq!(next, ["ev-1"]);
    // After its active period ended it is not "next" any more.
    let (_, ven, _) = run_for(config(None), 1_795_350_000, vec![fixture("distribute_event")], 15);
    assert!(ven.next_events().is_empty(), "ended at 2026-11-22 10:20");
}

#[test]
fn reports_at_different_sampling_rates_go_in_reports_of_their_own() {
    let offer = |measurement: &str, rate: u64| ReportOffer { sampling_rate_secs: rate, measurement: measurement.into(), ..config(None).reports[0].clone() };
    let offers = [offer("powerReal", 1), offer("voltage", 2), offer("current", 1)];
    let message = built(&msg::register_report("r2", "ven-1", &offers, 1_795_000_000_000), "oadrRegisterReport");
    let reports: Vec<(String, Vec<String>)> = message
        .children_named("oadrReport")
        .map(|r| (r.text_at(&["reportSpecifierID"]).unwrap(), r.children_named("oadrReportDescription").map(|d| d.text_at(&["rID"]).unwrap()).collect()))
        .collect();
    assert_eq!(
        reports,
        [
            ("wattbridge_telemetry_usage_1s".to_owned(), vec!["meter1_powerReal".to_owned(), "meter1_current".to_owned()]),
            ("wattbridge_telemetry_usage_2s".to_owned(), vec!["meter1_voltage".to_owned()]),
        ]
    );
    // One rate: the report keeps its plain name.
    let single = built(&msg::register_report("r2", "ven-1", &offers[..1], 1_795_000_000_000), "oadrRegisterReport");
    assert_eq!(single.text_at(&["oadrReport", "reportSpecifierID"]).as_deref(), Some("wattbridge_telemetry_usage"));
}

// ------------------------------------------------------------ report payload forms

fn status(online: bool, load_control_state: Option<LoadControlState>) -> ReportPayload {
    ReportPayload::ResourceStatus(ResourceStatus { online, manual_override: !online, load_control_state })
}

fn loaded_status() -> ReportPayload {
    let capacity = LoadControlValue { current: 3.0, min: Some(0.0), max: Some(10.0), normal: Some(5.0) };
    let set_point = LoadControlValue { current: 21.5, min: None, max: None, normal: None };
    status(false, Some(LoadControlState { capacity: Some(capacity), set_point: Some(set_point), ..Default::default() }))
}

#[test]
fn report_readings_are_written_in_each_form_the_schema_allows_and_read_back_the_same() {
    let at = 1_795_000_000_000;
    let value = |r_id: &str, value: ReportPayload| ReportValue { r_id: r_id.into(), dtstart_ms: at, value };
    let values = [
        value("meter1_powerReal", ReportPayload::Float(42.5)),
        value("meter1_pulseCount", ReportPayload::Float(7.0)),
        value("meter1_current", ReportPayload::Float(0.000_000_1)),
        value("meter1_status", status(true, None)),
        value("pump_status", loaded_status()),
    ];
    let update = msg::ReportUpdate { report_request_id: "rr-1", report_specifier_id: "wattbridge_telemetry_usage", report_name: "TELEMETRY_USAGE", report_id: "rep-1", values: &values };
    let written = msg::update_report("r5", "ven-1", &update, at);
    // payloadFloat: an integer without a decimal point, as xs:float allows; never "1e-7" (not xs:float).
    let message = built(&written, "oadrUpdateReport");
    let payloads: Vec<&Element> = message.path(&["oadrReport", "intervals"]).unwrap().children_named("interval").map(|i| i.child("oadrReportPayload").unwrap()).collect();
    let floats: Vec<String> = payloads[..3].iter().map(|p| p.text_at(&["payloadFloat", "value"]).unwrap()).collect();
    assert_eq!(floats, ["42.5", "7", "0.0000001"]);
    // oadrPayloadResourceStatus, its elements in the schema's order.
    let resource = payloads[4].child("oadrPayloadResourceStatus").unwrap();
    assert_eq!(names(resource), ["oadrOnline", "oadrManualOverride", "oadrLoadControlState"]);
    assert_eq!(names(resource.child("oadrLoadControlState").unwrap()), ["oadrCapacity", "oadrSetPoint"]);
    assert_eq!(names(resource.path(&["oadrLoadControlState", "oadrCapacity"]).unwrap()), ["oadrMin", "oadrMax", "oadrCurrent", "oadrNormal"]);
    assert_eq!(names(payloads[3].child("oadrPayloadResourceStatus").unwrap()), ["oadrOnline", "oadrManualOverride"]);
    assert_eq!(resource.text_at(&["oadrOnline"]).as_deref(), Some("false"));

    // The reader takes every one of them back unchanged.
    let VtnMessage::UpdateReport { request_id, values: read_back } = read(&dsig::wrap(&written)) else { panic!() };
    assert_eq!(request_id, "r5");
    assert_eq!(read_back, values);
}

#[test]
fn a_report_from_the_vtn_is_read_in_any_payload_form_and_never_half_read() {
    let openleadrs = fixture("update_report");
    let read_values = |document: &str| match read(document) {
        VtnMessage::UpdateReport { values, .. } => values.into_iter().map(|v| (v.r_id, v.value)).collect::<Vec<_>>(),
        other => panic!("{}", other.name()),
    };
    // As OpenLEADR writes it: payloadFloat, "0.25" and the integer "3"; each interval's own dtstart.
    let VtnMessage::UpdateReport { request_id, values } = read(&openleadrs) else { panic!() };
    assert_eq!(request_id, "req-5");
    assert_eq!(values.iter().map(|v| (v.value.clone(), v.dtstart_ms)).collect::<Vec<_>>(), [(ReportPayload::Float(0.25), 1_795_341_600_000), (ReportPayload::Float(3.0), 1_795_342_200_000)]);

    let second = "<ei:payloadFloat><ei:value>3</ei:value></ei:payloadFloat>";
    for (form, expected) in [
        ("<ei:payloadFloat><ei:value>3.0E0</ei:value></ei:payloadFloat>", ReportPayload::Float(3.0)),
        ("<ei:payloadFloat><ei:value> -12 </ei:value></ei:payloadFloat>", ReportPayload::Float(-12.0)),
        ("<ei:payloadInt><ei:value>3</ei:value></ei:payloadInt>", ReportPayload::Float(3.0)),
        (
            "<oadr:oadrPayloadResourceStatus><oadr:oadrOnline>1</oadr:oadrOnline><oadr:oadrManualOverride>false</oadr:oadrManualOverride></oadr:oadrPayloadResourceStatus>",
            ReportPayload::ResourceStatus(ResourceStatus { online: true, manual_override: false, load_control_state: None }),
        ),
        (
            "<oadr:oadrPayloadResourceStatus><oadr:oadrOnline>false</oadr:oadrOnline><oadr:oadrManualOverride>true</oadr:oadrManualOverride><oadr:oadrLoadControlState><oadr:oadrCapacity><oadr:oadrMin>0</oadr:oadrMin><oadr:oadrMax>10</oadr:oadrMax><oadr:oadrCurrent>3</oadr:oadrCurrent><oadr:oadrNormal>5</oadr:oadrNormal></oadr:oadrCapacity><oadr:oadrSetPoint><oadr:oadrCurrent>21.5</oadr:oadrCurrent></oadr:oadrSetPoint></oadr:oadrLoadControlState></oadr:oadrPayloadResourceStatus>",
            loaded_status(),
        ),
    ] {
        let values = read_values(&openleadrs.replace(second, form));
        assert_eq!(values[1].1, expected, "{form}");
        assert_eq!(values[0].1, ReportPayload::Float(0.25));
    }

    // A reading in no form we can read (not finite, a status without its flags, nothing):
    // the whole message is refused naming the reading, rather than passed on without it.
    for broken in [
        "<ei:payloadFloat><ei:value>INF</ei:value></ei:payloadFloat>",
        "<ei:payloadFloat><ei:value>three</ei:value></ei:payloadFloat>",
        "<oadr:oadrPayloadResourceStatus><oadr:oadrOnline>true</oadr:oadrOnline></oadr:oadrPayloadResourceStatus>",
        "",
    ] {
        let element = run(Validator::new(None).open(&openleadrs.replace(second, broken), 0, &NativeCrypto)).unwrap();
        let err = msg::read_signed_object(&element).unwrap_err();
        assert_eq!(err.code, ErrorCode::BadResponse, "{broken}");
        assert!(err.message.contains("the report payload of site_powerReal is in no form OpenADR 2.0b allows"), "{}", err.message);
    }
}

#[test]
fn a_report_from_the_vtn_is_answered_and_its_readings_reach_the_user() {
    let clock = VirtualClock::at_secs(1_795_000_000);
    let log: Log = Rc::default();
    let recorder = Recorder::default();
    let ven = Ven::new(config(None), fake_vtn(clock.clone(), log.clone(), vec![fixture("update_report")], None), clock.clone(), NativeCrypto, recorder.clone()).unwrap();
    run(ven.register()).unwrap();
    run(async { futures::join!(ven.run(), StopAt { clock: &clock, at_ms: 1_795_000_015_000, stop: || ven.stop() }) }).0.unwrap();
    let log = log.borrow();
    let answers = sent(&log, "oadrUpdatedReport");
    assert_eq!(answers.len(), 1);
    let (_, service, _, body) = answers[0];
    assert_eq!(service, "EiReport");
    let message = built(&signed_object_of(body), "oadrUpdatedReport");
    assert_eq!(names(&message), ["eiResponse", "venID"]);
    assert_eq!(message.text_at(&["eiResponse", "requestID"]).as_deref(), Some("req-5"));
    assert_eq!(message.text_at(&["eiResponse", "responseCode"]).as_deref(), Some("200"));

    let notices = recorder.notices.borrow();
    let received: Vec<&Notice> = notices.iter().filter(|n| matches!(n, Notice::ReportReceived { .. })).collect();
    let reading = |dtstart: &str, value: f64| ReceivedValue { r_id: "site_powerReal".into(), dtstart: dtstart.into(), value: ReportPayload::Float(value) };
    assert_eq!(
        received,
        [&Notice::ReportReceived { request_id: "req-5".into(), values: vec![reading("2026-11-22T10:00:00.000Z", 0.25), reading("2026-11-22T10:10:00.000Z", 3.0)] }]
    );
    // As JS sees it: a number stays a number.
    assert_eq!(
        serde_json::to_value(received[0]).unwrap()["values"][1],
        serde_json::json!({"rId": "site_powerReal", "dtstart": "2026-11-22T10:10:00.000Z", "value": 3.0})
    );
}

#[test]
fn a_status_report_is_described_as_one_and_takes_statuses_only() {
    let usage = config(None).reports[0].clone();
    let status_offer = ReportOffer { report_name: "TELEMETRY_STATUS".into(), measurement: String::new(), ..usage.clone() };
    status_offer.check().unwrap();
    assert_eq!(status_offer.r_id(), "meter1_status");
    let message = built(&msg::register_report("r2", "ven-1", &[usage.clone(), status_offer.clone()], 1_795_000_000_000), "oadrRegisterReport");
    let status_report = message.children_named("oadrReport").find(|r| r.text_at(&["reportName"]).as_deref() == Some("METADATA_TELEMETRY_STATUS")).unwrap();
    let description = status_report.child("oadrReportDescription").unwrap();
    assert_eq!(names(description), ["rID", "reportDataSource", "reportType", "readingType", "oadrSamplingRate"]);
    assert_eq!((description.text_at(&["reportType"]).as_deref(), description.text_at(&["readingType"]).as_deref()), (Some("x-resourceStatus"), Some("x-notApplicable")));

    // A measurement on a status report describes nothing: refused, saying so.
    let err = ReportOffer { measurement: "powerReal".into(), ..status_offer.clone() }.check().unwrap_err();
    assert!(err.message.contains("carries resource statuses: give it no measurement or unit"), "{}", err.message);
    // A usage report without a measurement says what it lacks.
    let err = ReportOffer { measurement: String::new(), ..usage.clone() }.check().unwrap_err();
    assert!(err.message.starts_with("a TELEMETRY_USAGE report needs a measurement: one of voltage, current,"), "{}", err.message);
    // Each report takes the form its description declares.
    status_offer.check_payload(&loaded_status()).unwrap();
    usage.check_payload(&ReportPayload::Float(7.0)).unwrap();
    let err = status_offer.check_payload(&ReportPayload::Float(1.0)).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    assert!(err.message.contains("meter1_status (TELEMETRY_STATUS) must return a resource status {online, manualOverride, loadControlState?}, not a number"), "{}", err.message);
    let err = usage.check_payload(&status(true, None)).unwrap_err();
    assert!(err.message.contains("meter1_powerReal must return a number (a powerReal reading), not a resource status"), "{}", err.message);
    assert!(usage.check_payload(&ReportPayload::Float(f64::NAN)).unwrap_err().message.contains("finite number"));
    let not_finite = LoadControlValue { current: f64::INFINITY, min: None, max: None, normal: None };
    let err = status_offer.check_payload(&status(true, Some(LoadControlState { level_offset: Some(not_finite), ..Default::default() }))).unwrap_err();
    assert!(err.message.contains("finite numbers only"), "{}", err.message);
}

// ------------------------------------------------------------ report failures

/// A handler whose report callback fails for one rID and reads 230 for the others.
#[derive(Clone, Default)]
struct FailingReading {
    failing: &'static str,
    notices: Rc<RefCell<Vec<Notice>>>,
}

impl VenHandler for FailingReading {
    async fn on_event(&self, _event: &Event) -> Result<Opt> {
        Ok(Opt::In)
    }
    async fn report_value(&self, r_id: &str) -> Result<ReportPayload> {
        if r_id == self.failing {
            return Err(wattbridge::core::Error::invalid_input("the meter is offline"));
        }
        Ok(ReportPayload::Float(230.0))
    }
    fn notice(&self, notice: Notice) {
        self.notices.borrow_mut().push(notice);
    }
}

/// OpenLEADR's oadrRegisteredReport asking for rr-1 (meter1_powerReal) and
/// rr-2 (meter1_voltage), both sampled every 10 s and sent every 30 s.
fn registered_power_and_voltage() -> String {
    let registered = fixture("registered_report");
    let start = registered.find("<oadr:oadrReportRequest>").unwrap();
    let end = registered.find("</oadr:oadrReportRequest>").unwrap() + "</oadr:oadrReportRequest>".len();
    let request = &registered[start..end];
    let voltage = request.replace("rr-1", "rr-2").replace("meter1_powerReal", "meter1_voltage");
    registered.replacen(request, &format!("{request}{voltage}"), 1)
}

#[test]
fn a_report_that_fails_is_reported_on_its_own_and_the_others_due_with_it_are_still_sent() {
    let power = config(None).reports[0].clone();
    let voltage = ReportOffer { measurement: "voltage".into(), ..power.clone() };
    let config = VenConfig { reports: vec![power, voltage], ..config(None) };
    let clock = VirtualClock::at_secs(1_795_000_000);
    let start = clock.now();
    let log: Log = Rc::default();
    let http = fake_vtn_answering(clock.clone(), log.clone(), Vec::new(), None, |name| (name == "oadrRegisterReport").then(registered_power_and_voltage));
    let handler = FailingReading { failing: "meter1_powerReal", ..Default::default() };
    let ven = Ven::new(config, http, clock.clone(), NativeCrypto, handler.clone()).unwrap();
    run(ven.register()).unwrap();
    run(async { futures::join!(ven.run(), StopAt { clock: &clock, at_ms: start + 65_000, stop: || ven.stop() }) }).0.unwrap();

    // Both reports fall due together at 30 s and 60 s: the voltage goes out each time.
    let log = log.borrow();
    let updates = sent(&log, "oadrUpdateReport");
    assert_eq!(updates.len(), 2, "{:?}", updates.iter().map(|(t, ..)| t - start).collect::<Vec<_>>());
    assert!(updates.iter().all(|(_, _, _, body)| body.contains("<ei:reportRequestID>rr-2</ei:reportRequestID>") && body.contains("<ei:rID>meter1_voltage</ei:rID>")));
    assert!(!updates.iter().any(|(_, _, _, body)| body.contains("meter1_powerReal")), "nothing half-sent for the failing report");
    // The power report's failure is reported at each reading (every 10 s), naming it and why.
    let notices = handler.notices.borrow();
    let errors: Vec<(&str, &str)> = notices.iter().filter_map(|n| match n { Notice::Error { code, message } => Some((code.as_str(), message.as_str())), _ => None }).collect();
    assert_eq!(errors.len(), 6, "{errors:?}");
    for (code, message) in errors {
        assert_eq!((code, message), ("invalid_input", "report rr-1 could not be read: the meter is offline"));
    }
    let sent_reports: Vec<&str> = notices.iter().filter_map(|n| match n { Notice::ReportSent { report_request_id, .. } => Some(report_request_id.as_str()), _ => None }).collect();
    assert_eq!(sent_reports, ["rr-2", "rr-2"]);
}

// ------------------------------------------------------------ OpenADR-level errors

/// An OpenADR error as a VTN sends it: HTTP 200, the code in `eiResponse`.
fn with_code(document: &str, code: u16, description: &str) -> String {
    document
        .replacen("<ei:responseCode>200</ei:responseCode>", &format!("<ei:responseCode>{code}</ei:responseCode>"), 1)
        .replacen("<ei:responseDescription>OK</ei:responseDescription>", &format!("<ei:responseDescription>{description}</ei:responseDescription>"), 1)
}

#[test]
fn an_openadr_error_code_in_an_answer_is_an_error_naming_it_never_taken_as_ok() {
    // The registration refused with an oadrResponse (as OpenLEADR's VTN sends its errors).
    let clock = VirtualClock::at_secs(1_795_000_000);
    let refusing = fake_vtn_answering(clock.clone(), Log::default(), Vec::new(), None, |name| {
        (name == "oadrCreatePartyRegistration").then(|| with_code(&fixture("response"), 452, "The supplied venID is invalid"))
    });
    let ven = Ven::new(config(None), refusing, clock.clone(), NativeCrypto, Recorder::default()).unwrap();
    let err = run(ven.register()).unwrap_err();
    assert_eq!(err.code, ErrorCode::Rejected);
    assert_eq!(err.message, "the VTN answered oadrCreatePartyRegistration with code 452 (invalid ID): The supplied venID is invalid");

    // In the loop: a poll answered with 463, then an event list that carries
    // an error code and no events. Neither is taken as "nothing new" or as
    // "no events any more": ev-1 is not cancelled by the failed list.
    let polls = vec![
        fixture("distribute_event"),
        with_code(&fixture("response"), 463, "Not registered"),
        with_code(&fixture("distribute_event"), 469, "Try again later").replace("<oadr:oadrEvent>", "<oadr:oadrEventX>").replace("</oadr:oadrEvent>", "</oadr:oadrEventX>"),
    ];
    let clock = VirtualClock::at_secs(1_795_000_000);
    let recorder = Recorder::default();
    let ven = Ven::new(config(None), fake_vtn(clock.clone(), Log::default(), polls, None), clock.clone(), NativeCrypto, recorder.clone()).unwrap();
    run(ven.register()).unwrap();
    let start = clock.now();
    run(async { futures::join!(ven.run(), StopAt { clock: &clock, at_ms: start + 35_000, stop: || ven.stop() }) }).0.unwrap();
    let notices = recorder.notices.borrow();
    let errors: Vec<(&str, &str)> = notices.iter().filter_map(|n| match n { Notice::Error { code, message } => Some((code.as_str(), message.as_str())), _ => None }).collect();
    assert_eq!(
        errors,
        [
            ("rejected", "the VTN answered oadrPoll with code 463 (not registered or authorized): Not registered"),
            ("rejected", "the VTN answered oadrPoll with code 469 (deployment error or other error): Try again later"),
        ]
    );
    assert!(!notices.iter().any(|n| matches!(n, Notice::Cancelled { event_id, .. } if event_id == "ev-1")), "{notices:?}");
    assert_eq!(ven.next_events().iter().map(|e| e.event_id.as_str()).collect::<Vec<_>>(), ["ev-1"]);
}

// ------------------------------------------------------------ ids echoed

#[test]
fn created_report_echoes_the_request_it_answers_and_lists_every_pending_report() {
    // rr-1 comes with the registration (eiResponse requestID req-1); then the
    // VTN asks for rr-2 with oadrCreateReport req-2.
    let create = fixture("create_report").replace("rr-1", "rr-2");
    let (log, ..) = run_for(config(None), 1_795_000_000, vec![create], 15);
    let created: Vec<(String, Vec<String>)> = sent(&log, "oadrCreatedReport")
        .iter()
        .map(|(_, _, _, body)| {
            let message = built(&signed_object_of(body), "oadrCreatedReport");
            (message.text_at(&["eiResponse", "requestID"]).unwrap(), message.child("oadrPendingReports").unwrap().children_named("reportRequestID").map(Element::text).collect())
        })
        .collect();
    assert_eq!(created, [("req-1".to_owned(), vec!["rr-1".to_owned()]), ("req-2".to_owned(), vec!["rr-1".to_owned(), "rr-2".to_owned()])]);
}

#[test]
fn the_registration_says_whether_our_messages_are_signed() {
    let keys = keys(SignatureAlgorithm::EcdsaP256Sha256);
    let with_keys = VenConfig { cert: Some(keys.cert_pem.clone()), key: Some(Secret::new(keys.key_pem.clone())), ..config(None) };
    let flag = |config: VenConfig| {
        let (log, ..) = run_for(config, 1_795_000_000, Vec::new(), 1);
        let (_, _, _, body) = sent(&log, "oadrCreatePartyRegistration")[0];
        built(&signed_object_of(body), "oadrCreatePartyRegistration").text_at(&["oadrXmlSignature"]).unwrap()
    };
    assert_eq!(flag(config(None)), "false");
    assert_eq!(flag(with_keys.clone()), "true");
    assert_eq!(flag(VenConfig { disable_signature: true, ..with_keys }), "false", "disableSignature: we say we do not sign");
}

#[test]
fn a_report_answered_with_a_request_to_register_again_registers_again_and_says_what_was_lost() {
    // The VTN forgets us between polls: the first report update is answered
    // with oadrRequestReregistration (as OpenLEADR answers any message of a
    // VEN it does not know).
    let clock = VirtualClock::at_secs(1_795_000_000);
    let start = clock.now();
    let log: Log = Rc::default();
    let forgot = Rc::new(std::cell::Cell::new(false));
    let once = forgot.clone();
    let http = fake_vtn_answering(clock.clone(), log.clone(), Vec::new(), None, move |name| {
        (name == "oadrUpdateReport" && !once.replace(true)).then(|| fixture("request_reregistration"))
    });
    let recorder = Recorder::default();
    let ven = Ven::new(VenConfig { allow_jitter: false, ..config(None) }, http, clock.clone(), NativeCrypto, recorder.clone()).unwrap();
    run(ven.register()).unwrap();
    run(async { futures::join!(ven.run(), StopAt { clock: &clock, at_ms: start + 65_000, stop: || ven.stop() }) }).0.unwrap();
    let log = log.borrow();
    assert_eq!(sent(&log, "oadrCreatePartyRegistration").len(), 2, "registered again at once");
    let notices = recorder.notices.borrow();
    assert!(notices.contains(&Notice::Reregistering));
    let errors: Vec<&Notice> = notices.iter().filter(|n| matches!(n, Notice::Error { .. })).collect();
    assert_eq!(
        errors,
        [&Notice::Error { code: "rejected".into(), message: "report rr-1 was not sent (3 readings dropped): the VTN asked us to register again (done)".into() }]
    );
    // Reports go on under the new registration.
    assert!(sent(&log, "oadrUpdateReport").iter().any(|(t, ..)| *t > start + 30_000));
}

// ------------------------------------------------------------ the VTN ends things

#[test]
fn the_vtn_cancels_a_report_then_our_registration_and_each_is_answered() {
    // Polls at 10, 20 and 30 s: nothing; rr-1 cancelled (one reading taken,
    // at 10 s, not sent yet); our registration cancelled.
    let polls = vec![fixture("response"), fixture("cancel_report"), fixture("cancel_party_registration")];
    let start = 1_795_000_000_000;
    let clock = VirtualClock::at_secs(1_795_000_000);
    let log: Log = Rc::default();
    let recorder = Recorder::default();
    let ven = Ven::new(VenConfig { allow_jitter: false, ..config(None) }, fake_vtn(clock.clone(), log.clone(), polls, None), clock.clone(), NativeCrypto, recorder.clone()).unwrap();
    run(ven.register()).unwrap();
    // The loop ends by itself once the VTN has cancelled the registration
    // (else the guard stops it at 120 s, and the test fails).
    let ended = run(async { futures::future::select(Box::pin(ven.run()), StopAt { clock: &clock, at_ms: start + 120_000, stop: || ven.stop() }).await });
    assert!(matches!(ended, futures::future::Either::Left((Ok(()), _))), "the loop did not end by itself");
    run(ven.cancel_registration()).unwrap();

    let log = log.borrow();
    // The reading taken before the cancellation is sent a last time, then none.
    let updates = sent(&log, "oadrUpdateReport");
    assert_eq!(updates.iter().map(|(t, ..)| t - start).collect::<Vec<_>>(), [20_000]);
    let update = built(&signed_object_of(&updates[0].3), "oadrUpdateReport");
    assert_eq!(update.path(&["oadrReport", "intervals"]).unwrap().children_named("interval").count(), 1);

    let canceled = sent(&log, "oadrCanceledReport");
    assert_eq!(canceled.len(), 1);
    assert_eq!(canceled[0].1, "EiReport");
    let message = built(&signed_object_of(&canceled[0].3), "oadrCanceledReport");
    assert_eq!(names(&message), ["eiResponse", "oadrPendingReports", "venID"]);
    assert_eq!(message.text_at(&["eiResponse", "requestID"]).as_deref(), Some("req-6"));
    assert_eq!(message.child("oadrPendingReports").unwrap().elements().count(), 0, "no report goes on");

    let canceled = sent(&log, "oadrCanceledPartyRegistration");
    assert_eq!(canceled.len(), 1);
    assert_eq!(canceled[0].1, "EiRegisterParty");
    let message = built(&signed_object_of(&canceled[0].3), "oadrCanceledPartyRegistration");
    assert_eq!(names(&message), ["eiResponse", "registrationID", "venID"]);
    assert_eq!([message.text_at(&["eiResponse", "requestID"]), message.text_at(&["registrationID"])], [Some("req-7".into()), Some("reg-1".into())]);
    // Unregistered: no poll after it, and nothing to cancel on stop.
    assert_eq!(sent(&log, "oadrPoll").len(), 3);
    assert_eq!(log.last().unwrap().2, "oadrCanceledPartyRegistration");

    let notices = recorder.notices.borrow();
    assert!(notices.contains(&Notice::ReportCancelled { report_request_id: "rr-1".into() }), "{notices:?}");
    assert_eq!(notices.iter().filter(|n| **n == Notice::RegistrationCancelled).count(), 1);
    assert!(!notices.iter().any(|n| matches!(n, Notice::Error { .. })), "{notices:?}");
}
