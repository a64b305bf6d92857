//! Notifications: mentions, replies, new followers and community news
//! (and the posts and documents of the communities one watches:
//! [`watch`]), from this instance or another one. The features decide who is told and
//! write it with [`record`], the one writer, in the transaction of the
//! change.

pub mod by_mail;
pub mod watch;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::accounts::PersonSummary;
use crate::db::schema::{notifications, users};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult};

/// One person to tell about something.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = notifications)]
pub struct NewNotification {
    /// The local person told.
    pub user_id: i64,
    /// `mention`, `reply`, `follow`, `community_…`.
    pub kind: &'static str,
    /// Who did it (a person or a community).
    pub actor_id: i64,
    pub content_id: Option<i64>,
    pub community_id: Option<i64>,
    pub created_at: NaiveDateTime,
}

impl NewNotification {
    pub fn to(user_id: i64, kind: &'static str, actor_id: i64) -> NewNotification {
        NewNotification {
            user_id,
            kind,
            actor_id,
            content_id: None,
            community_id: None,
            created_at: now(),
        }
    }
    pub fn about_content(mut self, id: Option<i64>) -> NewNotification {
        self.content_id = id;
        self
    }
    pub fn about_community(mut self, id: i64) -> NewNotification {
        self.community_id = Some(id);
        self
    }
}

/// Writes a notification with the caller's connection, inside the caller's
/// write transaction, and queues its e-mail when the person wants one.
pub fn record(c: &mut DbConn, n: NewNotification) -> AppResult<()> {
    let (user_id, kind) = (n.user_id, n.kind);
    let id: i64 = diesel::insert_into(notifications::table)
        .values(n)
        .returning(notifications::id)
        .get_result(c)?;
    by_mail::queue(c, id, user_id, kind)
}

/// Notifies the local people among `users` (other than `actor`) of
/// something about a content row, inside a write transaction.
pub(crate) fn notify(
    c: &mut DbConn,
    users: &[i64],
    kind: &'static str,
    actor: i64,
    content: Option<i64>,
) -> AppResult<()> {
    let who: Vec<i64> = users.iter().copied().filter(|u| *u != actor).collect();
    if who.is_empty() {
        return Ok(());
    }
    let local: Vec<i64> = users::table
        .filter(users::id.eq_any(&who))
        .filter(users::domain.is_null())
        .select(users::id)
        .load(c)?;
    for uid in local {
        record(
            c,
            NewNotification::to(uid, kind, actor).about_content(content),
        )?;
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    pub id: i64,
    /// `mention`, `reply` or `follow`.
    pub kind: String,
    pub actor: PersonSummary,
    pub content_id: Option<i64>,
    /// The community it is about (invitations, requests, acceptances).
    pub community: Option<String>,
    #[serde(serialize_with = "crate::db::utc::serialize")]
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
    let rows: Vec<Row> = notifications::table
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
        .load(conn)?;
    let ids: Vec<i64> = rows.iter().filter_map(|r| r.6).collect();
    let names: Vec<(i64, String)> = if ids.is_empty() {
        Vec::new()
    } else {
        users::table
            .filter(users::id.eq_any(&ids))
            .select((users::id, users::username))
            .load(conn)?
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
    notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::read_at.is_null())
        .count()
        .get_result(conn)
        .map_err(AppError::from)
}

/// The newest notification's id (0 when none): when it moves, someone
/// may have a new one.
pub fn latest_id(conn: &mut DbConn) -> AppResult<i64> {
    let max: Option<i64> = notifications::table
        .select(diesel::dsl::max(notifications::id))
        .first(conn)?;
    Ok(max.unwrap_or(0))
}

/// Marks all of a person's notifications read.
pub fn mark_read(conn: &mut DbConn, user_id: i64) -> AppResult<()> {
    db::write(conn, |c| {
        diesel::update(
            notifications::table
                .filter(notifications::user_id.eq(user_id))
                .filter(notifications::read_at.is_null()),
        )
        .set(notifications::read_at.eq(Some(now())))
        .execute(c)
    })?;
    Ok(())
}
