//! The JavaScript edge: the only code that knows about wasm-bindgen. It plugs
//! fetch, a JS store and JS timers into the core's seams and turns core errors
//! into `WattbridgeError`s.

pub mod clock;
pub mod crypto;
mod energyid;
pub mod error;
pub mod http;
pub mod log;
mod linky;
mod oauth;
mod sync;
mod weheat;
pub mod store;
