//! Salesforce: an access token from the OAuth 2.0 client-credentials flow of a connected
//! app (`POST {loginUrl}/services/oauth2/token`), cached until Salesforce answers
//! `401 INVALID_SESSION_ID`, then fetched again once; then the REST API's Lead sObject under
//! the `instance_url` the token came with:
//!
//! - create: `POST /services/data/vXX.X/sobjects/Lead/` → `201 {"id": …}`
//! - update: `PATCH /services/data/vXX.X/sobjects/Lead/{id}` → `204`
//! - erase:  `DELETE /services/data/vXX.X/sobjects/Lead/{id}` → `204`
//!
//! Before creating a lead that has no `crmId`, a SOQL query looks for the record an
//! interrupted delivery may have made (by the external id field when one is configured,
//! else by email), so a restart mid-delivery updates that record instead of making a second.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

use super::{Answer, Delivery, Work, plain_id, send};
use crate::crm::config::{SalesforceConfig, Secret};
use crate::crm::payload;
use crate::domain::model::Id;

#[derive(Clone)]
struct Token {
    access_token: Secret,
    instance_url: String,
}

/// Tokens per connector. The key digests the settings, so new credentials never use a
/// token fetched with old ones.
#[derive(Default)]
pub struct TokenCache(Mutex<HashMap<String, Token>>);

impl TokenCache {
    fn get(&self, key: &str) -> Option<Token> {
        self.0.lock().ok()?.get(key).cloned()
    }

    fn put(&self, key: &str, token: Token) {
        if let Ok(mut m) = self.0.lock() {
            m.insert(key.to_string(), token);
        }
    }

    fn forget(&self, key: &str) {
        if let Ok(mut m) = self.0.lock() {
            m.remove(key);
        }
    }

    /// The cached access token, so it can be scrubbed from what is recorded.
    pub fn current(&self, key: &str) -> Option<String> {
        self.get(key).map(|t| t.access_token.expose().to_string())
    }
}

pub fn cache_key(client: Id, name: &str, cfg: &SalesforceConfig) -> String {
    let mut h = Sha256::new();
    for part in [cfg.login_url.as_str(), cfg.client_id.as_str(), cfg.client_secret.expose()] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    format!("{client}/{name}/{}", hex::encode(&h.finalize()[..12]))
}

/// A SOQL string literal's content: backslash and quote escaped (and the control
/// characters SOQL has escapes for), so a value can never end the literal.
pub fn soql_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c => out.push(c),
        }
    }
    out
}

/// The query that finds this lead's record, if there is anything to find it by.
pub fn lookup_query(cfg: &SalesforceConfig, lead_id: Id, email: Option<&str>) -> Option<String> {
    match (&cfg.external_id_field, email) {
        (Some(field), _) => {
            Some(format!("SELECT Id FROM Lead WHERE {field} = '{}' LIMIT 1", soql_escape(&lead_id.to_string())))
        }
        (None, Some(email)) => {
            Some(format!("SELECT Id FROM Lead WHERE Email = '{}' AND IsConverted = false LIMIT 1", soql_escape(email)))
        }
        (None, None) => None,
    }
}

/// One delivery's conversation with Salesforce: the token, refreshed at most once.
struct Session<'a> {
    http: &'a reqwest::Client,
    cache: &'a TokenCache,
    key: &'a str,
    cfg: &'a SalesforceConfig,
    token: Option<Token>,
    refreshed: bool,
}

