//! Passkeys (WebAuthn, with `webauthn-rs`): a phone, a laptop's fingerprint
//! reader or a security key that signs people in without a password, or
//! serves as the second step after one.
//!
//! - **Adding or removing one** asks the account's password (a stolen
//!   session must not leave itself a way back in). An account without a
//!   password of this site (it signs in through the company's provider or
//!   directory) proves it with a sign-in of the last [`FRESH_MINUTES`]
//!   instead. Where a provider does not let its people use passwords here
//!   (`passwords = false`), it does not let them use passkeys either.
//! - **The company still decides** for those accounts: their passkey signs
//!   in only while the company vouches for them ([`vouched`]: a sign-in
//!   through it, or the directory's sync listing them, within
//!   `accounts.session_days`, or a SCIM client keeping them), so that a
//!   passkey never outlives a leaver's departure longer than a session
//!   would.
//! - **Signing in** with one needs no user name: the browser offers the
//!   passkeys it holds for this site (a *discoverable* credential, asked
//!   for as `residentKey: preferred`), and the authenticator checks its
//!   owner (fingerprint, face or PIN: user verification is required). A
//!   disabled, deleted or expired account is refused as a wrong passkey.
//! - **As the second step**: an account with a passkey has its second
//!   step on ([`super::second_factor::is_on`]); a password sign-in then
//!   waits for the passkey (or the app's code, or a recovery code). Adding
//!   the first passkey to an account without a second step gives it
//!   recovery codes, shown once.
//! - **Ceremonies** (the challenge webauthn-rs must find again) are stored,
//!   not kept in memory, so that any of several Ruche processes finishes
//!   what another began: under the digest of a token the page holds, for
//!   [`CEREMONY_MINUTES`], used once, at most [`PENDING_PER_ADDRESS`] per
//!   address. This is what webauthn-rs's `danger-allow-state-serialisation`
//!   is for; the state never leaves the server.
//! - The signature counter is kept; a counter that goes backwards (a
//!   cloned authenticator) is refused by webauthn-rs.
//!
//! Browsers offer passkeys only to a site named by a host (`https://`, or
//! `http://localhost`): with an IP address in `base_url`, or
//! `accounts.passkeys = false`, there are none ([`available`]).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Uuid, Webauthn,
    WebauthnBuilder,
};

use super::{guest, second_factor, secrets, User};
use crate::config::Config;
use crate::db::schema::{passkey_ceremonies, passkeys, users};
use crate::db::{self, now, DbConn};
use crate::error::{refuse_nul, AppError, AppResult};

/// How long a ceremony waits for the authenticator.
pub const CEREMONY_MINUTES: i64 = 5;
/// Ceremonies one address may leave waiting.
pub const PENDING_PER_ADDRESS: i64 = 60;
/// How recent a sign-in must be for an account without a password of
/// this site to add or remove a passkey.
pub const FRESH_MINUTES: i64 = 10;
/// Passkeys one account may have.
pub const MAX_PER_ACCOUNT: i64 = 20;
/// The longest name of a passkey.
pub const MAX_NAME: usize = 60;

const REGISTER: &str = "register";
const SIGN_IN: &str = "sign_in";
const STEP: &str = "step";

/// The relying party: this site, named by the host of `base_url`.
fn relying_party(cfg: &Config) -> AppResult<Webauthn> {
    if !cfg.accounts.passkeys {
        return Err(AppError::forbidden("passkeys_off"));
    }
    let origin = url::Url::parse(cfg.base()).map_err(AppError::internal)?;
    let host = match origin.host() {
        Some(url::Host::Domain(host)) => host.to_string(),
        _ => return Err(AppError::forbidden("passkeys_off")),
    };
    WebauthnBuilder::new(&host, &origin)
        .map(|b| b.timeout(std::time::Duration::from_secs(60 * CEREMONY_MINUTES as u64)))
        .and_then(|b| b.build())
        .map_err(|_| AppError::forbidden("passkeys_off"))
}

/// Whether this site offers passkeys.
pub fn available(cfg: &Config) -> bool {
    relying_party(cfg).is_ok()
}

/// What proves that the owner adds or removes a passkey: the account's
/// password, or, for one without a password of this site, the session of
/// a recent sign-in (the pages' cookie; the API has none).
#[derive(Debug, Clone, Copy)]
pub struct Proof<'a> {
    pub password: &'a str,
    pub session: Option<&'a str>,
}

