//! Pages: sign-in, sign-up, sign-out and personal settings.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use super::{
    anon_csrf, error_text, render, require_form, require_user, see_other, with_cookie, Base,
    PageErr, PageResult,
};
use crate::accounts::{self, ApiToken, NewAccount};
use crate::app::AppState;
use crate::config::SignupMode;
use crate::people::{self, ProfileUpdate};
use crate::web::auth::{self, Ctx};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    base: Base,
    error: Option<String>,
    login: String,
    next: String,
    signup_open: bool,
    /// Just after a new password was set with a link.
    reset_done: bool,
    /// The identity providers' buttons: id and name.
    providers: Vec<(String, String)>,
    /// Whether "Sign in with a passkey" is offered.
    passkeys: bool,
}

fn providers(state: &AppState) -> Vec<(String, String)> {
    state
        .config
        .accounts
        .sso
        .iter()
        .map(|p| (p.id.clone(), p.name.clone()))
        .collect()
}

/// The sign-in page again, saying why the last attempt failed (with its
/// status).
pub(super) fn login_failed(
    state: &AppState,
    ctx: &Ctx,
    err: crate::error::AppError,
    login: &str,
    next: &str,
) -> Response {
    if err.kind == crate::error::ErrorKind::Internal {
        tracing::error!(error = %err, "sign-in failed");
    }
    let status = StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let page = LoginPage {
        base: Base::new(state, ctx, "login.title", ""),
        error: Some(error_text(&err, ctx.lang)),
        login: login.to_string(),
        next: safe_next(next),
        signup_open: state.site.signup() != SignupMode::Closed,
        reset_done: false,
        providers: providers(state),
        passkeys: accounts::passkey::available(&state.config),
    };
    (status, render(&page)).into_response()
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NextQuery {
    next: String,
    reset: String,
}

/// Only same-site paths are followed after signing in.
pub(super) fn safe_next(next: &str) -> String {
    super::same_site_path(next).unwrap_or_else(|| "/".to_string())
}

pub async fn login_form(
    State(state): State<AppState>,
    mut ctx: Ctx,
    Query(q): Query<NextQuery>,
) -> Response {
    if ctx.user.is_some() {
        return see_other("/");
    }
    let cookie = anon_csrf(&state, &mut ctx);
    let page = LoginPage {
        base: Base::new(&state, &ctx, "login.title", ""),
        error: None,
        login: String::new(),
        next: safe_next(&q.next),
        signup_open: state.site.signup() != SignupMode::Closed,
        reset_done: q.reset == "1",
        providers: providers(&state),
        passkeys: accounts::passkey::available(&state.config),
    };
    with_cookie(render(&page), cookie)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginForm {
    csrf: String,
    login: String,
    password: String,
    next: String,
    /// The browser's clock, minutes east of UTC, and its time zone's name
    /// (filled by the page's script; empty without it).
    tz: String,
    tzname: String,
}

pub(super) fn session_cookie(state: &AppState, token: &str) -> String {
    let days = state.config.accounts.session_days as i64;
    auth::set_cookie(
        auth::SESSION_COOKIE,
        token,
        days * 86_400,
        state.config.secure_cookies(),
    )
}

pub async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<LoginForm>,
) -> PageResult {
    ctx.check_csrf(&form.csrf).page(&state, &ctx)?;
    let cfg = state.config.clone();
    let ip = ctx.ip.clone();
    let login = form.login.clone();
    let lang = ctx.lang.code();
    let next = safe_next(&form.next);
    let user = match auth::password_sign_in(&state, &login, &form.password, &ip).await {
        Ok(user) => user,
        Err(err) => return Ok(login_failed(&state, &ctx, err, &form.login, &form.next)),
    };
    let result = state
        .db
        .run(move |c| {
            // The language of the e-mails of someone who chose none, and
            // the clock their digest follows.
            crate::mails::remember_locale(c, user.id, lang)?;
            if let Ok(offset) = form.tz.trim().parse::<i32>() {
                crate::digest::remember_clock(c, user.id, offset, &form.tzname)?;
            }
            // With the second step on, the password opens no session yet.
            if accounts::second_factor::is_on(c, user.id)? {
                let step = accounts::second_factor::begin_step(c, user.id, &next)?;
                return Ok(Err(step));
            }
            Ok(Ok(accounts::create_session(
                c,
                user.id,
                cfg.accounts.session_days,
            )?))
        })
        .await;
    match result {
        Ok(Ok(session)) => {
            let res = see_other(&safe_next(&form.next));
            Ok(with_cookie(
                res,
                Some(session_cookie(&state, &session.token)),
            ))
        }
        Ok(Err(step)) => Ok(with_cookie(
            see_other("/login/code"),
            Some(super::second_factor::step_cookie(&state, &step)),
        )),
        Err(err) => Ok(login_failed(&state, &ctx, err, &form.login, &form.next)),
    }
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage {
    base: Base,
    error: Option<String>,
    username: String,
    email: String,
    invite: String,
    invite_mode: bool,
    closed: bool,
    /// The invitation makes a guest (it works whatever the sign-up mode).
    guest: bool,
}

/// Whether `code` is an open invitation of a guest.
async fn guest_invite(state: &AppState, code: &str) -> bool {
    let code = code.trim().to_string();
    if code.is_empty() || code.len() > 100 {
        return false;
    }
    state
        .db
        .run(move |c| accounts::invitation::is_guest(c, &code))
        .await
        .unwrap_or(false)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct InviteQuery {
    invite: String,
}

pub async fn signup_form(
    State(state): State<AppState>,
    mut ctx: Ctx,
    Query(q): Query<InviteQuery>,
) -> Response {
    if ctx.user.is_some() {
        return see_other("/");
    }
    let cookie = anon_csrf(&state, &mut ctx);
    let mode = state.site.signup();
    let guest = guest_invite(&state, &q.invite).await;
    let page = SignupPage {
        base: Base::new(&state, &ctx, "signup.title", ""),
        error: None,
        username: String::new(),
        email: String::new(),
        invite: q.invite,
        invite_mode: mode == SignupMode::Invite && !guest,
        closed: mode == SignupMode::Closed && !guest,
        guest,
    };
    with_cookie(render(&page), cookie)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SignupForm {
    csrf: String,
    username: String,
    email: String,
    password: String,
    invite: String,
    /// The browser's clock (see `LoginForm`).
    tz: String,
    tzname: String,
}

pub async fn signup(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<SignupForm>,
) -> PageResult {
    ctx.check_csrf(&form.csrf).page(&state, &ctx)?;
    let cfg = state.config.clone();
    let lang = ctx.lang.code();
    let welcome = state.config.mail.enabled().then_some(lang);
    let (tz, tzname) = (form.tz.clone(), form.tzname.clone());
    let f = (
        form.username.clone(),
        form.email.clone(),
        form.password.clone(),
        form.invite.clone(),
    );
    let result = state
        .db
        .run(move |c| {
            let user = crate::onboarding::sign_up(
                c,
                &cfg.accounts,
                NewAccount {
                    username: &f.0,
                    email: &f.1,
                    password: &f.2,
                    is_admin: false,
                    invite: Some(&f.3),
                    welcome,
                },
            )?;
            crate::mails::remember_locale(c, user.id, lang)?;
            if let Ok(offset) = tz.trim().parse::<i32>() {
                crate::digest::remember_clock(c, user.id, offset, &tzname)?;
            }
            accounts::create_session(c, user.id, cfg.accounts.session_days)
        })
        .await;
    match result {
        Ok(session) => Ok(with_cookie(
            see_other("/welcome"),
            Some(session_cookie(&state, &session.token)),
        )),
        Err(err) => {
            let status = StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let mode = state.site.signup();
            let guest = guest_invite(&state, &form.invite).await;
            let page = SignupPage {
                base: Base::new(&state, &ctx, "signup.title", ""),
                error: Some(error_text(&err, ctx.lang)),
                username: form.username,
                email: form.email,
                invite: form.invite,
                invite_mode: mode == SignupMode::Invite && !guest,
                closed: mode == SignupMode::Closed && !guest,
                guest,
            };
            Ok((status, render(&page)).into_response())
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CsrfForm {
    pub csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    require_form(&state, &ctx, &form.csrf)?;
    let mut to = "/login".to_string();
    if let Some(token) = ctx.session_token.clone() {
        let opened_at = state
            .db
            .run(move |c| {
                let at = accounts::sso::session_provider(c, &token)?;
                accounts::delete_session(c, &token)?;
                Ok(at)
            })
            .await
            .page(&state, &ctx)?;
        // Opened through a provider: sign out there too, and come back.
        if let Some((id, id_token)) = opened_at {
            if let Some(p) = state.config.accounts.sso_provider(&id) {
                let back = format!("{}/login", state.config.base());
                if let Some(url) = state.oidc.logout_url(p, &id_token, &back).await {
                    to = url;
                }
            }
        }
    }
    let expire = auth::set_cookie(auth::SESSION_COOKIE, "", 0, state.config.secure_cookies());
    Ok(with_cookie(see_other(&to), Some(expire)))
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    base: Base,
    locale: String,
    tokens: Vec<ApiToken>,
    new_token: Option<String>,
    notice: Option<String>,
    error: Option<String>,
    /// Whether e-mail is on, and the person's choice per kind.
    mail_on: bool,
    mail_prefs: Vec<(&'static str, &'static str)>,
    /// How often the digest comes.
    digest: &'static str,
    /// Where the person's address stands.
    address: accounts::email::AddressState,
    /// The new address typed, kept after an error.
    typed_email: String,
    /// Whether the person appears in "Who knows about …?".
    in_finder: bool,
    /// Whether the person is listed to the organisation's other sites.
    in_directory: bool,
    /// The identity providers the account signs in with (their names).
    linked: Vec<String>,
    /// Whether the account has a password of this site, and whether it
    /// signs in with a password at all (this site's or the directory's).
    has_password: bool,
    password_sign_in: bool,
    /// Two-step sign-in: the authenticator app on (with recovery codes
    /// left), or being set up.
    second_on: bool,
    codes_left: i64,
    second_setup: Option<accounts::second_factor::Setup>,
    /// The account's passkeys.
    passkeys: Vec<accounts::passkey::PasskeyView>,
    /// How adding one is offered: `no`, `password`, `now` or `again` (sign
    /// in again through the company first: `relink` lists its providers,
    /// id and name).
    passkey_offer: &'static str,
    relink: Vec<(String, String)>,
    fresh_minutes: i64,
}

async fn settings_page(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    new_token: Option<String>,
    notice: Option<&str>,
    error: Option<String>,
) -> PageResult {
    settings_full(state, ctx, status, new_token, notice, error, String::new()).await
}

/// The settings page after an error of the address form, which keeps the
/// address typed.
pub(super) async fn settings_with(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    error: Option<String>,
    typed_email: String,
) -> PageResult {
    settings_full(state, ctx, status, None, None, error, typed_email).await
}

async fn settings_full(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    new_token: Option<String>,
    notice: Option<&str>,
    error: Option<String>,
    typed_email: String,
) -> PageResult {
    let user = require_user(state, ctx)?.clone();
    let id = user.id;
    let issuer = state.site.get().name;
    let (cfg, session) = (state.config.clone(), ctx.session_token.clone());
    let (tokens, prefs, digest, address, (in_finder, in_directory), linked, second) = state
        .db
        .run(move |c| {
            let second = (
                accounts::second_factor::app_on(c, id)?,
                accounts::second_factor::codes_left(c, id)?,
                accounts::second_factor::pending_setup(c, &user, &issuer)?,
                accounts::passkey::list(c, id)?,
                accounts::passkey::offer(c, &cfg, &user, session.as_deref())?,
                accounts::directory::managed(c, id)?,
            );
            Ok((
                accounts::list_tokens(c, id)?,
                crate::notifications::by_mail::preferences(c, id)?,
                crate::digest::settings(c, id)?,
                accounts::email::state(c, &user)?,
                (
                    crate::search::experts::is_listed(c, id)?,
                    crate::people::directory_share::is_shared(c, id)?,
                ),
                accounts::sso::providers_of(c, id)?,
                second,
            ))
        })
        .await
        .page(state, ctx)?;
    let user = require_user(state, ctx)?;
    let base = Base::new(state, ctx, "settings.title", "settings");
    let page = SettingsPage {
        mail_on: state.config.mail.enabled(),
        mail_prefs: prefs.into_iter().map(|(k, m)| (k, m.as_str())).collect(),
        digest: digest.frequency.as_str(),
        address,
        typed_email,
        in_finder,
        in_directory,
        linked: linked
            .iter()
            .map(|id| {
                state
                    .config
                    .accounts
                    .sso_provider(id)
                    .map_or_else(|| id.clone(), |p| p.name.clone())
            })
            .collect(),
        has_password: !user.password_hash.starts_with('!'),
        password_sign_in: !user.password_hash.starts_with('!') || second.5,
        second_on: second.0,
        codes_left: second.1,
        second_setup: second.2,
        passkeys: second.3,
        passkey_offer: match second.4 {
            accounts::passkey::Offer::No => "no",
            accounts::passkey::Offer::WithPassword => "password",
            accounts::passkey::Offer::Now => "now",
            accounts::passkey::Offer::SignInAgain => "again",
        },
        relink: linked
            .iter()
            .filter_map(|id| state.config.accounts.sso_provider(id))
            .map(|p| (p.id.clone(), p.name.clone()))
            .collect(),
        fresh_minutes: accounts::passkey::FRESH_MINUTES,
        locale: user.locale.clone().unwrap_or_default(),
        notice: notice.map(|k| base.tr.t(k).to_string()),
        base,
        tokens,
        new_token,
        error,
    };
    Ok((status, render(&page)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NoticeQuery {
    done: String,
}

pub async fn settings(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NoticeQuery>,
) -> PageResult {
    let notice = match q.done.as_str() {
        "password" => Some("settings.password_changed"),
        "language" => Some("settings.language_saved"),
        "revoked" => Some("settings.token_revoked_notice"),
        "mail" => Some("settings.mail_saved"),
        "finder" => Some("settings.finder_saved"),
        "second_off" => Some("second.off_now"),
        "passkey_added" => Some("passkey.added_now"),
        "passkey_renamed" => Some("passkey.renamed_now"),
        "passkey_removed" => Some("passkey.removed_now"),
        "email_sent" => Some("email.link_sent"),
        "email_changed" => Some("email.changed"),
        "email_cancelled" => Some("email.cancelled"),
        _ => None,
    };
    settings_page(&state, &ctx, StatusCode::OK, None, notice, None).await
}

/// Saves what one wants by e-mail: the form sends one `kind=mode` field
/// per kind (and the CSRF token).
pub async fn set_mail(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let csrf = form
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let user = require_form(&state, &ctx, &csrf)?.clone();
    let digest = form
        .iter()
        .find(|(k, _)| k == "digest")
        .map(|(_, v)| v.clone());
    let choices: Vec<(String, String)> = form
        .into_iter()
        .filter(|(k, _)| k != "csrf" && k != "digest")
        .collect();
    let result = state
        .db
        .run(move |c| {
            crate::digest::save_mail_choices(c, user.id, &choices, digest.as_deref(), None)
        })
        .await;
    match result {
        Ok(()) => Ok(see_other("/settings?done=mail#mail")),
        Err(e) if e.kind == crate::error::ErrorKind::BadRequest => {
            let msg = error_text(&e, ctx.lang);
            settings_page(&state, &ctx, StatusCode::BAD_REQUEST, None, None, Some(msg)).await
        }
        Err(e) => Err(e).page(&state, &ctx),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LanguageForm {
    csrf: String,
    locale: String,
}

pub async fn set_language(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<LanguageForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    state
        .db
        .run(move |c| {
            people::update_profile(
                c,
                &user,
                ProfileUpdate {
                    locale: Some(form.locale),
                    ..Default::default()
                },
            )
        })
        .await
        .page(&state, &ctx)?;
    Ok(see_other("/settings?done=language"))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FinderForm {
    csrf: String,
    /// "on" when the box is ticked (absent otherwise).
    listed: Option<String>,
    shared: Option<String>,
}

/// Shows or hides oneself in "Who knows about …?".
pub async fn set_finder(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<FinderForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    let listed = form.listed.is_some();
    let shared = form.shared.is_some();
    state
        .db
        .run(move |c| {
            crate::search::experts::set_listed(c, user.id, listed)?;
            crate::people::directory_share::set_shared(c, user.id, shared)
        })
        .await
        .page(&state, &ctx)?;
    Ok(see_other("/settings?done=finder#finder"))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PasswordForm {
    csrf: String,
    current_password: String,
    new_password: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<PasswordForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?;
    let id = user.id;
    let keep = ctx.session_token.clone();
    let result = state
        .db
        .run(move |c| {
            accounts::change_password(
                c,
                id,
                &form.current_password,
                &form.new_password,
                keep.as_deref(),
            )
        })
        .await;
    match result {
        Ok(()) => Ok(see_other("/settings?done=password")),
        Err(err) => {
            let status = StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
            settings_page(
                &state,
                &ctx,
                status,
                None,
                None,
                Some(error_text(&err, ctx.lang)),
            )
            .await
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TokenForm {
    csrf: String,
    name: String,
}

pub async fn create_token(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<TokenForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?;
    let id = user.id;
    match state
        .db
        .run(move |c| accounts::create_token(c, id, &form.name))
        .await
    {
        Ok((_, secret)) => {
            let mut res =
                settings_page(&state, &ctx, StatusCode::CREATED, Some(secret), None, None).await?;
            // The secret is shown once: keep it out of caches.
            res.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            Ok(res)
        }
        Err(err) => {
            let status = StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
            settings_page(
                &state,
                &ctx,
                status,
                None,
                None,
                Some(error_text(&err, ctx.lang)),
            )
            .await
        }
    }
}

pub async fn revoke_token(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?;
    let token_id = super::parse_id(&state, &ctx, &id)?;
    let uid = user.id;
    state
        .db
        .run(move |c| accounts::revoke_token(c, uid, token_id))
        .await
        .page(&state, &ctx)?;
    Ok(see_other("/settings?done=revoked"))
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    base: Base,
    items: Vec<crate::notifications::Notification>,
}

/// Mentions, replies and new followers; showing them marks them read.
pub async fn notifications(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    let id = require_user(&state, &ctx)?.id;
    let items = state
        .db
        .run(move |c| {
            let items = crate::notifications::list(c, id, 50)?;
            crate::notifications::mark_read(c, id)?;
            Ok(items)
        })
        .await
        .page(&state, &ctx)?;
    let mut base = Base::new(&state, &ctx, "notifications.title", "notifications");
    // Read now: the count by the menu says so.
    base.unread = 0;
    let page = NotificationsPage { base, items };
    Ok(render(&page))
}
