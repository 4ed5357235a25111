//! The durable outbox: every reading is written here before any send is
//! attempted and leaves only after EnergyID answered 2xx, so a crash, a closed
//! laptop or an outage loses nothing. One document per 30 days of timestamps
//! (a backfill of years stays in small documents), plus an index of them.

use super::api::STANDARD_KEYS;
use super::model::Reading;
use super::PROVIDER;
use crate::core::store::{load, save};
use std::collections::BTreeMap;
use crate::core::{Error, Result, Store};
use serde::{Deserialize, Serialize};

const INDEX_KEY: &str = "energyid/outbox";
const QUARANTINE_KEY: &str = "energyid/quarantine";
const BUCKET_SECS: i64 = 30 * 86_400;

/// Readings by timestamp, then by key.
type Readings = BTreeMap<i64, BTreeMap<String, f64>>;

/// Which bucket documents exist and how many values each holds. A bucket is
/// listed here before it is first written and unlisted only after it is
/// deleted, so a crash can leave an empty listing but never a hidden bucket.
#[derive(Default, Serialize, Deserialize)]
struct Index {
    buckets: BTreeMap<i64, usize>,
    /// The last value delivered per cumulative key, with its timestamp (kept
    /// here, not in a document of its own: one write less per batch).
    #[serde(default)]
    delivered: BTreeMap<String, (i64, f64)>,
}

#[derive(Default, Serialize, Deserialize)]
struct Bucket {
    readings: Readings,
}

/// A reading EnergyID refused (HTTP 400), kept aside with the reason so the rest goes on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Quarantined {
    pub ts: i64,
    pub values: BTreeMap<String, f64>,
    pub reason: String,
}

/// Keys whose values are gauges, not cumulative meter readings (contract §2).
fn is_gauge(key: &str) -> bool {
    let base = key.split('.').next().unwrap_or(key);
    matches!(base, "pwr" | "pwr-i" | "bat-soc" | "temperature") || !STANDARD_KEYS.contains(&base)
}

pub struct Outbox<'a, S> {
    store: &'a S,
}

fn bucket_key(bucket: i64) -> String {
    format!("{INDEX_KEY}/{bucket}")
}

impl<'a, S: Store> Outbox<'a, S> {
    pub fn new(store: &'a S) -> Self {
        Outbox { store }
    }

    async fn index(&self) -> Result<Index> {
        Ok(load(self.store, INDEX_KEY).await?.unwrap_or_default())
    }

    async fn bucket(&self, bucket: i64) -> Result<Bucket> {
        Ok(load(self.store, &bucket_key(bucket)).await?.unwrap_or_default())
    }

    /// Values waiting to be sent.
    pub async fn len(&self) -> Result<usize> {
        Ok(self.index().await?.buckets.values().sum())
    }

    /// Queue readings. The same (key, ts) queued again replaces the value.
    /// Cumulative keys must not go down over time, against what is queued and
    /// what was delivered: a reading that would is refused, naming key, ts and
    /// both values, and nothing of the call is queued.
    pub async fn enqueue(&self, readings: &[Reading]) -> Result<usize> {
        let mut index = self.index().await?;
        // Sorted by bucket.
        let mut buckets: Vec<(i64, Bucket)> = Vec::new();
        for &bucket in index.buckets.keys() {
            buckets.push((bucket, self.bucket(bucket).await?));
        }
        let mut touched = Vec::new();
        let mut count = 0;
        for reading in readings {
            let bucket = reading.ts.div_euclid(BUCKET_SECS);
            let at = match buckets.binary_search_by_key(&bucket, |b| b.0) {
                Ok(at) => at,
                Err(at) => {
                    buckets.insert(at, (bucket, Bucket::default()));
                    at
                }
            };
            let entry = buckets[at].1.readings.entry(reading.ts).or_default();
            for (key, value) in &reading.values {
                entry.insert(key.clone(), *value);
                count += 1;
            }
            if !touched.contains(&bucket) {
                touched.push(bucket);
            }
        }
        check_cumulative(&buckets, &index.delivered)?;
        // List new buckets first (see Index), then write them, then the counts.
        if touched.iter().any(|b| !index.buckets.contains_key(b)) {
            for bucket in &touched {
                index.buckets.entry(*bucket).or_insert(0);
            }
            save(self.store, INDEX_KEY, &index).await?;
        }
        for bucket in &touched {
            let doc = &buckets.iter().find(|b| b.0 == *bucket).unwrap_or_else(|| unreachable!()).1;
            save(self.store, &bucket_key(*bucket), doc).await?;
            index.buckets.insert(*bucket, doc.readings.values().map(BTreeMap::len).sum());
        }
        save(self.store, INDEX_KEY, &index).await?;
        Ok(count)
    }

    /// The oldest readings, at most `cap` timestamps (one JSON object each).
    pub async fn next_batch(&self, cap: usize) -> Result<Vec<Reading>> {
        let mut batch = Vec::new();
        for &bucket in self.index().await?.buckets.keys() {
            for (ts, values) in self.bucket(bucket).await?.readings {
                if batch.len() >= cap {
                    return Ok(batch);
                }
                batch.push(Reading { ts, values });
            }
        }
        Ok(batch)
    }

