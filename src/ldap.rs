//! LDAP and Active Directory, the protocol (`ldap3`): a password checked
//! against the company's directory (search with the service account, then
//! bind as the person found), and the people it lists, for the directory
//! sync. What an entry does here (an account made, refreshed, disabled) is
//! `accounts::directory`.
//!
//! - What people type is escaped before it enters a filter (RFC 4515), so
//!   `*)(uid=*` finds nobody; a login that matches more than one entry
//!   signs nobody in.
//! - An empty password is refused before any bind: LDAP servers take a
//!   bind with an empty password as an anonymous bind, which "succeeds".
//! - `ldaps://`, or `ldap://` with StartTLS; plain `ldap://` only to this
//!   machine (checked with the configuration). The certificate is checked
//!   against this machine's authorities, or only the company's own
//!   (`ca_file`), and must name the host of the URL.
//! - Every operation has the configured time limit; the people are read in
//!   pages of 500 (Active Directory answers at most 1,000 at once).

use std::time::Duration;

use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{ldap_escape, Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchEntry};

use crate::config::LdapConfig;
use crate::error::{AppError, AppResult};

/// A person as the directory lists them, read with the configured
/// attribute names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    pub dn: String,
    /// What they type to sign in (`uid`, `sAMAccountName`).
    pub login: String,
    pub email: String,
    pub name: Option<String>,
    pub department: Option<String>,
    pub job_title: Option<String>,
    pub site: Option<String>,
    /// Their manager's entry (its DN).
    pub manager: Option<String>,
    /// What names the entry for good (see [`entry_id`]); empty when the
    /// directory gives none.
    pub id: String,
    /// Listed but disabled (`disabled_filter`): someone who left.
    pub disabled: bool,
}

fn unavailable(e: impl std::fmt::Display) -> AppError {
    tracing::warn!(error = %e, "the directory (LDAP) failed");
    AppError::remote("directory_unavailable", "LDAP")
}

/// An error of the directory: its refusal of a request (a result code,
/// such as a size limit the service account is held to), named; anything
/// else, as unreachable.
fn failed(e: ldap3::LdapError) -> AppError {
    match e {
        ldap3::LdapError::LdapResult { result } => {
            tracing::warn!(rc = result.rc, text = %result.text, "the directory (LDAP) refused a request");
            AppError::remote(
                "directory_refused",
                format!("{} {}", result.rc, result.text).trim(),
            )
        }
        other => unavailable(other),
    }
}

/// The TLS client trusting only the authorities of `ca_file`.
fn tls_config(cfg: &LdapConfig) -> AppResult<std::sync::Arc<rustls::ClientConfig>> {
    let roots = cfg.trusted_roots().map_err(unavailable)?;
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(unavailable)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(std::sync::Arc::new(config))
}

/// A connection bound as the service account.
async fn connect(cfg: &LdapConfig) -> AppResult<Ldap> {
    let mut settings = LdapConnSettings::new()
        .set_conn_timeout(Duration::from_secs(cfg.timeout_seconds))
        .set_starttls(cfg.starttls);
    if !cfg.ca_file.trim().is_empty() {
        settings = settings.set_config(tls_config(cfg)?);
    }
    let (conn, mut ldap) = LdapConnAsync::with_settings(settings, cfg.url.trim())
        .await
        .map_err(unavailable)?;
    ldap3::drive!(conn);
    ldap.with_timeout(Duration::from_secs(cfg.timeout_seconds));
    if !cfg.bind_dn.is_empty() {
        ldap.simple_bind(&cfg.bind_dn, &cfg.bind_password)
            .await
            .map_err(unavailable)?
            .success()
            .map_err(failed)?;
    }
    Ok(ldap)
}

fn attributes(cfg: &LdapConfig) -> Vec<String> {
    let a = &cfg.attributes;
    [
        &cfg.login_attribute,
        &a.email,
        &a.name,
        &a.department,
        &a.job_title,
        &a.site,
        &a.manager,
        &a.id,
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .cloned()
    .collect()
}

/// The first value of `attr` (named in any case) as bytes, whether ldap3
/// read it as text or as binary (a value that is not UTF-8).
fn raw(e: &SearchEntry, attr: &str) -> Option<Vec<u8>> {
    if attr.is_empty() {
        return None;
    }
    let text = e
        .attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(attr))
        .and_then(|(_, v)| v.first())
        .map(|s| s.as_bytes().to_vec());
    text.or_else(|| {
        e.bin_attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(attr))
            .and_then(|(_, v)| v.first())
            .cloned()
    })
}

