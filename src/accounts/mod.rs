//! Accounts: registration, sign-in with rate limiting, sessions, personal API
//! tokens, invitations and account administration.

pub mod admin;
pub mod directory;
pub mod email;
pub mod guest;
pub mod invitation;
pub mod leavers;
pub mod passkey;
pub mod provisioning;
pub mod remote;
pub mod reset;
pub mod second_factor;
pub mod secrets;
pub mod session;
pub mod sso;
pub mod summary;
pub mod validate;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use crate::config::{AccountsConfig, SignupMode};
use crate::db::schema::{api_tokens, invitations, login_failures, passkeys, sessions, users};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult, ErrorKind};
use crate::events::{self, Event};
pub use invitation::{create_invitation, list_invitations, revoke_invitation, Invitation};
pub use remote::RemoteProfile;
pub use session::{
    create_session, create_token, delete_session, list_tokens, lookup_session, lookup_token,
    purge_expired, revoke_token, ApiToken, NewSession,
};
pub use summary::PersonSummary;
pub use validate::{Email, Password, Username};

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: String,
    #[serde(skip)]
    pub password_hash: String,
    pub is_admin: bool,
    pub disabled: bool,
    pub display_name: String,
    pub job_title: String,
    pub department: String,
    pub site: String,
    pub location: String,
    pub work_email: String,
    pub phone: String,
    pub bio: String,
    pub bio_html: String,
    pub languages: String,
    pub locale: Option<String>,
    pub photo_version: i64,
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub created_at: NaiveDateTime,
    /// Home instance of a remote person; `None` for local accounts.
    pub domain: Option<String>,
    /// Set when the account was deleted (the row stays as a tombstone).
    #[serde(skip)]
    pub deleted_at: Option<NaiveDateTime>,
    /// `person`, or `group` for a community.
    #[serde(skip)]
    pub actor_type: String,
}

impl User {
    /// The name to show: the display name, or the username.
    pub fn shown_name(&self) -> &str {
        if self.display_name.trim().is_empty() {
            &self.username
        } else {
            &self.display_name
        }
    }

    pub fn is_person(&self) -> bool {
        self.actor_type == "person"
    }

    pub fn is_local(&self) -> bool {
        self.domain.is_none()
    }
}

pub struct NewAccount<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password: &'a str,
    pub is_admin: bool,
    /// Invitation code, required when sign-up is by invitation.
    pub invite: Option<&'a str>,
    /// Send a welcome e-mail, in this language unless the person chooses
    /// another before it leaves (`None`: e-mail is off, or not wanted).
    pub welcome: Option<&'a str>,
}

/// Who is creating the account: the public sign-up form follows the sign-up
/// mode; an administrator (command line or admin API) is not limited by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreatedBy {
    SignUp,
    Admin,
}

pub fn find_by_username(conn: &mut DbConn, username: &str) -> AppResult<User> {
    let name = username.trim().to_ascii_lowercase();
    users::table
        .filter(users::username.eq(&name))
        .select(User::as_select())
        .first(conn)
        .map_err(AppError::from)
}

pub fn find_by_id(conn: &mut DbConn, id: i64) -> AppResult<User> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .map_err(AppError::from)
}

/// Creates an account. With sign-up, the first account of the instance becomes
/// its administrator.
pub fn create_user(
    conn: &mut DbConn,
    cfg: &AccountsConfig,
    new: NewAccount<'_>,
    by: CreatedBy,
) -> AppResult<User> {
    create_user_then(conn, cfg, new, by, |_, _, _| Ok(()))
}

/// The invitation an account signed up with, as a later step sees it.
#[derive(Debug, Clone, Copy)]
pub struct UsedInvitation {
    /// Who invited.
    pub by: Option<i64>,
    /// The community it invites to, for an invitation sent from one.
    pub community: Option<i64>,
    /// Whether it made the account a guest (`guest`).
    pub guest: bool,
}

