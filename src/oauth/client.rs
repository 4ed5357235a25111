//! The flows, generic over the seams: log in, keep tokens fresh, log out.

use super::api::{self, oauth_error, Flow, TokenFailure};
use super::model::{DeviceVerification, OAuthConfig, TokenAnswer, TokenSet, TokenStatus};
use crate::core::crypto::random_token;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use crate::core::http::check_service_url;
use crate::core::store::{load, save};
use crate::core::{Clock, Crypto, Error, ErrorCode, HttpClient, HttpRequest, HttpResponse, Result, Secret, Store};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// RFC 8628 §3.5: `slow_down` adds 5 seconds to the polling interval.
const SLOW_DOWN_STEP_SECS: i64 = 5;
/// The longest wait between two polls, and the longest a device code may
/// live, whatever the server says (issue 18: a huge interval overflowed).
const MAX_POLL_SECS: i64 = 300;
const MAX_CODE_LIFETIME_SECS: i64 = 86_400;
/// RFC 8628 §3.2: 5 seconds when the server names no interval.
const DEFAULT_POLL_SECS: i64 = 5;
/// Network hiccups tolerated in a row while waiting for a device approval.
const MAX_POLL_HICCUPS: u32 = 3;
/// A PKCE login must come back within this time.
const PENDING_AUTHORIZATION_MS: i64 = 15 * 60 * 1000;

pub struct OAuthClient<H, S, C, K> {
    config: OAuthConfig,
    http: H,
    store: S,
    clock: C,
    crypto: K,
}

/// Where to send the person for a code + PKCE login.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct AuthorizationStart {
    pub url: String,
    pub state: String,
}

/// What must survive until the redirect comes back (a page navigates away
/// meanwhile), kept in the store next to the tokens.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PendingAuthorization {
    state: String,
    verifier: Secret,
    redirect_uri: String,
    started_at_ms: i64,
}

impl<H: HttpClient, S: Store, C: Clock, K: Crypto> OAuthClient<H, S, C, K> {
    pub fn new(config: OAuthConfig, http: H, store: S, clock: C, crypto: K) -> Result<Self> {
        let provider = config.provider.clone();
        let check = |setting: &str, url: &Option<String>| match url {
            Some(url) => check_service_url(setting, url).map_err(|e| e.provider(provider.clone())),
            None => Ok(()),
        };
        check("tokenUrl", &Some(config.token_url.clone()))?;
        check("deviceAuthorizationUrl", &config.device_authorization_url)?;
        check("authorizationUrl", &config.authorization_url)?;
        check("logoutUrl", &config.logout_url)?;
        check("revocationUrl", &config.revocation_url)?;
        check("refreshUrl", &config.refresh_url)?;
        if config.client_id.is_empty() {
            return Err(Error::invalid_config("the OAuth client id must not be empty").provider(provider));
        }
        Ok(OAuthClient { config, http, store, clock, crypto })
    }

    /// Refuse to send this client's access token to `url` unless it is a
    /// service URL (https, or http to loopback) at the origin of one of the
    /// configured endpoints or API URLs: a token for one service is not for
    /// any host a caller names.
    pub fn check_api_url(&self, url: &str) -> Result<()> {
        check_service_url("the request URL", url).map_err(|e| e.provider(self.config.provider.clone()))?;
        let c = &self.config;
        let configured = [Some(&c.token_url), c.device_authorization_url.as_ref(), c.authorization_url.as_ref(), c.logout_url.as_ref(), c.revocation_url.as_ref()]
            .into_iter()
            .flatten()
            .chain(&c.api_urls);
        let origin = crate::core::http::origin_of(url);
        if origin.is_some() && configured.filter_map(|u| crate::core::http::origin_of(u)).any(|o| Some(o) == origin) {
            return Ok(());
        }
        Err(self.error(
            ErrorCode::InvalidInput,
            format!(
                "refusing to send the {} access token to {}: it is not one of the configured services (add its URL to apiUrls)",
                c.provider,
                crate::core::http::host_of_url(url)
            ),
        ))
    }

    pub fn config(&self) -> &OAuthConfig {
        &self.config
    }

