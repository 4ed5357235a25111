//! Time for every provider: calendar dates, UTC instants as text (one parser
//! and one formatter for Linky, Weheat and OpenADR), and Europe/Paris wall
//! time, which is how Enedis speaks.
//!
//! Linky needs Europe/Paris; Jeedom boxes speak their own configured zone,
//! which in practice is one of the EU-rule zones ([`Zone`]). France
//! follows the EU rule since 1996: summer time (UTC+2) from the last Sunday of
//! March 01:00 UTC to the last Sunday of October 01:00 UTC, UTC+1 otherwise.
//! Thirty lines of that rule replace a tz database in the wasm (DESIGN.md, size).
//! Meter history reaches back three years, so the rule covers every date we see.

use crate::core::calendar::{civil_from_days, days_from_civil};
use crate::core::{Error, Result};
use std::fmt;

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

/// A calendar date, stored as days since 1970-01-01 (proleptic Gregorian).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub i32);

impl Date {
    /// `None` for a month or day that does not exist.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date(days_from_civil(i64::from(year), month, day) as i32))
    }

    pub fn ymd(self) -> (i32, u32, u32) {
        let (year, month, day) = civil_from_days(i64::from(self.0));
        (year as i32, month, day)
    }

    /// `YYYY-MM-DD`, the only form Enedis and our CLI use.
    pub fn parse(text: &str) -> Option<Date> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        Date::from_ymd(digits(&b[0..4])? as i32, digits(&b[5..7])?, digits(&b[8..10])?)
    }

    pub fn add_days(self, days: i32) -> Date {
        Date(self.0 + days)
    }

    /// 0 for Monday … 6 for Sunday (French weeks start on Monday).
    pub fn weekday(self) -> u32 {
        (self.0 + 3).rem_euclid(7) as u32
    }

    pub fn first_of_month(self) -> Date {
        let (y, m, _) = self.ymd();
        Date::from_ymd(y, m, 1).unwrap_or(self)
    }

    pub fn first_of_year(self) -> Date {
        Date::from_ymd(self.ymd().0, 1, 1).unwrap_or(self)
    }

    /// The same day `months` months earlier, or the month's last day when it
    /// has no such day (31 March minus one month is 28 or 29 February).
    pub fn minus_months(self, months: u32) -> Date {
        let (y, m, d) = self.ymd();
        let index = y * 12 + m as i32 - 1 - months as i32;
        let (year, month) = (index.div_euclid(12), index.rem_euclid(12) as u32 + 1);
        Date::from_ymd(year, month, d.min(days_in_month(year, month))).unwrap_or(self)
    }

    /// `YYYY-MM`, the name of a month (history documents are kept per month).
    pub fn month_name(self) -> String {
        let (y, m, _) = self.ymd();
        format!("{y:04}-{m:02}")
    }

    /// Midnight at the start of this day in Paris, as a UTC instant. Midnight
    /// always exists in Paris (the clocks change at 02:00 and 03:00).
    pub fn paris_midnight_ms(self) -> i64 {
        Zone::PARIS.midnight_ms(self)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

// Dates are stored and exchanged as `YYYY-MM-DD`.
impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Date::parse(&text).ok_or_else(|| serde::de::Error::custom("expected a date as YYYY-MM-DD"))
    }
}

/// A fixed-width decimal field (`2023`, `04`): ASCII digits only.
fn digits(field: &[u8]) -> Option<u32> {
    field.iter().try_fold(0u32, |n, b| b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0')))
}

pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 31,
    }
}

fn last_sunday(year: i32, month: u32) -> Date {
    let last = Date::from_ymd(year, month, days_in_month(year, month)).unwrap_or(Date(0));
    last.add_days(-(((last.weekday() + 1) % 7) as i32))
}

/// Paris' offset from UTC at a UTC instant, in ms (1 h or 2 h).
pub fn paris_offset_ms(utc_ms: i64) -> i64 {
    Zone::PARIS.offset_ms(utc_ms)
}

/// A time zone that follows the EU rule (summer time from the last Sunday of
/// March 01:00 UTC to the last Sunday of October 01:00 UTC, one hour ahead of
/// its standard offset), or none (UTC). Jeedom boxes speak their configured
/// zone; every zone of the EU, the UK, Portugal, Switzerland and Norway keeps
/// this rule, so a table of names and standard offsets stands in for a tz
/// database here too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Zone {
    pub name: &'static str,
    standard_hours: i64,
    summer: bool,
}

