//! SCIM 2.0 provisioning, with requests shaped as Entra ID and Okta send
//! them (from their documentation): joiners created, changes applied,
//! leavers disabled at once, and every bad request refused with a SCIM
//! error and nothing changed.

mod common;

use common::TestApp;
use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const SCIM: &str = "application/scim+json";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

struct Scim {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Scim {
    fn new(app: &TestApp, name: &str) -> Scim {
        let mut c = app.db.get().unwrap();
        let token = ruche::accounts::provisioning::create_client(&mut c, name).unwrap();
        Scim {
            base: app.url("/scim/v2"),
            token,
            http: reqwest::Client::new(),
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.header("content-type", SCIM).body(b.to_string());
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        if status != StatusCode::NO_CONTENT {
            assert_eq!(
                r.headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok()),
                Some(SCIM),
                "{path}"
            );
        }
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }
    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }
    async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }
    async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }
    async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::DELETE, path, None).await
    }
}

#[derive(Debug, PartialEq)]
struct Account {
    username: String,
    email: String,
    display_name: String,
    department: String,
    job_title: String,
    site: String,
    disabled: bool,
    password_hash: String,
}

fn account(app: &TestApp, id: &str) -> Account {
    use ruche::db::schema::users::dsl as u;
    let mut c = app.db.get().unwrap();
    let id: i64 = id.parse().unwrap();
    let (username, email, display_name, department, job_title, site, disabled, password_hash) =
        u::users
            .find(id)
            .select((
                u::username,
                u::email,
                u::display_name,
                u::department,
                u::job_title,
                u::site,
                u::disabled,
                u::password_hash,
            ))
            .first::<(String, String, String, String, String, String, bool, String)>(&mut *c)
            .unwrap();
    Account {
        username,
        email,
        display_name,
        department,
        job_title,
        site,
        disabled,
        password_hash,
    }
}

/// An API token of the account `id`, as if its person had made one.
fn token_of(app: &TestApp, id: &str) -> String {
    let mut c = app.db.get().unwrap();
    ruche::accounts::create_token(&mut c, id.parse().unwrap(), "phone")
        .unwrap()
        .1
}

