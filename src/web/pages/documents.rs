//! Pages: a community's documents (with the upload form), one document with
//! its versions, downloads, new versions and deletion. Downloads also answer
//! signed requests of member instances (see `federation::groups`).

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{error_text, render, require_form, require_user, see_other, Base, PageErr, PageResult};
use crate::app::AppState;
use crate::communities::{self, Community};
use crate::documents::{self, Document, Upload};
use crate::error::{AppError, AppResult};
use crate::web::auth::Ctx;

/// Request body limit of the upload forms: above the largest configurable
/// file (the configured limit is enforced while reading).
pub const BODY_LIMIT: usize = (1 << 30) + (1 << 20);

#[derive(Template)]
#[template(path = "documents.html")]
struct ListPage {
    base: Base,
    cm: Community,
    docs: Vec<Document>,
    error: Option<String>,
    max_mb: usize,
}

async fn list_page(
    state: &AppState,
    ctx: &Ctx,
    name: String,
    status: StatusCode,
    error: Option<String>,
) -> PageResult {
    let user = require_user(state, ctx)?.clone();
    let (cm, docs) = state
        .db
        .run(move |c| {
            let cm = communities::get_readable(c, user.id, &name)?;
            let docs = documents::list(c, &user, &name)?;
            Ok((cm, docs))
        })
        .await
        .page(state, ctx)?;
    let title = cm.title.clone();
    let page = ListPage {
        base: Base::new(state, ctx, "documents.title", "communities").titled(title),
        cm,
        docs,
        error,
        max_mb: state.config.documents.max_bytes.div_ceil(1024 * 1024),
    };
    Ok((status, render(&page)).into_response())
}

pub async fn list(State(state): State<AppState>, ctx: Ctx, Path(name): Path<String>) -> PageResult {
    list_page(&state, &ctx, name, StatusCode::OK, None).await
}

/// The fields of an upload form, the file read with the size limit.
struct UploadForm {
    csrf: String,
    note: String,
    filename: String,
    content_type: String,
    bytes: Vec<u8>,
}

async fn read_form(state: &AppState, mut multipart: Multipart) -> AppResult<UploadForm> {
    let max = state.config.documents.max_bytes;
    let mut f = UploadForm {
        csrf: String::new(),
        note: String::new(),
        filename: String::new(),
        content_type: String::new(),
        bytes: Vec::new(),
    };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(x)) => x,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(documents::too_large(max))
            }
            Err(_) => return Err(AppError::bad_request("form_invalid")),
        };
        match field.name() {
            Some("csrf") => f.csrf = field.text().await.unwrap_or_default(),
            Some("note") => f.note = field.text().await.unwrap_or_default(),
            Some("file") => {
                f.filename = field.file_name().unwrap_or("").to_string();
                f.content_type = field.content_type().unwrap_or("").to_string();
                let mut field = field;
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) => {
                            if f.bytes.len() + chunk.len() > max {
                                return Err(documents::too_large(max));
                            }
                            f.bytes.extend_from_slice(&chunk);
                        }
                        Ok(None) => break,
                        Err(_) => return Err(AppError::bad_request("form_invalid")),
                    }
                }
            }
            _ => {}
        }
    }
    Ok(f)
}

