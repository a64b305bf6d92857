//! Posts in communities: publishing (members only), moderator removal and
//! pinned announcements. Comments and reactions go through `content`, whose
//! visibility filter already knows communities.

use diesel::prelude::*;

use super::{get, get_readable, log_act, membership::require_moderator, Community};
use crate::accounts::User;
use crate::content::{self, ContentRow};
use crate::db::schema::content as content_t;
use crate::db::{now, DbConn};
use crate::error::{AppError, AppResult};
use crate::events::{self, Event};

/// A member publishes a post in a community.
pub fn post(
    conn: &mut DbConn,
    max_chars: usize,
    author: &User,
    name: &str,
    text: &content::Text,
    media: &[i64],
) -> AppResult<ContentRow> {
    let c = writer(conn, author, name)?;
    content::create_in_community(conn, max_chars, author, c.id, text, media)
}

/// A member asks a poll in a community.
pub fn post_poll(
    conn: &mut DbConn,
    max_chars: usize,
    author: &User,
    name: &str,
    text: &content::Text,
    poll: &content::poll::NewPoll,
) -> AppResult<ContentRow> {
    let c = writer(conn, author, name)?;
    content::poll::create(
        conn,
        max_chars,
        author,
        text,
        content::Place::Community(c.id),
        poll,
    )
}

/// A member asks a survey or a quiz in a community.
pub fn post_survey(
    conn: &mut DbConn,
    max_chars: usize,
    author: &User,
    name: &str,
    text: &content::Text,
    survey: &content::survey::NewSurvey,
) -> AppResult<ContentRow> {
    let c = writer(conn, author, name)?;
    content::survey::create(
        conn,
        max_chars,
        author,
        text,
        content::Place::Community(c.id),
        survey,
    )
}

/// A member submits an idea to a community: its title and its text.
pub fn post_idea(
    conn: &mut DbConn,
    max_chars: usize,
    author: &User,
    name: &str,
    title: &str,
    text: &content::Text,
) -> AppResult<ContentRow> {
    let c = writer(conn, author, name)?;
    content::idea::create(conn, max_chars, author, c.id, title, text)
}

/// A member asks a question in a community: its title and its details.
pub fn post_question(
    conn: &mut DbConn,
    max_chars: usize,
    author: &User,
    name: &str,
    title: &str,
    text: &content::Text,
) -> AppResult<ContentRow> {
    let c = writer(conn, author, name)?;
    content::question::create(
        conn,
        max_chars,
        author,
        title,
        text,
        content::Place::Community(c.id),
    )
}

/// A member plans an event in a community: its details and description.
pub fn post_event(
    conn: &mut DbConn,
    max_chars: usize,
    author: &User,
    name: &str,
    text: &content::Text,
    event: &content::event::NewEvent,
) -> AppResult<ContentRow> {
    let c = writer(conn, author, name)?;
    content::event::create(
        conn,
        max_chars,
        author,
        text,
        content::Place::Community(c.id),
        event,
    )
}

/// A moderator of a community of this site moves one of its ideas (new,
/// under review, accepted, done, or declined with a reason); the move is
/// logged, its author and those who voted are told, and the community
/// tells its member instances. A community of another instance moves its
/// ideas there. Returns the idea as the moderator now sees it.
pub fn move_idea(
    conn: &mut DbConn,
    actor: &User,
    id: i64,
    status: content::idea::Status,
    reason: &str,
) -> AppResult<content::idea::View> {
    let row = content::get_visible(conn, actor.id, id)?;
    let Some(community) = row.community_id.filter(|_| row.kind == "idea") else {
        return Err(AppError::not_found());
    };
    let c = super::by_id(conn, actor.id, community)?;
    require_moderator(&c, actor)?;
    if !c.is_local() {
        return Err(AppError::bad_request("idea_community_remote"));
    }
    crate::db::write(conn, |cx| {
        if content::idea::move_to(cx, c.id, row.id, status, reason)? {
            log_act(
                cx,
                c.id,
                actor.id,
                "idea_status",
                None::<i64>,
                Some(row.id),
                status.as_str(),
            )?;
        }
        Ok::<_, AppError>(())
    })?;
    content::idea::view(conn, actor.id, id)
}

/// The community `name`, if `author` may write in it (its members).
fn writer(conn: &mut DbConn, author: &User, name: &str) -> AppResult<Community> {
    let c = get(conn, author.id, name)?;
    if !c.is_member() {
        return Err(if c.my_status.as_deref() == Some("banned") {
            AppError::forbidden("community_banned")
        } else {
            AppError::forbidden("community_members_only")
        });
    }
    Ok(c)
}

/// A post of this community, or 404.
fn post_of(conn: &mut DbConn, viewer: i64, c: &Community, id: i64) -> AppResult<ContentRow> {
    let row = content::get_visible(conn, viewer, id)?;
    if row.community_id != Some(c.id) {
        return Err(AppError::not_found());
    }
    Ok(row)
}

/// A moderator removes a post or comment; its author's instance and every
/// member instance are told.
pub fn remove_post(
    conn: &mut DbConn,
    actor: &User,
    name: &str,
    id: i64,
    reason: &str,
) -> AppResult<()> {
    let c = get_readable(conn, actor.id, name)?;
    let row = post_of(conn, actor.id, &c, id)?;
    let own = row.author_id == actor.id;
    if !own {
        require_moderator(&c, actor)?;
    }
    // The author's own deletion is theirs to send. A moderator's removal is
    // sent by the community itself; a moderator elsewhere sends it to the
    // community, which logs it and tells every member instance.
    let (sender, detail) = match (own, c.is_local()) {
        (false, true) => (c.id, ""),
        (false, false) => (actor.id, reason),
        (true, _) => (actor.id, ""),
    };
    crate::db::write(conn, |cx| {
        content::tombstone(cx, row.id)?;
        if c.is_local() {
            log_act(
                cx,
                c.id,
                actor.id,
                "remove_post",
                Some(row.author_id),
                Some(row.id),
                reason,
            )?;
        }
        events::record(
            cx,
            Event::Deleted {
                by: sender,
                content: row.id,
                reason: (!detail.is_empty()).then(|| detail.to_string()),
            },
        )?;
        Ok::<_, AppError>(())
    })
}

/// A moderator pins (or unpins) a post as an announcement.
pub fn pin(conn: &mut DbConn, actor: &User, name: &str, id: i64, on: bool) -> AppResult<()> {
    let c = get_readable(conn, actor.id, name)?;
    require_moderator(&c, actor)?;
    let row = post_of(conn, actor.id, &c, id)?;
    if row.root_id.is_some() {
        return Err(AppError::bad_request("community_pin_comment"));
    }
    let at = if on { Some(now()) } else { None };
    crate::db::write(conn, |cx| {
        diesel::update(content_t::table.find(row.id))
            .set(content_t::pinned_at.eq(at))
            .execute(cx)?;
        if c.is_local() {
            log_act(
                cx,
                c.id,
                actor.id,
                if on { "pin" } else { "unpin" },
                None::<i64>,
                Some(row.id),
                "",
            )?;
            // Member instances learn it from an Update sent by the community.
            events::record(
                cx,
                Event::Edited {
                    by: c.id,
                    content: row.id,
                },
            )?;
        } else {
            // The community decides, logs it and tells its member instances.
            let request = serde_json::json!({
                "act": if on { "pin" } else { "unpin" },
                "post": row.id,
            });
            super::ask_host(cx, actor.id, c.id, &request)?;
        }
        Ok::<_, AppError>(())
    })
}
