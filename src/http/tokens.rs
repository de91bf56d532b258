//! `/v1/tokens`: admin API tokens (secret shown once at creation).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::auth::Admin;
use super::error::ApiResult;
use super::extract::{JsonBody, PathParam, QueryParams, parse_id};
use super::page::{PageQuery, page};
use crate::app::App;
use crate::domain::model::{ApiToken, Id};
use crate::domain::time::Timestamp;
use crate::store::queries;

pub fn router() -> Router<App> {
    Router::new().route("/v1/tokens", get(list).post(create)).route("/v1/tokens/{token_id}", delete(revoke))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenView {
    token_id: Id,
    name: String,
    created_at: Timestamp,
    revoked_at: Option<Timestamp>,
}

impl From<ApiToken> for TokenView {
    fn from(t: ApiToken) -> Self {
        TokenView { token_id: t.token_id, name: t.name, created_at: t.created_at, revoked_at: t.revoked_at }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: String,
}

async fn list(_: Admin, State(app): State<App>, QueryParams(q): QueryParams<PageQuery>) -> ApiResult<Json<Value>> {
    let tokens: Vec<TokenView> = app.read(queries::list_tokens).await?.into_iter().map(TokenView::from).collect();
    page(tokens, |t| t.token_id, &q)
}

async fn create(
    _: Admin,
    State(app): State<App>,
    JsonBody(body): JsonBody<CreateBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (token, secret) = app.create_token(&body.name).await?;
    let mut value = json!(TokenView::from(token));
    value["token"] = json!(secret);
    Ok((StatusCode::CREATED, Json(value)))
}

async fn revoke(_: Admin, State(app): State<App>, PathParam(id): PathParam<String>) -> ApiResult<StatusCode> {
    let id = parse_id("tokenId", &id)?;
    app.revoke_token(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
