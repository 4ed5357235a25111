//! The WebSocket seam: a connection the platform opened (`ws` in Node, the
//! browser's own `WebSocket` in a page), carrying text frames. The protocol
//! spoken over it (Home Assistant's) is pure Rust; only bytes cross here.

use super::Result;

#[allow(async_fn_in_trait)]
pub trait WebSocket {
    /// Send one text frame. A closed connection is a `network` error.
    async fn send(&self, text: String) -> Result<()>;
    /// The next text frame from the peer, in order. A connection that closed,
    /// failed or stayed silent too long is a `network` error.
    async fn receive(&self) -> Result<String>;
}
