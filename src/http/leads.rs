//! `/v1/leads`: list with filters and cursor, get, update, delete, GDPR delete, CSV export.

use axum::body::Body;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Admin;
use super::error::{ApiError, ApiResult};
use super::extract::{JsonBody, PathParam, QueryParams, nonempty, parse_id};
use crate::app::App;
use crate::domain::model::{Id, Lead, LeadQuality, LeadStatus};
use crate::domain::time::Timestamp;
use crate::domain::{email, export, lead_edit};
use crate::store::queries::{self, LeadFilter};
use crate::store::{leads, mentions};

pub fn router() -> Router<App> {
    Router::new()
        .route("/v1/leads", get(list))
        .route("/v1/leads/export.csv", get(export_csv))
        .route("/v1/leads/{lead_id}", get(show).put(update).delete(remove))
        .route("/v1/leads/{lead_id}/gdpr-delete", delete(gdpr_delete).post(gdpr_delete))
}

pub const MAX_LIMIT: usize = 500;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LeadQuery {
    client_id: Option<String>,
    status: Option<String>,
    quality: Option<String>,
    email: Option<String>,
    q: Option<String>,
    from: Option<String>,
    to: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

pub fn parse_time(name: &str, v: &Option<String>, end_of_day: bool) -> ApiResult<Option<Timestamp>> {
    let Some(text) = nonempty(v) else { return Ok(None) };
    let ts = Timestamp::parse_flexible(text).ok_or_else(|| {
        // A `+` in a URL query is a space: `+02:00` arrives as ` 02:00`.
        let hint = if text.contains(' ') { "; write a + in a time zone as %2B" } else { "" };
        ApiError::invalid_param(name, format!("{text:?} is not a date (2025-10-22) or RFC 3339 time{hint}"))
    })?;
    // `to=2025-10-22` means "through that day".
    let is_date = text.len() == 10;
    Ok(Some(if end_of_day && is_date { ts.plus_millis(86_400_000 - 1) } else { ts }))
}

/// The `from` and `to` parameters; `to` before `from` is a mistake, not an empty answer.
pub fn parse_range(from: &Option<String>, to: &Option<String>) -> ApiResult<(Option<Timestamp>, Option<Timestamp>)> {
    let (from, to) = (parse_time("from", from, false)?, parse_time("to", to, true)?);
    if let (Some(f), Some(t)) = (from, to)
        && t < f
    {
        return Err(ApiError::invalid_param("to", "is before from; swap them"));
    }
    Ok((from, to))
}

/// A list's `limit`: 50 unless given, at most [`MAX_LIMIT`].
pub fn parse_limit(v: &Option<String>) -> ApiResult<usize> {
    parse_limit_within(v, 50, MAX_LIMIT)
}

/// A `limit` parameter: `default` unless given, else a number from 1 to `max`.
pub fn parse_limit_within(v: &Option<String>, default: usize, max: usize) -> ApiResult<usize> {
    match nonempty(v) {
        None => Ok(default),
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::invalid_param("limit", format!("must be a number from 1 to {max}"))),
        },
    }
}

pub fn parse_cursor(v: &Option<String>) -> ApiResult<Option<Id>> {
    nonempty(v).map(|c| parse_id("cursor", c)).transpose()
}

/// The export's parameters: the list's filters, without its paging.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ExportQuery {
    client_id: Option<String>,
    status: Option<String>,
    quality: Option<String>,
    email: Option<String>,
    q: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

impl From<ExportQuery> for LeadQuery {
    fn from(e: ExportQuery) -> LeadQuery {
        let ExportQuery { client_id, status, quality, email, q, from, to } = e;
        LeadQuery { client_id, status, quality, email, q, from, to, cursor: None, limit: None }
    }
}

/// Refuses the list's `cursor` and `limit` on the export, saying why: it writes every lead
/// matching the filters, and a limit that was silently dropped would look honoured.
struct NoPaging;

impl<S: Send + Sync> FromRequestParts<S> for NoPaging {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        match form_urlencoded::parse(query.as_bytes())
            .find(|(name, value)| (name == "cursor" || name == "limit") && !value.is_empty())
        {
            Some((name, _)) => Err(ApiError::invalid_param(
                &name,
                "the export has no paging: it writes every lead matching the filters (clientId, status, quality, \
                 email, q, from, to); page through /v1/leads for part of them",
            )),
            None => Ok(NoPaging),
        }
    }
}

impl LeadQuery {
    fn filter(&self) -> ApiResult<LeadFilter> {
        let (from, to) = parse_range(&self.from, &self.to)?;
        Ok(LeadFilter {
            client_id: nonempty(&self.client_id).map(|c| parse_id("clientId", c)).transpose()?,
            status: nonempty(&self.status)
                .map(|s| {
                    LeadStatus::parse(s).ok_or_else(|| {
                        ApiError::invalid_param("status", "must be one of submitted, partial, chat_inquiry")
                    })
                })
                .transpose()?,
            quality: nonempty(&self.quality)
                .map(|s| {
                    LeadQuality::parse(s)
                        .ok_or_else(|| ApiError::invalid_param("quality", "must be one of high, medium, low"))
                })
                .transpose()?,
            email: nonempty(&self.email)
                .map(|e| email::normalize(e).ok_or_else(|| ApiError::invalid_param("email", "is not an email address")))
                .transpose()?,
            q: nonempty(&self.q).map(str::to_string),
            from,
            to,
        })
    }
}

