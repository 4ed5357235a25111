//! Certificates and private keys from PEM: just enough DER to find a
//! certificate's public key and to unwrap PKCS#8 (plain, PKCS#1 RSA, or
//! encrypted with PBES2 = PBKDF2-HMAC-SHA1/SHA256 + AES-CBC). The crypto itself
//! goes through the [`PublicKeyCrypto`] seam.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use crate::core::crypto::{PbkdfHash, PublicKeyCrypto, SignatureAlgorithm};
use crate::core::{Crypto, Error, ErrorCode, Result, Secret};
use std::fmt;

const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_PBES2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d];
const OID_PBKDF2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0c];
const OID_HMAC_SHA1: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x07];
const OID_HMAC_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x09];
/// aes128-CBC, aes192-CBC, aes256-CBC (2.16.840.1.101.3.4.1.{2,22,42}).
const OID_AES_CBC_PREFIX: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01];

fn config(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidConfig, message.into()).provider("openadr")
}

/// One DER TLV: (tag, content, rest after it).
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        (rest[..count].iter().fold(0usize, |n, b| (n << 8) | usize::from(*b)), &rest[count..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The content of a TLV with the expected tag, and what follows it.
fn expect(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (found, content, rest) = tlv(input)?;
    (found == tag).then_some((content, rest))
}

/// The whole TLV (header included) at the start of `input`.
fn whole(input: &[u8]) -> Option<&[u8]> {
    let (_, _, rest) = tlv(input)?;
    Some(&input[..input.len() - rest.len()])
}

/// The blocks of a PEM file with this label, decoded.
pub fn pem_blocks(text: &str, label: &str) -> Vec<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&begin) {
        let after = &rest[start + begin.len()..];
        let Some(stop) = after.find(&end) else { break };
        let body: String = after[..stop].chars().filter(|c| !c.is_whitespace()).collect();
        if let Ok(der) = STANDARD.decode(&body) {
            blocks.push(der);
        }
        rest = &after[stop + end.len()..];
    }
    blocks
}

fn algorithm_of(algorithm_identifier: &[u8]) -> Option<SignatureAlgorithm> {
    let (oid, params) = expect(algorithm_identifier, 0x06)?;
    if oid == OID_RSA {
        Some(SignatureAlgorithm::RsaSha256)
    } else if oid == OID_EC && expect(params, 0x06).is_some_and(|(curve, _)| curve == OID_P256) {
        Some(SignatureAlgorithm::EcdsaP256Sha256)
    } else {
        None
    }
}

/// An X.509 certificate: its DER (for KeyInfo and the fingerprint) and public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate {
    pub der: Vec<u8>,
    pub spki: Vec<u8>,
    pub algorithm: SignatureAlgorithm,
}

impl Certificate {
    pub fn from_der(der: Vec<u8>) -> Result<Certificate> {
        let parse = || {
            let (cert, _) = expect(&der, 0x30)?;
            let (tbs, _) = expect(cert, 0x30)?;
            let mut fields = tbs;
            if fields.first() == Some(&0xa0) {
                fields = tlv(fields)?.2; // [0] version
            }
            for _ in 0..5 {
                fields = tlv(fields)?.2; // serial, signature, issuer, validity, subject
            }
            let spki = whole(fields)?;
            let (spki_content, _) = expect(spki, 0x30)?;
            let (algorithm, _) = expect(spki_content, 0x30)?;
            Some((spki.to_vec(), algorithm_of(algorithm)))
        };
        let (spki, algorithm) = parse().ok_or_else(|| config("the certificate is not a readable X.509 certificate"))?;
        let algorithm = algorithm.ok_or_else(|| config("the certificate's key is neither RSA nor EC P-256"))?;
        Ok(Certificate { der, spki, algorithm })
    }

    /// The first certificate of a PEM file.
    pub fn from_pem(text: &str) -> Result<Certificate> {
        let der = pem_blocks(text, "CERTIFICATE").into_iter().next().ok_or_else(|| config("no -----BEGIN CERTIFICATE----- block found"))?;
        Certificate::from_der(der)
    }

