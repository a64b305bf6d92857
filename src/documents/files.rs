//! Document files: this instance's copies of files uploaded elsewhere,
//! reading a version's bytes, and removing files of deleted documents.

use diesel::prelude::*;
use sha2::Digest;

use super::{hex, too_large, RemoteVersion, Source};
use crate::db;
use crate::db::schema::{document_versions, documents};
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::storage::{self, Storage};

/// What reading and copying files needs: this instance's store, and the
/// outgoing client for the files other instances keep (signed, bounded,
/// through the trust gate).
pub struct Files<'a> {
    pub storage: &'a std::sync::Arc<dyn Storage>,
    pub client: &'a crate::net::client::Client,
    /// `documents.max_bytes`.
    pub max_bytes: usize,
}

/// A member of another instance uploaded `v` to one of our communities:
/// this instance fetches the file from the uploader's instance (signed, at
/// most `documents.max_bytes`), checks it and keeps its own copy, which it
/// serves to the member instances from then on. A failure to reach the
/// other instance is answered 5xx, so that it sends the activity again.
pub async fn keep_copy(files: &Files<'_>, v: &mut RemoteVersion) -> AppResult<()> {
    let max = files.max_bytes;
    let bytes = files.client.get_bytes(&v.url, max).await.map_err(|e| {
        if e.code == "remote_too_large" {
            too_large(max)
        } else {
            e
        }
    })?;
    if bytes.is_empty() {
        return Err(AppError::bad_request("document_empty"));
    }
    let sha = hex(&sha2::Sha256::digest(&bytes));
    if !v.sha256.is_empty() && v.sha256 != sha {
        return Err(AppError::bad_request("document_checksum"));
    }
    let size = bytes.len() as i64;
    let key = storage::new_key();
    let (store, k) = (files.storage.clone(), key.clone());
    tokio::task::spawn_blocking(move || store.put(&k, &bytes))
        .await
        .map_err(AppError::internal)??;
    v.size = size;
    v.sha256 = sha;
    v.storage_key = key;
    Ok(())
}

/// Removes a kept file that ended up unused (its record failed or already
/// existed).
pub fn discard_copy(store: &dyn Storage, v: &RemoteVersion) {
    if !v.storage_key.is_empty() {
        if let Err(e) = store.delete(&v.storage_key) {
            tracing::warn!(error = %e, "unused document file not removed");
        }
    }
}

/// Removes the files kept for deleted documents (those a deletion did not
/// remove at once: a deletion decided on another instance, or a process
/// stopped in between); returns how many went.
pub fn purge_files(conn: &mut DbConn, store: &dyn Storage) -> AppResult<usize> {
    let rows: Vec<(i64, String)> = document_versions::table
        .inner_join(documents::table.on(documents::id.eq(document_versions::document_id)))
        .filter(documents::deleted_at.is_not_null())
        .filter(document_versions::storage_key.ne(""))
        .limit(500)
        .select((document_versions::id, document_versions::storage_key))
        .load(conn)?;
    let mut gone = Vec::new();
    for (id, key) in rows {
        match store.delete(&key) {
            Ok(()) => gone.push(id),
            Err(e) => tracing::warn!(error = %e, "document file not removed"),
        }
    }
    if !gone.is_empty() {
        db::write(conn, |cx| {
            diesel::update(document_versions::table.filter(document_versions::id.eq_any(&gone)))
                .set(document_versions::storage_key.eq(""))
                .execute(cx)
        })?;
    }
    Ok(gone.len())
}

/// Serves or fetches the bytes of a version the caller may read.
pub async fn bytes(files: &Files<'_>, source: Source) -> AppResult<Vec<u8>> {
    match source {
        Source::Local(key) => {
            let store = files.storage.clone();
            tokio::task::spawn_blocking(move || store.get(&key))
                .await
                .map_err(AppError::internal)?
        }
        Source::Remote(url) => files.client.get_bytes(&url, files.max_bytes).await,
    }
}
