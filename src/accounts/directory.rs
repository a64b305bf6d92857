//! Accounts the company's directory (LDAP, Active Directory) manages: what
//! a sign-in with the directory's password and the directory sync do with
//! the people it lists (read by `ldap`).
//!
//! - A person of the directory signing in for the first time gets an
//!   account (or, when an account of this instance already has their
//!   address, that one: the directory vouched for them with its password).
//!   Their name, department, job title, site and address follow the
//!   directory at each sign-in and sync.
//! - The sync makes the accounts of people not seen yet, refreshes the
//!   others, and disables (a leaver: [`super::disable_in`]) those the
//!   directory no longer lists or lists as disabled. Someone who comes back
//!   is enabled again, unless an administrator disabled them here.
//! - An entry is known by what names it for good (`entryUUID`,
//!   `objectGUID`: [`crate::ldap::entry_id`]) where the directory gives
//!   it, else by its login: a renamed login keeps its account (the person
//!   signs in with the new one), and a login (and address) given again to
//!   a newcomer makes them a new account, never the former holder's: the
//!   leaver's account keeps its content and gives up its address. An entry
//!   deleted and made again is a new person here too (as Entra ID sees
//!   it); one disabled and enabled again is the same.
//! - Whom each person reports to (the `manager` attribute, a DN) is kept
//!   with them and resolved when a profile is shown ([`manager_of`],
//!   [`reports_of`]), so that the order in which people are read does not
//!   matter.
//! - Photos are taken after the sync, page by page as they are read
//!   (`ldap::photos`, `people::from_directory`): this module finds the
//!   account of each ([`photo_target`]) and keeps the digest of the last
//!   one taken ([`photo_taken`]).
//! - A dry run reports the same figures and writes nothing.
//! - The sync works in batches of 500 people, one transaction each, so that
//!   other writers wait for one batch at most.

use diesel::prelude::*;

use super::{Directory, Email, User};
use crate::db::schema::{directory_users, users};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult};
use crate::ldap::Entry;

/// People per transaction of the sync.
const BATCH: usize = 500;

/// What a sync did, or would do (dry run).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// People the directory listed.
    pub listed: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Leavers disabled now, and people back enabled again.
    pub disabled: usize,
    pub enabled: usize,
    /// Entries left aside (no login or no valid address), with why.
    pub skipped: Vec<(String, &'static str)>,
}

/// How the last sync went (the scheduled one or the command's), for the
/// administrators' console: kept in the site's settings, so that every
/// process shows the same.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LastRun {
    #[serde(
        serialize_with = "crate::db::utc::serialize",
        deserialize_with = "crate::db::utc::deserialize"
    )]
    pub at: chrono::NaiveDateTime,
    /// `schedule` or `command`.
    pub by: String,
    /// Why it failed (the directory unreachable, refused…); then the
    /// figures are those it reached.
    pub error: Option<String>,
    pub listed: usize,
    pub created: usize,
    pub updated: usize,
    pub disabled: usize,
    pub enabled: usize,
    pub skipped: usize,
    /// Photos taken, and refused, when the directory gives photos.
    pub photos_imported: usize,
    pub photos_refused: usize,
    pub seconds: f64,
}

const LAST_RUN: &str = "directory_last_run";

impl LastRun {
    /// A run begun by `by` at `started`, with what the sync did.
    pub fn of(by: &str, started: std::time::Instant, report: Option<&Report>) -> LastRun {
        let r = report.cloned().unwrap_or_default();
        LastRun {
            at: now(),
            by: by.to_string(),
            error: None,
            listed: r.listed,
            created: r.created,
            updated: r.updated,
            disabled: r.disabled,
            enabled: r.enabled,
            skipped: r.skipped.len(),
            photos_imported: 0,
            photos_refused: 0,
            seconds: started.elapsed().as_secs_f64(),
        }
    }

    /// The same run, failed with `error`.
    pub fn failed(mut self, error: &AppError) -> LastRun {
        // For administrators: the code, what it names and the cause.
        let mut text = error.code.to_string();
        for (k, v) in &error.args {
            text.push_str(&format!(" {k}={v}"));
        }
        if let Some(cause) = &error.cause {
            text.push_str(&format!(" ({cause})"));
        }
        self.error = Some(text);
        self
    }
}

/// Keeps how the last sync went.
pub fn remember(c: &mut DbConn, run: &LastRun) -> AppResult<()> {
    let json = serde_json::to_string(run).map_err(AppError::internal)?;
    crate::settings::put(c, LAST_RUN, &json)
}

