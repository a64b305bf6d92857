//! Pages: questions and answers (`content::question`) — asking one
//! (`/questions/new`, with the similar questions found while the title is
//! typed), accepting an answer from the question's page, and the lists of
//! a community (`/communities/{name}/questions`) and of everything one
//! reads (`/questions`): unanswered, open, solved or all.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};

use super::{render, require_form, require_user, see_other, Base, PageErr, PageResult};
use crate::app::AppState;
use crate::apps::{self, App};
use crate::audience::Visibility;
use crate::communities::{self, moderation};
use crate::content::question::{self, Filter};
use crate::content::{Place, Text};
use crate::error::AppError;
use crate::feed::Item;
use crate::web::auth::Ctx;

#[derive(Template)]
#[template(path = "question_new.html")]
struct NewPage {
    base: Base,
    error: Option<String>,
    /// The community it is asked in (empty: to an audience).
    community: String,
    /// The communities the person may ask in (member, app on).
    choices: Vec<(String, String)>,
    /// Whether the app is on outside communities.
    site_on: bool,
    title: String,
    body: String,
    visibility: String,
    max_chars: usize,
    max_title: usize,
}

impl NewPage {
    /// Whether the chosen community is among those offered.
    fn offered(&self) -> bool {
        self.choices.iter().any(|(n, _)| *n == self.community)
    }
}

