//! People: profiles, skills, photos and the directory of colleagues.

pub mod directory_share;
pub mod endorse;
pub mod photo;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::accounts::{Email, User};
use crate::db::schema::{follows, photos, skills, user_skills, users};
use crate::db::{self, lower, now, DbConn};
use crate::error::{AppError, AppResult};
use crate::events::{self, Event};
use crate::markdown;

/// Rows per page in people lists.
pub const PAGE_SIZE: i64 = 50;

pub use crate::accounts::summary::{initials, PersonSummary};

/// Which side of the follows a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Followers,
    Following,
}

/// A page of a person's followers or followed people, ordered by username; `after` is
/// the last username of the previous page. Not for guests.
pub fn connections(
    conn: &mut DbConn,
    viewer: i64,
    user_id: i64,
    dir: Direction,
    after: Option<&str>,
) -> AppResult<Vec<PersonSummary>> {
    crate::accounts::guest::refuse(conn, viewer)?;
    let after = after.unwrap_or("").to_string();
    let rows = {
        let query = users::table
            .filter(users::disabled.eq(false))
            .filter(users::username.gt(&after))
            .into_boxed();
        let query = match dir {
            Direction::Followers => query.filter(
                users::id.eq_any(
                    follows::table
                        .filter(follows::followee_id.eq(user_id))
                        .select(follows::follower_id),
                ),
            ),
            Direction::Following => query.filter(
                users::id.eq_any(
                    follows::table
                        .filter(follows::follower_id.eq(user_id))
                        .select(follows::followee_id),
                ),
            ),
        };
        query
            .order(users::username.asc())
            .limit(PAGE_SIZE + 1)
            .select(PersonSummary::as_select())
            .load(conn)
    }?;
    Ok(rows)
}

/// A profile edit; `None` leaves a field as it is.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ProfileUpdate {
    pub display_name: Option<String>,
    pub job_title: Option<String>,
    pub department: Option<String>,
    pub site: Option<String>,
    pub location: Option<String>,
    pub work_email: Option<String>,
    pub phone: Option<String>,
    pub bio: Option<String>,
    /// Free tags; "Rust", "rust " and "RUST" are one skill.
    pub skills: Option<Vec<String>>,
    pub languages: Option<Vec<String>>,
    /// "en", "fr", or "" to follow the browser.
    pub locale: Option<String>,
}

pub const MAX_FIELD: usize = 100;
pub const MAX_PHONE: usize = 30;
pub const MAX_BIO: usize = 2000;
pub const MAX_SKILLS: usize = 30;
pub const MAX_SKILL_LEN: usize = 50;
pub const MAX_LANGUAGES: usize = 10;

