//! The stored energy of one pump at one interval: one document per UTC month
//! of compact buckets, plus a small index. A year of hours is twelve small
//! documents instead of one that every fill and every read parsed whole.

use super::derive::{cop, format_utc, Energy};
use super::model::{Interval, Log};
use crate::core::store::{load, save};
use crate::core::{Result, Store};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// What is stored and where the fills stand.
#[derive(Default, Serialize, Deserialize)]
struct Index {
    /// Where the last fill stopped (unix seconds).
    #[serde(default)]
    cursor: Option<i64>,
    /// The first and last stored buckets' starts.
    #[serde(default)]
    first: Option<i64>,
    #[serde(default)]
    last: Option<i64>,
    /// Older versions kept every bucket's whole log here, in this one document:
    /// read once, moved into the months, then dropped.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    buckets: BTreeMap<i64, Map<String, Value>>,
}

/// One bucket as stored: the API's `timeBucket`, electricity and heat (kWh).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stored(pub Option<String>, pub Option<f64>, pub Option<f64>);

impl Stored {
    fn of(log: &Log) -> Stored {
        let energy = Energy::of(log);
        Stored(log.get("timeBucket").and_then(Value::as_str).map(str::to_owned), energy.electricity_kwh, energy.heat_kwh)
    }

    pub fn energy(&self) -> Energy {
        Energy { electricity_kwh: self.1, heat_kwh: self.2, cop: cop(self.2, self.1) }
    }
}

#[derive(Default, Serialize, Deserialize)]
struct Month {
    buckets: BTreeMap<i64, Stored>,
}

pub struct EnergyHistory<'a, S> {
    store: &'a S,
    key: String,
}

impl<'a, S: Store> EnergyHistory<'a, S> {
    pub fn new(store: &'a S, pump: &str, interval: Interval) -> Self {
        EnergyHistory { store, key: format!("weheat/{pump}/energy-{}", interval.name()) }
    }

    fn month_key(&self, start: i64) -> String {
        format!("{}/{}", self.key, &format_utc(start)[..7])
    }

    /// The index (see `migrated`), with the history held.
    async fn index(&self) -> Result<Index> {
        self.store.locked(&self.key, self.migrated()).await
    }

    /// The index, after moving a history of the older one-document form into
    /// months (written first, so a crash in between only repeats the move).
    /// Call with the history held.
    async fn migrated(&self) -> Result<Index> {
        let mut index: Index = load(self.store, &self.key).await?.unwrap_or_default();
        if !index.buckets.is_empty() {
            let old = std::mem::take(&mut index.buckets);
            let buckets: Vec<(i64, Stored)> = old.iter().map(|(start, log)| (*start, Stored::of(log))).collect();
            self.add(&mut index, buckets).await?;
            save(self.store, &self.key, &index).await?;
        }
        Ok(index)
    }

    async fn add(&self, index: &mut Index, buckets: Vec<(i64, Stored)>) -> Result<()> {
        let mut by_month: BTreeMap<String, Vec<(i64, Stored)>> = BTreeMap::new();
        for (start, bucket) in buckets {
            index.first = Some(index.first.map_or(start, |f| f.min(start)));
            index.last = Some(index.last.map_or(start, |l| l.max(start)));
            by_month.entry(self.month_key(start)).or_default().push((start, bucket));
        }
        for (key, buckets) in by_month {
            let mut month: Month = load(self.store, &key).await?.unwrap_or_default();
            month.buckets.extend(buckets);
            save(self.store, &key, &month).await?;
        }
        Ok(())
    }

    /// Where to continue filling: the last stored bucket (probably still
    /// filling then), else where the last fill stopped.
    pub async fn resume_from(&self) -> Result<Option<i64>> {
        let index = self.index().await?;
        Ok(index.last.or(index.cursor))
    }

    /// Keep the buckets of one fetched window (a re-fetched bucket replaces
    /// the stored one) and move the cursor to `end`. The months are written
    /// before the index: an interrupted fill resumes where it stopped.
    pub async fn record(&self, logs: &[(i64, &Log)], end: i64) -> Result<u32> {
        self.store.locked(&self.key, self.merge(logs, end)).await
    }

    /// `record` with the history (index and months) held.
    async fn merge(&self, logs: &[(i64, &Log)], end: i64) -> Result<u32> {
        let mut index = self.migrated().await?;
        let buckets: Vec<(i64, Stored)> = logs.iter().map(|(start, log)| (*start, Stored::of(log))).collect();
        let count = buckets.len() as u32;
        self.add(&mut index, buckets).await?;
        index.cursor = Some(end);
        save(self.store, &self.key, &index).await?;
        Ok(count)
    }

    /// Stored buckets that start in `[from, to)`, oldest first.
    pub async fn between(&self, from: i64, to: i64) -> Result<Vec<(i64, Stored)>> {
        let index = self.index().await?;
        let (Some(first), Some(last)) = (index.first, index.last) else { return Ok(Vec::new()) };
        let (from, to) = (from.max(first), to.min(last.saturating_add(1)));
        let mut out = Vec::new();
        let mut month = from;
        while month < to {
            if let Some(doc) = load::<Month>(self.store, &self.month_key(month)).await? {
                out.extend(doc.buckets.range(from..to).map(|(start, bucket)| (*start, bucket.clone())));
            }
            month = next_month(month);
        }
        Ok(out)
    }

    /// The first and last stored buckets' starts.
    pub async fn span(&self) -> Result<Option<(i64, i64)>> {
        let index = self.index().await?;
        Ok(index.first.zip(index.last))
    }
}

/// The start of the UTC month after the one `secs` falls in.
fn next_month(secs: i64) -> i64 {
    let days = secs.div_euclid(86_400);
    let (year, month, _) = crate::core::calendar::civil_from_days(days);
    let (year, month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    crate::core::calendar::days_from_civil(year, month, 1) * 86_400
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_follow_the_calendar() {
        // 2024-02-10 → 2024-03-01, 2024-12-31 → 2025-01-01
        assert_eq!(next_month(1_707_523_200), 1_709_251_200);
        assert_eq!(next_month(1_735_603_200), 1_735_689_600);
    }
}