    fn error(&self, code: ErrorCode, message: impl Into<String>) -> Error {
        Error::new(code, message).provider(self.config.provider.clone())
    }

    fn failure(&self, flow: Flow, failure: TokenFailure) -> Error {
        match failure {
            TokenFailure::OAuth { error, description, status } => {
                oauth_error(&self.config, flow, &error, description.as_deref(), status)
            }
            TokenFailure::Other(error) => error.provider(self.config.provider.clone()),
        }
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        let request = match &self.config.user_agent {
            Some(agent) => request.header("user-agent", agent.as_str()),
            None => request,
        };
        self.http.send(request).await.map_err(|e| e.provider(self.config.provider.clone()))
    }

    async fn stored(&self) -> Result<Option<TokenSet>> {
        load(&self.store, &self.config.store_key()).await
    }

    async fn stored_or_login(&self) -> Result<TokenSet> {
        self.stored().await?.ok_or_else(|| {
            self.error(ErrorCode::AuthRequired, format!("not logged in to {}: {}", self.config.provider, self.config.login_hint()))
        })
    }

    /// Keep a fresh token set: written before anyone uses it, so a crash right
    /// after a rotation can never leave only the old, now dead, refresh token.
    async fn keep(&self, tokens: TokenSet) -> Result<TokenStatus> {
        let key = self.config.store_key();
        self.store.locked(&key, save(&self.store, &key, &tokens)).await?;
        Ok(TokenStatus::of(Some(&tokens)))
    }

    // ---- device authorization grant (RFC 8628) ----

    /// Start a device login, hand the code to `on_verification`, and poll until
    /// the person approves, declines, the code expires or `timeout` passes.
    pub async fn device_login(
        &self,
        on_verification: impl FnOnce(&DeviceVerification) -> Result<()>,
        timeout: Option<Duration>,
    ) -> Result<TokenStatus> {
        let url = self.config.device_authorization_url.as_deref().ok_or_else(|| {
            self.error(ErrorCode::InvalidConfig, format!("{} has no device authorization endpoint configured", self.config.provider))
        })?;
        let response = self.send(api::device_authorization_request(&self.config, url)).await?;
        let authorization =
            api::read_device_authorization(&self.config, &response).map_err(|f| self.failure(Flow::Device, f))?;
        on_verification(&DeviceVerification {
            user_code: authorization.user_code.clone(),
            verification_uri: authorization.verification_uri.clone(),
            verification_uri_complete: authorization.verification_uri_complete.clone().or_else(|| {
                let param = self.config.verification_code_param.as_deref()?;
                Some(api::with_query(&authorization.verification_uri, &[(param, &authorization.user_code)]))
            }),
            expires_in: authorization.expires_in,
        })?;

        let started = self.clock.now_ms();
        // The server's numbers are clamped, never trusted with arithmetic: a
        // code lives at most a day, and polls come every 1 to 300 s.
        let code_expires = started.saturating_add(authorization.expires_in.clamp(0, MAX_CODE_LIFETIME_SECS) * 1000);
        let deadline = timeout.map_or(code_expires, |t| code_expires.min(started.saturating_add(i64::try_from(t.as_millis()).unwrap_or(i64::MAX))));
        let mut interval = authorization.interval.filter(|s| *s > 0).unwrap_or(DEFAULT_POLL_SECS).clamp(1, MAX_POLL_SECS);
        let mut hiccups = 0;
        loop {
            if self.clock.now_ms() + interval * 1000 >= deadline {
                let message = if deadline < code_expires {
                    format!("gave up waiting for the login to be approved: {} to try again", self.config.login_hint())
                } else {
                    format!("the login code expired before it was approved: {} to get a new one", self.config.login_hint())
                };
                return Err(self.error(ErrorCode::AuthRequired, message));
            }
            self.clock.sleep(Duration::from_secs(interval as u64)).await;
            let outcome = match self.send(api::device_token_request(&self.config, &authorization.device_code)).await {
                Ok(response) => api::read_token_answer(&self.config, &response),
                Err(error) => Err(TokenFailure::Other(error)),
            };
            match outcome {
                Ok(answer) => {
                    let tokens = TokenSet::from_answer(answer, &self.config.scopes, self.clock.now_ms());
                    return self.keep(tokens).await;
                }
                Err(TokenFailure::OAuth { error, .. }) if error == "authorization_pending" => hiccups = 0,
                Err(TokenFailure::OAuth { error, .. }) if error == "slow_down" => {
                    hiccups = 0;
                    interval = (interval + SLOW_DOWN_STEP_SECS).min(MAX_POLL_SECS);
                }
                // A waiting person should not lose the login to one dropped connection.
                Err(TokenFailure::Other(error))
                    if matches!(error.code, ErrorCode::Network | ErrorCode::Unavailable) && hiccups + 1 < MAX_POLL_HICCUPS =>
                {
                    hiccups += 1
                }
                Err(failure) => return Err(self.failure(Flow::Device, failure)),
            }
        }
    }

