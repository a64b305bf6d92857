//! `Undo` of a follow, a reaction or an endorsement: the undone activity
//! must be the actor's own.

use serde::Deserialize;

use super::Received;
use crate::error::{AppError, AppResult};
use crate::federation::protocol::{lenient, Link, Object, Verb};

/// The undone activity as servers embed it (its id and actor may be left
/// out).
#[derive(Deserialize)]
struct Undone {
    #[serde(rename = "type", default, deserialize_with = "lenient")]
    kind: Option<Verb>,
    #[serde(default, deserialize_with = "lenient")]
    actor: Option<Link>,
    #[serde(default)]
    object: Object,
    /// The emoji of an undone `EmojiReact`.
    #[serde(default, deserialize_with = "lenient")]
    content: Option<String>,
    /// The skill of an undone endorsement.
    #[serde(rename = "ruche:skill", default, deserialize_with = "lenient")]
    ruche_skill: Option<String>,
}

pub async fn receive(r: &Received<'_>) -> AppResult<()> {
    let undone: Undone = r.activity.object.read("object")?;
    if let Some(a) = &undone.actor {
        if a.as_str() != r.actor_ap {
            return Err(AppError::forbidden("not_author"));
        }
    }
    match undone.kind {
        Some(Verb::Follow) => super::follow::undo(r, &undone.object).await,
        Some(Verb::Like) if undone.ruche_skill.is_some() => {
            let skill = undone.ruche_skill.as_deref().unwrap_or_default();
            super::like::endorse(r, undone.object.id(), skill, false).await
        }
        Some(kind @ (Verb::Like | Verb::EmojiReact)) => {
            let reaction = super::like::Reaction {
                kind,
                object: undone.object.id(),
                content: undone.content.as_deref(),
            };
            super::like::apply(r, &reaction, false).await
        }
        _ => Ok(()),
    }
}
