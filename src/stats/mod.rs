//! The figures that tell administrators how the site lives: its people,
//! how many of them were active lately, what they write, its communities
//! and the other instances' people known here.
//!
//! "Active" means signed in, wrote (a post or a comment) or reacted within
//! the period: this instance keeps no other trace of a visit.

use std::collections::HashSet;

use chrono::Duration;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{content, reactions, sessions, users};
use crate::db::{now, DbConn};
use crate::error::AppResult;

#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    /// People of this site, enabled.
    pub people: i64,
    pub admins: i64,
    pub disabled: i64,
    pub active_7_days: i64,
    pub active_30_days: i64,
    /// Posts written here (not deleted), and of them the last 7 days'.
    pub posts: i64,
    pub posts_7_days: i64,
    pub comments_7_days: i64,
    /// Communities of this site.
    pub communities: i64,
    /// People and communities of other instances known here.
    pub remote_people: i64,
    pub remote_communities: i64,
}

fn local_people(kind: &'static str) -> users::BoxedQuery<'static, crate::db::MultiBackend> {
    users::table
        .filter(users::domain.is_null())
        .filter(users::deleted_at.is_null())
        .filter(users::actor_type.eq(kind))
        .into_boxed()
}

/// Local people active since `days` ago.
fn active(conn: &mut DbConn, days: i64) -> AppResult<i64> {
    let since = now() - Duration::days(days);
    let local = users::table
        .filter(users::domain.is_null())
        .filter(users::disabled.eq(false))
        .select(users::id);
    let mut ids: HashSet<i64> = HashSet::new();
    ids.extend(
        sessions::table
            .filter(sessions::created_at.ge(since))
            .select(sessions::user_id)
            .distinct()
            .load::<i64>(conn)?,
    );
    ids.extend(
        content::table
            .filter(content::created_at.ge(since))
            .filter(content::author_id.eq_any(local))
            .select(content::author_id)
            .distinct()
            .load::<i64>(conn)?,
    );
    ids.extend(
        reactions::table
            .filter(reactions::created_at.ge(since))
            .filter(reactions::user_id.eq_any(local))
            .select(reactions::user_id)
            .distinct()
            .load::<i64>(conn)?,
    );
    Ok(ids.len() as i64)
}

pub fn dashboard(conn: &mut DbConn) -> AppResult<Dashboard> {
    let week = now() - Duration::days(7);
    let count = |conn: &mut DbConn, q: users::BoxedQuery<'static, crate::db::MultiBackend>| {
        q.count().get_result::<i64>(conn)
    };
    let local_authors = users::table
        .filter(users::domain.is_null())
        .select(users::id);
    let written = |since: Option<chrono::NaiveDateTime>, posts: bool| {
        let mut q = content::table
            .filter(content::deleted_at.is_null())
            .filter(content::author_id.eq_any(local_authors))
            .into_boxed();
        q = match posts {
            true => q.filter(content::root_id.is_null()),
            false => q.filter(content::root_id.is_not_null()),
        };
        if let Some(s) = since {
            q = q.filter(content::created_at.ge(s));
        }
        q.count()
    };
    Ok(Dashboard {
        people: count(
            conn,
            local_people("person").filter(users::disabled.eq(false)),
        )?,
        admins: count(
            conn,
            local_people("person").filter(users::is_admin.eq(true)),
        )?,
        disabled: count(
            conn,
            local_people("person").filter(users::disabled.eq(true)),
        )?,
        active_7_days: active(conn, 7)?,
        active_30_days: active(conn, 30)?,
        posts: written(None, true).get_result(conn)?,
        posts_7_days: written(Some(week), true).get_result(conn)?,
        comments_7_days: written(Some(week), false).get_result(conn)?,
        communities: count(conn, local_people("group"))?,
        remote_people: users::table
            .filter(users::domain.is_not_null())
            .filter(users::actor_type.eq("person"))
            .count()
            .get_result(conn)?,
        remote_communities: users::table
            .filter(users::domain.is_not_null())
            .filter(users::actor_type.eq("group"))
            .count()
            .get_result(conn)?,
    })
}
