//! Hashing and randomness. SHA-256 is a seam because in WASM it is WebCrypto's
//! `crypto.subtle.digest` (no bundle cost), and in native tests RustCrypto's sha2.

use super::error::{Error, ErrorCode, Result};

#[allow(async_fn_in_trait)]
pub trait Crypto {
    async fn sha256(&self, data: &[u8]) -> Result<[u8; 32]>;
}

/// The signature algorithms OpenADR 2.0b uses in XML-DSig.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RsaSha256,
    /// ECDSA on P-256 with SHA-256, signature as raw r‖s (64 bytes), as XML-DSig wants.
    EcdsaP256Sha256,
}

/// The PRF of PBKDF2 in an encrypted PKCS#8 key (PBES2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PbkdfHash {
    Sha1,
    Sha256,
}

/// Public-key signatures and password-based key decryption: WebCrypto in WASM
/// (nothing shipped in the bundle), RustCrypto in native tests.
#[allow(async_fn_in_trait)]
pub trait PublicKeyCrypto: Crypto {
    /// Sign `data` with a PKCS#8 (DER) private key.
    async fn sign(&self, algorithm: SignatureAlgorithm, pkcs8_der: &[u8], data: &[u8]) -> Result<Vec<u8>>;
    /// Check a signature against a SubjectPublicKeyInfo (DER); `Ok(false)` when it does not match.
    async fn verify(&self, algorithm: SignatureAlgorithm, spki_der: &[u8], data: &[u8], signature: &[u8]) -> Result<bool>;
    async fn pbkdf2(&self, hash: PbkdfHash, password: &[u8], salt: &[u8], iterations: u32, length: usize) -> Result<Vec<u8>>;
    /// AES-CBC decryption (128, 192 or 256-bit key) removing the PKCS#7 padding.
    async fn aes_cbc_decrypt(&self, key: &[u8], iv: &[u8], data: &[u8]) -> Result<Vec<u8>>;
}

/// `len` random bytes from the platform's secure source (crypto.getRandomValues in WASM).
pub fn random_bytes(len: usize) -> Result<Vec<u8>> {
    let mut bytes = vec![0u8; len];
    // getrandom's error Display drags in every OS error text (~2 KB of wasm): a fixed message will do.
    getrandom::getrandom(&mut bytes)
        .map_err(|_| Error::new(ErrorCode::Storage, "no secure random source is available"))?;
    Ok(bytes)
}

/// A random number in [0, 1], for jitter (not for secrets).
pub fn random_fraction() -> Result<f64> {
    let bytes = random_bytes(2)?;
    Ok(f64::from(u16::from_le_bytes([bytes[0], bytes[1]])) / 65_535.0)
}

/// base64url without padding (RFC 4648 §5), as PKCE and `state` values want.
/// Twelve lines here instead of a crate: it is all we need and the wasm budget is tight.
pub fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// Standard base64 with padding (RFC 4648 §4), as XML-DSig values are written.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            out.push(if i <= chunk.len() { ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

/// The inverse of [`base64url`]; padding is tolerated, anything else off the
/// alphabet gives `None`.
pub fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut bits, mut count) = (0u32, 0u32);
    for byte in text.trim_end_matches('=').bytes() {
        let sextet = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(sextet);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    Some(out)
}

/// A random URL-safe token with `bytes` bytes of entropy.
pub fn random_token(bytes: usize) -> Result<String> {
    Ok(base64url(&random_bytes(bytes)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_rfc_4648_vectors_without_padding() {
        for (input, expected) in [("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy")] {
            assert_eq!(base64url(input.as_bytes()), expected);
        }
        assert_eq!(base64url(&[0xfb, 0xff, 0xbf]), "-_-_");
        for input in ["", "f", "fo", "foo", "foob", "fooba", "foobar"] {
            assert_eq!(base64url_decode(&base64url(input.as_bytes())).unwrap(), input.as_bytes());
        }
        assert_eq!(base64url_decode("Zm8=").unwrap(), b"fo");
        assert_eq!(base64url_decode("Zm 8"), None);
        for (input, expected) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg==")] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
        assert_eq!(base64(&[0xfb, 0xff, 0xbf]), "+/+/");
        assert_eq!(base64url_decode(&base64(&[0xfb, 0xff, 0xbf, 1])).unwrap(), [0xfb, 0xff, 0xbf, 1]);
    }

    #[test]
    fn random_tokens_differ_and_are_url_safe() {
        let (a, b) = (random_token(32).unwrap(), random_token(32).unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }
}
