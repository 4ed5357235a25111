//! Seeds made at run time for the targets that read private keys (`pem-der`,
//! `pbes2`): throw-away RSA and P-256 keys drawn from a fixed seed, so that no
//! key is committed and a run stays repeatable from `--seed`.

use crate::support::{certificate, der, pem};
use p256::pkcs8::{EncodePrivateKey, EncodePublicKey};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rsa::pkcs1::EncodeRsaPrivateKey;

const PBES2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d];
const PBKDF2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0c];
const SCRYPT: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x04, 0x0b];
const HMAC_SHA1: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x07];
const HMAC_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x09];
const AES_128_CBC: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x02];
const AES_192_CBC: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x16];
const AES_256_CBC: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a];

/// A key as the parsers meet it: PKCS#8, its public key, and PKCS#1 for RSA.
struct Key {
    pkcs8: Vec<u8>,
    spki: Vec<u8>,
    pkcs1: Option<Vec<u8>>,
}

fn keys() -> Vec<Key> {
    let mut rng = StdRng::seed_from_u64(0x7761_7474_6272_6964);
    // 1024 bits: the size does not matter to the parsers, and it is quick to make.
    let rsa = rsa::RsaPrivateKey::new(&mut rng, 1024).expect("an RSA test key");
    let ec = p256::SecretKey::random(&mut rng);
    vec![
        Key {
            pkcs8: rsa.to_pkcs8_der().expect("RSA PKCS#8").as_bytes().to_vec(),
            spki: rsa.to_public_key().to_public_key_der().expect("RSA SPKI").as_bytes().to_vec(),
            pkcs1: Some(rsa.to_pkcs1_der().expect("RSA PKCS#1").as_bytes().to_vec()),
        },
        Key {
            pkcs8: ec.to_pkcs8_der().expect("EC PKCS#8").as_bytes().to_vec(),
            spki: ec.public_key().to_public_key_der().expect("EC SPKI").as_bytes().to_vec(),
            pkcs1: None,
        },
    ]
}

/// The seeds a target gets besides its files in fuzz/corpus/.
pub fn generated(target: &str) -> Vec<Vec<u8>> {
    match target {
        "pem-der" => keys().into_iter().flat_map(pem_der).collect(),
        "pbes2" => keys().iter().flat_map(|key| pbes2(&key.pkcs8)).collect(),
        _ => Vec::new(),
    }
}

/// The key as DER (PKCS#8, PKCS#1) and as PEM text beside its certificate.
fn pem_der(key: Key) -> Vec<Vec<u8>> {
    let text = format!("{}{}", pem("CERTIFICATE", &certificate(&key.spki)), pem("PRIVATE KEY", &key.pkcs8));
    [Some(key.pkcs8), key.pkcs1, Some(text.into_bytes())].into_iter().flatten().collect()
}

/// EncryptedPrivateKeyInfo around the key in the shapes keys come in: PBKDF2
/// with and without a PRF and a key length, and scrypt as OpenSSL 3 writes it.
/// The "ciphertext" is the padded key itself: the harness's AES is the identity.
fn pbes2(pkcs8: &[u8]) -> Vec<Vec<u8>> {
    let salt = der(0x04, b"saltsalt");
    let iterations = der(0x02, &[0x08, 0x00]);
    let prf = |oid: &[u8]| der(0x30, &[der(0x06, oid), der(0x05, &[])].concat());
    let pbkdf2 = |params: Vec<Vec<u8>>| der(0x30, &[der(0x06, PBKDF2), der(0x30, &params.concat())].concat());
    let scrypt = der(0x30, &[der(0x06, SCRYPT), der(0x30, &[der(0x04, &[0x08; 16]), der(0x02, &[0x02, 0x00, 0x00]), der(0x02, &[8]), der(0x02, &[1])].concat())].concat());
    let shapes = [
        (pbkdf2(vec![salt.clone(), iterations.clone()]), AES_192_CBC),
        (pbkdf2(vec![salt.clone(), iterations.clone(), der(0x02, &[16]), prf(HMAC_SHA1)]), AES_128_CBC),
        (pbkdf2(vec![salt, iterations, prf(HMAC_SHA256)]), AES_256_CBC),
        (scrypt, AES_256_CBC),
    ];
    let pad = 16 - pkcs8.len() % 16;
    let data = [pkcs8, &vec![pad as u8; pad]].concat();
    shapes
        .into_iter()
        .map(|(kdf, cipher)| {
            let scheme = der(0x30, &[der(0x06, cipher), der(0x04, b"0123456789abcdef")].concat());
            let algorithm = der(0x30, &[der(0x06, PBES2), der(0x30, &[kdf, scheme].concat())].concat());
            der(0x30, &[algorithm, der(0x04, &data)].concat())
        })
        .collect()
}
