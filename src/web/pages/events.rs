//! Pages: events (`content::event`) — planning one (`/events/new`),
//! answering (`/events/{id}/rsvp`), who answered
//! (`/events/{id}/attendees`), the lists of a community
//! (`/communities/{name}/events`) and of everything one reads (`/events`),
//! and the calendars: an event's iCalendar file
//! (`/events/{id}/calendar.ics`) and one's private subscription
//! (`/calendar/{secret}.ics`, made and stopped from `/events/calendar`).
//! The files are written here with `icalendar`; what they hold is the
//! feature's (`event::entry`, `event::calendar_by_secret`).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;

use super::{render, require_form, require_user, see_other, Base, PageErr, PageResult};
use crate::app::AppState;
use crate::apps::{self, App};
use crate::audience::Visibility;
use crate::communities::{self, moderation};
use crate::content::event::{self, Answer, Entry, NewEvent, When};
use crate::content::{Place, Text};
use crate::feed::Item;
use crate::web::auth::Ctx;

#[derive(Template)]
#[template(path = "event_new.html")]
struct NewPage {
    base: Base,
    error: Option<String>,
    /// The community it is planned in (empty: for an audience).
    community: String,
    /// The communities the person may plan in (member, app on).
    choices: Vec<(String, String)>,
    /// Whether the app is on outside communities.
    site_on: bool,
    form: NewForm,
    max_chars: usize,
    max_title: usize,
    max_place: usize,
    zones: Vec<&'static str>,
    /// Where the form goes, and back.
    action: String,
    cancel: String,
    /// Changing an event (its dates, place, link and places only).
    editing: bool,
}

impl NewPage {
    /// Whether the chosen community is among those offered.
    fn offered(&self) -> bool {
        self.choices.iter().any(|(n, _)| *n == self.community)
    }
}

/// The communities `user` may plan in, and whether they may plan outside
/// communities.
fn places(
    c: &mut crate::db::DbConn,
    user: i64,
) -> crate::error::AppResult<(Vec<(String, String)>, bool)> {
    let list = communities::using(c, user, App::Events)?
        .into_iter()
        .map(|cm| (cm.name, cm.title))
        .collect();
    Ok((list, apps::enabled(c, App::Events, None)?))
}

fn zones() -> Vec<&'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect()
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct NewQuery {
    community: String,
}

pub async fn new_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NewQuery>,
) -> PageResult {
    let user = require_user(&state, &ctx)?;
    let viewer = user.id;
    let name = q.community.trim().to_string();
    let wanted = name.clone();
    let (choices, site_on, zone) = state
        .db
        .run(move |c| {
            let id = match wanted.as_str() {
                "" => None,
                n => Some(communities::get(c, viewer, n)?.id),
            };
            apps::require(c, App::Events, id)?;
            let (choices, site_on) = places(c, viewer)?;
            let zone = crate::digest::settings(c, viewer)?.time_zone;
            Ok((choices, site_on, zone))
        })
        .await
        .page(&state, &ctx)?;
    let cancel = list_of(&name);
    let page = NewPage {
        base: Base::new(&state, &ctx, "event.new", "feed"),
        error: None,
        community: name,
        choices,
        site_on,
        form: NewForm {
            time_zone: zone,
            waiting_list: "1".into(),
            ..NewForm::default()
        },
        max_chars: state.config.content.max_post_chars,
        max_title: crate::content::MAX_TITLE,
        max_place: event::MAX_PLACE,
        zones: zones(),
        action: "/events/new".into(),
        cancel,
        editing: false,
    };
    Ok(render(&page))
}

#[derive(serde::Deserialize, Default, Clone)]
#[serde(default)]
pub struct NewForm {
    csrf: String,
    community: String,
    title: String,
    body: String,
    visibility: String,
    starts_at: String,
    ends_at: String,
    time_zone: String,
    place: String,
    online_url: String,
    capacity: String,
    /// "1" when those who come once it is full wait for a place.
    waiting_list: String,
}

