//! Applying tracker events inside the writer's transaction: dedup by sender event id,
//! lead create/update (24 h rule), event records, every index, discovered forms, and the
//! CRM outbox job, all in the one transaction that is then committed durably.

use redb::{ReadableTable, Table, WriteTransaction};
use uuid::Uuid;

use super::codec::{decode, encode};
use super::tables::*;
use super::{Result, leads};
use crate::domain::event::TrackEvent;
use crate::domain::lead_rules::{self, LeadCandidate};
use crate::domain::model::{DiscoveredForm, Event, EventType, Id, Lead, SyncKind};
use crate::domain::time::Timestamp;

/// One validated event with what the lead rules made of it (computed outside the writer,
/// on the request's thread, so the writer only stores).
#[derive(Debug, Clone)]
pub struct PreparedEvent {
    pub event: TrackEvent,
    pub candidate: Option<LeadCandidate>,
    pub form_id: Option<Id>,
}

#[derive(Debug, Clone)]
pub struct IngestBatch {
    pub client_id: Id,
    pub events: Vec<PreparedEvent>,
    /// The site has a CRM connector: lead changes enqueue sync jobs.
    pub crm_enabled: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct IngestOutcome {
    pub accepted: usize,
    pub duplicates: usize,
    /// Leads created or changed, for notifying the CRM worker.
    pub leads_changed: Vec<Id>,
}

/// The tables ingest touches, opened once per transaction.
pub struct IngestTables<'t> {
    events: Table<'t, Id16, &'static [u8]>,
    events_by_client: Table<'t, Pair, ()>,
    events_by_lead: Table<'t, Pair, ()>,
    seen: Table<'t, Pair, u64>,
    leads: leads::LeadTables<'t>,
    discovered: Table<'t, &'static [u8], &'static [u8]>,
}

impl<'t> IngestTables<'t> {
    pub fn open(txn: &'t WriteTransaction) -> Result<Self> {
        Ok(IngestTables {
            events: txn.open_table(EVENTS)?,
            events_by_client: txn.open_table(EVENTS_BY_CLIENT)?,
            events_by_lead: txn.open_table(EVENTS_BY_LEAD)?,
            seen: txn.open_table(SEEN_EVENT_IDS)?,
            leads: leads::LeadTables::open(txn)?,
            discovered: txn.open_table(DISCOVERED_FORMS)?,
        })
    }

    pub fn apply(&mut self, batch: &IngestBatch, now: Timestamp) -> Result<IngestOutcome> {
        let client = *batch.client_id.as_bytes();
        let mut outcome = IngestOutcome::default();
        for prepared in &batch.events {
            let seen_key = pair(&client, prepared.event.client_event_id.as_bytes());
            if self.seen.get(seen_key)?.is_some() {
                outcome.duplicates += 1;
                continue;
            }
            self.seen.insert(seen_key, now.millis() as u64)?;

            let lead_id = match &prepared.candidate {
                Some(candidate) => {
                    let id = self.apply_lead(batch, candidate, now)?;
                    outcome.leads_changed.push(id);
                    Some(id)
                }
                None => None,
            };
            if prepared.form_id.is_none() {
                self.discover_form(&client, &prepared.event, now)?;
            }

            let event_id = Uuid::now_v7();
            let record = Event {
                event_id,
                client_event_id: prepared.event.client_event_id,
                client_id: batch.client_id,
                form_id: prepared.form_id,
                form_ref: prepared.event.form_ref.clone(),
                lead_id,
                event_type: prepared.event.event_type,
                session_id: prepared.event.session_id.clone(),
                visitor_id: prepared.event.visitor_id.clone(),
                payload: prepared.event.payload.clone(),
                timestamp: prepared.event.timestamp,
                created_at: now,
            };
            let eid = *event_id.as_bytes();
            self.events.insert(eid, encode(&record)?.as_slice())?;
            self.events_by_client.insert(pair(&client, &eid), ())?;
            if let Some(lead) = lead_id {
                self.events_by_lead.insert(pair(lead.as_bytes(), &eid), ())?;
            }
            outcome.accepted += 1;
        }
        Ok(outcome)
    }

    /// Finds the lead this candidate updates (same client, email, visitor, < 24 h) or makes
    /// a new one; returns its id.
    fn apply_lead(&mut self, batch: &IngestBatch, candidate: &LeadCandidate, now: Timestamp) -> Result<Id> {
        let client = *batch.client_id.as_bytes();
        let existing = match candidate.email() {
            Some(email) => self.leads.find_match(&client, email, |lead| lead_rules::matches(lead, candidate, now))?,
            None => None,
        };
        let lead = match existing {
            Some(mut lead) => {
                let before = lead.clone();
                lead_rules::merge(&mut lead, candidate, now);
                if batch.crm_enabled {
                    lead.sync_status = crate::domain::model::SyncStatus::Pending;
                }
                self.leads.update(&before, &lead)?;
                lead
            }
            None => {
                let mut lead = lead_rules::new_lead(candidate, batch.client_id, Uuid::now_v7(), now);
                if batch.crm_enabled {
                    lead.sync_status = crate::domain::model::SyncStatus::Pending;
                }
                self.leads.insert(&lead)?;
                lead
            }
        };
        if batch.crm_enabled {
            self.leads.enqueue_sync(&lead, SyncKind::Upsert, now)?;
        }
        Ok(lead.lead_id)
    }

    /// Remembers forms the tracker reports that nobody configured, so the dashboard can
    /// offer to promote them. Submissions count; interactions only make the first record.
    fn discover_form(&mut self, client: &Id16, event: &TrackEvent, now: Timestamp) -> Result<()> {
        let counts = match event.event_type {
            EventType::FormSubmission => true,
            EventType::FormInteraction => false,
            _ => return Ok(()),
        };
        let Some(selector) = event.form_selector.as_deref().or(event.form_ref.as_deref()) else {
            return Ok(());
        };
        let mut key = client.to_vec();
        key.extend_from_slice(selector.as_bytes());
        let existing: Option<DiscoveredForm> = match self.discovered.get(key.as_slice())? {
            Some(bytes) => Some(decode(bytes.value())?),
            None => None,
        };
        if existing.is_some() && !counts {
            return Ok(());
        }
        let mut form = existing.unwrap_or_else(|| DiscoveredForm {
            client_id: Uuid::from_bytes(*client),
            selector: selector.to_string(),
            first_seen_at: now,
            ..Default::default()
        });
        form.form_ref = event.form_ref.clone().or(form.form_ref);
        if let Some(url) = event.page_url() {
            form.page_url = Some(url.to_string());
        }
        for name in event.fields.keys() {
            if !form.field_names.contains(name) && form.field_names.len() < 100 {
                form.field_names.push(name.clone());
            }
        }
        if counts {
            form.seen_count += 1;
        }
        form.last_seen_at = now;
        self.discovered.insert(key.as_slice(), encode(&form)?.as_slice())?;
        Ok(())
    }
}

/// Loads a lead inside a write transaction.
pub fn load_lead(table: &Table<'_, Id16, &'static [u8]>, id: &Id16) -> Result<Option<Lead>> {
    match table.get(*id)? {
        Some(bytes) => Ok(Some(decode(bytes.value())?)),
        None => Ok(None),
    }
}
