//! The JSON API under `/api/v1`: bearer-token auth, cursor pagination,
//! errors as `{"error": {"code", "message"}}`. Routes are declared once in
//! [`api_routes!`], which builds both the router and the OpenAPI paths.

mod account;
mod admin;
mod communities;
pub mod documents;
mod events;
mod ideas;
pub mod media;
mod must_read;
mod onboarding;
mod people;
mod polls;
mod surveys;
pub use surveys::csv_response;
mod posts;
mod questions;
mod search;
mod second_step;

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;

use crate::app::AppState;
use crate::error::{AppError, ErrorKind};
use crate::i18n::Lang;

/// An error answered as JSON in the caller's language.
pub struct ApiError(pub AppError, pub Lang);

pub type ApiResult<T> = Result<T, ApiError>;

pub use crate::error::message;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let ApiError(err, lang) = self;
        crate::error::json_response(&err, lang)
    }
}

/// Attaches a language to service errors.
pub trait InLang<T> {
    fn lang(self, lang: Lang) -> ApiResult<T>;
}

impl<T> InLang<T> for Result<T, AppError> {
    fn lang(self, lang: Lang) -> ApiResult<T> {
        self.map_err(|e| ApiError(e, lang))
    }
}

/// A JSON body whose rejection is answered in the API's error format.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let lang = super::auth::accept_language(req.headers());
        let fail = |e: AppError| ApiError(e, lang);
        let is_json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|m| m.trim().to_ascii_lowercase())
            .is_some_and(|m| m == "application/json" || m.ends_with("+json"));
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|rej| {
                let kind = if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ErrorKind::PayloadTooLarge
                } else {
                    ErrorKind::BadRequest
                };
                fail(AppError::new(kind, "body_unreadable"))
            })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(fail(AppError::bad_request("json_body_required")));
        }
        if !is_json {
            return Err(fail(AppError::new(
                ErrorKind::UnsupportedMedia,
                "json_content_type",
            )));
        }
        read_json(&bytes).map(JsonBody).map_err(fail)
    }
}

/// Reads a JSON request body as `T`. What is wrong is said in the reader's
/// terms: the field that is missing or not of the expected kind (by its path,
/// `options[2]`), or where the JSON itself breaks; never the parser's own
/// wording.
pub fn read_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let syntax = |e: &serde_json::Error| {
        AppError::bad_request("json_syntax")
            .with("line", e.line())
            .with("column", e.column())
    };
    // serde would read a struct from an array of its fields in order:
    // a call's body is an object.
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') {
        return Err(AppError::bad_request("json_not_object"));
    }
    let mut value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| syntax(&e))?;
    // No text of the API may hold a NUL character (PostgreSQL cannot store
    // one): refused here, once, by the path of the string that has it.
    if let Some(field) = tidy(&mut value, String::new()) {
        return Err(AppError::bad_request("field_invalid").with("field", field));
    }
    // A field this call does not read is refused rather than dropped
    // unseen: a misspelt "visiblity" would otherwise publish to everyone.
    // Only the body's own fields are checked: nested objects (a WebAuthn
    // answer) may carry more than Ruche reads, and a type that takes in
    // another's fields (serde's `flatten`) reads them all.
    let mut unknown: Option<String> = None;
    let read = serde_path_to_error::deserialize::<_, T>(serde_ignored::Deserializer::new(
        value,
        &mut |path: serde_ignored::Path| {
            if let serde_ignored::Path::Map { parent, key } = path {
                if matches!(parent, serde_ignored::Path::Root) && unknown.is_none() {
                    unknown = Some(key);
                }
            }
        },
    ));
    let err = match read {
        Ok(v) => {
            return match unknown {
                Some(field) => Err(AppError::bad_request("field_unknown").with("field", field)),
                None => Ok(v),
            }
        }
        Err(e) => e,
    };
    let path = err.path().to_string();
    let inner = err.inner();
    if inner.classify() != serde_json::error::Category::Data {
        return Err(syntax(inner));
    }
    // serde names a missing field in its message, and only there.
    let message = inner.to_string();
    if let Some(name) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        let field = if path == "." {
            name.to_string()
        } else {
            format!("{path}.{name}")
        };
        return Err(AppError::bad_request("field_missing").with("field", field));
    }
    if path == "." {
        return Err(AppError::bad_request("json_not_object"));
    }
    Err(AppError::bad_request("field_invalid").with("field", path))
}

/// Readies a request body for its type: a number without a fraction
/// written as one (`2.0`, which JSON Schema counts as an integer) becomes an
/// integer; returns where a string with a NUL character is
/// (`answers[0].text`), if anywhere (a member's name counts as text).
fn tidy(v: &mut serde_json::Value, at: String) -> Option<String> {
    let join = |name: &str| {
        if at.is_empty() {
            name.to_string()
        } else {
            format!("{at}.{name}")
        }
    };
    match v {
        serde_json::Value::String(s) => s.contains('\0').then_some(at),
        serde_json::Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
                if f.fract() == 0.0 && (-9.0e15..=9.0e15).contains(&f) {
                    *v = serde_json::Value::from(f as i64);
                }
            }
            None
        }
        serde_json::Value::Array(items) => items
            .iter_mut()
            .enumerate()
            .find_map(|(i, item)| tidy(item, format!("{at}[{i}]"))),
        serde_json::Value::Object(members) => members.iter_mut().find_map(|(name, item)| {
            if name.contains('\0') {
                Some(join(&name.replace('\0', "")))
            } else {
                tidy(item, join(name))
            }
        }),
        _ => None,
    }
}