    /// OpenADR's fingerprint: the last 10 bytes of the SHA-256 of the DER, as `AA:BB:…`.
    pub async fn fingerprint(&self, crypto: &impl Crypto) -> Result<String> {
        Ok(fingerprint_of(&crypto.sha256(&self.der).await?))
    }
}

pub fn fingerprint_of(digest: &[u8; 32]) -> String {
    digest[22..].iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

/// A private key as PKCS#8 DER. Never printed.
#[derive(Clone)]
pub struct PrivateKey {
    pub pkcs8: Vec<u8>,
    pub algorithm: SignatureAlgorithm,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({:?}, [redacted])", self.algorithm)
    }
}

impl PrivateKey {
    fn from_pkcs8(pkcs8: Vec<u8>) -> Result<PrivateKey> {
        let algorithm = (|| {
            let (info, _) = expect(&pkcs8, 0x30)?;
            let (_, rest) = expect(info, 0x02)?;
            let (algorithm, _) = expect(rest, 0x30)?;
            algorithm_of(algorithm)
        })()
        .ok_or_else(|| config("the private key is not an RSA or EC P-256 PKCS#8 key (or the passphrase is wrong)"))?;
        Ok(PrivateKey { pkcs8, algorithm })
    }

    /// Read a PEM key: `PRIVATE KEY`, `RSA PRIVATE KEY` or `ENCRYPTED PRIVATE KEY` (needs the passphrase).
    pub async fn from_pem(text: &str, passphrase: Option<&Secret>, crypto: &impl PublicKeyCrypto) -> Result<PrivateKey> {
        if text.contains("Proc-Type: 4,ENCRYPTED") {
            return Err(config("legacy encrypted PEM keys are not supported; convert with `openssl pkcs8 -topk8 -v2 aes-256-cbc`"));
        }
        if let Some(der) = pem_blocks(text, "PRIVATE KEY").into_iter().next() {
            return PrivateKey::from_pkcs8(der);
        }
        if let Some(der) = pem_blocks(text, "RSA PRIVATE KEY").into_iter().next() {
            return PrivateKey::from_pkcs8(wrap_pkcs1(&der));
        }
        if let Some(der) = pem_blocks(text, "ENCRYPTED PRIVATE KEY").into_iter().next() {
            let passphrase = passphrase.filter(|p| !p.is_empty()).ok_or_else(|| config("the private key is encrypted: give its passphrase"))?;
            let plain = decrypt_pkcs8(&der, passphrase, crypto).await?;
            return PrivateKey::from_pkcs8(plain);
        }
        Err(config("no private key block found (expected -----BEGIN PRIVATE KEY----- or ENCRYPTED PRIVATE KEY)"))
    }
}

fn der_header(tag: u8, len: usize) -> Vec<u8> {
    let mut out = vec![tag];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out
}

/// PKCS#1 RSAPrivateKey → PKCS#8 PrivateKeyInfo (WebCrypto imports only the latter).
fn wrap_pkcs1(pkcs1: &[u8]) -> Vec<u8> {
    let mut body = vec![0x02, 0x01, 0x00, 0x30, 0x0d, 0x06, 0x09];
    body.extend(OID_RSA);
    body.extend([0x05, 0x00]);
    body.extend(der_header(0x04, pkcs1.len()));
    body.extend(pkcs1);
    let mut out = der_header(0x30, body.len());
    out.extend(body);
    out
}

struct Pbes2<'a> {
    salt: &'a [u8],
    iterations: u32,
    hash: PbkdfHash,
    key_len: usize,
    iv: &'a [u8],
    data: &'a [u8],
}

