//! Names of things: the stable URLs of local people, communities, posts and
//! activities, built from the public base URL, and the instance a URL
//! belongs to. Below everything else, so that features, federation and the
//! doors name things the same way.

use crate::config::Config;

/// Stable ActivityPub URLs of local things, built from the public base URL.
pub struct Urls<'a>(pub &'a Config);

impl Urls<'_> {
    pub fn person(&self, username: &str) -> String {
        format!("{}/people/{username}", self.0.base())
    }
    pub fn key(&self, username: &str) -> String {
        format!("{}/people/{username}#main-key", self.0.base())
    }
    pub fn inbox(&self, username: &str) -> String {
        format!("{}/people/{username}/inbox", self.0.base())
    }
    pub fn shared_inbox(&self) -> String {
        format!("{}/inbox", self.0.base())
    }
    pub fn followers(&self, username: &str) -> String {
        format!("{}/people/{username}/followers", self.0.base())
    }
    /// A local community's actor (and page).
    pub fn community(&self, name: &str) -> String {
        format!("{}/communities/{name}", self.0.base())
    }
    pub fn community_key(&self, name: &str) -> String {
        format!("{}/communities/{name}#main-key", self.0.base())
    }
    pub fn community_inbox(&self, name: &str) -> String {
        format!("{}/communities/{name}/inbox", self.0.base())
    }
    pub fn community_followers(&self, name: &str) -> String {
        format!("{}/communities/{name}/followers", self.0.base())
    }
    pub fn community_outbox(&self, name: &str) -> String {
        format!("{}/communities/{name}/outbox", self.0.base())
    }
    /// The local community name of an actor URL of ours, if it is one.
    pub fn local_community(&self, url: &str) -> Option<String> {
        let rest = url.strip_prefix(&format!("{}/communities/", self.0.base()))?;
        (!rest.is_empty() && !rest.contains(['/', '#', '?', '@'])).then(|| rest.to_string())
    }
    pub fn post(&self, id: i64) -> String {
        format!("{}/posts/{id}", self.0.base())
    }
    pub fn instance_actor(&self) -> String {
        format!("{}/actor", self.0.base())
    }
    pub fn instance_key(&self) -> String {
        format!("{}/actor#main-key", self.0.base())
    }
    pub fn activity(&self, event_id: i64, kind: &str) -> String {
        format!("{}/activities/{event_id}/{kind}", self.0.base())
    }
    /// The local post id of a URL of ours, if it is one.
    pub fn local_post_id(&self, url: &str) -> Option<i64> {
        url.strip_prefix(&format!("{}/posts/", self.0.base()))?
            .parse()
            .ok()
    }
    /// The local username of an actor URL of ours, if it is one.
    pub fn local_username(&self, url: &str) -> Option<String> {
        let rest = url.strip_prefix(&format!("{}/people/", self.0.base()))?;
        (!rest.is_empty() && !rest.contains(['/', '#', '?', '@'])).then(|| rest.to_string())
    }
}

/// The instance an http(s) URL belongs to: its lowercase host, with the port
/// when it is not the scheme's default (`beta.example`, `beta.example:8443`).
/// Trust entries, origin checks and stored actors all name instances this
/// way, so a service on another port of a trusted host is another instance.
pub fn host_of(url: &str) -> Option<String> {
    let u = reqwest::Url::parse(url).ok()?;
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    let host = u.host_str()?.to_ascii_lowercase();
    Some(match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    })
}
