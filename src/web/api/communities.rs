//! API: communities, their members, posts and moderation.

use super::Query;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::{parse_id, ApiResult, InLang, JsonBody, List};
use crate::app::AppState;
use crate::audience::CommunityVisibility;
use crate::communities::{
    self, membership, moderation, Community, JoinPolicy, LogEntry, NewCommunity, Settings,
};
use crate::feed::{self, cursor};
use crate::web::auth::ApiUser;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
    /// Only the viewer's communities (and invitations).
    #[serde(default)]
    mine: bool,
    cursor: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    me: ApiUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<List<Community>>> {
    let id = me.user.id;
    let mut rows = state
        .db
        .run(move |c| {
            let after = q
                .cursor
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(cursor::decode_name)
                .transpose()?;
            communities::directory(c, id, q.q.as_deref(), q.mine, after.as_deref())
        })
        .await
        .lang(me.lang)?;
    let more = rows.len() as i64 > communities::PAGE_SIZE;
    rows.truncate(communities::PAGE_SIZE as usize);
    let next_cursor = if more {
        rows.last().map(|c| cursor::encode_name(&c.name))
    } else {
        None
    };
    Ok(Json(List {
        items: rows,
        next_cursor,
    }))
}

#[derive(Deserialize)]
pub struct CommunityCreate {
    name: String,
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    visibility: String,
    #[serde(default)]
    join_policy: String,
    #[serde(default)]
    partners: bool,
}

pub async fn create(
    State(state): State<AppState>,
    me: ApiUser,
    JsonBody(b): JsonBody<CommunityCreate>,
) -> ApiResult<impl IntoResponse> {
    let user = me.user.clone();
    let cfg = state.config.clone();
    let created = state
        .db
        .run(move |c| {
            let new = NewCommunity {
                name: &b.name,
                title: &b.title,
                description: &b.description,
                visibility: CommunityVisibility::parse(&b.visibility)?,
                join_policy: JoinPolicy::parse(&b.join_policy)?,
                partners: b.partners,
            };
            communities::create(c, &cfg, &user, &new)
        })
        .await
        .lang(me.lang)?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[derive(Deserialize, Default)]
pub struct LookupQuery {
    #[serde(default)]
    q: String,
}

/// Finds a community by `!name@domain` or URL, fetching a remote one.
pub async fn lookup(
    State(state): State<AppState>,
    me: ApiUser,
    Query(q): Query<LookupQuery>,
) -> ApiResult<Json<Community>> {
    let found = crate::federation::remote::lookup_community_for(&state, me.user.id, &q.q)
        .await
        .lang(me.lang)?;
    let id = me.user.id;
    let c = state
        .db
        .run(move |c| communities::by_id(c, id, found.id))
        .await
        .lang(me.lang)?;
    Ok(Json(c))
}

pub async fn get_one(
    State(state): State<AppState>,
    me: ApiUser,
    Path(name): Path<String>,
) -> ApiResult<Json<Community>> {
    let id = me.user.id;
    let c = state
        .db
        .run(move |c| communities::get(c, id, &name))
        .await
        .lang(me.lang)?;
    crate::federation::backfill::backfill_if_needed(&state, &c);
    Ok(Json(c))
}

pub async fn update(
    State(state): State<AppState>,
    me: ApiUser,
    Path(name): Path<String>,
    JsonBody(s): JsonBody<Settings>,
) -> ApiResult<(StatusCode, Json<Community>)> {
    let user = me.user.clone();
    let c = state
        .db
        .run(move |c| communities::update(c, &user, &name, &s))
        .await
        .lang(me.lang)?;
    // A community of another instance changes when its instance says so.
    let status = if c.is_local() {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, Json(c)))
}

#[derive(Deserialize, Default)]
pub struct CursorQuery {
    cursor: Option<String>,
}

#[derive(serde::Serialize)]
pub struct CommunityFeed {
    /// Its must-reads the reader has not confirmed yet (first page).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    must_read: Vec<feed::Item>,
    pinned: Vec<feed::Item>,
    items: Vec<feed::Item>,
    next_cursor: Option<String>,
}

pub async fn posts(
    State(state): State<AppState>,
    me: ApiUser,
    Path(name): Path<String>,
    Query(q): Query<CursorQuery>,
) -> ApiResult<Json<CommunityFeed>> {
    let id = me.user.id;
    let out = state
        .db
        .run(move |c| {
            let community = communities::get_readable(c, id, &name)?;
            let pinned_ids = communities::pinned(c, &community)?;
            let pinned = if q.cursor.is_none() {
                feed::by_ids(c, id, &pinned_ids)?
            } else {
                Vec::new()
            };
            let page = feed::community(c, id, community.id, q.cursor.as_deref())?;
            Ok(CommunityFeed {
                must_read: page.must_read,
                pinned,
                items: page.items,
                next_cursor: page.next_cursor,
            })
        })
        .await
        .lang(me.lang)?;
    Ok(Json(out))
}

#[derive(Deserialize)]
pub struct CommunityPost {
    body: String,
    /// Uploads (`POST /media`) to attach, in order.
    #[serde(default)]
    media_ids: Vec<i64>,
}

