//! The outbox worker: delivers due sync jobs to the site's enabled connectors, records each
//! attempt, and retries with exponential backoff and jitter.
//!
//! [`Worker::deliver_due`] is one step with an explicit clock, so tests drive it
//! deterministically; [`Worker::run`] is the loop around it: a step, then sleep until the
//! next job is due, a commit queues one (`App::crm_wakeup`), or the stop signal.
//!
//! Rules of one round of a job:
//! - every enabled connector that has not accepted the job yet is sent it;
//! - a refusal (4xx other than 408/425/429, or a lead that cannot be mapped) dead-letters
//!   the job at once; a retryable failure schedules another round
//!   (`base * 2^(round-1)`, capped, with jitter, and never sooner than `Retry-After`)
//!   until `max_attempts` rounds, then dead-letters it;
//! - the job's state, its attempts and the lead's `syncStatus`/`crmId`/`crmSyncedAt` are
//!   written in one transaction, and only to a lead that still exists.
//!
//! Jobs are delivered one at a time, oldest first: a site's CRM sees a lead's changes in
//! order. A job that dies mid-delivery (crash, stop) is simply delivered again; the
//! idempotency key and the connectors' lookups make that harmless.

use std::collections::HashSet;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::config::Connector;
use super::connectors::{Connectors, Delivery, Work};
use super::outbox::{self, LeadSync, Settlement};
use super::payload;
use crate::app::App;
use crate::domain::model::{AttemptOutcome, JobState, SyncAttempt, SyncJob, SyncKind, SyncStatus};
use crate::domain::time::Timestamp;
use crate::store::{StoreError, queries};

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Delivery rounds before a job is dead-lettered.
    pub max_attempts: u32,
    /// Delay before the second round; doubles each round.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// Jobs taken per step.
    pub batch: usize,
    /// Longest sleep between steps when nothing wakes the worker.
    pub idle_poll: Duration,
    /// Per HTTP request to a CRM.
    pub request_timeout: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings {
            max_attempts: 8,
            base_backoff: Duration::from_secs(60),
            max_backoff: Duration::from_secs(3600),
            batch: 50,
            idle_poll: Duration::from_secs(10),
            request_timeout: Duration::from_secs(15),
        }
    }
}

/// The longest `Retry-After` honoured; a CRM asking for more gets retried after this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The delay before the round after `round`: exponential, capped, with "equal jitter"
/// (`jitter` in 0..1 picks a point in the upper half), and at least `retry_after`.
pub fn backoff(s: &WorkerSettings, round: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
    let exp = s.base_backoff.saturating_mul(2u32.saturating_pow(round.saturating_sub(1).min(30))).min(s.max_backoff);
    let delay = exp / 2 + exp.mul_f64(jitter.clamp(0.0, 1.0) / 2.0);
    delay.max(retry_after.unwrap_or_default().min(MAX_RETRY_AFTER))
}

/// What one step did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepReport {
    pub picked: usize,
    pub delivered: usize,
    pub retrying: usize,
    pub dead_lettered: usize,
    /// Settled without sending: the lead is gone, an earlier job of this step already
    /// sent its current state, or the site is gone.
    pub skipped: usize,
    pub next_due: Option<Timestamp>,
}

enum Outcome {
    Delivered,
    Retrying,
    DeadLettered,
    Skipped,
}

pub struct Worker {
    app: App,
    settings: WorkerSettings,
    connectors: Connectors,
}

fn ms(d: Duration) -> i64 {
    d.as_millis().min(i64::MAX as u128) as i64
}

impl Worker {
    pub fn new(app: App, settings: WorkerSettings) -> Worker {
        let connectors = Connectors::new(settings.request_timeout);
        Worker { app, settings, connectors }
    }

