//! Weheat orchestration, generic over the seams: a request budget shared by
//! every call of the account, polite retries, the reads, gap filling into a
//! local history, and a watch loop that stays within the budget.

use super::api::{self, RAW_WINDOW_SECS};
use super::derive::{self, format_utc, Energy};
use super::history::EnergyHistory;
use super::model::{number, room_value, Interval, Log, Pump};
use super::PROVIDER;
use crate::core::budget::RequestBudget;
use crate::core::clock::{backoff, jittered};
use crate::core::store::{load, save};
use std::collections::BTreeMap;
use crate::core::{Clock, Crypto, Error, ErrorCode, HttpClient, HttpResponse, IntervalEnergy, Result, Store};
use crate::oauth::{OAuthClient, OAuthConfig};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

pub const DEFAULT_AUTH_URL: &str = "https://auth.weheat.nl/auth/realms/Weheat";
pub const DEFAULT_API_URL: &str = "https://api.weheat.nl";
const HOUR_MS: i64 = 3_600_000;
/// Tries per request on 429 or 5xx (no Retry-After here: exponential backoff with jitter).
const MAX_TRIES: u32 = 3;
const BUDGET_KEY: &str = "weheat/budget";

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WeheatConfig {
    /// The Keycloak realm (issuer): `…/auth/realms/Weheat` or `…/realms/Weheat`.
    #[serde(default = "default_auth_url")]
    pub auth_url: String,
    /// `https://api.weheat.nl` or `https://api.weheat.nl/third_party`.
    #[serde(default = "default_api_url")]
    pub api_url: String,
    #[serde(default = "default_client_id")]
    pub client_id: String,
    /// Requests per hour for the account, all calls and retries together.
    #[serde(default = "default_budget")]
    pub budget_per_hour: u32,
    /// The heat pump to use when the account has several (default: the first).
    #[serde(default)]
    pub pump: Option<String>,
    /// Seconds between two runs of the watch's gap filler, each with ±10 %
    /// jitter (default 600: about every 10 minutes).
    #[serde(default = "default_gap_fill_secs")]
    pub gap_fill_secs: u64,
    /// How far back the first load of a new install reaches, in seconds
    /// (default 7200: two hours, as the Weheat thread's tool does).
    #[serde(default = "default_first_load_secs")]
    pub first_load_secs: i64,
}

/// The gap filler spends budget: never more often than once a minute.
const MIN_GAP_FILL_SECS: u64 = 60;
/// A first load past a year would spend a day's budget before the first poll.
const MAX_FIRST_LOAD_SECS: i64 = 366 * 86_400;

fn default_gap_fill_secs() -> u64 {
    600
}
fn default_first_load_secs() -> i64 {
    2 * 3600
}

fn default_auth_url() -> String {
    DEFAULT_AUTH_URL.to_owned()
}
fn default_api_url() -> String {
    DEFAULT_API_URL.to_owned()
}
fn default_client_id() -> String {
    "WeheatCommunityAPI".to_owned()
}
fn default_budget() -> u32 {
    30
}

impl WeheatConfig {
    /// Keycloak's endpoints under the realm: password and code + PKCE with
    /// `offline_access`, rotating refresh tokens, logout.
    pub fn oauth_config(&self) -> Result<OAuthConfig> {
        let openid = format!("{}/protocol/openid-connect", self.auth_url.trim_end_matches('/'));
        // A struct literal, not `json!` + `from_value` (see WASM-SIZE.md).
        Ok(OAuthConfig {
            provider: PROVIDER.to_owned(),
            client_id: self.client_id.clone(),
            client_secret: None,
            token_url: format!("{openid}/token"),
            device_authorization_url: None,
            authorization_url: Some(format!("{openid}/auth")),
            logout_url: Some(format!("{openid}/logout")),
            revocation_url: None,
            scopes: vec!["openid".to_owned(), "offline_access".to_owned()],
            refresh_margin_secs: 60,
            store_key: Some("tokens/weheat".to_owned()),
            refresh_echo_fields: Vec::new(),
            client_credentials: false,
            login_hint: Some("run `wattbridge weheat login`".to_owned()),
            api_urls: vec![self.api_url.clone()],
            refresh_url: None,
            user_agent: None,
            verification_code_param: None,
        })
    }
}

