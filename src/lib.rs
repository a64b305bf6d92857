//! Ruche: a federated enterprise social network.
//!
//! `build` turns a configuration into a running service: config -> database
//! -> services -> router.

pub mod accounts;
pub mod actions;
pub mod addresses;
pub mod app;
pub mod apps;
pub mod audience;
pub mod cli;
pub mod communities;
pub mod config;
pub mod content;
pub mod db;
pub mod digest;
pub mod documents;
pub mod error;
pub mod events;
pub mod federation;
pub mod feed;
pub mod follows;
pub mod i18n;
pub mod images;
pub mod index;
pub mod ldap;
pub mod mail;
pub mod mails;
pub mod markdown;
pub mod net;
pub mod notifications;
pub mod oidc;
pub mod onboarding;
pub mod people;
pub mod search;
pub mod settings;
pub mod stats;
pub mod storage;
pub mod urls;
pub mod web;

use std::sync::Arc;

use tokio::net::TcpListener;

pub use config::Config;

/// Opens the database, applies migrations and builds the HTTP application.
pub fn build(config: Config) -> anyhow::Result<(axum::Router, app::AppState)> {
    let db = db::Db::open(&config.database.url, config.pool_size())?;
    let applied = db.migrate()?;
    for m in &applied {
        tracing::info!(migration = %m, "applied migration");
    }
    {
        // A new search index, or new rules for it: built again before
        // serving, so that search never misses what is older.
        let mut c = db.get()?;
        if !index::is_current(&mut c)? {
            let total = index::rebuild_size(&mut c)?;
            tracing::info!(rows = total, "building the search index");
            let started = std::time::Instant::now();
            let mut last = std::time::Instant::now();
            index::rebuild(&mut c, &mut |done| {
                if last.elapsed().as_secs() >= 5 {
                    last = std::time::Instant::now();
                    tracing::info!(done, total, "building the search index");
                }
            })?;
            tracing::info!(
                rows = total,
                seconds = started.elapsed().as_secs_f64(),
                "search index built"
            );
        }
    }
    let config_files = config.documents_path();
    let config = Arc::new(config);
    let fed = Arc::new(net::client::Client::new(config.clone(), db.clone())?);
    let state = app::AppState {
        proxies: Arc::new(config.proxy_ranges()),
        db,
        fed,
        wake: Arc::new(tokio::sync::Notify::new()),
        mail_wake: Arc::new(tokio::sync::Notify::new()),
        storage: Arc::new(storage::LocalDisk::new(config_files)),
        pulse: Arc::new(app::Pulse::new(
            config.content.live_pulse_ms,
            config.content.max_live_streams,
        )),
        site: Arc::new(app::SiteCache::new(&config)),
        oidc: Arc::new(oidc::Providers::new()),
        config,
    };
    Ok((web::router(state.clone()), state))
}

/// Serves on an already bound listener until the process is stopped.
pub async fn serve_on(listener: TcpListener, config: Config) -> anyhow::Result<()> {
    let mailer = mail::worker::Mailer::from_config(&config)?;
    let inbound = match config.mail.inbound_listen.trim() {
        "" => None,
        addr => Some(
            TcpListener::bind(addr)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen for e-mail on {addr}: {e}"))?,
        ),
    };
    let (router, state) = build(config)?;
    {
        // The features read from the database whether to e-mail
        // notifications, and after how long: the serving process says so
        // (not `build`, which a command such as `mail receive` also runs
        // with a configuration that may leave e-mail out).
        let mut c = state.db.get()?;
        let delay = state
            .config
            .mail
            .enabled()
            .then_some(state.config.mail.notify_delay_seconds);
        mails::set_notify_delay(&mut c, delay).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    tokio::spawn(housekeeping(state.clone()));
    if let Some(listener) = inbound {
        tracing::info!(listen = %state.config.mail.inbound_listen, "taking replies by e-mail over SMTP");
        tokio::spawn(mail::listener::run(state.clone(), listener));
    }
    if let Some(mailer) = mailer {
        tokio::spawn(mail::worker::run(state.clone(), mailer));
    }
    tokio::spawn(document_words(state.clone()));
    tokio::spawn(poll_closings(state.clone()));
    if state.config.accounts.ldap.enabled() && state.config.accounts.ldap.sync_minutes > 0 {
        tokio::spawn(directory_sync(state.clone()));
    }
    tokio::spawn(federation::directory::run(state.clone()));
    tokio::spawn(federation::delivery::run(state));
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    Ok(())
}

/// Hourly clean-up of expired sessions and password links, guests whose
/// access has ended (disabled; their sign-in already stops at the end),
/// old sign-in
/// failures, old sent e-mails, old delivered
/// activities, old received activity ids, files of deleted documents, and
/// attachments of deleted content or never attached. The first one runs a
/// minute after start-up, not during it (it used to run at once, racing
/// with whatever the process did first, a test's rows included).
async fn housekeeping(state: app::AppState) {
    let hour = std::time::Duration::from_secs(3600);
    let first = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut tick = tokio::time::interval_at(first, hour);
    loop {
        tick.tick().await;
        let cfg = state.config.clone();
        let store = state.storage.clone();
        match state
            .db
            .run(move |c| {
                Ok(accounts::purge_expired(c, &cfg.accounts)?
                    + accounts::guest::expire_due(c)?
                    + accounts::guest::remind_due(c, &cfg.accounts)?
                    + accounts::leavers::anonymise_due(c, &cfg.accounts)?
                    + accounts::reset::purge(c)?
                    + actions::purge(c)?
                    + actions::reply::purge(c)?
                    + mail::worker::purge(c)?
                    + federation::delivery::purge(c)?
                    + documents::purge_files(c, store.as_ref())?
                    + content::media::purge(c, store.as_ref())?)
            })
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                rows = n,
                "purged expired sessions, sign-in failures, old federation rows and files of deleted documents and posts"
            ),
            Err(e) => tracing::warn!(error = %e, "housekeeping failed; will retry"),
        }
    }
}

