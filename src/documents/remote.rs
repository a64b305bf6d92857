//! Documents across instances: the addresses of documents, the
//! attachment that carries a version in a Note, and reading it back from
//! another instance's Note.

use diesel::prelude::*;

use super::{check_content_type, check_filename, RemoteVersion, Version};
use crate::db::schema::{document_versions, documents, users};
use crate::db::DbConn;
use crate::error::AppResult;

/// A version of a document as its feed entry carries it to other
/// instances.
#[derive(Debug, Clone)]
pub struct Shared {
    /// The document's address, given where it was first uploaded.
    pub ap_id: String,
    /// Where the file is fetched from.
    pub url: String,
    pub filename: String,
    pub content_type: String,
    pub version: i64,
    pub size: i64,
    pub sha256: String,
    /// The uploader's note on the version (HTML, sanitised).
    pub note_html: String,
}

/// The version a document's feed entry carries, if it is one.
pub fn shared(
    conn: &mut DbConn,
    cfg: &crate::config::Config,
    content_id: i64,
) -> AppResult<Option<Shared>> {
    let found: Option<(i64, Option<String>, Version)> = document_versions::table
        .inner_join(documents::table.on(documents::id.eq(document_versions::document_id)))
        .filter(document_versions::content_id.eq(content_id))
        .select((
            document_versions::document_id,
            documents::ap_id,
            Version::as_select(),
        ))
        .first(conn)
        .optional()?;
    let Some((doc, ap_id, v)) = found else {
        return Ok(None);
    };
    // The file is fetched from where its bytes are kept; the document keeps
    // the address it was first given, wherever it was uploaded.
    let url = if v.storage_key.is_empty() {
        v.remote_url.clone()
    } else {
        format!("{}/versions/{}/file", address(cfg, doc), v.version)
    };
    Ok(Some(Shared {
        ap_id: ap_id.unwrap_or_else(|| address(cfg, doc)),
        url,
        filename: v.filename,
        content_type: v.content_type,
        version: v.version,
        size: v.size,
        sha256: v.sha256,
        note_html: v.note_html,
    }))
}

/// The live document of one of our communities that `url` names (our
/// address, or the address it was given on the instance it was uploaded
/// from).
pub fn hosted_by_address(
    conn: &mut DbConn,
    cfg: &crate::config::Config,
    url: &str,
) -> AppResult<Option<i64>> {
    let local = local_id(cfg, url);
    let found: Option<i64> = documents::table
        .inner_join(users::table.on(users::id.eq(documents::community_id)))
        .filter(users::domain.is_null())
        .filter(documents::deleted_at.is_null())
        .filter(
            documents::id
                .nullable()
                .eq(local)
                .or(documents::ap_id.eq(url)),
        )
        .select(documents::id)
        .first(conn)
        .optional()?;
    Ok(found)
}

/// Our document at `url`, if it is one of ours.
pub fn local_id(cfg: &crate::config::Config, url: &str) -> Option<i64> {
    url.strip_prefix(&format!("{}/documents/", cfg.base()))?
        .parse()
        .ok()
}

/// The address of our document `id`.
pub fn address(cfg: &crate::config::Config, id: i64) -> String {
    format!("{}/documents/{id}", cfg.base())
}

/// A document version as another instance's post describes it (read
/// from its attachment by the federation door).
#[derive(Debug, Default, Clone, Copy)]
pub struct Attached<'a> {
    /// The document's address on its instance.
    pub ap_id: &'a str,
    /// Where the file is served.
    pub url: &'a str,
    pub name: &'a str,
    pub media_type: &'a str,
    pub version: Option<i64>,
    pub size: Option<i64>,
    pub sha256: &'a str,
    /// The uploader's note (HTML, from another instance: sanitised here).
    pub note_html: &'a str,
}

/// The version a remote post carries, when its file is served by
/// `file_host` and every field is sound.
pub fn parse_attachment(
    cfg: &crate::config::Config,
    a: &Attached,
    file_host: &str,
) -> Option<RemoteVersion> {
    let (ap_id, url) = (a.ap_id, a.url);
    let from_host = crate::urls::host_of(url).as_deref() == Some(file_host);
    let identifier = crate::urls::host_of(ap_id).is_some();
    if !from_host || !identifier || ap_id.len() > 2000 || url.len() > 2000 {
        return None;
    }
    let filename = check_filename(a.name).ok()?;
    let sha = a.sha256;
    Some(RemoteVersion {
        ap_id: ap_id.to_string(),
        document: local_id(cfg, ap_id),
        storage_key: String::new(),
        version: a.version.filter(|v| *v > 0)?,
        filename,
        content_type: check_content_type(a.media_type),
        size: a.size.unwrap_or(0).max(0),
        sha256: if sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            sha.to_string()
        } else {
            String::new()
        },
        url: url.to_string(),
        note_html: note_of(a.note_html),
    })
}

/// An uploader's note as another instance sends it: sanitised, and left
/// out when longer than a note may be here.
fn note_of(html: &str) -> String {
    if html.len() > 16 * 1024 {
        return String::new();
    }
    crate::markdown::sanitize(html)
}
