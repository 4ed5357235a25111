//! `HttpClient` over `fetch`: the global one (`globalThis.fetch`), so it
//! works in Node >= 20, pages, workers and extension pages alike, or one the
//! JS side hands over (Node's fetch with an undici dispatcher carrying TLS
//! options, for the OpenADR VEN). gloo-net builds the requests and reads the
//! responses.
//!
//! Two things are done around it:
//! - Redirects are never followed: a credential sent to one host must not be
//!   replayed to another. Requests go out with `redirect: "manual"`; Node
//!   (undici) then hands back the 3xx itself, browsers an `opaqueredirect`
//!   response with status 0. Both become an `unexpected_status` error naming
//!   the host (never the URL's path or query).
//! - The headers are put into a `web_sys::Headers` here, so that a header
//!   name or value `fetch` refuses is an `invalid_input` error rather than
//!   gloo-net's `unwrap_throw`.
//!
//! `fetch` is called here rather than through gloo-net's `send`, so that a
//! rejection of any shape is read without a panic, and Node's reason for a
//! failed connection (`cause.code`, e.g. a TLS certificate from an unknown
//! authority) can be told to the person.

use super::log;
use crate::core::http::{host_of_url, loggable_url, redirect_error};
use crate::core::{Error, ErrorCode, HttpClient, HttpRequest, HttpResponse, Result};
use gloo_net::http::{Headers, Method, RequestBuilder};
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{RequestRedirect, ResponseType};

/// A request that has not answered after this long is abandoned as a network error.
const REQUEST_TIMEOUT_MS: u32 = 30_000;

/// `fetch(request)`: the global one unless another was handed over.
#[derive(Clone, Default)]
pub struct FetchHttp {
    fetch: Option<Function>,
}

impl FetchHttp {
    /// Requests go through `fetch` (called as `fetch(request)` with a
    /// `Request`, answering a Promise of a `Response`) instead of the global one.
    pub fn with_fetch(fetch: Function) -> FetchHttp {
        FetchHttp { fetch: Some(fetch) }
    }

    fn fetch_function(&self) -> std::result::Result<Function, &'static str> {
        match &self.fetch {
            Some(fetch) => Ok(fetch.clone()),
            None => Reflect::get(&js_sys::global(), &JsValue::from_str("fetch")).ok().and_then(|f| f.dyn_into().ok()).ok_or("this platform has no fetch"),
        }
    }
}

/// A request `RequestBuilder` could not make, in our words (its own may quote a header value).
fn describe_build(err: &gloo_net::Error) -> &'static str {
    match err {
        gloo_net::Error::JsError(js) if js.name == "TypeError" => "fetch refuses the URL, method or body",
        _ => "the request could not be made",
    }
}

/// Why `fetch` rejected, in our words, and the error code it deserves: JS's
/// own messages may quote the URL (with its query or userinfo, in a form we
/// cannot reliably find to remove) or a header value, so only the kind of
/// error is kept, and Node's error code (`cause.code`, a name such as
/// `ECONNREFUSED`, never a value) when it says something a person can act
/// on. A certificate failure is `tls_certificate` (a person must act), the
/// rest `network` (retry later).
fn describe(reason: &JsValue) -> (ErrorCode, String) {
    let network = |why: &str| (ErrorCode::Network, why.to_owned());
    let text = |value: &JsValue, key: &str| Reflect::get(value, &JsValue::from_str(key)).ok().and_then(|v| v.as_string());
    let name = text(reason, "name").unwrap_or_default();
    if name == "TimeoutError" || name == "AbortError" {
        return network("no answer within 30 s");
    }
    if name != "TypeError" {
        return network("the request could not be made");
    }
    let code = Reflect::get(reason, &JsValue::from_str("cause")).ok().and_then(|cause| text(&cause, "code"));
    // Only a code that looks like one is quoted.
    let code = code.filter(|c| !c.is_empty() && c.len() <= 64 && c.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'));
    let Some(code) = code else { return network("the connection failed or was refused") };
    let (error, what) = match code.as_str() {
        "UNABLE_TO_VERIFY_LEAF_SIGNATURE" | "SELF_SIGNED_CERT_IN_CHAIN" | "DEPTH_ZERO_SELF_SIGNED_CERT" | "UNABLE_TO_GET_ISSUER_CERT" | "UNABLE_TO_GET_ISSUER_CERT_LOCALLY" => {
            (ErrorCode::TlsCertificate, "its TLS certificate is not signed by an authority this program trusts")
        }
        "ERR_TLS_CERT_ALTNAME_INVALID" => (ErrorCode::TlsCertificate, "its TLS certificate is made out to another host name"),
        "CERT_HAS_EXPIRED" | "CERT_NOT_YET_VALID" => (ErrorCode::TlsCertificate, "its TLS certificate is expired or not yet valid"),
        "ECONNREFUSED" => (ErrorCode::Network, "the connection was refused"),
        "ENOTFOUND" | "EAI_AGAIN" => (ErrorCode::Network, "the host name could not be resolved"),
        // Any other certificate problem (ours refused, a revoked one, …).
        c if c.contains("CERT") => (ErrorCode::TlsCertificate, "the TLS handshake failed over a certificate"),
        c if c.starts_with("ERR_TLS") || c.starts_with("ERR_SSL") => (ErrorCode::Network, "the TLS handshake failed"),
        _ => (ErrorCode::Network, "the connection failed"),
    };
    (error, format!("{what} ({code})"))
}

fn method(method: crate::core::Method) -> Method {
    match method {
        crate::core::Method::Get => Method::GET,
        crate::core::Method::Post => Method::POST,
        crate::core::Method::Put => Method::PUT,
        crate::core::Method::Delete => Method::DELETE,
    }
}

/// The request's headers; `Headers.set` throws a TypeError for a malformed
/// name or value, whose text quotes the value (a token): only the header's
/// name is kept, as the error.
fn headers(request: &HttpRequest) -> std::result::Result<web_sys::Headers, String> {
    let headers = web_sys::Headers::new().map_err(|_| "no Headers".to_owned())?;
    for (name, value) in &request.headers {
        // `set`, not `append`: a later header of the same name replaces an earlier one.
        headers.set(name, value.expose()).map_err(|_| name.clone())?;
    }
    Ok(headers)
}

enum Read {
    TooLarge,
    Dropped,
}

/// The answer's text, read chunk by chunk and abandoned as soon as it passes
/// `limit` bytes (a `Content-Length` over it is refused before any chunk).
async fn read_capped(response: &gloo_net::http::Response, limit: usize) -> std::result::Result<String, Read> {
    let declared = response.headers().get("content-length").and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(Read::TooLarge);
    }
    let Some(stream) = response.body() else { return Ok(String::new()) };
    let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut bytes: Vec<u8> = Vec::new();
    loop {
        let chunk = wasm_bindgen_futures::JsFuture::from(reader.read()).await.map_err(|_| Read::Dropped)?;
        let done = js_sys::Reflect::get(&chunk, &JsValue::from_str("done")).ok().and_then(|v| v.as_bool()).unwrap_or(true);
        if done {
            break;
        }
        let value = js_sys::Reflect::get(&chunk, &JsValue::from_str("value")).map_err(|_| Read::Dropped)?;
        let part = js_sys::Uint8Array::new(&value);
        let start = bytes.len();
        if start + part.length() as usize > limit {
            let _ = reader.cancel();
            return Err(Read::TooLarge);
        }
        bytes.resize(start + part.length() as usize, 0);
        part.copy_to(&mut bytes[start..]);
    }
    // As Response.text() decodes: UTF-8, malformed sequences replaced.
    Ok(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
    })
}

