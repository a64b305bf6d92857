//! Two-step sign-in for local passwords: a code from an authenticator app
//! (TOTP, RFC 6238 with `totp-rs`: 6 digits every 30 seconds, SHA-1, what
//! every app reads), or one of ten single-use recovery codes.
//!
//! - Turning it on takes a code from the app, so that nobody is locked out
//!   by a secret their app never got; the recovery codes are then shown
//!   once and stored as digests.
//! - A code is accepted once (the step it belongs to is kept), within one
//!   step of the clock either way; wrong codes count as failed sign-ins of
//!   the account ([`super::limited_attempt`]).
//! - A password sign-in of an account with the second step on opens no
//!   session: it leaves a step waiting ([`begin_step`], 10 minutes, bound
//!   to the browser by a cookie) that only a right code completes.
//! - Sign-in through the company's identity provider asks nothing more:
//!   the provider has its own second factors.

use chrono::Duration;
use diesel::prelude::*;
use rand::RngCore;
use totp_rs::{Algorithm, Builder, Secret, Totp};

use super::{secrets, User};
use crate::config::AccountsConfig;
use crate::db::schema::{login_steps, recovery_codes, second_factors, users};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult};

/// Recovery codes given when the second step is turned on.
pub const RECOVERY_CODES: usize = 10;
/// How long a password sign-in waits for its second step.
pub const STEP_MINUTES: i64 = 10;

fn totp(secret: &str, issuer: &str, account: &str) -> AppResult<Totp> {
    let bytes = Secret::try_from_base32(secret).map_err(AppError::internal)?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(bytes)
        .with_issuer(Some(issuer.replace(':', " ")))
        .with_account_name(account.replace(':', " "))
        .build()
        .map_err(AppError::internal)
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What the settings page shows to turn the second step on: the secret
/// (to type), its `otpauth://` address and a QR code of it (PNG, base64).
#[derive(Debug, Clone)]
pub struct Setup {
    pub secret: String,
    pub url: String,
    pub qr_png_base64: String,
}

/// Whether the account's second step is on: its authenticator app, or a
/// passkey ([`super::passkey`]), which a password sign-in then asks for.
pub fn is_on(c: &mut DbConn, user_id: i64) -> AppResult<bool> {
    Ok(app_on(c, user_id)? || super::passkey::count(c, user_id)? > 0)
}

/// Whether the account's authenticator app is on.
pub fn app_on(c: &mut DbConn, user_id: i64) -> AppResult<bool> {
    let n: i64 = second_factors::table
        .filter(second_factors::user_id.eq(user_id))
        .filter(second_factors::enabled_at.is_not_null())
        .count()
        .get_result(c)?;
    Ok(n > 0)
}

/// The recovery codes not used yet.
pub fn codes_left(c: &mut DbConn, user_id: i64) -> AppResult<i64> {
    Ok(recovery_codes::table
        .filter(recovery_codes::user_id.eq(user_id))
        .filter(recovery_codes::used_at.is_null())
        .count()
        .get_result(c)?)
}

fn setup_of(secret: &str, issuer: &str, user: &User) -> AppResult<Setup> {
    let t = totp(secret, issuer, &user.username)?;
    Ok(Setup {
        secret: secret.to_string(),
        url: t.to_url().map_err(AppError::internal)?,
        qr_png_base64: t.to_qr_base64().map_err(AppError::internal)?,
    })
}

/// Starts turning the second step on: a new secret, waiting for a first
/// code ([`enable`]).
pub fn begin_setup(c: &mut DbConn, user: &User, issuer: &str) -> AppResult<Setup> {
    // A password of this site, or of the company's directory.
    if user.password_hash.starts_with('!') && !super::directory::managed(c, user.id)? {
        return Err(AppError::bad_request("second_factor_no_password"));
    }
    if app_on(c, user.id)? {
        return Err(AppError::conflict("second_factor_on"));
    }
    let mut bytes = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = Secret::from(bytes.to_vec()).to_base32();
    db::write(c, |c| {
        diesel::delete(second_factors::table.find(user.id)).execute(c)?;
        diesel::insert_into(second_factors::table)
            .values((
                second_factors::user_id.eq(user.id),
                second_factors::secret.eq(&secret),
                second_factors::created_at.eq(now()),
            ))
            .execute(c)
    })?;
    setup_of(&secret, issuer, user)
}

/// Whether a setup was started and not finished.
pub fn setup_waiting(c: &mut DbConn, user_id: i64) -> AppResult<bool> {
    let n: i64 = second_factors::table
        .filter(second_factors::user_id.eq(user_id))
        .filter(second_factors::enabled_at.is_null())
        .count()
        .get_result(c)?;
    Ok(n > 0)
}

/// The setup started and not finished, to show again.
pub fn pending_setup(c: &mut DbConn, user: &User, issuer: &str) -> AppResult<Option<Setup>> {
    let secret: Option<String> = second_factors::table
        .find(user.id)
        .filter(second_factors::enabled_at.is_null())
        .select(second_factors::secret)
        .first(c)
        .optional()?;
    secret.map(|s| setup_of(&s, issuer, user)).transpose()
}

/// Checks a code of the app against `secret`; the step it belongs to when
/// it is right and newer than `last_step`.
fn step_of(secret: &str, code: &str, last_step: i64) -> AppResult<Option<i64>> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let t = totp(secret, "Ruche", "check")?;
    Ok(t.check(&code, unix_now())
        .map(|s| s as i64)
        .filter(|s| *s > last_step))
}

