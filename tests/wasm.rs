//! The bindings themselves, run in Node by `wasm-pack test --node -- --test wasm`:
//! fetch, the JS store adapter, JS timers and the error mapping.
#![cfg(target_arch = "wasm32")]

use js_sys::{Function, Object, Reflect};
use std::time::Duration;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::wasm_bindgen_test;
use wattbridge::core::{Clock, Error, ErrorCode, HttpClient, HttpRequest, Method, Store};
use wattbridge::wasm::clock::JsClock;
use wattbridge::wasm::error::{from_js, to_js};
use wattbridge::wasm::http::FetchHttp;
use wattbridge::wasm::store::JsStore;

fn field(value: &JsValue, name: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(name)).unwrap()
}

/// A JS object store built the way a user would write one, keeping documents in a Map.
fn js_map_store() -> JsValue {
    let make = Function::new_no_args(
        "const docs = new Map();
         return {
           get: async (k) => docs.has(k) ? docs.get(k) : null,
           put: (k, v) => { docs.set(k, v); },            // plain return value, not a Promise
           delete: async (k) => { docs.delete(k); },
         };",
    );
    make.call0(&JsValue::NULL).unwrap()
}

#[wasm_bindgen_test]
fn errors_become_js_errors_with_code_provider_status_and_retry_after() {
    let err = Error::new(ErrorCode::RateLimited, "slow down").provider("energyid").status(429).retry_after(Some(30));
    let js = to_js(err);
    assert!(js.is_instance_of::<js_sys::Error>());
    assert_eq!(field(&js, "name").as_string().as_deref(), Some("WattbridgeError"));
    assert_eq!(field(&js, "message").as_string().as_deref(), Some("slow down"));
    assert_eq!(field(&js, "code").as_string().as_deref(), Some("rate_limited"));
    assert_eq!(field(&js, "provider").as_string().as_deref(), Some("energyid"));
    assert_eq!(field(&js, "status").as_f64(), Some(429.0));
    assert_eq!(field(&js, "retryAfter").as_f64(), Some(30.0));
}

#[wasm_bindgen_test]
fn a_js_error_keeps_its_code_on_the_way_back() {
    let thrown = js_sys::Error::new("state file is corrupt");
    Reflect::set(&thrown, &"code".into(), &"corrupt_state".into()).unwrap();
    let err = from_js(&thrown, ErrorCode::Storage, "store.get failed");
    assert_eq!((err.code, err.message.as_str()), (ErrorCode::CorruptState, "state file is corrupt"));

    let plain = from_js(&js_sys::Error::new("EACCES").into(), ErrorCode::Storage, "store.put('x') failed");
    assert_eq!((plain.code, plain.message.as_str()), (ErrorCode::Storage, "store.put('x') failed: EACCES"));
}

#[wasm_bindgen_test]
async fn js_store_round_trips_documents_sync_or_async() {
    let store = JsStore::new(js_map_store()).unwrap();
    assert_eq!(store.get("energyid").await.unwrap(), None);
    store.put("energyid", "{\"a\":1}").await.unwrap();
    assert_eq!(store.get("energyid").await.unwrap().as_deref(), Some("{\"a\":1}"));
    store.delete("energyid").await.unwrap();
    assert_eq!(store.get("energyid").await.unwrap(), None);
}

#[wasm_bindgen_test]
async fn js_store_errors_are_reported_not_swallowed() {
    let rejecting = Function::new_no_args(
        "return { get: async () => 42, put: async () => { throw new Error('disk full'); }, delete: () => {} };",
    )
    .call0(&JsValue::NULL)
    .unwrap();
    let store = JsStore::new(rejecting).unwrap();
    let err = store.put("k", "{}").await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Storage);
    assert!(err.message.contains("disk full"), "{}", err.message);
    let err = store.get("k").await.unwrap_err();
    assert!(err.message.contains("must return a string or null"), "{}", err.message);

    let err = JsStore::new(Object::new().into()).err().unwrap();
    assert_eq!(err.code, ErrorCode::InvalidConfig);
}

#[wasm_bindgen_test]
async fn fetch_to_a_closed_port_is_a_network_error_naming_the_host() {
    let request = HttpRequest::new(Method::Get, "http://127.0.0.1:9/nothing");
    let err = FetchHttp::default().send(request).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Network);
    assert!(err.message.contains("127.0.0.1"), "{}", err.message);
}

#[wasm_bindgen_test]
async fn js_clock_sleeps_on_real_timers() {
    let before = JsClock.now_ms();
    JsClock.sleep(Duration::from_millis(30)).await;
    let slept = JsClock.now_ms() - before;
    assert!(slept >= 25, "slept only {slept} ms");
}

