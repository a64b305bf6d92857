//! Scenarios between real Ruche processes over real HTTP with real
//! signatures. Each test starts its own instances with fresh databases.

use std::time::Duration;

use federation_tests::{
    client, eventually, follow, network, sign_for, signed_get, trusting_network, with_headers, Api,
    Instance,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A small PNG (an 8×8 blue square).
fn png() -> Vec<u8> {
    let mut out = Vec::new();
    let img = image::RgbImage::from_pixel(8, 8, image::Rgb([20, 60, 200]));
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

async fn feed_bodies(api: &Api) -> Vec<String> {
    stream(api, "following").await
}

/// The bodies of one page of a home stream (`following`, `site`,
/// `organisation`).
async fn stream(api: &Api, stream: &str) -> Vec<String> {
    let (s, v) = api.get(&format!("/api/v1/feed?stream={stream}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["body_html"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_follow_post_comment_react_and_delete_across_sites() {
    let [mut alpha, mut beta, mut gamma] = network();
    alpha.trust("beta.test", "member");
    beta.trust("alpha.test", "member");
    // gamma trusts both, but neither trusts gamma.
    gamma.trust("alpha.test", "member");
    gamma.trust("beta.test", "member");
    alpha.start().await;
    beta.start().await;
    gamma.start().await;
    let ann = alpha.user("ann").await;
    let bob = beta.user("bob").await;
    let gus = gamma.user("gus").await;

    // WebFinger and NodeInfo answer without a signature.
    let wf: Value = client()
        .get(format!(
            "{}/.well-known/webfinger?resource=acct:bob@beta.test:{}",
            beta.base, beta.port
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(wf["links"][0]["href"], format!("{}/people/bob", beta.base));
    let ni = client()
        .get(format!("{}/.well-known/nodeinfo", beta.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ni.status(), StatusCode::OK);

    // An unsigned actor fetch is refused in allowlist mode.
    let r = client()
        .get(format!("{}/people/bob", beta.base))
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // Ann finds Bob by handle and follows him; beta accepts.
    let bob_handle = format!("bob@beta.test:{}", beta.port);
    follow(&ann, &alpha, &format!("@{bob_handle}")).await;
    let (_, prof) = ann.get(&format!("/api/v1/people/{bob_handle}")).await;
    assert_eq!(prof["username"], bob_handle.as_str());
    assert_eq!(beta.count("SELECT COUNT(*) FROM follows"), 1);

    // Bob posts: it reaches Ann's feed on alpha.
    let (s, post) = bob
        .post(
            "/api/v1/posts",
            json!({"body": "Hello from **beta** #news"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{post}");
    let post_id = post["id"].as_i64().unwrap();
    eventually(10, "bob's post on alpha", || async {
        feed_bodies(&ann)
            .await
            .iter()
            .any(|b| b.contains("Hello from <strong>beta</strong>"))
            .then_some(())
    })
    .await;

    // Bob edits: the new text replaces the old on alpha, history kept.
    let (s, _) = bob
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/posts/{post_id}"),
            Some(json!({"body": "Hello again from beta"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    eventually(10, "the edit on alpha", || async {
        feed_bodies(&ann)
            .await
            .iter()
            .any(|b| b.contains("Hello again from beta"))
            .then_some(())
    })
    .await;
    assert_eq!(alpha.count("SELECT COUNT(*) FROM content_revisions"), 1);

    // Ann comments and likes: both reach beta.
    let (_, feed) = ann.get("/api/v1/feed").await;
    let local_id = feed["items"][0]["id"].as_i64().unwrap();
    let (s, v) = ann
        .post(
            &format!("/api/v1/posts/{local_id}/comments"),
            json!({"body": "Welcome @bob@beta.test:".to_string() + &beta.port.to_string()}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, _) = ann
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/posts/{local_id}/reactions/like"),
            None,
        )
        .await;
    assert!(s.is_success());
    let (s, _) = ann
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/posts/{local_id}/reactions/bravo"),
            None,
        )
        .await;
    assert!(s.is_success());
    eventually(10, "ann's comment and reactions on beta", || async {
        let (_, comments) = bob.get(&format!("/api/v1/posts/{post_id}/comments")).await;
        let (_, reactions) = bob.get(&format!("/api/v1/posts/{post_id}/reactions")).await;
        let has_comment = comments.to_string().contains("Welcome");
        let kinds = reactions.to_string();
        (has_comment && kinds.contains("like") && kinds.contains("bravo")).then_some(())
    })
    .await;
    // The mention notified Bob, and the reply too.
    let (_, n) = bob.get("/api/v1/notifications").await;
    let kinds: Vec<&str> = n["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"mention"), "{n}");
    assert!(kinds.contains(&"follow"), "{n}");

    // Bob's profile change reaches alpha.
    let (s, _) = bob
        .call(
            reqwest::Method::PATCH,
            "/api/v1/me",
            Some(json!({"job_title": "Welder", "department": "Plant 2"})),
        )
        .await;
    assert!(s.is_success());
    eventually(10, "bob's new job title on alpha", || async {
        let (_, p) = ann.get(&format!("/api/v1/people/{bob_handle}")).await;
        (p["job_title"] == "Welder" && p["department"] == "Plant 2").then_some(())
    })
    .await;
    // A new photo too: alpha fetches it with a signed request and keeps its
    // own re-encoded copy; unsigned, beta does not serve it to strangers.
    let r = client()
        .put(format!("{}/api/v1/me/photo", beta.base))
        .bearer_auth(&bob.token)
        .header("content-type", "image/png")
        .body(png())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let photo = eventually(10, "bob's photo on alpha", || async {
        let (_, p) = ann.get(&format!("/api/v1/people/{bob_handle}")).await;
        p["photo_url"].as_str().map(str::to_string)
    })
    .await;
    let r = client()
        .get(format!("{}{photo}", alpha.base))
        .bearer_auth(&ann.token)
        .send()
        .await
        .unwrap();
    let _ = r;
    let r = client()
        .get(format!("{}/people/bob/photo?v=1", beta.base))
        .send()
        .await
        .unwrap();
    assert!(!r.status().is_success(), "{}", r.status());

    // Bob deletes the post: it disappears on alpha.
    let (s, _) = bob
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/posts/{post_id}"),
            None,
        )
        .await;
    assert!(s.is_success());
    eventually(10, "the deletion on alpha", || async {
        feed_bodies(&ann)
            .await
            .iter()
            .all(|b| !b.contains("Hello again"))
            .then_some(())
    })
    .await;

    // Gamma is not trusted by alpha nor beta: looking it up and following
    // from gamma are refused, and nothing from alpha reaches gamma.
    let (s, v) = gus
        .get(&format!(
            "/api/v1/people/lookup?q=@bob@beta.test:{}",
            beta.port
        ))
        .await;
    assert!(s.is_client_error() || s.is_server_error(), "{v}");
    let (s, v) = ann
        .get(&format!(
            "/api/v1/people/lookup?q=@gus@gamma.test:{}",
            gamma.port
        ))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["error"]["code"], "instance_not_trusted");
    let (_, _) = ann
        .post("/api/v1/posts", json!({"body": "alpha only news"}))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(gamma.count("SELECT COUNT(*) FROM content"), 0);

    // Ann unfollows: beta forgets the follow.
    let (s, _) = ann
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/people/{bob_handle}/follow"),
            None,
        )
        .await;
    assert!(s.is_success());
    eventually(10, "the Undo on beta", || async {
        (beta.count("SELECT COUNT(*) FROM follows") == 0).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_was_down_gets_every_post_once() {
    let [mut alpha, mut beta, _gamma] = network();
    alpha.trust("beta.test", "member");
    beta.trust("alpha.test", "member");
    alpha.start().await;
    beta.start().await;
    let ann = alpha.user("ann").await;
    let bob = beta.user("bob").await;
    follow(&bob, &beta, &format!("@ann@alpha.test:{}", alpha.port)).await;

    beta.stop(false);
    for i in 0..20 {
        let (s, _) = ann
            .post("/api/v1/posts", json!({"body": format!("news number {i}")}))
            .await;
        assert_eq!(s, StatusCode::CREATED);
    }
    // Let the deliveries fail a few times while beta is down.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(alpha.count("SELECT COUNT(*) FROM deliveries WHERE status = 'pending'") > 0);
    beta.start().await;
    eventually(30, "all 20 posts on beta", || async {
        (beta.count("SELECT COUNT(*) FROM content") == 20).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        beta.count("SELECT COUNT(*) FROM content"),
        20,
        "each post stored once"
    );
    assert_eq!(
        alpha.count("SELECT COUNT(*) FROM deliveries WHERE status <> 'sent'"),
        0
    );

    // Ann deletes her account: beta is told, her posts and profile go.
    let (s, v) = ann
        .call(
            reqwest::Method::DELETE,
            "/api/v1/me",
            Some(json!({"password": federation_tests::PASSWORD})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    eventually(10, "ann's deletion on beta", || async {
        (beta.count("SELECT COUNT(*) FROM content WHERE deleted_at IS NULL") == 0).then_some(())
    })
    .await;
    let (s, _) = bob
        .get(&format!("/api/v1/people/ann@alpha.test:{}", alpha.port))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(feed_bodies(&bob).await.is_empty());
}

/// Posts `body` to beta's shared inbox signed with `key` as `key_id`, with
/// optional header overrides.
async fn post_inbox(
    beta: &Instance,
    body: &[u8],
    key_id: &str,
    key: &str,
    tweak: impl FnOnce(&mut Vec<(&'static str, String)>),
) -> (StatusCode, String) {
    let inbox = format!("{}/inbox", beta.base);
    let mut headers = sign_for(&inbox, Some(body), key_id, key);
    tweak(&mut headers);
    let req = with_headers(client().post(&inbox).body(body.to_vec()), headers);
    let r = req.send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_or_malformed_activities_are_refused_and_change_nothing() {
    let [mut alpha, mut beta, _gamma] = network();
    alpha.trust("beta.test", "member");
    beta.trust("alpha.test", "member");
    alpha.start().await;
    beta.start().await;
    let ann = alpha.user("ann").await;
    let bob = beta.user("bob").await;
    let _ = ann;
    // Bob follows Ann, so that Ann's posts are wanted on beta (and Ann's key
    // exists); Bob posts something Ann will try to edit.
    follow(&bob, &beta, &format!("@ann@alpha.test:{}", alpha.port)).await;
    let (_, bob_post) = bob
        .post("/api/v1/posts", json!({"body": "bob's own words"}))
        .await;
    let bob_post_url = format!("{}/posts/{}", beta.base, bob_post["id"]);
    let (key, key_id) = alpha.private_key("ann");
    let ann_url = format!("{}/people/ann", alpha.base);
    let note = |id: &str, author: &str| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{id}/activity"),
            "type": "Create",
            "actor": ann_url,
            "object": {"id": id, "type": "Note", "attributedTo": author, "content": "<p>hi</p>",
                       "to": ["https://www.w3.org/ns/activitystreams#Public"]}
        })
        .to_string()
        .into_bytes()
    };
    let good = note(&format!("{}/posts/999", alpha.base), &ann_url);
    let before = beta.count("SELECT COUNT(*) FROM content");

    // A key that is not Ann's.
    let forged = ruche::net::keys::generate().unwrap();
    let (s, b) = post_inbox(&beta, &good, &key_id, &forged.private_pem, |_| {}).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
    assert!(b.contains("signature_invalid"), "{b}");

    // The right key, but the digest of another body.
    let (s, b) = post_inbox(&beta, &good, &key_id, &key, |h| {
        for (n, v) in h.iter_mut() {
            if *n == "digest" {
                *v = ruche::net::signature::digest(b"something else");
            }
        }
    })
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
    assert!(b.contains("digest_mismatch"), "{b}");

    // A stale date (the signature covers it, so it is re-signed by hand here:
    // changing the header alone must fail too).
    let (s, b) = post_inbox(&beta, &good, &key_id, &key, |h| {
        for (n, v) in h.iter_mut() {
            if *n == "date" {
                *v = "Mon, 23 Nov 2020 00:00:00 GMT".into();
            }
        }
    })
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
    assert!(b.contains("signature_date"), "{b}");

    // An object claimed from another instance.
    let foreign = note("http://gamma.test/posts/1", &ann_url);
    let (s, b) = post_inbox(&beta, &foreign, &key_id, &key, |_| {}).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert!(b.contains("origin_mismatch"), "{b}");

    // Ann trying to update Bob's post.
    let update = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/evil", alpha.base),
        "type": "Update",
        "actor": ann_url,
        "object": {"id": bob_post_url, "type": "Note", "attributedTo": ann_url, "content": "<p>pwned</p>"}
    })
    .to_string()
    .into_bytes();
    let (s, b) = post_inbox(&beta, &update, &key_id, &key, |_| {}).await;
    assert!(
        s == StatusCode::BAD_REQUEST || s == StatusCode::FORBIDDEN,
        "{s} {b}"
    );

    // An oversized body.
    let big = vec![b' '; 300 * 1024];
    let (s, b) = post_inbox(&beta, &big, &key_id, &key, |_| {}).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{b}");

    // Nothing was stored, and Bob's post is untouched.
    assert_eq!(beta.count("SELECT COUNT(*) FROM content"), before);
    assert_eq!(
        beta.count("SELECT COUNT(*) FROM content WHERE body_html LIKE '%pwned%'"),
        0
    );

    // The same activity, correctly signed, is accepted once.
    let (s, b) = post_inbox(&beta, &good, &key_id, &key, |_| {}).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let (s, _) = post_inbox(&beta, &good, &key_id, &key, |_| {}).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(beta.count("SELECT COUNT(*) FROM content"), before + 1);

    // A Like of a post that never leaves beta is answered as unknown.
    let (_, local) = bob
        .post(
            "/api/v1/posts",
            json!({"body": "beta only", "visibility": "instance"}),
        )
        .await;
    let like = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/like-local", alpha.base),
        "type": "Like",
        "actor": ann_url,
        "object": format!("{}/posts/{}", beta.base, local["id"])
    })
    .to_string()
    .into_bytes();
    let (s, b) = post_inbox(&beta, &like, &key_id, &key, |_| {}).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    assert_eq!(beta.count("SELECT COUNT(*) FROM reactions"), 0);
}

/// GETs `url` as ActivityPub, signed with `key` as `key_id` when given.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partners_never_see_organisation_posts_and_a_block_beats_an_allow() {
    let [mut alpha, mut beta, mut gamma] = network();
    alpha.trust("beta.test", "member");
    alpha.trust("gamma.test", "partner");
    beta.trust("alpha.test", "member");
    gamma.trust("alpha.test", "partner");
    alpha.start().await;
    beta.start().await;
    gamma.start().await;
    let ann = alpha.user("ann").await;
    let bob = beta.user("bob").await; // first account: beta's administrator
    let gus = gamma.user("gus").await;
    let ann_handle = format!("@ann@alpha.test:{}", alpha.port);
    follow(&bob, &beta, &ann_handle).await;
    follow(&gus, &gamma, &ann_handle).await;

    let (_, org) = ann
        .post(
            "/api/v1/posts",
            json!({"body": "org only plans", "visibility": "organisation"}),
        )
        .await;
    let (_, public) = ann
        .post(
            "/api/v1/posts",
            json!({"body": "news for all", "visibility": "public"}),
        )
        .await;
    let (_, local) = ann
        .post(
            "/api/v1/posts",
            json!({"body": "canteen menu", "visibility": "instance"}),
        )
        .await;
    eventually(10, "both posts on beta", || async {
        let b = feed_bodies(&bob).await.join(" ");
        (b.contains("org only plans") && b.contains("news for all")).then_some(())
    })
    .await;
    eventually(10, "the public post on gamma", || async {
        feed_bodies(&gus)
            .await
            .join(" ")
            .contains("news for all")
            .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let on_gamma = feed_bodies(&gus).await.join(" ");
    assert!(!on_gamma.contains("org only"), "{on_gamma}");
    assert!(!on_gamma.contains("canteen"), "{on_gamma}");
    assert!(!feed_bodies(&bob).await.join(" ").contains("canteen"));
    assert_eq!(
        gamma.count("SELECT COUNT(*) FROM content WHERE body_html LIKE '%org only%'"),
        0
    );

    // Fetching: gamma (partner) gets the public post but not the
    // organisation one; beta (member) gets both; unsigned gets nothing;
    // the instance-only post never leaves.
    let url = |p: &Value| format!("{}/posts/{}", alpha.base, p["id"]);
    let (gk, gid) = gamma.private_key("gus");
    let (bk, bid) = beta.private_key("bob");
    assert_eq!(
        signed_get(&url(&public), Some((&gk, &gid))).await,
        StatusCode::OK
    );
    assert_eq!(
        signed_get(&url(&org), Some((&gk, &gid))).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        signed_get(&url(&org), Some((&bk, &bid))).await,
        StatusCode::OK
    );
    assert_eq!(
        signed_get(&url(&local), Some((&bk, &bid))).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        signed_get(&url(&public), None).await,
        StatusCode::UNAUTHORIZED
    );

    // A block on the parent domain beats beta's own member entry: alpha
    // sends nothing more to beta and refuses what beta sends.
    alpha.trust("test", "blocked");
    let (_, _) = ann
        .post("/api/v1/posts", json!({"body": "after the block"}))
        .await;
    let (_, feed) = bob.get("/api/v1/feed").await;
    let remote_id = feed["items"][0]["id"].as_i64().unwrap();
    let (s, _) = bob
        .post(
            &format!("/api/v1/posts/{remote_id}/comments"),
            json!({"body": "a reply from beta"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    // beta's delivery is refused with 403, so it fails for good and shows
    // on beta's federation page with a retry button.
    let failed_id = eventually(10, "the failed delivery on beta", || async {
        let (_, v) = bob.get("/api/v1/admin/federation").await;
        v["failed"]
            .as_array()
            .and_then(|a| a.first())
            .and_then(|d| d["id"].as_i64())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!feed_bodies(&bob)
        .await
        .join(" ")
        .contains("after the block"));
    assert_eq!(
        alpha.count("SELECT COUNT(*) FROM content WHERE body_html LIKE '%reply from beta%'"),
        0
    );

    // The block is lifted; the administrator of beta sends the delivery again.
    alpha.cli(&["admin", "trust", "remove", "test", "--reason", "lifted"]);
    let (s, v) = bob
        .post(
            &format!("/api/v1/admin/deliveries/{failed_id}/retry"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    eventually(10, "the reply on alpha after the retry", || async {
        (alpha.count("SELECT COUNT(*) FROM content WHERE body_html LIKE '%reply from beta%'") == 1)
            .then_some(())
    })
    .await;
    // What was written during the block never left for beta, even after.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        alpha.count("SELECT COUNT(*) FROM deliveries WHERE activity LIKE '%after the block%' AND domain LIKE 'beta.test:%'"),
        0
    );
    assert!(!feed_bodies(&bob)
        .await
        .join(" ")
        .contains("after the block"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_killed_mid_fan_out_delivers_everything_after_restart() {
    let [mut alpha, mut beta, mut gamma] = network();
    for (i, other) in [("beta.test", &beta), ("gamma.test", &gamma)] {
        alpha.trust(i, "member");
        other.trust("alpha.test", "member");
    }
    alpha.start().await;
    beta.start().await;
    gamma.start().await;
    let ann = alpha.user("ann").await;
    let handle = format!("@ann@alpha.test:{}", alpha.port);
    // Several followers on each side: still one delivery per instance.
    for (home, names) in [
        (&beta, ["bob", "bea", "ben"]),
        (&gamma, ["gus", "gil", "gwen"]),
    ] {
        for n in names {
            let api = home.user(n).await;
            follow(&api, home, &handle).await;
        }
    }
    const POSTS: i64 = 300;
    for i in 0..POSTS {
        let (s, _) = ann
            .post("/api/v1/posts", json!({"body": format!("bulletin {i}")}))
            .await;
        assert_eq!(s, StatusCode::CREATED);
    }
    // Kill alpha while it is delivering.
    eventually(20, "the first posts on beta", || async {
        (beta.count("SELECT COUNT(*) FROM content") > 0).then_some(())
    })
    .await;
    alpha.stop(true);
    let left = alpha.count("SELECT COUNT(*) FROM deliveries WHERE status = 'pending'")
        + alpha.count("SELECT COUNT(*) FROM fed_events");
    println!("work left when killed: {left}");
    alpha.start().await;
    for inst in [&beta, &gamma] {
        eventually(60, "every post on both receivers", || async {
            (inst.count("SELECT COUNT(*) FROM content") == POSTS).then_some(())
        })
        .await;
    }
    // A delivery sent just before the kill but not yet recorded is sent
    // again once its lease expires; the receivers store it once.
    eventually(30, "every delivery recorded as sent", || async {
        (alpha.count("SELECT COUNT(*) FROM deliveries WHERE status <> 'sent'") == 0).then_some(())
    })
    .await;
    for inst in [&beta, &gamma] {
        assert_eq!(inst.count("SELECT COUNT(*) FROM content"), POSTS);
    }
    // One delivery per instance and post, not per follower.
    assert_eq!(
        alpha.count("SELECT COUNT(*) FROM deliveries WHERE activity LIKE '%\"type\":\"Create\"%'"),
        2 * POSTS
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_database_never_send_a_delivery_twice() {
    let [mut alpha, mut beta, _gamma] = network();
    alpha.trust("beta.test", "member");
    beta.trust("alpha.test", "member");
    alpha.start().await;
    let mut alpha2 = alpha.sibling();
    alpha2.start().await;
    beta.start().await;
    let ann = alpha.user("ann").await;
    let bob = beta.user("bob").await;
    follow(&bob, &beta, &format!("@ann@alpha.test:{}", alpha.port)).await;
    const POSTS: i64 = 200;
    for i in 0..POSTS {
        let (s, _) = ann
            .post("/api/v1/posts", json!({"body": format!("memo {i}")}))
            .await;
        assert_eq!(s, StatusCode::CREATED);
    }
    eventually(30, "every memo on beta", || async {
        (beta.count("SELECT COUNT(*) FROM content") == POSTS).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Beta counts activities that arrived again after being applied: none.
    assert_eq!(
        beta.count("SELECT COALESCE(SUM(repeats), 0) FROM inbox_seen"),
        0
    );
    assert_eq!(
        alpha.count("SELECT COUNT(*) FROM deliveries WHERE status = 'sent' AND activity LIKE '%\"type\":\"Create\"%'"),
        POSTS
    );
    assert_eq!(
        alpha.count("SELECT COUNT(*) FROM deliveries WHERE attempts <> 1"),
        0
    );
    alpha2.stop(false);
}

/// Actors, Follows and notes shaped as Mastodon, GoToSocial and Lemmy publish
/// them (fixtures written from their documentation) are read, followed
/// people get an Accept, and our posts reach their shared inbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mastodon_gotosocial_and_lemmy_shapes_are_understood() {
    use federation_tests::ForeignServer;
    let [_alpha, mut beta, _gamma] = network();
    let foreign = ForeignServer::start().await;
    beta.trust(&foreign.authority(), "partner");
    beta.start().await;
    let bob = beta.user("bob").await;
    let bob_url = format!("{}/people/bob", beta.base);
    let inbox = format!("{}/people/bob/inbox", beta.base);
    let fb = &foreign.base;
    let people = [
        (
            "mastodon_follow.json",
            format!("{fb}/users/alice#main-key"),
            format!("{fb}/users/alice/inbox"),
            "alice",
        ),
        (
            "gotosocial_follow.json",
            format!("{fb}/users/gary/main-key"),
            format!("{fb}/users/gary/inbox"),
            "gary",
        ),
        (
            "lemmy_follow.json",
            format!("{fb}/u/carol#main-key"),
            format!("{fb}/u/carol/inbox"),
            "carol",
        ),
    ];
    for (fixture, key_id, _, _) in &people {
        let (s, b) = foreign.send(&inbox, fixture, key_id, &bob_url).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{fixture}: {b}");
    }
    // Each Follow is answered with a signed Accept at the follower's inbox.
    for (fixture, _, their_inbox, _) in &people {
        let follow: Value =
            serde_json::from_str(&federation_tests::fixture(fixture, fb, "", &bob_url)).unwrap();
        let accept = eventually(10, "an Accept", || async {
            foreign.received().into_iter().find(|(path, _, v)| {
                their_inbox.ends_with(path.as_str())
                    && v["type"] == "Accept"
                    && v["object"]["id"] == follow["id"]
            })
        })
        .await;
        assert!(
            accept
                .1
                .contains(&format!("keyId=\"{}/people/bob#main-key\"", beta.base)),
            "{}",
            accept.1
        );
        assert_eq!(accept.2["actor"], bob_url.as_str());
    }
    let (_, followers) = bob.get("/api/v1/people/bob/followers").await;
    let names: Vec<&str> = followers["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["username"].as_str())
        .collect();
    assert_eq!(names.len(), 3, "{followers}");
    let (_, alice) = bob
        .get(&format!(
            "/api/v1/people/alice@partner.test:{}",
            foreign.port
        ))
        .await;
    assert_eq!(
        alice["site"], "Lyon plant",
        "profile fields are read as text: {alice}"
    );
    assert!(!alice.to_string().contains("<script"), "{alice}");

    // Bob posts: Mastodon's and Lemmy's shared inbox receive one Create each,
    // GoToSocial's its own shared inbox.
    let (_, post) = bob
        .post("/api/v1/posts", json!({"body": "Plant visit on Friday"}))
        .await;
    let post_url = format!("{}/posts/{}", beta.base, post["id"]);
    eventually(10, "the Create at the shared inboxes", || async {
        let got = foreign.received();
        let creates: Vec<&String> = got
            .iter()
            .filter(|(_, _, v)| v["type"] == "Create" && v["object"]["id"] == post_url.as_str())
            .map(|(p, _, _)| p)
            .collect();
        (creates.contains(&&"/inbox".to_string())
            && creates.contains(&&"/sharedInbox".to_string())
            && creates.len() == 2)
            .then_some(())
    })
    .await;

    // Their notes: a Mastodon mention, GoToSocial and Lemmy replies.
    let (s, b) = foreign
        .send(
            &format!("{}/inbox", beta.base),
            "mastodon_create_note.json",
            &people[0].1,
            &bob_url,
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    for (i, fixture) in [(1, "gotosocial_reply.json"), (2, "lemmy_reply.json")] {
        let (s, b) = foreign
            .send(
                &format!("{}/inbox", beta.base),
                fixture,
                &people[i].1,
                &post_url,
            )
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{fixture}: {b}");
    }
    let (_, comments) = bob
        .get(&format!("/api/v1/posts/{}/comments", post["id"]))
        .await;
    let text = comments.to_string();
    assert!(text.contains("noted for the maintenance window"), "{text}");
    assert!(text.contains("Quality agrees"), "{text}");
    // The mention notifies Bob and links to the note, whose HTML was cleaned.
    let (_, n) = bob.get("/api/v1/notifications").await;
    let items = n["items"].as_array().unwrap();
    let kinds: Vec<&str> = items.iter().filter_map(|i| i["kind"].as_str()).collect();
    assert!(
        kinds.contains(&"mention") && kinds.contains(&"reply"),
        "{n}"
    );
    let mention = items.iter().find(|i| i["kind"] == "mention").unwrap();
    let (s, note) = bob
        .get(&format!("/api/v1/posts/{}", mention["content_id"]))
        .await;
    assert_eq!(s, StatusCode::OK, "{note}");
    let html = note["body_html"].as_str().unwrap();
    assert!(html.contains("delivery slots"), "{html}");
    assert!(
        !html.contains("onerror") && !html.contains("<img"),
        "{html}"
    );
    let (_, tag) = bob.get("/api/v1/tags/logistics").await;
    assert_eq!(tag["items"].as_array().unwrap().len(), 1, "{tag}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_to_an_unknown_post_brings_its_post_along() {
    let [mut alpha, mut beta, _gamma] = network();
    alpha.trust("beta.test", "member");
    beta.trust("alpha.test", "member");
    alpha.start().await;
    beta.start().await;
    let ann = alpha.user("ann").await;
    let abe = alpha.user("abe").await;
    let bob = beta.user("bob").await;
    // Bob follows Abe only; Ann's post is unknown on beta.
    follow(&bob, &beta, &format!("@abe@alpha.test:{}", alpha.port)).await;
    let (_, post) = ann
        .post(
            "/api/v1/posts",
            json!({"body": "Which supplier for valves?"}),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(beta.count("SELECT COUNT(*) FROM content"), 0);
    let (s, _) = abe
        .post(
            &format!("/api/v1/posts/{}/comments", post["id"]),
            json!({"body": "Ask the Lyon team"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    eventually(10, "the reply and its post on beta", || async {
        (beta.count("SELECT COUNT(*) FROM content WHERE reply_to_id IS NOT NULL") == 1
            && beta.count("SELECT COUNT(*) FROM content WHERE root_id IS NULL AND body_html LIKE '%supplier for valves%'") == 1)
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_is_fetched_again_once() {
    use federation_tests::ForeignServer;
    let [_alpha, mut beta, _gamma] = network();
    let foreign = ForeignServer::start().await;
    beta.trust(&foreign.authority(), "partner");
    beta.start().await;
    let bob = beta.user("bob").await;
    let bob_url = format!("{}/people/bob", beta.base);
    let key_id = format!("{}/users/alice#main-key", foreign.base);
    let (s, b) = foreign
        .send(
            &format!("{}/people/bob/inbox", beta.base),
            "mastodon_follow.json",
            &key_id,
            &bob_url,
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    // Alice's server changes its key; beta still holds the old one, fails to
    // verify, fetches the actor again and accepts.
    foreign.rotate_key();
    let (s, b) = foreign
        .send(
            &format!("{}/inbox", beta.base),
            "mastodon_create_note.json",
            &key_id,
            &bob_url,
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let (_, n) = bob.get("/api/v1/notifications").await;
    assert!(n.to_string().contains("\"mention\""), "{n}");
    // A key that is nobody's is still refused after that one re-fetch.
    let forged = ruche::net::keys::generate().unwrap();
    let body = federation_tests::fixture("mastodon_create_note.json", &foreign.base, "", &bob_url)
        .replace("statuses/111", "statuses/112");
    let inbox = format!("{}/inbox", beta.base);
    let headers = sign_for(&inbox, Some(body.as_bytes()), &key_id, &forged.private_pem);
    let r = with_headers(client().post(&inbox).body(body), headers)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

async fn stream_bodies(api: &Api, name: &str) -> String {
    stream(api, name).await.join(" ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_organisation_stream_widens_the_site_to_member_sites_only() {
    let [mut alpha, mut beta, mut gamma] = network();
    beta.trust("alpha.test", "member");
    beta.trust("gamma.test", "partner");
    alpha.trust("beta.test", "member");
    gamma.trust("beta.test", "partner");
    alpha.start().await;
    beta.start().await;
    gamma.start().await;
    let ann = alpha.user("ann").await;
    let carol = beta.user("carol").await;
    let gus = gamma.user("gus").await;
    follow(&carol, &beta, &format!("@ann@alpha.test:{}", alpha.port)).await;
    follow(&carol, &beta, &format!("@gus@gamma.test:{}", gamma.port)).await;
    carol
        .post("/api/v1/posts", json!({"body": "written on beta"}))
        .await;
    ann.post("/api/v1/posts", json!({"body": "news from alpha"}))
        .await;
    gus.post("/api/v1/posts", json!({"body": "offer from gamma"}))
        .await;
    eventually(10, "both posts on beta", || async {
        let b = feed_bodies(&carol).await.join(" ");
        (b.contains("news from alpha") && b.contains("offer from gamma")).then_some(())
    })
    .await;
    // Dave, new on beta, follows nobody: the site stream is beta's own, the
    // organisation stream adds alpha (a member), never gamma (a partner).
    let dave = beta.user("dave").await;
    let site = stream_bodies(&dave, "site").await;
    assert!(site.contains("written on beta"), "{site}");
    assert!(
        !site.contains("news from alpha") && !site.contains("offer from gamma"),
        "{site}"
    );
    let org = stream_bodies(&dave, "organisation").await;
    assert!(
        org.contains("written on beta") && org.contains("news from alpha"),
        "{org}"
    );
    assert!(!org.contains("offer from gamma"), "{org}");
    // Alpha demoted to partner: its posts leave the organisation stream.
    beta.trust("alpha.test", "partner");
    let org = stream_bodies(&dave, "organisation").await;
    assert!(!org.contains("news from alpha"), "{org}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_profile_keeps_its_skills_and_languages() {
    let [alpha, beta, _gamma] = trusting_network().await;
    let ann = alpha.user("ann").await;
    let bob = beta.user("bob").await;
    let (s, v) = ann
        .call(
            reqwest::Method::PATCH,
            "/api/v1/me",
            Some(json!({
                "job_title": "Welder",
                "skills": ["Welding", "Lean manufacturing"],
                "languages": ["Français", "English"]
            })),
        )
        .await;
    assert!(s.is_success(), "{v}");
    let handle = follow(&bob, &beta, &format!("@ann@alpha.test:{}", alpha.port)).await;
    let (s, p) = bob.get(&format!("/api/v1/people/{handle}")).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(p["skills"], json!(["lean manufacturing", "welding"]), "{p}");
    assert_eq!(p["languages"], json!(["Français", "English"]), "{p}");
    // The directory's skill filter finds her on beta.
    let (_, d) = bob.get("/api/v1/people?skill=welding").await;
    let found: Vec<&str> = d["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["username"].as_str().unwrap())
        .collect();
    assert!(found.contains(&handle.as_str()), "{d}");
    // An edit reaches beta with the profile's Update.
    ann.call(
        reqwest::Method::PATCH,
        "/api/v1/me",
        Some(json!({"skills": ["Welding", "Robotics"], "languages": ["Deutsch"]})),
    )
    .await;
    eventually(10, "the new skills on beta", || async {
        let (_, p) = bob.get(&format!("/api/v1/people/{handle}")).await;
        (p["skills"] == json!(["robotics", "welding"]) && p["languages"] == json!(["Deutsch"]))
            .then_some(())
    })
    .await;
}
