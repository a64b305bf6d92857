//! Runs several real Ruche processes (the `ruche` binary of this workspace),
//! each with its own database and host name (`alpha.test`, `beta.test`,
//! `gamma.test`), all resolved to loopback by Ruche's own `federation.resolve`
//! setting and by the test client, never by editing system files.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

pub const PASSWORD: &str = "correct horse battery";
pub const HOSTS: [&str; 3] = ["alpha.test", "beta.test", "gamma.test"];
/// Host of [`ForeignServer`], which publishes documents shaped as Mastodon,
/// GoToSocial and Lemmy do.
pub const FOREIGN_HOST: &str = "partner.test";

fn resolved_hosts() -> impl Iterator<Item = String> {
    HOSTS
        .iter()
        .map(|h| h.to_string())
        .chain(std::iter::once(FOREIGN_HOST.to_string()))
        .chain((1..=EXTRA_HOSTS).map(extra_host))
}

/// More host names resolved to loopback, for benchmarks with many instances.
pub const EXTRA_HOSTS: usize = 60;
pub fn extra_host(i: usize) -> String {
    format!("site{i}.test")
}

/// The `ruche` binary of this workspace, beside this test executable.
///
/// Under cargo (`cargo test`, `cargo run`), it is brought up to date once
/// per process with `cargo build --bin ruche` in the same profile, so that
/// `cargo test -p federation-tests` never plays scenarios on a stale binary.
/// Run directly (the benchmark), the binary next to it is used as built.
pub fn binary() -> PathBuf {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("test executable path");
        let name = format!("ruche{}", std::env::consts::EXE_SUFFIX);
        // Tests live in target/<profile>/deps, the benchmark in target/<profile>.
        let mut dir = exe.parent().expect("target folder").to_path_buf();
        if dir.ends_with("deps") {
            dir.pop();
        }
        let release = dir.ends_with("release");
        if let Ok(cargo) = std::env::var("CARGO") {
            let mut args = vec!["build", "--quiet", "-p", "ruche", "--bin", "ruche"];
            if release {
                args.push("--release");
            }
            let ok = Command::new(cargo)
                .args(&args)
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .status()
                .expect("run cargo build");
            assert!(ok.success(), "cargo build --bin ruche failed");
        }
        let bin = dir.join(&name);
        assert!(
            bin.exists(),
            "{} is missing: run cargo build --bin ruche",
            bin.display()
        );
        bin
    })
    .clone()
}

/// A free port, never one this process handed out before: the listener
/// is closed before the instance binds it, so two tests running at once
/// could otherwise be given the same port, and one would talk to the
/// other's instance.
fn free_port() -> u16 {
    static GIVEN: LazyLock<Mutex<std::collections::HashSet<u16>>> = LazyLock::new(Default::default);
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if GIVEN.lock().unwrap().insert(port) {
            return port;
        }
    }
}

