//! Live news for open pages: the unread notifications in the menu and the
//! "3 new posts" above a feed, sent as server-sent events (`GET /live`), so
//! that nobody reloads a page to see whether something happened.
//!
//! Whatever the number of pages open, a process asks the database one small
//! question per `content.live_pulse_ms` (the newest notification and post
//! ids: [`crate::app::Pulse`]), and only while a page listens. When one of
//! those moves, each open page reads again its session and its unread
//! notifications, and, when posts or comments came, its newer posts (small
//! indexed queries, through the same rules as the pages, so a post the
//! reader may not see is not counted); both are also read once a minute,
//! for notifications read in another tab. That work grows with the pages open and the pace of the
//! site; it was not measured under load (see the closing note of stop 25). Several processes on
//! one PostgreSQL each see what the others wrote. A page stops hearing
//! anything once its session ends, and the number of pages one process
//! serves at once is bounded (`content.max_live_streams`; beyond, a page is
//! told to try again later and works as before, without live news).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::{watch, OwnedSemaphorePermit};

use crate::app::{AppState, Marks};
use crate::error::{AppError, AppResult};
use crate::feed::{self, Stream};
use crate::web::auth::Ctx;
use crate::{accounts, notifications};

/// New posts are counted up to this many ("20+").
pub const NEW_POSTS_CAP: i64 = 20;
/// Counts are read again this often even when nothing moved.
const RECHECK: Duration = Duration::from_secs(60);
/// What a browser waits before connecting again after a refusal or a cut.
const RETRY: Duration = Duration::from_secs(30);

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LiveQuery {
    /// The feed stream the page shows, if it shows one.
    stream: String,
    /// The newest post the page shows.
    after: String,
}

/// One open page.
struct Listener {
    state: AppState,
    token: String,
    user: i64,
    stream: Option<Stream>,
    after: i64,
    marks: watch::Receiver<Marks>,
    /// What the page was last told.
    told: Option<(i64, Option<i64>)>,
    /// The marks its counts were last read at.
    seen: Marks,
    _slot: OwnedSemaphorePermit,
}

/// The counts a page shows (the newer posts as `told` said them unless
/// `posts_again`), or `None` once its session has ended.
fn counts(
    c: &mut crate::db::DbConn,
    l: (&str, i64, Option<Stream>, i64),
    posts_again: bool,
    told: Option<(i64, Option<i64>)>,
) -> AppResult<Option<(i64, Option<i64>)>> {
    let (token, user, stream, after) = l;
    match accounts::lookup_session(c, token)? {
        Some((u, _)) if u.id == user => {}
        _ => return Ok(None),
    }
    let unread = notifications::unread(c, user)?;
    let posts = match (stream, posts_again, told) {
        (None, _, _) => None,
        (Some(_), false, Some((_, n))) => n,
        (Some(s), _, _) => Some(feed::newer(c, user, s, after, NEW_POSTS_CAP)?),
    };
    Ok(Some((unread, posts)))
}

/// Waits for news, then says what changed; ends with the session. The
/// newer posts are read again when posts or comments came (and once a
/// minute), the unread count on every wake and once a minute
/// (notifications read in another tab).
async fn next(mut l: Listener) -> Option<(Result<Event, Infallible>, Listener)> {
    loop {
        let mut current = *l.marks.borrow_and_update();
        let mut recheck = l.told.is_none();
        if !recheck && current == l.seen {
            tokio::select! {
                moved = l.marks.changed() => {
                    if moved.is_err() {
                        return None;
                    }
                    current = *l.marks.borrow_and_update();
                }
                _ = tokio::time::sleep(RECHECK) => recheck = true,
            }
        }
        // The unread count is one small count, read on every wake (it also
        // falls when notifications are read, which moves no mark); the
        // newer posts only when posts or comments came.
        let posts_again = recheck || current.content != l.seen.content;
        l.seen = current;
        let (token, user, stream, after, told) =
            (l.token.clone(), l.user, l.stream, l.after, l.told);
        let now = match l
            .state
            .db
            .run(move |c| counts(c, (&token, user, stream, after), posts_again, told))
            .await
        {
            Ok(Some(now)) => now,
            Ok(None) => return None,
            Err(e) => {
                tracing::warn!(error = %e, "live news: reading a page's counts failed");
                if l.told.is_none() {
                    tokio::time::sleep(RETRY).await;
                }
                continue;
            }
        };
        if l.told == Some(now) {
            continue;
        }
        let first = l.told.is_none();
        l.told = Some(now);
        let data = serde_json::json!({
            "unread": now.0,
            "posts": now.1,
            "more": now.1.is_some_and(|n| n >= NEW_POSTS_CAP),
        });
        let mut event = Event::default().event("news").data(data.to_string());
        if first {
            event = event.retry(RETRY);
        }
        return Some((Ok(event), l));
    }
}

/// `GET /live?stream=site&after=123`: the page's news as server-sent
/// events (`event: news`, `data: {"unread": 2, "posts": 3, "more": false}`),
/// once at once and then whenever they change.
pub async fn live(State(state): State<AppState>, ctx: Ctx, Query(q): Query<LiveQuery>) -> Response {
    let fail = |err: AppError| crate::error::json_response(&err, ctx.lang);
    let (Some(user), Some(token)) = (ctx.user.as_ref(), ctx.session_token.clone()) else {
        return fail(AppError::unauthorized("signin_required"));
    };
    let stream = match q.stream.as_str() {
        "" => None,
        s => match Stream::parse(s) {
            Ok(s) => Some(s),
            Err(e) => return fail(e),
        },
    };
    let after = match q.after.as_str() {
        "" => 0,
        s => match s.parse::<i64>() {
            Ok(n) if n >= 0 => n,
            _ => return fail(AppError::bad_request("field_invalid").with("field", "after")),
        },
    };
    let Ok(slot) = state.pulse.slot() else {
        let mut res = fail(AppError::new(
            crate::error::ErrorKind::RateLimited,
            "live_busy",
        ));
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY.as_secs()));
        return res;
    };
    let listener = Listener {
        marks: state.pulse.listen(&state.db),
        state: state.clone(),
        token,
        user: user.id,
        stream,
        after,
        told: None,
        seen: Marks::default(),
        _slot: slot,
    };
    let events = futures_util::stream::unfold(listener, next);
    let mut res = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(25)))
        .into_response();
    // A reverse proxy passes each event on at once (nginx buffers otherwise).
    res.headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