fn read_pbes2(der: &[u8]) -> Option<Result<Pbes2<'_>>> {
    let (info, _) = expect(der, 0x30)?;
    let (algorithm, rest) = expect(info, 0x30)?;
    let (data, _) = expect(rest, 0x04)?;
    let (oid, params) = expect(algorithm, 0x06)?;
    if oid != OID_PBES2 {
        return Some(Err(config("the encrypted key does not use PBES2; re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`")));
    }
    let (params, _) = expect(params, 0x30)?;
    let (kdf, rest) = expect(params, 0x30)?;
    let (scheme, _) = expect(rest, 0x30)?;
    let (kdf_oid, kdf_params) = expect(kdf, 0x06)?;
    if kdf_oid != OID_PBKDF2 {
        return Some(Err(config("the encrypted key does not use PBKDF2")));
    }
    let (kdf_params, _) = expect(kdf_params, 0x30)?;
    let (salt, rest) = expect(kdf_params, 0x04)?;
    let (iterations, mut rest) = expect(rest, 0x02)?;
    let iterations = iterations.iter().try_fold(0u32, |n, b| n.checked_mul(256).map(|n| n | u32::from(*b)))?;
    if let Some((len, after)) = expect(rest, 0x02) {
        let _ = len; // the key length is implied by the cipher
        rest = after;
    }
    let hash = match expect(rest, 0x30) {
        None => PbkdfHash::Sha1,
        Some((prf, _)) => match expect(prf, 0x06)?.0 {
            oid if oid == OID_HMAC_SHA256 => PbkdfHash::Sha256,
            oid if oid == OID_HMAC_SHA1 => PbkdfHash::Sha1,
            _ => return Some(Err(config("the encrypted key uses a PBKDF2 hash other than SHA-1 or SHA-256"))),
        },
    };
    let (cipher, iv) = expect(scheme, 0x06)?;
    let key_len = match cipher.strip_prefix(OID_AES_CBC_PREFIX) {
        Some([2]) => 16,
        Some([22]) => 24,
        Some([42]) => 32,
        _ => return Some(Err(config("the encrypted key uses a cipher other than AES-CBC"))),
    };
    let (iv, _) = expect(iv, 0x04)?;
    Some(Ok(Pbes2 { salt, iterations, hash, key_len, iv, data }))
}

async fn decrypt_pkcs8(der: &[u8], passphrase: &Secret, crypto: &impl PublicKeyCrypto) -> Result<Vec<u8>> {
    let params = read_pbes2(der).ok_or_else(|| config("the encrypted private key is not readable PKCS#8"))??;
    if params.iterations == 0 || params.iterations > 10_000_000 {
        return Err(config("the encrypted private key has an unreasonable PBKDF2 iteration count"));
    }
    let key = crypto.pbkdf2(params.hash, passphrase.expose().as_bytes(), params.salt, params.iterations, params.key_len).await?;
    // A wrong passphrase shows up as bad padding or as garbage that is not PKCS#8.
    crypto
        .aes_cbc_decrypt(&key, params.iv, params.data)
        .await
        .map_err(|_| Error::new(ErrorCode::InvalidCredentials, "the private key passphrase is wrong").provider("openadr"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths_round_trip() {
        for len in [0usize, 5, 127, 128, 255, 256, 70_000] {
            let mut encoded = der_header(0x04, len);
            encoded.extend(vec![7u8; len]);
            let (tag, content, rest) = tlv(&encoded).unwrap();
            assert_eq!((tag, content.len(), rest.len()), (0x04, len, 0));
        }
        assert!(tlv(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_none());
        assert!(tlv(&[0x30, 0x05, 1]).is_none());
    }

    #[test]
    fn fingerprint_is_the_last_ten_bytes_in_upper_hex() {
        let digest: [u8; 32] = std::array::from_fn(|i| i as u8 * 7);
        assert_eq!(fingerprint_of(&digest), "9A:A1:A8:AF:B6:BD:C4:CB:D2:D9");
    }

    #[test]
    fn garbage_is_a_config_error_not_a_panic() {
        assert_eq!(Certificate::from_der(vec![0x30, 0x03, 0x30, 0x01]).unwrap_err().code, ErrorCode::InvalidConfig);
        assert!(Certificate::from_pem("nothing here").is_err());
        assert!(PrivateKey::from_pkcs8(vec![1, 2, 3]).is_err());
    }
}
