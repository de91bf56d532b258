//! Inbound tracker events: parse, check limits, normalise. Parse, don't validate: the rest
//! of the pipeline only ever sees a [`TrackEvent`], never raw JSON.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::marker::PhantomData;
use thiserror::Error;
use uuid::Uuid;

use super::enrich::{self, RequestContext};
use super::form_selector;
use super::model::{EventType, Fields};
use super::redact;
use super::surrogates;
use super::time::Timestamp;
use super::url_secrets;

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
    fn invalid(at: impl fmt::Display, msg: impl fmt::Display) -> Self {
        EventError::Invalid(format!("{at}: {msg}"))
    }

    /// An error about member `key` of the event at `at` (`events[3].id: …`).
    fn invalid_member(at: At<'_>, key: &str, msg: impl fmt::Display) -> Self {
        EventError::Invalid(format!("{at}.{key}: {msg}"))
    }
}

/// Where an event sits in the request, as errors name it (`event`, `events[3]`). Kept
/// unformatted because it is needed only when something is wrong.
#[derive(Debug, Clone, Copy)]
enum At<'a> {
    Named(&'a str),
    Index(usize),
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Named(name) => f.write_str(name),
            At::Index(i) => write!(f, "events[{i}]"),
        }
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
    /// Field values as text, sensitive names dropped and sensitive values redacted, in the
    /// order they were sent.
    pub fields: Fields,
    /// The event object, redacted, less what the fields above hold; stored as the event's
    /// payload.
    pub payload: Map<String, Value>,
}

impl TrackEvent {
    pub fn page_url(&self) -> Option<&str> {
        self.payload.get("page")?.get("url")?.as_str()
    }
}

/// An optional text column (`sessionId`, `visitorId`, `formId`).
fn text_column(value: Option<Column<'_>>, at: At<'_>, key: &str, max: usize) -> Result<Option<String>, EventError> {
    match value {
        None | Some(Column::Other(Value::Null)) => Ok(None),
        Some(Column::Str(s)) if s.len() > max => {
            Err(EventError::invalid_member(at, key, format_args!("must be at most {max} bytes")))
        }
        Some(Column::Str(s)) => {
            let t = s.trim();
            Ok((!t.is_empty()).then(|| t.to_string()))
        }
        Some(Column::Other(_)) => Err(EventError::invalid_member(at, key, "must be a string")),
    }
}

/// An optional text member that also stays in the payload.
fn optional_text(value: Option<&Value>, at: At<'_>, key: &str, max: usize) -> Result<Option<String>, EventError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.len() > max => {
            Err(EventError::invalid_member(at, key, format_args!("must be at most {max} bytes")))
        }
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(_) => Err(EventError::invalid_member(at, key, "must be a string")),
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

/// The length of a list of plain values as stored: a field's list (checked boxes, a
/// multi-select) becomes one text joined with ", ", which must fit the per-value limit too.
fn joined_len(items: &[Value]) -> usize {
    let mut total = 0;
    for item in items {
        total += match item {
            Value::String(s) => s.len(),
            // As `field_text` joins them: a number's digits count (twenty-digit numbers made
            // a list of "small" items several times the limit).
            Value::Number(_) | Value::Bool(_) => item.to_string().len(),
            _ => 0,
        } + 2;
    }
    total.saturating_sub(2)
}

/// True when some string or key anywhere in `value` is over the per-value limit; the
/// check [`check_value_sizes`] makes, without building the paths it names.
fn has_oversize(value: &Value) -> bool {
    match value {
        Value::String(s) => s.len() > MAX_VALUE_BYTES,
        Value::Array(items) => joined_len(items) > MAX_VALUE_BYTES || items.iter().any(has_oversize),
        Value::Object(map) => map.iter().any(|(k, v)| k.len() > MAX_VALUE_BYTES || has_oversize(v)),
        _ => false,
    }
}

