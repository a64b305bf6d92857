//! Communities across sites, between real Ruche processes: membership by
//! Follow, redistribution by Announce, moderation, back-fill, and a
//! confidentiality matrix in which nothing may cross.

use federation_tests::{
    ask_to_join, client, eventually, network, sign_for, signed_get, trusting_network, wait_count,
    with_headers, Api, ForeignServer, Instance,
};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn create(api: &Api, name: &str, visibility: &str, policy: &str) {
    let (s, v) = api
        .post(
            "/api/v1/communities",
            json!({"name": name, "title": format!("Community {name}"), "visibility": visibility, "join_policy": policy}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}

/// Looks the community up from `api` (on `home`), joins, and waits until
/// the hosting instance's Accept arrives.
async fn join(api: &Api, home: &Instance, name: &str, host: &Instance) -> String {
    let handle = ask_to_join(api, host, name).await;
    let q = format!(
        "SELECT COUNT(*) FROM community_members m JOIN users g ON g.id = m.community_id WHERE g.username = '{handle}' AND m.status = 'member'"
    );
    eventually(10, "the community to accept", || {
        let n = home.count(&q);
        async move { (n > 0).then_some(()) }
    })
    .await;
    handle
}

async fn community_bodies(api: &Api, name: &str) -> Vec<String> {
    let (s, v) = api.get(&format!("/api/v1/communities/{name}/posts")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["body"].as_str().unwrap_or("").to_string())
        .collect()
}

fn content_count(i: &Instance, like: &str) -> i64 {
    i.count(&with_body(like))
}

/// The query counting live content whose body contains `like`.
fn with_body(like: &str) -> String {
    format!("SELECT COUNT(*) FROM content WHERE body LIKE '%{like}%' AND deleted_at IS NULL")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_on_three_sites_post_comment_react_and_moderate_one_community() {
    let [alpha, beta, gamma] = trusting_network().await;
    let ann = alpha.user("ann").await;
    let bob = beta.user("bob").await;
    let gus = gamma.user("gus").await;
    create(&ann, "rnd", "public", "open").await;
    let early = ann
        .post(
            "/api/v1/communities/rnd/posts",
            json!({"body": "Early post before anyone joined"}),
        )
        .await;
    assert_eq!(early.0, StatusCode::CREATED);
    let (s, v) = ann
        .post(
            &format!("/api/v1/posts/{}/comments", early.1["id"]),
            json!({"body": "Early comment"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");

    // Joining by !name@domain; the first member's instance back-fills the
    // recent posts with their comments.
    let rnd_b = join(&bob, &beta, "rnd", &alpha).await;
    let rnd_g = join(&gus, &gamma, "rnd", &alpha).await;
    wait_count(
        &beta,
        &with_body("Early post"),
        1,
        "back-fill of the post on beta",
    )
    .await;
    wait_count(
        &beta,
        &with_body("Early comment"),
        1,
        "back-fill of the comment on beta",
    )
    .await;
    wait_count(&gamma, &with_body("Early post"), 1, "back-fill on gamma").await;
    let (_, members) = ann.get("/api/v1/communities/rnd/members").await;
    let names: Vec<&str> = members["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["person"]["username"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"ann"));
    assert!(
        names.iter().any(|n| n.starts_with("bob@beta.test")),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n.starts_with("gus@gamma.test")),
        "{names:?}"
    );

    // bob watches the community from beta: its posts arriving there are
    // notifications for him (gus, who does not watch, hears nothing).
    let (s, v) = bob
        .call(
            Method::PUT,
            &format!("/api/v1/communities/{rnd_b}/watch"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");

    // A post on the hosting site reaches both member sites, with one
    // delivery per instance.
    let (s, v) = ann
        .post(
            "/api/v1/communities/rnd/posts",
            json!({"body": "Roadmap for Q3"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    wait_count(&beta, &with_body("Roadmap for Q3"), 1, "ann's post on beta").await;
    wait_count(
        &gamma,
        &with_body("Roadmap for Q3"),
        1,
        "ann's post on gamma",
    )
    .await;
    assert_eq!(
        alpha.count("SELECT COUNT(*) FROM deliveries WHERE activity LIKE '%Roadmap for Q3%'"),
        2
    );
    assert!(community_bodies(&bob, &rnd_b)
        .await
        .iter()
        .any(|b| b.contains("Roadmap for Q3")));
    // It is in the members' home feeds.
    let (_, home) = bob.get("/api/v1/feed").await;
    assert!(home.to_string().contains("Roadmap for Q3"));
    let (_, told) = bob.get("/api/v1/notifications").await;
    let kinds: Vec<&str> = told["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["community_post", "community_accepted"], "{told}");
    let (_, told) = gus.get("/api/v1/notifications").await;
    assert!(!told.to_string().contains("community_post"), "{told}");

    // A document uploaded on alpha reaches the member sites as a feed entry;
    // bob downloads it through beta, which fetches it signed from alpha.
    let r = client()
        .post(format!(
            "{}/api/v1/communities/rnd/documents?filename=plan.pdf",
            alpha.base
        ))
        .bearer_auth(&ann.token)
        .header("content-type", "application/pdf")
        .body(b"%PDF plan v1".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let doc: serde_json::Value = r.json().await.unwrap();
    let q = "SELECT COUNT(*) FROM document_versions WHERE remote_url <> ''";
    eventually(10, "the document on beta", || {
        let n = beta.count(q);
        async move { (n == 1).then_some(()) }
    })
    .await;
    let local_doc = beta.count("SELECT id FROM documents");
    let (s, d) = bob.get(&format!("/api/v1/documents/{local_doc}")).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["name"], "plan.pdf");
    // Sent as a Page titled with its first line (Lemmy needs a name), the
    // entry does not show that title above the same line.
    assert_eq!(
        beta.count("SELECT COUNT(*) FROM content WHERE body LIKE '%plan.pdf%plan.pdf%'"),
        0
    );
    let file = client()
        .get(format!(
            "{}/api/v1/documents/{local_doc}/versions/1/file",
            beta.base
        ))
        .bearer_auth(&bob.token)
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), StatusCode::OK);
    assert_eq!(&file.bytes().await.unwrap()[..], b"%PDF plan v1");
    // A new version on alpha arrives as "updated".
    let r = client()
        .post(format!(
            "{}/api/v1/documents/{}/versions?filename=plan-v2.pdf",
            alpha.base, doc["id"]
        ))
        .bearer_auth(&ann.token)
        .body(b"%PDF plan v2".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let q = "SELECT COUNT(*) FROM document_versions WHERE remote_url <> ''";
    eventually(10, "the new version on gamma", || {
        let n = gamma.count(q);
        async move { (n == 2).then_some(()) }
    })
    .await;
    assert_eq!(gamma.count("SELECT COUNT(*) FROM documents"), 1);

    // Pinning crosses too.
    let alpha_roadmap = alpha.count("SELECT id FROM content WHERE body LIKE '%Roadmap for Q3%'");
    let (s, _) = ann
        .call(
            Method::PUT,
            &format!("/api/v1/communities/rnd/posts/{alpha_roadmap}/pin"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    eventually(10, "the pin on beta", || {
        let n = beta.count("SELECT COUNT(*) FROM content WHERE body LIKE '%Roadmap for Q3%' AND pinned_at IS NOT NULL");
        async move { (n == 1).then_some(()) }
    })
    .await;
    let (_, f) = bob.get(&format!("/api/v1/communities/{rnd_b}/posts")).await;
    assert!(
        f["pinned"][0]["body"]
            .as_str()
            .unwrap_or("")
            .contains("Roadmap"),
        "{f}"
    );

    // A member on beta posts; the community redistributes it to gamma.
    let (s, v) = bob
        .post(
            &format!("/api/v1/communities/{rnd_b}/posts"),
            json!({"body": "Field report from site B"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let bobs_local = v["id"].as_i64().unwrap();
    wait_count(
        &alpha,
        &with_body("Field report from site B"),
        1,
        "bob's post on alpha",
    )
    .await;
    wait_count(
        &gamma,
        &with_body("Field report from site B"),
        1,
        "bob's post on gamma (Announce)",
    )
    .await;
    assert_eq!(
        gamma.count("SELECT COUNT(*) FROM content c JOIN users u ON u.id = c.author_id WHERE c.body LIKE '%Field report%' AND u.username LIKE 'bob@beta.test%' AND c.community_id IS NOT NULL"),
        1
    );

    // gus comments from gamma and reacts; both arrive everywhere.
    let gamma_id = gamma.count("SELECT id FROM content WHERE body LIKE '%Field report%'");
    let (s, v) = gus
        .post(
            &format!("/api/v1/posts/{gamma_id}/comments"),
            json!({"body": "Thanks, very useful"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, _) = gus
        .call(
            Method::PUT,
            &format!("/api/v1/posts/{gamma_id}/reactions/thanks"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    wait_count(
        &alpha,
        &with_body("Thanks, very useful"),
        1,
        "gus's comment on alpha",
    )
    .await;
    wait_count(
        &beta,
        &with_body("Thanks, very useful"),
        1,
        "gus's comment on beta",
    )
    .await;
    eventually(10, "gus's reaction on beta", || {
        let n = beta.count(&format!(
            "SELECT COUNT(*) FROM reactions WHERE content_id = {bobs_local} AND kind = 'thanks'"
        ));
        async move { (n == 1).then_some(()) }
    })
    .await;

    // bob edits his post: the edit crosses both ways.
    let (s, v) = bob
        .call(
            Method::PATCH,
            &format!("/api/v1/posts/{bobs_local}"),
            Some(json!({"body": "Field report from site B, updated"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    wait_count(
        &gamma,
        &with_body("site B, updated"),
        1,
        "the edit on gamma",
    )
    .await;

    // ann (owner) removes gus's comment as moderator: gone on every site,
    // and the act is logged.
    let alpha_comment =
        alpha.count("SELECT id FROM content WHERE body LIKE '%Thanks, very useful%'");
    let (s, v) = ann
        .call(
            Method::DELETE,
            &format!("/api/v1/communities/rnd/posts/{alpha_comment}?reason=duplicate"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    wait_count(
        &beta,
        &with_body("Thanks, very useful"),
        0,
        "removal on beta",
    )
    .await;
    wait_count(
        &gamma,
        &with_body("Thanks, very useful"),
        0,
        "removal on gamma",
    )
    .await;
    let (_, log) = ann.get("/api/v1/communities/rnd/log").await;
    assert_eq!(log["items"][0]["action"], "remove_post");
    // A member elsewhere cannot moderate: the community lives on alpha.
    let beta_roadmap = beta.count("SELECT id FROM content WHERE body LIKE '%Roadmap for Q3%'");
    let (s, v) = bob
        .call(
            Method::DELETE,
            &format!("/api/v1/communities/{rnd_b}/posts/{beta_roadmap}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(content_count(&beta, "Roadmap for Q3"), 1);

    // bob deletes his own post: gone everywhere.
    let (s, _) = bob
        .call(Method::DELETE, &format!("/api/v1/posts/{bobs_local}"), None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    wait_count(&alpha, &with_body("Field report"), 0, "deletion on alpha").await;
    wait_count(&gamma, &with_body("Field report"), 0, "deletion on gamma").await;

    // A secret community, by invitation: ann invites bob across sites; his
    // instance is told (Invite), he accepts from beta and then reads it.
    create(&ann, "skunkworks", "secret", "invitation").await;
    let bob_remote = beta.handle("bob");
    let (s, v) = ann
        .post(
            "/api/v1/communities/skunkworks/invitations",
            json!({"username": bob_remote}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let skunk = alpha.handle("skunkworks");
    eventually(10, "the invitation on beta", || {
        let n = beta.count("SELECT COUNT(*) FROM community_members WHERE status = 'invited'");
        async move { (n == 1).then_some(()) }
    })
    .await;
    let (_, n) = bob.get("/api/v1/notifications").await;
    assert_eq!(n["items"][0]["kind"], "community_invite", "{n}");
    assert_eq!(n["items"][0]["community"], skunk.as_str());
    let (s, v) = bob.get(&format!("/api/v1/communities/{skunk}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["my_status"], "invited");
    let (_, gv) = gus
        .get(&format!("/api/v1/communities/lookup?q=!{skunk}"))
        .await;
    assert_ne!(gv["name"], skunk.as_str(), "gamma cannot find it");
    let (s, v) = bob
        .post(&format!("/api/v1/communities/{skunk}/join"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let q = format!("SELECT COUNT(*) FROM community_members m JOIN users g ON g.id = m.community_id WHERE g.username = '{skunk}' AND m.status = 'member'");
    eventually(10, "bob's membership of the secret community", || {
        let n = beta.count(&q);
        async move { (n == 1).then_some(()) }
    })
    .await;
    let (s, _) = ann
        .post(
            "/api/v1/communities/skunkworks/posts",
            json!({"body": "Prototype results"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    wait_count(
        &beta,
        &with_body("Prototype results"),
        1,
        "the secret post on beta",
    )
    .await;
    assert_eq!(content_count(&gamma, "Prototype results"), 0);
    // Settings changes reach the member instances (Update of the Group),
    // the picture too.
    let (s, _) = ann
        .call(Method::PUT, "/api/v1/communities/skunkworks/picture", None)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "an empty body is not a picture");
    let mut img = Vec::new();
    image::RgbImage::from_pixel(16, 16, image::Rgb([200, 60, 20]))
        .write_to(&mut std::io::Cursor::new(&mut img), image::ImageFormat::Png)
        .unwrap();
    let r = client()
        .put(format!(
            "{}/api/v1/communities/skunkworks/picture",
            alpha.base
        ))
        .bearer_auth(&ann.token)
        .body(img)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    eventually(10, "the picture on beta", || {
        let n = beta.count(&format!("SELECT COUNT(*) FROM photos p JOIN users u ON u.id = p.user_id WHERE u.username = '{skunk}'"));
        async move { (n == 1).then_some(()) }
    })
    .await;
    let (s, _) = ann
        .call(
            Method::PATCH,
            "/api/v1/communities/skunkworks",
            Some(json!({"title": "Skunkworks 2027"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    eventually(10, "the new title on beta", || {
        let n = beta.count("SELECT COUNT(*) FROM users WHERE display_name = 'Skunkworks 2027'");
        async move { (n == 1).then_some(()) }
    })
    .await;

    // Leaving stops delivery at once.
    let (s, _) = gus
        .call(
            Method::DELETE,
            &format!("/api/v1/communities/{rnd_g}/membership"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    eventually(10, "gus's departure on alpha", || {
        let n = alpha.count("SELECT COUNT(*) FROM community_members m JOIN users u ON u.id = m.user_id WHERE u.username LIKE 'gus@%'");
        async move { (n == 0).then_some(()) }
    })
    .await;
    let (s, _) = ann
        .post(
            "/api/v1/communities/rnd/posts",
            json!({"body": "After gus left"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    wait_count(&beta, &with_body("After gus left"), 1, "the post on beta").await;
    assert_eq!(content_count(&gamma, "After gus left"), 0);
    assert_eq!(
        alpha.count("SELECT COUNT(*) FROM deliveries WHERE activity LIKE '%After gus left%'"),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_of_a_closed_community_crosses_to_an_instance_that_may_not_see_it() {
    let [mut alpha, mut beta, mut gamma] = network();
    alpha.trust("beta.test", "member");
    alpha.trust("gamma.test", "member");
    beta.trust("alpha.test", "member");
    beta.trust("gamma.test", "member");
    gamma.trust("alpha.test", "member");
    gamma.trust("beta.test", "member");
    alpha.start().await;
    beta.start().await;
    gamma.start().await;
    let ann = alpha.user("ann").await;
    let bob = beta.user("bob").await;
    let gus = gamma.user("gus").await;
    create(&ann, "board", "private", "request").await;
    create(&ann, "merger", "secret", "invitation").await;
    create(&ann, "lounge", "public", "open").await;

    // bob on beta is accepted in the private community.
    let handle = alpha.handle("board");
    let (s, v) = bob
        .get(&format!("/api/v1/communities/lookup?q=!{handle}"))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["visibility"], "private");
    let (_, v) = bob
        .post(&format!("/api/v1/communities/{handle}/join"), json!({}))
        .await;
    assert_eq!(v["status"], "pending");
    let bob_remote = beta.handle("bob");
    eventually(10, "bob's request on alpha", || {
        let n = alpha.count("SELECT COUNT(*) FROM community_members WHERE status = 'pending'");
        async move { (n == 1).then_some(()) }
    })
    .await;
    let (s, v) = ann
        .post(
            &format!("/api/v1/communities/board/requests/{bob_remote}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let q = "SELECT COUNT(*) FROM community_members WHERE status = 'member'";
    eventually(10, "bob's acceptance on beta", || {
        let n = beta.count(q);
        async move { (n == 1).then_some(()) }
    })
    .await;

    // The private post mentions gus, who is not a member.
    let gus_remote = gamma.handle("gus");
    let (s, v) = ann
        .post(
            "/api/v1/communities/board/posts",
            json!({"body": format!("Budget 2027 draft, cc @{gus_remote}")}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let post_id = v["id"].as_i64().unwrap();
    wait_count(&beta, &with_body("Budget 2027"), 1, "the post on beta").await;
    let post_url = format!("{}/posts/{post_id}", alpha.base);
    let (gus_key, gus_key_id) = gamma.private_key("gus");
    let (bob_key, bob_key_id) = beta.private_key("bob");
    // Warm gus's key (gus's actor must be known to alpha for signatures).
    let (s, _) = gus
        .get(&format!(
            "/api/v1/people/lookup?q=@ann@{}:{}",
            alpha.host, alpha.port
        ))
        .await;
    assert_eq!(s, StatusCode::OK);

    // 1. Mentioned non-member: nothing delivered, nothing stored, no notification.
    assert_eq!(content_count(&gamma, "Budget 2027"), 0);
    let (_, n) = gus.get("/api/v1/notifications").await;
    assert!(n["items"].as_array().unwrap().is_empty(), "{n}");
    assert_eq!(
        alpha.count("SELECT COUNT(*) FROM deliveries WHERE domain LIKE 'gamma.test%'"),
        0
    );
    // 2. Non-member instance: a signed fetch of the post or of the back-fill
    //    is refused as if they did not exist; the private community itself
    //    can be found, the secret one cannot.
    assert_eq!(
        signed_get(&post_url, Some((&gus_key, &gus_key_id))).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        signed_get(&post_url, Some((&bob_key, &bob_key_id))).await,
        StatusCode::OK
    );
    let board = format!("{}/communities/board", alpha.base);
    let merger = format!("{}/communities/merger", alpha.base);
    assert_eq!(
        signed_get(&board, Some((&gus_key, &gus_key_id))).await,
        StatusCode::OK
    );
    assert_eq!(
        signed_get(&format!("{board}/outbox"), Some((&gus_key, &gus_key_id))).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        signed_get(&format!("{board}/outbox"), Some((&bob_key, &bob_key_id))).await,
        StatusCode::OK
    );
    assert_eq!(
        signed_get(&merger, Some((&gus_key, &gus_key_id))).await,
        StatusCode::NOT_FOUND
    );
    let (s, _) = gus
        .get(&format!(
            "/api/v1/communities/lookup?q=!{}",
            alpha.handle("merger")
        ))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Its people and its moderation log: the count only, and 404 for the
    // log, for a non-member instance; the people for a member's; nothing
    // unsigned.
    let people_of = |url: String, key: (String, String)| async move {
        let r = with_headers(
            client()
                .get(&url)
                .header("accept", "application/activity+json"),
            sign_for(&url, None, &key.1, &key.0),
        )
        .send()
        .await
        .unwrap();
        (r.status(), r.text().await.unwrap())
    };
    let (s, doc) = people_of(
        format!("{board}/followers"),
        (gus_key.clone(), gus_key_id.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        !doc.contains("orderedItems") && !doc.contains("bob"),
        "{doc}"
    );
    let (s, doc) = people_of(
        format!("{board}/followers"),
        (bob_key.clone(), bob_key_id.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(doc.contains("/people/bob"), "{doc}");
    for (url, status) in [
        (format!("{board}/moderation"), StatusCode::NOT_FOUND),
        (format!("{merger}/followers"), StatusCode::NOT_FOUND),
    ] {
        assert_eq!(
            signed_get(&url, Some((&gus_key, &gus_key_id))).await,
            status,
            "{url}"
        );
    }
    assert_eq!(
        signed_get(
            &format!("{board}/moderation"),
            Some((&bob_key, &bob_key_id))
        )
        .await,
        StatusCode::OK
    );
    assert_eq!(
        signed_get(&format!("{board}/followers"), None).await,
        StatusCode::UNAUTHORIZED
    );
    // A secret community is not in WebFinger either.
    let wf = client()
        .get(format!(
            "{}/.well-known/webfinger?resource=acct:merger@{}:{}",
            alpha.base, alpha.host, alpha.port
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(wf.status(), StatusCode::NOT_FOUND);
    // The file of a document of the private community: only for a signed
    // member instance.
    let r = client()
        .post(format!(
            "{}/api/v1/communities/board/documents?filename=budget.xlsx",
            alpha.base
        ))
        .bearer_auth(&ann.token)
        .body(b"budget figures".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let doc: serde_json::Value = r.json().await.unwrap();
    let file_url = format!("{}/documents/{}/versions/1/file", alpha.base, doc["id"]);
    assert_eq!(
        signed_get(&file_url, Some((&gus_key, &gus_key_id))).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        signed_get(&file_url, Some((&bob_key, &bob_key_id))).await,
        StatusCode::OK
    );
    assert_ne!(signed_get(&file_url, None).await, StatusCode::OK);
    // A non-member cannot post into the community, even signed correctly.
    let gus_url = format!("{}/people/gus", gamma.base);
    let create = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/sneak", gamma.base),
        "type": "Create",
        "actor": gus_url,
        "to": [board],
        "object": {"id": format!("{}/posts/424242", gamma.base), "type": "Note", "attributedTo": gus_url,
                   "content": "Sneaky minutes", "to": [board], "audience": board}
    });
    let board_inbox = format!("{board}/inbox");
    let body = create.to_string();
    let before = alpha.count("SELECT COUNT(*) FROM content");
    let r = with_headers(
        client().post(&board_inbox).body(body.clone()),
        sign_for(&board_inbox, Some(body.as_bytes()), &gus_key_id, &gus_key),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "{}",
        r.text().await.unwrap()
    );
    assert_eq!(alpha.count("SELECT COUNT(*) FROM content"), before);
    // 3. Unsigned fetch: refused.
    assert_eq!(signed_get(&post_url, None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(signed_get(&board, None).await, StatusCode::UNAUTHORIZED);

    // 4. Partner instance: gamma becomes a partner of alpha. The public
    //    community is not open to partners: not found, and a join is refused.
    alpha.trust("gamma.test", "partner");
    let lounge = format!("{}/communities/lounge", alpha.base);
    assert_eq!(
        signed_get(&lounge, Some((&gus_key, &gus_key_id))).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        signed_get(&lounge, Some((&bob_key, &bob_key_id))).await,
        StatusCode::OK
    );
    let (s, _) = gus
        .get(&format!(
            "/api/v1/communities/lookup?q=!{}",
            alpha.handle("lounge")
        ))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = ann
        .post(
            "/api/v1/communities/lounge/posts",
            json!({"body": "Lounge news for members"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let lounge_post = format!("{}/posts/{}", alpha.base, v["id"]);
    assert_eq!(
        signed_get(&lounge_post, Some((&gus_key, &gus_key_id))).await,
        StatusCode::NOT_FOUND
    );
    for which in ["followers", "moderation"] {
        assert_eq!(
            signed_get(&format!("{lounge}/{which}"), Some((&gus_key, &gus_key_id))).await,
            StatusCode::NOT_FOUND,
            "{which}"
        );
    }

    // 5. Blocked instance: refused outright.
    alpha.trust("gamma.test", "blocked");
    assert_eq!(
        signed_get(&board, Some((&gus_key, &gus_key_id))).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        signed_get(&post_url, Some((&gus_key, &gus_key_id))).await,
        StatusCode::FORBIDDEN
    );

    // 6. Forged Announce: gamma cannot slip content into alpha's community,
    //    neither signed as one of its people nor claiming to be the community.
    let alpha_board = format!("{}/communities/board", alpha.base);
    let note_id = format!("{}/posts/999999", gamma.base);
    let forged = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/forged-1", gamma.base),
        "type": "Announce",
        "actor": gus_url,
        "object": {
            "id": format!("{}/activities/forged-create", gamma.base),
            "type": "Create",
            "actor": gus_url,
            "object": {"id": note_id, "type": "Note", "attributedTo": gus_url,
                       "content": "Forged board minutes", "to": [alpha_board], "audience": alpha_board}
        }
    });
    let before = beta.count("SELECT COUNT(*) FROM content");
    let inbox = format!("{}/inbox", beta.base);
    let body = forged.to_string();
    let r = with_headers(
        client().post(&inbox).body(body.clone()),
        sign_for(&inbox, Some(body.as_bytes()), &gus_key_id, &gus_key),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "{}",
        r.text().await.unwrap()
    );
    let mut claimed = forged.clone();
    claimed["actor"] = json!(alpha_board);
    let body = claimed.to_string();
    let r = with_headers(
        client().post(&inbox).body(body.clone()),
        sign_for(&inbox, Some(body.as_bytes()), &gus_key_id, &gus_key),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(beta.count("SELECT COUNT(*) FROM content"), before);
    assert_eq!(content_count(&beta, "Forged"), 0);

    // 7. Former member: once bob leaves, the next post does not go to beta,
    //    and beta's copy of the community stops growing.
    let (s, _) = bob
        .call(
            Method::DELETE,
            &format!("/api/v1/communities/{handle}/membership"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    eventually(10, "bob's departure on alpha", || {
        let n = alpha.count("SELECT COUNT(*) FROM community_members m JOIN users u ON u.id = m.user_id WHERE u.username LIKE 'bob@%'");
        async move { (n == 0).then_some(()) }
    })
    .await;
    let (s, _) = ann
        .post(
            "/api/v1/communities/board/posts",
            json!({"body": "Layoff plan, members only"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_eq!(content_count(&beta, "Layoff plan"), 0);
    assert_eq!(
        alpha.count("SELECT COUNT(*) FROM deliveries WHERE activity LIKE '%Layoff plan%'"),
        0
    );
    assert_eq!(
        signed_get(&post_url, Some((&bob_key, &bob_key_id))).await,
        StatusCode::NOT_FOUND
    );
    // Nothing of the private or secret communities ever reached gamma.
    assert_eq!(
        gamma.count("SELECT COUNT(*) FROM content WHERE community_id IS NOT NULL"),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lemmy_user_takes_part_in_a_public_community() {
    let [mut alpha, mut beta, _gamma] = network();
    let lemmy = ForeignServer::start().await;
    alpha.trust("beta.test", "member");
    alpha.trust(&lemmy.authority(), "member");
    beta.trust("alpha.test", "member");
    beta.trust(&lemmy.authority(), "member");
    alpha.start().await;
    beta.start().await;
    let ann = alpha.user("ann").await;
    let bob = beta.user("bob").await;
    create(&ann, "quality", "public", "open").await;
    let handle = join(&bob, &beta, "quality", &alpha).await;

    // Lemmy's Follow of the Group is accepted.
    let group = format!("{}/communities/quality", alpha.base);
    let inbox = format!("{group}/inbox");
    let key_id = format!("{}/u/carol#main-key", lemmy.base);
    let (s, b) = lemmy
        .send(&inbox, "lemmy_follow.json", &key_id, &group)
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    eventually(10, "Lemmy to receive the Accept", || {
        let n = lemmy.count_type("Accept");
        async move { (n == 1).then_some(()) }
    })
    .await;
    // Its Page, sent to the Group, is kept (title, no script) and announced
    // to beta, but not back to Lemmy.
    let (s, b) = lemmy
        .send(&inbox, "lemmy_create_page.json", &key_id, &group)
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    wait_count(
        &alpha,
        &with_body("supplier audits"),
        1,
        "Lemmy's post on alpha",
    )
    .await;
    wait_count(
        &beta,
        &with_body("supplier audits"),
        1,
        "Lemmy's post on beta",
    )
    .await;
    let bodies = community_bodies(&bob, &handle).await.join(" ");
    assert!(bodies.contains("Supplier audit checklist"), "{bodies}");
    assert!(!bodies.contains("alert"), "{bodies}");
    // ann's post goes to Lemmy's shared inbox as an Announce.
    let (s, _) = ann
        .post(
            "/api/v1/communities/quality/posts",
            json!({"body": "Audit season starts"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    eventually(10, "Lemmy to receive the Announce", || {
        let n = lemmy.count_type("Announce");
        async move { (n == 1).then_some(()) }
    })
    .await;
    let got = lemmy.received();
    let announce = got
        .iter()
        .find(|(_, _, v)| v["type"] == "Announce")
        .unwrap();
    assert_eq!(announce.0, "/inbox");
    assert_eq!(announce.2["actor"], group.as_str());
    assert_eq!(announce.2["object"]["type"], "Create");
    assert_eq!(announce.2["object"]["object"]["audience"], group.as_str());
}

/// A community's host speaks for its own people only. What it announces of
/// a person of a third instance is read from that person's instance — in a
/// private community too, where the author's instance asks the host whether
/// the reader has a member — and a post or a deletion the host made up in
/// someone else's name is refused, with nothing stored or removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_community_host_cannot_speak_for_people_of_other_instances() {
    let [alpha, beta, gamma] = trusting_network().await;
    let ann = alpha.user("ann").await;
    let bob = beta.user("bob").await;
    let gus = gamma.user("gus").await;
    create(&gus, "hub", "private", "open").await;
    join(&ann, &alpha, "hub", &gamma).await;
    let hub_b = join(&bob, &beta, "hub", &gamma).await;

    // bob's post and its edit reach alpha through gamma, read from beta.
    let (s, v) = bob
        .post(
            &format!("/api/v1/communities/{hub_b}/posts"),
            json!({"body": "Shift handover notes"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let bobs_local = v["id"].as_i64().unwrap();
    wait_count(
        &alpha,
        &with_body("Shift handover notes"),
        1,
        "bob's post on alpha",
    )
    .await;
    let (s, v) = bob
        .call(
            Method::PATCH,
            &format!("/api/v1/posts/{bobs_local}"),
            Some(json!({"body": "Shift handover notes, line 2 stopped"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    wait_count(
        &alpha,
        &with_body("line 2 stopped"),
        1,
        "bob's edit on alpha",
    )
    .await;

    // gamma, signing as the community, makes up a post by bob and the
    // deletion of his real one.
    let (key, _) = gamma.private_key("hub");
    let group = format!("{}/communities/hub", gamma.base);
    let key_id = format!("{group}#main-key");
    let bob_url = format!("{}/people/bob", beta.base);
    let inbox = format!("{}/inbox", alpha.base);
    let send = |activity: serde_json::Value| {
        let (inbox, key, key_id) = (inbox.clone(), key.clone(), key_id.clone());
        async move {
            let body = activity.to_string();
            let r = with_headers(
                client().post(&inbox).body(body.clone()),
                sign_for(&inbox, Some(body.as_bytes()), &key_id, &key),
            )
            .send()
            .await
            .unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let made_up = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{group}/activities/made-up-1"),
        "type": "Announce",
        "actor": group,
        "to": [format!("{group}/followers")],
        "object": {
            "id": format!("{}/activities/made-up-create", beta.base),
            "type": "Create",
            "actor": bob_url,
            "to": [group],
            "object": {"id": format!("{}/posts/987654", beta.base), "type": "Note",
                       "attributedTo": bob_url, "content": "<p>I quit, effective today</p>",
                       "to": [group], "audience": group}
        }
    });
    let (s, b) = send(made_up).await;
    assert!(!s.is_success(), "{s} {b}");
    assert_eq!(content_count(&alpha, "I quit"), 0);
    let bobs_url = format!("{}/posts/{bobs_local}", beta.base);
    let deletion = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{group}/activities/made-up-2"),
        "type": "Announce",
        "actor": group,
        "to": [format!("{group}/followers")],
        "object": {
            "id": format!("{}/activities/made-up-delete", beta.base),
            "type": "Delete",
            "actor": bob_url,
            "to": [group],
            "object": bobs_url
        }
    });
    let (s, b) = send(deletion).await;
    assert!(!s.is_success(), "{s} {b}");
    assert_eq!(content_count(&alpha, "line 2 stopped"), 1);

    // bob's real deletion goes through.
    let (s, _) = bob
        .call(Method::DELETE, &format!("/api/v1/posts/{bobs_local}"), None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    wait_count(
        &alpha,
        &with_body("Shift handover"),
        0,
        "bob's deletion on alpha",
    )
    .await;
}

/// A person of a Ruche instance in a community hosted by Lemmy, against a
/// stand-in that refuses what Lemmy 1.0 refuses (`lemmy_refuses`): joining
/// back-fills Lemmy's `Announce`-wrapped outbox, with titles kept apart from
/// the text; a post, a comment, an edit and a deletion sent from Ruche are
/// all accepted; what Lemmy announces (including its extra bare `Page`)
/// arrives; and a refusal's explanation is kept in the delivery's error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ruche_member_takes_part_in_a_lemmy_community() {
    let [_alpha, mut beta, _gamma] = network();
    let lemmy = ForeignServer::start().await;
    beta.trust(&lemmy.authority(), "member");
    beta.start().await;
    let bob = beta.user("bob").await;
    let public = "https://www.w3.org/ns/activitystreams#Public";
    let context = json!([
        "https://join-lemmy.org/context.json",
        "https://www.w3.org/ns/activitystreams"
    ]);
    let group = format!("{}/c/lemmings", lemmy.base);
    let group_key = format!("{group}#main-key");
    let carol = format!("{}/u/carol", lemmy.base);
    let page = |n: u32, title: &str, text: &str| {
        json!({"type": "Page", "id": format!("{}/post/{n}", lemmy.base), "attributedTo": carol,
               "to": [group, public], "cc": [], "name": title, "content": format!("<p>{text}</p>"),
               "mediaType": "text/html", "published": "2026-11-20T10:00:00Z", "audience": group})
    };
    let wrap = |kind: &str, n: u32, object: serde_json::Value| {
        json!({"type": kind, "id": format!("{}/activities/{}/{n}", lemmy.base, kind.to_lowercase()),
               "actor": carol, "to": [group, public], "cc": [], "object": object, "audience": group})
    };
    let announce = |n: u32, object: serde_json::Value| {
        json!({"@context": context, "type": "Announce", "id": format!("{}/activities/announce/{n}", lemmy.base),
               "actor": group, "to": [public], "cc": [format!("{group}/followers")], "object": object})
    };
    let mut old = announce(
        1,
        wrap(
            "Create",
            1,
            page(1, "5S audit results", "Zone B scored 4 out of 5."),
        ),
    );
    old.as_object_mut().unwrap().remove("@context");
    lemmy.publish(
        "/c/lemmings/outbox",
        "application/activity+json",
        &json!({"@context": context, "id": format!("{group}/outbox"), "type": "OrderedCollection",
                "totalItems": 1, "orderedItems": [old]}),
    );

    // Joining: the Follow reaches Lemmy, whose Accept back-fills the outbox.
    let handle = format!("lemmings@{}", lemmy.authority());
    let (s, v) = bob
        .get(&format!("/api/v1/communities/lookup?q=!{handle}"))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = bob
        .post(&format!("/api/v1/communities/{handle}/join"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let follow = eventually(10, "the Follow at Lemmy", || {
        let f = lemmy
            .received()
            .into_iter()
            .find(|(p, _, v)| p == "/c/lemmings/inbox" && v["type"] == "Follow")
            .map(|x| x.2);
        async move { f }
    })
    .await;
    let accept = json!({"@context": context, "id": format!("{group}/activities/accept/1"), "type": "Accept",
                        "actor": group, "to": [follow["actor"]], "object": follow});
    let inbox = format!("{}/inbox", beta.base);
    let (s, b) = lemmy.send_as(&inbox, &group_key, &accept).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    wait_count(&beta, &with_body("Zone B scored"), 1, "the back-fill").await;
    assert_eq!(
        beta.count("SELECT COUNT(*) FROM content WHERE body LIKE '5S audit results%Zone B%' AND body NOT LIKE '%resultsZone%'"),
        1,
        "the title and the text are two paragraphs"
    );

    // bob posts, comments on Lemmy's post, edits and deletes: all accepted.
    let (s, v) = bob
        .post(
            &format!("/api/v1/communities/{handle}/posts"),
            json!({"body": "**Kanban** board for line 3\n\nPhotos to follow."}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let mine = v["id"].as_i64().unwrap();
    let theirs = beta.count("SELECT id FROM content WHERE body LIKE '%Zone B%'");
    let (s, v) = bob
        .post(
            &format!("/api/v1/posts/{theirs}/comments"),
            json!({"body": "Which criteria did zone B miss?"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = bob
        .call(
            Method::PATCH,
            &format!("/api/v1/posts/{mine}"),
            Some(json!({"body": "**Kanban** board for line 3\n\nPhotos attached."})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // The edit reaches Lemmy before the deletion is made: an edit of a post
    // already deleted when the outbox reads it is not sent (the deletion
    // says all), which would make this test depend on timing.
    eventually(10, "the edit at Lemmy", || {
        let edited = lemmy
            .received()
            .iter()
            .any(|(p, _, v)| p == "/c/lemmings/inbox" && v["type"] == "Update");
        async move { edited.then_some(()) }
    })
    .await;
    let (s, _) = bob
        .call(Method::DELETE, &format!("/api/v1/posts/{mine}"), None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let got = eventually(10, "Lemmy to accept all four", || {
        let got: Vec<serde_json::Value> = lemmy
            .received()
            .into_iter()
            .filter(|(p, _, _)| p == "/c/lemmings/inbox")
            .map(|x| x.2)
            .filter(|v| v["type"] != "Follow")
            .collect();
        async move { (got.len() >= 4).then_some(got) }
    })
    .await;
    assert!(lemmy.refused().is_empty(), "{:?}", lemmy.refused());
    let create = got
        .iter()
        .find(|v| v["type"] == "Create" && v["object"]["type"] == "Page")
        .unwrap();
    assert_eq!(create["object"]["name"], "Kanban board for line 3");
    let comment = got
        .iter()
        .find(|v| v["type"] == "Create" && v["object"]["type"] == "Note")
        .unwrap();
    assert_eq!(
        comment["object"]["inReplyTo"],
        format!("{}/post/1", lemmy.base)
    );
    assert!(got
        .iter()
        .any(|v| v["type"] == "Update" && v["object"]["name"] == "Kanban board for line 3"));
    let delete = got.iter().find(|v| v["type"] == "Delete").unwrap();
    assert!(
        delete["to"].as_array().unwrap().iter().any(|t| t == public),
        "{delete}"
    );

    // What Lemmy announces arrives: a post (and its bare Page, ignored), an
    // edit, a deletion.
    let fresh = page(2, "Gemba walk on Friday", "Meet at the line 2 entrance.");
    let (s, b) = lemmy
        .send_as(
            &inbox,
            &group_key,
            &announce(2, wrap("Create", 2, fresh.clone())),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let (s, b) = lemmy.send_as(&inbox, &group_key, &announce(3, fresh)).await;
    assert_eq!(
        s,
        StatusCode::ACCEPTED,
        "the extra Announce of a bare Page: {b}"
    );
    assert_eq!(content_count(&beta, "Meet at the line 2"), 1);
    let edited = page(
        2,
        "Gemba walk on Friday",
        "Meet at the line 2 entrance, 9:00.",
    );
    let (s, b) = lemmy
        .send_as(&inbox, &group_key, &announce(4, wrap("Update", 2, edited)))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    assert_eq!(content_count(&beta, "entrance, 9:00"), 1);
    let mut gone = wrap("Delete", 2, json!(format!("{}/post/2", lemmy.base)));
    gone["to"] = json!([public]);
    gone["cc"] = json!([group]);
    let (s, b) = lemmy.send_as(&inbox, &group_key, &announce(5, gone)).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    assert_eq!(content_count(&beta, "Meet at the line 2"), 0);

    // A refusal: Lemmy's long explanation is kept, from its start.
    lemmy.refuse_everything(true);
    let (s, v) = bob
        .post(
            &format!("/api/v1/communities/{handle}/posts"),
            json!({"body": "This one is refused"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    wait_count(
        &beta,
        "SELECT COUNT(*) FROM deliveries WHERE activity LIKE '%This one is refused%' AND last_error LIKE 'HTTP 400: {\"error\":\"refused by the test\"%'",
        1,
        "the refusal and its reason",
    )
    .await;
}

async fn upload(api: &Api, path: &str, body: &[u8]) -> serde_json::Value {
    let r = client()
        .post(format!("{}{path}", api.base))
        .bearer_auth(&api.token)
        .header("content-type", "application/pdf")
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    let s = r.status();
    let v: serde_json::Value = r.json().await.unwrap_or_default();
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v
}

/// A date of the API to the second (the copy keeps what the host says).
fn second(v: &serde_json::Value) -> String {
    v.as_str().unwrap_or("").chars().take(19).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_community_and_a_remote_profile_show_what_their_host_shows() {
    let [alpha, beta, _] = trusting_network().await;
    let ann = alpha.user("ann").await;
    let cid = alpha.user("cid").await;
    let bob = beta.user("bob").await;
    create(&ann, "quality", "public", "open").await;
    let (s, v) = cid
        .post("/api/v1/communities/quality/join", json!({}))
        .await;
    assert!(s.is_success(), "{v}");
    let (s, v) = cid.post("/api/v1/people/ann/follow", json!({})).await;
    assert!(s.is_success(), "{v}");
    // Before anyone of beta joins: a pinned announcement, and a document
    // with a note, given a second version under another file name.
    let (s, v) = ann
        .post(
            "/api/v1/communities/quality/posts",
            json!({"body": "Welcome to quality"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, _) = ann
        .call(
            Method::PUT,
            &format!("/api/v1/communities/quality/posts/{}/pin", v["id"]),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let doc = upload(
        &ann,
        "/api/v1/communities/quality/documents?filename=plan.pdf&note=Draft%20for%20review",
        b"%PDF plan v1",
    )
    .await;
    let doc_a = doc["id"].as_i64().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    upload(
        &ann,
        &format!("/api/v1/documents/{doc_a}/versions?filename=plan-final.pdf&note=Signed%20off"),
        b"%PDF plan v2",
    )
    .await;
    let (_, on_alpha) = ann.get(&format!("/api/v1/documents/{doc_a}")).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let qa_b = join(&bob, &beta, "quality", &alpha).await;
    wait_count(
        &beta,
        "SELECT COUNT(*) FROM document_versions",
        2,
        "both versions on beta",
    )
    .await;
    // The header counts the host's members (ann, cid and bob), not the one
    // beta knows.
    let (s, c) = bob.get(&format!("/api/v1/communities/{qa_b}")).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["member_count"], 3, "{c}");
    let (_, host) = ann.get("/api/v1/communities/quality").await;
    assert_eq!(second(&c["created_at"]), second(&host["created_at"]));
    // The announcement is pinned on beta too, shown once.
    let (_, f) = bob.get(&format!("/api/v1/communities/{qa_b}/posts")).await;
    assert!(
        f["pinned"][0]["body"]
            .as_str()
            .unwrap_or("")
            .contains("Welcome to quality"),
        "{f}"
    );
    // The document has its host's name and dates, and its entries keep
    // their notes.
    let (_, docs) = bob
        .get(&format!("/api/v1/communities/{qa_b}/documents"))
        .await;
    let d = &docs["items"][0];
    assert_eq!(d["name"], "plan.pdf", "{docs}");
    assert_eq!(d["versions"][0]["filename"], "plan-final.pdf");
    assert_eq!(second(&d["created_at"]), second(&on_alpha["created_at"]));
    assert_eq!(second(&d["updated_at"]), second(&on_alpha["updated_at"]));
    for i in 0..2 {
        assert_eq!(
            second(&d["versions"][i]["created_at"]),
            second(&on_alpha["versions"][i]["created_at"]),
            "{docs} / {on_alpha}"
        );
    }
    let bodies: Vec<String> = f["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["body_html"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        bodies.iter().any(|b| b.contains("Draft for review")),
        "{bodies:?}"
    );
    assert!(
        bodies.iter().any(|b| b.contains("Signed off")),
        "{bodies:?}"
    );
    // The page says the same.
    let page = federation_tests::Browser::sign_in(&beta, "bob").await;
    let (_, html) = page.page(&format!("/communities/{qa_b}"), "en").await;
    assert!(html.contains("3 members"), "{html}");

    // A remote profile shows its host's counts, before and after a follow.
    let (s, p) = bob
        .get(&format!("/api/v1/people/lookup?q=@{}", alpha.handle("ann")))
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let ann_b = p["username"].as_str().unwrap().to_string();
    eventually(10, "ann's counts on beta", || {
        let bob = &bob;
        let path = format!("/api/v1/people/{ann_b}");
        async move {
            let (_, p) = bob.get(&path).await;
            (p["followers_count"] == 1).then_some(())
        }
    })
    .await;
    let (s, v) = bob
        .post(&format!("/api/v1/people/{ann_b}/follow"), json!({}))
        .await;
    assert!(s.is_success(), "{v}");
    eventually(10, "bob counted among ann's followers on beta", || {
        let bob = &bob;
        let path = format!("/api/v1/people/{ann_b}");
        async move {
            let (_, p) = bob.get(&path).await;
            (p["followers_count"] == 2).then_some(())
        }
    })
    .await;
    let (_, on_alpha) = ann.get("/api/v1/people/ann").await;
    assert_eq!(on_alpha["followers_count"], 2, "{on_alpha}");
    let (_, on_beta) = bob.get(&format!("/api/v1/people/{ann_b}")).await;
    assert_eq!(
        second(&on_beta["created_at"]),
        second(&on_alpha["created_at"])
    );
}
