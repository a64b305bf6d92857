//! Content written on other instances, applied through the same envelope:
//! the federation inbox translates activities into these calls.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::ContentRow;
use crate::audience::{self, Visibility};
use crate::db::schema::{content, content_tags, mentions, users};
use crate::events::{self, Event};

use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult};
use crate::notifications::notify;

/// A remote post or comment, already validated and sanitised.
pub struct Incoming {
    pub ap_id: String,
    pub author_id: i64,
    /// Local id of the content it answers.
    pub reply_to: Option<i64>,
    /// `Public`, `Followers` or `Direct` (for replies, the narrowest of
    /// this and the thread's visibility is kept: see
    /// [`audience::narrowest`]).
    pub visibility: Visibility,
    pub body: String,
    pub body_html: String,
    pub tags: Vec<String>,
    pub mentions: Vec<i64>,
    pub published: NaiveDateTime,
    /// The id of the activity that brought it, recorded as applied in the
    /// same transaction (so that a repeat is recognised exactly when the
    /// content is stored).
    pub activity_id: Option<String>,
    /// Whether it arrives as news (an activity received now), rather than
    /// fetched for context or back-filled: only news is told to the
    /// community's watchers.
    pub news: bool,
    /// The community it was written in.
    pub community_id: Option<i64>,
    /// A document version it announces (content of a remote community).
    pub document: Option<super::document_entry::RemoteVersion>,
    /// Pinned as an announcement by its community (said by the community's
    /// host only).
    pub pinned: bool,
    /// Marked as a must-read by its community (said by the community's
    /// host only).
    pub must_read: bool,
    /// Its pictures and files.
    pub media: Vec<super::media::Remote>,
    /// The poll it asks (a `Question`), with its instance's counts.
    pub poll: Option<super::poll::Remote>,
    /// The survey or quiz it asks (`ruche:survey`).
    pub survey: Option<super::survey::Remote>,
    /// The idea it is (a post of a community with Ruche's idea status),
    /// as published.
    pub idea: Option<super::idea::Remote>,
    /// The question it asks (a titled post with Ruche's question mark).
    pub question: Option<super::question::Remote>,
    /// The event it is (an `Event`), with its instance's counts.
    pub event: Option<super::event::Remote>,
}

/// Whether what `author` publishes in `community` is its host's word: a
/// community of another instance, and an author of that instance (the
/// status of an idea is taken from no one else).
fn host_speaks(c: &mut DbConn, author: i64, community: Option<i64>) -> AppResult<bool> {
    let Some(id) = community else {
        return Ok(false);
    };
    let domains: Vec<(i64, Option<String>)> = users::table
        .filter(users::id.eq_any([id, author]))
        .select((users::id, users::domain))
        .load(c)?;
    let of = |who: i64| {
        domains
            .iter()
            .find(|(u, _)| *u == who)
            .and_then(|(_, d)| d.clone())
    };
    Ok(matches!((of(id), of(author)), (Some(a), Some(b)) if a == b))
}

/// Whether a community is hosted here: then what its members do elsewhere
/// is redistributed by it (an event in the same transaction).
pub(super) fn hosted_here(c: &mut DbConn, community: Option<i64>) -> AppResult<bool> {
    let Some(id) = community else {
        return Ok(false);
    };
    let domain: Option<String> = users::table.find(id).select(users::domain).first(c)?;
    Ok(domain.is_none())
}

