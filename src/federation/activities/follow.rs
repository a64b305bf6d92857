//! `Follow` of a local person or of one of our communities (a join), and
//! its `Undo` (an unfollow, or leaving the community).

use super::{local_person, Received};
use crate::accounts::User;
use crate::app::AppState;
use crate::audience::{self, CommunityVisibility, Need};
use crate::error::{AppError, AppResult};
use crate::federation::groups;
use crate::federation::protocol::Object;
use crate::federation::remote::invalid;

/// The local community an address names, if it names one.
async fn community(state: &AppState, target: &str) -> AppResult<Option<User>> {
    let (cfg, target) = (state.config.clone(), target.to_string());
    state
        .db
        .run(move |c| groups::local_community(c, &cfg, &target))
        .await
}

/// A remote actor follows one of our people, or asks to join one of our
/// communities. Only a person follows a person.
pub async fn receive(r: &Received<'_>) -> AppResult<()> {
    let target = r.object_id()?;
    if let Some(group) = community(r.state, target.as_str()).await? {
        return join(r.state, r.actor, group, r.activity.id.as_str()).await;
    }
    if !r.actor.is_person() {
        return Ok(());
    }
    let followee = local_person(r.state, target.as_str()).await?;
    let follow_id = r.activity.id.to_string();
    let follower = r.actor.id;
    r.state
        .db
        .run(move |c| crate::follows::follow_from_remote(c, follower, &followee, &follow_id))
        .await
}

/// The follow is undone (`followed` is the undone Follow's object; the
/// Follow was checked to be the actor's own by [`super::undo`]): an
/// unfollow, or leaving one of our communities.
pub async fn undo(r: &Received<'_>, followed: &Object) -> AppResult<()> {
    let target = followed.id().ok_or_else(|| invalid("object.object"))?;
    if let Some(group) = community(r.state, target.as_str()).await? {
        let person = r.actor.clone();
        return r
            .state
            .db
            .run(move |c| {
                crate::communities::membership_remote::leave_from_remote(c, group.id, &person)
            })
            .await;
    }
    if !r.actor.is_person() {
        return Ok(());
    }
    let followee = local_person(r.state, target.as_str()).await?;
    let (f, e) = (r.actor.id, followee.id);
    r.state
        .db
        .run(move |c| crate::follows::unfollow_from_remote(c, f, e))
        .await
}

/// A remote actor asks to join one of our communities.
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
