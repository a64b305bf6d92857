//! The back-fill of a community of another instance that this instance
//! just joined: its recent posts, read from its outbox, so that it does not
//! look empty. See `groups` for the model.

use diesel::prelude::*;

use super::activities::announce::{announced, Announced};
use super::protocol::collection::Collection;
use super::protocol::{Note, Object, Verb};
use crate::accounts::User;
use crate::app::AppState;
use crate::error::{AppError, AppResult};

/// Fetches the recent posts of a community this instance just joined
/// (bounded by `communities.backfill_*`), so that it does not look empty.
/// Failures are logged; the next member's visit tries again.
pub async fn backfill(state: &AppState, group: &User) {
    let gid = group.id;
    let result: AppResult<usize> = async {
        let ap: Option<String> = state
            .db
            .run(move |c| {
                crate::db::schema::users::table
                    .find(gid)
                    .select(crate::db::schema::users::ap_id)
                    .first(c)
                    .map_err(AppError::from)
            })
            .await?;
        let ap = ap.ok_or_else(AppError::not_found)?;
        let doc = state.fed.get(&format!("{ap}/outbox")).await?;
        let max = (state.config.communities.backfill_posts as usize)
            * (1 + state.config.communities.backfill_comments as usize);
        // Lemmy lists what the community announced, `Announce{Create{Page}}`;
        // Ruche lists the `Create`s themselves.
        let outbox: Collection<Object> = super::protocol::read(&doc, "orderedItems")?;
        let items: Vec<Object> = outbox
            .items()
            .into_iter()
            .take(max.max(1))
            .map(|item| match item.read::<Announced>("orderedItems") {
                Ok(a)
                    if a.kind == Verb::Announce
                        && a.actor.as_str() == ap
                        && a.object.is_embedded() =>
                {
                    a.object
                }
                _ => item,
            })
            .collect();
        let is_reply = |v: &Object| {
            v.read::<Announced>("orderedItems")
                .and_then(|a| a.object.read::<Note>("object"))
                .is_ok_and(|n| n.in_reply_to.is_some())
        };
        // Posts first, oldest first, then comments in thread order.
        let posts = items.iter().rev().filter(|v| !is_reply(v));
        let comments = items.iter().filter(|v| is_reply(v));
        let mut n = 0;
        for item in posts.chain(comments) {
            if item.kind() != "Create" {
                continue;
            }
            match announced(state, group, item, false).await {
                Ok(()) => n += 1,
                Err(e) => tracing::info!(error = %e, "back-fill item skipped"),
            }
        }
        state
            .db
            .run(move |c| crate::communities::mark_backfilled(c, gid))
            .await?;
        Ok(n)
    }
    .await;
    match result {
        Ok(n) => tracing::info!(community = %group.username, items = n, "community back-filled"),
        Err(e) => {
            tracing::info!(community = %group.username, error = %e, "community back-fill failed")
        }
    }
}

/// Fills in a remote community's recent posts when a member looks at it
/// and this instance has not done so yet (the first try failed).
pub fn backfill_if_needed(state: &AppState, c: &crate::communities::Community) {
    if c.is_local() || !c.is_member() {
        return;
    }
    let (st, id) = (state.clone(), c.id);
    tokio::spawn(async move {
        let pending = st
            .db
            .run(move |cx| crate::communities::needs_backfill(cx, id))
            .await
            .ok()
            .flatten();
        if let Some(group) = pending {
            backfill(&st, &group).await;
        }
    });
}
