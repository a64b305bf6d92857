//! Server-rendered HTML pages. Forms carry a CSRF token; errors are shown in
//! the reader's language.

mod account;
mod admin;
pub mod communities;
mod community_picture;
mod composer;
mod documents;
mod email;
mod events;
mod ideas;
mod invitation;
mod mail_action;
mod media;
mod must_read;
mod passkey;
pub mod password;
mod people;
mod polls;
mod posts;
mod preview;
mod questions;
mod search;
mod second_factor;
mod sso;
mod surveys;
mod welcome;

use askama::Template;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use super::auth::{self, Ctx};
use crate::accounts::{secrets, User};
use crate::app::AppState;
use crate::error::{AppError, ErrorKind};
use crate::i18n::{Lang, Tr};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(posts::home))
        .route("/login", get(account::login_form).post(account::login))
        .route("/login/sso/link", get(sso::link_form).post(sso::link))
        .route(
            "/login/code",
            get(second_factor::code_form).post(second_factor::code),
        )
        .route("/login/passkey/options", post(passkey::sign_in_options))
        .route("/login/passkey", post(passkey::sign_in))
        .route("/login/code/passkey/options", post(passkey::step_options))
        .route("/login/code/passkey", post(passkey::step))
        .route("/settings/passkeys/options", post(passkey::add_options))
        .route("/settings/passkeys", post(passkey::add))
        .route("/settings/passkeys/{id}/rename", post(passkey::rename))
        .route("/settings/passkeys/{id}/delete", post(passkey::remove))
        .route("/settings/second-step", post(second_factor::setup))
        .route("/settings/second-step/enable", post(second_factor::enable))
        .route(
            "/settings/second-step/disable",
            post(second_factor::disable),
        )
        .route("/login/sso/{id}", get(sso::start))
        .route("/login/sso/{id}/callback", get(sso::callback))
        .route("/signup", get(account::signup_form).post(account::signup))
        .route("/logout", post(account::logout))
        .route(
            "/password/forgot",
            get(password::forgot_form).post(password::forgot),
        )
        .route(
            "/password/reset/{token}",
            get(password::reset_form).post(password::reset),
        )
        .route(
            "/mail/unsubscribe/{token}",
            get(password::unsubscribe_page).post(password::unsubscribe),
        )
        .route("/mail/resubscribe/{token}", post(password::resubscribe))
        .route(
            "/mail/do/{token}",
            get(mail_action::page).post(mail_action::act),
        )
        .route("/settings", get(account::settings))
        .route("/notifications", get(account::notifications))
        .route("/settings/language", post(account::set_language))
        .route("/settings/password", post(account::change_password))
        .route("/settings/mail", post(account::set_mail))
        .route("/settings/finder", post(account::set_finder))
        .route("/settings/email", post(email::change))
        .route("/settings/email/resend", post(email::resend))
        .route("/settings/email/cancel", post(email::cancel))
        .route(
            "/account/email/confirm/{token}",
            get(email::confirm_page).post(email::confirm),
        )
        .route("/settings/tokens", post(account::create_token))
        .route("/settings/tokens/{id}/revoke", post(account::revoke_token))
        .route("/admin", get(admin::page))
        .route("/admin/invitations", post(admin::invite))
        .route("/admin/site", post(admin::set_site))
        .route("/admin/scim", post(admin::scim_create))
        .route("/admin/scim/revoke", post(admin::scim_revoke))
        .route("/admin/guests/renew", post(admin::renew_guest))
        .route(
            "/admin/invitations/{id}/revoke",
            post(admin::revoke_invitation),
        )
        .route(
            "/admin/federation",
            get(admin::federation).post(admin::set_instance),
        )
        .route("/admin/federation/remove", post(admin::remove_instance))
        .route("/admin/deliveries/{id}/retry", post(admin::retry_delivery))
        .route("/admin/mail/{id}/retry", post(admin::retry_mail))
        .route("/admin/mail/works", post(admin::address_works))
        .route("/admin/federation/export.csv", get(admin::export_csv))
        .route(
            "/admin/federation/import",
            post(admin::import_csv).layer(axum::extract::DefaultBodyLimit::max(
                admin::CSV_LIMIT + 64 * 1024,
            )),
        )
        .route(
            "/admin/users/{username}/{action}",
            post(admin::account_action),
        )
        .route(
            "/posts",
            post(posts::create).layer(axum::extract::DefaultBodyLimit::max(composer::BODY_LIMIT)),
        )
        .route("/media/{id}/{secret}", get(media::file))
        .route("/media/{id}/{secret}/thumb", get(media::thumb))
        .route("/posts/{id}", get(posts::show))
        .route("/posts/{id}/edit", get(posts::edit_form).post(posts::edit))
        .route("/posts/{id}/delete", post(posts::delete))
        .route(
            "/posts/{id}/comments",
            post(posts::comment).layer(axum::extract::DefaultBodyLimit::max(composer::BODY_LIMIT)),
        )
        .route("/posts/{id}/react", post(posts::react))
        .route("/must-read", get(must_read::list))
        .route("/posts/{id}/must-read", post(must_read::mark))
        .route("/posts/{id}/read", post(must_read::confirm))
        .route("/posts/{id}/readers", get(must_read::readers))
        .route("/posts/{id}/remind", post(must_read::remind))
        .route("/polls/new", get(polls::new_form).post(polls::create))
        .route("/surveys/new", get(surveys::new_form).post(surveys::create))
        .route("/surveys/{id}", get(surveys::show))
        .route("/surveys/{id}/respond", post(surveys::respond))
        .route("/surveys/{id}/close", post(surveys::close))
        .route("/surveys/{id}/results", get(surveys::results))
        .route("/surveys/{id}/results.csv", get(surveys::export))
        .route("/ideas", get(ideas::site_list))
        .route("/ideas/new", get(ideas::new_form).post(ideas::create))
        .route("/ideas/{id}/vote", post(ideas::vote))
        .route("/ideas/{id}/status", post(ideas::move_to))
        .route("/communities/{name}/ideas", get(ideas::community_list))
        .route("/questions", get(questions::site_list))
        .route(
            "/questions/new",
            get(questions::new_form).post(questions::create),
        )
        .route("/questions/similar", get(questions::similar))
        .route("/questions/{id}/accept", post(questions::accept))
        .route(
            "/communities/{name}/questions",
            get(questions::community_list),
        )
        .route("/events", get(events::site_list))
        .route("/events/new", get(events::new_form).post(events::create))
        .route("/events/calendar", post(events::calendar))
        .route("/events/{id}/rsvp", post(events::rsvp))
        .route(
            "/events/{id}/edit",
            get(events::edit_form).post(events::edit),
        )
        .route("/events/{id}/attendees", get(events::attendees))
        .route("/events/{id}/calendar.ics", get(events::event_ics))
        .route("/calendar/{file}", get(events::subscription))
        .route("/communities/{name}/events", get(events::community_list))
        .route("/polls/{id}/vote", post(polls::vote))
        .route("/polls/{id}/close", post(polls::close))
        .route("/admin/apps", post(polls::set_site))
        .route("/communities/{name}/apps", post(polls::set_community))
        .route("/tags/{tag}", get(posts::tag))
        .route(
            "/communities",
            get(communities::directory).post(communities::create),
        )
        .route("/communities/{name}", get(communities::show))
        .route(
            "/communities/{name}/posts",
            post(communities::post)
                .layer(axum::extract::DefaultBodyLimit::max(composer::BODY_LIMIT)),
        )
        .route("/communities/{name}/join", post(communities::join))
        .route("/communities/{name}/watch", post(communities::watch))
        .route("/communities/{name}/unwatch", post(communities::unwatch))
        .route("/communities/{name}/leave", post(communities::leave))
        .route("/communities/{name}/members", get(communities::members))
        .route(
            "/invitations/{code}",
            get(invitation::show).post(invitation::accept),
        )
        .route(
            "/communities/{name}/invite-email",
            post(communities::invite_email),
        )
        .route(
            "/communities/{name}/members/{action}",
            post(communities::member_action),
        )
        .route(
            "/communities/{name}/guests/renew",
            post(communities::renew_guest),
        )
        .route(
            "/communities/{name}/posts/{id}/{action}",
            post(communities::post_action),
        )
        .route(
            "/communities/{name}/picture",
            get(community_picture::picture)
                .post(community_picture::upload_picture)
                .layer(axum::extract::DefaultBodyLimit::max(
                    people::PHOTO_BODY_LIMIT,
                )),
        )
        .route(
            "/communities/{name}/settings",
            get(communities::settings).post(communities::save_settings),
        )
        .route(
            "/communities/{name}/documents",
            get(documents::list)
                .post(documents::upload)
                .layer(axum::extract::DefaultBodyLimit::max(documents::BODY_LIMIT)),
        )
        .route("/documents/{id}", get(documents::show))
        .route(
            "/documents/{id}/versions",
            post(documents::new_version)
                .layer(axum::extract::DefaultBodyLimit::max(documents::BODY_LIMIT)),
        )
        .route("/documents/{id}/delete", post(documents::delete))
        .route(
            "/documents/{id}/versions/{version}/file",
            get(documents::download),
        )
        .route("/live", get(crate::web::live::live))
        .route("/preview", post(preview::preview))
        .route("/mentions", get(preview::mentions))
        .route("/welcome", get(welcome::page))
        .route("/welcome/step", post(welcome::go))
        .route("/welcome/finish", post(welcome::finish))
        .route(
            "/welcome/profile",
            post(welcome::profile).layer(axum::extract::DefaultBodyLimit::max(
                people::PHOTO_BODY_LIMIT,
            )),
        )
        .route("/search", get(search::page))
        .route("/experts", get(search::experts))
        .route("/people", get(people::directory))
        .route("/people/{username}", get(people::profile))
        .route("/people/{username}/photo", get(people::photo))
        .route("/people/{username}/followers", get(people::followers))
        .route("/people/{username}/following", get(people::following))
        .route("/people/{username}/follow", post(people::follow))
        .route("/people/{username}/endorsements", post(people::endorse))
        .route("/people/{username}/unfollow", post(people::unfollow))
        .route("/profile/edit", get(people::edit_form).post(people::edit))
        .route(
            "/profile/photo",
            post(people::upload_photo).layer(axum::extract::DefaultBodyLimit::max(
                people::PHOTO_BODY_LIMIT,
            )),
        )
        .route("/profile/photo/delete", post(people::delete_photo))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

