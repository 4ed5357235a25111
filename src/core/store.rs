//! Where providers keep small JSON documents (device ids, tokens, cursors).

use super::error::{json_reason, Error, ErrorCode, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A key-value store of small JSON documents, one document per key.
///
/// Implementations: `FileStore` (Node, one 0600 file per key, atomic writes),
/// `MemoryStore`, `LocalStorageStore` and `ChromeStorageStore` on the JS side,
/// and the in-memory fake in the tests. A `put` must be atomic: a reader sees
/// the old document or the new one, never half of it.
#[allow(async_fn_in_trait)]
pub trait Store {
    async fn get(&self, key: &str) -> Result<Option<String>>;
    async fn put(&self, key: &str, document: &str) -> Result<()>;
    async fn delete(&self, key: &str) -> Result<()>;
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
