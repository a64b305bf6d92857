//! Must-read announcements: a post that its audience is asked to confirm
//! having read.
//!
//! - **Marking**: a moderator of a community of this site marks one of its
//!   posts for the community's members (scope `community`); an
//!   administrator marks a post of this site that everyone here reads
//!   (public, organisation or instance audience) for every person of this
//!   site (scope `site`). Both are told (`must_read`). A community's mark
//!   travels with its post (`ruche:mustRead` in the community's `Update`),
//!   so that the members of other instances are asked too; only the
//!   community's host says which of its posts are must-reads.
//! - **Reading**: each person of the audience confirms "I have read it"
//!   once ([`confirm`]). Until then the post heads their feed
//!   ([`unread`]). A confirmation for a community of another instance is
//!   the `ReadConfirmed` event, sent to the community as a `Read`; one
//!   from another instance arrives at [`confirm_remote`].
//! - **Following up**: the author, the community's moderators (or the
//!   administrators, for the site) see how many have read it and who has
//!   not ([`readers`]), and may remind those once ([`remind`],
//!   `must_read_reminder`).
//!
//! The audience is counted when asked: the community's members (of every
//! instance, as this site knows them) or the enabled people of this site
//! (partners' guests aside), the author never included.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::{get_visible, ContentRow};
use crate::accounts::User;
use crate::apps::{self, App};
use crate::audience::Visibility;
use crate::db::schema::{
    community_members, content, guests, must_read_confirmations, must_reads, users,
};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult};
use crate::events::{self, Event};

/// Most unread must-reads lifted to the top of a feed.
pub const MAX_ON_TOP: i64 = 10;

/// Most people listed per side (read, not read) on the readers' page.
pub const MAX_LISTED: i64 = 500;

/// Who a must-read asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// The members of its community.
    Community,
    /// Every person of this site.
    Site,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Scope::Community => "community",
            Scope::Site => "site",
        }
    }
    fn parse(s: &str) -> Scope {
        if s == "site" {
            Scope::Site
        } else {
            Scope::Community
        }
    }
}

/// How many of the audience read it, for those who follow it up.
#[derive(Debug, Clone, Serialize)]
pub struct Tally {
    pub read: i64,
    pub audience: i64,
    /// `read` of `audience`, in whole percent (100 for an empty audience).
    pub percent: i64,
    /// When those who had not read it were reminded.
    #[serde(serialize_with = "crate::db::utc::option")]
    pub reminded_at: Option<NaiveDateTime>,
}

/// A must-read as a reader sees it.
#[derive(Debug, Clone, Serialize)]
pub struct View {
    pub scope: Scope,
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub marked_at: NaiveDateTime,
    /// Whether the reader is asked to read it.
    pub asked: bool,
    /// Whether the reader confirmed having read it.
    pub read: bool,
    #[serde(serialize_with = "crate::db::utc::option")]
    pub read_at: Option<NaiveDateTime>,
    /// Whether the reader may lift the mark (a moderator of its community,
    /// an administrator for the site).
    pub may_mark: bool,
    /// For its author and those who may mark it (and only for a must-read
    /// whose tally is kept here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tally: Option<Tally>,
}

impl View {
    /// Whether the reader still has to confirm it.
    pub fn pending(&self) -> bool {
        self.asked && !self.read
    }

    /// Whether it asks everyone of this site (rather than a community).
    pub fn for_site(&self) -> bool {
        self.scope == Scope::Site
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = must_reads)]
struct Row {
    content_id: i64,
    scope: String,
    marked_at: NaiveDateTime,
    reminded_at: Option<NaiveDateTime>,
}

/// What [`views`] needs to know of the reader once per page.
struct Reader {
    local: bool,
    admin: bool,
    guest: bool,
}

fn reader(conn: &mut DbConn, viewer: i64) -> AppResult<Reader> {
    let found: Option<(Option<String>, bool)> = users::table
        .find(viewer)
        .select((users::domain, users::is_admin))
        .first(conn)
        .optional()?;
    let guest = crate::audience::confined(conn, viewer)?;
    Ok(match found {
        Some((domain, admin)) => Reader {
            local: domain.is_none(),
            admin: admin && domain.is_none(),
            guest,
        },
        None => Reader {
            local: false,
            admin: false,
            guest,
        },
    })
}

