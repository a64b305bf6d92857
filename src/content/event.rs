//! Events, a kind of the content envelope (`kind = 'event'`): a meeting, a
//! training, a site visit, with a title, a start and an end in a time zone,
//! a place or an online link, and its description as the post's text. It
//! is published in a community or to an audience; the `event_details`
//! table holds what it adds and `event_rsvps` who answered. Feeds,
//! comments, reactions, mentions, audience and federation are the
//! envelope's.
//!
//! - **Answers** (RSVP): going, maybe or not going, one per person,
//!   changed or withdrawn until the event ends; in a community only its
//!   members answer. With a capacity, those who want to go once it is
//!   full wait on its waiting list (or are refused, `event_full`, when the
//!   organiser keeps no list); a place given back goes to the first who
//!   waits, who is told ([`answer`], and [`answer_remote`] for a person of
//!   another instance, under the same rules).
//! - **Reminders**: the day before, the people of this site who answered
//!   going or maybe are reminded ([`remind_due`], run by the server).
//! - **Calendars**: an event is read as an iCalendar file by the doors
//!   (`.ics`), and each person may make a private subscription address
//!   ([`calendar_link`]) for the events they go to ([`calendar_of`]).
//! - **Another instance's event**: its counts are those its instance last
//!   published ([`Remote`]); the answers of our people are kept here, so
//!   that they see them and their calendar has them, and sent there.

use std::collections::HashMap;

use chrono::{DateTime, Duration, FixedOffset, NaiveDateTime, TimeZone};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::{get_visible, publish, require_member, ContentRow, Detail, Place, Text};
use crate::accounts::User;
use crate::apps::{self, App};
use crate::audience;
use crate::db::schema::users;
use crate::db::schema::{calendar_feeds, community_members, content, event_details, event_rsvps};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult};
use crate::events::{self, Event};

/// Characters of a place, at most.
pub const MAX_PLACE: usize = 200;
/// Characters of an online link, at most.
pub const MAX_LINK: usize = 2000;
/// How long an event may last, at most.
pub const MAX_DAYS_LONG: i64 = 31;
/// How far ahead an event may be planned, at most.
pub const MAX_DAYS_AHEAD: i64 = 3 * 366;
/// Places an event may offer, at most.
pub const MAX_CAPACITY: i64 = 100_000;
/// How long before its start people are reminded of an event.
pub const REMIND_HOURS: i64 = 24;
/// People of each answer an event's list of attendees shows, at most.
pub const MAX_ATTENDEES: i64 = 2000;
/// Events a page of a list shows.
pub const PER_PAGE: i64 = 20;
/// Events a list reads, at most.
pub const MAX_LISTED: i64 = 1000;
/// Events a calendar subscription carries, at most (the soonest).
pub const MAX_CALENDAR: i64 = 500;
/// How far back a calendar subscription keeps past events.
pub const CALENDAR_PAST_DAYS: i64 = 90;

/// A person's answer to an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Going,
    Maybe,
    Declined,
}

impl Answer {
    pub const ALL: [Answer; 3] = [Answer::Going, Answer::Maybe, Answer::Declined];

    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Going => "going",
            Answer::Maybe => "maybe",
            Answer::Declined => "declined",
        }
    }

    pub fn parse(s: &str) -> AppResult<Answer> {
        Answer::ALL
            .into_iter()
            .find(|a| a.as_str() == s.trim())
            .ok_or_else(|| {
                let names: Vec<&str> = Answer::ALL.iter().map(|a| a.as_str()).collect();
                AppError::bad_request("event_answer_unknown").with("answers", names.join(", "))
            })
    }
}

/// An event as planned (the API's body, the page's form once read).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewEvent {
    pub title: String,
    /// When it starts: a time with its offset (RFC 3339), or a local time
    /// (`2026-12-10T09:00`) in `time_zone`.
    pub starts_at: String,
    /// When it ends, the same way; an hour after its start when empty.
    #[serde(default)]
    pub ends_at: Option<String>,
    /// A zone of the time zone database (`Europe/Paris`) it is shown in.
    pub time_zone: String,
    #[serde(default)]
    pub place: Option<String>,
    /// An address to join it online (http or https).
    #[serde(default)]
    pub online_url: Option<String>,
    /// Places for people going; none: no limit.
    #[serde(default)]
    pub capacity: Option<i64>,
    /// Whether people wait for a place once it is full (the default) or
    /// are refused.
    #[serde(default)]
    pub waiting_list: Option<bool>,
}

/// An event whose fields were checked.
#[derive(Debug, Clone)]
pub struct Checked {
    title: String,
    starts_at: NaiveDateTime,
    ends_at: NaiveDateTime,
    time_zone: String,
    place: String,
    online_url: String,
    capacity: Option<i64>,
    waiting_list: bool,
}

/// A time as written: with an offset, or local to `tz`. `None` when it is
/// not a time, or a local time the clocks skip.
fn read_time(raw: &str, tz: chrono_tz::Tz) -> Option<NaiveDateTime> {
    use chrono::Datelike;
    let raw = raw.trim();
    let at = if let Ok(t) = DateTime::<FixedOffset>::parse_from_rfc3339(raw) {
        t.naive_utc()
    } else {
        let local = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(raw, f).ok())?;
        tz.from_local_datetime(&local).earliest()?.naive_utc()
    };
    // Years of a calendar (chrono reads signed years of six digits, whose
    // arithmetic would overflow).
    (1900..=9999).contains(&at.year()).then_some(at)
}

/// Checks a place or a link: one line, bounded, no NUL.
fn one_line(
    field: &'static str,
    raw: Option<&str>,
    max: usize,
    code: &'static str,
) -> AppResult<String> {
    let raw = raw.unwrap_or("");
    crate::error::refuse_nul(field, raw)?;
    let s = super::one_line(raw);
    if s.chars().count() > max {
        return Err(AppError::bad_request(code).with("max", max));
    }
    Ok(s)
}

