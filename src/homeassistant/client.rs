//! The exchange with Home Assistant over a WebSocket the platform opened:
//! authentication, numbered commands, and the three recorder commands the
//! statistics sink needs.

use super::api::{self, Frame, ROWS_PER_MESSAGE};
use super::model::{Schema, StatRow, Statistic};
use crate::core::{Result, Secret, WebSocket};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

/// Frames that are not the awaited answer (events, pongs) read before giving
/// up on it: a peer that never answers must not hold a run forever (the JS
/// transport also times out a silent socket).
const MAX_OTHER_FRAMES: usize = 10_000;

pub struct Connection<W> {
    socket: W,
    token: Secret,
    /// The release once authenticated.
    version: RefCell<Option<String>>,
    next_id: Cell<u64>,
    /// Messages sent, for reports and the bench.
    messages: Cell<u32>,
}

impl<W: WebSocket> Connection<W> {
    pub fn new(socket: W, token: Secret) -> Self {
        Connection { socket, token, version: RefCell::new(None), next_id: Cell::new(1), messages: Cell::new(0) }
    }

    /// Authenticate (once): `auth_required` → `auth` → `auth_ok`. Resolves to
    /// the release (`ha_version`).
    pub async fn open(&self) -> Result<String> {
        if let Some(version) = self.version.borrow().clone() {
            return Ok(version);
        }
        let hello = api::read_hello(&self.socket.receive().await?)?;
        self.send(api::auth(&self.token)).await?;
        let version = api::read_auth(&self.socket.receive().await?)?;
        let version = if version.is_empty() { hello } else { version };
        *self.version.borrow_mut() = Some(version.clone());
        Ok(version)
    }

    /// The metadata schema this Home Assistant takes.
    pub async fn schema(&self) -> Result<Schema> {
        Ok(Schema::of_version(&self.open().await?))
    }

    pub fn messages(&self) -> u32 {
        self.messages.get()
    }

    async fn send(&self, text: String) -> Result<()> {
        self.messages.set(self.messages.get() + 1);
        self.socket.send(text).await
    }

    /// One command and its answer; ids rise strictly from 1 per connection.
    async fn call(&self, kind: &str, fields: serde_json::Map<String, serde_json::Value>) -> Result<serde_json::Value> {
        self.open().await?;
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        self.send(api::command(id, kind, fields)).await?;
        for _ in 0..MAX_OTHER_FRAMES {
            match api::read_frame(&self.socket.receive().await?, id)? {
                Frame::Answer(Ok(result)) => return Ok(result),
                Frame::Answer(Err((code, message))) => return Err(api::answer_error(kind, &code, &message)),
                Frame::Other => continue,
            }
        }
        Err(api::answer_error(kind, "unknown_error", "no answer"))
    }

    /// The statistics with a sum that HA holds.
    pub async fn statistic_ids(&self) -> Result<Vec<String>> {
        api::read_statistic_ids(&self.call("recorder/list_statistic_ids", api::list_statistic_ids()).await?)
    }

    /// Hourly rows of `ids` that start in `[start, end)` (unix seconds; no
    /// end: until now), oldest first.
    pub async fn rows(&self, ids: &[String], start: i64, end: Option<i64>) -> Result<BTreeMap<String, Vec<StatRow>>> {
        let result = self.call("recorder/statistics_during_period", api::statistics_during_period(ids, start, end)).await?;
        ids.iter().map(|id| Ok((id.clone(), api::read_rows(&result, id)?))).collect()
    }

    /// Import rows, a message per [`ROWS_PER_MESSAGE`]; each acknowledged
    /// before the next is sent. Resolves once HA acknowledged them all.
    pub async fn import(&self, statistic: &Statistic, rows: &[StatRow]) -> Result<()> {
        let schema = self.schema().await?;
        for chunk in rows.chunks(ROWS_PER_MESSAGE) {
            self.call("recorder/import_statistics", api::import_statistics(statistic, schema, chunk)).await?;
        }
        Ok(())
    }
}
