//! Ideas, a kind of the content envelope (`kind = 'idea'`): an idea is
//! submitted to a community, with a title above its text; the `ideas`
//! table holds its title and where the community's moderators moved it.
//! Feeds, comments, reactions, mentions, audience and federation are the
//! envelope's.
//!
//! - **Votes** are the idea's `like` reactions: one per person,
//!   withdrawable, counted and federated as reactions are (a `Like`, which
//!   is also how a Mastodon or Lemmy user supports it). They are taken
//!   only while the idea is open (new or under review) and the app is on
//!   ([`check_vote`], which every door goes through).
//! - **The workflow**: new → under review → accepted → done, or declined
//!   with a reason. Only the moderators of the community's host move an
//!   idea (`communities::moderation::move_idea` checks who); every move
//!   tells its author and those who voted, here ([`move_to`]) and on the
//!   other instances that hear of it from the community ([`refresh_remote`]).
//! - **Lists**: by status, most voted or newest first, in one community or
//!   in every community the reader may read ([`list`]).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::{get_visible, publish, require_member, ContentRow, Detail, Text};
use crate::accounts::User;
use crate::apps::{self, App};
use crate::audience;
use crate::db::schema::{content, ideas, reactions, users};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult};
use crate::events::{self, Event};

pub use super::MAX_TITLE;
/// Characters of the reason an idea is declined (or moved), at most.
pub const MAX_REASON: usize = 500;
/// Ideas a list reads, at most (the newest of what it asks).
pub const MAX_LISTED: i64 = 1000;
/// Ideas a page of a list shows.
pub const PER_PAGE: i64 = 20;
/// The reaction that is a vote for an idea.
pub const VOTE: &str = "like";

/// Where an idea stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    New,
    UnderReview,
    Accepted,
    Done,
    Declined,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::New,
        Status::UnderReview,
        Status::Accepted,
        Status::Done,
        Status::Declined,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::UnderReview => "under_review",
            Status::Accepted => "accepted",
            Status::Done => "done",
            Status::Declined => "declined",
        }
    }

    pub fn parse(s: &str) -> AppResult<Status> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s.trim())
            .ok_or_else(|| {
                let names: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
                AppError::bad_request("idea_status_unknown").with("statuses", names.join(", "))
            })
    }

    /// A status read from the database or another instance (unknown: new).
    fn stored(s: &str) -> Status {
        Status::parse(s).unwrap_or(Status::New)
    }

    /// Whether votes are still taken (not decided yet).
    pub fn open(self) -> bool {
        matches!(self, Status::New | Status::UnderReview)
    }
}

/// An idea's title, checked (see [`super::check_title`]).
#[derive(Debug, Clone)]
pub struct Checked {
    title: String,
}

/// Checks a title as submitted.
fn check_title(title: &str) -> AppResult<Checked> {
    Ok(Checked {
        title: super::check_title(title)?,
    })
}

/// Submits an idea to a community (the caller checked that the author is
/// a member): its title, and its text, which may be empty.
pub fn create(
    conn: &mut DbConn,
    max_chars: usize,
    author: &User,
    community: i64,
    title: &str,
    text: &Text,
) -> AppResult<ContentRow> {
    apps::require(conn, App::Ideas, Some(community))?;
    let checked = check_title(title)?;
    publish(
        conn,
        max_chars,
        author,
        text,
        super::Place::Community(community),
        &[],
        Detail::Idea(&checked),
    )
}

/// Gives an idea a new title (inside the transaction of its edit).
pub(super) fn retitle(c: &mut DbConn, id: i64, title: &str) -> AppResult<()> {
    diesel::update(ideas::table.find(id))
        .set(ideas::title.eq(title))
        .execute(c)?;
    Ok(())
}

/// Stores what a new idea adds (inside the transaction that writes its
/// content row).
pub(super) fn store(c: &mut DbConn, id: i64, idea: &Checked) -> AppResult<()> {
    diesel::insert_into(ideas::table)
        .values((
            ideas::content_id.eq(id),
            ideas::title.eq(&idea.title),
            ideas::status.eq(Status::New.as_str()),
            ideas::reason.eq(""),
            ideas::status_at.eq(now()),
        ))
        .execute(c)?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ideas)]
struct IdeaRow {
    content_id: i64,
    title: String,
    status: String,
    reason: String,
    status_at: NaiveDateTime,
}

