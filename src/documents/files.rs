//! Document files: this instance's copies of files uploaded elsewhere,
//! reading a version's bytes, removing files of deleted documents, and how
//! a download is served.

use diesel::prelude::*;
use sha2::Digest;

use super::storage::{self, Storage};
use super::{check_content_type, hex, too_large, RemoteVersion, Source};
use crate::db;
use crate::db::schema::{document_versions, documents};
use crate::db::DbConn;
use crate::error::{AppError, AppResult};

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

/// The media type a download is served with: the type recorded for the file
/// when it is one of the known-safe types below, else
/// `application/octet-stream`. What the uploader claimed is not trusted:
/// `text/html`, `image/svg+xml` or `application/javascript` served from this
/// site's origin would run in it.
pub fn served_type(recorded: &str) -> &'static str {
    const SAFE: &[&str] = &[
        "application/pdf",
        "application/zip",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
        "audio/mpeg",
        "audio/ogg",
        "image/gif",
        "image/jpeg",
        "image/png",
        "image/webp",
        "text/csv",
        "text/markdown",
        "text/plain",
        "video/mp4",
        "video/webm",
    ];
    let t = check_content_type(recorded);
    SAFE.iter()
        .find(|s| **s == t)
        .copied()
        .unwrap_or("application/octet-stream")
}

/// `Content-Disposition` for a download: always an attachment (a file is
/// never shown inside this site), with the name in RFC 5987 form.
pub fn disposition(filename: &str) -> String {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._- ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        crate::markdown::encode_segment(filename)
    )
}
