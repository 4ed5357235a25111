//! Which requests to make: the fewest windows that cover what is not stored
//! yet, within what Enedis serves.

use super::model::Series;
use crate::core::time::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A request window of Paris dates, `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Window {
    pub start: Date,
    pub end: Date,
}

impl Window {
    pub fn days(&self) -> i32 {
        self.end.0 - self.start.0
    }
}

/// The days of one series already fetched: sorted, disjoint `[start, end)` ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    ranges: Vec<(Date, Date)>,
}

impl Coverage {
    pub fn contains(&self, day: Date) -> bool {
        self.ranges.iter().any(|(start, end)| *start <= day && day < *end)
    }

    pub fn add(&mut self, start: Date, end: Date) {
        if start >= end {
            return;
        }
        self.ranges.push((start, end));
        // By start alone: the merge below takes the larger end of equal starts.
        self.ranges.sort_by_key(|r| r.0);
        let mut merged: Vec<(Date, Date)> = Vec::with_capacity(self.ranges.len());
        for (start, end) in self.ranges.drain(..) {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        self.ranges = merged;
    }

    pub fn ranges(&self) -> &[(Date, Date)] {
        &self.ranges
    }

    pub fn first(&self) -> Option<Date> {
        self.ranges.first().map(|r| r.0)
    }

    /// The day after the last fetched day.
    pub fn last_end(&self) -> Option<Date> {
        self.ranges.last().map(|r| r.1)
    }
}

/// What a fetch of `[from, to)` will ask for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The range after clamping to the history Enedis keeps and to yesterday.
    pub from: Date,
    pub to: Date,
    /// Newest first: recent data matter most, and the first refusal for being
    /// too old tells that everything older is refused too.
    pub windows: Vec<Window>,
}

/// Plan the requests for `[from, to)` of `series`.
///
/// Days already stored are skipped, except the last `correction_days` before
/// today, which Enedis may still correct or complete. `earliest` is a start
/// Enedis told us it has nothing before (activation date found earlier).
pub fn plan(series: Series, from: Date, to: Date, today: Date, coverage: &Coverage, correction_days: i32, earliest: Option<Date>) -> Plan {
    let first = first_askable(series, from, today, earliest);
    let last = to.min(today);
    let recheck_from = today.add_days(-correction_days.max(0));
    let windows = cover(series, first, last, |day| day >= recheck_from || !coverage.contains(day));
    Plan { from: first, to: last.max(first), windows }
}

/// The windows that ask again for `days` (stored days with holes, which
/// Enedis may have filled since), within what Enedis serves, newest first.
pub fn refill_plan(series: Series, days: &BTreeSet<Date>, today: Date, earliest: Option<Date>) -> Vec<Window> {
    let (Some(&oldest), Some(&newest)) = (days.first(), days.last()) else { return Vec::new() };
    let first = first_askable(series, oldest, today, earliest);
    cover(series, first, newest.add_days(1).min(today), |day| days.contains(&day))
}

/// The first day worth asking: Enedis refuses days older than its history
/// or the meter's activation.
fn first_askable(series: Series, from: Date, today: Date, earliest: Option<Date>) -> Date {
    let first = from.max(series.history_start(today));
    earliest.map_or(first, |earliest| first.max(earliest))
}

/// The fewest windows over `[first, last)` that hold every `needed` day.
///
/// Greedy from the newest needed day backwards: each window reaches as far
/// back as allowed; the optimal cover of points on a line by fixed-length
/// intervals. Then each window shrinks to the needed days it holds.
fn cover(series: Series, first: Date, last: Date, needed: impl Fn(Date) -> bool) -> Vec<Window> {
    let max = series.max_days_per_call();
    let mut windows = Vec::new();
    let mut day = last.add_days(-1);
    while day >= first {
        if !needed(day) {
            day = day.add_days(-1);
            continue;
        }
        let end = day.add_days(1);
        let lowest = end.add_days(-max).max(first);
        let mut start = day;
        let mut probe = day;
        while probe >= lowest {
            if needed(probe) {
                start = probe;
            }
            probe = probe.add_days(-1);
        }
        windows.push(Window { start, end });
        day = lowest.add_days(-1);
    }
    windows
}

/// The minimum number of requests for `days` consecutive days of `series`.
pub fn minimum_requests(series: Series, days: i32) -> i32 {
    let max = series.max_days_per_call();
    (days.max(0) + max - 1) / max
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Date {
        Date::parse(text).unwrap()
    }

    fn spans(plan: &Plan) -> Vec<String> {
        plan.windows.iter().map(|w| format!("{}..{}", w.start, w.end)).collect()
    }

    #[test]
    fn a_range_is_cut_into_the_fewest_windows_newest_first() {
        let today = d("2024-01-20");
        let p = plan(Series::ConsumptionLoadCurve, d("2024-01-01"), d("2024-01-20"), today, &Coverage::default(), 3, None);
        assert_eq!(spans(&p), ["2024-01-14..2024-01-20", "2024-01-08..2024-01-14", "2024-01-02..2024-01-08", "2024-01-01..2024-01-02"]);
        assert_eq!(p.windows.len() as i32, minimum_requests(Series::ConsumptionLoadCurve, 19));
        assert!(p.windows.iter().all(|w| w.days() < 7), "an exact 7-day window has been refused");
    }

    #[test]
    fn ranges_are_clamped_to_history_and_yesterday() {
        let today = d("2026-11-21");
        let p = plan(Series::DailyConsumption, d("2000-01-01"), d("2030-01-01"), today, &Coverage::default(), 3, None);
        assert_eq!((p.from, p.to), (d("2023-11-06"), today));
        assert_eq!(p.windows.len() as i32, minimum_requests(Series::DailyConsumption, today.0 - d("2023-11-06").0));
        assert_eq!(p.windows.len(), 4, "1,111 days need four 365-day windows");
        let p = plan(Series::ProductionLoadCurve, d("2000-01-01"), today, today, &Coverage::default(), 3, Some(d("2026-11-01")));
        assert_eq!(p.from, d("2026-11-01"));
        let empty = plan(Series::DailyConsumption, d("2026-12-01"), d("2026-12-05"), today, &Coverage::default(), 3, None);
        assert!(empty.windows.is_empty());
    }

    #[test]
    fn stored_days_are_not_asked_again_except_the_correction_window() {
        let today = d("2024-03-01");
        let mut coverage = Coverage::default();
        coverage.add(d("2024-01-01"), today);
        let p = plan(Series::ConsumptionLoadCurve, d("2024-01-01"), today, today, &coverage, 3, None);
        assert_eq!(spans(&p), ["2024-02-27..2024-03-01"]);
        let p = plan(Series::ConsumptionLoadCurve, d("2024-01-01"), today, today, &coverage, 0, None);
        assert!(p.windows.is_empty());
    }

    #[test]
    fn gaps_in_what_is_stored_share_windows() {
        let today = d("2024-03-01");
        let mut coverage = Coverage::default();
        coverage.add(d("2024-01-01"), d("2024-01-10"));
        coverage.add(d("2024-01-11"), d("2024-01-13"));
        coverage.add(d("2024-01-14"), d("2024-02-20"));
        coverage.add(d("2024-02-21"), today);
        let p = plan(Series::ConsumptionLoadCurve, d("2024-01-01"), today, today, &coverage, 2, None);
        // 02-20 needs a window of its own (the correction window is 6 days later);
        // 01-10 and 01-13 fit one.
        assert_eq!(spans(&p), ["2024-02-28..2024-03-01", "2024-02-20..2024-02-21", "2024-01-10..2024-01-14"]);
        coverage.add(d("2023-12-01"), d("2023-12-02"));
        assert_eq!(coverage.ranges().len(), 5);
        coverage.add(d("2024-01-10"), d("2024-01-11"));
        assert_eq!(coverage.ranges().len(), 4);
    }

    #[test]
    fn a_refill_asks_only_the_days_with_holes_within_the_history() {
        let today = d("2026-11-27");
        let days: BTreeSet<Date> = ["2023-01-05", "2026-01-10", "2026-01-12", "2026-09-30"].into_iter().map(d).collect();
        let windows = refill_plan(Series::ConsumptionLoadCurve, &days, today, None);
        let spans: Vec<String> = windows.iter().map(|w| format!("{}..{}", w.start, w.end)).collect();
        assert_eq!(spans, ["2026-09-30..2026-10-01", "2026-01-10..2026-01-13"], "2023 is older than the 24 months Enedis keeps");
        assert!(refill_plan(Series::ConsumptionLoadCurve, &BTreeSet::new(), today, None).is_empty());
    }
}
