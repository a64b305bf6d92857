//! Someone leaves the company: their site disables their account, and the
//! other sites are told at once (an Update of their Person, `suspended`),
//! show them as gone while keeping what they wrote, and stop delivering to
//! them; enabled again, they are back everywhere.

use federation_tests::{eventually, follow, network, Api};
use reqwest::StatusCode;
use serde_json::json;

/// How many deliveries `from` wrote for the instance `to` (`host:port`).
fn deliveries_to(from: &federation_tests::Instance, to: &str) -> i64 {
    from.count(&format!(
        "SELECT COUNT(*) FROM deliveries WHERE inbox LIKE '%//{to}/%'"
    ))
}

async fn post(api: &Api, text: &str) {
    let (s, v) = api
        .post(
            "/api/v1/posts",
            json!({"body": text, "visibility": "public"}),
        )
        .await;
    assert!(s.is_success(), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leaver_is_gone_everywhere_at_once_and_back_when_enabled() {
    let [mut alpha, mut beta, _gamma] = network();
    alpha.trust("beta.test", "member");
    beta.trust("alpha.test", "member");
    alpha.start().await;
    beta.start().await;
    // The first account of a site is its administrator.
    let boss = alpha.user("boss").await;
    let ann = alpha.user("ann").await;
    // (bea is not beta's administrator, who sees disabled accounts.)
    let _root = beta.user("root").await;
    let bea = beta.user("bea").await;
    let ann_on_beta = follow(&bea, &beta, &format!("@{}", alpha.handle("ann"))).await;
    follow(&ann, &alpha, &format!("@{}", beta.handle("bea"))).await;
    post(&ann, "My last report before I leave").await;
    eventually(30, "ann's post on beta", || async {
        (beta.count("SELECT COUNT(*) FROM content WHERE body LIKE '%last report%'") == 1)
            .then_some(())
    })
    .await;
    let ann_handle = alpha.handle("ann").to_ascii_lowercase();
    let shown =
        format!("SELECT COUNT(*) FROM users WHERE username = '{ann_handle}' AND NOT disabled");
    assert_eq!(beta.count(&shown), 1);
    let (s, _) = bea.get(&format!("/api/v1/people/{ann_on_beta}")).await;
    assert_eq!(s, StatusCode::OK);

    // She leaves: her site disables her account.
    let (s, v) = boss
        .post("/api/v1/admin/users/ann/disable", json!({}))
        .await;
    assert!(s.is_success(), "{v}");
    // Her API token stopped working at once.
    let (s, _) = ann.get("/api/v1/me").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Beta is told, and shows her as gone; what she wrote stays.
    eventually(30, "beta to show ann as gone", || async {
        (beta.count(&shown) == 0).then_some(())
    })
    .await;
    let (s, _) = bea.get(&format!("/api/v1/people/{ann_on_beta}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(
        beta.count(
            "SELECT COUNT(*) FROM content WHERE body LIKE '%last report%' AND deleted_at IS NULL"
        ),
        1
    );
    // Her Person, as her site serves it now: closed, nothing of the
    // profile but her name.
    // (fetched as beta fetches it: signed, by bea)
    let url = format!("{}/people/ann", alpha.base);
    let (key, key_id) = beta.private_key("bea");
    let actor: serde_json::Value = federation_tests::with_headers(
        federation_tests::client()
            .get(&url)
            .header("accept", "application/activity+json"),
        federation_tests::sign_for(&url, None, &key_id, &key),
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(actor["suspended"], true, "{actor}");
    assert!(actor.get("attachment").is_none(), "{actor}");

    // Beta delivers nothing more to her: bea's next post makes no delivery
    // for alpha (ann was bea's only follower there).
    let before = deliveries_to(&beta, &alpha.authority());
    post(&bea, "News for my followers").await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(deliveries_to(&beta, &alpha.authority()), before);

    // Enabled again (she came back): shown again, delivered to again.
    let (s, v) = boss.post("/api/v1/admin/users/ann/enable", json!({})).await;
    assert!(s.is_success(), "{v}");
    eventually(30, "beta to show ann again", || async {
        (beta.count(&shown) == 1).then_some(())
    })
    .await;
    let (s, _) = bea.get(&format!("/api/v1/people/{ann_on_beta}")).await;
    assert_eq!(s, StatusCode::OK);
    post(&bea, "Welcome back, Ann").await;
    eventually(30, "bea's post to reach alpha again", || async {
        (alpha.count("SELECT COUNT(*) FROM content WHERE body LIKE '%Welcome back%'") == 1)
            .then_some(())
    })
    .await;
}
