//! One error type for every HTTP answer that is not a success. Client errors say what was
//! wrong and how to fix it; server errors are logged with their cause and answered with an
//! opaque 500, so internals never leak.

use axum::Json;
use axum::body::HttpBody;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::app::AppError;
use crate::domain::event::EventError;
use crate::store::StoreError;

#[derive(Debug)]
pub enum ApiError {
    BadRequest {
        code: &'static str,
        message: String,
    },
    Validation {
        field: String,
        message: String,
    },
    /// No valid admin token or session: answered with a `Bearer` challenge.
    Unauthorized(String),
    /// An `X-API-Key` that is no site's secret key: answered with an `ApiKey` challenge, so a
    /// client reading the challenge is not sent to the admin API's scheme.
    BadApiKey(String),
    Forbidden {
        code: &'static str,
        message: String,
    },
    NotFound(String),
    MethodNotAllowed(String),
    RequestTimeout(String),
    Conflict(String),
    TooLarge {
        code: &'static str,
        message: String,
    },
    UnsupportedMediaType(String),
    TooManyRequests {
        message: String,
        retry_after_secs: u64,
    },
    Unavailable {
        message: String,
        retry_after_secs: u64,
    },
    /// 507: the server's disk has no room for what was asked (an online backup's copy).
    InsufficientStorage(String),
    Internal(String),
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest { code, message: message.into() }
    }

    pub fn invalid_param(name: &str, message: impl std::fmt::Display) -> Self {
        ApiError::Validation { field: name.to_string(), message: message.to_string() }
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError::Internal(cause.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::NotFound(format!("{what} not found")),
            StoreError::Conflict(message) => ApiError::Conflict(message),
            StoreError::Busy => ApiError::Unavailable { message: e.to_string(), retry_after_secs: 1 },
            StoreError::WriterStopped => {
                ApiError::Unavailable { message: "the server is shutting down".into(), retry_after_secs: 5 }
            }
            // Not the sender's fault, and retrying later can succeed (once the operator has
            // fixed the disk, the writer reopens the file): 503 with Retry-After, so the tracker and other
            // senders keep the events. The cause is in the server's log, not in public answers.
            StoreError::Io(_) => ApiError::Unavailable {
                message:
                    "the server cannot write its data file right now; nothing of this request was stored, retry later"
                        .into(),
                retry_after_secs: 30,
            },
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Validation(v) => ApiError::Validation { field: v.field, message: v.message },
            AppError::Store(s) => s.into(),
        }
    }
}

impl From<EventError> for ApiError {
    fn from(e: EventError) -> Self {
        match e {
            EventError::Invalid(message) => ApiError::BadRequest { code: "invalid_event", message },
            EventError::TooLarge { code, message } => ApiError::TooLarge { code, message },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // RFC 9110: a 401 names how to authenticate. Browsers prompt only for Basic, so
        // neither challenge opens a login dialog over the dashboard.
        let challenge = match &self {
            ApiError::Unauthorized(_) => Some("Bearer realm=\"crm-tracker\""),
            ApiError::BadApiKey(_) => Some("ApiKey realm=\"crm-tracker\", header=\"X-API-Key\""),
            _ => None,
        };
        let (status, code, message, field, retry) = match self {
            ApiError::BadRequest { code, message } => (StatusCode::BAD_REQUEST, code, message, None, None),
            ApiError::Validation { field, message } => {
                let text = format!("{field}: {message}");
                (StatusCode::BAD_REQUEST, "validation_failed", text, Some(field), None)
            }
            ApiError::Unauthorized(m) | ApiError::BadApiKey(m) => {
                (StatusCode::UNAUTHORIZED, "unauthorized", m, None, None)
            }
            ApiError::Forbidden { code, message } => (StatusCode::FORBIDDEN, code, message, None, None),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, "not_found", m, None, None),
            // The path exists, not with this method; `allowed` lists the ones it takes.
            ApiError::MethodNotAllowed(allowed) => {
                let m = format!("this endpoint does not accept that method; use one of {allowed}");
                (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", m, None, None)
            }
            ApiError::RequestTimeout(m) => (StatusCode::REQUEST_TIMEOUT, "request_timeout", m, None, None),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, "conflict", m, None, None),
            ApiError::TooLarge { code, message } => (StatusCode::PAYLOAD_TOO_LARGE, code, message, None, None),
            ApiError::UnsupportedMediaType(m) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", m, None, None)
            }
            ApiError::TooManyRequests { message, retry_after_secs } => {
                (StatusCode::TOO_MANY_REQUESTS, "rate_limited", message, None, Some(retry_after_secs))
            }
            ApiError::Unavailable { message, retry_after_secs } => {
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable", message, None, Some(retry_after_secs))
            }
            ApiError::InsufficientStorage(m) => {
                (StatusCode::INSUFFICIENT_STORAGE, "insufficient_storage", m, None, None)
            }
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal server error".to_string(), None, None)
            }
        };
        let mut body = json!({"error": {"code": code, "message": message}});
        if let Some(field) = field {
            body["error"]["field"] = json!(field);
        }
        let mut response = (status, Json(body)).into_response();
        // The rest of a timed-out request may still arrive; the connection cannot be reused.
        if status == StatusCode::REQUEST_TIMEOUT {
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if let Some(challenge) = challenge {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        if let Some(secs) = retry
            && let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Gives axum's own 405 (an empty body, set after every handler and layer ran, so no
/// fallback can see its `Allow` header) the API's error shape, keeping the header.
pub fn explain_method_not_allowed(response: Response) -> Response {
    if response.status() != StatusCode::METHOD_NOT_ALLOWED || response.body().size_hint().exact() != Some(0) {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let allowed = parts.headers.get(header::ALLOW).and_then(|v| v.to_str().ok()).unwrap_or("").replace(',', ", ");
    let body = ApiError::MethodNotAllowed(allowed).into_response().into_body();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error, ErrorKind};

    /// A full disk is the server's trouble, not the sender's: 503 with Retry-After (senders
    /// keep their events and retry), the usual error shape, and no file system details.
    #[tokio::test]
    async fn a_failing_data_file_answers_503_with_retry_after() {
        let full = StoreError::from(redb::CommitError::Storage(redb::StorageError::Io(Error::new(
            ErrorKind::StorageFull,
            "No space left on device",
        ))));
        assert!(matches!(full, StoreError::Io(_)) && full.is_fatal(), "{full:?}");
        assert!(matches!(StoreError::from(redb::Error::PreviousIo), StoreError::Io(_)));
        assert!(matches!(StoreError::from(redb::Error::Corrupted("x".into())), StoreError::Storage(_)));

        let response = ApiError::from(full).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "30");
        let body = axum::body::to_bytes(response.into_body(), 4096).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], "unavailable");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("nothing of this request was stored") && !message.contains("space"), "{message}");
    }
}
