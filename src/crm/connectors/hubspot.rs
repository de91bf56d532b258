//! HubSpot: a private app's access token (`Authorization: Bearer …`) and the CRM v3
//! objects API for contacts.
//!
//! - upsert: `PATCH /crm/v3/objects/contacts/{id}` when the lead has a `crmId`, else
//!   `PATCH /crm/v3/objects/contacts/{email}?idProperty=email`; on 404,
//!   `POST /crm/v3/objects/contacts`. Updating by email is naturally idempotent, so a
//!   repeated delivery changes the same contact.
//! - erase: `DELETE /crm/v3/objects/contacts/{id}`, the id looked up by email
//!   (`GET /crm/v3/objects/contacts/{email}?idProperty=email`) when the lead had none.

use serde_json::{Value, json};

use super::{Answer, Delivery, Work, plain_id, send, url_with};
use crate::crm::config::HubspotConfig;
use crate::crm::payload;

fn contacts(cfg: &HubspotConfig, segment: Option<&str>) -> Result<reqwest::Url, Delivery> {
    let mut segments = vec!["crm", "v3", "objects", "contacts"];
    segments.extend(segment);
    url_with(&cfg.base_url, &segments)
}

async fn call(cfg: &HubspotConfig, request: reqwest::RequestBuilder) -> Result<Answer, Delivery> {
    send(request.bearer_auth(cfg.access_token.expose()), "request").await
}

fn id_of(answer: &Answer) -> Option<String> {
    let v = answer.json();
    match &v["id"] {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub async fn deliver(http: &reqwest::Client, cfg: &HubspotConfig, work: &Work<'_>) -> Delivery {
    let result = match work {
        Work::Upsert { lead, mapped } => upsert(http, cfg, lead.crm_id.as_deref(), lead.email.as_deref(), mapped).await,
        Work::Delete { crm_id, email, .. } => erase(http, cfg, *crm_id, *email).await,
    };
    result.unwrap_or_else(|d| d)
}

fn delivered(answer: &Answer, fallback: Option<&str>, what: &str) -> Delivery {
    let id = id_of(answer).or(fallback.map(str::to_string));
    let note = format!("{what} contact {}", id.as_deref().unwrap_or("?"));
    Delivery::Delivered { status: answer.status, crm_id: id, note }
}

async fn upsert(
    http: &reqwest::Client,
    cfg: &HubspotConfig,
    crm_id: Option<&str>,
    email: Option<&str>,
    mapped: &payload::Mapped,
) -> Result<Delivery, Delivery> {
    let body = json!({"properties": payload::hubspot_properties(mapped)});
    if let Some(id) = plain_id(crm_id) {
        let answer = call(cfg, http.patch(contacts(cfg, Some(id))?).json(&body)).await?;
        if answer.ok() {
            return Ok(delivered(&answer, Some(id), "updated"));
        }
        if answer.status != 404 {
            return Err(answer.failure("update"));
        }
    }
    if let Some(email) = email {
        let url = contacts(cfg, Some(email))?;
        let answer = call(cfg, http.patch(url).query(&[("idProperty", "email")]).json(&body)).await?;
        if answer.ok() {
            return Ok(delivered(&answer, None, "updated"));
        }
        if answer.status != 404 {
            return Err(answer.failure("update by email"));
        }
    }
    let answer = call(cfg, http.post(contacts(cfg, None)?).json(&body)).await?;
    if answer.ok() {
        return Ok(delivered(&answer, None, "created"));
    }
    if answer.status == 409 {
        // Made meanwhile by someone else: the next attempt updates it by email.
        return Err(Delivery::Retry {
            status: Some(409),
            retry_after: None,
            error: format!("create: the contact exists now: {}", answer.body.trim()),
        });
    }
    Err(answer.failure("create"))
}

async fn erase(
    http: &reqwest::Client,
    cfg: &HubspotConfig,
    crm_id: Option<&str>,
    email: Option<&str>,
) -> Result<Delivery, Delivery> {
    let id = match (plain_id(crm_id), email) {
        (Some(id), _) => id.to_string(),
        (None, Some(email)) => {
            let url = contacts(cfg, Some(email))?;
            let answer = call(cfg, http.get(url).query(&[("idProperty", "email")])).await?;
            if answer.status == 404 {
                return Ok(Delivery::Delivered {
                    status: 404,
                    crm_id: None,
                    note: "no HubSpot contact; nothing to delete".into(),
                });
            }
            if !answer.ok() {
                return Err(answer.failure("lookup"));
            }
            match id_of(&answer) {
                Some(id) => id,
                None => {
                    return Err(Delivery::Retry {
                        status: Some(answer.status),
                        retry_after: None,
                        error: "lookup: no id in the answer".into(),
                    });
                }
            }
        }
        (None, None) => {
            return Ok(Delivery::Delivered {
                status: 200,
                crm_id: None,
                note: "no id or email to find the contact by".into(),
            });
        }
    };
    let answer = call(cfg, http.delete(contacts(cfg, Some(&id))?)).await?;
    match answer.status {
        200..=299 => Ok(Delivery::Delivered {
            status: answer.status,
            crm_id: Some(id.clone()),
            note: format!("deleted contact {id}"),
        }),
        404 => Ok(Delivery::Delivered {
            status: 404,
            crm_id: Some(id.clone()),
            note: format!("contact {id} was already gone"),
        }),
        _ => Err(answer.failure("delete")),
    }
}

pub fn plan(cfg: &HubspotConfig, work: &Work<'_>) -> Vec<Value> {
    let url = |segment: Option<&str>| contacts(cfg, segment).map(|u| u.to_string()).unwrap_or_default();
    match work {
        Work::Upsert { lead, mapped } => {
            let body = json!({"properties": payload::hubspot_properties(mapped)});
            let mut steps = Vec::new();
            if let Some(id) = plain_id(lead.crm_id.as_deref()) {
                steps.push(json!({"method": "PATCH", "url": url(Some(id)), "body": body}));
            } else if let Some(email) = lead.email.as_deref() {
                steps.push(
                    json!({"method": "PATCH", "url": format!("{}?idProperty=email", url(Some(email))), "body": body}),
                );
            }
            steps.push(json!({"method": "POST", "url": url(None), "body": body,
                "note": if steps.is_empty() { "creates the contact" } else { "only if the update answers 404" }}));
            steps
        }
        Work::Delete { crm_id, .. } => {
            let id = plain_id(*crm_id).unwrap_or("{id found by email}");
            vec![json!({"method": "DELETE", "url": url(Some(id))})]
        }
    }
}
