//! A request budget kept in the store: at most `limit` requests in any
//! sliding window, counted in one document that every client over the store
//! (and, with a FileStore, every process) spends together. Weheat's hourly
//! budget and the Conso API's 12-hour one are both this.

use super::store::{load, save};
use super::{Clock, Result, Store};
use serde::{Deserialize, Serialize};

/// When the requests of the window left (unix ms), oldest first.
#[derive(Default, Serialize, Deserialize)]
struct Sent {
    sent: Vec<i64>,
}

/// A budget at a glance, for a status line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct BudgetStatus {
    /// Requests allowed in any window.
    pub limit: u32,
    /// Requests still allowed now.
    pub left: u32,
    pub window_secs: i64,
    /// When the next request frees up (the oldest counted one leaves the
    /// window), while none is left.
    pub frees_at_ms: Option<i64>,
}

pub struct RequestBudget {
    key: &'static str,
    limit: u32,
    window_ms: i64,
}

impl RequestBudget {
    /// `limit` requests per `window_ms`, counted in the document `key`
    /// (at least one request: a budget of 0 would stop everything for good).
    pub fn new(key: &'static str, limit: u32, window_ms: i64) -> Self {
        RequestBudget { key, limit: limit.max(1), window_ms }
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The requests counted in the window now.
    async fn sent(&self, store: &impl Store, clock: &impl Clock) -> Result<Sent> {
        let mut sent: Sent = load(store, self.key).await?.unwrap_or_default();
        let window_start = clock.now_ms() - self.window_ms;
        sent.sent.retain(|at| *at > window_start);
        Ok(sent)
    }

    /// When a request frees up, if none is free: a lowered limit waits for
    /// enough of the counted ones to leave.
    fn frees_at(&self, sent: &Sent) -> Option<i64> {
        let over = sent.sent.len().checked_sub(self.limit as usize)?;
        Some(sent.sent[over] + self.window_ms)
    }

    /// Requests counted in the current window.
    pub async fn used(&self, store: &impl Store, clock: &impl Clock) -> Result<u32> {
        Ok(self.sent(store, clock).await?.sent.len() as u32)
    }

    pub async fn status(&self, store: &impl Store, clock: &impl Clock) -> Result<BudgetStatus> {
        let sent = self.sent(store, clock).await?;
        Ok(BudgetStatus {
            limit: self.limit,
            left: self.limit.saturating_sub(sent.sent.len() as u32),
            window_secs: self.window_ms / 1000,
            frees_at_ms: self.frees_at(&sent),
        })
    }

    /// Count one request if the budget allows it: `None` when it was counted,
    /// else when the next one frees up (unix ms). The document is held while
    /// it changes, so two callers never both take the last request.
    pub async fn take(&self, store: &impl Store, clock: &impl Clock) -> Result<Option<i64>> {
        store
            .locked(self.key, async {
                let mut sent = self.sent(store, clock).await?;
                if let Some(at) = self.frees_at(&sent) {
                    return Ok(Some(at));
                }
                sent.sent.push(clock.now_ms());
                save(store, self.key, &sent).await?;
                Ok(None)
            })
            .await
    }
}
