//! The trust gate: which instances this one federates with, at which level.
//!
//! Each listed instance has a level — `member` (same organisation), `partner`
//! or `blocked` — with a reason and an optional expiry. In `allowlist` mode
//! only unexpired member and partner entries may federate; in `open` mode any
//! instance that is not blocked may. A block on a domain also covers its
//! subdomains and beats any allow. Every change is written to an audit log in
//! the same transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::config::{Config, FederationMode};
use crate::db::schema::{deliveries, instances, trust_audit};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Member,
    Partner,
    Blocked,
}

impl Level {
    pub fn parse(s: &str) -> AppResult<Level> {
        match s.trim().to_ascii_lowercase().as_str() {
            "member" => Ok(Level::Member),
            "partner" => Ok(Level::Partner),
            "blocked" | "block" => Ok(Level::Blocked),
            _ => Err(AppError::bad_request("trust_level_invalid")),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Member => "member",
            Level::Partner => "partner",
            Level::Blocked => "blocked",
        }
    }
}

/// What the gate decided for a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Member,
    Partner,
    /// Blocked, by the entry of this domain (the domain itself or a parent).
    Blocked {
        by: String,
        reason: String,
    },
    /// Not listed (or only by expired entries).
    Unknown,
}

impl Decision {
    /// Whether requests to and from this instance are allowed in `mode`.
    pub fn may_federate(&self, mode: FederationMode) -> bool {
        match self {
            Decision::Member | Decision::Partner => true,
            Decision::Blocked { .. } => false,
            Decision::Unknown => mode == FederationMode::Open,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = instances)]
pub struct Instance {
    pub domain: String,
    pub level: String,
    pub reason: String,
    #[serde(serialize_with = "crate::db::utc::option")]
    pub expires_at: Option<NaiveDateTime>,
    pub allow_private: bool,
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub updated_at: NaiveDateTime,
}

impl Instance {
    /// Translation key of the level's label.
    pub fn level_key(&self) -> String {
        format!("admin.level_{}", self.level)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = trust_audit)]
pub struct AuditEntry {
    pub id: i64,
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub at: NaiveDateTime,
    pub actor: String,
    pub action: String,
    pub domain: String,
    pub level: Option<String>,
    pub reason: String,
    #[serde(serialize_with = "crate::db::utc::option")]
    pub expires_at: Option<NaiveDateTime>,
}

/// An instance as trust entries store it: a lowercase ASCII host name with
/// no trailing dot, and a port when the instance is not on its scheme's
/// default one (`beta.example`, `beta.example:8443`). Internationalised
/// names must be given in punycode.
///
/// An entry without a port stands for the instance on the default port: a
/// service on another port of the same host is another instance, which is
/// not trusted unless listed. A block without a port covers every port of
/// the host and of its subdomains.
pub fn parse_domain(raw: &str) -> AppResult<String> {
    let lowered = raw.trim().to_ascii_lowercase();
    let (host, port) = match lowered.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (lowered.as_str(), None),
    };
    let d = host.trim_end_matches('.');
    let valid_host = !d.is_empty()
        && d.len() <= 253
        && d.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
    let port = match port {
        None => Ok(None),
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            p.parse::<u16>().ok().filter(|p| *p > 0).map(Some).ok_or(())
        }
        Some(_) => Err(()),
    };
    match (valid_host, port) {
        (true, Ok(None)) => Ok(d.to_string()),
        (true, Ok(Some(p))) => Ok(format!("{d}:{p}")),
        _ => Err(AppError::bad_request("domain_invalid").with("domain", raw.trim())),
    }
}

/// The host of an instance written `host[:port]`.
pub fn host_part(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority
            .find(']')
            .map_or(authority, |end| &authority[..=end]);
    }
    match authority.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => authority,
    }
}

pub const MAX_REASON: usize = 500;

/// A new or changed trust entry.
pub struct Entry<'a> {
    pub domain: &'a str,
    pub level: Level,
    pub reason: &'a str,
    pub expires_at: Option<NaiveDateTime>,
    pub allow_private: bool,
}

fn check_reason(reason: &str) -> AppResult<()> {
    if reason.chars().count() > MAX_REASON {
        return Err(AppError::bad_request("field_too_long")
            .with("field", "reason")
            .with("max", MAX_REASON));
    }
    Ok(())
}

