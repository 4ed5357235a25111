//! Hashing and randomness. SHA-256 is a seam because in WASM it is WebCrypto's
//! `crypto.subtle.digest` (no bundle cost), and in native tests RustCrypto's sha2.

use super::error::{Error, ErrorCode, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

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
    // getrandom's own message names OS error codes, which say nothing to a person.
    getrandom::getrandom(&mut bytes)
        .map_err(|_| Error::new(ErrorCode::Storage, "no secure random source is available"))?;
    Ok(bytes)
}

/// A random number in [0, 1], for jitter (not for secrets).
pub fn random_fraction() -> Result<f64> {
    let bytes = random_bytes(2)?;
    Ok(f64::from(u16::from_le_bytes([bytes[0], bytes[1]])) / 65_535.0)
}

/// A random URL-safe token with `bytes` bytes of entropy.
pub fn random_token(bytes: usize) -> Result<String> {
    // base64url without padding (RFC 4648 §5), as PKCE verifiers and `state` values want.
    Ok(URL_SAFE_NO_PAD.encode(random_bytes(bytes)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_tokens_differ_and_are_url_safe() {
        let (a, b) = (random_token(32).unwrap(), random_token(32).unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }
}