impl NewEvent {
    /// Checks the title, the time zone, the dates (a start in the future
    /// within [`MAX_DAYS_AHEAD`] days, an end after it within
    /// [`MAX_DAYS_LONG`] days), the place, the link (http or https) and the
    /// capacity (1 to [`MAX_CAPACITY`]).
    pub fn check(&self) -> AppResult<Checked> {
        self.check_keeping(None)
    }

    /// [`NewEvent::check`], where a start in the past is taken when it is
    /// `kept` (an event under way that its organiser changes).
    fn check_keeping(&self, kept: Option<NaiveDateTime>) -> AppResult<Checked> {
        let title = super::check_title(&self.title)?;
        let zone = self.time_zone.trim();
        let tz: chrono_tz::Tz = zone.parse().map_err(|_| {
            AppError::bad_request("event_time_zone_unknown")
                .with("value", zone.chars().take(60).collect::<String>())
        })?;
        let starts_at = read_time(&self.starts_at, tz)
            .ok_or_else(|| AppError::bad_request("event_start_invalid"))?;
        let ends_at = match self
            .ends_at
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(raw) => {
                read_time(raw, tz).ok_or_else(|| AppError::bad_request("event_end_invalid"))?
            }
            None => starts_at + Duration::hours(1),
        };
        let now = now();
        if starts_at <= now && Some(starts_at) != kept {
            return Err(AppError::bad_request("event_start_past"));
        }
        if starts_at > now + Duration::days(MAX_DAYS_AHEAD) {
            return Err(
                AppError::bad_request("event_start_too_far").with("max_days", MAX_DAYS_AHEAD)
            );
        }
        if ends_at <= starts_at {
            return Err(AppError::bad_request("event_end_before_start"));
        }
        if ends_at - starts_at > Duration::days(MAX_DAYS_LONG) {
            return Err(AppError::bad_request("event_too_long").with("max_days", MAX_DAYS_LONG));
        }
        let place = one_line(
            "place",
            self.place.as_deref(),
            MAX_PLACE,
            "event_place_too_long",
        )?;
        let online_url = one_line(
            "online_url",
            self.online_url.as_deref(),
            MAX_LINK,
            "event_link_invalid",
        )?;
        if !online_url.is_empty() {
            let ok = url::Url::parse(&online_url)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if !ok {
                return Err(AppError::bad_request("event_link_invalid").with("max", MAX_LINK));
            }
        }
        if let Some(n) = self.capacity {
            if !(1..=MAX_CAPACITY).contains(&n) {
                return Err(
                    AppError::bad_request("event_capacity_invalid").with("max", MAX_CAPACITY)
                );
            }
        }
        Ok(Checked {
            title,
            starts_at,
            ends_at,
            time_zone: tz.name().to_string(),
            place,
            online_url,
            capacity: self.capacity,
            waiting_list: self.waiting_list.unwrap_or(true),
        })
    }
}

/// Plans an event for an audience of people (`Place::Audience`) or in a
/// community (`Place::Community`: the caller checked that the author is a
/// member). The text is its description, which may be empty.
pub fn create(
    conn: &mut DbConn,
    max_chars: usize,
    author: &User,
    text: &Text,
    place: Place,
    event: &NewEvent,
) -> AppResult<ContentRow> {
    let community = match place {
        Place::Community(id) => Some(id),
        Place::Audience(_) => None,
    };
    apps::require(conn, App::Events, community)?;
    let checked = event.check()?;
    publish(
        conn,
        max_chars,
        author,
        text,
        place,
        &[],
        Detail::Event(&checked),
    )
}

/// Stores what a new event adds (inside the transaction that writes its
/// content row).
pub(super) fn store(c: &mut DbConn, id: i64, e: &Checked) -> AppResult<()> {
    diesel::insert_into(event_details::table)
        .values((
            event_details::content_id.eq(id),
            event_details::title.eq(&e.title),
            event_details::starts_at.eq(e.starts_at),
            event_details::ends_at.eq(e.ends_at),
            event_details::time_zone.eq(&e.time_zone),
            event_details::place.eq(&e.place),
            event_details::online_url.eq(&e.online_url),
            event_details::capacity.eq(e.capacity),
            event_details::waiting_list.eq(e.waiting_list),
        ))
        .execute(c)?;
    Ok(())
}

/// Gives an event a new title (inside the transaction of its edit).
pub(super) fn retitle(c: &mut DbConn, id: i64, title: &str) -> AppResult<()> {
    diesel::update(event_details::table.find(id))
        .set(event_details::title.eq(title))
        .execute(c)?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = event_details)]
struct EventRow {
    content_id: i64,
    title: String,
    starts_at: NaiveDateTime,
    ends_at: NaiveDateTime,
    time_zone: String,
    place: String,
    online_url: String,
    capacity: Option<i64>,
    waiting_list: bool,
    going: i64,
    maybe: i64,
    waiting: i64,
}

impl EventRow {
    fn ended(&self, at: NaiveDateTime) -> bool {
        self.ends_at <= at
    }
}

fn row_of(c: &mut DbConn, id: i64) -> AppResult<EventRow> {
    event_details::table
        .find(id)
        .select(EventRow::as_select())
        .first(c)
        .optional()?
        .ok_or_else(AppError::not_found)
}

