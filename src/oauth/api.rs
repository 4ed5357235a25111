//! Pure OAuth 2.0 request builders and answer readers (RFC 6749, 7636, 8628).

use super::model::{DeviceAuthorization, ErrorAnswer, OAuthConfig, TokenAnswer, TokenSet};
use crate::core::{Error, ErrorCode, HttpRequest, HttpResponse, Method, Result, Secret};

pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// An `application/x-www-form-urlencoded` POST. The body holds secrets
/// (passwords, refresh tokens) and is never logged; `HttpRequest`'s Debug
/// would show it, so callers never print requests.
fn form_post(url: &str, pairs: &[(&str, &str)]) -> HttpRequest {
    let body = crate::core::form::encode(pairs);
    let mut request = HttpRequest::new(Method::Post, url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json");
    request.body = Some(body);
    request
}

/// The client's own credentials: `client_id` always, `client_secret` for
/// confidential clients (client_secret_post).
fn with_client<'a>(config: &'a OAuthConfig, mut pairs: Vec<(&'a str, &'a str)>) -> Vec<(&'a str, &'a str)> {
    pairs.push(("client_id", &config.client_id));
    if let Some(secret) = &config.client_secret {
        pairs.push(("client_secret", secret.expose()));
    }
    pairs
}

pub fn device_authorization_request(config: &OAuthConfig, url: &str) -> HttpRequest {
    let scope = config.scopes.join(" ");
    let mut pairs = vec![];
    if !scope.is_empty() {
        pairs.push(("scope", scope.as_str()));
    }
    form_post(url, &with_client(config, pairs))
}

pub fn device_token_request(config: &OAuthConfig, device_code: &Secret) -> HttpRequest {
    let pairs = vec![("grant_type", DEVICE_CODE_GRANT), ("device_code", device_code.expose())];
    form_post(&config.token_url, &with_client(config, pairs))
}

pub fn password_request(config: &OAuthConfig, username: &str, password: &Secret) -> HttpRequest {
    let scope = config.scopes.join(" ");
    let mut pairs = vec![("grant_type", "password"), ("username", username), ("password", password.expose())];
    if !scope.is_empty() {
        pairs.push(("scope", scope.as_str()));
    }
    form_post(&config.token_url, &with_client(config, pairs))
}

/// RFC 6749 §4.4: an app (a company's own Enedis app) authenticates as itself.
pub fn client_credentials_request(config: &OAuthConfig) -> HttpRequest {
    let scope = config.scopes.join(" ");
    let mut pairs = vec![("grant_type", "client_credentials")];
    if !scope.is_empty() {
        pairs.push(("scope", scope.as_str()));
    }
    form_post(&config.token_url, &with_client(config, pairs))
}

pub fn refresh_request(config: &OAuthConfig, tokens: &TokenSet, refresh_token: &Secret) -> HttpRequest {
    let echoed: Vec<(String, String)> = config
        .refresh_echo_fields
        .iter()
        .filter_map(|field| {
            let value = tokens.extra.get(field)?;
            // to_string(), not Display: the same text through the serializer the module already has.
            let text = value.as_str().map(str::to_owned).unwrap_or_else(|| serde_json::to_string(value).unwrap_or_default());
            Some((field.clone(), text))
        })
        .collect();
    let mut pairs = vec![("grant_type", "refresh_token"), ("refresh_token", refresh_token.expose())];
    pairs.extend(echoed.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    form_post(config.refresh_url.as_deref().unwrap_or(&config.token_url), &with_client(config, pairs))
}

pub fn code_request(config: &OAuthConfig, code: &Secret, redirect_uri: &str, verifier: &Secret) -> HttpRequest {
    let pairs = vec![
        ("grant_type", "authorization_code"),
        ("code", code.expose()),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier.expose()),
    ];
    form_post(&config.token_url, &with_client(config, pairs))
}

