//! `Create` and `Update` of a person's post or comment, `Update` of a
//! profile, and what a community of another instance updates: its own
//! profile, or the pin of one of its posts.

use super::Received;
use crate::error::{AppError, AppResult};
use crate::federation::objects;
use crate::federation::protocol::{Actor, Note, Verb};
use crate::federation::remote;
use crate::urls::host_of;

/// What the first database task did with a note.
enum Read {
    /// Stored; whether the activity id was recorded with it.
    Stored(bool),
    /// Read, and left to the caller (or `None`: nobody here asked for it).
    Pending(Option<Box<crate::content::remote::Incoming>>),
}

/// A post or a comment, new or edited. Returns whether the activity id
/// was recorded with the stored content (a new post), in the same
/// transaction.
pub async fn note(r: &Received<'_>) -> AppResult<bool> {
    let (state, actor, actor_ap) = (r.state, r.actor, r.actor_ap);
    let note: Note = r.activity.object.read("object")?;
    let create = r.activity.kind == Verb::Create;
    if create && note.answers.is_some() {
        // A response to a survey: ours are counted, others' ignored.
        return respond(r, &note).await;
    }
    if create {
        if let Some(poll) = vote_in(r, &note)? {
            return vote(r, &note, poll).await;
        }
    }
    if note.kind == crate::federation::protocol::note::NoteKind::Answer {
        // A vote in a poll that is not ours: nothing to do here.
        return Ok(false);
    }
    // The common case in one database task: read, and store what is new,
    // with the activity's id, when nothing else must happen in between (a
    // file to copy, a thread's start to fetch, an edit).
    let outcome = {
        let (cfg, who, ap, doc) = (
            state.config.clone(),
            actor.clone(),
            actor_ap.to_string(),
            note.clone(),
        );
        let activity_id = r.activity.id.to_string();
        state
            .db
            .run(move |c| {
                let inc = objects::note::resolve(c, &cfg, &who, &ap, &doc, false, None)?;
                match inc {
                    Some(mut inc)
                        if create
                            && inc.document.is_none()
                            && (inc.reply_to.is_some() || !objects::note::is_reply(&doc)) =>
                    {
                        inc.activity_id = Some(activity_id);
                        inc.news = true;
                        Ok(Read::Stored(crate::content::remote::store(c, inc)?.1))
                    }
                    other => Ok(Read::Pending(other.map(Box::new))),
                }
            })
            .await?
    };
    let mut inc = match outcome {
        Read::Stored(recorded) => return Ok(recorded),
        Read::Pending(inc) => inc.map(|b| *b),
    };
    // A wanted answer to a post we lack: fetch that post first.
    let orphan =
        inc.as_ref().is_some_and(|i| i.reply_to.is_none()) && objects::note::is_reply(&note);
    if create && orphan {
        objects::note::fetch_unknown_parent(state, &note).await;
        inc = objects::note::read(state, actor, actor_ap, &note, false, None).await?;
    }
    let Some(mut inc) = inc else { return Ok(false) };
    if !create {
        let author = actor.id;
        state
            .db
            .run(move |c| crate::content::remote::update(c, author, inc))
            .await?;
        return Ok(false);
    }
    inc.activity_id = Some(r.activity.id.to_string());
    inc.news = true;
    // A member's document for one of our communities: we keep the file.
    let copy = match inc.document.as_mut() {
        Some(v) => {
            // A new version of one of our documents: the same rule as for
            // a local member, before anything is fetched.
            if let Some(doc) = v.document {
                let who = actor.clone();
                let allowed = state
                    .db
                    .run(move |c| crate::documents::may_add_version(c, &who, doc))
                    .await?;
                if !allowed {
                    return Err(AppError::forbidden("document_not_editable"));
                }
            }
            crate::documents::keep_copy(&state.files(), v).await?;
            Some(v.clone())
        }
        None => None,
    };
    let stored = state
        .db
        .run(move |c| Ok(crate::content::remote::store(c, inc)?.1))
        .await;
    if let (Some(v), false) = (&copy, matches!(stored, Ok(true))) {
        crate::documents::discard_copy(state.storage.as_ref(), v);
    }
    stored
}

