//! API: feeds, posts, comments and reactions.

use std::collections::BTreeMap;

use super::Query;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::{parse_id, ApiError, ApiResult, CursorQuery, InLang, JsonBody};
use crate::app::AppState;
use crate::audience::Visibility;
use crate::content::{self, Text};
use crate::error::AppError;
use crate::feed;
use crate::web::auth::ApiUser;

#[derive(serde::Deserialize, Default)]
pub struct FeedQuery {
    cursor: Option<String>,
    /// `following` (the default), `site` or `organisation`.
    stream: Option<String>,
}

pub async fn home_feed(
    State(state): State<AppState>,
    me: ApiUser,
    Query(q): Query<FeedQuery>,
) -> ApiResult<Json<feed::Page>> {
    let id = me.user.id;
    let page = state
        .db
        .run(move |c| {
            let stream = match q.stream.as_deref() {
                None | Some("") => feed::Stream::Following,
                Some(s) => feed::Stream::parse(s)?,
            };
            feed::stream(c, id, stream, q.cursor.as_deref())
        })
        .await
        .lang(me.lang)?;
    Ok(Json(page))
}

pub async fn tag_feed(
    State(state): State<AppState>,
    me: ApiUser,
    Path(tag): Path<String>,
    Query(q): Query<CursorQuery>,
) -> ApiResult<Json<feed::Page>> {
    let id = me.user.id;
    let page = state
        .db
        .run(move |c| feed::tag(c, id, &tag, q.cursor.as_deref()))
        .await
        .lang(me.lang)?;
    Ok(Json(page))
}

#[derive(Deserialize)]
pub struct PostCreate {
    body: String,
    #[serde(default)]
    visibility: Option<String>,
    /// Uploads (`POST /media`) to attach, in order.
    #[serde(default)]
    media_ids: Vec<i64>,
}

async fn item(
    state: &AppState,
    viewer: i64,
    id: i64,
    lang: crate::i18n::Lang,
) -> ApiResult<feed::Item> {
    state
        .db
        .run(move |c| {
            let row = content::get_visible(c, viewer, id)?;
            feed::hydrate(c, viewer, vec![row])?
                .pop()
                .ok_or_else(AppError::not_found)
        })
        .await
        .lang(lang)
}

pub async fn create(
    State(state): State<AppState>,
    me: ApiUser,
    JsonBody(body): JsonBody<PostCreate>,
) -> ApiResult<impl IntoResponse> {
    let visibility = Visibility::parse(body.visibility.as_deref().unwrap_or("")).lang(me.lang)?;
    let text = Text::resolved(&state, body.body).await;
    let max = state.config.content.max_post_chars;
    let author = me.user.clone();
    let row = state
        .db
        .run(move |c| content::create_post(c, max, &author, &text, visibility, &body.media_ids))
        .await
        .lang(me.lang)?;
    let item = item(&state, me.user.id, row.id, me.lang).await?;
    Ok((StatusCode::CREATED, Json(item)))
}

pub async fn get_one(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<Json<feed::Item>> {
    let id = parse_id(&id, me.lang)?;
    Ok(Json(item(&state, me.user.id, id, me.lang).await?))
}

#[derive(Deserialize)]
pub struct PostEdit {
    body: String,
    /// An idea's new title.
    #[serde(default)]
    title: Option<String>,
}

pub async fn edit(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PostEdit>,
) -> ApiResult<Json<feed::Item>> {
    let id = parse_id(&id, me.lang)?;
    let text = Text::resolved(&state, body.body).await;
    let max = state.config.content.max_post_chars;
    let actor = me.user.clone();
    state
        .db
        .run(move |c| content::edit(c, max, &actor, id, &text, body.title.as_deref()))
        .await
        .lang(me.lang)?;
    Ok(Json(item(&state, me.user.id, id, me.lang).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = parse_id(&id, me.lang)?;
    let actor = me.user.clone();
    state
        .db
        .run(move |c| content::delete(c, &actor, id))
        .await
        .lang(me.lang)?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn revisions(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let id = parse_id(&id, me.lang)?;
    let viewer = me.user.id;
    let revs = state
        .db
        .run(move |c| content::revisions(c, viewer, id))
        .await
        .lang(me.lang)?;
    Ok(Json(json!({ "items": revs })))
}

pub async fn comments(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let id = parse_id(&id, me.lang)?;
    let viewer = me.user.id;
    let items = state
        .db
        .run(move |c| {
            let rows = content::comments(c, viewer, id)?;
            feed::hydrate(c, viewer, rows)
        })
        .await
        .lang(me.lang)?;
    Ok(Json(json!({ "items": items })))
}

#[derive(Deserialize)]
pub struct CommentCreate {
    body: String,
    /// Uploads (`POST /media`) to attach, in order.
    #[serde(default)]
    media_ids: Vec<i64>,
}

pub async fn comment(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<CommentCreate>,
) -> ApiResult<impl IntoResponse> {
    let parent = parse_id(&id, me.lang)?;
    let text = Text::resolved(&state, body.body).await;
    let max = state.config.content.max_post_chars;
    let author = me.user.clone();
    let row = state
        .db
        .run(move |c| content::create_comment(c, max, &author, parent, &text, &body.media_ids))
        .await
        .lang(me.lang)?;
    let item = item(&state, me.user.id, row.id, me.lang).await?;
    Ok((StatusCode::CREATED, Json(item)))
}

pub async fn reactions(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let id = parse_id(&id, me.lang)?;
    let viewer = me.user.id;
    let rows = state
        .db
        .run(move |c| content::reactors(c, viewer, id))
        .await
        .lang(me.lang)?;
    let mut by_kind: BTreeMap<String, Vec<serde_json::Value>> = content::REACTIONS
        .iter()
        .map(|k| (k.to_string(), Vec::new()))
        .collect();
    for (kind, username, display_name) in rows {
        by_kind
            .entry(kind)
            .or_default()
            .push(json!({"username": username, "display_name": display_name}));
    }
    Ok(Json(by_kind))
}

async fn set_reaction(
    state: AppState,
    me: ApiUser,
    id: String,
    kind: String,
    on: bool,
) -> ApiResult<StatusCode> {
    let id = parse_id(&id, me.lang)?;
    let viewer = me.user.id;
    state
        .db
        .run(move |c| content::react(c, viewer, id, &kind, on))
        .await
        .map_err(|e| ApiError(e, me.lang))?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn react(
    State(state): State<AppState>,
    me: ApiUser,
    Path((id, kind)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    set_reaction(state, me, id, kind, true).await
}

pub async fn unreact(
    State(state): State<AppState>,
    me: ApiUser,
    Path((id, kind)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    set_reaction(state, me, id, kind, false).await
}

#[derive(Deserialize)]
pub struct PreviewBody {
    body: String,
}

/// What a body will look like once published; nothing is stored.
pub async fn preview(
    State(state): State<AppState>,
    me: ApiUser,
    JsonBody(b): JsonBody<PreviewBody>,
) -> ApiResult<impl IntoResponse> {
    let max = state.config.content.max_post_chars;
    let me_id = me.user.id;
    let html = state
        .db
        .run(move |c| content::preview(c, max, me_id, &b.body))
        .await
        .lang(me.lang)?;
    Ok(Json(json!({ "html": html })))
}
