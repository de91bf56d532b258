//! The outbox (`crm_outbox`) and the attempt log (`crm_sync_attempts`) in redb: the reads
//! the worker and the API need, and the writes that settle a delivery or replay a job.
//!
//! Writes run as writer jobs and check everything they may refuse before writing anything
//! (the writer's invariant, see `store::writer`). The outbox holds pending and dead-lettered
//! jobs plus done ones for a week (the retention task prunes them), so scanning it whole is
//! cheap at this product's scale.

use redb::{AccessGuard, ReadTransaction, ReadableTable, StorageError, WriteTransaction};
use std::collections::BTreeSet;

use crate::domain::model::{AttemptOutcome, Id, JobState, Lead, SyncAttempt, SyncJob, SyncKind, SyncStatus};
use crate::domain::time::Timestamp;
use crate::store::codec::{decode, encode};
use crate::store::tables::{Id16, LEADS, OUTBOX, Pair, SYNC_ATTEMPTS, pair, prefix_range};
use crate::store::{Result, StoreError};

/// Jobs due now, oldest first, and when the next one that is not due yet will be.
pub struct Due {
    pub jobs: Vec<SyncJob>,
    pub next_due: Option<Timestamp>,
}

pub fn due_jobs(txn: &ReadTransaction, now: Timestamp, limit: usize) -> Result<Due> {
    let table = txn.open_table(OUTBOX)?;
    let mut jobs = Vec::new();
    let mut next_due: Option<Timestamp> = None;
    for entry in table.iter()? {
        let (_, bytes) = entry?;
        let job: SyncJob = decode(bytes.value())?;
        if job.state != JobState::Pending {
            continue;
        }
        if job.next_attempt_at <= now && jobs.len() < limit {
            jobs.push(job);
        } else {
            let at = job.next_attempt_at.max(now);
            next_due = Some(next_due.map_or(at, |n| n.min(at)));
        }
    }
    Ok(Due { jobs, next_due })
}

/// Jobs `keep` accepts, newest first, created before the job `before` (or from the newest
/// on), at most `limit`: a page of a list shown newest first. Ids are UUIDv7, so id order is
/// creation order, and a job replayed or pruned since does not shift the next page.
pub fn jobs_newest_first(
    txn: &ReadTransaction,
    before: Option<Id>,
    limit: usize,
    keep: impl Fn(&SyncJob) -> bool,
) -> Result<Vec<SyncJob>> {
    let table = txn.open_table(OUTBOX)?;
    let entries = match before {
        Some(id) => table.range(..*id.as_bytes())?,
        None => table.range::<Id16>(..)?,
    };
    first_accepted(entries.rev(), limit, keep)
}

/// Every job `keep` accepts, oldest first, at most `limit`.
pub fn jobs_where(txn: &ReadTransaction, limit: usize, keep: impl Fn(&SyncJob) -> bool) -> Result<Vec<SyncJob>> {
    first_accepted(txn.open_table(OUTBOX)?.iter()?, limit, keep)
}

/// The first `limit` jobs of `entries` that `keep` accepts.
fn first_accepted<'a>(
    entries: impl Iterator<
        Item = std::result::Result<(AccessGuard<'a, Id16>, AccessGuard<'a, &'static [u8]>), StorageError>,
    >,
    limit: usize,
    keep: impl Fn(&SyncJob) -> bool,
) -> Result<Vec<SyncJob>> {
    let mut out = Vec::new();
    for entry in entries {
        let (_, bytes) = entry?;
        let job: SyncJob = decode(bytes.value())?;
        if keep(&job) {
            out.push(job);
            if out.len() >= limit {
                break;
            }
        }
    }
    Ok(out)
}

pub fn get_job(txn: &ReadTransaction, id: &Id) -> Result<Option<SyncJob>> {
    match txn.open_table(OUTBOX)?.get(*id.as_bytes())? {
        Some(bytes) => Ok(Some(decode(bytes.value())?)),
        None => Ok(None),
    }
}

