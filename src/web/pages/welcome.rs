//! Pages: getting started, in three steps (profile, colleagues,
//! communities), and the words that say why a suggestion is made.

use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Form;
use serde::Deserialize;

use super::account::CsrfForm;
use super::{error_text, render, require_form, require_user, see_other, Base, PageErr, PageResult};
use crate::accounts::User;
use crate::app::AppState;
use crate::error::{AppError, ErrorKind};
use crate::i18n::Tr;
use crate::onboarding::suggestions::{self, CommunitySuggestion, PersonSuggestion, Reason};
use crate::onboarding::{self, Completeness, Step};
use crate::people::{self, ProfileUpdate};
use crate::web::auth::Ctx;

/// Suggestions shown on a step page.
const SHOWN: usize = 12;
/// Longest text field read from the profile step's form.
const MAX_TEXT_FIELD: usize = 16 * 1024;

/// The reason of a suggestion, in the reader's language.
pub fn reason(tr: &Tr, r: &Reason) -> String {
    match r {
        Reason::SameDepartment => tr.t("suggest.same_department").to_string(),
        Reason::SameSite => tr.t("suggest.same_site").to_string(),
        Reason::SharedSkills { skills } => {
            tr.tf1("suggest.shared_skills", "skills", &skills.join(", "))
        }
        Reason::FollowedByYourContacts { count } => tr.count("suggest.followed_by", count),
        Reason::Active { posts } => tr.count("suggest.active", posts),
        Reason::Followers { count } => tr.count("profile.followers", count),
        Reason::Members { count } => tr.count("communities.member_count", count),
        Reason::MembersYouFollow { count } => tr.count("suggest.members_you_follow", count),
        Reason::Open => tr.t("suggest.open").to_string(),
        Reason::OfYourSite => tr.t("suggest.of_your_site").to_string(),
        Reason::AboutYourWork { topic } => tr.tf1("suggest.about", "topic", topic),
    }
}

/// The reasons of a suggestion, the first three, joined.
pub fn reasons(tr: &Tr, list: &[Reason]) -> String {
    list.iter()
        .take(3)
        .map(|r| reason(tr, r))
        .collect::<Vec<_>>()
        .join(" · ")
}

