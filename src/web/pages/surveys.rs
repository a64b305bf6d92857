//! Pages: asking a survey or a quiz (`/surveys/new`, on the home feed or
//! in a community), answering it and seeing one's answers, score and the
//! leaderboard (`/surveys/{id}`), and, for its author, the results with
//! their charts and the CSV export (`/surveys/{id}/results`).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Form;

use super::{render, require_form, require_user, see_other, Base, PageErr, PageResult};
use crate::app::AppState;
use crate::apps::{self, App};
use crate::audience::Visibility;
use crate::communities::moderation;
use crate::content::survey::{self, Answer, Kind, NewQuestion, NewSurvey};
use crate::content::{Place, Text};
use crate::feed::Item;
use crate::web::auth::Ctx;

/// Closing delays the form offers, in days (0: until its author closes it).
pub const DURATIONS: [i64; 6] = [0, 1, 3, 7, 14, 30];

/// Question blocks a new form shows.
const BLOCKS: usize = 3;

/// A question block of the form, as written.
#[derive(Debug, Clone, Default)]
pub struct Block {
    pub prompt: String,
    pub kind: String,
    /// Its choices, one per line; in a quiz, `*` starts a right one.
    pub choices: String,
    pub explanation: String,
    pub optional: bool,
}

impl Block {
    fn is_blank(&self) -> bool {
        self.prompt.trim().is_empty() && self.choices.trim().is_empty()
    }

    /// The question it asks (the lines of its choices, `*` marking the
    /// right ones of a quiz).
    fn question(&self, quiz: bool) -> NewQuestion {
        let kind = if self.kind.is_empty() {
            "one".to_string()
        } else {
            self.kind.clone()
        };
        let mut choices = Vec::new();
        let mut correct = Vec::new();
        let takes_choices = Kind::parse(&kind).is_none_or(Kind::has_choices);
        for line in self
            .choices
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            match line.strip_prefix('*') {
                Some(right) if quiz => {
                    correct.push(choices.len());
                    choices.push(right.trim().to_string());
                }
                _ => choices.push(line.to_string()),
            }
        }
        NewQuestion {
            kind,
            prompt: self.prompt.clone(),
            // A value or a text takes no choices: lines left in the box
            // when the kind changed are not an error.
            choices: if takes_choices { choices } else { Vec::new() },
            correct,
            explanation: if quiz {
                self.explanation.clone()
            } else {
                String::new()
            },
            optional: self.optional,
        }
    }
}

#[derive(Template)]
#[template(path = "survey_new.html")]
struct NewPage {
    base: Base,
    error: Option<String>,
    community: Option<String>,
    quiz: bool,
    title: String,
    body: String,
    blocks: Vec<Block>,
    anonymous: bool,
    leaderboard: bool,
    days: i64,
    visibility: String,
    max_chars: usize,
    durations: [i64; 6],
    max_questions: usize,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct NewQuery {
    community: String,
    quiz: String,
}

fn community_of(name: &str) -> Option<String> {
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_string())
}

/// The app must be on where the survey would go, before a form is shown.
async fn require_app(
    state: &AppState,
    ctx: &Ctx,
    viewer: i64,
    community: Option<String>,
) -> Result<(), super::PageError> {
    state
        .db
        .run(move |c| {
            let id = match community {
                Some(n) => Some(crate::communities::get(c, viewer, &n)?.id),
                None => None,
            };
            apps::require(c, App::Polls, id)
        })
        .await
        .page(state, ctx)
}

pub async fn new_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NewQuery>,
) -> PageResult {
    let user = require_user(&state, &ctx)?;
    let community = community_of(&q.community);
    require_app(&state, &ctx, user.id, community.clone()).await?;
    let quiz = q.quiz == "1";
    let page = NewPage {
        base: Base::new(
            &state,
            &ctx,
            if quiz {
                "survey.new_quiz"
            } else {
                "survey.new"
            },
            "feed",
        ),
        error: None,
        community,
        quiz,
        title: String::new(),
        body: String::new(),
        blocks: vec![Block::default(); BLOCKS],
        anonymous: false,
        leaderboard: true,
        days: 0,
        visibility: String::new(),
        max_chars: state.config.content.max_post_chars,
        durations: DURATIONS,
        max_questions: survey::MAX_QUESTIONS,
    };
    Ok(render(&page))
}