/// What the page hands to the browser's `navigator.credentials`: the
/// options (`publicKey`, as WebAuthn's JSON) and the ceremony's token,
/// which it sends back with the answer.
#[derive(Debug, Serialize)]
pub struct Challenge {
    pub ceremony: String,
    pub options: serde_json::Value,
}

/// A passkey as the settings page lists it.
#[derive(Debug, Clone, Queryable, Serialize)]
pub struct PasskeyView {
    pub id: i64,
    pub name: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
}

/// The account's passkeys, oldest first.
pub fn list(c: &mut DbConn, user_id: i64) -> AppResult<Vec<PasskeyView>> {
    Ok(passkeys::table
        .filter(passkeys::user_id.eq(user_id))
        .order(passkeys::id.asc())
        .select((
            passkeys::id,
            passkeys::name,
            passkeys::created_at,
            passkeys::last_used_at,
        ))
        .load(c)?)
}

/// How many passkeys the account has.
pub fn count(c: &mut DbConn, user_id: i64) -> AppResult<i64> {
    Ok(passkeys::table
        .filter(passkeys::user_id.eq(user_id))
        .count()
        .get_result(c)?)
}

fn key_of(id: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(id)
}

fn json_of<T: Serialize>(value: &T) -> AppResult<String> {
    serde_json::to_string(value).map_err(AppError::internal)
}

/// Stores a ceremony under a new token (at most [`PENDING_PER_ADDRESS`]
/// waiting per address).
fn begin<T: Serialize>(
    c: &mut DbConn,
    purpose: &str,
    user_id: Option<i64>,
    state: &T,
    ip: &str,
) -> AppResult<String> {
    let token = secrets::random_token();
    let state = json_of(state)?;
    let now = now();
    let since = now - Duration::minutes(CEREMONY_MINUTES);
    db::write(c, |c| {
        diesel::delete(passkey_ceremonies::table.filter(passkey_ceremonies::created_at.lt(since)))
            .execute(c)?;
        let waiting: i64 = passkey_ceremonies::table
            .filter(passkey_ceremonies::ip.eq(ip))
            .count()
            .get_result(c)?;
        if waiting >= PENDING_PER_ADDRESS {
            return Err(AppError::new(
                crate::error::ErrorKind::RateLimited,
                "passkey_too_many",
            ));
        }
        diesel::insert_into(passkey_ceremonies::table)
            .values((
                passkey_ceremonies::id.eq(secrets::digest(&token)),
                passkey_ceremonies::purpose.eq(purpose),
                passkey_ceremonies::user_id.eq(user_id),
                passkey_ceremonies::state.eq(&state),
                passkey_ceremonies::ip.eq(ip),
                passkey_ceremonies::created_at.eq(now),
            ))
            .execute(c)?;
        Ok(())
    })?;
    Ok(token)
}

/// Takes (uses up) the ceremony of `token` if it is of `purpose`, for
/// `user_id`, and not too old; its state. Anything else is
/// `passkey_expired`.
fn take<T: serde::de::DeserializeOwned>(
    c: &mut DbConn,
    token: &str,
    purpose: &str,
    user_id: Option<i64>,
) -> AppResult<T> {
    let id = secrets::digest(token);
    let since = now() - Duration::minutes(CEREMONY_MINUTES);
    let found: Option<(String, Option<i64>, String, NaiveDateTime)> = db::write(c, |c| {
        let found = passkey_ceremonies::table
            .find(&id)
            .select((
                passkey_ceremonies::purpose,
                passkey_ceremonies::user_id,
                passkey_ceremonies::state,
                passkey_ceremonies::created_at,
            ))
            .first(c)
            .optional()?;
        diesel::delete(passkey_ceremonies::table.find(&id)).execute(c)?;
        Ok::<_, AppError>(found)
    })?;
    match found {
        Some((p, u, state, at)) if p == purpose && u == user_id && at > since => {
            serde_json::from_str(&state).map_err(AppError::internal)
        }
        _ => Err(AppError::bad_request("passkey_expired")),
    }
}

fn options_of<T: Serialize>(value: &T) -> AppResult<serde_json::Value> {
    let mut v = serde_json::to_value(value).map_err(AppError::internal)?;
    // The page calls the browser itself: the options alone.
    Ok(v.get_mut("publicKey")
        .map(serde_json::Value::take)
        .unwrap_or(v))
}

