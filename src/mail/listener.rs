//! SMTP for replies by e-mail, for sites without a mail server that can
//! pipe into `ruche mail receive`: the domain's mail server relays the
//! messages for the reply addresses to `mail.inbound_listen`, and each one
//! is handled by `inbound::receive` before it is answered, so that a
//! refusal reaches the sender through their mail server.
//!
//! A deliberately small server (RFC 5321: EHLO or HELO, MAIL, RCPT, DATA,
//! RSET, NOOP, QUIT; SIZE and 8BITMIME): no relaying, no authentication,
//! no TLS, so it belongs on loopback or a private network, behind the mail
//! server that faces the internet. It is ours rather than a crate's
//! because the Rust SMTP servers are either synchronous with their own
//! threads or unmaintained, and this subset is short. Bounded everywhere:
//! line length, recipients, message size (a larger message is read to
//! its end and refused whole), messages read at once, time per command and
//! per session, refused commands, connections at once and per address.
//! A message's lines must end with CRLF and only `CRLF.CRLF` ends it: a
//! bare LF or CR is refused, so that no front server can be made to see a
//! message end where this one does not (SMTP smuggling).

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use super::inbound::{self, Reason, Verdict};
use crate::actions::reply;
use crate::app::AppState;

/// Longest command line (RFC 5321 asks for 512 at least).
const MAX_LINE: usize = 4096;
/// Longest line of a message (RFC 5322 says 998 characters; some
/// programs write longer HTML lines, taken up to this).
const MAX_DATA_LINE: usize = 64 * 1024;
/// Recipients of one message.
const MAX_RECIPIENTS: usize = 20;
/// Connections served at once; more are told to come back.
const MAX_CONNECTIONS: usize = 16;
/// Messages read at once (each may hold `mail.inbound_max_bytes` in
/// memory); a sender beyond is told to try again shortly.
const MAX_DATA_AT_ONCE: usize = 4;
/// Time to wait for a command or a line of a message.
const IDLE: Duration = Duration::from_secs(120);
/// Longest session, whatever it does (a sender trickling bytes is cut).
const SESSION: Duration = Duration::from_secs(600);
/// Commands refused before the session is ended.
const MAX_ERRORS: usize = 10;
/// Connections one address may hold at once.
const PER_ADDRESS: usize = 4;

/// Serves SMTP on `listener` until the process ends.
pub async fn run(state: AppState, listener: TcpListener) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let data = Arc::new(Semaphore::new(MAX_DATA_AT_ONCE));
    let per_address: Arc<Held> = Arc::default();
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "SMTP listener: accept failed");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let state = state.clone();
        let data = data.clone();
        // One address holds a few connections at most, so that one sender
        // cannot take every slot.
        let admitted = {
            let mut held = per_address.lock().unwrap_or_else(|e| e.into_inner());
            let n = held.entry(peer.ip()).or_insert(0);
            if *n < PER_ADDRESS {
                *n += 1;
                true
            } else {
                false
            }
        };
        let slot = match admitted {
            true => slots.clone().try_acquire_owned().ok(),
            false => None,
        };
        match slot {
            Some(slot) => {
                let per_address = per_address.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(SESSION, session(&state, stream, &data)).await {
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "SMTP session ended"),
                        Err(_) => tracing::info!(%peer, "SMTP session cut: too long"),
                        Ok(Ok(())) => {}
                    }
                    drop(slot);
                    release(&per_address, peer.ip());
                });
            }
            None => {
                if admitted {
                    release(&per_address, peer.ip());
                }
                tokio::spawn(async move {
                    let mut stream = stream;
                    let _ = stream
                        .write_all(b"421 4.3.2 too many connections, try again later\r\n")
                        .await;
                });
            }
        }
    }
}

/// Connections held, per address.
type Held = std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>;

/// One connection of `ip` ended.
fn release(held: &Held, ip: std::net::IpAddr) {
    let mut held = held.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(n) = held.get_mut(&ip) {
        *n -= 1;
        if *n == 0 {
            held.remove(&ip);
        }
    }
}

