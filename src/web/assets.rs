//! Static assets, embedded in the binary (no CDN: browsers may be offline).

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::app::AppState;

const CSS: &str = include_str!("../../static/style.css");
const JS: &str = include_str!("../../static/app.js");
const ICON: &str = include_str!("../../static/icon.svg");
const ICONS: &str = include_str!("../../static/icons.svg");

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/static/style.css",
            get(|| async { asset("text/css; charset=utf-8", CSS) }),
        )
        .route(
            "/static/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", JS) }),
        )
        .route(
            "/static/icon.svg",
            get(|| async { asset("image/svg+xml", ICON) }),
        )
        .route(
            "/static/icons.svg",
            get(|| async { asset("image/svg+xml", ICONS) }),
        )
        .route(
            "/favicon.ico",
            get(|| async { asset("image/svg+xml", ICON) }),
        )
        .route("/healthz", get(|| async { "ok" }))
}

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
}
