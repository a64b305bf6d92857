//! The federation trust list: levels, blocks over allows, expiry, audit,
//! CSV import and export, from the API, the admin pages and the command line.

mod common;

use common::*;
use reqwest::StatusCode;
use ruche::config::FederationMode;
use ruche::net::trust::{self, Decision};
use serde_json::json;

fn decide(app: &TestApp, domain: &str) -> Decision {
    let mut conn = app.db.get().unwrap();
    trust::decide(&mut conn, domain).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn levels_blocks_and_expiry_through_the_api() {
    let app = TestApp::start().await;
    let admin = app.user("admin").await;
    let r = admin.put("/admin/instances/Lyon.Example.COM").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "a body is required");
    let r = admin
        .client
        .put(app.url("/api/v1/admin/instances/Lyon.Example.COM"))
        .bearer_auth(&admin.token)
        .json(&json!({"level": "member", "reason": "Lyon site"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["domain"], "lyon.example.com");
    assert_eq!(decide(&app, "lyon.example.com"), Decision::Member);
    assert!(decide(&app, "lyon.example.com").may_federate(FederationMode::Allowlist));
    assert_eq!(decide(&app, "unknown.example"), Decision::Unknown);
    assert!(!Decision::Unknown.may_federate(FederationMode::Allowlist));

    let put = |domain: &str, body: serde_json::Value| {
        admin
            .client
            .put(app.url(&format!("/api/v1/admin/instances/{domain}")))
            .bearer_auth(&admin.token)
            .json(&body)
            .send()
    };
    assert_eq!(
        put("acme-partner.example", json!({"level": "partner"}))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(decide(&app, "acme-partner.example"), Decision::Partner);

    // A block of the parent domain beats the member entry.
    assert_eq!(
        put(
            "example.com",
            json!({"level": "blocked", "reason": "compromised"})
        )
        .await
        .unwrap()
        .status(),
        StatusCode::OK
    );
    assert!(
        matches!(decide(&app, "lyon.example.com"), Decision::Blocked { by, reason } if by == "example.com" && reason == "compromised")
    );
    // An expired block no longer applies.
    {
        use diesel::prelude::*;
        use ruche::db::schema::instances;
        let mut conn = app.db.get().unwrap();
        let past = chrono::Utc::now().naive_utc() - chrono::Duration::hours(1);
        diesel::update(instances::table.find("example.com"))
            .set(instances::expires_at.eq(Some(past)))
            .execute(&mut *conn)
            .unwrap();
    }
    assert_eq!(decide(&app, "lyon.example.com"), Decision::Member);

    // Bad input: nothing stored.
    let before = app.count("instances");
    let audit_before = app.count("trust_audit");
    for (domain, body, code) in [
        ("not a domain", json!({"level": "member"}), "domain_invalid"),
        (
            "x.example:99999",
            json!({"level": "member"}),
            "domain_invalid",
        ),
        (
            "x.example",
            json!({"level": "friend"}),
            "trust_level_invalid",
        ),
        (
            "x.example",
            json!({"level": "member", "expires_at": "2001-01-01"}),
            "expiry_in_past",
        ),
        (
            "x.example",
            json!({"level": "member", "expires_at": "soon"}),
            "field_invalid",
        ),
        (
            "x.example",
            json!({"level": "member", "reason": "r".repeat(501)}),
            "field_too_long",
        ),
    ] {
        let r = put(domain, body.clone()).await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{domain} {body}");
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], code, "{domain} {body}");
    }
    assert_eq!(app.count("instances"), before);
    assert_eq!(app.count("trust_audit"), audit_before);

    // Remove, with the audit log recording every change and who made it.
    let r = admin
        .delete("/admin/instances/acme-partner.example?reason=contract%20ended")
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        admin
            .delete("/admin/instances/acme-partner.example")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(decide(&app, "acme-partner.example"), Decision::Unknown);
    let audit = admin.get("/admin/instances/audit").await;
    let items = audit.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    assert_eq!(items[0]["action"], "remove");
    assert_eq!(items[0]["reason"], "contract ended");
    assert_eq!(items[0]["actor"], "admin");
    assert_eq!(items[3]["domain"], "lyon.example.com");

    let list = admin.get("/admin/instances").await;
    assert_eq!(list.json["mode"], "allowlist");
    assert_eq!(list.json["items"].as_array().unwrap().len(), 2);

    // Not for non-administrators.
    let bob = app.user("bob").await;
    assert_eq!(
        bob.get("/admin/instances").await.status,
        StatusCode::FORBIDDEN
    );
    let r = bob
        .client
        .put(app.url("/api/v1/admin/instances/evil.example"))
        .bearer_auth(&bob.token)
        .json(&json!({"level": "member"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(decide(&app, "evil.example"), Decision::Unknown);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_import_and_export() {
    let app = TestApp::start().await;
    let admin = app.user("admin").await;
    // As Mastodon exports its domain blocks, plus our own columns on some lines.
    let csv = "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n\
               spam.example,suspend,true,true,\"Spam, lots of it\",false\n\
               noisy.example,silence,false,false,,false\n\
               fine.example,noop,false,false,,false\n";
    let import = |body: String| {
        admin
            .client
            .post(app.url("/api/v1/admin/instances/import"))
            .bearer_auth(&admin.token)
            .header("content-type", "text/csv")
            .body(body)
            .send()
    };
    let r = import(csv.to_string()).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["imported"], 2);
    assert!(
        matches!(decide(&app, "spam.example"), Decision::Blocked { reason, .. } if reason == "Spam, lots of it")
    );
    assert!(matches!(
        decide(&app, "noisy.example"),
        Decision::Blocked { .. }
    ));
    assert_eq!(decide(&app, "fine.example"), Decision::Unknown);

    let ours = "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate,#level,#expires_at,#allow_private\n\
                paris.example,noop,false,false,Paris site,false,member,,true\n\
                acme.example,noop,false,false,,false,partner,2099-01-01,false\n";
    assert_eq!(
        import(ours.to_string()).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(decide(&app, "paris.example"), Decision::Member);
    assert_eq!(decide(&app, "acme.example"), Decision::Partner);

    // A bad line anywhere: nothing is imported, and the message names the line.
    let before = app.count("instances");
    let bad = "#domain,#severity,#level\nok.example,noop,member\nbad domain!,suspend,\n";
    let r = import(bad.to_string()).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "csv_line");
    assert!(v["error"]["message"].as_str().unwrap().contains("Line 3"));
    assert_eq!(app.count("instances"), before);
    for bad in [
        "",
        "#severity\nsuspend\n",
        "#domain,#severity\nx.example,maybe\n",
        "#domain,#public_comment\n\"unclosed,x\n",
    ] {
        let r = import(bad.to_string()).await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad:?}");
    }
    assert_eq!(app.count("instances"), before);

    // Export, then import the export elsewhere: the same entries.
    let r = admin
        .client
        .get(app.url("/api/v1/admin/instances/export"))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let exported = r.text().await.unwrap();
    assert!(exported.starts_with("#domain,#severity,"));
    assert!(exported
        .contains("spam.example,suspend,false,false,\"Spam, lots of it\",false,blocked,,false"));
    assert!(exported.contains("paris.example,noop,false,false,Paris site,false,member,,true"));

    let other = TestApp::start().await;
    let other_admin = other.user("admin").await;
    let r = other_admin
        .client
        .post(other.url("/api/v1/admin/instances/import"))
        .bearer_auth(&other_admin.token)
        .body(exported.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let again = other_admin
        .client
        .get(other.url("/api/v1/admin/instances/export"))
        .bearer_auth(&other_admin.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(again, exported);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_federation_page() {
    let app = TestApp::start().await;
    let b = app.browser_user("admin").await;
    let html = b.html("/admin/federation").await;
    assert!(html.contains("Federation mode: allow-list"), "{html}");
    let csrf = extract_csrf(&html).unwrap();
    let r = b
        .post_form(
            "/admin/federation",
            &[
                ("csrf", &csrf),
                ("domain", "nantes.example"),
                ("level", "member"),
                ("reason", "Nantes"),
                ("expires", "2099-12-31"),
                ("allow_private", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = b
        .get_lang("/admin/federation", "fr")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("nantes.example") && html.contains("Membre (même organisation)"));
    // The French page says it in French: the mode, and the audit line
    // (its action and level were the stored English words).
    assert!(
        html.contains("Mode de fédération : liste autorisée"),
        "{html}"
    );
    assert!(
        html.contains("réglé nantes.example → Membre (même organisation)"),
        "{html}"
    );
    assert!(
        !html.contains("allowlist") && !html.contains("→ member"),
        "{html}"
    );
    assert_eq!(decide(&app, "nantes.example"), Decision::Member);

    let r = b
        .post_form(
            "/admin/federation",
            &[("csrf", &csrf), ("domain", "no way"), ("level", "member")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("is not a valid host name"));
    let r = b
        .post_form(
            "/admin/federation",
            &[
                ("csrf", "forged"),
                ("domain", "x.example"),
                ("level", "member"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("instances"), 1);

    let csv = b
        .get("/admin/federation/export.csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.contains("nantes.example,noop"));
    let r = b
        .post_form(
            "/admin/federation/remove",
            &[("csrf", &csrf), ("domain", "nantes.example")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("instances"), 0);

    // Only administrators.
    let other = app.browser_user("bob").await;
    assert_eq!(
        other.get("/admin/federation").await.status(),
        StatusCode::FORBIDDEN
    );
    let csrf = other.csrf("/").await;
    let r = other
        .post_form(
            "/admin/federation",
            &[
                ("csrf", &csrf),
                ("domain", "x.example"),
                ("level", "member"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        other.get("/admin/federation/export.csv").await.status(),
        StatusCode::FORBIDDEN
    );
}

#[test]
fn trust_from_the_command_line() {
    use std::process::Command;
    let dir = tempfile::tempdir().unwrap();
    let (url, pg) = fresh_database(dir.path());
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ruche"))
            .args(args)
            .env("RUCHE_DATABASE_URL", &url)
            .env("RUCHE_LOG", "warn")
            .output()
            .unwrap()
    };
    let out = run(&[
        "admin",
        "trust",
        "add",
        "Lyon.Example",
        "--level",
        "member",
        "--reason",
        "Lyon site",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&[
        "admin",
        "trust",
        "add",
        "acme.example",
        "--level",
        "partner",
        "--days",
        "30",
        "--allow-private",
    ]);
    assert!(out.status.success());
    let out = run(&["admin", "trust", "add", "x.example", "--level", "friend"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("member, partner or blocked"));
    let out = run(&[
        "admin",
        "trust",
        "add",
        "x.example",
        "--level",
        "member",
        "--expires",
        "2001-01-01",
    ]);
    assert!(!out.status.success());
    let out = run(&["admin", "trust", "list"]);
    let list = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(list.contains("lyon.example\tmember\tLyon site"), "{list}");
    assert!(
        list.contains("acme.example\tpartner until") && list.contains("private addresses allowed"),
        "{list}"
    );
    assert!(!list.contains("x.example"));

    let file = dir.path().join("blocks.csv");
    std::fs::write(
        &file,
        "#domain,#severity,#public_comment\nspam.example,suspend,spam\n",
    )
    .unwrap();
    let out = run(&["admin", "trust", "import", file.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported 1 entries"));
    let export = dir.path().join("out.csv");
    assert!(run(&["admin", "trust", "export", export.to_str().unwrap()])
        .status
        .success());
    let csv = std::fs::read_to_string(&export).unwrap();
    assert_eq!(csv.lines().count(), 4);
    assert!(run(&[
        "admin",
        "trust",
        "remove",
        "spam.example",
        "--reason",
        "cleaned up"
    ])
    .status
    .success());
    let out = run(&["admin", "trust", "remove", "spam.example"]);
    assert!(!out.status.success());

    let db = ruche::db::Db::open(&url, 1).unwrap();
    let mut conn = db.get().unwrap();
    let audit = trust::audit_log(&mut conn, 10).unwrap();
    assert_eq!(audit.len(), 4);
    assert!(audit.iter().all(|a| a.actor == "command line"));
    assert_eq!(audit[0].action, "remove");
    drop(conn);
    drop(db);
    drop_database(&pg);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_an_instance_cancels_its_queued_deliveries() {
    use diesel::prelude::*;
    use ruche::db::schema::deliveries;
    let app = TestApp::start().await;
    let mut conn = app.db.get().unwrap();
    let now = ruche::db::now();
    // Due in an hour: the instance's delivery worker must not try them (and
    // give up on the unknown hosts) while the test looks.
    let later = now + chrono::Duration::hours(1);
    for (domain, inbox) in [
        ("beta.example", "https://beta.example/inbox"),
        ("lyon.beta.example", "https://lyon.beta.example/inbox"),
        ("gamma.example", "https://gamma.example/inbox"),
    ] {
        diesel::insert_into(deliveries::table)
            .values((
                deliveries::domain.eq(domain),
                deliveries::inbox.eq(inbox),
                deliveries::activity.eq("{}"),
                deliveries::status.eq("pending"),
                deliveries::next_attempt_at.eq(later),
                deliveries::created_at.eq(now),
            ))
            .execute(&mut *conn)
            .unwrap();
    }
    trust::set(
        &mut conn,
        "test",
        trust::Entry {
            domain: "beta.example",
            level: trust::Level::Blocked,
            reason: "spam",
            expires_at: None,
            allow_private: false,
        },
    )
    .unwrap();
    let statuses: Vec<(String, String)> = deliveries::table
        .order(deliveries::domain.asc())
        .select((deliveries::domain, deliveries::status))
        .load(&mut *conn)
        .unwrap();
    assert_eq!(
        statuses,
        vec![
            ("beta.example".to_string(), "cancelled".to_string()),
            ("gamma.example".to_string(), "pending".to_string()),
            ("lyon.beta.example".to_string(), "cancelled".to_string()),
        ]
    );
}

/// Sends a file as the federation page's import form does.
async fn import_page(b: &Browser, csrf: &str, csv: Vec<u8>) -> reqwest::Response {
    let part = reqwest::multipart::Part::bytes(csv)
        .file_name("trust.csv")
        .mime_str("text/csv")
        .unwrap();
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.to_string())
        .part("csv", part);
    b.client
        .post(format!("{}/admin/federation/import", b.base))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trust_list_is_imported_from_the_federation_page() {
    let app = TestApp::start().await;
    app.create_account("root", true);
    let b = app.browser_login("root").await;
    let html = b.html("/admin/federation").await;
    assert!(html.contains("action=\"/admin/federation/import\""));
    let csrf = extract_csrf(&html).unwrap();

    let csv = "#domain,#severity,#level\nparis.example,noop,member\nspam.example,suspend,\n";
    let r = import_page(&b, &csrf, csv.as_bytes().to_vec()).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("2 entries imported."));
    assert_eq!(decide(&app, "paris.example"), Decision::Member);
    assert!(matches!(
        decide(&app, "spam.example"),
        Decision::Blocked { .. }
    ));

    // A bad line: nothing imported, the line named on the page.
    let before = app.count("instances");
    let bad = "#domain,#severity,#level\nok.example,noop,member\nbad domain!,suspend,\n";
    let r = import_page(&b, &csrf, bad.as_bytes().to_vec()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("Line 3"));
    // Not text, too large, or without the form's token: refused, unchanged.
    let r = import_page(&b, &csrf, vec![0xff, 0xfe, 0x00]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let huge = format!("#domain,#severity\n{}", "x.example,noop\n".repeat(80_000));
    let r = import_page(&b, &csrf, huge.into_bytes()).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let r = import_page(&b, "forged", csv.as_bytes().to_vec()).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("instances"), before);
    // Not for people who do not administer the site.
    let ana = app.browser_user("ana").await;
    let csrf = ana.csrf("/").await;
    let r = import_page(&ana, &csrf, csv.as_bytes().to_vec()).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("instances"), before);
}
