//! The e-mail digest: once a day or once a week, at the person's morning,
//! what they missed — the posts of the people they follow and of their
//! communities, best first, with counts for the rest ("12 more in Qualité
//! Paris"), and the notifications they chose to read in the digest and
//! have not seen. Nothing to say: no e-mail.
//!
//! Each person has a row in `mail_digests`: how often, their clock, what
//! the last digest covered (the newest post and notification ids at that
//! time) and when the next is due. [`queue_due`] turns the due rows into
//! queued messages (`mails::Mail::Digest`, carrying the id ranges) and
//! moves each row on, in one transaction; on PostgreSQL the rows are
//! taken with `FOR UPDATE SKIP LOCKED`, so two processes never queue one
//! digest twice. [`build`] reads what a digest says when it is sent.

use chrono::{Datelike, Duration, NaiveDateTime, TimeZone};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text, Timestamp};
use serde::Serialize;

use crate::audience;
use crate::db::schema::{
    community_members, content, follows, mail_digests, notifications, reactions, users,
};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult};
use crate::mails::{self, Mail, To};
use crate::notifications::by_mail::{self, Mode};

/// The local hour a digest leaves at.
pub const MORNING_HOUR: u32 = 8;

/// How often a person gets a digest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    #[default]
    Daily,
    Weekly,
    Never,
}

impl Frequency {
    pub const ALL: [Frequency; 3] = [Frequency::Daily, Frequency::Weekly, Frequency::Never];

    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
            Frequency::Never => "never",
        }
    }

    pub fn parse(s: &str) -> AppResult<Frequency> {
        match s {
            "daily" => Ok(Frequency::Daily),
            "weekly" => Ok(Frequency::Weekly),
            "never" => Ok(Frequency::Never),
            _ => Err(AppError::bad_request("digest_invalid").with("value", s)),
        }
    }
}

/// Where a person's mornings are: a zone of the time zone database (as
/// their browser names it), which follows summer time, or else a fixed
/// offset from UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    Zone(chrono_tz::Tz),
    /// Minutes east of UTC.
    Offset(i32),
}

impl Clock {
    /// The zone named `zone` when it is one, else the fixed offset.
    pub fn of(zone: &str, offset_minutes: i32) -> Clock {
        match zone.parse::<chrono_tz::Tz>() {
            Ok(tz) => Clock::Zone(tz),
            Err(_) => Clock::Offset(offset_minutes),
        }
    }

    /// `at` (UTC) on this clock.
    fn local(self, at: NaiveDateTime) -> NaiveDateTime {
        match self {
            Clock::Zone(tz) => tz.from_utc_datetime(&at).naive_local(),
            Clock::Offset(m) => at + Duration::minutes(m as i64),
        }
    }

    /// The UTC time of the local time `local` (the first, when the clock
    /// goes back; an hour later, when it jumps over it).
    fn utc(self, local: NaiveDateTime) -> NaiveDateTime {
        match self {
            Clock::Zone(tz) => tz
                .from_local_datetime(&local)
                .earliest()
                .or_else(|| {
                    tz.from_local_datetime(&(local + Duration::hours(1)))
                        .earliest()
                })
                .map_or(local, |t| t.naive_utc()),
            Clock::Offset(m) => local - Duration::minutes(m as i64),
        }
    }
}

/// The next morning (at [`MORNING_HOUR`] on the person's clock) strictly
/// after `now`, in UTC; for a weekly digest, the next Monday morning.
pub fn next_morning(now: NaiveDateTime, clock: Clock, frequency: Frequency) -> NaiveDateTime {
    let at =
        |d: chrono::NaiveDate| clock.utc(d.and_hms_opt(MORNING_HOUR, 0, 0).unwrap_or_default());
    let mut day = clock.local(now).date();
    if at(day) <= now {
        day = day.succ_opt().unwrap_or(day);
    }
    if frequency == Frequency::Weekly {
        while day.weekday() != chrono::Weekday::Mon {
            day = day.succ_opt().unwrap_or(day);
        }
    }
    at(day)
}

