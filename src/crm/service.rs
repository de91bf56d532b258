//! What the admin API asks of the CRM side: connector settings, the dry run, a lead's sync
//! state, replays, dead letters and the GDPR export. Validation happens here (through
//! [`super::config`]), storage through `store`; `http::crm` only parses and answers.

use serde_json::{Value, json};

use super::config::{self, CrmInput};
use super::connectors::{self, Work};
use super::outbox::{self, Replay};
use super::payload;
use crate::app::{App, AppResult};
use crate::domain::model::{Id, JobState, SyncJob};
use crate::domain::time::Timestamp;
use crate::store::queries::{self, EventFilter, LeadFilter};
use crate::store::{StoreError, admin, mentions};

/// A site's connectors as the API shows them (no secrets).
pub async fn get_config(app: &App, client_id: Id) -> AppResult<Value> {
    let client = app.read(move |txn| queries::require_client(txn, &client_id)).await?;
    Ok(view(client_id, &client.config.crm, &[]))
}

fn view(client_id: Id, crm: &config::CrmConfig, generated: &[(String, String)]) -> Value {
    let mut v = crm.view();
    v["clientId"] = json!(client_id);
    if let Some(list) = v["connectors"].as_array_mut() {
        for c in list {
            if let Some((_, secret)) = generated.iter().find(|(name, _)| c["name"] == json!(name)) {
                // Made for this request: the only time it is shown.
                c["secret"] = json!(secret);
            }
        }
    }
    v
}

/// Replaces a site's connectors; answers with the view, plus any webhook secret made now.
pub async fn put_config(app: &App, client_id: Id, input: CrmInput) -> AppResult<Value> {
    let current = app.read(move |txn| queries::require_client(txn, &client_id)).await?;
    let applied = config::apply(&current.config.crm, input)?;
    let stored = applied.config.clone();
    let now = Timestamp::now();
    app.write(move |txn| admin::update_client(txn, &client_id, now, |c| c.config.crm = stored)).await?;
    app.refresh_site(client_id).await?;
    let names: Vec<&str> = applied.config.connectors.iter().map(|c| c.name.as_str()).collect();
    tracing::info!(client = %client_id, connectors = ?names, "CRM connectors updated");
    // Jobs waiting for a connector may go now.
    app.crm_wakeup.notify_one();
    Ok(view(client_id, &applied.config, &applied.generated))
}

/// What each connector would send for the site's newest `limit` leads. Sends nothing.
pub async fn dry_run(app: &App, client_id: Id, limit: usize) -> AppResult<Value> {
    let site = app.sites.get(&client_id).ok_or(StoreError::NotFound("client"))?;
    let filter = LeadFilter { client_id: Some(client_id), ..Default::default() };
    let leads = app.read(move |txn| queries::list_leads(txn, &filter, None, limit)).await?.items;
    let items: Vec<Value> = leads
        .iter()
        .map(|lead| {
            let mapped = payload::map_lead(lead, &site.bundle);
            let key = format!("{}:<jobId>", lead.lead_id);
            let per_connector: Vec<Value> = site
                .client
                .config
                .crm
                .connectors
                .iter()
                .map(|c| {
                    let mut v = json!({"connector": c.name, "type": c.kind.type_name(), "enabled": c.enabled});
                    match &mapped {
                        Ok(m) => v["requests"] = json!(connectors::plan(c, &key, &Work::Upsert { lead, mapped: m })),
                        Err(e) => {
                            v["error"] = json!(e.to_string());
                            v["wouldDeadLetter"] = json!(true);
                        }
                    }
                    v
                })
                .collect();
            json!({
                "leadId": lead.lead_id, "email": lead.email, "status": lead.status,
                "syncStatus": lead.sync_status, "crmId": lead.crm_id, "connectors": per_connector,
            })
        })
        .collect();
    Ok(json!({"clientId": client_id, "dryRun": true, "items": items}))
}

