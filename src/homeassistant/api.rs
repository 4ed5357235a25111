//! Home Assistant's WebSocket frames, written and read as plain values
//! (contract §1, §2). Nothing here does I/O.

use super::model::{Schema, StatRow, Statistic, SOURCE};
use super::PROVIDER;
use crate::core::time::parse_utc;
use crate::core::{Error, ErrorCode, Result, Secret};
use serde_json::{json, Map, Value};

/// aiohttp refuses frames over 4 MiB: imports go in chunks of this many rows
/// (MyElectricalData's figure; about 100 KB a chunk).
pub const ROWS_PER_MESSAGE: usize = 1000;

fn bad(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::BadResponse, message).provider(PROVIDER)
}

fn parse(frame: &str) -> Result<Value> {
    serde_json::from_str(frame).map_err(|_| bad("Home Assistant sent a frame that is not JSON"))
}

/// Text from the peer, shortened, for an error message (never the token: HA
/// does not echo it, and this is only ever applied to HA's own messages).
fn quote(text: &str) -> String {
    let text: String = text.chars().filter(|c| !c.is_control()).take(300).collect();
    text
}

/// The first frame: `auth_required` with the release, e.g. `2024.3.3`.
pub fn read_hello(frame: &str) -> Result<String> {
    let value = parse(frame)?;
    match value.get("type").and_then(Value::as_str) {
        Some("auth_required") => Ok(value.get("ha_version").and_then(Value::as_str).unwrap_or("").to_owned()),
        _ => Err(bad("the peer did not start with auth_required: is this Home Assistant's WebSocket API?")),
    }
}

/// `{"type":"auth","access_token":…}`: the only frame that holds the token.
pub fn auth(token: &Secret) -> String {
    json!({"type": "auth", "access_token": token.expose()}).to_string()
}

/// `auth_ok` → the release; `auth_invalid` → `auth_required` (exit 3).
pub fn read_auth(frame: &str) -> Result<String> {
    let value = parse(frame)?;
    match value.get("type").and_then(Value::as_str) {
        Some("auth_ok") => Ok(value.get("ha_version").and_then(Value::as_str).unwrap_or("").to_owned()),
        Some("auth_invalid") => {
            let said = value.get("message").and_then(Value::as_str).map(quote).unwrap_or_default();
            Err(Error::new(
                ErrorCode::AuthRequired,
                format!("Home Assistant refused the token ({said}): create a long-lived access token in your HA profile (Security tab) and store it with `wattbridge config init` or WATTBRIDGE_HA_TOKEN"),
            )
            .provider(PROVIDER))
        }
        _ => Err(bad("Home Assistant answered the authentication with something else than auth_ok or auth_invalid")),
    }
}

/// A command frame: `{"id": N, "type": …, …fields}`.
pub fn command(id: u64, kind: &str, fields: Map<String, Value>) -> String {
    let mut object = Map::new();
    object.insert("id".into(), id.into());
    object.insert("type".into(), kind.into());
    object.extend(fields);
    Value::Object(object).to_string()
}

/// What a frame after authentication is, for the command waiting on `id`.
#[derive(Debug, PartialEq)]
pub enum Frame {
    /// The answer to `id`: its `result`, or the error it maps to.
    Answer(std::result::Result<Value, (String, String)>),
    /// Anything else (a pong, an event, another id): read on.
    Other,
}

pub fn read_frame(frame: &str, id: u64) -> Result<Frame> {
    let value = parse(frame)?;
    if value.get("id").and_then(Value::as_u64) != Some(id) || value.get("type").and_then(Value::as_str) != Some("result") {
        return Ok(Frame::Other);
    }
    if value.get("success").and_then(Value::as_bool) == Some(true) {
        return Ok(Frame::Answer(Ok(value.get("result").cloned().unwrap_or(Value::Null))));
    }
    let error = value.get("error");
    let field = |name: &str| error.and_then(|e| e.get(name)).and_then(Value::as_str).map(quote).unwrap_or_default();
    Ok(Frame::Answer(Err((field("code"), field("message")))))
}

