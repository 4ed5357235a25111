//! Native fakes of the three seams. Clones share state, so a test keeps a
//! handle to inspect what the code under test did.
#![allow(dead_code)]

pub mod weheat_fake;

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use std::time::Duration;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use wattbridge::core::{Clock, Crypto, Error, ErrorCode, HttpClient, HttpRequest, HttpResponse, Result, Store};

/// Runs a future to completion on this thread; virtual time means no future ever waits.
pub fn run<F: std::future::Future>(future: F) -> F::Output {
    futures::executor::block_on(future)
}

#[derive(Clone, Default)]
pub struct MemoryStore {
    docs: Rc<RefCell<BTreeMap<String, String>>>,
    fail_puts: Rc<Cell<bool>>,
    yielding: Rc<Cell<bool>>,
    locks: Rc<wattbridge::core::store::DocumentLocks>,
}

impl MemoryStore {
    pub fn doc(&self, key: &str) -> Option<String> {
        self.docs.borrow().get(key).cloned()
    }
    pub fn set_doc(&self, key: &str, text: &str) {
        self.docs.borrow_mut().insert(key.to_owned(), text.to_owned());
    }
    /// Every document, for tests that search the store for leaked secrets.
    pub fn dump(&self) -> String {
        format!("{:?}", self.docs.borrow())
    }
    pub fn fail_puts(&self, fail: bool) {
        self.fail_puts.set(fail);
    }
    /// Make every operation wait for the executor once, as a file or
    /// IndexedDB does, so concurrent callers interleave at each of them.
    pub fn yielding(&self, on: bool) {
        self.yielding.set(on);
    }
    async fn io(&self) {
        if self.yielding.get() {
            YieldOnce(false).await;
        }
    }
}

impl Store for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<String>> {
        self.io().await;
        Ok(self.doc(key))
    }
    async fn put(&self, key: &str, document: &str) -> Result<()> {
        self.io().await;
        if self.fail_puts.get() {
            return Err(Error::new(ErrorCode::Storage, "disk full (fake)"));
        }
        self.set_doc(key, document);
        Ok(())
    }
    async fn delete(&self, key: &str) -> Result<()> {
        self.io().await;
        self.docs.borrow_mut().remove(key);
        Ok(())
    }
    async fn locked<T>(&self, key: &str, change: impl Future<Output = Result<T>>) -> Result<T> {
        let _held = self.locks.lock(key).await;
        change.await
    }
}

/// Answers requests from a script, in order, and records every request.
#[derive(Clone, Default)]
pub struct ScriptedHttp {
    script: Rc<RefCell<VecDeque<Result<HttpResponse>>>>,
    sent: Rc<RefCell<Vec<HttpRequest>>>,
}

impl ScriptedHttp {
    pub fn respond(&self, status: u16, body: &str) -> &Self {
        self.script.borrow_mut().push_back(Ok(HttpResponse::new(status, body)));
        self
    }
    pub fn respond_with(&self, response: HttpResponse) -> &Self {
        self.script.borrow_mut().push_back(Ok(response));
        self
    }
    pub fn fail(&self, error: Error) -> &Self {
        self.script.borrow_mut().push_back(Err(error));
        self
    }
    pub fn sent(&self) -> Vec<HttpRequest> {
        self.sent.borrow().clone()
    }
    pub fn remaining(&self) -> usize {
        self.script.borrow().len()
    }
}

/// Returns Pending once, like a real request waiting for the network, so that
/// concurrent callers really interleave.
/// A future that yields to the executor once: what a real I/O await does.
pub struct YieldOnce(pub bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl HttpClient for ScriptedHttp {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        YieldOnce(false).await;
        let url = request.url.clone();
        self.sent.borrow_mut().push(request);
        self.script
            .borrow_mut()
            .pop_front()
            .unwrap_or_else(|| panic!("unscripted request to {url}"))
    }
}

/// A clock that only moves when told to, or when someone sleeps; its jitter
/// comes from a seeded generator, so every wait of a test is known exactly.
#[derive(Clone)]
pub struct VirtualClock {
    now_ms: Rc<Cell<i64>>,
    seed: Rc<Cell<u64>>,
}