fn pg_admin() -> Option<String> {
    std::env::var("RUCHE_TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
}

/// One Ruche instance run as a child process.
pub struct Instance {
    pub host: String,
    /// Port of the public base URL.
    pub port: u16,
    /// Port this process listens on (another process of the same instance
    /// listens elsewhere but shares the base URL and database).
    listen_port: u16,
    pub base: String,
    pub db_url: String,
    child: Option<Child>,
    extra_env: Vec<(String, String)>,
    /// The ports of the instances of its network, by host name.
    peers: Vec<(String, u16)>,
    _dir: tempfile::TempDir,
    pg_name: Option<String>,
}

impl Instance {
    pub fn new(host: &str, ports: &[(String, u16)]) -> Instance {
        let dir = tempfile::tempdir().unwrap();
        let port = ports
            .iter()
            .find(|(h, _)| h == host)
            .map(|(_, p)| *p)
            .unwrap();
        let (db_url, pg_name) = match pg_admin() {
            Some(admin) => {
                let name = format!(
                    "ruche_fed_{}_{}_{}",
                    host.replace('.', "_"),
                    std::process::id(),
                    Instant::now().elapsed().as_nanos() ^ (port as u128)
                );
                let mut c = diesel::PgConnection::establish(&admin).expect("connect to PostgreSQL");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut c)
                    .unwrap();
                let (prefix, _) = admin.rsplit_once('/').unwrap();
                (format!("{prefix}/{name}"), Some(name))
            }
            None => (
                format!("sqlite://{}", dir.path().join("ruche.db").display()),
                None,
            ),
        };
        Instance {
            host: host.to_string(),
            port,
            listen_port: port,
            base: format!("http://{host}:{port}"),
            db_url,
            child: None,
            extra_env: Vec::new(),
            peers: ports.to_vec(),
            _dir: dir,
            pg_name,
        }
    }

    fn env(&self) -> Vec<(String, String)> {
        let resolve: Vec<String> = resolved_hosts().map(|h| format!("{h}=127.0.0.1")).collect();
        let mut env = vec![
            (
                "RUCHE_LISTEN".into(),
                format!("127.0.0.1:{}", self.listen_port),
            ),
            ("RUCHE_BASE_URL".into(), self.base.clone()),
            ("RUCHE_INSTANCE_NAME".into(), self.host.clone()),
            ("RUCHE_DATABASE_URL".into(), self.db_url.clone()),
            ("RUCHE_DATABASE_POOL_SIZE".into(), "4".into()),
            (
                "RUCHE_DOCUMENTS_PATH".into(),
                self._dir.path().join("files").display().to_string(),
            ),
            (
                "RUCHE_LOG".into(),
                std::env::var("FEDERATION_TESTS_LOG").unwrap_or_else(|_| "warn".into()),
            ),
            ("RUCHE_FEDERATION_RESOLVE".into(), resolve.join(",")),
            (
                "RUCHE_FEDERATION_ALLOWED_PRIVATE_RANGES".into(),
                "127.0.0.0/8".into(),
            ),
            ("RUCHE_FEDERATION_RETRY_BASE_MS".into(), "200".into()),
            ("RUCHE_FEDERATION_RETRY_MAX_MS".into(), "1000".into()),
            ("RUCHE_FEDERATION_POLL_INTERVAL_MS".into(), "50".into()),
            (
                "RUCHE_FEDERATION_REQUEST_TIMEOUT_SECONDS".into(),
                "3".into(),
            ),
        ];
        env.extend(self.extra_env.iter().cloned());
        env
    }

    /// A second process of this instance: same base URL and database,
    /// listening on another port (as behind a load balancer).
    pub fn sibling(&self) -> Instance {
        Instance {
            host: self.host.clone(),
            port: self.port,
            listen_port: free_port(),
            base: self.base.clone(),
            db_url: self.db_url.clone(),
            child: None,
            extra_env: self.extra_env.clone(),
            peers: self.peers.clone(),
            _dir: tempfile::tempdir().unwrap(),
            pg_name: None,
        }
    }

    pub fn set_env(&mut self, k: &str, v: &str) {
        self.extra_env.push((k.to_string(), v.to_string()));
    }

    /// Runs `ruche <args>` against this instance's database.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new(binary())
            .args(args)
            .envs(self.env())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ruche {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs `ruche <args>` against this instance's database with `input`
    /// on its standard input: its exit status and what it printed.
    pub fn cli_input(&self, args: &[&str], input: &[u8]) -> (Option<i32>, String) {
        use std::io::Write;
        let mut child = Command::new(binary())
            .args(args)
            .envs(self.env())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }

    /// Lists `domain` at `level` in this instance's trust list. Trust is per
    /// `host:port`, so the host name of an instance of the same network
    /// stands for that instance, port included; other names are listed as
    /// given (a bare parent domain, or a stand-in server's authority).
    pub fn trust(&self, domain: &str, level: &str) {
        let entry = match self.peers.iter().find(|(h, _)| h == domain) {
            Some((h, p)) => format!("{h}:{p}"),
            None => domain.to_string(),
        };
        self.cli(&[
            "admin", "trust", "add", &entry, "--level", level, "--reason", "test",
        ]);
    }

    /// How another instance names `name` (a person or a community) of
    /// this one: `name@host:port`.
    pub fn handle(&self, name: &str) -> String {
        format!("{name}@{}:{}", self.host, self.port)
    }

    /// `host:port`: how other instances name this one.
    pub fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    pub async fn start(&mut self) {
        assert!(self.child.is_none());
        let child = Command::new(binary())
            .arg("serve")
            .envs(self.env())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let client = client();
        let deadline = Instant::now() + Duration::from_secs(60);
        let health = format!("http://127.0.0.1:{}/healthz", self.listen_port);
        loop {
            if let Ok(r) = client.get(&health).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "{} did not start", self.host);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the process (SIGTERM, or SIGKILL when `kill`).
    pub fn stop(&mut self, kill: bool) {
        if let Some(mut c) = self.child.take() {
            let sig = if kill { "-KILL" } else { "-TERM" };
            let _ = Command::new("kill")
                .args([sig, &c.id().to_string()])
                .status();
            let _ = c.wait();
        }
    }

    pub async fn user(&self, name: &str) -> Api {
        let c = client();
        let r = c
            .post(format!("{}/api/v1/accounts", self.base))
            .json(&json!({"username": name, "email": format!("{name}@{}", self.host), "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "{}",
            r.text().await.unwrap()
        );
        let r = c
            .post(format!("{}/api/v1/auth/token", self.base))
            .json(&json!({"login": name, "password": PASSWORD, "name": "tests"}))
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        Api {
            base: self.base.clone(),
            token: v["token"].as_str().unwrap().to_string(),
        }
    }

    /// Runs a SQL query returning one integer, on this instance's database.
    pub fn count(&self, sql: &str) -> i64 {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let q = diesel::sql_query(format!("SELECT CAST(({sql}) AS BIGINT) AS n"));
        let row: N = if self.db_url.starts_with("postgres") {
            q.get_result(&mut diesel::PgConnection::establish(&self.db_url).unwrap())
                .unwrap()
        } else {
            let path = self.db_url.trim_start_matches("sqlite://");
            q.get_result(&mut diesel::SqliteConnection::establish(path).unwrap())
                .unwrap()
        };
        row.n
    }

    /// Runs one SQL statement on this instance's database (benchmark seeds).
    pub fn exec(&self, sql: &str) {
        let q = diesel::sql_query(sql);
        if self.db_url.starts_with("postgres") {
            q.execute(&mut diesel::PgConnection::establish(&self.db_url).unwrap())
                .unwrap();
        } else {
            let path = self.db_url.trim_start_matches("sqlite://");
            q.execute(&mut diesel::SqliteConnection::establish(path).unwrap())
                .unwrap();
        }
    }

    /// The process id of the running server.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// The private key and key id of a local person (to forge requests).
    /// The text column `t` of the rows of `sql` (`SELECT x AS t …`).
    pub fn texts(&self, sql: &str) -> Vec<String> {
        #[derive(QueryableByName)]
        struct T {
            #[diesel(sql_type = diesel::sql_types::Text)]
            t: String,
        }
        let q = diesel::sql_query(sql);
        let rows: Vec<T> = if self.db_url.starts_with("postgres") {
            q.load(&mut diesel::PgConnection::establish(&self.db_url).unwrap())
                .unwrap()
        } else {
            let path = self.db_url.trim_start_matches("sqlite://");
            q.load(&mut diesel::SqliteConnection::establish(path).unwrap())
                .unwrap()
        };
        rows.into_iter().map(|r| r.t).collect()
    }

    pub fn private_key(&self, name: &str) -> (String, String) {
        #[derive(QueryableByName)]
        struct K {
            #[diesel(sql_type = diesel::sql_types::Text)]
            private_key: String,
        }
        let q = diesel::sql_query(format!(
            "SELECT private_key FROM users WHERE username = '{name}'"
        ));
        let row: K = if self.db_url.starts_with("postgres") {
            q.get_result(&mut diesel::PgConnection::establish(&self.db_url).unwrap())
                .unwrap()
        } else {
            let path = self.db_url.trim_start_matches("sqlite://");
            q.get_result(&mut diesel::SqliteConnection::establish(path).unwrap())
                .unwrap()
        };
        (
            row.private_key,
            format!("{}/people/{name}#main-key", self.base),
        )
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.stop(false);
        if let (Some(admin), Some(name)) = (pg_admin(), &self.pg_name) {
            if let Ok(mut c) = diesel::PgConnection::establish(&admin) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut c);
            }
        }
    }
}

/// Three instances (not started), `alpha.test`, `beta.test` and
/// `gamma.test`: ports are chosen first so that each knows the others'
/// addresses.
pub fn network() -> [Instance; 3] {
    let ports: Vec<(String, u16)> = HOSTS.iter().map(|h| (h.to_string(), free_port())).collect();
    HOSTS.map(|h| Instance::new(h, &ports))
}

/// `alpha.test` and `n` more instances on the extra host names
/// (`site1.test`, …), not started; each knows the others' addresses. For
/// benchmarks that need many real instances.
pub fn wide_network(n: usize) -> Vec<Instance> {
    assert!(n <= EXTRA_HOSTS, "at most {EXTRA_HOSTS} extra hosts");
    let hosts: Vec<String> = std::iter::once(HOSTS[0].to_string())
        .chain((1..=n).map(extra_host))
        .collect();
    let ports: Vec<(String, u16)> = hosts.iter().map(|h| (h.clone(), free_port())).collect();
    hosts.iter().map(|h| Instance::new(h, &ports)).collect()
}

/// The three instances of [`network`], each trusting the other two as
/// members, started.
pub async fn trusting_network() -> [Instance; 3] {
    let [mut alpha, mut beta, mut gamma] = network();
    for (a, others) in [
        (&alpha, ["beta.test", "gamma.test"]),
        (&beta, ["alpha.test", "gamma.test"]),
        (&gamma, ["alpha.test", "beta.test"]),
    ] {
        for o in others {
            a.trust(o, "member");
        }
    }
    alpha.start().await;
    beta.start().await;
    gamma.start().await;
    [alpha, beta, gamma]
}

/// A test HTTP client that resolves the test host names to loopback.
pub fn client() -> reqwest::Client {
    client_builder().build().unwrap()
}

fn client_builder() -> reqwest::ClientBuilder {
    let mut b = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy();
    for h in resolved_hosts() {
        b = b.resolve(&h, "127.0.0.1:0".parse().unwrap());
    }
    b
}

/// A browser-like client (cookies, no redirects) of one person, signed in
/// through the sign-in page.
pub struct Browser {
    pub base: String,
    pub client: reqwest::Client,
}

impl Browser {
    /// Signs in `name` (an account made by [`Instance::user`]).
    pub async fn sign_in(home: &Instance, name: &str) -> Browser {
        let b = Browser {
            base: home.base.clone(),
            client: client_builder().cookie_store(true).build().unwrap(),
        };
        let csrf = b.csrf("/login").await;
        let r = b
            .post_form(
                "/login",
                &[("csrf", &csrf), ("login", name), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "sign-in of {name}");
        b
    }

    /// A page in a language: (status, HTML).
    pub async fn page(&self, path: &str, lang: &str) -> (StatusCode, String) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header("accept-language", lang)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    /// The CSRF token of the first form of a page.
    pub async fn csrf(&self, path: &str) -> String {
        let (_, html) = self.page(path, "en").await;
        let marker = "name=\"csrf\" value=\"";
        let start = html.find(marker).expect("a form with a CSRF token") + marker.len();
        let end = html[start..].find('"').unwrap() + start;
        html[start..end].to_string()
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await
            .unwrap()
    }
}

/// The signature headers of a request to `url` (its host and path) as
/// `key_id` sends it: a POST of `body`, or a GET without one.
pub fn sign_for(
    url: &str,
    body: Option<&[u8]>,
    key_id: &str,
    private_pem: &str,
) -> Vec<(&'static str, String)> {
    let u = reqwest::Url::parse(url).unwrap();
    let host = format!("{}:{}", u.host_str().unwrap(), u.port().unwrap());
    let method = if body.is_some() {
        reqwest::Method::POST
    } else {
        reqwest::Method::GET
    };
    ruche::net::signature::sign(&method, u.path(), &host, body, key_id, private_pem).unwrap()
}

/// GETs `url` asking for ActivityPub JSON, signed with `signer` (private
/// key, key id) when given; returns the status.
pub async fn signed_get(url: &str, signer: Option<(&str, &str)>) -> StatusCode {
    let mut req = client()
        .get(url)
        .header("accept", "application/activity+json");
    if let Some((key, key_id)) = signer {
        req = with_headers(req, sign_for(url, None, key_id, key));
    }
    req.send().await.unwrap().status()
}

/// Adds headers to a request.
pub fn with_headers(
    mut req: reqwest::RequestBuilder,
    headers: Vec<(&'static str, String)>,
) -> reqwest::RequestBuilder {
    for (n, v) in headers {
        req = req.header(n, v);
    }
    req
}

/// An API client of one person.
pub struct Api {
    pub base: String,
    pub token: String,
}

impl Api {
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = client()
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }
}

/// Polls `check` until it returns `Some`, for at most `secs` seconds.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What [`ForeignServer`] received: (path, Signature header, body).
pub type Received = Arc<Mutex<Vec<(String, String, Value)>>>;

/// A small server standing in for other software (Mastodon, GoToSocial,
/// Lemmy): it publishes the actor documents of `fixtures/` with a real key
/// and records what is posted to it. It is not a Ruche component: it plays
/// the remote side so that Ruche's handling of their shapes is tested over
/// real HTTP with real signatures.
pub struct ForeignServer {
    pub base: String,
    pub port: u16,
    /// The key its actors publish and sign with (see [`ForeignServer::rotate_key`]).
    key: Arc<Mutex<ruche::net::keys::KeyPair>>,
    pub received: Received,
    /// Documents added by a test: path, Content-Type, body.
    published: Published,
    /// What it answered 400 to, as Lemmy would: path, activity, reason.
    refused: Refused,
    refuse_all: Arc<std::sync::atomic::AtomicBool>,
    /// Which HTTP signatures it reads (401 for the others).
    signatures: Arc<Mutex<Signatures>>,
    /// Files added by a test (a user's uploaded picture): path, type, bytes.
    files: Files,
    /// The paths of those files that were fetched, in order.
    pub fetched_files: Arc<Mutex<Vec<String>>>,
}

type Files = Arc<Mutex<Vec<(String, String, Vec<u8>)>>>;

/// Which HTTP signatures a stand-in server reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Signatures {
    #[default]
    Both,
    /// Draft-cavage only, as most servers today.
    CavageOnly,
    /// RFC 9421 only, as a server built on Fedify could be.
    Rfc9421Only,
}

type Refused = Arc<Mutex<Vec<(String, Value, String)>>>;

const AS_PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// Whether an activity (or the one it embeds) is about a community: Lemmy's
/// rules apply to it.
fn concerns_community(v: &Value) -> bool {
    v.get("audience").is_some() || v.get("object").is_some_and(concerns_community)
}

fn ids(v: &Value, key: &str) -> Vec<String> {
    match v.get(key) {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().or_else(|| x["id"].as_str()).map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// What a real Lemmy (1.0) answers 400 to, read from its source: activities
/// into its (public) communities must carry a `cc` and a public audience
/// (a deletion in `to`), a post is a titled `Page` (a `Note` is only read
/// as a comment, with `inReplyTo`), and embedded activities are held to the
/// same rules.
pub fn lemmy_refuses(a: &Value) -> Option<String> {
    let public = |keys: &[&str]| {
        keys.iter()
            .any(|k| ids(a, k).iter().any(|i| i == AS_PUBLIC))
    };
    match a["type"].as_str().unwrap_or("") {
        "Create" | "Update" => {
            let o = &a["object"];
            let kind = o["type"].as_str().unwrap_or("");
            if matches!(kind, "Group" | "Person" | "Service" | "Application") {
                return None;
            }
            if a.get("cc").is_none() {
                return Some("missing field `cc`".into());
            }
            if !o.is_object() {
                return Some("invalid type: string, expected a post or comment".into());
            }
            match kind {
                "Page" | "Article" | "Video" | "Event" => {
                    if o["name"].as_str().is_none_or(|n| n.trim().is_empty()) {
                        return Some("missing field `name`".into());
                    }
                }
                "Note" => {
                    if o["inReplyTo"].as_str().is_none() {
                        return Some("ObjectIsNotAComment: a Note needs inReplyTo".into());
                    }
                }
                other => return Some(format!("unknown variant `{other}`")),
            }
            (!public(&["to", "cc"])).then(|| "ObjectIsNotPublic".into())
        }
        "Delete" => {
            (!public(&["to"])).then(|| "ObjectIsNotPublic: a deletion is public in `to`".into())
        }
        "Announce" => {
            if !public(&["to", "cc"]) {
                return Some("ObjectIsNotPublic".into());
            }
            a["object"]
                .is_object()
                .then(|| lemmy_refuses(&a["object"]))
                .flatten()
        }
        _ => None,
    }
}

/// Lemmy's answer to a refused activity: its error, then a long
/// explanation (several kilobytes in practice).
fn lemmy_error(reason: &str) -> String {
    let filler =
        "The activity could not be received because it does not follow what this server requires. "
            .repeat(45);
    json!({"error": reason, "message": format!("{reason}: {filler}")}).to_string()
}

type Published = Arc<Mutex<Vec<(String, String, String)>>>;

pub fn fixture(name: &str, base: &str, pem: &str, target: &str) -> String {
    // The fixtures live beside the protocol structs that read them.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../src/federation/protocol/fixtures")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .replace("{BASE}", base)
        .replace("{PEM}", &pem.replace('\n', "\\n"))
        .replace("{TARGET}", target)
}

impl ForeignServer {
    /// `host:port`: how instances name this server in their trust lists.
    pub fn authority(&self) -> String {
        self.base.trim_start_matches("http://").to_string()
    }

    pub async fn start() -> ForeignServer {
        ForeignServer::start_on(FOREIGN_HOST).await
    }

    /// Like [`ForeignServer::start`], on another host name.
    pub async fn start_on(host: &str) -> ForeignServer {
        use axum::routing::get;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let base = format!("http://{host}:{port}");
        let key = Arc::new(Mutex::new(ruche::net::keys::generate().unwrap()));
        let received: Received = Arc::default();
        let published: Published = Arc::default();
        let extra = published.clone();
        let docs: Arc<Vec<(&str, &str)>> = Arc::new(vec![
            ("/users/alice", "mastodon_actor.json"),
            ("/users/gary", "gotosocial_actor.json"),
            ("/users/gary/main-key", "gotosocial_key.json"),
            ("/u/carol", "lemmy_actor.json"),
            ("/c/lemmings", "lemmy_group.json"),
        ]);
        let rec = received.clone();
        let refused: Refused = Arc::default();
        let refusals = refused.clone();
        let refuse_all = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let refusing = refuse_all.clone();
        let signatures: Arc<Mutex<Signatures>> = Arc::default();
        let reading = signatures.clone();
        let doc_key = key.clone();
        let doc_base = base.clone();
        let wf_base = base.clone();
        let wf_docs = published.clone();
        let files: Files = Arc::default();
        let served_files = files.clone();
        let fetched_files: Arc<Mutex<Vec<String>>> = Arc::default();
        let fetches = fetched_files.clone();
        let app = axum::Router::new()
            .route(
                "/.well-known/webfinger",
                get(
                    move |q: axum::extract::Query<std::collections::HashMap<String, String>>| {
                        let base = wf_base.clone();
                        let docs = wf_docs.clone();
                        async move {
                            let res = q.get("resource").cloned().unwrap_or_default();
                            let name = res
                                .trim_start_matches("acct:")
                                .split('@')
                                .next()
                                .unwrap_or("")
                                .to_string();
                            // A name a test published an address for (`/.well-known/webfinger/{name}`).
                            let published = docs
                                .lock()
                                .unwrap()
                                .iter()
                                .find(|(p, _, _)| *p == format!("/.well-known/webfinger/{name}"))
                                .map(|(_, _, href)| href.clone());
                            // Lemmy's communities live under /c/.
                            let href = match published {
                                Some(href) => href,
                                None if name == "lemmings" => format!("{base}/c/{name}"),
                                None => format!("{base}/users/{name}"),
                            };
                            axum::Json(json!({"subject": res, "links": [
                                {"rel": "self", "type": "application/activity+json", "href": href}
                            ]}))
                        }
                    },
                ),
            )
            .fallback(move |req: axum::extract::Request| {
                let served_files = served_files.clone();
                let fetches = fetches.clone();
                let docs = docs.clone();
                let rec = rec.clone();
                let pem = doc_key.lock().unwrap().public_pem.clone();
                let base = doc_base.clone();
                let extra = extra.clone();
                async move {
                    use axum::response::IntoResponse;
                    let path = req.uri().path().to_string();
                    let file = served_files
                        .lock()
                        .unwrap()
                        .iter()
                        .find(|(p, _, _)| *p == path)
                        .cloned();
                    if let Some((_, content_type, bytes)) = file {
                        fetches.lock().unwrap().push(path);
                        return ([(axum::http::header::CONTENT_TYPE, content_type)], bytes)
                            .into_response();
                    }
                    let added = extra
                        .lock()
                        .unwrap()
                        .iter()
                        .find(|(p, _, _)| *p == path)
                        .cloned();
                    if let Some((_, content_type, body)) = added {
                        return ([(axum::http::header::CONTENT_TYPE, content_type)], body)
                            .into_response();
                    }
                    if req.method() == axum::http::Method::POST {
                        let sig = req
                            .headers()
                            .get("signature")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_string();
                        let rfc9421 = req.headers().contains_key("signature-input");
                        let reads = *reading.lock().unwrap();
                        if (rfc9421 && reads == Signatures::CavageOnly)
                            || (!rfc9421 && reads == Signatures::Rfc9421Only)
                        {
                            return (
                                axum::http::StatusCode::UNAUTHORIZED,
                                "signature not understood",
                            )
                                .into_response();
                        }
                        let body = axum::body::to_bytes(req.into_body(), 1 << 20)
                            .await
                            .unwrap_or_default();
                        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        let lemmy = path.starts_with("/c/")
                            || path.starts_with("/u/")
                            || concerns_community(&v);
                        let refusal = if refusing.load(std::sync::atomic::Ordering::SeqCst) {
                            Some("refused by the test".to_string())
                        } else if lemmy {
                            lemmy_refuses(&v)
                        } else {
                            None
                        };
                        if let Some(reason) = refusal {
                            refusals.lock().unwrap().push((path, v, reason.clone()));
                            return (axum::http::StatusCode::BAD_REQUEST, lemmy_error(&reason))
                                .into_response();
                        }
                        rec.lock().unwrap().push((path, sig, v));
                        return axum::http::StatusCode::ACCEPTED.into_response();
                    }
                    match docs.iter().find(|(p, _)| *p == path) {
                        Some((_, name)) => (
                            [(
                                axum::http::header::CONTENT_TYPE,
                                "application/activity+json",
                            )],
                            fixture(name, &base, &pem, ""),
                        )
                            .into_response(),
                        None => axum::http::StatusCode::NOT_FOUND.into_response(),
                    }
                }
            });
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        ForeignServer {
            base,
            port,
            key,
            received,
            published,
            refused,
            refuse_all,
            signatures,
            files,
            fetched_files,
        }
    }

    /// Serves the bytes of a file at `path` from now on (a picture a user
    /// of that server uploaded, say).
    pub fn publish_file(&self, path: &str, content_type: &str, bytes: Vec<u8>) {
        let mut files = self.files.lock().unwrap();
        files.retain(|(p, _, _)| p != path);
        files.push((path.to_string(), content_type.to_string(), bytes));
    }

    /// Serves `body` at `path` with `content_type` from now on (a file a
    /// user of that server uploaded, say).
    /// Makes WebFinger name `name` at this server point at `href`.
    pub fn publish_webfinger(&self, name: &str, href: &str) {
        let mut published = self.published.lock().unwrap();
        let path = format!("/.well-known/webfinger/{name}");
        published.retain(|(p, _, _)| *p != path);
        published.push((path, String::new(), href.to_string()));
    }

    pub fn publish(&self, path: &str, content_type: &str, body: &Value) {
        let mut published = self.published.lock().unwrap();
        published.retain(|(p, _, _)| p != path);
        published.push((path.to_string(), content_type.to_string(), body.to_string()));
    }

    /// Serves the objects embedded in an activity this server sends at
    /// their ids from now on, as a real server does: an instance that
    /// receives them through a community of another server reads them
    /// from here.
    fn serve_objects(&self, activity: &str) {
        let Ok(mut v) = serde_json::from_str::<Value>(activity) else {
            return;
        };
        while let Some(object) = v.get("object").filter(|o| o.is_object()).cloned() {
            let kind = object["type"].as_str().unwrap_or("");
            let activity_kinds = ["Create", "Update", "Delete", "Announce", "Undo", "Like"];
            if !activity_kinds.contains(&kind) {
                if let Some(path) = object["id"]
                    .as_str()
                    .and_then(|id| id.strip_prefix(&self.base))
                {
                    let mut doc = object.clone();
                    doc["@context"] = json!("https://www.w3.org/ns/activitystreams");
                    self.publish(path, "application/activity+json", &doc);
                }
            }
            v = object;
        }
    }

    /// Posts a fixture activity to `inbox`, signed as `key_id`.
    pub async fn send(
        &self,
        inbox: &str,
        fixture_name: &str,
        key_id: &str,
        target: &str,
    ) -> (StatusCode, String) {
        let key = self.key.lock().unwrap().clone();
        let body = fixture(fixture_name, &self.base, &key.public_pem, target);
        self.serve_objects(&body);
        let headers = sign_for(inbox, Some(body.as_bytes()), key_id, &key.private_pem);
        post_signed(inbox, body, headers).await
    }

    /// Posts `activity` to `inbox`, signed by its actor `alice`.
    pub async fn send_value(&self, inbox: &str, activity: &Value) -> (StatusCode, String) {
        let key_id = format!("{}/users/alice#main-key", self.base);
        self.send_as(inbox, &key_id, activity).await
    }

    /// Replaces the key of its actors, as a server rotating keys does.
    pub fn rotate_key(&self) {
        *self.key.lock().unwrap() = ruche::net::keys::generate().unwrap();
    }

    /// The current public key (for documents a test publishes).
    pub fn public_pem(&self) -> String {
        self.key.lock().unwrap().public_pem.clone()
    }

    /// The current private key (to sign by hand).
    pub fn private_pem(&self) -> String {
        self.key.lock().unwrap().private_pem.clone()
    }

    /// How many received activities have this `type` (without copying them).
    pub fn count_type(&self, kind: &str) -> usize {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, _, v)| v["type"] == kind)
            .count()
    }

    pub fn received(&self) -> Vec<(String, String, Value)> {
        self.received.lock().unwrap().clone()
    }

    /// What it refused (path, activity, reason).
    pub fn refused(&self) -> Vec<(String, Value, String)> {
        self.refused.lock().unwrap().clone()
    }

    /// From now on, reads only these HTTP signatures (401 for the others).
    pub fn read_signatures(&self, which: Signatures) {
        *self.signatures.lock().unwrap() = which;
    }

    /// Posts `activity` to `inbox` signed with RFC 9421 by `key_id` (one of
    /// its actors), as a server built on Fedify does.
    pub async fn send_rfc9421(
        &self,
        inbox: &str,
        key_id: &str,
        activity: &Value,
    ) -> (StatusCode, String) {
        let key = self.key.lock().unwrap().clone();
        let body = activity.to_string();
        self.serve_objects(&body);
        let u = ruche::net::signature::rfc9421::unsigned(
            &reqwest::Method::POST,
            inbox,
            Some(body.as_bytes()),
            key_id,
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64,
        );
        let sig = ruche::net::keys::sign(&key.private_pem, u.base.as_bytes()).unwrap();
        post_signed(inbox, body, u.finish(&sig)).await
    }

    /// From now on, refuses every activity posted to it (or stops).
    pub fn refuse_everything(&self, on: bool) {
        self.refuse_all
            .store(on, std::sync::atomic::Ordering::SeqCst);
    }

    /// Posts `activity` to `inbox`, signed with the key `key_id` of one of
    /// its actors (all share its key).
    pub async fn send_as(
        &self,
        inbox: &str,
        key_id: &str,
        activity: &Value,
    ) -> (StatusCode, String) {
        let key = self.key.lock().unwrap().clone();
        let body = activity.to_string();
        self.serve_objects(&body);
        let headers = sign_for(inbox, Some(body.as_bytes()), key_id, &key.private_pem);
        post_signed(inbox, body, headers).await
    }
}

/// Posts `body` to `inbox` with its signature headers; the answer's status
/// and text.
async fn post_signed(
    inbox: &str,
    body: String,
    headers: Vec<(&'static str, String)>,
) -> (StatusCode, String) {
    let r = with_headers(client().post(inbox).body(body), headers)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

/// Waits (up to 10 s) until the integer query `sql` gives `n` on `i`.
pub async fn wait_count(i: &Instance, sql: &str, n: i64, what: &str) {
    eventually(10, what, || {
        let c = i.count(sql);
        async move { (c == n).then_some(()) }
    })
    .await;
}

/// The stand-in Mastodon's alice follows `name` of `home`, as Mastodon
/// does; returns once `home` has accepted the follow.
pub async fn mastodon_follows(foreign: &ForeignServer, home: &Instance, name: &str) {
    let target = format!("{}/people/{name}", home.base);
    let alice = format!("{}/users/alice", foreign.base);
    let (s, b) = foreign
        .send(
            &format!("{target}/inbox"),
            "mastodon_follow.json",
            &format!("{alice}#main-key"),
            &target,
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let q = format!(
        "SELECT COUNT(*) FROM follows f JOIN users a ON a.id = f.follower_id \
         JOIN users t ON t.id = f.followee_id \
         WHERE f.accepted AND a.ap_id = '{alice}' AND t.username = '{name}'"
    );
    eventually(10, "alice's follow", || {
        let n = home.count(&q);
        async move { (n > 0).then_some(()) }
    })
    .await;
}

/// `api` (on its home instance) looks up the community `name` of `host`
/// and asks to join it; returns the community's name on the home instance.
pub async fn ask_to_join(api: &Api, host: &Instance, name: &str) -> String {
    let h = host.handle(name);
    let (s, v) = api.get(&format!("/api/v1/communities/lookup?q=!{h}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["name"], h.as_str());
    let (s, v) = api
        .post(&format!("/api/v1/communities/{h}/join"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "pending", "a remote community answers later");
    h
}

/// Looks `handle` up from `api` (a person of `home`) and follows it; waits
/// for the Accept to arrive.
pub async fn follow(api: &Api, home: &Instance, handle: &str) -> String {
    let (s, p) = api.get(&format!("/api/v1/people/lookup?q={handle}")).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let username = p["username"].as_str().unwrap().to_string();
    let (s, v) = api
        .post(&format!("/api/v1/people/{username}/follow"), json!({}))
        .await;
    assert!(s.is_success(), "{v}");
    let q = format!(
        "SELECT COUNT(*) FROM follows f JOIN users u ON u.id = f.followee_id WHERE u.username = '{username}' AND f.accepted"
    );
    eventually(10, "the follow to be accepted", || {
        let n = home.count(&q);
        async move { (n > 0).then_some(()) }
    })
    .await;
    username
}
