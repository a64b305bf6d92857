//! A person's e-mail address: confirming it, and changing it.
//!
//! A link sent to an address proves that its reader is the person. After
//! signing up, the address is unconfirmed until the link of the welcome
//! e-mail is opened: until then nothing but account e-mails (password
//! links, the confirmation itself) goes to it, so that an address typed by
//! someone else receives no notification or digest. A change of address
//! takes the current password and applies only when the link sent to the
//! new address is opened; the old address keeps working meanwhile, and
//! the account keeps its old address if the link is never opened.
//!
//! Each link is a random secret of which only the digest is stored
//! (`email_checks`), works once, for [`CHECK_DAYS`] days. Opening any link
//! of an address spends the others; a password link that works also
//! proves the address it was sent to.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::{secrets, Email, User};
use crate::db::schema::{email_checks, users};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult, ErrorKind};
use crate::mails::{self, Mail, To};

/// How long a confirmation link works.
pub const CHECK_DAYS: i64 = 7;

/// Links one account may be sent in an hour (the sign-up's included).
const PER_HOUR: i64 = 5;

/// Where a person's address stands.
#[derive(Debug, Clone, Serialize)]
pub struct AddressState {
    /// The address in use.
    pub email: String,
    /// Whether its owner proved they read it.
    pub confirmed: bool,
    /// A new address waiting for its link to be opened.
    pub pending: Option<String>,
}

/// The open checks of a person: (address, expires).
fn open_checks(c: &mut DbConn, user_id: i64) -> AppResult<Vec<(String, NaiveDateTime)>> {
    email_checks::table
        .filter(email_checks::user_id.eq(user_id))
        .filter(email_checks::used_at.is_null())
        .order(email_checks::created_at.desc())
        .select((email_checks::email, email_checks::expires_at))
        .load(c)
        .map_err(AppError::from)
}

/// Where `user`'s address stands.
pub fn state(c: &mut DbConn, user: &User) -> AppResult<AddressState> {
    let open = open_checks(c, user.id)?;
    let now = now();
    Ok(AddressState {
        email: user.email.clone(),
        confirmed: !open.iter().any(|(e, _)| *e == user.email),
        pending: open
            .into_iter()
            .find(|(e, until)| *e != user.email && *until > now)
            .map(|(e, _)| e),
    })
}

/// Whether the local account `user_id` proved it reads `address` (an
/// address with an open check is not proved). Used by the mail door
/// before anything but an account e-mail leaves.
pub fn is_confirmed(c: &mut DbConn, user_id: i64, address: &str) -> AppResult<bool> {
    let open: i64 = email_checks::table
        .filter(email_checks::user_id.eq(user_id))
        .filter(email_checks::email.eq(address))
        .filter(email_checks::used_at.is_null())
        .count()
        .get_result(c)?;
    Ok(open == 0)
}

/// Stores a new link for `address` and queues its e-mail, inside the
/// caller's write transaction. `welcome`: the message is the welcome of a
/// new account.
pub(crate) fn issue_in(
    c: &mut DbConn,
    user_id: i64,
    address: &str,
    locale: &str,
    welcome: bool,
) -> AppResult<()> {
    let token = secrets::random_token();
    let now = now();
    diesel::insert_into(email_checks::table)
        .values((
            email_checks::token_hash.eq(secrets::digest(&token)),
            email_checks::user_id.eq(user_id),
            email_checks::email.eq(address),
            email_checks::created_at.eq(now),
            email_checks::expires_at.eq(now + Duration::days(CHECK_DAYS)),
        ))
        .execute(c)?;
    let mail = Mail::ConfirmAddress { token, welcome };
    let to = if welcome {
        To::Account {
            id: user_id,
            fallback_locale: locale.to_string(),
        }
    } else {
        To::Address {
            address: address.to_string(),
            locale: user_locale(c, user_id)?.unwrap_or_else(|| locale.to_string()),
        }
    };
    mails::record(c, to, &mail)?;
    Ok(())
}

