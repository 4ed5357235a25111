//! Pure request builders and response readers for EnergyID Webhook V2.
//! See ../shared/contracts/energyid.md.

use super::model::{Claim, HelloAnswer, HelloBody, HelloOutcome, Reading, Webhook};
use super::PROVIDER;
use crate::core::http::check_service_url;
use crate::core::{Error, ErrorCode, HttpRequest, HttpResponse, Method, Result, Secret};

/// Metric keys EnergyID knows (contract §2). A key may also carry a dot suffix
/// (`el.t1`, `temperature.living`) to tell several series of one kind apart.
pub const STANDARD_KEYS: &[&str] = &[
    "el", "el-i", "pwr", "pwr-i", "gas", "pv", "wind", "chp", "sol", "heat", "ev", "bat", "bat-i",
    "bat-soc", "dw", "temperature",
];

/// The earliest timestamp we accept: 2000-01-01T00:00:00Z. Anything before is
/// almost certainly milliseconds read as seconds the wrong way round, or zero.
const EARLIEST_TS: i64 = 946_684_800;
/// 9999-12-31T23:59:59Z, the latest time we take from EnergyID.
const LATEST_TS: i64 = 253_402_300_799;
/// Readings may be at most one day ahead of the local clock (clock drift, time zones).
const MAX_FUTURE_SECS: i64 = 86_400;

pub struct ProvisioningCredentials {
    pub key: Secret,
    pub secret: Secret,
}

pub fn hello_request(url: &str, credentials: &ProvisioningCredentials, body: &HelloBody) -> HttpRequest {
    HttpRequest::new(Method::Post, url)
        .secret_header("x-provisioning-key", credentials.key.clone())
        .secret_header("x-provisioning-secret", credentials.secret.clone())
        // A struct of strings always serialises; `unreachable!` rather than
        // `expect` keeps serde_json's Debug impl out of the wasm.
        .json_body(serde_json::to_string(body).unwrap_or_else(|_| unreachable!()))
}

pub fn parse_hello(response: &HttpResponse) -> Result<HelloOutcome> {
    if !response.is_success() {
        return Err(status_error(response, "hello"));
    }
    let answer: HelloAnswer = response.json(PROVIDER, "EnergyID hello answer")?;
    if let Some(url) = answer.webhook_url {
        // The webhook headers are credentials: never send them over plain http
        // to a non-loopback host, whatever the server says.
        check_service_url("webhookUrl", &url).map_err(|err| {
            Error::new(ErrorCode::BadResponse, format!("EnergyID hello answer: {}", err.message))
                .provider(PROVIDER)
                .status(response.status)
        })?;
        let missing = |field: &str| {
            Error::new(
                ErrorCode::BadResponse,
                format!("EnergyID hello answer: claimed device but `{field}` is missing"),
            )
            .provider(PROVIDER)
            .status(response.status)
        };
        return Ok(HelloOutcome::Claimed(Webhook {
            url,
            headers: answer.headers.ok_or_else(|| missing("headers"))?,
            policy: answer.webhook_policy.unwrap_or_default(),
            record_name: answer.record_name,
            record_number: answer.record_number,
            api_access_token: answer.api_access_token,
        }));
    }
    match (answer.claim_code, answer.claim_url, answer.exp) {
        // Unix seconds up to 9999-12-31: the CLI and the page show it as a date
        // (found by the fuzzer: 7.2e13 s made the CLI die printing it).
        (Some(_), Some(_), Some(exp)) if !(0..=LATEST_TS).contains(&exp) => Err(Error::new(
            ErrorCode::BadResponse,
            format!("EnergyID hello answer: the claim expires at {exp}, which is not a time in unix seconds"),
        )
        .provider(PROVIDER)
        .status(response.status)),
        (Some(claim_code), Some(claim_url), Some(expires_at)) => {
            Ok(HelloOutcome::Unclaimed(Claim { claim_code, claim_url, expires_at }))
        }
        _ => Err(Error::new(
            ErrorCode::BadResponse,
            "EnergyID hello answer has neither `webhookUrl` nor a complete claim \
             (`claimCode`, `claimUrl`, `exp`)",
        )
        .provider(PROVIDER)
        .status(response.status)),
    }
}