/// Every string anywhere in the event must fit the per-value limit.
fn check_value_sizes(value: &Value, path: &mut String) -> Result<(), EventError> {
    match value {
        Value::String(s) if s.len() > MAX_VALUE_BYTES => Err(EventError::TooLarge {
            code: "value_too_long",
            message: format!("{path} is {} bytes; values are limited to {MAX_VALUE_BYTES} bytes", s.len()),
        }),
        Value::Array(items) if joined_len(items) > MAX_VALUE_BYTES => Err(EventError::TooLarge {
            code: "value_too_long",
            message: format!(
                "{path} is a list of {} bytes once joined; values are limited to {MAX_VALUE_BYTES} bytes",
                joined_len(items)
            ),
        }),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                let _ = write!(path, "[{i}]");
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

/// The earliest time an event may carry: 2000-01-01T00:00:00Z.
const EARLIEST_MS: i64 = 946_684_800_000;
/// How far ahead of the server's clock an event's time may be (visitors' clocks drift).
const MAX_AHEAD_MS: i64 = 24 * 3600 * 1000;

/// A time member given as RFC 3339 `text` or milliseconds `number` (neither: the wrong
/// type), checked with [`in_range`].
fn parse_time(
    text: Option<&str>,
    number: Option<&serde_json::Number>,
    now: Timestamp,
    at: At<'_>,
    key: &str,
) -> Result<Timestamp, EventError> {
    let parsed = match (text, number) {
        (Some(t), _) => Timestamp::parse_rfc3339(t)
            .ok_or_else(|| EventError::invalid_member(at, key, format_args!("{t:?} is not an RFC 3339 time")))?,
        (None, Some(n)) => Timestamp(
            n.as_i64().ok_or_else(|| EventError::invalid_member(at, key, "must be whole milliseconds since 1970"))?,
        ),
        (None, None) => {
            return Err(EventError::invalid_member(at, key, "must be an RFC 3339 string or milliseconds since 1970"));
        }
    };
    in_range(parsed, now, at, key)
}

/// A sender's time must be plausible: events are listed and expired by it, and a year-9999
/// or 1970 time would hide the event from every list or expire it at once. The tracker
/// queues events for up to 7 days, so old times within reason are fine.
fn in_range(t: Timestamp, now: Timestamp, at: At<'_>, key: &str) -> Result<Timestamp, EventError> {
    if t.0 < EARLIEST_MS || t.0 > now.0.saturating_add(MAX_AHEAD_MS) {
        return Err(EventError::invalid_member(
            at,
            key,
            "is out of range: expected a time after 2000-01-01 and at most one day ahead of the server's clock",
        ));
    }
    Ok(t)
}

/// Parses one event object. `at` names it in errors (`events[3]`).
pub fn parse_event(value: Value, at: &str, now: Timestamp, ctx: &RequestContext) -> Result<TrackEvent, EventError> {
    let Value::Object(obj) = value else {
        return Err(EventError::invalid(at, "each event must be a JSON object"));
    };
    parse_raw_event(RawEvent::from_map(obj), At::Named(at), now, ctx)
}

fn parse_raw_event(
    raw: RawEvent<'_>,
    at: At<'_>,
    now: Timestamp,
    ctx: &RequestContext,
) -> Result<TrackEvent, EventError> {
    // The site is named once per request, not per stored event, so `clientId` is ignored.
    let RawEvent { columns, client_id: _, rest: mut obj, field_order } = raw;
    enrich::drop_own_referrer(&mut obj);
    // One pass over the members for what is read before enrichment.
    let (mut oversize, mut form_started_at, mut form_selector) = (false, None, None);
    let (mut form_name, mut form_class, mut form_parts) = (None, None, false);
    for (k, v) in &obj {
        oversize = oversize || has_oversize(v);
        match k.as_str() {
            "formStartedAt" => form_started_at = Some(v),
            "formSelector" => form_selector = Some(v),
            "formName" => (form_name, form_parts) = (Some(v), true),
            "formClass" => (form_class, form_parts) = (Some(v), true),
            _ => check_member_type(at, k, v)?,
        }
    }
    // Paths are built only to name a value that is too long.
    if oversize || columns.iter().flatten().any(Column::has_oversize) {
        let mut all = obj.clone();
        for (key, column) in COLUMN_KEYS.iter().zip(&columns) {
            if let Some(column) = column {
                all.insert((*key).to_string(), column.to_value());
            }
        }
        for (k, v) in &all {
            let mut path = format!("{at}.{k}");
            check_value_sizes(v, &mut path)?;
        }
    }
    super::page_urls::check(&obj).map_err(|p| EventError::invalid_member(at, p.member, p.message))?;
    let [id, event_type, timestamp, session_id, visitor_id, form_ref] = columns;

    let client_event_id = match id {
        Some(Column::Str(id_text)) => Uuid::parse_str(&id_text)
            .map_err(|_| EventError::invalid_member(at, "id", format_args!("{id_text:?} is not a UUID")))?,
        Some(Column::Other(_)) => return Err(EventError::invalid_member(at, "id", "must be a UUID string")),
        None => {
            return Err(EventError::invalid_member(
                at,
                "id",
                "is required: give every event a UUID (v7 preferred) and repeat it on retries",
            ));
        }
    };

    // A sender whose id generator is broken sends the nil UUID for every event: taken as an
    // id, every event after its first would be counted a duplicate and silently dropped.
    if client_event_id.is_nil() {
        return Err(EventError::invalid_member(
            at,
            "id",
            "is the nil UUID (all zeros): give every event its own UUID (v7 preferred)",
        ));
    }

    let event_type = match event_type {
        Some(Column::Str(t)) => EventType::parse(&t).ok_or_else(|| {
            EventError::invalid_member(
                at,
                "type",
                format_args!(
                    "unknown event type {t:?}; expected one of form_submission, form_interaction, chat_message_sent, tracker_initialized"
                ),
            )
        })?,
        _ => return Err(EventError::invalid_member(at, "type", "is required and must be a string")),
    };

    let timestamp = match timestamp {
        None | Some(Column::Other(Value::Null)) => now,
        Some(Column::Str(t)) => parse_time(Some(&t), None, now, at, "timestamp")?,
        Some(Column::Other(Value::Number(n))) => parse_time(None, Some(&n), now, at, "timestamp")?,
        Some(Column::Other(_)) => parse_time(None, None, now, at, "timestamp")?,
    };
    // Read by the "completed faster than 2 s" quality rule: a malformed value is refused
    // rather than ignored, so a sender cannot skip that rule by sending garbage.
    let form_started_at = match form_started_at {
        None | Some(Value::Null) => None,
        Some(Value::String(t)) => Some(parse_time(Some(t), None, now, at, "formStartedAt")?),
        Some(Value::Number(n)) => Some(parse_time(None, Some(n), now, at, "formStartedAt")?),
        Some(_) => Some(parse_time(None, None, now, at, "formStartedAt")?),
    };

    let session_id = text_column(session_id, at, "sessionId", MAX_ID_LEN)?;
    let visitor_id = text_column(visitor_id, at, "visitorId", MAX_ID_LEN)?;
    let mut form_ref = text_column(form_ref, at, "formId", 256)?;
    let mut form_selector = optional_text(form_selector, at, "formSelector", 512)?;
    if form_parts {
        let form_name = optional_text(form_name, at, "formName", 256)?;
        let form_class = optional_text(form_class, at, "formClass", 256)?;
        obj.remove("formName");
        obj.remove("formClass");
        // The tracker leaves formId out when the form has only a name: the name is its id
        // then (a byte of its budget).
        if form_ref.is_none() {
            form_ref.clone_from(&form_name);
        }
        if form_selector.is_none() {
            form_selector =
                form_selector::derive(form_ref.as_deref(), form_name.as_deref(), form_class.as_deref(), true);
            // Stored as if sent: events, leads and discovery read the selector as before.
            if let Some(selector) = &form_selector {
                obj.insert("formSelector".into(), Value::String(selector.clone()));
            }
        }
    }

    enrich::enrich(&mut obj, ctx);
    // Redact before anything else reads the values.
    url_secrets::scrub(&mut obj);
    redact::redact_map(&mut obj);

    let (mut fields_value, mut field_name, mut field_value) = (None, None, None);
    for (k, v) in &obj {
        match k.as_str() {
            "fields" => fields_value = Some(v),
            "fieldName" => field_name = Some(v),
            "fieldValue" => field_value = Some(v),
            _ => {}
        }
    }
    let mut fields = Fields::new();
    match fields_value {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            // In the order sent (what redaction dropped is gone from `map`); a body read
            // through a `Value` has only the object's own (sorted) order. One of the two
            // halves is empty.
            let in_order = field_order
                .iter()
                .filter_map(|name| map.get_key_value(name))
                .chain(map.iter().filter(|_| field_order.is_empty()));
            if map.len() > MAX_FIELDS_PER_EVENT {
                return Err(EventError::TooLarge {
                    code: "too_many_fields",
                    message: format!(
                        "{at}.fields has {} fields; an event may carry at most {MAX_FIELDS_PER_EVENT}",
                        map.len()
                    ),
                });
            }
            for (name, value) in in_order {
                let trimmed_name = name.trim();
                if trimmed_name.is_empty() {
                    continue;
                }
                match field_text(value) {
                    Some(text) if !text.is_empty() => {
                        fields.insert(trimmed_name.to_string(), text);
                    }
                    Some(_) => {}
                    None if value.is_object() => {
                        return Err(EventError::Invalid(format!(
                            "{at}.fields.{name}: must be a string, number, boolean or list, not an object"
                        )));
                    }
                    None => {}
                }
            }
        }
        Some(_) => return Err(EventError::invalid_member(at, "fields", "must be an object of name → value")),
    }
    // A single-field interaction (`fieldName`/`fieldValue`) counts as a field too.
    let sensitive_field_name = match field_name {
        Some(Value::String(name)) => redact::is_dropped_field_name(name),
        _ => false,
    };
    if let (Some(Value::String(name)), Some(value)) = (field_name, field_value)
        && !sensitive_field_name
        && let Some(text) = field_text(value).filter(|t| !t.is_empty())
        && !fields.contains_key(name.trim())
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
    if sensitive_field_name {
        obj.remove("fieldValue");
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

/// The documented members whose JSON type is fixed (the columns, `fields` and the times are
/// checked where they are read): a wrong type is refused, naming the member, instead of being
/// stored for the dashboard, exports and the CRM to trip over. `null` counts as absent.
fn check_member_type(at: At<'_>, key: &str, value: &Value) -> Result<(), EventError> {
    let expected = match key {
        "page" if !matches!(value, Value::String(_) | Value::Object(_)) => "must be a URL string or an object",
        "attribution" | "metadata" if !value.is_object() => "must be an object",
        "trigger" | "fieldName" | "fieldType" if !value.is_string() => "must be a string",
        "formProgress" => match value {
            Value::Number(n) if n.is_u64() => return Ok(()),
            Value::Object(progress) => match progress.get("totalFields") {
                None | Some(Value::Null) => return Ok(()),
                Some(Value::Number(n)) if n.is_u64() => return Ok(()),
                Some(_) => "totalFields must be a whole number of fields, 0 or more",
            },
            _ => "must be the number of fields, or an object with totalFields",
        },
        _ => return Ok(()),
    };
    if value.is_null() { Ok(()) } else { Err(EventError::invalid_member(at, key, expected)) }
}

/// A parsed request body: the site it names (if any) and its events.
#[derive(Debug)]
pub struct ParsedBody {
    pub client_id: Option<String>,
    pub events: Vec<TrackEvent>,
}

fn body_client_id(value: Option<Column<'_>>) -> Result<Option<String>, EventError> {
    match value {
        None | Some(Column::Other(Value::Null)) => Ok(None),
        Some(Column::Str(s)) => Ok(Some(s.trim().to_string())),
        Some(Column::Other(_)) => Err(EventError::invalid("clientId", "must be a string")),
    }
}

/// An event in a batch may repeat the batch's `clientId` (it is not stored), but one naming
/// another site was meant for that site: storing it under the batch's would be wrong, and
/// ignoring it would hide the sender's mistake.
fn same_site(event: Option<&Column<'_>>, batch: Option<&str>, at: At<'_>) -> Result<(), EventError> {
    let (Some(event), Some(batch)) = (event, batch) else { return Ok(()) };
    match event {
        Column::Other(Value::Null) => Ok(()),
        Column::Str(id) if id.trim().eq_ignore_ascii_case(batch) => Ok(()),
        Column::Str(id) => Err(EventError::invalid_member(
            at,
            "clientId",
            format_args!(
                "{id:?} differs from the batch's clientId {batch:?}: send each site's events in its own batch"
            ),
        )),
        Column::Other(_) => Err(EventError::invalid_member(at, "clientId", "must be a string")),
    }
}

fn parse_json<'de, T: Deserialize<'de>>(body: &'de [u8]) -> Result<T, EventError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(EventError::TooLarge {
            code: "body_too_large",
            message: format!("the body is {} bytes; the limit is {MAX_BODY_BYTES} bytes", body.len()),
        });
    }
    serde_json::from_slice(body).map_err(|e| EventError::Invalid(format!("{NOT_JSON}{e}")))
}

