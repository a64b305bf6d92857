//! The application state the doors share: the HTTP pages and API, the
//! ActivityPub endpoints and the delivery worker. Features never see it:
//! they take a database connection, and the few use cases that need more
//! (reading or copying a file) take exactly what they need, such as
//! [`documents::Files`].

use std::sync::Arc;

use crate::addresses::Cidr;
use crate::config::Config;
use crate::db::Db;
use crate::documents;
use crate::net::client::Client;
use crate::storage::Storage;

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
    /// Where document files are kept.
    pub storage: Arc<dyn Storage>,
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
