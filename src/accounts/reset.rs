//! "Forgot my password": single-use links, sent by e-mail, that let a
//! person choose a new password.
//!
//! Asking gives no hint whether an account exists: an unknown name or
//! address, a disabled account and a person asking too often all get the
//! same answer as a real request. Only the link's digest is stored; the
//! link works once, until it expires, and using it ends every session of
//! the account, revokes its API tokens and makes its other links useless.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::{secrets, User};
use crate::db::schema::{api_tokens, password_resets, sessions, users};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult};
use crate::mails::{self, Mail, To};

/// Links one account may be sent per hour when it asks itself; more
/// requests are answered the same way and send nothing.
const PER_HOUR: i64 = 3;

/// Who asks for the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AskedBy {
    /// The person, from the sign-in page: no hint, limited per hour.
    Themselves,
    /// An administrator, for them.
    Admin,
}

/// The local person a login (username or e-mail) names, if they may sign
/// in.
fn find_active(c: &mut DbConn, login: &str) -> AppResult<Option<User>> {
    let login = login.trim().to_lowercase();
    if login.is_empty() || login.len() > 254 {
        return Ok(None);
    }
    users::table
        .filter(users::username.eq(&login).or(users::email.eq(&login)))
        .filter(users::domain.is_null())
        .filter(users::actor_type.eq("person"))
        .filter(users::deleted_at.is_null())
        .filter(users::disabled.eq(false))
        .select(User::as_select())
        .first(c)
        .optional()
        .map_err(AppError::from)
}

/// Asks for a link for the account named by `login` (username or
/// e-mail), written in `locale` unless the person chose a language. Says
/// nothing of whether it was sent.
pub fn request(c: &mut DbConn, login: &str, minutes: u32, locale: &str) -> AppResult<()> {
    let Some(user) = find_active(c, login)? else {
        return Ok(());
    };
    issue(c, &user, minutes, locale, AskedBy::Themselves).map(|_| ())
}

/// Sends a link to `username` on an administrator's request.
pub fn request_for(
    c: &mut DbConn,
    admin: &User,
    username: &str,
    minutes: u32,
    locale: &str,
) -> AppResult<User> {
    if !admin.is_admin {
        return Err(AppError::forbidden("admin_only"));
    }
    let user: User = users::table
        .filter(users::username.eq(username.trim().to_lowercase()))
        .filter(users::domain.is_null())
        .filter(users::actor_type.eq("person"))
        .filter(users::deleted_at.is_null())
        .select(User::as_select())
        .first(c)
        .optional()?
        .ok_or_else(AppError::not_found)?;
    issue(c, &user, minutes, locale, AskedBy::Admin)?;
    Ok(user)
}

/// Stores a link's digest and queues the message in one transaction.
/// Returns whether a message was queued.
fn issue(c: &mut DbConn, user: &User, minutes: u32, locale: &str, by: AskedBy) -> AppResult<bool> {
    let token = secrets::random_token();
    let now = now();
    db::write(c, |c| {
        if by == AskedBy::Themselves {
            // Holds the account's row until the end of the transaction, so
            // that requests at once are counted one after the other
            // (PostgreSQL let a fourth through; SQLite writes one at a time).
            diesel::update(users::table.find(user.id))
                .set(users::id.eq(users::id))
                .execute(c)?;
            let recent: i64 = password_resets::table
                .filter(password_resets::user_id.eq(user.id))
                .filter(password_resets::created_at.gt(now - Duration::hours(1)))
                .count()
                .get_result(c)?;
            if recent >= PER_HOUR {
                return Ok(false);
            }
        }
        diesel::insert_into(password_resets::table)
            .values((
                password_resets::token_hash.eq(secrets::digest(&token)),
                password_resets::user_id.eq(user.id),
                password_resets::created_at.eq(now),
                password_resets::expires_at.eq(now + Duration::minutes(minutes as i64)),
            ))
            .execute(c)?;
        mails::record(
            c,
            To::Account {
                id: user.id,
                fallback_locale: locale.to_string(),
            },
            &Mail::PasswordReset { token },
        )?;
        Ok(true)
    })
}

