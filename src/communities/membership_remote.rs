//! Membership across instances: what other instances ask of our
//! communities (join, leave), what remote communities answer our people
//! (accept, refuse, invite, roles), and moderation requests our moderators
//! send to a remote community. The rules are `membership`'s, and so are
//! the writes it shares inside transactions.

use diesel::prelude::*;

use chrono::NaiveDateTime;

use super::membership::{
    decide, delete_row, notify_moderators, notify_one, status_of, upsert, withdraw_if_no_member,
    Act, Joined,
};
use super::{Community, JoinPolicy};
use crate::accounts::User;
use crate::db::schema::{community_members, users};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult};
use crate::events::{self, Event};

/// A moderator of a community of another instance asks it to act on the
/// person `target` (their actor address): the request is sent to the
/// community, which checks its rules again and tells the instances
/// concerned what it did. The caller has applied [`super::membership::check`], with the
/// actor's role, to the list of members it just fetched from the community
/// (fresher than this instance's copy of the actor's role).
pub fn request_remote(
    conn: &mut DbConn,
    actor: &User,
    c: &Community,
    act: &Act,
    target: &str,
) -> AppResult<()> {
    if c.is_local() {
        return Err(AppError::internal("request_remote on a local community"));
    }
    let request = serde_json::json!({
        "act": act.name(),
        "target": target,
        "reason": act.reason(),
        "role": match act { Act::Role(r) => *r, _ => "" },
    });
    db::write(conn, |cx| {
        super::ask_host(cx, actor.id, c.id, &request)?;
        Ok::<_, AppError>(())
    })
}

/// Brings the roles of local members of a remote community in line with
/// what its instance lists (`(username, role)`); only differences are
/// written.
pub fn sync_roles(conn: &mut DbConn, community: i64, listed: &[(String, String)]) -> AppResult<()> {
    if listed.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = listed.iter().map(|(n, _)| n.as_str()).collect();
    let ours: Vec<(i64, String, String)> = community_members::table
        .inner_join(users::table.on(users::id.eq(community_members::user_id)))
        .filter(community_members::community_id.eq(community))
        .filter(community_members::status.eq("member"))
        .filter(users::domain.is_null())
        .filter(users::username.eq_any(&names))
        .select((users::id, users::username, community_members::role))
        .load(conn)?;
    let changed: Vec<(i64, &str)> = ours
        .iter()
        .filter_map(|(id, name, role)| {
            let (_, theirs) = listed.iter().find(|(n, _)| n == name)?;
            let theirs = super::parse_role(theirs).ok()?;
            (theirs != role).then_some((*id, theirs))
        })
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    db::write(conn, |cx| {
        for (id, role) in &changed {
            diesel::update(
                community_members::table
                    .filter(community_members::community_id.eq(community))
                    .filter(community_members::user_id.eq(*id)),
            )
            .set(community_members::role.eq(*role))
            .execute(cx)?;
        }
        Ok::<_, AppError>(())
    })
}

/// A remote community tells a local person their new role there.
pub fn role_from_remote(
    conn: &mut DbConn,
    community: i64,
    person: &User,
    role: &str,
) -> AppResult<()> {
    let role = super::parse_role(role)?;
    if !person.is_local() {
        return Err(AppError::not_found());
    }
    db::write(conn, |cx| {
        diesel::update(
            community_members::table
                .filter(community_members::community_id.eq(community))
                .filter(community_members::user_id.eq(person.id))
                .filter(community_members::status.eq("member")),
        )
        .set(community_members::role.eq(role))
        .execute(cx)?;
        Ok::<_, AppError>(())
    })
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
    let policy: String = crate::db::schema::communities::table
        .find(community)
        .select(crate::db::schema::communities::join_policy)
        .first(conn)?;
    let current = status_of(conn, community, person.id)?.map(|(s, _)| s);
    let outcome = match current.as_deref() {
        Some("member") => Ok(Joined::Member),
        Some("banned") => Err(AppError::forbidden("community_banned")),
        _ if !allowed => Err(AppError::forbidden("instance_not_trusted")),
        other => decide(JoinPolicy::parse(&policy)?, other == Some("invited")),
    };
    let follow = Some(follow_id.to_string());
    db::write(conn, |cx| {
        match outcome {
            Ok(Joined::Member) => {
                upsert(cx, community, person.id, "member", "member", follow.clone())?;
                events::record(
                    cx,
                    Event::MemberAccepted {
                        community,
                        person: person.id,
                        follow_id: Some(follow_id.to_string()),
                    },
                )?;
            }
            Ok(Joined::Pending) => {
                upsert(
                    cx,
                    community,
                    person.id,
                    "pending",
                    "member",
                    follow.clone(),
                )?;
                notify_moderators(cx, community, "community_request", person.id)?;
            }
            Err(_) => {
                events::record(
                    cx,
                    Event::MemberRefused {
                        community,
                        person: person.id,
                        follow_id: Some(follow_id.to_string()),
                    },
                )?;
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
    db::write(conn, |cx| {
        delete_row(cx, community, person.id)?;
        withdraw_if_no_member(cx, community, person.domain.as_deref())?;
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
    db::write(conn, |cx| {
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
            if current.as_deref() != Some("member") {
                crate::accounts::remote::count_follower(cx, community, 1)?;
            }
            notify_one(cx, person.id, "community_accepted", community, community)?;
            let backfilled: Option<NaiveDateTime> = crate::db::schema::communities::table
                .find(community)
                .select(crate::db::schema::communities::backfilled_at)
                .first(cx)?;
            Ok::<_, AppError>(backfilled.is_none())
        } else {
            delete_row(cx, community, person.id)?;
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
    db::write(conn, |cx| {
        upsert(
            cx,
            community,
            person.id,
            "invited",
            "member",
            None::<String>,
        )?;
        notify_one(cx, person.id, "community_invite", community, community)?;
        Ok::<_, AppError>(())
    })
}
