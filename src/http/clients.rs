//! `/v1/clients`: sites. A site's secret key is returned once, at creation or rotation.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{Value, json};

use super::auth::Admin;
use super::error::{ApiError, ApiResult};
use super::extract::{JsonBody, PathParam, QueryParams, parse_id};
use super::page::{PageQuery, page};
use crate::app::App;
use crate::domain::model::{Client, ClientConfig, Id};
use crate::domain::site::ClientInput;
use crate::domain::time::Timestamp;
use crate::store::queries;

pub fn router() -> Router<App> {
    Router::new()
        .route("/v1/clients", get(list).post(create))
        .route("/v1/clients/{client_id}", get(show).put(update).delete(remove))
        .route("/v1/clients/{client_id}/rotate-key", post(rotate_key))
}

/// A client as the API shows it: everything but the key hash, plus its install snippet.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientView {
    client_id: Id,
    name: String,
    domain: String,
    is_active: bool,
    config: ClientConfig,
    created_at: Timestamp,
    updated_at: Timestamp,
    snippet: String,
    script_url: String,
}

pub fn view(app: &App, headers: &HeaderMap, c: Client) -> ClientView {
    let base = super::base_url(app, headers);
    ClientView {
        snippet: app.snippet(&base, &c.client_id),
        script_url: format!("{base}/script/{}.js", c.client_id),
        client_id: c.client_id,
        name: c.name,
        domain: c.domain,
        is_active: c.is_active,
        config: c.config,
        created_at: c.created_at,
        updated_at: c.updated_at,
    }
}

fn with_secret(view: ClientView, secret: String) -> ApiResult<Value> {
    let mut value = serde_json::to_value(view).map_err(ApiError::internal)?;
    value["secretKey"] = json!(secret);
    Ok(value)
}

async fn list(
    _: Admin,
    State(app): State<App>,
    headers: HeaderMap,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<Json<Value>> {
    let clients = app.read(queries::list_clients).await?;
    let items: Vec<ClientView> = clients.into_iter().map(|c| view(&app, &headers, c)).collect();
    page(items, |c| c.client_id, &q)
}

async fn create(
    _: Admin,
    State(app): State<App>,
    headers: HeaderMap,
    JsonBody(input): JsonBody<ClientInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (client, secret) = app.create_client(input).await?;
    tracing::info!(client = %client.client_id, domain = %client.domain, "site created");
    Ok((StatusCode::CREATED, Json(with_secret(view(&app, &headers, client), secret)?)))
}

async fn show(
    _: Admin,
    State(app): State<App>,
    headers: HeaderMap,
    PathParam(id): PathParam<String>,
) -> ApiResult<Json<ClientView>> {
    let id = parse_id("clientId", &id)?;
    let client = app
        .read(move |txn| queries::get_client(txn, &id))
        .await?
        .ok_or(ApiError::NotFound("client not found".into()))?;
    Ok(Json(view(&app, &headers, client)))
}

async fn update(
    _: Admin,
    State(app): State<App>,
    headers: HeaderMap,
    PathParam(id): PathParam<String>,
    JsonBody(input): JsonBody<ClientInput>,
) -> ApiResult<Json<ClientView>> {
    let id = parse_id("clientId", &id)?;
    let client = app.update_client(id, input).await?;
    Ok(Json(view(&app, &headers, client)))
}

async fn remove(_: Admin, State(app): State<App>, PathParam(id): PathParam<String>) -> ApiResult<StatusCode> {
    let id = parse_id("clientId", &id)?;
    let client = app.delete_client(id).await?;
    tracing::info!(client = %client.client_id, "site deleted with its forms, leads and events");
    Ok(StatusCode::NO_CONTENT)
}

async fn rotate_key(
    _: Admin,
    State(app): State<App>,
    headers: HeaderMap,
    PathParam(id): PathParam<String>,
) -> ApiResult<Json<Value>> {
    let id = parse_id("clientId", &id)?;
    let (client, secret) = app.rotate_client_key(id).await?;
    Ok(Json(with_secret(view(&app, &headers, client), secret)?))
}
