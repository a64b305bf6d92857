//! The inbox: verify (signature, digest, date, trust, origin), read the
//! activity into its protocol struct, deduplicate, then hand it to the file
//! of its verb, which checks it and calls the feature. Invalid input gets a
//! 4xx (the sender should not retry); a failure that may pass gets a 5xx.
//!
//! Where is an incoming X handled? A file per verb: [`follow`] (Follow of a
//! person or of one of our communities, and its Undo), [`accept`] (Accept
//! and Reject of a follow or of a join), [`create`] (Create and Update of a
//! post, a comment, a profile, a community's profile or pin), [`delete`],
//! [`like`] (Like, EmojiReact, and their Undo), [`undo`], [`announce`] (what
//! a community of another instance redistributes), [`invite`], [`add`]
//! (Add and Remove to a community's collections), [`rsvp`] (answers to our
//! events: Accept, TentativeAccept, Reject, Join, Leave, and their Undo),
//! [`read`] (a must-read of one of our communities confirmed), and
//! [`moderation`]: what
//! a moderator living elsewhere does in one of our communities (its Add,
//! Remove, Block, Accept, Invite, Update or Delete).

pub mod accept;
pub mod add;
pub mod announce;
pub mod create;
pub mod delete;
pub mod follow;
pub mod invite;
pub mod like;
pub mod moderation;
pub mod read;
pub mod rsvp;
pub mod undo;

use axum::http::{HeaderMap, Method};
use diesel::prelude::*;

use super::protocol::{Activity, Verb};
use super::remote;
use crate::accounts::User;
use crate::app::AppState;
use crate::db;
use crate::db::now;
use crate::db::schema::inbox_seen;
use crate::error::{AppError, AppResult};
use crate::net::signature::Signed;
use crate::urls::{host_of, Urls};

/// Largest activity accepted.
pub const MAX_BODY: usize = 256 * 1024;

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
    let (signed, host) = signature(state, method, path, headers, body)?;
    state.fed.gate(&host).await?;
    signed_by(state, &signed, &host, None).await
}

/// The form of a request's signature (no key read yet) and the host of its
/// key.
fn signature(
    state: &AppState,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: Option<&[u8]>,
) -> AppResult<(Signed, String)> {
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
    Ok((signed, host))
}

/// The actor whose key made `signed` (its instance already let through the
/// trust gate). `checked` is the actor as this instance keeps it, when the
/// caller read it already and found it fresh, with whether its key verified
/// the signature. Keys rotate: when the key does not verify, the actor is
/// fetched again and the check made once more.
async fn signed_by(
    state: &AppState,
    signed: &Signed,
    host: &str,
    mut checked: Option<(remote::Known, bool)>,
) -> AppResult<(User, String)> {
    for refresh in [false, true] {
        let known = match checked.take() {
            Some((k, true)) => return Ok(accepted(state, signed, host, k).await),
            // The stored key failed already: fetch the actor again.
            Some((_, false)) => continue,
            None => remote::actor(state, &signed.key_id, refresh).await?,
        };
        let verified = crate::net::keys::verify_blocking(
            known.pem.clone(),
            signed.algorithm,
            signed.signing_string.clone(),
            signed.signature.clone(),
        )
        .await;
        if verified {
            return Ok(accepted(state, signed, host, known).await);
        }
    }
    Err(AppError::unauthorized("signature_invalid"))
}

/// A signature verified by `known`'s key: what it teaches about its
/// instance, and the signer.
async fn accepted(
    state: &AppState,
    signed: &Signed,
    host: &str,
    known: remote::Known,
) -> (User, String) {
    if signed.rfc9421 {
        // It signs with RFC 9421, so it reads it: sign to it that way.
        let rfc9421 = crate::net::schemes::Scheme::Rfc9421;
        crate::net::schemes::learned(&state.db, host, rfc9421).await;
    }
    (known.user, known.ap_id)
}

/// An activity received from a verified actor.
pub struct Received<'a> {
    pub state: &'a AppState,
    /// The signer, stored as a remote account.
    pub actor: &'a User,
    /// The signer's actor id.
    pub actor_ap: &'a str,
    pub activity: &'a Activity,
}

