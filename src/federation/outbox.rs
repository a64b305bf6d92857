//! The transactional outbox. Features record what happened with
//! [`fed_event!`] inside the transaction of the change; [`expand`] later turns
//! each event into one activity and one delivery row per target inbox
//! (shared inboxes first), with the audience computed from the data at that
//! moment and filtered by the trust gate. The event is deleted in the same
//! transaction that inserts its deliveries, so an event is expanded once.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{json, Value};

use super::json::{self as apjson, Audience, NoteLinks};
use super::trust::{self, Decision};
use super::{Urls, AS_PUBLIC};
use crate::accounts::User;
use crate::config::Config;
use crate::content::ContentRow;
use crate::db::schema::{content, content_tags, deliveries, fed_events, follows, mentions, users};
use crate::db::{now, DbConn};
use crate::error::{AppError, AppResult};
use crate::{with_conn, write_tx};

/// Records an event inside a write transaction (`$c` is the concrete
/// connection): `kind`, acting local person, object id, extra text.
#[macro_export]
macro_rules! fed_event {
    ($c:expr, $kind:expr, $actor:expr, $object:expr, $extra:expr) => {{
        use $crate::db::schema::fed_events as fe_;
        diesel::insert_into(fe_::table)
            .values((
                fe_::kind.eq($kind),
                fe_::actor_id.eq($actor),
                fe_::object_id.eq($object),
                fe_::extra.eq($extra),
                fe_::created_at.eq($crate::db::now()),
            ))
            .execute($c)
    }};
}

/// Event kinds.
pub const POST: &str = "post";
pub const EDIT: &str = "edit";
pub const DELETE: &str = "delete";
pub const REACT: &str = "react";
pub const UNREACT: &str = "unreact";
pub const FOLLOW: &str = "follow";
pub const UNFOLLOW: &str = "unfollow";
pub const ACCEPT: &str = "accept";
pub const PROFILE: &str = "profile";
pub const DELETE_ACCOUNT: &str = "delete_account";
/// A local person asks a remote community to join (Follow of the Group).
pub const JOIN: &str = "join";
/// A local person leaves a remote community (Undo of the Follow).
pub const LEAVE: &str = "leave";
/// A local community accepts a remote member (Accept of the Follow).
pub const MEMBER_ACCEPT: &str = "member_accept";
/// A local community refuses or removes a remote member (Reject).
pub const MEMBER_REJECT: &str = "member_reject";
/// A local community invites a remote person (Invite).
pub const INVITE: &str = "invite";
/// A local community's settings changed (Update of the Group).
pub const COMMUNITY_UPDATE: &str = "community_update";
/// A local moderator of a remote community asks it to act (object: the
/// community; extra: the request as JSON); see `group_moderation`.
pub const MODERATE: &str = "moderate";
/// A local community gives a remote member a role (extra: the role).
pub const MEMBER_ROLE: &str = "member_role";
/// A local person deletes a document of a remote community (object: the
/// document).
pub const DOCUMENT_DELETE: &str = "document_delete";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = fed_events)]
pub struct Event {
    pub id: i64,
    pub kind: String,
    pub actor_id: i64,
    pub object_id: Option<i64>,
    pub extra: String,
    pub created_at: NaiveDateTime,
}

/// Remote people to reach, by id; resolved to inboxes by [`targets`].
#[derive(Default)]
struct Recipients {
    users: BTreeSet<i64>,
    /// Only instances of the same organisation (`member` level).
    members_only: bool,
}

