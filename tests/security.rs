//! The holes of the security review, one test each, named after the hole,
//! on one real instance over HTTP (SQLite, or PostgreSQL with
//! `RUCHE_TEST_DATABASE_URL`). Holes that cross instances are tested in
//! `federation-tests/tests/security.rs`.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::*;
use reqwest::StatusCode;
use ruche::config::FederationMode;
use serde_json::json;

/// A real listener on loopback that counts the connections made to it: the
/// service an attacker would like Ruche to reach.
struct Bait {
    port: u16,
    hits: Arc<AtomicUsize>,
}

impl Bait {
    async fn start(addr: &str) -> Bait {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                use tokio::io::AsyncWriteExt;
                let _ = sock
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/activity+json\r\ncontent-length: 2\r\n\r\n{}")
                    .await;
            }
        });
        Bait { port, hits }
    }

    async fn hits(&self) -> usize {
        // Give a connection that was started time to arrive.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        self.hits.load(Ordering::SeqCst)
    }
}

/// Every spelling of loopback that a URL parser reads as an address.
fn loopback_spellings(port: u16) -> Vec<String> {
    [
        "127.0.0.1",
        "2130706433",
        "0x7f000001",
        "0177.0.0.1",
        "127.1",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
    ]
    .iter()
    .map(|h| format!("http://{h}:{port}/users/admin"))
    .collect()
}

