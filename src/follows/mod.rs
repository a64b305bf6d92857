//! One-way follows between people: follow, unfollow, and the lists.

use diesel::prelude::*;

use crate::accounts::User;
use crate::db::schema::{follows, users};
use crate::db::{now, DbConn};
use crate::error::{AppError, AppResult};
use crate::people::{PersonSummary, PAGE_SIZE};
use crate::{with_conn, write_tx};

pub fn follow(conn: &mut DbConn, follower: &User, followee_name: &str) -> AppResult<()> {
    let target = crate::accounts::find_by_username(conn, followee_name)?;
    if target.disabled {
        return Err(AppError::not_found());
    }
    if target.id == follower.id {
        return Err(AppError::bad_request("cannot_follow_self"));
    }
    if is_following(conn, follower.id, target.id)? {
        return Ok(());
    }
    let res = write_tx!(conn, c => diesel::insert_into(follows::table)
        .values((
            follows::follower_id.eq(follower.id),
            follows::followee_id.eq(target.id),
            follows::created_at.eq(now()),
        ))
        .execute(c));
    match res {
        Ok(_) => Ok(()),
        // Two clicks at once: the follow exists, which is what was asked.
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

pub fn unfollow(conn: &mut DbConn, follower: &User, followee_name: &str) -> AppResult<()> {
    let target = crate::accounts::find_by_username(conn, followee_name)?;
    write_tx!(conn, c => diesel::delete(
        follows::table
            .filter(follows::follower_id.eq(follower.id))
            .filter(follows::followee_id.eq(target.id)),
    )
    .execute(c))?;
    Ok(())
}

pub fn is_following(conn: &mut DbConn, follower: i64, followee: i64) -> AppResult<bool> {
    let n: i64 = with_conn!(conn, c => follows::table
        .filter(follows::follower_id.eq(follower))
        .filter(follows::followee_id.eq(followee))
        .count()
        .get_result(c))?;
    Ok(n > 0)
}

/// (followers, following) counts.
pub fn counts(conn: &mut DbConn, user_id: i64) -> AppResult<(i64, i64)> {
    with_conn!(conn, c => {
        let followers = follows::table
            .filter(follows::followee_id.eq(user_id))
            .count()
            .get_result(c)?;
        let following = follows::table
            .filter(follows::follower_id.eq(user_id))
            .count()
            .get_result(c)?;
        Ok((followers, following))
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Followers,
    Following,
}

/// A page of followers or followed people, ordered by username; `after` is
/// the last username of the previous page.
pub fn list(
    conn: &mut DbConn,
    user_id: i64,
    dir: Direction,
    after: Option<&str>,
) -> AppResult<Vec<PersonSummary>> {
    let after = after.unwrap_or("").to_string();
    let rows = with_conn!(conn, c => {
        let query = users::table
            .filter(users::disabled.eq(false))
            .filter(users::username.gt(&after))
            .into_boxed();
        let query = match dir {
            Direction::Followers => query.filter(users::id.eq_any(
                follows::table
                    .filter(follows::followee_id.eq(user_id))
                    .select(follows::follower_id),
            )),
            Direction::Following => query.filter(users::id.eq_any(
                follows::table
                    .filter(follows::follower_id.eq(user_id))
                    .select(follows::followee_id),
            )),
        };
        query
            .order(users::username.asc())
            .limit(PAGE_SIZE + 1)
            .select(PersonSummary::as_select())
            .load(c)
    })?;
    Ok(rows)
}
