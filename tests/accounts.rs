//! Accounts over HTTP: sign-up, sign-in, sessions, CSRF, tokens, invitations,
//! rate limiting and administration.

mod common;

use common::*;
use reqwest::StatusCode;
use ruche::config::SignupMode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signup_signin_signout_through_pages() {
    let app = TestApp::start().await;
    let b = app.browser_user("alice").await;
    // The first account becomes the administrator and lands signed in.
    let html = b.html("/").await;
    assert!(
        html.contains("/admin"),
        "first user should see the admin link"
    );
    let csrf = extract_csrf(&html).unwrap();
    let r = b.post_form("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(b.get("/").await.headers()["location"], "/login");

    // Signing in again works with the username or the e-mail.
    let csrf = b.csrf("/login").await;
    let r = b
        .post_form(
            "/login",
            &[
                ("csrf", &csrf),
                ("login", "ALICE@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain http base URL: no Secure flag"
    );
    assert_eq!(b.get("/").await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secure_cookie_on_https_base_url() {
    let app = TestApp::start_with(|c| c.base_url = "https://ruche.example".into()).await;
    let b = Browser::new(&app.base);
    let csrf = b.csrf("/signup").await;
    let r = b
        .post_form(
            "/signup",
            &[
                ("csrf", &csrf),
                ("username", "bob"),
                ("email", "bob@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_and_duplicate_signups_are_refused_and_store_nothing() {
    let app = TestApp::start().await;
    app.user("alice").await;
    let c = app.client();
    let cases = [
        (
            json!({"username": "ab", "email": "x@example.com", "password": PASSWORD}),
            400,
            "username_length",
        ),
        (
            json!({"username": "bad name", "email": "x@example.com", "password": PASSWORD}),
            400,
            "username_chars",
        ),
        (
            json!({"username": "<script>", "email": "x@example.com", "password": PASSWORD}),
            400,
            "username_chars",
        ),
        (
            json!({"username": "carol", "email": "not-an-email", "password": PASSWORD}),
            400,
            "email_invalid",
        ),
        (
            json!({"username": "carol", "email": "c@example.com", "password": "short"}),
            400,
            "password_length",
        ),
        (
            json!({"username": "ALICE", "email": "other@example.com", "password": PASSWORD}),
            409,
            "name_taken",
        ),
        (
            json!({"username": "carol", "email": "Alice@Example.com", "password": PASSWORD}),
            409,
            "email_taken",
        ),
        (json!({"username": "carol"}), 400, "field_missing"),
    ];
    for (body, status, code) in cases {
        let r = c
            .post(app.url("/api/v1/accounts"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{body}");
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], code, "{body}");
        assert!(!v["error"]["message"].as_str().unwrap().is_empty());
    }
    assert_eq!(app.count("users"), 1);

    // The sign-up page shows the error in the browser's language and keeps the input.
    let b = Browser::new(&app.base);
    let csrf = b.csrf("/signup").await;
    let r = b
        .client
        .post(app.url("/signup"))
        .header("accept-language", "fr-FR,fr;q=0.9")
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "alice"),
            ("email", "z@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(html.contains("Ce nom est déjà pris."), "{html}");
    assert!(html.contains("value=\"z@example.com\""));
    assert_eq!(app.count("users"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_and_rate_limit() {
    let app = TestApp::start_with(|c| {
        c.accounts.max_failures_per_account = 3;
        c.accounts.max_failures_per_address = 100;
    })
    .await;
    app.user("alice").await;
    for _ in 0..3 {
        let r = app.token_request("alice", "wrong password!").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "invalid_credentials");
    }
    // Locked for this account now, even with the right password.
    let r = app.token_request("alice", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "too_many_attempts");

    // The sign-in page says so too.
    let b = Browser::new(&app.base);
    let csrf = b.csrf("/login").await;
    let r = b
        .post_form(
            "/login",
            &[("csrf", &csrf), ("login", "alice"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Too many failed sign-in attempts"));
    assert_eq!(app.count("sessions"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_per_address() {
    let app = TestApp::start_with(|c| {
        c.accounts.max_failures_per_account = 100;
        c.accounts.max_failures_per_address = 4;
    })
    .await;
    app.user("alice").await;
    for i in 0..4 {
        let r = app
            .token_request(&format!("nobody{i}"), "whatever123")
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = app.token_request("alice", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csrf_is_required_on_every_form() {
    let app = TestApp::start().await;
    let b = app.browser_user("alice").await;
    let before = app.count("content");
    // Missing token.
    let r = b.post_form("/posts", &[("body", "hello")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("This form has expired"));
    // Wrong token.
    let r = b
        .post_form("/posts", &[("csrf", "forged"), ("body", "hello")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("content"), before);
    // Sign-in form without the anonymous token.
    let anon = Browser::new(&app.base);
    let r = anon
        .post_form("/login", &[("login", "alice"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = anon
        .post_form(
            "/signup",
            &[
                ("csrf", "x"),
                ("username", "mallory"),
                ("email", "m@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("users"), 1);
    // Other forms too.
    for path in [
        "/settings/password",
        "/settings/tokens",
        "/profile/edit",
        "/people/alice/follow",
        "/logout",
        "/admin/invitations",
    ] {
        let r = b.post_form(path, &[("csrf", "nope")]).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_expired_session_cookies_are_not_accepted() {
    let app = TestApp::start().await;
    let _b = app.browser_user("alice").await;
    let c = app.client();
    let r = c
        .get(app.url("/"))
        .header("cookie", "ruche_session=forged-token-value")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login");

    // A real cookie whose session has expired.
    let b = Browser::new(&app.base);
    let csrf = b.csrf("/login").await;
    let r = b
        .post_form(
            "/login",
            &[("csrf", &csrf), ("login", "alice"), ("password", PASSWORD)],
        )
        .await;
    let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
    let token = set
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("ruche_session=")
        .to_string();
    {
        use diesel::prelude::*;
        use ruche::db::schema::sessions;
        let mut conn = app.db.get().unwrap();
        let past = chrono::Utc::now().naive_utc() - chrono::Duration::days(1);
        diesel::update(sessions::table)
            .set(sessions::expires_at.eq(past))
            .execute(&mut *conn)
            .unwrap();
    }
    let r = c
        .get(app.url("/"))
        .header("cookie", format!("ruche_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_tokens_create_list_revoke() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let r = alice.post("/me/tokens", json!({"name": "script"})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let secret = r.json["token"].as_str().unwrap().to_string();
    let id = r.json["id"].as_i64().unwrap();
    let other = Api {
        base: app.base.clone(),
        token: secret.clone(),
        client: app.client(),
    };
    assert_eq!(other.get("/me").await.status, StatusCode::OK);
    let list = alice.get("/me/tokens").await;
    assert_eq!(list.json["items"].as_array().unwrap().len(), 2);
    assert!(
        !list.json.to_string().contains(&secret),
        "secrets are never listed"
    );

    assert_eq!(
        alice.delete(&format!("/me/tokens/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    let r = other.get("/me").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.code(), "token_invalid");
    // Revoking twice, or someone else's token, is not found.
    assert_eq!(
        alice.delete(&format!("/me/tokens/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    let bob = app.user("bob").await;
    let bob_tokens = bob.get("/me/tokens").await;
    let bob_id = bob_tokens.json["items"][0]["id"].as_i64().unwrap();
    assert_eq!(
        alice.delete(&format!("/me/tokens/{bob_id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(bob.get("/me").await.status, StatusCode::OK);

    // Empty names are refused.
    let r = alice.post("/me/tokens", json!({"name": "  "})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "token_name")
    );

    // No token, or a malformed header.
    let r = app
        .client()
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app
        .client()
        .get(app.url("/api/v1/feed"))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_from_the_settings_page() {
    let app = TestApp::start().await;
    let b = app.browser_user("alice").await;
    let csrf = b.csrf("/settings").await;
    let r = b
        .post_form("/settings/tokens", &[("csrf", &csrf), ("name", "laptop")])
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let html = r.text().await.unwrap();
    let start = html.find("<code id=\"new-token\">").unwrap() + "<code id=\"new-token\">".len();
    let secret = &html[start..start + html[start..].find('<').unwrap()];
    let api = Api {
        base: app.base.clone(),
        token: secret.to_string(),
        client: app.client(),
    };
    assert_eq!(api.get("/me").await.json["profile"]["username"], "alice");
    let list = api.get("/me/tokens").await;
    let id = list.json["items"][0]["id"].as_i64().unwrap();
    let r = b
        .post_form(&format!("/settings/tokens/{id}/revoke"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(api.get("/me").await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_change() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let r = alice
        .post(
            "/me/password",
            json!({"current_password": "wrong", "new_password": "another password"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "current_password_wrong")
    );
    let r = alice
        .post(
            "/me/password",
            json!({"current_password": PASSWORD, "new_password": "short"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "password_length")
    );
    let r = alice
        .post(
            "/me/password",
            json!({"current_password": PASSWORD, "new_password": "another password"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.token_request("alice", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app.token_request("alice", "another password").await;
    assert_eq!(r.status(), StatusCode::CREATED);

    // Through the settings page, other sessions end but this one stays.
    let b = app.browser_user("bob").await;
    let other = Browser::new(&app.base);
    let csrf = other.csrf("/login").await;
    other
        .post_form(
            "/login",
            &[("csrf", &csrf), ("login", "bob"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(other.get("/").await.status(), StatusCode::OK);
    let csrf = b.csrf("/settings").await;
    let r = b
        .post_form(
            "/settings/password",
            &[
                ("csrf", &csrf),
                ("current_password", PASSWORD),
                ("new_password", "bob's new password"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(b.get("/").await.status(), StatusCode::OK);
    assert_eq!(other.get("/").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitation_only_signup() {
    let app = TestApp::start_with(|c| c.accounts.signup = SignupMode::Invite).await;
    let c = app.client();
    let r = c
        .post(app.url("/api/v1/accounts"))
        .json(&json!({"username": "carol", "email": "c@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c
        .post(app.url("/api/v1/accounts"))
        .json(&json!({"username": "carol", "email": "c@example.com", "password": PASSWORD, "invite": "made-up"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("users"), 0);

    // An administrator created from the command line issues an invitation.
    app.create_account("admin", true);
    let admin = app.login_api("admin").await;
    let r = admin.post("/admin/invitations", json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let code = r.json["code"].as_str().unwrap().to_string();
    assert!(r.json["link"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/signup?invite={code}")));

    // The link pre-fills the form, and the code works once.
    let b = Browser::new(&app.base);
    let html = b.html(&format!("/signup?invite={code}")).await;
    assert!(html.contains(&format!("value=\"{code}\"")));
    let csrf = extract_csrf(&html).unwrap();
    let r = b
        .post_form(
            "/signup",
            &[
                ("csrf", &csrf),
                ("username", "carol"),
                ("email", "c@example.com"),
                ("password", PASSWORD),
                ("invite", &code),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = c
        .post(app.url("/api/v1/accounts"))
        .json(&json!({"username": "dave", "email": "d@example.com", "password": PASSWORD, "invite": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "invite_invalid");
    assert_eq!(app.count("users"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_signup() {
    let app = TestApp::start_with(|c| c.accounts.signup = SignupMode::Closed).await;
    let r = app
        .client()
        .post(app.url("/api/v1/accounts"))
        .json(&json!({"username": "carol", "email": "c@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let html = Browser::new(&app.base).html("/signup").await;
    assert!(html.contains("Sign-up is closed"));
    assert_eq!(app.count("users"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_disables_and_reenables_accounts() {
    let app = TestApp::start().await;
    let admin_browser = app.browser_user("boss").await;
    let bob = app.user("bob").await;
    let bob_browser = Browser::new(&app.base);
    let csrf = bob_browser.csrf("/login").await;
    bob_browser
        .post_form(
            "/login",
            &[("csrf", &csrf), ("login", "bob"), ("password", PASSWORD)],
        )
        .await;

    // Bob is no administrator.
    let r = bob.post("/admin/users/boss/disable", json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        bob_browser.get("/admin").await.status(),
        StatusCode::FORBIDDEN
    );

    let html = admin_browser.html("/admin").await;
    assert!(html.contains("bob@example.com"));
    let csrf = extract_csrf(&html).unwrap();
    let r = admin_browser
        .post_form("/admin/users/bob/disable", &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Sessions and tokens stop working; signing in is refused.
    assert_eq!(bob_browser.get("/").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(bob.get("/me").await.status, StatusCode::UNAUTHORIZED);
    let r = app
        .client()
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"login": "bob", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "account_disabled");
    // Re-enable.
    let r = admin_browser
        .post_form("/admin/users/bob/enable", &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Disabling revoked bob's tokens for good: he signs in again.
    assert_eq!(bob.get("/me").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.login_api("bob").await.get("/me").await.status,
        StatusCode::OK
    );
    // An admin cannot lock themself out.
    let r = admin_browser
        .post_form("/admin/users/boss/disable", &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

async fn token_from(app: &TestApp, forwarded_for: &str, password: &str) -> StatusCode {
    app.client()
        .post(app.url("/api/v1/auth/token"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"login": "alice", "password": password}))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn address_limit_behind_a_trusted_proxy_counts_the_real_client() {
    let app = TestApp::start_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1/32".into()];
        c.accounts.max_failures_per_account = 100;
        c.accounts.max_failures_per_address = 2;
    })
    .await;
    app.user("alice").await;
    for _ in 0..2 {
        assert_eq!(
            token_from(&app, "203.0.113.5", "wrong password").await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        token_from(&app, "203.0.113.5", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another client behind the same proxy is not locked out; a forged
    // left-most entry does not change who the proxy saw.
    assert_eq!(
        token_from(&app, "203.0.113.6", PASSWORD).await,
        StatusCode::CREATED
    );
    assert_eq!(
        token_from(&app, "198.51.100.1, 203.0.113.5", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_is_ignored_without_a_trusted_proxy() {
    let app = TestApp::start_with(|c| {
        c.accounts.max_failures_per_account = 100;
        c.accounts.max_failures_per_address = 2;
    })
    .await;
    app.user("alice").await;
    assert_eq!(
        token_from(&app, "203.0.113.1", "wrong password").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        token_from(&app, "203.0.113.2", "wrong password").await,
        StatusCode::UNAUTHORIZED
    );
    // Both failures counted for the real peer, whatever the header claimed.
    assert_eq!(
        token_from(&app, "203.0.113.3", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_sessions_and_old_failures_are_purged() {
    use diesel::prelude::*;
    use ruche::db::schema::{login_failures, sessions};
    let app = TestApp::start().await;
    let _live = app.browser_user("alice").await;
    let _old = app.browser_login("alice").await;
    assert_eq!(
        token_from(&app, "203.0.113.9", "wrong password").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        token_from(&app, "203.0.113.9", "wrong again").await,
        StatusCode::UNAUTHORIZED
    );
    let mut conn = app.db.get().unwrap();
    let past = chrono::Utc::now().naive_utc() - chrono::Duration::days(1);
    // Age one session and one failure.
    let one_session: String = sessions::table
        .select(sessions::id)
        .first(&mut *conn)
        .unwrap();
    diesel::update(sessions::table.find(&one_session))
        .set(sessions::expires_at.eq(past))
        .execute(&mut *conn)
        .unwrap();
    let one_failure: i64 = login_failures::table
        .select(login_failures::id)
        .first(&mut *conn)
        .unwrap();
    diesel::update(login_failures::table.find(one_failure))
        .set(login_failures::at.eq(past))
        .execute(&mut *conn)
        .unwrap();
    let purged = ruche::accounts::purge_expired(&mut conn, &app.config.accounts).unwrap();
    assert_eq!(purged, 2);
    assert_eq!(app.count("sessions"), 1);
    let left: i64 = login_failures::table
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(left, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_are_listed_and_can_be_withdrawn() {
    let app = TestApp::start_with(|c| c.accounts.signup = SignupMode::Invite).await;
    app.create_account("admin", true);
    let admin = app.login_api("admin").await;
    let first = admin.post("/admin/invitations", json!({})).await;
    let second = admin.post("/admin/invitations", json!({})).await;
    let (id1, code1) = (
        first.json["id"].as_i64().unwrap(),
        first.json["code"].as_str().unwrap().to_string(),
    );
    let code2 = second.json["code"].as_str().unwrap().to_string();
    let signup = |username: &'static str, code: String| {
        app.client()
            .post(app.url("/api/v1/accounts"))
            .json(&json!({"username": username, "email": format!("{username}@example.com"), "password": PASSWORD, "invite": code}))
            .send()
    };
    // Withdrawn: the link no longer works.
    assert_eq!(
        admin
            .delete(&format!("/admin/invitations/{id1}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        signup("carol", code1).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    // Used: cannot be withdrawn any more.
    assert_eq!(
        signup("dave", code2).await.unwrap().status(),
        StatusCode::CREATED
    );
    let id2 = second.json["id"].as_i64().unwrap();
    let r = admin.delete(&format!("/admin/invitations/{id2}")).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "invite_used"));
    assert_eq!(
        admin.delete("/admin/invitations/9999").await.status,
        StatusCode::NOT_FOUND
    );
    let dave = app.login_api("dave").await;
    let third = admin.post("/admin/invitations", json!({})).await;
    let id3 = third.json["id"].as_i64().unwrap();
    assert_eq!(
        dave.delete(&format!("/admin/invitations/{id3}"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // The admin page lists them with their status and withdraws from there.
    let b = app.browser_login("admin").await;
    let html = b.html("/admin").await;
    assert!(
        html.contains("Expired or withdrawn")
            && html.contains(">Used<")
            && html.contains("Waiting"),
        "{html}"
    );
    let csrf = extract_csrf(&html).unwrap();
    let r = b
        .post_form(
            &format!("/admin/invitations/{id3}/revoke"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(!b.html("/admin").await.contains("Waiting"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_an_account_needs_the_password_and_leaves_a_tombstone() {
    let app = TestApp::start().await;
    let admin = app.user("admin").await;
    let zoe = app.user("zoe").await;
    let r = zoe.post("/posts", json!({"body": "my last words"})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let posts_before = app.count("content");

    // A wrong password, or none: refused, nothing changes.
    let r = zoe
        .delete_json("/me", json!({"password": "not my password"}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.json);
    assert_eq!(r.json["error"]["code"], "current_password_wrong");
    let r = zoe.delete_json("/me", json!({})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(zoe.get("/me").await.status, StatusCode::OK);

    // The right password: the account is gone, its token with it.
    let r = zoe.delete_json("/me", json!({"password": PASSWORD})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.json);
    assert_eq!(zoe.get("/me").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(admin.get("/people/zoe").await.status, StatusCode::NOT_FOUND);
    // Its post stays as a tombstone (threads keep their shape), emptied.
    assert_eq!(app.count("content"), posts_before);
    let feed = admin.get("/tags/anything").await;
    assert_eq!(feed.status, StatusCode::OK);
    // The name stays reserved.
    let r = app
        .client()
        .post(app.url("/api/v1/accounts"))
        .json(&json!({"username": "zoe", "email": "zoe2@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    // An administrator deletes another account; a second time is 404.
    app.user("yann").await;
    assert_eq!(
        admin.delete("/admin/users/yann").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        admin.delete("/admin/users/yann").await.status,
        StatusCode::NOT_FOUND
    );
}
