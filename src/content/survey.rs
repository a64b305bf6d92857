//! Surveys and quizzes, a kind of the content envelope (`kind =
//! 'survey'`): a title, the post's text as its introduction, and several
//! questions, each of choices (one or several), a scale from 1 to 5 or a
//! short text. A **quiz** is a survey whose questions have right answers
//! and an explanation: each response gets a score, and the best scores
//! may be shown (a leaderboard its author may turn off). They belong to
//! the polls app of the kit (`App::Polls`): polls, surveys and quizzes are
//! switched on and off together.
//!
//! - **Asking**: one to [`MAX_QUESTIONS`] questions; a question of choices
//!   has two to [`MAX_CHOICES`] distinct ones. A quiz asks choices only,
//!   says which are right (exactly one when one answer is taken) and
//!   every question of it must be answered.
//! - **Responding**: once, while it is open, in a community only by its
//!   members; the answers are checked against the survey's own questions
//!   and choices ([`check_answers`]), whoever sends them (this site's
//!   pages and API, or another instance for its people,
//!   [`respond_remote`]).
//! - **Results**: its author sees them for each question (counts and
//!   shares, the scale's spread and average, the texts) and downloads
//!   every response as CSV; who answered what is left out of both when
//!   the survey is anonymous. A respondent sees their own answers and,
//!   for a quiz, their score, the right answers and the explanations.
//! - **Another instance's survey**: its questions are those it published;
//!   our people's responses are kept here (so that they answer once and
//!   see what they answered, and their score, counted here with the right
//!   answers it published) and sent to it, where its author sees them.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::{get_visible, publish, require_member, ContentRow, Detail, Place, Text};
use crate::accounts::User;
use crate::apps::{self, App};
use crate::db::schema::{
    community_members, content, survey_answers, survey_choices, survey_questions, survey_responses,
    surveys, users,
};
use crate::db::{self, now, DbConn};
use crate::error::{refuse_nul, AppError, AppResult};
use crate::events::{self, Event};

/// Questions a survey asks, at most.
pub const MAX_QUESTIONS: usize = 30;
/// Choices a question of choices offers, at least and at most.
pub const MIN_CHOICES: usize = 2;
pub const MAX_CHOICES: usize = 20;
/// Characters of a question, of a choice, of an explanation, of a text
/// answer, at most.
pub const MAX_PROMPT: usize = 300;
pub const MAX_CHOICE_CHARS: usize = 150;
pub const MAX_EXPLANATION: usize = 1000;
pub const MAX_TEXT: usize = 2000;
/// The values of a scale question.
pub const SCALE: std::ops::RangeInclusive<i32> = 1..=5;
/// How far a survey may stay open, at most.
pub const MAX_DAYS: i64 = 366;
/// The best scores a leaderboard shows.
pub const LEADERBOARD: i64 = 20;
/// The text answers of a question its results list, newest first.
pub const MAX_TEXTS_SHOWN: i64 = 500;
/// The responses a CSV export holds, at most (oldest first).
pub const MAX_EXPORT: i64 = 100_000;

/// What a question asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// One of its choices.
    One,
    /// One or more of its choices.
    Several,
    /// A value from 1 to 5.
    Scale,
    /// A short text.
    Text,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::One, Kind::Several, Kind::Scale, Kind::Text];

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::One => "one",
            Kind::Several => "several",
            Kind::Scale => "scale",
            Kind::Text => "text",
        }
    }
    pub fn has_choices(self) -> bool {
        matches!(self, Kind::One | Kind::Several)
    }
}

/// A question as asked.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewQuestion {
    /// `one`, `several`, `scale` or `text`.
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub prompt: String,
    /// Its choices, in order (questions of choices only).
    #[serde(default)]
    pub choices: Vec<String>,
    /// In a quiz, the positions (from 0) of its right choices.
    #[serde(default)]
    pub correct: Vec<usize>,
    /// In a quiz, what is shown once it is answered.
    #[serde(default)]
    pub explanation: String,
    /// Whether it may be left unanswered (never in a quiz).
    #[serde(default)]
    pub optional: bool,
}

/// A survey or a quiz as asked (the API's body, the page's form once read).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewSurvey {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub quiz: bool,
    /// Whether a quiz shows its best scores (on unless turned off).
    #[serde(default)]
    pub leaderboard: Option<bool>,
    /// Whether the results leave out who answered what.
    #[serde(default)]
    pub anonymous: bool,
    /// When it closes (RFC 3339); open until its author closes it when
    /// absent.
    #[serde(default)]
    pub closes_at: Option<chrono::DateTime<chrono::FixedOffset>>,
    #[serde(default)]
    pub questions: Vec<NewQuestion>,
}

/// A question whose text and choices were checked.
#[derive(Debug, Clone)]
pub struct CheckedQuestion {
    pub kind: Kind,
    pub prompt: String,
    /// Its choices and whether each is right.
    pub choices: Vec<(String, bool)>,
    pub explanation: String,
    pub optional: bool,
}

/// A survey whose questions and dates were checked.
#[derive(Debug, Clone)]
pub struct Checked {
    pub title: String,
    pub quiz: bool,
    pub leaderboard: bool,
    pub anonymous: bool,
    pub closes_at: Option<NaiveDateTime>,
    pub questions: Vec<CheckedQuestion>,
}

fn too_long(code: &'static str, n: usize, max: usize) -> AppError {
    AppError::bad_request(code).with("n", n).with("max", max)
}

