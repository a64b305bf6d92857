//! Command line: `serve`, `migrate` and `admin ...`.

use std::io::Read;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::accounts::{self, secrets, CreatedBy, NewAccount, Password};
use crate::config::Config;
use crate::db::Db;

#[derive(Parser, Debug)]
#[command(
    name = "ruche",
    version,
    about = "Ruche, a federated enterprise social network"
)]
pub struct Cli {
    /// Configuration file laid over config/default.toml (RUCHE_* variables still win).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web server (the default when no command is given).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Administration tasks.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// E-mail coming in.
    #[command(subcommand)]
    Mail(MailCommand),
}

#[derive(Subcommand, Debug)]
pub enum MailCommand {
    /// Take one message on standard input (a reply to a notification), as
    /// a mail server's pipe transport hands it over. Exit status: 0 taken
    /// (or an automatic message dropped), 65 unreadable or empty, 67 no
    /// such reply address, 77 refused, 75 try again later.
    Receive {
        /// The recipient as the mail server saw it (Postfix: ${recipient});
        /// without it, the message's own headers are read.
        #[arg(long = "to", value_name = "ADDRESS")]
        to: Vec<String>,
    },
}

/// `ruche mail receive`: reads the message (bounded), hands it to the
/// e-mail door and says what became of it; returns the exit status.
pub fn receive_mail(config: crate::Config, to: Vec<String>) -> anyhow::Result<u8> {
    use crate::mail::inbound::{Reason, Verdict};
    let max = config.mail.inbound_max_bytes;
    let mut raw = Vec::new();
    std::io::stdin()
        .take(max as u64 + 1)
        .read_to_end(&mut raw)?;
    if raw.len() > max {
        // Read the rest so that the mail server does not see a broken pipe.
        std::io::copy(&mut std::io::stdin(), &mut std::io::sink())?;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let verdict = rt.block_on(async move {
        let (_, state) = crate::build(config)?;
        Ok::<_, anyhow::Error>(crate::mail::inbound::receive(&state, &raw, &to).await)
    })?;
    Ok(match verdict {
        Verdict::Posted(id) => {
            println!("comment {id} written");
            0
        }
        Verdict::Ignored(why) => {
            println!("dropped: {why}");
            0
        }
        Verdict::Refused(reason) => {
            eprintln!("ruche: {}", reason.explain());
            match reason {
                Reason::UnknownAddress => 67,
                Reason::NotTheRecipient | Reason::NotAllowed(_) => 77,
                Reason::TooLarge | Reason::Malformed | Reason::NoText => 65,
            }
        }
        Verdict::Later(why) => {
            eprintln!("ruche: try again later ({why})");
            75
        }
    })
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create an account; prints a generated password unless --password-stdin.
    CreateUser {
        name: String,
        #[arg(long)]
        email: String,
        /// Make the account an administrator.
        #[arg(long)]
        admin: bool,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password (generated and printed, or read with --password-stdin).
    ResetPassword {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Create an invitation and print its sign-up link.
    Invite,
    /// Which instances this one federates with (every change is audited).
    #[command(subcommand)]
    Trust(TrustCommand),
    /// Build the search index again from the database (people, communities,
    /// posts, comments, documents), showing its progress.
    Reindex,
    /// The SCIM clients that provision accounts (Entra ID, Okta…), each
    /// with its own bearer token.
    #[command(subcommand)]
    Scim(ScimCommand),
    /// The company's directory (LDAP, Active Directory).
    #[command(subcommand)]
    Directory(DirectoryCommand),
}

#[derive(Subcommand, Debug)]
pub enum DirectoryCommand {
    /// Read the directory and make, refresh and disable accounts to match
    /// it, showing its progress; with --dry-run, only say what would change.
    Sync {
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum ScimCommand {
    /// Create a client and print its token (shown once), to give the
    /// directory with the URL <base_url>/scim/v2.
    Create { name: String },
    /// Revoke a client's token: its requests are refused from now on.
    Revoke { name: String },
    /// List the clients, when each was last used and whether it is revoked.
    List,
}

#[derive(Subcommand, Debug)]
pub enum TrustCommand {
    /// Add or change an instance: member, partner or blocked.
    Add {
        domain: String,
        #[arg(long)]
        level: String,
        #[arg(long, default_value = "")]
        reason: String,
        /// Expiry, as YYYY-MM-DD or an RFC 3339 time.
        #[arg(long, conflicts_with = "days")]
        expires: Option<String>,
        /// Expiry, in days from now.
        #[arg(long)]
        days: Option<u32>,
        /// Allow this instance to resolve to private addresses (intranet).
        #[arg(long)]
        allow_private: bool,
    },
    /// Remove an instance's entry.
    Remove {
        domain: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// List the entries.
    List,
    /// Import a CSV file (Mastodon's domain-block export, or ours); - reads standard input.
    Import { file: PathBuf },
    /// Export the entries as CSV, to a file or standard output.
    Export { file: Option<PathBuf> },
}

fn read_password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if from_stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        let p = s.trim_end_matches(['\r', '\n']).to_string();
        Password::parse(&p).map_err(|e| {
            anyhow::anyhow!(crate::i18n::tf(
                crate::i18n::Lang::En,
                &format!("error.{}", e.code),
                &e.args
                    .iter()
                    .map(|(k, v)| (*k, v.clone()))
                    .collect::<Vec<_>>()
            ))
        })?;
        Ok((p, false))
    } else {
        Ok((secrets::random_password(), true))
    }
}

fn explain(e: crate::error::AppError) -> anyhow::Error {
    let msg = crate::i18n::tf(
        crate::i18n::Lang::En,
        &format!("error.{}", e.code),
        &e.args
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect::<Vec<_>>(),
    );
    match e.cause {
        Some(c) => anyhow::anyhow!("{msg} ({c})"),
        None => anyhow::anyhow!(msg),
    }
}

fn open(config: &Config) -> anyhow::Result<Db> {
    let db = Db::open(&config.database.url, config.pool_size())?;
    db.migrate()?;
    Ok(db)
}

/// Runs an administration command and prints its result.
pub fn run_admin(config: &Config, cmd: AdminCommand) -> anyhow::Result<()> {
    let db = open(config)?;
    let mut conn = db.get().map_err(explain)?;
    match cmd {
        AdminCommand::CreateUser {
            name,
            email,
            admin,
            password_stdin,
        } => {
            let (password, generated) = read_password(password_stdin)?;
            let user = accounts::create_user(
                &mut conn,
                &config.accounts,
                NewAccount {
                    username: &name,
                    email: &email,
                    password: &password,
                    is_admin: admin,
                    invite: None,
                    welcome: None,
                },
                CreatedBy::Admin,
            )
            .map_err(explain)?;
            println!(
                "created {}{}",
                user.username,
                if user.is_admin {
                    " (administrator)"
                } else {
                    ""
                }
            );
            if generated {
                println!("password: {password}");
            }
        }
        AdminCommand::ResetPassword {
            name,
            password_stdin,
        } => {
            let user = accounts::find_by_username(&mut conn, &name).map_err(explain)?;
            let (password, generated) = read_password(password_stdin)?;
            accounts::set_password(&mut conn, user.id, &password, None).map_err(explain)?;
            println!(
                "password of {} reset; its sessions were ended",
                user.username
            );
            if generated {
                println!("password: {password}");
            }
        }
        AdminCommand::Trust(cmd) => run_trust(&mut conn, cmd)?,
        AdminCommand::Reindex => reindex(&mut conn)?,
        AdminCommand::Scim(ScimCommand::Create { name }) => {
            let token = accounts::provisioning::create_client(&mut conn, &name).map_err(explain)?;
            println!("{token}");
            eprintln!(
                "SCIM client {} created; its URL is {}/scim/v2 and the line above is its bearer token (shown once)",
                name.trim(),
                config.base()
            );
        }
        AdminCommand::Directory(DirectoryCommand::Sync { dry_run }) => {
            directory_sync(config, &db, conn, dry_run)?
        }
        AdminCommand::Scim(ScimCommand::Revoke { name }) => {
            accounts::provisioning::revoke_client(&mut conn, &name).map_err(explain)?;
            println!("revoked {}", name.trim());
        }
        AdminCommand::Scim(ScimCommand::List) => {
            let fmt = |t: Option<chrono::NaiveDateTime>| {
                t.map_or_else(
                    || "-".to_string(),
                    |t| t.format("%Y-%m-%d %H:%M").to_string(),
                )
            };
            for c in accounts::provisioning::list_clients(&mut conn).map_err(explain)? {
                println!(
                    "{}\tcreated {}\tlast used {}\t{}",
                    c.name,
                    c.created_at.format("%Y-%m-%d %H:%M"),
                    fmt(c.last_used_at),
                    if c.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    }
                );
            }
        }
        AdminCommand::Invite => {
            let (inv, code) = accounts::create_invitation(&mut conn, &config.accounts, None, None)
                .map_err(explain)?;
            println!("{}", config.invite_link(&code));
            eprintln!(
                "valid until {} UTC",
                inv.expires_at.format("%Y-%m-%d %H:%M")
            );
        }
    }
    Ok(())
}

/// `ruche admin directory sync`: the directory read, then the accounts
/// brought in line, with a progress line on standard error.
fn directory_sync(
    config: &Config,
    db: &crate::db::Db,
    mut conn: crate::db::PooledConn,
    dry_run: bool,
) -> anyhow::Result<()> {
    use std::io::Write;
    let ldap = &config.accounts.ldap;
    if !ldap.enabled() {
        anyhow::bail!("no directory is configured (accounts.ldap.url)");
    }
    let started = std::time::Instant::now();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let by = "command";
    let failed = |c: &mut crate::db::DbConn,
                  e: crate::error::AppError,
                  report: Option<&accounts::directory::Report>| {
        if !dry_run {
            let run = accounts::directory::LastRun::of(by, started, report).failed(&e);
            let _ = accounts::directory::remember(c, &run);
        }
        explain(e)
    };
    let entries = runtime
        .block_on(crate::ldap::people(ldap, |n| {
            eprint!("\rread {n} people from the directory");
            let _ = std::io::stderr().flush();
        }))
        .map_err(|e| failed(&mut conn, e, None))?;
    eprintln!();
    let total = entries.len().max(1);
    let synced = accounts::directory::sync(&mut conn, &entries, dry_run, |n| {
        let width = 30;
        let done = n * width / total;
        eprint!(
            "\r[{}{}] {n}/{}",
            "#".repeat(done),
            " ".repeat(width - done),
            entries.len()
        );
        let _ = std::io::stderr().flush();
    });
    let report = synced.map_err(|e| failed(&mut conn, e, None))?;
    eprintln!();
    println!(
        "{}{} listed: {} created, {} updated, {} unchanged, {} disabled, {} enabled, {} skipped ({:.1} s)",
        if dry_run { "dry run, nothing written. " } else { "" },
        report.listed,
        report.created,
        report.updated,
        report.unchanged,
        report.disabled,
        report.enabled,
        report.skipped.len(),
        started.elapsed().as_secs_f64()
    );
    for (login, why) in report.skipped.iter().take(50) {
        println!("skipped {login}: {why}");
    }
    if dry_run {
        return Ok(());
    }
    let run = accounts::directory::LastRun::of(by, started, Some(&report));
    // The photos, once the accounts are there (not in a dry run: each is
    // checked and re-encoded as it is taken), on connections of their own.
    drop(conn);
    let run = if ldap.attributes.photo.is_empty() {
        run
    } else {
        let photos_started = std::time::Instant::now();
        let photos = runtime.block_on(crate::directory_photos(db, config, |n| {
            eprint!("\rlooked at {n} photos");
            let _ = std::io::stderr().flush();
        }));
        let photos = match photos {
            Ok(p) => p,
            Err(e) => {
                let mut conn = db.get().map_err(explain)?;
                return Err(failed(&mut conn, e, Some(&report)));
            }
        };
        eprintln!();
        println!(
            "photos: {} imported, {} unchanged, {} refused, {} without an account ({:.1} s)",
            photos.imported,
            photos.unchanged,
            photos.refused,
            photos.without_account,
            photos_started.elapsed().as_secs_f64()
        );
        accounts::directory::LastRun {
            photos_imported: photos.imported,
            photos_refused: photos.refused,
            seconds: started.elapsed().as_secs_f64(),
            ..run
        }
    };
    let mut conn = db.get().map_err(explain)?;
    accounts::directory::remember(&mut conn, &run).map_err(explain)?;
    Ok(())
}

/// `ruche admin reindex`: the search index made again, with a progress bar
/// on standard error (a line per step when it is not a terminal).
fn reindex(conn: &mut crate::db::DbConn) -> anyhow::Result<()> {
    use std::io::{IsTerminal, Write};
    let total = crate::index::rebuild_size(conn)
        .map_err(|e| explain(e.into()))?
        .max(1);
    let started = std::time::Instant::now();
    let tty = std::io::stderr().is_terminal();
    let mut shown = -1i64;
    let done = crate::index::rebuild(conn, &mut |done| {
        let pct = (done * 100 / total).min(100);
        if pct == shown {
            return;
        }
        shown = pct;
        let bar = "#".repeat((pct / 4) as usize) + &".".repeat(25 - (pct / 4) as usize);
        let line = format!("[{bar}] {pct:>3}% {done}/{total}");
        let mut err = std::io::stderr();
        if tty {
            let _ = write!(err, "\r{line}");
        } else if pct % 10 == 0 {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
    })
    .map_err(|e| explain(e.into()))?;
    if tty {
        eprintln!();
    }
    println!(
        "search index rebuilt: {done} rows in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn run_trust(conn: &mut crate::db::DbConn, cmd: TrustCommand) -> anyhow::Result<()> {
    use crate::net::trust::{self, Entry, Level};
    const ACTOR: &str = "command line";
    match cmd {
        TrustCommand::Add {
            domain,
            level,
            reason,
            expires,
            days,
            allow_private,
        } => {
            let level = Level::parse(&level).map_err(explain)?;
            let expires_at = match (expires, days) {
                (Some(t), _) => Some(trust::parse_time(&t).ok_or_else(|| {
                    anyhow::anyhow!(
                        "--expires: {t:?} is not a date (YYYY-MM-DD) or an RFC 3339 time"
                    )
                })?),
                (None, Some(d)) => Some(crate::db::now() + chrono::Duration::days(d as i64)),
                (None, None) => None,
            };
            let i = trust::set(
                conn,
                ACTOR,
                Entry {
                    domain: &domain,
                    level,
                    reason: &reason,
                    expires_at,
                    allow_private,
                },
            )
            .map_err(explain)?;
            println!("{} is now {}", i.domain, i.level);
        }
        TrustCommand::Remove { domain, reason } => {
            trust::remove(conn, ACTOR, &domain, &reason).map_err(explain)?;
            println!("{} removed", domain.trim().to_ascii_lowercase());
        }
        TrustCommand::List => {
            for i in trust::list(conn).map_err(explain)? {
                let expires = i
                    .expires_at
                    .map(|t| format!(" until {} UTC", t.format("%Y-%m-%d %H:%M")))
                    .unwrap_or_default();
                let private = if i.allow_private {
                    " (private addresses allowed)"
                } else {
                    ""
                };
                println!("{}\t{}{expires}{private}\t{}", i.domain, i.level, i.reason);
            }
        }
        TrustCommand::Import { file } => {
            let text = if file.as_os_str() == "-" {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s)?;
                s
            } else {
                std::fs::read_to_string(&file)
                    .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?
            };
            let n = trust::import_csv(conn, ACTOR, &text).map_err(explain)?;
            println!("imported {n} entries");
        }
        TrustCommand::Export { file } => {
            let csv = trust::export_csv(conn).map_err(explain)?;
            match file {
                Some(f) => std::fs::write(&f, csv)
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", f.display()))?,
                None => print!("{csv}"),
            }
        }
    }
    Ok(())
}
