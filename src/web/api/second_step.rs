//! API: one's second sign-in step (the authenticator app and recovery
//! codes) and passkeys, and an API token from a passkey. The pages do the
//! same from the settings and the sign-in page; the rules are
//! `accounts::second_factor` and `accounts::passkey`. A native app makes
//! and uses passkeys with its platform's WebAuthn API for this site's host,
//! from the options these give, and sends back the authenticator's answer
//! as WebAuthn's JSON.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

use super::{ApiResult, InLang, JsonBody};
use crate::accounts::{self, passkey, second_factor};
use crate::app::AppState;
use crate::web::auth::{accept_language, ApiUser, ClientIp};

/// Where one's second step stands: the app (on, or being set up), the
/// recovery codes left, one's passkeys, and whether passkeys can be added
/// here with the password.
pub async fn status(State(state): State<AppState>, me: ApiUser) -> ApiResult<impl IntoResponse> {
    let (cfg, user) = (state.config.clone(), me.user.clone());
    let (on, app, pending, codes, keys, offer) = state
        .db
        .run(move |c| {
            Ok((
                second_factor::is_on(c, user.id)?,
                second_factor::app_on(c, user.id)?,
                second_factor::setup_waiting(c, user.id)?,
                second_factor::codes_left(c, user.id)?,
                passkey::list(c, user.id)?,
                passkey::offer(c, &cfg, &user, None)?,
            ))
        })
        .await
        .lang(me.lang)?;
    let passkeys: Vec<_> = keys
        .iter()
        .map(|k| {
            json!({
                "id": k.id,
                "name": k.name,
                "created_at": crate::db::utc::format(&k.created_at),
                "last_used_at": k.last_used_at.as_ref().map(crate::db::utc::format),
            })
        })
        .collect();
    Ok(Json(json!({
        "on": on,
        "app": app,
        "app_setup_pending": pending,
        "recovery_codes_left": codes,
        "passkeys": passkeys,
        "passkeys_available": passkey::available(&state.config),
        "passkey_add": match offer {
            passkey::Offer::No => "no",
            passkey::Offer::WithPassword => "with_password",
            // The API has no session: an account without a password
            // adds one on the pages, after a sign-in through the company.
            passkey::Offer::Now | passkey::Offer::SignInAgain => "on_the_pages",
        },
    })))
}

/// Starts setting up the authenticator app: its secret, the `otpauth://`
/// address an app reads and a QR code of it (PNG, base64). A first code
/// turns it on ([`enable_app`]).
pub async fn begin_app(State(state): State<AppState>, me: ApiUser) -> ApiResult<impl IntoResponse> {
    let (issuer, user) = (state.site.get().name, me.user.clone());
    let setup = state
        .db
        .run(move |c| second_factor::begin_setup(c, &user, &issuer))
        .await
        .lang(me.lang)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "secret": setup.secret,
            "otpauth_url": setup.url,
            "qr_png_base64": setup.qr_png_base64,
        })),
    ))
}

#[derive(Deserialize)]
pub struct AppCode {
    code: String,
}

/// Turns the app on with a first code; the recovery codes, shown once.
pub async fn enable_app(
    State(state): State<AppState>,
    me: ApiUser,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<AppCode>,
) -> ApiResult<impl IntoResponse> {
    let (cfg, user) = (state.config.clone(), me.user.clone());
    let codes = state
        .db
        .run(move |c| second_factor::enable(c, &cfg.accounts, &user, &body.code, &ip))
        .await
        .lang(me.lang)?;
    Ok(Json(json!({ "recovery_codes": codes })))
}

/// The password that confirms a change (always asked here: the API has no
/// session to show a recent sign-in).
#[derive(Deserialize)]
pub struct PasswordProof {
    password: String,
}

