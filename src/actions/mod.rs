//! One-click actions from an e-mail: like the post one was mentioned in,
//! follow back, accept an invitation, approve or refuse a join request,
//! confirm having read a must-read, mark the notification read — without signing in first.
//!
//! Each link of a notification's e-mail carries its own random secret, of
//! which only the digest is stored, bound to one person, one notification
//! and one action. Opening the link changes nothing (mail scanners open
//! links): it shows what will be done and one button, whose POST spends
//! the link ([`claim`]) and then does the action with the person's rights,
//! through the same feature functions as the pages. A link works once and
//! until `mail.action_days`; an unknown, expired or forged secret, a closed
//! account and a notification that is gone are all the same "no such
//! link".

pub mod reply;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::accounts::secrets::{digest, random_token};
use crate::accounts::User;
use crate::communities::membership;
use crate::db::schema::{mail_actions, notifications, reactions, users};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult};
use crate::notifications::by_mail::{for_mail, ForMail};

/// What a link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Like the post or comment of a mention or a reply.
    Like,
    /// Follow the person who followed.
    FollowBack,
    /// Join the community that invited.
    Accept,
    /// Let the person who asked into the community (moderators).
    Approve,
    Refuse,
    /// Confirm having read a must-read.
    ReadIt,
    /// Only mark the notification read.
    MarkRead,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Like => "like",
            Action::FollowBack => "follow_back",
            Action::Accept => "accept",
            Action::Approve => "approve",
            Action::Refuse => "refuse",
            Action::ReadIt => "read_it",
            Action::MarkRead => "mark_read",
        }
    }

    const ALL: [Action; 7] = [
        Action::Like,
        Action::FollowBack,
        Action::Accept,
        Action::Approve,
        Action::Refuse,
        Action::ReadIt,
        Action::MarkRead,
    ];

    fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// A link ready to be written in an e-mail.
#[derive(Debug, Clone)]
pub struct Link {
    pub action: Action,
    /// The secret of the link's address (`/mail/do/{token}`).
    pub token: String,
}

/// What a link is about: who acts, what they do, and the notification it
/// came with, read again now (a post no longer visible has no content).
#[derive(Debug, Clone)]
pub struct Target {
    pub user: User,
    pub action: Action,
    pub notification: i64,
    pub notice: ForMail,
    /// When [`claim`] spent the link (what [`release`] gives back).
    pub claimed_at: Option<NaiveDateTime>,
}

impl Target {
    /// The post or comment of the notification, while the person may read
    /// it.
    pub fn content_id(&self) -> Option<i64> {
        self.notice.content.as_ref().map(|(id, _, _)| *id)
    }

    /// The community's name (in addresses) of the notification.
    pub fn community(&self) -> Option<&str> {
        self.notice
            .community
            .as_ref()
            .map(|(name, _)| name.as_str())
    }
}

/// A link as found from its secret.
#[derive(Debug, Clone)]
pub enum Found {
    /// Not used yet (from [`look`]), or just spent by this call (from
    /// [`claim`]): the action may be done.
    Open(Target),
    /// Used before (this link, or another answer of the same e-mail).
    Used(Target),
    /// No longer what it offered: the invitation was withdrawn, the
    /// request answered on the site, the post liked or the person followed
    /// meanwhile. Nothing is done.
    Stale(Target),
}

