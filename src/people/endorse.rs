//! Colleagues endorse a skill someone declared: evidence for the expert
//! finder ("Who knows about …?"), shown with each skill on the profile.
//!
//! One endorsement per colleague and skill, withdrawable. Only a declared
//! skill can be endorsed, never one's own; a skill taken off the profile
//! takes its endorsements with it.
//!
//! Across sites, the endorsed person's site holds the tally:
//! - a colleague of another site endorsing one of our people is stored
//!   here like a local one (the inbox calls [`set`]), and one of ours
//!   endorsing a person of another site is kept here too and sent there
//!   (`Event::Endorsed`, `Event::Unendorsed`);
//! - a change to the tally of one of our people is news of their profile
//!   (`Event::ProfileChanged`), whose published skills carry their counts;
//! - for a person of another site, the count shown and weighed is what
//!   their site publishes ([`store_published`]), or the endorsements kept
//!   here when they are more (their site has not counted them yet).

use std::collections::HashMap;

use diesel::prelude::*;
use serde::Serialize;

use crate::accounts::User;
use crate::db::schema::{endorsements, remote_endorsements, skills, user_skills, users};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult};
use crate::events::{self, Event};

/// The most endorsements of one skill believed from another site.
pub const MAX_PUBLISHED: i64 = 1_000_000;

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
    // A guest endorses the people they may see, nobody else.
    if endorser.is_local() && !crate::audience::may_see_person(conn, endorser.id, target.id)? {
        return Err(AppError::not_found());
    }
    if target.id == endorser.id {
        return Err(AppError::forbidden("endorse_self"));
    }
    // Between two people of other sites: nothing of ours (the inbox only
    // asks for our people).
    if !target.is_local() && !endorser.is_local() {
        return Err(AppError::not_found());
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
        return Err(
            AppError::new(crate::error::ErrorKind::NotFound, "skill_not_declared")
                .with("skill", name),
        );
    };
    db::write(conn, |c| {
        let mine = endorsements::table
            .filter(endorsements::user_id.eq(target.id))
            .filter(endorsements::skill_id.eq(skill_id))
            .filter(endorsements::endorser_id.eq(endorser.id));
        let had = mine.count().get_result::<i64>(c)? > 0;
        if on == had {
            return Ok::<_, AppError>(());
        }
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
        let (endorser, person, skill) = (endorser.id, target.id, name.clone());
        let news = match (target.is_local(), on) {
            (true, _) => Event::ProfileChanged { account: person },
            // The endorser is ours (checked above): their site is told.
            (false, true) => Event::Endorsed {
                endorser,
                person,
                skill,
            },
            (false, false) => Event::Unendorsed {
                endorser,
                person,
                skill,
            },
        };
        events::record(c, news)?;
        Ok(())
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
    let ids: Vec<i64> = names.iter().map(|n| n.0).collect();
    let counts = counts(conn, &[user], &ids)?;
    let mine: Vec<i64> = endorsements::table
        .filter(endorsements::user_id.eq(user))
        .filter(endorsements::endorser_id.eq(viewer))
        .select(endorsements::skill_id)
        .load(conn)?;
    Ok(names
        .into_iter()
        .map(|(id, skill)| Endorsed {
            count: counts.get(&(user, id)).copied().unwrap_or(0),
            mine: mine.contains(&id),
            skill,
        })
        .collect())
}

/// How many people endorse each of the skills `skill_ids` of each of
/// `people`, by (person, skill): those kept here whose account is enabled,
/// or, for a person of another site, the count their site publishes when
/// it is more. Pairs without any are left out.
pub fn counts(
    conn: &mut DbConn,
    people: &[i64],
    skill_ids: &[i64],
) -> AppResult<HashMap<(i64, i64), i64>> {
    let mut out: HashMap<(i64, i64), i64> = HashMap::new();
    if people.is_empty() || skill_ids.is_empty() {
        return Ok(out);
    }
    let here: Vec<(i64, i64, i64)> = endorsements::table
        .inner_join(users::table.on(users::id.eq(endorsements::endorser_id)))
        .filter(endorsements::user_id.eq_any(people))
        .filter(endorsements::skill_id.eq_any(skill_ids))
        .filter(users::disabled.eq(false))
        .group_by((endorsements::user_id, endorsements::skill_id))
        .select((
            endorsements::user_id,
            endorsements::skill_id,
            diesel::dsl::count_star(),
        ))
        .load(conn)?;
    let published: Vec<(i64, i64, i64)> = remote_endorsements::table
        .filter(remote_endorsements::user_id.eq_any(people))
        .filter(remote_endorsements::skill_id.eq_any(skill_ids))
        .select((
            remote_endorsements::user_id,
            remote_endorsements::skill_id,
            remote_endorsements::count,
        ))
        .load(conn)?;
    for (user, skill, n) in here.into_iter().chain(published) {
        let e = out.entry((user, skill)).or_insert(0);
        *e = (*e).max(n);
    }
    Ok(out)
}

/// Keeps the counts of endorsements the site of the remote person `user`
/// publishes for their skills (`(skill, count)`, skill names normalised),
/// inside the write transaction that stored their skills. Counts of skills
/// they do not declare are ignored; each is bounded by [`MAX_PUBLISHED`].
pub(super) fn store_published(
    c: &mut DbConn,
    user: i64,
    published: &[(String, i64)],
) -> QueryResult<()> {
    diesel::delete(remote_endorsements::table.filter(remote_endorsements::user_id.eq(user)))
        .execute(c)?;
    let declared: Vec<(i64, String)> = user_skills::table
        .inner_join(skills::table)
        .filter(user_skills::user_id.eq(user))
        .select((skills::id, skills::name))
        .load(c)?;
    for (id, name) in declared {
        let n = published
            .iter()
            .filter(|(s, _)| *s == name)
            .map(|(_, n)| *n)
            .max()
            .unwrap_or(0)
            .min(MAX_PUBLISHED);
        if n > 0 {
            diesel::insert_into(remote_endorsements::table)
                .values((
                    remote_endorsements::user_id.eq(user),
                    remote_endorsements::skill_id.eq(id),
                    remote_endorsements::count.eq(n),
                ))
                .execute(c)?;
        }
    }
    Ok(())
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
