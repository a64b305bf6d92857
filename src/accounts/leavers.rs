//! Leavers the company's directory names (the LDAP sync, SCIM): they are
//! cut off at once by [`super::disable_in`], wherever it was decided, and
//! recorded here in the same transaction ([`record`]); coming back removes
//! the record ([`back`]).
//!
//! What becomes of their profile is the company's policy
//! (`accounts.leavers`): kept as it was, or anonymised by the housekeeping
//! ([`anonymise_due`]): name, title, department, site, location, contact
//! details, biography, languages, skills, endorsements and photo erased,
//! the other sites told (an Update of the actor). Their posts and comments
//! stay, shown as a former colleague's (`PersonSummary::former`). The
//! username stays: it is the address other sites know the account by.
//! An account an administrator disables is not a leaver: nothing is
//! erased.

use diesel::prelude::*;

use crate::config::{AccountsConfig, LeaversPolicy};
use crate::db::schema::{endorsements, leavers, scim_users, users};
use crate::db::{self, now, DbConn};
use crate::error::AppResult;
use crate::events::{self, Event};

/// Records that the directory says `user` left (inside the write
/// transaction that disabled them).
pub(crate) fn record(c: &mut DbConn, user: i64) -> QueryResult<()> {
    let known: i64 = leavers::table.find(user).count().get_result(c)?;
    if known == 0 {
        diesel::insert_into(leavers::table)
            .values((leavers::user_id.eq(user), leavers::left_at.eq(now())))
            .execute(c)?;
    }
    Ok(())
}

/// `user` is back (the directory lists them again, or an administrator
/// enabled them).
pub(crate) fn back(c: &mut DbConn, user: i64) -> QueryResult<()> {
    diesel::delete(leavers::table.find(user)).execute(c)?;
    Ok(())
}

/// Whether `user` is recorded as a leaver.
pub(crate) fn is_leaver(c: &mut DbConn, user: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(leavers::table.find(user))).get_result(c)
}

/// Whether `user` left and their profile was anonymised: what the
/// directory still says of them (a disabled entry stays listed) is not
/// written back.
pub(crate) fn anonymised(c: &mut DbConn, user: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        leavers::table
            .find(user)
            .filter(leavers::anonymised_at.is_not_null()),
    ))
    .get_result(c)
}

/// Anonymises the profiles of the leavers not anonymised yet, when the
/// policy says so (a few hundred at a time); returns how many. Run by the
/// server's housekeeping. Someone enabled again meanwhile is left alone.
pub fn anonymise_due(conn: &mut DbConn, cfg: &AccountsConfig) -> AppResult<usize> {
    if cfg.leavers != LeaversPolicy::Anonymise {
        return Ok(0);
    }
    let due: Vec<i64> = leavers::table
        .inner_join(users::table.on(users::id.eq(leavers::user_id)))
        .filter(leavers::anonymised_at.is_null())
        .filter(users::disabled.eq(true))
        .filter(users::deleted_at.is_null())
        .select(leavers::user_id)
        .limit(500)
        .load(conn)?;
    let mut done = 0;
    for id in due {
        let taken = db::write(conn, |c| {
            let taken = diesel::update(
                leavers::table
                    .find(id)
                    .filter(leavers::anonymised_at.is_null()),
            )
            .set(leavers::anonymised_at.eq(Some(now())))
            .execute(c)?;
            if taken == 0 {
                return Ok(0);
            }
            super::erase_profile(c, id)?;
            // What the provisioning client sent of their name, too.
            diesel::update(scim_users::table.find(id))
                .set((
                    scim_users::given_name.eq(""),
                    scim_users::family_name.eq(""),
                ))
                .execute(c)?;
            diesel::delete(endorsements::table.filter(endorsements::user_id.eq(id))).execute(c)?;
            crate::index::actor(c, id)?;
            events::record(c, Event::ProfileChanged { account: id })?;
            Ok::<usize, crate::error::AppError>(1)
        })?;
        done += taken;
    }
    Ok(done)
}
