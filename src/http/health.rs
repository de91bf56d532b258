//! Liveness, readiness and metrics.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::auth::Admin;
use super::error::ApiResult;
use crate::app::App;
use crate::store::queries;

pub fn router() -> Router<App> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).route("/metrics", get(metrics))
}

/// The process is up and answering.
async fn healthz() -> &'static str {
    "ok"
}

/// The process can serve: the store answers a read and the writer commits.
async fn readyz(State(app): State<App>) -> Response {
    let read = app.read(queries::lead_counts).await;
    let write = app.write(|_| Ok(())).await;
    match (read, write) {
        (Ok(_), Ok(())) => Json(json!({"status": "ready"})).into_response(),
        (r, w) => {
            let reason = r.err().or(w.err()).map(|e| e.to_string()).unwrap_or_default();
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "not_ready", "reason": reason}))).into_response()
        }
    }
}

/// Prometheus text. Admin-only: lead counts are business data.
async fn metrics(_: Admin, State(app): State<App>) -> ApiResult<Response> {
    let counts = app.read(queries::lead_counts).await?;
    let mut response = app.metrics.render(&counts).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    Ok(response)
}
