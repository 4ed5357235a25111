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
use crate::core::http::{host_of_url, redirect_error};
use crate::core::{Error, ErrorCode, HttpClient, HttpRequest, HttpResponse, Result};
use gloo_net::http::{Headers, Method, RequestBuilder};
use wasm_bindgen::prelude::*;
use web_sys::{RequestRedirect, ResponseType};

/// A request that has not answered after this long is abandoned as a network error.
const REQUEST_TIMEOUT_MS: u32 = 30_000;

#[derive(Clone, Copy, Default)]
pub struct FetchHttp;

/// What JS says about an error: `error.toString()` ("TypeError: fetch failed",
/// "TimeoutError: …"), with the URL (which may carry a code in its query)
/// replaced by its host. Fetch errors never hold request headers.
fn describe(err: &gloo_net::Error, url: &str, host: &str) -> String {
    err.to_string().replace(url, host)
}

fn method(method: crate::core::Method) -> Method {
    match method {
        crate::core::Method::Get => Method::GET,
        crate::core::Method::Post => Method::POST,
        crate::core::Method::Put => Method::PUT,
        crate::core::Method::Delete => Method::DELETE,
    }
}

/// The request's headers; `Headers.set` throws a TypeError for a malformed name or value.
fn headers(request: &HttpRequest) -> std::result::Result<web_sys::Headers, JsValue> {
    let headers = web_sys::Headers::new()?;
    for (name, value) in &request.headers {
        // `set`, not `append`: a later header of the same name replaces an earlier one.
        headers.set(name, value.expose())?;
    }
    Ok(headers)
}

/// "TypeError: …" of a JS exception, for the header errors above.
fn js_text(value: &JsValue) -> String {
    match value.dyn_ref::<js_sys::Error>() {
        Some(error) => String::from(error.to_string()),
        None => value.as_string().unwrap_or_else(|| "unknown error".to_owned()),
    }
}

impl HttpClient for FetchHttp {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        let host = host_of_url(&request.url);
        let invalid = |text: String| Error::new(ErrorCode::InvalidInput, format!("cannot build request to {host}: {text}"));
        let raw_headers = headers(&request).map_err(|err| invalid(js_text(&err).replace(&request.url, host)))?;
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
        .map_err(|err| invalid(describe(&err, &request.url, host)))?;

        let started = js_sys::Date::now();
        // Never the query: it is the one part of a URL that could carry a code.
        let shown = log::enabled().then(|| format!("{} {}", request.method.as_str(), request.url.split(['?', '#']).next().unwrap_or("")));
        let network = |what: &str, err: &gloo_net::Error| Error::new(ErrorCode::Network, format!("{what} {host}: {}", describe(err, &request.url, host)));
        let response = prepared.send().await.map_err(|err| {
            if let Some(shown) = &shown {
                log::debug(&format!("{shown} -> failed: {}", describe(&err, &request.url, host)));
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
        let body = response.text().await.map_err(|err| network("connection dropped while reading the answer of", &err))?;
        Ok(HttpResponse { status, headers, body })
    }
}
