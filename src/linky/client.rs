//! Linky orchestration, generic over the seams: who we are to Enedis, which
//! meter, and fetching a range politely into the local history.

use super::api::{self, Relay};
use super::history::History;
use super::model::{Hole, LastError, Point, Series};
use super::plan::{minimum_requests, plan, refill_plan, Window};
use super::stats::{self, DayEnergy, HourEnergy, PeriodTotals, Tariff};
use crate::core::budget::{BudgetStatus, RequestBudget};
use crate::core::time::{paris_date, paris_local, Date};
use super::PROVIDER;
use crate::core::clock::backoff;
use crate::core::crypto::random_token;
use crate::core::http::check_service_url;
use crate::core::store::{load, save};
use crate::core::{Clock, Crypto, Error, ErrorCode, HttpClient, HttpResponse, Result, Secret, Store};
use crate::oauth::{OAuthClient, OAuthConfig};
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use std::collections::BTreeSet;
use std::time::Duration;

pub const DEFAULT_GATEWAY_URL: &str = "https://enedis.domoticz.russandol.pro";
/// The gateway's clients as the Domoticz plugin uses them (issue 13; the
/// contract names the host, not the ids): production, and the test
/// deployment under `/domoticzlinkyconnect/`.
pub const PROD_CLIENT_ID: &str = "d198fd52-61c0-4b77-8725-06a1ef90da9f";
pub const TEST_CLIENT_ID: &str = "9c551777-9d1b-447c-9e68-bfe6896ee002";
pub const TEST_GATEWAY_URL: &str = "https://enedis.domoticz.russandol.pro/domoticzlinkyconnect";
/// Where the gateway renews tokens (contract §1 step 5); the old scenario's
/// gateway answered on `/device/proxy`, hence `refreshPath`.
pub const DEFAULT_REFRESH_PATH: &str = "/device/token";
pub const DEFAULT_CONSO_API_URL: &str = "https://conso.boris.sh/api";
pub const DEFAULT_ENEDIS_API_URL: &str = "https://gw.ext.prod.api.enedis.fr";
pub const DEFAULT_CONSENT_URL: &str = "https://mon-compte-particulier.enedis.fr/dataconnect/v1/oauth2/authorize";
/// Tries per request on 429, 5xx or a dropped connection (contract §3, the Domoticz plugin's practice).
const MAX_TRIES: u32 = 3;
/// A `Retry-After` longer than this ends the run (resumable) instead of keeping a person waiting.
const MAX_WAIT_SECS: u64 = 120;
/// Windows that ended more than this long ago are complete: what did not come will not.
const SETTLED_DAYS: i32 = 7;
const CONSENT_KEY: &str = "linky/consent";
const CONSENT_PENDING_KEY: &str = "linky/consent/pending";
/// The Conso API bans an IP after about 100 requests in 12 h (contract §1):
/// every request to it is counted here, shared by every client over the store.
const CONSO_BUDGET_KEY: &str = "linky/conso-budget";
const CONSO_WINDOW_MS: i64 = 12 * 3_600_000;

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkyConfig {
    /// `gateway` (device-flow gateway), `conso` (Conso API token) or `enedis`
    /// (own Enedis app). Default: `conso` when a Conso token is set, else `gateway`.
    #[serde(default)]
    pub access: Option<String>,
    /// `prod` (default) or `test`: the gateway deployment, which sets its
    /// URL and client id together; `gatewayUrl` / `clientId` override one.
    #[serde(default)]
    pub gateway: Option<String>,
    #[serde(default)]
    pub gateway_url: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    /// Path of the refresh request at the gateway (default `/device/token`).
    #[serde(default)]
    pub refresh_path: Option<String>,
    /// `User-Agent` sent on every gateway call (default `wattbridge/<version>`).
    #[serde(default)]
    pub user_agent: Option<String>,
    #[serde(default = "default_conso_api_url")]
    pub conso_api_url: String,
    #[serde(default)]
    pub conso_token: Option<Secret>,
    /// Conso API requests allowed in any 12 hours, retries included: a
    /// margin under the ~100 after which it bans the IP.
    #[serde(default = "default_conso_budget")]
    pub conso_budget: u32,
    #[serde(default = "default_enedis_api_url")]
    pub enedis_api_url: String,
    #[serde(default = "default_consent_url")]
    pub consent_url: String,
    #[serde(default)]
    pub app_client_id: Option<String>,
    #[serde(default)]
    pub app_client_secret: Option<Secret>,
    /// The meter (PRM) to use when the consent covers several.
    #[serde(default)]
    pub meter: Option<String>,
    /// Recent days fetched again on every run: Enedis completes and corrects them.
    #[serde(default = "default_correction_days")]
    pub correction_days: i32,
    /// Enedis allows 5 requests per second per application.
    #[serde(default = "default_rate")]
    pub max_requests_per_second: f64,
}

fn default_conso_api_url() -> String {
    DEFAULT_CONSO_API_URL.to_owned()
}
fn default_conso_budget() -> u32 {
    90
}
fn default_enedis_api_url() -> String {
    DEFAULT_ENEDIS_API_URL.to_owned()
}
fn default_consent_url() -> String {
    DEFAULT_CONSENT_URL.to_owned()
}
fn default_correction_days() -> i32 {
    3
}
fn default_rate() -> f64 {
    5.0
}

/// The device-flow gateway once its preset and overrides are resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct Gateway {
    pub url: String,
    pub client_id: String,
    pub refresh_url: String,
    pub user_agent: String,
}

