//! The JavaScript edge: the only code that knows about wasm-bindgen. It plugs
//! fetch, a JS store and JS timers into the core's seams and turns core errors
//! into `WattbridgeError`s.

pub mod clock;
pub mod crypto;
#[cfg(feature = "providers")]
mod energyid;
pub mod error;
pub mod http;
pub mod log;
#[cfg(feature = "providers")]
mod linky;
#[cfg(feature = "providers")]
mod oauth;
#[cfg(feature = "openadr")]
mod openadr;
#[cfg(feature = "providers")]
mod sync;
#[cfg(feature = "providers")]
mod weheat;
pub mod store;
#[cfg(feature = "providers")]
mod websocket;
