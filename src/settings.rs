//! Site-wide settings an administrator changes from the pages (the
//! instance's name, the sign-up mode), kept in the database so that every
//! process of a site reads the same; the configuration file gives their
//! values until an administrator sets them. Which values are valid is the
//! accounts feature's rule (`accounts::admin::set_site`).

use diesel::prelude::*;

use crate::config::SignupMode;
use crate::db::schema::settings;
use crate::db::{self, DbConn};
use crate::error::{AppError, AppResult};

pub const INSTANCE_NAME: &str = "site_name";
pub const SIGNUP_MODE: &str = "site_signup";

pub fn get(conn: &mut DbConn, key: &str) -> AppResult<Option<String>> {
    settings::table
        .find(key)
        .select(settings::value)
        .first(conn)
        .optional()
        .map_err(AppError::from)
}

pub fn put(conn: &mut DbConn, key: &str, value: &str) -> AppResult<()> {
    db::write(conn, |c| {
        let changed = diesel::update(settings::table.find(key))
            .set(settings::value.eq(value))
            .execute(c)?;
        if changed == 0 {
            diesel::insert_into(settings::table)
                .values((settings::name.eq(key), settings::value.eq(value)))
                .execute(c)?;
        }
        Ok::<_, AppError>(())
    })
}

pub fn parse_signup(s: &str) -> Option<SignupMode> {
    match s.trim() {
        "open" => Some(SignupMode::Open),
        "invite" => Some(SignupMode::Invite),
        "closed" => Some(SignupMode::Closed),
        _ => None,
    }
}

pub fn signup_str(mode: SignupMode) -> &'static str {
    match mode {
        SignupMode::Open => "open",
        SignupMode::Invite => "invite",
        SignupMode::Closed => "closed",
    }
}

/// The sign-up mode: as an administrator set it, else `default`.
pub fn signup_mode(conn: &mut DbConn, default: SignupMode) -> AppResult<SignupMode> {
    Ok(get(conn, SIGNUP_MODE)?
        .as_deref()
        .and_then(parse_signup)
        .unwrap_or(default))
}

/// The instance's name: as an administrator set it, else `default`.
pub fn instance_name(conn: &mut DbConn, default: &str) -> AppResult<String> {
    Ok(get(conn, INSTANCE_NAME)?.unwrap_or_else(|| default.to_string()))
}
