//! `Add` and `Remove` by a community of another instance to its own
//! collections: its moderators (a role of one of our people) or its pinned
//! posts (Lemmy's way to pin). A local moderator's acts on our communities
//! are in [`super::moderation`].

use super::Received;
use crate::error::AppResult;
use crate::federation::protocol::Verb;
use crate::urls::Urls;

pub async fn receive(r: &Received<'_>) -> AppResult<()> {
    let activity = r.activity;
    let which = activity
        .target
        .as_ref()
        .and_then(|t| t.as_str().strip_prefix(r.actor_ap))
        .unwrap_or("");
    let target = r.object_id()?.to_string();
    let gid = r.actor.id;
    let urls = Urls(&r.state.config);
    match which {
        "/moderators" => {
            // Someone else's role (Lemmy tells every member instance).
            let Some(name) = urls.local_username(&target) else {
                return Ok(());
            };
            let role = match (activity.kind, activity.ruche_role.as_deref()) {
                (Verb::Remove, _) => "member",
                (_, Some("owner")) => "owner",
                _ => "moderator",
            };
            r.state
                .db
                .run(move |c| {
                    let person = crate::accounts::find_by_username(c, &name)?;
                    crate::communities::membership_remote::role_from_remote(c, gid, &person, role)
                })
                .await
        }
        "/featured" => {
            let local = urls.local_post_id(&target);
            let on = activity.kind == Verb::Add;
            r.state
                .db
                .run(move |c| crate::content::remote::pin_in_community(c, gid, local, &target, on))
                .await
        }
        _ => Ok(()),
    }
}
