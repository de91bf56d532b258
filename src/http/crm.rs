//! CRM sync and GDPR endpoints:
//! - `GET|PUT /v1/clients/{id}/crm`: a site's connectors (secrets are never shown);
//! - `GET /v1/clients/{id}/crm/dry-run?limit=N`: what each connector would send for the
//!   newest N leads, sending nothing;
//! - `GET /v1/leads/{id}/sync`, `POST /v1/leads/{id}/sync/replay`: a lead's sync state and
//!   attempt log; dead-lettered jobs queued again;
//! - `POST /v1/crm/jobs/{jobId}/replay`, `GET /v1/crm/dead-letters?clientId=`;
//! - `GET /v1/gdpr/export?email=…[&clientId=…]`: every lead and event held for a person.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Admin;
use super::error::{ApiError, ApiResult};
use super::extract::{JsonBody, PathParam, QueryParams, nonempty, parse_id};
use super::leads::{parse_cursor, parse_limit_within};
use crate::app::App;
use crate::crm::config::CrmInput;
use crate::crm::outbox::Replay;
use crate::crm::service;
use crate::domain::email;

pub fn router() -> Router<App> {
    Router::new()
        .route("/v1/clients/{client_id}/crm", get(show_config).put(put_config))
        .route("/v1/clients/{client_id}/crm/dry-run", get(dry_run))
        .route("/v1/leads/{lead_id}/sync", get(lead_sync))
        .route("/v1/leads/{lead_id}/sync/replay", post(replay_lead))
        .route("/v1/crm/jobs/{job_id}/replay", post(replay_job))
        .route("/v1/crm/dead-letters", get(dead_letters))
        .route("/v1/gdpr/export", get(gdpr_export))
}

async fn show_config(_: Admin, State(app): State<App>, PathParam(id): PathParam<String>) -> ApiResult<Json<Value>> {
    let id = parse_id("clientId", &id)?;
    Ok(Json(service::get_config(&app, id).await?))
}

async fn put_config(
    _: Admin,
    State(app): State<App>,
    PathParam(id): PathParam<String>,
    JsonBody(input): JsonBody<CrmInput>,
) -> ApiResult<Json<Value>> {
    let id = parse_id("clientId", &id)?;
    Ok(Json(service::put_config(&app, id, input).await?))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LimitQuery {
    limit: Option<String>,
}

async fn dry_run(
    _: Admin,
    State(app): State<App>,
    PathParam(id): PathParam<String>,
    QueryParams(q): QueryParams<LimitQuery>,
) -> ApiResult<Json<Value>> {
    let id = parse_id("clientId", &id)?;
    Ok(Json(service::dry_run(&app, id, parse_limit_within(&q.limit, 5, 50)?).await?))
}

async fn lead_sync(_: Admin, State(app): State<App>, PathParam(id): PathParam<String>) -> ApiResult<Json<Value>> {
    let id = parse_id("leadId", &id)?;
    Ok(Json(service::lead_sync(&app, id).await?))
}

async fn replay_lead(_: Admin, State(app): State<App>, PathParam(id): PathParam<String>) -> ApiResult<Json<Value>> {
    let id = parse_id("leadId", &id)?;
    let jobs = service::replay(&app, Replay::Lead(id)).await?;
    Ok(Json(json!({"replayed": jobs.len(), "jobs": jobs})))
}

async fn replay_job(_: Admin, State(app): State<App>, PathParam(id): PathParam<String>) -> ApiResult<Json<Value>> {
    let id = parse_id("jobId", &id)?;
    let jobs = service::replay(&app, Replay::Job(id)).await?;
    Ok(Json(json!({"replayed": jobs.len(), "jobs": jobs})))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DeadLetterQuery {
    client_id: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

async fn dead_letters(
    _: Admin,
    State(app): State<App>,
    QueryParams(q): QueryParams<DeadLetterQuery>,
) -> ApiResult<Json<Value>> {
    let client = nonempty(&q.client_id).map(|c| parse_id("clientId", c)).transpose()?;
    let cursor = parse_cursor(&q.cursor)?;
    let (jobs, next) = service::dead_letters(&app, client, cursor, parse_limit_within(&q.limit, 100, 500)?).await?;
    Ok(Json(json!({"items": jobs, "nextCursor": next})))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ExportQuery {
    client_id: Option<String>,
    email: Option<String>,
}

async fn gdpr_export(
    _: Admin,
    State(app): State<App>,
    QueryParams(q): QueryParams<ExportQuery>,
) -> ApiResult<Json<Value>> {
    let client = nonempty(&q.client_id).map(|c| parse_id("clientId", c)).transpose()?;
    let raw = nonempty(&q.email).ok_or_else(|| ApiError::invalid_param("email", "is required"))?;
    let email = email::normalize(raw).ok_or_else(|| ApiError::invalid_param("email", "is not an email address"))?;
    let export = service::gdpr_export(&app, client, email).await?;
    tracing::info!(client = ?client, "GDPR export served");
    Ok(Json(export))
}
