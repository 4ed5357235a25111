//! Interval energy into cumulative meter readings (what EnergyID expects, and
//! Home Assistant's statistic `sum`).
//!
//! A running index per (sink, key): it starts from a meter reading the person
//! may give (else 0), only ever grows, and survives restarts through a cursor
//! kept in the store. A hole in the source stays a hole: no reading is
//! invented for it, and the index resumes after it (so it then lags the real
//! meter by the energy of the hole, which nobody knows).

use crate::core::IntervalEnergy;
use serde::{Deserialize, Serialize};

/// Where the index of one key stands: its value at `ts` (unix seconds).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    pub ts: i64,
    pub index: f64,
}

/// A meter reading: the index at `ts`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndexReading {
    pub ts: i64,
    pub value: f64,
}

/// Continue the index over the intervals that end after the cursor (sorted by
/// start; earlier ones were converted before and are skipped, so a second run
/// over the same data emits nothing). The first run emits the starting index
/// at the first interval's start. Negative energy (a source correction) never
/// makes the index go down.
pub fn continue_index(intervals: &[IntervalEnergy], cursor: Option<Cursor>, start_index: f64) -> (Vec<IndexReading>, Option<Cursor>) {
    let mut readings = Vec::new();
    let mut cursor = cursor;
    for interval in intervals {
        if !interval.kwh.is_finite() || interval.end <= interval.start {
            continue;
        }
        let current = match cursor {
            Some(c) if interval.start < c.ts => continue,
            Some(c) => c,
            None => {
                let first = Cursor { ts: interval.start, index: start_index };
                readings.push(IndexReading { ts: first.ts, value: round(first.index) });
                first
            }
        };
        // start > current.ts is a hole: nothing is emitted for it.
        let next = Cursor { ts: interval.end, index: current.index + interval.kwh.max(0.0) };
        readings.push(IndexReading { ts: next.ts, value: round(next.index) });
        cursor = Some(next);
    }
    (readings, cursor)
}

/// Meter readings with a thousandth of a kWh (a watt-hour): what Enedis measures.
fn round(kwh: f64) -> f64 {
    (kwh * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iv(start: i64, kwh: f64) -> IntervalEnergy {
        IntervalEnergy { start, end: start + 1800, kwh }
    }

    #[test]
    fn the_index_starts_from_the_given_reading_and_grows() {
        let (readings, cursor) = continue_index(&[iv(0, 0.5), iv(1800, 0.25)], None, 1000.0);
        assert_eq!(readings, [IndexReading { ts: 0, value: 1000.0 }, IndexReading { ts: 1800, value: 1000.5 }, IndexReading { ts: 3600, value: 1000.75 }]);
        assert_eq!(cursor, Some(Cursor { ts: 3600, index: 1000.75 }));
    }

    #[test]
    fn a_rerun_emits_nothing_and_new_data_continues_the_index() {
        let data = [iv(0, 0.5), iv(1800, 0.25)];
        let (_, cursor) = continue_index(&data, None, 0.0);
        let (again, same) = continue_index(&data, cursor, 0.0);
        assert!(again.is_empty());
        assert_eq!(same, cursor);
        let (more, _) = continue_index(&[iv(0, 9.0), iv(1800, 9.0), iv(3600, 1.0)], cursor, 0.0);
        assert_eq!(more, [IndexReading { ts: 5400, value: 1.75 }], "converted intervals are not counted twice");
    }

    #[test]
    fn a_hole_is_a_hole_and_the_index_never_goes_down() {
        let (readings, cursor) = continue_index(&[iv(0, 1.0), iv(7200, 2.0), iv(9000, -0.5)], None, 10.0);
        let ts: Vec<i64> = readings.iter().map(|r| r.ts).collect();
        assert_eq!(ts, [0, 1800, 9000, 10800], "no reading at 3600 or 5400 (the hole)");
        assert_eq!(readings[2].value, 13.0, "the index resumes after the hole");
        assert_eq!(cursor.unwrap().index, 13.0, "a negative correction does not lower it");
    }
}
