//! Lead records and everything that must change with them: the client and email indexes,
//! the per-status counts, the CRM outbox, and (on deletion) the lead's events.

use redb::{ReadableTable, Table, WriteTransaction};
use uuid::Uuid;

use super::codec::{decode, encode};
use super::event_pages;
use super::tables::*;
use super::{Result, StoreError};
use crate::domain::lead_rules;
use crate::domain::model::{Id, JobState, Lead, LeadStatus, SyncJob, SyncKind};
use crate::domain::time::Timestamp;

/// What of a stored lead its index entries and counts depend on, taken before a change.
pub struct LeadKeys {
    pub email: Option<String>,
    pub status: LeadStatus,
    pub visitor_form: Option<Pair>,
}

impl LeadKeys {
    pub fn of(lead: &Lead) -> LeadKeys {
        LeadKeys { email: lead.email.clone(), status: lead.status, visitor_form: visitor_form_key_of(lead) }
    }
}

/// The [`LEADS_BY_VISITOR_FORM`] key of a lead: the visitor that made it and the form it
/// came from, when both are known.
pub fn visitor_form_key_of(lead: &Lead) -> Option<Pair> {
    let visitor = lead.visitor_id.as_deref().filter(|v| !v.is_empty())?;
    let form = lead_rules::form_key(lead.form_ref.as_deref(), &lead.metadata)?;
    Some(visitor_form_key(lead.client_id.as_bytes(), visitor, &form))
}

/// The lead tables of one transaction. Per-status counts are summed in memory and written
/// once by [`LeadTables::finish`], not once per lead.
pub struct LeadTables<'t> {
    pub leads: Table<'t, Id16, &'static [u8]>,
    by_client: Table<'t, Pair, ()>,
    by_email: Table<'t, &'static [u8], ()>,
    by_visitor_form: Table<'t, Pair, Id16>,
    counts: Table<'t, &'static str, u64>,
    outbox: Table<'t, Id16, &'static [u8]>,
    count_deltas: [i64; 3],
}

impl<'t> LeadTables<'t> {
    pub fn open(txn: &'t WriteTransaction) -> Result<Self> {
        Ok(LeadTables {
            leads: txn.open_table(LEADS)?,
            by_client: txn.open_table(LEADS_BY_CLIENT)?,
            by_email: txn.open_table(LEADS_BY_EMAIL)?,
            by_visitor_form: txn.open_table(LEADS_BY_VISITOR_FORM)?,
            counts: txn.open_table(LEAD_COUNTS)?,
            outbox: txn.open_table(OUTBOX)?,
            count_deltas: [0; 3],
        })
    }

    /// Writes the summed count changes; call before the transaction commits.
    pub fn finish(mut self) -> Result<()> {
        for (i, status) in LeadStatus::ALL.iter().enumerate() {
            let delta = self.count_deltas[i];
            if delta != 0 {
                let current = self.counts.get(status.as_str())?.map(|g| g.value()).unwrap_or(0);
                self.counts.insert(status.as_str(), (current as i64 + delta).max(0) as u64)?;
            }
        }
        self.count_deltas = [0; 3];
        Ok(())
    }

    pub fn get(&self, id: &Id16) -> Result<Option<Lead>> {
        match self.leads.get(*id)? {
            Some(bytes) => Ok(Some(decode(bytes.value())?)),
            None => Ok(None),
        }
    }

    /// Ids of `client`'s leads with this email, newest first (usually one).
    pub fn ids_with_email(&self, client: &Id16, email: &str) -> Result<Vec<Id16>> {
        let start = email_key(client, email, Some(&[0u8; 16]));
        let end = email_key(client, email, Some(&[0xffu8; 16]));
        let mut ids = Vec::new();
        for entry in self.by_email.range(start.as_slice()..=end.as_slice())?.rev() {
            let (key, _) = entry?;
            let key = key.value();
            let mut id = [0u8; 16];
            id.copy_from_slice(&key[key.len() - 16..]);
            ids.push(id);
        }
        Ok(ids)
    }

    /// The newest lead this visitor started on this form, if any.
    pub fn id_for_visitor_form(&self, key: &Pair) -> Result<Option<Id16>> {
        Ok(self.by_visitor_form.get(*key)?.map(|v| v.value()))
    }

    fn bump(&mut self, status: LeadStatus, delta: i64) -> Result<()> {
        if let Some(i) = LeadStatus::ALL.iter().position(|s| *s == status) {
            self.count_deltas[i] += delta;
        }
        Ok(())
    }

    pub fn insert(&mut self, lead: &Lead) -> Result<()> {
        let bytes = encode(lead)?;
        self.insert_encoded(lead, &bytes)
    }

