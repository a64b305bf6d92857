//! Invitations into a community sent by e-mail.
//!
//! A moderator gives an address; whoever it belongs to receives the same
//! e-mail with a one-time link (`/invitations/{code}`, the code of an
//! `invitations` row bound to the community): a person who has an account
//! here signs in and joins with one button; anyone else creates an account
//! with it and is a member from the start (when the site lets newcomers
//! in: sign-up open, or by invitation and the inviter is an
//! administrator). The moderator is told the same thing for every
//! address, so inviting tells nothing of who has an account, and nobody
//! appears among the members before accepting.
//!
//! A link works once, until the invitation expires, and only while its
//! inviter is still a moderator of the community (or an administrator).
//!
//! An invitation *as a guest* is for a partner: whoever has no account
//! creates one with it whatever the sign-up mode, and is a guest
//! (`accounts::guest`), who sees this community and no more. A person who
//! already has an account joins with it as with any invitation. Guests do
//! not invite anyone.

use chrono::Duration;
use diesel::prelude::*;
use serde::Serialize;

use super::super::{get, log_act};
use super::{require_moderator, upsert};
use crate::accounts::{secrets, User};
use crate::config::{AccountsConfig, SignupMode};
use crate::db::schema::{community_members, invitations, users};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult, ErrorKind};

/// Invitations one person may send by e-mail in an hour.
const PER_HOUR: i64 = 30;

/// A moderator invites an e-mail address to a local community (see the
/// module's doc). Says nothing of whether the address has an account.
pub fn invite(
    conn: &mut DbConn,
    cfg: &AccountsConfig,
    actor: &User,
    name: &str,
    address: &str,
    locale: &str,
    guest: bool,
) -> AppResult<()> {
    let c = get(conn, actor.id, name)?;
    require_moderator(&c, actor)?;
    crate::accounts::guest::refuse(conn, actor.id)?;
    if guest && !cfg.guests {
        return Err(AppError::forbidden("guests_off"));
    }
    if !c.is_local() {
        return Err(AppError::bad_request("invite_email_local_only"));
    }
    let address = crate::accounts::Email::parse(address)?;
    let sent: i64 = invitations::table
        .filter(invitations::created_by.eq(actor.id))
        .filter(invitations::community_id.is_not_null())
        .filter(invitations::created_at.gt(now() - Duration::hours(1)))
        .count()
        .get_result(conn)?;
    if sent >= PER_HOUR {
        return Err(AppError::new(
            ErrorKind::RateLimited,
            "invite_email_too_many",
        ));
    }
    crate::accounts::create_invitation(
        conn,
        cfg,
        Some(actor.id),
        Some(crate::accounts::invitation::SendTo {
            address: address.as_str(),
            locale,
            community: Some(c.id),
            guest,
        }),
    )?;
    Ok(())
}

/// Whether `by` may still bring people into `community`: one of its
/// owners or moderators, or an administrator of this site.
fn inviter_may(c: &mut DbConn, by: Option<i64>, community: i64) -> AppResult<bool> {
    let Some(by) = by else {
        return Ok(false);
    };
    let admin: Option<bool> = users::table
        .find(by)
        .filter(users::domain.is_null())
        .filter(users::deleted_at.is_null())
        .filter(users::disabled.eq(false))
        .select(users::is_admin)
        .first(c)
        .optional()?;
    match admin {
        None => Ok(false),
        Some(true) => Ok(true),
        Some(false) => {
            let n: i64 = community_members::table
                .filter(community_members::community_id.eq(community))
                .filter(community_members::user_id.eq(by))
                .filter(community_members::status.eq("member"))
                .filter(community_members::role.eq_any(["owner", "moderator"]))
                .count()
                .get_result(c)?;
            Ok(n > 0)
        }
    }
}

/// The local community `id`, if it still exists: (name, title).
fn alive(c: &mut DbConn, id: i64) -> AppResult<Option<(String, String)>> {
    users::table
        .find(id)
        .filter(users::actor_type.eq("group"))
        .filter(users::domain.is_null())
        .filter(users::deleted_at.is_null())
        .select((users::username, users::display_name))
        .first(c)
        .optional()
        .map_err(AppError::from)
}

