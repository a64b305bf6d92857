//! What every document Ruche sends shares: the JSON-LD context, the
//! generator (FEP-844e), the activity envelope, reactions, collections, and
//! the titles of community posts. Actors and posts themselves are built in
//! `federation::objects`.

use activitypub_federation::protocol::context::WithContext;
use serde::Serialize;
use serde_json::{json, Value};

use super::protocol::activity::Embedded;
use super::protocol::actor::{ActorKind, PublishedGenerator, PublishedImplemented};
use super::protocol::{Sent, SentObject, Verb};

use super::{AS_CONTEXT, AS_PUBLIC};
use crate::audience::Visibility;
use crate::config::Config;
use crate::error::{AppError, AppResult};
use crate::urls::Urls;

/// Names of the profile fields sent as `PropertyValue` attachments (and read
/// back from Ruche peers).
pub const FIELD_JOB_TITLE: &str = "Job title";
pub const FIELD_DEPARTMENT: &str = "Department";
pub const FIELD_SITE: &str = "Site";
pub const FIELD_LOCATION: &str = "Location";
pub const FIELD_PHONE: &str = "Phone";
pub const FIELD_EMAIL: &str = "E-mail";
pub const FIELD_LANGUAGES: &str = "Languages";

/// The emoji sent for each Ruche reaction other than "like" (which is a Like).
pub const REACTION_EMOJI: [(&str, &str); 3] =
    [("thanks", "🙏"), ("bravo", "👏"), ("insightful", "💡")];

/// The JSON-LD context of every document and activity Ruche sends: each
/// term it uses is defined, so that a JSON-LD reader keeps all of it
/// (ActivityStreams alone would turn `EmojiReact`, `Hashtag`, `sensitive`
/// or the profile fields into blank-node terms). The prefixes are those
/// Mastodon (`toot:`, `schema:`), Pleroma (`litepub:`) and Lemmy (`lemmy:`)
/// publish, so that their readers recognise the same terms.
pub fn context() -> Value {
    CONTEXT.clone()
}

static CONTEXT: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| {
    json!([
        AS_CONTEXT,
        "https://w3id.org/security/v1",
        {
            "schema": "http://schema.org#",
            "PropertyValue": "schema:PropertyValue",
            "value": "schema:value",
            "toot": "http://joinmastodon.org/ns#",
            "discoverable": "toot:discoverable",
            "suspended": "toot:suspended",
            "votersCount": "toot:votersCount",
            "Hashtag": "as:Hashtag",
            "sensitive": "as:sensitive",
            "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
            "litepub": "http://litepub.social/ns#",
            "EmojiReact": "litepub:EmojiReact",
            "lemmy": "https://join-lemmy.org/ns#",
            "stickied": "lemmy:stickied",
            "postingRestrictedToMods": "lemmy:postingRestrictedToMods",
            "mz": "https://joinmobilizon.org/ns#",
            "timezone": "mz:timezone",
            "participantCount": "mz:participantCount",
            "joinMode": "mz:joinMode",
            "maximumAttendeeCapacity": "schema:maximumAttendeeCapacity",
            "remainingAttendeeCapacity": "schema:remainingAttendeeCapacity",
            "ruche": super::groups::RUCHE_NS,
            "implements": {"@id": "https://w3id.org/fep/844e/implements", "@type": "@id"}
        }
    ])
});

/// The software behind our actors (FEP-844e), saying that it reads RFC 9421
/// signatures.
pub fn generator(cfg: &Config) -> AppResult<PublishedGenerator> {
    Ok(PublishedGenerator {
        kind: ActorKind::Application,
        name: format!("Ruche {}", env!("CARGO_PKG_VERSION")),
        url: own(cfg.base())?,
        implements: vec![PublishedImplemented {
            name: "RFC-9421: HTTP Message Signatures",
            href: own(crate::net::schemes::RFC9421_HREF)?,
        }],
    })
}

