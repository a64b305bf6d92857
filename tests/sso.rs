//! Sign-in with the company's identity provider (OpenID Connect), against
//! a real provider (`oidc-provider`, see `common::oidc`) and its own login
//! page: accounts made and refreshed from its claims, an existing account
//! linked only after its password, and every forged, foreign, expired,
//! replayed or out-of-domain answer refused with nothing stored.

mod common;

use common::oidc::{self, Provider, Tamper};
use common::{location, Browser, TestApp, PASSWORD};
use diesel::prelude::*;
use reqwest::StatusCode;
use ruche::config::{SsoClaims, SsoProvider};
use serde_json::{json, Value};

fn alice() -> Value {
    json!({
        "email": "alice@corp.example",
        "email_verified": true,
        "preferred_username": "alice.martin",
        "name": "Alice Martin",
        "department": "R&D",
        "job_title": "Engineer",
        "site": "Lyon",
        "groups": ["staff"]
    })
}

/// The provider as an administrator writes it in the configuration file.
fn provider_config(issuer: &str) -> SsoProvider {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ruche.toml");
    std::fs::write(
        &file,
        format!(
            r#"
[[accounts.sso]]
id = "corp"
name = "Contoso"
issuer = "{issuer}"
client_id = "{}"
client_secret = "{}"
scopes = ["email", "profile", "work"]
allowed_domains = ["corp.example", "example.com"]
admin_group = "ruche-admins"
"#,
            oidc::CLIENT_ID,
            oidc::CLIENT_SECRET
        ),
    )
    .unwrap();
    let cfg = ruche::Config::load_from(Some(&file), &[]).unwrap();
    let p = cfg.accounts.sso[0].clone();
    assert!(p.passwords, "passwords stay allowed unless said");
    assert_eq!(p.claims.username, SsoClaims::default().username);
    p
}

/// An instance with the provider `corp`, and that provider running (with
/// `clock_offset` seconds of error on its clock); `None` when it cannot
/// run here.
async fn setup_with(
    accounts: Value,
    clock_offset: i64,
    tweak: impl FnOnce(&mut SsoProvider),
) -> Option<(TestApp, Provider)> {
    if !oidc::available() {
        return None;
    }
    let planned = oidc::plan();
    let mut p = provider_config(&planned.issuer);
    tweak(&mut p);
    let app = TestApp::start_with(move |c| c.accounts.sso = vec![p]).await;
    let provider = planned
        .start(&app.base, "corp", accounts, clock_offset)
        .await;
    Some((app, provider))
}

async fn setup(accounts: Value) -> Option<(TestApp, Provider)> {
    setup_with(accounts, 0, |_| {}).await
}

/// Starts a sign-in in `b`; the provider's URL it leads to.
async fn start(b: &Browser) -> String {
    let r = b.get("/login/sso/corp?next=/people").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    location(&r)
}

/// The URL the provider sends `b` back to, after `login` signed in there.
async fn at_provider(app: &TestApp, b: &Browser, to: String, login: &str) -> String {
    oidc::through_login(&b.client, to, login, &app.url("/login/sso/corp/callback")).await
}

/// A whole sign-in of `login` in `b`: Ruche's answer to the way back.
async fn sign_in(app: &TestApp, b: &Browser, login: &str) -> reqwest::Response {
    let to = start(b).await;
    let back = at_provider(app, b, to, login).await;
    b.client.get(back).send().await.unwrap()
}

#[derive(Debug, PartialEq)]
struct Row {
    username: String,
    email: String,
    display_name: String,
    department: String,
    job_title: String,
    site: String,
    is_admin: bool,
    password_hash: String,
}

fn account(app: &TestApp, email: &str) -> Row {
    use ruche::db::schema::users::dsl as u;
    let mut c = app.db.get().unwrap();
    let (username, email, display_name, department, job_title, site, is_admin, password_hash) =
        u::users
            .filter(u::email.eq(email))
            .select((
                u::username,
                u::email,
                u::display_name,
                u::department,
                u::job_title,
                u::site,
                u::is_admin,
                u::password_hash,
            ))
            .first::<(String, String, String, String, String, String, bool, String)>(&mut *c)
            .unwrap();
    Row {
        username,
        email,
        display_name,
        department,
        job_title,
        site,
        is_admin,
        password_hash,
    }
}

