//! Moderation acts that a moderator of one of our communities, living on
//! another instance, sends to the community (see `group_moderation` for
//! their shapes): each is read into a request and applied with the same
//! feature functions as a local moderator's act, which check the rules
//! again, log it and tell the member instances what changed.

use diesel::prelude::*;
use serde::Deserialize;

use super::Received;
use crate::communities::membership::{self, Act};
use crate::communities::{self, Settings};
use crate::config::Config;
use crate::db::schema::content;
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::federation::protocol::{lenient, Link, Object, Verb};
use crate::federation::remote::invalid;
use crate::urls::{host_of, Urls};

/// A moderation act a remote person sends to one of our communities.
enum Request {
    Member {
        community: String,
        person: String,
        act: Act,
    },
    Pin {
        community: String,
        post: String,
        on: bool,
    },
    RemovePost {
        post: i64,
        community: String,
        reason: String,
    },
    Settings {
        community: String,
        settings: Settings,
    },
    /// A new picture at this address (on the moderator's instance), or
    /// none.
    Picture {
        community: String,
        url: Option<String>,
    },
    DeleteDocument {
        document: i64,
    },
}

/// Handles a moderation act a remote person sends to one of our
/// communities. Returns `false` when the activity is not one (the caller
/// applies it as usual).
pub async fn apply(r: &Received<'_>) -> AppResult<bool> {
    let Some(request) = read_request(r).await? else {
        return Ok(false);
    };
    let state = r.state;
    let actor = r.actor.clone();
    match request {
        Request::Member {
            community,
            person,
            act,
        } => {
            let username = username_of(state, &person).await?;
            state
                .db
                .run(move |c| membership::act(c, &actor, &community, &username, &act))
                .await
        }
        Request::Pin {
            community,
            post,
            on,
        } => {
            let cfg = state.config.clone();
            state
                .db
                .run(move |c| {
                    let id = content_id(c, &cfg, &post)?.ok_or_else(AppError::not_found)?;
                    communities::moderation::pin(c, &actor, &community, id, on)
                })
                .await
        }
        Request::RemovePost {
            post,
            community,
            reason,
        } => {
            state
                .db
                .run(move |c| {
                    communities::moderation::remove_post(c, &actor, &community, post, &reason)
                })
                .await
        }
        Request::Settings {
            community,
            settings,
        } => {
            state
                .db
                .run(move |c| communities::update(c, &actor, &community, &settings).map(|_| ()))
                .await
        }
        Request::Picture { community, url } => {
            let max = state.config.people.max_photo_bytes;
            let bytes = match url {
                Some(u) => Some(state.fed.get_bytes(&u, max).await?),
                None => None,
            };
            state
                .db
                .run(move |c| {
                    communities::set_picture(c, &actor, &community, bytes.as_deref(), max)
                        .map(|_| ())
                })
                .await
        }
        Request::DeleteDocument { document } => {
            let store = state.storage.clone();
            state
                .db
                .run(move |c| crate::documents::delete(c, store.as_ref(), &actor, document))
                .await
        }
    }?;
    Ok(true)
}

/// The content row of an address (ours or another instance's).
fn content_id(conn: &mut DbConn, cfg: &Config, url: &str) -> AppResult<Option<i64>> {
    if let Some(id) = Urls(cfg).local_post_id(url) {
        return Ok(Some(id));
    }
    Ok(crate::content::remote::find_by_ap_id(conn, url)?.map(|r| r.id))
}

/// Our name for the person at an actor address (fetched when unknown).
async fn username_of(state: &crate::app::AppState, url: &str) -> AppResult<String> {
    if let Some(name) = Urls(&state.config).local_username(url) {
        return Ok(name);
    }
    Ok(crate::federation::remote::actor(state, url, false)
        .await?
        .user
        .username)
}

/// An activity a moderation act embeds (an undone `Block`, an answered
/// `Follow`): only these parts are read.
#[derive(Deserialize)]
struct Embedded {
    #[serde(default, deserialize_with = "lenient")]
    actor: Option<Link>,
    #[serde(default, deserialize_with = "lenient")]
    object: Option<Link>,
    #[serde(default, deserialize_with = "lenient")]
    target: Option<Link>,
}

/// A community's settings, or its picture, as a moderator's `Update` of the
/// Group gives them.
#[derive(Deserialize)]
struct GroupUpdate {
    #[serde(default, deserialize_with = "lenient")]
    name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    source: Option<crate::federation::protocol::note::Source>,
    /// Absent: unchanged; `null`: removed; an image: the new picture.
    #[serde(default, deserialize_with = "present")]
    icon: Option<Option<Object>>,
    #[serde(rename = "ruche:visibility", default, deserialize_with = "lenient")]
    visibility: Option<String>,
    #[serde(rename = "ruche:joinPolicy", default, deserialize_with = "lenient")]
    join_policy: Option<String>,
    #[serde(rename = "ruche:partners", default, deserialize_with = "lenient")]
    partners: Option<bool>,
}

/// A field given (`Some`, maybe `null`), told apart from a field left out
/// (`None`, by `default`).
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

#[derive(Deserialize)]
struct Image {
    url: Link,
}

