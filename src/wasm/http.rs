//! `HttpClient` over gloo-net, which binds the global `fetch`
//! (`globalThis.fetch`), so it works in Node >= 20, pages, workers and
//! extension pages alike.
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
//! gloo-net expects `fetch` and `Response.text()` to reject with an `Error`
//! (it panics otherwise): they reject with a `TypeError`, or with the
//! `AbortSignal.timeout` reason, a `DOMException`, which is an `Error` in
//! Node >= 17 and in every current browser.

use super::log;
use crate::core::http::{host_of_url, loggable_url, redirect_error};
use crate::core::{Error, ErrorCode, HttpClient, HttpRequest, HttpResponse, Result};
use gloo_net::http::{Headers, Method, RequestBuilder};
use wasm_bindgen::prelude::*;
use web_sys::{RequestRedirect, ResponseType};

/// A request that has not answered after this long is abandoned as a network error.
const REQUEST_TIMEOUT_MS: u32 = 30_000;

#[derive(Clone, Copy, Default)]
pub struct FetchHttp;

/// What went wrong, in our words: JS's own messages may quote the URL (with
/// its query or userinfo, in a form we cannot reliably find to remove) or a
/// header value, so only the kind of error is kept.
fn describe(err: &gloo_net::Error) -> &'static str {
    match err {
        gloo_net::Error::JsError(js) if js.name == "TimeoutError" || js.name == "AbortError" => "no answer within 30 s",
        gloo_net::Error::JsError(js) if js.name == "TypeError" => "the connection failed or was refused",
        _ => "the request could not be made",
    }
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
        .map_err(|err| invalid(describe(&err).to_owned()))?;

        let started = js_sys::Date::now();
        // Never the query: it is the one part of a URL that could carry a code.
        let shown = log::enabled().then(|| format!("{} {}", request.method.as_str(), loggable_url(&request.url)));
        let network = |what: &str, err: &gloo_net::Error| Error::new(ErrorCode::Network, format!("{what} {host}: {}", describe(err)));
        let response = prepared.send().await.map_err(|err| {
            if let Some(shown) = &shown {
                log::debug(&format!("{shown} -> failed: {}", describe(&err)));
            }
            network("could not reach", &err)
        })?;
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
