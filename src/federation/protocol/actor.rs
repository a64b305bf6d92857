//! An actor document: a person, a community (`Group`), an instance
//! (`Application`) or a bot, as Mastodon, GoToSocial, Lemmy, Akkoma,
//! Misskey, Fedify-based servers, PeerTube and Ruche publish them.

use serde::{Deserialize, Serialize};
use url::Url;

use super::{lenient, lenient_list, Link, PublicKey};

/// The actor types Ruche reads; any other is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum ActorKind {
    Person,
    Service,
    Application,
    Organization,
    Group,
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: ActorKind,
    /// Optional in ActivityPub; some servers and tools publish none.
    #[serde(default, deserialize_with = "lenient")]
    pub preferred_username: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub summary: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub inbox: Option<Url>,
    #[serde(default, deserialize_with = "lenient")]
    pub endpoints: Option<Endpoints>,
    /// One key, or a list of them (the first is used).
    #[serde(default, deserialize_with = "lenient_list")]
    pub public_key: Vec<PublicKey>,
    /// The profile page.
    #[serde(default, deserialize_with = "lenient")]
    pub url: Option<Link>,
    /// The photo: one image or a list (the first is used).
    #[serde(default, deserialize_with = "lenient_list")]
    pub icon: Vec<Image>,
    /// Profile fields (`PropertyValue`) and anything else, skipped.
    #[serde(default, deserialize_with = "lenient_list")]
    pub attachment: Vec<PropertyValue>,
    /// Hashtags: a person's skills (Mastodon's featured tags read alike).
    #[serde(default, deserialize_with = "lenient_list")]
    pub tag: Vec<super::note::Tag>,
    #[serde(default, deserialize_with = "lenient")]
    pub manually_approves_followers: Option<bool>,
    /// Its followers (a community's members) and whom it follows, whose
    /// counts are shown with it.
    #[serde(default, deserialize_with = "lenient")]
    pub followers: Option<Url>,
    #[serde(default, deserialize_with = "lenient")]
    pub following: Option<Url>,
    /// When the account (or community) was created on its host.
    #[serde(default, deserialize_with = "lenient")]
    pub published: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// FEP-844e: what the software behind the actor implements.
    #[serde(default, deserialize_with = "lenient_list")]
    pub implements: Vec<Implemented>,
    #[serde(default, deserialize_with = "lenient")]
    pub generator: Option<Generator>,
    /// A Ruche community's settings.
    #[serde(rename = "ruche:visibility", default, deserialize_with = "lenient")]
    pub ruche_visibility: Option<String>,
    #[serde(rename = "ruche:joinPolicy", default, deserialize_with = "lenient")]
    pub ruche_join_policy: Option<String>,
    #[serde(rename = "ruche:partners", default, deserialize_with = "lenient")]
    pub ruche_partners: Option<bool>,
    /// A Ruche person who is a partner's guest on their instance.
    #[serde(rename = "ruche:guest", default, deserialize_with = "lenient")]
    pub ruche_guest: Option<bool>,
    /// Mastodon's `toot:suspended`: the account is closed on its host (a
    /// person who left the company, for Ruche).
    #[serde(default, deserialize_with = "lenient")]
    pub suspended: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    #[serde(default, deserialize_with = "lenient")]
    pub shared_inbox: Option<Url>,
}

#[derive(Debug, Deserialize)]
pub struct Image {
    pub url: Link,
}

/// A profile field (`PropertyValue`, schema.org).
#[derive(Debug, Deserialize)]
pub struct PropertyValue {
    #[serde(rename = "type")]
    pub kind: PropertyValueType,
    pub name: String,
    pub value: String,
}

#[derive(Debug, Deserialize, Serialize)]
pub enum PropertyValueType {
    PropertyValue,
}

/// An entry of FEP-844e `implements`: a URL, or a link to one.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Implemented {
    Href(Url),
    Link { href: Url },
}

impl Implemented {
    pub fn href(&self) -> &Url {
        match self {
            Implemented::Href(u) | Implemented::Link { href: u } => u,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Generator {
    #[serde(default, deserialize_with = "lenient_list")]
    pub implements: Vec<Implemented>,
}

impl Actor {
    /// Whether the actor, or the software named as its generator, says it
    /// implements `href` (FEP-844e).
    pub fn implements(&self, href: &str) -> bool {
        self.implements
            .iter()
            .chain(self.generator.iter().flat_map(|g| g.implements.iter()))
            .any(|i| i.href().as_str() == href)
    }

    /// The shared inbox, when one is given.
    pub fn shared_inbox(&self) -> Option<&Url> {
        self.endpoints
            .as_ref()
            .and_then(|e| e.shared_inbox.as_ref())
    }
}

/// A local person, community or the instance itself, as Ruche publishes
/// it (built by `federation::objects::person` and `objects::group`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishedActor {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: ActorKind,
    pub preferred_username: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// A community's description in Markdown (Lemmy reads it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<super::note::PublishedSource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<Url>,
    pub inbox: Url,
    pub outbox: Url,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub followers: Option<Url>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub following: Option<Url>,
    pub endpoints: PublishedEndpoints,
    pub manually_approves_followers: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discoverable: Option<bool>,
    /// Lemmy's: anyone who joined may post.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub posting_restricted_to_mods: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    pub public_key: PublicKey,
    /// Profile fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Vec<PublishedField>>,
    /// A person's skills, as hashtags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<Vec<super::note::PublishedTag>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon: Option<PublishedImage>,
    #[serde(rename = "ruche:visibility", skip_serializing_if = "Option::is_none")]
    pub ruche_visibility: Option<String>,
    #[serde(rename = "ruche:joinPolicy", skip_serializing_if = "Option::is_none")]
    pub ruche_join_policy: Option<String>,
    #[serde(rename = "ruche:partners", skip_serializing_if = "Option::is_none")]
    pub ruche_partners: Option<bool>,
    /// A person who is a partner's guest here: `true`.
    #[serde(rename = "ruche:guest", skip_serializing_if = "Option::is_none")]
    pub ruche_guest: Option<bool>,
    /// A person whose account is disabled (who left): `true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspended: Option<bool>,
    pub generator: PublishedGenerator,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishedEndpoints {
    pub shared_inbox: Url,
}

/// A profile field (`PropertyValue`).
#[derive(Debug, Serialize)]
pub struct PublishedField {
    #[serde(rename = "type")]
    pub kind: PropertyValueType,
    pub name: &'static str,
    pub value: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishedImage {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub media_type: &'static str,
    pub url: Url,
}

/// The software behind an actor (FEP-844e), with what it implements.
#[derive(Debug, Serialize)]
pub struct PublishedGenerator {
    #[serde(rename = "type")]
    pub kind: ActorKind,
    pub name: String,
    pub url: Url,
    pub implements: Vec<PublishedImplemented>,
}

#[derive(Debug, Serialize)]
pub struct PublishedImplemented {
    pub name: &'static str,
    pub href: Url,
}
