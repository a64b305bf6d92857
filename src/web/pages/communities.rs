//! Pages: the communities directory (with creation), a community's page
//! with its feed and composer, members (with moderation and the log) and
//! settings. The community's picture is `community_picture`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Form;
use serde::Deserialize;

use super::{
    error_text, render, require_form, require_user, see_other, ActionForm, Base, PageErr,
    PageResult,
};
use crate::app::AppState;
use crate::audience::CommunityVisibility;
use crate::communities::{
    self, membership, moderation, Community, JoinPolicy, LogEntry, NewCommunity, Settings,
};
use crate::content::media::Attached;
use crate::feed::{self, cursor, Item, Page};
use crate::web::auth::Ctx;

/// Whether a stored value is the one an option offers (templates).
pub fn selected(current: &str, option: impl AsRef<str>) -> bool {
    current == option.as_ref()
}

/// Whether `username` is the reader's own (no moderation buttons aimed at
/// oneself).
pub fn is_me(me: &Option<super::MeView>, username: &str) -> bool {
    me.as_ref().is_some_and(|m| m.username == username)
}

fn enc(s: &str) -> String {
    crate::markdown::encode_segment(s)
}

#[derive(Template)]
#[template(path = "communities.html")]
struct DirectoryPage {
    base: Base,
    q: String,
    /// "1": only one's own communities and invitations.
    mine: String,
    list: Vec<Community>,
    next_url: Option<String>,
    error: Option<String>,
    form: CreateForm,
    current_visibility: String,
    current_policy: String,
    current_partners: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DirectoryQuery {
    q: String,
    mine: String,
    cursor: String,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct CreateForm {
    csrf: String,
    name: String,
    title: String,
    description: String,
    visibility: String,
    join_policy: String,
    partners: String,
}

async fn directory_page(
    state: &AppState,
    ctx: &Ctx,
    q: DirectoryQuery,
    status: StatusCode,
    error: Option<String>,
    form: CreateForm,
) -> PageResult {
    let user = require_user(state, ctx)?;
    let id = user.id;
    let (qq, mine, cur) = (q.q.clone(), q.mine == "1", q.cursor.clone());
    let mut list = state
        .db
        .run(move |c| {
            let after = Some(cur.trim())
                .filter(|s| !s.is_empty())
                .map(cursor::decode_name)
                .transpose()?;
            communities::directory(c, id, Some(&qq), mine, after.as_deref())
        })
        .await
        .page(state, ctx)?;
    let more = list.len() as i64 > communities::PAGE_SIZE;
    list.truncate(communities::PAGE_SIZE as usize);
    let next_url = if more {
        list.last().map(|c| {
            format!(
                "/communities?q={}&mine={}&cursor={}",
                enc(&q.q),
                enc(&q.mine),
                cursor::encode_name(&c.name)
            )
        })
    } else {
        None
    };
    let page = DirectoryPage {
        base: Base::new(state, ctx, "communities.title", "communities"),
        q: q.q,
        mine: q.mine,
        list,
        next_url,
        error,
        current_visibility: form.visibility.clone(),
        current_policy: form.join_policy.clone(),
        current_partners: form.partners == "1",
        form,
    };
    Ok((status, render(&page)).into_response())
}

pub async fn directory(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<DirectoryQuery>,
) -> PageResult {
    let me = require_user(&state, &ctx)?.id;
    // `!name@domain` or an address: find the community and open it.
    let wanted = q.q.trim();
    let mut error = None;
    if wanted.starts_with('!')
        || wanted.starts_with("http://")
        || wanted.starts_with("https://")
        || wanted.contains('@')
    {
        match crate::federation::remote::lookup_community_for(&state, me, wanted).await {
            Ok(u) => return Ok(see_other(&format!("/communities/{}", u.username))),
            Err(e) => error = Some(error_text(&e, ctx.lang)),
        }
    }
    let status = if error.is_some() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    directory_page(&state, &ctx, q, status, error, CreateForm::default()).await
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<CreateForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    let cfg = state.config.clone();
    let f = form.clone();
    let result = state
        .db
        .run(move |c| {
            let new = NewCommunity {
                name: &f.name,
                title: &f.title,
                description: &f.description,
                visibility: CommunityVisibility::parse(&f.visibility)?,
                join_policy: JoinPolicy::parse(&f.join_policy)?,
                partners: f.partners == "1",
            };
            communities::create(c, &cfg, &user, &new)
        })
        .await;
    match result {
        Ok(c) => Ok(see_other(&format!("/communities/{}", c.name))),
        Err(err) => {
            let status = StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let msg = error_text(&err, ctx.lang);
            directory_page(
                &state,
                &ctx,
                DirectoryQuery::default(),
                status,
                Some(msg),
                form,
            )
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "community.html")]
struct CommunityPage {
    base: Base,
    cm: Community,
    pinned: Vec<Item>,
    page: Page,
    error: Option<String>,
    draft: String,
    /// Uploads of a refused post, still to attach.
    kept: Vec<Attached>,
    max_chars: usize,
    can_moderate: bool,
    /// Whether the reader watches the community (is told of each post).
    watching: bool,
    /// The apps on here (their lists and the composer's buttons).
    kit: crate::apps::Kit,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CursorQuery {
    cursor: String,
}

async fn community_page(
    state: &AppState,
    ctx: &Ctx,
    name: String,
    cursor: String,
    status: StatusCode,
    error: Option<String>,
    (draft, kept): (String, Vec<Attached>),
) -> PageResult {
    let user = require_user(state, ctx)?.clone();
    let id = user.id;
    let (c, pinned, page, watching, kit) = state
        .db
        .run(move |cx| {
            let c = communities::get(cx, id, &name)?;
            if !c.readable() {
                return Ok((
                    c,
                    Vec::new(),
                    Page {
                        must_read: Vec::new(),
                        items: Vec::new(),
                        next_cursor: None,
                    },
                    false,
                    crate::apps::Kit::default(),
                ));
            }
            let kit = crate::apps::kit(cx, Some(c.id))?;
            let watching = communities::watching(cx, id, c.id)?;
            // Pinned posts show once, as announcements above the feed
            // (on its first page), not again in it.
            let pinned_ids = communities::pinned(cx, &c)?;
            let mut pinned = if cursor.is_empty() {
                feed::by_ids(cx, id, &pinned_ids)?
            } else {
                Vec::new()
            };
            let mut page = feed::community(cx, id, c.id, Some(&cursor))?;
            page.items.retain(|i| !pinned_ids.contains(&i.id));
            // A must-read still to read heads the page, once.
            pinned.retain(|p| !page.must_read.iter().any(|m| m.id == p.id));
            Ok((c, pinned, page, watching, kit))
        })
        .await
        .page(state, ctx)?;
    crate::federation::backfill::backfill_if_needed(state, &c);
    let can_moderate = c.moderated_by(&user);
    let title = c.title.clone();
    let page = CommunityPage {
        base: Base::new(state, ctx, "communities.title", "communities").titled(title),
        cm: c,
        pinned,
        page,
        error,
        draft,
        kept,
        max_chars: state.config.content.max_post_chars,
        can_moderate,
        watching,
        kit,
    };
    Ok((status, render(&page)).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
    Query(q): Query<CursorQuery>,
) -> PageResult {
    community_page(
        &state,
        &ctx,
        name,
        q.cursor,
        StatusCode::OK,
        None,
        Default::default(),
    )
    .await
}

/// A community's composer: a post with its pictures and files.
pub async fn post(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
    form: axum::extract::Request,
) -> PageResult {
    let form = super::composer::read(&state, &ctx, form).await?;
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    let max = state.config.content.max_post_chars;
    let (n, media) = (name.clone(), form.media.clone());
    let result = match form.error {
        Some(e) => Err(e),
        None => {
            let text = crate::content::Text::resolved(&state, form.body.clone()).await;
            let ids = media.clone();
            state
                .db
                .run(move |c| moderation::post(c, max, &user, &n, &text, &ids))
                .await
        }
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/communities/{}", enc_path(&name)))),
        Err(err) => {
            let status = StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let msg = error_text(&err, ctx.lang);
            let owner = ctx.user.as_ref().map(|u| u.id).unwrap_or(0);
            let kept = super::composer::kept(&state, owner, media).await;
            community_page(
                &state,
                &ctx,
                name,
                String::new(),
                status,
                Some(msg),
                (form.body, kept),
            )
            .await
        }
    }
}

/// Community names are `[a-z0-9_]` or `name@host:port`: safe in a path.
pub(super) fn enc_path(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric() || "_@.:-".contains(*c))
        .collect()
}

/// Runs a membership or moderation action from a form, then returns to
/// `back` (or shows the error on the community's page).
async fn act<F>(
    state: AppState,
    ctx: Ctx,
    name: String,
    csrf: &str,
    back: String,
    f: F,
) -> PageResult
where
    F: FnOnce(&mut crate::db::DbConn, &crate::accounts::User) -> crate::error::AppResult<()>
        + Send
        + 'static,
{
    let user = require_form(&state, &ctx, csrf)?.clone();
    match state.db.run(move |c| f(c, &user)).await {
        Ok(()) => Ok(see_other(&back)),
        Err(err) => act_failed(&state, &ctx, name, err).await,
    }
}

/// A refused action: its message on the community's page.
async fn act_failed(
    state: &AppState,
    ctx: &Ctx,
    name: String,
    err: crate::error::AppError,
) -> PageResult {
    let status = StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
    if status == StatusCode::NOT_FOUND {
        return Err(err).page(state, ctx);
    }
    let msg = error_text(&err, ctx.lang);
    community_page(
        state,
        ctx,
        name,
        String::new(),
        status,
        Some(msg),
        Default::default(),
    )
    .await
}

pub async fn join(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
    Form(form): Form<ActionForm>,
) -> PageResult {
    let page = format!("/communities/{}", enc_path(&name));
    let (n, back) = (name.clone(), form.back_or(page));
    act(state, ctx, name, &form.csrf, back, move |c, u| {
        membership::join(c, u, &n).map(|_| ())
    })
    .await
}

pub async fn leave(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
    Form(form): Form<ActionForm>,
) -> PageResult {
    let page = format!("/communities/{}", enc_path(&name));
    let (n, back) = (name.clone(), form.back_or(page));
    act(state, ctx, name, &form.csrf, back, move |c, u| {
        membership::leave(c, u, &n)
    })
    .await
}

#[derive(Template)]
#[template(path = "community_members.html")]
struct MembersPage {
    base: Base,
    cm: Community,
    members: Vec<membership::Member>,
    log: Vec<LogEntry>,
    can_moderate: bool,
    /// Whether the lists are the community's own (a remote community's
    /// instance may be out of reach).
    complete: bool,
    /// What was done: a moderation act sent to the community's instance,
    /// an invitation e-mailed.
    notice: Option<&'static str>,
    /// Why the last act was refused, with the name typed in the invitation
    /// form (kept there).
    error: Option<String>,
    invite_draft: String,
    /// The address typed in the invitation by e-mail, kept after an error.
    email_draft: String,
    /// Whether "as a guest" was ticked, kept after an error.
    guest_draft: bool,
    /// Whether moderators may invite guests (`accounts.guests`).
    guests_on: bool,
    /// Whether the site sends e-mail (the invitation by e-mail needs it).
    mail_on: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MembersQuery {
    sent: String,
    emailed: String,
    renewed: String,
}

pub async fn members(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
    Query(q): Query<MembersQuery>,
) -> PageResult {
    let notice = if q.sent == "1" {
        Some("communities.sent")
    } else if q.emailed == "1" {
        Some("communities.invite_email_sent")
    } else if q.renewed == "1" {
        Some("communities.guest_renewed")
    } else {
        None
    };
    let drafts = (String::new(), String::new(), false);
    members_page(state, ctx, name, notice, StatusCode::OK, None, drafts).await
}

async fn members_page(
    state: AppState,
    ctx: Ctx,
    name: String,
    notice: Option<&'static str>,
    status: StatusCode,
    error: Option<String>,
    (invite_draft, email_draft, guest_draft): (String, String, bool),
) -> PageResult {
    let user = require_user(&state, &ctx)?.clone();
    let viewer = user.clone();
    let c = state
        .db
        .run(move |cx| communities::get_roster(cx, &viewer, &name))
        .await
        .page(&state, &ctx)?;
    use crate::federation::group_roster as roster;
    let (people, log) = tokio::join!(
        roster::members(&state, &user, &c),
        roster::log(&state, &user, &c)
    );
    let (members, complete) = people.page(&state, &ctx)?;
    let (log, log_complete) = log.page(&state, &ctx)?;
    let can_moderate = c.moderated_by(&user);
    let title = c.title.clone();
    let page = MembersPage {
        base: Base::new(&state, &ctx, "communities.members", "communities").titled(title),
        cm: c,
        members,
        log,
        can_moderate,
        complete: complete && log_complete,
        notice,
        error,
        invite_draft,
        email_draft,
        guest_draft,
        guests_on: state.config.accounts.guests,
        mail_on: state.config.mail.enabled(),
    };
    Ok((status, render(&page)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MemberForm {
    csrf: String,
    username: String,
    reason: String,
    role: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct GuestForm {
    csrf: String,
    username: String,
}

/// A moderator renews the access of a guest of the community (see
/// `accounts::guest::renew`).
pub async fn renew_guest(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
    Form(form): Form<GuestForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    let cfg = state.config.clone();
    state
        .db
        .run(move |c| crate::accounts::guest::renew(c, &cfg.accounts, &user, &form.username))
        .await
        .page(&state, &ctx)?;
    Ok(see_other(&format!(
        "/communities/{}/members?renewed=1",
        enc_path(&name)
    )))
}

/// Moderation of one person: approve, refuse, remove, ban, unban, role.
pub async fn member_action(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((name, action)): Path<(String, String)>,
    Form(form): Form<MemberForm>,
) -> PageResult {
    use crate::federation::group_moderation::{self as gm, Outcome};
    let back = format!("/communities/{}/members", enc_path(&name));
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    let done = match membership::Act::parse(&action, &form.reason, &form.role) {
        Ok(a) => gm::member_act(&state, &user, &name, &form.username, a).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(Outcome::Done) => Ok(see_other(&back)),
        Ok(Outcome::Sent) => Ok(see_other(&format!("{back}?sent=1"))),
        // Refused: the members page again, with the reason and the name
        // typed in the invitation form.
        Err(err) if err.kind != crate::error::ErrorKind::NotFound => {
            let status = StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let msg = Some(error_text(&err, ctx.lang));
            let draft = if action == "invite" {
                form.username
            } else {
                String::new()
            };
            let drafts = (draft, String::new(), false);
            members_page(state, ctx, name, None, status, msg, drafts).await
        }
        Err(err) => act_failed(&state, &ctx, name, err).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PostActionForm {
    csrf: String,
    reason: String,
}

/// Pin, unpin or remove a post of the community.
pub async fn post_action(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((name, id, action)): Path<(String, String, String)>,
    Form(form): Form<PostActionForm>,
) -> PageResult {
    let id = super::parse_id(&state, &ctx, &id)?;
    let back = format!("/communities/{}", enc_path(&name));
    let n = name.clone();
    act(
        state,
        ctx,
        name,
        &form.csrf,
        back,
        move |c, u| match action.as_str() {
            "pin" => moderation::pin(c, u, &n, id, true),
            "unpin" => moderation::pin(c, u, &n, id, false),
            "remove" => moderation::remove_post(c, u, &n, id, &form.reason),
            _ => Err(crate::error::AppError::not_found()),
        },
    )
    .await
}

#[derive(Template)]
#[template(path = "community_settings.html")]
struct SettingsPage {
    base: Base,
    cm: Community,
    error: Option<String>,
    current_visibility: String,
    current_policy: String,
    current_partners: bool,
    /// The community's apps, shown to those who switch them (its owners,
    /// administrators) for a community of this site.
    apps: Vec<crate::apps::Switch>,
}

impl SettingsPage {
    fn new(
        base: Base,
        (c, apps): (Community, Vec<crate::apps::Switch>),
        error: Option<String>,
    ) -> SettingsPage {
        SettingsPage {
            base,
            current_visibility: c.visibility.clone(),
            current_policy: c.join_policy.clone(),
            current_partners: c.partners,
            cm: c,
            error,
            apps,
        }
    }
}

/// A community with its apps, when `user` may switch them.
fn with_apps(
    cx: &mut crate::db::DbConn,
    user: &crate::accounts::User,
    c: Community,
) -> crate::error::AppResult<(Community, Vec<crate::apps::Switch>)> {
    let apps = if c.is_local() && (c.is_owner() || user.is_admin) {
        crate::apps::switches(cx, Some(c.id))?
    } else {
        Vec::new()
    };
    Ok((c, apps))
}

pub async fn settings(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
) -> PageResult {
    let user = require_user(&state, &ctx)?.clone();
    let c = state
        .db
        .run(move |cx| {
            let c = communities::get(cx, user.id, &name)?;
            membership::require_moderator(&c, &user)?;
            with_apps(cx, &user, c)
        })
        .await
        .page(&state, &ctx)?;
    let title = c.0.title.clone();
    let page = SettingsPage::new(
        Base::new(&state, &ctx, "communities.settings", "communities").titled(title),
        c,
        None,
    );
    Ok(render(&page))
}

pub async fn save_settings(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
    Form(form): Form<CreateForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    let n = name.clone();
    let s = Settings {
        title: Some(form.title),
        description: Some(form.description),
        visibility: Some(form.visibility),
        join_policy: Some(form.join_policy),
        partners: Some(form.partners == "1"),
    };
    let u2 = user.clone();
    match state
        .db
        .run(move |c| communities::update(c, &u2, &n, &s))
        .await
    {
        Ok(c) => Ok(see_other(&format!("/communities/{}", enc_path(&c.name)))),
        Err(err) => settings_failed(&state, &ctx, name, err).await,
    }
}

/// A refused settings change (or picture): the settings page again, with
/// the message.
pub(super) async fn settings_failed(
    state: &AppState,
    ctx: &Ctx,
    name: String,
    err: crate::error::AppError,
) -> PageResult {
    let status = StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let msg = error_text(&err, ctx.lang);
    let user = super::require_user(state, ctx)?.clone();
    let c = state
        .db
        .run(move |cx| {
            let c = communities::get(cx, user.id, &name)?;
            with_apps(cx, &user, c)
        })
        .await
        .page(state, ctx)?;
    let title = c.0.title.clone();
    let page = SettingsPage::new(
        Base::new(state, ctx, "communities.settings", "communities").titled(title),
        c,
        Some(msg),
    );
    Ok((status, render(&page)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct InviteEmailForm {
    csrf: String,
    email: String,
    /// "1": as a guest.
    guest: String,
}

/// A moderator invites an e-mail address: a person of this site with it is
/// invited as by name; anyone else gets a sign-up link into the community.
/// The page says the same in both cases.
pub async fn invite_email(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
    Form(form): Form<InviteEmailForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    if !state.config.mail.enabled() {
        let msg = Some(crate::i18n::t(ctx.lang, "settings.mail_off").to_string());
        let drafts = (String::new(), form.email, form.guest == "1");
        return members_page(state, ctx, name, None, StatusCode::CONFLICT, msg, drafts).await;
    }
    let (cfg, n, address) = (state.config.clone(), name.clone(), form.email.clone());
    let locale = ctx.lang.code();
    let guest = form.guest == "1";
    let done = state
        .db
        .run(move |c| {
            membership::by_email::invite(c, &cfg.accounts, &user, &n, &address, locale, guest)
        })
        .await;
    let back = format!("/communities/{}/members", enc_path(&name));
    match done {
        Ok(_) => Ok(see_other(&format!("{back}?emailed=1"))),
        Err(err)
            if err.kind != crate::error::ErrorKind::NotFound
                && err.kind != crate::error::ErrorKind::Internal =>
        {
            let status = StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let msg = Some(error_text(&err, ctx.lang));
            members_page(
                state,
                ctx,
                name,
                None,
                status,
                msg,
                (String::new(), form.email, guest),
            )
            .await
        }
        Err(err) => act_failed(&state, &ctx, name, err).await,
    }
}

/// Starts watching a community.
pub async fn watch(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
    Form(form): Form<super::account::CsrfForm>,
) -> PageResult {
    set_watch(state, ctx, name, form.csrf, true).await
}

/// Stops watching a community.
pub async fn unwatch(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
    Form(form): Form<super::account::CsrfForm>,
) -> PageResult {
    set_watch(state, ctx, name, form.csrf, false).await
}

async fn set_watch(state: AppState, ctx: Ctx, name: String, csrf: String, on: bool) -> PageResult {
    let n = name.clone();
    let back = format!("/communities/{}", enc_path(&n));
    act(state, ctx, name, &csrf, back, move |c, u| {
        communities::set_watch(c, u, &n, on)
    })
    .await
}
