//! CPU cost of the request-side ingest pipeline per event, without HTTP or storage:
//! JSON parse and validation, enrichment, redaction, lead rules, record encoding.
//!
//! `cargo run --release --example pipeline` (`LOADGEN_MIX=site|session|submissions`)

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use crm_tracker::domain::enrich::RequestContext;
use crm_tracker::domain::event::parse_batch;
use crm_tracker::domain::lead_rules::SiteRules;
use crm_tracker::domain::time::Timestamp;
use crm_tracker::store::ingest::PreparedEvent;
use std::time::Instant;

#[path = "support/mix.rs"]
mod mix;

fn main() {
    let mix = mix::Mix::from_env();
    let body = mix::batch_body(mix, "c", 0, 0, 20);
    let ctx = RequestContext::from_headers(Some("Mozilla/5.0 (X11; Linux x86_64) Chrome/156"), Some("en-US,en;q=0.9"));
    let rules = SiteRules::default();
    let client = uuid::Uuid::now_v7();
    let rounds = 5_000;
    let (mut parse_ns, mut prep_ns) = (0u128, 0u128);
    for _ in 0..rounds {
        let t = Instant::now();
        let parsed = parse_batch(body.as_bytes(), Timestamp::now(), &ctx).expect("valid");
        parse_ns += t.elapsed().as_nanos();
        let t = Instant::now();
        let prepared: Vec<_> = parsed
            .events
            .into_iter()
            .map(|e| PreparedEvent::new(e, client, &rules, false, Timestamp::now()).expect("prepare"))
            .collect();
        prep_ns += t.elapsed().as_nanos();
        std::hint::black_box(prepared);
    }
    let n = (rounds * 20) as f64;
    println!("body {} bytes for 20 events; mix: {}", body.len(), mix.describe());
    println!("parse+validate+enrich+redact: {:.2} us/event", parse_ns as f64 / n / 1000.0);
    println!("lead rules+encode:            {:.2} us/event", prep_ns as f64 / n / 1000.0);
}
