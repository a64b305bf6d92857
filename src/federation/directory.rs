//! The people directory shared between the organisation's sites.
//!
//! **Serving.** `GET /directory` (then `?after=N`) is an ActivityStreams
//! `OrderedCollectionPage` of the addresses of this site's people who
//! agreed to be listed (`people::directory_share`), [`PAGE`] at a time,
//! with `next` while there are more. Only a signed request of a member
//! site is answered, or of a partner site when
//! `federation.share_directory_with_partners` is set; anyone else gets the
//! same 404 as for a page that does not exist.
//!
//! **Reading.** Every `federation.directory_sync_seconds`, each process
//! reads the lists of the member sites of the trust list (signed by the
//! instance actor, through the outgoing client: trust gate, address
//! checks, the document must be the page asked for), at most
//! [`MAX_LISTED`] people per site, and fetches the profiles it does not
//! have or has not refreshed for `federation.profile_refresh_minutes`, at
//! most [`MAX_FETCHES`] per site and round (the rest come at the next
//! rounds). A list read to its end then decides who of that site is found
//! here: the people it names, not those it left out (they chose not to be
//! listed, or left), who stay known for follows and threads. A list that
//! could not be read to its end changes nothing.
//!
//! Pushed updates (a profile's `Update`) reach only followers; the list is
//! read again instead, which also catches what a lost message missed.

use axum::extract::{Query, Request, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::routes::{activity_json, err, fetcher};
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::net::trust::Decision;
use crate::people::directory_share;
use crate::urls::Urls;

pub use directory_share::PAGE;
/// People read from one site's list.
pub const MAX_LISTED: usize = 20_000;
/// Profiles fetched per site and round.
pub const MAX_FETCHES: usize = 500;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PageQuery {
    after: i64,
}

/// `GET /directory`.
pub async fn serve(
    State(state): State<AppState>,
    Query(q): Query<PageQuery>,
    req: Request,
) -> Response {
    let pq = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let reader = match fetcher(&state, &pq, req.headers()).await {
        Ok(r) => r,
        Err(e) => return err(e),
    };
    let allowed = match reader.as_ref().map(|r| &r.instance.trust) {
        Some(Decision::Member) => true,
        Some(Decision::Partner) => state.config.federation.share_directory_with_partners,
        _ => false,
    };
    if !allowed {
        return err(AppError::not_found());
    }
    let after = q.after.max(0);
    let (names, next) = match state.db.run(move |c| directory_share::page(c, after)).await {
        Ok(p) => p,
        Err(e) => return err(e),
    };
    let urls = Urls(&state.config);
    let base = format!("{}/directory", state.config.base());
    let mut doc = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        // The address asked for, as the reader checks.
        "id": format!("{}{pq}", state.config.base()),
        "type": "OrderedCollectionPage",
        "partOf": base,
        "orderedItems": names.iter().map(|n| urls.person(n)).collect::<Vec<_>>(),
    });
    if let Some(n) = next {
        doc["next"] = json!(format!("{base}?after={n}"));
    }
    activity_json(doc)
}

/// What one round did with one site's list.
#[derive(Debug, Default)]
pub struct Round {
    pub listed: usize,
    pub fetched: usize,
    pub hidden: usize,
    /// Whether the list was read to its end.
    pub complete: bool,
}

/// Reads the list of the member site `domain` and fetches its people.
pub async fn read_site(state: &AppState, domain: &str) -> AppResult<Round> {
    let scheme = state.config.scheme();
    let mut url = format!("{scheme}://{domain}/directory");
    let mut listed: Vec<String> = Vec::new();
    let mut round = Round::default();
    loop {
        let page = state.fed.get(&url).await?;
        let items = page["orderedItems"].as_array().cloned().unwrap_or_default();
        for item in items {
            // Only people of that site, named by their address there.
            let Some(a) = item.as_str() else { continue };
            if super::remote::authority(a).as_deref() != Some(domain) {
                continue;
            }
            listed.push(a.to_string());
        }
        if listed.len() > MAX_LISTED {
            listed.truncate(MAX_LISTED);
            break;
        }
        match page["next"].as_str() {
            Some(next) if super::remote::authority(next).as_deref() == Some(domain) => {
                url = next.to_string();
            }
            Some(_) => break,
            None => {
                round.complete = true;
                break;
            }
        }
    }
    round.listed = listed.len();
    for a in &listed {
        if round.fetched >= MAX_FETCHES {
            break;
        }
        let key = a.clone();
        let known = state
            .db
            .run(move |c| super::remote::find_actor(c, &key))
            .await?;
        if known
            .as_ref()
            .is_some_and(|k| super::remote::fresh(state, k))
        {
            continue;
        }
        match super::remote::actor(state, a, false).await {
            Ok(_) => round.fetched += 1,
            Err(e) => {
                tracing::warn!(actor = %a, error = %e, "a person of the shared directory could not be fetched")
            }
        }
    }
    if round.complete {
        let d = domain.to_string();
        round.hidden = state
            .db
            .run(move |c| directory_share::listed(c, &d, &listed))
            .await?;
    }
    Ok(round)
}

/// The member sites of the trust list.
fn member_sites(c: &mut crate::db::DbConn) -> AppResult<Vec<String>> {
    let mut out = Vec::new();
    for i in crate::net::trust::list(c)? {
        if crate::net::trust::decide(c, &i.domain)? == Decision::Member {
            out.push(i.domain);
        }
    }
    Ok(out)
}

/// Reads the member sites' lists every `federation.directory_sync_seconds`
/// (0: never).
pub async fn run(state: AppState) {
    let every = state.config.federation.directory_sync_seconds;
    if every == 0 {
        return;
    }
    let period = std::time::Duration::from_secs(every);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    loop {
        tick.tick().await;
        let sites = match state.db.run(member_sites).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the trust list for the shared directory");
                continue;
            }
        };
        for site in sites {
            match read_site(&state, &site).await {
                Ok(r) => {
                    tracing::debug!(site = %site, listed = r.listed, fetched = r.fetched, hidden = r.hidden, complete = r.complete, "read a shared directory")
                }
                Err(e) => {
                    tracing::info!(site = %site, error = %e, "could not read a shared directory; next round")
                }
            }
        }
    }
}
