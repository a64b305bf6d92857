//! Membership: join (open, on request, by invitation), leave, invitations,
//! approvals, removals, bans and roles. Each moderation act is logged. What
//! other instances ask of membership is in `membership_remote`.
//!
//! Statuses: `member`, `pending` (asked to join), `invited`, `banned`. For a
//! community of another instance, a local person's row stays `pending` until
//! the community answers their Follow with Accept.

pub mod by_email;
mod writes;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use writes::accept_row;
pub use writes::set_follow_id;
pub(super) use writes::{delete_row, notify_moderators, notify_one, upsert, withdraw_if_no_member};

use super::{get, log_act, Community, JoinPolicy};
use crate::accounts::User;
use crate::db::schema::{community_members, guests, users};
use crate::db::{self, DbConn};
use crate::error::{AppError, AppResult};
use crate::events::{self, Event};
use crate::people::PersonSummary;

/// Most members shown on one page of the members list.
pub const MEMBERS_PAGE: i64 = 200;

pub fn require_moderator(c: &Community, actor: &User) -> AppResult<()> {
    if c.moderated_by(actor) {
        Ok(())
    } else {
        Err(AppError::forbidden("community_moderators_only"))
    }
}

/// A person's (status, role) in a community, if they have a row there.
pub fn status_of(
    conn: &mut DbConn,
    community: i64,
    user: i64,
) -> AppResult<Option<(String, String)>> {
    community_members::table
        .filter(community_members::community_id.eq(community))
        .filter(community_members::user_id.eq(user))
        .select((community_members::status, community_members::role))
        .first(conn)
        .optional()
        .map_err(AppError::from)
}

/// What joining did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Joined {
    /// Now a member.
    Member,
    /// Waiting for a moderator (or for the community's instance to answer).
    Pending,
}

/// A local person asks to join (or accepts an invitation).
pub fn join(conn: &mut DbConn, user: &User, name: &str) -> AppResult<Joined> {
    let c = get(conn, user.id, name)?;
    let status = c.my_status.clone();
    match status.as_deref() {
        Some("member") => return Ok(Joined::Member),
        Some("pending") => return Ok(Joined::Pending),
        Some("banned") => return Err(AppError::forbidden("community_banned")),
        _ => {}
    }
    if !c.is_local() {
        // Ask the community's instance; it answers with Accept or Reject.
        db::write(conn, |cx| {
            upsert(cx, c.id, user.id, "pending", "member", None::<String>)?;
            events::record(
                cx,
                Event::JoinRequested {
                    person: user.id,
                    community: c.id,
                },
            )?;
            Ok::<_, AppError>(())
        })?;
        return Ok(Joined::Pending);
    }
    let invited = status.as_deref() == Some("invited");
    let policy = JoinPolicy::parse(&c.join_policy)?;
    let outcome = decide(policy, invited)?;
    db::write(conn, |cx| {
        let st = if outcome == Joined::Member {
            "member"
        } else {
            "pending"
        };
        upsert(cx, c.id, user.id, st, "member", None::<String>)?;
        if outcome == Joined::Pending {
            notify_moderators(cx, c.id, "community_request", user.id)?;
        }
        Ok::<_, AppError>(())
    })?;
    Ok(outcome)
}

/// The rule of a join policy for someone who is or is not invited.
pub fn decide(policy: JoinPolicy, invited: bool) -> AppResult<Joined> {
    match (policy, invited) {
        (_, true) | (JoinPolicy::Open, _) => Ok(Joined::Member),
        (JoinPolicy::Request, false) => Ok(Joined::Pending),
        (JoinPolicy::Invitation, false) => {
            Err(AppError::forbidden("community_invitation_required"))
        }
    }
}

/// Owners of a community who are members.
fn owner_count(conn: &mut DbConn, community: i64) -> AppResult<i64> {
    community_members::table
        .filter(community_members::community_id.eq(community))
        .filter(community_members::status.eq("member"))
        .filter(community_members::role.eq("owner"))
        .count()
        .get_result(conn)
        .map_err(AppError::from)
}