/// Lowercase, trimmed, inner whitespace collapsed.
pub fn normalize_skill(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Splits a comma-separated form field into items.
pub fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

fn field(name: &'static str, v: &str) -> AppResult<String> {
    if v.chars().count() > MAX_FIELD {
        return Err(AppError::bad_request("field_too_long")
            .with("field", name)
            .with("max", MAX_FIELD));
    }
    let v = v.trim();
    if v.chars().any(char::is_control) {
        return Err(AppError::bad_request("field_invalid").with("field", name));
    }
    Ok(v.to_string())
}

pub fn update_profile(conn: &mut DbConn, user: &User, up: ProfileUpdate) -> AppResult<User> {
    let mut u = user.clone();
    if let Some(v) = &up.display_name {
        u.display_name = field("display_name", v)?;
    }
    if let Some(v) = &up.job_title {
        u.job_title = field("job_title", v)?;
    }
    if let Some(v) = &up.department {
        u.department = field("department", v)?;
    }
    if let Some(v) = &up.site {
        u.site = field("site", v)?;
    }
    if let Some(v) = &up.location {
        u.location = field("location", v)?;
    }
    if let Some(v) = &up.work_email {
        let v = v.trim();
        u.work_email = if v.is_empty() {
            String::new()
        } else {
            Email::parse(v)
                .map_err(|_| AppError::bad_request("field_invalid").with("field", "work_email"))?
                .as_str()
                .to_string()
        };
    }
    if let Some(v) = &up.phone {
        if v.chars().count() > MAX_PHONE {
            return Err(AppError::bad_request("field_too_long")
                .with("field", "phone")
                .with("max", MAX_PHONE));
        }
        let v = field("phone", v)?;
        if !v
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        {
            return Err(AppError::bad_request("field_invalid").with("field", "phone"));
        }
        u.phone = v;
    }
    if let Some(v) = &up.bio {
        crate::error::refuse_nul("bio", v)?;
        if v.chars().count() > MAX_BIO {
            return Err(AppError::bad_request("field_too_long")
                .with("field", "bio")
                .with("max", MAX_BIO));
        }
        u.bio = v.trim().to_string();
        u.bio_html = markdown::render(&u.bio, |_| false).html;
    }
    if let Some(langs) = &up.languages {
        if langs.len() > MAX_LANGUAGES {
            return Err(AppError::bad_request("too_many")
                .with("field", "languages")
                .with("max", MAX_LANGUAGES));
        }
        let mut out: Vec<String> = Vec::new();
        for l in langs {
            let l = field("languages", l)?;
            if !l.is_empty() && !out.iter().any(|o| o.eq_ignore_ascii_case(&l)) {
                out.push(l);
            }
        }
        if out.len() > MAX_LANGUAGES {
            return Err(AppError::bad_request("too_many")
                .with("field", "languages")
                .with("max", MAX_LANGUAGES));
        }
        u.languages = out.join(", ");
    }
    if let Some(l) = &up.locale {
        u.locale = match l.trim() {
            "" => None,
            other => Some(
                crate::i18n::Lang::parse(other)
                    .ok_or_else(|| AppError::bad_request("field_invalid").with("field", "locale"))?
                    .code()
                    .to_string(),
            ),
        };
    }
    let skills: Option<Vec<String>> = match &up.skills {
        None => None,
        Some(list) => {
            if list.len() > MAX_SKILLS {
                return Err(AppError::bad_request("too_many")
                    .with("field", "skills")
                    .with("max", MAX_SKILLS));
            }
            let mut out: Vec<String> = Vec::new();
            for s in list {
                let n = normalize_skill(s);
                if n.is_empty() {
                    continue;
                }
                if n.chars().count() > MAX_SKILL_LEN
                    || n.chars().any(|c| c.is_control() || c == ',')
                {
                    return Err(AppError::bad_request("skill_invalid").with("max", MAX_SKILL_LEN));
                }
                if !out.contains(&n) {
                    out.push(n);
                }
            }
            if out.len() > MAX_SKILLS {
                return Err(AppError::bad_request("too_many")
                    .with("field", "skills")
                    .with("max", MAX_SKILLS));
            }
            Some(out)
        }
    };
    db::write(conn, |c| {
        diesel::update(users::table.find(u.id))
            .set((
                users::display_name.eq(&u.display_name),
                users::job_title.eq(&u.job_title),
                users::department.eq(&u.department),
                users::site.eq(&u.site),
                users::location.eq(&u.location),
                users::work_email.eq(&u.work_email),
                users::phone.eq(&u.phone),
                users::bio.eq(&u.bio),
                users::bio_html.eq(&u.bio_html),
                users::languages.eq(&u.languages),
                users::locale.eq(&u.locale),
            ))
            .execute(c)?;
        if let Some(skills) = &skills {
            set_skills(c, u.id, skills)?;
        }
        crate::index::actor(c, u.id)?;
        events::record(c, Event::ProfileChanged { account: u.id })?;
        Ok::<_, AppError>(())
    })?;
    crate::accounts::find_by_id(conn, u.id)
}

/// Replaces a person's skills (normalised already), inside the caller's
/// write transaction.
fn set_skills(c: &mut DbConn, user_id: i64, names: &[String]) -> AppResult<()> {
    diesel::delete(user_skills::table.filter(user_skills::user_id.eq(user_id))).execute(c)?;
    for name in names {
        let existing: Option<i64> = skills::table
            .filter(skills::name.eq(name))
            .select(skills::id)
            .first(c)
            .optional()?;
        let sid = match existing {
            Some(id) => id,
            None => diesel::insert_into(skills::table)
                .values(skills::name.eq(name))
                .returning(skills::id)
                .get_result(c)?,
        };
        diesel::insert_into(user_skills::table)
            .values((
                user_skills::user_id.eq(user_id),
                user_skills::skill_id.eq(sid),
            ))
            .execute(c)?;
    }
    endorse::forget_undeclared(c, user_id)?;
    Ok(())
}

/// A remote person's skills from the hashtags their site publishes, each
/// with the count of endorsements their site gives (0 when it gives none),
/// read leniently: what does not fit our limits is left out (their site may
/// allow more than ours), and a skill given twice counts once.
pub fn remote_skills(tags: &[(String, i64)]) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = Vec::new();
    for (t, endorsed) in tags {
        let n = normalize_skill(t.trim_start_matches('#'));
        if !n.is_empty()
            && n.chars().count() <= MAX_SKILL_LEN
            && !n.contains(',')
            && !out.iter().any(|(o, _)| *o == n)
            && out.len() < MAX_SKILLS
        {
            out.push((n, (*endorsed).clamp(0, endorse::MAX_PUBLISHED)));
        }
    }
    out
}