/// The actions a notification's e-mail offers, from what is true now: a
/// like while the post is readable and not liked yet, a follow back while
/// one does not follow, an acceptance while the invitation is open, a
/// decision while the request waits, a confirmation while a must-read
/// waits for it; marking read always.
pub fn offers(c: &mut DbConn, n: &ForMail) -> AppResult<Vec<Action>> {
    let mut out = Vec::new();
    match n.kind.as_str() {
        "mention" | "reply" => {
            if let Some((id, _, _)) = n.content {
                let liked: i64 = reactions::table
                    .filter(reactions::content_id.eq(id))
                    .filter(reactions::user_id.eq(n.user_id))
                    .filter(reactions::kind.eq("like"))
                    .count()
                    .get_result(c)?;
                if liked == 0 {
                    out.push(Action::Like);
                }
            }
        }
        "follow" => {
            let actor = crate::accounts::find_by_username(c, &n.actor_username).ok();
            if let Some(actor) = actor.filter(|a| a.is_person() && !a.disabled) {
                if !crate::follows::is_following(c, n.user_id, actor.id)? {
                    out.push(Action::FollowBack);
                }
            }
        }
        "community_invite" if community_status(c, n, n.user_id)?.as_deref() == Some("invited") => {
            out.push(Action::Accept);
        }
        "community_request" => {
            let asker = crate::accounts::find_by_username(c, &n.actor_username).ok();
            if let Some(asker) = asker {
                if community_status(c, n, asker.id)?.as_deref() == Some("pending") {
                    out.push(Action::Approve);
                    out.push(Action::Refuse);
                }
            }
        }
        "must_read" | "must_read_reminder" => {
            if let Some((id, _, _)) = n.content {
                let pending = crate::content::must_read::view(c, n.user_id, id)
                    .map(|v| v.pending())
                    .unwrap_or(false);
                if pending {
                    out.push(Action::ReadIt);
                }
            }
        }
        _ => {}
    }
    out.push(Action::MarkRead);
    Ok(out)
}

/// A person's status in the community of a notification, if any.
fn community_status(c: &mut DbConn, n: &ForMail, person: i64) -> AppResult<Option<String>> {
    let Some((name, _)) = &n.community else {
        return Ok(None);
    };
    let id: Option<i64> = users::table
        .filter(users::username.eq(name))
        .filter(users::actor_type.eq("group"))
        .select(users::id)
        .first(c)
        .optional()?;
    match id {
        Some(id) => Ok(membership::status_of(c, id, person)?.map(|(s, _)| s)),
        None => Ok(None),
    }
}

/// Makes the links of notification `id`'s e-mail (one per action it
/// offers), valid for `days`.
pub fn issue(c: &mut DbConn, id: i64, n: &ForMail, days: u32) -> AppResult<Vec<Link>> {
    let actions = offers(c, n)?;
    let at = now();
    let until = at + Duration::days(i64::from(days));
    let links: Vec<Link> = actions
        .into_iter()
        .map(|action| Link {
            action,
            token: random_token(),
        })
        .collect();
    db::write(c, |c| {
        for l in &links {
            diesel::insert_into(mail_actions::table)
                .values((
                    mail_actions::token_hash.eq(digest(&l.token)),
                    mail_actions::user_id.eq(n.user_id),
                    mail_actions::notification_id.eq(id),
                    mail_actions::action.eq(l.action.as_str()),
                    mail_actions::created_at.eq(at),
                    mail_actions::expires_at.eq(until),
                ))
                .execute(c)?;
        }
        Ok::<_, AppError>(())
    })?;
    Ok(links)
}

/// A stored link: its person, notification, action and when it was used.
type Row = (i64, i64, String, Option<NaiveDateTime>);

/// Reads the link of `token` and what it is about; `None` for an unknown,
/// forged or expired secret, a closed account or a notification gone.
fn read(c: &mut DbConn, token: &str) -> AppResult<Option<Found>> {
    if token.is_empty() || token.len() > 100 {
        return Ok(None);
    }
    let row: Option<Row> = mail_actions::table
        .find(digest(token))
        .filter(mail_actions::expires_at.gt(now()))
        .select((
            mail_actions::user_id,
            mail_actions::notification_id,
            mail_actions::action,
            mail_actions::used_at,
        ))
        .first(c)
        .optional()?;
    let Some((user_id, notification, action, used_at)) = row else {
        return Ok(None);
    };
    let Some(action) = Action::parse(&action) else {
        return Ok(None);
    };
    let user = match crate::accounts::find_by_id(c, user_id) {
        Ok(u) if !u.disabled && u.deleted_at.is_none() && u.is_local() => u,
        _ => return Ok(None),
    };
    // A guest whose access ended acts no more, by e-mail either.
    if crate::accounts::guest::check_open(c, user.id).is_err() {
        return Ok(None);
    }
    let Some(notice) = for_mail(c, notification)? else {
        return Ok(None);
    };
    if notice.user_id != user.id {
        return Ok(None);
    }
    let target = Target {
        user,
        action,
        notification,
        notice,
        claimed_at: None,
    };
    if used_at.is_some() {
        return Ok(Some(Found::Used(target)));
    }
    if action != Action::MarkRead && !offers(c, &target.notice)?.contains(&action) {
        return Ok(Some(Found::Stale(target)));
    }
    Ok(Some(Found::Open(target)))
}

