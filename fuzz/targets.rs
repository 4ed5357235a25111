//! The Rust fuzz targets: every parser of a remote answer or a local file,
//! reached through the same functions the wasm exports call (the clients over
//! native fakes of the seams, or the pure readers they use). Shared by the
//! harness (fuzz/main.rs) and the replay of saved failures
//! (tests/fuzz_regressions.rs).
//!
//! A target takes the raw input and returns a short outcome (what it got to),
//! which the harness uses to keep inputs that reach somewhere new. A target
//! must never panic and never take long, whatever the input.
//!
//! Answer targets read their input as an HTTP answer: `HTTP <status>`, header
//! lines and an empty line before the body; an input that does not start with
//! `HTTP ` is the body of a 200.
#![allow(dead_code)]

use crate::support::{run, MemoryStore, NativeCrypto, RoutedHttp, VirtualClock};
use std::time::Duration;
use wattbridge::core::{Crypto, Error, ErrorCode, HttpResponse, PbkdfHash, PublicKeyCrypto, Result, Secret, SignatureAlgorithm};

pub type Run = fn(&[u8]) -> String;

pub struct Target {
    pub name: &'static str,
    pub about: &'static str,
    pub run: Run,
    /// Tokens worth inserting, besides the words of the seeds.
    pub tokens: &'static [&'static [u8]],
}

const JSON: &[&[u8]] = &[
    b"null", b"true", b"false", b"{}", b"[]", b"\"\"", b"\":", b",\"", b"{\"", b"\"}", b"[{", b"}]", b"\\u", b"\\\"", b"1e999", b"-0",
];
const XML: &[&[u8]] = &[
    b"<?xml version=\"1.0\"?>", b"<!DOCTYPE a [<!ENTITY e \"x\">]>", b"&e;", b"&amp;", b"&lt;", b"&#x0;", b"&#1114112;",
    b"<![CDATA[", b"]]>", b"<!--", b"-->", b"<?pi x?>", b"xmlns=\"\"", b"xmlns:a=\"u\"", b"xmlns:oadr=\"http://openadr.org/oadr-2.0b/2012/07\"",
    b" Id=\"prop\"", b" Id=\"oadrSignedObject\"", b"/>", b"</", b"<a:", b"xml:lang=\"x\"",
];
const DER: &[&[u8]] = &[b"\x30\x80", b"\x30\x81\xff", b"\x30\x84\xff\xff\xff\xff", b"\x02\x01\x00", b"\x04\x00", b"\x05\x00", b"\x06\x00", b"\xa0\x03\x02\x01\x02"];

/// The JavaScript targets (fuzz/js-targets.mjs): name, what, tokens.
pub const JS_TARGETS: &[(&str, &str, &[&[u8]])] = &[
    ("csv-import", "`energyid import` of a CSV file (csv-parse, then the rows)", &[b"ts", b"key", b"value", b"el", b"\"", b"\r\n", b",,", b"\"\"", b"1e999", b"__proto__", b"toString", b"constructor"]),
    ("json-import", "`energyid import` of a JSON file", &[b"\"ts\":", b"\"key\":", b"\"value\":", b"null", b"{}", b"[]", b"\"__proto__\":", b"\"toString\":", b"\"valueOf\":", b"\"constructor\":"]),
    ("config-json", "config.json as `loadSettings` reads it", &[b"\"linky\":", b"\"weheat\":", b"\"energyid\":", b"\"sync\":", b"null", b"{}", b"[]", b"\"__proto__\":", b"\"toString\":", b"\"valueOf\":"]),
];

/// Every target's name, whatever features this build has.
pub const NAMES: &[&str] = &[
    "enedis", "linky-client", "weheat", "weheat-client", "energyid-hello", "energyid-webhook", "energyid-readings", "oauth-token", "oauth-device",
    "openadr-xml", "openadr-dsig", "openadr-ven", "pem-der", "pbes2", "csv-import", "json-import", "config-json",
];