pub async fn post(
    State(state): State<AppState>,
    me: ApiUser,
    Path(name): Path<String>,
    JsonBody(b): JsonBody<CommunityPost>,
) -> ApiResult<impl IntoResponse> {
    let text = crate::content::Text::resolved(&state, b.body).await;
    let max = state.config.content.max_post_chars;
    let user = me.user.clone();
    let id = me.user.id;
    let item = state
        .db
        .run(move |c| {
            let row = moderation::post(c, max, &user, &name, &text, &b.media_ids)?;
            feed::hydrate(c, id, vec![row])?
                .pop()
                .ok_or_else(crate::error::AppError::not_found)
        })
        .await
        .lang(me.lang)?;
    Ok((StatusCode::CREATED, Json(item)))
}

pub async fn members(
    State(state): State<AppState>,
    me: ApiUser,
    Path(name): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let viewer = me.user.clone();
    let c = state
        .db
        .run(move |c| communities::get_roster(c, &viewer, &name))
        .await
        .lang(me.lang)?;
    let (list, complete) = crate::federation::group_roster::members(&state, &me.user, &c)
        .await
        .lang(me.lang)?;
    Ok(Json(json!({ "items": list, "complete": complete })))
}

pub async fn join(
    State(state): State<AppState>,
    me: ApiUser,
    Path(name): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let user = me.user.clone();
    let outcome = state
        .db
        .run(move |c| membership::join(c, &user, &name))
        .await
        .lang(me.lang)?;
    Ok(Json(json!({ "status": outcome })))
}

/// Starts watching a community one may read: each new post and document
/// version there becomes a notification.
pub async fn watch(
    State(state): State<AppState>,
    me: ApiUser,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    set_watch(state, me, name, true).await
}

/// Stops watching a community.
pub async fn unwatch(
    State(state): State<AppState>,
    me: ApiUser,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    set_watch(state, me, name, false).await
}

