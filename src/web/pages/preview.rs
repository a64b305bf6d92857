//! Pages: the preview of a post or comment being written (the composer's
//! "Preview"), and the people a mention being typed may name.

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::Deserialize;

use crate::app::AppState;
use crate::content;
use crate::error::AppError;
use crate::people;
use crate::web::auth::Ctx;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PreviewForm {
    csrf: String,
    body: String,
}

/// `POST /preview`: the body as it will be shown, an HTML fragment
/// sanitised as posts are. An error is a short text in the reader's
/// language, with its status.
pub async fn preview(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<PreviewForm>,
) -> Response {
    let text = |status: StatusCode, body: String| {
        (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            body,
        )
            .into_response()
    };
    if ctx.user.is_none() {
        let err = AppError::unauthorized("signin_required");
        return text(StatusCode::UNAUTHORIZED, super::error_text(&err, ctx.lang));
    }
    if let Err(err) = ctx.check_csrf(&f.csrf) {
        return text(StatusCode::FORBIDDEN, super::error_text(&err, ctx.lang));
    }
    let max = state.config.content.max_post_chars;
    let me_id = ctx.user.as_ref().map_or(0, |u| u.id);
    match state
        .db
        .run(move |c| content::preview(c, max, me_id, &f.body))
        .await
    {
        Ok(html) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            html,
        )
            .into_response(),
        Err(err) => {
            let status = StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
            text(status, super::error_text(&err, ctx.lang))
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MentionQuery {
    q: String,
}

/// `GET /mentions?q=ma`: up to 8 people whose username or name starts
/// with what was typed after `@`, for the composer's suggestions.
pub async fn mentions(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<MentionQuery>,
) -> Response {
    let Some(me) = ctx.user.clone() else {
        return crate::error::json_response(&AppError::unauthorized("signin_required"), ctx.lang);
    };
    match state
        .db
        .run(move |c| people::mention_candidates(c, &me, &q.q, 8))
        .await
    {
        Ok(list) => Json(serde_json::json!({ "items": list })).into_response(),
        Err(err) => crate::error::json_response(&err, ctx.lang),
    }
}
