//! Inbound tracker events: parse, check limits, normalise. Parse, don't validate: the rest
//! of the pipeline only ever sees a [`TrackEvent`], never raw JSON.

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use thiserror::Error;
use uuid::Uuid;

use super::enrich::{self, RequestContext};
use super::model::EventType;
use super::redact;
use super::time::Timestamp;

/// Ingest limits (ARCHITECTURE.md "Ingest contract").
pub const MAX_BODY_BYTES: usize = 64 * 1024;
pub const MAX_EVENTS_PER_BATCH: usize = 50;
pub const MAX_FIELDS_PER_EVENT: usize = 50;
pub const MAX_VALUE_BYTES: usize = 4 * 1024;
const MAX_ID_LEN: usize = 128;

#[derive(Debug, Error, PartialEq)]
pub enum EventError {
    #[error("{0}")]
    Invalid(String),
    /// A size limit was exceeded; answered with 413.
    #[error("{message}")]
    TooLarge { code: &'static str, message: String },
}

impl EventError {
    fn invalid(at: &str, msg: impl std::fmt::Display) -> Self {
        EventError::Invalid(format!("{at}: {msg}"))
    }
}

/// One validated, redacted event, ready for the lead rules and the store.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackEvent {
    pub client_event_id: Uuid,
    pub event_type: EventType,
    pub timestamp: Timestamp,
    pub session_id: Option<String>,
    pub visitor_id: Option<String>,
    pub form_ref: Option<String>,
    pub form_selector: Option<String>,
    pub form_started_at: Option<Timestamp>,
    /// Field values as text, sensitive names dropped and sensitive values redacted.
    pub fields: BTreeMap<String, String>,
    /// The event object, redacted, less what the fields above hold; stored as the event's
    /// payload.
    pub payload: Map<String, Value>,
}

impl TrackEvent {
    pub fn page_url(&self) -> Option<&str> {
        self.payload.get("page")?.get("url")?.as_str()
    }
}

fn optional_text(obj: &Map<String, Value>, key: &str, at: &str, max: usize) -> Result<Option<String>, EventError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.len() > max => {
            Err(EventError::invalid(&format!("{at}.{key}"), format!("must be at most {max} bytes")))
        }
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(_) => Err(EventError::invalid(&format!("{at}.{key}"), "must be a string")),
    }
}

/// Field values arrive as strings, numbers, booleans or lists (multi-selects, checkbox
/// groups); all become text.
fn field_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.trim().to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(field_text).filter(|s| !s.is_empty()).collect();
            Some(parts.join(", "))
        }
        Value::Object(_) => None,
    }
}

