//! API: events (`content::event`), and one's calendar subscription.

use super::Query;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::{parse_id, ApiResult, InLang, JsonBody};
use crate::app::AppState;
use crate::audience::Visibility;
use crate::communities::moderation;
use crate::content::event::{self, Answer, NewEvent, When};
use crate::content::{Place, Text};
use crate::error::AppError;
use crate::feed;
use crate::web::auth::ApiUser;

#[derive(Deserialize)]
pub struct EventCreate {
    #[serde(flatten)]
    event: NewEvent,
    /// Its description (Markdown, may be empty).
    #[serde(default)]
    body: String,
    #[serde(default)]
    visibility: Option<String>,
    #[serde(default)]
    community: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    me: ApiUser,
    JsonBody(b): JsonBody<EventCreate>,
) -> ApiResult<impl IntoResponse> {
    let text = Text::resolved(&state, b.body).await;
    let max = state.config.content.max_post_chars;
    let user = me.user.clone();
    let item = state
        .db
        .run(move |c| {
            let row = match b.community.as_deref().map(str::trim) {
                Some(name) if !name.is_empty() => {
                    moderation::post_event(c, max, &user, name, &text, &b.event)?
                }
                _ => {
                    let v = Visibility::parse(b.visibility.as_deref().unwrap_or(""))?;
                    event::create(c, max, &user, &text, Place::Audience(v), &b.event)?
                }
            };
            feed::hydrate(c, user.id, vec![row])?
                .pop()
                .ok_or_else(AppError::not_found)
        })
        .await
        .lang(me.lang)?;
    Ok((StatusCode::CREATED, Json(item)))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    community: String,
    when: String,
    page: i64,
}

#[derive(Serialize)]
pub struct EventList {
    items: Vec<feed::Item>,
    next_page: Option<i64>,
}

pub async fn list(
    State(state): State<AppState>,
    me: ApiUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<EventList>> {
    let viewer = me.user.id;
    let out = state
        .db
        .run(move |c| {
            let when = When::parse(&q.when)?;
            let community = match q.community.trim() {
                "" => None,
                name => Some(crate::communities::get_readable(c, viewer, name)?.id),
            };
            let page = super::page_of(q.page, super::LAST_PAGE)?;
            let listed = event::list(c, viewer, community, when, page, event::PER_PAGE)?;
            Ok(EventList {
                items: feed::hydrate(c, viewer, listed.rows)?,
                next_page: listed.more.then_some(page + 1),
            })
        })
        .await
        .lang(me.lang)?;
    Ok(Json(out))
}

pub async fn get_one(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<Json<event::View>> {
    let id = parse_id(&id, me.lang)?;
    let viewer = me.user.id;
    let view = state
        .db
        .run(move |c| event::view(c, viewer, id))
        .await
        .lang(me.lang)?;
    Ok(Json(view))
}

pub async fn change(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<NewEvent>,
) -> ApiResult<Json<event::View>> {
    let id = parse_id(&id, me.lang)?;
    let user = me.user.clone();
    let view = state
        .db
        .run(move |c| event::change(c, &user, id, &b))
        .await
        .lang(me.lang)?;
    Ok(Json(view))
}

#[derive(Deserialize)]
pub struct Rsvp {
    answer: String,
}

pub async fn answer(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<Rsvp>,
) -> ApiResult<Json<event::View>> {
    let id = parse_id(&id, me.lang)?;
    let user = me.user.clone();
    let view = state
        .db
        .run(move |c| {
            let a = Answer::parse(&b.answer)?;
            event::answer(c, &user, id, Some(a))
        })
        .await
        .lang(me.lang)?;
    Ok(Json(view))
}

pub async fn withdraw(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<Json<event::View>> {
    let id = parse_id(&id, me.lang)?;
    let user = me.user.clone();
    let view = state
        .db
        .run(move |c| event::answer(c, &user, id, None))
        .await
        .lang(me.lang)?;
    Ok(Json(view))
}

pub async fn attendees(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<event::Attendee>>> {
    let id = parse_id(&id, me.lang)?;
    let viewer = me.user.id;
    let list = state
        .db
        .run(move |c| event::attendees(c, viewer, id))
        .await
        .lang(me.lang)?;
    Ok(Json(list))
}

#[derive(Serialize)]
pub struct CalendarLink {
    /// The private address of one's calendar (shown once: keep it).
    url: String,
}

pub async fn calendar_link(
    State(state): State<AppState>,
    me: ApiUser,
) -> ApiResult<impl IntoResponse> {
    let user = me.user.clone();
    let secret = state
        .db
        .run(move |c| event::calendar_link(c, &user))
        .await
        .lang(me.lang)?;
    let url = format!("{}/calendar/{secret}.ics", state.config.base());
    Ok((StatusCode::CREATED, Json(CalendarLink { url })))
}

pub async fn calendar_stop(State(state): State<AppState>, me: ApiUser) -> ApiResult<StatusCode> {
    let id = me.user.id;
    state
        .db
        .run(move |c| event::calendar_stop(c, id))
        .await
        .lang(me.lang)?;
    Ok(StatusCode::NO_CONTENT)
}