pub async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
    multipart: Multipart,
) -> PageResult {
    let form = match read_form(&state, multipart).await {
        Ok(f) => f,
        Err(e) => {
            let status = StatusCode::from_u16(e.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let msg = error_text(&e, ctx.lang);
            return list_page(&state, &ctx, name, status, Some(msg)).await;
        }
    };
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    let (store, max, n) = (
        state.storage.clone(),
        state.config.documents.max_bytes,
        name.clone(),
    );
    let result = state
        .db
        .run(move |c| {
            let up = Upload {
                filename: &form.filename,
                content_type: &form.content_type,
                bytes: &form.bytes,
            };
            documents::upload(c, store.as_ref(), max, &user, &n, &up, &form.note)
        })
        .await;
    match result {
        Ok(doc) => Ok(see_other(&format!("/documents/{}", doc.id))),
        Err(e) => {
            let status = StatusCode::from_u16(e.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let msg = error_text(&e, ctx.lang);
            list_page(&state, &ctx, name, status, Some(msg)).await
        }
    }
}

#[derive(Template)]
#[template(path = "document.html")]
struct DocumentPage {
    base: Base,
    doc: Document,
    error: Option<String>,
    max_mb: usize,
}

async fn document_page(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    status: StatusCode,
    error: Option<String>,
) -> PageResult {
    let user = require_user(state, ctx)?.clone();
    let doc = state
        .db
        .run(move |c| documents::get(c, &user, id))
        .await
        .page(state, ctx)?;
    let title = doc.name.clone();
    let page = DocumentPage {
        base: Base::new(state, ctx, "documents.title", "communities").titled(title),
        doc,
        error,
        max_mb: state.config.documents.max_bytes.div_ceil(1024 * 1024),
    };
    Ok((status, render(&page)).into_response())
}

pub async fn show(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> PageResult {
    let id = super::parse_id(&state, &ctx, &id)?;
    document_page(&state, &ctx, id, StatusCode::OK, None).await
}

pub async fn new_version(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    multipart: Multipart,
) -> PageResult {
    let id = super::parse_id(&state, &ctx, &id)?;
    let form = match read_form(&state, multipart).await {
        Ok(f) => f,
        Err(e) => {
            let status = StatusCode::from_u16(e.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let msg = error_text(&e, ctx.lang);
            return document_page(&state, &ctx, id, status, Some(msg)).await;
        }
    };
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    let (store, max) = (state.storage.clone(), state.config.documents.max_bytes);
    let result = state
        .db
        .run(move |c| {
            let up = Upload {
                filename: &form.filename,
                content_type: &form.content_type,
                bytes: &form.bytes,
            };
            documents::new_version(c, store.as_ref(), max, &user, id, &up, &form.note)
        })
        .await;
    match result {
        Ok(_) => Ok(see_other(&format!("/documents/{id}"))),
        Err(e) => {
            let status = StatusCode::from_u16(e.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let msg = error_text(&e, ctx.lang);
            document_page(&state, &ctx, id, status, Some(msg)).await
        }
    }
}

pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<super::account::CsrfForm>,
) -> PageResult {
    let id = super::parse_id(&state, &ctx, &id)?;
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    let store = state.storage.clone();
    let community = state
        .db
        .run(move |c| {
            let doc = documents::get(c, &user, id)?;
            documents::delete(c, store.as_ref(), &user, id)?;
            Ok(doc.community)
        })
        .await
        .page(&state, &ctx)?;
    Ok(see_other(&format!("/communities/{community}/documents")))
}

/// A download: for a signed-in reader of the community, or for a signed
/// request of an instance that may see the community's content.
pub async fn download(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path((id, version)): Path<(String, String)>,
) -> Result<Response, super::PageError> {
    let id = super::parse_id(&state, &ctx, &id)?;
    let version = super::parse_id(&state, &ctx, &version)?;
    let signed = crate::federation::reader::is_signed(&headers);
    let found = if signed && ctx.user.is_none() {
        let path = format!("/documents/{id}/versions/{version}/file");
        federated_file(&state, &path, &headers, id, version).await
    } else {
        let user = require_user(&state, &ctx)?.clone();
        state
            .db
            .run(move |c| documents::file(c, &user, id, version))
            .await
    };
    let (filename, ct, source) = found.page(&state, &ctx)?;
    let bytes = documents::bytes(&state.files(), source)
        .await
        .page(&state, &ctx)?;
    Ok(crate::web::api::documents::file_response(
        &filename, &ct, bytes,
    ))
}

async fn federated_file(
    state: &AppState,
    path: &str,
    headers: &HeaderMap,
    id: i64,
    version: i64,
) -> AppResult<(String, String, documents::Source)> {
    let reader = crate::federation::reader::signed_reader(state, path, headers)
        .await?
        .ok_or_else(|| AppError::unauthorized("signature_missing"))?;
    state
        .db
        .run(move |c| {
            let community = documents::community_of(c, id)?;
            let ok = crate::audience::instance_may_see_community(
                c,
                community,
                &reader.instance,
                crate::audience::Need::Content,
            )?;
            if !ok {
                return Err(AppError::not_found());
            }
            let (f, t, s) = documents::file_of(c, id, version)?;
            match s {
                // Only files kept here are served to other instances.
                documents::Source::Local(_) => Ok((f, t, s)),
                documents::Source::Remote(_) => Err(AppError::not_found()),
            }
        })
        .await
}