/// Makes a person who just signed up with a community's invitation a
/// member of it, inside the sign-up's write transaction: when the
/// community still exists and the inviter may still invite (otherwise the
/// account is created all the same, outside the community).
pub fn join_on_signup(
    c: &mut DbConn,
    user_id: i64,
    invitation: Option<crate::accounts::UsedInvitation>,
) -> AppResult<()> {
    let Some(inv) = invitation else {
        return Ok(());
    };
    let Some(community) = inv.community else {
        return Ok(());
    };
    if alive(c, community)?.is_none() || !inviter_may(c, inv.by, community)? {
        // A guest's account exists only for the community: without it, no
        // account (the sign-up's transaction is undone).
        if inv.guest {
            return Err(invalid());
        }
        return Ok(());
    }
    upsert(c, community, user_id, "member", "member", None::<String>)?;
    log_act(c, community, user_id, "join_invited", inv.by, None, "")
}

/// What an invitation link offers, while it works.
#[derive(Debug, Clone, Serialize)]
pub struct Offer {
    /// The community's name and title.
    pub community: String,
    pub title: String,
    /// Who invites (their name as shown).
    pub inviter: String,
    /// Whether someone without an account may create one with it.
    pub sign_up: bool,
    /// Whether that account would be a guest's.
    pub guest: bool,
}

fn invalid() -> AppError {
    AppError::forbidden("invite_invalid")
}

/// The open invitation of `code` to a community.
struct Found {
    id: i64,
    community: i64,
    by: Option<i64>,
    guest: bool,
}

fn find(c: &mut DbConn, code: &str) -> AppResult<Found> {
    if code.is_empty() || code.len() > 100 {
        return Err(invalid());
    }
    let row: Option<(i64, Option<i64>, Option<i64>, bool)> = invitations::table
        .filter(invitations::code_hash.eq(secrets::digest(code)))
        .filter(invitations::used_by.is_null())
        .filter(invitations::expires_at.gt(now()))
        .select((
            invitations::id,
            invitations::community_id,
            invitations::created_by,
            invitations::guest,
        ))
        .first(c)
        .optional()?;
    match row {
        Some((id, Some(community), by, guest)) if inviter_may(c, by, community)? => Ok(Found {
            id,
            community,
            by,
            guest,
        }),
        _ => Err(invalid()),
    }
}

/// What the link of `code` offers (a page shows it; nothing changes).
pub fn offer(c: &mut DbConn, cfg: &AccountsConfig, code: &str) -> AppResult<Offer> {
    let Found {
        community,
        by,
        guest,
        ..
    } = find(c, code)?;
    let (name, title) = alive(c, community)?.ok_or_else(invalid)?;
    let inviter: Option<(String, String, bool)> = match by {
        Some(by) => users::table
            .find(by)
            .select((users::username, users::display_name, users::is_admin))
            .first(c)
            .optional()?,
        None => None,
    };
    let (inviter, admin) = match inviter {
        Some((u, d, admin)) if d.trim().is_empty() => (u, admin),
        Some((_, d, admin)) => (d, admin),
        None => (String::new(), false),
    };
    let sign_up = match crate::settings::signup_mode(c, cfg.signup)? {
        _ if guest => cfg.guests,
        SignupMode::Open => true,
        SignupMode::Invite => admin,
        SignupMode::Closed => false,
    };
    Ok(Offer {
        title: if title.trim().is_empty() {
            name.clone()
        } else {
            title
        },
        community: name,
        inviter,
        sign_up,
        guest,
    })
}

/// A signed-in person accepts the invitation of `code`: they become a
/// member (the link is spent). Returns the community's name.
pub fn accept(c: &mut DbConn, user: &User, code: &str) -> AppResult<String> {
    if !user.is_local() || !user.is_person() {
        return Err(AppError::forbidden("invite_invalid"));
    }
    db::write(c, |c| {
        let Found {
            id, community, by, ..
        } = find(c, code)?;
        let (name, _) = alive(c, community)?.ok_or_else(invalid)?;
        let status: Option<String> = community_members::table
            .filter(community_members::community_id.eq(community))
            .filter(community_members::user_id.eq(user.id))
            .select(community_members::status)
            .first(c)
            .optional()?;
        if status.as_deref() == Some("banned") {
            return Err(AppError::forbidden("community_banned"));
        }
        // Spent in the statement that checks it: two uses at once cannot
        // both pass.
        let spent = diesel::update(
            invitations::table
                .find(id)
                .filter(invitations::used_by.is_null()),
        )
        .set((
            invitations::used_by.eq(user.id),
            invitations::used_at.eq(Some(now())),
        ))
        .execute(c)?;
        if spent != 1 {
            return Err(invalid());
        }
        if status.as_deref() != Some("member") {
            upsert(c, community, user.id, "member", "member", None::<String>)?;
            log_act(c, community, user.id, "join_invited", by, None, "")?;
        }
        Ok(name)
    })
}
