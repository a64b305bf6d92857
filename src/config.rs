//! Typed configuration: embedded defaults (`config/default.toml`), an optional
//! file, then `RUCHE_<SECTION>_<KEY>` environment variables.

use std::net::SocketAddr;
use std::path::Path;

use serde::Deserialize;

const DEFAULTS: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub listen: String,
    pub base_url: String,
    pub instance_name: String,
    pub log: String,
    pub trusted_proxies: Vec<String>,
    pub database: DatabaseConfig,
    pub accounts: AccountsConfig,
    pub content: ContentConfig,
    pub people: PeopleConfig,
    pub communities: CommunitiesConfig,
    pub documents: DocumentsConfig,
    pub federation: FederationConfig,
    pub mail: MailConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FederationMode {
    Allowlist,
    Open,
}

impl FederationMode {
    pub fn as_str(self) -> &'static str {
        match self {
            FederationMode::Allowlist => "allowlist",
            FederationMode::Open => "open",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationConfig {
    pub mode: FederationMode,
    pub allowed_private_ranges: Vec<String>,
    /// Fixed addresses for host names, `host=ip` (like curl's `--resolve`),
    /// consulted by Ruche's own HTTP client before DNS.
    pub resolve: Vec<String>,
    /// Age after which a remote profile is fetched again when shown.
    pub profile_refresh_minutes: u32,
    /// How long a delivery is retried before it is marked failed.
    pub retry_hours: u32,
    /// First retry delay; it doubles on each failure, up to `retry_max_ms`.
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    /// Time limit of one outgoing request.
    pub request_timeout_seconds: u32,
    /// How often the delivery worker looks for due work.
    pub poll_interval_ms: u64,
    /// Deliveries sent at once by one process.
    pub delivery_concurrency: u32,
    /// Largest difference accepted between a signed request's Date and ours.
    pub max_clock_skew_seconds: u32,
    /// How often the people directories of the member sites are read
    /// (`federation::directory`); 0: never.
    pub directory_sync_seconds: u64,
    /// Whether partner sites may read this site's people directory too
    /// (member sites always may).
    pub share_directory_with_partners: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: String,
    pub pool_size: u32,
}

/// `accounts.leavers`: a leaver's profile is kept as it was, or
/// anonymised (`accounts::leavers`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LeaversPolicy {
    Keep,
    Anonymise,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignupMode {
    Open,
    Invite,
    Closed,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountsConfig {
    pub signup: SignupMode,
    pub session_days: u32,
    pub invite_days: u32,
    /// Whether a community's moderators may invite partners as guests.
    pub guests: bool,
    /// How long a guest's access lasts before a moderator renews it.
    pub guest_days: u32,
    /// Who sees the community a group pushed over SCIM becomes:
    /// `organisation` or `private`.
    pub scim_group_visibility: String,
    /// What becomes of the profile of someone the company's directory says
    /// left (their posts stay in any case).
    pub leavers: LeaversPolicy,
    pub max_failures_per_account: u32,
    pub max_failures_per_address: u32,
    pub failure_window_minutes: u32,
    /// Whether administrators who sign in with a password must have
    /// two-step sign-in on to act as administrators.
    #[serde(default)]
    pub admins_need_second_step: bool,
    /// Whether people may add passkeys (WebAuthn) to sign in with, or as
    /// their second step. They need `base_url` to name a host (not an IP
    /// address), as browsers do.
    #[serde(default = "yes")]
    pub passkeys: bool,
    /// The company's identity providers (OpenID Connect), as buttons of
    /// the sign-in page.
    #[serde(default)]
    pub sso: Vec<SsoProvider>,
    /// The company's directory (LDAP, Active Directory).
    pub ldap: LdapConfig,
}

/// The company's directory (`[accounts.ldap]`): people sign in with its
/// password, and a sync makes, refreshes and disables their accounts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LdapConfig {
    /// `ldaps://host[:636]`, or `ldap://host[:389]` with `starttls`; empty:
    /// no directory.
    pub url: String,
    pub starttls: bool,
    /// The certificate authority (PEM) that signed the directory's
    /// certificate, trusted alone; empty: the system's authorities.
    pub ca_file: String,
    /// The service account that searches (empty: anonymous).
    pub bind_dn: String,
    pub bind_password: String,
    /// Where people are.
    pub base_dn: String,
    /// Who is a person.
    pub filter: String,
    /// What people type to sign in.
    pub login_attribute: String,
    /// Who has left though still listed (empty: only those no longer
    /// listed).
    pub disabled_filter: String,
    /// How often the directory is read (0: only `ruche admin directory
    /// sync`).
    pub sync_minutes: u64,
    pub timeout_seconds: u64,
    pub attributes: LdapAttributes,
}

/// Which directory attribute fills which field ("": none).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LdapAttributes {
    pub email: String,
    pub name: String,
    pub department: String,
    pub job_title: String,
    pub site: String,
    pub manager: String,
    /// What names the entry for good, whatever its login or place
    /// (`entryUUID`; Active Directory: `objectGUID`).
    pub id: String,
    /// The person's photo (`jpegPhoto`; Active Directory: `thumbnailPhoto`).
    pub photo: String,
}

impl LdapConfig {
    pub fn enabled(&self) -> bool {
        !self.url.trim().is_empty()
    }

