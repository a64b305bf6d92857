//! A community's picture: served to whoever may know the community exists
//! (here, or another instance through a signed fetch: it is the Group's
//! icon), and changed from the settings page.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::communities::{enc_path, settings_failed};
use super::{require_form, require_user, see_other, PageErr, PageResult};
use crate::app::AppState;
use crate::communities;
use crate::federation::reader::signed_reader;
use crate::web::auth::Ctx;

/// A community's picture: for whoever may know the community exists here,
/// or for a signed request of an instance that may (it is the Group's icon).
pub async fn picture(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> PageResult {
    let id = match ctx.user.as_ref() {
        Some(u) => {
            let uid = u.id;
            let n = name.clone();
            state
                .db
                .run(move |c| communities::get(c, uid, &n).map(|c| c.id))
                .await
                .page(&state, &ctx)?
        }
        None => {
            let pq = uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("")
                .to_string();
            let reader = signed_reader(&state, &pq, &headers)
                .await
                .page(&state, &ctx)?;
            let Some(reader) = reader else {
                // Not signed: people sign in first.
                require_user(&state, &ctx)?;
                return Err(crate::error::AppError::unauthorized("signin_required"))
                    .page(&state, &ctx);
            };
            let found: crate::error::AppResult<i64> = async {
                let cfg = state.config.clone();
                let n = name.clone();
                state
                    .db
                    .run(move |c| {
                        let url = crate::urls::Urls(&cfg).community(&n);
                        let ok = match crate::federation::groups::local_community(c, &cfg, &url)? {
                            Some(g) => crate::audience::instance_may_see_community(
                                c,
                                g.id,
                                &reader.instance,
                                crate::audience::Need::Existence,
                            )?
                            .then_some(g.id),
                            // A community of another instance: the picture a
                            // moderator here gave it, for that instance only.
                            None => {
                                let g = crate::accounts::find_by_username(c, &n)?;
                                (!g.is_person()
                                    && g.domain.as_deref() == Some(reader.instance.domain.as_str()))
                                .then_some(g.id)
                            }
                        };
                        ok.ok_or_else(crate::error::AppError::not_found)
                    })
                    .await
            }
            .await;
            found.page(&state, &ctx)?
        }
    };
    let (content_type, data) = state
        .db
        .run(move |c| crate::people::photo_of(c, id))
        .await
        .page(&state, &ctx)?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, content_type),
            (
                axum::http::header::CACHE_CONTROL,
                "private, max-age=31536000, immutable".to_string(),
            ),
        ],
        data,
    )
        .into_response())
}

/// The picture form of the settings page (multipart, field `picture`), or
/// its removal (`remove` set).
pub async fn upload_picture(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
    mut multipart: axum::extract::Multipart,
) -> PageResult {
    let max = state.config.people.max_photo_bytes;
    let too_large = || {
        crate::error::AppError::new(crate::error::ErrorKind::PayloadTooLarge, "photo_too_large")
            .with("max_mb", max / (1024 * 1024))
    };
    let (mut csrf, mut data, mut remove) = (String::new(), Vec::new(), false);
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(too_large()).page(&state, &ctx)
            }
            Err(_) => {
                return Err(crate::error::AppError::bad_request("form_invalid")).page(&state, &ctx)
            }
        };
        match field.name() {
            Some("csrf") => csrf = field.text().await.unwrap_or_default(),
            Some("remove") => remove = true,
            Some("picture") => {
                let mut field = field;
                while let Ok(Some(chunk)) = field.chunk().await {
                    if data.len() + chunk.len() > max {
                        return Err(too_large()).page(&state, &ctx);
                    }
                    data.extend_from_slice(&chunk);
                }
            }
            _ => {}
        }
    }
    let user = require_form(&state, &ctx, &csrf)?.clone();
    let n = name.clone();
    let result = state
        .db
        .run(move |c| {
            let upload = if remove { None } else { Some(data.as_slice()) };
            communities::set_picture(c, &user, &n, upload, max)
        })
        .await;
    match result {
        Ok(c) => Ok(see_other(&format!("/communities/{}", enc_path(&c.name)))),
        Err(err) => settings_failed(&state, &ctx, name, err).await,
    }
}
