//! Pages: "forgot my password", the page of a password link, and the
//! unsubscribe page of the e-mails.
//!
//! A link opened from an e-mail changes nothing by being opened (mail
//! scanners open links): each page shows one button, and only the button
//! acts.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use super::{anon_csrf, error_text, render, see_other, with_cookie, Base, PageErr, PageResult};
use crate::accounts;
use crate::app::AppState;
use crate::mails;
use crate::web::auth::Ctx;

#[derive(Template)]
#[template(path = "password_forgot.html")]
struct ForgotPage {
    base: Base,
    mail_on: bool,
    login: String,
    sent: bool,
    error: Option<String>,
    /// How long a link lasts.
    reset_minutes: u32,
}

pub async fn forgot_form(State(state): State<AppState>, mut ctx: Ctx) -> Response {
    let cookie = anon_csrf(&state, &mut ctx);
    let page = ForgotPage {
        base: Base::new(&state, &ctx, "password.forgot_title", ""),
        mail_on: state.config.mail.enabled(),
        login: String::new(),
        sent: false,
        error: None,
        reset_minutes: state.config.mail.reset_minutes,
    };
    with_cookie(render(&page), cookie)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ForgotForm {
    csrf: String,
    login: String,
}

pub async fn forgot(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<ForgotForm>,
) -> PageResult {
    ctx.check_csrf(&form.csrf).page(&state, &ctx)?;
    let mail_on = state.config.mail.enabled();
    let mut page = ForgotPage {
        base: Base::new(&state, &ctx, "password.forgot_title", ""),
        mail_on,
        login: form.login.clone(),
        sent: false,
        error: None,
        reset_minutes: state.config.mail.reset_minutes,
    };
    if !mail_on {
        return Ok((StatusCode::CONFLICT, render(&page)).into_response());
    }
    if form.login.trim().is_empty() {
        page.error = Some(ctx_text(&ctx, "password.login_needed"));
        return Ok((StatusCode::BAD_REQUEST, render(&page)).into_response());
    }
    ask_for_link(&state, form.login, ctx.lang.code());
    page.sent = true;
    Ok(render(&page))
}

/// Asks for a password link without waiting for the answer: whether the
/// account exists (and a link is written) must not show in how long the
/// page takes. A failure is logged.
pub fn ask_for_link(state: &AppState, login: String, lang: &'static str) {
    let db = state.db.clone();
    let minutes = state.config.mail.reset_minutes;
    let wake = state.mail_wake.clone();
    tokio::spawn(async move {
        match db
            .run(move |c| accounts::reset::request(c, &login, minutes, lang))
            .await
        {
            Ok(()) => wake.notify_one(),
            Err(e) => tracing::warn!(error = %e, "could not write a password link"),
        }
    });
}

fn ctx_text(ctx: &Ctx, key: &str) -> String {
    crate::i18n::t(ctx.lang, key).to_string()
}

#[derive(Template)]
#[template(path = "password_reset.html")]
struct ResetPage {
    base: Base,
    token: String,
    /// The account the link is for; `None`: the link is dead.
    username: Option<String>,
    error: Option<String>,
}

pub async fn reset_form(
    State(state): State<AppState>,
    mut ctx: Ctx,
    Path(token): Path<String>,
) -> Response {
    let cookie = anon_csrf(&state, &mut ctx);
    let t = token.clone();
    let user = state.db.run(move |c| accounts::reset::check(c, &t)).await;
    let (status, username, error) = match user {
        Ok(u) => (StatusCode::OK, Some(u.username), None),
        Err(e) => (
            StatusCode::from_u16(e.kind.status()).unwrap_or(StatusCode::BAD_REQUEST),
            None,
            Some(error_text(&e, ctx.lang)),
        ),
    };
    let page = ResetPage {
        base: Base::new(&state, &ctx, "password.reset_title", ""),
        token,
        username,
        error,
    };
    with_cookie((status, render(&page)).into_response(), cookie)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ResetForm {
    csrf: String,
    password: String,
}

pub async fn reset(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    Form(form): Form<ResetForm>,
) -> PageResult {
    ctx.check_csrf(&form.csrf).page(&state, &ctx)?;
    let t = token.clone();
    let result = state
        .db
        .run(move |c| accounts::reset::complete(c, &t, &form.password))
        .await;
    match result {
        Ok(_) => Ok(see_other("/login?reset=1")),
        Err(e) => {
            // A weak password keeps the form; a dead link says so.
            let t = token.clone();
            let username = state
                .db
                .run(move |c| accounts::reset::check(c, &t))
                .await
                .ok()
                .map(|u| u.username);
            let status = StatusCode::from_u16(e.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let page = ResetPage {
                base: Base::new(&state, &ctx, "password.reset_title", ""),
                token,
                username,
                error: Some(error_text(&e, ctx.lang)),
            };
            Ok((status, render(&page)).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "unsubscribe.html")]
struct UnsubscribePage {
    base: Base,
    token: String,
    /// The address, and whether it is unsubscribed; `None`: unknown link.
    address: Option<(String, bool)>,
    /// What was just done: "unsubscribed" or "resubscribed".
    done: &'static str,
}

pub async fn unsubscribe_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> Response {
    let t = token.clone();
    let address = state
        .db
        .run(move |c| mails::by_unsubscribe_token(c, &t))
        .await
        .ok()
        .flatten();
    let status = if address.is_some() {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    let page = UnsubscribePage {
        base: Base::new(&state, &ctx, "mail.unsubscribe_title", ""),
        token,
        address,
        done: "",
    };
    (status, render(&page)).into_response()
}

/// The button of the page, and the one-click POST of mail programs (RFC
/// 8058: `List-Unsubscribe=One-Click`, no cookie, no form token: the
/// secret in the address is the authority).
pub async fn unsubscribe(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> PageResult {
    subscription(state, ctx, token, true).await
}

pub async fn resubscribe(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> PageResult {
    subscription(state, ctx, token, false).await
}

/// Stops (`off`) or resumes the e-mails of the address of `token`, and
/// says so; an unknown secret is a 404 and changes nothing.
async fn subscription(state: AppState, ctx: Ctx, token: String, off: bool) -> PageResult {
    let t = token.clone();
    let address = state
        .db
        .run(move |c| match off {
            true => mails::unsubscribe(c, &t),
            false => mails::resubscribe(c, &t),
        })
        .await
        .page(&state, &ctx)?;
    let status = if address.is_some() {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    let page = UnsubscribePage {
        base: Base::new(&state, &ctx, "mail.unsubscribe_title", ""),
        token,
        address: address.map(|a| (a, off)),
        done: if off { "unsubscribed" } else { "resubscribed" },
    };
    Ok((status, render(&page)).into_response())
}