fn user_locale(c: &mut DbConn, user_id: i64) -> AppResult<Option<String>> {
    Ok(users::table
        .find(user_id)
        .select(users::locale)
        .first::<Option<String>>(c)?
        .filter(|l| !l.is_empty()))
}

/// Holds the account's row and counts its recent links: at most
/// [`PER_HOUR`].
fn within_rate(c: &mut DbConn, user_id: i64) -> AppResult<()> {
    diesel::update(users::table.find(user_id))
        .set(users::id.eq(users::id))
        .execute(c)?;
    let recent: i64 = email_checks::table
        .filter(email_checks::user_id.eq(user_id))
        .filter(email_checks::created_at.gt(now() - Duration::hours(1)))
        .count()
        .get_result(c)?;
    if recent >= PER_HOUR {
        return Err(AppError::new(
            ErrorKind::RateLimited,
            "email_check_too_many",
        ));
    }
    Ok(())
}

/// Asks to use `new_address`, proved by the current password: a link goes
/// to the new address, which replaces the old one when it is opened. On a
/// site that sends no e-mail (`mail_on` false) nothing can be proved: the
/// address changes at once. Returns the address as stored (trimmed, lower
/// case).
pub fn request_change(
    c: &mut DbConn,
    user: &User,
    new_address: &str,
    password: &str,
    locale: &str,
    mail_on: bool,
) -> AppResult<String> {
    let address = Email::parse(new_address)?;
    if !secrets::verify_password(password, &user.password_hash) {
        return Err(AppError::forbidden("current_password_wrong"));
    }
    if address.as_str() == user.email {
        return Err(AppError::bad_request("email_unchanged"));
    }
    db::write(c, |c| {
        ensure_free(c, user.id, address.as_str())?;
        within_rate(c, user.id)?;
        // One change waits at a time: the newest.
        withdraw_changes(c, user.id, &user.email)?;
        if mail_on {
            issue_in(c, user.id, address.as_str(), locale, false)
        } else {
            set_address(c, user.id, address.as_str())
        }
    })?;
    Ok(address.as_str().to_string())
}

/// Refuses an address another account uses.
fn ensure_free(c: &mut DbConn, user_id: i64, address: &str) -> AppResult<()> {
    let taken: i64 = users::table
        .filter(users::email.eq(address))
        .filter(users::id.ne(user_id))
        .count()
        .get_result(c)?;
    if taken > 0 {
        return Err(AppError::conflict("email_taken"));
    }
    Ok(())
}

/// Sends the link again: for the waiting new address if there is one,
/// else for the current address while it is unconfirmed.
pub fn resend(c: &mut DbConn, user: &User, locale: &str) -> AppResult<String> {
    let st = state(c, user)?;
    let address = match (st.pending, st.confirmed) {
        (Some(p), _) => p,
        (None, false) => st.email,
        (None, true) => return Err(AppError::bad_request("email_already_confirmed")),
    };
    db::write(c, |c| {
        within_rate(c, user.id)?;
        issue_in(c, user.id, &address, locale, false)
    })?;
    Ok(address)
}

/// Withdraws a change of address asked for (its links stop working).
pub fn cancel_change(c: &mut DbConn, user: &User) -> AppResult<()> {
    db::write(c, |c| withdraw_changes(c, user.id, &user.email))
}

/// Forgets the links of `user_id` for addresses other than `current`
/// (inside a write transaction).
fn withdraw_changes(c: &mut DbConn, user_id: i64, current: &str) -> AppResult<()> {
    diesel::delete(
        email_checks::table
            .filter(email_checks::user_id.eq(user_id))
            .filter(email_checks::email.ne(current))
            .filter(email_checks::used_at.is_null()),
    )
    .execute(c)?;
    Ok(())
}

