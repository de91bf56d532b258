//! The HTTP edge: parses and authenticates requests, then calls `app`/`domain`.
//!
//! One module per resource, each exposing `router()`, merged in [`router`]; [`server`]
//! serves connections with their time limits and graceful shutdown.

pub mod assets;
pub mod auth;
pub mod backup;
pub mod clients;
pub mod crm;
pub mod error;
pub mod events;
pub mod extract;
pub mod forms;
pub mod health;
pub mod leads;
pub mod page;
pub mod script;
pub mod server;
pub mod session;
pub mod stats;
pub mod tokens;
pub mod track;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use std::future::Future;
use std::time::Instant;
use tokio::net::TcpListener;

use crate::app::App;
use error::ApiError;

/// The base URL clients should use: `--public-url`, else the request's Host.
pub fn base_url(app: &App, headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let https = app.config.trust_proxy
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    app.public_url(host, https)
}

async fn record_metrics(State(app): State<App>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    // Both clones are cheap (a known method, a shared route string): no allocation per request.
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    app.metrics.record_request(method.as_str(), route, response.status().as_u16(), started.elapsed());
    response
}

/// Headers every answer carries.
async fn security_headers(request: Request, next: Next) -> Response {
    // Admin answers carry leads, new tokens and keys, backups: no cache (a shared proxy's or
    // the browser's disk) may keep them. Ingest answers say nothing worth keeping.
    let path = request.uri().path();
    let private = path.starts_with("/v1/") && !path.starts_with("/v1/track");
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.entry(header::REFERRER_POLICY).or_insert(HeaderValue::from_static("strict-origin-when-cross-origin"));
    if private {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

async fn not_found() -> Response {
    ApiError::NotFound("no such endpoint".into()).into_response()
}

pub fn router(app: App) -> Router {
    Router::new()
        .merge(track::router())
        .merge(script::router())
        .merge(assets::router())
        .merge(health::router())
        .merge(session::router())
        .merge(clients::router())
        .merge(forms::router())
        .merge(leads::router())
        .merge(events::router())
        .merge(tokens::router())
        .merge(stats::router())
        .merge(backup::router())
        .merge(crm::router())
        .route_layer(middleware::from_fn_with_state(app.clone(), record_metrics))
        .fallback(not_found)
        .layer(middleware::from_fn(security_headers))
        .with_state(app)
}

/// Serves the API on an already-bound listener until `shutdown` resolves (see [`server`]).
pub async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    server::serve(listener, router(app), shutdown).await
}
