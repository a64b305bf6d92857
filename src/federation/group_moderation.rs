//! Moderating a community from any instance. The instance that hosts a
//! community is the authority on it: a moderator who lives elsewhere sends
//! each act to the Group, signed with their own key, and the host applies it
//! with the same feature functions as a local moderator's act (which check
//! the rules again, log it and tell the member instances what changed).
//!
//! Shapes, Lemmy's where it has one:
//! - remove a post or comment: `Delete` of it by the moderator (`summary`:
//!   the reason);
//! - pin: `Add` of the post to `{group}/featured`, unpin: `Remove`;
//! - roles: `Add` of the person to `{group}/moderators` (`ruche:role`:
//!   `moderator` or `owner`), `Remove` makes them a member again; the host
//!   tells a remote person their role the same way, as the Group;
//! - ban: `Block` of the person with the Group as `target`, lifted by `Undo`;
//! - removal: `Remove` of the person from `{group}/followers`;
//! - requests to join: `Accept` or `Reject` of the person's Follow;
//! - invitation: `Invite` to the Group with the person as `target`;
//! - settings: `Update` of the Group; its picture: `Update` of the Group
//!   with an `icon` on the moderator's instance (fetched from there, signed)
//!   or `null`;
//! - a document (its uploader or a moderator): `Delete` of the `Document`.
//!
//! This file is the moderator's side (sending each act to the host); the
//! host's side, reading and applying them, is `activities::moderation`.
//!
//! A moderator's instance reads the community's members (with requests,
//! invitations and bans when the reader moderates it) and its moderation
//! log from the host, signed by the reader, so that everyone sees the
//! community as its host does.

use diesel::prelude::*;

use super::groups::Built;
use super::protocol::activity::{Embedded, GroupChange};
use super::protocol::actor::{ActorKind, PublishedImage};
use super::protocol::note::PublishedSource;
use super::protocol::{Sent, SentObject, Verb};
use crate::accounts::User;
use crate::app::AppState;
use crate::communities;
use crate::communities::membership::{self, Act};
use crate::config::Config;
use crate::db::schema::{content, documents};
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::urls::Urls;

/// What a moderation act did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Applied here (the community lives here).
    Done,
    /// Sent to the community's instance, which applies it.
    Sent,
}

// ----- On a moderator's own instance -------------------------------------

/// A moderator acts on a person of a community: here when the community
/// lives here, else through its instance, after checking the act against
/// the community's list as its instance sends it (so that a mistake is told
/// at once rather than refused later, out of sight).
pub async fn member_act(
    state: &AppState,
    actor: &User,
    name: &str,
    username: &str,
    act: Act,
) -> AppResult<Outcome> {
    let (uid, n) = (actor.id, name.to_string());
    let c = state
        .db
        .run(move |cx| communities::get(cx, uid, &n))
        .await?;
    if c.is_local() {
        let (a, n, u) = (actor.clone(), name.to_string(), username.to_string());
        state
            .db
            .run(move |cx| membership::act(cx, &a, &n, &u, &act))
            .await?;
        return Ok(Outcome::Done);
    }
    if !matches!(act, Act::Role(_)) {
        membership::require_moderator(&c, actor)?;
    }
    let roster = super::group_roster::fetch_roster(state, actor, &c).await?;
    let me = Urls(&state.config).person(&actor.username);
    let mine = roster
        .iter()
        .find(|e| e.ap_id == me && e.status == "member");
    let role = mine.map(|e| e.role.as_str()).unwrap_or("");
    if !matches!(act, Act::Role(_)) && !matches!(role, "owner" | "moderator") {
        return Err(AppError::forbidden("community_moderators_only"));
    }
    let wanted = username.trim().trim_start_matches('@').to_ascii_lowercase();
    let entry = roster.iter().find(|e| e.handle == wanted);
    membership::check(
        &act,
        role == "owner",
        wanted == actor.username,
        entry.map(|e| (e.status.as_str(), e.role.as_str())),
    )?;
    let target = match entry {
        Some(e) => e.ap_id.clone(),
        // Someone the community does not know yet (an invitation, a ban).
        None => actor_address(state, &wanted).await?,
    };
    let a = actor.clone();
    state
        .db
        .run(move |cx| {
            crate::communities::membership_remote::request_remote(cx, &a, &c, &act, &target)
        })
        .await?;
    Ok(Outcome::Sent)
}