/// An error answer as wattbridge's error: what the person or the scheduler
/// should do about it.
pub fn answer_error(kind: &str, code: &str, message: &str) -> Error {
    let (code, text) = match code {
        // The schema (a key, a type, a timestamp) or HA's own checks of an import.
        "invalid_format" | "home_assistant_error" => (ErrorCode::Rejected, format!("Home Assistant rejected {kind}: {message}")),
        "unauthorized" => (
            ErrorCode::AuthRequired,
            format!("Home Assistant says the token's user is not an administrator ({message}); importing statistics needs a long-lived token of an admin user"),
        ),
        "unknown_command" => (ErrorCode::InvalidConfig, format!("Home Assistant does not know {kind}: add `recorder:` to its configuration.yaml ({message})")),
        _ => (ErrorCode::Unavailable, format!("Home Assistant's recorder could not do {kind} now ({code}: {message}); the next run tries again")),
    };
    Error::new(code, text).provider(PROVIDER)
}

/// `recorder/list_statistic_ids` fields: the statistics that have a sum.
pub fn list_statistic_ids() -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("statistic_type".into(), "sum".into());
    fields
}

/// The ids in a `list_statistic_ids` result.
pub fn read_statistic_ids(result: &Value) -> Result<Vec<String>> {
    let list = result.as_array().ok_or_else(|| bad("list_statistic_ids did not answer a list"))?;
    Ok(list.iter().filter_map(|s| s.get("statistic_id").and_then(Value::as_str)).map(str::to_owned).collect())
}

/// `recorder/statistics_during_period` fields: hourly `sum` and `state` of
/// `ids` that start in `[start, end)` (unix seconds; no end: until now).
/// Times as ISO strings, which every release reads.
pub fn statistics_during_period(ids: &[String], start: i64, end: Option<i64>) -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("start_time".into(), format_start(start).into());
    if let Some(end) = end {
        fields.insert("end_time".into(), format_start(end).into());
    }
    fields.insert("statistic_ids".into(), ids.iter().cloned().map(Value::from).collect::<Vec<_>>().into());
    fields.insert("period".into(), "hour".into());
    fields.insert("types".into(), json!(["sum", "state"]));
    fields
}

/// The rows of one id in a `statistics_during_period` result, oldest first;
/// `start` in epoch ms (2024.3.3 and later) or an ISO string (2021).
pub fn read_rows(result: &Value, id: &str) -> Result<Vec<StatRow>> {
    let Some(list) = result.get(id) else { return Ok(Vec::new()) };
    let list = list.as_array().ok_or_else(|| bad("statistics_during_period did not answer a list of rows"))?;
    let mut rows = Vec::with_capacity(list.len());
    for row in list {
        let start_ms = match row.get("start") {
            Some(Value::Number(n)) => n.as_f64().map(|ms| ms as i64),
            Some(Value::String(text)) => parse_utc(text),
            _ => None,
        }
        .ok_or_else(|| bad("a statistics row has no readable start"))?;
        let number = |name: &str| row.get(name).and_then(Value::as_f64);
        // A row HA holds without a sum cannot continue one: treat it as absent.
        if let Some(sum) = number("sum") {
            rows.push(StatRow { start: start_ms.div_euclid(1000), state: number("state").unwrap_or(f64::NAN), sum });
        }
    }
    rows.sort_by_key(|r| r.start);
    Ok(rows)
}

/// A row's `start`: a whole UTC hour with its offset, as HA requires.
pub fn format_start(secs: i64) -> String {
    let text = crate::core::time::format_utc(secs * 1000);
    format!("{}+00:00", &text[..text.len() - 1])
}