impl NewForm {
    /// The event the form describes (a capacity that is not a number is
    /// refused as one out of bounds).
    fn event(&self) -> NewEvent {
        NewEvent {
            title: self.title.clone(),
            starts_at: self.starts_at.clone(),
            ends_at: Some(self.ends_at.clone()),
            time_zone: self.time_zone.clone(),
            place: Some(self.place.clone()),
            online_url: Some(self.online_url.clone()),
            capacity: match self.capacity.trim() {
                "" => None,
                n => Some(n.parse().unwrap_or(-1)),
            },
            waiting_list: Some(self.waiting_list == "1"),
        }
    }
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<NewForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    let text = Text::resolved(&state, form.body.clone()).await;
    let max = state.config.content.max_post_chars;
    let (name, visibility, planned) = (
        form.community.trim().to_string(),
        form.visibility.clone(),
        form.event(),
    );
    let viewer = user.id;
    let result = state
        .db
        .run(move |c| match name.as_str() {
            "" => {
                let v = Visibility::parse(&visibility)?;
                event::create(c, max, &user, &text, Place::Audience(v), &planned)
            }
            n => moderation::post_event(c, max, &user, n, &text, &planned),
        })
        .await;
    match result {
        Ok(row) => Ok(see_other(&format!("/posts/{}", row.id))),
        Err(err) => {
            let status = StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let (choices, site_on) = state
                .db
                .run(move |c| places(c, viewer))
                .await
                .page(&state, &ctx)?;
            let page = NewPage {
                base: Base::new(&state, &ctx, "event.new", "feed"),
                error: Some(super::error_text(&err, ctx.lang)),
                community: form.community.clone(),
                choices,
                site_on,
                cancel: list_of(form.community.trim()),
                form,
                max_chars: max,
                max_title: crate::content::MAX_TITLE,
                max_place: event::MAX_PLACE,
                zones: zones(),
                action: "/events/new".into(),
                editing: false,
            };
            Ok((status, render(&page)).into_response())
        }
    }
}

/// The list of events a form goes back to: a community's, or everyone's.
fn list_of(community: &str) -> String {
    match community {
        "" => "/events".into(),
        c => format!("/communities/{c}/events"),
    }
}

/// The form that changes an event, filled with what it is now.
pub async fn edit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> PageResult {
    let user = require_user(&state, &ctx)?;
    let id = super::parse_id(&state, &ctx, &id)?;
    let viewer = user.id;
    let v = state
        .db
        .run(move |c| event::view(c, viewer, id))
        .await
        .page(&state, &ctx)?;
    if !v.may_change {
        return Err(super::PageError::new(
            &state,
            &ctx,
            crate::error::AppError::forbidden("not_author"),
        ));
    }
    let (starts_at, ends_at) = v.form_times();
    let form = NewForm {
        title: v.title,
        starts_at,
        ends_at,
        time_zone: v.time_zone,
        place: v.place,
        online_url: v.online_url,
        capacity: v.capacity.map(|c| c.to_string()).unwrap_or_default(),
        waiting_list: if v.waiting_list {
            "1".into()
        } else {
            String::new()
        },
        ..NewForm::default()
    };
    Ok(render(&edit_page(&state, &ctx, id, form, None)))
}

fn edit_page(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    form: NewForm,
    error: Option<String>,
) -> NewPage {
    NewPage {
        base: Base::new(state, ctx, "event.change", "feed"),
        error,
        community: String::new(),
        choices: Vec::new(),
        site_on: false,
        form,
        max_chars: state.config.content.max_post_chars,
        max_title: crate::content::MAX_TITLE,
        max_place: event::MAX_PLACE,
        zones: zones(),
        action: format!("/events/{id}/edit"),
        cancel: format!("/posts/{id}"),
        editing: true,
    }
}

