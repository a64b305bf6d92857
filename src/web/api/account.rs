//! API: sign-up, tokens, one's own profile, photo and password.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::{parse_id, ApiError, ApiResult, InLang, JsonBody};
use crate::accounts::{self, NewAccount};
use crate::app::AppState;
use crate::error::{AppError, ErrorKind};
use crate::people::{self, ProfileUpdate};
use crate::web::auth::{accept_language, ApiUser, ClientIp};

#[derive(Deserialize)]
pub struct SignUp {
    username: String,
    email: String,
    password: String,
    #[serde(default)]
    invite: Option<String>,
}

pub async fn sign_up(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<SignUp>,
) -> ApiResult<impl IntoResponse> {
    let lang = accept_language(&headers);
    let cfg = state.config.clone();
    let welcome = state.config.mail.enabled().then(|| lang.code());
    let user = state
        .db
        .run(move |c| {
            crate::onboarding::sign_up(
                c,
                &cfg.accounts,
                NewAccount {
                    username: &body.username,
                    email: &body.email,
                    password: &body.password,
                    is_admin: false,
                    invite: body.invite.as_deref(),
                    welcome,
                },
            )
            .and_then(|user| {
                // The language of the e-mails, until the person chooses one.
                crate::mails::remember_locale(c, user.id, lang.code())?;
                Ok(user)
            })
        })
        .await
        .lang(lang)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"username": user.username, "email": user.email, "is_admin": user.is_admin})),
    ))
}

#[derive(Deserialize)]
pub struct PasswordForgot {
    login: String,
}

/// Asks for a password link by e-mail. The answer is the same whether the
/// account exists or not.
pub async fn password_forgot(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<PasswordForgot>,
) -> ApiResult<StatusCode> {
    let lang = accept_language(&headers);
    if !state.config.mail.enabled() {
        return Err(AppError::conflict("mail_off")).lang(lang);
    }
    if body.login.trim().is_empty() {
        return Err(AppError::bad_request("login_required")).lang(lang);
    }
    crate::web::pages::password::ask_for_link(&state, body.login, lang.code());
    Ok(StatusCode::ACCEPTED)
}

#[derive(Deserialize)]
pub struct PasswordReset {
    token: String,
    password: String,
}

/// Sets a new password with the secret of an e-mailed link (once; every
/// session and the link's siblings end).
pub async fn password_reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<PasswordReset>,
) -> ApiResult<StatusCode> {
    let lang = accept_language(&headers);
    state
        .db
        .run(move |c| accounts::reset::complete(c, &body.token, &body.password))
        .await
        .lang(lang)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct PasswordToken {
    login: String,
    password: String,
    #[serde(default)]
    name: Option<String>,
    /// The second step, for an account that has it on.
    #[serde(default)]
    code: Option<String>,
}

pub async fn token_from_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    JsonBody(body): JsonBody<PasswordToken>,
) -> ApiResult<impl IntoResponse> {
    let lang = accept_language(&headers);
    let cfg = state.config.clone();
    let user = crate::web::auth::password_sign_in(&state, &body.login, &body.password, &ip)
        .await
        .lang(lang)?;
    let (token, secret) = state
        .db
        .run(move |c| {
            if accounts::second_factor::is_on(c, user.id)? {
                let code = body
                    .code
                    .as_deref()
                    .ok_or_else(|| AppError::unauthorized("second_factor_required"))?;
                accounts::second_factor::check(c, &cfg.accounts, &user, code, &ip)?;
            }
            accounts::create_token(c, user.id, body.name.as_deref().unwrap_or("API"))
        })
        .await
        .lang(lang)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": token.id, "name": token.name, "token": secret})),
    ))
}

pub async fn me(State(state): State<AppState>, me: ApiUser) -> ApiResult<impl IntoResponse> {
    let user = me.user.clone();
    let (_, profile) = state
        .db
        .run(move |c| people::profile(c, &user, &user.username))
        .await
        .lang(me.lang)?;
    Ok(Json(json!({
        "profile": profile,
        "email": me.user.email,
        "locale": me.user.locale,
    })))
}

