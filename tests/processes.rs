//! Two servers on one database keep no state of their own: sessions, photos,
//! posts and sign-in limits are shared.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_sessions_posts_photos_and_limits() {
    let app = TestApp::start_with(|c| c.accounts.max_failures_per_account = 2).await;
    let other = app.another_server().await;

    // Signed in on the first server; the same cookie works on the second
    // (cookies ignore the port, as behind one load balancer).
    let b = app.browser_user("alice").await;
    let on_other = |path: &str| format!("{other}{path}");
    let csrf = b.csrf("/").await;
    let r = b
        .client
        .post(on_other("/posts"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("body", "written through the second server"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(b
        .html("/")
        .await
        .contains("written through the second server"));

    // A photo uploaded on one is served by the other.
    let alice = app.login_api("alice").await;
    assert_eq!(
        alice
            .put_bytes("/me/photo", png(40, 40), "image/png")
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let r = b
        .client
        .get(on_other("/people/alice/photo?v=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/jpeg");

    // Failed sign-ins on one count on the other.
    app.user("bob").await;
    let attempt = |base: String, password: &'static str| async move {
        reqwest::Client::new()
            .post(format!("{base}/api/v1/auth/token"))
            .json(&json!({"login": "bob", "password": password}))
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(
        attempt(app.base.clone(), "wrong one").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        attempt(other.clone(), "wrong two").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        attempt(app.base.clone(), PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );

    // Signing out on one ends the session on both.
    let csrf = b.csrf("/").await;
    b.client
        .post(on_other("/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(b.get("/").await.status(), StatusCode::SEE_OTHER);
}