/// Whether the account has a password of this site (those who sign in
/// through the company's provider or directory have none).
fn has_password(user: &User) -> bool {
    !user.password_hash.starts_with('!')
}

/// What proves that the account's owner adds or removes a passkey (a
/// stolen session must not leave itself a way back in): the password of
/// this site, or, for an account that has none, a sign-in (through the
/// company's provider or directory) of the last [`FRESH_MINUTES`], the
/// session `session` being that sign-in's.
fn confirm(
    c: &mut DbConn,
    cfg: &Config,
    user: &User,
    password: &str,
    session: Option<&str>,
    ip: &str,
) -> AppResult<()> {
    if has_password(user) {
        return check_password(c, cfg, user, password, ip);
    }
    let began = match session {
        Some(token) => super::session::session_began(c, token, user.id)?,
        None => None,
    };
    match began {
        Some(at) if at > now() - Duration::minutes(FRESH_MINUTES) => Ok(()),
        _ => Err(AppError::forbidden("passkey_sign_in_again").with("minutes", FRESH_MINUTES)),
    }
}

/// Whether the company still vouches for an account without a password of
/// this site, whose passkey would otherwise outlive its leaving when
/// nothing tells this site: it signed in through the provider or the
/// directory, or the directory's sync listed it, within the last
/// `accounts.session_days` (no longer than a session of that sign-in
/// lasts); or a SCIM client keeps it (the client tells this site of
/// leavers).
fn vouched(c: &mut DbConn, cfg: &Config, user: &User) -> AppResult<bool> {
    use crate::db::schema::{directory_users, scim_clients, scim_users, sso_identities};
    if has_password(user) {
        return Ok(true);
    }
    let since = now() - Duration::days(i64::from(cfg.accounts.session_days));
    let provider: i64 = sso_identities::table
        .filter(sso_identities::user_id.eq(user.id))
        .filter(sso_identities::last_login_at.gt(since))
        .count()
        .get_result(c)?;
    let directory: i64 = directory_users::table
        .filter(directory_users::user_id.eq(user.id))
        .filter(directory_users::disabled_by_sync.eq(false))
        .filter(directory_users::synced_at.gt(since))
        .count()
        .get_result(c)?;
    let scim: i64 = scim_users::table
        .inner_join(scim_clients::table.on(scim_clients::id.eq(scim_users::client_id)))
        .filter(scim_users::user_id.eq(user.id))
        .filter(scim_users::disabled_by_scim.eq(false))
        .filter(scim_clients::revoked_at.is_null())
        .count()
        .get_result(c)?;
    Ok(provider + directory + scim > 0)
}

/// How the settings offer to add a passkey to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// Not at all: the site has no passkeys, or the company's provider
    /// keeps its people to its own sign-in.
    No,
    /// With the account's password.
    WithPassword,
    /// Now, without a password: the account has none and signed in within
    /// [`FRESH_MINUTES`].
    Now,
    /// After signing in again through the company.
    SignInAgain,
}

/// How the settings offer to add a passkey to `user`, whose page is read
/// in the session `session`.
pub fn offer(c: &mut DbConn, cfg: &Config, user: &User, session: Option<&str>) -> AppResult<Offer> {
    if !available(cfg) || super::sso::password_allowed(c, &cfg.accounts, user.id).is_err() {
        return Ok(Offer::No);
    }
    if has_password(user) {
        return Ok(Offer::WithPassword);
    }
    Ok(match confirm(c, cfg, user, "", session, "") {
        Ok(()) => Offer::Now,
        Err(_) => Offer::SignInAgain,
    })
}

/// Asks the account's password (failures count as failed sign-ins).
fn check_password(
    c: &mut DbConn,
    cfg: &Config,
    user: &User,
    password: &str,
    ip: &str,
) -> AppResult<()> {
    let ok = super::limited_attempt(c, &cfg.accounts, &user.username, ip, |_| {
        Ok(secrets::verify_password(password, &user.password_hash))
    })?;
    if ok {
        Ok(())
    } else {
        Err(AppError::forbidden("current_password_wrong"))
    }
}

