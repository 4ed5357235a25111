//! Pure request builders and response readers for Enedis metering data, as
//! served by the device-flow gateway, the Conso API and Data Connect itself.
//! See ../shared/contracts/linky.md.

use super::model::{Hole, IntervalReading, Point, ReadingAnswer, Series};
use crate::core::time::{paris_instants, parse_local_datetime, Date};
use super::PROVIDER;
use crate::core::{Error, ErrorCode, HttpRequest, HttpResponse, Method, Result, Secret};
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use serde::Deserialize;

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// Who relays our data calls (contract §1).
#[derive(Clone, Debug, PartialEq)]
pub enum Relay {
    /// The device-flow gateway: `<gateway>/data/proxy/<v5 path>`.
    Gateway(String),
    /// bokub's Conso API: `<api>/<name>?prm=`, answers without the envelope.
    Conso(String),
    /// A company's own Enedis app: `<api>/<v5 path>`.
    Enedis(String),
}

/// The metering request for `[start, end)` (Paris dates).
pub fn data_request(relay: &Relay, series: Series, meter: &str, start: Date, end: Date, token: &Secret) -> HttpRequest {
    let url = match relay {
        Relay::Gateway(base) => {
            format!("{}/data/proxy/{}?start={start}&end={end}&usage_point_id={meter}", trim(base), series.enedis_path())
        }
        Relay::Enedis(base) => {
            format!("{}/{}?start={start}&end={end}&usage_point_id={meter}", trim(base), series.enedis_path())
        }
        Relay::Conso(base) => format!("{}/{}?prm={meter}&start={start}&end={end}", trim(base), series.conso_name()),
    };
    HttpRequest::new(Method::Get, url)
        .header("accept", "application/json")
        .secret_header("authorization", Secret::new(format!("Bearer {}", token.expose())))
}

fn trim(base: &str) -> &str {
    base.trim_end_matches('/')
}

/// What one answer holds: the points and the gaps between them.
#[derive(Debug, Default, PartialEq)]
pub struct Answer {
    pub points: Vec<Point>,
    pub holes: Vec<Hole>,
}

/// Read a successful metering answer into UTC intervals.
pub fn parse_answer(series: Series, response: &HttpResponse) -> Result<Answer> {
    let answer: ReadingAnswer = response.json(PROVIDER, "Enedis metering answer")?;
    // Data Connect wraps the reading in `meter_reading`; the Conso API does not.
    let readings = match answer.meter_reading {
        Some(wrapped) => wrapped.interval_reading,
        None => answer.interval_reading,
    };
    let bad = |message: String| {
        Error::new(ErrorCode::BadResponse, format!("Enedis metering answer: {message}"))
            .provider(PROVIDER)
            .status(response.status)
    };
    match series {
        Series::ConsumptionLoadCurve | Series::ProductionLoadCurve => load_curve(&readings).map_err(|e| bad(e.message)),
        _ => daily(series, &readings).map_err(|e| bad(e.message)),
    }
}

fn value_of(reading: &IntervalReading) -> Result<Option<f64>> {
    let Some(text) = reading.value.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    match text.parse::<f64>().ok() {
        Some(value) if value.is_finite() => Ok(Some(value)),
        _ => Err(Error::invalid_input(format!("the value at {} is not a number", reading.date))),
    }
}

/// Daily series: one Paris day per item. Max power also carries the time of the peak.
fn daily(series: Series, readings: &[IntervalReading]) -> Result<Answer> {
    let mut answer = Answer::default();
    let mut previous: Option<Date> = None;
    for reading in readings {
        let date = Date::parse(reading.date.get(..10).unwrap_or(""))
            .ok_or_else(|| Error::invalid_input(format!("'{}' is not a date", reading.date)))?;
        if previous.is_some_and(|p| date <= p) {
            return Err(Error::invalid_input(format!("dates are out of order at {}", reading.date)));
        }
        let start = date.paris_midnight_ms();
        if let Some(p) = previous.filter(|p| p.add_days(1) < date) {
            answer.holes.push(Hole { start: p.add_days(1).paris_midnight_ms(), end: start });
        }
        previous = Some(date);
        let end = date.add_days(1).paris_midnight_ms();
        let Some(value) = value_of(reading)? else {
            answer.holes.push(Hole { start, end });
            continue;
        };
        let at = match series {
            Series::MaxPower if reading.date.len() > 10 => Some(local_instant(&reading.date, None)?),
            _ => None,
        };
        answer.points.push(Point { start, end, value, at });
    }
    Ok(answer)
}

