//! The `ruche` binary: configuration errors, migrations and admin commands,
//! then a real `ruche serve` process that accepts the created account.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::*;
use reqwest::StatusCode;
use serde_json::json;

fn ruche(db_url: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ruche"));
    c.args(args)
        .env("RUCHE_DATABASE_URL", db_url)
        .env("RUCHE_LOG", "warn")
        .env_remove("RUCHE_ACCOUNTS_SIGNUP");
    c
}

#[test]
fn bad_configuration_names_the_key_and_touches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sub/ruche.db");
    let url = format!("sqlite://{}", db.display());

    let out = ruche(&url, &["migrate"])
        .env("RUCHE_DATABASE_POOL_SIZE", "lots")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("database.pool_size") && err.contains("lots"),
        "{err}"
    );
    assert!(!db.exists(), "no database may be created");

    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "[accounts]\nsignup = \"maybe\"\n").unwrap();
    let out = ruche(&url, &["--config", file.to_str().unwrap(), "serve"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("accounts.signup"));

    // A directory over plain LDAP to another machine would send passwords
    // in clear; an identity provider over plain http likewise.
    let out = ruche(&url, &["migrate"])
        .env("RUCHE_ACCOUNTS_LDAP_URL", "ldap://ad.corp.example")
        .env("RUCHE_ACCOUNTS_LDAP_BASE_DN", "dc=corp,dc=example")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("accounts.ldap.url"));
    // A leavers' policy or a guests' duration that means nothing.
    for (key, value) in [
        ("RUCHE_ACCOUNTS_LEAVERS", "forget"),
        ("RUCHE_ACCOUNTS_GUEST_DAYS", "0"),
    ] {
        let out = ruche(&url, &["migrate"]).env(key, value).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{key}");
        let err = String::from_utf8_lossy(&out.stderr);
        let named = if key.ends_with("LEAVERS") {
            "accounts.leavers"
        } else {
            "accounts.guest_days"
        };
        assert!(err.contains(named), "{err}");
    }
    std::fs::write(
        &file,
        "[[accounts.sso]]\nid = \"corp\"\nname = \"Corp\"\nissuer = \"http://login.corp.example\"\nclient_id = \"ruche\"\n",
    )
    .unwrap();
    let out = ruche(&url, &["--config", file.to_str().unwrap(), "migrate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("must be an https:// URL"));
    assert!(!db.exists(), "no database may be created");

    std::fs::write(&file, "colour = \"blue\"\n").unwrap();
    let out = ruche(&url, &["--config", file.to_str().unwrap(), "migrate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("colour: unknown key"));

    let out = ruche(&url, &["migrate"])
        .env("RUCHE_BASE_URL", "ftp://x")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("base_url"));

    let out = ruche(&url, &["--config", "/nonexistent/ruche.toml", "migrate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!db.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands_and_a_real_server_process() {
    let dir = tempfile::tempdir().unwrap();
    let (url, pg) = fresh_database(dir.path());

    let out = ruche(&url, &["migrate"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("applied"));
    let out = ruche(&url, &["migrate"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("up to date"));

    // Generated password.
    let out = ruche(
        &url,
        &[
            "admin",
            "create-user",
            "Root",
            "--email",
            "root@example.com",
            "--admin",
        ],
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(stdout.contains("created root (administrator)"), "{stdout}");
    let generated = stdout
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .unwrap()
        .to_string();

    // Password from standard input.
    let mut child = ruche(
        &url,
        &[
            "admin",
            "create-user",
            "eve",
            "--email",
            "eve@example.com",
            "--password-stdin",
        ],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"eve's long password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("password:"));

    // Bad input: duplicate, invalid name, short password.
    let out = ruche(
        &url,
        &[
            "admin",
            "create-user",
            "eve",
            "--email",
            "other@example.com",
        ],
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already taken"));
    let out = ruche(
        &url,
        &["admin", "create-user", "a b", "--email", "ab@example.com"],
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    let mut child = ruche(
        &url,
        &[
            "admin",
            "create-user",
            "frank",
            "--email",
            "f@example.com",
            "--password-stdin",
        ],
    )
    .stdin(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    child.stdin.take().unwrap().write_all(b"short\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("10 to 256 characters"));

    // Reset and invite.
    let out = ruche(&url, &["admin", "reset-password", "eve"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let eve_password = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("password: ").map(str::to_string))
        .unwrap();
    let out = ruche(&url, &["admin", "reset-password", "nobody"])
        .output()
        .unwrap();
    assert!(!out.status.success());

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let out = ruche(&url, &["admin", "invite"])
        .env("RUCHE_BASE_URL", &base)
        .output()
        .unwrap();
    let link = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        link.starts_with(&format!("{base}/signup?invite=")),
        "{link}"
    );
    let code = link.rsplit('=').next().unwrap().to_string();

    // A SCIM client: its token printed once, listed, revoked.
    let out = ruche(&url, &["admin", "scim", "create", "Entra ID"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let scim_token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(scim_token.len() >= 32, "{scim_token}");
    let out = ruche(&url, &["admin", "scim", "create", "Entra ID"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let out = ruche(&url, &["admin", "scim", "list"]).output().unwrap();
    let listed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        listed.contains("Entra ID") && listed.contains("active"),
        "{listed}"
    );

    // A real server process, invitation-only, logging to a file.
    let log_dir = tempfile::tempdir().unwrap();
    let log_path = log_dir.path().join("ruche.log");
    let mut server = ruche(&url, &["serve"])
        .env("RUCHE_LISTEN", format!("127.0.0.1:{port}"))
        .env("RUCHE_BASE_URL", &base)
        .env("RUCHE_ACCOUNTS_SIGNUP", "invite")
        .env("RUCHE_LOG", "info")
        .stderr(Stdio::from(std::fs::File::create(&log_path).unwrap()))
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..200 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(up, "server did not start");
    let login = |name: &str, pw: &str| {
        client
            .post(format!("{base}/api/v1/auth/token"))
            .json(&json!({"login": name, "password": pw}))
            .send()
    };
    assert_eq!(
        login("root", &generated).await.unwrap().status(),
        StatusCode::CREATED
    );
    assert_eq!(
        login("eve", "eve's long password").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login("eve", &eve_password).await.unwrap().status(),
        StatusCode::CREATED
    );
    let scim = |token: String| {
        client
            .get(format!("{base}/scim/v2/Users"))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(
        scim(scim_token.clone()).await.unwrap().status(),
        StatusCode::OK
    );
    let out = ruche(&url, &["admin", "scim", "revoke", "Entra ID"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        scim(scim_token.clone()).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let r = client
        .post(format!("{base}/api/v1/accounts"))
        .json(&json!({"username": "gina", "email": "g@example.com", "password": PASSWORD, "invite": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = client
        .post(format!("{base}/api/v1/accounts"))
        .json(&json!({"username": "hugo", "email": "h@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // SIGTERM stops it cleanly.
    terminate(server.id());
    let status = server.wait().unwrap();
    assert!(status.success(), "{status:?}");
    // Its log file is plain text: no terminal colour codes.
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("INFO"), "{log}");
    assert!(
        !log.contains('\u{1b}'),
        "colour codes in a log file: {log:?}"
    );
    drop_database(&pg);
}

fn terminate(pid: u32) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
}
