//! Communities across instances, the way Lemmy and other group servers do
//! it: a community is a `Group` actor on the instance that hosts it. People
//! join with Follow (answered by Accept or Reject, left with Undo); members
//! send their posts, edits, deletions and reactions to the Group's inbox,
//! and the Group redistributes them to every member instance with Announce,
//! one delivery per instance. A moderator's removal is a Delete sent by the
//! Group itself.
//!
//! Trust model: the hosting instance vouches for what its Group announces in
//! that community. A receiver only accepts an Announce from the Group the
//! content belongs to (its `audience`, or the community of the stored row),
//! so another instance cannot slip content into a community it does not
//! host.
//!
//! Confidentiality: the content of a private or secret community goes only
//! to instances with an accepted member, and is fetched only with such an
//! instance's signature; `organisation` communities reach `member` instances
//! only, and partners take part only when the community allows them.

use std::collections::{BTreeSet, HashMap};

use diesel::prelude::*;
use serde_json::Value;

use super::json::{self as apjson};
use super::protocol::note::Published;
use super::protocol::{Sent, SentObject, Verb};
use super::AS_PUBLIC;
use crate::accounts::User;
use crate::audience::{self, CommunityVisibility};
use crate::config::Config;
use crate::content::ContentRow;
use crate::db::schema::{community_members, content, users};
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::events::Event;
use crate::net::trust;
use crate::urls::{host_of, Urls};

/// Our vocabulary for what ActivityStreams has no term for.
pub const RUCHE_NS: &str = "https://ruche.social/ns#";

/// The shared inboxes of the instances with accepted members of a local
/// community, except `skip`, that the trust gate and the community's
/// settings allow now: one delivery per instance.
pub fn member_instances(
    conn: &mut DbConn,
    cfg: &Config,
    community: i64,
    skip: Option<&str>,
) -> AppResult<Vec<(String, String)>> {
    let rows: Vec<(Option<String>, String, String)> = community_members::table
        .inner_join(users::table.on(users::id.eq(community_members::user_id)))
        .filter(community_members::community_id.eq(community))
        .filter(community_members::status.eq("member"))
        .filter(users::domain.is_not_null())
        .filter(users::disabled.eq(false))
        .select((users::domain, users::inbox, users::shared_inbox))
        .load(conn)?;
    let mut by_domain: HashMap<String, String> = HashMap::new();
    for (domain, inbox, shared) in rows {
        let Some(domain) = domain else { continue };
        if Some(domain.as_str()) == skip {
            continue;
        }
        let inbox = if shared.is_empty() { inbox } else { shared };
        if !inbox.is_empty() {
            by_domain.entry(domain).or_insert(inbox);
        }
    }
    let domains: Vec<String> = by_domain.keys().cloned().collect();
    let verdicts = trust::verdicts(conn, cfg, &domains)?;
    // Every instance here has an accepted member: its trust level decides.
    let s = crate::communities::policy(conn, community)?;
    let mut out = BTreeSet::new();
    for (domain, inbox) in by_domain {
        let Some(v) = verdicts.get(&domain) else {
            continue;
        };
        if v.allowed && audience::community_open_to(s.visibility, s.partners, &v.decision) {
            out.insert((domain, inbox));
        }
    }
    Ok(out.into_iter().collect())
}

pub(super) fn ap_id(conn: &mut DbConn, cfg: &Config, u: &User) -> AppResult<String> {
    if u.is_local() {
        let urls = Urls(cfg);
        return Ok(if u.is_person() {
            urls.person(&u.username)
        } else {
            urls.community(&u.username)
        });
    }
    let id: Option<String> = users::table.find(u.id).select(users::ap_id).first(conn)?;
    id.ok_or_else(|| AppError::internal("remote actor without actor id"))
}

fn content_id(cfg: &Config, row: &ContentRow) -> String {
    super::objects::note::address(cfg, row)
}

