//! Jeedom: info commands of virtual equipments, written with their history
//! over Jeedom's JSON-RPC API (`core/api/jeeApi.php`, contract
//! ../shared/contracts/jeedom.md).
//!
//! Sans-IO like every provider: [`api`] builds the JSON-RPC requests and reads
//! the answers (Jeedom always answers HTTP 200; errors are JSON-RPC error
//! objects), [`model`] reads equipments and commands tolerantly (ids come back
//! as strings), and [`client`] runs the calls over the HTTP seam.

pub mod api;
pub mod client;
pub mod model;

pub use client::Jeedom;
pub use model::{Cmd, CmdSpec, EqLogic, SubType};

pub const PROVIDER: &str = "jeedom";
