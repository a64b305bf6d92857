//! HTTP endpoints of federation: WebFinger, NodeInfo, the instance actor,
//! inboxes, and ActivityPub views of people and content (chosen by the
//! `Accept` header on the same URLs as the pages).

use activitypub_federation::fetch::webfinger::{Webfinger, WebfingerLink};
use activitypub_federation::protocol::tombstone::Tombstone;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::{json, Value};

use super::json as apjson;
use super::reader::{signed_reader, SignedReader};
use crate::app::AppState;
use crate::audience::{self, Need, Viewer};
use crate::config::FederationMode;
use crate::content::ContentRow;
use crate::db::schema::{content, users};
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::net::AP_TYPE;
use crate::urls::Urls;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/webfinger", get(webfinger))
        .route("/.well-known/nodeinfo", get(nodeinfo_links))
        .route("/nodeinfo/2.1", get(nodeinfo))
        .route("/actor", get(instance_actor))
        .route("/directory", get(super::directory::serve))
        .route("/inbox", post(shared_inbox))
        .route("/people/{username}/inbox", post(person_inbox))
        .route("/communities/{name}/inbox", post(community_inbox))
        .route("/people/{username}/outbox", get(outbox))
        .layer(axum::extract::DefaultBodyLimit::max(
            super::activities::MAX_BODY * 4,
        ))
}

pub(super) fn err(e: AppError) -> Response {
    if e.kind == crate::error::ErrorKind::Internal {
        tracing::error!(error = %e, "federation request failed");
    }
    crate::error::json_response(&e, Lang::En)
}

/// An ActivityPub document; a Tombstone is answered 410 Gone.
pub(super) fn activity_json(v: Value) -> Response {
    let status = if v["type"] == "Tombstone" {
        StatusCode::GONE
    } else {
        StatusCode::OK
    };
    (status, [(header::CONTENT_TYPE, AP_TYPE)], v.to_string()).into_response()
}

#[derive(Deserialize)]
struct WebfingerQuery {
    resource: Option<String>,
}

async fn webfinger(State(state): State<AppState>, Query(q): Query<WebfingerQuery>) -> Response {
    let Some(resource) = q.resource else {
        return err(AppError::bad_request("resource_missing"));
    };
    let urls = Urls(&state.config);
    let name = if let Some(acct) = resource.strip_prefix("acct:") {
        let Some((name, domain)) = acct.trim_start_matches('@').rsplit_once('@') else {
            return err(AppError::bad_request("handle_invalid"));
        };
        if !domain.eq_ignore_ascii_case(&authority(&state)) {
            return err(AppError::not_found());
        }
        name.to_ascii_lowercase()
    } else if let Some(n) = urls.local_username(&resource) {
        n
    } else {
        return err(AppError::not_found());
    };
    let n = name.clone();
    let found = state
        .db
        .run(move |c| {
            let u = crate::accounts::find_by_username(c, &n)?;
            // Secret communities are not listed (they are found by address,
            // with a signature).
            let secret = !u.is_person()
                && crate::communities::policy(c, u.id)
                    .map(|s| s.visibility == audience::CommunityVisibility::Secret)?;
            Ok((u, secret))
        })
        .await;
    let href = match found {
        Ok((u, false)) if u.is_local() && !u.disabled && u.deleted_at.is_none() => {
            if u.is_person() {
                urls.person(&name)
            } else {
                urls.community(&name)
            }
        }
        Ok(_) => return err(AppError::not_found()),
        Err(e) => return err(e),
    };
    let href = match apjson::own(&href) {
        Ok(u) => u,
        Err(e) => return err(e),
    };
    let link = |rel: &str, kind: &str| WebfingerLink {
        rel: Some(rel.to_string()),
        kind: Some(kind.to_string()),
        href: Some(href.clone()),
        ..Default::default()
    };
    let body = Webfinger {
        subject: format!("acct:{name}@{}", authority(&state)),
        links: vec![
            link("self", AP_TYPE),
            link("http://webfinger.net/rel/profile-page", "text/html"),
        ],
        aliases: vec![href.clone()],
        properties: Default::default(),
    };
    match serde_json::to_string(&body) {
        Ok(text) => ([(header::CONTENT_TYPE, "application/jrd+json")], text).into_response(),
        Err(e) => err(AppError::internal(e)),
    }
}

