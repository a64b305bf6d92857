//! Actors and their documents. Read: an actor document into what Ruche
//! keeps of a remote person or community ([`RemoteActor`]), with the bounds
//! on every field and the checks of its origin (the id, inbox and key on
//! the instance it was fetched from, the key owned by the actor). Sent: a
//! local person's actor ([`person`]) and the instance's ([`instance_actor`]);
//! a local community's is in [`super::group`].

use crate::accounts::RemoteProfile;
use crate::accounts::User;
use crate::audience::CommunityVisibility;
use crate::communities::Policy;
use crate::config::Config;
use crate::error::{AppError, AppResult};
use crate::federation::json::own;
use crate::federation::json::{
    FIELD_DEPARTMENT, FIELD_EMAIL, FIELD_JOB_TITLE, FIELD_LANGUAGES, FIELD_LOCATION, FIELD_PHONE,
    FIELD_SITE,
};
use crate::federation::protocol::actor::{
    ActorKind, PropertyValueType, PublishedActor, PublishedEndpoints, PublishedField,
    PublishedImage,
};
use crate::federation::protocol::note::PublishedTag;
use crate::federation::protocol::Tag;
use crate::federation::protocol::{Actor, PublicKey};
use crate::federation::remote::{invalid, RemoteActor, MAX_ATTACHMENTS, MAX_NAME, MAX_SUMMARY};
use crate::markdown::sanitize;
use crate::urls::host_of;
use crate::urls::Urls;

/// A text field within `max` characters (absent is empty).
fn bounded(v: &Option<String>, max: usize, field: &'static str) -> AppResult<String> {
    match v {
        None => Ok(String::new()),
        Some(s) if s.chars().count() <= max => Ok(s.clone()),
        Some(_) => Err(AppError::bad_request("field_too_long").with("field", field)),
    }
}

