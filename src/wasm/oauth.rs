//! `OAuthSession` for JS: every OAuth flow of the core, with fetch, a JS store,
//! JS timers and WebCrypto. Results cross as JSON strings.

use super::clock::JsClock;
use super::crypto::WebCrypto;
use super::error::{from_js, from_js_value, promise, settle, to_js, to_value};
use super::http::FetchHttp;
use super::store::JsStore;
use crate::core::{ErrorCode, HttpRequest, Method, Secret};
use crate::oauth::{OAuthClient, OAuthConfig};
use js_sys::{Function, Promise};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::prelude::*;

type Client = OAuthClient<FetchHttp, JsStore, JsClock, WebCrypto>;

#[wasm_bindgen(js_name = OAuthSession)]
pub struct JsOAuthSession {
    client: Rc<Client>,
}

/// A request to send with the session's bearer token.
#[derive(serde::Deserialize)]
struct ApiRequest {
    #[serde(default = "get")]
    method: String,
    url: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: Option<String>,
}

fn get() -> String {
    "GET".to_owned()
}

#[derive(serde::Serialize)]
struct ApiResponse {
    status: u16,
    headers: BTreeMap<String, String>,
    body: String,
}

#[wasm_bindgen(js_class = OAuthSession)]
impl JsOAuthSession {
    /// `config`: the core's `OAuthConfig` (camelCase); `store`: `{ get, put, delete }`.
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue, store: JsValue) -> Result<JsOAuthSession, JsValue> {
        let config: OAuthConfig = from_js_value(config, "OAuth settings", ErrorCode::InvalidConfig, "oauth")?;
        let store = JsStore::new(store).map_err(to_js)?;
        let client = Client::new(config, FetchHttp::default(), store, JsClock, WebCrypto).map_err(to_js)?;
        Ok(JsOAuthSession { client: Rc::new(client) })
    }

    /// Device login; `on_verification` receives `{user_code,
    /// verification_uri, verification_uri_complete, expires_in}`.
    #[wasm_bindgen(js_name = deviceLogin)]
    pub fn device_login(&self, on_verification: Function, timeout_secs: Option<f64>) -> Promise {
        let client = self.client.clone();
        promise(async move {
            let show = |verification: &crate::oauth::DeviceVerification| {
                let shown = to_value(verification).and_then(|v| on_verification.call1(&JsValue::NULL, &v));
                shown.map(drop).map_err(|e| from_js(&e, ErrorCode::InvalidInput, "the onVerification callback failed"))
            };
            // `try_`: a timeout too large for a Duration is no timeout at all.
            let timeout = timeout_secs.filter(|s| s.is_finite() && *s > 0.0).and_then(|s| Duration::try_from_secs_f64(s).ok());
            settle(client.device_login(show, timeout).await)
        })
    }

    #[wasm_bindgen(js_name = passwordLogin)]
    pub fn password_login(&self, username: String, password: String) -> Promise {
        let client = self.client.clone();
        let password = Secret::new(password);
        promise(async move { settle(client.password_login(&username, &password).await) })
    }

    #[wasm_bindgen(js_name = authorizationUrl)]
    pub fn authorization_url(&self, redirect_uri: String) -> Promise {
        let client = self.client.clone();
        promise(async move { settle(client.authorization_url(&redirect_uri).await) })
    }

    #[wasm_bindgen(js_name = completeAuthorization)]
    pub fn complete_authorization(&self, callback_url: String) -> Promise {
        let client = self.client.clone();
        promise(async move { settle(client.complete_authorization(&callback_url).await) })
    }

    /// Resolves to the access token, refreshed when due.
    #[wasm_bindgen(js_name = accessToken)]
    pub fn access_token(&self) -> Promise {
        let client = self.client.clone();
        promise(async move { settle(client.access_token().await.map(|t| t.expose().to_owned())) })
    }

    /// Send `{method, url, headers, body}` with the bearer token (one refresh
    /// and one retry on 401); resolves to `{status, headers, body}`.
    pub fn fetch(&self, request: JsValue) -> Promise {
        let client = self.client.clone();
        let request: Result<ApiRequest, JsValue> = from_js_value(request, "request", ErrorCode::InvalidInput, "oauth");
        promise(async move {
            let request = request?;
            client.check_api_url(&request.url).map_err(to_js)?;
            let method = match request.method.to_ascii_uppercase().as_str() {
                "GET" => Method::Get,
                "POST" => Method::Post,
                "PUT" => Method::Put,
                "DELETE" => Method::Delete,
                other => {
                    return Err(to_js(crate::core::Error::invalid_input(format!("unsupported method {other}"))));
                }
            };
            let build = |token: &Secret| {
                let mut http = request
                    .headers
                    .iter()
                    .fold(HttpRequest::new(method, &request.url), |r, (k, v)| r.header(k, v.clone()))
                    .secret_header("authorization", Secret::new(format!("Bearer {}", token.expose())));
                http.body = request.body.clone();
                http
            };
            settle(client.send_authorized(build).await.map(|response| {
                let mut headers = BTreeMap::new();
                for (name, value) in response.headers {
                    headers.insert(name, value);
                }
                ApiResponse { status: response.status, headers, body: response.body }
            }))
        })
    }

    pub fn status(&self) -> Promise {
        let client = self.client.clone();
        promise(async move { settle(client.status().await) })
    }

    pub fn logout(&self) -> Promise {
        let client = self.client.clone();
        promise(async move { settle(client.logout().await) })
    }
}
