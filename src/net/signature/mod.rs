//! HTTP Signatures: draft-cavage-http-signatures-12 (as Mastodon,
//! GoToSocial and Lemmy use them) with RSA-SHA256 and the SHA-256 `Digest`
//! header, and RFC 9421 HTTP Message Signatures ([`rfc9421`]), which
//! servers built on Fedify send first. A request is read with the scheme it
//! was signed with; Ruche signs with draft-cavage, and with RFC 9421 for
//! the instances known to accept it (see [`crate::net::schemes`]).

pub mod rfc9421;

use axum::http::{HeaderMap, Method};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};

use crate::error::{AppError, AppResult};
use crate::net::keys::Algorithm;

/// `SHA-256=<base64>` of a body.
pub fn digest(body: &[u8]) -> String {
    format!("SHA-256={}", B64.encode(Sha256::digest(body)))
}

/// An HTTP date (RFC 7231 IMF-fixdate).
pub fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// The draft-cavage rules, built with `http-signature-normalization`: the
/// `Date` header instead of `(created)`/`(expires)` (as Mastodon signs and
/// reads), `(request-target)` and `host` always covered, `digest` too when
/// there is a body. The same configuration builds what Ruche signs and
/// checks what it receives, so both sides require the same components.
fn cavage_config(with_body: bool, max_skew_secs: i64) -> http_signature_normalization::Config {
    let config = http_signature_normalization::Config::new()
        .mastodon_compat()
        .require_header("(request-target)")
        .set_expiration(std::time::Duration::from_secs(max_skew_secs.max(0) as u64));
    if with_body {
        config.require_digest()
    } else {
        config
    }
}

/// What a request's signature covers: the headers to add (`host` is left
/// to the client), the string to sign, and what builds the header once
/// the signature is made (the crate hands out the string to sign only
/// inside `sign`, and Ruche signs on a blocking thread in between).
struct Unsigned {
    headers: Vec<(&'static str, String)>,
    signing_string: String,
    method: String,
    path_and_query: String,
    covered: std::collections::BTreeMap<String, String>,
    with_body: bool,
}

fn unsigned(method: &Method, path_and_query: &str, host: &str, body: Option<&[u8]>) -> Unsigned {
    let mut headers: Vec<(&'static str, String)> = vec![("date", http_date(Utc::now()))];
    if let Some(b) = body {
        headers.push(("digest", digest(b)));
        headers.push(("content-type", super::AP_TYPE.to_string()));
    }
    let mut covered: std::collections::BTreeMap<String, String> = headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.clone()))
        .collect();
    covered.insert("host".into(), host.to_string());
    let mut u = Unsigned {
        headers,
        signing_string: String::new(),
        method: method.as_str().to_string(),
        path_and_query: path_and_query.to_string(),
        covered,
        with_body: body.is_some(),
    };
    let mut text = String::new();
    let _ = u.start().sign(String::new(), |s| {
        text = s.to_string();
        Ok::<_, std::convert::Infallible>(String::new())
    });
    u.signing_string = text;
    u
}

impl Unsigned {
    fn start(&self) -> http_signature_normalization::create::Unsigned {
        cavage_config(self.with_body, 0)
            .begin_sign(&self.method, &self.path_and_query, self.covered.clone())
            // `covered` holds every required header: built in `unsigned`.
            .expect("the signed headers include every required one")
    }

    fn finish(mut self, key_id: &str, signature: &[u8]) -> Vec<(&'static str, String)> {
        let encoded = B64.encode(signature);
        let value = match self.start().sign(key_id.to_string(), |_| {
            Ok::<_, std::convert::Infallible>(encoded)
        }) {
            Ok(signed) => signed.signature_header(),
            Err(never) => match never {},
        };
        self.headers.push(("signature", value));
        self.headers
    }
}

