//! Polls, a kind of the content envelope (`kind = 'poll'`): the post's
//! text is the question, and the `polls`, `poll_options` and `poll_votes`
//! tables hold what a poll adds. Feeds, comments, reactions, mentions,
//! audience and federation are the envelope's.
//!
//! - **Asking**: two to [`MAX_OPTIONS`] distinct answers, one choice or
//!   several, a closing date (a week by default, at most a year), results
//!   shown to those who voted or only once it closes, votes named or
//!   anonymous.
//! - **Voting**: once, while it is open, among its answers (one, or several
//!   when it allows them); the same rule for a vote from another instance
//!   ([`vote_remote`]), which comes as one Note per answer, as Mastodon
//!   sends them.
//! - **Results**: the author always sees them; others once they voted (if
//!   the poll says so) or once it is closed. Who chose what is shown only
//!   for a named poll of this site, to those who see the results.
//! - **Another instance's poll**: its counts are those its instance last
//!   published ([`Remote`]); the votes of our people are kept here, so that
//!   they vote once, and sent to it.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::{get_visible, publish, require_member, ContentRow, Detail, Place, Text};
use crate::accounts::User;
use crate::apps::{self, App};
use crate::db::schema::{community_members, content, poll_options, poll_votes, polls, users};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult};
use crate::events::{self, Event};

/// Answers a poll offers, at least and at most.
pub const MIN_OPTIONS: usize = 2;
pub const MAX_OPTIONS: usize = 20;
/// Characters of one answer, at most.
pub const MAX_OPTION_CHARS: usize = 100;
/// How long a poll stays open when its author does not say.
pub const DEFAULT_DAYS: i64 = 7;
/// How long a poll may stay open, at most.
pub const MAX_DAYS: i64 = 366;

/// When results are shown to those who are not the author.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Results {
    /// To those who voted, and to everyone once it is closed.
    #[default]
    Voted,
    /// To everyone once it is closed.
    Closed,
}

impl Results {
    pub fn parse(s: &str) -> AppResult<Results> {
        match s.trim() {
            "" | "voted" => Ok(Results::Voted),
            "closed" => Ok(Results::Closed),
            _ => Err(AppError::bad_request("poll_results_invalid")),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Results::Voted => "voted",
            Results::Closed => "closed",
        }
    }
}

/// A poll as asked (the API's body, the page's form once read).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewPoll {
    /// The answers, in order.
    pub options: Vec<String>,
    /// Whether several answers may be chosen.
    #[serde(default)]
    pub multiple: bool,
    /// When it closes (RFC 3339); a week from now when absent.
    #[serde(default)]
    pub closes_at: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// `voted` (the default) or `closed`.
    #[serde(default)]
    pub results: Option<String>,
    /// Whether who chose what stays unknown to everyone.
    #[serde(default)]
    pub anonymous: bool,
}

/// A poll whose answers and dates were checked.
#[derive(Debug, Clone)]
pub struct Checked {
    options: Vec<String>,
    multiple: bool,
    closes_at: NaiveDateTime,
    results: Results,
    anonymous: bool,
}

/// The key two answers are compared by (votes of other instances name
/// their answer).
fn key(name: &str) -> String {
    name.trim().to_lowercase()
}

impl NewPoll {
    /// Checks the answers (two to twenty, distinct, not empty, not too
    /// long) and the closing date (in the future, within a year).
    pub fn check(&self) -> AppResult<Checked> {
        let options: Vec<String> = self
            .options
            .iter()
            .map(|o| o.trim().to_string())
            .filter(|o| !o.is_empty())
            .collect();
        if options.len() < MIN_OPTIONS || options.len() > MAX_OPTIONS {
            return Err(AppError::bad_request("poll_options_count")
                .with("min", MIN_OPTIONS)
                .with("max", MAX_OPTIONS)
                .with("count", options.len()));
        }
        for o in &options {
            crate::error::refuse_nul("options", o)?;
            if o.chars().count() > MAX_OPTION_CHARS {
                return Err(
                    AppError::bad_request("poll_option_too_long").with("max", MAX_OPTION_CHARS)
                );
            }
        }
        let mut keys: Vec<String> = options.iter().map(|o| key(o)).collect();
        keys.sort();
        keys.dedup();
        if keys.len() != options.len() {
            return Err(AppError::bad_request("poll_options_repeated"));
        }
        let now = now();
        let closes_at = match self.closes_at {
            Some(t) => t.naive_utc(),
            None => now + chrono::Duration::days(DEFAULT_DAYS),
        };
        if closes_at <= now + chrono::Duration::minutes(5)
            || closes_at > now + chrono::Duration::days(MAX_DAYS)
        {
            return Err(AppError::bad_request("poll_closes_invalid").with("max_days", MAX_DAYS));
        }
        Ok(Checked {
            options,
            multiple: self.multiple,
            closes_at,
            results: Results::parse(self.results.as_deref().unwrap_or(""))?,
            anonymous: self.anonymous,
        })
    }
}

