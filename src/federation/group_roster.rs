//! Reading a community's people and moderation log across instances. The
//! hosting instance serves them (`{group}/followers` with the people, and
//! `{group}/moderation`) to instances that may see the community's content;
//! requests, invitations and bans only to a reader who moderates it, as
//! the signature tells. Other instances read them signed by the viewer, so
//! that members and moderators everywhere see the community as its host
//! does.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Instant;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::Value;

use super::protocol::actor::ActorKind;
use super::protocol::collection::{Collection, Listed, LogItem};
use super::protocol::Link;
use super::remote::authority;
use crate::accounts::User;
use crate::app::AppState;
use crate::communities::membership::{self, Member};
use crate::communities::{self, Community, LogEntry};
use crate::config::Config;
use crate::db::schema::{content, users};
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::people::PersonSummary;
use crate::urls::{host_of, Urls};

/// The people of a community as its instance lists them for `viewer`,
/// and whether the list is complete: when a remote community's instance
/// cannot be reached, the members this instance knows are listed.
pub async fn members(
    state: &AppState,
    viewer: &User,
    c: &Community,
) -> AppResult<(Vec<Member>, bool)> {
    if !c.is_local() && c.readable() {
        match remote_members(state, viewer, c).await {
            Ok(list) => return Ok((list, true)),
            Err(e) => {
                tracing::info!(community = %c.name, error = %e, "members not read from the community's instance")
            }
        }
    }
    let (v, cm) = (viewer.clone(), c.clone());
    let list = state
        .db
        .run(move |cx| membership::members(cx, &v, &cm))
        .await?;
    Ok((list, c.is_local()))
}

/// A community's moderation log, kept by its instance (empty, and not
/// complete, when a remote community's instance cannot be reached).
pub async fn log(
    state: &AppState,
    viewer: &User,
    c: &Community,
) -> AppResult<(Vec<LogEntry>, bool)> {
    if !c.roster_visible_to(viewer) {
        return Err(AppError::forbidden("community_members_only"));
    }
    if c.is_local() {
        let id = c.id;
        let list = state.db.run(move |cx| communities::log_of(cx, id)).await?;
        return Ok((list, true));
    }
    match remote_log(state, viewer, c).await {
        Ok(list) => Ok((list, true)),
        Err(e) => {
            tracing::info!(community = %c.name, error = %e, "log not read from the community's instance");
            Ok((Vec::new(), false))
        }
    }
}

/// One person of a remote community's list.
#[derive(Debug, Clone)]
pub(super) struct RosterEntry {
    pub ap_id: String,
    /// As this instance names them: `name` here, `name@host` elsewhere.
    pub handle: String,
    name: String,
    url: String,
    pub role: String,
    pub status: String,
    since: NaiveDateTime,
}

/// The actor address of a stored remote actor (a person or a community).
pub(super) async fn address_of(state: &AppState, actor: i64) -> AppResult<String> {
    let ap: Option<String> = state
        .db
        .run(move |c| {
            users::table
                .find(actor)
                .select(users::ap_id)
                .first(c)
                .map_err(AppError::from)
        })
        .await?;
    ap.ok_or_else(AppError::not_found)
}

/// Reads a remote community's list of people, signed by `reader`, and
/// brings this instance's copy of its own members' roles up to date.
pub(super) async fn fetch_roster(
    state: &AppState,
    reader: &User,
    c: &Community,
) -> AppResult<Vec<RosterEntry>> {
    let (roster, total) = read_roster(state, reader, c.id).await?;
    let ours: Vec<(String, String)> = roster
        .iter()
        .filter(|e| e.status == "member" && !e.handle.contains('@'))
        .map(|e| (e.handle.clone(), e.role.clone()))
        .collect();
    let id = c.id;
    state
        .db
        .run(move |cx| {
            crate::accounts::remote::set_totals(cx, id, total, None)?;
            crate::communities::membership_remote::sync_roles(cx, id, &ours)
        })
        .await?;
    Ok(roster)
}