/// The headers to add to a request, signed by `key_id`: `Date`, `Digest` (with
/// a body) and `Signature`.
pub fn sign(
    method: &Method,
    path_and_query: &str,
    host: &str,
    body: Option<&[u8]>,
    key_id: &str,
    private_pem: &str,
) -> AppResult<Vec<(&'static str, String)>> {
    let u = unsigned(method, path_and_query, host, body);
    let signature = crate::net::keys::sign(private_pem, u.signing_string.as_bytes())?;
    Ok(u.finish(key_id, &signature))
}

/// [`sign`] with the RSA operation on a blocking thread, for async callers.
pub async fn sign_async(
    method: &Method,
    path_and_query: &str,
    host: &str,
    body: Option<&[u8]>,
    key_id: &str,
    private_pem: &str,
) -> AppResult<Vec<(&'static str, String)>> {
    let mut u = unsigned(method, path_and_query, host, body);
    let text = std::mem::take(&mut u.signing_string);
    let signature = crate::net::keys::sign_blocking(private_pem.to_string(), text).await?;
    Ok(u.finish(key_id, &signature))
}

/// A parsed signature with the string (or RFC 9421 signature base) it
/// claims to sign.
#[derive(Debug)]
pub struct Signed {
    pub key_id: String,
    pub signing_string: String,
    pub signature: Vec<u8>,
    pub algorithm: Algorithm,
    /// Signed with RFC 9421 (else draft-cavage).
    pub rfc9421: bool,
}

fn unauthorized(code: &'static str) -> AppError {
    AppError::unauthorized(code)
}

/// Checks the form of a request's signature, RFC 9421 when it has a
/// `Signature-Input` header, draft-cavage otherwise: required components
/// covered, date within `max_skew_secs` both ways, digest matching the
/// body. `scheme` (`http` or `https`) is how this instance is reached. The
/// caller then checks [`Signed::signature`] against the key of
/// [`Signed::key_id`].
pub fn parse_request(
    method: &Method,
    scheme: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: Option<&[u8]>,
    max_skew_secs: i64,
) -> AppResult<Signed> {
    if headers.contains_key("signature-input") {
        let req = rfc9421::Request {
            method,
            scheme,
            path_and_query,
            headers,
            body,
        };
        return rfc9421::parse(&req, max_skew_secs, Utc::now().timestamp());
    }
    parse_cavage(method, path_and_query, headers, body, max_skew_secs)
}