/// A latest log with what a person reads from it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Latest {
    pub pump: String,
    pub timestamp: Option<String>,
    pub state: Option<i64>,
    pub state_name: &'static str,
    pub online: Option<bool>,
    pub outside: Option<f64>,
    pub water_in: Option<f64>,
    pub water_out: Option<f64>,
    /// None when the pump has no room sensor (-1).
    pub room: Option<f64>,
    pub room_target: Option<f64>,
    /// DHW tank, top sensor (`t1`); none on hybrids.
    pub dhw_top: Option<f64>,
    /// DHW tank, the second (bottom) sensor (`t2`); none on hybrids.
    pub dhw_bottom: Option<f64>,
    pub compressor_percent: Option<f64>,
    pub power_in_w: Option<f64>,
    pub power_out_w: Option<f64>,
    pub cop: Option<f64>,
    #[cfg_attr(target_arch = "wasm32", tsify(type = "Record<string, unknown>"))]
    pub log: Log,
}

/// Energy buckets with their derived values, and the total over the range.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct EnergyReport {
    pub pump: String,
    pub interval: &'static str,
    pub buckets: Vec<Bucket>,
    pub total: Energy,
    pub requests: u32,
}

/// On the wire: `{timeBucket, electricityKwh, heatKwh, cop}`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Bucket {
    pub time_bucket: Option<String>,
    #[serde(flatten)]
    pub energy: Energy,
}

/// What a gap fill did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct FillReport {
    pub pump: String,
    pub interval: &'static str,
    pub from: Option<String>,
    pub to: String,
    pub requests: u32,
    /// ⌈gap / window⌉: the fewest requests the gap can take.
    pub minimum_requests: u32,
    pub buckets: u32,
}

/// One point of the live feed, from a latest log or an aggregated one
/// (averages): what a chart of the heat pump needs, in a few bytes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Sample {
    pub ts: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outside: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub water_in: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub water_out: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpm: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_in: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_out: Option<f64>,
}

impl Sample {
    /// From a raw log (`tAirIn`) or an aggregated one (`tAirInAverage`).
    fn of(ts: i64, log: &Log) -> Sample {
        let field = |name: &str| number(log, name).or_else(|| number(log, &format!("{name}Average")));
        Sample {
            ts,
            state: log.get("state").and_then(Value::as_i64),
            outside: field("tAirIn"),
            water_in: field("tWaterIn"),
            water_out: field("tWaterOut"),
            room: room_value(log, "tRoom").or_else(|| room_value(log, "tRoomAverage")),
            rpm: field("rpm"),
            power_in: field("cmMassPowerIn"),
            power_out: field("cmMassPowerOut"),
        }
    }
}

/// The feed of one day (UTC), one document each: a week of minutes stays small.
#[derive(Default, Serialize, Deserialize)]
struct FeedDay {
    samples: BTreeMap<i64, Sample>,
}

/// Where the feed ends.
#[derive(Default, Serialize, Deserialize)]
struct FeedIndex {
    cursor: Option<i64>,
}

pub struct Weheat<H, S, C, K> {
    config: WeheatConfig,
    store: S,
    clock: C,
    oauth: OAuthClient<H, S, C, K>,
    budget: RequestBudget,
    /// The default pump, looked up once per client: every call that names no
    /// pump needs it, and each lookup costs a request of the hourly budget.
    default_pump: std::cell::RefCell<Option<Pump>>,
}

