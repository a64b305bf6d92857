//! A person's e-mail address, through a real SMTP server (aiosmtpd):
//! confirmed from the link of the sign-up's welcome before notifications
//! go to it, changed only with the password and the link sent to the new
//! address; and invitations into a community sent by e-mail.

mod common;

use common::smtp::{self, Smtp};
use common::{TestApp, PASSWORD};
use diesel::prelude::*;
use reqwest::StatusCode;
use ruche::db::schema::{email_checks, mail_queue, users};
use serde_json::json;

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

/// (kind, status, why) of the newest queued message.
fn last_queued(app: &TestApp) -> (String, String, String) {
    let mut c = app.db.get().unwrap();
    mail_queue::table
        .order(mail_queue::id.desc())
        .select((mail_queue::kind, mail_queue::status, mail_queue::last_error))
        .first(&mut *c)
        .unwrap()
}

/// Waits until no message is pending (5 s at most).
async fn settled(app: &TestApp) {
    for _ in 0..200 {
        let pending: i64 = {
            let mut c = app.db.get().unwrap();
            mail_queue::table
                .filter(mail_queue::status.eq("pending"))
                .count()
                .get_result(&mut *c)
                .unwrap()
        };
        if pending == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("messages still pending");
}

fn email_of(app: &TestApp, username: &str) -> String {
    let mut c = app.db.get().unwrap();
    users::table
        .filter(users::username.eq(username))
        .select(users::email)
        .first(&mut *c)
        .unwrap()
}

#[tokio::test]
async fn an_address_is_confirmed_from_its_link_before_notifications_go_to_it() {
    if !smtp::available() {
        return;
    }
    let server = Smtp::start().await;
    let app = app_notifying(&server.url()).await;
    let bob = app.user("bob").await;
    server.confirm_addresses(&app.base, 1).await;
    // ana signs up from the page: her welcome asks her to confirm.
    let page = app.browser_user("ana").await;
    let ana = app.login_api("ana").await;
    let welcome = server
        .wait_kind("confirm_address", 2)
        .await
        .into_iter()
        .find(|m| m.to == "ana@example.com")
        .unwrap();
    assert_eq!(welcome.subject, "Welcome to Ruche");
    assert!(welcome.text.contains("confirm that this address is yours"));
    assert!(welcome.header("List-Unsubscribe").is_none());
    let token = welcome.confirm_token().unwrap();
    let st = ana.get("/me/email").await.json;
    assert_eq!(st["email"], "ana@example.com");
    assert_eq!(st["confirmed"], false);
    let settings = page.html("/settings").await;
    assert!(settings.contains("not confirmed"), "{settings}");
    assert!(settings.contains("/settings/email/resend"));

    // Until she confirms, a mention is not e-mailed to the address.
    bob.post_text("@ana the audit starts Monday").await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    settled(&app).await;
    let (kind, status, why) = last_queued(&app);
    assert_eq!(
        (kind.as_str(), status.as_str(), why.as_str()),
        ("notification", "dropped", "the address is not confirmed")
    );
    assert_eq!(server.count_kind("notification"), 0);

    // Opening the link (a mail scanner does) changes nothing.
    let anon = common::Browser::new(&app.base);
    let link = format!("/account/email/confirm/{token}");
    let html = anon.html(&link).await;
    assert!(
        html.contains("Confirm that ana@example.com is the address of the account ana?"),
        "{html}"
    );
    assert_eq!(ana.get("/me/email").await.json["confirmed"], false);
    // A forged link says so.
    let r = anon.get("/account/email/confirm/forged").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The button confirms, once.
    let csrf = common::extract_csrf(&html).unwrap();
    let r = anon.post_form(&link, &[("csrf", csrf.as_str())]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Done: ana@example.com is confirmed."));
    assert_eq!(ana.get("/me/email").await.json["confirmed"], true);
    let r = anon.post_form(&link, &[("csrf", csrf.as_str())]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = ana.post("/me/email/resend", json!({})).await;
    assert_eq!(r.code(), "email_already_confirmed");

    bob.post_text("@ana and the report is due Friday").await;
    let m = server.wait_kind("notification", 1).await.pop().unwrap();
    assert_eq!(m.to, "ana@example.com");
    assert_eq!(m.subject, "bob mentioned you");
}

#[tokio::test]
async fn a_new_address_takes_the_password_and_the_link_sent_to_it() {
    if !smtp::available() {
        return;
    }
    let server = Smtp::start().await;
    let app = app_notifying(&server.url()).await;
    let ana = app.user("ana").await;
    app.user("bob").await;
    server.confirm_addresses(&app.base, 2).await;
    let checks = |app: &TestApp| -> i64 {
        let mut c = app.db.get().unwrap();
        email_checks::table.count().get_result(&mut *c).unwrap()
    };
    let before = checks(&app);

    // Refused, with nothing stored: a wrong password, a malformed
    // address, someone else's, her own.
    for (body, status, code) in [
        (
            json!({"email": "ana@new.example", "password": "not the password"}),
            StatusCode::FORBIDDEN,
            "current_password_wrong",
        ),
        (
            json!({"email": "not an address", "password": PASSWORD}),
            StatusCode::BAD_REQUEST,
            "email_invalid",
        ),
        (
            json!({"email": "Bob@Example.com", "password": PASSWORD}),
            StatusCode::CONFLICT,
            "email_taken",
        ),
        (
            json!({"email": "ana@example.com", "password": PASSWORD}),
            StatusCode::BAD_REQUEST,
            "email_unchanged",
        ),
    ] {
        let r = ana.send_json(reqwest::Method::PUT, "/me/email", body).await;
        assert_eq!((r.status, r.code()), (status, code), "{:?}", r.json);
    }
    assert_eq!(checks(&app), before);

    // Asked: a link goes to the new address; the old one stays in use.
    let r = ana
        .send_json(
            reqwest::Method::PUT,
            "/me/email",
            json!({"email": "Ana.Martin@New.example", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.json);
    assert_eq!(r.json["email"], "ana@example.com");
    assert_eq!(r.json["pending"], "ana.martin@new.example");
    let m = server.wait_kind("confirm_address", 3).await.pop().unwrap();
    assert_eq!(m.to, "ana.martin@new.example");
    assert_eq!(m.subject, "Confirm your new e-mail address on Ruche");
    assert!(m.text.contains("Hello ana,"), "{}", m.text);
    let first = m.confirm_token().unwrap();
    assert_eq!(email_of(&app, "ana"), "ana@example.com");

    // Sent again, then too often.
    let r = ana.post("/me/email/resend", json!({})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert_eq!(r.json["sent_to"], "ana.martin@new.example");
    let second = server
        .wait_kind("confirm_address", 4)
        .await
        .pop()
        .unwrap()
        .confirm_token()
        .unwrap();
    assert_ne!(first, second);
    // Five links an hour, the sign-up's included.
    for _ in 0..2 {
        assert_eq!(
            ana.post("/me/email/resend", json!({})).await.status,
            StatusCode::ACCEPTED
        );
    }
    let r = ana.post("/me/email/resend", json!({})).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.code(), "email_check_too_many");

    // A password link sent to the old address meanwhile...
    let c = app.client();
    let r = c
        .post(app.url("/api/v1/auth/password/forgot"))
        .json(&json!({"login": "ana"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let reset = server.wait_kind("password_reset", 1).await.pop().unwrap();
    assert_eq!(reset.to, "ana@example.com");
    let reset = reset.link(&format!("{}/password/reset/", app.base));
    let reset = reset.rsplit('/').next().unwrap().to_string();

    // The first link applies it; the others are spent with it.
    let r = c
        .post(app.url("/api/v1/auth/email/confirm"))
        .json(&json!({"token": first}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["changed"], true);
    assert_eq!(email_of(&app, "ana"), "ana.martin@new.example");
    let st = ana.get("/me/email").await.json;
    assert_eq!(st["confirmed"], true);
    assert!(st["pending"].is_null(), "{st}");
    let r = c
        .post(app.url("/api/v1/auth/email/confirm"))
        .json(&json!({"token": second}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // ...works no more, and the old address is told of the change.
    let r = c
        .post(app.url("/api/v1/auth/password/reset"))
        .json(&json!({"token": reset, "password": "another long password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let told = server.wait_kind("address_changed", 1).await.pop().unwrap();
    assert_eq!(told.to, "ana@example.com");
    assert_eq!(told.subject, "Your e-mail address on Ruche was changed");
    assert!(
        told.text.contains("is now ana.martin@new.example"),
        "{}",
        told.text
    );
    assert!(told.header("List-Unsubscribe").is_none());
    // She signs in with the new address.
    assert_eq!(
        app.token_request("ana.martin@new.example", PASSWORD)
            .await
            .status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn the_settings_page_changes_the_address_and_keeps_what_was_typed() {
    if !smtp::available() {
        return;
    }
    let server = Smtp::start().await;
    let app = app_notifying(&server.url()).await;
    let page = app.browser_user("ana").await;
    server.confirm_addresses(&app.base, 1).await;
    let csrf = page.csrf("/settings").await;
    let r = page
        .post_form(
            "/settings/email",
            &[
                ("csrf", csrf.as_str()),
                ("email", "ana@elsewhere.example"),
                ("current_password", "wrong password"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let html = r.text().await.unwrap();
    assert!(html.contains("value=\"ana@elsewhere.example\""), "{html}");
    assert!(html.contains("current password"), "{html}");
    let r = page
        .post_form(
            "/settings/email",
            &[
                ("csrf", csrf.as_str()),
                ("email", "ana@elsewhere.example"),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = page.html("/settings?done=email_sent").await;
    assert!(
        html.contains("A link was sent to ana@elsewhere.example"),
        "{html}"
    );
    let token = server
        .wait_kind("confirm_address", 2)
        .await
        .pop()
        .unwrap()
        .confirm_token()
        .unwrap();
    // Withdrawn: the link no longer works and the address stays.
    let r = page
        .post_form("/settings/email/cancel", &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = page.get(&format!("/account/email/confirm/{token}")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(email_of(&app, "ana"), "ana@example.com");
    assert!(!page.html("/settings").await.contains("A link was sent"));
}

#[tokio::test]
async fn a_community_invites_by_e_mail_without_telling_who_has_an_account() {
    if !smtp::available() {
        return;
    }
    let server = Smtp::start().await;
    let app = app_notifying(&server.url()).await;
    let root = app.user("root").await; // the first account administers
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let carl = app.user("carl").await;
    server.confirm_addresses(&app.base, 4).await;
    let r = ana
        .post(
            "/communities",
            json!({"name": "qualite", "title": "Qualité Lyon", "visibility": "private", "join_policy": "invitation"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);

    // Only moderators invite; a bad address is refused; nothing is sent.
    let r = carl
        .post(
            "/communities/qualite/invitations/email",
            json!({"email": "someone@example.com"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.json);
    let r = ana
        .post(
            "/communities/qualite/invitations/email",
            json!({"email": "no-at-sign"}),
        )
        .await;
    assert_eq!(r.code(), "email_invalid");
    assert_eq!(app.count("invitations"), 0);

    // A colleague's address and a newcomer's get the same answer and the
    // same e-mail; nobody shows among the members before accepting.
    for address in ["BOB@example.com", "nina@partner.example"] {
        let r = ana
            .post(
                "/communities/qualite/invitations/email",
                json!({ "email": address }),
            )
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.json);
    }
    let mails = server.wait_kind("invitation", 2).await;
    let to_bob = mails.iter().find(|m| m.to == "bob@example.com").unwrap();
    let to_nina = mails
        .iter()
        .find(|m| m.to == "nina@partner.example")
        .unwrap();
    for m in [to_bob, to_nina] {
        assert_eq!(
            m.subject,
            "ana invites you to the community Qualité Lyon on Ruche"
        );
        assert!(
            m.text.contains("sign in if you already have an account"),
            "{}",
            m.text
        );
    }
    let members = ana.get("/communities/qualite/members").await.json;
    assert_eq!(members["items"].as_array().unwrap().len(), 1, "{members}");
    assert!(bob.get("/notifications").await.json["items"]
        .as_array()
        .unwrap()
        .is_empty());

    // bob opens his link signed in: one button joins (opening changes
    // nothing).
    let code = to_bob.invitation_code().expect("an invitation link");
    let page = app.browser_login("bob").await;
    let html = page.html(&format!("/invitations/{code}")).await;
    assert!(
        html.contains("ana invites you to join the community Qualité Lyon."),
        "{html}"
    );
    assert_ne!(
        bob.get("/communities/qualite").await.json["my_status"],
        "member"
    );
    let csrf = common::extract_csrf(&html).unwrap();
    let r = page
        .post_form(&format!("/invitations/{code}"), &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(common::location(&r), "/communities/qualite");
    assert_eq!(
        bob.get("/communities/qualite").await.json["my_status"],
        "member"
    );
    // Once.
    let r = carl
        .post(&format!("/invitations/{code}/accept"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code(), "invite_invalid");

    // nina has no account: the link's page offers to create one, whose
    // form carries the invitation; she is a member from the start.
    let code = to_nina.invitation_code().expect("an invitation link");
    let nina = common::Browser::new(&app.base);
    let html = nina.html(&format!("/invitations/{code}")).await;
    assert!(
        html.contains(&format!("/login?next=/invitations/{code}")),
        "{html}"
    );
    assert!(html.contains(&format!("/signup?invite={code}")), "{html}");
    let html = nina.html(&format!("/signup?invite={code}")).await;
    assert!(
        html.contains(&format!("name=\"invite\" value=\"{code}\"")),
        "the sign-up form carries the code: {html}"
    );
    let csrf = common::extract_csrf(&html).unwrap();
    let r = nina
        .post_form(
            "/signup",
            &[
                ("csrf", csrf.as_str()),
                ("tz", ""),
                ("tzname", ""),
                ("username", "nina"),
                ("email", "nina@partner.example"),
                ("password", PASSWORD),
                ("invite", code.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let nina = app.login_api("nina").await;
    let c = nina.get("/communities/qualite").await;
    assert_eq!(c.json["my_status"], "member", "{:?}", c.json);
    let log = ana.get("/communities/qualite/log").await.json;
    assert!(log.to_string().contains("join_invited"), "{log}");

    // A link from someone who no longer moderates stops working.
    let r = ana
        .post(
            "/communities/qualite/invitations/email",
            json!({"email": "carl@example.com"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let code = server
        .wait_kind("invitation", 3)
        .await
        .pop()
        .unwrap()
        .invitation_code()
        .expect("an invitation link");
    {
        // ana steps down: bob owns the community now.
        use ruche::db::schema::community_members;
        let mut c = app.db.get().unwrap();
        let id = |c: &mut ruche::db::DbConn, n: &str| -> i64 {
            users::table
                .filter(users::username.eq(n))
                .select(users::id)
                .first(c)
                .unwrap()
        };
        let (ana_id, bob_id, group) = (id(&mut c, "ana"), id(&mut c, "bob"), id(&mut c, "qualite"));
        diesel::update(
            community_members::table
                .filter(community_members::community_id.eq(group))
                .filter(community_members::user_id.eq(bob_id)),
        )
        .set(community_members::role.eq("owner"))
        .execute(&mut *c)
        .unwrap();
        diesel::update(
            community_members::table
                .filter(community_members::community_id.eq(group))
                .filter(community_members::user_id.eq(ana_id)),
        )
        .set(community_members::role.eq("member"))
        .execute(&mut *c)
        .unwrap();
    }
    let r = carl
        .post(&format!("/invitations/{code}/accept"), json!({}))
        .await;
    assert_eq!(r.code(), "invite_invalid");

    // Sign-up by invitation: a moderator's link lets members in, not
    // newcomers; an administrator's brings newcomers too.
    let r = root.patch("/admin/site", json!({"signup": "invite"})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let r = bob
        .post(
            "/communities/qualite/invitations/email",
            json!({"email": "other@partner.example"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let code = server
        .wait_kind("invitation", 4)
        .await
        .pop()
        .unwrap()
        .invitation_code()
        .expect("an invitation link");
    let html = common::Browser::new(&app.base)
        .html(&format!("/invitations/{code}"))
        .await;
    assert!(!html.contains("/signup?invite="), "{html}");
    assert!(html.contains("ask an administrator"), "{html}");
    let r = app
        .client()
        .post(app.url("/api/v1/accounts"))
        .json(&json!({"username": "other", "email": "other@partner.example", "password": PASSWORD, "invite": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "invite_not_for_signup");
    // Still good for a member of the site.
    let r = carl
        .post(&format!("/invitations/{code}/accept"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(r.json["community"], "qualite");

    // The members page offers it, and keeps the address after an error.
    let page = app.browser_login("bob").await;
    let html = page.html("/communities/qualite/members").await;
    assert!(html.contains("/communities/qualite/invite-email"), "{html}");
    let csrf = common::extract_csrf(&html).unwrap();
    let r = page
        .post_form(
            "/communities/qualite/invite-email",
            &[("csrf", csrf.as_str()), ("email", "not an address")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("value=\"not an address\""), "{html}");
}
