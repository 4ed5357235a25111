//! What the bridge asks of a sink of meter readings.

use super::index::Cursor;
use super::source::Pending;
use crate::core::IntervalEnergy;
use serde_json::{Map, Value};

/// The readings of one instant, merged across series: `(key, index)` pairs.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub ts: i64,
    pub values: Vec<(String, f64)>,
    /// For each value that closes an interval, `(key, start)`: the interval
    /// `[start, ts)` it adds. A value without one opens a series; a `start`
    /// later than the key's previous reading leaves a hole in between. Sinks
    /// of interval data (Home Assistant's hourly rows) need it; meter-reading
    /// sinks ignore it.
    pub starts: Vec<(String, i64)>,
}

impl Row {
    /// The interval `[start, ts)` this row's reading of `key` closes, and its
    /// energy: the rise of the index since `before` (the key's previous
    /// reading, never negative). `before` becomes this reading. None for a
    /// reading that opens a series.
    pub fn closed(&self, key: &str, value: f64, before: &mut Option<f64>) -> Option<(i64, f64)> {
        let start = self.starts.iter().find(|(k, _)| k == key).map(|(_, s)| *s);
        let closed = start.zip(*before).map(|(start, before)| (start, (value - before).max(0.0)));
        *before = Some(value);
        closed
    }

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

/// `<source>_<channel>` for the four energy channels (Linky's consumption and
/// production, the pump's heat and electricity): the channels sinks that
/// name a meter or pump in their keys (Home Assistant, Jeedom) take.
pub fn energy_key(source: &str, channel: &str) -> Option<String> {
    matches!((source, channel), ("linky", "consumption" | "production") | ("weheat", "heat" | "electricity")).then(|| format!("{source}_{channel}"))
}

/// The stored intervals of the lane being resumed that start in `[from, to)`.
pub type SourceData<'a> = &'a dyn Fn(i64, i64) -> Pending<'a, Vec<IntervalEnergy>>;

pub trait Sink {
    /// `energyid`, `ha`, `mqtt`, `jeedom`: the name in reports and cursor keys.
    fn name(&self) -> &'static str;

    /// This sink's key for a source's channel, or `None` when it does not take it.
    fn key(&self, source: &str, channel: &str) -> Option<String>;

    /// The index at the first data of a key (a meter reading the person gave).
    fn start_index(&self, _key: &str) -> f64 {
        0.0
    }

    /// This sink's key for a source's channel, once the source knows what
    /// its data are of (`subject`: a meter's PRM, a pump's id), for sinks whose
    /// keys name it. Default: [`Sink::key`].
    fn subject_key(&self, source: &str, _subject: Option<&str>, channel: &str) -> Option<String> {
        self.key(source, channel)
    }

    /// Reach the peer before any source is fetched (Home Assistant
    /// authenticates here). A refused token or a peer that is down then costs
    /// no source request, and a peer that drops a connection left waiting
    /// (HA closes one that has not authenticated within 10 s) is not kept
    /// waiting while the sources are fetched. Default: nothing to do.
    fn connect(&self) -> Pending<'_, ()> {
        Box::pin(async { Ok(()) })
    }

    /// Where to stream a key from, given the bridge's stored cursor and where
    /// the source's data begin and end (unix seconds). `None` streams from the
    /// first data. Default: the stored cursor. A sink whose peer knows what it
    /// holds answers from the peer, and may move back (a correction window, a
    /// hole to refill): the rows from there come again.
    ///
    /// `source` reads the lane's stored intervals in `[from, to)`: a sink can
    /// see whether a hole it left has data now.
    fn resume<'a>(&'a self, _key: &'a str, stored: Option<Cursor>, _span: (i64, i64), _source: SourceData<'a>) -> Pending<'a, Option<Cursor>> {
        Box::pin(async move { Ok(stored) })
    }

    /// Ranges (unix seconds) of a key this sink left empty because the source
    /// had no data there, that the source should ask its service for again.
    /// The bridge asks only when the source just got something new from its
    /// service (a new day published): a rerun costs no request. Default: none.
    fn holes<'a>(&'a self, _key: &'a str) -> Pending<'a, Vec<(i64, i64)>> {
        Box::pin(async { Ok(Vec::new()) })
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
