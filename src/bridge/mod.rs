//! The main job: **sources** (Linky, Weheat) yield interval energy, the bridge
//! turns it into cumulative meter readings, and **sinks** (EnergyID, and the
//! home-automation targets to come) take them.
//!
//! The bridge owns what must be right once for every pair: the cursors (one
//! per sink and series), the cumulative index, the block policy (timed on the
//! `Clock` seam), the resolution fallbacks, the merge per timestamp, and the
//! rule that keeps data safe — rows are queued in the sink before a cursor
//! moves, so a crash between two steps only queues the same rows again.
//!
//! Sources and sinks are traits: a new one is a new file under `sources/` or
//! `sinks/` and changes no line of [`run`]. Providers never import the bridge.

pub mod index;
mod run;
pub mod sink;
pub mod sinks;
pub mod source;
pub mod sources;

pub use run::{Bridge, SyncOptions, BLOCK_SECS, WINDOW_SECS};
pub use sink::{Row, Sink, SourceData};
pub use source::{Channel, Fetched, Pending, Resolution, Source};