/// The poll of ours a note votes in, if it is a vote: a `Note` with a
/// name and no text, answering one of our posts (what Mastodon sends for
/// each answer chosen), or an `Answer` (Pleroma, Akkoma).
fn vote_in(r: &Received<'_>, note: &Note) -> AppResult<Option<i64>> {
    use crate::federation::protocol::note::NoteKind;
    let blank = note.content.as_deref().is_none_or(|c| c.trim().is_empty());
    let named_note = note.kind == NoteKind::Note && blank;
    if !(named_note || note.kind == NoteKind::Answer) || note.name.is_none() {
        return Ok(None);
    }
    let Some(target) = note.in_reply_to.as_ref() else {
        return Ok(None);
    };
    Ok(crate::urls::Urls(&r.state.config).local_post_id(target.as_str()))
}

/// Counts a vote of a person of another instance in a poll of ours (its
/// own note only, from its own instance).
async fn vote(r: &Received<'_>, note: &Note, poll: i64) -> AppResult<bool> {
    let id = note.id.to_string();
    if id.len() > 2000 || host_of(&id) != host_of(r.actor_ap) {
        return Err(AppError::bad_request("origin_mismatch").with("field", "object.id"));
    }
    if note.author().map(url::Url::as_str) != Some(r.actor_ap) {
        return Err(AppError::forbidden("not_author"));
    }
    let answer = note.name.clone().unwrap_or_default();
    if answer.len() > 1000 {
        return Err(AppError::bad_request("field_too_long").with("field", "name"));
    }
    let voter = r.actor.id;
    let domain = r.actor.domain.clone().unwrap_or_default();
    let cfg = r.state.config.clone();
    r.state
        .db
        .run(move |c| {
            let trust = crate::net::trust::verdict(c, &cfg, &domain)?.decision;
            let reader = crate::audience::Instance { domain, trust };
            crate::content::poll::vote_remote(c, voter, &reader, poll, &answer, &id)
        })
        .await?;
    Ok(false)
}

/// Stores a response of a person of another instance to a survey of ours
/// (its own note only, from its own instance). A response to a survey
/// that is not ours is nothing to do here.
async fn respond(r: &Received<'_>, note: &Note) -> AppResult<bool> {
    let Some(survey) = note
        .in_reply_to
        .as_ref()
        .and_then(|t| crate::urls::Urls(&r.state.config).local_post_id(t.as_str()))
    else {
        return Ok(false);
    };
    let id = note.id.to_string();
    if id.len() > 2000 || host_of(&id) != host_of(r.actor_ap) {
        return Err(AppError::bad_request("origin_mismatch").with("field", "object.id"));
    }
    if note.author().map(url::Url::as_str) != Some(r.actor_ap) {
        return Err(AppError::forbidden("not_author"));
    }
    let answers = note.answers.clone().unwrap_or_default();
    if answers.len() > crate::content::survey::MAX_QUESTIONS {
        return Err(AppError::bad_request("too_many").with("field", "ruche:answers"));
    }
    let who = r.actor.id;
    let domain = r.actor.domain.clone().unwrap_or_default();
    let cfg = r.state.config.clone();
    r.state
        .db
        .run(move |c| {
            let trust = crate::net::trust::verdict(c, &cfg, &domain)?.decision;
            let reader = crate::audience::Instance { domain, trust };
            crate::content::survey::respond_remote(c, who, &reader, survey, &answers, &id)
        })
        .await?;
    Ok(false)
}

/// An actor's profile, edited (`Update` of a Person, Service,
/// Application or Organization: its own only). A `Create` of anything but
/// a post is nothing to do.
pub async fn actor(r: &Received<'_>) -> AppResult<()> {
    let kind = r.activity.object.kind();
    let profile = matches!(
        kind.as_str(),
        "Person" | "Service" | "Application" | "Organization"
    );
    if r.activity.kind != Verb::Update || !profile {
        return Ok(());
    }
    if !r.about_itself() {
        return Err(AppError::forbidden("not_author"));
    }
    let host = host_of(r.actor_ap).unwrap_or_default();
    let doc: Actor = r.activity.object.read("object")?;
    // A nameless actor keeps the name it is known by here.
    let known = r.actor.username.split('@').next();
    let parsed = objects::person::read(&doc, &host, known)?;
    let icon = parsed.icon.clone();
    let user = r
        .state
        .db
        .run(move |c| remote::upsert_actor(c, &parsed))
        .await?;
    remote::refresh_photo(r.state, user.id, &icon).await;
    Ok(())
}

