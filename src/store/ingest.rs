//! Applying tracker events inside the writer's transaction: dedup by sender event id,
//! lead create/update (24 h rule), event records, every index, discovered forms, and the
//! CRM outbox job, all in the one transaction that is then committed durably.
//!
//! The writer is the one serial part of ingest, so everything that can be done before it is:
//! [`PreparedEvent::new`] runs on the request's thread and encodes the event record and,
//! when the event would start a new lead, the lead record too. The writer then mostly moves
//! bytes into B-trees; it re-encodes only when an event updates an existing lead.

use redb::{ReadableTable, Table, WriteTransaction};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use uuid::Uuid;

use super::Result;
use super::codec::{decode, encode};
use super::event_pages::{EventBody, IdClock, PageWriter};
use super::leads::{self, LeadKeys};
use super::tables::*;
use crate::domain::event::TrackEvent;
use crate::domain::lead_rules::{self, LeadCandidate};
use crate::domain::model::{DiscoveredForm, EventType, Id, Lead, SyncKind, SyncStatus};
use crate::domain::time::Timestamp;

/// What an event tells about a form nobody configured.
#[derive(Debug, Clone)]
pub struct Discovery {
    pub selector: String,
    pub form_ref: Option<String>,
    pub page_url: Option<String>,
    pub field_names: Vec<String>,
    /// Submissions count; interactions only make the first record.
    pub counts: bool,
}

/// One validated event, with its records encoded ahead of the writer.
#[derive(Debug, Clone)]
pub struct PreparedEvent {
    pub client_event_id: Uuid,
    /// The event as its page stores it, encoded; the writer adds its id and lead id.
    pub body_bytes: Vec<u8>,
    pub candidate: Option<LeadCandidate>,
    /// The lead this event makes if no stored lead matches it, and its encoding.
    pub new_lead: Option<(Lead, Vec<u8>)>,
    pub discovery: Option<Discovery>,
}

impl PreparedEvent {
    /// Applies the lead rules and encodes. Runs on the request's thread.
    pub fn new(
        event: TrackEvent,
        client_id: Id,
        rules: &lead_rules::SiteRules,
        crm_enabled: bool,
        now: Timestamp,
    ) -> Result<PreparedEvent> {
        let candidate = lead_rules::candidate(&event, rules);
        let form_id = lead_rules::configured_form(&event, rules);
        let new_lead = match &candidate {
            Some(c) => {
                let mut lead = lead_rules::new_lead(c, client_id, Uuid::now_v7(), now);
                if crm_enabled {
                    lead.sync_status = SyncStatus::Pending;
                }
                let bytes = encode(&lead)?;
                Some((lead, bytes))
            }
            None => None,
        };
        let discovery = match (form_id, event.event_type) {
            // A form that makes a lead is a lead form; asked only otherwise.
            (None, EventType::FormSubmission | EventType::FormInteraction)
                if candidate.is_some() || !lead_rules::is_not_a_lead_form(&event, &event.fields) =>
            {
                event.form_selector.clone().or_else(|| event.form_ref.as_deref().map(id_selector)).map(|selector| {
                    Discovery {
                        selector,
                        form_ref: event.form_ref.clone(),
                        page_url: event.page_url().map(str::to_string),
                        field_names: event.fields.keys().cloned().collect(),
                        counts: event.event_type == EventType::FormSubmission,
                    }
                })
            }
            _ => None,
        };
        let body = EventBody {
            client_event_id: event.client_event_id,
            form_id,
            form_ref: event.form_ref,
            event_type: event.event_type,
            session_id: event.session_id,
            visitor_id: event.visitor_id,
            payload: event.payload,
            timestamp: event.timestamp,
            created_at: now,
        };
        Ok(PreparedEvent {
            client_event_id: body.client_event_id,
            body_bytes: encode(&body)?,
            candidate,
            new_lead,
            discovery,
        })
    }
}