/// Every Rust target: name, what it reads, its function, its tokens.
const TARGETS: &[(&str, &str, Run, &[&[u8]])] = &[
    #[cfg(feature = "providers")]
    ("enedis", "Enedis metering answers (every series), error answers, Conso API tokens", providers::enedis, JSON),
    #[cfg(feature = "providers")]
    ("linky-client", "Enedis answers through the client (Conso API): daily and half-hourly fetches, history, stats", providers::linky_client, JSON),
    #[cfg(feature = "providers")]
    ("weheat", "Weheat answers: pump lists, logs and their derived energy, errors", providers::weheat, JSON),
    #[cfg(feature = "providers")]
    ("weheat-client", "Weheat answers through the client: pumps, latest log, energy fills and their history", providers::weheat_client, JSON),
    #[cfg(feature = "providers")]
    ("energyid-hello", "EnergyID hello answers, through EnergyIdDevice::hello", providers::energyid_hello, JSON),
    #[cfg(feature = "providers")]
    ("energyid-webhook", "EnergyID webhook and directives answers, through send and directives", providers::energyid_webhook, JSON),
    #[cfg(feature = "providers")]
    ("energyid-readings", "readings as the JSON/CSV import hands them to the device, validated", providers::energyid_readings, JSON),
    #[cfg(feature = "providers")]
    ("oauth-token", "OAuth token answers: password login and refresh through OAuthClient", providers::oauth_token, JSON),
    #[cfg(feature = "providers")]
    ("oauth-device", "OAuth device authorization answers, through OAuthClient::device_login", providers::oauth_device, JSON),
    #[cfg(feature = "openadr")]
    ("openadr-xml", "OpenADR XML: parsing, C14N of the elements, unsigned messages read", openadr::openadr_xml, XML),
    #[cfg(feature = "openadr")]
    ("openadr-dsig", "XML-DSig verification of VTN messages (fuzz/corpus/openadr-dsig's certificates)", openadr::openadr_dsig, XML),
    #[cfg(feature = "openadr")]
    ("openadr-ven", "the VEN over a VTN whose answers are the input: registration, reports, events, polls", openadr::openadr_ven, XML),
    #[cfg(feature = "openadr")]
    ("pem-der", "PEM blocks, X.509 certificates, PKCS#8 and PKCS#1 keys (input: DER, or PEM text)", openadr::pem_der, DER),
    #[cfg(feature = "openadr")]
    ("pbes2", "encrypted PKCS#8 keys: PBES2 parameters, then the decrypted key (input: DER)", openadr::pbes2, DER),
];

/// Every Rust target of this build, by name.
pub fn targets() -> Vec<Target> {
    TARGETS.iter().map(|(name, about, run, tokens)| Target { name, about, run: *run, tokens }).collect()
}

/// The input as the HTTP answer the code under test would receive.
pub fn response_of(input: &[u8]) -> HttpResponse {
    let text = String::from_utf8_lossy(input);
    let Some(rest) = text.strip_prefix("HTTP ") else { return HttpResponse::new(200, text.into_owned()) };
    let (head, body) = rest.split_once("\n\n").unwrap_or((rest, ""));
    let mut lines = head.lines();
    // fetch only ever hands over a status from 200 to 599.
    let status = lines.next().and_then(|l| l.trim().parse::<u16>().ok()).map_or(200, |s| if (200..600).contains(&s) { s } else { 200 + s % 400 });
    lines
        .filter_map(|line| line.split_once(':'))
        .fold(HttpResponse::new(status, body), |response, (name, value)| response.with_header(name.trim(), value.trim()))
}

/// Ends each part of an outcome (not `;`, which messages hold).
pub const END: char = '\u{1e}';

/// Separates the answers of an input that holds several.
pub const ANSWERS: &[u8] = b"\n@@\n";

/// The answers of an input that holds several (at least one, maybe empty).
pub fn responses_of(input: &[u8]) -> Vec<HttpResponse> {
    let mut answers = Vec::new();
    let mut rest = input;
    while let Some(at) = rest.windows(ANSWERS.len()).position(|w| w == ANSWERS) {
        answers.push(response_of(&rest[..at]));
        rest = &rest[at + ANSWERS.len()..];
    }
    answers.push(response_of(rest));
    answers
}

/// The input's answers one after the other, the last one repeating.
pub fn in_turn(input: &[u8]) -> impl Fn() -> HttpResponse {
    let answers = responses_of(input);
    let next = std::cell::Cell::new(0);
    move || {
        next.set(next.get() + 1);
        answers[(next.get() - 1).min(answers.len() - 1)].clone()
    }
}

fn outcome<T>(result: &Result<T>) -> String {
    match result {
        Ok(_) => format!("ok{END}"),
        Err(error) => format!("{}:{}{END}", error.code.as_str(), error.message),
    }
}