    // ---- tokens obtained elsewhere ----

    /// Keep tokens obtained by another install: a token answer as the
    /// service gave it (`access_token`, optional `refresh_token`,
    /// `expires_in` and provider fields), or a `device_code` whose login was
    /// approved elsewhere, which is exchanged once. Stored like our own; the
    /// text never shows in an error.
    pub async fn import_tokens(&self, mut fields: serde_json::Map<String, serde_json::Value>) -> Result<TokenStatus> {
        // Only what a token answer holds and the fields this provider echoes
        // (the gateway's meters) are kept: anything else pasted in (a
        // password, a client secret) is dropped, never stored or shown.
        const ANSWER: [&str; 7] = ["access_token", "token_type", "expires_in", "refresh_token", "scope", "id_token", "device_code"];
        fields.retain(|key, _| ANSWER.contains(&key.as_str()) || self.config.refresh_echo_fields.contains(key));
        let text = |name: &str| fields.get(name).and_then(|v| v.as_str()).filter(|v| !v.is_empty());
        if text("access_token").is_none() {
            let Some(device_code) = text("device_code").map(Secret::new) else {
                return Err(self.error(ErrorCode::InvalidInput, "the tokens to import need an access_token (with refresh_token and expires_in when there are), or a device_code approved elsewhere"));
            };
            let response = self.send(api::device_token_request(&self.config, &device_code)).await?;
            let answer = match api::read_token_answer(&self.config, &response) {
                Ok(answer) => answer,
                Err(TokenFailure::OAuth { error, .. }) if error == "authorization_pending" || error == "slow_down" => {
                    return Err(self.error(ErrorCode::AuthRequired, "that device code has not been approved yet: approve it first, then import again"));
                }
                Err(failure) => return Err(self.failure(Flow::Device, failure)),
            };
            // The echoed fields the other install knew (the meters) stay, unless the answer has its own.
            let mut tokens = TokenSet::from_answer(answer, &self.config.scopes, self.clock.now_ms());
            for (key, value) in fields.into_iter().filter(|(k, _)| self.config.refresh_echo_fields.contains(k)) {
                tokens.extra.entry(key).or_insert(value);
            }
            return self.keep(tokens).await;
        }
        fields.remove("device_code");
        // Serde's reasons can quote values; these are secrets, so our own words only.
        let answer: TokenAnswer = serde_json::from_value(serde_json::Value::Object(fields)).map_err(|_| {
            self.error(ErrorCode::InvalidInput, "the tokens to import are not a token answer: access_token and refresh_token must be strings, expires_in a number of seconds")
        })?;
        self.keep(TokenSet::from_answer(answer, &self.config.scopes, self.clock.now_ms())).await
    }

    // ---- resource owner password grant (Keycloak legacy) ----

    /// Log in with a password, used once for this request and never stored.
    pub async fn password_login(&self, username: &str, password: &Secret) -> Result<TokenStatus> {
        if username.is_empty() || password.is_empty() {
            return Err(self.error(ErrorCode::InvalidInput, "username and password are both required"));
        }
        let response = self.send(api::password_request(&self.config, username, password)).await?;
        let answer = api::read_token_answer(&self.config, &response).map_err(|f| self.failure(Flow::Password, f))?;
        self.keep(TokenSet::from_answer(answer, &self.config.scopes, self.clock.now_ms())).await
    }

