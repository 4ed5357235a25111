//! The providers as bridge sources: each adapter maps the bridge's channels
//! and resolutions onto its provider's series.

pub mod linky;
pub mod weheat;