/// WebCrypto's public-key half as far as our parsing needs it: real SHA-256
/// (digests must match), but a signature "verifies" when it is not empty, a
/// PBKDF2 costs nothing and AES-CBC is the identity with a PKCS#7 check, so
/// mutated inputs get past the mathematics into the code that reads them.
#[derive(Clone, Copy, Default)]
pub struct FuzzCrypto;

impl Crypto for FuzzCrypto {
    async fn sha256(&self, data: &[u8]) -> Result<[u8; 32]> {
        NativeCrypto.sha256(data).await
    }
}

impl PublicKeyCrypto for FuzzCrypto {
    async fn sign(&self, _: SignatureAlgorithm, _: &[u8], _: &[u8]) -> Result<Vec<u8>> {
        Ok(vec![1; 64])
    }
    async fn verify(&self, _: SignatureAlgorithm, _: &[u8], _: &[u8], signature: &[u8]) -> Result<bool> {
        Ok(!signature.is_empty())
    }
    async fn pbkdf2(&self, _: PbkdfHash, _: &[u8], _: &[u8], _: u32, length: usize) -> Result<Vec<u8>> {
        Ok(vec![7; length])
    }
    async fn aes_cbc_decrypt(&self, key: &[u8], iv: &[u8], data: &[u8]) -> Result<Vec<u8>> {
        let failed = || Error::new(ErrorCode::InvalidCredentials, "decryption failed (fuzz crypto)");
        if ![16, 24, 32].contains(&key.len()) || iv.len() != 16 || data.is_empty() || data.len() % 16 != 0 {
            return Err(failed());
        }
        let pad = usize::from(*data.last().unwrap_or(&0));
        if !(1..=16).contains(&pad) || data[data.len() - pad..].iter().any(|b| usize::from(*b) != pad) {
            return Err(failed());
        }
        Ok(data[..data.len() - pad].to_vec())
    }
}

#[cfg(feature = "providers")]
mod providers {
    use super::*;
    use wattbridge::core::time::Date;
    use wattbridge::energyid::{api as energyid_api, EnergyIdConfig, EnergyIdDevice, HelloSummary, Reading};
    use wattbridge::linky::stats::Tariff;
    use wattbridge::linky::{api as linky_api, Linky, LinkyConfig, Series};
    use wattbridge::oauth::{OAuthClient, OAuthConfig};
    use wattbridge::weheat::{api as weheat_api, derive, Interval, Pump, Weheat, WeheatConfig};


    const NOW: i64 = 1_731_974_400;

    pub(super) fn enedis(input: &[u8]) -> String {
        let response = response_of(input);
        let mut out = String::new();
        let day = Date::parse("2023-04-01").unwrap_or_else(|| unreachable!());
        // As the client reads them: a success as metering data, anything else as an error.
        for series in Series::ALL {
            if response.is_success() {
                let answer = linky_api::parse_answer(series, &response);
                if let Ok(answer) = &answer {
                    let energy: f64 = answer.points.iter().filter_map(|p| p.energy_wh(series)).sum();
                    std::hint::black_box(energy);
                }
                out += &outcome(&answer);
            } else {
                out += &linky_api::status_error(&response, series, "11111111111111", day, day.add_days(1)).message;
                out.push(END);
            }
        }
        out += &outcome(&linky_api::conso_token_meters(&Secret::new(response.body.clone())));
        std::hint::black_box(linky_api::split_meters(&response.body));
        out
    }

    pub(super) fn weheat(input: &[u8]) -> String {
        let response = response_of(input);
        let mut out = String::new();
        let pumps = weheat_api::parse_pumps(&response);
        if let Ok((pumps, _)) = &pumps {
            for pump in pumps {
                std::hint::black_box((pump.is_hybrid(), pump.model_name(), pump.nominal_rpm()));
            }
        }
        out += &outcome(&pumps);
        let pump: Result<Pump> = response.json("weheat", "Weheat heat pump");
        let nominal = pump.as_ref().ok().and_then(Pump::nominal_rpm);
        out += &outcome(&pump);
        let logs = weheat_api::parse_logs(&response, "logs");
        if let Ok(logs) = &logs {
            let energies: Vec<derive::Energy> = logs.iter().map(derive::Energy::of).collect();
            std::hint::black_box(derive::Energy::total(&energies));
            std::hint::black_box(derive::energy_from_power(logs));
            for log in logs {
                std::hint::black_box((derive::timestamp_secs(log), derive::compressor_percent(log, nominal)));
                if let Some(bucket) = log.get("timeBucket").and_then(|b| b.as_str()) {
                    std::hint::black_box(derive::parse_utc(bucket));
                }
            }
        }
        out += &outcome(&logs);
        out += &weheat_api::status_error(&response, "logs").message;
        out
    }

