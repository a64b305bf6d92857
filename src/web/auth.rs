//! Who is asking: session cookies (pages, with CSRF tokens) and bearer
//! tokens (API), the request's language and client address.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};

use crate::accounts::{self, secrets, User};
use crate::addresses::Cidr;
use crate::app::AppState;
use crate::error::AppError;
use crate::i18n::Lang;

pub const SESSION_COOKIE: &str = "ruche_session";
pub const CSRF_COOKIE: &str = "ruche_csrf";

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Secure on https.
pub fn set_cookie(name: &str, value: &str, max_age_secs: i64, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The client's address: the peer's, or when the peer is a trusted reverse
/// proxy, the nearest address in `X-Forwarded-For` that is not one.
pub fn client_ip(parts: &Parts, proxies: &[Cidr]) -> String {
    let Some(peer) = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip())
    else {
        return "unknown".to_string();
    };
    let trusted = |ip: IpAddr| proxies.iter().any(|r| r.contains(ip));
    if !trusted(peer) {
        return peer.to_string();
    }
    let forwarded: Vec<IpAddr> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    forwarded
        .iter()
        .rev()
        .find(|ip| !trusted(**ip))
        .or(forwarded.first())
        .copied()
        .unwrap_or(peer)
        .to_string()
}

/// The client's address, as an extractor (see [`client_ip`]).
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<ClientIp, Self::Rejection> {
        Ok(ClientIp(client_ip(parts, &state.proxies)))
    }
}

pub fn accept_language(headers: &HeaderMap) -> Lang {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::from_accept_language)
        .unwrap_or_default()
}

/// Request context for pages: the signed-in user (if any), the session's
/// CSRF token, the language to answer in and the client address.
pub struct Ctx {
    pub user: Option<User>,
    /// CSRF token of the session, or of the anonymous `ruche_csrf` cookie.
    pub csrf: Option<String>,
    pub session_token: Option<String>,
    pub lang: Lang,
    pub ip: String,
    /// The path and query of a page read (GET), where signing in returns.
    pub asked: Option<String>,
    /// The signed-in person's unread notifications, for a page read (GET).
    pub unread: i64,
    /// An administrator whose rights wait for their two-step sign-in.
    pub admin_withheld: bool,
    /// The signed-in person is a partner's guest (`accounts::guest`): the
    /// menu leaves out what they may not open.
    pub guest: bool,
}

impl Ctx {
    /// Checks a submitted CSRF token against the session's (or, signed out,
    /// the anonymous cookie's).
    pub fn check_csrf(&self, submitted: &str) -> Result<(), AppError> {
        match &self.csrf {
            Some(expected)
                if !submitted.is_empty() && secrets::constant_time_eq(expected, submitted) =>
            {
                Ok(())
            }
            _ => Err(AppError::forbidden("csrf_invalid")),
        }
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Ctx, Self::Rejection> {
        state.site.refresh(&state.db, &state.config).await;
        let ip = client_ip(parts, &state.proxies);
        let browser_lang = accept_language(&parts.headers);
        let token = cookie(&parts.headers, SESSION_COOKIE).map(str::to_string);
        let mut ctx = Ctx {
            user: None,
            csrf: cookie(&parts.headers, CSRF_COOKIE).map(str::to_string),
            session_token: None,
            lang: browser_lang,
            ip,
            asked: (parts.method == axum::http::Method::GET)
                .then(|| parts.uri.path_and_query().map(|p| p.as_str().to_string()))
                .flatten(),
            unread: 0,
            admin_withheld: false,
            guest: false,
        };
        if let Some(token) = token.filter(|t| !t.is_empty() && t.len() < 100) {
            let t = token.clone();
            let cfg = state.config.clone();
            // Only a page the browser shows counts them (not its pictures,
            // scripts or live stream): it asks for HTML.
            let page = ctx.asked.is_some()
                && parts
                    .headers
                    .get(axum::http::header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|a| a.contains("text/html"));
            let found = state
                .db
                .run(move |c| {
                    let Some((mut user, csrf)) = accounts::lookup_session(c, &t)? else {
                        return Ok(None);
                    };
                    let withheld =
                        accounts::second_factor::withhold_admin(c, &cfg.accounts, &mut user)?;
                    let (unread, guest) = match page {
                        true => (
                            crate::notifications::unread(c, user.id)?,
                            crate::audience::confined(c, user.id)?,
                        ),
                        false => (0, false),
                    };
                    Ok(Some((user, csrf, unread, withheld, guest)))
                })
                .await
                .unwrap_or_else(|e: crate::error::AppError| {
                    tracing::error!(error = %e, "session lookup failed");
                    None
                });
            if let Some((user, csrf, unread, withheld, guest)) = found {
                ctx.unread = unread;
                ctx.admin_withheld = withheld;
                ctx.guest = guest;
                if let Some(lang) = user.locale.as_deref().and_then(Lang::parse) {
                    ctx.lang = lang;
                }
                ctx.user = Some(user);
                ctx.csrf = Some(csrf);
                ctx.session_token = Some(token);
            }
        }
        Ok(ctx)
    }
}

/// The bearer token's user, for the JSON API.
pub struct ApiUser {
    pub user: User,
    pub lang: Lang,
}

/// Error of the API authentication, answered as JSON.
pub struct ApiAuthError(pub AppError, pub Lang);

impl axum::response::IntoResponse for ApiAuthError {
    fn into_response(self) -> axum::response::Response {
        super::api::ApiError(self.0, self.1).into_response()
    }
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiAuthError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<ApiUser, ApiAuthError> {
        let lang = accept_language(&parts.headers);
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(ApiAuthError(AppError::unauthorized("token_missing"), lang));
        };
        let secret = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty() && v.len() < 200)
            .ok_or_else(|| ApiAuthError(AppError::unauthorized("token_invalid"), lang))?;
        let cfg = state.config.clone();
        let user = state
            .db
            .run(move |c| {
                let Some(mut user) = accounts::lookup_token(c, &secret)? else {
                    return Ok(None);
                };
                accounts::second_factor::withhold_admin(c, &cfg.accounts, &mut user)?;
                Ok(Some(user))
            })
            .await
            .map_err(|e| ApiAuthError(e, lang))?
            .ok_or_else(|| ApiAuthError(AppError::unauthorized("token_invalid"), lang))?;
        let lang = user.locale.as_deref().and_then(Lang::parse).unwrap_or(lang);
        Ok(ApiUser { user, lang })
    }
}

