//! Communities of other instances: the copy kept here of a remote
//! community's actor and policy, refreshed each time its Group document is
//! fetched, and whether its recent posts were filled in after joining.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::settings::Policy;
use crate::accounts::{self, RemoteProfile, User};
use crate::db::schema::{communities, community_members, users};
use crate::db::{self, now, DbConn};
use crate::error::AppResult;

/// Stores or refreshes a remote community: its account and its policy.
pub fn store(conn: &mut DbConn, profile: &RemoteProfile, policy: &Policy) -> AppResult<User> {
    db::write(conn, |c| {
        let id = accounts::remote::store(c, profile, true)?;
        let n = diesel::update(communities::table.find(id))
            .set((
                communities::visibility.eq(policy.visibility),
                communities::join_policy.eq(&policy.join_policy),
                communities::partners.eq(policy.partners),
            ))
            .execute(c)?;
        if let (Some(at), true) = (profile.created_at, n > 0) {
            diesel::update(communities::table.find(id))
                .set(communities::created_at.eq(at))
                .execute(c)?;
        }
        if n == 0 {
            diesel::insert_into(communities::table)
                .values((
                    communities::actor_id.eq(id),
                    communities::visibility.eq(policy.visibility),
                    communities::join_policy.eq(&policy.join_policy),
                    communities::partners.eq(policy.partners),
                    communities::created_at.eq(profile.created_at.unwrap_or_else(now)),
                ))
                .execute(c)?;
        }
        crate::index::actor(c, id)?;
        accounts::find_by_id(c, id)
    })
}

/// The remote community `id` when this instance has not filled in its
/// recent posts yet.
pub fn needs_backfill(conn: &mut DbConn, id: i64) -> AppResult<Option<User>> {
    let pending: Option<Option<NaiveDateTime>> = communities::table
        .find(id)
        .select(communities::backfilled_at)
        .first(conn)
        .optional()?;
    if !matches!(pending, Some(None)) {
        return Ok(None);
    }
    let u = crate::accounts::find_by_id(conn, id)?;
    Ok((!u.is_local()).then_some(u))
}

/// Records that this instance fetched the recent posts of the remote
/// community `id` after joining it.
pub fn mark_backfilled(conn: &mut DbConn, id: i64) -> AppResult<()> {
    db::write(conn, |c| {
        diesel::update(communities::table.find(id))
            .set(communities::backfilled_at.eq(Some(now())))
            .execute(c)
    })?;
    Ok(())
}

/// One of this instance's people who is a member of the remote community
/// `id` (to sign what is read from its host), if any.
pub fn a_local_member(conn: &mut DbConn, id: i64) -> AppResult<Option<User>> {
    let person: Option<i64> = community_members::table
        .inner_join(users::table.on(users::id.eq(community_members::user_id)))
        .filter(community_members::community_id.eq(id))
        .filter(community_members::status.eq("member"))
        .filter(users::domain.is_null())
        .select(users::id)
        .order(community_members::user_id)
        .first(conn)
        .optional()?;
    person.map(|p| accounts::find_by_id(conn, p)).transpose()
}
