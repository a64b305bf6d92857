//! An incoming activity: its id, verb, actor and object, read once from
//! the request's body. The object is read again as the verb requires (an
//! id, a [`super::Note`], an [`super::Actor`], or the activity an `Undo` or
//! an `Accept` names), through [`Object::read`].

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::Link;
use crate::error::AppResult;

/// The verbs Ruche acts on; any other is [`Verb::Other`] and is answered as
/// nothing to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Verb {
    Create,
    Update,
    Delete,
    Follow,
    Accept,
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
    #[serde(other)]
    Other,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Create => "Create",
            Verb::Update => "Update",
            Verb::Delete => "Delete",
            Verb::Follow => "Follow",
            Verb::Accept => "Accept",
            Verb::Reject => "Reject",
            Verb::Undo => "Undo",
            Verb::Like => "Like",
            Verb::EmojiReact => "EmojiReact",
            Verb::Announce => "Announce",
            Verb::Add => "Add",
            Verb::Remove => "Remove",
            Verb::Join => "Join",
            Verb::Leave => "Leave",
            Verb::Block => "Block",
            Verb::Flag => "Flag",
            Verb::Invite => "Invite",
            Verb::Other => "Other",
        }
    }
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

    /// The object as received, for the parts still written on raw JSON.
    pub fn raw(&self) -> &Value {
        &self.0
    }
}