    /// The certificate authorities of `ca_file`, as a TLS client's trust;
    /// an error names what is wrong with the file.
    pub fn trusted_roots(&self) -> Result<rustls::RootCertStore, String> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::CertificateDer;
        let path = self.ca_file.trim();
        let mut roots = rustls::RootCertStore::empty();
        let certs = CertificateDer::pem_file_iter(path).map_err(|e| format!("{path}: {e}"))?;
        for cert in certs {
            let cert = cert.map_err(|e| format!("{path}: {e}"))?;
            roots
                .add(cert)
                .map_err(|e| format!("{path}: not a certificate authority ({e})"))?;
        }
        if roots.is_empty() {
            return Err(format!("{path}: no certificate in it"));
        }
        Ok(roots)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !self.enabled() {
            return Ok(());
        }
        let url = reqwest::Url::parse(self.url.trim())
            .map_err(|e| ConfigError(format!("accounts.ldap.url: not a URL ({e})")))?;
        // ldap:// is not a scheme the URL standard knows: its host is
        // kept as written, an address included.
        let loopback = match url.host() {
            Some(url::Host::Domain(d)) => {
                d.eq_ignore_ascii_case("localhost")
                    || d.trim_start_matches('[')
                        .trim_end_matches(']')
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        match url.scheme() {
            "ldaps" => {}
            "ldap" if self.starttls || loopback => {}
            "ldap" => {
                return Err(ConfigError(
                    "accounts.ldap.url: plain ldap:// sends passwords in clear; use ldaps:// or starttls = true".into(),
                ))
            }
            _ => {
                return Err(ConfigError(
                    "accounts.ldap.url: must be ldaps://host or ldap://host".into(),
                ))
            }
        }
        if self.base_dn.trim().is_empty() {
            return Err(ConfigError("accounts.ldap.base_dn: needed".into()));
        }
        let attr_ok = |a: &str| {
            !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ';')
        };
        let a = &self.attributes;
        for optional in [
            &a.name,
            &a.department,
            &a.job_title,
            &a.site,
            &a.manager,
            &a.id,
            &a.photo,
        ] {
            if !optional.is_empty() && !attr_ok(optional) {
                return Err(ConfigError(format!(
                    "accounts.ldap.attributes: {optional:?} is not an attribute name"
                )));
            }
        }
        if !self.ca_file.trim().is_empty() {
            self.trusted_roots()
                .map_err(|e| ConfigError(format!("accounts.ldap.ca_file: {e}")))?;
        }
        if !attr_ok(&self.login_attribute) || self.attributes.email.is_empty() {
            return Err(ConfigError(
                "accounts.ldap.login_attribute and attributes.email: an attribute name is needed"
                    .into(),
            ));
        }
        for f in [&self.filter, &self.disabled_filter] {
            let f = f.trim();
            let bracketed = f.starts_with('(') && f.ends_with(')');
            if !f.is_empty() && !bracketed {
                return Err(ConfigError(format!(
                    "accounts.ldap: the filter {f:?} must be in parentheses, such as (objectClass=person)"
                )));
            }
        }
        if self.filter.trim().is_empty() {
            return Err(ConfigError("accounts.ldap.filter: needed".into()));
        }
        if self.timeout_seconds == 0 {
            return Err(ConfigError(
                "accounts.ldap.timeout_seconds: at least 1".into(),
            ));
        }
        Ok(())
    }
}

/// One OpenID Connect provider people sign in with (`[[accounts.sso]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SsoProvider {
    /// Short name, in this instance's URLs (`/login/sso/<id>`) and in the
    /// identities it links: letters, digits and `-`, never renamed.
    pub id: String,
    /// The button's label ("Sign in with …").
    pub name: String,
    /// The provider's issuer; its discovery document is read from
    /// `<issuer>/.well-known/openid-configuration`. https, but for a
    /// provider on this machine (`localhost`, 127.0.0.1, ::1).
    pub issuer: String,
    pub client_id: String,
    #[serde(default)]
    pub client_secret: String,
    /// Scopes asked for besides `openid`.
    #[serde(default = "default_sso_scopes")]
    pub scopes: Vec<String>,
    /// E-mail domains whose people may sign in (empty: any).
    #[serde(default)]
    pub allowed_domains: Vec<String>,
    /// Whether people whose account is linked to this provider may still
    /// sign in with a password of this instance.
    #[serde(default = "yes")]
    pub passwords: bool,
    /// The group (in the `groups` claim) whose members are administrators
    /// here; empty: the provider does not decide who is.
    #[serde(default)]
    pub admin_group: String,
    /// Which claim fills which field (empty: not filled from the provider).
    #[serde(default)]
    pub claims: SsoClaims,
}