/// A lead's sync state: status, CRM id, its jobs and every delivery attempt. Also answers
/// for an erased lead while its erasure jobs are kept, so their delivery can be checked.
pub async fn lead_sync(app: &App, lead_id: Id) -> AppResult<Value> {
    let (lead, jobs, attempts) = app
        .read(move |txn| {
            let lead = queries::get_lead(txn, &lead_id)?;
            let jobs = outbox::jobs_where(txn, 1000, |j| j.lead_id == lead_id)?;
            let attempts = outbox::attempts_for_lead(txn, &lead_id)?;
            Ok((lead, jobs, attempts))
        })
        .await?;
    if lead.is_none() && jobs.is_empty() {
        return Err(StoreError::NotFound("lead").into());
    }
    Ok(json!({
        "leadId": lead_id,
        "exists": lead.is_some(),
        "syncStatus": lead.as_ref().map(|l| l.sync_status),
        "crmId": lead.as_ref().and_then(|l| l.crm_id.clone()),
        "crmSyncedAt": lead.as_ref().and_then(|l| l.crm_synced_at),
        "jobs": jobs,
        "attempts": attempts,
    }))
}

/// Queues dead-lettered jobs again and wakes the worker.
pub async fn replay(app: &App, which: Replay) -> AppResult<Vec<SyncJob>> {
    let now = Timestamp::now();
    if let Replay::Lead(id) = which {
        let known = app
            .read(move |txn| {
                Ok(queries::get_lead(txn, &id)?.is_some()
                    || !outbox::jobs_where(txn, 1, |j| j.lead_id == id)?.is_empty())
            })
            .await?;
        if !known {
            return Err(StoreError::NotFound("lead").into());
        }
    }
    let jobs = app.write(move |txn| outbox::replay(txn, which, now)).await?;
    if !jobs.is_empty() {
        tracing::info!(jobs = jobs.len(), "dead-lettered CRM jobs queued again");
        app.crm_wakeup.notify_one();
    }
    Ok(jobs)
}

/// A page of dead-lettered jobs, newest first, after the job `cursor`; and the cursor of
/// the next page, if there is one.
pub async fn dead_letters(
    app: &App,
    client: Option<Id>,
    cursor: Option<Id>,
    limit: usize,
) -> AppResult<(Vec<SyncJob>, Option<Id>)> {
    let mut jobs = app
        .read(move |txn| {
            // One more than the page, to know whether another follows.
            outbox::jobs_newest_first(txn, cursor, limit + 1, |j| {
                j.state == JobState::DeadLetter && client.is_none_or(|c| c == j.client_id)
            })
        })
        .await?;
    let next = (jobs.len() > limit).then(|| jobs[limit - 1].job_id);
    jobs.truncate(limit);
    Ok((jobs, next))
}

/// Every lead and event held for `email` (in one site, or in all), and the CRM jobs that
/// still name the person. Read in one snapshot.
pub async fn gdpr_export(app: &App, client: Option<Id>, email: String) -> AppResult<Value> {
    let now = Timestamp::now();
    let export = app
        .read(move |txn| {
            let clients: Vec<Id> = match client {
                Some(c) => {
                    queries::require_client(txn, &c)?;
                    vec![c]
                }
                None => queries::list_clients(txn)?.into_iter().map(|c| c.client_id).collect(),
            };
            let mut leads = Vec::new();
            for &c in &clients {
                let filter = LeadFilter { client_id: Some(c), email: Some(email.clone()), ..Default::default() };
                let mut cursor = None;
                loop {
                    let page = queries::list_leads(txn, &filter, cursor, 500)?;
                    leads.extend(page.items);
                    match page.next_cursor {
                        Some(next) => cursor = Some(next),
                        None => break,
                    }
                }
            }
            let mut events = Vec::new();
            for lead in &leads {
                let filter = EventFilter { lead_id: Some(lead.lead_id), ..Default::default() };
                let mut cursor = None;
                loop {
                    let page = queries::list_events(txn, &filter, cursor, 500)?;
                    events.extend(page.items);
                    match page.next_cursor {
                        Some(next) => cursor = Some(next),
                        None => break,
                    }
                }
            }
            // Events that hold the address without being a lead's (a sign-in, a form that
            // is no lead form), once each, newest first as the API lists events.
            for &c in &clients {
                events.extend(mentions::events_mentioning(txn, c, &email)?);
            }
            events.sort_by_key(|e| std::cmp::Reverse(e.event_id));
            events.dedup_by_key(|e| e.event_id);
            let ids: Vec<Id> = leads.iter().map(|l| l.lead_id).collect();
            let jobs = outbox::jobs_where(txn, usize::MAX, |j| {
                ids.contains(&j.lead_id) || j.email.as_deref() == Some(email.as_str())
            })?;
            Ok(json!({
                "email": email,
                "clientId": client,
                "exportedAt": now,
                "leads": leads,
                "events": events,
                "crmJobs": jobs,
            }))
        })
        .await?;
    Ok(export)
}
