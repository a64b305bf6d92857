//! RFC 9421 HTTP Message Signatures, for servers built on Fedify (Ghost,
//! Hollo and others), which sign with them first, and for Ruche instances
//! that accept them.
//!
//! Verifying keeps the strictness of the draft-cavage path: the signature
//! must cover the method, the target (`@target-uri`, or `@authority` with
//! `@request-target` or `@path` and `@query`) and, with a body,
//! `content-digest`, which must match the body; `created` is required and
//! within the allowed clock skew both ways, `expires` (if given) in the
//! future. Components with parameters (`;sf`, `;key`, `;bs`, `;req`,
//! `@query-param`) are refused rather than half-understood. Structured
//! fields are read and written with the `sfv` crate.

use axum::http::{HeaderMap, Method};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use sfv::{Dictionary, InnerList, ListEntry, Parser};
use sha2::{Digest as _, Sha256, Sha512};

use super::{unauthorized, Signed};
use crate::error::AppResult;
use crate::net::keys::Algorithm;

/// The label of the signatures Ruche makes.
const LABEL: &str = "sig1";

/// The request as the verifier sees it.
pub struct Request<'a> {
    pub method: &'a Method,
    /// `http` or `https`: how this instance is reached (its `base_url`).
    pub scheme: &'a str,
    pub path_and_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: Option<&'a [u8]>,
}

/// The `Content-Digest` header of a body (SHA-256).
pub fn content_digest(body: &[u8]) -> String {
    format!("sha-256=:{}:", B64.encode(Sha256::digest(body)))
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The value of one covered component, as the signature base writes it.
fn component(req: &Request, name: &str) -> AppResult<String> {
    let (path, query) = match req.path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (req.path_and_query, None),
    };
    let authority = || {
        header(req.headers, "host")
            .map(str::to_ascii_lowercase)
            .ok_or_else(|| unauthorized("signature_headers"))
    };
    Ok(match name {
        "@method" => req.method.as_str().to_string(),
        "@authority" => authority()?,
        "@scheme" => req.scheme.to_string(),
        "@target-uri" => format!("{}://{}{}", req.scheme, authority()?, req.path_and_query),
        "@request-target" => req.path_and_query.to_string(),
        "@path" => path.to_string(),
        "@query" => format!("?{}", query.unwrap_or("")),
        n if n.starts_with('@') => return Err(unauthorized("signature_components")),
        n => {
            let values: Vec<&str> = req
                .headers
                .get_all(n)
                .iter()
                .map(|v| v.to_str().map(str::trim))
                .collect::<Result<_, _>>()
                .map_err(|_| unauthorized("signature_headers"))?;
            if values.is_empty() {
                return Err(unauthorized("signature_headers"));
            }
            values.join(", ")
        }
    })
}

/// The `@signature-params` value: the inner list, serialised.
fn params_value(list: &InnerList) -> String {
    let mut ser = sfv::DictSerializer::new();
    {
        let mut inner = ser.inner_list(sfv::KeyRef::constant("s"));
        inner.items(&list.items);
        let _ = inner.finish().parameters(list.params.iter()).finish();
    }
    let out = ser.finish().unwrap_or_default();
    out.strip_prefix("s=").unwrap_or(&out).to_string()
}

/// The signature base of `list` over `req` (RFC 9421, section 2.5).
fn base(req: &Request, names: &[String], list: &InnerList) -> AppResult<String> {
    let mut lines = Vec::with_capacity(names.len() + 1);
    for n in names {
        lines.push(format!("\"{n}\": {}", component(req, n)?));
    }
    lines.push(format!("\"@signature-params\": {}", params_value(list)));
    Ok(lines.join("\n"))
}

fn dictionary(headers: &HeaderMap, name: &str) -> AppResult<Dictionary> {
    let raw = header(headers, name).ok_or_else(|| unauthorized("signature_malformed"))?;
    Parser::new(raw)
        .parse::<Dictionary>()
        .map_err(|_| unauthorized("signature_malformed"))
}