/// The signed-in person as the page header shows them.
pub struct MeView {
    pub username: String,
    pub is_admin: bool,
    /// A partner's guest: no directory in the menu.
    pub guest: bool,
}

/// What every page needs.
pub struct Base {
    pub tr: Tr,
    pub title: String,
    pub instance_name: String,
    pub me: Option<MeView>,
    pub csrf: String,
    pub nav: &'static str,
    /// Unread notifications, shown by the menu's Notifications.
    pub unread: i64,
    /// Where the page listens for live news (signed in only).
    pub live: Option<String>,
    /// An administrator whose rights wait for their two-step sign-in.
    pub admin_withheld: bool,
}

impl Base {
    pub fn new(state: &AppState, ctx: &Ctx, title_key: &str, nav: &'static str) -> Base {
        let tr = Tr(ctx.lang);
        Base {
            tr,
            title: tr.t(title_key).to_string(),
            instance_name: state.site.get().name,
            me: ctx.user.as_ref().map(|u| MeView {
                username: u.username.clone(),
                is_admin: u.is_admin,
                guest: ctx.guest,
            }),
            csrf: ctx.csrf.clone().unwrap_or_default(),
            nav,
            unread: ctx.unread,
            live: ctx.user.as_ref().map(|_| "/live".to_string()),
            admin_withheld: ctx.admin_withheld,
        }
    }
    /// Whether the reader is a partner's guest (`accounts::guest`).
    pub fn guest(&self) -> bool {
        self.me.as_ref().is_some_and(|m| m.guest)
    }
    pub fn titled(mut self, title: String) -> Base {
        self.title = title;
        self
    }
}

