//! A software passkey for tests that drive the site without a browser: an
//! authenticator as WebAuthn describes one (a P-256 key made here, CBOR
//! attestation "none", ES256 assertions signed with aws-lc-rs), answering
//! the options the site gives with what a browser would send back. It lets
//! tests forge, replay and tamper, which a real browser will not.

use aws_lc_rs::digest::{digest, SHA256};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{Browser, Resp};

/// Adds a passkey with `key` from the settings of the account signed in on
/// `b` (`password` empty for an account without one of this site): the
/// answer of the last step.
pub async fn add_on_page(b: &Browser, key: &mut SoftPasskey, password: &str, name: &str) -> Resp {
    let csrf = b.csrf("/settings").await;
    let ch = b
        .post_json(
            "/settings/passkeys/options",
            json!({"csrf": csrf, "password": password}),
        )
        .await;
    assert_eq!(ch.status, StatusCode::OK, "{}", ch.json);
    let credential = key.create(&ch.json["options"]);
    b.post_json(
        "/settings/passkeys",
        json!({"csrf": csrf, "ceremony": ch.json["ceremony"], "name": name, "credential": credential}),
    )
    .await
}

/// Signs in with `key` alone on the sign-in page of a new browser at
/// `base`: the answer.
pub async fn sign_in_on_page(base: &str, key: &mut SoftPasskey) -> Resp {
    let b = Browser::new(base);
    let csrf = b.csrf("/login").await;
    let ch = b
        .post_json("/login/passkey/options", json!({"csrf": csrf}))
        .await;
    let answer = key.get(&ch.json["options"]);
    b.post_json(
        "/login/passkey",
        json!({"csrf": csrf, "ceremony": ch.json["ceremony"], "credential": answer}),
    )
    .await
}

pub struct SoftPasskey {
    pair: EcdsaKeyPair,
    pub id: Vec<u8>,
    /// The account's handle, kept from the creation options.
    pub user_handle: Vec<u8>,
    pub counter: u32,
    /// The page's origin the browser would write in its client data.
    pub origin: String,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .expect("base64url")
}

/// A CBOR item head (RFC 8949): major type and length or value.
fn head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=0xff => out.extend([m | 24, n as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend((n as u16).to_be_bytes());
        }
        _ => {
            out.push(m | 26);
            out.extend((n as u32).to_be_bytes());
        }
    }
}

fn int(out: &mut Vec<u8>, v: i64) {
    if v >= 0 {
        head(out, 0, v as u64);
    } else {
        head(out, 1, (-1 - v) as u64);
    }
}

fn bytes(out: &mut Vec<u8>, b: &[u8]) {
    head(out, 2, b.len() as u64);
    out.extend_from_slice(b);
}

fn text(out: &mut Vec<u8>, t: &str) {
    head(out, 3, t.len() as u64);
    out.extend_from_slice(t.as_bytes());
}

impl SoftPasskey {
    pub fn new(origin: &str) -> SoftPasskey {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).unwrap();
        let mut id = vec![0u8; 32];
        aws_lc_rs::rand::fill(&mut id).unwrap();
        SoftPasskey {
            pair,
            id,
            user_handle: Vec::new(),
            counter: 0,
            origin: origin.trim_end_matches('/').to_string(),
        }
    }

    fn rp_hash(&self, options: &Value) -> Vec<u8> {
        let rp = options["rpId"]
            .as_str()
            .or(options["rp"]["id"].as_str())
            .expect("rp id in the options");
        digest(&SHA256, rp.as_bytes()).as_ref().to_vec()
    }

    fn client_data(&self, kind: &str, options: &Value) -> Vec<u8> {
        json!({
            "type": kind,
            "challenge": options["challenge"].as_str().expect("challenge"),
            "origin": self.origin,
            "crossOrigin": false,
        })
        .to_string()
        .into_bytes()
    }

    /// The COSE key (EC2, ES256, P-256) of the public key.
    fn cose_key(&self) -> Vec<u8> {
        let public = self.pair.public_key().as_ref();
        assert_eq!(public.len(), 65, "uncompressed point");
        let mut out = Vec::new();
        head(&mut out, 5, 5);
        int(&mut out, 1);
        int(&mut out, 2);
        int(&mut out, 3);
        int(&mut out, -7);
        int(&mut out, -1);
        int(&mut out, 1);
        int(&mut out, -2);
        bytes(&mut out, &public[1..33]);
        int(&mut out, -3);
        bytes(&mut out, &public[33..65]);
        out
    }

    /// Answers creation options (`navigator.credentials.create`): the
    /// credential as the page's script posts it.
    pub fn create(&mut self, options: &Value) -> Value {
        self.user_handle = unb64(options["user"]["id"].as_str().expect("user id"));
        let client_data = self.client_data("webauthn.create", options);
        let mut auth = self.rp_hash(options);
        // User present and verified, attested credential data follows.
        auth.push(0x01 | 0x04 | 0x40);
        auth.extend(self.counter.to_be_bytes());
        auth.extend([0u8; 16]);
        auth.extend((self.id.len() as u16).to_be_bytes());
        auth.extend(&self.id);
        auth.extend(self.cose_key());
        let mut attestation = Vec::new();
        head(&mut attestation, 5, 3);
        text(&mut attestation, "fmt");
        text(&mut attestation, "none");
        text(&mut attestation, "attStmt");
        head(&mut attestation, 5, 0);
        text(&mut attestation, "authData");
        bytes(&mut attestation, &auth);
        json!({
            "id": b64(&self.id),
            "rawId": b64(&self.id),
            "type": "public-key",
            "response": {
                "attestationObject": b64(&attestation),
                "clientDataJSON": b64(&client_data),
                "transports": ["internal"],
            },
            "extensions": {},
        })
    }

    /// Answers request options (`navigator.credentials.get`): the
    /// assertion as the page's script posts it, the counter one higher.
    pub fn get(&mut self, options: &Value) -> Value {
        self.counter += 1;
        let client_data = self.client_data("webauthn.get", options);
        let mut auth = self.rp_hash(options);
        auth.push(0x01 | 0x04);
        auth.extend(self.counter.to_be_bytes());
        let mut signed = auth.clone();
        signed.extend(digest(&SHA256, &client_data).as_ref());
        let signature = self.pair.sign(&SystemRandom::new(), &signed).unwrap();
        json!({
            "id": b64(&self.id),
            "rawId": b64(&self.id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth),
                "clientDataJSON": b64(&client_data),
                "signature": b64(signature.as_ref()),
                "userHandle": b64(&self.user_handle),
            },
            "extensions": {},
        })
    }
}