/// [`create_user`], then `then` inside the same write transaction, with
/// the new account and the invitation it used: a step of another feature
/// (joining the community one was invited to) commits with the account or
/// not at all.
pub fn create_user_then(
    conn: &mut DbConn,
    cfg: &AccountsConfig,
    new: NewAccount<'_>,
    by: CreatedBy,
    then: impl FnOnce(&mut DbConn, &User, Option<UsedInvitation>) -> AppResult<()>,
) -> AppResult<User> {
    let username = Username::parse(new.username)?;
    let email = Email::parse(new.email)?;
    let password = Password::parse(new.password)?;
    let signup = crate::settings::signup_mode(conn, cfg.signup)?;
    let code = new.invite.map(str::trim).filter(|s| !s.is_empty());
    // A guest's invitation lets its partner in whatever the sign-up mode:
    // they will see only the community they were invited to.
    let guest_invite = match (by, code) {
        (CreatedBy::SignUp, Some(code)) => invitation::is_guest(conn, code)?,
        _ => false,
    };
    if by == CreatedBy::SignUp && !guest_invite {
        match signup {
            SignupMode::Closed => return Err(AppError::forbidden("signup_closed")),
            SignupMode::Invite if new.invite.map(str::trim).unwrap_or("").is_empty() => {
                return Err(AppError::forbidden("invite_required"))
            }
            _ => {}
        }
    }
    let hash = secrets::hash_password(password.as_str())?;
    let now = now();
    db::write(conn, |c| {
        let taken: i64 = users::table
            .filter(users::username.eq(username.as_str()))
            .count()
            .get_result(c)?;
        if taken > 0 {
            return Err(AppError::conflict("name_taken"));
        }
        let taken: i64 = users::table
            .filter(users::email.eq(email.as_str()))
            .count()
            .get_result(c)?;
        if taken > 0 {
            return Err(AppError::conflict("email_taken"));
        }
        let invitation_id = match (by, code) {
            (CreatedBy::SignUp, Some(code)) if signup != SignupMode::Closed || guest_invite => {
                type Found = (
                    i64,
                    Option<i64>,
                    NaiveDateTime,
                    Option<i64>,
                    Option<i64>,
                    bool,
                );
                let found: Option<Found> = invitations::table
                    .filter(invitations::code_hash.eq(secrets::digest(code)))
                    .select((
                        invitations::id,
                        invitations::used_by,
                        invitations::expires_at,
                        invitations::created_by,
                        invitations::community_id,
                        invitations::guest,
                    ))
                    .first(c)
                    .optional()?;
                match found {
                    Some((_, None, expires, _, _, true)) if expires > now && !cfg.guests => {
                        return Err(AppError::forbidden("guests_off"));
                    }
                    Some((id, None, expires, by, community, guest)) if expires > now => {
                        if community.is_some() && signup == SignupMode::Invite && !guest {
                            // A moderator's invitation into a community
                            // brings newcomers to the site only when an
                            // administrator sent it.
                            let admin: i64 = users::table
                                .filter(users::id.nullable().eq(by))
                                .filter(users::is_admin.eq(true))
                                .count()
                                .get_result(c)?;
                            if admin == 0 {
                                return Err(AppError::forbidden("invite_not_for_signup"));
                            }
                        }
                        Some((
                            id,
                            UsedInvitation {
                                by,
                                community,
                                guest,
                            },
                        ))
                    }
                    _ => return Err(AppError::forbidden("invite_invalid")),
                }
            }
            _ => None,
        };
        let as_guest = invitation_id.as_ref().is_some_and(|(_, u)| u.guest);
        let first = users::table.count().get_result::<i64>(c)? == 0;
        let is_admin = new.is_admin || (by == CreatedBy::SignUp && first && !as_guest);
        let id: i64 = diesel::insert_into(users::table)
            .values((
                users::username.eq(username.as_str()),
                users::email.eq(email.as_str()),
                users::password_hash.eq(&hash),
                users::is_admin.eq(is_admin),
                users::created_at.eq(now),
            ))
            .returning(users::id)
            .get_result(c)?;
        if let Some((_, used)) = invitation_id.as_ref().filter(|(_, u)| u.guest) {
            guest::record(c, cfg, id, used.by)?;
        }
        crate::index::actor(c, id)?;
        if let Some((inv, _)) = invitation_id {
            // Spent only if still open: two sign-ups at once with one code
            // cannot both pass.
            let spent = diesel::update(
                invitations::table
                    .find(inv)
                    .filter(invitations::used_by.is_null()),
            )
            .set((invitations::used_by.eq(id), invitations::used_at.eq(now)))
            .execute(c)?;
            if spent != 1 {
                return Err(AppError::forbidden("invite_invalid"));
            }
        }
        match (new.welcome, by) {
            // Signing up oneself: the welcome asks to confirm the address
            // typed, which gets nothing else until then.
            (Some(locale), CreatedBy::SignUp) => {
                email::issue_in(c, id, email.as_str(), locale, true)?;
            }
            (Some(locale), CreatedBy::Admin) => {
                crate::mails::record(
                    c,
                    crate::mails::To::Account {
                        id,
                        fallback_locale: locale.to_string(),
                    },
                    &crate::mails::Mail::Welcome,
                )?;
            }
            (None, _) => {}
        }
        let user = users::table.find(id).select(User::as_select()).first(c)?;
        then(c, &user, invitation_id.map(|(_, u)| u))?;
        Ok(user)
    })
}

