//! What a person wants from the numbers: electricity used, heat delivered,
//! COP, compressor %, and a name for the state code (contract §2, as Home
//! Assistant shows them).

use super::model::{number, Log, E_IN, E_OUT};
use serde::Serialize;
use serde_json::{Map, Value};

/// Read `totalEIn` + `Heating` from a bucket, flat (`totalEInHeating`) or
/// nested (`totalEIn: {heating}`), whichever this server version sends.
pub fn part(bucket: &Map<String, Value>, group: &str, name: &str) -> Option<f64> {
    number(bucket, &format!("{group}{name}")).or_else(|| {
        let nested = bucket.get(group)?.as_object()?;
        nested.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).and_then(|(_, v)| v.as_f64())
    })
}

/// Energy of a bucket or of totals, in kWh.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Energy {
    /// Sum of the six electricity inputs; none when one is missing.
    pub electricity_kwh: Option<f64>,
    /// Heating + DHW + both defrosts (≤ 0) − cooling (≤ 0), as the API gives them.
    pub heat_kwh: Option<f64>,
    pub cop: Option<f64>,
}

impl Energy {
    pub fn of(bucket: &Map<String, Value>) -> Energy {
        let sum = |group: &str, names: &[&str]| names.iter().map(|n| part(bucket, group, n)).sum::<Option<f64>>();
        let electricity = sum("totalEIn", &E_IN);
        let heat = (|| {
            let out = |n: &str| part(bucket, "totalEOut", n);
            Some(out(E_OUT[0])? + out(E_OUT[1])? + out(E_OUT[2])? + out(E_OUT[3])? - out(E_OUT[4])?)
        })();
        Energy { electricity_kwh: electricity, heat_kwh: heat, cop: cop(heat, electricity) }
    }

    /// Sum of several buckets: COP over the whole range, from the sums.
    pub fn total<'a>(items: impl IntoIterator<Item = &'a Energy>) -> Energy {
        let (mut electricity, mut heat) = (Some(0.0), Some(0.0));
        for item in items {
            electricity = electricity.zip(item.electricity_kwh).map(|(a, b)| a + b);
            heat = heat.zip(item.heat_kwh).map(|(a, b)| a + b);
        }
        Energy { electricity_kwh: electricity, heat_kwh: heat, cop: cop(heat, electricity) }
    }
}

/// Heat out over electricity in; none when the input is not positive or a value is missing.
pub fn cop(heat: Option<f64>, electricity: Option<f64>) -> Option<f64> {
    match (heat, electricity) {
        (Some(heat), Some(electricity)) if electricity > 0.0 => Some(heat / electricity),
        _ => None,
    }
}

/// Energy from the power fields of raw logs (`cmMassPowerIn/Out`, W), each
/// held for its log's `interval` (seconds; else the gap to the next log, else
/// 60 s). Weheat stopped sending these fields to third-party clients in March
/// 2026: `None` then, and callers use the energy logs instead.
pub fn energy_from_power(logs: &[Log]) -> Option<Energy> {
    let readings: Vec<PowerReading> = logs
        .iter()
        .map(|log| PowerReading {
            ts: timestamp_secs(log),
            power_in: number(log, "cmMassPowerIn"),
            power_out: number(log, "cmMassPowerOut"),
            secs: number(log, "interval").filter(|s| *s > 0.0),
        })
        .collect();
    power_to_kwh(&readings)
}

/// One power reading (W) at `ts`, held for `secs` when the source says so.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PowerReading {
    pub ts: Option<i64>,
    pub power_in: Option<f64>,
    pub power_out: Option<f64>,
    pub secs: Option<f64>,
}

/// kWh in and out from power readings: each held for its own `secs`, else
/// until the next reading, else 60 s. Readings without both powers count for
/// nothing; `None` when none has them.
pub fn power_to_kwh(readings: &[PowerReading]) -> Option<Energy> {
    let (mut wh_in, mut wh_out, mut seen) = (0.0, 0.0, false);
    for (i, reading) in readings.iter().enumerate() {
        let (Some(p_in), Some(p_out)) = (reading.power_in, reading.power_out) else { continue };
        let gap = || Some(readings.get(i + 1)?.ts? - reading.ts?);
        let secs = reading.secs.or_else(|| gap().map(|g| g as f64)).unwrap_or(60.0);
        wh_in += p_in * secs / 3600.0;
        wh_out += p_out * secs / 3600.0;
        seen = true;
    }
    seen.then(|| {
        let (electricity, heat) = (Some(wh_in / 1000.0), Some(wh_out / 1000.0));
        Energy { electricity_kwh: electricity, heat_kwh: heat, cop: cop(heat, electricity) }
    })
}

