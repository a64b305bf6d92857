//! API: search (the same as the search page).

use super::Query;
use axum::extract::State;
use axum::Json;

use super::{ApiResult, InLang, JsonBody};
use crate::app::AppState;
use crate::search::{self, PeopleFilter, Results, Tab};
use crate::web::auth::ApiUser;

#[derive(serde::Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(rename = "type")]
    tab: Option<String>,
    #[serde(default)]
    page: i64,
    #[serde(flatten)]
    filter: PeopleFilter,
}

pub async fn search(
    State(state): State<AppState>,
    me: ApiUser,
    Query(sq): Query<SearchQuery>,
) -> ApiResult<Json<Results>> {
    let viewer = me.user.id;
    let results = state
        .db
        .run(move |c| {
            let tab = Tab::parse(sq.tab.as_deref())?;
            if sq.q.trim().is_empty() {
                return Err(crate::error::AppError::bad_request("search_empty"));
            }
            let page = super::page_of(sq.page, search::MAX_PAGE)?;
            search::run(c, viewer, &sq.q, tab, &sq.filter, page)
        })
        .await
        .lang(me.lang)?;
    Ok(Json(results))
}

#[derive(serde::Deserialize)]
pub struct ExpertsQuery {
    #[serde(default)]
    topic: String,
}

pub async fn experts(
    State(state): State<AppState>,
    me: ApiUser,
    Query(eq): Query<ExpertsQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let viewer = me.user.id;
    let list = state
        .db
        .run(move |c| {
            if eq.topic.trim().is_empty() {
                return Err(crate::error::AppError::bad_request("search_empty"));
            }
            search::experts::find(c, viewer, &eq.topic)
        })
        .await
        .lang(me.lang)?;
    Ok(Json(serde_json::json!({ "items": list })))
}

#[derive(serde::Serialize)]
pub struct Finder {
    /// In "Who knows about …?".
    listed: bool,
    /// In the directory the organisation's other sites read.
    shared: bool,
}

#[derive(serde::Deserialize)]
pub struct FinderChange {
    listed: Option<bool>,
    shared: Option<bool>,
}

fn finder_of(c: &mut crate::db::DbConn, id: i64) -> crate::error::AppResult<Finder> {
    Ok(Finder {
        listed: search::experts::is_listed(c, id)?,
        shared: crate::people::directory_share::is_shared(c, id)?,
    })
}

pub async fn finder(State(state): State<AppState>, me: ApiUser) -> ApiResult<Json<Finder>> {
    let id = me.user.id;
    let f = state
        .db
        .run(move |c| finder_of(c, id))
        .await
        .lang(me.lang)?;
    Ok(Json(f))
}

pub async fn set_finder(
    State(state): State<AppState>,
    me: ApiUser,
    JsonBody(f): JsonBody<FinderChange>,
) -> ApiResult<Json<Finder>> {
    let id = me.user.id;
    let now = state
        .db
        .run(move |c| {
            if let Some(listed) = f.listed {
                search::experts::set_listed(c, id, listed)?;
            }
            if let Some(shared) = f.shared {
                crate::people::directory_share::set_shared(c, id, shared)?;
            }
            finder_of(c, id)
        })
        .await
        .lang(me.lang)?;
    Ok(Json(now))
}
