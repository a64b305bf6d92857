//! What Ruche sends reads the same to a JSON-LD processor as to a server
//! that reads plain JSON: every activity delivered in a scenario that
//! touches each kind Ruche sends, and the documents it serves, are expanded
//! with pyld (`jsonld_check.py`, contexts from `fixtures/contexts`, no
//! network), and no term may be left undefined.
//!
//! pyld is a Python package: without it the test says so and stops, except
//! with RUCHE_REQUIRE_JSONLD=1 (as in CI), where its absence fails it.

use std::process::Command;

use federation_tests::{client, eventually, sign_for, trusting_network, with_headers, Instance};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn pyld_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import pyld"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("RUCHE_REQUIRE_JSONLD").is_err(),
            "RUCHE_REQUIRE_JSONLD is set but python3 cannot import pyld"
        );
        eprintln!("skipped: python3 with pyld is not installed (pip install pyld)");
    }
    ok
}

/// GETs an ActivityPub document signed as `name` of `from`.
async fn fetch(url: &str, from: &Instance, name: &str) -> Value {
    let (key, key_id) = from.private_key(name);
    let r = with_headers(
        client()
            .get(url)
            .header("accept", "application/activity+json"),
        sign_for(url, None, &key_id, &key),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{url}");
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_ruche_sends_is_understood_by_a_json_ld_reader() {
    if !pyld_available() {
        return;
    }
    let [alpha, beta, _gamma] = trusting_network().await;
    let ann = alpha.user("ann").await;
    let bob = beta.user("bob").await;

    // People: a follow both ways, a profile with fields and skills.
    for (api, handle) in [(&bob, alpha.handle("ann")), (&ann, beta.handle("bob"))] {
        let (s, p) = api.get(&format!("/api/v1/people/lookup?q={handle}")).await;
        assert_eq!(s, StatusCode::OK, "{p}");
        let (s, v) = api
            .post(
                &format!("/api/v1/people/{}/follow", p["username"].as_str().unwrap()),
                json!({}),
            )
            .await;
        assert!(s.is_success(), "{v}");
    }
    eventually(10, "both follows accepted", || {
        let n = alpha.count("SELECT COUNT(*) FROM follows WHERE accepted = TRUE")
            + beta.count("SELECT COUNT(*) FROM follows WHERE accepted = TRUE");
        async move { (n == 4).then_some(()) }
    })
    .await;
    let (s, v) = ann
        .call(
            Method::PATCH,
            "/api/v1/me",
            Some(json!({"job_title": "Welder", "department": "Plant 2", "skills": ["welding", "lean"]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // Content: a post with a hashtag and a mention, a comment, reactions
    // of each kind, an edit and a deletion.
    let (s, v) = ann
        .post(
            "/api/v1/posts",
            json!({"body": format!("Audit day #quality, @{} joins", beta.handle("bob"))}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let post = v["id"].as_i64().unwrap();
    let q = "SELECT COUNT(*) FROM content WHERE body LIKE '%Audit day%'";
    eventually(10, "the post on beta", || {
        let n = beta.count(q);
        async move { (n == 1).then_some(()) }
    })
    .await;
    let there = beta.count("SELECT id FROM content WHERE body LIKE '%Audit day%'");
    let (s, v) = bob
        .post(
            &format!("/api/v1/posts/{there}/comments"),
            json!({"body": "On my way"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    for kind in ["like", "thanks", "bravo", "insightful"] {
        let (s, v) = bob
            .call(
                Method::PUT,
                &format!("/api/v1/posts/{there}/reactions/{kind}"),
                None,
            )
            .await;
        assert!(s.is_success(), "{kind}: {v}");
    }
    let (s, _) = bob
        .call(
            Method::DELETE,
            &format!("/api/v1/posts/{there}/reactions/bravo"),
            None,
        )
        .await;
    assert!(s.is_success());
    let (s, v) = ann
        .call(
            Method::PATCH,
            &format!("/api/v1/posts/{post}"),
            Some(json!({"body": "Audit day #quality, starting at 9"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = ann
        .post("/api/v1/posts", json!({"body": "Typo, ignore"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, _) = ann
        .call(Method::DELETE, &format!("/api/v1/posts/{}", v["id"]), None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    // A community: joining, posting, pinning, roles, settings, leaving.
    let (s, v) = ann
        .post(
            "/api/v1/communities",
            json!({"name": "lab", "title": "Lab", "visibility": "public", "join_policy": "open"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let lab = federation_tests::ask_to_join(&bob, &alpha, "lab").await;
    let q = "SELECT COUNT(*) FROM community_members WHERE status = 'member'";
    eventually(10, "bob in the lab", || {
        let n = beta.count(q);
        async move { (n == 1).then_some(()) }
    })
    .await;
    let (s, v) = ann
        .post(
            "/api/v1/communities/lab/posts",
            json!({"body": "Lab rules\n\nWear goggles."}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let rules = v["id"].as_i64().unwrap();
    let (s, _) = ann
        .call(
            Method::PUT,
            &format!("/api/v1/communities/lab/posts/{rules}/pin"),
            None,
        )
        .await;
    assert!(s.is_success());
    let (s, v) = bob
        .post(
            &format!("/api/v1/communities/{lab}/posts"),
            json!({"body": "Goggles ordered"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // A post that starts with a mention travels as a Page titled with its
    // first line; the other Ruche instance shows the text once, not the
    // title above the same text.
    let (s, v) = ann
        .post(
            "/api/v1/communities/lab/posts",
            json!({"body": format!("@{} can you check the eyewash station?", beta.handle("bob"))}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let q = "SELECT COUNT(*) FROM content WHERE body LIKE '%eyewash station%'";
    eventually(10, "the mention post on beta", || {
        let n = beta.count(q);
        async move { (n == 1).then_some(()) }
    })
    .await;
    assert_eq!(
        beta.count("SELECT COUNT(*) FROM content WHERE body LIKE '%eyewash%eyewash%'"),
        0,
        "the title is not shown above the same text"
    );
    let (s, v) = ann
        .call(
            Method::PUT,
            &format!(
                "/api/v1/communities/lab/members/{}/role",
                beta.handle("bob")
            ),
            Some(json!({"role": "moderator"})),
        )
        .await;
    assert!(s.is_success(), "{v}");
    let (s, v) = ann
        .call(
            Method::PATCH,
            "/api/v1/communities/lab",
            Some(json!({"title": "Lab 2"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let q = "SELECT COUNT(*) FROM users WHERE display_name = 'Lab 2'";
    eventually(10, "the new title on beta", || {
        let n = beta.count(q);
        async move { (n == 1).then_some(()) }
    })
    .await;
    let (s, _) = bob
        .call(
            Method::DELETE,
            &format!("/api/v1/communities/{lab}/membership"),
            None,
        )
        .await;
    assert!(s.is_success());

    // A poll, a vote from beta and the new counts alpha publishes.
    let (s, v) = ann
        .post(
            "/api/v1/polls",
            json!({"body": "Audit: which day?", "options": ["Monday", "Tuesday"], "results": "closed"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let poll = v["id"].as_i64().unwrap();
    let q = "SELECT COUNT(*) FROM content WHERE kind = 'poll'";
    eventually(10, "the poll on beta", || {
        let n = beta.count(q);
        async move { (n == 1).then_some(()) }
    })
    .await;
    let poll_there = beta.count("SELECT id FROM content WHERE kind = 'poll'");
    let monday = beta.count(&format!(
        "SELECT id FROM poll_options WHERE content_id = {poll_there} AND name = 'Monday'"
    ));
    let (s, v) = bob
        .post(
            &format!("/api/v1/polls/{poll_there}/votes"),
            json!({"choices": [monday]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // An event, an answer from beta and the counts alpha publishes.
    let soon = (chrono::Utc::now() + chrono::Duration::days(20)).to_rfc3339();
    let (s, v) = ann
        .post(
            "/api/v1/events",
            json!({"title": "Audit day", "starts_at": soon, "time_zone": "Europe/Paris",
                   "place": "Hall 2", "online_url": "https://meet.example/audit", "capacity": 30}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let event = v["id"].as_i64().unwrap();
    let q = "SELECT COUNT(*) FROM content WHERE kind = 'event'";
    eventually(10, "the event on beta", || {
        let n = beta.count(q);
        async move { (n == 1).then_some(()) }
    })
    .await;
    let event_there = beta.count("SELECT id FROM content WHERE kind = 'event'");
    let (s, v) = bob
        .call(
            Method::PUT,
            &format!("/api/v1/events/{event_there}/rsvp"),
            Some(json!({"answer": "maybe"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // Everything sent, once delivered.
    let expected = [
        "Create/Question",
        "Update/Question",
        "Create/Event",
        "Update/Event",
        "TentativeAccept",
        "Follow",
        "Accept/Follow",
        "Update/Person",
        "Create/Note",
        "Like",
        "EmojiReact",
        "Undo/EmojiReact",
        "Update/Note",
        "Delete/Tombstone",
        "Announce/Create",
        "Update/Group",
        "Add",
        "Undo/Follow",
    ];
    let mut docs: Vec<Value> = eventually(20, "every kind delivered", || {
        let mut docs: Vec<Value> = Vec::new();
        let mut pending = 0;
        for i in [&alpha, &beta] {
            pending += i.count("SELECT COUNT(*) FROM deliveries WHERE status = 'pending'");
            for text in i.texts("SELECT activity AS t FROM deliveries") {
                docs.push(serde_json::from_str(&text).unwrap());
            }
        }
        let kinds: std::collections::BTreeSet<String> = docs
            .iter()
            .map(|d| match d["object"]["type"].as_str() {
                Some(inner) => format!("{}/{inner}", d["type"].as_str().unwrap_or("")),
                None => d["type"].as_str().unwrap_or("").to_string(),
            })
            .collect();
        let missing: Vec<&str> = expected
            .iter()
            .copied()
            .filter(|k| !kinds.contains(*k))
            .collect();
        if !missing.is_empty() || pending > 0 {
            eprintln!("waiting: {pending} pending, missing {missing:?} of {kinds:?}");
        }
        async move { (missing.is_empty() && pending == 0).then_some(docs) }
    })
    .await;
    // And what is served.
    for url in [
        format!("{}/people/ann", alpha.base),
        format!("{}/communities/lab", alpha.base),
        format!("{}/posts/{post}", alpha.base),
        format!("{}/posts/{rules}", alpha.base),
        format!("{}/posts/{poll}", alpha.base),
        format!("{}/posts/{event}", alpha.base),
        format!("{}/people/ann/followers", alpha.base),
        format!("{}/communities/lab/outbox", alpha.base),
        format!("{}/actor", alpha.base),
    ] {
        docs.push(fetch(&url, &beta, "bob").await);
    }
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), serde_json::to_vec(&docs).unwrap()).unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("jsonld_check.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(file.path())
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    eprintln!("{report}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{report}");
    assert!(report.contains(", 0 problems"), "{report}");
}
