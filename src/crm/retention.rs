//! Retention (original §8.3), run by the in-process periodic task: per site, events older
//! than `retentionDays` and leads older than that which were never synced to a CRM.

use crate::app::App;
use crate::domain::time::Timestamp;

pub async fn run_once(_app: &App, _now: Timestamp) {}
