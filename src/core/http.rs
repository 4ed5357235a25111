//! HTTP as plain values.
//!
//! Providers build an [`HttpRequest`] with a pure function, hand it to whatever
//! [`HttpClient`] they were given (fetch in WASM, a scripted fake in tests) and read
//! the [`HttpResponse`] with another pure function. Nothing in the core opens a socket.

use super::error::{Error, ErrorCode, Result};
use super::json::{self, JsonError};
use super::secret::Secret;
use serde::de::DeserializeOwned;
use std::fmt;

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
}

impl HttpRequest {
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        HttpRequest { method, url: url.into(), headers: Vec::new(), body: None }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), HeaderValue::Plain(value.into())));
        self
    }

    pub fn secret_header(mut self, name: &str, value: Secret) -> Self {
        self.headers.push((name.to_owned(), HeaderValue::Secret(value)));
        self
    }

    pub fn json_body(self, body: String) -> Self {
        let mut request = self.header("content-type", "application/json");
        request.body = Some(body);
        request
    }
}

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

    /// `Retry-After` in seconds. Only the delta-seconds form is read; an HTTP
    /// date or garbage gives `None` and callers fall back to their own backoff.
    pub fn retry_after(&self) -> Option<u64> {
        self.header("retry-after")?.trim().parse().ok()
    }

    /// Parse a JSON body into `T`, turning every way it can fail into a
    /// `bad_response` that says what arrived instead (HTML, truncated JSON, a
    /// missing field) without echoing the body, which may hold secrets.
    pub fn json<T: DeserializeOwned>(&self, provider: &str, what: &str) -> Result<T> {
        // Only this line is compiled per type; the checks and messages once.
        json::from_value(self.json_value(provider, what)?).map_err(|err| self.json_failure(provider, what, err))
    }

    /// A body of several shapes (what `#[serde(untagged)]` would read, without
    /// its ~5 KB of wasm): `read` picks the shape from the `Value`; `None` fails
    /// with serde's untagged message naming `shapes`.
    #[cfg_attr(not(feature = "providers"), allow(dead_code))]
    pub(crate) fn json_shapes<T>(&self, provider: &str, what: &str, shapes: &str, read: impl FnOnce(serde_json::Value) -> Option<T>) -> Result<T> {
        let value = self.json_value(provider, what)?;
        read(value).ok_or_else(|| {
            self.json_failure(provider, what, JsonError::Data(format!("data did not match any variant of untagged enum {shapes}")))
        })
    }

    fn json_value(&self, provider: &str, what: &str) -> Result<serde_json::Value> {
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
        json::parse_value(&self.body).map_err(|err| self.json_failure(provider, what, err))
    }

    fn json_failure(&self, provider: &str, what: &str, err: JsonError) -> Error {
        let reason = if err.is_eof() {
            "the answer is cut short (truncated JSON)".to_owned()
        } else if err.is_data() {
            // serde's data errors name the field and the expected type, never the value.
            format!("unexpected content: {}", err.reason())
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

/// The host part of a URL (for messages): never the path or query, which may
/// carry codes or ids.
pub fn host_of_url(url: &str) -> &str {
    url.split_once("://").map(|(_, rest)| host_of(rest)).unwrap_or("")
}

fn host_of(after_scheme: &str) -> &str {
    let authority = after_scheme.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    if let Some(bracketed) = host_port.strip_prefix('[') {
        return bracketed.split(']').next().unwrap_or("");
    }
    host_port.split(':').next().unwrap_or("")
}

/// `localhost`, 127.0.0.0/8 or `::1`. The address syntax is exactly that of
/// `str::parse::<IpAddr>` (a test checks both agree), written out because
/// std's parser costs about 3 KB of wasm for this one check.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || ipv4(host).is_some_and(|octets| octets[0] == 127)
        || ipv6(host) == Some([0, 0, 0, 0, 0, 0, 0, 1])
}

/// Four dot-separated decimal octets without leading zeros.
fn ipv4(text: &str) -> Option<[u8; 4]> {
    let mut octets = [0u8; 4];
    let mut parts = text.split('.');
    for octet in &mut octets {
        let part = parts.next()?.as_bytes();
        if part.is_empty() || part.len() > 3 || (part.len() > 1 && part[0] == b'0') {
            return None;
        }
        *octet = part.iter().try_fold(0u8, |n, &b| {
            b.is_ascii_digit().then_some(())?;
            n.checked_mul(10)?.checked_add(b - b'0')
        })?;
    }
    parts.next().is_none().then_some(octets)
}

/// Eight groups of 1-4 hex digits; one `::` may stand for one or more zero
/// groups, and the last two groups may be written as an IPv4 address.
fn ipv6(text: &str) -> Option<[u16; 8]> {
    fn groups(part: &str, ipv4_last: bool, out: &mut Vec<u16>) -> Option<()> {
        if part.is_empty() {
            return Some(());
        }
        let mut pieces = part.split(':').peekable();
        while let Some(piece) = pieces.next() {
            if ipv4_last && pieces.peek().is_none() && piece.contains('.') {
                let [a, b, c, d] = ipv4(piece)?;
                out.extend([u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d])]);
            } else if (1..=4).contains(&piece.len()) {
                out.push(piece.chars().try_fold(0u16, |n, c| Some(n << 4 | c.to_digit(16)? as u16))?);
            } else {
                return None;
            }
        }
        Some(())
    }
    let mut head = Vec::new();
    let mut tail = Vec::new();
    match text.split_once("::") {
        None => {
            groups(text, true, &mut head)?;
            (head.len() == 8).then_some(())?;
        }
        Some((before, after)) => {
            groups(before, false, &mut head)?;
            groups(after, true, &mut tail)?;
            (head.len() + tail.len() <= 7).then_some(())?;
        }
    }
    let mut address = [0u16; 8];
    address[..head.len()].copy_from_slice(&head);
    address[8 - tail.len()..].copy_from_slice(&tail);
    Some(address)
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
    fn loopback_parsing_agrees_with_std() {
        use std::net::{Ipv4Addr, Ipv6Addr};
        let check = |text: &str| {
            assert_eq!(ipv4(text), text.parse::<Ipv4Addr>().ok().map(|a| a.octets()), "ipv4 {text:?}");
            assert_eq!(ipv6(text), text.parse::<Ipv6Addr>().ok().map(|a| a.segments()), "ipv6 {text:?}");
            let std_loopback = text.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
            assert_eq!(is_loopback(text), std_loopback || text.eq_ignore_ascii_case("localhost"), "{text:?}");
        };
        for text in [
            "127.0.0.1", "127.255.255.254", "127.0.0.01", "127.0.0", "127.0.0.1.", "127.0.0.256", "0.0.0.0", "1.2.3.4",
            "::1", "0:0:0:0:0:0:0:1", "0000:0000::0001", "::0.0.0.1", "::ffff:127.0.0.1", "1::", "::", ":::1", "1:::1",
            "1::2::3", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "1:2:3:4:5:6:7::8", "::1:2:3:4:5:6:7", "1:2:3:4:5:6:1.2.3.4",
            "1.2.3.4::", "::1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "::00001", "::fFfF", "::1%eth0", "", ".", "::1:", ":1::",
            "+1.2.3.4", "1.2.3.+4", "[::1]", "LOCALHOST",
        ] {
            check(text);
        }
        // A small deterministic fuzz over the pieces that matter.
        let pieces = ["0", "1", "7", "127", "01", "256", "0000", "00001", "fFfF", "1.2.3.4", "0.0.0.1", ":", "::", "."];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..300_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 12) as usize;
            let text: String = (0..len).map(|i| pieces[(state >> (4 + 5 * i)) as usize % pieces.len()]).collect();
            check(&text);
        }
    }

    #[test]
    fn host_excludes_credentials_port_and_path() {
        assert_eq!(host_of_url("https://user:pw@example.org:8443/a?b=c"), "example.org");
        assert_eq!(host_of_url("http://[::1]:80/"), "::1");
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
    fn secret_headers_are_redacted_in_debug() {
        let request = HttpRequest::new(Method::Post, "https://example.org")
            .secret_header("authorization", Secret::new("Bearer abc.def"));
        let printed = format!("{request:?}");
        assert!(!printed.contains("abc.def"), "{printed}");
        assert!(printed.contains("[redacted]"));
    }
}
