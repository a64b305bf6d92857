//! Notifications: mentions, replies and new followers, from this instance
//! or another one. Rows are written by the features in the transaction of
//! the change (see the `notify!` macro in `content`).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{notifications, users};
use crate::db::{now, DbConn};
use crate::error::{AppError, AppResult};
use crate::people::PersonSummary;
use crate::{with_conn, write_tx};

#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    pub id: i64,
    /// `mention`, `reply` or `follow`.
    pub kind: String,
    pub actor: PersonSummary,
    pub content_id: Option<i64>,
    /// The community it is about (invitations, requests, acceptances).
    pub community: Option<String>,
    pub created_at: NaiveDateTime,
    pub read: bool,
}

impl Notification {
    /// Whether the community itself is the actor (an acceptance or an
    /// invitation from a community of another instance).
    pub fn from_community(&self) -> bool {
        self.community.as_deref() == Some(self.actor.username.as_str())
    }

    /// Translation key of what happened.
    pub fn key(&self) -> String {
        format!("notifications.{}", self.kind)
    }
}

/// The newest notifications of a person.
pub fn list(conn: &mut DbConn, user_id: i64, limit: i64) -> AppResult<Vec<Notification>> {
    type Row = (
        i64,
        String,
        Option<i64>,
        NaiveDateTime,
        Option<NaiveDateTime>,
        PersonSummary,
        Option<i64>,
    );
    let rows: Vec<Row> = with_conn!(conn, c => notifications::table
        .inner_join(users::table.on(users::id.eq(notifications::actor_id)))
        .filter(notifications::user_id.eq(user_id))
        .order(notifications::id.desc())
        .limit(limit)
        .select((
            notifications::id,
            notifications::kind,
            notifications::content_id,
            notifications::created_at,
            notifications::read_at,
            PersonSummary::as_select(),
            notifications::community_id,
        ))
        .load(c))?;
    let ids: Vec<i64> = rows.iter().filter_map(|r| r.6).collect();
    let names: Vec<(i64, String)> = if ids.is_empty() {
        Vec::new()
    } else {
        with_conn!(conn, c => users::table
            .filter(users::id.eq_any(&ids))
            .select((users::id, users::username))
            .load(c))?
    };
    Ok(rows
        .into_iter()
        .map(
            |(id, kind, content_id, created_at, read_at, actor, community)| Notification {
                id,
                kind,
                actor,
                content_id,
                community: community
                    .and_then(|c| names.iter().find(|(i, _)| *i == c).map(|(_, n)| n.clone())),
                created_at,
                read: read_at.is_some(),
            },
        )
        .collect())
}

/// How many are unread.
pub fn unread(conn: &mut DbConn, user_id: i64) -> AppResult<i64> {
    with_conn!(conn, c => notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::read_at.is_null())
        .count()
        .get_result(c)
        .map_err(AppError::from))
}

/// Marks all of a person's notifications read.
pub fn mark_read(conn: &mut DbConn, user_id: i64) -> AppResult<()> {
    write_tx!(conn, c => diesel::update(
        notifications::table
            .filter(notifications::user_id.eq(user_id))
            .filter(notifications::read_at.is_null()),
    )
    .set(notifications::read_at.eq(Some(now())))
    .execute(c))?;
    Ok(())
}
