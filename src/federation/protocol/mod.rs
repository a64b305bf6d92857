//! The ActivityPub vocabulary Ruche reads and sends, as typed serde
//! structs. Read: an incoming activity ([`Activity`]), an actor
//! ([`Actor`]), a post or a comment ([`Note`]) with its tags and its
//! document ([`Attachment`]), collections ([`collection`]). Sent: an
//! activity ([`Sent`]), our actors ([`actor::PublishedActor`]), a post
//! ([`note::Published`]). Ids are [`url::Url`]; what the fields mean for
//! Ruche, with their bounds, is decided when a document becomes a row and
//! a row a document (`federation::objects`).
//!
//! # What is taken from `activitypub_federation`, and what is not
//!
//! Used, as they are:
//! - `protocol::context::WithContext`, which puts the one JSON-LD context
//!   of Ruche (`federation::json::context`) on every document it serves or
//!   delivers;
//! - `protocol::helpers`: `deserialize_one_or_many` (addressing lists, with
//!   `as:Public` and `Public` read as the public collection) and
//!   `deserialize_skip_error` (a field of an unexpected shape, as servers
//!   publish, is read as absent rather than refusing the document);
//! - `protocol::public_key::PublicKey`, the key an actor publishes (read
//!   and sent) and `protocol::tombstone::Tombstone` (what a deleted post or
//!   person is served as);
//! - `fetch::webfinger::{Webfinger, WebfingerLink}`, the WebFinger answer
//!   read (`federation::remote::lookup`) and served.
//!
//! Not used, on purpose:
//! - its HTTP signature verification (`http_signatures`): it accepts a
//!   signature covering only `digest`, valid for an hour, without checking
//!   for dates in the future. Ruche verifies draft-cavage with
//!   `http-signature-normalization` and its own rules, and RFC 9421 itself
//!   ([`crate::net::signature`]).
//! - its activity queue and sender: the queue is in memory (a restart loses
//!   deliveries) and the sender silently drops inboxes with a port or on a
//!   private address, which intranet sites use. Deliveries are rows written
//!   with the change and sent by [`crate::federation::delivery`].
//! - `protocol::verification::verify_domains_match`: it compares
//!   `Url::domain()`, which is `None` for an IP address, so two different
//!   IP addresses (intranet sites) would "match", and it ignores the port.
//!   Origins are compared on host and port (`urls::host_of`).
//! - its fetcher and `ObjectId` (bound to its `Data` configuration and its
//!   client): Ruche fetches through [`crate::net::client`], which checks
//!   the trust gate, the address ranges, the content type and that the
//!   document's id is the address asked for.

pub mod activity;
pub mod actor;
pub mod collection;
pub mod note;

#[cfg(test)]
pub(crate) mod tests;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use url::Url;

pub use activity::{Activity, Object, Sent, SentObject, Verb};
/// A field of an unexpected shape reads as its default (absent).
pub use activitypub_federation::protocol::helpers::deserialize_skip_error as lenient;
pub use activitypub_federation::protocol::public_key::PublicKey;
pub use actor::Actor;
pub use note::{Attachment, Note, Tag};

use crate::error::AppError;

/// An id given as a URL, as an object carrying it (`{"id": …}`), as a link
/// (`{"href": …}`), or as a list of those (the first is taken).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Link(pub Url);

impl Link {
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn url(&self) -> &Url {
        &self.0
    }
}

impl serde::Serialize for Link {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Link {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Url(Url),
            Object { id: Url },
            Href { href: Url },
            Many(Vec<Form>),
        }
        fn first(f: Form) -> Option<Url> {
            match f {
                Form::Url(u) | Form::Object { id: u } | Form::Href { href: u } => Some(u),
                Form::Many(v) => v.into_iter().next().and_then(first),
            }
        }
        first(Form::deserialize(d)?)
            .map(Link)
            .ok_or_else(|| D::Error::custom("no id"))
    }
}

/// An addressing list (`to`, `cc`, `audience`): one URL or many, `null` or
/// absent as none, read with `activitypub_federation`'s
/// `deserialize_one_or_many`.
pub fn recipients<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Url>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(d)?;
    match value {
        None | Some(serde_json::Value::Null) => Ok(Vec::new()),
        Some(v) => activitypub_federation::protocol::helpers::deserialize_one_or_many(v)
            .map_err(D::Error::custom),
    }
}

/// A list of objects, one or many, keeping those that read as `T` (a tag
/// or attachment of a kind Ruche does not know is skipped, not an error).
pub fn lenient_list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let value = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match value {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::Array(items)) => items
            .into_iter()
            .filter_map(|v| T::deserialize(v).ok())
            .collect(),
        Some(one) => T::deserialize(one).into_iter().collect(),
    })
}

/// Reads a document as `T`; a document that does not fit is refused as
/// `activity_invalid`, naming `field` (the part that was read).
pub fn read<T: DeserializeOwned>(
    v: &serde_json::Value,
    field: &'static str,
) -> Result<T, AppError> {
    T::deserialize(v).map_err(|e| {
        tracing::debug!(field, error = %e, "a remote document does not fit");
        super::remote::invalid(field)
    })
}

/// One of our own addresses as a URL (an address that does not parse is a
/// fault of this instance, not of its peers).
pub fn url(s: &str) -> Result<Url, AppError> {
    Url::parse(s).map_err(|e| AppError::internal(format!("address {s}: {e}")))
}
