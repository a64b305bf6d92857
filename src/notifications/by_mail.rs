//! Notifications by e-mail: what each person wants per kind, and what a
//! notification's e-mail says.
//!
//! A notification whose kind the person wants "now" is queued as an e-mail
//! in the transaction that records it, to leave after
//! `mail.notify_delay_seconds`; if the person has seen it on the site by
//! then (the notifications page marks it read), the mail worker drops it.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::audience::{self, Viewer};
use crate::db::schema::{content, mail_preferences, notifications, users};
use crate::db::{self, DbConn};
use crate::error::{AppError, AppResult};
use crate::mails::{self, Mail, To};

/// The kinds of notification a person may receive by e-mail, in the order
/// the settings show them.
pub const KINDS: [&str; 17] = [
    "mention",
    "reply",
    "community_invite",
    "community_request",
    "follow",
    "reaction",
    "community_accepted",
    "community_post",
    "document_updated",
    "poll_closed",
    "idea_status",
    "answer_accepted",
    "event_reminder",
    "event_place",
    "event_changed",
    "must_read",
    "must_read_reminder",
];

/// When a kind of notification is e-mailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// A few minutes after it happens, unless seen on the site first.
    Now,
    /// In the next digest, if still unread then.
    Digest,
    Never,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Now => "now",
            Mode::Digest => "digest",
            Mode::Never => "never",
        }
    }

    pub fn parse(s: &str) -> AppResult<Mode> {
        match s {
            "now" => Ok(Mode::Now),
            "digest" => Ok(Mode::Digest),
            "never" => Ok(Mode::Never),
            _ => Err(AppError::bad_request("mail_mode_invalid").with("value", s)),
        }
    }

    /// What a person who chose nothing gets: what asks for them (a
    /// mention, a reply, an invitation, a join request to decide) and what
    /// would come too late in a digest (an event's reminder, a place
    /// given, a change of date, a must-read and its reminder) at once; the rest in the digest.
    pub fn default_for(kind: &str) -> Mode {
        match kind {
            "mention" | "reply" | "community_invite" | "community_request" | "event_reminder"
            | "event_place" | "event_changed" | "must_read" | "must_read_reminder" => Mode::Now,
            _ => Mode::Digest,
        }
    }
}

/// A person's choice for every kind, defaults included, in [`KINDS`] order.
pub fn preferences(c: &mut DbConn, user_id: i64) -> AppResult<Vec<(&'static str, Mode)>> {
    let stored: Vec<(String, String)> = mail_preferences::table
        .filter(mail_preferences::user_id.eq(user_id))
        .select((mail_preferences::kind, mail_preferences::mode))
        .load(c)?;
    Ok(KINDS
        .iter()
        .map(|k| {
            let mode = stored
                .iter()
                .find(|(kind, _)| kind == k)
                .and_then(|(_, m)| Mode::parse(m).ok())
                .unwrap_or_else(|| Mode::default_for(k));
            (*k, mode)
        })
        .collect())
}

/// Sets some of a person's choices (all or nothing: an unknown kind or mode
/// changes nothing).
pub fn set_preferences(
    c: &mut DbConn,
    user_id: i64,
    choices: &[(String, String)],
) -> AppResult<()> {
    let mut parsed = Vec::with_capacity(choices.len());
    for (kind, mode) in choices {
        let Some(kind) = KINDS.iter().find(|k| *k == kind) else {
            return Err(AppError::bad_request("mail_kind_invalid").with("value", kind));
        };
        parsed.push((*kind, Mode::parse(mode)?));
    }
    db::write(c, |c| {
        for (kind, mode) in &parsed {
            let n = diesel::update(
                mail_preferences::table
                    .filter(mail_preferences::user_id.eq(user_id))
                    .filter(mail_preferences::kind.eq(kind)),
            )
            .set(mail_preferences::mode.eq(mode.as_str()))
            .execute(c)?;
            if n == 0 {
                db::insert_unless_exists(c, |c| {
                    diesel::insert_into(mail_preferences::table)
                        .values((
                            mail_preferences::user_id.eq(user_id),
                            mail_preferences::kind.eq(kind),
                            mail_preferences::mode.eq(mode.as_str()),
                        ))
                        .execute(c)
                })?;
            }
        }
        Ok::<_, AppError>(())
    })
}

/// The person's choice for a kind (the mail worker asks again before
/// sending: a choice changed meanwhile wins).
pub fn mode(c: &mut DbConn, user_id: i64, kind: &str) -> AppResult<Mode> {
    let stored: Option<String> = mail_preferences::table
        .filter(mail_preferences::user_id.eq(user_id))
        .filter(mail_preferences::kind.eq(kind))
        .select(mail_preferences::mode)
        .first(c)
        .optional()?;
    Ok(stored
        .and_then(|m| Mode::parse(&m).ok())
        .unwrap_or_else(|| Mode::default_for(kind)))
}

