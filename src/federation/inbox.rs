//! The inbox: verify (signature, digest, date, trust, origin), deduplicate,
//! then translate each activity into a feature call. Invalid input gets a
//! 4xx (the sender should not retry); a failure that may pass gets a 5xx.

use axum::http::{HeaderMap, Method};
use diesel::prelude::*;
use serde_json::Value;

use super::remote::{self, id_of, invalid, list, MAX_CONTENT, MAX_RECIPIENTS, MAX_TAGS};
use super::AS_PUBLIC;
use crate::accounts::User;
use crate::app::AppState;
use crate::audience::Visibility;
use crate::content::remote::Incoming;
use crate::db;
use crate::db::now;
use crate::db::schema::{inbox_seen, users};
use crate::error::{AppError, AppResult};
use crate::urls::{host_of, Urls};

/// Largest activity accepted.
pub const MAX_BODY: usize = 256 * 1024;

/// Largest sanitised HTML stored for one remote post or comment.
pub const MAX_STORED_HTML: usize = 2 * MAX_CONTENT;

/// Verifies a signed request and returns the signing remote actor (with its
/// actor id). On a failed check with a cached key, the key is fetched again
/// once.
pub async fn verify(
    state: &AppState,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: Option<&[u8]>,
) -> AppResult<(User, String)> {
    let signed = crate::net::signature::parse_request(
        method,
        state.config.scheme(),
        path,
        headers,
        body,
        state.config.federation.max_clock_skew_seconds as i64,
    )?;
    let host =
        host_of(&signed.key_id).ok_or_else(|| AppError::unauthorized("signature_malformed"))?;
    state.fed.gate(&host).await?;
    // Keys rotate: when the cached key does not verify, the actor is
    // fetched again and the check made once more.
    for refresh in [false, true] {
        let known = remote::actor(state, &signed.key_id, refresh).await?;
        let verified = crate::net::keys::verify_blocking(
            known.pem.clone(),
            signed.algorithm,
            signed.signing_string.clone(),
            signed.signature.clone(),
        )
        .await;
        if verified {
            if signed.rfc9421 {
                // It signs with RFC 9421, so it reads it: sign to it that way.
                let rfc9421 = crate::net::schemes::Scheme::Rfc9421;
                crate::net::schemes::learned(&state.db, &host, rfc9421).await;
            }
            return Ok((known.user, known.ap_id));
        }
    }
    Err(AppError::unauthorized("signature_invalid"))
}

/// Handles one POST to an inbox.
pub async fn receive(
    state: &AppState,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> AppResult<()> {
    if body.len() > MAX_BODY {
        return Err(AppError::new(
            crate::error::ErrorKind::PayloadTooLarge,
            "activity_too_large",
        )
        .with("max", MAX_BODY));
    }
    let (signer, signer_ap) = verify(state, &Method::POST, path, headers, Some(body)).await?;
    let activity: Value =
        serde_json::from_slice(body).map_err(|_| AppError::bad_request("activity_not_json"))?;
    let id = activity
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("id"))?
        .to_string();
    let kind = activity
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("type"))?
        .to_string();
    let actor_url = activity
        .get("actor")
        .and_then(id_of)
        .ok_or_else(|| invalid("actor"))?
        .to_string();
    if actor_url != signer_ap {
        return Err(AppError::unauthorized("signature_actor_mismatch"));
    }
    if id.len() > 2000 || host_of(&id) != host_of(&actor_url) {
        return Err(AppError::bad_request("origin_mismatch").with("field", "id"));
    }
    let seen_id = id.clone();
    let seen: i64 = state
        .db
        .run(move |c| {
            inbox_seen::table
                .find(&seen_id)
                .count()
                .get_result(c)
                .map_err(AppError::from)
        })
        .await?;
    if seen > 0 {
        let seen_id = id.clone();
        state
            .db
            .run(move |c| {
                db::write(c, |c| {
                    diesel::update(inbox_seen::table.find(&seen_id))
                        .set(inbox_seen::repeats.eq(inbox_seen::repeats + 1))
                        .execute(c)
                })?;
                Ok(())
            })
            .await?;
        return Ok(());
    }
    let object_type = activity
        .get("object")
        .and_then(|o| o.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("");
    // A community's own Update of a note (a pin) is the community's business.
    let recorded = if signer.is_person()
        && matches!(kind.as_str(), "Create" | "Update")
        && matches!(object_type, "Note" | "Article" | "Page" | "Question")
    {
        apply_note(state, &signer, &signer_ap, &id, &kind, &activity["object"]).await?
    } else {
        apply(state, &signer, &signer_ap, &kind, &activity).await?;
        false
    };
    if recorded {
        state.wake.notify_one();
        return Ok(());
    }
    // Record the id (a stored Create did so in its own transaction).
    let seen_id = id.clone();
    state
        .db
        .run(move |c| {
            db::write(c, |c| {
                let n: i64 = inbox_seen::table.find(&seen_id).count().get_result(c)?;
                if n == 0 {
                    diesel::insert_into(inbox_seen::table)
                        .values((
                            inbox_seen::activity_id.eq(&seen_id),
                            inbox_seen::received_at.eq(now()),
                        ))
                        .execute(c)?;
                }
                Ok::<_, AppError>(())
            })
        })
        .await?;
    state.wake.notify_one();
    Ok(())
}

