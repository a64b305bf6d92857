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

/// What a request's signature covers: the headers to add (with `host`
/// first, not sent: the client sets it) and the string to sign.
struct Unsigned {
    headers: Vec<(&'static str, String)>,
    names: Vec<&'static str>,
    signing_string: String,
}

fn unsigned(method: &Method, path_and_query: &str, host: &str, body: Option<&[u8]>) -> Unsigned {
    let date = http_date(Utc::now());
    let mut headers: Vec<(&'static str, String)> = vec![("host", host.to_string()), ("date", date)];
    if let Some(b) = body {
        headers.push(("digest", digest(b)));
        headers.push(("content-type", super::AP_TYPE.to_string()));
    }
    let mut lines = vec![format!(
        "(request-target): {} {}",
        method.as_str().to_ascii_lowercase(),
        path_and_query
    )];
    let mut names = vec!["(request-target)"];
    for (n, v) in &headers {
        lines.push(format!("{n}: {v}"));
        names.push(n);
    }
    Unsigned {
        headers,
        names,
        signing_string: lines.join("\n"),
    }
}

impl Unsigned {
    fn finish(mut self, key_id: &str, signature: &[u8]) -> Vec<(&'static str, String)> {
        let value = format!(
            "keyId=\"{key_id}\",algorithm=\"rsa-sha256\",headers=\"{}\",signature=\"{}\"",
            self.names.join(" "),
            B64.encode(signature)
        );
        self.headers.retain(|(n, _)| *n != "host");
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
    let raw = headers
        .get("signature")
        .and_then(|v| v.to_str().ok())
        .or_else(|| {
            headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Signature "))
        })
        .ok_or_else(|| unauthorized("signature_missing"))?;
    let mut key_id = None;
    let mut names = None;
    let mut sig = None;
    let mut algorithm = None;
    for part in split_params(raw) {
        let Some((k, v)) = part.split_once('=') else {
            continue;
        };
        let v = v.trim().trim_matches('"').to_string();
        match k.trim() {
            "keyId" => key_id = Some(v),
            "headers" => names = Some(v),
            "signature" => sig = Some(v),
            "algorithm" => algorithm = Some(v),
            _ => {}
        }
    }
    let (Some(key_id), Some(sig)) = (key_id, sig) else {
        return Err(unauthorized("signature_malformed"));
    };
    if let Some(a) = algorithm {
        if !matches!(a.as_str(), "rsa-sha256" | "hs2019") {
            return Err(unauthorized("signature_algorithm"));
        }
    }
    let names: Vec<String> = names
        .unwrap_or_else(|| "date".into())
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    let required: &[&str] = if body.is_some() {
        &["(request-target)", "host", "date", "digest"]
    } else {
        &["(request-target)", "host", "date"]
    };
    if required.iter().any(|r| !names.iter().any(|n| n == r)) {
        return Err(unauthorized("signature_headers"));
    }
    // Date: present and close to ours.
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
    let mut lines = Vec::with_capacity(names.len());
    for n in &names {
        if n == "(request-target)" {
            lines.push(format!(
                "(request-target): {} {}",
                method.as_str().to_ascii_lowercase(),
                path_and_query
            ));
        } else {
            let values: Vec<&str> = headers
                .get_all(n.as_str())
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            if values.is_empty() {
                return Err(unauthorized("signature_headers"));
            }
            lines.push(format!("{n}: {}", values.join(", ")));
        }
    }
    let signature = B64
        .decode(sig.as_bytes())
        .map_err(|_| unauthorized("signature_malformed"))?;
    // No key is fetched for what cannot be an RSA signature (2048 to 8192
    // bits): the request is refused before anything leaves this instance.
    if !(256..=1024).contains(&signature.len()) {
        return Err(unauthorized("signature_malformed"));
    }
    Ok(Signed {
        key_id,
        signing_string: lines.join("\n"),
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