/// Load curves: each stamp is the END of its interval, in Paris wall time.
/// A repeated autumn hour is resolved in order: the first time it appears is
/// summer time, the second winter time.
fn load_curve(readings: &[IntervalReading]) -> Result<Answer> {
    let mut answer = Answer { points: Vec::with_capacity(readings.len()), holes: Vec::new() };
    let mut previous_end: Option<i64> = None;
    let mut previous_step: Option<i64> = None;
    for reading in readings {
        let end = local_instant(&reading.date, previous_end)?;
        let step = match reading.interval_length.as_deref() {
            Some(text) => step_ms(text)
                .ok_or_else(|| Error::invalid_input(format!("interval_length '{text}' at {} is not a duration", reading.date)))?,
            // Without a length, the gap to the previous stamp, else Enedis' usual 30 minutes.
            None => previous_step.unwrap_or(30 * MINUTE_MS),
        };
        let start = end - step;
        if let Some(previous) = previous_end {
            if start < previous {
                return Err(Error::invalid_input(format!("intervals overlap or are out of order at {}", reading.date)));
            }
            if start > previous {
                answer.holes.push(Hole { start: previous, end: start });
            }
        }
        previous_end = Some(end);
        previous_step = Some(step);
        match value_of(reading)? {
            Some(value) => answer.points.push(Point { start, end, value, at: None }),
            None => answer.holes.push(Hole { start, end }),
        }
    }
    merge_holes(&mut answer.holes);
    Ok(answer)
}

/// `holes` come in time order: intervals may not overlap or go back.
fn merge_holes(holes: &mut Vec<Hole>) {
    let mut merged: Vec<Hole> = Vec::with_capacity(holes.len());
    for hole in holes.drain(..) {
        match merged.last_mut() {
            Some(last) if last.end >= hole.start => last.end = last.end.max(hole.end),
            _ => merged.push(hole),
        }
    }
    *holes = merged;
}

/// The UTC instant of a Paris wall time. In the repeated autumn hour, the
/// earliest instant after `after`; in the skipped spring hour (which Enedis
/// does not send, but 02:00 is the same instant as 03:00) winter time.
fn local_instant(text: &str, after: Option<i64>) -> Result<i64> {
    let (date, ms) = parse_local_datetime(text)?;
    Ok(match paris_instants(date, ms) {
        [None, None] => date.0 as i64 * DAY_MS + ms - HOUR_MS,
        [Some(first), Some(second)] => match after {
            Some(after) if first <= after => second,
            _ => first,
        },
        [Some(only), None] | [None, Some(only)] => only,
    })
}

/// `PT30M`, `PT1H`, `PT60M`, `PT5M`: the only durations Enedis uses.
fn step_ms(text: &str) -> Option<i64> {
    let mut rest = text.strip_prefix("PT")?;
    let mut total = 0i64;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let unit = match rest.as_bytes().get(digits)? {
            b'H' => HOUR_MS,
            b'M' => MINUTE_MS,
            b'S' => 1000,
            _ => return None,
        };
        // No digits before the unit is an error, as is a number too large.
        let n: i64 = rest[..digits].parse().ok()?;
        total = total.checked_add(n.checked_mul(unit)?)?;
        rest = &rest[digits + 1..];
    }
    (total > 0 && total <= DAY_MS).then_some(total)
}

/// Enedis' error body, or the gateway's throttling body.
#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
    #[serde(default)]
    fault: Option<Fault>,
}

#[derive(Deserialize)]
struct Fault {
    #[serde(default)]
    message: Option<String>,
}

/// Is this failure worth another try (quota, server trouble), or final?
pub fn is_retryable(status: u16) -> bool {
    status == 429 || status >= 500
}

