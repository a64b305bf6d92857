//! Accounts the company's directory pushes over SCIM 2.0 (Entra ID, Okta
//! and the like): joiners are created, changes applied, leavers disabled
//! at once (sessions, tokens, other sites told: [`super::disable_in`]).
//! The SCIM protocol itself (JSON, filters, PATCH) is `web::scim`.
//!
//! - Each provisioning client has its own bearer token, shown once and
//!   stored as a digest ([`create_client`], `ruche admin scim`); a revoked
//!   or unknown token finds nothing.
//! - A client sees and changes only the accounts it provisioned. A new
//!   `userName` whose e-mail an account of this instance already has
//!   adopts that account only when it has no password of this site and is
//!   not an administrator ([`super::adopt_or_make`]): a token must not be
//!   a way into someone's account.
//! - Accounts made here have no password: their people sign in with the
//!   company's identity provider (`accounts::sso`).
//! - Deleting a user disables the account and forgets its SCIM record: the
//!   person's posts stay, attributed, as for any leaver.
//! - `active: true` enables again only an account SCIM itself disabled
//!   ([`set_active`]): an administrator's decision to disable someone is
//!   not undone by the next push.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{secrets, Directory, Email, User};
use crate::db::schema::{scim_clients, scim_users, users};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult};

/// The most users one page lists.
pub const MAX_PAGE: i64 = 200;

/// What a client says of someone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Person {
    pub user_name: String,
    pub external_id: String,
    pub active: bool,
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    /// `None`: not said (left as it is).
    pub display_name: Option<String>,
    pub title: Option<String>,
    pub department: Option<String>,
    pub site: Option<String>,
    /// Whom they report to: the SCIM id of another user of the client
    /// (the enterprise extension's `manager`); one this client did not
    /// provision counts as none.
    pub manager: Option<String>,
}

/// An account as a client sees it.
#[derive(Debug, Clone)]
pub struct Provisioned {
    pub user: User,
    pub user_name: String,
    pub external_id: String,
    pub given_name: String,
    pub family_name: String,
    /// Whom they report to, as the client said.
    pub manager: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A provisioning client, for the administrators' list.
#[derive(Debug, Clone, Queryable, serde::Serialize)]
pub struct Client {
    #[serde(skip)]
    pub id: i64,
    pub name: String,
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::db::utc::option")]
    pub last_used_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "crate::db::utc::option")]
    pub revoked_at: Option<NaiveDateTime>,
}

/// [`create_client`], asked by `by` from the administration pages.
pub fn create_client_as(c: &mut DbConn, by: &User, name: &str) -> AppResult<String> {
    if !by.is_admin {
        return Err(AppError::forbidden("admin_only"));
    }
    create_client(c, name)
}

/// [`revoke_client`], asked by `by` from the administration pages.
pub fn revoke_client_as(c: &mut DbConn, by: &User, name: &str) -> AppResult<()> {
    if !by.is_admin {
        return Err(AppError::forbidden("admin_only"));
    }
    revoke_client(c, name)
}

/// How many accounts each client provisions (by client id).
pub fn managed_counts(c: &mut DbConn) -> AppResult<Vec<(i64, i64)>> {
    Ok(scim_users::table
        .group_by(scim_users::client_id)
        .select((scim_users::client_id, diesel::dsl::count_star()))
        .load(c)?)
}

/// Creates a client named `name`; its token, shown once.
pub fn create_client(c: &mut DbConn, name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AppError::bad_request("field_invalid").with("field", "name"));
    }
    let token = secrets::random_token();
    db::write(c, |c| {
        let taken: i64 = scim_clients::table
            .filter(scim_clients::name.eq(name))
            .count()
            .get_result(c)?;
        if taken > 0 {
            return Err(AppError::conflict("name_taken"));
        }
        diesel::insert_into(scim_clients::table)
            .values((
                scim_clients::name.eq(name),
                scim_clients::token_hash.eq(secrets::digest(&token)),
                scim_clients::created_at.eq(now()),
            ))
            .execute(c)?;
        Ok(())
    })?;
    Ok(token)
}

/// Revokes the token of the client `name`.
pub fn revoke_client(c: &mut DbConn, name: &str) -> AppResult<()> {
    let n = db::write(c, |c| {
        diesel::update(
            scim_clients::table
                .filter(scim_clients::name.eq(name.trim()))
                .filter(scim_clients::revoked_at.is_null()),
        )
        .set(scim_clients::revoked_at.eq(Some(now())))
        .execute(c)
    })?;
    if n == 0 {
        return Err(AppError::not_found());
    }
    Ok(())
}