/// Check readings before they leave: a reading the server would refuse is
/// better refused here, with the key and timestamp named.
pub fn validate_readings(readings: &[Reading], now_secs: i64, allowed_keys: &[String]) -> Result<()> {
    if readings.is_empty() {
        return Err(Error::invalid_input("nothing to send: no readings given").provider(PROVIDER));
    }
    for reading in readings {
        if reading.ts < EARLIEST_TS || reading.ts > now_secs + MAX_FUTURE_SECS {
            return Err(Error::invalid_input(format!(
                "reading timestamp {} is not a plausible time in unix seconds \
                 (expected between 2000-01-01 and tomorrow)",
                reading.ts
            ))
            .provider(PROVIDER));
        }
        if reading.values.is_empty() {
            return Err(Error::invalid_input(format!("reading at ts {} has no values", reading.ts))
                .provider(PROVIDER));
        }
        for (key, value) in &reading.values {
            if !is_valid_key(key) && !allowed_keys.contains(key) {
                return Err(Error::invalid_input(format!(
                    "unknown metric key '{key}' at ts {}: use one of {} (optionally with a \
                     dot suffix such as el.t1), or allow it as a custom key",
                    reading.ts,
                    STANDARD_KEYS.join(", ")
                ))
                .provider(PROVIDER));
            }
            if !value.is_finite() {
                return Err(Error::invalid_input(format!(
                    "value of '{key}' at ts {} is not a finite number",
                    reading.ts
                ))
                .provider(PROVIDER));
            }
        }
    }
    Ok(())
}

pub fn is_valid_key(key: &str) -> bool {
    let (base, suffix) = match key.split_once('.') {
        Some((base, suffix)) => (base, Some(suffix)),
        None => (key, None),
    };
    let suffix_ok = suffix.map_or(true, |s| {
        !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    });
    STANDARD_KEYS.contains(&base) && suffix_ok
}

/// One POST for the readings: a single object, or an array when there are several.
pub fn send_request(webhook: &Webhook, readings: &[Reading]) -> HttpRequest {
    let body = match readings {
        [one] => serde_json::to_string(one),
        many => serde_json::to_string(many),
    }
    // Readings hold only numbers and string keys: serialising cannot fail.
    .unwrap_or_else(|_| unreachable!());
    webhook
        .headers
        .iter()
        .fold(HttpRequest::new(Method::Post, &webhook.url), |request, (name, value)| {
            request.secret_header(name, value.clone())
        })
        .json_body(body)
}

/// Map a non-success status to an error a person can act on.
pub fn status_error(response: &HttpResponse, endpoint: &str) -> Error {
    let status = response.status;
    let (code, message) = match (endpoint, status) {
        ("hello", 401 | 403) => (
            ErrorCode::InvalidCredentials,
            "EnergyID refused the provisioning key/secret; check \
             WATTBRIDGE_ENERGYID_PROVISIONING_KEY and WATTBRIDGE_ENERGYID_PROVISIONING_SECRET"
                .to_owned(),
        ),
        (_, 403) => (
            ErrorCode::WebhookDisabled,
            "EnergyID refused the data: the webhook is disabled for this record; \
             enable it again in the EnergyID app"
                .to_owned(),
        ),
        (_, 429) => (
            ErrorCode::RateLimited,
            "EnergyID asks us to slow down (too many requests)".to_owned(),
        ),
        (_, 400) => (
            ErrorCode::Rejected,
            format!("EnergyID refused the {endpoint} request: {}", server_reason(response)),
        ),
        (_, 500..=599) => (
            ErrorCode::Unavailable,
            format!("EnergyID is unavailable (HTTP {status}); try again later"),
        ),
        _ => (
            ErrorCode::UnexpectedStatus,
            format!("EnergyID answered the {endpoint} request with HTTP {status}"),
        ),
    };
    Error::new(code, message).provider(PROVIDER).status(status).retry_after(response.retry_after())
}