    /// The Linky client as a sync runs it, on 2023-04-05 with a Conso API
    /// token: daily consumption and the load curve since 2023-04-01 (stored
    /// in the history), then statistics in euros and the energy read back.
    /// The input holds Enedis' answers in turn, separated by `ANSWERS`.
    pub(super) fn linky_client(input: &[u8]) -> String {
        // {"sub":"11111111111111"} as an unsigned JWT, as conso.boris.sh gives.
        const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMTExMTExMTExMTExMSJ9.c2ln";
        let answer = in_turn(input);
        let http = RoutedHttp::new(move |_| Ok(answer()));
        let config = serde_json::json!({ "consoToken": TOKEN, "consoApiUrl": "https://conso.example/api" });
        let config: LinkyConfig = serde_json::from_value(config).unwrap_or_else(|_| unreachable!("a fixed config"));
        let clock = VirtualClock::at_secs(1_680_696_000); // 2023-04-05T12:00:00Z
        let linky = Linky::new(config, http, MemoryStore::default(), clock, NativeCrypto).unwrap_or_else(|_| unreachable!("a fixed config"));
        let since = Date::parse("2023-04-01");
        let mut out = String::new();
        for series in [Series::DailyConsumption, Series::ConsumptionLoadCurve, Series::MaxPower] {
            out += &outcome(&run(linky.fetch(series, since, None, |_| {})));
        }
        if let Ok(tariff) = Tariff::parse("hphc", None, Some(0.27), Some(0.2), Some("mon-fri=22:00-06:00;sat,sun=00:00-24:00")) {
            out += &outcome(&run(linky.stats(Some(&tariff), since, None)).map(|s| std::hint::black_box(serde_json::to_string(&s).ok())));
        }
        out += &outcome(&run(linky.energy_since(Series::ConsumptionLoadCurve, None)));
        out
    }

    /// The Weheat client as a sync runs it: the pumps, the latest log, an
    /// hour-by-hour energy fill of the last day (stored in the history) and
    /// the energy read back from it. The input holds the API's answers in
    /// turn, separated by `ANSWERS`, the last one repeating; the login's
    /// answer is fixed.
    pub(super) fn weheat_client(input: &[u8]) -> String {
        let answer = in_turn(input);
        let http = RoutedHttp::new(move |request| {
            Ok(if request.url.contains("/protocol/openid-connect/") { HttpResponse::new(200, TOKENS) } else { answer() })
        });
        let store = MemoryStore::default();
        store.set_doc("tokens/weheat", EXPIRED);
        let config = serde_json::json!({ "authUrl": "https://auth.weheat.example/realms/Weheat", "apiUrl": "https://api.weheat.example/third_party" });
        let config: WeheatConfig = serde_json::from_value(config).unwrap_or_else(|_| unreachable!("a fixed config"));
        let weheat = Weheat::new(config, http, store, VirtualClock::at_secs(NOW), NativeCrypto).unwrap_or_else(|_| unreachable!("a fixed config"));
        let pump = run(weheat.default_pump());
        let mut out = outcome(&pump);
        let id = pump.as_ref().map_or("p-1".to_owned(), |p| p.id.clone());
        if let Ok(pump) = &pump {
            out += &outcome(&run(weheat.latest(pump)).map(|l| std::hint::black_box(serde_json::to_string(&l).ok())));
        }
        out += &outcome(&run(weheat.fill_energy(&id, Interval::Hour, NOW - 86_400, |_, _| {})));
        out += &outcome(&run(weheat.energy_since(&id, Interval::Hour, NOW - 86_400)));
        out
    }