/// Turn a failed answer into an error a person can act on (contract §3).
pub fn status_error(response: &HttpResponse, series: Series, meter: &str, start: Date, end: Date) -> Error {
    let body: ErrorBody = serde_json::from_str(&response.body).unwrap_or_default();
    let code = body.error.as_deref().unwrap_or("");
    let said = body
        .error_description
        .as_deref()
        .or(body.fault.as_ref().and_then(|f| f.message.as_deref()))
        .map(|d| format!(" (Enedis: {})", d.trim_end_matches('.')))
        .unwrap_or_default();
    let what = format!("{} of meter {meter} from {start} to {end}", series.name());
    let (error_code, message) = match (response.status, code) {
        (429, _) => (ErrorCode::RateLimited, format!("Enedis quota reached while fetching {what}{said}")),
        (401, _) => (ErrorCode::AuthRequired, format!("Enedis refuses the token{said}: run `wattbridge linky login`")),
        (403, "ADAM-DC-0007") => (
            ErrorCode::ConsentRequired,
            format!("meter {meter} is not covered by this consent{said}: check --meter, or consent for this meter with `wattbridge linky login`"),
        ),
        (403, _) => (
            ErrorCode::ConsentRequired,
            format!("no valid consent for meter {meter}{said}: consents last at most 3 years and can be revoked; give a new one with `wattbridge linky login`"),
        ),
        (404, _) => (
            ErrorCode::NoData,
            if series.is_load_curve() {
                format!("Enedis has no data for {what}{said}: turn on hourly collection (\"collecte de la courbe de charge\") in your Enedis customer account; data then appear from the next day")
            } else {
                format!("Enedis has no data for {what}{said}")
            },
        ),
        (400, "ADAM-ERR0069") => (
            ErrorCode::WrongDirection,
            format!("meter {meter} does not {} electricity{said}: use the {} series", if series.is_production() { "produce" } else { "consume" }, if series.is_production() { "consumption" } else { "production" }),
        ),
        (400, "ADAM-ERR0125" | "ADAM-DC-0016") => (
            ErrorCode::BeforeHistoryLimit,
            format!("{what} starts before the history Enedis keeps{said}: start later"),
        ),
        (400, "ADAM-ERR0123") => (
            ErrorCode::BeforeActivation,
            format!("{what} starts before the meter was activated{said}: start later"),
        ),
        (400, _) => (ErrorCode::InvalidInput, format!("Enedis refuses the request for {what}{said}")),
        (status, _) if status >= 500 => (ErrorCode::Unavailable, format!("Enedis is unavailable (HTTP {status}){said}; try again later")),
        (status, _) => (ErrorCode::UnexpectedStatus, format!("unexpected HTTP {status} from Enedis for {what}{said}")),
    };
    Error::new(error_code, message)
        .provider(PROVIDER)
        .status(response.status)
        .retry_after(response.retry_after())
}

/// The Conso API's IP ban (contract §1: after about 100 requests in 12 h),
/// when a 403 is one: any 403 that is not an Enedis error body, such as the
/// "Sorry, you have been blocked" page its people report. Waiting does not
/// lift it, hence the message; `rate_limited` because its cause is the rate.
pub fn conso_ban(response: &HttpResponse) -> Option<Error> {
    let body: ErrorBody = serde_json::from_str(&response.body).unwrap_or_default();
    if response.status != 403 || body.error.is_some() {
        return None;
    }
    Some(
        Error::new(
            ErrorCode::RateLimited,
            "the Conso API refuses this IP address (HTTP 403, not an Enedis answer): it bans IPs that send more than about 100 requests in 12 h. \
             Its maintainer lifts a ban on request (github.com/bokub/conso-api); waiting does not. wattbridge's budget (linky.conso_budget) keeps it under that limit",
        )
        .provider(PROVIDER)
        .status(403),
    )
}

/// A JWT's segments are base64url without padding (RFC 7515); padding is
/// tolerated, as some encoders add it.
const JWT_BASE64: GeneralPurpose =
    GeneralPurpose::new(&alphabet::URL_SAFE, GeneralPurposeConfig::new().with_encode_padding(false).with_decode_padding_mode(DecodePaddingMode::Indifferent));

/// The meters a Conso API token covers: its (unverified) JWT payload's `sub`.
pub fn conso_token_meters(token: &Secret) -> Result<Vec<String>> {
    let invalid = || {
        Error::invalid_config("the Conso API token is not a token from conso.boris.sh (expected a JWT listing your meters)")
            .provider(PROVIDER)
    };
    let payload = token.expose().split('.').nth(1).ok_or_else(invalid)?;
    let bytes = JWT_BASE64.decode(payload).map_err(|_| invalid())?;
    let claims = std::str::from_utf8(&bytes).ok().and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok()).ok_or_else(invalid)?;
    // `sub`: a list of meters or one string of them.
    let meters: Vec<String> = match claims.get("sub") {
        Some(serde_json::Value::String(text)) => text.split([',', ';']).map(|m| m.trim().to_owned()).collect(),
        Some(serde_json::Value::Array(items)) => items.iter().map(|m| m.as_str().map(str::to_owned)).collect::<Option<_>>().ok_or_else(invalid)?,
        _ => return Err(invalid()),
    };
    let meters: Vec<String> = meters.into_iter().filter(|m| is_meter_id(m)).collect();
    if meters.is_empty() {
        return Err(invalid());
    }
    Ok(meters)
}

