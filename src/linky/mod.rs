//! Enedis Linky (../shared/contracts/linky.md): access through the device-flow
//! gateway, the Conso API or an own Enedis app; the five metering series;
//! request planning within Enedis' windows and quota; a local history; and
//! statistics in kWh and euros.

pub mod api;
pub mod client;
pub mod export;
pub mod history;
pub mod model;
pub mod plan;
pub mod stats;

pub const PROVIDER: &str = "linky";

pub use client::{FetchReport, Linky, LinkyConfig, Progress};
pub use model::{Point, Series};
pub use crate::core::time::Date;
