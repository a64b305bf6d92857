//! The files attached to posts and comments, at `/media/{id}/{secret}`
//! (and `/thumb`): served to whoever holds the address, which only readers
//! of the post are given (see `content::media`). The copy of another
//! instance's attachment is made here, when it is first asked for.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::{PageErr, PageResult};
use crate::app::AppState;
use crate::content::media::{self, Media};
use crate::error::{AppError, AppResult};
use crate::web::auth::Ctx;

pub async fn file(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, secret)): Path<(String, String)>,
) -> PageResult {
    serve(&state, &ctx, &id, &secret, false).await
}

pub async fn thumb(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, secret)): Path<(String, String)>,
) -> PageResult {
    serve(&state, &ctx, &id, &secret, true).await
}

async fn serve(state: &AppState, ctx: &Ctx, id: &str, secret: &str, thumb: bool) -> PageResult {
    let id = super::parse_id(state, ctx, id)?;
    let (viewer, secret) = (ctx.user.as_ref().map(|u| u.id), secret.to_string());
    let m = state
        .db
        .run(move |c| media::by_address(c, viewer, id, &secret))
        .await
        .page(state, ctx)?;
    let m = copied(state, m).await.page(state, ctx)?;
    let key = if thumb && !m.thumb_key.is_empty() {
        m.thumb_key.clone()
    } else {
        m.storage_key.clone()
    };
    let store = state.storage.clone();
    let bytes = tokio::task::spawn_blocking(move || store.get(&key))
        .await
        .map_err(AppError::internal)
        .and_then(|r| r)
        .page(state, ctx)?;
    Ok(response(&m, thumb, bytes))
}

/// A remote attachment with this instance's copy made, when it lacked one.
async fn copied(state: &AppState, m: Media) -> AppResult<Media> {
    if !m.storage_key.is_empty() {
        return Ok(m);
    }
    if m.remote_url.is_empty() {
        return Err(AppError::not_found());
    }
    let max = state.config.content.max_attachment_bytes;
    let id = m.id;
    let copied = async {
        let bytes = state.fed.get_bytes(&m.remote_url, max).await?;
        let store = state.storage.clone();
        state
            .db
            .run(move |c| media::keep_remote_copy(c, store.as_ref(), max, &m, &bytes))
            .await
    }
    .await;
    // A refusal for good (the server says no, the file is not what it
    // said or too large) is remembered; an instance that is down is tried
    // again on the next view.
    if let Err(e) = &copied {
        use crate::error::ErrorKind as K;
        let for_good = matches!(
            e.kind,
            K::BadRequest | K::NotFound | K::Forbidden | K::UnsupportedMedia | K::PayloadTooLarge
        ) || e.code == "remote_too_large";
        if for_good {
            tracing::info!(media = id, error = %e, "remote attachment given up");
            let _ = state.db.run(move |c| media::give_up_remote(c, id)).await;
        }
    }
    copied
}

fn response(m: &Media, thumb: bool, bytes: Vec<u8>) -> Response {
    let served = if thumb && m.is_image() {
        crate::storage::served_type(if m.content_type == "image/png" {
            "image/png"
        } else {
            "image/jpeg"
        })
    } else {
        crate::storage::served_type(&m.content_type)
    };
    let inline = m.is_image() || served == "application/pdf";
    let disposition = crate::storage::disposition(&m.filename, inline);
    // Pictures and PDFs open in the browser; nothing served here may run
    // scripts in this site's origin.
    let policy = if served == "application/pdf" {
        "default-src 'none'; object-src 'self'; plugin-types application/pdf"
    } else {
        "sandbox; default-src 'none'"
    };
    (
        [
            (header::CONTENT_TYPE, served.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            // The address changes with the file; a shared cache keeps none.
            (
                header::CACHE_CONTROL,
                "private, max-age=31536000, immutable".to_string(),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (header::CONTENT_SECURITY_POLICY, policy.to_string()),
        ],
        bytes,
    )
        .into_response()
}
