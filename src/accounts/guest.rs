//! Partner guests: people from outside the company whom a community's
//! moderator invited by e-mail *as guests*
//! (`communities::membership::by_email`). Signing up with such an
//! invitation makes a guest, whatever the sign-up mode: the invitation is
//! the permission.
//!
//! What a guest sees is decided with everyone else's, in `audience`: only
//! the communities they are members of and what is addressed to them by
//! name. What a guest may not do is refused here ([`refuse`]) by the
//! features that offer it: the people directory and people search, the
//! site's stream, following people, posting outside a community, making a
//! community. A guest's access lasts `accounts.guest_days`, until a
//! moderator (not a guest) of one of their communities or an
//! administrator renews it. A week before its end, the guest and whom
//! invited them are told by e-mail ([`remind_due`]). When it ends the
//! account is disabled as a leaver's is (sessions, tokens and e-mail
//! actions cut, other instances told), by [`expire_due`], and signing in,
//! the e-mail doors and the mail queue stop at the minute it ends
//! ([`access_open`], [`check_open`]). A guest never moderates.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::User;
use crate::config::AccountsConfig;
use crate::db::schema::{community_members, guests, users};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult};
use crate::mails::{self, Mail, To};

/// The name to show of someone: the display name, or the username.
fn shown(username: String, display: String) -> String {
    if display.trim().is_empty() {
        username
    } else {
        display
    }
}

/// The error a guest gets for what only the company's people may do.
pub fn not_for_guests() -> AppError {
    AppError::forbidden("guest_not_allowed")
}

/// Refuses a guest what only the company's people may do (see the
/// module's doc).
pub fn refuse(conn: &mut DbConn, user: i64) -> AppResult<()> {
    if crate::audience::confined(conn, user)? {
        return Err(not_for_guests());
    }
    Ok(())
}

/// Makes the new account `user` a guest, inside the sign-up's write
/// transaction.
pub(crate) fn record(
    c: &mut DbConn,
    cfg: &AccountsConfig,
    user: i64,
    invited_by: Option<i64>,
) -> AppResult<()> {
    let now = now();
    diesel::insert_into(guests::table)
        .values((
            guests::user_id.eq(user),
            guests::invited_by.eq(invited_by),
            guests::created_at.eq(now),
            guests::expires_at.eq(now + Duration::days(cfg.guest_days as i64)),
        ))
        .execute(c)?;
    Ok(())
}

/// Until when the guest `user`'s access lasts; `None` for the company's
/// people.
pub fn until(conn: &mut DbConn, user: i64) -> AppResult<Option<NaiveDateTime>> {
    Ok(guests::table
        .find(user)
        .select(guests::expires_at)
        .first(conn)
        .optional()?)
}

/// Whether the person is shown with the guest badge: a guest here, or a
/// person of another instance that says they are one there.
pub fn shown_as_guest(conn: &mut DbConn, user: i64) -> AppResult<bool> {
    use crate::db::schema::remote_guests;
    Ok(until(conn, user)?.is_some()
        || diesel::select(diesel::dsl::exists(
            remote_guests::table.filter(remote_guests::user_id.eq(user)),
        ))
        .get_result(conn)?)
}

/// A guest, as the admin console lists them.
#[derive(Debug, Clone, Serialize)]
pub struct Guest {
    pub username: String,
    pub display_name: String,
    pub email: String,
    /// Who invited them (name as shown), if still known.
    pub invited_by: Option<String>,
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub expires_at: NaiveDateTime,
    /// Whether their access has ended (expired, or an administrator
    /// disabled the account).
    pub ended: bool,
    /// The communities they are members of (names).
    pub communities: Vec<String>,
}

/// Guests, those whose access ends first first (administrators only).
pub fn list(conn: &mut DbConn, admin: &User) -> AppResult<Vec<Guest>> {
    if !admin.is_admin {
        return Err(AppError::forbidden("admin_only"));
    }
    type Row = (
        i64,
        String,
        String,
        String,
        bool,
        Option<i64>,
        NaiveDateTime,
        NaiveDateTime,
    );
    let rows: Vec<Row> = guests::table
        .inner_join(users::table.on(users::id.eq(guests::user_id)))
        .filter(users::deleted_at.is_null())
        .order((guests::expires_at.asc(), guests::user_id.asc()))
        .limit(500)
        .select((
            users::id,
            users::username,
            users::display_name,
            users::email,
            users::disabled,
            guests::invited_by,
            guests::created_at,
            guests::expires_at,
        ))
        .load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let inviters: Vec<i64> = rows.iter().filter_map(|r| r.5).collect();
    let names: Vec<(i64, String, String)> = users::table
        .filter(users::id.eq_any(&inviters))
        .select((users::id, users::username, users::display_name))
        .load(conn)?;
    let memberships: Vec<(i64, String)> = community_members::table
        .inner_join(users::table.on(users::id.eq(community_members::community_id)))
        .filter(community_members::user_id.eq_any(&ids))
        .filter(community_members::status.eq("member"))
        .filter(users::deleted_at.is_null())
        .order(users::username.asc())
        .select((community_members::user_id, users::username))
        .load(conn)?;
    let now = now();
    Ok(rows
        .into_iter()
        .map(
            |(id, username, display_name, email, disabled, by, created_at, expires_at)| Guest {
                username,
                display_name,
                email,
                invited_by: by.and_then(|by| {
                    names
                        .iter()
                        .find(|n| n.0 == by)
                        .map(|(_, u, d)| shown(u.clone(), d.clone()))
                }),
                created_at,
                expires_at,
                ended: disabled || expires_at <= now,
                communities: memberships
                    .iter()
                    .filter(|m| m.0 == id)
                    .map(|m| m.1.clone())
                    .collect(),
            },
        )
        .collect())
}