/// An idea as a reader sees it.
#[derive(Debug, Clone, Serialize)]
pub struct View {
    pub title: String,
    pub status: Status,
    /// Why it was declined (or what the moderators said when moving it).
    pub reason: String,
    /// When it last moved.
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub status_at: NaiveDateTime,
    /// How many people voted for it.
    pub votes: i64,
    /// Whether the reader voted for it.
    pub voted: bool,
    /// Whether the reader may vote (or withdraw their vote) now.
    pub may_vote: bool,
    /// Whether the reader may move it (a moderator of its community, on
    /// the community's site).
    pub may_move: bool,
}

/// The ideas among content rows, as `viewer` sees them (a few queries for
/// a page of a feed, none when it has no idea).
pub fn views(
    conn: &mut DbConn,
    viewer: i64,
    rows: &[&ContentRow],
) -> AppResult<HashMap<i64, View>> {
    let ideas_here: Vec<&ContentRow> = rows
        .iter()
        .copied()
        .filter(|r| r.kind == "idea" && r.deleted_at.is_none())
        .collect();
    if ideas_here.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<i64> = ideas_here.iter().map(|r| r.id).collect();
    let found: Vec<IdeaRow> = ideas::table
        .filter(ideas::content_id.eq_any(&ids))
        .select(IdeaRow::as_select())
        .load(conn)?;
    let votes: Vec<(i64, i64)> = reactions::table
        .filter(reactions::content_id.eq_any(&ids))
        .filter(reactions::kind.eq(VOTE))
        .select((reactions::content_id, reactions::user_id))
        .load(conn)?;
    // Where the reader is a member, and where they move ideas.
    let super::Roles {
        communities,
        member_of,
        moderated,
    } = super::roles_in(conn, viewer, &ideas_here)?;
    let mut app_on: HashMap<i64, bool> = HashMap::new();
    for c in &communities {
        app_on.insert(*c, apps::enabled(conn, App::Ideas, Some(*c))?);
    }
    let mut out = HashMap::with_capacity(found.len());
    for idea in found {
        let Some(row) = ideas_here.iter().find(|r| r.id == idea.content_id) else {
            continue;
        };
        let community = row.community_id.unwrap_or_default();
        let status = Status::stored(&idea.status);
        out.insert(
            idea.content_id,
            View {
                title: idea.title,
                status,
                reason: idea.reason,
                status_at: idea.status_at,
                votes: votes.iter().filter(|(c, _)| *c == row.id).count() as i64,
                voted: votes.iter().any(|(c, u)| *c == row.id && *u == viewer),
                may_vote: status.open()
                    && member_of.contains(&community)
                    && app_on.get(&community).copied().unwrap_or(false),
                may_move: moderated.contains(&community),
            },
        );
    }
    Ok(out)
}

/// An idea as `viewer` sees it, or 404 (also for content that is not an
/// idea).
pub fn view(conn: &mut DbConn, viewer: i64, id: i64) -> AppResult<View> {
    let row = get_visible(conn, viewer, id)?;
    views(conn, viewer, &[&row])?
        .remove(&row.id)
        .ok_or_else(AppError::not_found)
}

fn idea_of(c: &mut DbConn, id: i64) -> AppResult<Option<IdeaRow>> {
    Ok(ideas::table
        .find(id)
        .select(IdeaRow::as_select())
        .first(c)
        .optional()?)
}

/// The rule of a vote for an idea, whichever door it comes through (a
/// person here, an instance's `Like`): taken only while the idea is open
/// and the app is on where it lives. Content that is not an idea passes.
pub(super) fn check_vote(c: &mut DbConn, id: i64) -> AppResult<()> {
    let Some(idea) = idea_of(c, id)? else {
        return Ok(());
    };
    let community: Option<i64> = content::table
        .find(id)
        .select(content::community_id)
        .first(c)?;
    apps::require(c, App::Ideas, community)?;
    if !Status::stored(&idea.status).open() {
        return Err(AppError::conflict("idea_decided").with("status", idea.status));
    }
    Ok(())
}

/// `voter` votes for an idea they may read (`on`), or withdraws their
/// vote: once per person, while it is open, members of its community only.
pub fn vote(conn: &mut DbConn, voter: &User, id: i64, on: bool) -> AppResult<View> {
    let row = get_visible(conn, voter.id, id)?;
    if row.kind != "idea" {
        return Err(AppError::not_found());
    }
    require_member(conn, voter.id, row.community_id)?;
    super::set_reaction(conn, voter.id, row.id, VOTE, on)?;
    view(conn, voter.id, id)
}

