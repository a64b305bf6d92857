//! The mail worker: claims queued messages, writes each one in its
//! recipient's language and hands it to the SMTP server, retrying while
//! the server is away.
//!
//! Claims work as for deliveries (`federation::delivery`): a lease
//! (`locked_until`) set in a transaction, and on PostgreSQL a claiming
//! query that skips the rows other processes hold (`FOR UPDATE SKIP
//! LOCKED`), so that several processes on one database never send the same
//! message at once. A message the server refuses for good (a 5xx answer, an
//! address it will not take) fails at once; any other failure (the server
//! down, a 4xx answer, a time-out) is retried with exponential back-off
//! and jitter for `mail.retry_hours`, then marked failed, listed on the
//! administration page with a retry button. What no longer has a reason to
//! be sent when its turn comes (a password link used or expired meanwhile,
//! an invitation revoked, an account gone, an unsubscribed address) is
//! dropped with that reason. Once sent, a row forgets its detail (the
//! secret of a password link) and is purged after a week.

use std::time::Duration;

use chrono::{NaiveDateTime, Timelike};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};
use futures_util::StreamExt;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rand::Rng;
use serde::Serialize;

use super::compose::{self, Facts};
use crate::accounts;
use crate::actions;
use crate::app::AppState;
use crate::config::Config;
use crate::db::schema::{mail_queue, users};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult, ErrorKind};
use crate::i18n::Lang;
use crate::mails::{self, Mail};
use crate::notifications;

/// The SMTP connection and the sender, built once from the configuration.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// `mail.from`; without it, the site's name (as administrators set it)
    /// at `noreply@` this host.
    from: Option<Mailbox>,
    /// The host named in Message-IDs and in the default sender.
    host: String,
}

impl Mailer {
    /// The mailer of `mail.smtp_url`, or `None` when e-mail is off.
    pub fn from_config(cfg: &Config) -> anyhow::Result<Option<Mailer>> {
        if !cfg.mail.enabled() {
            return Ok(None);
        }
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(cfg.mail.smtp_url.trim())
            .map_err(|e| anyhow::anyhow!("mail.smtp_url: {e}"))?
            .timeout(Some(Duration::from_secs(cfg.mail.timeout_seconds)))
            .build();
        let host = cfg.domain();
        let host = host.split(':').next().unwrap_or("localhost").to_string();
        let from = match cfg.mail.from.trim() {
            "" => None,
            f => Some(
                f.parse::<Mailbox>()
                    .map_err(|e| anyhow::anyhow!("mail.from: {e}"))?,
            ),
        };
        // The default sender must be an address.
        format!("noreply@{host}")
            .parse::<lettre::Address>()
            .map_err(|e| anyhow::anyhow!("base_url's host cannot send e-mail: {e}"))?;
        Ok(Some(Mailer {
            transport,
            from,
            host,
        }))
    }
}

impl Mailer {
    /// The sender of a message of `site`.
    fn sender(&self, site: &str) -> Mailbox {
        if let Some(f) = &self.from {
            return f.clone();
        }
        let name: String = site.chars().filter(|c| !c.is_control()).collect();
        let address = format!("noreply@{}", self.host)
            .parse::<lettre::Address>()
            .expect("checked when the mailer was built");
        Mailbox::new(Some(name.trim().to_string()), address)
    }
}

#[derive(Debug, Clone, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub user_id: Option<i64>,
    #[diesel(sql_type = Text)]
    pub address: String,
    #[diesel(sql_type = Text)]
    pub locale: String,
    #[diesel(sql_type = Text)]
    pub detail: String,
    #[diesel(sql_type = Timestamp)]
    pub created_at: NaiveDateTime,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
}

const CLAIM_SQL_PG: &str = "UPDATE mail_queue SET locked_until = $1 WHERE id IN (
    SELECT id FROM mail_queue
    WHERE status = 'pending' AND next_attempt_at <= $2
      AND (locked_until IS NULL OR locked_until < $2)
    ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
  RETURNING id, kind, user_id, address, locale, detail, created_at, attempts";

