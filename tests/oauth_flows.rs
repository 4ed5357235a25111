//! Every branch of the OAuth flows in virtual time: minutes of polling and
//! hours of token life run in milliseconds.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::cell::RefCell;
use std::time::Duration;
use support::{run, MemoryStore, NativeCrypto, ScriptedHttp, VirtualClock};
use wattbridge::core::{Clock, Error, ErrorCode, HttpRequest, Method, Secret};
use wattbridge::oauth::{DeviceVerification, OAuthClient, OAuthConfig};

const T0: i64 = 1_790_000_000;
const STORE_KEY: &str = "tokens/test";

type Client = OAuthClient<ScriptedHttp, MemoryStore, VirtualClock, NativeCrypto>;

struct Rig {
    client: Client,
    http: ScriptedHttp,
    store: MemoryStore,
    clock: VirtualClock,
}

fn config(extra: serde_json::Value) -> OAuthConfig {
    let mut base = serde_json::json!({
        "provider": "test",
        "clientId": "wattbridge",
        "tokenUrl": "https://auth.example/token",
        "deviceAuthorizationUrl": "https://auth.example/device/code",
        "authorizationUrl": "https://auth.example/authorize",
        "logoutUrl": "https://auth.example/logout",
        "scopes": ["openid", "offline_access"],
        "storeKey": STORE_KEY,
        "loginHint": "run `wattbridge test login`",
    });
    base.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    serde_json::from_value(base).unwrap()
}

fn rig_with(config: OAuthConfig) -> Rig {
    let (http, store, clock) = (ScriptedHttp::default(), MemoryStore::default(), VirtualClock::at_secs(T0));
    let client = OAuthClient::new(config, http.clone(), store.clone(), clock.clone(), NativeCrypto).unwrap();
    Rig { client, http, store, clock }
}

fn fresh_rig() -> Rig {
    rig_with(config(serde_json::json!({})))
}