impl<H: HttpClient, S: Store + Clone, C: Clock + Clone, K: Crypto> Weheat<H, S, C, K> {
    pub fn new(config: WeheatConfig, http: H, store: S, clock: C, crypto: K) -> Result<Self> {
        crate::core::http::check_service_url("weheat.api_url", &config.api_url).map_err(|e| e.provider(PROVIDER))?;
        if config.gap_fill_secs < MIN_GAP_FILL_SECS {
            return Err(Error::invalid_config(format!("the gap filler's period is {} s: at least {MIN_GAP_FILL_SECS} s, to spare the request budget", config.gap_fill_secs)).provider(PROVIDER));
        }
        if !(1..=MAX_FIRST_LOAD_SECS).contains(&config.first_load_secs) {
            return Err(Error::invalid_config(format!("the first load reaches {} s back: give 1 s to {MAX_FIRST_LOAD_SECS} s (a year)", config.first_load_secs)).provider(PROVIDER));
        }
        let oauth = OAuthClient::new(config.oauth_config()?, http, store.clone(), clock.clone(), crypto)?;
        let budget = RequestBudget::new(BUDGET_KEY, config.budget_per_hour, HOUR_MS);
        Ok(Weheat { config, store, clock, oauth, budget, default_pump: Default::default() })
    }

    pub fn oauth(&self) -> &OAuthClient<H, S, C, K> {
        &self.oauth
    }

    pub fn budget_per_hour(&self) -> u32 {
        self.budget.limit()
    }

    /// Where a new install's first load starts (unix seconds): `first_load_secs` ago.
    pub fn first_load_since(&self) -> i64 {
        self.clock.now_secs() - self.config.first_load_secs
    }

    // ---- the budget and the one way out ----

    /// Requests the account may still send in the current hour.
    pub async fn budget_left(&self) -> Result<u32> {
        Ok(self.budget.status(&self.store, &self.clock).await?.left)
    }

    /// Take one request from the budget, waiting for a free slot when it is
    /// at most `max_wait` away; otherwise a `rate_limited` naming when.
    /// Every client over the store (and, with a FileStore, every process)
    /// spends the same budget: the slot is taken with the budget held, the
    /// wait for a free one happens without it.
    async fn spend(&self, max_wait: Duration) -> Result<()> {
        let deadline = self.clock.now_ms().saturating_add(max_wait.as_millis().min(i64::MAX as u128) as i64);
        loop {
            let Some(free_at) = self.budget.take(&self.store, &self.clock).await? else { return Ok(()) };
            let now = self.clock.now_ms();
            if free_at > deadline {
                let seconds = (free_at - now + 999) / 1000;
                return Err(Error::new(
                    ErrorCode::RateLimited,
                    format!("the Weheat request budget ({} per hour, weheat.budget_per_hour) is used up; the next request is allowed in {seconds} s", self.budget_per_hour()),
                )
                .provider(PROVIDER)
                .retry_after(Some(seconds as u64)));
            }
            self.clock.sleep(Duration::from_millis((free_at - now).max(0) as u64)).await;
        }
    }

    /// GET a path with the bearer token. Every try, retries included, takes
    /// from the budget; 429 and 5xx back off exponentially with jitter.
    async fn get(&self, path: &str, what: &str, max_wait: Duration) -> Result<HttpResponse> {
        let mut tries = 0;
        loop {
            tries += 1;
            self.spend(max_wait).await?;
            let base = &self.config.api_url;
            let response = self.oauth.send_authorized(|token| api::get(base, path, token)).await?;
            if response.is_success() {
                return Ok(response);
            }
            let error = api::status_error(&response, what);
            if !api::is_retryable(response.status) || tries >= MAX_TRIES {
                return Err(error);
            }
            self.clock.sleep(backoff(tries, &self.clock)).await;
        }
    }

    // ---- reads ----

    pub async fn me(&self) -> Result<Log> {
        let response = self.get("users/me", "your account", Duration::ZERO).await?;
        response.json(PROVIDER, "Weheat account")
    }

