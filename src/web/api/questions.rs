//! API: questions and answers (`content::question`).

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
use crate::content::question::{self, Filter};
use crate::content::{Place, Text};
use crate::error::AppError;
use crate::feed;
use crate::web::auth::ApiUser;

#[derive(Deserialize)]
pub struct QuestionCreate {
    title: String,
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
    JsonBody(b): JsonBody<QuestionCreate>,
) -> ApiResult<impl IntoResponse> {
    let text = Text::resolved(&state, b.body).await;
    let max = state.config.content.max_post_chars;
    let user = me.user.clone();
    let item = state
        .db
        .run(move |c| {
            let row = match b.community.as_deref().map(str::trim) {
                Some(name) if !name.is_empty() => {
                    moderation::post_question(c, max, &user, name, &b.title, &text)?
                }
                _ => {
                    let v = Visibility::parse(b.visibility.as_deref().unwrap_or(""))?;
                    question::create(c, max, &user, &b.title, &text, Place::Audience(v))?
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
    filter: String,
    page: i64,
}

#[derive(Serialize)]
pub struct QuestionList {
    items: Vec<feed::Item>,
    next_page: Option<i64>,
}

pub async fn list(
    State(state): State<AppState>,
    me: ApiUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<QuestionList>> {
    let viewer = me.user.id;
    let out = state
        .db
        .run(move |c| {
            let filter = Filter::parse(&q.filter)?;
            let community = match q.community.trim() {
                "" => None,
                name => Some(crate::communities::get_readable(c, viewer, name)?.id),
            };
            let page = super::page_of(q.page, super::LAST_PAGE)?;
            let listed = question::list(c, viewer, community, filter, page, question::PER_PAGE)?;
            Ok(QuestionList {
                items: feed::hydrate(c, viewer, listed.rows)?,
                next_page: listed.more.then_some(page + 1),
            })
        })
        .await
        .lang(me.lang)?;
    Ok(Json(out))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SimilarQuery {
    q: String,
}

pub async fn similar(
    State(state): State<AppState>,
    me: ApiUser,
    Query(q): Query<SimilarQuery>,
) -> ApiResult<Json<Vec<question::Similar>>> {
    let viewer = me.user.id;
    let found = state
        .db
        .run(move |c| question::similar(c, viewer, &q.q))
        .await
        .lang(me.lang)?;
    Ok(Json(found))
}

pub async fn get_one(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<Json<question::View>> {
    let id = parse_id(&id, me.lang)?;
    let viewer = me.user.id;
    let view = state
        .db
        .run(move |c| question::view(c, viewer, id))
        .await
        .lang(me.lang)?;
    Ok(Json(view))
}

#[derive(Deserialize)]
pub struct AnswerAccept {
    #[serde(default)]
    answer: Option<i64>,
}

pub async fn accept(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<AnswerAccept>,
) -> ApiResult<Json<question::View>> {
    let id = parse_id(&id, me.lang)?;
    let user = me.user.clone();
    let view = state
        .db
        .run(move |c| question::accept(c, &user, id, b.answer))
        .await
        .lang(me.lang)?;
    Ok(Json(view))
}
