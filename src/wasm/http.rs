//! `HttpClient` over the global `fetch` (gloo-net binds `globalThis.fetch`, so it
//! works in Node >= 18, pages, workers and extension pages alike).

use super::log;
use crate::core::http::host_of_url;
use crate::core::{Error, ErrorCode, HttpClient, HttpRequest, HttpResponse, Method, Result};
use gloo_net::http::RequestBuilder;

/// A request that has not answered after this long is abandoned as a network error.
const REQUEST_TIMEOUT_MS: u32 = 30_000;

#[derive(Clone, Copy, Default)]
pub struct FetchHttp;

impl HttpClient for FetchHttp {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        let host = host_of_url(&request.url).to_owned();
        let network = |what: &str, err: gloo_net::Error| {
            // gloo's message is the JS error's (e.g. "fetch failed"); it never holds headers.
            Error::new(ErrorCode::Network, format!("{what} {host}: {err}"))
        };
        let method = match request.method {
            Method::Get => gloo_net::http::Method::GET,
            Method::Post => gloo_net::http::Method::POST,
            Method::Put => gloo_net::http::Method::PUT,
            Method::Delete => gloo_net::http::Method::DELETE,
        };
        let timeout = web_sys::AbortSignal::timeout_with_u32(REQUEST_TIMEOUT_MS);
        let builder = request
            .headers
            .iter()
            .fold(RequestBuilder::new(&request.url).method(method), |builder, (name, value)| {
                builder.header(name, value.expose())
            })
            .abort_signal(Some(&timeout));
        let prepared = match request.body {
            Some(body) => builder.body(body),
            None => builder.build(),
        }
        .map_err(|err| Error::new(ErrorCode::InvalidInput, format!("cannot build request to {host}: {err}")))?;
        let started = js_sys::Date::now();
        // Never the query: it is the one part of a URL that could carry a code.
        let shown = log::enabled().then(|| format!("{} {}", request.method.as_str(), request.url.split(['?', '#']).next().unwrap_or("")));
        let response = prepared.send().await.map_err(|err| {
            if let Some(shown) = &shown {
                log::debug(&format!("{shown} -> failed: {err}"));
            }
            network("could not reach", err)
        })?;
        let headers = response
            .headers()
            .entries()
            .map(|(name, value)| (name.to_ascii_lowercase(), value))
            .collect();
        let body = response.text().await.map_err(|err| network("connection dropped while reading the answer of", err))?;
        if let Some(shown) = &shown {
            log::debug(&format!("{shown} -> {} in {} ms", response.status(), (js_sys::Date::now() - started) as i64));
        }
        Ok(HttpResponse { status: response.status(), headers, body })
    }
}
