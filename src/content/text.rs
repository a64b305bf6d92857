//! Mentions of people of other instances, resolved the same way whatever
//! door a text comes through.
//!
//! `@name@host` in a text becomes a real mention only when that person is
//! known here (a link, a notification on their instance, a delivery to
//! them). Looking up someone new takes the network, which features do not
//! have: the federation layer implements [`FindPeople`] and the door passes
//! it in. Every write function of `content` (posts, community posts,
//! comments, edits) takes a [`Text`], and the only way to make one is
//! [`Text::resolved`], so no door can forget the lookup.

use std::future::Future;
use std::pin::Pin;

use crate::markdown;

/// Most people of other instances looked up for one text.
pub const MAX_LOOKUPS: usize = 5;

/// Makes people of other instances known here, by their handles
/// (`name@host[:port]`). Best effort: a handle that cannot be found stays
/// plain text.
pub trait FindPeople: Send + Sync {
    fn find<'a>(&'a self, handles: Vec<String>) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>;
}

/// A text about to be written, whose mentions of people of other instances
/// were looked up.
#[derive(Debug, Clone)]
pub struct Text(String);

impl Text {
    /// Looks up the unknown `@name@host` mentions of `body` (at most
    /// [`MAX_LOOKUPS`]), then gives the text to write.
    pub async fn resolved(people: &dyn FindPeople, body: String) -> Text {
        let handles: Vec<String> = markdown::mention_candidates(&body)
            .into_iter()
            .filter(|m| m.contains('@'))
            .take(MAX_LOOKUPS)
            .collect();
        if !handles.is_empty() {
            people.find(handles).await;
        }
        Text(body)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