pub fn list_clients(c: &mut DbConn) -> AppResult<Vec<Client>> {
    Ok(scim_clients::table
        .order(scim_clients::name.asc())
        .select((
            scim_clients::id,
            scim_clients::name,
            scim_clients::created_at,
            scim_clients::last_used_at,
            scim_clients::revoked_at,
        ))
        .load(c)?)
}

/// The client a bearer token belongs to (its use noted, once a minute).
pub fn client_by_token(c: &mut DbConn, token: &str) -> AppResult<i64> {
    let found: Option<(i64, Option<NaiveDateTime>)> = scim_clients::table
        .filter(scim_clients::token_hash.eq(secrets::digest(token)))
        .filter(scim_clients::revoked_at.is_null())
        .select((scim_clients::id, scim_clients::last_used_at))
        .first(c)
        .optional()?;
    let (id, last) = found.ok_or_else(|| AppError::unauthorized("token_invalid"))?;
    let now = now();
    if last.is_none_or(|l| now - l > chrono::Duration::minutes(1)) {
        db::write(c, |c| {
            diesel::update(scim_clients::table.find(id))
                .set(scim_clients::last_used_at.eq(Some(now)))
                .execute(c)
        })?;
    }
    Ok(id)
}

fn user_key(user_name: &str) -> String {
    user_name.trim().to_lowercase()
}

/// The fields of `p` checked: a userName, an e-mail address.
fn check(p: &Person) -> AppResult<(String, Email)> {
    let user_name = p.user_name.trim();
    if user_name.is_empty() || user_name.chars().count() > 255 {
        return Err(AppError::bad_request("scim_invalid").with("field", "userName"));
    }
    if user_name.chars().any(char::is_control) {
        return Err(AppError::bad_request("scim_invalid").with("field", "userName"));
    }
    if p.external_id.chars().count() > 255 || p.external_id.chars().any(char::is_control) {
        return Err(AppError::bad_request("scim_invalid").with("field", "externalId"));
    }
    // No e-mail given: a userName that is an address (a UPN) is one.
    let email = if p.email.trim().is_empty() {
        user_name
    } else {
        p.email.trim()
    };
    let email = Email::parse(email)
        .map_err(|_| AppError::bad_request("scim_invalid").with("field", "emails"))?;
    Ok((user_name.to_string(), email))
}

fn directory(p: &Person, email: &Email) -> Directory {
    let name = p.display_name.clone().or_else(|| {
        let full = format!("{} {}", p.given_name.trim(), p.family_name.trim());
        (!full.trim().is_empty()).then(|| full.trim().to_string())
    });
    Directory {
        email: Some(email.as_str().to_string()),
        name,
        department: p.department.clone(),
        job_title: p.title.clone(),
        site: p.site.clone(),
        admin: None,
    }
}

/// Provisions a new user.
pub fn create(c: &mut DbConn, client: i64, p: &Person) -> AppResult<Provisioned> {
    let (user_name, email) = check(p)?;
    let now = now();
    let id = db::write(c, |c| {
        let taken: i64 = scim_users::table
            .filter(scim_users::user_key.eq(user_key(&user_name)))
            .count()
            .get_result(c)?;
        if taken > 0 {
            return Err(AppError::conflict("scim_uniqueness"));
        }
        let (user, made) = super::adopt_or_make(c, &user_name, &email, None)?;
        if !made {
            let managed: i64 = scim_users::table
                .filter(scim_users::user_id.eq(user.id))
                .count()
                .get_result(c)?;
            if managed > 0 {
                return Err(AppError::conflict("scim_uniqueness"));
            }
        }
        diesel::insert_into(scim_users::table)
            .values((
                scim_users::user_id.eq(user.id),
                scim_users::client_id.eq(client),
                scim_users::user_name.eq(&user_name),
                scim_users::user_key.eq(user_key(&user_name)),
                scim_users::external_id.eq(p.external_id.trim()),
                scim_users::given_name.eq(super::clean_field(&p.given_name)),
                scim_users::family_name.eq(super::clean_field(&p.family_name)),
                scim_users::created_at.eq(now),
                scim_users::updated_at.eq(now),
            ))
            .execute(c)?;
        // An account a client made inactive from the start is a joiner
        // not started yet, not a leaver; one adopted while a leaver (a
        // rehire deleted then pushed again) counts as disabled by SCIM,
        // so that "active" brings it back.
        if user.disabled && super::leavers::is_leaver(c, user.id)? {
            diesel::update(scim_users::table.find(user.id))
                .set(scim_users::disabled_by_scim.eq(true))
                .execute(c)?;
        }
        if !super::leavers::anonymised(c, user.id)? || p.active {
            super::from_directory(c, &user, &directory(p, &email))?;
        }
        set_manager(c, client, user.id, p.manager.as_deref())?;
        set_active(c, user.id, p.active, false)?;
        Ok(user.id)
    })?;
    get(c, client, id)
}