/// A lead's attempt log, oldest first.
pub fn attempts_for_lead(txn: &ReadTransaction, lead: &Id) -> Result<Vec<SyncAttempt>> {
    let table = txn.open_table(SYNC_ATTEMPTS)?;
    let mut out = Vec::new();
    for entry in table.range(prefix_range(lead.as_bytes()))? {
        let (_, bytes) = entry?;
        out.push(decode(bytes.value())?);
    }
    Ok(out)
}

/// The connectors that already accepted this job (a retry goes only to the others).
pub fn delivered_connectors(txn: &ReadTransaction, job: &SyncJob) -> Result<BTreeSet<String>> {
    Ok(attempts_for_lead(txn, &job.lead_id)?
        .into_iter()
        .filter(|a| a.job_id == job.job_id && a.outcome == AttemptOutcome::Delivered)
        .map(|a| a.connector)
        .collect())
}

/// What a lead records of a settled delivery.
#[derive(Debug, Clone)]
pub struct LeadSync {
    pub status: SyncStatus,
    pub crm_id: Option<String>,
    pub synced_at: Option<Timestamp>,
}

/// How a job ends one round of delivery.
#[derive(Debug, Clone)]
pub struct Settlement {
    pub job_id: Id,
    pub state: JobState,
    /// Whether this round counts towards the attempt limit (a job that was not sent at
    /// all, e.g. superseded, does not).
    pub counted: bool,
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    pub attempts: Vec<SyncAttempt>,
    /// Written to the lead, if it still exists.
    pub lead: Option<LeadSync>,
}

/// Stores a settled round: the job, its attempts and the lead's sync fields, in one
/// transaction. Returns false (and writes nothing) when the job is gone meanwhile.
pub fn settle(txn: &WriteTransaction, s: &Settlement, now: Timestamp) -> Result<bool> {
    let mut outbox = txn.open_table(OUTBOX)?;
    let mut job: SyncJob = match outbox.get(*s.job_id.as_bytes())? {
        Some(bytes) => decode(bytes.value())?,
        None => return Ok(false),
    };
    // Settled while it was being delivered (a newer change or the lead's deletion retired
    // it): it stays settled, and a failure of this round says nothing about the lead.
    let retired = job.state == JobState::Done && s.state != JobState::Done;
    if !retired {
        job.state = s.state;
        job.next_attempt_at = s.next_attempt_at;
        job.last_error = s.last_error.clone();
    }
    if s.counted {
        job.attempts += 1;
    }
    job.updated_at = now;
    // An update reads the lead itself, and an erasure that reached every CRM is over:
    // neither needs to keep the address.
    if job.kind == SyncKind::Upsert || s.state == JobState::Done {
        job.email = None;
    }
    outbox.insert(*s.job_id.as_bytes(), encode(&job)?.as_slice())?;
    // A newer change of the lead is still on its way: the lead is not synced yet.
    let mut lead_sync = s.lead.clone().filter(|sync| !retired || sync.status == SyncStatus::Synced);
    if let Some(sync) = lead_sync.as_mut()
        && sync.status == SyncStatus::Synced
    {
        for entry in outbox.iter()? {
            let (_, bytes) = entry?;
            let other: SyncJob = decode(bytes.value())?;
            if other.lead_id == job.lead_id
                && other.job_id != job.job_id
                && other.kind == SyncKind::Upsert
                && other.state == JobState::Pending
            {
                sync.status = SyncStatus::Pending;
                break;
            }
        }
    }
    drop(outbox);

    let mut log = txn.open_table(SYNC_ATTEMPTS)?;
    for a in &s.attempts {
        log.insert(pair(a.lead_id.as_bytes(), a.attempt_id.as_bytes()), encode(a)?.as_slice())?;
    }
    drop(log);

    if let Some(sync) = &lead_sync {
        update_lead_sync(txn, &job.lead_id, sync)?;
    }
    Ok(true)
}