/// Leaves a community, withdraws a request, or declines an invitation.
pub fn leave(conn: &mut DbConn, user: &User, name: &str) -> AppResult<()> {
    let c = get(conn, user.id, name)?;
    match c.my_status.as_deref() {
        None => return Err(AppError::conflict("community_not_member")),
        Some("banned") => return Err(AppError::forbidden("community_banned")),
        _ => {}
    }
    if c.is_owner() && owner_count(conn, c.id)? <= 1 {
        return Err(AppError::conflict("community_last_owner"));
    }
    let follow: Option<Option<String>> = community_members::table
        .filter(community_members::community_id.eq(c.id))
        .filter(community_members::user_id.eq(user.id))
        .select(community_members::follow_ap_id)
        .first(conn)
        .optional()?;
    db::write(conn, |cx| {
        delete_row(cx, c.id, user.id)?;
        if !c.is_local() && c.is_member() {
            crate::accounts::remote::count_follower(cx, c.id, -1)?;
        }
        if !c.is_local() {
            events::record(
                cx,
                Event::Left {
                    person: user.id,
                    community: c.id,
                    follow_id: follow.flatten(),
                },
            )?;
        }
        Ok::<_, AppError>(())
    })
}

/// A person of this or another instance, by username.
fn person(conn: &mut DbConn, username: &str) -> AppResult<User> {
    let u = crate::accounts::find_by_username(conn, username)?;
    if !u.is_person() || u.deleted_at.is_some() {
        return Err(AppError::not_found());
    }
    Ok(u)
}

/// A moderation act on one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Act {
    Invite,
    Approve,
    Refuse,
    /// Removal from the community, with a reason.
    Remove(String),
    /// Removal that keeps them out, with a reason.
    Ban(String),
    Unban,
    Role(&'static str),
}

impl Act {
    /// An act as named by the pages and the API (`reason` and `role` are
    /// read where the act takes them).
    pub fn parse(action: &str, reason: &str, role: &str) -> AppResult<Act> {
        if reason.chars().count() > MAX_REASON {
            return Err(AppError::bad_request("reason_too_long").with("max", MAX_REASON));
        }
        Ok(match action {
            "invite" => Act::Invite,
            "approve" => Act::Approve,
            "refuse" => Act::Refuse,
            "remove" => Act::Remove(reason.trim().to_string()),
            "ban" => Act::Ban(reason.trim().to_string()),
            "unban" => Act::Unban,
            "role" => Act::Role(super::parse_role(role)?),
            _ => return Err(AppError::not_found()),
        })
    }

    /// Its name in the moderation log.
    pub fn name(&self) -> &'static str {
        match self {
            Act::Invite => "invite",
            Act::Approve => "approve",
            Act::Refuse => "refuse",
            Act::Remove(_) => "remove",
            Act::Ban(_) => "ban",
            Act::Unban => "unban",
            Act::Role(_) => "role",
        }
    }

    pub fn reason(&self) -> &str {
        match self {
            Act::Remove(r) | Act::Ban(r) => r,
            _ => "",
        }
    }
}

/// Longest reason given for a removal or a ban.
pub const MAX_REASON: usize = 500;

/// The rules of an act by a moderator (`owner`: an owner of the community,
/// or an administrator of the instance that hosts it) on a person whose
/// current (status, role) in the community is `target`. The hosting
/// instance applies them, and a moderator's own instance checks them first
/// against the list it fetched, so that a mistake is told at once.
pub fn check(act: &Act, owner: bool, is_self: bool, target: Option<(&str, &str)>) -> AppResult<()> {
    let status = target.map(|t| t.0);
    let role = target.map(|t| t.1).unwrap_or("member");
    match act {
        Act::Invite => match status {
            Some("member") => Err(AppError::conflict("community_already_member")),
            Some("banned") => Err(AppError::forbidden("community_banned")),
            _ => Ok(()),
        },
        Act::Approve if status != Some("pending") => {
            Err(AppError::conflict("community_no_request"))
        }
        Act::Unban if status != Some("banned") => Err(AppError::conflict("community_not_banned")),
        Act::Approve | Act::Unban => Ok(()),
        Act::Role(_) if !owner => Err(AppError::forbidden("community_owners_only")),
        Act::Role(_) if status != Some("member") => Err(AppError::conflict("community_not_member")),
        Act::Role(_) => Ok(()),
        Act::Refuse | Act::Remove(_) | Act::Ban(_) => {
            if status.is_none() && !matches!(act, Act::Ban(_)) {
                return Err(AppError::conflict("community_not_member"));
            }
            if *act == Act::Refuse && status != Some("pending") {
                return Err(AppError::conflict("community_no_request"));
            }
            if is_self {
                return Err(AppError::forbidden("community_not_yourself"));
            }
            // Moderators act on members; only owners act on moderators and owners.
            if role != "member" && !owner {
                return Err(AppError::forbidden("community_owners_only"));
            }
            Ok(())
        }
    }
}

