//! Documents of communities: upload (any type, up to `documents.max_bytes`),
//! new versions with their history, downloads checked against the
//! community, and deletion. Each upload or new version is announced by a
//! content row of kind `document` in the community, so that it shows in the
//! community feed and in members' home feeds and federates like a post.

mod files;
mod remote;
pub mod text;
pub mod words;

pub use files::{bytes, discard_copy, keep_copy, purge_files, Files};
pub use remote::{
    address, hosted_by_address, local_id, parse_attachment, shared, Attached, Shared,
};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use sha2::Digest;

use crate::accounts::User;
use crate::audience::Visibility;
use crate::communities::{self, Community};
use crate::content::document_entry::entry_html;
pub use crate::content::document_entry::RemoteVersion;
use crate::db::schema::{content, document_texts, document_versions, documents, users};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult, ErrorKind};
use crate::events::{self, Event};
use crate::storage::{self, check_content_type, Storage};

/// Inserts the feed entry of an upload (inside a write transaction).
fn insert_entry(
    c: &mut DbConn,
    author: i64,
    community: i64,
    text: &str,
    html: &str,
) -> AppResult<i64> {
    let id = diesel::insert_into(content::table)
        .values((
            content::kind.eq("document"),
            content::author_id.eq(author),
            content::visibility.eq(Visibility::Community),
            content::community_id.eq(Some(community)),
            content::body.eq(text),
            content::body_html.eq(html),
            content::created_at.eq(now()),
        ))
        .returning(content::id)
        .get_result(c)?;
    crate::index::content(c, id)?;
    Ok(id)
}

pub use crate::storage::MAX_NAME;

/// Checks a document's file name (see [`storage::check_filename`]).
pub fn check_filename(raw: &str) -> AppResult<String> {
    storage::check_filename(raw)
        .ok_or_else(|| AppError::bad_request("document_name_invalid").with("max", MAX_NAME))
}

/// What an uploader sends.
pub struct Upload<'a> {
    pub filename: &'a str,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
}

fn check_upload(up: &Upload, max: usize) -> AppResult<(String, String)> {
    let name = check_filename(up.filename)?;
    if up.bytes.is_empty() {
        return Err(AppError::bad_request("document_empty"));
    }
    if up.bytes.len() > max {
        return Err(too_large(max));
    }
    Ok((name, check_content_type(up.content_type)))
}

pub fn too_large(max: usize) -> AppError {
    AppError::new(ErrorKind::PayloadTooLarge, "document_too_large")
        .with("max_mb", max.div_ceil(1024 * 1024))
}

/// One version of a document.
#[derive(Debug, Clone, Serialize, Queryable, Selectable)]
#[diesel(table_name = document_versions)]
pub struct Version {
    #[serde(skip)]
    pub id: i64,
    #[serde(skip)]
    pub document_id: i64,
    pub version: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    #[serde(skip)]
    pub storage_key: String,
    #[serde(skip)]
    pub remote_url: String,
    /// The feed entry that announced it.
    pub content_id: Option<i64>,
    #[serde(skip)]
    pub uploaded_by: Option<i64>,
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub created_at: NaiveDateTime,
    /// The uploader's note on this version (sanitised HTML).
    pub note_html: String,
}

/// A document with its versions (newest first).
#[derive(Debug, Clone, Serialize)]
pub struct Document {
    pub id: i64,
    pub name: String,
    pub community: String,
    pub created_by: Option<String>,
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub updated_at: NaiveDateTime,
    pub versions: Vec<Version>,
    /// Whether the viewer may upload versions and delete it.
    pub can_edit: bool,
}

fn member_of(conn: &mut DbConn, user: &User, community: i64) -> AppResult<Community> {
    let c = communities::by_id(conn, user.id, community)?;
    if !c.is_member() {
        return Err(AppError::forbidden("community_members_only"));
    }
    Ok(c)
}