    // ---- authorization code + PKCE (RFC 7636, S256) ----

    /// Build the URL to send the person to, and remember the verifier and
    /// state until [`complete_authorization`](Self::complete_authorization).
    pub async fn authorization_url(&self, redirect_uri: &str) -> Result<AuthorizationStart> {
        let url = self.config.authorization_url.as_deref().ok_or_else(|| {
            self.error(ErrorCode::InvalidConfig, format!("{} has no authorization endpoint configured", self.config.provider))
        })?;
        let verifier = Secret::new(random_token(32)?);
        let challenge = URL_SAFE_NO_PAD.encode(self.crypto.sha256(verifier.expose().as_bytes()).await?);
        let state = random_token(16)?;
        let pending = PendingAuthorization {
            state: state.clone(),
            verifier,
            redirect_uri: redirect_uri.to_owned(),
            started_at_ms: self.clock.now_ms(),
        };
        save(&self.store, &self.pending_key(), &pending).await?;
        Ok(AuthorizationStart { url: api::authorize_url(&self.config, url, redirect_uri, &state, &challenge), state })
    }

    /// Finish a PKCE login with the URL the authorization server redirected to.
    pub async fn complete_authorization(&self, callback_url: &str) -> Result<TokenStatus> {
        let params = api::callback_params(callback_url);
        let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let pending: PendingAuthorization = load(&self.store, &self.pending_key()).await?.ok_or_else(|| {
            self.error(ErrorCode::InvalidInput, "no login is in progress: start it again")
        })?;
        // Checked before anything else: a redirect we did not ask for is refused (CSRF).
        if param("state") != Some(pending.state.as_str()) {
            return Err(self.error(
                ErrorCode::InvalidInput,
                "the login answer does not belong to the login we started (state mismatch); start it again",
            ));
        }
        if self.clock.now_ms() - pending.started_at_ms > PENDING_AUTHORIZATION_MS {
            self.store.delete(&self.pending_key()).await?;
            return Err(self.error(ErrorCode::AuthRequired, format!("the login took too long: {}", self.config.login_hint())));
        }
        if let Some(error) = param("error") {
            self.store.delete(&self.pending_key()).await?;
            return Err(oauth_error(&self.config, Flow::Code, error, param("error_description"), 0));
        }
        let code = Secret::new(param("code").ok_or_else(|| {
            self.error(ErrorCode::BadResponse, "the login answer carries neither a code nor an error")
        })?);
        let response = self.send(api::code_request(&self.config, &code, &pending.redirect_uri, &pending.verifier)).await?;
        let answer = api::read_token_answer(&self.config, &response).map_err(|f| self.failure(Flow::Code, f))?;
        let status = self.keep(TokenSet::from_answer(answer, &self.config.scopes, self.clock.now_ms())).await?;
        self.store.delete(&self.pending_key()).await?;
        Ok(status)
    }

    fn pending_key(&self) -> String {
        format!("{}/pending", self.config.store_key())
    }

    // ---- using and refreshing ----

    /// A valid access token, refreshed first when it expires within the margin.
    ///
    /// The token document is held while it is read and refreshed, so callers
    /// that need a refresh at the same time (in this process or, with a
    /// FileStore, in another) share one request, and a rotated refresh token
    /// is never sent twice (single flight).
    pub async fn access_token(&self) -> Result<Secret> {
        self.store.locked(&self.config.store_key(), async {
            if self.config.client_credentials {
                return match self.stored().await? {
                    Some(tokens) if !tokens.needs_refresh(self.clock.now_ms(), self.config.refresh_margin_secs) => Ok(tokens.access_token),
                    _ => self.client_credentials_token().await,
                };
            }
            let tokens = self.stored_or_login().await?;
            if !tokens.needs_refresh(self.clock.now_ms(), self.config.refresh_margin_secs) {
                return Ok(tokens.access_token);
            }
            Ok(self.refresh(&tokens).await?.access_token)
        })
        .await
    }