/// A selector for a form known only by the sender's formId (server-side senders may send
/// no formSelector): the form with that id.
fn id_selector(form_ref: &str) -> String {
    let plain = form_ref.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && form_ref.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if plain { format!("#{form_ref}") } else { format!("[id=\"{}\"]", form_ref.replace(['"', '\\'], "")) }
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

/// What the writer thread remembers between transactions so it does not decode again what
/// it wrote itself: discovered forms (written once per transaction per form) and recently
/// written leads (a partial lead is usually upgraded by its submission moments later).
/// Only the writer writes, so the cache stays true until a transaction fails or an admin
/// job (which may change or delete leads and forms) runs; then it is cleared.
#[derive(Default)]
pub struct WriterCache {
    forms: HashMap<Vec<u8>, DiscoveredForm>,
    /// Discovered forms stored per site, counted once per cache lifetime.
    discovered_counts: HashMap<Id16, usize>,
    /// Recently written leads in two generations: when the newer fills up, the older is
    /// dropped and the newer takes its place, so the most recent leads always stay.
    leads: HashMap<Id16, Lead>,
    older_leads: HashMap<Id16, Lead>,
    /// Event ids; not a cache, never cleared.
    pub ids: IdClock,
    /// The pages being filled in the current transaction, and reusable buffers.
    pages: PageWriter,
}

/// Discovered forms kept per site. Any visitor can report a form (its selector comes from
/// the page), so without a bound a script could fill the data file and the dashboard's list
/// with made-up ones; a real site has a few dozen forms at most. Once a site has this many,
/// new selectors are not recorded (known ones still update) until some are promoted or the
/// site's forms are configured.
pub const MAX_DISCOVERED_FORMS: usize = 200;

/// Leads per generation of the lead cache (two at most, about 2 MB together: a submission
/// follows its partial lead within seconds, and the cache counts in the server's memory). A
/// lead no longer cached only costs a decode.
const CACHED_LEADS_PER_GENERATION: usize = 1024;

impl WriterCache {
    /// A cache for a writer whose newest stored event id is `newest`.
    pub fn new(newest: Option<Id16>) -> WriterCache {
        WriterCache { ids: IdClock::after(newest), ..Default::default() }
    }

    /// Forget everything (after a failed commit, or an admin change).
    pub fn clear(&mut self) {
        self.forms.clear();
        self.discovered_counts.clear();
        self.leads.clear();
        self.older_leads.clear();
        self.pages.reset();
    }

    fn keep_lead(&mut self, lead: Lead) {
        if self.leads.len() >= CACHED_LEADS_PER_GENERATION {
            let newer = std::mem::replace(&mut self.leads, HashMap::with_capacity(CACHED_LEADS_PER_GENERATION));
            let oldest = std::mem::replace(&mut self.older_leads, newer);
            // Freeing a thousand leads takes the writer, the one serial part of ingest, a
            // while (it showed in batch profiles): another thread frees them.
            let _ = std::thread::Builder::new().name("crm-free".into()).spawn(move || drop(oldest));
        }
        self.leads.insert(*lead.lead_id.as_bytes(), lead);
    }

    fn take_lead(&mut self, id: &Id16) -> Option<Lead> {
        self.leads.remove(id).or_else(|| self.older_leads.remove(id))
    }
}

/// The tables ingest touches, opened once per transaction.
pub struct IngestTables<'t> {
    pages: Table<'t, Pair, &'static [u8]>,
    events_by_lead: Table<'t, Pair, ()>,
    seen: Table<'t, Pair, u64>,
    leads: leads::LeadTables<'t>,
    discovered: Table<'t, &'static [u8], &'static [u8]>,
    dirty_forms: Vec<Vec<u8>>,
}

impl<'t> IngestTables<'t> {
    pub fn open(txn: &'t WriteTransaction) -> Result<Self> {
        Ok(IngestTables {
            pages: txn.open_table(EVENT_PAGES)?,
            events_by_lead: txn.open_table(EVENTS_BY_LEAD)?,
            seen: txn.open_table(SEEN_EVENT_IDS)?,
            leads: leads::LeadTables::open(txn)?,
            discovered: txn.open_table(DISCOVERED_FORMS)?,
            dirty_forms: Vec::new(),
        })
    }