/// A PRM (point de référence mesure): 14 digits.
pub fn is_meter_id(text: &str) -> bool {
    text.len() == 14 && text.bytes().all(|b| b.is_ascii_digit())
}

/// Meters of a consent, as the gateway (`A,B`) or the Enedis redirect (`A;B`) lists them.
pub fn split_meters(list: &str) -> Vec<String> {
    list.split([',', ';']).map(str::trim).filter(|m| is_meter_id(m)).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::time::format_paris;

    fn curve(items: &[(&str, &str, &str)]) -> HttpResponse {
        let readings: Vec<String> = items
            .iter()
            .map(|(value, date, length)| format!(r#"{{"value":"{value}","date":"{date}","interval_length":"{length}","measure_type":"B"}}"#))
            .collect();
        HttpResponse::new(200, format!(r#"{{"meter_reading":{{"usage_point_id":"1","interval_reading":[{}]}}}}"#, readings.join(",")))
    }

    #[test]
    fn steps_are_iso_durations() {
        assert_eq!(step_ms("PT30M"), Some(30 * MINUTE_MS));
        assert_eq!(step_ms("PT1H"), Some(HOUR_MS));
        assert_eq!(step_ms("PT5M"), Some(5 * MINUTE_MS));
        assert_eq!(step_ms("P1D"), None);
        assert_eq!(step_ms("PT"), None);
        assert_eq!(step_ms("PT30"), None);
        assert_eq!(step_ms("PTM"), None);
        assert_eq!(step_ms("PT1H30M"), Some(90 * MINUTE_MS));
        assert_eq!(step_ms("PT99999999999999999H"), None);
        assert_eq!(step_ms("PT9223372036854775807S"), None);
    }

    #[test]
    fn a_load_curve_stamp_is_the_end_of_its_interval() {
        let answer = parse_answer(Series::ConsumptionLoadCurve, &curve(&[("752", "2023-04-01 00:30:00", "PT30M"), ("346", "2023-04-01T01:00:00", "PT30M")])).unwrap();
        assert_eq!(format_paris(answer.points[0].start), "2023-04-01T00:00:00+02:00");
        assert_eq!(format_paris(answer.points[1].end), "2023-04-01T01:00:00+02:00");
        assert_eq!(answer.points[0].energy_wh(Series::ConsumptionLoadCurve), Some(376.0));
        assert!(answer.holes.is_empty());
    }

    #[test]
    fn wrapped_and_bare_answers_read_alike_and_bad_values_are_refused() {
        let wrapped = r#"{"meter_reading":{"interval_reading":[{"value":"12.5","date":"2023-04-01"}]}}"#;
        // The Conso API's shape, with an escaped date (read without borrowing).
        let bare = r#"{"usage_point_id":"1","interval_reading":[{"value":"12.5","date":"2023\u002d04-01"}]}"#;
        for body in [wrapped, bare] {
            let answer = parse_answer(Series::DailyConsumption, &HttpResponse::new(200, body)).unwrap();
            assert_eq!(answer.points.iter().map(|p| p.value).collect::<Vec<_>>(), [12.5], "{body}");
        }
        for value in ["inf", "NaN", "1,5", "0x10", "12 kWh"] {
            let body = format!(r#"{{"interval_reading":[{{"value":"{value}","date":"2023-04-01"}}]}}"#);
            let err = parse_answer(Series::DailyConsumption, &HttpResponse::new(200, body)).unwrap_err();
            assert_eq!((err.code, err.message.as_str()), (ErrorCode::BadResponse, "Enedis metering answer: the value at 2023-04-01 is not a number"));
        }
        let broken = r#"{"meter_reading":{"interval_reading":[{"value":"1"}]}}"#;
        let err = parse_answer(Series::DailyConsumption, &HttpResponse::new(200, broken)).unwrap_err();
        assert_eq!(err.message, "Enedis metering answer: unexpected content: missing field `date`");
    }

    #[test]
    fn steps_may_change_and_gaps_become_holes() {
        let answer = parse_answer(
            Series::ConsumptionLoadCurve,
            &curve(&[("600", "2024-06-01 11:00:00", "PT60M"), ("800", "2024-06-01 12:00:00", "PT60M"), ("400", "2024-06-01 12:15:00", "PT15M"), ("200", "2024-06-01 13:00:00", "PT15M"), ("", "2024-06-01 13:15:00", "PT15M")]),
        )
        .unwrap();
        assert_eq!(answer.points.len(), 4);
        assert_eq!(answer.points[2].energy_wh(Series::ConsumptionLoadCurve), Some(100.0));
        let holes: Vec<String> = answer.holes.iter().map(|h| format!("{}..{}", format_paris(h.start), format_paris(h.end))).collect();
        // 12:15–12:45 is missing; 13:00–13:15 came without a value.
        assert_eq!(holes, ["2024-06-01T12:15:00+02:00..2024-06-01T12:45:00+02:00", "2024-06-01T13:00:00+02:00..2024-06-01T13:15:00+02:00"]);
    }

    #[test]
    fn errors_of_the_contract_map_to_codes_a_person_can_act_on() {
        let d = Date::parse("2023-04-01").unwrap();
        let err = |status: u16, body: &str| status_error(&HttpResponse::new(status, body), Series::ConsumptionLoadCurve, "11111111111111", d, d.add_days(1));
        let enedis = |code: &str| format!(r#"{{"error":"{code}","error_description":"said so.","error_uri":"x"}}"#);
        let cases = [
            (400, "Invalid_request", ErrorCode::InvalidInput),
            (400, "ADAM-ERR0123", ErrorCode::BeforeActivation),
            (400, "ADAM-ERR0125", ErrorCode::BeforeHistoryLimit),
            (400, "ADAM-DC-0016", ErrorCode::BeforeHistoryLimit),
            (400, "ADAM-ERR0126", ErrorCode::InvalidInput),
            (400, "ADAM-DC-0015", ErrorCode::InvalidInput),
            (400, "ADAM-ERR0069", ErrorCode::WrongDirection),
            (403, "ADAM-DC-0007", ErrorCode::ConsentRequired),
            (403, "ADAM-DC-0008", ErrorCode::ConsentRequired),
            (404, "no_data_found", ErrorCode::NoData),
            (500, "ADAM-DC-0500", ErrorCode::Unavailable),
        ];
        for (status, code, expected) in cases {
            let e = err(status, &enedis(code));
            assert_eq!((e.code, e.status), (expected, Some(status)), "{code}");
            assert!(e.message.contains("Enedis: said so"), "{code}: {}", e.message);
        }
        assert!(err(404, &enedis("no_data_found")).message.contains("hourly collection"));
        assert!(err(403, &enedis("ADAM-DC-0008")).message.contains("linky login"));
        let quota = err(429, include_str!("../../tests/fixtures/linky/error_429_quota.json"));
        assert_eq!((quota.code, quota.retry_after), (ErrorCode::RateLimited, None));
        assert!(quota.message.contains("Message throttled out"), "{}", quota.message);
        let with_header = status_error(&HttpResponse::new(429, "").with_header("Retry-After", "7"), Series::DailyConsumption, "1", d, d);
        assert_eq!(with_header.retry_after, Some(7));
        assert_eq!(err(502, "<html>").code, ErrorCode::Unavailable);
    }

    #[test]
    fn conso_tokens_list_their_meters() {
        let token = |payload: &str| Secret::new(format!("eyJhbGciOiJIUzI1NiJ9.{}.c2ln", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload)));
        assert_eq!(conso_token_meters(&token(r#"{"sub":["11111111111111","22222222222222"],"exp":1}"#)).unwrap(), ["11111111111111", "22222222222222"]);
        assert_eq!(conso_token_meters(&token(r#"{"sub":"11111111111111"}"#)).unwrap(), ["11111111111111"]);
        // A padded payload (some encoders add `=`) reads the same; standard base64's `+/` does not.
        let padded = format!("h.{}.s", base64::engine::general_purpose::URL_SAFE.encode(r#"{"sub":"11111111111111" }"#));
        assert!(padded.contains('='), "{padded}");
        assert_eq!(conso_token_meters(&Secret::new(padded)).unwrap(), ["11111111111111"]);
        assert_eq!(conso_token_meters(&Secret::new("h.e30+/.s")).unwrap_err().code, ErrorCode::InvalidConfig);
        assert_eq!(conso_token_meters(&Secret::new("not-a-jwt")).unwrap_err().code, ErrorCode::InvalidConfig);
        assert_eq!(conso_token_meters(&token(r#"{"sub":[]}"#)).unwrap_err().code, ErrorCode::InvalidConfig);
        assert_eq!(split_meters("11111111111111;22222222222222"), ["11111111111111", "22222222222222"]);
    }
}
