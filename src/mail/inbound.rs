//! Replies by e-mail, coming in: a message handed over by the domain's
//! mail server (`ruche mail receive`, or SMTP to `mail.inbound_listen`,
//! see `listener`) becomes a comment of the person whose reply address it
//! was sent to (`actions::reply`).
//!
//! Every message is hostile until shown otherwise: it is refused whole
//! when larger than `mail.inbound_max_bytes`, unreadable, automatic (an
//! out-of-office answer: `Auto-Submitted`, `Precedence: bulk`…, or a
//! delivery report), sent to no reply address of ours, or sent from
//! another address than the one the notification went to; what is left of
//! its text once the quoted message and the signature are cut must not be
//! empty. Only then does the comment go through the same function as the
//! site's comment form, with the person's rights at that moment.

use std::sync::LazyLock;

use mail_parser::MessageParser;
use regex::Regex;

use crate::actions::reply::{self, Refused};
use crate::app::AppState;
use crate::content::Text;
use crate::error::AppError;
use crate::mails;

/// What became of a message.
#[derive(Debug)]
pub enum Verdict {
    /// A comment was written: its id.
    Posted(i64),
    /// Automatic mail (out of office, delivery report): dropped without an
    /// answer, so that two robots do not write to each other forever.
    Ignored(&'static str),
    /// Refused, for this reason (told to the sender by their mail server).
    Refused(Reason),
    /// Could not be handled now (the database): the mail server keeps the
    /// message and tries again.
    Later(String),
}

/// Why a message is refused.
#[derive(Debug)]
pub enum Reason {
    TooLarge,
    Malformed,
    /// No reply address of ours among the recipients, or one that is
    /// unknown, expired, or leads to something gone.
    UnknownAddress,
    NotTheRecipient,
    NoText,
    /// The comment itself was refused (too long, no longer allowed…).
    NotAllowed(AppError),
}

impl Reason {
    /// What the sender is told, in English (mail servers pass it on as is).
    pub fn explain(&self) -> String {
        match self {
            Reason::TooLarge => "the message is too large".into(),
            Reason::Malformed => "the message cannot be read".into(),
            Reason::UnknownAddress => {
                "no such reply address (it may have expired): answer from the site".into()
            }
            Reason::NotTheRecipient => {
                "replies are taken only from the address the notification was sent to".into()
            }
            Reason::NoText => "the reply has no text of its own".into(),
            Reason::NotAllowed(e) => format!(
                "the comment was refused: {}",
                crate::error::message(e, crate::i18n::Lang::En)
            ),
        }
    }
}

/// Handles one message. `envelope` holds the recipients the mail server
/// gave (SMTP `RCPT TO`, or `--to`); without any, the message's own
/// `Delivered-To`, `X-Original-To`, `To` and `Cc` are read.
pub async fn receive(state: &AppState, raw: &[u8], envelope: &[String]) -> Verdict {
    let cfg = &state.config.mail;
    if raw.len() > cfg.inbound_max_bytes {
        return Verdict::Refused(Reason::TooLarge);
    }
    let Some(msg) = MessageParser::default().parse(raw) else {
        return Verdict::Refused(Reason::Malformed);
    };
    // A delivery failure of a message Ruche sent: counted for its address.
    if let Some(token) = recipients_of(&msg, envelope)
        .iter()
        .find_map(|r| mails::tag_of(&cfg.reply_to, r, 'b'))
    {
        return bounce(state, &msg, raw, token).await;
    }
    if let Some(why) = automatic(&msg) {
        return Verdict::Ignored(why);
    }
    let Some(sender) = msg
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .map(str::to_string)
    else {
        return Verdict::Refused(Reason::Malformed);
    };
    let Some(token) = recipients_of(&msg, envelope)
        .iter()
        .find_map(|r| reply::token_of(&cfg.reply_to, r))
    else {
        return Verdict::Refused(Reason::UnknownAddress);
    };
    let text = words_of(&msg);
    if text.is_empty() {
        return Verdict::Refused(Reason::NoText);
    }
    if !cfg.inbound_authserv_id.trim().is_empty()
        && !authenticated(&msg, raw, &cfg.inbound_authserv_id, &sender)
    {
        return Verdict::Refused(Reason::NotTheRecipient);
    }
    let (t, s) = (token.clone(), sender.clone());
    let replying = match state.db.run(move |c| reply::accept(c, &t, &s)).await {
        Ok(Ok(r)) => r,
        Ok(Err(Refused::Unknown)) => return Verdict::Refused(Reason::UnknownAddress),
        Ok(Err(Refused::NotTheRecipient)) => return Verdict::Refused(Reason::NotTheRecipient),
        Err(e) => return Verdict::Later(e.to_string()),
    };
    let text = Text::resolved(state, text).await;
    let max = state.config.content.max_post_chars;
    let message_id = msg.message_id().map(str::to_string);
    let written = state
        .db
        .run(move |c| reply::post(c, &replying, &text, max, &token, message_id.as_deref()))
        .await;
    match written {
        Ok(Some(id)) => {
            // The comment's news leaves now (another process's worker
            // would find it at its next poll).
            state.wake.notify_one();
            Verdict::Posted(id)
        }
        Ok(None) => Verdict::Ignored("taken before (the same Message-ID)"),
        Err(e) if e.kind.status() >= 500 => Verdict::Later(e.to_string()),
        Err(e) => Verdict::Refused(Reason::NotAllowed(e)),
    }
}

/// A message to a bounce address: counted when it reports that a message
/// to that very address failed; anything else (an out-of-office answer,
/// an unknown bounce address) is dropped without an answer, so that
/// nothing bounces back to a forged sender.
async fn bounce(
    state: &AppState,
    msg: &mail_parser::Message<'_>,
    raw: &[u8],
    token: String,
) -> Verdict {
    let t = token.clone();
    let address = match state.db.run(move |c| mails::bounce_address(c, &t)).await {
        Ok(Some(a)) => a,
        Ok(None) => return Verdict::Ignored("an unknown bounce address"),
        Err(e) => return Verdict::Later(e.to_string()),
    };
    if !failed_delivery(msg, raw, &address) {
        return Verdict::Ignored("not a delivery failure of this address");
    }
    match state.db.run(move |c| mails::bounced(c, &token)).await {
        Ok(Some((address, failing))) => {
            tracing::info!(%address, failing, "a delivery failure came back");
            Verdict::Ignored("a delivery failure, counted")
        }
        Ok(None) => Verdict::Ignored("an unknown bounce address"),
        Err(e) => Verdict::Later(e.to_string()),
    }
}

/// Whether the mail server named `authserv_id` wrote, in an
/// `Authentication-Results` header (RFC 8601), that the message passed
/// DMARC for the sender's domain, or carries a valid DKIM signature of
/// that domain. Headers from other servers (which a sender can write) are
/// not read.
fn authenticated(msg: &mail_parser::Message, raw: &[u8], authserv_id: &str, sender: &str) -> bool {
    let Some((_, domain)) = sender.rsplit_once('@') else {
        return false;
    };
    let domain = domain.to_ascii_lowercase();
    let id = authserv_id.trim().to_ascii_lowercase();
    msg.headers()
        .iter()
        .filter(|h| h.name().eq_ignore_ascii_case("Authentication-Results"))
        .filter_map(|h| raw.get(h.offset_start() as usize..h.offset_end() as usize))
        .map(|v| String::from_utf8_lossy(v).to_ascii_lowercase())
        .any(|v| {
            let mut parts = v.split(';').map(str::trim);
            let server = parts.next().unwrap_or_default();
            // "mx.example.com" or "mx.example.com 1" (a version).
            if server.split_whitespace().next() != Some(id.as_str()) {
                return false;
            }
            parts.any(|r| {
                let words: Vec<&str> = r.split_whitespace().collect();
                let of_domain = |key: &str| words.iter().any(|w| *w == format!("{key}={domain}"));
                (words.first() == Some(&"dmarc=pass") && of_domain("header.from"))
                    || (words.first() == Some(&"dkim=pass") && of_domain("header.d"))
            })
        })
}

/// The recipients: the envelope's, else the message's own
/// `Delivered-To`, `X-Original-To`, `To` and `Cc`.
fn recipients_of(msg: &mail_parser::Message, envelope: &[String]) -> Vec<String> {
    let mut recipients: Vec<String> = envelope.to_vec();
    if recipients.is_empty() {
        for name in ["Delivered-To", "X-Original-To"] {
            if let Some(v) = msg.header_raw(name) {
                recipients.push(v.trim().to_string());
            }
        }
        for list in [msg.to(), msg.cc()].into_iter().flatten() {
            recipients.extend(list.iter().filter_map(|a| a.address()).map(str::to_string));
        }
    }
    recipients
}

/// Whether a message to a bounce address is a delivery report (RFC 3464:
/// `multipart/report`) saying that the delivery to `address` failed
/// (`Action: failed` and its `Final-Recipient`), not that it is delayed.
fn failed_delivery(msg: &mail_parser::Message, raw: &[u8], address: &str) -> bool {
    let report = msg.header_raw("Content-Type").is_some_and(|v| {
        v.trim()
            .to_ascii_lowercase()
            .starts_with("multipart/report")
    });
    if !report {
        return false;
    }
    // The status part sits near the top of a report.
    let head = &raw[..raw.len().min(256 * 1024)];
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let address = address.to_ascii_lowercase();
    text.contains("action: failed")
        && text
            .lines()
            .any(|l| l.trim_start().starts_with("final-recipient:") && l.contains(address.as_str()))
}

/// Why a message was written by a machine, if it was: an automatic answer
/// (RFC 3834 `Auto-Submitted`, the older `Precedence`, Microsoft's and
/// others' markers) or a delivery report (a bounce).
fn automatic(msg: &mail_parser::Message) -> Option<&'static str> {
    let header = |name: &str| {
        msg.header_raw(name)
            .map(|v| v.trim().to_ascii_lowercase())
            .filter(|v| !v.is_empty())
    };
    if header("Auto-Submitted").is_some_and(|v| v != "no") {
        return Some("an automatic message (Auto-Submitted)");
    }
    if header("Precedence")
        .is_some_and(|v| matches!(v.as_str(), "bulk" | "junk" | "list" | "auto_reply"))
    {
        return Some("an automatic message (Precedence)");
    }
    if header("X-Autoreply").is_some() || header("X-Autorespond").is_some() {
        return Some("an automatic answer");
    }
    if header("Content-Type").is_some_and(|v| v.starts_with("multipart/report")) {
        return Some("a delivery report");
    }
    if header("Return-Path").is_some_and(|v| v == "<>") {
        return Some("a delivery report (empty sender)");
    }
    let from = msg
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if from.starts_with("mailer-daemon@") || from.starts_with("postmaster@") {
        return Some("a delivery report (mailer daemon)");
    }
    None
}

