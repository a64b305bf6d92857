//! Partner guests: a community's moderator invites a partner by e-mail as a
//! guest; whatever the sign-up mode, the partner makes an account with the
//! link and sees their community and nothing else of the site (no
//! directory, no site stream, no people search, no other community, no
//! post outside it), with a "guest" badge wherever they appear; their
//! access ends on its date unless a moderator or an administrator renews
//! it. Runs on both databases, with a real SMTP server.

mod common;

use common::smtp::{self, Smtp};
use common::{Api, Browser, TestApp, PASSWORD};
use diesel::prelude::*;
use reqwest::StatusCode;
use ruche::db::schema::{guests, mail_queue, reactions, users};
use serde_json::{json, Value};

async fn app_with_mail(smtp_url: &str, guests_on: bool) -> TestApp {
    let url = smtp_url.to_string();
    TestApp::start_with(move |c| {
        c.mail.smtp_url = url;
        c.mail.retry_base_ms = 100;
        c.mail.notify_delay_seconds = 1;
        c.accounts.guests = guests_on;
        c.accounts.guest_days = 30;
    })
    .await
}

fn id_of(app: &TestApp, name: &str) -> i64 {
    let mut c = app.db.get().unwrap();
    users::table
        .filter(users::username.eq(name))
        .select(users::id)
        .first(&mut *c)
        .unwrap()
}

/// The ids of the posts of a feed page.
fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a feed page: {page}"))
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

/// The company: root administers, ana moderates the partnership's
/// community `projet_x` (public, so that only the guest rule keeps it from
/// a guest's eyes elsewhere), bob is a colleague, `cafe` another public
/// community; sign-up is closed.
struct Company {
    app: TestApp,
    server: Smtp,
    root: Api,
    ana: Api,
    bob: Api,
    /// bob's public post outside communities, ana's post in projet_x,
    /// bob's post in cafe.
    public_post: i64,
    project_post: i64,
    cafe_post: i64,
}

