//! Request extractors that answer bad input in the API's error shape (axum's own
//! rejections are plain text), naming the field or parameter at fault.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::domain::model::Id;

/// A JSON body of type `T`; errors say which field was wrong.
pub struct JsonBody<T>(pub T);

/// Admin bodies are small; anything larger is a mistake.
const MAX_ADMIN_BODY: usize = 256 * 1024;

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("application/json"));
        if !is_json {
            return Err(ApiError::UnsupportedMediaType(
                "send the body as JSON with Content-Type: application/json".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::bad_request("unreadable_body", format!("could not read the body: {e}")))?;
        if bytes.len() > MAX_ADMIN_BODY {
            return Err(ApiError::TooLarge {
                code: "body_too_large",
                message: format!("bodies are limited to {MAX_ADMIN_BODY} bytes"),
            });
        }
        parse_json(&bytes).map(JsonBody)
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || path.is_empty() {
            ApiError::bad_request("invalid_json", format!("the body is not valid: {inner}"))
        } else {
            ApiError::Validation { field: path, message: inner.to_string() }
        }
    })
}

/// Query parameters of type `T`; errors name the parameter.
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(QueryParams)
            .map_err(|e| ApiError::invalid_param(&e.path().to_string(), e.into_inner()))
    }
}

/// Parses an id from the path or a parameter.
pub fn parse_id(name: &str, text: &str) -> Result<Id, ApiError> {
    Id::parse_str(text.trim()).map_err(|_| ApiError::invalid_param(name, format!("{text:?} is not a UUID")))
}

/// A query parameter's value, treating absent, empty and blank alike.
pub fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}
