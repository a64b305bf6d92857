//! The README's "two sites in five minutes" recipe, run as written: the two
//! example configurations of `config/examples/`, the commands the README
//! gives, and a colleague of Lyon reading a post of Paris.
//!
//! It runs on SQLite whatever the test database (the recipe's own), on the
//! recipe's ports 8081 and 8082, in a temporary folder standing for the
//! reader's checkout.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use federation_tests::{binary, client, eventually};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A process of the recipe, stopped when dropped.
struct Site(Child);

impl Drop for Site {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../config/examples")
        .join(format!("{name}.toml"))
}

fn ruche(dir: &Path, site: &str, args: &[&str]) -> String {
    let config = example(site);
    let out = Command::new(binary())
        .arg("--config")
        .arg(&config)
        .args(args)
        .current_dir(dir)
        .env_remove("RUCHE_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ruche --config {} {args:?}: {}",
        config.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn serve(dir: &Path, site: &str, base: &str) -> Site {
    let child = Command::new(binary())
        .arg("--config")
        .arg(example(site))
        .current_dir(dir)
        .env_remove("RUCHE_DATABASE_URL")
        .env("RUCHE_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let site = Site(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    // The test's own client does not know *.localhost: it asks 127.0.0.1,
    // naming the site in the Host header as a browser would.
    let port = base.rsplit(':').next().unwrap();
    loop {
        let r = client()
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await;
        if r.is_ok_and(|r| r.status().is_success()) {
            return site;
        }
        assert!(Instant::now() < deadline, "{base} did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A request to a site of the recipe, by its name, through 127.0.0.1.
async fn call(
    base: &str,
    token: &str,
    method: &str,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let (host, port) = base.trim_start_matches("http://").split_once(':').unwrap();
    let url = format!("http://127.0.0.1:{port}{path}");
    let mut r = match method {
        "GET" => client().get(url),
        _ => client().post(url).json(&body),
    }
    .header("host", format!("{host}:{port}"));
    if !token.is_empty() {
        r = r.bearer_auth(token);
    }
    let r = r.send().await.unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn account(base: &str, name: &str) -> String {
    let password = "correct horse battery staple";
    let (s, v) = call(
        base,
        "",
        "POST",
        "/api/v1/accounts",
        json!({"username": name, "email": format!("{name}@example.com"), "password": password}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = call(
        base,
        "",
        "POST",
        "/api/v1/auth/token",
        json!({"login": name, "password": password, "name": "recipe"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["token"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_two_sites_recipe_of_the_readme_federates() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    // The commands tested here are the README's.
    for line in [
        "ruche --config config/examples/paris.toml admin trust add lyon.localhost:8082 --level member",
        "ruche --config config/examples/lyon.toml admin trust add paris.localhost:8081 --level member",
        "ruche --config config/examples/paris.toml &",
        "ruche --config config/examples/lyon.toml &",
    ] {
        assert!(readme.contains(line), "the README no longer says: {line}");
    }
    let dir = tempfile::tempdir().unwrap();
    let (paris, lyon) = ("http://paris.localhost:8081", "http://lyon.localhost:8082");
    ruche(
        dir.path(),
        "paris",
        &[
            "admin",
            "trust",
            "add",
            "lyon.localhost:8082",
            "--level",
            "member",
        ],
    );
    ruche(
        dir.path(),
        "lyon",
        &[
            "admin",
            "trust",
            "add",
            "paris.localhost:8081",
            "--level",
            "member",
        ],
    );
    let _p = serve(dir.path(), "paris", paris).await;
    let _l = serve(dir.path(), "lyon", lyon).await;
    assert!(dir.path().join("data/paris/ruche.db").exists());
    assert!(dir.path().join("data/lyon/ruche.db").exists());

    let claire = account(paris, "claire").await;
    let louis = account(lyon, "louis").await;
    let (s, v) = call(
        lyon,
        &louis,
        "GET",
        "/api/v1/people/lookup?q=@claire@paris.localhost:8081",
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = call(
        lyon,
        &louis,
        "POST",
        "/api/v1/people/claire@paris.localhost:8081/follow",
        json!({}),
    )
    .await;
    assert!(s.is_success(), "{v}");
    eventually(15, "Paris to accept the follow", || async {
        let (_, v) = call(paris, &claire, "GET", "/api/v1/people/claire", Value::Null).await;
        (v["followers_count"] == 1).then_some(())
    })
    .await;
    let (s, v) = call(
        paris,
        &claire,
        "POST",
        "/api/v1/posts",
        json!({"body": "Bonjour Lyon, ici Paris !"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    eventually(15, "the post of Paris in Lyon's feed", || async {
        let (_, v) = call(lyon, &louis, "GET", "/api/v1/feed", Value::Null).await;
        v.to_string().contains("Bonjour Lyon").then_some(())
    })
    .await;
}