async fn lookups_reach_nothing(app: &TestApp, bait: &Bait, bait6: &Bait) {
    let ann = app.user("ann").await;
    let mut targets = loopback_spellings(bait.port);
    targets.push(format!("http://[::1]:{}/users/admin", bait6.port));
    for url in targets {
        let r = ann
            .get(&format!("/people/lookup?q={}", urlencode(&url)))
            .await;
        assert!(
            r.status.is_client_error() || r.status.is_server_error(),
            "{url}: {} {:?}",
            r.status,
            r.json
        );
        // The answer says nothing of the port (open or closed).
        let text = r.json.to_string().to_ascii_lowercase();
        assert!(
            !text.contains("refused") && !text.contains("tcp"),
            "{url}: {text}"
        );
    }
    assert_eq!(bait.hits().await, 0, "a loopback service was contacted");
    assert_eq!(
        bait6.hits().await,
        0,
        "an IPv6 loopback service was contacted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssrf_through_ip_literals_contacts_nothing_in_open_mode() {
    let bait = Bait::start("127.0.0.1:0").await;
    let bait6 = Bait::start("[::1]:0").await;
    let app = TestApp::start_with(|c| c.federation.mode = FederationMode::Open).await;
    lookups_reach_nothing(&app, &bait, &bait6).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssrf_through_ip_literals_contacts_nothing_when_an_admin_trusts_the_address() {
    let bait = Bait::start("127.0.0.1:0").await;
    let bait6 = Bait::start("[::1]:0").await;
    let app = TestApp::start().await;
    // Trusted, but without allowing private addresses.
    {
        let mut conn = app.db.get().unwrap();
        for host in ["127.0.0.1", "2130706433"] {
            ruche::net::trust::set(
                &mut conn,
                "test",
                ruche::net::trust::Entry {
                    domain: &format!("{host}:{}", bait.port),
                    level: ruche::net::trust::Level::Member,
                    reason: "",
                    expires_at: None,
                    allow_private: false,
                },
            )
            .unwrap();
        }
    }
    lookups_reach_nothing(&app, &bait, &bait6).await;
}

/// The control of the two tests above: with the range allowed, the same
/// lookup does reach the listener, so a zero there means something.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_private_range_is_reached() {
    let bait = Bait::start("127.0.0.1:0").await;
    let app = TestApp::start_with(|c| {
        c.federation.mode = FederationMode::Open;
        c.federation.allowed_private_ranges = vec!["127.0.0.0/8".into()];
    })
    .await;
    let ann = app.user("ann").await;
    let url = format!("http://2130706433:{}/users/admin", bait.port);
    ann.get(&format!("/people/lookup?q={}", urlencode(&url)))
        .await;
    assert!(bait.hits().await > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssrf_through_an_anonymous_inbox_key_id_contacts_nothing() {
    let bait = Bait::start("127.0.0.1:0").await;
    let app = TestApp::start_with(|c| c.federation.mode = FederationMode::Open).await;
    let body = json!({"id": "http://127.0.0.1/x", "type": "Create", "actor": "http://127.0.0.1/a"})
        .to_string();
    let digest = ruche::net::signature::digest(body.as_bytes());
    let date = ruche::net::signature::http_date(chrono::Utc::now());
    let host = app.base.trim_start_matches("http://").to_string();
    for (key_id, signature) in [
        // A garbage signature: refused before any key is fetched.
        (
            format!("http://127.0.0.1:{}/internal/admin?action=drop", bait.port),
            "Z2FyYmFnZQ==".to_string(),
        ),
        // A signature of the right size, at an IP literal.
        (
            format!(
                "http://0x7f000001:{}/internal/admin?action=drop#k",
                bait.port
            ),
            base64_of(&[7u8; 256]),
        ),
    ] {
        let header = format!(
            "keyId=\"{key_id}\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date digest\",signature=\"{signature}\""
        );
        let r = app
            .client()
            .post(app.url("/inbox"))
            .header("host", &host)
            .header("date", &date)
            .header("digest", &digest)
            .header("signature", header)
            .header("content-type", "application/activity+json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error() || r.status().is_server_error());
        let text = r.text().await.unwrap().to_ascii_lowercase();
        assert!(!text.contains("refused") && !text.contains("tcp"), "{text}");
    }
    assert_eq!(bait.hits().await, 0, "the key id's service was contacted");
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn community_with_document(app: &TestApp) -> (Api, Api, i64) {
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let r = ann
        .post(
            "/communities",
            json!({"name": "quality", "title": "Quality", "visibility": "public", "join_policy": "open"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let r = bob.post("/communities/quality/join", json!({})).await;
    assert!(r.status.is_success(), "{:?}", r.json);
    let r = upload_file(
        &ann,
        "/communities/quality/documents",
        "audit.pdf",
        b"%PDF-1.4 v1",
        "application/pdf",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let id = r.json["id"].as_i64().unwrap();
    (ann, bob, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn document_versions_by_a_plain_member_are_refused() {
    let app = TestApp::start().await;
    let (ann, bob, id) = community_with_document(&app).await;
    let r = bob.get(&format!("/documents/{id}")).await;
    assert_eq!(r.json["can_edit"], false);
    let r = upload_file(
        &bob,
        &format!("/documents/{id}/versions"),
        "audit.pdf",
        b"%PDF-1.4 forged",
        "application/pdf",
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.json);
    assert_eq!(r.code(), "document_not_editable");
    assert_eq!(app.count("document_versions"), 1);
    // The uploader still adds versions.
    let r = upload_file(
        &ann,
        &format!("/documents/{id}/versions"),
        "audit.pdf",
        b"%PDF-1.4 v2",
        "application/pdf",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    assert_eq!(app.count("document_versions"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploaded_files_are_served_as_safe_types_only() {
    let app = TestApp::start().await;
    let (ann, _bob, _) = community_with_document(&app).await;
    for (ct, served) in [
        ("text/html", "application/octet-stream"),
        ("image/svg+xml", "application/octet-stream"),
        ("application/javascript", "application/octet-stream"),
        ("application/pdf", "application/pdf"),
    ] {
        let r = upload_file(
            &ann,
            "/communities/quality/documents",
            "page.bin",
            b"<script>alert(1)</script>",
            ct,
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
        let id = r.json["id"].as_i64().unwrap();
        let res = ann
            .client
            .get(format!(
                "{}/api/v1/documents/{id}/versions/1/file",
                ann.base
            ))
            .bearer_auth(&ann.token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let h = res.headers();
        assert_eq!(h["content-type"], served, "claimed {ct}");
        assert!(h["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"));
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert!(h["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("sandbox"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_decompression_bombs_are_refused_before_decoding() {
    let app = TestApp::start().await;
    let ann = app.user("ann").await;
    let r = ann
        .put_bytes("/me/photo", png_declaring(10_000, 10_000), "image/png")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.json);
    assert_eq!(r.code(), "photo_dimensions");
    assert_eq!(app.count("photos"), 0);
    // A real photo still passes.
    let r = ann.put_bytes("/me/photo", png(640, 480), "image/png").await;
    assert!(r.status.is_success(), "{:?}", r.json);
    assert_eq!(app.count("photos"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_limits_count_the_username_and_the_email_as_one_account() {
    let app = TestApp::start_with(|c| c.accounts.max_failures_per_address = 1000).await;
    app.user("ann").await;
    for i in 0..5 {
        let login = if i % 2 == 0 { "ann" } else { "ann@example.com" };
        let r = app.token_request(login, "wrong password").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "guess {i}");
    }
    // The limit is reached for the account, whichever name is typed.
    for login in ["ann", "ANN@example.com"] {
        let r = app.token_request(login, PASSWORD).await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "{login}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sign_in_guesses_check_no_more_passwords_than_the_limit() {
    let app = TestApp::start_with(|c| c.accounts.max_failures_per_address = 1000).await;
    app.user("ann").await;
    let mut tasks = Vec::new();
    for i in 0..24 {
        let (client, url) = (app.client(), app.url("/api/v1/auth/token"));
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .json(&json!({"login": if i % 2 == 0 { "ann" } else { "ann@example.com" }, "password": format!("guess {i}")}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut checked = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(checked, 5, "passwords checked against a limit of 5");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_communities_are_indistinguishable_from_unused_names() {
    let app = TestApp::start().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let r = ann
        .post(
            "/communities",
            json!({"name": "skunkworks", "title": "Skunkworks", "visibility": "secret", "join_policy": "invitation"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    // Taking the name answers as for a person's name: nothing singles out
    // a community.
    let as_community = bob
        .post(
            "/communities",
            json!({"name": "skunkworks", "title": "Mine"}),
        )
        .await;
    let as_person_name = bob
        .post("/communities", json!({"name": "ann", "title": "Mine"}))
        .await;
    assert_eq!(as_community.status, as_person_name.status);
    assert_eq!(as_community.json, as_person_name.json);
    let signup = |name: &'static str| {
        let (client, url) = (app.client(), app.url("/api/v1/accounts"));
        async move {
            let r = client
                .post(url)
                .json(&json!({"username": name, "email": format!("{name}2@example.com"), "password": PASSWORD}))
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    assert_eq!(signup("skunkworks").await, signup("ann").await);
    // A mention of the community's name is plain text, like an unused one.
    let r = bob
        .post(
            "/posts",
            json!({"body": "hello @skunkworks and @nobody and @ann"}),
        )
        .await;
    let html = r.json["body_html"].as_str().unwrap();
    assert!(!html.contains("/skunkworks"), "{html}");
    assert!(html.contains("/people/ann"), "{html}");
    assert_eq!(app.count("notifications"), 1, "only ann is notified");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_redirect_at_sign_in_is_refused() {
    let app = TestApp::start().await;
    app.create_account("ann", false);
    for (next, expected) in [
        ("/%09/evil.test/", "/"),
        ("/\t/evil.test/", "/"),
        ("//evil.test/", "/"),
        ("/\\evil.test/", "/"),
        ("https://evil.test/", "/"),
        (
            "/communities/quality/documents",
            "/communities/quality/documents",
        ),
    ] {
        let b = Browser::new(&app.base);
        let csrf = b.csrf("/login").await;
        let r = b
            .post_form(
                "/login",
                &[
                    ("csrf", csrf.as_str()),
                    ("login", "ann"),
                    ("password", PASSWORD),
                    ("next", &percent_decode(next)),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()["location"], expected, "next={next:?}");
    }
}

fn percent_decode(s: &str) -> String {
    s.replace("%09", "\t")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_an_account_revokes_its_api_tokens_for_good() {
    let app = TestApp::start().await;
    app.create_account("boss", true);
    let boss = app.login_api("boss").await;
    let bob = app.user("bob").await;
    assert_eq!(bob.get("/me").await.status, StatusCode::OK);
    assert!(boss
        .post("/admin/users/bob/disable", json!({}))
        .await
        .status
        .is_success());
    assert_eq!(bob.get("/me").await.status, StatusCode::UNAUTHORIZED);
    assert!(boss
        .post("/admin/users/bob/enable", json!({}))
        .await
        .status
        .is_success());
    // Enabled again, the old token stays dead; signing in again works.
    assert_eq!(bob.get("/me").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.login_api("bob").await.get("/me").await.status,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_bytes_are_refused_with_a_clear_error() {
    let app = TestApp::start().await;
    let ann = app.user("ann").await;
    let before = app.count("content");
    let r = ann
        .post("/posts", json!({"body": "before\u{0}after"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.json);
    assert_eq!(r.code(), "field_invalid");
    assert!(r.message().contains("body"), "{}", r.message());
    assert_eq!(app.count("content"), before);
    let r = ann
        .post("/communities", json!({"name": "team", "title": "T\u{0}"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.json);
    assert_eq!(app.count("communities"), 0);
}