impl NewQuestion {
    /// Checks question number `n` (from 1) of a survey or a quiz.
    fn check(&self, n: usize, quiz: bool) -> AppResult<CheckedQuestion> {
        refuse_nul("prompt", &self.prompt)?;
        refuse_nul("explanation", &self.explanation)?;
        let prompt = self.prompt.trim().to_string();
        if prompt.is_empty() {
            return Err(AppError::bad_request("survey_prompt_required").with("n", n));
        }
        if prompt.chars().count() > MAX_PROMPT {
            return Err(too_long("survey_prompt_too_long", n, MAX_PROMPT));
        }
        let kind = Kind::parse(&self.kind).ok_or_else(|| {
            AppError::bad_request("survey_kind_invalid")
                .with("n", n)
                .with("kinds", "one, several, scale, text")
        })?;
        let explanation = self.explanation.trim().to_string();
        if quiz {
            if !kind.has_choices() {
                return Err(AppError::bad_request("quiz_kind_invalid").with("n", n));
            }
            if explanation.chars().count() > MAX_EXPLANATION {
                return Err(too_long("quiz_explanation_too_long", n, MAX_EXPLANATION));
            }
        } else if !self.correct.is_empty() || !explanation.is_empty() {
            return Err(AppError::bad_request("survey_not_quiz").with("n", n));
        }
        let mut choices = Vec::new();
        if kind.has_choices() {
            for c in &self.choices {
                refuse_nul("choices", c)?;
            }
            let labels: Vec<&str> = self
                .choices
                .iter()
                .map(|c| c.trim())
                .filter(|c| !c.is_empty())
                .collect();
            if labels.len() < MIN_CHOICES || labels.len() > MAX_CHOICES {
                return Err(AppError::bad_request("survey_choices_count")
                    .with("n", n)
                    .with("min", MIN_CHOICES)
                    .with("max", MAX_CHOICES));
            }
            if labels.iter().any(|l| l.chars().count() > MAX_CHOICE_CHARS) {
                return Err(too_long("survey_choice_too_long", n, MAX_CHOICE_CHARS));
            }
            let mut keys: Vec<String> = labels.iter().map(|l| l.to_lowercase()).collect();
            keys.sort();
            keys.dedup();
            if keys.len() != labels.len() {
                return Err(AppError::bad_request("survey_choices_repeated").with("n", n));
            }
            // The positions of the right ones are those of the choices
            // as written, empty lines left out.
            if quiz {
                let mut right = self.correct.clone();
                right.sort_unstable();
                right.dedup();
                if right.is_empty() || right.iter().any(|i| *i >= labels.len()) {
                    return Err(AppError::bad_request("quiz_correct_required").with("n", n));
                }
                if kind == Kind::One && right.len() != 1 {
                    return Err(AppError::bad_request("quiz_one_correct").with("n", n));
                }
            }
            choices = labels
                .iter()
                .enumerate()
                .map(|(i, l)| (l.to_string(), self.correct.contains(&i)))
                .collect();
        } else if self.choices.iter().any(|c| !c.trim().is_empty()) {
            return Err(AppError::bad_request("survey_choices_unexpected").with("n", n));
        }
        Ok(CheckedQuestion {
            kind,
            prompt,
            choices,
            explanation,
            optional: self.optional && !quiz,
        })
    }
}

impl NewSurvey {
    /// Checks the title, each question and the closing date.
    pub fn check(&self) -> AppResult<Checked> {
        let title = super::check_title(&self.title)?;
        let n = self.questions.len();
        if n == 0 || n > MAX_QUESTIONS {
            return Err(AppError::bad_request("survey_questions_count")
                .with("max", MAX_QUESTIONS)
                .with("count", n));
        }
        let questions = self
            .questions
            .iter()
            .enumerate()
            .map(|(i, q)| q.check(i + 1, self.quiz))
            .collect::<AppResult<Vec<_>>>()?;
        let at = now();
        let closes_at = self.closes_at.map(|t| t.naive_utc());
        if closes_at.is_some_and(|t| {
            t <= at + chrono::Duration::minutes(5) || t > at + chrono::Duration::days(MAX_DAYS)
        }) {
            return Err(AppError::bad_request("survey_closes_invalid").with("max_days", MAX_DAYS));
        }
        Ok(Checked {
            title,
            quiz: self.quiz,
            leaderboard: self.quiz && !self.anonymous && self.leaderboard.unwrap_or(true),
            anonymous: self.anonymous,
            closes_at,
            questions,
        })
    }
}

/// Asks a survey or a quiz to an audience of people (`Place::Audience`) or
/// in a community (`Place::Community`: the caller checked that the author
/// is a member). The text introduces it and may be empty.
pub fn create(
    conn: &mut DbConn,
    max_chars: usize,
    author: &User,
    text: &Text,
    place: Place,
    survey: &NewSurvey,
) -> AppResult<ContentRow> {
    let community = match place {
        Place::Community(id) => Some(id),
        Place::Audience(_) => None,
    };
    apps::require(conn, App::Polls, community)?;
    let checked = survey.check()?;
    publish(
        conn,
        max_chars,
        author,
        text,
        place,
        &[],
        Detail::Survey(&checked),
    )
}

/// Stores what a new survey adds (inside the transaction that writes its
/// content row, ours or another instance's).
pub(super) fn store(c: &mut DbConn, id: i64, s: &Checked) -> AppResult<()> {
    diesel::insert_into(surveys::table)
        .values((
            surveys::content_id.eq(id),
            surveys::title.eq(&s.title),
            surveys::quiz.eq(s.quiz),
            surveys::leaderboard.eq(s.leaderboard),
            surveys::anonymous.eq(s.anonymous),
            surveys::closes_at.eq(s.closes_at),
            surveys::respondents.eq(0i64),
        ))
        .execute(c)?;
    for (i, q) in s.questions.iter().enumerate() {
        let qid: i64 = diesel::insert_into(survey_questions::table)
            .values((
                survey_questions::content_id.eq(id),
                survey_questions::position.eq(i as i32),
                survey_questions::kind.eq(q.kind.as_str()),
                survey_questions::prompt.eq(&q.prompt),
                survey_questions::optional.eq(q.optional),
                survey_questions::explanation.eq(&q.explanation),
            ))
            .returning(survey_questions::id)
            .get_result(c)?;
        for (j, (label, correct)) in q.choices.iter().enumerate() {
            diesel::insert_into(survey_choices::table)
                .values((
                    survey_choices::question_id.eq(qid),
                    survey_choices::position.eq(j as i32),
                    survey_choices::label.eq(label),
                    survey_choices::correct.eq(correct),
                ))
                .execute(c)?;
        }
    }
    Ok(())
}

/// Gives a survey a new title (inside the transaction of its edit).
pub(super) fn retitle(c: &mut DbConn, id: i64, title: &str) -> AppResult<()> {
    diesel::update(surveys::table.find(id))
        .set(surveys::title.eq(title))
        .execute(c)?;
    Ok(())
}

/// A deleted survey loses its title, its questions and every response
/// (inside the transaction that empties its content row).
pub(super) fn forget(c: &mut DbConn, id: i64) -> AppResult<()> {
    let responses = survey_responses::table
        .filter(survey_responses::content_id.eq(id))
        .select(survey_responses::id);
    diesel::delete(survey_answers::table.filter(survey_answers::response_id.eq_any(responses)))
        .execute(c)?;
    diesel::delete(survey_responses::table.filter(survey_responses::content_id.eq(id)))
        .execute(c)?;
    let questions = survey_questions::table
        .filter(survey_questions::content_id.eq(id))
        .select(survey_questions::id);
    diesel::delete(survey_choices::table.filter(survey_choices::question_id.eq_any(questions)))
        .execute(c)?;
    diesel::delete(survey_questions::table.filter(survey_questions::content_id.eq(id)))
        .execute(c)?;
    // Closed too: a response racing the deletion finds it so, under the
    // survey's lock.
    diesel::update(surveys::table.find(id))
        .set((
            surveys::title.eq(""),
            surveys::respondents.eq(0i64),
            surveys::closed_at.eq(Some(now())),
        ))
        .execute(c)?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = surveys)]
