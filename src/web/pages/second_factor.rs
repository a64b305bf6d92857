//! Pages: the second step of a password sign-in, and turning it on and off
//! in the settings. The rules are `accounts::second_factor`.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use super::account::{session_cookie, settings_with};
use super::{
    anon_csrf, error_text, render, require_form, require_user, see_other, with_cookie, Base,
    PageErr, PageResult,
};
use crate::accounts::{self, second_factor};
use crate::app::AppState;
use crate::web::auth::{self, Ctx};

/// The cookie of a sign-in waiting for its second step.
const STEP_COOKIE: &str = "ruche_step";

pub(super) fn step_token(headers: &axum::http::HeaderMap) -> String {
    auth::cookie(headers, STEP_COOKIE).unwrap_or("").to_string()
}

/// The cookie that forgets a finished second step.
pub(super) fn forget_step(state: &AppState) -> String {
    auth::set_cookie(STEP_COOKIE, "", 0, state.config.secure_cookies())
}

pub(super) fn step_cookie(state: &AppState, token: &str) -> String {
    auth::set_cookie(
        STEP_COOKIE,
        token,
        second_factor::STEP_MINUTES * 60,
        state.config.secure_cookies(),
    )
}

#[derive(Template)]
#[template(path = "login_code.html")]
struct CodePage {
    base: Base,
    error: Option<String>,
    /// The account's passkey may be used, and its app's code.
    passkey: bool,
    app: bool,
}

/// The ways the sign-in waiting under `token` may finish: a passkey, the
/// app's code (a recovery code always).
async fn ways(state: &AppState, token: String) -> crate::error::AppResult<(bool, bool)> {
    let offered = accounts::passkey::available(&state.config);
    state
        .db
        .run(move |c| {
            let (user, _) = second_factor::waiting(c, &token)?;
            Ok((
                offered && accounts::passkey::count(c, user.id)? > 0,
                second_factor::app_on(c, user.id)?,
            ))
        })
        .await
}

/// Asks for the code of the app (or a recovery code).
pub async fn code_form(
    State(state): State<AppState>,
    mut ctx: Ctx,
    headers: axum::http::HeaderMap,
) -> Response {
    let cookie = anon_csrf(&state, &mut ctx);
    let token = auth::cookie(&headers, STEP_COOKIE)
        .unwrap_or("")
        .to_string();
    let res = match ways(&state, token).await {
        Ok((passkey, app)) => render(&CodePage {
            base: Base::new(&state, &ctx, "second.title", ""),
            error: None,
            passkey,
            app,
        }),
        Err(e) => super::account::login_failed(&state, &ctx, e, "", "/"),
    };
    with_cookie(res, cookie)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CodeForm {
    csrf: String,
    code: String,
}

/// Completes the sign-in with a right code.
pub async fn code(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    Form(form): Form<CodeForm>,
) -> PageResult {
    ctx.check_csrf(&form.csrf).page(&state, &ctx)?;
    let token = auth::cookie(&headers, STEP_COOKIE)
        .unwrap_or("")
        .to_string();
    let cfg = state.config.clone();
    let ip = ctx.ip.clone();
    let kept = token.clone();
    let result = state
        .db
        .run(move |c| {
            let (user, next) = second_factor::complete(c, &cfg.accounts, &token, &form.code, &ip)?;
            let session = accounts::create_session(c, user.id, cfg.accounts.session_days)?;
            Ok((session, next))
        })
        .await;
    match result {
        Ok((session, next)) => {
            let forget = auth::set_cookie(STEP_COOKIE, "", 0, state.config.secure_cookies());
            Ok(with_cookie(
                with_cookie(
                    see_other(&next),
                    Some(session_cookie(&state, &session.token)),
                ),
                Some(forget),
            ))
        }
        Err(e) if e.code == "step_expired" => {
            Ok(super::account::login_failed(&state, &ctx, e, "", "/"))
        }
        Err(e) => {
            let status = StatusCode::from_u16(e.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let (passkey, app) = ways(&state, kept).await.unwrap_or((false, true));
            let page = CodePage {
                base: Base::new(&state, &ctx, "second.title", ""),
                error: Some(error_text(&e, ctx.lang)),
                passkey,
                app,
            };
            Ok((status, render(&page)).into_response())
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CsrfOnly {
    csrf: String,
}

/// Starts turning the second step on: the settings page then shows the
/// QR code and asks for a first code.
pub async fn setup(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<CsrfOnly>,
) -> PageResult {
    require_form(&state, &ctx, &form.csrf)?;
    let user = require_user(&state, &ctx)?.clone();
    let issuer = state.site.get().name;
    let started = state
        .db
        .run(move |c| second_factor::begin_setup(c, &user, &issuer))
        .await;
    match started {
        Ok(_) => Ok(see_other("/settings#second-step")),
        Err(e) => {
            settings_with(
                &state,
                &ctx,
                StatusCode::BAD_REQUEST,
                Some(error_text(&e, ctx.lang)),
                String::new(),
            )
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "second_factor_codes.html")]
struct CodesPage {
    base: Base,
    codes: Vec<String>,
}

/// The settings page again, saying why the change was refused (with its
/// status).
pub(super) async fn settings_refused(
    state: &AppState,
    ctx: &Ctx,
    e: crate::error::AppError,
) -> PageResult {
    let status = StatusCode::from_u16(e.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
    settings_with(
        state,
        ctx,
        status,
        Some(error_text(&e, ctx.lang)),
        String::new(),
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EnableForm {
    csrf: String,
    code: String,
}

/// Turns the second step on with a first code; shows the recovery codes once.
pub async fn enable(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<EnableForm>,
) -> PageResult {
    require_form(&state, &ctx, &form.csrf)?;
    let user = require_user(&state, &ctx)?.clone();
    let cfg = state.config.clone();
    let ip = ctx.ip.clone();
    let done = state
        .db
        .run(move |c| second_factor::enable(c, &cfg.accounts, &user, &form.code, &ip))
        .await;
    match done {
        Ok(codes) => Ok(render(&CodesPage {
            base: Base::new(&state, &ctx, "second.codes_title", "settings"),
            codes,
        })),
        Err(e) => settings_refused(&state, &ctx, e).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DisableForm {
    csrf: String,
    password: String,
}

/// Turns the second step off (the password is asked).
pub async fn disable(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<DisableForm>,
) -> PageResult {
    require_form(&state, &ctx, &form.csrf)?;
    let user = require_user(&state, &ctx)?.clone();
    let cfg = state.config.clone();
    let ip = ctx.ip.clone();
    let done = state
        .db
        .run(move |c| second_factor::disable(c, &cfg.accounts, &user, &form.password, &ip))
        .await;
    match done {
        Ok(()) => Ok(see_other("/settings?done=second_off#second-step")),
        Err(e) => settings_refused(&state, &ctx, e).await,
    }
}
