//! `GET /v1/admin/backup`: a consistent snapshot of the live database, streamed.
//!
//! The snapshot is copied from an MVCC read transaction into a temporary file (the writer
//! keeps committing meanwhile), then streamed and deleted.

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::auth::Admin;
use super::error::{ApiError, ApiResult};
use crate::app::App;
use crate::store::backup;

pub fn router() -> Router<App> {
    Router::new().route("/v1/admin/backup", get(download))
}

async fn download(_: Admin, State(app): State<App>) -> ApiResult<Response> {
    let dir = app
        .config
        .data
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(|p| p.to_path_buf())
        .unwrap_or_else(std::env::temp_dir);
    let tmp = tempfile::Builder::new().prefix(".crm-backup-stream-").tempdir_in(&dir).map_err(ApiError::internal)?;
    let path = tmp.path().join("backup.redb");
    let db = app.store.database()?;
    let copy_path = path.clone();
    tokio::task::spawn_blocking(move || backup::snapshot(db.as_ref(), &copy_path))
        .await
        .map_err(ApiError::internal)??;
    let file = tokio::fs::File::open(&path).await.map_err(ApiError::internal)?;
    let len = file.metadata().await.map_err(ApiError::internal)?.len();
    // The directory is removed once the stream (which holds it) is dropped; on Unix the
    // open file stays readable after that.
    let stream = tokio_util::io::ReaderStream::new(file);
    let guarded = futures_util::StreamExt::map(stream, move |chunk| {
        let _keep = &tmp;
        chunk
    });
    let mut response = Body::from_stream(guarded).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"crm-tracker-backup.redb\""));
    if let Ok(v) = HeaderValue::from_str(&len.to_string()) {
        h.insert(header::CONTENT_LENGTH, v);
    }
    tracing::info!(bytes = len, "online backup streamed");
    Ok(response)
}