    /// Refresh unless someone already replaced the token that was refused.
    async fn refresh_after_refusal(&self, refused: &Secret) -> Result<Secret> {
        self.store.locked(&self.config.store_key(), async {
            if self.config.client_credentials {
                return match self.stored().await? {
                    Some(tokens) if tokens.access_token != *refused => Ok(tokens.access_token),
                    _ => self.client_credentials_token().await,
                };
            }
            let tokens = self.stored_or_login().await?;
            if tokens.access_token != *refused {
                return Ok(tokens.access_token);
            }
            Ok(self.refresh(&tokens).await?.access_token)
        })
        .await
    }

    /// A new app token (client_credentials grant). Call with the token document held.
    async fn client_credentials_token(&self) -> Result<Secret> {
        let response = self.send(api::client_credentials_request(&self.config)).await?;
        let answer = api::read_token_answer(&self.config, &response).map_err(|f| self.failure(Flow::ClientCredentials, f))?;
        let tokens = TokenSet::from_answer(answer, &self.config.scopes, self.clock.now_ms());
        save(&self.store, &self.config.store_key(), &tokens).await?;
        Ok(tokens.access_token)
    }

    /// Call with the token document held. Stored tokens change only on success.
    async fn refresh(&self, current: &TokenSet) -> Result<TokenSet> {
        let refresh_token = current.refresh_token.as_ref().ok_or_else(|| {
            self.error(ErrorCode::AuthRequired, format!("the {} session expired and cannot be renewed: {}", self.config.provider, self.config.login_hint()))
        })?;
        let response = self.send(api::refresh_request(&self.config, current, refresh_token)).await?;
        let answer = api::read_token_answer(&self.config, &response).map_err(|f| self.failure(Flow::Refresh, f))?;
        let fresh = TokenSet::from_answer(answer, &current.scopes, self.clock.now_ms()).carry_over(current);
        save(&self.store, &self.config.store_key(), &fresh).await?;
        Ok(fresh)
    }

    /// Send an API request with a bearer token. A 401 gets one refresh and one
    /// retry, never a loop.
    pub async fn send_authorized(&self, build: impl Fn(&Secret) -> HttpRequest) -> Result<HttpResponse> {
        let token = self.access_token().await?;
        let response = self.send(build(&token)).await?;
        if response.status != 401 {
            return Ok(response);
        }
        let fresh = self.refresh_after_refusal(&token).await?;
        let response = self.send(build(&fresh)).await?;
        if response.status == 401 {
            return Err(self
                .error(ErrorCode::AuthRequired, format!("{} refuses the renewed token: {}", self.config.provider, self.config.login_hint()))
                .status(401));
        }
        Ok(response)
    }

    pub async fn status(&self) -> Result<TokenStatus> {
        Ok(TokenStatus::of(self.stored().await?.as_ref()))
    }

    /// End the session at the provider (where it has a logout endpoint) and
    /// forget the tokens. A failed revocation keeps them, so it can be retried.
    pub async fn logout(&self) -> Result<()> {
        self.store.locked(&self.config.store_key(), self.end_session()).await
    }

    /// Call with the token document held.
    async fn end_session(&self) -> Result<()> {
        let Some(tokens) = self.stored().await? else { return Ok(()) };
        let request = match (&tokens.refresh_token, &self.config.revocation_url, &self.config.logout_url) {
            (Some(token), Some(url), _) => Some(api::revocation_request(&self.config, url, token)),
            (Some(token), None, Some(url)) => Some(api::logout_request(&self.config, url, token)),
            _ => None,
        };
        if let Some(request) = request {
            let response = self.send(request).await?;
            // 400 invalid_grant: the session is already gone, which is what we want.
            let already_gone = response.status == 400 && response.body.contains("invalid_grant");
            if !response.is_success() && !already_gone {
                return Err(self
                    .error(ErrorCode::UnexpectedStatus, format!("{} did not end the session (HTTP {}); tokens kept, try again", self.config.provider, response.status))
                    .status(response.status));
            }
        }
        self.store.delete(&self.config.store_key()).await
    }
}