/// Asks a poll to an audience of people (`Place::Audience`) or in a
/// community (`Place::Community`: the caller checked that the author is a
/// member). The text is the question.
pub fn create(
    conn: &mut DbConn,
    max_chars: usize,
    author: &User,
    text: &Text,
    place: Place,
    poll: &NewPoll,
) -> AppResult<ContentRow> {
    let community = match place {
        Place::Community(id) => Some(id),
        Place::Audience(_) => None,
    };
    apps::require(conn, App::Polls, community)?;
    let checked = poll.check()?;
    if text.as_str().trim().is_empty() {
        return Err(AppError::bad_request("poll_question_required"));
    }
    publish(
        conn,
        max_chars,
        author,
        text,
        place,
        &[],
        Detail::Poll(&checked),
    )
}

/// Stores what a new poll adds (inside the transaction that writes its
/// content row).
pub(super) fn store(c: &mut DbConn, id: i64, p: &Checked) -> AppResult<()> {
    diesel::insert_into(polls::table)
        .values((
            polls::content_id.eq(id),
            polls::multiple.eq(p.multiple),
            polls::closes_at.eq(Some(p.closes_at)),
            polls::results.eq(p.results.as_str()),
            polls::anonymous.eq(p.anonymous),
            polls::voters.eq(0i64),
        ))
        .execute(c)?;
    for (i, name) in p.options.iter().enumerate() {
        diesel::insert_into(poll_options::table)
            .values((
                poll_options::content_id.eq(id),
                poll_options::position.eq(i as i32),
                poll_options::name.eq(name),
                poll_options::votes.eq(0i64),
            ))
            .execute(c)?;
    }
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = polls)]
struct PollRow {
    content_id: i64,
    multiple: bool,
    closes_at: Option<NaiveDateTime>,
    closed_at: Option<NaiveDateTime>,
    results: String,
    anonymous: bool,
    voters: i64,
}

impl PollRow {
    fn closed(&self, at: NaiveDateTime) -> bool {
        self.closed_at.is_some() || self.closes_at.is_some_and(|t| t <= at)
    }
    fn results(&self) -> Results {
        Results::parse(&self.results).unwrap_or(Results::Voted)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = poll_options)]
struct OptionRow {
    id: i64,
    content_id: i64,
    name: String,
    votes: i64,
}

fn poll_of(conn: &mut DbConn, id: i64) -> AppResult<PollRow> {
    polls::table
        .find(id)
        .select(PollRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(AppError::not_found)
}

fn options_of(conn: &mut DbConn, ids: &[i64]) -> AppResult<Vec<OptionRow>> {
    Ok(poll_options::table
        .filter(poll_options::content_id.eq_any(ids))
        .order((poll_options::content_id, poll_options::position))
        .select(OptionRow::as_select())
        .load(conn)?)
}

/// One answer of a poll, as a reader sees it.
#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    pub id: i64,
    pub name: String,
    /// Its votes, when the reader sees the results.
    pub votes: Option<i64>,
    /// Its share of the voters, in percent (rounded), with the results.
    pub percent: Option<i64>,
    /// Whether the reader chose it.
    pub mine: bool,
}

