//! `crm-tracker serve`: open the data file, start the writer, background tasks and the HTTP
//! server; on SIGINT/SIGTERM stop accepting, finish in-flight requests (closing connections
//! still busy after `http::server::SHUTDOWN_GRACE`), flush the writer, and exit 0.

use anyhow::Context;
use std::path::PathBuf;
use tokio::net::TcpListener;

use crate::app::App;
use crate::config::{ServeArgs, ServeConfig};

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

pub fn run(args: &ServeArgs, data: PathBuf) -> anyhow::Result<()> {
    let config = ServeConfig::from_args(args, data)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let app = App::open(config.clone()).with_context(|| format!("opening {}", config.data.display()))?;
    runtime.block_on(async {
        let listener = TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
        let addr = listener.local_addr()?;
        let base = config.public_url.clone().unwrap_or_else(|| format!("http://{addr}"));
        tracing::info!(%addr, data = %config.data.display(), "crm-tracker listening");
        println!("crm-tracker listening on http://{addr} (data: {})", config.data.display());
        if config.demo {
            crate::demo::setup(&app, &base).await?;
        }
        let tasks = crate::app::maintenance::spawn(app.clone());
        crate::http::serve(listener, app.clone(), shutdown_signal()).await?;
        tasks.stop().await;
        Ok::<(), anyhow::Error>(())
    })?;
    // Every acknowledged write was committed before its answer; this commits nothing new,
    // it just waits for the writer thread to finish cleanly.
    app.writer.shutdown();
    tracing::info!("stopped");
    Ok(())
}
