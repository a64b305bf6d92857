//! `TestApp`: a real Ruche instance on a random port with a fresh database
//! (a temporary SQLite file, or a new PostgreSQL database when
//! `RUCHE_TEST_DATABASE_URL` is set), and HTTP helpers to drive it.

#![allow(dead_code)]

pub mod ldap;
pub mod oidc;
pub mod passkey;
pub mod smtp;

use diesel::prelude::*;
use diesel::RunQueryDsl;
use reqwest::{Client, StatusCode};
use ruche::db::schema;
use ruche::db::Db;
use ruche::Config;
use serde_json::{json, Value};

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub base: String,
    pub config: Config,
    pub db: Db,
    _dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

fn pg_admin_url() -> Option<String> {
    std::env::var("RUCHE_TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
}

fn random_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{:x}{:x}", n, std::process::id())
}

/// A fresh database URL: a temporary SQLite file, or a new PostgreSQL database.
pub fn fresh_database(dir: &std::path::Path) -> (String, Option<(String, String)>) {
    match pg_admin_url() {
        Some(admin) => {
            let name = format!("ruche_test_{}", random_suffix());
            let mut conn = diesel::PgConnection::establish(&admin)
                .expect("connect to RUCHE_TEST_DATABASE_URL");
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .expect("create test database");
            let (prefix, _) = admin.rsplit_once('/').expect("database URL has a path");
            (format!("{prefix}/{name}"), Some((admin, name)))
        }
        None => (format!("sqlite://{}", dir.join("ruche.db").display()), None),
    }
}

pub fn drop_database(pg: &Option<(String, String)>) {
    if let Some((admin, name)) = pg {
        if let Ok(mut conn) = diesel::PgConnection::establish(admin) {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn);
        }
    }
}

