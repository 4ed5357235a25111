//! What the bridge asks of a sink of meter readings.

use super::source::Pending;
use serde_json::{Map, Value};

/// The readings of one instant, merged across series: `(key, index)` pairs.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub ts: i64,
    pub values: Vec<(String, f64)>,
}

impl Row {
    /// `{ts, key: value, …}`, as reports show rows.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("ts".into(), self.ts.into());
        for (key, value) in &self.values {
            object.insert(key.clone(), (*value).into());
        }
        Value::Object(object)
    }
}

pub trait Sink {
    /// `energyid`, `ha`, `mqtt`, `jeedom`: the name in reports and cursor keys.
    fn name(&self) -> &'static str;

    /// This sink's key for a source's channel, or `None` when it does not take it.
    fn key(&self, source: &str, channel: &str) -> Option<String>;

    /// The index at the first data of a key (a meter reading the person gave).
    fn start_index(&self, _key: &str) -> f64 {
        0.0
    }

    /// Where the bridge keeps this sink's cursor of a key.
    fn cursor_key(&self, key: &str) -> String {
        format!("sync/{}/cursor/{key}", self.name())
    }

    /// Make rows durable on the sink's side (an outbox, or a peer that
    /// acknowledged them). Once this returns `Ok`, the bridge moves its cursors:
    /// the rows must not be lost after that. Queuing the same rows again must
    /// be harmless. Resolves to the number of values queued.
    fn queue<'a>(&'a self, rows: &'a [Row]) -> Pending<'a, usize>;

    /// Deliver what is queued, as far as the peer allows now; the report's
    /// fields are the sink's own.
    fn deliver<'a>(&'a self, progress: &'a dyn Fn(u32, u32)) -> Pending<'a, Map<String, Value>>;
}
