//! What people ask of their meter (contract §4): energy per day and per hour,
//! totals for yesterday … this year, and their cost under a base or a
//! peak/off-peak tariff. Pure arithmetic over stored points.
//!
//! Days and weeks are Paris calendar days, weeks start on Monday. Only days
//! before `today` count: Enedis never has today's data.

use super::model::{Point, Series};
use crate::core::time::{paris_date, paris_local, Date};
use crate::core::energy::rounded;
use crate::core::{Error, Result};

const HOUR_MS: i64 = 3_600_000;
const DAY_MINUTES: u16 = 1440;
const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Energy of one Paris day, in Wh.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct DayEnergy {
    #[cfg_attr(target_arch = "wasm32", tsify(type = "string"))]
    pub date: Date,
    #[serde(serialize_with = "rounded::wh")]
    pub wh: f64,
}

/// Energy of one hour, in Wh. UTC hours are Paris hours too: both offsets are
/// whole hours.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct HourEnergy {
    /// UTC ms of the hour's start.
    pub start: i64,
    #[serde(serialize_with = "rounded::wh")]
    pub wh: f64,
    /// The curve covers the whole hour; otherwise `wh` is a partial sum.
    pub complete: bool,
}

/// One period `[from, to)` of Paris days, in kWh.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Period {
    #[cfg_attr(target_arch = "wasm32", tsify(type = "string"))]
    pub from: Date,
    /// Exclusive.
    #[cfg_attr(target_arch = "wasm32", tsify(type = "string"))]
    pub to: Date,
    /// Sum of the days that have data (shown to the watt-hour).
    #[serde(serialize_with = "rounded::kwh")]
    pub kwh: f64,
    pub days_with_data: u32,
    /// Days in the period (all before today).
    pub days: u32,
    /// `None` without a tariff, or when the tariff needs a curve we lack (shown to the cent).
    #[serde(serialize_with = "rounded::opt_money")]
    pub cost: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct PeriodTotals {
    pub yesterday: Period,
    pub this_week: Period,
    pub last_week: Period,
    pub this_month: Period,
    pub last_month: Period,
    pub this_year: Period,
}

/// The six usual periods relative to `today` (a Paris date). `daily` should
/// come from [`daily_energy`] (one entry per day); `curve` is a load curve
/// (consumption or production: its energy is computed the same way) and is
/// only needed for a peak/off-peak cost.
pub fn period_totals(daily: &[DayEnergy], today: Date, tariff: Option<&Tariff>, curve: &[Point]) -> PeriodTotals {
    let period = |from: Date, to: Date| {
        let in_period = daily.iter().filter(|d| d.date >= from && d.date < to);
        let (wh, days_with_data) = in_period.fold((0.0, 0), |(wh, n), d| (wh + d.wh, n + 1));
        let (from_ms, to_ms) = (from.paris_midnight_ms(), to.paris_midnight_ms());
        let cost = tariff.and_then(|t| cost(t, from_ms, to_ms, daily, curve, Series::ConsumptionLoadCurve));
        Period { from, to, kwh: wh / 1000.0, days_with_data, days: (to.0 - from.0).max(0) as u32, cost }
    };
    let monday = today.add_days(-(today.weekday() as i32));
    let month = today.first_of_month();
    PeriodTotals {
        yesterday: period(today.add_days(-1), today),
        this_week: period(monday, today),
        last_week: period(monday.add_days(-7), monday),
        this_month: period(month, today),
        last_month: period(month.add_days(-1).first_of_month(), month),
        this_year: period(today.first_of_year(), today),
    }
}

