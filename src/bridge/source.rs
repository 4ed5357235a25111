//! What the bridge asks of a source of interval energy.

use crate::core::{IntervalEnergy, Result};
use serde::Serialize;
use serde_json::{Map, Value};
use std::future::Future;
use std::pin::Pin;

/// A boxed future, so that sources and sinks can be trait objects: the bridge
/// runs a list of them without knowing their types.
pub type Pending<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + 'a>>;

/// How fine a channel's intervals are; ordered finest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resolution {
    HalfHour,
    Hour,
    Day,
}

impl Resolution {
    pub fn parse(name: &str) -> Option<Resolution> {
        match name {
            "half-hour" => Some(Resolution::HalfHour),
            "hour" => Some(Resolution::Hour),
            "day" => Some(Resolution::Day),
            _ => None,
        }
    }
}

/// One series a source can yield (consumption, production, heat, …).
#[derive(Debug)]
pub struct Channel {
    /// `consumption`, `production`, `heat`, `electricity`: what sinks map to their keys.
    pub name: &'static str,
    /// The resolutions it comes in, finest first. When the service has no data
    /// at one (`no_data`), the bridge falls back to the next.
    pub resolutions: &'static [Resolution],
    /// An optional channel that the service says does not exist
    /// (`wrong_direction`, `no_data`) is left out instead of failing the source.
    pub optional: bool,
}

/// What fetching one channel into the source's own history did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fetched {
    /// The source's own name of what was fetched (`load-curve`, `daily`, `energy-Hour`).
    pub series: String,
    /// Requests sent, retries included.
    pub requests: u32,
    /// The fewest requests the range could take.
    pub minimum_requests: u32,
    /// Gaps the service left (kept as gaps).
    pub holes: u32,
    /// Intervals new to the source's history (a new day, a filled hole): the
    /// service published something since the last fetch.
    pub fresh: u32,
}

/// Progress of a long fetch: `(stage, done, total)`.
pub type Progress<'a> = &'a dyn Fn(&str, u32, u32);

pub trait Source {
    /// `linky`, `weheat`: the name in reports, block documents and sink mappings.
    fn name(&self) -> &'static str;

    /// Every channel it can yield, in the order to fetch them.
    fn channels(&self) -> &'static [Channel];

    /// True when an earlier fetch showed that the channel does not exist at
    /// this resolution (a meter that does not produce): it is not asked again.
    fn known_absent<'a>(&'a self, channel: &'a Channel, resolution: Resolution) -> Pending<'a, bool>;

    /// Bring the source's history of a channel up to date from the service
    /// (from `since`, unix seconds, on a first run).
    fn fetch<'a>(&'a self, channel: &'a Channel, resolution: Resolution, since: Option<i64>, progress: Progress<'a>) -> Pending<'a, Fetched>;

    /// Ask the service again for `holes` (unix-second ranges a sink found
    /// empty) and store what it now has. Resolves to the requests sent and the
    /// intervals new to the history. Default: a source that cannot ask again.
    fn refill<'a>(&'a self, _channel: &'a Channel, _resolution: Resolution, _holes: &'a [(i64, i64)]) -> Pending<'a, (u32, u32)> {
        Box::pin(async { Ok((0, 0)) })
    }

    /// Where the stored intervals begin and end (unix seconds).
    fn span<'a>(&'a self, channel: &'a Channel, resolution: Resolution) -> Pending<'a, Option<(i64, i64)>>;

    /// Stored intervals that start in `[from, to)`, oldest first.
    fn energy<'a>(&'a self, channel: &'a Channel, resolution: Resolution, from: i64, to: i64) -> Pending<'a, Vec<IntervalEnergy>>;

    /// What its data are of, once fetched: a meter's PRM, a pump's id (for
    /// sinks whose keys name it).
    fn subject(&self) -> Option<String> {
        None
    }

    /// Report fields of its own (the meter or pump, totals), given the kWh of
    /// the new data per channel.
    fn describe(&self, new_kwh: &[(&'static str, f64)]) -> Map<String, Value>;
}
