//! A Ruche document version carried by a post (`ruche:document`
//! attachment), read into what the documents feature keeps.

use crate::config::Config;
use crate::documents::{Attached, RemoteVersion};
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
    };
    crate::documents::parse_attachment(cfg, &attached, file_host)
}