/// A person's digest settings.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub frequency: Frequency,
    /// Minutes east of UTC, as their browser said at sign-in.
    pub utc_offset_minutes: i32,
    /// Their time zone, as their browser named it at sign-in (or as they
    /// chose it); empty when unknown (the offset counts then).
    pub time_zone: String,
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub next_at: NaiveDateTime,
}

/// How recent a post or notification may be and still go to the digest
/// being queued: on PostgreSQL a transaction that began earlier may still
/// commit a lower id, which a mark taken at the newest id would skip for
/// good. What is younger goes to the next digest.
const SETTLE: Duration = Duration::minutes(5);

/// The newest post and notification ids a digest queued now covers.
fn newest_ids(c: &mut DbConn) -> AppResult<(i64, i64)> {
    let before = now() - SETTLE;
    let content: Option<i64> = content::table
        .filter(content::created_at.lt(before))
        .select(diesel::dsl::max(content::id))
        .first(c)?;
    let notification: Option<i64> = notifications::table
        .filter(notifications::created_at.lt(before))
        .select(diesel::dsl::max(notifications::id))
        .first(c)?;
    Ok((content.unwrap_or(0), notification.unwrap_or(0)))
}

/// When the next digest is due: the next morning, or never (far away, so
/// that the scheduler's look for due rows passes them by).
fn next_due(now: NaiveDateTime, clock: Clock, frequency: Frequency) -> NaiveDateTime {
    match frequency {
        Frequency::Never => now + Duration::days(365 * 100),
        f => next_morning(now, clock, f),
    }
}

/// Inserts a person's row with the defaults (daily, UTC) and the given
/// marks, unless another transaction just did (inside a write
/// transaction).
fn insert_row(
    c: &mut DbConn,
    user_id: i64,
    (cmark, nmark): (i64, i64),
    next_at: NaiveDateTime,
) -> AppResult<()> {
    db::insert_unless_exists(c, |c| {
        diesel::insert_into(mail_digests::table)
            .values((
                mail_digests::user_id.eq(user_id),
                mail_digests::frequency.eq(Frequency::Daily.as_str()),
                mail_digests::utc_offset_minutes.eq(0),
                mail_digests::content_mark.eq(cmark),
                mail_digests::notification_mark.eq(nmark),
                mail_digests::next_at.eq(next_at),
            ))
            .execute(c)
    })?;
    Ok(())
}

/// A person's row, created with the defaults (daily, UTC) when missing
/// (inside a write transaction).
fn ensure_row(c: &mut DbConn, user_id: i64) -> AppResult<Settings> {
    if let Some(s) = read_row(c, user_id)? {
        return Ok(s);
    }
    let (cmark, nmark) = newest_ids(c)?;
    let next_at = next_morning(now(), Clock::Offset(0), Frequency::Daily);
    insert_row(c, user_id, (cmark, nmark), next_at)?;
    Ok(Settings {
        frequency: Frequency::Daily,
        utc_offset_minutes: 0,
        time_zone: String::new(),
        next_at,
    })
}

/// A person's digest settings (the defaults when they have none yet).
pub fn settings(c: &mut DbConn, user_id: i64) -> AppResult<Settings> {
    Ok(read_row(c, user_id)?.unwrap_or_else(|| Settings {
        frequency: Frequency::Daily,
        utc_offset_minutes: 0,
        time_zone: String::new(),
        next_at: next_morning(now(), Clock::Offset(0), Frequency::Daily),
    }))
}

