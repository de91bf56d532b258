//! `GET /v1/stats/overview`: the dashboard's overview numbers.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::auth::Admin;
use super::error::{ApiError, ApiResult};
use super::extract::{QueryParams, parse_id};
use crate::app::App;
use crate::domain::time::Timestamp;
use crate::store::queries::{self, Overview};

pub fn router() -> Router<App> {
    Router::new().route("/v1/stats/overview", get(overview))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OverviewQuery {
    client_id: Option<String>,
    days: Option<String>,
}

async fn overview(
    _: Admin,
    State(app): State<App>,
    QueryParams(q): QueryParams<OverviewQuery>,
) -> ApiResult<Json<Overview>> {
    let client = q.client_id.as_deref().filter(|s| !s.is_empty()).map(|c| parse_id("clientId", c)).transpose()?;
    let days = match q.days.as_deref().filter(|s| !s.is_empty()) {
        None => 30,
        Some(d) => d
            .parse::<u32>()
            .ok()
            .filter(|d| (1..=366).contains(d))
            .ok_or_else(|| ApiError::invalid_param("days", "must be 1 to 366"))?,
    };
    let now = Timestamp::now();
    Ok(Json(
        app.read(move |txn| {
            // An unknown site is a mistake to name, not a site with no leads.
            if let Some(c) = client {
                queries::require_client(txn, &c)?;
            }
            queries::overview(txn, client, days, now)
        })
        .await?,
    ))
}