/// The stored passkeys of an account, with their row ids.
fn stored(c: &mut DbConn, user_id: i64) -> AppResult<Vec<(i64, String, Passkey)>> {
    let rows: Vec<(i64, String, String)> = passkeys::table
        .filter(passkeys::user_id.eq(user_id))
        .select((passkeys::id, passkeys::user_handle, passkeys::passkey))
        .load(c)?;
    rows.into_iter()
        .map(|(id, handle, json)| {
            let key: Passkey = serde_json::from_str(&json).map_err(AppError::internal)?;
            Ok((id, handle, key))
        })
        .collect()
}

/// Starts adding a passkey to `user`'s account (its password is asked).
pub fn begin_registration(
    c: &mut DbConn,
    cfg: &Config,
    user: &User,
    proof: Proof<'_>,
    ip: &str,
) -> AppResult<Challenge> {
    let rp = relying_party(cfg)?;
    // Where the company's provider took passwords away, passkeys too.
    super::sso::password_allowed(c, &cfg.accounts, user.id)?;
    confirm(c, cfg, user, proof.password, proof.session, ip)?;
    let existing = stored(c, user.id)?;
    if existing.len() as i64 >= MAX_PER_ACCOUNT {
        return Err(AppError::conflict("passkey_too_many_keys").with("n", MAX_PER_ACCOUNT));
    }
    // One handle per account, so that the browser shows one person.
    let handle = existing
        .first()
        .and_then(|(_, h, _)| Uuid::parse_str(h).ok())
        .unwrap_or_else(Uuid::new_v4);
    let exclude = existing
        .iter()
        .map(|(_, _, k)| k.cred_id().clone())
        .collect::<Vec<_>>();
    let (options, state) = rp
        .start_passkey_registration(handle, &user.username, user.shown_name(), Some(exclude))
        .map_err(AppError::internal)?;
    let mut options = options_of(&options)?;
    // Discoverable where the authenticator can, so that signing in needs
    // no user name (webauthn-rs asks "discouraged", and does not check it
    // on return).
    options["authenticatorSelection"]["residentKey"] = "preferred".into();
    options["authenticatorSelection"]["requireResidentKey"] = false.into();
    let ceremony = begin(c, REGISTER, Some(user.id), &(handle, state), ip)?;
    Ok(Challenge { ceremony, options })
}

/// A passkey's name as given: trimmed, at most [`MAX_NAME`] characters;
/// empty gives "Passkey" and the date.
fn name_of(name: &str) -> AppResult<String> {
    refuse_nul("name", name)?;
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.chars().count() > MAX_NAME {
        return Err(AppError::bad_request("passkey_name_too_long").with("max", MAX_NAME));
    }
    if name.is_empty() {
        return Ok(format!("Passkey {}", now().format("%Y-%m-%d")));
    }
    Ok(name)
}

/// Finishes adding a passkey with the authenticator's answer; the new
/// recovery codes when it turned the second step on (shown once).
pub fn finish_registration(
    c: &mut DbConn,
    cfg: &Config,
    user: &User,
    ceremony: &str,
    credential: &RegisterPublicKeyCredential,
    name: &str,
) -> AppResult<Option<Vec<String>>> {
    let rp = relying_party(cfg)?;
    let name = name_of(name)?;
    let (handle, state): (Uuid, PasskeyRegistration) = take(c, ceremony, REGISTER, Some(user.id))?;
    let key = rp
        .finish_passkey_registration(credential, &state)
        .map_err(|e| {
            tracing::info!(user = user.id, "passkey not added: {e}");
            AppError::bad_request("passkey_refused")
        })?;
    let credential_id = key_of(key.cred_id().as_ref());
    let json = json_of(&key)?;
    db::write(c, |c| {
        let known: i64 = passkeys::table
            .filter(passkeys::credential_id.eq(&credential_id))
            .count()
            .get_result(c)?;
        if known > 0 {
            return Err(AppError::conflict("passkey_known"));
        }
        // Several ceremonies begun at once do not add up past the limit.
        if count(c, user.id)? >= MAX_PER_ACCOUNT {
            return Err(AppError::conflict("passkey_too_many_keys").with("n", MAX_PER_ACCOUNT));
        }
        // Recovery codes complete a password sign-in: an account that has
        // none (the company's provider only) gets none.
        let was_on = second_factor::is_on(c, user.id)?
            || (!has_password(user) && !super::directory::managed(c, user.id)?);
        diesel::insert_into(passkeys::table)
            .values((
                passkeys::user_id.eq(user.id),
                passkeys::user_handle.eq(handle.to_string()),
                passkeys::credential_id.eq(&credential_id),
                passkeys::name.eq(&name),
                passkeys::passkey.eq(&json),
                passkeys::created_at.eq(now()),
            ))
            .execute(c)?;
        if was_on {
            Ok(None)
        } else {
            second_factor::new_recovery_codes(c, user.id).map(Some)
        }
    })
}

