//! Mentions of people of another instance: `@name@host` becomes a real
//! mention, whatever door the text comes through (the post form, the API,
//! a comment, an edit, a community post) and even when nobody here knew
//! that person before.

use federation_tests::{trusting_network, wait_count, Browser};
use reqwest::StatusCode;
use serde_json::json;

/// Mentions of the remote person `handle` (as another instance stores
/// them: `name@host:port`).
fn mentions_of(handle: &str) -> String {
    format!(
        "SELECT COUNT(*) FROM mentions m JOIN users u ON u.id = m.user_id \
         WHERE u.username = '{handle}' AND u.domain IS NOT NULL"
    )
}

/// Notifications of kind `mention` on `home` for `name`.
fn notified(name: &str) -> String {
    format!(
        "SELECT COUNT(*) FROM notifications n JOIN users u ON u.id = n.user_id \
         WHERE u.username = '{name}' AND n.kind = 'mention'"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_mentions_resolve_through_every_door() {
    let [alpha, beta, _gamma] = trusting_network().await;
    let ann = alpha.user("ann").await;
    for name in ["bob", "cat", "dan", "eve", "fay"] {
        beta.user(name).await;
    }
    let web = Browser::sign_in(&alpha, "ann").await;
    // Nobody on alpha knows anyone on beta yet.
    assert_eq!(
        alpha.count("SELECT COUNT(*) FROM users WHERE domain IS NOT NULL"),
        0
    );

    // The post form of the home page.
    let csrf = web.csrf("/").await;
    let bob = beta.handle("bob");
    let r = web
        .post_form(
            "/posts",
            &[
                ("csrf", &csrf),
                ("body", &format!("Shift report for @{bob}")),
                ("visibility", "public"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(alpha.count(&mentions_of(&bob)), 1, "form post");
    wait_count(&beta, &notified("bob"), 1, "bob notified on beta").await;
    let post_id = alpha.count("SELECT MAX(id) FROM content");

    // A comment through the API.
    let cat = beta.handle("cat");
    let (s, v) = ann
        .post(
            &format!("/api/v1/posts/{post_id}/comments"),
            json!({"body": format!("@{cat} can you check?")}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(alpha.count(&mentions_of(&cat)), 1, "API comment");
    wait_count(&beta, &notified("cat"), 1, "cat notified on beta").await;

    // A comment through the page form.
    let dan = beta.handle("dan");
    let csrf = web.csrf(&format!("/posts/{post_id}")).await;
    let r = web
        .post_form(
            &format!("/posts/{post_id}/comments"),
            &[("csrf", &csrf), ("body", &format!("Thanks @{dan}"))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(alpha.count(&mentions_of(&dan)), 1, "form comment");
    wait_count(&beta, &notified("dan"), 1, "dan notified on beta").await;

    // An edit through the page form names someone new.
    let eve = beta.handle("eve");
    let csrf = web.csrf(&format!("/posts/{post_id}/edit")).await;
    let r = web
        .post_form(
            &format!("/posts/{post_id}/edit"),
            &[
                ("csrf", &csrf),
                ("body", &format!("Shift report for @{bob} and @{eve}")),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(alpha.count(&mentions_of(&eve)), 1, "form edit");

    // An edit through the API.
    let fay = beta.handle("fay");
    let (s, v) = ann
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/posts/{post_id}"),
            Some(json!({"body": format!("Shift report for @{bob}, @{eve} and @{fay}")})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(alpha.count(&mentions_of(&fay)), 1, "API edit");

    // A name nobody has stays plain text, and the post is still published.
    let ghost = beta.handle("ghost");
    let (s, v) = ann
        .post("/api/v1/posts", json!({"body": format!("Hello @{ghost}")}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(alpha.count(&mentions_of(&ghost)), 0);
}
