//! A post or a comment read into what the content feature stores
//! ([`Incoming`]): its origin and author checked, its HTML sanitised and
//! bounded, its audience, tags, mentions, thread, community and document.

use diesel::prelude::*;

use crate::accounts::User;
use crate::app::AppState;
use crate::audience::Visibility;
use crate::content::remote::Incoming;
use crate::db::now;
use crate::db::schema::users;
use crate::error::{AppError, AppResult};
use crate::federation::protocol::{url, Note, Tag};
use crate::federation::remote::{MAX_CONTENT, MAX_RECIPIENTS, MAX_TAGS};
use crate::federation::AS_PUBLIC;
use crate::urls::{host_of, Urls};

/// Largest sanitised HTML stored for one remote post or comment.
pub const MAX_STORED_HTML: usize = 2 * MAX_CONTENT;

/// The HTML and plain text of a note: a titled object (Lemmy's Page, an
/// Article) keeps its title above the text, unless it is the title Ruche
/// derives from the text (a Ruche post).
/// An idea's title is kept apart (`keep_title` false).
fn texts(note: &Note, keep_title: bool) -> AppResult<(String, String)> {
    let html = note.content.clone().unwrap_or_default();
    if html.len() > MAX_CONTENT {
        return Err(AppError::bad_request("field_too_long").with("field", "content"));
    }
    let name = note
        .name
        .clone()
        .filter(|n| n.len() <= 1000)
        .unwrap_or_default();
    let source = note.source.as_ref().and_then(|s| s.content.as_deref());
    let titled = keep_title
        && note.kind.is_titled()
        && !name.trim().is_empty()
        && !html.is_empty()
        && !crate::federation::json::derived_title(&name, &html, source);
    let title = ammonia::clean_text(name.trim());
    let shown = if titled {
        format!("<p><strong>{title}</strong></p>{html}")
    } else if html.is_empty() && keep_title {
        name.clone()
    } else {
        html.clone()
    };
    let body_html = crate::markdown::sanitize(&shown);
    // Sanitising can make HTML longer (entities, link attributes): what is
    // stored is bounded too, not only what was received.
    if body_html.len() > MAX_STORED_HTML {
        return Err(AppError::bad_request("field_too_long")
            .with("field", "content")
            .with("max", MAX_STORED_HTML));
    }
    let body = if titled {
        // Title and text as two paragraphs of the plain text, not run together.
        let both = format!("<p>{title}</p>\n\n{}", crate::markdown::sanitize(&html));
        ammonia::Builder::empty().clean(&both).to_string()
    } else {
        ammonia::Builder::empty().clean(&body_html).to_string()
    };
    Ok((body_html, body))
}

fn too_many(field: &'static str, max: usize) -> AppError {
    AppError::bad_request("too_many")
        .with("field", field)
        .with("max", max)
}

/// Reads a note into an [`Incoming`]. Returns `None` for content nobody
/// here asked for (no local follower of the author, no local mention, not
/// in a thread we know), unless it is fetched as `context` of such content.
///
/// Content of a community is wanted when it comes from a member to one of
/// our communities, or through the community that it belongs to
/// (`via_group`, an Announce or a back-fill); a remote community's content
/// sent any other way is not stored.
pub async fn read(
    state: &AppState,
    actor: &User,
    actor_ap: &str,
    note: &Note,
    context: bool,
    via_group: Option<i64>,
) -> AppResult<Option<Incoming>> {
    let (cfg, actor, actor_ap, note) = (
        state.config.clone(),
        actor.clone(),
        actor_ap.to_string(),
        note.clone(),
    );
    state
        .db
        .run(move |c| resolve(c, &cfg, &actor, &actor_ap, &note, context, via_group))
        .await
}