/// Whether `actor` may renew the guest `guest`: an administrator, or an
/// owner or moderator (not a guest) of a community the guest is a member
/// of.
fn may_renew(c: &mut DbConn, actor: &User, guest: i64) -> AppResult<bool> {
    if actor.is_admin {
        return Ok(true);
    }
    // Guests renew nobody, themselves included.
    if crate::audience::confined(c, actor.id)? {
        return Ok(false);
    }
    let theirs = crate::audience::communities_of(c, guest)?;
    let n: i64 = community_members::table
        .filter(community_members::user_id.eq(actor.id))
        .filter(community_members::status.eq("member"))
        .filter(community_members::role.eq_any(["owner", "moderator"]))
        .filter(community_members::community_id.eq_any(theirs))
        .count()
        .get_result(c)?;
    Ok(n > 0)
}

/// Renews the access of the guest `username` for `accounts.guest_days`
/// from now; an account their expiry had disabled is enabled again (not
/// one an administrator disabled). Returns the new end. Anyone else than
/// those who may renew (see [`may_renew`]) is told the guest does not
/// exist.
pub fn renew(
    conn: &mut DbConn,
    cfg: &AccountsConfig,
    actor: &User,
    username: &str,
) -> AppResult<NaiveDateTime> {
    let target = super::find_by_username(conn, username)?;
    if !target.is_local() || target.deleted_at.is_some() {
        return Err(AppError::not_found());
    }
    let until = now() + Duration::days(cfg.guest_days as i64);
    db::write(conn, |c| {
        let expired: Option<bool> = guests::table
            .find(target.id)
            .select(guests::expired)
            .first(c)
            .optional()?;
        let Some(expired) = expired else {
            return Err(AppError::not_found());
        };
        if !may_renew(c, actor, target.id)? {
            return Err(AppError::not_found());
        }
        diesel::update(guests::table.find(target.id))
            .set((
                guests::expires_at.eq(until),
                guests::expired.eq(false),
                guests::reminded.eq(false),
            ))
            .execute(c)?;
        if expired {
            super::disable_in(c, target.id, false)?;
        }
        Ok(until)
    })
}

/// How long before a guest's access ends they and whom invited them are
/// told: a week, or the last third of a shorter access.
fn reminder_ahead(cfg: &AccountsConfig) -> Duration {
    Duration::hours((cfg.guest_days as i64 * 24 / 3).min(7 * 24))
}

/// Tells the guests whose access ends soon, and whom invited each of them
/// (when still here), by e-mail, once per access; returns how many guests.
/// Run by the server's housekeeping. The messages are recorded with the
/// mark that they were, in one transaction.
pub fn remind_due(conn: &mut DbConn, cfg: &AccountsConfig) -> AppResult<usize> {
    let now = now();
    let enabled = users::table
        .filter(users::disabled.eq(false))
        .select(users::id);
    let due: Vec<(i64, Option<i64>)> = guests::table
        .filter(guests::reminded.eq(false))
        .filter(guests::expires_at.gt(now))
        .filter(guests::expires_at.le(now + reminder_ahead(cfg)))
        .filter(guests::user_id.eq_any(enabled))
        .select((guests::user_id, guests::invited_by))
        .limit(500)
        .load(conn)?;
    for (guest, by) in &due {
        db::write(conn, |c| {
            let taken =
                diesel::update(guests::table.find(guest).filter(guests::reminded.eq(false)))
                    .set(guests::reminded.eq(true))
                    .execute(c)?;
            if taken == 0 {
                return Ok::<(), AppError>(());
            }
            let mail = Mail::GuestEnding { guest: *guest };
            mails::record(
                c,
                To::Account {
                    id: *guest,
                    fallback_locale: "en".into(),
                },
                &mail,
            )?;
            let inviter_here: Option<i64> = match by {
                Some(by) => users::table
                    .find(by)
                    .filter(users::disabled.eq(false))
                    .filter(users::deleted_at.is_null())
                    .select(users::id)
                    .first(c)
                    .optional()?,
                None => None,
            };
            if let Some(by) = inviter_here {
                mails::record(
                    c,
                    To::Account {
                        id: by,
                        fallback_locale: "en".into(),
                    },
                    &mail,
                )?;
            }
            Ok(())
        })?;
    }
    Ok(due.len())
}

