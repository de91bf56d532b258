//! CRM sync end to end: the real server, a worker driven step by step with an explicit
//! clock, and loopback stand-ins for Salesforce, HubSpot and a webhook receiver.

mod common;
#[path = "crm_fakes/mod.rs"]
mod fakes;

use common::*;
use crm_tracker::domain::time::Timestamp;
use fakes::*;
use serde_json::{Value, json};
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

async fn configure(t: &TestApp, client: &str, connectors: Vec<Value>) -> Value {
    let r = t.put(&format!("/v1/clients/{client}/crm")).json(&json!({"connectors": connectors})).send().await.unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

async fn lead_of(t: &TestApp, client: &str, email: &str) -> Value {
    let r = t.get("/v1/leads").query(&[("clientId", client), ("email", email)]).send().await.unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["items"].as_array().map(Vec::len), Some(1), "one lead for {email}: {v}");
    v["items"][0].clone()
}

async fn sync_of(t: &TestApp, lead: &Value) -> Value {
    t.get_json(&format!("/v1/leads/{}/sync", lead["leadId"].as_str().unwrap())).await
}

fn secs(n: i64) -> i64 {
    n * 1000
}

/// A configured form whose fields carry mappings; returns its id.
async fn mapped_form(t: &TestApp, client: &str, mappings: &[(&str, &str, Option<&str>, bool)]) -> String {
    let form: Value = t
        .post_json(&format!("/v1/clients/{client}/forms"), json!({"formName": "Quote", "formSelector": "#quote"}))
        .await;
    let form_id = form["formId"].as_str().unwrap().to_string();
    for (name, target, transform, required) in mappings {
        let field: Value = t.post_json(&format!("/v1/forms/{form_id}/fields"), json!({"fieldName": name})).await;
        let r = t
            .post(&format!("/v1/fields/{}/mapping", field["fieldId"].as_str().unwrap()))
            .json(&json!({"targetField": target, "transform": transform, "isRequired": required}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    form_id
}

fn form_submission(form_id: &str, visitor: &str, fields: Value) -> Value {
    json!({"id": event_id(), "type": "form_submission", "visitorId": visitor, "sessionId": "s1",
        "formId": form_id, "fields": fields})
}

#[tokio::test]
async fn webhook_delivery_is_signed_and_marks_the_lead_synced() {
    let t = spawn_app().await;
    let hook = Receiver::start().await;
    let (client, _) = t.create_site("example.com").await;
    let cfg = configure(&t, &client, vec![json!({"type": "webhook", "url": hook.url()})]).await;
    let secret = cfg["connectors"][0]["secret"].as_str().expect("a new secret is shown once").to_string();
    assert!(secret.starts_with("whsec_"));
    hook.set_secret(&secret);
    let shown = t.get_json(&format!("/v1/clients/{client}/crm")).await;
    assert_eq!(shown["connectors"][0]["secretSet"], true);
    assert!(!shown.to_string().contains(&secret), "shown only once: {shown}");

    assert_eq!(t.track_batch(ORIGIN, &client, vec![submission("ada@example.com", "v1")]).await.status(), 200);
    let lead = lead_of(&t, &client, "ada@example.com").await;
    assert_eq!(lead["syncStatus"], "pending");

    let worker = worker(&t.app);
    let step = worker.deliver_due(Timestamp::now()).await.unwrap();
    assert_eq!((step.picked, step.delivered), (1, 1));

    let messages = hook.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(hook.bad_signatures.load(SeqCst), 0);
    let (id, body) = &messages[0];
    assert_eq!(body["type"], "lead.upserted");
    assert_eq!(body["data"]["email"], "ada@example.com");
    assert_eq!(body["data"]["leadId"], lead["leadId"]);
    assert_eq!(
        (body["data"]["firstName"].as_str(), body["data"]["lastName"].as_str()),
        (Some("Ada"), Some("Lovelace"))
    );

    let sync = sync_of(&t, &lead).await;
    assert_eq!(sync["syncStatus"], "synced");
    assert!(sync["crmSyncedAt"].is_string() && sync["crmId"].is_null(), "{sync}");
    assert_eq!(sync["jobs"][0]["state"], "done");
    assert_eq!(&sync["jobs"][0]["idempotencyKey"], id, "webhook-id is the job's idempotency key");
    let attempt = &sync["attempts"][0];
    assert_eq!((attempt["connector"].as_str(), attempt["outcome"].as_str()), (Some("webhook"), Some("delivered")));
    assert_eq!(attempt["statusCode"], 200);

    // Nothing is sent twice.
    assert_eq!(worker.deliver_due(Timestamp::now()).await.unwrap().picked, 0);
    assert_eq!(hook.deliveries.load(SeqCst), 1);
    let metrics = t.get("/metrics").send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("crm_crm_deliveries_total 1"), "{metrics}");
    t.stop().await;
}

#[tokio::test]
async fn salesforce_lead_is_created_through_the_mappings_then_updated() {
    let t = spawn_app().await;
    let sf = Salesforce::start().await;
    let (client, _) = t.create_site("example.com").await;
    configure(&t, &client, vec![sf.connector()]).await;
    let form = mapped_form(
        &t,
        &client,
        &[
            ("input_1", "Name", Some("splitName"), false),
            ("input_2", "Email", Some("lowercase"), true),
            ("input_3", "Company", Some("uppercase"), false),
            ("input_4", "Budget__c", Some("uppercase"), false),
        ],
    )
    .await;
    // A partial capture, then the submission that upgrades it, before the worker runs.
    let partial = json!({"id": event_id(), "type": "form_interaction", "visitorId": "v1", "formId": form,
        "fieldName": "input_2", "fields": {"input_2": "GRACE@NAVY.MIL"}});
    let full = form_submission(
        &form,
        "v1",
        json!({"input_1": "Grace Brewster Hopper", "input_2": "GRACE@NAVY.MIL", "input_3": "navy", "input_4": "10k"}),
    );
    t.track_batch(ORIGIN, &client, vec![partial]).await;
    t.track_batch(ORIGIN, &client, vec![full]).await;

    let worker = worker(&t.app);
    let step = worker.deliver_due(Timestamp::now()).await.unwrap();
    assert_eq!((step.picked, step.delivered, step.skipped), (2, 1, 1), "the second job was covered by the first");
    assert_eq!(
        (sf.tokens_issued.load(SeqCst), sf.queries.load(SeqCst), sf.creates(), sf.updates.load(SeqCst)),
        (1, 1, 1, 0)
    );
    let (id, record) = sf.record_by_email("grace@navy.mil").expect("record");
    assert_eq!(record["FirstName"], "Grace");
    assert_eq!(record["LastName"], "Brewster Hopper");
    assert_eq!(record["Company"], "NAVY");
    assert_eq!(record["Budget__c"], "10K");
    assert_eq!(record["LeadSource"], "Web");
    let lead = lead_of(&t, &client, "grace@navy.mil").await;
    assert_eq!(lead["crmId"], id.as_str());
    assert_eq!(lead["syncStatus"], "synced");

    // An admin's correction reaches the same record.
    let r = t
        .put(&format!("/v1/leads/{}", lead["leadId"].as_str().unwrap()))
        .json(&json!({"company": "US Navy"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(worker.deliver_due(Timestamp::now()).await.unwrap().delivered, 1);
    assert_eq!((sf.creates(), sf.updates.load(SeqCst)), (1, 1));
    assert_eq!(sf.record_by_email("grace@navy.mil").unwrap().1["Company"], "US Navy");
    t.stop().await;
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff_and_retry_after_then_delivered() {
    logs();
    let t = spawn_app().await;
    let hs = Hubspot::start().await;
    hs.fail_next.lock().unwrap().extend([(503, None), (429, Some(120))]);
    let (client, _) = t.create_site("example.com").await;
    configure(&t, &client, vec![hs.connector()]).await;
    t.track_batch(ORIGIN, &client, vec![submission("retry@example.com", "v1")]).await;
    let lead = lead_of(&t, &client, "retry@example.com").await;
    let worker = worker(&t.app);

    let now = Timestamp::now();
    assert_eq!(worker.deliver_due(now).await.unwrap().retrying, 1);
    let sync = sync_of(&t, &lead).await;
    assert_eq!(sync["syncStatus"], "failed");
    assert_eq!(sync["jobs"][0]["attempts"], 1);
    assert_eq!(sync["jobs"][0]["state"], "pending");
    assert_eq!(
        (sync["attempts"][0]["statusCode"].as_u64(), sync["attempts"][0]["outcome"].as_str()),
        (Some(503), Some("retryable"))
    );
    let next = Timestamp::parse_rfc3339(sync["jobs"][0]["nextAttemptAt"].as_str().unwrap()).unwrap();
    assert!((now.millis() + 500..=now.millis() + 1000).contains(&next.millis()), "base 1 s with jitter");
    assert_eq!(worker.deliver_due(now).await.unwrap().picked, 0, "not due before its backoff");

    // 429 with Retry-After: 120 wins over the 2 s backoff.
    let later = now.plus_millis(secs(5));
    assert_eq!(worker.deliver_due(later).await.unwrap().retrying, 1);
    let sync = sync_of(&t, &lead).await;
    let next = Timestamp::parse_rfc3339(sync["jobs"][0]["nextAttemptAt"].as_str().unwrap()).unwrap();
    assert!(next.millis() >= later.millis() + secs(120), "{sync}");
    assert_eq!(worker.deliver_due(later.plus_millis(secs(60))).await.unwrap().picked, 0);

    assert_eq!(worker.deliver_due(later.plus_millis(secs(121))).await.unwrap().delivered, 1);
    let sync = sync_of(&t, &lead).await;
    assert_eq!(sync["syncStatus"], "synced");
    let (contact_id, _) = hs.by_email("retry@example.com").expect("contact");
    assert_eq!(sync["crmId"], contact_id.to_string());
    let outcomes: Vec<&str> =
        sync["attempts"].as_array().unwrap().iter().map(|a| a["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["retryable", "retryable", "delivered"]);
    assert_eq!(hs.creates.load(SeqCst), 1);
    t.stop().await;
}

#[tokio::test]
async fn retries_give_up_after_the_attempt_limit() {
    let t = spawn_app().await;
    let hook = Receiver::start().await;
    let (client, _) = t.create_site("example.com").await;
    let cfg = configure(&t, &client, vec![json!({"type": "webhook", "url": hook.url()})]).await;
    hook.set_secret(cfg["connectors"][0]["secret"].as_str().unwrap());
    hook.respond.lock().unwrap().extend([500, 502, 503, 504, 500]);
    t.track_batch(ORIGIN, &client, vec![submission("down@example.com", "v1")]).await;
    let worker = worker(&t.app);
    let mut now = Timestamp::now();
    for _ in 0..3 {
        assert_eq!(worker.deliver_due(now).await.unwrap().retrying, 1);
        now = now.plus_millis(secs(3600));
    }
    assert_eq!(worker.deliver_due(now).await.unwrap().dead_lettered, 1, "fast_settings allow 4 attempts");
    let sync = sync_of(&t, &lead_of(&t, &client, "down@example.com").await).await;
    assert_eq!(sync["syncStatus"], "dead_letter");
    assert!(sync["jobs"][0]["lastError"].as_str().unwrap().contains("gave up after 4 attempts"), "{sync}");
    t.stop().await;
}

/// A site syncing to HubSpot through a mapping to a property HubSpot does not have (so it
/// refuses every delivery with a 400), and the lead of one submission with `fields`.
async fn lead_hubspot_refuses(fields: Value) -> (TestApp, std::sync::Arc<Hubspot>, String, Value) {
    let t = spawn_app().await;
    let hs = Hubspot::start().await;
    let (client, _) = t.create_site("example.com").await;
    configure(&t, &client, vec![hs.connector()]).await;
    let form = mapped_form(&t, &client, &[("budget", "budget_range", None, false)]).await;
    let email = fields["email"].as_str().unwrap().to_string();
    t.track_batch(ORIGIN, &client, vec![form_submission(&form, "v1", fields)]).await;
    let lead = lead_of(&t, &client, &email).await;
    (t, hs, client, lead)
}

#[tokio::test]
async fn client_errors_dead_letter_at_once_and_replay_delivers() {
    let (t, hs, client, lead) =
        lead_hubspot_refuses(json!({"email": "dl@example.com", "name": "Dee Ell", "budget": "5-10k"})).await;
    let worker = worker(&t.app);

    assert_eq!(worker.deliver_due(Timestamp::now()).await.unwrap().dead_lettered, 1);
    let sync = sync_of(&t, &lead).await;
    assert_eq!(sync["syncStatus"], "dead_letter");
    assert_eq!(sync["jobs"][0]["state"], "dead_letter");
    assert_eq!(sync["jobs"][0]["attempts"], 1, "a 400 is not retried");
    let error = sync["jobs"][0]["lastError"].as_str().unwrap();
    assert!(error.starts_with("hubspot: update by email: HTTP 400 VALIDATION_ERROR"), "{error}");
    assert!(error.contains(r#"budget_range\" does not exist"#), "{error}");
    assert_eq!(
        (sync["attempts"][0]["statusCode"].as_u64(), sync["attempts"][0]["outcome"].as_str()),
        (Some(400), Some("rejected"))
    );
    let dead = t.get_json(&format!("/v1/crm/dead-letters?clientId={client}")).await;
    assert_eq!(dead["items"].as_array().unwrap().len(), 1);
    let job_id = dead["items"][0]["jobId"].as_str().unwrap().to_string();
    assert_eq!(worker.deliver_due(Timestamp::now().plus_millis(secs(86_400))).await.unwrap().picked, 0);

    // The agency creates the property in HubSpot, then replays.
    hs.properties.lock().unwrap().insert("budget_range".into());
    let r: Value = t
        .post(&format!("/v1/leads/{}/sync/replay", lead["leadId"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["replayed"], 1);
    assert_eq!(lead_of(&t, &client, "dl@example.com").await["syncStatus"], "pending");
    assert_eq!(worker.deliver_due(Timestamp::now()).await.unwrap().delivered, 1);
    let (_, contact) = hs.by_email("dl@example.com").unwrap();
    assert_eq!(contact["budget_range"], "5-10k");
    assert_eq!(sync_of(&t, &lead).await["syncStatus"], "synced");
    assert!(t.get_json("/v1/crm/dead-letters").await["items"].as_array().unwrap().is_empty());

    let r = t.post(&format!("/v1/crm/jobs/{job_id}/replay")).send().await.unwrap();
    assert_eq!(r.status(), 409, "only dead-lettered jobs are replayed");
    let r = t.post(&format!("/v1/crm/jobs/{}/replay", uuid::Uuid::now_v7())).send().await.unwrap();
    assert_eq!(r.status(), 404);
    t.stop().await;
}

/// Dead letters are listed newest first, a page at a time: the cursor of one page leads to
/// the next, until none follows.
#[tokio::test]
async fn dead_letters_are_paged_newest_first() {
    let (t, _hs, client, first) = lead_hubspot_refuses(json!({"email": "p1@example.com", "budget": "1"})).await;
    let form = first["formId"].as_str().unwrap().to_string();
    for (email, visitor) in [("p2@example.com", "v2"), ("p3@example.com", "v3")] {
        let event = form_submission(&form, visitor, json!({"email": email, "budget": "1"}));
        assert_eq!(t.track_batch(ORIGIN, &client, vec![event]).await.status(), 200);
    }
    assert_eq!(worker(&t.app).deliver_due(Timestamp::now()).await.unwrap().dead_lettered, 3);

    let mut emails = Vec::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let page = t.get_json(&format!("/v1/crm/dead-letters?clientId={client}&limit=2&cursor={cursor}")).await;
        pages += 1;
        for job in page["items"].as_array().unwrap() {
            emails.push(t.get_json(&format!("/v1/leads/{}", job["leadId"].as_str().unwrap())).await["email"].clone());
        }
        match page["nextCursor"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => break,
        }
    }
    assert_eq!(pages, 2);
    assert_eq!(emails, [json!("p3@example.com"), json!("p2@example.com"), json!("p1@example.com")]);
    let r = t.get("/v1/crm/dead-letters?cursor=not-an-id").send().await.unwrap();
    assert_eq!(r.status(), 400);
    t.stop().await;
}

/// Several edits of a lead while its CRM refuses are one pending update (of the lead as it
/// is now), not one dead letter each; deleting the lead clears what it left in the dead
/// letters (a replay would only find the lead gone).
#[tokio::test]
async fn edits_are_one_update_and_a_deleted_lead_leaves_no_dead_letters() {
    let (t, _hs, _client, lead) = lead_hubspot_refuses(json!({"email": "edit@example.com", "budget": "5-10k"})).await;
    let id = lead["leadId"].as_str().unwrap().to_string();
    let worker = worker(&t.app);
    assert_eq!(worker.deliver_due(Timestamp::now()).await.unwrap().dead_lettered, 1, "no budget_range property");
    for name in ["A", "B", "C"] {
        let r = t.put(&format!("/v1/leads/{id}")).json(&json!({"name": name})).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let pending: Vec<Value> =
        sync_of(&t, &lead).await["jobs"].as_array().unwrap().iter().filter(|j| j["state"] != "done").cloned().collect();
    assert_eq!(pending.len(), 1, "one update carries the last edit: {pending:#?}");
    assert_eq!(pending[0]["state"], "pending");
    assert!(t.get_json("/v1/crm/dead-letters").await["items"].as_array().unwrap().is_empty());
    assert_eq!(worker.deliver_due(Timestamp::now()).await.unwrap().dead_lettered, 1);
    assert_eq!(t.get_json("/v1/crm/dead-letters").await["items"].as_array().unwrap().len(), 1);

    let r = t.delete(&format!("/v1/leads/{id}")).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert!(t.get_json("/v1/crm/dead-letters").await["items"].as_array().unwrap().is_empty());
    t.stop().await;
}

#[tokio::test]
async fn expired_salesforce_session_is_refreshed_once() {
    let t = spawn_app().await;
    let sf = Salesforce::start().await;
    let (client, _) = t.create_site("example.com").await;
    configure(&t, &client, vec![sf.connector()]).await;
    let worker = worker(&t.app);
    t.track_batch(ORIGIN, &client, vec![submission("first@example.com", "v1")]).await;
    assert_eq!(worker.deliver_due(Timestamp::now()).await.unwrap().delivered, 1);
    assert_eq!(sf.tokens_issued.load(SeqCst), 1);

    sf.expire_session.store(true, SeqCst);
    t.track_batch(ORIGIN, &client, vec![submission("second@example.com", "v2")]).await;
    assert_eq!(worker.deliver_due(Timestamp::now()).await.unwrap().delivered, 1);
    assert_eq!(sf.tokens_issued.load(SeqCst), 2, "one new token");
    assert_eq!(sf.creates(), 2);
    let sync = sync_of(&t, &lead_of(&t, &client, "second@example.com").await).await;
    assert_eq!(sync["attempts"].as_array().unwrap().len(), 1, "refreshed within the same attempt: {sync}");
    assert_eq!(sync["crmId"], sf.record_by_email("second@example.com").unwrap().0.as_str());
    t.stop().await;
}

#[tokio::test]
async fn a_restart_mid_delivery_creates_each_lead_once() {
    let t = spawn_app().await;
    let sf = Salesforce::start().await;
    let (client, _) = t.create_site("example.com").await;
    configure(&t, &client, vec![sf.connector()]).await;
    t.track_batch(ORIGIN, &client, vec![submission("one@example.com", "v1")]).await;
    assert_eq!(worker(&t.app).deliver_due(Timestamp::now()).await.unwrap().delivered, 1);

    t.track_batch(ORIGIN, &client, vec![submission("two@example.com", "v2"), submission("three@example.com", "v3")])
        .await;
    // Salesforce makes the record for "two", but the process dies before hearing back.
    sf.hang_next_create.store(true, SeqCst);
    let w = worker(&t.app);
    let in_flight = tokio::spawn(async move { w.deliver_due(Timestamp::now()).await });
    tokio::time::timeout(Duration::from_secs(5), sf.create_hung.notified()).await.expect("create reached Salesforce");
    in_flight.abort();
    let _ = in_flight.await;
    assert_eq!(sf.creates(), 2);
    let two = lead_of(&t, &client, "two@example.com").await;
    assert!(two["crmId"].is_null() && two["syncStatus"] == "pending", "{two}");

    let config = crm_tracker::config::ServeConfig::for_tests(t.data.clone());
    let dir = t.stop().await;
    let mut t = spawn_with(config).await;
    t.dir = dir;
    let step = worker(&t.app).deliver_due(Timestamp::now()).await.unwrap();
    assert_eq!((step.picked, step.delivered), (2, 2));
    assert_eq!(sf.creates(), 3, "one record per lead");
    assert_eq!(sf.updates.load(SeqCst), 1, "the interrupted one was found and updated");
    assert_eq!(sf.records.lock().unwrap().len(), 3);
    for email in ["one@example.com", "two@example.com", "three@example.com"] {
        let lead = lead_of(&t, &client, email).await;
        assert_eq!(lead["crmId"], sf.record_by_email(email).unwrap().0.as_str(), "{email}");
        assert_eq!(lead["syncStatus"], "synced");
    }
    assert_eq!(worker(&t.app).deliver_due(Timestamp::now()).await.unwrap().picked, 0);
    t.stop().await;
}

#[tokio::test]
async fn dry_run_shows_each_payload_and_sends_nothing() {
    let t = spawn_app().await;
    let sf = Salesforce::start().await;
    let hook = Receiver::start().await;
    let (client, _) = t.create_site("example.com").await;
    let cfg =
        configure(&t, &client, vec![sf.connector(), json!({"type": "webhook", "name": "zapier", "url": hook.url()})])
            .await;
    hook.set_secret(cfg["connectors"][1]["secret"].as_str().unwrap());
    let form = mapped_form(&t, &client, &[("company", "Company", None, true)]).await;
    let with = form_submission(&form, "v1", json!({"email": "with@example.com", "name": "Wi Th", "company": "Acme"}));
    let without = form_submission(&form, "v2", json!({"email": "without@example.com", "name": "Wi Thout"}));
    t.track_batch(ORIGIN, &client, vec![with]).await;
    t.track_batch(ORIGIN, &client, vec![without]).await;

    let dry = t.get_json(&format!("/v1/clients/{client}/crm/dry-run?limit=5")).await;
    assert_eq!(dry["dryRun"], true);
    let items = dry["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["email"], "without@example.com", "newest first");
    assert_eq!(items[0]["connectors"][0]["wouldDeadLetter"], true);
    assert!(items[0]["connectors"][0]["error"].as_str().unwrap().contains("Company"));

    let sf_plan = &items[1]["connectors"][0];
    assert_eq!(sf_plan["connector"], "salesforce");
    let requests = sf_plan["requests"].as_array().unwrap();
    let create = requests
        .iter()
        .find(|r| r["method"] == "POST" && r["url"].as_str().unwrap().ends_with("/sobjects/Lead/"))
        .unwrap();
    assert_eq!(create["body"]["Company"], "Acme");
    assert_eq!(create["body"]["LastName"], "Th");
    assert!(
        requests
            .iter()
            .any(|r| r["method"] == "GET" && r["query"]["q"].as_str().unwrap().contains("Email = 'with@example.com'"))
    );
    let hook_plan = &items[1]["connectors"][1]["requests"][0];
    assert_eq!((hook_plan["method"].as_str(), hook_plan["url"].as_str()), (Some("POST"), Some(hook.url().as_str())));
    assert_eq!(hook_plan["body"]["type"], "lead.upserted");
    assert_eq!(hook_plan["body"]["data"]["company"], "Acme");

    assert_eq!(sf.calls(), 0, "the dry run sent nothing to Salesforce");
    assert_eq!(hook.deliveries.load(SeqCst), 0, "nor to the webhook");
    let r = t.get(&format!("/v1/clients/{client}/crm/dry-run?limit=0")).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"], "limit");

    // The real run does what the dry run said: one lead sent, one dead-lettered.
    let step = worker(&t.app).deliver_due(Timestamp::now()).await.unwrap();
    assert_eq!((step.delivered, step.dead_lettered), (1, 1));
    let sync = sync_of(&t, &lead_of(&t, &client, "without@example.com").await).await;
    assert_eq!(sync["attempts"][0]["connector"], "mapping");
    assert!(sync["jobs"][0]["lastError"].as_str().unwrap().contains("required"));
    assert_eq!(sf.creates(), 1);
    assert_eq!(hook.messages().len(), 1);
    t.stop().await;
}

#[tokio::test]
async fn secrets_never_appear_in_api_answers() {
    let t = spawn_app().await;
    let sf = Salesforce::start().await;
    let hook = Receiver::start().await;
    sf.echo_token_in_errors.store(true, SeqCst);
    let (client, _) = t.create_site("example.com").await;
    let whsec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let put =
        configure(&t, &client, vec![sf.connector(), json!({"type": "webhook", "url": hook.url(), "secret": whsec})])
            .await;
    hook.set_secret(whsec);
    assert_eq!(put["connectors"][0]["clientSecretSet"], true);
    assert!(put["connectors"][1]["secret"].is_null(), "a secret that was given is not echoed");

    t.track_batch(ORIGIN, &client, vec![submission("s@example.com", "v1")]).await;
    assert_eq!(worker(&t.app).deliver_due(Timestamp::now()).await.unwrap().dead_lettered, 1);
    let lead = lead_of(&t, &client, "s@example.com").await;
    let lead_id = lead["leadId"].as_str().unwrap();
    let sync = sync_of(&t, &lead).await;
    let sf_attempt =
        sync["attempts"].as_array().unwrap().iter().find(|a| a["connector"] == "salesforce").unwrap().clone();
    assert!(sf_attempt["excerpt"].as_str().unwrap().contains("[redacted]"), "{sf_attempt}");
    assert!(sf_attempt["excerpt"].as_str().unwrap().chars().count() <= 200);

    let mut answers = vec![put.to_string(), sync.to_string()];
    for path in [
        format!("/v1/clients/{client}/crm"),
        format!("/v1/clients/{client}"),
        "/v1/clients".to_string(),
        format!("/v1/clients/{client}/crm/dry-run"),
        format!("/v1/leads/{lead_id}"),
        "/v1/crm/dead-letters".to_string(),
        "/v1/gdpr/export?email=s@example.com".to_string(),
    ] {
        answers.push(t.get_json(&path).await.to_string());
    }
    let access_token = "00Dxx0000001gPL!AR8AQ.token-1";
    for answer in &answers {
        for secret in [SF_CLIENT_SECRET, whsec, access_token, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"] {
            assert!(!answer.contains(secret), "{secret} leaked in {answer}");
        }
    }
    assert!(answers[2].contains("\"clientSecretSet\":true") && answers[3].contains("\"secretSet\":true"));

    // Sending the view back keeps the stored secrets; bad settings name the field.
    let view = t.get_json(&format!("/v1/clients/{client}/crm")).await;
    let r = t.put(&format!("/v1/clients/{client}/crm")).json(&view).send().await.unwrap();
    assert_eq!(r.status(), 200);
    sf.echo_token_in_errors.store(false, SeqCst);
    t.post(&format!("/v1/leads/{lead_id}/sync/replay")).send().await.unwrap();
    assert_eq!(worker(&t.app).deliver_due(Timestamp::now()).await.unwrap().delivered, 1, "secrets still work");
    assert_eq!(hook.deliveries.load(SeqCst), 1, "the webhook that took it first is not sent it again");
    for (body, field) in [
        (
            json!({"connectors": [{"type": "salesforce", "clientId": "x", "loginUrl": sf.url(), "name": "other"}]}),
            "connectors[0].clientSecret",
        ),
        (json!({"connectors": [{"type": "webhook", "url": "not a url"}]}), "connectors[0].url"),
        (json!({"connectors": [{"type": "webhook", "url": "https://x.io", "token": "t"}]}), "connectors[0].token"),
    ] {
        let r = t.put(&format!("/v1/clients/{client}/crm")).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 400, "{body}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["field"], field, "{v}");
    }
    t.stop().await;
}

#[tokio::test]
async fn the_spawned_worker_delivers_on_commit_and_stops_on_signal() {
    let t = spawn_app().await;
    let hook = Receiver::start().await;
    let (client, _) = t.create_site("example.com").await;
    let cfg = configure(&t, &client, vec![json!({"type": "webhook", "url": hook.url()})]).await;
    hook.set_secret(cfg["connectors"][0]["secret"].as_str().unwrap());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut settings = fast_settings();
    settings.idle_poll = Duration::from_secs(30);
    let handles = crm_tracker::crm::worker::spawn_with(t.app.clone(), stopped, settings);

    t.track_batch(ORIGIN, &client, vec![submission("loop@example.com", "v1")]).await;
    // Woken by the commit, not by the (30 s) poll.
    tokio::time::timeout(Duration::from_secs(5), async {
        while hook.messages().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("delivered by the running worker");
    let lead = lead_of(&t, &client, "loop@example.com").await;
    tokio::time::timeout(Duration::from_secs(5), async {
        while sync_of(&t, &lead).await["syncStatus"] != "synced" {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("settled");

    stop.send(true).unwrap();
    for h in handles {
        tokio::time::timeout(Duration::from_secs(2), h).await.expect("worker stops").unwrap();
    }
    t.stop().await;
}

/// One lead from the form to Salesforce, through a failure and its retry. Run with
/// `cargo test --test crm_sync journey -- --nocapture` to read it with the server's log.
#[tokio::test]
async fn journey_of_a_lead_from_form_to_salesforce() {
    logs();
    let t = spawn_app().await;
    let sf = Salesforce::start().await;
    let (client, _) = t.create_site("example.com").await;
    configure(&t, &client, vec![sf.connector()]).await;
    sf.fail_creates.lock().unwrap().push_back(503);

    let r = t.track_batch(ORIGIN, &client, vec![submission("journey@example.com", "v1")]).await;
    println!("1. POST /v1/track/batch -> {} {}", r.status(), r.text().await.unwrap());
    let lead = lead_of(&t, &client, "journey@example.com").await;
    let sync = sync_of(&t, &lead).await;
    println!("2. lead {} syncStatus={} job={}", lead["leadId"], sync["syncStatus"], sync["jobs"][0]);

    let worker = worker(&t.app);
    let now = Timestamp::now();
    let step = worker.deliver_due(now).await.unwrap();
    let sync = sync_of(&t, &lead).await;
    println!("3. worker step: {step:?}");
    println!("   attempt: {}", sync["attempts"][0]);
    println!(
        "   job: state={} attempts={} nextAttemptAt={}",
        sync["jobs"][0]["state"], sync["jobs"][0]["attempts"], sync["jobs"][0]["nextAttemptAt"]
    );
    assert_eq!(step.retrying, 1);

    let next = Timestamp::parse_rfc3339(sync["jobs"][0]["nextAttemptAt"].as_str().unwrap()).unwrap();
    let step = worker.deliver_due(next).await.unwrap();
    let sync = sync_of(&t, &lead).await;
    println!("4. worker step at nextAttemptAt: {step:?}");
    println!("   attempt: {}", sync["attempts"][1]);
    println!("5. lead syncStatus={} crmId={} crmSyncedAt={}", sync["syncStatus"], sync["crmId"], sync["crmSyncedAt"]);
    let (id, record) = sf.record_by_email("journey@example.com").unwrap();
    println!("6. Salesforce Lead {id}: {}", Value::Object(record));
    assert_eq!(sync["crmId"], id.as_str());
    assert_eq!(sf.creates(), 1);
    t.stop().await;
}
