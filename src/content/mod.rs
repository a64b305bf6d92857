//! The content envelope: every post and comment is a row of `content`.
//! Creation, edits (with history), deletion, comments and reactions.

pub mod document_entry;
pub mod event;
pub mod idea;
pub mod media;
pub mod must_read;
pub mod poll;
pub mod question;
pub mod remote;
pub mod survey;
pub mod text;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::accounts::User;
use crate::audience::{self, Visibility};
use crate::db::schema::{content, content_revisions, content_tags, mentions, reactions, users};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult};
use crate::events::{self, Event};
use crate::markdown;
use crate::notifications::notify;
pub use text::{FindPeople, Text};

/// Who may see a post (comments share their post's audience).
impl ContentRow {
    /// What the audience checks need of this row.
    pub fn audience_item(&self) -> audience::Item {
        audience::Item {
            id: self.id,
            author: self.author_id,
            root: self.root_id,
            visibility: self.visibility,
            community: self.community_id,
            deleted: self.deleted_at.is_some(),
        }
    }
}

/// The work reactions a person can give, one of each per person.
pub const REACTIONS: [&str; 4] = ["like", "thanks", "bravo", "insightful"];

pub fn parse_reaction(kind: &str) -> AppResult<&'static str> {
    REACTIONS
        .iter()
        .find(|k| **k == kind)
        .copied()
        .ok_or_else(|| {
            AppError::bad_request("reaction_unknown").with("kinds", REACTIONS.join(", "))
        })
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = content)]
pub struct ContentRow {
    pub id: i64,
    #[serde(skip)]
    pub ap_id: Option<String>,
    pub kind: String,
    pub author_id: i64,
    pub reply_to_id: Option<i64>,
    pub root_id: Option<i64>,
    pub visibility: Visibility,
    pub body: String,
    pub body_html: String,
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::db::utc::option")]
    pub edited_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "crate::db::utc::option")]
    pub deleted_at: Option<NaiveDateTime>,
    /// The community a post (and its comments) belongs to.
    pub community_id: Option<i64>,
    /// When a moderator pinned the post as an announcement.
    #[serde(serialize_with = "crate::db::utc::option")]
    pub pinned_at: Option<NaiveDateTime>,
}

/// Characters of the title of an idea or a question, at most.
pub const MAX_TITLE: usize = 150;

/// Checks the title of an idea or a question: not empty, at most
/// [`MAX_TITLE`] characters, on one line (spaces run together).
pub fn check_title(raw: &str) -> AppResult<String> {
    crate::error::refuse_nul("title", raw)?;
    let title = one_line(raw);
    if title.is_empty() {
        return Err(AppError::bad_request("title_required"));
    }
    let n = title.chars().count();
    if n > MAX_TITLE {
        return Err(AppError::bad_request("title_too_long")
            .with("max", MAX_TITLE)
            .with("length", n));
    }
    Ok(title)
}