/// A query string read as `T`, refused in the API's error format (JSON, in
/// the reader's language, naming the parameter at fault) rather than axum's
/// plain-text rejection.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, ApiError> {
        let lang = super::auth::accept_language(&parts.headers);
        let raw = parts.uri.query().unwrap_or("");
        read_query(raw).map(Query).map_err(|e| ApiError(e, lang))
    }
}

/// The longest value a query parameter may have, in characters.
pub const QUERY_MAX: usize = 2000;

/// The last page of the lists that page by number (events, ideas,
/// questions, must-reads).
pub const LAST_PAGE: i64 = 1000;

/// A page number of a list that has at most `last + 1` pages.
pub fn page_of(page: i64, last: i64) -> Result<i64, AppError> {
    if (0..=last).contains(&page) {
        Ok(page)
    } else {
        Err(AppError::bad_request("query_invalid").with("field", "page"))
    }
}

/// Reads a query string as `T`: a parameter given twice, missing or not of
/// the expected kind is named (`query_invalid` with its name).
pub fn read_query<T: DeserializeOwned>(raw: &str) -> Result<T, AppError> {
    let pairs = url::form_urlencoded::parse(raw.as_bytes());
    let mut seen = std::collections::HashSet::new();
    for (name, value) in pairs {
        if name.contains('\0') || value.contains('\0') {
            return Err(
                AppError::bad_request("query_invalid").with("field", name.replace('\0', ""))
            );
        }
        if value.chars().count() > QUERY_MAX {
            return Err(AppError::bad_request("field_too_long")
                .with("field", name)
                .with("max", QUERY_MAX));
        }
        if !seen.insert(name.clone()) {
            return Err(AppError::bad_request("query_twice").with("field", name));
        }
    }
    let de = serde_urlencoded::Deserializer::new(pairs);
    serde_path_to_error::deserialize::<_, T>(de).map_err(|err| {
        let message = err.inner().to_string();
        let field = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
            .map(str::to_string)
            .unwrap_or_else(|| err.path().to_string());
        if message.starts_with("missing field") {
            AppError::bad_request("query_missing").with("field", field)
        } else {
            AppError::bad_request("query_invalid").with("field", field)
        }
    })
}

/// Parses a numeric id from the path; anything else is simply not found.
pub fn parse_id(raw: &str, lang: Lang) -> ApiResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(ApiError(AppError::not_found(), lang))
}

/// A paginated list.
#[derive(serde::Serialize)]
pub struct List<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub struct CursorQuery {
    pub cursor: Option<String>,
}

/// One API route: method, path, summary, whether a token is required, and
/// the name of its JSON request body schema ("" for none).
pub struct RouteDoc {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub auth: bool,
    pub body: &'static str,
}

/// The API's route table, written once: it expands to both the axum
/// router and the route list of the OpenAPI document, so that a route
/// cannot be served without being documented (or the reverse). A macro,
/// because each line names a handler function of its own type, which axum
/// needs at compile time; a function would have to take them boxed and
/// lose the extractors' checks.
macro_rules! api_routes {
    ($( $method:ident $path:literal => $handler:path, $summary:literal, auth: $auth:literal, body: $body:literal; )*) => {
        pub fn router() -> axum::Router<AppState> {
            let r = axum::Router::new();
            $( let r = r.route($path, axum::routing::$method($handler)); )*
            r.fallback(not_found)
                .method_not_allowed_fallback(method_not_allowed)
                .layer(axum::middleware::from_fn(nul_in_path))
        }
        pub const ROUTES: &[RouteDoc] = &[
            $( RouteDoc { method: stringify!($method), path: $path, summary: $summary, auth: $auth, body: $body } ),*
        ];
    };
}

async fn not_found(headers: axum::http::HeaderMap) -> ApiError {
    ApiError(
        AppError::not_found(),
        super::auth::accept_language(&headers),
    )
}

/// A path naming something with a NUL character names nothing: no name,
/// username or tag can hold one.
async fn nul_in_path(req: Request, next: axum::middleware::Next) -> Response {
    if req.uri().path().contains("%00") {
        return not_found(req.headers().clone()).await.into_response();
    }
    next.run(req).await
}

/// A path of the API called with a method it does not answer (the `Allow`
/// header lists those it does).
async fn method_not_allowed(headers: axum::http::HeaderMap) -> ApiError {
    ApiError(
        AppError::new(ErrorKind::MethodNotAllowed, "method_not_allowed"),
        super::auth::accept_language(&headers),
    )
}

