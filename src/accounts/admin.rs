//! The administrators' view of accounts: people found by name, e-mail or
//! status, page by page, and who administers the site.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::{find_by_id, find_by_username, User};
use crate::config::SignupMode;
use crate::db::schema::users;
use crate::db::{self, lower, DbConn};
use crate::error::{AppError, AppResult};
use crate::settings;

/// Accounts per page of the administrators' list.
pub const PAGE_SIZE: i64 = 50;

/// Which accounts the list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Show {
    /// The people of this site.
    All,
    Admins,
    Disabled,
    /// People of other instances known here.
    Remote,
}

impl Show {
    pub const ALL: [Show; 4] = [Show::All, Show::Admins, Show::Disabled, Show::Remote];

    pub fn parse(s: &str) -> AppResult<Show> {
        match s.trim() {
            "" | "all" => Ok(Show::All),
            "admins" => Ok(Show::Admins),
            "disabled" => Ok(Show::Disabled),
            "remote" => Ok(Show::Remote),
            _ => Err(AppError::bad_request("field_invalid").with("field", "show")),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Show::All => "all",
            Show::Admins => "admins",
            Show::Disabled => "disabled",
            Show::Remote => "remote",
        }
    }
}

/// An account as administrators see it.
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    #[serde(flatten)]
    pub row: AccountRow,
    /// Whether its second sign-in step is on (an authenticator app or a
    /// passkey).
    pub second_step: bool,
}

impl std::ops::Deref for Account {
    type Target = AccountRow;
    fn deref(&self) -> &AccountRow {
        &self.row
    }
}

/// What the accounts' table says of an account.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = users)]
pub struct AccountRow {
    #[serde(skip)]
    pub id: i64,
    pub username: String,
    pub display_name: String,
    /// Empty for people of other instances.
    pub email: String,
    pub is_admin: bool,
    pub disabled: bool,
    /// The instance of a person of another site.
    pub domain: Option<String>,
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub created_at: NaiveDateTime,
}

fn require_admin(admin: &User) -> AppResult<()> {
    match admin.is_admin {
        true => Ok(()),
        false => Err(AppError::forbidden("admin_only")),
    }
}

/// A page of accounts, by username after `after`, matching `q` in the
/// username, the name or the e-mail (case-insensitive), one more than a page
/// when there is a next one.
pub fn search(
    conn: &mut DbConn,
    admin: &User,
    q: &str,
    show: Show,
    after: Option<&str>,
) -> AppResult<Vec<Account>> {
    require_admin(admin)?;
    let after = after.unwrap_or("").to_string();
    let mut query = users::table
        .filter(users::actor_type.eq("person"))
        .filter(users::deleted_at.is_null())
        .filter(users::username.gt(after))
        .into_boxed();
    query = match show {
        Show::Remote => query.filter(users::domain.is_not_null()),
        Show::All => query.filter(users::domain.is_null()),
        Show::Admins => query
            .filter(users::domain.is_null())
            .filter(users::is_admin.eq(true)),
        Show::Disabled => query
            .filter(users::domain.is_null())
            .filter(users::disabled.eq(true)),
    };
    let q = q.trim();
    if !q.is_empty() {
        let p = db::like_pattern(q);
        query = query.filter(
            lower(users::username)
                .like(p.clone())
                .escape('\\')
                .or(lower(users::display_name).like(p.clone()).escape('\\'))
                .or(lower(users::email).like(p).escape('\\')),
        );
    }
    let mut rows: Vec<AccountRow> = query
        .order(users::username.asc())
        .limit(PAGE_SIZE + 1)
        .select(AccountRow::as_select())
        .load(conn)?;
    for r in rows.iter_mut().filter(|r| r.domain.is_some()) {
        // A remote row keeps a placeholder address; it is nobody's e-mail.
        r.email.clear();
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let on = super::second_factor::on_among(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|row| Account {
            second_step: on.contains(&row.id),
            row,
        })
        .collect())
}

