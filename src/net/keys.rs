//! RSA key pairs of local actors (made the first time they are needed) and
//! caches of parsed keys, so that signing and verifying do not parse PEM on
//! every request.
//!
//! The cryptography is `aws-lc-rs` (the provider rustls already uses here):
//! constant-time RSA, several times faster than RustCrypto's `rsa` 0.9,
//! which carries the Marvin timing advisory (RUSTSEC-2023-0071) with no fix
//! in that line. That crate is still in `Cargo.lock`, because
//! `activitypub_federation` depends on it unconditionally, but no code of
//! Ruche calls it: every signature is made and checked here. Signing takes
//! about a millisecond: async callers use [`sign_blocking`] and
//! [`verify_blocking`], which run on tokio's blocking threads, so that the
//! async workers keep serving requests.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{
    KeyPair as _, ParsedPublicKey, VerificationAlgorithm, ED25519, RSA_PKCS1_2048_8192_SHA256,
    RSA_PKCS1_SHA256, RSA_PSS_2048_8192_SHA512,
};
use diesel::prelude::*;
use pem_rfc7468::LineEnding;

use crate::db;
use crate::db::schema::{settings, users};
use crate::db::DbConn;
use crate::error::{AppError, AppResult};

/// A PEM key pair.
#[derive(Clone)]
pub struct KeyPair {
    pub public_pem: String,
    pub private_pem: String,
}

/// A new 2048-bit RSA key pair: PKCS#8 private key, SubjectPublicKeyInfo
/// public key, both in PEM.
pub fn generate() -> AppResult<KeyPair> {
    let key = RsaKeyPair::generate(KeySize::Rsa2048).map_err(AppError::internal)?;
    let private: Pkcs8V1Der = key.as_der().map_err(AppError::internal)?;
    let public: PublicKeyX509Der = key.public_key().as_der().map_err(AppError::internal)?;
    let pem = |label, der: &[u8]| {
        pem_rfc7468::encode_string(label, LineEnding::LF, der).map_err(AppError::internal)
    };
    Ok(KeyPair {
        public_pem: pem("PUBLIC KEY", public.as_ref())?,
        private_pem: pem("PRIVATE KEY", private.as_ref())?,
    })
}

/// The key pair of a local person, made and stored on first use.
pub fn user_keys(conn: &mut DbConn, user_id: i64) -> AppResult<KeyPair> {
    let (public_pem, private_pem): (String, String) = users::table
        .find(user_id)
        .select((users::public_key, users::private_key))
        .first(conn)?;
    if !private_pem.is_empty() {
        return Ok(KeyPair {
            public_pem,
            private_pem,
        });
    }
    let fresh = generate()?;
    // Two requests may race to make the pair: the first one stored wins.
    db::write(conn, |c| {
        diesel::update(users::table.find(user_id).filter(users::private_key.eq("")))
            .set((
                users::public_key.eq(&fresh.public_pem),
                users::private_key.eq(&fresh.private_pem),
            ))
            .execute(c)
    })?;
    let (public_pem, private_pem): (String, String) = users::table
        .find(user_id)
        .select((users::public_key, users::private_key))
        .first(conn)?;
    Ok(KeyPair {
        public_pem,
        private_pem,
    })
}

/// The key pair of the instance actor (signs fetches), made on first use.
pub fn instance_keys(conn: &mut DbConn) -> AppResult<KeyPair> {
    let read = |conn: &mut DbConn| -> AppResult<Option<KeyPair>> {
        let rows: Vec<(String, String)> = settings::table
            .filter(settings::name.eq_any(["instance_public_key", "instance_private_key"]))
            .select((settings::name, settings::value))
            .load(conn)?;
        let get = |n: &str| rows.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        Ok(
            match (get("instance_public_key"), get("instance_private_key")) {
                (Some(public_pem), Some(private_pem)) => Some(KeyPair {
                    public_pem,
                    private_pem,
                }),
                _ => None,
            },
        )
    };
    if let Some(k) = read(conn)? {
        return Ok(k);
    }
    let fresh = generate()?;
    db::write(conn, |c| {
        let n: i64 = settings::table
            .filter(settings::name.eq("instance_private_key"))
            .count()
            .get_result(c)?;
        if n == 0 {
            for (name, value) in [
                ("instance_public_key", &fresh.public_pem),
                ("instance_private_key", &fresh.private_pem),
            ] {
                diesel::insert_into(settings::table)
                    .values((settings::name.eq(name), settings::value.eq(value)))
                    .execute(c)?;
            }
        }
        Ok::<_, AppError>(())
    })?;
    read(conn)?.ok_or_else(|| AppError::internal("instance key missing after creation"))
}

/// How a received signature was made. Draft-cavage signatures are
/// `RsaSha256`; RFC 9421 names its algorithm, or leaves it to the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (`rsa-sha256`, `rsa-v1_5-sha256`).
    RsaSha256,
    /// RSASSA-PSS with SHA-512 (`rsa-pss-sha512`).
    RsaPssSha512,
    /// Ed25519 (`ed25519`).
    Ed25519,
    /// Not named: RSA-SHA256 for an RSA key, Ed25519 for an Ed25519 key.
    FromKey,
}