/// The Note of a post or comment of a community, whoever wrote it: it is
/// addressed to the Group (and public for a public community).
pub fn community_note(conn: &mut DbConn, cfg: &Config, row: &ContentRow) -> AppResult<Published> {
    let community = row
        .community_id
        .ok_or_else(|| AppError::internal("not community content"))?;
    let group = crate::accounts::find_by_id(conn, community)?;
    let group_ap = ap_id(conn, cfg, &group)?;
    let author = crate::accounts::find_by_id(conn, row.author_id)?;
    let author_ap = ap_id(conn, cfg, &author)?;
    let in_reply_to = match row.reply_to_id {
        Some(p) => {
            let parent: ContentRow = content::table
                .find(p)
                .select(ContentRow::as_select())
                .first(conn)?;
            Some(content_id(cfg, &parent))
        }
        None => None,
    };
    let links = super::objects::note::links(conn, cfg, row)?;
    let document = if row.kind == "document" {
        // A version whose addresses do not parse is sent without its file
        // rather than holding the post back.
        crate::documents::shared(conn, cfg, row.id)?
            .and_then(|s| super::objects::document::published(s).ok())
    } else {
        None
    };
    super::objects::note::publish(
        cfg,
        row,
        &author_ap,
        in_reply_to,
        super::objects::note::Addressing {
            to: vec![group_ap.clone()],
            cc: public_of(conn, community)?,
            community: Some((group_ap, document)),
        },
        &links,
    )
}

/// The public collection, as a list, for a public community; an empty list
/// otherwise. Lemmy refuses what is sent into a public community without
/// it, and Ruche never makes a closed community's content public.
fn public_of(conn: &mut DbConn, community: i64) -> AppResult<Vec<String>> {
    let s = crate::communities::policy(conn, community)?;
    Ok(if s.visibility == CommunityVisibility::Public {
        vec![AS_PUBLIC.to_string()]
    } else {
        Vec::new()
    })
}

/// (activity, signing actor id, target inboxes).
pub type Built = Option<(Value, i64, Vec<(String, String)>)>;

/// The personal inbox of one remote actor, if the gate allows its instance.
pub(super) fn inbox_of(
    conn: &mut DbConn,
    cfg: &Config,
    u: &User,
) -> AppResult<Vec<(String, String)>> {
    let Some(domain) = u.domain.clone() else {
        return Ok(Vec::new());
    };
    let inbox: String = users::table.find(u.id).select(users::inbox).first(conn)?;
    if inbox.is_empty() || !trust::verdict(conn, cfg, &domain)?.allowed {
        return Ok(Vec::new());
    }
    Ok(vec![(domain, inbox)])
}

