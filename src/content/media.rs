//! Pictures and files attached to posts and comments.
//!
//! An upload is checked and stored first, owned by its uploader and
//! attached to nothing; the post or comment that names it attaches it in
//! the transaction that creates it (at most [`MAX_PER_ITEM`]). Pictures
//! (PNG, JPEG, WebP) are decoded with the bounds of `images`, turned
//! upright, cut down to [`MAX_SIDE`] pixels a side and re-encoded, which
//! drops their EXIF (a phone's position among it), with a thumbnail of
//! [`THUMB_SIDE`]; any other file is kept as sent and served as a download
//! (a PDF opens in the browser, without running anything in this site).
//!
//! **Who gets a file.** Every address of a file carries a random secret
//! (`/media/{id}/{secret}`), and that address is only ever written into
//! what shows the post or comment: a page, an API answer or an ActivityPub
//! document, each of which the audience module already gave only to those
//! who may read it. Holding the address is what lets a reader fetch the
//! file, as with Mastodon, GoToSocial or Pixelfed: other servers download
//! attachments without signing, and an image in a page is fetched by the
//! browser. A wrong secret, an upload not attached yet (except for its
//! owner) and a file of deleted content are all the same 404.
//!
//! Attachments of other instances' posts are recorded with their address
//! and copied here when first shown (fetched through the trust gate,
//! bounded, pictures re-encoded like ours), so that readers' browsers
//! never contact another server.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::accounts::User;
use crate::db::schema::{content, media};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult, ErrorKind};
use crate::images::{self, Purpose};
use crate::storage::{self, Storage};

/// Attachments one post or comment may carry.
pub const MAX_PER_ITEM: usize = 10;
/// Largest side of a picture as kept and shown.
pub const MAX_SIDE: u32 = 2048;
/// Largest side of a thumbnail.
pub const THUMB_SIDE: u32 = 480;
/// Longest alternative text, in characters.
pub const MAX_ALT: usize = 1500;
/// Uploads never attached are removed after this many hours.
pub const UNATTACHED_HOURS: i64 = 24;
/// Uploads one person may have waiting to be attached.
pub const MAX_PENDING: i64 = 50;

/// An attachment as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = media)]
pub struct Media {
    pub id: i64,
    pub owner_id: i64,
    pub content_id: Option<i64>,
    pub position: i64,
    pub kind: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub width: i64,
    pub height: i64,
    pub alt: String,
    pub secret: String,
    pub storage_key: String,
    pub thumb_key: String,
    pub remote_url: String,
    pub created_at: NaiveDateTime,
}

/// An attachment as shown with its post or comment.
#[derive(Debug, Clone, Serialize)]
pub struct Attached {
    pub id: i64,
    /// `image` (shown in the gallery) or `file` (downloaded).
    pub kind: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub width: i64,
    pub height: i64,
    /// The alternative text of a picture.
    pub alt: String,
    /// The file, relative to this instance.
    pub url: String,
    /// A small version of a picture.
    pub thumbnail_url: Option<String>,
    /// Whether a browser shows it in the page (pictures and PDFs).
    pub inline: bool,
}

impl Media {
    /// The address of the file (`thumb`: of its thumbnail), on this
    /// instance.
    pub fn path(&self, thumb: bool) -> String {
        let base = format!("/media/{}/{}", self.id, self.secret);
        if thumb {
            format!("{base}/thumb")
        } else {
            base
        }
    }

    pub fn is_image(&self) -> bool {
        self.kind == "image"
    }

    fn shown(&self) -> Attached {
        Attached {
            id: self.id,
            kind: self.kind.clone(),
            filename: self.filename.clone(),
            content_type: self.content_type.clone(),
            size: self.size,
            width: self.width,
            height: self.height,
            alt: self.alt.clone(),
            url: self.path(false),
            thumbnail_url: self.is_image().then(|| self.path(true)),
            inline: self.is_image() || self.content_type == "application/pdf",
        }
    }
}

