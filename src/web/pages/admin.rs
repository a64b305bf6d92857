//! Pages: the administration area (accounts and invitations).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Form;

use super::account::CsrfForm;
use super::{render, require_form, require_user, see_other, Base, PageErr, PageResult};
use crate::accounts::{self, User};
use crate::error::AppError;
use crate::web::auth::Ctx;
use crate::web::AppState;

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    base: Base,
    users: Vec<User>,
    open_invites: usize,
    new_link: Option<String>,
    error: Option<String>,
}

async fn admin_page(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    new_link: Option<String>,
) -> PageResult {
    let user = require_user(state, ctx)?;
    if !user.is_admin {
        return Err(AppError::forbidden("admin_only")).page(state, ctx);
    }
    let (users, invites) = state
        .db
        .run(|c| {
            Ok((
                accounts::list_users(c, 1000)?,
                accounts::list_invitations(c)?,
            ))
        })
        .await
        .page(state, ctx)?;
    let now = crate::db::now();
    let page = AdminPage {
        base: Base::new(state, ctx, "admin.title", "admin"),
        users,
        open_invites: invites
            .iter()
            .filter(|i| i.used_by.is_none() && i.expires_at > now)
            .count(),
        new_link,
        error: None,
    };
    Ok((status, render(&page)).into_response())
}

pub async fn page(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    admin_page(&state, &ctx, StatusCode::OK, None).await
}

pub async fn invite(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?;
    if !user.is_admin {
        return Err(AppError::forbidden("admin_only")).page(&state, &ctx);
    }
    let cfg = state.config.clone();
    let by = user.id;
    let (_, code) = state
        .db
        .run(move |c| accounts::create_invitation(c, &cfg.accounts, Some(by)))
        .await
        .page(&state, &ctx)?;
    let link = state.config.invite_link(&code);
    admin_page(&state, &ctx, StatusCode::CREATED, Some(link)).await
}

pub async fn set_disabled(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((username, action)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    let admin = require_form(&state, &ctx, &form.csrf)?.clone();
    let disabled = match action.as_str() {
        "disable" => true,
        "enable" => false,
        _ => return Err(AppError::not_found()).page(&state, &ctx),
    };
    state
        .db
        .run(move |c| accounts::set_disabled(c, &admin, &username, disabled))
        .await
        .page(&state, &ctx)?;
    Ok(see_other("/admin"))
}
