//! Equipments and commands as Jeedom hands them back: ids and flags as
//! strings (`"id":"12"`, `"isEnable":"0"`), unknown fields ignored.

use serde_json::{Map, Value};

/// A field as text, whether Jeedom sent a string or a number.
pub fn text(object: &Value, field: &str) -> Option<String> {
    match object.get(field)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "1".into() } else { "0".into() }),
        _ => None,
    }
}

/// An equipment (eqLogic).
#[derive(Clone, Debug, PartialEq)]
pub struct EqLogic {
    pub id: String,
    pub name: String,
    pub logical_id: String,
    pub enabled: bool,
    pub visible: bool,
}

impl EqLogic {
    pub fn read(value: &Value) -> Option<EqLogic> {
        Some(EqLogic {
            id: text(value, "id").filter(|id| !id.is_empty())?,
            name: text(value, "name").unwrap_or_default(),
            logical_id: text(value, "logicalId").unwrap_or_default(),
            enabled: text(value, "isEnable").as_deref() == Some("1"),
            visible: text(value, "isVisible").as_deref() == Some("1"),
        })
    }
}

/// An info command's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubType {
    Numeric,
    String,
}

impl SubType {
    pub fn as_str(self) -> &'static str {
        match self {
            SubType::Numeric => "numeric",
            SubType::String => "string",
        }
    }
}

/// An info command wattbridge keeps on an equipment, found again by `logical_id`.
#[derive(Clone, Debug, PartialEq)]
pub struct CmdSpec {
    pub logical_id: String,
    pub name: String,
    pub sub_type: SubType,
    /// Jeedom's `unite` (the docs' `unit` is ignored).
    pub unit: &'static str,
    pub generic_type: &'static str,
    /// Keep every point through Jeedom's nightly archive (a half-hour curve
    /// would otherwise become hourly averages).
    pub keep_every_point: bool,
    /// `historizeRound`: the decimals Jeedom keeps. Its archive rounds to 2
    /// without one (contract §7), so kWh to the Wh need 3.
    pub decimals: Option<u8>,
}

impl CmdSpec {
    /// `cmd::save`'s params to create it on an equipment: historized, with
    /// its unit and generic type.
    pub fn save_params(&self, eq_logic_id: &str) -> Map<String, Value> {
        let mut params = Map::new();
        params.insert("eqType_name".into(), "virtual".into());
        params.insert("eqLogic_id".into(), eq_logic_id.into());
        params.insert("name".into(), self.name.clone().into());
        params.insert("logicalId".into(), self.logical_id.clone().into());
        params.insert("type".into(), "info".into());
        params.insert("subType".into(), self.sub_type.as_str().into());
        params.insert("unite".into(), self.unit.into());
        params.insert("isHistorized".into(), "1".into());
        params.insert("isVisible".into(), "1".into());
        params.insert("generic_type".into(), self.generic_type.into());
        let configuration = self.configuration();
        if !configuration.is_empty() {
            params.insert("configuration".into(), Value::Object(configuration));
        }
        params
    }

    /// The configuration keys it needs: how Jeedom's archive treats its history.
    pub fn configuration(&self) -> Map<String, Value> {
        let mut configuration = Map::new();
        if self.keep_every_point {
            configuration.insert("historizeMode".into(), "none".into());
        }
        if let Some(decimals) = self.decimals {
            configuration.insert("historizeRound".into(), decimals.to_string().into());
        }
        configuration
    }

    /// `cmd::save`'s params to bring a command found on the box back to what
    /// its values need, or none when it has it: historized again, and the
    /// configuration keys it lacks (one set to another value is the person's
    /// choice and stays).
    pub fn repair_params(&self, found: &Cmd) -> Option<Map<String, Value>> {
        let missing: Map<String, Value> = self.configuration().into_iter().filter(|(key, _)| text(&found.configuration, key).map_or(true, |v| v.is_empty())).collect();
        if found.historized && missing.is_empty() {
            return None;
        }
        let mut params = Map::new();
        params.insert("id".into(), found.id.clone().into());
        params.insert("isHistorized".into(), "1".into());
        if !missing.is_empty() {
            params.insert("configuration".into(), Value::Object(missing));
        }
        Some(params)
    }
}

/// A command as `cmd::byEqLogicId` lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct Cmd {
    pub id: String,
    pub logical_id: String,
    pub historized: bool,
    /// Its `configuration` object (Null when it has none).
    pub configuration: Value,
}

impl Cmd {
    pub fn read(value: &Value) -> Option<Cmd> {
        Some(Cmd {
            id: text(value, "id").filter(|id| !id.is_empty())?,
            logical_id: text(value, "logicalId").unwrap_or_default(),
            historized: text(value, "isHistorized").as_deref() == Some("1"),
            configuration: value.get("configuration").cloned().unwrap_or(Value::Null),
        })
    }
}