#[wasm_bindgen_test]
async fn webcrypto_sha256_gives_the_rfc_7636_s256_challenge() {
    use wattbridge::core::Crypto;
    let digest = wattbridge::wasm::crypto::WebCrypto.sha256(b"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").await.unwrap();
    assert_eq!(base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &digest), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

#[wasm_bindgen_test]
fn a_logger_that_replaces_itself_does_not_break_the_module() {
    use std::cell::Cell;
    use std::rc::Rc;
    use wattbridge::wasm::log::{debug, enabled, set_debug_logger};
    let lines = Rc::new(Cell::new(0));
    let seen = lines.clone();
    // A logger that, when called, removes itself (it could as well install another).
    let logger = Closure::<dyn Fn(JsValue)>::new(move |_line: JsValue| {
        seen.set(seen.get() + 1);
        set_debug_logger(None);
    });
    set_debug_logger(Some(logger.as_ref().unchecked_ref::<Function>().clone()));
    debug("GET https://example.org -> 200 in 1 ms");
    debug("a second line, after the logger removed itself");
    assert_eq!(lines.get(), 1);
    assert!(!enabled());
    drop(logger);
}

#[wasm_bindgen_test]
async fn fetch_errors_name_the_host_and_nothing_else_of_the_request() {
    use wattbridge::core::Secret;
    // A query with a code, userinfo, and a header value fetch refuses (a token with a line break).
    let urls = ["http://user:SECRET-PASS@127.0.0.1:9/x?code=SECRET-CODE", "http://127.0.0.1:9/x?code=SECRET-CODE#SECRET-FRAGMENT"];
    for url in urls {
        let err = FetchHttp::default().send(HttpRequest::new(Method::Get, url)).await.unwrap_err();
        assert!(err.message.contains("127.0.0.1"), "{}", err.message);
        assert!(!err.message.contains("SECRET"), "{}", err.message);
    }
    let bad_header = HttpRequest::new(Method::Get, "http://127.0.0.1:9/x").secret_header("authorization", Secret::new("Bearer SECRET-TOKEN\nX-Injected: 1"));
    let err = FetchHttp::default().send(bad_header).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    assert!(err.message.contains("authorization"), "names the header: {}", err.message);
    assert!(!err.message.contains("SECRET"), "{}", err.message);
}

#[wasm_bindgen_test]
async fn a_handed_over_fetch_carries_requests_and_its_failures_say_why_by_code_only() {
    // A fetch that answers 204 itself: the request went through it, not the global one.
    let answers = Function::new_with_args("request", "return new Response(null, { status: 204, headers: { 'x-seen': request.method } })");
    let answer = FetchHttp::with_fetch(answers).send(HttpRequest::new(Method::Post, "https://vtn.invalid/x")).await.unwrap();
    assert_eq!((answer.status, answer.header("x-seen")), (204, Some("POST")));

    // Node's way of failing: TypeError("fetch failed") with the reason's code in `cause`.
    let failing = |code: &str| {
        Function::new_with_args("request", &format!("return Promise.reject(new TypeError('fetch failed https://user:SECRET@vtn.invalid', {{ cause: {{ code: {code:?} }} }}))"))
    };
    // A certificate failure is a person's to fix (tls_certificate), a refused connection a retry's (network).
    for (code, said, error) in [
        ("ERR_TLS_CERT_ALTNAME_INVALID", "its TLS certificate is made out to another host name (ERR_TLS_CERT_ALTNAME_INVALID)", ErrorCode::TlsCertificate),
        ("SELF_SIGNED_CERT_IN_CHAIN", "its TLS certificate is not signed by an authority this program trusts (SELF_SIGNED_CERT_IN_CHAIN)", ErrorCode::TlsCertificate),
        ("CERT_HAS_EXPIRED", "its TLS certificate is expired or not yet valid (CERT_HAS_EXPIRED)", ErrorCode::TlsCertificate),
        ("ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE", "the TLS handshake failed over a certificate (ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE)", ErrorCode::TlsCertificate),
        ("ERR_SSL_WRONG_VERSION_NUMBER", "the TLS handshake failed (ERR_SSL_WRONG_VERSION_NUMBER)", ErrorCode::Network),
        ("ECONNREFUSED", "the connection was refused (ECONNREFUSED)", ErrorCode::Network),
        ("not a code: SECRET", "the connection failed or was refused", ErrorCode::Network),
    ] {
        let err = FetchHttp::with_fetch(failing(code)).send(HttpRequest::new(Method::Get, "https://vtn.invalid/x")).await.unwrap_err();
        assert_eq!(err.code, error, "{code}");
        assert_eq!(err.message, format!("could not reach vtn.invalid: {said}"));
    }
    // Something that is not a Response, or a throw that is not an Error, is an error, not a panic.
    let odd = Function::new_with_args("request", "return 42");
    let err = FetchHttp::with_fetch(odd).send(HttpRequest::new(Method::Get, "https://vtn.invalid/x")).await.unwrap_err();
    assert!(err.message.contains("fetch answered something other than a Response"), "{}", err.message);
    let throws = Function::new_with_args("request", "throw 'SECRET'");
    let err = FetchHttp::with_fetch(throws).send(HttpRequest::new(Method::Get, "https://vtn.invalid/x")).await.unwrap_err();
    assert_eq!(err.message, "could not reach vtn.invalid: the request could not be made");
}