/// The words of a reply: from its plain-text part, or from its HTML part
/// when it has no other (cut where the quoted message begins, then made
/// text).
fn words_of(msg: &mail_parser::Message) -> String {
    match msg.text_part(0).map(|p| &p.body) {
        Some(mail_parser::PartType::Text(t)) => own_words(t),
        Some(mail_parser::PartType::Html(h)) => own_words(&html_words(h)),
        _ => String::new(),
    }
}

/// Where the quoted message of an HTML reply begins: Outlook's
/// `appendonsend` and `divRplyFwdMsg`, Gmail's `gmail_quote`,
/// Thunderbird's `moz-cite-prefix`, and any `<blockquote>` or `<hr>`.
static HTML_QUOTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)<div[^>]*(id="?(appendonsend|divRplyFwdMsg)|class="?(gmail_quote|gmail_attr|moz-cite-prefix))|<blockquote|<hr"#,
    )
    .expect("a valid pattern")
});
/// The end of a block, after which the text goes on a new line.
static HTML_BLOCK_END: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)</(div|p|li|tr|h[1-6]|table)\s*>").expect("a valid pattern"));

/// The text of an HTML reply above its quoted message.
fn html_words(html: &str) -> String {
    let own = match HTML_QUOTE.find(html) {
        Some(m) => &html[..m.start()],
        None => html,
    };
    let blocks = HTML_BLOCK_END.replace_all(own, "$0<br>");
    mail_parser::decoders::html::html_to_text(&blocks)
}

