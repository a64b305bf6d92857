//! A person of another instance confirms having read a must-read of one of
//! our communities: a `Read` of the post (ActivityStreams' verb for "the
//! actor has read the object"). Only the community's members count; who
//! they are, and what a confirmation stores, is decided by
//! `content::must_read::confirm_remote`. A `Read` of anything else is
//! understood as nothing to do.

use super::Received;
use crate::error::AppResult;

/// Applies the `Read`; a `Read` of what is no must-read of ours is
/// ignored. The post may be ours or, written in one of our communities by
/// a member of another instance, known by its address there.
pub async fn receive(r: &Received<'_>) -> AppResult<()> {
    let object = r.object_id()?.to_string();
    let local = crate::urls::Urls(&r.state.config).local_post_id(&object);
    let person = r.actor.id;
    let ap_id = r.activity.id.to_string();
    r.state
        .db
        .run(move |c| {
            let id = match local {
                Some(id) => id,
                None => match crate::content::remote::find_by_ap_id(c, &object)? {
                    Some(row) => row.id,
                    None => return Ok(()),
                },
            };
            if !crate::content::must_read::is_community_must_read(c, id)? {
                return Ok(());
            }
            crate::content::must_read::confirm_remote(c, person, id, &ap_id)?;
            Ok(())
        })
        .await
}