/// What a line read gave.
enum Line {
    Text(Vec<u8>),
    TooLong,
    Closed,
}

async fn read_line(r: &mut BufReader<TcpStream>, limit: usize) -> std::io::Result<Line> {
    let mut buf = Vec::new();
    loop {
        let chunk = tokio::time::timeout(IDLE, r.fill_buf())
            .await
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
        if chunk.is_empty() {
            return Ok(if buf.is_empty() {
                Line::Closed
            } else {
                Line::Text(buf)
            });
        }
        let (take, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        if buf.len() + take > limit {
            r.consume(take);
            // Skip the rest of the line.
            if !done {
                loop {
                    let rest = tokio::time::timeout(IDLE, r.fill_buf())
                        .await
                        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
                    if rest.is_empty() {
                        break;
                    }
                    match rest.iter().position(|b| *b == b'\n') {
                        Some(i) => {
                            r.consume(i + 1);
                            break;
                        }
                        None => {
                            let n = rest.len();
                            r.consume(n);
                        }
                    }
                }
            }
            return Ok(Line::TooLong);
        }
        buf.extend_from_slice(&chunk[..take]);
        r.consume(take);
        if done {
            return Ok(Line::Text(buf));
        }
    }
}

/// The address between angle brackets after `MAIL FROM:` or `RCPT TO:`.
fn path_of(arg: &str) -> Option<&str> {
    let start = arg.find('<')?;
    let end = arg[start..].find('>')? + start;
    Some(arg[start + 1..end].trim())
}

async fn session(state: &AppState, stream: TcpStream, data: &Semaphore) -> std::io::Result<()> {
    let max = state.config.mail.inbound_max_bytes;
    let reply_to = state.config.mail.reply_to.clone();
    let host = state.config.domain();
    let mut r = BufReader::new(stream);
    r.get_mut()
        .write_all(format!("220 {host} Ruche ESMTP\r\n").as_bytes())
        .await?;
    let mut from: Option<String> = None;
    let mut rcpts: Vec<String> = Vec::new();
    let mut errors = 0;
    loop {
        if errors >= MAX_ERRORS {
            r.get_mut()
                .write_all(b"421 4.7.0 too many errors\r\n")
                .await?;
            return Ok(());
        }
        let line = match read_line(&mut r, MAX_LINE).await? {
            Line::Closed => return Ok(()),
            Line::TooLong => {
                r.get_mut()
                    .write_all(b"500 5.5.2 line too long\r\n")
                    .await?;
                continue;
            }
            Line::Text(l) => String::from_utf8_lossy(&l).trim_end().to_string(),
        };
        let (verb, arg) = match line.split_once(' ') {
            Some((v, a)) => (v.to_ascii_uppercase(), a.trim().to_string()),
            None => (line.to_ascii_uppercase(), String::new()),
        };
        let answer: String = match verb.as_str() {
            "EHLO" => {
                format!("250-{host}\r\n250-SIZE {max}\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES")
            }
            "HELO" => format!("250 {host}"),
            "NOOP" => "250 2.0.0 ok".into(),
            "RSET" => {
                from = None;
                rcpts.clear();
                "250 2.0.0 ok".into()
            }
            "QUIT" => {
                r.get_mut().write_all(b"221 2.0.0 bye\r\n").await?;
                return Ok(());
            }
            "MAIL" if arg.to_ascii_uppercase().starts_with("FROM:") => {
                let size = arg.to_ascii_uppercase().split_whitespace().find_map(|p| {
                    p.strip_prefix("SIZE=")
                        .and_then(|n| n.parse::<usize>().ok())
                });
                if size.is_some_and(|n| n > max) {
                    "552 5.3.4 message too large".into()
                } else {
                    from = Some(path_of(&arg[5..]).unwrap_or_default().to_string());
                    rcpts.clear();
                    "250 2.1.0 ok".into()
                }
            }
            "RCPT" if arg.to_ascii_uppercase().starts_with("TO:") => {
                let to = path_of(&arg[3..]).unwrap_or_default().to_string();
                if from.is_none() {
                    "503 5.5.1 MAIL first".into()
                } else if rcpts.len() >= MAX_RECIPIENTS {
                    "452 4.5.3 too many recipients".into()
                } else if reply::token_of(&reply_to, &to).is_none()
                    && crate::mails::tag_of(&reply_to, &to, 'b').is_none()
                {
                    "550 5.1.1 no such reply address".into()
                } else {
                    rcpts.push(to);
                    "250 2.1.5 ok".into()
                }
            }
            "DATA" if from.is_none() || rcpts.is_empty() => "503 5.5.1 MAIL and RCPT first".into(),
            "DATA" => {
                let Ok(_permit) = data.try_acquire() else {
                    r.get_mut()
                        .write_all(b"452 4.3.1 busy, try again shortly\r\n")
                        .await?;
                    continue;
                };
                r.get_mut()
                    .write_all(b"354 end with <CRLF>.<CRLF>\r\n")
                    .await?;
                let answer = match read_data(&mut r, max).await? {
                    Data::TooLarge => "552 5.3.4 message too large".to_string(),
                    Data::BareLineEnd => {
                        "550 5.6.0 bare CR or LF in the message (lines end with CRLF)".to_string()
                    }
                    Data::Whole(message) => match inbound::receive(state, &message, &rcpts).await {
                        Verdict::Posted(id) => format!("250 2.0.0 comment {id} written"),
                        Verdict::Ignored(why) => format!("250 2.0.0 dropped: {why}"),
                        Verdict::Refused(Reason::TooLarge) => "552 5.3.4 message too large".into(),
                        Verdict::Refused(reason) => {
                            format!("550 5.7.1 {}", reason.explain())
                        }
                        Verdict::Later(why) => {
                            tracing::warn!(error = %why, "a reply by e-mail could not be handled now");
                            "451 4.3.0 try again later".into()
                        }
                    },
                };
                from = None;
                rcpts.clear();
                answer
            }
            _ => "500 5.5.1 unknown command".into(),
        };
        if answer.starts_with('5') || answer.starts_with("452") {
            errors += 1;
        }
        r.get_mut()
            .write_all(format!("{answer}\r\n").as_bytes())
            .await?;
    }
}

/// A message read after DATA.
enum Data {
    Whole(Vec<u8>),
    /// Larger than allowed (read to its end, not kept).
    TooLarge,
    /// A line ended by a bare LF, or a CR alone: refused, since a front
    /// server reading line ends differently could be made to see two
    /// messages where this one sees one (SMTP smuggling).
    BareLineEnd,
}

/// Reads a message up to its lone dot (`CRLF.CRLF` only), undoing
/// dot-stuffing.
async fn read_data(r: &mut BufReader<TcpStream>, max: usize) -> std::io::Result<Data> {
    let mut out = Vec::new();
    let (mut large, mut bare) = (false, false);
    loop {
        let line = match read_line(r, MAX_DATA_LINE).await? {
            Line::Closed => {
                return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
            }
            // A line longer than this server takes: the message is not taken.
            Line::TooLong => {
                large = true;
                continue;
            }
            Line::Text(l) => l,
        };
        let body = match line.strip_suffix(b"\r\n") {
            Some(b) => b,
            None => {
                bare = true;
                line.strip_suffix(b"\n").unwrap_or(&line)
            }
        };
        if body.contains(&b'\r') || body.contains(&b'\n') {
            bare = true;
        }
        if line == b".\r\n" {
            return Ok(match (bare, large) {
                (true, _) => Data::BareLineEnd,
                (_, true) => Data::TooLarge,
                _ => Data::Whole(out),
            });
        }
        let data: &[u8] = line.strip_prefix(&b"."[..]).unwrap_or(&line[..]);
        if !large && out.len() + data.len() > max {
            large = true;
            out = Vec::new();
        }
        if !large && !bare {
            out.extend_from_slice(data);
        }
    }
}
