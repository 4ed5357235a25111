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