    /// Applies one request's events. Takes the batch mutably only to move prepared leads
    /// into the cache; the caller still frees the batch off this thread.
    pub fn apply(&mut self, batch: &mut IngestBatch, now: Timestamp, cache: &mut WriterCache) -> Result<IngestOutcome> {
        let client = *batch.client_id.as_bytes();
        let (client_id, crm_enabled) = (batch.client_id, batch.crm_enabled);
        let mut outcome = IngestOutcome::default();
        for prepared in &mut batch.events {
            let seen_key = pair(&client, prepared.client_event_id.as_bytes());
            // One descent: the insert says whether the id was already there.
            if self.seen.insert(seen_key, now.millis() as u64)?.is_some() {
                outcome.duplicates += 1;
                continue;
            }

            let lead_id = match &prepared.candidate {
                Some(candidate) => {
                    let id = self.apply_lead(client_id, crm_enabled, candidate, &mut prepared.new_lead, now, cache)?;
                    outcome.leads_changed.push(id);
                    Some(id)
                }
                None => None,
            };
            if let Some(d) = &prepared.discovery {
                self.discover_form(&client, client_id, d, now, cache)?;
            }

            let eid = cache.ids.next_id();
            let lead = lead_id.map(|l| *l.as_bytes());
            cache.pages.push(&mut self.pages, &client, &eid, lead.as_ref(), &prepared.body_bytes)?;
            if let Some(lead) = lead_id {
                self.events_by_lead.insert(pair(lead.as_bytes(), &eid), ())?;
            }
            outcome.accepted += 1;
        }
        Ok(outcome)
    }

    /// Writes what was summed over the transaction; call once, before commit.
    pub fn finish(mut self, cache: &mut WriterCache) -> Result<()> {
        self.dirty_forms.sort();
        self.dirty_forms.dedup();
        for key in &self.dirty_forms {
            if let Some(form) = cache.forms.get(key) {
                self.discovered.insert(key.as_slice(), encode(form)?.as_slice())?;
            }
        }
        cache.pages.finish(&mut self.pages)?;
        self.leads.finish()
    }

    /// Finds the lead this candidate updates (same client, email, visitor, < 24 h; else the
    /// visitor's open lead from the same form) or stores the prepared new one; returns its id.
    fn apply_lead(
        &mut self,
        client_id: Id,
        crm_enabled: bool,
        candidate: &LeadCandidate,
        new_lead: &mut Option<(Lead, Vec<u8>)>,
        now: Timestamp,
        cache: &mut WriterCache,
    ) -> Result<Id> {
        let client = *client_id.as_bytes();
        let mut existing = None;
        if let Some(email) = candidate.email() {
            for id in self.leads.ids_with_email(&client, email)? {
                let lead = match cache.take_lead(&id) {
                    Some(lead) => lead,
                    None => match self.leads.get(&id)? {
                        Some(lead) => lead,
                        None => continue,
                    },
                };
                if lead_rules::matches(&lead, candidate, now) {
                    existing = Some(lead);
                    break;
                }
                cache.keep_lead(lead);
            }
        }
        // No lead with this email: the visitor's open lead from the same form, if any (its
        // email was mistyped, or the page refused the first submission).
        if existing.is_none()
            && let Some(visitor) = candidate.visitor_id.as_deref()
            && let Some(form) = lead_rules::form_key(candidate.form_ref.as_deref(), &candidate.metadata)
            && let Some(id) = self.leads.id_for_visitor_form(&visitor_form_key(&client, visitor, &form))?
        {
            let lead = match cache.take_lead(&id) {
                Some(lead) => Some(lead),
                None => self.leads.get(&id)?,
            };
            if let Some(lead) = lead {
                if lead_rules::continues(&lead, candidate, now) {
                    existing = Some(lead);
                } else {
                    cache.keep_lead(lead);
                }
            }
        }
        let lead = match existing {
            Some(mut lead) => {
                let before = LeadKeys::of(&lead);
                lead_rules::merge(&mut lead, candidate, now);
                if crm_enabled {
                    lead.sync_status = SyncStatus::Pending;
                }
                self.leads.update(&before, &lead)?;
                lead
            }
            // The prepared lead is taken only when it is stored: otherwise it goes back with
            // the batch and is freed on the request's thread, not on this one.
            None => match new_lead.take() {
                Some((lead, bytes)) => {
                    self.leads.insert_encoded(&lead, &bytes)?;
                    lead
                }
                None => {
                    let lead = lead_rules::new_lead(candidate, client_id, Uuid::now_v7(), now);
                    self.leads.insert(&lead)?;
                    lead
                }
            },
        };
        if crm_enabled {
            self.leads.enqueue_sync(&lead, SyncKind::Upsert, now)?;
        }
        let id = lead.lead_id;
        cache.keep_lead(lead);
        Ok(id)
    }

