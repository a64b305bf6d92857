//! Sign-in through the company's identity providers (OpenID Connect): what
//! an identity the provider vouched for does here. The protocol itself
//! (discovery, tokens, their checks) is `oidc`.
//!
//! - A sign-in under way is kept in `sso_pending`, keyed by the digest of
//!   its state: taken once, for [`PENDING_MINUTES`]; a state replayed, made
//!   up or too old finds nothing.
//! - An identity already linked (provider, subject) signs its account in,
//!   and refreshes the fields the provider fills (name, department, job
//!   title, site, e-mail, administrator by group).
//! - A new identity whose e-mail an account of this instance already has is
//!   linked to it only if the provider says the address is verified, and
//!   only after that account's password is typed ([`link`]): otherwise
//!   whoever controls an identity at the provider could take any account.
//! - Any other new identity creates its account, whatever the sign-up mode:
//!   the provider is the company's directory, and `allowed_domains` says
//!   whose addresses may come in.
//! - A disabled or deleted account is not signed in, whichever door.

use chrono::Duration;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{secrets, User};
use crate::config::{AccountsConfig, SsoProvider};
use crate::db::schema::{sessions, sso_identities, sso_pending, users};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult, ErrorKind};

/// How long a sign-in may stay at the provider, or wait for a password.
pub const PENDING_MINUTES: i64 = 10;

/// Sign-ins one client address may have under way at once (each is a row
/// until it is taken or expires): enough for a few tabs and retries, not
/// for filling the table.
pub const PENDING_PER_ADDRESS: i64 = 20;

/// What an identity provider says of a person, read with the provider's
/// claim mapping and cleaned: control characters out, fields cut at 100
/// characters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub subject: String,
    pub email: String,
    pub email_verified: bool,
    pub username: String,
    /// `None`: the provider says nothing of it (the field is left as is).
    pub name: Option<String>,
    pub department: Option<String>,
    pub job_title: Option<String>,
    pub site: Option<String>,
    pub groups: Vec<String>,
}

use super::clean_field as clean;

impl Claims {
    /// Reads `all` (the claims the provider returned) as `p` maps them.
    pub fn read(p: &SsoProvider, subject: &str, all: &Map<String, Value>) -> Claims {
        let text = |name: &str| -> Option<String> {
            if name.is_empty() {
                return None;
            }
            match all.get(name)? {
                Value::String(s) => Some(clean(s)),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            }
        };
        let groups = match all.get(&p.claims.groups) {
            Some(Value::Array(items)) if !p.claims.groups.is_empty() => items
                .iter()
                .filter_map(Value::as_str)
                .take(1000)
                .map(clean)
                .collect(),
            Some(Value::String(s)) if !p.claims.groups.is_empty() => vec![clean(s)],
            _ => Vec::new(),
        };
        Claims {
            subject: subject.chars().take(255).collect(),
            email: text(&p.claims.email)
                .unwrap_or_default()
                .to_ascii_lowercase(),
            email_verified: matches!(all.get("email_verified"), Some(Value::Bool(true)))
                || matches!(all.get("email_verified"), Some(Value::String(s)) if s == "true"),
            username: text(&p.claims.username).unwrap_or_default(),
            name: text(&p.claims.name),
            department: text(&p.claims.department),
            job_title: text(&p.claims.job_title),
            site: text(&p.claims.site),
            groups,
        }
    }
}

/// A sign-in sent to a provider, as kept until the browser comes back.
#[derive(Debug, Clone)]
pub struct Pending {
    pub provider: String,
    pub nonce: String,
    pub verifier: String,
    pub next: String,
}

/// Keeps a sign-in sent to `provider` (and forgets those gone stale).
pub fn begin(
    c: &mut DbConn,
    provider: &str,
    state: &str,
    nonce: &str,
    verifier: &str,
    next: &str,
    ip: &str,
) -> AppResult<()> {
    let now = now();
    db::write(c, |c| {
        diesel::delete(
            sso_pending::table
                .filter(sso_pending::created_at.lt(now - Duration::minutes(PENDING_MINUTES))),
        )
        .execute(c)?;
        let under_way: i64 = sso_pending::table
            .filter(sso_pending::ip.eq(ip))
            .filter(sso_pending::kind.eq("login"))
            .count()
            .get_result(c)?;
        if under_way >= PENDING_PER_ADDRESS {
            return Err(AppError::new(ErrorKind::RateLimited, "sso_too_many"));
        }
        diesel::insert_into(sso_pending::table)
            .values((
                sso_pending::id.eq(secrets::digest(state)),
                sso_pending::provider.eq(provider),
                sso_pending::kind.eq("login"),
                sso_pending::nonce.eq(nonce),
                sso_pending::verifier.eq(verifier),
                sso_pending::next.eq(next),
                sso_pending::created_at.eq(now),
                sso_pending::ip.eq(ip),
            ))
            .execute(c)?;
        Ok(())
    })
}