const CLAIM_SQL_SQLITE: &str = "UPDATE mail_queue SET locked_until = ?1 WHERE id IN (
    SELECT id FROM mail_queue
    WHERE status = 'pending' AND next_attempt_at <= ?2
      AND (locked_until IS NULL OR locked_until < ?2)
    ORDER BY id LIMIT ?3)
  RETURNING id, kind, user_id, address, locale, detail, created_at, attempts";

/// How long a claim lasts. A round starts no send after
/// `mail.timeout_seconds` (see [`round`]) and one send waits at most that
/// long for each answer of the server, so the last one ends well within
/// the lease; what the round did not reach is given back.
fn lease(cfg: &Config) -> chrono::Duration {
    chrono::Duration::seconds(3 * cfg.mail.timeout_seconds as i64 + 10)
}

/// Claims up to `limit` due messages for this process. Returns them and the
/// end of the lease, which marks them as this round's.
pub fn claim(
    conn: &mut DbConn,
    cfg: &Config,
    limit: i64,
) -> AppResult<(Vec<Claimed>, NaiveDateTime)> {
    let now = now();
    // Look before taking the write lock: an idle worker only reads.
    let due = mail_queue::table
        .filter(mail_queue::status.eq("pending"))
        .filter(mail_queue::next_attempt_at.le(now))
        .select(mail_queue::id)
        .limit(1)
        .load::<i64>(conn)?;
    // Whole milliseconds, and a few random ones: both databases store the
    // lease as written, and two rounds do not share one.
    let jitter = rand::thread_rng().gen_range(0..1000);
    let until = now + lease(cfg) + chrono::Duration::milliseconds(jitter);
    let until = until
        .with_nanosecond(until.nanosecond() / 1_000_000 * 1_000_000)
        .unwrap_or(until);
    if due.is_empty() {
        return Ok((Vec::new(), until));
    }
    let sql = match conn {
        DbConn::Pg(_) => CLAIM_SQL_PG,
        DbConn::Sqlite(_) => CLAIM_SQL_SQLITE,
    };
    let rows = db::write(conn, |c| {
        diesel::sql_query(sql)
            .bind::<Timestamp, _>(until)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(limit)
            .load::<Claimed>(c)
    })?;
    Ok((rows, until))
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// Failed; retry later (`true`) or never (`false`).
    Failed(String, bool),
    /// No longer worth sending, for this reason.
    Dropped(String),
    /// Not tried in this round (its time ran out): back to the queue.
    GivenBack,
}

/// A claimed message, written, or the reason not to send it.
struct Ready {
    mail: Mail,
    lang: Lang,
    facts: Facts,
    /// The envelope sender, when delivery failures come back to Ruche (its
    /// bounce address for this recipient).
    bounce_to: Option<String>,
}

