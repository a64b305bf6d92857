//! Polls (`content::poll`) and the kit that switches them (`apps`), over
//! HTTP, through the API and the pages.

mod common;

use common::*;
use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Asks a poll through the API; its content id and its answers' ids.
async fn ask(api: &Api, body: Value) -> (i64, Vec<i64>) {
    let r = api.post("/polls", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["kind"], "poll", "{}", r.json);
    let ids = r.json["poll"]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect();
    (r.json["id"].as_i64().unwrap(), ids)
}

fn votes(view: &Value) -> Vec<Option<i64>> {
    view["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["votes"].as_i64())
        .collect()
}

/// Closes a poll by its date, as time passing would.
fn expire(app: &TestApp, id: i64) {
    use ruche::db::schema::polls;
    let mut conn = app.db.get().unwrap();
    let past = chrono::Utc::now().naive_utc() - chrono::Duration::minutes(1);
    diesel::update(polls::table.find(id))
        .set(polls::closes_at.eq(Some(past)))
        .execute(&mut *conn)
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_is_asked_voted_once_and_counted() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let (id, opts) = ask(
        &alice,
        json!({"body": "Which day for the **team day**?", "options": ["Monday", " Tuesday ", "Friday", ""]}),
    )
    .await;
    // Empty answers are dropped, the others trimmed, in order.
    let r = alice.get(&format!("/polls/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let names: Vec<&str> = r.json["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Monday", "Tuesday", "Friday"]);
    // The author sees the results at once; a reader only after voting.
    assert_eq!(r.json["shown"], true);
    assert_eq!(votes(&r.json), [Some(0), Some(0), Some(0)]);
    let r = bob.get(&format!("/polls/{id}")).await;
    assert_eq!(
        (r.json["shown"].as_bool(), r.json["may_vote"].as_bool()),
        (Some(false), Some(true))
    );
    assert_eq!(votes(&r.json), [None, None, None]);
    assert!(r.json["voters"].is_null());
    // It closes in a week by default.
    let closes =
        chrono::DateTime::parse_from_rfc3339(r.json["closes_at"].as_str().unwrap()).unwrap();
    let days = (closes.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_hours();
    assert!((167..=168).contains(&days), "{days}");

    let r = bob
        .post(&format!("/polls/{id}/votes"), json!({"choices": [opts[1]]}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["voted"], true);
    assert_eq!(r.json["may_vote"], false);
    assert_eq!(votes(&r.json), [Some(0), Some(1), Some(0)]);
    assert_eq!(r.json["options"][1]["percent"], 100);
    assert_eq!(r.json["options"][1]["mine"], true);
    assert_eq!(r.json["voters"], 1);

    // Refused, nothing stored: a second vote, two answers where one is
    // taken, no answer, an answer of another poll, a poll that is not one.
    let (other, other_opts) = ask(
        &carol,
        json!({"body": "Tea or coffee?", "options": ["Tea", "Coffee"]}),
    )
    .await;
    let cases = [
        (
            &bob,
            json!({"choices": [opts[0]]}),
            StatusCode::CONFLICT,
            "poll_voted",
        ),
        (
            &carol,
            json!({"choices": [opts[0], opts[2]]}),
            StatusCode::CONFLICT,
            "poll_one_choice",
        ),
        (
            &carol,
            json!({"choices": []}),
            StatusCode::BAD_REQUEST,
            "poll_choice_required",
        ),
        (
            &carol,
            json!({"choices": [other_opts[0]]}),
            StatusCode::NOT_FOUND,
            "poll_option_unknown",
        ),
        (
            &carol,
            json!({"choice": opts[0]}),
            StatusCode::BAD_REQUEST,
            "field_missing",
        ),
    ];
    for (who, body, status, code) in cases {
        let r = who.post(&format!("/polls/{id}/votes"), body.clone()).await;
        assert_eq!((r.status, r.code()), (status, code), "{body}: {}", r.json);
        assert!(!r.message().is_empty());
    }
    let post = alice.post_text("Not a poll").await;
    let r = bob
        .post(
            &format!("/polls/{post}/votes"),
            json!({"choices": [opts[0]]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = bob
        .post("/polls/999999/votes", json!({"choices": [opts[0]]}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("poll_votes"), 1);
    let r = alice.get(&format!("/polls/{id}")).await;
    assert_eq!(votes(&r.json), [Some(0), Some(1), Some(0)]);
    assert_eq!(r.json["voters"], 1);
    let _ = other;

    // Search finds it by its question and by its answers.
    for q in ["team day", "tuesday", "fridays"] {
        let r = bob.get(&format!("/search?q={}", urlencode(q))).await;
        let ids: Vec<i64> = r.json["content"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, [id], "{q}: {}", r.json);
    }
    // A named poll: the author sees who chose what.
    let list = r.json["voters_list"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["username"], "bob");
    assert_eq!(list[0]["option_id"], opts[1]);
    // It is in the author's feed, with its poll.
    let feed = alice.get("/feed").await;
    let item = feed.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(item["poll"]["voters"], 1);
    assert!(item["body_html"]
        .as_str()
        .unwrap()
        .contains("<strong>team day</strong>"));
    // A deleted poll is gone, its votes with it.
    let r = alice.delete(&format!("/posts/{id}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = carol
        .post(&format!("/polls/{id}/votes"), json!({"choices": [opts[0]]}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Who of this site chose what goes with it.
    assert_eq!(app.count("poll_votes"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_polls_are_refused_and_nothing_is_stored() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let many: Vec<String> = (0..500).map(|i| format!("Answer {i}")).collect();
    let past = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let far = (chrono::Utc::now() + chrono::Duration::days(400)).to_rfc3339();
    let cases = [
        (
            json!({"body": "One?", "options": ["Only"]}),
            "poll_options_count",
        ),
        (
            json!({"body": "None?", "options": ["", "  "]}),
            "poll_options_count",
        ),
        (
            json!({"body": "Lots?", "options": many}),
            "poll_options_count",
        ),
        (
            json!({"body": "Twice?", "options": ["Yes", " yes"]}),
            "poll_options_repeated",
        ),
        (
            json!({"body": "Long?", "options": ["a".repeat(101), "b"]}),
            "poll_option_too_long",
        ),
        (
            json!({"body": "Past?", "options": ["a", "b"], "closes_at": past}),
            "poll_closes_invalid",
        ),
        (
            json!({"body": "Far?", "options": ["a", "b"], "closes_at": far}),
            "poll_closes_invalid",
        ),
        (
            json!({"body": "When?", "options": ["a", "b"], "results": "never"}),
            "poll_results_invalid",
        ),
        (
            json!({"body": "  ", "options": ["a", "b"]}),
            "poll_question_required",
        ),
        (
            json!({"body": "Who?", "options": ["a", "b"], "visibility": "everyone"}),
            "visibility_invalid",
        ),
        (
            json!({"body": "Where?", "options": ["a\u{0}", "b"]}),
            "field_invalid",
        ),
    ];
    for (body, code) in cases {
        let r = alice.post("/polls", body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.json);
        assert_eq!(r.code(), code, "{body}");
    }
    let r = alice
        .post(
            "/polls",
            json!({"body": "Lots?", "options": (0..21).map(|i| i.to_string()).collect::<Vec<_>>()}),
        )
        .await;
    assert_eq!(r.message(), "A poll has 2 to 20 answers (21 given).");
    let r = alice
        .post("/polls", json!({"body": "Où ?", "options": ["a"]}))
        .await;
    assert_eq!(r.code(), "poll_options_count");
    // In a community one is not a member of, nothing either.
    let bob = app.user("bob").await;
    let r = bob
        .post(
            "/communities",
            json!({"name": "atelier", "title": "Atelier"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let r = alice
        .post(
            "/polls",
            json!({"body": "Here?", "options": ["a", "b"], "community": "atelier"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "community_members_only")
    );
    assert_eq!(app.count("content"), 0);
    assert_eq!(app.count("polls"), 0);
    assert_eq!(app.count("poll_options"), 0);
    // Twenty answers and a year are the limits, not beyond.
    let twenty: Vec<String> = (0..20).map(|i| format!("Answer {i}")).collect();
    let year = (chrono::Utc::now() + chrono::Duration::days(365)).to_rfc3339();
    ask(
        &alice,
        json!({"body": "Twenty?", "options": twenty, "closes_at": year}),
    )
    .await;
    assert_eq!(app.count("poll_options"), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_wait_for_the_close_and_a_closed_poll_takes_no_vote() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let (id, opts) = ask(
        &alice,
        json!({"body": "Secret ballot?", "options": ["Yes", "No"], "results": "closed", "anonymous": true}),
    )
    .await;
    let r = bob
        .post(&format!("/polls/{id}/votes"), json!({"choices": [opts[0]]}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // Voted, but the results wait for the close; the choice is shown.
    assert_eq!(
        (r.json["voted"].as_bool(), r.json["shown"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(votes(&r.json), [None, None]);
    assert_eq!(r.json["options"][0]["mine"], true);
    // Only its author closes it.
    let r = bob.post(&format!("/polls/{id}/close"), json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "not_author"));
    let r = alice.post(&format!("/polls/{id}/close"), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["closed"], true);
    let r = alice.post(&format!("/polls/{id}/close"), json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "poll_closed"));
    let r = carol
        .post(&format!("/polls/{id}/votes"), json!({"choices": [opts[1]]}))
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "poll_closed"));
    // Bob, who voted, is told the results are in; Carol, who did not, is not.
    let told = |v: &Value| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["kind"] == "poll_closed" && i["content_id"] == id)
            .count()
    };
    assert_eq!(told(&bob.get("/notifications").await.json), 1);
    assert_eq!(told(&carol.get("/notifications").await.json), 0);
    // Now everyone sees the results, and nobody who chose what.
    let r = carol.get(&format!("/polls/{id}")).await;
    assert_eq!(votes(&r.json), [Some(1), Some(0)]);
    assert_eq!(r.json["may_vote"], false);
    let r = alice.get(&format!("/polls/{id}")).await;
    assert!(
        r.json["voters_list"].as_array().unwrap().is_empty(),
        "{}",
        r.json
    );

    // A poll past its date is closed too, and the server marks it so,
    // with the news of its final counts for other sites.
    let (late, late_opts) = ask(&alice, json!({"body": "Late?", "options": ["a", "b"]})).await;
    expire(&app, late);
    {
        let mut conn = app.db.get().unwrap();
        let events_before = ruche::events::recorded();
        assert_eq!(ruche::content::poll::close_due(&mut conn).unwrap(), 1);
        assert_eq!(ruche::content::poll::close_due(&mut conn).unwrap(), 0);
        use ruche::db::schema::polls;
        let closed: Option<chrono::NaiveDateTime> = polls::table
            .find(late)
            .select(polls::closed_at)
            .first(&mut *conn)
            .unwrap();
        assert!(closed.is_some());
        // The news was recorded (the server's delivery worker may already
        // have expanded it, so the log is not read).
        assert!(ruche::events::recorded() > events_before);
    }
    let r = bob
        .post(
            &format!("/polls/{late}/votes"),
            json!({"choices": [late_opts[0]]}),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "poll_closed"));
    let r = bob.get(&format!("/polls/{late}")).await;
    assert_eq!(r.json["closed"], true);
    assert_eq!(votes(&r.json), [Some(0), Some(0)]);
    assert_eq!(app.count("poll_votes"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_answers_and_votes_sent_at_once_count_once() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let (id, opts) = ask(
        &alice,
        json!({"body": "Which sessions?", "options": ["Safety", "Quality", "Lean"], "multiple": true}),
    )
    .await;
    let r = bob
        .post(
            &format!("/polls/{id}/votes"),
            json!({"choices": [opts[0], opts[2], opts[2]]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(votes(&r.json), [Some(1), Some(0), Some(1)]);
    assert_eq!(r.json["voters"], 1);
    // Shares are of the voters: each chosen answer has all of them.
    assert_eq!(r.json["options"][0]["percent"], 100);
    assert_eq!(r.json["options"][2]["percent"], 100);

    // The same person voting from ten requests at once votes once.
    let carol = app.user("carol").await;
    let mut tasks = Vec::new();
    for i in 0..10 {
        let carol = Api {
            base: carol.base.clone(),
            token: carol.token.clone(),
            client: carol.client.clone(),
        };
        let path = format!("/polls/{id}/votes");
        let choice = opts[i % 3];
        tasks.push(tokio::spawn(async move {
            carol.post(&path, json!({"choices": [choice]})).await.status
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::OK => ok += 1,
            StatusCode::CONFLICT => {}
            other => panic!("{other}"),
        }
    }
    assert_eq!(ok, 1);
    let r = alice.get(&format!("/polls/{id}")).await;
    assert_eq!(r.json["voters"], 2);
    let total: i64 = votes(&r.json).into_iter().map(|v| v.unwrap()).sum();
    assert_eq!(total, 3);
    assert_eq!(app.count("poll_votes"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polls_in_communities_follow_their_readers() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let eve = app.user("eve").await;
    let r = alice
        .post(
            "/communities",
            json!({"name": "bureau", "title": "Bureau", "visibility": "private"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let r = alice
        .post(
            "/communities/bureau/invitations",
            json!({"username": "bob"}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.json);
    let r = bob.post("/communities/bureau/join", json!({})).await;
    assert!(r.status.is_success(), "{}", r.json);
    let (id, opts) = ask(
        &bob,
        json!({"body": "Budget?", "options": ["More", "Less"], "community": "bureau"}),
    )
    .await;
    let r = alice.get("/communities/bureau/posts").await;
    assert_eq!(r.json["items"][0]["poll"]["options"][0]["name"], "More");
    let r = alice
        .post(&format!("/polls/{id}/votes"), json!({"choices": [opts[0]]}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // In a public community, someone who is not a member reads the poll
    // but is offered no vote, and a vote is refused.
    let r = alice
        .post("/communities", json!({"name": "place", "title": "Place"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let (open_poll, open_opts) = ask(
        &alice,
        json!({"body": "Open?", "options": ["Yes", "No"], "community": "place"}),
    )
    .await;
    let r = eve.get(&format!("/polls/{open_poll}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["may_vote"], false);
    let r = eve
        .post(
            &format!("/polls/{open_poll}/votes"),
            json!({"choices": [open_opts[0]]}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "community_members_only")
    );
    let r = eve.post("/communities/place/join", json!({})).await;
    assert!(r.status.is_success());
    assert_eq!(
        eve.get(&format!("/polls/{open_poll}")).await.json["may_vote"],
        true
    );
    // Someone outside a private community finds no poll to vote in.
    let r = eve
        .post(&format!("/polls/{id}/votes"), json!({"choices": [opts[1]]}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = eve.get(&format!("/polls/{id}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("poll_votes"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kit_switches_polls_for_the_site_and_for_a_community() {
    let app = TestApp::start().await;
    app.create_account("root", true);
    let root = app.login_api("root").await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let r = alice.get("/apps").await;
    assert_eq!(
        r.json,
        json!([
            {"app": "polls", "site": true, "community": null, "enabled": true},
            {"app": "ideas", "site": true, "community": null, "enabled": true},
            {"app": "questions", "site": true, "community": null, "enabled": true},
            {"app": "events", "site": true, "community": null, "enabled": true},
            {"app": "must_read", "site": true, "community": null, "enabled": true}
        ])
    );
    let (id, opts) = ask(&alice, json!({"body": "Before?", "options": ["a", "b"]})).await;
    let r = alice
        .post("/communities", json!({"name": "labo", "title": "Labo"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = bob.post("/communities/labo/join", json!({})).await;
    assert!(r.status.is_success(), "{}", r.json);

    // Only administrators switch the site's apps; an unknown app is named.
    let r = alice
        .send_json(
            reqwest::Method::PUT,
            "/admin/apps/polls",
            json!({"enabled": false}),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "admin_only"));
    let r = root
        .send_json(
            reqwest::Method::PUT,
            "/admin/apps/quizzes",
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "app_unknown")
    );
    let r = root
        .send_json(
            reqwest::Method::PUT,
            "/admin/apps/polls",
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json[0]["site"], false);

    // Off: no new poll, no vote, a 404 that says why; what exists stays readable.
    let r = alice
        .post("/polls", json!({"body": "After?", "options": ["a", "b"]}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "app_disabled")
    );
    assert_eq!(r.message(), "This app (polls) is switched off here.");
    let r = bob
        .post(&format!("/polls/{id}/votes"), json!({"choices": [opts[0]]}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "app_disabled")
    );
    let r = bob.get(&format!("/posts/{id}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["poll"]["options"][0]["name"], "a");
    let r = bob.get(&format!("/polls/{id}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["may_vote"], false, "no vote offered while it is off");
    assert_eq!(app.count("poll_votes"), 0);
    // The pages hide it.
    let b = app.browser_login("alice").await;
    assert!(!b.html("/").await.contains("/polls/new"));
    assert_eq!(b.get("/polls/new").await.status(), StatusCode::NOT_FOUND);

    // A community's owner turns it on there; a member may not.
    let r = bob
        .send_json(
            reqwest::Method::PUT,
            "/communities/labo/apps/polls",
            json!({"enabled": true}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "community_owners_only")
    );
    let r = alice
        .send_json(
            reqwest::Method::PUT,
            "/communities/labo/apps/polls",
            json!({"enabled": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(
        r.json[0],
        json!({"app": "polls", "site": false, "community": true, "enabled": true})
    );
    let (cid, copts) = ask(
        &bob,
        json!({"body": "Here?", "options": ["a", "b"], "community": "labo"}),
    )
    .await;
    let r = alice
        .post(
            &format!("/polls/{cid}/votes"),
            json!({"choices": [copts[1]]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(b
        .html("/communities/labo")
        .await
        .contains("/polls/new?community=labo"));
    // Back to the site's choice: off again there.
    let r = alice
        .send_json(
            reqwest::Method::PUT,
            "/communities/labo/apps/polls",
            json!({"enabled": null}),
        )
        .await;
    assert_eq!(r.json[0]["enabled"], false);
    let r = bob
        .post(
            "/polls",
            json!({"body": "Again?", "options": ["a", "b"], "community": "labo"}),
        )
        .await;
    assert_eq!(r.code(), "app_disabled");

    // On again for the site, from the console's form.
    let admin = app.browser_login("root").await;
    let csrf = admin.csrf("/admin").await;
    let r = admin
        .post_form("/admin/apps", &[("csrf", &csrf), ("polls", "on")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(b.html("/").await.contains("/polls/new"));
    let r = bob
        .post(&format!("/polls/{id}/votes"), json!({"choices": [opts[0]]}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_is_asked_and_voted_from_the_pages_in_both_languages() {
    let app = TestApp::start().await;
    let b = app.browser_user("alice").await;
    let bob = app.browser_user("bob").await;
    let html = b.html("/polls/new").await;
    assert!(html.contains("name=\"option\""), "{html}");
    // A refused poll comes back with everything written.
    let csrf = b.csrf("/polls/new").await;
    let r = b
        .post_form(
            "/polls/new",
            &[
                ("csrf", &csrf),
                ("body", "Quel menu pour le repas ?"),
                ("option", "Raclette"),
                ("option", ""),
                ("multiple", "1"),
                ("days", "3"),
                ("results", "closed"),
                ("visibility", "followers"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("A poll has 2 to 20 answers (1 given)."),
        "{html}"
    );
    assert!(html.contains("Quel menu pour le repas ?"));
    assert!(html.contains("value=\"Raclette\""));
    assert!(
        html.contains("id=\"multiple\" name=\"multiple\" value=\"1\" checked"),
        "{html}"
    );
    assert!(html.contains("<option value=\"3\" selected>"), "{html}");
    assert!(html.contains("<option value=\"closed\" selected>"));
    assert!(html.contains("<option value=\"followers\" selected>"));
    let r = b
        .post_form(
            "/polls/new",
            &[
                ("csrf", &csrf),
                ("body", "Quel menu pour le repas ?"),
                ("option", "Raclette"),
                ("option", "Salade"),
                ("option", ""),
                ("days", "3"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    assert!(to.starts_with("/posts/"), "{to}");
    let id: i64 = to.trim_start_matches("/posts/").parse().unwrap();
    // The reader sees the answers to choose from, in French too.
    let html = String::from_utf8(
        bob.get_lang(&to, "fr")
            .await
            .bytes()
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    assert!(html.contains("type=\"radio\" name=\"choice\""), "{html}");
    assert!(html.contains("Voter"));
    assert!(html.contains("Clôture le"));
    let option: i64 = {
        let at = html.find("name=\"choice\" value=\"").unwrap() + "name=\"choice\" value=\"".len();
        html[at..].split('"').next().unwrap().parse().unwrap()
    };
    let csrf = bob.csrf(&to).await;
    let r = bob
        .post_form(
            &format!("/polls/{id}/vote"),
            &[("csrf", &csrf), ("choice", &option.to_string())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = bob.html(&to).await;
    assert!(
        html.contains("<progress max=\"100\" value=\"100\""),
        "{html}"
    );
    assert!(html.contains("1 voter"));
    assert!(!html.contains("type=\"radio\" name=\"choice\""));
    // Voting again from an old page says why.
    let r = bob
        .post_form(
            &format!("/polls/{id}/vote"),
            &[("csrf", &csrf), ("choice", &option.to_string())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("You have already voted in this poll."));
    // The author sees who chose what (a named poll).
    let html = b.html(&to).await;
    assert!(html.contains("Who voted"), "{html}");
    assert!(
        html.contains("<b>Raclette</b>: <a href=\"/people/bob\">bob</a>"),
        "{html}"
    );
    // The author closes it from the post.
    let csrf = b.csrf(&to).await;
    let r = b
        .post_form(&format!("/polls/{id}/close"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(b.html(&to).await.contains("Closed"));
}