/// A post of this site of kind `kind` (a poll, a survey) that a person of
/// another instance, `who`, answers through their instance, `reader`: only
/// what that instance may read (never a post of this site only, an
/// organisation's only from a member instance, one for followers only from
/// an instance of a follower). In a community of this site only its
/// members answer; in a community of another instance, whose members are
/// known there, the instance's right to read it decides; outside
/// communities, the person must see it. 404 otherwise.
pub(super) fn answered_from_afar(
    conn: &mut DbConn,
    who: i64,
    reader: &audience::Instance,
    id: i64,
    kind: &str,
) -> AppResult<ContentRow> {
    let row: ContentRow = content::table
        .find(id)
        .filter(content::deleted_at.is_null())
        .filter(content::kind.eq(kind))
        // Only a post's own instance counts what it is answered.
        .filter(content::ap_id.is_null())
        .select(ContentRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(AppError::not_found)?;
    let item = row.audience_item();
    let instance = audience::Viewer::Instance(reader.clone());
    if !audience::may_read_item(conn, &instance, &item, &item)? {
        return Err(AppError::not_found());
    }
    match row.community_id {
        Some(_) if hosted_here(conn, row.community_id)? => {
            super::require_member(conn, who, row.community_id)?
        }
        Some(_) => {}
        None => {
            super::get_visible(conn, who, id)?;
        }
    }
    Ok(row)
}

pub fn find_by_ap_id(conn: &mut DbConn, ap_id: &str) -> AppResult<Option<ContentRow>> {
    content::table
        .filter(content::ap_id.eq(ap_id))
        .select(ContentRow::as_select())
        .first(conn)
        .optional()
        .map_err(AppError::from)
}

/// Replaces (`fresh`: only adds) the hashtags and mentions of a row.
fn replace_links(
    c: &mut DbConn,
    id: i64,
    tags: &[String],
    mentioned: &[i64],
    fresh: bool,
) -> AppResult<()> {
    if !fresh {
        diesel::delete(content_tags::table.filter(content_tags::content_id.eq(id))).execute(c)?;
        diesel::delete(mentions::table.filter(mentions::content_id.eq(id))).execute(c)?;
    }
    for tag in tags {
        diesel::insert_into(content_tags::table)
            .values((content_tags::content_id.eq(id), content_tags::tag.eq(tag)))
            .execute(c)?;
    }
    for uid in mentioned {
        diesel::insert_into(mentions::table)
            .values((mentions::content_id.eq(id), mentions::user_id.eq(uid)))
            .execute(c)?;
    }
    crate::index::content(c, id)?;
    Ok(())
}

/// Stores a remote post or comment once. Returns its id and whether it was
/// stored now (`false`: it was already there, and its activity id was not
/// recorded).
pub fn store(conn: &mut DbConn, inc: Incoming) -> AppResult<(i64, bool)> {
    if let Some(row) = find_by_ap_id(conn, &inc.ap_id)? {
        return Ok((row.id, false));
    }
    let parent: Option<ContentRow> = match inc.reply_to {
        Some(p) => Some(
            content::table
                .find(p)
                .select(ContentRow::as_select())
                .first(conn)?,
        ),
        None => None,
    };
    let (kind, root, visibility, community) = match &parent {
        Some(p) => (
            "comment",
            Some(p.root_id.unwrap_or(p.id)),
            audience::narrowest(p.visibility, inc.visibility, p.author_id == inc.author_id),
            p.community_id,
        ),
        None if inc.community_id.is_some() => {
            ("post", None, Visibility::Community, inc.community_id)
        }
        None => ("post", None, inc.visibility, None),
    };
    if community != inc.community_id {
        // A reply must stay in its thread's community (or outside any).
        return Err(AppError::bad_request("activity_invalid").with("field", "inReplyTo"));
    }
    let mut tags = inc.tags.clone();
    tags.sort();
    tags.dedup();
    let mut mentioned = inc.mentions.clone();
    mentioned.sort_unstable();
    mentioned.dedup();
    db::write(conn, |c| {
        let id: i64 = diesel::insert_into(content::table)
            .values((
                content::ap_id.eq(&inc.ap_id),
                content::kind.eq(kind),
                content::author_id.eq(inc.author_id),
                content::reply_to_id.eq(parent.as_ref().map(|p| p.id)),
                content::root_id.eq(root),
                content::visibility.eq(&visibility),
                content::community_id.eq(community),
                content::body.eq(&inc.body),
                content::body_html.eq(&inc.body_html),
                content::created_at.eq(inc.published.min(now())),
                content::pinned_at.eq((inc.pinned && root.is_none()).then(now)),
            ))
            .returning(content::id)
            .get_result(c)?;
        if let (Some(p), None) = (&inc.poll, &parent) {
            super::poll::store_remote(c, id, p)?;
        }
        if let (Some(s), None) = (&inc.survey, &parent) {
            super::survey::store_remote(c, id, s)?;
        }
        if let (Some(q), None) = (&inc.question, &parent) {
            super::question::store_remote(c, id, q)?;
        }
        if let (Some(e), None) = (&inc.event, &parent) {
            super::event::store_remote(c, id, e)?;
        }
        if let (true, None, Some(_)) = (inc.must_read, &parent, community) {
            let row: ContentRow = content::table
                .find(id)
                .select(ContentRow::as_select())
                .first(c)?;
            super::must_read::set_remote(c, &row, true)?;
        }
        if let (Some(i), None, Some(_)) = (&inc.idea, &parent, community) {
            let trusted = host_speaks(c, inc.author_id, community)?;
            super::idea::store_remote(c, id, i, trusted)?;
        }
        replace_links(c, id, &tags, &mentioned, true)?;
        super::media::record_remote(c, inc.author_id, id, &inc.media)?;
        if let (Some(v), Some(cm)) = (&inc.document, community) {
            let (text, html) =
                super::document_entry::mirror_version(c, cm, id, inc.author_id, v, inc.published)?;
            diesel::update(content::table.find(id))
                .set((
                    content::kind.eq("document"),
                    content::body.eq(&text),
                    content::body_html.eq(&html),
                ))
                .execute(c)?;
            crate::index::content(c, id)?;
        }
        if hosted_here(c, community)? {
            events::record(
                c,
                Event::Published {
                    author: inc.author_id,
                    content: id,
                },
            )?;
        }
        notify(c, &mentioned, "mention", inc.author_id, Some(id))?;
        if let Some(p) = &parent {
            notify(c, &[p.author_id], "reply", inc.author_id, Some(id))?;
        }
        if let (None, Some(cm), true) = (&parent, community, inc.news) {
            // A new post, or a new version of a document, in a community
            // some here watch (the version as stored here decides which).
            let (kind, earlier) = match super::document_entry::version_of(c, id)? {
                Some(v) if v > 1 => (
                    "document_updated",
                    super::document_entry::earlier_authors(c, id)?,
                ),
                _ => ("community_post", Vec::new()),
            };
            crate::notifications::watch::tell(
                c,
                cm,
                kind,
                inc.author_id,
                id,
                &earlier,
                &mentioned,
            )?;
        }
        if let Some(activity) = &inc.activity_id {
            use crate::db::schema::inbox_seen;
            diesel::insert_into(inbox_seen::table)
                .values((
                    inbox_seen::activity_id.eq(activity),
                    inbox_seen::received_at.eq(now()),
                ))
                .execute(c)?;
        }
        Ok((id, true))
    })
}

/// Applies an edit by the remote author; anyone else is refused.
pub fn update(conn: &mut DbConn, author_id: i64, inc: Incoming) -> AppResult<()> {
    let row = find_by_ap_id(conn, &inc.ap_id)?.ok_or_else(AppError::not_found)?;
    if row.author_id != author_id {
        return Err(AppError::forbidden("not_author"));
    }
    if row.deleted_at.is_some() {
        return Ok(());
    }
    let mut mentioned = inc.mentions.clone();
    mentioned.sort_unstable();
    mentioned.dedup();
    let mut tags = inc.tags.clone();
    tags.sort();
    tags.dedup();
    // A poll's instance publishes its new counts as an Update of it: the
    // text is edited only when it changed.
    let edited = row.body_html != inc.body_html;
    db::write(conn, |c| {
        if let (Some(p), None) = (&inc.poll, row.root_id) {
            super::poll::refresh_remote(c, row.id, p)?;
        }
        if let (Some(s), None, "survey") = (&inc.survey, row.root_id, row.kind.as_str()) {
            super::survey::refresh_remote(c, row.id, s)?;
        }
        if let (Some(q), None) = (&inc.question, row.root_id) {
            // Its asker's word: its title and the answer accepted.
            super::question::refresh_remote(c, row.id, q, true)?;
        }
        if let (Some(e), None, "event") = (&inc.event, row.root_id, row.kind.as_str()) {
            // Its organiser's word: its details and counts.
            super::event::refresh_remote(c, row.id, e)?;
        }
        if let (Some(i), None) = (&inc.idea, row.root_id) {
            // Its author edits the title; where it stands is the word of
            // the community's host only.
            let trusted = host_speaks(c, row.author_id, row.community_id)?;
            super::idea::refresh_remote(c, row.id, i, trusted, true)?;
        }
        if edited {
            super::keep_revision(c, &row)?;
            diesel::update(content::table.find(row.id))
                .set((
                    content::body.eq(&inc.body),
                    content::body_html.eq(&inc.body_html),
                    content::edited_at.eq(now()),
                ))
                .execute(c)?;
            replace_links(c, row.id, &tags, &mentioned, false)?;
        }
        if hosted_here(c, row.community_id)? {
            events::record(
                c,
                Event::Edited {
                    by: author_id,
                    content: row.id,
                },
            )?;
        }
        Ok(())
    })
}

/// Deletes remote content on its author's word; anyone else is refused.
pub fn delete(conn: &mut DbConn, author_id: i64, ap_id: &str) -> AppResult<()> {
    let Some(row) = find_by_ap_id(conn, ap_id)? else {
        // Never seen: nothing to delete.
        return Ok(());
    };
    if row.author_id != author_id {
        return Err(AppError::forbidden("not_author"));
    }
    db::write(conn, |c| {
        super::tombstone(c, row.id)?;
        if hosted_here(c, row.community_id)? {
            events::record(
                c,
                Event::Deleted {
                    by: author_id,
                    content: row.id,
                    reason: None,
                },
            )?;
        }
        Ok(())
    })
}

/// The content row `local_id` (ours) or `ap_id` of community `community`.
pub(crate) fn in_community(
    conn: &mut DbConn,
    community: i64,
    local_id: Option<i64>,
    ap_id: &str,
) -> AppResult<Option<ContentRow>> {
    let row = match local_id {
        Some(id) => content::table
            .find(id)
            .select(ContentRow::as_select())
            .first(conn)
            .optional()?,
        None => find_by_ap_id(conn, ap_id)?,
    };
    match row {
        Some(r) if r.community_id != Some(community) => {
            Err(AppError::forbidden("announce_not_community"))
        }
        other => Ok(other),
    }
}

/// A remote community's moderator pinned or unpinned one of its posts.
pub fn pin_in_community(
    conn: &mut DbConn,
    community: i64,
    local_id: Option<i64>,
    ap_id: &str,
    pinned: bool,
) -> AppResult<()> {
    let Some(row) = in_community(conn, community, local_id, ap_id)? else {
        return Ok(());
    };
    if row.root_id.is_some() || row.pinned_at.is_some() == pinned {
        return Ok(());
    }
    let at = if pinned { Some(now()) } else { None };
    db::write(conn, |c| {
        diesel::update(content::table.find(row.id))
            .set(content::pinned_at.eq(at))
            .execute(c)
    })?;
    Ok(())
}

/// A remote community's moderator removed content of that community (ours
/// or another instance's): it becomes a tombstone here too.
pub fn remove_from_community(
    conn: &mut DbConn,
    community: i64,
    local_id: Option<i64>,
    ap_id: &str,
) -> AppResult<()> {
    let Some(row) = in_community(conn, community, local_id, ap_id)? else {
        return Ok(());
    };
    db::write(conn, |c| {
        super::tombstone(c, row.id)?;
        Ok(())
    })
}

/// Marks every piece of content of a deleted remote account as deleted.
pub fn delete_all_of(conn: &mut DbConn, author_id: i64) -> AppResult<usize> {
    let n = db::write(conn, |c| {
        crate::index::forget_content_of(c, author_id)?;
        super::must_read::forget_author(c, author_id)?;
        diesel::update(
            content::table
                .filter(content::author_id.eq(author_id))
                .filter(content::deleted_at.is_null()),
        )
        .set((
            content::body.eq(""),
            content::body_html.eq(""),
            content::deleted_at.eq(now()),
        ))
        .execute(c)
    })?;
    Ok(n)
}