/// Writes an instance's entry and its audit line (inside a write
/// transaction); blocking an instance cancels what is queued for it.
fn upsert_entry(
    c: &mut DbConn,
    actor: &str,
    action: &str,
    domain: &str,
    e: &Entry<'_>,
    now: NaiveDateTime,
) -> AppResult<()> {
    let exists: i64 = instances::table.find(domain).count().get_result(c)?;
    if exists > 0 {
        diesel::update(instances::table.find(domain))
            .set((
                instances::level.eq(e.level.as_str()),
                instances::reason.eq(e.reason.trim()),
                instances::expires_at.eq(e.expires_at),
                instances::allow_private.eq(e.allow_private),
                instances::updated_at.eq(now),
            ))
            .execute(c)?;
    } else {
        diesel::insert_into(instances::table)
            .values((
                instances::domain.eq(domain),
                instances::level.eq(e.level.as_str()),
                instances::reason.eq(e.reason.trim()),
                instances::expires_at.eq(e.expires_at),
                instances::allow_private.eq(e.allow_private),
                instances::created_at.eq(now),
                instances::updated_at.eq(now),
            ))
            .execute(c)?;
    }
    diesel::insert_into(trust_audit::table)
        .values((
            trust_audit::at.eq(now),
            trust_audit::actor.eq(actor),
            trust_audit::action.eq(action),
            trust_audit::domain.eq(domain),
            trust_audit::level.eq(Some(e.level.as_str())),
            trust_audit::reason.eq(e.reason.trim()),
            trust_audit::expires_at.eq(e.expires_at),
        ))
        .execute(c)?;
    if e.level == Level::Blocked {
        // Nothing more leaves for a blocked instance (or its subdomains).
        diesel::update(
            deliveries::table
                .filter(deliveries::status.eq("pending"))
                .filter(
                    deliveries::domain
                        .eq(domain)
                        .or(deliveries::domain.like(format!("%.{}", domain)))
                        .or(deliveries::domain.like(format!("{}:%", domain)))
                        .or(deliveries::domain.like(format!("%.{}:%", domain))),
                ),
        )
        .set((
            deliveries::status.eq("cancelled"),
            deliveries::last_error.eq("instance blocked"),
            deliveries::done_at.eq(Some(now)),
        ))
        .execute(c)?;
    }
    Ok(())
}

/// Adds or changes the entry of an instance; `actor` names who did it.
pub fn set(conn: &mut DbConn, actor: &str, e: Entry<'_>) -> AppResult<Instance> {
    let domain = parse_domain(e.domain)?;
    check_reason(e.reason)?;
    let now = now();
    if e.expires_at.is_some_and(|t| t <= now) {
        return Err(AppError::bad_request("expiry_in_past"));
    }
    db::write(conn, |c| {
        upsert_entry(c, actor, "set", &domain, &e, now)?;
        instances::table
            .find(&domain)
            .select(Instance::as_select())
            .first(c)
            .map_err(AppError::from)
    })
}

/// Removes the entry of an instance.
pub fn remove(conn: &mut DbConn, actor: &str, domain: &str, reason: &str) -> AppResult<()> {
    let domain = parse_domain(domain)?;
    check_reason(reason)?;
    let now = now();
    db::write(conn, |c| {
        let n = diesel::delete(instances::table.find(&domain)).execute(c)?;
        if n == 0 {
            return Err(AppError::not_found());
        }
        diesel::insert_into(trust_audit::table)
            .values((
                trust_audit::at.eq(now),
                trust_audit::actor.eq(actor),
                trust_audit::action.eq("remove"),
                trust_audit::domain.eq(&domain),
                trust_audit::level.eq(None::<String>),
                trust_audit::reason.eq(reason.trim()),
                trust_audit::expires_at.eq(None::<NaiveDateTime>),
            ))
            .execute(c)?;
        Ok(())
    })
}

pub fn list(conn: &mut DbConn) -> AppResult<Vec<Instance>> {
    instances::table
        .order(instances::domain.asc())
        .select(Instance::as_select())
        .load(conn)
        .map_err(AppError::from)
}

/// The newest audit entries first.
pub fn audit_log(conn: &mut DbConn, limit: i64) -> AppResult<Vec<AuditEntry>> {
    trust_audit::table
        .order(trust_audit::id.desc())
        .limit(limit)
        .select(AuditEntry::as_select())
        .load(conn)
        .map_err(AppError::from)
}

/// The entries that may speak for an instance `host[:port]`: itself, then
/// its host and each parent domain without a port (`a.b.example:8443` →
/// `a.b.example:8443`, `a.b.example`, `b.example`, `example`).
fn with_parents(authority: &str) -> Vec<String> {
    let host = host_part(authority);
    let mut out = vec![authority.to_string()];
    if host != authority {
        out.push(host.to_string());
    }
    let mut rest = host;
    while let Some((_, parent)) = rest.split_once('.') {
        out.push(parent.to_string());
        rest = parent;
    }
    out
}

