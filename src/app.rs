//! The application state the doors share: the HTTP pages and API, the
//! ActivityPub endpoints and the delivery worker. Features never see it:
//! they take a database connection, and the few use cases that need more
//! (reading or copying a file) take exactly what they need, such as
//! [`documents::Files`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

use crate::addresses::Cidr;
use crate::config::Config;
use crate::db::Db;
use crate::error::AppError;
use crate::net::client::Client;
use crate::storage::Storage;
use crate::{accounts, documents, feed, notifications};

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    /// Parsed `trusted_proxies`.
    pub proxies: Arc<Vec<Cidr>>,
    /// Outgoing client (trust gate, address checks, signatures).
    pub fed: Arc<Client>,
    /// Wakes the delivery worker when there may be new work.
    pub wake: Arc<tokio::sync::Notify>,
    /// Wakes the mail worker when a message may have been queued.
    pub mail_wake: Arc<tokio::sync::Notify>,
    /// Where document files are kept.
    pub storage: Arc<dyn Storage>,
    /// The watcher that tells open pages of news.
    pub pulse: Arc<Pulse>,
    /// The site's settings as this process last read them.
    pub site: Arc<SiteCache>,
    /// The identity providers' discovery documents (`oidc`).
    pub oidc: Arc<crate::oidc::Providers>,
}

impl AppState {
    /// Document files: this instance's store and the copies kept elsewhere.
    pub fn files(&self) -> documents::Files<'_> {
        documents::Files {
            storage: &self.storage,
            client: &self.fed,
            max_bytes: self.config.documents.max_bytes,
        }
    }
}

/// The newest notification and post ids this process has seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Marks {
    pub notification: i64,
    pub content: i64,
}

/// One watcher of the database per process, shared by every open page
/// (see `web::live`): it reads the newest notification and post ids every
/// `content.live_pulse_ms`, and only while a page listens.
pub struct Pulse {
    marks: watch::Sender<Marks>,
    beating: AtomicBool,
    slots: Arc<Semaphore>,
    every: Duration,
}

impl Pulse {
    pub fn new(every_ms: u64, max_streams: u32) -> Pulse {
        Pulse {
            marks: watch::Sender::new(Marks::default()),
            beating: AtomicBool::new(false),
            slots: Arc::new(Semaphore::new(max_streams as usize)),
            every: Duration::from_millis(every_ms),
        }
    }

    /// A place for one more open page, if this process has one left.
    pub fn slot(&self) -> Result<OwnedSemaphorePermit, tokio::sync::TryAcquireError> {
        self.slots.clone().try_acquire_owned()
    }

    /// A page starts listening: the watcher beats while anyone does.
    pub fn listen(self: &Arc<Self>, db: &Db) -> watch::Receiver<Marks> {
        let rx = self.marks.subscribe();
        if !self.beating.swap(true, Ordering::SeqCst) {
            tokio::spawn(beat(self.clone(), db.clone()));
        }
        rx
    }
}

async fn beat(pulse: Arc<Pulse>, db: Db) {
    loop {
        if pulse.marks.receiver_count() == 0 {
            pulse.beating.store(false, Ordering::SeqCst);
            // A page that came in between saw the watcher beating and
            // started none: carry on for it, unless one was started since.
            if pulse.marks.receiver_count() == 0 || pulse.beating.swap(true, Ordering::SeqCst) {
                return;
            }
        }
        let read = db
            .run(|c| {
                Ok::<_, AppError>(Marks {
                    notification: notifications::latest_id(c)?,
                    content: feed::latest_id(c)?,
                })
            })
            .await;
        match read {
            Ok(now) => {
                pulse.marks.send_if_modified(|m| {
                    let moved = *m != now;
                    *m = now;
                    moved
                });
            }
            Err(e) => tracing::warn!(error = %e, "live news: reading the latest ids failed"),
        }
        tokio::time::sleep(pulse.every).await;
    }
}

/// How long a process trusts the site's settings it read (another process
/// may have changed them): a change shows everywhere within this time.
pub const SITE_FRESH: Duration = Duration::from_secs(5);

/// The site's settings (name, sign-up mode), read again from the database
/// when older than [`SITE_FRESH`], so that pages read them without asking.
pub struct SiteCache {
    current: std::sync::RwLock<(accounts::admin::Site, Option<std::time::Instant>)>,
    /// Counts the saves of this process: a read that began before a save
    /// does not replace what the save put.
    saves: std::sync::atomic::AtomicU64,
}

impl SiteCache {
    pub fn new(config: &Config) -> SiteCache {
        let site = accounts::admin::Site {
            name: config.instance_name.clone(),
            signup: crate::settings::signup_str(config.accounts.signup),
        };
        SiteCache {
            current: std::sync::RwLock::new((site, None)),
            saves: std::sync::atomic::AtomicU64::new(0),
        }
    }

    pub fn get(&self) -> accounts::admin::Site {
        self.current
            .read()
            .map(|c| c.0.clone())
            .unwrap_or_else(|e| e.into_inner().0.clone())
    }

    /// What this process just saved, shown at once.
    pub fn set(&self, site: accounts::admin::Site) {
        self.saves.fetch_add(1, Ordering::SeqCst);
        self.store(site);
    }

    fn store(&self, site: accounts::admin::Site) {
        if let Ok(mut c) = self.current.write() {
            *c = (site, Some(std::time::Instant::now()));
        }
    }

    /// The sign-up mode in force.
    pub fn signup(&self) -> crate::config::SignupMode {
        crate::settings::parse_signup(self.get().signup)
            .unwrap_or(crate::config::SignupMode::Closed)
    }

    fn stale(&self) -> bool {
        self.current
            .read()
            .map(|c| c.1.is_none_or(|at| at.elapsed() > SITE_FRESH))
            .unwrap_or(true)
    }

    /// Reads the settings again if they are old.
    pub async fn refresh(&self, db: &Db, config: &Arc<Config>) {
        if !self.stale() {
            return;
        }
        let saves = self.saves.load(Ordering::SeqCst);
        let cfg = config.clone();
        let read = db
            .run(move |c| accounts::admin::site(c, &cfg.instance_name, cfg.accounts.signup))
            .await;
        match read {
            Ok(site) if self.saves.load(Ordering::SeqCst) == saves => self.store(site),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "reading the site's settings failed"),
        }
    }
}
