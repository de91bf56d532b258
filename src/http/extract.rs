//! Request extractors that answer bad input in the API's error shape (axum's own
//! rejections are plain text), naming the field or parameter at fault.

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;
use serde_json::error::Category;
use std::future::Future;
use std::time::Duration;

use super::error::ApiError;
use crate::domain::model::Id;

/// How long a handler waits for a request body, from when it starts reading it. Bodies are
/// small (64 KiB for ingest, 256 KiB for admin), so 20 s allows even a poor mobile link
/// (about 3 KiB/s for the largest event batch), while a client that declares a length and
/// then stops sending gives its connection back in bounded time instead of never.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(20);

/// Reads a body with [`BODY_READ_TIMEOUT`]; a stalled body answers 408.
pub async fn within_body_timeout<T>(read: impl Future<Output = T>) -> Result<T, ApiError> {
    tokio::time::timeout(BODY_READ_TIMEOUT, read).await.map_err(|_| {
        ApiError::RequestTimeout(format!(
            "the request body did not arrive within {} seconds; send the whole body at once",
            BODY_READ_TIMEOUT.as_secs()
        ))
    })
}

/// Bodies are read as sent: a compressed body would only fail later as "not JSON".
pub fn reject_content_encoding(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get(header::CONTENT_ENCODING) {
        None => Ok(()),
        Some(v) if v.as_bytes().eq_ignore_ascii_case(b"identity") => Ok(()),
        Some(v) => Err(ApiError::UnsupportedMediaType(format!(
            "Content-Encoding {} is not supported; send the body uncompressed",
            v.to_str().unwrap_or("(not text)")
        ))),
    }
}

/// JSON is UTF-8 (RFC 8259): a body declared in another charset (`charset=utf-16`) would
/// only fail later as "not JSON". `Content-Type` is the header's value.
pub fn reject_foreign_charset(content_type: &str) -> Result<(), ApiError> {
    for param in content_type.split(';').skip(1) {
        let Some((name, value)) = param.split_once('=') else { continue };
        let value = value.trim().trim_matches('"');
        if name.trim().eq_ignore_ascii_case("charset")
            && !["utf-8", "utf8", "us-ascii"].iter().any(|ok| value.eq_ignore_ascii_case(ok))
        {
            return Err(ApiError::UnsupportedMediaType(format!(
                "charset {value} is not accepted; send the JSON as UTF-8 (charset=utf-8 or none)"
            )));
        }
    }
    Ok(())
}

/// A UTF-8 byte-order mark, which some Windows tools put before the JSON: not part of it.
pub fn without_bom(body: &[u8]) -> &[u8] {
    body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body)
}

/// A JSON body of type `T`; errors say which field was wrong.
pub struct JsonBody<T>(pub T);

/// Admin bodies are small; anything larger is a mistake.
const MAX_ADMIN_BODY: usize = 256 * 1024;

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !content_type.trim_start().to_ascii_lowercase().starts_with("application/json") {
            return Err(ApiError::UnsupportedMediaType(
                "send the body as JSON with Content-Type: application/json".into(),
            ));
        }
        reject_foreign_charset(content_type)?;
        reject_content_encoding(req.headers())?;
        let bytes = read_admin_body(req.into_body()).await?;
        parse_json(without_bom(&bytes)).map(JsonBody)
    }
}

async fn read_admin_body(body: Body) -> Result<Bytes, ApiError> {
    read_limited(body, MAX_ADMIN_BODY, || ApiError::TooLarge {
        code: "body_too_large",
        message: format!("bodies are limited to {MAX_ADMIN_BODY} bytes"),
    })
    .await
}

/// Reads a whole body of at most `max` bytes within [`BODY_READ_TIMEOUT`]. `to_bytes` fails
/// for the limit, or for a body that is not one (broken chunked framing, a connection lost
/// mid-body): only the limit is `too_large` (413, which the tracker takes as final for its
/// events); the other is 400 `unreadable_body`.
pub async fn read_limited(body: Body, max: usize, too_large: impl FnOnce() -> ApiError) -> Result<Bytes, ApiError> {
    within_body_timeout(to_bytes(body, max)).await?.map_err(|e| {
        if std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>()) {
            too_large()
        } else {
            ApiError::bad_request("unreadable_body", format!("could not read the body: {e}"))
        }
    })
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let top = path == "." || path.is_empty();
        match inner.classify() {
            // serde_json reports a number or list where an enum's name belongs as a syntax
            // error ("expected value"); in JSON that parses, it is the field's type.
            Category::Syntax if !top && let Ok(body) = serde_json::from_slice::<serde_json::Value>(bytes) => {
                let got = body.pointer(&format!("/{}", path.replace('.', "/"))).map(json_kind);
                ApiError::Validation {
                    message: match got {
                        Some(kind) => format!("has the wrong type ({kind}); see the API reference for its values"),
                        None => "has the wrong type; see the API reference for its values".into(),
                    },
                    field: path,
                }
            }
            // Broken syntax has no field to blame; the error names the line and column.
            Category::Syntax | Category::Eof | Category::Io => {
                ApiError::bad_request("invalid_json", format!("the body is not valid JSON: {inner}"))
            }
            Category::Data if top => whole_body_error(&inner),
            Category::Data => ApiError::Validation { field: path, message: data_message(&inner.to_string()) },
        }
    })?;
    // `{"status":"partial"}{"status":"submitted"}` is not one JSON value: refused, not read
    // up to its first value.
    de.end().map_err(|e| {
        ApiError::bad_request("invalid_json", format!("the body is not valid JSON: {e} (more after the JSON value)"))
    })?;
    Ok(value)
}

