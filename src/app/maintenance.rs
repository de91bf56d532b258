//! Periodic in-process work (no external scheduler in a single binary): expired sessions,
//! rate-limiter memory, and whatever else must run on a clock.

use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::App;
use crate::domain::time::Timestamp;
use crate::store::accounts;

pub struct Tasks {
    stop: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
}

impl Tasks {
    /// Signals every task to stop and waits for them.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for h in self.handles {
            let _ = h.await;
        }
    }
}

/// One round of housekeeping; the loop below only schedules it.
pub async fn run_once(app: &App) {
    app.limiter.prune();
    let now = Timestamp::now();
    match app.write(move |txn| accounts::prune_sessions(txn, now)).await {
        Ok(n) if n > 0 => tracing::info!(expired = n, "dropped expired dashboard sessions"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "session cleanup failed"),
    }
    crate::crm::retention::run_once(app, now).await;
}

pub fn spawn(app: App) -> Tasks {
    let (stop, mut stopped) = watch::channel(false);
    let interval = Duration::from_secs(app.config.retention_interval_secs);
    let housekeeping_app = app.clone();
    let housekeeping = tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        loop {
            tokio::select! {
                _ = tick.tick() => run_once(&housekeeping_app).await,
                _ = stopped.changed() => break,
            }
        }
    });
    let mut handles = vec![housekeeping];
    handles.extend(crate::crm::worker::spawn(app, stop.subscribe()));
    Tasks { stop, handles }
}
