//! CRM sync: connectors and the outbox worker.

use crate::domain::model::Client;

/// True when the site has a CRM connector configured, so lead changes queue sync jobs.
pub fn enabled_for(_client: &Client) -> bool {
    false
}

pub mod retention;
pub mod worker;