/// Queues the e-mail of a notification just recorded, when e-mail is on and
/// the person wants this kind now (inside the write transaction).
pub(super) fn queue(c: &mut DbConn, id: i64, user_id: i64, kind: &str) -> AppResult<()> {
    let Some(delay) = mails::notify_delay(c)? else {
        return Ok(());
    };
    if mode(c, user_id, kind)? != Mode::Now {
        return Ok(());
    }
    mails::record_later(
        c,
        To::Account {
            id: user_id,
            fallback_locale: "en".into(),
        },
        &Mail::Notification { id },
        delay,
    )?;
    Ok(())
}

/// What the e-mail of a notification says.
#[derive(Debug, Clone)]
pub struct ForMail {
    /// The person told.
    pub user_id: i64,
    pub kind: String,
    /// Who did it: their name and username (the community's for news
    /// from a community).
    pub actor: String,
    pub actor_username: String,
    /// The post or comment, when the person may read it: its id, the
    /// beginning of its text, and its thread's post.
    pub content: Option<(i64, String, i64)>,
    /// The community: its name and title.
    pub community: Option<(String, String)>,
    /// When the person saw it on the site, if they did.
    pub read_at: Option<NaiveDateTime>,
}

impl ForMail {
    /// The page of what it is about (a path), and the translation key of
    /// a link to it.
    pub fn page(&self) -> (&'static str, String) {
        let community = self.community.as_ref().map_or("", |(n, _)| n.as_str());
        match (&self.content, self.kind.as_str()) {
            (Some((id, _, _)), _) => ("mail.n_open_post", format!("/posts/{id}")),
            (None, "community_request") => (
                "mail.n_open_requests",
                format!("/communities/{community}/members"),
            ),
            (None, k) if k.starts_with("community") => {
                ("mail.n_open_community", format!("/communities/{community}"))
            }
            _ => (
                "mail.n_open_profile",
                format!("/people/{}", self.actor_username),
            ),
        }
    }

    /// The community's title, or its name when it has none.
    pub fn community_title(&self) -> String {
        match &self.community {
            Some((name, title)) if title.trim().is_empty() => name.clone(),
            Some((_, title)) => title.clone(),
            None => String::new(),
        }
    }

    /// What happened, in words ("Ana mentioned you").
    pub fn what(&self, lang: crate::i18n::Lang) -> String {
        crate::i18n::tf(
            lang,
            &format!("mail.n_{}", self.kind),
            &[
                ("actor", self.actor.clone()),
                ("community", self.community_title()),
            ],
        )
    }
}

/// Characters of a post quoted in an e-mail.
const EXCERPT: usize = 280;

/// A notification as stored: the person told, the kind, who did it, what
/// about, and when it was seen.
type NotificationRow = (
    i64,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<NaiveDateTime>,
);

/// What the e-mail of notification `id` says; `None` when it is gone.
pub fn for_mail(c: &mut DbConn, id: i64) -> AppResult<Option<ForMail>> {
    let row: Option<NotificationRow> = notifications::table
        .find(id)
        .select((
            notifications::user_id,
            notifications::kind,
            notifications::actor_id,
            notifications::content_id,
            notifications::community_id,
            notifications::read_at,
        ))
        .first(c)
        .optional()?;
    let Some((user_id, kind, actor_id, content_id, community_id, read_at)) = row else {
        return Ok(None);
    };
    let (actor_username, display): (String, String) = users::table
        .find(actor_id)
        .select((users::username, users::display_name))
        .first(c)?;
    let actor = if display.trim().is_empty() {
        actor_username.clone()
    } else {
        display
    };
    let content = match content_id {
        Some(cid) if audience::may_read(c, &Viewer::Person(user_id), cid)? => {
            let (body, root): (String, Option<i64>) = content::table
                .find(cid)
                .select((content::body, content::root_id))
                .first(c)?;
            Some((cid, excerpt(&body), root.unwrap_or(cid)))
        }
        _ => None,
    };
    let community = community_names(c, community_id)?;
    Ok(Some(ForMail {
        user_id,
        kind,
        actor,
        actor_username,
        content,
        community,
        read_at,
    }))
}

/// The name and title of the community a notification is about.
pub fn community_names(c: &mut DbConn, id: Option<i64>) -> AppResult<Option<(String, String)>> {
    let Some(id) = id else {
        return Ok(None);
    };
    users::table
        .find(id)
        .select((users::username, users::display_name))
        .first::<(String, String)>(c)
        .optional()
        .map_err(AppError::from)
}

/// The beginning of a text, on whole words, with an ellipsis when cut.
pub fn excerpt(body: &str) -> String {
    let flat = crate::markdown::plain_text(body);
    if flat.chars().count() <= EXCERPT {
        return flat;
    }
    let cut: String = flat.chars().take(EXCERPT).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(a, _)| a);
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_excerpt_ends_on_a_whole_word() {
        assert_eq!(excerpt("short\n\ntext"), "short text");
        let long = "word ".repeat(100);
        let e = excerpt(&long);
        assert!(e.ends_with("word…"), "{e}");
        assert!(e.chars().count() <= EXCERPT + 1);
    }

    #[test]
    fn defaults_ask_for_what_needs_the_person() {
        assert_eq!(Mode::default_for("mention"), Mode::Now);
        assert_eq!(Mode::default_for("community_request"), Mode::Now);
        assert_eq!(Mode::default_for("follow"), Mode::Digest);
        assert!(Mode::parse("sometimes").is_err());
    }
}
