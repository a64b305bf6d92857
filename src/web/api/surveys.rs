//! API: surveys and quizzes (`content::survey`).

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::{parse_id, ApiResult, InLang, JsonBody};
use crate::app::AppState;
use crate::audience::Visibility;
use crate::communities::moderation;
use crate::content::survey::{self, Answer, NewSurvey};
use crate::content::{Place, Text};
use crate::error::AppError;
use crate::feed;
use crate::web::auth::ApiUser;

#[derive(Deserialize)]
pub struct SurveyCreate {
    /// Its introduction (Markdown; may be empty).
    #[serde(default)]
    body: String,
    /// Who sees it, outside communities.
    #[serde(default)]
    visibility: Option<String>,
    /// The community it is asked in (then `visibility` is the community's).
    #[serde(default)]
    community: Option<String>,
    #[serde(flatten)]
    survey: NewSurvey,
}

pub async fn create(
    State(state): State<AppState>,
    me: ApiUser,
    JsonBody(b): JsonBody<SurveyCreate>,
) -> ApiResult<impl IntoResponse> {
    let text = Text::resolved(&state, b.body).await;
    let max = state.config.content.max_post_chars;
    let user = me.user.clone();
    let item = state
        .db
        .run(move |c| {
            let row = match b.community.as_deref().map(str::trim) {
                Some(name) if !name.is_empty() => {
                    moderation::post_survey(c, max, &user, name, &text, &b.survey)?
                }
                _ => {
                    let v = Visibility::parse(b.visibility.as_deref().unwrap_or(""))?;
                    survey::create(c, max, &user, &text, Place::Audience(v), &b.survey)?
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

pub async fn get_one(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<Json<survey::Full>> {
    let id = parse_id(&id, me.lang)?;
    let viewer = me.user.id;
    let full = state
        .db
        .run(move |c| survey::full(c, viewer, id))
        .await
        .lang(me.lang)?;
    Ok(Json(full))
}

#[derive(Deserialize)]
pub struct SurveyResponse {
    /// One answer per question answered.
    answers: Vec<Answer>,
}

pub async fn respond(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<SurveyResponse>,
) -> ApiResult<impl IntoResponse> {
    let id = parse_id(&id, me.lang)?;
    let user = me.user.clone();
    let full = state
        .db
        .run(move |c| survey::respond(c, &user, id, &b.answers))
        .await
        .lang(me.lang)?;
    Ok((StatusCode::CREATED, Json(full)))
}

pub async fn close(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<Json<survey::Full>> {
    let id = parse_id(&id, me.lang)?;
    let user = me.user.clone();
    let full = state
        .db
        .run(move |c| survey::close(c, &user, id))
        .await
        .lang(me.lang)?;
    Ok(Json(full))
}

pub async fn results(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<Json<survey::Results>> {
    let id = parse_id(&id, me.lang)?;
    let viewer = me.user.id;
    let results = state
        .db
        .run(move |c| survey::results(c, viewer, id))
        .await
        .lang(me.lang)?;
    Ok(Json(results))
}

pub async fn export(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_id(&id, me.lang)?;
    let viewer = me.user.id;
    let (file, body) = state
        .db
        .run(move |c| survey::csv(c, viewer, id))
        .await
        .lang(me.lang)?;
    Ok(csv_response(&file, body))
}

/// A CSV file as a download, with the byte-order mark spreadsheets need to
/// read it as UTF-8.
pub fn csv_response(file: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                crate::storage::disposition(file, false),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        format!("\u{feff}{body}"),
    )
        .into_response()
}

pub async fn leaderboard(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<survey::Rank>>> {
    let id = parse_id(&id, me.lang)?;
    let viewer = me.user.id;
    let ranks = state
        .db
        .run(move |c| survey::leaderboard(c, viewer, id))
        .await
        .lang(me.lang)?;
    Ok(Json(ranks))
}