    /// Inserts a lead whose record was already encoded (off the writer thread).
    pub fn insert_encoded(&mut self, lead: &Lead, bytes: &[u8]) -> Result<()> {
        let id = *lead.lead_id.as_bytes();
        let client = *lead.client_id.as_bytes();
        self.leads.insert(id, bytes)?;
        self.by_client.insert(pair(&client, &id), ())?;
        if let Some(email) = &lead.email {
            self.by_email.insert(email_key(&client, email, Some(&id)).as_slice(), ())?;
        }
        if let Some(key) = visitor_form_key_of(lead) {
            self.by_visitor_form.insert(key, id)?;
        }
        self.bump(lead.status, 1)
    }

    /// Rewrites a lead, moving its index entries and counts when email or status changed.
    /// `before` is what the stored record says, `after` replaces it.
    pub fn update(&mut self, before: &LeadKeys, after: &Lead) -> Result<()> {
        let id = *after.lead_id.as_bytes();
        let client = *after.client_id.as_bytes();
        self.leads.insert(id, encode(after)?.as_slice())?;
        if before.email != after.email {
            if let Some(old) = &before.email {
                self.by_email.remove(email_key(&client, old, Some(&id)).as_slice())?;
            }
            if let Some(new) = &after.email {
                self.by_email.insert(email_key(&client, new, Some(&id)).as_slice(), ())?;
            }
        }
        if before.status != after.status {
            self.bump(before.status, -1)?;
            self.bump(after.status, 1)?;
        }
        // A later event from another form or page moves the lead's entry there.
        let visitor_form = visitor_form_key_of(after);
        if before.visitor_form != visitor_form {
            if let Some(old) = before.visitor_form {
                self.forget_visitor_form(old, &id)?;
            }
            if let Some(new) = visitor_form {
                self.by_visitor_form.insert(new, id)?;
            }
        }
        Ok(())
    }

    /// Removes a visitor-form entry if it still names this lead (a newer lead of the visitor
    /// may own the key).
    fn forget_visitor_form(&mut self, key: Pair, id: &Id16) -> Result<()> {
        if self.by_visitor_form.get(key)?.is_some_and(|v| v.value() == *id) {
            self.by_visitor_form.remove(key)?;
        }
        Ok(())
    }

    /// Removes a lead and its index entries (not its events; see [`delete_lead`]).
    pub fn remove(&mut self, lead: &Lead) -> Result<()> {
        let id = *lead.lead_id.as_bytes();
        let client = *lead.client_id.as_bytes();
        self.leads.remove(id)?;
        self.by_client.remove(pair(&client, &id))?;
        if let Some(email) = &lead.email {
            self.by_email.remove(email_key(&client, email, Some(&id)).as_slice())?;
        }
        if let Some(key) = visitor_form_key_of(lead) {
            self.forget_visitor_form(key, &id)?;
        }
        self.bump(lead.status, -1)
    }

    /// Settles queued and dead-lettered CRM updates (see [`retire_upserts`]).
    pub fn retire_upserts(&mut self, of: impl Fn(&SyncJob) -> bool, why: &str, now: Timestamp) -> Result<usize> {
        retire_upserts(&mut self.outbox, of, why, now)
    }

    /// Adds a CRM sync job for this lead.
    pub fn enqueue_sync(&mut self, lead: &Lead, kind: SyncKind, now: Timestamp) -> Result<Id> {
        let job_id = Uuid::now_v7();
        let job = SyncJob {
            job_id,
            client_id: lead.client_id,
            lead_id: lead.lead_id,
            kind,
            crm_id: lead.crm_id.clone(),
            email: lead.email.clone(),
            state: JobState::Pending,
            attempts: 0,
            next_attempt_at: now,
            idempotency_key: format!("{}:{}", lead.lead_id, job_id),
            last_error: None,
            created_at: now,
            updated_at: now,
        };
        self.outbox.insert(*job_id.as_bytes(), encode(&job)?.as_slice())?;
        Ok(job_id)
    }
}

/// Settles the queued and dead-lettered CRM updates of the leads `of` picks: what they
/// would deliver is replaced by a newer update, or gone with the lead. One pass over the
/// outbox, so admin writes call it (once per transaction, not per lead), never ingest.
/// Returns how many it settled.
pub fn retire_upserts(
    outbox: &mut Table<'_, Id16, &'static [u8]>,
    of: impl Fn(&SyncJob) -> bool,
    why: &str,
    now: Timestamp,
) -> Result<usize> {
    let mut stale = Vec::new();
    for entry in outbox.iter()? {
        let (key, bytes) = entry?;
        let job: SyncJob = decode(bytes.value())?;
        if job.kind == SyncKind::Upsert && job.state != JobState::Done && of(&job) {
            stale.push((key.value(), job));
        }
    }
    let settled = stale.len();
    for (key, mut job) in stale {
        job.state = JobState::Done;
        job.last_error = Some(why.to_string());
        job.updated_at = now;
        outbox.insert(key, encode(&job)?.as_slice())?;
    }
    Ok(settled)
}

/// Why a deleted lead's CRM updates were settled.
const RETIRED_WITH_LEAD: &str = "the lead was deleted";

