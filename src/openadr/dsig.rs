//! The `oadrPayload` envelope and its XML-DSig signature, as OpenLEADR (signxml)
//! writes and checks it: inclusive C14N 1.0, SHA-256 digests, RSA-SHA256 or
//! ECDSA-SHA256 (raw r‖s), two references (`#oadrSignedObject` and `#prop`,
//! the `ds:Object` holding `dsp:ReplayProtect`), the certificate in KeyInfo.

use super::keys::{fingerprint_of, Certificate, PrivateKey};
use super::api::{NS_DS, NS_DSP, NS_OADR};
use crate::core::time::{format_utc_millis, parse_utc};
use super::xml::{c14n, parse, Element};
use crate::core::crypto::random_bytes;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use crate::core::{Error, ErrorCode, PublicKeyCrypto, Result, SignatureAlgorithm};
use std::collections::VecDeque;

const C14N: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const ECDSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
/// A signed message older than this is refused (OpenLEADR uses the same window).
pub const REPLAY_WINDOW_MS: i64 = 5_000;

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::SignatureInvalid, message.into()).provider("openadr")
}

fn envelope(signature: &str, signed_object: &str) -> String {
    format!(r#"<?xml version="1.0" encoding="utf-8"?><oadr:oadrPayload xmlns:oadr="{NS_OADR}">{signature}{signed_object}</oadr:oadrPayload>"#)
}

/// An unsigned message.
pub fn wrap(signed_object: &str) -> String {
    envelope("", signed_object)
}

fn signed_info(algorithm: SignatureAlgorithm, object_digest: &str, prop_digest: &str) -> String {
    let method = match algorithm {
        SignatureAlgorithm::RsaSha256 => RSA_SHA256,
        SignatureAlgorithm::EcdsaP256Sha256 => ECDSA_SHA256,
    };
    let reference = |uri: &str, digest: &str| {
        format!(r##"<ds:Reference URI="#{uri}"><ds:Transforms><ds:Transform Algorithm="{C14N}"/></ds:Transforms><ds:DigestMethod Algorithm="{SHA256}"/><ds:DigestValue>{digest}</ds:DigestValue></ds:Reference>"##)
    };
    format!(
        r#"<ds:SignedInfo><ds:CanonicalizationMethod Algorithm="{C14N}"/><ds:SignatureMethod Algorithm="{method}"/>{}{}</ds:SignedInfo>"#,
        reference("oadrSignedObject", object_digest),
        reference("prop", prop_digest)
    )
}

fn signature(signed_info: &str, value: &str, cert: &Certificate, timestamp_ms: i64, nonce: &str) -> String {
    format!(
        r##"<ds:Signature xmlns:ds="{NS_DS}" xmlns:oadr="{NS_OADR}">{signed_info}<ds:SignatureValue>{value}</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo><ds:Object Id="prop"><ds:SignatureProperties><ds:SignatureProperty Id="myid" Target="#mytarget"><dsp:ReplayProtect xmlns:dsp="{NS_DSP}"><dsp:timestamp>{}</dsp:timestamp><dsp:nonce>{nonce}</dsp:nonce></dsp:ReplayProtect></ds:SignatureProperty></ds:SignatureProperties></ds:Object></ds:Signature>"##,
        STANDARD.encode(&cert.der),
        format_utc_millis(timestamp_ms)
    )
}

/// The element carrying `Id`-like attribute `id`, with its ancestors.
fn by_id<'a>(root: &'a Element, id: &str) -> Option<(Vec<&'a Element>, &'a Element)> {
    root.find(&|e| e.attrs.iter().any(|a| matches!(a.local.as_str(), "Id" | "ID" | "id") && a.value == id))
}

async fn digest_of(root: &Element, id: &str, crypto: &impl PublicKeyCrypto) -> Result<String> {
    let (ancestors, element) = by_id(root, id).ok_or_else(|| Error::new(ErrorCode::InvalidInput, format!("no element with Id {id}")))?;
    Ok(STANDARD.encode(crypto.sha256(c14n(&ancestors, element).as_bytes()).await?))
}

/// Sign a message: the document is assembled, parsed back and canonicalised in
/// place, so the digests are those of exactly the bytes a verifier will see.
pub async fn sign(signed_object: &str, key: &PrivateKey, cert: &Certificate, now_ms: i64, crypto: &impl PublicKeyCrypto) -> Result<String> {
    let nonce: String = random_bytes(16)?.iter().map(|b| format!("{b:02x}")).collect();
    let draft = envelope(&signature(&signed_info(key.algorithm, "", ""), "", cert, now_ms, &nonce), signed_object);
    let tree = parse(&draft)?;
    let object_digest = digest_of(&tree, "oadrSignedObject", crypto).await?;
    let prop_digest = digest_of(&tree, "prop", crypto).await?;
    let info = signed_info(key.algorithm, &object_digest, &prop_digest);
    let draft = envelope(&signature(&info, "", cert, now_ms, &nonce), signed_object);
    let tree = parse(&draft)?;
    let (ancestors, info_element) = tree.find(&|e| e.is(NS_DS, "SignedInfo")).ok_or_else(|| Error::invalid_input("SignedInfo missing"))?;
    let value = crypto.sign(key.algorithm, &key.pkcs8, c14n(&ancestors, info_element).as_bytes()).await?;
    Ok(envelope(&signature(&info, &STANDARD.encode(&value), cert, now_ms, &nonce), signed_object))
}

/// What an incoming message is checked against.
#[derive(Debug, Default)]
pub struct Validator {
    /// The VTN certificate's fingerprint (`AA:BB:…`); `None` accepts unsigned messages.
    pub fingerprint: Option<String>,
    /// (timestamp ms, nonce) seen within the replay window.
    seen: VecDeque<(i64, String)>,
}

impl Validator {
    /// How many (timestamp, nonce) pairs the replay cache holds.
    pub fn remembered(&self) -> usize {
        self.seen.len()
    }

    pub fn new(fingerprint: Option<String>) -> Validator {
        Validator { fingerprint: fingerprint.map(|f| f.trim().to_ascii_uppercase()), seen: VecDeque::new() }
    }

    /// Parse a message and return its `oadrSignedObject` element, after checking
    /// the signature when a fingerprint is configured. Anything that fails is a
    /// `signature_invalid` error and the content is never returned.
    pub async fn open(&mut self, body: &str, now_ms: i64, crypto: &impl PublicKeyCrypto) -> Result<Element> {
        let root = parse(body)?;
        if !root.is(NS_OADR, "oadrPayload") {
            return Err(Error::new(ErrorCode::BadResponse, format!("expected oadrPayload, got {}", root.local)).provider("openadr"));
        }
        let signed_object = root.elements().find(|e| e.is(NS_OADR, "oadrSignedObject")).ok_or_else(|| Error::new(ErrorCode::BadResponse, "oadrPayload without oadrSignedObject").provider("openadr"))?;
        let Some(fingerprint) = self.fingerprint.clone() else { return Ok(signed_object.clone()) };
        let signature = root.elements().find(|e| e.is(NS_DS, "Signature")).ok_or_else(|| invalid("the VTN's message is not signed"))?;
        // Exactly one element may carry each referenced Id, or a wrapped copy could be digested instead.
        for id in ["oadrSignedObject", "prop"] {
            if root.count_ids(id) != 1 {
                return Err(invalid(format!("the signed message has {} elements with Id {id}", root.count_ids(id))));
            }
        }
        if signed_object.attr("Id") != Some("oadrSignedObject") {
            return Err(invalid("the message's oadrSignedObject is not the signed element"));
        }
        let cert_text = signature.text_at(&["KeyInfo", "X509Data", "X509Certificate"]).ok_or_else(|| invalid("the signature carries no certificate"))?;
        let cert_der = STANDARD.decode(&cert_text.split_whitespace().collect::<String>()).map_err(|_| invalid("the signature's certificate is not base64"))?;
        let found = fingerprint_of(&crypto.sha256(&cert_der).await?);
        if found != fingerprint {
            return Err(invalid(format!("the VTN certificate fingerprint is {found}, expected {fingerprint}")));
        }
        let cert = Certificate::from_der(cert_der).map_err(|_| invalid("the signature's certificate is not readable"))?;
        let (info_ancestors, info) = root.find(&|e| e.is(NS_DS, "SignedInfo")).ok_or_else(|| invalid("the signature has no SignedInfo"))?;
        if info.child("CanonicalizationMethod").and_then(|m| m.attr("Algorithm")) != Some(C14N) {
            return Err(invalid("the signature does not use inclusive C14N 1.0"));
        }
        let algorithm = match info.child("SignatureMethod").and_then(|m| m.attr("Algorithm")) {
            Some(RSA_SHA256) => SignatureAlgorithm::RsaSha256,
            Some(ECDSA_SHA256) => SignatureAlgorithm::EcdsaP256Sha256,
            _ => return Err(invalid("the signature method is not RSA-SHA256 or ECDSA-SHA256")),
        };
        if algorithm != cert.algorithm {
            return Err(invalid("the signature method does not match the certificate's key"));
        }
        let mut covered = Vec::new();
        for reference in info.children_named("Reference") {
            let uri = reference.attr("URI").and_then(|u| u.strip_prefix('#')).ok_or_else(|| invalid("a signature reference is not a same-document #Id"))?;
            let transforms: Vec<_> = reference.child("Transforms").into_iter().flat_map(|t| t.children_named("Transform")).collect();
            if transforms.iter().any(|t| t.attr("Algorithm") != Some(C14N)) {
                return Err(invalid("a signature reference uses an unsupported transform"));
            }
            if reference.child("DigestMethod").and_then(|m| m.attr("Algorithm")) != Some(SHA256) {
                return Err(invalid("a signature reference does not use SHA-256"));
            }
            let expected = reference.text_at(&["DigestValue"]).unwrap_or_default();
            let actual = digest_of(&root, uri, crypto).await.map_err(|_| invalid(format!("the signature references a missing element #{uri}")))?;
            if actual != expected.split_whitespace().collect::<String>() {
                return Err(invalid(format!("the digest of #{uri} does not match: the message was altered")));
            }
            covered.push(uri.to_owned());
        }
        if !(covered.iter().any(|u| u == "oadrSignedObject") && covered.iter().any(|u| u == "prop")) {
            return Err(invalid("the signature does not cover both the message and its replay protection"));
        }
        let value = signature.text_at(&["SignatureValue"]).unwrap_or_default();
        let value = STANDARD.decode(&value.split_whitespace().collect::<String>()).map_err(|_| invalid("the signature value is not base64"))?;
        if !crypto.verify(algorithm, &cert.spki, c14n(&info_ancestors, info).as_bytes(), &value).await? {
            return Err(invalid("the signature does not verify with the VTN's certificate"));
        }
        // Replay protection, read from inside the signed #prop object only.
        let (_, prop) = by_id(&root, "prop").ok_or_else(|| invalid("no replay protection"))?;
        let (_, replay) = prop.find(&|e| e.is(NS_DSP, "ReplayProtect")).ok_or_else(|| invalid("the signature has no ReplayProtect"))?;
        let timestamp = replay.text_at(&["timestamp"]).and_then(|t| parse_utc(&t)).ok_or_else(|| invalid("the ReplayProtect timestamp is unreadable"))?;
        let nonce = replay.text_at(&["nonce"]).filter(|n| !n.is_empty()).ok_or_else(|| invalid("the ReplayProtect has no nonce"))?;
        // Forget what the window no longer protects, whatever this message turns out to be.
        self.seen.retain(|(t, _)| *t >= now_ms - REPLAY_WINDOW_MS);
        if timestamp < now_ms - REPLAY_WINDOW_MS {
            return Err(invalid("the message was signed more than 5 s ago (replayed or clock skew)"));
        }
        // The same skew the other way: a message dated later would stay fresh
        // (and in the nonce cache) for as long as it claims.
        if timestamp > now_ms.saturating_add(REPLAY_WINDOW_MS) {
            return Err(invalid("the message was signed more than 5 s in the future (clock skew or a forged date)"));
        }
        if self.seen.iter().any(|(t, n)| *t == timestamp && *n == nonce) {
            return Err(invalid("this message was already received (nonce reused)"));
        }
        self.seen.push_back((timestamp, nonce));
        Ok(signed_object.clone())
    }
}
