//! The five Enedis series and what their answers look like (contract §2).

use crate::core::time::Date;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// One metering series of a meter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Series {
    DailyConsumption,
    ConsumptionLoadCurve,
    MaxPower,
    DailyProduction,
    ProductionLoadCurve,
}

impl Series {
    pub const ALL: [Series; 5] = [
        Series::DailyConsumption,
        Series::ConsumptionLoadCurve,
        Series::MaxPower,
        Series::DailyProduction,
        Series::ProductionLoadCurve,
    ];

    /// The name used by the CLI, the JS API and the store.
    pub fn name(self) -> &'static str {
        match self {
            Series::DailyConsumption => "daily",
            Series::ConsumptionLoadCurve => "load-curve",
            Series::MaxPower => "max-power",
            Series::DailyProduction => "production",
            Series::ProductionLoadCurve => "production-load-curve",
        }
    }

    pub fn parse(name: &str) -> Option<Series> {
        Series::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Path of the v5 metering endpoint, under the Enedis API or the gateway's `/data/proxy`.
    pub fn enedis_path(self) -> &'static str {
        match self {
            Series::DailyConsumption => "metering_data_dc/v5/daily_consumption",
            Series::ConsumptionLoadCurve => "metering_data_clc/v5/consumption_load_curve",
            Series::MaxPower => "metering_data_dcmp/v5/daily_consumption_max_power",
            Series::DailyProduction => "metering_data_dp/v5/daily_production",
            Series::ProductionLoadCurve => "metering_data_plc/v5/production_load_curve",
        }
    }

    /// The endpoint name at the Conso API.
    pub fn conso_name(self) -> &'static str {
        match self {
            Series::DailyConsumption => "daily_consumption",
            Series::ConsumptionLoadCurve => "consumption_load_curve",
            Series::MaxPower => "consumption_max_power",
            Series::DailyProduction => "daily_production",
            Series::ProductionLoadCurve => "production_load_curve",
        }
    }

    pub fn is_load_curve(self) -> bool {
        matches!(self, Series::ConsumptionLoadCurve | Series::ProductionLoadCurve)
    }

    pub fn is_production(self) -> bool {
        matches!(self, Series::DailyProduction | Series::ProductionLoadCurve)
    }

    /// Days one request may span. Load curves: under 7 days (an exact 7-day
    /// window has been refused); daily series: 365 days.
    pub fn max_days_per_call(self) -> i32 {
        if self.is_load_curve() { 6 } else { 365 }
    }

    /// The oldest date Enedis serves, counted back from today (Paris).
    pub fn history_start(self, today: Date) -> Date {
        match self {
            Series::DailyConsumption => today.minus_months(36).add_days(-15),
            Series::ConsumptionLoadCurve => today.minus_months(24).add_days(-15),
            Series::MaxPower | Series::DailyProduction => today.minus_months(36),
            Series::ProductionLoadCurve => today.minus_months(24),
        }
    }

    /// What the series is, for a person.
    pub fn label(self) -> &'static str {
        match self {
            Series::DailyConsumption => "daily consumption",
            Series::ConsumptionLoadCurve => "consumption load curve",
            Series::MaxPower => "daily max power",
            Series::DailyProduction => "daily production",
            Series::ProductionLoadCurve => "production load curve",
        }
    }

    /// How far back Enedis serves the series, as [`Series::history_start`] counts it.
    pub fn history_span(self) -> &'static str {
        match self {
            Series::DailyConsumption => "36 months and 15 days",
            Series::ConsumptionLoadCurve => "24 months and 15 days",
            Series::MaxPower | Series::DailyProduction => "36 months",
            Series::ProductionLoadCurve => "24 months",
        }
    }

    /// Unit of the stored value.
    pub fn unit(self) -> &'static str {
        match self {
            Series::DailyConsumption | Series::DailyProduction => "Wh",
            Series::ConsumptionLoadCurve | Series::ProductionLoadCurve => "W",
            Series::MaxPower => "VA",
        }
    }
}

/// One stored value: a UTC interval `[start, end)` and what Enedis said of it.
/// Daily series cover one Paris day; load curves one step (5 to 60 minutes).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Point {
    /// Unix ms, UTC.
    pub start: i64,
    pub end: i64,
    /// Wh for daily series, average W for load curves, VA for max power.
    pub value: f64,
    /// Max power only: when the peak happened (unix ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<i64>,
}

impl Point {
    /// Energy of the interval in Wh: the value itself for daily series,
    /// W × minutes / 60 for load curves, none for max power.
    pub fn energy_wh(&self, series: Series) -> Option<f64> {
        match series {
            Series::DailyConsumption | Series::DailyProduction => Some(self.value),
            Series::ConsumptionLoadCurve | Series::ProductionLoadCurve => {
                Some(self.value * (self.end - self.start) as f64 / 3_600_000.0)
            }
            Series::MaxPower => None,
        }
    }
}

/// A metering answer: Data Connect wraps the reading in `meter_reading`; the
/// Conso API sends the reading's fields bare. One struct reads both in one
/// pass, without buffering the body (years of half-hours). Every value is a
/// string, borrowed from the body where it has no escapes.
#[derive(Deserialize)]
pub(crate) struct ReadingAnswer<'a> {
    #[serde(default, borrow)]
    pub meter_reading: Option<MeterReading<'a>>,
    #[serde(default, borrow)]
    pub interval_reading: Vec<IntervalReading<'a>>,
}

#[derive(Deserialize)]
pub(crate) struct MeterReading<'a> {
    #[serde(default, borrow)]
    pub interval_reading: Vec<IntervalReading<'a>>,
}

#[derive(Deserialize)]
pub(crate) struct IntervalReading<'a> {
    #[serde(default, borrow)]
    pub value: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub date: Cow<'a, str>,
    #[serde(default, borrow)]
    pub interval_length: Option<Cow<'a, str>>,
}

/// A gap in the data: a UTC interval for which Enedis sent nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Hole {
    pub start: i64,
    pub end: i64,
}

/// How the last fetch of a series ended, when it failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct LastError {
    pub code: String,
    pub message: String,
    pub at_ms: i64,
}