/// Days from the daily series; a day without a daily point is summed from the
/// load curve, but only when the curve covers it end to end (23 h or 25 h on
/// clock-change days): a partial curve must never pass for a day's total.
/// Each curve interval belongs to the Paris day of its start. Sorted by date.
pub fn daily_energy(daily_points: &[Point], curve_points: &[Point], series_daily: Series, series_curve: Series) -> Vec<DayEnergy> {
    let mut days: Vec<DayEnergy> = daily_points
        .iter()
        .filter_map(|p| Some(DayEnergy { date: paris_date(p.start), wh: p.energy_wh(series_daily)? }))
        .collect();
    days.sort_by_key(|d| d.date);
    days.dedup_by_key(|d| d.date);
    let known = days.len();
    // (day, start, end, Wh), in time order so that days come out contiguous.
    let mut pieces: Vec<(Date, i64, i64, f64)> = curve_points
        .iter()
        .filter_map(|p| Some((paris_date(p.start), p.start, p.end, p.energy_wh(series_curve)?)))
        .collect();
    pieces.sort_by_key(|p| p.1);
    for group in pieces.chunk_by(|a, b| a.0 == b.0) {
        let date = group[0].0;
        if days[..known].binary_search_by_key(&date, |d| d.date).is_ok() {
            continue;
        }
        let mut covered_until = date.paris_midnight_ms();
        for piece in group {
            covered_until = if piece.1 == covered_until { piece.2 } else { i64::MIN };
        }
        if covered_until == date.add_days(1).paris_midnight_ms() {
            days.push(DayEnergy { date, wh: group.iter().map(|p| p.3).sum() });
        }
    }
    days.sort_by_key(|d| d.date);
    days
}

/// Load-curve energy per hour. An interval crossing an hour boundary is split
/// in proportion to its time on each side. Sorted by hour.
pub fn hourly_energy(curve: &[Point], series: Series) -> Vec<HourEnergy> {
    // (hour start, Wh, ms of the hour covered)
    let mut pieces: Vec<(i64, f64, i64)> = Vec::with_capacity(curve.len());
    for p in curve.iter().filter(|p| p.end > p.start) {
        let Some(wh) = p.energy_wh(series) else { continue };
        let mut at = p.start;
        while at < p.end {
            let hour = at - at.rem_euclid(HOUR_MS);
            let until = p.end.min(hour + HOUR_MS);
            pieces.push((hour, wh * ((until - at) as f64 / (p.end - p.start) as f64), until - at));
            at = until;
        }
    }
    pieces.sort_by_key(|p| p.0);
    pieces
        .chunk_by(|a, b| a.0 == b.0)
        .map(|g| HourEnergy {
            start: g[0].0,
            wh: g.iter().map(|p| p.1).sum(),
            complete: g.iter().map(|p| p.2).sum::<i64>() == HOUR_MS,
        })
        .collect()
}

/// A tariff, prices per kWh in the contract's currency (€ in France).
#[derive(Clone, Debug, PartialEq)]
pub enum Tariff {
    Base { price_per_kwh: f64 },
    PeakOffPeak { peak_price: f64, off_peak_price: f64, off_peak: OffPeakSlots },
}

impl Tariff {
    /// `kind` is `base` (needs `base`) or `peak-off-peak`, also `hphc` (needs
    /// `peak`, `off_peak` and `slots`, see [`OffPeakSlots::parse`]). Prices
    /// the kind does not use are ignored, so one config can keep them all.
    pub fn parse(kind: &str, base: Option<f64>, peak: Option<f64>, off_peak: Option<f64>, slots: Option<&str>) -> Result<Tariff> {
        let kind = kind.trim();
        let price = |value: Option<f64>, what: &str| match value {
            Some(v) if v.is_finite() && v >= 0.0 => Ok(v),
            Some(_) => Err(Error::invalid_config(format!("the {what} price must be a number, 0 or more"))),
            None => Err(Error::invalid_config(format!("the {kind} tariff needs a {what} price"))),
        };
        if kind.eq_ignore_ascii_case("base") {
            return Ok(Tariff::Base { price_per_kwh: price(base, "base")? });
        }
        if !(kind.eq_ignore_ascii_case("peak-off-peak") || kind.eq_ignore_ascii_case("hphc")) {
            return Err(Error::invalid_config(format!("tariff '{kind}' is not base or peak-off-peak")));
        }
        let slots = slots.ok_or_else(|| Error::invalid_config(format!("the {kind} tariff needs off-peak slots")))?;
        Ok(Tariff::PeakOffPeak {
            peak_price: price(peak, "peak")?,
            off_peak_price: price(off_peak, "off-peak")?,
            off_peak: OffPeakSlots::parse(slots)?,
        })
    }

