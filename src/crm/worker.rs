//! The outbox worker: delivers CRM sync jobs.

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::App;

pub fn spawn(_app: App, _stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    Vec::new()
}