impl VirtualClock {
    pub fn at_secs(secs: i64) -> Self {
        VirtualClock { now_ms: Rc::new(Cell::new(secs * 1000)), seed: Rc::new(Cell::new(0x5eed)) }
    }
    /// Restart the jitter sequence from `seed`.
    pub fn seed(&self, seed: u64) {
        self.seed.set(seed);
    }
    /// The fractions the next `n` jitters will use (the generator is not advanced).
    pub fn peek_fractions(&self, n: usize) -> Vec<f64> {
        let probe = VirtualClock { now_ms: Rc::new(Cell::new(0)), seed: Rc::new(Cell::new(self.seed.get())) };
        (0..n).map(|_| probe.random_fraction()).collect()
    }
    pub fn advance(&self, duration: Duration) {
        self.now_ms.set(self.now_ms.get() + duration.as_millis() as i64);
    }
}

impl Clock for VirtualClock {
    fn now_ms(&self) -> i64 {
        self.now_ms.get()
    }
    async fn sleep(&self, duration: Duration) {
        self.advance(duration);
    }
    fn random_fraction(&self) -> f64 {
        // SplitMix64: tiny, and every seed gives a well-spread sequence.
        let next = self.seed.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        self.seed.set(next);
        let mut z = next;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) as f64 / u64::MAX as f64
    }
}

/// SHA-256 from RustCrypto, standing in for WebCrypto.
#[derive(Clone, Copy, Default)]
pub struct NativeCrypto;

impl Crypto for NativeCrypto {
    async fn sha256(&self, data: &[u8]) -> Result<[u8; 32]> {
        use sha2::Digest;
        Ok(sha2::Sha256::digest(data).into())
    }
}

/// Answers every request with a function of it (a fake service), and records them.
#[derive(Clone)]
pub struct RoutedHttp {
    route: Rc<dyn Fn(&HttpRequest) -> Result<HttpResponse>>,
    sent: Rc<RefCell<Vec<HttpRequest>>>,
}

impl RoutedHttp {
    pub fn new(route: impl Fn(&HttpRequest) -> Result<HttpResponse> + 'static) -> Self {
        RoutedHttp { route: Rc::new(route), sent: Rc::default() }
    }
    pub fn sent(&self) -> Vec<HttpRequest> {
        self.sent.borrow().clone()
    }
    pub fn count(&self) -> usize {
        self.sent.borrow().len()
    }
}

impl HttpClient for RoutedHttp {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        YieldOnce(false).await;
        let answer = (self.route)(&request);
        self.sent.borrow_mut().push(request);
        answer
    }
}

/// A clock that records when each sleep happened, to check pacing.
impl VirtualClock {
    pub fn now(&self) -> i64 {
        self.now_ms.get()
    }
}