/// One's choice per kind of notification: `now` (by e-mail) or `never`.
pub async fn mail_preferences(
    State(state): State<AppState>,
    me: ApiUser,
) -> ApiResult<impl IntoResponse> {
    let id = me.user.id;
    let (prefs, digest) = state
        .db
        .run(move |c| {
            Ok((
                crate::notifications::by_mail::preferences(c, id)?,
                crate::digest::settings(c, id)?,
            ))
        })
        .await
        .lang(me.lang)?;
    let map: serde_json::Map<String, serde_json::Value> = prefs
        .into_iter()
        .map(|(k, m)| (k.to_string(), json!(m.as_str())))
        .collect();
    Ok(Json(json!({
        "enabled": state.config.mail.enabled(),
        "preferences": map,
        "digest": digest.frequency,
        "time_zone": digest.time_zone,
        "next_digest_at": crate::db::utc::format(&digest.next_at),
    })))
}

/// Changes some of one's choices (`{"mention": "never", …}`), all or none.
pub async fn set_mail_preferences(
    State(state): State<AppState>,
    me: ApiUser,
    JsonBody(body): JsonBody<std::collections::BTreeMap<String, String>>,
) -> ApiResult<impl IntoResponse> {
    let id = me.user.id;
    let mut body = body;
    let digest = body.remove("digest");
    let zone = body.remove("time_zone");
    let choices: Vec<(String, String)> = body.into_iter().collect();
    state
        .db
        .run(move |c| {
            crate::digest::save_mail_choices(c, id, &choices, digest.as_deref(), zone.as_deref())
        })
        .await
        .lang(me.lang)?;
    mail_preferences(State(state), me).await
}

pub async fn update_me(
    State(state): State<AppState>,
    me: ApiUser,
    JsonBody(up): JsonBody<ProfileUpdate>,
) -> ApiResult<impl IntoResponse> {
    let user = me.user.clone();
    let (_, profile) = state
        .db
        .run(move |c| {
            let updated = people::update_profile(c, &user, up)?;
            people::profile(c, &updated, &updated.username)
        })
        .await
        .lang(me.lang)?;
    Ok(Json(profile))
}

pub async fn put_photo(
    State(state): State<AppState>,
    me: ApiUser,
    body: axum::body::Body,
) -> ApiResult<StatusCode> {
    let max = state.config.people.max_photo_bytes;
    // Read up to one byte past the configured limit (not the router's
    // default body limit), so that the limit and its message are ours.
    let bytes = axum::body::to_bytes(body, max + 1).await.map_err(|_| {
        ApiError(
            AppError::new(ErrorKind::PayloadTooLarge, "photo_too_large")
                .with("max_mb", max / (1024 * 1024)),
            me.lang,
        )
    })?;
    let id = me.user.id;
    state
        .db
        .run(move |c| people::set_photo(c, id, &bytes, max))
        .await
        .lang(me.lang)?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_photo(State(state): State<AppState>, me: ApiUser) -> ApiResult<StatusCode> {
    let id = me.user.id;
    state
        .db
        .run(move |c| people::remove_photo(c, id))
        .await
        .lang(me.lang)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct PasswordChange {
    current_password: String,
    new_password: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    me: ApiUser,
    JsonBody(body): JsonBody<PasswordChange>,
) -> ApiResult<StatusCode> {
    let id = me.user.id;
    state
        .db
        .run(move |c| {
            accounts::change_password(c, id, &body.current_password, &body.new_password, None)
        })
        .await
        .lang(me.lang)?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_tokens(
    State(state): State<AppState>,
    me: ApiUser,
) -> ApiResult<impl IntoResponse> {
    let id = me.user.id;
    let tokens = state
        .db
        .run(move |c| accounts::list_tokens(c, id))
        .await
        .lang(me.lang)?;
    Ok(Json(json!({ "items": tokens })))
}

#[derive(Deserialize)]
pub struct TokenCreate {
    name: String,
}

pub async fn create_token(
    State(state): State<AppState>,
    me: ApiUser,
    JsonBody(body): JsonBody<TokenCreate>,
) -> ApiResult<impl IntoResponse> {
    let id = me.user.id;
    let (token, secret) = state
        .db
        .run(move |c| accounts::create_token(c, id, &body.name))
        .await
        .lang(me.lang)?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({"id": token.id, "name": token.name, "token": secret, "created_at": crate::db::utc::format(&token.created_at)}),
        ),
    ))
}