/// Builds the activity of an event about content of a community.
pub fn build_content(
    conn: &mut DbConn,
    cfg: &Config,
    event_id: i64,
    ev: &Event,
    actor: &User,
    row: &ContentRow,
) -> AppResult<Built> {
    let Some(community) = row.community_id else {
        return Ok(None);
    };
    let urls = Urls(cfg);
    let group = crate::accounts::find_by_id(conn, community)?;
    let group_ap = ap_id(conn, cfg, &group)?;
    let actor_ap = ap_id(conn, cfg, actor)?;
    let act_id = |k: &str| urls.activity(event_id, k);
    let inner = match ev {
        Event::Published { .. } | Event::Edited { .. } | Event::Counted { .. } => {
            if row.deleted_at.is_some() {
                return Ok(None);
            }
            let note = community_note(conn, cfg, row)?;
            let (kind, name) = if let Event::Published { .. } = ev {
                (Verb::Create, "create")
            } else {
                (Verb::Update, "update")
            };
            Sent::new(
                &act_id(name),
                kind,
                &actor_ap,
                SentObject::Note(Box::new(note)),
            )?
            .to(std::slice::from_ref(&group_ap))?
            .cc(&public_of(conn, community)?)?
            .audience(&group_ap)?
        }
        Event::Deleted { reason, .. } => {
            // Lemmy reads a deletion's public audience from `to`.
            let mut to = vec![group_ap.clone()];
            to.extend(public_of(conn, community)?);
            let a = Sent::new(
                &act_id("delete"),
                Verb::Delete,
                &actor_ap,
                apjson::gone(&content_id(cfg, row), "Tombstone")?,
            )?
            .to(&to)?
            .cc(std::slice::from_ref(&group_ap))?
            .audience(&group_ap)?;
            match reason {
                // A moderator's reason.
                Some(reason) => a.summary(reason),
                None => a,
            }
        }
        Event::Reacted { reaction, .. } | Event::Unreacted { reaction, .. } => {
            let object = content_id(cfg, row);
            let react = apjson::reaction(&act_id("react"), &actor_ap, &object, reaction)?
                .audience(&group_ap)?;
            if let Event::Reacted { .. } = ev {
                react
            } else {
                Sent::new(
                    &act_id("undo"),
                    Verb::Undo,
                    &actor_ap,
                    SentObject::Activity(Box::new(react)),
                )?
                .audience(&group_ap)?
            }
        }
        _ => return Ok(None),
    };
    if group.is_local() {
        if actor.id == group.id {
            // A moderator's removal, sent by the community itself.
            let targets = member_instances(conn, cfg, community, None)?;
            return Ok((!targets.is_empty()).then_some((
                apjson::document(inner)?,
                group.id,
                targets,
            )));
        }
        // Everything else is redistributed, except to the instance it came from.
        let targets = member_instances(conn, cfg, community, actor.domain.as_deref())?;
        if targets.is_empty() {
            return Ok(None);
        }
        let announce = Sent::new(
            &act_id("announce"),
            Verb::Announce,
            &group_ap,
            SentObject::Activity(Box::new(inner)),
        )?
        .to(&[urls.community_followers(&group.username)])?
        .cc(&public_of(conn, community)?)?
        .audience(&group_ap)?;
        return Ok(Some((apjson::document(announce)?, group.id, targets)));
    }
    // A community of another instance: our members' activities go to its
    // inbox, and the Group redistributes them.
    if !actor.is_local() {
        return Ok(None);
    }
    let targets = inbox_of(conn, cfg, &group)?;
    Ok((!targets.is_empty()).then_some((apjson::document(inner)?, actor.id, targets)))
}

/// Builds the activity of a membership or settings event.
pub fn build_membership(
    conn: &mut DbConn,
    cfg: &Config,
    event_id: i64,
    ev: &Event,
    actor: &User,
) -> AppResult<Built> {
    let urls = Urls(cfg);
    let actor_ap = ap_id(conn, cfg, actor)?;
    let act_id = |k: &str| urls.activity(event_id, k);
    match ev {
        Event::JoinRequested { community, .. } | Event::Left { community, .. } => {
            let group = crate::accounts::find_by_id(conn, *community)?;
            let group_ap = ap_id(conn, cfg, &group)?;
            let targets = inbox_of(conn, cfg, &group)?;
            let follow_id = match ev {
                Event::Left {
                    follow_id: Some(id),
                    ..
                } => id.clone(),
                _ => act_id("follow"),
            };
            let activity = if let Event::JoinRequested { .. } = ev {
                Sent::new(
                    &follow_id,
                    Verb::Follow,
                    &actor_ap,
                    SentObject::id(&group_ap)?,
                )?
            } else {
                let follow = apjson::follow_ref(&follow_id, &actor_ap, &group_ap)?;
                Sent::new(&act_id("undo"), Verb::Undo, &actor_ap, follow)?
            };
            Ok((!targets.is_empty()).then_some((apjson::document(activity)?, actor.id, targets)))
        }
        Event::MemberAccepted {
            person, follow_id, ..
        }
        | Event::MemberRefused {
            person, follow_id, ..
        } => {
            let person = crate::accounts::find_by_id(conn, *person)?;
            let person_ap = ap_id(conn, cfg, &person)?;
            let targets = inbox_of(conn, cfg, &person)?;
            let follow_id = follow_id.clone().unwrap_or_default();
            let follow = apjson::follow_ref(&follow_id, &person_ap, &actor_ap)?;
            let (kind, name) = if let Event::MemberAccepted { .. } = ev {
                (Verb::Accept, "accept")
            } else {
                (Verb::Reject, "reject")
            };
            let activity = Sent::new(&act_id(name), kind, &actor_ap, follow)?;
            Ok((!targets.is_empty()).then_some((apjson::document(activity)?, actor.id, targets)))
        }
        Event::Invited { person, .. } => {
            let person = crate::accounts::find_by_id(conn, *person)?;
            let person_ap = ap_id(conn, cfg, &person)?;
            let targets = inbox_of(conn, cfg, &person)?;
            let activity = Sent::new(
                &act_id("invite"),
                Verb::Invite,
                &actor_ap,
                SentObject::id(&actor_ap)?,
            )?
            .target(&person_ap)?
            .to(std::slice::from_ref(&person_ap))?;
            Ok((!targets.is_empty()).then_some((apjson::document(activity)?, actor.id, targets)))
        }
        Event::CommunityChanged { .. } => {
            let targets = member_instances(conn, cfg, actor.id, None)?;
            if targets.is_empty() {
                return Ok(None);
            }
            let s = crate::communities::policy(conn, actor.id)?;
            let keys = crate::net::keys::user_keys(conn, actor.id)?;
            let doc = super::objects::group::document(cfg, actor, &s, &keys.public_pem)?;
            let activity = Sent::new(
                &act_id("update"),
                Verb::Update,
                &actor_ap,
                SentObject::Actor(Box::new(doc)),
            )?;
            Ok(Some((apjson::document(activity)?, actor.id, targets)))
        }
        _ => Ok(None),
    }
}