/// A poll as a reader sees it.
#[derive(Debug, Clone, Serialize)]
pub struct View {
    pub multiple: bool,
    #[serde(serialize_with = "crate::db::utc::option")]
    pub closes_at: Option<NaiveDateTime>,
    pub closed: bool,
    /// `voted` or `closed`: when others see the results.
    pub results: Results,
    pub anonymous: bool,
    /// How many people voted, when the reader sees the results.
    pub voters: Option<i64>,
    /// Whether the reader voted.
    pub voted: bool,
    /// Whether the reader sees the results.
    pub shown: bool,
    /// Whether the reader may vote now.
    pub may_vote: bool,
    /// Whether the reader may close it (its author, while it is open).
    pub may_close: bool,
    /// A poll of another instance (its counts are those it published).
    pub remote: bool,
    pub options: Vec<Choice>,
}

/// The polls among content rows, as `viewer` sees them (a few queries for
/// a page of a feed, none when it has no poll). Rows that are not polls
/// are skipped.
pub fn views(
    conn: &mut DbConn,
    viewer: i64,
    rows: &[&ContentRow],
) -> AppResult<HashMap<i64, View>> {
    let ids: Vec<i64> = rows
        .iter()
        .filter(|r| r.kind == "poll" && r.deleted_at.is_none())
        .map(|r| r.id)
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let polls: Vec<PollRow> = polls::table
        .filter(polls::content_id.eq_any(&ids))
        .select(PollRow::as_select())
        .load(conn)?;
    let options = options_of(conn, &ids)?;
    let mine: Vec<i64> = poll_votes::table
        .filter(poll_votes::content_id.eq_any(&ids))
        .filter(poll_votes::user_id.eq(viewer))
        .select(poll_votes::option_id)
        .load(conn)?;
    // Where the reader may vote: in the communities they are a member of,
    // where the app is on (the rules of `vote`, so that no form is offered
    // that would be refused).
    let mut communities: Vec<i64> = rows.iter().filter_map(|r| r.community_id).collect();
    communities.sort_unstable();
    communities.dedup();
    let member_of: Vec<i64> = if communities.is_empty() {
        Vec::new()
    } else {
        community_members::table
            .filter(community_members::user_id.eq(viewer))
            .filter(community_members::status.eq("member"))
            .filter(community_members::community_id.eq_any(&communities))
            .select(community_members::community_id)
            .load(conn)?
    };
    let mut app_on: HashMap<Option<i64>, bool> = HashMap::new();
    for r in rows.iter().filter(|r| ids.contains(&r.id)) {
        if let std::collections::hash_map::Entry::Vacant(slot) = app_on.entry(r.community_id) {
            slot.insert(apps::enabled(conn, App::Polls, r.community_id)?);
        }
    }
    let at = now();
    let mut out = HashMap::with_capacity(polls.len());
    for p in polls {
        let Some(row) = rows.iter().find(|r| r.id == p.content_id) else {
            continue;
        };
        let may_write = row.community_id.is_none_or(|c| member_of.contains(&c))
            && app_on.get(&row.community_id).copied().unwrap_or(false);
        let own: Vec<&OptionRow> = options
            .iter()
            .filter(|o| o.content_id == p.content_id)
            .collect();
        let voted = own.iter().any(|o| mine.contains(&o.id));
        let closed = p.closed(at);
        let author = row.author_id == viewer;
        let shown = closed || author || (voted && p.results() == Results::Voted);
        let remote = row.ap_id.is_some();
        // Shares of a poll of several answers are of the voters, as
        // Mastodon shows them; without a count of voters, of the votes.
        let total: i64 = own.iter().map(|o| o.votes).sum();
        let base = if p.voters > 0 { p.voters } else { total };
        out.insert(
            p.content_id,
            View {
                multiple: p.multiple,
                closes_at: p.closes_at,
                closed,
                results: p.results(),
                anonymous: p.anonymous,
                voters: shown.then_some(p.voters.max(if p.multiple { 0 } else { total })),
                voted,
                shown,
                may_vote: !closed && !voted && may_write,
                may_close: author && !closed && !remote,
                remote,
                options: own
                    .iter()
                    .map(|o| Choice {
                        id: o.id,
                        name: o.name.clone(),
                        votes: shown.then_some(o.votes),
                        percent: shown.then(|| {
                            if base > 0 {
                                (o.votes * 100 + base / 2) / base
                            } else {
                                0
                            }
                        }),
                        mine: mine.contains(&o.id),
                    })
                    .collect(),
            },
        );
    }
    Ok(out)
}