    fn energyid_config() -> EnergyIdConfig {
        EnergyIdConfig {
            hello_url: "https://hooks.energyid.eu/hello".into(),
            provisioning_key: Secret::new("key"),
            provisioning_secret: Secret::new("secret"),
            device_id: Some("wattbridge-fuzz".into()),
            device_name: "Home".into(),
            firmware_version: None,
            batch_cap: 1000,
            allowed_keys: vec!["custom".into()],
        }
    }

    const CLAIMED: &str = r#"{"webhookUrl":"https://hooks.energyid.eu/webhook-in","headers":{"authorization":"Bearer jwt","x-twin-id":"twin-1"},"webhookPolicy":{"uploadInterval":60},"recordName":"Home","recordNumber":"EA-1","apiAccessToken":"device-token"}"#;

    /// The hello answer, then what the device does with it: its status, and
    /// two sends under the webhook policy it gave (the webhook accepts all).
    pub(super) fn energyid_hello(input: &[u8]) -> String {
        let response = response_of(input);
        let http = RoutedHttp::new(move |request| Ok(if request.url.ends_with("/hello") { response.clone() } else { HttpResponse::new(202, "") }));
        let Ok(device) = EnergyIdDevice::new(energyid_config(), http, MemoryStore::default(), VirtualClock::at_secs(NOW)) else {
            unreachable!("a fixed config")
        };
        let hello = run(device.hello());
        std::hint::black_box(hello.as_ref().ok().map(serde_json::to_string));
        if let Ok(HelloSummary::NeedsClaiming { expires_at, .. }) = &hello {
            // Unix seconds, shown by the CLI and the page as a Date.
            js_date(Some(expires_at.saturating_mul(1000)));
        }
        let mut out = outcome(&hello);
        out += &outcome(&run(device.status()).map(|s| std::hint::black_box(serde_json::to_string(&s).ok())));
        for ts in [NOW, NOW + 60] {
            let reading = Reading { ts, values: [("el".to_owned(), 1250.5)].into() };
            let sent = run(device.send(&[reading]));
            js_date(sent.as_ref().ok().and_then(|r| r.next_upload_at_ms));
            out += &outcome(&sent);
        }
        out
    }

    pub(super) fn energyid_webhook(input: &[u8]) -> String {
        let response = response_of(input);
        let http = RoutedHttp::new(move |request| {
            Ok(if request.url.ends_with("/hello") { HttpResponse::new(200, CLAIMED) } else { response.clone() })
        });
        let Ok(device) = EnergyIdDevice::new(energyid_config(), http, MemoryStore::default(), VirtualClock::at_secs(NOW)) else {
            unreachable!("a fixed config")
        };
        let reading = Reading { ts: NOW, values: [("el".to_owned(), 1250.5)].into() };
        let sent = run(device.send(&[reading]));
        if let Ok(report) = &sent {
            js_date(report.next_upload_at_ms);
        }
        if let Ok(status) = run(device.status()) {
            js_date(status.next_upload_at_ms);
            js_date(status.last_post_ms);
        }
        let directives = run(device.directives(None));
        outcome(&sent) + &outcome(&directives)
    }

    /// A time the JavaScript side gets must be one a `Date` can hold (the
    /// CLI prints it with toISOString, which throws on an invalid date).
    fn js_date(ms: Option<i64>) {
        if let Some(ms) = ms {
            assert!(ms.unsigned_abs() <= 8_640_000_000_000_000, "a time JavaScript cannot show: {ms} ms");
        }
    }

    pub(super) fn energyid_readings(input: &[u8]) -> String {
        match serde_json::from_slice::<Vec<Reading>>(input) {
            Ok(readings) => outcome(&energyid_api::validate_readings(&readings, NOW, &["custom".to_owned()])),
            Err(error) => format!("json:{:?}{END}", error.classify()),
        }
    }

    fn oauth_config() -> OAuthConfig {
        let config = serde_json::json!({
            "provider": "fuzz",
            "clientId": "wattbridge",
            "tokenUrl": "https://auth.example/token",
            "deviceAuthorizationUrl": "https://auth.example/device/code",
            "scopes": ["openid", "offline_access"],
            "storeKey": "tokens/fuzz",
            "loginHint": "log in again",
        });
        serde_json::from_value(config).unwrap_or_else(|_| unreachable!("a fixed config"))
    }

    type Client = OAuthClient<RoutedHttp, MemoryStore, VirtualClock, NativeCrypto>;

