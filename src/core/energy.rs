//! The unit of data that flows from a source to a sink: energy of one interval.
//! It lives in `core` so that providers can produce it without depending on
//! the bridge that consumes it.

use serde::{Deserialize, Serialize};

/// Energy of one source interval `[start, end)` (unix seconds), in kWh.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntervalEnergy {
    pub start: i64,
    pub end: i64,
    pub kwh: f64,
}

/// `value` rounded to `decimals` places: what people and files see. Sums are
/// made on the exact values first; only what is printed or exported goes
/// through here, so `0.47000000000000003` never shows and nothing drifts.
pub fn round_to(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    let rounded = (value * scale).round() / scale;
    // -0.0 prints as "-0": a person reads that as a sign of something wrong.
    if rounded == 0.0 { 0.0 } else { rounded }
}

/// `serialize_with` helpers: energy to the watt-hour (Wh whole, kWh to 3
/// decimals) and money to the cent.
pub mod rounded {
    use super::round_to;
    use serde::Serializer;

    pub fn wh<S: Serializer>(value: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(round_to(*value, 0))
    }

    pub fn kwh<S: Serializer>(value: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(round_to(*value, 3))
    }

    pub fn opt_wh<S: Serializer>(value: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => wh(v, s),
            None => s.serialize_none(),
        }
    }

    pub fn opt_money<S: Serializer>(value: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => s.serialize_f64(round_to(*v, 2)),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod rounding_tests {
    use super::*;

    #[test]
    fn energy_rounds_to_the_watt_hour_and_money_to_the_cent() {
        assert_eq!(round_to(0.1 + 0.2, 3), 0.3);
        assert_eq!((0.1 + 0.2).to_string(), "0.30000000000000004", "the noise this removes");
        assert_eq!(round_to(376.5, 0), 377.0);
        assert_eq!(round_to(2.944999, 2), 2.94);
        assert_eq!(round_to(-0.0001, 3).to_string(), "0");
    }
}
