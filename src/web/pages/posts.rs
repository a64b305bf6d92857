//! Pages: the home feed with its composer, a post with its comments, edits,
//! deletion, reactions and hashtag pages.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Form;
use serde::Deserialize;

use super::account::CsrfForm;
use super::{
    composer, error_text, render, require_form, require_user, see_other, Base, PageErr, PageResult,
};
use crate::app::AppState;
use crate::audience::Visibility;
use crate::content::media::Attached;
use crate::content::{self, Revision, Text};
use crate::error::AppError;
use crate::feed::{self, Item, Page, Stream};
use crate::onboarding::suggestions::{CommunitySuggestion, PersonSuggestion};
use crate::onboarding::{self, suggestions};
use crate::web::auth::Ctx;

#[derive(Template)]
#[template(path = "feed.html")]
struct FeedPage {
    base: Base,
    /// The stream shown, and the others as tabs.
    stream: &'static str,
    streams: [&'static str; 3],
    page: Page,
    error: Option<String>,
    draft: String,
    /// The audience chosen, kept when the form comes back with an error.
    visibility: String,
    /// Uploads of a form that came back with an error, still to attach.
    kept: Vec<Attached>,
    max_chars: usize,
    /// The last comments under each post, by post.
    latest: HashMap<i64, Vec<Item>>,
    /// Getting started, until it is finished.
    welcome: Option<onboarding::Progress>,
    suggested_people: Vec<PersonSuggestion>,
    suggested_communities: Vec<CommunitySuggestion>,
    /// For a partner's guest: until when their access lasts (they see
    /// their communities' posts, with no composer and no other stream).
    guest_until: Option<chrono::NaiveDateTime>,
    /// The apps the composer offers (on for the site; an idea's form then
    /// asks for a community).
    kit: crate::apps::Kit,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CursorQuery {
    cursor: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FeedQuery {
    cursor: String,
    /// `following`, `site` or `organisation`; none: where the reader
    /// starts ([`feed::default_stream`]).
    stream: String,
}

async fn feed_page(
    state: &AppState,
    ctx: &Ctx,
    q: FeedQuery,
    status: StatusCode,
    error: Option<String>,
    draft: (String, String),
    kept: Vec<Attached>,
) -> PageResult {
    let user = require_user(state, ctx)?.clone();
    let id = user.id;
    let first_page = q.cursor.is_empty();
    let (stream, page, latest, welcome, suggested, guest_until, kit) = state
        .db
        .run(move |c| {
            let guest_until = crate::accounts::guest::until(c, id)?;
            let kit = crate::apps::kit(c, None)?;
            let stream = match q.stream.as_str() {
                "" => feed::default_stream(c, id)?,
                s => Stream::parse(s)?,
            };
            let page = feed::stream(c, id, stream, Some(&q.cursor))?;
            let latest = feed::latest_comments(c, id, &page.items)?;
            // Getting started and suggestions head the first page only.
            let first = q.cursor.is_empty();
            let welcome = match first && guest_until.is_none() {
                true => Some(onboarding::progress(c, &user)?).filter(|p| !p.finished),
                false => None,
            };
            let suggested = match first {
                true => suggestions::for_home(c, &user)?,
                false => Default::default(),
            };
            Ok((stream, page, latest, welcome, suggested, guest_until, kit))
        })
        .await
        .page(state, ctx)?;
    let mut base = Base::new(state, ctx, "feed.title", "feed");
    if first_page {
        // The first page hears of newer posts of its stream.
        let top = page.items.first().map(|i| i.id).unwrap_or(0);
        base.live = Some(format!("/live?stream={}&after={top}", stream.as_str()));
    }
    let page = FeedPage {
        base,
        stream: stream.as_str(),
        streams: Stream::ALL.map(Stream::as_str),
        page,
        error,
        draft: draft.0,
        visibility: draft.1,
        kept,
        max_chars: state.config.content.max_post_chars,
        latest,
        welcome,
        suggested_people: suggested.0,
        suggested_communities: suggested.1,
        guest_until,
        kit,
    };
    Ok((status, render(&page)).into_response())
}

/// The address of a stream of the home page.
pub fn stream_path(stream: &str) -> String {
    format!("/?stream={stream}")
}

pub async fn home(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<FeedQuery>,
) -> PageResult {
    let draft = (String::new(), String::new());
    feed_page(&state, &ctx, q, StatusCode::OK, None, draft, Vec::new()).await
}

/// The home composer: a post with its pictures and files.
pub async fn create(State(state): State<AppState>, ctx: Ctx, form: Request) -> PageResult {
    let form = composer::read(&state, &ctx, form).await?;
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    let max = state.config.content.max_post_chars;
    let draft = (form.body.clone(), form.visibility.clone());
    let media = form.media.clone();
    let result = match form.error {
        Some(e) => Err(e),
        None => {
            let text = Text::resolved(&state, form.body).await;
            let (visibility, ids) = (form.visibility, media.clone());
            state
                .db
                .run(move |c| {
                    let visibility = Visibility::parse(&visibility)?;
                    content::create_post(c, max, &user, &text, visibility, &ids)
                })
                .await
        }
    };
    match result {
        Ok(_) => Ok(see_other("/")),
        Err(err) => {
            let status = StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let msg = error_text(&err, ctx.lang);
            let q = FeedQuery::default();
            let kept = composer::kept(&state, ctx_user(&ctx), media).await;
            feed_page(&state, &ctx, q, status, Some(msg), draft, kept).await
        }
    }
}

/// The signed-in person's id (0 when none: nothing is theirs).
fn ctx_user(ctx: &Ctx) -> i64 {
    ctx.user.as_ref().map(|u| u.id).unwrap_or(0)
}

/// A comment with its depth in the thread.
pub struct ThreadEntry {
    pub item: Item,
    pub depth: usize,
}

/// The comments of a thread (in id order) that answer `root`, directly or
/// not. A reply is newer than what it answers, so one pass finds them.
fn under(root: i64, rows: Vec<content::ContentRow>) -> Vec<content::ContentRow> {
    let mut kept = std::collections::HashSet::from([root]);
    rows.into_iter()
        .filter(|r| {
            let answers = r.reply_to_id.is_some_and(|p| kept.contains(&p));
            if answers {
                kept.insert(r.id);
            }
            answers
        })
        .collect()
}

/// Orders comments depth-first under their parents (depth capped for display).
fn thread(root: i64, items: Vec<Item>) -> Vec<ThreadEntry> {
    let mut children: HashMap<i64, Vec<Item>> = HashMap::new();
    for it in items {
        children
            .entry(it.reply_to_id.unwrap_or(root))
            .or_default()
            .push(it);
    }
    let mut out = Vec::new();
    let mut stack: Vec<(Item, usize)> = children
        .remove(&root)
        .unwrap_or_default()
        .into_iter()
        .rev()
        .map(|i| (i, 0))
        .collect();
    while let Some((item, depth)) = stack.pop() {
        if let Some(kids) = children.remove(&item.id) {
            for k in kids.into_iter().rev() {
                stack.push((k, depth + 1));
            }
        }
        out.push(ThreadEntry {
            item,
            depth: depth.min(6),
        });
    }
    out
}

#[derive(Template)]
#[template(path = "post.html")]
struct PostPage {
    base: Base,
    post: Item,
    parent_id: Option<i64>,
    comments: Vec<ThreadEntry>,
    reactors: Vec<(String, Vec<(String, String)>)>,
    /// Who chose each answer of a named poll: (answer, [(username, name)]).
    poll_voters: Vec<(String, Vec<(String, String)>)>,
    revisions: Vec<Revision>,
    can_edit: bool,
    can_delete: bool,
    /// Whether the reader may mark it as a must-read.
    may_mark: bool,
    error: Option<String>,
    /// A comment refused with an error, and what it answered, kept in its
    /// form.
    draft: Option<(i64, String)>,
    /// Uploads of that refused comment, still to attach.
    kept: Vec<Attached>,
    max_chars: usize,
}

impl PostPage {
    /// For an answer of the question shown: whether it is the one
    /// accepted, and whether the reader may accept it (or take it back).
    /// `None` for anything else.
    fn answer_state(&self, comment: &Item) -> Option<(bool, bool)> {
        let q = self.post.question.as_ref()?;
        if comment.reply_to_id != Some(self.post.id) || comment.deleted {
            return None;
        }
        Some((q.accepted_id == Some(comment.id), q.may_accept))
    }
}

async fn post_page(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    status: StatusCode,
    error: Option<String>,
    draft: Option<(i64, String)>,
    kept: Vec<Attached>,
) -> PageResult {
    let user = require_user(state, ctx)?;
    let viewer = user.id;
    let me = user.clone();
    let (post, comments, reactors, revisions, voters, may_mark) = state
        .db
        .run(move |c| {
            // One visibility check; the rest reads what it allowed.
            let row = content::get_visible(c, viewer, id)?;
            // The replies under this post or comment, of its thread's
            // comments (only those are hydrated).
            let rows = under(row.id, content::comments_of(c, viewer, &row)?);
            let comments = feed::hydrate(c, viewer, rows)?;
            let reactors = content::reactors_of(c, &row)?;
            let revisions = content::revisions_of(c, &row)?;
            let voters = match row.kind.as_str() {
                "poll" => content::poll::voters(c, viewer, row.id)?,
                _ => Vec::new(),
            };
            let may_mark = row.root_id.is_none() && content::must_read::may_mark(c, &me, row.id)?;
            let post = feed::hydrate(c, viewer, vec![row])?
                .pop()
                .ok_or_else(AppError::not_found)?;
            Ok((post, comments, reactors, revisions, voters, may_mark))
        })
        .await
        .page(state, ctx)?;
    let mut grouped: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for (kind, username, display) in reactors {
        let shown = if display.trim().is_empty() {
            username.clone()
        } else {
            display
        };
        match grouped.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, v)) => v.push((username, shown)),
            None => grouped.push((kind, vec![(username, shown)])),
        }
    }
    let poll_voters = post
        .poll
        .iter()
        .flat_map(|p| p.options.iter())
        .map(|o| {
            let who = voters
                .iter()
                .filter(|(option, _, _)| *option == o.id)
                .map(|(_, username, display)| {
                    let shown = if display.trim().is_empty() {
                        username.clone()
                    } else {
                        display.clone()
                    };
                    (username.clone(), shown)
                })
                .collect::<Vec<_>>();
            (o.name.clone(), who)
        })
        .filter(|(_, who)| !who.is_empty())
        .collect();
    let base = Base::new(state, ctx, "post.title", "feed");
    let title = format!("{} — {}", post.author.shown_name(), base.tr.t("post.title"));
    let page = PostPage {
        can_edit: post.author.id == user.id,
        can_delete: post.author.id == user.id || user.is_admin,
        may_mark,
        parent_id: post.reply_to_id,
        comments: thread(post.id, comments),
        base: base.titled(title),
        post,
        reactors: grouped,
        poll_voters,
        revisions,
        error,
        draft,
        kept,
        max_chars: state.config.content.max_post_chars,
    };
    Ok((status, render(&page)).into_response())
}