/// An attachment over `max` bytes, whichever door it came through.
pub fn too_large(max: usize) -> AppError {
    AppError::new(ErrorKind::PayloadTooLarge, "file_too_large")
        .with("max_mb", max.div_ceil(1024 * 1024))
}

/// Whether the content row `content_id` carries attachments.
pub fn any_of(conn: &mut DbConn, content_id: i64) -> AppResult<bool> {
    let n: i64 = media::table
        .filter(media::content_id.eq(content_id))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// What an uploader sends.
pub struct Upload<'a> {
    pub filename: &'a str,
    /// The type the client declared (a picture's must be true).
    pub content_type: &'a str,
    pub bytes: &'a [u8],
    pub alt: &'a str,
}

/// A picture re-encoded for the web, with its thumbnail.
struct Picture {
    full: Vec<u8>,
    thumb: Vec<u8>,
    content_type: &'static str,
    width: u32,
    height: u32,
}

/// Whether a declared type says "picture": then it must be one.
fn declared_picture(content_type: &str) -> bool {
    matches!(
        storage::check_content_type(content_type).as_str(),
        "image/png" | "image/jpeg" | "image/jpg" | "image/webp"
    )
}

/// Decodes, turns upright, shrinks and re-encodes a picture, and makes its
/// thumbnail: a PNG stays a PNG (a screenshot's text stays sharp), as does
/// a picture with transparency; anything else becomes a JPEG.
fn picture(bytes: &[u8], max_bytes: usize) -> AppResult<Picture> {
    images::with_decoded(bytes, max_bytes, Purpose::Image, |img, format| {
        // `thumbnail` averages areas in one pass, without the floating-point
        // copy of the whole picture that a filtered resize makes (100 MB
        // for a 12-megapixel photo).
        let img = if img.width() > MAX_SIDE || img.height() > MAX_SIDE {
            img.thumbnail(MAX_SIDE, MAX_SIDE)
        } else {
            img
        };
        let thumb = img.thumbnail(THUMB_SIDE, THUMB_SIDE);
        let lossless = format == image::ImageFormat::Png || img.color().has_alpha();
        let (full, thumb, content_type) = if lossless {
            (images::png(&img)?, images::png(&thumb)?, "image/png")
        } else {
            (
                images::jpeg(&img, 85)?,
                images::jpeg(&thumb, 80)?,
                "image/jpeg",
            )
        };
        Ok(Picture {
            full,
            thumb,
            content_type,
            width: img.width(),
            height: img.height(),
        })
    })
}

fn check_alt(alt: &str) -> AppResult<String> {
    crate::error::refuse_nul("alt", alt)?;
    let alt = alt.trim();
    if alt.chars().count() > MAX_ALT {
        return Err(AppError::bad_request("field_too_long")
            .with("field", "alt")
            .with("max", MAX_ALT));
    }
    Ok(alt.to_string())
}

/// A file name as kept: the uploader's, checked; a picture's extension
/// follows what it became.
fn stored_name(raw: &str, picture: Option<&str>) -> AppResult<String> {
    let name = storage::check_filename(raw)
        .ok_or_else(|| AppError::bad_request("file_name_invalid").with("max", storage::MAX_NAME))?;
    Ok(match picture {
        Some(t) => {
            let stem = name.rsplit_once('.').map(|(s, _)| s).unwrap_or(&name);
            let ext = if t == "image/png" { "png" } else { "jpg" };
            format!("{stem}.{ext}")
        }
        None => name,
    })
}