/// The line that introduces a quoted message: "On … wrote:", "Le … a
/// écrit :" (Gmail, Thunderbird, Apple Mail), Outlook's "-----Original
/// Message-----" and its French forms, and a long rule of underscores.
static QUOTE_HEAD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)^\s*(
            on\s.{4,}\swrote\s?:
          | le\s.{4,}\sa\s[ée]crit\s?:
          | -{2,}\s*(original\s+message|message\s+d.origine|message\s+original|forwarded\s+message|message\s+transf[ée]r[ée])\s*-{2,}
          | _{20,}
        )\s*$",
    )
    .expect("a valid pattern")
});

/// Outlook's header block of the quoted message: "From: …" then "Sent:" or
/// "Date:" (and the French "De : …", "Envoyé : ").
static OUTLOOK_FROM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^\s*\*?(from|de)\s?:\*?\s").expect("a valid pattern"));
static OUTLOOK_SENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*\*?(sent|date|envoy[ée])\s?:\*?\s").expect("a valid pattern")
});

/// The lines a phone or a program adds under a message.
static SIGNED_BY_DEVICE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^\s*(sent\s+from\s+my\s|envoy[ée]\s+(de|depuis)\s+mon\s|get\s+outlook\s+for\s|obtenir\s+outlook\s+pour\s|t[ée]l[ée]charger\s+outlook\s)",
    )
    .expect("a valid pattern")
});

/// The words of a reply: the text above the quoted message, without the
/// quoted lines and the signature, trimmed.
pub fn own_words(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\u{a0}', " ");
    let lines: Vec<&str> = text.lines().collect();
    let mut end = lines.len();
    for i in 0..lines.len() {
        let line = lines[i];
        let joined = match lines.get(i + 1) {
            Some(next) => format!("{line} {next}"),
            None => line.to_string(),
        };
        if QUOTE_HEAD.is_match(line)
            || (line.trim_start().starts_with("On ") || line.trim_start().starts_with("Le "))
                && QUOTE_HEAD.is_match(&joined)
        {
            end = i;
            break;
        }
        if OUTLOOK_FROM.is_match(line)
            && lines[i + 1..lines.len().min(i + 5)]
                .iter()
                .any(|l| OUTLOOK_SENT.is_match(l))
        {
            end = i;
            break;
        }
        if line == "-- " || line == "--" || SIGNED_BY_DEVICE.is_match(line) {
            end = i;
            break;
        }
    }
    let kept: Vec<&str> = lines[..end]
        .iter()
        .copied()
        .filter(|l| !l.trim_start().starts_with('>'))
        .collect();
    // At most one empty line in a row, none at either end.
    let mut out = String::new();
    let mut blank = false;
    for l in kept {
        let l = l.trim_end();
        if l.trim().is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if blank {
            out.push('\n');
        }
        blank = false;
        out.push_str(l);
        out.push('\n');
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests;
