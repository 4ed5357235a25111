//! History as files a person or a spreadsheet can read: JSON and CSV, with
//! times in Paris wall time plus offset (unambiguous on DST days).

use super::model::{Point, Series};
use crate::core::energy::{round_to, rounded};
use crate::core::time::format_paris;
use serde::Serialize;

#[derive(Serialize)]
struct Row {
    start: String,
    end: String,
    value: f64,
    unit: &'static str,
    /// To the watt-hour; `value` keeps Enedis' exact figure.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "rounded::opt_wh")]
    wh: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    peak_at: Option<String>,
}

fn row(series: Series, point: &Point) -> Row {
    Row {
        start: format_paris(point.start),
        end: format_paris(point.end),
        value: point.value,
        unit: series.unit(),
        wh: point.energy_wh(series).filter(|_| series.is_load_curve()),
        peak_at: point.at.map(format_paris),
    }
}

pub fn to_json(series: Series, points: &[Point]) -> String {
    let rows: Vec<Row> = points.iter().map(|p| row(series, p)).collect();
    serde_json::to_string(&rows).unwrap_or_else(|_| "[]".to_owned())
}

/// `start,end,value,unit,wh,peak_at` — `wh` for load curves, `peak_at` for max power.
pub fn to_csv(series: Series, points: &[Point]) -> String {
    let mut out = String::from("start,end,value,unit,wh,peak_at\n");
    for point in points {
        let r = row(series, point);
        // f64's `Display`: whole numbers without `.0`, others in their shortest form.
        let wh = r.wh.map(|wh| round_to(wh, 0).to_string()).unwrap_or_default();
        let peak = r.peak_at.unwrap_or_default();
        out.push_str(&format!("{},{},{},{},{wh},{peak}\n", r.start, r.end, r.value, r.unit));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_paris_times_energy_and_no_trailing_zeros() {
        let point = Point { start: 1_680_300_000_000, end: 1_680_301_800_000, value: 753.0, at: None };
        let csv = to_csv(Series::ConsumptionLoadCurve, &[point]);
        // Energy to the watt-hour (376.5 Wh); the exact W stays in `value`.
        assert_eq!(csv, "start,end,value,unit,wh,peak_at\n2023-04-01T00:00:00+02:00,2023-04-01T00:30:00+02:00,753,W,377,\n");
        let json = to_json(Series::ConsumptionLoadCurve, &[point]);
        assert!(json.contains(r#""wh":377.0"#) || json.contains(r#""wh":377"#), "{json}");
    }
}