async fn openapi_doc(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Json<serde_json::Value> {
    Json(super::openapi::document(&state.config))
}

api_routes! {
    get "/openapi.json" => openapi_doc, "This OpenAPI document", auth: false, body: "";
    post "/accounts" => account::sign_up, "Create an account (follows the sign-up mode)", auth: false, body: "SignUp";
    post "/auth/password/forgot" => account::password_forgot, "Ask for a link to choose a new password, sent by e-mail; the answer (202) is the same whether the account exists or not (409 mail_off when e-mail is off)", auth: false, body: "PasswordForgot";
    post "/auth/password/reset" => account::password_reset, "Choose a new password with the secret of an e-mailed link (it works once; every session of the account ends and its API tokens are revoked)", auth: false, body: "PasswordReset";
    post "/auth/token" => account::token_from_password, "Exchange a username and password for a personal API token", auth: false, body: "PasswordToken";
    get "/me" => account::me, "The authenticated person's profile", auth: true, body: "";
    patch "/me" => account::update_me, "Edit one's profile and language", auth: true, body: "ProfileUpdate";
    put "/me/photo" => account::put_photo, "Upload a profile photo (PNG, JPEG or WebP body, at most 5 MB)", auth: true, body: "";
    delete "/me/photo" => account::delete_photo, "Remove one's profile photo", auth: true, body: "";
    delete "/me" => account::delete_me, "Delete one's account (the password confirms it); other instances are told", auth: true, body: "AccountDelete";
    post "/me/password" => account::change_password, "Change one's password", auth: true, body: "PasswordChange";
    get "/me/onboarding" => onboarding::progress, "Where one stands in getting started: the step to show next, whether it is finished, and how complete one's profile is (percent and the fields still empty)", auth: true, body: "";
    put "/me/onboarding" => onboarding::move_to, "Move to a step of getting started ({\"step\": \"people\"}) or end it ({\"finished\": true})", auth: true, body: "OnboardingMove";
    get "/suggestions/people" => onboarding::people, "People one might follow, best first, each with the reasons (same department or site, shared skills, followed by one's contacts, active, popular); local people and those of the organisation's member instances (?limit=1..50, 10 by default)", auth: true, body: "";
    get "/suggestions/communities" => onboarding::communities, "Communities one might join, best first, each with the reasons (about one's work, joined by people one follows, active, popular, of this site, open); ?limit=1..50, 10 by default", auth: true, body: "";
    get "/me/mail-preferences" => account::mail_preferences, "Which notifications reach one by e-mail: per kind (mention, reply, community_invite, community_request, follow, reaction, community_accepted, community_post, document_updated, poll_closed, idea_status, answer_accepted, event_reminder, event_place, event_changed, must_read, must_read_reminder), now, in the digest or never; how often the digest comes (daily, weekly or never) and when the next is due; and whether the site sends e-mail", auth: true, body: "";
    put "/me/mail-preferences" => account::set_mail_preferences, "Change some of one's e-mail choices ({\"follow\": \"now\", \"digest\": \"weekly\", \"time_zone\": \"Europe/Paris\"}); an unknown kind, choice or time zone changes nothing", auth: true, body: "MailPreferences";
    get "/me/email" => account::email_state, "One's e-mail address, whether it is confirmed (notifications and digests wait until it is), and a new address waiting for its link", auth: true, body: "";
    put "/me/email" => account::change_email, "Change one's address (the password proves it is you): a link goes to the new address, which replaces the old one when it is opened (202); on a site that sends no e-mail it changes at once (200)", auth: true, body: "EmailChange";
    post "/me/email/resend" => account::resend_email, "Send the confirmation link again (at most 5 links an hour)", auth: true, body: "";
    delete "/me/email/pending" => account::cancel_email, "Withdraw a change of address (its link stops working)", auth: true, body: "";
    post "/auth/email/confirm" => account::confirm_email, "Confirm an address with the secret of its e-mailed link (it works once)", auth: false, body: "EmailConfirm";
    get "/me/second-step" => second_step::status, "Where one's second sign-in step stands: on or off, the authenticator app (on, or its setup waiting for a first code), the recovery codes left, one's passkeys, and whether a passkey can be added here (with_password) or only on the pages (on_the_pages: an account that signs in through the company) or not at all", auth: true, body: "";
    post "/me/second-step/app" => second_step::begin_app, "Start setting up the authenticator app: its secret, otpauth:// address and QR code (PNG, base64); a first code turns it on (409 second_factor_on when it already is)", auth: true, body: "";
    post "/me/second-step/app/enable" => second_step::enable_app, "Turn the authenticator app on with a first code of it; answers the ten recovery codes, shown once", auth: true, body: "AppCode";
    delete "/me/second-step/app" => second_step::disable_app, "Turn the authenticator app off (the password confirms it); the recovery codes stay while a passkey keeps the second step on", auth: true, body: "PasswordProof";
    post "/me/passkeys/options" => second_step::add_options, "Start adding a passkey (the password confirms it): the WebAuthn creation options (publicKey) for this site's host and the ceremony to send back, valid 5 minutes, once", auth: true, body: "PasswordProof";
    post "/me/passkeys" => second_step::add, "Finish adding a passkey with the authenticator's answer (WebAuthn JSON) and an optional name; answers the recovery codes when it turned the second step on, else null", auth: true, body: "PasskeyAdd";
    patch "/me/passkeys/{id}" => second_step::rename, "Rename one of one's passkeys", auth: true, body: "PasskeyRename";
    delete "/me/passkeys/{id}" => second_step::remove, "Remove one of one's passkeys (the password confirms it); with the last one, and no authenticator app, the second step is off", auth: true, body: "PasswordProof";
    post "/auth/passkey/options" => second_step::sign_in_options, "Start a sign-in with a passkey (no user name: the authenticator offers the passkeys it holds for this site): the WebAuthn request options and the ceremony", auth: false, body: "";
    post "/auth/passkey" => second_step::token, "Exchange a passkey's answer to a sign-in ceremony for a personal API token (shown once); a wrong or unknown answer, or a disabled account, is 401 passkey_refused alike; a ceremony used already or too old is 400 passkey_expired; 403 passkey_company_again when the company has not vouched for an account without a password of this site within accounts.session_days", auth: false, body: "PasskeyToken";
    get "/me/tokens" => account::list_tokens, "List one's API tokens", auth: true, body: "";
    post "/me/tokens" => account::create_token, "Create an API token (the secret is shown once)", auth: true, body: "TokenCreate";
    delete "/me/tokens/{id}" => account::revoke_token, "Revoke an API token", auth: true, body: "";
    get "/feed" => posts::home_feed, "Home feed: own posts, followed people and one's communities (stream=following, the default); stream=site: everything one may see written on this site; stream=organisation: the same with what the organisation's member sites sent here", auth: true, body: "";
    get "/tags/{tag}" => posts::tag_feed, "Posts carrying a hashtag", auth: true, body: "";
    post "/posts" => posts::create, "Publish a post", auth: true, body: "PostCreate";
    post "/preview" => posts::preview, "What a post or comment body will look like once published (sanitised HTML); nothing is stored", auth: true, body: "PreviewBody";
    get "/mentions" => people::mentions, "Up to 8 people whose username or name starts with q (what follows @), those one follows first; people of blocked instances are left out", auth: true, body: "";
    get "/posts/{id}" => posts::get_one, "A post or comment", auth: true, body: "";
    patch "/posts/{id}" => posts::edit, "Edit one's post or comment (the previous version is kept)", auth: true, body: "PostEdit";
    delete "/posts/{id}" => posts::delete, "Delete a post or comment (author or administrator)", auth: true, body: "";
    get "/posts/{id}/revisions" => posts::revisions, "Earlier versions of a post or comment", auth: true, body: "";
    post "/polls" => polls::create, "Ask a poll: the body is the question; to an audience (visibility) or in a community (community, its members); options (2 to 20 distinct answers), multiple (several answers may be chosen), closes_at (RFC 3339, five minutes to a year away; a week by default), results (voted: shown to those who voted; closed: once it closes), anonymous (nobody sees who chose what). 404 app_disabled when polls are switched off there", auth: true, body: "PollCreate";
    get "/polls/{id}" => polls::get_one, "A poll as the reader sees it: its answers with their votes and shares once the reader may see the results (the author always; others after voting or once it is closed, as the poll says), and who chose what for a named poll of this site", auth: true, body: "";
    post "/polls/{id}/votes" => polls::vote, "Vote: choices are answer ids (one, or several when the poll allows them); once per person, while it is open. For a poll of another site, the vote is sent there", auth: true, body: "PollVote";
    post "/polls/{id}/close" => polls::close, "Close one's poll before its date", auth: true, body: "";
    post "/surveys" => surveys::create, "Ask a survey or a quiz (part of the polls app): title, body (its introduction; may be empty), to an audience (visibility) or in a community (community, its members); questions (1 to 30), each of kind one or several (2 to 20 distinct choices), scale (1 to 5) or text, with its prompt and whether it is optional; quiz (each question of choices, with correct: the positions of its right choices, exactly one for kind one, and an explanation shown once answered; every question required), leaderboard (a quiz's best scores, on unless false), anonymous (results without names), closes_at (RFC 3339; open until closed when absent). 404 app_disabled when polls are switched off there", auth: true, body: "SurveyCreate";
    get "/surveys/{id}" => surveys::get_one, "A survey as the reader sees it, with its questions; once they responded, their answers and, for a quiz, their score, the right answers and the explanations", auth: true, body: "";
    post "/surveys/{id}/responses" => surveys::respond, "Respond, once, while it is open: answers, each with question (its id) and choices (ids), scale (1 to 5) or text (2,000 characters); every question not optional answered. A quiz is scored at once. For a survey of another site, the response is sent there", auth: true, body: "SurveyAnswers";
    post "/surveys/{id}/close" => surveys::close, "Close one's survey before its date", auth: true, body: "";
    get "/surveys/{id}/results" => surveys::results, "The results of one's survey (its author only): per question how many answered, the counts and shares of its choices or of the values of its scale with their average, its texts (newest 500) with who wrote them unless anonymous; a quiz's share of right answers and average score", auth: true, body: "";
    get "/surveys/{id}/results.csv" => surveys::export, "Every response to one's survey as CSV (its author only): respondent (unless anonymous), answered_at, score (a quiz), then one column per question", auth: true, body: "";
    get "/surveys/{id}/leaderboard" => surveys::leaderboard, "A quiz's best scores (20, and one's own place), for its author and those who answered it; 404 leaderboard_off when the quiz keeps none", auth: true, body: "";
    post "/ideas" => ideas::create, "Submit an idea to a community (its members): title (at most 150 characters) and body (Markdown, may be empty). 404 app_disabled when ideas are switched off there", auth: true, body: "IdeaCreate";
    get "/ideas" => ideas::list, "Ideas the reader may read: community (a name; every community when absent), status (new, under_review, accepted, done, declined), order (votes, the default, or recent), page (from 0, 20 a page); counts gives how many ideas are in each status", auth: true, body: "";
    get "/ideas/{id}" => ideas::get_one, "An idea: its title, status (and the moderators' reason), votes, whether the reader voted and may vote or move it", auth: true, body: "";
    put "/ideas/{id}/vote" => ideas::vote, "Vote for an idea (members of its community, once, while it is new or under review); a vote is its like, and travels as one", auth: true, body: "";
    delete "/ideas/{id}/vote" => ideas::unvote, "Withdraw one's vote for an idea, while it is new or under review", auth: true, body: "";
    put "/ideas/{id}/status" => ideas::move_to, "Move an idea (moderators of its community, on the community's site): new, under_review, accepted, done, or declined with a reason; its author and those who voted are told", auth: true, body: "IdeaMove";
    post "/questions" => questions::create, "Ask a question: title (at most 150 characters) and body (its details, Markdown, may be empty); to an audience (visibility) or in a community (community, its members). Answers are its comments (POST /posts/{id}/comments), voted up with their like. 404 app_disabled when questions are switched off there", auth: true, body: "QuestionCreate";
    get "/questions" => questions::list, "Questions the reader may read: community (a name; everywhere when absent), filter (all, the default: newest first; unanswered: no answer yet; open: none accepted; solved: the most recently solved first), page (from 0, 20 a page)", auth: true, body: "";
    get "/questions/similar" => questions::similar, "Questions the reader may read like the title being typed (q): those sharing the most words first, at most five, with whether each is solved", auth: true, body: "";
    get "/questions/{id}" => questions::get_one, "A question: its title, how many answers it has, the answer accepted and whether the reader may accept one", auth: true, body: "";
    put "/questions/{id}/accepted" => questions::accept, "Accept an answer (its asker, or a moderator of its community on the community's site): answer is a direct answer of the question, or null for none; its author is told", auth: true, body: "AnswerAccept";
    post "/events" => events::create, "Plan an event: title (at most 150 characters), starts_at and ends_at (RFC 3339, or a local time such as 2026-12-10T09:00 in time_zone; the end an hour after the start when absent; a start in the future, at most 31 days long), time_zone (Europe/Paris), place (at most 200 characters), online_url (http or https), capacity (1 to 100000 places; none: no limit), waiting_list (true, the default: those who answer going once it is full wait for a place; false: they are refused with 409 event_full), body (its description, Markdown, may be empty); to an audience (visibility) or in a community (community, its members). 404 app_disabled when events are switched off there", auth: true, body: "EventCreate";
    get "/events" => events::list, "Events the reader may read: community (a name; everywhere when absent), when (upcoming, the default: not ended, the soonest first; mine: upcoming ones the reader goes, may go or waits for a place at; past: ended, the latest first), page (from 0, 20 a page)", auth: true, body: "";
    get "/events/{id}" => events::get_one, "An event: its dates (UTC, with the zone it was planned in), place, online link, capacity, how many go, may go and wait, places left, the reader's answer and whether they may answer", auth: true, body: "";
    patch "/events/{id}" => events::change, "Change one's event (the same fields as planning it, all given again); those who answered are told when its dates or place change, and places a larger capacity opens go to those who wait. 400 event_capacity_below_going for a capacity below the places given", auth: true, body: "EventChange";
    put "/events/{id}/rsvp" => events::answer, "Answer an event (members of its community): answer going, maybe or declined, until it ends (409 event_over). Going once it is full puts one on its waiting list (on_waiting_list), or is refused with 409 event_full without one. For an event of another site, the answer is sent there", auth: true, body: "Rsvp";
    delete "/events/{id}/rsvp" => events::withdraw, "Withdraw one's answer to an event; a place given back goes to the first who waits", auth: true, body: "";
    get "/events/{id}/attendees" => events::attendees, "Who answered an event: going (waiting last), maybe, then not going", auth: true, body: "";
    post "/me/calendar" => events::calendar_link, "Make one's private calendar address (an iCalendar subscription of the events one goes or may go to, for Outlook, Thunderbird or Google Calendar): shown once; the address made before stops working", auth: true, body: "";
    delete "/me/calendar" => events::calendar_stop, "Stop one's private calendar address", auth: true, body: "";
    get "/apps" => polls::site_apps, "The site's apps (polls, ideas, questions, events, must_read) and whether each is on", auth: true, body: "";
    put "/admin/apps/{app}" => polls::set_site_app, "Switch an app on or off for the site (administrators); communities that chose for themselves keep their choice", auth: true, body: "AppSwitch";
    get "/communities/{name}/apps" => polls::community_apps, "A community's apps: the site's choice, the community's own and what applies", auth: true, body: "";
    put "/communities/{name}/apps/{app}" => polls::set_community_app, "Switch an app on or off for a community of this site (its owners, administrators); enabled null follows the site", auth: true, body: "CommunityAppSwitch";
    get "/must-reads" => must_read::list, "Must-reads: filter pending (the default: those one is asked to read and has not confirmed, newest mark first) or followed (those one wrote or marked, with their tally), page (from 0, 20 a page)", auth: true, body: "";
    put "/posts/{id}/must-read" => must_read::mark, "Mark a post as a must-read: a moderator for a post of their community (its members are asked), an administrator for a post of this site with a public, organisation or instance audience (everyone here is asked); those asked are told. 403 must_read_not_moderator or must_read_not_admin, 400 must_read_comment or must_read_community_remote (marked on the community's site), 409 must_read_audience; 404 app_disabled when the app is off there", auth: true, body: "";
    delete "/posts/{id}/must-read" => must_read::lift, "Lift a post's must-read mark (those who may mark it; also while the app is off): 204; confirmations already given are kept", auth: true, body: "";
    post "/posts/{id}/must-read/confirmation" => must_read::confirm, "Confirm having read a must-read one is asked to read (again: nothing changes); it then leaves the top of one's feeds. 403 must_read_not_asked, 404 must_read_not_marked", auth: true, body: "";
    get "/posts/{id}/must-read/readers" => must_read::readers, "How many of a must-read's audience read it, who did and who has not yet (500 each at most, by name): for its author and those who may mark it (403 must_read_not_yours)", auth: true, body: "";
    post "/posts/{id}/must-read/reminder" => must_read::remind, "Remind those of this site who have not read a must-read yet (its author and those who may mark it; once: 409 must_read_reminded); answers how many were reminded", auth: true, body: "";
    get "/posts/{id}/comments" => posts::comments, "Comments of a post, oldest first, with reply_to_id for threads", auth: true, body: "";
    post "/posts/{id}/comments" => posts::comment, "Reply to a post or comment", auth: true, body: "CommentCreate";
    get "/posts/{id}/reactions" => posts::reactions, "Who reacted, by kind", auth: true, body: "";
    put "/posts/{id}/reactions/{kind}" => posts::react, "Add a reaction (like, thanks, bravo, insightful)", auth: true, body: "";
    delete "/posts/{id}/reactions/{kind}" => posts::unreact, "Remove a reaction", auth: true, body: "";
    get "/communities" => communities::list, "Communities the viewer may find (q searches name and title; mine=true lists one's own and invitations)", auth: true, body: "";
    post "/communities" => communities::create, "Create a community (its creator becomes owner)", auth: true, body: "CommunityCreate";
    get "/communities/lookup" => communities::lookup, "Find a community by !name@domain or address (a remote one is fetched)", auth: true, body: "";
    get "/communities/{name}" => communities::get_one, "A community, with the viewer's membership", auth: true, body: "";
    patch "/communities/{name}" => communities::update, "Change a community's settings (owners and moderators; 202 with the current settings when the community lives on another instance, which applies the change)", auth: true, body: "CommunitySettings";
    get "/communities/{name}/posts" => communities::posts, "A community's feed: pinned announcements, then posts newest first (members only for private and secret ones)", auth: true, body: "";
    post "/communities/{name}/posts" => communities::post, "Publish a post in a community (members)", auth: true, body: "CommunityPost";
    delete "/communities/{name}/posts/{id}" => communities::remove_post, "Remove a post or comment (its author, or a moderator; ?reason= is logged)", auth: true, body: "";
    put "/communities/{name}/posts/{id}/pin" => communities::pin, "Pin a post as an announcement (moderators)", auth: true, body: "";
    delete "/communities/{name}/posts/{id}/pin" => communities::unpin, "Unpin a post (moderators)", auth: true, body: "";
    get "/communities/{name}/members" => communities::members, "Members wherever they live, as the community's instance lists them; moderators also see requests, invitations and bans (complete=false: that instance could not be reached)", auth: true, body: "";
    post "/communities/{name}/join" => communities::join, "Join, ask to join or accept an invitation", auth: true, body: "";
    delete "/communities/{name}/membership" => communities::leave, "Leave, withdraw a request or decline an invitation", auth: true, body: "";
    get "/communities/{name}/watch" => communities::watching, "Whether one watches a community ({\"watching\": true})", auth: true, body: "";
    put "/communities/{name}/watch" => communities::watch, "Watch a community one may read: each new post and document version there becomes a notification (community_post, document_updated), e-mailed as one chose (in the digest by default)", auth: true, body: "";
    delete "/communities/{name}/watch" => communities::unwatch, "Stop watching a community", auth: true, body: "";
    post "/communities/{name}/invitations" => communities::invite, "Invite someone of this or another instance (moderators; 202 when the community lives on another instance, which applies it)", auth: true, body: "Invitation";
    post "/communities/{name}/invitations/email" => communities::invite_email, "Invite an e-mail address to a community of this site (moderators; 202 for every address): it receives a one-time link with which a person who has an account here joins, and anyone else creates an account that is a member (when the site lets newcomers in); 409 mail_off when e-mail is off", auth: true, body: "InvitationByEmail";
    post "/invitations/{code}/accept" => communities::accept_invitation, "Join the community of an e-mailed invitation with its code (it works once, while the inviter still moderates the community); answers the community's name", auth: true, body: "";
    post "/communities/{name}/requests/{username}/approve" => communities::approve, "Approve a request to join (moderators; 202 when sent to the community's instance)", auth: true, body: "";
    post "/communities/{name}/requests/{username}/refuse" => communities::refuse, "Refuse a request to join (moderators; 202 when sent to the community's instance)", auth: true, body: "";
    delete "/communities/{name}/members/{username}" => communities::remove_member, "Remove a member (moderators; ?reason= is logged; 202 when sent to the community's instance)", auth: true, body: "";
    put "/communities/{name}/members/{username}/role" => communities::set_role, "Make a member owner, moderator or member (owners; 202 when sent to the community's instance)", auth: true, body: "RoleChange";
    put "/communities/{name}/bans/{username}" => communities::ban, "Ban someone from a community (moderators; 202 when sent to the community's instance)", auth: true, body: "Reason";
    delete "/communities/{name}/bans/{username}" => communities::unban, "Lift a ban (moderators; 202 when sent to the community's instance)", auth: true, body: "";
    get "/communities/{name}/documents" => documents::list, "A community's documents with their versions, most recently updated first", auth: true, body: "";
    post "/communities/{name}/documents" => documents::upload, "Upload a document (the request body is the file; ?filename= is required, ?note= optional; at most documents.max_bytes)", auth: true, body: "";
    post "/media" => media::upload, "Upload a picture (PNG, JPEG or WebP: re-encoded without its metadata, with a thumbnail) or a file to attach to a post or comment (the request body is the file; ?filename= is required, ?alt= describes a picture; at most content.max_attachment_bytes); then name it in media_ids", auth: true, body: "";
    get "/documents/{id}" => documents::get_one, "A document and its versions", auth: true, body: "";
    post "/documents/{id}/versions" => documents::new_version, "Upload a new version (same form as an upload)", auth: true, body: "";
    get "/documents/{id}/versions/{version}/file" => documents::download, "Download one version of a document", auth: true, body: "";
    delete "/documents/{id}" => documents::delete, "Delete a document and all its versions (its uploader or a moderator)", auth: true, body: "";
    put "/communities/{name}/picture" => communities::put_picture, "Set the community's picture (PNG, JPEG or WebP body, at most 5 MB; moderators)", auth: true, body: "";
    delete "/communities/{name}/picture" => communities::delete_picture, "Remove the community's picture (moderators)", auth: true, body: "";
    get "/communities/{name}/log" => communities::log, "The community's moderation log, newest first, as its instance keeps it (complete=false: that instance could not be reached)", auth: true, body: "";
    get "/search" => search::search, "Search (q, required): type=content (posts, comments and documents; the default), people or communities; page=0..50, 20 results a page. The query reads words (every one must match, accents folded, singular or plural, French or English; the last one also as a beginning unless followed by a space), \"phrases\", -word, from:@name, in:!community, #tag, kind:post|comment|document, after:YYYY-MM-DD and before:YYYY-MM-DD. For people: department, site, skill and instance (host, or here) narrow the results, and facets counts them. counts gives each type's total; only what the reader may see is found or counted", auth: true, body: "";
    get "/experts" => search::experts, "Who knows about a topic (topic, required): up to 20 people ranked by evidence, each with it: their declared skills about it, whether their job title is, how many of their posts, comments and documents about it the reader may see (recent ones weigh more) and the insightful or thanks reactions those received, and their latest such contributions; people who left the finder are not listed", auth: true, body: "";
    get "/me/finder" => search::finder, "Whether one appears in the expert finder (listed) and in the people directory the organisation's member sites read (shared)", auth: true, body: "";
    put "/me/finder" => search::set_finder, "Appear in the expert finder or not ({\"listed\": false}), in the directory of the organisation's other sites or not ({\"shared\": false}); a field left out is left as it is", auth: true, body: "Finder";
    get "/people" => people::directory, "Directory of colleagues, filtered by q, department, site and skill", auth: true, body: "";
    get "/people/lookup" => people::lookup, "Find a person by @name@domain or profile URL (remote profiles are fetched)", auth: true, body: "";
    get "/notifications" => account::notifications, "Mentions, replies and new followers, newest first", auth: true, body: "";
    get "/admin/federation" => admin::federation_health, "Known instances' health, queue depth and failed deliveries (administrators)", auth: true, body: "";
    post "/admin/deliveries/{id}/retry" => admin::retry_delivery, "Send a failed delivery again (administrators)", auth: true, body: "";
    get "/people/{username}" => people::profile, "A person's profile", auth: true, body: "";
    get "/people/{username}/posts" => people::posts, "A person's posts", auth: true, body: "";
    get "/people/{username}/followers" => people::followers, "Who follows a person", auth: true, body: "";
    get "/people/{username}/following" => people::following, "Whom a person follows", auth: true, body: "";
    put "/people/{username}/endorsements/{skill}" => people::endorse, "Endorse a skill the person declared (not one's own; 400 skill_not_declared otherwise); it counts for the expert finder and shows on their profile", auth: true, body: "";
    delete "/people/{username}/endorsements/{skill}" => people::unendorse, "Withdraw one's endorsement of a person's skill", auth: true, body: "";
    post "/people/{username}/follow" => people::follow, "Follow a person", auth: true, body: "";
    delete "/people/{username}/follow" => people::unfollow, "Stop following a person", auth: true, body: "";
    get "/admin/site" => admin::site, "The site's name and sign-up mode (open, invite or closed) in force (administrators)", auth: true, body: "";
    patch "/admin/site" => admin::update_site, "Change the site's name or sign-up mode; every process follows within seconds (administrators)", auth: true, body: "SiteUpdate";
    get "/admin/dashboard" => admin::dashboard, "The site's figures (people, active in the last 7 and 30 days, posts, comments, communities, people of other sites known here) and its delivery queue (administrators)", auth: true, body: "";
    get "/admin/users" => admin::users, "Accounts by username, a page at a time: q searches the username, name and e-mail; show is all (this site's people), admins, disabled or remote (administrators)", auth: true, body: "";
    put "/admin/users/{username}/admin" => admin::promote, "Make someone of this site an administrator (administrators)", auth: true, body: "";
    delete "/admin/users/{username}/admin" => admin::demote, "Remove someone's administration (administrators; the last administrator stays one)", auth: true, body: "";
    post "/admin/users/{username}/disable" => admin::disable, "Disable an account (administrators); the last enabled administrator stays (409 last_admin)", auth: true, body: "";
    delete "/admin/users/{username}" => admin::delete_user, "Delete an account (administrators); other instances are told; the last enabled administrator stays (409 last_admin)", auth: true, body: "";
    post "/admin/users/{username}/enable" => admin::enable, "Re-enable an account (administrators)", auth: true, body: "";
    get "/admin/invitations" => admin::invitations, "Invitations (administrators)", auth: true, body: "";
    get "/admin/identity" => admin::identity, "Identity at a glance (administrators): the sign-in providers (accounts linked, last sign-in), the SCIM clients (accounts provisioned, last use), the directory's groups and how the last directory sync went (when, by the schedule or the command, its figures, or why it failed)", auth: true, body: "";
    get "/admin/guests" => admin::guests, "Partners' guests: who invited them, their communities, until when their access lasts and whether it ended (administrators)", auth: true, body: "";
    post "/guests/{username}/renew" => admin::renew_guest, "Renew a guest's access for the configured time from now (administrators, or a moderator of one of the guest's communities); answers the new end", auth: true, body: "";
    post "/admin/invitations" => admin::invite, "Create an invitation link; with {\"email\": …} (and optionally \"locale\": en or fr) it is also e-mailed (administrators)", auth: true, body: "InvitationCreate";
    delete "/admin/users/{username}/second-step" => admin::reset_second_step, "Turn off someone's second sign-in step, for a lost phone or key (administrators): their authenticator app, passkeys and recovery codes go, their sessions end and an e-mail tells them; 409 second_factor_off when there is none, 400 second_factor_reset_self for one's own", auth: true, body: "";
    post "/admin/users/{username}/password-reset" => admin::send_reset, "E-mail someone of this site a link to choose a new password (administrators; 409 mail_off when e-mail is off)", auth: true, body: "";
    get "/admin/mail" => admin::mail_queue, "Whether e-mail is on, the mail queue's figures and the messages that failed or wait after a failure (administrators)", auth: true, body: "";
    post "/admin/mail/{id}/retry" => admin::retry_mail, "Send a failed e-mail again (administrators)", auth: true, body: "";
    delete "/admin/invitations/{id}" => admin::revoke_invitation, "Withdraw an unused invitation (administrators)", auth: true, body: "";
    get "/admin/instances" => admin::instances, "Federation mode and the trusted and blocked instances (administrators)", auth: true, body: "";
    get "/admin/instances/audit" => admin::trust_audit, "Audit log of trust changes, newest first (administrators)", auth: true, body: "";
    get "/admin/instances/export" => admin::export_instances, "Trust entries as CSV, compatible with Mastodon's domain-block export (administrators)", auth: true, body: "";
    post "/admin/instances/import" => admin::import_instances, "Import trust entries from CSV, all or nothing (administrators)", auth: true, body: "";
    put "/admin/instances/{domain}" => admin::set_instance, "Add or change an instance: member, partner or blocked (administrators)", auth: true, body: "InstanceEntry";
    delete "/admin/instances/{domain}" => admin::remove_instance, "Remove an instance's entry (administrators)", auth: true, body: "";
}