fn parse_cavage(
    method: &Method,
    path_and_query: &str,
    headers: &HeaderMap,
    body: Option<&[u8]>,
    max_skew_secs: i64,
) -> AppResult<Signed> {
    use http_signature_normalization::verify::{Algorithm as Named, DeprecatedAlgorithm};
    use http_signature_normalization::PrepareVerifyError as E;
    // The crate reads `Authorization` before `Signature`: an `Authorization`
    // that is not a signature (a bearer token) is left out.
    let mut covered = std::collections::BTreeMap::new();
    for name in headers.keys() {
        let values: Vec<&str> = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if values.is_empty()
            || (name == axum::http::header::AUTHORIZATION && !values[0].starts_with("Signature "))
        {
            continue;
        }
        covered.insert(name.as_str().to_string(), values.join(", "));
    }
    let raw = covered
        .get("authorization")
        .or_else(|| covered.get("signature"))
        .ok_or_else(|| unauthorized("signature_missing"))?;
    // The crate's parser splits on every comma: a quoted value holding one
    // (never in a real key id or signature) is refused rather than misread.
    if split_params(raw).len() != raw.split(',').count() {
        return Err(unauthorized("signature_malformed"));
    }
    let unverified = cavage_config(body.is_some(), max_skew_secs)
        .begin_verify(method.as_str(), path_and_query, covered)
        .map_err(|e| match e {
            E::Parse(_) => unauthorized("signature_malformed"),
            E::Required(_) => unauthorized("signature_headers"),
            E::Validate(http_signature_normalization::verify::ValidateError::Missing) => {
                unauthorized("signature_missing")
            }
            E::Validate(_) => unauthorized("signature_date"),
        })?;
    match unverified.algorithm() {
        None | Some(Named::Hs2019 | Named::Deprecated(DeprecatedAlgorithm::RsaSha256)) => {}
        Some(_) => return Err(unauthorized("signature_algorithm")),
    }
    // The crate refuses a date too old; one too far in the future (a
    // signature made to be replayed later) is refused here as well.
    let date = headers
        .get("date")
        .and_then(|v| v.to_str().ok())
        .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
        .ok_or_else(|| unauthorized("signature_date"))?;
    let skew = (Utc::now() - date.with_timezone(&Utc)).num_seconds().abs();
    if skew > max_skew_secs {
        return Err(unauthorized("signature_date"));
    }
    if let Some(b) = body {
        let expected = digest(b);
        let given = headers
            .get("digest")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| unauthorized("digest_mismatch"))?;
        // Several digests may be listed; ours must be among them.
        if !given
            .split(',')
            .any(|d| d.trim().eq_ignore_ascii_case(&expected) || d.trim() == expected)
        {
            return Err(unauthorized("digest_mismatch"));
        }
    }
    let signature = B64
        .decode(unverified.signature().as_bytes())
        .map_err(|_| unauthorized("signature_malformed"))?;
    // No key is fetched for what cannot be an RSA signature (2048 to 8192
    // bits): the request is refused before anything leaves this instance.
    if !(256..=1024).contains(&signature.len()) {
        return Err(unauthorized("signature_malformed"));
    }
    Ok(Signed {
        key_id: unverified.key_id().to_string(),
        signing_string: unverified.signing_string().to_string(),
        signature,
        algorithm: Algorithm::RsaSha256,
        rfc9421: false,
    })
}