/// An event as a reader sees it.
#[derive(Debug, Clone, Serialize)]
pub struct View {
    pub title: String,
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub starts_at: NaiveDateTime,
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub ends_at: NaiveDateTime,
    /// The zone its organiser planned it in.
    pub time_zone: String,
    pub place: String,
    pub online_url: String,
    /// Places for people going; `null`: no limit.
    pub capacity: Option<i64>,
    pub waiting_list: bool,
    /// How many go, may go, and wait for a place.
    pub going: i64,
    pub maybe: i64,
    pub waiting: i64,
    /// Places left, with a capacity.
    pub remaining: Option<i64>,
    /// The reader's answer, if any.
    pub answer: Option<Answer>,
    /// Whether the reader waits for a place.
    pub on_waiting_list: bool,
    /// Whether it ended.
    pub over: bool,
    /// Whether the reader may answer now.
    pub may_answer: bool,
    /// Whether the reader may change it (its organiser, here).
    pub may_change: bool,
    /// An event of another instance (its counts are those it published).
    pub remote: bool,
}

impl View {
    /// Its start in the zone it was planned in, as `2026-12-10 09:00`.
    pub fn starts_local(&self) -> String {
        local(self.starts_at, &self.time_zone)
    }
    /// Its end in the zone it was planned in.
    pub fn ends_local(&self) -> String {
        local(self.ends_at, &self.time_zone)
    }
    /// Its start and end in the zone it was planned in, as a form's
    /// `datetime-local` fields take them.
    pub fn form_times(&self) -> (String, String) {
        let field = |at: NaiveDateTime| match self.time_zone.parse::<chrono_tz::Tz>() {
            Ok(tz) => tz
                .from_utc_datetime(&at)
                .format("%Y-%m-%dT%H:%M")
                .to_string(),
            Err(_) => at.format("%Y-%m-%dT%H:%M").to_string(),
        };
        (field(self.starts_at), field(self.ends_at))
    }
    /// Whether it is full (no place left).
    pub fn full(&self) -> bool {
        self.remaining == Some(0)
    }
    /// The reader's answer as a word (`""` when none).
    pub fn answer_str(&self) -> &'static str {
        self.answer.map(Answer::as_str).unwrap_or("")
    }
}