/// No uploads (for a form that starts empty).
pub fn no_uploads() -> Vec<Attached> {
    Vec::new()
}

/// The uploads kept for the comment form answering `to`, if it is the one
/// refused.
pub fn kept_for(draft: &Option<(i64, String)>, kept: &[Attached], to: &i64) -> Vec<Attached> {
    match draft {
        Some((id, _)) if id == to => kept.to_vec(),
        _ => Vec::new(),
    }
}

/// The draft of the comment form answering `to`, if it is the one refused.
pub fn draft_for(draft: &Option<(i64, String)>, to: &i64) -> String {
    match draft {
        Some((id, text)) if id == to => text.clone(),
        _ => String::new(),
    }
}

pub async fn show(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> PageResult {
    let id = super::parse_id(&state, &ctx, &id)?;
    post_page(&state, &ctx, id, StatusCode::OK, None, None, Vec::new()).await
}

#[derive(Template)]
#[template(path = "edit_post.html")]
struct EditPage {
    base: Base,
    id: i64,
    /// An idea's title.
    title: Option<String>,
    body: String,
    error: Option<String>,
    max_chars: usize,
}

pub async fn edit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> PageResult {
    let user = require_user(&state, &ctx)?;
    let id = super::parse_id(&state, &ctx, &id)?;
    let viewer = user.id;
    let (row, title) = state
        .db
        .run(move |c| {
            let row = content::get_visible(c, viewer, id)?;
            let title = match row.kind.as_str() {
                "idea" => Some(content::idea::view(c, viewer, id)?.title),
                "question" => Some(content::question::view(c, viewer, id)?.title),
                _ => None,
            };
            Ok((row, title))
        })
        .await
        .page(&state, &ctx)?;
    if row.author_id != user.id {
        return Err(AppError::forbidden("not_author")).page(&state, &ctx);
    }
    let page = EditPage {
        base: Base::new(&state, &ctx, "post.edit", "feed"),
        id,
        title,
        body: row.body,
        error: None,
        max_chars: state.config.content.max_post_chars,
    };
    Ok(render(&page))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct BodyForm {
    csrf: String,
    body: String,
    /// An idea's title (the form of an idea has one).
    title: Option<String>,
}

pub async fn edit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<BodyForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    let id = super::parse_id(&state, &ctx, &id)?;
    let max = state.config.content.max_post_chars;
    let body = form.body.clone();
    let title = form.title.clone();
    let text = Text::resolved(&state, form.body).await;
    let new_title = title.clone();
    match state
        .db
        .run(move |c| content::edit(c, max, &user, id, &text, new_title.as_deref()))
        .await
    {
        Ok(row) => Ok(see_other(&format!("/posts/{}", row.id))),
        Err(err) if err.kind == crate::error::ErrorKind::BadRequest => {
            let page = EditPage {
                base: Base::new(&state, &ctx, "post.edit", "feed"),
                id,
                title,
                body,
                error: Some(error_text(&err, ctx.lang)),
                max_chars: max,
            };
            Ok((StatusCode::BAD_REQUEST, render(&page)).into_response())
        }
        Err(err) => Err(err).page(&state, &ctx),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    let id = super::parse_id(&state, &ctx, &id)?;
    let viewer = user.id;
    let root = state
        .db
        .run(move |c| {
            let row = content::get_visible(c, viewer, id)?;
            content::delete(c, &user, id)?;
            Ok(row.root_id)
        })
        .await
        .page(&state, &ctx)?;
    Ok(match root {
        Some(r) => see_other(&format!("/posts/{r}#comments")),
        None => see_other("/"),
    })
}

pub async fn comment(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    form: Request,
) -> PageResult {
    let form = composer::read(&state, &ctx, form).await?;
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    let parent = super::parse_id(&state, &ctx, &id)?;
    let max = state.config.content.max_post_chars;
    let draft = Some((parent, form.body.clone()));
    let media = form.media.clone();
    // Written from the feed: back to the same place in it.
    let back = super::same_site_path(&form.back);
    let result = match form.error {
        Some(e) => Err(e),
        None => {
            let text = Text::resolved(&state, form.body).await;
            let ids = media.clone();
            state
                .db
                .run(move |c| content::create_comment(c, max, &user, parent, &text, &ids))
                .await
        }
    };
    match result {
        Ok(row) => Ok(see_other(&match back {
            Some(path) => format!("{}#c{parent}", path.split('#').next().unwrap_or("/")),
            None => format!("/posts/{}#c{}", row.root_id.unwrap_or(parent), row.id),
        })),
        Err(err)
            if matches!(
                err.kind,
                crate::error::ErrorKind::BadRequest
                    | crate::error::ErrorKind::PayloadTooLarge
                    | crate::error::ErrorKind::UnsupportedMedia
            ) =>
        {
            let status = StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let msg = Some(error_text(&err, ctx.lang));
            let kept = composer::kept(&state, ctx_user(&ctx), media).await;
            post_page(&state, &ctx, parent, status, msg, draft, kept).await
        }
        Err(err) => Err(err).page(&state, &ctx),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ReactForm {
    csrf: String,
    kind: String,
    on: String,
}

pub async fn react(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<ReactForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?;
    let id = super::parse_id(&state, &ctx, &id)?;
    let viewer = user.id;
    let on = form.on != "0";
    let root = state
        .db
        .run(move |c| {
            content::react(c, viewer, id, &form.kind, on)?;
            Ok(content::get_visible(c, viewer, id)?.root_id)
        })
        .await
        .page(&state, &ctx)?;
    let back = super::back_to(&state, &headers, format!("/posts/{}", root.unwrap_or(id)));
    Ok(see_other(&format!("{back}#c{id}")))
}

#[derive(Template)]
#[template(path = "tag.html")]
struct TagPage {
    base: Base,
    tag: String,
    page: Page,
}

pub async fn tag(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(tag): Path<String>,
    Query(q): Query<CursorQuery>,
) -> PageResult {
    let user = require_user(&state, &ctx)?;
    let viewer = user.id;
    let t = tag.clone();
    let page = state
        .db
        .run(move |c| feed::tag(c, viewer, &t, Some(&q.cursor)))
        .await
        .page(&state, &ctx)?;
    let norm = crate::markdown::normalize_tag(&tag);
    let page = TagPage {
        base: Base::new(&state, &ctx, "tag.title", "feed").titled(format!("#{norm}")),
        tag: norm,
        page,
    };
    Ok(render(&page))
}