async fn list(
    _: Admin,
    State(app): State<App>,
    QueryParams(query): QueryParams<LeadQuery>,
) -> ApiResult<Json<queries::Page<Lead>>> {
    let filter = query.filter()?;
    let cursor = parse_cursor(&query.cursor)?;
    let limit = parse_limit(&query.limit)?;
    // Serialized as it is, not through a `Value`: that would sort each lead's fields.
    Ok(Json(app.read(move |txn| queries::list_leads(txn, &filter, cursor, limit)).await?))
}

async fn show(_: Admin, State(app): State<App>, PathParam(id): PathParam<String>) -> ApiResult<Json<Lead>> {
    let id = parse_id("leadId", &id)?;
    let lead =
        app.read(move |txn| queries::get_lead(txn, &id)).await?.ok_or(ApiError::NotFound("lead not found".into()))?;
    Ok(Json(lead))
}

async fn update(
    _: Admin,
    State(app): State<App>,
    PathParam(id): PathParam<String>,
    JsonBody(update): JsonBody<lead_edit::LeadUpdate>,
) -> ApiResult<Json<Lead>> {
    let id = parse_id("leadId", &id)?;
    let edit = lead_edit::validate(update).map_err(|v| ApiError::Validation { field: v.field, message: v.message })?;
    // Read for the site (a lead never changes site) and a clean 404; the edit itself is
    // applied by the writer to the lead as stored then.
    let lead =
        app.read(move |txn| queries::get_lead(txn, &id)).await?.ok_or(ApiError::NotFound("lead not found".into()))?;
    let crm = app.sites.get(&lead.client_id).is_some_and(|s| s.crm_enabled);
    let now = Timestamp::now();
    let lead = app.write(move |txn| leads::update_lead(txn, id, now, crm, |l| lead_edit::apply(l, edit, now))).await?;
    if crm {
        app.crm_wakeup.notify_one();
    }
    Ok(Json(lead))
}

async fn remove(_: Admin, State(app): State<App>, PathParam(id): PathParam<String>) -> ApiResult<StatusCode> {
    let id = parse_id("leadId", &id)?;
    let now = Timestamp::now();
    app.write(move |txn| leads::delete_lead(txn, id, false, now)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Erasure: the lead's `crmId` is read before it is deleted, and the site's events that hold
/// its address without belonging to a lead are looked for (by reading the site's events,
/// outside the writer). Then the lead, its events, those events and every index entry go in
/// one transaction that also queues the CRM deletion.
async fn gdpr_delete(_: Admin, State(app): State<App>, PathParam(id): PathParam<String>) -> ApiResult<Json<Value>> {
    let id = parse_id("leadId", &id)?;
    let (lead, unlinked) = app
        .read(move |txn| {
            let Some(lead) = queries::get_lead(txn, &id)? else { return Ok(None) };
            let unlinked: Vec<Id> = match &lead.email {
                Some(email) => mentions::events_mentioning(txn, lead.client_id, email)?
                    .into_iter()
                    .filter(|e| e.lead_id.is_none())
                    .map(|e| e.event_id)
                    .collect(),
                None => Vec::new(),
            };
            Ok(Some((lead, unlinked)))
        })
        .await?
        .ok_or(ApiError::NotFound("lead not found".into()))?;
    // A lead that reached a CRM is erased there too, even if the site stopped syncing since.
    let crm = app.sites.get(&lead.client_id).is_some_and(|s| s.crm_enabled) || lead.crm_id.is_some();
    let now = Timestamp::now();
    let (deleted, unlinked) = app.write(move |txn| leads::erase_lead(txn, id, crm, &unlinked, now)).await?;
    let crm_queued = crm && (deleted.crm_id.is_some() || deleted.email.is_some());
    if crm_queued {
        app.crm_wakeup.notify_one();
    }
    tracing::info!(lead = %id, crm_queued, unlinked_events = unlinked, "lead erased");
    Ok(Json(json!({
        "deleted": true,
        "leadId": id,
        "crmId": deleted.crm_id,
        "crmDeletionQueued": crm_queued,
        "otherEventsDeleted": unlinked,
    })))
}

/// CSV of every lead matching the filter, streamed page by page.
async fn export_csv(
    _: Admin,
    _: NoPaging,
    State(app): State<App>,
    QueryParams(query): QueryParams<ExportQuery>,
) -> ApiResult<Response> {
    let filter = LeadQuery::from(query).filter()?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<String, std::io::Error>>(4);
    let first = export::csv_header();
    tokio::spawn(async move {
        if tx.send(Ok(first)).await.is_err() {
            return;
        }
        let mut cursor = None;
        loop {
            let f = filter.clone();
            let page = match app.read(move |txn| queries::list_leads(txn, &f, cursor, 500)).await {
                Ok(p) => p,
                Err(e) => {
                    let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                    return;
                }
            };
            let chunk: String = page.items.iter().map(export::lead_csv).collect();
            if !chunk.is_empty() && tx.send(Ok(chunk)).await.is_err() {
                return;
            }
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return,
            }
        }
    });
    let stream = tokio_stream_from(rx);
    let mut response = Body::from_stream(stream).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"leads.csv\""));
    Ok(response)
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<Result<String, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<String, std::io::Error>> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