/// Whether `given` (a `Content-Digest` value) holds a digest of `body`
/// that Ruche can check, and every such digest matches.
fn digest_matches(given: &str, body: &[u8]) -> bool {
    let Ok(dict) = Parser::new(given).parse::<Dictionary>() else {
        return false;
    };
    let mut checked = false;
    for (alg, entry) in &dict {
        let ListEntry::Item(item) = entry else {
            return false;
        };
        let Some(bytes) = item.bare_item.as_byte_sequence() else {
            return false;
        };
        let ok = match alg.as_str() {
            "sha-256" => Sha256::digest(body).as_slice() == bytes,
            "sha-512" => Sha512::digest(body).as_slice() == bytes,
            _ => continue,
        };
        if !ok {
            return false;
        }
        checked = true;
    }
    checked
}

/// Reads an RFC 9421 signature of a request: the first signature whose
/// covered components meet Ruche's requirements. The caller checks
/// [`Signed::signature`] against the key of [`Signed::key_id`].
pub fn parse(req: &Request, max_skew_secs: i64, now: i64) -> AppResult<Signed> {
    let inputs = dictionary(req.headers, "signature-input")?;
    let signatures = dictionary(req.headers, "signature")?;
    let mut refusal = unauthorized("signature_malformed");
    for (label, entry) in &inputs {
        let ListEntry::InnerList(list) = entry else {
            continue;
        };
        match read_one(req, list, max_skew_secs, now) {
            Ok((key_id, algorithm, names)) => {
                let Some(ListEntry::Item(sig)) = signatures.get(label) else {
                    continue;
                };
                let Some(signature) = sig.bare_item.as_byte_sequence() else {
                    continue;
                };
                if signature.is_empty() || signature.len() > 1024 {
                    continue;
                }
                return Ok(Signed {
                    key_id,
                    signing_string: base(req, &names, list)?,
                    signature: signature.to_vec(),
                    algorithm,
                    rfc9421: true,
                });
            }
            Err(e) => refusal = e,
        }
    }
    Err(refusal)
}

/// Checks one signature's parameters and coverage: (key id, algorithm,
/// covered component names).
fn read_one(
    req: &Request,
    list: &InnerList,
    max_skew_secs: i64,
    now: i64,
) -> AppResult<(String, Algorithm, Vec<String>)> {
    let mut names = Vec::with_capacity(list.items.len());
    for item in &list.items {
        let name = item
            .bare_item
            .as_string()
            .ok_or_else(|| unauthorized("signature_malformed"))?
            .as_str();
        if !item.params.is_empty() {
            return Err(unauthorized("signature_components"));
        }
        if names.iter().any(|n| n == name) {
            return Err(unauthorized("signature_malformed"));
        }
        names.push(name.to_string());
    }
    let covers = |n: &str| names.iter().any(|c| c == n);
    let query = req.path_and_query.contains('?');
    let target = covers("@target-uri")
        || (covers("@authority")
            && (covers("@request-target") || (covers("@path") && (!query || covers("@query")))));
    if !covers("@method") || !target || (req.body.is_some() && !covers("content-digest")) {
        return Err(unauthorized("signature_headers"));
    }
    let param = |k: &str| list.params.get(k);
    let created = param("created")
        .and_then(|v| v.as_integer())
        .map(i64::from)
        .ok_or_else(|| unauthorized("signature_date"))?;
    if (now - created).abs() > max_skew_secs {
        return Err(unauthorized("signature_date"));
    }
    if let Some(expires) = param("expires") {
        let expires = expires
            .as_integer()
            .map(i64::from)
            .ok_or_else(|| unauthorized("signature_date"))?;
        if expires < now {
            return Err(unauthorized("signature_date"));
        }
    }
    let key_id = param("keyid")
        .and_then(|v| v.as_string())
        .map(|s| s.as_str().to_string())
        .ok_or_else(|| unauthorized("signature_malformed"))?;
    let algorithm = match param("alg") {
        None => Algorithm::FromKey,
        Some(v) => match v.as_string().map(|s| s.as_str()) {
            Some("rsa-v1_5-sha256") => Algorithm::RsaSha256,
            Some("rsa-pss-sha512") => Algorithm::RsaPssSha512,
            Some("ed25519") => Algorithm::Ed25519,
            _ => return Err(unauthorized("signature_algorithm")),
        },
    };
    if let Some(body) = req.body {
        let given =
            header(req.headers, "content-digest").ok_or_else(|| unauthorized("digest_mismatch"))?;
        if !digest_matches(given, body) {
            return Err(unauthorized("digest_mismatch"));
        }
    }
    Ok((key_id, algorithm, names))
}