/// A moderator of a community of this instance acts on a person (local or
/// remote); each act is logged, and a remote person's instance is told.
pub fn act(
    conn: &mut DbConn,
    actor: &User,
    name: &str,
    username: &str,
    act: &Act,
) -> AppResult<()> {
    let c = get(conn, actor.id, name)?;
    if !matches!(act, Act::Role(_)) {
        // Roles are the owners' business (checked with the rest below).
        require_moderator(&c, actor)?;
    }
    require_local(&c)?;
    let target = person(conn, username)?;
    let current = status_of(conn, c.id, target.id)?;
    let owner = c.is_owner() || actor.is_admin;
    check(
        act,
        owner,
        target.id == actor.id,
        current.as_ref().map(|(s, r)| (s.as_str(), r.as_str())),
    )?;
    // A guest takes part; they do not moderate (a moderator sees the
    // whole roster, invites and renews guests).
    if matches!(act, Act::Role(r) if *r != "member") && crate::audience::confined(conn, target.id)?
    {
        return Err(AppError::forbidden("guest_cannot_moderate"));
    }
    if let (Act::Role(role), Some((_, was))) = (act, &current) {
        if was == "owner" && *role != "owner" && owner_count(conn, c.id)? <= 1 {
            return Err(AppError::conflict("community_last_owner"));
        }
    }
    let status = current.map(|(s, _)| s);
    let follow: Option<String> = community_members::table
        .filter(community_members::community_id.eq(c.id))
        .filter(community_members::user_id.eq(target.id))
        .select(community_members::follow_ap_id)
        .first(conn)
        .optional()?
        .flatten();
    let detail = match act {
        Act::Role(role) => role.to_string(),
        other => other.reason().to_string(),
    };
    db::write(conn, |cx| {
        match act {
            Act::Invite => {
                // An invitation answers a pending request at once.
                if status.as_deref() == Some("pending") {
                    accept_row(cx, &c, &target, actor.id)?;
                } else {
                    upsert(cx, c.id, target.id, "invited", "member", None::<String>)?;
                    if target.is_local() {
                        notify_one(cx, target.id, "community_invite", actor.id, c.id)?;
                    } else {
                        events::record(
                            cx,
                            Event::Invited {
                                community: c.id,
                                person: target.id,
                            },
                        )?;
                    }
                }
            }
            Act::Approve => accept_row(cx, &c, &target, actor.id)?,
            Act::Unban => delete_row(cx, c.id, target.id)?,
            Act::Role(role) => {
                diesel::update(
                    community_members::table
                        .filter(community_members::community_id.eq(c.id))
                        .filter(community_members::user_id.eq(target.id)),
                )
                .set(community_members::role.eq(*role))
                .execute(cx)?;
                if !target.is_local() {
                    // Their instance shows them the controls of their role.
                    events::record(
                        cx,
                        Event::RoleGiven {
                            community: c.id,
                            person: target.id,
                            role: role.to_string(),
                        },
                    )?;
                }
            }
            Act::Refuse | Act::Remove(_) | Act::Ban(_) => {
                if matches!(act, Act::Ban(_)) {
                    upsert(cx, c.id, target.id, "banned", "member", None::<String>)?;
                    diesel::update(
                        community_members::table
                            .filter(community_members::community_id.eq(c.id))
                            .filter(community_members::user_id.eq(target.id)),
                    )
                    .set(community_members::role.eq("member"))
                    .execute(cx)?;
                } else {
                    delete_row(cx, c.id, target.id)?;
                }
                let was_in = matches!(status.as_deref(), Some("member" | "pending"));
                if !target.is_local() && was_in {
                    events::record(
                        cx,
                        Event::MemberRefused {
                            community: c.id,
                            person: target.id,
                            follow_id: follow.clone(),
                        },
                    )?;
                }
                withdraw_if_no_member(cx, c.id, target.domain.as_deref())?;
            }
        }
        log_act(
            cx,
            c.id,
            actor.id,
            act.name(),
            Some(target.id),
            None::<i64>,
            &detail,
        )?;
        Ok::<_, AppError>(())
    })
}