/// What the link of `token` would do, for its confirmation page; changes
/// nothing.
pub fn look(c: &mut DbConn, token: &str) -> AppResult<Option<Found>> {
    read(c, token)
}

/// Spends the link of `token`: `Found::Open` when this call took it (the
/// caller then does the action and calls [`done`], or [`release`] when the
/// action failed), `Found::Used` when it was spent before. Two clicks at
/// once: one takes it.
pub fn claim(c: &mut DbConn, token: &str) -> AppResult<Option<Found>> {
    let Some(found) = read(c, token)? else {
        return Ok(None);
    };
    let Found::Open(mut target) = found else {
        return Ok(Some(found));
    };
    let at = now();
    let took = db::write(c, |c| {
        diesel::update(
            mail_actions::table
                .find(digest(token))
                .filter(mail_actions::used_at.is_null())
                .filter(mail_actions::expires_at.gt(at)),
        )
        .set(mail_actions::used_at.eq(Some(at)))
        .execute(c)
    })?;
    Ok(Some(match took {
        1 => {
            target.claimed_at = Some(at);
            Found::Open(target)
        }
        _ => Found::Used(target),
    }))
}

/// Gives back a link whose action failed (a reason that may pass, or that
/// the page shows), so that it may be tried again: only the spending of
/// this [`claim`], not one that [`done`] made since.
pub fn release(c: &mut DbConn, token: &str, t: &Target) -> AppResult<()> {
    let Some(at) = t.claimed_at else {
        return Ok(());
    };
    db::write(c, |c| {
        diesel::update(
            mail_actions::table
                .find(digest(token))
                .filter(mail_actions::used_at.eq(Some(at))),
        )
        .set(mail_actions::used_at.eq(None::<NaiveDateTime>))
        .execute(c)
    })?;
    Ok(())
}

/// After the action: the notification is read, and the other links of its
/// e-mail are spent (one answer per notification: approve then refuse
/// would undo the first).
pub fn done(c: &mut DbConn, t: &Target) -> AppResult<()> {
    db::write(c, |c| {
        let at = now();
        diesel::update(
            notifications::table
                .find(t.notification)
                .filter(notifications::user_id.eq(t.user.id))
                .filter(notifications::read_at.is_null()),
        )
        .set(notifications::read_at.eq(Some(at)))
        .execute(c)?;
        if t.action != Action::MarkRead {
            diesel::update(
                mail_actions::table
                    .filter(mail_actions::notification_id.eq(t.notification))
                    .filter(mail_actions::used_at.is_null())
                    .filter(mail_actions::action.ne(Action::MarkRead.as_str())),
            )
            .set(mail_actions::used_at.eq(Some(at)))
            .execute(c)?;
        }
        Ok::<_, AppError>(())
    })
}

/// Forgets links expired for a day.
pub fn purge(c: &mut DbConn) -> AppResult<usize> {
    let before = now() - Duration::days(1);
    db::write(c, |c| {
        diesel::delete(mail_actions::table.filter(mail_actions::expires_at.lt(before))).execute(c)
    })
    .map_err(AppError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_action_reads_back_from_its_name() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
        assert_eq!(Action::parse("delete_everything"), None);
    }
}