/// What an RFC 9421 signature of a request covers: the headers to add and
/// the signature base. The signature covers the method, the full target URI
/// and, with a body, its `Content-Digest`.
pub struct Unsigned {
    headers: Vec<(&'static str, String)>,
    params: String,
    pub base: String,
}

pub fn unsigned(
    method: &Method,
    target_uri: &str,
    body: Option<&[u8]>,
    key_id: &str,
    now: i64,
) -> Unsigned {
    let mut headers = vec![("date", super::http_date(chrono::Utc::now()))];
    let mut names = vec!["\"@method\"", "\"@target-uri\""];
    let mut lines = vec![
        format!("\"@method\": {}", method.as_str()),
        format!("\"@target-uri\": {target_uri}"),
    ];
    if let Some(b) = body {
        let d = content_digest(b);
        names.push("\"content-digest\"");
        lines.push(format!("\"content-digest\": {d}"));
        headers.push(("content-digest", d));
        headers.push(("content-type", crate::net::AP_TYPE.to_string()));
    }
    // A key id is an URL: nothing to escape in an sf-string but quotes and
    // backslashes, which an URL does not hold.
    let key_id = key_id.replace(['"', '\\'], "");
    let params = format!(
        "({});created={now};keyid=\"{key_id}\";alg=\"rsa-v1_5-sha256\"",
        names.join(" ")
    );
    lines.push(format!("\"@signature-params\": {params}"));
    Unsigned {
        headers,
        params,
        base: lines.join("\n"),
    }
}

impl Unsigned {
    /// The headers to send, with `signature` of [`Unsigned::base`].
    pub fn finish(mut self, signature: &[u8]) -> Vec<(&'static str, String)> {
        self.headers
            .push(("signature-input", format!("{LABEL}={}", self.params)));
        self.headers
            .push(("signature", format!("{LABEL}=:{}:", B64.encode(signature))));
        self.headers
    }
}

/// Signs a request with RFC 9421 (`rsa-v1_5-sha256`), the RSA operation on
/// a blocking thread.
pub async fn sign_async(
    method: &Method,
    target_uri: &str,
    body: Option<&[u8]>,
    key_id: &str,
    private_pem: &str,
) -> AppResult<Vec<(&'static str, String)>> {
    let u = unsigned(
        method,
        target_uri,
        body,
        key_id,
        chrono::Utc::now().timestamp(),
    );
    let signature =
        crate::net::keys::sign_blocking(private_pem.to_string(), u.base.clone()).await?;
    Ok(u.finish(&signature))
}

#[cfg(test)]
mod tests {
    //! The test vectors of RFC 9421, Appendix B: its keys, its request and
    //! the signatures it publishes.
    use super::*;
    use crate::net::keys::verify_with;
    use axum::http::HeaderValue;

    const RSA_PUBLIC: &str = "-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEAhAKYdtoeoy8zcAcR874L8cnZxKzAGwd7v36APp7Pv6Q2jdsPBRrw
WEBnez6d0UDKDwGbc6nxfEXAy5mbhgajzrw3MOEt8uA5txSKobBpKDeBLOsdJKFq
MGmXCQvEG7YemcxDTRPxAleIAgYYRjTSd/QBwVW9OwNFhekro3RtlinV0a75jfZg
kne/YiktSvLG34lw2zqXBDTC5NHROUqGTlML4PlNZS5Ri2U4aCNx2rUPRcKIlE0P
uKxI4T+HIaFpv8+rdV6eUgOrB2xeI1dSFFn/nnv5OoZJEIB+VmuKn3DCUcCZSFlQ
PSXSfBDiUGhwOw76WuSSsf1D4b/vLoJ10wIDAQAB
-----END RSA PUBLIC KEY-----";