/// A person's row, if they have one.
fn read_row(c: &mut DbConn, user_id: i64) -> AppResult<Option<Settings>> {
    let row: Option<(String, i32, String, NaiveDateTime)> = mail_digests::table
        .find(user_id)
        .select((
            mail_digests::frequency,
            mail_digests::utc_offset_minutes,
            mail_digests::time_zone,
            mail_digests::next_at,
        ))
        .first(c)
        .optional()?;
    Ok(row.map(|(f, offset, time_zone, next_at)| Settings {
        frequency: Frequency::parse(&f).unwrap_or(Frequency::Daily),
        utc_offset_minutes: offset,
        time_zone,
        next_at,
    }))
}

impl Settings {
    /// The person's clock.
    pub fn clock(&self) -> Clock {
        Clock::of(&self.time_zone, self.utc_offset_minutes)
    }
}

/// Sets how often a person gets a digest; the next one is due at their
/// next morning (Monday's for a weekly one).
/// Saves a person's e-mail choices: per kind of notification (`choices`,
/// as `notifications::by_mail::set_preferences` takes them) and, when
/// given, how often the digest comes. Everything is checked before
/// anything is saved.
pub fn save_mail_choices(
    c: &mut DbConn,
    user_id: i64,
    choices: &[(String, String)],
    digest: Option<&str>,
    time_zone: Option<&str>,
) -> AppResult<()> {
    let frequency = digest.map(Frequency::parse).transpose()?;
    if let Some(zone) = time_zone {
        if !matches!(Clock::of(zone.trim(), 0), Clock::Zone(_)) {
            return Err(AppError::bad_request("time_zone_invalid").with("value", zone));
        }
    }
    by_mail::set_preferences(c, user_id, choices)?;
    if let Some(f) = frequency {
        set_frequency(c, user_id, f)?;
    }
    if let Some(zone) = time_zone {
        set_time_zone(c, user_id, zone)?;
    }
    Ok(())
}

pub fn set_frequency(c: &mut DbConn, user_id: i64, frequency: Frequency) -> AppResult<Settings> {
    db::write(c, |c| {
        let s = ensure_row(c, user_id)?;
        if s.frequency == frequency {
            // Saving the settings again does not put the digest off.
            return Ok(s);
        }
        let next_at = next_due(now(), s.clock(), frequency);
        diesel::update(mail_digests::table.find(user_id))
            .set((
                mail_digests::frequency.eq(frequency.as_str()),
                mail_digests::next_at.eq(next_at),
            ))
            .execute(c)?;
        if s.frequency == Frequency::Never {
            // Back from "never": the first digest tells what is new from
            // now, not everything since the last one months ago.
            let (cmark, nmark) = newest_ids(c)?;
            diesel::update(mail_digests::table.find(user_id))
                .set((
                    mail_digests::content_mark.eq(cmark),
                    mail_digests::notification_mark.eq(nmark),
                ))
                .execute(c)?;
        }
        Ok(Settings {
            frequency,
            next_at,
            ..s
        })
    })
}

/// Remembers a person's clock, from their browser at sign-in: minutes
/// east of UTC and the name of their time zone (`Europe/Paris`), so that
/// digests leave at their morning, summer and winter. An out-of-range
/// offset is ignored, an unknown zone name too (the offset counts then);
/// an unchanged clock writes nothing.
pub fn remember_clock(
    c: &mut DbConn,
    user_id: i64,
    offset_minutes: i32,
    zone: &str,
) -> AppResult<()> {
    if !(-14 * 60..=14 * 60).contains(&offset_minutes) {
        return Ok(());
    }
    let zone = match Clock::of(zone.trim(), offset_minutes) {
        Clock::Zone(tz) => tz.name().to_string(),
        Clock::Offset(_) => String::new(),
    };
    let known: Option<(i32, String)> = mail_digests::table
        .find(user_id)
        .select((mail_digests::utc_offset_minutes, mail_digests::time_zone))
        .first(c)
        .optional()?;
    if known.as_ref() == Some(&(offset_minutes, zone.clone())) {
        return Ok(());
    }
    db::write(c, |c| {
        let s = ensure_row(c, user_id)?;
        let next_at = next_due(now(), Clock::of(&zone, offset_minutes), s.frequency);
        diesel::update(mail_digests::table.find(user_id))
            .set((
                mail_digests::utc_offset_minutes.eq(offset_minutes),
                mail_digests::time_zone.eq(&zone),
                mail_digests::next_at.eq(next_at),
            ))
            .execute(c)?;
        Ok(())
    })
}