/// A deleted poll loses its answers and who of this site chose them
/// (inside the transaction that empties its content row). The votes of
/// people of other instances are kept, shown nowhere, so that those
/// instances hear of the deletion (see [`remote_voters`]).
pub(super) fn forget(c: &mut DbConn, id: i64) -> AppResult<()> {
    let locals = users::table
        .filter(users::domain.is_null())
        .select(users::id);
    diesel::delete(
        poll_votes::table
            .filter(poll_votes::content_id.eq(id))
            .filter(poll_votes::user_id.eq_any(locals)),
    )
    .execute(c)?;
    diesel::update(poll_options::table.filter(poll_options::content_id.eq(id)))
        .set(poll_options::name.eq(""))
        .execute(c)?;
    Ok(())
}

/// A visible poll, or 404 (also for content that is not a poll).
fn visible_poll(conn: &mut DbConn, viewer: i64, id: i64) -> AppResult<(ContentRow, PollRow)> {
    let row = get_visible(conn, viewer, id)?;
    if row.kind != "poll" {
        return Err(AppError::not_found());
    }
    let poll = poll_of(conn, row.id)?;
    Ok((row, poll))
}

/// A poll as `viewer` sees it, or 404.
pub fn view(conn: &mut DbConn, viewer: i64, id: i64) -> AppResult<View> {
    let row = get_visible(conn, viewer, id)?;
    views(conn, viewer, &[&row])?
        .remove(&row.id)
        .ok_or_else(AppError::not_found)
}

/// Who chose each answer of a named poll of this site, for a reader who
/// sees its results: (answer id, username, display name), in the order
/// they voted. Empty for an anonymous poll or hidden results.
pub fn voters(conn: &mut DbConn, viewer: i64, id: i64) -> AppResult<Vec<(i64, String, String)>> {
    let v = view(conn, viewer, id)?;
    if v.anonymous || !v.shown || v.remote {
        return Ok(Vec::new());
    }
    Ok(poll_votes::table
        .inner_join(users::table)
        .filter(poll_votes::content_id.eq(id))
        .order(poll_votes::created_at.asc())
        .select((poll_votes::option_id, users::username, users::display_name))
        .load(conn)?)
}

/// Takes the poll's row lock (inside a write transaction) and reads it
/// then: two votes of one person cannot both pass the check that they did
/// not vote, and no vote passes the check that it is open while the poll
/// is being closed.
fn lock(c: &mut DbConn, id: i64) -> AppResult<PollRow> {
    diesel::update(polls::table.find(id))
        .set(polls::content_id.eq(polls::content_id))
        .execute(c)?;
    poll_of(c, id)
}

/// The answers `who` chose in poll `id`.
fn chosen(c: &mut DbConn, id: i64, who: i64) -> AppResult<Vec<i64>> {
    Ok(poll_votes::table
        .filter(poll_votes::content_id.eq(id))
        .filter(poll_votes::user_id.eq(who))
        .select(poll_votes::option_id)
        .load(c)?)
}

/// Counts new votes of a voter who had not voted (`first`) in a poll of
/// this site, and tells other instances the new counts.
fn count(c: &mut DbConn, row: &ContentRow, options: &[i64], first: bool) -> AppResult<()> {
    diesel::update(poll_options::table.filter(poll_options::id.eq_any(options)))
        .set(poll_options::votes.eq(poll_options::votes + 1))
        .execute(c)?;
    if first {
        diesel::update(polls::table.find(row.id))
            .set(polls::voters.eq(polls::voters + 1))
            .execute(c)?;
    }
    events::record(
        c,
        Event::Counted {
            author: row.author_id,
            content: row.id,
        },
    )?;
    Ok(())
}