    /// The price per kWh of energy used from the instant `utc_ms` on: the base
    /// price, or the peak/off-peak price by the Paris weekday and minute.
    pub fn price_at(&self, utc_ms: i64) -> f64 {
        match self {
            Tariff::Base { price_per_kwh } => *price_per_kwh,
            Tariff::PeakOffPeak { peak_price, off_peak_price, off_peak } => peak_or_off_peak(off_peak, *peak_price, *off_peak_price, utc_ms),
        }
    }
}

fn peak_or_off_peak(slots: &OffPeakSlots, peak_price: f64, off_peak_price: f64, utc_ms: i64) -> f64 {
    let (date, ms) = paris_local(utc_ms);
    if slots.is_off_peak(date.weekday(), (ms / 60_000) as u32) { off_peak_price } else { peak_price }
}

/// The off-peak hours ("heures creuses") of a week, in Paris local time.
#[derive(Clone, Debug, PartialEq)]
pub struct OffPeakSlots {
    /// Per weekday (Mon = 0), `[start, end)` minutes of the local day.
    days: [Vec<(u16, u16)>; 7],
}

impl OffPeakSlots {
    /// Grammar (spaces around parts are ignored):
    /// - `22:00-06:00`: one slot, every day; `01:30-07:30,12:30-14:30`: several.
    /// - `mon-fri=22:00-06:00;sat,sun=00:00-24:00`: `;`-separated groups
    ///   `days=slots`, days among `mon tue wed thu fri sat sun`, as ranges
    ///   `a-b` (which may wrap: `sat-mon`) and lists `a,b`. A group without
    ///   `days=` applies to every day. Groups add up; a day no group names has
    ///   no off-peak hours.
    /// - Times are `H:MM` or `HH:MM`, to the minute; `24:00` only as an end.
    ///
    /// A slot ending before it starts crosses midnight and, as French
    /// contracts count it, belongs to the evening's day: `sat=22:00-06:00` is
    /// Saturday 22:00–24:00 plus Sunday 00:00–06:00, not Saturday 00:00–06:00.
    pub fn parse(text: &str) -> Result<OffPeakSlots> {
        if text.trim().is_empty() {
            return Err(Error::invalid_config("the off-peak slots are empty"));
        }
        let mut slots = OffPeakSlots { days: Default::default() };
        for group in text.split(';') {
            let (mask, list) = match group.split_once('=') {
                Some((days, list)) => (parse_days(days)?, list),
                None => (0x7f, group),
            };
            for slot in list.split(',') {
                let (start, end) = parse_slot(slot)?;
                for day in (0..7).filter(|d| mask & (1 << d) != 0) {
                    if start < end {
                        slots.days[day].push((start, end));
                    } else {
                        slots.days[day].push((start, DAY_MINUTES));
                        if end > 0 {
                            slots.days[(day + 1) % 7].push((0, end));
                        }
                    }
                }
            }
        }
        Ok(slots)
    }

    /// Whether a local wall time (weekday Mon = 0, minutes since midnight) is off-peak.
    pub fn is_off_peak(&self, weekday: u32, minute_of_day: u32) -> bool {
        self.days
            .get(weekday as usize)
            .is_some_and(|slots| slots.iter().any(|&(s, e)| (s as u32..e as u32).contains(&minute_of_day)))
    }
}

/// A bit per weekday (Mon = bit 0).
fn parse_days(text: &str) -> Result<u8> {
    let index = |name: &str| DAY_NAMES.iter().position(|n| n.eq_ignore_ascii_case(name.trim()));
    let mut mask = 0u8;
    for part in text.split(',') {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let (Some(mut day), Some(last)) = (index(a), index(b)) else {
            let part = part.trim();
            return Err(Error::invalid_config(format!("off-peak days '{part}' are not among mon … sun, nor a range like mon-fri")));
        };
        loop {
            mask |= 1 << day;
            if day == last {
                break;
            }
            day = (day + 1) % 7;
        }
    }
    Ok(mask)
}