/// [`read`] on one connection, for a caller that does more in the same
/// database task.
pub fn resolve(
    conn: &mut crate::db::DbConn,
    cfg: &crate::config::Config,
    actor: &User,
    actor_ap: &str,
    note: &Note,
    context: bool,
    via_group: Option<i64>,
) -> AppResult<Option<Incoming>> {
    let id = note.id.to_string();
    if id.len() > 2000 || host_of(&id) != host_of(actor_ap) {
        return Err(AppError::bad_request("origin_mismatch").with("field", "object.id"));
    }
    if note.author().map(url::Url::as_str) != Some(actor_ap) {
        return Err(AppError::forbidden("not_author"));
    }
    // An idea is a post (not a reply) of a community; a question, a post.
    let idea = idea_of(note).filter(|_| note.in_reply_to.is_none() && note.audience.is_some());
    let question = question_of(cfg, note).filter(|_| note.in_reply_to.is_none());
    let event = event_of(note).filter(|_| note.in_reply_to.is_none());
    let survey = match note.in_reply_to {
        None => survey_of(note)?,
        Some(_) => None,
    };
    let (body_html, body) = texts(
        note,
        idea.is_none() && question.is_none() && event.is_none() && survey.is_none(),
    )?;
    let (body_html, body) = match (&question, &survey) {
        (Some(q), _) => without_title(&q.title, body_html, body),
        (_, Some(s)) => without_title(&s.survey.title, body_html, body),
        _ => (body_html, body),
    };
    if note.to.len() > MAX_RECIPIENTS {
        return Err(too_many("to", MAX_RECIPIENTS));
    }
    if note.cc.len() > MAX_RECIPIENTS {
        return Err(too_many("cc", MAX_RECIPIENTS));
    }
    if note.attachment.len() > crate::federation::remote::MAX_ATTACHMENTS {
        return Err(too_many(
            "attachment",
            crate::federation::remote::MAX_ATTACHMENTS,
        ));
    }
    if note.tag.len() > MAX_TAGS {
        return Err(too_many("tag", MAX_TAGS));
    }
    let recipients: Vec<&str> = note.recipients().map(url::Url::as_str).collect();
    let visibility = if recipients.contains(&AS_PUBLIC) {
        Visibility::Public
    } else if recipients
        .iter()
        .any(|r| r.ends_with("/followers") && host_of(r).as_deref() == host_of(actor_ap).as_deref())
    {
        Visibility::Followers
    } else {
        Visibility::Direct
    };
    let urls = Urls(cfg);
    let mut tags = Vec::new();
    let mut mention_urls = Vec::new();
    for t in &note.tag {
        match t {
            Tag::Hashtag { name: Some(n), .. } => {
                let n = n.trim_start_matches('#');
                if !n.is_empty() && n.chars().count() <= 64 {
                    tags.push(crate::markdown::normalize_tag(n));
                }
            }
            Tag::Mention { href: Some(h) } => mention_urls.push(h.as_str()),
            _ => {}
        }
    }
    // People here addressed by name see the content as if mentioned (a
    // reply addressed to its post's author, without a Mention tag).
    let mut local_mentions: Vec<String> = mention_urls
        .iter()
        .chain(recipients.iter())
        .filter_map(|u| urls.local_username(u))
        .collect();
    local_mentions.sort();
    local_mentions.dedup();
    let reply_url = note.in_reply_to.as_ref().map(|l| l.as_str().to_string());
    let published = note.published.map(|d| d.naive_utc()).unwrap_or_else(now);
    let local_reply = reply_url.as_deref().and_then(|u| urls.local_post_id(u));
    let remote_reply = reply_url.clone().filter(|_| local_reply.is_none());
    let author_id = actor.id;
    let addressed: Vec<url::Url> = note
        .audience
        .iter()
        .map(|l| l.url().clone())
        .chain(note.recipients().cloned())
        .collect();
    type Found = (Option<i64>, bool, Vec<i64>, Option<i64>);
    let lookup = |c: &mut crate::db::DbConn| -> AppResult<Found> {
        {
            let candidates: Vec<&url::Url> = addressed.iter().collect();
            let community = match (
                crate::federation::groups::addressed_community(c, cfg, &candidates)?,
                via_group,
            ) {
                (Some(g), Some(v)) if g.id == v => Some(g.id),
                (_, Some(_)) => return Err(AppError::forbidden("announce_not_community")),
                (Some(g), None) if g.is_local() => {
                    use crate::db::schema::community_members as cmm;
                    let member: i64 = cmm::table
                        .filter(cmm::community_id.eq(g.id))
                        .filter(cmm::user_id.eq(author_id))
                        .filter(cmm::status.eq("member"))
                        .count()
                        .get_result(c)?;
                    if member == 0 {
                        return Err(AppError::forbidden("community_members_only"));
                    }
                    Some(g.id)
                }
                // A remote community's content comes through that community.
                (Some(_), None) => return Ok((None, false, Vec::new(), None)),
                (None, None) => None,
            };
            let reply_to = match (local_reply, &remote_reply) {
                (Some(id), _) => Some(id),
                (None, Some(u)) => crate::content::remote::find_by_ap_id(c, u)?.map(|r| r.id),
                _ => None,
            };
            let mentions: Vec<i64> = if local_mentions.is_empty() {
                Vec::new()
            } else {
                users::table
                    .filter(users::username.eq_any(&local_mentions))
                    .filter(users::domain.is_null())
                    .select(users::id)
                    .load(c)?
            };
            let followed: i64 = crate::db::schema::follows::table
                .filter(crate::db::schema::follows::followee_id.eq(author_id))
                .count()
                .get_result(c)?;
            Ok((
                reply_to,
                community.is_some() || followed > 0 || !mentions.is_empty() || reply_to.is_some(),
                mentions,
                community,
            ))
        }
    };
    let (reply_to, wanted, mentions, community) = lookup(conn)?;
    if let (Some(local_id), true, None) = (reply_to, local_reply.is_some(), via_group) {
        // A reply to our content must answer something its author may see.
        let visible = crate::content::get_visible(conn, author_id, local_id).map(|r| r.visibility);
        match visible {
            Ok(v) if v != Visibility::Instance => {}
            _ => return Err(AppError::not_found()),
        }
    }
    if !wanted && !context {
        return Ok(None);
    }
    // Documents travel only inside a community: announced by it (the file
    // stays on its instance), or uploaded by a member of one of ours (the
    // file is on the member's instance; the caller keeps a copy of it).
    let file_host = match (via_group, community) {
        (Some(gid), Some(_)) => users::table.find(gid).select(users::domain).first(conn)?,
        (None, Some(_)) => host_of(actor_ap),
        _ => None,
    };
    let document = match (file_host, note.document()) {
        (Some(h), Some(a)) if reply_url.is_none() => super::document::version(cfg, a, &h),
        _ => None,
    };
    Ok(Some(Incoming {
        ap_id: id,
        author_id,
        reply_to,
        visibility,
        body,
        body_html,
        tags,
        mentions,
        published,
        activity_id: None,
        news: false,
        community_id: community,
        media: remote_media(&note.attachment),
        document,
        // Only the community's host says which of its posts are pinned
        // (what it announces, or lists in its outbox).
        pinned: via_group.is_some() && community.is_some() && note.stickied == Some(true),
        must_read: via_group.is_some() && community.is_some() && note.must_read == Some(true),
        poll: poll_of(note)?,
        survey,
        idea: idea.filter(|_| community.is_some()),
        question,
        event,
    }))
}

