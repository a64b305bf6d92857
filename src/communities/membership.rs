//! Membership: join (open, on request, by invitation), leave, invitations,
//! approvals, removals, bans and roles. Each moderation act is logged.
//!
//! Statuses: `member`, `pending` (asked to join), `invited`, `banned`. For a
//! community of another instance, a local person's row stays `pending` until
//! the community answers their Follow with Accept.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::{get, log, Community, JoinPolicy};
use crate::accounts::User;
use crate::db::schema::{community_members, deliveries, notifications, users};
use crate::db::{now, DbConn};
use crate::error::{AppError, AppResult};
use crate::federation::outbox;
use crate::people::PersonSummary;
use crate::{fed_event, with_conn, write_tx};

/// Most members shown on one page of the members list.
pub const MEMBERS_PAGE: i64 = 200;

pub fn require_moderator(c: &Community, actor: &User) -> AppResult<()> {
    if c.is_moderator() || (actor.is_admin && c.is_local()) {
        Ok(())
    } else {
        Err(AppError::forbidden("community_moderators_only"))
    }
}

/// Notifies a community's local owners and moderators (inside a transaction).
macro_rules! notify_moderators {
    ($c:expr, $community:expr, $kind:expr, $actor:expr) => {{
        let mods: Vec<i64> = community_members::table
            .inner_join(users::table.on(users::id.eq(community_members::user_id)))
            .filter(community_members::community_id.eq($community))
            .filter(community_members::status.eq("member"))
            .filter(community_members::role.eq_any(["owner", "moderator"]))
            .filter(users::domain.is_null())
            .select(users::id)
            .load($c)?;
        for m in mods {
            notify_one!($c, m, $kind, $actor, $community);
        }
    }};
}

/// Notifies one local person about a community (inside a transaction).
macro_rules! notify_one {
    ($c:expr, $user:expr, $kind:expr, $actor:expr, $community:expr) => {{
        diesel::insert_into(notifications::table)
            .values((
                notifications::user_id.eq($user),
                notifications::kind.eq($kind),
                notifications::actor_id.eq($actor),
                notifications::community_id.eq(Some($community)),
                notifications::created_at.eq(now()),
            ))
            .execute($c)?;
    }};
}

/// Inserts or updates a membership row (inside a write transaction).
macro_rules! upsert {
    ($c:expr, $community:expr, $user:expr, $status:expr, $role:expr, $follow:expr) => {{
        let now = now();
        let follow: Option<String> = $follow;
        let n = diesel::update(
            community_members::table
                .filter(community_members::community_id.eq($community))
                .filter(community_members::user_id.eq($user)),
        )
        .set((
            community_members::status.eq($status),
            community_members::updated_at.eq(now),
        ))
        .execute($c)?;
        if n == 0 {
            diesel::insert_into(community_members::table)
                .values((
                    community_members::community_id.eq($community),
                    community_members::user_id.eq($user),
                    community_members::role.eq($role),
                    community_members::status.eq($status),
                    community_members::follow_ap_id.eq(&follow),
                    community_members::created_at.eq(now),
                    community_members::updated_at.eq(now),
                ))
                .execute($c)?;
        } else if follow.is_some() {
            diesel::update(
                community_members::table
                    .filter(community_members::community_id.eq($community))
                    .filter(community_members::user_id.eq($user)),
            )
            .set(community_members::follow_ap_id.eq(&follow))
            .execute($c)?;
        }
    }};
}

/// Deletes a membership row (inside a write transaction).
macro_rules! delete_row {
    ($c:expr, $community:expr, $user:expr) => {{
        diesel::delete(
            community_members::table
                .filter(community_members::community_id.eq($community))
                .filter(community_members::user_id.eq($user)),
        )
        .execute($c)?;
    }};
}

