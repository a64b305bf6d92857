//! The company's directory, against a real OpenLDAP (`common::ldap`):
//! people sign in with its password and get their account with their
//! department, title and site; the sync makes, refreshes and disables
//! accounts (dry run first); injections, empty passwords and leavers are
//! refused with nothing stored.

mod common;

use common::ldap::{self, Slapd, COMPANY};
use common::{location, png, Browser, TestApp, PASSWORD};
use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn setup() -> Option<(TestApp, Slapd)> {
    if !ldap::available() {
        return None;
    }
    let slapd = Slapd::start(COMPANY).await;
    let cfg = slapd.config();
    let app = TestApp::start_with(move |c| c.accounts.ldap = cfg).await;
    Some((app, slapd))
}

/// A sign-in on the page: its answer.
async fn sign_in(app: &TestApp, login: &str, password: &str) -> reqwest::Response {
    let b = Browser::new(&app.base);
    let csrf = b.csrf("/login").await;
    b.post_form(
        "/login",
        &[("csrf", &csrf), ("login", login), ("password", password)],
    )
    .await
}

async fn token(app: &TestApp, login: &str, password: &str) -> (StatusCode, Value) {
    let r = app.token_request(login, password).await;
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

type Row = (String, String, String, String, String, bool);

/// (username, display name, department, title, site, disabled) of the
/// account with this address.
fn account(app: &TestApp, email: &str) -> Option<Row> {
    use ruche::db::schema::users::dsl as u;
    let mut c = app.db.get().unwrap();
    u::users
        .filter(u::email.eq(email))
        .select((
            u::username,
            u::display_name,
            u::department,
            u::job_title,
            u::site,
            u::disabled,
        ))
        .first(&mut *c)
        .optional()
        .unwrap()
}

#[tokio::test]
async fn people_sign_in_with_the_password_of_the_directory() {
    let Some((app, _slapd)) = setup().await else {
        return;
    };
    // A local administrator keeps their own password.
    app.create_account("root", true);
    assert_eq!(token(&app, "root", PASSWORD).await.0, StatusCode::CREATED);

    let r = sign_in(&app, "alice", "alice directory secret").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/");
    assert_eq!(
        account(&app, "alice.martin@corp.example"),
        Some((
            "alice".into(),
            "Alice Martin".into(),
            "R&D".into(),
            "Engineer".into(),
            "Lyon".into(),
            false
        ))
    );
    let (s, v) = token(&app, "Alice", "alice directory secret").await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let users = app.count("users");

    // Wrong passwords, an empty one (an anonymous bind to the server), and
    // filters typed as a login find nobody and store nothing.
    for (login, password) in [
        ("bob", "not his password"),
        ("alice", ""),
        ("*)(uid=*", "x"),
        ("*", "bob directory secret"),
        ("bob)(|(uid=*", "bob directory secret"),
    ] {
        let (s, v) = token(&app, login, password).await;
        assert!(
            s == StatusCode::UNAUTHORIZED || s == StatusCode::BAD_REQUEST,
            "{login:?}: {s} {v}"
        );
    }
    assert_eq!(app.count("users"), users);
    assert_eq!(account(&app, "bob.durand@corp.example"), None);

    // Carol left: still listed, marked so. Refused, no account.
    let (s, v) = token(&app, "carol", "carol directory secret").await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("account_disabled"))
    );
    assert_eq!(account(&app, "carol.leroy@corp.example"), None);

    // Wrong directory passwords count like any: the sixth is not tried.
    for _ in 0..5 {
        assert_eq!(
            token(&app, "dave", "guess").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        token(&app, "dave", "dave directory secret").await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(account(&app, "dave.petit@corp.example"), None);
}

#[tokio::test]
async fn the_sync_makes_refreshes_and_cuts_off_accounts() {
    let Some((app, slapd)) = setup().await else {
        return;
    };
    let cfg = slapd.config();
    let sync = |dry: bool| {
        let cfg = cfg.clone();
        let db = app.db.clone();
        async move {
            let entries = ruche::ldap::people(&cfg, |_| {}).await.unwrap();
            let mut c = db.get().unwrap();
            ruche::accounts::directory::sync(&mut c, &entries, dry, |_| {}).unwrap()
        }
    };
    // An account made by hand before, with a password and Dave's address:
    // the directory does not take it over.
    {
        let mut c = app.db.get().unwrap();
        ruche::accounts::create_user(
            &mut c,
            &app.config.accounts,
            ruche::accounts::NewAccount {
                username: "dpetit",
                email: "dave.petit@corp.example",
                password: PASSWORD,
                is_admin: false,
                invite: None,
                welcome: None,
            },
            ruche::accounts::CreatedBy::Admin,
        )
        .unwrap();
    }
    let dry = sync(true).await;
    assert_eq!(
        (
            dry.listed,
            dry.created,
            dry.updated,
            dry.disabled,
            dry.skipped.len()
        ),
        (4, 2, 0, 0, 2),
        "{dry:?}"
    );
    assert_eq!(app.count("users"), 1, "a dry run writes nothing");

    let first = sync(false).await;
    assert_eq!(
        (first.created, first.updated, first.skipped.len()),
        (2, 0, 2),
        "{first:?}"
    );
    assert_eq!(app.count("users"), 3);
    let bob = account(&app, "bob.durand@corp.example").unwrap();
    assert_eq!(
        (bob.0.as_str(), bob.2.as_str(), bob.4.as_str()),
        ("bob", "Sales", "Paris")
    );
    assert_eq!(account(&app, "carol.leroy@corp.example"), None);
    let dave = account(&app, "dave.petit@corp.example").unwrap();
    assert_eq!((dave.0.as_str(), dave.2.as_str()), ("dpetit", ""));
    // Bob reports to Alice, as the directory says; her profile lists her
    // team (Dave's entry has no account of the directory here).
    let (s, v) = token(&app, "alice", "alice directory secret").await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let alice = v["token"].as_str().unwrap().to_string();
    let profile = |name: &'static str| {
        let (base, t) = (app.base.clone(), alice.clone());
        async move {
            reqwest::Client::new()
                .get(format!("{base}/api/v1/people/{name}"))
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let p = profile("bob").await;
    assert_eq!(p["manager"]["username"], "alice", "{p}");
    assert_eq!(p["reports"], json!([]), "{p}");
    let p = profile("alice").await;
    assert_eq!(p["manager"], Value::Null, "{p}");
    let team: Vec<&str> = p["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["username"].as_str().unwrap())
        .collect();
    assert_eq!(team, ["bob"], "{p}");
    // Nothing changed: nothing to do.
    let again = sync(false).await;
    assert_eq!(
        (
            again.created,
            again.updated,
            again.unchanged,
            again.disabled
        ),
        (0, 0, 2, 0),
        "{again:?}"
    );

    // Alice has a session and a token; then the directory changes: Bob
    // moves, Alice leaves the directory.
    let alice = sign_in(&app, "alice", "alice directory secret").await;
    assert_eq!(alice.status(), StatusCode::SEE_OTHER);
    let (_, t) = token(&app, "alice", "alice directory secret").await;
    let alice_token = t["token"].as_str().unwrap().to_string();
    slapd.modify(
        "dn: uid=bob,ou=people,dc=corp,dc=example\nchangetype: modify\nreplace: departmentNumber\ndepartmentNumber: Marketing\n-\nreplace: l\nl: Lyon\n",
    );
    slapd.delete("uid=alice,ou=people,dc=corp,dc=example");
    let second = sync(false).await;
    assert_eq!((second.updated, second.disabled), (1, 1), "{second:?}");
    let bob = account(&app, "bob.durand@corp.example").unwrap();
    assert_eq!((bob.2.as_str(), bob.4.as_str()), ("Marketing", "Lyon"));
    assert!(account(&app, "alice.martin@corp.example").unwrap().5);
    assert!(!account(&app, "dave.petit@corp.example").unwrap().5);
    let me = reqwest::Client::new()
        .get(app.url("/api/v1/me"))
        .bearer_auth(&alice_token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.count("sessions"), 0);

    // A read that lists nobody (a wrong base, an access rule changed) is
    // refused: it is not a company where everyone left.
    {
        let mut c = app.db.get().unwrap();
        let e = ruche::accounts::directory::sync(&mut c, &[], false, |_| {}).unwrap_err();
        assert_eq!(e.code, "directory_refused");
    }
    assert!(!account(&app, "bob.durand@corp.example").unwrap().5);

    // An entry made again with Alice's login and address is someone new
    // here (companies give both again): a new account; the former one
    // keeps what she wrote, disabled, and gives up the address. Bob,
    // disabled by an administrator here, stays disabled whatever the
    // directory says.
    slapd.add(
        "dn: uid=alice,ou=people,dc=corp,dc=example\nobjectClass: inetOrgPerson\nuid: alice\ncn: Alice Martin\nsn: Martin\nmail: alice.martin@corp.example\nuserPassword: alice directory secret\n",
    );
    app.create_account("root", true);
    let root = app.login_api("root").await;
    let r = root.post("/admin/users/bob/disable", json!({})).await;
    assert!(r.status.is_success(), "{:?}", r.json);
    let third = sync(false).await;
    assert_eq!((third.created, third.enabled), (1, 0), "{third:?}");
    let newcomer = account(&app, "alice.martin@corp.example").unwrap();
    assert!(!newcomer.5);
    assert_ne!(newcomer.0, "alice", "a new account");
    let former = {
        use ruche::db::schema::users::dsl as u;
        let mut c = app.db.get().unwrap();
        u::users
            .filter(u::username.eq("alice"))
            .select((u::email, u::disabled))
            .first::<(String, bool)>(&mut *c)
            .unwrap()
    };
    assert!(former.0.starts_with("left-") && former.1, "{former:?}");
    assert!(account(&app, "bob.durand@corp.example").unwrap().5);
    assert_eq!(
        sign_in(&app, "alice", "alice directory secret")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );

    // Someone the directory marks as gone, then lists again as present (the
    // same entry), comes back: enabled again.
    let mark = |left: bool| {
        let change = if left {
            "add: employeeType\nemployeeType: left"
        } else {
            "delete: employeeType"
        };
        slapd.modify(&format!(
            "dn: uid=alice,ou=people,dc=corp,dc=example\nchangetype: modify\n{change}\n"
        ));
    };
    mark(true);
    assert_eq!(sync(false).await.disabled, 1);
    assert!(account(&app, "alice.martin@corp.example").unwrap().5);
    mark(false);
    let back = sync(false).await;
    assert_eq!((back.enabled, back.created), (1, 0), "{back:?}");
    assert!(!account(&app, "alice.martin@corp.example").unwrap().5);
}

#[tokio::test]
async fn a_directory_that_answers_in_part_changes_nothing() {
    if !ldap::available() {
        return;
    }
    // The service account may read two people of the four: the sync must
    // not take the others for leavers.
    let full = Slapd::start(COMPANY).await;
    let cfg = full.config();
    let app = TestApp::start_with(move |c| c.accounts.ldap = cfg).await;
    let entries = ruche::ldap::people(&full.config(), |_| {}).await.unwrap();
    {
        let mut c = app.db.get().unwrap();
        let r = ruche::accounts::directory::sync(&mut c, &entries, false, |_| {}).unwrap();
        assert_eq!(r.created, 3, "{r:?}");
    }
    let part = Slapd::start_limited(COMPANY, Some(2)).await;
    let e = ruche::ldap::people(&part.config(), |_| {})
        .await
        .unwrap_err();
    assert_eq!(e.code, "directory_refused", "{e:?}");
    // Nothing was disabled: the sync never ran on a part of the people.
    use ruche::db::schema::users::dsl as u;
    let mut c = app.db.get().unwrap();
    let disabled: i64 = u::users
        .filter(u::disabled.eq(true))
        .count()
        .get_result(&mut *c)
        .unwrap();
    assert_eq!(disabled, 0);
}

/// A directory that refuses the search behind a sign-in (here a base that
/// does not exist, a common mistake) is named to the person as a refusal,
/// without what the server said (an Active Directory's diagnostic names
/// its internals); this site's own passwords still work.
#[tokio::test]
async fn a_refusal_of_the_directory_is_not_shown_to_who_signs_in() {
    if !ldap::available() {
        return;
    }
    let slapd = Slapd::start(COMPANY).await;
    let mut cfg = slapd.config();
    cfg.base_dn = "ou=nowhere,dc=corp,dc=example".into();
    let app = TestApp::start_with(move |c| c.accounts.ldap = cfg).await;
    app.create_account("root", true);
    let r = sign_in(&app, "alice", "alice directory secret").await;
    assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
    let page = r.text().await.unwrap();
    assert!(page.contains("did not answer this sign-in"), "{page}");
    assert!(
        !page.contains("refused the request"),
        "the server's answer leaks: {page}"
    );
    let (s, v) = token(&app, "alice", "alice directory secret").await;
    assert_eq!(s, StatusCode::BAD_GATEWAY);
    assert_eq!(v["error"]["code"], "directory_sign_in_refused", "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.contains("32")),
        "{v}"
    );
    assert_eq!(token(&app, "root", PASSWORD).await.0, StatusCode::CREATED);
    assert_eq!(account(&app, "alice.martin@corp.example"), None);
}

/// Under `accounts.leavers = "anonymise"`, someone the directory marks as
/// gone (still listed, as Active Directory keeps disabled accounts) is
/// anonymised, and the next syncs do not write their name back; when the
/// directory lists them again they are enabled and their profile filled.
#[tokio::test]
async fn an_anonymised_leaver_stays_so_while_the_directory_lists_them_as_gone() {
    if !ldap::available() {
        return;
    }
    let slapd = Slapd::start(COMPANY).await;
    let cfg = slapd.config();
    let app = TestApp::start_with(move |c| {
        c.accounts.ldap = cfg;
        c.accounts.leavers = ruche::config::LeaversPolicy::Anonymise;
    })
    .await;
    let cfg = slapd.config();
    let sync = || {
        let cfg = cfg.clone();
        let db = app.db.clone();
        async move {
            let entries = ruche::ldap::people(&cfg, |_| {}).await.unwrap();
            let mut c = db.get().unwrap();
            ruche::accounts::directory::sync(&mut c, &entries, false, |_| {}).unwrap()
        }
    };
    let anonymise = || {
        let mut c = app.db.get().unwrap();
        ruche::accounts::leavers::anonymise_due(&mut c, &app.config.accounts).unwrap()
    };
    sync().await;
    assert_eq!(anonymise(), 0);
    let bob = "bob.durand@corp.example";
    assert_eq!(account(&app, bob).unwrap().1, "Bob Durand");
    slapd.modify(
        "dn: uid=bob,ou=people,dc=corp,dc=example\nchangetype: modify\nadd: employeeType\nemployeeType: left\n",
    );
    assert_eq!(sync().await.disabled, 1);
    assert_eq!(anonymise(), 1);
    let gone = account(&app, bob).unwrap();
    assert_eq!((gone.1.as_str(), gone.2.as_str(), gone.5), ("", "", true));
    sync().await;
    let still = account(&app, bob).unwrap();
    assert_eq!(
        (still.1.as_str(), still.2.as_str()),
        ("", ""),
        "not written back"
    );
    slapd.modify(
        "dn: uid=bob,ou=people,dc=corp,dc=example\nchangetype: modify\ndelete: employeeType\n",
    );
    assert_eq!(sync().await.enabled, 1);
    let back = account(&app, bob).unwrap();
    assert_eq!(
        (back.1.as_str(), back.2.as_str(), back.5),
        ("Bob Durand", "Sales", false)
    );
    assert_eq!(app.count("leavers"), 0);
}

#[tokio::test]
async fn a_renamed_login_keeps_its_account_and_a_login_given_again_makes_a_new_one() {
    let Some((app, slapd)) = setup().await else {
        return;
    };
    let cfg = slapd.config();
    let sync = |dry: bool| {
        let cfg = cfg.clone();
        let db = app.db.clone();
        async move {
            let entries = ruche::ldap::people(&cfg, |_| {}).await.unwrap();
            assert!(entries.iter().all(|e| !e.id.is_empty()), "entryUUID read");
            let mut c = db.get().unwrap();
            ruche::accounts::directory::sync(&mut c, &entries, dry, |_| {}).unwrap()
        }
    };
    sync(false).await;
    let users = app.count("users");
    let (s, v) = token(&app, "bob", "bob directory secret").await;
    assert_eq!(s, StatusCode::CREATED, "{v}");

    // Bob's login becomes "robert" (his entry moves, its entryUUID stays).
    slapd.modify(
        "dn: uid=bob,ou=people,dc=corp,dc=example\nchangetype: modrdn\nnewrdn: uid=robert\ndeleteoldrdn: 1\n",
    );
    let dry = sync(true).await;
    assert_eq!((dry.created, dry.disabled), (0, 0), "{dry:?}");
    // He signs in with the new login, into his account.
    let (s, v) = token(&app, "robert", "bob directory secret").await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let me = app
        .client()
        .get(app.url("/api/v1/me"))
        .bearer_auth(v["token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(me["profile"]["username"], "bob", "the same account: {me}");
    let again = sync(false).await;
    assert_eq!((again.created, again.disabled), (0, 0), "{again:?}");
    assert_eq!(app.count("users"), users);
    let bob = account(&app, "bob.durand@corp.example").unwrap();
    assert!(!bob.5, "not a leaver");
    // The old login signs nobody in.
    let (s, _) = token(&app, "bob", "bob directory secret").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // A newcomer is given the login "bob": a new account, not Bob's.
    slapd.add(
        "dn: uid=bob,ou=people,dc=corp,dc=example\nobjectClass: inetOrgPerson\nuid: bob\ncn: Bob Newman\nsn: Newman\nmail: bob.newman@corp.example\nuserPassword: newcomer secret\n",
    );
    let (s, v) = token(&app, "bob", "newcomer secret").await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let newcomer = account(&app, "bob.newman@corp.example").unwrap();
    assert_ne!(newcomer.0, "bob", "Bob's username stays his");
    let report = sync(false).await;
    assert_eq!((report.created, report.disabled), (0, 0), "{report:?}");
    assert_eq!(app.count("users"), users + 1);
    let (s, v) = token(&app, "robert", "bob directory secret").await;
    assert_eq!(s, StatusCode::CREATED, "{v}");

    // Robert leaves (his entry is deleted): his account, not the
    // newcomer's, is cut off.
    slapd.delete("uid=robert,ou=people,dc=corp,dc=example");
    let report = sync(false).await;
    assert_eq!(report.disabled, 1, "{report:?}");
    assert!(account(&app, "bob.durand@corp.example").unwrap().5);
    assert!(!account(&app, "bob.newman@corp.example").unwrap().5);

    // His login is given to someone else: their own account; his stays
    // cut off, with what he wrote.
    slapd.add(
        "dn: uid=robert,ou=people,dc=corp,dc=example\nobjectClass: inetOrgPerson\nuid: robert\ncn: Robert Blanc\nsn: Blanc\nmail: robert.blanc@corp.example\nuserPassword: another secret\n",
    );
    let (s, v) = token(&app, "robert", "another secret").await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert!(!account(&app, "robert.blanc@corp.example").unwrap().5);
    assert!(account(&app, "bob.durand@corp.example").unwrap().5);
    let report = sync(false).await;
    assert_eq!((report.created, report.enabled), (0, 0), "{report:?}");
    assert!(account(&app, "bob.durand@corp.example").unwrap().5);
    assert_eq!(app.count("users"), users + 2);
}

/// A JPEG of one colour, as a directory's `jpegPhoto` holds.
fn jpeg(rgb: [u8; 3]) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(300, 200, image::Rgb(rgb));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

fn photo_version(app: &TestApp, username: &str) -> i64 {
    use ruche::db::schema::users::dsl as u;
    let mut c = app.db.get().unwrap();
    u::users
        .filter(u::username.eq(username))
        .select(u::photo_version)
        .first(&mut *c)
        .unwrap()
}

#[tokio::test]
async fn photos_come_from_the_directory_when_they_change_there() {
    use base64::Engine;
    let Some((app, slapd)) = setup().await else {
        return;
    };
    let mut config = app.config.clone();
    config.accounts.ldap = slapd.config();
    let entries = ruche::ldap::people(&config.accounts.ldap, |_| {})
        .await
        .unwrap();
    {
        let mut c = app.db.get().unwrap();
        ruche::accounts::directory::sync(&mut c, &entries, false, |_| {}).unwrap();
    }
    let set_photo = |login: &str, bytes: &[u8]| {
        let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
        slapd.modify(&format!(
            "dn: uid={login},ou=people,dc=corp,dc=example\nchangetype: modify\nreplace: jpegPhoto\njpegPhoto:: {b64}\n"
        ));
    };
    let import = || ruche::directory_photos(&app.db, &config, |_| {});
    set_photo("bob", &jpeg([200, 30, 30]));
    set_photo("carol", &jpeg([30, 200, 30]));
    let r = import().await.unwrap();
    assert_eq!(
        (r.imported, r.unchanged, r.without_account),
        (1, 0, 1),
        "{r:?}"
    );
    assert_eq!(photo_version(&app, "bob"), 1);
    assert_eq!(app.count("photos"), 1, "not the leaver's");
    // The same photo again: nothing to do.
    let r = import().await.unwrap();
    assert_eq!((r.imported, r.unchanged), (0, 1), "{r:?}");
    assert_eq!(photo_version(&app, "bob"), 1);

    // Bob chooses his own: it stays until the directory's changes.
    {
        let mut c = app.db.get().unwrap();
        let bob: i64 = {
            use ruche::db::schema::users::dsl as u;
            u::users
                .filter(u::username.eq("bob"))
                .select(u::id)
                .first(&mut *c)
                .unwrap()
        };
        ruche::people::set_photo(&mut c, bob, &png(400, 400), 5 << 20).unwrap();
    }
    assert_eq!(photo_version(&app, "bob"), 2);
    let r = import().await.unwrap();
    assert_eq!((r.imported, r.unchanged), (0, 1), "{r:?}");
    assert_eq!(photo_version(&app, "bob"), 2);
    set_photo("bob", &jpeg([30, 30, 200]));
    let r = import().await.unwrap();
    assert_eq!(r.imported, 1, "{r:?}");
    assert_eq!(photo_version(&app, "bob"), 3);

    // Bytes that are no picture: refused once, the photo kept.
    set_photo("bob", b"not a picture at all");
    let r = import().await.unwrap();
    assert_eq!(r.refused, 1, "{r:?}");
    assert_eq!(photo_version(&app, "bob"), 3);
    let r = import().await.unwrap();
    assert_eq!((r.refused, r.unchanged), (0, 1), "not tried again: {r:?}");
}

#[tokio::test]
async fn the_directory_is_reached_over_tls_and_an_untrusted_certificate_is_refused() {
    if !ldap::available() {
        return;
    }
    let slapd = Slapd::start_tls(COMPANY).await;
    let ldaps = slapd.ldaps_url.clone().unwrap();
    let ca = slapd.ca_file.clone().unwrap().display().to_string();
    let port = slapd.url.rsplit(':').next().unwrap().to_string();
    let tls_port = ldaps.rsplit(':').next().unwrap().to_string();
    let check = |cfg: ruche::config::LdapConfig| async move {
        ruche::ldap::check_password(&cfg, "alice", "alice directory secret")
            .await
            .map(|e| e.map(|e| e.email))
    };
    // ldaps:// and StartTLS, trusting the company's own authority.
    let over_ldaps = slapd.config_at(&ldaps, false, Some(&ca));
    assert_eq!(
        check(over_ldaps.clone()).await.unwrap().as_deref(),
        Some("alice.martin@corp.example")
    );
    let starttls = slapd.config_at(&format!("ldap://localhost:{port}"), true, Some(&ca));
    assert_eq!(
        check(starttls).await.unwrap().as_deref(),
        Some("alice.martin@corp.example")
    );
    // A sign-in through the site, over ldaps://.
    let app = TestApp::start_with(move |c| c.accounts.ldap = over_ldaps).await;
    let (s, v) = token(&app, "alice", "alice directory secret").await;
    assert_eq!(s, StatusCode::CREATED, "{v}");

    // A certificate of an authority this machine does not trust, or for
    // another name than the one asked: no connection, nothing read.
    for cfg in [
        slapd.config_at(&ldaps, false, None),
        slapd.config_at(&format!("ldaps://127.0.0.1:{tls_port}"), false, Some(&ca)),
        slapd.config_at(&format!("ldap://localhost:{port}"), true, None),
    ] {
        let url = cfg.url.clone();
        let e = check(cfg.clone()).await.unwrap_err();
        assert_eq!(e.code, "directory_unavailable", "{url}");
        let e = ruche::ldap::people(&cfg, |_| {}).await.unwrap_err();
        assert_eq!(e.code, "directory_unavailable", "{url}");
    }
    // A file that holds no authority is refused with the configuration.
    let env = [
        ("RUCHE_ACCOUNTS_LDAP_URL".to_string(), ldaps.clone()),
        (
            "RUCHE_ACCOUNTS_LDAP_BASE_DN".to_string(),
            ldap::PEOPLE.to_string(),
        ),
        (
            "RUCHE_ACCOUNTS_LDAP_CA_FILE".to_string(),
            "/etc/hostname".to_string(),
        ),
    ];
    let err = ruche::Config::load_from(None, &env)
        .unwrap_err()
        .to_string();
    assert!(err.contains("accounts.ldap.ca_file"), "{err}");
}

/// How the last sync went is on the console and in the API: the scheduled
/// one at start-up, then the command's, a failure with its reason, and a
/// success again.
#[tokio::test]
async fn the_console_tells_how_the_last_sync_went_and_why_it_failed() {
    if !ldap::available() {
        return;
    }
    let slapd = Slapd::start(COMPANY).await;
    let cfg = slapd.config();
    let app = TestApp::start_with(move |c| {
        c.accounts.ldap = cfg;
        c.accounts.ldap.sync_minutes = 60;
    })
    .await;
    app.create_account("root", true);
    let root = app.login_api("root").await;
    let last = || async {
        let v = root.get("/admin/identity").await;
        assert_eq!(v.status, StatusCode::OK, "{}", v.json);
        assert_eq!(v.json["directory"]["configured"], true);
        v.json["directory"]["last_sync"].clone()
    };
    // The schedule's first sync, at start-up.
    let mut run = Value::Null;
    for _ in 0..200 {
        run = last().await;
        if !run.is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(run["by"], "schedule", "{run}");
    assert_eq!(run["error"], Value::Null, "{run}");
    assert_eq!(
        (run["listed"].as_u64(), run["created"].as_u64()),
        (Some(4), Some(3)),
        "{run}"
    );
    let html = app.browser_login("root").await.html("/admin").await;
    assert!(html.contains("Last sync: "), "{html}");
    assert!(html.contains("· on schedule, in "), "{html}");
    assert!(html.contains("People listed: 4 · created: 3 "), "{html}");

    // The command, against a directory that does not answer: it fails, and
    // the console says why; nothing else changed.
    let command = |url: &str| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ruche"));
        cmd.args(["admin", "directory", "sync"])
            .env("RUCHE_DATABASE_URL", &app.config.database.url)
            .env("RUCHE_LOG", "warn")
            .envs(slapd.env_at(url, false, None));
        cmd.output().unwrap()
    };
    let users = app.count("users");
    let closed = format!("ldap://127.0.0.1:{}", common::smtp::free_port());
    let out = command(&closed);
    assert!(!out.status.success());
    let run = last().await;
    assert_eq!(run["by"], "command", "{run}");
    let error = run["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("directory_unavailable"), "{run}");
    let html = app.browser_login("root").await.html("/admin").await;
    assert!(html.contains("It failed:"), "{html}");
    assert!(html.contains("directory_unavailable"), "{html}");
    assert_eq!(app.count("users"), users);

    // Again with the directory there: a success, nothing new to make.
    let out = command(&slapd.url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = last().await;
    assert_eq!(
        (run["by"].as_str(), run["error"].as_str()),
        (Some("command"), None),
        "{run}"
    );
    assert_eq!(
        (run["listed"].as_u64(), run["created"].as_u64()),
        (Some(4), Some(0)),
        "{run}"
    );
}

/// Someone of the directory (no password of this site) adds a passkey
/// within minutes of signing in, not later; the passkey signs in while the
/// directory still vouches for them, and a sign-in through it renews that.
#[tokio::test]
async fn a_directory_account_adds_a_passkey_after_a_fresh_sign_in_and_keeps_it_while_vouched() {
    use common::passkey::{add_on_page, sign_in_on_page, SoftPasskey};
    if !ldap::available() {
        return;
    }
    let slapd = Slapd::start(COMPANY).await;
    let cfg = slapd.config();
    let app = TestApp::start_with(move |c| {
        c.accounts.ldap = cfg;
        c.base_url = c.base_url.replace("127.0.0.1", "localhost");
    })
    .await;
    let b = Browser::new(&app.base);
    let csrf = b.csrf("/login").await;
    let r = b
        .post_form(
            "/login",
            &[
                ("csrf", &csrf),
                ("login", "alice"),
                ("password", "alice directory secret"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let settings = b.html("/settings").await;
    assert!(settings.contains("data-passkey-add"), "offered now");
    assert!(
        !settings.contains("passkey-new-password"),
        "no password of this site to ask"
    );

    let mut key = SoftPasskey::new(&app.config.base_url);
    let r = add_on_page(&b, &mut key, "", "Phone").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    // Her directory password signs in here: the passkey guards it, with
    // recovery codes.
    assert_eq!(r.json["recovery_codes"].as_array().map(Vec::len), Some(10));

    let r = sign_in_on_page(&app.base, &mut key).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);

    // Twenty minutes after signing in, adding another is refused.
    {
        use ruche::db::schema::sessions;
        let mut c = app.db.get().unwrap();
        diesel::update(sessions::table)
            .set(sessions::created_at.eq(ruche::db::now() - chrono::Duration::minutes(20)))
            .execute(&mut *c)
            .unwrap();
    }
    let csrf = b.csrf("/settings").await;
    let r = b
        .post_json(
            "/settings/passkeys/options",
            json!({"csrf": csrf, "password": ""}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "passkey_sign_in_again"),
        "{}",
        r.json
    );
    assert!(b
        .html("/settings")
        .await
        .contains("sign in again through it first"));

    // The directory has not vouched for her in longer than a session lasts:
    // the passkey alone no longer signs in, until she signs in through it.
    {
        use ruche::db::schema::directory_users;
        let mut c = app.db.get().unwrap();
        diesel::update(directory_users::table)
            .set(directory_users::synced_at.eq(ruche::db::now() - chrono::Duration::days(31)))
            .execute(&mut *c)
            .unwrap();
    }
    let r = sign_in_on_page(&app.base, &mut key).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "passkey_company_again"),
        "{}",
        r.json
    );
    let r = sign_in(&app, "alice", "alice directory secret").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&r),
        "/login/code",
        "her passkey is her second step"
    );
    let r = sign_in_on_page(&app.base, &mut key).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
}