/// A remote person's languages from the comma-separated list their site
/// gives: at most [`MAX_LANGUAGES`], each at most [`MAX_FIELD`] characters.
pub fn remote_languages(list: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for l in list.split(',').map(str::trim) {
        if !l.is_empty()
            && l.chars().count() <= MAX_FIELD
            && !out.iter().any(|o| o.eq_ignore_ascii_case(l))
            && out.len() < MAX_LANGUAGES
        {
            out.push(l);
        }
    }
    out.join(", ")
}

/// Stores or refreshes a person of another site with their skills and the
/// endorsements their site counts (see [`remote_skills`]), in one
/// transaction.
pub fn store_remote(
    conn: &mut DbConn,
    profile: &crate::accounts::remote::RemoteProfile,
    skills: &[(String, i64)],
) -> AppResult<User> {
    db::write(conn, |c| {
        let id = crate::accounts::remote::store(c, profile, false)?;
        if !profile.is_instance {
            let names: Vec<String> = skills.iter().map(|(s, _)| s.clone()).collect();
            set_skills(c, id, &names)?;
            endorse::store_published(c, id, skills)?;
        }
        crate::index::actor(c, id)?;
        crate::accounts::find_by_id(c, id)
    })
}

pub fn skills_of(conn: &mut DbConn, user_id: i64) -> AppResult<Vec<String>> {
    user_skills::table
        .inner_join(skills::table)
        .filter(user_skills::user_id.eq(user_id))
        .order(skills::name.asc())
        .select(skills::name)
        .load(conn)
        .map_err(AppError::from)
}

/// Stores a new photo (already checked) and bumps the version used in URLs.
pub fn set_photo(
    conn: &mut DbConn,
    user_id: i64,
    upload: &[u8],
    max_bytes: usize,
) -> AppResult<()> {
    let jpeg = photo::process(upload, max_bytes)?;
    store_photo(conn, user_id, &jpeg)
}

/// A profile edit with a new photo (when `upload` is not empty): both are
/// checked before either is stored, so a refused photo or field leaves the
/// profile as it was.
pub fn update_profile_and_photo(
    conn: &mut DbConn,
    user: &User,
    up: ProfileUpdate,
    upload: &[u8],
    max_bytes: usize,
) -> AppResult<User> {
    let jpeg = match upload.is_empty() {
        true => None,
        false => Some(photo::process(upload, max_bytes)?),
    };
    let user = update_profile(conn, user, up)?;
    if let Some(jpeg) = jpeg {
        store_photo(conn, user.id, &jpeg)?;
    }
    Ok(user)
}

fn store_photo(conn: &mut DbConn, user_id: i64, jpeg: &[u8]) -> AppResult<()> {
    db::write(conn, |c| store_photo_in(c, user_id, jpeg))
}

/// [`store_photo`] inside the caller's write.
fn store_photo_in(c: &mut DbConn, user_id: i64, jpeg: &[u8]) -> AppResult<()> {
    diesel::delete(photos::table.find(user_id)).execute(c)?;
    diesel::insert_into(photos::table)
        .values((
            photos::user_id.eq(user_id),
            photos::content_type.eq("image/jpeg"),
            photos::data.eq(jpeg),
            photos::updated_at.eq(now()),
        ))
        .execute(c)?;
    diesel::update(users::table.find(user_id))
        .set(users::photo_version.eq(users::photo_version + 1))
        .execute(c)?;
    events::record(c, Event::ProfileChanged { account: user_id })?;
    Ok(())
}