/// Reads what each message needs to say (one database visit per round).
fn prepare(
    c: &mut DbConn,
    cfg: &Config,
    claimed: &[Claimed],
) -> AppResult<Vec<Result<Ready, Outcome>>> {
    let site = crate::settings::instance_name(c, &cfg.instance_name)?;
    let mut out = Vec::with_capacity(claimed.len());
    for m in claimed {
        let Some(mail) = Mail::decode(&m.kind, &m.detail) else {
            out.push(Err(Outcome::Dropped(format!("unknown kind {}", m.kind))));
            continue;
        };
        let mut facts = Facts {
            site: site.clone(),
            base: cfg.base().to_string(),
            reset_minutes: cfg.mail.reset_minutes,
            ..Facts::default()
        };
        if let Some(uid) = m.user_id {
            let user: Option<(String, String, bool, Option<NaiveDateTime>)> = users::table
                .find(uid)
                .select((
                    users::username,
                    users::display_name,
                    users::disabled,
                    users::deleted_at,
                ))
                .first(c)
                .optional()?;
            if accounts::guest::check_open(c, uid).is_err() {
                out.push(Err(Outcome::Dropped("the guest's access has ended".into())));
                continue;
            }
            match user {
                Some((username, display, false, None)) => {
                    facts.name = if display.trim().is_empty() {
                        username.clone()
                    } else {
                        display
                    };
                    facts.username = username;
                }
                _ => {
                    out.push(Err(Outcome::Dropped("the account is closed".into())));
                    continue;
                }
            }
        }
        // What the person did not ask for waits until they proved they
        // read the address (checked before a digest is written).
        if let (Mail::Notification { .. } | Mail::Digest { .. }, Some(uid)) = (&mail, m.user_id) {
            if !accounts::email::is_confirmed(c, uid, &m.address)? {
                out.push(Err(Outcome::Dropped("the address is not confirmed".into())));
                continue;
            }
        }
        match &mail {
            Mail::PasswordReset { token } => {
                if !accounts::reset::is_usable(c, token)? {
                    out.push(Err(Outcome::Dropped(
                        "the link was used or expired before it could be sent".into(),
                    )));
                    continue;
                }
            }
            Mail::Invitation { code, by } => {
                match accounts::invitation::open_until(c, code)? {
                    Some(accounts::invitation::Open {
                        until,
                        community,
                        guest,
                    }) => {
                        facts.invite_until = Some(until);
                        facts.invite_guest = guest;
                        facts.invite_community =
                            notifications::by_mail::community_names(c, community)?.map(
                                |(name, title)| if title.trim().is_empty() { name } else { title },
                            );
                        if community.is_some() && facts.invite_community.is_none() {
                            out.push(Err(Outcome::Dropped("the community is gone".into())));
                            continue;
                        }
                    }
                    None => {
                        out.push(Err(Outcome::Dropped(
                            "the invitation was used, revoked or expired".into(),
                        )));
                        continue;
                    }
                }
                facts.inviter = accounts::find_by_id(c, *by)
                    .map(|u| u.shown_name().to_string())
                    .unwrap_or_default();
            }
            Mail::GuestEnding { guest } => match accounts::guest::ending(c, &cfg.accounts, *guest)?
            {
                Some(e) => facts.guest_ending = Some((e, m.user_id == Some(*guest))),
                None => {
                    out.push(Err(Outcome::Dropped(
                        "the guest's access was renewed or has ended".into(),
                    )));
                    continue;
                }
            },
            Mail::Notification { id } => match notifications::by_mail::for_mail(c, *id)? {
                None => {
                    out.push(Err(Outcome::Dropped("the notification is gone".into())));
                    continue;
                }
                Some(n) if n.read_at.is_some() => {
                    out.push(Err(Outcome::Dropped("seen on the site first".into())));
                    continue;
                }
                Some(n)
                    if notifications::by_mail::mode(c, n.user_id, &n.kind)?
                        != notifications::by_mail::Mode::Now =>
                {
                    out.push(Err(Outcome::Dropped(
                        "the person no longer wants this kind by e-mail".into(),
                    )));
                    continue;
                }
                Some(n) => facts.notice = Some(n),
            },
            Mail::Digest {
                content,
                notifications,
            } => {
                let Some(uid) = m.user_id else {
                    out.push(Err(Outcome::Dropped("no account".into())));
                    continue;
                };
                match crate::digest::build(c, uid, *content, *notifications)? {
                    None => {
                        out.push(Err(Outcome::Dropped("nothing new".into())));
                        continue;
                    }
                    Some(d) => {
                        let frequency = crate::digest::settings(c, uid)?.frequency;
                        if frequency == crate::digest::Frequency::Never {
                            out.push(Err(Outcome::Dropped(
                                "the person no longer wants a digest".into(),
                            )));
                            continue;
                        }
                        facts.digest = Some(d);
                        facts.digest_frequency = frequency;
                    }
                }
            }
            Mail::Welcome | Mail::SecondStepReset { .. } => {}
            Mail::AddressChanged { username, .. } => {
                facts.name = username.clone();
                facts.username = username.clone();
            }
            Mail::ConfirmAddress { token, .. } => match accounts::email::look(c, token) {
                Ok(check) => {
                    facts.name = check.name;
                    facts.username = check.username;
                }
                Err(e) if e.code == "email_link_invalid" => {
                    out.push(Err(Outcome::Dropped(
                        "the link was used, withdrawn or expired before it could be sent".into(),
                    )));
                    continue;
                }
                Err(e) => return Err(e),
            },
        }
        let state = mails::address_state(c, &m.address)?;
        if !mail.is_transactional() {
            match state {
                Some((_, Some(_))) => {
                    out.push(Err(Outcome::Dropped("the address unsubscribed".into())));
                    continue;
                }
                Some((token, None)) => {
                    facts.unsubscribe = Some(format!("{}/mail/unsubscribe/{token}", cfg.base()));
                }
                None => {}
            }
        }
        // Delivery failures come back to a bounce address of this
        // recipient (when Ruche takes mail in); an address that keeps
        // failing gets nothing but password links.
        let mut bounce_to = None;
        if !cfg.mail.reply_to.trim().is_empty() {
            if let Some((token, failing)) = mails::bounce_state(c, &m.address)? {
                if failing && !mail.is_transactional() {
                    out.push(Err(Outcome::Dropped("the address keeps bouncing".into())));
                    continue;
                }
                bounce_to = mails::tagged_address(&cfg.mail.reply_to, 'b', &token);
            }
        }
        // The one-click links, made last: only for a message that goes.
        if let (Mail::Notification { id }, Some(n)) = (&mail, &facts.notice) {
            facts.actions = actions::issue(c, *id, n, cfg.mail.action_days)?
                .into_iter()
                .map(|l| (l.action, format!("{}/mail/do/{}", cfg.base(), l.token)))
                .collect();
            if !cfg.mail.reply_to.trim().is_empty() {
                facts.reply_to = actions::reply::issue(c, *id, n, cfg.mail.reply_days)?
                    .and_then(|t| actions::reply::address(&cfg.mail.reply_to, &t));
            }
        }
        let lang = Lang::parse(&m.locale).unwrap_or(Lang::En);
        out.push(Ok(Ready {
            mail,
            lang,
            facts,
            bounce_to,
        }));
    }
    Ok(out)
}

