//! HTTP as plain values.
//!
//! Providers build an [`HttpRequest`] with a pure function, hand it to whatever
//! [`HttpClient`] they were given (fetch in WASM, a scripted fake in tests) and read
//! the [`HttpResponse`] with another pure function. Nothing in the core opens a socket.

use super::error::{json_reason, Error, ErrorCode, Result};
use super::secret::Secret;
use serde::Deserialize;
use std::fmt;
use std::net::IpAddr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// A header value that may be a secret (provisioning secret, bearer token,
/// EnergyID webhook headers). Secret values are redacted in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub enum HeaderValue {
    Plain(String),
    Secret(Secret),
}

impl HeaderValue {
    pub fn expose(&self) -> &str {
        match self {
            HeaderValue::Plain(value) => value,
            HeaderValue::Secret(secret) => secret.expose(),
        }
    }
}

impl fmt::Debug for HeaderValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderValue::Plain(value) => fmt::Debug::fmt(value, f),
            HeaderValue::Secret(secret) => fmt::Debug::fmt(secret, f),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, HeaderValue)>,
    pub body: Option<String>,
    /// An answer longer than this is refused (`bad_response`) before it is
    /// read whole: a broken or hostile service cannot fill the memory.
    pub max_body_bytes: usize,
}

/// What a service may answer at most, unless a request says otherwise:
/// far above any answer of the contracts (a year of Enedis half-hours is 3 MB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 << 20;

impl HttpRequest {
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        HttpRequest { method, url: url.into(), headers: Vec::new(), body: None, max_body_bytes: DEFAULT_MAX_BODY_BYTES }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), HeaderValue::Plain(value.into())));
        self
    }

    pub fn secret_header(mut self, name: &str, value: Secret) -> Self {
        self.headers.push((name.to_owned(), HeaderValue::Secret(value)));
        self
    }

    /// Refuse an answer longer than `bytes`.
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    pub fn json_body(self, body: String) -> Self {
        let mut request = self.header("content-type", "application/json");
        request.body = Some(body);
        request
    }
}

/// The longest wait a `Retry-After` can ask for: a day. The server's number;
/// a bigger one (found by the fuzzer: 9.2e12 s) became a next-upload time
/// JavaScript cannot hold, and `energyid send` died printing it.
const MAX_RETRY_AFTER_SECS: u64 = 86_400;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names are lower-case.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn new(status: u16, body: impl Into<String>) -> Self {
        HttpResponse { status, headers: Vec::new(), body: body.into() }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `Retry-After` in seconds, at most a day. Only the delta-seconds form is
    /// read; an HTTP date or garbage gives `None` and callers fall back to
    /// their own backoff.
    pub fn retry_after(&self) -> Option<u64> {
        self.header("retry-after")?.trim().parse::<u64>().ok().map(|s| s.min(MAX_RETRY_AFTER_SECS))
    }

    /// When `Retry-After` allows the next try (unix ms), from either of its
    /// forms: delta-seconds, or an HTTP date (a date in the past means now),
    /// at most a day from now. `None` when the header is missing or unreadable.
    pub fn retry_after_at(&self, now_ms: i64) -> Option<i64> {
        let value = self.header("retry-after")?.trim();
        let latest = now_ms.saturating_add(MAX_RETRY_AFTER_SECS as i64 * 1000);
        if let Ok(seconds) = value.parse::<u64>() {
            return Some(now_ms.saturating_add(seconds.min(MAX_RETRY_AFTER_SECS) as i64 * 1000));
        }
        let at = httpdate::parse_http_date(value).ok()?;
        let secs = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
        Some((secs.min(i64::MAX as u64 / 1000) as i64 * 1000).clamp(now_ms, latest))
    }

    /// Parse a JSON body into `T`, turning every way it can fail into a
    /// `bad_response` that says what arrived instead (HTML, truncated JSON, a
    /// missing field) without echoing the body, which may hold secrets.
    pub fn json<'a, T: Deserialize<'a>>(&'a self, provider: &str, what: &str) -> Result<T> {
        self.check_not_html(provider, what)?;
        serde_json::from_str(&self.body).map_err(|err| self.json_failure(provider, what, &err))
    }

    fn check_not_html(&self, provider: &str, what: &str) -> Result<()> {
        let content_type = self.header("content-type").unwrap_or("");
        let looks_like_html = content_type.contains("html")
            || self.body.trim_start().starts_with('<');
        if looks_like_html {
            return Err(bad_response(
                provider,
                self.status,
                format!(
                    "{what}: expected JSON but got an HTML page (HTTP {}). \
                     Is the service URL right? A proxy or captive portal may be in the way.",
                    self.status
                ),
            ));
        }
        Ok(())
    }

    fn json_failure(&self, provider: &str, what: &str, err: &serde_json::Error) -> Error {
        let reason = if err.is_eof() {
            "the answer is cut short (truncated JSON)".to_owned()
        } else if err.is_data() {
            // serde's data errors name the field and the expected type.
            format!("unexpected content: {}", json_reason(err))
        } else {
            "the answer is not valid JSON".to_owned()
        };
        bad_response(provider, self.status, format!("{what}: {reason}"))
    }
}

