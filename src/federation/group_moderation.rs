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
use serde_json::{json, Value};

use super::groups::Built;
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
    let req: Value = serde_json::from_str(extra).unwrap_or(Value::Null);
    let s = |k: &str| req.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let urls = Urls(cfg);
    let me = urls.person(&actor.username);
    let id = |k: &str| urls.activity(event_id, k);
    let target = s("target");
    let reason = s("reason");
    let mut activity = match s("act").as_str() {
        "approve" | "refuse" => {
            let follow = json!({"type": "Follow", "actor": target, "object": group_ap});
            let k = if s("act") == "approve" {
                "Accept"
            } else {
                "Reject"
            };
            json!({"id": id(&k.to_ascii_lowercase()), "type": k, "actor": me, "object": follow})
        }
        "invite" => {
            json!({"id": id("invite"), "type": "Invite", "actor": me, "object": group_ap, "target": target})
        }
        "remove" => json!({"id": id("remove"), "type": "Remove", "actor": me, "object": target,
                           "target": format!("{group_ap}/followers")}),
        "ban" => {
            json!({"id": id("block"), "type": "Block", "actor": me, "object": target, "target": group_ap})
        }
        "unban" => {
            let block = json!({"type": "Block", "actor": me, "object": target, "target": group_ap});
            json!({"id": id("undo"), "type": "Undo", "actor": me, "object": block})
        }
        "role" => {
            let role = s("role");
            let k = if role == "member" { "Remove" } else { "Add" };
            let mut a = json!({"id": id(&k.to_ascii_lowercase()), "type": k, "actor": me,
                               "object": target, "target": format!("{group_ap}/moderators")});
            if k == "Add" {
                a["ruche:role"] = json!(role);
            }
            a
        }
        "pin" | "unpin" => {
            let post = req.get("post").and_then(Value::as_i64).unwrap_or(0);
            let row: Option<Option<String>> = content::table
                .find(post)
                .select(content::ap_id)
                .first(conn)
                .optional()?;
            let Some(ap) = row else { return Ok(None) };
            let k = if s("act") == "pin" { "Add" } else { "Remove" };
            json!({"id": id(&k.to_ascii_lowercase()), "type": k, "actor": me,
                   "object": ap.unwrap_or_else(|| urls.post(post)),
                   "target": format!("{group_ap}/featured")})
        }
        "picture" => {
            // The community's instance fetches it from here (signed).
            let icon = if req.get("present").and_then(Value::as_bool) == Some(true) {
                json!({"type": "Image", "mediaType": "image/jpeg",
                       "url": format!("{}/communities/{}/picture?v={}", cfg.base(), group.username, group.photo_version)})
            } else {
                Value::Null
            };
            json!({"id": id("update"), "type": "Update", "actor": me,
                   "object": {"type": "Group", "id": group_ap, "icon": icon}})
        }
        "settings" => {
            let mut g = json!({"type": "Group", "id": group_ap});
            for (ours, theirs) in [
                ("visibility", "ruche:visibility"),
                ("join_policy", "ruche:joinPolicy"),
            ] {
                if let Some(v) = req.get(ours).and_then(Value::as_str) {
                    g[theirs] = json!(v);
                }
            }
            if let Some(t) = req.get("title").and_then(Value::as_str) {
                g["name"] = json!(t);
            }
            if let Some(d) = req.get("description").and_then(Value::as_str) {
                g["source"] = json!({"content": d, "mediaType": "text/markdown"});
            }
            if let Some(p) = req.get("partners").and_then(Value::as_bool) {
                g["ruche:partners"] = json!(p);
            }
            json!({"id": id("update"), "type": "Update", "actor": me, "object": g})
        }
        _ => return Ok(None),
    };
    if !reason.is_empty() {
        activity["summary"] = json!(reason);
    }
    activity["@context"] = super::json::context();
    activity["to"] = json!([group_ap]);
    activity["audience"] = json!(group_ap);
    Ok(Some((activity, actor.id, targets)))
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
    let k = if role == "member" { "Remove" } else { "Add" };
    let mut a = json!({
        "@context": super::json::context(),
        "id": urls.activity(event_id, &k.to_ascii_lowercase()),
        "type": k,
        "actor": group_ap,
        "object": person_ap,
        "target": format!("{group_ap}/moderators"),
        "to": [person_ap],
    });
    if k == "Add" {
        a["ruche:role"] = json!(role);
    }
    Ok(Some((a, group.id, targets)))
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
    let a = json!({
        "@context": super::json::context(),
        "id": urls.activity(event_id, "delete"),
        "type": "Delete",
        "actor": urls.person(&actor.username),
        "object": {"type": "Document", "id": object},
        "to": [group_ap],
        "audience": group_ap,
    });
    Ok(Some((a, actor.id, targets)))
}
