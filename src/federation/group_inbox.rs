//! The inbox side of communities: joins and departures of remote people in
//! our communities, answers of remote communities to our members, what a
//! remote community announces, and the back-fill of a community we just
//! joined. See `groups` for the model.

use diesel::prelude::*;

use super::activities::like::Reaction;
use super::activities::Received;
use super::groups;
use super::protocol::{Link, Note, Object, Verb};
use super::remote::{self, invalid};
use crate::accounts::User;
use crate::app::AppState;
use crate::audience::{self, CommunityVisibility, Need};
use crate::db::schema::{community_members, content};
use crate::error::{AppError, AppResult};
use crate::urls::{host_of, Urls};

/// Handles an activity that concerns a community. Returns `false` when it
/// does not, so that the caller applies it as usual.
pub async fn apply(r: &Received<'_>) -> AppResult<bool> {
    let (state, actor, actor_ap, activity) = (r.state, r.actor, r.actor_ap, r.activity);
    let object = &activity.object;
    if !object.is_present() {
        return Err(invalid("object"));
    }
    let cfg = state.config.clone();
    match activity.kind {
        Verb::Follow => {
            let target = object.id().ok_or_else(|| invalid("object"))?.to_string();
            let c2 = cfg.clone();
            let Some(group) = state
                .db
                .run(move |c| groups::local_community(c, &c2, &target))
                .await?
            else {
                return Ok(false);
            };
            join(state, actor, group, activity.id.as_str()).await?;
            return Ok(true);
        }
        Verb::Undo if object.kind() == "Follow" => {
            let follow: Answered = object.read("object")?;
            if follow.actor.as_ref().map(Link::as_str) != Some(actor_ap) {
                return Err(AppError::forbidden("not_author"));
            }
            let target = follow
                .object
                .ok_or_else(|| invalid("object.object"))?
                .as_str()
                .to_string();
            let c2 = cfg.clone();
            let Some(group) = state
                .db
                .run(move |c| groups::local_community(c, &c2, &target))
                .await?
            else {
                return Ok(false);
            };
            let person = actor.clone();
            state
                .db
                .run(move |c| {
                    crate::communities::membership_remote::leave_from_remote(c, group.id, &person)
                })
                .await?;
            return Ok(true);
        }
        _ => {}
    }
    if actor.is_person() {
        if super::activities::moderation::apply(r).await? {
            return Ok(true);
        }
        // A person may boost a link (Mastodon); redistributing a whole
        // activity is a community's act, which a person cannot claim.
        let embedded = matches!(
            object.kind().as_str(),
            "Create" | "Update" | "Delete" | "Like" | "EmojiReact" | "Undo"
        );
        if activity.kind == Verb::Announce && embedded {
            return Err(AppError::forbidden("announce_not_community"));
        }
        return Ok(false);
    }
    // The actor is a community of another instance.
    let group = actor.clone();
    let own = || object.id().as_ref().map(url::Url::as_str) == Some(actor_ap);
    match activity.kind {
        Verb::Accept | Verb::Reject => {
            let follow: Answered = object.read("object.actor")?;
            let follower = follow.actor.ok_or_else(|| invalid("object.actor"))?;
            if follow.object.is_some_and(|o| o.as_str() != actor_ap) {
                return Err(AppError::forbidden("not_author"));
            }
            let name = Urls(&cfg)
                .local_username(follower.as_str())
                .ok_or_else(AppError::not_found)?;
            let accepted = activity.kind == Verb::Accept;
            let gid = group.id;
            let first = state
                .db
                .run(move |c| {
                    let person = crate::accounts::find_by_username(c, &name)?;
                    crate::communities::membership_remote::answer_from_remote(
                        c, gid, &person, accepted,
                    )
                })
                .await?;
            if first {
                let st = state.clone();
                tokio::spawn(async move { backfill(&st, &group).await });
            }
            Ok(true)
        }
        Verb::Announce => {
            announced(state, &group, object).await?;
            Ok(true)
        }
        Verb::Invite => {
            if !own() {
                return Err(AppError::forbidden("not_author"));
            }
            let target = activity.target.as_ref().ok_or_else(|| invalid("target"))?;
            let name = Urls(&cfg)
                .local_username(target.as_str())
                .ok_or_else(AppError::not_found)?;
            let gid = group.id;
            state
                .db
                .run(move |c| {
                    let person = crate::accounts::find_by_username(c, &name)?;
                    crate::communities::membership_remote::invited_from_remote(c, gid, &person)
                })
                .await?;
            Ok(true)
        }
        Verb::Update if object.kind() == "Group" => {
            if !own() {
                return Err(AppError::forbidden("not_author"));
            }
            let host = host_of(actor_ap).unwrap_or_default();
            let doc: super::protocol::Actor = object.read("object")?;
            let parsed = super::objects::person::read(&doc, &host, None)?;
            let icon = parsed.icon.clone();
            let gid = state
                .db
                .run(move |c| remote::upsert_actor(c, &parsed).map(|u| u.id))
                .await?;
            remote::refresh_photo(state, gid, &icon).await;
            Ok(true)
        }
        Verb::Add | Verb::Remove => {
            // The community's own collections: its moderators (a role of
            // one of our people) or its pinned posts (Lemmy's way to pin).
            let which = activity
                .target
                .as_ref()
                .and_then(|t| t.as_str().strip_prefix(actor_ap))
                .unwrap_or("");
            let target = object.id().ok_or_else(|| invalid("object"))?.to_string();
            let gid = group.id;
            let urls = Urls(&cfg);
            match which {
                "/moderators" => {
                    // Someone else's role (Lemmy tells every member instance).
                    let Some(name) = urls.local_username(&target) else {
                        return Ok(true);
                    };
                    let role = match (activity.kind, activity.ruche_role.as_deref()) {
                        (Verb::Remove, _) => "member",
                        (_, Some("owner")) => "owner",
                        _ => "moderator",
                    };
                    state
                        .db
                        .run(move |c| {
                            let person = crate::accounts::find_by_username(c, &name)?;
                            crate::communities::membership_remote::role_from_remote(
                                c, gid, &person, role,
                            )
                        })
                        .await?;
                }
                "/featured" => {
                    let local = urls.local_post_id(&target);
                    let on = activity.kind == Verb::Add;
                    state
                        .db
                        .run(move |c| {
                            crate::content::remote::pin_in_community(c, gid, local, &target, on)
                        })
                        .await?;
                }
                _ => {}
            }
            Ok(true)
        }
        Verb::Update => {
            // A moderator pinned or unpinned a post of this community.
            let pinned: Pinned = object.read("object")?;
            let Some(stickied) = pinned.stickied else {
                return Ok(true);
            };
            let target = object.id().ok_or_else(|| invalid("object"))?.to_string();
            let local = Urls(&cfg).local_post_id(&target);
            let gid = group.id;
            state
                .db
                .run(move |c| {
                    crate::content::remote::pin_in_community(c, gid, local, &target, stickied)
                })
                .await?;
            Ok(true)
        }
        Verb::Delete => {
            // A moderator's removal of content in this community.
            let target = object.id().ok_or_else(|| invalid("object"))?.to_string();
            let local = Urls(&cfg).local_post_id(&target);
            let gid = group.id;
            state
                .db
                .run(move |c| crate::content::remote::remove_from_community(c, gid, local, &target))
                .await?;
            Ok(true)
        }
        _ => Ok(true),
    }
}

