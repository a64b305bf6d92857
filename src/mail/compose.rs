//! How each message reads: a subject, a plain-text part and an HTML part
//! in the recipient's language, written from one outline so that the two
//! parts say the same thing.

use askama::Template;

use crate::actions::Action;
use crate::digest::{Digest, Frequency};
use crate::i18n::{self, Lang};
use crate::mails::Mail;
use crate::notifications::by_mail::ForMail;

/// What a message says, besides the fixed words: read from the database
/// by the worker just before sending.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The instance's name and address.
    pub site: String,
    pub base: String,
    /// The recipient's name and username (empty for an invitation).
    pub name: String,
    pub username: String,
    /// Who invites, and until when (an invitation).
    pub inviter: String,
    pub invite_until: Option<chrono::NaiveDateTime>,
    /// The community's title, for an invitation sent from a community.
    pub invite_community: Option<String>,
    /// Whether the invitation makes a guest.
    pub invite_guest: bool,
    /// The end of a guest's access: what it is, and whether the message
    /// goes to the guest (or to whom invited them).
    pub guest_ending: Option<(crate::accounts::guest::Ending, bool)>,
    /// How long a password link lasts.
    pub reset_minutes: u32,
    /// The one-click unsubscribe address, for all but transactional
    /// messages.
    pub unsubscribe: Option<String>,
    /// What a notification is about.
    pub notice: Option<ForMail>,
    /// The one-click links of a notification: what each does, and its
    /// address.
    pub actions: Vec<(Action, String)>,
    /// The address a reply to a notification goes to (it becomes a
    /// comment).
    pub reply_to: Option<String>,
    /// What a digest says, and how often the person gets one.
    pub digest: Option<Digest>,
    pub digest_frequency: Frequency,
}

