//! The cumulative index for JS: `continueIndex` turns interval energy into
//! EnergyID meter readings from a stored cursor.

use super::error::{from_json, settle};
use crate::core::ErrorCode;
use crate::sync::{continue_index, Cursor, IntervalEnergy};
use wasm_bindgen::prelude::*;

/// `intervals`: JSON `[{start, end, kwh}]` sorted by start; `cursor`: JSON
/// `{ts, index}` or `null`. Returns JSON `{readings: [{ts, value}], cursor}`.
#[wasm_bindgen(js_name = continueIndex)]
pub fn continue_index_js(intervals: &str, cursor: &str, start_index: f64) -> Result<String, JsValue> {
    let intervals: Vec<IntervalEnergy> = from_json(intervals, "intervals", ErrorCode::InvalidInput, "sync")?;
    let cursor: Option<Cursor> = from_json(cursor, "cursor", ErrorCode::CorruptState, "sync")?;
    let start = if start_index.is_finite() && start_index >= 0.0 { start_index } else { 0.0 };
    let (readings, cursor) = continue_index(&intervals, cursor, start);
    settle(Ok(Continued { readings, cursor })).map(|v| v.as_string().unwrap_or_default())
}

/// A struct rather than `json!`, which would compile serde_json's `Value`
/// serializer for the reading types.
#[derive(serde::Serialize)]
struct Continued {
    readings: Vec<crate::sync::IndexReading>,
    cursor: Option<Cursor>,
}
