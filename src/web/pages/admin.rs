//! Pages: the administration area (accounts and invitations).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Form;

use super::account::CsrfForm;
use super::{render, require_form, require_user, see_other, ActionForm, Base, PageErr, PageResult};
use crate::accounts::admin::{Account, Show};
use crate::accounts::{self, Invitation, User};
use crate::app::AppState;
use crate::error::AppError;
use crate::federation::delivery;
use crate::stats;
use crate::web::auth::Ctx;

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    base: Base,
    dash: stats::Dashboard,
    queue: delivery::QueueStats,
    accounts: Vec<Account>,
    q: String,
    show: &'static str,
    shows: [&'static str; 4],
    next_url: Option<String>,
    /// This list's address, where its buttons return.
    back: String,
    me_name: String,
    error: Option<String>,
    /// The site's settings, or the form as sent when it was refused.
    site: SiteForm,
    open_invites: usize,
    /// (invitation, its status) newest first.
    invitations: Vec<(Invitation, &'static str)>,
    new_link: Option<String>,
    /// What was just done, as a key of `admin.notice_`.
    notice: &'static str,
    /// Whether e-mail is on; the mail queue and its troubles.
    mail_on: bool,
    mail: crate::mail::worker::QueueStats,
    mail_troubles: Vec<crate::mail::worker::Queued>,
    /// Addresses whose deliveries keep failing: (address, failures, since).
    mail_failing: Vec<(String, i32, chrono::NaiveDateTime)>,
    /// Identity: the sign-in providers and the SCIM clients (with the
    /// accounts each provisions), and a client's token just made (its name
    /// and token, shown once).
    providers: Vec<accounts::sso::ProviderStatus>,
    scim_clients: Vec<(accounts::provisioning::Client, i64)>,
    new_scim: Option<(String, String)>,
    scim_url: String,
    /// Partners' guests, those whose access ends first first.
    guests: Vec<accounts::guest::Guest>,
    /// The company directory's groups (how many in all, the first ones).
    groups: (i64, Vec<crate::communities::provisioned::GroupRow>),
    /// Whether a directory is configured, and how its last sync went.
    directory_on: bool,
    /// When, by whom and how long, why it failed, what it did.
    directory_run: Option<(chrono::NaiveDateTime, String, Option<String>, String)>,
    /// The kit: each app and whether the site offers it.
    apps: Vec<crate::apps::Switch>,
}

/// How the last directory sync went, in the reader's language.
fn directory_lines(
    lang: crate::i18n::Lang,
    run: accounts::directory::LastRun,
) -> (chrono::NaiveDateTime, String, Option<String>, String) {
    use crate::i18n::{t, tf};
    let by = t(lang, &format!("admin.directory_by_{}", run.by)).to_string();
    let took = match run.seconds {
        s if s < 1.0 => t(lang, "admin.directory_instant").to_string(),
        s => tf(
            lang,
            "admin.directory_seconds",
            &[("n", format!("{}", s.round() as u64))],
        ),
    };
    let figures = tf(
        lang,
        "admin.directory_figures",
        &[
            ("listed", run.listed.to_string()),
            ("created", run.created.to_string()),
            ("updated", run.updated.to_string()),
            ("disabled", run.disabled.to_string()),
            ("enabled", run.enabled.to_string()),
            ("skipped", run.skipped.to_string()),
            ("photos", run.photos_imported.to_string()),
        ],
    );
    (run.at, format!("{by}, {took}"), run.error, figures)
}

/// The directory's groups the console lists (the API pages through them
/// all with SCIM).
const GROUPS_SHOWN: i64 = 50;

#[derive(serde::Deserialize, Default, Clone)]
#[serde(default)]
pub struct AdminQuery {
    q: String,
    show: String,
    after: String,
    /// What was just done (`reset_sent`, `invite_sent`).
    notice: String,
}

/// The notices the page knows, so that the address cannot make it say
/// anything else.
fn notice_key(s: &str) -> &'static str {
    match s {
        "reset_sent" => "reset_sent",
        "step_reset" => "step_reset",
        "invite_sent" => "invite_sent",
        _ => "",
    }
}