/// Checks a sign-in attempt, counting failures per account and per address.
///
/// The counter belongs to the account, whichever of its names (username or
/// e-mail) was typed; a name that matches no account counts on its own.
/// Checking the limits and counting the attempt are one step: the attempt
/// is recorded as a failure, in the transaction that checked the limits and
/// under a lock that serialises sign-ins, *before* the password is
/// verified, and forgotten only if the password is right. So concurrent
/// guesses cannot check more passwords than the limit allows.
///
/// An account linked to an identity provider that keeps passwords off
/// (`accounts.sso`, `passwords = false`) is told to sign in there.
pub fn authenticate(
    conn: &mut DbConn,
    cfg: &AccountsConfig,
    login: &str,
    password: &str,
    ip: &str,
) -> AppResult<User> {
    let user = authenticate_password(conn, cfg, login, password, ip)?;
    sso::password_allowed(conn, cfg, user.id)?;
    guest::check_open(conn, user.id)?;
    Ok(user)
}

/// The password check of [`authenticate`], with its limits, alone: also
/// what proves one owns an account before an identity is linked to it.
pub(crate) fn authenticate_password(
    conn: &mut DbConn,
    cfg: &AccountsConfig,
    login: &str,
    password: &str,
    ip: &str,
) -> AppResult<User> {
    let login = login.trim().to_lowercase();
    let user: Option<User> = users::table
        .filter(users::username.eq(&login).or(users::email.eq(&login)))
        .filter(users::domain.is_null())
        .select(User::as_select())
        .first(conn)
        .optional()?;
    let key = user
        .as_ref()
        .map_or_else(|| login.clone(), |u| u.username.clone());
    let ok = limited_attempt(conn, cfg, &key, ip, |_| {
        Ok(match &user {
            Some(u) => secrets::verify_password(password, &u.password_hash),
            None => {
                // Spend the same time as a real check so that timing does
                // not tell which accounts exist.
                let _ = secrets::verify_password(password, &DUMMY_HASH);
                false
            }
        })
    })?;
    match user {
        Some(u) if ok => {
            if u.disabled {
                return Err(AppError::forbidden("account_disabled"));
            }
            Ok(u)
        }
        _ => Err(AppError::unauthorized("invalid_credentials")),
    }
}

