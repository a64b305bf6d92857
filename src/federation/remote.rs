//! Remote people and content: reading their documents (as Mastodon,
//! GoToSocial, Lemmy and Ruche publish them) with bounds on every field,
//! storing them, and finding them by handle or URL.

use diesel::prelude::*;
use serde_json::Value;

use crate::accounts::{RemoteProfile, User};
use crate::app::AppState;
use crate::communities::Policy;
use crate::db::schema::users;
use crate::db::{now, DbConn};
use crate::error::{AppError, AppResult};
use crate::urls::host_of;

pub const MAX_NAME: usize = 200;
pub const MAX_SUMMARY: usize = 20_000;
pub const MAX_CONTENT: usize = 100_000;
pub const MAX_TAGS: usize = 50;
pub const MAX_ATTACHMENTS: usize = 20;
pub const MAX_RECIPIENTS: usize = 1000;

/// A remote document or activity that lacks a field or has it wrong.
pub(super) fn invalid(field: &'static str) -> AppError {
    AppError::bad_request("activity_invalid").with("field", field)
}

/// A remote actor as we keep it.
#[derive(Debug, Clone)]
pub struct RemoteActor {
    /// What is stored of the account.
    pub profile: RemoteProfile,
    /// The photo's address, when it is an http(s) URL.
    pub icon: String,
    /// A community (`Group`) and its policy.
    pub group: Option<Policy>,
    /// A person's skills, from the actor's hashtags, with the endorsements
    /// their site counts for each.
    pub skills: Vec<(String, i64)>,
}

/// `host[:port]` of a URL: the domain part of a handle (see [`host_of`]).
pub fn authority(url: &str) -> Option<String> {
    host_of(url)
}

/// Reads an actor document; its id must live on `expected_host` (see
/// [`super::objects::person::read`]).
pub fn parse_actor(v: &Value, expected_host: &str) -> AppResult<RemoteActor> {
    super::objects::person::read(&super::protocol::read(v, "actor")?, expected_host, None)
}

/// Stores or refreshes a fetched actor through its feature: a community's
/// with its policy, anyone else's as an account.
pub fn upsert_actor(conn: &mut DbConn, a: &RemoteActor) -> AppResult<User> {
    match &a.group {
        Some(policy) => crate::communities::remote::store(conn, &a.profile, policy),
        None => crate::people::store_remote(conn, &a.profile, &a.skills),
    }
}

/// The stored remote person with this actor id or key id.
pub fn find_actor(conn: &mut DbConn, ap_id_or_key: &str) -> AppResult<Option<Known>> {
    type Row = (User, String, Option<String>, Option<chrono::NaiveDateTime>);
    let row: Option<Row> = users::table
        .filter(
            users::ap_id
                .eq(ap_id_or_key)
                .or(users::key_id.eq(ap_id_or_key)),
        )
        .filter(users::domain.is_not_null())
        .select((
            User::as_select(),
            users::public_key,
            users::ap_id,
            users::fetched_at,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(|(user, pem, ap_id, at)| Known {
        user,
        pem,
        ap_id: ap_id.unwrap_or_default(),
        fetched_at: at.unwrap_or_default(),
    }))
}

/// A stored remote person with its key and actor id.
#[derive(Debug, Clone)]
pub struct Known {
    pub user: User,
    pub pem: String,
    pub ap_id: String,
    pub fetched_at: chrono::NaiveDateTime,
}

/// Whether a stored actor was read recently enough to be used as it is.
pub fn fresh(state: &AppState, known: &Known) -> bool {
    fresh_for(&state.config, known)
}

/// [`fresh`], with the configuration only.
pub fn fresh_for(cfg: &crate::config::Config, known: &Known) -> bool {
    let max_age = chrono::Duration::minutes(cfg.federation.profile_refresh_minutes as i64);
    now() - known.fetched_at < max_age
}

/// The remote actor at `url`, from the cache when fresh, else fetched.
/// Its host's counts of followers and followed accounts are not read: an
/// actor met through a signature, a post or a vote may never be looked at
/// here (see [`profile_shown`]).
pub async fn actor(state: &AppState, url: &str, force: bool) -> AppResult<Known> {
    actor_named(state, url, force, None, false).await
}

/// A key published as its own document (a bare key, or a stub of the
/// actor with only its key, as GoToSocial's `/main-key`): it names its
/// owner.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyDocument {
    #[serde(default, deserialize_with = "super::protocol::lenient")]
    inbox: Option<url::Url>,
    #[serde(default, deserialize_with = "super::protocol::lenient")]
    owner: Option<url::Url>,
    #[serde(default, deserialize_with = "super::protocol::lenient_list")]
    public_key: Vec<super::protocol::PublicKey>,
}

