//! `Announce` by a community of another instance: a member's post,
//! comment, edit, deletion or reaction, redistributed. Only the community
//! the content belongs to may announce it, and a community's host speaks
//! for its own people only: what it announces of a person of a third
//! instance is read from that person's instance.

use diesel::prelude::*;

use super::like::Reaction;
use super::Received;
use crate::accounts::User;
use crate::app::AppState;
use crate::db::schema::{community_members, content};
use crate::error::{AppError, AppResult};
use crate::federation::protocol::{Link, Note, Object, Verb};
use crate::federation::remote::{self, invalid};
use crate::urls::host_of;

pub async fn receive(r: &Received<'_>) -> AppResult<()> {
    announced(r.state, r.actor, &r.activity.object, true).await
}

/// What a community announces: an activity of one of its members (its id
/// may be left out, as Lemmy embeds them).
#[derive(serde::Deserialize)]
pub(crate) struct Announced {
    #[serde(rename = "type")]
    pub kind: Verb,
    pub actor: Link,
    #[serde(default)]
    pub object: Object,
    #[serde(default, deserialize_with = "crate::federation::protocol::lenient")]
    pub content: Option<String>,
}

/// What a remote community announces: a member's post, comment, edit,
/// deletion or reaction. Only the community the content belongs to may
/// announce it.
/// Applies what a community announced; `news`: received now (told to its
/// watchers), rather than back-filled from its outbox.
pub(crate) async fn announced(
    state: &AppState,
    group: &User,
    inner: &Object,
    news: bool,
) -> AppResult<()> {
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
                let fetched: Note = crate::federation::protocol::read(
                    &state.fed.get(id.as_str()).await?,
                    "object",
                )?;
                note = from_origin(fetched, note);
            }
            let Some(mut inc) = crate::federation::objects::note::read(
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
            inc.news = news;
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
            let head: crate::federation::protocol::activity::Head =
                crate::federation::protocol::read(&doc, "object")?;
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
    let Some((reaction, target, local)) = super::like::understood(state, reaction)? else {
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