/// The event an `Event` is, bounded: a title, a start, and what else its
/// server publishes (Mobilizon's end, zone, place, online link, capacity
/// and count; Ruche's maybe and waiting counts). An event without a title
/// or a start is read as a plain post.
fn event_of(note: &Note) -> Option<crate::content::event::Remote> {
    use crate::federation::protocol::note::NoteKind;
    if note.kind != NoteKind::Event {
        return None;
    }
    let title = note.name.as_deref().filter(|t| t.len() <= 4000)?;
    let starts_at = note.start_time?.naive_utc();
    let place = note.place();
    crate::content::event::Remote::read(
        title,
        starts_at,
        note.end_time.map(|t| t.naive_utc()),
        note.timezone.as_deref(),
        &place.chars().take(4000).collect::<String>(),
        note.online_link(),
        note.maximum_attendee_capacity,
        (note.participant_count, note.maybe_count, note.waiting_count),
        note.join_mode.is_some(),
    )
}

/// The survey or quiz a post asks (`ruche:survey`), titled by its `name`,
/// read by the rules of ours: at most [`crate::content::survey::MAX_QUESTIONS`]
/// questions, each checked as if asked here. A survey that breaks them is
/// refused, not cut: its respondents answer questions by position.
fn survey_of(note: &Note) -> AppResult<Option<crate::content::survey::Remote>> {
    use crate::content::survey::{NewQuestion, Remote, MAX_QUESTIONS};
    let Some(doc) = &note.survey else {
        return Ok(None);
    };
    let invalid = |e: AppError| {
        AppError::bad_request("activity_invalid")
            .with("field", "ruche:survey")
            .with("reason", e.code)
    };
    let title = note
        .name
        .as_deref()
        .and_then(crate::content::remote_title)
        .ok_or_else(|| AppError::bad_request("activity_invalid").with("field", "name"))?;
    if doc.questions.len() > MAX_QUESTIONS {
        return Err(too_many("ruche:survey", MAX_QUESTIONS));
    }
    // Responses name choices by position: a blank one would shift them.
    if doc
        .questions
        .iter()
        .any(|q| q.choices.iter().any(|c| c.name.trim().is_empty()))
    {
        return Err(AppError::bad_request("activity_invalid").with("field", "ruche:survey"));
    }
    let questions: Vec<NewQuestion> = doc
        .questions
        .iter()
        .map(|q| NewQuestion {
            kind: q.kind.clone(),
            prompt: q.name.clone(),
            choices: q.choices.iter().map(|c| c.name.clone()).collect(),
            correct: q
                .choices
                .iter()
                .enumerate()
                .filter(|(_, c)| c.correct)
                .map(|(i, _)| i)
                .collect(),
            explanation: q.explanation.clone(),
            optional: q.optional,
        })
        .collect();
    Remote::read(
        title,
        doc.quiz,
        doc.leaderboard,
        doc.anonymous,
        doc.end_time.map(|t| t.naive_utc()),
        doc.closed.map(|t| t.naive_utc()),
        &questions,
    )
    .map(Some)
    .map_err(invalid)
}

