//! The targets as bridge sinks.

pub mod energyid;
pub mod mqtt;
pub mod homeassistant;
pub mod jeedom;
