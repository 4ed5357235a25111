//! The local history of one meter's series: points keyed by interval start,
//! one store document per Paris month (adding a day never rewrites years, and
//! a browser's storage quota holds years of half-hours), plus a small document
//! saying which days were fetched.

use super::model::{Hole, Point, Series};
use super::plan::Coverage;
use crate::core::time::{paris_date, Date};
use crate::core::store::{load, save};
use crate::core::{Result, Store};
use serde::{Deserialize, Serialize};

/// A month of points, `[start, end, value, at]` each: arrays keep the JSON small.
#[derive(Default, Serialize, Deserialize)]
struct MonthDoc {
    points: Vec<(i64, i64, f64, Option<i64>)>,
}

/// Which days were fetched, and where Enedis' data begin when it told us.
#[derive(Default, Serialize, Deserialize)]
pub(crate) struct SeriesIndex {
    #[serde(default)]
    pub coverage: Coverage,
    /// Enedis refused anything before this date (meter activation).
    #[serde(default)]
    pub earliest: Option<Date>,
    /// How the last fetch failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<super::model::LastError>,
}

pub struct History<'a, S> {
    store: &'a S,
    prefix: String,
}

impl<'a, S: Store> History<'a, S> {
    pub fn new(store: &'a S, meter: &str, series: Series) -> Self {
        History { store, prefix: format!("linky/{meter}/{}", series.name()) }
    }

    fn month_key(&self, month: &str) -> String {
        format!("{}/{month}", self.prefix)
    }

    pub(crate) async fn index(&self) -> Result<SeriesIndex> {
        Ok(load(self.store, &self.prefix).await?.unwrap_or_default())
    }

    /// Change the index with the series held; it is saved when `change` says
    /// it changed something.
    pub(crate) async fn update_index(&self, change: impl FnOnce(&mut SeriesIndex) -> bool) -> Result<()> {
        self.store.locked(&self.prefix, self.apply(change)).await
    }

    async fn apply(&self, change: impl FnOnce(&mut SeriesIndex) -> bool) -> Result<()> {
        let mut index = self.index().await?;
        if change(&mut index) {
            save(self.store, &self.prefix, &index).await?;
        }
        Ok(())
    }

    /// Store the points of a fetched window, replacing any stored point they
    /// overlap (a re-fetch overwrites, never duplicates), then mark the days
    /// `[covered_from, covered_to)` as fetched. Points are written first: a
    /// crash in between only means the window is fetched again. Resolves to
    /// the points new to the history (none stored where they lie): a new day,
    /// a filled hole, older days.
    pub async fn record(&self, points: &[Point], covered_from: Date, covered_to: Date) -> Result<u32> {
        self.store.locked(&self.prefix, self.merge(points, covered_from, covered_to)).await
    }

    /// `record` with the series (index and months) held.
    async fn merge(&self, points: &[Point], covered_from: Date, covered_to: Date) -> Result<u32> {
        // A few months at most: a Vec, not another BTreeMap type with `entry`.
        let mut by_month: Vec<(String, Vec<&Point>)> = Vec::new();
        for point in points {
            let month = paris_date(point.start).month_name();
            match by_month.iter_mut().find(|(m, _)| *m == month) {
                Some((_, fresh)) => fresh.push(point),
                None => by_month.push((month, vec![point])),
            }
        }
        let mut new = 0;
        for (month, fresh) in by_month {
            let key = self.month_key(&month);
            let mut doc: MonthDoc = load(self.store, &key).await?.unwrap_or_default();
            let overlaps = |p: &Point| doc.points.iter().any(|(start, end, ..)| p.start < *end && *start < p.end);
            new += fresh.iter().filter(|p| !overlaps(p)).count() as u32;
            doc.points.retain(|(start, end, ..)| !fresh.iter().any(|p| p.start < *end && *start < p.end));
            doc.points.extend(fresh.iter().map(|p| (p.start, p.end, p.value, p.at)));
            doc.points.sort_by_key(|p| p.0);
            save(self.store, &key, &doc).await?;
        }
        self.apply(|index| {
            index.coverage.add(covered_from, covered_to);
            true
        })
        .await?;
        Ok(new)
    }

    /// Stored points whose start lies in `[from, to)` (Paris dates), in order.
    pub async fn points(&self, from: Date, to: Date) -> Result<Vec<Point>> {
        let (start_ms, end_ms) = (from.paris_midnight_ms(), to.paris_midnight_ms());
        let mut points = Vec::new();
        let mut month = from.first_of_month();
        while month < to {
            if let Some(doc) = load::<MonthDoc>(self.store, &self.month_key(&month.month_name())).await? {
                points.extend(
                    doc.points
                        .into_iter()
                        .filter(|p| start_ms <= p.0 && p.0 < end_ms)
                        .map(|(start, end, value, at)| Point { start, end, value, at }),
                );
            }
            month = month.add_days(32).first_of_month();
        }
        Ok(points)
    }

    /// What is missing inside the fetched days: intervals with no point.
    pub async fn holes(&self, from: Date, to: Date) -> Result<Vec<Hole>> {
        let index = self.index().await?;
        let mut holes = Vec::new();
        for &(start, end) in index.coverage.ranges() {
            let (start, end) = (start.max(from), end.min(to));
            if start >= end {
                continue;
            }
            let mut cursor = start.paris_midnight_ms();
            for point in self.points(start, end).await? {
                if point.start > cursor {
                    holes.push(Hole { start: cursor, end: point.start });
                }
                cursor = cursor.max(point.end);
            }
            let range_end = end.paris_midnight_ms();
            if cursor < range_end {
                holes.push(Hole { start: cursor, end: range_end });
            }
        }
        Ok(holes)
    }
}