/// Turns up to `limit` pending events into deliveries; returns how many
/// deliveries were queued.
pub fn expand(conn: &mut DbConn, cfg: &Config, limit: i64) -> AppResult<usize> {
    // Reads only; the write lock is taken per event that has work.
    let events: Vec<Event> = with_conn!(conn, c => fed_events::table
        .order(fed_events::id.asc())
        .limit(limit)
        .select(Event::as_select())
        .load(c))?;
    let mut queued = 0;
    for ev in events {
        let built = match build(conn, cfg, &ev) {
            Ok(b) => b,
            Err(e) if e.kind == crate::error::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        let community = community_of(conn, &ev)?;
        let now = now();
        let rows: Vec<_> = match &built {
            Some((activity, signer, targets)) => targets
                .iter()
                .map(|(domain, inbox)| {
                    (
                        deliveries::actor_id.eq(Some(*signer)),
                        deliveries::domain.eq(domain.clone()),
                        deliveries::inbox.eq(inbox.clone()),
                        deliveries::activity.eq(activity.to_string()),
                        deliveries::status.eq("pending"),
                        deliveries::next_attempt_at.eq(now),
                        deliveries::created_at.eq(now),
                        deliveries::community_id.eq(community),
                    )
                })
                .collect(),
            None => Vec::new(),
        };
        let follow_id = match (&built, ev.kind.as_str()) {
            (Some((activity, _, _)), FOLLOW | JOIN) => activity["id"].as_str().map(str::to_string),
            _ => None,
        };

        let n = rows.len();
        write_tx!(conn, c => {
            // Another process may have expanded it meanwhile: then do nothing.
            let gone = diesel::delete(fed_events::table.find(ev.id)).execute(c)?;
            if gone == 0 {
                return Ok::<_, AppError>(());
            }
            if !rows.is_empty() {
                diesel::insert_into(deliveries::table).values(rows).execute(c)?;
            }
            if let (Some(fid), Some(group), JOIN) = (&follow_id, ev.object_id, ev.kind.as_str()) {
                use crate::db::schema::community_members as cmm;
                diesel::update(
                    cmm::table
                        .filter(cmm::user_id.eq(ev.actor_id))
                        .filter(cmm::community_id.eq(group)),
                )
                .set(cmm::follow_ap_id.eq(fid))
                .execute(c)?;
            } else if let (Some(fid), Some(followee)) = (&follow_id, ev.object_id) {
                diesel::update(
                    follows::table
                        .filter(follows::follower_id.eq(ev.actor_id))
                        .filter(follows::followee_id.eq(followee)),
                )
                .set(follows::ap_id.eq(fid))
                .execute(c)?;
            }
            Ok(())
        })?;
        queued += n;
    }
    Ok(queued)
}

type Built = super::groups::Built;

/// The community an event's deliveries belong to, so that they can be
/// withdrawn when an instance loses its last member there.
fn community_of(conn: &mut DbConn, ev: &Event) -> AppResult<Option<i64>> {
    match ev.kind.as_str() {
        POST | EDIT | DELETE | REACT | UNREACT => match ev.object_id {
            Some(oid) => with_conn!(conn, c => content::table
                .find(oid)
                .select(content::community_id)
                .first::<Option<i64>>(c)
                .optional())
            .map(Option::flatten)
            .map_err(AppError::from),
            None => Ok(None),
        },
        COMMUNITY_UPDATE => Ok(Some(ev.actor_id)),
        _ => Ok(None),
    }
}

fn user(conn: &mut DbConn, id: i64) -> AppResult<User> {
    crate::accounts::find_by_id(conn, id)
}

fn ap_id_of(conn: &mut DbConn, cfg: &Config, u: &User) -> AppResult<String> {
    if u.is_local() {
        return Ok(Urls(cfg).person(&u.username));
    }
    let id: Option<String> =
        with_conn!(conn, c => users::table.find(u.id).select(users::ap_id).first(c))?;
    id.ok_or_else(|| AppError::internal("remote person without actor id"))
}

fn content_ap_id(cfg: &Config, row: &ContentRow) -> String {
    row.ap_id.clone().unwrap_or_else(|| Urls(cfg).post(row.id))
}

/// Remote people who follow `user_id` (accepted follows).
fn remote_followers(conn: &mut DbConn, user_id: i64) -> AppResult<Vec<i64>> {
    with_conn!(conn, c => follows::table
        .inner_join(users::table.on(users::id.eq(follows::follower_id)))
        .filter(follows::followee_id.eq(user_id))
        .filter(follows::accepted.eq(true))
        .filter(users::domain.is_not_null())
        .select(users::id)
        .load(c)
        .map_err(AppError::from))
}

/// Inboxes of the recipients, one per instance where it offers a shared
/// inbox, keeping only instances the trust gate allows now.
fn targets(conn: &mut DbConn, cfg: &Config, r: &Recipients) -> AppResult<Vec<(String, String)>> {
    if r.users.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = r.users.iter().copied().collect();
    let rows: Vec<(Option<String>, String, String)> = with_conn!(conn, c => users::table
        .filter(users::id.eq_any(&ids))
        .filter(users::domain.is_not_null())
        .filter(users::disabled.eq(false))
        .select((users::domain, users::inbox, users::shared_inbox))
        .load(c))?;
    let mut domains: Vec<String> = rows.iter().filter_map(|(d, _, _)| d.clone()).collect();
    domains.sort();
    domains.dedup();
    let decisions: HashMap<String, bool> = trust::decide_many(conn, &domains)?
        .into_iter()
        .map(|(domain, (d, _))| {
            let ok =
                d.may_federate(cfg.federation.mode) && (!r.members_only || d == Decision::Member);
            (domain, ok)
        })
        .collect();
    let mut out: BTreeSet<(String, String)> = BTreeSet::new();
    for (domain, inbox, shared) in rows {
        let Some(domain) = domain else { continue };
        let ok = decisions.get(&domain).copied().unwrap_or(false);
        let inbox = if shared.is_empty() { inbox } else { shared };
        if ok && !inbox.is_empty() {
            out.insert((domain, inbox));
        }
    }
    Ok(out.into_iter().collect())
}

/// Who must hear about a content row: see the module doc of the visibility
/// rules in `content`.
fn content_recipients(conn: &mut DbConn, row: &ContentRow) -> AppResult<(Recipients, ContentRow)> {
    let root: ContentRow = match row.root_id {
        Some(r) => with_conn!(conn, c => content::table
            .find(r)
            .select(ContentRow::as_select())
            .first(c))?,
        None => row.clone(),
    };
    let mut rec = Recipients::default();
    let root_author = user(conn, root.author_id)?;
    let author = user(conn, row.author_id)?;
    match root.visibility.as_str() {
        "public" | "organisation" => {
            rec.members_only = root.visibility == "organisation";
            if root_author.is_local() {
                rec.users.extend(remote_followers(conn, root_author.id)?);
            }
            if author.is_local() {
                rec.users.extend(remote_followers(conn, author.id)?);
            }
        }
        "followers" if root_author.is_local() => {
            rec.users.extend(remote_followers(conn, root_author.id)?);
        }
        // Local-only posts never leave the instance, not even their comments.
        "instance" => return Ok((rec, root)),
        _ => {}
    }
    if !root_author.is_local() {
        rec.users.insert(root_author.id);
    }
    if let Some(parent) = row.reply_to_id {
        let pa: i64 =
            with_conn!(conn, c => content::table.find(parent).select(content::author_id).first(c))?;
        rec.users.insert(pa);
    }
    let mentioned: Vec<i64> = with_conn!(conn, c => mentions::table
        .filter(mentions::content_id.eq(row.id))
        .select(mentions::user_id)
        .load(c))?;
    rec.users.extend(mentioned);
    Ok((rec, root))
}

/// The Note of a local content row with its audience.
fn note_of(
    conn: &mut DbConn,
    cfg: &Config,
    row: &ContentRow,
    root: &ContentRow,
) -> AppResult<(Value, Audience)> {
    let author = user(conn, row.author_id)?;
    let mentioned: Vec<(String, Option<String>, Option<String>)> = with_conn!(conn, c => mentions::table
        .inner_join(users::table.on(users::id.eq(mentions::user_id)))
        .filter(mentions::content_id.eq(row.id))
        .select((users::username, users::domain, users::ap_id))
        .load(c))?;
    let urls = Urls(cfg);
    let mentions: Vec<(String, String)> = mentioned
        .into_iter()
        .map(|(name, domain, ap)| match (domain, ap) {
            (Some(_), Some(ap)) => (ap, format!("@{name}")),
            _ => (
                urls.person(&name),
                format!("@{name}@{}", super::host_of(cfg.base()).unwrap_or_default()),
            ),
        })
        .collect();
    let tags: Vec<String> = with_conn!(conn, c => content_tags::table
        .filter(content_tags::content_id.eq(row.id))
        .select(content_tags::tag)
        .load(c))?;
    let mut mention_ids: Vec<String> = mentions.iter().map(|(id, _)| id.clone()).collect();
    let in_reply_to = match row.reply_to_id {
        Some(p) => {
            let parent: ContentRow = with_conn!(conn, c => content::table.find(p).select(ContentRow::as_select()).first(c))?;
            let pa = user(conn, parent.author_id)?;
            mention_ids.push(ap_id_of(conn, cfg, &pa)?);
            Some(content_ap_id(cfg, &parent))
        }
        None => None,
    };
    // Replies to a remote post follow that post's audience as the origin
    // server addressed it; replies to ours follow the post's visibility.
    let visibility = if root.visibility == "direct" {
        "direct"
    } else {
        root.visibility.as_str()
    };
    let visibility = match visibility {
        "followers" if row.root_id.is_some() => "followers",
        v => v,
    };
    mention_ids.sort();
    mention_ids.dedup();
    let mut audience = apjson::audience_for(cfg, visibility, &author.username, &mention_ids);
    if row.root_id.is_some() && visibility == "followers" {
        // The thread's audience is the post author's followers.
        let ra = user(conn, root.author_id)?;
        if ra.is_local() {
            audience.to.insert(0, urls.followers(&ra.username));
        }
    }
    let note = apjson::note(
        cfg,
        row,
        &author.username,
        in_reply_to,
        &audience,
        &NoteLinks { mentions, tags },
    );
    Ok((note, audience))
}

fn reaction_activity(cfg: &Config, id: String, actor: String, object: String, kind: &str) -> Value {
    if kind == "like" {
        return apjson::activity(id, "Like", actor, json!(object), None);
    }
    let emoji = apjson::REACTION_EMOJI
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, e)| *e)
        .unwrap_or("👍");
    let mut a = apjson::activity(id, "EmojiReact", actor, json!(object), None);
    a["content"] = json!(emoji);
    let _ = cfg;
    a
}