/// Sets a person's time zone by its name in the time zone database
/// (`Europe/Paris`, `America/New_York`); the next digest moves to their
/// next morning there.
pub fn set_time_zone(c: &mut DbConn, user_id: i64, zone: &str) -> AppResult<Settings> {
    let Clock::Zone(tz) = Clock::of(zone.trim(), 0) else {
        return Err(AppError::bad_request("time_zone_invalid").with("value", zone));
    };
    db::write(c, |c| {
        let s = ensure_row(c, user_id)?;
        let clock = Clock::Zone(tz);
        let next_at = next_due(now(), clock, s.frequency);
        diesel::update(mail_digests::table.find(user_id))
            .set((
                mail_digests::time_zone.eq(tz.name()),
                mail_digests::next_at.eq(next_at),
            ))
            .execute(c)?;
        Ok(Settings {
            time_zone: tz.name().to_string(),
            next_at,
            ..s
        })
    })
}

/// Gives every local person without a digest row one, with the defaults
/// (the mail worker calls it at start-up and then every minute), a
/// thousand per transaction. Returns how many.
pub fn ensure_rows(c: &mut DbConn) -> AppResult<usize> {
    const BATCH: i64 = 1000;
    let mut total = 0;
    loop {
        let missing: Vec<i64> = users::table
            .filter(users::domain.is_null())
            .filter(users::actor_type.eq("person"))
            .filter(users::deleted_at.is_null())
            .filter(diesel::dsl::not(
                users::id.eq_any(mail_digests::table.select(mail_digests::user_id)),
            ))
            .select(users::id)
            .limit(BATCH)
            .load(c)?;
        if missing.is_empty() {
            return Ok(total);
        }
        db::write(c, |c| {
            let (cmark, nmark) = newest_ids(c)?;
            let next_at = next_morning(now(), Clock::Offset(0), Frequency::Daily);
            for id in &missing {
                insert_row(c, *id, (cmark, nmark), next_at)?;
            }
            Ok::<_, AppError>(())
        })?;
        total += missing.len();
        if (missing.len() as i64) < BATCH {
            return Ok(total);
        }
    }
}

#[derive(QueryableByName)]
struct Due {
    /// Whether the person may still receive it (not disabled or deleted).
    #[diesel(sql_type = diesel::sql_types::Bool)]
    active: bool,
    #[diesel(sql_type = BigInt)]
    user_id: i64,
    #[diesel(sql_type = Text)]
    frequency: String,
    #[diesel(sql_type = Integer)]
    utc_offset_minutes: i32,
    #[diesel(sql_type = Text)]
    time_zone: String,
    #[diesel(sql_type = BigInt)]
    content_mark: i64,
    #[diesel(sql_type = BigInt)]
    notification_mark: i64,
}

const DUE_SQL: &str =
    "SELECT d.user_id, d.frequency, d.utc_offset_minutes, d.time_zone, d.content_mark, d.notification_mark,
      (u.disabled = FALSE AND u.deleted_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM guests g WHERE g.user_id = u.id AND g.expires_at <= $1)) AS active
    FROM mail_digests d JOIN users u ON u.id = d.user_id
    WHERE d.next_at <= $1 AND d.frequency <> 'never'
    ORDER BY d.next_at LIMIT $2";