/// One of our own addresses as a URL.
pub use super::protocol::url as own;

/// A document as Ruche serves it, with the one JSON-LD context.
pub fn document<T: Serialize>(doc: T) -> AppResult<Value> {
    serde_json::to_value(WithContext::new(doc, context())).map_err(AppError::internal)
}

/// A document as an activity embeds it (the activity carries the context).
pub fn embedded<T: Serialize>(doc: T) -> AppResult<Value> {
    serde_json::to_value(doc).map_err(AppError::internal)
}

/// Relative links of our rendered HTML (`/people/x`, `/tags/y`) made absolute.
pub fn absolute_html(cfg: &Config, html: &str) -> String {
    html.replace("href=\"/", &format!("href=\"{}/", cfg.base()))
}

/// Who a note is addressed to.
pub struct Audience {
    pub to: Vec<String>,
    pub cc: Vec<String>,
}

/// Longest title of a post sent as a `Page` (Lemmy's limit).
pub const MAX_TITLE: usize = 200;

/// The title of a post sent as a `Page`: Lemmy reads the posts of a
/// community as titled pages and refuses a page without a name. Ruche posts
/// have no title, so it is the first line of the text without its Markdown
/// marks, cut at a word within [`MAX_TITLE`] characters; a post without
/// text is named after its file.
pub fn page_title(markdown: &str, file: Option<&str>) -> String {
    let line = markdown
        .lines()
        .map(str::trim)
        .find(|l| l.chars().any(char::is_alphanumeric))
        .unwrap_or("");
    let line = line.trim_start_matches(|c: char| "#>-*+ ".contains(c) || c.is_ascii_digit());
    let line = line.strip_prefix(". ").unwrap_or(line);
    let mut text = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' | '_' | '`' | '[' => {}
            // A link keeps its text: `[text](url)` becomes `text`.
            ']' if chars.peek() == Some(&'(') => {
                for c in chars.by_ref() {
                    if c == ')' {
                        break;
                    }
                }
            }
            c => text.push(c),
        }
    }
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = if text.is_empty() {
        file.unwrap_or("…").to_string()
    } else {
        text
    };
    if text.chars().count() <= MAX_TITLE {
        return text;
    }
    let cut: String = text.chars().take(MAX_TITLE - 1).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > MAX_TITLE / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end())
}

/// Whether a page's `name` is the title [`page_title`] made for a post
/// without one, so that the text alone is the post: it is the title of the
/// page's Markdown `source` (as Ruche sends it), or it repeats the start of
/// its HTML text.
pub fn derived_title(name: &str, html: &str, source: Option<&str>) -> bool {
    source.is_some_and(|md| page_title(md, None) == name.trim()) || title_repeats_text(name, html)
}

/// Whether `name` repeats the start of the HTML `text`, compared on letters
/// and digits, so that Markdown marks, tags and entities do not matter.
pub fn title_repeats_text(name: &str, text: &str) -> bool {
    let letters = |s: &str| -> String {
        s.replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let name = letters(name.trim_end_matches('…'));
    let text = ammonia::Builder::empty().clean(text).to_string();
    !name.is_empty() && letters(&text).starts_with(&name)
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

/// Wraps an object in an activity, addressed to `audience` when given.
pub fn activity(
    id: &str,
    kind: Verb,
    actor: &str,
    object: SentObject,
    audience: Option<&Audience>,
) -> AppResult<Sent> {
    let sent = Sent::new(id, kind, actor, object)?;
    match audience {
        Some(a) => sent.to(&a.to)?.cc(&a.cc),
        None => Ok(sent),
    }
}

/// A reaction of `actor` to `object`: a `Like`, or an `EmojiReact` with
/// the reaction's emoji.
pub fn reaction(id: &str, actor: &str, object: &str, reaction: &str) -> AppResult<Sent> {
    let object = SentObject::id(object)?;
    if reaction == "like" {
        return Sent::new(id, Verb::Like, actor, object);
    }
    let emoji = REACTION_EMOJI
        .iter()
        .find(|(k, _)| *k == reaction)
        .map(|(_, e)| *e)
        .unwrap_or("👍");
    Ok(Sent::new(id, Verb::EmojiReact, actor, object)?.content(emoji))
}

/// An endorsement of a person's skill: a `Like` of the person naming the
/// skill (`ruche:skill`), addressed to them.
pub fn endorsement(id: &str, actor: &str, person: &str, skill: &str) -> AppResult<Sent> {
    Ok(Sent::new(id, Verb::Like, actor, SentObject::id(person)?)?
        .to(&[person.to_string()])?
        .skill(skill))
}

/// A `Follow` embedded in its answer or its `Undo`.
pub fn follow_ref(id: &str, follower: &str, followee: &str) -> AppResult<SentObject> {
    Ok(SentObject::Embedded(Box::new(Embedded {
        id: url::Url::parse(id).ok(),
        kind: Verb::Follow,
        actor: own(follower)?,
        object: own(followee)?,
        target: None,
    })))
}

/// A deleted post (`Tombstone`) or document (`Document`).
pub fn gone(id: &str, kind: &'static str) -> AppResult<SentObject> {
    Ok(SentObject::Gone { id: own(id)?, kind })
}

/// An ordered collection as Ruche serves it: its size, and its items when
/// it lists them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Collection {
    pub id: url::Url,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub total_items: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ordered_items: Option<Vec<Value>>,
}

/// An ordered collection of `total` items, listing `items` when given.
pub fn collection(id: &str, total: i64, items: Option<Vec<Value>>) -> AppResult<Collection> {
    Ok(Collection {
        id: own(id)?,
        kind: "OrderedCollection",
        total_items: total,
        ordered_items: items,
    })
}

/// An ordered collection that only tells its size (followers, following,
/// outbox: we do not list people or posts to other servers).
pub fn collection_summary(id: String, total: i64) -> AppResult<Value> {
    document(collection(&id, total, None)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_titles_are_the_first_line_without_markdown() {
        assert_eq!(
            page_title(
                "## Audit **checklist** for [suppliers](https://x.test/a)\n\nMore text",
                None
            ),
            "Audit checklist for suppliers"
        );
        assert_eq!(page_title("- item one\n- item two", None), "item one");
        assert_eq!(page_title("1. first step", None), "first step");
        assert_eq!(page_title("", Some("report.pdf")), "report.pdf");
        let long = "mot ".repeat(100);
        let t = page_title(&long, None);
        assert!(t.chars().count() <= MAX_TITLE, "{t}");
        assert!(t.ends_with("mot…"), "{t}");
        let word = "x".repeat(500);
        assert_eq!(page_title(&word, None).chars().count(), MAX_TITLE);
    }

    #[test]
    fn a_derived_title_is_recognised() {
        let md = "**Réunion** qualité & sécurité, jeudi\n\nOrdre du jour";
        let html =
            "<p><strong>Réunion</strong> qualité &amp; sécurité, jeudi</p><p>Ordre du jour</p>";
        assert!(title_repeats_text(&page_title(md, None), html));
        assert!(!title_repeats_text(
            "Supplier audit checklist",
            "<p>Please review</p>"
        ));
        assert!(!title_repeats_text("", "<p>x</p>"));
        // A post that starts with a mention: its HTML shows a shorter name
        // than its source, and the source tells.
        let md = "@marie@site2.example:8443 can you check line 3?";
        let html = r#"<p><a href="https://site2.example:8443/people/marie">@marie</a> can you check line 3?</p>"#;
        assert!(!title_repeats_text(&page_title(md, None), html));
        assert!(derived_title(&page_title(md, None), html, Some(md)));
        assert!(!derived_title(
            "Supplier audit checklist",
            "<p>Please review</p>",
            Some("Please review")
        ));
    }
}