const NOT_JSON: &str = "the body is not valid JSON: ";

/// `parse` over the body; when its JSON could not be read, again over the body with its lone
/// surrogate escapes replaced, if it has any ([`surrogates`]). The hot path pays nothing.
fn with_surrogates_repaired(
    body: &[u8],
    parse: impl Fn(&[u8]) -> Result<ParsedBody, EventError>,
) -> Result<ParsedBody, EventError> {
    match parse(body) {
        Err(EventError::Invalid(m)) if m.starts_with(NOT_JSON) => match surrogates::repaired(body) {
            Some(fixed) => parse(&fixed),
            None => Err(EventError::Invalid(m)),
        },
        other => other,
    }
}

/// `POST /v1/track`: one event object with a `clientId`.
pub fn parse_single(body: &[u8], now: Timestamp, ctx: &RequestContext) -> Result<ParsedBody, EventError> {
    with_surrogates_repaired(body, |body| parse_single_body(body, now, ctx))
}

fn parse_single_body(body: &[u8], now: Timestamp, ctx: &RequestContext) -> Result<ParsedBody, EventError> {
    let Object(Some(mut raw)) = parse_json::<Object<RawEvent>>(body)? else {
        return Err(EventError::Invalid("the body must be a JSON object (one event)".into()));
    };
    let client_id = body_client_id(raw.client_id.take())?;
    // A batch body sent to the single-event route would otherwise fail as "event.id: is
    // required", which hides the real mistake.
    if raw.rest.contains_key("events") && raw.columns.iter().all(Option::is_none) {
        return Err(EventError::Invalid(
            "this body has an \"events\" list: send batches to /v1/track/batch (/v1/track takes one event)".into(),
        ));
    }
    let event = parse_raw_event(raw, At::Named("event"), now, ctx)?;
    Ok(ParsedBody { client_id, events: vec![event] })
}