/// A message ready for SMTP.
#[derive(Debug, Clone)]
pub struct Letter {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The outline both parts are written from.
#[derive(Template)]
#[template(path = "mail.html")]
struct Outline {
    lang: &'static str,
    subject: String,
    site: String,
    paragraphs: Vec<String>,
    /// Words of someone else, quoted (a notification's post).
    quote: Option<String>,
    /// Titled lists of items (a digest): each item a heading, a text and
    /// an address; then lines under the list.
    sections: Vec<Section>,
    button: Option<(String, String)>,
    /// One-click links under the button, with the line that introduces
    /// them.
    actions_title: String,
    actions: Vec<(String, String)>,
    link_hint: String,
    after: Vec<String>,
    footer: Vec<String>,
    unsubscribe: Option<(String, String)>,
}

struct Section {
    title: String,
    items: Vec<(String, String, String)>,
    notes: Vec<String>,
}

impl Outline {
    fn text(&self, lang: Lang) -> String {
        // French puts a (no-break) space before a colon.
        let colon = match lang {
            Lang::Fr => "\u{a0}:",
            Lang::En => ":",
        };
        let mut out = String::new();
        for p in &self.paragraphs {
            out.push_str(p);
            out.push_str("\n\n");
        }
        if let Some(q) = &self.quote {
            out.push_str(&format!("> {q}\n\n"));
        }
        for s in &self.sections {
            out.push_str(&format!("{}\n\n", s.title));
            for (heading, text, url) in &s.items {
                out.push_str(&format!("* {heading}\n"));
                if !text.is_empty() {
                    out.push_str(&format!("  {text}\n"));
                }
                out.push_str(&format!("  {url}\n\n"));
            }
            for n in &s.notes {
                out.push_str(&format!("{n}\n"));
            }
            if !s.notes.is_empty() {
                out.push('\n');
            }
        }
        if let Some((label, url)) = &self.button {
            out.push_str(&format!("{label}{colon}\n{url}\n\n"));
        }
        if !self.actions.is_empty() {
            out.push_str(&format!("{}\n", self.actions_title));
            for (label, url) in &self.actions {
                out.push_str(&format!("* {label}{colon} {url}\n"));
            }
            out.push('\n');
        }
        for p in &self.after {
            out.push_str(p);
            out.push_str("\n\n");
        }
        out.push_str("-- \n");
        for f in &self.footer {
            out.push_str(f);
            out.push('\n');
        }
        if let Some((label, url)) = &self.unsubscribe {
            out.push_str(&format!("{label}{colon} {url}\n"));
        }
        out
    }
}

fn date(lang: Lang, at: chrono::NaiveDateTime) -> String {
    match lang {
        Lang::Fr => at.format("%d/%m/%Y").to_string(),
        Lang::En => at.format("%-d %B %Y").to_string(),
    }
}

/// Writes `mail` in `lang`.
pub fn compose(mail: &Mail, lang: Lang, f: &Facts) -> Letter {
    let t = |k: &str| i18n::t(lang, k).to_string();
    let tf = |k: &str, args: &[(&str, String)]| i18n::tf(lang, k, args);
    let site = ("site", f.site.clone());
    let greeting = tf("mail.greeting", &[("name", f.name.clone())]);
    let account_footer = tf("mail.why_account", std::slice::from_ref(&site));
    let mut quote = None;
    let mut sections = Vec::new();
    let (subject, paragraphs, button, after, why) = match mail {
        Mail::PasswordReset { token } => (
            tf("mail.reset_subject", std::slice::from_ref(&site)),
            vec![
                greeting,
                tf(
                    "mail.reset_body",
                    &[("username", f.username.clone()), site.clone()],
                ),
                tf(
                    "mail.reset_expiry",
                    &[("minutes", f.reset_minutes.to_string())],
                ),
            ],
            Some((
                t("mail.reset_button"),
                format!("{}/password/reset/{token}", f.base),
            )),
            vec![t("mail.reset_ignore")],
            account_footer,
        ),
        Mail::Welcome => (
            tf("mail.welcome_subject", std::slice::from_ref(&site)),
            vec![
                greeting,
                tf(
                    "mail.welcome_body",
                    &[("username", f.username.clone()), site.clone()],
                ),
                t("mail.welcome_next"),
            ],
            Some((t("mail.welcome_button"), format!("{}/welcome", f.base))),
            vec![],
            account_footer,
        ),
        Mail::ConfirmAddress { token, welcome } => {
            let who = [("username", f.username.clone()), site.clone()];
            // The welcome of a new account, or a new address to prove.
            let (subject, body, mut paragraphs, after) = match welcome {
                true => (
                    "mail.welcome_subject",
                    "mail.welcome_body",
                    vec![t("mail.confirm_welcome")],
                    vec![t("mail.welcome_next"), t("mail.confirm_welcome_ignore")],
                ),
                false => (
                    "mail.confirm_subject",
                    "mail.confirm_body",
                    vec![],
                    vec![t("mail.confirm_ignore")],
                ),
            };
            paragraphs.insert(0, tf(body, &who));
            paragraphs.insert(0, greeting);
            paragraphs.push(tf(
                "mail.confirm_expiry",
                &[("days", crate::accounts::email::CHECK_DAYS.to_string())],
            ));
            (
                tf(subject, std::slice::from_ref(&site)),
                paragraphs,
                Some((
                    t("mail.confirm_button"),
                    format!("{}/account/email/confirm/{token}", f.base),
                )),
                after,
                tf("mail.why_confirm", std::slice::from_ref(&site)),
            )
        }
        Mail::SecondStepReset { by } => (
            tf("mail.step_reset_subject", std::slice::from_ref(&site)),
            vec![
                greeting,
                tf(
                    "mail.step_reset_body",
                    &[
                        ("username", f.username.clone()),
                        site.clone(),
                        ("admin", by.clone()),
                    ],
                ),
                t("mail.step_reset_next"),
            ],
            Some((t("mail.step_reset_button"), format!("{}/login", f.base))),
            vec![t("mail.step_reset_not_you")],
            account_footer,
        ),
        Mail::AddressChanged { new_address, .. } => (
            tf("mail.changed_subject", std::slice::from_ref(&site)),
            vec![
                greeting,
                tf(
                    "mail.changed_body",
                    &[
                        ("username", f.username.clone()),
                        site.clone(),
                        ("address", new_address.clone()),
                    ],
                ),
                t("mail.changed_not_you"),
            ],
            None,
            vec![],
            tf("mail.why_changed", std::slice::from_ref(&site)),
        ),
        Mail::GuestEnding { .. } => {
            let Some((e, to_guest)) = &f.guest_ending else {
                unreachable!("the worker reads the guest's access before writing");
            };
            let when = ("date", date(lang, e.until));
            let footer = tf("mail.why_guest_ending", std::slice::from_ref(&site));
            match to_guest {
                true => (
                    tf(
                        "mail.guest_ending_subject_guest",
                        &[when.clone(), site.clone()],
                    ),
                    vec![
                        greeting,
                        match e.inviter.is_empty() {
                            true => tf("mail.guest_ending_body_guest_alone", &[when]),
                            false => tf(
                                "mail.guest_ending_body_guest",
                                &[when, ("name", e.inviter.clone())],
                            ),
                        },
                    ],
                    Some((
                        tf("mail.guest_ending_open", std::slice::from_ref(&site)),
                        format!("{}/", f.base),
                    )),
                    vec![],
                    footer,
                ),
                false => (
                    tf(
                        "mail.guest_ending_subject",
                        &[("name", e.guest.clone()), when.clone()],
                    ),
                    vec![
                        greeting,
                        tf(
                            "mail.guest_ending_body",
                            &[("name", e.guest.clone()), when, site.clone()],
                        ),
                    ],
                    Some((
                        t("mail.guest_ending_renew"),
                        match &e.community {
                            Some(c) => format!("{}/communities/{c}/members", f.base),
                            None => format!("{}/", f.base),
                        },
                    )),
                    vec![],
                    footer,
                ),
            }
        }
        Mail::Invitation { code, .. } => {
            let inviter = ("name", f.inviter.clone());
            let mut body = match &f.invite_community {
                Some(title) if f.invite_guest => vec![
                    tf(
                        "mail.invite_guest_body",
                        &[inviter.clone(), ("community", title.clone()), site.clone()],
                    ),
                    tf("mail.invite_guest_join", std::slice::from_ref(&site)),
                ],
                Some(title) => vec![
                    tf(
                        "mail.invite_community_body",
                        &[inviter.clone(), ("community", title.clone()), site.clone()],
                    ),
                    tf("mail.invite_community_join", std::slice::from_ref(&site)),
                ],
                None => vec![tf("mail.invite_body", &[inviter.clone(), site.clone()])],
            };
            if let Some(until) = f.invite_until {
                body.push(tf("mail.invite_expiry", &[("date", date(lang, until))]));
            }
            let subject = match &f.invite_community {
                Some(title) => tf(
                    "mail.invite_community_subject",
                    &[inviter, ("community", title.clone()), site.clone()],
                ),
                None => tf("mail.invite_subject", &[inviter, site.clone()]),
            };
            (
                subject,
                body,
                Some(match f.invite_community {
                    Some(_) => (
                        t("mail.invite_community_button"),
                        format!("{}/invitations/{code}", f.base),
                    ),
                    None => (
                        t("mail.invite_button"),
                        format!("{}/signup?invite={code}", f.base),
                    ),
                }),
                vec![t("mail.invite_ignore")],
                tf("mail.why_invite", std::slice::from_ref(&site)),
            )
        }
        Mail::Digest { .. } => {
            let d = f.digest.clone().unwrap_or_default();
            if !d.notices.is_empty() {
                let items = d
                    .notices
                    .iter()
                    .map(|n| {
                        let (name, title) = n.community.clone().unwrap_or_default();
                        let title = if title.trim().is_empty() {
                            name.clone()
                        } else {
                            title
                        };
                        let what = tf(
                            &format!("mail.n_{}", n.kind),
                            &[("actor", n.actor.clone()), ("community", title)],
                        );
                        let path = match (n.content_id, n.kind.as_str()) {
                            (Some(id), _) => format!("/posts/{id}"),
                            (None, "community_request") => format!("/communities/{name}/members"),
                            (None, k) if k.starts_with("community") => {
                                format!("/communities/{name}")
                            }
                            _ => format!("/people/{}", n.actor_username),
                        };
                        (what, String::new(), format!("{}{path}", f.base))
                    })
                    .collect();
                let mut notes = Vec::new();
                let hidden = d.notices_total - d.notices.len() as i64;
                if hidden > 0 {
                    notes.push(tf(
                        "mail.digest_more_notices",
                        &[
                            ("n", hidden.to_string()),
                            ("url", format!("{}/notifications", f.base)),
                        ],
                    ));
                }
                sections.push(Section {
                    title: tf("mail.digest_notices", &[("n", d.notices_total.to_string())]),
                    items,
                    notes,
                });
            }
            if !d.posts.is_empty() {
                let items = d
                    .posts
                    .iter()
                    .map(|p| {
                        let heading = match &p.community {
                            Some(c) => tf(
                                "mail.digest_post_in",
                                &[("author", p.author.clone()), ("community", c.clone())],
                            ),
                            None => p.author.clone(),
                        };
                        (
                            heading,
                            p.excerpt.clone(),
                            format!("{}/posts/{}", f.base, p.id),
                        )
                    })
                    .collect();
                let notes = d
                    .more
                    .iter()
                    .map(|(community, n)| match community {
                        Some(c) => tf(
                            "mail.digest_more_in",
                            &[("n", n.to_string()), ("community", c.clone())],
                        ),
                        None => tf("mail.digest_more_followed", &[("n", n.to_string())]),
                    })
                    .collect();
                sections.push(Section {
                    title: t("mail.digest_posts"),
                    items,
                    notes,
                });
            }
            let listed =
                |posts: &[crate::digest::DigestPost],
                 heading: &dyn Fn(&crate::digest::DigestPost) -> String| {
                    posts
                        .iter()
                        .map(|p| {
                            (
                                heading(p),
                                p.excerpt.clone(),
                                format!("{}/posts/{}", f.base, p.id),
                            )
                        })
                        .collect::<Vec<_>>()
                };
            let in_community = |p: &crate::digest::DigestPost| match &p.community {
                Some(c) => tf(
                    "mail.digest_post_in",
                    &[("author", p.author.clone()), ("community", c.clone())],
                ),
                None => p.author.clone(),
            };
            if !d.documents.is_empty() {
                sections.push(Section {
                    title: t("mail.digest_documents"),
                    items: listed(&d.documents, &in_community),
                    notes: Vec::new(),
                });
            }
            if !d.unanswered.is_empty() {
                let by = |p: &crate::digest::DigestPost| {
                    tf("mail.digest_mentioned_by", &[("actor", p.author.clone())])
                };
                sections.push(Section {
                    title: t("mail.digest_unanswered"),
                    items: listed(&d.unanswered, &by),
                    notes: Vec::new(),
                });
            }
            let how_often = match f.digest_frequency {
                Frequency::Weekly => t("mail.digest_weekly"),
                _ => t("mail.digest_daily"),
            };
            (
                tf("mail.digest_subject", std::slice::from_ref(&site)),
                vec![
                    greeting,
                    tf("mail.digest_intro", std::slice::from_ref(&site)),
                ],
                Some((t("mail.digest_button"), format!("{}/", f.base))),
                vec![tf(
                    "mail.digest_settings",
                    &[
                        ("when", how_often),
                        ("url", format!("{}/settings#mail", f.base)),
                    ],
                )],
                tf("mail.why_digest", std::slice::from_ref(&site)),
            )
        }
        Mail::Notification { .. } => {
            let n = f.notice.clone().unwrap_or_else(|| ForMail {
                user_id: 0,
                kind: String::new(),
                actor: String::new(),
                actor_username: String::new(),
                content: None,
                community: None,
                read_at: None,
            });
            let what = n.what(lang);
            let (label, path) = n.page();
            quote = n
                .content
                .as_ref()
                .map(|(_, text, _)| text.clone())
                .filter(|t| !t.is_empty());
            let mut after = Vec::new();
            if f.reply_to.is_some() {
                after.push(t("mail.n_reply_by_mail"));
            }
            after.push(tf(
                "mail.n_settings",
                &[("url", format!("{}/settings#mail", f.base))],
            ));
            (
                what.clone(),
                vec![greeting, format!("{what}.")],
                Some((t(label), format!("{}{path}", f.base))),
                after,
                tf("mail.why_notification", std::slice::from_ref(&site)),
            )
        }
    };
    let outline = Outline {
        quote,
        sections,
        lang: lang.code(),
        subject: subject.clone(),
        site: f.site.clone(),
        paragraphs,
        button,
        actions_title: t("mail.actions_title"),
        actions: f
            .actions
            .iter()
            .map(|(a, url)| (t(&format!("mail.do_{}", a.as_str())), url.clone()))
            .collect(),
        link_hint: t("mail.link_hint"),
        after,
        footer: vec![why, format!("{} · {}", f.site, f.base)],
        unsubscribe: f
            .unsubscribe
            .as_ref()
            .map(|u| (t("mail.unsubscribe"), u.clone())),
    };
    let html = outline.render().unwrap_or_else(|e| {
        tracing::warn!(error = %e, "mail template failed; sending text only");
        String::new()
    });
    Letter {
        subject,
        text: outline.text(lang),
        html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            site: "Ruche <Paris>".into(),
            base: "https://paris.example".into(),
            name: "Zoé".into(),
            username: "zoe".into(),
            inviter: "Ana".into(),
            invite_until: chrono::NaiveDate::from_ymd_opt(2026, 12, 24)
                .and_then(|d| d.and_hms_opt(10, 0, 0)),
            reset_minutes: 60,
            unsubscribe: Some("https://paris.example/mail/unsubscribe/abc".into()),
            notice: None,
            ..Facts::default()
        }
    }

