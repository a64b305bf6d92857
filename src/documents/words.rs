//! The words of documents uploaded on other instances, read after they
//! arrive, so that search finds them by their text as it finds ours.
//!
//! A version another instance announces (a document of one of its
//! communities: the file stays there) or sends (a member's upload to one of
//! ours: we keep a copy) is stored with a row of `document_words_due`, in
//! the transaction that stores it. Then [`due`] hands out the rows due,
//! [`read`] reads the file (our copy, or theirs: signed, through the
//! outgoing client and the trust gate, bounded as an upload is), checks it
//! against the checksum its instance announced and extracts its words as
//! from an upload (`text`), and [`done`] keeps them and indexes the entry
//! again. The server runs this loop (`lib.rs`).
//!
//! A failure that may pass (the other instance unreachable or refusing for
//! now) is tried again later, waiting twice as long each time, at most
//! [`MAX_ATTEMPTS`] times; one that will not (the file is gone, too large,
//! or not what was announced) is given up at once. Either way it is logged,
//! and the document is found by its name, like a file whose words cannot be
//! read. A version that is no longer its document's newest, or whose
//! document was deleted, is not read at all: the index holds the newest
//! version of a document only.

use chrono::Duration;
use diesel::prelude::*;
use sha2::Digest;

use super::{bytes, hex, text, Files, Source};
use crate::db::schema::{document_texts, document_versions, document_words_due, documents};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult, ErrorKind};

/// Tries before a file is given up.
pub const MAX_ATTEMPTS: i32 = 8;
/// How long a process that took a row has to read it before another may.
const LEASE_MINUTES: i64 = 10;
/// The first wait after a failure (then twice as long each time).
const FIRST_WAIT_SECONDS: i64 = 60;

/// A version whose words are due.
#[derive(Debug, Clone)]
pub struct Due {
    pub version_id: i64,
    attempts: i32,
    filename: String,
    content_type: String,
    sha256: String,
    source: Source,
    entry: Option<i64>,
}

/// Up to `limit` versions due now, taken for [`LEASE_MINUTES`] so that
/// other processes leave them alone meanwhile. Rows that need no reading
/// any more (an older version, a deleted document, no file) go.
pub fn due(conn: &mut DbConn, limit: i64) -> AppResult<Vec<Due>> {
    type Row = (
        i64,
        i32,
        i64,
        i64,
        String,
        String,
        String,
        String,
        String,
        Option<i64>,
    );
    let rows: Vec<Row> = document_words_due::table
        .inner_join(
            document_versions::table.on(document_versions::id.eq(document_words_due::version_id)),
        )
        .filter(document_words_due::next_attempt_at.le(now()))
        .order(document_words_due::next_attempt_at.asc())
        .limit(limit)
        .select((
            document_words_due::version_id,
            document_words_due::attempts,
            document_versions::document_id,
            document_versions::version,
            document_versions::filename,
            document_versions::content_type,
            document_versions::sha256,
            document_versions::storage_key,
            document_versions::remote_url,
            document_versions::content_id,
        ))
        .load(conn)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    db::write(conn, |c| {
        let mut out = Vec::new();
        for (id, attempts, doc, version, filename, content_type, sha256, key, url, entry) in rows {
            let row = document_words_due::table
                .find(id)
                .filter(document_words_due::next_attempt_at.le(now()));
            let newer: i64 = document_versions::table
                .filter(document_versions::document_id.eq(doc))
                .filter(document_versions::version.gt(version))
                .count()
                .get_result(c)?;
            let live: i64 = documents::table
                .find(doc)
                .filter(documents::deleted_at.is_null())
                .count()
                .get_result(c)?;
            let source = match (key.is_empty(), url.is_empty()) {
                (false, _) => Some(Source::Local(key)),
                (true, false) => Some(Source::Remote(url)),
                (true, true) => None,
            };
            let Some(source) = source.filter(|_| newer == 0 && live > 0) else {
                diesel::delete(row).execute(c)?;
                continue;
            };
            // Taken by this process, unless another took it first.
            let taken = diesel::update(row)
                .set(
                    document_words_due::next_attempt_at
                        .eq(now() + Duration::minutes(LEASE_MINUTES)),
                )
                .execute(c)?;
            if taken == 1 {
                out.push(Due {
                    version_id: id,
                    attempts,
                    filename,
                    content_type,
                    sha256,
                    source,
                    entry,
                });
            }
        }
        Ok::<_, AppError>(out)
    })
}

/// The words of the version's file (empty when its kind has no words to
/// read, or they could not be read: the reason is logged).
pub async fn read(files: &Files<'_>, d: &Due) -> AppResult<String> {
    let file = bytes(files, d.source.clone()).await?;
    let sha = hex(&sha2::Sha256::digest(&file));
    if !d.sha256.is_empty() && d.sha256 != sha {
        return Err(AppError::bad_request("document_checksum"));
    }
    let (name, kind) = (d.filename.clone(), d.content_type.clone());
    tokio::task::spawn_blocking(move || text::extract_or_log(&name, &kind, &file))
        .await
        .map_err(AppError::internal)
}

/// Keeps the words read for `d` and indexes its entry again; or, after a
/// failure, sets the next try (or gives up, see the module's doc).
pub fn done(conn: &mut DbConn, d: &Due, read: AppResult<String>) -> AppResult<()> {
    let row = document_words_due::table.find(d.version_id);
    match read {
        Ok(words) => db::write(conn, |c| {
            diesel::delete(row).execute(c)?;
            diesel::delete(document_texts::table.find(d.version_id)).execute(c)?;
            if !words.is_empty() {
                diesel::insert_into(document_texts::table)
                    .values((
                        document_texts::version_id.eq(d.version_id),
                        document_texts::text.eq(&words),
                    ))
                    .execute(c)?;
            }
            if let Some(entry) = d.entry {
                crate::index::content(c, entry)?;
            }
            Ok::<_, AppError>(())
        }),
        Err(e) => {
            let again = matches!(
                e.kind,
                ErrorKind::BadGateway
                    | ErrorKind::Internal
                    | ErrorKind::RateLimited
                    | ErrorKind::Forbidden
            ) && d.attempts + 1 < MAX_ATTEMPTS;
            let file = d.filename.as_str();
            if again {
                tracing::info!(file, error = %e, attempt = d.attempts + 1, "the words of a document from another instance were not read; will try again");
                let wait = FIRST_WAIT_SECONDS << d.attempts.clamp(0, 16);
                db::write(conn, |c| {
                    diesel::update(row)
                        .set((
                            document_words_due::attempts.eq(d.attempts + 1),
                            document_words_due::next_attempt_at.eq(now() + Duration::seconds(wait)),
                        ))
                        .execute(c)
                })?;
            } else {
                tracing::warn!(file, error = %e, "the words of a document from another instance were not read; it is found by its name only");
                db::write(conn, |c| diesel::delete(row).execute(c))?;
            }
            Ok(())
        }
    }
}
