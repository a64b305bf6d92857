//! A real OpenID Connect provider for the tests: `oidc-provider` (npm, the
//! certified Node.js implementation) run by `tests/oidc/provider.mjs`, with
//! its own login page. In front of it, a proxy of ours plays the hostile
//! network: it passes everything through, and on demand alters the token
//! endpoint's answer (a broken signature, another ID token).
//!
//! Without Node.js or `tests/oidc/node_modules` (`npm ci --prefix
//! tests/oidc`) the tests skip themselves, unless `RUCHE_REQUIRE_OIDC` is
//! set (as in CI), where their absence fails them.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use super::smtp::free_port;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc")
}

/// Whether the provider can run here (or the tests must fail for its absence).
pub fn available() -> bool {
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let ok = node && dir().join("node_modules/oidc-provider").is_dir();
    if !ok {
        assert!(
            std::env::var("RUCHE_REQUIRE_OIDC").is_err(),
            "RUCHE_REQUIRE_OIDC is set but Node.js or tests/oidc/node_modules is missing (npm ci --prefix tests/oidc)"
        );
        eprintln!("skipped: Node.js or oidc-provider is missing (npm ci --prefix tests/oidc)");
    }
    ok
}

/// What the proxy does to the token endpoint's answer.
#[derive(Clone, Debug, Default)]
pub enum Tamper {
    #[default]
    None,
    /// Changes one character of the ID token's signature.
    BreakSignature,
    /// Puts these tokens (an ID token and its access token, from another
    /// exchange) in place of those the provider issued.
    Replace(Tokens),
}

/// An ID token and the access token issued with it.
#[derive(Clone, Debug)]
pub struct Tokens {
    pub id_token: String,
    pub access_token: String,
}

pub struct Provider {
    /// The issuer (the proxy's address), as Ruche is configured with it.
    pub issuer: String,
    pub tamper: Arc<Mutex<Tamper>>,
    config: tempfile::NamedTempFile,
    child: Child,
}

pub const CLIENT_ID: &str = "ruche";
pub const CLIENT_SECRET: &str = "a client secret for tests";
/// A second application registered at the provider.
pub const OTHER_ID: &str = "other-app";
pub const OTHER_REDIRECT: &str = "http://127.0.0.1:9/other/callback";

/// The address the provider will have (its proxy's), to configure Ruche
/// before either starts.
pub struct Planned {
    pub issuer: String,
    proxy_port: u16,
}

pub fn plan() -> Planned {
    let proxy_port = free_port();
    Planned {
        issuer: format!("http://127.0.0.1:{proxy_port}"),
        proxy_port,
    }
}