/// A follow as an answer or an Undo embeds it (its parts may be left out).
#[derive(serde::Deserialize)]
struct Answered {
    #[serde(default, deserialize_with = "super::protocol::lenient")]
    actor: Option<Link>,
    #[serde(default, deserialize_with = "super::protocol::lenient")]
    object: Option<Link>,
}

/// A post's pin as a community's Update gives it (Lemmy's `stickied`).
#[derive(serde::Deserialize)]
struct Pinned {
    #[serde(default, deserialize_with = "super::protocol::lenient")]
    stickied: Option<bool>,
}

/// A remote person asks to join one of our communities.
async fn join(state: &AppState, person: &User, group: User, follow_id: &str) -> AppResult<()> {
    let domain = person.domain.clone().unwrap_or_default();
    let decision = state.fed.gate(&domain).await?;
    let person = person.clone();
    let follow_id = follow_id.to_string();
    state
        .db
        .run(move |c| {
            let reader = audience::Instance {
                domain,
                trust: decision,
            };
            let allowed =
                audience::instance_may_see_community(c, group.id, &reader, Need::Existence)?
                    && person.is_person();
            // A secret community does not exist for an instance that may not
            // know it: the same 404 as a name nobody has, and no Reject.
            if !allowed
                && crate::communities::policy(c, group.id)?.visibility
                    == CommunityVisibility::Secret
            {
                return Err(AppError::not_found());
            }
            crate::communities::membership_remote::join_from_remote(
                c, group.id, &person, &follow_id, allowed,
            )
        })
        .await
}

/// A collection of activities, as an outbox lists them.
#[derive(serde::Deserialize)]
struct Outbox {
    #[serde(
        rename = "orderedItems",
        default,
        deserialize_with = "super::protocol::lenient_list"
    )]
    ordered_items: Vec<Object>,
}

