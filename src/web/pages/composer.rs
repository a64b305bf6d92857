//! The forms that write a post or a comment with attachments
//! (`multipart/form-data`): their text fields, and each file stored as an
//! upload of the signed-in person as it arrives, so that one file at a time
//! is held in memory. Uploads made before an error stay attached to the
//! form that comes back (hidden `media` fields), so that nothing chosen is
//! lost and nothing is uploaded twice.

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::StatusCode;
use axum::Form;

use super::{PageErr, PageError};
use crate::app::AppState;
use crate::content::media::{self, Attached};
use crate::error::AppError;
use crate::web::auth::Ctx;

/// The largest request a composer may send: its attachments (each within
/// `content.max_attachment_bytes`, read one at a time) and its text.
pub const BODY_LIMIT: usize = 256 * 1024 * 1024;

/// What a composer sent.
#[derive(Default)]
pub struct Composed {
    pub csrf: String,
    pub body: String,
    pub visibility: String,
    /// Where to go once written (a path of this site; else the default).
    pub back: String,
    /// Uploads to attach, in order: those kept from an earlier try, then
    /// the files of this one.
    pub media: Vec<i64>,
    /// What went wrong with a file, if anything (the other fields are
    /// still read).
    pub error: Option<AppError>,
}

/// The text fields of a composer sent without files
/// (`application/x-www-form-urlencoded`, as a simple client does).
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Fields {
    csrf: String,
    body: String,
    visibility: String,
    back: String,
}

/// Reads a composer form, with files (`multipart/form-data`) or without.
/// The CSRF token (the form's first field) is checked before the first
/// file is stored.
pub async fn read(state: &AppState, ctx: &Ctx, req: Request) -> Result<Composed, PageError> {
    let user = super::require_user(state, ctx)?.clone();
    let multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("multipart/form-data"));
    if !multipart {
        let Form(f) = Form::<Fields>::from_request(req, state)
            .await
            .map_err(|_| AppError::bad_request("form_invalid"))
            .page(state, ctx)?;
        return Ok(Composed {
            csrf: f.csrf,
            body: f.body,
            visibility: f.visibility,
            back: f.back,
            ..Composed::default()
        });
    }
    let mut form = Multipart::from_request(req, state)
        .await
        .map_err(|_| AppError::bad_request("form_invalid"))
        .page(state, ctx)?;
    let max = state.config.content.max_attachment_bytes;
    let mut c = Composed::default();
    let mut alts: Vec<String> = Vec::new();
    let mut pictures = 0usize;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                c.error
                    .get_or_insert(if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                        media::too_large(max)
                    } else {
                        AppError::bad_request("form_invalid")
                    });
                break;
            }
        };
        let name = field.name().unwrap_or("").to_string();
        if name != "files" {
            if !matches!(
                name.as_str(),
                "csrf" | "body" | "visibility" | "alt" | "media" | "back"
            ) {
                continue;
            }
            let value = match text_of(field).await {
                Ok(v) => v,
                Err(e) => {
                    c.error.get_or_insert(e);
                    break;
                }
            };
            match name.as_str() {
                "csrf" => c.csrf = value,
                "body" => c.body = value,
                "visibility" => c.visibility = value,
                "back" => c.back = value,
                "alt" => alts.push(value),
                _ => match value.trim().parse::<i64>() {
                    Ok(id) => c.media.push(id),
                    Err(_) => {
                        c.error.get_or_insert(
                            AppError::bad_request("field_invalid").with("field", "media"),
                        );
                    }
                },
            }
            continue;
        }
        // A file: read within the limit, then stored at once.
        let (filename, content_type, bytes) = match file_of(field, max).await {
            Ok(Some(f)) => f,
            // A file field left empty sends a nameless, empty part.
            Ok(None) => continue,
            Err(e) => {
                c.error.get_or_insert(e);
                continue;
            }
        };
        if c.error.is_some() {
            continue;
        }
        ctx.check_csrf(&c.csrf).page(state, ctx)?;
        if c.media.len() >= media::MAX_PER_ITEM {
            c.error = Some(
                AppError::bad_request("too_many")
                    .with("field", "files")
                    .with("max", media::MAX_PER_ITEM),
            );
            continue;
        }
        let is_picture = matches!(
            content_type.as_str(),
            "image/png" | "image/jpeg" | "image/webp"
        );
        let alt = if is_picture {
            pictures += 1;
            alts.get(pictures - 1).cloned().unwrap_or_default()
        } else {
            String::new()
        };
        let (store, who) = (state.storage.clone(), user.clone());
        let stored = state
            .db
            .run(move |cx| {
                let up = media::Upload {
                    filename: &filename,
                    content_type: &content_type,
                    bytes: &bytes,
                    alt: &alt,
                };
                media::upload(cx, store.as_ref(), max, &who, &up)
            })
            .await;
        match stored {
            Ok(m) => c.media.push(m.id),
            Err(e) => c.error = Some(e),
        }
    }
    Ok(c)
}

/// A file of the form, read within `max` bytes: its name, declared type
/// and bytes; `None` for a file field left empty.
async fn file_of(
    mut field: axum::extract::multipart::Field<'_>,
    max: usize,
) -> Result<Option<(String, String, Vec<u8>)>, AppError> {
    let filename = field.file_name().unwrap_or("").to_string();
    let content_type = field.content_type().unwrap_or("").to_string();
    let mut bytes = Vec::new();
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                if bytes.len() + chunk.len() > max {
                    return Err(media::too_large(max));
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(_) => return Err(AppError::bad_request("form_invalid")),
        }
    }
    if filename.is_empty() && bytes.is_empty() {
        return Ok(None);
    }
    Ok(Some((filename, content_type, bytes)))
}

/// Longest text field a composer sends (a post's text and its
/// descriptions are far shorter; this only bounds what is read).
const MAX_TEXT_FIELD: usize = 256 * 1024;

/// A text field of the form, read within [`MAX_TEXT_FIELD`].
async fn text_of(mut field: axum::extract::multipart::Field<'_>) -> Result<String, AppError> {
    let mut bytes = Vec::new();
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                if bytes.len() + chunk.len() > MAX_TEXT_FIELD {
                    return Err(AppError::new(
                        crate::error::ErrorKind::PayloadTooLarge,
                        "field_too_long",
                    )
                    .with("field", field.name().unwrap_or("").to_string())
                    .with("max", MAX_TEXT_FIELD));
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(_) => return Err(AppError::bad_request("form_invalid")),
        }
    }
    String::from_utf8(bytes).map_err(|_| AppError::bad_request("form_invalid"))
}

/// The uploads of `owner` named by a form, not attached yet: shown again
/// with a form that came back with an error.
pub async fn kept(state: &AppState, owner: i64, ids: Vec<i64>) -> Vec<Attached> {
    if ids.is_empty() {
        return Vec::new();
    }
    state
        .db
        .run(move |c| media::unattached_of(c, owner, &ids))
        .await
        .unwrap_or_default()
}