/// One guess (a password, a second-step code) of `key` from `ip`, within
/// the limits of failures per key and per address: checking the limits and
/// counting the attempt as a failure are one step, under a lock that
/// serialises them, *before* `check` runs; the failure is forgotten (with
/// this address's earlier ones on this key) only if `check` says yes. So
/// concurrent guesses cannot check more than the limit allows.
pub(crate) fn limited_attempt(
    conn: &mut DbConn,
    cfg: &AccountsConfig,
    key: &str,
    ip: &str,
    check: impl FnOnce(&mut DbConn) -> AppResult<bool>,
) -> AppResult<bool> {
    let attempt = attempt_begin(conn, cfg, key, ip)?;
    let ok = check(conn)?;
    if ok {
        attempt_passed(conn, key, ip, attempt)?;
    }
    Ok(ok)
}

/// The first half of [`limited_attempt`], for a check made elsewhere (the
/// company's directory, over the network): refused beyond the limits,
/// else counted as a failure until [`attempt_passed`] or
/// [`attempt_dropped`]; returns the attempt.
pub fn attempt_begin(
    conn: &mut DbConn,
    cfg: &AccountsConfig,
    key: &str,
    ip: &str,
) -> AppResult<i64> {
    let key = key.trim().to_lowercase();
    let since = now() - Duration::minutes(cfg.failure_window_minutes as i64);
    let limited = || {
        AppError::new(ErrorKind::RateLimited, "too_many_attempts")
            .with("minutes", cfg.failure_window_minutes)
    };
    // One check at a time: the count and the new failure must not
    // interleave with another attempt's, or parallel guesses slip through.
    db::write(conn, |c| {
        if let DbConn::Pg(_) = c {
            // Across every process sharing the database.
            diesel::sql_query("SELECT pg_advisory_xact_lock(5275636865)").execute(c)?;
        }
        let per_account: i64 = login_failures::table
            .filter(login_failures::username.eq(&key))
            .filter(login_failures::at.gt(since))
            .count()
            .get_result(c)?;
        let per_address: i64 = login_failures::table
            .filter(login_failures::ip.eq(ip))
            .filter(login_failures::at.gt(since))
            .count()
            .get_result(c)?;
        if per_account >= cfg.max_failures_per_account as i64
            || per_address >= cfg.max_failures_per_address as i64
        {
            return Err(limited());
        }
        diesel::insert_into(login_failures::table)
            .values((
                login_failures::username.eq(&key),
                login_failures::ip.eq(ip),
                login_failures::at.eq(now()),
            ))
            .returning(login_failures::id)
            .get_result::<i64>(c)
            .map_err(AppError::from)
    })
}

/// The attempt was right: forget it, and this client's own failures on
/// this key; failures from other addresses keep counting.
pub fn attempt_passed(conn: &mut DbConn, key: &str, ip: &str, attempt: i64) -> AppResult<()> {
    let key = key.trim().to_lowercase();
    db::write(conn, |c| {
        diesel::delete(
            login_failures::table.filter(
                login_failures::id.eq(attempt).or(login_failures::username
                    .eq(&key)
                    .and(login_failures::ip.eq(ip))),
            ),
        )
        .execute(c)
    })?;
    Ok(())
}

/// The attempt was not one (the directory does not know the login, which
/// this site's own passwords then check and count): forget it alone.
pub fn attempt_dropped(conn: &mut DbConn, attempt: i64) -> AppResult<()> {
    db::write(conn, |c| {
        diesel::delete(login_failures::table.find(attempt)).execute(c)
    })?;
    Ok(())
}

/// A real hash of a random password, checked when the account does not exist.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    secrets::hash_password(&secrets::random_token()).unwrap_or_default()
});

pub fn change_password(
    conn: &mut DbConn,
    user_id: i64,
    current: &str,
    new_password: &str,
    keep_session: Option<&str>,
) -> AppResult<()> {
    let user = find_by_id(conn, user_id)?;
    if !secrets::verify_password(current, &user.password_hash) {
        return Err(AppError::forbidden("current_password_wrong"));
    }
    let new_password = Password::parse(new_password)?;
    set_password(conn, user_id, new_password.as_str(), keep_session)
}