impl HttpClient for FetchHttp {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        let host = host_of_url(&request.url);
        let invalid = |text: String| Error::new(ErrorCode::InvalidInput, format!("cannot build request to {host}: {text}"));
        let raw_headers = headers(&request).map_err(|name| invalid(format!("the header {name} has a name or value that fetch refuses (a line break, say)")))?;
        let signal = web_sys::AbortSignal::timeout_with_u32(REQUEST_TIMEOUT_MS);
        let builder = RequestBuilder::new(&request.url)
            .method(method(request.method))
            .headers(Headers::from_raw(raw_headers))
            .redirect(RequestRedirect::Manual)
            .abort_signal(Some(&signal));
        let prepared = match &request.body {
            Some(body) => builder.body(JsValue::from_str(body)),
            None => builder.build(),
        }
        .map_err(|err| invalid(describe_build(&err).to_owned()))?;
        let fetch = self.fetch_function().map_err(|text| invalid(text.to_owned()))?;

        let started = js_sys::Date::now();
        // Never the query: it is the one part of a URL that could carry a code.
        let shown = log::enabled().then(|| format!("{} {}", request.method.as_str(), loggable_url(&request.url)));
        let prepared: web_sys::Request = prepared.into();
        let answer = match fetch.call1(&js_sys::global(), &prepared) {
            Ok(promise) => JsFuture::from(Promise::resolve(&promise)).await,
            Err(thrown) => Err(thrown),
        };
        let response: gloo_net::http::Response = match answer {
            Ok(value) if value.is_instance_of::<web_sys::Response>() => value.unchecked_into::<web_sys::Response>().into(),
            Ok(_) => return Err(Error::new(ErrorCode::Network, format!("could not reach {host}: fetch answered something other than a Response"))),
            Err(reason) => {
                let (code, why) = describe(&reason);
                if let Some(shown) = &shown {
                    log::debug(&format!("{shown} -> failed: {why}"));
                }
                return Err(Error::new(code, format!("could not reach {host}: {why}")));
            }
        };
        let status = response.status();
        if let Some(shown) = &shown {
            log::debug(&format!("{shown} -> {status} in {} ms", (js_sys::Date::now() - started) as i64));
        }
        // 304 is not a redirect (and we never send conditional requests).
        if response.type_() == ResponseType::Opaqueredirect || ((300..400).contains(&status) && status != 304) {
            return Err(redirect_error(host, status, response.headers().get("location")));
        }
        // Names come lower-case from `fetch`.
        let headers = response.headers().entries().map(|(name, value)| (name.to_ascii_lowercase(), value)).collect();
        let body = read_capped(&response, request.max_body_bytes).await.map_err(|failure| match failure {
            Read::TooLarge => Error::new(
                ErrorCode::BadResponse,
                format!("{host} answered more than {} MB; it was refused before being read whole", request.max_body_bytes >> 20),
            ),
            Read::Dropped => Error::new(ErrorCode::Network, format!("connection dropped while reading the answer of {host}")),
        })?;
        Ok(HttpResponse { status, headers, body })
    }
}