fn tokens(access: &str, refresh: &str, expires_in: i64) -> String {
    format!(r#"{{"access_token":"{access}","refresh_token":"{refresh}","token_type":"Bearer","expires_in":{expires_in},"scope":"openid offline_access"}}"#)
}

fn oauth_error(error: &str) -> String {
    format!(r#"{{"error":"{error}","error_description":"{error} happened"}}"#)
}

fn form_of(request: &HttpRequest) -> Vec<(String, String)> {
    form_urlencoded::parse(request.body.as_deref().unwrap_or("").as_bytes()).into_owned().collect()
}

fn field(request: &HttpRequest, name: &str) -> Option<String> {
    form_of(request).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

const DEVICE_CODE: &str = r#"{"device_code":"dev-SECRET","user_code":"WDJB-MJHT","verification_uri":"https://auth.example/device","verification_uri_complete":"https://auth.example/device?user_code=WDJB-MJHT","expires_in":300,"interval":5}"#;

fn device_login(rig: &Rig, timeout: Option<Duration>) -> (wattbridge::core::Result<wattbridge::oauth::TokenStatus>, Vec<DeviceVerification>) {
    let shown = RefCell::new(Vec::new());
    let result = run(rig.client.device_login(|v| {
        shown.borrow_mut().push(v.clone());
        Ok(())
    }, timeout));
    (result, shown.into_inner())
}

// ---- device flow ----

#[test]
fn device_flow_polls_through_pending_and_slow_down_then_stores_tokens() {
    let rig = fresh_rig();
    rig.http.respond(200, DEVICE_CODE);
    rig.http.respond(400, &oauth_error("authorization_pending"));
    rig.http.respond(400, &oauth_error("slow_down"));
    rig.http.respond(400, &oauth_error("authorization_pending"));
    rig.http.respond(200, &tokens("acc-1", "ref-1", 3600));
    let (result, shown) = device_login(&rig, None);
    let status = result.unwrap();

    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].user_code, "WDJB-MJHT");
    assert_eq!(shown[0].verification_uri_complete.as_deref(), Some("https://auth.example/device?user_code=WDJB-MJHT"));
    // Polls at 5 s, 5 s, then slow_down makes it 10 s, 10 s: 30 s in all.
    assert_eq!(rig.clock.now_secs(), T0 + 5 + 5 + 10 + 10);
    assert_eq!(status.expires_at_ms, Some((T0 + 30 + 3600) * 1000));
    assert_eq!(status.scopes, vec!["openid", "offline_access"]);

    let sent = rig.http.sent();
    assert_eq!(sent.len(), 5);
    assert_eq!(field(&sent[0], "scope").as_deref(), Some("openid offline_access"));
    assert_eq!(field(&sent[1], "grant_type").as_deref(), Some("urn:ietf:params:oauth:grant-type:device_code"));
    assert_eq!(field(&sent[1], "device_code").as_deref(), Some("dev-SECRET"));
    assert!(rig.store.doc(STORE_KEY).unwrap().contains("ref-1"));
}

#[test]
fn a_timeout_too_large_to_count_waits_like_none() {
    let rig = fresh_rig();
    rig.http.respond(200, DEVICE_CODE);
    rig.http.respond(400, &oauth_error("authorization_pending"));
    rig.http.respond(200, &tokens("acc-1", "ref-1", 3600));
    device_login(&rig, Some(Duration::MAX)).0.unwrap();
    assert_eq!(rig.clock.now_secs(), T0 + 5 + 5);
}

#[test]
fn the_enedis_gateway_variant_works_as_is() {
    // /device/code + /device/token, invalid_grant for an expired code, usage_points_id kept.
    let rig = rig_with(config(serde_json::json!({
        "tokenUrl": "https://gw.example/device/token",
        "deviceAuthorizationUrl": "https://gw.example/device/code",
        "scopes": [],
        "refreshMarginSecs": 1200,
        "refreshEchoFields": ["usage_points_id"],
    })));
    rig.http.respond(200, r#"{"device_code":"d","user_code":"ABCD-EFGH","verification_uri":"https://gw.example/device?code=ABCD-EFGH","expires_in":300,"interval":5}"#);
    rig.http.respond(200, r#"{"access_token":"a1","refresh_token":"r1","token_type":"Bearer","expires_in":12600,"usage_points_id":"11111111111111,22222222222222","scope":""}"#);
    let status = device_login(&rig, None).0.unwrap();
    assert_eq!(status.extra["usage_points_id"], "11111111111111,22222222222222");

    // 20 minutes before expiry the token is refreshed, echoing usage_points_id;
    // the gateway keeps the same refresh token and leaves the meters out.
    rig.clock.advance(Duration::from_secs(12600 - 1200 - 1));
    assert_eq!(run(rig.client.access_token()).unwrap().expose(), "a1");
    rig.clock.advance(Duration::from_secs(2));
    rig.http.respond(200, r#"{"access_token":"a2","token_type":"Bearer","expires_in":12600}"#);
    assert_eq!(run(rig.client.access_token()).unwrap().expose(), "a2");
    let refresh = rig.http.sent().pop().unwrap();
    assert_eq!(refresh.url, "https://gw.example/device/token");
    assert_eq!(field(&refresh, "usage_points_id").as_deref(), Some("11111111111111,22222222222222"));
    assert_eq!(field(&refresh, "refresh_token").as_deref(), Some("r1"));
    let status = run(rig.client.status()).unwrap();
    assert!(status.has_refresh_token, "the old refresh token is kept when none comes back");
    assert_eq!(status.extra["usage_points_id"], "11111111111111,22222222222222");

    // An expired device code is invalid_grant at this gateway.
    let rig2 = rig_with(config(serde_json::json!({"deviceAuthorizationUrl": "https://gw.example/device/code"})));
    rig2.http.respond(200, DEVICE_CODE).respond(400, r#"{"error":"invalid_grant","error_description":"device_code not found"}"#);
    let err = device_login(&rig2, None).0.unwrap_err();
    assert_eq!(err.code, ErrorCode::AuthRequired);
    assert!(err.message.contains("expired"), "{}", err.message);
}

#[test]
fn device_flow_denied_and_expired_end_with_clear_errors() {
    for (error, needle) in [("access_denied", "declined"), ("expired_token", "expired")] {
        let rig = fresh_rig();
        rig.http.respond(200, DEVICE_CODE).respond(400, &oauth_error(error));
        let err = device_login(&rig, None).0.unwrap_err();
        assert_eq!(err.code, ErrorCode::AuthRequired, "{error}");
        assert!(err.message.contains(needle) && err.message.contains("wattbridge test login"), "{}", err.message);
        assert!(rig.store.doc(STORE_KEY).is_none());
    }
}

#[test]
fn device_flow_stops_at_the_code_expiry_or_the_deadline_in_virtual_time() {
    let rig = fresh_rig();
    rig.http.respond(200, DEVICE_CODE);
    for _ in 0..59 {
        rig.http.respond(400, &oauth_error("authorization_pending"));
    }
    let err = device_login(&rig, None).0.unwrap_err();
    assert!(err.message.contains("code expired"), "{}", err.message);
    assert_eq!(rig.clock.now_secs(), T0 + 295, "last poll at 295 s, the next would pass the 300 s expiry");
    assert_eq!(rig.http.remaining(), 0);

    let rig = fresh_rig();
    rig.http.respond(200, DEVICE_CODE);
    for _ in 0..5 {
        rig.http.respond(400, &oauth_error("authorization_pending"));
    }
    let err = device_login(&rig, Some(Duration::from_secs(30))).0.unwrap_err();
    assert_eq!(err.code, ErrorCode::AuthRequired);
    assert!(err.message.contains("gave up waiting"), "{}", err.message);
    assert_eq!(rig.http.remaining(), 0);
}

#[test]
fn device_flow_rides_out_two_network_hiccups_but_not_three() {
    let rig = fresh_rig();
    rig.http.respond(200, DEVICE_CODE)
        .fail(Error::new(ErrorCode::Network, "connection reset"))
        .respond(503, "")
        .respond(200, &tokens("a", "r", 60));
    assert!(device_login(&rig, None).0.is_ok());

    let rig = fresh_rig();
    rig.http.respond(200, DEVICE_CODE);
    for _ in 0..3 {
        rig.http.fail(Error::new(ErrorCode::Network, "connection reset"));
    }
    assert_eq!(device_login(&rig, None).0.unwrap_err().code, ErrorCode::Network);
}

// ---- password ----

#[test]
fn password_is_used_once_and_never_stored() {
    let rig = fresh_rig();
    rig.http.respond(200, &tokens("acc", "ref", 300));
    run(rig.client.password_login("anna@example.org", &Secret::new("pa55-SECRET"))).unwrap();
    let sent = rig.http.sent();
    assert_eq!(field(&sent[0], "password").as_deref(), Some("pa55-SECRET"));
    assert_eq!(field(&sent[0], "scope").as_deref(), Some("openid offline_access"));
    assert!(!rig.store.dump().contains("pa55-SECRET"));

    rig.http.respond(401, r#"{"error":"invalid_grant","error_description":"Invalid user credentials"}"#);
    let err = run(rig.client.password_login("anna@example.org", &Secret::new("wrong-SECRET"))).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidCredentials);
    assert!(!err.message.contains("wrong-SECRET"));
    assert!(rig.store.doc(STORE_KEY).unwrap().contains("\"acc\""), "a failed login keeps the tokens we had");
}

// ---- refresh ----

fn logged_in(expires_in: i64) -> Rig {
    let rig = fresh_rig();
    rig.http.respond(200, &tokens("acc-1", "ref-1", expires_in));
    run(rig.client.password_login("u", &Secret::new("p"))).unwrap();
    rig
}

#[test]
fn refresh_happens_ahead_of_expiry_and_the_rotated_token_is_kept() {
    let rig = logged_in(300);
    rig.clock.advance(Duration::from_secs(239));
    assert_eq!(run(rig.client.access_token()).unwrap().expose(), "acc-1");
    assert_eq!(rig.http.sent().len(), 1, "no refresh before the 60 s margin");

    rig.clock.advance(Duration::from_secs(1));
    rig.http.respond(200, &tokens("acc-2", "ref-2", 300));
    assert_eq!(run(rig.client.access_token()).unwrap().expose(), "acc-2");
    let refresh = rig.http.sent().pop().unwrap();
    assert_eq!(field(&refresh, "grant_type").as_deref(), Some("refresh_token"));
    assert_eq!(field(&refresh, "refresh_token").as_deref(), Some("ref-1"));
    let stored = rig.store.doc(STORE_KEY).unwrap();
    assert!(stored.contains("ref-2") && !stored.contains("ref-1"), "{stored}");
}

#[test]
fn a_rotated_token_that_cannot_be_persisted_is_never_used() {
    let rig = logged_in(300);
    rig.clock.advance(Duration::from_secs(400));
    rig.store.fail_puts(true);
    rig.http.respond(200, &tokens("acc-2", "ref-2", 300));
    let err = run(rig.client.access_token()).unwrap_err();
    assert_eq!(err.code, ErrorCode::Storage);
}

#[test]
fn concurrent_callers_share_one_refresh() {
    let rig = logged_in(300);
    rig.clock.advance(Duration::from_secs(400));
    rig.http.respond(200, &tokens("acc-2", "ref-2", 300));
    let (a, b, c) = run(async { futures::join!(rig.client.access_token(), rig.client.access_token(), rig.client.access_token()) });
    for token in [a, b, c] {
        assert_eq!(token.unwrap().expose(), "acc-2");
    }
    assert_eq!(rig.http.sent().len(), 2, "one login, one refresh");
}

/// Two accounts objects over one store (a page's Weheat and its sync job, or
/// two handlers that each built one) hold the same tokens: one refresh, and
/// never the already rotated refresh token sent again.
#[test]
fn two_clients_over_one_store_share_one_refresh() {
    let rig = logged_in(300);
    let other = OAuthClient::new(config(serde_json::json!({})), rig.http.clone(), rig.store.clone(), rig.clock.clone(), NativeCrypto).unwrap();
    rig.clock.advance(Duration::from_secs(400));
    rig.store.yielding(true);
    rig.http.respond(200, &tokens("acc-2", "ref-2", 300)).respond(400, &oauth_error("invalid_grant"));
    let (a, b) = run(async { futures::join!(rig.client.access_token(), other.access_token()) });
    assert_eq!(a.unwrap().expose(), "acc-2");
    assert_eq!(b.unwrap().expose(), "acc-2");
    assert_eq!(rig.http.sent().len(), 2, "one login, one refresh");
}

#[test]
fn a_401_triggers_one_refresh_and_one_retry_never_a_loop() {
    let rig = logged_in(3600);
    let api = |token: &Secret| HttpRequest::new(Method::Get, "https://api.example/me").secret_header("authorization", Secret::new(format!("Bearer {}", token.expose())));
    rig.http.respond(401, "").respond(200, &tokens("acc-2", "ref-2", 3600)).respond(200, "{}");
    let response = run(rig.client.send_authorized(api)).unwrap();
    assert_eq!(response.status, 200);
    let sent = rig.http.sent();
    assert_eq!(sent[3].headers[0].1.expose(), "Bearer acc-2", "the retry uses the new token");

    rig.http.respond(401, "").respond(200, &tokens("acc-3", "ref-3", 3600)).respond(401, "");
    let err = run(rig.client.send_authorized(api)).unwrap_err();
    assert_eq!((err.code, err.status), (ErrorCode::AuthRequired, Some(401)));
    assert_eq!(rig.http.remaining(), 0);
    assert_eq!(rig.http.sent().len(), 7, "login + (api, refresh, api) twice");
}

#[test]
fn session_not_active_becomes_auth_required_and_keeps_the_tokens() {
    let rig = logged_in(300);
    let before = rig.store.doc(STORE_KEY).unwrap();
    rig.clock.advance(Duration::from_secs(400));
    rig.http.respond(400, r#"{"error":"invalid_grant","error_description":"Session not active"}"#);
    let err = run(rig.client.access_token()).unwrap_err();
    assert_eq!(err.code, ErrorCode::AuthRequired);
    assert_eq!(err.message, "test ended the session (Session not active): run `wattbridge test login`");
    assert_eq!(rig.store.doc(STORE_KEY).unwrap(), before);
}

#[test]
fn a_broken_token_endpoint_leaves_the_stored_tokens_untouched() {
    let rig = logged_in(300);
    let before = rig.store.doc(STORE_KEY).unwrap();
    rig.clock.advance(Duration::from_secs(400));
    for (status, body, code) in [
        (200, "<html><body>Sign in</body></html>", ErrorCode::BadResponse),
        (500, "Internal Server Error", ErrorCode::Unavailable),
        (200, r#"{"access_token":"acc-2","refresh_tok"#, ErrorCode::BadResponse),
    ] {
        rig.http.respond(status, body);
        let err = run(rig.client.access_token()).unwrap_err();
        assert_eq!(err.code, code, "{body}: {}", err.message);
        assert_eq!(rig.store.doc(STORE_KEY).unwrap(), before);
    }
}

#[test]
fn clock_skew_of_five_minutes_either_way_changes_nothing() {
    // Expiry is obtained-time + expires_in on our own clock; the server's clock never enters.
    for skew in [-300i64, 300] {
        let rig = fresh_rig();
        rig.clock.advance(Duration::from_secs((300 + skew) as u64));
        rig.http.respond(200, &tokens("acc", "ref", 600));
        run(rig.client.password_login("u", &Secret::new("p"))).unwrap();
        rig.clock.advance(Duration::from_secs(539));
        assert_eq!(run(rig.client.access_token()).unwrap().expose(), "acc", "skew {skew}");
        rig.clock.advance(Duration::from_secs(1));
        rig.http.respond(200, &tokens("acc-2", "ref-2", 600));
        assert_eq!(run(rig.client.access_token()).unwrap().expose(), "acc-2", "skew {skew}");
    }
}

#[test]
fn without_a_refresh_token_an_expired_session_asks_to_log_in() {
    let rig = fresh_rig();
    rig.http.respond(200, r#"{"access_token":"a","token_type":"Bearer","expires_in":60}"#);
    run(rig.client.password_login("u", &Secret::new("p"))).unwrap();
    rig.clock.advance(Duration::from_secs(3600));
    let err = run(rig.client.access_token()).unwrap_err();
    assert_eq!(err.code, ErrorCode::AuthRequired);
    let fresh = rig_with(config(serde_json::json!({})));
    assert_eq!(run(fresh.client.access_token()).unwrap_err().code, ErrorCode::AuthRequired);
}

// ---- authorization code + PKCE ----

#[test]
fn pkce_uses_s256_of_the_stored_verifier_and_checks_state() {
    use sha2::Digest;
    let rig = fresh_rig();
    let start = run(rig.client.authorization_url("http://127.0.0.1:5555/callback")).unwrap();
    let pending: serde_json::Value = serde_json::from_str(&rig.store.doc("tokens/test/pending").unwrap()).unwrap();
    let verifier = pending["verifier"].as_str().unwrap();
    assert!((43..=128).contains(&verifier.len()), "RFC 7636 verifier length");
    let challenge = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &sha2::Sha256::digest(verifier.as_bytes()));
    assert!(start.url.starts_with("https://auth.example/authorize?response_type=code&client_id=wattbridge"));
    assert!(start.url.contains(&format!("code_challenge={challenge}&code_challenge_method=S256")), "{}", start.url);
    assert!(start.url.contains(&format!("state={}", start.state)));

    // A redirect with someone else's state is refused before any request.
    let err = run(rig.client.complete_authorization("http://127.0.0.1:5555/callback?code=c&state=forged")).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    assert!(rig.http.sent().is_empty());

    rig.http.respond(200, &tokens("acc", "ref", 300));
    let callback = format!("http://127.0.0.1:5555/callback?code=the-code&state={}", start.state);
    let status = run(rig.client.complete_authorization(&callback)).unwrap();
    assert!(status.logged_in);
    let exchange = &rig.http.sent()[0];
    assert_eq!(field(exchange, "grant_type").as_deref(), Some("authorization_code"));
    assert_eq!(field(exchange, "code").as_deref(), Some("the-code"));
    assert_eq!(field(exchange, "code_verifier").as_deref(), Some(verifier));
    assert_eq!(field(exchange, "redirect_uri").as_deref(), Some("http://127.0.0.1:5555/callback"));
    assert!(rig.store.doc("tokens/test/pending").is_none(), "the verifier is forgotten once used");

    // Replaying the same redirect finds no login in progress.
    assert_eq!(run(rig.client.complete_authorization(&callback)).unwrap_err().code, ErrorCode::InvalidInput);
}

#[test]
fn the_rfc_7636_s256_example_holds() {
    use wattbridge::core::Crypto;
    let digest = run(NativeCrypto.sha256(b"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).unwrap();
    assert_eq!(base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &digest), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

#[test]
fn a_declined_or_stale_pkce_login_is_reported() {
    let rig = fresh_rig();
    let start = run(rig.client.authorization_url("http://127.0.0.1:5555/cb")).unwrap();
    let err = run(rig.client.complete_authorization(&format!("http://127.0.0.1:5555/cb?error=access_denied&state={}", start.state))).unwrap_err();
    assert_eq!(err.code, ErrorCode::AuthRequired);
    assert!(err.message.contains("declined"), "{}", err.message);

    let start = run(rig.client.authorization_url("http://127.0.0.1:5555/cb")).unwrap();
    rig.clock.advance(Duration::from_secs(16 * 60));
    let err = run(rig.client.complete_authorization(&format!("http://127.0.0.1:5555/cb?code=c&state={}", start.state))).unwrap_err();
    assert!(err.message.contains("too long"), "{}", err.message);
}

// ---- logout ----

#[test]
fn logout_revokes_at_the_provider_then_forgets() {
    let rig = logged_in(300);
    rig.http.respond(500, "oops");
    assert_eq!(run(rig.client.logout()).unwrap_err().code, ErrorCode::UnexpectedStatus);
    assert!(rig.store.doc(STORE_KEY).is_some(), "a failed revocation keeps the tokens to retry");

    rig.http.respond(204, "");
    run(rig.client.logout()).unwrap();
    let revoke = rig.http.sent().pop().unwrap();
    assert_eq!(revoke.url, "https://auth.example/logout");
    assert_eq!(field(&revoke, "refresh_token").as_deref(), Some("ref-1"));
    assert!(rig.store.doc(STORE_KEY).is_none());
    assert!(!run(rig.client.status()).unwrap().logged_in);

    let rig = logged_in(300);
    rig.http.respond(400, r#"{"error":"invalid_grant","error_description":"Session not active"}"#);
    run(rig.client.logout()).unwrap();
    assert!(rig.store.doc(STORE_KEY).is_none(), "an already-ended session is logged out");
}

#[test]
fn logout_uses_rfc_7009_revocation_when_configured() {
    let rig = rig_with(config(serde_json::json!({"revocationUrl": "https://auth.example/revoke"})));
    rig.http.respond(200, &tokens("acc-1", "ref-1", 300));
    run(rig.client.password_login("u", &Secret::new("p"))).unwrap();
    rig.http.respond(200, "");
    run(rig.client.logout()).unwrap();
    let revoke = rig.http.sent().pop().unwrap();
    assert_eq!(revoke.url, "https://auth.example/revoke");
    assert_eq!(form_of(&revoke), vec![
        ("token".to_owned(), "ref-1".to_owned()),
        ("token_type_hint".to_owned(), "refresh_token".to_owned()),
        ("client_id".to_owned(), "wattbridge".to_owned()),
    ]);
}

// ---- secrets ----

#[test]
fn no_token_or_password_reaches_an_error_or_a_debug_print() {
    let rig = fresh_rig();
    let mut printed = Vec::new();
    rig.http.respond(200, &tokens("acc-SECRET", "ref-SECRET", 60));
    run(rig.client.password_login("u", &Secret::new("pw-SECRET"))).unwrap();
    rig.clock.advance(Duration::from_secs(120));
    rig.http.respond(400, r#"{"error":"invalid_grant"}"#);
    printed.push(run(rig.client.access_token()).unwrap_err().to_string());
    rig.http.respond(200, "<html>");
    printed.push(format!("{:?}", run(rig.client.password_login("u", &Secret::new("pw-SECRET")))));
    printed.push(format!("{:?}", rig.http.sent()[0].headers));
    printed.push(format!("{:?}", run(rig.client.status()).unwrap()));
    let joined = printed.join("\n");
    for secret in ["acc-SECRET", "ref-SECRET", "pw-SECRET"] {
        assert!(!joined.contains(secret), "{secret} leaked: {joined}");
    }
}

#[test]
fn a_device_code_with_absurd_interval_and_lifetime_polls_every_300_s_and_never_overflows() {
    let rig = fresh_rig();
    // A broken or hostile server: an interval of 31,700 years, a code valid far beyond i64 milliseconds.
    rig.http.respond(200, r#"{"device_code":"dev-SECRET","user_code":"WDJB-MJHT","verification_uri":"https://auth.example/device","expires_in":9223372036854775807,"interval":1000000000000}"#);
    rig.http.respond(400, &oauth_error("authorization_pending"));
    rig.http.respond(400, &oauth_error("slow_down"));
    rig.http.respond(200, &tokens("acc-1", "ref-1", 3600));
    let (result, _) = device_login(&rig, None);
    result.unwrap();
    assert_eq!(rig.clock.now_secs(), T0 + 300 * 3, "the interval is clamped to 300 s, slow_down included");

    // An interval of 0 or below: the RFC's 5 s, never a hot loop.
    let rig = fresh_rig();
    rig.http.respond(200, r#"{"device_code":"d","user_code":"U","verification_uri":"https://auth.example/device","expires_in":600,"interval":-3}"#);
    rig.http.respond(200, &tokens("acc-1", "ref-1", 3600));
    device_login(&rig, None).0.unwrap();
    assert_eq!(rig.clock.now_secs(), T0 + 5);
}

#[test]
fn a_token_lifetime_beyond_counting_is_kept_without_overflow() {
    let rig = fresh_rig();
    rig.http.respond(200, r#"{"access_token":"acc-1","refresh_token":"ref-1","token_type":"Bearer","expires_in":9223372036854775807}"#);
    let status = run(rig.client.password_login("anna@example.org", &Secret::new("pa55-SECRET"))).unwrap();
    // Clamped to ten years: it does not expire in practice, and the expiry is
    // still a date JavaScript can show (i64::MAX ms made `linky login` die printing it).
    assert_eq!(status.expires_at_ms, Some(T0 * 1000 + 10 * 365 * 86_400_000));
    assert!(status.expires_at_ms.unwrap() <= 8_640_000_000_000_000);
    // And it is used as is, without a refresh.
    assert_eq!(run(rig.client.access_token()).unwrap().expose(), "acc-1");
}

#[test]
fn the_access_token_goes_only_to_the_configured_services() {
    let rig = rig_with(config(serde_json::json!({ "apiUrls": ["https://api.example/third_party"] })));
    for allowed in ["https://auth.example/realms/x/userinfo", "https://api.example/v1/heat-pumps", "HTTPS://API.EXAMPLE/other"] {
        rig.client.check_api_url(allowed).unwrap_or_else(|e| panic!("{allowed}: {e}"));
    }
    for refused in ["https://evil.example/steal", "https://api.example.evil.example/", "http://api.example/v1", "https://api.example:8443/v1", "https://evil.example\\@api.example/"] {
        let err = rig.client.check_api_url(refused).unwrap_err();
        assert!(matches!(err.code, ErrorCode::InvalidInput | ErrorCode::InvalidConfig), "{refused}: {err}");
    }
}
