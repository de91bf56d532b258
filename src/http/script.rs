//! `GET /script/{clientId}.js` and `GET /script/chat.js`: precompressed, cached, ETag/304.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::error::ApiError;
use super::extract::PathParam;
use crate::app::App;
use crate::app::script::{Built, chat_script};

pub fn router() -> Router<App> {
    Router::new().route("/script/{file}", get(script))
}

async fn script(State(app): State<App>, headers: HeaderMap, PathParam(file): PathParam<String>) -> Response {
    if file == "chat.js" {
        return send(&headers, chat_script());
    }
    let Some(id) = file.strip_suffix(".js").and_then(|id| uuid::Uuid::parse_str(id).ok()) else {
        return ApiError::NotFound("no such script; the snippet names /script/<clientId>.js".into()).into_response();
    };
    let base = super::base_url(&app, &headers);
    let Some(built) = app.tracker_script(&id, &base) else {
        return ApiError::NotFound("no active site has this clientId".into()).into_response();
    };
    let mut response = send(&headers, &built);
    // The endpoint inside the script came from these headers: a shared cache must not hand
    // one Host's script (say `"e":"http://evil.example"`) to requests for another.
    if app.config.public_url.is_none() {
        let vary =
            if app.config.trust_proxy { "Accept-Encoding, Host, X-Forwarded-Proto" } else { "Accept-Encoding, Host" };
        response.headers_mut().insert(header::VARY, HeaderValue::from_static(vary));
    }
    response
}

fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
        |part| {
            let mut it = part.split(';');
            let name = it.next().unwrap_or("").trim();
            let refused = it.any(|p| p.trim().replace(' ', "") == "q=0");
            name.eq_ignore_ascii_case(coding) && !refused
        },
    )
}

fn send(headers: &HeaderMap, built: &Built) -> Response {
    let etag = HeaderValue::from_str(&built.etag).unwrap_or(HeaderValue::from_static("\"0\""));
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim().trim_start_matches("W/") == built.etag));
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else if !built.brotli.is_empty() && accepts(headers, "br") {
        let mut r = built.brotli.clone().into_response();
        r.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
        r
    } else if !built.gzip.is_empty() && accepts(headers, "gzip") {
        let mut r = built.gzip.clone().into_response();
        r.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        r
    } else {
        built.identity.clone().into_response()
    };
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/javascript; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    h.insert(header::ETAG, etag);
    // Any site may load the script.
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}
