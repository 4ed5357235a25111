//! OpenADR 2.0b VEN (pull mode, simpleHTTP), interoperating with the OpenLEADR
//! VTN: messages, XML-DSig signing and validation, and the VEN loop.
//! Ground truth: `shared/contracts/openadr.md`.

//! Laid out like every provider: `api` (the messages, built and read as
//! text), `model` (what they carry), `client` (the VEN loop over the seams),
//! plus `xml`, `dsig` (signatures), `keys` and `time` (durations).

pub mod api;
pub mod client;
pub mod dsig;
pub mod keys;
pub mod model;
pub mod time;
pub mod xml;

pub use api::ReportOffer;
pub use client::{Notice, Ven, VenConfig, VenHandler, PROVIDER};
pub use model::{Event, Opt, ReportPayload};
