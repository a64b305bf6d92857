//! Communities a person watches: each new post there ("community_post")
//! and each new version of one of its documents ("document_updated") is a
//! notification, told only to the watchers who may read the community's
//! posts (`audience::readers_among`), so that a person who left a private
//! community hears nothing more of it. What reaches them by e-mail follows
//! their choice per kind (the digest unless they choose otherwise).
//!
//! The authors of a document's earlier versions are told of a new version
//! too, watching or not.

use diesel::prelude::*;

use super::{record, NewNotification};
use crate::audience;
use crate::db::schema::{community_watches, users};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult};

/// Starts or stops watching a community (the caller checked that the
/// person may read it).
pub fn set(c: &mut DbConn, user_id: i64, community: i64, on: bool) -> AppResult<()> {
    db::write(c, |c| {
        if on {
            db::insert_unless_exists(c, |c| {
                diesel::insert_into(community_watches::table)
                    .values((
                        community_watches::community_id.eq(community),
                        community_watches::user_id.eq(user_id),
                        community_watches::created_at.eq(now()),
                    ))
                    .execute(c)
            })?;
        } else {
            diesel::delete(
                community_watches::table
                    .filter(community_watches::community_id.eq(community))
                    .filter(community_watches::user_id.eq(user_id)),
            )
            .execute(c)?;
        }
        Ok::<_, AppError>(())
    })
}

/// Whether the person watches the community.
pub fn is_watching(c: &mut DbConn, user_id: i64, community: i64) -> AppResult<bool> {
    let n: i64 = community_watches::table
        .filter(community_watches::community_id.eq(community))
        .filter(community_watches::user_id.eq(user_id))
        .count()
        .get_result(c)?;
    Ok(n > 0)
}

/// Inside the write transaction of a new post (or document version) in
/// `community`: tells its watchers, and `also` (a document's earlier
/// authors), who may read it, but not the author nor those in `told`
/// (already notified of it, by a mention).
pub(crate) fn tell(
    c: &mut DbConn,
    community: i64,
    kind: &'static str,
    author: i64,
    content: i64,
    also: &[i64],
    told: &[i64],
) -> AppResult<()> {
    let mut who: Vec<i64> = community_watches::table
        .filter(community_watches::community_id.eq(community))
        .select(community_watches::user_id)
        .load(c)?;
    who.extend_from_slice(also);
    who.sort_unstable();
    who.dedup();
    who.retain(|u| *u != author && !told.contains(u));
    if who.is_empty() {
        return Ok(());
    }
    let local: Vec<i64> = users::table
        .filter(users::id.eq_any(&who))
        .filter(users::domain.is_null())
        .filter(users::deleted_at.is_null())
        .filter(users::disabled.eq(false))
        .select(users::id)
        .load(c)?;
    for uid in audience::readers_among(c, community, &local)? {
        record(
            c,
            NewNotification::to(uid, kind, author)
                .about_content(Some(content))
                .about_community(community),
        )?;
    }
    Ok(())
}