    /// Every heat pump of the account (all pages of the paged answer).
    pub async fn pumps(&self) -> Result<Vec<Pump>> {
        let mut pumps = Vec::new();
        let mut page = 1;
        loop {
            let response = self.get(&api::pumps_path(page), "the heat-pump list", Duration::ZERO).await?;
            let (list, pages) = api::parse_pumps(&response)?;
            pumps.extend(list);
            if page >= pages {
                return Ok(pumps);
            }
            page += 1;
        }
    }

    pub async fn pump(&self, id: &str) -> Result<Pump> {
        let response = self.get(&api::pump_path(id), &format!("heat pump {id}"), Duration::ZERO).await?;
        response.json(PROVIDER, "Weheat heat pump")
    }

    /// The pump `id`, else the configured one, else the account's first.
    pub async fn pump_or_default(&self, id: Option<&str>) -> Result<Pump> {
        match id {
            Some(id) => self.pump(id).await,
            None => self.default_pump().await,
        }
    }

    /// The configured pump, or the account's first (looked up once).
    pub async fn default_pump(&self) -> Result<Pump> {
        if let Some(pump) = self.default_pump.borrow().clone() {
            return Ok(pump);
        }
        let pump = match &self.config.pump {
            Some(id) => self.pump(id).await?,
            None => self.pumps().await?.into_iter().next().ok_or_else(|| {
                Error::new(ErrorCode::InvalidInput, "this Weheat account has no heat pump").provider(PROVIDER)
            })?,
        };
        *self.default_pump.borrow_mut() = Some(pump.clone());
        Ok(pump)
    }

    pub async fn latest(&self, pump: &Pump) -> Result<Latest> {
        self.latest_within(pump, Duration::ZERO).await
    }

    async fn latest_within(&self, pump: &Pump, max_wait: Duration) -> Result<Latest> {
        let response = self.get(&api::latest_path(&pump.id), "the latest log", max_wait).await?;
        let log = api::parse_logs(&response, "Weheat latest log")?.into_iter().next().unwrap_or_default();
        let (power_in, power_out) = (number(&log, "cmMassPowerIn"), number(&log, "cmMassPowerOut"));
        let state = log.get("state").and_then(Value::as_i64);
        Ok(Latest {
            pump: pump.id.clone(),
            timestamp: log.get("timestamp").and_then(Value::as_str).map(str::to_owned),
            state,
            state_name: state.map_or("unknown", derive::state_name),
            online: log.get("isOnline").and_then(Value::as_bool),
            outside: number(&log, "tAirIn"),
            water_in: number(&log, "tWaterIn"),
            water_out: number(&log, "tWaterOut"),
            room: room_value(&log, "tRoom"),
            room_target: room_value(&log, "tRoomTarget"),
            dhw_top: number(&log, "t1"),
            dhw_bottom: number(&log, "t2"),
            compressor_percent: derive::compressor_percent(&log, pump.nominal_rpm()),
            power_in_w: power_in,
            power_out_w: power_out,
            cop: derive::cop(power_out, power_in),
            log,
        })
    }

    /// Raw logs of `[from, to)` (unix seconds), in windows of at most 4 hours.
    pub async fn raw_logs(&self, pump: &str, from: i64, to: i64, on_progress: impl Fn(u32, u32)) -> Result<Vec<Log>> {
        self.windows(from, to, RAW_WINDOW_SECS, on_progress, |a, b| api::raw_logs_path(pump, a, b), "raw logs").await
    }

    /// Aggregated logs of `[from, to)`, in the fewest windows the interval allows.
    pub async fn logs(&self, pump: &str, from: i64, to: i64, interval: Interval, on_progress: impl Fn(u32, u32)) -> Result<Vec<Log>> {
        self.windows(from, to, interval.window_secs(), on_progress, |a, b| api::logs_path(pump, a, b, interval), "logs").await
    }