impl LinkyConfig {
    /// The gateway to use: the `gateway` preset (`prod` or `test`) gives URL
    /// and client id together; `gatewayUrl`, `clientId`, `refreshPath` and
    /// `userAgent` override one piece each.
    pub fn gateway(&self) -> Result<Gateway> {
        let (url, client_id) = match self.gateway.as_deref().map(str::trim).filter(|g| !g.is_empty()) {
            None | Some("prod") => (DEFAULT_GATEWAY_URL, PROD_CLIENT_ID),
            Some("test") => (TEST_GATEWAY_URL, TEST_CLIENT_ID),
            Some(other) => {
                return Err(Error::invalid_config(format!("linky gateway '{other}' is not one of prod, test")).provider(PROVIDER));
            }
        };
        let url = self.gateway_url.as_deref().filter(|u| !u.is_empty()).unwrap_or(url).trim_end_matches('/').to_owned();
        let path = self.refresh_path.as_deref().filter(|p| !p.is_empty()).unwrap_or(DEFAULT_REFRESH_PATH);
        if !path.starts_with('/') || path.contains(['?', '#']) {
            return Err(Error::invalid_config(format!("linky refresh path '{path}' must be a path starting with / (e.g. {DEFAULT_REFRESH_PATH})")).provider(PROVIDER));
        }
        Ok(Gateway {
            refresh_url: format!("{url}{path}"),
            url,
            client_id: self.client_id.clone().filter(|c| !c.is_empty()).unwrap_or_else(|| client_id.to_owned()),
            user_agent: self.user_agent.clone().filter(|u| !u.is_empty()).unwrap_or_else(|| format!("wattbridge/{}", env!("CARGO_PKG_VERSION"))),
        })
    }

    /// The OAuth settings of the device-flow gateway (refresh 20 min ahead,
    /// meters echoed on refresh) or of an own Enedis app (client credentials).
    pub fn oauth_config(&self) -> Result<Option<OAuthConfig>> {
        let enedis = self.enedis_api_url.trim_end_matches('/');
        // Struct literals, not `json!` + `from_value` (see WASM-SIZE.md).
        let base = |client_id: &str, token_url: String, store_key: &str, hint: &str, margin_secs: i64| OAuthConfig {
            provider: PROVIDER.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: None,
            token_url,
            device_authorization_url: None,
            authorization_url: None,
            logout_url: None,
            revocation_url: None,
            scopes: Vec::new(),
            refresh_margin_secs: margin_secs,
            store_key: Some(store_key.to_owned()),
            refresh_echo_fields: Vec::new(),
            client_credentials: false,
            login_hint: Some(hint.to_owned()),
            refresh_url: None,
            user_agent: None,
            verification_code_param: None,
            // The gateway's data proxy shares its origin; an own app's API does not.
            api_urls: vec![enedis.to_owned()],
        };
        match self.access_mode()? {
            "gateway" => {
                let gateway = self.gateway()?;
                Ok(Some(OAuthConfig {
                    device_authorization_url: Some(format!("{}/device/code", gateway.url)),
                    refresh_echo_fields: vec!["usage_points_id".to_owned()],
                    refresh_url: Some(gateway.refresh_url),
                    user_agent: Some(gateway.user_agent),
                    // The gateway's device answer has no verification_uri_complete (contract §1 step 1).
                    verification_code_param: Some("code".to_owned()),
                    ..base(&gateway.client_id, format!("{}/device/token", gateway.url), "tokens/linky", "run `wattbridge linky login`", 20 * 60)
                }))
            }
            "enedis" => {
                let (Some(id), Some(secret)) = (&self.app_client_id, &self.app_client_secret) else {
                    return Err(Error::invalid_config("an own Enedis app needs appClientId and appClientSecret").provider(PROVIDER));
                };
                Ok(Some(OAuthConfig {
                    client_secret: Some(secret.clone()),
                    client_credentials: true,
                    ..base(id, format!("{enedis}/oauth2/v3/token"), "tokens/linky-app", "check appClientId and appClientSecret", 5 * 60)
                }))
            }
            _ => Ok(None),
        }
    }

    fn access_mode(&self) -> Result<&str> {
        match self.access.as_deref() {
            Some(mode @ ("gateway" | "conso" | "enedis")) => Ok(mode),
            Some(other) => Err(Error::invalid_config(format!("linky access '{other}' is not one of gateway, conso, enedis")).provider(PROVIDER)),
            None if self.conso_token.is_some() => Ok("conso"),
            None => Ok("gateway"),
        }
    }
}

enum Auth<H, S, C, K> {
    OAuth(OAuthClient<H, S, C, K>),
    Token(Secret),
}

/// Progress of a long fetch, for a progress bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub done: u32,
    pub total: u32,
}

/// A window Enedis refused without it being worth retrying.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Skipped {
    #[cfg_attr(target_arch = "wasm32", tsify(type = "string"))]
    pub start: Date,
    #[cfg_attr(target_arch = "wasm32", tsify(type = "string"))]
    pub end: Date,
    pub code: &'static str,
    pub message: String,
}

