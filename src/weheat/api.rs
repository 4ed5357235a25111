//! Pure request builders and answer readers for the Weheat API
//! (../shared/contracts/weheat.md §2–3).

use super::derive::{format_utc, parse_utc};
use super::model::{Interval, Log, PagedPumps, Pump};
use super::PROVIDER;
use crate::core::{Error, ErrorCode, HttpRequest, HttpResponse, Method, Result, Secret};

/// A GET to `{base}/api/v1/{path}` with the bearer token.
pub fn get(base: &str, path: &str, token: &Secret) -> HttpRequest {
    HttpRequest::new(Method::Get, format!("{}/api/v1/{path}", base.trim_end_matches('/')))
        .header("accept", "application/json")
        .secret_header("authorization", Secret::new(format!("Bearer {}", token.expose())))
}

fn id_path(id: &str) -> String {
    crate::core::form::component(id)
}

pub fn pumps_path(page: i64) -> String {
    format!("heat-pumps?page={page}&pageSize=100")
}

pub fn pump_path(id: &str) -> String {
    format!("heat-pumps/{}", id_path(id))
}

pub fn latest_path(id: &str) -> String {
    format!("heat-pumps/{}/logs/latest", id_path(id))
}

/// Raw logs of `[from, to)` (unix seconds); the API serves at most 4 hours per request.
pub fn raw_logs_path(id: &str, from: i64, to: i64) -> String {
    format!("heat-pumps/{}/logs/raw?startTime={}&endTime={}", id_path(id), format_utc(from), format_utc(to))
}

pub fn logs_path(id: &str, from: i64, to: i64, interval: Interval) -> String {
    format!("heat-pumps/{}/logs?startTime={}&endTime={}&interval={}", id_path(id), format_utc(from), format_utc(to), interval.name())
}

pub fn energy_path(id: &str, from: i64, to: i64, interval: Interval) -> String {
    format!("energy-logs/{}?startTime={}&endTime={}&interval={}", id_path(id), format_utc(from), format_utc(to), interval.name())
}

pub fn totals_path(id: &str) -> String {
    format!("energy-logs/{}/total", id_path(id))
}

pub const RAW_WINDOW_SECS: i64 = 4 * 3600;

/// The pumps of one page, and how many pages there are (1 for a plain list).
pub fn parse_pumps(response: &HttpResponse) -> Result<(Vec<Pump>, i64)> {
    /// `/api/v1/heat-pumps` answers a plain list; `/third_party` a page.
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum PumpList {
        Plain(Vec<Pump>),
        Paged(PagedPumps),
    }
    Ok(match response.json(PROVIDER, "Weheat heat-pump list")? {
        PumpList::Plain(pumps) => (pumps, 1),
        PumpList::Paged(paged) => (paged.data, paged.metadata.unwrap_or_default().total_pages.unwrap_or(1)),
    })
}

/// One log object, or a list of them (tolerating a `{data: [...]}` envelope).
/// A list item that is no object refuses the answer: a log is never dropped unseen.
pub fn parse_logs(response: &HttpResponse, what: &str) -> Result<Vec<Log>> {
    let value: serde_json::Value = response.json(PROVIDER, what)?;
    let list = match value {
        serde_json::Value::Array(items) => items,
        serde_json::Value::Object(mut object) => match object.remove("data") {
            Some(serde_json::Value::Array(items)) => items,
            // A `data` that is no list is dropped from the log.
            _ => vec![serde_json::Value::Object(object)],
        },
        _ => Vec::new(),
    };
    let count = list.len();
    list.into_iter()
        .enumerate()
        .map(|(i, item)| match item {
            serde_json::Value::Object(object) => Ok(object),
            _ => Err(bad_answer(what, format!("item {} of {count} is not an object", i + 1)).status(response.status)),
        })
        .collect()
}

/// Buckets with their starts (unix seconds) from the first of `fields` they
/// carry (`timeBucket`; aggregated logs may have `timestamp` instead). A
/// bucket that cannot be filed under a time refuses the whole answer:
/// dropping it would leave a hole nobody sees.
pub fn dated_buckets<'a>(logs: &'a [Log], fields: &[&str], what: &str) -> Result<Vec<(i64, &'a Log)>> {
    logs.iter()
        .enumerate()
        .map(|(i, log)| {
            let field = fields.iter().copied().find(|f| log.get(*f).is_some_and(|v| !v.is_null())).or(fields.first().copied()).unwrap_or("timeBucket");
            let time = log.get(field);
            match time.and_then(serde_json::Value::as_str).and_then(parse_utc) {
                Some(start) => Ok((start, log)),
                None => {
                    let found = match time {
                        None | Some(serde_json::Value::Null) => format!("no {field}"),
                        Some(serde_json::Value::String(text)) => format!("{field} '{}'", text.chars().take(40).collect::<String>()),
                        Some(other) => format!("{field} {}", other.to_string().chars().take(40).collect::<String>()),
                    };
                    Err(bad_answer(what, format!("bucket {} of {} has {found}, not an ISO 8601 time", i + 1, logs.len())))
                }
            }
        })
        .collect()
}

