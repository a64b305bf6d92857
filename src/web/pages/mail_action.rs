//! The page of a one-click link from an e-mail (`/mail/do/{token}`): it
//! says what happened, who acts and what the link will do, with one
//! button. Opening it changes nothing; the button's POST spends the link
//! and does the action through the same functions as the site's buttons.
//! No sign-in and no form token: the secret in the address is the
//! authority, for this one action (see `actions`).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{error_text, render, Base};
use crate::actions::{self, Action, Found, Target};
use crate::app::AppState;
use crate::communities::membership::{self, Act};
use crate::error::{AppError, AppResult};
use crate::federation::group_moderation as gm;
use crate::i18n::{self, Lang};
use crate::web::auth::Ctx;
use crate::{content, follows};

#[derive(Template)]
#[template(path = "mail_action.html")]
struct ActionPage {
    base: Base,
    token: String,
    /// What the notification said, and the words it quoted.
    what: String,
    quote: String,
    /// Who acts (the link's person).
    who: String,
    /// The question and the button, while the link may be used.
    ask: Option<(String, String)>,
    /// What was done, or why not.
    done: String,
    error: String,
    used: bool,
    stale: bool,
    /// The page of what it is about: (label, path).
    open: Option<(String, String)>,
}

impl ActionPage {
    fn new(state: &AppState, ctx: &Ctx, token: String) -> ActionPage {
        ActionPage {
            base: Base::new(state, ctx, "mail.action_title", ""),
            token,
            what: String::new(),
            quote: String::new(),
            who: String::new(),
            ask: None,
            done: String::new(),
            error: String::new(),
            used: false,
            stale: false,
            open: None,
        }
    }

    /// Fills in what the link is about.
    fn about(mut self, lang: Lang, t: &Target) -> ActionPage {
        self.what = t.notice.what(lang);
        self.quote = t
            .notice
            .content
            .as_ref()
            .map(|(_, text, _)| text.clone())
            .unwrap_or_default();
        let name = match t.user.display_name.trim() {
            "" => format!("@{}", t.user.username),
            shown => format!("{shown} (@{})", t.user.username),
        };
        self.who = i18n::tf(lang, "mail.action_as", &[("name", name)]);
        let (label, path) = t.notice.page();
        self.open = Some((i18n::t(lang, label).to_string(), path));
        self
    }
}

impl ActionPage {
    /// A link that was used, or no longer fits.
    fn closed(self, lang: Lang, t: &Target, stale: bool) -> ActionPage {
        let mut page = self.about(lang, t);
        page.used = !stale;
        page.stale = stale;
        page
    }

    /// An error, shown on the page with its status.
    fn failed(mut self, lang: Lang, e: &AppError) -> (StatusCode, ActionPage) {
        self.error = error_text(e, lang);
        let status =
            StatusCode::from_u16(e.kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, self)
    }
}

/// The words of an action: its question or its outcome.
fn words(lang: Lang, what: &str, t: &Target) -> String {
    i18n::tf(
        lang,
        &format!("mail.action_{what}_{}", t.action.as_str()),
        &[
            ("actor", t.notice.actor.clone()),
            ("community", t.notice.community_title()),
        ],
    )
}

pub async fn page(State(state): State<AppState>, ctx: Ctx, Path(token): Path<String>) -> Response {
    let t = token.clone();
    let found = state.db.run(move |c| actions::look(c, &t)).await;
    let lang = ctx.lang;
    let page = ActionPage::new(&state, &ctx, token);
    let (status, page) = match found {
        Ok(Some(Found::Open(t))) => {
            let mut page = page.about(lang, &t);
            page.ask = Some((
                words(lang, "ask", &t),
                i18n::t(lang, &format!("mail.do_{}", t.action.as_str())).to_string(),
            ));
            (StatusCode::OK, page)
        }
        Ok(Some(Found::Used(t))) => (StatusCode::OK, page.closed(lang, &t, false)),
        Ok(Some(Found::Stale(t))) => (StatusCode::OK, page.closed(lang, &t, true)),
        Ok(None) => (StatusCode::NOT_FOUND, page),
        Err(e) => page.failed(lang, &e),
    };
    (status, render(&page)).into_response()
}

/// The button: spends the link, does the action, says what was done. A
/// refused action gives the link back and says why.
pub async fn act(State(state): State<AppState>, ctx: Ctx, Path(token): Path<String>) -> Response {
    let lang = ctx.lang;
    let t = token.clone();
    let claimed = state.db.run(move |c| actions::claim(c, &t)).await;
    let page = ActionPage::new(&state, &ctx, token.clone());
    let (status, page) = match claimed {
        Ok(None) => (StatusCode::NOT_FOUND, page),
        Ok(Some(Found::Used(t))) => (StatusCode::CONFLICT, page.closed(lang, &t, false)),
        Ok(Some(Found::Stale(t))) => (StatusCode::CONFLICT, page.closed(lang, &t, true)),
        Ok(Some(Found::Open(t))) => {
            let mut page = page.about(lang, &t);
            let result = match perform(&state, &t).await {
                Ok(()) => {
                    let t2 = t.clone();
                    state.db.run(move |c| actions::done(c, &t2)).await
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => {
                    page.done = words(lang, "done", &t);
                    (StatusCode::OK, page)
                }
                Err(e) => {
                    let (tok, t2) = (token.clone(), t.clone());
                    if let Err(again) = state.db.run(move |c| actions::release(c, &tok, &t2)).await
                    {
                        tracing::warn!(error = %again, "could not give a one-click link back");
                    }
                    page.failed(lang, &e)
                }
            }
        }
        Err(e) => page.failed(lang, &e),
    };
    (status, render(&page)).into_response()
}

/// Does the action as the link's person, with their rights now.
async fn perform(state: &AppState, t: &Target) -> AppResult<()> {
    let user = t.user.clone();
    let community = t.community().map(str::to_string);
    let actor = t.notice.actor_username.clone();
    match t.action {
        Action::Like => {
            let id = t.content_id().ok_or_else(AppError::not_found)?;
            state
                .db
                .run(move |c| content::react(c, user.id, id, "like", true))
                .await
        }
        Action::FollowBack => {
            state
                .db
                .run(move |c| follows::follow(c, &user, &actor))
                .await
        }
        Action::Accept => {
            let name = community.ok_or_else(AppError::not_found)?;
            state
                .db
                .run(move |c| membership::join(c, &user, &name).map(|_| ()))
                .await
        }
        Action::Approve | Action::Refuse => {
            let name = community.ok_or_else(AppError::not_found)?;
            let act = match t.action {
                Action::Approve => Act::Approve,
                _ => Act::Refuse,
            };
            gm::member_act(state, &user, &name, &actor, act)
                .await
                .map(|_| ())
        }
        Action::ReadIt => {
            let id = t.content_id().ok_or_else(AppError::not_found)?;
            state
                .db
                .run(move |c| content::must_read::confirm(c, &user, id).map(|_| ()))
                .await
        }
        Action::MarkRead => Ok(()),
    }
}
