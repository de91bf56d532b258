//! The public ingest endpoints (ARCHITECTURE.md "Ingest contract").
//!
//! Browsers identify the site by `clientId` in the body and are checked by `Origin`;
//! server-to-server senders use `X-API-Key`. Bodies are JSON sent as `text/plain` (what
//! `sendBeacon` sends, no preflight) or `application/json`. A request is answered 200 only
//! after its events are durably committed; any rejection stores nothing.

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use http_body_util::BodyExt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use super::error::ApiError;
use super::extract;
use crate::app::directory::Site;
use crate::app::ratelimit::Refusal;
use crate::app::{App, secrets};
use crate::domain::enrich::RequestContext;
use crate::domain::event::{self, MAX_BODY_BYTES, ParsedBody};
use crate::domain::origin;
use crate::domain::time::Timestamp;

pub fn router() -> Router<App> {
    Router::new()
        .route("/v1/track", post(track_single).options(preflight))
        .route("/v1/track/batch", post(track_batch).options(preflight))
}

/// The visitor's address: the peer, or the first X-Forwarded-For hop behind a trusted proxy.
pub fn client_ip(app: &App, headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
    if app.config.trust_proxy {
        let forwarded = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok());
        if let Some(ip) = forwarded {
            return ip;
        }
    }
    peer.ip()
}

fn origin_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
}

/// CORS headers for an allowed browser origin. No credentials: the tracker sends none.
fn allow_origin(response: &mut Response, origin: &str) {
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("Retry-After"));
}

fn any_site_allows(app: &App, origin: &str) -> bool {
    app.sites.all().iter().any(|s| s.client.is_active && origin::is_allowed(&s.client, origin))
}

/// `OPTIONS`: a preflight carries no body, so no site is named yet; an origin is allowed
/// when any active site allows it.
async fn preflight(State(app): State<App>, headers: HeaderMap) -> Response {
    let Some(origin) = origin_header(&headers) else {
        return ApiError::bad_request("not_a_preflight", "OPTIONS without an Origin header").into_response();
    };
    if !any_site_allows(&app, origin) {
        return ApiError::Forbidden {
            code: "origin_not_allowed",
            message: format!(
                "origin {origin} is not a domain of any site; add it to the site's domain or extra origins \
                 (config.allowedOrigins)"
            ),
        }
        .into_response();
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    allow_origin(&mut response, origin);
    let h = response.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("POST, OPTIONS"));
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("Content-Type"));
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
    response
}

async fn track_single(state: State<App>, peer: ConnectInfo<SocketAddr>, request: Request) -> Response {
    handle(state, peer, request, false).await
}

async fn track_batch(state: State<App>, peer: ConnectInfo<SocketAddr>, request: Request) -> Response {
    handle(state, peer, request, true).await
}

/// Takes the whole request rather than a `HeaderMap` extractor, which would copy every
/// header of every event request.
async fn handle(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    batch: bool,
) -> Response {
    let (parts, body) = request.into_parts();
    let headers = &parts.headers;
    let origin = origin_header(headers).map(str::to_string);
    let (result, site) = ingest(&app, peer, headers, body, batch).await;
    let mut response = match result {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    // An allowed browser may read every answer (errors too), so the tracker can tell a
    // permanent refusal from a network failure and stop retrying.
    // Before a site is known (an IP rate limit, an unreadable body) any site's origin may
    // read the answer: it says nothing about a particular site.
    if let Some(origin) = origin {
        let allowed = match site {
            Some(site) => origin::is_allowed(&site.client, &origin),
            None => any_site_allows(&app, &origin) && response.status() != StatusCode::FORBIDDEN,
        };
        if allowed {
            allow_origin(&mut response, &origin);
        }
    }
    response
}

fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    extract::reject_content_encoding(headers)?;
    let Some(ct) = headers.get(header::CONTENT_TYPE) else { return Ok(()) };
    let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
    let essence = ct.split(';').next().unwrap_or("").trim();
    if essence == "text/plain" || essence == "application/json" || essence.is_empty() {
        extract::reject_foreign_charset(&ct)
    } else {
        Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type {essence} is not accepted; send JSON as text/plain or application/json"
        )))
    }
}

async fn read_body(headers: &HeaderMap, body: Body) -> Result<axum::body::Bytes, ApiError> {
    let too_large = || ApiError::TooLarge {
        code: "body_too_large",
        message: format!("the body is larger than the limit of {MAX_BODY_BYTES} bytes; send fewer events per request"),
    };
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if let Some(declared) = declared.filter(|n| *n > MAX_BODY_BYTES) {
        if declared <= DISCARD_MAX {
            discard_body(body, DISCARD_MAX).await;
        }
        return Err(too_large());
    }
    extract::read_limited(body, MAX_BODY_BYTES, too_large).await
}

/// The most of a refused body read only to be thrown away: a tracker's queue of ten large
/// events is a few hundred KiB at most.
const DISCARD_MAX: usize = 1024 * 1024;

/// Reads and drops the body of a request refused before its body was read (a rate limit, a
/// body over the limit), up to `max` bytes within the body timeout. A browser still sending
/// the body otherwise sees the connection reset instead of the answer (the tracker could not
/// tell "too large" from "offline" and would retry the same request forever), and the
/// connection could not carry the sender's next request.
async fn discard_body(body: Body, max: usize) {
    let mut body = body;
    let _ = extract::within_body_timeout(async {
        let mut seen = 0;
        while let Some(Ok(frame)) = body.frame().await {
            seen += frame.data_ref().map_or(0, |d| d.len());
            if seen > max {
                break;
            }
        }
    })
    .await;
}