/// Takes (once) the sign-in of `state`, sent to `provider`.
pub fn take(c: &mut DbConn, provider: &str, state: &str) -> AppResult<Pending> {
    let id = secrets::digest(state);
    let since = now() - Duration::minutes(PENDING_MINUTES);
    let found = db::write(c, |c| {
        let found: Option<(String, String, String, String)> = sso_pending::table
            .find(&id)
            .filter(sso_pending::kind.eq("login"))
            .filter(sso_pending::created_at.gt(since))
            .select((
                sso_pending::provider,
                sso_pending::nonce,
                sso_pending::verifier,
                sso_pending::next,
            ))
            .first(c)
            .optional()?;
        diesel::delete(sso_pending::table.find(&id)).execute(c)?;
        Ok::<_, AppError>(found)
    })?;
    match found {
        Some((p, nonce, verifier, next)) if p == provider => Ok(Pending {
            provider: p,
            nonce,
            verifier,
            next,
        }),
        _ => Err(AppError::forbidden("sso_state_invalid")),
    }
}

/// What a verified identity leads to.
#[derive(Debug)]
pub enum Outcome {
    /// Signed in (the account was found, or made now).
    SignedIn(Box<User>),
    /// An account has this e-mail: its password must be typed to link the
    /// identity to it ([`link`]), with this token.
    Link { token: String, username: String },
}

/// Signs in the person the provider vouched for: see the module's doc.
pub fn sign_in(c: &mut DbConn, p: &SsoProvider, claims: &Claims) -> AppResult<Outcome> {
    if claims.subject.is_empty() {
        return Err(AppError::forbidden("sso_token_invalid"));
    }
    if claims.email.is_empty() {
        return Err(AppError::forbidden("sso_email_missing").with("provider", &p.name));
    }
    let domain = claims.email.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
    if !p.allowed_domains.is_empty()
        && !p.allowed_domains.iter().any(|d| {
            d.trim()
                .trim_start_matches('@')
                .eq_ignore_ascii_case(domain)
        })
    {
        return Err(AppError::forbidden("sso_domain_refused").with("domain", domain));
    }
    let now = now();
    db::write(c, |c| {
        let linked: Option<i64> = sso_identities::table
            .filter(sso_identities::provider.eq(&p.id))
            .filter(sso_identities::subject.eq(&claims.subject))
            .select(sso_identities::user_id)
            .first(c)
            .optional()?;
        if let Some(id) = linked {
            let user: User = users::table.find(id).select(User::as_select()).first(c)?;
            if user.disabled || user.deleted_at.is_some() {
                return Err(AppError::forbidden("account_disabled"));
            }
            diesel::update(
                sso_identities::table
                    .filter(sso_identities::provider.eq(&p.id))
                    .filter(sso_identities::subject.eq(&claims.subject)),
            )
            .set(sso_identities::last_login_at.eq(now))
            .execute(c)?;
            return refresh(c, p, &user, claims).map(|u| Outcome::SignedIn(Box::new(u)));
        }
        let existing: Option<User> = users::table
            .filter(users::email.eq(&claims.email))
            .filter(users::domain.is_null())
            .select(User::as_select())
            .first(c)
            .optional()?;
        if let Some(user) = existing {
            if user.disabled || user.deleted_at.is_some() {
                return Err(AppError::forbidden("account_disabled"));
            }
            if !claims.email_verified {
                return Err(AppError::forbidden("sso_email_unverified").with("provider", &p.name));
            }
            if user.password_hash.starts_with('!') {
                let linked: i64 = sso_identities::table
                    .filter(sso_identities::user_id.eq(user.id))
                    .count()
                    .get_result(c)?;
                if linked > 0 {
                    // Made by another provider: it signs in there.
                    return Err(AppError::conflict("sso_linked_elsewhere"));
                }
                // Made by the directory (SCIM) and never signed in: there
                // is no password to ask, and the provider vouches for the
                // address the directory gave it.
                link_identity(c, user.id, &p.id, &claims.subject)?;
                return refresh(c, p, &user, claims).map(|u| Outcome::SignedIn(Box::new(u)));
            }
            let token = secrets::random_token();
            diesel::insert_into(sso_pending::table)
                .values((
                    sso_pending::id.eq(secrets::digest(&token)),
                    sso_pending::provider.eq(&p.id),
                    sso_pending::kind.eq("link"),
                    sso_pending::user_id.eq(user.id),
                    sso_pending::claims
                        .eq(serde_json::to_string(claims).map_err(AppError::internal)?),
                    sso_pending::created_at.eq(now),
                ))
                .execute(c)?;
            return Ok(Outcome::Link {
                token,
                username: user.username,
            });
        }
        let username = free_username(c, claims)?;
        let is_admin = !p.admin_group.is_empty() && claims.groups.contains(&p.admin_group);
        let id: i64 = diesel::insert_into(users::table)
            .values((
                users::username.eq(&username),
                users::email.eq(&claims.email),
                // No password: this account signs in at its provider (a
                // password link may give it one, where the provider allows).
                users::password_hash.eq("!"),
                users::is_admin.eq(is_admin),
                users::created_at.eq(now),
            ))
            .returning(users::id)
            .get_result(c)?;
        link_identity(c, id, &p.id, &claims.subject)?;
        let user: User = users::table.find(id).select(User::as_select()).first(c)?;
        let user = refresh(c, p, &user, claims)?;
        crate::index::actor(c, id)?;
        Ok(Outcome::SignedIn(Box::new(user)))
    })
}

