//! API: account administration and invitations (administrators only).

use super::Query;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use super::{ApiError, ApiResult, InLang};
use crate::accounts::{self, admin::Show};
use crate::app::AppState;
use crate::error::AppError;
use crate::federation::delivery;
use crate::stats;
use crate::web::auth::ApiUser;

fn require_admin(me: &ApiUser) -> ApiResult<()> {
    if me.user.is_admin {
        Ok(())
    } else {
        Err(ApiError(AppError::forbidden("admin_only"), me.lang))
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct UsersQuery {
    q: String,
    show: String,
    cursor: String,
}

/// Accounts, by username, a page at a time (`q` searches the username,
/// the name and the e-mail; `show`: all, admins, disabled or remote).
pub async fn users(
    State(state): State<AppState>,
    me: ApiUser,
    Query(query): Query<UsersQuery>,
) -> ApiResult<impl IntoResponse> {
    require_admin(&me)?;
    let show = Show::parse(&query.show).lang(me.lang)?;
    let admin = me.user.clone();
    let mut items = state
        .db
        .run(move |c| {
            let after = Some(query.cursor.as_str()).filter(|a| !a.is_empty());
            accounts::admin::search(c, &admin, &query.q, show, after)
        })
        .await
        .lang(me.lang)?;
    let next_cursor = if items.len() as i64 > accounts::admin::PAGE_SIZE {
        items.truncate(accounts::admin::PAGE_SIZE as usize);
        items.last().map(|a| a.username.clone())
    } else {
        None
    };
    Ok(Json(super::List { items, next_cursor }))
}

/// Makes someone an administrator (`PUT`) or no longer one (`DELETE`).
async fn set_admin(
    state: AppState,
    me: ApiUser,
    username: String,
    is_admin: bool,
) -> ApiResult<impl IntoResponse> {
    let admin = me.user.clone();
    let user = state
        .db
        .run(move |c| accounts::admin::set_admin(c, &admin, &username, is_admin))
        .await
        .lang(me.lang)?;
    Ok(Json(
        json!({"username": user.username, "is_admin": user.is_admin}),
    ))
}

pub async fn promote(
    State(state): State<AppState>,
    me: ApiUser,
    Path(username): Path<String>,
) -> ApiResult<impl IntoResponse> {
    set_admin(state, me, username, true).await
}

pub async fn demote(
    State(state): State<AppState>,
    me: ApiUser,
    Path(username): Path<String>,
) -> ApiResult<impl IntoResponse> {
    set_admin(state, me, username, false).await
}

/// The site's figures and its delivery queue.
pub async fn dashboard(State(state): State<AppState>, me: ApiUser) -> ApiResult<impl IntoResponse> {
    require_admin(&me)?;
    let (dash, queue) = state
        .db
        .run(|c| Ok((stats::dashboard(c)?, delivery::stats(c)?)))
        .await
        .lang(me.lang)?;
    Ok(Json(json!({"figures": dash, "deliveries": queue})))
}

async fn set_disabled(
    state: AppState,
    me: ApiUser,
    username: String,
    disabled: bool,
) -> ApiResult<impl IntoResponse> {
    let admin = me.user.clone();
    let user = state
        .db
        .run(move |c| accounts::set_disabled(c, &admin, &username, disabled))
        .await
        .lang(me.lang)?;
    Ok(Json(
        json!({"username": user.username, "disabled": user.disabled}),
    ))
}

pub async fn disable(
    State(state): State<AppState>,
    me: ApiUser,
    Path(username): Path<String>,
) -> ApiResult<impl IntoResponse> {
    set_disabled(state, me, username, true).await
}

pub async fn enable(
    State(state): State<AppState>,
    me: ApiUser,
    Path(username): Path<String>,
) -> ApiResult<impl IntoResponse> {
    set_disabled(state, me, username, false).await
}

pub async fn invitations(
    State(state): State<AppState>,
    me: ApiUser,
) -> ApiResult<impl IntoResponse> {
    require_admin(&me)?;
    let items = state
        .db
        .run(accounts::list_invitations)
        .await
        .lang(me.lang)?;
    Ok(Json(json!({ "items": items })))
}

pub async fn guests(State(state): State<AppState>, me: ApiUser) -> ApiResult<impl IntoResponse> {
    require_admin(&me)?;
    let user = me.user.clone();
    let items = state
        .db
        .run(move |c| accounts::guest::list(c, &user))
        .await
        .lang(me.lang)?;
    Ok(Json(json!({ "items": items })))
}

/// Identity at a glance: the sign-in providers, the SCIM clients (with the
/// accounts each provisions), the directory's groups (the first 200; a
/// client reads them all with SCIM) and how the last directory sync went.
pub async fn identity(State(state): State<AppState>, me: ApiUser) -> ApiResult<impl IntoResponse> {
    require_admin(&me)?;
    let (cfg, user) = (state.config.clone(), me.user.clone());
    let (providers, clients, managed, (total, groups), last_run) = state
        .db
        .run(move |c| {
            Ok((
                accounts::sso::providers_status(c, &cfg.accounts)?,
                accounts::provisioning::list_clients(c)?,
                accounts::provisioning::managed_counts(c)?,
                crate::communities::provisioned::overview(
                    c,
                    &user,
                    crate::communities::provisioned::MAX_PAGE,
                )?,
                accounts::directory::last_run(c)?,
            ))
        })
        .await
        .lang(me.lang)?;
    let clients: Vec<serde_json::Value> = clients
        .into_iter()
        .map(|cl| {
            let n = managed.iter().find(|m| m.0 == cl.id).map_or(0, |m| m.1);
            let mut v = json!(cl);
            v["accounts"] = json!(n);
            v
        })
        .collect();
    Ok(Json(json!({
        "providers": providers,
        "scim": {
            "url": format!("{}/scim/v2", state.config.base()),
            "clients": clients,
            "groups": { "total": total, "items": groups },
        },
        "directory": {
            "configured": state.config.accounts.ldap.enabled(),
            "last_sync": last_run,
        },
    })))
}

/// Renews a guest's access (administrators and the moderators of the
/// guest's communities: see `accounts::guest::renew`).
pub async fn renew_guest(
    State(state): State<AppState>,
    me: ApiUser,
    Path(username): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let (cfg, user) = (state.config.clone(), me.user.clone());
    let until = state
        .db
        .run(move |c| accounts::guest::renew(c, &cfg.accounts, &user, &username))
        .await
        .lang(me.lang)?;
    Ok(Json(
        json!({ "expires_at": crate::db::utc::format(&until) }),
    ))
}

pub async fn revoke_invitation(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = super::parse_id(&id, me.lang)?;
    let admin = me.user.clone();
    state
        .db
        .run(move |c| accounts::revoke_invitation(c, &admin, id))
        .await
        .lang(me.lang)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    /// Send the link to this address.
    #[serde(default)]
    email: Option<String>,
    /// The language of that e-mail: en or fr (the request's by default).
    #[serde(default)]
    locale: Option<String>,
}

/// Creates an invitation; with `{"email": …}` the link is also e-mailed.
pub async fn invite(
    State(state): State<AppState>,
    me: ApiUser,
    body: axum::body::Bytes,
) -> ApiResult<impl IntoResponse> {
    require_admin(&me)?;
    let body: InviteBody = if body.iter().all(u8::is_ascii_whitespace) {
        InviteBody::default()
    } else {
        super::read_json(&body).lang(me.lang)?
    };
    let email = body.email.filter(|e| !e.trim().is_empty());
    if email.is_some() && !state.config.mail.enabled() {
        return Err(AppError::conflict("mail_off")).lang(me.lang);
    }
    let locale = match body.locale.as_deref() {
        None | Some("") => me.lang,
        Some(l) => crate::i18n::Lang::parse(l)
            .ok_or_else(|| AppError::bad_request("locale_invalid"))
            .lang(me.lang)?,
    };
    let cfg = state.config.clone();
    let by = me.user.id;
    let sent = email.is_some();
    let (inv, code) = state
        .db
        .run(move |c| {
            let to = email
                .as_deref()
                .map(|address| accounts::invitation::SendTo {
                    address,
                    locale: locale.code(),
                    community: None,
                    guest: false,
                });
            accounts::create_invitation(c, &cfg.accounts, Some(by), to)
        })
        .await
        .lang(me.lang)?;
    if sent {
        state.mail_wake.notify_one();
    }
    let link = state.config.invite_link(&code);
    Ok((
        StatusCode::CREATED,
        Json(
            json!({"id": inv.id, "code": code, "link": link, "expires_at": crate::db::utc::format(&inv.expires_at), "emailed": sent}),
        ),
    ))
}

/// Sends someone a link to choose a new password (administrators).
pub async fn send_reset(
    State(state): State<AppState>,
    me: ApiUser,
    Path(username): Path<String>,
) -> ApiResult<impl IntoResponse> {
    require_admin(&me)?;
    if !state.config.mail.enabled() {
        return Err(AppError::conflict("mail_off")).lang(me.lang);
    }
    let admin = me.user.clone();
    let minutes = state.config.mail.reset_minutes;
    let lang = me.lang.code();
    state
        .db
        .run(move |c| accounts::reset::request_for(c, &admin, &username, minutes, lang))
        .await
        .lang(me.lang)?;
    state.mail_wake.notify_one();
    Ok(StatusCode::ACCEPTED)
}

/// Turns off someone's second sign-in step (a lost phone or key): the
/// rules are `accounts::second_factor::reset_by_admin`.
pub async fn reset_second_step(
    State(state): State<AppState>,
    me: ApiUser,
    Path(username): Path<String>,
) -> ApiResult<impl IntoResponse> {
    require_admin(&me)?;
    let admin = me.user.clone();
    state
        .db
        .run(move |c| accounts::second_factor::reset_by_admin(c, &admin, &username))
        .await
        .lang(me.lang)?;
    state.mail_wake.notify_one();
    Ok(StatusCode::NO_CONTENT)
}

/// Whether e-mail is on, the queue's figures and the messages in trouble.
pub async fn mail_queue(
    State(state): State<AppState>,
    me: ApiUser,
) -> ApiResult<impl IntoResponse> {
    require_admin(&me)?;
    let (stats, troubles) = state
        .db
        .run(|c| {
            Ok((
                crate::mail::worker::stats(c)?,
                crate::mail::worker::troubles(c, 100)?,
            ))
        })
        .await
        .lang(me.lang)?;
    Ok(Json(json!({
        "enabled": state.config.mail.enabled(),
        "queue": stats,
        "troubles": troubles,
    })))
}

/// Sends a failed e-mail again (administrators).
pub async fn retry_mail(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    require_admin(&me)?;
    let id = super::parse_id(&id, me.lang)?;
    state
        .db
        .run(move |c| crate::mail::worker::retry(c, id))
        .await
        .lang(me.lang)?;
    state.mail_wake.notify_one();
    Ok(StatusCode::NO_CONTENT)
}

// ---- Federation trust -----------------------------------------------------

use crate::net::trust::{self, Entry, Level};

pub async fn instances(State(state): State<AppState>, me: ApiUser) -> ApiResult<impl IntoResponse> {
    require_admin(&me)?;
    let items = state.db.run(trust::list).await.lang(me.lang)?;
    let mode = match state.config.federation.mode {
        crate::config::FederationMode::Allowlist => "allowlist",
        crate::config::FederationMode::Open => "open",
    };
    Ok(Json(json!({ "mode": mode, "items": items })))
}

#[derive(serde::Deserialize)]
pub struct InstanceBody {
    level: String,
    #[serde(default)]
    reason: String,
    /// RFC 3339 time or YYYY-MM-DD.
    #[serde(default)]
    expires_at: Option<String>,
    #[serde(default)]
    allow_private: bool,
}

pub async fn set_instance(
    State(state): State<AppState>,
    me: ApiUser,
    Path(domain): Path<String>,
    super::JsonBody(body): super::JsonBody<InstanceBody>,
) -> ApiResult<impl IntoResponse> {
    require_admin(&me)?;
    let level = Level::parse(&body.level).lang(me.lang)?;
    let expires_at = match body
        .expires_at
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(t) => Some(
            trust::parse_time(t)
                .ok_or_else(|| AppError::bad_request("field_invalid").with("field", "expires_at"))
                .lang(me.lang)?,
        ),
        None => None,
    };
    let actor = me.user.username.clone();
    let inst = state
        .db
        .run(move |c| {
            trust::set(
                c,
                &actor,
                Entry {
                    domain: &domain,
                    level,
                    reason: &body.reason,
                    expires_at,
                    allow_private: body.allow_private,
                },
            )
        })
        .await
        .lang(me.lang)?;
    Ok(Json(inst))
}

#[derive(serde::Deserialize, Default)]
pub struct ReasonQuery {
    #[serde(default)]
    reason: String,
}

pub async fn remove_instance(
    State(state): State<AppState>,
    me: ApiUser,
    Path(domain): Path<String>,
    super::Query(q): super::Query<ReasonQuery>,
) -> ApiResult<StatusCode> {
    require_admin(&me)?;
    let actor = me.user.username.clone();
    state
        .db
        .run(move |c| trust::remove(c, &actor, &domain, &q.reason))
        .await
        .lang(me.lang)?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn trust_audit(
    State(state): State<AppState>,
    me: ApiUser,
) -> ApiResult<impl IntoResponse> {
    require_admin(&me)?;
    let items = state
        .db
        .run(|c| trust::audit_log(c, 500))
        .await
        .lang(me.lang)?;
    Ok(Json(json!({ "items": items })))
}

pub async fn export_instances(
    State(state): State<AppState>,
    me: ApiUser,
) -> ApiResult<impl IntoResponse> {
    require_admin(&me)?;
    let csv = state.db.run(trust::export_csv).await.lang(me.lang)?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        csv,
    ))
}