/// What a fetch did.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct FetchReport {
    pub meter: String,
    pub series: &'static str,
    #[cfg_attr(target_arch = "wasm32", tsify(type = "string"))]
    pub from: Date,
    #[cfg_attr(target_arch = "wasm32", tsify(type = "string"))]
    pub to: Date,
    /// Windows planned (days already stored are not asked again).
    pub windows: u32,
    /// Requests sent, retries and probes included.
    pub requests: u32,
    /// The fewest requests the whole range could take with nothing stored.
    pub minimum_requests: u32,
    pub points: u32,
    /// Points new to the local history: a new day, a filled hole, older days.
    pub new_points: u32,
    pub holes: Vec<Hole>,
    pub skipped: Vec<Skipped>,
    /// The `from` asked for when it lay before what Enedis keeps: the range
    /// was clamped to start at [`FetchReport::from`] instead.
    #[cfg_attr(target_arch = "wasm32", tsify(type = "string | null"))]
    pub clamped_from: Option<Date>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct SeriesStatus {
    pub series: &'static str,
    /// First and last day stored.
    #[cfg_attr(target_arch = "wasm32", tsify(type = "string | null"))]
    pub first_day: Option<Date>,
    #[cfg_attr(target_arch = "wasm32", tsify(type = "string | null"))]
    pub last_day: Option<Date>,
    /// Days between the first stored day and yesterday not fetched yet.
    pub missing_days: i32,
    /// Gaps inside the fetched days (Enedis sent nothing for them).
    pub holes: u32,
    /// Enedis has nothing before this date (activation).
    #[cfg_attr(target_arch = "wasm32", tsify(type = "string | null"))]
    pub earliest: Option<Date>,
    pub last_error: Option<LastError>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct LinkyStatus {
    pub access: &'static str,
    pub logged_in: bool,
    pub token_expires_at_ms: Option<i64>,
    pub meters: Vec<String>,
    pub meter: Option<String>,
    /// Why no meter can be used (not logged in, no consent), when that is so.
    pub problem: Option<LastError>,
    #[cfg_attr(target_arch = "wasm32", tsify(type = "string"))]
    pub today: Date,
    pub series: Vec<SeriesStatus>,
    /// The Conso API's 12-hour request budget, when that is the access.
    pub conso_budget: Option<BudgetStatus>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct LinkyStats {
    pub meter: String,
    #[cfg_attr(target_arch = "wasm32", tsify(type = "string"))]
    pub today: Date,
    pub periods: PeriodTotals,
    pub daily: Vec<DayEnergy>,
    /// Yesterday, hour by hour (from the load curve).
    pub hourly: Vec<HourEnergy>,
    /// The newest day with its whole energy stored: shown beside "yesterday"
    /// when Enedis has not published yesterday yet (day D comes on D+1 from
    /// about 08:00, sometimes D+2).
    pub last_complete_day: Option<DayEnergy>,
}

#[derive(Serialize, Deserialize)]
struct Consent {
    meters: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct PendingConsent {
    state: String,
}

pub struct Linky<H, S, C, K> {
    config: LinkyConfig,
    relay: Relay,
    http: H,
    store: S,
    clock: C,
    auth: Auth<H, S, C, K>,
    /// Only the Conso API has one: the gateway and an own app have no such limit.
    conso_budget: Option<RequestBudget>,
    last_request_ms: Cell<Option<i64>>,
    requests: Cell<u32>,
}

impl<H: HttpClient + Clone, S: Store + Clone, C: Clock + Clone, K: Crypto> Linky<H, S, C, K> {
    pub fn new(config: LinkyConfig, http: H, store: S, clock: C, crypto: K) -> Result<Self> {
        let check = |setting: &str, url: &str| check_service_url(setting, url).map_err(|e| e.provider(PROVIDER));
        let mode = config.access_mode()?.to_owned();
        let relay = match mode.as_str() {
            "conso" => {
                check("linky.conso_api_url", &config.conso_api_url)?;
                Relay::Conso(config.conso_api_url.clone())
            }
            "enedis" => {
                check("linky.enedis_api_url", &config.enedis_api_url)?;
                Relay::Enedis(config.enedis_api_url.clone())
            }
            _ => {
                let gateway = config.gateway()?;
                check("linky.gateway_url", &gateway.url)?;
                check("linky.refresh_path", &gateway.refresh_url)?;
                Relay::Gateway(gateway.url)
            }
        };
        if let Some(meter) = config.meter.as_deref().filter(|m| !api::is_meter_id(m)) {
            return Err(Error::invalid_config(format!("meter '{meter}' is not a PRM (14 digits)")).provider(PROVIDER));
        }
        let auth = match (&relay, config.oauth_config()?) {
            (Relay::Conso(_), _) => Auth::Token(config.conso_token.clone().ok_or_else(|| {
                Error::invalid_config("the Conso API needs a token: set linky.conso_token (WATTBRIDGE_LINKY_CONSO_TOKEN)").provider(PROVIDER)
            })?),
            (_, Some(oauth)) => Auth::OAuth(OAuthClient::new(oauth, http.clone(), store.clone(), clock.clone(), crypto)?),
            (_, None) => return Err(Error::invalid_config("no way to reach Enedis is configured").provider(PROVIDER)),
        };
        let conso_budget = match relay {
            Relay::Conso(_) if config.conso_budget == 0 => {
                return Err(Error::invalid_config("linky.conso_budget is 0: allow at least 1 request per 12 h (default 90; the Conso API bans after about 100)").provider(PROVIDER));
            }
            Relay::Conso(_) => Some(RequestBudget::new(CONSO_BUDGET_KEY, config.conso_budget, CONSO_WINDOW_MS)),
            _ => None,
        };
        Ok(Linky { config, relay, http, store, clock, auth, conso_budget, last_request_ms: Cell::new(None), requests: Cell::new(0) })
    }

    pub fn access(&self) -> &'static str {
        match self.relay {
            Relay::Gateway(_) => "gateway",
            Relay::Conso(_) => "conso",
            Relay::Enedis(_) => "enedis",
        }
    }

    /// Today in Paris: data exist up to yesterday.
    pub fn today(&self) -> Date {
        paris_date(self.clock.now_ms())
    }

    pub fn oauth(&self) -> Option<&OAuthClient<H, S, C, K>> {
        match &self.auth {
            Auth::OAuth(client) => Some(client),
            Auth::Token(_) => None,
        }
    }

    /// Keep gateway tokens obtained by another install (a token answer, or a
    /// device code approved there). The meters may come as `usage_points_id`
    /// (the gateway's name), `usage_point_id`, `meter` or a `meters` list;
    /// they are stored as the gateway sends them, so refreshes echo them.
    pub async fn import_tokens(&self, text: &Secret) -> Result<crate::oauth::TokenStatus> {
        let Auth::OAuth(client) = &self.auth else {
            return Err(Error::invalid_input("importing tokens is for the device-flow gateway; this Linky uses a Conso API token").provider(PROVIDER));
        };
        if self.access() != "gateway" {
            return Err(Error::invalid_input("importing tokens is for the device-flow gateway; an own Enedis app gets its own").provider(PROVIDER));
        }
        let Ok(serde_json::Value::Object(mut fields)) = serde_json::from_str::<serde_json::Value>(text.expose()) else {
            // Never serde's reason: it can quote the text, which holds tokens.
            return Err(Error::invalid_input("the tokens to import are not a JSON object").provider(PROVIDER));
        };
        let meters: Vec<String> = ["usage_points_id", "usage_point_id", "meter", "meters"]
            .iter()
            .filter_map(|key| fields.remove(*key))
            .flat_map(|value| match value {
                serde_json::Value::Array(items) => items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
                serde_json::Value::String(list) => list.split([',', ';']).map(str::trim).filter(|m| !m.is_empty()).map(str::to_owned).collect(),
                _ => Vec::new(),
            })
            .collect();
        if let Some(bad) = meters.iter().find(|m| !api::is_meter_id(m)) {
            return Err(Error::invalid_input(format!("'{bad}' is not a meter (PRM, 14 digits)")).provider(PROVIDER));
        }
        // A device code brings the meters with its tokens; tokens alone must name them.
        if meters.is_empty() && !fields.contains_key("device_code") {
            return Err(Error::invalid_input("the tokens to import name no meter: add \"usage_points_id\": \"<PRM>,<PRM>\" (the gateway gives it with the tokens)").provider(PROVIDER));
        }
        if !meters.is_empty() {
            fields.insert("usage_points_id".to_owned(), serde_json::Value::String(meters.join(",")));
        }
        client.import_tokens(fields).await
    }

    /// The meters the consent covers.
    pub async fn meters(&self) -> Result<Vec<String>> {
        let meters = match (&self.relay, &self.auth) {
            (Relay::Conso(_), Auth::Token(token)) => api::conso_token_meters(token)?,
            (Relay::Gateway(_), Auth::OAuth(client)) => {
                let status = client.status().await?;
                if !status.logged_in {
                    return Err(Error::new(ErrorCode::AuthRequired, "not logged in to Linky: run `wattbridge linky login`").provider(PROVIDER));
                }
                let list = status.extra.get("usage_points_id").or(status.extra.get("usage_point_id"));
                api::split_meters(list.and_then(|v| v.as_str()).unwrap_or(""))
            }
            _ => load::<Consent>(&self.store, CONSENT_KEY).await?.map(|c| c.meters).unwrap_or_default(),
        };
        if meters.is_empty() {
            return Err(Error::new(ErrorCode::ConsentRequired, "no meter is covered by the consent: give it again at Enedis").provider(PROVIDER));
        }
        Ok(meters)
    }

    /// The configured meter, which must be in the consent, or its first one.
    pub async fn meter(&self) -> Result<String> {
        let meters = self.meters().await?;
        match &self.config.meter {
            Some(meter) if meters.contains(meter) => Ok(meter.clone()),
            Some(meter) => Err(Error::invalid_input(format!(
                "meter {meter} is not covered by this consent; it covers {}",
                meters.join(", ")
            ))
            .provider(PROVIDER)),
            None => Ok(meters[0].clone()),
        }
    }

    // ---- own Enedis app: consent ----

    /// The Enedis page where a customer consents to the app (for 3 years).
    pub async fn consent_url(&self, redirect_uri: Option<&str>) -> Result<String> {
        let state = random_token(16)?;
        save(&self.store, CONSENT_PENDING_KEY, &PendingConsent { state: state.clone() }).await?;
        let Some(client_id) = self.config.app_client_id.as_deref() else {
            return Err(Error::invalid_config("the consent page is for an own Enedis app: set linky.app_client_id").provider(PROVIDER));
        };
        let mut pairs = vec![("client_id", client_id), ("response_type", "code"), ("state", state.as_str()), ("duration", "P3Y")];
        if let Some(uri) = redirect_uri {
            pairs.push(("redirect_uri", uri));
        }
        Ok(format!("{}?{}", self.config.consent_url, crate::core::form::encode(&pairs)))
    }

    /// Read the redirect back from the consent page: `usage_point_id=A;B`.
    pub async fn complete_consent(&self, callback_url: &str) -> Result<Vec<String>> {
        let params = crate::oauth::callback_params(callback_url);
        let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let pending: Option<PendingConsent> = load(&self.store, CONSENT_PENDING_KEY).await?;
        if pending.is_none() || param("state") != pending.as_ref().map(|p| p.state.as_str()) {
            return Err(Error::invalid_input("this consent answer does not belong to the consent we asked for (state mismatch)").provider(PROVIDER));
        }
        if let Some(error) = param("error") {
            return Err(Error::new(ErrorCode::ConsentRequired, format!("the consent was not given ({error})")).provider(PROVIDER));
        }
        let meters = api::split_meters(param("usage_point_id").unwrap_or(""));
        if meters.is_empty() {
            return Err(Error::new(ErrorCode::BadResponse, "the consent answer names no meter (usage_point_id)").provider(PROVIDER));
        }
        save(&self.store, CONSENT_KEY, &Consent { meters: meters.clone() }).await?;
        self.store.delete(CONSENT_PENDING_KEY).await?;
        Ok(meters)
    }

    // ---- fetching ----

    /// Fetch `[from, to)` of a series into the history (default: everything
    /// Enedis keeps, up to yesterday). Days stored before are skipped except
    /// the correction window. Stops with a resumable error when Enedis keeps
    /// refusing; what was fetched until then stays stored.
    pub async fn fetch(&self, series: Series, from: Option<Date>, to: Option<Date>, on_progress: impl Fn(Progress)) -> Result<FetchReport> {
        let meter = self.meter().await?;
        let result = self.fetch_meter(&meter, series, from, to, on_progress).await;
        // Remember how the last fetch ended, so `status` can tell a missing consent at a glance.
        let history = History::new(&self.store, &meter, series);
        let last_error = result.as_ref().err().map(|e| LastError { code: e.code.as_str().to_owned(), message: e.message.clone(), at_ms: self.clock.now_ms() });
        history
            .update_index(|index| {
                let changed = index.last_error != last_error;
                index.last_error = last_error;
                changed
            })
            .await?;
        result
    }

    async fn fetch_meter(&self, meter: &str, series: Series, from: Option<Date>, to: Option<Date>, on_progress: impl Fn(Progress)) -> Result<FetchReport> {
        let meter = meter.to_owned();
        let today = self.today();
        let history = History::new(&self.store, &meter, series);
        let index = history.index().await?;
        let asked_from = from;
        let from = from.unwrap_or(Date(i32::MIN / 2));
        let to = to.unwrap_or(today);
        if from >= to {
            return Err(Error::invalid_input(format!("--from {from} must be before --to {to}")).provider(PROVIDER));
        }
        // A range wholly before what Enedis serves would otherwise end as "0
        // values" and success: say why, and from which day one can ask.
        let (earliest, code, why) = match index.earliest.filter(|e| *e > series.history_start(today)) {
            Some(activation) => (activation, ErrorCode::BeforeActivation, "Enedis has nothing before the meter's activation".to_owned()),
            None => (series.history_start(today), ErrorCode::BeforeHistoryLimit, format!("Enedis keeps the {} for {}", series.label(), series.history_span())),
        };
        if to <= earliest {
            return Err(Error::new(code, format!("{why}: the earliest date that can be asked is {earliest}, and {from} to {to} lies entirely before it"))
                .provider(PROVIDER));
        }
        let planned = plan(series, from, to, today, &index.coverage, self.config.correction_days, index.earliest);
        let total = planned.windows.len() as u32;
        let requests_before = self.requests.get();
        let mut report = FetchReport {
            meter: meter.clone(),
            series: series.name(),
            from: planned.from,
            to: planned.to,
            windows: total,
            requests: 0,
            minimum_requests: minimum_requests(series, planned.to.0 - planned.from.0) as u32,
            points: 0,
            new_points: 0,
            holes: Vec::new(),
            skipped: Vec::new(),
            clamped_from: asked_from.filter(|asked| *asked < planned.from),
        };
        on_progress(Progress { done: 0, total });
        for (done, window) in planned.windows.iter().enumerate() {
            let outcome = self.fetch_window(series, &meter, *window).await;
            report.requests = self.requests.get() - requests_before;
            match outcome {
                Ok(answer) => {
                    let settled = window.end <= today.add_days(-SETTLED_DAYS);
                    let last_data = answer.points.last().map(|p| paris_date(p.end - 1).add_days(1));
                    let covered_to = if settled { window.end } else { last_data.unwrap_or(window.start).min(window.end) };
                    report.new_points += history.record(&answer.points, window.start, covered_to).await?;
                    report.points += answer.points.len() as u32;
                    report.holes.extend(edge_holes(&answer, window.start.paris_midnight_ms(), covered_to.paris_midnight_ms()));
                    report.holes.extend(answer.holes);
                }
                Err(err) if matches!(err.code, ErrorCode::BeforeActivation | ErrorCode::BeforeHistoryLimit) => {
                    // Everything older is refused too: find where data begin inside this window, then stop.
                    let found = self.find_first_day(series, &meter, *window, &history, &mut report).await?;
                    history
                        .update_index(|index| {
                            index.earliest = Some(found);
                            true
                        })
                        .await?;
                    report.skipped.push(skip(window.start, found, &err));
                    report.requests = self.requests.get() - requests_before;
                    break;
                }
                Err(err) if err.code == ErrorCode::NoData => {
                    // Nothing at all, ever: most likely hourly collection is off; say so instead of asking on.
                    if report.points == 0 && history.index().await?.coverage.first().is_none() {
                        return Err(err);
                    }
                    if window.end <= today.add_days(-SETTLED_DAYS) {
                        history.record(&[], window.start, window.end).await?;
                    }
                    report.holes.push(Hole { start: window.start.paris_midnight_ms(), end: window.end.paris_midnight_ms() });
                    report.skipped.push(skip(window.start, window.end, &err));
                }
                Err(mut err) => {
                    // (Not after a Conso API ban, a 403: waiting does not lift it.)
                    let resumable = matches!(err.code, ErrorCode::RateLimited | ErrorCode::Unavailable | ErrorCode::Network) && err.status != Some(403);
                    if resumable {
                        err.message.push_str(&format!(
                            "; {done} of {total} windows of {} are stored, run the same fetch again later to continue",
                            series.name()
                        ));
                    }
                    return Err(err);
                }
            }
            on_progress(Progress { done: done as u32 + 1, total });
        }
        Ok(report)
    }

    /// Enedis refused `window` as too old; find by bisection the first start
    /// it accepts (Enedis refuses a whole window that begins too early), store
    /// that part, and return it (`window.end` when none).
    async fn find_first_day(&self, series: Series, meter: &str, window: Window, history: &History<'_, S>, report: &mut FetchReport) -> Result<Date> {
        let (mut low, mut high) = (window.start.add_days(1), window.end);
        let mut best = None;
        while low < high {
            let mid = Date(low.0 + (high.0 - low.0) / 2);
            match self.fetch_window(series, meter, Window { start: mid, end: window.end }).await {
                Ok(answer) => {
                    best = Some((mid, answer));
                    high = mid;
                }
                Err(err) if matches!(err.code, ErrorCode::BeforeActivation | ErrorCode::BeforeHistoryLimit) => low = mid.add_days(1),
                Err(err) => return Err(err),
            }
        }
        let Some((start, answer)) = best else { return Ok(window.end) };
        report.new_points += history.record(&answer.points, start, window.end).await?;
        report.points += answer.points.len() as u32;
        report.holes.extend(answer.holes);
        Ok(start)
    }

    /// Ask Enedis again for the days holding `holes` (unix-second ranges the
    /// history lacks, older than the correction window, which every fetch asks
    /// anyway): Enedis fills some holes late. Days older than what Enedis keeps
    /// are not asked. Resolves to `(requests, points new to the history)`.
    pub async fn refill(&self, series: Series, holes: &[(i64, i64)]) -> Result<(u32, u32)> {
        let meter = self.meter().await?;
        let history = History::new(&self.store, &meter, series);
        let index = history.index().await?;
        let oldest = series.history_start(self.today());
        let mut days = BTreeSet::new();
        for &(start, end) in holes.iter().filter(|(start, end)| start < end) {
            let (first, last) = (paris_date(start * 1000), paris_date((end - 1) * 1000));
            let mut day = first.max(oldest);
            while day <= last {
                days.insert(day);
                day = day.add_days(1);
            }
        }
        let requests_before = self.requests.get();
        let mut new_points = 0;
        for window in refill_plan(series, &days, self.today(), index.earliest) {
            match self.fetch_window(series, &meter, window).await {
                // The days stay covered: only the points are recorded.
                Ok(answer) => new_points += history.record(&answer.points, window.start, window.start).await?,
                // Still nothing there, or no longer served: the hole stays a hole.
                Err(err) if matches!(err.code, ErrorCode::NoData | ErrorCode::BeforeActivation | ErrorCode::BeforeHistoryLimit) => {}
                Err(err) => return Err(err),
            }
        }
        Ok((self.requests.get() - requests_before, new_points))
    }

    async fn fetch_window(&self, series: Series, meter: &str, window: Window) -> Result<api::Answer> {
        let response = self.request(series, meter, window).await?;
        api::parse_answer(series, &response)
    }

    /// One metering request: paced under the per-second quota, retried on
    /// 429 / 5xx / a dropped connection (honouring `Retry-After`, else
    /// exponential backoff with jitter), never retried on 400 / 403 / 404.
    async fn request(&self, series: Series, meter: &str, window: Window) -> Result<HttpResponse> {
        let mut tries = 0;
        loop {
            tries += 1;
            self.pace().await;
            // Counted when it really leaves, after the pacing wait.
            self.spend_conso_budget().await?;
            self.requests.set(self.requests.get() + 1);
            let build = |token: &Secret| api::data_request(&self.relay, series, meter, window.start, window.end, token);
            let outcome = match &self.auth {
                Auth::OAuth(client) => client.send_authorized(build).await,
                Auth::Token(token) => self.http.send(build(token)).await.map_err(|e| e.provider(PROVIDER)),
            };
            let error = match outcome {
                Ok(response) if response.is_success() => return Ok(response),
                Ok(response) if response.status == 401 && matches!(self.auth, Auth::Token(_)) => {
                    return Err(Error::new(ErrorCode::AuthRequired, "the Conso API refuses the token (expired or revoked): get a new one at conso.boris.sh and set linky.conso_token")
                        .provider(PROVIDER)
                        .status(401));
                }
                Ok(response) => {
                    // Only the Conso API bans; elsewhere a 403 is Enedis' consent answer.
                    let ban = match self.relay {
                        Relay::Conso(_) => api::conso_ban(&response),
                        _ => None,
                    };
                    if let Some(ban) = ban {
                        return Err(ban);
                    }
                    let error = api::status_error(&response, series, meter, window.start, window.end);
                    if !api::is_retryable(response.status) {
                        return Err(error);
                    }
                    error
                }
                Err(error) if error.code == ErrorCode::Network => error,
                Err(error) => return Err(error),
            };
            if tries >= MAX_TRIES || error.retry_after.is_some_and(|s| s > MAX_WAIT_SECS) {
                return Err(error);
            }
            let wait = match error.retry_after {
                Some(seconds) => Duration::from_secs(seconds),
                None => backoff(tries, &self.clock),
            };
            self.clock.sleep(wait).await;
        }
    }

    /// Count one Conso API request, or refuse it before it leaves when the
    /// 12-hour budget is spent: a `rate_limited` saying when it continues.
    async fn spend_conso_budget(&self) -> Result<()> {
        let Some(budget) = &self.conso_budget else { return Ok(()) };
        let Some(frees_at) = budget.take(&self.store, &self.clock).await? else { return Ok(()) };
        let seconds = ((frees_at - self.clock.now_ms()).max(0) as u64).div_ceil(1000);
        Err(Error::new(
            ErrorCode::RateLimited,
            format!(
                "the Conso API bans an IP after about 100 requests in 12 h, and wattbridge's budget of {} (linky.conso_budget) is spent: the fetch can continue after {}",
                budget.limit(),
                when(frees_at, seconds)
            ),
        )
        .provider(PROVIDER)
        .retry_after(Some(seconds)))
    }

    /// Keep request starts at least 1 / rate apart (with a 5 % margin, so a
    /// late timer never makes six requests land in one second).
    async fn pace(&self) {
        let rate = if self.config.max_requests_per_second > 0.0 { self.config.max_requests_per_second } else { 5.0 };
        let gap_ms = (1000.0 / rate * 1.05) as i64;
        if let Some(last) = self.last_request_ms.get() {
            let wait = last + gap_ms - self.clock.now_ms();
            if wait > 0 {
                self.clock.sleep(Duration::from_millis(wait as u64)).await;
            }
        }
        self.last_request_ms.set(Some(self.clock.now_ms()));
    }

    /// Token, consent and what is stored or missing, per series.
    pub async fn status(&self) -> Result<LinkyStatus> {
        let tokens = match &self.auth {
            Auth::OAuth(client) => Some(client.status().await?),
            Auth::Token(_) => None,
        };
        let logged_in = tokens.as_ref().map_or(true, |t| t.logged_in) || self.access() == "enedis";
        let (meters, meter, problem) = match self.meter().await {
            Ok(meter) => (self.meters().await?, Some(meter), None),
            Err(err) => (Vec::new(), None, Some(LastError { code: err.code.as_str().to_owned(), message: err.message, at_ms: self.clock.now_ms() })),
        };
        let today = self.today();
        let mut series_status = Vec::new();
        if let Some(meter) = &meter {
            for series in Series::ALL {
                let history = self.history(meter, series);
                let index = history.index().await?;
                let first_day = index.coverage.first();
                let last_day = index.coverage.last_end().map(|d| d.add_days(-1));
                let covered_days: i32 = index.coverage.ranges().iter().map(|(a, b)| b.0 - a.0).sum();
                let missing_days = first_day.map_or(0, |first| today.0 - first.0 - covered_days);
                let holes = match first_day {
                    Some(first) => history.holes(first, today).await?.len() as u32,
                    None => 0,
                };
                series_status.push(SeriesStatus { series: series.name(), first_day, last_day, missing_days, holes, earliest: index.earliest, last_error: index.last_error });
            }
        }
        Ok(LinkyStatus {
            access: self.access(),
            logged_in,
            token_expires_at_ms: tokens.and_then(|t| t.expires_at_ms),
            meters,
            meter,
            problem,
            today,
            series: series_status,
            conso_budget: self.conso_budget_status().await?,
        })
    }

    /// The Conso API's 12-hour request budget (none for the gateway or an own app).
    pub async fn conso_budget_status(&self) -> Result<Option<BudgetStatus>> {
        match &self.conso_budget {
            Some(budget) => Ok(Some(budget.status(&self.store, &self.clock).await?)),
            None => Ok(None),
        }
    }

    /// The seed's six periods in kWh (and cost with a tariff), the daily
    /// series of `[from, to)` (default: this month) and yesterday's hours.
    /// Reads only the local history: fetch first.
    pub async fn stats(&self, tariff: Option<&Tariff>, from: Option<Date>, to: Option<Date>) -> Result<LinkyStats> {
        let meter = self.meter().await?;
        let today = self.today();
        let (from, to) = (from.unwrap_or(today.add_days(-1).first_of_month()), to.unwrap_or(today));
        // Far enough back for last week, last month and this year.
        let start = today.first_of_year().min(today.add_days(-1).first_of_month().minus_months(1)).min(today.add_days(-14)).min(from);
        let end = today.max(to);
        let daily_points = self.history(&meter, Series::DailyConsumption).points(start, end).await?;
        let curve = self.history(&meter, Series::ConsumptionLoadCurve).points(start, end).await?;
        let daily = stats::daily_energy(&daily_points, &curve, Series::DailyConsumption, Series::ConsumptionLoadCurve);
        let periods = stats::period_totals(&daily, today, tariff, &curve);
        let yesterday = today.add_days(-1);
        let yesterday_curve: Vec<Point> = curve
            .iter()
            .filter(|p| p.start >= yesterday.paris_midnight_ms() && p.start < today.paris_midnight_ms())
            .copied()
            .collect();
        let last_complete_day = daily.iter().rev().find(|d| d.date < today).copied();
        Ok(LinkyStats {
            meter,
            today,
            periods,
            daily: daily.into_iter().filter(|d| d.date >= from && d.date < to).collect(),
            hourly: stats::hourly_energy(&yesterday_curve, Series::ConsumptionLoadCurve),
            last_complete_day,
        })
    }

    /// Requests sent since this client was made.
    pub fn requests_sent(&self) -> u32 {
        self.requests.get()
    }

    pub fn history(&self, meter: &str, series: Series) -> History<'_, S> {
        History::new(&self.store, meter, series)
    }

    /// Stored energy of a series (not max power) from `from_secs` on, as
    /// intervals for a cumulative index.
    pub async fn energy_since(&self, series: Series, from_secs: Option<i64>) -> Result<Vec<crate::core::IntervalEnergy>> {
        let Some((first, end)) = self.stored_span(series).await? else { return Ok(Vec::new()) };
        let intervals = self.energy_between(series, from_secs.unwrap_or(first).max(first), end).await?;
        Ok(intervals.into_iter().filter(|i| from_secs.map_or(true, |secs| i.end > secs)).collect())
    }

    /// Stored energy of the intervals of a series that start in
    /// `[from_secs, to_secs)`, oldest first: one window of a stream.
    pub async fn energy_between(&self, series: Series, from_secs: i64, to_secs: i64) -> Result<Vec<crate::core::IntervalEnergy>> {
        if from_secs >= to_secs {
            return Ok(Vec::new());
        }
        let meter = self.meter().await?;
        // Paris days: an interval may start before UTC midnight of its day.
        let (from_day, to_day) = (paris_date(from_secs * 1000), paris_date((to_secs - 1) * 1000).add_days(1));
        let points = self.history(&meter, series).points(from_day, to_day).await?;
        Ok(points
            .iter()
            .filter(|p| p.start >= from_secs * 1000 && p.start < to_secs * 1000)
            .filter_map(|p| Some(crate::core::IntervalEnergy { start: p.start / 1000, end: p.end / 1000, kwh: p.energy_wh(series)? / 1000.0 }))
            .collect())
    }

    /// How the last fetch of a series failed, if it did.
    pub async fn last_error(&self, series: Series) -> Result<Option<LastError>> {
        let meter = self.meter().await?;
        Ok(self.history(&meter, series).index().await?.last_error)
    }

    /// Where the stored days of a series begin and end (unix seconds, Paris
    /// midnights), if anything is stored.
    pub async fn stored_span(&self, series: Series) -> Result<Option<(i64, i64)>> {
        let meter = self.meter().await?;
        let index = self.history(&meter, series).index().await?;
        Ok(index.coverage.first().zip(index.coverage.last_end()).map(|(first, end)| (first.paris_midnight_ms() / 1000, end.paris_midnight_ms() / 1000)))
    }

    /// Stored points of a series for `[from, to)`.
    pub async fn points(&self, series: Series, from: Date, to: Date) -> Result<Vec<Point>> {
        let meter = self.meter().await?;
        self.history(&meter, series).points(from, to).await
    }
}

/// `03:12 Paris time on 2026-11-22 (in 11 h 40 min)`: the minute is rounded
/// up, so that "after" holds.
fn when(at_ms: i64, seconds: u64) -> String {
    let (date, ms) = paris_local((at_ms + 59_999).div_euclid(60_000) * 60_000);
    let minutes = seconds.div_ceil(60);
    let wait = if minutes < 60 { format!("{minutes} min") } else { format!("{} h {:02} min", minutes / 60, minutes % 60) };
    format!("{:02}:{:02} Paris time on {date} (in {wait})", ms / 3_600_000, ms / 60_000 % 60)
}

/// The holes at the edges of a window's answer, within `[from, to)` (Paris
/// midnights, ms): the answer only sees gaps between its own readings, so a day
/// missing at the start or end of a window would otherwise go unreported.
fn edge_holes(answer: &api::Answer, from: i64, to: i64) -> Vec<Hole> {
    let first = answer.points.first().map(|p| p.start).into_iter().chain(answer.holes.first().map(|h| h.start)).min();
    let last = answer.points.last().map(|p| p.end).into_iter().chain(answer.holes.last().map(|h| h.end)).max();
    let (first, last) = (first.unwrap_or(to), last.unwrap_or(to));
    [(from, first.min(to)), (last.max(from), to)].into_iter().filter(|(start, end)| start < end).map(|(start, end)| Hole { start, end }).collect()
}

fn skip(start: Date, end: Date, err: &Error) -> Skipped {
    Skipped { start, end, code: err.code.as_str(), message: err.message.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    fn answer(points: &[(i64, i64)], holes: &[(i64, i64)]) -> api::Answer {
        api::Answer {
            points: points.iter().map(|&(start, end)| Point { start, end, value: 1.0, at: None }).collect(),
            holes: holes.iter().map(|&(start, end)| Hole { start, end }).collect(),
        }
    }

    #[test]
    fn days_missing_at_a_windows_edges_are_holes() {
        // A six-day window whose first and last days Enedis left out.
        let holes = edge_holes(&answer(&[(DAY, 2 * DAY), (2 * DAY, 5 * DAY)], &[]), 0, 6 * DAY);
        assert_eq!(holes, [Hole { start: 0, end: DAY }, Hole { start: 5 * DAY, end: 6 * DAY }]);
        // A hole the answer already has (a null value at the start) is not reported twice.
        assert_eq!(edge_holes(&answer(&[(DAY, 6 * DAY)], &[(0, DAY)]), 0, 6 * DAY), []);
        // Nothing at all in a settled window: the whole window; in one still open (to = from), nothing.
        assert_eq!(edge_holes(&answer(&[], &[]), 0, 6 * DAY), [Hole { start: 0, end: 6 * DAY }]);
        assert_eq!(edge_holes(&answer(&[], &[]), 0, 0), []);
        // Data beyond the covered end (an unsettled window) make no hole.
        assert_eq!(edge_holes(&answer(&[(0, 3 * DAY)], &[]), 0, 2 * DAY), []);
    }
}