/// A member uploads a new document to a community. The file is stored
/// first; if recording it fails, the file is removed again.
pub fn upload(
    conn: &mut DbConn,
    store: &dyn Storage,
    max: usize,
    user: &User,
    community_name: &str,
    up: &Upload,
    note: &str,
) -> AppResult<Document> {
    let c = communities::get(conn, user.id, community_name)?;
    if !c.is_member() {
        return Err(AppError::forbidden("community_members_only"));
    }
    let (name, content_type) = check_upload(up, max)?;
    let note_html = render_note(note)?;
    let words = text::extract_or_log(&name, &content_type, up.bytes);
    let key = storage::new_key();
    store.put(&key, up.bytes)?;
    let sha = hex(&sha2::Sha256::digest(up.bytes));
    let size = up.bytes.len() as i64;
    let recorded = db::write(conn, |cx| {
        let now = now();
        let doc_id: i64 = diesel::insert_into(documents::table)
            .values((
                documents::community_id.eq(c.id),
                documents::name.eq(&name),
                documents::created_by.eq(user.id),
                documents::created_at.eq(now),
                documents::updated_at.eq(now),
            ))
            .returning(documents::id)
            .get_result(cx)?;
        let (text, html) = entry_html(doc_id, &name, 1, &note_html);
        let entry = insert_entry(cx, user.id, c.id, &text, &html)?;
        diesel::insert_into(document_versions::table)
            .values((
                document_versions::document_id.eq(doc_id),
                document_versions::version.eq(1),
                document_versions::filename.eq(&name),
                document_versions::content_type.eq(&content_type),
                document_versions::size.eq(size),
                document_versions::sha256.eq(&sha),
                document_versions::storage_key.eq(&key),
                document_versions::content_id.eq(entry),
                document_versions::uploaded_by.eq(user.id),
                document_versions::created_at.eq(now),
                document_versions::note_html.eq(&note_html),
            ))
            .returning(document_versions::id)
            .get_result::<i64>(cx)
            .map_err(AppError::from)
            .and_then(|v| keep_words(cx, v, entry, &words))?;
        events::record(
            cx,
            Event::Published {
                author: user.id,
                content: entry,
            },
        )?;
        crate::notifications::watch::tell(cx, c.id, "community_post", user.id, entry, &[], &[])?;
        Ok::<_, AppError>(doc_id)
    });
    match recorded {
        Ok(id) => get(conn, user, id),
        Err(e) => {
            let _ = store.delete(&key);
            Err(e)
        }
    }
}

/// Keeps the words read from a version's file and indexes its entry with
/// them (inside the upload's transaction).
fn keep_words(c: &mut DbConn, version: i64, entry: i64, words: &str) -> AppResult<()> {
    if !words.trim().is_empty() {
        diesel::insert_into(document_texts::table)
            .values((
                document_texts::version_id.eq(version),
                document_texts::text.eq(words),
            ))
            .execute(c)?;
    }
    crate::index::content(c, entry)?;
    Ok(())
}

