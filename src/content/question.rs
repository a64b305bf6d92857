//! Questions and answers, a kind of the content envelope
//! (`kind = 'question'`): a question has a title above its details, and is
//! asked in a community or to an audience; the `questions` table holds its
//! title and the answer accepted. Feeds, comments, reactions, mentions,
//! audience and federation are the envelope's.
//!
//! - **Answers** are the question's comments (direct replies); a comment
//!   on an answer is a reply to it. An answer is voted up with its `like`.
//! - **Accepting**: the asker, or a moderator of the question's community
//!   on the community's site, accepts one answer (or another later, or
//!   none); its author is told. Other instances hear it as an `Update` of
//!   the question naming the answer (`ruche:acceptedAnswer`), sent by the
//!   asker or, for a moderator's choice, by the community; it is taken
//!   from no one else.
//! - **Lists**: unanswered (no answer yet), open (none accepted), solved
//!   (most recently solved first) or all, in one community or everywhere
//!   the reader may read; [`similar`] questions for a title being typed.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::{get_visible, publish, ContentRow, Detail, Place, Text};
use crate::accounts::User;
use crate::apps::{self, App};
use crate::audience;
use crate::db::schema::{content, questions, users};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult};
use crate::events::{self, Event};

/// Questions a page of a list shows.
pub const PER_PAGE: i64 = 20;
/// Questions a list reads, at most (the newest of what it asks).
pub const MAX_LISTED: i64 = 1000;
/// Similar questions shown, at most.
pub const MAX_SIMILAR: usize = 5;

/// A question's title, checked (see [`super::check_title`]).
#[derive(Debug, Clone)]
pub struct Checked {
    title: String,
}

/// Asks a question to an audience of people (`Place::Audience`) or in a
/// community (`Place::Community`: the caller checked that the author is a
/// member): its title, and its details, which may be empty.
pub fn create(
    conn: &mut DbConn,
    max_chars: usize,
    author: &User,
    title: &str,
    text: &Text,
    place: Place,
) -> AppResult<ContentRow> {
    let community = match place {
        Place::Community(id) => Some(id),
        Place::Audience(_) => None,
    };
    apps::require(conn, App::Questions, community)?;
    let checked = Checked {
        title: super::check_title(title)?,
    };
    publish(
        conn,
        max_chars,
        author,
        text,
        place,
        &[],
        Detail::Question(&checked),
    )
}

/// Stores what a new question adds (inside the transaction that writes its
/// content row).
pub(super) fn store(c: &mut DbConn, id: i64, q: &Checked) -> AppResult<()> {
    diesel::insert_into(questions::table)
        .values((questions::content_id.eq(id), questions::title.eq(&q.title)))
        .execute(c)?;
    Ok(())
}

/// Gives a question a new title (inside the transaction of its edit).
pub(super) fn retitle(c: &mut DbConn, id: i64, title: &str) -> AppResult<()> {
    diesel::update(questions::table.find(id))
        .set(questions::title.eq(title))
        .execute(c)?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = questions)]
struct QuestionRow {
    content_id: i64,
    title: String,
    accepted_id: Option<i64>,
    accepted_at: Option<NaiveDateTime>,
}

fn row_of(c: &mut DbConn, id: i64) -> AppResult<Option<QuestionRow>> {
    Ok(questions::table
        .find(id)
        .select(QuestionRow::as_select())
        .first(c)
        .optional()?)
}

/// A question as a reader sees it.
#[derive(Debug, Clone, Serialize)]
pub struct View {
    pub title: String,
    /// How many answers it has (live direct replies the reader may see).
    pub answers: i64,
    /// The answer accepted, if any.
    pub accepted_id: Option<i64>,
    #[serde(serialize_with = "crate::db::utc::option")]
    pub accepted_at: Option<NaiveDateTime>,
    /// Whether the reader may accept an answer (its asker, or a moderator
    /// of its community on the community's site).
    pub may_accept: bool,
}