/// Checks and stores an upload of `owner`, attached to nothing yet. A file
/// declared as a picture, or that is one, must decode as one; other files
/// are kept as sent. The files are written first and removed again when
/// recording fails.
pub fn upload(
    conn: &mut DbConn,
    store: &dyn Storage,
    max_bytes: usize,
    owner: &User,
    up: &Upload,
) -> AppResult<Attached> {
    let alt = check_alt(up.alt)?;
    let pending: i64 = media::table
        .filter(media::owner_id.eq(owner.id))
        .filter(media::content_id.is_null())
        .count()
        .get_result(conn)?;
    if pending >= MAX_PENDING {
        return Err(AppError::new(ErrorKind::Conflict, "media_pending")
            .with("max", MAX_PENDING)
            .with("hours", UNATTACHED_HOURS));
    }
    if up.bytes.is_empty() {
        return Err(AppError::bad_request("file_empty"));
    }
    if up.bytes.len() > max_bytes {
        return Err(too_large(max_bytes));
    }
    let is_picture = declared_picture(up.content_type) || images::looks_like_image(up.bytes);
    // The name is checked before any work on the bytes.
    stored_name(up.filename, None)?;
    let (kind, content_type, width, height, files) = if is_picture {
        let p = picture(up.bytes, max_bytes)?;
        let (w, h) = (p.width, p.height);
        let t = p.content_type;
        ("image", t.to_string(), w, h, vec![p.full, p.thumb])
    } else {
        (
            "file",
            storage::check_content_type(up.content_type),
            0,
            0,
            vec![up.bytes.to_vec()],
        )
    };
    let filename = stored_name(up.filename, is_picture.then_some(content_type.as_str()))?;
    let keys: Vec<String> = files.iter().map(|_| storage::new_key()).collect();
    let size = files[0].len() as i64;
    let mut written = Vec::new();
    let result = (|| {
        for (k, bytes) in keys.iter().zip(&files) {
            store.put(k, bytes)?;
            written.push(k.clone());
        }
        db::write(conn, |c| {
            let m: Media = diesel::insert_into(media::table)
                .values((
                    media::owner_id.eq(owner.id),
                    media::kind.eq(kind),
                    media::filename.eq(&filename),
                    media::content_type.eq(&content_type),
                    media::size.eq(size),
                    media::width.eq(i64::from(width)),
                    media::height.eq(i64::from(height)),
                    media::alt.eq(&alt),
                    media::secret.eq(storage::new_key()),
                    media::storage_key.eq(&keys[0]),
                    media::thumb_key.eq(keys.get(1).map(String::as_str).unwrap_or("")),
                    media::created_at.eq(now()),
                ))
                .returning(db::columns::<Media>())
                .get_result(c)?;
            Ok::<_, AppError>(m.shown())
        })
    })();
    if result.is_err() {
        for k in &written {
            let _ = store.delete(k);
        }
    }
    result
}

/// Attaches the uploads `ids` of `owner` to the new content row `content`,
/// in this order (inside the write transaction that creates the row). Each
/// must be the owner's and attached to nothing yet.
pub(crate) fn attach(c: &mut DbConn, owner: i64, content_id: i64, ids: &[i64]) -> AppResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    if ids.len() > MAX_PER_ITEM {
        return Err(AppError::bad_request("too_many")
            .with("field", "media_ids")
            .with("max", MAX_PER_ITEM));
    }
    let mut seen = ids.to_vec();
    seen.sort_unstable();
    seen.dedup();
    if seen.len() != ids.len() {
        return Err(AppError::bad_request("field_invalid").with("field", "media_ids"));
    }
    for (position, id) in ids.iter().enumerate() {
        let n = diesel::update(
            media::table
                .find(id)
                .filter(media::owner_id.eq(owner))
                .filter(media::content_id.is_null())
                .filter(media::remote_url.eq("")),
        )
        .set((
            media::content_id.eq(Some(content_id)),
            media::position.eq(position as i64),
        ))
        .execute(c)?;
        if n == 0 {
            return Err(AppError::conflict("media_unknown").with("id", *id));
        }
    }
    Ok(())
}

