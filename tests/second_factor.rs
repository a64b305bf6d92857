//! Two-step sign-in for local passwords: set up with a code from the app,
//! then every password sign-in (page or API) needs a code, used once, or a
//! recovery code, used once; wrong codes are limited like wrong passwords.

mod common;

use common::{extract_csrf, location, Browser, TestApp, PASSWORD};
use reqwest::StatusCode;
use serde_json::{json, Value};
use totp_rs::{Builder, Secret};

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The code an authenticator app with `secret` shows at `time`.
fn code_at(secret: &str, time: u64) -> String {
    Builder::new()
        .with_secret(Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap()
        .generate(time)
        .to_string()
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> Vec<&'a str> {
    html.split(start)
        .skip(1)
        .filter_map(|s| s.split(end).next())
        .collect()
}

async fn post(b: &Browser, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let csrf = b.csrf("/settings").await;
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    b.post_form(path, &all).await
}

/// Signs `ann` in with her password in a new browser: where it leads.
async fn password_step(app: &TestApp) -> (Browser, reqwest::Response) {
    let b = Browser::new(&app.base);
    let csrf = b.csrf("/login").await;
    let r = b
        .post_form(
            "/login",
            &[
                ("csrf", &csrf),
                ("login", "ann"),
                ("password", PASSWORD),
                ("next", "/people"),
            ],
        )
        .await;
    (b, r)
}

async fn send_code(b: &Browser, code: &str) -> reqwest::Response {
    let page = b.get("/login/code").await.text().await.unwrap();
    let csrf = extract_csrf(&page).unwrap_or_default();
    b.post_form("/login/code", &[("csrf", &csrf), ("code", code)])
        .await
}

#[tokio::test]
async fn two_step_sign_in_from_setup_to_every_sign_in() {
    let app = TestApp::start().await;
    app.create_account("ann", false);
    let b = app.browser_login("ann").await;
    let page = b.html("/settings").await;
    assert!(page.contains("Set up two-step sign-in"), "{page}");

    // Setup: a QR code and its key, waiting for a first code.
    let r = post(&b, "/settings/second-step", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = b.html("/settings").await;
    assert!(page.contains("src=\"data:image/png;base64,"), "{page}");
    let secret = between(&page, "<code class=\"secret\">", "</code>")[0].to_string();
    assert_eq!(secret.len(), 32, "{secret}");
    // A wrong first code turns nothing on.
    let r = post(&b, "/settings/second-step/enable", &[("code", "000000")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("This code is not right"));
    let t = now();
    let first = code_at(&secret, t);
    let r = post(&b, "/settings/second-step/enable", &[("code", &first)]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    let codes: Vec<String> = between(&page, "<li><code>", "</code>")
        .into_iter()
        .map(str::to_string)
        .collect();
    assert_eq!(codes.len(), 10, "{page}");
    assert!(b.html("/settings").await.contains("10 recovery codes left"));

    // A password alone opens no session: a code is asked.
    let (b2, r) = password_step(&app).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/login/code");
    assert_eq!(b2.get("/settings").await.status(), StatusCode::SEE_OTHER);
    let r = send_code(&b2, "123456").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // The code that turned it on was used: refused again.
    let r = send_code(&b2, &first).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Another browser cannot complete this sign-in.
    let other = Browser::new(&app.base);
    let r = send_code(&other, &code_at(&secret, t + 30)).await;
    assert!(
        r.status() == StatusCode::FORBIDDEN || r.status() == StatusCode::SEE_OTHER,
        "{}",
        r.status()
    );
    // The next code of the app (one step ahead is allowed) signs in.
    let next = code_at(&secret, t + 30);
    let r = send_code(&b2, &next).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/people");
    assert_eq!(b2.get("/settings").await.status(), StatusCode::OK);
    // Replayed in a new sign-in: refused.
    let (b3, _) = password_step(&app).await;
    assert_eq!(
        send_code(&b3, &next).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // A recovery code, in capitals with a space: once.
    let typed = codes[0].to_uppercase().replace('-', " ");
    assert_eq!(send_code(&b3, &typed).await.status(), StatusCode::SEE_OTHER);
    let (b4, _) = password_step(&app).await;
    assert_eq!(
        send_code(&b4, &codes[0]).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(b3.html("/settings").await.contains("9 recovery codes left"));

    // The API asks for the code too.
    let api = |body: Value| {
        let url = app.url("/api/v1/auth/token");
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap();
            let s = r.status();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, v) = api(json!({"login": "ann", "password": PASSWORD})).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("second_factor_required"))
    );
    let (s, v) = api(json!({"login": "ann", "password": PASSWORD, "code": "999999"})).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("code_invalid"))
    );
    let (s, v) = api(json!({"login": "ann", "password": PASSWORD, "code": codes[1]})).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");

    // Off again, with her password (a wrong one changes nothing).
    let r = post(
        &b3,
        "/settings/second-step/disable",
        &[("password", "wrong password")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (s, _) = api(json!({"login": "ann", "password": PASSWORD})).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let r = post(
        &b3,
        "/settings/second-step/disable",
        &[("password", PASSWORD)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (s, _) = api(json!({"login": "ann", "password": PASSWORD})).await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, r) = password_step(&app).await;
    assert_eq!(location(&r), "/people");
}

#[tokio::test]
async fn wrong_codes_are_limited_like_wrong_passwords() {
    let app = TestApp::start().await;
    app.create_account("ann", false);
    let b = app.browser_login("ann").await;
    post(&b, "/settings/second-step", &[]).await;
    let page = b.html("/settings").await;
    let secret = between(&page, "<code class=\"secret\">", "</code>")[0].to_string();
    let r = post(
        &b,
        "/settings/second-step/enable",
        &[("code", &code_at(&secret, now()))],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);

    let (b2, _) = password_step(&app).await;
    for _ in 0..5 {
        assert_eq!(
            send_code(&b2, "000000").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // The sixth guess is not even checked, right or not.
    let r = send_code(&b2, &code_at(&secret, now() + 30)).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(app.count("sessions"), 1);
}

#[tokio::test]
async fn where_asked_administrators_act_as_such_only_with_the_second_step_on() {
    let app = TestApp::start_with(|c| c.accounts.admins_need_second_step = true).await;
    app.create_account("boss", true);
    app.create_account("eve", false);
    let boss = app.login_api("boss").await;
    // Signed in, but without their rights: the admin API refuses them.
    let r = boss.post("/admin/users/eve/disable", json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.json);
    let b = app.browser_login("boss").await;
    let home = b.html("/").await;
    assert!(home.contains("Your administrator rights wait"), "{home}");
    assert_ne!(b.get("/admin").await.status(), StatusCode::OK);

    // With the second step on, they are administrators again.
    post(&b, "/settings/second-step", &[]).await;
    let page = b.html("/settings").await;
    let secret = between(&page, "<code class=\"secret\">", "</code>")[0].to_string();
    let r = post(
        &b,
        "/settings/second-step/enable",
        &[("code", &code_at(&secret, now()))],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(!b.html("/").await.contains("Your administrator rights wait"));
    assert_eq!(b.get("/admin").await.status(), StatusCode::OK);
    let r = boss.post("/admin/users/eve/disable", json!({})).await;
    assert!(r.status.is_success(), "{:?}", r.json);
}

/// Turns the authenticator app on for the account signed in on `b`; its
/// secret.
async fn app_on(b: &Browser) -> String {
    post(b, "/settings/second-step", &[]).await;
    let page = b.html("/settings").await;
    let secret = between(&page, "<code class=\"secret\">", "</code>")[0].to_string();
    let r = post(
        b,
        "/settings/second-step/enable",
        &[("code", &code_at(&secret, now()))],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    secret
}

#[tokio::test]
async fn an_administrator_turns_off_a_lost_second_step_and_the_person_is_told() {
    use common::smtp::{self, Smtp};
    if !smtp::available() {
        return;
    }
    let server = Smtp::start().await;
    let url = server.url();
    let app = TestApp::start_with(move |c| {
        c.mail.smtp_url = url;
        c.mail.retry_base_ms = 100;
    })
    .await;
    app.create_account("root", true);
    app.create_account("ann", false);
    let bob = app.user("bob").await;
    let ann = app.browser_login("ann").await;
    app_on(&ann).await;
    assert_eq!(
        app.token_request("ann", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // The console shows whose second step is on, with a button for them
    // only.
    let root = app.browser_login("root").await;
    let html = root.html("/admin").await;
    assert!(html.contains("/admin/users/ann/second-step"), "{html}");
    assert!(!html.contains("/admin/users/bob/second-step"));
    assert!(html.contains("Second step on"));

    // Refused: not an administrator, nobody's second step, one's own, nobody.
    let root_api = app.login_api("root").await;
    let r = bob.delete("/admin/users/ann/second-step").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = root_api.delete("/admin/users/bob/second-step").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "second_factor_off")
    );
    let r = root_api.delete("/admin/users/root/second-step").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "second_factor_reset_self")
    );
    let r = root_api.delete("/admin/users/nobody/second-step").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("recovery_codes"), 10, "nothing changed");
    assert_eq!(
        app.token_request("ann", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // From the console.
    let csrf = extract_csrf(&html).unwrap();
    let r = root
        .post_form(
            "/admin/users/ann/second-step",
            &[("csrf", csrf.as_str()), ("back", "/admin?q=ann")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    assert_eq!(to, "/admin?q=ann&notice=step_reset#people");
    assert!(root
        .html(&to)
        .await
        .contains("Their second sign-in step is off"));
    assert_eq!(app.count("recovery_codes"), 0);
    // Her sessions ended; her password alone signs in again.
    assert_eq!(ann.get("/settings").await.status(), StatusCode::SEE_OTHER);
    let (_, r) = password_step(&app).await;
    assert_eq!(location(&r), "/people");
    assert_eq!(
        app.token_request("ann", PASSWORD).await.status(),
        StatusCode::CREATED
    );
    // She is told, and by whom.
    let m = &server.wait_kind("second_step_reset", 1).await[0];
    assert_eq!(m.to, "ann@example.com");
    assert!(m.subject.contains("second step"), "{}", m.subject);
    assert!(m.text.contains("root"), "{}", m.text);
    assert!(m.text.contains("If you did not ask for this"), "{}", m.text);

    // Through the API, once she has set it up again.
    let ann = app.browser_login("ann").await;
    app_on(&ann).await;
    let r = root_api.delete("/admin/users/ann/second-step").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.token_request("ann", PASSWORD).await.status(),
        StatusCode::CREATED
    );
    let users = root_api.get("/admin/users?q=ann").await;
    assert_eq!(
        users.json["items"][0]["second_step"], false,
        "{}",
        users.json
    );
}
