//! Home Assistant: long-term statistics over its WebSocket API.
//!
//! Sans-IO like every provider: [`api`] writes the frames and reads the
//! answers, [`statistics`] turns interval energy into the hourly rows HA keeps
//! (holes stay holes, `sum` continuous), and [`client`] runs the exchange over
//! the [`WebSocket`](crate::core::WebSocket) seam, which the JS side fills
//! with `ws` in Node or the browser's own WebSocket in a page.

pub mod api;
pub mod client;
pub mod model;
pub mod statistics;

pub use client::Connection;
pub use model::{Schema, StatRow, Statistic};

pub const PROVIDER: &str = "homeassistant";