/// What a community announces: an activity of one of its members (its id
/// may be left out, as Lemmy embeds them).
#[derive(serde::Deserialize)]
struct Announced {
    #[serde(rename = "type")]
    kind: Verb,
    actor: Link,
    #[serde(default)]
    object: Object,
    #[serde(default, deserialize_with = "super::protocol::lenient")]
    content: Option<String>,
}

/// What a remote community announces: a member's post, comment, edit,
/// deletion or reaction. Only the community the content belongs to may
/// announce it.
async fn announced(state: &AppState, group: &User, inner: &Object) -> AppResult<()> {
    if !inner.is_embedded() {
        // A bare link: Ruche communities embed what they announce.
        return Ok(());
    }
    let gid = group.id;
    let has_members: i64 = state
        .db
        .run(move |c| {
            community_members::table
                .filter(community_members::community_id.eq(gid))
                .filter(community_members::status.eq("member"))
                .count()
                .get_result(c)
                .map_err(AppError::from)
        })
        .await?;
    if has_members == 0 {
        // Nobody here is in it (any more): nothing to keep.
        return Ok(());
    }
    if !matches!(
        inner.kind().as_str(),
        "Create" | "Update" | "Delete" | "Like" | "EmojiReact" | "Undo"
    ) {
        // An object itself (Lemmy also announces a bare Page, for servers
        // that read boosts): its Create was announced too.
        return Ok(());
    }
    let inner: Announced = inner.read("object")?;
    let author_url = inner.actor.as_str().to_string();
    if host_of(&author_url) == host_of(&state.config.base_url) {
        // Our own member's activity, coming back: we have it.
        return Ok(());
    }
    let author = remote::actor(state, &author_url, false).await?;
    let object = &inner.object;
    if !object.is_present() {
        return Err(invalid("object.object"));
    }
    // A community's host speaks for its own people only. What it announces
    // of a person of a third instance is read from that person's instance,
    // so that a host cannot put words in anyone else's mouth.
    let third_party = author.user.domain != group.domain;
    match inner.kind {
        Verb::Create | Verb::Update => {
            let mut note: Note = object.read("object.object")?;
            if third_party {
                let id = object.id().ok_or_else(|| invalid("object.object"))?;
                let fetched: Note =
                    super::protocol::read(&state.fed.get(id.as_str()).await?, "object")?;
                note = from_origin(fetched, note);
            }
            let Some(inc) = super::objects::note::read(
                state,
                &author.user,
                &author.ap_id,
                &note,
                false,
                Some(gid),
            )
            .await?
            else {
                return Ok(());
            };
            if inner.kind == Verb::Create {
                state
                    .db
                    .run(move |c| crate::content::remote::store(c, inc).map(|_| ()))
                    .await
            } else {
                let uid = author.user.id;
                state
                    .db
                    .run(move |c| crate::content::remote::update(c, uid, inc))
                    .await
            }
        }
        Verb::Delete => {
            let target = object
                .id()
                .ok_or_else(|| invalid("object.object"))?
                .to_string();
            if host_of(&target) != host_of(&author.ap_id) {
                return Err(AppError::forbidden("not_author"));
            }
            if third_party && !gone_at_origin(state, &target).await? {
                return Err(AppError::forbidden("not_author"));
            }
            let uid = author.user.id;
            state
                .db
                .run(move |c| {
                    let row = crate::content::remote::find_by_ap_id(c, &target)?;
                    if row.as_ref().is_some_and(|r| r.community_id != Some(gid)) {
                        return Err(AppError::forbidden("announce_not_community"));
                    }
                    crate::content::remote::delete(c, uid, &target)
                })
                .await
        }
        kind @ (Verb::Like | Verb::EmojiReact) => {
            let reaction = Reaction {
                kind,
                object: object.id(),
                content: inner.content.as_deref(),
            };
            react(state, gid, author.user.id, &reaction, true).await
        }
        Verb::Undo => {
            let undone: Announced = object.read("object.object")?;
            if !matches!(undone.kind, Verb::Like | Verb::EmojiReact) {
                return Ok(());
            }
            let reaction = Reaction {
                kind: undone.kind,
                object: undone.object.id(),
                content: undone.content.as_deref(),
            };
            react(state, gid, author.user.id, &reaction, false).await
        }
        _ => Ok(()),
    }
}

/// What the author's instance serves of an object a community announced,
/// with the files as the community's host lists them: the host keeps the
/// community's documents (it fetched its own copy when the post arrived),
/// so their addresses are the host's. Only files the author attached are
/// taken, one for one: the host cannot add any.
fn from_origin(mut fetched: Note, announced: Note) -> Note {
    if !fetched.attachment.is_empty() && fetched.attachment.len() == announced.attachment.len() {
        fetched.attachment = announced.attachment;
    }
    fetched
}

