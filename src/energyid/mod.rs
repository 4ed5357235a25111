//! EnergyID Webhook V2 (../shared/contracts/energyid.md): provisioning and sending.

pub mod api;
pub mod client;
pub mod model;
pub mod outbox;

pub const PROVIDER: &str = "energyid";

pub use client::{EnergyIdConfig, EnergyIdDevice, HelloSummary, SendReport};
pub use model::Reading;
