//! Database access: one pool over SQLite or PostgreSQL, chosen from the URL scheme.
//!
//! [`DbConn`] is one connection type over both backends (diesel's
//! `MultiConnection`): queries are plain functions taking `&mut DbConn`,
//! written once. Code matches on the backend only where the SQL really
//! differs (raw SQL with placeholders, locks). Writes go through [`write`].

pub mod schema;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, QueryResult};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::AppError;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A live connection to one of the two supported backends.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

/// Runs `f` inside a write transaction and commits when it returns `Ok`.
///
/// On SQLite the transaction starts with `BEGIN IMMEDIATE`, so that two
/// writers queue on the database lock instead of failing when a reader
/// upgrades, and writers of this process first queue on [`SQLITE_WRITER`]
/// rather than in SQLite's busy handler, which sleeps in steps of up to
/// 100 ms. On PostgreSQL it is a plain transaction.
///
/// Write transactions must not nest: on SQLite a `write` inside `f` would
/// wait for the lock its caller holds.
pub fn write<T, E>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    let DbConn::Sqlite(sqlite) = conn else {
        return conn.transaction(f);
    };
    let _writer = SQLITE_WRITER.lock().unwrap_or_else(|e| e.into_inner());
    AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
    match f(conn) {
        Ok(value) => {
            <DbConn as TransactionManager<DbConn>>::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            <DbConn as TransactionManager<DbConn>>::rollback_transaction(conn)?;
            Err(e)
        }
    }
}

/// Runs an insert inside the caller's write transaction, in a savepoint, and
/// treats a row that already exists (a unique violation) as done: another
/// transaction inserted the same row first. On PostgreSQL a failed
/// statement spoils the transaction around it unless it ran in a savepoint;
/// this is the "insert if missing" of both databases without `ON CONFLICT`.
pub fn insert_unless_exists(
    conn: &mut DbConn,
    insert: impl FnOnce(&mut DbConn) -> QueryResult<usize>,
) -> QueryResult<()> {
    match conn.transaction(insert) {
        Ok(_) => Ok(()),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Serialises SQLite writers within the process (see [`write`]).
static SQLITE_WRITER: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Backend, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else if url.starts_with("sqlite://") || url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else {
            Err(format!(
                "unsupported database URL {url:?}: expected sqlite://PATH or postgres://USER@HOST/DB"
            ))
        }
    }
}

/// The file path of a `sqlite://` URL.
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