/// `at` (UTC) in the zone named `zone`, as `YYYY-MM-DD HH:MM`.
fn local(at: NaiveDateTime, zone: &str) -> String {
    match zone.parse::<chrono_tz::Tz>() {
        Ok(tz) => tz
            .from_utc_datetime(&at)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        Err(_) => at.format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

/// The events among content rows, as `viewer` sees them (a few queries for
/// a page of a feed, none when it has no event).
pub fn views(
    conn: &mut DbConn,
    viewer: i64,
    rows: &[&ContentRow],
) -> AppResult<HashMap<i64, View>> {
    let here: Vec<&ContentRow> = rows
        .iter()
        .copied()
        .filter(|r| r.kind == "event" && r.deleted_at.is_none())
        .collect();
    if here.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<i64> = here.iter().map(|r| r.id).collect();
    let found: Vec<EventRow> = event_details::table
        .filter(event_details::content_id.eq_any(&ids))
        .select(EventRow::as_select())
        .load(conn)?;
    let mine: Vec<(i64, String, bool)> = event_rsvps::table
        .filter(event_rsvps::content_id.eq_any(&ids))
        .filter(event_rsvps::user_id.eq(viewer))
        .select((
            event_rsvps::content_id,
            event_rsvps::answer,
            event_rsvps::waiting,
        ))
        .load(conn)?;
    let mut communities: Vec<i64> = here.iter().filter_map(|r| r.community_id).collect();
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
    for r in &here {
        if let std::collections::hash_map::Entry::Vacant(slot) = app_on.entry(r.community_id) {
            slot.insert(apps::enabled(conn, App::Events, r.community_id)?);
        }
    }
    let at = now();
    let mut out = HashMap::with_capacity(found.len());
    for e in found {
        let Some(row) = here.iter().find(|r| r.id == e.content_id) else {
            continue;
        };
        let own = mine.iter().find(|m| m.0 == e.content_id);
        let may_write = row.community_id.is_none_or(|c| member_of.contains(&c))
            && app_on.get(&row.community_id).copied().unwrap_or(false);
        let over = e.ended(at);
        out.insert(
            e.content_id,
            View {
                remaining: e.capacity.map(|c| (c - e.going).max(0)),
                answer: own.and_then(|m| Answer::parse(&m.1).ok()),
                on_waiting_list: own.is_some_and(|m| m.2),
                over,
                may_answer: !over && may_write,
                may_change: row.author_id == viewer && row.ap_id.is_none(),
                remote: row.ap_id.is_some(),
                title: e.title,
                starts_at: e.starts_at,
                ends_at: e.ends_at,
                time_zone: e.time_zone,
                place: e.place,
                online_url: e.online_url,
                capacity: e.capacity,
                waiting_list: e.waiting_list,
                going: e.going,
                maybe: e.maybe,
                waiting: e.waiting,
            },
        );
    }
    Ok(out)
}

/// An event as `viewer` sees it, or 404 (also for content that is not an
/// event).
pub fn view(conn: &mut DbConn, viewer: i64, id: i64) -> AppResult<View> {
    let row = get_visible(conn, viewer, id)?;
    views(conn, viewer, &[&row])?
        .remove(&row.id)
        .ok_or_else(AppError::not_found)
}

/// A visible event, or 404 (also for content that is not an event).
fn visible_event(conn: &mut DbConn, viewer: i64, id: i64) -> AppResult<(ContentRow, EventRow)> {
    let row = get_visible(conn, viewer, id)?;
    if row.kind != "event" {
        return Err(AppError::not_found());
    }
    let e = row_of(conn, row.id)?;
    Ok((row, e))
}

/// Takes the event's row lock (inside a write transaction) and reads it
/// then: two answers cannot both take the last place.
fn lock(c: &mut DbConn, id: i64) -> AppResult<EventRow> {
    diesel::update(event_details::table.find(id))
        .set(event_details::content_id.eq(event_details::content_id))
        .execute(c)?;
    row_of(c, id)
}

/// `who`'s answer to event `id`: (answer, waiting).
fn answer_of(c: &mut DbConn, id: i64, who: i64) -> AppResult<Option<(String, bool)>> {
    Ok(event_rsvps::table
        .find((id, who))
        .select((event_rsvps::answer, event_rsvps::waiting))
        .first(c)
        .optional()?)
}

/// Counts the answers to an event of this site anew, gives the places left
/// to those who wait (the first to have asked first), tells each of them
/// (those of this site), and tells other instances the new counts.
fn settle(c: &mut DbConn, row: &ContentRow, e: &EventRow) -> AppResult<()> {
    // Disabled (and deleted) accounts hold no place.
    let counted = |c: &mut DbConn, answer: &str, waiting: bool| -> AppResult<i64> {
        Ok(event_rsvps::table
            .inner_join(users::table)
            .filter(event_rsvps::content_id.eq(row.id))
            .filter(event_rsvps::answer.eq(answer))
            .filter(event_rsvps::waiting.eq(waiting))
            .filter(users::disabled.eq(false))
            .count()
            .get_result(c)?)
    };
    let going = counted(c, "going", false)?;
    // Without a limit (any more), everyone who waits comes.
    let free = e.capacity.map_or(i64::MAX, |cap| cap - going);
    if free > 0 {
        let promoted: Vec<i64> = event_rsvps::table
            .filter(event_rsvps::content_id.eq(row.id))
            .filter(event_rsvps::waiting.eq(true))
            .order((event_rsvps::answered_at.asc(), event_rsvps::user_id.asc()))
            .select(event_rsvps::user_id)
            .limit(free.min(MAX_CAPACITY))
            .load(c)?;
        if !promoted.is_empty() {
            diesel::update(
                event_rsvps::table
                    .filter(event_rsvps::content_id.eq(row.id))
                    .filter(event_rsvps::user_id.eq_any(&promoted)),
            )
            .set(event_rsvps::waiting.eq(false))
            .execute(c)?;
            let locals: Vec<i64> = users::table
                .filter(users::id.eq_any(&promoted))
                .filter(users::domain.is_null())
                .select(users::id)
                .load(c)?;
            crate::notifications::notify(c, &locals, "event_place", row.author_id, Some(row.id))?;
        }
    }
    let (going, maybe, waiting) = (
        counted(c, "going", false)?,
        counted(c, "maybe", false)?,
        counted(c, "going", true)?,
    );
    diesel::update(event_details::table.find(row.id))
        .set((
            event_details::going.eq(going),
            event_details::maybe.eq(maybe),
            event_details::waiting.eq(waiting),
        ))
        .execute(c)?;
    events::record(
        c,
        Event::Counted {
            author: row.author_id,
            content: row.id,
        },
    )?;
    Ok(())
}

/// Writes `who`'s answer to an event of this site, under the event's lock
/// (the caller holds it): going once it is full waits, or is refused
/// without a waiting list. The same answer again changes nothing (a
/// person waiting keeps their turn). Returns whether anything changed.
fn write_answer(
    c: &mut DbConn,
    row: &ContentRow,
    e: &EventRow,
    who: i64,
    answer: Option<Answer>,
    ap_id: Option<&str>,
) -> AppResult<bool> {
    let before = answer_of(c, row.id, who)?;
    if before.as_ref().map(|b| b.0.as_str()) == answer.map(Answer::as_str) {
        return Ok(false);
    }
    diesel::delete(event_rsvps::table.find((row.id, who))).execute(c)?;
    if let Some(a) = answer {
        let waiting = a == Answer::Going
            && e.capacity
                .is_some_and(|cap| e.going - was_going(&before) >= cap);
        if waiting && !e.waiting_list {
            return Err(AppError::conflict("event_full").with("capacity", e.capacity.unwrap_or(0)));
        }
        diesel::insert_into(event_rsvps::table)
            .values((
                event_rsvps::content_id.eq(row.id),
                event_rsvps::user_id.eq(who),
                event_rsvps::answer.eq(a.as_str()),
                event_rsvps::waiting.eq(waiting),
                event_rsvps::ap_id.eq(ap_id),
                event_rsvps::answered_at.eq(now()),
            ))
            .execute(c)?;
    }
    Ok(true)
}

/// 1 when an answer held a place, else 0.
fn was_going(before: &Option<(String, bool)>) -> i64 {
    i64::from(before.as_ref().is_some_and(|(a, w)| a == "going" && !w))
}

/// `who` answers an event they may see (`None`: withdraws their answer),
/// until it ends; in a community only its members answer. For an event
/// of another instance, the answer is kept here and sent there.
pub fn answer(conn: &mut DbConn, who: &User, id: i64, answer: Option<Answer>) -> AppResult<View> {
    let (row, e) = visible_event(conn, who.id, id)?;
    require_member(conn, who.id, row.community_id)?;
    apps::require(conn, App::Events, row.community_id)?;
    if e.ended(now()) {
        return Err(AppError::conflict("event_over"));
    }
    db::write(conn, |c| {
        let e = lock(c, row.id)?;
        if e.ended(now()) {
            return Err(AppError::conflict("event_over"));
        }
        if row.ap_id.is_some() {
            // Its instance counts it; ours is kept for the reader's own view
            // and calendar, never waiting here (its instance decides).
            let before = answer_of(c, row.id, who.id)?;
            if before.as_ref().map(|b| b.0.as_str()) == answer.map(Answer::as_str) {
                return Ok(());
            }
            diesel::delete(event_rsvps::table.find((row.id, who.id))).execute(c)?;
            if let Some(a) = answer {
                diesel::insert_into(event_rsvps::table)
                    .values((
                        event_rsvps::content_id.eq(row.id),
                        event_rsvps::user_id.eq(who.id),
                        event_rsvps::answer.eq(a.as_str()),
                        event_rsvps::answered_at.eq(now()),
                    ))
                    .execute(c)?;
            }
            events::record(
                c,
                Event::Answered {
                    person: who.id,
                    event: row.id,
                    before: before.map(|b| b.0).unwrap_or_default(),
                },
            )?;
        } else if write_answer(c, &row, &e, who.id, answer, None)? {
            settle(c, &row, &e)?;
        }
        Ok(())
    })?;
    view(conn, who.id, id)
}

/// Whether content `id` is a live event of this site.
pub fn is_event(conn: &mut DbConn, id: i64) -> AppResult<bool> {
    let n: i64 = content::table
        .find(id)
        .filter(content::kind.eq("event"))
        .filter(content::ap_id.is_null())
        .filter(content::deleted_at.is_null())
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// A person of another instance answers an event of this site
/// (`None`: withdraws), as their instance sent it (`ap_id`). The same rules
/// as [`answer`], where what the person may see is what their instance
/// (`reader`) may see; in a community of this site only its members answer.
/// Returns whether anything changed.
pub fn answer_remote(
    conn: &mut DbConn,
    person: i64,
    reader: &audience::Instance,
    id: i64,
    answer: Option<Answer>,
    ap_id: &str,
    undoes: Option<&str>,
) -> AppResult<bool> {
    let row: ContentRow = content::table
        .find(id)
        .filter(content::deleted_at.is_null())
        .filter(content::kind.eq("event"))
        // Only the instance of an event counts its answers.
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
        Some(_) if super::remote::hosted_here(conn, row.community_id)? => {
            require_member(conn, person, row.community_id)?
        }
        Some(_) => {}
        None => {
            get_visible(conn, person, id)?;
        }
    }
    apps::require(conn, App::Events, row.community_id)?;
    db::write(conn, |c| {
        let e = lock(c, row.id)?;
        if e.ended(now()) {
            return Err(AppError::conflict("event_over"));
        }
        if let Some(undone) = undoes {
            // An Undo withdraws the answer it names, not a newer one.
            let held: Option<Option<String>> = event_rsvps::table
                .find((row.id, person))
                .select(event_rsvps::ap_id)
                .first(c)
                .optional()?;
            if held.flatten().is_some_and(|a| a != undone) {
                return Ok(false);
            }
        }
        let changed = write_answer(c, &row, &e, person, answer, Some(ap_id))?;
        if changed {
            settle(c, &row, &e)?;
        }
        Ok(changed)
    })
}

/// Someone who answered an event, as its readers see them.
#[derive(Debug, Clone, Serialize)]
pub struct Attendee {
    pub username: String,
    pub display_name: String,
    /// Their instance, for a person of another instance.
    pub domain: Option<String>,
    pub answer: Answer,
    pub waiting: bool,
}

/// Who answered an event `viewer` may see, going first (in the order they
/// answered), then maybe, then not going. For an event of another
/// instance, only those known here.
pub fn attendees(conn: &mut DbConn, viewer: i64, id: i64) -> AppResult<Vec<Attendee>> {
    visible_event(conn, viewer, id)?;
    let mut rows: Vec<(String, String, Option<String>, String, bool)> = Vec::new();
    // Each answer in turn, so that a long list of those who do not come
    // does not push out those who do.
    for answer in Answer::ALL {
        rows.extend(
            event_rsvps::table
                .inner_join(users::table)
                .filter(event_rsvps::content_id.eq(id))
                .filter(event_rsvps::answer.eq(answer.as_str()))
                .filter(users::disabled.eq(false))
                .order((event_rsvps::waiting.asc(), event_rsvps::answered_at.asc()))
                .select((
                    users::username,
                    users::display_name,
                    users::domain,
                    event_rsvps::answer,
                    event_rsvps::waiting,
                ))
                .limit(MAX_ATTENDEES)
                .load::<(String, String, Option<String>, String, bool)>(conn)?,
        );
    }
    let mut out: Vec<Attendee> = rows
        .into_iter()
        .filter_map(|(username, display_name, domain, a, waiting)| {
            Some(Attendee {
                username,
                display_name,
                domain,
                answer: Answer::parse(&a).ok()?,
                waiting,
            })
        })
        .collect();
    out.sort_by_key(|a| (a.answer as u8, a.waiting));
    Ok(out)
}

/// A deleted event loses its details and the answers of the people of
/// this site (inside the transaction that empties its content row). The
/// answers of people of other instances are kept, shown nowhere, so that
/// those instances hear of the deletion (see [`remote_attendees`]).
pub(super) fn forget(c: &mut DbConn, id: i64) -> AppResult<()> {
    let locals = users::table
        .filter(users::domain.is_null())
        .select(users::id);
    diesel::delete(
        event_rsvps::table
            .filter(event_rsvps::content_id.eq(id))
            .filter(event_rsvps::user_id.eq_any(locals)),
    )
    .execute(c)?;
    diesel::update(event_details::table.find(id))
        .set((
            event_details::title.eq(""),
            event_details::place.eq(""),
            event_details::online_url.eq(""),
        ))
        .execute(c)?;
    Ok(())
}

/// The people of other instances who answered an event of this site: they
/// hear of its changes even when they do not follow its organiser.
pub fn remote_attendees(conn: &mut DbConn, id: i64) -> AppResult<Vec<i64>> {
    Ok(event_rsvps::table
        .inner_join(users::table)
        .filter(event_rsvps::content_id.eq(id))
        .filter(users::domain.is_not_null())
        .select(users::id)
        .load(conn)?)
}

/// Reminds the people of this site who go (or may go) to an event that
/// starts within [`REMIND_HOURS`] hours, once per event: a notification
/// `event_reminder`, e-mailed as each chose. Returns how many events were
/// reminded of; run now and then by the server.
pub fn remind_due(conn: &mut DbConn) -> AppResult<usize> {
    let at = now();
    let due: Vec<(i64, i64)> = event_details::table
        .inner_join(content::table)
        .filter(event_details::reminded_at.is_null())
        .filter(event_details::starts_at.gt(at))
        .filter(event_details::starts_at.le(at + Duration::hours(REMIND_HOURS)))
        .filter(content::deleted_at.is_null())
        .select((event_details::content_id, content::author_id))
        .limit(200)
        .load(conn)?;
    if due.is_empty() {
        return Ok(0);
    }
    db::write(conn, |c| {
        let mut reminded = 0;
        for (id, author) in &due {
            let now_reminded = diesel::update(event_details::table.find(id))
                .filter(event_details::reminded_at.is_null())
                .set(event_details::reminded_at.eq(Some(now())))
                .execute(c)?;
            if now_reminded == 0 {
                // Another process did it meanwhile.
                continue;
            }
            reminded += 1;
            let people: Vec<i64> = event_rsvps::table
                .inner_join(users::table)
                .filter(event_rsvps::content_id.eq(id))
                .filter(event_rsvps::answer.eq_any(["going", "maybe"]))
                .filter(event_rsvps::waiting.eq(false))
                .filter(users::domain.is_null())
                .select(users::id)
                .load(c)?;
            // The organiser, when they go, is reminded too.
            for person in people {
                crate::notifications::record(
                    c,
                    crate::notifications::NewNotification::to(person, "event_reminder", *author)
                        .about_content(Some(*id)),
                )?;
            }
        }
        Ok(reminded)
    })
}

/// Which events a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum When {
    /// Not ended yet, the soonest first.
    #[default]
    Upcoming,
    /// Ended, the latest first.
    Past,
    /// Not ended, which the reader goes (or may go) to, or waits for a
    /// place at.
    Mine,
}

impl When {
    pub const ALL: [When; 3] = [When::Upcoming, When::Mine, When::Past];

    pub fn parse(s: &str) -> AppResult<When> {
        match s.trim() {
            "" | "upcoming" => Ok(When::Upcoming),
            "past" => Ok(When::Past),
            "mine" => Ok(When::Mine),
            _ => Err(AppError::bad_request("event_filter_unknown")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            When::Upcoming => "upcoming",
            When::Past => "past",
            When::Mine => "mine",
        }
    }
}

/// A list of events: the rows of one page, and whether a next follows.
pub struct Listed {
    pub rows: Vec<ContentRow>,
    pub more: bool,
}

/// Events `viewer` may read, in one community or in all and outside
/// communities, as `when` says: page `page` (from 0) of `per_page`.
pub fn list(
    conn: &mut DbConn,
    viewer: i64,
    community: Option<i64>,
    when: When,
    page: i64,
    per_page: i64,
) -> AppResult<Listed> {
    let at = now();
    let per_page = per_page.clamp(1, 100);
    let mut q = content::table
        .inner_join(event_details::table)
        .filter(content::kind.eq("event"))
        .filter(content::deleted_at.is_null())
        .filter(audience::posts_visible_to(viewer))
        .select(ContentRow::as_select())
        .limit(per_page + 1)
        .offset(page.max(0) * per_page)
        .into_boxed();
    if let Some(cm) = community {
        q = q.filter(content::community_id.eq(cm));
    }
    q = match when {
        When::Upcoming => q
            .filter(event_details::ends_at.gt(at))
            .order((event_details::starts_at.asc(), content::id.asc())),
        When::Past => q
            .filter(event_details::ends_at.le(at))
            .order((event_details::starts_at.desc(), content::id.desc())),
        When::Mine => {
            let answered = event_rsvps::table
                .filter(event_rsvps::user_id.eq(viewer))
                .filter(event_rsvps::answer.eq_any(["going", "maybe"]))
                .select(event_rsvps::content_id);
            q.filter(event_details::ends_at.gt(at))
                .filter(content::id.eq_any(answered))
                .order((event_details::starts_at.asc(), content::id.asc()))
        }
    };
    let mut rows: Vec<ContentRow> = q.load(conn)?;
    let more = rows.len() as i64 > per_page;
    rows.truncate(per_page as usize);
    Ok(Listed { rows, more })
}

/// An event in a calendar: what an iCalendar entry says of it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: i64,
    /// Its address (for an event of another instance, the one it gave).
    pub ap_id: Option<String>,
    pub title: String,
    pub description: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub place: String,
    pub online_url: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The reader's answer (`maybe` is tentative), if any.
    pub answer: Option<Answer>,
}

fn entries(conn: &mut DbConn, viewer: i64, rows: Vec<ContentRow>) -> AppResult<Vec<Entry>> {
    let refs: Vec<&ContentRow> = rows.iter().collect();
    let mut seen = views(conn, viewer, &refs)?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let v = seen.remove(&r.id)?;
            Some(Entry {
                id: r.id,
                ap_id: r.ap_id.clone(),
                title: v.title,
                description: r.body.clone(),
                starts_at: v.starts_at,
                ends_at: v.ends_at,
                place: v.place,
                online_url: v.online_url,
                created_at: r.created_at,
                updated_at: r.edited_at.unwrap_or(r.created_at),
                answer: v.answer,
            })
        })
        .collect())
}