/// `POST /v1/track/batch`: `{clientId, events: [...]}`. All or nothing: one bad event
/// rejects the batch, so a sender never has to guess which events were stored.
pub fn parse_batch(body: &[u8], now: Timestamp, ctx: &RequestContext) -> Result<ParsedBody, EventError> {
    with_surrogates_repaired(body, |body| parse_batch_body(body, now, ctx))
}

fn parse_batch_body(body: &[u8], now: Timestamp, ctx: &RequestContext) -> Result<ParsedBody, EventError> {
    let Object(Some(batch)) = parse_json::<Object<RawBatch>>(body)? else {
        return Err(EventError::Invalid("the body must be a JSON object: {\"clientId\": …, \"events\": […]}".into()));
    };
    let client_id = body_client_id(batch.client_id)?;
    let events = match batch.events {
        Some(Array(Some(events))) => events,
        Some(Array(None)) => return Err(EventError::invalid("events", "must be an array of event objects")),
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
    // A batch that names no site but whose events do is for the site its events name (all
    // must name the same one): otherwise an X-API-Key sender's event naming another site
    // would be stored under the key's site, and a browser's would be refused as naming none.
    let client_id = client_id.or_else(|| {
        events.iter().find_map(|e| match &e.0 {
            Some(RawEvent { client_id: Some(Column::Str(id)), .. }) => Some(id.trim().to_string()),
            _ => None,
        })
    });
    let events = events
        .into_iter()
        .enumerate()
        .map(|(i, e)| match e {
            Object(Some(raw)) => {
                same_site(raw.client_id.as_ref(), client_id.as_deref(), At::Index(i))?;
                parse_raw_event(raw, At::Index(i), now, ctx)
            }
            Object(None) => Err(EventError::invalid(At::Index(i), "each event must be a JSON object")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ParsedBody { client_id, events })
}

// Reading the body straight into events, rather than into a `Value` that is then taken
// apart: the columns (`id`, `type`, …) never become map entries only to be removed again,
// and strings without escapes are borrowed from the body. Every visitor accepts any JSON,
// so what is valid JSON and the error for what is not are exactly `Value`'s; the checks
// that follow see the same values the `Value` would hold.

/// The members of an event stored as its columns, in [`RawEvent::columns`] order.
const COLUMN_KEYS: [&str; 6] = ["id", "type", "timestamp", "sessionId", "visitorId", "formId"];

/// A member of the event that becomes a column: usually a string, read without copying.
#[derive(Debug)]
enum Column<'de> {
    Str(Cow<'de, str>),
    Other(Value),
}

impl Column<'_> {
    fn has_oversize(&self) -> bool {
        match self {
            Column::Str(s) => s.len() > MAX_VALUE_BYTES,
            Column::Other(v) => has_oversize(v),
        }
    }

    fn to_value(&self) -> Value {
        match self {
            Column::Str(s) => Value::String(s.to_string()),
            Column::Other(v) => v.clone(),
        }
    }
}

impl From<Value> for Column<'_> {
    fn from(value: Value) -> Self {
        match value {
            Value::String(s) => Column::Str(Cow::Owned(s)),
            other => Column::Other(other),
        }
    }
}

/// An event object as read: its columns, its `clientId`, the rest (the payload-to-be), and
/// the names of its `fields` in the order sent.
#[derive(Debug, Default)]
struct RawEvent<'de> {
    columns: [Option<Column<'de>>; 6],
    client_id: Option<Column<'de>>,
    rest: Map<String, Value>,
    field_order: Vec<String>,
}

impl RawEvent<'_> {
    fn from_map(mut obj: Map<String, Value>) -> Self {
        let columns = COLUMN_KEYS.map(|key| obj.remove(key).map(Column::from));
        let client_id = obj.remove("clientId").map(Column::from);
        RawEvent { columns, client_id, rest: obj, field_order: Vec::new() }
    }
}