impl Session<'_> {
    async fn fetch_token(&mut self) -> Result<Token, Delivery> {
        let url = format!("{}/services/oauth2/token", self.cfg.login_url);
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.cfg.client_id.as_str()),
            ("client_secret", self.cfg.client_secret.expose()),
        ];
        let answer = send(self.http.post(url).form(&form), "token").await?;
        if !answer.ok() {
            return Err(answer.failure("token"));
        }
        let v = answer.json();
        let (Some(access), Some(instance)) = (v["access_token"].as_str(), v["instance_url"].as_str()) else {
            return Err(Delivery::Retry {
                status: Some(answer.status),
                retry_after: None,
                error: "token: the answer has no access_token or instance_url".into(),
            });
        };
        let token =
            Token { access_token: Secret::new(access), instance_url: instance.trim_end_matches('/').to_string() };
        self.cache.put(self.key, token.clone());
        Ok(token)
    }

    async fn token(&mut self) -> Result<Token, Delivery> {
        if let Some(t) = &self.token {
            return Ok(t.clone());
        }
        let t = match self.cache.get(self.key) {
            Some(t) => t,
            None => self.fetch_token().await?,
        };
        self.token = Some(t.clone());
        Ok(t)
    }

    fn data_url(token: &Token, cfg: &SalesforceConfig, path: &str) -> String {
        format!("{}/services/data/{}/{path}", token.instance_url, cfg.api_version)
    }

    /// Sends one API call; an expired session is renewed once and the call repeated.
    async fn call(
        &mut self,
        method: reqwest::Method,
        path: &str,
        query: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Answer, Delivery> {
        loop {
            let token = self.token().await?;
            let mut request = self
                .http
                .request(method.clone(), Self::data_url(&token, self.cfg, path))
                .bearer_auth(token.access_token.expose());
            if let Some(q) = query {
                request = request.query(&[("q", q)]);
            }
            if let Some(b) = body {
                request = request.json(b);
            }
            let answer = send(request, "request").await?;
            if answer.status == 401 && answer.body.contains("INVALID_SESSION_ID") && !self.refreshed {
                self.refreshed = true;
                self.cache.forget(self.key);
                self.token = None;
                tracing::info!("salesforce session expired; fetching a new token");
                continue;
            }
            return Ok(answer);
        }
    }

    async fn find(&mut self, lead_id: Id, email: Option<&str>) -> Result<Option<String>, Delivery> {
        let Some(soql) = lookup_query(self.cfg, lead_id, email) else { return Ok(None) };
        let answer = self.call(reqwest::Method::GET, "query", Some(&soql), None).await?;
        if !answer.ok() {
            return Err(answer.failure("query"));
        }
        let v = answer.json();
        Ok(v["records"].get(0).and_then(|r| r["Id"].as_str()).map(str::to_string))
    }
}

pub async fn deliver(
    http: &reqwest::Client,
    cache: &TokenCache,
    key: &str,
    cfg: &SalesforceConfig,
    work: &Work<'_>,
) -> Delivery {
    let mut s = Session { http, cache, key, cfg, token: None, refreshed: false };
    let result = match work {
        Work::Upsert { lead, mapped } => upsert(&mut s, lead, mapped).await,
        Work::Delete { lead_id, crm_id, email, .. } => erase(&mut s, *lead_id, *crm_id, *email).await,
    };
    result.unwrap_or_else(|d| d)
}

async fn upsert(
    s: &mut Session<'_>,
    lead: &crate::domain::model::Lead,
    mapped: &payload::Mapped,
) -> Result<Delivery, Delivery> {
    let record = Value::Object(payload::salesforce_lead(lead, mapped, s.cfg.external_id_field.as_deref()));
    let mut id = plain_id(lead.crm_id.as_deref()).map(str::to_string);
    if id.is_none() {
        id = s.find(lead.lead_id, lead.email.as_deref()).await?;
    }
    if let Some(id) = id {
        let answer = s.call(reqwest::Method::PATCH, &format!("sobjects/Lead/{id}"), None, Some(&record)).await?;
        if answer.ok() {
            return Ok(Delivery::Delivered {
                status: answer.status,
                crm_id: Some(id.clone()),
                note: format!("updated Lead {id}"),
            });
        }
        // Deleted or merged away in Salesforce since: make it again.
        if answer.status != 404 {
            return Err(answer.failure("update"));
        }
    }
    let answer = s.call(reqwest::Method::POST, "sobjects/Lead/", None, Some(&record)).await?;
    if !answer.ok() {
        return Err(answer.failure("create"));
    }
    match answer.json()["id"].as_str() {
        Some(id) => Ok(Delivery::Delivered {
            status: answer.status,
            crm_id: Some(id.to_string()),
            note: format!("created Lead {id}"),
        }),
        None => Err(Delivery::Retry {
            status: Some(answer.status),
            retry_after: None,
            error: "create: the answer has no id".into(),
        }),
    }
}

