//! The mail queue: what to tell whom by e-mail, recorded by the features in
//! the transaction of the change that causes it.
//!
//! A feature that must write to someone calls [`record`] with a typed
//! [`Mail`] inside its write transaction: the change and the message commit
//! together or not at all. Nothing here knows SMTP or how a message looks:
//! the mail door (`mail::worker`) claims the rows, writes each message in
//! its recipient's language (`mail::compose`, which matches every [`Mail`]
//! exhaustively) and sends it, retrying while the server is away.
//!
//! The queue is the `mail_queue` table: a stable kind name, the recipient
//! (the account, when there is one, and the address at the time of the
//! change), the language to write in, and one text detail.
//! [`Mail::encode`] and [`Mail::decode`] are the only places that know that
//! shape. Every address written to gets a row in `mail_addresses` with the
//! secret of its one-click unsubscribe link.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{mail_addresses, mail_locales, mail_queue, users};
use crate::db::{now, DbConn};
use crate::error::{AppError, AppResult};

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mail {
    /// A link to choose a new password; `token` is the link's secret (only
    /// its digest is kept elsewhere).
    PasswordReset { token: String },
    /// A welcome from an administrator's creating the account.
    Welcome,
    /// A link that confirms an address: the welcome of an account signed
    /// up by its owner (`welcome`), or a new address to prove.
    ConfirmAddress { token: String, welcome: bool },
    /// To the old address of an account whose address was just changed to
    /// `new_address`: in case that was not its owner's doing.
    AddressChanged {
        username: String,
        new_address: String,
    },
    /// An invitation to sign up with a one-time `code`, from the person
    /// `by`.
    Invitation { code: String, by: i64 },
    /// The notification `id` (a mention, a reply, a follower, community
    /// news), sent when the person has not seen it on the site first.
    Notification { id: i64 },
    /// The access of the guest `guest` ends within days: to the guest, and
    /// to whom invited them (`accounts::guest::remind_due`).
    GuestEnding { guest: i64 },
    /// The administrator `by` (a username) turned off the recipient's
    /// second sign-in step.
    SecondStepReset { by: String },
    /// The digest of what the person missed: the post ids and notification
    /// ids it covers, each `(after, up_to]`.
    Digest {
        content: (i64, i64),
        notifications: (i64, i64),
    },
}

impl Mail {
    /// A stable name for the kind of message.
    pub fn kind(&self) -> &'static str {
        match self {
            Mail::PasswordReset { .. } => "password_reset",
            Mail::Welcome => "welcome",
            Mail::ConfirmAddress { .. } => "confirm_address",
            Mail::AddressChanged { .. } => "address_changed",
            Mail::Invitation { .. } => "invitation",
            Mail::Notification { .. } => "notification",
            Mail::GuestEnding { .. } => "guest_ending",
            Mail::SecondStepReset { .. } => "second_step_reset",
            Mail::Digest { .. } => "digest",
        }
    }

    /// Whether the message is one the recipient may not opt out of (it
    /// answers something they did themselves, or an administrator did for
    /// them): no unsubscribe link, sent even to an unsubscribed address.
    pub fn is_transactional(&self) -> bool {
        matches!(
            self,
            Mail::PasswordReset { .. }
                | Mail::ConfirmAddress { .. }
                | Mail::AddressChanged { .. }
                | Mail::SecondStepReset { .. }
        )
    }

    /// The kind and the detail column.
    pub fn encode(&self) -> (&'static str, String) {
        let detail = match self {
            Mail::PasswordReset { token } => token.clone(),
            Mail::Welcome => String::new(),
            Mail::ConfirmAddress { token, welcome } => {
                format!("{} {token}", if *welcome { 1 } else { 0 })
            }
            Mail::AddressChanged {
                username,
                new_address,
            } => format!("{username} {new_address}"),
            Mail::Invitation { code, by } => format!("{by} {code}"),
            Mail::Notification { id } => id.to_string(),
            Mail::GuestEnding { guest } => guest.to_string(),
            Mail::SecondStepReset { by } => by.clone(),
            Mail::Digest {
                content: (c0, c1),
                notifications: (n0, n1),
            } => format!("{c0} {c1} {n0} {n1}"),
        };
        (self.kind(), detail)
    }

    /// Reads a row back; `None` for an unknown kind or a detail cleared
    /// after sending.
    pub fn decode(kind: &str, detail: &str) -> Option<Mail> {
        match kind {
            "password_reset" if !detail.is_empty() => Some(Mail::PasswordReset {
                token: detail.to_string(),
            }),
            "welcome" => Some(Mail::Welcome),
            "address_changed" => {
                let (username, new_address) = detail.split_once(' ')?;
                Some(Mail::AddressChanged {
                    username: username.to_string(),
                    new_address: new_address.to_string(),
                })
            }
            "confirm_address" => {
                let (welcome, token) = detail.split_once(' ')?;
                Some(Mail::ConfirmAddress {
                    token: token.to_string(),
                    welcome: welcome == "1",
                })
            }
            "notification" => Some(Mail::Notification {
                id: detail.parse().ok()?,
            }),
            "guest_ending" => Some(Mail::GuestEnding {
                guest: detail.parse().ok()?,
            }),
            "second_step_reset" => Some(Mail::SecondStepReset {
                by: detail.to_string(),
            }),
            "digest" => {
                let n: Vec<i64> = detail
                    .split(' ')
                    .map(str::parse)
                    .collect::<Result<_, _>>()
                    .ok()?;
                match n[..] {
                    [c0, c1, n0, n1] => Some(Mail::Digest {
                        content: (c0, c1),
                        notifications: (n0, n1),
                    }),
                    _ => None,
                }
            }
            "invitation" => {
                let (by, code) = detail.split_once(' ')?;
                Some(Mail::Invitation {
                    code: code.to_string(),
                    by: by.parse().ok()?,
                })
            }
            _ => None,
        }
    }
}

