//! OpenADR 2.0b VEN (pull mode, simpleHTTP), interoperating with the OpenLEADR
//! VTN: messages, XML-DSig signing and validation, and the VEN loop.
//! Ground truth: `shared/contracts/openadr.md`.

pub mod dsig;
pub mod keys;
pub mod messages;
pub mod time;
pub mod ven;
pub mod xml;

pub use messages::{Event, Opt, ReportOffer};
pub use ven::{Notice, Ven, VenConfig, VenHandler, PROVIDER};