/// A name for an actor that gives none: the last segment of its address
/// (`https://host/users/ann` is `ann`, `https://host/@ann` is `ann`), with
/// anything but letters, digits, `_`, `.` and `-` made `_`; none when
/// nothing is left.
fn name_from_address(ap_id: &url::Url) -> Option<String> {
    let segment = ap_id.path_segments()?.rev().find(|s| !s.is_empty())?;
    let name: String = segment
        .trim_start_matches('@')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_.-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Reads an actor; its id must live on `expected_host`. An actor without
/// `preferredUsername` is named by `webfinger_name` (the name it was looked
/// up by) when given, else after its address.
pub fn read(
    v: &Actor,
    expected_host: &str,
    webfinger_name: Option<&str>,
) -> AppResult<RemoteActor> {
    let ap_id = v.id.to_string();
    if ap_id.len() > 2000 || host_of(&ap_id).as_deref() != Some(expected_host) {
        return Err(AppError::bad_request("origin_mismatch").with("field", "id"));
    }
    if v.kind == ActorKind::Other {
        return Err(invalid("type"));
    }
    let given = bounded(&v.preferred_username, 64, "preferredUsername")?;
    // `preferredUsername` is optional in ActivityPub.
    let name = match (given.is_empty(), webfinger_name) {
        (false, _) => given,
        (true, Some(n)) if !n.is_empty() => n.to_string(),
        _ => name_from_address(&v.id).ok_or_else(|| invalid("preferredUsername"))?,
    };
    if name.chars().count() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
    {
        return Err(invalid("preferredUsername"));
    }
    let same_host = |u: &str| host_of(u).as_deref() == Some(expected_host);
    let inbox = v
        .inbox
        .as_ref()
        .map(url::Url::to_string)
        .ok_or_else(|| invalid("inbox"))?;
    if inbox.len() > 2000 || !same_host(&inbox) {
        return Err(AppError::bad_request("origin_mismatch").with("field", "inbox"));
    }
    let shared_inbox = v
        .shared_inbox()
        .map(url::Url::as_str)
        .filter(|s| same_host(s) && s.len() <= 2000)
        .unwrap_or("")
        .to_string();
    let key = v.public_key.first().ok_or_else(|| invalid("publicKey"))?;
    if key.owner != v.id
        || key.id.len() > 2000
        || !same_host(&key.id)
        || key.public_key_pem.is_empty()
        || key.public_key_pem.len() > 10_000
    {
        return Err(invalid("publicKey"));
    }
    if v.attachment.len() > MAX_ATTACHMENTS {
        return Err(AppError::bad_request("too_many")
            .with("field", "attachment")
            .with("max", MAX_ATTACHMENTS));
    }
    let mut fields = std::collections::HashMap::new();
    for a in &v.attachment {
        if a.name.chars().count() > 100 || a.value.chars().count() > 500 {
            return Err(AppError::bad_request("field_too_long").with("field", "attachment"));
        }
        // Values may carry HTML (Mastodon links); keep the text only.
        let plain = ammonia::Builder::empty().clean(&a.value).to_string();
        fields.insert(a.name.clone(), plain.trim().to_string());
    }
    let get = |k: &str| fields.get(k).cloned().unwrap_or_default();
    let host_port = host_of(&ap_id).unwrap_or_else(|| expected_host.to_string());
    let display = bounded(&v.name, MAX_NAME, "name")?;
    let link = |u: &url::Url| host_of(u.as_str()).is_some() && u.as_str().len() <= 2000;
    Ok(RemoteActor {
        profile: RemoteProfile {
            handle: format!("{}@{host_port}", name.to_ascii_lowercase()),
            domain: expected_host.to_string(),
            display_name: ammonia::Builder::empty().clean(&display).to_string(),
            bio_html: sanitize(&bounded(&v.summary, MAX_SUMMARY, "summary")?),
            inbox,
            shared_inbox,
            url: v
                .url
                .as_ref()
                .map(|l| l.url())
                .filter(|u| link(u))
                .map(url::Url::to_string)
                .unwrap_or_else(|| ap_id.clone()),
            key_id: key.id.clone(),
            public_pem: key.public_key_pem.clone(),
            job_title: get(FIELD_JOB_TITLE),
            department: get(FIELD_DEPARTMENT),
            site: get(FIELD_SITE),
            location: get(FIELD_LOCATION),
            phone: get(FIELD_PHONE),
            email: get(FIELD_EMAIL),
            languages: crate::people::remote_languages(&get(FIELD_LANGUAGES)),
            is_instance: v.kind == ActorKind::Application,
            suspended: v.suspended == Some(true),
            guest: v.kind == ActorKind::Person && v.ruche_guest == Some(true),
            // A date in the future is not believed.
            created_at: v
                .published
                .map(|d| d.naive_utc())
                .filter(|d| *d <= crate::db::now()),
            ap_id,
        },
        icon: v
            .icon
            .first()
            .map(|i| i.url.url())
            .filter(|u| link(u))
            .map(url::Url::to_string)
            .unwrap_or_default(),
        group: (v.kind == ActorKind::Group).then(|| policy(v)),
        skills: crate::people::remote_skills(
            &v.tag
                .iter()
                .filter_map(|t| match t {
                    Tag::Hashtag {
                        name: Some(n),
                        endorsements,
                    } => Some((n.clone(), endorsements.unwrap_or(0))),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        ),
    })
}

/// A community's settings as its actor gives them (Ruche's own terms, or
/// `manuallyApprovesFollowers` alone as other servers say it).
pub fn policy(v: &Actor) -> Policy {
    let visibility = v
        .ruche_visibility
        .as_deref()
        .and_then(|s| CommunityVisibility::parse(s).ok())
        .unwrap_or(CommunityVisibility::Public);
    let manual = v.manually_approves_followers.unwrap_or(false);
    let join_policy = match v.ruche_join_policy.as_deref() {
        Some(s @ ("open" | "request" | "invitation")) => s.to_string(),
        _ if manual => "request".to_string(),
        _ => "open".to_string(),
    };
    Policy {
        visibility,
        join_policy,
        partners: v.ruche_partners.unwrap_or(false),
    }
}

// ----- Sending ------------------------------------------------------------

/// The Person actor of a local account.
pub fn person(
    cfg: &Config,
    user: &User,
    skills: &[crate::people::endorse::Endorsed],
    public_pem: &str,
) -> AppResult<PublishedActor> {
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
        (FIELD_LANGUAGES, &user.languages),
    ] {
        if !value.trim().is_empty() {
            attachment.push(PublishedField {
                kind: PropertyValueType::PropertyValue,
                name: label,
                value: value.clone(),
            });
        }
    }
    let tags = skills
        .iter()
        .map(|s| {
            Ok(PublishedTag::Hashtag {
                name: format!("#{}", s.skill),
                href: own(&format!(
                    "{}/people?skill={}",
                    cfg.base(),
                    crate::markdown::encode_segment(&s.skill)
                ))?,
                endorsements: (s.count > 0).then_some(s.count),
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let icon = match crate::people::photo_url(name, user.photo_version) {
        Some(photo) => Some(PublishedImage {
            kind: "Image",
            media_type: "image/jpeg",
            url: own(&format!("{}{photo}", cfg.base()))?,
        }),
        None => None,
    };
    let id = own(&u.person(name))?;
    Ok(PublishedActor {
        kind: ActorKind::Person,
        preferred_username: name.clone(),
        name: user.shown_name().to_string(),
        summary: Some(crate::federation::json::absolute_html(cfg, &user.bio_html)),
        source: None,
        url: Some(id.clone()),
        inbox: own(&u.inbox(name))?,
        outbox: own(&format!("{}/outbox", u.person(name)))?,
        followers: Some(own(&u.followers(name))?),
        following: Some(own(&format!("{}/following", u.person(name)))?),
        endpoints: PublishedEndpoints {
            shared_inbox: own(&u.shared_inbox())?,
        },
        manually_approves_followers: false,
        discoverable: Some(true),
        posting_restricted_to_mods: None,
        published: Some(
            user.created_at
                .and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ),
        public_key: PublicKey {
            id: u.key(name),
            owner: id.clone(),
            public_key_pem: public_pem.to_string(),
        },
        attachment: Some(attachment),
        tag: Some(tags),
        icon,
        ruche_visibility: None,
        ruche_join_policy: None,
        ruche_partners: None,
        ruche_guest: None,
        suspended: None,
        generator: crate::federation::json::generator(cfg)?,
        id,
    })
}

/// The Person of a local account as it is now: [`person`] with its skills
/// and their counts, or [`left`] when the account is disabled.
pub fn published(
    c: &mut crate::db::DbConn,
    cfg: &Config,
    user: &User,
) -> AppResult<PublishedActor> {
    let keys = crate::net::keys::user_keys(c, user.id)?;
    if user.disabled {
        return left(cfg, user, &keys.public_pem);
    }
    let skills = crate::people::endorse::of(c, 0, user.id)?;
    let mut p = person(cfg, user, &skills, &keys.public_pem)?;
    // A partner's guest is shown as one on the other sites too.
    if crate::accounts::guest::until(c, user.id)?.is_some() {
        p.ruche_guest = Some(true);
    }
    Ok(p)
}

/// The Person of a local account that is disabled (someone who left): its
/// name (their posts stay attributed) and keys, nothing else of the
/// profile, and `suspended`, so that other sites show them as gone and
/// stop delivering to them.
pub fn left(cfg: &Config, user: &User, public_pem: &str) -> AppResult<PublishedActor> {
    let mut p = person(cfg, user, &[], public_pem)?;
    p.summary = None;
    p.attachment = None;
    p.tag = None;
    p.icon = None;
    p.discoverable = Some(false);
    p.suspended = Some(true);
    Ok(p)
}

/// The instance actor, which signs our fetches.
pub fn instance_actor(cfg: &Config, public_pem: &str) -> AppResult<PublishedActor> {
    let u = Urls(cfg);
    let id = own(&u.instance_actor())?;
    Ok(PublishedActor {
        kind: ActorKind::Application,
        preferred_username: cfg.domain().to_string(),
        name: cfg.instance_name.clone(),
        summary: None,
        source: None,
        url: None,
        inbox: own(&u.shared_inbox())?,
        outbox: own(&format!("{}/outbox", u.instance_actor()))?,
        followers: None,
        following: None,
        endpoints: PublishedEndpoints {
            shared_inbox: own(&u.shared_inbox())?,
        },
        manually_approves_followers: true,
        discoverable: None,
        posting_restricted_to_mods: None,
        published: None,
        public_key: PublicKey {
            id: u.instance_key(),
            owner: id.clone(),
            public_key_pem: public_pem.to_string(),
        },
        attachment: None,
        tag: None,
        icon: None,
        ruche_visibility: None,
        ruche_join_policy: None,
        ruche_partners: None,
        ruche_guest: None,
        suspended: None,
        generator: crate::federation::json::generator(cfg)?,
        id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::federation::protocol::read;
    use crate::federation::protocol::tests::fixture;

    fn actor(name: &str) -> Actor {
        read(&fixture(name), "actor").unwrap()
    }

    #[test]
    fn every_server_s_actor_becomes_a_profile() {
        for (file, handle) in [
            ("mastodon_actor.json", "alice@partner.test"),
            ("gotosocial_actor.json", "gary@partner.test"),
            ("lemmy_actor.json", "carol@partner.test"),
            ("akkoma_actor.json", "anna@partner.test"),
            ("misskey_actor.json", "kenji@partner.test"),
            ("fedify_actor.json", "erin@partner.test"),
            ("peertube_actor.json", "pat@partner.test"),
        ] {
            let a = read_actor(file);
            assert_eq!(a.profile.handle, handle, "{file}");
            assert!(
                a.profile.inbox.starts_with("https://partner.test/"),
                "{file}"
            );
            assert!(!a.profile.public_pem.is_empty(), "{file}");
        }
        let misskey = read_actor("misskey_actor.json");
        assert_eq!(misskey.profile.location, "Osaka");
        assert_eq!(misskey.profile.url, "https://partner.test/@kenji");
        assert_eq!(misskey.icon, "https://partner.test/files/kenji.webp");
        let fedify = read_actor("fedify_actor.json");
        assert_eq!(fedify.profile.url, "https://partner.test/@erin");
        assert_eq!(fedify.icon, "https://partner.test/media/erin.png");
        let peertube = read_actor("peertube_actor.json");
        assert_eq!(
            peertube.icon,
            "https://partner.test/lazy-static/avatars/pat-48.png"
        );
        let lemmy = super::read(&actor("lemmy_group.json"), "partner.test", None).unwrap();
        assert_eq!(lemmy.group.unwrap().join_policy, "open");
    }

    fn read_actor(file: &str) -> RemoteActor {
        super::read(&actor(file), "partner.test", None).unwrap_or_else(|e| panic!("{file}: {e:?}"))
    }

    #[test]
    fn actors_without_a_name_are_named_by_their_address() {
        assert_eq!(
            name_from_address(&url::Url::parse("https://h.example/users/ann").unwrap()).as_deref(),
            Some("ann")
        );
        assert_eq!(
            name_from_address(&url::Url::parse("https://h.example/@ann/").unwrap()).as_deref(),
            Some("ann")
        );
        assert_eq!(
            name_from_address(&url::Url::parse("https://h.example/ap/actor/01J9%20x").unwrap())
                .as_deref(),
            Some("01J9_20x")
        );
        assert_eq!(
            name_from_address(&url::Url::parse("https://h.example/").unwrap()),
            None
        );
    }

    #[test]
    fn an_actor_without_preferred_username_is_named_by_webfinger_or_its_address() {
        let a = actor("nameless_actor.json");
        let by_address = super::read(&a, "partner.test", None).unwrap();
        assert_eq!(by_address.profile.handle, "report-bot@partner.test");
        assert_eq!(by_address.profile.display_name, "Daily report");
        let by_webfinger = super::read(&a, "partner.test", Some("reports")).unwrap();
        assert_eq!(by_webfinger.profile.handle, "reports@partner.test");
    }

    #[test]
    fn an_actor_from_another_host_or_with_a_foreign_key_is_refused() {
        let a = actor("mastodon_actor.json");
        let e = super::read(&a, "other.test", None).unwrap_err();
        assert_eq!(e.code, "origin_mismatch");
        let mut doc = fixture("mastodon_actor.json");
        doc["publicKey"]["owner"] = "https://partner.test/users/mallory".into();
        let e = super::read(&read(&doc, "actor").unwrap(), "partner.test", None).unwrap_err();
        assert_eq!(e.code, "activity_invalid");
        let mut doc = fixture("mastodon_actor.json");
        doc["preferredUsername"] = "a b".into();
        let e = super::read(&read(&doc, "actor").unwrap(), "partner.test", None).unwrap_err();
        assert_eq!(e.code, "activity_invalid");
    }

    #[test]
    fn a_suspended_actor_is_read_as_gone_and_anything_else_as_not() {
        assert!(!read_actor("mastodon_actor.json").profile.suspended);
        for (value, gone) in [
            (serde_json::json!(true), true),
            (serde_json::json!(false), false),
            (serde_json::json!("true"), false),
            (serde_json::json!({"a": 1}), false),
        ] {
            let mut doc = fixture("mastodon_actor.json");
            doc["suspended"] = value.clone();
            let a = super::read(&read(&doc, "actor").unwrap(), "partner.test", None).unwrap();
            assert_eq!(a.profile.suspended, gone, "{value}");
        }
    }

    #[test]
    fn a_person_said_to_be_a_guest_is_read_as_one_and_anything_else_as_not() {
        assert!(!read_actor("mastodon_actor.json").profile.guest);
        for (value, guest) in [
            (serde_json::json!(true), true),
            (serde_json::json!(false), false),
            (serde_json::json!("true"), false),
            (serde_json::json!(1), false),
        ] {
            let mut doc = fixture("mastodon_actor.json");
            doc["ruche:guest"] = value.clone();
            let a = super::read(&read(&doc, "actor").unwrap(), "partner.test", None).unwrap();
            assert_eq!(a.profile.guest, guest, "{value}");
            // A community is never a guest.
            doc["type"] = serde_json::json!("Group");
            let g = super::read(&read(&doc, "actor").unwrap(), "partner.test", None).unwrap();
            assert!(!g.profile.guest, "{value}");
        }
    }

    #[test]
    fn a_person_who_left_is_published_closed_with_their_name_only() {
        let cfg = crate::config::Config::load_from(None, &[]).unwrap();
        let now = crate::db::now();
        let user = crate::accounts::User {
            id: 1,
            username: "ann".into(),
            email: "ann@example.com".into(),
            password_hash: String::new(),
            is_admin: false,
            disabled: true,
            display_name: "Ann Leaver".into(),
            job_title: "Welder".into(),
            department: "Works".into(),
            site: "Lyon".into(),
            location: String::new(),
            work_email: String::new(),
            phone: "+33 1 23".into(),
            bio: "About me".into(),
            bio_html: "<p>About me</p>".into(),
            languages: String::new(),
            locale: None,
            photo_version: 3,
            created_at: now,
            domain: None,
            deleted_at: None,
            actor_type: "person".into(),
        };
        let doc = serde_json::to_value(left(&cfg, &user, "PEM").unwrap()).unwrap();
        assert_eq!(doc["suspended"], true);
        assert_eq!(doc["name"], "Ann Leaver");
        for gone in ["attachment", "tag", "icon", "summary"] {
            assert!(doc.get(gone).is_none(), "{gone} in {doc}");
        }
        let open = serde_json::to_value(person(&cfg, &user, &[], "PEM").unwrap()).unwrap();
        assert!(open.get("suspended").is_none(), "{open}");
    }

    #[test]
    fn a_person_s_skills_carry_the_endorsements_their_site_counts() {
        let mut doc = fixture("mastodon_actor.json");
        doc["tag"] = serde_json::json!([
            {"type": "Hashtag", "name": "#Soudure", "ruche:endorsements": 3},
            {"type": "Hashtag", "name": "#soudure", "ruche:endorsements": 9},
            {"type": "Hashtag", "name": "#Peinture"},
            {"type": "Hashtag", "name": "#Audit", "ruche:endorsements": -4},
            {"type": "Hashtag", "name": "#Levage", "ruche:endorsements": "many"},
            {"type": "Hashtag", "name": "#Grue", "ruche:endorsements": 5_000_000_000i64},
        ]);
        let a = super::read(&read(&doc, "actor").unwrap(), "partner.test", None).unwrap();
        // Named twice, counted once (the first); nonsense counts are none,
        // and a count is bounded.
        assert_eq!(
            a.skills,
            [
                ("soudure".to_string(), 3),
                ("peinture".to_string(), 0),
                ("audit".to_string(), 0),
                ("levage".to_string(), 0),
                ("grue".to_string(), crate::people::endorse::MAX_PUBLISHED),
            ]
        );
    }
}