/// Queues the digests that are due (at most `limit`), moving each person's
/// row to their next morning in the same transaction. Returns how many
/// were queued.
pub fn queue_due(c: &mut DbConn, limit: i64) -> AppResult<usize> {
    let now = now();
    let any: Vec<i64> = mail_digests::table
        .filter(mail_digests::next_at.le(now))
        .filter(mail_digests::frequency.ne("never"))
        .select(mail_digests::user_id)
        .limit(1)
        .load(c)?;
    if any.is_empty() {
        return Ok(0);
    }
    let sql = match c {
        DbConn::Pg(_) => format!("{DUE_SQL} FOR UPDATE OF d SKIP LOCKED"),
        DbConn::Sqlite(_) => DUE_SQL.replace("$1", "?1").replace("$2", "?2"),
    };
    db::write(c, |c| {
        let due: Vec<Due> = diesel::sql_query(&sql)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(limit)
            .load(c)?;
        if due.is_empty() {
            return Ok(0);
        }
        let (cmax, nmax) = newest_ids(c)?;
        for d in &due {
            let frequency = Frequency::parse(&d.frequency).unwrap_or(Frequency::Daily);
            diesel::update(mail_digests::table.find(d.user_id))
                .set((
                    mail_digests::content_mark.eq(cmax),
                    mail_digests::notification_mark.eq(nmax),
                    mail_digests::next_at.eq(next_due(
                        now,
                        Clock::of(&d.time_zone, d.utc_offset_minutes),
                        frequency,
                    )),
                ))
                .execute(c)?;
            if !d.active {
                // A disabled or deleted account: moved on, nothing sent (so
                // that it neither stays due nor piles up a backlog).
                continue;
            }
            mails::record(
                c,
                To::Account {
                    id: d.user_id,
                    fallback_locale: "en".into(),
                },
                &Mail::Digest {
                    content: (d.content_mark, cmax),
                    notifications: (d.notification_mark, nmax),
                },
            )?;
        }
        Ok(due.iter().filter(|d| d.active).count())
    })
}

/// A post as a digest shows it.
#[derive(Debug, Clone)]
pub struct DigestPost {
    pub id: i64,
    pub author: String,
    /// The community's title, for a post in a community.
    pub community: Option<String>,
    pub excerpt: String,
    /// Comments and reactions it received.
    pub activity: i64,
}

/// A notification as a digest shows it.
#[derive(Debug, Clone)]
pub struct DigestNotice {
    pub kind: String,
    pub actor: String,
    pub actor_username: String,
    pub content_id: Option<i64>,
    /// The community's name and title.
    pub community: Option<(String, String)>,
}

/// What a digest says.
#[derive(Debug, Clone, Default)]
pub struct Digest {
    /// The best posts, best first.
    pub posts: Vec<DigestPost>,
    /// Documents added or updated in one's communities, newest first (the
    /// excerpt names the file and its version).
    pub documents: Vec<DigestPost>,
    /// Recent mentions of the person they have not answered in the
    /// conversation (shown only beside something new).
    pub unanswered: Vec<DigestPost>,
    /// How many more posts, per community title (`None`: from people
    /// followed), most first.
    pub more: Vec<(Option<String>, i64)>,
    /// Unread notifications of the kinds the person reads in the digest,
    /// newest first, and how many there are in all.
    pub notices: Vec<DigestNotice>,
    pub notices_total: i64,
}

/// Posts shown in full; candidates read at most.
const SHOWN: usize = 5;
const CANDIDATES: i64 = 300;
/// Posts read per source (followed people, communities) before keeping the
/// newest [`CANDIDATES`]: a bound for a period with very prolific sources.
const PERIOD_CAP: i64 = 5_000;

fn shown_name(username: String, display: String) -> String {
    if display.trim().is_empty() {
        username
    } else {
        display
    }
}

/// A notification's kind, post, community, and who did it (username and
/// name).
type NoticeRow = (String, Option<i64>, Option<i64>, String, String);