/// Settles the CRM updates of leads deleted in this transaction (`of` picks them).
pub fn retire_deleted_leads_upserts(
    txn: &WriteTransaction,
    of: impl Fn(&SyncJob) -> bool,
    now: Timestamp,
) -> Result<()> {
    retire_upserts(&mut txn.open_table(OUTBOX)?, of, RETIRED_WITH_LEAD, now)?;
    Ok(())
}

/// Deletes a lead, its events and every index entry pointing at them, and settles its CRM
/// updates. With `crm_erasure`, a CRM deletion job is queued from the lead as it was (its
/// `crmId` is read before the lead is gone; the original design read it after deleting and
/// lost it). Returns the deleted lead.
pub fn delete_lead(txn: &WriteTransaction, lead_id: Id, crm_erasure: bool, now: Timestamp) -> Result<Lead> {
    let lead = delete_lead_keeping_jobs(txn, lead_id, crm_erasure, now)?;
    retire_deleted_leads_upserts(txn, |job| job.lead_id == lead_id, now)?;
    Ok(lead)
}

/// [`delete_lead`] for an erasure request, which also removes `unlinked`: the site's events
/// that hold the lead's address without belonging to a lead (a sign-in, a form that is no
/// lead form), found beforehand outside the writer ([`super::mentions`]). Returns the lead
/// and how many of those were still there.
pub fn erase_lead(
    txn: &WriteTransaction,
    lead_id: Id,
    crm_erasure: bool,
    unlinked: &[Id],
    now: Timestamp,
) -> Result<(Lead, usize)> {
    let lead = delete_lead(txn, lead_id, crm_erasure, now)?;
    let ids: Vec<Id16> = unlinked.iter().map(|id| *id.as_bytes()).collect();
    let removed = event_pages::remove(&mut txn.open_table(EVENT_PAGES)?, lead.client_id.as_bytes(), &ids)?;
    Ok((lead, removed))
}

/// [`delete_lead`] without settling the lead's CRM updates, for callers that delete many
/// leads in one transaction and settle their updates in one pass afterwards.
pub fn delete_lead_keeping_jobs(
    txn: &WriteTransaction,
    lead_id: Id,
    crm_erasure: bool,
    now: Timestamp,
) -> Result<Lead> {
    let id = *lead_id.as_bytes();
    let mut tables = LeadTables::open(txn)?;
    let lead = tables.get(&id)?.ok_or(StoreError::NotFound("lead"))?;
    tables.remove(&lead)?;
    if crm_erasure && (lead.crm_id.is_some() || lead.email.is_some()) {
        tables.enqueue_sync(&lead, SyncKind::Delete, now)?;
    }
    tables.finish()?;
    delete_lead_events(txn, &lead)?;
    let mut attempts = txn.open_table(SYNC_ATTEMPTS)?;
    let keys: Vec<Pair> =
        attempts.range(prefix_range(&id))?.map(|e| e.map(|(k, _)| k.value())).collect::<Result<_, _>>()?;
    for key in keys {
        attempts.remove(key)?;
    }
    Ok(lead)
}

fn delete_lead_events(txn: &WriteTransaction, lead: &Lead) -> Result<()> {
    let id = *lead.lead_id.as_bytes();
    let mut by_lead = txn.open_table(EVENTS_BY_LEAD)?;
    let mut pages = txn.open_table(EVENT_PAGES)?;
    let keys: Vec<Pair> =
        by_lead.range(prefix_range(&id))?.map(|e| e.map(|(k, _)| k.value())).collect::<Result<_, _>>()?;
    let events: Vec<Id16> = keys.iter().map(second_half).collect();
    event_pages::remove(&mut pages, lead.client_id.as_bytes(), &events)?;
    for key in keys {
        by_lead.remove(key)?;
    }
    Ok(())
}

/// Applies an admin edit to a lead (validated by the caller), keeping indexes and counts
/// right, and queues a CRM update when the site syncs.
pub fn update_lead(
    txn: &WriteTransaction,
    id: Id,
    now: Timestamp,
    crm_enabled: bool,
    change: impl FnOnce(&mut Lead),
) -> Result<Lead> {
    let mut tables = LeadTables::open(txn)?;
    let mut after = tables.get(id.as_bytes())?.ok_or(StoreError::NotFound("lead"))?;
    let before = LeadKeys::of(&after);
    change(&mut after);
    after.updated_at = now;
    if crm_enabled {
        after.sync_status = crate::domain::model::SyncStatus::Pending;
    }
    tables.update(&before, &after)?;
    if crm_enabled {
        // One update carries the lead as it is now: earlier queued or dead-lettered ones
        // would only send older states of it (five edits are one delivery, not five).
        tables.retire_upserts(|job| job.lead_id == id, "superseded by a later change of the lead", now)?;
        tables.enqueue_sync(&after, SyncKind::Upsert, now)?;
    }
    tables.finish()?;
    Ok(after)
}