/// Who receives a message.
#[derive(Debug, Clone)]
pub enum To {
    /// A local account, at its current address, in its language (or
    /// `fallback_locale` when it has not chosen one).
    Account { id: i64, fallback_locale: String },
    /// An address that is no account (yet), in `locale`.
    Address { address: String, locale: String },
}

/// How many messages this process has recorded (in transactions committed
/// or not): a request that recorded none leaves the mail worker asleep.
static RECORDED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The number of messages this process has recorded so far; compare two
/// readings to learn whether any was recorded in between.
pub fn recorded() -> u64 {
    RECORDED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Queues `mail` for `to`. Call it inside the write transaction of the
/// change that causes it. Returns the queue row's id.
pub fn record(c: &mut DbConn, to: To, mail: &Mail) -> AppResult<i64> {
    record_later(c, to, mail, 0)
}

/// [`record`], not to be sent before `seconds` have passed.
pub fn record_later(c: &mut DbConn, to: To, mail: &Mail, seconds: i64) -> AppResult<i64> {
    let (user_id, address, locale) = match to {
        To::Account {
            id,
            fallback_locale,
        } => {
            let (email, locale): (String, Option<String>) = users::table
                .find(id)
                .filter(users::domain.is_null())
                .select((users::email, users::locale))
                .first(c)?;
            // The language the person chose, else the one their browser
            // last asked for, else the caller's.
            let seen: Option<String> = mail_locales::table
                .find(id)
                .select(mail_locales::locale)
                .first(c)
                .optional()?;
            let locale = locale
                .filter(|l| !l.is_empty())
                .or(seen)
                .filter(|l| !l.is_empty())
                .unwrap_or(fallback_locale);
            (Some(id), email, locale)
        }
        To::Address { address, locale } => (None, address, locale),
    };
    let address = address.trim().to_string();
    if address.is_empty() {
        return Err(AppError::bad_request("email_invalid"));
    }
    ensure_address(c, &address)?;
    let (kind, detail) = mail.encode();
    let now = now();
    let id = diesel::insert_into(mail_queue::table)
        .values((
            mail_queue::kind.eq(kind),
            mail_queue::user_id.eq(user_id),
            mail_queue::address.eq(&address),
            mail_queue::locale.eq(&locale),
            mail_queue::detail.eq(detail),
            mail_queue::status.eq("pending"),
            mail_queue::next_attempt_at.eq(now + chrono::Duration::seconds(seconds.max(0))),
            mail_queue::created_at.eq(now),
        ))
        .returning(mail_queue::id)
        .get_result(c)?;
    RECORDED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(id)
}

/// The settings key that holds how long a notification waits before it is
/// e-mailed, in seconds; absent when e-mail is off.
const NOTIFY_DELAY: &str = "mail.notify_delay_seconds";

/// Says, at start-up, whether this site sends e-mail and how long a
/// notification waits (so that one seen on the site first is not
/// e-mailed). The features read it with [`notify_delay`]: the processes
/// sharing a database share one mail configuration.
pub fn set_notify_delay(c: &mut DbConn, delay: Option<u64>) -> AppResult<()> {
    let value = delay.map(|d| d.to_string()).unwrap_or_default();
    crate::settings::put(c, NOTIFY_DELAY, &value)
}

/// How long a notification waits before it is e-mailed; `None` when e-mail
/// is off.
pub fn notify_delay(c: &mut DbConn) -> AppResult<Option<i64>> {
    Ok(crate::settings::get(c, NOTIFY_DELAY)?.and_then(|v| v.parse().ok()))
}

/// Remembers the language a person's browser asks for (at sign-in), for
/// the e-mails of those who chose none.
pub fn remember_locale(c: &mut DbConn, user_id: i64, locale: &str) -> AppResult<()> {
    let known: Option<String> = mail_locales::table
        .find(user_id)
        .select(mail_locales::locale)
        .first(c)
        .optional()?;
    if known.as_deref() == Some(locale) {
        // Nothing to write (most sign-ins).
        return Ok(());
    }
    crate::db::write(c, |c| {
        let n = diesel::update(mail_locales::table.find(user_id))
            .set(mail_locales::locale.eq(locale))
            .execute(c)?;
        if n == 0 {
            crate::db::insert_unless_exists(c, |c| {
                diesel::insert_into(mail_locales::table)
                    .values((
                        mail_locales::user_id.eq(user_id),
                        mail_locales::locale.eq(locale),
                    ))
                    .execute(c)
            })?;
        }
        Ok::<_, AppError>(())
    })
}

/// Gives an address its unsubscribe secret, once (inside a write
/// transaction). Addresses are compared in lower case.
fn ensure_address(c: &mut DbConn, address: &str) -> AppResult<()> {
    let key = address.to_lowercase();
    let n: i64 = mail_addresses::table.find(&key).count().get_result(c)?;
    if n == 0 {
        let mut bytes = [0u8; 24];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        // Two first messages to one address at once (on PostgreSQL): the
        // other transaction's secret is as good.
        crate::db::insert_unless_exists(c, |c| {
            diesel::insert_into(mail_addresses::table)
                .values((
                    mail_addresses::address.eq(&key),
                    mail_addresses::unsubscribe_token.eq(token),
                    mail_addresses::created_at.eq(now()),
                ))
                .execute(c)
        })?;
    }
    Ok(())
}

/// An address's unsubscribe secret and when it unsubscribed, if it did.
pub fn address_state(
    c: &mut DbConn,
    address: &str,
) -> AppResult<Option<(String, Option<NaiveDateTime>)>> {
    mail_addresses::table
        .find(address.to_lowercase())
        .select((
            mail_addresses::unsubscribe_token,
            mail_addresses::unsubscribed_at,
        ))
        .first(c)
        .optional()
        .map_err(AppError::from)
}

/// The address an unsubscribe secret belongs to, and whether it has
/// already unsubscribed. An unknown secret is `None`.
pub fn by_unsubscribe_token(c: &mut DbConn, token: &str) -> AppResult<Option<(String, bool)>> {
    if token.is_empty() || token.len() > 100 {
        return Ok(None);
    }
    let row: Option<(String, Option<NaiveDateTime>)> = mail_addresses::table
        .filter(mail_addresses::unsubscribe_token.eq(token))
        .select((mail_addresses::address, mail_addresses::unsubscribed_at))
        .first(c)
        .optional()?;
    Ok(row.map(|(a, at)| (a, at.is_some())))
}

/// Stops every message to the address of `token` but the transactional
/// ones (RFC 8058 one-click). Returns the address; an unknown secret is
/// `None` and changes nothing.
pub fn unsubscribe(c: &mut DbConn, token: &str) -> AppResult<Option<String>> {
    let Some((address, already)) = by_unsubscribe_token(c, token)? else {
        return Ok(None);
    };
    if !already {
        crate::db::write(c, |c| {
            diesel::update(mail_addresses::table.find(&address))
                .set(mail_addresses::unsubscribed_at.eq(Some(now())))
                .execute(c)
        })?;
    }
    Ok(Some(address))
}

/// Writes to the address of `token` again.
pub fn resubscribe(c: &mut DbConn, token: &str) -> AppResult<Option<String>> {
    let Some((address, _)) = by_unsubscribe_token(c, token)? else {
        return Ok(None);
    };
    crate::db::write(c, |c| {
        diesel::update(mail_addresses::table.find(&address))
            .set(mail_addresses::unsubscribed_at.eq(None::<NaiveDateTime>))
            .execute(c)
    })?;
    Ok(Some(address))
}

/// Delivery failures after which an address is treated as failing.
pub const BOUNCES_BEFORE_FAILING: i32 = 3;

/// `reply_to` with `+<tag><token>` added to its local part: the addresses
/// replies (`r`) and delivery failures (`b`) come back to.
pub fn tagged_address(reply_to: &str, tag: char, token: &str) -> Option<String> {
    let (local, domain) = reply_to.trim().rsplit_once('@')?;
    if local.is_empty() || domain.is_empty() {
        return None;
    }
    Some(format!("{local}+{tag}{token}@{domain}"))
}

/// The token of a recipient written by [`tagged_address`] with `tag` for
/// `reply_to`, whatever relays did to its case; `None` for any other
/// address.
pub fn tag_of(reply_to: &str, recipient: &str, tag: char) -> Option<String> {
    let (local, domain) = reply_to.trim().rsplit_once('@')?;
    let recipient = recipient
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    let (r_local, r_domain) = recipient.rsplit_once('@')?;
    if !r_domain.eq_ignore_ascii_case(domain) {
        return None;
    }
    let prefix = format!("{local}+{tag}");
    if r_local.len() <= prefix.len()
        || !r_local.is_char_boundary(prefix.len())
        || !r_local[..prefix.len()].eq_ignore_ascii_case(&prefix)
    {
        return None;
    }
    let token = r_local[prefix.len()..].to_ascii_lowercase();
    (token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())).then_some(token)
}