impl Algorithm {
    fn candidates(self) -> &'static [&'static dyn VerificationAlgorithm] {
        match self {
            Algorithm::RsaSha256 => &[&RSA_PKCS1_2048_8192_SHA256],
            Algorithm::RsaPssSha512 => &[&RSA_PSS_2048_8192_SHA512],
            Algorithm::Ed25519 => &[&ED25519],
            Algorithm::FromKey => &[&RSA_PKCS1_2048_8192_SHA256, &ED25519],
        }
    }
}

type SignerCache = Mutex<HashMap<String, Arc<RsaKeyPair>>>;
type VerifierCache = Mutex<HashMap<(Algorithm, String), Arc<ParsedPublicKey>>>;
static SIGNERS: LazyLock<SignerCache> = LazyLock::new(Default::default);
static VERIFIERS: LazyLock<VerifierCache> = LazyLock::new(Default::default);
const CACHE_MAX: usize = 10_000;

/// Parses a private key in PKCS#8 (`PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE
/// KEY`) PEM, once.
fn signer(private_pem: &str) -> AppResult<Arc<RsaKeyPair>> {
    if let Some(k) = SIGNERS.lock().map_err(AppError::internal)?.get(private_pem) {
        return Ok(k.clone());
    }
    let (label, der) =
        pem_rfc7468::decode_vec(private_pem.trim().as_bytes()).map_err(AppError::internal)?;
    let key = match label {
        "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der),
        _ => RsaKeyPair::from_pkcs8(&der),
    }
    .map_err(AppError::internal)?;
    let k = Arc::new(key);
    let mut cache = SIGNERS.lock().map_err(AppError::internal)?;
    if cache.len() >= CACHE_MAX {
        cache.clear();
    }
    cache.insert(private_pem.to_string(), k.clone());
    Ok(k)
}

/// Parses a public key in SPKI (`PUBLIC KEY`) or PKCS#1 (`RSA PUBLIC KEY`)
/// PEM for `algorithm`, once. RSA keys under 2048 or over 8192 bits are
/// refused.
fn verifier(public_pem: &str, algorithm: Algorithm) -> Option<Arc<ParsedPublicKey>> {
    let key = (algorithm, public_pem.to_string());
    if let Some(k) = VERIFIERS.lock().ok()?.get(&key) {
        return Some(k.clone());
    }
    let (_, der) = pem_rfc7468::decode_vec(public_pem.trim().as_bytes()).ok()?;
    let parsed = algorithm
        .candidates()
        .iter()
        .find_map(|alg| ParsedPublicKey::new(*alg, &der).ok())?;
    let k = Arc::new(parsed);
    if let Ok(mut cache) = VERIFIERS.lock() {
        if cache.len() >= CACHE_MAX {
            cache.clear();
        }
        cache.insert(key, k.clone());
    }
    Some(k)
}

/// RSASSA-PKCS1-v1_5 with SHA-256 over `data`.
pub fn sign(private_pem: &str, data: &[u8]) -> AppResult<Vec<u8>> {
    let key = signer(private_pem)?;
    let mut out = vec![0; key.public_modulus_len()];
    key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), data, &mut out)
        .map_err(AppError::internal)?;
    Ok(out)
}

/// Whether `signature` is a valid RSA-SHA256 signature of `data` by `public_pem`.
pub fn verify(public_pem: &str, data: &[u8], signature: &[u8]) -> bool {
    verify_with(public_pem, Algorithm::RsaSha256, data, signature)
}

/// Whether `signature` is a valid signature of `data` by `public_pem` with
/// `algorithm`.
pub fn verify_with(public_pem: &str, algorithm: Algorithm, data: &[u8], signature: &[u8]) -> bool {
    verifier(public_pem, algorithm).is_some_and(|k| k.verify_sig(data, signature).is_ok())
}

/// [`sign`] on a blocking thread.
pub async fn sign_blocking(private_pem: String, data: String) -> AppResult<Vec<u8>> {
    tokio::task::spawn_blocking(move || sign(&private_pem, data.as_bytes()))
        .await
        .map_err(AppError::internal)?
}

/// [`verify_with`] on a blocking thread.
pub async fn verify_blocking(
    public_pem: String,
    algorithm: Algorithm,
    data: String,
    signature: Vec<u8>,
) -> bool {
    tokio::task::spawn_blocking(move || {
        verify_with(&public_pem, algorithm, data.as_bytes(), &signature)
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_then_verify_and_tampering_fails() {
        let k = generate().unwrap();
        let sig = sign(&k.private_pem, b"hello").unwrap();
        assert!(verify(&k.public_pem, b"hello", &sig));
        assert!(!verify(&k.public_pem, b"hellO", &sig));
        let other = generate().unwrap();
        assert!(!verify(&other.public_pem, b"hello", &sig));
        assert!(!verify("not a key", b"hello", &sig));
    }

    /// Keys made by other software: PKCS#1 PEM, as some servers publish
    /// them, and a PKCS#1 private key.
    #[test]
    fn pkcs1_keys_are_read() {
        let k = generate().unwrap();
        let (_, spki) = pem_rfc7468::decode_vec(k.public_pem.as_bytes()).unwrap();
        let public = aws_lc_rs::rsa::PublicKey::from_der(&spki).unwrap();
        let pkcs1 =
            pem_rfc7468::encode_string("RSA PUBLIC KEY", LineEnding::LF, public.as_ref()).unwrap();
        let sig = sign(&k.private_pem, b"hello").unwrap();
        assert!(verify(&pkcs1, b"hello", &sig));
    }
}