/// `host[:port]` of our base URL: the domain part of our handles.
pub fn authority(state: &AppState) -> String {
    crate::urls::host_of(&state.config.base_url).unwrap_or_default()
}

async fn nodeinfo_links(State(state): State<AppState>) -> Response {
    Json(json!({"links": [{
        "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
        "href": format!("{}/nodeinfo/2.1", state.config.base()),
    }]}))
    .into_response()
}

async fn nodeinfo(State(state): State<AppState>) -> Response {
    let counts = state
        .db
        .run(|c| {
            let users_n: i64 = users::table
                .filter(users::domain.is_null())
                .filter(users::disabled.eq(false))
                .count()
                .get_result(c)?;
            let posts_n: i64 = content::table
                .filter(content::ap_id.is_null())
                .filter(content::deleted_at.is_null())
                .count()
                .get_result(c)?;
            Ok::<_, AppError>((users_n, posts_n))
        })
        .await;
    let (users_n, posts_n) = match counts {
        Ok(c) => c,
        Err(e) => return err(e),
    };
    state.site.refresh(&state.db, &state.config).await;
    let body = json!({
        "version": "2.1",
        "software": {"name": "ruche", "version": env!("CARGO_PKG_VERSION"), "repository": "https://example.invalid/ruche"},
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": state.site.signup() == crate::config::SignupMode::Open,
        "usage": {"users": {"total": users_n}, "localPosts": posts_n},
        "metadata": {"nodeName": state.site.get().name, "federationMode": state.config.federation.mode.as_str()},
    });
    (
        [(
            header::CONTENT_TYPE,
            "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.1#\"",
        )],
        body.to_string(),
    )
        .into_response()
}

async fn instance_actor(State(state): State<AppState>) -> Response {
    match state.db.run(crate::net::keys::instance_keys).await {
        Ok(k) => {
            match super::objects::person::instance_actor(&state.config, &k.public_pem)
                .and_then(apjson::document)
            {
                Ok(doc) => activity_json(doc),
                Err(e) => err(e),
            }
        }
        Err(e) => err(e),
    }
}

async fn inbox_common(state: AppState, path: &str, headers: HeaderMap, body: Bytes) -> Response {
    match super::activities::receive(&state, path, &headers, &body).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => {
            if e.kind != crate::error::ErrorKind::Internal {
                tracing::info!(error = %e, "refused an activity");
            }
            err(e)
        }
    }
}

async fn shared_inbox(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    inbox_common(state, "/inbox", headers, body).await
}

async fn person_inbox(
    State(state): State<AppState>,
    Path(username): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/people/{username}/inbox");
    inbox_common(state, &path, headers, body).await
}

async fn community_inbox(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/communities/{name}/inbox");
    inbox_common(state, &path, headers, body).await
}

/// Who is fetching: in allowlist mode every fetch must be signed by a
/// trusted instance; in open mode a signature is optional.
pub(super) async fn fetcher(
    state: &AppState,
    req_path: &str,
    headers: &HeaderMap,
) -> AppResult<Option<SignedReader>> {
    let reader = signed_reader(state, req_path, headers).await?;
    if reader.is_none() && state.config.federation.mode == FederationMode::Allowlist {
        return Err(AppError::unauthorized("signature_missing"));
    }
    Ok(reader)
}

/// The audience module's viewer for a fetch.
fn viewer_of(reader: &Option<SignedReader>) -> Viewer {
    match reader {
        Some(r) => Viewer::Instance(r.instance.clone()),
        None => Viewer::Nobody,
    }
}

