//! Answers of people of other instances to an event of ours: `Accept`
//! (going), `TentativeAccept` (maybe) and `Reject` (not going) of the
//! event, as Friendica, Hubzilla and Ruche send them, and `Join` (going)
//! and `Leave` (withdrawn), as Mobilizon sends them; an `Undo` of an
//! answer withdraws it, unless the person answered anew since (the answer
//! held names another activity). What the person may do is decided by
//! `content::event::answer_remote`, the rules of a local answer.

use serde::Deserialize;

use super::Received;
use crate::content::event::Answer;
use crate::error::{AppError, AppResult};
use crate::federation::protocol::{lenient, Link, Object, Verb};

/// An undone answer as servers embed it.
#[derive(Deserialize)]
struct Undone {
    #[serde(default, deserialize_with = "lenient")]
    id: Option<url::Url>,
    #[serde(rename = "type", default, deserialize_with = "lenient")]
    kind: Option<Verb>,
    #[serde(default, deserialize_with = "lenient")]
    actor: Option<Link>,
    #[serde(default)]
    object: Object,
}

/// What an activity answering an event says: the answer (`None`:
/// withdrawn), the object it answers and, for an `Undo`, the id of the
/// answer it undoes.
type Said = (Option<Answer>, Option<url::Url>, Option<String>);

/// What an activity answers; `None` for an activity that is no answer to
/// an event (an `Undo` of a `Leave` is none either: Mobilizon joins again
/// with a `Join`).
fn answer_of(r: &Received<'_>) -> AppResult<Option<Said>> {
    let answer = |verb: Verb| match verb {
        Verb::Accept | Verb::Join => Some(Some(Answer::Going)),
        Verb::TentativeAccept => Some(Some(Answer::Maybe)),
        Verb::Reject => Some(Some(Answer::Declined)),
        Verb::Leave => Some(None),
        _ => None,
    };
    if r.activity.kind == Verb::Undo {
        let Ok(undone) = r.activity.object.read::<Undone>("object") else {
            return Ok(None);
        };
        let Some(Some(Some(_))) = undone.kind.map(answer) else {
            return Ok(None);
        };
        if undone
            .actor
            .as_ref()
            .is_some_and(|a| a.as_str() != r.actor_ap)
        {
            return Err(AppError::forbidden("not_author"));
        }
        let id = undone.id.map(String::from);
        return Ok(Some((None, undone.object.id(), id)));
    }
    Ok(answer(r.activity.kind).map(|a| (a, r.activity.object.id(), None)))
}

/// Applies the answer of a person of another instance when the activity
/// answers an event of this site. Returns whether it did (`false`: the
/// activity is about something else, for the other files).
pub async fn apply(r: &Received<'_>) -> AppResult<bool> {
    let Some((answer, Some(object), undoes)) = answer_of(r)? else {
        return Ok(false);
    };
    let Some(id) = crate::urls::Urls(&r.state.config).local_post_id(object.as_str()) else {
        return Ok(false);
    };
    let person = r.actor.id;
    let domain = r.actor.domain.clone().unwrap_or_default();
    let cfg = r.state.config.clone();
    let ap_id = r.activity.id.to_string();
    r.state
        .db
        .run(move |c| {
            if !crate::content::event::is_event(c, id)? {
                return Ok(false);
            }
            let trust = crate::net::trust::verdict(c, &cfg, &domain)?.decision;
            let reader = crate::audience::Instance { domain, trust };
            crate::content::event::answer_remote(
                c,
                person,
                &reader,
                id,
                answer,
                &ap_id,
                undoes.as_deref(),
            )?;
            Ok(true)
        })
        .await
}