/// WebCrypto's public-key half, from RustCrypto: RSA and ECDSA P-256
/// signatures over SHA-256, PBKDF2-HMAC-SHA256 and AES-CBC, as the OpenADR
/// signing code asks for them.
impl wattbridge::core::PublicKeyCrypto for NativeCrypto {
    async fn sign(&self, algorithm: wattbridge::core::SignatureAlgorithm, pkcs8_der: &[u8], data: &[u8]) -> Result<Vec<u8>> {
        use p256::pkcs8::DecodePrivateKey;
        use wattbridge::core::SignatureAlgorithm::*;
        let bad_key = |_| Error::new(ErrorCode::InvalidConfig, "unreadable PKCS#8 key (fake crypto)");
        Ok(match algorithm {
            RsaSha256 => {
                use rsa::signature::{SignatureEncoding, Signer};
                let key = rsa::RsaPrivateKey::from_pkcs8_der(pkcs8_der).map_err(bad_key)?;
                rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key).sign(data).to_vec()
            }
            EcdsaP256Sha256 => {
                use p256::ecdsa::signature::Signer;
                let key = p256::ecdsa::SigningKey::from_pkcs8_der(pkcs8_der).map_err(bad_key)?;
                let signature: p256::ecdsa::Signature = key.sign(data);
                signature.to_bytes().to_vec()
            }
        })
    }

    async fn verify(&self, algorithm: wattbridge::core::SignatureAlgorithm, spki_der: &[u8], data: &[u8], signature: &[u8]) -> Result<bool> {
        use p256::pkcs8::DecodePublicKey;
        use wattbridge::core::SignatureAlgorithm::*;
        let bad_key = |_| Error::new(ErrorCode::SignatureInvalid, "unreadable public key (fake crypto)");
        Ok(match algorithm {
            RsaSha256 => {
                use rsa::signature::Verifier;
                let key = rsa::RsaPublicKey::from_public_key_der(spki_der).map_err(bad_key)?;
                let Ok(signature) = rsa::pkcs1v15::Signature::try_from(signature) else { return Ok(false) };
                rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key).verify(data, &signature).is_ok()
            }
            EcdsaP256Sha256 => {
                use p256::ecdsa::signature::Verifier;
                let key = p256::ecdsa::VerifyingKey::from_public_key_der(spki_der).map_err(bad_key)?;
                let Ok(signature) = p256::ecdsa::Signature::from_slice(signature) else { return Ok(false) };
                key.verify(data, &signature).is_ok()
            }
        })
    }

    async fn pbkdf2(&self, hash: wattbridge::core::PbkdfHash, password: &[u8], salt: &[u8], iterations: u32, length: usize) -> Result<Vec<u8>> {
        if hash != wattbridge::core::PbkdfHash::Sha256 {
            return Err(Error::new(ErrorCode::InvalidConfig, "the fake crypto only has PBKDF2-HMAC-SHA256"));
        }
        let mut out = vec![0u8; length];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, &mut out);
        Ok(out)
    }

    async fn aes_cbc_decrypt(&self, key: &[u8], iv: &[u8], data: &[u8]) -> Result<Vec<u8>> {
        use cbc::cipher::{block_padding::Pkcs7, BlockDecryptMut, KeyIvInit};
        let failed = |_| Error::new(ErrorCode::InvalidCredentials, "AES-CBC decryption failed (fake crypto)");
        match key.len() {
            16 => cbc::Decryptor::<aes::Aes128>::new_from_slices(key, iv).map_err(|_| failed(()))?.decrypt_padded_vec_mut::<Pkcs7>(data).map_err(|_| failed(())),
            24 => cbc::Decryptor::<aes::Aes192>::new_from_slices(key, iv).map_err(|_| failed(()))?.decrypt_padded_vec_mut::<Pkcs7>(data).map_err(|_| failed(())),
            32 => cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv).map_err(|_| failed(()))?.decrypt_padded_vec_mut::<Pkcs7>(data).map_err(|_| failed(())),
            _ => Err(failed(())),
        }
    }
}

/// A VEN of the OpenADR tests and the fuzz target: one telemetry report
/// offered, no signing key, the VTN's certificate fingerprint if given.
#[cfg(feature = "openadr")]
pub fn ven_config(fingerprint: Option<String>) -> wattbridge::openadr::VenConfig {
    wattbridge::openadr::VenConfig {
        vtn_url: "http://127.0.0.1:8080/OpenADR2/Simple/2.0b".into(),
        ven_name: "ven one".into(),
        reports: vec![wattbridge::openadr::ReportOffer {
            report_name: "TELEMETRY_USAGE".into(),
            resource_id: "meter1".into(),
            measurement: "powerReal".into(),
            unit: None,
            scale: "none".into(),
            sampling_rate_secs: 10,
            r_id: None,
            power_attributes: Default::default(),
        }],
        cert: None,
        key: None,
        passphrase: None,
        vtn_fingerprint: fingerprint,
        disable_signature: false,
        allow_jitter: true,
    }
}

/// A DER element: tag, definite length, content (the test keys' structures).
pub fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match content.len() {
        n if n < 0x80 => out.push(n as u8),
        n if n < 0x100 => out.extend([0x81, n as u8]),
        n => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend(content);
    out
}

/// A self-signed-looking X.509 certificate around a public key: the VEN only
/// reads its structure and key (the signature over it is not our business).
pub fn certificate(spki: &[u8]) -> Vec<u8> {
    let name = der(0x30, &der(0x31, &der(0x30, &[der(0x06, &[0x55, 0x04, 0x03]), der(0x0c, b"test")].concat())));
    let validity = der(0x30, &[der(0x17, b"260101000000Z"), der(0x17, b"360101000000Z")].concat());
    let algorithm = der(0x30, &der(0x06, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]));
    let tbs = der(0x30, &[der(0xa0, &der(0x02, &[2])), der(0x02, &[1]), algorithm.clone(), name.clone(), validity, name, spki.to_vec()].concat());
    der(0x30, &[tbs, algorithm, der(0x03, &[0, 1, 2, 3])].concat())
}

pub fn pem(label: &str, der: &[u8]) -> String {
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, der))
}