/// serde's message about a value, without what only a parser needs: the position (the
/// field is named already), Rust type names, and the backticks around names.
/// `unknown variant `bogus`, expected one of `a`, `b` at line 1 column 17` becomes
/// `"bogus" is not one of: a, b`; `…, expected u32 at line 1 column 29`, `…, expected a whole
/// number 0 or more`.
fn data_message(text: &str) -> String {
    let text = match text.rfind(" at line ") {
        Some(at) if is_position(&text[at + " at line ".len()..]) => &text[..at],
        _ => text,
    };
    if let Some(rest) = text.strip_prefix("unknown variant `")
        && let Some((value, expected)) = rest.split_once('`')
    {
        let expected = expected.trim_start_matches(", ");
        let names = expected.strip_prefix("expected one of ").or_else(|| expected.strip_prefix("expected "));
        return match names {
            Some(names) => format!("{value:?} is not one of: {}", names.replace('`', "")),
            None => format!("{value:?} is not an accepted value"),
        };
    }
    for (rust, plain) in [
        ("u8", "a whole number 0 or more"),
        ("u16", "a whole number 0 or more"),
        ("u32", "a whole number 0 or more"),
        ("u64", "a whole number 0 or more"),
        ("usize", "a whole number 0 or more"),
        ("i32", "a whole number"),
        ("i64", "a whole number"),
        ("f64", "a number"),
    ] {
        if let Some(start) = text.strip_suffix(rust).filter(|t| t.ends_with("expected ")) {
            return format!("{start}{plain}");
        }
    }
    text.to_string()
}

/// `N column M`, the tail of serde_json's error positions.
fn is_position(tail: &str) -> bool {
    let Some((line, column)) = tail.split_once(" column ") else { return false };
    !line.is_empty() && !column.is_empty() && (line.bytes().chain(column.bytes())).all(|b| b.is_ascii_digit())
}

/// What kind of JSON value this is, for error messages.
fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

/// A well-formed body that does not fit as a whole: a required field is missing (named
/// like any other field error), or the body is not an object at all.
fn whole_body_error(inner: &serde_json::Error) -> ApiError {
    let text = inner.to_string();
    if let Some((field, _)) = serde_field(&text, "missing field") {
        return ApiError::Validation { field: field.into(), message: "is required".into() };
    }
    if let Some((field, _)) = serde_field(&text, "unknown field") {
        return ApiError::Validation { field: field.into(), message: "is not a field of this request".into() };
    }
    if text.starts_with("invalid type") || text.starts_with("invalid length") {
        return ApiError::bad_request("invalid_body", "the body must be a JSON object");
    }
    ApiError::bad_request("invalid_body", format!("the body is not valid: {}", data_message(&text)))
}

/// The field a serde message of this kind names (`unknown field `x`, expected …`), and
/// what follows it.
fn serde_field<'a>(text: &'a str, kind: &str) -> Option<(&'a str, &'a str)> {
    text.strip_prefix(kind)?.strip_prefix(" `")?.split_once('`')
}

/// Query parameters of type `T`; errors name the parameter.
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de).map(QueryParams).map_err(|e| {
            let path = e.path().to_string();
            let text = e.into_inner().to_string();
            // A parameter this endpoint does not take: a typo would otherwise silently drop
            // a filter.
            if let Some((name, known)) = serde_field(&text, "unknown field") {
                let known = known.trim_start_matches(", ").replace('`', "");
                return ApiError::invalid_param(name, format!("is not a parameter of this endpoint ({known})"));
            }
            if path != "." && !path.is_empty() {
                return ApiError::invalid_param(&path, text);
            }
            // A whole-query error: most often a parameter given twice.
            match repeated_param(query) {
                Some(name) => ApiError::invalid_param(&name, "is given more than once; send it once"),
                None => ApiError::bad_request("invalid_query", format!("the query string is not valid: {text}")),
            }
        })
    }
}

fn repeated_param(query: &str) -> Option<String> {
    let names: Vec<_> = form_urlencoded::parse(query.as_bytes()).map(|(name, _)| name).collect();
    names.iter().enumerate().find(|(i, name)| names[..*i].contains(name)).map(|(_, name)| name.to_string())
}

