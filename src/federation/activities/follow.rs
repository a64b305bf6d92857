//! `Follow` of a local person, and its `Undo`.

use super::{local_person, Received};
use crate::error::AppResult;
use crate::federation::protocol::Object;
use crate::federation::remote::invalid;

/// A remote person follows one of ours.
pub async fn receive(r: &Received<'_>) -> AppResult<()> {
    let target = r.activity.object.id().ok_or_else(|| invalid("object"))?;
    let followee = local_person(r.state, target.as_str()).await?;
    let follow_id = r.activity.id.to_string();
    let follower = r.actor.id;
    r.state
        .db
        .run(move |c| crate::follows::follow_from_remote(c, follower, &followee, &follow_id))
        .await
}

/// The follow is undone (`followed` is the undone Follow's object; the
/// Follow was checked to be the actor's own by [`super::undo`]).
pub async fn undo(r: &Received<'_>, followed: &Object) -> AppResult<()> {
    let target = followed.id().ok_or_else(|| invalid("object.object"))?;
    let followee = local_person(r.state, target.as_str()).await?;
    let (f, e) = (r.actor.id, followee.id);
    r.state
        .db
        .run(move |c| crate::follows::unfollow_from_remote(c, f, e))
        .await
}
