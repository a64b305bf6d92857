//! Questions and answers (`content::question`): asked in a community or to
//! one's followers, answered with comments, an answer accepted by the
//! asker or a moderator, listed; over HTTP, through the API and the pages.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn ask(api: &Api, body: Value) -> i64 {
    let r = api.post("/questions", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["kind"], "question", "{}", r.json);
    r.json["id"].as_i64().unwrap()
}

async fn answer(api: &Api, question: i64, text: &str) -> i64 {
    let r = api
        .post(
            &format!("/posts/{question}/comments"),
            json!({"body": text}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    r.json["id"].as_i64().unwrap()
}

async fn accept(api: &Api, question: i64, answer: Value) -> Resp {
    api.send_json(
        Method::PUT,
        &format!("/questions/{question}/accepted"),
        json!({ "answer": answer }),
    )
    .await
}

fn ids(v: &Value) -> Vec<i64> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_is_answered_an_answer_accepted_and_lists_follow() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let r = alice
        .post(
            "/communities",
            json!({"name": "qualite", "title": "Qualité"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    for who in [&bob, &carol] {
        let r = who.post("/communities/qualite/join", json!({})).await;
        assert!(r.status.is_success(), "{}", r.json);
    }
    let q = ask(
        &bob,
        json!({"community": "qualite", "title": "How do we declare a near-miss at night?", "body": "The form is closed after 18:00."}),
    )
    .await;
    let r = carol.get(&format!("/questions/{q}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["title"], "How do we declare a near-miss at night?");
    assert_eq!(
        (r.json["answers"].as_i64(), r.json["may_accept"].as_bool()),
        (Some(0), Some(false))
    );
    assert!(r.json["accepted_id"].is_null());
    // Its asker and the community's owner may accept.
    assert_eq!(
        bob.get(&format!("/questions/{q}")).await.json["may_accept"],
        true
    );
    assert_eq!(
        alice.get(&format!("/questions/{q}")).await.json["may_accept"],
        true
    );
    // A question without answer is in the unanswered list.
    let r = carol
        .get("/questions?community=qualite&filter=unanswered")
        .await;
    assert_eq!(ids(&r.json), [q]);

    // Answers are its comments; answers are voted up with their like.
    let first = answer(
        &carol,
        q,
        "Call the night supervisor, then fill the form in the morning.",
    )
    .await;
    let second = answer(&alice, q, "Use the phone line 5555, open all night.").await;
    let reply = answer(&bob, first, "Even on weekends?").await;
    let r = bob.put(&format!("/posts/{second}/reactions/like")).await;
    assert!(r.status.is_success(), "{}", r.json);
    let r = carol.get(&format!("/questions/{q}")).await;
    assert_eq!(r.json["answers"], 2);
    let r = carol
        .get("/questions?community=qualite&filter=unanswered")
        .await;
    assert!(ids(&r.json).is_empty());

    // Only the asker (or a moderator) accepts, and only an answer of it.
    let r = carol
        .send_json(
            Method::PUT,
            &format!("/questions/{q}/accepted"),
            json!({"answer": first}),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "not_asker"));
    let r = accept(&bob, q, json!(reply)).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "answer_not_of_question")
    );
    let other = ask(&alice, json!({"title": "Where is the badge office?"})).await;
    let elsewhere = answer(&carol, other, "Building B").await;
    let r = accept(&bob, q, json!(elsewhere)).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "answer_not_of_question")
    );
    assert!(carol.get(&format!("/questions/{q}")).await.json["accepted_id"].is_null());
    let r = accept(&bob, q, json!(first)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["accepted_id"], first);
    // Carol, whose answer it is, is told.
    let n = carol.get("/notifications").await;
    let told = n.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "answer_accepted" && i["content_id"] == first)
        .count();
    assert_eq!(told, 1, "{}", n.json);
    // Solved, it leaves the open list and heads the solved one.
    let r = carol.get("/questions?community=qualite&filter=open").await;
    assert!(ids(&r.json).is_empty());
    let r = carol.get("/questions?filter=solved").await;
    assert_eq!(ids(&r.json), [q]);
    let r = carol.get("/questions?filter=open").await;
    assert_eq!(ids(&r.json), [other]);
    // The owner changes the accepted answer; the asker takes it back.
    let r = accept(&alice, q, json!(second)).await;
    assert_eq!(r.json["accepted_id"], second);
    let r = accept(&bob, q, Value::Null).await;
    assert!(r.json["accepted_id"].is_null());
    let r = accept(&bob, q, json!(first)).await;
    assert_eq!(r.json["accepted_id"], first);
    // A deleted answer is accepted no more.
    let r = carol.delete(&format!("/posts/{first}")).await;
    assert!(r.status.is_success());
    assert!(bob.get(&format!("/questions/{q}")).await.json["accepted_id"].is_null());

    // Similar questions are found while a title is typed, as the reader may
    // read them.
    let r = carol
        .get("/questions/similar?q=declaring%20near-misses")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json[0]["id"], q, "{}", r.json);
    let eve = app.user("eve").await;
    let r = alice
        .post(
            "/communities",
            json!({"name": "secret", "title": "Secret", "visibility": "secret"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    ask(
        &alice,
        json!({"community": "secret", "title": "Near-miss audit findings"}),
    )
    .await;
    let r = eve.get("/questions/similar?q=near-miss").await;
    let titles = r.json.to_string();
    assert!(!titles.contains("audit findings"), "{titles}");
    assert!(titles.contains("near-miss at night"), "{titles}");
    let r = eve.get("/questions/similar?q=a").await;
    assert_eq!(r.json, json!([]));

    // An accepted answer is evidence for the expert finder.
    let r = accept(&bob, q, json!(second)).await;
    assert_eq!(r.json["accepted_id"], second);
    let r = eve.get("/experts?topic=near-miss").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let alice_entry = r.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["person"]["username"] == "alice")
        .cloned();
    assert_eq!(
        alice_entry.map(|a| a["accepted"].clone()),
        Some(json!(1)),
        "{}",
        r.json
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_questions_are_refused_and_nothing_is_stored() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let before = (app.count("content"), app.count("questions"));
    for (body, status, code) in [
        (
            json!({"title": " "}),
            StatusCode::BAD_REQUEST,
            "title_required",
        ),
        (
            json!({"title": "q".repeat(151)}),
            StatusCode::BAD_REQUEST,
            "title_too_long",
        ),
        (
            json!({"title": "Why?", "visibility": "everyone"}),
            StatusCode::BAD_REQUEST,
            "visibility_invalid",
        ),
        (
            json!({"title": "Why?", "community": "nowhere"}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            json!({"body": "No title"}),
            StatusCode::BAD_REQUEST,
            "field_missing",
        ),
    ] {
        let r = alice.post("/questions", body.clone()).await;
        assert_eq!((r.status, r.code()), (status, code), "{body} {}", r.json);
    }
    assert_eq!((app.count("content"), app.count("questions")), before);
    // A deleted question takes no answer and no acceptance.
    let q = ask(&alice, json!({"title": "Gone soon?"})).await;
    let a = answer(&bob, q, "Yes").await;
    let r = alice.delete(&format!("/posts/{q}")).await;
    assert!(r.status.is_success());
    let r = bob
        .post(
            &format!("/posts/{q}/comments"),
            json!({"body": "Late answer"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = accept(&alice, q, json!(a)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // A post is no question.
    let post = alice.post_text("Plain post").await;
    let r = accept(&alice, post, Value::Null).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = alice.get("/questions?filter=everything").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "question_filter_unknown")
    );
    // Switched off for the site, no question is asked outside communities.
    app.create_account("root", true);
    let root = app.login_api("root").await;
    let r = root
        .send_json(
            Method::PUT,
            "/admin/apps/questions",
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let r = alice.post("/questions", json!({"title": "Anyone?"})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "app_disabled")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_is_asked_and_an_answer_accepted_from_the_pages() {
    let app = TestApp::start().await;
    let alice_api = app.user("alice").await;
    let bob_api = app.user("bob").await;
    let alice = app.browser_login("alice").await;
    let bob = app.browser_login("bob").await;
    let html = alice.html("/questions/new").await;
    assert!(html.contains("data-similar=\"similar\""), "{html}");
    let csrf = alice.csrf("/questions/new").await;
    // A refused question keeps what was written and chosen.
    let r = alice
        .post_form(
            "/questions/new",
            &[
                ("csrf", &csrf),
                ("title", ""),
                ("body", "Les badges visiteurs"),
                ("community", ""),
                ("visibility", "followers"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("Give it a title."), "{html}");
    assert!(html.contains("Les badges visiteurs"));
    assert!(
        html.contains("<option value=\"followers\" selected>"),
        "{html}"
    );
    let r = alice
        .post_form(
            "/questions/new",
            &[
                ("csrf", &csrf),
                ("title", "Where do visitors get their badge?"),
                ("body", "Les badges visiteurs"),
                ("community", ""),
                ("visibility", "public"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let post = location(&r);
    let q: i64 = post.trim_start_matches("/posts/").parse().unwrap();
    let a = bob_api
        .post(
            &format!("/posts/{q}/comments"),
            json!({"body": "At the front desk."}),
        )
        .await
        .json["id"]
        .as_i64()
        .unwrap();
    // The asker accepts it from the question's page; others see it solved.
    let html = alice.html(&post).await;
    assert!(html.contains("action=\"/questions/"), "{html}");
    assert!(html.contains("Accept this answer"));
    let r = alice
        .post_form(
            &format!("/questions/{q}/accept"),
            &[("csrf", &csrf), ("answer", &a.to_string())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = bob.html(&post).await;
    assert!(html.contains("Accepted answer"), "{html}");
    assert!(!html.contains("Accept this answer"));
    let r = bob.get_lang("/questions?filter=solved", "fr").await;
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Where do visitors get their badge?"),
        "{html}"
    );
    assert!(html.contains("Résolue"), "{html}");
    // The form's script reads the similar questions from the page's side.
    let r = bob.get("/questions/similar?q=visitors%20badge").await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["items"][0]["id"], q, "{v}");
    assert_eq!(v["items"][0]["solved"], true);
    let _ = alice_api;
}
