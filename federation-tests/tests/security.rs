//! Holes of the security review that cross instances, played against real
//! Ruche processes with real signatures. Each test is named after its hole.

use federation_tests::{client, network, sign_for, signed_get, with_headers, ForeignServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A reply from another server addressed only to the post's author (as a
/// Mastodon "mention only" reply is) stays theirs: the rest of the instance
/// neither reads it nor counts it under the public post.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_private_replies_stay_private() {
    let [_alpha, mut beta, _gamma] = network();
    let foreign = ForeignServer::start().await;
    beta.trust(&foreign.authority(), "partner");
    beta.start().await;
    let bob = beta.user("bob").await;
    let carl = beta.user("carl").await;
    let (s, post) = bob
        .post("/api/v1/posts", json!({"body": "Shift plan for next week"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{post}");
    let post_id = post["id"].as_i64().unwrap();
    let post_url = format!("{}/posts/{post_id}", beta.base);
    let bob_url = format!("{}/people/bob", beta.base);
    let fb = &foreign.base;
    for (n, to, cc, text) in [
        (1, json!([bob_url]), json!([]), "only for bob"),
        (
            2,
            json!([format!("{fb}/users/alice/followers")]),
            json!([bob_url]),
            "for my followers",
        ),
        (
            3,
            json!(["https://www.w3.org/ns/activitystreams#Public"]),
            json!([bob_url]),
            "for everyone",
        ),
    ] {
        let note = json!({
            "id": format!("{fb}/users/alice/statuses/9{n}"),
            "type": "Note",
            "attributedTo": format!("{fb}/users/alice"),
            "inReplyTo": post_url,
            "content": format!("<p>{text}</p>"),
            "to": to, "cc": cc,
        });
        let create = json!({
            "id": format!("{fb}/users/alice/statuses/9{n}/activity"),
            "type": "Create",
            "actor": format!("{fb}/users/alice"),
            "to": to, "cc": cc,
            "object": note,
        });
        let (s, b) = foreign
            .send_value(&format!("{}/inbox", beta.base), &create)
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    }
    let bodies = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["body"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let (_, for_bob) = bob.get(&format!("/api/v1/posts/{post_id}/comments")).await;
    let (_, for_carl) = carl.get(&format!("/api/v1/posts/{post_id}/comments")).await;
    let (bob_sees, carl_sees) = (bodies(&for_bob), bodies(&for_carl));
    assert_eq!(bob_sees.len(), 3, "{for_bob}");
    assert_eq!(carl_sees, vec!["for everyone".to_string()], "{for_carl}");
    // Not counted for carl either, nor readable by its id.
    let (_, feed) = carl.get("/api/v1/people/bob/posts").await;
    let entry = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == post_id)
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(entry["comment_count"], 1, "{feed}");
    let private_id = beta.count("SELECT id FROM content WHERE body LIKE '%only for bob%'");
    let (s, _) = carl.get(&format!("/api/v1/posts/{private_id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = bob.get(&format!("/api/v1/posts/{private_id}")).await;
    assert_eq!(s, StatusCode::OK);
}

/// A remote Follow of a secret community answers exactly as a Follow of a
/// name nobody has, and sends nothing back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_communities_are_not_revealed_to_a_remote_follow() {
    let [_alpha, mut beta, _gamma] = network();
    let foreign = ForeignServer::start().await;
    beta.trust(&foreign.authority(), "member");
    beta.start().await;
    let bob = beta.user("bob").await;
    let (s, v) = bob
        .post(
            "/api/v1/communities",
            json!({"name": "skunkworks", "title": "S", "visibility": "secret", "join_policy": "invitation"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let fb = &foreign.base;
    let mut answers = Vec::new();
    for name in ["skunkworks", "nothing_here"] {
        let group = format!("{}/communities/{name}", beta.base);
        let follow = json!({
            "id": format!("{fb}/users/alice/follows/{name}"),
            "type": "Follow",
            "actor": format!("{fb}/users/alice"),
            "object": group,
        });
        answers.push(foreign.send_value(&format!("{group}/inbox"), &follow).await);
    }
    assert_eq!(answers[0].0, StatusCode::NOT_FOUND, "{:?}", answers[0]);
    assert_eq!(answers[0], answers[1]);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(foreign.count_type("Reject"), 0);
    assert_eq!(foreign.count_type("Accept"), 0);
}

/// Sanitising can grow remote HTML several times (`<` becomes `&lt;`): what
/// is stored is bounded, not only what is received.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_remote_html_is_bounded() {
    let [_alpha, mut beta, _gamma] = network();
    let foreign = ForeignServer::start().await;
    beta.trust(&foreign.authority(), "partner");
    beta.start().await;
    let _bob = beta.user("bob").await;
    let bob_url = format!("{}/people/bob", beta.base);
    let fb = &foreign.base;
    let content = format!("<p>{}</p>", "<".repeat(90_000));
    let create = json!({
        "id": format!("{fb}/users/alice/statuses/77/activity"),
        "type": "Create",
        "actor": format!("{fb}/users/alice"),
        "to": [bob_url],
        "object": {
            "id": format!("{fb}/users/alice/statuses/77"),
            "type": "Note",
            "attributedTo": format!("{fb}/users/alice"),
            "content": content,
            "to": [bob_url],
            "tag": [{"type": "Mention", "href": bob_url}],
        },
    });
    let (s, b) = foreign
        .send_value(&format!("{}/inbox", beta.base), &create)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert!(b.contains("field_too_long"), "{b}");
    assert_eq!(beta.count("SELECT COUNT(*) FROM content"), 0);
}

/// Trust names an instance with its port: a service on another port of a
/// trusted host is not that instance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_is_decided_on_host_and_port() {
    let [mut alpha, mut beta, _gamma] = network();
    alpha.trust("beta.test", "member");
    alpha.start().await;
    beta.start().await;
    let _ann = alpha.user("ann").await;
    let ann_url = format!("{}/people/ann", alpha.base);
    // A server on beta.test, but on another port than beta's.
    let impostor = ForeignServer::start_on("beta.test").await;
    assert_ne!(impostor.authority(), beta.authority());
    let follow = json!({
        "id": format!("{}/users/alice/follows/1", impostor.base),
        "type": "Follow",
        "actor": format!("{}/users/alice", impostor.base),
        "object": ann_url,
    });
    let (s, b) = impostor
        .send_value(&format!("{}/inbox", alpha.base), &follow)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    assert!(b.contains("instance_not_trusted"), "{b}");
    assert_eq!(alpha.count("SELECT COUNT(*) FROM follows"), 0);
    assert_eq!(
        alpha.count("SELECT COUNT(*) FROM users WHERE domain IS NOT NULL"),
        0,
        "nothing fetched from the impostor"
    );
}

/// A fetched document is what was asked for (Mastodon's GHSA-jhrq-qvrm-qr36):
/// a JSON file a user uploaded to a trusted server is not an actor (it is
/// not served as ActivityPub), and a document that names another actor's
/// id cannot stand for that actor, nor replace its key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetched_documents_are_what_was_asked_for() {
    let [_alpha, mut beta, _gamma] = network();
    let foreign = ForeignServer::start().await;
    beta.trust(&foreign.authority(), "member");
    beta.start().await;
    let fb = foreign.base.clone();
    let inbox = format!("{}/inbox", beta.base);
    let attacker = ruche::net::keys::generate().unwrap();
    let actor_doc = |id: &str, name: &str| {
        json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": id, "type": "Person", "preferredUsername": name,
            "inbox": format!("{fb}/users/{name}/inbox"),
            "publicKey": {"id": format!("{id}#main-key"), "owner": id, "publicKeyPem": attacker.public_pem},
        })
    };
    // A file served as plain JSON, and one that claims to be alice.
    foreign.publish(
        "/files/evil.json",
        "application/json",
        &actor_doc(&format!("{fb}/files/evil.json"), "evil"),
    );
    foreign.publish(
        "/files/alice.json",
        "application/activity+json",
        &actor_doc(&format!("{fb}/users/alice"), "alice"),
    );
    for (n, actor, key_id) in [
        (
            1,
            format!("{fb}/files/evil.json"),
            format!("{fb}/files/evil.json#main-key"),
        ),
        (
            2,
            format!("{fb}/users/alice"),
            format!("{fb}/files/alice.json#main-key"),
        ),
    ] {
        let create = json!({
            "id": format!("{fb}/forged/{n}/activity"),
            "type": "Create",
            "actor": actor,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "object": {
                "id": format!("{fb}/forged/{n}"), "type": "Note", "attributedTo": actor,
                "to": ["https://www.w3.org/ns/activitystreams#Public"],
                "content": "<p>forged</p>",
            },
        });
        let body = create.to_string();
        let headers = sign_for(
            &inbox,
            Some(body.as_bytes()),
            &key_id,
            &attacker.private_pem,
        );
        let r = with_headers(client().post(&inbox).body(body), headers)
            .send()
            .await
            .unwrap();
        assert!(
            !r.status().is_success(),
            "forgery {n} accepted: {}",
            r.status()
        );
    }
    assert_eq!(
        beta.count("SELECT COUNT(*) FROM content WHERE body LIKE '%forged%'"),
        0
    );
    assert_eq!(
        beta.count("SELECT COUNT(*) FROM users WHERE ap_id LIKE '%/files/%'"),
        0,
        "an uploaded file became an actor"
    );
    let attacker_key = attacker
        .public_pem
        .lines()
        .nth(1)
        .unwrap()
        .replace('\'', "");
    assert_eq!(
        beta.count(&format!(
            "SELECT COUNT(*) FROM users WHERE public_key LIKE '%{attacker_key}%'"
        )),
        0,
        "the attacker's key was stored"
    );
}

/// `preferredUsername` is optional in ActivityPub: an actor that gives
/// none (some servers and tools publish such actors) is named after its
/// address, and its reply is taken like anyone's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actors_without_a_preferred_username_are_accepted() {
    let [_alpha, mut beta, _gamma] = network();
    let foreign = ForeignServer::start().await;
    beta.trust(&foreign.authority(), "member");
    beta.start().await;
    let bob = beta.user("bob").await;
    let (s, post) = bob
        .post(
            "/api/v1/posts",
            json!({"body": "Who has the new badge reader?"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{post}");
    let post_url = format!("{}/posts/{}", beta.base, post["id"]);
    let fb = foreign.base.clone();
    let key = ruche::net::keys::generate().unwrap();
    let id = format!("{fb}/ap/actors/01HZXQ");
    foreign.publish(
        "/ap/actors/01HZXQ",
        "application/activity+json",
        &json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": id, "type": "Person", "name": "Night shift",
            "inbox": format!("{id}/inbox"),
            "publicKey": {"id": format!("{id}#main-key"), "owner": id, "publicKeyPem": key.public_pem},
        }),
    );
    let public = "https://www.w3.org/ns/activitystreams#Public";
    let create = json!({
        "id": format!("{id}/notes/1/activity"), "type": "Create", "actor": id, "to": [public],
        "object": {
            "id": format!("{id}/notes/1"), "type": "Note", "attributedTo": id, "to": [public],
            "inReplyTo": post_url, "content": "<p>the nameless night shift has it</p>",
        },
    });
    let inbox = format!("{}/inbox", beta.base);
    let body = create.to_string();
    let headers = sign_for(
        &inbox,
        Some(body.as_bytes()),
        &format!("{id}#main-key"),
        &key.private_pem,
    );
    let r = with_headers(client().post(&inbox).body(body), headers)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::ACCEPTED,
        "{}",
        r.text().await.unwrap()
    );
    let handle = format!("01hzxq@{}", foreign.authority());
    assert_eq!(
        beta.count(&format!(
            "SELECT COUNT(*) FROM users WHERE username = '{handle}'"
        )),
        1
    );
    let (_, comments) = bob
        .get(&format!("/api/v1/posts/{}/comments", post["id"]))
        .await;
    assert_eq!(
        comments["items"][0]["author"]["username"], handle,
        "{comments}"
    );
}

/// An actor without `preferredUsername`, found by its WebFinger name, is
/// known by that name (not by its opaque address), and its signed GET of a
/// public post is served on an instance in `open` mode, which it never
/// wrote to before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nameless_actor_is_named_by_webfinger_and_reads_in_open_mode() {
    let [_alpha, mut beta, _gamma] = network();
    let foreign = ForeignServer::start().await;
    beta.set_env("RUCHE_FEDERATION_MODE", "open");
    beta.start().await;
    let bob = beta.user("bob").await;
    let (s, post) = bob
        .post(
            "/api/v1/posts",
            json!({"body": "Canteen menu for next week"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{post}");
    let post_url = format!("{}/posts/{}", beta.base, post["id"]);
    let key = ruche::net::keys::generate().unwrap();
    let id = format!("{}/ap/actors/01J7QK", foreign.base);
    foreign.publish(
        "/ap/actors/01J7QK",
        "application/activity+json",
        &json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": id, "type": "Service", "name": "Canteen",
            "inbox": format!("{id}/inbox"),
            "publicKey": {"id": format!("{id}#main-key"), "owner": id, "publicKeyPem": key.public_pem},
        }),
    );
    foreign.publish_webfinger("canteen", &id);
    let handle = format!("canteen@{}", foreign.authority());
    let (s, found) = bob
        .get(&format!("/api/v1/people/lookup?q=%40{handle}"))
        .await;
    assert_eq!(s, StatusCode::OK, "{found}");
    assert_eq!(found["username"], handle.as_str(), "{found}");
    // Its signed GET of a public post is served.
    let status = signed_get(
        &post_url,
        Some((&key.private_pem, &format!("{id}#main-key"))),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Still known by its WebFinger name after its key was read again.
    assert_eq!(
        beta.count(&format!(
            "SELECT COUNT(*) FROM users WHERE username = '{handle}' AND ap_id = '{id}'"
        )),
        1
    );
    // An unsigned GET of the same post is served too, and a signed GET of
    // a post for followers only is not.
    assert_eq!(signed_get(&post_url, None).await, StatusCode::OK);
    let (s, private) = bob
        .post(
            "/api/v1/posts",
            json!({"body": "Team only", "visibility": "followers"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{private}");
    let private_url = format!("{}/posts/{}", beta.base, private["id"]);
    let status = signed_get(
        &private_url,
        Some((&key.private_pem, &format!("{id}#main-key"))),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Activities that do not fit what the protocol says (an id that is no
/// address, an addressing entry that is no address, too many tags, an
/// unknown shape of actor) are answered 400 with the reason, and nothing of
/// them is stored; what other servers add that Ruche does not know (custom
/// emoji tags, a plain-text `source`, `sensitive: null`) is read past.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activities_that_do_not_fit_the_protocol_are_refused_whole() {
    let [_alpha, mut beta, _gamma] = network();
    let foreign = ForeignServer::start().await;
    beta.trust(&foreign.authority(), "partner");
    beta.start().await;
    let bob = beta.user("bob").await;
    let (s, post) = bob
        .post("/api/v1/posts", json!({"body": "Audit next Tuesday"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{post}");
    let post_url = format!("{}/posts/{}", beta.base, post["id"]);
    let fb = foreign.base.clone();
    let alice = format!("{fb}/users/alice");
    let public = "https://www.w3.org/ns/activitystreams#Public";
    let reply = |n: u32, note: Value| {
        json!({
            "id": format!("{alice}/statuses/7{n}/activity"), "type": "Create",
            "actor": alice, "to": [public], "object": note,
        })
    };
    let note = |n: u32| {
        json!({
            "id": format!("{alice}/statuses/7{n}"), "type": "Note",
            "attributedTo": alice, "inReplyTo": post_url, "to": [public],
            "content": format!("<p>reply {n}</p>"),
        })
    };
    let inbox = format!("{}/inbox", beta.base);
    let mut bad_id = note(1);
    bad_id["id"] = json!("statuses 71");
    let mut bad_to = note(2);
    bad_to["to"] = json!([public, 42]);
    let mut many_tags = note(3);
    many_tags["tag"] = json!((0..60)
        .map(|i| json!({"type": "Hashtag", "name": format!("#t{i}")}))
        .collect::<Vec<_>>());
    for (activity, code) in [
        (reply(1, bad_id), "activity_invalid"),
        (reply(2, bad_to), "activity_invalid"),
        (reply(3, many_tags), "too_many"),
        (
            json!({"id": "not an address", "type": "Create", "actor": alice, "object": note(4)}),
            "activity_invalid",
        ),
    ] {
        let (s, b) = foreign.send_value(&inbox, &activity).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert!(b.contains(code), "{code}: {b}");
    }
    assert_eq!(
        beta.count("SELECT COUNT(*) FROM content WHERE ap_id IS NOT NULL"),
        0
    );
    // What Akkoma and Misskey add is read past: the reply is stored.
    let mut akkoma = note(5);
    akkoma["source"] = json!("reply 5, as typed");
    akkoma["sensitive"] = Value::Null;
    akkoma["tag"] = json!([
        {"type": "Emoji", "name": ":blobcat:", "icon": {"type": "Image", "url": format!("{fb}/emoji/blobcat.png")}},
        {"type": "Hashtag", "name": "#audit"}
    ]);
    let (s, b) = foreign.send_value(&inbox, &reply(5, akkoma)).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    assert_eq!(
        beta.count("SELECT COUNT(*) FROM content WHERE ap_id IS NOT NULL"),
        1
    );
}
