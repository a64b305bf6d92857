//! Pages: passkeys. The page's script asks the browser
//! (`navigator.credentials`) with the options these give, and sends its
//! answer back as JSON (a cross-site form cannot send JSON, and the CSRF
//! token is asked as on every form). Adding, renaming and removing are in
//! the settings; signing in is on the sign-in page and on the second
//! step's. The rules are `accounts::passkey`.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::Deserialize;
use serde_json::json;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

use super::account::{safe_next, session_cookie};
use super::second_factor::{forget_step, step_token};
use super::{require_form, require_user, see_other, with_cookie, PageResult};
use crate::accounts::{self, passkey};
use crate::app::AppState;
use crate::error::{json_response, AppError, AppResult};
use crate::web::api::JsonBody;
use crate::web::auth::Ctx;

fn answer<T: serde::Serialize>(ctx: &Ctx, result: AppResult<T>) -> Response {
    match result {
        Ok(v) => Json(v).into_response(),
        Err(e) => json_response(&e, ctx.lang),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Begin {
    csrf: String,
    password: String,
}

/// Starts adding a passkey (the account's password, or a recent sign-in,
/// is asked).
pub async fn add_options(
    State(state): State<AppState>,
    ctx: Ctx,
    JsonBody(form): JsonBody<Begin>,
) -> Response {
    let result = async {
        ctx.check_csrf(&form.csrf)?;
        let user = ctx
            .user
            .clone()
            .ok_or_else(|| AppError::unauthorized("login_required"))?;
        let cfg = state.config.clone();
        let ip = ctx.ip.clone();
        let session = ctx.session_token.clone();
        state
            .db
            .run(move |c| {
                let proof = passkey::Proof {
                    password: &form.password,
                    session: session.as_deref(),
                };
                passkey::begin_registration(c, &cfg, &user, proof, &ip)
            })
            .await
    }
    .await;
    answer(&ctx, result)
}

#[derive(Deserialize)]
pub struct Added {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    name: String,
    credential: RegisterPublicKeyCredential,
}

/// Finishes adding a passkey; the recovery codes when it turned the
/// second step on.
pub async fn add(
    State(state): State<AppState>,
    ctx: Ctx,
    JsonBody(form): JsonBody<Added>,
) -> Response {
    let result = async {
        ctx.check_csrf(&form.csrf)?;
        let user = ctx
            .user
            .clone()
            .ok_or_else(|| AppError::unauthorized("login_required"))?;
        let cfg = state.config.clone();
        let codes = state
            .db
            .run(move |c| {
                passkey::finish_registration(
                    c,
                    &cfg,
                    &user,
                    &form.ceremony,
                    &form.credential,
                    &form.name,
                )
            })
            .await?;
        Ok(json!({ "recovery_codes": codes }))
    }
    .await;
    answer(&ctx, result)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Rename {
    csrf: String,
    name: String,
}

pub async fn rename(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<Rename>,
) -> PageResult {
    require_form(&state, &ctx, &form.csrf)?;
    let user = require_user(&state, &ctx)?.clone();
    let done = state
        .db
        .run(move |c| passkey::rename(c, &user, id, &form.name))
        .await;
    match done {
        Ok(()) => Ok(see_other("/settings?done=passkey_renamed#passkeys")),
        Err(e) => super::second_factor::settings_refused(&state, &ctx, e).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Remove {
    csrf: String,
    password: String,
}

pub async fn remove(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<Remove>,
) -> PageResult {
    require_form(&state, &ctx, &form.csrf)?;
    let user = require_user(&state, &ctx)?.clone();
    let cfg = state.config.clone();
    let ip = ctx.ip.clone();
    let session = ctx.session_token.clone();
    let done = state
        .db
        .run(move |c| {
            let proof = passkey::Proof {
                password: &form.password,
                session: session.as_deref(),
            };
            passkey::remove(c, &cfg, &user, id, proof, &ip)
        })
        .await;
    match done {
        Ok(()) => Ok(see_other("/settings?done=passkey_removed#passkeys")),
        Err(e) => super::second_factor::settings_refused(&state, &ctx, e).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CsrfOnly {
    csrf: String,
}

/// Starts a sign-in with a passkey.
pub async fn sign_in_options(
    State(state): State<AppState>,
    ctx: Ctx,
    JsonBody(form): JsonBody<CsrfOnly>,
) -> Response {
    let result = async {
        ctx.check_csrf(&form.csrf)?;
        let cfg = state.config.clone();
        let ip = ctx.ip.clone();
        state
            .db
            .run(move |c| passkey::begin_sign_in(c, &cfg, &ip))
            .await
    }
    .await;
    answer(&ctx, result)
}

#[derive(Deserialize)]
pub struct Answer {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    next: String,
    credential: PublicKeyCredential,
}

/// Finishes a sign-in with a passkey: the session, and where to go.
pub async fn sign_in(
    State(state): State<AppState>,
    ctx: Ctx,
    JsonBody(form): JsonBody<Answer>,
) -> Response {
    let cfg = state.config.clone();
    let lang = ctx.lang.code();
    let next = safe_next(&form.next);
    let result = async {
        ctx.check_csrf(&form.csrf)?;
        state
            .db
            .run(move |c| {
                let user = passkey::finish_sign_in(c, &cfg, &form.ceremony, &form.credential)?;
                crate::mails::remember_locale(c, user.id, lang)?;
                accounts::create_session(c, user.id, cfg.accounts.session_days)
            })
            .await
    }
    .await;
    match result {
        Ok(session) => with_cookie(
            Json(json!({ "next": next })).into_response(),
            Some(session_cookie(&state, &session.token)),
        ),
        Err(e) => json_response(&e, ctx.lang),
    }
}

/// Starts the second step of a password sign-in with a passkey.
pub async fn step_options(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    JsonBody(form): JsonBody<CsrfOnly>,
) -> Response {
    let token = step_token(&headers);
    let result = async {
        ctx.check_csrf(&form.csrf)?;
        let cfg = state.config.clone();
        let ip = ctx.ip.clone();
        state
            .db
            .run(move |c| passkey::begin_step(c, &cfg, &token, &ip))
            .await
    }
    .await;
    answer(&ctx, result)
}

/// Completes the second step of a password sign-in with a passkey.
pub async fn step(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    JsonBody(form): JsonBody<Answer>,
) -> Response {
    let token = step_token(&headers);
    let cfg = state.config.clone();
    let result = async {
        ctx.check_csrf(&form.csrf)?;
        state
            .db
            .run(move |c| {
                let (user, next) =
                    passkey::finish_step(c, &cfg, &token, &form.ceremony, &form.credential)?;
                let session = accounts::create_session(c, user.id, cfg.accounts.session_days)?;
                Ok((session, next))
            })
            .await
    }
    .await;
    match result {
        Ok((session, next)) => with_cookie(
            with_cookie(
                Json(json!({ "next": next })).into_response(),
                Some(session_cookie(&state, &session.token)),
            ),
            Some(forget_step(&state)),
        ),
        Err(e) => json_response(&e, ctx.lang),
    }
}