fn header(name: &'static str, value: String) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
}

/// Builds the message for SMTP.
fn message(mailer: &Mailer, m: &Claimed, r: &Ready) -> Result<Message, Outcome> {
    let to: Mailbox = m
        .address
        .parse()
        .map_err(|e| Outcome::Failed(format!("not an address: {e}"), false))?;
    let letter = compose::compose(&r.mail, r.lang, &r.facts);
    let mut nonce = [0u8; 6];
    rand::thread_rng().fill(&mut nonce);
    let nonce: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
    let mut b = Message::builder();
    if let Some(bounce) = &r.bounce_to {
        let bounce = bounce
            .parse()
            .map_err(|e| Outcome::Failed(format!("not a bounce address: {e}"), false))?;
        let envelope = lettre::address::Envelope::new(Some(bounce), vec![to.email.clone()])
            .map_err(|e| Outcome::Failed(format!("no envelope: {e}"), false))?;
        b = b.envelope(envelope);
    }
    let mut b = b
        .from(mailer.sender(&r.facts.site))
        .to(to)
        .subject(letter.subject)
        .date_now()
        .message_id(Some(format!(
            "<ruche.{}.{}.{nonce}@{}>",
            m.kind, m.id, mailer.host
        )))
        .raw_header(header("Auto-Submitted", "auto-generated".into()))
        .raw_header(header("Content-Language", r.lang.code().into()));
    // E-mails about one conversation thread together.
    if let Some((_, _, root)) = r.facts.notice.as_ref().and_then(|n| n.content.as_ref()) {
        let thread = format!("<ruche.thread.{root}@{}>", mailer.host);
        b = b.in_reply_to(thread.clone()).references(thread);
    }
    if let Some(address) = &r.facts.reply_to {
        let reply: Mailbox = address
            .parse()
            .map_err(|e| Outcome::Failed(format!("not a reply address: {e}"), false))?;
        b = b.reply_to(reply);
    }
    if let Some(url) = &r.facts.unsubscribe {
        b = b
            .raw_header(header("List-Unsubscribe", format!("<{url}>")))
            .raw_header(header(
                "List-Unsubscribe-Post",
                "List-Unsubscribe=One-Click".into(),
            ));
    }
    b.multipart(MultiPart::alternative_plain_html(letter.text, letter.html))
        .map_err(|e| Outcome::Failed(format!("could not build the message: {e}"), false))
}