/// Recognises a moderation act sent by a remote person to one of our
/// communities.
async fn read_request(r: &Received<'_>) -> AppResult<Option<Request>> {
    let (state, actor, activity) = (r.state, r.actor, r.activity);
    let cfg = &state.config;
    let urls = Urls(cfg);
    let object = &activity.object;
    let kind = activity.kind;
    let reason: String = activity
        .summary
        .as_deref()
        .unwrap_or("")
        .chars()
        .take(membership::MAX_REASON)
        .collect();
    // `{our community}/{collection}` → (community, collection).
    let collection = |v: Option<&Link>| -> Option<(String, String)> {
        let (group, which) = v?.as_str().rsplit_once('/')?;
        Some((urls.local_community(group)?, which.to_string()))
    };
    let person = || {
        object
            .id()
            .filter(|u| host_of(u.as_str()).is_some())
            .map(|u| u.to_string())
            .ok_or_else(|| invalid("object"))
    };
    // The community of ours an address names.
    let ours = |v: Option<&Link>| v.and_then(|t| urls.local_community(t.as_str()));
    let request = match kind {
        Verb::Add | Verb::Remove => match collection(activity.target.as_ref()) {
            Some((community, which)) => match (which.as_str(), kind) {
                ("featured", _) => Request::Pin {
                    community,
                    post: person()?,
                    on: kind == Verb::Add,
                },
                ("moderators", Verb::Add) => {
                    let role = match activity.ruche_role.as_deref() {
                        Some("owner") => "owner",
                        _ => "moderator",
                    };
                    Request::Member {
                        community,
                        person: person()?,
                        act: Act::Role(role),
                    }
                }
                ("moderators", _) => Request::Member {
                    community,
                    person: person()?,
                    act: Act::Role("member"),
                },
                ("followers", Verb::Remove) => Request::Member {
                    community,
                    person: person()?,
                    act: Act::Remove(reason),
                },
                _ => return Err(invalid("target")),
            },
            None => return Ok(None),
        },
        Verb::Block => {
            let Some(community) = ours(activity.target.as_ref()) else {
                return Ok(None);
            };
            Request::Member {
                community,
                person: person()?,
                act: Act::Ban(reason),
            }
        }
        Verb::Undo if object.kind() == "Block" => {
            let block: Embedded = object.read("object")?;
            let Some(community) = ours(block.target.as_ref()) else {
                return Ok(None);
            };
            let target = block.object.ok_or_else(|| invalid("object.object"))?;
            Request::Member {
                community,
                person: target.as_str().to_string(),
                act: Act::Unban,
            }
        }
        Verb::Accept | Verb::Reject if object.kind() == "Follow" => {
            let follow: Embedded = object.read("object")?;
            let Some(community) = ours(follow.object.as_ref()) else {
                return Ok(None);
            };
            let target = follow.actor.ok_or_else(|| invalid("object.actor"))?;
            Request::Member {
                community,
                person: target.as_str().to_string(),
                act: if kind == Verb::Accept {
                    Act::Approve
                } else {
                    Act::Refuse
                },
            }
        }
        Verb::Invite => {
            let Some(community) = object.id().and_then(|t| urls.local_community(t.as_str())) else {
                return Ok(None);
            };
            let target = activity.target.as_ref().ok_or_else(|| invalid("target"))?;
            Request::Member {
                community,
                person: target.as_str().to_string(),
                act: Act::Invite,
            }
        }
        Verb::Update if object.kind() == "Group" => {
            let Some(community) = object.id().and_then(|t| urls.local_community(t.as_str())) else {
                return Ok(None);
            };
            let update: GroupUpdate = object.read("object")?;
            if let Some(icon) = update.icon {
                // The picture is taken from the moderator's own instance.
                let url = match icon {
                    None => None,
                    Some(i) => {
                        let image: Image = i.read("icon")?;
                        let u = image.url.as_str();
                        if u.len() > 2000 || host_of(u) != actor.domain {
                            return Err(
                                AppError::bad_request("origin_mismatch").with("field", "icon")
                            );
                        }
                        Some(u.to_string())
                    }
                };
                return Ok(Some(Request::Picture { community, url }));
            }
            Request::Settings {
                community,
                settings: Settings {
                    title: update.name,
                    description: update.source.and_then(|s| s.content),
                    visibility: update.visibility,
                    join_policy: update.join_policy,
                    partners: update.partners,
                },
            }
        }
        Verb::Delete => {
            let Some(target) = object.id().map(|u| u.to_string()) else {
                return Ok(None);
            };
            let (cfg, uid) = (cfg.clone(), actor.id);
            let found = state
                .db
                .run(move |c| deleted_thing(c, &cfg, uid, &target))
                .await?;
            match found {
                Some(Deleted::Post(post, community)) => Request::RemovePost {
                    post,
                    community,
                    reason,
                },
                Some(Deleted::Document(document)) => Request::DeleteDocument { document },
                None => return Ok(None),
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(request))
}

enum Deleted {
    /// Someone else's post or comment in one of our communities.
    Post(i64, String),
    /// A document of one of our communities.
    Document(i64),
}

/// What a Delete from the person `actor` names that is moderation: someone
/// else's content, or a document, in one of our communities.
fn deleted_thing(
    conn: &mut DbConn,
    cfg: &Config,
    actor: i64,
    target: &str,
) -> AppResult<Option<Deleted>> {
    if let Some(id) = content_id(conn, cfg, target)? {
        let (author, community): (i64, Option<i64>) = content::table
            .find(id)
            .select((content::author_id, content::community_id))
            .first(conn)?;
        let Some(community) = community.filter(|_| author != actor) else {
            return Ok(None);
        };
        let group = crate::accounts::find_by_id(conn, community)?;
        return Ok(group
            .is_local()
            .then_some(Deleted::Post(id, group.username)));
    }
    Ok(crate::documents::hosted_by_address(conn, cfg, target)?.map(Deleted::Document))
}
