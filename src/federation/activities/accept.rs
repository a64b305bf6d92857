//! `Accept` and `Reject` of a follow a local person asked for.

use serde::Deserialize;

use super::{local_person, Received};
use crate::error::{AppError, AppResult};
use crate::federation::protocol::{Link, Verb};

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
    let follower = local_person(r.state, follow.actor.as_str()).await?;
    let (fid, eid) = (follower.id, r.actor.id);
    let ok = r.activity.kind == Verb::Accept;
    r.state
        .db
        .run(move |c| crate::follows::answer_from_remote(c, fid, eid, ok))
        .await
}