/// The claims an [`SsoProvider`] maps onto accounts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SsoClaims {
    pub username: String,
    pub email: String,
    pub name: String,
    pub department: String,
    pub job_title: String,
    pub site: String,
    pub groups: String,
}

impl Default for SsoClaims {
    fn default() -> SsoClaims {
        SsoClaims {
            username: "preferred_username".into(),
            email: "email".into(),
            name: "name".into(),
            department: "department".into(),
            job_title: "job_title".into(),
            site: "site".into(),
            groups: "groups".into(),
        }
    }
}

fn default_sso_scopes() -> Vec<String> {
    vec!["email".into(), "profile".into()]
}

fn yes() -> bool {
    true
}

impl AccountsConfig {
    /// The identity provider named `id`.
    pub fn sso_provider(&self, id: &str) -> Option<&SsoProvider> {
        self.sso.iter().find(|p| p.id == id)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    /// `smtp://`, `smtps://`; empty: no e-mail.
    pub smtp_url: String,
    /// The sender; empty: `noreply@` and the host of `base_url`.
    pub from: String,
    pub reset_minutes: u32,
    /// How long the one-click links of a notification e-mail work.
    pub action_days: u32,
    /// The address whose local part carries reply secrets; empty: no
    /// replies by e-mail.
    pub reply_to: String,
    pub reply_days: u32,
    /// Where the SMTP listener for replies listens; empty: nowhere.
    pub inbound_listen: String,
    pub inbound_max_bytes: usize,
    /// The name the domain's mail server writes in the
    /// `Authentication-Results` it adds; when set, a reply is taken only
    /// if that server found it signed by its sender's domain (DKIM or
    /// DMARC pass).
    pub inbound_authserv_id: String,
    /// How long a notification waits before it is e-mailed (not when the
    /// person has seen it on the site by then).
    pub notify_delay_seconds: u64,
    pub retry_hours: u32,
    /// First wait before sending again after a failure; it doubles, up to
    /// an hour.
    pub retry_base_ms: u64,
    pub timeout_seconds: u64,
}

impl MailConfig {
    /// Whether e-mail is on (an SMTP server is configured).
    pub fn enabled(&self) -> bool {
        !self.smtp_url.trim().is_empty()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContentConfig {
    pub max_post_chars: usize,
    /// Largest picture or file attached to a post or comment.
    pub max_attachment_bytes: usize,
    /// How often each process looks for news to announce to open pages.
    pub live_pulse_ms: u64,
    /// Live connections one process keeps open at most.
    pub max_live_streams: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeopleConfig {
    pub max_photo_bytes: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommunitiesConfig {
    /// Recent posts an instance fetches when it first joins a community of
    /// another instance, and comments fetched with each of them.
    pub backfill_posts: u32,
    pub backfill_comments: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentsConfig {
    /// Largest file accepted, in bytes.
    pub max_bytes: usize,
    /// Folder of the local-disk storage; empty: `files` beside the SQLite
    /// database, or `data/files` with PostgreSQL.
    pub path: String,
}

impl Config {
    /// Where the local-disk storage keeps files.
    pub fn documents_path(&self) -> std::path::PathBuf {
        if !self.documents.path.trim().is_empty() {
            return self.documents.path.trim().into();
        }
        match crate::db::Backend::from_url(&self.database.url) {
            Ok(crate::db::Backend::Sqlite) => {
                std::path::Path::new(crate::db::sqlite_path(&self.database.url))
                    .parent()
                    .map(|p| p.join("files"))
                    .unwrap_or_else(|| "files".into())
            }
            _ => "data/files".into(),
        }
    }
}

impl SsoProvider {
    fn validate(&self) -> Result<(), ConfigError> {
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 32
            && self
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !id_ok {
            return Err(ConfigError(format!(
                "accounts.sso: id {:?} must be 1 to 32 lowercase letters, digits or -",
                self.id
            )));
        }
        let at = format!("accounts.sso {:?}", self.id);
        if self.name.trim().is_empty() || self.client_id.trim().is_empty() {
            return Err(ConfigError(format!("{at}: name and client_id are needed")));
        }
        let issuer = reqwest::Url::parse(&self.issuer).map_err(|e| {
            ConfigError(format!("{at}: issuer {:?} is not a URL ({e})", self.issuer))
        })?;
        let local = matches!(issuer.host(), Some(url::Host::Domain("localhost")))
            || match issuer.host() {
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                _ => false,
            };
        if issuer.scheme() != "https" && !(issuer.scheme() == "http" && local) {
            return Err(ConfigError(format!(
                "{at}: issuer {:?} must be an https:// URL (http only for a provider on this machine)",
                self.issuer
            )));
        }
        Ok(())
    }
}

/// One `host=ip` entry of `federation.resolve`.
fn parse_resolve(s: &str) -> Result<(String, std::net::IpAddr), String> {
    let (host, ip) = s
        .split_once('=')
        .ok_or("must look like host=ip, e.g. beta.example=10.0.0.5")?;
    let ip = ip
        .trim()
        .parse()
        .map_err(|_| format!("{:?} is not an IP address", ip.trim()))?;
    let host = host.trim().to_ascii_lowercase();
    if host.is_empty() {
        return Err("the host name is empty".into());
    }
    Ok((host, ip))
}

/// A configuration problem, naming the key and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Loads defaults, then `file` if given, then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Config::load_from(file, &env)
    }

    pub fn load_from(file: Option<&Path>, env: &[(String, String)]) -> Result<Config, ConfigError> {
        let mut table: toml::Table =
            toml::from_str(DEFAULTS).map_err(|e| ConfigError(format!("embedded defaults: {e}")))?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
            let overlay: toml::Table = toml::from_str(&text)
                .map_err(|e| ConfigError(format!("{}: {e}", path.display())))?;
            merge(&mut table, overlay, "")?;
        }
        apply_env(&mut table, env)?;
        let config: Config = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError(e.to_string().trim().replace('\n', " ")))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.listen.parse::<SocketAddr>().map_err(|_| {
            ConfigError(format!(
                "listen: {:?} is not an address and port such as 127.0.0.1:8080",
                self.listen
            ))
        })?;
        let base = reqwest::Url::parse(&self.base_url).map_err(|e| {
            ConfigError(format!("base_url: {:?} is not a URL ({e})", self.base_url))
        })?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(ConfigError(format!(
                "base_url: {:?} must be an http:// or https:// URL with a host",
                self.base_url
            )));
        }
        if base.path() != "/" || base.query().is_some() {
            return Err(ConfigError(format!(
                "base_url: {:?} must not have a path or query",
                self.base_url
            )));
        }
        crate::db::Backend::from_url(&self.database.url)
            .map_err(|e| ConfigError(format!("database.url: {e}")))?;
        if self.database.pool_size > 1000 {
            return Err(ConfigError("database.pool_size: at most 1000".into()));
        }
        if self.communities.backfill_posts > 100 || self.communities.backfill_comments > 200 {
            return Err(ConfigError(
                "communities.backfill_posts: at most 100, communities.backfill_comments: at most 200"
                    .into(),
            ));
        }
        if self.documents.max_bytes == 0 || self.documents.max_bytes > 1 << 30 {
            return Err(ConfigError(
                "documents.max_bytes: between 1 and 1073741824".into(),
            ));
        }
        if self.accounts.session_days == 0 {
            return Err(ConfigError(
                "accounts.session_days: must be at least 1".into(),
            ));
        }
        // Not secret: a community nobody owns must stay findable by the
        // administrators who moderate it.
        if !["organisation", "private"].contains(&self.accounts.scim_group_visibility.as_str()) {
            return Err(ConfigError(
                "accounts.scim_group_visibility: organisation or private".into(),
            ));
        }
        if !(1..=3650).contains(&self.accounts.guest_days) {
            return Err(ConfigError(
                "accounts.guest_days: between 1 and 3650".into(),
            ));
        }
        self.accounts.ldap.validate()?;
        let mut ids = std::collections::HashSet::new();
        for p in &self.accounts.sso {
            p.validate()?;
            if !ids.insert(p.id.as_str()) {
                return Err(ConfigError(format!(
                    "accounts.sso: two providers have the id {:?}",
                    p.id
                )));
            }
        }
        for r in &self.trusted_proxies {
            crate::addresses::Cidr::parse(r)
                .map_err(|e| ConfigError(format!("trusted_proxies: {r:?} {e}")))?;
        }
        for r in &self.federation.allowed_private_ranges {
            crate::addresses::Cidr::parse(r).map_err(|e| {
                ConfigError(format!("federation.allowed_private_ranges: {r:?} {e}"))
            })?;
        }
        for r in &self.federation.resolve {
            parse_resolve(r).map_err(|e| ConfigError(format!("federation.resolve: {r:?} {e}")))?;
        }
        if self.federation.request_timeout_seconds == 0
            || self.federation.poll_interval_ms == 0
            || self.federation.delivery_concurrency == 0
            || self.federation.retry_base_ms == 0
        {
            return Err(ConfigError(
                "federation: request_timeout_seconds, poll_interval_ms, delivery_concurrency and retry_base_ms must be at least 1".into(),
            ));
        }
        if self.content.max_post_chars < 10 {
            return Err(ConfigError(
                "content.max_post_chars: must be at least 10".into(),
            ));
        }
        if !(1024..=200 * 1024 * 1024).contains(&self.content.max_attachment_bytes) {
            return Err(ConfigError(
                "content.max_attachment_bytes: must be between 1024 and 209715200 (200 MB)".into(),
            ));
        }
        if self.mail.enabled() {
            let url = reqwest::Url::parse(self.mail.smtp_url.trim())
                .map_err(|e| ConfigError(format!("mail.smtp_url: not a URL ({e})")))?;
            if !matches!(url.scheme(), "smtp" | "smtps") || url.host_str().is_none() {
                return Err(ConfigError(
                    "mail.smtp_url: must be smtp://host[:port] or smtps://host[:port]".into(),
                ));
            }
        }
        if !self.mail.from.trim().is_empty()
            && self
                .mail
                .from
                .trim()
                .parse::<lettre::message::Mailbox>()
                .is_err()
        {
            return Err(ConfigError(format!(
                "mail.from: {:?} is not an address such as \"Ruche <ruche@example.com>\"",
                self.mail.from
            )));
        }
        if self.mail.reset_minutes == 0
            || self.mail.timeout_seconds == 0
            || self.mail.action_days == 0
            || self.mail.reply_days == 0
            || self.mail.inbound_max_bytes == 0
        {
            return Err(ConfigError(
                "mail.reset_minutes, mail.action_days, mail.reply_days, mail.inbound_max_bytes and mail.timeout_seconds: must be at least 1"
                    .into(),
            ));
        }
        let reply_to = self.mail.reply_to.trim();
        if !reply_to.is_empty() {
            let ok = reply_to
                .parse::<lettre::Address>()
                .is_ok_and(|a| !a.user().contains('+') && a.user().len() <= 20);
            if !ok {
                return Err(ConfigError(format!(
                    "mail.reply_to: {reply_to:?} is not an address such as ruche@mail.example.com (without +, 20 characters at most before the @)"
                )));
            }
        }
        let listen = self.mail.inbound_listen.trim();
        if !listen.is_empty() && reply_to.is_empty() {
            return Err(ConfigError(
                "mail.inbound_listen: set mail.reply_to too (the addresses replies come to)".into(),
            ));
        }
        if !listen.is_empty() {
            // Plain SMTP without authentication: loopback or a private
            // network only, never the internet.
            match listen.parse::<std::net::SocketAddr>() {
                Ok(a) if a.ip().is_loopback() || crate::addresses::is_private(a.ip()) => {}
                Ok(_) => {
                    return Err(ConfigError(format!(
                        "mail.inbound_listen: {listen:?} is a public address; listen on loopback or a private network, behind the mail server"
                    )))
                }
                Err(_) => {
                    return Err(ConfigError(format!(
                        "mail.inbound_listen: {listen:?} is not an address and port such as 127.0.0.1:2526"
                    )))
                }
            }
        }
        if !(100..=600_000).contains(&self.content.live_pulse_ms) {
            return Err(ConfigError(
                "content.live_pulse_ms: must be between 100 and 600000".into(),
            ));
        }
        Ok(())
    }