/// Writes sync fields to a lead if it exists. Email and status do not change, so the
/// lead's index entries and counts stay as they are.
fn update_lead_sync(txn: &WriteTransaction, lead_id: &Id, sync: &LeadSync) -> Result<()> {
    let mut leads = txn.open_table(LEADS)?;
    let lead: Option<Lead> = match leads.get(*lead_id.as_bytes())? {
        Some(bytes) => Some(decode(bytes.value())?),
        None => None,
    };
    if let Some(mut lead) = lead {
        lead.sync_status = sync.status;
        if let Some(id) = &sync.crm_id {
            lead.crm_id = Some(id.clone());
        }
        if let Some(at) = sync.synced_at {
            lead.crm_synced_at = Some(at);
        }
        leads.insert(*lead_id.as_bytes(), encode(&lead)?.as_slice())?;
    }
    Ok(())
}

/// Drops a job that can never be delivered (its site is gone).
pub fn remove_job(txn: &WriteTransaction, id: &Id) -> Result<()> {
    txn.open_table(OUTBOX)?.remove(*id.as_bytes())?;
    Ok(())
}

/// Which dead-lettered jobs to queue again.
#[derive(Debug, Clone, Copy)]
pub enum Replay {
    Job(Id),
    Lead(Id),
}

/// Puts dead-lettered jobs back in the queue, due now, with a fresh attempt budget.
/// Connectors that already accepted a job are not sent it again.
pub fn replay(txn: &WriteTransaction, which: Replay, now: Timestamp) -> Result<Vec<SyncJob>> {
    let mut outbox = txn.open_table(OUTBOX)?;
    let chosen: Vec<SyncJob> = match which {
        Replay::Job(id) => {
            let job: SyncJob = match outbox.get(*id.as_bytes())? {
                Some(bytes) => decode(bytes.value())?,
                None => return Err(StoreError::NotFound("sync job")),
            };
            if job.state != JobState::DeadLetter {
                return Err(StoreError::Conflict(format!(
                    "the job is {}; only dead-lettered jobs can be replayed",
                    match job.state {
                        JobState::Pending => "still pending",
                        _ => "done",
                    }
                )));
            }
            vec![job]
        }
        Replay::Lead(lead) => {
            let mut out = Vec::new();
            for entry in outbox.iter()? {
                let (_, bytes) = entry?;
                let job: SyncJob = decode(bytes.value())?;
                if job.lead_id == lead && job.state == JobState::DeadLetter {
                    out.push(job);
                }
            }
            out
        }
    };
    let mut replayed = Vec::with_capacity(chosen.len());
    for mut job in chosen {
        job.state = JobState::Pending;
        job.attempts = 0;
        job.next_attempt_at = now;
        job.updated_at = now;
        outbox.insert(*job.job_id.as_bytes(), encode(&job)?.as_slice())?;
        replayed.push(job);
    }
    drop(outbox);
    let upserts: BTreeSet<Id> = replayed.iter().filter(|j| j.kind == SyncKind::Upsert).map(|j| j.lead_id).collect();
    for lead in upserts {
        update_lead_sync(txn, &lead, &LeadSync { status: SyncStatus::Pending, crm_id: None, synced_at: None })?;
    }
    Ok(replayed)
}

/// Removes jobs and, for erasures, the attempt log kept under the erased lead's id.
pub fn prune_jobs(txn: &WriteTransaction, jobs: &[SyncJob]) -> Result<usize> {
    let mut outbox = txn.open_table(OUTBOX)?;
    let mut removed = 0;
    let mut erased: Vec<Id16> = Vec::new();
    for job in jobs {
        if outbox.remove(*job.job_id.as_bytes())?.is_some() {
            removed += 1;
            if job.kind == SyncKind::Delete {
                erased.push(*job.lead_id.as_bytes());
            }
        }
    }
    drop(outbox);
    let leads = txn.open_table(LEADS)?;
    let mut log = txn.open_table(SYNC_ATTEMPTS)?;
    for lead in erased {
        if leads.get(lead)?.is_some() {
            continue;
        }
        let keys: Vec<Pair> =
            log.range(prefix_range(&lead))?.map(|e| e.map(|(k, _)| k.value())).collect::<Result<_, _>>()?;
        for key in keys {
            log.remove(key)?;
        }
    }
    Ok(removed)
}
