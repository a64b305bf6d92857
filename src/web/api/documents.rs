//! API: documents of communities (upload as the raw request body).

use super::Query;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::{parse_id, ApiError, ApiResult, InLang};
use crate::app::AppState;
use crate::documents::{self, Document, Upload};
use crate::error::AppError;
use crate::web::auth::ApiUser;

#[derive(Deserialize, Default)]
pub struct UploadQuery {
    #[serde(default)]
    filename: String,
    #[serde(default)]
    note: String,
}

/// Reads an upload body, refusing more than the configured size.
pub async fn read_body(state: &AppState, body: Body) -> Result<Vec<u8>, AppError> {
    let max = state.config.documents.max_bytes;
    axum::body::to_bytes(body, max + 1)
        .await
        .map(|b| b.to_vec())
        .map_err(|_| documents::too_large(max))
}

/// The media type a raw upload declares.
pub(super) fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

pub async fn list(
    State(state): State<AppState>,
    me: ApiUser,
    Path(name): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let user = me.user.clone();
    let docs = state
        .db
        .run(move |c| documents::list(c, &user, &name))
        .await
        .lang(me.lang)?;
    Ok(Json(json!({ "items": docs })))
}

pub async fn upload(
    State(state): State<AppState>,
    me: ApiUser,
    Path(name): Path<String>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<impl IntoResponse> {
    let bytes = read_body(&state, body).await.lang(me.lang)?;
    let (user, store, max) = (
        me.user.clone(),
        state.storage.clone(),
        state.config.documents.max_bytes,
    );
    let ct = content_type(&headers);
    let doc: Document = state
        .db
        .run(move |c| {
            let up = Upload {
                filename: &q.filename,
                content_type: &ct,
                bytes: &bytes,
            };
            documents::upload(c, store.as_ref(), max, &user, &name, &up, &q.note)
        })
        .await
        .lang(me.lang)?;
    Ok((StatusCode::CREATED, Json(doc)))
}

pub async fn get_one(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Document>> {
    let id = parse_id(&id, me.lang)?;
    let user = me.user.clone();
    let doc = state
        .db
        .run(move |c| documents::get(c, &user, id))
        .await
        .lang(me.lang)?;
    Ok(Json(doc))
}

pub async fn new_version(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<impl IntoResponse> {
    let id = parse_id(&id, me.lang)?;
    let bytes = read_body(&state, body).await.lang(me.lang)?;
    let (user, store, max) = (
        me.user.clone(),
        state.storage.clone(),
        state.config.documents.max_bytes,
    );
    let ct = content_type(&headers);
    let doc = state
        .db
        .run(move |c| {
            let up = Upload {
                filename: &q.filename,
                content_type: &ct,
                bytes: &bytes,
            };
            documents::new_version(c, store.as_ref(), max, &user, id, &up, &q.note)
        })
        .await
        .lang(me.lang)?;
    Ok((StatusCode::CREATED, Json(doc)))
}

pub async fn download(
    State(state): State<AppState>,
    me: ApiUser,
    Path((id, version)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, me.lang)?;
    let version = parse_id(&version, me.lang)?;
    let user = me.user.clone();
    let (filename, ct, source) = state
        .db
        .run(move |c| documents::file(c, &user, id, version))
        .await
        .lang(me.lang)?;
    let bytes = documents::bytes(&state.files(), source)
        .await
        .lang(me.lang)?;
    Ok(file_response(&filename, &ct, bytes))
}

/// A file as a download: an attachment, of a known-safe type or
/// `application/octet-stream`, never sniffed, and sandboxed should a
/// browser render it anyway.
pub fn file_response(filename: &str, content_type: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                crate::storage::served_type(content_type).to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                crate::storage::disposition(filename, false),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (
                header::CONTENT_SECURITY_POLICY,
                "sandbox; default-src 'none'".to_string(),
            ),
        ],
        bytes,
    )
        .into_response()
}

pub async fn delete(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = parse_id(&id, me.lang)?;
    let (user, store) = (me.user.clone(), state.storage.clone());
    state
        .db
        .run(move |c| documents::delete(c, store.as_ref(), &user, id))
        .await
        .lang(me.lang)?;
    Ok(StatusCode::NO_CONTENT)
}
