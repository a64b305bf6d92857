//! The writes that membership makes inside its transactions, shared by the
//! local acts (`membership`) and those of other instances
//! (`membership_remote`): a member row added, changed or removed, the
//! moderators told, and queued deliveries withdrawn from an instance that
//! has no member left.

use diesel::prelude::*;

use super::super::Community;
use crate::accounts::User;
use crate::db::schema::{community_members, deliveries, users};
use crate::db::{now, DbConn};
use crate::error::AppResult;
use crate::events::{self, Event};

/// Notifies a community's local owners and moderators (inside a transaction).
pub(in crate::communities) fn notify_moderators(
    c: &mut DbConn,
    community: i64,
    kind: &'static str,
    actor: i64,
) -> AppResult<()> {
    let mods: Vec<i64> = community_members::table
        .inner_join(users::table.on(users::id.eq(community_members::user_id)))
        .filter(community_members::community_id.eq(community))
        .filter(community_members::status.eq("member"))
        .filter(community_members::role.eq_any(["owner", "moderator"]))
        .filter(users::domain.is_null())
        .select(users::id)
        .load(c)?;
    for m in mods {
        notify_one(c, m, kind, actor, community)?;
    }
    Ok(())
}

/// Notifies one local person about a community (inside a transaction).
pub(in crate::communities) fn notify_one(
    c: &mut DbConn,
    user: i64,
    kind: &'static str,
    actor: i64,
    community: i64,
) -> AppResult<()> {
    crate::notifications::record(
        c,
        crate::notifications::NewNotification::to(user, kind, actor).about_community(community),
    )?;
    Ok(())
}

/// Inserts or updates a membership row (inside a write transaction); a
/// `follow` id, when given, is kept for the Undo that may follow.
pub(in crate::communities) fn upsert(
    c: &mut DbConn,
    community: i64,
    user: i64,
    status: &str,
    role: &str,
    follow: Option<String>,
) -> AppResult<()> {
    let now = now();
    let row = community_members::table
        .filter(community_members::community_id.eq(community))
        .filter(community_members::user_id.eq(user));
    let n = diesel::update(row)
        .set((
            community_members::status.eq(status),
            community_members::updated_at.eq(now),
        ))
        .execute(c)?;
    if n == 0 {
        diesel::insert_into(community_members::table)
            .values((
                community_members::community_id.eq(community),
                community_members::user_id.eq(user),
                community_members::role.eq(role),
                community_members::status.eq(status),
                community_members::follow_ap_id.eq(&follow),
                community_members::created_at.eq(now),
                community_members::updated_at.eq(now),
            ))
            .execute(c)?;
    } else if follow.is_some() {
        diesel::update(row)
            .set(community_members::follow_ap_id.eq(&follow))
            .execute(c)?;
    }
    Ok(())
}

/// Deletes a membership row (inside a write transaction).
pub(in crate::communities) fn delete_row(
    c: &mut DbConn,
    community: i64,
    user: i64,
) -> AppResult<()> {
    diesel::delete(
        community_members::table
            .filter(community_members::community_id.eq(community))
            .filter(community_members::user_id.eq(user)),
    )
    .execute(c)?;
    Ok(())
}

/// When an instance has no member left in a community of ours, its queued
/// deliveries of that community's content are withdrawn (inside a write
/// transaction): leaving or being banned stops delivery at once. `domain`
/// is the instance of the person who left (none: a local person).
pub(in crate::communities) fn withdraw_if_no_member(
    c: &mut DbConn,
    community: i64,
    domain: Option<&str>,
) -> AppResult<()> {
    let Some(domain) = domain else {
        return Ok(());
    };
    let left: i64 = community_members::table
        .inner_join(users::table.on(users::id.eq(community_members::user_id)))
        .filter(community_members::community_id.eq(community))
        .filter(community_members::status.eq("member"))
        .filter(users::domain.eq(domain))
        .count()
        .get_result(c)?;
    if left == 0 {
        diesel::delete(
            deliveries::table
                .filter(deliveries::community_id.eq(community))
                .filter(deliveries::domain.eq(domain))
                .filter(deliveries::status.eq("pending")),
        )
        .execute(c)?;
    }
    Ok(())
}

/// Makes a pending row a member and tells a remote person's instance
/// (inside a write transaction).
pub(in crate::communities) fn accept_row(
    c: &mut DbConn,
    community: &Community,
    target: &User,
    actor: i64,
) -> AppResult<()> {
    let row = community_members::table
        .filter(community_members::community_id.eq(community.id))
        .filter(community_members::user_id.eq(target.id));
    diesel::update(row)
        .set((
            community_members::status.eq("member"),
            community_members::updated_at.eq(now()),
        ))
        .execute(c)?;
    if target.is_local() {
        notify_one(c, target.id, "community_accepted", actor, community.id)
    } else {
        let follow: Option<String> = row.select(community_members::follow_ap_id).first(c)?;
        events::record(
            c,
            Event::MemberAccepted {
                community: community.id,
                person: target.id,
                follow_id: follow,
            },
        )?;
        Ok(())
    }
}

/// Keeps the id of the Follow that asked a remote community to let
/// `person` join (inside a write transaction), so that its Undo names it.
pub fn set_follow_id(c: &mut DbConn, community: i64, person: i64, id: &str) -> AppResult<()> {
    diesel::update(
        community_members::table
            .filter(community_members::community_id.eq(community))
            .filter(community_members::user_id.eq(person)),
    )
    .set(community_members::follow_ap_id.eq(id))
    .execute(c)?;
    Ok(())
}