/// Makes `address` the account's (inside a write transaction); another
/// account that took it in the meantime wins, and this one is told.
fn set_address(c: &mut DbConn, user_id: i64, address: &str) -> AppResult<()> {
    use diesel::result::{DatabaseErrorKind, Error};
    match diesel::update(users::table.find(user_id))
        .set(users::email.eq(address))
        .execute(c)
    {
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Err(AppError::conflict("email_taken"))
        }
        other => other.map(|_| ()).map_err(AppError::from),
    }
}

/// What a link is for, while it works (a page shows it; nothing changes).
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub username: String,
    /// The name shown (display name, or username).
    pub name: String,
    pub email: String,
    /// The link changes the account's address (rather than confirming it).
    pub is_change: bool,
}

fn invalid() -> AppError {
    AppError::forbidden("email_link_invalid")
}

/// The open, unexpired check of `token`: (user, address).
fn find(c: &mut DbConn, token: &str) -> AppResult<(i64, String)> {
    if token.is_empty() || token.len() > 100 {
        return Err(invalid());
    }
    email_checks::table
        .find(secrets::digest(token))
        .filter(email_checks::used_at.is_null())
        .filter(email_checks::expires_at.gt(now()))
        .select((email_checks::user_id, email_checks::email))
        .first(c)
        .optional()?
        .ok_or_else(invalid)
}

/// What the link of `token` does, if it works.
pub fn look(c: &mut DbConn, token: &str) -> AppResult<Check> {
    let (user_id, email) = find(c, token)?;
    let user = super::find_by_id(c, user_id)?;
    if user.disabled || user.deleted_at.is_some() {
        return Err(invalid());
    }
    Ok(Check {
        is_change: user.email != email,
        name: user.shown_name().to_string(),
        username: user.username,
        email,
    })
}

/// Opens the link: the address is confirmed, and becomes the account's
/// if it was a change. Once; the address's other links are spent too. A
/// change also spends the password links sent to the old address, and
/// tells the old address.
pub fn confirm(c: &mut DbConn, token: &str) -> AppResult<Check> {
    let digest = secrets::digest(token);
    look(c, token)?;
    db::write(c, |c| {
        let now = now();
        // Spend the link in the statement that checks it.
        let row: Option<(i64, String)> = diesel::update(
            email_checks::table
                .find(&digest)
                .filter(email_checks::used_at.is_null())
                .filter(email_checks::expires_at.gt(now)),
        )
        .set(email_checks::used_at.eq(Some(now)))
        .returning((email_checks::user_id, email_checks::email))
        .get_result(c)
        .optional()?;
        let (user_id, email) = row.ok_or_else(invalid)?;
        let user = super::find_by_id(c, user_id)?;
        let check = Check {
            is_change: user.email != email,
            name: user.shown_name().to_string(),
            username: user.username.clone(),
            email: email.clone(),
        };
        if check.is_change {
            ensure_free(c, user_id, &email)?;
            set_address(c, user_id, &email)?;
            // Any other change waiting is withdrawn; password links sent
            // to the old address stop working.
            withdraw_changes(c, user_id, &email)?;
            super::reset::spend_all_in(c, user_id)?;
            // The old address hears of it, in case it was not its owner.
            let locale = user_locale(c, user_id)?.unwrap_or_else(|| "en".into());
            mails::record(
                c,
                To::Address {
                    address: user.email.clone(),
                    locale,
                },
                &Mail::AddressChanged {
                    username: user.username.clone(),
                    new_address: email.clone(),
                },
            )?;
        }
        proved_in(c, user_id, &email)?;
        Ok(check)
    })
}

/// Records that `user_id` reads `address` (every open link for it is
/// spent), inside the caller's write transaction.
pub(crate) fn proved_in(c: &mut DbConn, user_id: i64, address: &str) -> AppResult<()> {
    diesel::update(
        email_checks::table
            .filter(email_checks::user_id.eq(user_id))
            .filter(email_checks::email.eq(address))
            .filter(email_checks::used_at.is_null()),
    )
    .set(email_checks::used_at.eq(Some(now())))
    .execute(c)?;
    Ok(())
}