/// Moderation acts on people are applied by the community's own instance.
fn require_local(c: &Community) -> AppResult<()> {
    if c.is_local() {
        Ok(())
    } else {
        Err(AppError::bad_request("community_remote_moderation"))
    }
}

/// One member (or request, invitation, ban) of a community.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    pub person: PersonSummary,
    pub role: String,
    pub status: String,
    /// Host of a member of another instance.
    pub domain: Option<String>,
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub since: NaiveDateTime,
    /// Where their profile is: here, or on their own site for someone this
    /// instance does not know (a member of a community of another instance).
    #[serde(skip)]
    pub link: String,
    /// For a guest, until when their access lasts (shown to moderators).
    #[serde(serialize_with = "crate::db::utc::option")]
    pub guest_until: Option<NaiveDateTime>,
}

/// The members of a community wherever they live; moderators also see
/// requests, invitations and bans.
pub fn members(conn: &mut DbConn, viewer: &User, c: &Community) -> AppResult<Vec<Member>> {
    if !c.roster_visible_to(viewer) {
        return Err(AppError::forbidden("community_members_only"));
    }
    let all = c.moderated_by(viewer);
    Ok(listed(conn, c.id, all)?
        .into_iter()
        .map(|(m, _)| m)
        .collect())
}

/// The people of community `id` as stored here: its members, and with
/// `all` also requests, invitations and bans (at most [`MEMBERS_PAGE`]),
/// each with their actor address when they live on another instance.
pub fn listed(conn: &mut DbConn, id: i64, all: bool) -> AppResult<Vec<(Member, Option<String>)>> {
    let statuses: &[&str] = if all {
        &["member", "pending", "invited", "banned"]
    } else {
        &["member"]
    };
    type Row = (
        PersonSummary,
        String,
        String,
        Option<String>,
        NaiveDateTime,
        Option<String>,
    );
    let rows: Vec<Row> = community_members::table
        .inner_join(users::table.on(users::id.eq(community_members::user_id)))
        .filter(community_members::community_id.eq(id))
        .filter(community_members::status.eq_any(statuses))
        .filter(users::deleted_at.is_null())
        .order((community_members::status.desc(), users::username.asc()))
        .limit(MEMBERS_PAGE)
        .select((
            PersonSummary::as_select(),
            community_members::role,
            community_members::status,
            users::domain,
            community_members::created_at,
            users::ap_id,
        ))
        .load(conn)?;
    let guests: Vec<i64> = rows.iter().filter(|r| r.0.guest).map(|r| r.0.id).collect();
    let until: Vec<(i64, NaiveDateTime)> = match all && !guests.is_empty() {
        true => guests::table
            .filter(guests::user_id.eq_any(&guests))
            .select((guests::user_id, guests::expires_at))
            .load(conn)?,
        false => Vec::new(),
    };
    Ok(rows
        .into_iter()
        .map(|(person, role, status, domain, since, ap_id)| {
            let m = Member {
                link: format!("/people/{}", person.username),
                guest_until: until.iter().find(|u| u.0 == person.id).map(|u| u.1),
                person,
                role,
                status,
                domain,
                since,
            };
            (m, ap_id)
        })
        .collect())
}

#[cfg(test)]
mod tests;
