//! The one error type every provider returns.
//!
//! `code` is the stable, machine-readable part (scripts and the CLI branch on it);
//! `message` is for a person and says what to do next. Neither ever contains a
//! secret: messages are built from our own words, hosts and field names, never
//! from headers or tokens.

use std::borrow::Cow;
use std::fmt;

/// Stable error codes. The string forms are part of the public API (JS `error.code`,
/// CLI `--json` output, exit-code mapping): never rename one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// A value given by the caller is wrong (a reading, a date, a key name).
    InvalidInput,
    /// A setting (URL, key, file) is missing or malformed.
    InvalidConfig,
    /// The host could not be reached or the connection dropped.
    Network,
    /// The service answered something we cannot read (HTML, truncated JSON, a missing field).
    BadResponse,
    /// The service answered 5xx.
    Unavailable,
    /// The service answered a status we did not expect.
    UnexpectedStatus,
    /// Credentials are missing, expired or revoked: log in again.
    AuthRequired,
    /// The service refused the credentials we were given (wrong key/secret/password).
    InvalidCredentials,
    /// Too many requests; `retry_after` says when to try again when the service told us.
    RateLimited,
    /// The EnergyID device has not been claimed yet.
    NotClaimed,
    /// EnergyID answered 403: the webhook is disabled for this record.
    WebhookDisabled,
    /// The service rejected the payload (HTTP 400) and said why.
    Rejected,
    /// A stored document is not what we wrote (hand-edited or damaged).
    CorruptState,
    /// The store could not be read or written.
    Storage,
    /// Enedis: no consent for this meter (or it expired): give a new one.
    ConsentRequired,
    /// Enedis has no data for this range, often because the meter's hourly
    /// collection is switched off.
    NoData,
    /// Enedis: consumption asked of a production-only meter, or the reverse.
    WrongDirection,
    /// Enedis: the range starts before the history the meter keeps.
    BeforeHistoryLimit,
    /// Enedis: the range starts before the meter was activated.
    BeforeActivation,
    /// OpenADR: a message's signature, certificate fingerprint or replay
    /// protection failed; the message was dropped unread.
    SignatureInvalid,
    /// Another wattbridge process holds the lock on the same state (a sync
    /// already running): nothing was done, try again when it has finished.
    Busy,
    /// The service's TLS certificate could not be verified (unknown
    /// authority, made out to another name, expired) or it refused ours:
    /// retrying cannot fix that, a person must (a CA file, the right URL,
    /// a renewed certificate, the machine's clock).
    TlsCertificate,
}

/// What has to happen before an error can go away. The CLI's exit codes and
/// the bridge's block policy both come from here, so they cannot disagree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Disposition {
    /// A person must act (log in, consent, claim, re-enable): retrying on a
    /// schedule helps nobody, so the bridge pauses the source. Exit code 3.
    Person,
    /// Temporary (rate limit, outage, a garbled answer, a busy lock): the next
    /// run goes on where this one stopped. Exit code 4.
    RetryLater,
    /// The command, a value or a setting is wrong: fix it and run again.
    /// Exit code 2.
    BadInput,
}