/// 128 random bits in lowercase hexadecimal (mail relays may change the
/// case of an address).
pub fn address_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The secret of the bounce address of `address` (made the first time),
/// and whether the address is failing. `None` when Ruche never wrote to it.
pub fn bounce_state(c: &mut DbConn, address: &str) -> AppResult<Option<(String, bool)>> {
    let address = address.to_lowercase();
    let row: Option<(Option<String>, Option<NaiveDateTime>)> = mail_addresses::table
        .find(&address)
        .select((mail_addresses::bounce_token, mail_addresses::failing_at))
        .first(c)
        .optional()?;
    let Some((token, failing)) = row else {
        return Ok(None);
    };
    let token = match token {
        Some(t) => t,
        None => {
            let t = address_token();
            crate::db::write(c, |c| {
                diesel::update(
                    mail_addresses::table
                        .find(&address)
                        .filter(mail_addresses::bounce_token.is_null()),
                )
                .set(mail_addresses::bounce_token.eq(Some(&t)))
                .execute(c)
            })?;
            // Another process may have given it one first.
            mail_addresses::table
                .find(&address)
                .select(mail_addresses::bounce_token)
                .first::<Option<String>>(c)?
                .unwrap_or(t)
        }
    };
    Ok(Some((token, failing.is_some())))
}