/// Sets a password and ends the account's other sessions.
pub fn set_password(
    conn: &mut DbConn,
    user_id: i64,
    password: &str,
    keep_session: Option<&str>,
) -> AppResult<()> {
    let hash = secrets::hash_password(password)?;
    let keep = keep_session.map(secrets::digest).unwrap_or_default();
    db::write(conn, |c| {
        diesel::update(users::table.find(user_id))
            .set(users::password_hash.eq(&hash))
            .execute(c)?;
        diesel::delete(
            sessions::table
                .filter(sessions::user_id.eq(user_id))
                .filter(sessions::id.ne(&keep)),
        )
        .execute(c)?;
        Ok(())
    })
}

// ---- Administration -------------------------------------------------------

pub fn list_users(conn: &mut DbConn, limit: i64) -> AppResult<Vec<User>> {
    users::table
        .filter(users::domain.is_null())
        .filter(users::deleted_at.is_null())
        // People only: a community is a row of this table too.
        .filter(users::actor_type.eq("person"))
        .order(users::username.asc())
        .limit(limit)
        .select(User::as_select())
        .load(conn)
        .map_err(AppError::from)
}

/// Disables or re-enables an account; disabling ends its sessions at once.
pub fn set_disabled(
    conn: &mut DbConn,
    admin: &User,
    username: &str,
    disabled: bool,
) -> AppResult<User> {
    if !admin.is_admin {
        return Err(AppError::forbidden("admin_only"));
    }
    let target = find_by_username(conn, username)?;
    if !target.is_local() || target.deleted_at.is_some() || !target.is_person() {
        return Err(AppError::not_found());
    }
    if target.id == admin.id && disabled {
        return Err(AppError::forbidden("cannot_disable_self"));
    }
    if !disabled {
        // A guest whose access ended is renewed, not enabled as it is.
        guest::check_open(conn, target.id)
            .map_err(|_| AppError::conflict("guest_renew_instead"))?;
    }
    db::write(conn, |c| {
        if disabled && target.is_admin {
            admin::refuse_last_admin(c, target.id)?;
        }
        disable_in(c, target.id, disabled)?;
        if !disabled {
            // An administrator's decision: no longer a leaver, and what
            // the directory or SCIM had disabled is theirs no more.
            use crate::db::schema::{directory_users, scim_users};
            leavers::back(c, target.id)?;
            diesel::update(scim_users::table.find(target.id))
                .set(scim_users::disabled_by_scim.eq(false))
                .execute(c)?;
            diesel::update(directory_users::table.find(target.id))
                .set(directory_users::disabled_by_sync.eq(false))
                .execute(c)?;
        }
        Ok::<(), AppError>(())
    })?;
    find_by_id(conn, target.id)
}

/// Disables (someone left) or re-enables a local account, inside the
/// caller's write transaction, whichever door decided it (an
/// administrator, the directory): its sessions, API tokens and pending
/// sign-ins end at once and stay ended when it is enabled again (e-mail
/// actions check the account when used), and its Person goes out again,
/// closed (`suspended`) or open, so that other sites show it as gone and
/// stop delivering to it, or show it again.
pub(crate) fn disable_in(c: &mut DbConn, id: i64, disabled: bool) -> AppResult<()> {
    use crate::db::schema::sso_pending;
    let changed = diesel::update(users::table.find(id).filter(users::disabled.ne(disabled)))
        .set(users::disabled.eq(disabled))
        .execute(c)?;
    if changed == 0 {
        return Ok(());
    }
    crate::index::actor(c, id)?;
    if disabled {
        diesel::delete(sessions::table.filter(sessions::user_id.eq(id))).execute(c)?;
        diesel::update(
            api_tokens::table
                .filter(api_tokens::user_id.eq(id))
                .filter(api_tokens::revoked_at.is_null()),
        )
        .set(api_tokens::revoked_at.eq(Some(now())))
        .execute(c)?;
        diesel::delete(sso_pending::table.filter(sso_pending::user_id.eq(id))).execute(c)?;
    }
    events::record(c, Event::ProfileChanged { account: id })?;
    Ok(())
}