impl Planned {
    /// Starts the provider and its proxy for the Ruche instance at `base`
    /// (provider `id` in its configuration), with these people (login →
    /// claims), and a clock that is `clock_offset` seconds off.
    pub async fn start(self, base: &str, id: &str, accounts: Value, clock_offset: i64) -> Provider {
        let port = free_port();
        let config = tempfile::NamedTempFile::new().unwrap();
        let doc = json!({
            "port": port,
            "issuer": self.issuer,
            "clock_offset_seconds": clock_offset,
            // Short-lived ID tokens where the clock is off (see the
            // expired token's test); the provider's default otherwise.
            "id_token_ttl_seconds": if clock_offset == 0 { 3600 } else { 60 },
            "clients": [
                {
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "redirect_uris": [format!("{base}/login/sso/{id}/callback")],
                    "post_logout_redirect_uris": [format!("{base}/login")],
                },
                {
                    "client_id": OTHER_ID,
                    "client_secret": CLIENT_SECRET,
                    "redirect_uris": [OTHER_REDIRECT],
                }
            ],
            "accounts": accounts,
        });
        std::fs::write(config.path(), doc.to_string()).unwrap();
        let child = Command::new("node")
            .arg(dir().join("provider.mjs"))
            .arg(config.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("node starts");
        let tamper = Arc::new(Mutex::new(Tamper::None));
        start_proxy(self.proxy_port, port, tamper.clone()).await;
        let provider = Provider {
            issuer: self.issuer,
            tamper,
            config,
            child,
        };
        let url = format!("{}/.well-known/openid-configuration", provider.issuer);
        for _ in 0..200 {
            if let Ok(r) = reqwest::get(&url).await {
                if r.status().is_success() {
                    return provider;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the OpenID Connect provider did not start");
    }
}

impl Provider {
    /// Changes the people the provider knows (read again at each sign-in).
    pub fn set_accounts(&self, accounts: Value) {
        let mut doc: Value =
            serde_json::from_str(&std::fs::read_to_string(self.config.path()).unwrap()).unwrap();
        doc["accounts"] = accounts;
        std::fs::write(self.config.path(), doc.to_string()).unwrap();
    }

    pub fn tamper(&self, t: Tamper) {
        *self.tamper.lock().unwrap() = t;
    }

    /// The tokens the provider issues to `client` (with its redirect URI)
    /// for `login`, with `nonce`: the code flow run by hand, the code caught
    /// on its way back and traded at the token endpoint.
    pub async fn tokens_for(
        &self,
        client: &str,
        redirect: &str,
        login: &str,
        nonce: &str,
    ) -> Tokens {
        use base64::Engine;
        use sha2::Digest;
        let verifier = "a-verifier-of-the-tests-long-enough-for-pkce-0123456789";
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(verifier.as_bytes()));
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut url = reqwest::Url::parse(&format!("{}/auth", self.issuer)).unwrap();
        url.query_pairs_mut()
            .append_pair("client_id", client)
            .append_pair("response_type", "code")
            .append_pair("scope", "openid email profile")
            .append_pair("redirect_uri", redirect)
            .append_pair("state", "some-state")
            .append_pair("nonce", nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        let back = through_login(&http, url.to_string(), login, redirect).await;
        let code = reqwest::Url::parse(&back)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.to_string())
            .expect("a code");
        let token: Value = http
            .post(format!("{}/token", self.issuer))
            .basic_auth(client, Some(CLIENT_SECRET))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", redirect),
                ("code_verifier", verifier),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Tokens {
            id_token: token["id_token"].as_str().expect("an ID token").to_string(),
            access_token: token["access_token"]
                .as_str()
                .expect("an access token")
                .to_string(),
        }
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Follows the provider's redirects from `url`, signs in as `login` on
/// its own login page, and follows on until a redirect leads to an address
/// starting with `until`, which is returned (not followed).
pub async fn through_login(
    http: &reqwest::Client,
    mut url: String,
    login: &str,
    until: &str,
) -> String {
    let mut signed = false;
    for _ in 0..20 {
        if url.starts_with(until) {
            return url;
        }
        let r = http.get(&url).send().await.unwrap();
        if r.status().is_redirection() {
            url = join(&url, &super::location(&r));
            continue;
        }
        let page = r.text().await.unwrap();
        assert!(!signed, "the provider asked twice: {page}");
        // The provider's own login page: a form posting login and password.
        let action = page
            .split("action=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or_else(|| panic!("no login form at {url}: {page}"))
            .to_string();
        let r = http
            .post(join(&url, &action))
            .form(&[("prompt", "login"), ("login", login), ("password", "any")])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_redirection(), "login refused: {}", r.status());
        url = join(&url, &super::location(&r));
        signed = true;
    }
    panic!("too many redirects");
}

fn join(base: &str, location: &str) -> String {
    reqwest::Url::parse(base)
        .unwrap()
        .join(location)
        .unwrap()
        .to_string()
}

/// The proxy in front of the provider (see the module's doc).
async fn start_proxy(listen: u16, provider: u16, tamper: Arc<Mutex<Tamper>>) {
    use axum::body::Body;
    use axum::extract::Request;
    use axum::response::Response;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let handler = move |req: Request| {
        let http = http.clone();
        let tamper = tamper.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
            let path = parts.uri.path().to_string();
            let url = format!(
                "http://127.0.0.1:{provider}{}",
                parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/")
            );
            let mut headers = parts.headers.clone();
            headers.remove(axum::http::header::CONTENT_LENGTH);
            let Ok(res) = http
                .request(parts.method, &url)
                .headers(headers)
                .body(body)
                .send()
                .await
            else {
                // The provider is not up yet.
                let mut out = Response::new(Body::empty());
                *out.status_mut() = axum::http::StatusCode::BAD_GATEWAY;
                return out;
            };
            let status = res.status();
            let mut headers = res.headers().clone();
            headers.remove(axum::http::header::TRANSFER_ENCODING);
            headers.remove(axum::http::header::CONNECTION);
            let mut bytes = res.bytes().await.unwrap().to_vec();
            let mode = tamper.lock().unwrap().clone();
            if path == "/token" && status.is_success() {
                let mut doc: Value = serde_json::from_slice(&bytes).unwrap();
                match mode {
                    Tamper::None => {}
                    Tamper::BreakSignature => {
                        let t = doc["id_token"].as_str().unwrap().to_string();
                        let (head, sig) = t.rsplit_once('.').unwrap();
                        let mut sig: Vec<char> = sig.chars().collect();
                        let i = sig.len() / 2;
                        sig[i] = if sig[i] == 'A' { 'B' } else { 'A' };
                        doc["id_token"] =
                            json!(format!("{head}.{}", sig.into_iter().collect::<String>()));
                    }
                    Tamper::Replace(t) => {
                        doc["id_token"] = json!(t.id_token);
                        doc["access_token"] = json!(t.access_token);
                    }
                }
                bytes = serde_json::to_vec(&doc).unwrap();
                headers.remove(axum::http::header::CONTENT_LENGTH);
            }
            let mut out = Response::new(Body::from(bytes));
            *out.status_mut() = status;
            *out.headers_mut() = headers;
            out
        }
    };
    let app = axum::Router::new().fallback(handler);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", listen))
        .await
        .unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
}
