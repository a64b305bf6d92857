//! Pages: sign-in through the company's identity provider. They carry the
//! browser to the provider (`oidc`) and back, then hand the identity to
//! `accounts::sso`, which decides.
//!
//! The state sent to the provider is also put in a cookie of this browser
//! (`ruche_sso`, 10 minutes): a code brought back in another browser, or a
//! state replayed, is refused (`sso_state_invalid`).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use super::{anon_csrf, error_text, render, see_other, with_cookie, Base, PageErr, PageResult};
use crate::accounts::sso::{self, Claims, Outcome};
use crate::accounts::{self, secrets, User};
use crate::app::AppState;
use crate::error::AppError;
use crate::web::auth::{self, Ctx};

/// The cookie holding the state of a sign-in at the provider, then the
/// token of an identity waiting to be linked.
const SSO_COOKIE: &str = "ruche_sso";

fn redirect_uri(state: &AppState, id: &str) -> String {
    format!("{}/login/sso/{id}/callback", state.config.base())
}

fn sso_cookie(state: &AppState, value: &str, secs: i64) -> String {
    auth::set_cookie(SSO_COOKIE, value, secs, state.config.secure_cookies())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StartQuery {
    next: String,
}

/// Sends the browser to the provider.
pub async fn start(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<StartQuery>,
) -> PageResult {
    let Some(p) = state.config.accounts.sso_provider(&id).cloned() else {
        return Err(AppError::not_found()).page(&state, &ctx);
    };
    let next = super::same_site_path(&q.next).unwrap_or_else(|| "/".into());
    let begun = state
        .oidc
        .start(&p, &redirect_uri(&state, &p.id), ctx.lang.code())
        .await;
    let begun = match begun {
        Ok(b) => b,
        Err(e) => return Ok(super::account::login_failed(&state, &ctx, e, "", &next)),
    };
    let (s, n, v, pid, nx, ip) = (
        begun.state.clone(),
        begun.nonce.clone(),
        begun.verifier.clone(),
        p.id.clone(),
        next.clone(),
        ctx.ip.clone(),
    );
    let stored = state
        .db
        .run(move |c| sso::begin(c, &pid, &s, &n, &v, &nx, &ip))
        .await;
    if let Err(e) = stored {
        return Ok(super::account::login_failed(&state, &ctx, e, "", &next));
    }
    let cookie = sso_cookie(&state, &begun.state, sso::PENDING_MINUTES * 60);
    Ok(with_cookie(see_other(&begun.url), Some(cookie)))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Callback {
    code: String,
    state: String,
    error: String,
}

/// The browser back from the provider.
pub async fn callback(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    Query(q): Query<Callback>,
) -> PageResult {
    let Some(p) = state.config.accounts.sso_provider(&id).cloned() else {
        return Err(AppError::not_found()).page(&state, &ctx);
    };
    let forget = sso_cookie(&state, "", 0);
    let held = auth::cookie(&headers, SSO_COOKIE).unwrap_or("").to_string();
    let fail = |e: AppError| {
        with_cookie(
            super::account::login_failed(&state, &ctx, e, "", "/"),
            Some(forget.clone()),
        )
    };
    if q.state.is_empty() || q.state.len() > 200 || !secrets::constant_time_eq(&held, &q.state) {
        return Ok(fail(AppError::forbidden("sso_state_invalid")));
    }
    let (pid, st) = (p.id.clone(), q.state.clone());
    let pending = match state.db.run(move |c| sso::take(c, &pid, &st)).await {
        Ok(pending) => pending,
        Err(e) => return Ok(fail(e)),
    };
    if !q.error.is_empty() || q.code.is_empty() || q.code.len() > 2000 {
        let detail: String = q
            .error
            .chars()
            .filter(char::is_ascii_graphic)
            .take(60)
            .collect();
        return Ok(fail(
            AppError::forbidden("sso_cancelled")
                .with("provider", &p.name)
                .with("detail", detail),
        ));
    }
    let identity = match state
        .oidc
        .finish(
            &p,
            &redirect_uri(&state, &p.id),
            &q.code,
            &pending.verifier,
            &pending.nonce,
        )
        .await
    {
        Ok(i) => i,
        Err(e) => return Ok(fail(e)),
    };
    let claims = Claims::read(&p, &identity.subject, &identity.claims);
    let cfg = state.config.clone();
    let lang = ctx.lang.code();
    let (pp, id_token) = (p.clone(), identity.id_token.clone());
    let outcome = state
        .db
        .run(move |c| {
            Ok(match sso::sign_in(c, &pp, &claims)? {
                Outcome::SignedIn(user) => {
                    let session = open(c, &cfg, &user, lang)?;
                    sso::mark_session(c, &session, &pp.id, &id_token)?;
                    Ok(session)
                }
                Outcome::Link { token, .. } => Err(token),
            })
        })
        .await;
    match outcome {
        Ok(Ok(session)) => Ok(with_cookie(
            with_cookie(
                see_other(&pending.next),
                Some(super::account::session_cookie(&state, &session)),
            ),
            Some(forget),
        )),
        Ok(Err(link)) => Ok(with_cookie(
            see_other("/login/sso/link"),
            Some(sso_cookie(&state, &link, sso::PENDING_MINUTES * 60)),
        )),
        Err(e) => Ok(fail(e)),
    }
}

/// A session for `user`, who chose their language on this visit.
fn open(
    c: &mut crate::db::DbConn,
    cfg: &crate::config::Config,
    user: &User,
    lang: &str,
) -> Result<String, AppError> {
    crate::mails::remember_locale(c, user.id, lang)?;
    Ok(accounts::create_session(c, user.id, cfg.accounts.session_days)?.token)
}

#[derive(Template)]
#[template(path = "sso_link.html")]
struct LinkPage {
    base: Base,
    username: String,
    provider: String,
    error: Option<String>,
}

/// Asks for the password of the account an identity would be linked to.
pub async fn link_form(
    State(state): State<AppState>,
    mut ctx: Ctx,
    headers: axum::http::HeaderMap,
) -> Response {
    let cookie = anon_csrf(&state, &mut ctx);
    let token = auth::cookie(&headers, SSO_COOKIE).unwrap_or("").to_string();
    let found = state.db.run(move |c| sso::link_waiting(c, &token)).await;
    let res = match found {
        Ok((username, provider)) => {
            let page = LinkPage {
                base: Base::new(&state, &ctx, "sso.link_title", ""),
                username,
                provider: provider_name(&state, &provider),
                error: None,
            };
            render(&page)
        }
        Err(e) => super::account::login_failed(&state, &ctx, e, "", "/"),
    };
    with_cookie(res, cookie)
}

fn provider_name(state: &AppState, id: &str) -> String {
    state
        .config
        .accounts
        .sso_provider(id)
        .map_or_else(|| id.to_string(), |p| p.name.clone())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LinkForm {
    csrf: String,
    password: String,
}

/// Links the identity once the account's password is right.
pub async fn link(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    Form(form): Form<LinkForm>,
) -> PageResult {
    ctx.check_csrf(&form.csrf).page(&state, &ctx)?;
    let token = auth::cookie(&headers, SSO_COOKIE).unwrap_or("").to_string();
    let cfg = state.config.clone();
    let ip = ctx.ip.clone();
    let lang = ctx.lang.code();
    let t = token.clone();
    let result = state
        .db
        .run(move |c| {
            let user = sso::link(c, &cfg.accounts, &t, &form.password, &ip)?;
            open(c, &cfg, &user, lang)
        })
        .await;
    match result {
        Ok(session) => Ok(with_cookie(
            with_cookie(
                see_other("/"),
                Some(super::account::session_cookie(&state, &session)),
            ),
            Some(sso_cookie(&state, "", 0)),
        )),
        Err(e) if e.code == "sso_state_invalid" => {
            Ok(super::account::login_failed(&state, &ctx, e, "", "/"))
        }
        Err(e) => {
            let status = StatusCode::from_u16(e.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let waiting = state.db.run(move |c| sso::link_waiting(c, &token)).await;
            let (username, provider) = waiting.unwrap_or_default();
            let page = LinkPage {
                base: Base::new(&state, &ctx, "sso.link_title", ""),
                username,
                provider: provider_name(&state, &provider),
                error: Some(error_text(&e, ctx.lang)),
            };
            Ok((status, render(&page)).into_response())
        }
    }
}