/// Whether the instance of `id` says that it is deleted: gone (404 or 410)
/// or served as a `Tombstone`. An unreachable origin is an error, so that
/// the community's host tries again later.
async fn gone_at_origin(state: &AppState, id: &str) -> AppResult<bool> {
    match state.fed.get(id).await {
        Ok(doc) => {
            let head: super::protocol::activity::Head = super::protocol::read(&doc, "object")?;
            Ok(head.kind.as_deref() == Some("Tombstone"))
        }
        Err(e) if e.kind == crate::error::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(e),
    }
}

/// A reaction announced by a community, on content of that community.
async fn react(
    state: &AppState,
    group: i64,
    author: i64,
    reaction: &Reaction<'_>,
    on: bool,
) -> AppResult<()> {
    let Some((reaction, target, local)) = super::activities::like::understood(state, reaction)?
    else {
        return Ok(());
    };
    state
        .db
        .run(move |c| {
            let id = match local {
                Some(id) => Some(id),
                None => crate::content::remote::find_by_ap_id(c, &target)?.map(|r| r.id),
            };
            let Some(id) = id else { return Ok(()) };
            let community: Option<i64> = content::table
                .find(id)
                .select(content::community_id)
                .first(c)?;
            if community != Some(group) {
                return Err(AppError::forbidden("announce_not_community"));
            }
            crate::content::set_reaction(c, author, id, reaction, on)
        })
        .await
}

/// Fetches the recent posts of a community this instance just joined
/// (bounded by `communities.backfill_*`), so that it does not look empty.
/// Failures are logged; the next member's visit tries again.
pub async fn backfill(state: &AppState, group: &User) {
    let gid = group.id;
    let result: AppResult<usize> = async {
        let ap: Option<String> = state
            .db
            .run(move |c| {
                crate::db::schema::users::table
                    .find(gid)
                    .select(crate::db::schema::users::ap_id)
                    .first(c)
                    .map_err(AppError::from)
            })
            .await?;
        let ap = ap.ok_or_else(AppError::not_found)?;
        let doc = state.fed.get(&format!("{ap}/outbox")).await?;
        let max = (state.config.communities.backfill_posts as usize)
            * (1 + state.config.communities.backfill_comments as usize);
        // Lemmy lists what the community announced, `Announce{Create{Page}}`;
        // Ruche lists the `Create`s themselves.
        let outbox: Outbox = super::protocol::read(&doc, "orderedItems")?;
        let items: Vec<Object> = outbox
            .ordered_items
            .into_iter()
            .take(max.max(1))
            .map(|item| match item.read::<Announced>("orderedItems") {
                Ok(a)
                    if a.kind == Verb::Announce
                        && a.actor.as_str() == ap
                        && a.object.is_embedded() =>
                {
                    a.object
                }
                _ => item,
            })
            .collect();
        let is_reply = |v: &Object| {
            v.read::<Announced>("orderedItems")
                .and_then(|a| a.object.read::<Note>("object"))
                .is_ok_and(|n| n.in_reply_to.is_some())
        };
        // Posts first, oldest first, then comments in thread order.
        let posts = items.iter().rev().filter(|v| !is_reply(v));
        let comments = items.iter().filter(|v| is_reply(v));
        let mut n = 0;
        for item in posts.chain(comments) {
            if item.kind() != "Create" {
                continue;
            }
            match announced(state, group, item).await {
                Ok(()) => n += 1,
                Err(e) => tracing::info!(error = %e, "back-fill item skipped"),
            }
        }
        state
            .db
            .run(move |c| crate::communities::mark_backfilled(c, gid))
            .await?;
        Ok(n)
    }
    .await;
    match result {
        Ok(n) => tracing::info!(community = %group.username, items = n, "community back-filled"),
        Err(e) => {
            tracing::info!(community = %group.username, error = %e, "community back-fill failed")
        }
    }
}

/// Fills in a remote community's recent posts when a member looks at it
/// and this instance has not done so yet (the first try failed).
pub fn backfill_if_needed(state: &AppState, c: &crate::communities::Community) {
    if c.is_local() || !c.is_member() {
        return;
    }
    let (st, id) = (state.clone(), c.id);
    tokio::spawn(async move {
        let pending = st
            .db
            .run(move |cx| crate::communities::needs_backfill(cx, id))
            .await
            .ok()
            .flatten();
        if let Some(group) = pending {
            backfill(&st, &group).await;
        }
    });
}