/// A title on one line: its spaces and line breaks run together.
fn one_line(raw: &str) -> String {
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The title of an idea or a question another instance published, on one
/// line and cut to [`MAX_TITLE`] characters; `None` when it is empty.
pub(crate) fn remote_title(raw: &str) -> Option<String> {
    let title: String = one_line(raw).chars().take(MAX_TITLE).collect();
    (!title.is_empty()).then_some(title)
}

/// A body is needed, unless pictures or files say it all (`attached`).
fn check_body(body: &str, max: usize, attached: bool) -> AppResult<()> {
    crate::error::refuse_nul("body", body)?;
    if body.trim().is_empty() && !attached {
        return Err(AppError::bad_request("post_empty"));
    }
    let n = body.chars().count();
    if n > max {
        return Err(AppError::bad_request("post_too_long")
            .with("max", max)
            .with("length", n));
    }
    Ok(())
}

/// What a body will look like once published (sanitised HTML, mentions of
/// known people as links), for a preview; nothing is stored.
pub fn preview(conn: &mut DbConn, max: usize, author: i64, body: &str) -> AppResult<String> {
    check_body(body, max, true)?;
    Ok(render_body(conn, author, body)?.html)
}

/// Renders a body, resolving mentions against known people (local ones by
/// name, remote ones as `name@domain`). Only people are mentioned: a name
/// that belongs to a community renders as plain text, like a name nobody
/// has, so a post never tells that a (secret) community exists.
fn render_body(c: &mut DbConn, author: i64, body: &str) -> AppResult<markdown::Rendered> {
    let candidates = markdown::mention_candidates(body);
    let existing: Vec<String> = if candidates.is_empty() {
        Vec::new()
    } else {
        let mut known = users::table
            .filter(users::username.eq_any(&candidates))
            .filter(users::actor_type.eq("person"))
            .select(users::username)
            .into_boxed();
        // A guest names the members of their communities; anyone else's
        // name stays plain text, so that writing tells them nobody exists.
        if crate::audience::confined(c, author)? {
            let theirs = crate::audience::communities_of(c, author)?;
            known = known.filter(users::id.eq_any(crate::audience::members_of(theirs)));
        }
        known.load(c)?
    };
    Ok(markdown::render(body, |n| existing.iter().any(|e| e == n)))
}

/// Replaces the hashtags and mentions recorded for a content row (inside a
/// write transaction); returns the ids of the people it mentions.
fn store_links(c: &mut DbConn, id: i64, rendered: &markdown::Rendered) -> AppResult<Vec<i64>> {
    diesel::delete(content_tags::table.filter(content_tags::content_id.eq(id))).execute(c)?;
    diesel::delete(mentions::table.filter(mentions::content_id.eq(id))).execute(c)?;
    for tag in &rendered.tags {
        diesel::insert_into(content_tags::table)
            .values((content_tags::content_id.eq(id), content_tags::tag.eq(tag)))
            .execute(c)?;
    }
    crate::index::content(c, id)?;
    if rendered.mentions.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = users::table
        .filter(users::username.eq_any(&rendered.mentions))
        .filter(users::actor_type.eq("person"))
        .select(users::id)
        .load(c)?;
    for uid in &ids {
        diesel::insert_into(mentions::table)
            .values((mentions::content_id.eq(id), mentions::user_id.eq(uid)))
            .execute(c)?;
    }
    Ok(ids)
}

pub fn create_post(
    conn: &mut DbConn,
    max_chars: usize,
    author: &User,
    text: &Text,
    visibility: Visibility,
    media: &[i64],
) -> AppResult<ContentRow> {
    publish(
        conn,
        max_chars,
        author,
        text,
        Place::Audience(visibility),
        media,
        Detail::Post,
    )
}

/// Publishes a post in a community (the caller checked membership).
pub fn create_in_community(
    conn: &mut DbConn,
    max_chars: usize,
    author: &User,
    community_id: i64,
    text: &Text,
    media: &[i64],
) -> AppResult<ContentRow> {
    publish(
        conn,
        max_chars,
        author,
        text,
        Place::Community(community_id),
        media,
        Detail::Post,
    )
}

/// Where a post is published: to an audience of people, or in a community.
#[derive(Debug, Clone, Copy)]
pub enum Place {
    Audience(Visibility),
    Community(i64),
}

/// What a new post is, beside its text: a plain post, or a kind that adds
/// its own details.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Detail<'a> {
    Post,
    Poll(&'a poll::Checked),
    Idea(&'a idea::Checked),
    Question(&'a question::Checked),
    Event(&'a event::Checked),
    Survey(&'a survey::Checked),
}

impl Detail<'_> {
    fn kind(self) -> &'static str {
        match self {
            Detail::Post => "post",
            Detail::Poll(_) => "poll",
            Detail::Idea(_) => "idea",
            Detail::Question(_) => "question",
            Detail::Event(_) => "event",
            Detail::Survey(_) => "survey",
        }
    }
}

/// Writes a new post (a poll, an idea: `detail`) and what comes with it, in one
/// transaction: its attachments, hashtags and mentions, the notifications,
/// the news for the community's watchers and the event other instances
/// hear of.
fn publish(
    conn: &mut DbConn,
    max_chars: usize,
    author: &User,
    text: &Text,
    place: Place,
    media: &[i64],
    detail: Detail,
) -> AppResult<ContentRow> {
    let body = text.as_str();
    // The title of an idea, a question or an event may say it all.
    let said = !media.is_empty()
        || matches!(
            detail,
            Detail::Idea(_) | Detail::Question(_) | Detail::Event(_) | Detail::Survey(_)
        );
    check_body(body, max_chars, said)?;
    let (visibility, community) = match place {
        Place::Audience(v) => {
            // A guest writes in their communities only.
            crate::accounts::guest::refuse(conn, author.id)?;
            (v, None)
        }
        Place::Community(id) => (Visibility::Community, Some(id)),
    };
    let rendered = render_body(conn, author.id, body)?;
    db::write(conn, |c| {
        let row: ContentRow = diesel::insert_into(content::table)
            .values((
                content::kind.eq(detail.kind()),
                content::author_id.eq(author.id),
                content::visibility.eq(visibility.as_str()),
                content::community_id.eq(community),
                content::body.eq(body),
                content::body_html.eq(&rendered.html),
                content::created_at.eq(now()),
            ))
            .returning(db::columns::<ContentRow>())
            .get_result(c)?;
        match detail {
            Detail::Post => {}
            Detail::Poll(p) => poll::store(c, row.id, p)?,
            Detail::Idea(i) => idea::store(c, row.id, i)?,
            Detail::Question(q) => question::store(c, row.id, q)?,
            Detail::Event(e) => event::store(c, row.id, e)?,
            Detail::Survey(s) => survey::store(c, row.id, s)?,
        }
        media::attach(c, author.id, row.id, media)?;
        let mut mentioned = store_links(c, row.id, &rendered)?;
        if let Some(community_id) = community {
            mentioned = audience::readers_among(c, community_id, &mentioned)?;
        }
        notify(c, &mentioned, "mention", author.id, Some(row.id))?;
        if let Some(community_id) = community {
            crate::notifications::watch::tell(
                c,
                community_id,
                "community_post",
                author.id,
                row.id,
                &[],
                &mentioned,
            )?;
        }
        events::record(
            c,
            Event::Published {
                author: author.id,
                content: row.id,
            },
        )?;
        Ok(row)
    })
}

/// Adds a comment under a post or another comment the author can see.
pub fn create_comment(
    conn: &mut DbConn,
    max_chars: usize,
    author: &User,
    parent_id: i64,
    text: &Text,
    media: &[i64],
) -> AppResult<ContentRow> {
    let body = text.as_str();
    let parent = get_visible(conn, author.id, parent_id)?;
    require_member(conn, author.id, parent.community_id)?;
    check_body(body, max_chars, !media.is_empty())?;
    let root_id = parent.root_id.unwrap_or(parent.id);
    let rendered = render_body(conn, author.id, body)?;
    db::write(conn, |c| {
        let row: ContentRow = diesel::insert_into(content::table)
            .values((
                content::kind.eq("comment"),
                content::author_id.eq(author.id),
                content::reply_to_id.eq(parent.id),
                content::root_id.eq(root_id),
                content::visibility.eq(&parent.visibility),
                content::community_id.eq(parent.community_id),
                content::body.eq(body),
                content::body_html.eq(&rendered.html),
                content::created_at.eq(now()),
            ))
            .returning(db::columns::<ContentRow>())
            .get_result(c)?;
        media::attach(c, author.id, row.id, media)?;
        let mut mentioned = store_links(c, row.id, &rendered)?;
        if let Some(community) = parent.community_id {
            mentioned = audience::readers_among(c, community, &mentioned)?;
        }
        notify(c, &mentioned, "mention", author.id, Some(row.id))?;
        notify(c, &[parent.author_id], "reply", author.id, Some(row.id))?;
        events::record(
            c,
            Event::Published {
                author: author.id,
                content: row.id,
            },
        )?;
        Ok(row)
    })
}

/// The reader's place in the communities of some rows: the distinct
/// communities, those the reader is a member of, and those of this site
/// they moderate (all of them for an administrator).
pub(crate) struct Roles {
    pub communities: Vec<i64>,
    pub member_of: Vec<i64>,
    pub moderated: Vec<i64>,
}

/// [`Roles`] of `viewer` among `rows`.
pub(crate) fn roles_in(conn: &mut DbConn, viewer: i64, rows: &[&ContentRow]) -> AppResult<Roles> {
    use crate::db::schema::community_members as cmm;
    let mut communities: Vec<i64> = rows.iter().filter_map(|r| r.community_id).collect();
    communities.sort_unstable();
    communities.dedup();
    let member_of: Vec<i64> = cmm::table
        .filter(cmm::user_id.eq(viewer))
        .filter(cmm::status.eq("member"))
        .filter(cmm::community_id.eq_any(&communities))
        .select(cmm::community_id)
        .load(conn)?;
    let moderated = moderated_here(conn, viewer, &communities)?;
    Ok(Roles {
        communities,
        member_of,
        moderated,
    })
}

/// The communities among `communities` that `viewer` moderates on this
/// site: those hosted here where they are an owner or a moderator (every
/// one hosted here for an administrator). Ideas are moved, and answers
/// accepted, by these moderators only.
pub(crate) fn moderated_here(
    conn: &mut DbConn,
    viewer: i64,
    communities: &[i64],
) -> AppResult<Vec<i64>> {
    use crate::db::schema::community_members as cmm;
    if communities.is_empty() {
        return Ok(Vec::new());
    }
    let hosted: Vec<i64> = users::table
        .filter(users::id.eq_any(communities))
        .filter(users::domain.is_null())
        .select(users::id)
        .load(conn)?;
    let admin: bool = users::table
        .find(viewer)
        .select(users::is_admin)
        .first(conn)
        .optional()?
        .unwrap_or(false);
    if admin {
        return Ok(hosted);
    }
    Ok(cmm::table
        .filter(cmm::user_id.eq(viewer))
        .filter(cmm::status.eq("member"))
        .filter(cmm::role.eq_any(["owner", "moderator"]))
        .filter(cmm::community_id.eq_any(&hosted))
        .select(cmm::community_id)
        .load(conn)?)
}

/// In a community, only members comment and react.
fn require_member(conn: &mut DbConn, user: i64, community: Option<i64>) -> AppResult<()> {
    use crate::db::schema::community_members as cmm;
    let Some(community) = community else {
        return Ok(());
    };
    let n: i64 = cmm::table
        .filter(cmm::community_id.eq(community))
        .filter(cmm::user_id.eq(user))
        .filter(cmm::status.eq("member"))
        .count()
        .get_result(conn)?;
    if n == 0 {
        return Err(AppError::forbidden("community_members_only"));
    }
    Ok(())
}

/// A live (not deleted) content row that `viewer` may see, or 404.
pub fn get_visible(conn: &mut DbConn, viewer: i64, id: i64) -> AppResult<ContentRow> {
    let row: ContentRow = content::table
        .find(id)
        .filter(content::deleted_at.is_null())
        .select(ContentRow::as_select())
        .first(conn)?;
    let own = row.audience_item();
    let root = match row.root_id {
        Some(r) => audience::item(conn, r)?.ok_or_else(AppError::not_found)?,
        None => own.clone(),
    };
    if !audience::may_read_item(conn, &audience::Viewer::Person(viewer), &own, &root)? {
        return Err(AppError::not_found());
    }
    Ok(row)
}

/// Saves the current text of a content row as an earlier version (inside a
/// write transaction, before the row is changed).
pub(crate) fn keep_revision(c: &mut DbConn, row: &ContentRow) -> AppResult<()> {
    diesel::insert_into(content_revisions::table)
        .values((
            content_revisions::content_id.eq(row.id),
            content_revisions::body.eq(&row.body),
            content_revisions::body_html.eq(&row.body_html),
            content_revisions::created_at.eq(row.edited_at.unwrap_or(row.created_at)),
        ))
        .execute(c)?;
    Ok(())
}

/// Edits a post or comment (author only); the previous version is kept.
/// The author of an idea or a question may give it a new `title` too
/// (anything else has no title to give).
pub fn edit(
    conn: &mut DbConn,
    max_chars: usize,
    actor: &User,
    id: i64,
    text: &Text,
    title: Option<&str>,
) -> AppResult<ContentRow> {
    let body = text.as_str();
    let row = get_visible(conn, actor.id, id)?;
    if row.author_id != actor.id {
        return Err(AppError::forbidden("not_author"));
    }
    let titled = matches!(row.kind.as_str(), "idea" | "question" | "event" | "survey");
    let title = match title {
        Some(t) if titled => Some(check_title(t)?),
        Some(_) => return Err(AppError::conflict("title_untitled")),
        None => None,
    };
    // The title may say it all.
    let said = titled || media::any_of(conn, row.id)?;
    check_body(body, max_chars, said)?;
    let rendered = render_body(conn, actor.id, body)?;
    db::write(conn, |c| {
        keep_revision(c, &row)?;
        if let Some(t) = &title {
            match row.kind.as_str() {
                "idea" => idea::retitle(c, row.id, t)?,
                "event" => event::retitle(c, row.id, t)?,
                "survey" => survey::retitle(c, row.id, t)?,
                _ => question::retitle(c, row.id, t)?,
            }
        }
        let updated: ContentRow = diesel::update(content::table.find(row.id))
            .set((
                content::body.eq(body),
                content::body_html.eq(&rendered.html),
                content::edited_at.eq(now()),
            ))
            .returning(db::columns::<ContentRow>())
            .get_result(c)?;
        store_links(c, row.id, &rendered)?;
        events::record(
            c,
            Event::Edited {
                by: actor.id,
                content: row.id,
            },
        )?;
        Ok(updated)
    })
}

/// Empties a content row into a tombstone and drops its history, links and
/// reactions (inside a write transaction).
pub(crate) fn tombstone(c: &mut DbConn, id: i64) -> AppResult<()> {
    diesel::update(content::table.find(id))
        .set((
            content::body.eq(""),
            content::body_html.eq(""),
            content::deleted_at.eq(now()),
        ))
        .execute(c)?;
    diesel::delete(content_revisions::table.filter(content_revisions::content_id.eq(id)))
        .execute(c)?;
    diesel::delete(content_tags::table.filter(content_tags::content_id.eq(id))).execute(c)?;
    diesel::delete(mentions::table.filter(mentions::content_id.eq(id))).execute(c)?;
    diesel::delete(reactions::table.filter(reactions::content_id.eq(id))).execute(c)?;
    poll::forget(c, id)?;
    idea::forget(c, id)?;
    question::forget(c, id)?;
    event::forget(c, id)?;
    survey::forget(c, id)?;
    must_read::forget(c, id)?;
    crate::index::forget_content(c, id)?;
    document_entry::entry_gone(c, id)
}

/// Deletes a post or comment (its author or an administrator). The text, its
/// history, links and reactions go; the row stays as a tombstone so that
/// replies keep their place in the thread.
pub fn delete(conn: &mut DbConn, actor: &User, id: i64) -> AppResult<()> {
    let row = get_visible(conn, actor.id, id)?;
    if row.author_id != actor.id && !actor.is_admin {
        return Err(AppError::forbidden("not_author"));
    }
    db::write(conn, |c| {
        tombstone(c, row.id)?;
        if row.ap_id.is_none() {
            events::record(
                c,
                Event::Deleted {
                    by: row.author_id,
                    content: row.id,
                    reason: None,
                },
            )?;
        }
        Ok(())
    })
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = content_revisions)]
pub struct Revision {
    #[serde(skip)]
    pub id: i64,
    #[serde(skip)]
    pub content_id: i64,
    pub body: String,
    pub body_html: String,
    /// When this version was written.
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub created_at: NaiveDateTime,
}

/// Earlier versions of a post, newest first.
pub fn revisions(conn: &mut DbConn, viewer: i64, id: i64) -> AppResult<Vec<Revision>> {
    let row = get_visible(conn, viewer, id)?;
    revisions_of(conn, &row)
}

/// Earlier versions of a row the caller already checked with [`get_visible`].
pub fn revisions_of(conn: &mut DbConn, row: &ContentRow) -> AppResult<Vec<Revision>> {
    content_revisions::table
        .filter(content_revisions::content_id.eq(row.id))
        .order(content_revisions::id.desc())
        .select(Revision::as_select())
        .load(conn)
        .map_err(AppError::from)
}

/// Most comments shown under one post.
pub const MAX_COMMENTS: i64 = 1000;

/// Comments of a post in thread order (oldest first), including tombstones
/// of deleted comments.
pub fn comments(conn: &mut DbConn, viewer: i64, post_id: i64) -> AppResult<Vec<ContentRow>> {
    let post = get_visible(conn, viewer, post_id)?;
    comments_of(conn, viewer, &post)
}

/// Comments of the thread of a row the caller already checked with
/// [`get_visible`], as `viewer` may see them.
pub fn comments_of(
    conn: &mut DbConn,
    viewer: i64,
    post: &ContentRow,
) -> AppResult<Vec<ContentRow>> {
    let root = post.root_id.unwrap_or(post.id);
    content::table
        .filter(content::root_id.eq(root))
        .filter(audience::comments_visible_to(viewer))
        .order(content::id.asc())
        .limit(MAX_COMMENTS)
        .select(ContentRow::as_select())
        .load(conn)
        .map_err(AppError::from)
}

/// Adds (`on`) or removes a reaction of `viewer` on a visible post or comment.
pub fn react(conn: &mut DbConn, viewer: i64, id: i64, kind: &str, on: bool) -> AppResult<()> {
    let kind = parse_reaction(kind)?;
    let row = get_visible(conn, viewer, id)?;
    require_member(conn, viewer, row.community_id)?;
    set_reaction(conn, viewer, row.id, kind, on)
}

/// Gives (`on`) or withdraws a person's reaction once the caller has
/// checked that they may: [`react`] for people reading here, the community
/// inbox for a reaction a remote community vouches for. An event is
/// recorded when something changed.
pub fn set_reaction(
    conn: &mut DbConn,
    person: i64,
    id: i64,
    kind: &str,
    on: bool,
) -> AppResult<()> {
    db::write(conn, |c| {
        if kind == idea::VOTE {
            // On an idea, a like is a vote: its rules apply.
            idea::check_vote(c, id)?;
        }
        let exists: i64 = reactions::table
            .filter(reactions::content_id.eq(id))
            .filter(reactions::user_id.eq(person))
            .filter(reactions::kind.eq(kind))
            .count()
            .get_result(c)?;
        if on && exists == 0 {
            diesel::insert_into(reactions::table)
                .values((
                    reactions::content_id.eq(id),
                    reactions::user_id.eq(person),
                    reactions::kind.eq(kind),
                    reactions::created_at.eq(now()),
                ))
                .execute(c)?;
            events::record(
                c,
                Event::Reacted {
                    person,
                    content: id,
                    reaction: kind.to_string(),
                },
            )?;
            notify_reaction(c, person, id)?;
        } else if !on && exists > 0 {
            diesel::delete(
                reactions::table
                    .filter(reactions::content_id.eq(id))
                    .filter(reactions::user_id.eq(person))
                    .filter(reactions::kind.eq(kind)),
            )
            .execute(c)?;
            events::record(
                c,
                Event::Unreacted {
                    person,
                    content: id,
                    reaction: kind.to_string(),
                },
            )?;
        }
        Ok(())
    })
}

/// Tells the author of `id` (when they are of this instance and not the
/// one reacting) that `person` reacted, once per person and post while
/// unread: four reactions at once are one notification.
fn notify_reaction(c: &mut DbConn, person: i64, id: i64) -> AppResult<()> {
    use crate::db::schema::notifications;
    let author: Option<i64> = content::table
        .find(id)
        .select(content::author_id)
        .first(c)
        .optional()?;
    let Some(author) = author.filter(|a| *a != person) else {
        return Ok(());
    };
    let told: i64 = notifications::table
        .filter(notifications::user_id.eq(author))
        .filter(notifications::kind.eq("reaction"))
        .filter(notifications::actor_id.eq(person))
        .filter(notifications::content_id.eq(id))
        .filter(notifications::read_at.is_null())
        .count()
        .get_result(c)?;
    if told > 0 {
        return Ok(());
    }
    crate::notifications::notify(c, &[author], "reaction", person, Some(id))
}

/// Who reacted to a post, by kind: (kind, username, display name).
pub fn reactors(
    conn: &mut DbConn,
    viewer: i64,
    id: i64,
) -> AppResult<Vec<(String, String, String)>> {
    let row = get_visible(conn, viewer, id)?;
    reactors_of(conn, &row)
}

/// Who reacted to a row the caller already checked with [`get_visible`].
pub fn reactors_of(
    conn: &mut DbConn,
    row: &ContentRow,
) -> AppResult<Vec<(String, String, String)>> {
    reactions::table
        .inner_join(users::table)
        .filter(reactions::content_id.eq(row.id))
        .order((reactions::kind.asc(), reactions::created_at.asc()))
        .select((reactions::kind, users::username, users::display_name))
        .load(conn)
        .map_err(AppError::from)
}
