//! Pages: the directory, profiles (view and edit), photos and follows.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Form;
use serde::Deserialize;

use super::account::CsrfForm;
use super::{
    error_text, render, require_form, require_user, see_other, ActionForm, Base, PageErr,
    PageResult,
};
use crate::accounts::User;
use crate::app::AppState;
use crate::error::{AppError, ErrorKind};
use crate::federation::reader::signed_reader;
use crate::feed::{self, cursor, Page};
use crate::follows;
use crate::people::Direction;
use crate::people::{
    self, initials, DirectoryFilter, PersonSummary, Profile, ProfileUpdate, PAGE_SIZE,
};
use crate::web::auth::Ctx;

/// Request body limit of the photo form: the photo limit plus form overhead.
pub const PHOTO_BODY_LIMIT: usize = 64 * 1024 * 1024;

#[derive(Template)]
#[template(path = "people.html")]
struct DirectoryPage {
    base: Base,
    q: String,
    department: String,
    site: String,
    skill: String,
    people: Vec<PersonSummary>,
    next_url: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DirectoryQuery {
    q: String,
    department: String,
    site: String,
    skill: String,
    cursor: String,
}

fn enc(s: &str) -> String {
    crate::markdown::encode_segment(s)
}

/// Splits a PAGE_SIZE + 1 list into a page and the cursor of the next one.
fn paginate(mut rows: Vec<PersonSummary>) -> (Vec<PersonSummary>, Option<String>) {
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let next = if more {
        rows.last().map(|p| cursor::encode_name(&p.username))
    } else {
        None
    };
    (rows, next)
}

fn after(c: &str) -> crate::error::AppResult<Option<String>> {
    Some(c.trim())
        .filter(|s| !s.is_empty())
        .map(cursor::decode_name)
        .transpose()
}

pub async fn directory(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<DirectoryQuery>,
) -> PageResult {
    let me = require_user(&state, &ctx)?.id;
    // `@name@domain` or a profile address: find the person, here or on
    // another instance, and open their profile.
    let wanted = q.q.trim();
    let mut error = None;
    if wanted.starts_with("http://")
        || wanted.starts_with("https://")
        || wanted.trim_start_matches('@').contains('@')
    {
        match crate::federation::remote::lookup_for(&state, me, wanted).await {
            Ok(u) => return Ok(see_other(&format!("/people/{}", u.username))),
            Err(e) => error = Some(error_text(&e, ctx.lang)),
        }
    }
    let filter = DirectoryFilter {
        q: Some(q.q.clone()),
        department: Some(q.department.clone()),
        site: Some(q.site.clone()),
        skill: Some(q.skill.clone()),
    };
    let cur = q.cursor.clone();
    let rows = state
        .db
        .run(move |c| {
            let after = after(&cur)?;
            people::directory(c, me, &filter, after.as_deref())
        })
        .await
        .page(&state, &ctx)?;
    let (people, next) = paginate(rows);
    let next_url = next.map(|c| {
        format!(
            "/people?q={}&department={}&site={}&skill={}&cursor={c}",
            enc(&q.q),
            enc(&q.department),
            enc(&q.site),
            enc(&q.skill)
        )
    });
    let page = DirectoryPage {
        base: Base::new(&state, &ctx, "people.title", "people"),
        q: q.q,
        department: q.department,
        site: q.site,
        skill: q.skill,
        people,
        next_url,
        error,
    };
    Ok(render(&page))
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    base: Base,
    profile: Profile,
    shown_name: String,
    initials: String,
    is_me: bool,
    page: Page,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CursorQuery {
    cursor: String,
}

pub async fn profile(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(username): Path<String>,
    Query(q): Query<CursorQuery>,
) -> PageResult {
    let me = require_user(&state, &ctx)?.clone();
    let viewer = me.clone();
    let (user, profile, page) = state
        .db
        .run(move |c| {
            let (user, profile) = people::profile(c, &viewer, &username)?;
            let page = feed::profile(c, viewer.id, user.id, Some(&q.cursor))?;
            Ok((user, profile, page))
        })
        .await
        .page(&state, &ctx)?;
    crate::federation::remote::profile_shown(&state, &user);
    let nav = if user.id == me.id { "me" } else { "people" };
    let page = ProfilePage {
        base: Base::new(&state, &ctx, "profile.title", nav).titled(user.shown_name().to_string()),
        shown_name: user.shown_name().to_string(),
        initials: initials(user.shown_name()),
        is_me: user.id == me.id,
        profile,
        page,
    };
    Ok(render(&page))
}

pub async fn photo(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(username): Path<String>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> PageResult {
    // Signed in here, or fetched with a signature from a trusted instance
    // (the photo is the `icon` of the person's actor).
    let viewer = ctx.user.as_ref().map(|u| u.id);
    if ctx.user.is_none() {
        let pq = uri.path_and_query().map(|p| p.as_str()).unwrap_or("");
        let signed = matches!(signed_reader(&state, pq, &headers).await, Ok(Some(_)));
        if !signed {
            require_user(&state, &ctx)?;
        }
    }
    let (content_type, data) = state
        .db
        .run(move |c| people::get_photo(c, viewer, &username))
        .await
        .page(&state, &ctx)?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            // URLs carry the photo version, so a new photo gets a new URL.
            (
                header::CACHE_CONTROL,
                "private, max-age=31536000, immutable".to_string(),
            ),
        ],
        data,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "follow_list.html")]
struct FollowListPage {
    base: Base,
    username: String,
    shown_name: String,
    people: Vec<PersonSummary>,
    next_url: Option<String>,
}

async fn follow_list(
    state: AppState,
    ctx: Ctx,
    username: String,
    cur: String,
    dir: Direction,
) -> PageResult {
    let me = require_user(&state, &ctx)?.clone();
    let (user, rows) = state
        .db
        .run(move |c| {
            let (user, _) = people::profile(c, &me, &username)?;
            let after = after(&cur)?;
            let rows = people::connections(c, me.id, user.id, dir, after.as_deref())?;
            Ok((user, rows))
        })
        .await
        .page(&state, &ctx)?;
    let (people, next) = paginate(rows);
    let what = match dir {
        Direction::Followers => "followers",
        Direction::Following => "following",
    };
    let base = Base::new(&state, &ctx, "profile.title", "people");
    let title = format!(
        "{} — {}",
        user.shown_name(),
        base.tr.t(&format!("profile.{what}"))
    );
    let page = FollowListPage {
        base: base.titled(title),
        next_url: next.map(|c| format!("/people/{}/{what}?cursor={c}", user.username)),
        username: user.username.clone(),
        shown_name: user.shown_name().to_string(),
        people,
    };
    Ok(render(&page))
}

pub async fn followers(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(username): Path<String>,
    Query(q): Query<CursorQuery>,
) -> PageResult {
    follow_list(state, ctx, username, q.cursor, Direction::Followers).await
}

pub async fn following(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(username): Path<String>,
    Query(q): Query<CursorQuery>,
) -> PageResult {
    follow_list(state, ctx, username, q.cursor, Direction::Following).await
}

pub async fn follow(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(username): Path<String>,
    Form(form): Form<ActionForm>,
) -> PageResult {
    let me = require_form(&state, &ctx, &form.csrf)?.clone();
    let name = username.clone();
    state
        .db
        .run(move |c| follows::follow(c, &me, &name))
        .await
        .page(&state, &ctx)?;
    let profile = format!("/people/{}", enc(&username.to_ascii_lowercase()));
    Ok(see_other(&form.back_or(profile)))
}

pub async fn unfollow(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(username): Path<String>,
    Form(form): Form<ActionForm>,
) -> PageResult {
    let me = require_form(&state, &ctx, &form.csrf)?.clone();
    let name = username.clone();
    state
        .db
        .run(move |c| follows::unfollow(c, &me, &name))
        .await
        .page(&state, &ctx)?;
    let profile = format!("/people/{}", enc(&username.to_ascii_lowercase()));
    Ok(see_other(&form.back_or(profile)))
}

#[derive(Template)]
#[template(path = "profile_edit.html")]
struct EditPage {
    base: Base,
    user: User,
    skills: String,
    error: Option<String>,
}

async fn edit_page(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    shown: Option<User>,
    skills: Option<String>,
    error: Option<String>,
) -> PageResult {
    let me = require_user(state, ctx)?;
    let id = me.id;
    let skills = match skills {
        Some(s) => s,
        None => state
            .db
            .run(move |c| people::skills_of(c, id))
            .await
            .page(state, ctx)?
            .join(", "),
    };
    let page = EditPage {
        base: Base::new(state, ctx, "profile.edit", "me"),
        user: shown.unwrap_or_else(|| me.clone()),
        skills,
        error,
    };
    Ok((status, render(&page)).into_response())
}

pub async fn edit_form(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    edit_page(&state, &ctx, StatusCode::OK, None, None, None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ProfileForm {
    csrf: String,
    display_name: String,
    job_title: String,
    department: String,
    site: String,
    location: String,
    work_email: String,
    phone: String,
    bio: String,
    skills: String,
    languages: String,
}

pub async fn edit(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<ProfileForm>,
) -> PageResult {
    let me = require_form(&state, &ctx, &f.csrf)?.clone();
    let up = ProfileUpdate {
        display_name: Some(f.display_name.clone()),
        job_title: Some(f.job_title.clone()),
        department: Some(f.department.clone()),
        site: Some(f.site.clone()),
        location: Some(f.location.clone()),
        work_email: Some(f.work_email.clone()),
        phone: Some(f.phone.clone()),
        bio: Some(f.bio.clone()),
        skills: Some(people::split_list(&f.skills)),
        languages: Some(people::split_list(&f.languages)),
        locale: None,
    };
    let me2 = me.clone();
    match state
        .db
        .run(move |c| people::update_profile(c, &me2, up))
        .await
    {
        Ok(u) => Ok(see_other(&format!("/people/{}", u.username))),
        Err(err) if err.kind == ErrorKind::BadRequest => {
            // Show the form again with what was typed.
            let mut shown = me;
            shown.display_name = f.display_name;
            shown.job_title = f.job_title;
            shown.department = f.department;
            shown.site = f.site;
            shown.location = f.location;
            shown.work_email = f.work_email;
            shown.phone = f.phone;
            shown.bio = f.bio;
            shown.languages = f.languages;
            let msg = error_text(&err, ctx.lang);
            edit_page(
                &state,
                &ctx,
                StatusCode::BAD_REQUEST,
                Some(shown),
                Some(f.skills),
                Some(msg),
            )
            .await
        }
        Err(err) => Err(err).page(&state, &ctx),
    }
}

pub async fn upload_photo(
    State(state): State<AppState>,
    ctx: Ctx,
    mut multipart: Multipart,
) -> PageResult {
    let max = state.config.people.max_photo_bytes;
    let too_large = || {
        AppError::new(ErrorKind::PayloadTooLarge, "photo_too_large")
            .with("max_mb", max / (1024 * 1024))
    };
    let mut csrf = String::new();
    let mut photo: Option<Vec<u8>> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(too_large()).page(&state, &ctx)
            }
            Err(_) => return Err(AppError::bad_request("form_invalid")).page(&state, &ctx),
        };
        match field.name() {
            Some("csrf") => csrf = field.text().await.unwrap_or_default(),
            Some("photo") => {
                let mut buf = Vec::new();
                let mut field = field;
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) => {
                            if buf.len() + chunk.len() > max {
                                return Err(too_large()).page(&state, &ctx);
                            }
                            buf.extend_from_slice(&chunk);
                        }
                        Ok(None) => break,
                        Err(_) => {
                            return Err(AppError::bad_request("form_invalid")).page(&state, &ctx)
                        }
                    }
                }
                photo = Some(buf);
            }
            _ => {}
        }
    }
    let me = require_form(&state, &ctx, &csrf)?;
    let id = me.id;
    let bytes = photo.unwrap_or_default();
    match state
        .db
        .run(move |c| people::set_photo(c, id, &bytes, max))
        .await
    {
        Ok(()) => Ok(see_other("/profile/edit")),
        Err(err) if err.kind != ErrorKind::Internal => {
            let status = StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let msg = error_text(&err, ctx.lang);
            edit_page(&state, &ctx, status, None, None, Some(msg)).await
        }
        Err(err) => Err(err).page(&state, &ctx),
    }
}

pub async fn delete_photo(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    let me = require_form(&state, &ctx, &form.csrf)?;
    let id = me.id;
    state
        .db
        .run(move |c| people::remove_photo(c, id))
        .await
        .page(&state, &ctx)?;
    Ok(see_other("/profile/edit"))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EndorseForm {
    csrf: String,
    skill: String,
    /// "1" to endorse, "0" to withdraw.
    on: String,
}

/// Endorses a skill of a colleague (or withdraws it), from their profile.
pub async fn endorse(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(username): Path<String>,
    Form(form): Form<EndorseForm>,
) -> PageResult {
    let me = require_form(&state, &ctx, &form.csrf)?.clone();
    let name = username.clone();
    let on = form.on != "0";
    state
        .db
        .run(move |c| crate::people::endorse::set(c, &me, &name, &form.skill, on))
        .await
        .page(&state, &ctx)?;
    Ok(see_other(&format!(
        "/people/{}",
        enc(&username.to_ascii_lowercase())
    )))
}
