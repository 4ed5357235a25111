//! OAuth 2.0 documents: what the token endpoint answers and what we keep.

use crate::core::Secret;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// Where a provider's authorization server lives and who we are to it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthConfig {
    /// Name used in errors and messages (`weheat`, `linky`, …).
    pub provider: String,
    pub client_id: String,
    #[serde(default)]
    pub client_secret: Option<Secret>,
    pub token_url: String,
    /// RFC 8628 device authorization endpoint (Enedis gateway: `/device/code`).
    #[serde(default)]
    pub device_authorization_url: Option<String>,
    /// Authorization endpoint for the code + PKCE flow.
    #[serde(default)]
    pub authorization_url: Option<String>,
    /// Keycloak's end-session endpoint (form `refresh_token`), used by logout.
    #[serde(default)]
    pub logout_url: Option<String>,
    /// RFC 7009 revocation endpoint (form `token`), used by logout when set.
    #[serde(default)]
    pub revocation_url: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Refresh this long before the access token expires (Linky: 20 min).
    #[serde(default = "default_refresh_margin")]
    pub refresh_margin_secs: i64,
    /// Store key of the token document (one per provider account).
    #[serde(default)]
    pub store_key: Option<String>,
    /// Token fields sent back with every refresh (the Enedis gateway wants `usage_points_id`).
    #[serde(default)]
    pub refresh_echo_fields: Vec<String>,
    /// The app authenticates as itself (client_credentials grant): a token is
    /// requested whenever none is stored or it is about to expire; no login.
    #[serde(default)]
    pub client_credentials: bool,
    /// How a person logs in again, for `auth_required` messages.
    #[serde(default)]
    pub login_hint: Option<String>,
    /// Where `fetch` may send the access token besides the origins of the
    /// OAuth endpoints above: the provider's API.
    #[serde(default)]
    pub api_urls: Vec<String>,
    /// Where refresh requests go when not to `token_url` (an Enedis gateway
    /// that renews on another path).
    #[serde(default)]
    pub refresh_url: Option<String>,
    /// `User-Agent` sent on every request this client makes (the Enedis
    /// gateway asks its clients to name themselves).
    #[serde(default)]
    pub user_agent: Option<String>,
    /// For a device authorization server that sends no
    /// `verification_uri_complete`: the query parameter of its verification
    /// page that takes the user code, so the person still gets a link with the
    /// code filled in (the Enedis gateway: `code`, as the Domoticz plugin
    /// shows `…/device?code=<user_code>`).
    #[serde(default)]
    pub verification_code_param: Option<String>,
}

fn default_refresh_margin() -> i64 {
    60
}

impl OAuthConfig {
    pub fn store_key(&self) -> String {
        self.store_key.clone().unwrap_or_else(|| format!("tokens/{}", self.provider))
    }

    pub fn login_hint(&self) -> String {
        self.login_hint.clone().unwrap_or_else(|| format!("log in to {} again", self.provider))
    }
}

/// A successful token answer (RFC 6749 §5.1), tolerant of what real servers send.
#[derive(Debug, Deserialize)]
pub(crate) struct TokenAnswer {
    pub access_token: Secret,
    #[serde(default = "bearer")]
    pub token_type: String,
    #[serde(default, deserialize_with = "number_or_string")]
    pub expires_in: Option<i64>,
    #[serde(default)]
    pub refresh_token: Option<Secret>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub id_token: Option<Secret>,
    /// Everything else (`usage_points_id`, `refresh_expires_in`, `session_state`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn bearer() -> String {
    "Bearer".to_owned()
}

/// Some gateways send `expires_in` as a string. A string that is not a number
/// reads as "no lifetime given".
fn number_or_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged, expecting = "expected an integer or a string for `expires_in`")]
    enum Lifetime {
        Seconds(i64),
        Text(String),
    }
    Ok(match Option::<Lifetime>::deserialize(deserializer)? {
        Some(Lifetime::Seconds(seconds)) => Some(seconds),
        Some(Lifetime::Text(text)) => text.trim().parse().ok(),
        None => None,
    })
}

/// An OAuth error answer (RFC 6749 §5.2).
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorAnswer {
    pub error: String,
    #[serde(default)]
    pub error_description: Option<String>,
}

