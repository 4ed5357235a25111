//! What Home Assistant keeps of a statistic, and the metadata it takes.

use serde::Serialize;

/// The `source` of every statistic wattbridge imports (`wattbridge:<object>`).
pub const SOURCE: &str = "wattbridge";

/// One hourly row: `start` a whole UTC hour (unix seconds); `state` the amount
/// of that hour, `sum` the running total up to its end.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct StatRow {
    pub start: i64,
    pub state: f64,
    pub sum: f64,
}

/// An external statistic: its id, name and unit.
#[derive(Clone, Debug, PartialEq)]
pub struct Statistic {
    /// `wattbridge:linky_<prm>_consumption`.
    pub id: String,
    pub name: String,
    /// `kWh`, or a currency (`EUR`).
    pub unit: String,
    /// `energy` for kWh, `None` for money.
    pub unit_class: Option<&'static str>,
}

/// Which `metadata` keys this Home Assistant accepts: releases up to 2025.10
/// take exactly the six old keys and refuse `mean_type`/`unit_class`; 2025.11
/// and later want those two (contract §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Schema {
    /// `has_mean`, `has_sum`, `name`, `source`, `statistic_id`, `unit_of_measurement`.
    Old,
    /// The same without `has_mean`, plus `mean_type` and `unit_class`.
    New,
}

impl Schema {
    /// From `ha_version` (`2024.3.3`, `2025.11.0b1`, `2026.1.0.dev0`). A
    /// version that does not read as `YEAR.MONTH` is a release to come: new.
    pub fn of_version(version: &str) -> Schema {
        let mut parts = version.split('.');
        let number = |part: Option<&str>| -> Option<u32> {
            let digits: String = part?.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        };
        match (number(parts.next()), number(parts.next())) {
            (Some(year), Some(month)) if (year, month) < (2025, 11) => Schema::Old,
            _ => Schema::New,
        }
    }
}

/// The object part of a statistic id: lowercase letters, digits and single
/// underscores, neither first nor last (HA's `valid_statistic_id`). A pump's
/// UUID `AB-12` becomes `ab_12`.
pub fn object_id(parts: &[&str]) -> String {
    let mut out = String::new();
    for c in parts.join("_").chars().flat_map(char::to_lowercase) {
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() { c } else { '_' };
        if c == '_' && (out.is_empty() || out.ends_with('_')) {
            continue;
        }
        out.push(c);
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_follows_the_release() {
        assert_eq!(Schema::of_version("2024.3.3"), Schema::Old);
        assert_eq!(Schema::of_version("2025.10.4"), Schema::Old);
        assert_eq!(Schema::of_version("2025.11.0"), Schema::New);
        assert_eq!(Schema::of_version("2025.12.0b3"), Schema::New);
        assert_eq!(Schema::of_version("2026.11.0"), Schema::New);
        assert_eq!(Schema::of_version("dev"), Schema::New);
    }

    #[test]
    fn object_ids_are_what_home_assistant_accepts() {
        assert_eq!(object_id(&["linky", "11111111111111", "consumption"]), "linky_11111111111111_consumption");
        assert_eq!(object_id(&["weheat", "A1B2-C3__d4-", "heat"]), "weheat_a1b2_c3_d4_heat");
        assert_eq!(object_id(&["_x", "", "y_"]), "x_y");
    }
}