/// Path parameters of type `T`; errors name the parameter as the API spells it (`leadId`).
pub struct PathParam<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PathParam<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(PathParam(value)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => Err(match e.into_kind() {
                ErrorKind::InvalidUtf8InPathParam { key } => {
                    ApiError::invalid_param(&camel_case(&key), "is not valid UTF-8 once percent-decoded")
                }
                ErrorKind::ParseErrorAtKey { key, value, expected_type } => {
                    ApiError::invalid_param(&camel_case(&key), format!("{value:?} is not a {expected_type}"))
                }
                ErrorKind::DeserializeError { key, value, message } => {
                    ApiError::invalid_param(&camel_case(&key), format!("{value:?}: {message}"))
                }
                other => ApiError::bad_request("invalid_path", format!("the path is not valid: {other}")),
            }),
            // Only a route declared without the parameters its handler reads.
            Err(other) => Err(ApiError::internal(other.body_text())),
        }
    }
}

/// `lead_id` (the route's name) → `leadId` (the API's name).
fn camel_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        match c {
            '_' => upper = true,
            c if upper => {
                out.extend(c.to_uppercase());
                upper = false;
            }
            c => out.push(c),
        }
    }
    out
}

/// Parses an id from the path or a parameter.
pub fn parse_id(name: &str, text: &str) -> Result<Id, ApiError> {
    Id::parse_str(text.trim()).map_err(|_| ApiError::invalid_param(name, format!("{text:?} is not a UUID")))
}

/// A query parameter's value, treating absent, empty and blank alike.
pub fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_errors_lose_the_parser_noise() {
        let cases = [
            (
                "invalid type: string \"x\", expected u32 at line 1 column 29",
                "invalid type: string \"x\", expected a whole number 0 or more",
            ),
            (
                "unknown variant `bogus`, expected one of `optional`, `required` at line 1 column 17",
                "\"bogus\" is not one of: optional, required",
            ),
            ("unknown variant `x`, expected `only` at line 3 column 2", "\"x\" is not one of: only"),
            (
                "invalid value: integer `-1`, expected u32",
                "invalid value: integer `-1`, expected a whole number 0 or more",
            ),
            ("must be at line 1 column x", "must be at line 1 column x"),
            ("names the line 4 column 2 itself", "names the line 4 column 2 itself"),
        ];
        for (serde, ours) in cases {
            assert_eq!(data_message(serde), ours);
        }
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Update {
        status: Option<String>,
        limit: Option<u32>,
    }

    fn code_and_message(e: ApiError) -> (String, String) {
        match e {
            ApiError::BadRequest { code, message } => (code.to_string(), message),
            ApiError::Validation { field, message } => (format!("field:{field}"), message),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn broken_json_is_a_syntax_error_with_its_position_not_a_field() {
        for body in ["{", "{\"status\": ", "{\"status\": \"a\",}", "nope"] {
            let (code, message) = code_and_message(parse_json::<Update>(body.as_bytes()).unwrap_err());
            assert_eq!(code, "invalid_json", "{body}: {message}");
            assert!(message.contains("line 1 column"), "{message}");
        }
        let (code, _) = code_and_message(parse_json::<Update>(b"{\"limit\": \"x\"}").unwrap_err());
        assert_eq!(code, "field:limit");
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Named {
        name: String,
        kind: Option<Kind>,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        One,
    }

    /// Valid JSON that does not fit is the request's fault, field by field: never
    /// "invalid JSON".
    #[test]
    fn well_formed_bodies_that_do_not_fit_name_the_field() {
        let (code, message) = code_and_message(parse_json::<Named>(b"{}").unwrap_err());
        assert_eq!((code.as_str(), message.as_str()), ("field:name", "is required"));
        let (code, message) = code_and_message(parse_json::<Named>(b"{\"name\": \"a\", \"kind\": 5}").unwrap_err());
        assert_eq!(code, "field:kind");
        assert!(message.contains("wrong type (a number)"), "{message}");
        for body in ["[]", "5", "\"x\""] {
            let (code, message) = code_and_message(parse_json::<Named>(body.as_bytes()).unwrap_err());
            assert_eq!((code.as_str(), message.as_str()), ("invalid_body", "the body must be a JSON object"), "{body}");
        }
    }

    #[test]
    fn repeated_parameters_are_found() {
        assert_eq!(repeated_param("limit=1&limit=2").as_deref(), Some("limit"));
        assert_eq!(repeated_param("a=1&b=2&c=3&b=4").as_deref(), Some("b"));
        assert_eq!(repeated_param("a=1&b=2"), None);
        assert_eq!(repeated_param(""), None);
    }

    #[test]
    fn route_parameter_names_become_api_names() {
        assert_eq!(camel_case("lead_id"), "leadId");
        assert_eq!(camel_case("client_id"), "clientId");
        assert_eq!(camel_case("file"), "file");
    }

    #[test]
    fn content_encodings_are_refused_except_identity() {
        let mut headers = HeaderMap::new();
        assert!(reject_content_encoding(&headers).is_ok());
        headers.insert(header::CONTENT_ENCODING, "identity".parse().unwrap());
        assert!(reject_content_encoding(&headers).is_ok());
        headers.insert(header::CONTENT_ENCODING, "gzip".parse().unwrap());
        assert!(
            matches!(reject_content_encoding(&headers), Err(ApiError::UnsupportedMediaType(m)) if m.contains("gzip"))
        );
    }
}