/// `HH:MM-HH:MM` as minutes; `start == end` is refused (empty or whole day?).
fn parse_slot(text: &str) -> Result<(u16, u16)> {
    let text = text.trim();
    let bad = || Error::invalid_config(format!("off-peak slot '{text}' is not HH:MM-HH:MM"));
    let (a, b) = text.split_once('-').ok_or_else(bad)?;
    let (start, end) = (minutes(a).ok_or_else(bad)?, minutes(b).ok_or_else(bad)?);
    if start == DAY_MINUTES {
        return Err(bad());
    }
    if start == end {
        return Err(Error::invalid_config(format!("off-peak slot '{text}' is empty")));
    }
    Ok((start, end))
}

fn minutes(text: &str) -> Option<u16> {
    let (h, m) = text.trim().split_once(':')?;
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !(1..=2).contains(&h.len()) || m.len() != 2 || !digits(h) || !digits(m) {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && h * 60 + m <= DAY_MINUTES).then_some(h * 60 + m)
}

/// What the energy of `[from_ms, to_ms)` costs.
/// - Base: the daily energy of the days whose Paris midnight lies in the
///   range; days without data count for nothing, as in [`Period::kwh`].
/// - Peak/off-peak: the load curve, each interval priced by the Paris weekday
///   and minute of its start; `None` unless the curve covers the whole range.
pub fn cost(tariff: &Tariff, from_ms: i64, to_ms: i64, daily: &[DayEnergy], curve: &[Point], series: Series) -> Option<f64> {
    let (peak_price, off_peak_price, slots) = match tariff {
        Tariff::Base { price_per_kwh } => {
            let in_range = daily.iter().filter(|d| (from_ms..to_ms).contains(&d.date.paris_midnight_ms()));
            return Some(in_range.map(|d| d.wh).sum::<f64>() / 1000.0 * price_per_kwh);
        }
        Tariff::PeakOffPeak { peak_price, off_peak_price, off_peak } => (*peak_price, *off_peak_price, off_peak),
    };
    let mut inside: Vec<&Point> = curve.iter().filter(|p| p.start < to_ms && p.end > from_ms && p.end > p.start).collect();
    inside.sort_by_key(|p| p.start);
    let (mut covered_until, mut total) = (from_ms, 0.0);
    for p in inside {
        if p.start > covered_until {
            return None;
        }
        // Clip to the range and skip what an overlapping interval already counted.
        let (start, end) = (covered_until, p.end.min(to_ms));
        if end <= start {
            continue;
        }
        let wh = p.energy_wh(series)? * ((end - start) as f64 / (p.end - p.start) as f64);
        total += wh / 1000.0 * peak_or_off_peak(slots, peak_price, off_peak_price, start);
        covered_until = end;
    }
    (covered_until >= to_ms).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ErrorCode;

    const LC: Series = Series::ConsumptionLoadCurve;

    fn d(text: &str) -> Date {
        Date::parse(text).unwrap()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// A flat load curve over `[from, to)`: `step`-minute intervals at `watts`.
    fn flat(from: i64, to: i64, step: i64, watts: f64) -> Vec<Point> {
        let step = step * 60_000;
        (0..(to - from) / step).map(|i| Point { start: from + i * step, end: from + (i + 1) * step, value: watts, at: None }).collect()
    }

    fn check(p: &Period, from: &str, to: &str, days: u32, days_with_data: u32, kwh: f64) {
        assert_eq!((p.from, p.to, p.days, p.days_with_data), (d(from), d(to), days, days_with_data), "{p:?}");
        assert!(close(p.kwh, kwh), "{p:?} expected {kwh} kWh");
    }

    /// Every day from 1 November 2023 to 3 January 2024 uses day-of-month kWh.
    fn synthetic() -> Vec<DayEnergy> {
        (d("2023-11-01").0..=d("2024-01-03").0).map(|n| DayEnergy { date: Date(n), wh: Date(n).ymd().2 as f64 * 1000.0 }).collect()
    }

    #[test]
    fn periods_around_new_year() {
        let daily = synthetic();
        // Wednesday 3 January: today's own entry must not count.
        let t = period_totals(&daily, d("2024-01-03"), None, &[]);
        check(&t.yesterday, "2024-01-02", "2024-01-03", 1, 1, 2.0);
        check(&t.this_week, "2024-01-01", "2024-01-03", 2, 2, 3.0);
        check(&t.last_week, "2023-12-25", "2024-01-01", 7, 7, 196.0); // 25 + … + 31
        check(&t.this_month, "2024-01-01", "2024-01-03", 2, 2, 3.0);
        check(&t.last_month, "2023-12-01", "2024-01-01", 31, 31, 496.0); // 1 + … + 31
        check(&t.this_year, "2024-01-01", "2024-01-03", 2, 2, 3.0);
        assert_eq!(t.yesterday.cost, None);
        // Monday 1 January: this week, month and year are empty.
        let t = period_totals(&daily, d("2024-01-01"), None, &[]);
        check(&t.yesterday, "2023-12-31", "2024-01-01", 1, 1, 31.0);
        check(&t.this_week, "2024-01-01", "2024-01-01", 0, 0, 0.0);
        check(&t.last_week, "2023-12-25", "2024-01-01", 7, 7, 196.0);
        check(&t.this_month, "2024-01-01", "2024-01-01", 0, 0, 0.0);
        check(&t.last_month, "2023-12-01", "2024-01-01", 31, 31, 496.0);
        check(&t.this_year, "2024-01-01", "2024-01-01", 0, 0, 0.0);
    }

    #[test]
    fn missing_days_are_counted_not_invented() {
        let mut daily = synthetic();
        daily.retain(|x| x.date != d("2023-12-12"));
        // Thursday 14 December 2023; the year's data start on 1 November.
        let base = Tariff::Base { price_per_kwh: 0.25 };
        let t = period_totals(&daily, d("2023-12-14"), Some(&base), &[]);
        check(&t.this_week, "2023-12-11", "2023-12-14", 3, 2, 24.0); // 11 + 13
        check(&t.last_week, "2023-12-04", "2023-12-11", 7, 7, 49.0); // 4 + … + 10
        check(&t.last_month, "2023-11-01", "2023-12-01", 30, 30, 465.0);
        check(&t.this_year, "2023-01-01", "2023-12-14", 347, 42, 465.0 + 91.0 - 12.0);
        assert!(close(t.yesterday.cost.unwrap(), 13.0 * 0.25));
        assert!(close(t.this_week.cost.unwrap(), 24.0 * 0.25));
    }

    #[test]
    fn complete_curve_days_fill_in_across_clock_changes() {
        // March 2024, spring forward on the 31st: 46 half-hours of 500 Wh.
        let (from, to) = (d("2024-03-01").paris_midnight_ms(), d("2024-04-01").paris_midnight_ms());
        let mut curve = flat(from, to, 30, 1000.0);
        assert_eq!(curve.len(), 31 * 48 - 2);
        let hole = d("2024-03-15").paris_midnight_ms() + 5 * HOUR_MS;
        curve.retain(|p| p.start != hole);
        curve.reverse(); // order must not matter
        let daily = [Point { start: d("2024-03-10").paris_midnight_ms(), end: d("2024-03-11").paris_midnight_ms(), value: 1234.0, at: None }];
        let days = daily_energy(&daily, &curve, Series::DailyConsumption, LC);
        let wh = |date: &str| days.iter().find(|x| x.date == d(date)).map(|x| x.wh);
        assert_eq!(days.len(), 30, "15 March is incomplete");
        assert_eq!((wh("2024-03-15"), wh("2024-03-10")), (None, Some(1234.0)), "the daily point wins");
        assert_eq!((wh("2024-03-01"), wh("2024-03-30"), wh("2024-03-31")), (Some(24_000.0), Some(24_000.0), Some(23_000.0)));
        assert!(days.windows(2).all(|w| w[0].date < w[1].date));

        // October 2023, fall back on the 29th: 50 half-hours; the curve stops at noon on the 31st.
        let curve = flat(d("2023-10-01").paris_midnight_ms(), d("2023-10-31").paris_midnight_ms() + 12 * HOUR_MS, 30, 1000.0);
        let days = daily_energy(&[], &curve, Series::DailyConsumption, LC);
        assert_eq!((days.len(), days[0].date, days[29].date), (30, d("2023-10-01"), d("2023-10-30")));
        assert_eq!((days[27].wh, days[28].wh, days[29].wh), (24_000.0, 25_000.0, 24_000.0));
    }

    #[test]
    fn hours_collect_steps_and_split_crossing_intervals() {
        let h = d("2024-06-01").paris_midnight_ms() + 10 * HOUR_MS;
        let min = 60_000;
        let mut curve = flat(h, h + 45 * min, 15, 400.0); // 3 × 100 Wh
        curve.push(Point { start: h + 45 * min, end: h + 75 * min, value: 1000.0, at: None }); // 250 + 250 Wh
        curve.extend(flat(h + 2 * HOUR_MS, h + 3 * HOUR_MS, 60, 600.0)); // one PT60M
        let hour = |n: i64, wh: f64, complete: bool| HourEnergy { start: h + n * HOUR_MS, wh, complete };
        let expected = vec![hour(0, 550.0, true), hour(1, 250.0, false), hour(2, 600.0, true)];
        assert_eq!(hourly_energy(&curve, LC), expected);
        curve.reverse();
        assert_eq!(hourly_energy(&curve, LC), expected);
    }

    #[test]
    fn off_peak_slots_parse_and_cross_midnight_into_the_next_day() {
        let expect = |text: &str, cases: &[(u32, &str, bool)]| {
            let slots = OffPeakSlots::parse(text).unwrap();
            for &(day, time, off) in cases {
                assert_eq!(slots.is_off_peak(day, minutes(time).unwrap() as u32), off, "{text}: day {day} {time}");
            }
        };
        let (mon, tue, wed, fri, sat, sun) = (0, 1, 2, 4, 5, 6);
        expect("22:00-06:00", &[(mon, "22:00", true), (sun, "23:59", true), (wed, "00:00", true), (mon, "05:59", true), (wed, "06:00", false), (sun, "21:59", false)]);
        expect(" 1:30-07:30 , 12:30-14:30 ", &[(wed, "01:30", true), (wed, "01:29", false), (wed, "13:00", true), (wed, "14:30", false)]);
        // Sunday names no night slot, so Monday morning is peak.
        let week = "mon-fri=22:00-06:00;sat,sun=00:00-24:00";
        expect(week, &[(mon, "03:00", false), (mon, "22:30", true), (tue, "03:00", true), (tue, "12:00", false), (fri, "23:00", true), (sat, "12:00", true), (sun, "23:59", true)]);
        // The night belongs to the evening's day.
        expect("sat=22:00-06:00", &[(sat, "23:00", true), (sun, "05:00", true), (sat, "05:00", false), (sun, "23:00", false)]);
        // Ranges may wrap; a bare group means every day; 24:00 ends a day, 7 is no day.
        expect("SUN-mon=12:00-13:00;22:00-24:00", &[(sun, "12:00", true), (mon, "12:00", true), (tue, "12:00", false), (tue, "23:00", true), (tue, "00:00", false), (7, "23:00", false)]);
        let bad = [
            "", " ", "xx", "22:00", "22-06", "22:00-6", "25:00-06:00", "22:60-06:00", "24:00-06:00", "22:00-24:01",
            "22:00-22:00", "moon=22:00-06:00", "mon-fri=", "mon=22:00-06:00;", "22:00-06:00,", "+1:00-02:00", "mon-=01:00-02:00",
        ];
        for text in bad {
            assert_eq!(OffPeakSlots::parse(text).unwrap_err().code, ErrorCode::InvalidConfig, "{text:?}");
        }
        assert_eq!(OffPeakSlots::parse("mon-fri=22:00-06:00;sat= xx").unwrap_err().message, "off-peak slot 'xx' is not HH:MM-HH:MM");
        assert!(OffPeakSlots::parse("moon=22:00-06:00").unwrap_err().message.contains("'moon'"));
    }

    #[test]
    fn tariffs_parse_with_the_prices_they_need() {
        assert_eq!(Tariff::parse("base", Some(0.25), Some(9.0), None, None).unwrap(), Tariff::Base { price_per_kwh: 0.25 });
        let hphc = Tariff::parse("HPHC", None, Some(0.2), Some(0.15), Some("22:00-06:00")).unwrap();
        assert!(matches!(hphc, Tariff::PeakOffPeak { peak_price, off_peak_price, .. } if peak_price == 0.2 && off_peak_price == 0.15));
        let night = Some("22:00-06:00");
        let failures = [
            ("base", None, None, None), ("base", Some(-1.0), None, None), ("base", Some(f64::NAN), None, None),
            ("tempo", Some(0.2), Some(0.2), night), ("peak-off-peak", None, Some(0.2), None),
            ("hphc", None, None, night), ("hphc", None, Some(0.2), Some("night")),
        ];
        for (kind, base, peak, slots) in failures {
            assert_eq!(Tariff::parse(kind, base, peak, Some(0.15), slots).unwrap_err().code, ErrorCode::InvalidConfig, "{kind} {slots:?}");
        }
    }

    #[test]
    fn peak_and_off_peak_price_each_interval_by_its_start() {
        let cost_of = |tariff: &Tariff, day: &str, drop: Option<usize>| {
            let (from, to) = (d(day).paris_midnight_ms(), d(day).add_days(1).paris_midnight_ms());
            let mut curve = flat(from, to, 30, 1000.0); // 500 Wh per half-hour
            if let Some(i) = drop {
                curve.remove(i);
            }
            cost(tariff, from, to, &[], &curve, LC)
        };
        let nightly = Tariff::parse("peak-off-peak", None, Some(0.2), Some(0.15), Some("22:00-06:00")).unwrap();
        // Wednesday 10 January: 00:00–06:00 is the tail of Tuesday evening's slot
        // (12 half-hours), 22:00–24:00 the head of tonight's (4): 16 × 0.5 kWh ×
        // 0.15 = 1.2; the other 32 half-hours: 32 × 0.5 × 0.2 = 3.2.
        assert!(close(cost_of(&nightly, "2024-01-10", None).unwrap(), 4.4));
        // 31 March 2024 (46 half-hours, 02:00–03:00 skipped): off-peak 00:00–02:00
        // (4) + 03:00–06:00 (6) + 22:00–24:00 (4) = 14 → 1.05; 32 peak → 3.2.
        assert!(close(cost_of(&nightly, "2024-03-31", None).unwrap(), 4.25));
        // Only Saturday's night: Saturday keeps 22:00–24:00 (4 × 0.075 + 44 × 0.1),
        // Sunday gets 00:00–06:00 (12 × 0.075 + 36 × 0.1).
        let saturday = Tariff::parse("hphc", None, Some(0.2), Some(0.15), Some("sat=22:00-06:00")).unwrap();
        assert!(close(cost_of(&saturday, "2024-01-13", None).unwrap(), 4.7));
        assert!(close(cost_of(&saturday, "2024-01-14", None).unwrap(), 4.5));
        // A missing half-hour, first or last included: cannot split, no cost.
        for i in [0, 20, 47] {
            assert_eq!(cost_of(&nightly, "2024-01-10", Some(i)), None);
        }
        // Through period_totals: yesterday has a curve, the rest of the week does not.
        let day = d("2024-01-10");
        let curve = flat(day.paris_midnight_ms(), day.add_days(1).paris_midnight_ms(), 30, 1000.0);
        let daily = daily_energy(&[], &curve, Series::DailyConsumption, LC);
        let t = period_totals(&daily, d("2024-01-11"), Some(&nightly), &curve);
        assert!(close(t.yesterday.cost.unwrap(), 4.4) && close(t.yesterday.kwh, 24.0));
        assert_eq!(t.this_week.cost, None);
    }
}