/// A remote community's list of people, read signed by `reader`, and how
/// many members its host counts.
async fn read_roster(
    state: &AppState,
    reader: &User,
    community: i64,
) -> AppResult<(Vec<RosterEntry>, Option<i64>)> {
    let ap = address_of(state, community).await?;
    let doc = state
        .fed
        .get_as(&format!("{ap}/followers"), signer(reader)?)
        .await?;
    let roster: Collection<Listed> = super::protocol::read(&doc, "orderedItems")?;
    let total = roster.total();
    let Some(items) = roster.ordered_items else {
        // A count only (another kind of server): the list is not known.
        return Err(AppError::remote("remote_invalid", "no list of members"));
    };
    Ok((parse_roster(&state.config, items), total))
}

type Vouched = Mutex<HashMap<(i64, String), (Instant, bool)>>;
static VOUCHED: LazyLock<Vouched> = LazyLock::new(Default::default);
const VOUCH_SECONDS: u64 = 60;

/// Whether the host of the remote community `community` lists a member on
/// `domain`: the host decides who reads a closed community, including what
/// this instance's people posted in it (see `audience::host_decides`). The
/// list is read signed by one of our members of it, and the answer kept a
/// minute, so that a back-fill of many posts reads it once.
pub(super) async fn host_lists_instance(
    state: &AppState,
    community: i64,
    domain: &str,
) -> AppResult<bool> {
    let key = (community, domain.to_string());
    if let Some((at, yes)) = VOUCHED.lock().map_err(AppError::internal)?.get(&key) {
        if at.elapsed().as_secs() < VOUCH_SECONDS {
            return Ok(*yes);
        }
    }
    let member = state
        .db
        .run(move |c| communities::a_local_member(c, community))
        .await?;
    let Some(member) = member else {
        return Ok(false);
    };
    let (roster, _) = read_roster(state, &member, community).await?;
    let yes = roster
        .iter()
        .any(|e| e.status == "member" && authority(&e.ap_id).as_deref() == Some(domain));
    let mut cache = VOUCHED.lock().map_err(AppError::internal)?;
    if cache.len() >= 10_000 {
        cache.clear();
    }
    cache.insert(key, (Instant::now(), yes));
    Ok(yes)
}

fn parse_roster(cfg: &Config, items: Vec<Listed>) -> Vec<RosterEntry> {
    let urls = Urls(cfg);
    let text = |s: &Option<String>, max: usize| -> Option<String> {
        let s = s.as_deref()?;
        (s.chars().count() <= max).then(|| ammonia::Builder::empty().clean(s).to_string())
    };
    items
        .into_iter()
        .take(membership::MEMBERS_PAGE as usize)
        .filter_map(|v| {
            let ap_id = v.id.to_string();
            if ap_id.len() > 2000 || host_of(&ap_id).is_none() {
                return None;
            }
            let name = v.preferred_username.as_str();
            let name_ok = !name.is_empty()
                && name.len() <= 64
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
            let (role, status) = (v.role.as_str(), v.status.as_str());
            if !name_ok
                || !communities::ROLES.contains(&role)
                || !matches!(status, "member" | "pending" | "invited" | "banned")
            {
                return None;
            }
            let handle = match urls.local_username(&ap_id) {
                Some(local) => local,
                None => format!("{}@{}", name.to_ascii_lowercase(), authority(&ap_id)?),
            };
            let link = v
                .url
                .as_ref()
                .map(|l| l.as_str())
                .filter(|u| host_of(u).is_some() && u.len() <= 2000)
                .unwrap_or(&ap_id)
                .to_string();
            Some(RosterEntry {
                handle,
                name: text(&v.name, 200).unwrap_or_default(),
                url: link,
                role: v.role.clone(),
                status: v.status.clone(),
                since: v.published.map(|d| d.naive_utc()).unwrap_or_default(),
                ap_id,
            })
        })
        .collect()
}

