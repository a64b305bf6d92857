//! The OpenAPI document matches the real routes.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_route_is_served() {
    let app = TestApp::start().await;
    let admin = app.user("admin").await;
    let alice = app.user("alice").await;
    let post = alice.post_text("hello #tag").await;
    let r = alice
        .post("/communities", json!({"name": "team", "title": "Team"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let in_team = alice
        .post("/communities/team/posts", json!({"body": "hello team"}))
        .await
        .json["id"]
        .as_i64()
        .unwrap();
    let uploaded = alice
        .client
        .post(format!(
            "{}/api/v1/communities/team/documents?filename=a.txt",
            app.base
        ))
        .bearer_auth(&alice.token)
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), StatusCode::CREATED);
    let doc_id = uploaded.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let token = alice.get("/me/tokens").await.json["items"][0]["id"]
        .as_i64()
        .unwrap();
    let poll = alice
        .post(
            "/polls",
            json!({"body": "Which day?", "options": ["Monday", "Friday"]}),
        )
        .await
        .json["id"]
        .as_i64()
        .unwrap();
    let idea = alice
        .post(
            "/ideas",
            json!({"community": "team", "title": "Shared screens"}),
        )
        .await
        .json["id"]
        .as_i64()
        .unwrap();

    let question = alice
        .post("/questions", json!({"title": "Which printer?"}))
        .await
        .json["id"]
        .as_i64()
        .unwrap();

    let survey = alice
        .post(
            "/surveys",
            json!({"title": "Canteen", "questions": [{"kind": "scale", "prompt": "How good?"}]}),
        )
        .await
        .json["id"]
        .as_i64()
        .unwrap();

    let soon = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let event = alice
        .post(
            "/events",
            json!({"title": "Kick-off", "starts_at": soon, "time_zone": "UTC"}),
        )
        .await
        .json["id"]
        .as_i64()
        .unwrap();

    let doc: serde_json::Value = app
        .client()
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["servers"][0]["url"], format!("{}/api/v1", app.base));
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(
        paths
            .values()
            .map(|p| p.as_object().unwrap().len())
            .sum::<usize>(),
        ruche::web::api::ROUTES.len()
    );

    let mut checked = 0;
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()));
            if method == "delete"
                && (path.contains("/me/tokens")
                    || path == "/posts/{id}"
                    || path == "/me"
                    || path == "/admin/users/{username}"
                    || path == "/communities/{name}/posts/{id}"
                    || path == "/documents/{id}")
            {
                continue; // would break the following checks; covered elsewhere
            }
            let concrete = path
                .replace(
                    "{id}",
                    &if path.starts_with("/me/tokens") {
                        token
                    } else if path.starts_with("/communities") {
                        in_team
                    } else if path.starts_with("/documents") {
                        doc_id
                    } else if path.starts_with("/polls") {
                        poll
                    } else if path.starts_with("/surveys") {
                        survey
                    } else if path.starts_with("/ideas") {
                        idea
                    } else if path.starts_with("/questions") {
                        question
                    } else if path.starts_with("/events") {
                        event
                    } else {
                        post
                    }
                    .to_string(),
                )
                .replace("{username}", "alice")
                .replace("{name}", "team")
                .replace("{version}", "1")
                .replace("{tag}", "tag")
                .replace("{kind}", "like")
                .replace("{app}", "polls");
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let who = if path.starts_with("/admin") {
                &admin
            } else {
                &alice
            };
            let r = who
                .client
                .request(m, format!("{}/api/v1{concrete}", app.base))
                .bearer_auth(&who.token)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            let status = r.status();
            let body = r.text().await.unwrap();
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(
                !(status == StatusCode::NOT_FOUND && body.contains("not_found")),
                "{method} {path} is documented but not routed: {body}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 30, "{checked}");

    // Undocumented API paths are JSON 404s.
    let r = alice.get("/nothing/here").await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_says_what_is_wrong_in_the_readers_terms() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let send = |body: &'static str, ct: Option<&'static str>, lang: &'static str| {
        let mut req = alice
            .client
            .post(format!("{}/api/v1/posts", app.base))
            .bearer_auth(&alice.token)
            .header("accept-language", lang)
            .body(body);
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        async move {
            let r = req.send().await.unwrap();
            let status = r.status();
            let v: serde_json::Value = r.json().await.unwrap();
            (status, v)
        }
    };
    let json = Some("application/json");
    for (body, ct, status, code, field) in [
        (r#"{"text": "x"}"#, json, 400, "field_missing", Some("body")),
        (r#"{"body": 5}"#, json, 400, "field_invalid", Some("body")),
        (
            r#"{"body": "x", "visibility": ["public"]}"#,
            json,
            400,
            "field_invalid",
            Some("visibility"),
        ),
        (r#"["body"]"#, json, 400, "json_not_object", None),
        (r#"{"body": "x""#, json, 400, "json_syntax", None),
        (r#"{"body": "x"} trailing"#, json, 400, "json_syntax", None),
        (r#"{"body": "x"}"#, None, 415, "json_content_type", None),
        ("", None, 400, "json_body_required", None),
        (" \n", json, 400, "json_body_required", None),
        (
            r#"{"body": "x"}"#,
            Some("text/plain"),
            415,
            "json_content_type",
            None,
        ),
    ] {
        let (s, v) = send(body, ct, "en").await;
        assert_eq!(s.as_u16(), status, "{body}: {v}");
        assert_eq!(v["error"]["code"], code, "{body}: {v}");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(
            !message.contains("line 1 column") && !message.contains('`'),
            "no parser wording: {message}"
        );
        if let Some(f) = field {
            assert!(message.contains(f), "{message}");
        }
    }
    let (_, v) = send(r#"{"text": "x"}"#, json, "fr").await;
    assert_eq!(
        v["error"]["message"], "Le champ body est obligatoire.",
        "{v}"
    );
    let (_, v) = send(r#"{"body": "x""#, json, "en").await;
    assert_eq!(
        v["error"]["message"],
        "The request body is not valid JSON (line 1, column 12)."
    );
    assert_eq!(app.count("content"), 0, "nothing was stored");
    // A JSON media type with parameters or a +json suffix is JSON.
    let (s, _) = send(
        r#"{"body": "ok"}"#,
        Some("application/json; charset=utf-8"),
        "en",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);

    // A known path with another method: 405 with a JSON error and Allow.
    let r = alice
        .client
        .put(format!("{}/api/v1/posts", app.base))
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let allow = r.headers()["allow"].to_str().unwrap().to_string();
    assert!(allow.contains("POST"), "{allow}");
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "method_not_allowed", "{v}");
    // A page too answers 405 with a page, not an empty body.
    let r = app.client().delete(app.url("/login")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.text().await.unwrap().contains("<html"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_times_carry_their_offset() {
    let app = TestApp::start().await;
    let admin = app.user("admin").await;
    let alice = app.user("alice").await;
    let id = alice.post_text("hello").await;
    alice
        .post(
            &format!("/posts/{id}/comments"),
            json!({"body": "a comment"}),
        )
        .await;
    alice
        .post("/communities", json!({"name": "team", "title": "Team"}))
        .await;
    let mut seen = 0;
    for (who, path) in [
        (&alice, format!("/posts/{id}")),
        (&alice, format!("/posts/{id}/comments")),
        (&alice, "/feed".to_string()),
        (&alice, "/me".to_string()),
        (&alice, "/me/tokens".to_string()),
        (&alice, "/communities/team/members".to_string()),
        (&admin, "/admin/users".to_string()),
    ] {
        let r = who.get(&path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {:?}", r.json);
        let mut stack = vec![r.json.clone()];
        while let Some(v) = stack.pop() {
            match v {
                serde_json::Value::Object(m) => {
                    for (k, v) in m {
                        if let (true, Some(t)) = (k.ends_with("_at") || k == "since", v.as_str()) {
                            assert!(
                                chrono::DateTime::parse_from_rfc3339(t).is_ok(),
                                "{path}: {k} = {t} is not RFC 3339 with an offset"
                            );
                            seen += 1;
                        }
                        stack.push(v);
                    }
                }
                serde_json::Value::Array(a) => stack.extend(a),
                _ => {}
            }
        }
    }
    assert!(seen >= 7, "{seen} times checked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_accounts_list_holds_people_not_communities() {
    let app = TestApp::start().await;
    let admin_page = app.browser_user("admin").await;
    let admin = app.login_api("admin").await;
    let alice = app.user("alice").await;
    alice
        .post("/communities", json!({"name": "team", "title": "Team"}))
        .await;
    let users = admin.get("/admin/users").await;
    let names: Vec<&str> = users.json["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{:?}", users.json))
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"alice") && !names.contains(&"team"),
        "{names:?}"
    );
    let html = admin_page.html("/admin").await;
    assert!(
        html.contains("alice") && !html.contains("/communities/team"),
        "{html}"
    );
    // A community cannot be disabled as if it were an account.
    let r = admin
        .client
        .post(format!("{}/api/v1/admin/users/team/disable", app.base))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = admin.delete("/admin/users/team").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = alice.get("/communities/team").await;
    assert_eq!(r.status, StatusCode::OK, "the community is still there");
}

/// The schemathesis command: `RUCHE_SCHEMATHESIS`, or `schemathesis` on the
/// path (`.ci/run` installs it in a virtual environment of its own).
fn schemathesis() -> Option<String> {
    let cmd = std::env::var("RUCHE_SCHEMATHESIS").unwrap_or_else(|_| "schemathesis".into());
    std::process::Command::new(&cmd)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| cmd)
}

/// An independent API tester, schemathesis, reads the OpenAPI document and
/// sends this instance thousands of requests made from it, valid and not:
/// none may fail a check (a server error, a valid request refused, an
/// invalid one accepted, an answer of an undocumented kind, a resource just
/// created not found). `tests/schemathesis/schemathesis.toml` names the few
/// operations whose rules a schema cannot state, and why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_failure() {
    let Some(st) = schemathesis() else {
        assert!(
            std::env::var("RUCHE_REQUIRE_SCHEMATHESIS").is_err(),
            "RUCHE_REQUIRE_SCHEMATHESIS is set but schemathesis cannot be run"
        );
        eprintln!("schemathesis is not installed: skipped");
        return;
    };
    let app = TestApp::start().await;
    let admin = app.user("admin").await;
    admin.post_text("Welcome to #ruche").await;
    // The run revokes tokens by id (1, 2, …): the one it signs in with is
    // given an id it does not try, so that the run goes on signed in.
    {
        use diesel::RunQueryDsl;
        let mut conn = app.db.get().unwrap();
        diesel::sql_query("UPDATE api_tokens SET id = 987654321")
            .execute(&mut *conn)
            .unwrap();
    }
    let work = tempfile::tempdir().unwrap();
    let config = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/schemathesis/schemathesis.toml"
    );
    let mut cmd = std::process::Command::new(st);
    cmd.current_dir(work.path())
        .args(["--no-color", "--config-file", config, "run"])
        .arg(format!("{}/api/v1/openapi.json", app.base))
        .arg("--header")
        .arg(format!("Authorization: Bearer {}", admin.token))
        .args(["--seed", "1", "--max-examples", "10"]);
    // The server answers on this runtime's threads while it runs.
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found failures:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // It did test every operation it selected from the document.
    let line = |label: &str| {
        report
            .lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .map(str::trim)
            .unwrap_or_default()
            .to_string()
    };
    let selected = line("Selected:");
    let tested = line("Tested:");
    let (picked, all) = selected.split_once('/').unwrap_or(("", ""));
    assert!(
        !tested.is_empty() && picked == all && tested == picked,
        "{report}"
    );
    assert!(tested.parse::<usize>().unwrap() >= 160, "{report}");
}

/// What a client sends wrong is refused in JSON, in the reader's language,
/// naming the field or parameter at fault, with nothing stored; what JSON
/// Schema calls an integer (`2.0`) is read as one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_and_queries_are_named_and_nothing_is_stored() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let posts = app.count("content");

    // A misspelt field would otherwise publish to everyone.
    let r = alice
        .post(
            "/posts",
            json!({"body": "For my followers", "visiblity": "followers"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "field_unknown")
    );
    assert!(r.message().contains("visiblity"), "{}", r.message());
    // No text may hold a NUL character.
    let r = alice.post("/posts", json!({"body": "a\u{0}b"})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "field_invalid")
    );
    assert!(r.message().contains("body"), "{}", r.message());
    assert_eq!(app.count("content"), posts, "nothing stored");

    // Query strings: a parameter given twice, of the wrong kind, too long,
    // or a page out of range; each in JSON, in French when asked.
    for (path, code, field) in [
        ("/feed?cursor=1&cursor=2", "query_twice", "cursor"),
        ("/communities?mine=maybe", "query_invalid", "mine"),
        ("/events?page=1001", "query_invalid", "page"),
        ("/feed?cursor=abc", "cursor_invalid", ""),
    ] {
        let r = alice
            .client
            .get(format!("{}/api/v1{path}", app.base))
            .bearer_auth(&alice.token)
            .header("accept-language", "fr")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path}");
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"));
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], code, "{path}: {v}");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(message.contains(field), "{path}: {message}");
        assert!(!message.contains("deserialize"), "{message}");
    }
    let long = "x".repeat(2001);
    let r = alice.get(&format!("/people?q={long}")).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "field_too_long")
    );

    // A body sent without saying it is JSON, and a NUL in a path.
    let r = alice
        .client
        .put(format!("{}/api/v1/me/finder", app.base))
        .bearer_auth(&alice.token)
        .body(r#"{"listed": false}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "json_content_type");
    let r = alice.get("/people/ali%00ce").await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));

    // A number without a fraction written as one is an integer.
    let poll = alice
        .post(
            "/polls",
            json!({"body": "Which day?", "options": ["Monday", "Friday"]}),
        )
        .await;
    let id = poll.json["id"].as_i64().unwrap();
    let monday = poll.json["poll"]["options"][0]["id"].as_i64().unwrap();
    let r = alice
        .post(
            &format!("/polls/{id}/votes"),
            json!({"choices": [monday as f64]}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.json);
    let r = alice.get(&format!("/polls/{id}")).await;
    assert_eq!(r.json["voters"], 1, "{}", r.json);
}