/// Keycloak's end-session request: the refresh token ends its session.
pub fn logout_request(config: &OAuthConfig, url: &str, refresh_token: &Secret) -> HttpRequest {
    form_post(url, &with_client(config, vec![("refresh_token", refresh_token.expose())]))
}

/// RFC 7009 token revocation of the refresh token (and with it, its grant).
pub fn revocation_request(config: &OAuthConfig, url: &str, refresh_token: &Secret) -> HttpRequest {
    let pairs = vec![("token", refresh_token.expose()), ("token_type_hint", "refresh_token")];
    form_post(url, &with_client(config, pairs))
}

/// The authorization URL for code + PKCE (S256). `challenge` is
/// base64url(SHA-256(verifier)).
pub fn authorize_url(config: &OAuthConfig, url: &str, redirect_uri: &str, state: &str, challenge: &str) -> String {
    let scope = config.scopes.join(" ");
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", config.client_id.as_str()),
        ("redirect_uri", redirect_uri),
        ("state", state),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    if !scope.is_empty() {
        pairs.push(("scope", &scope));
    }
    with_query(url, &pairs)
}

/// `url` with `pairs` appended to its query (form-encoded).
pub fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{}", crate::core::form::encode(pairs))
}

/// The query parameters of a redirect URL (`code`, `state`, `error`, …).
pub fn callback_params(callback_url: &str) -> Vec<(String, String)> {
    let without_fragment = callback_url.split('#').next().unwrap_or("");
    let query = without_fragment.split_once('?').map_or("", |(_, q)| q);
    crate::core::form::decode(query)
}

/// Why a token request did not give tokens.
#[derive(Debug)]
pub enum TokenFailure {
    /// The server answered with an OAuth error (`invalid_grant`, `authorization_pending`, …).
    OAuth { error: String, description: Option<String>, status: u16 },
    /// Anything else: network, HTML, 5xx, garbage.
    Other(Error),
}

impl From<Error> for TokenFailure {
    fn from(error: Error) -> Self {
        TokenFailure::Other(error)
    }
}

pub(crate) fn read_token_answer(config: &OAuthConfig, response: &HttpResponse) -> Result<TokenAnswer, TokenFailure> {
    read(config, response, "token answer")
}

pub(crate) fn read_device_authorization(
    config: &OAuthConfig,
    response: &HttpResponse,
) -> Result<DeviceAuthorization, TokenFailure> {
    read(config, response, "device authorization answer")
}

fn read<T: serde::de::DeserializeOwned>(
    config: &OAuthConfig,
    response: &HttpResponse,
    what: &str,
) -> Result<T, TokenFailure> {
    let provider = config.provider.clone();
    if response.is_success() {
        return response.json(&provider, &format!("{provider} {what}")).map_err(TokenFailure::Other);
    }
    // RFC 6749 §5.2 errors come as 400 (sometimes 401) with a JSON body.
    if let Ok(answer) = serde_json::from_str::<ErrorAnswer>(&response.body) {
        return Err(TokenFailure::OAuth {
            error: answer.error,
            description: answer.error_description,
            status: response.status,
        });
    }
    let status = response.status;
    let (code, message) = match status {
        429 => (ErrorCode::RateLimited, format!("{provider} asks us to slow down (HTTP 429)")),
        500..=599 => (ErrorCode::Unavailable, format!("{provider}'s login service is unavailable (HTTP {status}); try again later")),
        _ => (ErrorCode::UnexpectedStatus, format!("{provider}'s login service answered HTTP {status} without an OAuth error")),
    };
    Err(TokenFailure::Other(
        Error::new(code, message).provider(provider).status(status).retry_after(response.retry_after()),
    ))
}