async fn erase(
    s: &mut Session<'_>,
    lead_id: Id,
    crm_id: Option<&str>,
    email: Option<&str>,
) -> Result<Delivery, Delivery> {
    let id = match plain_id(crm_id) {
        Some(id) => Some(id.to_string()),
        None => s.find(lead_id, email).await?,
    };
    let Some(id) = id else {
        return Ok(Delivery::Delivered {
            status: 200,
            crm_id: None,
            note: "no Salesforce Lead found; nothing to delete".into(),
        });
    };
    let answer = s.call(reqwest::Method::DELETE, &format!("sobjects/Lead/{id}"), None, None).await?;
    match answer.status {
        200..=299 => Ok(Delivery::Delivered {
            status: answer.status,
            crm_id: Some(id.clone()),
            note: format!("deleted Lead {id}"),
        }),
        404 => Ok(Delivery::Delivered {
            status: 404,
            crm_id: Some(id.clone()),
            note: format!("Lead {id} was already gone"),
        }),
        _ => Err(answer.failure("delete")),
    }
}

pub fn plan(cfg: &SalesforceConfig, work: &Work<'_>) -> Vec<Value> {
    let base = format!("{{instance_url}}/services/data/{}", cfg.api_version);
    let token = json!({
        "method": "POST",
        "url": format!("{}/services/oauth2/token", cfg.login_url),
        "note": "client-credentials token, fetched once and cached",
        "body": "grant_type=client_credentials&client_id=…&client_secret=…",
    });
    let mut steps = vec![token];
    match work {
        Work::Upsert { lead, mapped } => {
            let record = Value::Object(payload::salesforce_lead(lead, mapped, cfg.external_id_field.as_deref()));
            match plain_id(lead.crm_id.as_deref()) {
                Some(id) => {
                    steps.push(json!({"method": "PATCH", "url": format!("{base}/sobjects/Lead/{id}"), "body": record}))
                }
                None => {
                    if let Some(q) = lookup_query(cfg, lead.lead_id, lead.email.as_deref()) {
                        steps.push(json!({"method": "GET", "url": format!("{base}/query"), "query": {"q": q},
                            "note": "finds a record an interrupted delivery made; if found, PATCH …/sobjects/Lead/{id} instead of POST"}));
                    }
                    steps.push(json!({"method": "POST", "url": format!("{base}/sobjects/Lead/"), "body": record}));
                }
            }
        }
        Work::Delete { crm_id, .. } => {
            let id = plain_id(*crm_id).unwrap_or("{id found by the lookup}");
            steps.push(json!({"method": "DELETE", "url": format!("{base}/sobjects/Lead/{id}")}));
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(ext: Option<&str>) -> SalesforceConfig {
        SalesforceConfig {
            login_url: "https://login.salesforce.com".into(),
            client_id: "ck".into(),
            client_secret: Secret::new("cs"),
            api_version: "v60.0".into(),
            external_id_field: ext.map(str::to_string),
        }
    }

    #[test]
    fn quotes_cannot_end_the_literal() {
        assert_eq!(soql_escape(r"o'brien\x@example.org"), r"o\'brien\\x@example.org");
        let q = lookup_query(&cfg(None), uuid::Uuid::nil(), Some("a' OR Name != 'x@y.io")).unwrap();
        assert_eq!(q, r"SELECT Id FROM Lead WHERE Email = 'a\' OR Name != \'x@y.io' AND IsConverted = false LIMIT 1");
        let q = lookup_query(&cfg(Some("Ext__c")), uuid::Uuid::nil(), Some("a@b.co")).unwrap();
        assert_eq!(q, "SELECT Id FROM Lead WHERE Ext__c = '00000000-0000-0000-0000-000000000000' LIMIT 1");
        assert!(lookup_query(&cfg(None), uuid::Uuid::nil(), None).is_none());
    }

    #[test]
    fn new_credentials_get_a_new_cache_key() {
        let a = cache_key(uuid::Uuid::nil(), "salesforce", &cfg(None));
        let mut other = cfg(None);
        other.client_secret = Secret::new("rotated");
        assert_ne!(a, cache_key(uuid::Uuid::nil(), "salesforce", &other));
        assert!(!a.contains("cs"));
    }
}
