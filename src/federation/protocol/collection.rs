//! Collections as Ruche reads them: an outbox, a community's members and
//! its moderation log (Ruche's own terms, `ruche:*`).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use url::Url;

use super::{lenient, Link};

/// An `OrderedCollection` (or one of its pages): its items when it lists
/// them (`None` when it gives a count only), those of an unexpected shape
/// skipped.
#[derive(Debug, Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
pub struct Collection<T> {
    #[serde(rename = "orderedItems", default, deserialize_with = "items")]
    pub ordered_items: Option<Vec<T>>,
    /// How many items it has in all (a count only, when the publisher
    /// hides the list); a count out of any sensible range is ignored.
    #[serde(rename = "totalItems", default, deserialize_with = "lenient")]
    pub total_items: Option<i64>,
}

fn items<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::Array(list)) => Some(
            list.into_iter()
                .filter_map(|v| T::deserialize(v).ok())
                .collect(),
        ),
        _ => None,
    })
}

impl<T> Collection<T> {
    /// The items, none when the collection does not list them.
    pub fn items(self) -> Vec<T> {
        self.ordered_items.unwrap_or_default()
    }

    /// [`Collection::total_items`] when it is a sensible count.
    pub fn total(&self) -> Option<i64> {
        self.total_items
            .filter(|n| (0..=1_000_000_000_000).contains(n))
    }
}

/// A person as a Ruche community's host lists its people.
#[derive(Debug, Deserialize, Serialize)]
pub struct Listed {
    #[serde(rename = "type", default = "person")]
    pub kind: super::actor::ActorKind,
    pub id: Url,
    #[serde(rename = "preferredUsername")]
    pub preferred_username: String,
    #[serde(default, deserialize_with = "lenient")]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub url: Option<Link>,
    #[serde(rename = "ruche:role")]
    pub role: String,
    #[serde(rename = "ruche:status")]
    pub status: String,
    #[serde(default, deserialize_with = "lenient")]
    pub published: Option<chrono::DateTime<chrono::FixedOffset>>,
}

fn person() -> super::actor::ActorKind {
    super::actor::ActorKind::Person
}

/// An entry of a Ruche community's moderation log.
#[derive(Debug, Deserialize, Serialize)]
pub struct LogItem {
    #[serde(rename = "ruche:action")]
    pub action: String,
    #[serde(default, deserialize_with = "lenient")]
    pub summary: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub object: Option<Link>,
    /// Handles (`name@host`) of who acted and on whom.
    #[serde(rename = "ruche:actor", default, deserialize_with = "lenient")]
    pub actor: Option<String>,
    #[serde(rename = "ruche:target", default, deserialize_with = "lenient")]
    pub target: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub published: Option<chrono::DateTime<chrono::FixedOffset>>,
}