/// The entry's lasting identifier as a key: printable text (`entryUUID`)
/// lowercased, binary (`objectGUID`) in hexadecimal; the same value always
/// gives the same key.
pub fn entry_id(value: &[u8]) -> String {
    if !value.is_empty() && value.iter().all(|b| (0x20..0x7f).contains(b)) {
        String::from_utf8_lossy(value).trim().to_ascii_lowercase()
    } else {
        value.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The first value of `attr` (named in any case).
fn value(e: &SearchEntry, attr: &str) -> Option<String> {
    if attr.is_empty() {
        return None;
    }
    e.attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(attr))
        .and_then(|(_, v)| v.first())
        .cloned()
}

fn entry(cfg: &LdapConfig, e: &SearchEntry, disabled: bool) -> Entry {
    let a = &cfg.attributes;
    Entry {
        dn: e.dn.clone(),
        login: value(e, &cfg.login_attribute).unwrap_or_default(),
        email: value(e, &a.email).unwrap_or_default(),
        name: value(e, &a.name),
        department: value(e, &a.department),
        job_title: value(e, &a.job_title),
        site: value(e, &a.site),
        manager: value(e, &a.manager),
        id: raw(e, &a.id).map(|v| entry_id(&v)).unwrap_or_default(),
        disabled,
    }
}

/// Whether `login`, typed by someone, is a person of the directory, and
/// `password` theirs: `Ok(None)` when the directory does not know the
/// login (the caller may try this site's own passwords), an error
/// `invalid_credentials` when the password is wrong.
pub async fn check_password(
    cfg: &LdapConfig,
    login: &str,
    password: &str,
) -> AppResult<Option<Entry>> {
    let login = login.trim();
    if login.is_empty() || login.len() > 256 {
        return Ok(None);
    }
    let mut ldap = connect(cfg).await?;
    let filter = format!(
        "(&{}({}={}))",
        cfg.filter,
        cfg.login_attribute,
        ldap_escape(login)
    );
    let (found, _) = ldap
        .search(&cfg.base_dn, Scope::Subtree, &filter, attributes(cfg))
        .await
        .map_err(unavailable)?
        .success()
        .map_err(failed)?;
    if found.len() != 1 {
        let _ = ldap.unbind().await;
        return Ok(None);
    }
    let found = SearchEntry::construct(found.into_iter().next().expect("one entry"));
    let disabled = is_disabled(cfg, &mut ldap, &found.dn).await?;
    // Never an empty password: the server would take it as anonymous.
    if password.is_empty() {
        let _ = ldap.unbind().await;
        return Err(AppError::unauthorized("invalid_credentials"));
    }
    let bound = ldap
        .simple_bind(&found.dn, password)
        .await
        .map_err(unavailable)?;
    let _ = ldap.unbind().await;
    match bound.rc {
        0 => Ok(Some(entry(cfg, &found, disabled))),
        // invalidCredentials, and what Active Directory answers for an
        // account locked, expired or disabled.
        49 | 53 => Err(AppError::unauthorized("invalid_credentials")),
        _ => Err(unavailable(format!("bind answered {}", bound.rc))),
    }
}

/// Whether the entry `dn` matches the `disabled_filter`.
async fn is_disabled(cfg: &LdapConfig, ldap: &mut Ldap, dn: &str) -> AppResult<bool> {
    if cfg.disabled_filter.trim().is_empty() {
        return Ok(false);
    }
    let (found, _) = ldap
        .search(dn, Scope::Base, cfg.disabled_filter.trim(), vec!["1.1"])
        .await
        .map_err(unavailable)?
        .non_error()
        .map_err(failed)?;
    Ok(!found.is_empty())
}

/// Every person the directory lists (with those disabled marked), read in
/// pages; `progress` is told how many were read so far.
pub async fn people(cfg: &LdapConfig, mut progress: impl FnMut(usize)) -> AppResult<Vec<Entry>> {
    let mut ldap = connect(cfg).await?;
    let disabled: std::collections::HashSet<String> = if cfg.disabled_filter.trim().is_empty() {
        Default::default()
    } else {
        let filter = format!("(&{}{})", cfg.filter, cfg.disabled_filter.trim());
        paged(&mut ldap, cfg, &filter, vec!["1.1".to_string()], |_| {})
            .await?
            .into_iter()
            .map(|e| e.dn.to_ascii_lowercase())
            .collect()
    };
    let all = paged(&mut ldap, cfg, &cfg.filter, attributes(cfg), &mut progress).await?;
    let _ = ldap.unbind().await;
    Ok(all
        .iter()
        .map(|e| entry(cfg, e, disabled.contains(&e.dn.to_ascii_lowercase())))
        .collect())
}

/// A person's photo as the directory holds it, with what names their entry.
#[derive(Debug, Clone)]
pub struct Photo {
    pub id: String,
    pub login: String,
    pub bytes: Vec<u8>,
}

/// Photos per page read (and handed over) at once.
pub const PHOTO_PAGE: usize = 100;
/// The most bytes of photos a page holds: a page is handed over when it
/// has [`PHOTO_PAGE`] photos or this many bytes.
pub const PHOTO_PAGE_BYTES: usize = 8 * 1024 * 1024;

/// The photos of the people the directory lists (`attributes.photo`), read
/// by a task of their own in pages of [`PHOTO_PAGE`] photos or
/// [`PHOTO_PAGE_BYTES`] and handed over a page at a time, at most two pages
/// waiting: memory holds a few pages whatever the size of the company. A
/// photo larger than `max_bytes` (what a profile takes) is left aside. The
/// channel ends after the last page, or after an error.
pub fn photos(
    cfg: &LdapConfig,
    max_bytes: usize,
) -> tokio::sync::mpsc::Receiver<AppResult<Vec<Photo>>> {
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    let cfg = cfg.clone();
    tokio::spawn(async move {
        if let Err(e) = read_photos(&cfg, max_bytes, &tx).await {
            let _ = tx.send(Err(e)).await;
        }
    });
    rx
}

async fn read_photos(
    cfg: &LdapConfig,
    max_bytes: usize,
    tx: &tokio::sync::mpsc::Sender<AppResult<Vec<Photo>>>,
) -> AppResult<()> {
    let a = &cfg.attributes;
    if a.photo.is_empty() {
        return Ok(());
    }
    let mut ldap = connect(cfg).await?;
    let adapters: Vec<Box<dyn Adapter<_, _>>> = vec![
        Box::new(EntriesOnly::new()),
        Box::new(PagedResults::new(PHOTO_PAGE as i32)),
    ];
    let filter = format!("(&{}({}=*))", cfg.filter, a.photo);
    let attrs: Vec<String> = [&cfg.login_attribute, &a.id, &a.photo]
        .into_iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect();
    let mut stream = ldap
        .streaming_search_with(adapters, &cfg.base_dn, Scope::Subtree, &filter, attrs)
        .await
        .map_err(unavailable)?;
    let mut page = Vec::with_capacity(PHOTO_PAGE);
    let mut bytes_in_page = 0;
    while let Some(e) = stream.next().await.map_err(unavailable)? {
        let e = SearchEntry::construct(e);
        let Some(bytes) = raw(&e, &a.photo).filter(|b| b.len() <= max_bytes) else {
            continue;
        };
        bytes_in_page += bytes.len();
        page.push(Photo {
            id: raw(&e, &a.id).map(|v| entry_id(&v)).unwrap_or_default(),
            login: value(&e, &cfg.login_attribute).unwrap_or_default(),
            bytes,
        });
        let full = page.len() == PHOTO_PAGE || bytes_in_page >= PHOTO_PAGE_BYTES;
        if !full {
            continue;
        }
        bytes_in_page = 0;
        if tx.send(Ok(std::mem::take(&mut page))).await.is_err() {
            // Nobody reads any more: the connection is dropped.
            return Ok(());
        }
    }
    stream.finish().await.success().map_err(failed)?;
    let _ = ldap.unbind().await;
    if !page.is_empty() {
        let _ = tx.send(Ok(page)).await;
    }
    Ok(())
}

async fn paged(
    ldap: &mut Ldap,
    cfg: &LdapConfig,
    filter: &str,
    attrs: Vec<String>,
    mut progress: impl FnMut(usize),
) -> AppResult<Vec<SearchEntry>> {
    let adapters: Vec<Box<dyn Adapter<_, _>>> = vec![
        Box::new(EntriesOnly::new()),
        Box::new(PagedResults::new(500)),
    ];
    let mut stream = ldap
        .streaming_search_with(adapters, &cfg.base_dn, Scope::Subtree, filter, attrs)
        .await
        .map_err(unavailable)?;
    let mut out = Vec::new();
    while let Some(e) = stream.next().await.map_err(unavailable)? {
        out.push(SearchEntry::construct(e));
        if out.len() % 500 == 0 {
            progress(out.len());
        }
    }
    stream.finish().await.success().map_err(failed)?;
    progress(out.len());
    Ok(out)
}
