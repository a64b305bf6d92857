//! `Accept` and `Reject` of a follow a local person asked for: of a person
//! followed, or of a community of another instance joined.

use serde::Deserialize;

use super::{local_person, Received};
use crate::error::{AppError, AppResult};
use crate::federation::protocol::{Link, Verb};
use crate::urls::Urls;

/// The follow answered: ours, so its actor is the local follower. Servers
/// embed it whole or in part; only these two fields are read.
#[derive(Deserialize)]
struct AnsweredFollow {
    actor: Link,
    #[serde(default, deserialize_with = "crate::federation::protocol::lenient")]
    object: Option<Link>,
}

pub async fn receive(r: &Received<'_>) -> AppResult<()> {
    let follow: AnsweredFollow = r.activity.object.read("object.actor")?;
    if let Some(o) = &follow.object {
        if o.as_str() != r.actor_ap {
            return Err(AppError::forbidden("not_author"));
        }
    }
    let accepted = r.activity.kind == Verb::Accept;
    if r.actor.is_person() {
        let follower = local_person(r.state, follow.actor.as_str()).await?;
        let (fid, eid) = (follower.id, r.actor.id);
        return r
            .state
            .db
            .run(move |c| crate::follows::answer_from_remote(c, fid, eid, accepted))
            .await;
    }
    // A community of another instance answers one of our people's request
    // to join; the first acceptance fills in its recent posts.
    let name = Urls(&r.state.config)
        .local_username(follow.actor.as_str())
        .ok_or_else(AppError::not_found)?;
    let group = r.actor.clone();
    let gid = group.id;
    let first = r
        .state
        .db
        .run(move |c| {
            let person = crate::accounts::find_by_username(c, &name)?;
            crate::communities::membership_remote::answer_from_remote(c, gid, &person, accepted)
        })
        .await?;
    if first {
        let st = r.state.clone();
        tokio::spawn(async move { crate::federation::backfill::backfill(&st, &group).await });
    }
    Ok(())
}
