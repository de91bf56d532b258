//! Retention (original §8.3), run by the in-process periodic task. Per site, with the
//! site's `retentionDays` (default 90):
//! - leads created before the cutoff that were never synced to a CRM (`crmSyncedAt` unset)
//!   are deleted with their events and index entries;
//! - events created before the cutoff are deleted (a kept lead keeps its record, not its
//!   old events).
//!
//! Besides, for every site: event ids seen more than [`SEEN_HORIZON_DAYS`] days ago are
//! forgotten (the tracker retries for at most 7 days, so a repeat can no longer come), and
//! settled outbox jobs older than [`JOB_HORIZON_DAYS`] days are dropped.
//!
//! Work goes in chunks of [`CHUNK`] rows per write transaction, so a large backlog never
//! holds the writer for long. Candidates are found in a read snapshot and checked again
//! inside the write transaction.

use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use super::outbox;
use crate::app::App;
use crate::domain::model::{Id, JobState, Lead, SyncKind};
use crate::domain::time::Timestamp;
use crate::store::codec::decode;
use crate::store::queries::v7_bound;
use crate::store::tables::*;
use crate::store::{Result, event_pages, leads};

pub const CHUNK: usize = 500;
pub const SEEN_HORIZON_DAYS: i64 = 8;
pub const JOB_HORIZON_DAYS: i64 = 7;
const DAY_MS: i64 = 86_400_000;
/// Ids (UUIDv7) are minted a moment after the `createdAt` they go with; scanning ids up to
/// this much past the cutoff finds every record created before it.
const ID_SLACK_MS: i64 = 10 * 60 * 1000;
/// Entries of the seen-id set read per snapshot.
const SEEN_SCAN: usize = 50_000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionReport {
    pub leads: usize,
    pub events: usize,
    pub seen_ids: usize,
    pub jobs: usize,
}

pub async fn run_once(app: &App, now: Timestamp) {
    match sweep(app, now).await {
        Ok(r) if r != RetentionReport::default() => tracing::info!(
            leads = r.leads,
            events = r.events,
            seen_ids = r.seen_ids,
            jobs = r.jobs,
            "retention: deleted expired data"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "retention failed; it runs again at the next interval"),
    }
}

/// One full retention pass; returns what it deleted.
pub async fn sweep(app: &App, now: Timestamp) -> Result<RetentionReport> {
    let mut report = RetentionReport::default();
    for site in app.sites.all() {
        let client = site.client.client_id;
        let days = i64::from(site.client.config.retention_days.max(1));
        let cutoff = now.plus_millis(-days * DAY_MS);
        // Events first: they go a whole page at a time, where deleting an expired lead first
        // rewrites every page holding one of its events (a backlog of months made that a
        // page rewrite per lead), only for the page to be deleted moments later.
        report.events += expire_events(app, client, cutoff).await?;
        report.leads += expire_leads(app, client, cutoff, now).await?;
    }
    report.seen_ids += prune_seen(app, now.plus_millis(-SEEN_HORIZON_DAYS * DAY_MS)).await?;
    report.jobs += prune_jobs(app, now.plus_millis(-JOB_HORIZON_DAYS * DAY_MS)).await?;
    Ok(report)
}

fn expired_lead(lead: &Lead, cutoff: Timestamp) -> bool {
    lead.created_at < cutoff && lead.crm_synced_at.is_none()
}

/// Ids in `prefix ++ id` keys from `after` (exclusive) up to the slack past `cutoff`.
fn scan_range(client: &Id, after: Option<Id16>, cutoff: Timestamp) -> std::ops::RangeInclusive<Pair> {
    let start = after.map(|a| {
        // The key right after `a`.
        let mut next = u128::from_be_bytes(a);
        next = next.saturating_add(1);
        next.to_be_bytes()
    });
    pair(client.as_bytes(), &start.unwrap_or([0u8; 16]))
        ..=pair(client.as_bytes(), &v7_bound(cutoff.plus_millis(ID_SLACK_MS), true))
}

/// Up to [`CHUNK`] of `client`'s records (listed by `index`, a client ++ id table) after
/// `after` that `expired` takes, and the last key looked at.
fn old_records<T: serde::de::DeserializeOwned>(
    txn: &ReadTransaction,
    index: redb::TableDefinition<Pair, ()>,
    records: redb::TableDefinition<Id16, &[u8]>,
    client: &Id,
    after: Option<Id16>,
    cutoff: Timestamp,
    expired: fn(&T, Timestamp) -> bool,
) -> Result<(Vec<Id>, Option<Id16>)> {
    let by_client = txn.open_table(index)?;
    let table = txn.open_table(records)?;
    let mut found = Vec::new();
    let mut last = None;
    for entry in by_client.range(scan_range(client, after, cutoff))? {
        let (key, _) = entry?;
        let id = second_half(&key.value());
        last = Some(id);
        if let Some(bytes) = table.get(id)? {
            let record: T = decode(bytes.value())?;
            if expired(&record, cutoff) {
                found.push(Id::from_bytes(id));
                if found.len() >= CHUNK {
                    break;
                }
            }
        }
    }
    Ok((found, last))
}