/// The people of a community of another instance as its instance lists
/// them for `viewer`; those this instance knows keep their photo and link.
async fn remote_members(state: &AppState, viewer: &User, c: &Community) -> AppResult<Vec<Member>> {
    let roster = fetch_roster(state, viewer, c).await?;
    let handles: Vec<String> = roster.iter().map(|e| e.handle.clone()).collect();
    let known: Vec<PersonSummary> = state
        .db
        .run(move |cx| {
            users::table
                .filter(users::username.eq_any(&handles))
                .filter(users::actor_type.eq("person"))
                .filter(users::deleted_at.is_null())
                .select(PersonSummary::as_select())
                .load(cx)
                .map_err(AppError::from)
        })
        .await?;
    Ok(roster
        .into_iter()
        .map(|e| {
            let found = known.iter().find(|p| p.username == e.handle).cloned();
            let link = match &found {
                Some(p) => format!("/people/{}", p.username),
                None => e.url.clone(),
            };
            let domain = e.handle.split_once('@').map(|(_, d)| d.to_string());
            Member {
                person: found.unwrap_or(PersonSummary {
                    id: 0,
                    username: e.handle,
                    display_name: e.name,
                    job_title: String::new(),
                    department: String::new(),
                    site: String::new(),
                    photo_version: 0,
                    guest: false,
                    former: false,
                }),
                role: e.role,
                status: e.status,
                domain,
                since: e.since,
                link,
                guest_until: None,
            }
        })
        .collect())
}

/// The moderation log of a community of another instance, as it keeps it.
async fn remote_log(state: &AppState, viewer: &User, c: &Community) -> AppResult<Vec<LogEntry>> {
    let ap = address_of(state, c.id).await?;
    let doc = state
        .fed
        .get_as(&format!("{ap}/moderation"), signer(viewer)?)
        .await?;
    let own = format!("@{}", authority(state.config.base()).unwrap_or_default());
    let handle = |h: &Option<String>| -> Option<String> {
        let h = h.as_deref()?;
        let ok = h.len() <= 200
            && h.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-@:".contains(c));
        // Our own people are shown by their name here.
        ok.then(|| h.strip_suffix(&own).unwrap_or(h).to_string())
    };
    let log: Collection<LogItem> = super::protocol::read(&doc, "orderedItems")?;
    let mut out = Vec::new();
    let mut objects = Vec::new();
    for (i, v) in log.items().into_iter().take(200).enumerate() {
        let action = v.action.as_str();
        if action.is_empty()
            || action.len() > 32
            || !action.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        {
            continue;
        }
        let detail = v.summary.as_deref().unwrap_or("");
        objects.push(
            v.object
                .as_ref()
                .map(|o| o.as_str())
                .filter(|u| u.len() <= 2000)
                .map(str::to_string),
        );
        out.push(LogEntry {
            id: i as i64 + 1,
            action: action.to_string(),
            actor: handle(&v.actor),
            target_user: handle(&v.target),
            target_content_id: None,
            detail: ammonia::Builder::empty()
                .clean(&detail.chars().take(500).collect::<String>())
                .to_string(),
            at: v.published.map(|d| d.naive_utc()).unwrap_or_default(),
        });
    }
    // Posts are shown by their number here, when this instance has them.
    let cfg = state.config.clone();
    let ids: Vec<Option<i64>> = state
        .db
        .run(move |cx| {
            objects
                .iter()
                .map(|o| match o {
                    Some(u) => match Urls(&cfg).local_post_id(u) {
                        Some(id) => Ok(Some(id)),
                        None => {
                            crate::content::remote::find_by_ap_id(cx, u).map(|r| r.map(|r| r.id))
                        }
                    },
                    None => Ok(None),
                })
                .collect()
        })
        .await?;
    for (e, id) in out.iter_mut().zip(ids) {
        e.target_content_id = id;
    }
    Ok(out)
}

// ----- On the hosting instance: what other instances read -----------------