/// Moves an idea of a community of this site (the caller checked that
/// the person who moves it moderates it), inside a write transaction: its
/// author and those who voted are told, and the community tells the other
/// instances. Declining needs a reason. Returns whether anything changed.
pub fn move_to(
    c: &mut DbConn,
    community: i64,
    id: i64,
    status: Status,
    reason: &str,
) -> AppResult<bool> {
    crate::error::refuse_nul("reason", reason)?;
    let reason = reason.trim();
    if reason.chars().count() > MAX_REASON {
        return Err(AppError::bad_request("idea_reason_too_long").with("max", MAX_REASON));
    }
    if status == Status::Declined && reason.is_empty() {
        return Err(AppError::bad_request("idea_reason_required"));
    }
    let Some(idea) = idea_of(c, id)? else {
        return Err(AppError::not_found());
    };
    if idea.status == status.as_str() && idea.reason == reason {
        return Ok(false);
    }
    diesel::update(ideas::table.find(id))
        .set((
            ideas::status.eq(status.as_str()),
            ideas::reason.eq(reason),
            ideas::status_at.eq(now()),
        ))
        .execute(c)?;
    tell_voters(c, id, community)?;
    events::record(
        c,
        Event::Edited {
            by: community,
            content: id,
        },
    )?;
    Ok(true)
}

/// Tells the people of this site who voted for idea `id`, and its author,
/// that it moved (the community is the one who moved it).
fn tell_voters(c: &mut DbConn, id: i64, community: i64) -> AppResult<()> {
    use crate::notifications::{record, NewNotification};
    let author = content::table.find(id).select(content::author_id);
    let mut who: Vec<i64> = users::table
        .filter(users::domain.is_null())
        .filter(
            users::id
                .eq_any(
                    reactions::table
                        .filter(reactions::content_id.eq(id))
                        .filter(reactions::kind.eq(VOTE))
                        .select(reactions::user_id),
                )
                .or(users::id.eq_any(author)),
        )
        .select(users::id)
        .load(c)?;
    who.sort_unstable();
    for uid in who {
        record(
            c,
            NewNotification::to(uid, "idea_status", community)
                .about_content(Some(id))
                .about_community(community),
        )?;
    }
    Ok(())
}

/// A deleted idea loses its title (inside the transaction that empties its
/// content row).
pub(super) fn forget(c: &mut DbConn, id: i64) -> AppResult<()> {
    diesel::update(ideas::table.find(id))
        .set((ideas::title.eq(""), ideas::reason.eq("")))
        .execute(c)?;
    Ok(())
}

/// How a list of ideas is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// Most voted first (then newest).
    #[default]
    Votes,
    /// Newest first.
    Recent,
}

impl Order {
    pub fn parse(s: &str) -> AppResult<Order> {
        match s.trim() {
            "" | "votes" => Ok(Order::Votes),
            "recent" => Ok(Order::Recent),
            _ => Err(AppError::bad_request("idea_order_unknown")),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Order::Votes => "votes",
            Order::Recent => "recent",
        }
    }
}

/// A list of ideas: the rows of one page and how many ideas the reader
/// may read in each status.
pub struct Listed {
    pub rows: Vec<ContentRow>,
    pub counts: Vec<(Status, i64)>,
    /// Whether a next page follows.
    pub more: bool,
}

/// Ideas `viewer` may read, in one community or in all, of one status or
/// of all, most voted or newest first: page `page` (from 0) of `per_page`.
pub fn list(
    conn: &mut DbConn,
    viewer: i64,
    community: Option<i64>,
    status: Option<Status>,
    order: Order,
    page: i64,
    per_page: i64,
) -> AppResult<Listed> {
    let mut q = content::table
        .inner_join(ideas::table)
        .filter(content::kind.eq("idea"))
        .filter(content::deleted_at.is_null())
        .filter(audience::posts_visible_to(viewer))
        .select((content::id, ideas::status))
        .order(content::id.desc())
        .limit(MAX_LISTED)
        .into_boxed();
    if let Some(cm) = community {
        q = q.filter(content::community_id.eq(cm));
    }
    let found: Vec<(i64, String)> = q.load(conn)?;
    let counts = Status::ALL
        .iter()
        .map(|s| {
            let n = found.iter().filter(|(_, st)| st == s.as_str()).count() as i64;
            (*s, n)
        })
        .collect();
    let mut ids: Vec<i64> = found
        .into_iter()
        .filter(|(_, st)| status.is_none_or(|s| s.as_str() == st))
        .map(|(id, _)| id)
        .collect();
    if order == Order::Votes && !ids.is_empty() {
        let mut votes: HashMap<i64, i64> = HashMap::new();
        for chunk in ids.chunks(500) {
            let counted: Vec<(i64, i64)> = reactions::table
                .filter(reactions::content_id.eq_any(chunk))
                .filter(reactions::kind.eq(VOTE))
                .group_by(reactions::content_id)
                .select((reactions::content_id, diesel::dsl::count_star()))
                .load(conn)?;
            votes.extend(counted);
        }
        // Newest first among ideas with as many votes (ids are newest first).
        ids.sort_by_key(|id| std::cmp::Reverse(votes.get(id).copied().unwrap_or(0)));
    }
    let per_page = per_page.clamp(1, 100);
    let start = (page.max(0) * per_page) as usize;
    let more = ids.len() > start + per_page as usize;
    let shown: Vec<i64> = ids
        .into_iter()
        .skip(start)
        .take(per_page as usize)
        .collect();
    let mut rows: Vec<ContentRow> = content::table
        .filter(content::id.eq_any(&shown))
        .select(ContentRow::as_select())
        .load(conn)?;
    rows.sort_by_key(|r| shown.iter().position(|id| *id == r.id));
    Ok(Listed { rows, counts, more })
}