async fn refused(r: reqwest::Response, status: StatusCode, says: &str) {
    assert_eq!(r.status(), status);
    let page = r.text().await.unwrap();
    assert!(page.contains(says), "{says:?} not in {page}");
}

#[tokio::test]
async fn the_first_sign_in_makes_the_account_and_later_ones_refresh_it() {
    let Some((app, provider)) = setup(json!({ "alice": alice() })).await else {
        return;
    };
    // The sign-in page offers the provider.
    let b = Browser::new(&app.base);
    let page = b.html("/login").await;
    assert!(page.contains("Sign in with Contoso"), "{page}");
    assert!(page.contains("href=\"/login/sso/corp?next="), "{page}");

    let r = sign_in(&app, &b, "alice").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/people");
    let row = account(&app, "alice@corp.example");
    assert_eq!(
        row,
        Row {
            username: "alice_martin".into(),
            email: "alice@corp.example".into(),
            display_name: "Alice Martin".into(),
            department: "R&D".into(),
            job_title: "Engineer".into(),
            site: "Lyon".into(),
            is_admin: false,
            password_hash: "!".into(),
        }
    );
    assert_eq!(app.count("sso_identities"), 1);
    assert_eq!(app.count("sso_pending"), 0);
    // Signed in: the settings page is hers.
    let settings = b.html("/settings").await;
    assert!(settings.contains("alice_martin"), "{settings}");
    // Her colleagues find her with what the provider said.
    let profile = b.html("/people/alice_martin").await;
    assert!(
        profile.contains(">R&#38;D<") && profile.contains(">Lyon<"),
        "{profile}"
    );

    // She moves to Sales and joins the administrators' group: her next
    // sign-in (another browser) finds the same account and refreshes it.
    let mut moved = alice();
    moved["department"] = json!("Sales");
    moved["groups"] = json!(["staff", "ruche-admins"]);
    provider.set_accounts(json!({ "alice": moved }));
    let b2 = Browser::new(&app.base);
    let r = sign_in(&app, &b2, "alice").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let row = account(&app, "alice@corp.example");
    assert_eq!((row.department.as_str(), row.is_admin), ("Sales", true));
    assert_eq!(app.count("users"), 1);
    assert_eq!(app.count("sso_identities"), 1);

    // Out of the group, out of the administrators.
    provider.set_accounts(json!({ "alice": alice() }));
    let r = sign_in(&app, &Browser::new(&app.base), "alice").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let row = account(&app, "alice@corp.example");
    assert_eq!((row.department.as_str(), row.is_admin), ("R&D", false));

    // The console shows the provider and its one account.
    app.create_account("boss", true);
    let console = app.browser_login("boss").await.html("/admin").await;
    assert!(console.contains("Contoso"), "{console}");
    assert!(console.contains(&provider.issuer), "{console}");

    // She has no password here: a password sign-in fails as any wrong one.
    let r = app.token_request("alice_martin", "!").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_existing_account_is_linked_only_after_its_password() {
    let bob = json!({ "email": "bob@example.com", "email_verified": true, "name": "Bob Durand",
                      "preferred_username": "bob" });
    let Some((app, _provider)) =
        setup_with(json!({ "bob": bob }), 0, |p| p.passwords = false).await
    else {
        return;
    };
    app.create_account("bob", false);
    app.create_account("carol", false);
    let b = Browser::new(&app.base);
    let r = sign_in(&app, &b, "bob").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/login/sso/link");
    let page = b.html("/login/sso/link").await;
    assert!(page.contains("@bob") && page.contains("Contoso"), "{page}");
    assert_eq!(app.count("sso_identities"), 0);

    // A wrong password links nothing.
    let csrf = common::extract_csrf(&page).unwrap();
    let r = b
        .post_form(
            "/login/sso/link",
            &[("csrf", &csrf), ("password", "not his password")],
        )
        .await;
    refused(r, StatusCode::UNAUTHORIZED, "Wrong username or password").await;
    assert_eq!(app.count("sso_identities"), 0);
    assert_eq!(app.count("users"), 2);

    // Another browser without the link cookie cannot use it.
    let other = Browser::new(&app.base);
    let csrf2 = other.csrf("/login").await;
    let r = other
        .post_form(
            "/login/sso/link",
            &[("csrf", &csrf2), ("password", PASSWORD)],
        )
        .await;
    refused(r, StatusCode::FORBIDDEN, "no longer valid").await;
    assert_eq!(app.count("sso_identities"), 0);

    let r = b
        .post_form(
            "/login/sso/link",
            &[("csrf", &csrf), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("sso_identities"), 1);
    assert_eq!(app.count("users"), 2);
    let row = account(&app, "bob@example.com");
    assert_eq!(row.display_name, "Bob Durand");
    assert!(b.html("/settings").await.contains("bob@example.com"));

    // Later sign-ins go straight in.
    let r = sign_in(&app, &Browser::new(&app.base), "bob").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/people");

    // This provider keeps passwords off for its people: Bob's password
    // no longer opens his account; Carol, not linked, keeps hers.
    let r = app.token_request("bob", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "sso_password_off");
    assert!(app
        .token_request("carol", PASSWORD)
        .await
        .status()
        .is_success());
}

#[tokio::test]
async fn an_unverified_address_or_one_outside_the_domains_is_refused() {
    let Some((app, _provider)) = setup(json!({
        "bob": { "email": "bob@example.com", "email_verified": false },
        "eve": { "email": "eve@elsewhere.example", "email_verified": true },
        "nomail": { "name": "No Mail" },
    }))
    .await
    else {
        return;
    };
    app.create_account("bob", false);
    let r = sign_in(&app, &Browser::new(&app.base), "bob").await;
    refused(r, StatusCode::FORBIDDEN, "does not say it is verified").await;
    let r = sign_in(&app, &Browser::new(&app.base), "eve").await;
    refused(
        r,
        StatusCode::FORBIDDEN,
        "Addresses of elsewhere.example may not sign in",
    )
    .await;
    let r = sign_in(&app, &Browser::new(&app.base), "nomail").await;
    refused(r, StatusCode::FORBIDDEN, "gave no e-mail address").await;
    assert_eq!(app.count("users"), 1);
    assert_eq!(app.count("sso_identities"), 0);
    assert_eq!(app.count("sessions"), 0);
}

#[tokio::test]
async fn forged_or_foreign_id_tokens_are_refused() {
    let Some((app, provider)) = setup(json!({ "alice": alice() })).await else {
        return;
    };
    let nothing_stored = |app: &TestApp| {
        assert_eq!(app.count("users"), 0);
        assert_eq!(app.count("sso_identities"), 0);
        assert_eq!(app.count("sessions"), 0);
    };
    let says = "could not be verified";

    // The signature broken on the way.
    provider.tamper(Tamper::BreakSignature);
    let r = sign_in(&app, &Browser::new(&app.base), "alice").await;
    refused(r, StatusCode::FORBIDDEN, says).await;
    nothing_stored(&app);

    // Real tokens of the provider, with this sign-in's nonce, but issued
    // to another application: only the audience is wrong.
    provider.tamper(Tamper::None);
    let b = Browser::new(&app.base);
    let to = start(&b).await;
    let nonce = reqwest::Url::parse(&to)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "nonce")
        .map(|(_, v)| v.to_string())
        .unwrap();
    let foreign = provider
        .tokens_for(oidc::OTHER_ID, oidc::OTHER_REDIRECT, "alice", &nonce)
        .await;
    provider.tamper(Tamper::Replace(foreign));
    let back = at_provider(&app, &b, to, "alice").await;
    let r = b.client.get(back).send().await.unwrap();
    refused(r, StatusCode::FORBIDDEN, says).await;
    nothing_stored(&app);

    // Real tokens for this application, from another sign-in: replayed
    // here, only the nonce is wrong.
    let callback = app.url("/login/sso/corp/callback");
    provider.tamper(Tamper::None);
    let earlier = provider
        .tokens_for(
            oidc::CLIENT_ID,
            &callback,
            "alice",
            "the nonce of another sign-in",
        )
        .await;
    provider.tamper(Tamper::Replace(earlier));
    let r = sign_in(&app, &Browser::new(&app.base), "alice").await;
    refused(r, StatusCode::FORBIDDEN, says).await;
    nothing_stored(&app);

    // Untouched, the same sign-in works.
    provider.tamper(Tamper::None);
    let r = sign_in(&app, &Browser::new(&app.base), "alice").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("users"), 1);
}