/// The actor address of a person named as this instance names them.
async fn actor_address(state: &AppState, handle: &str) -> AppResult<String> {
    let person = if handle.contains('@') {
        super::remote::lookup(state, handle).await?
    } else {
        let h = handle.to_string();
        state
            .db
            .run(move |c| crate::accounts::find_by_username(c, &h))
            .await?
    };
    if !person.is_person() || person.deleted_at.is_some() {
        return Err(AppError::not_found());
    }
    if person.is_local() {
        return Ok(Urls(&state.config).person(&person.username));
    }
    super::group_roster::address_of(state, person.id).await
}

// ----- Activities ---------------------------------------------------------

/// Builds the activity a local moderator's request (a `MODERATE` event)
/// sends to a remote community.
pub fn build_request(
    conn: &mut DbConn,
    cfg: &Config,
    event_id: i64,
    actor: &User,
    community: i64,
    extra: &str,
) -> AppResult<Built> {
    let group = crate::accounts::find_by_id(conn, community)?;
    if group.is_local() || !actor.is_local() {
        return Ok(None);
    }
    let group_ap = super::groups::ap_id(conn, cfg, &group)?;
    let targets = super::groups::inbox_of(conn, cfg, &group)?;
    if targets.is_empty() {
        return Ok(None);
    }
    let req: ModerationRequest = serde_json::from_str(extra).unwrap_or_default();
    let urls = Urls(cfg);
    let me = urls.person(&actor.username);
    let id = |k: &str| urls.activity(event_id, k);
    let target = req.target.as_str();
    let own = super::json::own;
    let activity = match req.act.as_str() {
        act @ ("approve" | "refuse") => {
            let follow = SentObject::Embedded(Box::new(Embedded {
                id: None,
                kind: Verb::Follow,
                actor: own(target)?,
                object: own(&group_ap)?,
                target: None,
            }));
            let (kind, name) = if act == "approve" {
                (Verb::Accept, "accept")
            } else {
                (Verb::Reject, "reject")
            };
            Sent::new(&id(name), kind, &me, follow)?
        }
        "invite" => Sent::new(&id("invite"), Verb::Invite, &me, SentObject::id(&group_ap)?)?
            .target(target)?,
        "remove" => Sent::new(&id("remove"), Verb::Remove, &me, SentObject::id(target)?)?
            .target(&format!("{group_ap}/followers"))?,
        "ban" => {
            Sent::new(&id("block"), Verb::Block, &me, SentObject::id(target)?)?.target(&group_ap)?
        }
        "unban" => {
            let block = SentObject::Embedded(Box::new(Embedded {
                id: None,
                kind: Verb::Block,
                actor: own(&me)?,
                object: own(target)?,
                target: Some(own(&group_ap)?),
            }));
            Sent::new(&id("undo"), Verb::Undo, &me, block)?
        }
        "role" => {
            let (kind, name) = if req.role == "member" {
                (Verb::Remove, "remove")
            } else {
                (Verb::Add, "add")
            };
            let a = Sent::new(&id(name), kind, &me, SentObject::id(target)?)?
                .target(&format!("{group_ap}/moderators"))?;
            if kind == Verb::Add {
                a.role(&req.role)
            } else {
                a
            }
        }
        act @ ("pin" | "unpin") => {
            let post = req.post;
            let row: Option<Option<String>> = content::table
                .find(post)
                .select(content::ap_id)
                .first(conn)
                .optional()?;
            let Some(ap) = row else { return Ok(None) };
            let (kind, name) = if act == "pin" {
                (Verb::Add, "add")
            } else {
                (Verb::Remove, "remove")
            };
            let object = ap.unwrap_or_else(|| urls.post(post));
            Sent::new(&id(name), kind, &me, SentObject::id(&object)?)?
                .target(&format!("{group_ap}/featured"))?
        }
        "picture" => {
            // The community's instance fetches it from here (signed).
            let icon = if req.present {
                Some(PublishedImage {
                    kind: "Image",
                    media_type: "image/jpeg",
                    url: own(&format!(
                        "{}/communities/{}/picture?v={}",
                        cfg.base(),
                        group.username,
                        group.photo_version
                    ))?,
                })
            } else {
                None
            };
            let change = GroupChange {
                kind: ActorKind::Group,
                id: own(&group_ap)?,
                icon: Some(icon),
                name: None,
                source: None,
                visibility: None,
                join_policy: None,
                partners: None,
            };
            Sent::new(
                &id("update"),
                Verb::Update,
                &me,
                SentObject::Group(Box::new(change)),
            )?
        }
        "settings" => {
            let change = GroupChange {
                kind: ActorKind::Group,
                id: own(&group_ap)?,
                icon: None,
                name: req.title,
                source: req.description.map(|d| PublishedSource {
                    content: d,
                    media_type: "text/markdown",
                }),
                visibility: req.visibility,
                join_policy: req.join_policy,
                partners: req.partners,
            };
            Sent::new(
                &id("update"),
                Verb::Update,
                &me,
                SentObject::Group(Box::new(change)),
            )?
        }
        _ => return Ok(None),
    };
    let activity = if req.reason.is_empty() {
        activity
    } else {
        activity.summary(&req.reason)
    };
    let activity = activity
        .to(std::slice::from_ref(&group_ap))?
        .audience(&group_ap)?;
    Ok(Some((super::json::document(activity)?, actor.id, targets)))
}

