//! Must-read announcements (`content::must_read`): a post a moderator (for
//! a community) or an administrator (for everyone here) marks; each person
//! asked confirms having read it; until then it heads their feeds; its
//! author sees who has not read it and reminds them once; over HTTP,
//! through the API and the pages.

mod common;

use common::*;
use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn told(v: &Value, kind: &str, id: i64) -> Vec<bool> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == kind && i["content_id"] == id)
        .map(|i| i["read"].as_bool().unwrap())
        .collect()
}

fn ids(v: &Value, field: &str) -> Vec<i64> {
    v[field]
        .as_array()
        .map(|a| a.iter().map(|i| i["id"].as_i64().unwrap()).collect())
        .unwrap_or_default()
}

fn names(v: &Value, field: &str) -> Vec<String> {
    v[field]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["username"].as_str().unwrap().to_string())
        .collect()
}

fn confirmations(app: &TestApp) -> i64 {
    use ruche::db::schema::must_read_confirmations as t;
    let mut conn = app.db.get().unwrap();
    t::table.count().get_result(&mut *conn).unwrap()
}

fn marks(app: &TestApp) -> i64 {
    use ruche::db::schema::must_reads as t;
    let mut conn = app.db.get().unwrap();
    t::table.count().get_result(&mut *conn).unwrap()
}

async fn mark(api: &Api, id: i64) -> Resp {
    api.put(&format!("/posts/{id}/must-read")).await
}

