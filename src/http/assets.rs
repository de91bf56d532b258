//! Embedded web assets: the dashboard at `/admin` and the demo landing page at `/demo`.
//! Everything is compiled into the binary with rust-embed; no files are read at run time.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use rust_embed::RustEmbed;

use super::error::ApiError;
use super::extract::PathParam;
use crate::app::App;
use crate::demo::DEMO_DOMAIN;
use crate::store::queries;

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;

/// The dashboard runs only its own code: no inline script, no framing, no third parties.
pub const ADMIN_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

pub fn router() -> Router<App> {
    Router::new()
        .route("/", get(|| async { Redirect::temporary("/admin/") }))
        .route("/admin", get(|| async { Redirect::permanent("/admin/") }))
        .route("/admin/", get(admin_index))
        .route("/admin/{*path}", get(admin_file))
        .route("/demo", get(demo_page))
        .route("/demo/", get(demo_page))
        .route("/demo/thanks", get(thanks).post(thanks))
        .route("/demo/{file}", get(demo_file))
}

fn file(path: &str, csp: Option<&'static str>) -> Response {
    let Some(content) = Assets::get(path) else {
        return ApiError::NotFound("no such file".into()).into_response();
    };
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let mut response = content.data.into_owned().into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(mime.essence_str()) {
        h.insert(header::CONTENT_TYPE, v);
    }
    // Assets change with the binary; revalidate rather than cache stale code.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Some(csp) = csp {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    }
    response
}

async fn admin_index() -> Response {
    file("admin/index.html", Some(ADMIN_CSP))
}

async fn admin_file(PathParam(path): PathParam<String>) -> Response {
    if path.contains("..") {
        return ApiError::NotFound("no such file".into()).into_response();
    }
    // Unknown paths under /admin are client-side routes of the single-page app.
    let full = format!("admin/{path}");
    if Assets::get(&full).is_none() && !path.contains('.') {
        return admin_index().await;
    }
    file(&full, Some(ADMIN_CSP))
}

/// The demo landing page, loading the demo site's script like a real site would.
fn demo_off() -> Response {
    ApiError::NotFound("the demo is off; start the server with --demo".into()).into_response()
}

/// The demo pages exist only while the server runs with `--demo`, even on a data file that
/// still holds the demo site.
async fn demo_page(State(app): State<App>, headers: HeaderMap) -> Response {
    if !app.config.demo {
        return demo_off();
    }
    let client = app.read(|txn| queries::client_by_domain(txn, DEMO_DOMAIN)).await.ok().flatten();
    let Some(client) = client else { return demo_off() };
    let Some(page) = Assets::get("demo/index.html") else {
        return ApiError::internal("demo page missing from the build").into_response();
    };
    let base = super::base_url(&app, &headers);
    let html = String::from_utf8_lossy(&page.data)
        .replace("__SCRIPT_URL__", &format!("{base}/script/{}.js", client.client_id));
    let mut response = html.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    response
}

async fn thanks(State(app): State<App>) -> Response {
    if !app.config.demo {
        return demo_off();
    }
    file("demo/thanks.html", None)
}

async fn demo_file(State(app): State<App>, PathParam(name): PathParam<String>) -> Response {
    if !app.config.demo {
        return demo_off();
    }
    if name.contains("..") || name.contains('/') || name == "index.html" {
        return ApiError::NotFound("no such file".into()).into_response();
    }
    file(&format!("demo/{name}"), None)
}
