//! Crash consistency: SIGKILL the server under load; every event that got a 2xx must be
//! stored after a restart, and the file must pass redb's integrity check. (A power loss,
//! which a test cannot cause, is simulated in `store::journal`'s tests.)

#[path = "common/process.rs"]
mod process;

use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_event_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("crash.redb");
    let (ok, out, err) = process::run(&data, &["client", "add", "--domain", "example.com"], None);
    assert!(ok, "{err}");
    let client = process::field(&out, "clientId:").to_string();
    let (ok, out, err) = process::run(&data, &["token", "create", "--name", "crash"], None);
    assert!(ok, "{err}");
    let token = out.lines().map(str::trim).find(|l| l.starts_with("crm_")).unwrap().to_string();

    let mut server = process::serve(&data, &[]);
    let base = server.base.clone();
    let acked: Arc<Mutex<HashSet<String>>> = Arc::default();
    let stop_at = Instant::now() + Duration::from_millis(1500);
    let mut senders = Vec::new();
    for worker in 0..8 {
        let (base, client, acked) = (base.clone(), client.clone(), acked.clone());
        senders.push(tokio::spawn(async move {
            let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
            let mut n = 0u64;
            // Keep sending past the kill: requests then fail, and must not be counted.
            while Instant::now() < stop_at + Duration::from_millis(500) {
                let ids: Vec<String> = (0..5).map(|_| uuid::Uuid::now_v7().to_string()).collect();
                let events: Vec<Value> = ids
                    .iter()
                    .map(|id| {
                        n += 1;
                        json!({"id": id, "type": "form_submission", "visitorId": format!("w{worker}"),
                               "fields": {"email": format!("w{worker}-{n}@example.com")}})
                    })
                    .collect();
                let r = http
                    .post(format!("{base}/v1/track/batch"))
                    .header("Origin", "https://example.com")
                    .body(json!({"clientId": client, "events": events}).to_string())
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().is_success() => acked.lock().unwrap().extend(ids),
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
        }));
    }
    tokio::time::sleep_until(stop_at.into()).await;
    server.kill9();
    for s in senders {
        s.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 100, "the load was too light to mean anything: {}", acked.len());
    let journal = crm_tracker::store::journal::journal_path(&data);
    assert!(journal.exists(), "the killed server left its journal for the next open");

    // Offline, the export applies the journal itself: every acknowledged submission is a lead.
    let (ok, leads, err) = process::run(&data, &["export", "leads", "--format", "ndjson"], None);
    assert!(ok, "export after the crash: {err}");
    assert!(
        leads.lines().count() >= acked.len(),
        "{} leads for {} acknowledged submissions",
        leads.lines().count(),
        acked.len()
    );
    assert!(!journal.exists(), "the journal was applied and removed");

    let mut server = process::serve(&data, &[]);
    let http = reqwest::Client::new();
    let mut stored = HashSet::new();
    let mut cursor = String::new();
    loop {
        let page: Value = http
            .get(format!("{}/v1/events?clientId={client}&limit=500&cursor={cursor}", server.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for e in page["items"].as_array().unwrap() {
            stored.insert(e["clientEventId"].as_str().unwrap().to_string());
        }
        match page["nextCursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    let lost: Vec<_> = acked.difference(&stored).collect();
    assert!(lost.is_empty(), "{} acknowledged events lost, e.g. {:?}", lost.len(), lost.first());
    println!("acknowledged {} events before SIGKILL, stored {}", acked.len(), stored.len());

    assert_eq!(server.terminate(), Some(0), "SIGTERM exits 0");
    assert!(crm_tracker::store::backup::verify(&data).unwrap(), "integrity check after the crash");
}