    fn oauth_client(route: impl Fn(&str) -> HttpResponse + 'static, store: MemoryStore) -> Client {
        let http = RoutedHttp::new(move |request| Ok(route(&request.url)));
        OAuthClient::new(oauth_config(), http, store, VirtualClock::at_secs(NOW), NativeCrypto).unwrap_or_else(|_| unreachable!("a fixed config"))
    }

    const EXPIRED: &str = r#"{"accessToken":"old","tokenType":"Bearer","refreshToken":"refresh","expiresAtMs":1,"scopes":["openid"],"obtainedAtMs":0,"extra":{"usage_points_id":"11111111111111"}}"#;

    pub(super) fn oauth_token(input: &[u8]) -> String {
        let response = response_of(input);
        let answer = response.clone();
        let client = oauth_client(move |_| answer.clone(), MemoryStore::default());
        let mut out = outcome(&run(client.password_login("person", &Secret::new("password"))));
        let status = run(client.status());
        js_date(status.as_ref().ok().and_then(|s| s.expires_at_ms));
        out += &outcome(&status);
        // A refresh: the answer replaces (or fails to replace) stored tokens that expired.
        let store = MemoryStore::default();
        store.set_doc("tokens/fuzz", EXPIRED);
        let client = oauth_client(move |_| response.clone(), store);
        out += &outcome(&run(client.access_token()));
        let status = run(client.status());
        js_date(status.as_ref().ok().and_then(|s| s.expires_at_ms));
        out += &outcome(&status);
        out
    }

    const TOKENS: &str = r#"{"access_token":"a","refresh_token":"r","token_type":"Bearer","expires_in":300}"#;

    pub(super) fn oauth_device(input: &[u8]) -> String {
        let response = response_of(input);
        let client = oauth_client(
            move |url| if url.ends_with("/token") { HttpResponse::new(200, TOKENS) } else { response.clone() },
            MemoryStore::default(),
        );
        let shown = run(client.device_login(
            |verification| {
                std::hint::black_box(serde_json::to_string(verification).ok());
                Ok(())
            },
            Some(Duration::from_secs(3600)),
        ));
        outcome(&shown)
    }
}

#[cfg(feature = "openadr")]
mod openadr {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use wattbridge::openadr::api::read_signed_object;
    use wattbridge::openadr::dsig::Validator;
    use wattbridge::openadr::keys::{pem_blocks, Certificate, PrivateKey};
    use wattbridge::openadr::xml::{c14n, parse, Element, Node};
    use wattbridge::openadr::{Event, Notice, Opt, Ven, VenHandler};


    /// The test VTN certificates that signed the seeds of openadr-dsig (EC P-256 and RSA).
    const FINGERPRINTS: [&str; 2] = ["F4:EC:9B:E4:D8:9E:4B:89:A0:82", "C5:0A:F0:00:59:5F:E1:0E:2E:2D"];
    /// When the seeds of openadr-dsig were signed.
    const SIGNED_AT_MS: i64 = 1_795_000_000_000;

    /// At most this many elements are canonicalized one by one (each is linear in its size).
    const C14N_ELEMENTS: usize = 8;