/// How the last sync went, if one ran.
pub fn last_run(c: &mut DbConn) -> AppResult<Option<LastRun>> {
    Ok(crate::settings::get(c, LAST_RUN)?.and_then(|s| serde_json::from_str(&s).ok()))
}

fn key(login: &str) -> String {
    login.trim().to_lowercase()
}

/// A DN as compared here, written by the application on both sides so
/// that the databases agree: lowercased (accented letters too; the
/// directory's names are not case-sensitive), without the spaces a
/// directory may write around `,`, `=` and `+`.
fn dn_key(dn: &str) -> String {
    let lower = dn.trim().to_lowercase();
    let mut out = String::with_capacity(lower.len());
    for part in lower.split(',') {
        if !out.is_empty() {
            out.push(',');
        }
        let rdn: Vec<String> = part
            .split('+')
            .map(|ava| match ava.split_once('=') {
                Some((k, v)) => format!("{}={}", k.trim(), v.trim()),
                None => ava.trim().to_string(),
            })
            .collect();
        out.push_str(&rdn.join("+"));
    }
    out
}

/// Whom the person `user` reports to, as the directory says: the enabled
/// account of their manager's entry, when the directory manages both.
pub fn manager_of(conn: &mut DbConn, user: i64) -> AppResult<Option<i64>> {
    let dn: Option<String> = directory_users::table
        .find(user)
        .select(directory_users::manager_dn)
        .first(conn)
        .optional()?;
    let Some(dn) = dn.filter(|d| !d.is_empty()) else {
        return Ok(None);
    };
    Ok(directory_users::table
        .inner_join(users::table)
        .filter(directory_users::dn_key.eq(dn))
        .filter(users::disabled.eq(false))
        .select(users::id)
        .first(conn)
        .optional()?)
}

/// The enabled people who report to `user` (at most 100), as the directory
/// says.
pub fn reports_of(conn: &mut DbConn, user: i64) -> AppResult<Vec<i64>> {
    let dn: Option<String> = directory_users::table
        .find(user)
        .select(directory_users::dn_key)
        .first(conn)
        .optional()?;
    let Some(dn) = dn.filter(|d| !d.is_empty()) else {
        return Ok(Vec::new());
    };
    Ok(directory_users::table
        .inner_join(users::table)
        .filter(directory_users::manager_dn.eq(dn))
        .filter(users::disabled.eq(false))
        .order(users::username.asc())
        .limit(100)
        .select(users::id)
        .load(conn)?)
}

fn fields(e: &Entry) -> Directory {
    Directory {
        email: Some(e.email.clone()),
        name: e.name.clone(),
        department: e.department.clone(),
        job_title: e.job_title.clone(),
        site: e.site.clone(),
        admin: None,
    }
}