/// The local person an actor URL of ours names.
async fn local_person(state: &AppState, url: &str) -> AppResult<User> {
    let name = Urls(&state.config)
        .local_username(url)
        .ok_or_else(AppError::not_found)?;
    let u = state
        .db
        .run(move |c| crate::accounts::find_by_username(c, &name))
        .await?;
    if !u.is_local() || u.disabled {
        return Err(AppError::not_found());
    }
    Ok(u)
}

async fn apply(
    state: &AppState,
    actor: &User,
    actor_ap: &str,
    kind: &str,
    activity: &Value,
) -> AppResult<()> {
    if super::group_inbox::apply(state, actor, actor_ap, kind, activity).await? {
        return Ok(());
    }
    let object = activity.get("object").ok_or_else(|| invalid("object"))?;
    match kind {
        "Follow" => {
            let target = id_of(object).ok_or_else(|| invalid("object"))?;
            let followee = local_person(state, target).await?;
            let follow_id = activity["id"].as_str().unwrap_or_default().to_string();
            let follower = actor.id;
            state
                .db
                .run(move |c| {
                    crate::follows::follow_from_remote(c, follower, &followee, &follow_id)
                })
                .await
        }
        "Accept" | "Reject" => {
            // The object is our Follow: its actor is the local follower.
            let follower_url = object
                .get("actor")
                .and_then(id_of)
                .ok_or_else(|| invalid("object.actor"))?;
            if let Some(o) = object.get("object").and_then(id_of) {
                if o != actor_ap {
                    return Err(AppError::forbidden("not_author"));
                }
            }
            let follower = local_person(state, follower_url).await?;
            let (fid, eid) = (follower.id, actor.id);
            let ok = kind == "Accept";
            state
                .db
                .run(move |c| crate::follows::answer_from_remote(c, fid, eid, ok))
                .await
        }
        "Undo" => {
            let inner = object.get("type").and_then(Value::as_str).unwrap_or("");
            if let Some(a) = object.get("actor").and_then(id_of) {
                if a != actor_ap {
                    return Err(AppError::forbidden("not_author"));
                }
            }
            match inner {
                "Follow" => {
                    let target = object
                        .get("object")
                        .and_then(id_of)
                        .ok_or_else(|| invalid("object.object"))?;
                    let followee = local_person(state, target).await?;
                    let (f, e) = (actor.id, followee.id);
                    state
                        .db
                        .run(move |c| crate::follows::unfollow_from_remote(c, f, e))
                        .await
                }
                "Like" | "EmojiReact" => react(state, actor, object, inner, false).await,
                _ => Ok(()),
            }
        }
        "Like" | "EmojiReact" => react(state, actor, activity, kind, true).await,
        "Create" | "Update" => {
            let otype = object.get("type").and_then(Value::as_str).unwrap_or("");
            match otype {
                "Person" | "Service" | "Application" | "Organization" if kind == "Update" => {
                    if id_of(object) != Some(actor_ap) {
                        return Err(AppError::forbidden("not_author"));
                    }
                    let host = host_of(actor_ap).unwrap_or_default();
                    let parsed = remote::parse_actor(object, &host)?;
                    let icon = parsed.icon.clone();
                    let user = state
                        .db
                        .run(move |c| remote::upsert_actor(c, &parsed))
                        .await?;
                    remote::refresh_photo(state, user.id, &icon).await;
                    Ok(())
                }
                _ => Ok(()),
            }
        }
        "Delete" => {
            let target = id_of(object).ok_or_else(|| invalid("object"))?.to_string();
            if target == actor_ap {
                let uid = actor.id;
                return state
                    .db
                    .run(move |c| {
                        crate::content::remote::delete_all_of(c, uid)?;
                        crate::accounts::remote::deleted(c, uid)
                    })
                    .await;
            }
            if host_of(&target) != host_of(actor_ap) {
                return Err(AppError::forbidden("not_author"));
            }
            let uid = actor.id;
            state
                .db
                .run(move |c| crate::content::remote::delete(c, uid, &target))
                .await
        }
        // Community redistribution arrives with communities; other types are
        // understood as nothing to do.
        _ => Ok(()),
    }
}