/// The must-reads among content rows, as `viewer` sees them (one query
/// for a page of a feed without any, a few more for those it has).
pub fn views(
    conn: &mut DbConn,
    viewer: i64,
    rows: &[&ContentRow],
) -> AppResult<HashMap<i64, View>> {
    let posts: Vec<&ContentRow> = rows
        .iter()
        .copied()
        .filter(|r| r.root_id.is_none() && r.deleted_at.is_none())
        .collect();
    if posts.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<i64> = posts.iter().map(|r| r.id).collect();
    let marked: Vec<Row> = must_reads::table
        .filter(must_reads::content_id.eq_any(&ids))
        .select(Row::as_select())
        .load(conn)?;
    if marked.is_empty() {
        return Ok(HashMap::new());
    }
    let marked_ids: Vec<i64> = marked.iter().map(|m| m.content_id).collect();
    let confirmed: Vec<(i64, NaiveDateTime)> = must_read_confirmations::table
        .filter(must_read_confirmations::user_id.eq(viewer))
        .filter(must_read_confirmations::content_id.eq_any(&marked_ids))
        .select((
            must_read_confirmations::content_id,
            must_read_confirmations::read_at,
        ))
        .load(conn)?;
    let me = reader(conn, viewer)?;
    let super::Roles {
        member_of,
        moderated,
        ..
    } = super::roles_in(conn, viewer, &posts)?;
    let mut out = HashMap::with_capacity(marked.len());
    for m in marked {
        let Some(row) = posts.iter().find(|r| r.id == m.content_id) else {
            continue;
        };
        let scope = Scope::parse(&m.scope);
        let asked = row.author_id != viewer
            && match scope {
                Scope::Site => me.local && !me.guest,
                Scope::Community => row.community_id.is_some_and(|c| member_of.contains(&c)),
            };
        let may_mark = match scope {
            Scope::Site => me.admin,
            Scope::Community => row.community_id.is_some_and(|c| moderated.contains(&c)),
        };
        // The tally is kept where the mark was made: a post of a community
        // of another instance is counted there.
        let kept_here = match (scope, row.community_id) {
            (Scope::Community, Some(c)) => hosted_here(conn, c)?,
            (Scope::Community, None) => false,
            (Scope::Site, _) => true,
        };
        let follows_up = kept_here && (may_mark || (row.author_id == viewer && me.local));
        let tally = match follows_up {
            true => Some(tally(conn, row, scope, m.reminded_at)?),
            false => None,
        };
        let read_at = confirmed
            .iter()
            .find(|(c, _)| *c == m.content_id)
            .map(|(_, at)| *at);
        out.insert(
            m.content_id,
            View {
                scope,
                marked_at: m.marked_at,
                asked,
                read: read_at.is_some(),
                read_at,
                may_mark,
                tally,
            },
        );
    }
    Ok(out)
}

/// Whether a community is of this site.
fn hosted_here(conn: &mut DbConn, community: i64) -> AppResult<bool> {
    Ok(users::table
        .find(community)
        .select(users::domain.is_null())
        .first::<bool>(conn)
        .optional()?
        .unwrap_or(false))
}

/// The must-read `id` as `viewer` sees it, or 404 (also for a post that
/// is not one).
pub fn view(conn: &mut DbConn, viewer: i64, id: i64) -> AppResult<View> {
    let row = get_visible(conn, viewer, id)?;
    views(conn, viewer, &[&row])?
        .remove(&row.id)
        .ok_or_else(|| AppError::new(crate::error::ErrorKind::NotFound, "must_read_not_marked"))
}

