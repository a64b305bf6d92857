//! API: polls (`content::poll`) and the kit of apps (`apps`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::{parse_id, ApiResult, InLang, JsonBody};
use crate::app::AppState;
use crate::apps::{self, App};
use crate::audience::Visibility;
use crate::communities::moderation;
use crate::content::poll::{self, NewPoll};
use crate::content::{Place, Text};
use crate::error::AppError;
use crate::feed;
use crate::web::auth::ApiUser;

#[derive(Deserialize)]
pub struct PollCreate {
    /// The question (Markdown).
    body: String,
    /// Who sees it, outside communities.
    #[serde(default)]
    visibility: Option<String>,
    /// The community it is asked in (then `visibility` is the community's).
    #[serde(default)]
    community: Option<String>,
    #[serde(flatten)]
    poll: NewPoll,
}

pub async fn create(
    State(state): State<AppState>,
    me: ApiUser,
    JsonBody(b): JsonBody<PollCreate>,
) -> ApiResult<impl IntoResponse> {
    let text = Text::resolved(&state, b.body).await;
    let max = state.config.content.max_post_chars;
    let user = me.user.clone();
    let item = state
        .db
        .run(move |c| {
            let row = match b.community.as_deref().map(str::trim) {
                Some(name) if !name.is_empty() => {
                    moderation::post_poll(c, max, &user, name, &text, &b.poll)?
                }
                _ => {
                    let v = Visibility::parse(b.visibility.as_deref().unwrap_or(""))?;
                    poll::create(c, max, &user, &text, Place::Audience(v), &b.poll)?
                }
            };
            feed::hydrate(c, user.id, vec![row])?
                .pop()
                .ok_or_else(AppError::not_found)
        })
        .await
        .lang(me.lang)?;
    Ok((StatusCode::CREATED, Json(item)))
}

/// Who chose an answer of a named poll.
#[derive(Serialize)]
pub struct Voter {
    option_id: i64,
    username: String,
    display_name: String,
}

#[derive(Serialize)]
pub struct PollDetail {
    #[serde(flatten)]
    poll: poll::View,
    /// Who chose what, for a named poll whose results the reader sees.
    voters_list: Vec<Voter>,
}

pub async fn get_one(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<Json<PollDetail>> {
    let id = parse_id(&id, me.lang)?;
    let viewer = me.user.id;
    let detail = state
        .db
        .run(move |c| {
            let view = poll::view(c, viewer, id)?;
            let voters = poll::voters(c, viewer, id)?
                .into_iter()
                .map(|(option_id, username, display_name)| Voter {
                    option_id,
                    username,
                    display_name,
                })
                .collect();
            Ok(PollDetail {
                poll: view,
                voters_list: voters,
            })
        })
        .await
        .lang(me.lang)?;
    Ok(Json(detail))
}

#[derive(Deserialize)]
pub struct PollVote {
    /// The ids of the answers chosen (one, or several when the poll
    /// allows them).
    choices: Vec<i64>,
}

pub async fn vote(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<PollVote>,
) -> ApiResult<Json<poll::View>> {
    let id = parse_id(&id, me.lang)?;
    let user = me.user.clone();
    let view = state
        .db
        .run(move |c| poll::vote(c, &user, id, &b.choices))
        .await
        .lang(me.lang)?;
    Ok(Json(view))
}

pub async fn close(
    State(state): State<AppState>,
    me: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<Json<poll::View>> {
    let id = parse_id(&id, me.lang)?;
    let user = me.user.clone();
    let view = state
        .db
        .run(move |c| poll::close(c, &user, id))
        .await
        .lang(me.lang)?;
    Ok(Json(view))
}

// ----- The kit ------------------------------------------------------------

pub async fn site_apps(
    State(state): State<AppState>,
    me: ApiUser,
) -> ApiResult<Json<Vec<apps::Switch>>> {
    let list = state
        .db
        .run(|c| apps::switches(c, None))
        .await
        .lang(me.lang)?;
    Ok(Json(list))
}

#[derive(Deserialize)]
pub struct AppSwitch {
    /// On or off; for a community, `null` follows the site's choice.
    enabled: Option<bool>,
}

pub async fn set_site_app(
    State(state): State<AppState>,
    me: ApiUser,
    Path(app): Path<String>,
    JsonBody(b): JsonBody<AppSwitch>,
) -> ApiResult<Json<Vec<apps::Switch>>> {
    let user = me.user.clone();
    let list = state
        .db
        .run(move |c| {
            let app = App::parse(&app)?;
            let on = b
                .enabled
                .ok_or_else(|| AppError::bad_request("field_invalid").with("field", "enabled"))?;
            apps::set_site(c, &user, app, on)?;
            apps::switches(c, None)
        })
        .await
        .lang(me.lang)?;
    Ok(Json(list))
}

pub async fn community_apps(
    State(state): State<AppState>,
    me: ApiUser,
    Path(name): Path<String>,
) -> ApiResult<Json<Vec<apps::Switch>>> {
    let viewer = me.user.id;
    let list = state
        .db
        .run(move |c| {
            let community = crate::communities::get(c, viewer, &name)?;
            apps::switches(c, Some(community.id))
        })
        .await
        .lang(me.lang)?;
    Ok(Json(list))
}

pub async fn set_community_app(
    State(state): State<AppState>,
    me: ApiUser,
    Path((name, app)): Path<(String, String)>,
    JsonBody(b): JsonBody<AppSwitch>,
) -> ApiResult<Json<Vec<apps::Switch>>> {
    let user = me.user.clone();
    let list = state
        .db
        .run(move |c| {
            let app = App::parse(&app)?;
            let community = crate::communities::get(c, user.id, &name)?;
            apps::set_for_community(c, &user, community.id, app, b.enabled)?;
            apps::switches(c, Some(community.id))
        })
        .await
        .lang(me.lang)?;
    Ok(Json(list))
}
