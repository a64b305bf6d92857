//! `Like` and `EmojiReact` (Akkoma, Misskey, Ruche's thanks, bravo and
//! insightful), and their `Undo`, on content this instance knows; and a
//! Ruche endorsement, a `Like` of one of our people naming one of their
//! skills (`ruche:skill`).

use diesel::prelude::*;
use url::Url;

use super::Received;
use crate::app::AppState;
use crate::audience::Visibility;
use crate::error::{AppError, AppResult};
use crate::federation::protocol::Verb;
use crate::federation::remote::invalid;
use crate::urls::Urls;

/// A reaction as received: its verb, what it is about, and its emoji.
pub struct Reaction<'a> {
    pub kind: Verb,
    pub object: Option<Url>,
    pub content: Option<&'a str>,
}

/// What a reaction is about: (reaction kind, object address, our post id
/// when the object is ours). `None` for an emoji Ruche has no reaction for
/// (nothing to record).
pub fn understood(
    state: &AppState,
    r: &Reaction,
) -> AppResult<Option<(&'static str, String, Option<i64>)>> {
    let target = r
        .object
        .as_ref()
        .ok_or_else(|| invalid("object"))?
        .to_string();
    let reaction = if r.kind == Verb::Like {
        Some("like")
    } else {
        let emoji = r.content.unwrap_or("");
        crate::federation::json::REACTION_EMOJI
            .iter()
            .find(|(_, e)| *e == emoji)
            .map(|(k, _)| *k)
    };
    let local = Urls(&state.config).local_post_id(&target);
    Ok(reaction.map(|k| (k, target, local)))
}

pub async fn receive(r: &Received<'_>) -> AppResult<()> {
    if let Some(skill) = r.activity.ruche_skill.as_deref() {
        return endorse(r, r.activity.object.id(), skill, true).await;
    }
    let reaction = Reaction {
        kind: r.activity.kind,
        object: r.activity.object.id(),
        content: r.activity.content.as_deref(),
    };
    apply(r, &reaction, true).await
}

/// Records (`on`) or removes a reaction of the actor on content it may see.
pub async fn apply(r: &Received<'_>, reaction: &Reaction<'_>, on: bool) -> AppResult<()> {
    let Some((kind, target, local)) = understood(r.state, reaction)? else {
        return Ok(());
    };
    let uid = r.actor.id;
    r.state
        .db
        .run(move |c| {
            let row = match local {
                Some(id) => Some(id),
                None => crate::content::remote::find_by_ap_id(c, &target)?.map(|r| r.id),
            };
            let Some(id) = row else { return Ok(()) };
            // Content it may not see, including posts that never leave this
            // instance, is answered as unknown.
            let seen = crate::content::get_visible(c, uid, id)?;
            let root = seen.root_id.unwrap_or(seen.id);
            let root_visibility: Visibility = crate::db::schema::content::table
                .find(root)
                .select(crate::db::schema::content::visibility)
                .first(c)?;
            if root_visibility == Visibility::Instance {
                return Err(AppError::not_found());
            }
            crate::content::react(c, uid, id, kind, on)
        })
        .await
}

/// A person of another site endorses (`on`) or stops endorsing the skill
/// `skill` of the local person `person` names; the feature's rules apply as
/// to a colleague here (a declared skill, not one's own).
pub async fn endorse(
    r: &Received<'_>,
    person: Option<Url>,
    skill: &str,
    on: bool,
) -> AppResult<()> {
    let person = person.ok_or_else(|| invalid("object"))?;
    let target = super::local_person(r.state, person.as_str()).await?;
    let endorser = r.actor.clone();
    let skill = skill.to_string();
    r.state
        .db
        .run(move |c| crate::people::endorse::set(c, &endorser, &target.username, &skill, on))
        .await
}