/// Turns the second step on with a first code from the app; returns the
/// recovery codes, shown once.
pub fn enable(
    c: &mut DbConn,
    cfg: &AccountsConfig,
    user: &User,
    code: &str,
    ip: &str,
) -> AppResult<Vec<String>> {
    let secret: String = second_factors::table
        .find(user.id)
        .filter(second_factors::enabled_at.is_null())
        .select(second_factors::secret)
        .first(c)
        .optional()?
        .ok_or_else(|| AppError::bad_request("second_factor_not_started"))?;
    let key = format!("2fa:{}", user.username);
    let mut step = None;
    let ok = super::limited_attempt(c, cfg, &key, ip, |_| {
        step = step_of(&secret, code, 0)?;
        Ok(step.is_some())
    })?;
    let Some(step) = step.filter(|_| ok) else {
        return Err(AppError::forbidden("code_invalid"));
    };
    db::write(c, |c| {
        diesel::update(second_factors::table.find(user.id))
            .set((
                second_factors::enabled_at.eq(Some(now())),
                second_factors::last_step.eq(step),
            ))
            .execute(c)?;
        new_recovery_codes(c, user.id)
    })
}

/// Replaces the account's recovery codes with new ones, returned to be
/// shown once; inside the caller's write.
pub(super) fn new_recovery_codes(c: &mut DbConn, user_id: i64) -> AppResult<Vec<String>> {
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id))).execute(c)?;
    for code in &codes {
        diesel::insert_into(recovery_codes::table)
            .values((
                recovery_codes::user_id.eq(user_id),
                recovery_codes::code_hash.eq(secrets::digest(&normal(code))),
            ))
            .execute(c)?;
    }
    Ok(codes)
}

/// A recovery code: ten letters and digits in two groups, easy to copy.
fn recovery_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 10];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let chars: String = bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    format!("{}-{}", &chars[..5], &chars[5..])
}

/// A recovery code as typed, compared without case, spaces or dashes.
fn normal(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Turns the authenticator app off; the account's password is asked,
/// within the limits of failed sign-ins. The recovery codes stay while a
/// passkey keeps the second step on.
pub fn disable(
    c: &mut DbConn,
    cfg: &AccountsConfig,
    user: &User,
    password: &str,
    ip: &str,
) -> AppResult<()> {
    let ok = super::limited_attempt(c, cfg, &user.username, ip, |_| {
        Ok(secrets::verify_password(password, &user.password_hash))
    })?;
    if !ok {
        return Err(AppError::forbidden("current_password_wrong"));
    }
    db::write(c, |c| {
        diesel::delete(second_factors::table.find(user.id)).execute(c)?;
        if super::passkey::count(c, user.id)? == 0 {
            diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user.id)))
                .execute(c)?;
        }
        Ok(())
    })
}

