//! Pages: must-read announcements (`content::must_read`) — the lists of
//! those to read and those one follows up (`/must-read`), marking a post
//! or lifting the mark (`/posts/{id}/must-read`), confirming having read
//! it (`/posts/{id}/read`), who has read it (`/posts/{id}/readers`) and
//! the one reminder (`/posts/{id}/remind`).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::Form;
use serde::Deserialize;

use super::{render, require_form, require_user, see_other, Base, PageErr, PageResult};
use crate::app::AppState;
use crate::content::must_read::{self, Filter, Readers};
use crate::feed::Item;
use crate::web::auth::Ctx;

#[derive(Deserialize)]
pub struct MarkForm {
    csrf: String,
    /// `1` marks, `0` lifts.
    on: String,
}

pub async fn mark(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<MarkForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    let id = super::parse_id(&state, &ctx, &id)?;
    let on = form.on.trim() != "0";
    state
        .db
        .run(move |c| must_read::mark(c, &user, id, on))
        .await
        .page(&state, &ctx)?;
    let back = super::back_to(&state, &headers, format!("/posts/{id}"));
    Ok(see_other(&format!("{back}#c{id}")))
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    let id = super::parse_id(&state, &ctx, &id)?;
    state
        .db
        .run(move |c| must_read::confirm(c, &user, id))
        .await
        .page(&state, &ctx)?;
    let back = super::back_to(&state, &headers, format!("/posts/{id}"));
    Ok(see_other(&format!("{back}#c{id}")))
}

#[derive(Template)]
#[template(path = "must_read_readers.html")]
struct ReadersPage {
    base: Base,
    id: i64,
    readers: Readers,
    /// How many were just reminded.
    reminded: Option<i64>,
    max_listed: i64,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ReadersQuery {
    reminded: Option<i64>,
}

pub async fn readers(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<ReadersQuery>,
) -> PageResult {
    let user = require_user(&state, &ctx)?;
    let id = super::parse_id(&state, &ctx, &id)?;
    let viewer = user.id;
    let readers = state
        .db
        .run(move |c| must_read::readers(c, viewer, id))
        .await
        .page(&state, &ctx)?;
    let page = ReadersPage {
        base: Base::new(&state, &ctx, "must_read.readers", "feed"),
        id,
        readers,
        reminded: q.reminded.filter(|n| *n >= 0),
        max_listed: must_read::MAX_LISTED,
    };
    Ok(render(&page))
}

pub async fn remind(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    let id = super::parse_id(&state, &ctx, &id)?;
    let n = state
        .db
        .run(move |c| must_read::remind(c, &user, id))
        .await
        .page(&state, &ctx)?;
    Ok(see_other(&format!("/posts/{id}/readers?reminded={n}")))
}

#[derive(Template)]
#[template(path = "must_read_list.html")]
struct ListPage {
    base: Base,
    filter: &'static str,
    filters: [&'static str; 2],
    items: Vec<Item>,
    page: i64,
    more: bool,
}

impl ListPage {
    fn link(&self, filter: &str, page: i64) -> String {
        match page {
            0 => format!("/must-read?filter={filter}"),
            p => format!("/must-read?filter={filter}&page={p}"),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    filter: String,
    page: i64,
}

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let user = require_user(&state, &ctx)?;
    let viewer = user.id;
    let page = q.page.clamp(0, 1000);
    let (filter, items, more) = state
        .db
        .run(move |c| {
            let filter = Filter::parse(&q.filter)?;
            let listed = must_read::list(c, viewer, filter, page)?;
            let items = crate::feed::in_order(c, viewer, &listed.ids)?;
            Ok((filter, items, listed.more))
        })
        .await
        .page(&state, &ctx)?;
    let view = ListPage {
        base: Base::new(&state, &ctx, "must_read.list", "me"),
        filter: filter.as_str(),
        filters: Filter::ALL.map(Filter::as_str),
        items,
        page,
        more,
    };
    Ok(render(&view))
}
