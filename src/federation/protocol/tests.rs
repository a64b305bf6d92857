//! Documents as other servers publish them (written from their
//! documentation and source), read by the protocol structs.

use super::note::NoteKind;
use super::*;

pub(crate) const BASE: &str = "https://partner.test";
pub(crate) const TARGET: &str = "https://beta.test/people/bob";

/// A fixture with its placeholders filled.
pub(crate) fn fixture(name: &str) -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/federation/protocol/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .replace("{BASE}", BASE)
        .replace("{TARGET}", TARGET)
        .replace(
            "{PEM}",
            "-----BEGIN PUBLIC KEY-----\\nMIIB\\n-----END PUBLIC KEY-----",
        );
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn activity(name: &str) -> Activity {
    read(&fixture(name), "activity").unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

fn actor(name: &str) -> Actor {
    read(&fixture(name), "actor").unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

fn public() -> url::Url {
    activitypub_federation::kinds::public()
}

fn url(path: &str) -> url::Url {
    url::Url::parse(&format!("{BASE}{path}")).unwrap()
}

#[test]
fn mastodon_create_note() {
    let a = activity("mastodon_create_note.json");
    assert_eq!(a.kind, Verb::Create);
    assert_eq!(a.actor.url(), &url("/users/alice"));
    let n: Note = a.object.read("object").unwrap();
    assert_eq!(n.kind, NoteKind::Note);
    assert_eq!(n.id, url("/users/alice/statuses/111"));
    assert_eq!(n.author(), Some(&url("/users/alice")));
    assert!(n.in_reply_to.is_none(), "\"inReplyTo\": null is no reply");
    assert_eq!(n.to, vec![public()]);
    assert_eq!(n.cc.len(), 2);
    assert!(matches!(&n.tag[0], Tag::Mention { href: Some(h) } if h.as_str() == TARGET));
    assert!(matches!(&n.tag[1], Tag::Hashtag { name: Some(t), .. } if t == "#logistics"));
    assert!(n.published.is_some());
}

#[test]
fn mastodon_attachments() {
    let a = activity("mastodon_create_note_with_media.json");
    let n: Note = a.object.read("object").unwrap();
    assert_eq!(n.attachment.len(), 3);
    let picture = &n.attachment[0];
    assert_eq!(picture.kind.as_deref(), Some("Document"));
    assert_eq!(picture.media_type.as_deref(), Some("image/png"));
    assert_eq!(
        picture.name.as_deref(),
        Some("The new loading dock, seen from the yard")
    );
    assert_eq!((picture.width, picture.height), (Some(64), Some(48)));
    assert!(picture.document.is_none());
    // `"name": null` is no name.
    assert_eq!(n.attachment[1].name, None);
    assert!(n.attachment[1]
        .url
        .as_deref()
        .unwrap()
        .ends_with("dock-plan.pdf"));
}

#[test]
fn mastodon_and_gotosocial_actors() {
    let m = actor("mastodon_actor.json");
    assert_eq!(m.kind, actor::ActorKind::Person);
    assert!(m.preferred_username.is_some());
    assert_eq!(m.public_key.len(), 1);
    assert_eq!(m.public_key[0].owner, m.id);
    let g = actor("gotosocial_actor.json");
    assert_eq!(g.preferred_username.as_deref(), Some("gary"));
    assert_eq!(g.shared_inbox(), Some(&url("/sharedInbox")));
    assert_eq!(
        g.url.as_ref().map(Link::as_str),
        Some(&*format!("{BASE}/@gary"))
    );
    // GoToSocial's key document: a stub of the actor, without an inbox.
    let key = actor("gotosocial_key.json");
    assert!(key.inbox.is_none());
    assert_eq!(key.public_key[0].id, format!("{BASE}/users/gary/main-key"));
}

#[test]
fn gotosocial_reply_with_single_string_addressing() {
    let a = activity("gotosocial_reply.json");
    let n: Note = a.object.read("object").unwrap();
    assert_eq!(n.to, vec![public()]);
    assert_eq!(n.cc, vec![url("/users/gary/followers")]);
    assert_eq!(n.in_reply_to.as_ref().map(Link::as_str), Some(TARGET));
}

#[test]
fn lemmy_page_group_and_comment() {
    let a = activity("lemmy_create_page.json");
    let n: Note = a.object.read("object").unwrap();
    assert_eq!(n.kind, NoteKind::Page);
    assert!(n.kind.is_titled());
    assert_eq!(n.name.as_deref(), Some("Supplier audit checklist"));
    assert_eq!(
        n.source.and_then(|s| s.content).as_deref(),
        Some("Here is the checklist we use for supplier audits.")
    );
    assert_eq!(n.audience.as_ref().map(Link::as_str), Some(TARGET));
    assert_eq!(n.stickied, Some(false));
    let g = actor("lemmy_group.json");
    assert_eq!(g.kind, actor::ActorKind::Group);
    assert_eq!(g.preferred_username.as_deref(), Some("lemmings"));
    let c: Note = activity("lemmy_reply.json").object.read("object").unwrap();
    assert_eq!(c.kind, NoteKind::Note);
    assert_eq!(c.cc, Vec::<url::Url>::new());
    let f = activity("lemmy_follow.json");
    assert_eq!(f.kind, Verb::Follow);
    assert!(f.object.id().is_some());
}

#[test]
fn akkoma_note_with_emoji_tags_and_a_plain_source() {
    let n: Note = activity("akkoma_create_note.json")
        .object
        .read("object")
        .unwrap();
    // Pleroma's `source` is a plain string: read as absent, not refused.
    assert!(n.source.is_none());
    // The custom emoji tag is skipped, the hashtag kept.
    assert_eq!(n.tag.len(), 2);
    assert!(matches!(&n.tag[0], Tag::Hashtag { name: Some(t), .. } if t == "#handover"));
    assert!(matches!(n.tag[1], Tag::Other));
    // An image is no Ruche document.
    assert_eq!(n.attachment.len(), 1);
    assert!(n.document().is_none());
    let r = activity("akkoma_emoji_react.json");
    assert_eq!(r.kind, Verb::EmojiReact);
    assert_eq!(r.content.as_deref(), Some("🙏"));
    assert_eq!(r.object.id().as_ref().map(url::Url::as_str), Some(TARGET));
    let a = actor("akkoma_actor.json");
    assert_eq!(a.attachment.len(), 2);
    assert_eq!(a.icon[0].url.as_str(), format!("{BASE}/media/anna.png"));
}

#[test]
fn misskey_note_and_actor_with_opaque_ids() {
    let n: Note = activity("misskey_create_note.json")
        .object
        .read("object")
        .unwrap();
    assert_eq!(n.author(), Some(&url("/users/9k2x7b3c1d")));
    assert!(n.in_reply_to.is_none());
    let a = actor("misskey_actor.json");
    assert_eq!(a.preferred_username.as_deref(), Some("kenji"));
    assert_eq!(a.attachment[0].name, "Location");
    assert_eq!(a.icon.len(), 1);
}

#[test]
fn fedify_article_and_actor() {
    let a = activity("fedify_create_article.json");
    let n: Note = a.object.read("object").unwrap();
    assert_eq!(n.kind, NoteKind::Article);
    assert_eq!(n.name.as_deref(), Some("Lockout procedures, revisited"));
    // `"to": "as:Public"` is the public collection.
    assert_eq!(n.to, vec![public()]);
    // A single tag, not a list.
    assert!(matches!(&n.tag[..], [Tag::Hashtag { name: Some(t), .. }] if t == "#safety"));
    let p = actor("fedify_actor.json");
    // The profile link is a Link object; the icon a list.
    assert_eq!(
        p.url.as_ref().map(Link::as_str),
        Some(&*format!("{BASE}/@erin"))
    );
    assert_eq!(p.icon.len(), 1);
    assert_eq!(p.public_key[0].owner, p.id);
}

#[test]
fn peertube_actor_comment_and_video() {
    let p = actor("peertube_actor.json");
    assert_eq!(p.icon.len(), 2);
    let c: Note = activity("peertube_comment.json")
        .object
        .read("object")
        .unwrap();
    assert_eq!(c.kind, NoteKind::Note);
    assert_eq!(c.in_reply_to.as_ref().map(Link::as_str), Some(TARGET));
    // A video is not a post Ruche reads; its authors are a list (the
    // person first, then the channel).
    let v: Note = read(&fixture("peertube_video.json"), "object").unwrap();
    assert!(!v.kind.is_content());
    assert_eq!(v.author(), Some(&url("/accounts/pat")));
}

#[test]
fn an_actor_without_preferred_username_reads() {
    let a = actor("nameless_actor.json");
    assert_eq!(a.kind, actor::ActorKind::Service);
    assert!(a.preferred_username.is_none());
}

#[test]
fn what_does_not_fit_is_refused_with_the_field_named() {
    // An id that is no URL.
    let bad =
        serde_json::json!({"id": "not a url", "type": "Create", "actor": format!("{BASE}/u/a")});
    let e = read::<Activity>(&bad, "activity").unwrap_err();
    assert_eq!(e.code, "activity_invalid");
    // No actor.
    let bad = serde_json::json!({"id": format!("{BASE}/a/1"), "type": "Create"});
    assert!(read::<Activity>(&bad, "activity").is_err());
    // An unknown verb is read, as nothing to do.
    let other = serde_json::json!({"id": format!("{BASE}/a/1"), "type": "Move", "actor": format!("{BASE}/u/a")});
    assert_eq!(
        read::<Activity>(&other, "activity").unwrap().kind,
        Verb::Other
    );
    // An actor given as an object, or a list, is read by its id.
    let embedded = serde_json::json!({"id": format!("{BASE}/a/1"), "type": "Like", "actor": [{"id": format!("{BASE}/u/a"), "type": "Person"}], "object": TARGET});
    let a = read::<Activity>(&embedded, "activity").unwrap();
    assert_eq!(a.actor.url(), &url("/u/a"));
}

#[test]
fn fep_844e_implements_on_the_actor_or_its_generator() {
    let rfc9421 = crate::net::schemes::RFC9421_HREF;
    let mut doc = fixture("fedify_actor.json");
    assert!(!read::<Actor>(&doc, "actor").unwrap().implements(rfc9421));
    doc["generator"] = serde_json::json!({
        "type": "Application",
        "implements": [{"name": "RFC 9421", "href": rfc9421}]
    });
    assert!(read::<Actor>(&doc, "actor").unwrap().implements(rfc9421));
    let mut doc = fixture("mastodon_actor.json");
    doc["implements"] = serde_json::json!([rfc9421]);
    assert!(read::<Actor>(&doc, "actor").unwrap().implements(rfc9421));
}

#[test]
fn mastodon_and_gotosocial_polls() {
    use super::note::Closed;
    let a = activity("mastodon_create_question.json");
    let n: Note = a.object.read("object").unwrap();
    assert_eq!(n.kind, NoteKind::Question);
    assert!(n.any_of.is_empty());
    let names: Vec<&str> = n.one_of.iter().filter_map(|c| c.name.as_deref()).collect();
    assert_eq!(names, ["Morning", "Afternoon", "Night"]);
    let counts: Vec<Option<i64>> = n
        .one_of
        .iter()
        .map(|c| c.replies.as_ref().and_then(|r| r.total_items))
        .collect();
    assert_eq!(counts, [Some(2), Some(1), Some(0)]);
    assert_eq!(n.voters_count, Some(3));
    assert!(n.end_time.is_some());
    assert!(n.closed.is_none());

    let a = activity("gotosocial_create_question.json");
    let n: Note = a.object.read("object").unwrap();
    assert_eq!(n.kind, NoteKind::Question);
    assert!(n.one_of.is_empty());
    assert_eq!(n.any_of.len(), 2);
    assert!(matches!(n.closed, Some(Closed::At(_))));
    assert_eq!(n.voters_count, Some(4));
    // `closed: true`, as some servers write it, reads as closed.
    let mut doc = fixture("gotosocial_create_question.json")["object"].clone();
    doc["closed"] = serde_json::json!(true);
    let n: Note = read(&doc, "object").unwrap();
    assert!(matches!(n.closed, Some(Closed::Flag(true))));
}

#[test]
fn mobilizon_event() {
    let a = activity("mobilizon_create_event.json");
    assert_eq!(a.kind, Verb::Create);
    let n: Note = a.object.read("object").unwrap();
    assert_eq!(n.kind, NoteKind::Event);
    assert!(n.kind.is_content());
    assert_eq!(n.name.as_deref(), Some("Repair café de l'atelier"));
    assert_eq!(
        n.start_time.unwrap().naive_utc().to_string(),
        "2087-05-10 12:00:00"
    );
    assert_eq!(
        n.end_time.unwrap().naive_utc().to_string(),
        "2087-05-10 16:00:00"
    );
    assert_eq!(n.timezone.as_deref(), Some("Europe/Paris"));
    assert_eq!(n.place(), "Locaux, 10 Rue Jangot, 69007 Lyon, France");
    // The online address is the `Link`, not a PropertyValue.
    assert_eq!(n.online_link(), Some("https://meet.example/repair-cafe"));
    assert_eq!(
        (n.maximum_attendee_capacity, n.participant_count),
        (Some(20), Some(3))
    );
    assert_eq!(n.join_mode.as_deref(), Some("free"));
}

#[test]
fn event_answers() {
    let a = activity("mobilizon_join.json");
    assert_eq!(a.kind, Verb::Join);
    assert_eq!(a.object.id().unwrap().as_str(), TARGET);
    assert_eq!(activity("mobilizon_leave.json").kind, Verb::Leave);
    let a = activity("friendica_tentative_accept.json");
    assert_eq!(a.kind, Verb::TentativeAccept);
    assert_eq!(a.object.id().unwrap().as_str(), TARGET);
}

#[test]
fn places_of_other_servers() {
    // Gancio: a place with its address as text, and an online place.
    let v = serde_json::json!({
        "id": "https://gancio.test/federation/m/4", "type": "Event", "name": "Concert",
        "startTime": "2087-01-01T20:00:00+01:00",
        "location": [
            {"type": "Place", "name": "La Cave", "address": "3 rue Neuve, Lyon"},
            {"type": "VirtualLocation", "url": "https://stream.example/live"}
        ]
    });
    let n: Note = read(&v, "object").unwrap();
    assert_eq!(n.place(), "La Cave, 3 rue Neuve, Lyon");
    assert_eq!(n.online_link(), Some("https://stream.example/live"));
    // Friendica: a place with its name only.
    let v = serde_json::json!({
        "id": "https://fr.test/objects/1", "type": "Event", "name": "Picnic",
        "startTime": "2087-06-01T12:00:00+00:00", "location": {"type": "Place", "name": "Parc"}
    });
    let n: Note = read(&v, "object").unwrap();
    assert_eq!(n.place(), "Parc");
    assert_eq!(n.online_link(), None);
}
