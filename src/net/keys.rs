//! RSA key pairs of local actors (made the first time they are needed) and
//! caches of parsed keys, so that signing and verifying do not parse PEM on
//! every request.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use diesel::prelude::*;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;

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

pub fn generate() -> AppResult<KeyPair> {
    let key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048).map_err(AppError::internal)?;
    let private_pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(AppError::internal)?
        .to_string();
    let public_pem = key
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(AppError::internal)?;
    Ok(KeyPair {
        public_pem,
        private_pem,
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

type SignerCache = Mutex<HashMap<String, Arc<SigningKey<Sha256>>>>;
type VerifierCache = Mutex<HashMap<String, Arc<VerifyingKey<Sha256>>>>;
static SIGNERS: LazyLock<SignerCache> = LazyLock::new(Default::default);
static VERIFIERS: LazyLock<VerifierCache> = LazyLock::new(Default::default);
const CACHE_MAX: usize = 10_000;

fn signer(private_pem: &str) -> AppResult<Arc<SigningKey<Sha256>>> {
    if let Some(k) = SIGNERS.lock().map_err(AppError::internal)?.get(private_pem) {
        return Ok(k.clone());
    }
    let key = RsaPrivateKey::from_pkcs8_pem(private_pem).map_err(AppError::internal)?;
    let k = Arc::new(SigningKey::<Sha256>::new(key));
    let mut cache = SIGNERS.lock().map_err(AppError::internal)?;
    if cache.len() >= CACHE_MAX {
        cache.clear();
    }
    cache.insert(private_pem.to_string(), k.clone());
    Ok(k)
}

/// Parses a public key in SPKI (`PUBLIC KEY`) or PKCS#1 (`RSA PUBLIC KEY`) PEM.
fn verifier(public_pem: &str) -> Option<Arc<VerifyingKey<Sha256>>> {
    if let Some(k) = VERIFIERS.lock().ok()?.get(public_pem) {
        return Some(k.clone());
    }
    let key = RsaPublicKey::from_public_key_pem(public_pem.trim())
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(public_pem.trim()))
        .ok()?;
    let k = Arc::new(VerifyingKey::<Sha256>::new(key));
    if let Ok(mut cache) = VERIFIERS.lock() {
        if cache.len() >= CACHE_MAX {
            cache.clear();
        }
        cache.insert(public_pem.to_string(), k.clone());
    }
    Some(k)
}

/// RSASSA-PKCS1-v1_5 with SHA-256 over `data`.
pub fn sign(private_pem: &str, data: &[u8]) -> AppResult<Vec<u8>> {
    Ok(signer(private_pem)?.sign(data).to_vec())
}

/// Whether `signature` is a valid RSA-SHA256 signature of `data` by `public_pem`.
pub fn verify(public_pem: &str, data: &[u8], signature: &[u8]) -> bool {
    let Some(key) = verifier(public_pem) else {
        return false;
    };
    let Ok(sig) = Signature::try_from(signature) else {
        return false;
    };
    key.verify(data, &sig).is_ok()
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
}
