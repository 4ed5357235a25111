//! The calls a pusher needs (contract §2), over the HTTP seam.

use super::api;
use super::model::{text, Cmd, CmdSpec, EqLogic};
use super::PROVIDER;
use crate::core::{Error, ErrorCode, HttpClient, Result, Secret};
use serde_json::{Map, Value};
use std::cell::Cell;

pub struct Jeedom<H> {
    http: H,
    url: String,
    key: Secret,
    next_id: Cell<u64>,
    calls: Cell<u32>,
}

fn params(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

impl<H: HttpClient> Jeedom<H> {
    /// `base`: `jeedom.url` (e.g. `https://jeedom.local`, maybe ending in `/jeedom`).
    pub fn new(base: &str, key: Secret, http: H) -> Result<Self> {
        if key.is_empty() {
            return Err(Error::invalid_config("Jeedom needs its API key (Settings → System → Configuration → API): set WATTBRIDGE_JEEDOM_API_KEY or run `wattbridge config init`").provider(PROVIDER));
        }
        Ok(Jeedom { http, url: api::endpoint(base)?, key, next_id: Cell::new(1), calls: Cell::new(0) })
    }

    /// Requests sent, for reports.
    pub fn calls(&self) -> u32 {
        self.calls.get()
    }

    pub async fn call(&self, method: &str, params: Map<String, Value>) -> Result<Value> {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        self.calls.set(self.calls.get() + 1);
        let response = self.http.send(api::request(&self.url, id, method, params, &self.key)).await.map_err(|e| {
            if e.code == ErrorCode::Network {
                Error::new(ErrorCode::Network, format!("Jeedom cannot be reached ({}): is it running, and is jeedom.url right?", e.message)).provider(PROVIDER)
            } else {
                e.provider(PROVIDER)
            }
        })?;
        api::read_answer(&self.url, method, &response)
    }

    /// Jeedom's configured time zone (`config::byKey timezone`), if set.
    pub async fn timezone(&self) -> Result<Option<String>> {
        let value = self.call("config::byKey", params(&[("key", "timezone".into())])).await?;
        Ok(value.as_str().map(str::trim).filter(|z| !z.is_empty() && *z != "ok").map(str::to_owned))
    }

    /// The id of the object (room) named `name`, or whose id it is.
    pub async fn object_id(&self, name: &str) -> Result<String> {
        let objects = self.call("jeeObject::all", Map::new()).await?;
        let list = objects.as_array().cloned().unwrap_or_default();
        let found = list.iter().find(|o| text(o, "id").as_deref() == Some(name)).or_else(|| list.iter().find(|o| text(o, "name").is_some_and(|n| n.eq_ignore_ascii_case(name))));
        found.and_then(|o| text(o, "id")).ok_or_else(|| {
            let names: Vec<String> = list.iter().filter_map(|o| text(o, "name")).collect();
            Error::invalid_config(format!("jeedom.object: Jeedom has no object (room) named '{name}'; it has: {}", names.join(", "))).provider(PROVIDER)
        })
    }

    /// The virtual equipment whose logicalId is `logical_id` (the API has no
    /// lookup by logicalId: list, then filter; disabled ones included).
    pub async fn find_equipment(&self, logical_id: &str) -> Result<Option<EqLogic>> {
        let all = self.call("eqLogic::byType", params(&[("type", "virtual".into())])).await?;
        Ok(all.as_array().into_iter().flatten().filter_map(EqLogic::read).find(|e| e.logical_id == logical_id))
    }

    /// Create a virtual equipment, enabled and visible (Jeedom's defaults are
    /// 0, and events on a disabled one are dropped), or enable one that was
    /// found disabled (`id`). Never with `cmd[]`: that deletes every other command.
    pub async fn save_equipment(&self, id: Option<&str>, name: &str, logical_id: &str, object_id: Option<&str>) -> Result<EqLogic> {
        let mut fields = params(&[("eqType_name", "virtual".into()), ("isEnable", "1".into())]);
        match id {
            Some(id) => {
                fields.insert("id".into(), id.into());
            }
            None => {
                fields.insert("name".into(), name.into());
                fields.insert("logicalId".into(), logical_id.into());
                fields.insert("isVisible".into(), "1".into());
                fields.insert("category".into(), serde_json::json!({ "energy": "1" }));
                if let Some(object) = object_id {
                    fields.insert("object_id".into(), object.into());
                }
            }
        }
        let saved = self.call("eqLogic::save", fields).await?;
        EqLogic::read(&saved).ok_or_else(|| Error::new(ErrorCode::BadResponse, "Jeedom's answer to eqLogic::save has no id").provider(PROVIDER))
    }

    /// The commands of an equipment (an empty list comes back as "ok").
    pub async fn cmds(&self, eq_logic_id: &str) -> Result<Vec<Cmd>> {
        let all = self.call("cmd::byEqLogicId", params(&[("eqLogic_id", eq_logic_id.into())])).await?;
        Ok(all.as_array().into_iter().flatten().filter_map(Cmd::read).collect())
    }

    /// Update a command (`cmd::save` with its `id`); the other fields stay,
    /// and `configuration` merges key by key.
    pub async fn update_cmd(&self, fields: Map<String, Value>) -> Result<()> {
        self.call("cmd::save", fields).await.map(|_| ())
    }

    /// Create an info command (`cmd::save`, one command, the others untouched); its id.
    pub async fn save_cmd(&self, eq_logic_id: &str, spec: &CmdSpec) -> Result<String> {
        let saved = self.call("cmd::save", spec.save_params(eq_logic_id)).await?;
        text(&saved, "id").ok_or_else(|| Error::new(ErrorCode::BadResponse, "Jeedom's answer to cmd::save has no id").provider(PROVIDER))
    }

    /// `cmd::event`: the value becomes the command's current value and, the
    /// command being historized, a history row at `datetime` (Jeedom's local
    /// `YYYY-MM-DD HH:MM:SS`; now without one) that replaces any row there.
    pub async fn event(&self, cmd_id: &str, value: Value, datetime: Option<&str>) -> Result<()> {
        let mut fields = params(&[("id", cmd_id.into()), ("value", value)]);
        if let Some(datetime) = datetime {
            fields.insert("datetime".into(), datetime.into());
        }
        self.call("cmd::event", fields).await.map(|_| ())
    }
}
