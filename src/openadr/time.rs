//! RFC 5545 durations (`PT10M`) as OpenADR writes them. Its date-times
//! (`2026-11-22T00:49:04.221Z`) are core's `format_utc_millis` / `parse_utc`.


/// An RFC 5545 duration in seconds: `[+-]P[nW]` or `[+-]P[nD][T[nH][nM][nS]]`.
pub fn parse_duration(text: &str) -> Option<i64> {
    let text = text.trim();
    let (sign, rest) = match text.as_bytes().first()? {
        b'-' => (-1, &text[1..]),
        b'+' => (1, &text[1..]),
        _ => (1, text),
    };
    let mut rest = rest.strip_prefix('P')?;
    let mut total: i64 = 0;
    let mut in_time = false;
    let mut any = false;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('T') {
            in_time = true;
            rest = after;
            continue;
        }
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 12 {
            return None;
        }
        let value: i64 = rest[..digits].parse().ok()?;
        let unit = match (rest.as_bytes().get(digits)?, in_time) {
            (b'W', false) => 604_800,
            (b'D', false) => 86_400,
            (b'H', true) => 3600,
            (b'M', true) => 60,
            (b'S', true) => 1,
            _ => return None,
        };
        total = total.checked_add(value.checked_mul(unit)?)?;
        any = true;
        rest = &rest[digits + 1..];
    }
    any.then_some(sign * total)
}

/// Seconds as an RFC 5545 duration, the way OpenLEADR writes them (`PT10S`, `PT1H30M`, `P1D`).
pub fn format_duration(secs: i64) -> String {
    let sign = if secs < 0 { "-" } else { "" };
    let secs = secs.abs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let mut out = format!("{sign}P");
    if days > 0 {
        out += &format!("{days}D");
    }
    if rest > 0 || days == 0 {
        out.push('T');
        let (h, m, s) = (rest / 3600, rest / 60 % 60, rest % 60);
        if h > 0 {
            out += &format!("{h}H");
        }
        if m > 0 {
            out += &format!("{m}M");
        }
        if s > 0 || rest == 0 {
            out += &format!("{s}S");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::time::{format_utc_millis, parse_utc};

    #[test]
    fn openadr_datetimes_round_trip_in_utc() {
        let ms = parse_utc("2026-11-22T00:49:04.221657Z").unwrap();
        assert_eq!(format_utc_millis(ms), "2026-11-22T00:49:04.221Z");
        assert_eq!(parse_utc("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_utc("2024-02-29T12:00:00+01:00"), parse_utc("2024-02-29T11:00:00Z"));
        assert_eq!(format_utc_millis(parse_utc("2000-03-01T23:59:59.5Z").unwrap()), "2000-03-01T23:59:59.500Z");
        for bad in ["", "2026-13-01T00:00:00Z", "2026-11-22T00:49:04.Z", "x026-11-22T00:49:04Z"] {
            assert_eq!(parse_utc(bad), None, "{bad}");
        }
    }

    #[test]
    fn durations_follow_rfc_5545() {
        for (text, secs) in [("PT10S", 10), ("PT10M", 600), ("PT1H30M", 5400), ("P1D", 86_400), ("P1W", 604_800), ("-PT5M", -300), ("P1DT1S", 86_401)] {
            assert_eq!(parse_duration(text), Some(secs), "{text}");
        }
        for bad in ["", "P", "PT", "10S", "PT10", "P1H", "PT1D", "PT99999999999999S"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        for secs in [0, 10, 600, 5400, 86_400, 90_061] {
            assert_eq!(parse_duration(&format_duration(secs)), Some(secs));
        }
        assert_eq!(format_duration(600), "PT10M");
        assert_eq!(format_duration(0), "PT0S");
    }
}