async fn me(app: &TestApp, token: &str) -> StatusCode {
    reqwest::Client::new()
        .get(app.url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

/// Entra ID's "create user", as its provisioning service sends it.
fn entra_user() -> Value {
    json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Alice.Martin@contoso.example",
        "active": true,
        "emails": [{"primary": true, "type": "work", "value": "alice.martin@contoso.example"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "Alice Martin", "familyName": "Martin", "givenName": "Alice"},
        "title": "Engineer",
        "addresses": [{"type": "work", "locality": "Lyon", "primary": true}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "department": "R&D",
            "manager": {"value": "2819c223-7f76-453a-919d-413861904646"}
        },
        "roles": []
    })
}

#[tokio::test]
async fn entra_id_provisions_a_joiner_changes_them_and_cuts_off_the_leaver() {
    let app = TestApp::start().await;
    let scim = Scim::new(&app, "entra");
    // Entra ID first looks the person up.
    let (s, v) = scim
        .get("/Users?filter=userName+eq+%22Alice.Martin%40contoso.example%22")
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["totalResults"], 0);
    assert_eq!(
        v["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:ListResponse"
    );

    let (s, v) = scim.post("/Users", entra_user()).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(v["userName"], "Alice.Martin@contoso.example");
    assert_eq!(v["externalId"], "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef");
    assert_eq!(v["active"], true);
    assert_eq!(
        account(&app, &id),
        Account {
            username: "alice_martin".into(),
            email: "alice.martin@contoso.example".into(),
            display_name: "Alice Martin".into(),
            department: "R&D".into(),
            job_title: "Engineer".into(),
            site: "Lyon".into(),
            disabled: false,
            password_hash: "!".into(),
        }
    );
    // Found by userName (any case), externalId or e-mail.
    for q in [
        "filter=userName%20eq%20%22alice.martin%40CONTOSO.example%22",
        "filter=externalId%20eq%20%220a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef%22",
        "filter=emails%5Btype%20eq%20%22work%22%5D.value%20eq%20%22alice.martin%40contoso.example%22",
    ] {
        let (s, v) = scim.get(&format!("/Users?{q}")).await;
        assert_eq!(s, StatusCode::OK, "{q}: {v}");
        assert_eq!(v["totalResults"], 1, "{q}: {v}");
        assert_eq!(v["Resources"][0]["id"], id.as_str());
    }
    let (s, v) = scim.get(&format!("/Users/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"],
        "R&D"
    );

    // She moves to Sales (Entra ID's PATCH, capitalised ops, extension path).
    let (s, v) = scim
        .patch(
            &format!("/Users/{id}"),
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [
                    {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Sales"},
                    {"op": "Add", "path": "title", "value": "Account manager"},
                    {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "alice.martin@sales.contoso.example"}
                ]
            }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let a = account(&app, &id);
    assert_eq!(
        (
            a.department.as_str(),
            a.job_title.as_str(),
            a.email.as_str()
        ),
        (
            "Sales",
            "Account manager",
            "alice.martin@sales.contoso.example"
        )
    );

    // She leaves: Entra ID sets active to "False". Her token stops at once.
    let token = token_of(&app, &id);
    assert_eq!(me(&app, &token).await, StatusCode::OK);
    let (s, v) = scim
        .patch(
            &format!("/Users/{id}"),
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                   "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["active"], false);
    assert!(account(&app, &id).disabled);
    assert_eq!(me(&app, &token).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.count("api_tokens"), 1);

    // Back (a rehire): enabled, the old token still ended.
    let (s, v) = scim
        .patch(
            &format!("/Users/{id}"),
            json!({"Operations": [{"op": "Replace", "path": "active", "value": true}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(!account(&app, &id).disabled);
    assert_eq!(me(&app, &token).await, StatusCode::UNAUTHORIZED);

    // Deleted: disabled, no longer provisioned, what she wrote stays.
    let (s, _) = scim.delete(&format!("/Users/{id}")).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = scim.get(&format!("/Users/{id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(
        v["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    assert!(account(&app, &id).disabled);
    assert_eq!(app.count("users"), 1);
}

#[tokio::test]
async fn okta_provisions_replaces_with_put_and_deactivates_without_a_path() {
    let app = TestApp::start().await;
    // An account made by hand before the directory came, with a password.
    app.create_account("bob", false);
    let scim = Scim::new(&app, "okta");
    let okta = |given: &str| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "test.user@okta.local",
            "name": {"givenName": given, "familyName": "User"},
            "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
            "displayName": format!("{given} User"),
            "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7",
            "groups": [],
            "password": "1mz050nq",
            "active": true
        })
    };
    let (s, v) = scim
        .get("/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100")
        .await;
    assert_eq!((s, v["totalResults"].as_i64()), (StatusCode::OK, Some(0)));
    let (s, v) = scim.post("/Users", okta("Test")).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    // The password Okta sends is not kept: the account signs in at the
    // company's identity provider.
    assert_eq!(account(&app, &id).password_hash, "!");
    assert_eq!(account(&app, &id).display_name, "Test User");

    let (s, v) = scim.put(&format!("/Users/{id}"), okta("Tess")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["name"]["givenName"], "Tess");
    assert_eq!(account(&app, &id).display_name, "Tess User");

    let (s, v) = scim
        .patch(
            &format!("/Users/{id}"),
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                   "Operations": [{"op": "replace", "value": {"active": false}}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(account(&app, &id).disabled);

    // Bob's account, made by hand with a password, is not taken over by
    // a token that names his address.
    let mut bob = okta("Bob");
    bob["userName"] = json!("bob@okta.local");
    bob["externalId"] = json!("00ubob");
    bob["emails"] = json!([{"primary": true, "value": "bob@example.com", "type": "work"}]);
    let (s, v) = scim.post("/Users", bob.clone()).await;
    assert_eq!(
        (s, v["scimType"].as_str()),
        (StatusCode::CONFLICT, Some("uniqueness")),
        "{v}"
    );
    assert_eq!(app.count("users"), 2);
    bob["emails"] = json!([{"primary": true, "value": "bob@okta.local", "type": "work"}]);
    let (s, v) = scim.post("/Users", bob).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(app.count("users"), 3);
    // Paging, in the order the accounts were made.
    let (s, v) = scim.get("/Users?startIndex=2&count=1").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (v["totalResults"].as_i64(), v["itemsPerPage"].as_i64()),
        (Some(2), Some(1))
    );
    assert_eq!(v["Resources"][0]["userName"], "bob@okta.local");
    let (_, v) = scim.get("/Users?startIndex=1&count=1").await;
    assert_eq!(v["Resources"][0]["userName"], "test.user@okta.local");

    // Another client sees none of them, and can change none.
    let other = Scim::new(&app, "entra");
    let (s, v) = other.get("/Users").await;
    assert_eq!((s, v["totalResults"].as_i64()), (StatusCode::OK, Some(0)));
    let (s, _) = other
        .patch(
            &format!("/Users/{id}"),
            json!({"Operations": [{"op": "replace", "path": "active", "value": true}]}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(account(&app, &id).disabled);
}

#[tokio::test]
async fn bad_requests_are_refused_with_a_scim_error_and_change_nothing() {
    let app = TestApp::start().await;
    app.create_account("admin", true);
    let scim = Scim::new(&app, "entra");
    let (s, v) = scim.post("/Users", entra_user()).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let users = app.count("users");
    let error = |v: &Value, status: &str| {
        assert_eq!(
            v["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error",
            "{v}"
        );
        assert_eq!(v["status"], status, "{v}");
    };

    // Without a token, with a wrong one, with a revoked one.
    let http = reqwest::Client::new();
    let r = http.get(app.url("/scim/v2/Users")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    error(&r.json().await.unwrap(), "401");
    let wrong = Scim {
        base: scim.base.clone(),
        token: "not-a-token".into(),
        http: http.clone(),
    };
    let (s, v) = wrong.post("/Users", entra_user()).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    error(&v, "401");
    let revoked = Scim::new(&app, "old-okta");
    {
        let mut c = app.db.get().unwrap();
        ruche::accounts::provisioning::revoke_client(&mut c, "old-okta").unwrap();
    }
    let (s, _) = revoked.get("/Users").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // The same userName again, in another case: uniqueness.
    let mut again = entra_user();
    again["userName"] = json!("ALICE.MARTIN@contoso.example");
    let (s, v) = scim.post("/Users", again).await;
    assert_eq!(s, StatusCode::CONFLICT);
    error(&v, "409");
    assert_eq!(v["scimType"], "uniqueness");
    // No userName; an address that is none; not JSON; not SCIM JSON.
    let mut nameless = entra_user();
    nameless.as_object_mut().unwrap().remove("userName");
    let (s, v) = scim.post("/Users", nameless).await;
    assert_eq!(
        (s, v["scimType"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalidValue"))
    );
    let mut bad_mail = entra_user();
    bad_mail["userName"] = json!("carol");
    bad_mail["emails"] = json!([{"value": "not an address", "primary": true}]);
    let (s, v) = scim.post("/Users", bad_mail).await;
    assert_eq!(
        (s, v["scimType"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalidValue")),
        "{v}"
    );
    let r = http
        .post(app.url("/scim/v2/Users"))
        .bearer_auth(&scim.token)
        .header("content-type", SCIM)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = http
        .post(app.url("/scim/v2/Users"))
        .bearer_auth(&scim.token)
        .header("content-type", "text/plain")
        .body(entra_user().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // A filter it does not support, a page that is no number.
    let (s, v) = scim.get("/Users?filter=title%20eq%20%22Engineer%22").await;
    assert_eq!(
        (s, v["scimType"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalidFilter"))
    );
    let (s, _) = scim.get("/Users?startIndex=first").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // An account it did not provision, one that does not exist.
    let admin_id = {
        use ruche::db::schema::users::dsl as u;
        let mut c = app.db.get().unwrap();
        u::users
            .filter(u::username.eq("admin"))
            .select(u::id)
            .first::<i64>(&mut *c)
            .unwrap()
    };
    for path in [
        format!("/Users/{admin_id}"),
        "/Users/999999".into(),
        "/Users/abc".into(),
    ] {
        let (s, v) = scim.get(&path).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
        error(&v, "404");
        let (s, _) = scim
            .patch(
                &path,
                json!({"Operations": [{"op": "replace", "path": "active", "value": false}]}),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
    }
    // PATCH operations it cannot apply.
    for ops in [
        json!([{"op": "explode", "path": "active"}]),
        json!([{"op": "remove"}]),
        json!([{"op": "replace", "path": "active", "value": "maybe"}]),
        json!([{"op": "replace", "path": "userName", "value": ""}]),
    ] {
        let (s, v) = scim
            .patch(&format!("/Users/{id}"), json!({"Operations": ops}))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{ops}: {v}");
    }
    let (s, _) = scim
        .patch(&format!("/Users/{id}"), json!({"nothing": []}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // Nothing changed.
    assert_eq!(app.count("users"), users);
    let a = account(&app, &id);
    assert!(!a.disabled);
    assert_eq!(a.department, "R&D");
    let (s, v) = scim.get(&format!("/Users/{id}")).await;
    assert_eq!(
        (s, v["userName"].as_str()),
        (StatusCode::OK, Some("Alice.Martin@contoso.example"))
    );
}

#[tokio::test]
async fn administrators_make_and_revoke_clients_from_the_console() {
    let app = TestApp::start().await;
    app.create_account("boss", true);
    app.create_account("eve", false);
    let boss = app.browser_login("boss").await;
    let page = boss.html("/admin").await;
    assert!(page.contains("Provisioning (SCIM)"), "{page}");
    assert!(page.contains(&app.url("/scim/v2")));
    let csrf = boss.csrf("/admin").await;
    let r = boss
        .post_form("/admin/scim", &[("csrf", &csrf), ("name", "Entra ID")])
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let page = r.text().await.unwrap();
    let token = page
        .split("<code id=\"scim-token\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_string();
    let list = |token: String| {
        let url = app.url("/scim/v2/Users");
        async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(list(token.clone()).await, StatusCode::OK);
    // The token is shown once: the console lists the client, not it.
    let page = boss.html("/admin").await;
    assert!(page.contains("Entra ID") && !page.contains(&token));
    // The same name again: refused.
    let r = boss
        .post_form("/admin/scim", &[("csrf", &csrf), ("name", "Entra ID")])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Someone who is not an administrator can do neither.
    let eve = app.browser_login("eve").await;
    let eve_csrf = eve.csrf("/settings").await;
    let r = eve
        .post_form("/admin/scim", &[("csrf", &eve_csrf), ("name", "Mine")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = eve
        .post_form(
            "/admin/scim/revoke",
            &[("csrf", &eve_csrf), ("name", "Entra ID")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(list(token.clone()).await, StatusCode::OK);

    let r = boss
        .post_form(
            "/admin/scim/revoke",
            &[("csrf", &csrf), ("name", "Entra ID")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(list(token).await, StatusCode::UNAUTHORIZED);
    assert!(boss.html("/admin").await.contains("Revoked"));
}

/// An administrator disables a provisioned account: the client's next
/// push of `active: true` (Entra ID repeats it on every cycle) does not
/// undo it; a leaver the client itself disabled comes back when it says
/// so.
#[tokio::test]
async fn active_from_the_client_does_not_undo_an_administrator_s_decision() {
    let app = TestApp::start().await;
    app.create_account("root", true);
    let scim = Scim::new(&app, "entra");
    let (s, v) = scim.post("/Users", entra_user()).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let name = account(&app, &id).username;
    {
        let mut c = app.db.get().unwrap();
        let root = ruche::accounts::find_by_username(&mut c, "root").unwrap();
        ruche::accounts::set_disabled(&mut c, &root, &name, true).unwrap();
    }
    let active = json!({"Operations": [{"op": "Replace", "path": "active", "value": true}]});
    let (s, v) = scim.patch(&format!("/Users/{id}"), active.clone()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["active"], false, "{v}");
    assert!(account(&app, &id).disabled);
    let mut whole = entra_user();
    whole["active"] = json!(true);
    let (s, v) = scim.put(&format!("/Users/{id}"), whole).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(account(&app, &id).disabled);

    // The administrator enables her; then the client disables and enables.
    {
        let mut c = app.db.get().unwrap();
        let root = ruche::accounts::find_by_username(&mut c, "root").unwrap();
        ruche::accounts::set_disabled(&mut c, &root, &name, false).unwrap();
    }
    let inactive = json!({"Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
    let (s, _) = scim.patch(&format!("/Users/{id}"), inactive).await;
    assert_eq!(s, StatusCode::OK);
    assert!(account(&app, &id).disabled);
    let (s, v) = scim.patch(&format!("/Users/{id}"), active).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["active"], true, "{v}");
    assert!(!account(&app, &id).disabled);
}

/// Under `accounts.leavers = "anonymise"`, a leaver's profile is erased
/// by the housekeeping and their posts stay, shown as a former
/// colleague's; under "keep" (the default) nothing is erased.
#[tokio::test]
async fn a_leaver_s_profile_is_anonymised_when_the_company_says_so() {
    for anonymise in [true, false] {
        let app = TestApp::start_with(move |c| {
            if anonymise {
                c.accounts.leavers = ruche::config::LeaversPolicy::Anonymise;
            }
        })
        .await;
        let scim = Scim::new(&app, "entra");
        let (s, v) = scim.post("/Users", entra_user()).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let id = v["id"].as_str().unwrap().to_string();
        let token = token_of(&app, &id);
        let r = reqwest::Client::new()
            .post(app.url("/api/v1/posts"))
            .bearer_auth(&token)
            .json(&json!({"body": "Le rapport d'audit est en ligne"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let colleague = app.user("colleague").await;
        let (s, _) = scim
            .patch(
                &format!("/Users/{id}"),
                json!({"Operations": [{"op": "Replace", "path": "active", "value": false}]}),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let done = {
            let mut c = app.db.get().unwrap();
            ruche::accounts::leavers::anonymise_due(&mut c, &app.config.accounts).unwrap()
        };
        let a = account(&app, &id);
        let feed = colleague.get("/feed?stream=site").await.json;
        let author = &feed["items"][0]["author"];
        if anonymise {
            assert_eq!(done, 1);
            assert_eq!(
                (
                    a.display_name.as_str(),
                    a.department.as_str(),
                    a.job_title.as_str()
                ),
                ("", "", "")
            );
            assert_eq!(author["former"], true, "{feed}");
            assert_eq!(author["display_name"], "", "{feed}");
            let html = app
                .browser_login("colleague")
                .await
                .html("/?stream=site")
                .await;
            assert!(html.contains("Former colleague"), "{html}");
            assert!(!html.contains("Alice Martin"), "{html}");
            // Once: a second run finds nothing more.
            let mut c = app.db.get().unwrap();
            assert_eq!(
                ruche::accounts::leavers::anonymise_due(&mut c, &app.config.accounts).unwrap(),
                0
            );
        } else {
            assert_eq!(done, 0);
            assert_eq!(a.display_name, "Alice Martin");
            assert_eq!(author["former"], false, "{feed}");
        }
        assert!(
            feed.to_string().contains("rapport d'audit"),
            "the post stays"
        );
    }
}

/// The leaver's record follows what happens to the account: a joiner made
/// inactive from the start is no leaver; an administrator enabling the
/// account ends the record (and SCIM's claim on it); a rehire deleted then
/// pushed again comes back; an anonymised leaver pushed again while
/// inactive keeps an empty profile.
#[tokio::test]
async fn the_leaver_record_follows_joiners_rehires_and_administrators() {
    let app = TestApp::start_with(|c| {
        c.accounts.leavers = ruche::config::LeaversPolicy::Anonymise;
    })
    .await;
    app.create_account("root", true);
    let scim = Scim::new(&app, "entra");
    let anonymise = || {
        let mut c = app.db.get().unwrap();
        ruche::accounts::leavers::anonymise_due(&mut c, &app.config.accounts).unwrap()
    };
    let admin = |disabled: bool, name: &str| {
        let mut c = app.db.get().unwrap();
        let root = ruche::accounts::find_by_username(&mut c, "root").unwrap();
        ruche::accounts::set_disabled(&mut c, &root, name, disabled).unwrap();
    };
    // A future hire, pushed inactive: not a leaver, nothing erased.
    let mut joiner = entra_user();
    joiner["active"] = json!(false);
    let (s, v) = scim.post("/Users", joiner).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let name = account(&app, &id).username;
    assert!(account(&app, &id).disabled);
    assert_eq!((app.count("leavers"), anonymise()), (0, 0));
    assert_eq!(account(&app, &id).display_name, "Alice Martin");
    let active =
        |on: bool| json!({"Operations": [{"op": "Replace", "path": "active", "value": on}]});
    let (s, _) = scim.patch(&format!("/Users/{id}"), active(true)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(!account(&app, &id).disabled);

    // She leaves; an administrator enables her before the housekeeping:
    // no longer a leaver, nothing erased, and SCIM's later "active" does
    // not undo the administrator's next decision.
    let (s, _) = scim.patch(&format!("/Users/{id}"), active(false)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(app.count("leavers"), 1);
    admin(false, &name);
    assert_eq!((app.count("leavers"), anonymise()), (0, 0));
    admin(true, &name);
    let (s, _) = scim.patch(&format!("/Users/{id}"), active(true)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(account(&app, &id).disabled);
    admin(false, &name);

    // She leaves and is anonymised; pushed again inactive with her name,
    // her profile stays empty.
    let (s, _) = scim.patch(&format!("/Users/{id}"), active(false)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(anonymise(), 1);
    let mut again = entra_user();
    again["active"] = json!(false);
    let (s, v) = scim.put(&format!("/Users/{id}"), again).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(account(&app, &id).display_name, "");

    // Deleted, then pushed again as a rehire: enabled, no longer a leaver.
    let (s, _) = scim.delete(&format!("/Users/{id}")).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = scim.post("/Users", entra_user()).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["id"].as_str().unwrap(), id, "the same account");
    let a = account(&app, &id);
    assert!(!a.disabled);
    assert_eq!(a.display_name, "Alice Martin");
    assert_eq!(app.count("leavers"), 0);
}

// ----- Groups ---------------------------------------------------------------

const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// A user of a client, made over SCIM: their id.
async fn pushed(scim: &Scim, login: &str) -> String {
    let (s, v) = scim
        .post(
            "/Users",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": format!("{login}@contoso.example"),
                "active": true,
                "name": {"givenName": login, "familyName": "Test"},
            }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_str().unwrap().to_string()
}

/// (community name, title, visibility) of a group's community.
fn community(app: &TestApp, id: &str) -> (String, String, String) {
    use ruche::db::schema::{communities, users};
    let mut c = app.db.get().unwrap();
    users::table
        .inner_join(communities::table.on(communities::actor_id.eq(users::id)))
        .filter(users::id.eq(id.parse::<i64>().unwrap()))
        .select((
            users::username,
            users::display_name,
            communities::visibility,
        ))
        .first(&mut *c)
        .unwrap()
}

/// The members of a community: (user id, role), by id.
fn members(app: &TestApp, community: &str) -> Vec<(String, String)> {
    use ruche::db::schema::community_members as m;
    let mut c = app.db.get().unwrap();
    m::table
        .filter(m::community_id.eq(community.parse::<i64>().unwrap()))
        .filter(m::status.eq("member"))
        .order(m::user_id)
        .select((m::user_id, m::role))
        .load::<(i64, String)>(&mut *c)
        .unwrap()
        .into_iter()
        .map(|(id, role)| (id.to_string(), role))
        .collect()
}

fn member_values(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v["members"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|m| m["value"].as_str().unwrap().to_string())
        .collect();
    out.sort_by_key(|s| s.parse::<i64>().unwrap());
    out
}

#[tokio::test]
async fn entra_id_pushes_a_group_that_becomes_a_community_it_keeps() {
    let app = TestApp::start().await;
    let scim = Scim::new(&app, "entra");
    let alice = pushed(&scim, "alice").await;
    let bob = pushed(&scim, "bob").await;
    let carol = pushed(&scim, "carol").await;

    // Entra ID looks the group up by name first, then makes it.
    let (s, v) = scim
        .get("/Groups?excludedAttributes=members&filter=displayName+eq+%22Ventes%20%C3%8Ele-de-France%22")
        .await;
    assert_eq!(
        (s, v["totalResults"].as_i64()),
        (StatusCode::OK, Some(0)),
        "{v}"
    );
    let (s, v) = scim
        .post(
            "/Groups",
            json!({
                "schemas": [GROUP, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
                "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
                "displayName": "Ventes Île-de-France",
                "meta": {"resourceType": "Group"}
            }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(v["displayName"], "Ventes Île-de-France");
    assert_eq!(v["members"], json!([]));
    assert_eq!(
        community(&app, &id),
        (
            "ventes_ile_de_france".into(),
            "Ventes Île-de-France".into(),
            "private".into()
        )
    );

    // Members come with Entra ID's PATCH, one operation per change.
    let add = |who: &str| {
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
               "Operations": [{"op": "Add", "path": "members", "value": [{"$ref": null, "value": who}]}]})
    };
    for who in [&alice, &bob] {
        let (s, v) = scim.patch(&format!("/Groups/{id}"), add(who)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let (s, v) = scim.patch(&format!("/Groups/{id}"), add(&alice)).await;
    assert_eq!(s, StatusCode::OK, "adding twice is adding once: {v}");
    let (_, v) = scim.get(&format!("/Groups/{id}")).await;
    assert_eq!(member_values(&v), vec![alice.clone(), bob.clone()]);
    let (_, v) = scim
        .get(&format!("/Groups/{id}?excludedAttributes=members"))
        .await;
    assert!(v.get("members").is_none(), "{v}");
    assert_eq!(
        members(&app, &id),
        vec![
            (alice.clone(), "member".into()),
            (bob.clone(), "member".into())
        ]
    );
    // What members read: the community, as theirs.
    let r = reqwest::Client::new()
        .get(app.url("/api/v1/communities/ventes_ile_de_france"))
        .bearer_auth(token_of(&app, &alice))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Entra ID checks a membership with a filter.
    for (who, n) in [(&bob, 1), (&carol, 0)] {
        let (s, v) = scim
            .get(&format!(
                "/Groups?filter=id+eq+%22{id}%22+and+members+eq+%22{who}%22&excludedAttributes=members"
            ))
            .await;
        assert_eq!(
            (s, v["totalResults"].as_i64()),
            (StatusCode::OK, Some(n)),
            "{v}"
        );
    }

    // Carol was a member before the group named her: she stays when it
    // lets her go.
    {
        use ruche::db::schema::community_members as m;
        let mut c = app.db.get().unwrap();
        let now = chrono::Utc::now().naive_utc();
        diesel::insert_into(m::table)
            .values((
                m::community_id.eq(id.parse::<i64>().unwrap()),
                m::user_id.eq(carol.parse::<i64>().unwrap()),
                m::role.eq("member"),
                m::status.eq("member"),
                m::created_at.eq(now),
                m::updated_at.eq(now),
            ))
            .execute(&mut *c)
            .unwrap();
    }
    let (s, _) = scim.patch(&format!("/Groups/{id}"), add(&carol)).await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = scim
        .patch(
            &format!("/Groups/{id}"),
            json!({"Operations": [{"op": "Remove", "path": "members", "value": [{"value": carol}]}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(
        members(&app, &id).iter().any(|(u, _)| *u == carol),
        "still a member"
    );

    // Bob, made a moderator here, stays when the group lets him go; Alice,
    // a plain member the group made, leaves with it.
    {
        use ruche::db::schema::community_members as m;
        let mut c = app.db.get().unwrap();
        diesel::update(
            m::table
                .filter(m::community_id.eq(id.parse::<i64>().unwrap()))
                .filter(m::user_id.eq(bob.parse::<i64>().unwrap())),
        )
        .set(m::role.eq("moderator"))
        .execute(&mut *c)
        .unwrap();
    }
    let (s, v) = scim
        .patch(
            &format!("/Groups/{id}"),
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                   "Operations": [
                       {"op": "Remove", "path": "members", "value": [{"$ref": null, "value": alice}, {"value": bob}]},
                       {"op": "Replace", "path": "displayName", "value": "Ventes IDF"}
                   ]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(member_values(&v), Vec::<String>::new());
    assert_eq!(
        members(&app, &id),
        vec![
            (bob.clone(), "moderator".into()),
            (carol.clone(), "member".into())
        ]
    );
    assert_eq!(community(&app, &id).1, "Ventes IDF", "the title follows");
    // An administrator moderates it (it has no owner), and reads in its
    // log what the directory did.
    app.create_account("root", true);
    let root = app.browser_login("root").await;
    let page = root.html("/communities/ventes_ile_de_france/members").await;
    assert!(page.contains("Moderation log"));
    // It sees who is in it, not what they write.
    let root_api = app.login_api("root").await;
    let r = root_api
        .get("/communities/ventes_ile_de_france/members")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let r = root_api
        .get("/communities/ventes_ile_de_france/posts")
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.json);
    let dave = pushed(&scim, "dave").await;
    let dave_api = common::Api {
        base: app.base.clone(),
        token: token_of(&app, &dave),
        client: app.client(),
    };
    let r = dave_api
        .get("/communities/ventes_ile_de_france/members")
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "not a member: {:?}",
        r.json
    );
    assert!(
        page.contains("added by the company&#39;s directory"),
        "{page}"
    );

    // Deleting the group forgets it: the community and who is in it stay.
    let (s, _) = scim.delete(&format!("/Groups/{id}")).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = scim.get(&format!("/Groups/{id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(community(&app, &id).0, "ventes_ile_de_france");
    assert_eq!(members(&app, &id).len(), 2);
    let (_, v) = scim.get("/Groups").await;
    assert_eq!(v["totalResults"], 0);

    // A name with "and" in it is looked up as a name.
    let (s, v) = scim
        .post(
            "/Groups",
            json!({"schemas": [GROUP], "displayName": "Research and Development"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let rd = v["id"].as_str().unwrap().to_string();
    let (s, v) = scim
        .get(&format!(
            "/Groups?filter={}",
            common::urlencode("displayName eq \"Research and Development\"")
        ))
        .await;
    assert_eq!(
        (s, v["totalResults"].as_i64()),
        (StatusCode::OK, Some(1)),
        "{v}"
    );
    // Two changes at once both take effect.
    let path = format!("/Groups/{rd}");
    let (a, b) = tokio::join!(scim.patch(&path, add(&alice)), scim.patch(&path, add(&bob)));
    assert_eq!(
        (a.0, b.0),
        (StatusCode::OK, StatusCode::OK),
        "{} {}",
        a.1,
        b.1
    );
    let (_, v) = scim.get(&format!("/Groups/{rd}")).await;
    assert_eq!(member_values(&v), vec![alice.clone(), bob.clone()]);
}

#[tokio::test]
async fn okta_pushes_a_group_renames_it_and_changes_its_members() {
    let app =
        TestApp::start_with(|c| c.accounts.scim_group_visibility = "organisation".into()).await;
    let scim = Scim::new(&app, "okta");
    let alice = pushed(&scim, "alice").await;
    let bob = pushed(&scim, "bob").await;
    let (s, v) = scim
        .post(
            "/Groups",
            json!({"schemas": [GROUP], "displayName": "Test SCIMv2", "members": [{"value": alice, "display": "alice@okta.local"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(member_values(&v), vec![alice.clone()]);
    assert_eq!(community(&app, &id).2, "organisation");
    let op = |ops: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
    // Okta renames without a path, with the group's id in the value.
    let (s, v) = scim
        .patch(
            &format!("/Groups/{id}"),
            op(json!([{"op": "replace", "value": {"id": id, "displayName": "Test SCIMv2 renamed"}}])),
        )
        .await;
    assert_eq!(
        (s, v["id"].as_str()),
        (StatusCode::OK, Some(id.as_str())),
        "{v}"
    );
    assert_eq!(v["displayName"], "Test SCIMv2 renamed");
    let (s, v) = scim
        .patch(
            &format!("/Groups/{id}"),
            op(json!([{"op": "add", "path": "members", "value": [{"value": bob, "display": "bob@okta.local"}]}])),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(member_values(&v), vec![alice.clone(), bob.clone()]);
    let (s, v) = scim
        .patch(
            &format!("/Groups/{id}"),
            op(json!([{"op": "remove", "path": format!("members[value eq \"{alice}\"]")}])),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(member_values(&v), vec![bob.clone()]);
    assert_eq!(members(&app, &id), vec![(bob.clone(), "member".into())]);
    let (_, v) = scim
        .get("/Groups?filter=displayName%20eq%20%22test%20scimv2%20RENAMED%22")
        .await;
    assert_eq!(v["totalResults"], 1, "{v}");
    // A replacement names every member.
    let (s, v) = scim
        .put(
            &format!("/Groups/{id}"),
            json!({"schemas": [GROUP], "displayName": "Test SCIMv2 renamed", "members": [{"value": alice}, {"value": bob}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(members(&app, &id).len(), 2);
    let (_, v) = scim.get("/ResourceTypes").await;
    assert_eq!(v["totalResults"], 2);

    // The administrators see the group, its client and its members, on the
    // console and through the API; nobody else does.
    app.create_account("root", true);
    let html = app.browser_login("root").await.html("/admin").await;
    let name = community(&app, &id).0;
    assert!(
        html.contains(&format!(
            "<a href=\"/communities/{name}\">Test SCIMv2 renamed</a>"
        )),
        "{html}"
    );
    assert!(html.contains("1 group pushed by SCIM"), "{html}");
    let root = app.login_api("root").await;
    let v = root.get("/admin/identity").await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.json);
    let groups = &v.json["scim"]["groups"];
    assert_eq!(groups["total"], 1, "{}", v.json);
    assert_eq!(groups["items"][0]["name"], name.as_str());
    assert_eq!(groups["items"][0]["client"], "okta");
    assert_eq!(groups["items"][0]["members"], 2);
    assert_eq!(v.json["scim"]["clients"][0]["name"], "okta");
    assert_eq!(v.json["scim"]["clients"][0]["accounts"], 2);
    assert_eq!(v.json["directory"]["configured"], false);
    let someone = app.user("someone").await;
    let r = someone.get("/admin/identity").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn bad_group_requests_are_refused_and_change_nothing() {
    let app = TestApp::start().await;
    let scim = Scim::new(&app, "entra");
    let other = Scim::new(&app, "okta");
    let alice = pushed(&scim, "alice").await;
    let stranger = pushed(&other, "stranger").await;
    let (s, v) = scim
        .post(
            "/Groups",
            json!({"schemas": [GROUP], "displayName": "Sales", "members": [{"value": alice}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let users = app.count("users");
    let communities = app.count("communities");

    // No token, or another client's: nothing read or changed.
    let r = reqwest::Client::new()
        .get(format!("{}/Groups", scim.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let (s, _) = other.get(&format!("/Groups/{id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, v) = other.get("/Groups").await;
    assert_eq!(v["totalResults"], 0);
    let (s, _) = other.delete(&format!("/Groups/{id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = other
        .patch(
            &format!("/Groups/{id}"),
            json!({"Operations": [{"op": "Replace", "path": "displayName", "value": "Mine"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Bad groups.
    for (body, kind) in [
        (json!({"schemas": [GROUP]}), "invalidValue"),
        (
            json!({"schemas": [GROUP], "displayName": "  "}),
            "invalidValue",
        ),
        (
            json!({"schemas": [GROUP], "displayName": "x".repeat(101)}),
            "invalidValue",
        ),
        (
            json!({"schemas": [GROUP], "displayName": "SALES"}),
            "uniqueness",
        ),
        (
            json!({"schemas": [GROUP], "displayName": "New", "members": [{"value": stranger}]}),
            "invalidValue",
        ),
        (
            json!({"schemas": [GROUP], "displayName": "New", "members": [{"value": "not-a-user"}]}),
            "invalidValue",
        ),
        (
            json!({"schemas": [GROUP], "displayName": "New", "members": [{"value": "999999"}]}),
            "invalidValue",
        ),
        (
            json!({"schemas": [GROUP], "displayName": "New", "members": "everyone"}),
            "invalidValue",
        ),
    ] {
        let (s, v) = scim.post("/Groups", body.clone()).await;
        assert_eq!(v["scimType"], kind, "{body}: {v}");
        assert!(
            s == StatusCode::BAD_REQUEST || s == StatusCode::CONFLICT,
            "{body}: {s}"
        );
    }
    assert_eq!(
        (app.count("users"), app.count("communities")),
        (users, communities)
    );
    for filter in [
        "members eq \"1\"",
        "displayName co \"S\"",
        "id eq \"1\" or members eq \"2\"",
    ] {
        let (s, v) = scim
            .get(&format!("/Groups?filter={}", common::urlencode(filter)))
            .await;
        assert_eq!(
            (s, v["scimType"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalidFilter")),
            "{filter}"
        );
    }
    // Bad changes: refused, the group as it was.
    for ops in [
        json!([{"op": "Add", "path": "members", "value": [{"value": stranger}]}]),
        json!([{"op": "Add", "path": "members", "value": [{"value": alice}]}, {"op": "Add", "path": "members", "value": [{"value": "x"}]}]),
        json!([{"op": "explode", "path": "members"}]),
        json!([{"op": "Replace", "path": "displayName", "value": ""}]),
        json!([{"op": "Replace", "path": "urn:other:attr", "value": "x"}]),
    ] {
        let (s, v) = scim
            .patch(&format!("/Groups/{id}"), json!({"Operations": ops}))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{ops}: {v}");
    }
    let (_, v) = scim.get(&format!("/Groups/{id}")).await;
    assert_eq!(
        (v["displayName"].as_str(), member_values(&v)),
        (Some("Sales"), vec![alice.clone()])
    );
    let (s, _) = scim.get("/Groups/abc").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_manager_a_client_pushes_is_whom_the_profile_reports_to() {
    let app = TestApp::start().await;
    let scim = Scim::new(&app, "entra");
    let other = Scim::new(&app, "okta");
    let alice = pushed(&scim, "alice").await;
    let carol = pushed(&scim, "carol").await;
    let stranger = pushed(&other, "stranger").await;
    // Bob comes with his manager, as Entra ID sends it.
    let mut bob = entra_user();
    bob["userName"] = json!("bob@contoso.example");
    bob["emails"] = json!([{"primary": true, "type": "work", "value": "bob@contoso.example"}]);
    bob[ENTERPRISE]["manager"] = json!({"value": alice});
    let (s, v) = scim.post("/Users", bob).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v[ENTERPRISE]["manager"]["value"], json!(alice));
    let bob = v["id"].as_str().unwrap().to_string();
    let api = common::Api {
        base: app.base.clone(),
        token: token_of(&app, &carol),
        client: app.client(),
    };
    let profile = |name: &str| {
        let api = &api;
        let path = format!("/people/{name}");
        async move { api.get(&path).await.json }
    };
    let bob_name = account(&app, &bob).username;
    let alice_name = account(&app, &alice).username;
    assert_eq!(
        profile(&bob_name).await["manager"]["username"],
        json!(alice_name)
    );
    assert_eq!(
        profile(&alice_name).await["reports"][0]["username"],
        json!(bob_name)
    );

    // Entra ID's PATCH sets the manager with a bare id, and removes it.
    let path = format!("/Users/{bob}");
    let manager = format!("{ENTERPRISE}:manager");
    let (s, _) = scim
        .patch(
            &path,
            json!({"Operations": [{"op": "Replace", "path": manager, "value": carol}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let carol_name = account(&app, &carol).username;
    assert_eq!(
        profile(&bob_name).await["manager"]["username"],
        json!(carol_name)
    );
    assert_eq!(profile(&alice_name).await["reports"], json!([]));
    let (s, _) = scim
        .patch(
            &path,
            json!({"Operations": [{"op": "Remove", "path": manager}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(profile(&bob_name).await["manager"].is_null());
    // Another client's user, an unknown id, or oneself: no manager.
    for m in [stranger.as_str(), "999999", bob.as_str(), "2819c223-7f76"] {
        let (s, v) = scim
            .patch(
                &path,
                json!({"Operations": [{"op": "Replace", "path": manager, "value": m}]}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert!(v[ENTERPRISE].get("manager").is_none(), "{m}: {v}");
        assert!(profile(&bob_name).await["manager"].is_null(), "{m}");
    }
}