/// The metadata of an external statistic for this release's schema.
pub fn metadata(statistic: &Statistic, schema: Schema) -> Value {
    let mut meta = Map::new();
    if schema == Schema::Old {
        meta.insert("has_mean".into(), false.into());
    }
    meta.insert("has_sum".into(), true.into());
    meta.insert("name".into(), statistic.name.clone().into());
    meta.insert("source".into(), SOURCE.into());
    meta.insert("statistic_id".into(), statistic.id.clone().into());
    meta.insert("unit_of_measurement".into(), statistic.unit.clone().into());
    if schema == Schema::New {
        meta.insert("mean_type".into(), 0.into());
        meta.insert("unit_class".into(), statistic.unit_class.map_or(Value::Null, Value::from));
    }
    Value::Object(meta)
}

/// `recorder/import_statistics` fields for rows of one statistic.
pub fn import_statistics(statistic: &Statistic, schema: Schema, rows: &[StatRow]) -> Map<String, Value> {
    let stats: Vec<Value> = rows.iter().map(|r| json!({"start": format_start(r.start), "state": r.state, "sum": r.sum})).collect();
    let mut fields = Map::new();
    fields.insert("metadata".into(), metadata(statistic, schema));
    fields.insert("stats".into(), stats.into());
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kwh() -> Statistic {
        Statistic { id: "wattbridge:linky_1_consumption".into(), name: "Linky 1 consumption".into(), unit: "kWh".into(), unit_class: Some("energy") }
    }

    #[test]
    fn metadata_has_the_keys_of_each_schema_and_no_other() {
        let keys = |v: Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(metadata(&kwh(), Schema::Old)), ["has_mean", "has_sum", "name", "source", "statistic_id", "unit_of_measurement"]);
        assert_eq!(keys(metadata(&kwh(), Schema::New)), ["has_sum", "mean_type", "name", "source", "statistic_id", "unit_class", "unit_of_measurement"]);
        let money = Statistic { unit: "EUR".into(), unit_class: None, ..kwh() };
        assert_eq!(metadata(&money, Schema::New)["unit_class"], Value::Null);
    }

    #[test]
    fn starts_are_whole_utc_hours_with_an_offset() {
        assert_eq!(format_start(1_711_846_800), "2024-03-31T01:00:00+00:00");
    }

    #[test]
    fn answers_and_errors_are_read() {
        assert_eq!(read_frame(r#"{"id":3,"type":"result","success":true,"result":[1]}"#, 3).unwrap(), Frame::Answer(Ok(json!([1]))));
        assert_eq!(read_frame(r#"{"id":2,"type":"pong"}"#, 3).unwrap(), Frame::Other);
        let Frame::Answer(Err((code, message))) = read_frame(r#"{"id":3,"type":"result","success":false,"error":{"code":"invalid_format","message":"extra keys not allowed"}}"#, 3).unwrap() else { panic!() };
        let error = answer_error("the import", &code, &message);
        assert_eq!(error.code, ErrorCode::Rejected);
        assert!(error.message.contains("extra keys not allowed"));
        assert_eq!(answer_error("x", "unauthorized", "Unauthorized").code, ErrorCode::AuthRequired);
        assert_eq!(answer_error("x", "unknown_error", "busy").code.disposition(), crate::core::Disposition::RetryLater);
        assert_eq!(read_auth(r#"{"type":"auth_invalid","message":"Invalid access token or password"}"#).unwrap_err().code, ErrorCode::AuthRequired);
        assert_eq!(read_hello(r#"{"type":"auth_required","ha_version":"2024.3.3"}"#).unwrap(), "2024.3.3");
    }

    #[test]
    fn rows_read_with_ms_or_iso_starts() {
        let result = json!({"a:b": [{"start": 1_711_846_800_000.0, "end": 0, "sum": 2.5, "state": 0.5}, {"start": "2024-03-31T00:00:00+00:00", "sum": 2.0, "state": 1.0}]});
        let rows = read_rows(&result, "a:b").unwrap();
        assert_eq!(rows, [StatRow { start: 1_711_843_200, state: 1.0, sum: 2.0 }, StatRow { start: 1_711_846_800, state: 0.5, sum: 2.5 }]);
        assert!(read_rows(&result, "c:d").unwrap().is_empty());
    }
}
