//! A post or a comment: a `Note` (Mastodon, GoToSocial, Akkoma, Misskey,
//! Ruche comments), a `Page` (Lemmy's posts, Ruche's community posts), an
//! `Article` (blogs on Fedify, WordPress) or a `Question` (polls), with its
//! tags and the document it may carry.

use serde::{Deserialize, Serialize};
use url::Url;

use super::{lenient, lenient_list, recipients, Link};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum NoteKind {
    Note,
    Page,
    Article,
    Question,
    /// A vote in a poll, as Pleroma and Akkoma send it.
    Answer,
    /// A calendar event (Mobilizon, Friendica, Gancio, Ruche).
    Event,
    Tombstone,
    #[serde(other)]
    Other,
}

impl NoteKind {
    /// Whether Ruche reads this type as a post or a comment.
    pub fn is_content(self) -> bool {
        matches!(
            self,
            NoteKind::Note
                | NoteKind::Page
                | NoteKind::Article
                | NoteKind::Question
                | NoteKind::Event
        )
    }

    /// A type that carries a title (`name`) above its text.
    pub fn is_titled(self) -> bool {
        matches!(self, NoteKind::Page | NoteKind::Article)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: NoteKind,
    /// The author (a list names the author first, as Lemmy and PeerTube
    /// do).
    #[serde(default, deserialize_with = "lenient")]
    pub attributed_to: Option<Link>,
    /// The text, as HTML.
    #[serde(default, deserialize_with = "lenient")]
    pub content: Option<String>,
    /// A title (Lemmy, Article) or a poll's question.
    #[serde(default, deserialize_with = "lenient")]
    pub name: Option<String>,
    /// The text as its author wrote it (Markdown on Lemmy and Ruche).
    #[serde(default, deserialize_with = "lenient")]
    pub source: Option<Source>,
    #[serde(default, deserialize_with = "recipients")]
    pub to: Vec<Url>,
    #[serde(default, deserialize_with = "recipients")]
    pub cc: Vec<Url>,
    /// The community a post belongs to (FEP-1b12, Lemmy).
    #[serde(default, deserialize_with = "lenient")]
    pub audience: Option<Link>,
    #[serde(default, deserialize_with = "lenient_list")]
    pub tag: Vec<Tag>,
    #[serde(default, deserialize_with = "lenient")]
    pub in_reply_to: Option<Link>,
    #[serde(default, deserialize_with = "lenient")]
    pub published: Option<chrono::DateTime<chrono::FixedOffset>>,
    #[serde(default, deserialize_with = "lenient_list")]
    pub attachment: Vec<Attachment>,
    /// A community's pinned post (Lemmy's `stickied`).
    #[serde(default, deserialize_with = "lenient")]
    pub stickied: Option<bool>,
    /// A post its community asks its members to confirm having read
    /// (`content::must_read`).
    #[serde(rename = "ruche:mustRead", default, deserialize_with = "lenient")]
    pub must_read: Option<bool>,
    /// A Ruche survey or quiz: its questions (its `name` is its title).
    #[serde(rename = "ruche:survey", default, deserialize_with = "lenient")]
    pub survey: Option<SurveyDoc>,
    /// A response to a Ruche survey (`inReplyTo`), its answers by position.
    #[serde(rename = "ruche:answers", default, deserialize_with = "lenient")]
    pub answers: Option<Vec<crate::content::survey::SentAnswer>>,
    /// A poll's answers when one may be chosen (`Question`).
    #[serde(default, deserialize_with = "lenient_list")]
    pub one_of: Vec<Choice>,
    /// A poll's answers when several may be chosen.
    #[serde(default, deserialize_with = "lenient_list")]
    pub any_of: Vec<Choice>,
    /// When a poll closes.
    #[serde(default, deserialize_with = "lenient")]
    pub end_time: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// When a poll closed (a date; `true` reads as closed now).
    #[serde(default, deserialize_with = "lenient")]
    pub closed: Option<Closed>,
    /// How many people voted in a poll (Mastodon's `votersCount`).
    #[serde(default, deserialize_with = "lenient")]
    pub voters_count: Option<i64>,
    /// When a Ruche poll shows its results: `voted` or `closed`.
    #[serde(rename = "ruche:results", default, deserialize_with = "lenient")]
    pub results: Option<String>,
    /// Whether a Ruche poll's voters stay unknown.
    #[serde(rename = "ruche:anonymous", default, deserialize_with = "lenient")]
    pub anonymous: Option<bool>,
    /// Where a Ruche idea stands (`new`, `under_review`, `accepted`,
    /// `done`, `declined`): the post is an idea, titled by its `name`.
    #[serde(rename = "ruche:ideaStatus", default, deserialize_with = "lenient")]
    pub idea_status: Option<String>,
    /// Why a Ruche idea was declined (or moved).
    #[serde(rename = "ruche:ideaReason", default, deserialize_with = "lenient")]
    pub idea_reason: Option<String>,
    /// A Ruche question (with answers, one of which may be accepted),
    /// titled by its `name`.
    #[serde(rename = "ruche:question", default, deserialize_with = "lenient")]
    pub question: Option<bool>,
    /// The answer its asker (or its community) accepted.
    #[serde(rename = "ruche:acceptedAnswer", default, deserialize_with = "lenient")]
    pub accepted_answer: Option<Url>,
    /// When an event starts (its end is `endTime`).
    #[serde(default, deserialize_with = "lenient")]
    pub start_time: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// The zone an event was planned in (Mobilizon's `timezone`).
    #[serde(default, deserialize_with = "lenient")]
    pub timezone: Option<String>,
    /// Where an event takes place (one place, or several as Gancio lists
    /// them).
    #[serde(default, deserialize_with = "lenient_list")]
    pub location: Vec<Location>,
    /// Places an event offers (schema.org, Mobilizon).
    #[serde(default, deserialize_with = "lenient")]
    pub maximum_attendee_capacity: Option<i64>,
    /// How many go to an event (Mobilizon).
    #[serde(default, deserialize_with = "lenient")]
    pub participant_count: Option<i64>,
    /// How participation works (Mobilizon: `free`, `restricted`, …): an
    /// event that says so is answered with `Join` and `Leave`.
    #[serde(default, deserialize_with = "lenient")]
    pub join_mode: Option<String>,
    /// How many may go to a Ruche event, and wait for a place.
    #[serde(rename = "ruche:maybeCount", default, deserialize_with = "lenient")]
    pub maybe_count: Option<i64>,
    #[serde(rename = "ruche:waitingCount", default, deserialize_with = "lenient")]
    pub waiting_count: Option<i64>,
}

/// Where an event takes place: a `Place` with a name and an address (a
/// schema.org `PostalAddress`, or text), or a `VirtualLocation` (Gancio)
/// with its address.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Location {
    #[serde(rename = "type", default, deserialize_with = "lenient")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub address: Option<Address>,
    #[serde(default, deserialize_with = "lenient")]
    pub url: Option<String>,
}