/// The attachments of content rows, in order, by row.
pub fn of_contents(conn: &mut DbConn, ids: &[i64]) -> AppResult<HashMap<i64, Vec<Attached>>> {
    let mut out: HashMap<i64, Vec<Attached>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    // A remote file given up on (see [`give_up_remote`]) is not shown.
    let rows: Vec<Media> = media::table
        .filter(media::content_id.eq_any(ids))
        .filter(media::storage_key.ne("").or(media::remote_url.ne("")))
        .order((media::content_id, media::position))
        .select(Media::as_select())
        .load(conn)?;
    for m in rows {
        if let Some(cid) = m.content_id {
            out.entry(cid).or_default().push(m.shown());
        }
    }
    Ok(out)
}

/// The attachments of one content row, as stored (for its ActivityPub
/// document).
pub fn stored_of(conn: &mut DbConn, content_id: i64) -> AppResult<Vec<Media>> {
    media::table
        .filter(media::content_id.eq(content_id))
        .order(media::position)
        .select(Media::as_select())
        .load(conn)
        .map_err(AppError::from)
}

/// The attachment at `/media/{id}/{secret}`, for whoever holds that
/// address: attached to live content, or an upload of `viewer` not
/// attached yet. Anything else is 404.
pub fn by_address(
    conn: &mut DbConn,
    viewer: Option<i64>,
    id: i64,
    secret: &str,
) -> AppResult<Media> {
    let m: Media = media::table
        .find(id)
        .select(Media::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(AppError::not_found)?;
    if !constant_time_eq(m.secret.as_bytes(), secret.as_bytes()) {
        return Err(AppError::not_found());
    }
    let visible = match m.content_id {
        Some(cid) => {
            content::table
                .find(cid)
                .filter(content::deleted_at.is_null())
                .count()
                .get_result::<i64>(conn)?
                == 1
        }
        None => viewer == Some(m.owner_id),
    };
    if !visible {
        return Err(AppError::not_found());
    }
    Ok(m)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An attachment of another instance's post, as its Note describes it.
#[derive(Debug, Clone)]
pub struct Remote {
    pub url: String,
    pub media_type: String,
    /// The alternative text (`name`).
    pub name: String,
    pub width: i64,
    pub height: i64,
}

/// Records the attachments of a remote post or comment stored now (inside
/// its write transaction); their files are fetched when first shown.
pub(crate) fn record_remote(
    c: &mut DbConn,
    owner: i64,
    content_id: i64,
    list: &[Remote],
) -> AppResult<()> {
    for (position, r) in list.iter().take(MAX_PER_ITEM).enumerate() {
        let content_type = storage::check_content_type(&r.media_type);
        let kind = if declared_picture(&content_type) {
            "image"
        } else {
            "file"
        };
        let filename = r
            .url
            .rsplit('/')
            .next()
            .and_then(|n| storage::check_filename(n.split(['?', '#']).next().unwrap_or("")))
            .unwrap_or_else(|| "file".to_string());
        // Plain text (escaped wherever it is shown), without control
        // characters.
        let alt: String = r
            .name
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_ALT)
            .collect();
        diesel::insert_into(media::table)
            .values((
                media::owner_id.eq(owner),
                media::content_id.eq(Some(content_id)),
                media::position.eq(position as i64),
                media::kind.eq(kind),
                media::filename.eq(&filename),
                media::content_type.eq(&content_type),
                media::width.eq(r.width.clamp(0, 100_000)),
                media::height.eq(r.height.clamp(0, 100_000)),
                media::alt.eq(alt.trim()),
                media::secret.eq(storage::new_key()),
                media::remote_url.eq(&r.url),
                media::created_at.eq(now()),
            ))
            .execute(c)?;
    }
    Ok(())
}

/// The copy this instance keeps of a remote attachment, made from the
/// fetched `bytes`: a picture is re-encoded like an upload (and refused if
/// it is none); another file is kept as it came. Returns the attachment as
/// now stored. When another request made the copy meanwhile, that one is
/// kept and this one removed.
pub fn keep_remote_copy(
    conn: &mut DbConn,
    store: &dyn Storage,
    max_bytes: usize,
    m: &Media,
    bytes: &[u8],
) -> AppResult<Media> {
    let (files, content_type, width, height) = if m.is_image() {
        let p = picture(bytes, max_bytes)?;
        (
            vec![p.full, p.thumb],
            p.content_type.to_string(),
            i64::from(p.width),
            i64::from(p.height),
        )
    } else {
        (vec![bytes.to_vec()], m.content_type.clone(), 0, 0)
    };
    let keys: Vec<String> = files.iter().map(|_| storage::new_key()).collect();
    for (k, b) in keys.iter().zip(&files) {
        store.put(k, b)?;
    }
    let thumb = keys.get(1).cloned().unwrap_or_default();
    let size = files[0].len() as i64;
    let updated = db::write(conn, |c| {
        diesel::update(media::table.find(m.id).filter(media::storage_key.eq("")))
            .set((
                media::storage_key.eq(&keys[0]),
                media::thumb_key.eq(&thumb),
                media::content_type.eq(&content_type),
                media::size.eq(size),
                media::width.eq(width),
                media::height.eq(height),
            ))
            .execute(c)
    })?;
    if updated == 0 {
        for k in &keys {
            let _ = store.delete(k);
        }
    }
    media::table
        .find(m.id)
        .select(Media::as_select())
        .first(conn)
        .map_err(AppError::from)
}

/// The remote attachment `id` could not be copied for good (refused by its
/// server, not what it said, too large): it is no longer fetched nor shown,
/// so that a broken file does not cost a fetch on every view.
pub fn give_up_remote(conn: &mut DbConn, id: i64) -> AppResult<()> {
    db::write(conn, |c| {
        diesel::update(media::table.find(id).filter(media::storage_key.eq("")))
            .set(media::remote_url.eq(""))
            .execute(c)
    })?;
    Ok(())
}

/// Removes the files of attachments whose content was deleted, and uploads
/// never attached after [`UNATTACHED_HOURS`]; returns how many went.
pub fn purge(conn: &mut DbConn, store: &dyn Storage) -> AppResult<usize> {
    let old = now() - chrono::Duration::hours(UNATTACHED_HOURS);
    let deleted: Vec<Media> = media::table
        .inner_join(content::table.on(media::content_id.eq(content::id.nullable())))
        .filter(content::deleted_at.is_not_null())
        .select(Media::as_select())
        .limit(500)
        .load(conn)?;
    let unattached: Vec<Media> = media::table
        .filter(media::content_id.is_null())
        .filter(media::created_at.lt(old))
        .select(Media::as_select())
        .limit(500)
        .load(conn)?;
    let mut gone = Vec::new();
    for m in deleted.iter().chain(&unattached) {
        let mut ok = true;
        for k in [&m.storage_key, &m.thumb_key] {
            if !k.is_empty() {
                if let Err(e) = store.delete(k) {
                    tracing::warn!(error = %e, "attachment file not removed");
                    ok = false;
                }
            }
        }
        if ok {
            gone.push(m.id);
        }
    }
    if !gone.is_empty() {
        db::write(conn, |c| {
            diesel::delete(media::table.filter(media::id.eq_any(&gone))).execute(c)
        })?;
    }
    Ok(gone.len())
}

/// The uploads `ids` of `owner` not attached yet, in that order (a form
/// that came back with an error shows them again).
pub fn unattached_of(conn: &mut DbConn, owner: i64, ids: &[i64]) -> AppResult<Vec<Attached>> {
    let rows: Vec<Media> = media::table
        .filter(media::id.eq_any(ids))
        .filter(media::owner_id.eq(owner))
        .filter(media::content_id.is_null())
        .select(Media::as_select())
        .load(conn)?;
    Ok(ids
        .iter()
        .filter_map(|id| rows.iter().find(|m| m.id == *id))
        .map(Media::shown)
        .collect())
}