/// Create or Update of a note. Returns whether the activity id was recorded
/// with the stored content (a new Create), in the same transaction.
async fn apply_note(
    state: &AppState,
    actor: &User,
    actor_ap: &str,
    activity_id: &str,
    kind: &str,
    object: &Value,
) -> AppResult<bool> {
    let mut inc = read_note(state, actor, actor_ap, object, false, None).await?;
    // A wanted answer to a post we lack: fetch that post first.
    let orphan = inc.as_ref().is_some_and(|i| i.reply_to.is_none())
        && object.get("inReplyTo").and_then(id_of).is_some();
    if kind == "Create" && orphan {
        fetch_unknown_parent(state, object).await;
        inc = read_note(state, actor, actor_ap, object, false, None).await?;
    }
    let Some(mut inc) = inc else { return Ok(false) };
    if kind == "Create" {
        inc.activity_id = Some(activity_id.to_string());
        // A member's document for one of our communities: we keep the file.
        let copy = match inc.document.as_mut() {
            Some(v) => {
                // A new version of one of our documents: the same rule as
                // for a local member, before anything is fetched.
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
    } else {
        let author = actor.id;
        state
            .db
            .run(move |c| crate::content::remote::update(c, author, inc))
            .await?;
        Ok(false)
    }
}

/// What a Like or EmojiReact is about: (reaction kind, object address, our
/// post id when the object is ours). `None` for an emoji Ruche has no
/// reaction for (nothing to record).
pub(super) fn reaction_of(
    state: &AppState,
    act: &Value,
    kind: &str,
) -> AppResult<Option<(&'static str, String, Option<i64>)>> {
    let target = act
        .get("object")
        .and_then(id_of)
        .ok_or_else(|| invalid("object"))?
        .to_string();
    let reaction = if kind == "Like" {
        Some("like")
    } else {
        let emoji = act.get("content").and_then(Value::as_str).unwrap_or("");
        super::json::REACTION_EMOJI
            .iter()
            .find(|(_, e)| *e == emoji)
            .map(|(k, _)| *k)
    };
    let local = Urls(&state.config).local_post_id(&target);
    Ok(reaction.map(|r| (r, target, local)))
}

/// Like / EmojiReact (or their Undo) on content we know.
async fn react(state: &AppState, actor: &User, act: &Value, kind: &str, on: bool) -> AppResult<()> {
    let Some((reaction, target, local)) = reaction_of(state, act, kind)? else {
        return Ok(());
    };
    let uid = actor.id;
    state
        .db
        .run(move |c| {
            let row = match local {
                Some(id) => Some(id),
                None => crate::content::remote::find_by_ap_id(c, &target)?.map(|r| r.id),
            };
            let Some(id) = row else { return Ok(()) };
            // Content it may not see, including posts that never leave this
            // instance, is answered as unknown.
            let seen = crate::content::get_visible(c, uid, id)?;
            let root = seen.root_id.unwrap_or(seen.id);
            let root_visibility: Visibility = crate::db::schema::content::table
                .find(root)
                .select(crate::db::schema::content::visibility)
                .first(c)?;
            if root_visibility == Visibility::Instance {
                return Err(AppError::not_found());
            }
            crate::content::react(c, uid, id, reaction, on)
        })
        .await
}

/// When a note answers a remote post we do not have, fetches that post once
/// (one document and its author at most) and stores it as the thread's
/// start, so that the answer shows in context. Failures only leave the
/// answer without its parent.
async fn fetch_unknown_parent(state: &AppState, note: &Value) {
    let Some(parent) = note.get("inReplyTo").and_then(id_of).map(str::to_string) else {
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
        let doc = state.fed.get(&parent).await?;
        if !matches!(
            doc.get("type").and_then(Value::as_str),
            Some("Note" | "Article" | "Page" | "Question")
        ) {
            return Ok(());
        }
        let author_url = doc
            .get("attributedTo")
            .and_then(|a| match a {
                Value::Array(v) => v.first().and_then(id_of),
                other => id_of(other),
            })
            .ok_or_else(|| invalid("attributedTo"))?
            .to_string();
        if host_of(&author_url) != host_of(&parent) {
            return Err(AppError::bad_request("origin_mismatch").with("field", "attributedTo"));
        }
        let author = remote::actor(state, &author_url, false).await?.user;
        if let Some(inc) = read_note(state, &author, &author_url, &doc, true, None).await? {
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

/// Reads a Note into an [`Incoming`]. Returns `None` for content nobody
/// here asked for (no local follower of the author, no local mention, not
/// in a thread we know), unless it is fetched as `context` of such content.
///
/// Content of a community is wanted when it comes from a member to one of
/// our communities, or through the community that it belongs to
/// (`via_group`, an Announce or a back-fill); a remote community's content
/// sent any other way is not stored.
pub async fn read_note(
    state: &AppState,
    actor: &User,
    actor_ap: &str,
    note: &Value,
    context: bool,
    via_group: Option<i64>,
) -> AppResult<Option<Incoming>> {
    let id = note
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("object.id"))?
        .to_string();
    if id.len() > 2000 || host_of(&id) != host_of(actor_ap) {
        return Err(AppError::bad_request("origin_mismatch").with("field", "object.id"));
    }
    let author = note.get("attributedTo").and_then(|a| match a {
        Value::Array(v) => v.first().and_then(id_of),
        other => id_of(other),
    });
    if author != Some(actor_ap) {
        return Err(AppError::forbidden("not_author"));
    }
    let html = match note.get("content") {
        Some(Value::String(s)) if s.len() <= MAX_CONTENT => s.clone(),
        Some(Value::String(_)) => {
            return Err(AppError::bad_request("field_too_long").with("field", "content"))
        }
        _ => String::new(),
    };
    let name = match note.get("name") {
        Some(Value::String(s)) if s.len() <= 1000 => s.clone(),
        _ => String::new(),
    };
    // A titled object (Lemmy's Page, an Article) keeps its title above the
    // text, unless it is the title Ruche derives from the text (a Ruche post).
    let titled = matches!(
        note.get("type").and_then(Value::as_str),
        Some("Page" | "Article")
    ) && !name.trim().is_empty()
        && !html.is_empty()
        && !super::json::derived_title(
            &name,
            &html,
            note.get("source")
                .and_then(|s| s.get("content"))
                .and_then(Value::as_str),
        );
    let html = if titled {
        format!(
            "<p><strong>{}</strong></p>{html}",
            ammonia::clean_text(name.trim())
        )
    } else {
        html
    };
    let body_html = crate::markdown::sanitize(if name.is_empty() || !html.is_empty() {
        &html
    } else {
        &name
    });
    // Sanitising can make HTML longer (entities, link attributes): what is
    // stored is bounded too, not only what was received.
    if body_html.len() > MAX_STORED_HTML {
        return Err(AppError::bad_request("field_too_long")
            .with("field", "content")
            .with("max", MAX_STORED_HTML));
    }
    let body = if titled {
        // Title and text as two paragraphs of the plain text, not run together.
        let text = crate::markdown::sanitize(&match note.get("content") {
            Some(Value::String(s)) => s.clone(),
            _ => String::new(),
        });
        let both = format!("<p>{}</p>\n\n{text}", ammonia::clean_text(name.trim()));
        ammonia::Builder::empty().clean(&both).to_string()
    } else {
        ammonia::Builder::empty().clean(&body_html).to_string()
    };
    let to = list(note, "to", MAX_RECIPIENTS, "to")?;
    let cc = list(note, "cc", MAX_RECIPIENTS, "cc")?;
    list(note, "attachment", remote::MAX_ATTACHMENTS, "attachment")?;
    let recipients: Vec<&str> = to.iter().chain(cc.iter()).filter_map(id_of).collect();
    let visibility = if recipients
        .iter()
        .any(|r| *r == AS_PUBLIC || *r == "as:Public" || *r == "Public")
    {
        Visibility::Public
    } else if recipients
        .iter()
        .any(|r| r.ends_with("/followers") && host_of(r).as_deref() == host_of(actor_ap).as_deref())
    {
        Visibility::Followers
    } else {
        Visibility::Direct
    };
    let urls = Urls(&state.config);
    let mut tags = Vec::new();
    let mut mention_urls = Vec::new();
    for t in list(note, "tag", MAX_TAGS, "tag")? {
        match t.get("type").and_then(Value::as_str) {
            Some("Hashtag") => {
                if let Some(n) = t.get("name").and_then(Value::as_str) {
                    let n = n.trim_start_matches('#');
                    if !n.is_empty() && n.chars().count() <= 64 {
                        tags.push(crate::markdown::normalize_tag(n));
                    }
                }
            }
            Some("Mention") => {
                if let Some(h) = t.get("href").and_then(Value::as_str) {
                    mention_urls.push(h.to_string());
                }
            }
            _ => {}
        }
    }
    // People here addressed by name see the content as if mentioned (a
    // reply addressed to its post's author, without a Mention tag).
    let mut local_mentions: Vec<String> = mention_urls
        .iter()
        .map(String::as_str)
        .chain(recipients.iter().copied())
        .filter_map(|u| urls.local_username(u))
        .collect();
    local_mentions.sort();
    local_mentions.dedup();
    let reply_url = note.get("inReplyTo").and_then(id_of).map(str::to_string);
    let published = note
        .get("published")
        .and_then(Value::as_str)
        .and_then(|p| chrono::DateTime::parse_from_rfc3339(p).ok())
        .map(|d| d.naive_utc())
        .unwrap_or_else(now);
    let local_reply = reply_url.as_deref().and_then(|u| urls.local_post_id(u));
    let remote_reply = reply_url.clone().filter(|_| local_reply.is_none());
    let author_id = actor.id;
    let cfg = state.config.clone();
    let doc = note.clone();
    let (reply_to, wanted, mentions, community) = state
        .db
        .run(move |c| {
            let community = match (
                super::groups::addressed_community(c, &cfg, &doc)?,
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
        })
        .await?;
    if let (Some(local_id), true, None) = (reply_to, local_reply.is_some(), via_group) {
        // A reply to our content must answer something its author may see.
        let visible = state
            .db
            .run(move |c| crate::content::get_visible(c, author_id, local_id).map(|r| r.visibility))
            .await;
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
        (Some(gid), Some(_)) => {
            state
                .db
                .run(move |c| {
                    users::table
                        .find(gid)
                        .select(users::domain)
                        .first(c)
                        .map_err(AppError::from)
                })
                .await?
        }
        (None, Some(_)) => host_of(actor_ap),
        _ => None,
    };
    let document = match file_host {
        Some(h) if reply_url.is_none() => {
            crate::documents::parse_attachment(&state.config, note, &h)
        }
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
        community_id: community,
        document,
    }))
}