    fn canonicalize_some(root: &Element) -> usize {
        fn walk<'a>(element: &'a Element, ancestors: &mut Vec<&'a Element>, budget: &mut usize, total: &mut usize) {
            if *budget == 0 {
                return;
            }
            *budget -= 1;
            *total += c14n(ancestors, element).len();
            ancestors.push(element);
            for child in &element.children {
                if let Node::Element(child) = child {
                    walk(child, ancestors, budget, total);
                }
            }
            ancestors.pop();
        }
        let (mut budget, mut total) = (C14N_ELEMENTS, 0);
        walk(root, &mut Vec::new(), &mut budget, &mut total);
        total
    }

    pub(super) fn openadr_xml(input: &[u8]) -> String {
        let text = String::from_utf8_lossy(input);
        let parsed = parse(&text);
        if let Ok(root) = &parsed {
            std::hint::black_box(canonicalize_some(root));
        }
        let mut out = outcome(&parsed);
        let opened = run(Validator::new(None).open(&text, SIGNED_AT_MS, &FuzzCrypto));
        out += &outcome(&opened);
        if let Ok(signed_object) = opened {
            let message = read_signed_object(&signed_object);
            out += &outcome(&message);
            std::hint::black_box(message.map(|m| format!("{m:?}")).ok());
        }
        out
    }

    pub(super) fn openadr_dsig(input: &[u8]) -> String {
        let text = String::from_utf8_lossy(input);
        let mut out = String::new();
        for fingerprint in FINGERPRINTS {
            let mut validator = Validator::new(Some(fingerprint.to_owned()));
            let opened = run(validator.open(&text, SIGNED_AT_MS + 1000, &FuzzCrypto));
            out += &outcome(&opened);
            if let Ok(signed_object) = opened {
                out += &outcome(&read_signed_object(&signed_object));
                // The same message again is a replay.
                out += &outcome(&run(validator.open(&text, SIGNED_AT_MS + 1000, &FuzzCrypto)));
            }
        }
        out
    }

    /// The VEN's user: opts out of events that ask for more than 2, reports 42.5.
    struct Handler;

    impl VenHandler for Handler {
        async fn on_event(&self, event: &Event) -> Result<Opt> {
            let high = event.event_signals.iter().flat_map(|s| &s.intervals).any(|i| i.signal_payload.is_some_and(|p| p > 2.0));
            Ok(if high { Opt::Out } else { Opt::In })
        }
        async fn report_value(&self, _: &str) -> Result<wattbridge::openadr::ReportPayload> {
            Ok(wattbridge::openadr::ReportPayload::Float(42.5))
        }
        fn notice(&self, notice: Notice) {
            std::hint::black_box(serde_json::to_string(&notice).ok());
        }
    }

    /// Ends when `done` says so, calling `stop` (the VEN's loop runs until stopped).
    struct StopWhen<D: Fn() -> bool, S: Fn()> {
        done: D,
        stop: S,
    }

    impl<D: Fn() -> bool, S: Fn()> std::future::Future for StopWhen<D, S> {
        type Output = ();
        fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
            if (self.done)() {
                (self.stop)();
                return std::task::Poll::Ready(());
            }
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }

    /// Exchanges of one input: registration, a dozen polls and reports, the cancellation.
    const VEN_EXCHANGES: usize = 24;

    /// The VEN against a VTN that answers each request with the input's next
    /// answer (separated by `ANSWERS`, the last one repeating): it registers,
    /// runs its loop for a few exchanges in virtual time, and cancels.
    pub(super) fn openadr_ven(input: &[u8]) -> String {
        let answer = in_turn(input);
        let http = RoutedHttp::new(move |_| Ok(answer()));
        let Ok(ven) = Ven::new(crate::support::ven_config(None), http.clone(), VirtualClock::at_secs(SIGNED_AT_MS / 1000), FuzzCrypto, Handler) else { unreachable!("a fixed config") };
        let registered = run(ven.register());
        let mut out = outcome(&registered);
        if registered.is_ok() {
            let (ran, ()) = run(async { futures::join!(ven.run(), StopWhen { done: || http.count() >= VEN_EXCHANGES, stop: || ven.stop() }) });
            out += &outcome(&ran);
            out += &outcome(&run(ven.cancel_registration()));
        }
        out
    }

    fn pem(label: &str, der: &[u8]) -> String {
        let base64 = STANDARD.encode(der);
        let lines: Vec<&str> = base64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
        format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
    }

    pub(super) fn pem_der(input: &[u8]) -> String {
        let mut out = outcome(&Certificate::from_der(input.to_vec()));
        out += &outcome(&Certificate::from_pem(&pem("CERTIFICATE", input)));
        out += &outcome(&run(PrivateKey::from_pem(&pem("PRIVATE KEY", input), None, &FuzzCrypto)));
        out += &outcome(&run(PrivateKey::from_pem(&pem("RSA PRIVATE KEY", input), None, &FuzzCrypto)));
        // The input as PEM text itself.
        let text = String::from_utf8_lossy(input);
        std::hint::black_box(pem_blocks(&text, "CERTIFICATE"));
        out += &outcome(&Certificate::from_pem(&text));
        out += &outcome(&run(PrivateKey::from_pem(&text, Some(&Secret::new("passphrase")), &FuzzCrypto)));
        out
    }

    pub(super) fn pbes2(input: &[u8]) -> String {
        let text = pem("ENCRYPTED PRIVATE KEY", input);
        outcome(&run(PrivateKey::from_pem(&text, Some(&Secret::new("passphrase")), &FuzzCrypto)))
    }
}
