//! The people directory the organisation's member sites share, so that
//! search and the expert finder cover every site from the local index.
//!
//! This site lists its enabled people, but those who chose not to be
//! listed, to the sites that may read the list (the door decides, from the
//! trust list: member sites, and partner sites only when an administrator
//! opened it); it reads the lists of its member sites and fetches the
//! people they name (`federation::directory`). A person of another site
//! that their site no longer lists (they chose not to be, or left) stays
//! known here, for follows and threads, but is not found by search.

use diesel::prelude::*;

use crate::db::schema::{directory_hidden, directory_optouts, guests, users};
use crate::db::{self, now, DbConn};
use crate::error::AppResult;

/// People per page of the shared list.
pub const PAGE: i64 = 200;

/// One page of this site's shared list: the usernames of the people
/// listed, by id after `after`, with the id to continue from when there is
/// more. Partners' guests are not the organisation's people: never listed.
pub fn page(conn: &mut DbConn, after: i64) -> AppResult<(Vec<String>, Option<i64>)> {
    let mut rows: Vec<(i64, String)> = users::table
        .filter(users::domain.is_null())
        .filter(users::actor_type.eq("person"))
        .filter(users::disabled.eq(false))
        .filter(users::deleted_at.is_null())
        .filter(users::id.gt(after))
        .filter(users::id.ne_all(directory_optouts::table.select(directory_optouts::user_id)))
        .filter(users::id.ne_all(guests::table.select(guests::user_id)))
        .order(users::id.asc())
        .limit(PAGE + 1)
        .select((users::id, users::username))
        .load(conn)?;
    let more = rows.len() as i64 > PAGE;
    rows.truncate(PAGE as usize);
    let next = if more { rows.last().map(|r| r.0) } else { None };
    Ok((rows.into_iter().map(|r| r.1).collect(), next))
}

/// Whether `user` is listed to the organisation's other sites.
pub fn is_shared(conn: &mut DbConn, user: i64) -> AppResult<bool> {
    let out: i64 = directory_optouts::table
        .find(user)
        .count()
        .get_result(conn)?;
    Ok(out == 0)
}

/// Lists `user` to the other sites or not; the other sites stop finding
/// them at their next reading of the list.
pub fn set_shared(conn: &mut DbConn, user: i64, shared: bool) -> AppResult<()> {
    db::write(conn, |c| {
        diesel::delete(directory_optouts::table.find(user)).execute(c)?;
        if !shared {
            diesel::insert_into(directory_optouts::table)
                .values((
                    directory_optouts::user_id.eq(user),
                    directory_optouts::created_at.eq(now()),
                ))
                .execute(c)?;
        }
        Ok(())
    })
}

/// The people of `domain` its whole list named (`listed`, their actor
/// addresses): those known here are found again, the other people of
/// `domain` known here are not found any more. Returns how many were
/// hidden.
pub fn listed(conn: &mut DbConn, domain: &str, listed: &[String]) -> AppResult<usize> {
    let known: Vec<(i64, Option<String>)> = users::table
        .filter(users::domain.eq(domain))
        .filter(users::actor_type.eq("person"))
        .select((users::id, users::ap_id))
        .load(conn)?;
    let mut hidden = 0;
    db::write(conn, |c| {
        for (id, ap_id) in &known {
            let named = ap_id.as_ref().is_some_and(|a| listed.contains(a));
            let was: i64 = directory_hidden::table.find(id).count().get_result(c)?;
            match (named, was > 0) {
                (true, true) => {
                    diesel::delete(directory_hidden::table.find(id)).execute(c)?;
                }
                (false, false) => {
                    diesel::insert_into(directory_hidden::table)
                        .values((
                            directory_hidden::actor_id.eq(id),
                            directory_hidden::created_at.eq(now()),
                        ))
                        .execute(c)?;
                    hidden += 1;
                }
                _ => continue,
            }
            crate::index::actor(c, *id)?;
        }
        Ok::<_, crate::error::AppError>(())
    })?;
    Ok(hidden)
}