/// `voter` votes in a poll they may see: once, while it is open, for one
/// of its answers (several when it allows them). In a community only its
/// members vote. For a poll of another instance, the vote is sent there.
pub fn vote(conn: &mut DbConn, voter: &User, id: i64, choices: &[i64]) -> AppResult<View> {
    let (row, poll) = visible_poll(conn, voter.id, id)?;
    require_member(conn, voter.id, row.community_id)?;
    apps::require(conn, App::Polls, row.community_id)?;
    if poll.closed(now()) {
        return Err(AppError::conflict("poll_closed"));
    }
    let mut picked = choices.to_vec();
    picked.sort_unstable();
    picked.dedup();
    if picked.is_empty() {
        return Err(AppError::bad_request("poll_choice_required"));
    }
    if picked.len() > 1 && !poll.multiple {
        return Err(AppError::conflict("poll_one_choice"));
    }
    let options = options_of(conn, &[row.id])?;
    if picked.iter().any(|p| !options.iter().any(|o| o.id == *p)) {
        return Err(AppError::new(
            crate::error::ErrorKind::NotFound,
            "poll_option_unknown",
        ));
    }
    db::write(conn, |c| {
        if lock(c, row.id)?.closed(now()) {
            return Err(AppError::conflict("poll_closed"));
        }
        if !chosen(c, row.id, voter.id)?.is_empty() {
            return Err(AppError::conflict("poll_voted"));
        }
        let at = now();
        for option in &picked {
            diesel::insert_into(poll_votes::table)
                .values((
                    poll_votes::option_id.eq(option),
                    poll_votes::content_id.eq(row.id),
                    poll_votes::user_id.eq(voter.id),
                    poll_votes::created_at.eq(at),
                ))
                .execute(c)?;
        }
        if row.ap_id.is_some() {
            // Its instance counts it, and publishes the new counts.
            for option in &picked {
                events::record(
                    c,
                    Event::Voted {
                        person: voter.id,
                        option: *option,
                    },
                )?;
            }
        } else {
            count(c, &row, &picked, true)?;
        }
        Ok(())
    })?;
    view(conn, voter.id, id)
}

/// How long after their first answer a person of another instance may
/// send more answers of a poll of several (Mastodon sends one Note per
/// answer, together): later, they would choose after seeing the results.
pub const MORE_ANSWERS_SECONDS: i64 = 60;

/// A person of another instance votes in a poll of this site, for the
/// answer named `answer` (a Note with that name answering the poll, one
/// per answer). The same rules as [`vote`], where what the person may see
/// is what their instance (`reader`) may see: never a poll of this site
/// only, an organisation's poll only from a member instance, a poll of
/// one's followers only from an instance of a follower. In a community of
/// this site only its members vote; in a community of another instance,
/// whose members are known there, the instance's right to read it decides.
/// A second answer from the same person is taken only by a poll of several
/// answers, and only with the first ([`MORE_ANSWERS_SECONDS`]). Returns
/// whether the vote was counted now (`false`: this answer was already
/// theirs).
pub fn vote_remote(
    conn: &mut DbConn,
    voter: i64,
    reader: &crate::audience::Instance,
    id: i64,
    answer: &str,
    ap_id: &str,
) -> AppResult<bool> {
    let row = super::remote::answered_from_afar(conn, voter, reader, id, "poll")?;
    apps::require(conn, App::Polls, row.community_id)?;
    let options = options_of(conn, &[row.id])?;
    let wanted = key(answer);
    let option = options
        .iter()
        .find(|o| key(&o.name) == wanted)
        .ok_or_else(|| AppError::bad_request("poll_option_unknown"))?
        .id;
    db::write(conn, |c| {
        let poll = lock(c, row.id)?;
        if poll.closed(now()) {
            return Err(AppError::conflict("poll_closed"));
        }
        let before = chosen(c, row.id, voter)?;
        if before.contains(&option) {
            return Ok(false);
        }
        if !before.is_empty() {
            let first: Option<NaiveDateTime> = poll_votes::table
                .filter(poll_votes::content_id.eq(row.id))
                .filter(poll_votes::user_id.eq(voter))
                .select(diesel::dsl::min(poll_votes::created_at))
                .first(c)?;
            let late =
                first.is_none_or(|t| now() - t > chrono::Duration::seconds(MORE_ANSWERS_SECONDS));
            if !poll.multiple || late {
                return Err(AppError::conflict("poll_voted"));
            }
        }
        diesel::insert_into(poll_votes::table)
            .values((
                poll_votes::option_id.eq(option),
                poll_votes::content_id.eq(row.id),
                poll_votes::user_id.eq(voter),
                poll_votes::ap_id.eq(Some(ap_id)),
                poll_votes::created_at.eq(now()),
            ))
            .execute(c)?;
        count(c, &row, &[option], before.is_empty())?;
        Ok(true)
    })
}