    /// Database connections per process: as configured, or twice the number
    /// of CPU cores when the setting is 0 (measured best on 2 cores with
    /// both databases: more connections only queue on the CPUs).
    pub fn pool_size(&self) -> u32 {
        match self.database.pool_size {
            0 => std::thread::available_parallelism()
                .map_or(4, |n| 2 * n.get() as u32)
                .max(2),
            n => n,
        }
    }

    /// The parsed `trusted_proxies` ranges (validated at load time).
    pub fn proxy_ranges(&self) -> Vec<crate::addresses::Cidr> {
        self.trusted_proxies
            .iter()
            .filter_map(|r| crate::addresses::Cidr::parse(r).ok())
            .collect()
    }

    /// The parsed `federation.resolve` entries (validated at load time).
    pub fn resolve_overrides(&self) -> Vec<(String, std::net::IpAddr)> {
        self.federation
            .resolve
            .iter()
            .filter_map(|r| parse_resolve(r).ok())
            .collect()
    }

    /// The host name of the public base URL (this instance's domain).
    pub fn domain(&self) -> String {
        reqwest::Url::parse(&self.base_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            .unwrap_or_default()
    }

    /// The public base URL without a trailing slash.
    pub fn base(&self) -> &str {
        self.base_url.trim_end_matches('/')
    }

    /// The sign-up link that carries an invitation code.
    pub fn invite_link(&self, code: &str) -> String {
        format!("{}/signup?invite={code}", self.base())
    }

    /// Whether cookies must carry the `Secure` flag.
    pub fn secure_cookies(&self) -> bool {
        self.scheme() == "https"
    }

    /// `https` or `http`: how this instance is reached.
    pub fn scheme(&self) -> &'static str {
        if self.base_url.starts_with("https://") {
            "https"
        } else {
            "http"
        }
    }
}

fn merge(base: &mut toml::Table, overlay: toml::Table, prefix: &str) -> Result<(), ConfigError> {
    for (k, v) in overlay {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o, &key)?,
            (Some(toml::Value::Table(_)), _) => {
                return Err(ConfigError(format!("{key}: must be a section")))
            }
            (Some(_), toml::Value::Table(_)) => {
                return Err(ConfigError(format!(
                    "{key}: must be a value, not a section"
                )))
            }
            (Some(slot), v) => *slot = v,
            (None, _) => return Err(ConfigError(format!("{key}: unknown key"))),
        }
    }
    Ok(())
}

