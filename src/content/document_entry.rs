//! Document entries in feeds: the part of the document rules that the
//! content envelope applies itself, inside the transaction that stores or
//! removes an entry — a version another instance announces with its entry,
//! and a document that goes with its last entry. Everything else about
//! documents (uploads, versions, rights, files) is the `documents` feature,
//! which builds on this.

use diesel::prelude::*;

use crate::db::schema::{content, document_versions, document_words_due, documents};
use crate::db::{now, DbConn};
use crate::error::{AppError, AppResult};

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
    /// The uploader's note on the version (sanitised HTML).
    pub note_html: String,
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
/// brings (inside the write transaction that stores it); returns the
/// entry's text and HTML. The document is found by its address
/// within the same community only, so that a Note cannot add versions to
/// a document of another community.
///
/// With a `storage_key` (a member's upload to one of our communities) this
/// instance keeps the file and numbers the version itself; otherwise the
/// version links to the file on the community's instance, with its number.
/// Either way its words are due to be read (`document_words_due`).
///
/// The copy shows what the host shows: the version's date is its entry's
/// (`published`), not when it arrived here, and a document keeps the name
/// of its first version, as on the instance it was uploaded to.
pub(crate) fn mirror_version(
    c: &mut DbConn,
    community: i64,
    entry: i64,
    author: i64,
    v: &RemoteVersion,
    published: chrono::NaiveDateTime,
) -> AppResult<(String, String)> {
    let hosted = !v.storage_key.is_empty();
    // Our own copy of a member's upload is dated when it reached us.
    let now = if hosted { now() } else { published.min(now()) };
    let existing: Option<i64> = match v.document {
        Some(id) => documents::table
            .find(id)
            .filter(documents::community_id.eq(community))
            .filter(documents::deleted_at.is_null())
            .select(documents::id)
            .first(c)
            .optional()?,
        None => documents::table
            .filter(documents::ap_id.eq(&v.ap_id))
            .filter(documents::community_id.eq(community))
            .filter(documents::deleted_at.is_null())
            .select(documents::id)
            .first(c)
            .optional()?,
    };
    if existing.is_none() && v.document.is_some() {
        // One of our documents, but not (or no longer) in this community.
        return Err(AppError::not_found());
    }
    let doc_id = match existing {
        Some(id) => {
            let updated: chrono::NaiveDateTime = documents::table
                .find(id)
                .select(documents::updated_at)
                .first(c)?;
            diesel::update(documents::table.find(id))
                .set(documents::updated_at.eq(updated.max(now)))
                .execute(c)?;
            if !hosted && v.version == 1 {
                // A first version read after a later one (a back-fill).
                diesel::update(documents::table.find(id))
                    .set((
                        documents::name.eq(&v.filename),
                        documents::created_at.eq(now),
                    ))
                    .execute(c)?;
            }
            id
        }
        None => diesel::insert_into(documents::table)
            .values((
                documents::community_id.eq(community),
                documents::ap_id.eq(&v.ap_id),
                documents::name.eq(&v.filename),
                documents::created_by.eq(Some(author)),
                documents::created_at.eq(now),
                documents::updated_at.eq(now),
            ))
            .returning(documents::id)
            .get_result(c)?,
    };
    let version = if hosted {
        let last: Option<i64> = document_versions::table
            .filter(document_versions::document_id.eq(doc_id))
            .select(diesel::dsl::max(document_versions::version))
            .first(c)?;
        last.unwrap_or(0) + 1
    } else {
        v.version
    };
    let known: i64 = document_versions::table
        .filter(document_versions::document_id.eq(doc_id))
        .filter(document_versions::version.eq(version))
        .count()
        .get_result(c)?;
    if known == 0 {
        let id = diesel::insert_into(document_versions::table)
            .values((
                document_versions::document_id.eq(doc_id),
                document_versions::version.eq(version),
                document_versions::filename.eq(&v.filename),
                document_versions::content_type.eq(&v.content_type),
                document_versions::size.eq(v.size),
                document_versions::sha256.eq(&v.sha256),
                document_versions::storage_key.eq(&v.storage_key),
                document_versions::remote_url.eq(if hosted { "" } else { v.url.as_str() }),
                document_versions::content_id.eq(Some(entry)),
                document_versions::uploaded_by.eq(Some(author)),
                document_versions::created_at.eq(now),
                document_versions::note_html.eq(&v.note_html),
            ))
            .returning(document_versions::id)
            .get_result::<i64>(c)?;
        // Its words are read later, from the file (`documents::words`).
        diesel::insert_into(document_words_due::table)
            .values((
                document_words_due::version_id.eq(id),
                document_words_due::attempts.eq(0),
                document_words_due::next_attempt_at.eq(crate::db::now()),
            ))
            .execute(c)?;
    }
    let name: String = documents::table
        .find(doc_id)
        .select(documents::name)
        .first(c)?;
    Ok(entry_html(doc_id, &name, version, &v.note_html))
}