/// r2d2 manager that picks the backend from the URL and configures SQLite.
#[derive(Debug, Clone)]
pub struct Manager {
    url: String,
    backend: Backend,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    #[error("cannot connect to the database: {0}")]
    Connection(#[from] diesel::ConnectionError),
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = ConnError;

    fn connect(&self) -> Result<DbConn, ConnError> {
        match self.backend {
            Backend::Sqlite => {
                let mut c = SqliteConnection::establish(sqlite_path(&self.url))?;
                // busy_timeout first, so that switching to WAL waits for other writers.
                // Reads go through a memory map of the file (up to 1 GiB):
                // pages are read in place from the operating system's cache
                // instead of being copied into each connection's own (search
                // reads hundreds of rows a query: 218 → 324 searches a second
                // on the benchmark site). Mapped pages count as resident
                // memory of the process but are the page cache's.
                c.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA cache_size = -8000; PRAGMA mmap_size = 1073741824;",
                )?;
                // SQLite's own lower() changes ASCII letters only, so that
                // "Électricité" and "électricité" were two departments and
                // "@élo" did not find "Élodie". Ours lowers every letter, as
                // PostgreSQL's does. (No index of ours is built on lower():
                // a connection without this function, such as the sqlite3
                // shell, would write index entries that disagree.)
                lower_utils::register_impl(&mut c, |s: String| s.to_lowercase())?;
                if std::env::var_os("RUCHE_SQL_TRACE").is_some() {
                    c.set_instrumentation(trace_sql);
                }
                Ok(DbConn::Sqlite(c))
            }
            Backend::Postgres => {
                let mut c = PgConnection::establish(&self.url)?;
                if std::env::var_os("RUCHE_SQL_TRACE").is_some() {
                    c.set_instrumentation(trace_sql);
                }
                Ok(DbConn::Pg(c))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), ConnError> {
        conn.batch_execute("SELECT 1").map_err(ConnError::from)
    }

    fn has_broken(&self, _conn: &mut DbConn) -> bool {
        false
    }
}

/// With `RUCHE_SQL_TRACE=FILE` in the environment, every statement of
/// every connection is appended to FILE, one per line (a diagnosis tool:
/// how many statements a request costs, on either database).
fn trace_sql(e: diesel::connection::InstrumentationEvent<'_>) {
    use std::io::Write;
    static FILE: std::sync::Mutex<Option<std::fs::File>> = std::sync::Mutex::new(None);
    let diesel::connection::InstrumentationEvent::StartQuery { query, .. } = e else {
        return;
    };
    let Ok(mut file) = FILE.lock() else { return };
    if file.is_none() {
        let path = std::env::var_os("RUCHE_SQL_TRACE").unwrap_or_default();
        *file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .ok();
    }
    if let Some(f) = file.as_mut() {
        let _ = writeln!(f, "{}", query.to_string().replace('\n', " "));
    }
}

pub type PooledConn = r2d2::PooledConnection<Manager>;

/// Connection pool shared by the whole process.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<Manager>,
    pub backend: Backend,
}

impl Db {
    /// Opens the pool (creating the SQLite file's folder if needed).
    pub fn open(url: &str, pool_size: u32) -> anyhow::Result<Db> {
        let backend = Backend::from_url(url).map_err(anyhow::Error::msg)?;
        if backend == Backend::Sqlite {
            let path = std::path::Path::new(sqlite_path(url));
            if let Some(dir) = path.parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        anyhow::anyhow!("cannot create database folder {}: {e}", dir.display())
                    })?;
                }
            }
        }
        let manager = Manager {
            url: url.to_string(),
            backend,
        };
        // Fail early with the real error instead of r2d2's generic time-out.
        let first = manager.connect()?;
        let pool = r2d2::Pool::builder()
            .max_size(pool_size)
            // A PostgreSQL connection may have been closed by the server
            // while idle: it is checked before use. An SQLite connection is
            // an open file, and its check would be one statement more for
            // every task.
            .test_on_check_out(backend == Backend::Postgres)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(15))
            .build_unchecked(manager);
        drop(first);
        Ok(Db { pool, backend })
    }

    pub fn get(&self) -> Result<PooledConn, AppError> {
        self.pool.get().map_err(AppError::internal)
    }

    /// Runs a blocking database closure on the blocking thread pool.
    pub async fn run<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = db.get()?;
            f(&mut conn)
        })
        .await
        .map_err(AppError::internal)?
    }

    /// Applies the pending migrations of this backend; returns their names.
    pub fn migrate(&self) -> anyhow::Result<Vec<String>> {
        let mut conn = self.pool.get()?;
        let applied = match &mut *conn {
            DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
            DbConn::Pg(c) => c.run_pending_migrations(PG_MIGRATIONS),
        }
        .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
        Ok(applied.iter().map(|m| m.to_string()).collect())
    }
}

/// The columns of `T`, for a `RETURNING` clause read back as `T`.
///
/// `T::as_returning()` does not compile through [`DbConn`] (diesel builds it
/// for the multi-backend only, while RETURNING is written by each backend),
/// but the plain column tuple it wraps works on both.
pub fn columns<T>() -> T::SelectExpression
where
    T: diesel::Selectable<MultiBackend>,
{
    T::construct_selection()
}

/// Stored times (UTC, without a zone in the database) as the API gives
/// them: RFC 3339 with the `Z` offset, so that no reader takes them for
/// local time (`#[serde(serialize_with = "crate::db::utc::serialize")]`).
pub mod utc {
    use chrono::{NaiveDateTime, SecondsFormat};

    /// `2026-12-02T04:12:21.547166Z`.
    pub fn format(t: &NaiveDateTime) -> String {
        t.and_utc().to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }

    pub fn serialize<S: serde::Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(t))
    }

    /// Reads back what [`serialize`] wrote.
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<NaiveDateTime, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        chrono::DateTime::parse_from_rfc3339(&s)
            .map(|t| t.naive_utc())
            .map_err(serde::de::Error::custom)
    }

    pub fn option<S: serde::Serializer>(
        t: &Option<NaiveDateTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&format(t)),
            None => s.serialize_none(),
        }
    }
}

/// Current UTC time as stored in the database.
/// `s` lowercased for a `LIKE` pattern (with `ESCAPE '\\'`): `%`, `_` and
/// `\\` stand for themselves.
pub fn like_escape(s: &str) -> String {
    s.to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect()
}

/// A `LIKE` pattern that finds `s` anywhere in a lowercased text.
pub fn like_pattern(s: &str) -> String {
    format!("%{}%", like_escape(s))
}

pub fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

diesel::define_sql_function! {
    /// SQL `lower()`, available on both backends; on SQLite it is ours,
    /// registered on each connection, so that it lowers every letter and
    /// not ASCII ones only. For columns that are never NULL: ours refuses
    /// a NULL (SQLite's own returned NULL).
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}