/// Links the identity `subject` of `provider` to the account `user_id`.
fn link_identity(c: &mut DbConn, user_id: i64, provider: &str, subject: &str) -> QueryResult<()> {
    let now = now();
    diesel::insert_into(sso_identities::table)
        .values((
            sso_identities::user_id.eq(user_id),
            sso_identities::provider.eq(provider),
            sso_identities::subject.eq(subject),
            sso_identities::created_at.eq(now),
            sso_identities::last_login_at.eq(now),
        ))
        .execute(c)?;
    Ok(())
}

/// A username for a new account: the provider's, or the e-mail's local
/// part ([`super::free_username`]).
fn free_username(c: &mut DbConn, claims: &Claims) -> AppResult<String> {
    let wanted = if claims.username.is_empty() {
        &claims.email
    } else {
        &claims.username
    };
    super::free_username(c, wanted)
}

/// Sets the fields the provider fills, inside the caller's transaction.
fn refresh(c: &mut DbConn, p: &SsoProvider, user: &User, claims: &Claims) -> AppResult<User> {
    super::from_directory(
        c,
        user,
        &super::Directory {
            // An address the provider does not say is verified is not
            // taken (it could be someone else's, to be adopted later).
            email: claims.email_verified.then(|| claims.email.clone()),
            name: claims.name.clone(),
            department: claims.department.clone(),
            job_title: claims.job_title.clone(),
            site: claims.site.clone(),
            admin: (!p.admin_group.is_empty()).then(|| claims.groups.contains(&p.admin_group)),
        },
    )
}

/// The account a link token waits for, and its provider (for the page
/// that asks for the password).
pub fn link_waiting(c: &mut DbConn, token: &str) -> AppResult<(String, String)> {
    let since = now() - Duration::minutes(PENDING_MINUTES);
    sso_pending::table
        .inner_join(users::table.on(users::id.nullable().eq(sso_pending::user_id)))
        .filter(sso_pending::id.eq(secrets::digest(token)))
        .filter(sso_pending::kind.eq("link"))
        .filter(sso_pending::created_at.gt(since))
        .select((users::username, sso_pending::provider))
        .first(c)
        .optional()?
        .ok_or_else(|| AppError::forbidden("sso_state_invalid"))
}

