//! Weheat heat pumps (../shared/contracts/weheat.md): Keycloak login through
//! the OAuth module, reads of pumps, logs and energy, derived electricity,
//! heat and COP, a request budget, gap filling and a polite watch loop.

pub mod api;
pub mod client;
pub mod derive;
pub mod history;
pub mod model;

pub const PROVIDER: &str = "weheat";

pub use client::{Weheat, WeheatConfig};
pub use model::{Interval, Pump};
