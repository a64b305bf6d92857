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