    const RSA_PSS_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAr4tmm3r20Wd/PbqvP1s2
+QEtvpuRaV8Yq40gjUR8y2Rjxa6dpG2GXHbPfvMs8ct+Lh1GH45x28Rw3Ry53mm+
oAXjyQ86OnDkZ5N8lYbggD4O3w6M6pAvLkhk95AndTrifbIFPNU8PPMO7OyrFAHq
gDsznjPFmTOtCEcN2Z1FpWgchwuYLPL+Wokqltd11nqqzi+bJ9cvSKADYdUAAN5W
Utzdpiy6LbTgSxP7ociU4Tn0g5I6aDZJ7A8Lzo0KSyZYoA485mqcO0GVAdVw9lq4
aOT9v6d+nb4bnNkQVklLQ3fVAvJm+xdDOp9LCNCN48V2pnDOkFV6+U9nV5oyc6XI
2wIDAQAB
-----END PUBLIC KEY-----";

    const ED25519_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----";

    const BODY: &[u8] = br#"{"hello": "world"}"#;
    const DIGEST_512: &str = "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:";

    /// The RFC's `test-request` with the given extra headers.
    fn headers(host: &str, date: &str, extra: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("host", HeaderValue::from_str(host).unwrap());
        h.insert("date", HeaderValue::from_str(date).unwrap());
        h.insert("content-type", HeaderValue::from_static("application/json"));
        h.insert("content-digest", HeaderValue::from_static(DIGEST_512));
        h.insert("content-length", HeaderValue::from_static("18"));
        for (n, v) in extra {
            h.insert(*n, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    /// The signature base of the signature `label` of a request, whatever
    /// it covers (no policy).
    fn base_of(req: &Request, label: &str) -> String {
        let inputs = dictionary(req.headers, "signature-input").unwrap();
        let Some(ListEntry::InnerList(list)) = inputs.get(label) else {
            panic!("no {label}")
        };
        let names: Vec<String> = list
            .items
            .iter()
            .map(|i| i.bare_item.as_string().unwrap().as_str().to_string())
            .collect();
        base(req, &names, list).unwrap()
    }

    fn b64(s: &str) -> Vec<u8> {
        B64.decode(s).unwrap()
    }

    #[test]
    fn b21_minimal_rsa_pss_signature_verifies() {
        let h = headers(
            "example.com",
            "Tue, 20 Apr 2021 02:07:55 GMT",
            &[(
                "signature-input",
                r#"sig-b21=();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd""#,
            )],
        );
        let req = Request {
            method: &Method::POST,
            scheme: "https",
            path_and_query: "/foo?param=Value&Pet=dog",
            headers: &h,
            body: Some(BODY),
        };
        let base = base_of(&req, "sig-b21");
        assert_eq!(
            base,
            r#""@signature-params": ();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd""#
        );
        let sig = b64("d2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAkgibUopemLJcWDy/lkbbHAve4cRAtx31Iq786U7it++wgGxbtRxf8Udx7zFZsckzXaJMkA7ChG52eSkFxykJeNqsrWH5S+oxNFlD4dzVuwe8DhTSja8xxbR/Z2cOGdCbzR72rgFWhzx2VjBqJzsPLMIQKhO4DGezXehhWwE56YCE+O6c0mKZsfxVrogUvA4HELjVKWmAvtl6UnCh8jYzuVG5WSb/QEVPnP5TmcAnLH1g+s++v6d4s8m0gCw1fV5/SITLq9mhho8K3+7EPYTU8IU1bLhdxO5Nyt8C8ssinQ98Xw9Q==");
        assert!(verify_with(
            RSA_PSS_PUBLIC,
            Algorithm::RsaPssSha512,
            base.as_bytes(),
            &sig
        ));
        assert!(!verify_with(
            RSA_PSS_PUBLIC,
            Algorithm::RsaSha256,
            base.as_bytes(),
            &sig
        ));
        // It covers nothing of the request: Ruche refuses it.
        let mut h = h.clone();
        h.insert(
            "signature",
            HeaderValue::from_str(&format!("sig-b21=:{}:", B64.encode(&sig))).unwrap(),
        );
        let req = Request { headers: &h, ..req };
        assert_eq!(
            parse(&req, 300, 1618884473).unwrap_err().code,
            "signature_headers"
        );
    }

    #[test]
    fn b26_ed25519_signature_verifies() {
        let h = headers(
            "example.com",
            "Tue, 20 Apr 2021 02:07:55 GMT",
            &[(
                "signature-input",
                r#"sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519""#,
            )],
        );
        let req = Request {
            method: &Method::POST,
            scheme: "https",
            path_and_query: "/foo?param=Value&Pet=dog",
            headers: &h,
            body: Some(BODY),
        };
        let base = base_of(&req, "sig-b26");
        assert_eq!(
            base,
            [
                r#""date": Tue, 20 Apr 2021 02:07:55 GMT"#,
                r#""@method": POST"#,
                r#""@path": /foo"#,
                r#""@authority": example.com"#,
                r#""content-type": application/json"#,
                r#""content-length": 18"#,
                r#""@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519""#,
            ]
            .join("\n")
        );
        let sig = b64("wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==");
        assert!(verify_with(
            ED25519_PUBLIC,
            Algorithm::Ed25519,
            base.as_bytes(),
            &sig
        ));
        assert!(verify_with(
            ED25519_PUBLIC,
            Algorithm::FromKey,
            base.as_bytes(),
            &sig
        ));
        assert!(!verify_with(
            ED25519_PUBLIC,
            Algorithm::Ed25519,
            b"another base",
            &sig
        ));
    }

    /// B.3: the request re-signed by a TLS-terminating proxy with the RSA
    /// key (`rsa-v1_5-sha256`). It covers what Ruche requires, so it goes
    /// through the whole check.
    #[test]
    fn b3_rsa_signature_passes_every_check() {
        let h = headers(
            "origin.host.internal.example",
            "Tue, 20 Apr 2021 02:07:56 GMT",
            &[
                ("forwarded", "for=192.0.2.123;host=example.com;proto=https"),
                (
                    "signature-input",
                    r#"sig1=("@method" "@authority" "@path" "content-digest" "content-type" "content-length" "forwarded");created=1618884480;keyid="test-key-rsa";alg="rsa-v1_5-sha256";expires=1618884540"#,
                ),
                (
                    "signature",
                    "sig1=:S6ZzPXSdAMOPjN/6KXfXWNO/f7V6cHm7BXYUh3YD/fRad4BCaRZxP+JH+8XY1I6+8Cy+CM5g92iHgxtRPz+MjniOaYmdkDcnL9cCpXJleXsOckpURl49GwiyUpZ10KHgOEe11sx3G2gxI8S0jnxQB+Pu68U9vVcasqOWAEObtNKKZd8tSFu7LB5YAv0RAGhB8tmpv7sFnIm9y+7X5kXQfi8NMaZaA8i2ZHwpBdg7a6CMfwnnrtflzvZdXAsD3LH2TwevU+/PBPv0B6NMNk93wUs/vfJvye+YuI87HU38lZHowtznbLVdp770I6VHR6WfgS9ddzirrswsE1w5o0LV/g==:",
                ),
            ],
        );
        let req = Request {
            method: &Method::POST,
            scheme: "http",
            path_and_query: "/foo",
            headers: &h,
            body: Some(BODY),
        };
        let s = parse(&req, 300, 1618884481).unwrap();
        assert_eq!(s.key_id, "test-key-rsa");
        assert_eq!(s.algorithm, Algorithm::RsaSha256);
        assert!(s.rfc9421);
        assert!(verify_with(
            RSA_PUBLIC,
            s.algorithm,
            s.signing_string.as_bytes(),
            &s.signature
        ));
        // Another method, path or body: refused or no longer verifying.
        let get = Request {
            method: &Method::GET,
            ..req
        };
        let s = parse(&get, 300, 1618884481).unwrap();
        assert!(!verify_with(
            RSA_PUBLIC,
            s.algorithm,
            s.signing_string.as_bytes(),
            &s.signature
        ));
        let other = Request {
            path_and_query: "/bar",
            ..req
        };
        let s = parse(&other, 300, 1618884481).unwrap();
        assert!(!verify_with(
            RSA_PUBLIC,
            s.algorithm,
            s.signing_string.as_bytes(),
            &s.signature
        ));
        let body = Request {
            body: Some(b"{}"),
            ..req
        };
        assert_eq!(
            parse(&body, 300, 1618884481).unwrap_err().code,
            "digest_mismatch"
        );
        // Too old, from the future, expired.
        assert_eq!(
            parse(&req, 300, 1618884480 + 301).unwrap_err().code,
            "signature_date"
        );
        assert_eq!(
            parse(&req, 300, 1618884480 - 301).unwrap_err().code,
            "signature_date"
        );
        assert_eq!(
            parse(&req, 3600, 1618884541).unwrap_err().code,
            "signature_date"
        );
    }

    #[test]
    fn what_ruche_signs_verifies_and_covers_the_request() {
        let keys = crate::net::keys::generate().unwrap();
        let body = br#"{"type":"Create"}"#;
        let u = unsigned(
            &Method::POST,
            "http://beta.test:8080/inbox",
            Some(body),
            "http://alpha.test/people/a#main-key",
            1_700_000_000,
        );
        let sig = crate::net::keys::sign(&keys.private_pem, u.base.as_bytes()).unwrap();
        let mut h = HeaderMap::new();
        h.insert("host", HeaderValue::from_static("beta.test:8080"));
        for (n, v) in u.finish(&sig) {
            h.insert(n, HeaderValue::from_str(&v).unwrap());
        }
        let req = Request {
            method: &Method::POST,
            scheme: "http",
            path_and_query: "/inbox",
            headers: &h,
            body: Some(body),
        };
        let s = parse(&req, 300, 1_700_000_010).unwrap();
        assert_eq!(s.key_id, "http://alpha.test/people/a#main-key");
        assert!(verify_with(
            &keys.public_pem,
            s.algorithm,
            s.signing_string.as_bytes(),
            &s.signature
        ));
        // Addressed to another host: the target no longer matches.
        let mut moved = h.clone();
        moved.insert("host", HeaderValue::from_static("gamma.test"));
        let req = Request {
            headers: &moved,
            ..req
        };
        let s = parse(&req, 300, 1_700_000_010).unwrap();
        assert!(!verify_with(
            &keys.public_pem,
            s.algorithm,
            s.signing_string.as_bytes(),
            &s.signature
        ));
    }

    #[test]
    fn malformed_or_half_understood_signatures_are_refused() {
        let cases = [
            (
                r#"sig1=("@method" "@target-uri" "@method");created=1;keyid="k""#,
                "signature_malformed",
            ),
            (
                r#"sig1=("@method" "@target-uri" "content-digest";sf);created=1;keyid="k""#,
                "signature_components",
            ),
            (
                r#"sig1=("@method" "@query-param";name="a" "@target-uri");created=1;keyid="k""#,
                "signature_components",
            ),
            (
                r#"sig1=("@method" "@target-uri" "content-digest");keyid="k""#,
                "signature_date",
            ),
            (
                r#"sig1=("@method" "@target-uri" "content-digest");created=1;keyid="k";alg="hmac-sha256""#,
                "signature_algorithm",
            ),
            (
                r#"sig1=("@method" "@target-uri" "content-digest");created=1"#,
                "signature_malformed",
            ),
            (
                r#"sig1=("@method" "@target-uri");created=1;keyid="k""#,
                "signature_headers",
            ),
            (
                r#"sig1=("@target-uri" "content-digest");created=1;keyid="k""#,
                "signature_headers",
            ),
            ("sig1", "signature_malformed"),
            ("((", "signature_malformed"),
        ];
        for (input, code) in cases {
            let mut h = headers(
                "example.com",
                "Tue, 20 Apr 2021 02:07:55 GMT",
                &[("signature", "sig1=:AAAA:")],
            );
            h.insert("signature-input", HeaderValue::from_str(input).unwrap());
            let req = Request {
                method: &Method::POST,
                scheme: "https",
                path_and_query: "/foo",
                headers: &h,
                body: Some(BODY),
            };
            assert_eq!(
                parse(&req, 300, 1).map(|_| ()).unwrap_err().code,
                code,
                "{input}"
            );
        }
    }
}