/// `(standard offset in hours, zone names)` of the zones [`Zone::named`] knows.
const EU_ZONES: [(i64, &[&str]); 3] = [
    (0, &["Europe/London", "Europe/Dublin", "Europe/Lisbon", "Atlantic/Canary", "Atlantic/Madeira", "Atlantic/Faroe", "Europe/Guernsey", "Europe/Jersey", "Europe/Isle_of_Man"]),
    (
        1,
        &[
            "Europe/Paris", "Europe/Brussels", "Europe/Amsterdam", "Europe/Luxembourg", "Europe/Berlin", "Europe/Zurich", "Europe/Vienna",
            "Europe/Rome", "Europe/Madrid", "Europe/Monaco", "Europe/Andorra", "Europe/Copenhagen", "Europe/Oslo", "Europe/Stockholm",
            "Europe/Prague", "Europe/Bratislava", "Europe/Warsaw", "Europe/Budapest", "Europe/Ljubljana", "Europe/Zagreb",
            "Europe/Belgrade", "Europe/Malta", "Europe/Vaduz", "Europe/San_Marino", "Europe/Vatican", "Europe/Gibraltar",
            "Europe/Busingen", "Europe/Sarajevo", "Europe/Skopje", "Europe/Podgorica", "Europe/Tirane", "Africa/Ceuta", "Arctic/Longyearbyen",
        ],
    ),
    (2, &["Europe/Helsinki", "Europe/Athens", "Europe/Bucharest", "Europe/Sofia", "Europe/Riga", "Europe/Tallinn", "Europe/Vilnius", "Europe/Kyiv", "Europe/Kiev", "Europe/Mariehamn", "Asia/Nicosia", "Europe/Chisinau"]),
];

impl Zone {
    pub const PARIS: Zone = Zone { name: "Europe/Paris", standard_hours: 1, summer: true };
    pub const UTC: Zone = Zone { name: "UTC", standard_hours: 0, summer: false };

    /// The zone of an IANA name, when it is one of the EU-rule zones or UTC.
    pub fn named(name: &str) -> Option<Zone> {
        let name = name.trim();
        if ["UTC", "Etc/UTC", "GMT", "Etc/GMT", "Universal", "Zulu"].contains(&name) {
            return Some(Zone::UTC);
        }
        EU_ZONES
            .iter()
            .find_map(|(hours, names)| names.iter().find(|n| **n == name).map(|n| Zone { name: n, standard_hours: *hours, summer: true }))
    }

    /// The offset from UTC at a UTC instant, in ms.
    pub fn offset_ms(self, utc_ms: i64) -> i64 {
        let standard = self.standard_hours * HOUR_MS;
        let summer = self.summer && summer_time_utc(Date(utc_ms.div_euclid(DAY_MS) as i32).ymd().0).contains(&utc_ms);
        if summer { standard + HOUR_MS } else { standard }
    }

    /// Wall time of a UTC instant: the date and ms since local midnight.
    pub fn local(self, utc_ms: i64) -> (Date, i64) {
        let local = utc_ms + self.offset_ms(utc_ms);
        (Date(local.div_euclid(DAY_MS) as i32), local.rem_euclid(DAY_MS))
    }

    /// Midnight at the start of `date`, as a UTC instant. The EU rule changes
    /// clocks at 01:00 UTC, never at a local midnight.
    pub fn midnight_ms(self, date: Date) -> i64 {
        let local = date.0 as i64 * DAY_MS;
        // The offset at local midnight equals the one just before the UTC instant.
        local - self.offset_ms(local - self.standard_hours * HOUR_MS - HOUR_MS)
    }

