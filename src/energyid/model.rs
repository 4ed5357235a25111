//! EnergyID Webhook V2 documents, as the service sends and expects them.
//! Unknown fields are ignored (or kept, for the policy) so that a new field on
//! the server side never breaks an installed client.

use crate::core::Secret;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// What `POST /hello` tells the service about this device (camelCase on the wire;
/// empty optional fields are left out, as the contract asks).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HelloBody<'a> {
    pub device_id: &'a str,
    pub device_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firmware_version: Option<&'a str>,
}

/// The raw hello answer: both outcomes are HTTP 200 and are told apart by the
/// presence of `webhookUrl`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HelloAnswer {
    #[serde(default)]
    pub webhook_url: Option<String>,
    #[serde(default)]
    pub headers: Option<BTreeMap<String, Secret>>,
    #[serde(default)]
    pub webhook_policy: Option<Policy>,
    #[serde(default)]
    pub record_name: Option<String>,
    #[serde(default)]
    pub record_number: Option<String>,
    #[serde(default)]
    pub api_access_token: Option<Secret>,
    #[serde(default)]
    pub claim_code: Option<String>,
    #[serde(default)]
    pub claim_url: Option<String>,
    #[serde(default)]
    pub exp: Option<i64>,
}

/// The device is not claimed yet: a person must open `claim_url` (or type the
/// code at app.energyid.eu) before `expires_at` (unix seconds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Claim {
    pub claim_code: String,
    pub claim_url: String,
    pub expires_at: i64,
}

/// The upload policy of the record. `uploadInterval` is the minimum number of
/// seconds between two POSTs; other (older or newer) fields are kept as they came.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_interval: Option<u64>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// Where and how to post readings once the device is claimed. `headers` are
/// replayed as they are on every POST and are secrets: never parsed, never shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    pub url: String,
    pub headers: BTreeMap<String, Secret>,
    pub policy: Policy,
    #[serde(default)]
    pub record_name: Option<String>,
    #[serde(default)]
    pub record_number: Option<String>,
    #[serde(default)]
    pub api_access_token: Option<Secret>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum HelloOutcome {
    Unclaimed(Claim),
    Claimed(Webhook),
}

/// One reading: a timestamp (unix seconds, UTC) and values by metric key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    pub ts: i64,
    #[serde(flatten, deserialize_with = "values_or_nan")]
    pub values: BTreeMap<String, f64>,
}

/// JSON cannot carry NaN or Infinity: `JSON.stringify` turns them into `null`.
/// Read `null` back as NaN so validation names the key as "not a finite
/// number" instead of failing with a type error about `null`.
fn values_or_nan<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<String, f64>, D::Error> {
    let values = BTreeMap::<String, Option<f64>>::deserialize(deserializer)?;
    // A loop of inserts, not `collect()`: collecting into a BTreeMap sorts
    // first and brings a stable sort (~3 KB of wasm) for keys already in order.
    let mut out = BTreeMap::new();
    for (key, value) in values {
        out.insert(key, value.unwrap_or(f64::NAN));
    }
    Ok(out)
}