/// Overrides each known key from `RUCHE_<PATH>` (dots become underscores).
fn apply_env(table: &mut toml::Table, env: &[(String, String)]) -> Result<(), ConfigError> {
    fn walk(
        table: &mut toml::Table,
        prefix: &str,
        env: &[(String, String)],
    ) -> Result<(), ConfigError> {
        for (k, v) in table.iter_mut() {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            if let toml::Value::Table(t) = v {
                walk(t, &key, env)?;
                continue;
            }
            let var = format!("RUCHE_{}", key.replace('.', "_").to_ascii_uppercase());
            if let Some((_, raw)) = env.iter().find(|(n, _)| *n == var) {
                *v = match v {
                    toml::Value::Integer(_) => {
                        toml::Value::Integer(raw.trim().parse().map_err(|_| {
                            ConfigError(format!(
                                "{key} (from {var}): {raw:?} is not a whole number"
                            ))
                        })?)
                    }
                    toml::Value::Boolean(_) => {
                        toml::Value::Boolean(raw.trim().parse().map_err(|_| {
                            ConfigError(format!("{key} (from {var}): {raw:?} is not true or false"))
                        })?)
                    }
                    toml::Value::Array(_) => toml::Value::Array(
                        raw.split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(|s| toml::Value::String(s.to_string()))
                            .collect(),
                    ),
                    _ => toml::Value::String(raw.clone()),
                };
            }
        }
        Ok(())
    }
    walk(table, "", env)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn defaults_load() {
        let c = Config::load_from(None, &[]).unwrap();
        assert_eq!(c.listen, "127.0.0.1:8080");
        assert_eq!(c.base_url, "http://localhost:8080");
        assert_eq!(c.database.url, "sqlite://data/ruche.db");
        assert_eq!(c.accounts.signup, SignupMode::Open);
    }

    #[test]
    fn env_overrides_and_bad_values_name_the_key() {
        let c = Config::load_from(
            None,
            &env(&[
                ("RUCHE_ACCOUNTS_SIGNUP", "invite"),
                ("RUCHE_DATABASE_POOL_SIZE", "3"),
            ]),
        )
        .unwrap();
        assert_eq!(c.accounts.signup, SignupMode::Invite);
        assert_eq!(c.database.pool_size, 3);

        let e = Config::load_from(None, &env(&[("RUCHE_DATABASE_POOL_SIZE", "many")])).unwrap_err();
        assert!(e.to_string().contains("database.pool_size"), "{e}");
        let e = Config::load_from(None, &env(&[("RUCHE_BASE_URL", "not a url")])).unwrap_err();
        assert!(e.to_string().contains("base_url"), "{e}");
        let e = Config::load_from(None, &env(&[("RUCHE_LISTEN", "localhost")])).unwrap_err();
        assert!(e.to_string().contains("listen"), "{e}");
        let e =
            Config::load_from(None, &env(&[("RUCHE_ACCOUNTS_SIGNUP", "sometimes")])).unwrap_err();
        assert!(e.to_string().contains("signup"), "{e}");
    }

    #[test]
    fn replies_by_e_mail_need_an_address_and_a_private_listener() {
        let load = |pairs: &[(&str, &str)]| Config::load_from(None, &env(pairs));
        let ok = load(&[
            ("RUCHE_MAIL_REPLY_TO", "ruche@reply.example.com"),
            ("RUCHE_MAIL_INBOUND_LISTEN", "10.0.0.5:2526"),
        ])
        .unwrap();
        assert_eq!(ok.mail.inbound_listen, "10.0.0.5:2526");
        for (pairs, key) in [
            (
                vec![("RUCHE_MAIL_INBOUND_LISTEN", "127.0.0.1:2526")],
                "mail.reply_to too",
            ),
            (
                vec![
                    ("RUCHE_MAIL_REPLY_TO", "ruche@reply.example.com"),
                    ("RUCHE_MAIL_INBOUND_LISTEN", "8.8.8.8:25"),
                ],
                "public address",
            ),
            (
                vec![("RUCHE_MAIL_REPLY_TO", "ruche+x@example.com")],
                "mail.reply_to",
            ),
            (vec![("RUCHE_MAIL_REPLY_TO", "a@b@c")], "mail.reply_to"),
        ] {
            let e = load(&pairs).unwrap_err();
            assert!(e.to_string().contains(key), "{e}");
        }
    }

    #[test]
    fn federation_settings() {
        let c = Config::load_from(None, &[]).unwrap();
        assert_eq!(c.federation.mode, FederationMode::Allowlist);
        assert!(c.federation.allowed_private_ranges.is_empty());
        let c = Config::load_from(
            None,
            &env(&[
                ("RUCHE_FEDERATION_MODE", "open"),
                (
                    "RUCHE_FEDERATION_ALLOWED_PRIVATE_RANGES",
                    "10.0.0.0/8, fd00::/8",
                ),
            ]),
        )
        .unwrap();
        assert_eq!(c.federation.mode, FederationMode::Open);
        assert_eq!(
            c.federation.allowed_private_ranges,
            vec!["10.0.0.0/8", "fd00::/8"]
        );
        let e = Config::load_from(
            None,
            &env(&[("RUCHE_FEDERATION_ALLOWED_PRIVATE_RANGES", "10.0.0.0/33")]),
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("federation.allowed_private_ranges"),
            "{e}"
        );
        let e = Config::load_from(None, &env(&[("RUCHE_FEDERATION_MODE", "closed")])).unwrap_err();
        assert!(e.to_string().contains("federation.mode"), "{e}");
    }

    #[test]
    fn file_with_unknown_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "[database]\nurll = \"x\"\n").unwrap();
        let e = Config::load_from(Some(&path), &[]).unwrap_err();
        assert!(e.to_string().contains("database.urll"), "{e}");
        std::fs::write(&path, "[database]\nurl = \"mysql://x\"\n").unwrap();
        let e = Config::load_from(Some(&path), &[]).unwrap_err();
        assert!(e.to_string().contains("database.url"), "{e}");
    }
}
