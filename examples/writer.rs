//! Throughput of the single writer thread alone: events/s it applies and durably commits,
//! without HTTP or request parsing (those run on other threads in the server).
//!
//! `cargo run --release --example writer -- [--events 400000] [--inflight 128] [--batch 20]`
//!
//! Batches are parsed and prepared up front, then kept `--inflight` requests deep in the
//! writer's queue, as the server's connections would. The event mix is the load
//! generator's (`LOADGEN_MIX=session|submissions|site`).

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use crm_tracker::domain::enrich::RequestContext;
use crm_tracker::domain::event::parse_batch;
use crm_tracker::domain::lead_rules::SiteRules;
use crm_tracker::domain::time::Timestamp;
use crm_tracker::metrics::Metrics;
use crm_tracker::store::Store;
use crm_tracker::store::ingest::{IngestBatch, PreparedEvent};
use crm_tracker::store::writer::Writer;
use std::sync::Arc;
use std::time::Instant;

#[path = "support/mix.rs"]
mod mix;

fn main() {
    let mut events = 400_000usize;
    let mut inflight = 128usize;
    let mut batch = 20usize;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value: usize = it.next().and_then(|v| v.parse().ok()).expect("a number after each flag");
        match flag.as_str() {
            "--events" => events = value,
            "--inflight" => inflight = value,
            "--batch" => batch = value,
            other => panic!("unknown flag {other}; use --events, --inflight, --batch"),
        }
    }
    let mix = mix::Mix::from_env();
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("writer.redb")).expect("store");
    let metrics = Arc::new(Metrics::default());
    let writer = Arc::new(Writer::spawn(store.clone(), metrics.clone()));
    let client = uuid::Uuid::now_v7();
    let rules = SiteRules::default();
    let ctx = RequestContext::from_headers(Some("Mozilla/5.0 (X11; Linux x86_64) Chrome/156"), Some("en-US"));

    let requests = events / batch;
    let prepare = Instant::now();
    let batches: Vec<IngestBatch> = (0..requests)
        .map(|r| {
            let worker = r % inflight;
            let body = mix::batch_body(mix, "c", (r / inflight) as u64, worker, batch);
            let parsed = parse_batch(body.as_bytes(), Timestamp::now(), &ctx).expect("valid body");
            let now = Timestamp::now();
            let events = parsed
                .events
                .into_iter()
                .map(|e| PreparedEvent::new(e, client, &rules, false, now).expect("prepare"))
                .collect();
            IngestBatch { client_id: client, events, crm_enabled: false }
        })
        .collect();
    println!(
        "prepared {} events in {} requests of {batch} ({:.2} us/event on one thread); mix: {}",
        requests * batch,
        requests,
        prepare.elapsed().as_secs_f64() * 1e6 / (requests * batch) as f64,
        mix.describe()
    );

    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let started = Instant::now();
    let accepted = rt.block_on(async {
        let mut pending = futures_lite_queue(batches, inflight, writer.clone()).await;
        pending.sort_unstable();
        pending.iter().sum::<usize>()
    });
    let secs = started.elapsed().as_secs_f64();
    writer.shutdown();
    println!(
        "writer: {:.0} events/s ({:.2} us/event), {accepted} accepted, {:.1} MB file",
        accepted as f64 / secs,
        secs * 1e6 / accepted.max(1) as f64,
        std::fs::metadata(dir.path().join("writer.redb")).map_or(0, |m| m.len()) as f64 / 1e6
    );
    println!(
        "per transaction: {:.0} events, {:.2} ms applying, {:.2} ms in all (commit and fsync included)",
        metrics.writer_batch_events.mean(),
        metrics.writer_apply_seconds.mean() * 1e3,
        metrics.writer_commit_seconds.mean() * 1e3
    );
}

/// Keeps `inflight` batches queued at the writer until all are done; returns each one's
/// accepted count.
async fn futures_lite_queue(batches: Vec<IngestBatch>, inflight: usize, writer: Arc<Writer>) -> Vec<usize> {
    let mut set = tokio::task::JoinSet::new();
    let mut out = Vec::with_capacity(batches.len());
    for batch in batches {
        if set.len() >= inflight
            && let Some(done) = set.join_next().await
        {
            out.push(done.expect("task"));
        }
        let w = writer.clone();
        set.spawn(async move { w.ingest(batch).await.expect("ingest").accepted });
    }
    while let Some(done) = set.join_next().await {
        out.push(done.expect("task"));
    }
    out
}