/// SQL: the people a must-read asks, as a boxed query on `users`.
fn audience_of<'a>(
    row: &ContentRow,
    scope: Scope,
) -> users::BoxedQuery<'a, crate::db::MultiBackend> {
    let base = users::table
        .filter(users::id.ne(row.author_id))
        .filter(users::disabled.eq(false))
        .filter(users::deleted_at.is_null())
        .filter(users::actor_type.eq("person"))
        .into_boxed();
    match (scope, row.community_id) {
        (Scope::Community, Some(c)) => base.filter(
            users::id.eq_any(
                community_members::table
                    .filter(community_members::community_id.eq(c))
                    .filter(community_members::status.eq("member"))
                    .select(community_members::user_id),
            ),
        ),
        (Scope::Community, None) => base.filter(users::id.eq(-1)),
        (Scope::Site, _) => base
            .filter(users::domain.is_null())
            .filter(diesel::dsl::not(
                users::id.eq_any(guests::table.select(guests::user_id)),
            )),
    }
}

/// SQL: the people who confirmed reading `id`.
#[diesel::dsl::auto_type]
fn confirmed_by(id: i64) -> _ {
    must_read_confirmations::table
        .filter(must_read_confirmations::content_id.eq(id))
        .select(must_read_confirmations::user_id)
}

fn tally(
    conn: &mut DbConn,
    row: &ContentRow,
    scope: Scope,
    reminded_at: Option<NaiveDateTime>,
) -> AppResult<Tally> {
    let audience: i64 = audience_of(row, scope).count().get_result(conn)?;
    let read: i64 = audience_of(row, scope)
        .filter(users::id.eq_any(confirmed_by(row.id)))
        .count()
        .get_result(conn)?;
    let percent = match audience {
        0 => 100,
        n => read * 100 / n,
    };
    Ok(Tally {
        read,
        audience,
        percent,
        reminded_at,
    })
}

/// The post `id` as `actor` may mark it: a live post they may read, with
/// the scope their rights give.
fn markable(conn: &mut DbConn, actor: &User, id: i64) -> AppResult<(ContentRow, Scope)> {
    let row = get_visible(conn, actor.id, id)?;
    if row.root_id.is_some() {
        return Err(AppError::bad_request("must_read_comment"));
    }
    match row.community_id {
        Some(c) => {
            if !hosted_here(conn, c)? {
                return Err(AppError::bad_request("must_read_community_remote"));
            }
            if !super::moderated_here(conn, actor.id, &[c])?.contains(&c) {
                return Err(AppError::forbidden("must_read_not_moderator"));
            }
            Ok((row, Scope::Community))
        }
        None => {
            if !actor.is_admin || !actor.is_local() {
                return Err(AppError::forbidden("must_read_not_admin"));
            }
            let everyone = matches!(
                row.visibility,
                Visibility::Public | Visibility::Organisation | Visibility::Instance
            );
            if row.ap_id.is_some() || !everyone {
                return Err(AppError::conflict("must_read_audience"));
            }
            Ok((row, Scope::Site))
        }
    }
}

/// Whether `actor` may mark the post `id`, not marked yet, as a
/// must-read (what the pages offer them).
pub fn may_mark(conn: &mut DbConn, actor: &User, id: i64) -> AppResult<bool> {
    let marked: bool =
        diesel::select(diesel::dsl::exists(must_reads::table.find(id))).get_result(conn)?;
    if marked {
        return Ok(false);
    }
    match markable(conn, actor, id) {
        Ok((row, _)) => apps::enabled(conn, App::MustRead, row.community_id),
        Err(e) if e.kind.status() >= 500 => Err(e),
        Err(_) => Ok(false),
    }
}

/// A moderator (for a post of their community) or an administrator (for
/// a post of this site everyone here reads) marks a post as a must-read,
/// or lifts the mark. Its audience is told when it is marked; the
/// community's member instances hear of both. Marking again what is
/// marked (or lifting what is not) changes nothing. A mark may be lifted
/// while the app is off. Returns the must-read as `actor` now sees it
/// (`None` once lifted).
pub fn mark(conn: &mut DbConn, actor: &User, id: i64, on: bool) -> AppResult<Option<View>> {
    let (row, scope) = markable(conn, actor, id)?;
    if on {
        apps::require(conn, App::MustRead, row.community_id)?;
    }
    db::write(conn, |c| {
        if !set(c, &row, scope, Some(actor.id), on)? {
            return Ok(());
        }
        if let Some(community) = row.community_id {
            // Member instances learn it from the community's Update.
            events::record(
                c,
                Event::Edited {
                    by: community,
                    content: row.id,
                },
            )?;
        }
        Ok::<_, AppError>(())
    })?;
    match on {
        true => view(conn, actor.id, id).map(Some),
        false => Ok(None),
    }
}

