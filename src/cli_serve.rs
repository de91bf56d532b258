//! `crm-tracker serve`: open the data file, start the writer, background tasks and the HTTP
//! server; on SIGINT/SIGTERM stop accepting, finish in-flight requests (closing connections
//! still busy after `http::server::SHUTDOWN_GRACE`), flush the writer, and exit 0.

use std::path::PathBuf;
use tokio::net::TcpListener;

use crate::app::App;
use crate::config::{ServeArgs, ServeConfig};

/// Registers for SIGINT and SIGTERM now, and returns the future that waits for either.
/// Called just before the accept loop starts: registered on that future's first poll
/// instead, a signal right after the first answers could still meet the default action and
/// kill the server (a test saw exactly that). Not earlier either: until then (opening and
/// repairing the data file, the demo's setup) Ctrl-C stops the process at once, as a user
/// expects of a program that is not serving yet.
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
        tracing::info!("shutting down: finishing in-flight requests");
    })
}

#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: finishing in-flight requests");
    })
}

/// Raises the open-file limit to what the system allows. Every connection is a file
/// descriptor, and service managers often start processes with a soft limit of 1,024: a
/// tracker behind many visitors' keep-alive connections would then refuse connections with
/// "too many open files" long before it runs short of anything else. Returns the limit in
/// force.
#[cfg(unix)]
fn raise_open_files_limit() -> Option<u64> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed to them.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        // An unlimited hard limit is not a value the kernel takes for the soft one (Linux
        // caps it at fs.nr_open, macOS at kern.maxfilesperproc): then the largest that works.
        for wanted in [limit.rlim_max, 1 << 20, 1 << 16, 10_240] {
            if wanted <= limit.rlim_cur || wanted > limit.rlim_max {
                continue;
            }
            let raised = libc::rlimit { rlim_cur: wanted, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
                break;
            }
        }
    }
    #[allow(clippy::unnecessary_cast)] // rlim_t is u64 on Linux, not on every Unix
    Some(limit.rlim_cur as u64)
}

/// Opts this process out of transparent huge pages. The allocator asks the kernel for them
/// (with `madvise`), and a 2 MiB page is resident as soon as one byte of it is touched: after
/// the load generator the server held 93 MB with THP and 70 MB without, at the same
/// throughput, and each huge page fault zeroes 2 MiB while a request waits. A small VPS
/// counts resident memory. Set before the runtime and the store allocate anything big; it
/// covers the whole process, and a kernel without THP ignores it.
#[cfg(target_os = "linux")]
fn disable_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory of ours.
    let refused = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) } != 0;
    if refused {
        tracing::debug!(error = %std::io::Error::last_os_error(), "transparent huge pages stay on");
    }
}

pub fn run(args: &ServeArgs, data: PathBuf) -> anyhow::Result<()> {
    #[cfg(target_os = "linux")]
    disable_huge_pages();
    let config = ServeConfig::from_args(args, data)?;
    #[cfg(unix)]
    match raise_open_files_limit() {
        Some(files) if files < 4096 => tracing::warn!(
            files,
            "the system allows this process only {files} open files, so it can serve about as many connections at once; raise it (ulimit -n, or LimitNOFILE= in a systemd unit)"
        ),
        Some(files) => tracing::debug!(files, "open-file limit"),
        None => {}
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    // The address first: a busy port must not leave a new, empty data file behind.
    let listener = runtime.block_on(TcpListener::bind(config.listen)).map_err(|e| {
        anyhow::anyhow!(
            "cannot listen on {} ({e}); if another server uses it, pick another with --listen",
            config.listen
        )
    })?;
    // The store's errors name the file already.
    let app = App::open(config.clone())?;
    crate::http::backup::remove_stale_copies(&config.data);
    runtime.block_on(async {
        let addr = listener.local_addr()?;
        let base = config.public_url.clone().unwrap_or_else(|| format!("http://{addr}"));
        tracing::info!(%addr, data = %config.data.display(), "crm-tracker listening");
        println!("crm-tracker listening on http://{addr} (data: {})", config.data.display());
        if config.demo {
            crate::demo::setup(&app, &base).await?;
        } else if crate::demo::retire(&app).await? {
            println!(
                "The admin token and the dashboard login `{user}` of an earlier `serve --demo` on this data file \
                 no longer work. The demo site ({domain}) and its leads stay; delete the site through the API if you \
                 do not need it.",
                user = crate::demo::DEMO_USER,
                domain = crate::demo::DEMO_DOMAIN,
            );
        }
        if !config.demo && app.read(crate::store::accounts::nobody_can_log_in).await? {
            // A first start: say how to get in, since the CLI needs the file to itself.
            println!(
                "No admin token or dashboard user exists yet. Stop the server (Ctrl-C), then run\n  \
                 crm-tracker --data {data} token create --name admin                  (API token)\n  \
                 echo 'a long password' | crm-tracker --data {data} user create --username you   (dashboard)",
                data = config.data.display()
            );
        }
        let tasks = crate::app::maintenance::spawn(app.clone());
        let shutdown = shutdown_signal().map_err(|e| anyhow::anyhow!("cannot register for SIGINT/SIGTERM: {e}"))?;
        crate::http::serve(listener, app.clone(), shutdown).await?;
        tasks.stop().await;
        Ok::<(), anyhow::Error>(())
    })?;
    // Every acknowledged write was committed before its answer; this commits nothing new,
    // it just waits for the writer thread to finish cleanly.
    app.writer.shutdown();
    tracing::info!("stopped");
    Ok(())
}