/// One event `viewer` may see, for its iCalendar file (404 otherwise).
pub fn entry(conn: &mut DbConn, viewer: i64, id: i64) -> AppResult<Entry> {
    let (row, _) = visible_event(conn, viewer, id)?;
    entries(conn, viewer, vec![row])?
        .pop()
        .ok_or_else(AppError::not_found)
}

/// The events `person` goes or may go to (not those they wait for), that
/// they may still see, from [`CALENDAR_PAST_DAYS`] ago on, the soonest
/// first, at most [`MAX_CALENDAR`].
pub fn calendar_of(conn: &mut DbConn, person: i64) -> AppResult<Vec<Entry>> {
    let answered = event_rsvps::table
        .filter(event_rsvps::user_id.eq(person))
        .filter(event_rsvps::answer.eq_any(["going", "maybe"]))
        .filter(event_rsvps::waiting.eq(false))
        .select(event_rsvps::content_id);
    let rows: Vec<ContentRow> = content::table
        .inner_join(event_details::table)
        .filter(content::id.eq_any(answered))
        .filter(content::deleted_at.is_null())
        .filter(event_details::ends_at.gt(now() - Duration::days(CALENDAR_PAST_DAYS)))
        .filter(audience::posts_visible_to(person))
        .order(event_details::starts_at.asc())
        .select(ContentRow::as_select())
        .limit(MAX_CALENDAR)
        .load(conn)?;
    entries(conn, person, rows)
}

