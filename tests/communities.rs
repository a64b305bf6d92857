//! Communities on one instance: creation, visibility, join policies, roles,
//! moderation, community feeds and the home feed, over HTTP.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn create(api: &Api, name: &str, visibility: &str, policy: &str) -> Value {
    let r = api
        .post(
            "/communities",
            json!({"name": name, "title": format!("Team {name}"), "description": "We **build** things",
                   "visibility": visibility, "join_policy": policy}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    r.json
}

fn names(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            i.get("name")
                .or_else(|| i.get("username"))
                .or_else(|| i.get("person").map(|p| &p["username"]))
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_a_community_checks_its_fields() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    app.user("bob").await;
    let bad = [
        (json!({"name": "x", "title": "T"}), "community_name_length"),
        (
            json!({"name": "Bad name!", "title": "T"}),
            "community_name_chars",
        ),
        (json!({"name": "bob", "title": "T"}), "name_taken"),
        (
            json!({"name": "team", "title": "  "}),
            "community_title_required",
        ),
        (
            json!({"name": "team", "title": "x".repeat(101)}),
            "community_title_too_long",
        ),
        (
            json!({"name": "team", "title": "T", "visibility": "everyone"}),
            "community_visibility_invalid",
        ),
        (
            json!({"name": "team", "title": "T", "join_policy": "maybe"}),
            "join_policy_invalid",
        ),
        (
            json!({"name": "team", "title": "T", "visibility": "organisation", "partners": true}),
            "community_partners_organisation",
        ),
        (json!({"title": "T"}), "field_missing"),
    ];
    for (body, code) in bad {
        let r = alice.post("/communities", body.clone()).await;
        assert!(r.status.is_client_error(), "{body}: {:?}", r.json);
        assert_eq!(r.code(), code, "{body}");
        assert!(!r.message().is_empty());
    }
    assert_eq!(app.count("communities"), 0);
    assert_eq!(app.count("community_members"), 0);

    let c = create(&alice, "Quality", "public", "open").await;
    assert_eq!(c["name"], "quality");
    assert_eq!(c["my_role"], "owner");
    assert_eq!(c["member_count"], 1);
    assert!(c["description_html"]
        .as_str()
        .unwrap()
        .contains("<strong>build</strong>"));
    // One name space with people: neither a person nor another community
    // can take it, and it is not listed as a person.
    let r = alice
        .post("/communities", json!({"name": "quality", "title": "Again"}))
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "name_taken"));
    let r = app
        .client()
        .post(app.url("/api/v1/accounts"))
        .json(&json!({"username": "quality", "email": "q@example.com", "password": "long enough password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(!names(&alice.get("/people").await.json).contains(&"quality".to_string()));
    assert_eq!(
        alice.get("/people/quality").await.status,
        StatusCode::NOT_FOUND
    );
    // The moderation log records the creation; settings changes are logged too.
    let r = alice
        .patch(
            "/communities/quality",
            json!({"join_policy": "request", "title": "Quality team"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(r.json["join_policy"], "request");
    let log = alice.get("/communities/quality/log").await;
    let actions: Vec<&str> = log.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["settings", "create"]);
    let bob = app.login_api("bob").await;
    let r = bob
        .patch("/communities/quality", json!({"title": "Mine"}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "community_moderators_only")
    );
    assert_eq!(
        alice.get("/communities/quality").await.json["title"],
        "Quality team"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_community_members_post_and_everyone_reads() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    create(&alice, "rnd", "public", "open").await;

    // A non-member reads but cannot post, comment or react.
    let first = alice
        .post(
            "/communities/rnd/posts",
            json!({"body": "Kick-off on Monday"}),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.json);
    assert_eq!(first.json["community"], "rnd");
    let post = first.json["id"].as_i64().unwrap();
    let before = app.count("content");
    let r = carol
        .post("/communities/rnd/posts", json!({"body": "hi"}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "community_members_only")
    );
    let r = carol
        .post(&format!("/posts/{post}/comments"), json!({"body": "hi"}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "community_members_only")
    );
    let r = carol.put(&format!("/posts/{post}/reactions/like")).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "community_members_only")
    );
    assert_eq!(app.count("content"), before);
    assert_eq!(app.count("reactions"), 0);
    let feed = carol.get("/communities/rnd/posts").await;
    assert_eq!(feed.json["items"][0]["id"], post);
    // Unknown community: 404 everywhere.
    for path in [
        "/communities/nope",
        "/communities/nope/posts",
        "/communities/nope/members",
    ] {
        assert_eq!(
            carol.get(path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let r = carol.post("/communities/nope/join", json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Joining an open community is immediate; the home feed then gathers
    // the community with followed people.
    let r = bob.post("/communities/rnd/join", json!({})).await;
    assert_eq!(r.json["status"], "member");
    let r = bob
        .post(
            "/communities/rnd/posts",
            json!({"body": "Minutes of the *kick-off*"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let bobs = r.json["id"].as_i64().unwrap();
    let r = bob
        .post(
            &format!("/posts/{post}/comments"),
            json!({"body": "I'll be there"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(
        bob.put(&format!("/posts/{post}/reactions/bravo"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let home = bob.get("/feed").await;
    let ids: Vec<i64> = home.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [bobs, post]);
    assert_eq!(home.json["items"][1]["comment_count"], 1);
    // Carol, who is not a member and follows nobody, does not get it at home.
    assert!(carol.get("/feed").await.json["items"]
        .as_array()
        .unwrap()
        .is_empty());
    let members = alice.get("/communities/rnd/members").await;
    assert_eq!(names(&members.json), ["alice", "bob"]);
    assert_eq!(alice.get("/communities/rnd").await.json["member_count"], 2);

    // Leaving: posting stops; the last owner cannot leave.
    assert_eq!(
        bob.delete("/communities/rnd/membership").await.status,
        StatusCode::NO_CONTENT
    );
    let r = bob
        .post("/communities/rnd/posts", json!({"body": "still here?"}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = alice.delete("/communities/rnd/membership").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "community_last_owner")
    );
    let r = carol.delete("/communities/rnd/membership").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "community_not_member")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_invitations_and_secret_communities() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let dave = app.user("dave").await;

    // On request: pending until a moderator approves; moderators are told.
    create(&alice, "board", "private", "request").await;
    let r = bob.post("/communities/board/join", json!({})).await;
    assert_eq!(r.json["status"], "pending");
    let n = alice.get("/notifications").await;
    assert_eq!(n.json["items"][0]["kind"], "community_request");
    assert_eq!(n.json["items"][0]["community"], "board");
    // Private: anyone finds it, only members read; a pending person is not
    // a member yet.
    assert_eq!(carol.get("/communities/board").await.status, StatusCode::OK);
    let r = bob.get("/communities/board/posts").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "community_members_only")
    );
    let r = carol
        .post("/communities/board/requests/bob/approve", json!({}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "community_moderators_only")
    );
    let r = alice
        .post("/communities/board/requests/carol/approve", json!({}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "community_no_request")
    );
    assert_eq!(
        alice
            .post("/communities/board/requests/bob/approve", json!({}))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        bob.get("/notifications").await.json["items"][0]["kind"],
        "community_accepted"
    );
    let post = alice
        .post(
            "/communities/board/posts",
            json!({"body": "Budget draft, @carol should not see it"}),
        )
        .await;
    let post = post.json["id"].as_i64().unwrap();
    assert_eq!(
        bob.get("/communities/board/posts").await.json["items"][0]["id"],
        post
    );
    // A mention of a non-member reveals nothing: no notification, no access.
    assert!(carol.get("/notifications").await.json["items"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(
        carol.get(&format!("/posts/{post}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        carol.get("/communities/board/members").await.status,
        StatusCode::FORBIDDEN
    );
    let r = carol.post("/communities/board/join", json!({})).await;
    assert_eq!(r.json["status"], "pending");
    assert_eq!(
        alice
            .post("/communities/board/requests/carol/refuse", json!({}))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        carol.get("/communities/board").await.json["my_status"],
        Value::Null
    );

    // Secret and by invitation: a non-member gets 404 everywhere (never 403),
    // and it is not in the directory.
    create(&alice, "merger", "secret", "invitation").await;
    let before = app.count("community_members");
    for path in [
        "/communities/merger",
        "/communities/merger/posts",
        "/communities/merger/members",
        "/communities/merger/log",
    ] {
        let r = dave.get(path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
    }
    let r = dave.post("/communities/merger/join", json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("community_members"), before);
    assert!(!names(&dave.get("/communities").await.json).contains(&"merger".to_string()));
    assert!(names(&alice.get("/communities").await.json).contains(&"merger".to_string()));
    // Invited, Dave sees it, and joining accepts the invitation.
    let r = bob
        .post(
            "/communities/merger/invitations",
            json!({"username": "dave"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "bob is not a member: the community does not exist for him"
    );
    let r = alice
        .post(
            "/communities/merger/invitations",
            json!({"username": "ghost"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        alice
            .post(
                "/communities/merger/invitations",
                json!({"username": "dave"})
            )
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        dave.get("/notifications").await.json["items"][0]["kind"],
        "community_invite"
    );
    assert_eq!(
        dave.get("/communities/merger").await.json["my_status"],
        "invited"
    );
    assert!(names(&dave.get("/communities?mine=true").await.json).contains(&"merger".to_string()));
    assert_eq!(
        dave.post("/communities/merger/join", json!({})).await.json["status"],
        "member"
    );
    // By invitation only: asking without one is refused.
    create(&alice, "club", "public", "invitation").await;
    let r = carol.post("/communities/club/join", json!({})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "community_invitation_required")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderators_remove_pin_ban_and_everything_is_logged() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    create(&alice, "ops", "public", "open").await;
    for who in [&bob, &carol] {
        assert_eq!(
            who.post("/communities/ops/join", json!({})).await.json["status"],
            "member"
        );
    }
    let carols = carol
        .post("/communities/ops/posts", json!({"body": "Off-topic rant"}))
        .await;
    let carols = carols.json["id"].as_i64().unwrap();
    let alices = alice
        .post(
            "/communities/ops/posts",
            json!({"body": "Rules of the community"}),
        )
        .await;
    let alices = alices.json["id"].as_i64().unwrap();

    // A non-moderator can neither remove someone else's post nor pin.
    let r = bob
        .delete(&format!("/communities/ops/posts/{carols}"))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "community_moderators_only")
    );
    let r = bob
        .put(&format!("/communities/ops/posts/{alices}/pin"))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "community_moderators_only")
    );
    assert_eq!(
        bob.get(&format!("/posts/{carols}")).await.status,
        StatusCode::OK
    );
    // An owner makes Bob moderator; he removes the post (reason logged).
    let r = bob.put("/communities/ops/members/carol/role").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST); // no body
    let r = alice
        .client
        .put(format!(
            "{}/api/v1/communities/ops/members/bob/role",
            alice.base
        ))
        .bearer_auth(&alice.token)
        .json(&json!({"role": "moderator"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = bob
        .delete(&format!(
            "/communities/ops/posts/{carols}?reason=off%20topic"
        ))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        carol.get(&format!("/posts/{carols}")).await.status,
        StatusCode::NOT_FOUND
    );
    // A post of another community or of no community is not this one's.
    let plain = carol.post_text("my own post").await;
    let r = bob.delete(&format!("/communities/ops/posts/{plain}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        carol.get(&format!("/posts/{plain}")).await.status,
        StatusCode::OK
    );

    // Pinned announcements come first in the community feed.
    assert_eq!(
        bob.put(&format!("/communities/ops/posts/{alices}/pin"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let feed = carol.get("/communities/ops/posts").await;
    assert_eq!(feed.json["pinned"][0]["id"], alices);
    assert_eq!(feed.json["pinned"][0]["pinned"], true);

    // A moderator cannot ban an owner; an owner can ban; a banned person
    // neither posts nor joins again until unbanned.
    let r = bob.put("/communities/ops/bans/alice").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST); // no body
    let r = bob
        .client
        .put(format!("{}/api/v1/communities/ops/bans/alice", bob.base))
        .bearer_auth(&bob.token)
        .json(&json!({"reason": "coup"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = bob
        .client
        .put(format!("{}/api/v1/communities/ops/bans/carol", bob.base))
        .bearer_auth(&bob.token)
        .json(&json!({"reason": "x".repeat(501)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = bob
        .client
        .put(format!("{}/api/v1/communities/ops/bans/carol", bob.base))
        .bearer_auth(&bob.token)
        .json(&json!({"reason": "repeated rants"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = carol
        .post("/communities/ops/posts", json!({"body": "let me back"}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "community_banned")
    );
    let r = carol.post("/communities/ops/join", json!({})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "community_banned")
    );
    let members = bob.get("/communities/ops/members").await;
    assert!(members.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["person"]["username"] == "carol" && m["status"] == "banned"));
    let members = carol.get("/communities/ops/members").await;
    assert!(!names(&members.json).contains(&"carol".to_string()));
    assert_eq!(
        bob.delete("/communities/ops/bans/carol").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        carol.post("/communities/ops/join", json!({})).await.json["status"],
        "member"
    );
    assert_eq!(
        bob.delete("/communities/ops/members/carol?reason=cleanup")
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let r = bob.delete("/communities/ops/members/carol").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "community_not_member")
    );

    let log = carol.get("/communities/ops/log").await;
    let entries: Vec<(String, String)> = log.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["detail"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let actions: Vec<&str> = entries.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "remove",
            "unban",
            "ban",
            "pin",
            "remove_post",
            "role",
            "create"
        ]
    );
    assert_eq!(entries[2].1, "repeated rants");
    assert_eq!(entries[4].1, "off topic");
    assert_eq!(log.json["items"][4]["actor"], "bob");
    assert_eq!(log.json["items"][4]["target_user"], "carol");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_community_picture_is_set_by_moderators_and_seen_by_those_who_may() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    create(&alice, "vault", "secret", "invitation").await;
    let r = bob
        .put_bytes("/communities/vault/picture", png(64, 64), "image/png")
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "secret: bob does not know it"
    );
    let r = alice
        .put_bytes(
            "/communities/vault/picture",
            b"not an image".to_vec(),
            "image/png",
        )
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        alice.get("/communities/vault").await.json["picture_version"],
        0
    );
    let r = alice
        .put_bytes("/communities/vault/picture", png(64, 64), "image/png")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(r.json["picture_version"], 1);
    // Served to a member; a 404 for others, and never as a person's photo.
    let a = app.browser_login("alice").await;
    let res = a.get("/communities/vault/picture?v=1").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    let b = app.browser_login("bob").await;
    assert_eq!(
        b.get("/communities/vault/picture?v=1").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        b.get("/people/vault/photo").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        a.get("/people/vault/photo").await.status(),
        StatusCode::NOT_FOUND
    );
    let r = alice.delete("/communities/vault/picture").await;
    assert_eq!(r.json["picture_version"], 0);
    let log = alice.get("/communities/vault/log").await;
    assert_eq!(log.json["items"][0]["action"], "picture");
}