/// The author closes their poll before its date; other instances hear of
/// it with the final counts.
pub fn close(conn: &mut DbConn, actor: &User, id: i64) -> AppResult<View> {
    let (row, poll) = visible_poll(conn, actor.id, id)?;
    if row.author_id != actor.id || row.ap_id.is_some() {
        return Err(AppError::forbidden("not_author"));
    }
    if poll.closed(now()) {
        return Err(AppError::conflict("poll_closed"));
    }
    db::write(conn, |c| {
        if lock(c, row.id)?.closed(now()) {
            return Err(AppError::conflict("poll_closed"));
        }
        diesel::update(polls::table.find(row.id))
            .set(polls::closed_at.eq(Some(now())))
            .execute(c)?;
        tell_voters(c, row.id, row.author_id)?;
        events::record(
            c,
            Event::Counted {
                author: row.author_id,
                content: row.id,
            },
        )?;
        Ok::<_, AppError>(())
    })?;
    view(conn, actor.id, id)
}

/// Closes the polls of this site whose date has passed (their `closed_at`
/// is their date), each with the news of its final counts for other
/// instances: a poll whose results waited for the close publishes them
/// only then. Returns how many were closed; run now and then by the
/// server.
pub fn close_due(conn: &mut DbConn) -> AppResult<usize> {
    let due: Vec<(i64, i64, Option<NaiveDateTime>)> = polls::table
        .inner_join(content::table)
        .filter(polls::closed_at.is_null())
        .filter(polls::closes_at.le(now()))
        .filter(content::ap_id.is_null())
        .filter(content::deleted_at.is_null())
        .select((polls::content_id, content::author_id, polls::closes_at))
        .limit(500)
        .load(conn)?;
    if due.is_empty() {
        return Ok(0);
    }
    db::write(conn, |c| {
        let mut closed = 0;
        for (id, author, at) in &due {
            let now_closed = diesel::update(polls::table.find(id))
                .filter(polls::closed_at.is_null())
                .set(polls::closed_at.eq(*at))
                .execute(c)?;
            if now_closed == 0 {
                // Another process closed it meanwhile.
                continue;
            }
            closed += now_closed;
            tell_voters(c, *id, *author)?;
            events::record(
                c,
                Event::Counted {
                    author: *author,
                    content: *id,
                },
            )?;
        }
        Ok(closed)
    })
}

// ----- What other instances publish and read -----------------------------

/// A poll of another instance as its instance published it, or one of ours
/// as it is published.
#[derive(Debug, Clone, Default)]
pub struct Remote {
    /// Its answers with their votes (`None`: not published yet).
    pub options: Vec<(String, Option<i64>)>,
    pub multiple: bool,
    pub closes_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    /// How many people voted (`None`: not published).
    pub voters: Option<i64>,
    pub results: Results,
    pub anonymous: bool,
}