    /// Delivers the jobs due at `now` (at most `batch`), oldest first.
    pub async fn deliver_due(&self, now: Timestamp) -> Result<StepReport, StoreError> {
        let limit = self.settings.batch;
        let due = self.app.read(move |txn| outbox::due_jobs(txn, now, limit)).await?;
        let mut report = StepReport { picked: due.jobs.len(), next_due: due.next_due, ..Default::default() };
        // Leads whose current state an upsert of this step sent to every connector: their
        // later upserts in this step were committed before that read, so they are covered.
        let mut fresh = HashSet::new();
        for job in due.jobs {
            match self.process(job, now, &mut fresh).await? {
                Outcome::Delivered => report.delivered += 1,
                Outcome::Retrying => report.retrying += 1,
                Outcome::DeadLettered => report.dead_lettered += 1,
                Outcome::Skipped => report.skipped += 1,
            }
        }
        if report.retrying > 0 {
            // A retry scheduled in this step may be the next thing due.
            let soonest = now.plus_millis(ms(self.settings.base_backoff / 2));
            report.next_due = Some(report.next_due.map_or(soonest, |n| n.min(soonest)));
        }
        Ok(report)
    }

    async fn settle(&self, s: Settlement, now: Timestamp) -> Result<(), StoreError> {
        self.app.write(move |txn| outbox::settle(txn, &s, now)).await?;
        Ok(())
    }

    /// Settles a job without sending anything; `lead` is the lead's new sync status.
    async fn settle_unsent(
        &self,
        job: &SyncJob,
        state: JobState,
        lead: Option<SyncStatus>,
        error: Option<String>,
        attempts: Vec<SyncAttempt>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let lead = lead.map(|status| LeadSync { status, crm_id: None, synced_at: None });
        let s = Settlement {
            job_id: job.job_id,
            state,
            counted: false,
            next_attempt_at: now,
            last_error: error,
            attempts,
            lead,
        };
        self.settle(s, now).await
    }