/// Erases what a profile says of a person (inside a write transaction):
/// name, title, department, site, location, contact details, biography,
/// languages, photo and skills. For a deleted account, and for a leaver
/// under the anonymising policy (`leavers`).
pub(crate) fn erase_profile(c: &mut DbConn, id: i64) -> QueryResult<()> {
    use crate::db::schema::{photos, user_skills};
    diesel::update(users::table.find(id))
        .set((
            users::display_name.eq(""),
            users::job_title.eq(""),
            users::department.eq(""),
            users::site.eq(""),
            users::location.eq(""),
            users::work_email.eq(""),
            users::phone.eq(""),
            users::bio.eq(""),
            users::bio_html.eq(""),
            users::languages.eq(""),
            users::photo_version.eq(0),
        ))
        .execute(c)?;
    diesel::delete(photos::table.find(id)).execute(c)?;
    diesel::delete(user_skills::table.filter(user_skills::user_id.eq(id))).execute(c)?;
    Ok(())
}

/// Deletes an account, by its owner (`password` required) or an
/// administrator. Its posts and comments become tombstones, its profile,
/// photo, skills, sessions and tokens go; the row stays (name reserved, keys
/// kept to sign the Delete that tells other instances) and in the same
/// transaction the Delete of the actor is queued for them.
pub fn delete_account(
    conn: &mut DbConn,
    by: &User,
    username: &str,
    password: Option<&str>,
) -> AppResult<()> {
    let target = find_by_username(conn, username)?;
    // A community is removed as a community, not as an account.
    if !target.is_local() || target.deleted_at.is_some() || !target.is_person() {
        return Err(AppError::not_found());
    }
    if by.id == target.id {
        if !password.is_some_and(|p| secrets::verify_password(p, &target.password_hash)) {
            return Err(AppError::forbidden("current_password_wrong"));
        }
    } else if !by.is_admin {
        return Err(AppError::forbidden("admin_only"));
    }
    let now = now();
    db::write(conn, |c| {
        use crate::db::schema::{community_watches, content, email_checks};
        // Administrators deleting each other leave one. (The last one may
        // still delete their own account, as anyone may; `ruche admin
        // create-user --admin` makes another.)
        if target.is_admin && by.id != target.id {
            admin::refuse_last_admin(c, target.id)?;
        }
        diesel::update(users::table.find(target.id))
            .set((
                users::disabled.eq(true),
                users::deleted_at.eq(Some(now)),
                users::password_hash.eq("!"),
                users::email.eq(format!("deleted-{}@invalid", target.id)),
            ))
            .execute(c)?;
        erase_profile(c, target.id)?;
        diesel::delete(sessions::table.filter(sessions::user_id.eq(target.id))).execute(c)?;
        diesel::delete(api_tokens::table.filter(api_tokens::user_id.eq(target.id))).execute(c)?;
        diesel::delete(passkeys::table.filter(passkeys::user_id.eq(target.id))).execute(c)?;
        // The addresses it gave and the communities it watched go too.
        diesel::delete(email_checks::table.filter(email_checks::user_id.eq(target.id)))
            .execute(c)?;
        diesel::delete(community_watches::table.filter(community_watches::user_id.eq(target.id)))
            .execute(c)?;
        // The endorsements it gave (their sites are told) and received go
        // too.
        endorsements_go(c, &target)?;
        crate::index::forget_content_of(c, target.id)?;
        crate::index::actor(c, target.id)?;
        // Their posts are must-reads no more (`content::must_read`).
        {
            use crate::db::schema::must_reads;
            diesel::delete(must_reads::table.filter(must_reads::author_id.eq(target.id)))
                .execute(c)?;
        }
        diesel::update(
            content::table
                .filter(content::author_id.eq(target.id))
                .filter(content::deleted_at.is_null()),
        )
        .set((
            content::body.eq(""),
            content::body_html.eq(""),
            content::deleted_at.eq(Some(now)),
        ))
        .execute(c)?;
        events::record(c, Event::AccountDeleted { person: target.id })?;
        Ok::<_, AppError>(())
    })
}

