//! Document entries in feeds: the part of the document rules that the
//! content envelope applies itself, inside the transaction that stores or
//! removes an entry — a version another instance announces with its entry,
//! and a document that goes with its last entry. Everything else about
//! documents (uploads, versions, rights, files) is the `documents` feature,
//! which builds on this.

/// A document version described by a Note of another instance: announced
/// by a remote community (this instance keeps a link to the file), or sent
/// by a member to one of our communities (this instance keeps a copy).
#[derive(Debug, Clone)]
pub struct RemoteVersion {
    /// The document's address, given where it was first uploaded.
    pub ap_id: String,
    /// Our document, when that address is ours.
    pub document: Option<i64>,
    pub version: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub url: String,
    /// Where our copy of the file is kept (see `documents::keep_copy`); empty for a
    /// document of a remote community, which stays on its instance.
    pub storage_key: String,
}

/// The text and HTML of a document's feed entry.
pub fn entry_body(doc_id: i64, name: &str, version: i64) -> (String, String) {
    entry_html(doc_id, name, version, "")
}

/// The text and HTML of a document's feed entry, with the uploader's note.
pub fn entry_html(doc_id: i64, name: &str, version: i64, note_html: &str) -> (String, String) {
    let escaped = ammonia::clean_text(name);
    let html =
        format!("<p>📄 <a href=\"/documents/{doc_id}\">{escaped}</a> · v{version}</p>{note_html}");
    let text = format!("📄 {name} · v{version}");
    (text, html)
}

/// Records a document version that content row `entry` of another instance
/// brings (inside the write transaction that stores it); returns the local
/// document id and the entry's body. The document is found by its address
/// within the same community only, so that a Note cannot add versions to
/// a document of another community.
///
/// With a `storage_key` (a member's upload to one of our communities) this
/// instance keeps the file and numbers the version itself; otherwise the
/// version links to the file on the community's instance, with its number.
macro_rules! mirror_version {
    ($c:expr, $community:expr, $entry:expr, $author:expr, $v:expr) => {{
        use $crate::db::schema::{document_versions as dv_, documents as d_};
        let v: &$crate::content::document_entry::RemoteVersion = $v;
        let now = $crate::db::now();
        let existing: Option<i64> = match v.document {
            Some(id) => d_::table
                .find(id)
                .filter(d_::community_id.eq($community))
                .filter(d_::deleted_at.is_null())
                .select(d_::id)
                .first($c)
                .optional()?,
            None => d_::table
                .filter(d_::ap_id.eq(&v.ap_id))
                .filter(d_::community_id.eq($community))
                .filter(d_::deleted_at.is_null())
                .select(d_::id)
                .first($c)
                .optional()?,
        };
        if existing.is_none() && v.document.is_some() {
            // One of our documents, but not (or no longer) in this community.
            return Err($crate::error::AppError::not_found());
        }
        let doc_id = match existing {
            Some(id) => {
                diesel::update(d_::table.find(id))
                    .set((d_::updated_at.eq(now), d_::name.eq(&v.filename)))
                    .execute($c)?;
                id
            }
            None => diesel::insert_into(d_::table)
                .values((
                    d_::community_id.eq($community),
                    d_::ap_id.eq(&v.ap_id),
                    d_::name.eq(&v.filename),
                    d_::created_by.eq(Some($author)),
                    d_::created_at.eq(now),
                    d_::updated_at.eq(now),
                ))
                .returning(d_::id)
                .get_result($c)?,
        };
        let hosted = !v.storage_key.is_empty();
        let version = if hosted {
            let last: Option<i64> = dv_::table
                .filter(dv_::document_id.eq(doc_id))
                .select(diesel::dsl::max(dv_::version))
                .first($c)?;
            last.unwrap_or(0) + 1
        } else {
            v.version
        };
        let known: i64 = dv_::table
            .filter(dv_::document_id.eq(doc_id))
            .filter(dv_::version.eq(version))
            .count()
            .get_result($c)?;
        if known == 0 {
            diesel::insert_into(dv_::table)
                .values((
                    dv_::document_id.eq(doc_id),
                    dv_::version.eq(version),
                    dv_::filename.eq(&v.filename),
                    dv_::content_type.eq(&v.content_type),
                    dv_::size.eq(v.size),
                    dv_::sha256.eq(&v.sha256),
                    dv_::storage_key.eq(&v.storage_key),
                    dv_::remote_url.eq(if hosted { "" } else { v.url.as_str() }),
                    dv_::content_id.eq(Some($entry)),
                    dv_::uploaded_by.eq(Some($author)),
                    dv_::created_at.eq(now),
                ))
                .execute($c)?;
        }
        $crate::content::document_entry::entry_body(doc_id, &v.filename, version)
    }};
}
pub(crate) use mirror_version;

/// A feed entry became a tombstone (inside its write transaction): a
/// document lives as long as one of its entries does, so that removing
/// them, here or on the community's instance, removes it on every instance.
/// Its files go with the next `documents::purge_files`.
macro_rules! entry_gone {
    ($c:expr, $entry:expr) => {{
        use $crate::db::schema::{content as c_, document_versions as dv_, documents as d_};
        let doc: Option<i64> = dv_::table
            .filter(dv_::content_id.eq($entry))
            .select(dv_::document_id)
            .first($c)
            .optional()?;
        if let Some(doc) = doc {
            // Lock the document's row first: entries removed at the same
            // time in other transactions are then committed before the
            // count below reads them, so that the last one sees none left.
            diesel::update(d_::table.find(doc))
                .set(d_::updated_at.eq(d_::updated_at))
                .execute($c)?;
            let live: i64 = dv_::table
                .inner_join(c_::table.on(dv_::content_id.eq(c_::id.nullable())))
                .filter(dv_::document_id.eq(doc))
                .filter(c_::deleted_at.is_null())
                .count()
                .get_result($c)?;
            if live == 0 {
                diesel::update(d_::table.find(doc).filter(d_::deleted_at.is_null()))
                    .set(d_::deleted_at.eq(Some($crate::db::now())))
                    .execute($c)?;
            }
        }
    }};
}
pub(crate) use entry_gone;