    async fn process(
        &self,
        job: SyncJob,
        now: Timestamp,
        fresh: &mut HashSet<crate::domain::model::Id>,
    ) -> Result<Outcome, StoreError> {
        let Some(site) = self.app.sites.get(&job.client_id) else {
            tracing::warn!(job = %job.job_id, lead = %job.lead_id, "dropping a CRM job whose site was deleted");
            let id = job.job_id;
            self.app.write(move |txn| outbox::remove_job(txn, &id)).await?;
            return Ok(Outcome::Skipped);
        };
        let enabled: Vec<Connector> = site.client.config.crm.enabled().cloned().collect();
        if enabled.is_empty() {
            let error = "no CRM connector is enabled for this site; enable one (PUT /v1/clients/{id}/crm), then replay";
            tracing::warn!(job = %job.job_id, lead = %job.lead_id, "{error}");
            let lead = (job.kind == SyncKind::Upsert).then_some(SyncStatus::DeadLetter);
            self.settle_unsent(&job, JobState::DeadLetter, lead, Some(error.into()), Vec::new(), now).await?;
            return Ok(Outcome::DeadLettered);
        }
        let lookup = job.clone();
        let (lead, already) = self
            .app
            .read(move |txn| {
                let lead = match lookup.kind {
                    SyncKind::Upsert => queries::get_lead(txn, &lookup.lead_id)?,
                    SyncKind::Delete => None,
                };
                Ok((lead, outbox::delivered_connectors(txn, &lookup)?))
            })
            .await?;
        let pending: Vec<&Connector> = enabled.iter().filter(|c| !already.contains(&c.name)).collect();

        let mapped;
        let work = match job.kind {
            SyncKind::Upsert => {
                let Some(lead) = lead.as_ref() else {
                    tracing::info!(job = %job.job_id, lead = %job.lead_id, "lead no longer exists; nothing to sync");
                    self.settle_unsent(&job, JobState::Done, None, None, Vec::new(), now).await?;
                    return Ok(Outcome::Skipped);
                };
                if already.is_empty() && fresh.contains(&lead.lead_id) {
                    tracing::debug!(job = %job.job_id, lead = %job.lead_id, "superseded by an earlier delivery of this step");
                    self.settle_unsent(&job, JobState::Done, Some(SyncStatus::Synced), None, Vec::new(), now).await?;
                    return Ok(Outcome::Skipped);
                }
                mapped = match payload::map_lead(lead, &site.bundle) {
                    Ok(m) => m,
                    Err(e) => {
                        let error = e.to_string();
                        tracing::warn!(job = %job.job_id, lead = %job.lead_id, %error, "lead cannot be mapped; dead letter");
                        let attempt = SyncAttempt {
                            attempt_id: Uuid::now_v7(),
                            job_id: job.job_id,
                            lead_id: job.lead_id,
                            kind: job.kind,
                            connector: "mapping".into(),
                            round: job.attempts + 1,
                            at: now,
                            status_code: None,
                            outcome: AttemptOutcome::Rejected,
                            excerpt: super::connectors::excerpt(&error, &[], None),
                            duration_ms: 0,
                        };
                        let status = Some(SyncStatus::DeadLetter);
                        self.settle_unsent(&job, JobState::DeadLetter, status, Some(error), vec![attempt], now).await?;
                        return Ok(Outcome::DeadLettered);
                    }
                };
                Work::Upsert { lead, mapped: &mapped }
            }
            SyncKind::Delete => Work::Delete {
                lead_id: job.lead_id,
                client_id: job.client_id,
                crm_id: job.crm_id.as_deref(),
                email: job.email.as_deref(),
            },
        };

        let round = job.attempts + 1;
        let mut attempts = Vec::new();
        let mut crm_id = None;
        let mut retry_after: Option<Option<Duration>> = None;
        let mut rejected = None;
        let mut last_error = None;
        for connector in &pending {
            let started = Instant::now();
            let delivery = self.connectors.deliver(job.client_id, connector, &job.idempotency_key, &work).await;
            let (outcome, excerpt) = match &delivery {
                Delivery::Delivered { crm_id: id, note, .. } => {
                    self.app.metrics.crm_deliveries.fetch_add(1, Relaxed);
                    if connector.kind.keeps_records() && job.kind == SyncKind::Upsert {
                        crm_id = id.clone();
                    }
                    tracing::info!(job = %job.job_id, lead = %job.lead_id, kind = ?job.kind, connector = %connector.name,
                        round, status = ?delivery.status(), "{note}");
                    (AttemptOutcome::Delivered, note.clone())
                }
                Delivery::Retry { error, retry_after: after, .. } => {
                    self.app.metrics.crm_failures.fetch_add(1, Relaxed);
                    tracing::warn!(job = %job.job_id, lead = %job.lead_id, connector = %connector.name, round,
                        status = ?delivery.status(), "delivery failed, will retry: {error}");
                    let longest = retry_after.flatten().max(*after);
                    retry_after = Some(longest);
                    last_error = Some(format!("{}: {error}", connector.name));
                    (AttemptOutcome::Retryable, error.clone())
                }
                Delivery::Rejected { error, .. } => {
                    self.app.metrics.crm_failures.fetch_add(1, Relaxed);
                    tracing::warn!(job = %job.job_id, lead = %job.lead_id, connector = %connector.name, round,
                        status = ?delivery.status(), "delivery refused, dead letter: {error}");
                    rejected = Some(format!("{}: {error}", connector.name));
                    (AttemptOutcome::Rejected, error.clone())
                }
            };
            attempts.push(SyncAttempt {
                attempt_id: Uuid::now_v7(),
                job_id: job.job_id,
                lead_id: job.lead_id,
                kind: job.kind,
                connector: connector.name.clone(),
                round,
                at: now,
                status_code: delivery.status(),
                outcome,
                excerpt,
                duration_ms: started.elapsed().as_millis() as u64,
            });
        }

        let (state, next, error, status, outcome) = if let Some(error) = rejected {
            (JobState::DeadLetter, now, Some(error), SyncStatus::DeadLetter, Outcome::DeadLettered)
        } else if let Some(after) = retry_after {
            let error = last_error.unwrap_or_default();
            if round >= self.settings.max_attempts {
                let error = format!("gave up after {round} attempts; last error: {error}");
                tracing::warn!(job = %job.job_id, lead = %job.lead_id, "{error}");
                (JobState::DeadLetter, now, Some(error), SyncStatus::DeadLetter, Outcome::DeadLettered)
            } else {
                let delay = backoff(&self.settings, round, after, rand::random::<f64>());
                let next = now.plus_millis(ms(delay));
                tracing::info!(job = %job.job_id, lead = %job.lead_id, round, next_attempt_at = %next.to_rfc3339(), "retry scheduled");
                (JobState::Pending, next, Some(error), SyncStatus::Failed, Outcome::Retrying)
            }
        } else {
            if job.kind == SyncKind::Upsert && already.is_empty() {
                fresh.insert(job.lead_id);
            }
            (JobState::Done, now, None, SyncStatus::Synced, Outcome::Delivered)
        };
        let lead = (job.kind == SyncKind::Upsert).then(|| LeadSync {
            status,
            crm_id: crm_id.clone(),
            synced_at: (state == JobState::Done).then_some(now),
        });
        let s = Settlement {
            job_id: job.job_id,
            state,
            counted: true,
            next_attempt_at: next,
            last_error: error,
            attempts,
            lead,
        };
        self.settle(s, now).await?;
        Ok(outcome)
    }