/// A community of another instance updates its profile (`Update` of its
/// `Group`), or pins or unpins one of its posts (`Update` of the post with
/// Lemmy's `stickied`), marks one as a must-read (`ruche:mustRead`),
/// moves one of its ideas (`ruche:ideaStatus`) or
/// accepts an answer of one of its questions (`ruche:acceptedAnswer`).
/// Anything else it creates or updates comes through its `Announce`.
pub async fn community(r: &Received<'_>) -> AppResult<()> {
    let object = &r.activity.object;
    if r.activity.kind != Verb::Update {
        return Ok(());
    }
    if object.kind() == "Group" {
        if !r.about_itself() {
            return Err(AppError::forbidden("not_author"));
        }
        let host = host_of(r.actor_ap).unwrap_or_default();
        let doc: Actor = object.read("object")?;
        let parsed = objects::person::read(&doc, &host, None)?;
        let icon = parsed.icon.clone();
        let gid = r
            .state
            .db
            .run(move |c| remote::upsert_actor(c, &parsed).map(|u| u.id))
            .await?;
        remote::refresh_photo(r.state, gid, &icon).await;
        return Ok(());
    }
    let pinned: Pinned = object.read("object")?;
    let target = r.object_id()?.to_string();
    let local = crate::urls::Urls(&r.state.config).local_post_id(&target);
    let gid = r.actor.id;
    if let (Some(status), Some(title)) = (&pinned.idea_status, &pinned.name) {
        // One of its ideas moved.
        if let Some(idea) =
            crate::content::idea::Remote::read(title, status, pinned.idea_reason.as_deref())
        {
            let (target, local) = (target.clone(), local);
            r.state
                .db
                .run(move |c| {
                    crate::content::idea::moved_in_community(c, gid, local, &target, &idea)
                })
                .await?;
        }
    }
    if let (Some(true), Some(title)) = (pinned.question, &pinned.name) {
        // A moderator accepted an answer of one of its questions.
        let accepted = pinned.accepted_answer.as_deref();
        let answer_local =
            accepted.and_then(|a| crate::urls::Urls(&r.state.config).local_post_id(a));
        if let Some(q) = crate::content::question::Remote::read(title, accepted, answer_local) {
            let target = target.clone();
            r.state
                .db
                .run(move |c| {
                    crate::content::question::accepted_in_community(c, gid, local, &target, &q)
                })
                .await?;
        }
    }
    if let Some(on) = pinned.must_read {
        // It marked one of its posts as a must-read, or lifted the mark.
        let target = target.clone();
        r.state
            .db
            .run(move |c| {
                crate::content::must_read::marked_in_community(c, gid, local, &target, on)
            })
            .await?;
    }
    let Some(stickied) = pinned.stickied else {
        return Ok(());
    };
    r.state
        .db
        .run(move |c| crate::content::remote::pin_in_community(c, gid, local, &target, stickied))
        .await
}

/// A post's pin as a community's Update gives it (Lemmy's `stickied`).
#[derive(serde::Deserialize)]
struct Pinned {
    #[serde(default, deserialize_with = "crate::federation::protocol::lenient")]
    stickied: Option<bool>,
    /// A must-read of its members (`content::must_read`).
    #[serde(
        rename = "ruche:mustRead",
        default,
        deserialize_with = "crate::federation::protocol::lenient"
    )]
    must_read: Option<bool>,
    /// An idea's title and where it stands (`content::idea`).
    #[serde(default, deserialize_with = "crate::federation::protocol::lenient")]
    name: Option<String>,
    #[serde(
        rename = "ruche:ideaStatus",
        default,
        deserialize_with = "crate::federation::protocol::lenient"
    )]
    idea_status: Option<String>,
    #[serde(
        rename = "ruche:ideaReason",
        default,
        deserialize_with = "crate::federation::protocol::lenient"
    )]
    idea_reason: Option<String>,
    /// A question and the answer accepted (`content::question`).
    #[serde(
        rename = "ruche:question",
        default,
        deserialize_with = "crate::federation::protocol::lenient"
    )]
    question: Option<bool>,
    #[serde(
        rename = "ruche:acceptedAnswer",
        default,
        deserialize_with = "crate::federation::protocol::lenient"
    )]
    accepted_answer: Option<String>,
}
