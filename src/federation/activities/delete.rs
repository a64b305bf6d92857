//! `Delete` of a remote person (everything of theirs goes) or of one of
//! their posts or comments, and a community of another instance removing
//! content from it (a moderator's act). A local moderator's removal in one
//! of our communities is in [`super::moderation`].

use super::Received;
use crate::error::{AppError, AppResult};
use crate::urls::host_of;

pub async fn receive(r: &Received<'_>) -> AppResult<()> {
    let target = r.object_id()?.to_string();
    let uid = r.actor.id;
    if target == r.actor_ap {
        return r
            .state
            .db
            .run(move |c| {
                // The account first: in between, its posts are already
                // hidden (their author is disabled), where the other order
                // showed a profile whose posts were gone.
                crate::accounts::remote::deleted(c, uid)?;
                crate::content::remote::delete_all_of(c, uid).map(|_| ())
            })
            .await;
    }
    if host_of(&target) != host_of(r.actor_ap) {
        return Err(AppError::forbidden("not_author"));
    }
    r.state
        .db
        .run(move |c| crate::content::remote::delete(c, uid, &target))
        .await
}

/// A community of another instance removes content from itself.
pub async fn by_community(r: &Received<'_>) -> AppResult<()> {
    let target = r.object_id()?.to_string();
    let local = crate::urls::Urls(&r.state.config).local_post_id(&target);
    let gid = r.actor.id;
    r.state
        .db
        .run(move |c| crate::content::remote::remove_from_community(c, gid, local, &target))
        .await
}
