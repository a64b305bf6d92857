//! API: pictures and files for posts and comments, uploaded first (the
//! raw request body) and then named by the post or comment that carries
//! them (`media_ids`).

use super::Query;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;

use super::{ApiResult, InLang};
use crate::app::AppState;
use crate::content::media::{self, Upload};
use crate::web::auth::ApiUser;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct UploadQuery {
    filename: String,
    alt: String,
}

pub async fn upload(
    State(state): State<AppState>,
    me: ApiUser,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<impl IntoResponse> {
    let max = state.config.content.max_attachment_bytes;
    let bytes = axum::body::to_bytes(body, max + 1)
        .await
        .map_err(|_| media::too_large(max))
        .lang(me.lang)?;
    let content_type = super::documents::content_type(&headers);
    let (user, store) = (me.user.clone(), state.storage.clone());
    let shown = state
        .db
        .run(move |c| {
            let up = Upload {
                filename: &q.filename,
                content_type: &content_type,
                bytes: &bytes,
                alt: &q.alt,
            };
            media::upload(c, store.as_ref(), max, &user, &up)
        })
        .await
        .lang(me.lang)?;
    Ok((StatusCode::CREATED, Json(shown)))
}