/// The question a post asks: a titled post with Ruche's question mark.
fn question_of(
    cfg: &crate::config::Config,
    note: &Note,
) -> Option<crate::content::question::Remote> {
    if note.question != Some(true) {
        return None;
    }
    let title = note.name.as_deref().filter(|t| t.len() <= 4000)?;
    let accepted = note.accepted_answer.as_ref().map(url::Url::as_str);
    let local = accepted.and_then(|a| Urls(cfg).local_post_id(a));
    crate::content::question::Remote::read(title, accepted, local)
}

/// A question's text without the title a server that knows no questions
/// is shown above it (a `Note` carries it as its first paragraph).
fn without_title(title: &str, html: String, text: String) -> (String, String) {
    let head = format!(
        "<p><strong>{}</strong></p>",
        crate::markdown::escape_text(title)
    );
    match html.strip_prefix(&head) {
        Some(rest) => {
            let rest = rest.trim_start().to_string();
            let plain = text
                .trim_start()
                .strip_prefix(title)
                .map(|t| t.trim_start().to_string())
                .unwrap_or(text);
            (rest, plain)
        }
        None => (html, text),
    }
}

/// The idea a post is: a titled post with Ruche's idea status.
fn idea_of(note: &Note) -> Option<crate::content::idea::Remote> {
    let status = note.idea_status.as_deref()?;
    let title = note.name.as_deref()?;
    if title.len() > 4000 {
        return None;
    }
    crate::content::idea::Remote::read(title, status, note.idea_reason.as_deref())
}

/// The poll a `Question` asks, bounded: at most
/// [`crate::content::poll::MAX_OPTIONS`] answers of at most 200 characters
/// (plain text), counts between 0 and a billion. A Question without
/// answers is read as a post.
fn poll_of(note: &Note) -> AppResult<Option<crate::content::poll::Remote>> {
    use crate::content::poll::{Remote, Results, MAX_OPTIONS};
    use crate::federation::protocol::note::Closed;
    if note.kind != crate::federation::protocol::note::NoteKind::Question {
        return Ok(None);
    }
    let multiple = note.one_of.is_empty() && !note.any_of.is_empty();
    let choices = if multiple { &note.any_of } else { &note.one_of };
    if choices.is_empty() {
        return Ok(None);
    }
    if choices.len() > MAX_OPTIONS {
        return Err(too_many("oneOf", MAX_OPTIONS));
    }
    let count = |n: Option<i64>| n.map(|v| v.clamp(0, 1_000_000_000));
    let mut options: Vec<(String, Option<i64>)> = Vec::with_capacity(choices.len());
    for c in choices {
        let name: String = c
            .name
            .as_deref()
            .unwrap_or("")
            .chars()
            .filter(|ch| !ch.is_control())
            .take(200)
            .collect();
        let name = name.trim().to_string();
        if name.is_empty()
            || options
                .iter()
                .any(|(n, _)| n.to_lowercase() == name.to_lowercase())
        {
            return Err(crate::federation::remote::invalid("oneOf"));
        }
        options.push((name, count(c.replies.as_ref().and_then(|r| r.total_items))));
    }
    let closed_at = match &note.closed {
        Some(Closed::At(t)) => Some(t.naive_utc()),
        Some(Closed::Flag(true)) => Some(note.end_time.map(|t| t.naive_utc()).unwrap_or_else(now)),
        _ => None,
    };
    Ok(Some(Remote {
        options,
        multiple,
        closes_at: note.end_time.map(|t| t.naive_utc()),
        closed_at,
        voters: count(note.voters_count),
        results: match note.results.as_deref() {
            Some("closed") => Results::Closed,
            _ => Results::Voted,
        },
        anonymous: note.anonymous == Some(true),
    }))
}

/// The pictures and files a note carries (a Ruche document aside), as far
/// as they can be shown: an `Image`, `Document`, `Video` or `Audio` with an
/// http(s) address. Their files are fetched when first shown.
fn remote_media(
    list: &[crate::federation::protocol::Attachment],
) -> Vec<crate::content::media::Remote> {
    list.iter()
        .filter(|a| a.document.is_none())
        .filter_map(|a| {
            let kind = a.kind.as_deref()?;
            if !matches!(kind, "Image" | "Document" | "Video" | "Audio") {
                return None;
            }
            let address = a.url.as_deref()?;
            let parsed = url::Url::parse(address).ok()?;
            if address.len() > 2000
                || !matches!(parsed.scheme(), "https" | "http")
                || parsed.host_str().is_none()
            {
                return None;
            }
            let media_type = match a.media_type.as_deref() {
                Some(t) if t.len() <= 100 => t.to_string(),
                _ if kind == "Image" => "image/jpeg".to_string(),
                _ => String::new(),
            };
            Some(crate::content::media::Remote {
                url: address.to_string(),
                media_type,
                name: a
                    .name
                    .as_deref()
                    .map(|n| n.chars().take(crate::content::media::MAX_ALT).collect())
                    .unwrap_or_default(),
                width: a.width.unwrap_or(0),
                height: a.height.unwrap_or(0),
            })
        })
        .take(crate::content::media::MAX_PER_ITEM)
        .collect()
}