/// The communities `user` may ask in, and whether they may ask outside
/// communities.
fn places(
    c: &mut crate::db::DbConn,
    user: i64,
) -> crate::error::AppResult<(Vec<(String, String)>, bool)> {
    let list = communities::using(c, user, App::Questions)?
        .into_iter()
        .map(|cm| (cm.name, cm.title))
        .collect();
    Ok((list, apps::enabled(c, App::Questions, None)?))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct NewQuery {
    community: String,
}

pub async fn new_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NewQuery>,
) -> PageResult {
    let user = require_user(&state, &ctx)?;
    let viewer = user.id;
    let name = q.community.trim().to_string();
    let wanted = name.clone();
    let (choices, site_on) = state
        .db
        .run(move |c| {
            let id = match wanted.as_str() {
                "" => None,
                n => Some(communities::get(c, viewer, n)?.id),
            };
            apps::require(c, App::Questions, id)?;
            places(c, viewer)
        })
        .await
        .page(&state, &ctx)?;
    let page = NewPage {
        base: Base::new(&state, &ctx, "question.new", "feed"),
        error: None,
        community: name,
        choices,
        site_on,
        title: String::new(),
        body: String::new(),
        visibility: String::new(),
        max_chars: state.config.content.max_post_chars,
        max_title: crate::content::MAX_TITLE,
    };
    Ok(render(&page))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct NewForm {
    csrf: String,
    community: String,
    title: String,
    body: String,
    visibility: String,
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<NewForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    let text = Text::resolved(&state, form.body.clone()).await;
    let max = state.config.content.max_post_chars;
    let (name, title, visibility) = (
        form.community.trim().to_string(),
        form.title.clone(),
        form.visibility.clone(),
    );
    let viewer = user.id;
    let result = state
        .db
        .run(move |c| match name.as_str() {
            "" => {
                let v = Visibility::parse(&visibility)?;
                question::create(c, max, &user, &title, &text, Place::Audience(v))
            }
            n => moderation::post_question(c, max, &user, n, &title, &text),
        })
        .await;
    match result {
        Ok(row) => Ok(see_other(&format!("/posts/{}", row.id))),
        Err(err) => {
            let status = StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let (choices, site_on) = state
                .db
                .run(move |c| places(c, viewer))
                .await
                .page(&state, &ctx)?;
            let page = NewPage {
                base: Base::new(&state, &ctx, "question.new", "feed"),
                error: Some(super::error_text(&err, ctx.lang)),
                community: form.community,
                choices,
                site_on,
                title: form.title,
                body: form.body,
                visibility: form.visibility,
                max_chars: max,
                max_title: crate::content::MAX_TITLE,
            };
            Ok((status, render(&page)).into_response())
        }
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct AcceptForm {
    csrf: String,
    /// The answer accepted (empty: none).
    answer: String,
}

pub async fn accept(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<AcceptForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    let id = super::parse_id(&state, &ctx, &id)?;
    let answer = match form.answer.trim() {
        "" => None,
        a => Some(super::parse_id(&state, &ctx, a)?),
    };
    state
        .db
        .run(move |c| question::accept(c, &user, id, answer))
        .await
        .page(&state, &ctx)?;
    let back = super::back_to(&state, &headers, format!("/posts/{id}"));
    let anchor = answer.unwrap_or(id);
    Ok(see_other(&format!("{back}#c{anchor}")))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct SimilarQuery {
    q: String,
}

/// The similar questions of a title being typed, for the form's script.
pub async fn similar(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SimilarQuery>,
) -> Response {
    let Some(me) = ctx.user.clone() else {
        return crate::error::json_response(&AppError::unauthorized("signin_required"), ctx.lang);
    };
    match state
        .db
        .run(move |c| question::similar(c, me.id, &q.q))
        .await
    {
        Ok(list) => Json(serde_json::json!({ "items": list })).into_response(),
        Err(err) => crate::error::json_response(&err, ctx.lang),
    }
}

#[derive(Template)]
#[template(path = "questions.html")]
struct ListPage {
    base: Base,
    /// The community listed (everything the reader reads when `None`).
    community: Option<(String, String)>,
    /// Whether the reader may ask here.
    may_ask: bool,
    filter: &'static str,
    filters: [&'static str; 4],
    items: Vec<Item>,
    page: i64,
    more: bool,
}

impl ListPage {
    fn link(&self, filter: &str, page: i64) -> String {
        let base = match &self.community {
            Some((name, _)) => format!("/communities/{name}/questions"),
            None => "/questions".to_string(),
        };
        if page > 0 {
            format!("{base}?filter={filter}&page={page}")
        } else {
            format!("{base}?filter={filter}")
        }
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    filter: String,
    page: i64,
}

async fn list_page(state: AppState, ctx: Ctx, name: Option<String>, q: ListQuery) -> PageResult {
    let user = require_user(&state, &ctx)?;
    let viewer = user.id;
    let page_no = q.page.clamp(0, 1000);
    let (community, may_ask, filter, listed, items) = state
        .db
        .run(move |c| {
            let filter = Filter::parse(&q.filter)?;
            let (community, may_ask) = match &name {
                Some(n) => {
                    let cm = communities::get_readable(c, viewer, n)?;
                    let on = apps::enabled(c, App::Questions, Some(cm.id))?;
                    (
                        Some((cm.id, cm.name.clone(), cm.title.clone())),
                        on && cm.is_member(),
                    )
                }
                None => {
                    let (choices, site_on) = places(c, viewer)?;
                    (None, site_on || !choices.is_empty())
                }
            };
            let listed = question::list(
                c,
                viewer,
                community.as_ref().map(|(id, _, _)| *id),
                filter,
                page_no,
                question::PER_PAGE,
            )?;
            let items = crate::feed::hydrate(c, viewer, listed.rows.clone())?;
            Ok((community, may_ask, filter, listed, items))
        })
        .await
        .page(&state, &ctx)?;
    let base = Base::new(&state, &ctx, "question.list", "feed");
    let base = match &community {
        Some((_, _, title)) => base.titled(title.clone()),
        None => base,
    };
    let page = ListPage {
        base,
        community: community.map(|(_, n, t)| (n, t)),
        may_ask,
        filter: filter.as_str(),
        filters: Filter::ALL.map(Filter::as_str),
        items,
        page: page_no,
        more: listed.more,
    };
    Ok(render(&page))
}

pub async fn site_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> PageResult {
    list_page(state, ctx, None, q).await
}

pub async fn community_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
    Query(q): Query<ListQuery>,
) -> PageResult {
    list_page(state, ctx, Some(name), q).await
}