fn build(conn: &mut DbConn, cfg: &Config, ev: &Event) -> AppResult<Built> {
    let urls = Urls(cfg);
    let actor = user(conn, ev.actor_id)?;
    // Communities: content of a community goes through its Group, and
    // membership has its own activities.
    match ev.kind.as_str() {
        POST | EDIT | DELETE | REACT | UNREACT => {
            if let Some(oid) = ev.object_id {
                let row: ContentRow = with_conn!(conn, c => content::table.find(oid).select(ContentRow::as_select()).first(c))?;
                if row.community_id.is_some() {
                    return super::groups::build_content(
                        conn, cfg, ev.id, &ev.kind, &actor, &row, &ev.extra,
                    );
                }
            }
        }
        PROFILE if !actor.is_person() => {
            return super::groups::build_membership(
                conn,
                cfg,
                ev.id,
                COMMUNITY_UPDATE,
                &actor,
                None,
                "",
            );
        }
        MODERATE | MEMBER_ROLE | DOCUMENT_DELETE => {
            let Some(object) = ev.object_id else {
                return Ok(None);
            };
            use super::group_moderation as gm;
            return match ev.kind.as_str() {
                MODERATE => gm::build_request(conn, cfg, ev.id, &actor, object, &ev.extra),
                MEMBER_ROLE => gm::build_role(conn, cfg, ev.id, &actor, object, &ev.extra),
                _ => gm::build_document_delete(conn, cfg, ev.id, &actor, object),
            };
        }
        JOIN | LEAVE | MEMBER_ACCEPT | MEMBER_REJECT | INVITE | COMMUNITY_UPDATE => {
            if !actor.is_local() {
                return Ok(None);
            }
            return super::groups::build_membership(
                conn,
                cfg,
                ev.id,
                &ev.kind,
                &actor,
                ev.object_id,
                &ev.extra,
            );
        }
        _ => {}
    }
    if !actor.is_local() {
        return Ok(None);
    }
    let actor_id = urls.person(&actor.username);
    let activity_id = |kind: &str| urls.activity(ev.id, kind);
    match ev.kind.as_str() {
        POST | EDIT | DELETE => {
            let Some(oid) = ev.object_id else {
                return Ok(None);
            };
            let row: ContentRow = with_conn!(conn, c => content::table.find(oid).select(ContentRow::as_select()).first(c))?;
            if row.ap_id.is_some() {
                return Ok(None);
            }
            let (rec, root) = content_recipients(conn, &row)?;
            let targets = targets(conn, cfg, &rec)?;
            if targets.is_empty() {
                return Ok(None);
            }
            let activity = if ev.kind == DELETE {
                let audience = Audience {
                    to: vec![AS_PUBLIC.into()],
                    cc: Vec::new(),
                };
                apjson::activity(
                    activity_id("delete"),
                    "Delete",
                    actor_id,
                    json!({"id": urls.post(row.id), "type": "Tombstone"}),
                    Some(&audience),
                )
            } else {
                let (note, audience) = note_of(conn, cfg, &row, &root)?;
                let kind = if ev.kind == POST { "Create" } else { "Update" };
                apjson::activity(
                    activity_id(&kind.to_ascii_lowercase()),
                    kind,
                    actor_id,
                    note,
                    Some(&audience),
                )
            };
            Ok(Some((activity, actor.id, targets)))
        }
        REACT | UNREACT => {
            let Some(oid) = ev.object_id else {
                return Ok(None);
            };
            let row: ContentRow = with_conn!(conn, c => content::table.find(oid).select(ContentRow::as_select()).first(c))?;
            let (rec, _) = content_recipients(conn, &row)?;
            let mut rec = rec;
            let author = user(conn, row.author_id)?;
            if !author.is_local() {
                rec.users.insert(author.id);
            }
            let targets = targets(conn, cfg, &rec)?;
            if targets.is_empty() {
                return Ok(None);
            }
            let object = content_ap_id(cfg, &row);
            let react = reaction_activity(
                cfg,
                activity_id("react"),
                actor_id.clone(),
                object,
                &ev.extra,
            );
            let activity = if ev.kind == REACT {
                react
            } else {
                apjson::activity(activity_id("undo"), "Undo", actor_id, react, None)
            };
            Ok(Some((activity, actor.id, targets)))
        }
        FOLLOW | UNFOLLOW => {
            let Some(oid) = ev.object_id else {
                return Ok(None);
            };
            let target = user(conn, oid)?;
            if target.is_local() {
                return Ok(None);
            }
            let target_ap = ap_id_of(conn, cfg, &target)?;
            let rec = Recipients {
                users: [target.id].into(),
                members_only: false,
            };
            let targets = personal_inbox(conn, cfg, &rec)?;
            let activity = if ev.kind == FOLLOW {
                apjson::activity(
                    activity_id("follow"),
                    "Follow",
                    actor_id,
                    json!(target_ap),
                    None,
                )
            } else {
                let follow_id = if ev.extra.is_empty() {
                    activity_id("follow")
                } else {
                    ev.extra.clone()
                };
                let follow = apjson::activity(
                    follow_id,
                    "Follow",
                    actor_id.clone(),
                    json!(target_ap),
                    None,
                );
                apjson::activity(activity_id("undo"), "Undo", actor_id, follow, None)
            };
            Ok(Some((activity, actor.id, targets)))
        }
        ACCEPT => {
            let Some(oid) = ev.object_id else {
                return Ok(None);
            };
            let follower = user(conn, oid)?;
            let follower_ap = ap_id_of(conn, cfg, &follower)?;
            let rec = Recipients {
                users: [follower.id].into(),
                members_only: false,
            };
            let targets = personal_inbox(conn, cfg, &rec)?;
            let follow =
                json!({"id": ev.extra, "type": "Follow", "actor": follower_ap, "object": actor_id});
            let activity =
                apjson::activity(activity_id("accept"), "Accept", actor_id, follow, None);
            Ok(Some((activity, actor.id, targets)))
        }
        PROFILE | DELETE_ACCOUNT => {
            let rec = Recipients {
                users: remote_followers(conn, actor.id)?.into_iter().collect(),
                members_only: false,
            };
            let targets = targets(conn, cfg, &rec)?;
            if targets.is_empty() {
                return Ok(None);
            }
            let audience = Audience {
                to: vec![AS_PUBLIC.into()],
                cc: vec![urls.followers(&actor.username)],
            };
            let activity = if ev.kind == PROFILE {
                let keys = super::keys::user_keys(conn, actor.id)?;
                let skills = crate::people::skills_of(conn, actor.id)?;
                let mut person = apjson::person(cfg, &actor, &skills, &keys.public_pem);
                if let Some(o) = person.as_object_mut() {
                    o.remove("@context");
                }
                apjson::activity(
                    activity_id("update"),
                    "Update",
                    actor_id,
                    person,
                    Some(&audience),
                )
            } else {
                apjson::activity(
                    activity_id("delete"),
                    "Delete",
                    actor_id.clone(),
                    json!(actor_id),
                    Some(&audience),
                )
            };
            Ok(Some((activity, actor.id, targets)))
        }
        _ => Ok(None),
    }
}

/// Like [`targets`], but the personal inbox (Follow, Accept go to the person).
fn personal_inbox(
    conn: &mut DbConn,
    cfg: &Config,
    r: &Recipients,
) -> AppResult<Vec<(String, String)>> {
    let ids: Vec<i64> = r.users.iter().copied().collect();
    let rows: Vec<(Option<String>, String)> = with_conn!(conn, c => users::table
        .filter(users::id.eq_any(&ids))
        .select((users::domain, users::inbox))
        .load(c))?;
    let mut out = Vec::new();
    for (domain, inbox) in rows {
        let Some(domain) = domain else { continue };
        if trust::decide(conn, &domain)?.may_federate(cfg.federation.mode) && !inbox.is_empty() {
            out.push((domain, inbox));
        }
    }
    Ok(out)
}

/// The Note document of a local content row (for fetches).
pub fn note_document(
    conn: &mut DbConn,
    cfg: &Config,
    row: &ContentRow,
    root: &ContentRow,
) -> AppResult<Value> {
    let (mut note, _) = note_of(conn, cfg, row, root)?;
    note["@context"] = json!(super::AS_CONTEXT);
    Ok(note)
}
