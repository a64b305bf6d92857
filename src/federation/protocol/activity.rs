//! An incoming activity: its id, verb, actor and object, read once from
//! the request's body. The object is read again as the verb requires (an
//! id, a [`super::Note`], an [`super::Actor`], or the activity an `Undo` or
//! an `Accept` names), through [`Object::read`].

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use super::Link;
use crate::error::AppResult;

/// The verbs Ruche acts on; any other is [`Verb::Other`] and is answered as
/// nothing to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum Verb {
    Create,
    Update,
    Delete,
    Follow,
    Accept,
    /// An answer "maybe" to an event (Friendica, Hubzilla, Ruche).
    TentativeAccept,
    Reject,
    Undo,
    Like,
    EmojiReact,
    Announce,
    Add,
    Remove,
    Join,
    Leave,
    Block,
    Flag,
    Invite,
    /// A must-read confirmed (`content::must_read`).
    Read,
    #[serde(other)]
    Other,
}

/// An activity as received.
#[derive(Debug, Deserialize)]
pub struct Activity {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: Verb,
    pub actor: Link,
    #[serde(default)]
    pub object: Object,
    /// The emoji of an `EmojiReact`.
    #[serde(default, deserialize_with = "super::lenient")]
    pub content: Option<String>,
    /// The collection of an `Add` or a `Remove`, the person of an `Invite`
    /// or the community of a `Block`.
    #[serde(default, deserialize_with = "super::lenient")]
    pub target: Option<Link>,
    /// The reason a moderator gives.
    #[serde(default, deserialize_with = "super::lenient")]
    pub summary: Option<String>,
    /// The role an `Add` to a Ruche community's moderators gives.
    #[serde(rename = "ruche:role", default, deserialize_with = "super::lenient")]
    pub ruche_role: Option<String>,
    /// The skill a `Like` of a person endorses (Ruche).
    #[serde(rename = "ruche:skill", default, deserialize_with = "super::lenient")]
    pub ruche_skill: Option<String>,
}

/// The object of an activity, kept as received and read as the verb
/// requires.
#[derive(Debug, Default, Deserialize)]
#[serde(transparent)]
pub struct Object(Value);

/// What any object says of itself: its id and its type.
#[derive(Debug, Default, Deserialize)]
pub struct Head {
    #[serde(default, deserialize_with = "super::lenient")]
    pub id: Option<Url>,
    #[serde(rename = "type", default, deserialize_with = "super::lenient")]
    pub kind: Option<String>,
}

impl Object {
    /// The object's id: the URL given, or the id of the object embedded.
    pub fn id(&self) -> Option<Url> {
        Link::deserialize(&self.0).ok().map(|l| l.0)
    }

    /// The embedded object's id and type (both `None` for a bare URL).
    pub fn head(&self) -> Head {
        match &self.0 {
            Value::Object(_) => Head::deserialize(&self.0).unwrap_or_default(),
            _ => Head::default(),
        }
    }

    /// The embedded object's type, `""` when none is given.
    pub fn kind(&self) -> String {
        self.head().kind.unwrap_or_default()
    }

    /// Whether an object is embedded (not only named by its URL).
    pub fn is_embedded(&self) -> bool {
        self.0.is_object()
    }

    /// Whether there is an object at all.
    pub fn is_present(&self) -> bool {
        !self.0.is_null()
    }

    /// The object read as `T`; refused as `activity_invalid` naming `field`
    /// when it does not fit.
    pub fn read<T: DeserializeOwned>(&self, field: &'static str) -> AppResult<T> {
        super::read(&self.0, field)
    }
}

// ----- Sending ------------------------------------------------------------

/// An activity as Ruche sends it: built with [`Sent::new`] and its
/// addressing methods, then made the delivered document (with the one
/// JSON-LD context) by `federation::json::document`.
#[derive(Debug, Serialize)]
pub struct Sent {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: Verb,
    pub actor: Url,
    pub object: SentObject,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<Vec<Url>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cc: Option<Vec<Url>>,
    /// The community it concerns (FEP-1b12, Lemmy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<Url>,
    /// The collection of an `Add` or `Remove`, the person of an `Invite`,
    /// the community of a `Block`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<Url>,
    /// The emoji of an `EmojiReact`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// A moderator's reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The role an `Add` to a community's moderators gives.
    #[serde(rename = "ruche:role", skip_serializing_if = "Option::is_none")]
    pub ruche_role: Option<String>,
    /// The skill a `Like` of a person endorses.
    #[serde(rename = "ruche:skill", skip_serializing_if = "Option::is_none")]
    pub ruche_skill: Option<String>,
}