/// A page-handler failure: shown as an error page, or for a missing session
/// as a redirect to the sign-in page.
pub struct PageError {
    pub err: AppError,
    /// The page frame, with the reader's language and navigation.
    base: Box<Base>,
    /// The page asked for, where signing in returns.
    asked: Option<String>,
}

impl PageError {
    pub fn new(state: &AppState, ctx: &Ctx, err: AppError) -> PageError {
        PageError {
            err,
            base: Box::new(Base::new(state, ctx, "status.500", "")),
            asked: ctx.asked.clone(),
        }
    }
}

pub type PageResult = Result<Response, PageError>;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    base: Base,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if self.err.code == "signin_required" {
            return Redirect::to(&login_then(self.asked.as_deref())).into_response();
        }
        if self.err.kind == ErrorKind::Internal {
            tracing::error!(error = %self.err, "internal error");
        }
        let status = StatusCode::from_u16(self.err.kind.status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut base = *self.base;
        base.title = base
            .tr
            .t(&format!("status.{}", status.as_u16()))
            .to_string();
        let message = super::api::message(&self.err, base.tr.0);
        let page = ErrorPage { base, message };
        (status, render(&page)).into_response()
    }
}

/// The sign-in page, returning to `asked` (a page of this site) after.
pub fn login_then(asked: Option<&str>) -> String {
    match asked.and_then(same_site_path) {
        Some(path) if path != "/" && !path.starts_with("/login") => {
            let next: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
            format!("/login?next={next}")
        }
        _ => "/login".to_string(),
    }
}

/// Renders a template to an HTML response.
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

pub trait PageErr<T> {
    fn page(self, state: &AppState, ctx: &Ctx) -> Result<T, PageError>;
}

impl<T> PageErr<T> for Result<T, AppError> {
    fn page(self, state: &AppState, ctx: &Ctx) -> Result<T, PageError> {
        self.map_err(|err| PageError::new(state, ctx, err))
    }
}

/// The signed-in user, or a redirect to the sign-in page.
pub fn require_user<'a>(state: &AppState, ctx: &'a Ctx) -> Result<&'a User, PageError> {
    ctx.user
        .as_ref()
        .ok_or_else(|| AppError::unauthorized("signin_required"))
        .page(state, ctx)
}