/// Reads a field of the form.
fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// The question blocks of the form, in order (`q0_prompt`, `q0_kind`, …),
/// at most [`survey::MAX_QUESTIONS`] and one more to tell it was too many.
fn blocks(form: &[(String, String)]) -> Vec<Block> {
    let mut out = Vec::new();
    for i in 0..=survey::MAX_QUESTIONS {
        let key = |f: &str| format!("q{i}_{f}");
        if !form.iter().any(|(k, _)| k.starts_with(&format!("q{i}_"))) {
            break;
        }
        out.push(Block {
            prompt: field(form, &key("prompt")).to_string(),
            kind: field(form, &key("kind")).to_string(),
            choices: field(form, &key("choices")).to_string(),
            explanation: field(form, &key("explanation")).to_string(),
            optional: field(form, &key("optional")) == "1",
        });
    }
    out
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let user = require_form(&state, &ctx, field(&form, "csrf"))?.clone();
    let community = community_of(field(&form, "community"));
    let quiz = field(&form, "quiz") == "1";
    let days = field(&form, "days")
        .parse::<i64>()
        .ok()
        .filter(|d| DURATIONS.contains(d))
        .unwrap_or(0);
    let mut page = NewPage {
        base: Base::new(
            &state,
            &ctx,
            if quiz {
                "survey.new_quiz"
            } else {
                "survey.new"
            },
            "feed",
        ),
        error: None,
        community: community.clone(),
        quiz,
        title: field(&form, "title").to_string(),
        body: field(&form, "body").to_string(),
        blocks: blocks(&form),
        anonymous: field(&form, "anonymous") == "1",
        leaderboard: field(&form, "leaderboard") == "1",
        days,
        visibility: field(&form, "visibility").to_string(),
        max_chars: state.config.content.max_post_chars,
        durations: DURATIONS,
        max_questions: survey::MAX_QUESTIONS,
    };
    // "Add a question": the same form, one block more, nothing sent.
    if field(&form, "more") == "1" {
        if page.blocks.len() < survey::MAX_QUESTIONS {
            page.blocks.push(Block::default());
        }
        return Ok(render(&page));
    }
    let asked = NewSurvey {
        title: page.title.clone(),
        quiz,
        leaderboard: Some(page.leaderboard),
        anonymous: page.anonymous,
        closes_at: (days > 0)
            .then(|| (chrono::Utc::now() + chrono::Duration::days(days)).fixed_offset()),
        questions: page
            .blocks
            .iter()
            .filter(|b| !b.is_blank())
            .map(|b| b.question(quiz))
            .collect(),
    };
    let text = Text::resolved(&state, page.body.clone()).await;
    let max = page.max_chars;
    let visibility = page.visibility.clone();
    let result = state
        .db
        .run(move |c| match &community {
            Some(name) => moderation::post_survey(c, max, &user, name, &text, &asked),
            None => {
                let v = Visibility::parse(&visibility)?;
                survey::create(c, max, &user, &text, Place::Audience(v), &asked)
            }
        })
        .await;
    match result {
        Ok(row) => Ok(see_other(&format!("/surveys/{}", row.id))),
        Err(err) => {
            let status = StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
            page.error = Some(super::error_text(&err, ctx.lang));
            // Blank blocks stay, so that the form keeps its shape.
            Ok((status, render(&page)).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "survey.html")]
struct SurveyPage {
    base: Base,
    item: Item,
    survey: survey::Full,
    error: Option<String>,
    /// The answers as sent, when they were refused: (field, value).
    sent: Vec<(String, String)>,
    leaderboard: Vec<survey::Rank>,
    scale: Vec<i32>,
}

impl SurveyPage {
    /// Whether the refused form had chosen `c{id}` (a choice) or `s{id}`
    /// (a value of the scale) for question `q`.
    fn was(&self, q: &i64, prefix: char, id: &dyn std::fmt::Display) -> bool {
        let (name, value) = (format!("q{q}"), format!("{prefix}{id}"));
        self.sent.iter().any(|(k, v)| *k == name && *v == value)
    }
    /// The text the refused form had for question `q`.
    fn text_of(&self, q: &i64) -> &str {
        let name = format!("t{q}");
        self.sent
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
}

/// The survey page: its text, and the form, or one's answers.
async fn survey_page(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    error: Option<String>,
    sent: Vec<(String, String)>,
) -> Result<SurveyPage, super::PageError> {
    let user = require_user(state, ctx)?;
    let viewer = user.id;
    let (item, full, leaderboard) = state
        .db
        .run(move |c| {
            let full = survey::full(c, viewer, id)?;
            let row = crate::content::get_visible(c, viewer, id)?;
            let item = crate::feed::hydrate(c, viewer, vec![row])?
                .pop()
                .ok_or_else(crate::error::AppError::not_found)?;
            let board = if full.view.leaderboard
                && !full.view.remote
                && (full.view.responded || full.view.mine)
            {
                survey::leaderboard(c, viewer, id)?
            } else {
                Vec::new()
            };
            Ok((item, full, board))
        })
        .await
        .page(state, ctx)?;
    Ok(SurveyPage {
        base: Base::new(state, ctx, "survey.label", "feed"),
        item,
        survey: full,
        error,
        sent,
        leaderboard,
        scale: survey::SCALE.collect(),
    })
}

pub async fn show(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> PageResult {
    let id = super::parse_id(&state, &ctx, &id)?;
    let page = survey_page(&state, &ctx, id, None, Vec::new()).await?;
    Ok(render(&page))
}

/// The answers of the form: `q{id}` holds a choice (`c{choice}`, several
/// for a question of several) or a value of the scale (`s{value}`); `t{id}`
/// holds a text, apart, so that no text is ever read as a choice.
fn answers(form: &[(String, String)]) -> Vec<Answer> {
    let mut out: Vec<Answer> = Vec::new();
    for (k, v) in form {
        let (text, q) = match (k.strip_prefix('t'), k.strip_prefix('q')) {
            (Some(q), _) => (true, q),
            (_, Some(q)) => (false, q),
            _ => continue,
        };
        let Ok(q) = q.parse::<i64>() else {
            continue;
        };
        let at = match out.iter().position(|a| a.question == q) {
            Some(i) => i,
            None => {
                out.push(Answer {
                    question: q,
                    ..Answer::default()
                });
                out.len() - 1
            }
        };
        if out.len() > survey::MAX_QUESTIONS {
            // No survey asks more: a form that says otherwise is refused
            // by the survey's rules without more work here.
            break;
        }
        let a = &mut out[at];
        if text {
            a.text = Some(v.clone());
        } else if let Some(choice) = v.strip_prefix('c').and_then(|c| c.parse().ok()) {
            a.choices.push(choice);
        } else if let Some(value) = v.strip_prefix('s').and_then(|s| s.parse().ok()) {
            a.scale = Some(value);
        }
    }
    out
}

pub async fn respond(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let user = require_form(&state, &ctx, field(&form, "csrf"))?.clone();
    let id = super::parse_id(&state, &ctx, &id)?;
    let given = answers(&form);
    let result = state
        .db
        .run(move |c| survey::respond(c, &user, id, &given))
        .await;
    match result {
        Ok(_) => Ok(see_other(&format!("/surveys/{id}#answers"))),
        Err(err) => {
            let status = StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let message = super::error_text(&err, ctx.lang);
            // What is shown again is bounded by what a survey may ask.
            let most = survey::MAX_QUESTIONS * (survey::MAX_CHOICES + 1);
            let sent = form
                .into_iter()
                .filter(|(k, _)| k != "csrf")
                .take(most)
                .collect();
            let page = survey_page(&state, &ctx, id, Some(message), sent).await?;
            Ok((status, render(&page)).into_response())
        }
    }
}

#[derive(serde::Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn close(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    let id = super::parse_id(&state, &ctx, &id)?;
    state
        .db
        .run(move |c| survey::close(c, &user, id))
        .await
        .page(&state, &ctx)?;
    Ok(see_other(&format!("/surveys/{id}")))
}

#[derive(Template)]
#[template(path = "survey_results.html")]
struct ResultsPage {
    base: Base,
    results: survey::Results,
}

pub async fn results(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> PageResult {
    let user = require_user(&state, &ctx)?;
    let id = super::parse_id(&state, &ctx, &id)?;
    let viewer = user.id;
    let results = state
        .db
        .run(move |c| survey::results(c, viewer, id))
        .await
        .page(&state, &ctx)?;
    let page = ResultsPage {
        base: Base::new(&state, &ctx, "survey.results", "feed"),
        results,
    };
    Ok(render(&page))
}

pub async fn export(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> PageResult {
    let user = require_user(&state, &ctx)?;
    let id = super::parse_id(&state, &ctx, &id)?;
    let viewer = user.id;
    let (file, body) = state
        .db
        .run(move |c| survey::csv(c, viewer, id))
        .await
        .page(&state, &ctx)?;
    Ok(crate::web::api::csv_response(&file, body))
}