/// The power states of an aggregated log: its per-state average powers
/// (`cmMassPowerIn<State>Average`) and the state counts that say how long
/// each lasted (`heatPumpState<…>`; legionella runs on the hot-water power).
const POWER_STATES: [(&str, &[&str]); 6] = [
    ("Standby", &["heatPumpStateStandby"]),
    ("Heating", &["heatPumpStateHeating"]),
    ("Cooling", &["heatPumpStateCooling"]),
    ("Dhw", &["heatPumpStateDhw", "heatPumpStateLegionella"]),
    ("HeatingDefrost", &["heatPumpStateHeatingDefrost"]),
    ("DhwDefrost", &["heatPumpStateDhwDefrost"]),
];

/// Energy of an aggregated log interval from its averages: average power ×
/// `timeCoveredInInterval` (seconds), either from overall averages
/// (`cmMassPowerIn/OutAverage`) or per power state, each state's share of the
/// covered time taken from its count. `None` when the interval carries no
/// averages, or a state that lasted has none (nothing is guessed).
pub fn energy_from_averages(log: &Log) -> Option<Energy> {
    let covered = number(log, "timeCoveredInInterval").filter(|s| *s > 0.0)?;
    let (wh_in, wh_out) = match (number(log, "cmMassPowerInAverage"), number(log, "cmMassPowerOutAverage")) {
        (Some(p_in), Some(p_out)) => (p_in * covered / 3600.0, p_out * covered / 3600.0),
        _ => {
            let counts: Vec<f64> = POWER_STATES.iter().map(|(_, fields)| fields.iter().filter_map(|f| number(log, f)).sum()).collect();
            let all: f64 = log.iter().filter(|(k, _)| k.starts_with("heatPumpState")).filter_map(|(_, v)| v.as_f64()).sum();
            if all <= 0.0 {
                return None;
            }
            let (mut wh_in, mut wh_out) = (0.0, 0.0);
            for ((state, _), count) in POWER_STATES.iter().zip(counts) {
                if count <= 0.0 {
                    continue;
                }
                let secs = covered * count / all;
                wh_in += number(log, &format!("cmMassPowerIn{state}Average"))? * secs / 3600.0;
                wh_out += number(log, &format!("cmMassPowerOut{state}Average"))? * secs / 3600.0;
            }
            // A state with time but no power statistics (manual control, say): no answer rather than a wrong one.
            if counts_without_power(log, all) {
                return None;
            }
            (wh_in, wh_out)
        }
    };
    let (electricity, heat) = (Some(wh_in / 1000.0), Some(wh_out / 1000.0));
    Some(Energy { electricity_kwh: electricity, heat_kwh: heat, cop: cop(heat, electricity) })
}

/// Whether some of the interval's state time belongs to no power state.
fn counts_without_power(log: &Log, all: f64) -> bool {
    let known: f64 = POWER_STATES.iter().flat_map(|(_, fields)| fields.iter()).filter_map(|f| number(log, f)).sum();
    known < all
}

/// Energy of logs you already have: raw logs from their power fields
/// ([`energy_from_power`]), aggregated ones from their averages
/// ([`energy_from_averages`], summed over the intervals).
pub fn energy_of_logs(logs: &[Log]) -> Option<Energy> {
    if logs.iter().any(|log| log.contains_key("timeCoveredInInterval")) {
        let each: Option<Vec<Energy>> = logs.iter().map(energy_from_averages).collect();
        return each.map(|e| Energy::total(&e));
    }
    energy_from_power(logs)
}

/// A log's `timestamp` (ISO 8601 UTC) in unix seconds.
pub fn timestamp_secs(log: &Log) -> Option<i64> {
    parse_utc(log.get("timestamp")?.as_str()?)
}

/// A Weheat time (`2026-03-01T00:00:00Z`, a space or a fraction allowed) as unix seconds.
pub fn parse_utc(text: &str) -> Option<i64> {
    crate::core::time::parse_utc(text).map(|ms| ms.div_euclid(1000))
}

/// Unix seconds as `2026-03-01T00:00:00Z`, the form the API takes.
pub fn format_utc(secs: i64) -> String {
    crate::core::time::format_utc(secs * 1000)
}

/// The state code as a word (contract §2).
/// Every name [`state_name`] gives, for lists of choices (an MQTT `enum` sensor).
pub const STATE_NAMES: [&str; 10] = [
    "offline",
    "standby",
    "heating",
    "cooling",
    "hot water",
    "legionella prevention",
    "self test",
    "manual control",
    "defrosting",
    "unknown",
];

pub fn state_name(code: i64) -> &'static str {
    match code {
        1 => "offline",
        40 => "standby",
        70 => "heating",
        130..=139 => "cooling",
        150 => "hot water",
        160 => "legionella prevention",
        170 => "self test",
        180 => "manual control",
        200..=240 => "defrosting",
        _ => "unknown",
    }
}