/// Takes the row lock of a post (inside a write transaction), so that
/// what is checked before a write is still true when it is written.
fn lock_post(c: &mut DbConn, id: i64) -> AppResult<()> {
    diesel::update(content::table.find(id))
        .set(content::id.eq(content::id))
        .execute(c)?;
    Ok(())
}

/// The people of this site a must-read asks who have not read it yet.
fn local_unread(c: &mut DbConn, row: &ContentRow, scope: Scope) -> AppResult<Vec<i64>> {
    Ok(audience_of(row, scope)
        .filter(users::domain.is_null())
        .filter(diesel::dsl::not(users::id.eq_any(confirmed_by(row.id))))
        .select(users::id)
        .load(c)?)
}

/// Notifies each of `people` (local) of a must-read, inside a write
/// transaction.
fn tell(c: &mut DbConn, people: &[i64], kind: &'static str, actor: i64, id: i64) -> AppResult<()> {
    for person in people {
        crate::notifications::record(
            c,
            crate::notifications::NewNotification::to(*person, kind, actor).about_content(Some(id)),
        )?;
    }
    Ok(())
}

/// `reader` confirms having read the must-read `id` (once: confirming
/// again changes nothing). Their notifications about it are marked read;
/// a community of another instance hears of it.
pub fn confirm(conn: &mut DbConn, reader: &User, id: i64) -> AppResult<View> {
    let before = view(conn, reader.id, id)?;
    if !before.asked {
        return Err(AppError::forbidden("must_read_not_asked"));
    }
    if before.read {
        return Ok(before);
    }
    let row = get_visible(conn, reader.id, id)?;
    let remote_community = match row.community_id {
        Some(c) => !hosted_here(conn, c)?,
        None => false,
    };
    db::write(conn, |c| {
        let n = insert_confirmation(c, id, reader.id, None)?;
        if n > 0 {
            use crate::db::schema::notifications;
            diesel::update(
                notifications::table
                    .filter(notifications::user_id.eq(reader.id))
                    .filter(notifications::content_id.eq(id))
                    .filter(notifications::kind.eq_any(["must_read", "must_read_reminder"]))
                    .filter(notifications::read_at.is_null()),
            )
            .set(notifications::read_at.eq(Some(now())))
            .execute(c)?;
            if remote_community {
                events::record(
                    c,
                    Event::ReadConfirmed {
                        person: reader.id,
                        content: id,
                    },
                )?;
            }
        }
        Ok::<_, AppError>(())
    })?;
    view(conn, reader.id, id)
}

/// Stores one confirmation unless there is one; returns how many rows it
/// wrote.
fn insert_confirmation(
    c: &mut DbConn,
    id: i64,
    person: i64,
    ap_id: Option<&str>,
) -> AppResult<usize> {
    // Two confirmations of one person at once: one writes, the other
    // finds it written.
    lock_post(c, id)?;
    let there: bool = diesel::select(diesel::dsl::exists(
        must_read_confirmations::table.find((id, person)),
    ))
    .get_result(c)?;
    if there {
        return Ok(0);
    }
    Ok(diesel::insert_into(must_read_confirmations::table)
        .values((
            must_read_confirmations::content_id.eq(id),
            must_read_confirmations::user_id.eq(person),
            must_read_confirmations::read_at.eq(now()),
            must_read_confirmations::ap_id.eq(ap_id),
        ))
        .execute(c)?)
}

/// Whether `id` is a must-read of a community of this site (what a `Read`
/// from another instance may confirm).
pub fn is_community_must_read(conn: &mut DbConn, id: i64) -> AppResult<bool> {
    let found: Option<Option<i64>> = must_reads::table
        .find(id)
        .filter(must_reads::scope.eq("community"))
        .select(must_reads::community_id)
        .first(conn)
        .optional()?;
    match found.flatten() {
        Some(c) => hosted_here(conn, c),
        None => Ok(false),
    }
}

