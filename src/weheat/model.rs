//! Weheat documents. The API changed several times (fields vanished, base
//! path moved), so logs and buckets are read field by field from JSON
//! objects: a new field is ignored, a missing one is `None`, never an error.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Aggregation intervals of `/logs` and `/energy-logs`, with the longest
/// window the API serves per request (contract §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Interval {
    Minute,
    FiveMinute,
    FifteenMinute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

const DAY: i64 = 86_400;

impl Interval {
    pub const ALL: [Interval; 8] = [
        Interval::Minute,
        Interval::FiveMinute,
        Interval::FifteenMinute,
        Interval::Hour,
        Interval::Day,
        Interval::Week,
        Interval::Month,
        Interval::Year,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Interval::Minute => "Minute",
            Interval::FiveMinute => "FiveMinute",
            Interval::FifteenMinute => "FifteenMinute",
            Interval::Hour => "Hour",
            Interval::Day => "Day",
            Interval::Week => "Week",
            Interval::Month => "Month",
            Interval::Year => "Year",
        }
    }

    /// Case-insensitive, so `hour` and `Hour` both work on the command line.
    pub fn parse(text: &str) -> Option<Interval> {
        Interval::ALL.into_iter().find(|i| i.name().eq_ignore_ascii_case(text))
    }

    /// Nominal length of one bucket, in seconds.
    pub fn secs(self) -> i64 {
        match self {
            Interval::Minute => 60,
            Interval::FiveMinute => 300,
            Interval::FifteenMinute => 900,
            Interval::Hour => 3600,
            Interval::Day => DAY,
            Interval::Week => 7 * DAY,
            Interval::Month => 30 * DAY,
            Interval::Year => 365 * DAY,
        }
    }

    /// The longest window one request may span, in seconds. "A month" is
    /// taken as 28 days and "a year" as 365, so no calendar makes it too long.
    pub fn window_secs(self) -> i64 {
        match self {
            Interval::Minute => 2 * DAY,
            Interval::FiveMinute => 7 * DAY,
            Interval::FifteenMinute | Interval::Hour => 28 * DAY,
            Interval::Day => 365 * DAY,
            Interval::Week => 2 * 365 * DAY,
            Interval::Month => 5 * 365 * DAY,
            Interval::Year => 100 * 365 * DAY,
        }
    }

    /// The coarsest interval whose buckets are no longer than `resolution_secs`.
    pub fn coarsest_within(resolution_secs: i64) -> Interval {
        Interval::ALL.into_iter().rev().find(|i| i.secs() <= resolution_secs).unwrap_or(Interval::Minute)
    }
}

/// A heat pump as listed, with what a person recognises it by.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Pump {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub model: Option<i64>,
    #[serde(default)]
    pub serial_number: Option<String>,
    /// What the pump last logged (1 offline, 40 standby, 70 heating, …:
    /// `derive::state_name`).
    #[serde(default)]
    pub status: Option<i64>,
    /// The pump's record state (3 = active), not what it is doing.
    #[serde(default)]
    pub state: Option<i64>,
    #[serde(default)]
    pub dhw_type: Option<i64>,
    #[serde(default)]
    pub boiler_type: Option<i64>,
    #[serde(default)]
    pub firmware_version: Option<String>,
}

impl Pump {
    /// `boilerType` above 1 means a hybrid set-up with a gas boiler.
    pub fn is_hybrid(&self) -> bool {
        self.boiler_type.is_some_and(|b| b > 1)
    }

    pub fn model_name(&self) -> &'static str {
        match self.model {
            Some(0) => "BlackBird P80",
            Some(1) => "BlackBird P60",
            Some(2..=4) => "Sparrow P60",
            Some(5) => "Flint P40",
            _ => "unknown model",
        }
    }

    /// Compressor speed at 100 %, by model (as Home Assistant computes it).
    pub fn nominal_rpm(&self) -> Option<f64> {
        match self.model {
            Some(0) => Some(4500.0),
            Some(1..=4) => Some(5520.0),
            Some(5) => Some(5400.0),
            _ => None,
        }
    }
}

/// The paged list answer (`{metadata, data}`); older servers send the plain list.
#[derive(Deserialize)]
pub(crate) struct PagedPumps {
    pub data: Vec<Pump>,
    #[serde(default)]
    pub metadata: Option<PageInfo>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PageInfo {
    #[serde(default)]
    pub total_pages: Option<i64>,
}

/// A raw or aggregated log: the JSON object as the API sent it.
pub type Log = Map<String, Value>;

/// A number field; `None` when missing, null, or not a number.
pub fn number(object: &Map<String, Value>, field: &str) -> Option<f64> {
    object.get(field).and_then(Value::as_f64)
}

/// Room temperatures use -1 for "no sensor".
pub fn room_value(object: &Map<String, Value>, field: &str) -> Option<f64> {
    number(object, field).filter(|v| *v != -1.0)
}

/// The six electricity inputs and five heat outputs of an energy bucket (kWh).
pub const E_IN: [&str; 6] = ["Heating", "Standby", "Dhw", "HeatingDefrost", "DhwDefrost", "Cooling"];
pub const E_OUT: [&str; 5] = ["Heating", "Dhw", "HeatingDefrost", "DhwDefrost", "Cooling"];