fn bad_response(provider: &str, status: u16, message: String) -> Error {
    Error::new(ErrorCode::BadResponse, message).provider(provider.to_owned()).status(status)
}

/// The one seam through which the core reaches the network.
///
/// Futures are not `Send`: in WASM everything runs on one thread and JS values
/// cannot cross threads anyway.
#[allow(async_fn_in_trait)]
pub trait HttpClient {
    /// Send the request and return whatever status the server answered.
    /// Only transport failures (no connection, reset, unreadable body) are errors,
    /// with code `network`.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse>;
}

/// Check a configured service URL: `https://` anywhere, plain `http://` only
/// for loopback hosts (the sandbox and tests), so credentials never travel in
/// clear over a network.
pub fn check_service_url(setting: &str, url: &str) -> Result<()> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| {
        Error::invalid_config(format!("{setting} must be a full URL such as https://example.org/path"))
    })?;
    // What fetch and a simple reading of the authority could disagree on is
    // refused rather than guessed: spaces, control characters, and a user
    // name or password before an `@`.
    let authority = authority(rest);
    if authority.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid_config(format!("{setting} has spaces or control characters in its host name")));
    }
    if authority.contains('@') {
        return Err(Error::invalid_config(format!(
            "{setting} must not carry a user name or password (user@host): credentials have settings of their own"
        )));
    }
    let host = host_of(rest);
    if host.is_empty() {
        return Err(Error::invalid_config(format!("{setting} has no host name")));
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Ok(()),
        "http" if is_loopback(host) => Ok(()),
        "http" => Err(Error::invalid_config(format!(
            "{setting} uses plain http:// for {host}; only loopback hosts may use http, use https://"
        ))),
        other => Err(Error::invalid_config(format!(
            "{setting} has unsupported scheme {other}://; use https://"
        ))),
    }
}

/// The error for a redirect answer, which HTTP clients must not follow (a
/// credential sent to one host must not be replayed to another). `status` is
/// 0 for a browser's `opaqueredirect`; `location` is only shown by its host.
pub fn redirect_error(host: &str, status: u16, location: Option<String>) -> Error {
    let to = location.as_deref().map(host_of_url).filter(|h| !h.is_empty()).map(|h| format!(" to {h}")).unwrap_or_default();
    let shown = if status == 0 { "a redirect".to_owned() } else { format!("a redirect (HTTP {status}{to})") };
    let err = Error::new(
        ErrorCode::UnexpectedStatus,
        format!("{host} answered with {shown}; redirects are not followed: check the service URL (https://, the right host and path)"),
    );
    if status == 0 { err } else { err.status(status) }
}

/// `scheme://host[:port]` of a URL, lower-case, without userinfo: what a
/// browser calls its origin, for comparing where a credential may go.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host_port = host_port(rest);
    (!host_port.is_empty()).then(|| format!("{}://{}", scheme.to_ascii_lowercase(), host_port.to_ascii_lowercase()))
}

/// A URL as a log line may show it: scheme, host, port and path; never the
/// userinfo, the query or the fragment.
pub fn loggable_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return String::new() };
    let path = &rest[authority(rest).len()..];
    format!("{scheme}://{}{}", host_port(rest), path.split(['?', '#']).next().unwrap_or(""))
}

/// The host part of a URL (for messages): never the path or query, which may
/// carry codes or ids.
pub fn host_of_url(url: &str) -> &str {
    url.split_once("://").map(|(_, rest)| host_of(rest)).unwrap_or("")
}