/// The longest profile field a directory fills (as the profile form).
const MAX_DIRECTORY_FIELD: usize = 100;

/// A value from a company directory (an identity provider's claim, a SCIM
/// attribute), made a profile field: control characters out, cut at 100
/// characters.
pub(crate) fn clean_field(v: &str) -> String {
    let s: String = v.chars().filter(|c| !c.is_control()).collect();
    s.trim()
        .chars()
        .take(MAX_DIRECTORY_FIELD)
        .collect::<String>()
        .trim()
        .to_string()
}

/// A username for a new account made from a directory's name for someone
/// (`alice.martin`, `Alice@corp.example`): its part before any `@`, made
/// valid (a-z, 0-9, `_`, 3 to 30) and free (a number added).
pub(crate) fn free_username(c: &mut DbConn, wanted: &str) -> AppResult<String> {
    let wanted = wanted.split('@').next().unwrap_or("");
    let mut base: String = wanted
        .to_ascii_lowercase()
        .chars()
        .map(|ch| match ch {
            'a'..='z' | '0'..='9' | '_' => ch,
            _ => '_',
        })
        .collect();
    base = base.trim_matches('_').chars().take(24).collect();
    while base.len() < 3 {
        base.push('_');
    }
    for n in 1..1000 {
        let name = match n {
            1 => base.clone(),
            _ => format!("{base}{n}"),
        };
        let taken: i64 = users::table
            .filter(users::username.eq(&name))
            .count()
            .get_result(c)?;
        if taken == 0 {
            return Ok(name);
        }
    }
    Err(AppError::conflict("name_taken"))
}

/// The local account of someone the company's directory lists (SCIM,
/// LDAP): the one that already has their address (adopted, the directory
/// vouching for it), or a new one without a password (they sign in with
/// the directory or the company's provider), named from `wanted`; `true`
/// when made now. Inside the caller's write transaction.
///
/// An account with a password of this site, or an administrator, is never
/// adopted (`409 directory_address_taken`): a directory entry or a SCIM
/// token must not be a way into someone's account (by changing its
/// address, then asking for a password link).
pub(crate) fn adopt_or_make(
    c: &mut DbConn,
    wanted: &str,
    email: &Email,
    profile: Option<&Directory>,
) -> AppResult<(User, bool)> {
    let existing: Option<User> = users::table
        .filter(users::email.eq(email.as_str()))
        .filter(users::domain.is_null())
        .filter(users::deleted_at.is_null())
        .filter(users::actor_type.eq("person"))
        .select(User::as_select())
        .first(c)
        .optional()?;
    if let Some(u) = existing {
        if u.is_admin || !u.password_hash.starts_with('!') {
            return Err(AppError::conflict("directory_address_taken"));
        }
        return Ok((u, false));
    }
    let username = free_username(c, wanted)?;
    // What the directory says of them is written with the account, so
    // that it is indexed once, as it is (a directory's first sync makes
    // thousands at once).
    let field = |f: Option<&Option<String>>| {
        f.and_then(|v| v.as_deref())
            .map(clean_field)
            .unwrap_or_default()
    };
    let user: User = diesel::insert_into(users::table)
        .values((
            users::username.eq(&username),
            users::email.eq(email.as_str()),
            users::password_hash.eq("!"),
            users::is_admin.eq(profile.and_then(|p| p.admin).unwrap_or(false)),
            users::display_name.eq(field(profile.map(|p| &p.name))),
            users::department.eq(field(profile.map(|p| &p.department))),
            users::job_title.eq(field(profile.map(|p| &p.job_title))),
            users::site.eq(field(profile.map(|p| &p.site))),
            users::created_at.eq(now()),
        ))
        .returning(crate::db::columns::<User>())
        .get_result(c)?;
    crate::index::actor(c, user.id)?;
    Ok((user, true))
}

