//! EnergyID Webhook V2 documents, as the service sends and expects them.
//! Unknown fields are ignored (or kept, for the policy) so that a new field on
//! the server side never breaks an installed client.

use crate::core::Secret;
use serde::de::{self, Deserializer, MapAccess, Visitor};
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
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Claim {
    pub claim_code: String,
    pub claim_url: String,
    pub expires_at: i64,
}

/// The upload policy of the record. `uploadInterval` is the minimum number of
/// seconds between two POSTs; other (older or newer) fields are kept as they came.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Policy {
    /// Seconds; whole numbers in practice, fractions accepted (fast test policies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_interval: Option<f64>,
    #[serde(flatten)]
    #[cfg_attr(target_arch = "wasm32", tsify(type = "Record<string, unknown>"))]
    pub other: Map<String, Value>,
}

/// The webhook's headers, sorted by name, as a JSON object on the wire.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Headers(pub BTreeMap<String, Secret>);

impl Headers {
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Secret)> {
        self.0.iter()
    }

    pub fn get(&self, name: &str) -> Option<&Secret> {
        self.0.get(name)
    }
}

impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
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
/// On the wire: `{"ts": 1731974400, "el": 1250.5, ...}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reading {
    pub ts: i64,
    #[serde(flatten)]
    pub values: BTreeMap<String, f64>,
}

impl<'de> Deserialize<'de> for Reading {
    /// `ts` and every other key as a value. JSON cannot carry NaN or Infinity:
    /// `JSON.stringify` turns them into `null`. `null` is read back as NaN so
    /// validation names the key as "not a finite number" instead of failing
    /// with a type error about `null`.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ReadingVisitor;

        impl<'de> Visitor<'de> for ReadingVisitor {
            type Value = Reading;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a reading: an object with `ts` and values by key")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Reading, A::Error> {
                let (mut ts, mut values) = (None, BTreeMap::new());
                while let Some(key) = map.next_key::<String>()? {
                    if key == "ts" {
                        ts = Some(map.next_value()?);
                    } else {
                        let value: Option<f64> = map.next_value()?;
                        values.insert(key, value.unwrap_or(f64::NAN));
                    }
                }
                Ok(Reading { ts: ts.ok_or_else(|| de::Error::missing_field("ts"))?, values })
            }
        }

        deserializer.deserialize_map(ReadingVisitor)
    }
}