/// Every string anywhere in the event must fit the per-value limit.
fn check_value_sizes(value: &Value, path: &mut String) -> Result<(), EventError> {
    match value {
        Value::String(s) if s.len() > MAX_VALUE_BYTES => Err(EventError::TooLarge {
            code: "value_too_long",
            message: format!("{path} is {} bytes; values are limited to {MAX_VALUE_BYTES} bytes", s.len()),
        }),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                check_value_sizes(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Object(map) => {
            for (k, v) in map {
                if k.len() > MAX_VALUE_BYTES {
                    return Err(EventError::TooLarge {
                        code: "value_too_long",
                        message: format!(
                            "{path} has a key of {} bytes; keys are limited to {MAX_VALUE_BYTES} bytes",
                            k.len()
                        ),
                    });
                }
                let len = path.len();
                path.push('.');
                path.push_str(k);
                check_value_sizes(v, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Parses one event object. `at` names it in errors (`events[3]`).
pub fn parse_event(value: Value, at: &str, now: Timestamp, ctx: &RequestContext) -> Result<TrackEvent, EventError> {
    let Value::Object(mut obj) = value else {
        return Err(EventError::invalid(at, "each event must be a JSON object"));
    };
    // The site is named once per request, not per stored event.
    obj.remove("clientId");
    for (k, v) in &obj {
        let mut path = format!("{at}.{k}");
        check_value_sizes(v, &mut path)?;
    }

    let id_text = match obj.get("id") {
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err(EventError::invalid(&format!("{at}.id"), "must be a UUID string")),
        None => {
            return Err(EventError::invalid(
                &format!("{at}.id"),
                "is required: give every event a UUID (v7 preferred) and repeat it on retries",
            ));
        }
    };
    let client_event_id = Uuid::parse_str(id_text)
        .map_err(|_| EventError::invalid(&format!("{at}.id"), format!("{id_text:?} is not a UUID")))?;

    let event_type = match obj.get("type") {
        Some(Value::String(t)) => EventType::parse(t).ok_or_else(|| {
            EventError::invalid(
                &format!("{at}.type"),
                format!(
                    "unknown event type {t:?}; expected one of form_submission, form_interaction, chat_message_sent, tracker_initialized"
                ),
            )
        })?,
        _ => return Err(EventError::invalid(&format!("{at}.type"), "is required and must be a string")),
    };

    let timestamp = match obj.get("timestamp") {
        None | Some(Value::Null) => now,
        Some(Value::String(t)) => Timestamp::parse_rfc3339(t)
            .ok_or_else(|| EventError::invalid(&format!("{at}.timestamp"), format!("{t:?} is not an RFC 3339 time")))?,
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Timestamp)
            .ok_or_else(|| EventError::invalid(&format!("{at}.timestamp"), "must be milliseconds since 1970"))?,
        Some(_) => return Err(EventError::invalid(&format!("{at}.timestamp"), "must be an RFC 3339 string")),
    };
    let form_started_at = match obj.get("formStartedAt") {
        Some(Value::String(t)) => Timestamp::parse_rfc3339(t),
        Some(Value::Number(n)) => n.as_i64().map(Timestamp),
        _ => None,
    };

    let session_id = optional_text(&obj, "sessionId", at, MAX_ID_LEN)?;
    let visitor_id = optional_text(&obj, "visitorId", at, MAX_ID_LEN)?;
    let form_ref = optional_text(&obj, "formId", at, 256)?;
    let form_selector = optional_text(&obj, "formSelector", at, 512)?;

    let field_names: Vec<String> = match obj.get("fields") {
        Some(Value::Object(m)) => m.iter().filter(|(_, v)| !is_blank(v)).map(|(k, _)| k.clone()).collect(),
        _ => Vec::new(),
    };
    enrich::enrich(&mut obj, &field_names, ctx);
    // Redact before anything else reads the values.
    redact::redact_map(&mut obj);

    let mut fields = BTreeMap::new();
    match obj.get("fields") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            if map.len() > MAX_FIELDS_PER_EVENT {
                return Err(EventError::TooLarge {
                    code: "too_many_fields",
                    message: format!(
                        "{at}.fields has {} fields; an event may carry at most {MAX_FIELDS_PER_EVENT}",
                        map.len()
                    ),
                });
            }
            for (name, value) in map {
                if name.trim().is_empty() {
                    continue;
                }
                match field_text(value) {
                    Some(text) if !text.is_empty() => {
                        fields.insert(name.trim().to_string(), text);
                    }
                    Some(_) => {}
                    None if value.is_object() => {
                        return Err(EventError::invalid(
                            &format!("{at}.fields.{name}"),
                            "must be a string, number, boolean or list, not an object",
                        ));
                    }
                    None => {}
                }
            }
        }
        Some(_) => return Err(EventError::invalid(&format!("{at}.fields"), "must be an object of name → value")),
    }
    // A single-field interaction (`fieldName`/`fieldValue`) counts as a field too.
    if let (Some(Value::String(name)), Some(value)) = (obj.get("fieldName"), obj.get("fieldValue"))
        && let Some(text) = field_text(value).filter(|t| !t.is_empty())
        && !fields.contains_key(name.trim())
        && !redact::is_sensitive_name(name)
        && !name.trim().is_empty()
    {
        if fields.len() >= MAX_FIELDS_PER_EVENT {
            return Err(EventError::TooLarge {
                code: "too_many_fields",
                message: format!("{at} carries more than {MAX_FIELDS_PER_EVENT} fields"),
            });
        }
        fields.insert(name.trim().to_string(), text);
    }
    // `fieldValue` of a sensitive `fieldName` must not survive in the payload either.
    if obj.get("fieldName").and_then(Value::as_str).is_some_and(redact::is_sensitive_name) {
        obj.remove("fieldValue");
    }

    // Stored once, as the event's columns, not again in its payload.
    for column in ["id", "type", "timestamp", "sessionId", "visitorId", "formId"] {
        obj.remove(column);
    }

    Ok(TrackEvent {
        client_event_id,
        event_type,
        timestamp,
        session_id,
        visitor_id,
        form_ref,
        form_selector,
        form_started_at,
        fields,
        payload: obj,
    })
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// A parsed request body: the site it names (if any) and its events.
#[derive(Debug)]
pub struct ParsedBody {
    pub client_id: Option<String>,
    pub events: Vec<TrackEvent>,
}

fn body_client_id(obj: &Map<String, Value>) -> Result<Option<String>, EventError> {
    match obj.get("clientId") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(_) => Err(EventError::invalid("clientId", "must be a string")),
    }
}

fn parse_json(body: &[u8]) -> Result<Value, EventError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(EventError::TooLarge {
            code: "body_too_large",
            message: format!("the body is {} bytes; the limit is {MAX_BODY_BYTES} bytes", body.len()),
        });
    }
    serde_json::from_slice(body).map_err(|e| EventError::Invalid(format!("the body is not valid JSON: {e}")))
}

/// `POST /v1/track`: one event object with a `clientId`.
pub fn parse_single(body: &[u8], now: Timestamp, ctx: &RequestContext) -> Result<ParsedBody, EventError> {
    let value = parse_json(body)?;
    let Value::Object(obj) = &value else {
        return Err(EventError::Invalid("the body must be a JSON object (one event)".into()));
    };
    let client_id = body_client_id(obj)?;
    let event = parse_event(value, "event", now, ctx)?;
    Ok(ParsedBody { client_id, events: vec![event] })
}

/// `POST /v1/track/batch`: `{clientId, events: [...]}`. All or nothing: one bad event
/// rejects the batch, so a sender never has to guess which events were stored.
pub fn parse_batch(body: &[u8], now: Timestamp, ctx: &RequestContext) -> Result<ParsedBody, EventError> {
    let value = parse_json(body)?;
    let Value::Object(mut obj) = value else {
        return Err(EventError::Invalid("the body must be a JSON object: {\"clientId\": …, \"events\": […]}".into()));
    };
    let client_id = body_client_id(&obj)?;
    let events = match obj.remove("events") {
        Some(Value::Array(events)) => events,
        Some(_) => return Err(EventError::invalid("events", "must be an array of event objects")),
        None => return Err(EventError::invalid("events", "is required: an array of event objects")),
    };
    if events.is_empty() {
        return Err(EventError::invalid("events", "is empty; send at least one event"));
    }
    if events.len() > MAX_EVENTS_PER_BATCH {
        return Err(EventError::TooLarge {
            code: "too_many_events",
            message: format!("the batch has {} events; the limit is {MAX_EVENTS_PER_BATCH}", events.len()),
        });
    }
    let events = events
        .into_iter()
        .enumerate()
        .map(|(i, e)| parse_event(e, &format!("events[{i}]"), now, ctx))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ParsedBody { client_id, events })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ID: &str = "0193a0b4-6f6a-7c3e-9d2a-5b1c2d3e4f50";

    fn now() -> Timestamp {
        Timestamp(1_700_000_000_000)
    }

    #[test]
    fn parses_a_submission() {
        let body = json!({"clientId": "c1", "events": [{
            "id": ID, "type": "form_submission", "timestamp": "2025-10-22T10:30:45.123Z",
            "sessionId": "s", "visitorId": "v", "formId": "contact",
            "fields": {"email": " A@B.co ", "password": "x", "tags": ["a", "b"], "age": 42, "card": "4111111111111111"}
        }]});
        let parsed = parse_batch(body.to_string().as_bytes(), now(), &RequestContext::default()).unwrap();
        assert_eq!(parsed.client_id.as_deref(), Some("c1"));
        let e = &parsed.events[0];
        assert_eq!(e.event_type, EventType::FormSubmission);
        assert_eq!(e.fields.get("email").map(String::as_str), Some("A@B.co"));
        assert_eq!(e.fields.get("tags").map(String::as_str), Some("a, b"));
        assert_eq!(e.fields.get("age").map(String::as_str), Some("42"));
        assert!(!e.fields.contains_key("password"));
        assert!(!e.fields.contains_key("card"));
        assert!(e.payload["fields"].get("password").is_none());
    }

    #[test]
    fn errors_name_the_problem() {
        let cases = [
            (json!({"events": [{"type": "form_submission"}]}), "events[0].id: is required"),
            (json!({"events": [{"id": "nope", "type": "form_submission"}]}), "\"nope\" is not a UUID"),
            (json!({"events": [{"id": ID, "type": "page_view"}]}), "unknown event type \"page_view\""),
            (
                json!({"events": [{"id": ID, "type": "form_submission", "timestamp": "yesterday"}]}),
                "events[0].timestamp",
            ),
            (
                json!({"events": [{"id": ID, "type": "form_submission", "fields": ["x"]}]}),
                "events[0].fields: must be an object",
            ),
            (json!({"events": []}), "events: is empty"),
            (json!({"events": {}}), "events: must be an array"),
        ];
        for (body, expected) in cases {
            let err = parse_batch(body.to_string().as_bytes(), now(), &RequestContext::default()).unwrap_err();
            assert!(err.to_string().contains(expected), "{err} should contain {expected}");
        }
        assert!(
            parse_batch(b"{not json", now(), &RequestContext::default())
                .unwrap_err()
                .to_string()
                .contains("not valid JSON")
        );
    }

    #[test]
    fn limits_are_413_with_their_code() {
        let many: Vec<Value> = (0..51).map(|_| json!({"id": ID, "type": "tracker_initialized"})).collect();
        let err =
            parse_batch(json!({"events": many}).to_string().as_bytes(), now(), &RequestContext::default()).unwrap_err();
        assert!(matches!(err, EventError::TooLarge { code: "too_many_events", .. }));

        let fields: Map<String, Value> = (0..51).map(|i| (format!("f{i}"), json!("x"))).collect();
        let body = json!({"events": [{"id": ID, "type": "form_submission", "fields": fields}]});
        let err = parse_batch(body.to_string().as_bytes(), now(), &RequestContext::default()).unwrap_err();
        assert!(matches!(err, EventError::TooLarge { code: "too_many_fields", .. }));

        let body = json!({"events": [{"id": ID, "type": "form_submission", "fields": {"m": "x".repeat(4097)}}]});
        let err = parse_batch(body.to_string().as_bytes(), now(), &RequestContext::default()).unwrap_err();
        assert!(matches!(err, EventError::TooLarge { code: "value_too_long", .. }), "{err}");
        assert!(err.to_string().contains("events[0].fields.m"));

        let err = parse_batch(&vec![b' '; MAX_BODY_BYTES + 1], now(), &RequestContext::default()).unwrap_err();
        assert!(matches!(err, EventError::TooLarge { code: "body_too_large", .. }));
    }

    #[test]
    fn single_field_interaction_becomes_a_field() {
        let body = json!({"clientId": "c", "id": ID, "type": "form_interaction", "fieldName": "email", "fieldValue": "a@b.co"});
        let parsed = parse_single(body.to_string().as_bytes(), now(), &RequestContext::default()).unwrap();
        assert_eq!(parsed.events[0].fields.get("email").map(String::as_str), Some("a@b.co"));
        assert_eq!(parsed.events[0].timestamp, now());

        let body = json!({"clientId": "c", "id": ID, "type": "form_interaction", "fieldName": "password", "fieldValue": "hunter2"});
        let parsed = parse_single(body.to_string().as_bytes(), now(), &RequestContext::default()).unwrap();
        assert!(parsed.events[0].fields.is_empty());
        assert!(!body.to_string().is_empty() && parsed.events[0].payload.get("fieldValue").is_none());
    }
}