async fn set_watch(state: AppState, me: ApiUser, name: String, on: bool) -> ApiResult<StatusCode> {
    let user = me.user.clone();
    state
        .db
        .run(move |c| crate::communities::set_watch(c, &user, &name, on))
        .await
        .lang(me.lang)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether one watches a community.
pub async fn watching(
    State(state): State<AppState>,
    me: ApiUser,
    Path(name): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = me.user.id;
    let on = state
        .db
        .run(move |c| {
            let cm = crate::communities::get_readable(c, id, &name)?;
            crate::communities::watching(c, id, cm.id)
        })
        .await
        .lang(me.lang)?;
    Ok(Json(json!({ "watching": on })))
}

pub async fn leave(
    State(state): State<AppState>,
    me: ApiUser,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    let user = me.user.clone();
    state
        .db
        .run(move |c| membership::leave(c, &user, &name))
        .await
        .lang(me.lang)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct Invitation {
    username: String,
}

/// A moderator's act on a person: 204 when the community lives here and it
/// is done, 202 when it was sent to the community's own instance.
async fn member_act(
    state: AppState,
    me: ApiUser,
    name: String,
    username: String,
    act: crate::error::AppResult<membership::Act>,
) -> ApiResult<StatusCode> {
    use crate::federation::group_moderation::{self as gm, Outcome};
    let act = act.lang(me.lang)?;
    let outcome = gm::member_act(&state, &me.user, &name, &username, act)
        .await
        .lang(me.lang)?;
    Ok(match outcome {
        Outcome::Done => StatusCode::NO_CONTENT,
        Outcome::Sent => StatusCode::ACCEPTED,
    })
}

pub async fn invite(
    State(state): State<AppState>,
    me: ApiUser,
    Path(name): Path<String>,
    JsonBody(b): JsonBody<Invitation>,
) -> ApiResult<StatusCode> {
    member_act(state, me, name, b.username, Ok(membership::Act::Invite)).await
}

#[derive(Deserialize)]
pub struct InvitationByEmail {
    email: String,
    /// As a guest, who sees only this community (`accounts::guest`).
    #[serde(default)]
    guest: bool,
}

/// A moderator invites an e-mail address (202 for every address; see
/// `communities::membership::by_email`).
pub async fn invite_email(
    State(state): State<AppState>,
    me: ApiUser,
    Path(name): Path<String>,
    JsonBody(b): JsonBody<InvitationByEmail>,
) -> ApiResult<StatusCode> {
    if !state.config.mail.enabled() {
        return Err(crate::error::AppError::conflict("mail_off")).lang(me.lang);
    }
    let (cfg, user, locale) = (state.config.clone(), me.user.clone(), me.lang.code());
    state
        .db
        .run(move |c| {
            let guest = b.guest;
            membership::by_email::invite(c, &cfg.accounts, &user, &name, &b.email, locale, guest)
        })
        .await
        .lang(me.lang)?;
    Ok(StatusCode::ACCEPTED)
}

/// Joins the community of an e-mailed invitation.
pub async fn accept_invitation(
    State(state): State<AppState>,
    me: ApiUser,
    Path(code): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let user = me.user.clone();
    let name = state
        .db
        .run(move |c| membership::by_email::accept(c, &user, &code))
        .await
        .lang(me.lang)?;
    Ok(Json(json!({ "community": name, "status": "member" })))
}

pub async fn approve(
    State(state): State<AppState>,
    me: ApiUser,
    Path((name, username)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    member_act(state, me, name, username, Ok(membership::Act::Approve)).await
}

pub async fn refuse(
    State(state): State<AppState>,
    me: ApiUser,
    Path((name, username)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    member_act(state, me, name, username, Ok(membership::Act::Refuse)).await
}

#[derive(Deserialize, Default)]
pub struct Reason {
    #[serde(default)]
    reason: String,
}

fn check_reason(r: &str) -> crate::error::AppResult<()> {
    if r.chars().count() > membership::MAX_REASON {
        return Err(crate::error::AppError::bad_request("reason_too_long")
            .with("max", membership::MAX_REASON));
    }
    Ok(())
}

pub async fn remove_member(
    State(state): State<AppState>,
    me: ApiUser,
    Path((name, username)): Path<(String, String)>,
    Query(r): Query<Reason>,
) -> ApiResult<StatusCode> {
    let act = membership::Act::parse("remove", &r.reason, "");
    member_act(state, me, name, username, act).await
}

pub async fn ban(
    State(state): State<AppState>,
    me: ApiUser,
    Path((name, username)): Path<(String, String)>,
    JsonBody(r): JsonBody<Reason>,
) -> ApiResult<StatusCode> {
    let act = membership::Act::parse("ban", &r.reason, "");
    member_act(state, me, name, username, act).await
}

pub async fn unban(
    State(state): State<AppState>,
    me: ApiUser,
    Path((name, username)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    member_act(state, me, name, username, Ok(membership::Act::Unban)).await
}

#[derive(Deserialize)]
pub struct RoleChange {
    role: String,
}

pub async fn set_role(
    State(state): State<AppState>,
    me: ApiUser,
    Path((name, username)): Path<(String, String)>,
    JsonBody(b): JsonBody<RoleChange>,
) -> ApiResult<StatusCode> {
    let act = membership::Act::parse("role", "", &b.role);
    member_act(state, me, name, username, act).await
}

pub async fn remove_post(
    State(state): State<AppState>,
    me: ApiUser,
    Path((name, id)): Path<(String, String)>,
    Query(r): Query<Reason>,
) -> ApiResult<StatusCode> {
    let id = parse_id(&id, me.lang)?;
    let user = me.user.clone();
    state
        .db
        .run(move |c| {
            check_reason(&r.reason)?;
            moderation::remove_post(c, &user, &name, id, &r.reason)
        })
        .await
        .lang(me.lang)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_pin(
    state: AppState,
    me: ApiUser,
    name: String,
    id: String,
    on: bool,
) -> ApiResult<StatusCode> {
    let id = parse_id(&id, me.lang)?;
    let user = me.user.clone();
    state
        .db
        .run(move |c| moderation::pin(c, &user, &name, id, on))
        .await
        .lang(me.lang)?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn pin(
    State(state): State<AppState>,
    me: ApiUser,
    Path((name, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    set_pin(state, me, name, id, true).await
}

pub async fn unpin(
    State(state): State<AppState>,
    me: ApiUser,
    Path((name, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    set_pin(state, me, name, id, false).await
}

pub async fn log(
    State(state): State<AppState>,
    me: ApiUser,
    Path(name): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let viewer = me.user.clone();
    let c = state
        .db
        .run(move |c| communities::get_roster(c, &viewer, &name))
        .await
        .lang(me.lang)?;
    let (entries, complete): (Vec<LogEntry>, bool) =
        crate::federation::group_roster::log(&state, &me.user, &c)
            .await
            .lang(me.lang)?;
    Ok(Json(json!({ "items": entries, "complete": complete })))
}

/// Sets the community's picture (PNG, JPEG or WebP body; moderators).
pub async fn put_picture(
    State(state): State<AppState>,
    me: ApiUser,
    Path(name): Path<String>,
    body: axum::body::Body,
) -> ApiResult<Json<Community>> {
    let max = state.config.people.max_photo_bytes;
    let bytes = axum::body::to_bytes(body, max + 1).await.map_err(|_| {
        super::ApiError(
            crate::error::AppError::new(
                crate::error::ErrorKind::PayloadTooLarge,
                "photo_too_large",
            )
            .with("max_mb", max / (1024 * 1024)),
            me.lang,
        )
    })?;
    let user = me.user.clone();
    let c = state
        .db
        .run(move |c| communities::set_picture(c, &user, &name, Some(&bytes), max))
        .await
        .lang(me.lang)?;
    Ok(Json(c))
}

pub async fn delete_picture(
    State(state): State<AppState>,
    me: ApiUser,
    Path(name): Path<String>,
) -> ApiResult<Json<Community>> {
    let user = me.user.clone();
    let max = state.config.people.max_photo_bytes;
    let c = state
        .db
        .run(move |c| communities::set_picture(c, &user, &name, None, max))
        .await
        .lang(me.lang)?;
    Ok(Json(c))
}