/// The authority of what follows `scheme://`, ended where fetch (WHATWG URL)
/// ends it: at `/`, `\\`, `?` or `#`.
fn authority(after_scheme: &str) -> &str {
    after_scheme.split(['/', '\\', '?', '#']).next().unwrap_or("")
}

/// The authority without its userinfo: `host[:port]`.
fn host_port(after_scheme: &str) -> &str {
    let authority = authority(after_scheme);
    authority.rsplit('@').next().unwrap_or(authority)
}

fn host_of(after_scheme: &str) -> &str {
    let host_port = host_port(after_scheme);
    if let Some(bracketed) = host_port.strip_prefix('[') {
        return bracketed.split(']').next().unwrap_or("");
    }
    host_port.split(':').next().unwrap_or("")
}

/// `localhost`, 127.0.0.0/8 or `::1` (brackets of a URL's IPv6 host allowed).
fn is_loopback(host: &str) -> bool {
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    host.eq_ignore_ascii_case("localhost") || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Sample {
        #[allow(dead_code)]
        name: String,
    }

    #[test]
    fn service_urls_must_be_https_unless_loopback() {
        assert!(check_service_url("x", "https://hooks.energyid.eu/hello").is_ok());
        assert!(check_service_url("x", "http://127.0.0.1:8080/hello").is_ok());
        assert!(check_service_url("x", "http://localhost/hello").is_ok());
        assert!(check_service_url("x", "http://[::1]:9/hello").is_ok());
        let err = check_service_url("energyid.hello_url", "http://hooks.energyid.eu/hello").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidConfig);
        assert!(err.message.contains("energyid.hello_url"), "{}", err.message);
        assert!(err.message.contains("hooks.energyid.eu"));
        // A name that merely starts like a loopback address is not one.
        assert!(check_service_url("x", "http://127.0.0.1.evil.example/").is_err());
        assert_eq!(check_service_url("x", "ftp://x/").unwrap_err().code, ErrorCode::InvalidConfig);
        assert_eq!(check_service_url("x", "hooks.energyid.eu").unwrap_err().code, ErrorCode::InvalidConfig);
        assert_eq!(check_service_url("x", "https:///path").unwrap_err().code, ErrorCode::InvalidConfig);
    }

    #[test]
    fn only_loopback_hosts_are_loopback() {
        for host in ["localhost", "LocalHost", "127.0.0.1", "127.255.255.254", "::1", "[::1]", "0:0:0:0:0:0:0:1", "0000:0000::0001"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "127.0.0.01", "127.0.0", "127.0.0.1.", "127.0.0.1.evil.example", "0.0.0.0", "1.2.3.4", "::", "::ffff:127.0.0.1", "[::1",
            "::1]", "[[::1]]", "::1%eth0", "", "localhost.evil.example", "10.0.0.1",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn host_excludes_credentials_port_and_path() {
        assert_eq!(host_of_url("https://user:pw@example.org:8443/a?b=c"), "example.org");
        assert_eq!(host_of_url("http://[::1]:80/"), "::1");
    }

    #[test]
    fn redirect_errors_name_hosts_only() {
        let err = redirect_error("api.example", 302, Some("https://login.example/sso?ticket=secret".to_owned()));
        assert_eq!(err.code, ErrorCode::UnexpectedStatus);
        assert_eq!(err.status, Some(302));
        assert!(err.message.starts_with("api.example answered with a redirect (HTTP 302 to login.example);"), "{}", err.message);
        assert!(!err.message.contains("secret") && !err.message.contains("/sso"), "{}", err.message);
        let opaque = redirect_error("api.example", 0, None);
        assert_eq!(opaque.status, None);
        assert!(opaque.message.starts_with("api.example answered with a redirect;"), "{}", opaque.message);
    }

    #[test]
    fn html_answer_is_a_bad_response_that_says_so() {
        let response = HttpResponse::new(200, "<!doctype html><p>Login</p>")
            .with_header("Content-Type", "text/html");
        let err = response.json::<Sample>("energyid", "hello answer").unwrap_err();
        assert_eq!(err.code, ErrorCode::BadResponse);
        assert_eq!(err.status, Some(200));
        assert!(err.message.contains("HTML"), "{}", err.message);
    }

    #[test]
    fn truncated_and_incomplete_json_are_told_apart() {
        let truncated = HttpResponse::new(200, "{\"name\":\"ab");
        let err = truncated.json::<Sample>("energyid", "hello answer").unwrap_err();
        assert!(err.message.contains("truncated"), "{}", err.message);

        let missing = HttpResponse::new(200, "{\"other\":1}");
        let err = missing.json::<Sample>("energyid", "hello answer").unwrap_err();
        assert!(err.message.contains("missing field `name`"), "{}", err.message);
        assert!(!err.message.contains("line 1"), "{}", err.message);
    }

    #[test]
    fn retry_after_reads_delta_seconds_only() {
        let r = HttpResponse::new(429, "").with_header("Retry-After", " 30 ");
        assert_eq!(r.retry_after(), Some(30));
        let r = HttpResponse::new(429, "").with_header("Retry-After", "Wed, 21 Oct 2026 07:28:00 GMT");
        assert_eq!(r.retry_after(), None);
    }

    #[test]
    fn service_urls_are_read_the_way_fetch_reads_them() {
        // fetch (WHATWG) reads `\` as a path separator: the host below is evil.example.
        for fooled in ["http://evil.example\\@127.0.0.1/", "http://evil.example\\.127.0.0.1/"] {
            assert_eq!(check_service_url("x", fooled).unwrap_err().code, ErrorCode::InvalidConfig, "{fooled}");
        }
        for refused in ["http://user:s3cret@127.0.0.1/", "https://a b.example/", "https://host\texample/", "https://host\u{7f}.example/", "http://127.0.0.1 /"] {
            let err = check_service_url("x", refused).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidConfig, "{refused}");
            assert!(!err.message.contains("s3cret"), "no credentials in the message: {}", err.message);
        }
        for fine in ["https://hooks.energyid.eu/hello", "http://127.0.0.1:8080/x?y=1", "http://[::1]/", "http://localhost/", "https://example.org/path\\with\\backslashes"] {
            assert!(check_service_url("x", fine).is_ok(), "{fine}");
        }
    }

    #[test]
    fn log_lines_show_no_userinfo_query_or_fragment() {
        assert_eq!(loggable_url("https://user:SECRET@api.example:8443/v1/me?code=SECRET#SECRET"), "https://api.example:8443/v1/me");
        assert_eq!(loggable_url("http://127.0.0.1:9/x"), "http://127.0.0.1:9/x");
        assert_eq!(loggable_url("https://host.example"), "https://host.example");
        assert_eq!(loggable_url("not a url"), "");
    }

    #[test]
    fn retry_after_at_reads_both_forms() {
        let now = 1_792_567_680_000; // 2026-10-21T07:28:00Z
        let at = |value: &str| HttpResponse::new(429, "").with_header("Retry-After", value).retry_after_at(now);
        assert_eq!(at("30"), Some(now + 30_000));
        assert_eq!(at("Wed, 21 Oct 2026 07:30:00 GMT"), Some(now + 120_000));
        assert_eq!(at("Wednesday, 21-Oct-26 07:30:00 GMT"), Some(now + 120_000), "RFC 850, obsolete but allowed");
        assert_eq!(at("Tue, 20 Oct 2026 07:28:00 GMT"), Some(now), "a date in the past: now");
        assert_eq!(at("soon"), None);
        assert_eq!(HttpResponse::new(429, "").retry_after_at(now), None);
        // A wait beyond a day is read as a day, in either form.
        assert_eq!(at("9223685477580"), Some(now + 86_400_000));
        assert_eq!(at("Fri, 31 Dec 9999 23:59:59 GMT"), Some(now + 86_400_000));
        let response = HttpResponse::new(429, "").with_header("Retry-After", "99999999999999999999");
        assert_eq!((response.retry_after(), response.retry_after_at(now)), (None, None), "beyond u64: unreadable");
        assert_eq!(HttpResponse::new(429, "").with_header("Retry-After", "9223685477580").retry_after(), Some(86_400));
    }

    #[test]
    fn secret_headers_are_redacted_in_debug() {
        let request = HttpRequest::new(Method::Post, "https://example.org")
            .secret_header("authorization", Secret::new("Bearer abc.def"));
        let printed = format!("{request:?}");
        assert!(!printed.contains("abc.def"), "{printed}");
        assert!(printed.contains("[redacted]"));
    }
}