/// Links the identity waiting under `token` to its account once that
/// account's password is right (checked by [`super::authenticate`], which
/// counts failures as any sign-in), and signs it in.
pub fn link(
    c: &mut DbConn,
    cfg: &AccountsConfig,
    token: &str,
    password: &str,
    ip: &str,
) -> AppResult<User> {
    let (username, provider) = link_waiting(c, token)?;
    let p = cfg
        .sso_provider(&provider)
        .ok_or_else(|| AppError::forbidden("sso_state_invalid"))?;
    let user = super::authenticate_password(c, cfg, &username, password, ip)?;
    if super::second_factor::is_on(c, user.id)? {
        // The password alone must not open it (nor link a way in that
        // skips the code): its owner signs in with the code first.
        return Err(AppError::forbidden("sso_link_second_step"));
    }
    let id = secrets::digest(token);
    db::write(c, |c| {
        let claims: Option<String> = sso_pending::table
            .find(&id)
            .filter(sso_pending::kind.eq("link"))
            .select(sso_pending::claims)
            .first(c)
            .optional()?;
        diesel::delete(sso_pending::table.find(&id)).execute(c)?;
        let claims: Claims = claims
            .and_then(|s| serde_json::from_str(&s).ok())
            .ok_or_else(|| AppError::forbidden("sso_state_invalid"))?;
        link_identity(c, user.id, &p.id, &claims.subject)?;
        refresh(c, p, &user, &claims)
    })
}

/// The providers an account is linked to.
pub fn providers_of(c: &mut DbConn, user_id: i64) -> AppResult<Vec<String>> {
    Ok(sso_identities::table
        .filter(sso_identities::user_id.eq(user_id))
        .order(sso_identities::id.asc())
        .select(sso_identities::provider)
        .load(c)?)
}

/// A configured provider as administrators see it: how many accounts are
/// linked to it and its last sign-in.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProviderStatus {
    pub id: String,
    pub name: String,
    pub issuer: String,
    /// Whether its people may also sign in with a password of this site.
    pub passwords: bool,
    pub linked: i64,
    #[serde(serialize_with = "crate::db::utc::option")]
    pub last_sign_in: Option<chrono::NaiveDateTime>,
}

/// Every configured provider, in the configuration's order.
pub fn providers_status(c: &mut DbConn, cfg: &AccountsConfig) -> AppResult<Vec<ProviderStatus>> {
    let stats: Vec<(String, i64, Option<chrono::NaiveDateTime>)> = sso_identities::table
        .group_by(sso_identities::provider)
        .select((
            sso_identities::provider,
            diesel::dsl::count_star(),
            diesel::dsl::max(sso_identities::last_login_at),
        ))
        .load(c)?;
    Ok(cfg
        .sso
        .iter()
        .map(|p| {
            let found = stats.iter().find(|(id, _, _)| *id == p.id);
            ProviderStatus {
                id: p.id.clone(),
                name: p.name.clone(),
                issuer: p.issuer.clone(),
                passwords: p.passwords,
                linked: found.map_or(0, |f| f.1),
                last_sign_in: found.and_then(|f| f.2),
            }
        })
        .collect())
}

/// Refuses a password sign-in of an account linked to a provider that
/// does not allow them (`passwords = false`).
pub fn password_allowed(c: &mut DbConn, cfg: &AccountsConfig, user_id: i64) -> AppResult<()> {
    if cfg.sso.iter().all(|p| p.passwords) {
        return Ok(());
    }
    for id in providers_of(c, user_id)? {
        if let Some(p) = cfg.sso_provider(&id).filter(|p| !p.passwords) {
            return Err(AppError::forbidden("sso_password_off").with("provider", &p.name));
        }
    }
    Ok(())
}

/// A session opened through a provider keeps it and the ID token, to sign
/// out there too.
pub fn mark_session(
    c: &mut DbConn,
    session_token: &str,
    provider: &str,
    id_token: &str,
) -> AppResult<()> {
    db::write(c, |c| {
        diesel::update(sessions::table.find(secrets::digest(session_token)))
            .set((
                sessions::sso_provider.eq(Some(provider)),
                sessions::id_token.eq(Some(id_token)),
            ))
            .execute(c)
    })?;
    Ok(())
}

/// The provider and ID token a session was opened with.
pub fn session_provider(
    c: &mut DbConn,
    session_token: &str,
) -> AppResult<Option<(String, String)>> {
    let found: Option<(Option<String>, Option<String>)> = sessions::table
        .find(secrets::digest(session_token))
        .select((sessions::sso_provider, sessions::id_token))
        .first(c)
        .optional()?;
    Ok(match found {
        Some((Some(p), Some(t))) => Some((p, t)),
        _ => None,
    })
}
