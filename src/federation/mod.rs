//! Federation between instances over signed ActivityPub: what the messages
//! mean. How they travel safely (trust gate, address checks, keys, HTTP
//! Signatures, the outgoing client) is [`crate::net`], below the features.
//!
//! - [`json`]: ActivityPub documents of local people and content.
//! - [`outbox`] and [`delivery`]: events written with each change, turned into
//!   deliveries and sent with retries.
//! - [`protocol`]: the ActivityPub documents read, as typed structs.
//! - [`objects`]: what a received actor, post or document becomes here.
//! - [`directory`]: the people directory shared between member sites.
//! - [`activities`]: the inbox: verifying incoming activities and applying
//!   each verb (one file per verb).
//! - [`reader`]: who reads through a signed GET.
//! - [`remote`]: fetching and storing remote people and content.
//! - [`routes`]: WebFinger, NodeInfo, actors, inboxes and collections.

pub mod activities;
pub mod backfill;
pub mod delivery;
pub mod directory;
pub mod group_moderation;
pub mod group_roster;
pub mod groups;
pub mod json;
pub mod objects;
pub mod outbox;
pub mod protocol;
pub mod reader;
pub mod remote;
pub mod routes;

use axum::http::HeaderMap;

pub use crate::net::AP_TYPE;

/// The ActivityStreams context.
pub const AS_CONTEXT: &str = "https://www.w3.org/ns/activitystreams";
/// The public collection of ActivityStreams.
pub const AS_PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// Whether a request asks for ActivityPub JSON rather than a page.
pub fn wants_activity_json(headers: &HeaderMap) -> bool {
    headers
        .get_all(axum::http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            let t = t.trim().to_ascii_lowercase();
            t.starts_with("application/activity+json")
                || (t.starts_with("application/ld+json")
                    && t.contains("https://www.w3.org/ns/activitystreams"))
        })
}