/// A place's address: a schema.org `PostalAddress`, or plain text.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Address {
    Text(String),
    Postal(PostalAddress),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostalAddress {
    #[serde(default, deserialize_with = "lenient")]
    pub street_address: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub postal_code: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub address_locality: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub address_country: Option<String>,
}

impl Location {
    /// The place as one line: its name, then its address.
    pub fn text(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        parts.extend(self.name.clone());
        match &self.address {
            Some(Address::Text(t)) => parts.push(t.clone()),
            Some(Address::Postal(p)) => {
                let locality = [p.postal_code.as_deref(), p.address_locality.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                parts.extend(p.street_address.clone());
                parts.push(locality);
                parts.extend(p.address_country.clone());
            }
            None => {}
        }
        parts
            .into_iter()
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .fold(Vec::<String>::new(), |mut acc, p| {
                if !acc.contains(&p) {
                    acc.push(p);
                }
                acc
            })
            .join(", ")
    }
}

/// A Ruche survey or quiz (`ruche:survey`), as sent and read: its
/// questions in order, with the right answers of a quiz (the instances of
/// its respondents score them), and its dates.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SurveyDoc {
    #[serde(default)]
    pub quiz: bool,
    #[serde(default)]
    pub leaderboard: bool,
    #[serde(default)]
    pub anonymous: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<chrono::DateTime<chrono::FixedOffset>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<chrono::DateTime<chrono::FixedOffset>>,
    #[serde(default)]
    pub questions: Vec<SurveyQuestionDoc>,
}

/// A question of a survey: `one`, `several`, `scale` or `text`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SurveyQuestionDoc {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub optional: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<SurveyChoiceDoc>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub explanation: String,
}

/// A choice of a survey's question, and whether it is a right answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SurveyChoiceDoc {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub correct: bool,
}

