//! API: must-read announcements (`content::must_read`).

use super::Query;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::{parse_id, ApiError, ApiResult, InLang};
use crate::app::AppState;
use crate::content::must_read::{self, Readers, View};
use crate::error::AppError;
use crate::web::auth::ApiUser;

async fn set(state: AppState, me: ApiUser, id: String, on: bool) -> ApiResult<Option<View>> {
    let id = parse_id(&id, me.lang)?;
    let user = me.user.clone();
    state
        .db
        .run(move |c| must_read::mark(c, &user, id, on))
        .await
        .lang(me.lang)
}

pub async fn mark(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<Json<View>> {
    let lang = me.lang;
    let view = set(state, me, id, true).await?;
    Ok(Json(view.ok_or(ApiError(AppError::not_found(), lang))?))
}

pub async fn lift(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    set(state, me, id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn confirm(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<Json<View>> {
    let id = parse_id(&id, me.lang)?;
    let user = me.user.clone();
    let view = state
        .db
        .run(move |c| must_read::confirm(c, &user, id))
        .await
        .lang(me.lang)?;
    Ok(Json(view))
}

pub async fn readers(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Readers>> {
    let id = parse_id(&id, me.lang)?;
    let viewer = me.user.id;
    let readers = state
        .db
        .run(move |c| must_read::readers(c, viewer, id))
        .await
        .lang(me.lang)?;
    Ok(Json(readers))
}

pub async fn remind(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = parse_id(&id, me.lang)?;
    let user = me.user.clone();
    let n = state
        .db
        .run(move |c| must_read::remind(c, &user, id))
        .await
        .lang(me.lang)?;
    Ok(Json(json!({ "reminded": n })))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    filter: String,
    page: i64,
}

#[derive(serde::Serialize)]
pub struct Listed {
    items: Vec<crate::feed::Item>,
    next_page: Option<i64>,
}

pub async fn list(
    State(state): State<AppState>,
    me: ApiUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Listed>> {
    let viewer = me.user.id;
    let page = super::page_of(q.page, super::LAST_PAGE).lang(me.lang)?;
    let listed = state
        .db
        .run(move |c| {
            let filter = must_read::Filter::parse(&q.filter)?;
            let listed = must_read::list(c, viewer, filter, page)?;
            Ok(Listed {
                items: crate::feed::in_order(c, viewer, &listed.ids)?,
                next_page: listed.more.then_some(page + 1),
            })
        })
        .await
        .lang(me.lang)?;
    Ok(Json(listed))
}
