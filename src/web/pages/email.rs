//! Pages of a person's e-mail address: the settings forms (change it,
//! send the link again, withdraw a change) and the page of a confirmation
//! link. Opening the link changes nothing (mail scanners open links): the
//! page says which address and which account, and only its button
//! confirms.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use super::account::settings_with;
use super::{
    anon_csrf, error_text, render, require_form, see_other, with_cookie, Base, PageErr, PageResult,
};
use crate::accounts;
use crate::app::AppState;
use crate::web::auth::Ctx;

#[derive(Template)]
#[template(path = "email_confirm.html")]
struct ConfirmPage {
    base: Base,
    token: String,
    /// What the link is for, while it works.
    ask: Option<String>,
    /// Done: the address confirmed.
    done: Option<String>,
    error: Option<String>,
}

fn status_of(e: &crate::error::AppError) -> StatusCode {
    StatusCode::from_u16(e.kind.status()).unwrap_or(StatusCode::BAD_REQUEST)
}

pub async fn confirm_page(
    State(state): State<AppState>,
    mut ctx: Ctx,
    Path(token): Path<String>,
) -> Response {
    let cookie = anon_csrf(&state, &mut ctx);
    let t = token.clone();
    let found = state.db.run(move |c| accounts::email::look(c, &t)).await;
    let (status, ask, error) = match found {
        Ok(check) => {
            let key = if check.is_change {
                "email.ask_change"
            } else {
                "email.ask_confirm"
            };
            let args = [("email", check.email), ("username", check.username)];
            (
                StatusCode::OK,
                Some(crate::i18n::tf(ctx.lang, key, &args)),
                None,
            )
        }
        Err(e) => (status_of(&e), None, Some(error_text(&e, ctx.lang))),
    };
    let page = ConfirmPage {
        base: Base::new(&state, &ctx, "email.title", ""),
        token,
        ask,
        done: None,
        error,
    };
    with_cookie((status, render(&page)).into_response(), cookie)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    ctx.check_csrf(&form.csrf).page(&state, &ctx)?;
    let t = token.clone();
    let result = state.db.run(move |c| accounts::email::confirm(c, &t)).await;
    let base = Base::new(&state, &ctx, "email.title", "");
    let (status, page) = match result {
        Ok(check) => (
            StatusCode::OK,
            ConfirmPage {
                done: Some(base.tr.tf1("email.confirmed", "email", &check.email)),
                base,
                token,
                ask: None,
                error: None,
            },
        ),
        Err(e) if e.kind == crate::error::ErrorKind::Internal => return Err(e).page(&state, &ctx),
        Err(e) => (
            status_of(&e),
            ConfirmPage {
                error: Some(error_text(&e, ctx.lang)),
                base,
                token,
                ask: None,
                done: None,
            },
        ),
    };
    Ok((status, render(&page)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ChangeForm {
    csrf: String,
    email: String,
    current_password: String,
}

/// Asks to change the address (a link goes to the new one).
pub async fn change(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<ChangeForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    let locale = ctx.lang.code().to_string();
    let mail_on = state.config.mail.enabled();
    let typed = form.email.clone();
    let result = state
        .db
        .run(move |c| {
            accounts::email::request_change(
                c,
                &user,
                &form.email,
                &form.current_password,
                &locale,
                mail_on,
            )
        })
        .await;
    match result {
        Ok(_) if mail_on => Ok(see_other("/settings?done=email_sent#email")),
        Ok(_) => Ok(see_other("/settings?done=email_changed#email")),
        Err(e) if e.kind != crate::error::ErrorKind::Internal => {
            let msg = error_text(&e, ctx.lang);
            settings_with(&state, &ctx, status_of(&e), Some(msg), typed).await
        }
        Err(e) => Err(e).page(&state, &ctx),
    }
}

/// Sends the confirmation link again.
pub async fn resend(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    if !state.config.mail.enabled() {
        let msg = Some(crate::i18n::t(ctx.lang, "settings.mail_off").to_string());
        return settings_with(&state, &ctx, StatusCode::CONFLICT, msg, String::new()).await;
    }
    let locale = ctx.lang.code().to_string();
    let result = state
        .db
        .run(move |c| accounts::email::resend(c, &user, &locale))
        .await;
    match result {
        Ok(_) => Ok(see_other("/settings?done=email_sent#email")),
        Err(e) if e.kind != crate::error::ErrorKind::Internal => {
            let msg = error_text(&e, ctx.lang);
            settings_with(&state, &ctx, status_of(&e), Some(msg), String::new()).await
        }
        Err(e) => Err(e).page(&state, &ctx),
    }
}

/// Withdraws a change of address.
pub async fn cancel(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    state
        .db
        .run(move |c| accounts::email::cancel_change(c, &user))
        .await
        .page(&state, &ctx)?;
    Ok(see_other("/settings?done=email_cancelled#email"))
}