/// A person of another instance confirms having read a must-read of one
/// of our communities (a `Read` of it): only one of its members counts.
/// Returns whether it was stored now.
pub fn confirm_remote(conn: &mut DbConn, person: i64, id: i64, ap_id: &str) -> AppResult<bool> {
    if !is_community_must_read(conn, id)? {
        return Err(AppError::not_found());
    }
    let row: ContentRow = content::table
        .find(id)
        .select(ContentRow::as_select())
        .first(conn)?;
    let asked: i64 = audience_of(&row, Scope::Community)
        .filter(users::id.eq(person))
        .count()
        .get_result(conn)?;
    if asked == 0 {
        return Err(AppError::forbidden("must_read_not_asked"));
    }
    let n = db::write(conn, |c| insert_confirmation(c, id, person, Some(ap_id)))?;
    Ok(n > 0)
}

/// Someone of a must-read's audience, as its readers' page shows them.
#[derive(Debug, Clone, Serialize, Queryable)]
pub struct Person {
    pub username: String,
    pub display_name: String,
    /// Their instance, for a person of another instance.
    pub domain: Option<String>,
}

/// Who read a must-read and who has not yet (each side at most
/// [`MAX_LISTED`], by name), for those who follow it up.
#[derive(Debug, Clone, Serialize)]
pub struct Readers {
    /// The beginning of the post, as plain text.
    pub excerpt: String,
    pub tally: Tally,
    pub read: Vec<Person>,
    pub unread: Vec<Person>,
    /// Whether the reader may still send the one reminder.
    pub may_remind: bool,
}

/// Characters of a post shown above its readers.
const EXCERPT: usize = 160;

/// The beginning of a post's text, without its Markdown, cut at a word.
fn excerpt(body: &str) -> String {
    let text = crate::markdown::plain_text(body);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= EXCERPT {
        return text;
    }
    let cut: String = text.chars().take(EXCERPT).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > EXCERPT / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{cut}…")
}

/// The readers of the must-read `id`, for its author and those who may
/// mark it; anyone else gets a 403 (or a 404 when they may not read it).
pub fn readers(conn: &mut DbConn, viewer: i64, id: i64) -> AppResult<Readers> {
    let v = view(conn, viewer, id)?;
    let Some(tally) = v.tally else {
        return Err(AppError::forbidden("must_read_not_yours"));
    };
    let row = get_visible(conn, viewer, id)?;
    let list = |conn: &mut DbConn, read: bool| -> AppResult<Vec<Person>> {
        let q = audience_of(&row, v.scope);
        let q = if read {
            q.filter(users::id.eq_any(confirmed_by(id)))
        } else {
            q.filter(diesel::dsl::not(users::id.eq_any(confirmed_by(id))))
        };
        Ok(q.order(users::username.asc())
            .limit(MAX_LISTED)
            .select((users::username, users::display_name, users::domain))
            .load(conn)?)
    };
    let read = list(conn, true)?;
    let unread = list(conn, false)?;
    Ok(Readers {
        excerpt: excerpt(&row.body),
        may_remind: tally.reminded_at.is_none() && tally.read < tally.audience,
        tally,
        read,
        unread,
    })
}

/// The author or one who may mark it reminds the people of this site who
/// have not read the must-read `id` yet (`must_read_reminder`), once.
/// Returns how many were reminded.
pub fn remind(conn: &mut DbConn, actor: &User, id: i64) -> AppResult<usize> {
    let v = view(conn, actor.id, id)?;
    if v.tally.is_none() {
        return Err(AppError::forbidden("must_read_not_yours"));
    }
    let row = get_visible(conn, actor.id, id)?;
    db::write(conn, |c| {
        // One reminder, whoever asks first.
        let n = diesel::update(
            must_reads::table
                .find(id)
                .filter(must_reads::reminded_at.is_null()),
        )
        .set(must_reads::reminded_at.eq(now()))
        .execute(c)?;
        if n == 0 {
            return Err(AppError::conflict("must_read_reminded"));
        }
        let unread = local_unread(c, &row, v.scope)?;
        tell(c, &unread, "must_read_reminder", actor.id, id)?;
        Ok(unread.len())
    })
}