async fn expire_leads(app: &App, client: Id, cutoff: Timestamp, now: Timestamp) -> Result<usize> {
    let mut deleted = 0;
    let mut after = None;
    loop {
        let (ids, last) =
            app.read(move |txn| old_records(txn, LEADS_BY_CLIENT, LEADS, &client, after, cutoff, expired_lead)).await?;
        let full = ids.len() >= CHUNK;
        if !ids.is_empty() {
            deleted += app.write(move |txn| delete_expired_leads(txn, &ids, cutoff, now)).await?;
        }
        match last {
            Some(l) if full => after = Some(l),
            _ => return Ok(deleted),
        }
    }
}

/// Deletes the leads that still qualify (one may have been synced since the snapshot).
fn delete_expired_leads(txn: &WriteTransaction, ids: &[Id], cutoff: Timestamp, now: Timestamp) -> Result<usize> {
    let mut deleted = 0;
    let mut gone = std::collections::HashSet::new();
    for id in ids {
        let lead: Option<Lead> = {
            let table = txn.open_table(LEADS)?;
            match table.get(*id.as_bytes())? {
                Some(bytes) => Some(decode(bytes.value())?),
                None => None,
            }
        };
        // Checked here, in this transaction, so delete_lead cannot refuse halfway.
        if lead.is_some_and(|l| expired_lead(&l, cutoff)) {
            leads::delete_lead_keeping_jobs(txn, *id, false, now)?;
            gone.insert(*id);
            deleted += 1;
        }
    }
    // One pass over the outbox for the whole chunk, not one per lead.
    if !gone.is_empty() {
        leads::retire_deleted_leads_upserts(txn, |job| gone.contains(&job.lead_id), now)?;
    }
    Ok(deleted)
}

async fn expire_events(app: &App, client: Id, cutoff: Timestamp) -> Result<usize> {
    // Pages hold up to 64 KiB: a chunk of pages is a bounded transaction like the others.
    const PAGES: usize = CHUNK / 50;
    let last_id = v7_bound(cutoff.plus_millis(ID_SLACK_MS), true);
    let mut deleted = 0;
    loop {
        let (n, more) = app
            .write(move |txn| {
                let mut pages = txn.open_table(EVENT_PAGES)?;
                let mut by_lead = txn.open_table(EVENTS_BY_LEAD)?;
                event_pages::expire(&mut pages, &mut by_lead, client.as_bytes(), cutoff, &last_id, PAGES)
            })
            .await?;
        deleted += n;
        if !more {
            return Ok(deleted);
        }
    }
}

/// Keys of the seen-id set older than `horizon`, from `after` on; and where to go on.
fn old_seen(txn: &ReadTransaction, after: Option<Pair>, horizon_ms: u64) -> Result<(Vec<Pair>, Option<Pair>)> {
    let table = txn.open_table(SEEN_EVENT_IDS)?;
    let range = match after {
        Some(a) => table.range((std::ops::Bound::Excluded(a), std::ops::Bound::Unbounded))?,
        None => table.range::<Pair>(..)?,
    };
    let mut found = Vec::new();
    let mut scanned = 0;
    for entry in range {
        let (key, seen_at) = entry?;
        scanned += 1;
        if seen_at.value() < horizon_ms {
            found.push(key.value());
        }
        if found.len() >= CHUNK * 10 || scanned >= SEEN_SCAN {
            return Ok((found, Some(key.value())));
        }
    }
    Ok((found, None))
}

async fn prune_seen(app: &App, horizon: Timestamp) -> Result<usize> {
    let horizon_ms = horizon.millis().max(0) as u64;
    let mut removed = 0;
    let mut after = None;
    loop {
        let (keys, next) = app.read(move |txn| old_seen(txn, after, horizon_ms)).await?;
        for chunk in keys.chunks(CHUNK * 10) {
            let chunk = chunk.to_vec();
            removed += app
                .write(move |txn| {
                    let mut seen = txn.open_table(SEEN_EVENT_IDS)?;
                    let mut n = 0;
                    for key in chunk {
                        if seen.remove(key)?.is_some() {
                            n += 1;
                        }
                    }
                    Ok(n)
                })
                .await?;
        }
        match next {
            Some(n) => after = Some(n),
            None => return Ok(removed),
        }
    }
}

/// Done jobs, and dead-lettered updates of leads that no longer exist, settled before
/// `horizon`. A dead-lettered erasure is kept until it is replayed and delivered.
async fn prune_jobs(app: &App, horizon: Timestamp) -> Result<usize> {
    let mut removed = 0;
    loop {
        let jobs = app
            .read(move |txn| {
                let leads = txn.open_table(LEADS)?;
                let gone = |id: &Id| -> bool { matches!(leads.get(*id.as_bytes()), Ok(None)) };
                outbox::jobs_where(txn, CHUNK, |j| {
                    j.updated_at < horizon
                        && (j.state == JobState::Done
                            || (j.state == JobState::DeadLetter && j.kind == SyncKind::Upsert && gone(&j.lead_id)))
                })
            })
            .await?;
        if jobs.is_empty() {
            return Ok(removed);
        }
        let n = jobs.len();
        removed += app.write(move |txn| outbox::prune_jobs(txn, &jobs)).await?;
        if n < CHUNK {
            return Ok(removed);
        }
    }
}