    /// Steps until `stop` turns true. A delivery in flight when it does is abandoned; it is
    /// delivered again on the next start (idempotently).
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        tracing::info!("CRM worker started");
        loop {
            if *stop.borrow() {
                break;
            }
            let now = Timestamp::now();
            let step = tokio::select! {
                r = self.deliver_due(now) => r,
                _ = stop.changed() => break,
            };
            let wait = match step {
                Ok(r) if r.picked >= self.settings.batch => Duration::ZERO,
                Ok(r) => r
                    .next_due
                    .map(|at| Duration::from_millis((at.millis() - Timestamp::now().millis()).max(0) as u64))
                    .unwrap_or(self.settings.idle_poll)
                    .min(self.settings.idle_poll),
                Err(e) => {
                    tracing::warn!(error = %e, "CRM worker step failed");
                    self.settings.idle_poll
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.app.crm_wakeup.notified() => {}
                _ = stop.changed() => break,
            }
        }
        tracing::info!("CRM worker stopped");
    }
}

pub fn spawn(app: App, stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    spawn_with(app, stop, WorkerSettings::default())
}

pub fn spawn_with(app: App, stop: watch::Receiver<bool>, settings: WorkerSettings) -> Vec<JoinHandle<()>> {
    let worker = Worker::new(app, settings);
    vec![tokio::spawn(worker.run(stop))]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_jitters_and_honours_retry_after() {
        let s = WorkerSettings {
            base_backoff: Duration::from_secs(60),
            max_backoff: Duration::from_secs(600),
            ..Default::default()
        };
        assert_eq!(backoff(&s, 1, None, 1.0), Duration::from_secs(60));
        assert_eq!(backoff(&s, 1, None, 0.0), Duration::from_secs(30));
        assert_eq!(backoff(&s, 3, None, 1.0), Duration::from_secs(240));
        assert_eq!(backoff(&s, 9, None, 1.0), Duration::from_secs(600));
        assert_eq!(backoff(&s, 40, None, 1.0), Duration::from_secs(600));
        let d = backoff(&s, 2, None, 0.5);
        assert!(d > Duration::from_secs(60) && d < Duration::from_secs(120));
        assert_eq!(backoff(&s, 1, Some(Duration::from_secs(900)), 0.0), Duration::from_secs(900));
        assert_eq!(backoff(&s, 1, Some(Duration::from_secs(9_999_999)), 0.0), MAX_RETRY_AFTER);
    }
}
