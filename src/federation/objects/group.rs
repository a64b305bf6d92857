//! A local community as its `Group` actor document (a remote community's
//! actor is read with people's, in [`super::person`]).

use crate::accounts::User;
use crate::communities::Policy;
use crate::config::Config;
use crate::error::AppResult;
use crate::federation::protocol::actor::{
    ActorKind, PublishedActor, PublishedEndpoints, PublishedImage,
};
use crate::federation::protocol::note::PublishedSource;
use crate::federation::protocol::PublicKey;
use crate::urls::Urls;

/// The `Group` document of a local community.
pub fn document(
    cfg: &Config,
    group: &User,
    s: &Policy,
    public_pem: &str,
) -> AppResult<PublishedActor> {
    let u = Urls(cfg);
    let name = &group.username;
    let own = crate::federation::json::own;
    let id = own(&u.community(name))?;
    let icon = if group.photo_version > 0 {
        Some(PublishedImage {
            kind: "Image",
            media_type: "image/jpeg",
            url: own(&format!(
                "{}/picture?v={}",
                u.community(name),
                group.photo_version
            ))?,
        })
    } else {
        None
    };
    Ok(PublishedActor {
        kind: ActorKind::Group,
        preferred_username: name.clone(),
        name: group.shown_name().to_string(),
        summary: Some(crate::federation::json::absolute_html(cfg, &group.bio_html)),
        source: Some(PublishedSource {
            content: group.bio.clone(),
            media_type: "text/markdown",
        }),
        url: Some(id.clone()),
        inbox: own(&u.community_inbox(name))?,
        outbox: own(&u.community_outbox(name))?,
        followers: Some(own(&u.community_followers(name))?),
        following: None,
        endpoints: PublishedEndpoints {
            shared_inbox: own(&u.shared_inbox())?,
        },
        manually_approves_followers: s.join_policy != "open",
        discoverable: None,
        posting_restricted_to_mods: Some(false),
        published: Some(
            group
                .created_at
                .and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ),
        public_key: PublicKey {
            id: u.community_key(name),
            owner: id.clone(),
            public_key_pem: public_pem.to_string(),
        },
        attachment: None,
        tag: None,
        icon,
        ruche_visibility: Some(s.visibility.as_str().to_string()),
        ruche_join_policy: Some(s.join_policy.clone()),
        ruche_guest: None,
        ruche_partners: Some(s.partners),
        suspended: None,
        generator: crate::federation::json::generator(cfg)?,
        id,
    })
}