/// Turn an OAuth error into one a person can act on. `flow` says what we were doing.
pub fn oauth_error(config: &OAuthConfig, flow: Flow, error: &str, description: Option<&str>, status: u16) -> Error {
    let provider = &config.provider;
    let detail = description
        .filter(|d| !d.is_empty())
        .map(|d| format!(" ({})", d.chars().take(160).collect::<String>()))
        .unwrap_or_default();
    let hint = config.login_hint();
    let (code, message) = match (flow, error) {
        (Flow::Refresh, "invalid_grant") => (
            ErrorCode::AuthRequired,
            format!("{provider} ended the session{detail}: {hint}"),
        ),
        (Flow::Password, "invalid_grant") => (
            ErrorCode::InvalidCredentials,
            format!("{provider} refused the username or password{detail}"),
        ),
        (Flow::Device, "access_denied") | (Flow::Code, "access_denied") => (
            ErrorCode::AuthRequired,
            format!("the login was declined at {provider}{detail}: {hint} to try again"),
        ),
        (Flow::Device, "expired_token" | "invalid_grant") => (
            ErrorCode::AuthRequired,
            format!("the login code expired before it was approved{detail}: {hint} to get a new one"),
        ),
        (Flow::Code, "invalid_grant") => (
            ErrorCode::AuthRequired,
            format!("{provider} refused the authorization code{detail} (used twice or too old?): {hint}"),
        ),
        (Flow::ClientCredentials, "invalid_client") => (
            ErrorCode::InvalidCredentials,
            format!("{provider} refused the app's client id or secret{detail}"),
        ),
        (_, "invalid_client" | "unauthorized_client" | "unsupported_grant_type" | "invalid_scope") => (
            ErrorCode::InvalidConfig,
            format!("{provider} refused this client ({error}{detail}); check the client id, scopes and endpoints"),
        ),
        _ => (ErrorCode::Rejected, format!("{provider} refused the login request: {error}{detail}")),
    };
    Error::new(code, message).provider(provider.clone()).status(status)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Device,
    Password,
    Code,
    Refresh,
    ClientCredentials,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> OAuthConfig {
        serde_json::from_value(serde_json::json!({
            "provider": "weheat",
            "clientId": "WeheatCommunityAPI",
            "tokenUrl": "https://auth.weheat.nl/auth/realms/Weheat/protocol/openid-connect/token",
            "scopes": ["openid", "offline_access"],
        }))
        .unwrap()
    }

    fn form(request: &HttpRequest) -> Vec<(String, String)> {
        crate::core::form::decode(request.body.as_deref().unwrap())
    }

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn password_request_is_a_form_post_with_scopes() {
        let request = password_request(&config(), "a@b.c", &Secret::new("p&ss word"));
        assert_eq!(request.method, Method::Post);
        assert!(request.url.ends_with("/openid-connect/token"));
        assert_eq!(
            form(&request),
            vec![
                pair("grant_type", "password"),
                pair("username", "a@b.c"),
                pair("password", "p&ss word"),
                pair("scope", "openid offline_access"),
                pair("client_id", "WeheatCommunityAPI"),
            ]
        );
    }

    #[test]
    fn refresh_request_echoes_configured_token_fields() {
        let mut config = config();
        config.refresh_echo_fields = vec!["usage_points_id".into()];
        let tokens: TokenSet = serde_json::from_value(serde_json::json!({
            "accessToken": "a", "tokenType": "Bearer", "refreshToken": "r", "expiresAtMs": 1,
            "scopes": [], "idToken": null, "obtainedAtMs": 0,
            "extra": {"usage_points_id": "11111111111111,22222222222222"}
        }))
        .unwrap();
        let request = refresh_request(&config, &tokens, tokens.refresh_token.as_ref().unwrap());
        assert_eq!(
            form(&request),
            vec![
                pair("grant_type", "refresh_token"),
                pair("refresh_token", "r"),
                pair("usage_points_id", "11111111111111,22222222222222"),
                pair("client_id", "WeheatCommunityAPI"),
            ]
        );
    }

    #[test]
    fn authorize_url_carries_pkce_and_state() {
        let url = authorize_url(&config(), "https://auth.example/auth", "http://127.0.0.1:5555/callback", "st8", "E9Mel");
        assert_eq!(
            url,
            "https://auth.example/auth?response_type=code&client_id=WeheatCommunityAPI\
             &redirect_uri=http%3A%2F%2F127.0.0.1%3A5555%2Fcallback&state=st8&code_challenge=E9Mel\
             &code_challenge_method=S256&scope=openid+offline_access"
        );
        assert!(authorize_url(&config(), "https://a/auth?kc_idp_hint=x", "r", "s", "c").starts_with("https://a/auth?kc_idp_hint=x&response_type"));
    }

    #[test]
    fn callback_params_are_decoded_and_the_fragment_ignored() {
        let params = callback_params("http://127.0.0.1:5555/callback?code=a%2Bb&state=s%20t#frag");
        assert_eq!(params, vec![pair("code", "a+b"), pair("state", "s t")]);
    }

    #[test]
    fn token_answers_tolerate_string_expiry_and_keep_extra_fields() {
        let body = r#"{"access_token":"A","refresh_token":"R","token_type":"Bearer","expires_in":"12600","usage_points_id":"1,2","scope":""}"#;
        let answer = read_token_answer(&config(), &HttpResponse::new(200, body)).unwrap();
        let tokens = TokenSet::from_answer(answer, &["x".into()], 1_000);
        assert_eq!(tokens.expires_at_ms, Some(1_000 + 12_600_000));
        assert_eq!(tokens.extra["usage_points_id"], "1,2");
        assert!(tokens.scopes.is_empty(), "an empty scope string is an empty grant");
    }

    #[test]
    fn expires_in_is_a_number_or_a_string_of_digits() {
        let expires = |value: &str| {
            let body = format!(r#"{{"access_token":"A","expires_in":{value}}}"#);
            read_token_answer(&config(), &HttpResponse::new(200, body)).map(|a| a.expires_in).map_err(|f| match f {
                TokenFailure::Other(e) => e.message,
                TokenFailure::OAuth { error, .. } => error,
            })
        };
        assert_eq!(expires("3600"), Ok(Some(3600)));
        assert_eq!(expires(r#"" 3600 ""#), Ok(Some(3600)));
        assert_eq!(expires(r#""soon""#), Ok(None));
        assert_eq!(expires("null"), Ok(None));
        assert!(expires("1.5").unwrap_err().contains("expected an integer or a string"));
        assert!(expires("18446744073709551615").is_err());
    }

    #[test]
    fn oauth_errors_and_other_failures_are_told_apart() {
        let pending = read_token_answer(&config(), &HttpResponse::new(400, r#"{"error":"authorization_pending"}"#));
        assert!(matches!(pending, Err(TokenFailure::OAuth { ref error, status: 400, .. }) if error == "authorization_pending"));
        let html = read_token_answer(&config(), &HttpResponse::new(502, "<html>Bad gateway</html>"));
        assert!(matches!(html, Err(TokenFailure::Other(ref e)) if e.code == ErrorCode::Unavailable));
        let html200 = read_token_answer(&config(), &HttpResponse::new(200, "<html>login</html>"));
        assert!(matches!(html200, Err(TokenFailure::Other(ref e)) if e.code == ErrorCode::BadResponse));
        let no_token = read_token_answer(&config(), &HttpResponse::new(200, r#"{"token_type":"Bearer"}"#));
        assert!(matches!(no_token, Err(TokenFailure::Other(ref e)) if e.message.contains("access_token")));
    }

    #[test]
    fn session_not_active_means_log_in_again() {
        let mut config = config();
        config.login_hint = Some("run `wattbridge weheat login`".into());
        let err = oauth_error(&config, Flow::Refresh, "invalid_grant", Some("Session not active"), 400);
        assert_eq!(err.code, ErrorCode::AuthRequired);
        assert_eq!(err.message, "weheat ended the session (Session not active): run `wattbridge weheat login`");
    }
}
