//! HTTP: server-rendered pages and the JSON API, both calling the same
//! feature functions. This layer translates; it holds no business rules.

pub mod api;
pub mod assets;
pub mod auth;
pub mod live;
pub mod openapi;
pub mod pages;
pub mod scim;

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;

use crate::app::AppState;

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(pages::router())
        .nest("/api/v1", api::router())
        .merge(scim::router())
        .merge(assets::router())
        .merge(crate::federation::routes::router())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::federation::routes::negotiate,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), wake_worker))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// After a request that recorded an event (something that may have to
/// leave), wake this process's delivery worker so that it leaves now rather
/// than at the next poll (other processes pick it up at their next poll).
/// A request that recorded nothing leaves the worker asleep: an inbox
/// storing a thousand posts a second would otherwise keep it polling the
/// database back to back.
async fn wake_worker(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let writes = !matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    let before = crate::events::recorded();
    let mails_before = crate::mails::recorded();
    let res = next.run(req).await;
    let done = res.status().is_success() || res.status().is_redirection();
    if writes && done && crate::events::recorded() != before {
        state.wake.notify_one();
    }
    if writes && done && crate::mails::recorded() != mails_before {
        state.mail_wake.notify_one();
    }
    res
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    // A response with its own, stricter policy (a download) keeps it.
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(CSP));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}