/// Closes the polls whose date has passed, every half minute, so that
/// other instances hear of their final counts (`content::poll::close_due`),
/// and reminds people of the events that start within a day
/// (`content::event::remind_due`).
async fn poll_closings(state: app::AppState) {
    let every = std::time::Duration::from_secs(30);
    loop {
        tokio::time::sleep(every).await;
        match state.db.run(content::poll::close_due).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(polls = n, "closed polls whose date has passed");
                state.wake.notify_one();
            }
            Err(e) => tracing::warn!(error = %e, "closing due polls failed; will retry"),
        }
        match state.db.run(content::event::remind_due).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                events = n,
                "reminded people of events starting within a day"
            ),
            Err(e) => tracing::warn!(error = %e, "reminding of events failed; will retry"),
        }
    }
}

/// Reads the words of documents uploaded on other instances
/// (`documents::words`), a few at a time, looking for more every few
/// seconds when there were none.
async fn document_words(state: app::AppState) {
    let idle = std::time::Duration::from_secs(5);
    loop {
        let due = match state.db.run(|c| documents::words::due(c, 10)).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "reading the words of documents failed; will retry");
                Vec::new()
            }
        };
        if due.is_empty() {
            tokio::time::sleep(idle).await;
            continue;
        }
        for d in due {
            let read = documents::words::read(&state.files(), &d).await;
            if let Err(e) = state
                .db
                .run(move |c| documents::words::done(c, &d, read))
                .await
            {
                tracing::warn!(error = %e, "the words of a document were read but not kept; will retry");
            }
        }
    }
}

/// Takes the photos of the company's directory, page by page as they are
/// read (`ldap::photos`, `people::from_directory`); `progress` is told how
/// many were looked at so far. After a sync: the accounts must exist.
pub async fn directory_photos(
    db: &db::Db,
    config: &Config,
    mut progress: impl FnMut(usize),
) -> error::AppResult<people::DirectoryPhotos> {
    let max = config.people.max_photo_bytes;
    let mut pages = ldap::photos(&config.accounts.ldap, max);
    let mut report = people::DirectoryPhotos::default();
    let mut seen = 0;
    while let Some(page) = pages.recv().await {
        let page = page?;
        seen += page.len();
        let part = db
            .run(move |c| people::from_directory(c, &page, max))
            .await?;
        report.add(&part);
        progress(seen);
    }
    Ok(report)
}

/// Reads the company's directory every `accounts.ldap.sync_minutes` and
/// brings the accounts in line with it (`accounts::directory::sync`). Each
/// process of an instance does it; a sync that finds nothing to change
/// changes nothing.
async fn directory_sync(state: app::AppState) {
    use accounts::directory::LastRun;
    let every = std::time::Duration::from_secs(state.config.accounts.ldap.sync_minutes * 60);
    loop {
        let started = std::time::Instant::now();
        let run = match ldap::people(&state.config.accounts.ldap, |_| {}).await {
            Ok(entries) => {
                match state
                    .db
                    .run(move |c| accounts::directory::sync(c, &entries, false, |_| {}))
                    .await
                {
                    Ok(r) => {
                        tracing::info!(
                            listed = r.listed,
                            created = r.created,
                            updated = r.updated,
                            disabled = r.disabled,
                            enabled = r.enabled,
                            skipped = r.skipped.len(),
                            seconds = started.elapsed().as_secs_f64(),
                            "directory synced"
                        );
                        let run = LastRun::of("schedule", started, Some(&r));
                        if state.config.accounts.ldap.attributes.photo.is_empty() {
                            run
                        } else {
                            match directory_photos(&state.db, &state.config, |_| {}).await {
                                Ok(p) => {
                                    tracing::info!(
                                        imported = p.imported,
                                        unchanged = p.unchanged,
                                        refused = p.refused,
                                        "directory photos taken"
                                    );
                                    LastRun {
                                        photos_imported: p.imported,
                                        photos_refused: p.refused,
                                        seconds: started.elapsed().as_secs_f64(),
                                        ..run
                                    }
                                }
                                Err(e) => {
                                    tracing::warn!(error = %e, "the directory's photos could not be read; will retry");
                                    run.failed(&e)
                                }
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "the directory sync failed; will retry");
                        LastRun::of("schedule", started, None).failed(&e)
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "the directory could not be read; will retry");
                LastRun::of("schedule", started, None).failed(&e)
            }
        };
        if let Err(e) = state
            .db
            .run(move |c| accounts::directory::remember(c, &run))
            .await
        {
            tracing::warn!(error = %e, "how the directory sync went could not be kept");
        }
        tokio::time::sleep(every).await;
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