    async fn windows(&self, from: i64, to: i64, window: i64, on_progress: impl Fn(u32, u32), path: impl Fn(i64, i64) -> String, what: &str) -> Result<Vec<Log>> {
        if from >= to {
            return Err(Error::invalid_input("--from must be before --to").provider(PROVIDER));
        }
        let total = ((to - from + window - 1) / window) as u32;
        let mut logs = Vec::new();
        let mut start = from;
        let mut done = 0;
        while start < to {
            let end = (start + window).min(to);
            let response = self.get(&path(start, end), what, Duration::ZERO).await?;
            logs.extend(api::parse_logs(&response, what)?);
            start = end;
            done += 1;
            on_progress(done, total);
        }
        Ok(logs)
    }

    /// Energy buckets of `[from, to)` with electricity, heat and COP, and over the range.
    pub async fn energy(&self, pump: &str, from: i64, to: i64, interval: Interval, on_progress: impl Fn(u32, u32)) -> Result<EnergyReport> {
        if interval < Interval::Hour {
            return Err(Error::invalid_input("energy logs come per Hour, Day, Week, Month or Year").provider(PROVIDER));
        }
        let before = self.budget.used(&self.store, &self.clock).await?;
        let logs = self.windows(from, to, interval.window_secs(), on_progress, |a, b| api::energy_path(pump, a, b, interval), "energy logs").await?;
        let buckets: Vec<Bucket> = logs.iter().map(bucket).collect();
        let total = Energy::total(buckets.iter().map(|b| &b.energy));
        let requests = self.budget.used(&self.store, &self.clock).await?.saturating_sub(before);
        Ok(EnergyReport { pump: pump.to_owned(), interval: interval.name(), buckets, total, requests })
    }

    /// Lifetime totals with electricity, heat and COP.
    pub async fn totals(&self, pump: &str) -> Result<Bucket> {
        let response = self.get(&api::totals_path(pump), "lifetime totals", Duration::ZERO).await?;
        let totals: Log = response.json(PROVIDER, "Weheat lifetime totals")?;
        Ok(Bucket { time_bucket: None, energy: Energy::of(&totals) })
    }

    // ---- gap filling ----

    /// Fetch the energy buckets missing since the last stored one (or `since`
    /// on a first run) up to now, at `interval`, in the fewest windows. The
    /// last stored bucket is fetched again: it was probably still filling.
    pub async fn fill_energy(&self, pump: &str, interval: Interval, since: i64, on_progress: impl Fn(u32, u32)) -> Result<FillReport> {
        self.fill_energy_within(pump, interval, since, Duration::ZERO, on_progress).await
    }

    async fn fill_energy_within(&self, pump: &str, interval: Interval, since: i64, max_wait: Duration, on_progress: impl Fn(u32, u32)) -> Result<FillReport> {
        let history = EnergyHistory::new(&self.store, pump, interval);
        let now = self.clock.now_secs();
        let from = history.resume_from().await?.unwrap_or(since);
        let from = from - from.rem_euclid(interval.secs().min(86_400));
        let mut report = FillReport { pump: pump.to_owned(), interval: interval.name(), from: Some(format_utc(from)), to: format_utc(now), ..Default::default() };
        if from >= now {
            return Ok(report);
        }
        let window = interval.window_secs();
        report.minimum_requests = ((now - from + window - 1) / window) as u32;
        let mut start = from;
        while start < now {
            let end = (start + window).min(now);
            let response = self.get(&api::energy_path(pump, start, end, interval), "energy logs", max_wait).await?;
            report.requests += 1;
            let logs = api::parse_logs(&response, "Weheat energy logs")?;
            // Saved per window: an interrupted fill resumes where it stopped.
            report.buckets += history.record(&api::dated_buckets(&logs, &["timeBucket"], "Weheat energy logs")?, end).await?;
            start = end;
            on_progress(report.requests, report.minimum_requests);
        }
        Ok(report)
    }

    /// Stored energy buckets of `[from, to)` (unix seconds), oldest first.
    pub async fn stored_energy(&self, pump: &str, interval: Interval, from: i64, to: i64) -> Result<Vec<Bucket>> {
        let buckets = EnergyHistory::new(&self.store, pump, interval).between(from, to).await?;
        Ok(buckets.into_iter().map(|(_, stored)| Bucket { energy: stored.energy(), time_bucket: stored.0 }).collect())
    }

