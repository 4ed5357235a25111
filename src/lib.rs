//! wattbridge: home-energy provider logic written once, run from Node, a web
//! page or an extension page through WebAssembly.
//!
//! `core` holds the shared error type and the three seams (HTTP, store, clock);
//! each provider is a module of pure request builders and response readers plus
//! a little orchestration generic over those seams; `wasm` is the only place
//! that knows about JavaScript.

pub mod core;
#[cfg(feature = "providers")]
pub mod energyid;
#[cfg(feature = "providers")]
pub mod homeassistant;
#[cfg(feature = "providers")]
pub mod jeedom;
#[cfg(feature = "providers")]
pub mod linky;
#[cfg(feature = "providers")]
pub mod oauth;
#[cfg(feature = "openadr")]
pub mod openadr;
#[cfg(feature = "providers")]
pub mod bridge;
#[cfg(feature = "providers")]
pub mod weheat;

#[cfg(target_arch = "wasm32")]
pub mod wasm;