/// Makes `person`'s private calendar address anew: the secret in it is
/// returned once (its digest is kept), and the address made before stops
/// working.
pub fn calendar_link(conn: &mut DbConn, person: &User) -> AppResult<String> {
    crate::accounts::guest::refuse(conn, person.id)?;
    let secret = crate::accounts::secrets::random_token();
    let digest = crate::accounts::secrets::digest(&secret);
    db::write(conn, |c| {
        diesel::delete(calendar_feeds::table.find(person.id)).execute(c)?;
        diesel::insert_into(calendar_feeds::table)
            .values((
                calendar_feeds::user_id.eq(person.id),
                calendar_feeds::digest.eq(&digest),
                calendar_feeds::created_at.eq(now()),
            ))
            .execute(c)?;
        Ok::<_, AppError>(())
    })?;
    Ok(secret)
}

/// Whether `person` made a calendar address, and when.
pub fn calendar_made(conn: &mut DbConn, person: i64) -> AppResult<Option<NaiveDateTime>> {
    Ok(calendar_feeds::table
        .find(person)
        .select(calendar_feeds::created_at)
        .first(conn)
        .optional()?)
}

/// Stops `person`'s calendar address.
pub fn calendar_stop(conn: &mut DbConn, person: i64) -> AppResult<()> {
    db::write(conn, |c| {
        diesel::delete(calendar_feeds::table.find(person)).execute(c)?;
        Ok::<_, AppError>(())
    })
}