async fn outbox(
    State(state): State<AppState>,
    Path(username): Path<String>,
    req: Request,
) -> Response {
    let pq = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    if let Err(e) = fetcher(&state, &pq, req.headers()).await {
        return err(e);
    }
    let name = username.clone();
    match state
        .db
        .run(move |c| {
            let u = crate::accounts::find_by_username(c, &name)?;
            if !u.is_local() {
                return Err(AppError::not_found());
            }
            let n: i64 = content::table
                .filter(content::author_id.eq(u.id))
                .filter(content::deleted_at.is_null())
                .filter(content::visibility.eq(audience::Visibility::Public))
                .count()
                .get_result(c)?;
            Ok(n)
        })
        .await
    {
        Ok(n) => match apjson::collection_summary(
            format!("{}/outbox", Urls(&state.config).person(&username)),
            n,
        ) {
            Ok(doc) => activity_json(doc),
            Err(e) => err(e),
        },
        Err(e) => err(e),
    }
}

/// Middleware: a GET of a person, a post or a person's collections that asks
/// for ActivityPub JSON is answered here; anything else goes to the pages.
pub async fn negotiate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::GET || !super::wants_activity_json(req.headers()) {
        return next.run(req).await;
    }
    let path = req.uri().path().to_string();
    let pq = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["people", name] => person(&state, name, &pq, req.headers()).await,
        ["people", name, which @ ("followers" | "following")] => {
            collection(&state, name, which, &pq, req.headers()).await
        }
        ["posts", id] => post_doc(&state, id, &pq, req.headers()).await,
        ["communities", name] => community_doc(&state, name, None, &pq, req.headers()).await,
        ["communities", name, which @ ("followers" | "outbox" | "moderation")] => {
            community_doc(&state, name, Some(which), &pq, req.headers()).await
        }
        _ => next.run(req).await,
    }
}

/// A local community's Group document, its members (`followers`: the count,
/// and the people for an instance that may see its content), its recent
/// posts for back-fill (`outbox`) or its moderation log (`moderation`). A
/// community the fetching instance may not see answers 404, as if it did
/// not exist.
async fn community_doc(
    state: &AppState,
    name: &str,
    which: Option<&str>,
    pq: &str,
    headers: &HeaderMap,
) -> Response {
    let fetcher = match fetcher(state, pq, headers).await {
        Ok(f) => f,
        Err(e) => return err(e),
    };
    let name = name.to_string();
    let which = which.map(str::to_string);
    let cfg = state.config.clone();
    let result = state
        .db
        .run(move |c| {
            let url = Urls(&cfg).community(&name);
            let group =
                super::groups::local_community(c, &cfg, &url)?.ok_or_else(AppError::not_found)?;
            let s = crate::communities::policy(c, group.id)?;
            let may_see = |c: &mut crate::db::DbConn, need| match &fetcher {
                Some(r) => audience::instance_may_see_community(c, group.id, &r.instance, need),
                // Unsigned (open mode only).
                None => audience::nobody_may_see_community(c, group.id),
            };
            let need = match which.as_deref() {
                Some("outbox" | "moderation") => Need::Content,
                _ => Need::Existence,
            };
            if !may_see(c, need)? {
                return Err(AppError::not_found());
            }
            match which.as_deref() {
                None => {
                    let keys = crate::net::keys::user_keys(c, group.id)?;
                    super::json::document(super::objects::group::document(
                        &cfg,
                        &group,
                        &s,
                        &keys.public_pem,
                    )?)
                }
                Some("followers") => {
                    let people = may_see(c, Need::Content)?;
                    super::group_roster::roster_document(
                        c,
                        &cfg,
                        &group,
                        fetcher.as_ref().map(|r| &r.signer),
                        people,
                    )
                }
                Some("moderation") => super::group_roster::log_document(c, &cfg, &group),
                _ => {
                    let items = super::groups::backfill_items(c, &cfg, group.id)?;
                    let id = Urls(&cfg).community_outbox(&name);
                    apjson::document(apjson::collection(&id, items.len() as i64, Some(items))?)
                }
            }
        })
        .await;
    match result {
        Ok(doc) => activity_json(doc),
        Err(e) => err(e),
    }
}