/// When a note answers a remote post we do not have, fetches that post once
/// (one document and its author at most) and stores it as the thread's
/// start, so that the answer shows in context. Failures only leave the
/// answer without its parent.
pub async fn fetch_unknown_parent(state: &AppState, note: &Note) {
    let Some(parent) = note.in_reply_to.as_ref().map(|l| l.as_str().to_string()) else {
        return;
    };
    if Urls(&state.config).local_post_id(&parent).is_some() {
        return;
    }
    let p = parent.clone();
    if let Ok(Some(_)) = state
        .db
        .run(move |c| crate::content::remote::find_by_ap_id(c, &p))
        .await
    {
        return;
    }
    let result: AppResult<()> = async {
        let doc: Note =
            crate::federation::protocol::read(&state.fed.get(&parent).await?, "object")?;
        if !doc.kind.is_content() {
            return Ok(());
        }
        let author_url = doc
            .author()
            .ok_or_else(|| crate::federation::remote::invalid("attributedTo"))?
            .to_string();
        if host_of(&author_url) != host_of(&parent) {
            return Err(AppError::bad_request("origin_mismatch").with("field", "attributedTo"));
        }
        let author = crate::federation::remote::actor(state, &author_url, false)
            .await?
            .user;
        if let Some(inc) = read(state, &author, &author_url, &doc, true, None).await? {
            state
                .db
                .run(move |c| crate::content::remote::store(c, inc).map(|_| ()))
                .await?;
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        tracing::info!(parent = %parent, error = %e, "could not fetch the post a reply answers");
    }
}

/// Whether a note answers another.
pub fn is_reply(note: &Note) -> bool {
    note.in_reply_to.is_some()
}

// ----- Sending ------------------------------------------------------------

/// Who a post or comment mentions (actor id, `@name@host`) and its hashtags.
pub struct Links {
    pub mentions: Vec<(String, String)>,
    pub tags: Vec<String>,
    /// Its pictures and files.
    pub media: Vec<crate::content::media::Media>,
    /// The poll it asks, as published.
    pub poll: Option<crate::content::poll::Remote>,
    /// The survey or quiz it asks, as published.
    pub survey: Option<crate::content::survey::Remote>,
    /// The idea it is, as published.
    pub idea: Option<crate::content::idea::Remote>,
    /// The question it asks, as published.
    pub question: Option<crate::content::question::Remote>,
    /// The event it is, as published.
    pub event: Option<crate::content::event::Remote>,
    /// Whether its community marked it as a must-read.
    pub must_read: bool,
}

/// The mentions and hashtags of a content row.
pub fn links(
    conn: &mut crate::db::DbConn,
    cfg: &crate::config::Config,
    row: &crate::content::ContentRow,
) -> AppResult<Links> {
    use crate::db::schema::{content_tags, mentions};
    let mentioned: Vec<(String, Option<String>, Option<String>)> = mentions::table
        .inner_join(users::table.on(users::id.eq(mentions::user_id)))
        .filter(mentions::content_id.eq(row.id))
        .select((users::username, users::domain, users::ap_id))
        .load(conn)?;
    let urls = Urls(cfg);
    let here = host_of(cfg.base()).unwrap_or_default();
    let mentions = mentioned
        .into_iter()
        .map(|(name, domain, ap)| match (domain, ap) {
            (Some(_), Some(ap)) => (ap, format!("@{name}")),
            _ => (urls.person(&name), format!("@{name}@{here}")),
        })
        .collect();
    let tags = content_tags::table
        .filter(content_tags::content_id.eq(row.id))
        .select(content_tags::tag)
        .load(conn)?;
    let media = crate::content::media::stored_of(conn, row.id)?;
    let poll = if row.kind == "poll" {
        crate::content::poll::published(conn, row.id)?
    } else {
        None
    };
    let survey = if row.kind == "survey" {
        crate::content::survey::published(conn, row.id)?
    } else {
        None
    };
    let idea = if row.kind == "idea" {
        crate::content::idea::published(conn, row.id)?
    } else {
        None
    };
    let question = if row.kind == "question" {
        crate::content::question::published(conn, row.id, |r| address(cfg, r))?
    } else {
        None
    };
    let event = if row.kind == "event" {
        crate::content::event::published(conn, row.id)?
    } else {
        None
    };
    let must_read = crate::content::must_read::published(conn, row)?;
    Ok(Links {
        mentions,
        tags,
        media,
        poll,
        survey,
        idea,
        question,
        event,
        must_read,
    })
}

/// The address of a content row: the one its instance gave it, else ours.
pub fn address(cfg: &crate::config::Config, row: &crate::content::ContentRow) -> String {
    row.ap_id.clone().unwrap_or_else(|| Urls(cfg).post(row.id))
}

/// The pictures and files of a post as attachments: ours at their address
/// here (with its secret: see `content::media`), another instance's at
/// theirs.
fn media_attachments(
    cfg: &crate::config::Config,
    media: &[crate::content::media::Media],
) -> AppResult<Vec<crate::federation::protocol::note::PublishedAttachment>> {
    use crate::federation::protocol::note::{PublishedAttachment, PublishedMedia};
    media
        .iter()
        // A remote file given up on has no address left.
        .filter(|m| !m.storage_key.is_empty() || !m.remote_url.is_empty())
        .map(|m| {
            let address = if m.remote_url.is_empty() {
                format!("{}{}", cfg.base(), m.path(false))
            } else {
                m.remote_url.clone()
            };
            let image = m.is_image();
            Ok(PublishedAttachment::Media(PublishedMedia {
                kind: if image { "Image" } else { "Document" },
                media_type: m.content_type.clone(),
                url: url(&address)?,
                name: if image {
                    (!m.alt.is_empty()).then(|| m.alt.clone())
                } else {
                    Some(m.filename.clone())
                },
                width: (image && m.width > 0).then_some(m.width),
                height: (image && m.height > 0).then_some(m.height),
            }))
        })
        .collect()
}

/// Who a post or comment is sent to.
pub struct Addressing {
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// The community it belongs to: its Group's address and the document
    /// the post carries.
    pub community: Option<(
        String,
        Option<crate::federation::protocol::note::PublishedDocument>,
    )>,
}

fn time(t: chrono::NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A post or a comment as it is sent: the one place a content row becomes
/// a `Note` (or, for a community's post, a titled `Page` as Lemmy reads
/// them).
pub fn publish(
    cfg: &crate::config::Config,
    row: &crate::content::ContentRow,
    author: &str,
    in_reply_to: Option<String>,
    addressing: Addressing,
    links: &Links,
) -> AppResult<crate::federation::protocol::note::Published> {
    use crate::federation::protocol::note::{
        NoteKind, Published, PublishedAttachment, PublishedPlace, PublishedSource, PublishedTag,
    };
    let id = url(&address(cfg, row))?;
    let mut tag = Vec::with_capacity(links.mentions.len() + links.tags.len());
    for (href, name) in &links.mentions {
        tag.push(PublishedTag::Mention {
            href: url(href)?,
            name: name.clone(),
        });
    }
    for t in &links.tags {
        tag.push(PublishedTag::Hashtag {
            name: format!("#{t}"),
            href: url(&format!(
                "{}/tags/{}",
                cfg.base(),
                crate::markdown::encode_segment(t)
            ))?,
            endorsements: None,
        });
    }
    let (audience, attachment) = match addressing.community {
        Some((group, doc)) => (Some(url(&group)?), doc),
        None => (None, None),
    };
    // A post of a community is a titled Page, as Lemmy publishes and reads
    // them (a Note is a comment to Lemmy); comments stay Notes. A poll is
    // a Question wherever it is asked.
    let poll = links.poll.as_ref().filter(|_| row.root_id.is_none());
    // An event is an Event wherever it is planned (Mastodon shows its
    // title, its summary line and its link).
    let event = links.event.as_ref().filter(|_| row.root_id.is_none());
    let page = audience.is_some() && row.root_id.is_none() && poll.is_none() && event.is_none();
    // An idea is a Page titled by its own title, with where it stands; a
    // server that knows no ideas shows its title, text and link.
    let idea = links.idea.as_ref().filter(|_| page);
    // A question is titled wherever it is asked; a Note shows its title
    // above its text, for servers that read no `name` on a Note.
    let question = links.question.as_ref().filter(|_| row.root_id.is_none());
    // A survey is titled too; a server that knows no surveys shows its
    // title and its text, and its address (`url`) leads here to answer it.
    let survey = links.survey.as_ref().filter(|_| row.root_id.is_none());
    let title = question
        .map(|q| q.title.as_str())
        .or(survey.map(|s| s.survey.title.as_str()));
    let name = match (idea, title, event) {
        (Some(i), _, _) => Some(i.title.clone()),
        (_, Some(t), _) => Some(t.to_string()),
        (_, _, Some(e)) => Some(e.title.clone()),
        _ => page.then(|| {
            let file = attachment.as_ref().map(|a| a.name.as_str());
            crate::federation::json::page_title(&row.body, file)
        }),
    };
    let content = crate::federation::json::absolute_html(cfg, &row.body_html);
    let content = match title.filter(|_| !page) {
        Some(t) => format!(
            "<p><strong>{}</strong></p>{content}",
            crate::markdown::escape_text(t)
        ),
        None => content,
    };
    let list = |v: &[String]| v.iter().map(|s| url(s)).collect::<AppResult<Vec<_>>>();
    Ok(Published {
        url: id.clone(),
        id,
        kind: if poll.is_some() {
            NoteKind::Question
        } else if event.is_some() {
            NoteKind::Event
        } else if page {
            NoteKind::Page
        } else {
            NoteKind::Note
        },
        name,
        attributed_to: url(author)?,
        content,
        source: PublishedSource {
            content: row.body.clone(),
            media_type: "text/markdown",
        },
        published: time(row.created_at),
        updated: row.edited_at.map(time),
        to: list(&addressing.to)?,
        cc: list(&addressing.cc)?,
        in_reply_to: in_reply_to.as_deref().map(url).transpose()?,
        tag,
        sensitive: false,
        stickied: audience.as_ref().map(|_| row.pinned_at.is_some()),
        must_read: audience.as_ref().map(|_| links.must_read),
        survey: survey.map(survey_doc),
        audience,
        attachment: attachment
            .into_iter()
            .map(PublishedAttachment::Document)
            .chain(media_attachments(cfg, &links.media)?)
            .chain(event.and_then(online_link))
            .collect(),
        one_of: poll.filter(|p| !p.multiple).map(choices),
        any_of: poll.filter(|p| p.multiple).map(choices),
        end_time: poll
            .and_then(|p| p.closes_at)
            .or(event.map(|e| e.ends_at))
            .map(time),
        closed: poll.and_then(|p| p.closed_at).map(time),
        voters_count: poll.and_then(|p| p.voters),
        results: poll.map(|p| p.results.as_str()),
        anonymous: poll.map(|p| p.anonymous),
        idea_status: idea.map(|i| i.status.as_str()),
        idea_reason: idea.map(|i| i.reason.clone()).filter(|r| !r.is_empty()),
        question: question.map(|_| true),
        accepted_answer: question
            .and_then(|q| q.accepted.as_deref())
            .map(url)
            .transpose()?,
        summary: event.map(summary),
        start_time: event.map(|e| time(e.starts_at)),
        timezone: event.map(|e| e.time_zone.clone()),
        location: event
            .filter(|e| !e.place.is_empty())
            .map(|e| PublishedPlace {
                kind: "Place",
                name: e.place.clone(),
            }),
        maximum_attendee_capacity: event.and_then(|e| e.capacity),
        remaining_attendee_capacity: event.and_then(|e| e.capacity.map(|c| (c - e.going).max(0))),
        participant_count: event.map(|e| e.going),
        maybe_count: event.map(|e| e.maybe),
        waiting_count: event.map(|e| e.waiting),
    })
}

/// Takes a quiz's key out of a post's document while the quiz is open:
/// its right answers and explanations travel to the sites its respondents
/// answer from (signed deliveries and fetches of trusted sites, which
/// score and explain there), never to an unsigned fetch, which anyone
/// could make before answering.
pub fn without_quiz_key(doc: &mut serde_json::Value) {
    let Some(survey) = doc.get_mut("ruche:survey") else {
        return;
    };
    if survey.get("closed").is_some_and(|c| !c.is_null()) {
        return;
    }
    if let Some(questions) = survey.get_mut("questions").and_then(|q| q.as_array_mut()) {
        for q in questions {
            if let Some(q) = q.as_object_mut() {
                q.remove("explanation");
                if let Some(choices) = q.get_mut("choices").and_then(|c| c.as_array_mut()) {
                    for c in choices.iter_mut().filter_map(|c| c.as_object_mut()) {
                        c.remove("correct");
                    }
                }
            }
        }
    }
}

/// A survey as `ruche:survey` carries it.
fn survey_doc(s: &crate::content::survey::Remote) -> crate::federation::protocol::note::SurveyDoc {
    use crate::federation::protocol::note::{SurveyChoiceDoc, SurveyDoc, SurveyQuestionDoc};
    let at = |t: chrono::NaiveDateTime| t.and_utc().fixed_offset();
    SurveyDoc {
        quiz: s.survey.quiz,
        leaderboard: s.survey.leaderboard,
        anonymous: s.survey.anonymous,
        end_time: s.survey.closes_at.map(at),
        closed: s.closed_at.map(at),
        questions: s
            .survey
            .questions
            .iter()
            .map(|q| SurveyQuestionDoc {
                kind: q.kind.as_str().to_string(),
                name: q.prompt.clone(),
                optional: q.optional,
                choices: q
                    .choices
                    .iter()
                    .map(|(name, correct)| SurveyChoiceDoc {
                        name: name.clone(),
                        correct: *correct,
                    })
                    .collect(),
                explanation: q.explanation.clone(),
            })
            .collect(),
    }
}

/// An event's online address as an attachment (Mobilizon's `Link`).
fn online_link(
    event: &crate::content::event::Remote,
) -> Option<crate::federation::protocol::note::PublishedAttachment> {
    use crate::federation::protocol::note::{PublishedAttachment, PublishedLink};
    let href = url::Url::parse(&event.online_url).ok()?;
    Some(PublishedAttachment::Link(PublishedLink {
        kind: "Link",
        href,
        media_type: "text/html",
        name: "Website",
    }))
}

/// An event's date, time and place on one line, in the zone it was
/// planned in, for servers that show no dates (Mastodon shows this line
/// under the title).
fn summary(event: &crate::content::event::Remote) -> String {
    use chrono::TimeZone;
    let zone: chrono_tz::Tz = event.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let (start, end) = (
        zone.from_utc_datetime(&event.starts_at),
        zone.from_utc_datetime(&event.ends_at),
    );
    let end_fmt = if start.date_naive() == end.date_naive() {
        "%H:%M"
    } else {
        "%Y-%m-%d %H:%M"
    };
    let mut line = format!(
        "{} – {} ({})",
        start.format("%Y-%m-%d %H:%M"),
        end.format(end_fmt),
        zone.name()
    );
    if !event.place.is_empty() {
        line.push_str(" · ");
        line.push_str(&event.place);
    }
    if !event.online_url.is_empty() {
        line.push_str(" · ");
        line.push_str(&event.online_url);
    }
    // A summary is HTML.
    crate::markdown::escape_text(&line)
}

/// A poll's answers as a Question lists them, with their votes when they
/// may be seen.
fn choices(
    poll: &crate::content::poll::Remote,
) -> Vec<crate::federation::protocol::note::PublishedChoice> {
    use crate::federation::protocol::note::{PublishedChoice, PublishedReplies};
    poll.options
        .iter()
        .map(|(name, votes)| PublishedChoice {
            kind: "Note",
            name: name.clone(),
            replies: votes.map(|n| PublishedReplies {
                kind: "Collection",
                total_items: n,
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::poll_of;
    use crate::federation::protocol::tests::fixture;
    use crate::federation::protocol::{read, Note};

    fn question(name: &str) -> serde_json::Value {
        fixture(name)["object"].clone()
    }

    #[test]
    fn polls_are_read_within_bounds() {
        let n: Note = read(&question("mastodon_create_question.json"), "object").unwrap();
        let p = poll_of(&n).unwrap().unwrap();
        assert!(!p.multiple);
        assert_eq!(p.options[0], ("Morning".to_string(), Some(2)));
        assert_eq!(p.voters, Some(3));
        assert!(p.closed_at.is_none());
        let n: Note = read(&question("gotosocial_create_question.json"), "object").unwrap();
        let p = poll_of(&n).unwrap().unwrap();
        assert!(p.multiple);
        assert!(p.closed_at.is_some());

        // Refused: too many answers, two answers alike.
        let mut doc = question("mastodon_create_question.json");
        doc["oneOf"] = serde_json::Value::Array(
            (0..21)
                .map(|i| serde_json::json!({"type": "Note", "name": format!("a{i}")}))
                .collect(),
        );
        let n: Note = read(&doc, "object").unwrap();
        assert_eq!(poll_of(&n).unwrap_err().code, "too_many");
        doc["oneOf"] =
            serde_json::json!([{"type": "Note", "name": "Yes"}, {"type": "Note", "name": "YES"}]);
        let n: Note = read(&doc, "object").unwrap();
        assert_eq!(poll_of(&n).unwrap_err().code, "activity_invalid");
        // Bounded: names cut, control characters dropped, counts clamped.
        doc["oneOf"] = serde_json::json!([
            {"type": "Note", "name": format!("{}\u{7}", "x".repeat(300)), "replies": {"totalItems": -5}},
            {"type": "Note", "name": "b", "replies": {"totalItems": 99_999_999_999i64}}
        ]);
        let n: Note = read(&doc, "object").unwrap();
        let p = poll_of(&n).unwrap().unwrap();
        assert_eq!(p.options[0].0.chars().count(), 200);
        assert_eq!(p.options[0].1, Some(0));
        assert_eq!(p.options[1].1, Some(1_000_000_000));
        // A Question without answers is a post.
        doc["oneOf"] = serde_json::json!([]);
        let n: Note = read(&doc, "object").unwrap();
        assert!(poll_of(&n).unwrap().is_none());
    }
}
