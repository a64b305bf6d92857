//! Invitations: one-time codes an administrator hands out, which let a
//! person sign up when sign-up is by invitation (or closed), until they
//! expire or are revoked. A community's moderator may send one by e-mail
//! too (see `communities::membership::invite_by_email`): signing up with
//! it makes the person a member of that community.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::{secrets, User};
use crate::config::AccountsConfig;
use crate::db::schema::{invitations, users};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult};
use crate::mails::{self, Mail, To};

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = invitations)]
pub struct Invitation {
    pub id: i64,
    #[serde(skip)]
    pub code_hash: String,
    pub created_by: Option<i64>,
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub expires_at: NaiveDateTime,
    pub used_by: Option<i64>,
    #[serde(serialize_with = "crate::db::utc::option")]
    pub used_at: Option<NaiveDateTime>,
    /// The community it invites to, when a moderator sent it from there.
    pub community_id: Option<i64>,
    /// Whether signing up with it makes a guest (`accounts::guest`).
    pub guest: bool,
}

/// Where an invitation is sent by e-mail, and in which language.
pub struct SendTo<'a> {
    pub address: &'a str,
    pub locale: &'a str,
    /// The community the invitation is to (a moderator's invitation).
    pub community: Option<i64>,
    /// Whether the newcomer is a guest (`accounts::guest`); only with a
    /// community.
    pub guest: bool,
}

/// Creates an invitation and returns its one-time code. With `send_to`
/// (and a `created_by`), the link is also e-mailed, in the same
/// transaction; an address that already has an account is refused.
pub fn create_invitation(
    conn: &mut DbConn,
    cfg: &AccountsConfig,
    created_by: Option<i64>,
    send_to: Option<SendTo<'_>>,
) -> AppResult<(Invitation, String)> {
    let code = secrets::random_token();
    let now = now();
    let community = send_to.as_ref().and_then(|t| t.community);
    let guest = community.is_some() && send_to.as_ref().is_some_and(|t| t.guest);
    let send_to = match send_to {
        Some(t) => Some((super::Email::parse(t.address)?, t.locale)),
        None => None,
    };
    let inv = db::write(conn, |c| {
        if let (Some((address, locale)), Some(by)) = (&send_to, created_by) {
            // An invitation into a community goes to any address (one with
            // an account here joins with it); one to the site does not.
            let taken: i64 = users::table
                .filter(users::email.eq(address.as_str()))
                .filter(users::domain.is_null())
                .count()
                .get_result(c)?;
            if taken > 0 && community.is_none() {
                return Err(AppError::conflict("email_taken"));
            }
            mails::record(
                c,
                To::Address {
                    address: address.as_str().to_string(),
                    locale: locale.to_string(),
                },
                &Mail::Invitation {
                    code: code.clone(),
                    by,
                },
            )?;
        }
        diesel::insert_into(invitations::table)
            .values((
                invitations::code_hash.eq(secrets::digest(&code)),
                invitations::created_by.eq(created_by),
                invitations::created_at.eq(now),
                invitations::expires_at.eq(now + Duration::days(cfg.invite_days as i64)),
                invitations::community_id.eq(community),
                invitations::guest.eq(guest),
            ))
            .returning(db::columns::<Invitation>())
            .get_result(c)
            .map_err(AppError::from)
    })?;
    Ok((inv, code))
}

pub fn list_invitations(conn: &mut DbConn) -> AppResult<Vec<Invitation>> {
    invitations::table
        .order(invitations::id.desc())
        .limit(200)
        .select(Invitation::as_select())
        .load(conn)
        .map_err(AppError::from)
}

impl Invitation {
    /// "open", "used" or "expired".
    pub fn status(&self, now: NaiveDateTime) -> &'static str {
        if self.used_by.is_some() {
            "used"
        } else if self.expires_at <= now {
            "expired"
        } else {
            "open"
        }
    }
}

/// Withdraws an unused invitation (it expires now).
pub fn revoke_invitation(conn: &mut DbConn, admin: &User, id: i64) -> AppResult<()> {
    if !admin.is_admin {
        return Err(AppError::forbidden("admin_only"));
    }
    let now = now();
    db::write(conn, |c| {
        let used: Option<Option<i64>> = invitations::table
            .find(id)
            .select(invitations::used_by)
            .first(c)
            .optional()?;
        match used {
            None => Err(AppError::not_found()),
            Some(Some(_)) => Err(AppError::conflict("invite_used")),
            Some(None) => {
                diesel::update(
                    invitations::table
                        .find(id)
                        .filter(invitations::expires_at.gt(now)),
                )
                .set(invitations::expires_at.eq(now))
                .execute(c)?;
                Ok(())
            }
        }
    })
}

/// An invitation that may still be used, as its e-mail tells it.
pub struct Open {
    pub until: NaiveDateTime,
    /// The community it invites to.
    pub community: Option<i64>,
    /// Whether it invites a guest.
    pub guest: bool,
}

/// The invitation of `code` while it may still be used; `None` when it is
/// unknown, used, revoked or expired (an e-mail waiting for it is then not
/// sent).
pub fn open_until(conn: &mut DbConn, code: &str) -> AppResult<Option<Open>> {
    let row: Option<(Option<i64>, NaiveDateTime, Option<i64>, bool)> = invitations::table
        .filter(invitations::code_hash.eq(secrets::digest(code)))
        .select((
            invitations::used_by,
            invitations::expires_at,
            invitations::community_id,
            invitations::guest,
        ))
        .first(conn)
        .optional()?;
    Ok(match row {
        Some((None, until, community, guest)) if until > now() => Some(Open {
            until,
            community,
            guest,
        }),
        _ => None,
    })
}

/// Whether `code` is an open invitation of a guest (it lets its newcomer
/// in whatever the sign-up mode).
pub fn is_guest(conn: &mut DbConn, code: &str) -> AppResult<bool> {
    Ok(open_until(conn, code)?.is_some_and(|o| o.guest))
}