/// What `scim_users` keeps of a user: userName, externalId, given and
/// family names, manager, when made and last changed.
type Record = (
    String,
    String,
    String,
    String,
    Option<i64>,
    NaiveDateTime,
    NaiveDateTime,
);

/// A provisioned user by its id (another account is not found).
pub fn get(c: &mut DbConn, client: i64, id: i64) -> AppResult<Provisioned> {
    let found: Option<(User, Record)> = users::table
        .inner_join(scim_users::table)
        .filter(users::id.eq(id))
        .filter(scim_users::client_id.eq(client))
        .filter(users::deleted_at.is_null())
        .select((
            User::as_select(),
            (
                scim_users::user_name,
                scim_users::external_id,
                scim_users::given_name,
                scim_users::family_name,
                scim_users::manager_id,
                scim_users::created_at,
                scim_users::updated_at,
            ),
        ))
        .first(c)
        .optional()?;
    let (user, (user_name, external_id, given_name, family_name, manager, created_at, updated_at)) =
        found.ok_or_else(AppError::not_found)?;
    Ok(Provisioned {
        user,
        user_name,
        external_id,
        given_name,
        family_name,
        manager,
        created_at,
        updated_at,
    })
}

/// Those of `ids` that are accounts `client` provisioned (a group of a
/// client holds only its own users), in the order given, without repeats.
pub fn provisioned_among(c: &mut DbConn, client: i64, ids: &[i64]) -> AppResult<Vec<i64>> {
    let mut found: Vec<i64> = Vec::new();
    for chunk in ids.chunks(500) {
        found.extend(
            scim_users::table
                .inner_join(users::table)
                .filter(scim_users::client_id.eq(client))
                .filter(users::deleted_at.is_null())
                .filter(scim_users::user_id.eq_any(chunk))
                .select(scim_users::user_id)
                .load::<i64>(c)?,
        );
    }
    let found: std::collections::HashSet<i64> = found.into_iter().collect();
    let mut seen = std::collections::HashSet::new();
    Ok(ids
        .iter()
        .copied()
        .filter(|id| found.contains(id) && seen.insert(*id))
        .collect())
}

/// What a list is filtered on (the filters Entra ID and Okta send).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    UserName(String),
    ExternalId(String),
    Email(String),
}

/// One page of provisioned users (`start` counts from 1, as SCIM does),
/// with how many there are in all.
pub fn list(
    c: &mut DbConn,
    client: i64,
    filter: Option<&Filter>,
    start: i64,
    count: i64,
) -> AppResult<(i64, Vec<Provisioned>)> {
    let query = || {
        let mut q = users::table
            .inner_join(scim_users::table)
            .filter(scim_users::client_id.eq(client))
            .filter(users::deleted_at.is_null())
            .into_boxed();
        match filter {
            Some(Filter::UserName(v)) => q = q.filter(scim_users::user_key.eq(user_key(v))),
            Some(Filter::ExternalId(v)) => q = q.filter(scim_users::external_id.eq(v.clone())),
            Some(Filter::Email(v)) => q = q.filter(users::email.eq(v.trim().to_lowercase())),
            None => {}
        }
        q
    };
    let total: i64 = query().count().get_result(c)?;
    let ids: Vec<i64> = query()
        .order(users::id.asc())
        .offset((start.max(1) - 1).min(1_000_000))
        .limit(count.clamp(0, MAX_PAGE))
        .select(users::id)
        .load(c)?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(get(c, client, id)?);
    }
    Ok((total, out))
}

