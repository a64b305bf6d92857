//! The administrators' console: the figures that matter, people found,
//! paged and filtered, made administrators or not, disabled and deleted,
//! through the pages and the API.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_counts_people_activity_and_what_is_written() {
    let app = TestApp::start().await;
    app.create_account("root", true);
    let root = app.login_api("root").await;
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let _carol = app.browser_user("carol").await;
    let _dave = app.user("dave").await;
    let post = ana.post_text("Hello everyone").await;
    let r = bob
        .post(&format!("/posts/{post}/comments"), json!({"body": "Hi!"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = ana
        .post(
            "/communities",
            json!({"name": "qualite", "title": "Qualité"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);

    let d = root.get("/admin/dashboard").await;
    assert_eq!(d.status, StatusCode::OK, "{:?}", d.json);
    let f = &d.json["figures"];
    assert_eq!(f["people"], 5);
    assert_eq!(f["admins"], 1);
    assert_eq!(f["disabled"], 0);
    // ana wrote, bob commented, carol signed in; root and dave only hold
    // API tokens and did nothing.
    assert_eq!(f["active_7_days"], 3, "{f}");
    assert_eq!(f["active_30_days"], 3);
    assert_eq!(f["posts"], 1);
    assert_eq!(f["posts_7_days"], 1);
    assert_eq!(f["comments_7_days"], 1);
    assert_eq!(f["communities"], 1);
    assert_eq!(f["remote_people"], 0);
    assert_eq!(d.json["deliveries"]["failed"], 0);

    // The page shows them, in both languages (root signed in to see it:
    // one more active person).
    let b = app.browser_login("root").await;
    let html = b.html("/admin").await;
    assert!(html.contains("Active in the last 7 days</dt><dd>4</dd>"));
    assert!(html.contains("Posts</dt><dd>1</dd>"));
    let fr = b.get_lang("/admin", "fr").await.text().await.unwrap();
    assert!(fr.contains("Actives ces 7 derniers jours</dt><dd>4</dd>"));

    // Not for others.
    assert_eq!(
        ana.get("/admin/dashboard").await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_are_found_paged_promoted_disabled_and_deleted() {
    let app = TestApp::start().await;
    app.create_account("root", true);
    for i in 0..52 {
        app.create_account(&format!("user{i:02}"), false);
    }
    let root = app.login_api("root").await;
    let ana = app.user("ana").await;
    ana.patch("/me", json!({"display_name": "Anaïs Martin"}))
        .await;
    let b = app.browser_login("root").await;

    // Pages of 50, by username: ana, root, user00 to user47, then the rest.
    let p1 = root.get("/admin/users").await;
    assert_eq!(p1.status, StatusCode::OK);
    assert_eq!(p1.json["items"].as_array().unwrap().len(), 50);
    let cursor = p1.json["next_cursor"].as_str().unwrap().to_string();
    let p2 = root.get(&format!("/admin/users?cursor={cursor}")).await;
    let rest: Vec<&str> = p2.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(rest, ["user48", "user49", "user50", "user51"]);
    assert!(p2.json["next_cursor"].is_null());
    let html = b.html("/admin").await;
    assert!(
        html.contains("href=\"/admin?q=&amp;show=all&amp;after=user47#people\"")
            || html.contains("href=\"/admin?q=&#38;show=all&#38;after=user47#people\""),
        "next page link"
    );

    // Search by name, username or e-mail; filters.
    let found = root.get("/admin/users?q=MARTIN").await;
    assert_eq!(found.json["items"][0]["username"], "ana");
    assert_eq!(found.json["items"].as_array().unwrap().len(), 1);
    let found = root.get("/admin/users?q=ana%40example").await;
    assert_eq!(found.json["items"][0]["email"], "ana@example.com");
    let found = root.get("/admin/users?q=100%25").await;
    assert_eq!(
        found.json["items"].as_array().unwrap().len(),
        0,
        "% is a character"
    );
    let admins = root.get("/admin/users?show=admins").await;
    assert_eq!(admins.json["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        root.get("/admin/users?show=remote").await.json["items"],
        json!([])
    );
    let r = root.get("/admin/users?show=everyone").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "field_invalid")
    );
    assert_eq!(
        b.get("/admin?show=everyone").await.status(),
        StatusCode::BAD_REQUEST
    );

    // From the page: promote ana, then return to the list as it was.
    let csrf = b.csrf("/admin").await;
    let back = "/admin?q=ana&show=all";
    let r = b
        .post_form(
            "/admin/users/ana/promote",
            &[("csrf", &csrf), ("back", back)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), back);
    assert_eq!(
        root.get("/admin/users?show=admins").await.json["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let html = b.html(back).await;
    assert!(html.contains("action=\"/admin/users/ana/demote\""));
    // ana, administrator now, removes root's administration through the API.
    let ana_admin = app.login_api("ana").await;
    let r = ana_admin.delete("/admin/users/root/admin").await;
    assert_eq!(
        (r.status, r.json["is_admin"].clone()),
        (StatusCode::OK, json!(false))
    );
    // The last administrator stays one, and the page says why.
    let r = ana_admin.delete("/admin/users/ana/admin").await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "last_admin"));
    let b_ana = app.browser_login("ana").await;
    let csrf_ana = b_ana.csrf("/admin").await;
    let r = b_ana
        .post_form("/admin/users/ana/demote", &[("csrf", &csrf_ana)])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("at least one administrator"));
    // root is not an administrator any more: the console is closed to them.
    assert_eq!(b.get("/admin").await.status(), StatusCode::FORBIDDEN);
    let r = b
        .post_form("/admin/users/user00/disable", &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        root.put("/admin/users/user00/admin").await.status,
        StatusCode::FORBIDDEN
    );

    // Disable, then delete, from the page.
    let r = b_ana
        .post_form(
            "/admin/users/user00/disable",
            &[("csrf", &csrf_ana), ("back", "https://evil.example/")],
        )
        .await;
    assert_eq!(
        location(&r),
        "/admin",
        "only paths of this site are followed"
    );
    let disabled = ana_admin.get("/admin/users?show=disabled").await;
    assert_eq!(disabled.json["items"][0]["username"], "user00");
    let html = b_ana.html("/admin?show=disabled").await;
    assert!(html.contains("data-confirm="), "deleting asks first");
    let r = b_ana
        .post_form("/admin/users/user01/delete", &[("csrf", &csrf_ana)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let found = ana_admin.get("/admin/users?q=user01").await;
    assert_eq!(
        found.json["items"],
        json!([]),
        "a deleted account is not listed"
    );
    // Unknown actions and accounts.
    let r = b_ana
        .post_form("/admin/users/user02/explode", &[("csrf", &csrf_ana)])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        ana_admin.put("/admin/users/nobody/admin").await.status,
        StatusCode::NOT_FOUND
    );
    // Without the form's token nothing happens.
    let r = b_ana
        .post_form("/admin/users/user02/delete", &[("csrf", "forged")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        ana_admin.get("/admin/users?q=user02").await.json["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_site_name_and_sign_up_mode_are_set_from_the_console_for_every_process() {
    let app = TestApp::start().await;
    let other = app.another_server().await;
    app.create_account("root", true);
    let root = app.login_api("root").await;
    let b = app.browser_login("root").await;
    let html = b.html("/admin").await;
    assert!(
        html.contains("id=\"site-name\" name=\"name\" required maxlength=\"60\" value=\"Ruche\"")
    );

    let csrf = b.csrf("/admin").await;
    let r = b
        .post_form(
            "/admin/site",
            &[
                ("csrf", &csrf),
                ("name", "Qualité Paris"),
                ("signup", "invite"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/admin#site");
    assert!(b
        .html("/")
        .await
        .contains("<title>Your feed · Qualité Paris</title>"));
    // Another process of the site shows it too.
    let anon = Browser::new(&other);
    assert!(anon.html("/login").await.contains("Qualité Paris"));
    // Sign-up now needs an invitation, through every door.
    let r = app
        .client()
        .post(app.url("/api/v1/accounts"))
        .json(&json!({"username": "zoe", "email": "zoe@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "invite_required");
    let nodeinfo: serde_json::Value = app
        .client()
        .get(app.url("/nodeinfo/2.1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(nodeinfo["openRegistrations"], false);
    assert_eq!(nodeinfo["metadata"]["nodeName"], "Qualité Paris");

    // Through the API: closed.
    let r = root
        .send_json(
            reqwest::Method::PATCH,
            "/admin/site",
            json!({"signup": "closed"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(r.json, json!({"name": "Qualité Paris", "signup": "closed"}));
    let r = app
        .client()
        .post(other.clone() + "/api/v1/accounts")
        .json(&json!({"username": "zoe", "email": "zoe@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "the other process follows"
    );

    // Bad values: refused, nothing changed.
    for (body, code) in [
        (json!({"name": "  "}), "field_missing"),
        (json!({"name": "x".repeat(61)}), "field_too_long"),
        (json!({"name": "two\nlines"}), "field_invalid"),
        (json!({"signup": "maybe"}), "field_invalid"),
        (json!({"name": "Fine", "signup": "maybe"}), "field_invalid"),
    ] {
        let r = root
            .send_json(reqwest::Method::PATCH, "/admin/site", body.clone())
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, code),
            "{body}"
        );
    }
    assert_eq!(
        root.get("/admin/site").await.json,
        json!({"name": "Qualité Paris", "signup": "closed"})
    );
    let r = b
        .post_form(
            "/admin/site",
            &[("csrf", &csrf), ("name", ""), ("signup", "open")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("role=\"alert\""));
    // Not for others.
    let ana = {
        app.create_account("ana", false);
        app.login_api("ana").await
    };
    let r = ana
        .send_json(
            reqwest::Method::PATCH,
            "/admin/site",
            json!({"name": "Mine"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(root.get("/admin/site").await.json["name"], "Qualité Paris");
}

/// Two administrators removing each other at the same moment (a demotion,
/// a disabling, a deletion) leave one: the second is refused. Each round
/// starts both requests together; PostgreSQL let both through before the
/// administrators' rows were held.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn administrators_removing_each_other_at_once_leave_one() {
    let app = TestApp::start().await;
    app.create_account("ann", true);
    app.create_account("bob", true);
    let ann = app.login_api("ann").await;
    let bob = app.login_api("bob").await;
    let admins = |app: &TestApp| {
        use diesel::prelude::*;
        use ruche::db::schema::users;
        let mut c = app.db.get().unwrap();
        users::table
            .filter(users::is_admin.eq(true))
            .filter(users::disabled.eq(false))
            .filter(users::deleted_at.is_null())
            .count()
            .get_result::<i64>(&mut *c)
            .unwrap()
    };
    for round in 0..10 {
        let (a, b) = tokio::join!(
            ann.delete("/admin/users/bob/admin"),
            bob.delete("/admin/users/ann/admin")
        );
        assert_eq!(admins(&app), 1, "round {round}: {} {}", a.status, b.status);
        // The other is refused: the last administrator stays one (or, when
        // it came second, its sender is no administrator any more).
        let done = [&a, &b]
            .iter()
            .filter(|r| r.status == StatusCode::OK)
            .count();
        assert_eq!(done, 1, "round {round}: {} {}", a.json, b.json);
        // The one left makes the other an administrator again.
        let (left, other) = if a.status == StatusCode::OK {
            (&ann, "bob")
        } else {
            (&bob, "ann")
        };
        let r = left.put(&format!("/admin/users/{other}/admin")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    }
    // Disabling each other: one is refused.
    let (a, b) = tokio::join!(
        ann.post("/admin/users/bob/disable", json!({})),
        bob.post("/admin/users/ann/disable", json!({}))
    );
    assert_eq!(admins(&app), 1, "{} {}", a.json, b.json);
    let (left, gone) = match (a.status.is_success(), b.status.is_success()) {
        (true, false) => (&ann, "bob"),
        (false, true) => (&bob, "ann"),
        _ => panic!("one disabling, not two: {} {}", a.json, b.json),
    };
    assert_eq!(
        left.post(&format!("/admin/users/{gone}/enable"), json!({}))
            .await
            .status,
        StatusCode::OK
    );
    // Deleting each other: one is refused.
    let (a, b) = tokio::join!(
        ann.delete("/admin/users/bob"),
        bob.delete("/admin/users/ann")
    );
    assert_eq!(admins(&app), 1, "{} {}", a.json, b.json);
}