/// The must-reads `viewer` has not confirmed yet, newest mark first (at
/// most [`MAX_ON_TOP`]; in one community when `community` is given). The
/// feeds lift them to their top; the caller filters them through the
/// audience as any post.
pub fn unread(conn: &mut DbConn, viewer: i64, community: Option<i64>) -> AppResult<Vec<i64>> {
    pending(conn, viewer, community, 0, MAX_ON_TOP)
}

/// Must-reads per page of [`list`].
pub const LIST_PAGE: i64 = 20;

/// Which must-reads [`list`] gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Filter {
    /// Those the reader has not confirmed yet.
    Pending,
    /// Those the reader wrote or marked, to follow up.
    Followed,
}

impl Filter {
    pub const ALL: [Filter; 2] = [Filter::Pending, Filter::Followed];

    pub fn as_str(self) -> &'static str {
        match self {
            Filter::Pending => "pending",
            Filter::Followed => "followed",
        }
    }

    pub fn parse(s: &str) -> AppResult<Filter> {
        match s.trim() {
            "" | "pending" => Ok(Filter::Pending),
            "followed" => Ok(Filter::Followed),
            _ => {
                Err(AppError::bad_request("must_read_filter").with("filters", "pending, followed"))
            }
        }
    }
}

/// One page of must-reads (ids, newest mark first) and whether more follow.
pub struct Listed {
    pub ids: Vec<i64>,
    pub more: bool,
}

/// The must-reads `viewer` has still to read, or those they wrote or
/// marked, page `page` (from 0, at most 1,000); the caller filters them
/// through the audience as any post.
pub fn list(conn: &mut DbConn, viewer: i64, filter: Filter, page: i64) -> AppResult<Listed> {
    let offset = page.clamp(0, 1000) * LIST_PAGE;
    let mut ids = match filter {
        Filter::Pending => pending(conn, viewer, None, offset, LIST_PAGE + 1)?,
        Filter::Followed => must_reads::table
            .filter(
                must_reads::author_id
                    .eq(viewer)
                    .or(must_reads::marked_by.eq(viewer)),
            )
            .order(must_reads::marked_at.desc())
            .offset(offset)
            .limit(LIST_PAGE + 1)
            .select(must_reads::content_id)
            .load(conn)?,
    };
    let more = ids.len() as i64 > LIST_PAGE;
    ids.truncate(LIST_PAGE as usize);
    Ok(Listed { ids, more })
}

/// The must-reads `viewer` has not confirmed yet, newest mark first. It
/// reads `must_reads` alone (a small table: the marks, not the posts),
/// so that its plan cannot turn into a walk of the posts.
fn pending(
    conn: &mut DbConn,
    viewer: i64,
    community: Option<i64>,
    offset: i64,
    limit: i64,
) -> AppResult<Vec<i64>> {
    // One query, asked on every feed page: the reader's communities and
    // whether they are one of this site's people are its subqueries.
    let mine = community_members::table
        .filter(community_members::user_id.eq(viewer))
        .filter(community_members::status.eq("member"))
        .select(community_members::community_id);
    let in_mine = must_reads::community_id.assume_not_null().eq_any(mine);
    let of_site = diesel::dsl::exists(
        users::table
            .filter(users::id.eq(viewer))
            .filter(users::domain.is_null()),
    )
    .and(diesel::dsl::not(diesel::dsl::exists(
        guests::table.filter(guests::user_id.eq(viewer)),
    )));
    let q = must_reads::table
        .filter(must_reads::author_id.ne(viewer))
        .filter(diesel::dsl::not(
            must_reads::content_id.eq_any(
                must_read_confirmations::table
                    .filter(must_read_confirmations::user_id.eq(viewer))
                    .select(must_read_confirmations::content_id),
            ),
        ))
        .into_boxed();
    let q = match community {
        Some(c) => q
            .filter(must_reads::community_id.eq(c))
            .filter(must_reads::scope.eq("community"))
            .filter(in_mine),
        None => q.filter(must_reads::scope.eq("site").and(of_site).or(in_mine)),
    };
    Ok(q.order(must_reads::marked_at.desc())
        .offset(offset)
        .limit(limit)
        .select(must_reads::content_id)
        .load(conn)?)
}