/// Turns the app off (the password is asked).
pub async fn disable_app(
    State(state): State<AppState>,
    me: ApiUser,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<PasswordProof>,
) -> ApiResult<StatusCode> {
    let (cfg, user) = (state.config.clone(), me.user.clone());
    state
        .db
        .run(move |c| second_factor::disable(c, &cfg.accounts, &user, &body.password, &ip))
        .await
        .lang(me.lang)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Starts adding a passkey (the password is asked): the WebAuthn options
/// (`publicKey`) and the ceremony to send back with the answer.
pub async fn add_options(
    State(state): State<AppState>,
    me: ApiUser,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<PasswordProof>,
) -> ApiResult<impl IntoResponse> {
    let (cfg, user) = (state.config.clone(), me.user.clone());
    let challenge = state
        .db
        .run(move |c| {
            let proof = passkey::Proof {
                password: &body.password,
                session: None,
            };
            passkey::begin_registration(c, &cfg, &user, proof, &ip)
        })
        .await
        .lang(me.lang)?;
    Ok(Json(challenge))
}

#[derive(Deserialize)]
pub struct PasskeyAdd {
    ceremony: String,
    #[serde(default)]
    name: String,
    credential: RegisterPublicKeyCredential,
}

/// Finishes adding a passkey; the recovery codes when it turned the second
/// step on (shown once), else `null`.
pub async fn add(
    State(state): State<AppState>,
    me: ApiUser,
    JsonBody(body): JsonBody<PasskeyAdd>,
) -> ApiResult<impl IntoResponse> {
    let (cfg, user) = (state.config.clone(), me.user.clone());
    let codes = state
        .db
        .run(move |c| {
            passkey::finish_registration(
                c,
                &cfg,
                &user,
                &body.ceremony,
                &body.credential,
                &body.name,
            )
        })
        .await
        .lang(me.lang)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "recovery_codes": codes })),
    ))
}

#[derive(Deserialize)]
pub struct PasskeyRename {
    name: String,
}

pub async fn rename(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PasskeyRename>,
) -> ApiResult<StatusCode> {
    let id = super::parse_id(&id, me.lang)?;
    let user = me.user.clone();
    state
        .db
        .run(move |c| passkey::rename(c, &user, id, &body.name))
        .await
        .lang(me.lang)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a passkey (the password is asked).
pub async fn remove(
    State(state): State<AppState>,
    me: ApiUser,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PasswordProof>,
) -> ApiResult<StatusCode> {
    let id = super::parse_id(&id, me.lang)?;
    let (cfg, user) = (state.config.clone(), me.user.clone());
    state
        .db
        .run(move |c| {
            let proof = passkey::Proof {
                password: &body.password,
                session: None,
            };
            passkey::remove(c, &cfg, &user, id, proof, &ip)
        })
        .await
        .lang(me.lang)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Starts a sign-in with a passkey (no user name: the authenticator offers
/// those it holds for this site).
pub async fn sign_in_options(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    ClientIp(ip): ClientIp,
) -> ApiResult<impl IntoResponse> {
    let lang = accept_language(&headers);
    let cfg = state.config.clone();
    let challenge = state
        .db
        .run(move |c| passkey::begin_sign_in(c, &cfg, &ip))
        .await
        .lang(lang)?;
    Ok(Json(challenge))
}

#[derive(Deserialize)]
pub struct PasskeyToken {
    ceremony: String,
    credential: PublicKeyCredential,
    #[serde(default)]
    name: Option<String>,
}

/// Exchanges a passkey's answer for a personal API token (shown once).
pub async fn token(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    JsonBody(body): JsonBody<PasskeyToken>,
) -> ApiResult<impl IntoResponse> {
    let lang = accept_language(&headers);
    let cfg = state.config.clone();
    let (token, secret) = state
        .db
        .run(move |c| {
            let user = passkey::finish_sign_in(c, &cfg, &body.ceremony, &body.credential)?;
            accounts::create_token(c, user.id, body.name.as_deref().unwrap_or("API"))
        })
        .await
        .lang(lang)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": token.id, "name": token.name, "token": secret})),
    ))
}