    fn feed_key(pump: &str) -> String {
        format!("weheat/{pump}/feed")
    }

    /// Add samples to the feed, one document per UTC day touched, with the feed held.
    async fn keep_samples(&self, pump: &str, samples: Vec<Sample>) -> Result<()> {
        self.store.locked(&Self::feed_key(pump), self.add_samples(pump, samples)).await
    }

    async fn add_samples(&self, pump: &str, samples: Vec<Sample>) -> Result<()> {
        // A few days at most: a Vec, not another BTreeMap type with `entry`.
        let mut by_day: Vec<(String, Vec<Sample>)> = Vec::new();
        for sample in samples {
            let day = format_utc(sample.ts)[..10].to_owned();
            match by_day.iter_mut().find(|(d, _)| *d == day) {
                Some((_, samples)) => samples.push(sample),
                None => by_day.push((day, vec![sample])),
            }
        }
        let mut index: FeedIndex = load(&self.store, &Self::feed_key(pump)).await?.unwrap_or_default();
        for (day, samples) in by_day {
            let key = format!("{}/{day}", Self::feed_key(pump));
            let mut doc: FeedDay = load(&self.store, &key).await?.unwrap_or_default();
            for sample in samples {
                index.cursor = Some(index.cursor.map_or(sample.ts, |c| c.max(sample.ts)));
                doc.samples.insert(sample.ts, sample);
            }
            save(&self.store, &key, &doc).await?;
        }
        save(&self.store, &Self::feed_key(pump), &index).await
    }

    /// The stored feed of `[from, to)` (unix seconds).
    pub async fn feed(&self, pump: &str, from: i64, to: i64) -> Result<Vec<Sample>> {
        let mut samples = Vec::new();
        let mut day = from - from.rem_euclid(86_400);
        while day < to {
            let key = format!("{}/{}", Self::feed_key(pump), &format_utc(day)[..10]);
            if let Some(doc) = load::<FeedDay>(&self.store, &key).await? {
                samples.extend(doc.samples.into_iter().map(|(_, sample)| sample).filter(|s| s.ts >= from && s.ts < to));
            }
            day += 86_400;
        }
        Ok(samples)
    }

    /// Fill the feed from its last point (or `since`) to now with aggregated
    /// logs at the coarsest interval within `resolution_secs`, in the fewest
    /// windows. Nothing is asked when the feed is no older than the resolution.
    pub async fn fill_feed(&self, pump: &str, resolution_secs: i64, since: i64, on_progress: impl Fn(u32, u32)) -> Result<FillReport> {
        self.fill_feed_within(pump, resolution_secs, since, Duration::ZERO, on_progress).await
    }

    async fn fill_feed_within(&self, pump: &str, resolution_secs: i64, since: i64, max_wait: Duration, on_progress: impl Fn(u32, u32)) -> Result<FillReport> {
        let interval = Interval::coarsest_within(resolution_secs);
        let index: FeedIndex = load(&self.store, &Self::feed_key(pump)).await?.unwrap_or_default();
        let now = self.clock.now_secs();
        // Whole buckets only: the one still filling comes with the next fill.
        let from = index.cursor.map_or(since, |c| c + 1);
        let from = from - from.rem_euclid(interval.secs().min(86_400));
        let to = now - now.rem_euclid(interval.secs().min(86_400));
        let mut report = FillReport { pump: pump.to_owned(), interval: interval.name(), from: Some(format_utc(from)), to: format_utc(to), ..Default::default() };
        if to - from < interval.secs() {
            return Ok(report);
        }
        let window = interval.window_secs();
        report.minimum_requests = ((to - from + window - 1) / window) as u32;
        let mut start = from;
        while start < to {
            let end = (start + window).min(to);
            let response = self.get(&api::logs_path(pump, start, end, interval), "logs", max_wait).await?;
            report.requests += 1;
            let logs = api::parse_logs(&response, "Weheat logs")?;
            let samples: Vec<Sample> = api::dated_buckets(&logs, &["timeBucket", "timestamp"], "Weheat logs")?.into_iter().map(|(ts, log)| Sample::of(ts, log)).collect();
            report.buckets += samples.len() as u32;
            self.keep_samples(pump, samples).await?;
            start = end;
            on_progress(report.requests, report.minimum_requests);
        }
        Ok(report)
    }