/// The questions among content rows, as `viewer` sees them (a few queries
/// for a page of a feed, none when it has no question).
pub fn views(
    conn: &mut DbConn,
    viewer: i64,
    rows: &[&ContentRow],
) -> AppResult<HashMap<i64, View>> {
    let asked: Vec<&ContentRow> = rows
        .iter()
        .copied()
        .filter(|r| r.kind == "question" && r.deleted_at.is_none())
        .collect();
    if asked.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<i64> = asked.iter().map(|r| r.id).collect();
    let found: Vec<QuestionRow> = questions::table
        .filter(questions::content_id.eq_any(&ids))
        .select(QuestionRow::as_select())
        .load(conn)?;
    let answers: Vec<(Option<i64>, i64)> = content::table
        .filter(content::reply_to_id.eq_any(&ids))
        .filter(content::deleted_at.is_null())
        .filter(audience::comments_visible_to(viewer))
        .group_by(content::reply_to_id)
        .select((content::reply_to_id, diesel::dsl::count_star()))
        .load(conn)?;
    // Who may accept, for the whole page at once: the reader's own
    // questions (when they are of this site), and those of the communities
    // of this site they moderate (all of them for an administrator).
    let domain: Option<Option<String>> = users::table
        .find(viewer)
        .select(users::domain)
        .first(conn)
        .optional()?;
    let local = matches!(domain, Some(None));
    let mut communities: Vec<i64> = asked.iter().filter_map(|r| r.community_id).collect();
    communities.sort_unstable();
    communities.dedup();
    let moderated = super::moderated_here(conn, viewer, &communities)?;
    let mut out = HashMap::with_capacity(found.len());
    for q in found {
        let Some(row) = asked.iter().find(|r| r.id == q.content_id) else {
            continue;
        };
        let may_accept = (row.author_id == viewer && local)
            || row.community_id.is_some_and(|c| moderated.contains(&c));
        out.insert(
            q.content_id,
            View {
                title: q.title,
                answers: answers
                    .iter()
                    .find(|(r, _)| *r == Some(q.content_id))
                    .map(|(_, n)| *n)
                    .unwrap_or(0),
                accepted_id: q.accepted_id,
                accepted_at: q.accepted_at,
                may_accept,
            },
        );
    }
    Ok(out)
}

/// A question as `viewer` sees it, or 404 (also for content that is not a
/// question).
pub fn view(conn: &mut DbConn, viewer: i64, id: i64) -> AppResult<View> {
    let row = get_visible(conn, viewer, id)?;
    views(conn, viewer, &[&row])?
        .remove(&row.id)
        .ok_or_else(AppError::not_found)
}

/// The asker, or a moderator of its community on the community's site,
/// accepts `answer` (a live direct answer of the question), or none; the
/// answer's author is told, and other instances hear of it (from the
/// asker, or from the community for a moderator's choice).
pub fn accept(conn: &mut DbConn, actor: &User, id: i64, answer: Option<i64>) -> AppResult<View> {
    let row = get_visible(conn, actor.id, id)?;
    if row.kind != "question" {
        return Err(AppError::not_found());
    }
    let may = views(conn, actor.id, &[&row])?
        .remove(&row.id)
        .is_some_and(|v| v.may_accept);
    if !may {
        return Err(AppError::forbidden("not_asker"));
    }
    let answer_row = match answer {
        Some(a) => {
            let r = get_visible(conn, actor.id, a)
                .map_err(|_| AppError::bad_request("answer_not_of_question"))?;
            if r.reply_to_id != Some(row.id) {
                return Err(AppError::bad_request("answer_not_of_question"));
            }
            Some(r)
        }
        None => None,
    };
    let by = if row.author_id == actor.id {
        actor.id
    } else {
        // A moderator's choice is the community's word.
        row.community_id.unwrap_or(actor.id)
    };
    db::write(conn, |c| {
        let before = row_of(c, row.id)?.and_then(|q| q.accepted_id);
        if before == answer {
            return Ok(());
        }
        diesel::update(questions::table.find(row.id))
            .set((
                questions::accepted_id.eq(answer),
                questions::accepted_at.eq(answer.map(|_| now())),
            ))
            .execute(c)?;
        if let Some(a) = &answer_row {
            crate::notifications::notify(
                c,
                &[a.author_id],
                "answer_accepted",
                actor.id,
                Some(a.id),
            )?;
        }
        events::record(
            c,
            Event::Edited {
                by,
                content: row.id,
            },
        )?;
        Ok::<_, AppError>(())
    })?;
    view(conn, actor.id, id)
}