async fn send(mailer: &Mailer, msg: Message) -> Outcome {
    match mailer.transport.send(msg).await {
        Ok(_) => Outcome::Sent,
        Err(e) => Outcome::Failed(e.to_string(), !e.is_permanent()),
    }
}

/// The back-off before attempt `n + 1`: base × 2ⁿ, at most an hour, ±25 %.
fn backoff(cfg: &Config, failures: i32) -> chrono::Duration {
    let base = cfg.mail.retry_base_ms.max(1) as f64;
    let exp = (base * 2f64.powi(failures.clamp(0, 30))).min(3_600_000f64.max(base));
    let jitter = rand::thread_rng().gen_range(0.75..1.25);
    chrono::Duration::milliseconds((exp * jitter) as i64)
}

/// Records the outcomes of a round in one transaction, on the rows this
/// round still holds (`lease`): a row whose lease ran out and that another
/// process took is left to that process.
pub fn finish_all(
    conn: &mut DbConn,
    cfg: &Config,
    lease: NaiveDateTime,
    results: &[(Claimed, Outcome)],
) -> AppResult<()> {
    let now = now();
    db::write(conn, |c| {
        for (m, outcome) in results {
            let row = mail_queue::table
                .find(m.id)
                .filter(mail_queue::locked_until.eq(Some(lease)));
            match outcome {
                Outcome::Sent => {
                    diesel::update(row)
                        .set((
                            mail_queue::status.eq("sent"),
                            mail_queue::attempts.eq(m.attempts + 1),
                            mail_queue::locked_until.eq(None::<NaiveDateTime>),
                            mail_queue::done_at.eq(Some(now)),
                            mail_queue::last_error.eq(""),
                            mail_queue::detail.eq(""),
                        ))
                        .execute(c)?;
                }
                Outcome::Dropped(why) => {
                    diesel::update(row)
                        .set((
                            mail_queue::status.eq("dropped"),
                            mail_queue::locked_until.eq(None::<NaiveDateTime>),
                            mail_queue::done_at.eq(Some(now)),
                            mail_queue::last_error.eq(why.as_str()),
                            mail_queue::detail.eq(""),
                        ))
                        .execute(c)?;
                }
                Outcome::GivenBack => {
                    diesel::update(row)
                        .set(mail_queue::locked_until.eq(None::<NaiveDateTime>))
                        .execute(c)?;
                }
                Outcome::Failed(msg, retry) => {
                    let attempts = m.attempts + 1;
                    let expired =
                        now - m.created_at > chrono::Duration::hours(cfg.mail.retry_hours as i64);
                    let give_up = !retry || expired;
                    // A password link that will not be sent forgets its
                    // secret (the person asks again); an invitation keeps
                    // its code for an administrator's retry.
                    if give_up && matches!(m.kind.as_str(), "password_reset" | "confirm_address") {
                        diesel::update(row)
                            .set(mail_queue::detail.eq(""))
                            .execute(c)?;
                    }
                    diesel::update(row)
                        .set((
                            mail_queue::status.eq(if give_up { "failed" } else { "pending" }),
                            mail_queue::attempts.eq(attempts),
                            mail_queue::next_attempt_at.eq(now + backoff(cfg, attempts - 1)),
                            mail_queue::locked_until.eq(None::<NaiveDateTime>),
                            mail_queue::last_error.eq(msg.chars().take(500).collect::<String>()),
                            mail_queue::done_at.eq(if give_up { Some(now) } else { None }),
                        ))
                        .execute(c)?;
                }
            }
        }
        Ok::<_, AppError>(())
    })
}