/// The longest token lifetime we believe: ten years.
const MAX_LIFETIME_SECS: i64 = 10 * 365 * 86_400;

/// What we keep for one account. Token strings are secrets; expiry is an
/// instant on our own clock (obtained + expires_in), so a server whose clock
/// is minutes off changes nothing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenSet {
    pub access_token: Secret,
    pub token_type: String,
    #[serde(default)]
    pub refresh_token: Option<Secret>,
    /// Unix ms; `None` when the server gave no lifetime.
    #[serde(default)]
    pub expires_at_ms: Option<i64>,
    pub scopes: Vec<String>,
    #[serde(default)]
    pub id_token: Option<Secret>,
    pub obtained_at_ms: i64,
    #[serde(default)]
    pub extra: Map<String, Value>,
}

impl TokenSet {
    pub(crate) fn from_answer(answer: TokenAnswer, requested_scopes: &[String], now_ms: i64) -> TokenSet {
        TokenSet {
            access_token: answer.access_token,
            token_type: answer.token_type,
            refresh_token: answer.refresh_token,
            // A server's number, so clamped: a lifetime over ten years is read as
            // ten years (found by the fuzzer: 9.2e12 s gave an expiry JavaScript
            // cannot show, and `linky login` died printing it), a negative one as
            // already expired.
            expires_at_ms: answer.expires_in.map(|secs| now_ms.saturating_add(secs.clamp(0, MAX_LIFETIME_SECS) * 1000)),
            // RFC 6749 §5.1: no `scope` means the scopes asked for were granted.
            scopes: match answer.scope {
                Some(scope) => scope.split_whitespace().map(str::to_owned).collect(),
                None => requested_scopes.to_vec(),
            },
            id_token: answer.id_token,
            obtained_at_ms: now_ms,
            extra: answer.extra,
        }
    }

    /// A refresh answer may leave out what did not change: the refresh token
    /// (no rotation) and provider fields such as `usage_points_id`.
    pub(crate) fn carry_over(mut self, previous: &TokenSet) -> TokenSet {
        if self.refresh_token.is_none() {
            self.refresh_token = previous.refresh_token.clone();
        }
        for (key, value) in &previous.extra {
            if !self.extra.contains_key(key) {
                self.extra.insert(key.clone(), value.clone());
            }
        }
        self
    }

    pub fn needs_refresh(&self, now_ms: i64, margin_secs: i64) -> bool {
        self.expires_at_ms.is_some_and(|at| now_ms.saturating_add(margin_secs.saturating_mul(1000)) >= at)
    }
}

/// What the person must do to approve a device login.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct DeviceVerification {
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_in: i64,
}

/// The device authorization answer (RFC 8628 §3.2).
#[derive(Debug, Deserialize)]
pub(crate) struct DeviceAuthorization {
    pub device_code: Secret,
    pub user_code: String,
    #[serde(alias = "verification_url")]
    pub verification_uri: String,
    #[serde(default)]
    pub verification_uri_complete: Option<String>,
    #[serde(deserialize_with = "number_or_string_required")]
    pub expires_in: i64,
    #[serde(default, deserialize_with = "number_or_string")]
    pub interval: Option<i64>,
}

fn number_or_string_required<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    number_or_string(deserializer)?.ok_or_else(|| serde::de::Error::custom("`expires_in` is not a number"))
}

/// A safe-to-show summary of the stored tokens.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct TokenStatus {
    pub logged_in: bool,
    pub expires_at_ms: Option<i64>,
    pub scopes: Vec<String>,
    pub has_refresh_token: bool,
    #[cfg_attr(target_arch = "wasm32", tsify(type = "Record<string, unknown>"))]
    pub extra: Map<String, Value>,
}

impl TokenStatus {
    pub fn of(tokens: Option<&TokenSet>) -> TokenStatus {
        match tokens {
            Some(t) => TokenStatus {
                logged_in: true,
                expires_at_ms: t.expires_at_ms,
                scopes: t.scopes.clone(),
                has_refresh_token: t.refresh_token.is_some(),
                extra: t.extra.clone(),
            },
            None => TokenStatus {
                logged_in: false,
                expires_at_ms: None,
                scopes: Vec::new(),
                has_refresh_token: false,
                extra: Map::new(),
            },
        }
    }
}
