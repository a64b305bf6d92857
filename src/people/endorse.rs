//! Colleagues endorse a skill someone declared: evidence for the expert
//! finder ("Who knows about …?"), shown with each skill on the profile.
//!
//! One endorsement per colleague and skill, withdrawable. Only a declared
//! skill can be endorsed, never one's own; a skill taken off the profile
//! takes its endorsements with it. Endorsements are kept on the site of the
//! person who gives them.

use diesel::prelude::*;
use serde::Serialize;

use crate::accounts::User;
use crate::db::schema::{endorsements, skills, user_skills, users};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult};

/// A declared skill, how many colleagues endorse it, and whether the
/// reader does.
#[derive(Debug, Clone, Serialize)]
pub struct Endorsed {
    pub skill: String,
    pub count: i64,
    pub mine: bool,
}

/// `endorser` endorses (`on`) or stops endorsing the skill `skill` of the
/// person `username`.
pub fn set(
    conn: &mut DbConn,
    endorser: &User,
    username: &str,
    skill: &str,
    on: bool,
) -> AppResult<()> {
    let target = crate::accounts::find_by_username(conn, username)?;
    if !target.is_person() || target.disabled || target.deleted_at.is_some() {
        return Err(AppError::not_found());
    }
    if target.id == endorser.id {
        return Err(AppError::bad_request("endorse_self"));
    }
    let name = super::normalize_skill(skill);
    let declared: Option<i64> = user_skills::table
        .inner_join(skills::table)
        .filter(user_skills::user_id.eq(target.id))
        .filter(skills::name.eq(&name))
        .select(skills::id)
        .first(conn)
        .optional()?;
    let Some(skill_id) = declared else {
        return Err(AppError::bad_request("skill_not_declared").with("skill", name));
    };
    db::write(conn, |c| {
        let mine = endorsements::table
            .filter(endorsements::user_id.eq(target.id))
            .filter(endorsements::skill_id.eq(skill_id))
            .filter(endorsements::endorser_id.eq(endorser.id));
        if on {
            db::insert_unless_exists(c, |c| {
                diesel::insert_into(endorsements::table)
                    .values((
                        endorsements::user_id.eq(target.id),
                        endorsements::skill_id.eq(skill_id),
                        endorsements::endorser_id.eq(endorser.id),
                        endorsements::created_at.eq(now()),
                    ))
                    .execute(c)
            })?;
        } else {
            diesel::delete(mine).execute(c)?;
        }
        Ok::<_, AppError>(())
    })
}

/// The skills of `user` with their endorsements, as `viewer` sees them, in
/// the order of the profile (by name). Endorsers whose account is disabled
/// do not count.
pub fn of(conn: &mut DbConn, viewer: i64, user: i64) -> AppResult<Vec<Endorsed>> {
    let names: Vec<(i64, String)> = user_skills::table
        .inner_join(skills::table)
        .filter(user_skills::user_id.eq(user))
        .select((skills::id, skills::name))
        .order(skills::name.asc())
        .load(conn)?;
    let given: Vec<(i64, i64)> = endorsements::table
        .inner_join(users::table.on(users::id.eq(endorsements::endorser_id)))
        .filter(endorsements::user_id.eq(user))
        .filter(users::disabled.eq(false))
        .select((endorsements::skill_id, endorsements::endorser_id))
        .load(conn)?;
    Ok(names
        .into_iter()
        .map(|(id, skill)| Endorsed {
            count: given.iter().filter(|(s, _)| *s == id).count() as i64,
            mine: given.iter().any(|(s, e)| *s == id && *e == viewer),
            skill,
        })
        .collect())
}

/// Drops the endorsements of skills `user` no longer declares (inside the
/// write transaction that changed them).
pub(super) fn forget_undeclared(c: &mut DbConn, user: i64) -> QueryResult<()> {
    diesel::delete(
        endorsements::table
            .filter(endorsements::user_id.eq(user))
            .filter(
                endorsements::skill_id.ne_all(
                    user_skills::table
                        .filter(user_skills::user_id.eq(user))
                        .select(user_skills::skill_id),
                ),
            ),
    )
    .execute(c)?;
    Ok(())
}