    /// Every queued reading, oldest first (for `--dry-run` and status).
    pub async fn all(&self) -> Result<Vec<Reading>> {
        self.next_batch(usize::MAX).await
    }

    /// Take delivered readings out. A value re-queued with a different value
    /// while the POST was on its way stays queued.
    pub async fn remove(&self, delivered: &[Reading]) -> Result<()> {
        let mut index = self.index().await?;
        let mut by_bucket: Vec<(i64, Vec<&Reading>)> = Vec::new();
        for reading in delivered {
            let bucket = reading.ts.div_euclid(BUCKET_SECS);
            match by_bucket.iter_mut().find(|b| b.0 == bucket) {
                Some((_, readings)) => readings.push(reading),
                None => by_bucket.push((bucket, vec![reading])),
            }
        }
        for (bucket, readings) in by_bucket {
            self.rewrite_bucket(&mut index, bucket, |doc| {
                for (ts, queued) in doc.readings.iter_mut() {
                    queued.retain(|key, value| readings.iter().filter(|r| r.ts == *ts).all(|r| r.values.get(key) != Some(&*value)));
                }
                doc.readings.retain(|_, queued| !queued.is_empty());
            })
            .await?;
        }
        for reading in delivered {
            for (key, value) in reading.values.iter().filter(|(k, _)| !is_gauge(k)) {
                let newer = index.delivered.get(key).map_or(true, |(ts, _)| *ts <= reading.ts);
                if newer {
                    index.delivered.insert(key.clone(), (reading.ts, *value));
                }
            }
        }
        save(self.store, INDEX_KEY, &index).await
    }

    /// Move readings EnergyID refused aside, with its reason.
    pub async fn quarantine(&self, refused: &[Reading], reason: &str) -> Result<()> {
        let mut kept: Vec<Quarantined> = load(self.store, QUARANTINE_KEY).await?.unwrap_or_default();
        kept.extend(refused.iter().map(|r| Quarantined { ts: r.ts, values: r.values.clone(), reason: reason.to_owned() }));
        save(self.store, QUARANTINE_KEY, &kept).await?;
        // Out of the outbox without counting as delivered.
        let mut index = self.index().await?;
        for reading in refused {
            self.rewrite_bucket(&mut index, reading.ts.div_euclid(BUCKET_SECS), |doc| {
                doc.readings.remove(&reading.ts);
            })
            .await?;
        }
        save(self.store, INDEX_KEY, &index).await
    }

    /// Change a bucket, then save it (or delete it once empty) and update its
    /// count in `index`, which the caller saves last.
    async fn rewrite_bucket(&self, index: &mut Index, bucket: i64, change: impl FnOnce(&mut Bucket)) -> Result<()> {
        let mut doc = self.bucket(bucket).await?;
        change(&mut doc);
        if doc.readings.is_empty() {
            self.store.delete(&bucket_key(bucket)).await?;
            index.buckets.remove(&bucket);
        } else {
            save(self.store, &bucket_key(bucket), &doc).await?;
            index.buckets.insert(bucket, doc.readings.values().map(BTreeMap::len).sum());
        }
        Ok(())
    }

    pub async fn quarantined(&self) -> Result<Vec<Quarantined>> {
        Ok(load(self.store, QUARANTINE_KEY).await?.unwrap_or_default())
    }
}

/// Walk each cumulative key through time (delivered value first, then every
/// queued one) and refuse the first step down.
fn check_cumulative(buckets: &[(i64, Bucket)], delivered: &BTreeMap<String, (i64, f64)>) -> Result<()> {
    // Few keys: a Vec of pairs, not another BTreeMap type.
    let mut previous: Vec<(&str, (i64, f64))> = Vec::new();
    for (_, bucket) in buckets {
        for (&ts, values) in bucket.readings.iter() {
            for (key, &value) in values.iter().filter(|(k, _)| !is_gauge(k)) {
                if let Some(&(before_ts, before)) = delivered.get(key) {
                    if (before_ts < ts && value < before) || (before_ts > ts && value > before) {
                        return Err(decreasing(key, before_ts, before, ts, value, "already delivered"));
                    }
                }
                match previous.iter_mut().find(|(k, _)| *k == key.as_str()) {
                    Some((_, (before_ts, before))) => {
                        if value < *before {
                            return Err(decreasing(key, *before_ts, *before, ts, value, "queued"));
                        }
                        *before_ts = ts;
                        *before = value;
                    }
                    None => previous.push((key, (ts, value))),
                }
            }
        }
    }
    Ok(())
}

fn decreasing(key: &str, before_ts: i64, before: f64, ts: i64, value: f64, what: &str) -> Error {
    Error::invalid_input(format!(
        "'{key}' is a cumulative meter reading and cannot go down: {value} at ts {ts} after {before} at ts {before_ts} ({what})"
    ))
    .provider(PROVIDER)
}