struct SurveyRow {
    content_id: i64,
    title: String,
    quiz: bool,
    leaderboard: bool,
    anonymous: bool,
    closes_at: Option<NaiveDateTime>,
    closed_at: Option<NaiveDateTime>,
    respondents: i64,
}

impl SurveyRow {
    fn closed(&self, at: NaiveDateTime) -> bool {
        self.closed_at.is_some() || self.closes_at.is_some_and(|t| t <= at)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = survey_questions)]
struct QuestionRow {
    id: i64,
    position: i32,
    kind: String,
    prompt: String,
    optional: bool,
    explanation: String,
}

impl QuestionRow {
    fn kind(&self) -> Kind {
        Kind::parse(&self.kind).unwrap_or(Kind::Text)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = survey_choices)]
struct ChoiceRow {
    id: i64,
    question_id: i64,
    label: String,
    correct: bool,
}

/// One stored answer: a choice picked, a value of a scale or a text.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = survey_answers)]
struct AnswerRow {
    response_id: i64,
    question_id: i64,
    choice_id: Option<i64>,
    scale: Option<i32>,
    text: Option<String>,
}

fn questions_of(c: &mut DbConn, id: i64) -> AppResult<(Vec<QuestionRow>, Vec<ChoiceRow>)> {
    let questions: Vec<QuestionRow> = survey_questions::table
        .filter(survey_questions::content_id.eq(id))
        .order(survey_questions::position.asc())
        .select(QuestionRow::as_select())
        .load(c)?;
    let ids: Vec<i64> = questions.iter().map(|q| q.id).collect();
    let choices = survey_choices::table
        .filter(survey_choices::question_id.eq_any(&ids))
        .order((survey_choices::question_id, survey_choices::position))
        .select(ChoiceRow::as_select())
        .load(c)?;
    Ok((questions, choices))
}

/// A survey as a feed shows it.
#[derive(Debug, Clone, Serialize)]
pub struct View {
    pub title: String,
    pub quiz: bool,
    pub anonymous: bool,
    /// Whether a quiz shows its best scores.
    pub leaderboard: bool,
    #[serde(serialize_with = "crate::db::utc::option")]
    pub closes_at: Option<NaiveDateTime>,
    pub closed: bool,
    pub questions: i64,
    /// How many responded (for another instance's survey: here).
    pub respondents: i64,
    /// Whether the reader responded.
    pub responded: bool,
    /// The reader's score in a quiz they answered, out of `questions`.
    pub score: Option<i32>,
    /// Whether the reader may respond now.
    pub may_respond: bool,
    /// Whether the reader is its author (who sees the results).
    pub mine: bool,
    /// Whether the reader may close it (its author, while it is open).
    pub may_close: bool,
    /// A survey of another instance.
    pub remote: bool,
}

/// The surveys among content rows, as `viewer` sees them (a few queries
/// for a page of a feed, none when it has no survey).
pub fn views(
    conn: &mut DbConn,
    viewer: i64,
    rows: &[&ContentRow],
) -> AppResult<HashMap<i64, View>> {
    let ids: Vec<i64> = rows
        .iter()
        .filter(|r| r.kind == "survey" && r.deleted_at.is_none())
        .map(|r| r.id)
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let found: Vec<SurveyRow> = surveys::table
        .filter(surveys::content_id.eq_any(&ids))
        .select(SurveyRow::as_select())
        .load(conn)?;
    let counts: Vec<(i64, i64)> = survey_questions::table
        .filter(survey_questions::content_id.eq_any(&ids))
        .group_by(survey_questions::content_id)
        .select((survey_questions::content_id, diesel::dsl::count_star()))
        .load(conn)?;
    let mine: Vec<(i64, Option<i32>)> = survey_responses::table
        .filter(survey_responses::content_id.eq_any(&ids))
        .filter(survey_responses::user_id.eq(viewer))
        .select((survey_responses::content_id, survey_responses::score))
        .load(conn)?;
    let mut communities: Vec<i64> = rows.iter().filter_map(|r| r.community_id).collect();
    communities.sort_unstable();
    communities.dedup();
    let member_of: Vec<i64> = if communities.is_empty() {
        Vec::new()
    } else {
        community_members::table
            .filter(community_members::user_id.eq(viewer))
            .filter(community_members::status.eq("member"))
            .filter(community_members::community_id.eq_any(&communities))
            .select(community_members::community_id)
            .load(conn)?
    };
    let mut app_on: HashMap<Option<i64>, bool> = HashMap::new();
    let at = now();
    let mut out = HashMap::with_capacity(found.len());
    for s in found {
        let Some(row) = rows.iter().find(|r| r.id == s.content_id) else {
            continue;
        };
        let on = match app_on.get(&row.community_id) {
            Some(on) => *on,
            None => {
                let on = apps::enabled(conn, App::Polls, row.community_id)?;
                app_on.insert(row.community_id, on);
                on
            }
        };
        let response = mine.iter().find(|(id, _)| *id == s.content_id);
        let closed = s.closed(at);
        let author = row.author_id == viewer;
        let member = row.community_id.is_none_or(|c| member_of.contains(&c));
        let remote = row.ap_id.is_some();
        out.insert(
            s.content_id,
            View {
                questions: counts
                    .iter()
                    .find(|(id, _)| *id == s.content_id)
                    .map_or(0, |(_, n)| *n),
                respondents: s.respondents,
                responded: response.is_some(),
                score: response.and_then(|(_, score)| *score),
                may_respond: !closed && response.is_none() && member && on && !(s.quiz && author),
                mine: author,
                may_close: author && !closed && !remote,
                remote,
                title: s.title,
                quiz: s.quiz,
                anonymous: s.anonymous,
                leaderboard: s.leaderboard,
                closes_at: s.closes_at,
                closed,
            },
        );
    }
    Ok(out)
}

/// A choice of a question, as a reader sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ChoiceView {
    pub id: i64,
    pub label: String,
    /// Whether it is a right answer of a quiz: shown to its author, to
    /// those who answered it and to everyone once it is closed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correct: Option<bool>,
    /// Whether the reader chose it.
    pub mine: bool,
}