    /// `YYYY-MM-DD HH:MM:SS` wall time, without an offset (Jeedom's naive
    /// datetimes): the autumn's repeated hour writes the same text twice.
    pub fn format_naive(self, utc_ms: i64) -> String {
        let (date, ms) = self.local(utc_ms);
        let secs = ms / 1000;
        format!("{date} {:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
    }
}

/// The UTC instants summer time starts and ends in `year`.
fn summer_time_utc(year: i32) -> std::ops::Range<i64> {
    last_sunday(year, 3).0 as i64 * DAY_MS + HOUR_MS..last_sunday(year, 10).0 as i64 * DAY_MS + HOUR_MS
}

/// The Paris calendar date of a UTC instant.
pub fn paris_date(utc_ms: i64) -> Date {
    Date((utc_ms + paris_offset_ms(utc_ms)).div_euclid(DAY_MS) as i32)
}

/// Paris wall time of a UTC instant: the date and ms since local midnight.
pub fn paris_local(utc_ms: i64) -> (Date, i64) {
    Zone::PARIS.local(utc_ms)
}

/// The UTC instants a Paris wall time can mean, earliest first: one normally,
/// two in the repeated hour of the autumn change, none in the skipped spring
/// hour. `ms_of_day` may be 24 h (Enedis writes the last half-hour's end as
/// the next day's 00:00, but some clients say 24:00).
pub fn paris_candidates(date: Date, ms_of_day: i64) -> Vec<i64> {
    paris_instants(date, ms_of_day).into_iter().flatten().collect()
}

/// [`paris_candidates`] without allocating (one call per half-hour read):
/// the instant in summer time, then the one in winter time, when they exist.
pub fn paris_instants(date: Date, ms_of_day: i64) -> [Option<i64>; 2] {
    let local = date.0 as i64 * DAY_MS + ms_of_day;
    // The wall time's year: both candidates fall in it or in winter time
    // around New Year, far from either change.
    let summer = summer_time_utc(date.ymd().0);
    let offset_at = |utc: i64| if summer.contains(&utc) { 2 * HOUR_MS } else { HOUR_MS };
    [2 * HOUR_MS, HOUR_MS].map(|offset| Some(local - offset).filter(|utc| offset_at(*utc) == offset))
}

/// A wall-clock time as Enedis writes it: `YYYY-MM-DD HH:MM:SS`, or with a
/// `T`, seconds optional. Returns the date and ms since midnight.
pub fn parse_local_datetime(text: &str) -> Result<(Date, i64)> {
    let bad = || Error::invalid_input(format!("'{text}' is not a date and time (YYYY-MM-DD HH:MM[:SS])"));
    let b = text.as_bytes();
    // Fixed positions: `YYYY-MM-DD`, a space or `T`, `HH:MM`, then `:SS` or nothing.
    let seconds = match b.len() {
        16 => Some(0),
        19 if b[16] == b':' => digits(&b[17..19]),
        _ => None,
    };
    if b.len() < 16 || !matches!(b[10], b' ' | b'T') || b[13] != b':' {
        return Err(bad());
    }
    let date = Date::parse(&text[..10]).ok_or_else(bad)?;
    let (hours, minutes) = (digits(&b[11..13]).filter(|h| *h <= 24), digits(&b[14..16]).filter(|m| *m <= 59));
    let (Some(hours), Some(minutes), Some(seconds)) = (hours, minutes, seconds.filter(|s| *s <= 59)) else {
        return Err(bad());
    };
    let ms = ((hours * 60 + minutes) * 60 + seconds) as i64 * 1000;
    if ms > DAY_MS {
        return Err(bad());
    }
    Ok((date, ms))
}

/// An ISO 8601 UTC instant (`2026-11-21T10:00:00Z`), for exports and messages.
pub fn format_utc(utc_ms: i64) -> String {
    let date = Date(utc_ms.div_euclid(DAY_MS) as i32);
    let ms = utc_ms.rem_euclid(DAY_MS) / 1000;
    format!("{date}T{:02}:{:02}:{:02}Z", ms / 3600, ms / 60 % 60, ms % 60)
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`: a UTC instant with its milliseconds (OpenADR).
pub fn format_utc_millis(utc_ms: i64) -> String {
    let seconds = format_utc(utc_ms);
    format!("{}.{:03}Z", &seconds[..seconds.len() - 1], utc_ms.rem_euclid(1000))
}

/// An ISO 8601 / xs:dateTime instant as unix ms: `T` or a space between date
/// and time, an optional fraction, and `Z`, `+HH:MM`, `-HH:MM` or nothing (UTC).
pub fn parse_utc(text: &str) -> Option<i64> {
    let text = text.trim();
    let bytes = text.as_bytes();
    if bytes.len() < 19 || bytes[4] != b'-' || bytes[7] != b'-' || !matches!(bytes[10], b'T' | b' ') || bytes[13] != b':' || bytes[16] != b':' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes().all(|b| b.is_ascii_digit()).then(|| part.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)? as u32, num(8..10)? as u32);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &text[19..];
    let mut millis = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        millis = format!("{:0<3}", &fraction[..digits.min(3)]).parse::<i64>().ok()?;
        rest = &fraction[digits..];
    }
    let offset_secs = match rest {
        "Z" | "" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (h, m) = rest[1..].split_once(':')?;
            let (h, m) = (h.parse::<i64>().ok()?, m.parse::<i64>().ok()?);
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
    };
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    Some(secs * 1000 + millis)
}

/// Paris wall time with its offset (`2023-10-29T02:30:00+01:00`): unambiguous
/// and still readable by a person in France.
pub fn format_paris(utc_ms: i64) -> String {
    let offset = paris_offset_ms(utc_ms);
    let (date, ms) = paris_local(utc_ms);
    let secs = ms / 1000;
    format!("{date}T{:02}:{:02}:{:02}+0{}:00", secs / 3600, secs / 60 % 60, secs % 60, offset / HOUR_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eu_zones_change_clocks_at_the_same_instant() {
        let london = Zone::named("Europe/London").unwrap();
        let helsinki = Zone::named("Europe/Helsinki").unwrap();
        // 2024-10-27 00:30 UTC: still summer time; 01:30 UTC: winter time.
        let before = parse_utc("2024-10-27T00:30:00Z").unwrap();
        let after = parse_utc("2024-10-27T01:30:00Z").unwrap();
        assert_eq!(Zone::PARIS.format_naive(before), "2024-10-27 02:30:00");
        assert_eq!(Zone::PARIS.format_naive(after), "2024-10-27 02:30:00", "the repeated hour");
        assert_eq!(london.format_naive(before), "2024-10-27 01:30:00");
        assert_eq!(london.format_naive(after), "2024-10-27 01:30:00");
        assert_eq!(helsinki.format_naive(after), "2024-10-27 03:30:00");
        assert_eq!(Zone::named("Etc/UTC").unwrap().format_naive(after), "2024-10-27 01:30:00");
        assert_eq!(Zone::named("America/New_York"), None, "not an EU-rule zone");
        for date in ["2024-03-31", "2024-10-27", "2025-01-01"] {
            let day = Date::parse(date).unwrap();
            assert_eq!(Zone::PARIS.midnight_ms(day), day.paris_midnight_ms());
            assert_eq!(london.format_naive(london.midnight_ms(day)), format!("{date} 00:00:00"));
            assert_eq!(helsinki.format_naive(helsinki.midnight_ms(day)), format!("{date} 00:00:00"));
        }
    }

    #[test]
    fn one_utc_parser_reads_every_provider_s_instants() {
        // Weheat (space or T, fraction), OpenADR (offsets, millis), exports.
        assert_eq!(parse_utc("2026-03-01T00:00:00Z"), Some(1_772_323_200_000));
        assert_eq!(parse_utc("2026-03-01 00:00:00"), Some(1_772_323_200_000));
        assert_eq!(parse_utc("2026-03-01T00:00:00.5+00:00"), Some(1_772_323_200_500));
        assert_eq!(parse_utc("2026-03-01T01:00:00+01:00"), Some(1_772_323_200_000));
        assert_eq!(parse_utc("2026-02-28T23:30:00-00:30"), Some(1_772_323_200_000));
        for bad in ["", "2026-03-01", "2026-13-01T00:00:00Z", "2026-03-01T00:00:00X", "2026-03-01T00:00:00.Z", "2026-03-01T00:00:00+99:00", "2026-03-01T0a:00:00Z"] {
            assert_eq!(parse_utc(bad), None, "{bad}");
        }
        let ms = 1_772_323_200_123;
        assert_eq!(format_utc_millis(ms), "2026-03-01T00:00:00.123Z");
        assert_eq!(parse_utc(&format_utc_millis(ms)), Some(ms));
        assert_eq!(parse_utc(&format_utc(ms)), Some(ms - 123));
    }

    fn utc(text: &str) -> i64 {
        let (date, ms) = parse_local_datetime(text).unwrap();
        date.0 as i64 * DAY_MS + ms
    }

    #[test]
    fn dates_round_trip_and_know_their_weekday() {
        for days in [-800_000, -1, 0, 1, 19_448, 20_000, 2_932_896] {
            let (y, m, d) = Date(days).ymd();
            assert_eq!(Date::from_ymd(y, m, d), Some(Date(days)));
        }
        assert_eq!(Date::parse("2023-04-01").unwrap().to_string(), "2023-04-01");
        assert_eq!(Date::parse("2023-04-01").unwrap().weekday(), 5, "a Saturday");
        assert_eq!(Date::parse("2024-02-29").unwrap().add_days(1).to_string(), "2024-03-01");
        assert_eq!(Date::parse("2023-02-29"), None);
        assert_eq!(Date::parse("2023-4-01"), None);
        assert_eq!(Date::parse("2024-03-31").unwrap().minus_months(1).to_string(), "2024-02-29");
        assert_eq!(Date::parse("2026-01-15").unwrap().minus_months(36).to_string(), "2023-01-15");
    }

    #[test]
    fn paris_switches_at_one_utc_on_the_last_sundays() {
        // 2023: summer time from 26 March to 29 October.
        assert_eq!(paris_offset_ms(utc("2023-03-26 00:59:59")), HOUR_MS);
        assert_eq!(paris_offset_ms(utc("2023-03-26 01:00:00")), 2 * HOUR_MS);
        assert_eq!(paris_offset_ms(utc("2023-10-29 00:59:59")), 2 * HOUR_MS);
        assert_eq!(paris_offset_ms(utc("2023-10-29 01:00:00")), HOUR_MS);
        assert_eq!(paris_date(utc("2023-06-30 22:30:00")).to_string(), "2023-07-01");
        assert_eq!(format_paris(utc("2023-06-30 22:30:00")), "2023-07-01T00:30:00+02:00");
    }

    #[test]
    fn wall_times_in_the_changes_are_missing_or_doubled() {
        let spring = Date::parse("2023-03-26").unwrap();
        assert_eq!(paris_candidates(spring, 2 * HOUR_MS + 30 * 60_000), Vec::<i64>::new());
        assert_eq!(paris_candidates(spring, 3 * HOUR_MS), vec![utc("2023-03-26 01:00:00")]);
        let autumn = Date::parse("2023-10-29").unwrap();
        assert_eq!(
            paris_candidates(autumn, 2 * HOUR_MS + 30 * 60_000),
            vec![utc("2023-10-29 00:30:00"), utc("2023-10-29 01:30:00")]
        );
        assert_eq!(spring.paris_midnight_ms(), utc("2023-03-25 23:00:00"));
        assert_eq!(spring.add_days(1).paris_midnight_ms(), utc("2023-03-26 22:00:00"));
        assert_eq!(autumn.add_days(1).paris_midnight_ms() - autumn.paris_midnight_ms(), 25 * HOUR_MS);
    }

    #[test]
    fn wall_times_map_back_as_the_offset_of_each_instant_says() {
        // Every quarter hour of 2022-2025 (New Years and all the changes): a
        // candidate is exactly an instant whose own offset gives that wall time.
        let first = Date::parse("2021-12-31").unwrap();
        for day in 0..(4 * 366) {
            let date = first.add_days(day);
            for quarter in 0..=96 {
                let ms = quarter * 15 * 60_000;
                let local = date.0 as i64 * DAY_MS + ms;
                let expected: Vec<i64> = [2 * HOUR_MS, HOUR_MS].iter().map(|o| local - o).filter(|u| *u + paris_offset_ms(*u) == local).collect();
                assert_eq!(paris_candidates(date, ms), expected, "{date} +{ms} ms");
            }
        }
    }

    #[test]
    fn enedis_datetimes_parse_with_space_or_t() {
        assert_eq!(parse_local_datetime("2023-04-01 00:30:00").unwrap().1, 30 * 60_000);
        assert_eq!(parse_local_datetime("2023-04-01T12:06:20").unwrap().1, (12 * 3600 + 6 * 60 + 20) * 1000);
        assert_eq!(parse_local_datetime("2023-04-01 24:00").unwrap().1, DAY_MS);
        for bad in ["2023-04-01", "2023-04-01 25:00:00", "2023-04-01x00:30:00", "2023-04-01 00:61:00", "2023-04-01 24:00:01",
            "2023-04-01 1:2:3", "2023-04-01 12:3x", "2023-04-01 12:30:6x", "2023-04-01 12:30:60", "2023-04-01 12-30", "2023-04-01 12:30:00Z",
            "2023-04-01 +1:30", "2023-04-01 12:30:", "2023-0é-01 12:30", "2023-04-01 12:30:0é"] {
            assert!(parse_local_datetime(bad).is_err(), "{bad}");
        }
        assert_eq!(format_utc(utc("2023-04-01 00:30:00")), "2023-04-01T00:30:00Z");
    }
}