/// Finds the site a request is for and checks the sender may write to it.
fn identify(app: &App, headers: &HeaderMap, parsed: &ParsedBody) -> Result<Arc<Site>, ApiError> {
    if let Some(key) = headers.get("x-api-key") {
        let key = key.to_str().unwrap_or("");
        let site = app.sites.by_key_hash(&secrets::hash(key.trim())).ok_or_else(|| {
            ApiError::BadApiKey(if key.trim().starts_with("crm_") {
                "this is an admin token (crm_…), which goes in Authorization: Bearer on the admin API; \
                     X-API-Key takes a site's secret key (sk_…)"
                    .into()
            } else {
                "the X-API-Key is not a site's secret key".into()
            })
        })?;
        if let Some(named) = &parsed.client_id
            && *named != site.client.client_id.to_string()
        {
            return Err(ApiError::bad_request(
                "client_mismatch",
                "clientId in the body is not the site of the X-API-Key",
            ));
        }
        return Ok(site);
    }
    let Some(named) = &parsed.client_id else {
        return Err(ApiError::bad_request(
            "client_id_required",
            "clientId is required in the body (browsers), or send X-API-Key (server-to-server)",
        ));
    };
    let site = uuid::Uuid::parse_str(named)
        .ok()
        .and_then(|id| app.sites.get(&id))
        .ok_or_else(|| ApiError::NotFound(format!("no site has clientId {named:?}")))?;
    match origin_header(headers) {
        Some(o) if origin::is_allowed(&site.client, o) => Ok(site),
        // A page opened from a file, a sandboxed frame or a privacy redirect sends `null`:
        // no site can allow that, so saying "add it" would send the user in a circle.
        Some("null") => Err(ApiError::Forbidden {
            code: "origin_not_allowed",
            message: format!(
                "the page's origin is null (a page opened from a file://, a sandboxed iframe, or a redirect \
                 across sites), which cannot be allowed; serve the page over http(s) from {} or one of the \
                 site's extra origins",
                site.client.domain
            ),
        }),
        Some(o) => {
            app.note_refused_origin(&site.client.domain, o);
            Err(ApiError::Forbidden {
                code: "origin_not_allowed",
                message: format!(
                    "origin {o} may not send events for {}; add it to the site's extra origins: PUT \
                     /v1/clients/{{clientId}} with {{\"config\": {{\"allowedOrigins\": [\"{o}\"]}}}}, or \
                     Extra allowed origins in the dashboard's site settings",
                    site.client.domain
                ),
            })
        }
        None => Err(ApiError::Forbidden {
            code: "origin_required",
            message: "browsers send an Origin header; server-to-server senders must use X-API-Key".into(),
        }),
    }
}

fn rate_limited(refusal: Refusal) -> ApiError {
    let (who, wait) = match refusal {
        Refusal::Ip(w) => ("this IP address", w),
        Refusal::Client(w) => ("this site", w),
    };
    ApiError::TooManyRequests {
        message: format!("too many requests from {who}; retry after the Retry-After seconds"),
        retry_after_secs: wait.as_secs() + 1,
    }
}

async fn ingest(
    app: &App,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: Body,
    batch: bool,
) -> (Result<Response, ApiError>, Option<Arc<Site>>) {
    let ip = client_ip(app, headers, peer);
    if let Err(refusal) = app.limiter.check_ip(ip) {
        discard_body(body, MAX_BODY_BYTES).await;
        return (Err(rate_limited(refusal)), None);
    }
    if let Err(e) = check_content_type(headers) {
        discard_body(body, MAX_BODY_BYTES).await;
        return (Err(e), None);
    }
    let bytes = match read_body(headers, body).await {
        Ok(b) => b,
        Err(e) => return (Err(e), None),
    };
    let now = Timestamp::now();
    let ctx = RequestContext::from_headers(
        headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()),
        headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()),
    );
    let body = extract::without_bom(&bytes);
    let parsed = if batch { event::parse_batch(body, now, &ctx) } else { event::parse_single(body, now, &ctx) };
    // The site is identified even for a bad body when possible, so the answer can carry
    // CORS headers the tracker can read.
    let parsed = match parsed {
        Ok(p) => p,
        Err(e) => {
            app.metrics.events_rejected.fetch_add(1, Relaxed);
            let site = site_from_raw(app, body);
            return (Err(e.into()), site);
        }
    };
    let site = match identify(app, headers, &parsed) {
        Ok(site) => site,
        Err(e) => return (Err(e), None),
    };
    if !site.client.is_active {
        let e = ApiError::Forbidden { code: "client_inactive", message: "this site is deactivated".into() };
        return (Err(e), Some(site));
    }
    if let Err(refusal) = app.limiter.check_client(site.client.client_id) {
        return (Err(rate_limited(refusal)), Some(site));
    }
    let count = parsed.events.len();
    let result = match app.ingest(&site, parsed.events).await {
        Ok(outcome) => {
            Ok(axum::Json(Accepted { success: true, accepted: outcome.accepted, duplicates: outcome.duplicates })
                .into_response())
        }
        Err(e) => {
            app.metrics.events_rejected.fetch_add(count as u64, Relaxed);
            Err(e.into())
        }
    };
    (result, Some(site))
}

/// The answer to stored events (a struct, not a `json!` map: this is the hot path).
#[derive(serde::Serialize)]
struct Accepted {
    success: bool,
    accepted: usize,
    duplicates: usize,
}

/// Best effort: the `clientId` of a body that failed validation.
fn site_from_raw(app: &App, bytes: &[u8]) -> Option<Arc<Site>> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let id = uuid::Uuid::parse_str(value.get("clientId")?.as_str()?).ok()?;
    app.sites.get(&id)
}