/// The `fields` member as read: an object keeps its names in the order sent (which a
/// `Value`'s object would sort); anything else is read as a `Value` and refused later with
/// the same message as before.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum FieldsMember {
    Object(indexmap::IndexMap<String, Value>),
    Other(Value),
}

/// A batch body as read.
#[derive(Debug, Default)]
struct RawBatch<'de> {
    client_id: Option<Column<'de>>,
    events: Option<Array<Object<RawEvent<'de>>>>,
}

/// A JSON value that is `T` when it is an object, `None` when it is anything else.
#[derive(Debug)]
struct Object<T>(Option<T>);

/// A JSON value that is a list of `T` when it is an array, `None` when it is anything else.
#[derive(Debug)]
struct Array<T>(Option<Vec<T>>);

/// What reads the members of an object into `T`.
trait FromMembers<'de>: Sized {
    fn from_members<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error>;
}

impl<'de> FromMembers<'de> for RawEvent<'de> {
    fn from_members<A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut raw = RawEvent::default();
        while let Some(Key(key)) = map.next_key()? {
            let slot = match COLUMN_KEYS.iter().position(|c| *c == key) {
                Some(i) => &mut raw.columns[i],
                None if key == "clientId" => &mut raw.client_id,
                None if key == "fields" => {
                    let value = match map.next_value()? {
                        FieldsMember::Object(members) => {
                            raw.field_order = members.keys().cloned().collect();
                            Value::Object(members.into_iter().collect())
                        }
                        FieldsMember::Other(value) => {
                            raw.field_order.clear();
                            value
                        }
                    };
                    raw.rest.insert(key.into_owned(), value);
                    continue;
                }
                None => {
                    let value: Value = map.next_value()?;
                    raw.rest.insert(key.into_owned(), value);
                    continue;
                }
            };
            // A repeated member replaces the earlier one, as in a `Value`.
            *slot = Some(map.next_value()?);
        }
        Ok(raw)
    }
}

impl<'de> FromMembers<'de> for RawBatch<'de> {
    fn from_members<A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut raw = RawBatch::default();
        while let Some(Key(key)) = map.next_key()? {
            match &*key {
                "clientId" => raw.client_id = Some(map.next_value()?),
                "events" => raw.events = Some(map.next_value()?),
                _ => {
                    map.next_value::<Value>()?;
                }
            }
        }
        Ok(raw)
    }
}

/// An object key, borrowed from the body when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_string())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Builds `T` from the JSON shapes a visitor may see, each as `Value` would read it.
macro_rules! visit_as_value {
    ($wrap:expr) => {
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok($wrap(Value::Bool(v)))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok($wrap(Value::Number(v.into())))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok($wrap(Value::Number(v.into())))
        }
        fn visit_i128<E: de::Error>(self, v: i128) -> Result<Self::Value, E> {
            Value::deserialize(de::value::I128Deserializer::<E>::new(v)).map($wrap)
        }
        fn visit_u128<E: de::Error>(self, v: u128) -> Result<Self::Value, E> {
            Value::deserialize(de::value::U128Deserializer::<E>::new(v)).map($wrap)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok($wrap(Value::from(v)))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($wrap(Value::Null))
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($wrap(Value::Null))
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            Value::deserialize(d).map($wrap)
        }
    };
}