impl Received<'_> {
    /// The id of the activity's object (refused when it has none).
    pub fn object_id(&self) -> AppResult<url::Url> {
        self.activity
            .object
            .id()
            .ok_or_else(|| remote::invalid("object"))
    }

    /// Whether the activity's object is its actor itself.
    pub fn about_itself(&self) -> bool {
        self.activity.object.id().as_ref().map(url::Url::as_str) == Some(self.actor_ap)
    }
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
    let (signed, host) = signature(state, &Method::POST, path, headers, Some(body))?;
    let activity: Activity = serde_json::from_slice(body).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => {
            tracing::debug!(error = %e, "an activity does not fit");
            remote::invalid("activity")
        }
        _ => AppError::bad_request("activity_not_json"),
    })?;
    let id = activity.id.to_string();
    // One blocking task reads the trust decision, the signer as stored and
    // whether the activity was received before, and checks the signature
    // with the stored key when it is fresh (each hop between the async
    // workers and the blocking threads costs more than the check).
    let seen_id = id.clone();
    let cfg = state.config.clone();
    let (key_id, algorithm) = (signed.key_id.clone(), signed.algorithm);
    let (base, signature) = (signed.signing_string.clone(), signed.signature.clone());
    let (_, (checked, seen)) = state
        .fed
        .gate_with(&host, move |c| {
            let checked = remote::find_actor(c, &key_id)?
                .filter(|k| remote::fresh_for(&cfg, k))
                .map(|k| {
                    let ok = crate::net::keys::verify_with(
                        &k.pem,
                        algorithm,
                        base.as_bytes(),
                        &signature,
                    );
                    (k, ok)
                });
            let seen: i64 = inbox_seen::table.find(&seen_id).count().get_result(c)?;
            Ok((checked, seen > 0))
        })
        .await?;
    let (signer, signer_ap) = signed_by(state, &signed, &host, checked).await?;
    if activity.actor.as_str() != signer_ap {
        return Err(AppError::unauthorized("signature_actor_mismatch"));
    }
    if id.len() > 2000 || host_of(&id) != host_of(&signer_ap) {
        return Err(AppError::bad_request("origin_mismatch").with("field", "id"));
    }
    if seen {
        // A repeat, now that it is known to come from its signer: counted,
        // and acknowledged without doing anything again.
        return count_repeat(state, id).await;
    }
    let recorded = dispatch(Received {
        state,
        actor: &signer,
        actor_ap: &signer_ap,
        activity: &activity,
    })
    .await?;
    if !recorded {
        record_seen(state, id).await?;
    }
    // What it recorded for delivery wakes the worker (`web::wake_worker`).
    Ok(())
}

/// Counts one more receipt of an activity already handled.
async fn count_repeat(state: &AppState, id: String) -> AppResult<()> {
    state
        .db
        .run(move |c| {
            db::write(c, |c| {
                diesel::update(inbox_seen::table.find(&id))
                    .set(inbox_seen::repeats.eq(inbox_seen::repeats + 1))
                    .execute(c)
            })?;
            Ok(())
        })
        .await
}

/// Records the id of a handled activity (a stored Create did so in its own
/// transaction).
async fn record_seen(state: &AppState, id: String) -> AppResult<()> {
    state
        .db
        .run(move |c| {
            db::write(c, |c| {
                let n: i64 = inbox_seen::table.find(&id).count().get_result(c)?;
                if n == 0 {
                    diesel::insert_into(inbox_seen::table)
                        .values((
                            inbox_seen::activity_id.eq(&id),
                            inbox_seen::received_at.eq(now()),
                        ))
                        .execute(c)?;
                }
                Ok::<_, AppError>(())
            })
        })
        .await
}

/// Hands the activity to the file of its verb. Returns whether the
/// activity id was recorded with what it stored.
async fn dispatch(r: Received<'_>) -> AppResult<bool> {
    let kind = r.activity.kind;
    let object = &r.activity.object;
    if !object.is_present() {
        return Err(remote::invalid("object"));
    }
    // Who may do what depends on who acts: a person (here, on another
    // instance: a member, a moderator), or a community of another instance.
    if r.actor.is_person() {
        if matches!(kind, Verb::Create | Verb::Update)
            && matches!(
                object.kind().as_str(),
                "Note" | "Article" | "Page" | "Question" | "Answer" | "Event"
            )
        {
            return create::note(&r).await;
        }
        // An answer to one of our events.
        if rsvp::apply(&r).await? {
            return Ok(false);
        }
        // A moderator living elsewhere acting in one of our communities.
        if moderation::apply(&r).await? {
            return Ok(false);
        }
        match kind {
            Verb::Follow => follow::receive(&r).await?,
            Verb::Accept | Verb::Reject => accept::receive(&r).await?,
            Verb::Undo => undo::receive(&r).await?,
            Verb::Like | Verb::EmojiReact => like::receive(&r).await?,
            Verb::Create | Verb::Update => create::actor(&r).await?,
            Verb::Delete => delete::receive(&r).await?,
            Verb::Read => read::receive(&r).await?,
            // A person may boost a link (Mastodon); redistributing a whole
            // activity is a community's act, which a person cannot claim.
            Verb::Announce
                if matches!(
                    object.kind().as_str(),
                    "Create" | "Update" | "Delete" | "Like" | "EmojiReact" | "Undo"
                ) =>
            {
                return Err(AppError::forbidden("announce_not_community"));
            }
            // Other verbs are understood as nothing to do.
            _ => {}
        }
        return Ok(false);
    }
    // A community of another instance.
    match kind {
        Verb::Follow => follow::receive(&r).await?,
        Verb::Undo if object.kind() == "Follow" => undo::receive(&r).await?,
        Verb::Accept | Verb::Reject => accept::receive(&r).await?,
        Verb::Announce => announce::receive(&r).await?,
        Verb::Invite => invite::receive(&r).await?,
        Verb::Create | Verb::Update => create::community(&r).await?,
        Verb::Add | Verb::Remove => add::receive(&r).await?,
        Verb::Delete => delete::by_community(&r).await?,
        _ => {}
    }
    Ok(false)
}

/// The local person an actor URL of ours names.
pub(crate) async fn local_person(state: &AppState, url: &str) -> AppResult<User> {
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
