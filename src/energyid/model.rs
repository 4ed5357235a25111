//! EnergyID Webhook V2 documents, as the service sends and expects them.
//! Unknown fields are ignored (or kept, for the policy) so that a new field on
//! the server side never breaks an installed client.

use crate::core::Secret;
use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
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
    pub headers: Option<Headers>,
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
/// On the wire: `{"uploadInterval": 60, ...other}` (what `#[serde(flatten)]`
/// would do, written out because flatten costs ~3 KB of wasm).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Policy {
    /// Seconds; whole numbers in practice, fractions accepted (fast test policies).
    pub upload_interval: Option<f64>,
    pub other: Map<String, Value>,
}

impl Serialize for Policy {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(interval) = &self.upload_interval {
            map.serialize_entry("uploadInterval", interval)?;
        }
        for (key, value) in &self.other {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Policy {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Known {
            #[serde(default)]
            upload_interval: Option<f64>,
        }
        let (Known { upload_interval }, other) = crate::core::json::with_rest::<D, Known>(deserializer, &["uploadInterval"])?;
        Ok(Policy { upload_interval, other })
    }
}

/// The webhook's headers, sorted by name, as a JSON object on the wire. A Vec
/// rather than a `BTreeMap<String, Secret>`: that map type would compile
/// another copy of the B-tree (~1.5 KB of wasm gzip) for a handful of entries.
#[derive(Clone, Default, PartialEq)]
pub struct Headers(pub Vec<(String, Secret)>);

impl Headers {
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Secret)> {
        self.0.iter().map(|(name, value)| (name, value))
    }

    pub fn get(&self, name: &str) -> Option<&Secret> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, value)| value)
    }
}

impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Headers {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Headers {
    /// Through the `Map<String, Value>` the module has anyway (sorted by name).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut headers = Vec::new();
        for (name, value) in Map::<String, Value>::deserialize(deserializer)? {
            let value: Secret = crate::core::json::from_value(value).map_err(|err| de::Error::custom(err.reason()))?;
            headers.push((name, value));
        }
        Ok(Headers(headers))
    }
}

/// Where and how to post readings once the device is claimed. `headers` are
/// replayed as they are on every POST and are secrets: never parsed, never shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    pub url: String,
    pub headers: Headers,
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
/// On the wire: `{"ts": 1731974400, "el": 1250.5, ...}` (flattened by hand, see [`Policy`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Reading {
    pub ts: i64,
    pub values: BTreeMap<String, f64>,
}

impl Serialize for Reading {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("ts", &self.ts)?;
        for (key, value) in &self.values {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Reading {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Known {
            ts: i64,
        }
        let (Known { ts }, rest) = crate::core::json::with_rest::<D, Known>(deserializer, &["ts"])?;
        let mut values = BTreeMap::new();
        for (key, value) in rest {
            // JSON cannot carry NaN or Infinity: `JSON.stringify` turns them into
            // `null`. Read `null` back as NaN so validation names the key as "not
            // a finite number" instead of failing with a type error about `null`.
            let value: Option<f64> = crate::core::json::from_value(value).map_err(|err| de::Error::custom(err.reason()))?;
            values.insert(key, value.unwrap_or(f64::NAN));
        }
        Ok(Reading { ts, values })
    }
}
