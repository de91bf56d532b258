//! Serving connections: what `axum::serve` did (HTTP/1.1 and cleartext HTTP/2, the peer's
//! address for `ConnectInfo`, graceful shutdown), plus the time limits it cannot set, so
//! that no client, slow or stalled, holds a connection or the shutdown open for ever.
//!
//! The limits, from the first byte a client owes to the last:
//! - a connection must start a request within [`IDLE_TIMEOUT`] of opening or of its
//!   previous request; for HTTP/1.1 hyper closes it after [`HEADER_READ_TIMEOUT`] without a
//!   complete request head, which covers idle keep-alive connections too;
//! - a handler waits [`BODY_READ_TIMEOUT`](super::extract::BODY_READ_TIMEOUT) for a body;
//! - on shutdown, connections get [`SHUTDOWN_GRACE`] to finish their requests.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use super::error::explain_method_not_allowed;

/// How long a client has to send a complete request head. Honest clients send it in one
/// packet; 10 s is generous for a slow mobile link and stops a client that trickles headers
/// from holding a connection (slowloris). hyper starts this clock whenever an HTTP/1.1
/// connection waits for a request, so it is also how long an idle keep-alive connection is
/// kept: a reverse proxy in front should keep idle upstream connections for less than this.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a connection may go without starting a request before it is closed gracefully
/// (never in the middle of one). hyper's header timeout only covers HTTP/1.1 once the
/// protocol is known; this also covers a client that connects and sends nothing, and idle
/// HTTP/2 connections. Checked once per period, so an idle connection lasts 10–20 s.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// HTTP/2 pings an otherwise quiet connection this often and drops it when a ping goes
/// unanswered as long, so a vanished peer does not keep a stream open.
const HTTP2_KEEP_ALIVE: Duration = Duration::from_secs(20);

/// After a shutdown signal, how long in-flight requests have to finish before their
/// connections are closed. Ingest answers in milliseconds and admin requests in well under
/// a second, so 10 s only cuts clients that are stalled; a supervisor's stop timeout
/// (systemd's default is 90 s) is never reached.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves on an already-bound listener until `shutdown` resolves, then stops accepting,
/// lets in-flight requests finish for up to [`SHUTDOWN_GRACE`], and closes what is left.
/// Tests bind port 0 and pass the listener in.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let builder = connection_builder();
    let stop = CancellationToken::new();
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(serve_connection(builder.clone(), stream, peer, router.clone(), stop.clone()));
                }
                Err(e) => accept_failed(e).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    stop.cancel();
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async { while connections.join_next().await.is_some() {} });
    if drained.await.is_err() {
        tracing::warn!(
            connections = connections.len(),
            "closing connections whose requests did not finish within {} s of shutdown",
            SHUTDOWN_GRACE.as_secs()
        );
        connections.shutdown().await;
    }
    Ok(())
}

fn connection_builder() -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(HTTP2_KEEP_ALIVE)
        .keep_alive_timeout(HTTP2_KEEP_ALIVE)
        // As axum::serve: the CONNECT protocol is what HTTP/2 WebSockets need.
        .enable_connect_protocol();
    builder
}

async fn serve_connection(
    builder: auto::Builder<TokioExecutor>,
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    stop: CancellationToken,
) {
    let requested = Arc::new(AtomicBool::new(false));
    let seen = requested.clone();
    let service = router
        .map_request(move |mut request: Request<Incoming>| {
            seen.store(true, Relaxed);
            request.extensions_mut().insert(ConnectInfo(peer));
            request.map(Body::new)
        })
        .map_response(explain_method_not_allowed);
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service));
    tokio::pin!(connection);
    let start = tokio::time::Instant::now() + IDLE_TIMEOUT;
    let mut idle_check = tokio::time::interval_at(start, IDLE_TIMEOUT);
    let mut closing = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            () = stop.cancelled(), if !closing => {
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
            _ = idle_check.tick(), if !closing => {
                if !requested.swap(false, Relaxed) {
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    }
}

/// As axum::serve: a failed accept of one connection is ignored; anything else (such as
/// running out of file descriptors) is logged and retried after a second.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(e.kind(), ConnectionRefused | ConnectionAborted | ConnectionReset) {
        return;
    }
    tracing::error!(error = %e, "accept failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