/// Makes someone of this site an administrator, or no longer one. The
/// last administrator stays one: the site would have nobody to run it.
pub fn set_admin(
    conn: &mut DbConn,
    admin: &User,
    username: &str,
    is_admin: bool,
) -> AppResult<User> {
    require_admin(admin)?;
    let target = find_by_username(conn, username)?;
    if !target.is_local() || target.deleted_at.is_some() || !target.is_person() {
        return Err(AppError::not_found());
    }
    db::write(conn, |c| {
        if !is_admin && target.is_admin {
            refuse_last_admin(c, target.id)?;
        }
        diesel::update(users::table.find(target.id))
            .set(users::is_admin.eq(is_admin))
            .execute(c)?;
        Ok::<_, AppError>(())
    })?;
    find_by_id(conn, target.id)
}

/// Inside a write that would take `leaving`'s administration away (a
/// demotion, a disabling, a deletion): `last_admin` when no other enabled
/// administrator would be left. The enabled administrators' rows are held
/// first, until the end of the transaction, so that two administrators
/// removing each other at once are counted one after the other (PostgreSQL
/// let both count two; SQLite writes one at a time).
pub(crate) fn refuse_last_admin(c: &mut DbConn, leaving: i64) -> AppResult<()> {
    let enabled_admins = || {
        users::table
            .filter(users::domain.is_null())
            .filter(users::deleted_at.is_null())
            .filter(users::disabled.eq(false))
            .filter(users::is_admin.eq(true))
    };
    diesel::update(enabled_admins())
        .set(users::id.eq(users::id))
        .execute(c)?;
    let others: i64 = enabled_admins()
        .filter(users::id.ne(leaving))
        .count()
        .get_result(c)?;
    match others {
        0 => Err(AppError::conflict("last_admin")),
        _ => Ok(()),
    }
}

/// The longest name of an instance.
pub const MAX_SITE_NAME: usize = 60;

/// What administrators set for the whole site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Site {
    pub name: String,
    /// `open`, `invite` or `closed`.
    pub signup: &'static str,
}

/// The site's settings: as administrators set them, else as configured.
pub fn site(conn: &mut DbConn, default_name: &str, default_signup: SignupMode) -> AppResult<Site> {
    Ok(Site {
        name: settings::instance_name(conn, default_name)?,
        signup: settings::signup_str(settings::signup_mode(conn, default_signup)?),
    })
}

/// Changes the site's name or sign-up mode (`None` leaves one as it is).
/// Both are checked before either is stored.
pub fn set_site(
    conn: &mut DbConn,
    admin: &User,
    name: Option<&str>,
    signup: Option<&str>,
) -> AppResult<()> {
    require_admin(admin)?;
    if name.is_some_and(|n| n.chars().count() > MAX_SITE_NAME) {
        return Err(AppError::bad_request("field_too_long")
            .with("field", "name")
            .with("max", MAX_SITE_NAME));
    }
    let name = match name.map(str::trim) {
        None => None,
        Some("") => return Err(AppError::bad_request("field_missing").with("field", "name")),
        Some(n) if n.chars().count() > MAX_SITE_NAME => {
            return Err(AppError::bad_request("field_too_long")
                .with("field", "name")
                .with("max", MAX_SITE_NAME))
        }
        Some(n) if n.chars().any(char::is_control) => {
            return Err(AppError::bad_request("field_invalid").with("field", "name"))
        }
        Some(n) => Some(n.to_string()),
    };
    let signup = match signup {
        None => None,
        Some(s) => Some(
            settings::parse_signup(s)
                .ok_or_else(|| AppError::bad_request("field_invalid").with("field", "signup"))?,
        ),
    };
    if let Some(n) = name {
        settings::put(conn, settings::INSTANCE_NAME, &n)?;
    }
    if let Some(s) = signup {
        settings::put(conn, settings::SIGNUP_MODE, settings::signup_str(s))?;
    }
    Ok(())
}
