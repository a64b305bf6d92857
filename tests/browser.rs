//! End to end in real headless Chromium (through ChromeDriver's W3C WebDriver
//! protocol): sign up, post, and see the post in the feed, at phone and
//! desktop widths. Skipped when ChromeDriver is absent, unless
//! RUCHE_REQUIRE_BROWSER=1 (as in CI), where its absence fails the test.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    process: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

impl Driver {
    async fn start(width: u32, height: u32) -> Option<Driver> {
        let driver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists());
        let Some(driver) = driver else {
            assert!(
                std::env::var("RUCHE_REQUIRE_BROWSER").is_err(),
                "RUCHE_REQUIRE_BROWSER is set but chromedriver is not installed"
            );
            eprintln!(
                "skipped: chromedriver is not installed (apt-get install chromium chromium-driver)"
            );
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let process = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..100 {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", format!("--user-data-dir={}", profile.path().display()),
                    format!("--window-size={width},{height}"),
                ]
            }
        }}});
        let r: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {r}"))
            .to_string();
        Some(Driver {
            process,
            base,
            session,
            http,
            _profile: profile,
        })
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        assert!(v["value"]["error"].is_null(), "{path}: {v}");
        v["value"].clone()
    }
    async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }
    async fn find(&self, css: &str) -> String {
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("{css}: {v}"))
            .to_string()
    }
    async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{el}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }
    async fn click(&self, css: &str) {
        let el = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{el}/click"),
            Some(json!({})),
        )
        .await;
    }
    async fn script(&self, js: &str) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": js, "args": []})),
        )
        .await
    }
    async fn source(&self) -> String {
        self.cmd(reqwest::Method::GET, "/source", None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }
    /// The page source once it contains `needle` (the browser may still be
    /// following the form's redirect), or None after five seconds.
    async fn wait_for_source(&self, needle: &str) -> Option<String> {
        for _ in 0..50 {
            let html = self.source().await;
            if html.contains(needle) {
                return Some(html);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    }
    async fn wait_for_url(&self, suffix: &str) -> bool {
        for _ in 0..50 {
            if self.url().await.ends_with(suffix) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }
    async fn url(&self) -> String {
        self.cmd(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }
    async fn screenshot(&self, name: &str) {
        use base64::Engine;
        let v = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap();
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
        std::fs::write(dir.join(name), png).unwrap();
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

async fn sign_up_post_and_read(width: u32, height: u32, user: &str) {
    let app = TestApp::start().await;
    let Some(d) = Driver::start(width, height).await else {
        return;
    };
    d.goto(&app.url("/signup")).await;
    d.type_into("#username", user).await;
    d.type_into("#email", &format!("{user}@example.com")).await;
    d.type_into("#password", PASSWORD).await;
    d.click("form[action='/signup'] button[type=submit]").await;
    assert!(
        d.wait_for_url("/profile/edit").await,
        "after sign-up: {}",
        d.url().await
    );

    d.goto(&app.url("/")).await;
    let text = format!("Hello from a {width}px screen #e2e");
    d.type_into("#body", &text).await;
    d.click("form[action='/posts'] button[type=submit]").await;
    let html = d
        .wait_for_source(&format!("Hello from a {width}px screen"))
        .await
        .expect("post not in the feed");
    assert!(html.contains("href=\"/tags/e2e\""));
    // Nothing overflows sideways: no horizontal scrolling on a phone.
    let overflow = d
        .script("return document.documentElement.scrollWidth - window.innerWidth")
        .await;
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "page is wider than the {width}px window by {overflow}"
    );
    // The composer's field is reachable with the keyboard and labelled.
    let label = d
        .script("return document.querySelector(\"label[for='body']\").textContent")
        .await;
    assert!(!label.as_str().unwrap().is_empty());
    d.screenshot(&format!("feed-{width}.png")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_width_sign_up_post_and_read() {
    sign_up_post_and_read(375, 812, "phoneuser").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desktop_width_sign_up_post_and_read() {
    sign_up_post_and_read(1280, 900, "deskuser").await;
}