/// A deleted question loses its title (inside the transaction that
/// empties its content row); a deleted answer is accepted no more.
pub(super) fn forget(c: &mut DbConn, id: i64) -> AppResult<()> {
    diesel::update(questions::table.find(id))
        .set(questions::title.eq(""))
        .execute(c)?;
    diesel::update(questions::table.filter(questions::accepted_id.eq(id)))
        .set((
            questions::accepted_id.eq(None::<i64>),
            questions::accepted_at.eq(None::<NaiveDateTime>),
        ))
        .execute(c)?;
    Ok(())
}

/// Which questions a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Filter {
    /// Newest first.
    #[default]
    All,
    /// No answer yet, newest first.
    Unanswered,
    /// No answer accepted yet, newest first.
    Open,
    /// An answer accepted, the most recently solved first.
    Solved,
}

impl Filter {
    pub const ALL: [Filter; 4] = [
        Filter::All,
        Filter::Unanswered,
        Filter::Open,
        Filter::Solved,
    ];

    pub fn parse(s: &str) -> AppResult<Filter> {
        Filter::ALL
            .into_iter()
            .find(|f| f.as_str() == s.trim())
            .or((s.trim().is_empty()).then_some(Filter::All))
            .ok_or_else(|| AppError::bad_request("question_filter_unknown"))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Filter::All => "all",
            Filter::Unanswered => "unanswered",
            Filter::Open => "open",
            Filter::Solved => "solved",
        }
    }
}

/// A list of questions: the rows of one page, and whether a next follows.
pub struct Listed {
    pub rows: Vec<ContentRow>,
    pub more: bool,
}

/// Questions `viewer` may read, in one community or in all and outside
/// communities, as `filter` says: page `page` (from 0) of `per_page`.
pub fn list(
    conn: &mut DbConn,
    viewer: i64,
    community: Option<i64>,
    filter: Filter,
    page: i64,
    per_page: i64,
) -> AppResult<Listed> {
    let mut q = content::table
        .inner_join(questions::table.on(questions::content_id.eq(content::id)))
        .filter(content::kind.eq("question"))
        .filter(content::deleted_at.is_null())
        .filter(audience::posts_visible_to(viewer))
        .select((content::id, questions::accepted_at))
        .order(content::id.desc())
        .limit(MAX_LISTED)
        .into_boxed();
    if let Some(cm) = community {
        q = q.filter(content::community_id.eq(cm));
    }
    q = match filter {
        Filter::All => q,
        Filter::Open | Filter::Unanswered => q.filter(questions::accepted_id.is_null()),
        Filter::Solved => q.filter(questions::accepted_id.is_not_null()),
    };
    let mut found: Vec<(i64, Option<NaiveDateTime>)> = q.load(conn)?;
    if filter == Filter::Unanswered && !found.is_empty() {
        let ids: Vec<i64> = found.iter().map(|f| f.0).collect();
        let mut answered: Vec<i64> = Vec::new();
        for chunk in ids.chunks(500) {
            answered.extend(
                content::table
                    .filter(content::reply_to_id.eq_any(chunk))
                    .filter(content::deleted_at.is_null())
                    .select(content::reply_to_id.assume_not_null())
                    .distinct()
                    .load::<i64>(conn)?,
            );
        }
        found.retain(|(id, _)| !answered.contains(id));
    }
    if filter == Filter::Solved {
        found.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
    }
    let per_page = per_page.clamp(1, 100);
    let start = (page.max(0) * per_page) as usize;
    let more = found.len() > start + per_page as usize;
    let shown: Vec<i64> = found
        .into_iter()
        .skip(start)
        .take(per_page as usize)
        .map(|f| f.0)
        .collect();
    let mut rows: Vec<ContentRow> = content::table
        .filter(content::id.eq_any(&shown))
        .select(ContentRow::as_select())
        .load(conn)?;
    rows.sort_by_key(|r| shown.iter().position(|id| *id == r.id));
    Ok(Listed { rows, more })
}