/// When an instance has no member left in a community of ours, its queued
/// deliveries of that community's content are withdrawn (inside a write
/// transaction): leaving or being banned stops delivery at once.
macro_rules! withdraw_if_no_member {
    ($c:expr, $community:expr, $domain:expr) => {{
        if let Some(domain) = $domain {
            let left: i64 = community_members::table
                .inner_join(users::table.on(users::id.eq(community_members::user_id)))
                .filter(community_members::community_id.eq($community))
                .filter(community_members::status.eq("member"))
                .filter(users::domain.eq(&domain))
                .count()
                .get_result($c)?;
            if left == 0 {
                diesel::delete(
                    deliveries::table
                        .filter(deliveries::community_id.eq($community))
                        .filter(deliveries::domain.eq(&domain))
                        .filter(deliveries::status.eq("pending")),
                )
                .execute($c)?;
            }
        }
    }};
}

/// Makes a pending row a member and tells a remote person's instance
/// (inside a write transaction).
macro_rules! accept_row {
    ($c:expr, $community:expr, $target:expr, $actor:expr) => {{
        let community: &Community = $community;
        let target: &User = $target;
        diesel::update(
            community_members::table
                .filter(community_members::community_id.eq(community.id))
                .filter(community_members::user_id.eq(target.id)),
        )
        .set((
            community_members::status.eq("member"),
            community_members::updated_at.eq(now()),
        ))
        .execute($c)?;
        if target.is_local() {
            notify_one!($c, target.id, "community_accepted", $actor, community.id);
        } else {
            let follow: Option<String> = community_members::table
                .filter(community_members::community_id.eq(community.id))
                .filter(community_members::user_id.eq(target.id))
                .select(community_members::follow_ap_id)
                .first($c)?;
            fed_event!(
                $c,
                outbox::MEMBER_ACCEPT,
                community.id,
                Some(target.id),
                follow.unwrap_or_default()
            )?;
        }
    }};
}