/// The recent posts of a local community with their comments, as Create
/// activities, for an instance that just joined (newest posts first, each
/// followed by its comments in thread order).
pub fn backfill_items(conn: &mut DbConn, cfg: &Config, community: i64) -> AppResult<Vec<Value>> {
    let posts: Vec<ContentRow> = content::table
        .filter(content::community_id.eq(community))
        .filter(content::root_id.is_null())
        .filter(content::deleted_at.is_null())
        .order(content::id.desc())
        .limit(cfg.communities.backfill_posts as i64)
        .select(ContentRow::as_select())
        .load(conn)?;
    let mut items = Vec::new();
    for post in posts {
        let comments: Vec<ContentRow> = content::table
            .filter(content::root_id.eq(post.id))
            .filter(content::deleted_at.is_null())
            .order(content::id.asc())
            .limit(cfg.communities.backfill_comments as i64)
            .select(ContentRow::as_select())
            .load(conn)?;
        for row in std::iter::once(post).chain(comments) {
            let author = crate::accounts::find_by_id(conn, row.author_id)?;
            let author_ap = ap_id(conn, cfg, &author)?;
            let note = community_note(conn, cfg, &row)?;
            let id = format!("{}#create", content_id(cfg, &row));
            let create = Sent::new(
                &id,
                Verb::Create,
                &author_ap,
                SentObject::Note(Box::new(note)),
            )?;
            items.push(apjson::embedded(create)?);
        }
    }
    Ok(items)
}

/// The local community an actor URL of ours names.
pub fn local_community(conn: &mut DbConn, cfg: &Config, url: &str) -> AppResult<Option<User>> {
    let Some(name) = Urls(cfg).local_community(url) else {
        return Ok(None);
    };
    let u: Option<User> = users::table
        .filter(users::username.eq(&name))
        .filter(users::actor_type.eq("group"))
        .filter(users::domain.is_null())
        .filter(users::deleted_at.is_null())
        .select(User::as_select())
        .first(conn)
        .optional()?;
    Ok(u)
}

/// The community (local, or remote and known here) among the addresses of
/// a note (its `audience`, `to` and `cc`).
pub fn addressed_community(
    conn: &mut DbConn,
    cfg: &Config,
    candidates: &[&url::Url],
) -> AppResult<Option<User>> {
    for url in candidates.iter().take(super::remote::MAX_RECIPIENTS) {
        let url = url.as_str();
        if url == AS_PUBLIC || host_of(url).is_none() {
            continue;
        }
        if let Some(g) = local_community(conn, cfg, url)? {
            return Ok(Some(g));
        }
        let g: Option<User> = users::table
            .filter(users::ap_id.eq(url))
            .filter(users::actor_type.eq("group"))
            .select(User::as_select())
            .first(conn)
            .optional()?;
        if g.is_some() {
            return Ok(g);
        }
    }
    Ok(None)
}