/// A feed entry became a tombstone (inside its write transaction): a
/// document lives as long as one of its entries does, so that removing
/// them, here or on the community's instance, removes it on every instance.
/// Its files go with the next `documents::purge_files`.
pub(crate) fn entry_gone(c: &mut DbConn, entry: i64) -> AppResult<()> {
    let doc: Option<i64> = document_versions::table
        .filter(document_versions::content_id.eq(entry))
        .select(document_versions::document_id)
        .first(c)
        .optional()?;
    if let Some(doc) = doc {
        // Lock the document's row first: entries removed at the same
        // time in other transactions are then committed before the
        // count below reads them, so that the last one sees none left.
        diesel::update(documents::table.find(doc))
            .set(documents::updated_at.eq(documents::updated_at))
            .execute(c)?;
        let live: i64 = document_versions::table
            .inner_join(content::table.on(document_versions::content_id.eq(content::id.nullable())))
            .filter(document_versions::document_id.eq(doc))
            .filter(content::deleted_at.is_null())
            .count()
            .get_result(c)?;
        if live == 0 {
            diesel::update(
                documents::table
                    .find(doc)
                    .filter(documents::deleted_at.is_null()),
            )
            .set(documents::deleted_at.eq(Some(crate::db::now())))
            .execute(c)?;
        }
    }
    Ok(())
}

/// The version number the feed entry `entry` stands for, if it is a
/// document's.
pub(crate) fn version_of(c: &mut DbConn, entry: i64) -> AppResult<Option<i64>> {
    document_versions::table
        .filter(document_versions::content_id.eq(entry))
        .select(document_versions::version)
        .first(c)
        .optional()
        .map_err(AppError::from)
}

/// Inside a write transaction, once the version of the entry `entry` is
/// stored: the people who created the document or uploaded one of its
/// earlier versions (they hear of a new version).
pub(crate) fn earlier_authors(c: &mut DbConn, entry: i64) -> AppResult<Vec<i64>> {
    let document: Option<i64> = document_versions::table
        .filter(document_versions::content_id.eq(entry))
        .select(document_versions::document_id)
        .first(c)
        .optional()?;
    let Some(document) = document else {
        return Ok(Vec::new());
    };
    let mut who: Vec<i64> = document_versions::table
        .filter(document_versions::document_id.eq(document))
        .filter(
            document_versions::content_id
                .is_null()
                .or(document_versions::content_id.ne(entry)),
        )
        .select(document_versions::uploaded_by)
        .load::<Option<i64>>(c)?
        .into_iter()
        .flatten()
        .collect();
    let creator: Option<Option<i64>> = documents::table
        .find(document)
        .select(documents::created_by)
        .first(c)
        .optional()?;
    who.extend(creator.flatten());
    who.sort_unstable();
    who.dedup();
    Ok(who)
}