/// What the digest of `user_id` over the post ids `content` and the
/// notification ids `notices` (each `(after, up_to]`) says; `None` when
/// there is nothing to say.
pub fn build(
    c: &mut DbConn,
    user_id: i64,
    content_range: (i64, i64),
    notice_range: (i64, i64),
) -> AppResult<Option<Digest>> {
    let (after, up_to) = content_range;
    // Posts of the people followed and of one's communities, that the
    // person may see, newest first.
    let followed = follows::table
        .select(follows::followee_id)
        .filter(follows::follower_id.eq(user_id));
    let mine = community_members::table
        .filter(community_members::user_id.eq(user_id))
        .filter(community_members::status.eq("member"))
        .select(community_members::community_id);
    // Two queries rather than one with OR, each led by its index (a
    // followed author's posts, a community's posts) instead of a scan of
    // every post of the period; unordered in SQL so that no planner walks
    // the whole period by id to spare a sort. Sorted and cut here.
    let in_period = || {
        content::table
            .filter(content::id.gt(after))
            .filter(content::id.le(up_to))
            .filter(content::root_id.is_null())
            .filter(content::deleted_at.is_null())
            .filter(content::author_id.ne(user_id))
            .filter(audience::posts_visible_to(user_id))
            .select(content::id)
            .limit(PERIOD_CAP)
    };
    let mut ids: Vec<i64> = in_period()
        .filter(content::author_id.eq_any(followed))
        .load(c)?;
    ids.extend(
        in_period()
            .filter(content::community_id.assume_not_null().eq_any(mine))
            .load::<i64>(c)?,
    );
    ids.sort_unstable_by(|a, b| b.cmp(a));
    ids.dedup();
    ids.truncate(CANDIDATES as usize);
    let mut posts: Vec<DigestPost> = Vec::with_capacity(ids.len());
    let mut documents: Vec<DigestPost> = Vec::new();
    if !ids.is_empty() {
        let comments: Vec<(Option<i64>, i64)> = content::table
            .filter(content::root_id.eq_any(&ids))
            .filter(content::deleted_at.is_null())
            .group_by(content::root_id)
            .select((content::root_id, diesel::dsl::count_star()))
            .load(c)?;
        let liked: Vec<(i64, i64)> = reactions::table
            .filter(reactions::content_id.eq_any(&ids))
            .group_by(reactions::content_id)
            .select((reactions::content_id, diesel::dsl::count_star()))
            .load(c)?;
        let rows: Vec<(i64, String, Option<i64>, String, String, String)> = content::table
            .inner_join(users::table.on(users::id.eq(content::author_id)))
            .filter(content::id.eq_any(&ids))
            .select((
                content::id,
                content::body,
                content::community_id,
                users::username,
                users::display_name,
                content::kind,
            ))
            .load(c)?;
        let community_ids: Vec<i64> = rows.iter().filter_map(|r| r.2).collect();
        let titles: Vec<(i64, String, String)> = users::table
            .filter(users::id.eq_any(&community_ids))
            .select((users::id, users::username, users::display_name))
            .load(c)?;
        for (id, body, community, username, display, kind) in rows {
            let activity = comments
                .iter()
                .find(|(r, _)| *r == Some(id))
                .map_or(0, |(_, n)| *n)
                + liked.iter().find(|(r, _)| *r == id).map_or(0, |(_, n)| *n);
            let community = community.and_then(|cid| {
                titles
                    .iter()
                    .find(|(i, _, _)| *i == cid)
                    .map(|(_, name, title)| shown_name(name.clone(), title.clone()))
            });
            let post = DigestPost {
                id,
                author: shown_name(username, display),
                community,
                excerpt: crate::notifications::by_mail::excerpt(&body),
                activity,
            };
            if kind == "document" {
                documents.push(post);
            } else {
                posts.push(post);
            }
        }
        // Most discussed first, then newest.
        posts.sort_by(|a, b| b.activity.cmp(&a.activity).then(b.id.cmp(&a.id)));
        documents.sort_by_key(|d| std::cmp::Reverse(d.id));
    }
    let more_documents = documents.split_off(documents.len().min(SHOWN));
    let rest = posts.split_off(posts.len().min(SHOWN));
    let mut more: Vec<(Option<String>, i64)> = Vec::new();
    for p in rest.into_iter().chain(more_documents) {
        match more.iter_mut().find(|(k, _)| *k == p.community) {
            Some((_, n)) => *n += 1,
            None => more.push((p.community.clone(), 1)),
        }
    }
    more.sort_by_key(|m| std::cmp::Reverse(m.1));

    // Unread notifications of the kinds read in the digest.
    let kinds: Vec<&'static str> = by_mail::preferences(c, user_id)?
        .into_iter()
        .filter(|(_, m)| *m == Mode::Digest)
        .map(|(k, _)| k)
        .collect();
    let (n_after, n_up_to) = notice_range;
    let unread = || {
        notifications::table
            .filter(notifications::user_id.eq(user_id))
            .filter(notifications::id.gt(n_after))
            .filter(notifications::id.le(n_up_to))
            .filter(notifications::read_at.is_null())
            .filter(notifications::kind.eq_any(kinds.clone()))
    };
    let notices_total: i64 = unread().count().get_result(c)?;
    let rows: Vec<NoticeRow> = unread()
        .inner_join(users::table.on(users::id.eq(notifications::actor_id)))
        .order(notifications::id.desc())
        .limit(SHOWN as i64)
        .select((
            notifications::kind,
            notifications::content_id,
            notifications::community_id,
            users::username,
            users::display_name,
        ))
        .load(c)?;
    let mut notices = Vec::with_capacity(rows.len());
    for (kind, content_id, community_id, username, display) in rows {
        let community = by_mail::community_names(c, community_id)?;
        notices.push(DigestNotice {
            kind,
            actor: shown_name(username.clone(), display),
            actor_username: username,
            content_id,
            community,
        });
    }
    // A post a notice already tells of (a watched community's) is not
    // listed twice.
    let told: Vec<i64> = notices.iter().filter_map(|n| n.content_id).collect();
    posts.retain(|p| !told.contains(&p.id));
    documents.retain(|p| !told.contains(&p.id));
    if posts.is_empty() && notices.is_empty() && documents.is_empty() {
        return Ok(None);
    }
    let mut shown = told;
    shown.extend(posts.iter().map(|p| p.id));
    let unanswered = unanswered_mentions(c, user_id, notice_range, &shown)?;
    Ok(Some(Digest {
        posts,
        documents,
        unanswered,
        more,
        notices,
        notices_total,
    }))
}