/// A poll of this site as it is published: results are left out while
/// others may not see them yet (results shown once it closes), so that
/// another server does not show what the author chose to hide.
pub fn published(conn: &mut DbConn, id: i64) -> AppResult<Option<Remote>> {
    let Some(p) = polls::table
        .find(id)
        .select(PollRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let closed = p.closed(now());
    let hidden = p.results() == Results::Closed && !closed;
    let options = options_of(conn, &[id])?;
    Ok(Some(Remote {
        options: options
            .into_iter()
            .map(|o| (o.name, (!hidden).then_some(o.votes)))
            .collect(),
        multiple: p.multiple,
        closes_at: p.closes_at,
        closed_at: if closed {
            Some(p.closed_at.or(p.closes_at).unwrap_or_else(now))
        } else {
            None
        },
        voters: (!hidden).then_some(p.voters),
        results: p.results(),
        anonymous: p.anonymous,
    }))
}

/// Stores a poll of another instance as first received (inside the
/// transaction that writes its content row).
pub(super) fn store_remote(c: &mut DbConn, id: i64, p: &Remote) -> AppResult<()> {
    diesel::update(content::table.find(id))
        .set(content::kind.eq("poll"))
        .execute(c)?;
    diesel::insert_into(polls::table)
        .values((
            polls::content_id.eq(id),
            polls::multiple.eq(p.multiple),
            polls::closes_at.eq(p.closes_at),
            polls::closed_at.eq(p.closed_at),
            polls::results.eq(p.results.as_str()),
            polls::anonymous.eq(p.anonymous),
            polls::voters.eq(p.voters.unwrap_or(0)),
        ))
        .execute(c)?;
    for (i, (name, votes)) in p.options.iter().enumerate() {
        diesel::insert_into(poll_options::table)
            .values((
                poll_options::content_id.eq(id),
                poll_options::position.eq(i as i32),
                poll_options::name.eq(name),
                poll_options::votes.eq(votes.unwrap_or(0)),
            ))
            .execute(c)?;
    }
    Ok(())
}

/// Takes the counts and dates its instance publishes anew for a poll of
/// another instance (an `Update` of it). Answers keep their names and
/// order: the counts are matched by name, and an answer that is not one
/// of the poll's is ignored.
pub(super) fn refresh_remote(c: &mut DbConn, id: i64, p: &Remote) -> AppResult<()> {
    let known: Option<PollRow> = polls::table
        .find(id)
        .select(PollRow::as_select())
        .first(c)
        .optional()?;
    let Some(known) = known else {
        return store_remote(c, id, p);
    };
    if !known.closed(now()) && p.closed_at.is_some_and(|t| t <= now()) {
        let author: i64 = content::table
            .find(id)
            .select(content::author_id)
            .first(c)?;
        tell_voters(c, id, author)?;
    }
    diesel::update(polls::table.find(id))
        .set((
            polls::closes_at.eq(p.closes_at),
            polls::closed_at.eq(p.closed_at),
            polls::voters.eq(p.voters.unwrap_or(0)),
        ))
        .execute(c)?;
    let options = options_of(c, &[id])?;
    for (name, votes) in &p.options {
        let wanted = key(name);
        if let Some(o) = options.iter().find(|o| key(&o.name) == wanted) {
            diesel::update(poll_options::table.find(o.id))
                .set(poll_options::votes.eq(votes.unwrap_or(0)))
                .execute(c)?;
        }
    }
    Ok(())
}

/// A vote of ours in a poll of another instance, as it is sent: the voter,
/// the answer's name, the poll's address and its author.
pub struct SentVote {
    pub voter: i64,
    pub answer: String,
    pub poll: ContentRow,
}

/// What answer `option` is, for a vote being sent (404 once the vote or
/// the poll is gone).
pub fn sent_vote(conn: &mut DbConn, voter: i64, option: i64) -> AppResult<SentVote> {
    let (answer, poll_id): (String, i64) = poll_options::table
        .find(option)
        .select((poll_options::name, poll_options::content_id))
        .first(conn)?;
    let still: i64 = poll_votes::table
        .filter(poll_votes::option_id.eq(option))
        .filter(poll_votes::user_id.eq(voter))
        .count()
        .get_result(conn)?;
    if still == 0 {
        return Err(AppError::not_found());
    }
    let poll = content::table
        .find(poll_id)
        .select(ContentRow::as_select())
        .first(conn)?;
    Ok(SentVote {
        voter,
        answer,
        poll,
    })
}

/// Tells the people of this site who voted in poll `id` that it closed
/// and its results are in (inside the transaction that closes it, or
/// takes its instance's word that it did).
fn tell_voters(c: &mut DbConn, id: i64, author: i64) -> AppResult<()> {
    let voters: Vec<i64> = poll_votes::table
        .inner_join(users::table)
        .filter(poll_votes::content_id.eq(id))
        .filter(users::domain.is_null())
        .select(users::id)
        .distinct()
        .load(c)?;
    crate::notifications::notify(c, &voters, "poll_closed", author, Some(id))
}

/// The people of other instances who voted in a poll of this site: they
/// hear of its new counts even when they do not follow its author.
pub fn remote_voters(conn: &mut DbConn, id: i64) -> AppResult<Vec<i64>> {
    Ok(poll_votes::table
        .inner_join(users::table)
        .filter(poll_votes::content_id.eq(id))
        .filter(users::domain.is_not_null())
        .select(users::id)
        .distinct()
        .load(conn)?)
}