/// The address whose bounce secret is `token`.
pub fn bounce_address(c: &mut DbConn, token: &str) -> AppResult<Option<String>> {
    mail_addresses::table
        .filter(mail_addresses::bounce_token.eq(token))
        .select(mail_addresses::address)
        .first(c)
        .optional()
        .map_err(AppError::from)
}

/// Counts a delivery failure of the address whose bounce secret is
/// `token`: the address and whether it is now failing; `None` for an
/// unknown secret.
pub fn bounced(c: &mut DbConn, token: &str) -> AppResult<Option<(String, bool)>> {
    crate::db::write(c, |c| {
        let Some(address) = bounce_address(c, token)? else {
            return Ok(None);
        };
        // Counted in SQL: two reports at once are two.
        diesel::update(mail_addresses::table.find(&address))
            .set(mail_addresses::bounces.eq(mail_addresses::bounces + 1))
            .execute(c)?;
        let bounces: i32 = mail_addresses::table
            .find(&address)
            .select(mail_addresses::bounces)
            .first(c)?;
        let failing = bounces >= BOUNCES_BEFORE_FAILING;
        if failing {
            diesel::update(
                mail_addresses::table
                    .find(&address)
                    .filter(mail_addresses::failing_at.is_null()),
            )
            .set(mail_addresses::failing_at.eq(Some(now())))
            .execute(c)?;
        }
        Ok::<_, AppError>(Some((address, failing)))
    })
}