/// Decides what the instance `domain` (`host[:port]`) is: a live block on
/// it, on its host (any port) or on a parent domain wins; otherwise its own
/// live member or partner entry, port included; otherwise unknown.
pub fn decide(conn: &mut DbConn, domain: &str) -> AppResult<Decision> {
    let mut all = decide_many(conn, &[domain.to_string()])?;
    Ok(all.remove(domain).map_or(Decision::Unknown, |(d, _)| d))
}

/// [`decide`] for several instances with one query (the delivery worker
/// asks about every instance of a round at once), with for each whether its
/// own live entry allows private addresses.
pub fn decide_many(
    conn: &mut DbConn,
    domains: &[String],
) -> AppResult<std::collections::HashMap<String, (Decision, bool)>> {
    let parsed: Vec<(String, Option<String>)> = domains
        .iter()
        .map(|d| (d.clone(), parse_domain(d).ok()))
        .collect();
    let mut candidates: Vec<String> = parsed
        .iter()
        .filter_map(|(_, p)| p.as_deref().map(with_parents))
        .flatten()
        .collect();
    candidates.sort();
    candidates.dedup();
    let now = now();
    let rows: Vec<Instance> = if candidates.is_empty() {
        Vec::new()
    } else {
        instances::table
            .filter(instances::domain.eq_any(&candidates))
            .filter(
                instances::expires_at
                    .is_null()
                    .or(instances::expires_at.gt(now)),
            )
            .select(Instance::as_select())
            .load(conn)?
    };
    let mut out = std::collections::HashMap::new();
    for (raw, domain) in parsed {
        let verdict = match domain {
            None => (Decision::Unknown, false),
            Some(domain) => {
                let own: Vec<Instance> = {
                    let parents = with_parents(&domain);
                    rows.iter()
                        .filter(|r| parents.contains(&r.domain))
                        .cloned()
                        .collect()
                };
                let private = own
                    .iter()
                    .any(|r| r.domain == domain && r.allow_private && r.level != "blocked");
                (decide_from(&domain, &own), private)
            }
        };
        out.insert(raw, verdict);
    }
    Ok(out)
}

/// What the trust gate says of one instance now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub decision: Decision,
    /// Whether it may federate with us now (for an unlisted instance, the
    /// federation mode decides).
    pub allowed: bool,
    /// Whether its own live entry lets it live on a private address.
    pub private_ok: bool,
}

/// The one way into the trust decision: every inbound request, delivery
/// and fetch (through the outgoing client's `gate`) and every audience the
/// outbox computes asks it. For each instance (`host[:port]`), its
/// [`Verdict`]; this instance itself is always an allowed member.
pub fn verdicts(
    conn: &mut DbConn,
    cfg: &Config,
    domains: &[String],
) -> AppResult<std::collections::HashMap<String, Verdict>> {
    let own = crate::urls::host_of(&cfg.base_url).unwrap_or_default();
    Ok(decide_many(conn, domains)?
        .into_iter()
        .map(|(domain, (decision, private_ok))| {
            let verdict = if domain.eq_ignore_ascii_case(&own) {
                Verdict {
                    decision: Decision::Member,
                    allowed: true,
                    private_ok,
                }
            } else {
                Verdict {
                    allowed: decision.may_federate(cfg.federation.mode),
                    decision,
                    private_ok,
                }
            };
            (domain, verdict)
        })
        .collect())
}

/// Those of `domains` that are members of the organisation now (listed as
/// `member`, not expired, not under a block).
pub fn members_among(conn: &mut DbConn, domains: &[String]) -> AppResult<Vec<String>> {
    Ok(decide_many(conn, domains)?
        .into_iter()
        .filter(|(_, (decision, _))| *decision == Decision::Member)
        .map(|(domain, _)| domain)
        .collect())
}

/// The instances people or communities known here live on that are
/// members of the organisation now.
pub fn known_members(conn: &mut DbConn) -> AppResult<Vec<String>> {
    use crate::db::schema::users;
    let known: Vec<String> = users::table
        .filter(users::domain.is_not_null())
        .select(users::domain.assume_not_null())
        .distinct()
        .load(conn)?;
    members_among(conn, &known)
}

/// [`verdicts`] for one instance.
pub fn verdict(conn: &mut DbConn, cfg: &Config, domain: &str) -> AppResult<Verdict> {
    verdicts(conn, cfg, &[domain.to_string()])?
        .remove(domain)
        .ok_or_else(|| AppError::internal("trust verdict missing"))
}

