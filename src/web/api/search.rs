//! API: search (the same as the search page).

use axum::extract::{Query, State};
use axum::Json;

use super::{ApiResult, InLang};
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
            search::run(c, viewer, &sq.q, tab, &sq.filter, sq.page)
        })
        .await
        .lang(me.lang)?;
    Ok(Json(results))
}