fn bad_answer(what: &str, problem: String) -> Error {
    Error::new(ErrorCode::BadResponse, format!("{what}: {problem}; nothing of this answer was kept")).provider(PROVIDER)
}

/// 429 and 5xx are worth another try (after a pause); the rest is final.
pub fn is_retryable(status: u16) -> bool {
    status == 429 || status >= 500
}

/// Turn a failed answer into an error a person can act on. 403 and 400 come
/// with a plain-text reason; 401 and 429 from the proxy with none.
pub fn status_error(response: &HttpResponse, what: &str) -> Error {
    let said = response.body.trim().trim_matches('"');
    let said = if said.is_empty() || said.starts_with('<') { String::new() } else { format!(" ({})", said.chars().take(200).collect::<String>()) };
    let status = response.status;
    let (code, message) = match status {
        400 => (ErrorCode::InvalidInput, format!("Weheat refuses the request for {what}{said}")),
        401 => (ErrorCode::AuthRequired, "Weheat refuses the token: run `wattbridge weheat login`".to_owned()),
        403 => (ErrorCode::Rejected, format!("Weheat does not give {what} to this client{said}")),
        404 => (ErrorCode::InvalidInput, format!("Weheat knows no {what}{said}: check the heat pump id (`wattbridge weheat pumps`)")),
        429 => (ErrorCode::RateLimited, format!("Weheat asks us to slow down while fetching {what}")),
        500..=599 => (ErrorCode::Unavailable, format!("Weheat is unavailable (HTTP {status}) for {what}{said}; try again later")),
        _ => (ErrorCode::UnexpectedStatus, format!("unexpected HTTP {status} from Weheat for {what}{said}")),
    };
    Error::new(code, message).provider(PROVIDER).status(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_list_shapes_parse() {
        let paged = HttpResponse::new(200, r#"{"metadata":{"totalCount":3,"pageSize":2,"currentPage":1,"totalPages":2},"data":[{"id":"a","name":"Home","model":0,"serialNumber":"SN-1","status":70,"state":3,"dhwType":1,"boilerType":0,"firmwareVersion":"1.2"},{"id":"b","model":1,"newField":1}]}"#);
        let (pumps, pages) = parse_pumps(&paged).unwrap();
        assert_eq!((pumps.len(), pages, pumps[0].model_name()), (2, 2, "BlackBird P80"));
        // Every field of the contract's pump (§2) is kept: `status` (what it does) apart from `state` (the record's).
        assert_eq!((pumps[0].status, pumps[0].state, pumps[0].dhw_type), (Some(70), Some(3), Some(1)));
        assert_eq!((pumps[0].serial_number.as_deref(), pumps[0].firmware_version.as_deref()), (Some("SN-1"), Some("1.2")));
        let plain = HttpResponse::new(200, r#"[{"id":"c","model":5,"boilerType":2}]"#);
        let (pumps, pages) = parse_pumps(&plain).unwrap();
        assert_eq!((pumps[0].id.as_str(), pages, pumps[0].is_hybrid()), ("c", 1, true));
    }

    #[test]
    fn paths_carry_iso_times_and_the_interval_name() {
        let path = logs_path("abc", 1_772_323_200, 1_772_323_200 + 3600, Interval::FiveMinute);
        assert_eq!(path, "heat-pumps/abc/logs?startTime=2026-03-01T00:00:00Z&endTime=2026-03-01T01:00:00Z&interval=FiveMinute");
        let request = get("https://api.weheat.nl/third_party/", &path, &Secret::new("t"));
        assert!(request.url.starts_with("https://api.weheat.nl/third_party/api/v1/heat-pumps/abc/logs?"));
    }

    #[test]
    fn refusals_name_what_to_do() {
        let forbidden = status_error(&HttpResponse::new(403, "This endpoint is not available for third-party API clients."), "raw logs");
        assert_eq!(forbidden.code, ErrorCode::Rejected);
        assert!(forbidden.message.contains("third-party"), "{}", forbidden.message);
        assert_eq!(status_error(&HttpResponse::new(429, ""), "x").code, ErrorCode::RateLimited);
        assert_eq!(status_error(&HttpResponse::new(503, "temporarily unavailable"), "x").code, ErrorCode::Unavailable);
        assert_eq!(status_error(&HttpResponse::new(404, ""), "heat pump x").code, ErrorCode::InvalidInput);
    }
}
