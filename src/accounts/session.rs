//! How a person stays signed in: browser sessions (a cookie whose digest
//! is stored, with its CSRF token) and personal API tokens (shown once,
//! stored as a digest, revocable).

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::{secrets, User};
use crate::config::AccountsConfig;
use crate::db::schema::{api_tokens, login_failures, sessions, users};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult};

pub struct NewSession {
    /// The cookie value; only its digest is stored.
    pub token: String,
    pub csrf: String,
}

pub fn create_session(conn: &mut DbConn, user_id: i64, days: u32) -> AppResult<NewSession> {
    let token = secrets::random_token();
    let csrf = secrets::random_token();
    let now = now();
    db::write(conn, |c| {
        diesel::insert_into(sessions::table)
            .values((
                sessions::id.eq(secrets::digest(&token)),
                sessions::user_id.eq(user_id),
                sessions::csrf_token.eq(&csrf),
                sessions::created_at.eq(now),
                sessions::expires_at.eq(now + Duration::days(days as i64)),
            ))
            .execute(c)
    })?;
    Ok(NewSession { token, csrf })
}

/// The user and CSRF token of a live session, if the cookie is valid.
pub fn lookup_session(conn: &mut DbConn, token: &str) -> AppResult<Option<(User, String)>> {
    let id = secrets::digest(token);
    let found: Option<(User, String)> = sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(&id))
        .filter(sessions::expires_at.gt(now()))
        .filter(users::disabled.eq(false))
        .filter(super::guest::access_open(now()))
        .select((User::as_select(), sessions::csrf_token))
        .first(conn)
        .optional()?;
    Ok(found)
}

/// When the session of `token` began (its sign-in), if it is one of
/// `user_id`'s and still open.
pub fn session_began(
    conn: &mut DbConn,
    token: &str,
    user_id: i64,
) -> AppResult<Option<NaiveDateTime>> {
    Ok(sessions::table
        .filter(sessions::id.eq(secrets::digest(token)))
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::expires_at.gt(now()))
        .select(sessions::created_at)
        .first(conn)
        .optional()?)
}

pub fn delete_session(conn: &mut DbConn, token: &str) -> AppResult<()> {
    let id = secrets::digest(token);
    db::write(conn, |c| {
        diesel::delete(sessions::table.find(&id)).execute(c)
    })?;
    Ok(())
}

/// Deletes expired sessions and sign-in failures older than the rate-limit
/// window; returns how many rows went. Run periodically by the server.
pub fn purge_expired(conn: &mut DbConn, cfg: &AccountsConfig) -> AppResult<usize> {
    let now = now();
    let window_start = now - Duration::minutes(cfg.failure_window_minutes as i64);
    db::write(conn, |c| {
        let a = diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(c)?;
        let b = diesel::delete(login_failures::table.filter(login_failures::at.le(window_start)))
            .execute(c)?;
        // Address links: used ones, and expired ones for an address that
        // is not the account's (an unconfirmed address keeps its own, which
        // say it is unconfirmed).
        use crate::db::schema::{email_checks, users};
        let used = diesel::delete(email_checks::table.filter(email_checks::used_at.is_not_null()))
            .execute(c)?;
        let stale = diesel::delete(
            email_checks::table
                .filter(email_checks::expires_at.le(now))
                .filter(diesel::dsl::not(diesel::dsl::exists(
                    users::table
                        .filter(users::id.eq(email_checks::user_id))
                        .filter(users::email.eq(email_checks::email)),
                ))),
        )
        .execute(c)?;
        Ok(a + b + used + stale)
    })
}

// ---- Personal API tokens --------------------------------------------------

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub id: i64,
    #[serde(skip)]
    pub user_id: i64,
    pub name: String,
    #[serde(skip)]
    pub token_hash: String,
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::db::utc::option")]
    pub last_used_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "crate::db::utc::option")]
    pub revoked_at: Option<NaiveDateTime>,
}

pub const TOKEN_PREFIX: &str = "ruche_";

/// Creates a token; the secret is returned once and only its digest stored.
pub fn create_token(conn: &mut DbConn, user_id: i64, name: &str) -> AppResult<(ApiToken, String)> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::bad_request("token_name").with("max", 100));
    }
    let secret = format!("{TOKEN_PREFIX}{}", secrets::random_token());
    let hash = secrets::digest(&secret);
    let token = db::write(conn, |c| {
        diesel::insert_into(api_tokens::table)
            .values((
                api_tokens::user_id.eq(user_id),
                api_tokens::name.eq(name),
                api_tokens::token_hash.eq(&hash),
                api_tokens::created_at.eq(now()),
            ))
            .returning(db::columns::<ApiToken>())
            .get_result(c)
    })?;
    Ok((token, secret))
}

pub fn list_tokens(conn: &mut DbConn, user_id: i64) -> AppResult<Vec<ApiToken>> {
    api_tokens::table
        .filter(api_tokens::user_id.eq(user_id))
        .order(api_tokens::id.desc())
        .select(ApiToken::as_select())
        .load(conn)
        .map_err(AppError::from)
}

pub fn revoke_token(conn: &mut DbConn, user_id: i64, token_id: i64) -> AppResult<()> {
    let n = db::write(conn, |c| {
        diesel::update(
            api_tokens::table
                .filter(api_tokens::id.eq(token_id))
                .filter(api_tokens::user_id.eq(user_id))
                .filter(api_tokens::revoked_at.is_null()),
        )
        .set(api_tokens::revoked_at.eq(now()))
        .execute(c)
    })?;
    if n == 0 {
        return Err(AppError::not_found());
    }
    Ok(())
}

/// The user a bearer token belongs to, if the token is live.
pub fn lookup_token(conn: &mut DbConn, secret: &str) -> AppResult<Option<User>> {
    if !secret.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let hash = secrets::digest(secret);
    let found: Option<(i64, Option<NaiveDateTime>, User)> = api_tokens::table
        .inner_join(users::table)
        .filter(api_tokens::token_hash.eq(&hash))
        .filter(api_tokens::revoked_at.is_null())
        .filter(users::disabled.eq(false))
        .filter(super::guest::access_open(now()))
        .select((api_tokens::id, api_tokens::last_used_at, User::as_select()))
        .first(conn)
        .optional()?;
    let Some((id, last_used, user)) = found else {
        return Ok(None);
    };
    let now = now();
    // Record use at most every five minutes, to keep reads free of writes.
    if last_used.is_none_or(|t| now - t > Duration::minutes(5)) {
        db::write(conn, |c| {
            diesel::update(api_tokens::table.find(id))
                .set(api_tokens::last_used_at.eq(now))
                .execute(c)
        })?;
    }
    Ok(Some(user))
}