/// Replaces what is known of a provisioned user (PUT, and PATCH once its
/// operations are applied); `active: false` disables the account.
pub fn replace(c: &mut DbConn, client: i64, id: i64, p: &Person) -> AppResult<Provisioned> {
    let (user_name, email) = check(p)?;
    let current = get(c, client, id)?;
    db::write(c, |c| {
        let taken: i64 = scim_users::table
            .filter(scim_users::user_key.eq(user_key(&user_name)))
            .filter(scim_users::user_id.ne(id))
            .count()
            .get_result(c)?;
        if taken > 0 {
            return Err(AppError::conflict("scim_uniqueness"));
        }
        diesel::update(scim_users::table.find(id))
            .set((
                scim_users::user_name.eq(&user_name),
                scim_users::user_key.eq(user_key(&user_name)),
                scim_users::external_id.eq(p.external_id.trim()),
                scim_users::given_name.eq(super::clean_field(&p.given_name)),
                scim_users::family_name.eq(super::clean_field(&p.family_name)),
                scim_users::updated_at.eq(now()),
            ))
            .execute(c)?;
        // A leaver whose profile was anonymised stays so while inactive.
        if !super::leavers::anonymised(c, id)? || p.active {
            super::from_directory(c, &current.user, &directory(p, &email))?;
        }
        set_manager(c, client, id, p.manager.as_deref())?;
        set_active(c, id, p.active, true)?;
        Ok::<_, AppError>(())
    })?;
    get(c, client, id)
}

/// Keeps whom `id` reports to (inside a write): another user of the same
/// client, or none (a manager this client did not provision, or not yet,
/// is none until it is).
fn set_manager(c: &mut DbConn, client: i64, id: i64, manager: Option<&str>) -> AppResult<()> {
    let wanted = manager
        .and_then(|m| m.trim().parse::<i64>().ok())
        .filter(|m| *m != id);
    let manager = match wanted {
        Some(m) => provisioned_among(c, client, &[m])?.first().copied(),
        None => None,
    };
    diesel::update(scim_users::table.find(id))
        .set(scim_users::manager_id.eq(manager))
        .execute(c)?;
    Ok(())
}

/// Whom `user` reports to as a SCIM client said: their manager's account,
/// when enabled.
pub fn manager_of(c: &mut DbConn, user: i64) -> AppResult<Option<i64>> {
    let manager: Option<Option<i64>> = scim_users::table
        .find(user)
        .select(scim_users::manager_id)
        .first(c)
        .optional()?;
    let Some(manager) = manager.flatten() else {
        return Ok(None);
    };
    Ok(users::table
        .find(manager)
        .filter(users::disabled.eq(false))
        .filter(users::deleted_at.is_null())
        .select(users::id)
        .first(c)
        .optional()?)
}

/// The enabled people who report to `user` as a SCIM client said (at most
/// 100).
pub fn reports_of(c: &mut DbConn, user: i64) -> AppResult<Vec<i64>> {
    Ok(scim_users::table
        .inner_join(users::table)
        .filter(scim_users::manager_id.eq(user))
        .filter(users::disabled.eq(false))
        .filter(users::deleted_at.is_null())
        .order(users::username.asc())
        .limit(100)
        .select(users::id)
        .load(c)?)
}

/// What the client says of whether the provisioned account `id` is active,
/// inside a write transaction: inactive disables it and remembers SCIM
/// did (a leaver, when it was `leaving` an active account rather than
/// being made inactive); active enables it again only when SCIM had
/// disabled it.
fn set_active(c: &mut DbConn, id: i64, active: bool, leaving: bool) -> AppResult<()> {
    let (disabled, by_scim): (bool, bool) = users::table
        .inner_join(scim_users::table)
        .filter(users::id.eq(id))
        .select((users::disabled, scim_users::disabled_by_scim))
        .first(c)?;
    match (active, disabled) {
        (false, false) => {
            super::disable_in(c, id, true)?;
            if leaving {
                super::leavers::record(c, id)?;
            }
            diesel::update(scim_users::table.find(id))
                .set(scim_users::disabled_by_scim.eq(true))
                .execute(c)?;
        }
        (true, true) if by_scim => {
            super::disable_in(c, id, false)?;
            super::leavers::back(c, id)?;
            diesel::update(scim_users::table.find(id))
                .set(scim_users::disabled_by_scim.eq(false))
                .execute(c)?;
        }
        // Already so, or disabled by an administrator: left as it is.
        _ => {}
    }
    Ok(())
}

/// Deletes a provisioned user: the account is disabled (a leaver) and no
/// longer provisioned.
pub fn remove(c: &mut DbConn, client: i64, id: i64) -> AppResult<()> {
    get(c, client, id)?;
    db::write(c, |c| {
        super::disable_in(c, id, true)?;
        super::leavers::record(c, id)?;
        diesel::delete(scim_users::table.find(id)).execute(c)?;
        Ok(())
    })
}