/// A question like one being typed, for its asker to find an answer
/// before asking: (id, title, answered).
#[derive(Debug, Clone, Serialize)]
pub struct Similar {
    pub id: i64,
    pub title: String,
    pub solved: bool,
    pub answers: i64,
}

/// Questions `viewer` may read whose title or text shares words with
/// `typed` (folded and stemmed as a search reads them), those sharing the
/// most words first, at most [`MAX_SIMILAR`]. Words of fewer than three
/// letters are left out; a text without such words finds nothing.
pub fn similar(conn: &mut DbConn, viewer: i64, typed: &str) -> AppResult<Vec<Similar>> {
    let mut words: Vec<String> = crate::index::words::split(typed)
        .filter(|w| w.chars().count() >= 3)
        .collect();
    words.sort();
    words.dedup();
    words.truncate(8);
    let mut score: HashMap<i64, usize> = HashMap::new();
    for w in &words {
        let m = crate::index::Match::words(w);
        let ids: Vec<i64> = content::table
            .filter(content::kind.eq("question"))
            .filter(content::deleted_at.is_null())
            .filter(m.contains(conn, crate::index::Table::Content, "content.id"))
            .filter(audience::posts_visible_to(viewer))
            .order(content::id.desc())
            .select(content::id)
            .limit(50)
            .load(conn)?;
        for id in ids {
            *score.entry(id).or_default() += 1;
        }
    }
    let mut ranked: Vec<(i64, usize)> = score.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
    ranked.truncate(MAX_SIMILAR);
    let ids: Vec<i64> = ranked.iter().map(|r| r.0).collect();
    let rows: Vec<ContentRow> = content::table
        .filter(content::id.eq_any(&ids))
        .select(ContentRow::as_select())
        .load(conn)?;
    let refs: Vec<&ContentRow> = rows.iter().collect();
    let mut seen = views(conn, viewer, &refs)?;
    Ok(ids
        .into_iter()
        .filter_map(|id| {
            let v = seen.remove(&id)?;
            Some(Similar {
                id,
                title: v.title,
                solved: v.accepted_id.is_some(),
                answers: v.answers,
            })
        })
        .collect())
}

/// The accepted answers among `ids`, or of the questions among `ids`:
/// (answer, its author, when it was accepted), each once, for the expert
/// finder.
pub fn accepted_among(conn: &mut DbConn, ids: &[i64]) -> AppResult<Vec<(i64, i64, NaiveDateTime)>> {
    let mut out: Vec<(i64, i64, NaiveDateTime)> = Vec::new();
    for chunk in ids.chunks(500) {
        out.extend(
            questions::table
                .inner_join(content::table.on(content::id.nullable().eq(questions::accepted_id)))
                .filter(
                    questions::content_id
                        .eq_any(chunk)
                        .or(questions::accepted_id
                            .eq_any(chunk.iter().map(|i| Some(*i)).collect::<Vec<_>>())),
                )
                .filter(content::deleted_at.is_null())
                .select((
                    content::id,
                    content::author_id,
                    questions::accepted_at.assume_not_null(),
                ))
                .load::<(i64, i64, NaiveDateTime)>(conn)?,
        );
    }
    out.sort_unstable();
    out.dedup_by_key(|a| a.0);
    Ok(out)
}

// ----- What other instances publish and read -----------------------------

/// A question as its instance publishes it: its title, and the address of
/// the answer accepted.
#[derive(Debug, Clone)]
pub struct Remote {
    pub title: String,
    pub accepted: Option<String>,
    /// The accepted answer's id when it is ours (its address is here).
    pub accepted_local: Option<i64>,
}