impl<'de> Deserialize<'de> for Column<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ColumnVisitor;
        impl<'de> Visitor<'de> for ColumnVisitor {
            type Value = Column<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any valid JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Column<'de>, E> {
                Ok(Column::Str(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Column<'de>, E> {
                Ok(Column::Str(Cow::Owned(s.to_string())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Column<'de>, E> {
                Ok(Column::Str(Cow::Owned(s)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Column<'de>, A::Error> {
                Value::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(Column::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Column<'de>, A::Error> {
                Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(Column::Other)
            }
            visit_as_value!(Column::Other);
        }
        deserializer.deserialize_any(ColumnVisitor)
    }
}

impl<'de, T: FromMembers<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);
        impl<'de, T: FromMembers<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = Object<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any valid JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Object<T>, A::Error> {
                T::from_members(map).map(|t| Object(Some(t)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Object<T>, A::Error> {
                Value::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(|_| Object(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Object<T>, E> {
                Ok(Object(None))
            }
            visit_as_value!(|_: Value| Object(None));
        }
        deserializer.deserialize_any(ObjectVisitor(PhantomData))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Array<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ArrayVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ArrayVisitor<T> {
            type Value = Array<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any valid JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Array<T>, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Array(Some(items)))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Array<T>, A::Error> {
                Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(|_| Array(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Array<T>, E> {
                Ok(Array(None))
            }
            visit_as_value!(|_: Value| Array(None));
        }
        deserializer.deserialize_any(ArrayVisitor(PhantomData))
    }
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
            "id": ID, "type": "form_submission", "timestamp": "2023-10-22T10:30:45.123Z",
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
    fn a_batch_sent_to_the_single_route_says_where_it_belongs() {
        let body = json!({"clientId": "c1", "events": [{"id": ID, "type": "tracker_initialized"}]});
        let e = parse_single(body.to_string().as_bytes(), now(), &RequestContext::default()).unwrap_err();
        assert!(e.to_string().contains("/v1/track/batch"), "{e}");
    }

    #[test]
    fn a_list_must_fit_the_value_limit_once_joined() {
        let half = "a".repeat(3000);
        let body = json!({"clientId": "c1", "id": ID, "type": "form_submission",
            "fields": {"email": "a@b.co", "topics": [half.clone(), half]}});
        let e = parse_single(body.to_string().as_bytes(), now(), &RequestContext::default()).unwrap_err();
        assert!(e.to_string().contains("topics"), "{e}");
        let body = json!({"clientId": "c1", "id": ID, "type": "form_submission",
            "fields": {"email": "a@b.co", "topics": ["news", "offers"]}});
        parse_single(body.to_string().as_bytes(), now(), &RequestContext::default()).unwrap();
        // Numbers count by their digits: 400 twenty-digit numbers join to about 8.8 KB.
        let numbers: Vec<u64> = vec![12_345_678_901_234_567_890; 400];
        let body = json!({"clientId": "c1", "id": ID, "type": "form_submission",
            "fields": {"email": "a@b.co", "n": numbers}});
        let e = parse_single(body.to_string().as_bytes(), now(), &RequestContext::default()).unwrap_err();
        assert!(e.to_string().contains("fields.n is a list of 8798 bytes"), "{e}");
    }

    #[test]
    fn times_must_be_plausible() {
        let one = |extra: serde_json::Value| {
            let mut e = json!({"clientId": "c1", "id": ID, "type": "form_submission", "fields": {"email": "a@b.co"}});
            for (k, v) in extra.as_object().unwrap() {
                e[k] = v.clone();
            }
            parse_single(e.to_string().as_bytes(), now(), &RequestContext::default())
        };
        let refused = |extra: serde_json::Value, key: &str| {
            let message = one(extra.clone()).expect_err(&extra.to_string()).to_string();
            assert!(message.contains(key), "{extra} → {message}");
        };
        for bad in
            [json!(i64::MAX), json!(i64::MIN), json!(0), json!(253_402_300_800_000i64), json!("9999-01-01T00:00:00Z")]
        {
            refused(json!({"timestamp": bad.clone()}), "timestamp");
            refused(json!({"formStartedAt": bad}), "formStartedAt");
        }
        refused(json!({"timestamp": 1.5}), "whole milliseconds");
        refused(json!({"timestamp": true}), "RFC 3339 string or milliseconds");
        refused(json!({"formStartedAt": {"at": 1}}), "formStartedAt");
        refused(json!({"formStartedAt": "soon"}), "formStartedAt");
        // Hours of clock drift and a week in the tracker's queue are fine.
        let e = one(json!({"timestamp": now().0 + 3_600_000, "formStartedAt": now().0 - 7 * 86_400_000})).unwrap();
        assert_eq!(e.events[0].timestamp, Timestamp(now().0 + 3_600_000));
        assert_eq!(e.events[0].form_started_at, Some(Timestamp(now().0 - 7 * 86_400_000)));
        assert_eq!(one(json!({"formStartedAt": null})).unwrap().events[0].form_started_at, None);
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
    fn documented_members_of_the_wrong_type_are_refused_by_name() {
        let refused = [
            (json!({"page": 5}), "events[0].page: must be a URL string or an object"),
            (json!({"attribution": "google"}), "events[0].attribution: must be an object"),
            (json!({"metadata": ["x"]}), "events[0].metadata: must be an object"),
            (json!({"trigger": {"x": 1}}), "events[0].trigger: must be a string"),
            (json!({"fieldName": 3}), "events[0].fieldName: must be a string"),
            (json!({"formProgress": "half"}), "events[0].formProgress: must be the number of fields"),
            (json!({"formProgress": -1}), "events[0].formProgress: must be the number of fields"),
            (json!({"formProgress": {"totalFields": "5"}}), "events[0].formProgress: totalFields must be a whole"),
        ];
        for (members, expected) in refused {
            let mut event = json!({"id": ID, "type": "form_interaction"});
            event.as_object_mut().unwrap().extend(members.as_object().unwrap().clone());
            let body = json!({"events": [event]}).to_string();
            let err = parse_batch(body.as_bytes(), now(), &RequestContext::default()).unwrap_err();
            assert!(
                matches!(err, EventError::Invalid(_)) && err.to_string().starts_with(expected),
                "{err} / {expected}"
            );
        }
        let accepted = json!({"events": [{"id": ID, "type": "form_interaction", "page": "https://x.io/", "attribution": {},
            "metadata": null, "trigger": "blur", "fieldName": "email", "formProgress": 4, "custom": [1, {"a": 2}]},
            {"id": ID, "type": "form_interaction", "page": {"url": "https://x.io/"}, "formProgress": {"totalFields": 5}}]});
        parse_batch(accepted.to_string().as_bytes(), now(), &RequestContext::default()).unwrap();
    }

    #[test]
    fn members_are_read_as_a_json_value_would_hold_them() {
        // Escaped keys, a repeated member (the last wins), and an event's own `clientId`,
        // which is not stored.
        let body = format!(
            r#"{{"clientId":"c","events":[{{"i\u0064":"nope","id":"{ID}","type":"form_submission","clientId":"c","fie\u006cds":{{"email":"a@b.co"}},"trigger":"a","trigger":"b"}}]}}"#
        );
        let parsed = parse_batch(body.as_bytes(), now(), &RequestContext::default()).unwrap();
        let e = &parsed.events[0];
        assert_eq!(e.client_event_id.to_string(), ID);
        assert_eq!(e.fields.get("email").map(String::as_str), Some("a@b.co"));
        assert_eq!(e.payload["trigger"], "b");
        for column in ["clientId", "id", "type", "timestamp"] {
            assert!(e.payload.get(column).is_none(), "{column}");
        }
    }

    #[test]
    fn a_long_referrer_from_the_same_site_is_dropped_not_refused() {
        let long = format!("https://shop.example.com/search?q={}", "x".repeat(MAX_VALUE_BYTES));
        let event = |referrer: &str| {
            json!({"events": [{"id": ID, "type": "tracker_initialized",
                "attribution": {"landingPage": "https://shop.example.com/", "referrer": referrer}}]})
            .to_string()
        };
        let parsed = parse_batch(event(&long).as_bytes(), now(), &RequestContext::default()).unwrap();
        assert!(parsed.events[0].payload["attribution"].get("referrer").is_none());
        let other_site = long.replace("shop.example.com", "other.example");
        let err = parse_batch(event(&other_site).as_bytes(), now(), &RequestContext::default()).unwrap_err();
        assert!(err.to_string().starts_with("events[0].attribution.referrer is"), "{err}");
    }

    #[test]
    fn the_first_too_long_value_in_key_order_is_named() {
        let long = "x".repeat(MAX_VALUE_BYTES + 1);
        let cases = [
            (
                json!({"events": [{"id": long, "type": "form_submission", "attribution": {"landingPage": long}}]}),
                "events[0].attribution.landingPage is 4097 bytes",
            ),
            (json!({"events": [{"id": ID, "type": long, "trigger": long}]}), "events[0].trigger is 4097 bytes"),
            (json!({"events": [{"id": ID, "type": long, "page": "x"}]}), "events[0].type is 4097 bytes"),
            (json!({"events": [{"id": ID, "type": "form_submission", "clientId": long}]}), ""),
        ];
        for (body, expected) in cases {
            let result = parse_batch(body.to_string().as_bytes(), now(), &RequestContext::default());
            match result {
                Err(EventError::TooLarge { code: "value_too_long", message }) => {
                    assert!(message.starts_with(expected), "{message} should start with {expected}")
                }
                // A `clientId` in the event is dropped before any limit is checked.
                Ok(_) => assert!(expected.is_empty()),
                Err(e) => panic!("{e}"),
            }
        }
    }

    #[test]
    fn a_lone_surrogate_is_read_as_the_replacement_character() {
        // What JSON.stringify writes for a value cut in the middle of an emoji: refusing it
        // would lose the whole batch.
        let body = format!(
            r#"{{"events": [{{"id": "{ID}", "type": "form_submission", "fields": {{"message": "Hi \ud83d", "em\udc00ail": "a@b.co"}}}}]}}"#
        );
        let parsed = parse_batch(body.as_bytes(), now(), &RequestContext::default()).unwrap();
        let fields = &parsed.events[0].fields;
        assert_eq!(fields["message"], "Hi \u{fffd}");
        assert_eq!(fields["em\u{fffd}ail"], "a@b.co");
        let single = format!(r#"{{"id": "{ID}", "type": "tracker_initialized", "page": "https://a.example/\ud800"}}"#);
        assert!(parse_single(single.as_bytes(), now(), &RequestContext::default()).is_ok());
    }

    #[test]
    fn bodies_and_events_that_are_not_objects() {
        let ctx = RequestContext::default();
        let event = json!({"id": ID, "type": "tracker_initialized"});
        let cases: [(&[u8], &str); 6] = [
            (b"[1]", "the body must be a JSON object: {"),
            (b"\"x\"", "the body must be a JSON object: {"),
            (br#"{"clientId": 5, "events": []}"#, "clientId: must be a string"),
            (br#"{"events": [], "other": {"a": [1, {"b": null}]}}"#, "events: is empty"),
            (br#"{"events": [{}], }"#, "the body is not valid JSON: trailing comma"),
            (br#"{"events": [{"clientId": "\uZZ00"}]}"#, "the body is not valid JSON"),
        ];
        for (body, expected) in cases {
            let err = parse_batch(body, now(), &ctx).unwrap_err().to_string();
            assert!(err.starts_with(expected), "{err} should start with {expected}");
        }
        let body = json!({"events": [event, 3]}).to_string();
        let err = parse_batch(body.as_bytes(), now(), &ctx).unwrap_err();
        assert_eq!(err.to_string(), "events[1]: each event must be a JSON object");
        let err = parse_single(b"[1]", now(), &ctx).unwrap_err();
        assert_eq!(err.to_string(), "the body must be a JSON object (one event)");
        let err = parse_event(json!("x"), "event", now(), &ctx).unwrap_err();
        assert_eq!(err.to_string(), "event: each event must be a JSON object");
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

    fn parse_one(mut event: Value) -> TrackEvent {
        event["id"] = json!(ID);
        let body = json!({"clientId": "c", "events": [event]});
        let mut parsed = parse_batch(body.to_string().as_bytes(), now(), &RequestContext::default()).unwrap();
        parsed.events.remove(0)
    }

    /// Everything the event stores, as text.
    fn stored_text(e: &TrackEvent) -> String {
        format!("{:?} {}", e.fields, Value::Object(e.payload.clone()))
    }

    #[test]
    fn card_numbers_sent_as_numbers_or_lists_are_not_stored() {
        let e = parse_one(json!({
            "type": "form_submission",
            "fields": {"note": 4111111111111111u64, "list": [4111111111111111u64], "amex": 378282246310005u64,
                       "phone": 4111111111111111u64, "split": ["4111", "1111", "1111", "1111"], "age": 42},
            "formProgress": {"totalFields": 7}
        }));
        for key in ["note", "list", "amex", "phone", "split"] {
            assert_eq!(e.fields.get(key).map(String::as_str), Some(redact::REDACTED), "{key}");
        }
        assert_eq!(e.fields.get("age").map(String::as_str), Some("42"));
        let text = stored_text(&e);
        for secret in ["4111111111111111", "378282246310005", "4111, 1111"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }

        let e = parse_one(json!({"type": "form_interaction", "fieldName": "note", "fieldValue": 4111111111111111u64}));
        assert_eq!(e.fields.get("note").map(String::as_str), Some(redact::REDACTED));
        assert!(!stored_text(&e).contains("4111111111111111"));
    }

    #[test]
    fn card_numbers_used_as_field_names_are_not_stored() {
        let e = parse_one(json!({
            "type": "form_submission",
            "fields": {"4111111111111111": "x", "4111.1111.1111.1111": "y", "email": "a@b.co"},
            "formProgress": 3
        }));
        assert_eq!(e.fields.keys().collect::<Vec<_>>(), ["email"]);
        let text = stored_text(&e);
        assert!(!text.contains("4111"), "{text}");
        let e = parse_one(json!({"type": "form_interaction", "fieldName": "4111 1111 1111 1111", "fieldValue": "x"}));
        assert!(e.fields.is_empty(), "{:?}", e.fields);
        assert!(e.payload.get("fieldValue").is_none());
        let text = stored_text(&e);
        assert!(!text.contains("4111"), "{text}");
    }

    #[test]
    fn sensitive_names_and_values_in_other_spellings_are_not_stored() {
        let e = parse_one(json!({
            "type": "form_submission",
            "fields": {"user_pass": "s3cret-a", "Kennwort": "s3cret-b", "mot_de_passe": "s3cret-c", "cardnum": "s3cret-d",
                       "passport_no": "s3cret-e", "dots": "4111.1111.1111.1111", "slashes": "4111/1111/1111/1111",
                       "wide": "４１１１ １１１１ １１１１ １１１１", "id_text": "123 45 6789",
                       "passenger": "2", "company": "Acme"},
            "fieldName": "passphrase", "fieldValue": "s3cret-f"
        }));
        let text = stored_text(&e);
        assert!(!text.contains("s3cret"), "{text}");
        for key in ["dots", "slashes", "wide", "id_text"] {
            assert_eq!(e.fields.get(key).map(String::as_str), Some(redact::REDACTED), "{key}");
        }
        assert_eq!(e.fields.get("passenger").map(String::as_str), Some("2"));
        assert_eq!(e.fields.get("company").map(String::as_str), Some("Acme"));
    }

    #[test]
    fn phone_and_order_numbers_are_kept() {
        let e = parse_one(json!({
            "type": "form_submission",
            "fields": {"phone": "+49 151 23456787", "message": "Order PO123456", "ref": "XY1234567", "date": "22.10.2025"}
        }));
        assert_eq!(e.fields.get("phone").map(String::as_str), Some("+49 151 23456787"));
        assert_eq!(e.fields.get("message").map(String::as_str), Some("Order PO123456"));
        assert_eq!(e.fields.get("ref").map(String::as_str), Some("XY1234567"));
        assert_eq!(e.fields.get("date").map(String::as_str), Some("22.10.2025"));
    }
}