/// A response to a survey, sent to its author only as a `Note` answering
/// it (the survey's instance reads `ruche:answers`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishedResponse {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub attributed_to: Url,
    pub in_reply_to: Url,
    pub to: Vec<Url>,
    pub content: String,
    #[serde(rename = "ruche:answers")]
    pub answers: Vec<crate::content::survey::SentAnswer>,
}

/// A poll's `closed`: the date it closed, or only that it did.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Closed {
    At(chrono::DateTime<chrono::FixedOffset>),
    Flag(bool),
}

/// An answer of a poll: its name and, once counted, its votes (the
/// `totalItems` of its `replies`).
#[derive(Debug, Clone, Deserialize)]
pub struct Choice {
    #[serde(default, deserialize_with = "lenient")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub replies: Option<Replies>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Replies {
    #[serde(default, deserialize_with = "lenient")]
    pub total_items: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    #[serde(default, deserialize_with = "lenient")]
    pub content: Option<String>,
}

/// A tag: a hashtag (`name`), a mention (`href`), or another kind (an
/// emoji) that Ruche skips.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type")]
pub enum Tag {
    Hashtag {
        #[serde(default, deserialize_with = "lenient")]
        name: Option<String>,
        /// On a person of a Ruche site, how many people endorse this skill
        /// there.
        #[serde(rename = "ruche:endorsements", default, deserialize_with = "lenient")]
        endorsements: Option<i64>,
    },
    Mention {
        #[serde(default, deserialize_with = "lenient")]
        href: Option<Url>,
    },
    #[serde(other)]
    Other,
}

/// An attachment: a Ruche document (`ruche:document`), or a picture or a
/// file (`Image`, `Document`, …) of any server.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Attachment {
    #[serde(rename = "type", default, deserialize_with = "lenient")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub width: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    pub height: Option<i64>,
    #[serde(rename = "ruche:document", default, deserialize_with = "lenient")]
    pub document: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub url: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub name: Option<String>,
    #[serde(rename = "mediaType", default, deserialize_with = "lenient")]
    pub media_type: Option<String>,
    #[serde(rename = "ruche:version", default, deserialize_with = "lenient")]
    pub version: Option<i64>,
    #[serde(rename = "ruche:size", default, deserialize_with = "lenient")]
    pub size: Option<i64>,
    #[serde(rename = "ruche:sha256", default, deserialize_with = "lenient")]
    pub sha256: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub summary: Option<String>,
    /// The address of a `Link` (an event's online address, Mobilizon).
    #[serde(default, deserialize_with = "lenient")]
    pub href: Option<String>,
}

impl Note {
    /// The author's id.
    pub fn author(&self) -> Option<&Url> {
        self.attributed_to.as_ref().map(Link::url)
    }

    /// Everyone it is addressed to, `to` then `cc`.
    pub fn recipients(&self) -> impl Iterator<Item = &Url> {
        self.to.iter().chain(self.cc.iter())
    }

    /// The document it carries, if any.
    pub fn document(&self) -> Option<&Attachment> {
        self.attachment.iter().find(|a| a.document.is_some())
    }

    /// An event's online address: the `Link` it carries as Mobilizon
    /// publishes it, else a virtual location's (Gancio).
    pub fn online_link(&self) -> Option<&str> {
        self.attachment
            .iter()
            .find(|a| a.kind.as_deref() == Some("Link") && a.href.is_some())
            .and_then(|a| a.href.as_deref())
            .or_else(|| {
                self.location
                    .iter()
                    .find(|l| l.kind.as_deref() == Some("VirtualLocation"))
                    .and_then(|l| l.url.as_deref())
            })
    }

    /// An event's place as one line (its physical places, joined).
    pub fn place(&self) -> String {
        self.location
            .iter()
            .filter(|l| l.kind.as_deref() != Some("VirtualLocation"))
            .map(Location::text)
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(" / ")
    }
}