fn status_of(conn: &mut DbConn, community: i64, user: i64) -> AppResult<Option<(String, String)>> {
    with_conn!(conn, c => community_members::table
        .filter(community_members::community_id.eq(community))
        .filter(community_members::user_id.eq(user))
        .select((community_members::status, community_members::role))
        .first(c)
        .optional()
        .map_err(AppError::from))
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
        write_tx!(conn, cx => {
            upsert!(cx, c.id, user.id, "pending", "member", None::<String>);
            fed_event!(cx, outbox::JOIN, user.id, Some(c.id), "")?;
            Ok::<_, AppError>(())
        })?;
        return Ok(Joined::Pending);
    }
    let invited = status.as_deref() == Some("invited");
    let policy = JoinPolicy::parse(&c.join_policy)?;
    let outcome = decide(policy, invited)?;
    write_tx!(conn, cx => {
        let st = if outcome == Joined::Member { "member" } else { "pending" };
        upsert!(cx, c.id, user.id, st, "member", None::<String>);
        if outcome == Joined::Pending {
            notify_moderators!(cx, c.id, "community_request", user.id);
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
    with_conn!(conn, c => community_members::table
        .filter(community_members::community_id.eq(community))
        .filter(community_members::status.eq("member"))
        .filter(community_members::role.eq("owner"))
        .count()
        .get_result(c)
        .map_err(AppError::from))
}

/// Leaves a community, withdraws a request, or declines an invitation.
pub fn leave(conn: &mut DbConn, user: &User, name: &str) -> AppResult<()> {
    let c = get(conn, user.id, name)?;
    match c.my_status.as_deref() {
        None => return Err(AppError::bad_request("community_not_member")),
        Some("banned") => return Err(AppError::forbidden("community_banned")),
        _ => {}
    }
    if c.is_owner() && owner_count(conn, c.id)? <= 1 {
        return Err(AppError::conflict("community_last_owner"));
    }
    let follow: Option<Option<String>> = with_conn!(conn, cx => community_members::table
        .filter(community_members::community_id.eq(c.id))
        .filter(community_members::user_id.eq(user.id))
        .select(community_members::follow_ap_id)
        .first(cx)
        .optional())?;
    write_tx!(conn, cx => {
        delete_row!(cx, c.id, user.id);
        if !c.is_local() {
            fed_event!(cx, outbox::LEAVE, user.id, Some(c.id), follow.flatten().unwrap_or_default())?;
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

/// A moderator invites someone (local or remote).
pub fn invite(conn: &mut DbConn, actor: &User, name: &str, username: &str) -> AppResult<()> {
    let c = get(conn, actor.id, name)?;
    require_moderator(&c, actor)?;
    require_local(&c)?;
    let target = person(conn, username)?;
    match status_of(conn, c.id, target.id)?.map(|(s, _)| s).as_deref() {
        Some("member") => return Err(AppError::conflict("community_already_member")),
        Some("banned") => return Err(AppError::forbidden("community_banned")),
        _ => {}
    }
    write_tx!(conn, cx => {
        // An invitation answers a pending request at once.
        let pending: i64 = community_members::table
            .filter(community_members::community_id.eq(c.id))
            .filter(community_members::user_id.eq(target.id))
            .filter(community_members::status.eq("pending"))
            .count()
            .get_result(cx)?;
        if pending > 0 {
            accept_row!(cx, &c, &target, actor.id);
        } else {
            upsert!(cx, c.id, target.id, "invited", "member", None::<String>);
            if target.is_local() {
                notify_one!(cx, target.id, "community_invite", actor.id, c.id);
            } else {
                fed_event!(cx, outbox::INVITE, c.id, Some(target.id), "")?;
            }
        }
        log!(cx, c.id, actor.id, "invite", Some(target.id), None::<i64>, "");
        Ok::<_, AppError>(())
    })
}

/// Moderation acts only happen on the community's own instance.
fn require_local(c: &Community) -> AppResult<()> {
    if c.is_local() {
        Ok(())
    } else {
        Err(AppError::bad_request("community_remote_moderation"))
    }
}

/// A moderator approves a request to join.
pub fn approve(conn: &mut DbConn, actor: &User, name: &str, username: &str) -> AppResult<()> {
    let c = get(conn, actor.id, name)?;
    require_moderator(&c, actor)?;
    require_local(&c)?;
    let target = person(conn, username)?;
    if status_of(conn, c.id, target.id)?.map(|(s, _)| s).as_deref() != Some("pending") {
        return Err(AppError::bad_request("community_no_request"));
    }
    write_tx!(conn, cx => {
        accept_row!(cx, &c, &target, actor.id);
        log!(cx, c.id, actor.id, "approve", Some(target.id), None::<i64>, "");
        Ok::<_, AppError>(())
    })
}

/// Removes someone's membership, request or invitation; with `ban`, keeps
/// them out. A remote person's instance is told with Reject.
fn exclude(
    conn: &mut DbConn,
    actor: &User,
    name: &str,
    username: &str,
    action: &'static str,
    reason: &str,
) -> AppResult<()> {
    let c = get(conn, actor.id, name)?;
    require_moderator(&c, actor)?;
    require_local(&c)?;
    let target = person(conn, username)?;
    let current = status_of(conn, c.id, target.id)?;
    let (status, role) = match (&current, action) {
        (None, "ban") => (String::new(), "member".to_string()),
        (None, _) => return Err(AppError::bad_request("community_not_member")),
        (Some(s), _) => s.clone(),
    };
    if action == "refuse" && status != "pending" {
        return Err(AppError::bad_request("community_no_request"));
    }
    if target.id == actor.id {
        return Err(AppError::bad_request("community_not_yourself"));
    }
    // Moderators act on members; only owners act on moderators and owners.
    if role != "member" && !(c.is_owner() || actor.is_admin) {
        return Err(AppError::forbidden("community_owners_only"));
    }
    let follow: Option<String> = with_conn!(conn, cx => community_members::table
        .filter(community_members::community_id.eq(c.id))
        .filter(community_members::user_id.eq(target.id))
        .select(community_members::follow_ap_id)
        .first(cx)
        .optional())?
    .flatten();
    write_tx!(conn, cx => {
        if action == "ban" {
            upsert!(cx, c.id, target.id, "banned", "member", None::<String>);
            diesel::update(
                community_members::table
                    .filter(community_members::community_id.eq(c.id))
                    .filter(community_members::user_id.eq(target.id)),
            )
            .set(community_members::role.eq("member"))
            .execute(cx)?;
        } else {
            delete_row!(cx, c.id, target.id);
        }
        if !target.is_local() && (status == "member" || status == "pending") {
            fed_event!(cx, outbox::MEMBER_REJECT, c.id, Some(target.id), follow.clone().unwrap_or_default())?;
        }
        withdraw_if_no_member!(cx, c.id, target.domain.clone());
        log!(cx, c.id, actor.id, action, Some(target.id), None::<i64>, reason);
        Ok::<_, AppError>(())
    })
}

pub fn refuse(conn: &mut DbConn, actor: &User, name: &str, username: &str) -> AppResult<()> {
    exclude(conn, actor, name, username, "refuse", "")
}

pub fn remove(
    conn: &mut DbConn,
    actor: &User,
    name: &str,
    username: &str,
    reason: &str,
) -> AppResult<()> {
    exclude(conn, actor, name, username, "remove", reason)
}

pub fn ban(
    conn: &mut DbConn,
    actor: &User,
    name: &str,
    username: &str,
    reason: &str,
) -> AppResult<()> {
    exclude(conn, actor, name, username, "ban", reason)
}

pub fn unban(conn: &mut DbConn, actor: &User, name: &str, username: &str) -> AppResult<()> {
    let c = get(conn, actor.id, name)?;
    require_moderator(&c, actor)?;
    require_local(&c)?;
    let target = person(conn, username)?;
    if status_of(conn, c.id, target.id)?.map(|(s, _)| s).as_deref() != Some("banned") {
        return Err(AppError::bad_request("community_not_banned"));
    }
    write_tx!(conn, cx => {
        delete_row!(cx, c.id, target.id);
        log!(cx, c.id, actor.id, "unban", Some(target.id), None::<i64>, "");
        Ok::<_, AppError>(())
    })
}

/// An owner changes a member's role.
pub fn set_role(
    conn: &mut DbConn,
    actor: &User,
    name: &str,
    username: &str,
    role: &str,
) -> AppResult<()> {
    let role = super::parse_role(role)?;
    let c = get(conn, actor.id, name)?;
    require_local(&c)?;
    if !(c.is_owner() || actor.is_admin) {
        return Err(AppError::forbidden("community_owners_only"));
    }
    let target = person(conn, username)?;
    match status_of(conn, c.id, target.id)? {
        Some((s, current)) if s == "member" => {
            if current == "owner" && role != "owner" && owner_count(conn, c.id)? <= 1 {
                return Err(AppError::conflict("community_last_owner"));
            }
        }
        _ => return Err(AppError::bad_request("community_not_member")),
    }
    write_tx!(conn, cx => {
        diesel::update(
            community_members::table
                .filter(community_members::community_id.eq(c.id))
                .filter(community_members::user_id.eq(target.id)),
        )
        .set(community_members::role.eq(role))
        .execute(cx)?;
        log!(cx, c.id, actor.id, "role", Some(target.id), None::<i64>, role);
        Ok::<_, AppError>(())
    })
}

/// One member (or request, invitation, ban) of a community.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    pub person: PersonSummary,
    pub role: String,
    pub status: String,
    /// Host of a member of another instance.
    pub domain: Option<String>,
    pub since: NaiveDateTime,
}

/// The members of a community wherever they live; moderators also see
/// requests, invitations and bans.
pub fn members(conn: &mut DbConn, viewer: &User, name: &str) -> AppResult<Vec<Member>> {
    let c = super::get_readable(conn, viewer.id, name)?;
    let statuses: Vec<&str> = if c.is_moderator() || (viewer.is_admin && c.is_local()) {
        vec!["member", "pending", "invited", "banned"]
    } else {
        vec!["member"]
    };
    let rows: Vec<(PersonSummary, String, String, Option<String>, NaiveDateTime)> = with_conn!(conn, cx => community_members::table
            .inner_join(users::table.on(users::id.eq(community_members::user_id)))
            .filter(community_members::community_id.eq(c.id))
            .filter(community_members::status.eq_any(&statuses))
            .filter(users::deleted_at.is_null())
            .order((community_members::status.desc(), users::username.asc()))
            .limit(MEMBERS_PAGE)
            .select((
                PersonSummary::as_select(),
                community_members::role,
                community_members::status,
                users::domain,
                community_members::created_at,
            ))
            .load(cx))?;
    Ok(rows
        .into_iter()
        .map(|(person, role, status, domain, since)| Member {
            person,
            role,
            status,
            domain,
            since,
        })
        .collect())
}

/// A remote person's Follow of one of our communities: joins, waits for a
/// moderator, or is refused (Reject) when the policy, a ban or the trust
/// rules say so.
pub fn join_from_remote(
    conn: &mut DbConn,
    community: i64,
    person: &User,
    follow_id: &str,
    allowed: bool,
) -> AppResult<()> {
    let policy: String = with_conn!(conn, c => crate::db::schema::communities::table
        .find(community)
        .select(crate::db::schema::communities::join_policy)
        .first(c))?;
    let current = status_of(conn, community, person.id)?.map(|(s, _)| s);
    let outcome = match current.as_deref() {
        Some("member") => Ok(Joined::Member),
        Some("banned") => Err(AppError::forbidden("community_banned")),
        _ if !allowed => Err(AppError::forbidden("instance_not_trusted")),
        other => decide(JoinPolicy::parse(&policy)?, other == Some("invited")),
    };
    let follow = Some(follow_id.to_string());
    write_tx!(conn, cx => {
        match outcome {
            Ok(Joined::Member) => {
                upsert!(cx, community, person.id, "member", "member", follow.clone());
                fed_event!(cx, outbox::MEMBER_ACCEPT, community, Some(person.id), follow_id)?;
            }
            Ok(Joined::Pending) => {
                upsert!(cx, community, person.id, "pending", "member", follow.clone());
                notify_moderators!(cx, community, "community_request", person.id);
            }
            Err(_) => {
                fed_event!(cx, outbox::MEMBER_REJECT, community, Some(person.id), follow_id)?;
            }
        }
        Ok::<_, AppError>(())
    })
}

/// A remote person leaves one of our communities (Undo of their Follow).
pub fn leave_from_remote(conn: &mut DbConn, community: i64, person: &User) -> AppResult<()> {
    let current = status_of(conn, community, person.id)?.map(|(s, _)| s);
    if matches!(current.as_deref(), None | Some("banned")) {
        return Ok(());
    }
    write_tx!(conn, cx => {
        delete_row!(cx, community, person.id);
        withdraw_if_no_member!(cx, community, person.domain.clone());
        Ok::<_, AppError>(())
    })
}

/// A remote community answers a local person's Follow. Returns whether
/// this instance should now fill in the community's recent posts (its first
/// accepted member, or an earlier back-fill that did not complete).
pub fn answer_from_remote(
    conn: &mut DbConn,
    community: i64,
    person: &User,
    accepted: bool,
) -> AppResult<bool> {
    if !person.is_local() {
        return Err(AppError::not_found());
    }
    let current = status_of(conn, community, person.id)?.map(|(s, _)| s);
    if current.is_none() {
        // Nobody here asked (or they left meanwhile).
        return Ok(false);
    }
    write_tx!(conn, cx => {
        if accepted {
            diesel::update(
                community_members::table
                    .filter(community_members::community_id.eq(community))
                    .filter(community_members::user_id.eq(person.id)),
            )
            .set((
                community_members::status.eq("member"),
                community_members::updated_at.eq(now()),
            ))
            .execute(cx)?;
            notify_one!(cx, person.id, "community_accepted", community, community);
            let backfilled: Option<NaiveDateTime> = crate::db::schema::communities::table
                .find(community)
                .select(crate::db::schema::communities::backfilled_at)
                .first(cx)?;
            Ok::<_, AppError>(backfilled.is_none())
        } else {
            delete_row!(cx, community, person.id);
            Ok(false)
        }
    })
}

/// A remote community invites a local person: they see it and may join.
pub fn invited_from_remote(conn: &mut DbConn, community: i64, person: &User) -> AppResult<()> {
    if !person.is_local() || !person.is_person() {
        return Err(AppError::not_found());
    }
    if status_of(conn, community, person.id)?.is_some() {
        // Already a member, asking, invited or banned: nothing changes.
        return Ok(());
    }
    write_tx!(conn, cx => {
        upsert!(cx, community, person.id, "invited", "member", None::<String>);
        notify_one!(cx, person.id, "community_invite", community, community);
        Ok::<_, AppError>(())
    })
}