pub async fn import_instances(
    State(state): State<AppState>,
    me: ApiUser,
    body: String,
) -> ApiResult<impl IntoResponse> {
    require_admin(&me)?;
    let actor = me.user.username.clone();
    let n = state
        .db
        .run(move |c| trust::import_csv(c, &actor, &body))
        .await
        .lang(me.lang)?;
    Ok(Json(json!({ "imported": n })))
}

/// Health of known instances, queue depth and the latest failed deliveries.
pub async fn federation_health(
    State(state): State<AppState>,
    me: ApiUser,
) -> ApiResult<impl IntoResponse> {
    require_admin(&me)?;
    let (stats, peers, failed) = state
        .db
        .run(|c| {
            Ok((
                crate::federation::delivery::stats(c)?,
                crate::federation::delivery::peers(c)?,
                crate::federation::delivery::failed(c, 100)?,
            ))
        })
        .await
        .lang(me.lang)?;
    Ok(Json(
        json!({ "queue": stats, "peers": peers, "failed": failed }),
    ))
}

pub async fn retry_delivery(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    require_admin(&me)?;
    let id = super::parse_id(&id, me.lang)?;
    state
        .db
        .run(move |c| crate::federation::delivery::retry(c, id))
        .await
        .lang(me.lang)?;
    state.wake.notify_one();
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes an account (administrators).
pub async fn delete_user(
    State(state): State<AppState>,
    me: ApiUser,
    Path(username): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let admin = me.user.clone();
    state
        .db
        .run(move |c| crate::accounts::delete_account(c, &admin, &username, None))
        .await
        .lang(me.lang)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The site's name and sign-up mode.
pub async fn site(State(state): State<AppState>, me: ApiUser) -> ApiResult<impl IntoResponse> {
    require_admin(&me)?;
    let cfg = state.config.clone();
    let site = state
        .db
        .run(move |c| accounts::admin::site(c, &cfg.instance_name, cfg.accounts.signup))
        .await
        .lang(me.lang)?;
    Ok(Json(site))
}

#[derive(serde::Deserialize)]
pub struct SiteUpdate {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    signup: Option<String>,
}

/// Changes the site's name or sign-up mode; answers the settings in force.
pub async fn update_site(
    State(state): State<AppState>,
    me: ApiUser,
    super::JsonBody(up): super::JsonBody<SiteUpdate>,
) -> ApiResult<impl IntoResponse> {
    let admin = me.user.clone();
    let cfg = state.config.clone();
    let site = state
        .db
        .run(move |c| {
            accounts::admin::set_site(c, &admin, up.name.as_deref(), up.signup.as_deref())?;
            accounts::admin::site(c, &cfg.instance_name, cfg.accounts.signup)
        })
        .await
        .lang(me.lang)?;
    state.site.set(site.clone());
    Ok(Json(site))
}
