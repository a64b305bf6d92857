//! API: getting started (where one stands, moving on) and suggestions of
//! people and communities.

use super::Query;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;

use super::{ApiResult, InLang, JsonBody};
use crate::app::AppState;
use crate::error::AppError;
use crate::onboarding::{self, suggestions, Step};
use crate::web::auth::ApiUser;

pub async fn progress(State(state): State<AppState>, me: ApiUser) -> ApiResult<impl IntoResponse> {
    let user = me.user.clone();
    let p = state
        .db
        .run(move |c| onboarding::progress(c, &user))
        .await
        .lang(me.lang)?;
    Ok(Json(p))
}

#[derive(Deserialize)]
pub struct Move {
    #[serde(default)]
    step: Option<String>,
    #[serde(default)]
    finished: Option<bool>,
}

/// Moves to a step (`{"step": "people"}`) or ends getting started
/// (`{"finished": true}`); answers where one stands then.
pub async fn move_to(
    State(state): State<AppState>,
    me: ApiUser,
    JsonBody(body): JsonBody<Move>,
) -> ApiResult<impl IntoResponse> {
    let user = me.user.clone();
    let p = state
        .db
        .run(move |c| {
            match (body.step.as_deref(), body.finished) {
                (Some(s), None | Some(false)) => onboarding::reach(c, &user, Step::parse(s)?)?,
                (None, Some(true)) => onboarding::finish(c, &user)?,
                (Some(_), Some(true)) => {
                    return Err(AppError::bad_request("field_invalid").with("field", "finished"))
                }
                (None, _) => {
                    return Err(AppError::bad_request("field_missing").with("field", "step"))
                }
            }
            onboarding::progress(c, &user)
        })
        .await
        .lang(me.lang)?;
    Ok(Json(p))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LimitQuery {
    limit: Option<String>,
}

/// `?limit=` (1 to 50, 10 when absent).
fn limit(q: &LimitQuery) -> Result<usize, AppError> {
    match &q.limit {
        None => Ok(10),
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=suggestions::MAX).contains(n))
            .ok_or_else(|| AppError::bad_request("field_invalid").with("field", "limit")),
    }
}

pub async fn people(
    State(state): State<AppState>,
    me: ApiUser,
    Query(q): Query<LimitQuery>,
) -> ApiResult<impl IntoResponse> {
    let n = limit(&q).lang(me.lang)?;
    let user = me.user.clone();
    let list = state
        .db
        .run(move |c| suggestions::people(c, &user, n))
        .await
        .lang(me.lang)?;
    Ok(Json(serde_json::json!({ "items": list })))
}

pub async fn communities(
    State(state): State<AppState>,
    me: ApiUser,
    Query(q): Query<LimitQuery>,
) -> ApiResult<impl IntoResponse> {
    let n = limit(&q).lang(me.lang)?;
    let user = me.user.clone();
    let list = state
        .db
        .run(move |c| suggestions::communities(c, &user, n))
        .await
        .lang(me.lang)?;
    Ok(Json(serde_json::json!({ "items": list })))
}