#[tokio::test]
async fn an_expired_id_token_is_refused() {
    // The provider's clock is ten minutes late and its ID tokens last one
    // minute: those it signs expired nine minutes ago.
    let Some((app, _provider)) = setup_with(json!({ "alice": alice() }), -600, |_| {}).await else {
        return;
    };
    let r = sign_in(&app, &Browser::new(&app.base), "alice").await;
    refused(r, StatusCode::FORBIDDEN, "could not be verified").await;
    assert_eq!(app.count("users"), 0);
    assert_eq!(app.count("sessions"), 0);
}

#[tokio::test]
async fn a_replayed_or_foreign_state_is_refused() {
    let Some((app, _provider)) = setup(json!({ "alice": alice() })).await else {
        return;
    };
    let says = "no longer valid";
    let a = Browser::new(&app.base);
    let to = start(&a).await;
    let back = at_provider(&app, &a, to, "alice").await;
    // The way back opened in another browser (one an attacker lured there
    // to sign it in as them): refused, and it spends nothing of A's.
    let other = Browser::new(&app.base);
    let r = other.client.get(&back).send().await.unwrap();
    refused(r, StatusCode::FORBIDDEN, says).await;
    assert_eq!(app.count("users"), 0);

    let r = a.client.get(&back).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("users"), 1);
    assert_eq!(app.count("sessions"), 1);

    // Replayed, even with the state's cookie put back by hand: refused.
    let state = reqwest::Url::parse(&back)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.to_string())
        .unwrap();
    let r = reqwest::Client::new()
        .get(&back)
        .header("cookie", format!("ruche_sso={state}"))
        .send()
        .await
        .unwrap();
    refused(r, StatusCode::FORBIDDEN, says).await;
    // A made-up state, and a provider that does not exist.
    let r = reqwest::Client::new()
        .get(app.url("/login/sso/corp/callback?code=x&state=made-up"))
        .header("cookie", "ruche_sso=made-up")
        .send()
        .await
        .unwrap();
    refused(r, StatusCode::FORBIDDEN, says).await;
    assert_eq!(
        Browser::new(&app.base)
            .get("/login/sso/nowhere")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.count("sessions"), 1);
}

