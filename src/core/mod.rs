//! What every provider shares: the error type, secrets, and the seams through
//! which the pure core touches the world (HTTP, WebSocket, storage, time).

pub mod budget;
pub mod calendar;
pub mod clock;
pub mod crypto;
pub mod energy;
pub mod error;
pub mod form;
pub mod http;
pub mod secret;
pub mod store;
pub mod time;
pub mod ws;

pub use clock::Clock;
pub use crypto::{Crypto, PbkdfHash, PublicKeyCrypto, SignatureAlgorithm};
pub use energy::IntervalEnergy;
pub use error::{Disposition, Error, ErrorCode, Result};
pub use http::{HttpClient, HttpRequest, HttpResponse, Method};
pub use secret::Secret;
pub use store::Store;
pub use ws::WebSocket;
