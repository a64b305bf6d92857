//! Passkeys: added from the settings with the password, then signing in
//! without it, or as the second step of a password sign-in; forged,
//! replayed, foreign and tampered answers refused with nothing opened.
//! The authenticator is `common::passkey::SoftPasskey`; the browser test
//! (`tests/browser.rs`) uses Chromium's own virtual authenticator.

mod common;

use common::passkey::{add_on_page, SoftPasskey};
use common::{location, Browser, TestApp, PASSWORD};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A site named `localhost`: browsers offer passkeys only to a host.
async fn site() -> TestApp {
    TestApp::start_with(|c| c.base_url = c.base_url.replace("127.0.0.1", "localhost")).await
}

/// Options and the ceremony for a sign-in on a new browser.
async fn sign_in_options(app: &TestApp) -> (Browser, String, Value) {
    let b = Browser::new(&app.base);
    let csrf = b.csrf("/login").await;
    let ch = b
        .post_json("/login/passkey/options", json!({"csrf": csrf}))
        .await;
    assert_eq!(ch.status, StatusCode::OK, "{}", ch.json);
    (b, csrf, ch.json)
}

fn last_used(app: &TestApp) -> Option<chrono::NaiveDateTime> {
    use diesel::prelude::*;
    use ruche::db::schema::passkeys;
    let mut c = app.db.get().unwrap();
    passkeys::table
        .select(passkeys::last_used_at)
        .order(passkeys::id)
        .first(&mut *c)
        .unwrap()
}