/// What the company's directory (an identity provider, a SCIM client) says
/// of someone; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub(crate) struct Directory {
    pub email: Option<String>,
    pub name: Option<String>,
    pub department: Option<String>,
    pub job_title: Option<String>,
    pub site: Option<String>,
    /// Whether they are an administrator here.
    pub admin: Option<bool>,
}

/// Sets what the directory says of `user`, inside the caller's write
/// transaction; a change of the profile is news (other sites, the search
/// index). An e-mail address already another account's is left as it was.
pub(crate) fn from_directory(c: &mut DbConn, user: &User, d: &Directory) -> AppResult<User> {
    let mut u = user.clone();
    let mut changed = false;
    for (field, to) in [
        (&mut u.display_name, &d.name),
        (&mut u.department, &d.department),
        (&mut u.job_title, &d.job_title),
        (&mut u.site, &d.site),
    ] {
        if let Some(v) = to {
            let v = clean_field(v);
            if *field != v {
                *field = v;
                changed = true;
            }
        }
    }
    if let Some(email) = d.email.as_deref().map(str::to_ascii_lowercase) {
        if email != u.email && Email::parse(&email).is_ok() {
            let taken: i64 = users::table
                .filter(users::email.eq(&email))
                .filter(users::id.ne(u.id))
                .count()
                .get_result(c)?;
            if taken == 0 {
                u.email = email;
                changed = true;
            }
        }
    }
    let admin_changed = d.admin.is_some_and(|a| a != u.is_admin);
    if let Some(a) = d.admin {
        u.is_admin = a;
    }
    if changed || admin_changed {
        diesel::update(users::table.find(u.id))
            .set((
                users::display_name.eq(&u.display_name),
                users::department.eq(&u.department),
                users::job_title.eq(&u.job_title),
                users::site.eq(&u.site),
                users::email.eq(&u.email),
                users::is_admin.eq(u.is_admin),
            ))
            .execute(c)?;
    }
    if changed {
        crate::index::actor(c, u.id)?;
        events::record(c, Event::ProfileChanged { account: u.id })?;
    }
    Ok(u)
}

/// Removes, inside the caller's write transaction, the endorsements an
/// account that goes gave and received (`people::endorse`): the people of
/// other sites it endorsed are told when the account is ours, and ours it
/// endorsed have news of their profile (their published counts change).
pub(crate) fn endorsements_go(c: &mut DbConn, user: &User) -> QueryResult<()> {
    use crate::db::schema::{endorsements, remote_endorsements, skills};
    let given: Vec<(i64, String, Option<String>)> = endorsements::table
        .inner_join(skills::table.on(skills::id.eq(endorsements::skill_id)))
        .inner_join(users::table.on(users::id.eq(endorsements::user_id)))
        .filter(endorsements::endorser_id.eq(user.id))
        .select((endorsements::user_id, skills::name, users::domain))
        .load(c)?;
    diesel::delete(
        endorsements::table.filter(
            endorsements::endorser_id
                .eq(user.id)
                .or(endorsements::user_id.eq(user.id)),
        ),
    )
    .execute(c)?;
    diesel::delete(remote_endorsements::table.filter(remote_endorsements::user_id.eq(user.id)))
        .execute(c)?;
    let mut told: Vec<i64> = Vec::new();
    for (person, skill, domain) in given {
        if domain.is_none() {
            if !told.contains(&person) {
                told.push(person);
                events::record(c, Event::ProfileChanged { account: person })?;
            }
        } else if user.is_local() {
            events::record(
                c,
                Event::Unendorsed {
                    endorser: user.id,
                    person,
                    skill,
                },
            )?;
        }
    }
    Ok(())
}