/// A community of another instance marked one of its posts as a
/// must-read, or lifted the mark (its `Update`, `ruche:mustRead`): its
/// members here are asked (and told) as they would be for ours.
pub fn marked_in_community(
    conn: &mut DbConn,
    community: i64,
    local_id: Option<i64>,
    ap_id: &str,
    on: bool,
) -> AppResult<()> {
    let Some(row) = super::remote::in_community(conn, community, local_id, ap_id)? else {
        return Ok(());
    };
    if row.root_id.is_some() {
        return Ok(());
    }
    db::write(conn, |c| set_remote(c, &row, on))
}

/// Stores what a community's host says of one of its posts, inside a
/// write transaction (a post stored now, or an update of it).
pub(crate) fn set_remote(c: &mut DbConn, row: &ContentRow, on: bool) -> AppResult<()> {
    set(c, row, Scope::Community, None, on).map(|_| ())
}

/// Marks a post (and tells the people of this site it asks, from `by`, or
/// from its community when `by` is none) or lifts its mark, inside a
/// write transaction. Returns whether anything changed.
fn set(
    c: &mut DbConn,
    row: &ContentRow,
    scope: Scope,
    by: Option<i64>,
    on: bool,
) -> AppResult<bool> {
    // Two marks at once: one is written, the other finds it there.
    lock_post(c, row.id)?;
    let was: bool =
        diesel::select(diesel::dsl::exists(must_reads::table.find(row.id))).get_result(c)?;
    if was == on {
        return Ok(false);
    }
    if on {
        diesel::insert_into(must_reads::table)
            .values((
                must_reads::content_id.eq(row.id),
                must_reads::author_id.eq(row.author_id),
                must_reads::community_id.eq(row.community_id),
                must_reads::scope.eq(scope.as_str()),
                must_reads::marked_by.eq(by),
                must_reads::marked_at.eq(now()),
            ))
            .execute(c)?;
        let unread = local_unread(c, row, scope)?;
        let teller = by.or(row.community_id).unwrap_or(row.author_id);
        tell(c, &unread, "must_read", teller, row.id)?;
    } else {
        diesel::delete(must_reads::table.find(row.id)).execute(c)?;
    }
    Ok(true)
}

/// A deleted post is no must-read any more (inside the deletion's write
/// transaction; its confirmations go with the post's row, if ever).
pub(crate) fn forget(c: &mut DbConn, id: i64) -> QueryResult<()> {
    diesel::delete(must_reads::table.find(id)).execute(c)?;
    Ok(())
}

/// The must-reads of the posts of `author`, whose account is deleted
/// (inside that write transaction).
pub(crate) fn forget_author(c: &mut DbConn, author: i64) -> QueryResult<()> {
    diesel::delete(must_reads::table.filter(must_reads::author_id.eq(author))).execute(c)?;
    Ok(())
}

/// Whether a post is a must-read its community, of this site, marked
/// (what its Note says to other instances).
pub fn published(conn: &mut DbConn, row: &ContentRow) -> AppResult<bool> {
    match row.community_id {
        Some(c) if hosted_here(conn, c)? => {}
        _ => return Ok(false),
    }
    Ok(diesel::select(diesel::dsl::exists(
        must_reads::table
            .find(row.id)
            .filter(must_reads::scope.eq("community")),
    ))
    .get_result(conn)?)
}

/// What a `ReadConfirmed` event sends: the post read (of another
/// instance's community) and that community, or `None` when there is
/// nothing to send any more.
pub fn sent_confirmation(
    conn: &mut DbConn,
    person: i64,
    id: i64,
) -> AppResult<Option<(ContentRow, i64)>> {
    let confirmed: bool = diesel::select(diesel::dsl::exists(
        must_read_confirmations::table.find((id, person)),
    ))
    .get_result(conn)?;
    if !confirmed {
        return Ok(None);
    }
    let row: Option<ContentRow> = content::table
        .find(id)
        .filter(content::deleted_at.is_null())
        .select(ContentRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.and_then(|r| r.community_id.map(|c| (r, c))))
}