#[tokio::test]
async fn signing_out_signs_out_at_the_provider_and_a_disabled_account_stays_out() {
    let Some((app, provider)) = setup(json!({ "alice": alice() })).await else {
        return;
    };
    let b = Browser::new(&app.base);
    assert_eq!(
        sign_in(&app, &b, "alice").await.status(),
        StatusCode::SEE_OTHER
    );
    let csrf = b.csrf("/settings").await;
    let r = b.post_form("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    assert!(
        to.starts_with(&format!("{}/session/end?", provider.issuer)),
        "{to}"
    );
    assert!(to.contains("id_token_hint="), "{to}");
    assert!(
        to.contains(&format!(
            "post_logout_redirect_uri={}",
            common::urlencode(&app.url("/login"))
        )),
        "{to}"
    );
    assert_eq!(app.count("sessions"), 0);
    // The provider knows the hint and shows its sign-out page.
    let r = b.client.get(&to).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // An administrator disables her account: her provider no longer signs
    // her in here.
    app.create_account("admin", true);
    let admin = app.login_api("admin").await;
    let r = admin
        .post("/admin/users/alice_martin/disable", json!({}))
        .await;
    assert!(r.status.is_success(), "{:?}", r.json);
    let r = sign_in(&app, &Browser::new(&app.base), "alice").await;
    refused(r, StatusCode::FORBIDDEN, "This account is disabled").await;
    assert_eq!(app.count("sessions"), 0);
}