/// Checks the second step of `user`: a code of the app (once per step) or
/// an unused recovery code (then used up); with a passkey as the only
/// second step, only a recovery code. Wrong codes count as failed
/// sign-ins.
pub fn check(
    c: &mut DbConn,
    cfg: &AccountsConfig,
    user: &User,
    code: &str,
    ip: &str,
) -> AppResult<()> {
    let found: Option<(String, i64)> = second_factors::table
        .find(user.id)
        .filter(second_factors::enabled_at.is_not_null())
        .select((second_factors::secret, second_factors::last_step))
        .first(c)
        .optional()?;
    if found.is_none() && !is_on(c, user.id)? {
        return Ok(());
    }
    let key = format!("2fa:{}", user.username);
    let ok = super::limited_attempt(c, cfg, &key, ip, |c| {
        let app_step = match &found {
            Some((secret, last_step)) => step_of(secret, code, *last_step)?,
            None => None,
        };
        if let Some(step) = app_step {
            // Taken only if no other sign-in took this step meanwhile.
            let n = db::write(c, |c| {
                diesel::update(
                    second_factors::table
                        .find(user.id)
                        .filter(second_factors::last_step.lt(step)),
                )
                .set(second_factors::last_step.eq(step))
                .execute(c)
            })?;
            return Ok(n == 1);
        }
        let hash = secrets::digest(&normal(code));
        let n = db::write(c, |c| {
            diesel::update(
                recovery_codes::table
                    .filter(recovery_codes::user_id.eq(user.id))
                    .filter(recovery_codes::code_hash.eq(&hash))
                    .filter(recovery_codes::used_at.is_null()),
            )
            .set(recovery_codes::used_at.eq(Some(now())))
            .execute(c)
        })?;
        Ok(n == 1)
    })?;
    if ok {
        Ok(())
    } else {
        Err(AppError::unauthorized("code_invalid"))
    }
}

/// Where administrators must have the second step on
/// (`accounts.admins_need_second_step`), an administrator with a password
/// of this site and without it acts as anyone else until it is on; `true`
/// when their rights were withheld. Those who sign in through the
/// company's provider rely on its factors.
pub fn withhold_admin(c: &mut DbConn, cfg: &AccountsConfig, user: &mut User) -> AppResult<bool> {
    if !cfg.admins_need_second_step || !user.is_admin {
        return Ok(false);
    }
    // Signing in only through the company's provider: its factors count.
    let provider_only = user.password_hash.starts_with('!')
        && !super::sso::providers_of(c, user.id)?.is_empty()
        && !super::directory::managed(c, user.id)?;
    if provider_only {
        return Ok(false);
    }
    if is_on(c, user.id)? {
        return Ok(false);
    }
    user.is_admin = false;
    Ok(true)
}

/// Which of `ids` have the second step on (the app or a passkey), for the
/// administrators' list of accounts.
pub fn on_among(c: &mut DbConn, ids: &[i64]) -> AppResult<std::collections::HashSet<i64>> {
    use crate::db::schema::passkeys;
    let mut on: std::collections::HashSet<i64> = second_factors::table
        .filter(second_factors::user_id.eq_any(ids))
        .filter(second_factors::enabled_at.is_not_null())
        .select(second_factors::user_id)
        .load::<i64>(c)?
        .into_iter()
        .collect();
    on.extend(
        passkeys::table
            .filter(passkeys::user_id.eq_any(ids))
            .select(passkeys::user_id)
            .load::<i64>(c)?,
    );
    Ok(on)
}

/// An administrator turns off someone's second step, for a person who lost
/// their phone or security key and their recovery codes:
/// - the app, every passkey and the recovery codes go;
/// - the person's sessions and waiting sign-ins end (whoever holds them
///   signs in again with the password);
/// - an e-mail tells the person, in case it was not at their request
///   (queued in the same transaction, when the site sends e-mail).
///
/// API tokens stay: a lost phone is not a stolen account (an administrator
/// who fears one disables the account instead, which revokes them).
/// Administrators turn their own off in their settings, with their
/// password; an account without a second step is `second_factor_off`.
pub fn reset_by_admin(c: &mut DbConn, admin: &User, username: &str) -> AppResult<User> {
    use crate::db::schema::{passkeys, sessions};
    if !admin.is_admin {
        return Err(AppError::forbidden("admin_only"));
    }
    let target = super::find_by_username(c, username)?;
    if !target.is_local() || target.deleted_at.is_some() || !target.is_person() {
        return Err(AppError::not_found());
    }
    if target.id == admin.id {
        return Err(AppError::forbidden("second_factor_reset_self"));
    }
    db::write(c, |c| {
        if !is_on(c, target.id)? {
            return Err(AppError::conflict("second_factor_off"));
        }
        diesel::delete(second_factors::table.find(target.id)).execute(c)?;
        diesel::delete(passkeys::table.filter(passkeys::user_id.eq(target.id))).execute(c)?;
        diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(target.id)))
            .execute(c)?;
        diesel::delete(login_steps::table.filter(login_steps::user_id.eq(target.id))).execute(c)?;
        diesel::delete(sessions::table.filter(sessions::user_id.eq(target.id))).execute(c)?;
        let mail_on = crate::mails::notify_delay(c)?.is_some();
        if mail_on && !target.email.trim().is_empty() {
            crate::mails::record(
                c,
                crate::mails::To::Account {
                    id: target.id,
                    fallback_locale: "en".into(),
                },
                &crate::mails::Mail::SecondStepReset {
                    by: admin.username.clone(),
                },
            )?;
        }
        Ok(())
    })?;
    tracing::info!(admin = %admin.username, person = %target.username, "second step reset");
    Ok(target)
}