/// The organiser changes their event; a refused change keeps the form.
pub async fn edit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<NewForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    let id = super::parse_id(&state, &ctx, &id)?;
    let changed = form.event();
    match state
        .db
        .run(move |c| event::change(c, &user, id, &changed))
        .await
    {
        Ok(_) => Ok(see_other(&format!("/posts/{id}"))),
        Err(err) if err.kind == crate::error::ErrorKind::BadRequest => {
            let text = super::error_text(&err, ctx.lang);
            let page = edit_page(&state, &ctx, id, form, Some(text));
            Ok((StatusCode::BAD_REQUEST, render(&page)).into_response())
        }
        Err(err) => Err(super::PageError::new(&state, &ctx, err)),
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct RsvpForm {
    csrf: String,
    /// going, maybe, declined; empty withdraws.
    answer: String,
}

pub async fn rsvp(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<RsvpForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    let id = super::parse_id(&state, &ctx, &id)?;
    state
        .db
        .run(move |c| {
            let answer = match form.answer.trim() {
                "" => None,
                a => Some(Answer::parse(a)?),
            };
            event::answer(c, &user, id, answer)
        })
        .await
        .page(&state, &ctx)?;
    let back = super::back_to(&state, &headers, format!("/posts/{id}"));
    Ok(see_other(&format!("{back}#c{id}")))
}

#[derive(Template)]
#[template(path = "event_attendees.html")]
struct AttendeesPage {
    base: Base,
    id: i64,
    title: String,
    attendees: Vec<event::Attendee>,
}

impl AttendeesPage {
    fn of(&self, answer: &str, waiting: &bool) -> Vec<&event::Attendee> {
        self.attendees
            .iter()
            .filter(|a| a.answer.as_str() == answer && a.waiting == *waiting)
            .collect()
    }
}

pub async fn attendees(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> PageResult {
    let user = require_user(&state, &ctx)?;
    let id = super::parse_id(&state, &ctx, &id)?;
    let viewer = user.id;
    let (title, attendees) = state
        .db
        .run(move |c| {
            let v = event::view(c, viewer, id)?;
            Ok((v.title, event::attendees(c, viewer, id)?))
        })
        .await
        .page(&state, &ctx)?;
    let page = AttendeesPage {
        base: Base::new(&state, &ctx, "event.who", "feed").titled(title.clone()),
        id,
        title,
        attendees,
    };
    Ok(render(&page))
}

#[derive(Template)]
#[template(path = "events.html")]
struct ListPage {
    base: Base,
    /// The community listed (everything the reader reads when `None`).
    community: Option<(String, String)>,
    /// Whether the reader may plan here.
    may_plan: bool,
    when: &'static str,
    whens: [&'static str; 3],
    items: Vec<Item>,
    page: i64,
    more: bool,
    /// The private calendar address just made (shown once).
    calendar_url: Option<String>,
    /// Whether the reader has a calendar address.
    calendar_made: bool,
}

impl ListPage {
    fn link(&self, when: &str, page: i64) -> String {
        let base = match &self.community {
            Some((name, _)) => format!("/communities/{name}/events"),
            None => "/events".to_string(),
        };
        if page > 0 {
            format!("{base}?when={when}&page={page}")
        } else {
            format!("{base}?when={when}")
        }
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    when: String,
    page: i64,
}

async fn list_page(
    state: AppState,
    ctx: Ctx,
    name: Option<String>,
    q: ListQuery,
    calendar_url: Option<String>,
) -> PageResult {
    let user = require_user(&state, &ctx)?;
    let viewer = user.id;
    let page_no = q.page.clamp(0, 1000);
    let (community, may_plan, when, listed, items, made) = state
        .db
        .run(move |c| {
            let when = When::parse(&q.when)?;
            let (community, may_plan) = match &name {
                Some(n) => {
                    let cm = communities::get_readable(c, viewer, n)?;
                    let on = apps::enabled(c, App::Events, Some(cm.id))?;
                    (
                        Some((cm.id, cm.name.clone(), cm.title.clone())),
                        on && cm.is_member(),
                    )
                }
                None => {
                    let (choices, site_on) = places(c, viewer)?;
                    (None, site_on || !choices.is_empty())
                }
            };
            let listed = event::list(
                c,
                viewer,
                community.as_ref().map(|(id, _, _)| *id),
                when,
                page_no,
                event::PER_PAGE,
            )?;
            let items = crate::feed::hydrate(c, viewer, listed.rows.clone())?;
            let made = event::calendar_made(c, viewer)?.is_some();
            Ok((community, may_plan, when, listed, items, made))
        })
        .await
        .page(&state, &ctx)?;
    let base = Base::new(&state, &ctx, "event.list", "feed");
    let base = match &community {
        Some((_, _, title)) => base.titled(title.clone()),
        None => base,
    };
    let page = ListPage {
        base,
        community: community.map(|(_, n, t)| (n, t)),
        may_plan,
        when: when.as_str(),
        whens: When::ALL.map(When::as_str),
        items,
        page: page_no,
        more: listed.more,
        calendar_made: made || calendar_url.is_some(),
        calendar_url,
    };
    Ok(render(&page))
}

pub async fn site_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> PageResult {
    list_page(state, ctx, None, q, None).await
}

pub async fn community_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
    Query(q): Query<ListQuery>,
) -> PageResult {
    list_page(state, ctx, Some(name), q, None).await
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct CalendarForm {
    csrf: String,
    /// "stop" stops the address; anything else makes it anew.
    action: String,
}

/// Makes one's private calendar address anew (shown once, on the list of
/// one's events), or stops it.
pub async fn calendar(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<CalendarForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    if form.action == "stop" {
        let id = user.id;
        state
            .db
            .run(move |c| event::calendar_stop(c, id))
            .await
            .page(&state, &ctx)?;
        return Ok(see_other("/events?when=mine"));
    }
    let secret = state
        .db
        .run(move |c| event::calendar_link(c, &user))
        .await
        .page(&state, &ctx)?;
    let url = format!("{}/calendar/{secret}.ics", state.config.base());
    let q = ListQuery {
        when: "mine".into(),
        page: 0,
    };
    list_page(state, ctx, None, q, Some(url)).await
}

/// An iCalendar file of `entries`, named `name`.
fn ics(state: &AppState, name: &str, entries: &[Entry]) -> String {
    use icalendar::{Calendar, Component, EventLike, EventStatus};
    let base = state.config.base();
    let host = crate::urls::host_of(base).unwrap_or_default();
    // iCalendar text ends its lines with CRLF and escapes only line feeds:
    // a carriage return of the text (a textarea sends CRLF) becomes one.
    let text = |s: &str| s.replace("\r\n", "\n").replace('\r', "\n");
    let mut cal = Calendar::empty();
    cal.append_property(("VERSION", "2.0"))
        .append_property(("PRODID", "-//Ruche//Events//EN"))
        .append_property(("CALSCALE", "GREGORIAN"))
        .append_property(("METHOD", "PUBLISH"))
        .append_property(("X-WR-CALNAME", text(name).as_str()));
    for e in entries {
        let page = format!("{base}/posts/{}", e.id);
        let mut description = text(&e.description);
        if !e.online_url.is_empty() {
            description = format!("{}\n\n{description}", e.online_url);
        }
        description = format!("{}\n\n{page}", description.trim());
        let mut ev = icalendar::Event::new();
        ev.uid(&format!("event-{}@{host}", e.id))
            .summary(&text(&e.title))
            .description(description.trim())
            .starts(e.starts_at.and_utc())
            .ends(e.ends_at.and_utc())
            .timestamp(e.updated_at.and_utc())
            .created(e.created_at.and_utc())
            .last_modified(e.updated_at.and_utc())
            .url(&page)
            .status(if e.answer == Some(Answer::Maybe) {
                EventStatus::Tentative
            } else {
                EventStatus::Confirmed
            });
        if !e.place.is_empty() {
            ev.location(&text(&e.place));
        } else if !e.online_url.is_empty() {
            ev.location(&e.online_url);
        }
        cal.push(ev.done());
    }
    cal.done().to_string()
}

fn ics_response(body: String, file: &str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "text/calendar; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

/// One event as an iCalendar file, for its readers.
pub async fn event_ics(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> PageResult {
    let user = require_user(&state, &ctx)?;
    let id = super::parse_id(&state, &ctx, &id)?;
    let viewer = user.id;
    let entry = state
        .db
        .run(move |c| event::entry(c, viewer, id))
        .await
        .page(&state, &ctx)?;
    let body = ics(&state, &entry.title, std::slice::from_ref(&entry));
    Ok(ics_response(body, &format!("event-{id}.ics")))
}

/// A person's private calendar subscription: the events they go or may go
/// to, read by calendar applications without a session. Any other address
/// is a plain 404.
pub async fn subscription(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some(secret) = file.strip_suffix(".ics").map(str::to_string) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match state
        .db
        .run(move |c| event::calendar_by_secret(c, &secret))
        .await
    {
        Ok(entries) => {
            let name = format!("{} · Ruche", state.site.get().name);
            ics_response(ics(&state, &name, &entries), "ruche.ics")
        }
        Err(e) if e.kind == crate::error::ErrorKind::NotFound => {
            StatusCode::NOT_FOUND.into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "a calendar subscription could not be read");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
