//! Delivering one job to one connector over HTTP, and describing that delivery without
//! making it (the dry run).
//!
//! - [`webhook`]: a signed POST (Standard Webhooks).
//! - [`salesforce`]: OAuth 2.0 client credentials, then the REST API's Lead sObject.
//! - [`hubspot`]: a private-app token and the CRM v3 contacts API.
//!
//! Every answer is classified the same way: 2xx delivered; 408, 425, 429, 5xx, timeouts and
//! connection failures are worth retrying; any other status is a refusal (dead letter).
//! What is kept of an answer is a short excerpt with secrets and the email taken out.

pub mod hubspot;
pub mod salesforce;
pub mod webhook;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde_json::Value;
use std::time::Duration;

use super::config::{Connector, ConnectorKind};
use super::payload::Mapped;
use crate::domain::model::{Id, Lead};

/// What one delivery came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    Delivered { status: u16, crm_id: Option<String>, note: String },
    Retry { status: Option<u16>, retry_after: Option<Duration>, error: String },
    Rejected { status: Option<u16>, error: String },
}

impl Delivery {
    pub fn status(&self) -> Option<u16> {
        match self {
            Delivery::Delivered { status, .. } => Some(*status),
            Delivery::Retry { status, .. } | Delivery::Rejected { status, .. } => *status,
        }
    }
}

/// What a job asks a connector to do.
pub enum Work<'a> {
    Upsert {
        lead: &'a Lead,
        mapped: &'a Mapped,
    },
    /// The lead is gone; these are what was read from it before it was deleted.
    Delete {
        lead_id: Id,
        client_id: Id,
        crm_id: Option<&'a str>,
        email: Option<&'a str>,
    },
}

impl Work<'_> {
    pub fn email(&self) -> Option<&str> {
        match self {
            Work::Upsert { lead, .. } => lead.email.as_deref(),
            Work::Delete { email, .. } => *email,
        }
    }
}

/// The HTTP client and the Salesforce tokens, shared by every delivery of the worker.
pub struct Connectors {
    http: reqwest::Client,
    salesforce_tokens: salesforce::TokenCache,
}

impl Connectors {
    pub fn new(request_timeout: Duration) -> Connectors {
        let http = reqwest::Client::builder()
            .timeout(request_timeout)
            .connect_timeout(request_timeout.min(Duration::from_secs(10)))
            // An API that answers with a redirect is misconfigured; following it would
            // resend the credentials elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("crm-tracker/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Connectors { http, salesforce_tokens: salesforce::TokenCache::default() }
    }

    /// Delivers `work` to `connector`. `key` is the job's idempotency key.
    pub async fn deliver(&self, client_id: Id, connector: &Connector, key: &str, work: &Work<'_>) -> Delivery {
        let delivery = match &connector.kind {
            ConnectorKind::Webhook(cfg) => webhook::deliver(&self.http, cfg, key, work).await,
            ConnectorKind::Salesforce(cfg) => {
                let cache_key = salesforce::cache_key(client_id, &connector.name, cfg);
                salesforce::deliver(&self.http, &self.salesforce_tokens, &cache_key, cfg, work).await
            }
            ConnectorKind::Hubspot(cfg) => hubspot::deliver(&self.http, cfg, work).await,
        };
        let mut secrets = connector.kind.secrets();
        let token = match &connector.kind {
            ConnectorKind::Salesforce(cfg) => {
                self.salesforce_tokens.current(&salesforce::cache_key(client_id, &connector.name, cfg))
            }
            _ => None,
        };
        if let Some(t) = &token {
            secrets.push(t.as_str());
        }
        scrub_delivery(delivery, &secrets, work.email())
    }
}

/// The requests a delivery would make, for the dry run. Nothing is sent.
pub fn plan(connector: &Connector, key: &str, work: &Work<'_>) -> Vec<Value> {
    match &connector.kind {
        ConnectorKind::Webhook(cfg) => webhook::plan(cfg, key, work),
        ConnectorKind::Salesforce(cfg) => salesforce::plan(cfg, work),
        ConnectorKind::Hubspot(cfg) => hubspot::plan(cfg, work),
    }
}

/// A status and body, read in full (CRM answers are small).
pub(crate) struct Answer {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: String,
}

impl Answer {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// What the answer says went wrong: the code and message of the JSON error shapes the
    /// CRMs use (`[{"errorCode","message"}]`, `{"category","message"}`,
    /// `{"error","error_description"}`), else the body as it is.
    pub fn reason(&self) -> String {
        let v = self.json();
        let one = v.get(0).unwrap_or(&v);
        let text = |k: &str| one.get(k).and_then(Value::as_str);
        let code = text("errorCode").or(text("category")).or(text("error"));
        let message = text("message").or(text("error_description"));
        match (code, message) {
            (Some(c), Some(m)) => format!("{c}: {m}"),
            (None, Some(m)) => m.to_string(),
            (Some(c), None) => c.to_string(),
            (None, None) => self.body.trim().to_string(),
        }
    }

    /// The answer as a failure: retry or refusal.
    pub fn failure(&self, what: &str) -> Delivery {
        let error = format!("{what}: HTTP {} {}", self.status, self.reason());
        if matches!(self.status, 408 | 425 | 429) || self.status >= 500 {
            Delivery::Retry { status: Some(self.status), retry_after: self.retry_after, error }
        } else {
            Delivery::Rejected { status: Some(self.status), error }
        }
    }
}

