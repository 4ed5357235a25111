//! A string that never prints itself.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A token, password, provisioning secret or webhook header value.
///
/// `Debug` and `Display` print `[redacted]`, so a secret cannot reach a log line,
/// an error message or a panic message by accident. The value is only reachable
/// through [`Secret::expose`], which makes every use easy to audit with grep.
/// It serialises as the plain string because the store must be able to persist it
/// (the Node store writes such files with mode 0600).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_its_value() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret}"), "[redacted]");
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(&secret)), "Some([redacted])");
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn persists_as_the_plain_string() {
        let secret = Secret::new("s3cr3t");
        let json = serde_json::to_string(&secret).unwrap();
        assert_eq!(json, "\"s3cr3t\"");
        let back: Secret = serde_json::from_str(&json).unwrap();
        assert_eq!(back, secret);
    }
}
