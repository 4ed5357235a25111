//! One OAuth 2.0 client for every provider: device code (RFC 8628), password,
//! authorization code + PKCE (RFC 7636), refresh with rotation, logout.

pub mod api;
pub mod client;
pub mod model;

pub use api::callback_params;
pub use client::{AuthorizationStart, OAuthClient};
pub use model::{DeviceVerification, OAuthConfig, TokenSet, TokenStatus};