/// Sends a request; a network failure becomes the [`Delivery`] to record.
pub(crate) async fn send(request: reqwest::RequestBuilder, what: &str) -> Result<Answer, Delivery> {
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let retry_after = retry_after(response.headers());
            // Cap what is read: an excerpt is all that is kept.
            let body = match response.bytes().await {
                Ok(b) => String::from_utf8_lossy(&b[..b.len().min(16 * 1024)]).into_owned(),
                Err(e) => {
                    return Err(Delivery::Retry {
                        status: Some(status),
                        retry_after: None,
                        error: format!("{what}: reading the answer failed: {}", e.without_url()),
                    });
                }
            };
            Ok(Answer { status, retry_after, body })
        }
        // The URL can hold a token (hook URLs often do), so errors are kept without it.
        Err(e) if e.is_builder() => {
            Err(Delivery::Rejected { status: None, error: format!("{what}: invalid request: {}", e.without_url()) })
        }
        Err(e) => {
            let kind = if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "could not connect"
            } else {
                "failed"
            };
            Err(Delivery::Retry {
                status: None,
                retry_after: None,
                error: format!("{what}: {kind}: {}", e.without_url()),
            })
        }
    }
}

/// `Retry-After` as seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
    let secs = (at - time::OffsetDateTime::now_utc()).whole_seconds();
    Some(Duration::from_secs(secs.max(0) as u64))
}

pub const EXCERPT_CHARS: usize = 200;

/// At most [`EXCERPT_CHARS`] characters of `text` on one line, with every secret and the
/// email replaced.
pub fn excerpt(text: &str, secrets: &[&str], email: Option<&str>) -> String {
    let mut out = text.to_string();
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(secret, "[redacted]");
    }
    if let Some(email) = email.filter(|e| !e.is_empty()) {
        out = out.replace(email, "[email]");
    }
    let line = out.split_whitespace().collect::<Vec<_>>().join(" ");
    line.chars().take(EXCERPT_CHARS).collect()
}

fn scrub_delivery(d: Delivery, secrets: &[&str], email: Option<&str>) -> Delivery {
    match d {
        Delivery::Delivered { status, crm_id, note } => {
            Delivery::Delivered { status, crm_id, note: excerpt(&note, secrets, email) }
        }
        Delivery::Retry { status, retry_after, error } => {
            Delivery::Retry { status, retry_after, error: excerpt(&error, secrets, email) }
        }
        Delivery::Rejected { status, error } => Delivery::Rejected { status, error: excerpt(&error, secrets, email) },
    }
}

/// Record ids go into URL paths: only plain ones are used as they are.
pub(crate) fn plain_id(id: Option<&str>) -> Option<&str> {
    id.filter(|i| !i.is_empty() && i.len() <= 64 && i.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// `base` with path segments appended, each percent-encoded.
pub(crate) fn url_with(base: &str, segments: &[&str]) -> Result<reqwest::Url, Delivery> {
    let mut url = reqwest::Url::parse(base)
        .map_err(|e| Delivery::Rejected { status: None, error: format!("invalid URL {base:?}: {e}") })?;
    url.path_segments_mut()
        .map_err(|_| Delivery::Rejected { status: None, error: format!("invalid base URL {base:?}") })?
        .pop_if_empty()
        .extend(segments);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_short_and_clean() {
        let text = format!("{} token=s3cr3t-value for ada@example.org\n next", "x".repeat(10));
        let e = excerpt(&text, &["s3cr3t-value"], Some("ada@example.org"));
        assert_eq!(e, "xxxxxxxxxx token=[redacted] for [email] next");
        assert_eq!(excerpt(&"y".repeat(500), &[], None).chars().count(), EXCERPT_CHARS);
    }

    #[test]
    fn answers_are_classified() {
        let a = |status| Answer { status, retry_after: None, body: "b".into() };
        assert!(matches!(a(503).failure("x"), Delivery::Retry { .. }));
        assert!(matches!(a(429).failure("x"), Delivery::Retry { .. }));
        assert!(matches!(a(400).failure("x"), Delivery::Rejected { .. }));
        assert!(matches!(a(404).failure("x"), Delivery::Rejected { .. }));
        let sf = Answer { status: 400, retry_after: None, body: r#"[{"message":"Required fields are missing: [LastName]","errorCode":"REQUIRED_FIELD_MISSING","fields":["LastName"]}]"#.into() };
        assert_eq!(sf.reason(), "REQUIRED_FIELD_MISSING: Required fields are missing: [LastName]");
        let hs = Answer {
            status: 404,
            retry_after: None,
            body: r#"{"status":"error","message":"resource not found","category":"OBJECT_NOT_FOUND"}"#.into(),
        };
        assert_eq!(hs.reason(), "OBJECT_NOT_FOUND: resource not found");
        let oauth = Answer {
            status: 400,
            retry_after: None,
            body: r#"{"error":"invalid_client","error_description":"invalid client credentials"}"#.into(),
        };
        assert_eq!(oauth.reason(), "invalid_client: invalid client credentials");
        assert_eq!(a(500).reason(), "b");
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(RETRY_AFTER, "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
    }

    #[test]
    fn url_segments_are_encoded() {
        let u = url_with("http://h:1/crm/v3/objects/contacts", &["o'brien+x@example.org"]).unwrap();
        assert_eq!(u.as_str(), "http://h:1/crm/v3/objects/contacts/o'brien+x@example.org");
        let u = url_with("http://h:1/a/", &["b c/d"]).unwrap();
        assert_eq!(u.as_str(), "http://h:1/a/b%20c%2Fd");
    }
}