/// Renames one of `user`'s passkeys.
pub fn rename(c: &mut DbConn, user: &User, id: i64, name: &str) -> AppResult<()> {
    let name = name_of(name)?;
    let n = db::write(c, |c| {
        diesel::update(
            passkeys::table
                .find(id)
                .filter(passkeys::user_id.eq(user.id)),
        )
        .set(passkeys::name.eq(&name))
        .execute(c)
    })?;
    if n == 1 {
        Ok(())
    } else {
        Err(AppError::not_found())
    }
}

/// Removes one of `user`'s passkeys (the password, or a fresh sign-in,
/// is asked). With the last one, and no authenticator app, the second step
/// is off and the recovery codes go.
pub fn remove(
    c: &mut DbConn,
    cfg: &Config,
    user: &User,
    id: i64,
    proof: Proof<'_>,
    ip: &str,
) -> AppResult<()> {
    let mine: i64 = passkeys::table
        .find(id)
        .filter(passkeys::user_id.eq(user.id))
        .count()
        .get_result(c)?;
    if mine == 0 {
        return Err(AppError::not_found());
    }
    confirm(c, cfg, user, proof.password, proof.session, ip)?;
    db::write(c, |c| {
        diesel::delete(passkeys::table.find(id)).execute(c)?;
        if !second_factor::is_on(c, user.id)? {
            use crate::db::schema::recovery_codes;
            diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user.id)))
                .execute(c)?;
        }
        Ok(())
    })
}

/// Starts a sign-in with a passkey: the browser offers those it holds.
pub fn begin_sign_in(c: &mut DbConn, cfg: &Config, ip: &str) -> AppResult<Challenge> {
    let rp = relying_party(cfg)?;
    let (options, state) = rp
        .start_discoverable_authentication()
        .map_err(AppError::internal)?;
    let ceremony = begin(c, SIGN_IN, None, &state, ip)?;
    Ok(Challenge {
        ceremony,
        options: options_of(&options)?,
    })
}

/// Verifies an authenticator's answer against `key` and keeps its counter
/// and the time of use.
fn verified(
    c: &mut DbConn,
    row: i64,
    mut key: Passkey,
    check: impl FnOnce(&Passkey) -> Result<webauthn_rs::prelude::AuthenticationResult, String>,
) -> AppResult<()> {
    let result = check(&key).map_err(|e| {
        tracing::info!(passkey = row, "passkey refused: {e}");
        AppError::unauthorized("passkey_refused")
    })?;
    // Against the key as stored now, not the copy a ceremony took when it
    // began: a counter that did not go up is a cloned authenticator.
    let stored = serde_json::to_value(&key).map_err(AppError::internal)?["cred"]["counter"]
        .as_u64()
        .unwrap_or(0);
    let counter = u64::from(result.counter());
    if (counter > 0 || stored > 0) && counter <= stored {
        tracing::info!(
            passkey = row,
            counter,
            stored,
            "passkey refused: its counter went back"
        );
        return Err(AppError::unauthorized("passkey_refused"));
    }
    key.update_credential(&result);
    let json = json_of(&key)?;
    db::write(c, |c| {
        diesel::update(passkeys::table.find(row))
            .set((
                passkeys::passkey.eq(&json),
                passkeys::last_used_at.eq(Some(now())),
            ))
            .execute(c)
    })?;
    Ok(())
}

