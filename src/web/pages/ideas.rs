//! Pages: ideas (`content::idea`) — submitting one to a community
//! (`/ideas/new`), voting and moving one from a post, and the lists of a
//! community (`/communities/{name}/ideas`) and of every community one reads
//! (`/ideas`), by status, most voted or newest first.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Form;

use super::{render, require_form, require_user, see_other, Base, PageErr, PageResult};
use crate::app::AppState;
use crate::apps::{self, App};
use crate::communities::{self, moderation};
use crate::content::idea::{self, Order, Status};
use crate::content::Text;
use crate::feed::Item;
use crate::web::auth::Ctx;

#[derive(Template)]
#[template(path = "idea_new.html")]
struct NewPage {
    base: Base,
    error: Option<String>,
    /// The community it is submitted to, when chosen.
    community: String,
    /// The communities the person may submit to (member, app on).
    choices: Vec<(String, String)>,
    title: String,
    body: String,
    max_chars: usize,
    max_title: usize,
}

impl NewPage {
    /// Whether the chosen community is among those offered.
    fn offered(&self) -> bool {
        self.choices.iter().any(|(n, _)| *n == self.community)
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct NewQuery {
    community: String,
}

/// The communities `user` may submit an idea to: (name, title).
fn choices(c: &mut crate::db::DbConn, user: i64) -> crate::error::AppResult<Vec<(String, String)>> {
    Ok(communities::using(c, user, App::Ideas)?
        .into_iter()
        .map(|cm| (cm.name, cm.title))
        .collect())
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
    let choices = state
        .db
        .run(move |c| {
            if !wanted.is_empty() {
                let cm = communities::get(c, viewer, &wanted)?;
                apps::require(c, App::Ideas, Some(cm.id))?;
            }
            choices(c, viewer)
        })
        .await
        .page(&state, &ctx)?;
    let page = NewPage {
        base: Base::new(&state, &ctx, "idea.new", "communities"),
        error: None,
        community: name,
        choices,
        title: String::new(),
        body: String::new(),
        max_chars: state.config.content.max_post_chars,
        max_title: idea::MAX_TITLE,
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
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<NewForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    let text = Text::resolved(&state, form.body.clone()).await;
    let max = state.config.content.max_post_chars;
    let (name, title) = (form.community.trim().to_string(), form.title.clone());
    let viewer = user.id;
    let result = state
        .db
        .run(move |c| {
            if name.is_empty() {
                return Err(crate::error::AppError::bad_request(
                    "idea_community_required",
                ));
            }
            moderation::post_idea(c, max, &user, &name, &title, &text)
        })
        .await;
    match result {
        Ok(row) => Ok(see_other(&format!("/posts/{}", row.id))),
        Err(err) => {
            let status = StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let choices = state
                .db
                .run(move |c| choices(c, viewer))
                .await
                .page(&state, &ctx)?;
            let page = NewPage {
                base: Base::new(&state, &ctx, "idea.new", "communities"),
                error: Some(super::error_text(&err, ctx.lang)),
                community: form.community,
                choices,
                title: form.title,
                body: form.body,
                max_chars: max,
                max_title: idea::MAX_TITLE,
            };
            Ok((status, render(&page)).into_response())
        }
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct VoteForm {
    csrf: String,
    on: String,
}

pub async fn vote(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<VoteForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    let id = super::parse_id(&state, &ctx, &id)?;
    let on = form.on != "0";
    state
        .db
        .run(move |c| idea::vote(c, &user, id, on))
        .await
        .page(&state, &ctx)?;
    let back = super::back_to(&state, &headers, format!("/posts/{id}"));
    Ok(see_other(&format!("{back}#c{id}")))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct MoveForm {
    csrf: String,
    status: String,
    reason: String,
}

pub async fn move_to(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<MoveForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    let id = super::parse_id(&state, &ctx, &id)?;
    state
        .db
        .run(move |c| {
            let status = Status::parse(&form.status)?;
            moderation::move_idea(c, &user, id, status, &form.reason)
        })
        .await
        .page(&state, &ctx)?;
    let back = super::back_to(&state, &headers, format!("/posts/{id}"));
    Ok(see_other(&format!("{back}#c{id}")))
}

#[derive(Template)]
#[template(path = "ideas.html")]
struct ListPage {
    base: Base,
    /// The community listed (all the reader reads when `None`).
    community: Option<(String, String)>,
    /// Whether the reader may submit an idea here.
    may_submit: bool,
    /// The status listed (empty: all).
    status: String,
    /// `votes` or `recent`.
    order: &'static str,
    counts: Vec<(&'static str, i64)>,
    total: i64,
    items: Vec<Item>,
    page: i64,
    more: bool,
}

impl ListPage {
    /// The address of this list with another status, order or page.
    fn link(&self, status: &str, order: &str, page: i64) -> String {
        let base = match &self.community {
            Some((name, _)) => format!("/communities/{name}/ideas"),
            None => "/ideas".to_string(),
        };
        let mut q = vec![format!("order={order}")];
        if !status.is_empty() {
            q.push(format!("status={status}"));
        }
        if page > 0 {
            q.push(format!("page={page}"));
        }
        format!("{base}?{}", q.join("&"))
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    status: String,
    order: String,
    page: i64,
}

async fn list_page(state: AppState, ctx: Ctx, name: Option<String>, q: ListQuery) -> PageResult {
    let user = require_user(&state, &ctx)?;
    let viewer = user.id;
    let page_no = q.page.clamp(0, 1000);
    let (community, may_submit, status, order, listed, items) = state
        .db
        .run(move |c| {
            let status = match q.status.trim() {
                "" | "all" => None,
                s => Some(Status::parse(s)?),
            };
            let order = Order::parse(&q.order)?;
            let (community, may_submit) = match &name {
                Some(n) => {
                    let cm = communities::get_readable(c, viewer, n)?;
                    let on = apps::enabled(c, App::Ideas, Some(cm.id))?;
                    (
                        Some((cm.id, cm.name.clone(), cm.title.clone())),
                        on && cm.is_member(),
                    )
                }
                None => (None, !choices(c, viewer)?.is_empty()),
            };
            let listed = idea::list(
                c,
                viewer,
                community.as_ref().map(|(id, _, _)| *id),
                status,
                order,
                page_no,
                idea::PER_PAGE,
            )?;
            let items = crate::feed::hydrate(c, viewer, listed.rows.clone())?;
            Ok((community, may_submit, status, order, listed, items))
        })
        .await
        .page(&state, &ctx)?;
    let total = listed.counts.iter().map(|(_, n)| n).sum();
    let base = Base::new(&state, &ctx, "idea.list", "communities");
    let base = match &community {
        Some((_, _, title)) => base.titled(title.clone()),
        None => base,
    };
    let page = ListPage {
        base,
        community: community.map(|(_, n, t)| (n, t)),
        may_submit,
        status: status.map(|s| s.as_str().to_string()).unwrap_or_default(),
        order: order.as_str(),
        counts: listed
            .counts
            .iter()
            .map(|(s, n)| (s.as_str(), *n))
            .collect(),
        total,
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