async fn confirm(api: &Api, id: i64) -> Resp {
    api.post(&format!("/posts/{id}/must-read/confirmation"), json!({}))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_community_must_read_heads_its_members_feeds_until_each_has_read_it() {
    let app = TestApp::start().await;
    app.create_account("root", true);
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let dave = app.user("dave").await;
    let erin = app.user("erin").await;
    let r = alice
        .post(
            "/communities",
            json!({"name": "qualite", "title": "Qualité"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    for who in [&bob, &carol, &dave] {
        let r = who.post("/communities/qualite/join", json!({})).await;
        assert!(r.status.is_success(), "{}", r.json);
    }
    let r = bob
        .post(
            "/communities/qualite/posts",
            json!({"body": "New **audit** procedure from Monday: read it before your next shift."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let id = r.json["id"].as_i64().unwrap();
    let r = carol
        .post(&format!("/posts/{id}/comments"), json!({"body": "Noted."}))
        .await;
    let comment = r.json["id"].as_i64().unwrap();

    // Only the community's moderators mark its posts; a comment is no
    // must-read; nothing is stored for a refusal.
    let r = bob.put(&format!("/posts/{id}/must-read")).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "must_read_not_moderator")
    );
    let r = mark(&alice, comment).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "must_read_comment")
    );
    let r = mark(&alice, 999_999).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = confirm(&carol, id).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "must_read_not_marked")
    );
    assert_eq!((marks(&app), confirmations(&app)), (0, 0));

    // The moderator marks it: every member but its author is asked and told.
    let r = mark(&alice, id).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["scope"], "community");
    assert_eq!(r.json["may_mark"], true);
    // Marking again changes nothing.
    assert_eq!(mark(&alice, id).await.status, StatusCode::OK);
    assert_eq!(marks(&app), 1);
    for who in [&carol, &dave] {
        let n = who.get("/notifications").await.json;
        assert_eq!(told(&n, "must_read", id), [false]);
    }
    assert!(told(&bob.get("/notifications").await.json, "must_read", id).is_empty());
    assert!(told(&erin.get("/notifications").await.json, "must_read", id).is_empty());

    // It heads Carol's feeds (home, site stream, the community), once.
    for path in ["/feed", "/feed?stream=site", "/communities/qualite/posts"] {
        let f = carol.get(path).await.json;
        assert_eq!(ids(&f, "must_read"), [id], "{path}: {f}");
        assert!(!ids(&f, "items").contains(&id), "{path}: {f}");
        let top = &f["must_read"][0]["must_read"];
        assert_eq!(
            (top["asked"].as_bool(), top["read"].as_bool()),
            (Some(true), Some(false))
        );
        assert!(
            top["tally"].is_null(),
            "only those who follow it up see the tally"
        );
    }
    // Erin, not a member, is not asked, and may not confirm.
    let f = erin.get("/feed?stream=site").await.json;
    assert!(ids(&f, "must_read").is_empty(), "{f}");
    let r = confirm(&erin, id).await;
    assert!(
        matches!(r.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
        "{}",
        r.json
    );
    assert_eq!(confirmations(&app), 0);

    // Her list of must-reads has it; its author's and its marker's
    // follow-up lists too; an unknown list is named.
    assert_eq!(ids(&carol.get("/must-reads").await.json, "items"), [id]);
    for who in [&bob, &alice] {
        let l = who.get("/must-reads?filter=followed").await.json;
        assert_eq!(ids(&l, "items"), [id], "{l}");
        assert!(l["next_page"].is_null());
    }
    assert!(ids(
        &carol.get("/must-reads?filter=followed").await.json,
        "items"
    )
    .is_empty());
    let r = carol.get("/must-reads?filter=everything").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "must_read_filter")
    );

    // Carol confirms: it leaves the top of her feed, her notification is
    // read; confirming again changes nothing.
    let r = confirm(&carol, id).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(
        (r.json["read"].as_bool(), r.json["asked"].as_bool()),
        (Some(true), Some(true))
    );
    assert!(r.json["read_at"].is_string());
    assert_eq!(confirm(&carol, id).await.status, StatusCode::OK);
    assert_eq!(confirmations(&app), 1);
    let f = carol.get("/feed").await.json;
    assert!(ids(&f, "must_read").is_empty(), "{f}");
    assert!(ids(&f, "items").contains(&id), "{f}");
    assert_eq!(
        told(&carol.get("/notifications").await.json, "must_read", id),
        [true]
    );
    assert!(ids(&carol.get("/must-reads").await.json, "items").is_empty());

    // Its author sees who read it: Carol of Alice, Carol and Dave.
    let r = bob.get(&format!("/posts/{id}/must-read/readers")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(
        (
            r.json["tally"]["read"].as_i64(),
            r.json["tally"]["audience"].as_i64(),
            r.json["tally"]["percent"].as_i64()
        ),
        (Some(1), Some(3), Some(33))
    );
    assert_eq!(names(&r.json, "read"), ["carol"]);
    assert_eq!(names(&r.json, "unread"), ["alice", "dave"]);
    assert_eq!(r.json["may_remind"], true);
    let item = bob.get(&format!("/posts/{id}")).await.json;
    assert_eq!(item["must_read"]["tally"]["read"], 1, "{item}");
    // A member who only reads it does not.
    let r = dave.get(&format!("/posts/{id}/must-read/readers")).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "must_read_not_yours")
    );

    // One reminder, to those who have not read it.
    let r = bob
        .post(&format!("/posts/{id}/must-read/reminder"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["reminded"], 2);
    assert_eq!(
        told(
            &dave.get("/notifications").await.json,
            "must_read_reminder",
            id
        ),
        [false]
    );
    assert!(told(
        &carol.get("/notifications").await.json,
        "must_read_reminder",
        id
    )
    .is_empty());
    let r = alice
        .post(&format!("/posts/{id}/must-read/reminder"), json!({}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "must_read_reminded")
    );
    let r = dave
        .post(&format!("/posts/{id}/must-read/reminder"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = bob.get(&format!("/posts/{id}/must-read/readers")).await;
    assert_eq!(r.json["may_remind"], false);
    assert!(r.json["tally"]["reminded_at"].is_string());

    // Lifted: nobody is asked any more; what was confirmed is kept.
    let r = alice.delete(&format!("/posts/{id}/must-read")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.json);
    let f = dave.get("/feed").await.json;
    assert!(ids(&f, "must_read").is_empty(), "{f}");
    let item = dave.get(&format!("/posts/{id}")).await.json;
    assert!(item["must_read"].is_null(), "{item}");
    assert_eq!((marks(&app), confirmations(&app)), (0, 1));

    // Switched off for the community: no new mark, a 404 that says why.
    let r = alice
        .send_json(
            Method::PUT,
            "/communities/qualite/apps/must_read",
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let r = mark(&alice, id).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "app_disabled")
    );
    assert_eq!(marks(&app), 0);

    // A deleted must-read leaves the top of every feed.
    let r = alice
        .send_json(
            Method::PUT,
            "/communities/qualite/apps/must_read",
            json!({"enabled": null}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(mark(&alice, id).await.status, StatusCode::OK);
    assert_eq!(ids(&dave.get("/feed").await.json, "must_read"), [id]);
    assert!(bob
        .delete(&format!("/posts/{id}"))
        .await
        .status
        .is_success());
    assert!(ids(&dave.get("/feed").await.json, "must_read").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_asks_everyone_here_to_read_a_post() {
    let app = TestApp::start().await;
    app.create_account("root", true);
    let root = app.login_api("root").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let r = root
        .post(
            "/posts",
            json!({"body": "The plant closes on the 24th at noon.", "visibility": "instance"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let id = r.json["id"].as_i64().unwrap();
    let r = root
        .post(
            "/posts",
            json!({"body": "For my followers only.", "visibility": "followers"}),
        )
        .await;
    let narrow = r.json["id"].as_i64().unwrap();
    let own = bob.post_text("Bob's news").await;

    // Only administrators ask everyone, and only of a post everyone here reads.
    let r = mark(&bob, own).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "must_read_not_admin")
    );
    let r = mark(&root, narrow).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "must_read_audience")
    );
    assert_eq!(marks(&app), 0);

    let r = mark(&root, id).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["scope"], "site");
    assert_eq!(r.json["tally"]["audience"], 2, "{}", r.json);
    // Bob follows nobody: it heads his feed all the same.
    let f = bob.get("/feed").await.json;
    assert_eq!(ids(&f, "must_read"), [id], "{f}");
    assert_eq!(
        told(&bob.get("/notifications").await.json, "must_read", id),
        [false]
    );
    assert_eq!(confirm(&bob, id).await.status, StatusCode::OK);
    let r = root.get(&format!("/posts/{id}/must-read/readers")).await;
    assert_eq!(names(&r.json, "read"), ["bob"]);
    assert_eq!(names(&r.json, "unread"), ["carol"]);
    assert_eq!(r.json["tally"]["percent"], 50);

    // A person who joins later is asked too; a disabled account is not counted.
    let dave = app.user("dave").await;
    assert_eq!(ids(&dave.get("/feed").await.json, "must_read"), [id]);
    assert_eq!(
        ids(&carol.get("/feed?stream=site").await.json, "must_read"),
        [id]
    );
    let r = root
        .send_json(Method::POST, "/admin/users/carol/disable", json!({}))
        .await;
    assert!(r.status.is_success(), "{}", r.json);
    let r = root.get(&format!("/posts/{id}/must-read/readers")).await;
    assert_eq!(names(&r.json, "unread"), ["dave"]);
    assert_eq!(r.json["tally"]["audience"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn must_reads_are_marked_read_and_followed_up_from_the_pages() {
    let app = TestApp::start().await;
    app.create_account("root", true);
    let admin = app.browser_login("root").await;
    let bob = app.browser_user("bob").await;
    let api = app.login_api("root").await;
    let id = api.post_text("Fire drill on Thursday at 10:00.").await;

    // The administrator's post page offers the mark.
    let html = admin.html(&format!("/posts/{id}")).await;
    assert!(
        html.contains("Mark as a must-read for everyone here"),
        "{html}"
    );
    let csrf = admin.csrf(&format!("/posts/{id}")).await;
    let r = admin
        .post_form(
            &format!("/posts/{id}/must-read"),
            &[("csrf", &csrf), ("on", "1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(marks(&app), 1);

    // Bob's home page has it on top, with its button, in French too.
    let html = bob.html("/").await;
    assert!(html.contains("To read first"), "{html}");
    assert!(html.contains("I have read it"), "{html}");
    let fr = bob.get_lang("/", "fr").await.text().await.unwrap();
    assert!(
        fr.contains("À lire en priorité") && fr.contains("J&#39;ai lu"),
        "{fr}"
    );
    let csrf = bob.csrf("/").await;
    let r = bob
        .post_form(&format!("/posts/{id}/read"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = bob.html("/").await;
    assert!(!html.contains("To read first"), "{html}");
    assert!(html.contains("You confirmed reading it"), "{html}");
    let html = bob.html("/must-read").await;
    assert!(html.contains("Nothing left to read. Well done."), "{html}");
    let html = admin.html("/must-read?filter=followed").await;
    assert!(html.contains("Fire drill on Thursday"), "{html}");
    assert!(html.contains("1 of 1 have read it"), "{html}");
    // A forged form changes nothing.
    let r = bob
        .post_form(&format!("/posts/{id}/read"), &[("csrf", "forged")])
        .await;
    assert!(r.status().is_client_error());

    // The readers' page, and its one reminder.
    let html = admin.html(&format!("/posts/{id}/readers")).await;
    assert!(html.contains("1 of 1 have read it"), "{html}");
    let carol = app.user("carol").await;
    let html = admin.html(&format!("/posts/{id}/readers")).await;
    assert!(
        html.contains("1 of 2 have read it") && html.contains("@carol"),
        "{html}"
    );
    let csrf = admin.csrf(&format!("/posts/{id}/readers")).await;
    let r = admin
        .post_form(&format!("/posts/{id}/remind"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("/posts/{id}/readers?reminded=1"));
    let html = admin.html(&location(&r)).await;
    assert!(html.contains("1 person was reminded."), "{html}");
    assert!(
        !html.contains("Remind those who have not read it"),
        "{html}"
    );
    let n = carol.get("/notifications").await.json;
    assert_eq!(told(&n, "must_read_reminder", id), [false]);
    // Someone else may not follow it up.
    let r = bob.get(&format!("/posts/{id}/readers")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}