/// What an import of the directory's photos did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectoryPhotos {
    /// Photos new or changed in the directory, now the profile's.
    pub imported: usize,
    /// Photos as they were at the last import (a photo the person chose
    /// here since stays).
    pub unchanged: usize,
    /// Photos that are not pictures, or too large in pixels (noted, not
    /// tried again until they change; one of more bytes than a profile
    /// takes is not even read).
    pub refused: usize,
    /// Photos of entries that have no account here (or a disabled one).
    pub without_account: usize,
}

impl DirectoryPhotos {
    pub fn add(&mut self, other: &DirectoryPhotos) {
        self.imported += other.imported;
        self.unchanged += other.unchanged;
        self.refused += other.refused;
        self.without_account += other.without_account;
    }
}

/// Takes a page of photos from the company's directory: a photo new or
/// changed there (by the digest of its bytes) becomes the profile's,
/// checked and re-encoded like an upload; one as at the last import leaves
/// the profile's as it is, so that a photo the person chose here stays
/// until the directory's changes. One transaction per photo.
pub fn from_directory(
    conn: &mut DbConn,
    page: &[crate::ldap::Photo],
    max_bytes: usize,
) -> AppResult<DirectoryPhotos> {
    use sha2::{Digest, Sha256};
    let mut report = DirectoryPhotos::default();
    // Read and re-encoded first, then written in one transaction per page
    // (one commit for a hundred photos, not a hundred).
    let mut due: Vec<(i64, String, &[u8])> = Vec::new();
    for p in page {
        let Some((user_id, seen)) =
            crate::accounts::directory::photo_target(conn, &p.id, &p.login)?
        else {
            report.without_account += 1;
            continue;
        };
        let digest: String = Sha256::digest(&p.bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if digest == seen {
            report.unchanged += 1;
            continue;
        }
        due.push((user_id, digest, &p.bytes));
    }
    let jpegs = process_all(&due, max_bytes);
    let mut taken = Vec::with_capacity(due.len());
    for ((user_id, digest, _), jpeg) in due.into_iter().zip(jpegs) {
        match &jpeg {
            Ok(_) => report.imported += 1,
            Err(e) => {
                tracing::info!(
                    account = user_id,
                    code = e.code,
                    "a photo of the directory was refused"
                );
                report.refused += 1;
            }
        }
        taken.push((user_id, digest, jpeg.ok()));
    }
    if taken.is_empty() {
        return Ok(report);
    }
    db::write(conn, |c| {
        for (user_id, digest, jpeg) in &taken {
            if let Some(jpeg) = jpeg {
                store_photo_in(c, *user_id, jpeg)?;
            }
            crate::accounts::directory::photo_taken(c, *user_id, digest)?;
        }
        Ok::<(), AppError>(())
    })?;
    Ok(report)
}

/// Re-encodes a page of photos on as many threads as the machine has cores,
/// within the images decoded at once (`images::MAX_DECODING`): a
/// directory's first sync brings thousands, and one core alone made it
/// last minutes. The results are in the order of `due`.
fn process_all(due: &[(i64, String, &[u8])], max_bytes: usize) -> Vec<AppResult<Vec<u8>>> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, crate::images::MAX_DECODING);
    if threads == 1 || due.len() < 2 {
        return due
            .iter()
            .map(|(_, _, bytes)| photo::process(bytes, max_bytes))
            .collect();
    }
    let per_thread = due.len().div_ceil(threads);
    std::thread::scope(|s| {
        let parts: Vec<_> = due
            .chunks(per_thread)
            .map(|part| {
                let thread = s.spawn(move || {
                    part.iter()
                        .map(|(_, _, bytes)| photo::process(bytes, max_bytes))
                        .collect::<Vec<_>>()
                });
                (part.len(), thread)
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|(n, thread)| {
                thread.join().unwrap_or_else(|_| {
                    (0..n)
                        .map(|_| Err(AppError::internal("a photo thread failed")))
                        .collect()
                })
            })
            .collect()
    })
}

pub fn remove_photo(conn: &mut DbConn, user_id: i64) -> AppResult<()> {
    db::write(conn, |c| {
        diesel::delete(photos::table.find(user_id)).execute(c)?;
        diesel::update(users::table.find(user_id))
            .set(users::photo_version.eq(0))
            .execute(c)?;
        events::record(c, Event::ProfileChanged { account: user_id })?;
        Ok(())
    })
}

/// The address of the photo a remote person publishes, as last stored.
pub fn remote_icon(conn: &mut DbConn, user_id: i64) -> AppResult<String> {
    Ok(users::table
        .find(user_id)
        .select(users::icon_url)
        .first::<String>(conn)?)
}