impl TestApp {
    pub async fn start() -> TestApp {
        TestApp::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let (url, pg) = fresh_database(dir.path());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = Config::load_from(None, &[]).unwrap();
        config.listen = addr.to_string();
        config.base_url = format!("http://{addr}");
        config.database.url = url.clone();
        config.database.pool_size = 4;
        config.content.live_pulse_ms = 100;
        config.documents.path = dir.path().join("files").display().to_string();
        tweak(&mut config);
        let cfg = config.clone();
        tokio::spawn(async move {
            ruche::serve_on(listener, cfg).await.expect("server runs");
        });
        let base = format!("http://{addr}");
        // Wait until it answers (migrations run at start-up).
        for _ in 0..200 {
            if let Ok(r) = reqwest::get(format!("{base}/healthz")).await {
                if r.status().is_success() {
                    break;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        let db = Db::open(&url, 2).unwrap();
        TestApp {
            base,
            config,
            db,
            _dir: dir,
            pg,
        }
    }

    /// Starts a second server process-equivalent on the same database (as
    /// several stateless Ruche processes share one PostgreSQL); returns its
    /// base URL.
    pub async fn another_server(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = self.config.clone();
        config.listen = addr.to_string();
        config.base_url = format!("http://{addr}");
        tokio::spawn(async move {
            ruche::serve_on(listener, config)
                .await
                .expect("server runs");
        });
        let base = format!("http://{addr}");
        for _ in 0..200 {
            if reqwest::get(format!("{base}/healthz")).await.is_ok() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        base
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A client without a cookie jar and without following redirects.
    pub fn client(&self) -> Client {
        Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// Creates an account through the API and returns a bearer token for it.
    pub async fn user(&self, username: &str) -> Api {
        let r = self
            .client()
            .post(self.url("/api/v1/accounts"))
            .json(&json!({"username": username, "email": format!("{username}@example.com"), "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "{}",
            r.text().await.unwrap()
        );
        self.login_api(username).await
    }

    pub async fn login_api(&self, username: &str) -> Api {
        let r = self
            .client()
            .post(self.url("/api/v1/auth/token"))
            .json(&json!({"login": username, "password": PASSWORD, "name": "tests"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        Api {
            base: self.base.clone(),
            token: v["token"].as_str().unwrap().to_string(),
            client: self.client(),
        }
    }

    /// A browser-like client with a cookie jar, signed up through the pages.
    pub async fn browser_user(&self, username: &str) -> Browser {
        let b = Browser::new(&self.base);
        let csrf = b.csrf("/signup").await;
        let r = b
            .post_form(
                "/signup",
                &[
                    ("csrf", csrf.as_str()),
                    ("username", username),
                    ("email", &format!("{username}@example.com")),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "{}",
            r.text().await.unwrap()
        );
        b
    }

    /// Creates an account directly, as `ruche admin create-user` does.
    pub fn create_account(&self, username: &str, is_admin: bool) {
        let mut conn = self.db.get().unwrap();
        ruche::accounts::create_user(
            &mut conn,
            &self.config.accounts,
            ruche::accounts::NewAccount {
                username,
                email: &format!("{username}@example.com"),
                password: PASSWORD,
                is_admin,
                invite: None,
                welcome: None,
            },
            ruche::accounts::CreatedBy::Admin,
        )
        .unwrap();
    }

    /// A browser-like client signed in to an existing account.
    pub async fn browser_login(&self, username: &str) -> Browser {
        let b = Browser::new(&self.base);
        let csrf = b.csrf("/login").await;
        let r = b
            .post_form(
                "/login",
                &[
                    ("csrf", csrf.as_str()),
                    ("login", username),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "sign-in of {username}");
        b
    }

    /// Asks for an API token with a login and password; the raw response.
    pub async fn token_request(&self, login: &str, password: &str) -> reqwest::Response {
        self.client()
            .post(self.url("/api/v1/auth/token"))
            .json(&json!({"login": login, "password": password}))
            .send()
            .await
            .unwrap()
    }

    pub fn count(&self, table: &str) -> i64 {
        let mut conn = self.db.get().unwrap();
        let conn = &mut *conn;
        macro_rules! n {
            ($t:path) => {{
                use $t as t;
                t::table.count().get_result::<i64>(conn).unwrap()
            }};
        }
        match table {
            "users" => n!(schema::users),
            "content" => n!(schema::content),
            "content_search" => n!(schema::content_search),
            "endorsements" => n!(schema::endorsements),
            "content_revisions" => n!(schema::content_revisions),
            "reactions" => n!(schema::reactions),
            "follows" => n!(schema::follows),
            "photos" => n!(schema::photos),
            "sessions" => n!(schema::sessions),
            "api_tokens" => n!(schema::api_tokens),
            "invitations" => n!(schema::invitations),
            "user_skills" => n!(schema::user_skills),
            "instances" => n!(schema::instances),
            "trust_audit" => n!(schema::trust_audit),
            "communities" => n!(schema::communities),
            "community_members" => n!(schema::community_members),
            "moderation_log" => n!(schema::moderation_log),
            "notifications" => n!(schema::notifications),
            "documents" => n!(schema::documents),
            "document_versions" => n!(schema::document_versions),
            "media" => n!(schema::media),
            "mail_queue" => n!(schema::mail_queue),
            "password_resets" => n!(schema::password_resets),
            "sso_identities" => n!(schema::sso_identities),
            "sso_pending" => n!(schema::sso_pending),
            "guests" => n!(schema::guests),
            "leavers" => n!(schema::leavers),
            "passkeys" => n!(schema::passkeys),
            "recovery_codes" => n!(schema::recovery_codes),
            "polls" => n!(schema::polls),
            "poll_options" => n!(schema::poll_options),
            "poll_votes" => n!(schema::poll_votes),
            "ideas" => n!(schema::ideas),
            "questions" => n!(schema::questions),
            "event_details" => n!(schema::event_details),
            "event_rsvps" => n!(schema::event_rsvps),
            "calendar_feeds" => n!(schema::calendar_feeds),
            "surveys" => n!(schema::surveys),
            "survey_questions" => n!(schema::survey_questions),
            "survey_responses" => n!(schema::survey_responses),
            "survey_answers" => n!(schema::survey_answers),
            other => panic!("no counter for {other}"),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        drop_database(&self.pg);
    }
}

/// A JSON API client with a bearer token.
pub struct Api {
    pub base: String,
    pub token: String,
    pub client: Client,
}

pub struct Resp {
    pub status: StatusCode,
    pub json: Value,
}

impl Resp {
    /// The error code of an `{"error": {...}}` body.
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }
    pub fn message(&self) -> &str {
        self.json["error"]["message"].as_str().unwrap_or("")
    }
}

impl Api {
    async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        let r = req.bearer_auth(&self.token).send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Resp { status, json }
    }
    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.client.get(format!("{}/api/v1{path}", self.base)))
            .await
    }
    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(
            self.client
                .post(format!("{}/api/v1{path}", self.base))
                .json(&body),
        )
        .await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.send(
            self.client
                .patch(format!("{}/api/v1{path}", self.base))
                .json(&body),
        )
        .await
    }
    pub async fn put(&self, path: &str) -> Resp {
        self.send(self.client.put(format!("{}/api/v1{path}", self.base)))
            .await
    }
    pub async fn put_bytes(&self, path: &str, bytes: Vec<u8>, content_type: &str) -> Resp {
        self.send(
            self.client
                .put(format!("{}/api/v1{path}", self.base))
                .header("content-type", content_type)
                .body(bytes),
        )
        .await
    }
    pub async fn delete(&self, path: &str) -> Resp {
        self.send(self.client.delete(format!("{}/api/v1{path}", self.base)))
            .await
    }
    pub async fn send_json(&self, method: reqwest::Method, path: &str, body: Value) -> Resp {
        self.send(
            self.client
                .request(method, format!("{}/api/v1{path}", self.base))
                .json(&body),
        )
        .await
    }
    pub async fn delete_json(&self, path: &str, body: Value) -> Resp {
        self.send(
            self.client
                .delete(format!("{}/api/v1{path}", self.base))
                .json(&body),
        )
        .await
    }
    /// Publishes a post and returns its id.
    pub async fn post_text(&self, body: &str) -> i64 {
        let r = self.post("/posts", json!({"body": body})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
        r.json["id"].as_i64().unwrap()
    }
}

/// A cookie-keeping client that behaves like a browser submitting forms.
pub struct Browser {
    pub base: String,
    pub client: Client,
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        Browser {
            base: base.to_string(),
            client: Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                // As a browser asks for a page.
                .default_headers(reqwest::header::HeaderMap::from_iter([(
                    reqwest::header::ACCEPT,
                    reqwest::header::HeaderValue::from_static(
                        "text/html,application/xhtml+xml,*/*;q=0.8",
                    ),
                )]))
                .build()
                .unwrap(),
        }
    }
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }
    pub async fn get_lang(&self, path: &str, lang: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .header("accept-language", lang)
            .send()
            .await
            .unwrap()
    }
    pub async fn html(&self, path: &str) -> String {
        let r = self.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "GET {path}");
        r.text().await.unwrap()
    }
    /// The CSRF token of the first form on a page.
    pub async fn csrf(&self, path: &str) -> String {
        let html = self.get(path).await.text().await.unwrap();
        extract_csrf(&html).unwrap_or_else(|| panic!("no csrf field on {path}"))
    }
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await
            .unwrap()
    }
    /// Posts JSON as the page's script does; the status and the answer.
    pub async fn post_json(&self, path: &str, body: Value) -> Resp {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::ACCEPT, "application/json")
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let json = r.json().await.unwrap_or(Value::Null);
        Resp { status, json }
    }
}

/// Where a redirect leads (empty when none).
pub fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

pub fn extract_csrf(html: &str) -> Option<String> {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

/// A small PNG image.
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let img = image::RgbImage::from_pixel(w, h, image::Rgb([10, 120, 200]));
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// A PNG file of one pixel whose header declares `w` × `h` pixels (with a
/// correct checksum): what an image "bomb" shows before it is decoded.
pub fn png_declaring(w: u32, h: u32) -> Vec<u8> {
    let mut out = png(1, 1);
    out[16..20].copy_from_slice(&w.to_be_bytes());
    out[20..24].copy_from_slice(&h.to_be_bytes());
    let mut crc = !0u32;
    for b in &out[12..29] {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    out[29..33].copy_from_slice(&(!crc).to_be_bytes());
    out
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Uploads `bytes` as a file named `filename` of type `ct` to an API path
/// (a community's documents, or a document's versions).
pub async fn upload_file(api: &Api, path: &str, filename: &str, bytes: &[u8], ct: &str) -> Resp {
    let r = api
        .client
        .post(format!(
            "{}/api/v1{path}?filename={}",
            api.base,
            urlencode(filename)
        ))
        .bearer_auth(&api.token)
        .header("content-type", ct)
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    Resp {
        status,
        json: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

/// How many files the instance keeps in its file store (documents and
/// attachments).
pub fn files_on_disk(app: &TestApp) -> usize {
    let root = std::path::PathBuf::from(&app.config.documents.path);
    let Ok(dirs) = std::fs::read_dir(&root) else {
        return 0;
    };
    dirs.flatten()
        .map(|d| std::fs::read_dir(d.path()).map(|f| f.count()).unwrap_or(0))
        .sum()
}