/// Messages of a round sent at once (the transport's pool keeps up to
/// ten connections).
const SENDS_AT_ONCE: usize = 10;
/// Messages claimed per round.
const ROUND: i64 = 50;
/// Rounds under way at once: while one writes its messages (the database's
/// work, on a blocking thread), the other hands its own to SMTP (waiting on
/// the network), so neither waits for the other.
const ROUNDS_AT_ONCE: usize = 3;

/// One round: claim, write, send, record. Returns how many messages were
/// handled.
pub async fn round(state: &AppState, mailer: &Mailer) -> AppResult<usize> {
    let started = std::time::Instant::now();
    let cfg = state.config.clone();
    let (claimed, lease) = state.db.run(move |c| claim(c, &cfg, ROUND)).await?;
    if claimed.is_empty() {
        return Ok(0);
    }
    let budget = Duration::from_secs(state.config.mail.timeout_seconds);
    let n = claimed.len();
    let cfg = state.config.clone();
    let (claimed, prepared) = state
        .db
        .run(move |c| {
            let p = prepare(c, &cfg, &claimed)?;
            Ok((claimed, p))
        })
        .await?;
    let mut results = Vec::with_capacity(n);
    let mut ready_to_send = Vec::with_capacity(n);
    for (m, ready) in claimed.into_iter().zip(prepared) {
        match ready.and_then(|r| message(mailer, &m, &r)) {
            Ok(msg) => ready_to_send.push((m, msg)),
            Err(o) => results.push((m, o)),
        }
    }
    // Several at once over the transport's pooled connections: one SMTP
    // exchange waits on the network far more than it works (one at a time,
    // a local server took about 21 messages a second).
    let sent: Vec<(Claimed, Outcome)> = futures_util::stream::iter(ready_to_send)
        .map(|(m, msg)| async move {
            // A slow server: what this round cannot start in time goes
            // back to the queue before the lease ends.
            let outcome = if started.elapsed() > budget {
                Outcome::GivenBack
            } else {
                send(mailer, msg).await
            };
            (m, outcome)
        })
        .buffer_unordered(SENDS_AT_ONCE)
        .collect()
        .await;
    results.extend(sent);
    for (m, outcome) in &results {
        if let Outcome::Failed(why, _) = outcome {
            tracing::info!(mail = m.id, kind = %m.kind, error = %why, "e-mail not sent");
        }
    }
    let cfg = state.config.clone();
    if let Err(e) = state
        .db
        .run(move |c| finish_all(c, &cfg, lease, &results))
        .await
    {
        tracing::warn!(error = %e, "could not record e-mail outcomes; the leases will expire and they will be sent again");
    }
    Ok(n)
}

