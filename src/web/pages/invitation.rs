//! The page of an invitation into a community sent by e-mail
//! (`/invitations/{code}`): who invites to which community; signed in, one
//! button joins; signed out, links to sign in (coming back here) or to
//! create an account with the invitation. Opening it changes nothing.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;

use super::account::CsrfForm;
use super::communities::enc_path;
use super::{
    anon_csrf, error_text, render, require_form, see_other, with_cookie, Base, PageResult,
};
use crate::app::AppState;
use crate::communities::membership::by_email::{self, Offer};
use crate::web::auth::Ctx;

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    base: Base,
    code: String,
    offer: Option<Offer>,
    /// Who invites to which community.
    intro: String,
    error: Option<String>,
    signed_in: bool,
}

fn page(
    state: &AppState,
    ctx: &Ctx,
    code: String,
    offer: Option<Offer>,
    error: Option<String>,
) -> InvitationPage {
    let intro = match &offer {
        Some(o) if o.inviter.is_empty() => {
            crate::i18n::tf(ctx.lang, "invitation.to", &[("community", o.title.clone())])
        }
        Some(o) => crate::i18n::tf(
            ctx.lang,
            "invitation.by",
            &[("name", o.inviter.clone()), ("community", o.title.clone())],
        ),
        None => String::new(),
    };
    InvitationPage {
        base: Base::new(state, ctx, "invitation.title", "communities"),
        code,
        intro,
        offer,
        error,
        signed_in: ctx.user.is_some(),
    }
}

pub async fn show(
    State(state): State<AppState>,
    mut ctx: Ctx,
    Path(code): Path<String>,
) -> Response {
    let cookie = anon_csrf(&state, &mut ctx);
    let (cfg, c) = (state.config.clone(), code.clone());
    let found = state
        .db
        .run(move |cx| by_email::offer(cx, &cfg.accounts, &c))
        .await;
    let (status, offer, error) = match found {
        Ok(o) => (StatusCode::OK, Some(o), None),
        Err(e) => (
            StatusCode::from_u16(e.kind.status()).unwrap_or(StatusCode::BAD_REQUEST),
            None,
            Some(error_text(&e, ctx.lang)),
        ),
    };
    let p = page(&state, &ctx, code, offer, error);
    with_cookie((status, render(&p)).into_response(), cookie)
}

pub async fn accept(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    let c = code.clone();
    let done = state
        .db
        .run(move |cx| by_email::accept(cx, &user, &c))
        .await;
    match done {
        Ok(name) => Ok(see_other(&format!("/communities/{}", enc_path(&name)))),
        Err(e) => {
            let status = StatusCode::from_u16(e.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let p = page(&state, &ctx, code, None, Some(error_text(&e, ctx.lang)));
            Ok((status, render(&p)).into_response())
        }
    }
}
