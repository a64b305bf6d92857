//! A partner's guest is shown as a guest on the other sites too: their
//! site says so on their Person (`ruche:guest`), and the other sites put
//! the guest badge on them; a colleague who is no guest has none.

use federation_tests::{follow, network};
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_is_shown_as_one_on_the_other_sites() {
    let [mut alpha, mut beta, _gamma] = network();
    alpha.trust("beta.test", "member");
    beta.trust("alpha.test", "member");
    alpha.start().await;
    beta.start().await;
    let _boss = alpha.user("boss").await;
    let _gus = alpha.user("gus").await;
    let _ann = alpha.user("ann").await;
    let _root = beta.user("root").await;
    let bea = beta.user("bea").await;
    // Gus is a partner's guest on alpha (as a guest invitation makes him).
    alpha.exec(
        "INSERT INTO guests (user_id, invited_by, created_at, expires_at) \
         SELECT u.id, b.id, CURRENT_TIMESTAMP, '2099-01-01 00:00:00' \
         FROM users u, users b WHERE u.username = 'gus' AND b.username = 'boss'",
    );
    // Beta, looking them up, shows the badge on Gus only.
    let gus_on_beta = follow(&bea, &beta, &format!("@{}", alpha.handle("gus"))).await;
    let ann_on_beta = follow(&bea, &beta, &format!("@{}", alpha.handle("ann"))).await;
    // His Person says so; Ann's does not (fetched as beta fetches it,
    // signed by bea, whose keys exist once she followed someone).
    let (key, key_id) = beta.private_key("bea");
    let actor = |name: &str| {
        let url = format!("{}/people/{name}", alpha.base);
        let headers = federation_tests::sign_for(&url, None, &key_id, &key);
        async move {
            let r = federation_tests::with_headers(
                federation_tests::client()
                    .get(&url)
                    .header("accept", "application/activity+json"),
                headers,
            )
            .send()
            .await
            .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<serde_json::Value>().await.unwrap()
        }
    };
    let gus = actor("gus").await;
    assert_eq!(gus["ruche:guest"], true, "{gus}");
    assert!(actor("ann").await.get("ruche:guest").is_none());

    let (s, v) = bea.get(&format!("/api/v1/people/{gus_on_beta}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["guest"], true, "{v}");
    let (s, v) = bea.get(&format!("/api/v1/people/{ann_on_beta}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["guest"], false, "{v}");
    // And wherever people are listed: whom bea follows.
    let (s, v) = bea.get("/api/v1/people/bea/following").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let listed = v["items"]
        .as_array()
        .or(v.as_array())
        .cloned()
        .unwrap_or_default();
    let badge = |handle: &str| {
        listed
            .iter()
            .find(|p| p["username"] == handle || p["person"]["username"] == handle)
            .map(|p| p["guest"] == true || p["person"]["guest"] == true)
    };
    assert_eq!(badge(&gus_on_beta), Some(true), "{v}");
    assert_eq!(badge(&ann_on_beta), Some(false), "{v}");
}