/// The events of the person whose calendar address carries `secret`
/// (enabled accounts only); 404 for any other secret.
pub fn calendar_by_secret(conn: &mut DbConn, secret: &str) -> AppResult<Vec<Entry>> {
    if secret.is_empty() || secret.len() > 100 {
        return Err(AppError::not_found());
    }
    let digest = crate::accounts::secrets::digest(secret);
    let person: i64 = calendar_feeds::table
        .inner_join(users::table)
        .filter(calendar_feeds::digest.eq(&digest))
        .filter(users::disabled.eq(false))
        .select(calendar_feeds::user_id)
        .first(conn)
        .optional()?
        .ok_or_else(AppError::not_found)?;
    calendar_of(conn, person)
}

// ----- What other instances publish and read -----------------------------

/// An event of another instance as its instance published it, or one of
/// ours as it is published.
#[derive(Debug, Clone, Default)]
pub struct Remote {
    pub title: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub time_zone: String,
    pub place: String,
    pub online_url: String,
    pub capacity: Option<i64>,
    pub going: i64,
    pub maybe: i64,
    pub waiting: i64,
    /// Answered with `Join` and `Leave` (Mobilizon).
    pub joins: bool,
}

impl Remote {
    /// Reads what another instance published, bounded: a title and a
    /// place on one line, a known time zone (else UTC), an end after the
    /// start (an hour after it when missing), an http(s) link.
    #[allow(clippy::too_many_arguments)]
    pub fn read(
        title: &str,
        starts_at: NaiveDateTime,
        ends_at: Option<NaiveDateTime>,
        time_zone: Option<&str>,
        place: &str,
        online_url: Option<&str>,
        capacity: Option<i64>,
        counts: (Option<i64>, Option<i64>, Option<i64>),
        joins: bool,
    ) -> Option<Remote> {
        let title = super::remote_title(title)?;
        let ends_at = ends_at
            .filter(|e| *e > starts_at && *e - starts_at <= Duration::days(366))
            .or_else(|| starts_at.checked_add_signed(Duration::hours(1)))?;
        let time_zone = time_zone
            .and_then(|z| z.trim().parse::<chrono_tz::Tz>().ok())
            .map_or("UTC".to_string(), |tz| tz.name().to_string());
        let place: String = super::one_line(place).chars().take(MAX_PLACE).collect();
        let online_url = online_url
            .filter(|u| u.len() <= MAX_LINK)
            .and_then(|u| url::Url::parse(u.trim()).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .map(String::from)
            .unwrap_or_default();
        let count = |n: Option<i64>| n.unwrap_or(0).clamp(0, 10_000_000);
        Some(Remote {
            title,
            starts_at,
            ends_at,
            time_zone,
            place,
            online_url,
            capacity: capacity.filter(|c| (1..=10_000_000).contains(c)),
            going: count(counts.0),
            maybe: count(counts.1),
            waiting: count(counts.2),
            joins,
        })
    }
}

/// An event of this site as it is published.
pub fn published(conn: &mut DbConn, id: i64) -> AppResult<Option<Remote>> {
    let Some(e) = event_details::table
        .find(id)
        .select(EventRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    Ok(Some(Remote {
        title: e.title,
        starts_at: e.starts_at,
        ends_at: e.ends_at,
        time_zone: e.time_zone,
        place: e.place,
        online_url: e.online_url,
        capacity: e.capacity,
        going: e.going,
        maybe: e.maybe,
        waiting: e.waiting,
        joins: false,
    }))
}

/// Stores an event of another instance as first received (inside the
/// transaction that writes its content row).
pub(super) fn store_remote(c: &mut DbConn, id: i64, e: &Remote) -> AppResult<()> {
    diesel::update(content::table.find(id))
        .set(content::kind.eq("event"))
        .execute(c)?;
    diesel::insert_into(event_details::table)
        .values((
            event_details::content_id.eq(id),
            event_details::title.eq(&e.title),
            event_details::starts_at.eq(e.starts_at),
            event_details::ends_at.eq(e.ends_at),
            event_details::time_zone.eq(&e.time_zone),
            event_details::place.eq(&e.place),
            event_details::online_url.eq(&e.online_url),
            event_details::capacity.eq(e.capacity),
            event_details::going.eq(e.going),
            event_details::maybe.eq(e.maybe),
            event_details::waiting.eq(e.waiting),
            event_details::joins.eq(e.joins),
        ))
        .execute(c)?;
    Ok(())
}

/// Takes what its instance publishes anew of an event of another instance
/// (an `Update`): its details and counts. When it moves, the people of
/// this site who answered are told, and reminded again before its new
/// start.
pub(super) fn refresh_remote(c: &mut DbConn, id: i64, e: &Remote) -> AppResult<()> {
    let Some(known) = event_details::table
        .find(id)
        .select(EventRow::as_select())
        .first(c)
        .optional()?
    else {
        return store_remote(c, id, e);
    };
    let moved =
        known.starts_at != e.starts_at || known.ends_at != e.ends_at || known.place != e.place;
    diesel::update(event_details::table.find(id))
        .set((
            event_details::title.eq(&e.title),
            event_details::starts_at.eq(e.starts_at),
            event_details::ends_at.eq(e.ends_at),
            event_details::time_zone.eq(&e.time_zone),
            event_details::place.eq(&e.place),
            event_details::online_url.eq(&e.online_url),
            event_details::capacity.eq(e.capacity),
            event_details::going.eq(e.going),
            event_details::maybe.eq(e.maybe),
            event_details::waiting.eq(e.waiting),
            event_details::joins.eq(e.joins),
        ))
        .execute(c)?;
    if moved {
        moved_tell(c, id)?;
    }
    Ok(())
}

/// An event moved (its dates or its place): the people of this site who
/// go or may go are told, and reminded again before its new start.
fn moved_tell(c: &mut DbConn, id: i64) -> AppResult<()> {
    diesel::update(event_details::table.find(id))
        .set(event_details::reminded_at.eq(None::<NaiveDateTime>))
        .execute(c)?;
    let author: i64 = content::table
        .find(id)
        .select(content::author_id)
        .first(c)?;
    let people: Vec<i64> = event_rsvps::table
        .inner_join(users::table)
        .filter(event_rsvps::content_id.eq(id))
        .filter(event_rsvps::answer.eq_any(["going", "maybe"]))
        .filter(users::domain.is_null())
        .filter(event_rsvps::user_id.ne(author))
        .select(users::id)
        .load(c)?;
    crate::notifications::notify(c, &people, "event_changed", author, Some(id))
}

/// The organiser changes their event: its dates, place, link, capacity
/// (checked as when it was planned; a capacity below the places already
/// given is refused). Those who answered are told when it moves; places
/// a larger capacity opens go to those who wait.
pub fn change(conn: &mut DbConn, actor: &User, id: i64, event: &NewEvent) -> AppResult<View> {
    let (row, before) = visible_event(conn, actor.id, id)?;
    if row.author_id != actor.id || row.ap_id.is_some() {
        return Err(AppError::forbidden("not_author"));
    }
    apps::require(conn, App::Events, row.community_id)?;
    let checked = event.check_keeping(Some(before.starts_at))?;
    let below =
        |going: i64| AppError::bad_request("event_capacity_below_going").with("going", going);
    if checked.capacity.is_some_and(|cap| cap < before.going) {
        return Err(below(before.going));
    }
    db::write(conn, |c| {
        let now_going = lock(c, row.id)?.going;
        if checked.capacity.is_some_and(|cap| cap < now_going) {
            return Err(below(now_going));
        }
        diesel::update(event_details::table.find(row.id))
            .set((
                event_details::title.eq(&checked.title),
                event_details::starts_at.eq(checked.starts_at),
                event_details::ends_at.eq(checked.ends_at),
                event_details::time_zone.eq(&checked.time_zone),
                event_details::place.eq(&checked.place),
                event_details::online_url.eq(&checked.online_url),
                event_details::capacity.eq(checked.capacity),
                event_details::waiting_list.eq(checked.waiting_list),
            ))
            .execute(c)?;
        crate::index::content(c, row.id)?;
        if before.starts_at != checked.starts_at
            || before.ends_at != checked.ends_at
            || before.place != checked.place
            || before.online_url != checked.online_url
        {
            moved_tell(c, row.id)?;
        }
        diesel::update(content::table.find(row.id))
            .set(content::edited_at.eq(Some(now())))
            .execute(c)?;
        let e = row_of(c, row.id)?;
        settle(c, &row, &e)?;
        events::record(
            c,
            Event::Edited {
                by: actor.id,
                content: row.id,
            },
        )?;
        Ok::<_, AppError>(())
    })?;
    view(conn, actor.id, id)
}

/// A local person's answer to an event of another instance, as it is
/// sent: the event, and the answer (`None`: withdrawn).
pub struct SentAnswer {
    pub event: ContentRow,
    pub answer: Option<Answer>,
    /// Whether its instance reads answers as `Join` and `Leave`.
    pub joins: bool,
}

/// What `person` answers to event `id` now, for the news being sent.
pub fn sent_answer(conn: &mut DbConn, person: i64, id: i64) -> AppResult<SentAnswer> {
    let event = content::table
        .find(id)
        .select(ContentRow::as_select())
        .first(conn)?;
    let answer = answer_of(conn, id, person)?.and_then(|(a, _)| Answer::parse(&a).ok());
    let joins = event_details::table
        .find(id)
        .select(event_details::joins)
        .first(conn)
        .optional()?
        .unwrap_or(false);
    Ok(SentAnswer {
        event,
        answer,
        joins,
    })
}
