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
    /// The newest value ever queued per cumulative key, and the newest
    /// timestamp of all: readings that all come later (a sync appending) are
    /// checked against these alone, without reading every queued bucket.
    /// Cleared when a reading leaves without being delivered (quarantine).
    #[serde(default)]
    newest: BTreeMap<String, (i64, f64)>,
    #[serde(default)]
    newest_ts: Option<i64>,
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
    ///
    /// Enqueue, remove and quarantine each hold the outbox (index, buckets and
    /// quarantine list) for their whole read-modify-write: interleaved, a
    /// removal could delete a bucket an enqueue had just added to.
    pub async fn enqueue(&self, readings: &[Reading]) -> Result<usize> {
        self.store.locked(INDEX_KEY, self.add(readings)).await
    }

    async fn add(&self, readings: &[Reading]) -> Result<usize> {
        let mut index = self.index().await?;
        let mut incoming: Vec<(i64, Vec<&Reading>)> = Vec::new();
        for reading in readings {
            let bucket = reading.ts.div_euclid(BUCKET_SECS);
            match incoming.binary_search_by_key(&bucket, |b| b.0) {
                Ok(at) => incoming[at].1.push(reading),
                Err(at) => incoming.insert(at, (bucket, vec![reading])),
            }
        }
        // Appending after everything queued so far: only the newest values
        // matter for the check, and only the buckets added to are read.
        let appending = index.newest_ts.is_some_and(|newest| readings.iter().all(|r| r.ts > newest));
        let mut listed: Vec<i64> = incoming.iter().map(|b| b.0).collect();
        if !appending {
            listed.extend(index.buckets.keys().copied());
        }
        listed.sort_unstable();
        listed.dedup();
        // Every bucket is read in turn for the cumulative check, but only the
        // ones this call adds to are held: a backfill of years queued a month
        // at a time never holds the whole outbox.
        let mut touched: Vec<(i64, Bucket)> = Vec::new();
        let mut previous: Vec<(String, (i64, f64))> = Vec::new();
        let mut count = 0;
        for bucket in listed {
            let mut doc = if index.buckets.contains_key(&bucket) { self.bucket(bucket).await? } else { Bucket::default() };
            let added = incoming.binary_search_by_key(&bucket, |b| b.0).ok().map(|at| &incoming[at].1);
            for reading in added.into_iter().flatten() {
                let entry = doc.readings.entry(reading.ts).or_default();
                for (key, value) in &reading.values {
                    entry.insert(key.clone(), *value);
                    count += 1;
                }
            }
            if !appending {
                check_cumulative(doc.readings.iter(), &mut previous, &index.delivered)?;
            }
            if added.is_some() {
                touched.push((bucket, doc));
            }
        }
        if appending {
            let mut sorted: Vec<&Reading> = readings.iter().collect();
            sorted.sort_by_key(|r| r.ts);
            previous = index.newest.iter().map(|(k, v)| (k.clone(), *v)).collect();
            check_cumulative(sorted.iter().map(|r| (&r.ts, &r.values)), &mut previous, &index.delivered)?;
        }
        // What the next append is checked against (a full walk saw the whole queue).
        for (key, newest) in previous {
            index.newest.insert(key, newest);
        }
        index.newest_ts = readings.iter().map(|r| r.ts).chain(index.newest_ts).max();
        // List new buckets first (see Index), then write them, then the counts.
        if touched.iter().any(|(b, _)| !index.buckets.contains_key(b)) {
            for (bucket, _) in &touched {
                index.buckets.entry(*bucket).or_insert(0);
            }
            save(self.store, INDEX_KEY, &index).await?;
        }
        for (bucket, doc) in &touched {
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

    /// Timestamps waiting to be sent (one JSON object each), read a bucket at
    /// a time.
    pub async fn timestamps(&self) -> Result<usize> {
        let mut count = 0;
        for &bucket in self.index().await?.buckets.keys() {
            count += self.bucket(bucket).await?.readings.len();
        }
        Ok(count)
    }

    /// Every queued reading, oldest first (for `--dry-run` and status).
    pub async fn all(&self) -> Result<Vec<Reading>> {
        self.next_batch(usize::MAX).await
    }

    /// Take delivered readings out. A value re-queued with a different value
    /// while the POST was on its way stays queued.
    pub async fn remove(&self, delivered: &[Reading]) -> Result<()> {
        self.store.locked(INDEX_KEY, self.take_out(delivered)).await
    }

    async fn take_out(&self, delivered: &[Reading]) -> Result<()> {
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
        self.store.locked(INDEX_KEY, self.set_aside(refused, reason)).await
    }

    async fn set_aside(&self, refused: &[Reading], reason: &str) -> Result<()> {
        let mut kept: Vec<Quarantined> = load(self.store, QUARANTINE_KEY).await?.unwrap_or_default();
        kept.extend(refused.iter().map(|r| Quarantined { ts: r.ts, values: r.values.clone(), reason: reason.to_owned() }));
        save(self.store, QUARANTINE_KEY, &kept).await?;
        // Out of the outbox without counting as delivered: the next enqueue
        // walks the whole queue again instead of trusting `newest`.
        let mut index = self.index().await?;
        index.newest = BTreeMap::new();
        index.newest_ts = None;
        for reading in refused {
            self.rewrite_bucket(&mut index, reading.ts.div_euclid(BUCKET_SECS), |doc| {
                doc.readings.remove(&reading.ts);
            })
            .await?;
        }
        save(self.store, INDEX_KEY, &index).await
    }

    /// Change a bucket, then save it (or delete it once empty) and update its
    /// count in `index`, which the caller saves last (with the outbox held).
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
/// Check readings' cumulative values, in time order, against what was
/// delivered and against `previous`, the last value per key before them
/// (updated as it goes).
fn check_cumulative<'r>(
    readings: impl Iterator<Item = (&'r i64, &'r BTreeMap<String, f64>)>,
    previous: &mut Vec<(String, (i64, f64))>,
    delivered: &BTreeMap<String, (i64, f64)>,
) -> Result<()> {
    for (&ts, values) in readings {
        for (key, &value) in values.iter().filter(|(k, _)| !is_gauge(k)) {
            if let Some(&(before_ts, before)) = delivered.get(key) {
                if (before_ts < ts && value < before) || (before_ts > ts && value > before) {
                    return Err(decreasing(key, before_ts, before, ts, value, "already delivered"));
                }
            }
            match previous.iter_mut().find(|(k, _)| k == key) {
                Some((_, (before_ts, before))) => {
                    if value < *before {
                        return Err(decreasing(key, *before_ts, *before, ts, value, "queued"));
                    }
                    *before_ts = ts;
                    *before = value;
                }
                None => previous.push((key.clone(), (ts, value))),
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