/// Leaves a password sign-in waiting for its second step; the token the
/// browser keeps.
pub fn begin_step(c: &mut DbConn, user_id: i64, next: &str) -> AppResult<String> {
    let token = secrets::random_token();
    let now = now();
    db::write(c, |c| {
        diesel::delete(
            login_steps::table
                .filter(login_steps::created_at.lt(now - Duration::minutes(STEP_MINUTES))),
        )
        .execute(c)?;
        diesel::insert_into(login_steps::table)
            .values((
                login_steps::id.eq(secrets::digest(&token)),
                login_steps::user_id.eq(user_id),
                login_steps::next.eq(next),
                login_steps::created_at.eq(now),
            ))
            .execute(c)
    })?;
    Ok(token)
}

/// The account and next page of a sign-in waiting for its second step.
pub fn waiting(c: &mut DbConn, token: &str) -> AppResult<(User, String)> {
    let since = now() - Duration::minutes(STEP_MINUTES);
    let found: Option<(User, String)> = login_steps::table
        .inner_join(users::table.on(users::id.eq(login_steps::user_id)))
        .filter(login_steps::id.eq(secrets::digest(token)))
        .filter(login_steps::created_at.gt(since))
        .filter(users::disabled.eq(false))
        .select((User::as_select(), login_steps::next))
        .first(c)
        .optional()?;
    found.ok_or_else(|| AppError::forbidden("step_expired"))
}

/// Completes a waiting sign-in with its code: the step is used up.
pub fn complete(
    c: &mut DbConn,
    cfg: &AccountsConfig,
    token: &str,
    code: &str,
    ip: &str,
) -> AppResult<(User, String)> {
    let (user, next) = waiting(c, token)?;
    check(c, cfg, &user, code, ip)?;
    end_step(c, token)?;
    Ok((user, next))
}

/// Uses up a waiting sign-in once its second step is done.
pub(super) fn end_step(c: &mut DbConn, token: &str) -> AppResult<()> {
    db::write(c, |c| {
        diesel::delete(login_steps::table.find(secrets::digest(token))).execute(c)
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_of_the_current_step_pass_once_and_others_do_not() {
        let secret = Secret::from(b"12345678901234567890".to_vec()).to_base32();
        let t = totp(&secret, "Ruche", "ann").unwrap();
        let now = unix_now();
        let code = t.generate(now).to_string();
        let step = step_of(&secret, &code, 0).unwrap().expect("accepted");
        assert_eq!(step as u64, now / 30);
        // The same step again: refused (a code is used once).
        assert_eq!(step_of(&secret, &code, step).unwrap(), None);
        // With spaces, as people copy it.
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(step_of(&secret, &spaced, 0).unwrap().is_some());
        // A code of ten minutes ago, letters, too short.
        let old = t.generate(now - 600).to_string();
        for bad in [old.as_str(), "abcdef", "123", ""] {
            assert_eq!(step_of(&secret, bad, 0).unwrap(), None, "{bad}");
        }
    }

    #[test]
    fn recovery_codes_are_readable_and_compared_loosely() {
        let code = recovery_code();
        assert_eq!(code.len(), 11);
        assert_eq!(
            normal(&code.to_uppercase().replace('-', " ")),
            normal(&code)
        );
    }
}