    #[test]
    fn both_parts_carry_the_link_and_the_words_of_the_language() {
        let m = Mail::PasswordReset {
            token: "tok123".into(),
        };
        let en = compose(&m, Lang::En, &facts());
        let fr = compose(&m, Lang::Fr, &facts());
        for l in [&en, &fr] {
            assert!(l
                .text
                .contains("https://paris.example/password/reset/tok123"));
            assert!(l
                .html
                .contains("https://paris.example/password/reset/tok123"));
            assert!(l.text.contains("60"));
        }
        assert!(en.subject.contains("password"), "{}", en.subject);
        assert!(fr.subject.contains("mot de passe"), "{}", fr.subject);
        // The site's name is escaped in HTML, kept as is in text.
        assert!(
            en.html.contains("Ruche &#60;Paris&#62;") || en.html.contains("Ruche &lt;Paris&gt;")
        );
        assert!(en.text.contains("Ruche <Paris>"));
        assert!(!en.html.contains("<Paris>"));
    }

    #[test]
    fn a_notification_offers_its_one_click_links_in_both_parts_and_languages() {
        let mut f = facts();
        f.notice = Some(ForMail {
            user_id: 1,
            kind: "community_request".into(),
            actor: "Bob".into(),
            actor_username: "bob".into(),
            content: None,
            community: Some(("audit".into(), "Audit team".into())),
            read_at: None,
        });
        f.actions = vec![
            (Action::Approve, "https://paris.example/mail/do/yes".into()),
            (Action::Refuse, "https://paris.example/mail/do/no".into()),
        ];
        let m = Mail::Notification { id: 7 };
        let en = compose(&m, Lang::En, &f);
        assert_eq!(en.subject, "Bob asks to join Audit team");
        assert!(en
            .text
            .contains("* Approve the request: https://paris.example/mail/do/yes"));
        assert!(en
            .text
            .contains("* Refuse the request: https://paris.example/mail/do/no"));
        assert!(en.html.contains("https://paris.example/mail/do/yes"));
        assert!(
            en.text.contains("/communities/audit/members"),
            "{}",
            en.text
        );
        let fr = compose(&m, Lang::Fr, &f);
        assert!(fr.text.contains("Accepter la demande"), "{}", fr.text);
        assert!(fr.html.contains("Refuser la demande"));
        // No link, no line about links.
        f.actions.clear();
        assert!(!compose(&m, Lang::En, &f).text.contains("Or act from here"));
    }

    #[test]
    fn an_invitation_says_who_invites_and_until_when() {
        let m = Mail::Invitation {
            code: "c0de".into(),
            by: 1,
        };
        let fr = compose(&m, Lang::Fr, &facts());
        assert!(fr.subject.contains("Ana"), "{}", fr.subject);
        assert!(fr.text.contains("24/12/2026"), "{}", fr.text);
        assert!(fr.text.contains("https://paris.example/signup?invite=c0de"));
        let en = compose(&m, Lang::En, &facts());
        assert!(en.text.contains("24 December 2026"), "{}", en.text);
    }
}
