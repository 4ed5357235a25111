//! `HttpClient` over the global `fetch` (`globalThis.fetch`, so it works in
//! Node >= 18, pages, workers and extension pages alike).
//!
//! Bound directly through web-sys rather than a wrapper crate: the wrapper
//! (gloo-net) brought the `http` crate, URL re-parsing and its own error type,
//! about 10 KB of wasm for the four calls we make.

use super::log;
use crate::core::http::host_of_url;
use crate::core::{Error, ErrorCode, HttpClient, HttpRequest, HttpResponse, Result};
use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestInit, Response};

/// A request that has not answered after this long is abandoned as a network error.
const REQUEST_TIMEOUT_MS: u32 = 30_000;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn fetch_with_request(request: &Request) -> Promise;
}

#[derive(Clone, Copy, Default)]
pub struct FetchHttp;

/// What JS says about an error: `error.toString()` ("TypeError: fetch failed",
/// "TimeoutError: …"). Fetch errors never hold request headers.
fn describe(value: &JsValue) -> String {
    if value.is_object() {
        String::from(value.unchecked_ref::<js_sys::Object>().to_string())
    } else {
        value.as_string().unwrap_or_else(|| "unknown error".to_owned())
    }
}

/// Build the JS `Request`; `new Request()` throws a TypeError for a malformed
/// URL, header name or header value.
fn build(request: &HttpRequest) -> std::result::Result<Request, JsValue> {
    let headers = Headers::new()?;
    for (name, value) in &request.headers {
        // `set`, not `append`: a later header of the same name replaces an earlier one.
        headers.set(name, value.expose())?;
    }
    let init = RequestInit::new();
    init.set_method(request.method.as_str());
    init.set_headers(&headers);
    if let Some(body) = &request.body {
        init.set_body(&JsValue::from_str(body));
    }
    init.set_signal(Some(&web_sys::AbortSignal::timeout_with_u32(REQUEST_TIMEOUT_MS)));
    Request::new_with_str_and_init(&request.url, &init)
}

impl HttpClient for FetchHttp {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        let host = host_of_url(&request.url);
        let network = |what: &str, err: JsValue| Error::new(ErrorCode::Network, format!("{what} {host}: {}", describe(&err)));
        let prepared = build(&request).map_err(|err| {
            Error::new(ErrorCode::InvalidInput, format!("cannot build request to {host}: {}", describe(&err)))
        })?;
        let started = js_sys::Date::now();
        // Never the query: it is the one part of a URL that could carry a code.
        let shown = log::enabled().then(|| format!("{} {}", request.method.as_str(), request.url.split(['?', '#']).next().unwrap_or("")));
        let response: Response = JsFuture::from(fetch_with_request(&prepared))
            .await
            .map_err(|err| {
                if let Some(shown) = &shown {
                    log::debug(&format!("{shown} -> failed: {}", describe(&err)));
                }
                network("could not reach", err)
            })?
            .unchecked_into();
        // `Array.from(headers)`: [[name, value], …] with names already lower-case.
        let headers = Array::from(&response.headers())
            .iter()
            .map(|entry| {
                let entry: Array = entry.unchecked_into();
                (entry.get(0).as_string().unwrap_or_default().to_ascii_lowercase(), entry.get(1).as_string().unwrap_or_default())
            })
            .collect();
        let reading = "connection dropped while reading the answer of";
        let text = response.text().map_err(|err| network(reading, err))?;
        let body = JsFuture::from(text).await.map_err(|err| network(reading, err))?.as_string().unwrap_or_default();
        if let Some(shown) = &shown {
            log::debug(&format!("{shown} -> {} in {} ms", response.status(), (js_sys::Date::now() - started) as i64));
        }
        Ok(HttpResponse { status: response.status(), headers, body })
    }
}
