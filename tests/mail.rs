//! E-mail through a real SMTP server (aiosmtpd): password links, welcomes
//! and invitations arrive once, in the recipient's language, with the right
//! links and headers; nothing is lost or doubled when the server is away
//! or when two processes share the database.

mod common;

use common::smtp::{self, Smtp};
use common::{location, TestApp, PASSWORD};
use diesel::prelude::*;
use reqwest::StatusCode;
use ruche::db::schema::{mail_queue, password_resets};
use serde_json::json;

async fn app_with(smtp_url: &str) -> TestApp {
    let url = smtp_url.to_string();
    TestApp::start_with(move |c| {
        c.mail.smtp_url = url;
        c.mail.retry_base_ms = 100;
        c.federation.poll_interval_ms = 100;
    })
    .await
}

/// (kind, status, attempts, detail) of every queued message, oldest first.
fn queue(app: &TestApp) -> Vec<(String, String, i32, String)> {
    let mut c = app.db.get().unwrap();
    mail_queue::table
        .order(mail_queue::id)
        .select((
            mail_queue::kind,
            mail_queue::status,
            mail_queue::attempts,
            mail_queue::detail,
        ))
        .load(&mut *c)
        .unwrap()
}

/// Waits until no message is pending (5 s at most).
async fn settled(app: &TestApp) {
    for _ in 0..200 {
        if queue(app).iter().all(|(_, s, _, _)| s != "pending") {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("messages still pending: {:?}", queue(app));
}

async fn forgot(app: &TestApp, login: &str) -> (StatusCode, String) {
    let b = common::Browser::new(&app.base);
    // The sign-in page always has a form (this one has none with e-mail off).
    let csrf = b.csrf("/login").await;
    let r = b
        .post_form(
            "/password/forgot",
            &[("csrf", csrf.as_str()), ("login", login)],
        )
        .await;
    (r.status(), r.text().await.unwrap())
}

#[tokio::test]
async fn a_password_link_arrives_once_works_once_and_ends_the_sessions() {
    if !smtp::available() {
        return;
    }
    let server = Smtp::start().await;
    let app = app_with(&server.url()).await;
    let ana_api = app.user("ana").await;
    let before = app.browser_login("ana").await;
    assert_eq!(before.get("/settings").await.status(), StatusCode::OK);

    server.confirm_addresses(&app.base, 1).await;
    let (status, page) = forgot(&app, "ANA@example.com").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("If an account matches"), "{page}");
    let mails = server.wait_kind("password_reset", 1).await;
    let m = &mails[0];
    assert_eq!(m.to, "ana@example.com");
    assert!(m.subject.contains("new password"), "{}", m.subject);
    assert!(m.from.starts_with("noreply@"), "{}", m.from);
    // A password link is transactional: no unsubscribe link.
    assert!(m.header("List-Unsubscribe").is_none(), "{:?}", m.headers);
    assert_eq!(m.header("Auto-Submitted"), Some("auto-generated"));
    assert_eq!(m.header("Content-Language"), Some("en"));
    assert!(m.message_id.contains("password_reset"), "{}", m.message_id);
    let link = m.link(&format!("{}/password/reset/", app.base));
    assert!(m.html.contains(&link), "the HTML part carries the link");
    assert!(m.text.contains("60 minutes"), "{}", m.text);
    // The secret leaves the queue once sent.
    settled(&app).await;
    let q = queue(&app);
    assert_eq!(q.len(), 2, "a welcome, then the link: {q:?}");
    assert_eq!(q[1].0, "password_reset");
    assert_eq!((q[1].1.as_str(), q[1].3.as_str()), ("sent", ""));

    // Opening the link changes nothing (mail scanners open links).
    let path = link.trim_start_matches(&app.base).to_string();
    let b = common::Browser::new(&app.base);
    let form = b.get(&path).await;
    assert_eq!(form.status(), StatusCode::OK);
    let html = form.text().await.unwrap();
    assert!(html.contains("New password for ana"), "{html}");
    let csrf = common::extract_csrf(&html).unwrap();
    // A weak password is refused and the link still works.
    let r = b
        .post_form(&path, &[("csrf", csrf.as_str()), ("password", "short")])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = b
        .post_form(
            &path,
            &[
                ("csrf", csrf.as_str()),
                ("password", "a brand new password"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/login?reset=1");
    // The session opened before is over, and so is the API token made
    // with the old password; the old password is refused.
    assert_eq!(
        before.get("/settings").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(ana_api.get("/me").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.token_request("ana", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.token_request("ana", "a brand new password")
            .await
            .status(),
        StatusCode::CREATED
    );
    // The link worked once.
    let again = b.get(&path).await;
    assert_eq!(again.status(), StatusCode::FORBIDDEN);
    assert!(again
        .text()
        .await
        .unwrap()
        .contains("expired or was already used"));
    let r = b
        .post_form(
            &path,
            &[
                ("csrf", csrf.as_str()),
                ("password", "yet another password"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.token_request("ana", "yet another password")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    // The same through the API: a forged secret is refused.
    let api = app.client();
    let r = api
        .post(app.url("/api/v1/auth/password/reset"))
        .json(&json!({"token": "forged", "password": "whatever password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "reset_link_invalid");
    assert_eq!(server.count_kind("password_reset"), 1, "one link in all");
}

#[tokio::test]
async fn asking_gives_no_hint_and_is_limited_per_hour() {
    if !smtp::available() {
        return;
    }
    let server = Smtp::start().await;
    let app = app_with(&server.url()).await;
    let admin = app.user("root").await;
    app.user("bob").await;
    app.user("gone").await;
    let r = admin.post("/admin/users/gone/disable", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);

    let (s1, unknown) = forgot(&app, "nobody@example.com").await;
    let (s2, disabled) = forgot(&app, "gone").await;
    let (s3, real) = forgot(&app, "bob").await;
    assert_eq!(
        (s1, s2, s3),
        (StatusCode::OK, StatusCode::OK, StatusCode::OK)
    );
    let strip = |p: &str| p.replace(&common::extract_csrf(p).unwrap_or_default(), "");
    assert_eq!(strip(&unknown), strip(&real), "the same page either way");
    assert_eq!(strip(&disabled), strip(&real));
    // Three more for bob: only three links an hour.
    for _ in 0..3 {
        assert_eq!(forgot(&app, "bob@example.com").await.0, StatusCode::OK);
    }
    let mails = server.wait_kind("password_reset", 3).await;
    settled(&app).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(server.count_kind("password_reset"), 3, "{mails:?}");
    assert!(mails.iter().all(|m| m.to == "bob@example.com"));
    assert_eq!(app.count("password_resets"), 3);

    // The API answers alike, and refuses an empty login.
    let c = app.client();
    for login in ["nobody", "bob"] {
        let r = c
            .post(app.url("/api/v1/auth/password/forgot"))
            .json(&json!({ "login": login }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED);
    }
    let r = c
        .post(app.url("/api/v1/auth/password/forgot"))
        .json(&json!({ "login": " " }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.count("password_resets"), 3, "still limited");
}

#[tokio::test]
async fn messages_are_in_the_recipients_language_and_can_be_unsubscribed_in_one_click() {
    if !smtp::available() {
        return;
    }
    let server = Smtp::start().await;
    let app = app_with(&server.url()).await;
    // Sign-up from a French browser: a welcome in French.
    let c = app.client();
    let r = c
        .post(app.url("/api/v1/accounts"))
        .header("accept-language", "fr-FR,fr;q=0.9")
        .json(&json!({"username": "zoe", "email": "zoe@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let mails = server.wait_kind("confirm_address", 1).await;
    let w = &mails[0];
    assert_eq!(w.subject, "Bienvenue sur Ruche");
    assert_eq!(w.header("Content-Language"), Some("fr"));
    assert!(w.text.contains("Bonjour zoe,"), "{}", w.text);
    assert!(w.text.contains("confirmer que cette adresse"), "{}", w.text);
    assert!(w
        .text
        .contains(&format!("{}/account/email/confirm/", app.base)));
    // Asked for by the person: no unsubscribe link.
    assert!(w.header("List-Unsubscribe").is_none());
    server.confirm_addresses(&app.base, 1).await;

    // An invitation (zoe, the first account, administers the site) carries
    // the one-click unsubscribe link of its address.
    let zoe = app.login_api("zoe").await;
    let r = zoe
        .post(
            "/admin/invitations",
            json!({"email": "newcomer@example.com", "locale": "fr"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    assert_eq!(r.json["emailed"], true);
    let invite = server.wait_kind("invitation", 1).await.pop().unwrap();
    assert_eq!(invite.to, "newcomer@example.com");
    assert_eq!(invite.subject, "zoe vous invite sur Ruche");
    let code = r.json["code"].as_str().unwrap().to_string();
    assert!(invite.text.contains(&format!("/signup?invite={code}")));
    let unsub = invite
        .header("List-Unsubscribe")
        .expect("an unsubscribe link");
    assert_eq!(
        invite.header("List-Unsubscribe-Post"),
        Some("List-Unsubscribe=One-Click")
    );
    let unsub = unsub
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_string();
    assert!(unsub.starts_with(&format!("{}/mail/unsubscribe/", app.base)));
    assert!(invite.text.contains(&unsub), "the text part shows it too");

    // zoe chose English since: a password link comes in English even when
    // asked from a French page.
    assert_eq!(
        zoe.patch("/me", json!({"locale": "en"})).await.status,
        StatusCode::OK
    );
    let b = common::Browser::new(&app.base);
    let r = b.get_lang("/password/forgot", "fr").await;
    let csrf = common::extract_csrf(&r.text().await.unwrap()).unwrap();
    let r = b
        .client
        .post(app.url("/password/forgot"))
        .header("accept-language", "fr")
        .form(&[("csrf", csrf.as_str()), ("login", "zoe")])
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("Si un compte correspond"));
    let mails = server.wait_kind("password_reset", 1).await;
    assert!(
        mails[0].subject.starts_with("Choose a new password"),
        "{}",
        mails[0].subject
    );

    // Opening the unsubscribe link changes nothing; the one-click POST of a
    // mail program (no cookie, no form token) does.
    let page = c.get(&unsub).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("newcomer@example.com"));
    let r = c
        .post(&unsub)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // The page offers to write again, and does.
    let again = unsub.replace("/mail/unsubscribe/", "/mail/resubscribe/");
    let page = c.get(&unsub).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("/mail/resubscribe/"), "{page}");
    let r = c.post(&again).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("will receive e-mails from this site again"));
    let r = c
        .post(&unsub)
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // A forged link is a 404 and changes nothing.
    let r = c
        .post(app.url("/mail/unsubscribe/forged"))
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let page = c.get(&unsub).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("newcomer@example.com"));

    // Unsubscribed: another invitation to the address is dropped; what the
    // person asks for still arrives (the welcome that confirms the address
    // after signing up, a password link).
    let r = zoe
        .post(
            "/admin/invitations",
            json!({"email": "Newcomer@Example.com"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    settled(&app).await;
    let q = queue(&app);
    assert_eq!(q.last().unwrap().1, "dropped", "{q:?}");
    assert_eq!(server.count_kind("invitation"), 1);
    let r = c
        .post(app.url("/api/v1/accounts"))
        .json(&json!({"username": "newcomer", "email": "newcomer@example.com", "password": PASSWORD, "invite": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    server.wait_kind("confirm_address", 2).await;
    assert_eq!(forgot(&app, "newcomer").await.0, StatusCode::OK);
    let resets = server.wait_kind("password_reset", 2).await;
    assert_eq!(resets[1].to, "newcomer@example.com");
}

#[tokio::test]
async fn nothing_is_lost_or_doubled_while_the_smtp_server_is_away() {
    if !smtp::available() {
        return;
    }
    let port = smtp::free_port();
    let mut server = Smtp::stopped_on(port);
    let app = app_with(&server.url()).await;
    let admin = app.user("root").await;
    for i in 0..3 {
        let r = admin
            .post(
                "/admin/invitations",
                json!({"email": format!("p{i}@example.com")}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    // The server is down: the messages wait and are tried again.
    for _ in 0..200 {
        if queue(&app).iter().all(|(_, _, a, _)| *a >= 2) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let q = queue(&app);
    assert!(
        q.iter().all(|(_, s, a, _)| s == "pending" && *a >= 2),
        "{q:?}"
    );
    // The administrators see them waiting after a failure.
    let r = admin.get("/admin/mail").await;
    assert_eq!(r.json["enabled"], true);
    assert_eq!(
        r.json["troubles"].as_array().unwrap().len(),
        4,
        "{:?}",
        r.json
    );
    server.resume().await;
    server.wait_kind("confirm_address", 1).await;
    let mails = server.wait_kind("invitation", 3).await;
    settled(&app).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(server.raw().len(), 4, "each once: {mails:?}");
    let mut to: Vec<String> = mails.iter().map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(to, ["p0@example.com", "p1@example.com", "p2@example.com"]);
    // A stop and a restart in the middle of the queue's life lose nothing.
    server.stop();
    let r = admin
        .post("/admin/invitations", json!({"email": "p3@example.com"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    server.resume().await;
    server.wait_kind("invitation", 4).await;
    settled(&app).await;
    assert_eq!(server.raw().len(), 5);
}

#[tokio::test]
async fn two_processes_on_one_database_send_each_message_once() {
    if !smtp::available() {
        return;
    }
    let server = Smtp::start().await;
    let app = app_with(&server.url()).await;
    let second = app.another_server().await;
    let admin = app.user("root").await;
    let admin2 = common::Api {
        base: second.clone(),
        token: admin.token.clone(),
        client: app.client(),
    };
    for i in 0..12 {
        let api = if i % 2 == 0 { &admin } else { &admin2 };
        let r = api
            .post(
                "/admin/invitations",
                json!({"email": format!("x{i}@example.com")}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    server.wait_kind("invitation", 12).await;
    settled(&app).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let mails = server.all();
    assert_eq!(mails.len(), 13, "each message once (and root's welcome)");
    let mut ids: Vec<&str> = mails.iter().map(|m| m.message_id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 13);
}

#[tokio::test]
async fn administrators_send_password_links_and_invitations_from_the_console() {
    if !smtp::available() {
        return;
    }
    let server = Smtp::start().await;
    let app = app_with(&server.url()).await;
    app.user("root").await;
    let bob = app.user("bob").await;
    let page = app.browser_login("root").await;
    let html = page.html("/admin").await;
    assert!(
        html.contains("/admin/users/bob/reset"),
        "a button per person"
    );
    assert!(html.contains("E-mail is on."));
    let csrf = common::extract_csrf(&html).unwrap();
    let r = page
        .post_form(
            "/admin/users/bob/reset",
            &[("csrf", csrf.as_str()), ("back", "/admin?q=bob")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    assert_eq!(to, "/admin?q=bob&notice=reset_sent#people");
    assert!(page.html(&to).await.contains("is on its way"));
    let m = &server.wait_kind("password_reset", 1).await[0];
    assert_eq!(m.to, "bob@example.com");
    assert!(m.text.contains("/password/reset/"));

    // Invitation by e-mail from the page, in the language chosen.
    let r = page
        .post_form(
            "/admin/invitations",
            &[
                ("csrf", csrf.as_str()),
                ("email", "friend@example.com"),
                ("locale", "fr"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("The invitation is on its way"));
    let inv = server.wait_kind("invitation", 1).await.pop().unwrap();
    assert_eq!(inv.to, "friend@example.com");
    assert!(inv.subject.contains("vous invite"), "{}", inv.subject);
    // Bad input: an address that has an account, a malformed one; nothing
    // stored.
    let invitations = app.count("invitations");
    for (email, status) in [
        ("bob@example.com", StatusCode::CONFLICT),
        ("not an address", StatusCode::BAD_REQUEST),
    ] {
        let r = page
            .post_form(
                "/admin/invitations",
                &[("csrf", csrf.as_str()), ("email", email), ("locale", "en")],
            )
            .await;
        assert_eq!(r.status(), status, "{email}");
    }
    assert_eq!(app.count("invitations"), invitations);

    // The API: administrators only; unknown people are a 404.
    let r = bob
        .post("/admin/users/root/password-reset", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let root = app.login_api("root").await;
    let r = root
        .post("/admin/users/nobody/password-reset", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = root
        .post("/admin/users/bob/password-reset", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    server.wait_kind("password_reset", 2).await;
    let r = root
        .post(
            "/admin/invitations",
            json!({"email": "a@example.com", "locale": "de"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "locale_invalid");
}

#[tokio::test]
async fn with_e_mail_off_the_pages_say_so_and_nothing_is_queued() {
    let app = TestApp::start().await;
    let root = app.user("root").await;
    app.user("bob").await;
    let (status, page) = forgot(&app, "bob").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("sends no e-mail"), "{page}");
    let b = app.browser_login("root").await;
    let html = b.html("/admin").await;
    assert!(html.contains("E-mail is off"));
    assert!(!html.contains("/admin/users/bob/reset"));
    let r = root
        .post("/admin/users/bob/password-reset", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "mail_off");
    let r = root
        .post("/admin/invitations", json!({"email": "x@example.com"}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // An invitation without an address still works, as before.
    let r = root.post("/admin/invitations", json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(app.count("mail_queue"), 0);
    assert_eq!(app.count("password_resets"), 0);
    let mut c = app.db.get().unwrap();
    let n: i64 = password_resets::table.count().get_result(&mut *c).unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn an_expired_link_is_refused_and_not_sent() {
    if !smtp::available() {
        return;
    }
    let port = smtp::free_port();
    let mut server = Smtp::stopped_on(port);
    let app = app_with(&server.url()).await;
    app.user("ana").await;
    assert_eq!(forgot(&app, "ana").await.0, StatusCode::OK);
    // The link is written after the answer (its time must not tell).
    for _ in 0..200 {
        if app.count("password_resets") == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // The link expires while the server is away: it is not sent.
    {
        let mut c = app.db.get().unwrap();
        diesel::update(password_resets::table)
            .set(password_resets::expires_at.eq(ruche::db::now() - chrono::Duration::minutes(1)))
            .execute(&mut *c)
            .unwrap();
    }
    server.resume().await;
    settled(&app).await;
    let q = queue(&app);
    assert_eq!(q[1].0, "password_reset");
    assert_eq!(q[1].1, "dropped", "{q:?}");
    assert_eq!(q[1].3, "", "its secret is forgotten");
    assert_eq!(server.count_kind("password_reset"), 0);
}

async fn app_notifying(smtp_url: &str) -> TestApp {
    let url = smtp_url.to_string();
    TestApp::start_with(move |c| {
        c.mail.smtp_url = url;
        c.mail.retry_base_ms = 100;
        c.mail.notify_delay_seconds = 1;
        c.federation.poll_interval_ms = 100;
    })
    .await
}

#[tokio::test]
async fn mentions_and_replies_are_e_mailed_unless_seen_first_and_thread_together() {
    if !smtp::available() {
        return;
    }
    let server = Smtp::start().await;
    let app = app_notifying(&server.url()).await;
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    server.confirm_addresses(&app.base, 2).await;

    // ana's post; bob answers it, then mentions her in another comment.
    let post = ana.post_text("Who checked the **audit** report?").await;
    let r = bob
        .post(
            &format!("/posts/{post}/comments"),
            json!({"body": "I did, on Monday. Three findings."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let reply = r.json["id"].as_i64().unwrap();
    let mails = server.wait_kind("notification", 1).await;
    let m = &mails[0];
    assert_eq!(m.to, "ana@example.com");
    assert_eq!(m.subject, "bob replied to you");
    assert!(
        m.text.contains("> I did, on Monday. Three findings."),
        "{}",
        m.text
    );
    assert!(
        m.text.contains(&format!("{}/posts/{reply}", app.base)),
        "{}",
        m.text
    );
    assert!(m.text.contains(&format!("{}/settings#mail", app.base)));
    assert!(m.header("List-Unsubscribe").is_some());
    let thread = format!("<ruche.thread.{post}@127.0.0.1>");
    assert_eq!(m.header("In-Reply-To"), Some(thread.as_str()));
    assert_eq!(m.header("References"), Some(thread.as_str()));

    let r = bob
        .post(
            &format!("/posts/{post}/comments"),
            json!({"body": "@ana the second finding is yours"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let mails = server.wait_kind("notification", 3).await;
    let subjects: Vec<&str> = mails.iter().map(|m| m.subject.as_str()).collect();
    assert!(subjects.contains(&"bob mentioned you"), "{subjects:?}");
    assert!(
        mails
            .iter()
            .all(|m| m.header("References") == Some(thread.as_str())),
        "one conversation, one thread"
    );

    // Seen on the site before the delay: not e-mailed.
    let before = server.count_kind("notification");
    bob.post_text("@ana lunch at noon?").await;
    let page = app.browser_login("ana").await;
    assert!(page.html("/notifications").await.contains("mentioned you"));
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    settled(&app).await;
    assert_eq!(server.count_kind("notification"), before);
    let q = queue(&app);
    assert_eq!(q.last().unwrap().1, "dropped", "{q:?}");
}

#[tokio::test]
async fn each_person_chooses_which_notifications_arrive_by_e_mail() {
    if !smtp::available() {
        return;
    }
    let server = Smtp::start().await;
    let app = app_notifying(&server.url()).await;
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    server.confirm_addresses(&app.base, 3).await;

    let r = ana.get("/me/mail-preferences").await;
    assert_eq!(r.json["enabled"], true);
    assert_eq!(r.json["preferences"]["mention"], "now");
    assert_eq!(r.json["preferences"]["follow"], "digest");

    // Following is in the digest by default, not at once.
    assert_eq!(
        carol.post("/people/ana/follow", json!({})).await.status,
        StatusCode::NO_CONTENT
    );
    // Bad choices change nothing.
    for body in [
        json!({"mention": "sometimes"}),
        json!({"nonsense": "now"}),
        json!({"follow": "now", "mention": "often"}),
    ] {
        let r = ana
            .send_json(reqwest::Method::PUT, "/me/mail-preferences", body)
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.json);
    }
    assert_eq!(
        ana.get("/me/mail-preferences").await.json["preferences"]["follow"],
        "digest"
    );

    // From the settings page: follows by e-mail, mentions not.
    let page = app.browser_login("ana").await;
    let html = page.html("/settings").await;
    assert!(html.contains("id=\"mail-follow\""), "a choice per kind");
    let csrf = common::extract_csrf(&html).unwrap();
    let r = page
        .post_form(
            "/settings/mail",
            &[
                ("csrf", csrf.as_str()),
                ("follow", "now"),
                ("mention", "never"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(page
        .html("/settings?done=mail")
        .await
        .contains("Your e-mail choices are saved."));
    let queued = app.count("mail_queue");
    bob.post_text("@ana are you there?").await;
    assert_eq!(
        app.count("mail_queue"),
        queued,
        "no e-mail for a mention now"
    );
    assert_eq!(
        bob.post("/people/ana/follow", json!({})).await.status,
        StatusCode::NO_CONTENT
    );
    let m = server.wait_kind("notification", 1).await.pop().unwrap();
    assert_eq!(m.subject, "bob now follows you");
    assert!(m.text.contains(&format!("{}/people/bob", app.base)));
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    settled(&app).await;
    assert_eq!(
        server.count_kind("notification"),
        1,
        "carol's follow came before"
    );
}

#[tokio::test]
async fn a_person_who_chose_no_language_gets_e_mails_in_their_browsers() {
    if !smtp::available() {
        return;
    }
    let server = Smtp::start().await;
    let app = app_notifying(&server.url()).await;
    app.user("ana").await;
    let bob = app.user("bob").await;
    server.confirm_addresses(&app.base, 2).await;
    // ana signs in from a French browser.
    let b = common::Browser::new(&app.base);
    let csrf = b.csrf("/login").await;
    let r = b
        .client
        .post(app.url("/login"))
        .header("accept-language", "fr-FR,fr;q=0.9,en;q=0.5")
        .form(&[
            ("csrf", csrf.as_str()),
            ("login", "ana"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    bob.post_text("@ana le rapport est prêt").await;
    let m = server.wait_kind("notification", 1).await.pop().unwrap();
    assert_eq!(m.subject, "bob vous mentionne");
    assert_eq!(m.header("Content-Language"), Some("fr"));
    assert!(
        m.text.contains("Ouvrir la conversation\u{a0}:"),
        "{}",
        m.text
    );
}

/// Makes `user`'s digest due now.
fn digest_due(app: &TestApp, user: &str) {
    use ruche::db::schema::{mail_digests, users};
    let mut c = app.db.get().unwrap();
    let id: i64 = users::table
        .filter(users::username.eq(user))
        .select(users::id)
        .first(&mut *c)
        .unwrap();
    diesel::update(mail_digests::table.find(id))
        .set(mail_digests::next_at.eq(ruche::db::now() - chrono::Duration::minutes(1)))
        .execute(&mut *c)
        .unwrap();
}

#[tokio::test]
async fn the_digest_tells_what_was_missed_best_first_once_and_only_when_there_is_news() {
    if !smtp::available() {
        return;
    }
    let server = Smtp::start().await;
    let app = app_notifying(&server.url()).await;
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    server.confirm_addresses(&app.base, 3).await;
    {
        let mut c = app.db.get().unwrap();
        assert_eq!(ruche::digest::ensure_rows(&mut c).unwrap(), 3);
    }
    // ana signs in from Paris in winter (UTC+1): her digest leaves at 7:00
    // UTC.
    let b = common::Browser::new(&app.base);
    let csrf = b.csrf("/login").await;
    let r = b
        .post_form(
            "/login",
            &[
                ("csrf", csrf.as_str()),
                ("login", "ana"),
                ("password", PASSWORD),
                ("tz", "60"),
                ("tzname", "Europe/Paris"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let prefs = ana.get("/me/mail-preferences").await.json;
    assert_eq!(prefs["digest"], "daily");
    assert!(
        prefs["next_digest_at"]
            .as_str()
            .unwrap()
            .ends_with("T07:00:00Z"),
        "{prefs}"
    );
    // Her browser named her zone, which follows summer time.
    assert_eq!(prefs["time_zone"], "Europe/Paris");
    let r = ana
        .send_json(
            reqwest::Method::PUT,
            "/me/mail-preferences",
            json!({"time_zone": "Mars/Olympus", "follow": "now"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "time_zone_invalid");
    let prefs = ana.get("/me/mail-preferences").await.json;
    assert_eq!(prefs["time_zone"], "Europe/Paris");
    assert_eq!(prefs["preferences"]["follow"], "digest", "nothing changed");
    let r = ana
        .send_json(
            reqwest::Method::PUT,
            "/me/mail-preferences",
            json!({"time_zone": "America/New_York"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(r.json["time_zone"], "America/New_York");
    assert!(
        r.json["next_digest_at"]
            .as_str()
            .unwrap()
            .ends_with("T13:00:00Z"),
        "{:?}",
        r.json
    );
    let r = ana
        .send_json(
            reqwest::Method::PUT,
            "/me/mail-preferences",
            json!({"time_zone": "Europe/Paris"}),
        )
        .await;
    assert_eq!(r.json["time_zone"], "Europe/Paris");

    assert_eq!(
        ana.post("/people/bob/follow", json!({})).await.status,
        StatusCode::NO_CONTENT
    );
    let mut posts = Vec::new();
    for i in 1..=7 {
        posts.push(bob.post_text(&format!("Bob's **news** number {i}")).await);
    }
    carol.post_text("Carol's post, not followed by ana").await;
    for _ in 0..2 {
        let r = carol
            .post(
                &format!("/posts/{}/comments", posts[2]),
                json!({"body": "Interesting"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    // A follower: in the digest by default, not at once.
    assert_eq!(
        carol.post("/people/ana/follow", json!({})).await.status,
        StatusCode::NO_CONTENT
    );

    // All this happened a while ago (a digest leaves the last minutes to
    // the next one, for transactions still committing).
    {
        use ruche::db::schema::{content, notifications};
        let mut c = app.db.get().unwrap();
        let earlier = ruche::db::now() - chrono::Duration::minutes(30);
        diesel::update(content::table)
            .set(content::created_at.eq(earlier))
            .execute(&mut *c)
            .unwrap();
        diesel::update(notifications::table)
            .set(notifications::created_at.eq(earlier))
            .execute(&mut *c)
            .unwrap();
    }
    digest_due(&app, "ana");
    let d = server.wait_kind("digest", 1).await.pop().unwrap();
    assert_eq!(d.to, "ana@example.com");
    assert_eq!(d.subject, "What you missed on Ruche");
    assert!(d.header("List-Unsubscribe").is_some());
    let text = &d.text;
    assert!(text.contains("Unread notifications: 1"), "{text}");
    assert!(text.contains("carol now follows you"), "{text}");
    assert!(text.contains("In your feed"), "{text}");
    // The most discussed post comes first, the words without their marks.
    let first = text.find("Bob's news number 3").expect("post 3 shown");
    let other = text.find("Bob's news number 7").expect("post 7 shown");
    assert!(first < other, "{text}");
    assert!(!text.contains("**news**"));
    assert!(text.contains(&format!("{}/posts/{}", app.base, posts[2])));
    assert!(
        text.contains("2 more posts from people you follow"),
        "{text}"
    );
    assert!(!text.contains("Carol's post"), "only what ana follows");
    assert!(d.html.contains("Bob&#39;s news number 3") || d.html.contains("Bob's news number 3"));
    assert_eq!(
        server.count_kind("notification"),
        0,
        "no follow e-mail at once"
    );

    // Due again at once with nothing new: no e-mail.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    digest_due(&app, "ana");
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    settled(&app).await;
    assert_eq!(server.count_kind("digest"), 1);
    let q = queue(&app);
    let last = q.iter().rev().find(|(k, _, _, _)| k == "digest").unwrap();
    assert_eq!(last.1, "dropped", "{q:?}");

    // Choices: never stops it; a bad choice changes nothing.
    let r = ana
        .send_json(
            reqwest::Method::PUT,
            "/me/mail-preferences",
            json!({"digest": "sometimes", "follow": "now"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "digest_invalid");
    assert_eq!(
        ana.get("/me/mail-preferences").await.json["preferences"]["follow"],
        "digest"
    );
    let r = ana
        .send_json(
            reqwest::Method::PUT,
            "/me/mail-preferences",
            json!({"digest": "never"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(r.json["digest"], "never");
    bob.post_text("Another one").await;
    digest_due(&app, "ana");
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_eq!(
        queue(&app)
            .iter()
            .filter(|(k, _, _, _)| k == "digest")
            .count(),
        2,
        "nothing queued for someone who said never"
    );

    // A disabled account's digest is moved on without a message (it does
    // not stay due, and piles up nothing).
    let r = ana.post("/admin/users/carol/disable", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    digest_due(&app, "carol");
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    {
        use ruche::db::schema::{mail_digests, users};
        let mut c = app.db.get().unwrap();
        let next: chrono::NaiveDateTime = mail_digests::table
            .inner_join(users::table)
            .filter(users::username.eq("carol"))
            .select(mail_digests::next_at)
            .first(&mut *c)
            .unwrap();
        assert!(next > ruche::db::now(), "moved on: {next}");
    }
    assert_eq!(
        queue(&app)
            .iter()
            .filter(|(k, _, _, _)| k == "digest")
            .count(),
        2
    );
}

/// The one-click link of a message whose label is `label` (a line
/// "* label: address" of the text part).
fn action_link(m: &smtp::Mail, label: &str) -> String {
    let line = m
        .text
        .lines()
        .find(|l| l.starts_with(&format!("* {label}")) && l.contains("/mail/do/"))
        .unwrap_or_else(|| panic!("no \"{label}\" link in:\n{}", m.text));
    let url = line[line.find("http").unwrap()..].trim().to_string();
    assert!(m.html.contains(&url), "the HTML part has the same link");
    url
}

fn count<T>(app: &TestApp, f: impl FnOnce(&mut ruche::db::DbConn) -> T) -> T {
    let mut c = app.db.get().unwrap();
    f(&mut c)
}

#[tokio::test]
async fn one_click_links_act_once_from_a_confirmation_page_without_signing_in() {
    use ruche::db::schema::{
        community_members, follows, mail_actions, notifications, reactions, users,
    };
    if !smtp::available() {
        return;
    }
    let server = Smtp::start().await;
    let app = app_notifying(&server.url()).await;
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    server.confirm_addresses(&app.base, 2).await;
    let id_of = |name: &str| -> i64 {
        count(&app, |c| {
            users::table
                .filter(users::username.eq(name))
                .select(users::id)
                .first(c)
                .unwrap()
        })
    };
    let (ana_id, bob_id) = (id_of("ana"), id_of("bob"));
    let likes = |content: i64| -> i64 {
        count(&app, |c| {
            reactions::table
                .filter(reactions::content_id.eq(content))
                .filter(reactions::user_id.eq(ana_id))
                .filter(reactions::kind.eq("like"))
                .count()
                .get_result(c)
                .unwrap()
        })
    };
    let unread = || -> i64 {
        count(&app, |c| {
            notifications::table
                .filter(notifications::user_id.eq(ana_id))
                .filter(notifications::read_at.is_null())
                .count()
                .get_result(c)
                .unwrap()
        })
    };

    // bob answers ana: her e-mail offers a like and "mark as read".
    let post = ana.post_text("Who has the **audit** report?").await;
    let r = bob
        .post(
            &format!("/posts/{post}/comments"),
            json!({"body": "Here it is, page 12."}),
        )
        .await;
    let reply = r.json["id"].as_i64().unwrap();
    let m = server.wait_kind("notification", 1).await.remove(0);
    assert!(m.text.contains("Or act from here:"), "{}", m.text);
    let like = action_link(&m, "Like");
    let read = action_link(&m, "Mark as read");
    assert_ne!(like, read);
    let like_path = like.trim_start_matches(&app.base).to_string();

    // Opening the link (as a mail scanner does) changes nothing.
    let nobody = common::Browser::new(&app.base);
    let page = nobody.get(&like_path).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Like what bob wrote?"), "{html}");
    assert!(
        html.contains("Here it is, page 12."),
        "the words are quoted"
    );
    assert!(html.contains("You act as @ana."), "{html}");
    assert_eq!(likes(reply), 0);
    assert_eq!(unread(), 1);

    // The button acts, without a session or a form token, once.
    let done = nobody.post_form(&like_path, &[]).await;
    assert_eq!(done.status(), StatusCode::OK);
    let html = done.text().await.unwrap();
    assert!(html.contains("Done: you like what bob wrote."), "{html}");
    assert!(html.contains(&format!("href=\"/posts/{reply}\"")), "{html}");
    assert_eq!(likes(reply), 1);
    assert_eq!(unread(), 0, "acting reads the notification");
    let again = nobody.post_form(&like_path, &[]).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert!(again
        .text()
        .await
        .unwrap()
        .contains("This link has already been used."));
    // "Mark as read" still works on its own.
    let r = nobody
        .post_form(read.trim_start_matches(&app.base), &[])
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    // Forged, truncated and expired secrets are one "no such link", and
    // change nothing.
    let forged = format!("/mail/do/{}", "A".repeat(43));
    let truncated = &like_path[..like_path.len() - 4];
    for path in [forged.as_str(), truncated, "/mail/do/x"] {
        let r = nobody.get(path).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(r.text().await.unwrap().contains("This link is not valid"));
        assert_eq!(
            nobody.post_form(path, &[]).await.status(),
            StatusCode::NOT_FOUND
        );
    }

    // A follow, e-mailed at once by ana's choice: follow back.
    let r = ana
        .send_json(
            reqwest::Method::PUT,
            "/me/mail-preferences",
            json!({"follow": "now"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(
        bob.post("/people/ana/follow", json!({})).await.status,
        StatusCode::NO_CONTENT
    );
    let mails = server.wait_kind("notification", 2).await;
    let m = mails
        .iter()
        .find(|m| m.subject == "bob now follows you")
        .unwrap();
    let back = action_link(m, "Follow back");
    // An expired link is refused like an unknown one.
    let back_path = back.trim_start_matches(&app.base).to_string();
    count(&app, |c| {
        diesel::update(mail_actions::table.filter(mail_actions::action.eq("follow_back")))
            .set(
                mail_actions::expires_at
                    .eq(chrono::Utc::now().naive_utc() - chrono::Duration::minutes(1)),
            )
            .execute(c)
            .unwrap()
    });
    assert_eq!(
        nobody.post_form(&back_path, &[]).await.status(),
        StatusCode::NOT_FOUND
    );
    let ana_follows_bob = || -> i64 {
        count(&app, |c| {
            follows::table
                .filter(follows::follower_id.eq(ana_id))
                .filter(follows::followee_id.eq(bob_id))
                .count()
                .get_result(c)
                .unwrap()
        })
    };
    assert_eq!(ana_follows_bob(), 0);
    count(&app, |c| {
        diesel::update(mail_actions::table.filter(mail_actions::action.eq("follow_back")))
            .set(
                mail_actions::expires_at
                    .eq(chrono::Utc::now().naive_utc() + chrono::Duration::days(1)),
            )
            .execute(c)
            .unwrap()
    });
    let r = nobody.post_form(&back_path, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("Done: you follow bob."));
    assert_eq!(ana_follows_bob(), 1);

    // A join request: approve from the e-mail; the refusal beside it is
    // spent with it (one answer per request).
    let r = ana
        .post(
            "/communities",
            json!({"name": "audit", "title": "Audit team", "join_policy": "request"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    bob.post("/communities/audit/join", json!({})).await;
    let mails = server.wait_kind("notification", 3).await;
    let m = mails
        .iter()
        .find(|m| m.subject == "bob asks to join Audit team")
        .unwrap_or_else(|| panic!("{:?}", mails.iter().map(|m| &m.subject).collect::<Vec<_>>()));
    let approve = action_link(m, "Approve the request");
    let refuse = action_link(m, "Refuse the request");
    let html = nobody
        .get(approve.trim_start_matches(&app.base))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Let bob into Audit team?"), "{html}");
    let r = nobody
        .post_form(approve.trim_start_matches(&app.base), &[])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let status: String = count(&app, |c| {
        community_members::table
            .inner_join(users::table.on(users::id.eq(community_members::community_id)))
            .filter(users::username.eq("audit"))
            .filter(community_members::user_id.eq(bob_id))
            .select(community_members::status)
            .first(c)
            .unwrap()
    });
    assert_eq!(status, "member");
    let r = nobody
        .post_form(refuse.trim_start_matches(&app.base), &[])
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);

    // No longer possible (the post was deleted): nothing is done, the
    // page says so, and the link is not spent.
    let mention = bob.post_text("@ana can you check this?").await;
    let mails = server.wait_kind("notification", 4).await;
    let m = mails
        .iter()
        .find(|m| m.subject == "bob mentioned you")
        .unwrap();
    let like = action_link(m, "Like");
    assert!(bob
        .delete(&format!("/posts/{mention}"))
        .await
        .status
        .is_success());
    let r = nobody
        .post_form(like.trim_start_matches(&app.base), &[])
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("Nothing to do"));
    assert_eq!(likes(mention), 0);
    let open: i64 = count(&app, |c| {
        mail_actions::table
            .filter(mail_actions::action.eq("like"))
            .filter(mail_actions::used_at.is_null())
            .count()
            .get_result(c)
            .unwrap()
    });
    assert_eq!(open, 1, "the link is not spent");

    // Done on the site meanwhile: the link does nothing and says so.
    let again = bob.post_text("@ana one more thing").await;
    let mails = server.wait_kind("notification", 5).await;
    let m = mails
        .iter()
        .rfind(|m| m.subject == "bob mentioned you")
        .unwrap();
    let like = action_link(m, "Like");
    assert!(ana
        .put(&format!("/posts/{again}/reactions/like"))
        .await
        .status
        .is_success());
    let page = nobody.get(like.trim_start_matches(&app.base)).await;
    assert!(page.text().await.unwrap().contains("Nothing to do"));
    let r = nobody
        .post_form(like.trim_start_matches(&app.base), &[])
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
}

/// A reply fixture (`src/mail/fixtures`) from `from` to `reply`.
fn reply_fixture(name: &str, from: &str, reply: &str) -> Vec<u8> {
    let path = format!("{}/src/mail/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path)
        .unwrap()
        .replace("{{FROM}}", from)
        .replace("{{REPLY}}", reply)
        .replace('\n', "\r\n")
        .into_bytes()
}

/// Hands a message to Ruche's SMTP listener: the server's answer, or its
/// refusal.
async fn smtp_in(port: u16, from: &str, to: &str, raw: &[u8]) -> Result<String, String> {
    use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
    let t = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(port)
        .build();
    // An empty sender is a delivery report's.
    let from = (!from.is_empty()).then(|| from.parse().unwrap());
    let envelope = lettre::address::Envelope::new(from, vec![to.parse().unwrap()]).unwrap();
    t.send_raw(&envelope, raw)
        .await
        .map(|r| r.message().collect::<Vec<_>>().join(" "))
        .map_err(|e| format!("{e}"))
}

/// The comments under a post, as (author, body) pairs, oldest first.
async fn comments_of(api: &common::Api, post: i64) -> Vec<(String, String, Option<i64>)> {
    let r = api.get(&format!("/posts/{post}/comments")).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    r.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["author"]["username"].as_str().unwrap().to_string(),
                c["body"].as_str().unwrap().to_string(),
                c["reply_to_id"].as_i64(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_reply_by_e_mail_becomes_a_comment_of_its_recipient_only() {
    if !smtp::available() {
        return;
    }
    let server = Smtp::start().await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = server.url();
    let app = TestApp::start_with(move |c| {
        c.mail.smtp_url = url;
        c.mail.retry_base_ms = 100;
        c.mail.notify_delay_seconds = 1;
        c.mail.reply_to = "ruche@mail.example.com".into();
        c.mail.inbound_listen = format!("127.0.0.1:{port}");
        c.mail.inbound_max_bytes = 10 * 1024 * 1024;
        c.federation.poll_interval_ms = 100;
    })
    .await;
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    server.confirm_addresses(&app.base, 2).await;

    let post = ana.post_text("Who has the audit report?").await;
    let r = bob
        .post(
            &format!("/posts/{post}/comments"),
            json!({"body": "Here it is, page 12."}),
        )
        .await;
    let reply = r.json["id"].as_i64().unwrap();
    let m = server.wait_kind("notification", 1).await.remove(0);
    let address = m.header("Reply-To").expect("a reply address").to_string();
    let address = address
        .rsplit_once('<')
        .map(|(_, a)| a.trim_end_matches('>'))
        .unwrap_or(&address)
        .to_string();
    assert!(
        address.starts_with("ruche+r") && address.ends_with("@mail.example.com"),
        "{address}"
    );
    assert!(
        m.text.contains("Reply to this e-mail to comment"),
        "{}",
        m.text
    );

    // Gmail's reply, over SMTP: ana's words only, under bob's comment.
    let answer = smtp_in(
        port,
        "ana@example.com",
        &address,
        &reply_fixture("gmail_en.eml", "ana@example.com", &address),
    )
    .await
    .expect("taken");
    assert!(answer.contains("written"), "{answer}");
    let comments = comments_of(&ana, post).await;
    let last = comments.last().unwrap();
    assert_eq!(last.0, "ana");
    assert_eq!(
        last.1,
        "Thanks Bob, I will check page 12 tomorrow morning.\n\nCould you send the annex too?"
    );
    assert_eq!(last.2, Some(reply), "under the comment it answers");
    let n = comments.len();
    // Answering is reading the notification.
    let read: Option<chrono::NaiveDateTime> = count(&app, |c| {
        use ruche::db::schema::notifications;
        notifications::table
            .filter(notifications::content_id.eq(reply))
            .select(notifications::read_at)
            .first(c)
            .unwrap()
    });
    assert!(read.is_some());

    // Refused whole, nothing written: another sender with ana's address,
    // an address of ours that does not exist, an automatic answer, a
    // picture without text, unreadable headers, a 30 MB message.
    let refused = smtp_in(
        port,
        "bob@example.com",
        &address,
        &reply_fixture("gmail_en.eml", "bob@example.com", &address),
    )
    .await
    .unwrap_err();
    assert!(refused.contains("only from the address"), "{refused}");
    let unknown = format!("ruche+r{}@mail.example.com", "0".repeat(32));
    let refused = smtp_in(
        port,
        "ana@example.com",
        &unknown,
        &reply_fixture("gmail_en.eml", "ana@example.com", &unknown),
    )
    .await
    .unwrap_err();
    assert!(refused.contains("no such reply address"), "{refused}");
    let dropped = smtp_in(
        port,
        "ana@example.com",
        &address,
        &reply_fixture("out_of_office.eml", "ana@example.com", &address),
    )
    .await
    .expect("an automatic answer is taken and dropped");
    assert!(dropped.contains("dropped"), "{dropped}");
    let refused = smtp_in(
        port,
        "ana@example.com",
        &address,
        &reply_fixture("picture_only.eml", "ana@example.com", &address),
    )
    .await
    .unwrap_err();
    assert!(refused.contains("no text"), "{refused}");
    let refused = smtp_in(
        port,
        "ana@example.com",
        &address,
        b"this is not\r\na message\r\n",
    )
    .await
    .unwrap_err();
    assert!(refused.contains("cannot be read"), "{refused}");
    let mut huge = reply_fixture("thunderbird_en.eml", "ana@example.com", &address);
    let filler = "x".repeat(76) + "\r\n";
    while huge.len() < 30 * 1024 * 1024 {
        huge.extend_from_slice(filler.as_bytes());
    }
    let refused = smtp_in(port, "ana@example.com", &address, &huge)
        .await
        .unwrap_err();
    assert!(refused.contains("too large"), "{refused}");
    // Lines ended by a bare LF are refused (SMTP smuggling), over raw SMTP.
    let answer = raw_smtp(
        port,
        &address,
        "From: ana@example.com\nSubject: x\r\n\r\nHidden\n.\nMAIL FROM:<eve@example.com>\r\n",
    )
    .await;
    assert!(answer.contains("550 5.6.0"), "{answer}");
    // An expired reply address is refused like an unknown one.
    let expire = |minutes: i64| {
        count(&app, |c| {
            use ruche::db::schema::mail_actions;
            diesel::update(mail_actions::table.filter(mail_actions::action.eq("reply")))
                .set(
                    mail_actions::expires_at
                        .eq(chrono::Utc::now().naive_utc() + chrono::Duration::minutes(minutes)),
                )
                .execute(c)
                .unwrap()
        })
    };
    expire(-1);
    let refused = smtp_in(
        port,
        "ana@example.com",
        &address,
        &reply_fixture("apple_fr.eml", "ana@example.com", &address),
    )
    .await
    .unwrap_err();
    assert!(refused.contains("no such reply address"), "{refused}");
    expire(60);
    // The same message twice (its mail server did not hear the answer):
    // written once.
    let again = smtp_in(
        port,
        "ana@example.com",
        &address,
        &reply_fixture("gmail_en.eml", "ana@example.com", &address),
    )
    .await
    .unwrap();
    assert!(again.contains("taken before"), "{again}");
    // 30 MB through the command: refused whole.
    let out = receive_cli(&app, &address, &huge);
    assert_eq!(out.0, Some(65), "{}", out.1);
    assert_eq!(comments_of(&ana, post).await.len(), n, "nothing written");

    // The same address works again (Outlook, HTML only, in French), and
    // through the command a mail server pipes into.
    let raw = reply_fixture("outlook_fr.eml", "ana@example.com", &address);
    let out = receive_cli(&app, &address, &raw);
    assert_eq!(out.0, Some(0), "{}", out.1);
    let comments = comments_of(&ana, post).await;
    assert_eq!(comments.len(), n + 1);
    let last = comments.last().unwrap();
    assert!(
        last.1
            .starts_with("Merci Bob, je regarde la page 12 dès lundi."),
        "{}",
        last.1
    );
    assert!(!last.1.contains("Envoyé"), "{}", last.1);
    // The command's exit status tells the mail server what happened.
    let out = receive_cli(
        &app,
        &unknown,
        &reply_fixture("apple_fr.eml", "ana@example.com", &unknown),
    );
    assert_eq!(out.0, Some(67), "{}", out.1);
    let out = receive_cli(
        &app,
        &address,
        &reply_fixture("bounce.eml", "ana@example.com", &address),
    );
    assert_eq!(out.0, Some(0), "a delivery report is dropped: {}", out.1);
    assert_eq!(comments_of(&ana, post).await.len(), n + 1);
    // The command ran without the SMTP settings: notification e-mails
    // stay on for the site.
    bob.post(
        &format!("/posts/{post}/comments"),
        json!({"body": "The annex is attached to the post now."}),
    )
    .await;
    for _ in 0..400 {
        if server
            .all()
            .iter()
            .any(|m| m.to == "ana@example.com" && m.text.contains("The annex is attached"))
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("no e-mail to ana about bob's last comment");
}

/// Speaks SMTP by hand to the listener: one message to `to`, `body` sent
/// as given after DATA, then `CRLF.CRLF`; everything the server said.
async fn raw_smtp(port: u16, to: &str, body: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let mut said = String::new();
    let mut buf = [0u8; 4096];
    for line in [
        "EHLO test\r\n".to_string(),
        "MAIL FROM:<ana@example.com>\r\n".to_string(),
        format!("RCPT TO:<{to}>\r\n"),
        "DATA\r\n".to_string(),
        format!("{body}\r\n.\r\n"),
        "QUIT\r\n".to_string(),
    ] {
        let n = s.read(&mut buf).await.unwrap();
        said.push_str(&String::from_utf8_lossy(&buf[..n]));
        s.write_all(line.as_bytes()).await.unwrap();
    }
    let n = s.read(&mut buf).await.unwrap_or(0);
    said.push_str(&String::from_utf8_lossy(&buf[..n]));
    said
}

/// Runs `ruche mail receive --to ADDRESS` on the app's database, the
/// message on standard input: its exit status and what it printed.
fn receive_cli(app: &TestApp, to: &str, raw: &[u8]) -> (Option<i32>, String) {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ruche"))
        .args(["mail", "receive", "--to", to])
        .env("RUCHE_DATABASE_URL", &app.config.database.url)
        .env("RUCHE_BASE_URL", &app.config.base_url)
        .env("RUCHE_MAIL_REPLY_TO", &app.config.mail.reply_to)
        .env("RUCHE_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(raw).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test]
async fn delivery_failures_come_back_and_stop_all_but_password_links() {
    use ruche::db::schema::mail_addresses;
    if !smtp::available() {
        return;
    }
    let server = Smtp::start().await;
    let port = smtp::free_port();
    let url = server.url();
    let app = TestApp::start_with(move |c| {
        c.mail.smtp_url = url;
        c.mail.retry_base_ms = 100;
        c.mail.notify_delay_seconds = 1;
        c.mail.reply_to = "ruche@mail.example.com".into();
        c.mail.inbound_listen = format!("127.0.0.1:{port}");
        c.federation.poll_interval_ms = 100;
    })
    .await;
    app.user("root").await;
    let bob = app.user("bob").await;
    let welcome = server.confirm_addresses(&app.base, 2).await;
    let to_bob = welcome.iter().find(|m| m.to == "bob@example.com").unwrap();
    // The envelope sender is bob's bounce address (aiosmtpd records it).
    let bounce = to_bob
        .header("X-MailFrom")
        .expect("an envelope sender")
        .to_string();
    assert!(
        bounce.starts_with("ruche+b") && bounce.ends_with("@mail.example.com"),
        "{bounce}"
    );
    let failures = || -> (i32, bool) {
        count(&app, |c| {
            let (n, at): (i32, Option<chrono::NaiveDateTime>) = mail_addresses::table
                .find("bob@example.com")
                .select((mail_addresses::bounces, mail_addresses::failing_at))
                .first(c)
                .unwrap();
            (n, at.is_some())
        })
    };

    // An out-of-office answer sent there is not a failure; a forged bounce
    // address is refused.
    let r = smtp_in(
        port,
        "bob@example.com",
        &bounce,
        &reply_fixture("out_of_office.eml", "bob@example.com", &bounce),
    )
    .await
    .unwrap();
    assert!(r.contains("not a delivery failure"), "{r}");
    let report = |to: &str, failed: &str| -> Vec<u8> {
        String::from_utf8(reply_fixture("bounce.eml", "", to))
            .unwrap()
            .replace("gone@example.com", failed)
            .into_bytes()
    };
    // A forged bounce address is dropped without a bounce of its own; a
    // report about another address, or one that is only delayed, is not
    // counted.
    let forged = format!("ruche+b{}@mail.example.com", "f".repeat(32));
    let r = smtp_in(port, "", &forged, &report(&forged, "bob@example.com"))
        .await
        .unwrap();
    assert!(r.contains("unknown bounce address"), "{r}");
    let r = smtp_in(port, "", &bounce, &report(&bounce, "eve@example.com"))
        .await
        .unwrap();
    assert!(r.contains("not a delivery failure"), "{r}");
    let delayed = String::from_utf8(report(&bounce, "bob@example.com"))
        .unwrap()
        .replace("Action: failed", "Action: delayed");
    let r = smtp_in(port, "", &bounce, delayed.as_bytes())
        .await
        .unwrap();
    assert!(r.contains("not a delivery failure"), "{r}");
    assert_eq!(failures(), (0, false));

    // Three delivery failures: the address is failing.
    for n in 1..=3 {
        let r = smtp_in(port, "", &bounce, &report(&bounce, "bob@example.com"))
            .await
            .unwrap();
        assert!(r.contains("counted"), "{r}");
        assert_eq!(failures(), (n, n >= 3));
    }
    let admin = app.browser_login("root").await;
    let html = admin.html("/admin").await;
    assert!(
        html.contains("Addresses that bounce"),
        "listed for administrators"
    );
    assert!(html.contains("bob@example.com"));

    // A notification is no longer e-mailed; a password link still is.
    let before = server.count_kind("notification");
    let root = app.login_api("root").await;
    root.post_text("@bob please check the audit").await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    settled(&app).await;
    assert_eq!(server.count_kind("notification"), before);
    let q = queue(&app);
    assert!(
        q.iter()
            .any(|(k, s, _, _)| k == "notification" && s == "dropped"),
        "{q:?}"
    );
    forgot(&app, "bob").await;
    server.wait_kind("password_reset", 1).await;

    // The administrator says it works again: notifications go again.
    let csrf = common::extract_csrf(&html).unwrap();
    let r = admin
        .post_form(
            "/admin/mail/works",
            &[("csrf", csrf.as_str()), ("address", "bob@example.com")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(failures(), (0, false));
    root.post_text("@bob and the annex too").await;
    server.wait_kind("notification", before + 1).await;
    let _ = bob;
}

#[tokio::test]
async fn reactions_are_told_once_per_person_and_e_mailed_by_choice() {
    use ruche::db::schema::notifications;
    if !smtp::available() {
        return;
    }
    let server = Smtp::start().await;
    let app = app_notifying(&server.url()).await;
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    server.confirm_addresses(&app.base, 2).await;
    let reactions = || -> i64 {
        count(&app, |c| {
            notifications::table
                .filter(notifications::kind.eq("reaction"))
                .count()
                .get_result(c)
                .unwrap()
        })
    };

    // In the digest by default: told on the site, not e-mailed.
    assert_eq!(
        ana.get("/me/mail-preferences").await.json["preferences"]["reaction"],
        "digest"
    );
    let post = ana.post_text("The new safety sheet is online.").await;
    for kind in ["like", "thanks", "bravo"] {
        let r = bob.put(&format!("/posts/{post}/reactions/{kind}")).await;
        assert!(r.status.is_success(), "{:?}", r.json);
    }
    assert_eq!(
        reactions(),
        1,
        "three reactions at once are one notification"
    );
    // One's own reaction tells nobody.
    ana.put(&format!("/posts/{post}/reactions/like")).await;
    assert_eq!(reactions(), 1);
    let page = app.browser_login("ana").await;
    assert!(page
        .html("/notifications")
        .await
        .contains("reacted to what you wrote"));

    // Chosen "now": e-mailed.
    let r = ana
        .send_json(
            reqwest::Method::PUT,
            "/me/mail-preferences",
            json!({"reaction": "now"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let other = ana.post_text("And the training calendar.").await;
    bob.put(&format!("/posts/{other}/reactions/insightful"))
        .await;
    let m = server.wait_kind("notification", 1).await.remove(0);
    assert_eq!(m.subject, "bob reacted to what you wrote");
    assert!(m.text.contains("And the training calendar."), "{}", m.text);
    assert_eq!(reactions(), 2);
}

#[tokio::test]
async fn the_digest_lists_new_documents_and_mentions_waiting_for_an_answer() {
    if !smtp::available() {
        return;
    }
    let server = Smtp::start().await;
    let app = app_notifying(&server.url()).await;
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    server.confirm_addresses(&app.base, 3).await;
    {
        let mut c = app.db.get().unwrap();
        ruche::digest::ensure_rows(&mut c).unwrap();
    }
    let r = bob
        .post(
            "/communities",
            json!({"name": "qualite", "title": "Qualité Paris"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(
        ana.post("/communities/qualite/join", json!({}))
            .await
            .status,
        StatusCode::OK
    );
    let r = common::upload_file(
        &bob,
        "/communities/qualite/documents",
        "procedure-audit.txt",
        b"Step one",
        "text/plain",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    // Two mentions of ana: she answers one.
    let waiting = carol
        .post_text("@ana which supplier failed the audit?")
        .await;
    let answered = carol.post_text("@ana is the room booked?").await;
    let r = ana
        .post(
            &format!("/posts/{answered}/comments"),
            json!({"body": "Yes, room 4."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    {
        use ruche::db::schema::{content, notifications};
        let mut c = app.db.get().unwrap();
        let earlier = ruche::db::now() - chrono::Duration::minutes(30);
        diesel::update(content::table)
            .set(content::created_at.eq(earlier))
            .execute(&mut *c)
            .unwrap();
        diesel::update(notifications::table)
            .set(notifications::created_at.eq(earlier))
            .execute(&mut *c)
            .unwrap();
    }
    digest_due(&app, "ana");
    let d = server.wait_kind("digest", 1).await.pop().unwrap();
    assert_eq!(d.to, "ana@example.com");
    let text = &d.text;
    assert!(text.contains("Documents"), "{text}");
    assert!(text.contains("procedure-audit.txt"), "{text}");
    assert!(text.contains("Waiting for your answer"), "{text}");
    assert!(text.contains("carol mentioned you"), "{text}");
    assert!(text.contains("which supplier failed the audit?"), "{text}");
    assert!(text.contains(&format!("{}/posts/{waiting}", app.base)));
    assert!(!text.contains("is the room booked?"), "answered: {text}");
}

#[tokio::test]
async fn a_must_read_is_e_mailed_and_confirmed_in_one_click() {
    if !smtp::available() {
        return;
    }
    let server = Smtp::start().await;
    let app = app_notifying(&server.url()).await;
    app.create_account("root", true);
    let root = app.login_api("root").await;
    let ana = app.user("ana").await;
    server.confirm_addresses(&app.base, 1).await;
    let r = root
        .post(
            "/posts",
            json!({"body": "The plant closes on the 24th at noon.", "visibility": "instance"}),
        )
        .await;
    let id = r.json["id"].as_i64().unwrap();
    let r = root.put(&format!("/posts/{id}/must-read")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);

    // Told at once (the default for a must-read), with its one-click link.
    let m = server.wait_kind("notification", 1).await.remove(0);
    assert_eq!(m.subject, "root asks you to read a post");
    let link = action_link(&m, "I have read it");
    let path = link.trim_start_matches(&app.base).to_string();
    let nobody = common::Browser::new(&app.base);
    let html = nobody.get(&path).await.text().await.unwrap();
    assert!(
        html.contains("Confirm that you have read what root asks you to read?"),
        "{html}"
    );
    assert!(html.contains("The plant closes on the 24th"), "{html}");
    let done = nobody.post_form(&path, &[]).await;
    assert_eq!(done.status(), StatusCode::OK);
    let html = done.text().await.unwrap();
    assert!(
        html.contains("Done: you confirmed having read it."),
        "{html}"
    );
    let v = ana.get(&format!("/posts/{id}")).await.json;
    assert_eq!(v["must_read"]["read"], true, "{v}");
    let r = root.get(&format!("/posts/{id}/must-read/readers")).await;
    assert_eq!(r.json["tally"]["read"], 1, "{}", r.json);
    let f = ana.get("/feed").await.json;
    assert!(f["must_read"].is_null(), "{f}");
}
