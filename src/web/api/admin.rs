//! API: account administration and invitations (administrators only).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use super::{ApiError, ApiResult, InLang};
use crate::accounts;
use crate::error::AppError;
use crate::web::auth::ApiUser;
use crate::web::AppState;

fn require_admin(me: &ApiUser) -> ApiResult<()> {
    if me.user.is_admin {
        Ok(())
    } else {
        Err(ApiError(AppError::forbidden("admin_only"), me.lang))
    }
}

pub async fn users(State(state): State<AppState>, me: ApiUser) -> ApiResult<impl IntoResponse> {
    require_admin(&me)?;
    let users = state
        .db
        .run(|c| accounts::list_users(c, 10_000))
        .await
        .lang(me.lang)?;
    let items: Vec<_> = users
        .iter()
        .map(|u| {
            json!({
                "username": u.username, "email": u.email, "display_name": u.display_name,
                "is_admin": u.is_admin, "disabled": u.disabled, "created_at": u.created_at,
            })
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

async fn set_disabled(
    state: AppState,
    me: ApiUser,
    username: String,
    disabled: bool,
) -> ApiResult<impl IntoResponse> {
    let admin = me.user.clone();
    let user = state
        .db
        .run(move |c| accounts::set_disabled(c, &admin, &username, disabled))
        .await
        .lang(me.lang)?;
    Ok(Json(
        json!({"username": user.username, "disabled": user.disabled}),
    ))
}

pub async fn disable(
    State(state): State<AppState>,
    me: ApiUser,
    Path(username): Path<String>,
) -> ApiResult<impl IntoResponse> {
    set_disabled(state, me, username, true).await
}

pub async fn enable(
    State(state): State<AppState>,
    me: ApiUser,
    Path(username): Path<String>,
) -> ApiResult<impl IntoResponse> {
    set_disabled(state, me, username, false).await
}

pub async fn invitations(
    State(state): State<AppState>,
    me: ApiUser,
) -> ApiResult<impl IntoResponse> {
    require_admin(&me)?;
    let items = state
        .db
        .run(accounts::list_invitations)
        .await
        .lang(me.lang)?;
    Ok(Json(json!({ "items": items })))
}

pub async fn invite(State(state): State<AppState>, me: ApiUser) -> ApiResult<impl IntoResponse> {
    require_admin(&me)?;
    let cfg = state.config.clone();
    let by = me.user.id;
    let (inv, code) = state
        .db
        .run(move |c| accounts::create_invitation(c, &cfg.accounts, Some(by)))
        .await
        .lang(me.lang)?;
    let link = state.config.invite_link(&code);
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": inv.id, "code": code, "link": link, "expires_at": inv.expires_at})),
    ))
}