/// Splits `a="x,y",b="z"` on the commas outside quotes.
fn split_params(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn request(
        body: &[u8],
        keys: &crate::net::keys::KeyPair,
    ) -> (HeaderMap, Vec<(&'static str, String)>) {
        let signed = sign(
            &Method::POST,
            "/inbox",
            "beta.test",
            Some(body),
            "https://alpha.test/people/a#main-key",
            &keys.private_pem,
        )
        .unwrap();
        let mut h = HeaderMap::new();
        h.insert("host", HeaderValue::from_static("beta.test"));
        for (n, v) in &signed {
            h.insert(*n, HeaderValue::from_str(v).unwrap());
        }
        (h, signed)
    }

    #[test]
    fn signed_request_verifies_and_tampering_is_caught() {
        let keys = crate::net::keys::generate().unwrap();
        let body = br#"{"type":"Create"}"#;
        let (h, _) = request(body, &keys);
        let s = parse_request(&Method::POST, "http", "/inbox", &h, Some(body), 300).unwrap();
        assert_eq!(s.key_id, "https://alpha.test/people/a#main-key");
        assert!(crate::net::keys::verify(
            &keys.public_pem,
            s.signing_string.as_bytes(),
            &s.signature
        ));
        // Another body: the digest no longer matches.
        let e = parse_request(&Method::POST, "http", "/inbox", &h, Some(b"{}"), 300).unwrap_err();
        assert_eq!(e.code, "digest_mismatch");
        // Another path: the signature no longer verifies.
        let s = parse_request(
            &Method::POST,
            "http",
            "/people/x/inbox",
            &h,
            Some(body),
            300,
        )
        .unwrap();
        assert!(!crate::net::keys::verify(
            &keys.public_pem,
            s.signing_string.as_bytes(),
            &s.signature
        ));
        // A stale date.
        let mut stale = h.clone();
        stale.insert(
            "date",
            HeaderValue::from_str(&http_date(Utc::now() - chrono::Duration::hours(2))).unwrap(),
        );
        let e =
            parse_request(&Method::POST, "http", "/inbox", &stale, Some(body), 300).unwrap_err();
        assert_eq!(e.code, "signature_date");
        // A date in the future, beyond the allowed skew.
        let mut ahead = h.clone();
        ahead.insert(
            "date",
            HeaderValue::from_str(&http_date(Utc::now() + chrono::Duration::hours(2))).unwrap(),
        );
        let e =
            parse_request(&Method::POST, "http", "/inbox", &ahead, Some(body), 300).unwrap_err();
        assert_eq!(e.code, "signature_date");
        // A bearer token beside the signature is not read as one.
        let mut bearer = h.clone();
        bearer.insert("authorization", HeaderValue::from_static("Bearer abc"));
        let s = parse_request(&Method::POST, "http", "/inbox", &bearer, Some(body), 300).unwrap();
        assert!(crate::net::keys::verify(
            &keys.public_pem,
            s.signing_string.as_bytes(),
            &s.signature
        ));
        // What Ruche signs names every covered header.
        let header = h.get("signature").unwrap().to_str().unwrap();
        assert!(header.contains("headers=\"(request-target) content-type date digest host\""));
        // No signature at all.
        let mut none = h.clone();
        none.remove("signature");
        let e = parse_request(&Method::POST, "http", "/inbox", &none, Some(body), 300).unwrap_err();
        assert_eq!(e.code, "signature_missing");
    }

    /// A request signed as Mastodon signs its deliveries: `Signature`
    /// header with `keyId`, `algorithm="rsa-sha256"`, the headers
    /// `(request-target) host date digest content-type` in that order.
    #[test]
    fn a_request_signed_as_mastodon_signs_verifies() {
        let keys = crate::net::keys::generate().unwrap();
        let body = br#"{"type":"Follow"}"#;
        let date = http_date(Utc::now());
        let digest = digest(body);
        let signing = format!(
            "(request-target): post /users/bob/inbox\nhost: beta.test\ndate: {date}\ndigest: {digest}\ncontent-type: application/activity+json"
        );
        let sig = crate::net::keys::sign(&keys.private_pem, signing.as_bytes()).unwrap();
        let mut h = HeaderMap::new();
        h.insert("host", HeaderValue::from_static("beta.test"));
        h.insert("date", HeaderValue::from_str(&date).unwrap());
        h.insert("digest", HeaderValue::from_str(&digest).unwrap());
        h.insert(
            "content-type",
            HeaderValue::from_static("application/activity+json"),
        );
        h.insert(
            "signature",
            HeaderValue::from_str(&format!(
                "keyId=\"https://mastodon.example/users/alice#main-key\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date digest content-type\",signature=\"{}\"",
                B64.encode(sig)
            ))
            .unwrap(),
        );
        let s = parse_request(
            &Method::POST,
            "https",
            "/users/bob/inbox",
            &h,
            Some(body),
            300,
        )
        .unwrap();
        assert_eq!(s.key_id, "https://mastodon.example/users/alice#main-key");
        assert!(!s.rfc9421);
        assert_eq!(s.signing_string, signing);
        assert!(crate::net::keys::verify(
            &keys.public_pem,
            s.signing_string.as_bytes(),
            &s.signature
        ));
        // A signature covering only the digest, which some libraries accept,
        // is not enough here.
        let mut thin = h.clone();
        thin.insert(
            "signature",
            HeaderValue::from_str(&format!(
                "keyId=\"https://mastodon.example/users/alice#main-key\",algorithm=\"rsa-sha256\",headers=\"digest\",signature=\"{}\"",
                B64.encode([0u8; 256])
            ))
            .unwrap(),
        );
        let e = parse_request(
            &Method::POST,
            "https",
            "/users/bob/inbox",
            &thin,
            Some(body),
            300,
        )
        .unwrap_err();
        assert_eq!(e.code, "signature_headers");
    }
}
