//! Must-reads across sites: a community's host marks one of its posts
//! (`ruche:mustRead` in the community's `Update`), its members of other
//! sites are asked and told there; their confirmation is a `Read` of the
//! post, sent to the community, which counts it. Only members count, and
//! only the host marks.

use federation_tests::{ask_to_join, eventually, network, wait_count, Api, ForeignServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn must_read_ids(v: &Value) -> Vec<i64> {
    v["must_read"]
        .as_array()
        .map(|a| a.iter().map(|i| i["id"].as_i64().unwrap()).collect())
        .unwrap_or_default()
}

async fn readers(api: &Api, id: i64) -> Value {
    let (s, v) = api
        .get(&format!("/api/v1/posts/{id}/must-read/readers"))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_community_must_read_is_read_on_another_site_and_counted_where_it_lives() {
    let [mut alpha, mut beta, gamma] = network();
    let foreign = ForeignServer::start().await;
    for i in [&alpha, &beta] {
        i.trust(&foreign.authority(), "partner");
    }
    alpha.trust("beta.test", "member");
    beta.trust("alpha.test", "member");
    alpha.start().await;
    beta.start().await;
    drop(gamma);
    let ann = alpha.user("ann").await;
    let abe = alpha.user("abe").await;
    let bea = beta.user("bea").await;
    let ben = beta.user("ben").await;
    let (s, v) = ann
        .post(
            "/api/v1/communities",
            json!({"name": "securite", "title": "Sécurité"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = abe
        .post("/api/v1/communities/securite/join", json!({}))
        .await;
    assert!(s.is_success(), "{v}");
    let handle = ask_to_join(&bea, &alpha, "securite").await;
    ask_to_join(&ben, &alpha, "securite").await;
    wait_count(
        &beta,
        "SELECT COUNT(*) FROM community_members m JOIN users u ON u.id = m.user_id WHERE u.username IN ('bea', 'ben') AND m.status = 'member'",
        2,
        "bea and ben to be members",
    )
    .await;
    let (s, p) = ann
        .post(
            "/api/v1/communities/securite/posts",
            json!({"body": "New badge rules from Monday: everyone on site wears one."}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let here = p["id"].as_i64().unwrap();
    let q = "SELECT COUNT(*) FROM content WHERE body LIKE 'New badge rules%'";
    wait_count(&beta, q, 1, "the post on beta").await;
    let on_beta = beta.count("SELECT id FROM content WHERE body LIKE 'New badge rules%'");

    // A moderator elsewhere does not mark it: the community's site does.
    let (s, v) = bea
        .call(
            Method::PUT,
            &format!("/api/v1/posts/{on_beta}/must-read"),
            None,
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("must_read_community_remote")),
        "{v}"
    );

    let (s, v) = ann
        .call(
            Method::PUT,
            &format!("/api/v1/posts/{here}/must-read"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["tally"]["audience"], 3, "abe, bea and ben: {v}");

    // Beta hears of it: it heads Bea's feed and her community's page, she
    // is told; the tally is not kept there.
    let feed = eventually(15, "the must-read on beta", || async {
        let (_, f) = bea.get("/api/v1/feed").await;
        (must_read_ids(&f) == [on_beta]).then_some(f)
    })
    .await;
    let top = &feed["must_read"][0]["must_read"];
    assert_eq!(
        (top["asked"].as_bool(), top["scope"].as_str()),
        (Some(true), Some("community")),
        "{feed}"
    );
    let (_, f) = bea
        .get(&format!("/api/v1/communities/{handle}/posts"))
        .await;
    assert_eq!(must_read_ids(&f), [on_beta], "{f}");
    let (_, n) = bea.get("/api/v1/notifications").await;
    assert!(
        n["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["kind"] == "must_read" && i["content_id"] == on_beta),
        "{n}"
    );

    // Bea reads it: a Read goes to the community, which counts her.
    let (s, v) = bea
        .post(
            &format!("/api/v1/posts/{on_beta}/must-read/confirmation"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["read"], true);
    let (_, f) = bea.get("/api/v1/feed").await;
    assert!(must_read_ids(&f).is_empty(), "{f}");
    let r = eventually(15, "bea counted on alpha", || async {
        let r = readers(&ann, here).await;
        (r["tally"]["read"] == 1).then_some(r)
    })
    .await;
    let read: Vec<&str> = r["read"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["username"].as_str().unwrap())
        .collect();
    assert_eq!(read.len(), 1);
    assert!(read[0].starts_with("bea@beta.test"), "{r}");
    assert_eq!(r["unread"][0]["username"], "abe");
    assert_eq!(r["unread"].as_array().unwrap().len(), 2, "{r}");

    // Someone of another server who is no member is not counted.
    let post_url = format!("{}/posts/{here}", alpha.base);
    let fb = foreign.base.clone();
    let (s, body) = foreign
        .send_value(
            &format!("{}/communities/securite/inbox", alpha.base),
            &json!({
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": format!("{fb}/users/alice/read/1"),
                "type": "Read",
                "actor": format!("{fb}/users/alice"),
                "object": post_url,
            }),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(readers(&ann, here).await["tally"]["read"], 1);
    assert_eq!(
        alpha.count("SELECT COUNT(*) FROM must_read_confirmations"),
        1
    );

    // A post Bea wrote in the community, marked on alpha: Ben reads it on
    // beta, and alpha counts him (the post is known there by its address
    // on beta).
    let (s, p) = bea
        .post(
            &format!("/api/v1/communities/{handle}/posts"),
            json!({"body": "Gate 4 stays closed during the works."}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let bea_post = p["id"].as_i64().unwrap();
    let q = "SELECT COUNT(*) FROM content WHERE body LIKE 'Gate 4 stays closed%'";
    wait_count(&alpha, q, 1, "bea's post on alpha").await;
    let on_alpha = alpha.count("SELECT id FROM content WHERE body LIKE 'Gate 4 stays closed%'");
    let (s, v) = ann
        .call(
            Method::PUT,
            &format!("/api/v1/posts/{on_alpha}/must-read"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["tally"]["audience"], 3, "ann, abe and ben: {v}");
    eventually(15, "bea's post a must-read for ben", || async {
        let (_, f) = ben.get("/api/v1/feed").await;
        must_read_ids(&f).contains(&bea_post).then_some(())
    })
    .await;
    let (_, p) = bea.get(&format!("/api/v1/posts/{bea_post}")).await;
    assert_eq!(
        p["must_read"]["asked"], false,
        "its author is not asked: {p}"
    );
    let (s, v) = ben
        .post(
            &format!("/api/v1/posts/{bea_post}/must-read/confirmation"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    eventually(15, "ben counted on alpha", || async {
        let r = readers(&ann, on_alpha).await;
        (r["tally"]["read"] == 1).then_some(())
    })
    .await;

    // Lifted on alpha, lifted on beta.
    let (s, v) = ann
        .call(
            Method::DELETE,
            &format!("/api/v1/posts/{here}/must-read"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    eventually(15, "the mark lifted on beta", || async {
        let (_, p) = bea.get(&format!("/api/v1/posts/{on_beta}")).await;
        p["must_read"].is_null().then_some(())
    })
    .await;
}