    /// Complete stored energy buckets from `from_secs` on, as electricity and
    /// heat intervals for a cumulative index. The bucket still filling is
    /// left for the next run.
    pub async fn energy_since(&self, pump: &str, interval: Interval, from_secs: i64) -> Result<(Vec<IntervalEnergy>, Vec<IntervalEnergy>)> {
        // A bucket that started before `from_secs` but ends after it counts too.
        let (electricity, heat) = self.energy_between(pump, interval, from_secs - interval.secs() + 1, i64::MAX).await?;
        let after = |list: Vec<IntervalEnergy>| list.into_iter().filter(|i| i.end > from_secs).collect();
        Ok((after(electricity), after(heat)))
    }

    /// Complete stored energy buckets that start in `[from, to)` (unix
    /// seconds), as (electricity, heat) intervals: one window of a stream.
    pub async fn energy_between(&self, pump: &str, interval: Interval, from: i64, to: i64) -> Result<(Vec<IntervalEnergy>, Vec<IntervalEnergy>)> {
        let now = self.clock.now_secs();
        let (mut electricity, mut heat) = (Vec::new(), Vec::new());
        if from >= to {
            return Ok((electricity, heat));
        }
        for (start, stored) in EnergyHistory::new(&self.store, pump, interval).between(from, to).await? {
            let end = start + interval.secs();
            if end > now {
                continue;
            }
            if let Some(kwh) = stored.1 {
                electricity.push(IntervalEnergy { start, end, kwh });
            }
            if let Some(kwh) = stored.2 {
                heat.push(IntervalEnergy { start, end, kwh });
            }
        }
        Ok((electricity, heat))
    }

    /// The first and last complete stored buckets' start and end (unix seconds).
    pub async fn stored_energy_span(&self, pump: &str, interval: Interval) -> Result<Option<(i64, i64)>> {
        let span = EnergyHistory::new(&self.store, pump, interval).span().await?;
        Ok(span.map(|(first, last)| (first, (last + interval.secs()).min(self.clock.now_secs()))))
    }

    // ---- watch ----

