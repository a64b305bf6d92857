//! API: the directory, profiles, a person's posts and follows.

use super::Query;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

use super::{ApiResult, CursorQuery, InLang, List};
use crate::app::AppState;
use crate::feed::{self, cursor};
use crate::follows;
use crate::people::{self, Direction, DirectoryFilter, PersonSummary, Profile, PAGE_SIZE};
use crate::web::auth::ApiUser;

#[derive(serde::Deserialize)]
pub struct DirectoryQuery {
    #[serde(flatten)]
    filter: DirectoryFilter,
    cursor: Option<String>,
}

/// Turns a PAGE_SIZE + 1 list into a page and a cursor.
pub fn name_page(mut rows: Vec<PersonSummary>) -> List<PersonSummary> {
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let next_cursor = if more {
        rows.last().map(|p| cursor::encode_name(&p.username))
    } else {
        None
    };
    List {
        items: rows,
        next_cursor,
    }
}

fn after(c: Option<&str>) -> crate::error::AppResult<Option<String>> {
    c.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(cursor::decode_name)
        .transpose()
}

pub async fn directory(
    State(state): State<AppState>,
    me: ApiUser,
    Query(q): Query<DirectoryQuery>,
) -> ApiResult<Json<List<PersonSummary>>> {
    let viewer = me.user.id;
    let rows = state
        .db
        .run(move |c| {
            let after = after(q.cursor.as_deref())?;
            people::directory(c, viewer, &q.filter, after.as_deref())
        })
        .await
        .lang(me.lang)?;
    Ok(Json(name_page(rows)))
}

pub async fn profile(
    State(state): State<AppState>,
    me: ApiUser,
    Path(username): Path<String>,
) -> ApiResult<Json<Profile>> {
    let viewer = me.user.clone();
    let (user, p) = state
        .db
        .run(move |c| people::profile(c, &viewer, &username))
        .await
        .lang(me.lang)?;
    crate::federation::remote::profile_shown(&state, &user);
    Ok(Json(p))
}

#[derive(serde::Deserialize)]
pub struct LookupQuery {
    q: Option<String>,
}

/// Finds a person by `@name@domain` or profile URL, fetching a remote
/// profile when it is not known yet.
pub async fn lookup(
    State(state): State<AppState>,
    me: ApiUser,
    Query(q): Query<LookupQuery>,
) -> ApiResult<Json<Profile>> {
    let query = q.q.unwrap_or_default();
    let found = crate::federation::remote::lookup_for(&state, me.user.id, &query)
        .await
        .lang(me.lang)?;
    let viewer = me.user.clone();
    let (user, p) = state
        .db
        .run(move |c| people::profile(c, &viewer, &found.username))
        .await
        .lang(me.lang)?;
    crate::federation::remote::profile_shown(&state, &user);
    Ok(Json(p))
}

pub async fn posts(
    State(state): State<AppState>,
    me: ApiUser,
    Path(username): Path<String>,
    Query(q): Query<CursorQuery>,
) -> ApiResult<Json<feed::Page>> {
    let viewer = me.user.clone();
    let page = state
        .db
        .run(move |c| {
            let (user, _) = people::profile(c, &viewer, &username)?;
            feed::profile(c, viewer.id, user.id, q.cursor.as_deref())
        })
        .await
        .lang(me.lang)?;
    Ok(Json(page))
}

async fn list(
    state: AppState,
    me: ApiUser,
    username: String,
    q: CursorQuery,
    dir: Direction,
) -> ApiResult<Json<List<PersonSummary>>> {
    let viewer = me.user.clone();
    let rows = state
        .db
        .run(move |c| {
            let (user, _) = people::profile(c, &viewer, &username)?;
            let after = after(q.cursor.as_deref())?;
            people::connections(c, viewer.id, user.id, dir, after.as_deref())
        })
        .await
        .lang(me.lang)?;
    Ok(Json(name_page(rows)))
}

pub async fn followers(
    State(state): State<AppState>,
    me: ApiUser,
    Path(username): Path<String>,
    Query(q): Query<CursorQuery>,
) -> ApiResult<Json<List<PersonSummary>>> {
    list(state, me, username, q, Direction::Followers).await
}

pub async fn following(
    State(state): State<AppState>,
    me: ApiUser,
    Path(username): Path<String>,
    Query(q): Query<CursorQuery>,
) -> ApiResult<Json<List<PersonSummary>>> {
    list(state, me, username, q, Direction::Following).await
}

pub async fn follow(
    State(state): State<AppState>,
    me: ApiUser,
    Path(username): Path<String>,
) -> ApiResult<StatusCode> {
    let user = me.user.clone();
    state
        .db
        .run(move |c| follows::follow(c, &user, &username))
        .await
        .lang(me.lang)?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn unfollow(
    State(state): State<AppState>,
    me: ApiUser,
    Path(username): Path<String>,
) -> ApiResult<StatusCode> {
    let user = me.user.clone();
    state
        .db
        .run(move |c| follows::unfollow(c, &user, &username))
        .await
        .lang(me.lang)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct MentionQuery {
    q: String,
}

/// People a mention being typed may name (up to 8).
pub async fn mentions(
    State(state): State<AppState>,
    me: crate::web::auth::ApiUser,
    Query(q): Query<MentionQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let user = me.user.clone();
    let list = state
        .db
        .run(move |c| crate::people::mention_candidates(c, &user, &q.q, 8))
        .await
        .lang(me.lang)?;
    Ok(Json(serde_json::json!({ "items": list })))
}

async fn endorse_with(
    state: AppState,
    me: ApiUser,
    username: String,
    skill: String,
    on: bool,
) -> ApiResult<StatusCode> {
    let user = me.user.clone();
    state
        .db
        .run(move |c| people::endorse::set(c, &user, &username, &skill, on))
        .await
        .lang(me.lang)?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn endorse(
    State(state): State<AppState>,
    me: ApiUser,
    Path((username, skill)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    endorse_with(state, me, username, skill, true).await
}

pub async fn unendorse(
    State(state): State<AppState>,
    me: ApiUser,
    Path((username, skill)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    endorse_with(state, me, username, skill, false).await
}