/// Mentions of the period looked at for an answer, at most.
const UNANSWERED_CANDIDATES: i64 = 20;

/// The newest mentions of `user_id` in the digest's period (the
/// notification ids `(after, up_to]`, so that each is listed in one digest
/// only; at most [`SHOWN`], not among `shown`) that they may still read
/// and after which they wrote nothing in that conversation, whether they
/// saw them on the site or not.
fn unanswered_mentions(
    c: &mut DbConn,
    user_id: i64,
    (after, up_to): (i64, i64),
    shown: &[i64],
) -> AppResult<Vec<DigestPost>> {
    let mentions: Vec<i64> = notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::id.gt(after))
        .filter(notifications::id.le(up_to))
        .filter(notifications::kind.eq("mention"))
        .filter(notifications::content_id.is_not_null())
        .order(notifications::id.desc())
        .select(notifications::content_id.assume_not_null())
        .limit(UNANSWERED_CANDIDATES)
        .load(c)?;
    let mut out = Vec::new();
    for id in mentions {
        if out.len() >= SHOWN || shown.contains(&id) || out.iter().any(|p: &DigestPost| p.id == id)
        {
            continue;
        }
        type Row = (i64, Option<i64>, String, Option<i64>, String, String);
        let row: Option<Row> = content::table
            .inner_join(users::table.on(users::id.eq(content::author_id)))
            .filter(content::id.eq(id))
            .filter(content::deleted_at.is_null())
            .select((
                content::id,
                content::root_id,
                content::body,
                content::community_id,
                users::username,
                users::display_name,
            ))
            .first(c)
            .optional()?;
        let Some((id, root, body, community, username, display)) = row else {
            continue;
        };
        if !audience::may_read(c, &audience::Viewer::Person(user_id), id)? {
            continue;
        }
        let thread = root.unwrap_or(id);
        let answered: i64 = content::table
            .filter(content::author_id.eq(user_id))
            .filter(content::id.gt(id))
            .filter(content::root_id.eq(thread))
            .count()
            .get_result(c)?;
        if answered > 0 {
            continue;
        }
        out.push(DigestPost {
            id,
            author: shown_name(username, display),
            community: by_mail::community_names(c, community)?
                .map(|(name, title)| shown_name(name, title)),
            excerpt: by_mail::excerpt(&body),
            activity: 0,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn a_digest_leaves_at_the_persons_morning() {
        // Paris in winter (UTC+1): 8:00 there is 7:00 UTC.
        assert_eq!(
            next_morning(at("2026-12-04 06:00"), Clock::Offset(60), Frequency::Daily),
            at("2026-12-04 07:00")
        );
        // Already past this morning: tomorrow's.
        assert_eq!(
            next_morning(at("2026-12-04 07:00"), Clock::Offset(60), Frequency::Daily),
            at("2026-12-05 07:00")
        );
        // New York (UTC−5) late in the evening UTC.
        assert_eq!(
            next_morning(
                at("2026-12-04 23:00"),
                Clock::Offset(-300),
                Frequency::Daily
            ),
            at("2026-12-05 13:00")
        );
        // Weekly: the next Monday (2026-12-07).
        assert_eq!(
            next_morning(at("2026-12-04 06:00"), Clock::Offset(0), Frequency::Weekly),
            at("2026-12-07 08:00")
        );
        // On a Monday before 8:00: that same morning.
        assert_eq!(
            next_morning(at("2026-12-07 05:00"), Clock::Offset(0), Frequency::Weekly),
            at("2026-12-07 08:00")
        );
    }

    #[test]
    fn a_digest_follows_summer_time_in_the_persons_zone() {
        let paris = Clock::of("Europe/Paris", 60);
        assert!(matches!(paris, Clock::Zone(_)));
        // Saturday 28 March 2026, winter time (UTC+1): 8:00 is 7:00 UTC.
        assert_eq!(
            next_morning(at("2026-03-28 05:00"), paris, Frequency::Daily),
            at("2026-03-28 07:00")
        );
        // The clocks go forward on Sunday 29 March: from Monday, 8:00 in
        // Paris is 6:00 UTC, though the offset said at sign-in was +60.
        assert_eq!(
            next_morning(at("2026-03-29 07:30"), paris, Frequency::Daily),
            at("2026-03-30 06:00")
        );
        assert_eq!(
            next_morning(at("2026-03-28 05:00"), paris, Frequency::Weekly),
            at("2026-03-30 06:00")
        );
        // And back on 25 October.
        assert_eq!(
            next_morning(at("2026-10-25 12:00"), paris, Frequency::Daily),
            at("2026-10-26 07:00")
        );
        // New York leaves summer time on 1 November 2026.
        let ny = Clock::of("America/New_York", -240);
        assert_eq!(
            next_morning(at("2026-10-31 13:00"), ny, Frequency::Daily),
            at("2026-11-01 13:00")
        );
        assert_eq!(
            next_morning(at("2026-11-01 13:00"), ny, Frequency::Daily),
            at("2026-11-02 13:00")
        );
        // An unknown name: the offset counts.
        assert_eq!(Clock::of("Mars/Olympus", 120), Clock::Offset(120));
        assert_eq!(Clock::of("", -60), Clock::Offset(-60));
    }
}
