//! A real SMTP server for the tests: `aiosmtpd` (PyPI) run as a process,
//! storing what it receives in a Maildir, read back and parsed here.
//!
//! Without `aiosmtpd` the mail tests skip themselves, unless
//! `RUCHE_REQUIRE_SMTP` is set (as in CI), where its absence fails them.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Smtp {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

/// Whether `aiosmtpd` can run here (or the tests must fail for its absence).
pub fn available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("RUCHE_REQUIRE_SMTP").is_err(),
            "RUCHE_REQUIRE_SMTP is set but aiosmtpd is not installed (pip install aiosmtpd)"
        );
        eprintln!("skipped: aiosmtpd is not installed (pip install aiosmtpd)");
    }
    ok
}

/// A free local port (nothing listens on it yet).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Smtp {
    /// Starts a server on a free port.
    pub async fn start() -> Smtp {
        Smtp::start_on(free_port()).await
    }

    /// Prepares a server for `port` without starting it (to test a server
    /// that is down, then comes up).
    pub fn stopped_on(port: u16) -> Smtp {
        Smtp {
            port,
            dir: tempfile::tempdir().unwrap(),
            child: None,
        }
    }

    pub async fn start_on(port: u16) -> Smtp {
        let mut s = Smtp::stopped_on(port);
        s.resume().await;
        s
    }

    /// Starts (again) the server, keeping what it received.
    pub async fn resume(&mut self) {
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(self.maildir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        self.child = Some(child);
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("aiosmtpd did not start on port {}", self.port);
    }

    /// Stops the server.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn maildir(&self) -> PathBuf {
        self.dir.path().join("maildir")
    }

    /// Every message received so far, raw, oldest first.
    pub fn raw(&self) -> Vec<Vec<u8>> {
        let mut files = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(rd) = std::fs::read_dir(self.maildir().join(sub)) {
                for e in rd.flatten() {
                    let meta = e.metadata().unwrap();
                    files.push((meta.modified().unwrap(), e.path()));
                }
            }
        }
        files.sort();
        files
            .into_iter()
            .map(|(_, p)| std::fs::read(p).unwrap())
            .collect()
    }

    /// Waits until at least `n` messages arrived (10 s at most) and returns
    /// all of them.
    pub async fn wait_for(&self, n: usize) -> Vec<Mail> {
        for _ in 0..400 {
            if self.raw().len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let all: Vec<Mail> = self.raw().iter().map(|r| Mail::parse(r)).collect();
        assert!(
            all.len() >= n,
            "expected {n} e-mails, got {}: {:?}",
            all.len(),
            all.iter().map(|m| &m.subject).collect::<Vec<_>>()
        );
        all
    }
}

impl Smtp {
    /// Waits until at least `n` messages of `kind` (`welcome`,
    /// `password_reset`, `invitation`: the Message-ID names it) arrived and
    /// returns those, oldest first.
    pub async fn wait_kind(&self, kind: &str, n: usize) -> Vec<Mail> {
        let of_kind = |all: Vec<Mail>| -> Vec<Mail> {
            all.into_iter().filter(|m| m.kind() == kind).collect()
        };
        // Up to 30 s: on a loaded machine (the PostgreSQL run of CI, 17
        // servers at once) a message once took more than 10.
        for _ in 0..1200 {
            if of_kind(self.all()).len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let found = of_kind(self.all());
        assert!(
            found.len() >= n,
            "expected {n} e-mails of kind {kind}, got {}",
            found.len()
        );
        found
    }

    /// Waits for the confirmation links of `n` addresses (the welcome of a
    /// sign-up asks to confirm the address) and opens each one's button,
    /// as the person would: notifications and digests go to an address
    /// only once it is confirmed. Returns the messages.
    pub async fn confirm_addresses(&self, base: &str, n: usize) -> Vec<Mail> {
        self.confirm_addresses_with(&reqwest::Client::new(), base, n)
            .await
    }

    /// [`Smtp::confirm_addresses`] through `client` (one that resolves the
    /// instances' host names).
    pub async fn confirm_addresses_with(
        &self,
        client: &reqwest::Client,
        base: &str,
        n: usize,
    ) -> Vec<Mail> {
        let mails = self.wait_kind("confirm_address", n).await;
        for m in &mails {
            let token = m
                .confirm_token()
                .unwrap_or_else(|| panic!("a confirmation link in {}", m.text));
            let r = client
                .post(format!("{base}/api/v1/auth/email/confirm"))
                .json(&serde_json::json!({ "token": token }))
                .send()
                .await
                .unwrap();
            // A link of an address confirmed earlier in the test is spent.
            assert!(
                r.status().is_success() || r.status() == reqwest::StatusCode::FORBIDDEN,
                "{}",
                r.status()
            );
        }
        mails
    }

    /// Every message received so far, parsed.
    pub fn all(&self) -> Vec<Mail> {
        self.raw().iter().map(|r| Mail::parse(r)).collect()
    }

    /// How many messages of `kind` arrived so far.
    pub fn count_kind(&self, kind: &str) -> usize {
        self.all().iter().filter(|m| m.kind() == kind).count()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A received message, parsed.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub from: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub message_id: String,
    /// Raw header values by lower-case name.
    pub headers: Vec<(String, String)>,
}

impl Mail {
    pub fn parse(raw: &[u8]) -> Mail {
        let m = mail_parser::MessageParser::default()
            .parse(raw)
            .expect("a parseable message");
        let addr = |a: Option<&mail_parser::Address>| {
            a.and_then(|a| a.first())
                .and_then(|a| a.address())
                .unwrap_or_default()
                .to_string()
        };
        Mail {
            to: addr(m.to()),
            from: addr(m.from()),
            subject: m.subject().unwrap_or_default().to_string(),
            text: m.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
            html: m.body_html(0).map(|t| t.into_owned()).unwrap_or_default(),
            message_id: m.message_id().unwrap_or_default().to_string(),
            headers: m
                .headers()
                .iter()
                .map(|h| {
                    let name = h.name().to_ascii_lowercase();
                    let value = String::from_utf8_lossy(
                        &raw[h.offset_start() as usize..h.offset_end() as usize],
                    )
                    .trim()
                    .to_string();
                    (name, value)
                })
                .collect(),
        }
    }

    /// The kind of message, read from its Message-ID
    /// (`ruche.KIND.ID.NONCE@host`).
    pub fn kind(&self) -> &str {
        self.message_id
            .trim_start_matches('<')
            .strip_prefix("ruche.")
            .and_then(|r| r.split('.').next())
            .unwrap_or("")
    }

    /// The secret after `path` in a link of the text part.
    fn secret_after(&self, path: &str) -> Option<String> {
        let at = self.text.find(path)? + path.len();
        let token: String = self.text[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        (!token.is_empty()).then_some(token)
    }

    /// The secret of the address confirmation link in the text part.
    pub fn confirm_token(&self) -> Option<String> {
        self.secret_after("/account/email/confirm/")
    }

    /// The code of a community invitation link in the text part.
    pub fn invitation_code(&self) -> Option<String> {
        self.secret_after("/invitations/")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first address in the text part that starts with `prefix`.
    pub fn link(&self, prefix: &str) -> String {
        let start = self
            .text
            .find(prefix)
            .unwrap_or_else(|| panic!("no {prefix} link in:\n{}", self.text));
        self.text[start..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    }
}