/// Spends every open link of `user_id` (inside a write transaction): when
/// one is used, and when the account's address changes.
pub(crate) fn spend_all_in(c: &mut DbConn, user_id: i64) -> AppResult<()> {
    diesel::update(
        password_resets::table
            .filter(password_resets::user_id.eq(user_id))
            .filter(password_resets::used_at.is_null()),
    )
    .set(password_resets::used_at.eq(Some(now())))
    .execute(c)?;
    Ok(())
}

/// The account a link is for, while it may still be used (a page shows
/// the form; nothing changes).
pub fn check(c: &mut DbConn, token: &str) -> AppResult<User> {
    let user_id = valid_link(c, token, now())?;
    let user = super::find_by_id(c, user_id)?;
    if user.disabled || user.deleted_at.is_some() {
        return Err(invalid());
    }
    Ok(user)
}

/// Whether a link is still waiting to be used (the mail worker does not
/// send a link that expired or was used while the server was away).
pub fn is_usable(c: &mut DbConn, token: &str) -> AppResult<bool> {
    match valid_link(c, token, now()) {
        Ok(_) => Ok(true),
        Err(e) if e.code == "reset_link_invalid" => Ok(false),
        Err(e) => Err(e),
    }
}

fn invalid() -> AppError {
    AppError::forbidden("reset_link_invalid")
}

fn valid_link(c: &mut DbConn, token: &str, at: NaiveDateTime) -> AppResult<i64> {
    if token.is_empty() || token.len() > 100 {
        return Err(invalid());
    }
    password_resets::table
        .find(secrets::digest(token))
        .filter(password_resets::used_at.is_null())
        .filter(password_resets::expires_at.gt(at))
        .select(password_resets::user_id)
        .first(c)
        .optional()?
        .ok_or_else(invalid)
}

/// Sets a new password with a link: once, before it expires. Ends every
/// session of the account and spends its other links. Returns the account.
pub fn complete(c: &mut DbConn, token: &str, new_password: &str) -> AppResult<User> {
    let password = super::Password::parse(new_password)?;
    // Check first, so that a dead link does not cost a password hash.
    check(c, token)?;
    let hash = secrets::hash_password(password.as_str())?;
    let digest = secrets::digest(token);
    let now = now();
    let user_id = db::write(c, |c| {
        // Spend the link in the same statement that checks it, so that two
        // uses at once cannot both pass.
        let user_id: Option<i64> = diesel::update(
            password_resets::table
                .find(&digest)
                .filter(password_resets::used_at.is_null())
                .filter(password_resets::expires_at.gt(now)),
        )
        .set(password_resets::used_at.eq(Some(now)))
        .returning(password_resets::user_id)
        .get_result(c)
        .optional()?;
        let user_id = user_id.ok_or_else(invalid)?;
        spend_all_in(c, user_id)?;
        let email: String = diesel::update(users::table.find(user_id))
            .set(users::password_hash.eq(&hash))
            .returning(users::email)
            .get_result(c)?;
        // The link came to this address: it is proved.
        super::email::proved_in(c, user_id, &email)?;
        diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(c)?;
        // Whoever knew the old password may have made API tokens with it:
        // they stop working too (a voluntary change of password keeps them).
        diesel::update(
            api_tokens::table
                .filter(api_tokens::user_id.eq(user_id))
                .filter(api_tokens::revoked_at.is_null()),
        )
        .set(api_tokens::revoked_at.eq(Some(now)))
        .execute(c)?;
        Ok::<_, AppError>(user_id)
    })?;
    super::find_by_id(c, user_id)
}

/// Deletes links that expired more than a day ago (housekeeping).
pub fn purge(c: &mut DbConn) -> AppResult<usize> {
    let before = now() - Duration::days(1);
    db::write(c, |c| {
        diesel::delete(password_resets::table.filter(password_resets::expires_at.lt(before)))
            .execute(c)
    })
    .map_err(AppError::from)
}
