//! Pages: asking a poll (`/polls/new`, on the home feed or in a
//! community), voting and closing from a post, and the switches of the
//! kit (`apps`) in the console and in a community's settings.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Form;

use super::{render, require_form, require_user, see_other, Base, PageErr, PageResult};
use crate::app::AppState;
use crate::apps::{self, App};
use crate::audience::Visibility;
use crate::communities::moderation;
use crate::content::poll::{self, NewPoll};
use crate::content::{Place, Text};
use crate::error::AppError;
use crate::web::auth::Ctx;

/// Closing delays the form offers, in days (a week by default).
pub const DURATIONS: [i64; 5] = [1, 3, 7, 14, 30];

/// Answer fields the form shows when empty.
const FIELDS: usize = 6;

#[derive(Template)]
#[template(path = "poll_new.html")]
struct NewPage {
    base: Base,
    error: Option<String>,
    /// The community it is asked in, if any.
    community: Option<String>,
    body: String,
    options: Vec<String>,
    multiple: bool,
    days: i64,
    results: String,
    anonymous: bool,
    visibility: String,
    max_chars: usize,
    durations: [i64; 5],
}

impl NewPage {
    /// The answer fields: those written, then empty ones, at least six
    /// and at most twenty.
    fn fields(&self) -> Vec<(usize, &str)> {
        let n = (self.options.len() + 2).clamp(FIELDS, poll::MAX_OPTIONS);
        (0..n)
            .map(|i| (i, self.options.get(i).map(String::as_str).unwrap_or("")))
            .collect()
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct NewQuery {
    community: String,
}

fn community_of(name: &str) -> Option<String> {
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_string())
}

pub async fn new_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NewQuery>,
) -> PageResult {
    let user = require_user(&state, &ctx)?;
    let community = community_of(&q.community);
    let viewer = user.id;
    let name = community.clone();
    state
        .db
        .run(move |c| {
            let id = match name {
                Some(n) => Some(crate::communities::get(c, viewer, &n)?.id),
                None => None,
            };
            apps::require(c, App::Polls, id)
        })
        .await
        .page(&state, &ctx)?;
    let page = NewPage {
        base: Base::new(&state, &ctx, "poll.new", "feed"),
        error: None,
        community,
        body: String::new(),
        options: Vec::new(),
        multiple: false,
        days: poll::DEFAULT_DAYS,
        results: "voted".into(),
        anonymous: false,
        visibility: String::new(),
        max_chars: state.config.content.max_post_chars,
        durations: DURATIONS,
    };
    Ok(render(&page))
}

/// Reads the form's fields (answers repeat under one name).
fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let user = require_form(&state, &ctx, field(&form, "csrf"))?.clone();
    let community = community_of(field(&form, "community"));
    let options: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "option")
        .map(|(_, v)| v.clone())
        .collect();
    let days = field(&form, "days")
        .parse::<i64>()
        .ok()
        .filter(|d| DURATIONS.contains(d))
        .unwrap_or(poll::DEFAULT_DAYS);
    let mut page = NewPage {
        base: Base::new(&state, &ctx, "poll.new", "feed"),
        error: None,
        community: community.clone(),
        body: field(&form, "body").to_string(),
        options: options
            .iter()
            .filter(|o| !o.trim().is_empty())
            .cloned()
            .collect(),
        multiple: field(&form, "multiple") == "1",
        days,
        results: field(&form, "results").to_string(),
        anonymous: field(&form, "anonymous") == "1",
        visibility: field(&form, "visibility").to_string(),
        max_chars: state.config.content.max_post_chars,
        durations: DURATIONS,
    };
    let closes = chrono::Utc::now() + chrono::Duration::days(days);
    let asked = NewPoll {
        options,
        multiple: page.multiple,
        closes_at: Some(closes.fixed_offset()),
        results: Some(page.results.clone()),
        anonymous: page.anonymous,
    };
    let text = Text::resolved(&state, page.body.clone()).await;
    let max = page.max_chars;
    let visibility = page.visibility.clone();
    let result = state
        .db
        .run(move |c| match &community {
            Some(name) => moderation::post_poll(c, max, &user, name, &text, &asked),
            None => {
                let v = Visibility::parse(&visibility)?;
                poll::create(c, max, &user, &text, Place::Audience(v), &asked)
            }
        })
        .await;
    match result {
        Ok(row) => Ok(see_other(&format!("/posts/{}", row.id))),
        Err(err) => {
            let status = StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
            page.error = Some(super::error_text(&err, ctx.lang));
            Ok((status, render(&page)).into_response())
        }
    }
}

pub async fn vote(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let user = require_form(&state, &ctx, field(&form, "csrf"))?.clone();
    let id = super::parse_id(&state, &ctx, &id)?;
    let choices: Vec<i64> = form
        .iter()
        .filter(|(k, _)| k == "choice")
        .filter_map(|(_, v)| v.trim().parse().ok())
        .collect();
    state
        .db
        .run(move |c| poll::vote(c, &user, id, &choices))
        .await
        .page(&state, &ctx)?;
    let back = super::back_to(&state, &headers, format!("/posts/{id}"));
    Ok(see_other(&format!("{back}#c{id}")))
}

pub async fn close(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<super::ActionForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    let id = super::parse_id(&state, &ctx, &id)?;
    state
        .db
        .run(move |c| poll::close(c, &user, id))
        .await
        .page(&state, &ctx)?;
    let back = super::back_to(&state, &headers, format!("/posts/{id}"));
    Ok(see_other(&format!("{back}#c{id}")))
}

/// The console's switches: one field per app, `on` or `off`.
pub async fn set_site(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let user = require_form(&state, &ctx, field(&form, "csrf"))?.clone();
    state
        .db
        .run(move |c| {
            for app in App::ALL {
                let on = field(&form, app.as_str()) == "on";
                apps::set_site(c, &user, app, on)?;
            }
            Ok(())
        })
        .await
        .page(&state, &ctx)?;
    Ok(see_other("/admin#apps"))
}

/// A community's switches: one field per app, `site`, `on` or `off`.
pub async fn set_community(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let user = require_form(&state, &ctx, field(&form, "csrf"))?.clone();
    let back = format!("/communities/{name}/settings#apps");
    state
        .db
        .run(move |c| {
            let community = crate::communities::get(c, user.id, &name)?;
            for app in App::ALL {
                let choice = match field(&form, app.as_str()) {
                    "on" => Some(true),
                    "off" => Some(false),
                    "site" | "" => None,
                    _ => return Err(AppError::bad_request("field_invalid").with("field", "app")),
                };
                apps::set_for_community(c, &user, community.id, app, choice)?;
            }
            Ok(())
        })
        .await
        .page(&state, &ctx)?;
    Ok(see_other(&back))
}
