//! Watching a community: each new post and document version there is a
//! notification for the watchers who may read it (and a new version for
//! the document's earlier authors), e-mailed as each person chose.

mod common;

use common::smtp::{self, Smtp};
use common::{upload_file, Api, TestApp};
use reqwest::StatusCode;
use serde_json::json;

/// The kinds of `api`'s notifications, newest first, with the post each
/// is about.
async fn notices(api: &Api) -> Vec<(String, Option<i64>)> {
    let n = api.get("/notifications").await.json;
    n["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap().to_string(),
                i["content_id"].as_i64(),
            )
        })
        .collect()
}

async fn post_in(api: &Api, community: &str, body: &str) -> i64 {
    let r = api
        .post(
            &format!("/communities/{community}/posts"),
            json!({ "body": body }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    r.json["id"].as_i64().unwrap()
}

#[tokio::test]
async fn watchers_are_told_of_each_post_they_may_read() {
    let app = TestApp::start().await;
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let carl = app.user("carl").await;
    for (name, visibility) in [("qualite", "public"), ("labo", "private")] {
        let r = ana
            .post(
                "/communities",
                json!({"name": name, "title": name, "visibility": visibility, "join_policy": "open"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    }
    // bob watches the public community without joining it.
    assert_eq!(
        bob.get("/communities/qualite/watch").await.json["watching"],
        false
    );
    let r = bob.put("/communities/qualite/watch").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.json);
    assert_eq!(
        bob.get("/communities/qualite/watch").await.json["watching"],
        true
    );
    // Twice is once.
    assert_eq!(
        bob.put("/communities/qualite/watch").await.status,
        StatusCode::NO_CONTENT
    );
    let post = post_in(&ana, "qualite", "Audit plan for March").await;
    assert_eq!(
        notices(&bob).await,
        vec![("community_post".to_string(), Some(post))]
    );
    assert!(notices(&carl).await.is_empty(), "carl does not watch");
    assert!(notices(&ana).await.is_empty(), "not told of one's own post");
    // Mentioned in it: told once, of the mention.
    let mention = post_in(&ana, "qualite", "@bob can you review it?").await;
    let n = notices(&bob).await;
    assert_eq!(n.len(), 2, "{n:?}");
    assert_eq!(n[0], ("mention".to_string(), Some(mention)));

    // A private community: told while a member, not after leaving.
    assert_eq!(
        bob.post("/communities/labo/join", json!({})).await.status,
        StatusCode::OK
    );
    bob.put("/communities/labo/watch").await;
    let inside = post_in(&ana, "labo", "Lab results are in").await;
    assert_eq!(
        notices(&bob).await[0],
        ("community_post".to_string(), Some(inside))
    );
    assert_eq!(
        bob.delete("/communities/labo/membership").await.status,
        StatusCode::NO_CONTENT
    );
    post_in(&ana, "labo", "Confidential follow-up").await;
    assert_eq!(notices(&bob).await.len(), 3, "nothing after leaving");
    // And one cannot start watching what one may not read.
    let r = bob.put("/communities/labo/watch").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.json);
    assert_eq!(
        bob.get("/communities/nowhere/watch").await.status,
        StatusCode::NOT_FOUND
    );

    // Stopping: nothing more.
    assert_eq!(
        bob.delete("/communities/qualite/watch").await.status,
        StatusCode::NO_CONTENT
    );
    post_in(&ana, "qualite", "Second audit plan").await;
    assert_eq!(notices(&bob).await.len(), 3);

    // The community page offers it.
    let page = app.browser_login("carl").await;
    let html = page.html("/communities/qualite").await;
    assert!(html.contains("/communities/qualite/watch"), "{html}");
    let csrf = common::extract_csrf(&html).unwrap();
    let r = page
        .post_form("/communities/qualite/watch", &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = page.html("/communities/qualite").await;
    assert!(html.contains("Watching ✓"), "{html}");
    assert!(html.contains("/communities/qualite/unwatch"), "{html}");
    let n = page.html("/notifications").await;
    assert!(!n.contains("posted in"), "{n}");
    post_in(&ana, "qualite", "Third audit plan").await;
    let n = page.html("/notifications").await;
    assert!(n.contains("posted in"), "{n}");
}

#[tokio::test]
async fn a_new_document_version_is_told_to_its_earlier_authors_and_by_e_mail() {
    if !smtp::available() {
        return;
    }
    let server = Smtp::start().await;
    let url = server.url();
    let app = TestApp::start_with(move |c| {
        c.mail.smtp_url = url;
        c.mail.retry_base_ms = 100;
        c.mail.notify_delay_seconds = 1;
        c.federation.poll_interval_ms = 100;
    })
    .await;
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let dan = app.user("dan").await;
    server.confirm_addresses(&app.base, 3).await;
    let r = ana
        .post(
            "/communities",
            json!({"name": "qualite", "title": "Qualité Paris"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    for p in [&bob, &dan] {
        assert_eq!(
            p.post("/communities/qualite/join", json!({})).await.status,
            StatusCode::OK
        );
    }
    // dan watches and wants these at once.
    dan.put("/communities/qualite/watch").await;
    let r = dan
        .send_json(
            reqwest::Method::PUT,
            "/me/mail-preferences",
            json!({"community_post": "now", "document_updated": "now"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(r.json["preferences"]["document_updated"], "now");

    // bob uploads a document: dan hears of it.
    let r = upload_file(
        &bob,
        "/communities/qualite/documents",
        "procedure.txt",
        b"Step one",
        "text/plain",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let doc = r.json["id"].as_i64().unwrap();
    let m = server.wait_kind("notification", 1).await.pop().unwrap();
    assert_eq!(m.to, "dan@example.com");
    assert_eq!(m.subject, "bob posted in Qualité Paris");
    assert!(notices(&ana).await.is_empty());

    // ana (the owner) uploads version 2: bob, its first author, and dan,
    // who watches, are told; ana is not.
    let r = upload_file(
        &ana,
        &format!("/documents/{doc}/versions"),
        "procedure-v2.txt",
        b"Step one, then two",
        "text/plain",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    // (Reading one's notifications on the site marks them seen: dan's
    // are read after his e-mail left.)
    let mails = server.wait_kind("notification", 2).await;
    let m = mails.last().unwrap();
    assert_eq!(m.to, "dan@example.com");
    assert_eq!(m.subject, "ana updated a document in Qualité Paris");
    assert!(m.text.contains("procedure"), "{}", m.text);
    assert_eq!(notices(&dan).await[0].0, "document_updated");
    let n = notices(&bob).await;
    assert_eq!(n[0].0, "document_updated", "{n:?}");
    assert!(notices(&ana).await.is_empty());
    // bob reads this kind in the digest (the default): no e-mail now.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(server
        .all()
        .iter()
        .all(|m| m.to != "bob@example.com" || m.kind() != "notification"));
}