/// Compressor speed as a percentage of the model's nominal speed.
pub fn compressor_percent(log: &Log, nominal_rpm: Option<f64>) -> Option<f64> {
    Some(number(log, "rpm")? * 100.0 / nominal_rpm?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_state_name_is_listed() {
        for code in -5..300 {
            assert!(STATE_NAMES.contains(&state_name(code)), "{code}");
        }
    }

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn cop_of_a_bucket_by_hand() {
        // In: 3 + 0.1 + 1 + 0.2 + 0.05 + 0 = 4.35 kWh. Out: 12 + 3 − 0.4 − 0.1 − 0 = 14.5 kWh.
        let bucket = object(json!({
            "totalEInHeating": 3.0, "totalEInStandby": 0.1, "totalEInDhw": 1.0, "totalEInHeatingDefrost": 0.2,
            "totalEInDhwDefrost": 0.05, "totalEInCooling": 0.0,
            "totalEOutHeating": 12.0, "totalEOutDhw": 3.0, "totalEOutHeatingDefrost": -0.4, "totalEOutDhwDefrost": -0.1,
            "totalEOutCooling": 0.0, "unknownNewField": "ignored"
        }));
        let e = Energy::of(&bucket);
        assert!((e.electricity_kwh.unwrap() - 4.35).abs() < 1e-9);
        assert!((e.heat_kwh.unwrap() - 14.5).abs() < 1e-9);
        assert!((e.cop.unwrap() - 14.5 / 4.35).abs() < 1e-9);
        // The nested form reads the same.
        let nested = object(json!({"totalEIn": {"heating": 2.0, "standby": 0.0, "dhw": 0.0, "heatingDefrost": 0.0, "dhwDefrost": 0.0, "cooling": 0.0},
            "totalEOut": {"heating": 7.0, "dhw": 0.0, "heatingDefrost": 0.0, "dhwDefrost": 0.0, "cooling": 0.0}}));
        assert_eq!(Energy::of(&nested).cop, Some(3.5));
    }

    #[test]
    fn cop_is_none_without_input_or_with_a_missing_value() {
        let idle = object(json!({"totalEInHeating": 0.0, "totalEInStandby": 0.0, "totalEInDhw": 0.0, "totalEInHeatingDefrost": 0.0, "totalEInDhwDefrost": 0.0, "totalEInCooling": 0.0,
            "totalEOutHeating": 0.0, "totalEOutDhw": 0.0, "totalEOutHeatingDefrost": 0.0, "totalEOutDhwDefrost": 0.0, "totalEOutCooling": 0.0}));
        assert_eq!(Energy::of(&idle).cop, None);
        assert_eq!(Energy::of(&object(json!({"totalEInHeating": 1.0}))).cop, None);
        let range = Energy::total(&[
            Energy { electricity_kwh: Some(2.0), heat_kwh: Some(8.0), cop: Some(4.0) },
            Energy { electricity_kwh: Some(1.0), heat_kwh: Some(2.0), cop: Some(2.0) },
        ]);
        assert_eq!(range.cop, Some(10.0 / 3.0), "COP of a range is from the sums, not an average of COPs");
    }

    #[test]
    fn power_is_integrated_over_each_log_interval() {
        let logs: Vec<Log> = vec![
            object(json!({"timestamp": "2026-03-01T00:00:00Z", "interval": 60, "cmMassPowerIn": 1200.0, "cmMassPowerOut": 4800.0})),
            object(json!({"timestamp": "2026-03-01T00:01:00Z", "cmMassPowerIn": 600.0, "cmMassPowerOut": 1800.0})),
            object(json!({"timestamp": "2026-03-01T00:03:00Z", "cmMassPowerIn": 0.0, "cmMassPowerOut": 0.0})),
        ];
        // 1200 W × 60 s + 600 W × 120 s (gap to the next log) = 20 + 20 = 40 Wh in; 80 + 60 = 140 Wh out.
        let e = energy_from_power(&logs).unwrap();
        assert!((e.electricity_kwh.unwrap() - 0.040).abs() < 1e-12);
        assert!((e.heat_kwh.unwrap() - 0.140).abs() < 1e-12);
        assert_eq!(energy_from_power(&[object(json!({"timestamp": "2026-03-01T00:00:00Z", "rpm": 3000}))]), None);
    }

    #[test]
    fn times_states_and_compressor() {
        assert_eq!(parse_utc("2026-03-01T00:00:00Z"), Some(1_772_323_200));
        assert_eq!(parse_utc("2026-03-01T00:00:00.123Z"), Some(1_772_323_200));
        assert_eq!(format_utc(1_772_323_200), "2026-03-01T00:00:00Z");
        assert_eq!(parse_utc("2026-13-01T00:00:00Z"), None);
        assert_eq!(parse_utc("yesterday"), None);
        assert_eq!((state_name(70), state_name(135), state_name(210), state_name(999)), ("heating", "cooling", "defrosting", "unknown"));
        let log = object(json!({"rpm": 2250.0}));
        assert_eq!(compressor_percent(&log, Some(4500.0)), Some(50.0));
    }
}