/// A question, as a reader sees it, with their answer once they responded.
#[derive(Debug, Clone, Serialize)]
pub struct QuestionView {
    pub id: i64,
    pub kind: Kind,
    pub prompt: String,
    pub optional: bool,
    pub choices: Vec<ChoiceView>,
    /// A quiz's explanation, when its right answers are shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    /// Whether the reader answered it right (a quiz they answered).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub right: Option<bool>,
    /// The reader's value on a scale question.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale: Option<i32>,
    /// The reader's text answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// A survey with its questions, as a reader sees it.
#[derive(Debug, Clone, Serialize)]
pub struct Full {
    pub id: i64,
    #[serde(flatten)]
    pub view: View,
    pub questions_list: Vec<QuestionView>,
}

/// A visible survey, or 404 (also for content that is not a survey).
fn visible(conn: &mut DbConn, viewer: i64, id: i64) -> AppResult<(ContentRow, SurveyRow)> {
    let row = get_visible(conn, viewer, id)?;
    if row.kind != "survey" || row.deleted_at.is_some() {
        return Err(AppError::not_found());
    }
    let survey = surveys::table
        .find(row.id)
        .select(SurveyRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(AppError::not_found)?;
    Ok((row, survey))
}

/// A survey and its questions as `viewer` sees them, or 404.
pub fn full(conn: &mut DbConn, viewer: i64, id: i64) -> AppResult<Full> {
    let (row, _) = visible(conn, viewer, id)?;
    let view = views(conn, viewer, &[&row])?
        .remove(&row.id)
        .ok_or_else(AppError::not_found)?;
    let (questions, choices) = questions_of(conn, row.id)?;
    let given: Vec<AnswerRow> = survey_answers::table
        .inner_join(survey_responses::table)
        .filter(survey_responses::content_id.eq(row.id))
        .filter(survey_responses::user_id.eq(viewer))
        .select(AnswerRow::as_select())
        .load(conn)?;
    let reveal = view.quiz && (view.mine || view.responded || view.closed);
    let questions_list = questions
        .iter()
        .map(|q| {
            let own: Vec<&ChoiceRow> = choices.iter().filter(|c| c.question_id == q.id).collect();
            let chosen: Vec<i64> = given
                .iter()
                .filter(|g| g.question_id == q.id)
                .filter_map(|g| g.choice_id)
                .collect();
            let right = own.iter().all(|c| c.correct == chosen.contains(&c.id));
            QuestionView {
                id: q.id,
                kind: q.kind(),
                prompt: q.prompt.clone(),
                optional: q.optional,
                choices: own
                    .iter()
                    .map(|c| ChoiceView {
                        id: c.id,
                        label: c.label.clone(),
                        correct: reveal.then_some(c.correct),
                        mine: chosen.contains(&c.id),
                    })
                    .collect(),
                explanation: (reveal && !q.explanation.is_empty()).then(|| q.explanation.clone()),
                right: (view.quiz && view.responded).then_some(right),
                scale: given
                    .iter()
                    .find(|g| g.question_id == q.id)
                    .and_then(|g| g.scale),
                text: given
                    .iter()
                    .find(|g| g.question_id == q.id)
                    .and_then(|g| g.text.clone()),
            }
        })
        .collect();
    Ok(Full {
        id: row.id,
        view,
        questions_list,
    })
}

/// One answer of a response: to the question `question` (its id), the
/// choices picked, or a value on its scale, or a text.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Answer {
    pub question: i64,
    #[serde(default)]
    pub choices: Vec<i64>,
    #[serde(default)]
    pub scale: Option<i32>,
    #[serde(default)]
    pub text: Option<String>,
}

/// An answer found right for its question, ready to store.
#[derive(Debug, Clone)]
struct Given {
    question: i64,
    choices: Vec<i64>,
    scale: Option<i32>,
    text: Option<String>,
}

/// Checks a response against the survey's questions and choices: each
/// answer to one of its questions, once, of the question's kind, with its
/// choices, within bounds, and every question that is not optional
/// answered. Returns what to store and, for a quiz, its score.
fn check_answers(
    quiz: bool,
    questions: &[QuestionRow],
    choices: &[ChoiceRow],
    answers: &[Answer],
) -> AppResult<(Vec<Given>, Option<i32>)> {
    // One answer per question at most: more is refused before any work.
    if answers.len() > questions.len() {
        return Err(AppError::bad_request("too_many")
            .with("field", "answers")
            .with("max", questions.len()));
    }
    let mut given: Vec<Given> = Vec::new();
    for a in answers {
        let Some((i, q)) = questions
            .iter()
            .enumerate()
            .find(|(_, q)| q.id == a.question)
        else {
            return Err(
                AppError::bad_request("survey_question_unknown").with("question", a.question)
            );
        };
        let n = i + 1;
        if given.iter().any(|g| g.question == q.id) {
            return Err(AppError::bad_request("survey_answer_repeated").with("n", n));
        }
        let kind = q.kind();
        if a.choices.len() > MAX_CHOICES {
            return Err(AppError::bad_request("survey_choice_unknown").with("n", n));
        }
        let mut picked = a.choices.clone();
        picked.sort_unstable();
        picked.dedup();
        let text = a.text.as_deref().map(str::trim).filter(|t| !t.is_empty());
        let shape_ok = match kind {
            Kind::One | Kind::Several => a.scale.is_none() && text.is_none(),
            Kind::Scale => picked.is_empty() && text.is_none(),
            Kind::Text => picked.is_empty() && a.scale.is_none(),
        };
        if !shape_ok {
            return Err(AppError::bad_request("survey_answer_invalid")
                .with("n", n)
                .with("kind", kind.as_str()));
        }
        if picked
            .iter()
            .any(|p| !choices.iter().any(|c| c.id == *p && c.question_id == q.id))
        {
            return Err(AppError::bad_request("survey_choice_unknown").with("n", n));
        }
        if kind == Kind::One && picked.len() > 1 {
            return Err(AppError::bad_request("survey_one_choice").with("n", n));
        }
        if let Some(v) = a.scale {
            if !SCALE.contains(&v) {
                return Err(AppError::bad_request("survey_scale_invalid")
                    .with("n", n)
                    .with("min", SCALE.start())
                    .with("max", SCALE.end()));
            }
        }
        if let Some(t) = text {
            refuse_nul("text", t)?;
            if t.chars().count() > MAX_TEXT {
                return Err(too_long("survey_text_too_long", n, MAX_TEXT));
            }
        }
        if picked.is_empty() && a.scale.is_none() && text.is_none() {
            // Left blank: as if not answered.
            continue;
        }
        given.push(Given {
            question: q.id,
            choices: picked,
            scale: a.scale,
            text: text.map(str::to_string),
        });
    }
    if let Some(n) = questions
        .iter()
        .position(|q| !q.optional && !given.iter().any(|g| g.question == q.id))
    {
        return Err(AppError::bad_request("survey_answer_required").with("n", n + 1));
    }
    let score = quiz.then(|| {
        given
            .iter()
            .filter(|g| {
                choices
                    .iter()
                    .filter(|c| c.question_id == g.question)
                    .all(|c| c.correct == g.choices.contains(&c.id))
            })
            .count() as i32
    });
    Ok((given, score))
}

/// Takes the survey's row lock (inside a write transaction) and reads it
/// then: two responses of one person cannot both pass the check that they
/// did not respond, nor a response the check that it is open while it is
/// being closed.
fn lock(c: &mut DbConn, id: i64) -> AppResult<SurveyRow> {
    diesel::update(surveys::table.find(id))
        .set(surveys::content_id.eq(surveys::content_id))
        .execute(c)?;
    Ok(surveys::table
        .find(id)
        .select(SurveyRow::as_select())
        .first(c)?)
}

/// Stores a checked response (inside the transaction that locked the
/// survey) and counts it. Returns the response's id.
fn store_response(
    c: &mut DbConn,
    id: i64,
    who: i64,
    given: &[Given],
    score: Option<i32>,
    ap_id: Option<&str>,
) -> AppResult<i64> {
    let already: i64 = survey_responses::table
        .filter(survey_responses::content_id.eq(id))
        .filter(survey_responses::user_id.eq(who))
        .count()
        .get_result(c)?;
    if already > 0 {
        return Err(AppError::conflict("survey_answered"));
    }
    let response: i64 = diesel::insert_into(survey_responses::table)
        .values((
            survey_responses::content_id.eq(id),
            survey_responses::user_id.eq(who),
            survey_responses::score.eq(score),
            survey_responses::ap_id.eq(ap_id),
            survey_responses::created_at.eq(now()),
        ))
        .returning(survey_responses::id)
        .get_result(c)?;
    for g in given {
        if g.choices.is_empty() {
            diesel::insert_into(survey_answers::table)
                .values((
                    survey_answers::response_id.eq(response),
                    survey_answers::question_id.eq(g.question),
                    survey_answers::scale.eq(g.scale),
                    survey_answers::text.eq(g.text.as_deref()),
                ))
                .execute(c)?;
        }
        for choice in &g.choices {
            diesel::insert_into(survey_answers::table)
                .values((
                    survey_answers::response_id.eq(response),
                    survey_answers::question_id.eq(g.question),
                    survey_answers::choice_id.eq(Some(choice)),
                ))
                .execute(c)?;
        }
    }
    diesel::update(surveys::table.find(id))
        .set(surveys::respondents.eq(surveys::respondents + 1))
        .execute(c)?;
    Ok(response)
}

/// `who` responds to a survey they may see: once, while it is open, in a
/// community only as its member, never to their own quiz. For a survey of
/// another instance, the response is kept here and sent there.
pub fn respond(conn: &mut DbConn, who: &User, id: i64, answers: &[Answer]) -> AppResult<Full> {
    let (row, survey) = visible(conn, who.id, id)?;
    require_member(conn, who.id, row.community_id)?;
    apps::require(conn, App::Polls, row.community_id)?;
    if survey.quiz && row.author_id == who.id {
        return Err(AppError::forbidden("quiz_own"));
    }
    if survey.closed(now()) {
        return Err(AppError::conflict("survey_closed"));
    }
    let (questions, choices) = questions_of(conn, row.id)?;
    let (given, score) = check_answers(survey.quiz, &questions, &choices, answers)?;
    db::write(conn, |c| {
        if lock(c, row.id)?.closed(now()) {
            return Err(AppError::conflict("survey_closed"));
        }
        let response = store_response(c, row.id, who.id, &given, score, None)?;
        if row.ap_id.is_some() {
            events::record(
                c,
                Event::Responded {
                    person: who.id,
                    response,
                },
            )?;
        }
        Ok(())
    })?;
    full(conn, who.id, id)
}

/// An answer as another instance sends it: questions and choices by their
/// position (from 0), as the survey was published.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentAnswer {
    pub question: usize,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// Positions to ids; an unknown position reads as an unknown id (0), which
/// [`check_answers`] refuses.
fn by_position(
    questions: &[QuestionRow],
    choices: &[ChoiceRow],
    sent: &[SentAnswer],
) -> Vec<Answer> {
    sent.iter()
        .map(|a| {
            let q = questions.iter().find(|q| q.position as usize == a.question);
            let own: Vec<&ChoiceRow> = q
                .map(|q| choices.iter().filter(|c| c.question_id == q.id).collect())
                .unwrap_or_default();
            Answer {
                question: q.map_or(0, |q| q.id),
                choices: a
                    .choices
                    .iter()
                    .map(|i| own.get(*i).map_or(0, |c| c.id))
                    .collect(),
                scale: a.scale,
                text: a.text.clone(),
            }
        })
        .collect()
}

/// A person of another instance responds to a survey of this site (an
/// activity of their instance, `reader`, carrying their answers by
/// position). The rules of [`respond`], where what the person may see is
/// what their instance may see; in a community of this site only its
/// members respond. Returns whether it was stored now (`false`: this very
/// activity was already).
pub fn respond_remote(
    conn: &mut DbConn,
    who: i64,
    reader: &crate::audience::Instance,
    id: i64,
    answers: &[SentAnswer],
    ap_id: &str,
) -> AppResult<bool> {
    let row = super::remote::answered_from_afar(conn, who, reader, id, "survey")?;
    apps::require(conn, App::Polls, row.community_id)?;
    let survey: SurveyRow = surveys::table
        .find(row.id)
        .select(SurveyRow::as_select())
        .first(conn)?;
    let (questions, choices) = questions_of(conn, row.id)?;
    let (given, score) = check_answers(
        survey.quiz,
        &questions,
        &choices,
        &by_position(&questions, &choices, answers),
    )?;
    db::write(conn, |c| {
        if lock(c, row.id)?.closed(now()) {
            return Err(AppError::conflict("survey_closed"));
        }
        let same: i64 = survey_responses::table
            .filter(survey_responses::ap_id.eq(ap_id))
            .count()
            .get_result(c)?;
        if same > 0 {
            return Ok(false);
        }
        store_response(c, row.id, who, &given, score, Some(ap_id))?;
        Ok(true)
    })
}

/// A response of ours to another instance's survey, as it is sent there.
#[derive(Debug, Clone)]
pub struct SentResponse {
    pub survey: ContentRow,
    pub answers: Vec<SentAnswer>,
}

/// What response `id` of `who` says, by position, for its survey's
/// instance; 404 once it is gone.
pub fn sent_response(conn: &mut DbConn, who: i64, id: i64) -> AppResult<SentResponse> {
    let survey: i64 = survey_responses::table
        .find(id)
        .filter(survey_responses::user_id.eq(who))
        .select(survey_responses::content_id)
        .first(conn)
        .optional()?
        .ok_or_else(AppError::not_found)?;
    let (questions, choices) = questions_of(conn, survey)?;
    let rows: Vec<AnswerRow> = survey_answers::table
        .filter(survey_answers::response_id.eq(id))
        .order(survey_answers::id.asc())
        .select(AnswerRow::as_select())
        .load(conn)?;
    let mut answers: Vec<SentAnswer> = Vec::new();
    for q in &questions {
        let own: Vec<&ChoiceRow> = choices.iter().filter(|c| c.question_id == q.id).collect();
        let mine: Vec<&AnswerRow> = rows.iter().filter(|r| r.question_id == q.id).collect();
        if mine.is_empty() {
            continue;
        }
        answers.push(SentAnswer {
            question: q.position as usize,
            choices: mine
                .iter()
                .filter_map(|r| r.choice_id)
                .filter_map(|c| own.iter().position(|o| o.id == c))
                .collect(),
            scale: mine.iter().find_map(|r| r.scale),
            text: mine.iter().find_map(|r| r.text.clone()),
        });
    }
    let survey = content::table
        .find(survey)
        .select(ContentRow::as_select())
        .first(conn)?;
    Ok(SentResponse { survey, answers })
}

/// The author closes their survey before its date; other instances hear
/// of it.
pub fn close(conn: &mut DbConn, actor: &User, id: i64) -> AppResult<Full> {
    let (row, survey) = visible(conn, actor.id, id)?;
    if row.author_id != actor.id || row.ap_id.is_some() {
        return Err(AppError::forbidden("not_author"));
    }
    if survey.closed(now()) {
        return Err(AppError::conflict("survey_closed"));
    }
    db::write(conn, |c| {
        if lock(c, row.id)?.closed(now()) {
            return Err(AppError::conflict("survey_closed"));
        }
        diesel::update(surveys::table.find(row.id))
            .set(surveys::closed_at.eq(Some(now())))
            .execute(c)?;
        events::record(
            c,
            Event::Edited {
                by: actor.id,
                content: row.id,
            },
        )?;
        Ok(())
    })?;
    full(conn, actor.id, id)
}

// ----- What other instances publish and read -----------------------------

/// A survey of another instance as its instance published it, or one of
/// ours as it is published: its questions (with the right answers of a
/// quiz, which the instances of its respondents need to score them) and
/// when it closed.
#[derive(Debug, Clone)]
pub struct Remote {
    pub survey: Checked,
    pub closed_at: Option<NaiveDateTime>,
}

impl Remote {
    /// A survey another instance published, checked by the rules of ours
    /// (its title already on one line and cut): its questions as they
    /// would be asked here, its dates as they are.
    pub fn read(
        title: String,
        quiz: bool,
        leaderboard: bool,
        anonymous: bool,
        closes_at: Option<NaiveDateTime>,
        closed_at: Option<NaiveDateTime>,
        questions: &[NewQuestion],
    ) -> AppResult<Remote> {
        if questions.is_empty() || questions.len() > MAX_QUESTIONS {
            return Err(AppError::bad_request("survey_questions_count")
                .with("max", MAX_QUESTIONS)
                .with("count", questions.len()));
        }
        let questions = questions
            .iter()
            .enumerate()
            .map(|(i, q)| q.check(i + 1, quiz))
            .collect::<AppResult<Vec<_>>>()?;
        Ok(Remote {
            survey: Checked {
                title,
                quiz,
                leaderboard: quiz && leaderboard && !anonymous,
                anonymous,
                closes_at,
                questions,
            },
            closed_at,
        })
    }
}

/// A survey of this site as it is published; `None` when `id` is not one.
pub fn published(conn: &mut DbConn, id: i64) -> AppResult<Option<Remote>> {
    let Some(s) = surveys::table
        .find(id)
        .select(SurveyRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let (questions, choices) = questions_of(conn, id)?;
    let questions = questions
        .iter()
        .map(|q| CheckedQuestion {
            kind: q.kind(),
            prompt: q.prompt.clone(),
            choices: choices
                .iter()
                .filter(|c| c.question_id == q.id)
                .map(|c| (c.label.clone(), c.correct))
                .collect(),
            explanation: q.explanation.clone(),
            optional: q.optional,
        })
        .collect();
    // A survey closed by its date says so once the date is past.
    let closed_at = s.closed_at.or(s.closes_at.filter(|t| *t <= now()));
    Ok(Some(Remote {
        survey: Checked {
            title: s.title,
            quiz: s.quiz,
            leaderboard: s.leaderboard,
            anonymous: s.anonymous,
            closes_at: s.closes_at,
            questions,
        },
        closed_at,
    }))
}

/// Stores a survey another instance published (inside the transaction
/// that writes its content row).
pub(super) fn store_remote(c: &mut DbConn, id: i64, r: &Remote) -> AppResult<()> {
    diesel::update(content::table.find(id))
        .set(content::kind.eq("survey"))
        .execute(c)?;
    store(c, id, &r.survey)?;
    diesel::update(surveys::table.find(id))
        .set(surveys::closed_at.eq(r.closed_at))
        .execute(c)?;
    Ok(())
}

/// Takes what another instance says of its survey now: its title and its
/// dates (its questions, which responses point at, stay as first read).
pub(super) fn refresh_remote(c: &mut DbConn, id: i64, r: &Remote) -> AppResult<()> {
    diesel::update(surveys::table.find(id))
        .set((
            surveys::title.eq(&r.survey.title),
            surveys::closes_at.eq(r.survey.closes_at),
            surveys::closed_at.eq(r.closed_at),
        ))
        .execute(c)?;
    Ok(())
}

// ----- Results, for the author -------------------------------------------

/// How often a choice, or a value of a scale, was given.
#[derive(Debug, Clone, Serialize)]
pub struct Count {
    pub label: String,
    pub count: i64,
    /// Its share of those who answered the question, in percent (rounded).
    pub percent: i64,
    /// Whether it is a right answer (a quiz's choices).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correct: Option<bool>,
}

/// A text answer, with who gave it unless the survey is anonymous (their
/// username: `name@host` for a person of another instance).
#[derive(Debug, Clone, Serialize)]
pub struct TextAnswer {
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub who: Option<String>,
}

/// What the respondents answered to one question.
#[derive(Debug, Clone, Serialize)]
pub struct QuestionResults {
    pub id: i64,
    pub kind: Kind,
    pub prompt: String,
    /// How many answered it.
    pub answered: i64,
    /// Its choices, or the values of its scale, with their counts.
    pub counts: Vec<Count>,
    /// The average of a scale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub average: Option<f64>,
    /// The share of right answers (a quiz), in percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub right_percent: Option<i64>,
    /// Its text answers, newest first (at most [`MAX_TEXTS_SHOWN`]).
    pub texts: Vec<TextAnswer>,
}

/// A survey's results.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub id: i64,
    pub title: String,
    pub quiz: bool,
    pub anonymous: bool,
    pub respondents: i64,
    /// The average score of a quiz.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub average_score: Option<f64>,
    pub questions: Vec<QuestionResults>,
}

/// A survey of this site whose results `viewer`, its author, may read.
fn authored(conn: &mut DbConn, viewer: i64, id: i64) -> AppResult<(ContentRow, SurveyRow)> {
    let (row, survey) = visible(conn, viewer, id)?;
    if row.author_id != viewer || row.ap_id.is_some() {
        return Err(AppError::forbidden("survey_results_author"));
    }
    Ok((row, survey))
}

fn percent(n: i64, of: i64) -> i64 {
    if of > 0 {
        (n * 100 + of / 2) / of
    } else {
        0
    }
}

/// The results of one's survey: for each question, how many answered it
/// and what (counts of choices and values, the texts).
pub fn results(conn: &mut DbConn, viewer: i64, id: i64) -> AppResult<Results> {
    let (row, survey) = authored(conn, viewer, id)?;
    let (questions, choices) = questions_of(conn, row.id)?;
    let responses = survey_responses::table
        .filter(survey_responses::content_id.eq(row.id))
        .select(survey_responses::id);
    // Counted by the database: one row per question and choice, per
    // question and value.
    let by_choice: Vec<(i64, Option<i64>, Option<i32>, i64)> = survey_answers::table
        .filter(survey_answers::response_id.eq_any(responses))
        .filter(survey_answers::text.is_null())
        .group_by((
            survey_answers::question_id,
            survey_answers::choice_id,
            survey_answers::scale,
        ))
        .select((
            survey_answers::question_id,
            survey_answers::choice_id,
            survey_answers::scale,
            diesel::dsl::count_star(),
        ))
        .load(conn)?;
    let responses = survey_responses::table
        .filter(survey_responses::content_id.eq(row.id))
        .select(survey_responses::id);
    let answered: Vec<(i64, i64)> = survey_answers::table
        .filter(survey_answers::response_id.eq_any(responses))
        .group_by(survey_answers::question_id)
        .select((
            survey_answers::question_id,
            diesel::dsl::sql::<diesel::sql_types::BigInt>("COUNT(DISTINCT response_id)"),
        ))
        .load(conn)?;
    let mut out = Vec::with_capacity(questions.len());
    for q in &questions {
        let kind = q.kind();
        let n = answered
            .iter()
            .find(|(id, _)| *id == q.id)
            .map_or(0, |(_, n)| *n);
        let mut counts = Vec::new();
        let mut average = None;
        let mut right_percent = None;
        let mut texts = Vec::new();
        match kind {
            Kind::One | Kind::Several => {
                for c in choices.iter().filter(|c| c.question_id == q.id) {
                    let count = by_choice
                        .iter()
                        .find(|b| b.0 == q.id && b.1 == Some(c.id))
                        .map_or(0, |b| b.3);
                    counts.push(Count {
                        label: c.label.clone(),
                        count,
                        percent: percent(count, n),
                        correct: survey.quiz.then_some(c.correct),
                    });
                }
                if survey.quiz {
                    right_percent = Some(percent(right_answers(conn, row.id, q, &choices)?, n));
                }
            }
            Kind::Scale => {
                let mut sum = 0;
                for v in SCALE {
                    let count = by_choice
                        .iter()
                        .find(|b| b.0 == q.id && b.2 == Some(v))
                        .map_or(0, |b| b.3);
                    sum += count * i64::from(v);
                    counts.push(Count {
                        label: v.to_string(),
                        count,
                        percent: percent(count, n),
                        correct: None,
                    });
                }
                average = (n > 0).then(|| (sum as f64 / n as f64 * 10.0).round() / 10.0);
            }
            Kind::Text => {
                let rows: Vec<(Option<String>, String)> = survey_answers::table
                    .inner_join(survey_responses::table.inner_join(users::table))
                    .filter(survey_answers::question_id.eq(q.id))
                    .filter(survey_answers::text.is_not_null())
                    .order(survey_answers::id.desc())
                    .limit(MAX_TEXTS_SHOWN)
                    .select((survey_answers::text, users::username))
                    .load(conn)?;
                texts = rows
                    .into_iter()
                    .map(|(text, username)| TextAnswer {
                        text: text.unwrap_or_default(),
                        who: (!survey.anonymous).then_some(username),
                    })
                    .collect();
            }
        }
        out.push(QuestionResults {
            id: q.id,
            kind,
            prompt: q.prompt.clone(),
            answered: n,
            counts,
            average,
            right_percent,
            texts,
        });
    }
    let average_score = if survey.quiz {
        let avg: Option<f64> = survey_responses::table
            .filter(survey_responses::content_id.eq(row.id))
            .select(diesel::dsl::sql::<
                diesel::sql_types::Nullable<diesel::sql_types::Double>,
            >("AVG(CAST(score AS DOUBLE PRECISION))"))
            .first(conn)?;
        avg.map(|a| (a * 10.0).round() / 10.0)
    } else {
        None
    };
    Ok(Results {
        id: row.id,
        title: survey.title,
        quiz: survey.quiz,
        anonymous: survey.anonymous,
        respondents: survey.respondents,
        average_score,
        questions: out,
    })
}

/// How many responses answered question `q` of a quiz right: exactly its
/// right choices.
fn right_answers(
    conn: &mut DbConn,
    survey: i64,
    q: &QuestionRow,
    choices: &[ChoiceRow],
) -> AppResult<i64> {
    let rows: Vec<(i64, Option<i64>)> = survey_answers::table
        .inner_join(survey_responses::table)
        .filter(survey_responses::content_id.eq(survey))
        .filter(survey_answers::question_id.eq(q.id))
        .select((survey_answers::response_id, survey_answers::choice_id))
        .load(conn)?;
    let mut right: Vec<i64> = choices
        .iter()
        .filter(|c| c.question_id == q.id && c.correct)
        .map(|c| c.id)
        .collect();
    right.sort_unstable();
    let mut picked: HashMap<i64, Vec<i64>> = HashMap::new();
    for (response, choice) in rows {
        picked.entry(response).or_default().extend(choice);
    }
    for p in picked.values_mut() {
        p.sort_unstable();
    }
    Ok(picked.values().filter(|p| **p == right).count() as i64)
}

/// A cell of CSV: quoted when it holds a separator, a quote or a line
/// break; a leading `=`, `+`, `-`, `@` or tab gets a `'` first, so that a
/// spreadsheet shows it as text and never runs it as a formula.
fn cell(raw: &str) -> String {
    let text = if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{raw}")
    } else {
        raw.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// Every response of one's survey as CSV (UTF-8, one line per response,
/// oldest first): who answered and when (neither for an anonymous one),
/// the score of a quiz, then one column per question (choices joined by
/// `; `).
pub fn csv(conn: &mut DbConn, viewer: i64, id: i64) -> AppResult<(String, String)> {
    let (row, survey) = authored(conn, viewer, id)?;
    let (questions, choices) = questions_of(conn, row.id)?;
    let responses: Vec<(i64, String, NaiveDateTime, Option<i32>)> = survey_responses::table
        .inner_join(users::table)
        .filter(survey_responses::content_id.eq(row.id))
        .order(survey_responses::id.asc())
        .limit(MAX_EXPORT)
        .select((
            survey_responses::id,
            users::username,
            survey_responses::created_at,
            survey_responses::score,
        ))
        .load(conn)?;
    let ids: Vec<i64> = responses.iter().map(|r| r.0).collect();
    let mut answers: HashMap<(i64, i64), Vec<String>> = HashMap::new();
    for chunk in ids.chunks(5_000) {
        let rows: Vec<AnswerRow> = survey_answers::table
            .filter(survey_answers::response_id.eq_any(chunk))
            .order(survey_answers::id.asc())
            .select(AnswerRow::as_select())
            .load(conn)?;
        for a in rows {
            let value = match (a.choice_id, a.scale, a.text) {
                (Some(c), _, _) => choices
                    .iter()
                    .find(|x| x.id == c)
                    .map(|x| x.label.clone())
                    .unwrap_or_default(),
                (_, Some(v), _) => v.to_string(),
                (_, _, Some(t)) => t,
                _ => continue,
            };
            answers
                .entry((a.response_id, a.question_id))
                .or_default()
                .push(value);
        }
    }
    let mut head: Vec<String> = Vec::new();
    if !survey.anonymous {
        head.push("respondent".into());
    }
    // An anonymous survey's export says no time: a time could name whoever
    // answered then.
    if !survey.anonymous {
        head.push("answered_at".into());
    }
    if survey.quiz {
        head.push("score".into());
    }
    head.extend(questions.iter().map(|q| q.prompt.clone()));
    let mut out = String::new();
    out.push_str(&head.iter().map(|h| cell(h)).collect::<Vec<_>>().join(","));
    out.push_str("\r\n");
    for (response, username, at, score) in &responses {
        let mut line: Vec<String> = Vec::new();
        if !survey.anonymous {
            line.push(cell(username));
        }
        if !survey.anonymous {
            line.push(at.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        }
        if survey.quiz {
            line.push(score.map(|s| s.to_string()).unwrap_or_default());
        }
        for q in &questions {
            let v = answers
                .get(&(*response, q.id))
                .map(|v| v.join("; "))
                .unwrap_or_default();
            line.push(cell(&v));
        }
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    Ok((filename(&survey.title), out))
}

/// A file name from a title: its letters and digits, dashes between.
fn filename(title: &str) -> String {
    let slug: String = title
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .take(8)
        .collect::<Vec<_>>()
        .join("-");
    if slug.is_empty() {
        "survey.csv".into()
    } else {
        format!("{slug}.csv")
    }
}

// ----- The leaderboard of a quiz -------------------------------------------

/// A place on a quiz's leaderboard.
#[derive(Debug, Clone, Serialize)]
pub struct Rank {
    pub rank: i64,
    pub username: String,
    pub display_name: String,
    pub score: i32,
    /// Whether it is the reader.
    pub mine: bool,
}

/// The best scores of a quiz of this site (the first responses first among
/// equal scores), shown to its author and to those who answered it, when
/// it keeps a leaderboard; the reader's own place is added when it is
/// further down.
pub fn leaderboard(conn: &mut DbConn, viewer: i64, id: i64) -> AppResult<Vec<Rank>> {
    let (row, survey) = visible(conn, viewer, id)?;
    if !survey.quiz || !survey.leaderboard || row.ap_id.is_some() {
        return Err(AppError::new(
            crate::error::ErrorKind::NotFound,
            "leaderboard_off",
        ));
    }
    let mine: Option<(i64, Option<i32>)> = survey_responses::table
        .filter(survey_responses::content_id.eq(row.id))
        .filter(survey_responses::user_id.eq(viewer))
        .select((survey_responses::id, survey_responses::score))
        .first(conn)
        .optional()?;
    if row.author_id != viewer && mine.is_none() {
        return Err(AppError::forbidden("leaderboard_after_answering"));
    }
    let top: Vec<(i64, String, String, Option<i32>)> = survey_responses::table
        .inner_join(users::table)
        .filter(survey_responses::content_id.eq(row.id))
        .order((survey_responses::score.desc(), survey_responses::id.asc()))
        .limit(LEADERBOARD)
        .select((
            users::id,
            users::username,
            users::display_name,
            survey_responses::score,
        ))
        .load(conn)?;
    let mut out: Vec<Rank> = Vec::with_capacity(top.len() + 1);
    for (uid, username, display_name, score) in top {
        let score = score.unwrap_or(0);
        // Equal scores share a place.
        let rank = match out.last() {
            Some(prev) if prev.score == score => prev.rank,
            _ => out.len() as i64 + 1,
        };
        out.push(Rank {
            rank,
            username,
            display_name,
            score,
            mine: uid == viewer,
        });
    }
    if let Some((_, score)) = mine.filter(|_| !out.iter().any(|r| r.mine)) {
        let score = score.unwrap_or(0);
        let above: i64 = survey_responses::table
            .filter(survey_responses::content_id.eq(row.id))
            .filter(survey_responses::score.gt(score))
            .count()
            .get_result(conn)?;
        let (username, display_name): (String, String) = users::table
            .find(viewer)
            .select((users::username, users::display_name))
            .first(conn)?;
        out.push(Rank {
            rank: above + 1,
            username,
            display_name,
            score,
            mine: true,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{cell, filename};

    #[test]
    fn cells_are_quoted_and_never_formulas() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a, b"), "\"a, b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn file_names_keep_letters_and_digits() {
        assert_eq!(filename("Canteen: 2027 survey!"), "Canteen-2027-survey.csv");
        assert_eq!(filename("Été à Lyon"), "Été-à-Lyon.csv");
        assert_eq!(filename("???"), "survey.csv");
    }
}