/// Finishes a sign-in with a passkey: the account it belongs to, if that
/// account may sign in. A passkey this site does not know, of a disabled
/// or deleted account, or a wrong answer: `passkey_refused`, alike.
pub fn finish_sign_in(
    c: &mut DbConn,
    cfg: &Config,
    ceremony: &str,
    credential: &PublicKeyCredential,
) -> AppResult<User> {
    let rp = relying_party(cfg)?;
    let state: DiscoverableAuthentication = take(c, ceremony, SIGN_IN, None)?;
    let refused = || AppError::unauthorized("passkey_refused");
    let (handle, cred_id) = rp
        .identify_discoverable_authentication(credential)
        .map_err(|_| refused())?;
    let found: Option<(i64, String, User)> = passkeys::table
        .inner_join(users::table.on(users::id.eq(passkeys::user_id)))
        .filter(passkeys::credential_id.eq(key_of(cred_id)))
        .filter(passkeys::user_handle.eq(handle.to_string()))
        .filter(users::disabled.eq(false))
        .filter(users::deleted_at.is_null())
        .filter(users::domain.is_null())
        .select((passkeys::id, passkeys::passkey, User::as_select()))
        .first(c)
        .optional()?;
    let Some((row, json, user)) = found else {
        return Err(refused());
    };
    let key: Passkey = serde_json::from_str(&json).map_err(AppError::internal)?;
    verified(c, row, key, |k| {
        rp.finish_discoverable_authentication(credential, state, &[DiscoverableKey::from(k)])
            .map_err(|e| e.to_string())
    })?;
    // Where the company's provider took passwords away, passkeys too.
    super::sso::password_allowed(c, &cfg.accounts, user.id)?;
    guest::check_open(c, user.id)?;
    if !vouched(c, cfg, &user)? {
        return Err(
            AppError::forbidden("passkey_company_again").with("days", cfg.accounts.session_days)
        );
    }
    Ok(user)
}

/// Starts the second step of a password sign-in (waiting under
/// `step_token`) with one of the account's passkeys.
pub fn begin_step(
    c: &mut DbConn,
    cfg: &Config,
    step_token: &str,
    ip: &str,
) -> AppResult<Challenge> {
    let rp = relying_party(cfg)?;
    let (user, _) = second_factor::waiting(c, step_token)?;
    let keys: Vec<Passkey> = stored(c, user.id)?.into_iter().map(|(_, _, k)| k).collect();
    if keys.is_empty() {
        return Err(AppError::bad_request("passkey_none"));
    }
    let (options, state) = rp
        .start_passkey_authentication(&keys)
        .map_err(AppError::internal)?;
    let ceremony = begin(c, STEP, Some(user.id), &state, ip)?;
    Ok(Challenge {
        ceremony,
        options: options_of(&options)?,
    })
}

/// Completes a password sign-in waiting under `step_token` with one of
/// the account's passkeys; the account and the page to go to.
pub fn finish_step(
    c: &mut DbConn,
    cfg: &Config,
    step_token: &str,
    ceremony: &str,
    credential: &PublicKeyCredential,
) -> AppResult<(User, String)> {
    let rp = relying_party(cfg)?;
    let (user, next) = second_factor::waiting(c, step_token)?;
    let state: PasskeyAuthentication = take(c, ceremony, STEP, Some(user.id))?;
    let used = key_of(credential.get_credential_id());
    let found: Option<(i64, String)> = passkeys::table
        .filter(passkeys::user_id.eq(user.id))
        .filter(passkeys::credential_id.eq(&used))
        .select((passkeys::id, passkeys::passkey))
        .first(c)
        .optional()?;
    let Some((row, json)) = found else {
        return Err(AppError::unauthorized("passkey_refused"));
    };
    let key: Passkey = serde_json::from_str(&json).map_err(AppError::internal)?;
    verified(c, row, key, |_| {
        rp.finish_passkey_authentication(credential, &state)
            .map_err(|e| e.to_string())
    })?;
    second_factor::end_step(c, step_token)?;
    Ok((user, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_tidied_bounded_and_never_empty() {
        assert_eq!(name_of("  Work   laptop ").unwrap(), "Work laptop");
        assert!(name_of("").unwrap().starts_with("Passkey 20"));
        let long = "é".repeat(MAX_NAME + 1);
        assert_eq!(name_of(&long).unwrap_err().code, "passkey_name_too_long");
        assert!(name_of("a\0b").is_err());
    }

    #[test]
    fn only_a_site_named_by_a_host_has_passkeys() {
        let mut cfg = Config::load_from(None, &[]).unwrap();
        cfg.base_url = "https://ruche.example.com".into();
        assert!(available(&cfg));
        cfg.base_url = "http://localhost:8080".into();
        assert!(available(&cfg));
        cfg.base_url = "http://127.0.0.1:8080".into();
        assert!(!available(&cfg));
        cfg.base_url = "http://[::1]:8080".into();
        assert!(!available(&cfg));
        cfg.base_url = "https://ruche.example.com".into();
        cfg.accounts.passkeys = false;
        assert!(!available(&cfg));
    }
}