/// `back` with a notice added to its query.
fn with_notice(back: &str, notice: &str) -> String {
    let (path, frag) = back.split_once('#').unwrap_or((back, ""));
    let sep = if path.contains('?') { '&' } else { '?' };
    let frag = if frag.is_empty() { "people" } else { frag };
    format!("{path}{sep}notice={notice}#{frag}")
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn admin_page(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    new_link: Option<String>,
    query: AdminQuery,
    error: Option<String>,
) -> PageResult {
    let site = state.site.get();
    let site = SiteForm {
        name: site.name,
        signup: site.signup.to_string(),
        ..SiteForm::default()
    };
    admin_page_with(state, ctx, status, (new_link, None), query, error, site).await
}

/// The administration page, with an invitation link or a SCIM client's
/// token just made (`shown`), shown once.
async fn admin_page_with(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    shown: (Option<String>, Option<(String, String)>),
    query: AdminQuery,
    error: Option<String>,
    site: SiteForm,
) -> PageResult {
    let (new_link, new_scim) = shown;
    let user = require_user(state, ctx)?.clone();
    if !user.is_admin {
        return Err(AppError::forbidden("admin_only")).page(state, ctx);
    }
    let show = Show::parse(&query.show).page(state, ctx)?;
    let (q, after) = (query.q.clone(), query.after.clone());
    let cfg = state.config.clone();
    let (dash, queue, mut accounts, invites, (mail, mail_troubles, mail_failing), identity) = state
        .db
        .run(move |c| {
            let after = Some(after.as_str()).filter(|a| !a.is_empty());
            let identity = (
                accounts::sso::providers_status(c, &cfg.accounts)?,
                accounts::provisioning::list_clients(c)?,
                accounts::provisioning::managed_counts(c)?,
                accounts::guest::list(c, &user)?,
                crate::communities::provisioned::overview(c, &user, GROUPS_SHOWN)?,
                accounts::directory::last_run(c)?,
                crate::apps::switches(c, None)?,
            );
            Ok((
                stats::dashboard(c)?,
                delivery::stats(c)?,
                accounts::admin::search(c, &user, &q, show, after)?,
                accounts::list_invitations(c)?,
                (
                    crate::mail::worker::stats(c)?,
                    crate::mail::worker::troubles(c, 20)?,
                    crate::mails::failing(c, 50)?,
                ),
                identity,
            ))
        })
        .await
        .page(state, ctx)?;
    let list = format!("/admin?q={}&show={}", enc(&query.q), show.as_str());
    let next_url = if accounts.len() as i64 > accounts::admin::PAGE_SIZE {
        accounts.truncate(accounts::admin::PAGE_SIZE as usize);
        accounts
            .last()
            .map(|a| format!("{list}&after={}#people", enc(&a.username)))
    } else {
        None
    };
    let back = match query.after.is_empty() {
        true => list,
        false => format!("{list}&after={}", enc(&query.after)),
    };
    let now = crate::db::now();
    let (providers, clients, managed, guests, groups, directory_run, apps) = identity;
    let scim_clients = clients
        .into_iter()
        .map(|cl| {
            let n = managed
                .iter()
                .find(|(id, _)| *id == cl.id)
                .map_or(0, |m| m.1);
            (cl, n)
        })
        .collect();
    let page = AdminPage {
        providers,
        scim_clients,
        new_scim,
        scim_url: format!("{}/scim/v2", state.config.base()),
        guests,
        groups,
        directory_on: state.config.accounts.ldap.enabled(),
        directory_run: directory_run.map(|r| directory_lines(ctx.lang, r)),
        apps,
        base: Base::new(state, ctx, "admin.title", "admin"),
        dash,
        queue,
        accounts,
        q: query.q,
        show: show.as_str(),
        shows: Show::ALL.map(Show::as_str),
        next_url,
        back,
        me_name: ctx
            .user
            .as_ref()
            .map(|u| u.username.clone())
            .unwrap_or_default(),
        error,
        site,
        open_invites: invites.iter().filter(|i| i.status(now) == "open").count(),
        invitations: invites
            .into_iter()
            .map(|i| {
                let status = i.status(now);
                (i, status)
            })
            .collect(),
        new_link,
        notice: notice_key(&query.notice),
        mail_on: state.config.mail.enabled(),
        mail,
        mail_troubles,
        mail_failing,
    };
    Ok((status, render(&page)).into_response())
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<AdminQuery>,
) -> PageResult {
    admin_page(&state, &ctx, StatusCode::OK, None, q, None).await
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct InviteForm {
    csrf: String,
    /// Also e-mail the link here (optional).
    email: String,
    /// The language of that e-mail.
    locale: String,
}

pub async fn invite(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<InviteForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?;
    if !user.is_admin {
        return Err(AppError::forbidden("admin_only")).page(&state, &ctx);
    }
    let email = Some(form.email.trim().to_string()).filter(|e| !e.is_empty());
    if email.is_some() && !state.config.mail.enabled() {
        return Err(AppError::conflict("mail_off")).page(&state, &ctx);
    }
    let locale = crate::i18n::Lang::parse(&form.locale).unwrap_or(ctx.lang);
    let cfg = state.config.clone();
    let by = user.id;
    let sent = email.is_some();
    let result = state
        .db
        .run(move |c| {
            let to = email
                .as_deref()
                .map(|address| accounts::invitation::SendTo {
                    address,
                    locale: locale.code(),
                    community: None,
                    guest: false,
                });
            accounts::create_invitation(c, &cfg.accounts, Some(by), to)
        })
        .await;
    let code = match result {
        Ok((_, code)) => code,
        Err(err) if err.kind != crate::error::ErrorKind::Internal => {
            let msg = super::error_text(&err, ctx.lang);
            let q = AdminQuery::default();
            return admin_page(
                &state,
                &ctx,
                StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::BAD_REQUEST),
                None,
                q,
                Some(msg),
            )
            .await;
        }
        Err(err) => return Err(err).page(&state, &ctx),
    };
    if sent {
        state.mail_wake.notify_one();
    }
    let link = state.config.invite_link(&code);
    let q = AdminQuery {
        notice: if sent {
            "invite_sent".into()
        } else {
            String::new()
        },
        ..AdminQuery::default()
    };
    admin_page(&state, &ctx, StatusCode::CREATED, Some(link), q, None).await
}

pub async fn revoke_invitation(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    let admin = require_form(&state, &ctx, &form.csrf)?.clone();
    let id = super::parse_id(&state, &ctx, &id)?;
    state
        .db
        .run(move |c| accounts::revoke_invitation(c, &admin, id))
        .await
        .page(&state, &ctx)?;
    Ok(see_other("/admin"))
}

#[derive(serde::Deserialize, Default, Clone)]
#[serde(default)]
pub struct SiteForm {
    csrf: String,
    name: String,
    signup: String,
}

/// The site's name and sign-up mode, changed from the console: this
/// process shows them at once, the others within `app::SITE_FRESH`.
pub async fn set_site(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<SiteForm>,
) -> PageResult {
    let admin = require_admin_form(&state, &ctx, &form.csrf)?.clone();
    let (name, signup) = (form.name.clone(), form.signup.clone());
    let cfg = state.config.clone();
    let result = state
        .db
        .run(move |c| {
            accounts::admin::set_site(c, &admin, Some(&name), Some(&signup))?;
            accounts::admin::site(c, &cfg.instance_name, cfg.accounts.signup)
        })
        .await;
    match result {
        Ok(site) => {
            state.site.set(site);
            Ok(see_other("/admin#site"))
        }
        Err(err) if err.kind == crate::error::ErrorKind::BadRequest => {
            let msg = super::error_text(&err, ctx.lang);
            let q = AdminQuery::default();
            let status = StatusCode::BAD_REQUEST;
            admin_page_with(&state, &ctx, status, (None, None), q, Some(msg), form).await
        }
        Err(err) => Err(err).page(&state, &ctx),
    }
}

/// An administrator's act on an account from the list: disable or
/// enable, promote to administrator or demote, delete. Returns to the list
/// as it was; a refusal is shown on it.
pub async fn account_action(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((username, action)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> PageResult {
    let admin = require_form(&state, &ctx, &form.csrf)?.clone();
    if !matches!(
        action.as_str(),
        "disable" | "enable" | "promote" | "demote" | "delete" | "reset" | "second-step"
    ) {
        return Err(AppError::not_found()).page(&state, &ctx);
    }
    if action == "reset" && !state.config.mail.enabled() {
        return Err(AppError::conflict("mail_off")).page(&state, &ctx);
    }
    let minutes = state.config.mail.reset_minutes;
    let lang = ctx.lang.code();
    let notice = match action.as_str() {
        "reset" => Some("reset_sent"),
        "second-step" => Some("step_reset"),
        _ => None,
    };
    let result = state
        .db
        .run(move |c| match action.as_str() {
            "reset" => {
                accounts::reset::request_for(c, &admin, &username, minutes, lang).map(|_| ())
            }
            "second-step" => {
                accounts::second_factor::reset_by_admin(c, &admin, &username).map(|_| ())
            }
            "disable" => accounts::set_disabled(c, &admin, &username, true).map(|_| ()),
            "enable" => accounts::set_disabled(c, &admin, &username, false).map(|_| ()),
            "promote" => accounts::admin::set_admin(c, &admin, &username, true).map(|_| ()),
            "demote" => accounts::admin::set_admin(c, &admin, &username, false).map(|_| ()),
            _ => accounts::delete_account(c, &admin, &username, None),
        })
        .await;
    match result {
        Ok(()) if notice.is_some() => {
            state.mail_wake.notify_one();
            let back = form.back_or("/admin".into());
            Ok(see_other(&with_notice(&back, notice.unwrap_or_default())))
        }
        Ok(()) => Ok(see_other(&form.back_or("/admin".into()))),
        // A refusal (the last administrator, oneself) is said on the page.
        Err(err)
            if matches!(
                err.kind,
                crate::error::ErrorKind::BadRequest
                    | crate::error::ErrorKind::Forbidden
                    | crate::error::ErrorKind::Conflict
            ) =>
        {
            let msg = super::error_text(&err, ctx.lang);
            let q = AdminQuery::default();
            admin_page(&state, &ctx, StatusCode::BAD_REQUEST, None, q, Some(msg)).await
        }
        Err(err) => Err(err).page(&state, &ctx),
    }
}

// ---- Federation trust -----------------------------------------------------

use crate::net::trust::{self, AuditEntry, Entry, Instance, Level};

#[derive(Template)]
#[template(path = "admin_federation.html")]
struct FederationPage {
    base: Base,
    mode: &'static str,
    instances: Vec<Instance>,
    audit: Vec<AuditEntry>,
    error: Option<String>,
    /// What a CSV import did.
    notice: Option<String>,
    /// What the form held, kept when it comes back with an error.
    draft: InstanceForm,
    queue: delivery::QueueStats,
    peers: Vec<delivery::Peer>,
    failed: Vec<delivery::Delivery>,
}

async fn federation_page(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    error: Option<String>,
    draft: InstanceForm,
) -> PageResult {
    federation_page_with(state, ctx, status, error, None, draft).await
}

async fn federation_page_with(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
    draft: InstanceForm,
) -> PageResult {
    let user = require_user(state, ctx)?;
    if !user.is_admin {
        return Err(AppError::forbidden("admin_only")).page(state, ctx);
    }
    let (instances, audit, queue, peers, failed) = state
        .db
        .run(|c| {
            Ok((
                trust::list(c)?,
                trust::audit_log(c, 50)?,
                delivery::stats(c)?,
                delivery::peers(c)?,
                delivery::failed(c, 100)?,
            ))
        })
        .await
        .page(state, ctx)?;
    let base = Base::new(state, ctx, "admin.federation", "admin");
    let page = FederationPage {
        mode: base
            .tr
            .tv("admin.mode_", state.config.federation.mode.as_str()),
        base,
        instances,
        audit,
        error,
        notice,
        draft,
        queue,
        peers,
        failed,
    };
    Ok((status, render(&page)).into_response())
}

pub async fn federation(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    let draft = InstanceForm {
        level: "member".into(),
        ..InstanceForm::default()
    };
    federation_page(&state, &ctx, StatusCode::OK, None, draft).await
}

#[derive(serde::Deserialize, Default, Clone)]
#[serde(default)]
pub struct InstanceForm {
    csrf: String,
    domain: String,
    level: String,
    reason: String,
    expires: String,
    allow_private: String,
}

fn require_admin_form<'a>(
    state: &AppState,
    ctx: &'a Ctx,
    csrf: &str,
) -> Result<&'a User, super::PageError> {
    let user = require_form(state, ctx, csrf)?;
    if !user.is_admin {
        return Err(AppError::forbidden("admin_only")).page(state, ctx);
    }
    Ok(user)
}

pub async fn set_instance(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<InstanceForm>,
) -> PageResult {
    let actor = require_admin_form(&state, &ctx, &f.csrf)?.username.clone();
    let draft = InstanceForm {
        csrf: String::new(),
        ..f.clone()
    };
    let result = state
        .db
        .run(move |c| {
            let level = Level::parse(&f.level)?;
            let expires_at = trust::parse_expiry(Some(&f.expires), "expires")?;
            trust::set(
                c,
                &actor,
                Entry {
                    domain: &f.domain,
                    level,
                    reason: &f.reason,
                    expires_at,
                    allow_private: !f.allow_private.is_empty(),
                },
            )
        })
        .await;
    match result {
        Ok(_) => Ok(see_other("/admin/federation")),
        Err(err) if err.kind == crate::error::ErrorKind::BadRequest => {
            let msg = super::error_text(&err, ctx.lang);
            federation_page(&state, &ctx, StatusCode::BAD_REQUEST, Some(msg), draft).await
        }
        Err(err) => Err(err).page(&state, &ctx),
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct RemoveForm {
    csrf: String,
    domain: String,
    reason: String,
}

pub async fn remove_instance(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<RemoveForm>,
) -> PageResult {
    let actor = require_admin_form(&state, &ctx, &f.csrf)?.username.clone();
    state
        .db
        .run(move |c| trust::remove(c, &actor, &f.domain, &f.reason))
        .await
        .page(&state, &ctx)?;
    Ok(see_other("/admin/federation"))
}

pub async fn export_csv(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    let user = require_user(&state, &ctx)?;
    if !user.is_admin {
        return Err(AppError::forbidden("admin_only")).page(&state, &ctx);
    }
    let csv = state.db.run(trust::export_csv).await.page(&state, &ctx)?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"instances.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}

/// Sends a failed delivery again.
pub async fn retry_delivery(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    require_admin_form(&state, &ctx, &f.csrf)?;
    let id = super::parse_id(&state, &ctx, &id)?;
    state
        .db
        .run(move |c| delivery::retry(c, id))
        .await
        .page(&state, &ctx)?;
    state.wake.notify_one();
    Ok(see_other("/admin/federation"))
}

pub async fn retry_mail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    require_admin_form(&state, &ctx, &f.csrf)?;
    let id = super::parse_id(&state, &ctx, &id)?;
    state
        .db
        .run(move |c| crate::mail::worker::retry(c, id))
        .await
        .page(&state, &ctx)?;
    state.mail_wake.notify_one();
    Ok(see_other("/admin#mail"))
}

#[derive(serde::Deserialize)]
pub struct AddressForm {
    csrf: String,
    address: String,
}

/// An administrator says an address that kept bouncing works again.
pub async fn address_works(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<AddressForm>,
) -> PageResult {
    require_admin_form(&state, &ctx, &f.csrf)?;
    state
        .db
        .run(move |c| crate::mails::works(c, &f.address))
        .await
        .page(&state, &ctx)?;
    Ok(see_other("/admin#mail"))
}

/// Largest trust list accepted from the page.
pub const CSV_LIMIT: usize = 1024 * 1024;

/// Imports a trust list (CSV, as exported here or by Mastodon) chosen as a
/// file on the federation page: all of it or, on any bad line, nothing.
pub async fn import_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    mut form: axum::extract::Multipart,
) -> PageResult {
    let too_large = || AppError::new(crate::error::ErrorKind::PayloadTooLarge, "body_unreadable");
    let (mut csrf, mut csv) = (String::new(), Vec::new());
    let read: Result<(), AppError> = async {
        let unreadable = |e: axum::extract::multipart::MultipartError| match e.status() {
            StatusCode::PAYLOAD_TOO_LARGE => too_large(),
            _ => AppError::bad_request("form_invalid"),
        };
        while let Some(mut field) = form.next_field().await.map_err(unreadable)? {
            let name = field.name().unwrap_or_default().to_string();
            let mut buf = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
                if buf.len() + chunk.len() > CSV_LIMIT {
                    return Err(too_large());
                }
                buf.extend_from_slice(&chunk);
            }
            match name.as_str() {
                "csrf" => csrf = String::from_utf8_lossy(&buf).into_owned(),
                "csv" => csv = buf,
                _ => {}
            }
        }
        Ok(())
    }
    .await;
    let draft = InstanceForm {
        level: "member".into(),
        ..InstanceForm::default()
    };
    if let Err(err) = read {
        require_user(&state, &ctx)?;
        let status = StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
        let msg = super::error_text(&err, ctx.lang);
        return federation_page(&state, &ctx, status, Some(msg), draft).await;
    }
    let admin = require_admin_form(&state, &ctx, &csrf)?;
    let actor = admin.username.clone();
    let result = match String::from_utf8(csv) {
        Ok(text) => {
            state
                .db
                .run(move |c| trust::import_csv(c, &actor, &text))
                .await
        }
        Err(_) => Err(AppError::bad_request("csv_line").with("line", 1)),
    };
    match result {
        Ok(n) => {
            let notice = Base::new(&state, &ctx, "admin.federation", "admin").tr.tf1(
                "admin.imported",
                "n",
                &n,
            );
            federation_page_with(&state, &ctx, StatusCode::OK, None, Some(notice), draft).await
        }
        Err(err) if err.kind == crate::error::ErrorKind::BadRequest => {
            let msg = super::error_text(&err, ctx.lang);
            federation_page(&state, &ctx, StatusCode::BAD_REQUEST, Some(msg), draft).await
        }
        Err(err) => Err(err).page(&state, &ctx),
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ScimForm {
    csrf: String,
    name: String,
}

/// Makes a SCIM client; its token is shown once, on the page answered.
pub async fn scim_create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<ScimForm>,
) -> PageResult {
    require_form(&state, &ctx, &form.csrf)?;
    let user = require_user(&state, &ctx)?.clone();
    let name = form.name.trim().to_string();
    let n = name.clone();
    let made = state
        .db
        .run(move |c| accounts::provisioning::create_client_as(c, &user, &n))
        .await;
    let q = AdminQuery::default();
    match made {
        Ok(token) => {
            let site = state.site.get();
            let site = SiteForm {
                name: site.name,
                signup: site.signup.to_string(),
                ..SiteForm::default()
            };
            admin_page_with(
                &state,
                &ctx,
                StatusCode::CREATED,
                (None, Some((name, token))),
                q,
                None,
                site,
            )
            .await
        }
        Err(e) if e.code == "admin_only" => Err(e).page(&state, &ctx),
        Err(e) => {
            let msg = super::error_text(&e, ctx.lang);
            admin_page(&state, &ctx, StatusCode::BAD_REQUEST, None, q, Some(msg)).await
        }
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct GuestForm {
    csrf: String,
    username: String,
}

/// Renews a guest's access (see `accounts::guest::renew`).
pub async fn renew_guest(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<GuestForm>,
) -> PageResult {
    let user = require_form(&state, &ctx, &form.csrf)?.clone();
    if !user.is_admin {
        return Err(AppError::forbidden("admin_only")).page(&state, &ctx);
    }
    let cfg = state.config.clone();
    state
        .db
        .run(move |c| accounts::guest::renew(c, &cfg.accounts, &user, &form.username))
        .await
        .page(&state, &ctx)?;
    Ok(see_other("/admin#guests"))
}

/// Revokes a SCIM client's token.
pub async fn scim_revoke(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<ScimForm>,
) -> PageResult {
    require_form(&state, &ctx, &form.csrf)?;
    let user = require_user(&state, &ctx)?.clone();
    state
        .db
        .run(move |c| accounts::provisioning::revoke_client_as(c, &user, &form.name))
        .await
        .page(&state, &ctx)?;
    Ok(see_other("/admin#identity"))
}