    /// Remembers forms the tracker reports that nobody configured, so the dashboard can
    /// offer to promote them.
    fn discover_form(
        &mut self,
        client: &Id16,
        client_id: Id,
        d: &Discovery,
        now: Timestamp,
        cache: &mut WriterCache,
    ) -> Result<()> {
        let mut key = client.to_vec();
        key.extend_from_slice(d.selector.as_bytes());
        if !cache.forms.contains_key(&key) {
            let stored: Option<DiscoveredForm> = match self.discovered.get(key.as_slice())? {
                Some(bytes) => Some(decode(bytes.value())?),
                None => None,
            };
            if let Some(form) = stored {
                cache.forms.insert(key.clone(), form);
            }
        }
        let known = cache.forms.contains_key(&key);
        if !known {
            let stored = match cache.discovered_counts.entry(*client) {
                Entry::Occupied(counted) => counted.into_mut(),
                Entry::Vacant(slot) => {
                    let (start, end) = discovered_bounds(client);
                    slot.insert(self.discovered.range(start.as_slice()..end.as_slice())?.count())
                }
            };
            if *stored >= MAX_DISCOVERED_FORMS {
                return Ok(());
            }
            *stored += 1;
        }
        if known && !d.counts && d.field_names.iter().all(|n| cache.forms[&key].field_names.contains(n)) {
            return Ok(());
        }
        let form = cache.forms.entry(key.clone()).or_insert_with(|| DiscoveredForm {
            client_id,
            selector: d.selector.clone(),
            first_seen_at: now,
            ..Default::default()
        });
        if d.form_ref.is_some() {
            form.form_ref = d.form_ref.clone();
        }
        if let Some(url) = &d.page_url {
            form.page_url = Some(url.clone());
        }
        for name in &d.field_names {
            if !form.field_names.contains(name) && form.field_names.len() < 100 {
                form.field_names.push(name.clone());
            }
        }
        if d.counts {
            form.seen_count += 1;
        }
        form.last_seen_at = now;
        self.dirty_forms.push(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead(n: u128) -> Lead {
        Lead { lead_id: Uuid::from_u128(n), ..Default::default() }
    }

    #[test]
    fn the_lead_cache_keeps_the_most_recent_generation_when_it_rotates() {
        let mut cache = WriterCache::default();
        let n = CACHED_LEADS_PER_GENERATION as u128;
        for i in 0..n {
            cache.keep_lead(lead(i));
        }
        cache.keep_lead(lead(n)); // the first generation is full: it becomes the older one
        let id = |i: u128| *Uuid::from_u128(i).as_bytes();
        assert!(cache.take_lead(&id(n - 1)).is_some(), "just before the rotation: still cached");
        assert!(cache.take_lead(&id(n)).is_some());
        for i in n + 1..=3 * n {
            cache.keep_lead(lead(i));
        }
        assert!(cache.take_lead(&id(0)).is_none(), "two rotations later it is gone");
        assert!(cache.take_lead(&id(3 * n)).is_some());
        assert!(cache.leads.len() + cache.older_leads.len() <= 2 * CACHED_LEADS_PER_GENERATION);
    }
}