#[tokio::test]
async fn a_provider_that_cannot_be_reached_is_said_so() {
    // Nothing listens at the issuer.
    let port = common::smtp::free_port();
    let p = provider_config(&format!("http://127.0.0.1:{port}"));
    let app = TestApp::start_with(move |c| c.accounts.sso = vec![p]).await;
    let r = Browser::new(&app.base).get("/login/sso/corp").await;
    refused(r, StatusCode::BAD_GATEWAY, "Contoso cannot be reached").await;
    assert_eq!(app.count("sso_pending"), 0);
}

#[tokio::test]
async fn an_account_the_directory_made_is_signed_in_by_the_provider() {
    let Some((app, _provider)) = setup(json!({ "alice": alice() })).await else {
        return;
    };
    // The directory (SCIM) made her account before her first day: it has
    // no password, and her provider signs her into it, without asking one.
    let id = {
        let mut c = app.db.get().unwrap();
        let client = ruche::accounts::provisioning::create_client(&mut c, "entra").unwrap();
        let client = ruche::accounts::provisioning::client_by_token(&mut c, &client).unwrap();
        let p = ruche::accounts::provisioning::Person {
            user_name: "alice.martin@corp.example".into(),
            email: "alice@corp.example".into(),
            active: true,
            given_name: "Alice".into(),
            family_name: "Martin".into(),
            ..Default::default()
        };
        ruche::accounts::provisioning::create(&mut c, client, &p)
            .unwrap()
            .user
            .id
    };
    let r = sign_in(&app, &Browser::new(&app.base), "alice").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/people");
    assert_eq!(app.count("users"), 1);
    assert_eq!(app.count("sso_identities"), 1);
    let row = account(&app, "alice@corp.example");
    assert_eq!(
        (row.username.as_str(), row.department.as_str()),
        ("alice_martin", "R&D")
    );
    let linked: i64 = {
        use ruche::db::schema::sso_identities::dsl as i;
        let mut c = app.db.get().unwrap();
        i::sso_identities.select(i::user_id).first(&mut *c).unwrap()
    };
    assert_eq!(linked, id);
}

#[tokio::test]
async fn an_account_with_two_step_sign_in_is_not_linked_by_its_password_alone() {
    let bob = json!({ "email": "bob@example.com", "email_verified": true, "name": "Bob Durand" });
    let Some((app, _provider)) = setup(json!({ "bob": bob })).await else {
        return;
    };
    app.create_account("bob", false);
    {
        use ruche::accounts::second_factor;
        let mut c = app.db.get().unwrap();
        let user = ruche::accounts::find_by_username(&mut c, "bob").unwrap();
        let setup = second_factor::begin_setup(&mut c, &user, "Ruche").unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let code = totp_rs::Builder::new()
            .with_secret(totp_rs::Secret::try_from_base32(&setup.secret).unwrap())
            .build()
            .unwrap()
            .generate(now)
            .to_string();
        second_factor::enable(&mut c, &app.config.accounts, &user, &code, "127.0.0.1").unwrap();
    }
    let b = Browser::new(&app.base);
    let r = sign_in(&app, &b, "bob").await;
    assert_eq!(location(&r), "/login/sso/link");
    let page = b.html("/login/sso/link").await;
    let csrf = common::extract_csrf(&page).unwrap();
    let r = b
        .post_form(
            "/login/sso/link",
            &[("csrf", &csrf), ("password", PASSWORD)],
        )
        .await;
    refused(r, StatusCode::FORBIDDEN, "two-step sign-in").await;
    assert_eq!(app.count("sso_identities"), 0);
    assert_eq!(app.count("sessions"), 0);
}