/// The server's own words for a 400, shortened; the body of a 400 holds only
/// what we sent (readings) and the server's complaint, never our headers.
fn server_reason(response: &HttpResponse) -> String {
    #[derive(serde::Deserialize)]
    struct Problem {
        #[serde(default)]
        error: Option<String>,
        #[serde(default)]
        message: Option<String>,
    }
    let reason = serde_json::from_str::<Problem>(&response.body)
        .ok()
        .and_then(|p| p.error.or(p.message))
        .unwrap_or_else(|| response.body.trim().to_owned());
    if reason.is_empty() {
        return "no reason given".to_owned();
    }
    reason.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_731_974_400;

    fn reading(ts: i64, values: &[(&str, f64)]) -> Reading {
        Reading { ts, values: values.iter().map(|(k, v)| (k.to_string(), *v)).collect() }
    }

    #[test]
    fn hello_request_carries_credentials_as_secret_headers_and_camel_case_body() {
        let creds = ProvisioningCredentials { key: Secret::new("pk"), secret: Secret::new("ps") };
        let body = HelloBody { device_id: "wb-1", device_name: "Home", firmware_version: None };
        let request = hello_request("https://hooks.energyid.eu/hello", &creds, &body);
        assert_eq!(request.method, Method::Post);
        assert_eq!(request.body.as_deref(), Some(r#"{"deviceId":"wb-1","deviceName":"Home"}"#));
        let header = |name: &str| {
            request.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.expose().to_owned())
        };
        assert_eq!(header("x-provisioning-key").as_deref(), Some("pk"));
        assert_eq!(header("x-provisioning-secret").as_deref(), Some("ps"));
        assert_eq!(header("content-type").as_deref(), Some("application/json"));
        assert!(!format!("{request:?}").contains("\"ps\""));
    }

    #[test]
    fn unclaimed_answer_from_the_contract() {
        let body = r#"{"claimCode":"4H7A70","claimUrl":"https://app.energyid.eu/integrations/webhook-in/new?code=4H7A70","exp":1691402519}"#;
        let outcome = parse_hello(&HttpResponse::new(200, body)).unwrap();
        assert_eq!(
            outcome,
            HelloOutcome::Unclaimed(Claim {
                claim_code: "4H7A70".into(),
                claim_url: "https://app.energyid.eu/integrations/webhook-in/new?code=4H7A70".into(),
                expires_at: 1_691_402_519,
            })
        );
    }

    #[test]
    fn claimed_answer_from_the_contract_keeps_unknown_policy_fields() {
        let body = r#"{"webhookUrl":"https://hooks.energyid.eu/webhook-in",
            "headers":{"authorization":"Bearer opaque","x-twin-id":"7f1c"},
            "webhookPolicy":{"uploadInterval":60,"allowedInterval":"PT15M"},
            "recordName":"My home","recordNumber":"EA-12345678","futureField":true}"#;
        let HelloOutcome::Claimed(webhook) = parse_hello(&HttpResponse::new(200, body)).unwrap() else {
            panic!("expected a claimed answer");
        };
        assert_eq!(webhook.url, "https://hooks.energyid.eu/webhook-in");
        assert_eq!(webhook.headers.get("authorization").unwrap().expose(), "Bearer opaque");
        assert_eq!(webhook.policy.upload_interval, Some(60.0));
        assert_eq!(webhook.policy.other["allowedInterval"], "PT15M");
        assert_eq!(webhook.record_number.as_deref(), Some("EA-12345678"));
        assert!(!format!("{webhook:?}").contains("opaque"));
    }

    #[test]
    fn claimed_answer_without_headers_is_a_bad_response() {
        let err = parse_hello(&HttpResponse::new(200, r#"{"webhookUrl":"https://x/y"}"#)).unwrap_err();
        assert_eq!(err.code, ErrorCode::BadResponse);
        assert!(err.message.contains("`headers`"), "{}", err.message);
    }

    #[test]
    fn a_webhook_over_plain_http_to_a_remote_host_is_refused() {
        let body = r#"{"webhookUrl":"http://hooks.energyid.eu/webhook-in","headers":{"authorization":"x"}}"#;
        let err = parse_hello(&HttpResponse::new(200, body)).unwrap_err();
        assert_eq!(err.code, ErrorCode::BadResponse);
        assert!(err.message.contains("http://"), "{}", err.message);
    }

    #[test]
    fn an_answer_with_neither_outcome_is_a_bad_response() {
        let err = parse_hello(&HttpResponse::new(200, r#"{"claimCode":"X"}"#)).unwrap_err();
        assert_eq!(err.code, ErrorCode::BadResponse);
        assert!(err.message.contains("neither"), "{}", err.message);
    }

    #[test]
    fn a_claim_expiring_beyond_year_9999_is_refused() {
        let body = |exp: &str| format!(r#"{{"claimCode":"4H7A70","claimUrl":"https://app.energyid.eu/x","exp":{exp}}}"#);
        let err = parse_hello(&HttpResponse::new(200, body("72036854775807"))).unwrap_err();
        assert_eq!(err.code, ErrorCode::BadResponse);
        assert!(err.message.contains("not a time"), "{}", err.message);
        assert!(parse_hello(&HttpResponse::new(200, body("-1"))).is_err());
        assert!(parse_hello(&HttpResponse::new(200, body("253402300799"))).is_ok());
    }

    #[test]
    fn hello_statuses_map_to_codes() {
        let code = |status| parse_hello(&HttpResponse::new(status, "")).unwrap_err().code;
        assert_eq!(code(401), ErrorCode::InvalidCredentials);
        assert_eq!(code(403), ErrorCode::InvalidCredentials);
        assert_eq!(code(429), ErrorCode::RateLimited);
        assert_eq!(code(503), ErrorCode::Unavailable);
        assert_eq!(code(418), ErrorCode::UnexpectedStatus);
    }

    #[test]
    fn webhook_refusals_map_to_codes() {
        let err = |status| status_error(&HttpResponse::new(status, r#"{"error":"missing ts"}"#), "webhook");
        assert_eq!(err(403).code, ErrorCode::WebhookDisabled);
        let rejected = err(400);
        assert_eq!(rejected.code, ErrorCode::Rejected);
        assert!(rejected.message.contains("missing ts"), "{}", rejected.message);
        let limited = status_error(&HttpResponse::new(429, "").with_header("Retry-After", "42"), "webhook");
        assert_eq!((limited.code, limited.retry_after), (ErrorCode::RateLimited, Some(42)));
        assert_eq!(err(503).code, ErrorCode::Unavailable);
    }

    #[test]
    fn send_body_is_an_object_for_one_reading_and_an_array_for_several() {
        let webhook = Webhook {
            url: "https://hooks.energyid.eu/webhook-in".into(),
            headers: crate::energyid::model::Headers([("authorization".into(), Secret::new("Bearer t"))].into()),
            policy: Default::default(),
            record_name: None,
            record_number: None,
            api_access_token: None,
        };
        let one = send_request(&webhook, &[reading(NOW, &[("el", 1250.5), ("pv", 3560.2)])]);
        assert_eq!(one.body.as_deref(), Some(r#"{"ts":1731974400,"el":1250.5,"pv":3560.2}"#));
        let two = send_request(&webhook, &[reading(NOW, &[("el", 1.0)]), reading(NOW + 1800, &[("el", 1.5)])]);
        assert_eq!(two.body.as_deref(), Some(r#"[{"ts":1731974400,"el":1.0},{"ts":1731976200,"el":1.5}]"#));
        assert!(one.headers.iter().any(|(n, v)| n == "authorization" && v.expose() == "Bearer t"));
    }

    #[test]
    fn readings_read_like_a_flattened_struct() {
        let parse = |text: &str| serde_json::from_str::<Vec<Reading>>(text).map_err(|e| crate::core::error::json_reason(&e));
        let readings = parse(r#"[{"el":1250.5,"ts":1731974400,"pv":3}]"#).unwrap();
        assert_eq!(readings, vec![reading(NOW, &[("el", 1250.5), ("pv", 3.0)])]);
        assert_eq!(parse(r#"[{"el":1}]"#).unwrap_err(), "missing field `ts`");
        assert_eq!(parse(r#"[{"ts":1.5,"el":1}]"#).unwrap_err(), "invalid type: floating point `1.5`, expected i64");
        assert_eq!(parse(r#"[{"ts":1,"el":"1"}]"#).unwrap_err(), "invalid type: string \"1\", expected f64");
        assert!(parse(r#"[[1]]"#).unwrap_err().starts_with("invalid type: sequence"));
    }

    #[test]
    fn a_null_value_from_js_is_reported_as_not_finite() {
        let readings: Vec<Reading> = serde_json::from_str(r#"[{"ts":1731974400,"el":null}]"#).unwrap();
        let err = validate_readings(&readings, NOW, &[]).unwrap_err();
        assert!(err.message.contains("'el'") && err.message.contains("finite"), "{}", err.message);
    }

    #[test]
    fn readings_are_validated_with_the_culprit_named() {
        assert!(validate_readings(&[reading(NOW, &[("el", 1.0), ("el.t1", 2.0), ("temperature.living", 20.5)])], NOW, &[]).is_ok());
        let err = validate_readings(&[reading(NOW, &[("elec", 1.0)])], NOW, &[]).unwrap_err();
        assert!(err.message.contains("'elec'"), "{}", err.message);
        let err = validate_readings(&[reading(NOW, &[("el", f64::NAN)])], NOW, &[]).unwrap_err();
        assert!(err.message.contains("'el'") && err.message.contains("finite"), "{}", err.message);
        let err = validate_readings(&[reading(NOW * 1000, &[("el", 1.0)])], NOW, &[]).unwrap_err();
        assert!(err.message.contains("unix seconds"), "{}", err.message);
        assert_eq!(validate_readings(&[], NOW, &[]).unwrap_err().code, ErrorCode::InvalidInput);
        assert!(!is_valid_key("el."));
        assert!(!is_valid_key("el.t 1"));
    }
}