/// What an activity Ruche sends is about.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum SentObject {
    /// Named by its address.
    Id(Url),
    /// An activity it wraps (an `Undo`, an `Announce`).
    Activity(Box<Sent>),
    /// An activity embedded as its sender named it: an answered or undone
    /// `Follow`, an undone `Block`.
    Embedded(Box<Embedded>),
    Note(Box<super::note::Published>),
    /// A vote in a poll of another instance.
    Vote(Box<super::note::PublishedVote>),
    Response(Box<super::note::PublishedResponse>),
    Actor(Box<super::actor::PublishedActor>),
    /// A deleted post (`Tombstone`) or document (`Document`).
    Gone {
        id: Url,
        #[serde(rename = "type")]
        kind: &'static str,
    },
    /// What a moderator changes of a community.
    Group(Box<GroupChange>),
}

/// An activity embedded in another (an answered `Follow`, an undone
/// `Block`): its id as its sender gave it, left out when there is none.
#[derive(Debug, Serialize)]
pub struct Embedded {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Url>,
    #[serde(rename = "type")]
    pub kind: Verb,
    pub actor: Url,
    pub object: Url,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<Url>,
}

/// A moderator's `Update` of a community: its settings, or its picture
/// (`icon`: an image, or `null` to remove it).
#[derive(Debug, Serialize)]
pub struct GroupChange {
    #[serde(rename = "type")]
    pub kind: super::actor::ActorKind,
    pub id: Url,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon: Option<Option<super::actor::PublishedImage>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<super::note::PublishedSource>,
    #[serde(rename = "ruche:visibility", skip_serializing_if = "Option::is_none")]
    pub visibility: Option<String>,
    #[serde(rename = "ruche:joinPolicy", skip_serializing_if = "Option::is_none")]
    pub join_policy: Option<String>,
    #[serde(rename = "ruche:partners", skip_serializing_if = "Option::is_none")]
    pub partners: Option<bool>,
}

fn urls(list: &[String]) -> AppResult<Vec<Url>> {
    list.iter().map(|s| super::url(s)).collect()
}

impl SentObject {
    /// An object named by its address.
    pub fn id(s: &str) -> AppResult<SentObject> {
        Ok(SentObject::Id(super::url(s)?))
    }
}

impl Sent {
    pub fn new(id: &str, kind: Verb, actor: &str, object: SentObject) -> AppResult<Sent> {
        Ok(Sent {
            id: super::url(id)?,
            kind,
            actor: super::url(actor)?,
            object,
            to: None,
            cc: None,
            audience: None,
            target: None,
            content: None,
            summary: None,
            ruche_role: None,
            ruche_skill: None,
        })
    }

    pub fn to(mut self, to: &[String]) -> AppResult<Sent> {
        self.to = Some(urls(to)?);
        Ok(self)
    }

    pub fn cc(mut self, cc: &[String]) -> AppResult<Sent> {
        self.cc = Some(urls(cc)?);
        Ok(self)
    }

    pub fn audience(mut self, group: &str) -> AppResult<Sent> {
        self.audience = Some(super::url(group)?);
        Ok(self)
    }

    pub fn target(mut self, target: &str) -> AppResult<Sent> {
        self.target = Some(super::url(target)?);
        Ok(self)
    }

    pub fn content(mut self, content: &str) -> Sent {
        self.content = Some(content.to_string());
        self
    }

    pub fn summary(mut self, summary: &str) -> Sent {
        self.summary = Some(summary.to_string());
        self
    }

    pub fn role(mut self, role: &str) -> Sent {
        self.ruche_role = Some(role.to_string());
        self
    }

    /// The skill a `Like` of a person endorses.
    pub fn skill(mut self, skill: &str) -> Sent {
        self.ruche_skill = Some(skill.to_string());
        self
    }
}