/// Each sign-in begun is a row until it is taken or expires: one client
/// address may have only a few under way, so that requests to the
/// provider's button cannot fill the table (before, every request added a
/// row).
#[tokio::test]
async fn one_address_may_begin_only_a_few_sign_ins_at_once() {
    let Some((app, _provider)) = setup(json!({ "alice": alice() })).await else {
        return;
    };
    let b = Browser::new(&app.base);
    for _ in 0..ruche::accounts::sso::PENDING_PER_ADDRESS {
        start(&b).await;
    }
    let r = b.get("/login/sso/corp?next=/people").await;
    refused(r, StatusCode::TOO_MANY_REQUESTS, "Too many sign-ins").await;
    assert_eq!(
        app.count("sso_pending"),
        ruche::accounts::sso::PENDING_PER_ADDRESS
    );
}

/// Someone who signs in through the provider (no password of this site)
/// adds a passkey within minutes of signing in there, without recovery
/// codes (they have no password sign-in to complete); the passkey signs in
/// while the provider keeps vouching for them, and a sign-in there renews
/// it.
#[tokio::test]
async fn an_account_of_the_provider_adds_a_passkey_that_lasts_while_it_signs_in_there() {
    use common::passkey::{add_on_page, sign_in_on_page, SoftPasskey};
    if !oidc::available() {
        return;
    }
    let planned = oidc::plan();
    let p = provider_config(&planned.issuer);
    // Passkeys need a site named by a host.
    let app = TestApp::start_with(move |c| {
        c.accounts.sso = vec![p];
        c.base_url = c.base_url.replace("127.0.0.1", "localhost");
    })
    .await;
    let base_url = app.config.base_url.clone();
    let _provider = planned
        .start(&base_url, "corp", json!({ "alice": alice() }), 0)
        .await;
    // A whole sign-in there; the way back is asked of the address the
    // browser's cookies belong to.
    async fn through_provider(b: &Browser, base_url: &str) {
        let to = start(b).await;
        let back_to = format!("{base_url}/login/sso/corp/callback");
        let back = oidc::through_login(&b.client, to, "alice", &back_to).await;
        let r = b
            .client
            .get(back.replace("localhost", "127.0.0.1"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&r), "/people");
    }
    let b = Browser::new(&app.base);
    through_provider(&b, &base_url).await;
    let settings = b.html("/settings").await;
    assert!(settings.contains("data-passkey-add"), "offered now");
    assert!(!settings.contains("passkey-new-password"));

    let mut key = SoftPasskey::new(&base_url);
    let r = add_on_page(&b, &mut key, "", "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert!(r.json["recovery_codes"].is_null(), "{}", r.json);
    assert!(!b.html("/settings").await.contains("recovery codes left"));

    let r = sign_in_on_page(&app.base, &mut key).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);

    // Later in the day: sign in again there first.
    {
        use ruche::db::schema::sessions;
        let mut c = app.db.get().unwrap();
        diesel::update(sessions::table)
            .set(sessions::created_at.eq(ruche::db::now() - chrono::Duration::hours(3)))
            .execute(&mut *c)
            .unwrap();
    }
    let settings = b.html("/settings").await;
    assert!(
        settings.contains("href=\"/login/sso/corp?next=%2Fsettings%23passkeys\""),
        "{settings}"
    );
    assert!(settings.contains("Sign in again with Contoso"));
    let csrf = b.csrf("/settings").await;
    let r = b
        .post_json(
            "/settings/passkeys/options",
            json!({"csrf": csrf, "password": ""}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "passkey_sign_in_again")
    );
    let id: i64 = {
        use ruche::db::schema::passkeys;
        let mut c = app.db.get().unwrap();
        passkeys::table.select(passkeys::id).first(&mut *c).unwrap()
    };
    let r = b
        .post_form(
            &format!("/settings/passkeys/{id}/delete"),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "not removed either");
    assert_eq!(app.count("passkeys"), 1);

    // A month without signing in there: the passkey alone no longer does.
    {
        use ruche::db::schema::sso_identities;
        let mut c = app.db.get().unwrap();
        diesel::update(sso_identities::table)
            .set(sso_identities::last_login_at.eq(ruche::db::now() - chrono::Duration::days(31)))
            .execute(&mut *c)
            .unwrap();
    }
    let r = sign_in_on_page(&app.base, &mut key).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "passkey_company_again")
    );
    through_provider(&b, &base_url).await;
    let r = sign_in_on_page(&app.base, &mut key).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
}