/// Whether `reader` moderates the local community `community`.
fn moderates(conn: &mut DbConn, community: i64, reader: Option<&User>) -> AppResult<bool> {
    let Some(r) = reader else { return Ok(false) };
    Ok(matches!(
        membership::status_of(conn, community, r.id)?,
        Some((s, role)) if s == "member" && (role == "owner" || role == "moderator")
    ))
}

/// The members collection of a local community: its count, and with
/// `items` (the reader's instance may see the content) the people, with
/// requests, invitations and bans when the signed reader moderates it.
pub fn roster_document(
    conn: &mut DbConn,
    cfg: &Config,
    group: &User,
    reader: Option<&User>,
    items: bool,
) -> AppResult<Value> {
    let urls = Urls(cfg);
    let id = urls.community_followers(&group.username);
    let count: i64 = {
        use crate::db::schema::community_members as cmm;
        cmm::table
            .filter(cmm::community_id.eq(group.id))
            .filter(cmm::status.eq("member"))
            .count()
            .get_result(conn)?
    };
    if !items {
        return super::json::collection_summary(id, count);
    }
    let all = moderates(conn, group.id, reader)?;
    let people: Vec<Value> = membership::listed(conn, group.id, all)?
        .into_iter()
        .map(|(m, ap)| {
            let local = ap.is_none();
            let name = m
                .person
                .username
                .split('@')
                .next()
                .unwrap_or("")
                .to_string();
            let actor = super::json::own(&ap.unwrap_or_else(|| urls.person(&m.person.username)))?;
            super::json::embedded(Listed {
                kind: ActorKind::Person,
                url: local.then(|| Link(actor.clone())),
                id: actor,
                preferred_username: name,
                name: Some(m.person.display_name),
                role: m.role,
                status: m.status,
                published: Some(m.since.and_utc().fixed_offset()),
            })
        })
        .collect::<AppResult<_>>()?;
    super::json::document(super::json::collection(&id, count, Some(people))?)
}

/// The moderation log of a local community, for an instance that may see
/// its content: people by handle, posts by address.
pub fn log_document(conn: &mut DbConn, cfg: &Config, group: &User) -> AppResult<Value> {
    let urls = Urls(cfg);
    let own = authority(cfg.base()).unwrap_or_default();
    let entries = communities::log_of(conn, group.id)?;
    let ids: Vec<i64> = entries.iter().filter_map(|e| e.target_content_id).collect();
    let addresses: Vec<(i64, Option<String>)> = if ids.is_empty() {
        Vec::new()
    } else {
        content::table
            .filter(content::id.eq_any(&ids))
            .select((content::id, content::ap_id))
            .load(conn)?
    };
    let handle = |n: &Option<String>| {
        n.as_ref().map(|n| {
            if n.contains('@') {
                n.clone()
            } else {
                format!("{n}@{own}")
            }
        })
    };
    let items: Vec<Value> = entries
        .iter()
        .map(|e| {
            let object = e.target_content_id.map(|id| {
                addresses
                    .iter()
                    .find(|(i, _)| *i == id)
                    .and_then(|(_, ap)| ap.clone())
                    .unwrap_or_else(|| urls.post(id))
            });
            super::json::embedded(LogItem {
                action: e.action.clone(),
                actor: handle(&e.actor),
                target: handle(&e.target_user),
                object: object
                    .as_deref()
                    .map(super::json::own)
                    .transpose()?
                    .map(Link),
                summary: Some(e.detail.clone()),
                published: Some(e.at.and_utc().fixed_offset()),
            })
        })
        .collect::<AppResult<_>>()?;
    let id = format!("{}/moderation", urls.community(&group.username));
    super::json::document(super::json::collection(
        &id,
        items.len() as i64,
        Some(items),
    )?)
}

/// The local person a fetch is signed by: only local people read on their
/// own behalf.
fn signer(u: &User) -> AppResult<crate::net::client::Reader<'_>> {
    if u.is_local() && u.is_person() {
        Ok(crate::net::client::Reader {
            id: u.id,
            username: &u.username,
        })
    } else {
        Err(AppError::internal("only local people sign fetches"))
    }
}