/// Keeps a remote person's photo in step with the `icon` address they
/// publish: the fetched image (re-encoded like an upload), or none.
pub fn set_remote_photo(
    conn: &mut DbConn,
    user_id: i64,
    icon: &str,
    image: Option<&[u8]>,
    max_bytes: usize,
) -> AppResult<()> {
    match image {
        Some(bytes) => set_photo(conn, user_id, bytes, max_bytes)?,
        None => remove_photo(conn, user_id)?,
    }
    db::write(conn, |c| {
        diesel::update(users::table.find(user_id))
            .set(users::icon_url.eq(icon))
            .execute(c)
    })?;
    Ok(())
}

/// (content type, bytes) of the photo of any actor (a community's picture).
pub fn photo_of(conn: &mut DbConn, user_id: i64) -> AppResult<(String, Vec<u8>)> {
    photos::table
        .find(user_id)
        .select((photos::content_type, photos::data))
        .first(conn)
        .map_err(AppError::from)
}

/// (content type, bytes) of a person's photo, as the local person
/// `viewer` (or, `None`, a trusted instance) may see it: a guest sees only
/// their fellow members'.
pub fn get_photo(
    conn: &mut DbConn,
    viewer: Option<i64>,
    username: &str,
) -> AppResult<(String, Vec<u8>)> {
    let name = username.to_ascii_lowercase();
    if let Some(viewer) = viewer {
        let id: i64 = users::table
            .filter(users::username.eq(&name))
            .select(users::id)
            .first(conn)?;
        if !crate::audience::may_see_person(conn, viewer, id)? {
            return Err(AppError::not_found());
        }
    }
    photos::table
        .inner_join(users::table)
        .filter(users::username.eq(&name))
        .filter(users::actor_type.eq("person"))
        .select((photos::content_type, photos::data))
        .first(conn)
        .map_err(AppError::from)
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct DirectoryFilter {
    pub q: Option<String>,
    pub department: Option<String>,
    pub site: Option<String>,
    pub skill: Option<String>,
}

fn nonempty(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

pub use crate::db::like_pattern;

/// A page of the directory (enabled accounts), ordered by username, filtered
/// by department, site and skill (case-insensitive) and by words found
/// anywhere in the profile (name, title, department, site, location,
/// skills, languages, biography). Not for guests.
pub fn directory(
    conn: &mut DbConn,
    viewer: i64,
    filter: &DirectoryFilter,
    after: Option<&str>,
) -> AppResult<Vec<PersonSummary>> {
    crate::accounts::guest::refuse(conn, viewer)?;
    let after = after.unwrap_or("").to_string();
    let department = nonempty(&filter.department).map(|s| s.to_lowercase());
    let site = nonempty(&filter.site).map(|s| s.to_lowercase());
    let skill = nonempty(&filter.skill).map(|s| normalize_skill(&s));
    let words = nonempty(&filter.q).map(|s| crate::index::Match::words(&s));
    if words.as_ref().is_some_and(|m| m.is_empty()) {
        // Only signs ("%", "--"): no word to look for, nobody found.
        return Ok(Vec::new());
    }
    {
        let mut query = users::table
            .filter(users::disabled.eq(false))
            .filter(users::actor_type.eq("person"))
            .filter(users::username.gt(&after))
            .into_boxed();
        if let Some(d) = &department {
            query = query.filter(lower(users::department).eq(d.clone()));
        }
        if let Some(s) = &site {
            query = query.filter(lower(users::site).eq(s.clone()));
        }
        if let Some(sk) = &skill {
            query = query.filter(
                users::id.eq_any(
                    user_skills::table
                        .inner_join(skills::table)
                        .filter(skills::name.eq(sk.clone()))
                        .select(user_skills::user_id),
                ),
            );
        }
        // Every field of the profile, accents folded, any form of a word,
        // the last one as a beginning (see `index`).
        if let Some(m) = &words {
            query = query.filter(m.contains(conn, crate::index::Table::Actors, "users.id"));
        }
        query
            .order(users::username.asc())
            .limit(PAGE_SIZE + 1)
            .select(PersonSummary::as_select())
            .load(conn)
            .map_err(AppError::from)
    }
}

/// Summaries of the given people, in no particular order.
pub fn summaries(conn: &mut DbConn, ids: &[i64]) -> AppResult<Vec<PersonSummary>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    users::table
        .filter(users::id.eq_any(ids))
        .select(PersonSummary::as_select())
        .load(conn)
        .map_err(AppError::from)
}

/// A profile as shown to a viewer.
#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    pub username: String,
    pub display_name: String,
    pub job_title: String,
    pub department: String,
    pub site: String,
    pub location: String,
    pub work_email: String,
    pub phone: String,
    pub bio: String,
    pub bio_html: String,
    pub skills: Vec<String>,
    /// Each skill with how many colleagues endorse it, and whether the
    /// reader does.
    pub endorsements: Vec<endorse::Endorsed>,
    pub languages: Vec<String>,
    pub photo_url: Option<String>,
    pub followers_count: i64,
    pub following_count: i64,
    pub followed_by_me: bool,
    pub is_admin: bool,
    pub disabled: bool,
    /// A partner's guest (`accounts::guest`), shown with a badge.
    pub guest: bool,
    /// Whom they report to and who reports to them, as the company's
    /// directory says (not shown to guests).
    pub manager: Option<PersonSummary>,
    pub reports: Vec<PersonSummary>,
    #[serde(serialize_with = "crate::db::utc::serialize")]
    pub created_at: chrono::NaiveDateTime,
    /// For a person of another instance: its host and their profile there.
    pub remote_domain: Option<String>,
    pub remote_url: Option<String>,
}