#[tokio::test]
async fn a_passkey_signs_in_without_a_password_and_then_guards_the_password() {
    let app = site().await;
    let b = app.browser_user("ann").await;
    let mut key = SoftPasskey::new(&app.config.base_url);

    // The first passkey: recovery codes, as it turns the second step on.
    let r = add_on_page(&b, &mut key, PASSWORD, "  Work   laptop ").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["recovery_codes"].as_array().unwrap().len(), 10);
    let recovery = r.json["recovery_codes"][0].as_str().unwrap().to_string();
    assert_eq!(app.count("passkeys"), 1);
    let settings = b.html("/settings").await;
    assert!(settings.contains("Work laptop"), "named in the settings");
    assert!(settings.contains("never used"));
    // A second one gives no new codes; the same authenticator twice is
    // refused (the browser is told to exclude it; a forced answer too).
    let mut other = SoftPasskey::new(&app.config.base_url);
    let r = add_on_page(&b, &mut other, PASSWORD, "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert!(r.json["recovery_codes"].is_null());
    let r = add_on_page(&b, &mut key, PASSWORD, "again").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.json);
    assert_eq!(r.code(), "passkey_refused");
    assert_eq!(app.count("passkeys"), 2);

    // Signing in with it: no user name, no password.
    let (nb, csrf, ch) = sign_in_options(&app).await;
    let answer = key.get(&ch["options"]);
    let r = nb
        .post_json(
            "/login/passkey",
            json!({"csrf": csrf, "ceremony": ch["ceremony"], "next": "/people", "credential": answer}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["next"], "/people");
    let html = nb.html("/settings").await;
    assert!(html.contains("Work laptop"), "signed in as ann");
    assert!(last_used(&app).is_some(), "its use is kept");

    // A password sign-in now waits for the passkey.
    let pb = Browser::new(&app.base);
    let csrf = pb.csrf("/login").await;
    let r = pb
        .post_form(
            "/login",
            &[
                ("csrf", &csrf),
                ("login", "ann"),
                ("password", PASSWORD),
                ("next", "/communities"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/login/code");
    let page = pb.html("/login/code").await;
    assert!(page.contains("data-passkey-step"), "the passkey is offered");
    assert!(page.contains("recovery codes"), "and a recovery code");
    assert_eq!(pb.get("/settings").await.status(), StatusCode::SEE_OTHER);
    let ch = pb
        .post_json("/login/code/passkey/options", json!({"csrf": csrf}))
        .await;
    assert_eq!(ch.status, StatusCode::OK, "{}", ch.json);
    assert_eq!(
        ch.json["options"]["allowCredentials"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "the account's passkeys"
    );
    let answer = key.get(&ch.json["options"]);
    let r = pb
        .post_json(
            "/login/code/passkey",
            json!({"csrf": csrf, "ceremony": ch.json["ceremony"], "credential": answer}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["next"], "/communities");
    assert_eq!(pb.get("/settings").await.status(), StatusCode::OK);
    // The step is used up.
    let csrf = pb.csrf("/settings").await;
    assert_eq!(
        pb.post_json("/login/code/passkey/options", json!({"csrf": csrf}))
            .await
            .code(),
        "step_expired"
    );

    // The API asks the second step too: a recovery code serves.
    let r = app.token_request("ann", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app
        .client()
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"login": "ann", "password": PASSWORD, "code": recovery}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "a recovery code");

    // A second step begun, then the passkey used elsewhere: the step's
    // answer is checked against the counter as it is now.
    let sb = Browser::new(&app.base);
    let csrf = sb.csrf("/login").await;
    let r = sb
        .post_form(
            "/login",
            &[("csrf", &csrf), ("login", "ann"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(location(&r), "/login/code");
    let step = sb
        .post_json("/login/code/passkey/options", json!({"csrf": csrf}))
        .await;
    let (ob, ocsrf, och) = sign_in_options(&app).await;
    let r = ob
        .post_json(
            "/login/passkey",
            json!({"csrf": ocsrf, "ceremony": och["ceremony"], "credential": key.get(&och["options"])}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    key.counter -= 1;
    let r = sb
        .post_json(
            "/login/code/passkey",
            json!({"csrf": csrf, "ceremony": step.json["ceremony"], "credential": key.get(&step.json["options"])}),
        )
        .await;
    assert_eq!(r.code(), "passkey_refused", "a counter that did not go up");

    // Removing: the password is asked; the last one takes the second step
    // and its recovery codes away.
    let ids: Vec<i64> = {
        use diesel::prelude::*;
        use ruche::db::schema::passkeys;
        let mut c = app.db.get().unwrap();
        passkeys::table
            .select(passkeys::id)
            .order(passkeys::id)
            .load(&mut *c)
            .unwrap()
    };
    let csrf = b.csrf("/settings").await;
    let r = b
        .post_form(
            &format!("/settings/passkeys/{}/delete", ids[0]),
            &[("csrf", &csrf), ("password", "not the password")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("passkeys"), 2);
    let r = b
        .post_form(
            &format!("/settings/passkeys/{}/rename", ids[1]),
            &[("csrf", &csrf), ("name", "Phone")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(b.html("/settings").await.contains("Phone"));
    for id in &ids {
        let r = b
            .post_form(
                &format!("/settings/passkeys/{id}/delete"),
                &[("csrf", &csrf), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    assert_eq!(app.count("passkeys"), 0);
    assert_eq!(app.count("recovery_codes"), 0);
    let r = app.token_request("ann", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::CREATED, "the password alone again");
    // And the removed passkey signs nobody in.
    let (nb, csrf, ch) = sign_in_options(&app).await;
    let answer = key.get(&ch["options"]);
    let r = nb
        .post_json(
            "/login/passkey",
            json!({"csrf": csrf, "ceremony": ch["ceremony"], "credential": answer}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.code(), "passkey_refused");
}

#[tokio::test]
async fn forged_replayed_foreign_and_tampered_answers_open_nothing() {
    let app = site().await;
    let b = app.browser_user("ann").await;
    let mut key = SoftPasskey::new(&app.config.base_url);

    // Adding needs the password, the page's token and JSON.
    let csrf = b.csrf("/settings").await;
    let r = b
        .post_json(
            "/settings/passkeys/options",
            json!({"csrf": csrf, "password": "wrong"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code(), "current_password_wrong");
    let r = b
        .post_json(
            "/settings/passkeys/options",
            json!({"csrf": "", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.code(), "csrf_invalid");
    let r = b
        .post_form(
            "/settings/passkeys/options",
            &[("csrf", &csrf), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // An answer for another site (origin), and one whose ceremony is
    // replayed, are refused; nothing is stored.
    let ch = b
        .post_json(
            "/settings/passkeys/options",
            json!({"csrf": csrf, "password": PASSWORD}),
        )
        .await;
    let mut elsewhere = SoftPasskey::new("https://intranet.example.com");
    let credential = elsewhere.create(&ch.json["options"]);
    let r = b
        .post_json(
            "/settings/passkeys",
            json!({"csrf": csrf, "ceremony": ch.json["ceremony"], "credential": credential}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.json);
    assert_eq!(r.code(), "passkey_refused");
    let credential = key.create(&ch.json["options"]);
    let r = b
        .post_json(
            "/settings/passkeys",
            json!({"csrf": csrf, "ceremony": ch.json["ceremony"], "credential": credential}),
        )
        .await;
    assert_eq!(r.code(), "passkey_expired", "a ceremony serves once");
    let r = b
        .post_json(
            "/settings/passkeys",
            json!({"csrf": csrf, "ceremony": "made-up", "credential": credential}),
        )
        .await;
    assert_eq!(r.code(), "passkey_expired");
    let r = b
        .post_json("/settings/passkeys", json!({"csrf": csrf, "ceremony": "x"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "field_missing");
    let long = "x".repeat(61);
    let ch = b
        .post_json(
            "/settings/passkeys/options",
            json!({"csrf": csrf, "password": PASSWORD}),
        )
        .await;
    let credential = key.create(&ch.json["options"]);
    let r = b
        .post_json(
            "/settings/passkeys",
            json!({"csrf": csrf, "ceremony": ch.json["ceremony"], "name": long, "credential": credential}),
        )
        .await;
    assert_eq!(r.code(), "passkey_name_too_long");
    assert_eq!(app.count("passkeys"), 0);
    assert_eq!(app.count("recovery_codes"), 0);
    let r = add_on_page(&b, &mut key, PASSWORD, "Laptop").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let sessions = app.count("sessions");

    // A tampered signature.
    let (nb, csrf, ch) = sign_in_options(&app).await;
    let mut answer = key.get(&ch["options"]);
    {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        let mut sig = URL_SAFE_NO_PAD
            .decode(answer["response"]["signature"].as_str().unwrap())
            .unwrap();
        let last = sig.len() - 1;
        sig[last] ^= 0x01;
        answer["response"]["signature"] = json!(URL_SAFE_NO_PAD.encode(sig));
    }
    let r = nb
        .post_json(
            "/login/passkey",
            json!({"csrf": csrf, "ceremony": ch["ceremony"], "credential": answer}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.json);
    assert_eq!(r.code(), "passkey_refused");
    // A right answer replayed on its used ceremony, or on a new one (the
    // challenge differs).
    let (nb, csrf, ch) = sign_in_options(&app).await;
    let answer = key.get(&ch["options"]);
    let body = json!({"csrf": csrf, "ceremony": ch["ceremony"], "credential": answer});
    assert_eq!(
        nb.post_json("/login/passkey", body.clone()).await.status,
        StatusCode::OK
    );
    let thief = Browser::new(&app.base);
    let mut body = body;
    body["csrf"] = json!(thief.csrf("/login").await);
    assert_eq!(
        thief.post_json("/login/passkey", body).await.code(),
        "passkey_expired"
    );
    let (nb, csrf, ch) = sign_in_options(&app).await;
    let r = nb
        .post_json(
            "/login/passkey",
            json!({"csrf": csrf, "ceremony": ch["ceremony"], "credential": answer}),
        )
        .await;
    assert_eq!(r.code(), "passkey_refused");
    // Signed for another site.
    let mut moved = SoftPasskey::new("https://intranet.example.com");
    moved.id = key.id.clone();
    moved.user_handle = key.user_handle.clone();
    let (nb, csrf, ch) = sign_in_options(&app).await;
    let r = nb
        .post_json(
            "/login/passkey",
            json!({"csrf": csrf, "ceremony": ch["ceremony"], "credential": moved.get(&ch["options"])}),
        )
        .await;
    assert_eq!(r.code(), "passkey_refused");
    // A passkey this site never saw.
    let mut stranger = SoftPasskey::new(&app.config.base_url);
    stranger.user_handle = key.user_handle.clone();
    let (nb, csrf, ch) = sign_in_options(&app).await;
    let r = nb
        .post_json(
            "/login/passkey",
            json!({"csrf": csrf, "ceremony": ch["ceremony"], "credential": stranger.get(&ch["options"])}),
        )
        .await;
    assert_eq!(r.code(), "passkey_refused");
    // A cloned authenticator: its counter goes back.
    let (nb, csrf, ch) = sign_in_options(&app).await;
    key.counter = 0;
    let r = nb
        .post_json(
            "/login/passkey",
            json!({"csrf": csrf, "ceremony": ch["ceremony"], "credential": key.get(&ch["options"])}),
        )
        .await;
    assert_eq!(r.code(), "passkey_refused", "counter went backwards");
    assert_eq!(app.count("sessions"), sessions + 1, "only the right answer");

    // A disabled account: its passkey opens nothing (the same passkey,
    // with a counter ahead, opens it just before).
    key.counter = 100;
    let (nb, csrf, ch) = sign_in_options(&app).await;
    let r = nb
        .post_json(
            "/login/passkey",
            json!({"csrf": csrf, "ceremony": ch["ceremony"], "credential": key.get(&ch["options"])}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let sessions = sessions + 1;
    {
        use diesel::prelude::*;
        use ruche::db::schema::users;
        let mut c = app.db.get().unwrap();
        diesel::update(users::table.filter(users::username.eq("ann")))
            .set(users::disabled.eq(true))
            .execute(&mut *c)
            .unwrap();
    }
    let (nb, csrf, ch) = sign_in_options(&app).await;
    let r = nb
        .post_json(
            "/login/passkey",
            json!({"csrf": csrf, "ceremony": ch["ceremony"], "credential": key.get(&ch["options"])}),
        )
        .await;
    assert_eq!(r.code(), "passkey_refused");
    assert_eq!(app.count("sessions"), sessions + 1);

    // Many ceremonies from one address are bounded.
    let b2 = Browser::new(&app.base);
    let csrf = b2.csrf("/login").await;
    let mut last = StatusCode::OK;
    for _ in 0..ruche::accounts::passkey::PENDING_PER_ADDRESS {
        last = b2
            .post_json("/login/passkey/options", json!({"csrf": csrf}))
            .await
            .status;
    }
    assert_eq!(
        last,
        StatusCode::TOO_MANY_REQUESTS,
        "the earlier tries count"
    );
}

#[tokio::test]
async fn a_site_named_by_an_address_offers_no_passkeys() {
    let app = TestApp::start().await;
    let b = app.browser_user("ann").await;
    assert!(!Browser::new(&app.base)
        .html("/login")
        .await
        .contains("data-passkey-login"));
    assert!(!b.html("/settings").await.contains("data-passkey-add"));
    let csrf = b.csrf("/settings").await;
    let r = b
        .post_json(
            "/settings/passkeys/options",
            json!({"csrf": csrf, "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code(), "passkeys_off");
    let named = site().await;
    let nb = Browser::new(&named.base);
    assert!(nb.html("/login").await.contains("data-passkey-login"));
}

#[tokio::test]
async fn a_passkey_is_the_second_step_an_administrator_is_asked_for() {
    let app = TestApp::start_with(|c| {
        c.base_url = c.base_url.replace("127.0.0.1", "localhost");
        c.accounts.admins_need_second_step = true;
    })
    .await;
    app.create_account("boss", true);
    let b = app.browser_login("boss").await;
    assert_ne!(b.get("/admin").await.status(), StatusCode::OK, "withheld");
    let mut key = SoftPasskey::new(&app.config.base_url);
    let r = add_on_page(&b, &mut key, PASSWORD, "Phone").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(b.get("/admin").await.status(), StatusCode::OK);

    // Without the passkey at hand, a password sign-in takes a recovery
    // code (once), not a made-up one.
    let recovery = r.json["recovery_codes"][0].as_str().unwrap().to_string();
    for (code, opens) in [
        ("aaaaa-bbbbb", false),
        (recovery.as_str(), true),
        (recovery.as_str(), false),
    ] {
        let pb = Browser::new(&app.base);
        let csrf = pb.csrf("/login").await;
        let r = pb
            .post_form(
                "/login",
                &[("csrf", &csrf), ("login", "boss"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(location(&r), "/login/code");
        let r = pb
            .post_form("/login/code", &[("csrf", &csrf), ("code", code)])
            .await;
        assert_eq!(r.status() == StatusCode::SEE_OTHER, opens, "{code}");
    }

    // The authenticator app on too, then off again: the passkey keeps the
    // second step, and so the recovery codes.
    let csrf = b.csrf("/settings").await;
    b.post_form("/settings/second-step", &[("csrf", &csrf)])
        .await;
    let page = b.html("/settings").await;
    let secret = page
        .split("<code class=\"secret\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_string();
    let code = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(&secret).unwrap())
        .build()
        .unwrap()
        .generate(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
        )
        .to_string();
    let r = b
        .post_form(
            "/settings/second-step/enable",
            &[("csrf", &csrf), ("code", &code)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = b
        .post_form(
            "/settings/second-step/disable",
            &[("csrf", &csrf), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("recovery_codes"), 10);
    assert_eq!(b.get("/admin").await.status(), StatusCode::OK);
}

/// The code an authenticator app with `secret` shows now.
fn app_code(secret: &str) -> String {
    totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap()
        .generate(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
        )
        .to_string()
}

#[tokio::test]
async fn the_api_manages_the_second_step_and_passkeys_and_signs_in_with_one() {
    let app = site().await;
    let api = app.user("ann").await;
    let bob = app.user("bob").await;
    let v = api.get("/me/second-step").await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.json);
    assert_eq!(
        (&v.json["on"], &v.json["passkey_add"], &v.json["passkeys"]),
        (&json!(false), &json!("with_password"), &json!([])),
        "{}",
        v.json
    );

    // The authenticator app: set up, a wrong first code, the right one.
    let setup = api.post("/me/second-step/app", json!({})).await;
    assert_eq!(setup.status, StatusCode::CREATED, "{}", setup.json);
    let secret = setup.json["secret"].as_str().unwrap().to_string();
    assert!(setup.json["otpauth_url"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/"));
    let r = api
        .post("/me/second-step/app/enable", json!({"code": "000000"}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "code_invalid")
    );
    let r = api
        .post(
            "/me/second-step/app/enable",
            json!({"code": app_code(&secret)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["recovery_codes"].as_array().unwrap().len(), 10);
    let r = api.post("/me/second-step/app", json!({})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "second_factor_on")
    );

    // A passkey: the password is asked; no new codes (the step was on).
    let mut key = SoftPasskey::new(&app.config.base_url);
    let r = api
        .post("/me/passkeys/options", json!({"password": "wrong"}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "current_password_wrong")
    );
    let ch = api
        .post("/me/passkeys/options", json!({"password": PASSWORD}))
        .await;
    assert_eq!(ch.status, StatusCode::OK, "{}", ch.json);
    let credential = key.create(&ch.json["options"]);
    // Another account cannot finish ann's ceremony.
    let r = bob
        .post(
            "/me/passkeys",
            json!({"ceremony": ch.json["ceremony"], "credential": credential}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "passkey_expired")
    );
    let ch = api
        .post("/me/passkeys/options", json!({"password": PASSWORD}))
        .await;
    let credential = key.create(&ch.json["options"]);
    let r = api
        .post(
            "/me/passkeys",
            json!({"ceremony": ch.json["ceremony"], "name": "Phone", "credential": credential}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert!(r.json["recovery_codes"].is_null());
    let v = api.get("/me/second-step").await;
    let id = v.json["passkeys"][0]["id"].as_i64().unwrap();
    assert_eq!(v.json["passkeys"][0]["name"], "Phone");
    assert_eq!(v.json["recovery_codes_left"], 10);

    // Renamed; a name too long, someone else's passkey, a made-up id.
    let path = format!("/me/passkeys/{id}");
    let r = api.patch(&path, json!({"name": "Work phone"})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.json);
    let r = api.patch(&path, json!({"name": "x".repeat(61)})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "passkey_name_too_long")
    );
    assert_eq!(
        bob.patch(&path, json!({"name": "mine"})).await.status,
        StatusCode::NOT_FOUND
    );
    let r = bob.delete_json(&path, json!({"password": PASSWORD})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = api.patch("/me/passkeys/nope", json!({"name": "x"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let v = api.get("/me/second-step").await;
    assert_eq!(v.json["passkeys"][0]["name"], "Work phone");

    // A token from the passkey, without user name or password; its answer
    // cannot be used twice.
    let client = app.client();
    let ch: Value = client
        .post(app.url("/api/v1/auth/passkey/options"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let answer = key.get(&ch["options"]);
    let body = json!({"ceremony": ch["ceremony"], "credential": answer, "name": "phone app"});
    let r = client
        .post(app.url("/api/v1/auth/passkey"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["name"], "phone app");
    let me: Value = client
        .get(app.url("/api/v1/me"))
        .bearer_auth(v["token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["profile"]["username"], "ann");
    let again = client
        .post(app.url("/api/v1/auth/passkey"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.count("api_tokens"), 3, "ann's, bob's and the passkey's");

    // Removed with the password; the app keeps the second step on.
    let r = api.delete_json(&path, json!({"password": "wrong"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = api.delete_json(&path, json!({"password": PASSWORD})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.json);
    let v = api.get("/me/second-step").await;
    assert_eq!(
        (&v.json["on"], &v.json["passkeys"]),
        (&json!(true), &json!([]))
    );
    // The app off: nothing left.
    let r = api
        .delete_json("/me/second-step/app", json!({"password": PASSWORD}))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.json);
    let v = api.get("/me/second-step").await;
    assert_eq!(
        (&v.json["on"], &v.json["recovery_codes_left"]),
        (&json!(false), &json!(0))
    );
}
