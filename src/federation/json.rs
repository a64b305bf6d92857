//! ActivityPub documents of local people and content.

use serde_json::{json, Value};

use super::{AS_CONTEXT, AS_PUBLIC};
use crate::accounts::User;
use crate::audience::Visibility;
use crate::config::Config;
use crate::content::ContentRow;
use crate::urls::Urls;

/// Names of the profile fields sent as `PropertyValue` attachments (and read
/// back from Ruche peers).
pub const FIELD_JOB_TITLE: &str = "Job title";
pub const FIELD_DEPARTMENT: &str = "Department";
pub const FIELD_SITE: &str = "Site";
pub const FIELD_LOCATION: &str = "Location";
pub const FIELD_PHONE: &str = "Phone";
pub const FIELD_EMAIL: &str = "E-mail";

/// The emoji sent for each Ruche reaction other than "like" (which is a Like).
pub const REACTION_EMOJI: [(&str, &str); 3] =
    [("thanks", "🙏"), ("bravo", "👏"), ("insightful", "💡")];

pub fn context() -> Value {
    json!([
        AS_CONTEXT,
        "https://w3id.org/security/v1",
        {
            "schema": "http://schema.org#",
            "PropertyValue": "schema:PropertyValue",
            "value": "schema:value",
            "toot": "http://joinmastodon.org/ns#",
            "discoverable": "toot:discoverable",
            "Hashtag": "as:Hashtag",
            "manuallyApprovesFollowers": "as:manuallyApprovesFollowers"
        }
    ])
}

fn time(t: chrono::NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Relative links of our rendered HTML (`/people/x`, `/tags/y`) made absolute.
pub fn absolute_html(cfg: &Config, html: &str) -> String {
    html.replace("href=\"/", &format!("href=\"{}/", cfg.base()))
}

/// The Person actor of a local account.
pub fn person(cfg: &Config, user: &User, skills: &[String], public_pem: &str) -> Value {
    let u = Urls(cfg);
    let name = &user.username;
    let mut attachment = Vec::new();
    for (label, value) in [
        (FIELD_JOB_TITLE, &user.job_title),
        (FIELD_DEPARTMENT, &user.department),
        (FIELD_SITE, &user.site),
        (FIELD_LOCATION, &user.location),
        (FIELD_PHONE, &user.phone),
        (FIELD_EMAIL, &user.work_email),
    ] {
        if !value.trim().is_empty() {
            attachment.push(json!({"type": "PropertyValue", "name": label, "value": value}));
        }
    }
    let tags: Vec<Value> = skills
        .iter()
        .map(|s| {
            json!({
                "type": "Hashtag",
                "name": format!("#{s}"),
                "href": format!("{}/people?skill={}", cfg.base(), crate::markdown::encode_segment(s)),
            })
        })
        .collect();
    let mut doc = json!({
        "@context": context(),
        "id": u.person(name),
        "type": "Person",
        "preferredUsername": name,
        "name": user.shown_name(),
        "summary": absolute_html(cfg, &user.bio_html),
        "url": u.person(name),
        "inbox": u.inbox(name),
        "outbox": format!("{}/outbox", u.person(name)),
        "followers": u.followers(name),
        "following": format!("{}/following", u.person(name)),
        "endpoints": {"sharedInbox": u.shared_inbox()},
        "manuallyApprovesFollowers": false,
        "discoverable": true,
        "published": time(user.created_at),
        "publicKey": {"id": u.key(name), "owner": u.person(name), "publicKeyPem": public_pem},
        "attachment": attachment,
        "tag": tags,
    });
    if let Some(photo) = crate::people::photo_url(name, user.photo_version) {
        doc["icon"] = json!({"type": "Image", "mediaType": "image/jpeg", "url": format!("{}{photo}", cfg.base())});
    }
    doc
}

/// The instance actor, which signs our fetches.
pub fn instance_actor(cfg: &Config, public_pem: &str) -> Value {
    let u = Urls(cfg);
    json!({
        "@context": context(),
        "id": u.instance_actor(),
        "type": "Application",
        "preferredUsername": cfg.domain(),
        "name": cfg.instance_name,
        "inbox": u.shared_inbox(),
        "outbox": format!("{}/outbox", u.instance_actor()),
        "endpoints": {"sharedInbox": u.shared_inbox()},
        "manuallyApprovesFollowers": true,
        "publicKey": {"id": u.instance_key(), "owner": u.instance_actor(), "publicKeyPem": public_pem},
    })
}

/// Who a note is addressed to.
pub struct Audience {
    pub to: Vec<String>,
    pub cc: Vec<String>,
}

/// A person mentioned or a hashtag, as note tags.
pub struct NoteLinks {
    /// (actor id, `@name@domain`) of mentioned people.
    pub mentions: Vec<(String, String)>,
    pub tags: Vec<String>,
}

/// A local post or comment as a Note.
pub fn note(
    cfg: &Config,
    row: &ContentRow,
    author: &str,
    in_reply_to: Option<String>,
    audience: &Audience,
    links: &NoteLinks,
) -> Value {
    let u = Urls(cfg);
    let mut tag: Vec<Value> = links
        .mentions
        .iter()
        .map(|(href, name)| json!({"type": "Mention", "href": href, "name": name}))
        .collect();
    tag.extend(links.tags.iter().map(|t| {
        json!({
            "type": "Hashtag",
            "name": format!("#{t}"),
            "href": format!("{}/tags/{}", cfg.base(), crate::markdown::encode_segment(t)),
        })
    }));
    let mut doc = json!({
        "id": u.post(row.id),
        "type": "Note",
        "attributedTo": u.person(author),
        "content": absolute_html(cfg, &row.body_html),
        "source": {"content": row.body, "mediaType": "text/markdown"},
        "published": time(row.created_at),
        "url": u.post(row.id),
        "to": audience.to,
        "cc": audience.cc,
        "inReplyTo": in_reply_to,
        "tag": tag,
        "sensitive": false,
    });
    if let Some(e) = row.edited_at {
        doc["updated"] = json!(time(e));
    }
    doc
}

/// The audience of a local post of `visibility` by `author`, plus mentions.
pub fn audience_for(
    cfg: &Config,
    visibility: Visibility,
    author: &str,
    mentioned: &[String],
) -> Audience {
    let followers = Urls(cfg).followers(author);
    match visibility {
        Visibility::Public => Audience {
            to: vec![AS_PUBLIC.into()],
            cc: std::iter::once(followers)
                .chain(mentioned.iter().cloned())
                .collect(),
        },
        Visibility::Organisation | Visibility::Followers => Audience {
            to: std::iter::once(followers)
                .chain(mentioned.iter().cloned())
                .collect(),
            cc: Vec::new(),
        },
        _ => Audience {
            to: mentioned.to_vec(),
            cc: Vec::new(),
        },
    }
}

/// Wraps an object in an activity.
pub fn activity(
    id: String,
    kind: &str,
    actor: String,
    object: Value,
    audience: Option<&Audience>,
) -> Value {
    let mut doc = json!({
        "@context": AS_CONTEXT,
        "id": id,
        "type": kind,
        "actor": actor,
        "object": object,
    });
    if let Some(a) = audience {
        doc["to"] = json!(a.to);
        doc["cc"] = json!(a.cc);
    }
    doc
}

/// An ordered collection that only tells its size (followers, following,
/// outbox: we do not list people or posts to other servers).
pub fn collection_summary(id: String, total: i64) -> Value {
    json!({
        "@context": AS_CONTEXT,
        "id": id,
        "type": "OrderedCollection",
        "totalItems": total,
    })
}