// ----- What other instances publish and read -----------------------------

/// An idea as its community's instance publishes it.
#[derive(Debug, Clone)]
pub struct Remote {
    pub title: String,
    pub status: Status,
    pub reason: String,
}

impl Remote {
    /// Reads what another instance published, bounded: a title of at most
    /// [`MAX_TITLE`] characters on one line, a reason of at most
    /// [`MAX_REASON`], plain text.
    pub fn read(title: &str, status: &str, reason: Option<&str>) -> Option<Remote> {
        let title = super::remote_title(title)?;
        Some(Remote {
            title,
            status: Status::stored(status),
            reason: reason
                .unwrap_or("")
                .trim()
                .chars()
                .take(MAX_REASON)
                .collect(),
        })
    }
}

/// An idea of this site as it is published.
pub fn published(conn: &mut DbConn, id: i64) -> AppResult<Option<Remote>> {
    Ok(idea_of(conn, id)?.map(|i| Remote {
        title: i.title,
        status: Status::stored(&i.status),
        reason: i.reason,
    }))
}

/// Stores an idea of another instance as first received (inside the
/// transaction that writes its content row). Where it stands is taken
/// only from the community's host (`trusted`); otherwise it starts as new:
/// only the community moves it.
pub(super) fn store_remote(c: &mut DbConn, id: i64, r: &Remote, trusted: bool) -> AppResult<()> {
    diesel::update(content::table.find(id))
        .set(content::kind.eq("idea"))
        .execute(c)?;
    let (status, reason) = if trusted {
        (r.status, r.reason.as_str())
    } else {
        (Status::New, "")
    };
    diesel::insert_into(ideas::table)
        .values((
            ideas::content_id.eq(id),
            ideas::title.eq(&r.title),
            ideas::status.eq(status.as_str()),
            ideas::reason.eq(reason),
            ideas::status_at.eq(now()),
        ))
        .execute(c)?;
    Ok(())
}

/// Takes what an instance publishes anew of an idea (an `Update` of it):
/// its author's new title, and, from the community's host only
/// (`from_host`), where it stands; those of this site who voted for it,
/// and its author, are told when it moved.
pub(super) fn refresh_remote(
    c: &mut DbConn,
    id: i64,
    r: &Remote,
    from_host: bool,
    title: bool,
) -> AppResult<()> {
    let Some(known) = idea_of(c, id)? else {
        return Ok(());
    };
    if title && known.title != r.title {
        diesel::update(ideas::table.find(id))
            .set(ideas::title.eq(&r.title))
            .execute(c)?;
        // It is found by its new title.
        crate::index::content(c, id)?;
    }
    if from_host && (known.status != r.status.as_str() || known.reason != r.reason) {
        diesel::update(ideas::table.find(id))
            .set((
                ideas::status.eq(r.status.as_str()),
                ideas::reason.eq(&r.reason),
                ideas::status_at.eq(now()),
            ))
            .execute(c)?;
        let community: Option<i64> = content::table
            .find(id)
            .select(content::community_id)
            .first(c)?;
        if let Some(cm) = community {
            tell_voters(c, id, cm)?;
        }
    }
    Ok(())
}

/// A community of another instance moved one of its ideas (its `Update`
/// of the idea).
pub fn moved_in_community(
    conn: &mut DbConn,
    community: i64,
    local_id: Option<i64>,
    ap_id: &str,
    r: &Remote,
) -> AppResult<()> {
    let Some(row) = super::remote::in_community(conn, community, local_id, ap_id)? else {
        return Ok(());
    };
    if row.kind != "idea" {
        return Ok(());
    }
    db::write(conn, |c| refresh_remote(c, row.id, r, true, false))
}
