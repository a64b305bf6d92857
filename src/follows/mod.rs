//! One-way follows between people: follow, unfollow, and the lists.

use diesel::prelude::*;

use crate::accounts::User;
use crate::db::schema::follows;
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult};
use crate::events::{self, Event};
use crate::notifications::notify;

pub fn follow(conn: &mut DbConn, follower: &User, followee_name: &str) -> AppResult<()> {
    // A guest sees their communities, not people to follow.
    crate::accounts::guest::refuse(conn, follower.id)?;
    let target = crate::accounts::find_by_username(conn, followee_name)?;
    if target.disabled || !target.is_person() {
        return Err(AppError::not_found());
    }
    if target.id == follower.id {
        return Err(AppError::forbidden("cannot_follow_self"));
    }
    if is_following(conn, follower.id, target.id)? {
        return Ok(());
    }
    // A remote person's instance must accept first; the Follow leaves with
    // the row, in the same transaction.
    let remote = !target.is_local();
    let res = db::write(conn, |c| {
        let inserted = diesel::insert_into(follows::table)
            .values((
                follows::follower_id.eq(follower.id),
                follows::followee_id.eq(target.id),
                follows::created_at.eq(now()),
                follows::accepted.eq(!remote),
            ))
            .execute(c);
        match inserted {
            Ok(_) => {}
            // Two clicks at once: the follow exists, which is what was
            // asked (the transaction is rolled back, then all is well).
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => return Err(AppError::conflict("follow_exists")),
            Err(e) => return Err(AppError::from(e)),
        }
        if remote {
            events::record(
                c,
                Event::Followed {
                    follower: follower.id,
                    followee: target.id,
                },
            )?;
        } else {
            notify(c, &[target.id], "follow", follower.id, None::<i64>)?;
        }
        Ok::<_, AppError>(())
    });
    match res {
        Err(e) if e.code == "follow_exists" => Ok(()),
        other => other,
    }
}

/// Keeps the id of the Follow sent to another instance (inside a write
/// transaction), so that its Undo names it.
pub fn set_activity_id(c: &mut DbConn, follower: i64, followee: i64, id: &str) -> AppResult<()> {
    diesel::update(
        follows::table
            .filter(follows::follower_id.eq(follower))
            .filter(follows::followee_id.eq(followee)),
    )
    .set(follows::ap_id.eq(id))
    .execute(c)?;
    Ok(())
}

pub fn unfollow(conn: &mut DbConn, follower: &User, followee_name: &str) -> AppResult<()> {
    let target = crate::accounts::find_by_username(conn, followee_name)?;
    db::write(conn, |c| {
        let found: Option<(Option<String>, bool)> = follows::table
            .filter(follows::follower_id.eq(follower.id))
            .filter(follows::followee_id.eq(target.id))
            .select((follows::ap_id, follows::accepted))
            .first(c)
            .optional()?;
        if let (Some((_, true)), false) = (&found, target.is_local()) {
            crate::accounts::remote::count_follower(c, target.id, -1)?;
        }
        let found = found.map(|(ap, _)| ap);
        diesel::delete(
            follows::table
                .filter(follows::follower_id.eq(follower.id))
                .filter(follows::followee_id.eq(target.id)),
        )
        .execute(c)?;
        if let (Some(ap_id), false) = (found, target.is_local()) {
            events::record(
                c,
                Event::Unfollowed {
                    follower: follower.id,
                    followee: target.id,
                    follow_id: ap_id,
                },
            )?;
        }
        Ok::<_, AppError>(())
    })?;
    Ok(())
}

/// A remote person follows a local one: recorded as accepted, and the
/// Accept leaves in the same transaction.
pub fn follow_from_remote(
    conn: &mut DbConn,
    follower: i64,
    followee: &User,
    follow_id: &str,
) -> AppResult<()> {
    if followee.disabled || !followee.is_local() || !followee.is_person() {
        return Err(AppError::not_found());
    }
    db::write(conn, |c| {
        let exists: i64 = follows::table
            .filter(follows::follower_id.eq(follower))
            .filter(follows::followee_id.eq(followee.id))
            .count()
            .get_result(c)?;
        if exists == 0 {
            diesel::insert_into(follows::table)
                .values((
                    follows::follower_id.eq(follower),
                    follows::followee_id.eq(followee.id),
                    follows::created_at.eq(now()),
                    follows::accepted.eq(true),
                    follows::ap_id.eq(follow_id),
                ))
                .execute(c)?;
            notify(c, &[followee.id], "follow", follower, None::<i64>)?;
        } else {
            diesel::update(
                follows::table
                    .filter(follows::follower_id.eq(follower))
                    .filter(follows::followee_id.eq(followee.id)),
            )
            .set(follows::ap_id.eq(follow_id))
            .execute(c)?;
        }
        // Accept again on a repeated Follow: the first Accept may have been lost.
        events::record(
            c,
            Event::FollowAccepted {
                followee: followee.id,
                follower,
                follow_id: follow_id.to_string(),
            },
        )?;
        Ok::<_, AppError>(())
    })
}

/// The remote followee accepted (`true`) or rejected (`false`) a follow.
pub fn answer_from_remote(
    conn: &mut DbConn,
    follower: i64,
    followee: i64,
    accepted: bool,
) -> AppResult<()> {
    let q = follows::table
        .filter(follows::follower_id.eq(follower))
        .filter(follows::followee_id.eq(followee));
    db::write(conn, |c| {
        let was: Option<bool> = q.select(follows::accepted).first(c).optional()?;
        if accepted {
            diesel::update(q)
                .set(follows::accepted.eq(true))
                .execute(c)?;
            if was == Some(false) {
                crate::accounts::remote::count_follower(c, followee, 1)?;
            }
        } else {
            diesel::delete(q).execute(c)?;
            if was == Some(true) {
                crate::accounts::remote::count_follower(c, followee, -1)?;
            }
        }
        Ok::<_, AppError>(())
    })
}

/// A remote person stops following a local one.
pub fn unfollow_from_remote(conn: &mut DbConn, follower: i64, followee: i64) -> AppResult<()> {
    db::write(conn, |c| {
        diesel::delete(
            follows::table
                .filter(follows::follower_id.eq(follower))
                .filter(follows::followee_id.eq(followee)),
        )
        .execute(c)
    })?;
    Ok(())
}

pub fn is_following(conn: &mut DbConn, follower: i64, followee: i64) -> AppResult<bool> {
    let n: i64 = follows::table
        .filter(follows::follower_id.eq(follower))
        .filter(follows::followee_id.eq(followee))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// (followers, following) counts.
pub fn counts(conn: &mut DbConn, user_id: i64) -> AppResult<(i64, i64)> {
    {
        let followers = follows::table
            .filter(follows::followee_id.eq(user_id))
            .count()
            .get_result(conn)?;
        let following = follows::table
            .filter(follows::follower_id.eq(user_id))
            .count()
            .get_result(conn)?;
        Ok((followers, following))
    }
}
