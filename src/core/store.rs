//! Where providers keep small JSON documents (device ids, tokens, cursors).

use super::error::{Error, ErrorCode, Result};
use super::json::JsonError;
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
    // Only the `Value -> T` step is generic: the store call and the text parser
    // stay in `load_value`, compiled once instead of inlined into every caller.
    match load_value(store, key).await? {
        None => Ok(None),
        Some(value) => super::json::from_value(value).map(Some).map_err(|err| corrupt(key, err)),
    }
}

async fn load_value(store: &impl Store, key: &str) -> Result<Option<serde_json::Value>> {
    let Some(text) = store.get(key).await? else { return Ok(None) };
    super::json::parse_value(&text).map(Some).map_err(|err| corrupt(key, err))
}

/// Kept out of the generic `load`, so the message is compiled once.
fn corrupt(key: &str, err: JsonError) -> Error {
    Error::new(
        ErrorCode::CorruptState,
        format!(
            "stored document '{key}' cannot be read ({}); it was left untouched: \
             restore it or delete it to start over",
            err.reason()
        ),
    )
}

pub async fn save<T: Serialize>(store: &impl Store, key: &str, value: &T) -> Result<()> {
    // Generic only in the encoding (see `load`).
    save_text(store, key, serde_json::to_string(value)).await
}

async fn save_text(store: &impl Store, key: &str, text: serde_json::Result<String>) -> Result<()> {
    let text = text.map_err(|err| Error::new(ErrorCode::Storage, format!("cannot encode '{key}': {err}")))?;
    store.put(key, &text).await
}
