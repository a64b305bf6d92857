//! A Ruche document version carried by a post (`ruche:document`
//! attachment): read into what the documents feature keeps, and written
//! from it.

use crate::config::Config;
use crate::documents::{Attached, RemoteVersion, Shared};
use crate::error::{AppError, AppResult};
use crate::federation::protocol::note::PublishedDocument;
use crate::federation::protocol::Attachment;

/// The version an attachment describes, when its file is on `file_host`.
pub fn version(cfg: &Config, a: &Attachment, file_host: &str) -> Option<RemoteVersion> {
    fn text(v: &Option<String>) -> &str {
        v.as_deref().unwrap_or("")
    }
    let attached = Attached {
        ap_id: a.document.as_deref()?,
        url: text(&a.url),
        name: text(&a.name),
        media_type: text(&a.media_type),
        version: a.version,
        size: a.size,
        sha256: text(&a.sha256),
        note_html: text(&a.summary),
    };
    crate::documents::parse_attachment(cfg, &attached, file_host)
}

/// A version of one of our documents (or of one our community keeps) as
/// its post carries it.
pub fn published(s: Shared) -> AppResult<PublishedDocument> {
    let url = |u: &str| {
        url::Url::parse(u).map_err(|e| AppError::internal(format!("document address {u}: {e}")))
    };
    Ok(PublishedDocument {
        kind: "Document",
        url: url(&s.url)?,
        document: url(&s.ap_id)?,
        name: s.filename,
        media_type: s.content_type,
        version: s.version,
        size: s.size,
        sha256: s.sha256,
        summary: s.note_html,
    })
}