impl Disposition {
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Person => "person",
            Disposition::RetryLater => "retry_later",
            Disposition::BadInput => "bad_input",
        }
    }

    /// The process exit code a scheduler acts on (0 is success, 1 a bug).
    pub fn exit_code(self) -> i32 {
        match self {
            Disposition::BadInput => 2,
            Disposition::Person => 3,
            Disposition::RetryLater => 4,
        }
    }
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 22] = [
        ErrorCode::InvalidInput,
        ErrorCode::InvalidConfig,
        ErrorCode::Network,
        ErrorCode::BadResponse,
        ErrorCode::Unavailable,
        ErrorCode::UnexpectedStatus,
        ErrorCode::AuthRequired,
        ErrorCode::InvalidCredentials,
        ErrorCode::RateLimited,
        ErrorCode::NotClaimed,
        ErrorCode::WebhookDisabled,
        ErrorCode::Rejected,
        ErrorCode::CorruptState,
        ErrorCode::Storage,
        ErrorCode::ConsentRequired,
        ErrorCode::NoData,
        ErrorCode::WrongDirection,
        ErrorCode::BeforeHistoryLimit,
        ErrorCode::BeforeActivation,
        ErrorCode::SignatureInvalid,
        ErrorCode::Busy,
        ErrorCode::TlsCertificate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::InvalidConfig => "invalid_config",
            ErrorCode::Network => "network",
            ErrorCode::BadResponse => "bad_response",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::UnexpectedStatus => "unexpected_status",
            ErrorCode::AuthRequired => "auth_required",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::NotClaimed => "not_claimed",
            ErrorCode::WebhookDisabled => "webhook_disabled",
            ErrorCode::Rejected => "rejected",
            ErrorCode::CorruptState => "corrupt_state",
            ErrorCode::Storage => "storage",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::NoData => "no_data",
            ErrorCode::WrongDirection => "wrong_direction",
            ErrorCode::BeforeHistoryLimit => "before_history_limit",
            ErrorCode::BeforeActivation => "before_activation",
            ErrorCode::SignatureInvalid => "signature_invalid",
            ErrorCode::Busy => "busy",
            ErrorCode::TlsCertificate => "tls_certificate",
        }
    }

    /// The one table of what each code asks for (see [`Disposition`]).
    pub fn disposition(self) -> Disposition {
        use Disposition::*;
        match self {
            ErrorCode::AuthRequired
            | ErrorCode::InvalidCredentials
            | ErrorCode::NotClaimed
            | ErrorCode::ConsentRequired
            // Enedis: switch on the meter's hourly collection (the bridge
            // falls back to daily values before this reaches a person).
            | ErrorCode::NoData
            | ErrorCode::WebhookDisabled
            | ErrorCode::SignatureInvalid
            // Not `network`: the same certificate fails the same way on
            // every retry, so a scheduler retrying it only hides the problem.
            | ErrorCode::TlsCertificate => Person,
            ErrorCode::Network
            | ErrorCode::Unavailable
            | ErrorCode::RateLimited
            | ErrorCode::BadResponse
            | ErrorCode::UnexpectedStatus
            | ErrorCode::Storage
            | ErrorCode::Busy => RetryLater,
            ErrorCode::InvalidInput
            | ErrorCode::InvalidConfig
            | ErrorCode::CorruptState
            | ErrorCode::Rejected
            | ErrorCode::WrongDirection
            | ErrorCode::BeforeHistoryLimit
            | ErrorCode::BeforeActivation => BadInput,
        }
    }

    /// The inverse of [`ErrorCode::as_str`], used when a JS store throws a
    /// `WattbridgeError` that must keep its code on its way back through Rust.
    pub fn parse(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == code)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub code: ErrorCode,
    /// `"energyid"`, `"linky"`, `"weheat"`, `"openadr"` (or a name a JS caller
    /// chose for its own OAuth client), or `None` for core errors.
    pub provider: Option<Cow<'static, str>>,
    /// The HTTP status that caused the error, when there was one.
    pub status: Option<u16>,
    /// Seconds to wait before trying again, when the service said so.
    pub retry_after: Option<u64>,
    pub message: String,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error { code, provider: None, status: None, retry_after: None, message: message.into() }
    }

    pub fn provider(mut self, provider: impl Into<Cow<'static, str>>) -> Self {
        self.provider = Some(provider.into());
        self
    }

    pub fn status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    pub fn retry_after(mut self, seconds: Option<u64>) -> Self {
        self.retry_after = seconds;
        self
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::InvalidInput, message)
    }

    pub fn invalid_config(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::InvalidConfig, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        let mut details = vec![format!("code {}", self.code)];
        if let Some(status) = self.status {
            details.push(format!("HTTP {status}"));
        }
        if let Some(seconds) = self.retry_after {
            details.push(format!("retry after {seconds} s"));
        }
        write!(f, " [{}]", details.join(", "))
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// serde_json's reason without its " at line 1 column 42" suffix, which means
/// nothing to a person. Its data errors name fields and types, never values.
pub(crate) fn json_reason(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.split_once(" at line ") {
        Some((reason, _)) => reason.to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_their_names() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
        }
        assert_eq!(ErrorCode::parse("no_such_code"), None);
    }

    #[test]
    fn every_code_has_one_disposition_and_exit_code() {
        use Disposition::*;
        let table: Vec<(&str, Disposition, i32)> = ErrorCode::ALL.iter().map(|c| (c.as_str(), c.disposition(), c.disposition().exit_code())).collect();
        let expected = [
            ("invalid_input", BadInput, 2),
            ("invalid_config", BadInput, 2),
            ("network", RetryLater, 4),
            ("bad_response", RetryLater, 4),
            ("unavailable", RetryLater, 4),
            ("unexpected_status", RetryLater, 4),
            ("auth_required", Person, 3),
            ("invalid_credentials", Person, 3),
            ("rate_limited", RetryLater, 4),
            ("not_claimed", Person, 3),
            ("webhook_disabled", Person, 3),
            ("rejected", BadInput, 2),
            ("corrupt_state", BadInput, 2),
            ("storage", RetryLater, 4),
            ("consent_required", Person, 3),
            ("no_data", Person, 3),
            ("wrong_direction", BadInput, 2),
            ("before_history_limit", BadInput, 2),
            ("before_activation", BadInput, 2),
            ("signature_invalid", Person, 3),
            ("busy", RetryLater, 4),
            ("tls_certificate", Person, 3),
        ];
        assert_eq!(table, expected);
        let names: std::collections::BTreeSet<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), ErrorCode::ALL.len(), "no two codes share a name");
    }

    #[test]
    fn display_names_code_status_and_retry() {
        let err = Error::new(ErrorCode::RateLimited, "EnergyID asks us to slow down")
            .status(429)
            .retry_after(Some(30));
        assert_eq!(
            err.to_string(),
            "EnergyID asks us to slow down [code rate_limited, HTTP 429, retry after 30 s]"
        );
    }
}