fn render_note(note: &str) -> AppResult<String> {
    crate::error::refuse_nul("note", note)?;
    if note.chars().count() > 2000 {
        return Err(AppError::bad_request("field_too_long")
            .with("field", "note")
            .with("max", 2000));
    }
    Ok(if note.trim().is_empty() {
        String::new()
    } else {
        crate::markdown::render(note, |_| false).html
    })
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The one rule for changing a document (adding a version, deleting it),
/// whichever door the request comes through: its uploader while still a
/// member, the community's moderators, and administrators for communities
/// of this instance.
fn may_edit(c: &Community, created_by: i64, user: &User) -> bool {
    (created_by == user.id && c.is_member())
        || c.is_moderator()
        || (user.is_admin && user.is_local() && c.is_local())
}

/// Whether `user` may add a version to our document `id` (asked before a
/// member's file is fetched from another instance).
pub fn may_add_version(conn: &mut DbConn, user: &User, id: i64) -> AppResult<bool> {
    let d = load(conn, user, id)?;
    Ok(may_edit(&d.community, d.created_by, user))
}

/// A live document as read for a viewer who may read its community.
struct Loaded {
    community: Community,
    created_by: i64,
    name: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// The live document `id` if the viewer may read its community.
fn load(conn: &mut DbConn, viewer: &User, id: i64) -> AppResult<Loaded> {
    type Row = (
        i64,
        String,
        Option<NaiveDateTime>,
        Option<i64>,
        NaiveDateTime,
        NaiveDateTime,
    );
    let (community, name, deleted, created_by, created_at, updated_at): Row = documents::table
        .find(id)
        .select((
            documents::community_id,
            documents::name,
            documents::deleted_at,
            documents::created_by,
            documents::created_at,
            documents::updated_at,
        ))
        .first(conn)?;
    if deleted.is_some() {
        return Err(AppError::not_found());
    }
    let c = communities::by_id(conn, viewer.id, community)?;
    if !c.readable() {
        return Err(AppError::forbidden("community_members_only"));
    }
    Ok(Loaded {
        community: c,
        created_by: created_by.unwrap_or(0),
        name,
        created_at,
        updated_at,
    })
}

/// A member uploads a new version; the earlier ones stay downloadable.
pub fn new_version(
    conn: &mut DbConn,
    store: &dyn Storage,
    max: usize,
    user: &User,
    id: i64,
    up: &Upload,
    note: &str,
) -> AppResult<Document> {
    let Loaded {
        community: c,
        name,
        created_by,
        ..
    } = load(conn, user, id)?;
    member_of(conn, user, c.id)?;
    if !may_edit(&c, created_by, user) {
        return Err(AppError::forbidden("document_not_editable"));
    }
    let (filename, content_type) = check_upload(up, max)?;
    let note_html = render_note(note)?;
    let words = text::extract_or_log(&filename, &content_type, up.bytes);
    let key = storage::new_key();
    store.put(&key, up.bytes)?;
    let sha = hex(&sha2::Sha256::digest(up.bytes));
    let size = up.bytes.len() as i64;
    let recorded = db::write(conn, |cx| {
        let last: Option<i64> = document_versions::table
            .filter(document_versions::document_id.eq(id))
            .select(diesel::dsl::max(document_versions::version))
            .first(cx)?;
        let version = last.unwrap_or(0) + 1;
        let (text, html) = entry_html(id, &name, version, &note_html);
        let entry = insert_entry(cx, user.id, c.id, &text, &html)?;
        let now = now();
        diesel::insert_into(document_versions::table)
            .values((
                document_versions::document_id.eq(id),
                document_versions::version.eq(version),
                document_versions::filename.eq(&filename),
                document_versions::content_type.eq(&content_type),
                document_versions::size.eq(size),
                document_versions::sha256.eq(&sha),
                document_versions::storage_key.eq(&key),
                document_versions::content_id.eq(entry),
                document_versions::uploaded_by.eq(user.id),
                document_versions::created_at.eq(now),
                document_versions::note_html.eq(&note_html),
            ))
            .returning(document_versions::id)
            .get_result::<i64>(cx)
            .map_err(AppError::from)
            .and_then(|v| keep_words(cx, v, entry, &words))?;
        diesel::update(documents::table.find(id))
            .set(documents::updated_at.eq(now))
            .execute(cx)?;
        events::record(
            cx,
            Event::Published {
                author: user.id,
                content: entry,
            },
        )?;
        let earlier = crate::content::document_entry::earlier_authors(cx, entry)?;
        crate::notifications::watch::tell(
            cx,
            c.id,
            "document_updated",
            user.id,
            entry,
            &earlier,
            &[],
        )?;
        Ok::<_, AppError>(())
    });
    match recorded {
        Ok(()) => get(conn, user, id),
        Err(e) => {
            let _ = store.delete(&key);
            Err(e)
        }
    }
}

/// A document with its versions.
pub fn get(conn: &mut DbConn, viewer: &User, id: i64) -> AppResult<Document> {
    let Loaded {
        community: c,
        created_by,
        name,
        created_at,
        updated_at,
    } = load(conn, viewer, id)?;
    let versions: Vec<Version> = document_versions::table
        .filter(document_versions::document_id.eq(id))
        .order(document_versions::version.desc())
        .select(Version::as_select())
        .load(conn)?;
    let author: Option<String> = users::table
        .find(created_by)
        .select(users::username)
        .first(conn)
        .optional()?;
    let can_edit = may_edit(&c, created_by, viewer);
    Ok(Document {
        id,
        name,
        community: c.name.clone(),
        created_by: author,
        created_at,
        updated_at,
        versions,
        can_edit,
    })
}

/// The documents of a community, most recently updated first.
pub fn list(conn: &mut DbConn, viewer: &User, community_name: &str) -> AppResult<Vec<Document>> {
    let c = communities::get_readable(conn, viewer.id, community_name)?;
    type Row = (i64, String, Option<i64>, NaiveDateTime, NaiveDateTime);
    let docs: Vec<Row> = documents::table
        .filter(documents::community_id.eq(c.id))
        .filter(documents::deleted_at.is_null())
        .order(documents::updated_at.desc())
        .limit(200)
        .select((
            documents::id,
            documents::name,
            documents::created_by,
            documents::created_at,
            documents::updated_at,
        ))
        .load(conn)?;
    // Every version and every uploader's name in one query each.
    let ids: Vec<i64> = docs.iter().map(|d| d.0).collect();
    let all: Vec<Version> = document_versions::table
        .filter(document_versions::document_id.eq_any(&ids))
        .order(document_versions::version.desc())
        .select(Version::as_select())
        .load(conn)?;
    let mut versions: std::collections::HashMap<i64, Vec<Version>> = Default::default();
    for v in all {
        versions.entry(v.document_id).or_default().push(v);
    }
    let uploaders: Vec<i64> = docs.iter().filter_map(|d| d.2).collect();
    let names: Vec<(i64, String)> = users::table
        .filter(users::id.eq_any(&uploaders))
        .select((users::id, users::username))
        .load(conn)?;
    Ok(docs
        .into_iter()
        .map(|(id, name, created_by, created_at, updated_at)| {
            let by = created_by.unwrap_or(0);
            Document {
                id,
                name,
                community: c.name.clone(),
                created_by: names.iter().find(|(i, _)| *i == by).map(|(_, n)| n.clone()),
                created_at,
                updated_at,
                versions: versions.remove(&id).unwrap_or_default(),
                can_edit: may_edit(&c, by, viewer),
            }
        })
        .collect())
}

/// Where a version's bytes are: here (a storage key) or on the instance of
/// its community (an address to fetch, signed).
#[derive(Debug, Clone)]
pub enum Source {
    Local(String),
    Remote(String),
}

/// A version the viewer may download: (file name, media type, source).
pub fn file(
    conn: &mut DbConn,
    viewer: &User,
    id: i64,
    version: i64,
) -> AppResult<(String, String, Source)> {
    load(conn, viewer, id)?;
    file_of(conn, id, version)
}

/// A version's file, without access checks (the caller checked them).
pub fn file_of(conn: &mut DbConn, id: i64, version: i64) -> AppResult<(String, String, Source)> {
    let v: Version = document_versions::table
        .filter(document_versions::document_id.eq(id))
        .filter(document_versions::version.eq(version))
        .select(Version::as_select())
        .first(conn)?;
    let source = if v.storage_key.is_empty() {
        Source::Remote(v.remote_url)
    } else {
        Source::Local(v.storage_key)
    };
    Ok((v.filename, v.content_type, source))
}

/// The community of a document (for federation access checks).
pub fn community_of(conn: &mut DbConn, id: i64) -> AppResult<i64> {
    documents::table
        .find(id)
        .filter(documents::deleted_at.is_null())
        .select(documents::community_id)
        .first(conn)
        .map_err(AppError::from)
}

/// Deletes a document (its uploader or a moderator): every version's file
/// goes, and its feed entries become tombstones on every member instance.
pub fn delete(conn: &mut DbConn, store: &dyn Storage, user: &User, id: i64) -> AppResult<()> {
    let Loaded {
        community: c,
        created_by,
        ..
    } = load(conn, user, id)?;
    if !may_edit(&c, created_by, user) {
        return Err(AppError::forbidden("community_moderators_only"));
    }
    let versions: Vec<(String, Option<i64>)> = document_versions::table
        .filter(document_versions::document_id.eq(id))
        .select((
            document_versions::storage_key,
            document_versions::content_id,
        ))
        .load(conn)?;
    db::write(conn, |cx| {
        diesel::update(documents::table.find(id))
            .set(documents::deleted_at.eq(Some(now())))
            .execute(cx)?;
        for (_, entry) in &versions {
            if let Some(e) = entry {
                let author: i64 = content::table
                    .find(*e)
                    .select(content::author_id)
                    .first(cx)?;
                crate::content::tombstone(cx, *e)?;
                if c.is_local() {
                    let sender = if author == user.id { user.id } else { c.id };
                    events::record(
                        cx,
                        Event::Deleted {
                            by: sender,
                            content: *e,
                            reason: None,
                        },
                    )?;
                }
            }
        }
        if c.is_local() {
            communities::log_act(
                cx,
                c.id,
                user.id,
                "delete_document",
                Some(created_by),
                None::<i64>,
                "",
            )?;
        } else {
            // The community's instance deletes it (checking again who may),
            // logs it and removes its entries everywhere.
            events::record(
                cx,
                Event::DocumentDeleted {
                    person: user.id,
                    document: id,
                },
            )?;
        }
        Ok::<_, AppError>(())
    })?;
    for (key, _) in versions {
        if !key.is_empty() {
            if let Err(e) = store.delete(&key) {
                tracing::warn!(error = %e, "document file not removed");
            }
        }
    }
    Ok(())
}
