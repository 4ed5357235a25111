//! Where providers keep small JSON documents (device ids, tokens, cursors).

use super::error::{json_reason, Error, ErrorCode, Result};
use futures_util::lock::{Mutex, OwnedMutexGuard};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

/// A key-value store of small JSON documents, one document per key.
///
/// Implementations: `FileStore` (Node, one 0600 file per key, atomic writes),
/// `MemoryStore`, `LocalStorageStore` and `ChromeStorageStore` on the JS side,
/// and the in-memory fake in the tests. A `put` must be atomic: a reader sees
/// the old document or the new one, never half of it.
///
/// Every read-modify-write of a document runs inside `locked(key, ...)`, so
/// that two of them never interleave: without it, a flush removing a batch
/// and an enqueue adding to the same document across their awaits lose the
/// reading added. The store decides how far the lock reaches: this process
/// (`DocumentLocks`), and where it can, the others sharing the store (the
/// FileStore's other processes, the browser stores' other pages and workers).
#[allow(async_fn_in_trait)]
pub trait Store {
    async fn get(&self, key: &str) -> Result<Option<String>>;
    async fn put(&self, key: &str, document: &str) -> Result<()>;
    async fn delete(&self, key: &str) -> Result<()>;
    /// Run `change`, a read-modify-write of the document `key` (or of the
    /// documents it heads, such as the outbox's buckets), while no other
    /// change of that document runs. Not reentrant: `change` must not lock
    /// the same key again.
    async fn locked<T>(&self, key: &str, change: impl Future<Output = Result<T>>) -> Result<T>;
}

/// One async lock per document key, for the changes made in one process (one
/// wasm instance). Shared by every handle of a store, so the objects built
/// over it (a page's EnergyId and its sync job, two handlers that each made
/// one) serialize too.
#[derive(Default)]
pub struct DocumentLocks(RefCell<BTreeMap<String, Arc<Mutex<()>>>>);

impl DocumentLocks {
    /// Wait for `key`'s lock; it is released when the guard is dropped.
    pub async fn lock(&self, key: &str) -> OwnedMutexGuard<()> {
        let mutex = {
            let mut locks = self.0.borrow_mut();
            // Locks nobody holds or waits for are forgotten, so the table stays small.
            locks.retain(|_, mutex| Arc::strong_count(mutex) > 1);
            locks.entry(key.to_owned()).or_default().clone()
        };
        mutex.lock_owned().await
    }
}

/// Read and decode a document; a document that does not decode is reported as
/// `corrupt_state` and left where it is, never silently replaced.
pub async fn load<T: DeserializeOwned>(store: &impl Store, key: &str) -> Result<Option<T>> {
    let Some(text) = store.get(key).await? else { return Ok(None) };
    serde_json::from_str(&text).map(Some).map_err(|err| corrupt(key, &err))
}

fn corrupt(key: &str, err: &serde_json::Error) -> Error {
    Error::new(
        ErrorCode::CorruptState,
        format!(
            "stored document '{key}' cannot be read ({}); it was left untouched: \
             restore it or delete it to start over",
            json_reason(err)
        ),
    )
}

pub async fn save<T: Serialize>(store: &impl Store, key: &str, value: &T) -> Result<()> {
    let text = serde_json::to_string(value).map_err(|err| Error::new(ErrorCode::Storage, format!("cannot encode '{key}': {err}")))?;
    store.put(key, &text).await
}