pub async fn revoke_token(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let token_id = parse_id(&id, me.lang)?;
    let uid = me.user.id;
    state
        .db
        .run(move |c| accounts::revoke_token(c, uid, token_id))
        .await
        .lang(me.lang)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The newest 50 notifications; reading them marks them read.
pub async fn notifications(
    State(state): State<AppState>,
    me: ApiUser,
) -> ApiResult<impl IntoResponse> {
    let id = me.user.id;
    let (items, unread) = state
        .db
        .run(move |c| {
            let unread = crate::notifications::unread(c, id)?;
            let items = crate::notifications::list(c, id, 50)?;
            crate::notifications::mark_read(c, id)?;
            Ok((items, unread))
        })
        .await
        .lang(me.lang)?;
    Ok(Json(json!({ "items": items, "unread": unread })))
}

#[derive(Deserialize)]
pub struct AccountDelete {
    password: String,
}

/// Deletes one's own account (the password confirms it).
pub async fn delete_me(
    State(state): State<AppState>,
    me: ApiUser,
    JsonBody(body): JsonBody<AccountDelete>,
) -> ApiResult<StatusCode> {
    let user = me.user.clone();
    state
        .db
        .run(move |c| accounts::delete_account(c, &user, &user.username, Some(&body.password)))
        .await
        .lang(me.lang)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Where one's address stands: the address, whether it is confirmed, and a
/// new address waiting for its link.
pub async fn email_state(
    State(state): State<AppState>,
    me: ApiUser,
) -> ApiResult<Json<accounts::email::AddressState>> {
    let user = me.user.clone();
    let st = state
        .db
        .run(move |c| accounts::email::state(c, &user))
        .await
        .lang(me.lang)?;
    Ok(Json(st))
}

#[derive(Deserialize)]
pub struct EmailChange {
    email: String,
    password: String,
}

/// Asks to change one's address: 202 while the link sent to the new
/// address waits (200 with the new state on a site that sends no e-mail).
pub async fn change_email(
    State(state): State<AppState>,
    me: ApiUser,
    JsonBody(body): JsonBody<EmailChange>,
) -> ApiResult<impl IntoResponse> {
    let user = me.user.clone();
    let locale = me.lang.code().to_string();
    let mail_on = state.config.mail.enabled();
    let st = state
        .db
        .run(move |c| {
            accounts::email::request_change(
                c,
                &user,
                &body.email,
                &body.password,
                &locale,
                mail_on,
            )?;
            let user = accounts::find_by_id(c, user.id)?;
            accounts::email::state(c, &user)
        })
        .await
        .lang(me.lang)?;
    let status = if mail_on {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(st)))
}

/// Sends the confirmation link again (the waiting new address's, else the
/// unconfirmed current one's).
pub async fn resend_email(
    State(state): State<AppState>,
    me: ApiUser,
) -> ApiResult<impl IntoResponse> {
    if !state.config.mail.enabled() {
        return Err(AppError::conflict("mail_off")).lang(me.lang);
    }
    let user = me.user.clone();
    let locale = me.lang.code().to_string();
    let address = state
        .db
        .run(move |c| accounts::email::resend(c, &user, &locale))
        .await
        .lang(me.lang)?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "sent_to": address }))))
}

/// Withdraws a change of address.
pub async fn cancel_email(State(state): State<AppState>, me: ApiUser) -> ApiResult<StatusCode> {
    let user = me.user.clone();
    state
        .db
        .run(move |c| accounts::email::cancel_change(c, &user))
        .await
        .lang(me.lang)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct EmailConfirm {
    token: String,
}

/// Confirms an address with the secret of its e-mailed link (once).
pub async fn confirm_email(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<EmailConfirm>,
) -> ApiResult<impl IntoResponse> {
    let lang = accept_language(&headers);
    let check = state
        .db
        .run(move |c| accounts::email::confirm(c, &body.token))
        .await
        .lang(lang)?;
    Ok(Json(json!({
        "username": check.username,
        "email": check.email,
        "changed": check.is_change,
    })))
}