#[derive(Template)]
#[template(path = "welcome.html")]
struct WelcomePage {
    base: Base,
    step: &'static str,
    number: usize,
    /// The steps this person goes through (a guest: the profile only).
    steps: Vec<&'static str>,
    completeness: Completeness,
    user: User,
    skills: String,
    people: Vec<PersonSuggestion>,
    communities: Vec<CommunitySuggestion>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StepQuery {
    step: String,
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<StepQuery>,
) -> PageResult {
    let step = match q.step.as_str() {
        "" => None,
        s => Some(Step::parse(s).page(&state, &ctx)?),
    };
    show(&state, &ctx, step, StatusCode::OK, None, None).await
}

/// The step page; `shown` is the profile step's form as it was sent, with
/// its error.
async fn show(
    state: &AppState,
    ctx: &Ctx,
    step: Option<Step>,
    status: StatusCode,
    shown: Option<(User, String)>,
    error: Option<String>,
) -> PageResult {
    let me = require_user(state, ctx)?.clone();
    let user = me.clone();
    let (progress, steps, skills, people, communities) = state
        .db
        .run(move |c| {
            let progress = onboarding::progress(c, &user)?;
            let steps = onboarding::steps(c, &user)?;
            let step = Some(step.unwrap_or(progress.step))
                .filter(|s| steps.contains(s))
                .unwrap_or(Step::Profile);
            let skills = people::skills_of(c, user.id)?.join(", ");
            let people = match step {
                Step::People => suggestions::people(c, &user, SHOWN)?,
                _ => Vec::new(),
            };
            let communities = match step {
                Step::Communities => suggestions::communities(c, &user, SHOWN)?,
                _ => Vec::new(),
            };
            Ok((
                onboarding::Progress { step, ..progress },
                steps,
                skills,
                people,
                communities,
            ))
        })
        .await
        .page(state, ctx)?;
    let (user, skills) = shown.unwrap_or((me, skills));
    let step = progress.step;
    let page = WelcomePage {
        base: Base::new(state, ctx, "welcome.title", ""),
        step: step.as_str(),
        number: step.number(),
        steps: steps.into_iter().map(Step::as_str).collect(),
        completeness: progress.completeness,
        user,
        skills,
        people,
        communities,
        error,
    };
    Ok((status, render(&page)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StepForm {
    csrf: String,
    step: String,
}

/// Moves to another step (next, back, or skipping one).
pub async fn go(State(state): State<AppState>, ctx: Ctx, Form(f): Form<StepForm>) -> PageResult {
    let me = require_form(&state, &ctx, &f.csrf)?.clone();
    let step = Step::parse(&f.step).page(&state, &ctx)?;
    state
        .db
        .run(move |c| onboarding::reach(c, &me, step))
        .await
        .page(&state, &ctx)?;
    Ok(see_other(&format!("/welcome?step={}", step.as_str())))
}

/// Ends getting started (or hides it for good): back to the feed.
pub async fn finish(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    let me = require_form(&state, &ctx, &f.csrf)?.clone();
    state
        .db
        .run(move |c| onboarding::finish(c, &me))
        .await
        .page(&state, &ctx)?;
    Ok(see_other("/"))
}

/// The profile step's form: the fields colleagues look for and a photo,
/// in one form (a phone sends a photo from its camera with the rest).
#[derive(Default)]
struct ProfileStep {
    csrf: String,
    display_name: String,
    job_title: String,
    department: String,
    site: String,
    skills: String,
    languages: String,
    bio: String,
    photo: Vec<u8>,
}

async fn read_profile_step(mut form: Multipart, max_photo: usize) -> Result<ProfileStep, AppError> {
    let too_large = || {
        AppError::new(ErrorKind::PayloadTooLarge, "photo_too_large")
            .with("max_mb", max_photo / (1024 * 1024))
    };
    let invalid = || AppError::bad_request("form_invalid");
    let mut out = ProfileStep::default();
    loop {
        let mut field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(_) => return Err(invalid()),
        };
        let name = field.name().unwrap_or_default().to_string();
        let limit = if name == "photo" {
            max_photo
        } else {
            MAX_TEXT_FIELD
        };
        let mut buf = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|_| invalid())? {
            if buf.len() + chunk.len() > limit {
                return Err(if name == "photo" {
                    too_large()
                } else {
                    AppError::bad_request("field_too_long")
                        .with("field", name)
                        .with("max", MAX_TEXT_FIELD)
                });
            }
            buf.extend_from_slice(&chunk);
        }
        if name == "photo" {
            out.photo = buf;
            continue;
        }
        let text = String::from_utf8(buf).map_err(|_| invalid())?;
        match name.as_str() {
            "csrf" => out.csrf = text,
            "display_name" => out.display_name = text,
            "job_title" => out.job_title = text,
            "department" => out.department = text,
            "site" => out.site = text,
            "skills" => out.skills = text,
            "languages" => out.languages = text,
            "bio" => out.bio = text,
            _ => {}
        }
    }
    Ok(out)
}

/// Saves the profile step (fields and, when one was chosen, the photo) and
/// moves to the next step; on an error, the same step with what was typed.
pub async fn profile(State(state): State<AppState>, ctx: Ctx, form: Multipart) -> PageResult {
    let max = state.config.people.max_photo_bytes;
    let mut f = match read_profile_step(form, max).await {
        Ok(f) => f,
        Err(err) => {
            require_user(&state, &ctx)?;
            let status = StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let msg = error_text(&err, ctx.lang);
            return show(&state, &ctx, Some(Step::Profile), status, None, Some(msg)).await;
        }
    };
    let me = require_form(&state, &ctx, &f.csrf)?.clone();
    let up = ProfileUpdate {
        display_name: Some(f.display_name.clone()),
        job_title: Some(f.job_title.clone()),
        department: Some(f.department.clone()),
        site: Some(f.site.clone()),
        bio: Some(f.bio.clone()),
        skills: Some(people::split_list(&f.skills)),
        languages: Some(people::split_list(&f.languages)),
        ..ProfileUpdate::default()
    };
    let (me2, photo) = (me.clone(), std::mem::take(&mut f.photo));
    let result = state
        .db
        .run(move |c| {
            let user = people::update_profile_and_photo(c, &me2, up, &photo, max)?;
            onboarding::profile_done(c, &user)
        })
        .await;
    match result {
        Ok(Some(next)) => Ok(see_other(&format!("/welcome?step={}", next.as_str()))),
        Ok(None) => Ok(see_other("/")),
        Err(err) if err.kind != ErrorKind::Internal => {
            let status = StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let msg = error_text(&err, ctx.lang);
            let mut shown = me;
            shown.display_name = f.display_name;
            shown.job_title = f.job_title;
            shown.department = f.department;
            shown.site = f.site;
            shown.languages = f.languages;
            shown.bio = f.bio;
            let shown = Some((shown, f.skills));
            show(&state, &ctx, Some(Step::Profile), status, shown, Some(msg)).await
        }
        Err(err) => Err(err).page(&state, &ctx),
    }
}

/// An empty list of people, for a page that suggests communities only.
pub fn no_people() -> Vec<PersonSuggestion> {
    Vec::new()
}

/// An empty list of communities, for a page that suggests people only.
pub fn no_communities() -> Vec<CommunitySuggestion> {
    Vec::new()
}