/// Runs forever: rounds back to back while there is work, else waits for
/// the poll interval or a wake-up.
pub async fn run(state: AppState, mailer: Mailer) {
    let idle = Duration::from_millis(state.config.federation.poll_interval_ms.max(200));
    let mut rows_checked: Option<std::time::Instant> = None;
    loop {
        // Digests: people without a row get one now and then; due ones are
        // queued at every turn (one indexed read when none is due).
        let fill = rows_checked.is_none_or(|t| t.elapsed() > Duration::from_secs(60));
        if fill {
            rows_checked = Some(std::time::Instant::now());
        }
        let digests = state
            .db
            .run(move |c| {
                if fill {
                    crate::digest::ensure_rows(c)?;
                }
                crate::digest::queue_due(c, 200)
            })
            .await;
        if let Err(e) = digests {
            tracing::warn!(error = %e, "could not queue the digests; will retry");
        }
        let rounds: Vec<AppResult<usize>> =
            futures_util::future::join_all((0..ROUNDS_AT_ONCE).map(|_| round(&state, &mailer)))
                .await;
        let handled = rounds.into_iter().try_fold(0, |n, r| r.map(|k| n + k));
        match handled {
            Ok(0) => {
                tokio::select! {
                    _ = tokio::time::sleep(idle) => {}
                    _ = state.mail_wake.notified() => {}
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "e-mail round failed; retrying");
                tokio::time::sleep(idle).await;
            }
        }
    }
}

/// Makes a failed message due again (admin action).
pub fn retry(conn: &mut DbConn, id: i64) -> AppResult<()> {
    let n = db::write(conn, |c| {
        diesel::update(
            mail_queue::table
                .find(id)
                .filter(mail_queue::status.eq("failed")),
        )
        .set((
            mail_queue::status.eq("pending"),
            mail_queue::next_attempt_at.eq(now()),
            mail_queue::created_at.eq(now()),
            mail_queue::done_at.eq(None::<NaiveDateTime>),
        ))
        .execute(c)
    })?;
    if n == 0 {
        return Err(AppError::new(ErrorKind::NotFound, "mail_unknown"));
    }
    Ok(())
}

/// Queue figures for the administration page.
#[derive(Debug, Clone, Default, Serialize)]
pub struct QueueStats {
    pub pending: i64,
    pub sent: i64,
    pub failed: i64,
    pub dropped: i64,
}

pub fn stats(conn: &mut DbConn) -> AppResult<QueueStats> {
    let rows: Vec<(String, i64)> = mail_queue::table
        .group_by(mail_queue::status)
        .select((mail_queue::status, diesel::dsl::count_star()))
        .load(conn)?;
    let get = |s: &str| rows.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
    Ok(QueueStats {
        pending: get("pending"),
        sent: get("sent"),
        failed: get("failed"),
        dropped: get("dropped"),
    })
}

/// A message as administrators see it (never its detail).
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = mail_queue)]
pub struct Queued {
    pub id: i64,
    pub kind: String,
    pub address: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: String,
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub next_attempt_at: NaiveDateTime,
}

/// The messages that need an administrator's eye: failed ones, and those
/// waiting after at least one failure, newest first.
pub fn troubles(conn: &mut DbConn, limit: i64) -> AppResult<Vec<Queued>> {
    mail_queue::table
        .filter(
            mail_queue::status.eq("failed").or(mail_queue::status
                .eq("pending")
                .and(mail_queue::attempts.gt(0))),
        )
        .order(mail_queue::id.desc())
        .limit(limit)
        .select(Queued::as_select())
        .load(conn)
        .map_err(AppError::from)
}

/// Deletes sent and dropped messages after a week, failed ones after a
/// month (housekeeping).
pub fn purge(conn: &mut DbConn) -> AppResult<usize> {
    let now = now();
    let week = now - chrono::Duration::days(7);
    let month = now - chrono::Duration::days(30);
    db::write(conn, |c| {
        let a = diesel::delete(
            mail_queue::table
                .filter(mail_queue::status.eq_any(["sent", "dropped"]))
                .filter(mail_queue::done_at.lt(week)),
        )
        .execute(c)?;
        let b = diesel::delete(
            mail_queue::table
                .filter(mail_queue::status.eq("failed"))
                .filter(mail_queue::done_at.lt(month)),
        )
        .execute(c)?;
        Ok::<_, AppError>(a + b)
    })
}
