//! CRM sync: connectors, the durable outbox and its worker, GDPR export and retention.
//!
//! - [`config`]: per-site connector settings (webhook, Salesforce, HubSpot); secrets are
//!   stored but never shown.
//! - [`payload`]: lead → what each connector sends, through the site's field mappings.
//! - [`connectors`]: the HTTP conversations with each CRM, and their dry-run description.
//! - [`outbox`]: the outbox and attempt-log tables: reads, settling, replay.
//! - [`worker`]: delivers due jobs with backoff; one step function and the loop around it.
//! - [`retention`]: the periodic deletion of expired data (original §8.3).
//! - [`service`]: what the admin API asks of all this.
//!
//! Jobs are written by `store` in the same transaction as the lead change that caused
//! them (ingest, admin edit, GDPR erasure); everything after that lives here.

use crate::domain::model::Client;

/// True when the site has an enabled CRM connector, so lead changes queue sync jobs.
pub fn enabled_for(client: &Client) -> bool {
    client.config.crm.enabled().next().is_some()
}

pub mod config;
pub mod connectors;
pub mod outbox;
pub mod payload;
pub mod retention;
pub mod service;
pub mod worker;
