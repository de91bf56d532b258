//! `GET /v1/events`: stored events, newest first, with filters and a cursor.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Admin;
use super::error::{ApiError, ApiResult};
use super::extract::{QueryParams, nonempty, parse_id};
use super::leads::{parse_cursor, parse_limit, parse_range};
use crate::app::App;
use crate::domain::model::EventType;
use crate::store::queries::{self, EventFilter};

pub fn router() -> Router<App> {
    Router::new().route("/v1/events", get(list))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EventQuery {
    client_id: Option<String>,
    lead_id: Option<String>,
    #[serde(rename = "type")]
    event_type: Option<String>,
    from: Option<String>,
    to: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

async fn list(_: Admin, State(app): State<App>, QueryParams(q): QueryParams<EventQuery>) -> ApiResult<Json<Value>> {
    let (from, to) = parse_range(&q.from, &q.to)?;
    let filter = EventFilter {
        client_id: nonempty(&q.client_id).map(|c| parse_id("clientId", c)).transpose()?,
        lead_id: nonempty(&q.lead_id).map(|c| parse_id("leadId", c)).transpose()?,
        event_type: nonempty(&q.event_type)
            .map(|t| {
                EventType::parse(t).ok_or_else(|| {
                    ApiError::invalid_param(
                        "type",
                        "must be one of form_submission, form_interaction, chat_message_sent, tracker_initialized",
                    )
                })
            })
            .transpose()?,
        from,
        to,
    };
    let cursor = parse_cursor(&q.cursor)?;
    let limit = parse_limit(&q.limit)?;
    let page = app.read(move |txn| queries::list_events(txn, &filter, cursor, limit)).await?;
    Ok(Json(json!({"items": page.items, "nextCursor": page.next_cursor})))
}