async fn person(state: &AppState, name: &str, pq: &str, headers: &HeaderMap) -> Response {
    if let Err(e) = fetcher(state, pq, headers).await {
        return err(e);
    }
    let name = name.to_string();
    let cfg = state.config.clone();
    match state
        .db
        .run(move |c| {
            let u = crate::accounts::find_by_username(c, &name)?;
            if u.is_local() && u.deleted_at.is_some() {
                let id = apjson::own(&Urls(&cfg).person(&u.username))?;
                return apjson::document(Tombstone::new(id));
            }
            // A disabled account (someone who left) is served as closed.
            if !u.is_local() || !u.is_person() {
                return Err(AppError::not_found());
            }
            apjson::document(super::objects::person::published(c, &cfg, &u)?)
        })
        .await
    {
        Ok(doc) => activity_json(doc),
        Err(e) => err(e),
    }
}

async fn collection(
    state: &AppState,
    name: &str,
    which: &str,
    pq: &str,
    headers: &HeaderMap,
) -> Response {
    if let Err(e) = fetcher(state, pq, headers).await {
        return err(e);
    }
    let n = name.to_string();
    let w = which.to_string();
    match state
        .db
        .run(move |c| {
            let u = crate::accounts::find_by_username(c, &n)?;
            if !u.is_local() {
                return Err(AppError::not_found());
            }
            let (followers, following) = crate::follows::counts(c, u.id)?;
            Ok(if w == "followers" {
                followers
            } else {
                following
            })
        })
        .await
    {
        Ok(total) => match apjson::collection_summary(
            format!("{}/{which}", Urls(&state.config).person(name)),
            total,
        ) {
            Ok(doc) => activity_json(doc),
            Err(e) => err(e),
        },
        Err(e) => err(e),
    }
}

async fn post_doc(state: &AppState, id: &str, pq: &str, headers: &HeaderMap) -> Response {
    let fetcher = match fetcher(state, pq, headers).await {
        Ok(f) => f,
        Err(e) => return err(e),
    };
    let Ok(id) = id.parse::<i64>() else {
        return err(AppError::not_found());
    };
    let cfg = state.config.clone();
    let viewer = viewer_of(&fetcher);
    let result = state
        .db
        .run(move |c| {
            let row: ContentRow = content::table
                .find(id)
                .filter(content::ap_id.is_null())
                .select(ContentRow::as_select())
                .first(c)?;
            let root: ContentRow = match row.root_id {
                Some(r) => content::table
                    .find(r)
                    .select(ContentRow::as_select())
                    .first(c)?,
                None => row.clone(),
            };
            let (own, top) = (row.audience_item(), root.audience_item());
            let host_decides = if audience::may_read_item(c, &viewer, &own, &top)? {
                None
            } else {
                // Not revealed unless the community's host vouches: the
                // same answer as for a post that does not exist.
                Some(
                    audience::host_decides(c, &viewer, &own, &top)?
                        .ok_or_else(AppError::not_found)?,
                )
            };
            let mut doc = if row.deleted_at.is_some() {
                apjson::document(Tombstone::new(apjson::own(&Urls(&cfg).post(row.id))?))?
            } else if row.community_id.is_some() {
                super::json::document(super::groups::community_note(c, &cfg, &row)?)?
            } else {
                super::outbox::note_document(c, &cfg, &row, &root)?
            };
            if matches!(viewer, Viewer::Nobody) {
                super::objects::note::without_quiz_key(&mut doc);
            }
            Ok((host_decides, doc))
        })
        .await;
    let (host_decides, doc) = match result {
        Ok(r) => r,
        Err(e) => return err(e),
    };
    if let (Some(community), Some(reader)) = (host_decides, &fetcher) {
        match super::group_roster::host_lists_instance(state, community, &reader.instance.domain)
            .await
        {
            Ok(true) => {}
            Ok(false) => return err(AppError::not_found()),
            Err(e) => {
                tracing::info!(error = %e, "the community's host could not be asked");
                return err(AppError::not_found());
            }
        }
    }
    activity_json(doc)
}
