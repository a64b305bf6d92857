//! Replies by e-mail: the e-mail of a notification about a post or a
//! comment carries a reply address of its own (`mail.reply_to` with
//! `+r<secret>` added to its local part), which names one person and the
//! post or comment they were told about. What comes back to it becomes
//! that person's comment there, with their rights at that moment.
//!
//! The secret is 128 random bits in lowercase hexadecimal (mail relays may
//! change the case of an address), stored as a digest among the e-mail's
//! links (`mail_actions`, action `reply`); it works for
//! `mail.reply_days`, as often as the person replies. A reply is taken
//! only from the address the notification was sent to.

use chrono::Duration;
use diesel::prelude::*;

use crate::accounts::secrets::digest;
use crate::accounts::User;
use crate::content::{self, Text};
use crate::db::schema::{mail_actions, mail_received, notifications};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult};
use crate::mails;
use crate::notifications::by_mail::{for_mail, ForMail};

/// The action name of a reply address among the e-mail's links.
const REPLY: &str = "reply";

/// The address of a reply secret, from the configured `mail.reply_to`
/// (`ruche@example.com` gives `ruche+r<secret>@example.com`).
pub fn address(reply_to: &str, token: &str) -> Option<String> {
    mails::tagged_address(reply_to, 'r', token)
}

/// The secret in a recipient address written by [`address`] for
/// `reply_to`, if it is one.
pub fn token_of(reply_to: &str, recipient: &str) -> Option<String> {
    mails::tag_of(reply_to, recipient, 'r')
}

/// Makes the reply secret of notification `id`'s e-mail, when it is about
/// a post or a comment the person may read.
pub fn issue(c: &mut DbConn, id: i64, n: &ForMail, days: u32) -> AppResult<Option<String>> {
    // Only what someone else wrote to the person is answered this way (a
    // reaction points at the person's own words).
    if n.content.is_none() || !matches!(n.kind.as_str(), "mention" | "reply") {
        return Ok(None);
    }
    let token = mails::address_token();
    let at = now();
    db::write(c, |c| {
        diesel::insert_into(mail_actions::table)
            .values((
                mail_actions::token_hash.eq(digest(&token)),
                mail_actions::user_id.eq(n.user_id),
                mail_actions::notification_id.eq(id),
                mail_actions::action.eq(REPLY),
                mail_actions::created_at.eq(at),
                mail_actions::expires_at.eq(at + Duration::days(i64::from(days))),
            ))
            .execute(c)
    })?;
    Ok(Some(token))
}

/// Who replies, and to what.
#[derive(Debug, Clone)]
pub struct Replying {
    pub user: User,
    pub notification: i64,
    /// The post or comment the reply goes under.
    pub parent: i64,
}

/// Why a reply is not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// No such reply address (unknown, forged, expired, account closed,
    /// post gone or no longer readable).
    Unknown,
    /// The message is not from the address the notification went to.
    NotTheRecipient,
}

/// The reply address of `token`, if `sender` may reply through it.
pub fn accept(c: &mut DbConn, token: &str, sender: &str) -> AppResult<Result<Replying, Refused>> {
    let row: Option<(i64, i64)> = mail_actions::table
        .find(digest(&token.to_ascii_lowercase()))
        .filter(mail_actions::action.eq(REPLY))
        .filter(mail_actions::expires_at.gt(now()))
        .select((mail_actions::user_id, mail_actions::notification_id))
        .first(c)
        .optional()?;
    let Some((user_id, notification)) = row else {
        return Ok(Err(Refused::Unknown));
    };
    let user = match crate::accounts::find_by_id(c, user_id) {
        Ok(u) if !u.disabled && u.deleted_at.is_none() && u.is_local() => u,
        _ => return Ok(Err(Refused::Unknown)),
    };
    if crate::accounts::guest::check_open(c, user.id).is_err() {
        return Ok(Err(Refused::Unknown));
    }
    let Some(notice) = for_mail(c, notification)? else {
        return Ok(Err(Refused::Unknown));
    };
    let Some((parent, _, _)) = notice.content else {
        return Ok(Err(Refused::Unknown));
    };
    if !same_address(sender, &user.email) {
        return Ok(Err(Refused::NotTheRecipient));
    }
    Ok(Ok(Replying {
        user,
        notification,
        parent,
    }))
}

/// Whether two addresses are one mailbox (the domain's case never
/// matters; the local part's is ignored too, as nearly every server does).
fn same_address(a: &str, b: &str) -> bool {
    let a = a.trim();
    let b = b.trim();
    !a.is_empty() && a.eq_ignore_ascii_case(b)
}

/// Writes the reply as the person's comment (through the comment form's
/// function, with their rights now), once per `message_id`: `None` when
/// that message was taken before (its mail server sent it again). Then the
/// notification is read, the reply address remembers its use, and the
/// person's address is known to work.
pub fn post(
    c: &mut DbConn,
    r: &Replying,
    text: &Text,
    max_chars: usize,
    token: &str,
    message_id: Option<&str>,
) -> AppResult<Option<i64>> {
    let message_id = message_id.map(|m| m.chars().take(250).collect::<String>());
    if let Some(m) = &message_id {
        let seen: i64 = mail_received::table.find(m).count().get_result(c)?;
        if seen > 0 {
            return Ok(None);
        }
    }
    let row = content::create_comment(c, max_chars, &r.user, r.parent, text, &[])?;
    db::write(c, |c| {
        let at = now();
        if let Some(m) = &message_id {
            db::insert_unless_exists(c, |c| {
                diesel::insert_into(mail_received::table)
                    .values((
                        mail_received::message_id.eq(m),
                        mail_received::received_at.eq(at),
                    ))
                    .execute(c)
            })?;
        }
        diesel::update(
            notifications::table
                .find(r.notification)
                .filter(notifications::read_at.is_null()),
        )
        .set(notifications::read_at.eq(Some(at)))
        .execute(c)?;
        diesel::update(mail_actions::table.find(digest(&token.to_ascii_lowercase())))
            .set(mail_actions::used_at.eq(Some(at)))
            .execute(c)?;
        Ok::<_, AppError>(())
    })?;
    mails::works(c, &r.user.email)?;
    Ok(Some(row.id))
}

/// Forgets the Message-IDs of replies taken more than a month ago.
pub fn purge(c: &mut DbConn) -> AppResult<usize> {
    let before = now() - Duration::days(31);
    db::write(c, |c| {
        diesel::delete(mail_received::table.filter(mail_received::received_at.lt(before)))
            .execute(c)
    })
    .map_err(AppError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sender_must_be_the_recipient() {
        assert!(same_address("Ana@Example.com", "ana@example.com"));
        assert!(!same_address("eve@example.com", "ana@example.com"));
        assert!(!same_address("", ""));
    }
}