/// The address works (a message came from it, or an administrator says
/// so): its failures are forgotten.
pub fn works(c: &mut DbConn, address: &str) -> AppResult<()> {
    crate::db::write(c, |c| {
        diesel::update(mail_addresses::table.find(address.to_lowercase()))
            .set((
                mail_addresses::bounces.eq(0),
                mail_addresses::failing_at.eq(None::<NaiveDateTime>),
            ))
            .execute(c)
    })?;
    Ok(())
}

/// Addresses treated as failing, with their failures, newest first.
pub fn failing(c: &mut DbConn, limit: i64) -> AppResult<Vec<(String, i32, NaiveDateTime)>> {
    let rows: Vec<(String, i32, Option<NaiveDateTime>)> = mail_addresses::table
        .filter(mail_addresses::failing_at.is_not_null())
        .order(mail_addresses::failing_at.desc())
        .limit(limit)
        .select((
            mail_addresses::address,
            mail_addresses::bounces,
            mail_addresses::failing_at,
        ))
        .load(c)?;
    Ok(rows
        .into_iter()
        .filter_map(|(a, n, at)| at.map(|at| (a, n, at)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tagged_address_reads_back_whatever_the_case() {
        let token = "0123456789abcdef0123456789abcdef";
        let a = tagged_address("Ruche@Mail.Example.com", 'r', token).unwrap();
        assert_eq!(a, format!("Ruche+r{token}@Mail.Example.com"));
        let reply_to = "ruche@mail.example.com";
        assert_eq!(
            tag_of(reply_to, &a.to_uppercase(), 'r').as_deref(),
            Some(token)
        );
        assert_eq!(
            tag_of(reply_to, &format!("<{a}>"), 'r').as_deref(),
            Some(token)
        );
        // Another tag, domain or box, a short or odd secret: not this.
        assert_eq!(tag_of(reply_to, &a, 'b'), None);
        assert_eq!(tag_of(reply_to, &a.replace("Mail.", ""), 'r'), None);
        assert_eq!(tag_of(reply_to, reply_to, 'r'), None);
        assert_eq!(tag_of(reply_to, "ruche+rabc@mail.example.com", 'r'), None);
        assert_eq!(tag_of(reply_to, &a.replace('a', "z"), 'r'), None);
        assert_eq!(tag_of(reply_to, "ruché+r0@mail.example.com", 'r'), None);
        assert_eq!(tagged_address("nobody", 'r', token), None);
        assert_eq!(address_token().len(), 32);
    }

    #[test]
    fn every_mail_reads_back_as_written() {
        for m in [
            Mail::PasswordReset {
                token: "abc_DEF-123".into(),
            },
            Mail::Welcome,
            Mail::Notification { id: 7 },
            Mail::Digest {
                content: (1, 20),
                notifications: (0, 3),
            },
            Mail::Invitation {
                code: "xyz 1".into(),
                by: 42,
            },
            Mail::SecondStepReset { by: "admin".into() },
        ] {
            let (kind, detail) = m.encode();
            assert_eq!(Mail::decode(kind, &detail), Some(m));
        }
        assert_eq!(Mail::decode("password_reset", ""), None);
        assert_eq!(Mail::decode("nonsense", "x"), None);
        assert_eq!(Mail::decode("invitation", "notanumber code"), None);
        assert_eq!(Mail::decode("digest", "1 2 3"), None);
    }
}