pub fn photo_url(username: &str, version: i64) -> Option<String> {
    (version > 0).then(|| format!("/people/{username}/photo?v={version}"))
}

/// The profile of `username` as `viewer` sees it (disabled accounts are only
/// visible to administrators).
pub fn profile(conn: &mut DbConn, viewer: &User, username: &str) -> AppResult<(User, Profile)> {
    let user = crate::accounts::find_by_username(conn, username)?;
    if (user.disabled && !viewer.is_admin) || user.deleted_at.is_some() || !user.is_person() {
        return Err(AppError::not_found());
    }
    if !crate::audience::may_see_person(conn, viewer.id, user.id)? {
        return Err(AppError::not_found());
    }
    let mut counted = crate::follows::counts(conn, user.id)?;
    if !user.is_local() {
        // Its host knows who follows them everywhere; this instance only
        // who follows them from here.
        counted = crate::accounts::remote::totals(conn, user.id, counted)?;
    }
    let (followers_count, following_count) = counted;
    let followed_by_me = crate::follows::is_following(conn, viewer.id, user.id)?;
    let skills = skills_of(conn, user.id)?;
    let endorsements = endorse::of(conn, viewer.id, user.id)?;
    let (manager, reports) = match crate::audience::confined(conn, viewer.id)? {
        true => (None, Vec::new()),
        false => {
            // The company's directory, or what a SCIM client pushed.
            let manager = match crate::accounts::directory::manager_of(conn, user.id)? {
                Some(id) => Some(id),
                None => crate::accounts::provisioning::manager_of(conn, user.id)?,
            };
            let manager = match manager {
                Some(id) => summaries(conn, &[id])?.pop(),
                None => None,
            };
            let mut ids = crate::accounts::directory::reports_of(conn, user.id)?;
            for id in crate::accounts::provisioning::reports_of(conn, user.id)? {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            let mut reports = summaries(conn, &ids)?;
            reports.sort_by(|a, b| a.username.cmp(&b.username));
            (manager, reports)
        }
    };
    let p = Profile {
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        job_title: user.job_title.clone(),
        department: user.department.clone(),
        site: user.site.clone(),
        location: user.location.clone(),
        work_email: user.work_email.clone(),
        phone: user.phone.clone(),
        bio: user.bio.clone(),
        bio_html: user.bio_html.clone(),
        skills,
        endorsements,
        languages: split_list(&user.languages),
        photo_url: photo_url(&user.username, user.photo_version),
        remote_url: match &user.domain {
            Some(_) => Some(
                users::table
                    .find(user.id)
                    .select(users::profile_url)
                    .first::<String>(conn)?,
            ),
            None => None,
        },
        remote_domain: user.domain.clone(),
        followers_count,
        following_count,
        followed_by_me,
        is_admin: user.is_admin,
        disabled: user.disabled,
        guest: crate::accounts::guest::shown_as_guest(conn, user.id)?,
        manager,
        reports,
        created_at: user.created_at,
    };
    Ok((user, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skills_normalise() {
        assert_eq!(normalize_skill("Rust"), "rust");
        assert_eq!(normalize_skill(" rust "), "rust");
        assert_eq!(normalize_skill("RUST"), "rust");
        assert_eq!(
            normalize_skill("  Project   Management "),
            "project management"
        );
    }

    #[test]
    fn initials_and_lists() {
        assert_eq!(initials("Marie Curie"), "MC");
        assert_eq!(initials("élodie"), "É");
        assert_eq!(split_list("a, b,,c "), vec!["a", "b", "c"]);
    }
}

/// Someone a mention being typed may name.
#[derive(Debug, Clone, Serialize)]
pub struct MentionCandidate {
    /// What follows `@`: `name` here, `name@host` for someone elsewhere.
    pub username: String,
    pub display_name: String,
    pub photo_version: i64,
    pub domain: Option<String>,
}

/// People whose username or name (or a word of it) starts with `prefix`,
/// those `viewer` follows first, then this site's: local people and the
/// known people of instances that are not blocked (for a guest, the
/// members of their communities). Nothing for an empty prefix.
pub fn mention_candidates(
    conn: &mut DbConn,
    viewer: &User,
    prefix: &str,
    limit: usize,
) -> AppResult<Vec<MentionCandidate>> {
    let prefix = prefix.trim().trim_start_matches('@').to_lowercase();
    if prefix.is_empty() || prefix.chars().count() > MAX_FIELD {
        return Ok(Vec::new());
    }
    let starts = format!("{}%", crate::db::like_escape(&prefix));
    let word = format!("% {starts}");
    let followed: Vec<i64> = follows::table
        .filter(follows::follower_id.eq(viewer.id))
        .select(follows::followee_id)
        .load(conn)?;
    // A guest finds the members of their communities only.
    let confined = match crate::audience::confined(conn, viewer.id)? {
        true => Some(crate::audience::communities_of(conn, viewer.id)?),
        false => None,
    };
    // Those one follows first, then anyone: two reads, so that a site of
    // many people with the same first letters does not hide one's contacts.
    let mut rows: Vec<(i64, String, String, i64, Option<String>)> = Vec::new();
    for among_followed in [true, false] {
        let mut query = users::table
            .filter(users::actor_type.eq("person"))
            .filter(users::disabled.eq(false))
            .filter(users::deleted_at.is_null())
            .filter(users::id.ne(viewer.id))
            .filter(
                lower(users::username)
                    .like(starts.clone())
                    .escape('\\')
                    .or(lower(users::display_name).like(starts.clone()).escape('\\'))
                    .or(lower(users::display_name).like(word.clone()).escape('\\')),
            )
            .into_boxed();
        if among_followed {
            query = query.filter(users::id.eq_any(&followed));
        }
        if let Some(theirs) = &confined {
            query = query.filter(users::id.eq_any(crate::audience::members_of(theirs.clone())));
        }
        let found: Vec<(i64, String, String, i64, Option<String>)> = query
            .order(users::username.asc())
            .limit(50)
            .select((
                users::id,
                users::username,
                users::display_name,
                users::photo_version,
                users::domain,
            ))
            .load(conn)?;
        for r in found {
            if !rows.iter().any(|o| o.0 == r.0) {
                rows.push(r);
            }
        }
    }
    let mut blocked: Vec<String> = Vec::new();
    let mut domains: Vec<String> = rows.iter().filter_map(|r| r.4.clone()).collect();
    domains.sort();
    domains.dedup();
    for d in domains {
        if matches!(
            crate::net::trust::decide(conn, &d)?,
            crate::net::trust::Decision::Blocked { .. }
        ) {
            blocked.push(d);
        }
    }
    let mut list: Vec<(bool, bool, MentionCandidate)> = rows
        .into_iter()
        .filter(|r| r.4.as_ref().is_none_or(|d| !blocked.contains(d)))
        .map(|(id, username, display_name, photo_version, domain)| {
            (
                !followed.contains(&id),
                domain.is_some(),
                MentionCandidate {
                    username,
                    display_name,
                    photo_version,
                    domain,
                },
            )
        })
        .collect();
    list.sort_by_key(|c| (c.0, c.1));
    Ok(list.into_iter().take(limit).map(|(_, _, c)| c).collect())
}