/// What happened to one entry.
enum Done {
    Created,
    Updated,
    Unchanged,
    Enabled,
    Disabled,
    Skipped(&'static str),
}

/// The account an entry manages: the one its lasting id names (its login
/// follows a rename), else the one of its login unless another entry with
/// another address held that login (a login given again to a newcomer: the
/// former holder's account is theirs no more, and keeps its content).
/// Inside the caller's transaction.
fn linked_account(c: &mut DbConn, e: &Entry) -> AppResult<Option<i64>> {
    let login = key(&e.login);
    if !e.id.is_empty() {
        let by_id: Option<(i64, String)> = directory_users::table
            .filter(directory_users::entry_id.eq(&e.id))
            .select((directory_users::user_id, directory_users::login_key))
            .first(c)
            .optional()?;
        if let Some((id, held)) = by_id {
            if held != login {
                free_login(c, &login, id)?;
                diesel::update(directory_users::table.find(id))
                    .set(directory_users::login_key.eq(&login))
                    .execute(c)?;
            }
            return Ok(Some(id));
        }
    }
    let by_login: Option<(i64, String)> = directory_users::table
        .filter(directory_users::login_key.eq(&login))
        .select((directory_users::user_id, directory_users::entry_id))
        .first(c)
        .optional()?;
    match by_login {
        // The same entry, or one known by its login only so far.
        Some((id, held)) if held.is_empty() || e.id.is_empty() || held == e.id => {
            if held.is_empty() && !e.id.is_empty() {
                diesel::update(directory_users::table.find(id))
                    .set(directory_users::entry_id.eq(&e.id))
                    .execute(c)?;
            }
            Ok(Some(id))
        }
        // Another entry: whoever holds the login and address now is
        // someone else (companies give both again), even if it is the
        // same person back with a new entry; their account stays the
        // former holder's, with what they wrote.
        Some((id, _)) => {
            free_login(c, &login, -1)?;
            tracing::info!(
                account = id,
                login,
                "a login of the directory names another entry now"
            );
            Ok(None)
        }
        None => Ok(None),
    }
}

/// Frees an address for a newcomer of the directory (`e`) when the account
/// that has it is a leaver of another entry: that account keeps its
/// content and is renamed `left-<id>@invalid`, never handed over.
fn free_address_of_leaver(c: &mut DbConn, e: &Entry, email: &Email) -> AppResult<()> {
    if e.id.is_empty() {
        return Ok(());
    }
    let holder: Option<(i64, bool, String)> = users::table
        .inner_join(directory_users::table)
        .filter(users::email.eq(email.as_str()))
        .select((users::id, users::disabled, directory_users::entry_id))
        .first(c)
        .optional()?;
    if let Some((id, true, held)) = holder {
        if !held.is_empty() && held != e.id {
            diesel::update(users::table.find(id))
                .set(users::email.eq(format!("left-{id}@invalid")))
                .execute(c)?;
            tracing::info!(
                account = id,
                "a leaver's address was given to a newcomer of the directory"
            );
        }
    }
    Ok(())
}

/// Frees `login` from accounts other than `keep` that held it: their key
/// becomes one no login has (`login#id`).
fn free_login(c: &mut DbConn, login: &str, keep: i64) -> AppResult<()> {
    let holders: Vec<i64> = directory_users::table
        .filter(directory_users::login_key.eq(login))
        .filter(directory_users::user_id.ne(keep))
        .select(directory_users::user_id)
        .load(c)?;
    for id in holders {
        diesel::update(directory_users::table.find(id))
            .set(directory_users::login_key.eq(format!("{login}#{id}")))
            .execute(c)?;
    }
    Ok(())
}

/// Applies one entry of the directory, inside the caller's transaction:
/// the account it manages, made or adopted if none.
fn apply(c: &mut DbConn, e: &Entry) -> AppResult<(Option<User>, Done)> {
    if e.login.trim().is_empty() {
        return Ok((None, Done::Skipped("no login")));
    }
    let Ok(email) = Email::parse(&e.email) else {
        return Ok((None, Done::Skipped("no valid e-mail address")));
    };
    let now = now();
    let (user, created) = match linked_account(c, e)? {
        Some(id) => (
            users::table.find(id).select(User::as_select()).first(c)?,
            false,
        ),
        None => {
            if e.disabled {
                // A leaver never seen here: nothing to make.
                return Ok((None, Done::Skipped("disabled in the directory")));
            }
            free_address_of_leaver(c, e, &email)?;
            let (user, created) = match super::adopt_or_make(c, &e.login, &email, Some(&fields(e))) {
                Ok(found) => found,
                Err(err) if err.code == "directory_address_taken" => {
                    return Ok((
                        None,
                        Done::Skipped("its address is an account of this site with a password, or an administrator's"),
                    ))
                }
                Err(err) => return Err(err),
            };
            if !created {
                let taken: i64 = directory_users::table
                    .filter(directory_users::user_id.eq(user.id))
                    .count()
                    .get_result(c)?;
                if taken > 0 {
                    return Ok((
                        None,
                        Done::Skipped("its address is another login's account"),
                    ));
                }
            }
            diesel::insert_into(directory_users::table)
                .values((
                    directory_users::user_id.eq(user.id),
                    directory_users::login_key.eq(key(&e.login)),
                    directory_users::entry_id.eq(&e.id),
                    directory_users::dn.eq(&e.dn),
                    directory_users::dn_key.eq(dn_key(&e.dn)),
                    directory_users::synced_at.eq(now),
                    directory_users::manager_dn.eq(dn_key(e.manager.as_deref().unwrap_or(""))),
                ))
                .execute(c)?;
            if created {
                // Made just now with what the entry says: nothing more to
                // write, nobody to tell (no one follows them yet).
                return Ok((Some(user), Done::Created));
            }
            (user, created)
        }
    };
    if user.deleted_at.is_some() {
        return Ok((None, Done::Skipped("account deleted here")));
    }
    let (by_sync, manager_was): (bool, String) = directory_users::table
        .find(user.id)
        .select((
            directory_users::disabled_by_sync,
            directory_users::manager_dn,
        ))
        .first(c)?;
    let manager = dn_key(e.manager.as_deref().unwrap_or(""));
    diesel::update(directory_users::table.find(user.id))
        .set((
            directory_users::dn.eq(&e.dn),
            directory_users::dn_key.eq(dn_key(&e.dn)),
            directory_users::synced_at.eq(now),
            directory_users::manager_dn.eq(&manager),
        ))
        .execute(c)?;
    let before = user.clone();
    // A leaver whose profile was anonymised stays so while the directory
    // still lists them as gone.
    let after = match e.disabled && super::leavers::anonymised(c, user.id)? {
        true => user.clone(),
        false => super::from_directory(c, &user, &fields(e))?,
    };
    let changed = after.display_name != before.display_name
        || after.department != before.department
        || after.job_title != before.job_title
        || after.site != before.site
        || after.email != before.email
        || manager != manager_was;
    let done = if e.disabled && !user.disabled {
        super::disable_in(c, user.id, true)?;
        super::leavers::record(c, user.id)?;
        diesel::update(directory_users::table.find(user.id))
            .set(directory_users::disabled_by_sync.eq(true))
            .execute(c)?;
        Done::Disabled
    } else if !e.disabled && user.disabled && by_sync {
        super::disable_in(c, user.id, false)?;
        super::leavers::back(c, user.id)?;
        diesel::update(directory_users::table.find(user.id))
            .set(directory_users::disabled_by_sync.eq(false))
            .execute(c)?;
        Done::Enabled
    } else if created {
        Done::Created
    } else if changed {
        Done::Updated
    } else {
        Done::Unchanged
    };
    let user = users::table
        .find(user.id)
        .select(User::as_select())
        .first(c)?;
    Ok((Some(user), done))
}

/// The account a photo of the directory is for, known by its entry's
/// lasting id or else its login, with the digest of the last photo taken
/// from the directory: none for an account disabled here or by the
/// directory (a leaver's profile is not written back).
pub fn photo_target(c: &mut DbConn, id: &str, login: &str) -> AppResult<Option<(i64, String)>> {
    let base = || {
        directory_users::table
            .inner_join(users::table)
            .filter(users::disabled.eq(false))
            .filter(users::deleted_at.is_null())
            .select((directory_users::user_id, directory_users::photo_digest))
    };
    if !id.is_empty() {
        let found = base()
            .filter(directory_users::entry_id.eq(id))
            .first(c)
            .optional()?;
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(base()
        .filter(directory_users::login_key.eq(key(login)))
        .filter(
            directory_users::entry_id
                .eq("")
                .or(directory_users::entry_id.eq(id)),
        )
        .first(c)
        .optional()?)
}

/// Notes that the directory's photo of digest `digest` was taken (or
/// refused), inside the caller's write.
pub fn photo_taken(c: &mut DbConn, user_id: i64, digest: &str) -> AppResult<()> {
    diesel::update(directory_users::table.find(user_id))
        .set(directory_users::photo_digest.eq(digest))
        .execute(c)?;
    Ok(())
}

/// Whether the company's directory manages the account `user_id` (its
/// password is the directory's).
pub fn managed(c: &mut DbConn, user_id: i64) -> AppResult<bool> {
    let n: i64 = directory_users::table
        .filter(directory_users::user_id.eq(user_id))
        .count()
        .get_result(c)?;
    Ok(n > 0)
}

/// A person the directory vouched for with its password: their account,
/// made or refreshed now.
pub fn signed_in(c: &mut DbConn, e: &Entry) -> AppResult<User> {
    if e.disabled {
        return Err(AppError::forbidden("account_disabled"));
    }
    let (user, done) = db::write(c, |c| apply(c, e))?;
    match (user, done) {
        (Some(u), _) if !u.disabled => Ok(u),
        (Some(_), _) => Err(AppError::forbidden("account_disabled")),
        (None, Done::Skipped(why)) => {
            tracing::warn!(login = %e.login, why, "directory sign-in refused");
            Err(AppError::forbidden("directory_entry_unusable"))
        }
        (None, _) => Err(AppError::forbidden("directory_entry_unusable")),
    }
}

/// A sync did not finish, or was a dry run (its batches rolled back).
enum Stop {
    DryRun,
    Failed(AppError),
}

impl From<diesel::result::Error> for Stop {
    fn from(e: diesel::result::Error) -> Stop {
        Stop::Failed(e.into())
    }
}

impl From<AppError> for Stop {
    fn from(e: AppError) -> Stop {
        Stop::Failed(e)
    }
}

/// Brings the accounts in line with `entries`, every person the directory
/// lists; `progress` is told how many were done so far.
pub fn sync(
    c: &mut DbConn,
    entries: &[Entry],
    dry_run: bool,
    mut progress: impl FnMut(usize),
) -> AppResult<Report> {
    // A directory that suddenly lists nobody (a wrong base or filter, an
    // access rule changed) is not a company where everyone left.
    if entries.is_empty() {
        let managed: i64 = directory_users::table.count().get_result(c)?;
        if managed > 0 {
            return Err(AppError::remote(
                "directory_refused",
                "it lists nobody; nothing was changed",
            ));
        }
    }
    let mut report = Report {
        listed: entries.len(),
        ..Report::default()
    };
    for (i, batch) in entries.chunks(BATCH).enumerate() {
        let mut part = Report::default();
        let done = db::write(c, |c| {
            for e in batch {
                match apply(c, e)?.1 {
                    Done::Created => part.created += 1,
                    Done::Updated => part.updated += 1,
                    Done::Unchanged => part.unchanged += 1,
                    Done::Enabled => part.enabled += 1,
                    Done::Disabled => part.disabled += 1,
                    Done::Skipped(why) => part.skipped.push((e.login.clone(), why)),
                }
            }
            if dry_run {
                return Err(Stop::DryRun);
            }
            Ok(())
        });
        match done {
            Ok(()) | Err(Stop::DryRun) => {}
            Err(Stop::Failed(e)) => return Err(e),
        }
        report.created += part.created;
        report.updated += part.updated;
        report.unchanged += part.unchanged;
        report.enabled += part.enabled;
        report.disabled += part.disabled;
        report.skipped.extend(part.skipped);
        progress((i * BATCH + batch.len()).min(entries.len()));
    }
    // Leavers: accounts the directory no longer lists, by their entry's
    // lasting id or by their login (a dry run did not record a rename).
    let listed: std::collections::HashMap<String, &str> = entries
        .iter()
        .map(|e| (key(&e.login), e.id.as_str()))
        .collect();
    let ids: std::collections::HashSet<&str> = entries
        .iter()
        .map(|e| e.id.as_str())
        .filter(|id| !id.is_empty())
        .collect();
    let managed: Vec<(i64, String, String)> = directory_users::table
        .inner_join(users::table)
        .filter(users::disabled.eq(false))
        .filter(users::deleted_at.is_null())
        .select((
            directory_users::user_id,
            directory_users::login_key,
            directory_users::entry_id,
        ))
        .load(c)?;
    let gone: Vec<i64> = managed
        .into_iter()
        .filter(|(_, k, id)| {
            let by_id = !id.is_empty() && ids.contains(id.as_str());
            let by_login = listed
                .get(k)
                .is_some_and(|lid| id.is_empty() || lid.is_empty() || lid == id);
            !by_id && !by_login
        })
        .map(|(id, _, _)| id)
        .collect();
    for batch in gone.chunks(BATCH) {
        let done = db::write(c, |c| {
            for id in batch {
                super::disable_in(c, *id, true)?;
                super::leavers::record(c, *id)?;
                diesel::update(directory_users::table.find(id))
                    .set(directory_users::disabled_by_sync.eq(true))
                    .execute(c)?;
            }
            if dry_run {
                return Err(Stop::DryRun);
            }
            Ok(())
        });
        match done {
            Ok(()) | Err(Stop::DryRun) => {}
            Err(Stop::Failed(e)) => return Err(e),
        }
        report.disabled += batch.len();
    }
    // Many new rows leave PostgreSQL's planner with the statistics of a
    // nearly empty table until autovacuum reads them: the photos' and the
    // next sync's look-ups by entry id and login then scanned whole tables
    // (the benchmark's second sync took a minute instead of a second).
    if report.created > 0 && !dry_run {
        if let DbConn::Pg(_) = c {
            use diesel::connection::SimpleConnection;
            c.batch_execute("ANALYZE users; ANALYZE directory_users;")?;
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::dn_key;

    #[test]
    fn a_dn_is_compared_whatever_its_case_accents_and_spacing() {
        let key = dn_key("CN=Émile Roux, OU=People,DC=corp , dc=example");
        assert_eq!(key, "cn=émile roux,ou=people,dc=corp,dc=example");
        assert_eq!(dn_key(" cn=émile roux,ou=people,dc=corp,dc=example "), key);
        assert_eq!(dn_key("uid=a + cn=B,dc=x"), "uid=a+cn=b,dc=x");
        assert_ne!(dn_key("uid=alice,dc=x"), dn_key("uid=alicia,dc=x"));
    }
}