/// What a local moderator asked of a remote community, as the moderation
/// features record it in the event.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct ModerationRequest {
    act: String,
    target: String,
    reason: String,
    role: String,
    post: i64,
    present: bool,
    title: Option<String>,
    description: Option<String>,
    visibility: Option<String>,
    join_policy: Option<String>,
    partners: Option<bool>,
}

/// Builds the Group's word to a remote person about their role (a
/// `MEMBER_ROLE` event).
pub fn build_role(
    conn: &mut DbConn,
    cfg: &Config,
    event_id: i64,
    group: &User,
    person: i64,
    role: &str,
) -> AppResult<Built> {
    if !group.is_local() {
        return Ok(None);
    }
    let person = crate::accounts::find_by_id(conn, person)?;
    let person_ap = super::groups::ap_id(conn, cfg, &person)?;
    let targets = super::groups::inbox_of(conn, cfg, &person)?;
    if targets.is_empty() {
        return Ok(None);
    }
    let urls = Urls(cfg);
    let group_ap = urls.community(&group.username);
    let (kind, name) = if role == "member" {
        (Verb::Remove, "remove")
    } else {
        (Verb::Add, "add")
    };
    let a = Sent::new(
        &urls.activity(event_id, name),
        kind,
        &group_ap,
        SentObject::id(&person_ap)?,
    )?
    .target(&format!("{group_ap}/moderators"))?
    .to(std::slice::from_ref(&person_ap))?;
    let a = if kind == Verb::Add { a.role(role) } else { a };
    Ok(Some((super::json::document(a)?, group.id, targets)))
}

/// Builds the Delete of a document of a remote community, sent by its
/// uploader or a moderator here (a `DOCUMENT_DELETE` event).
pub fn build_document_delete(
    conn: &mut DbConn,
    cfg: &Config,
    event_id: i64,
    actor: &User,
    document: i64,
) -> AppResult<Built> {
    let (community, ap): (i64, Option<String>) = documents::table
        .find(document)
        .select((documents::community_id, documents::ap_id))
        .first(conn)?;
    let group = crate::accounts::find_by_id(conn, community)?;
    if group.is_local() || !actor.is_local() {
        return Ok(None);
    }
    let group_ap = super::groups::ap_id(conn, cfg, &group)?;
    let targets = super::groups::inbox_of(conn, cfg, &group)?;
    if targets.is_empty() {
        return Ok(None);
    }
    let urls = Urls(cfg);
    let object = ap.unwrap_or_else(|| crate::documents::address(cfg, document));
    let a = Sent::new(
        &urls.activity(event_id, "delete"),
        Verb::Delete,
        &urls.person(&actor.username),
        super::json::gone(&object, "Document")?,
    )?
    .to(std::slice::from_ref(&group_ap))?
    .audience(&group_ap)?;
    let a = super::json::document(a)?;
    Ok(Some((a, actor.id, targets)))
}
