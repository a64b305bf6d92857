//! API: ideas (`content::idea`), submitted to a community, voted for and
//! moved by its moderators.

use super::Query;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::{parse_id, ApiResult, InLang, JsonBody};
use crate::app::AppState;
use crate::communities::moderation;
use crate::content::idea::{self, Order, Status};
use crate::content::Text;
use crate::error::AppError;
use crate::feed;
use crate::web::auth::ApiUser;

#[derive(Deserialize)]
pub struct IdeaCreate {
    community: String,
    title: String,
    #[serde(default)]
    body: String,
}

pub async fn create(
    State(state): State<AppState>,
    me: ApiUser,
    JsonBody(b): JsonBody<IdeaCreate>,
) -> ApiResult<impl IntoResponse> {
    let text = Text::resolved(&state, b.body).await;
    let max = state.config.content.max_post_chars;
    let user = me.user.clone();
    let item = state
        .db
        .run(move |c| {
            let row = moderation::post_idea(c, max, &user, b.community.trim(), &b.title, &text)?;
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
    /// A community's name (all those the reader may read when absent).
    community: String,
    /// One status only.
    status: String,
    /// `votes` (the default) or `recent`.
    order: String,
    page: i64,
}

#[derive(Serialize)]
pub struct IdeaList {
    items: Vec<feed::Item>,
    /// How many ideas the reader may read in each status.
    counts: std::collections::BTreeMap<&'static str, i64>,
    next_page: Option<i64>,
}

pub async fn list(
    State(state): State<AppState>,
    me: ApiUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<IdeaList>> {
    let viewer = me.user.id;
    let out = state
        .db
        .run(move |c| {
            let status = match q.status.trim() {
                "" => None,
                s => Some(Status::parse(s)?),
            };
            let order = Order::parse(&q.order)?;
            let community = match q.community.trim() {
                "" => None,
                name => Some(crate::communities::get_readable(c, viewer, name)?.id),
            };
            let page = super::page_of(q.page, super::LAST_PAGE)?;
            let listed = idea::list(c, viewer, community, status, order, page, idea::PER_PAGE)?;
            Ok(IdeaList {
                items: feed::hydrate(c, viewer, listed.rows)?,
                counts: listed
                    .counts
                    .into_iter()
                    .map(|(s, n)| (s.as_str(), n))
                    .collect(),
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
) -> ApiResult<Json<idea::View>> {
    let id = parse_id(&id, me.lang)?;
    let viewer = me.user.id;
    let view = state
        .db
        .run(move |c| idea::view(c, viewer, id))
        .await
        .lang(me.lang)?;
    Ok(Json(view))
}

async fn set_vote(
    state: AppState,
    me: ApiUser,
    id: String,
    on: bool,
) -> ApiResult<Json<idea::View>> {
    let id = parse_id(&id, me.lang)?;
    let user = me.user.clone();
    let view = state
        .db
        .run(move |c| idea::vote(c, &user, id, on))
        .await
        .lang(me.lang)?;
    Ok(Json(view))
}

pub async fn vote(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<Json<idea::View>> {
    set_vote(state, me, id, true).await
}

pub async fn unvote(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<Json<idea::View>> {
    set_vote(state, me, id, false).await
}

#[derive(Deserialize)]
pub struct IdeaMove {
    status: String,
    #[serde(default)]
    reason: String,
}

pub async fn move_to(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<IdeaMove>,
) -> ApiResult<Json<idea::View>> {
    let id = parse_id(&id, me.lang)?;
    let user = me.user.clone();
    let view = state
        .db
        .run(move |c| {
            let status = Status::parse(&b.status)?;
            moderation::move_idea(c, &user, id, status, &b.reason)
        })
        .await
        .lang(me.lang)?;
    Ok(Json(view))
}
