//! `GET /v1/admin/backup`: a consistent snapshot of the live database, streamed.
//!
//! The snapshot is copied from an MVCC read transaction into a temporary file beside the
//! data file (the writer keeps committing meanwhile), then streamed and deleted. Beside it,
//! not in the temp directory: that is often a small RAM disk, and the copy is as large as
//! the database. So the copy must not fill the disk the live writer needs: without room for
//! it (the data file's size and a margin) the backup is refused up front. A copy left by a
//! server killed mid-backup is removed on the next start.

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::auth::Admin;
use super::error::{ApiError, ApiResult};
use crate::app::App;
use crate::store::{StoreError, backup};
use std::path::{Path, PathBuf};

pub fn router() -> Router<App> {
    Router::new().route("/v1/admin/backup", get(download))
}

/// Random characters at the end of a copy's directory name.
const COPY_RANDOM_CHARS: usize = 6;

/// Free space the live database keeps beyond the copy: its own next commits and growth.
const SPARE_BYTES: u64 = 64 * 1024 * 1024;

fn data_dir(data: &Path) -> PathBuf {
    data.parent().filter(|p| !p.as_os_str().is_empty()).map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The prefix of this data file's backup copies (another server's data file in the same
/// directory has its own, so one server's start never removes the other's running backup).
fn copy_prefix(data: &Path) -> String {
    let name = data.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    format!(".crm-backup-stream-{name}-")
}

/// Removes backup copies a server killed mid-backup left beside `data`. Called at start,
/// while this process holds the data file, so none of them is in use.
pub fn remove_stale_copies(data: &Path) {
    let prefix = copy_prefix(data);
    let Ok(entries) = std::fs::read_dir(data_dir(data)) else { return };
    for entry in entries.flatten() {
        // The prefix, then tempfile's six random characters: `crm.redb-old`'s copies
        // (`….crm.redb-old-XXXXXX`) share the prefix of `crm.redb`'s but not the length.
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = name
            .strip_prefix(&prefix)
            .is_some_and(|rest| rest.len() == COPY_RANDOM_CHARS && rest.chars().all(|c| c.is_ascii_alphanumeric()));
        if ours {
            match std::fs::remove_dir_all(entry.path()) {
                Ok(()) => {
                    tracing::info!(path = %entry.path().display(), "removed a backup copy left by a stopped server")
                }
                Err(e) => {
                    tracing::warn!(path = %entry.path().display(), error = %e, "could not remove an old backup copy")
                }
            }
        }
    }
}

async fn download(_: Admin, State(app): State<App>) -> ApiResult<Response> {
    let dir = data_dir(&app.config.data);
    let size = std::fs::metadata(&app.config.data).map(|m| m.len()).unwrap_or(0);
    if let Some(free) = backup::free_space(&dir)
        && free < size + SPARE_BYTES
    {
        return Err(no_room(size, free));
    }
    let tmp = tempfile::Builder::new()
        .prefix(&copy_prefix(&app.config.data))
        .rand_bytes(COPY_RANDOM_CHARS)
        .tempdir_in(&dir)
        .map_err(ApiError::internal)?;
    let path = tmp.path().join("backup.redb");
    let db = app.store.database()?;
    let copy_path = path.clone();
    tokio::task::spawn_blocking(move || backup::snapshot(db.as_ref(), &copy_path))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| match &e {
        StoreError::Io(cause) if cause.contains("No space left") || cause.contains("os error 28") => {
            no_room(size, backup::free_space(&dir).unwrap_or(0))
        }
        _ => e.into(),
    })?;
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

fn no_room(size: u64, free: u64) -> ApiError {
    const MB: u64 = 1024 * 1024;
    ApiError::InsufficientStorage(format!(
        "not enough free disk space beside the data file for the backup copy: it needs about {} MB and {} MB \
         are free; free some space, or stop the server and run `crm-tracker backup --out` onto another disk",
        (size + SPARE_BYTES).div_ceil(MB),
        free / MB
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_removes_only_its_own_data_files_leftover_copies() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("crm.redb");
        let own = dir.path().join(".crm-backup-stream-crm.redb-a1b2c3");
        let other = dir.path().join(".crm-backup-stream-shop.redb-c3d4e5");
        // The copy of a data file whose name begins like this one's.
        let longer = dir.path().join(".crm-backup-stream-crm.redb-old-f6g7h8");
        for d in [&own, &other, &longer] {
            std::fs::create_dir(d).unwrap();
            std::fs::write(d.join("backup.redb"), b"copy").unwrap();
        }
        remove_stale_copies(&data);
        assert!(!own.exists(), "this data file's leftover copy is removed");
        assert!(other.exists(), "another server's copy (maybe being streamed) is left alone");
        assert!(longer.exists(), "crm.redb-old's copy is not crm.redb's");
    }

    #[test]
    fn free_space_is_read_from_the_file_system() {
        let dir = tempfile::tempdir().unwrap();
        assert!(backup::free_space(dir.path()).is_some_and(|free| free > 0));
        assert_eq!(backup::free_space(&dir.path().join("missing")), None);
    }
}