/// `rows` are the live entries of [`with_parents`]`(domain)`.
fn decide_from(domain: &str, rows: &[Instance]) -> Decision {
    if let Some(block) = rows.iter().find(|r| r.level == "blocked") {
        return Decision::Blocked {
            by: block.domain.clone(),
            reason: block.reason.clone(),
        };
    }
    match rows
        .iter()
        .find(|r| r.domain == domain)
        .map(|r| r.level.as_str())
    {
        Some("member") => Decision::Member,
        Some("partner") => Decision::Partner,
        _ => Decision::Unknown,
    }
}

// ---- CSV import and export ------------------------------------------------

/// Columns of the export: Mastodon's domain-block export, then ours.
pub const CSV_HEADER: &str =
    "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate,#level,#expires_at,#allow_private";

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Splits one CSV line into fields (double quotes, doubled to escape).
fn csv_split(line: &str) -> Result<Vec<String>, ()> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => cur.push(c),
            (false, '"') if cur.is_empty() => quoted = true,
            (false, ',') => out.push(std::mem::take(&mut cur)),
            (false, c) => cur.push(c),
        }
    }
    if quoted {
        return Err(());
    }
    out.push(cur);
    Ok(out)
}

pub fn export_csv(conn: &mut DbConn) -> AppResult<String> {
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    for i in list(conn)? {
        let severity = if i.level == "blocked" {
            "suspend"
        } else {
            "noop"
        };
        let expires = i
            .expires_at
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default();
        out.push_str(&format!(
            "{},{severity},false,false,{},false,{},{expires},{}\n",
            csv_field(&i.domain),
            csv_field(&i.reason),
            i.level,
            i.allow_private
        ));
    }
    Ok(out)
}

/// An optional expiry typed by an administrator (empty for none); a value
/// that is not a time is refused, naming `field`.
pub fn parse_expiry(raw: Option<&str>, field: &'static str) -> AppResult<Option<NaiveDateTime>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(t) => parse_time(t)
            .map(Some)
            .ok_or_else(|| AppError::bad_request("field_invalid").with("field", field)),
    }
}

/// An RFC 3339 time or a `YYYY-MM-DD` date (midnight UTC).
pub fn parse_time(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.naive_utc())
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
}

/// Imports a CSV file: Mastodon's domain-block export (`suspend` and
/// `silence` become blocks, `noop` is skipped unless a level is given) or our
/// own export. All or nothing: a bad line names its number and nothing is
/// stored. Returns the number of entries written.
pub fn import_csv(conn: &mut DbConn, actor: &str, text: &str) -> AppResult<usize> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(AppError::bad_request("csv_empty"));
    };
    let header: Vec<String> = csv_split(header)
        .map_err(|_| AppError::bad_request("csv_line").with("line", 1))?
        .into_iter()
        .map(|h| h.trim().trim_start_matches('#').to_ascii_lowercase())
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let Some(domain_col) = col("domain") else {
        return Err(AppError::bad_request("csv_no_domain"));
    };
    let (severity_col, comment_col, level_col, expires_col, private_col) = (
        col("severity"),
        col("public_comment"),
        col("level"),
        col("expires_at"),
        col("allow_private"),
    );
    let mut entries: Vec<(String, Level, String, Option<NaiveDateTime>, bool)> = Vec::new();
    let now = now();
    for (n, line) in lines {
        let bad = || AppError::bad_request("csv_line").with("line", n + 1);
        let f = csv_split(line).map_err(|_| bad())?;
        let get = |i: Option<usize>| i.and_then(|i| f.get(i)).map(|s| s.trim()).unwrap_or("");
        let domain = parse_domain(get(Some(domain_col))).map_err(|_| bad())?;
        let level = match (get(level_col), get(severity_col)) {
            (l, _) if !l.is_empty() => Level::parse(l).map_err(|_| bad())?,
            (_, "suspend" | "silence") => Level::Blocked,
            (_, "noop") => continue,
            _ => return Err(bad()),
        };
        let reason = get(comment_col).to_string();
        check_reason(&reason).map_err(|_| bad())?;
        let expires = match get(expires_col) {
            "" => None,
            t => Some(parse_time(t).filter(|t| *t > now).ok_or_else(bad)?),
        };
        let allow_private = match get(private_col) {
            "" | "false" => false,
            "true" => true,
            _ => return Err(bad()),
        };
        entries.push((domain, level, reason, expires, allow_private));
    }
    let count = entries.len();
    db::write(conn, |c| {
        for (domain, level, reason, expires_at, allow_private) in &entries {
            let e = Entry {
                domain,
                level: *level,
                reason,
                expires_at: *expires_at,
                allow_private: *allow_private,
            };
            upsert_entry(c, actor, "import", domain, &e, now)?;
        }
        Ok::<_, AppError>(())
    })?;
    Ok(count)
}

#[cfg(test)]
mod tests;
