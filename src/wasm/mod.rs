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

/// Talc instead of Rust's default wasm allocator (dlmalloc): ~7 KB smaller.
/// Measured slower on allocation-heavy work (a 1.5 MB token document parsed
/// and re-serialised: ~135 ms instead of ~105 ms); typical documents are a few
/// KB, where the difference is well under a millisecond. One thread only
/// (no atomics), which is how this module is built.
#[cfg(not(target_feature = "atomics"))]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
