//! GDPR: the export of everything held for a person, erasure reaching every CRM, and
//! retention deleting exactly what has expired.

mod common;
#[path = "crm_fakes/mod.rs"]
mod fakes;

use common::*;
use crm_tracker::crm::retention::{RetentionReport, sweep};
use crm_tracker::domain::time::Timestamp;
use crm_tracker::store::tables::SEEN_EVENT_IDS;
use fakes::*;
use redb::ReadableTableMetadata;
use serde_json::{Value, json};
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

const DAY_MS: i64 = 86_400_000;

async fn configure(t: &TestApp, client: &str, connectors: Vec<Value>) -> Value {
    let r = t.put(&format!("/v1/clients/{client}/crm")).json(&json!({"connectors": connectors})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn items(t: &TestApp, path: &str) -> Vec<Value> {
    t.get_json(path).await["items"].as_array().cloned().unwrap_or_default()
}

async fn lead_id(t: &TestApp, client: &str, email: &str) -> String {
    let found = items(t, &format!("/v1/leads?clientId={client}&email={email}")).await;
    assert_eq!(found.len(), 1, "{email}");
    found[0]["leadId"].as_str().unwrap().to_string()
}

fn pageview() -> Value {
    json!({"id": event_id(), "type": "tracker_initialized", "visitorId": "v0", "sessionId": "s0"})
}

#[tokio::test]
async fn export_returns_every_lead_and_event_of_the_person() {
    let t = spawn_app().await;
    let (a, _) = t.create_site("example.com").await;
    let (b, _) = t.create_site("other.example").await;
    // Two visitors with the same address are two leads; Bob is someone else.
    t.track_batch(ORIGIN, &a, vec![submission("ada@example.com", "v1"), interaction("ada@example.com", "v2")]).await;
    t.track_batch(ORIGIN, &a, vec![submission("bob@example.com", "v3")]).await;
    t.track_batch("https://other.example", &b, vec![submission("ada@example.com", "v4")]).await;

    let export = t.get_json(&format!("/v1/gdpr/export?clientId={a}&email=ADA@Example.com")).await;
    assert_eq!(export["email"], "ada@example.com");
    let leads = export["leads"].as_array().unwrap();
    assert_eq!(leads.len(), 2);
    let ids: Vec<&Value> = leads.iter().map(|l| &l["leadId"]).collect();
    let events = export["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| ids.contains(&&e["leadId"])));
    assert!(!export.to_string().contains("bob@example.com"));

    let everywhere = t.get_json("/v1/gdpr/export?email=ada@example.com").await;
    assert_eq!(everywhere["leads"].as_array().unwrap().len(), 3);

    for (query, status, field) in [
        ("", 400, Some("email")),
        ("email=nope", 400, Some("email")),
        ("email=a@b.co&clientId=x", 400, Some("clientId")),
    ] {
        let r = t.get(&format!("/v1/gdpr/export?{query}")).send().await.unwrap();
        assert_eq!(r.status(), status, "{query}");
        assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"].as_str(), field);
    }
    let r = t.get(&format!("/v1/gdpr/export?email=a@b.co&clientId={}", uuid::Uuid::now_v7())).send().await.unwrap();
    assert_eq!(r.status(), 404);
    t.stop().await;
}

#[tokio::test]
async fn erasure_reaches_salesforce_and_the_webhook() {
    let t = spawn_app().await;
    let sf = Salesforce::start().await;
    let hook = Receiver::start().await;
    let (client, _) = t.create_site("example.com").await;
    let cfg = configure(&t, &client, vec![sf.connector(), json!({"type": "webhook", "url": hook.url()})]).await;
    hook.set_secret(cfg["connectors"][1]["secret"].as_str().unwrap());
    t.track_batch(ORIGIN, &client, vec![submission("erase@example.com", "v1")]).await;
    let worker = worker(&t.app);
    assert_eq!(worker.deliver_due(Timestamp::now()).await.unwrap().delivered, 1);
    let id = lead_id(&t, &client, "erase@example.com").await;
    let (crm_id, _) = sf.record_by_email("erase@example.com").unwrap();

    let r: Value = t.delete(&format!("/v1/leads/{id}/gdpr-delete")).send().await.unwrap().json().await.unwrap();
    assert_eq!((r["crmId"].as_str(), r["crmDeletionQueued"].as_bool()), (Some(crm_id.as_str()), Some(true)));
    assert_eq!(t.get(&format!("/v1/leads/{id}")).send().await.unwrap().status(), 404);

    assert_eq!(worker.deliver_due(Timestamp::now()).await.unwrap().delivered, 1);
    assert_eq!(sf.deletes.load(SeqCst), 1);
    assert!(sf.records.lock().unwrap().is_empty());
    let erased = hook.messages().into_iter().find(|(_, m)| m["type"] == "lead.erased").expect("webhook told").1;
    assert_eq!(
        (erased["data"]["email"].as_str(), erased["data"]["crmId"].as_str()),
        (Some("erase@example.com"), Some(crm_id.as_str()))
    );

    // The erasure's own record shows it reached both, and keeps no address.
    let sync = t.get_json(&format!("/v1/leads/{id}/sync")).await;
    assert_eq!(sync["exists"], false);
    let delete = sync["jobs"].as_array().unwrap().iter().find(|j| j["kind"] == "delete").unwrap().clone();
    assert_eq!((delete["state"].as_str(), delete["email"].is_null()), (Some("done"), true), "{delete}");
    let connectors: Vec<&str> =
        sync["attempts"].as_array().unwrap().iter().map(|a| a["connector"].as_str().unwrap()).collect();
    assert_eq!(connectors, ["salesforce", "webhook"]);
    let export = t.get_json("/v1/gdpr/export?email=erase@example.com").await;
    assert_eq!(export["leads"], json!([]));
    assert_eq!(export["crmJobs"], json!([]), "no job names the person any more");
    assert!(!sync.to_string().contains("erase@example.com"));
    t.stop().await;
}

#[tokio::test]
async fn erasure_finds_a_hubspot_contact_by_email_when_the_lead_had_no_crm_id() {
    let t = spawn_app().await;
    let hs = Hubspot::start().await;
    let (client, _) = t.create_site("example.com").await;
    configure(&t, &client, vec![hs.connector()]).await;
    t.track_batch(ORIGIN, &client, vec![submission("quick@example.com", "v1")]).await;
    // A delivery made the contact but died before recording it; then the person asks to
    // be forgotten.
    let contact = hs.insert(json!({"email": "quick@example.com", "firstname": "Ada"}));
    let id = lead_id(&t, &client, "quick@example.com").await;
    let r = t.delete(&format!("/v1/leads/{id}/gdpr-delete")).send().await.unwrap();
    assert_eq!(r.status(), 200);

    let step = worker(&t.app).deliver_due(Timestamp::now()).await.unwrap();
    // The erasure settled the lead's pending update: only the deletion is left to deliver.
    assert_eq!((step.picked, step.skipped, step.delivered), (1, 0, 1), "the update of the erased lead is not sent");
    assert_eq!((hs.lookups.load(SeqCst), hs.deletes.load(SeqCst), hs.creates.load(SeqCst)), (1, 1, 0));
    assert!(hs.contacts.lock().unwrap().get(&contact).is_none());
    t.stop().await;
}

async fn seen_ids(t: &TestApp) -> u64 {
    t.app.read(|txn| Ok(txn.open_table(SEEN_EVENT_IDS)?.len()?)).await.unwrap()
}

#[tokio::test]
async fn retention_deletes_exactly_the_expired_rows() {
    let t = spawn_app().await;
    let hook = Receiver::start().await;
    let (a, _) = t.create_site("example.com").await;
    let (b, _) = t.create_site("other.example").await;
    let r = t.put(&format!("/v1/clients/{b}")).json(&json!({"config": {"retentionDays": 365}})).send().await.unwrap();
    assert_eq!(r.status(), 200);

    // Before T: a lead never synced, a synced lead, an event without a lead; on site B
    // (365 days) a lead never synced.
    t.track_batch(ORIGIN, &a, vec![pageview(), submission("old-unsynced@example.com", "v1")]).await;
    t.track_batch("https://other.example", &b, vec![submission("b-old@example.com", "v9")]).await;
    let cfg = configure(&t, &a, vec![json!({"type": "webhook", "url": hook.url()})]).await;
    hook.set_secret(cfg["connectors"][0]["secret"].as_str().unwrap());
    t.track_batch(ORIGIN, &a, vec![submission("old-synced@example.com", "v2")]).await;
    assert_eq!(worker(&t.app).deliver_due(Timestamp::now()).await.unwrap().delivered, 1);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let cut = Timestamp::now();
    tokio::time::sleep(Duration::from_millis(20)).await;
    // After T: a lead (its sync still pending) and an event without a lead.
    t.track_batch(ORIGIN, &a, vec![submission("new@example.com", "v3"), pageview()]).await;
    assert_eq!(seen_ids(&t).await, 6);
    let old_synced = lead_id(&t, &a, "old-synced@example.com").await;

    // Eight days after T only the seen ids of before T are forgotten, and the settled job.
    let report = sweep(&t.app, cut.plus_millis(8 * DAY_MS)).await.unwrap();
    assert_eq!(report, RetentionReport { leads: 0, events: 0, seen_ids: 4, jobs: 1 });
    assert_eq!(seen_ids(&t).await, 2);
    assert_eq!(items(&t, "/v1/events").await.len(), 6);

    // Ninety days after T, site A's cutoff is T: its three events from before T go (the
    // unsynced lead's among them), then that lead.
    let report = sweep(&t.app, cut.plus_millis(90 * DAY_MS)).await.unwrap();
    assert_eq!(report, RetentionReport { leads: 1, events: 3, seen_ids: 2, jobs: 0 });
    let leads_a: Vec<String> = items(&t, &format!("/v1/leads?clientId={a}"))
        .await
        .iter()
        .map(|l| l["email"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(leads_a, ["new@example.com", "old-synced@example.com"]);
    let events_a = items(&t, &format!("/v1/events?clientId={a}")).await;
    assert_eq!(events_a.len(), 2, "only the events after T: {events_a:?}");
    assert!(events_a.iter().all(|e| Timestamp::parse_rfc3339(e["createdAt"].as_str().unwrap()).unwrap() > cut));
    assert!(items(&t, &format!("/v1/events?leadId={old_synced}")).await.is_empty(), "a kept lead loses its old events");
    assert_eq!(items(&t, &format!("/v1/leads?clientId={b}")).await.len(), 1, "site B keeps a year");
    assert_eq!(items(&t, &format!("/v1/events?clientId={b}")).await.len(), 1);

    // Nothing left to do; the periodic entry point runs the same pass.
    assert_eq!(sweep(&t.app, cut.plus_millis(90 * DAY_MS)).await.unwrap(), RetentionReport::default());
    crm_tracker::crm::retention::run_once(&t.app, cut.plus_millis(90 * DAY_MS)).await;
    assert_eq!(items(&t, "/v1/leads").await.len(), 3);
    t.stop().await;
}

/// Events that hold the address without being a lead's (a shop sign-in, whose user name is
/// the email and which makes no lead; a server-side sender's metadata) are exported and
/// erased with the person's lead; another person's address that merely contains it is not.
#[tokio::test]
async fn export_and_erasure_reach_events_outside_the_lead() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    let sign_in = json!({"id": event_id(), "type": "form_submission", "visitorId": "v1",
        "page": "https://example.com/login", "fields": {"log": "Ada@Example.com", "rememberme": "forever"}});
    let mut visit = pageview();
    visit["metadata"] = json!({"note": "newsletter: ada@example.com."});
    let other = json!({"id": event_id(), "type": "form_submission", "visitorId": "v9",
        "page": "https://example.com/login", "fields": {"log": "nada@example.com", "rememberme": "forever"}});
    let r = t.track_batch(ORIGIN, &client, vec![sign_in, visit, other, submission("ada@example.com", "v1")]).await;
    assert_eq!(r.status(), 200);
    let id = lead_id(&t, &client, "ada@example.com").await;

    let export = t.get_json("/v1/gdpr/export?email=ada@example.com").await;
    let events = export["events"].as_array().unwrap();
    assert_eq!(events.len(), 3, "the lead's submission, the sign-in and the visit: {events:#?}");
    assert!(!export["events"].to_string().contains("nada@"), "another person's address");
    let mut ids: Vec<&str> = events.iter().map(|e| e["eventId"].as_str().unwrap()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 3, "each once");

    let r: Value = t.delete(&format!("/v1/leads/{id}/gdpr-delete")).send().await.unwrap().json().await.unwrap();
    assert_eq!(r["otherEventsDeleted"], 2, "{r}");
    let left = items(&t, &format!("/v1/events?clientId={client}")).await;
    let text = Value::Array(left.clone()).to_string().to_lowercase();
    assert!(!text.contains("\"ada@example.com") && !text.contains(" ada@example.com"), "{text}");
    assert_eq!(left.len(), 1, "only the other person's sign-in is left: {left:#?}");
    assert!(text.contains("nada@example.com"));
    let export = t.get_json("/v1/gdpr/export?email=ada@example.com").await;
    assert_eq!((export["leads"].clone(), export["events"].clone()), (json!([]), json!([])));
    t.stop().await;
}