/// What a message about the end of a guest's access says, read when it
/// leaves: `None` when it has no reason to go any more (renewed, ended,
/// gone).
#[derive(Debug, Clone)]
pub struct Ending {
    /// The guest's name as shown.
    pub guest: String,
    pub until: NaiveDateTime,
    /// Who invited them (name as shown), and a community of theirs where
    /// that person may renew them.
    pub inviter: String,
    pub community: Option<String>,
}

/// See [`Ending`].
pub fn ending(conn: &mut DbConn, cfg: &AccountsConfig, guest: i64) -> AppResult<Option<Ending>> {
    let row: Option<(NaiveDateTime, Option<i64>, String, String, bool)> = guests::table
        .inner_join(users::table.on(users::id.eq(guests::user_id)))
        .filter(guests::user_id.eq(guest))
        .select((
            guests::expires_at,
            guests::invited_by,
            users::username,
            users::display_name,
            users::disabled,
        ))
        .first(conn)
        .optional()?;
    let Some((until, by, username, display, disabled)) = row else {
        return Ok(None);
    };
    let now = now();
    if disabled || until <= now || until > now + reminder_ahead(cfg) {
        return Ok(None);
    }
    let (inviter, community) = match by {
        Some(by) => {
            // Named only while still here to renew.
            let name: Option<(String, String)> = users::table
                .find(by)
                .filter(users::disabled.eq(false))
                .filter(users::deleted_at.is_null())
                .select((users::username, users::display_name))
                .first(conn)
                .optional()?;
            let theirs = crate::audience::communities_of(conn, guest)?;
            let community: Option<String> = community_members::table
                .inner_join(users::table.on(users::id.eq(community_members::community_id)))
                .filter(community_members::user_id.eq(by))
                .filter(community_members::status.eq("member"))
                .filter(community_members::role.eq_any(["owner", "moderator"]))
                .filter(community_members::community_id.eq_any(theirs))
                .filter(users::domain.is_null())
                .select(users::username)
                .first(conn)
                .optional()?;
            (
                name.map(|(u, d)| shown(u, d)).unwrap_or_default(),
                community,
            )
        }
        None => (String::new(), None),
    };
    Ok(Some(Ending {
        guest: shown(username, display),
        until,
        inviter,
        community,
    }))
}

/// Ends the access of the guests whose time is over: their accounts are
/// disabled as a leaver's (see `accounts::disable_in`). Returns how many.
/// Run by the server's housekeeping. An account an administrator disabled
/// is left as it is (renewing it then does not enable it).
pub fn expire_due(conn: &mut DbConn) -> AppResult<usize> {
    let enabled = users::table
        .filter(users::disabled.eq(false))
        .select(users::id);
    let due: Vec<i64> = guests::table
        .filter(guests::expires_at.le(now()))
        .filter(guests::user_id.eq_any(enabled))
        .select(guests::user_id)
        .limit(1000)
        .load(conn)?;
    for id in &due {
        db::write(conn, |c| {
            // Renewed or disabled meanwhile: left alone.
            let enabled = users::table
                .filter(users::disabled.eq(false))
                .select(users::id);
            let taken = diesel::update(
                guests::table
                    .find(id)
                    .filter(guests::expires_at.le(now()))
                    .filter(guests::user_id.eq_any(enabled)),
            )
            .set(guests::expired.eq(true))
            .execute(c)?;
            if taken == 1 {
                super::disable_in(c, *id, true)?;
            }
            Ok::<(), AppError>(())
        })?;
    }
    Ok(due.len())
}

/// SQL condition on `users`: not a guest whose access has ended (what the
/// housekeeping has not disabled yet is refused all the same).
#[diesel::dsl::auto_type]
pub(crate) fn access_open(now: NaiveDateTime) -> _ {
    diesel::dsl::not(diesel::dsl::exists(
        guests::table
            .filter(guests::user_id.eq(users::id))
            .filter(guests::expires_at.le(now)),
    ))
}

/// Refuses a guest whose access has ended: at sign-in, at the e-mail
/// doors (one-click actions, replies), and when an administrator would
/// enable the account instead of renewing it.
pub fn check_open(conn: &mut DbConn, user: i64) -> AppResult<()> {
    match until(conn, user)? {
        Some(end) if end <= now() => Err(AppError::forbidden("guest_expired")),
        _ => Ok(()),
    }
}