async fn company(guests_on: bool) -> Company {
    let server = Smtp::start().await;
    let app = app_with_mail(&server.url(), guests_on).await;
    let root = app.user("root").await;
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    server.confirm_addresses(&app.base, 3).await;
    for (who, name) in [(&ana, "projet_x"), (&bob, "cafe")] {
        let r = who
            .post(
                "/communities",
                json!({"name": name, "title": name, "visibility": "public"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    }
    let r = root.patch("/admin/site", json!({"signup": "closed"})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let public_post = bob
        .post_text("Bonjour à tous, réunion générale lundi")
        .await;
    let r = ana
        .post(
            "/communities/projet_x/posts",
            json!({"body": "Planning du projet X : jalon 2 en mars"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let project_post = r.json["id"].as_i64().unwrap();
    let r = bob
        .post(
            "/communities/cafe/posts",
            json!({"body": "Machine à café réparée"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let cafe_post = r.json["id"].as_i64().unwrap();
    Company {
        app,
        server,
        root,
        ana,
        bob,
        public_post,
        project_post,
        cafe_post,
    }
}

/// ana invites `address` to projet_x as a guest; the e-mail's link code.
async fn invite_guest(co: &Company, address: &str, nth: usize) -> String {
    let r = co
        .ana
        .post(
            "/communities/projet_x/invitations/email",
            json!({"email": address, "guest": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.json);
    let mails = co.server.wait_kind("invitation", nth).await;
    let m = mails.iter().rev().find(|m| m.to == address).unwrap();
    assert!(m.text.contains("as a guest"), "{}", m.text);
    m.invitation_code().expect("an invitation link")
}

/// The partner signs up with the link through the pages; their browser,
/// signed in.
async fn sign_up_guest(co: &Company, code: &str, username: &str, address: &str) -> Browser {
    let b = Browser::new(&co.app.base);
    let html = b.html(&format!("/invitations/{code}")).await;
    assert!(html.contains("Create my guest account"), "{html}");
    // Sign-up is closed, yet the guest's link opens the form.
    let html = b.html(&format!("/signup?invite={code}")).await;
    assert!(html.contains("You are joining as a guest"), "{html}");
    assert!(
        html.contains(&format!("name=\"invite\" value=\"{code}\"")),
        "{html}"
    );
    let csrf = common::extract_csrf(&html).unwrap();
    let r = b
        .post_form(
            "/signup",
            &[
                ("csrf", csrf.as_str()),
                ("tz", ""),
                ("tzname", ""),
                ("username", username),
                ("email", address),
                ("password", PASSWORD),
                ("invite", code),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(common::location(&r), "/welcome");
    b
}

#[tokio::test]
async fn a_partner_invited_as_a_guest_sees_their_community_and_nothing_else() {
    if !smtp::available() {
        return;
    }
    let co = company(true).await;
    let app = &co.app;

    // Without an invitation, sign-up stays closed.
    let b = Browser::new(&app.base);
    let html = b.html("/signup").await;
    assert!(html.contains("closed"), "{html}");

    let code = invite_guest(&co, "nina@partner.example", 1).await;
    let browser = sign_up_guest(&co, &code, "nina", "nina@partner.example").await;
    assert_eq!(app.count("guests"), 1);
    let nina = app.login_api("nina").await;
    let me = nina.get("/me").await.json;
    assert_eq!(me["profile"]["guest"], true, "{me}");
    assert_eq!(me["profile"]["is_admin"], false, "{me}");
    assert_eq!(
        nina.get("/communities/projet_x").await.json["my_status"],
        "member"
    );

    // Getting started is the profile alone; then the feed.
    let html = browser.html("/welcome").await;
    assert!(!html.contains("Colleagues to follow"), "{html}");
    let r = browser
        .post_form(
            "/welcome/step",
            &[
                ("csrf", common::extract_csrf(&html).unwrap().as_str()),
                ("step", "people"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // The feed: the community's posts, not what everyone here reads.
    let feed = nina.get("/feed").await;
    assert_eq!(feed.status, StatusCode::OK, "{:?}", feed.json);
    assert_eq!(ids(&feed.json), vec![co.project_post]);
    for stream in ["site", "organisation"] {
        let r = nina.get(&format!("/feed?stream={stream}")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{stream}");
        assert_eq!(r.code(), "guest_not_allowed");
        assert_eq!(
            r.message(),
            "Guests see only the communities they are invited to."
        );
    }
    // Everyone else's public things are as if they did not exist.
    for post in [co.public_post, co.cafe_post] {
        let r = nina.get(&format!("/posts/{post}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "post {post}");
    }
    assert_eq!(
        nina.get("/communities/cafe").await.status,
        StatusCode::NOT_FOUND
    );
    let r = nina.post("/communities/cafe/join", json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let list = nina.get("/communities").await.json;
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["projet_x"], "{list}");
    // No directory, no people search, no experts, no one else's profile.
    for path in [
        "/people",
        "/search?q=bob&type=people",
        "/experts?topic=cafe",
        "/people/ana/followers",
        "/people/lookup?q=bob@elsewhere.example",
    ] {
        let r = nina.get(path).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {:?}", r.json);
        assert_eq!(r.code(), "guest_not_allowed", "{path}");
    }
    assert_eq!(nina.get("/people/bob").await.status, StatusCode::NOT_FOUND);
    let ana_profile = nina.get("/people/ana").await;
    assert_eq!(ana_profile.status, StatusCode::OK);
    let found = nina.get("/search?q=Bonjour").await.json;
    assert_eq!(found["counts"]["content"], 0, "{found}");
    assert_eq!(found["counts"]["people"], 0, "{found}");
    let found = nina.get("/search?q=jalon").await.json;
    assert_eq!(found["counts"]["content"], 1, "{found}");
    // Mentions offer the members of their communities only.
    let offered = nina.get("/mentions?q=b").await.json;
    assert!(!offered.to_string().contains("\"bob\""), "{offered}");

    // Nor their photos, skills or names, by the side doors.
    let r = co
        .bob
        .put_bytes("/me/photo", common::png(64, 64), "image/png")
        .await;
    assert!(r.status.is_success(), "{:?}", r.json);
    let r = co.bob.patch("/me", json!({"skills": ["Soudure"]})).await;
    assert!(r.status.is_success(), "{:?}", r.json);
    assert_eq!(
        browser.get("/people/bob/photo").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.browser_login("ana")
            .await
            .get("/people/bob/photo")
            .await
            .status(),
        StatusCode::OK
    );
    let r = nina.put("/people/bob/endorsements/soudure").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.json);
    assert_eq!(app.count("endorsements"), 0);
    let shown = nina
        .post("/preview", json!({"body": "Merci @ana et @bob"}))
        .await
        .json;
    let html = shown["html"].as_str().unwrap();
    assert!(html.contains("href=\"/people/ana\""), "{html}");
    assert!(!html.contains("/people/bob"), "bob is not named: {html}");

    // What they may not do is refused, and nothing is stored.
    let before = (
        app.count("content"),
        app.count("communities"),
        app.count("follows"),
    );
    let r = nina.post("/posts", json!({"body": "Hello everyone"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code(), "guest_not_allowed");
    let r = nina
        .post(
            "/communities",
            json!({"name": "partenaires", "title": "Partenaires", "visibility": "public"}),
        )
        .await;
    assert_eq!(r.code(), "guest_not_allowed");
    let r = nina.post("/people/ana/follow", json!({})).await;
    assert_eq!(r.code(), "guest_not_allowed");
    let r = nina
        .post(
            "/communities/projet_x/invitations/email",
            json!({"email": "someone@partner.example", "guest": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        before,
        (
            app.count("content"),
            app.count("communities"),
            app.count("follows")
        )
    );
    // A guest takes part; they do not moderate (nor renew themselves).
    let r = co
        .ana
        .send_json(
            reqwest::Method::PUT,
            "/communities/projet_x/members/nina/role",
            json!({"role": "moderator"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.json);
    assert_eq!(r.code(), "guest_cannot_moderate");
    // Even made moderator behind the pages' back, a guest renews nobody.
    {
        use ruche::db::schema::community_members as m;
        let mut c = app.db.get().unwrap();
        let n = diesel::update(
            m::table
                .filter(m::user_id.eq(id_of(app, "nina")))
                .filter(m::community_id.eq(id_of(app, "projet_x"))),
        )
        .set(m::role.eq("moderator"))
        .execute(&mut *c)
        .unwrap();
        assert_eq!(n, 1);
    }
    let r = nina.post("/guests/nina/renew", json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    {
        use ruche::db::schema::community_members as m;
        let mut c = app.db.get().unwrap();
        diesel::update(m::table.filter(m::user_id.eq(id_of(app, "nina"))))
            .set(m::role.eq("member"))
            .execute(&mut *c)
            .unwrap();
    }

    // In the community they work as anyone; everyone sees the badge.
    let r = nina
        .post(
            "/communities/projet_x/posts",
            json!({"body": "Nos plans sont prêts pour le jalon 2"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let theirs = r.json["id"].as_i64().unwrap();
    let r = nina
        .post(
            &format!("/posts/{}/comments", co.project_post),
            json!({"body": "Merci Ana"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let seen = co.bob.get("/communities/projet_x/posts").await.json;
    let item = seen["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == theirs)
        .unwrap_or_else(|| panic!("{seen}"));
    assert_eq!(item["author"]["guest"], true, "{item}");
    assert_eq!(co.bob.get("/people/nina").await.json["guest"], true);
    let ana_pages = app.browser_login("ana").await;
    let html = ana_pages.html("/communities/projet_x/members").await;
    assert!(html.contains("badge guest"), "{html}");
    assert!(
        html.contains("/communities/projet_x/guests/renew"),
        "{html}"
    );
    let html = ana_pages.html("/communities/projet_x").await;
    assert!(html.contains("badge guest"), "{html}");

    // The guest's own pages leave out what they may not open.
    let html = browser.html("/").await;
    assert!(html.contains("You are a guest"), "{html}");
    assert!(!html.contains("href=\"/people\""), "{html}");
    assert!(!html.contains("action=\"/posts\""), "{html}");
    assert!(!html.contains("Machine à café"), "{html}");
    let r = browser.get("/people").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // A colleague invited as a guest joins as themself: never a guest.
    let code = invite_guest(&co, "bob@example.com", 2).await;
    let r = co
        .bob
        .post(&format!("/invitations/{code}/accept"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(co.bob.get("/me").await.json["profile"]["guest"], false);
    assert_eq!(app.count("guests"), 1);
    assert_eq!(co.bob.get("/people").await.status, StatusCode::OK);
    drop(co.root);
}

#[tokio::test]
async fn a_guest_s_access_ends_on_its_date_and_is_renewed() {
    if !smtp::available() {
        return;
    }
    let co = company(true).await;
    let app = &co.app;
    let code = invite_guest(&co, "nina@partner.example", 1).await;
    let browser = sign_up_guest(&co, &code, "nina", "nina@partner.example").await;
    let nina = app.login_api("nina").await;
    let nina_id = id_of(app, "nina");
    co.server.confirm_addresses(&app.base, 4).await;
    // ana answers nina: nina's e-mail offers a one-click like.
    let r = nina
        .post(
            "/communities/projet_x/posts",
            json!({"body": "Les plans sont en ligne"}),
        )
        .await;
    let theirs = r.json["id"].as_i64().unwrap();
    let r = co
        .ana
        .post(
            &format!("/posts/{theirs}/comments"),
            json!({"body": "Merci, je regarde"}),
        )
        .await;
    let answer = r.json["id"].as_i64().unwrap();
    let m = co.server.wait_kind("notification", 1).await.remove(0);
    assert_eq!(m.to, "nina@partner.example");
    let like = m
        .text
        .lines()
        .find(|l| l.starts_with("* Like") && l.contains("/mail/do/"))
        .map(|l| l[l.find("http").unwrap()..].trim().to_string())
        .unwrap_or_else(|| panic!("a one-click like in {}", m.text));
    let until: chrono::NaiveDateTime = {
        let mut c = app.db.get().unwrap();
        guests::table
            .find(nina_id)
            .select(guests::expires_at)
            .first(&mut *c)
            .unwrap()
    };
    let days = (until - ruche::db::now()).num_hours();
    assert!((29 * 24..=30 * 24).contains(&days), "{days} hours");

    // The administrators' list.
    let list = co.root.get("/admin/guests").await;
    assert_eq!(list.status, StatusCode::OK, "{:?}", list.json);
    let g = &list.json["items"][0];
    assert_eq!(g["username"], "nina");
    assert_eq!(g["invited_by"], "ana");
    assert_eq!(g["communities"], json!(["projet_x"]));
    assert_eq!(g["ended"], false);
    assert_eq!(
        co.ana.get("/admin/guests").await.status,
        StatusCode::FORBIDDEN
    );
    let html = app.browser_login("root").await.html("/admin").await;
    assert!(html.contains("nina@partner.example"), "{html}");

    // The date passes: the session, the token and a new sign-in stop at
    // once, before the housekeeping has run.
    let past = ruche::db::now() - chrono::Duration::minutes(1);
    {
        let mut c = app.db.get().unwrap();
        diesel::update(guests::table.find(nina_id))
            .set(guests::expires_at.eq(past))
            .execute(&mut *c)
            .unwrap();
    }
    assert_eq!(nina.get("/me").await.status, StatusCode::UNAUTHORIZED);
    let r = browser.get("/communities/projet_x").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "signed out");
    let r = app.token_request("nina", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "guest_expired", "{body}");
    // Nor by e-mail: the one-click link acts no more, and what would be
    // sent to them is dropped.
    let like_path = like.trim_start_matches(&app.base).to_string();
    let r = Browser::new(&app.base).post_form(&like_path, &[]).await;
    assert_ne!(r.status(), StatusCode::OK);
    let liked: i64 = {
        let mut c = app.db.get().unwrap();
        reactions::table
            .filter(reactions::content_id.eq(answer))
            .count()
            .get_result(&mut *c)
            .unwrap()
    };
    assert_eq!(liked, 0);
    let r = co
        .ana
        .post(
            &format!("/posts/{theirs}/comments"),
            json!({"body": "Et le jalon 3 ?"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let mut dropped = String::new();
    for _ in 0..200 {
        let row: Option<(String, String)> = {
            let mut c = app.db.get().unwrap();
            mail_queue::table
                .filter(mail_queue::user_id.eq(nina_id))
                .filter(mail_queue::kind.eq("notification"))
                .filter(mail_queue::status.ne("sent"))
                .select((mail_queue::status, mail_queue::last_error))
                .first(&mut *c)
                .optional()
                .unwrap()
        };
        if let Some((status, why)) = row {
            if status == "dropped" {
                dropped = why;
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(dropped, "the guest's access has ended");
    // An administrator cannot just enable the account back.
    let r = co.root.post("/admin/users/nina/enable", json!({})).await;
    assert!(!r.status.is_success(), "{:?}", r.json);

    // The housekeeping disables the account as a leaver's.
    {
        let mut c = app.db.get().unwrap();
        assert_eq!(ruche::accounts::guest::expire_due(&mut c).unwrap(), 1);
        assert_eq!(ruche::accounts::guest::expire_due(&mut c).unwrap(), 0);
        let disabled: bool = users::table
            .find(nina_id)
            .select(users::disabled)
            .first(&mut *c)
            .unwrap();
        assert!(disabled);
    }
    let g = co.root.get("/admin/guests").await.json;
    assert_eq!(g["items"][0]["ended"], true, "{g}");

    // Only an administrator or a moderator of their community renews;
    // to anyone else the guest does not exist.
    let r = co.bob.post("/guests/nina/renew", json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = co.ana.post("/guests/bob/renew", json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "bob is no guest");
    let r = co.ana.post("/guests/nina/renew", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert!(r.json["expires_at"].as_str().unwrap() > "2026");
    let nina = app.login_api("nina").await;
    assert_eq!(nina.get("/feed").await.status, StatusCode::OK);

    // An account an administrator disabled stays disabled when its date
    // passes and when it is renewed.
    let r = co.root.post("/admin/users/nina/disable", json!({})).await;
    assert!(r.status.is_success(), "{:?}", r.json);
    {
        let mut c = app.db.get().unwrap();
        diesel::update(guests::table.find(nina_id))
            .set(guests::expires_at.eq(past))
            .execute(&mut *c)
            .unwrap();
        assert_eq!(ruche::accounts::guest::expire_due(&mut c).unwrap(), 0);
    }
    let root_pages = app.browser_login("root").await;
    let csrf = root_pages.csrf("/admin").await;
    let r = root_pages
        .post_form(
            "/admin/guests/renew",
            &[("csrf", csrf.as_str()), ("username", "nina")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app.token_request("nina", PASSWORD).await;
    assert_ne!(r.status(), StatusCode::CREATED, "still disabled");
    let mut c = app.db.get().unwrap();
    let (disabled, expires): (bool, chrono::NaiveDateTime) = users::table
        .inner_join(guests::table.on(guests::user_id.eq(users::id)))
        .filter(users::id.eq(nina_id))
        .select((users::disabled, guests::expires_at))
        .first(&mut *c)
        .unwrap();
    assert!(disabled);
    assert!(expires > ruche::db::now());
}

#[tokio::test]
async fn guest_invitations_are_refused_where_the_site_does_not_allow_them() {
    if !smtp::available() {
        return;
    }
    let co = company(false).await;
    let app = &co.app;
    let r = co
        .ana
        .post(
            "/communities/projet_x/invitations/email",
            json!({"email": "nina@partner.example", "guest": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code(), "guests_off");
    assert_eq!(
        r.message(),
        "Guest invitations are turned off on this site."
    );
    assert_eq!(app.count("invitations"), 0);
    // The members page does not offer it.
    let html = app
        .browser_login("ana")
        .await
        .html("/communities/projet_x/members")
        .await;
    assert!(!html.contains("invite-guest"), "{html}");
    // A made-up code does not open closed sign-up.
    let b = Browser::new(&app.base);
    let html = b.html("/signup?invite=made-up").await;
    assert!(!html.contains("action=\"/signup\""), "{html}");
    let csrf = b.csrf("/login").await;
    let r = b
        .post_form(
            "/signup",
            &[
                ("csrf", csrf.as_str()),
                ("username", "eve"),
                ("email", "eve@partner.example"),
                ("password", PASSWORD),
                ("invite", "made-up"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("guests"), 0);
    let n: i64 = {
        let mut c = app.db.get().unwrap();
        users::table
            .filter(users::username.eq("eve"))
            .count()
            .get_result(&mut *c)
            .unwrap()
    };
    assert_eq!(n, 0);
    drop((co.root, co.bob));
}

/// A week before a guest's access ends, the guest and whom invited them
/// are told by e-mail, once; the inviter's message leads to where they
/// renew it, and renewing makes the next end told again.
#[tokio::test]
async fn the_guest_and_their_inviter_are_told_before_the_access_ends() {
    if !smtp::available() {
        return;
    }
    let co = company(true).await;
    let app = &co.app;
    let code = invite_guest(&co, "nina@partner.example", 1).await;
    sign_up_guest(&co, &code, "nina", "nina@partner.example").await;
    co.server.confirm_addresses(&app.base, 4).await;
    let nina_id = id_of(app, "nina");
    let remind = || {
        let mut c = app.db.get().unwrap();
        ruche::accounts::guest::remind_due(&mut c, &app.config.accounts).unwrap()
    };
    // A month ahead: nothing yet.
    assert_eq!(remind(), 0);
    let soon = ruche::db::now() + chrono::Duration::days(3);
    {
        let mut c = app.db.get().unwrap();
        diesel::update(guests::table.find(nina_id))
            .set(guests::expires_at.eq(soon))
            .execute(&mut *c)
            .unwrap();
    }
    assert_eq!(remind(), 1);
    assert_eq!(remind(), 0, "once");
    let mails = co.server.wait_kind("guest_ending", 2).await;
    let to_nina = mails
        .iter()
        .find(|m| m.to == "nina@partner.example")
        .unwrap();
    let to_ana = mails.iter().find(|m| m.to == "ana@example.com").unwrap();
    assert!(
        to_nina
            .subject
            .starts_with("Your guest access to Ruche ends on"),
        "{}",
        to_nina.subject
    );
    assert!(
        to_nina.text.contains("ask ana to renew it"),
        "{}",
        to_nina.text
    );
    assert!(
        to_ana.subject.starts_with("nina's guest access ends on"),
        "{}",
        to_ana.subject
    );
    assert!(
        to_ana.text.contains("/communities/projet_x/members"),
        "{}",
        to_ana.text
    );
    // Renewed: the next end is told again, when it comes.
    let r = co.ana.post("/guests/nina/renew", json!({})).await;
    assert_eq!(r.status, StatusCode::OK);
    let reminded: bool = {
        let mut c = app.db.get().unwrap();
        guests::table
            .find(nina_id)
            .select(guests::reminded)
            .first(&mut *c)
            .unwrap()
    };
    assert!(!reminded);
    assert_eq!(remind(), 0);
    drop((co.root, co.bob));
}