impl Remote {
    /// Reads what another instance published, bounded: a title of at most
    /// [`super::MAX_TITLE`] characters on one line.
    pub fn read(
        title: &str,
        accepted: Option<&str>,
        accepted_local: Option<i64>,
    ) -> Option<Remote> {
        let title = super::remote_title(title)?;
        Some(Remote {
            title,
            accepted: accepted.filter(|a| a.len() <= 2000).map(str::to_string),
            accepted_local,
        })
    }
}

/// A question of this site as it is published (`address` gives a content
/// row's address).
pub fn published(
    conn: &mut DbConn,
    id: i64,
    address: impl Fn(&ContentRow) -> String,
) -> AppResult<Option<Remote>> {
    let Some(q) = row_of(conn, id)? else {
        return Ok(None);
    };
    let accepted = match q.accepted_id {
        Some(a) => content::table
            .find(a)
            .select(ContentRow::as_select())
            .first(conn)
            .optional()?
            .map(|r| address(&r)),
        None => None,
    };
    Ok(Some(Remote {
        title: q.title,
        accepted,
        accepted_local: None,
    }))
}

/// The local id of the answer of question `id` at `address` (ours, or
/// known here), if it is one of its direct answers.
fn answer_at(c: &mut DbConn, id: i64, local: Option<i64>, address: &str) -> AppResult<Option<i64>> {
    let row = match local {
        Some(l) => content::table
            .find(l)
            .select(ContentRow::as_select())
            .first(c)
            .optional()?,
        None => super::remote::find_by_ap_id(c, address)?,
    };
    Ok(row
        .filter(|r| r.reply_to_id == Some(id) && r.deleted_at.is_none())
        .map(|r| r.id))
}

/// Stores a question of another instance as first received (inside the
/// transaction that writes its content row): it has no answer yet here.
pub(super) fn store_remote(c: &mut DbConn, id: i64, r: &Remote) -> AppResult<()> {
    diesel::update(content::table.find(id))
        .set(content::kind.eq("question"))
        .execute(c)?;
    diesel::insert_into(questions::table)
        .values((questions::content_id.eq(id), questions::title.eq(&r.title)))
        .execute(c)?;
    Ok(())
}

/// Takes what its asker's instance (or its community's host) publishes
/// anew of a question: its title (from its asker only: `title`), and the
/// answer accepted, named by its address. The answer's author, when of
/// this site, is told.
pub(super) fn refresh_remote(c: &mut DbConn, id: i64, r: &Remote, title: bool) -> AppResult<()> {
    let Some(known) = row_of(c, id)? else {
        return Ok(());
    };
    if title && known.title != r.title {
        retitle(c, id, &r.title)?;
        crate::index::content(c, id)?;
    }
    let accepted = match &r.accepted {
        Some(a) => answer_at(c, id, r.accepted_local, a)?,
        None => None,
    };
    if accepted != known.accepted_id {
        diesel::update(questions::table.find(id))
            .set((
                questions::accepted_id.eq(accepted),
                questions::accepted_at.eq(accepted.map(|_| now())),
            ))
            .execute(c)?;
        if let Some(a) = accepted {
            let (author, asker): (i64, i64) = (
                content::table.find(a).select(content::author_id).first(c)?,
                content::table
                    .find(id)
                    .select(content::author_id)
                    .first(c)?,
            );
            crate::notifications::notify(c, &[author], "answer_accepted", asker, Some(a))?;
        }
    }
    Ok(())
}

/// A community of another instance accepted an answer of one of its
/// questions (its `Update` of the question).
pub fn accepted_in_community(
    conn: &mut DbConn,
    community: i64,
    local_id: Option<i64>,
    ap_id: &str,
    r: &Remote,
) -> AppResult<()> {
    let Some(row) = super::remote::in_community(conn, community, local_id, ap_id)? else {
        return Ok(());
    };
    if row.kind != "question" {
        return Ok(());
    }
    db::write(conn, |c| refresh_remote(c, row.id, r, false))
}