/// A post or a comment as Ruche sends it (built in one place,
/// `federation::objects::note::publish`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Published {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: NoteKind,
    /// The title of a community's post (a `Page`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub attributed_to: Url,
    pub content: String,
    pub source: PublishedSource,
    pub published: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
    pub url: Url,
    pub to: Vec<Url>,
    pub cc: Vec<Url>,
    /// The community it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<Url>,
    pub in_reply_to: Option<Url>,
    pub tag: Vec<PublishedTag>,
    pub sensitive: bool,
    /// Pinned in its community (Lemmy's term).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stickied: Option<bool>,
    /// A must-read of its community (said by the community's host).
    #[serde(rename = "ruche:mustRead", skip_serializing_if = "Option::is_none")]
    pub must_read: Option<bool>,
    /// A survey or a quiz: its questions; its `name` is its title.
    #[serde(rename = "ruche:survey", skip_serializing_if = "Option::is_none")]
    pub survey: Option<SurveyDoc>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachment: Vec<PublishedAttachment>,
    /// A poll's answers (a `Question`): `oneOf`, or `anyOf` when several
    /// may be chosen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_of: Option<Vec<PublishedChoice>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub any_of: Option<Vec<PublishedChoice>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voters_count: Option<i64>,
    #[serde(rename = "ruche:results", skip_serializing_if = "Option::is_none")]
    pub results: Option<&'static str>,
    #[serde(rename = "ruche:anonymous", skip_serializing_if = "Option::is_none")]
    pub anonymous: Option<bool>,
    /// Where an idea stands; its `name` is its title.
    #[serde(rename = "ruche:ideaStatus", skip_serializing_if = "Option::is_none")]
    pub idea_status: Option<&'static str>,
    #[serde(rename = "ruche:ideaReason", skip_serializing_if = "Option::is_none")]
    pub idea_reason: Option<String>,
    /// A question; its `name` is its title.
    #[serde(rename = "ruche:question", skip_serializing_if = "Option::is_none")]
    pub question: Option<bool>,
    #[serde(
        rename = "ruche:acceptedAnswer",
        skip_serializing_if = "Option::is_none"
    )]
    pub accepted_answer: Option<Url>,
    /// An event's date, time and place on one line, which Mastodon shows
    /// under its title (it reads no `content` of an `Event`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// When an event starts (its end is `endTime`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<PublishedPlace>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_attendee_capacity: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_attendee_capacity: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant_count: Option<i64>,
    #[serde(rename = "ruche:maybeCount", skip_serializing_if = "Option::is_none")]
    pub maybe_count: Option<i64>,
    #[serde(rename = "ruche:waitingCount", skip_serializing_if = "Option::is_none")]
    pub waiting_count: Option<i64>,
}

/// Where an event takes place, as a `Place` with its name.
#[derive(Debug, Serialize)]
pub struct PublishedPlace {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
}

/// An event's online address, as Mobilizon publishes and reads it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishedLink {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub href: Url,
    pub media_type: &'static str,
    pub name: &'static str,
}

/// An answer of a poll Ruche publishes, as Mastodon reads it: a `Note`
/// with its name and, when the results may be seen, its votes.
#[derive(Debug, Serialize)]
pub struct PublishedChoice {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replies: Option<PublishedReplies>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishedReplies {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub total_items: i64,
}

/// A vote in a poll of another instance, as Mastodon sends and reads it:
/// a `Note` with the answer as its `name`, answering the poll, addressed
/// to its author only.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishedVote {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
    pub attributed_to: Url,
    pub in_reply_to: Url,
    pub to: Vec<Url>,
}

/// What a post carries: a Ruche document version, or pictures and files.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum PublishedAttachment {
    Document(PublishedDocument),
    Media(PublishedMedia),
    Link(PublishedLink),
}

/// A picture (`Image`) or a file (`Document`) attached to a post or a
/// comment, as Mastodon publishes and reads them: `name` is a picture's
/// alternative text.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishedMedia {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub media_type: String,
    pub url: Url,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<i64>,
}

/// A Ruche document version, as a community's post carries it.
#[derive(Debug, Serialize)]
pub struct PublishedDocument {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub url: Url,
    #[serde(rename = "ruche:document")]
    pub document: Url,
    #[serde(rename = "ruche:version")]
    pub version: i64,
    #[serde(rename = "ruche:size")]
    pub size: i64,
    #[serde(rename = "ruche:sha256")]
    pub sha256: String,
    /// The uploader's note on this version (HTML).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub summary: String,
}

/// The Markdown a post was written in.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishedSource {
    pub content: String,
    pub media_type: &'static str,
}

/// A mention or a hashtag of a post Ruche sends.
#[derive(Debug, Serialize)]
#[serde(tag = "type")]
pub enum PublishedTag {
    Mention {
        href: Url,
        name: String,
    },
    Hashtag {
        name: String,
        href: Url,
        /// On a person, how many people endorse this skill (of theirs).
        #[serde(rename = "ruche:endorsements", skip_serializing_if = "Option::is_none")]
        endorsements: Option<i64>,
    },
}