    /// Poll the latest log, refresh energy and fill gaps, forever or until
    /// `duration` passes, within the budget: the latest log no faster than
    /// every 120 s (slower when the budget needs it), energy every 30 min,
    /// gap filling every `gap_fill_secs` (~10 min), each with ±10 % jitter.
    /// A new install loads `first_load_secs` (2 h) back first. A failed task
    /// is reported and retried at its next turn; only `auth_required` ends the watch.
    pub async fn watch(&self, pump: &Pump, resolution_secs: i64, duration: Option<Duration>, on_event: impl Fn(WatchEvent)) -> Result<()> {
        let start = self.clock.now_ms();
        let end = duration.map(|d| start + d.as_millis() as i64);
        let gap_fill_every = self.config.gap_fill_secs.saturating_mul(1000).min(i64::MAX as u64) as i64;
        // Reserve 2/h for energy, the gap filler's runs, 2/h for retries; the rest polls.
        let fills_per_hour = (HOUR_MS + gap_fill_every - 1) / gap_fill_every;
        let polls_per_hour = (self.budget_per_hour() as i64 - 4 - fills_per_hour).max(1);
        let latest_every = (HOUR_MS / polls_per_hour).max(120_000);
        let mut next = [start, start, start]; // latest, energy, gap fill
        let periods = [latest_every, 30 * 60_000, gap_fill_every];
        let since = self.first_load_since();
        // Where the energy computed from the feed's power continues.
        let mut power_since = start / 1000;
        loop {
            let now = self.clock.now_ms();
            if end.is_some_and(|end| now >= end) {
                return Ok(());
            }
            let (task, at) = next.iter().enumerate().min_by_key(|(_, at)| **at).map(|(i, at)| (i, *at)).unwrap_or((0, now));
            if at > now {
                let until = end.map_or(at, |end| at.min(end));
                self.clock.sleep(Duration::from_millis((until - now) as u64)).await;
                continue;
            }
            // Each task may wait up to its period for a budget slot, never longer.
            let max_wait = Duration::from_millis(periods[task] as u64);
            let outcome = match task {
                0 => self.poll_latest(pump, max_wait).await.map(WatchEvent::Latest),
                1 => match self.fill_energy_within(&pump.id, Interval::Hour, since, max_wait, |_, _| {}).await {
                    // No energy logs for this client (403) or pump (404): the feed's power readings instead.
                    Err(err) if matches!(err.status, Some(403 | 404)) => self.energy_from_feed(&pump.id, &mut power_since).await,
                    other => other.map(WatchEvent::Energy),
                },
                _ => self.fill_feed_within(&pump.id, resolution_secs, since, max_wait, |_, _| {}).await.map(WatchEvent::GapFill),
            };
            match outcome {
                Ok(event) => on_event(event),
                Err(err) if err.code == ErrorCode::AuthRequired => return Err(err),
                Err(err) => on_event(WatchEvent::Error { code: err.code.as_str(), message: err.message }),
            }
            next[task] = self.clock.now_ms() + jittered(periods[task], &self.clock);
        }
    }
}

impl<H: HttpClient, S: Store + Clone, C: Clock + Clone, K: Crypto> Weheat<H, S, C, K> {
    /// Energy of `[since, now)` from the power readings of the feed
    /// ([`derive::power_to_kwh`]), for when Weheat gives no energy logs.
    async fn energy_from_feed(&self, pump: &str, since: &mut i64) -> Result<WatchEvent> {
        /// A reading stands for at most this long (the feed's usual spacing): an outage is not extrapolated.
        const HOLD_SECS: i64 = 600;
        let now = self.clock.now_secs();
        // The reading in effect at `since` too, so that the windows join without a gap.
        let samples = self.feed(pump, *since - HOLD_SECS, now).await?;
        let readings: Vec<derive::PowerReading> = samples
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let until = samples.get(i + 1).map_or(now, |next| next.ts).min(s.ts + HOLD_SECS).min(now);
                let secs = (until - s.ts.max(*since)).max(0) as f64;
                derive::PowerReading { ts: Some(s.ts), power_in: s.power_in, power_out: s.power_out, secs: Some(secs) }
            })
            .collect();
        let from = *since;
        *since = now;
        Ok(WatchEvent::PowerEnergy { from: format_utc(from), to: format_utc(now), readings: readings.len() as u32, energy: derive::power_to_kwh(&readings) })
    }

    /// The latest log, kept in the feed.
    async fn poll_latest(&self, pump: &Pump, max_wait: Duration) -> Result<Latest> {
        let latest = self.latest_within(pump, max_wait).await?;
        if let Some(ts) = latest.timestamp.as_deref().and_then(derive::parse_utc) {
            self.keep_samples(&pump.id, vec![Sample::of(ts, &latest.log)]).await?;
        }
        Ok(latest)
    }
}

/// What a watch reports, one event per task run.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "event", rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub enum WatchEvent {
    Latest(Latest),
    Energy(FillReport),
    /// Weheat gave no energy logs: the energy of `[from, to)` from the
    /// feed's power readings (none when they carry no power either).
    #[serde(rename_all = "camelCase")]
    PowerEnergy { from: String, to: String, readings: u32, energy: Option<derive::Energy> },
    GapFill(FillReport),
    Error { code: &'static str, message: String },
}


fn bucket(log: &Log) -> Bucket {
    Bucket { time_bucket: log.get("timeBucket").and_then(Value::as_str).map(str::to_owned), energy: Energy::of(log) }
}