/// [`actor`], naming an actor that gives no `preferredUsername` by
/// `webfinger_name` (the name it was found by) when given, and reading its
/// host's counts too when `totals` (someone here asked for this person).
async fn actor_named(
    state: &AppState,
    url: &str,
    force: bool,
    webfinger_name: Option<&str>,
    totals: bool,
) -> AppResult<Known> {
    let key = url.to_string();
    let cached = state.db.run(move |c| find_actor(c, &key)).await?;
    if let Some(k) = &cached {
        if !force && fresh(state, k) {
            return Ok(k.clone());
        }
    }
    // A key id is the actor URL with a fragment (or a path below it).
    let actor_url = url.split('#').next().unwrap_or(url).to_string();
    let host = host_of(&actor_url).ok_or_else(|| AppError::bad_request("remote_url_invalid"))?;
    let fetched = match state.fed.get(&actor_url).await {
        Ok(doc) => doc,
        // Keep what we had when the remote instance is down, or when the
        // actor is gone (its Delete is still signed with the known key).
        Err(e)
            if matches!(
                e.kind,
                crate::error::ErrorKind::BadGateway | crate::error::ErrorKind::NotFound
            ) =>
        {
            if let Some(k) = cached {
                return Ok(k);
            }
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    let key_doc: KeyDocument = super::protocol::read(&fetched, "publicKey")?;
    let doc = if key_doc.inbox.is_none() {
        let owner = key_doc
            .owner
            .or_else(|| key_doc.public_key.into_iter().next().map(|k| k.owner))
            .ok_or_else(|| invalid("owner"))?;
        if host_of(owner.as_str()).as_deref() != Some(host.as_str()) {
            return Err(AppError::bad_request("origin_mismatch").with("field", "owner"));
        }
        state.fed.get(owner.as_str()).await?
    } else {
        fetched
    };
    let typed: super::protocol::Actor = super::protocol::read(&doc, "actor")?;
    // A nameless actor keeps the name it is known by here.
    let known = cached
        .as_ref()
        .and_then(|k| k.user.username.split('@').next().map(str::to_string));
    let name = webfinger_name.map(str::to_string).or(known);
    let parsed = super::objects::person::read(&typed, &host, name.as_deref())?;
    if typed.implements(crate::net::schemes::RFC9421_HREF) {
        crate::net::schemes::learned(&state.db, &host, crate::net::schemes::Scheme::Rfc9421).await;
    }
    let (pem, ap_id, icon) = (
        parsed.profile.public_pem.clone(),
        parsed.profile.ap_id.clone(),
        parsed.icon.clone(),
    );
    let is_group = parsed.group.is_some();
    let user = state.db.run(move |c| upsert_actor(c, &parsed)).await?;
    refresh_photo(state, user.id, &icon).await;
    // Read when asked for; kept up to date for a community (its member
    // count is on its page) and for a person whose counts were once read.
    let id = user.id;
    let totals = totals
        || is_group
        || state
            .db
            .run(move |c| crate::accounts::remote::totals_known(c, id))
            .await?;
    if totals {
        refresh_totals(state, user.id, &host, &typed);
    }
    Ok(Known {
        user,
        pem,
        ap_id,
        fetched_at: now(),
    })
}

/// A person of another instance whose profile is shown here: when their
/// host's counts were never read, their actor is read again in the
/// background with its two collections, so that the profile shows the
/// host's figures and not only those known here (the first view shows the
/// latter). Once per person and process. Reading them for every actor met
/// cost two more signed requests each: 2,000 votes from other sites
/// spent 30 % of the poll's instance's time on counts nobody looked at.
pub fn profile_shown(state: &AppState, user: &User) {
    if user.is_local() || !first_ask(user.id) {
        return;
    }
    let id = user.id;
    let st = state.clone();
    tokio::spawn(async move {
        let unknown = st
            .db
            .run(move |c| {
                if crate::accounts::remote::totals_known(c, id)? {
                    return Ok(None);
                }
                Ok(users::table
                    .find(id)
                    .select(users::ap_id)
                    .first::<Option<String>>(c)?)
            })
            .await;
        let Ok(Some(ap_id)) = unknown else {
            return;
        };
        if let Err(e) = actor_named(&st, &ap_id, true, None, true).await {
            tracing::info!(actor = %ap_id, error = %e, "remote counts not read");
        }
    });
}

/// Whether this process has not asked the host of `id` for its counts
/// yet; it now has.
fn first_ask(id: i64) -> bool {
    static ASKED: std::sync::Mutex<Option<std::collections::HashSet<i64>>> =
        std::sync::Mutex::new(None);
    let mut guard = ASKED.lock().unwrap_or_else(|e| e.into_inner());
    let asked = guard.get_or_insert_with(Default::default);
    if asked.len() > 100_000 {
        asked.clear();
    }
    asked.insert(id)
}

/// Reads, in the background, how many followers (a community's members)
/// and followed accounts the host of a freshly read actor counts, so that
/// its profile shows its host's figures and not only those known here. Only
/// collections on the actor's own host are read; a failure keeps what was
/// known.
fn refresh_totals(state: &AppState, id: i64, host: &str, actor: &super::protocol::Actor) {
    let on_host = |u: &Option<url::Url>| {
        u.clone()
            .filter(|u| host_of(u.as_str()).as_deref() == Some(host))
    };
    let (followers, following) = (on_host(&actor.followers), on_host(&actor.following));
    if followers.is_none() && following.is_none() {
        return;
    }
    // A profile shown right after this read does not ask again.
    first_ask(id);
    let st = state.clone();
    tokio::spawn(async move {
        let followers = total_of(&st, followers).await;
        let following = total_of(&st, following).await;
        if followers.is_none() && following.is_none() {
            return;
        }
        let stored = st
            .db
            .run(move |c| crate::accounts::remote::set_totals(c, id, followers, following))
            .await;
        if let Err(e) = stored {
            tracing::info!(error = %e, "remote counts not stored");
        }
    });
}

/// The count a collection gives, if it can be read.
async fn total_of(state: &AppState, url: Option<url::Url>) -> Option<i64> {
    let url = url?;
    match state.fed.get(url.as_str()).await {
        Ok(doc) => super::protocol::read::<super::protocol::collection::Collection<Value>>(
            &doc,
            "totalItems",
        )
        .ok()?
        .total(),
        Err(e) => {
            tracing::debug!(collection = %url, error = %e, "count not read");
            None
        }
    }
}

/// Keeps a remote person's photo in step with the `icon` they publish: a new
/// address is fetched (signed, size-limited) and re-encoded like a local
/// upload; no icon removes it. Failures leave the previous photo.
pub async fn refresh_photo(state: &AppState, user_id: i64, icon: &str) {
    let id = user_id;
    let Ok(known) = state
        .db
        .run(move |c| crate::people::remote_icon(c, id))
        .await
    else {
        return;
    };
    if known == icon {
        return;
    }
    let max = state.config.people.max_photo_bytes;
    let result: AppResult<()> = async {
        let icon_owned = icon.to_string();
        if icon.is_empty() {
            return state
                .db
                .run(move |c| crate::people::set_remote_photo(c, id, &icon_owned, None, max))
                .await;
        }
        let bytes = state.fed.get_bytes(icon, max).await?;
        state
            .db
            .run(move |c| crate::people::set_remote_photo(c, id, &icon_owned, Some(&bytes), max))
            .await
    }
    .await;
    if let Err(e) = result {
        tracing::info!(icon = %icon, error = %e, "remote photo not updated");
    }
}

/// A local person looks someone or a community up, here or elsewhere: not
/// a guest, who sees the members of their communities only
/// (`accounts::guest`).
async fn may_look_up(state: &AppState, asker: i64) -> AppResult<()> {
    state
        .db
        .run(move |c| crate::accounts::guest::refuse(c, asker))
        .await
}

/// [`lookup`], asked by the local person `asker`.
pub async fn lookup_for(state: &AppState, asker: i64, query: &str) -> AppResult<User> {
    may_look_up(state, asker).await?;
    lookup(state, query).await
}

/// [`lookup_community`], asked by the local person `asker`.
pub async fn lookup_community_for(state: &AppState, asker: i64, query: &str) -> AppResult<User> {
    may_look_up(state, asker).await?;
    lookup_community(state, query).await
}

/// Finds a person by `@name@domain`, `name@domain` or profile URL.
pub async fn lookup(state: &AppState, query: &str) -> AppResult<User> {
    let q = query.trim();
    if q.starts_with("http://") || q.starts_with("https://") {
        if let Some(name) = crate::urls::Urls(&state.config).local_username(q) {
            return state
                .db
                .run(move |c| crate::accounts::find_by_username(c, &name))
                .await;
        }
        return Ok(actor_named(state, q, false, None, true).await?.user);
    }
    let handle = q.trim_start_matches('@').to_ascii_lowercase();
    let Some((name, domain)) = handle.split_once('@') else {
        return Err(AppError::bad_request("handle_invalid"));
    };
    if name.is_empty() || domain.is_empty() || domain.contains(['/', '?', '#', '@']) {
        return Err(AppError::bad_request("handle_invalid"));
    }
    let h = handle.clone();
    if let Ok(u) = state
        .db
        .run(move |c| crate::accounts::find_by_username(c, &h))
        .await
    {
        return Ok(u);
    }
    // Plain http only when this instance itself runs on plain http (tests,
    // a laptop); a production instance looks others up over https.
    let url = webfinger_url(state.config.scheme(), domain, &handle)?;
    let jrd = state.fed.get_plain(url.as_str()).await?;
    let jrd: activitypub_federation::fetch::webfinger::Webfinger =
        super::protocol::read(&jrd, "links")?;
    if jrd.links.len() > 50 {
        return Err(AppError::bad_request("too_many")
            .with("field", "links")
            .with("max", 50));
    }
    let href = jrd
        .links
        .into_iter()
        .find(|l| {
            l.rel.as_deref() == Some("self")
                && l.kind.as_deref().is_some_and(|t| {
                    t.starts_with("application/activity+json")
                        || t.starts_with("application/ld+json")
                })
        })
        .and_then(|l| l.href)
        .ok_or_else(|| AppError::new(crate::error::ErrorKind::NotFound, "remote_not_found"))?;
    // An actor without `preferredUsername` keeps the name it was found by.
    Ok(actor_named(state, href.as_str(), false, Some(name), true)
        .await?
        .user)
}

/// The WebFinger address that names `handle` (`name@domain`) on `domain`:
/// the resource is percent-encoded, so that a name cannot add parameters,
/// and the URL must be on `domain` itself.
fn webfinger_url(scheme: &str, domain: &str, handle: &str) -> AppResult<url::Url> {
    // A handle that reads well but whose domain makes no address (a label
    // too long, a name too long) names no one.
    let invalid = || AppError::new(crate::error::ErrorKind::NotFound, "remote_not_found");
    let mut url = url::Url::parse(&format!("{scheme}://{domain}/.well-known/webfinger"))
        .map_err(|_| invalid())?;
    if host_of(url.as_str()).as_deref() != Some(domain) {
        return Err(invalid());
    }
    url.query_pairs_mut()
        .append_pair("resource", &format!("acct:{handle}"));
    Ok(url)
}

/// Finds a community by `!name@domain`, `name@domain` or URL. Secret
/// communities are not in WebFinger; for them Ruche's own address
/// (`/communities/name`) is tried, signed, so that an instance with an
/// invited person can find them.
pub async fn lookup_community(state: &AppState, query: &str) -> AppResult<User> {
    let q = query.trim().trim_start_matches('!');
    let not_community = || AppError::new(crate::error::ErrorKind::NotFound, "remote_not_community");
    let found = if q.starts_with("http://") || q.starts_with("https://") {
        if let Some(name) = crate::urls::Urls(&state.config).local_community(q) {
            state
                .db
                .run(move |c| crate::accounts::find_by_username(c, &name))
                .await?
        } else {
            actor(state, q, false).await?.user
        }
    } else {
        let handle = q.to_ascii_lowercase();
        let Some((name, domain)) = handle.split_once('@') else {
            return Err(AppError::bad_request("community_handle_invalid"));
        };
        if name.is_empty() || domain.is_empty() || domain.contains(['/', '?', '#', '@']) {
            return Err(AppError::bad_request("community_handle_invalid"));
        }
        if domain == super::routes::authority(state) {
            let n = name.to_string();
            state
                .db
                .run(move |c| crate::accounts::find_by_username(c, &n))
                .await?
        } else {
            match lookup(state, &handle).await {
                Ok(u) => u,
                Err(e) if e.kind == crate::error::ErrorKind::NotFound => {
                    let scheme = state.config.scheme();
                    let url = format!("{scheme}://{domain}/communities/{name}");
                    actor(state, &url, false)
                        .await
                        .map_err(|_| not_community())?
                        .user
                }
                Err(e) => return Err(e),
            }
        }
    };
    if found.is_person() || found.deleted_at.is_some() {
        return Err(not_community());
    }
    Ok(found)
}

/// The federation layer finds the people of other instances that texts
/// mention (through WebFinger and their actor documents, under the trust
/// gate), so that the mentions become real.
impl crate::content::FindPeople for AppState {
    fn find<'a>(
        &'a self,
        handles: Vec<String>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>> {
        Box::pin(async move {
            for handle in handles {
                if let Err(e) = lookup(self, &handle).await {
                    tracing::info!(handle = %handle, error = %e, "mention not resolved");
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::webfinger_url;

    #[test]
    fn webfinger_addresses_encode_the_handle() {
        let u = webfinger_url("https", "beta.example:8443", "ann@beta.example:8443").unwrap();
        assert_eq!(
            u.as_str(),
            "https://beta.example:8443/.well-known/webfinger?resource=acct%3Aann%40beta.example%3A8443"
        );
        // A name cannot add a parameter or a fragment to the request.
        let u = webfinger_url("https", "beta.example", "a&rel=x#y@beta.example").unwrap();
        assert_eq!(u.query_pairs().count(), 1);
        assert_eq!(u.fragment(), None);
        assert_eq!(
            u.query_pairs().next().unwrap().1,
            "acct:a&rel=x#y@beta.example"
        );
        // The domain must be a host, and the URL on it.
        for bad in ["beta example", "beta.example\\evil", ""] {
            assert!(webfinger_url("https", bad, "a@b").is_err(), "{bad}");
        }
    }
}
