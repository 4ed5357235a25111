//! Interval amounts into the hourly rows Home Assistant keeps (contract §2, §6).
//!
//! - A row starts at a whole UTC hour and holds exactly that hour: the two
//!   half-hours of a Linky curve, the four quarters of a 15-minute step, one
//!   Weheat hour. DST needs nothing special in UTC: the spring day has 23
//!   rows, the autumn day 25, the repeated hour two distinct rows.
//! - An interval longer than an hour (a Linky daily value, where no curve
//!   exists) is one row at its first hour: HA has no coarser table.
//! - An hour its intervals do not cover whole is a hole: no row, never a 0
//!   and never a part, and the `sum` goes on from the last row.

use super::model::StatRow;

pub const HOUR: i64 = 3600;

/// An amount with the precision its unit has: kWh to the Wh, money to 1e-6.
pub fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

/// The hour an instant lies in.
pub fn hour_of(secs: i64) -> i64 {
    secs.div_euclid(HOUR) * HOUR
}

/// Hourly rows of one statistic, built as intervals arrive in order of start
/// (a stream may be cut anywhere, even inside an hour).
#[derive(Clone, Debug)]
pub struct Hours {
    decimals: i32,
    sum: f64,
    /// The hour being filled: its start, the seconds covered, the amount so far.
    open: Option<(i64, i64, f64)>,
}

impl Hours {
    /// Rows continue from `sum`: HA's sum at the end of the last row kept.
    pub fn new(sum: f64, decimals: i32) -> Self {
        Hours { decimals, sum, open: None }
    }

    pub fn sum(&self) -> f64 {
        self.sum
    }

    /// Add the amount of `[start, end)`; the row of its hour once the hour is whole.
    pub fn push(&mut self, start: i64, end: i64, amount: f64) -> Option<StatRow> {
        if end <= start || !amount.is_finite() {
            return None;
        }
        let hour = hour_of(start);
        let (covered, total) = match self.open.take() {
            Some((open, covered, total)) if open == hour => (covered, total),
            // A different hour begins: the open one stays a hole.
            _ => (0, 0.0),
        };
        let (covered, total) = (covered + (end - start), total + amount);
        if covered < HOUR {
            self.open = Some((hour, covered, total));
            return None;
        }
        let state = round(total, self.decimals);
        self.sum = round(self.sum + state, self.decimals);
        Some(StatRow { start: hour, state, sum: self.sum })
    }
}

/// Whether a row must be sent: HA has none at that hour, or a different one.
pub fn differs(row: &StatRow, held: Option<&StatRow>, decimals: i32) -> bool {
    let tolerance = 0.5 * 10f64.powi(-decimals);
    match held {
        None => true,
        Some(held) => !((row.sum - held.sum).abs() < tolerance && (row.state - held.state).abs() < tolerance),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_half_hours_make_a_row_and_a_missing_one_makes_a_hole() {
        let mut hours = Hours::new(10.0, 3);
        assert_eq!(hours.push(0, 1800, 0.25), None);
        assert_eq!(hours.push(1800, 3600, 0.5), Some(StatRow { start: 0, state: 0.75, sum: 10.75 }));
        // 3600..5400 is missing: the hour 3600 is a hole.
        assert_eq!(hours.push(5400, 7200, 9.0), None);
        assert_eq!(hours.push(7200, 9000, 0.125), None);
        assert_eq!(hours.push(9000, 10800, 0.125), Some(StatRow { start: 7200, state: 0.25, sum: 11.0 }), "the sum goes on from the last row");
    }

    #[test]
    fn quarters_hours_and_days() {
        let mut hours = Hours::new(0.0, 3);
        let rows: Vec<StatRow> = (0..4).filter_map(|q| hours.push(q * 900, (q + 1) * 900, 0.1)).collect();
        assert_eq!(rows, [StatRow { start: 0, state: 0.4, sum: 0.4 }]);
        assert_eq!(hours.push(3600, 7200, 1.0).map(|r| r.start), Some(3600));
        assert_eq!(hours.push(79_200, 79_200 + 86_400, 12.0), Some(StatRow { start: 79_200, state: 12.0, sum: 13.4 }), "a day is one row at its first hour");
    }

    #[test]
    fn rows_equal_to_what_ha_holds_are_not_sent() {
        let row = StatRow { start: 0, state: 0.75, sum: 10.75 };
        assert!(!differs(&row, Some(&StatRow { start: 0, state: 0.7500001, sum: 10.7499999 }), 3));
        assert!(differs(&row, Some(&StatRow { start: 0, state: 0.75, sum: 10.5 }), 3));
        assert!(differs(&row, None, 3));
    }
}