/// The signed-in user after checking the form's CSRF token.
pub fn require_form<'a>(state: &AppState, ctx: &'a Ctx, csrf: &str) -> Result<&'a User, PageError> {
    let user = require_user(state, ctx)?;
    ctx.check_csrf(csrf).page(state, ctx)?;
    Ok(user)
}

pub fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response()
}

/// Where a small action (a reaction) should return to: the page it was made
/// from when the Referer is a page of this instance, else `default`.
pub fn back_to(state: &AppState, headers: &header::HeaderMap, default: String) -> String {
    let base = state.config.base();
    headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.strip_prefix(base))
        .and_then(same_site_path)
        .map(|path| path.split('#').next().unwrap_or("/").to_string())
        .unwrap_or(default)
}

/// A small action's form (follow, join): its CSRF token and, when the
/// action was taken from a list (suggestions, getting started), the page of
/// this site to return to.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ActionForm {
    pub csrf: String,
    pub back: String,
}

impl ActionForm {
    /// `back` when it is a path of this site, else `default`.
    pub fn back_or(&self, default: String) -> String {
        same_site_path(&self.back).unwrap_or(default)
    }
}

/// A path of this site to send a browser to (after signing in, after an
/// action), or `None` when the text could lead elsewhere. Browsers read a
/// `Location` by the WHATWG URL rules, which drop tabs and newlines and read
/// `\` as `/`: so `/\t/evil.test/` is `//evil.test/`, another site. Any
/// control character, space or backslash is refused, and what remains must
/// resolve, by those rules, to a path of this origin that does not itself
/// start with `//`. The path is returned as the URL parser normalised it.
pub fn same_site_path(raw: &str) -> Option<String> {
    if !raw.starts_with('/')
        || raw
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return None;
    }
    let base = url::Url::parse("http://same-site.invalid/").ok()?;
    let joined = base.join(raw).ok()?;
    if joined.origin() != base.origin() || !joined.username().is_empty() {
        return None;
    }
    let path = joined.path();
    if !path.starts_with('/') || path.starts_with("//") {
        return None;
    }
    let mut out = path.to_string();
    if let Some(q) = joined.query() {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = joined.fragment() {
        out.push('#');
        out.push_str(f);
    }
    Some(out)
}

/// Translated message of an error, for showing it next to a form.
pub fn error_text(err: &AppError, lang: Lang) -> String {
    super::api::message(err, lang)
}

/// For forms shown signed out: the anonymous CSRF token, and the cookie to
/// set when the browser has none yet.
pub fn anon_csrf(state: &AppState, ctx: &mut Ctx) -> Option<String> {
    if ctx.csrf.is_some() {
        return None;
    }
    let token = secrets::random_token();
    ctx.csrf = Some(token.clone());
    Some(auth::set_cookie(
        auth::CSRF_COOKIE,
        &token,
        86_400,
        state.config.secure_cookies(),
    ))
}

/// Adds an optional `Set-Cookie` header to a response.
pub fn with_cookie(mut res: Response, cookie: Option<String>) -> Response {
    if let Some(c) = cookie.and_then(|c| header::HeaderValue::from_str(&c).ok()) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

async fn not_found(
    axum::extract::State(state): axum::extract::State<AppState>,
    ctx: Ctx,
) -> PageError {
    PageError::new(&state, &ctx, AppError::not_found())
}

/// A page's address called with a method it does not answer.
async fn method_not_allowed(
    axum::extract::State(state): axum::extract::State<AppState>,
    ctx: Ctx,
) -> PageError {
    let err = AppError::new(ErrorKind::MethodNotAllowed, "method_not_allowed");
    PageError::new(&state, &ctx, err)
}

/// Parses a numeric id from the path; anything else is not found.
pub fn parse_id(state: &AppState, ctx: &Ctx, raw: &str) -> Result<i64, PageError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(AppError::not_found)
        .page(state, ctx)
}

#[cfg(test)]
mod tests {
    use super::same_site_path;

    #[test]
    fn only_paths_of_this_site_are_followed() {
        for ok in [
            "/",
            "/communities/quality/documents",
            "/posts/3?x=1#c4",
            "/a/./b/../c",
        ] {
            assert!(same_site_path(ok).is_some(), "{ok}");
        }
        assert_eq!(same_site_path("/a/./b/../c").as_deref(), Some("/a/c"));
        for bad in [
            "//evil.test/",
            "/\t/evil.test/",
            "/\n/evil.test/",
            "/\\evil.test/",
            "/\\/evil.test",
            "https://evil.test/",
            "evil.test",
            "/ /evil.test",
            "/\u{0}/evil.test",
            "",
        ] {
            assert_eq!(same_site_path(bad), None, "{bad:?}");
        }
    }
}