/// A password sign-in, from the sign-in page or the token API: the
/// company's directory first where there is one (`ldap`, then
/// `accounts::directory`), with the same limits on failures as this site's
/// own passwords. A login the directory does not know, or a directory that
/// cannot be reached, falls back to this site's own passwords (its local
/// administrators keep their way in).
pub async fn password_sign_in(
    state: &AppState,
    login: &str,
    password: &str,
    ip: &str,
) -> Result<User, AppError> {
    let cfg = state.config.clone();
    let local = || {
        let (cfg, l, p, i) = (
            cfg.clone(),
            login.to_string(),
            password.to_string(),
            ip.to_string(),
        );
        state
            .db
            .run(move |c| accounts::authenticate(c, &cfg.accounts, &l, &p, &i))
    };
    if !cfg.accounts.ldap.enabled() {
        return local().await;
    }
    let key = login.trim().to_lowercase();
    let (c2, k, i) = (cfg.clone(), key.clone(), ip.to_string());
    let attempt = state
        .db
        .run(move |c| accounts::attempt_begin(c, &c2.accounts, &k, &i))
        .await?;
    let drop_attempt = || state.db.run(move |c| accounts::attempt_dropped(c, attempt));
    match crate::ldap::check_password(&cfg.accounts.ldap, login, password).await {
        Ok(Some(entry)) => {
            let (c2, ip) = (cfg.clone(), ip.to_string());
            state
                .db
                .run(move |c| {
                    let user = accounts::directory::signed_in(c, &entry)?;
                    accounts::attempt_passed(c, &key, &ip, attempt)?;
                    accounts::sso::password_allowed(c, &c2.accounts, user.id)?;
                    Ok(user)
                })
                .await
        }
        Ok(None) => {
            drop_attempt().await?;
            local().await
        }
        // A wrong password of the directory: counted.
        Err(e) if e.code == "invalid_credentials" => Err(e),
        Err(unreachable) => {
            drop_attempt().await?;
            match local().await {
                Err(e) if e.code == "invalid_credentials" => Err(for_people(unreachable)),
                other => other,
            }
        }
    }
}

/// What someone signing in is told of the directory's failure: that it
/// refused, not what it said (an Active Directory's diagnostic names its
/// internals and the state of accounts; it is in the server's log).
fn for_people(e: AppError) -> AppError {
    match e.code {
        "directory_refused" => AppError::remote("directory_sign_in_refused", "LDAP"),
        _ => e,
    }
}
