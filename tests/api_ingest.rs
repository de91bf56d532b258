//! Ingest over real HTTP: the contract, limits, dedup, origin rules and lead rules.

mod common;

use common::*;
use serde_json::{Value, json};

async fn leads(t: &TestApp, client: &str) -> Vec<Value> {
    t.get_json(&format!("/v1/leads?clientId={client}")).await["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_submission_becomes_a_lead_and_an_event() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    let r = t.track_batch(ORIGIN, &client, vec![submission("Ada@Example.com ", "v1")]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], ORIGIN);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body, json!({"success": true, "accepted": 1, "duplicates": 0}));

    let leads = leads(&t, &client).await;
    assert_eq!(leads.len(), 1);
    let lead = &leads[0];
    assert_eq!(lead["email"], "ada@example.com");
    assert_eq!(lead["status"], "submitted");
    assert_eq!(lead["quality"], "high");
    assert_eq!(lead["firstName"], "Ada");
    assert_eq!(lead["lastName"], "Lovelace");
    assert_eq!(lead["phone"], "+1-555-0123");
    assert_eq!(lead["metadata"]["attribution"]["utm_source"], "news");
    assert_eq!(lead["metadata"]["page"]["path"], "/contact");
    assert!(lead["submittedAt"].is_string());

    let events = t.get_json(&format!("/v1/events?leadId={}", lead["leadId"].as_str().unwrap())).await;
    assert_eq!(events["items"].as_array().unwrap().len(), 1);
    assert_eq!(events["items"][0]["eventType"], "form_submission");
    t.stop().await;
}

#[tokio::test]
async fn single_event_endpoint_and_server_key() {
    let t = spawn_app().await;
    let (client, secret) = t.create_site("example.com").await;
    let mut e = submission("a@b.co", "v1");
    e["clientId"] = json!(client);
    let r = t.http.post(t.url("/v1/track")).header("Origin", ORIGIN).json(&e).send().await.unwrap();
    assert_eq!(r.status(), 200);

    // Server-to-server: X-API-Key, no Origin, clientId optional.
    let r = t
        .http
        .post(t.url("/v1/track/batch"))
        .header("X-API-Key", &secret)
        .json(&json!({"events": [submission("b@b.co", "v2")]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = t
        .http
        .post(t.url("/v1/track/batch"))
        .header("X-API-Key", "sk_wrong")
        .json(&json!({"events": [submission("c@b.co", "v3")]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // The challenge names the key's header, not the admin API's Bearer scheme.
    assert_eq!(r.headers()["www-authenticate"], "ApiKey realm=\"crm-tracker\", header=\"X-API-Key\"");
    // An admin token in the wrong header is named as such.
    let r = t
        .http
        .post(t.url("/v1/track/batch"))
        .header("X-API-Key", "crm_not_a_site_key")
        .json(&json!({"events": [submission("c@b.co", "v3")]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("admin token"));
    assert_eq!(leads(&t, &client).await.len(), 2);
    t.stop().await;
}

#[tokio::test]
async fn a_retried_batch_is_not_duplicated() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    let batch = vec![
        submission("a@b.co", "v1"),
        interaction("c@d.co", "v2"),
        json!({"id": event_id(), "type": "tracker_initialized"}),
    ];
    let first: Value = t.track_batch(ORIGIN, &client, batch.clone()).await.json().await.unwrap();
    assert_eq!(first["accepted"], 3);
    let again: Value = t.track_batch(ORIGIN, &client, batch).await.json().await.unwrap();
    assert_eq!(again, json!({"success": true, "accepted": 0, "duplicates": 3}));
    // A repeat inside one batch is a duplicate too.
    let e = submission("x@y.co", "v9");
    let same: Value = t.track_batch(ORIGIN, &client, vec![e.clone(), e]).await.json().await.unwrap();
    assert_eq!((same["accepted"].as_u64(), same["duplicates"].as_u64()), (Some(1), Some(1)));
    let events = t.get_json(&format!("/v1/events?clientId={client}")).await;
    assert_eq!(events["items"].as_array().unwrap().len(), 4);
    assert_eq!(leads(&t, &client).await.len(), 3);
    t.stop().await;
}

#[tokio::test]
async fn partial_lead_is_upgraded_in_place_and_dedup_rules_hold() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    t.track_batch(ORIGIN, &client, vec![interaction("ada@example.com", "v1")]).await;
    let partial = leads(&t, &client).await;
    assert_eq!(partial.len(), 1);
    assert_eq!((partial[0]["status"].as_str(), partial[0]["quality"].as_str()), (Some("partial"), Some("medium")));
    let id = partial[0]["leadId"].clone();

    t.track_batch(ORIGIN, &client, vec![submission("ada@example.com", "v1")]).await;
    let upgraded = leads(&t, &client).await;
    assert_eq!(upgraded.len(), 1, "same client + email + visitor updates the lead");
    assert_eq!(upgraded[0]["leadId"], id);
    assert_eq!((upgraded[0]["status"].as_str(), upgraded[0]["quality"].as_str()), (Some("submitted"), Some("high")));
    assert_eq!(upgraded[0]["message"], "Interested");
    let events = t.get_json(&format!("/v1/events?leadId={}", id.as_str().unwrap())).await;
    assert_eq!(events["items"].as_array().unwrap().len(), 2);

    // Another visitor with the same email is another lead; no email, no lead.
    t.track_batch(ORIGIN, &client, vec![submission("ada@example.com", "v2")]).await;
    let no_email = json!({"id": event_id(), "type": "form_interaction", "visitorId": "v3", "fields": {"name": "Bob"}});
    t.track_batch(ORIGIN, &client, vec![no_email]).await;
    assert_eq!(leads(&t, &client).await.len(), 2);
    t.stop().await;
}

/// With partial capture off, an interaction makes no lead and changes none, whoever sends
/// it (a script cached from before the change, a server); the event is still stored.
#[tokio::test]
async fn partial_capture_off_makes_and_changes_no_lead() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    let _: Value = t.put_json(&format!("/v1/clients/{client}"), json!({"config": {"partialCapture": false}})).await;
    let r = t.track_batch(ORIGIN, &client, vec![interaction("ada@example.com", "v1")]).await;
    assert_eq!(r.status(), 200);
    assert!(leads(&t, &client).await.is_empty());
    let events = t.get_json(&format!("/v1/events?clientId={client}")).await;
    assert_eq!(events["items"].as_array().unwrap().len(), 1, "{events}");

    t.track_batch(ORIGIN, &client, vec![submission("ada@example.com", "v1")]).await;
    let mut late = interaction("ada@example.com", "v1");
    late["fields"]["company"] = json!("Engines Ltd");
    t.track_batch(ORIGIN, &client, vec![late]).await;
    let all = leads(&t, &client).await;
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(all[0]["status"], "submitted");
    assert!(all[0]["company"].is_null(), "{:#}", all[0]);
    t.stop().await;
}

/// A mistyped email corrected before sending, and a submission the page's own checks
/// refused before the fixed one: each is one lead, with the address that was finally sent.
/// A second person sent through the same form afterwards is a lead of their own.
#[tokio::test]
async fn a_corrected_email_and_a_refused_first_try_are_one_lead() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    // On the same page and by the same clock, as a browser sends them (every tracker event
    // carries its page and time; an event older than the lead's last one fills gaps only).
    let mut typo = interaction("tina@exmaple.com", "v1");
    typo["page"] = submission("x", "v1")["page"].clone();
    typo["timestamp"] = json!("2025-10-22T10:30:00.000Z");
    t.track_batch(ORIGIN, &client, vec![typo]).await;
    t.track_batch(ORIGIN, &client, vec![submission("tina@example.com", "v1")]).await;
    let all = leads(&t, &client).await;
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!((all[0]["email"].as_str(), all[0]["status"].as_str()), (Some("tina@example.com"), Some("submitted")));
    // Found by its new address, not by the typo.
    let by_typo = t.get_json(&format!("/v1/leads?clientId={client}&email=tina@exmaple.com")).await;
    assert!(by_typo["items"].as_array().unwrap().is_empty(), "{by_typo}");

    let mut refused = submission("x", "v2");
    refused["fields"] = json!({"email": "tim.typo@exmaple", "name": "Ada Lovelace"});
    t.track_batch(ORIGIN, &client, vec![refused]).await;
    assert_eq!(leads(&t, &client).await.len(), 2);
    t.track_batch(ORIGIN, &client, vec![submission("tim@example.com", "v2")]).await;
    let all = leads(&t, &client).await;
    assert_eq!(all.len(), 2, "{all:#?}");
    let tim = all.iter().find(|l| l["visitorId"] == "v2").unwrap();
    assert_eq!(tim["email"], "tim@example.com");
    assert!(!tim["qualityReasons"].as_array().unwrap().iter().any(|r| r == "no_contact_data"), "{tim:#}");

    t.track_batch(ORIGIN, &client, vec![submission("colleague@example.com", "v2")]).await;
    assert_eq!(leads(&t, &client).await.len(), 3, "a submitted lead with an email is closed");
    // Two people at one browser: the second one's address is not a typo of the first's.
    let mut first = interaction("pam@example.com", "v3");
    first["page"] = submission("x", "v3")["page"].clone();
    t.track_batch(ORIGIN, &client, vec![first, submission("nav@example.com", "v3")]).await;
    assert_eq!(leads(&t, &client).await.len(), 5);
    t.stop().await;
}

#[tokio::test]
async fn sensitive_values_never_reach_the_data_file() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    let e = json!({
        "id": event_id(), "type": "form_submission", "visitorId": "v1",
        "fields": {"email": "a@b.co", "password": "hunter2-secret", "card_number": "4111 1111 1111 1111",
                   "notes": "my card is 5500005555555559", "ssn_field": "123-45-6789", "cvv": "737",
                   "comment": "SSN 078-05-1120 thanks"},
        "fieldName": "password", "fieldValue": "hunter2-secret"
    });
    assert_eq!(t.track_batch(ORIGIN, &client, vec![e]).await.status(), 200);
    let lead = &leads(&t, &client).await[0];
    assert_eq!(lead["fields"]["notes"], "[REDACTED]");
    assert_eq!(lead["fields"]["comment"], "[REDACTED]");
    assert!(lead["fields"].get("password").is_none() && lead["fields"].get("cvv").is_none());
    let dir = t.stop().await.unwrap();
    let bytes = std::fs::read(dir.path().join("data.redb")).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    for secret in ["hunter2-secret", "4111 1111 1111 1111", "5500005555555559", "123-45-6789", "078-05-1120"] {
        assert!(!text.contains(secret), "{secret} found in the data file");
    }
}

#[tokio::test]
async fn numbers_lists_odd_separators_and_other_spellings_are_redacted_but_phones_and_orders_kept() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    let e = json!({
        "id": event_id(), "type": "form_submission", "visitorId": "v1",
        "fields": {"email": "a@b.co", "phone": "+49 151 23456787", "message": "Order PO123456",
                   "note": 4111111111111111u64, "amex": [378282246310005u64], "parts": ["5500", "0055", "5555", "5559"],
                   "dotted": "6011.1111.1111.1117", "comment": "SSN 078 05 1120", "user_pass": "hunter2-secret",
                   "Kennwort": "kennwort-secret", "3530111333300000": "as a name"},
        "fieldName": "cardnum", "fieldValue": "6200000000000005"
    });
    assert_eq!(t.track_batch(ORIGIN, &client, vec![e]).await.status(), 200);
    let lead = &leads(&t, &client).await[0];
    assert_eq!(lead["phone"], "+49 151 23456787");
    assert_eq!(lead["fields"]["message"], "Order PO123456");
    for key in ["note", "parts", "dotted", "comment"] {
        assert_eq!(lead["fields"][key], "[REDACTED]", "{key}");
    }
    for key in ["user_pass", "Kennwort", "cardnum", "3530111333300000"] {
        assert!(lead["fields"].get(key).is_none(), "{key}");
    }
    let events = t.get_json(&format!("/v1/events?clientId={client}")).await;
    let served = format!("{lead} {events}");
    let secrets = [
        "4111111111111111",
        "378282246310005",
        "6011.1111",
        "078 05 1120",
        "hunter2-secret",
        "kennwort-secret",
        "3530111333300000",
        "6200000000000005",
    ];
    // The card split over four inputs: four digits alone also occur in random ids, so each part
    // is looked for as a whole value (a JSON string, or a MessagePack string of four bytes).
    let parts = ["5500", "0055", "5555", "5559"];
    for secret in secrets {
        assert!(!served.contains(secret), "{secret} served: {served}");
    }
    for part in parts {
        assert!(!served.contains(&format!("\"{part}\"")), "{part} served: {served}");
    }
    let dir = t.stop().await.unwrap();
    let bytes = std::fs::read(dir.path().join("data.redb")).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    for secret in secrets {
        assert!(!text.contains(secret), "{secret} found in the data file");
    }
    for part in parts {
        let packed = [&[0xa4u8][..], part.as_bytes()].concat();
        assert!(!text.contains(&format!("\"{part}\"")), "{part} found in the data file");
        assert!(!bytes.windows(5).any(|w| w == packed), "{part} found in the data file");
    }
    // MessagePack stores numbers as binary.
    for number in [4111111111111111u64, 378282246310005] {
        assert!(!bytes.windows(8).any(|w| w == number.to_be_bytes()), "{number} found in the data file");
    }
}

#[tokio::test]
async fn quality_reasons_are_stored() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    let r = t
        .put(&format!("/v1/clients/{client}"))
        .json(&json!({"config": {"honeypotField": "website"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let e = json!({
        "id": event_id(), "type": "form_submission", "visitorId": "v1",
        "timestamp": "2025-10-22T10:00:01.000Z", "formStartedAt": "2025-10-22T10:00:00.200Z",
        "fields": {"email": "bot@mailinator.com", "website": "http://spam.example"}
    });
    t.track_batch(ORIGIN, &client, vec![e]).await;
    let lead = &leads(&t, &client).await[0];
    assert_eq!(lead["quality"], "low");
    assert_eq!(lead["qualityReasons"], json!(["honeypot_filled", "submitted_too_fast", "disposable_email"]));
    t.stop().await;
}

#[tokio::test]
async fn origins_and_preflight() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    t.put(&format!("/v1/clients/{client}"))
        .json(&json!({"config": {"allowedOrigins": ["https://landing.partner.io"]}}))
        .send()
        .await
        .unwrap();
    for (origin, ok) in [
        ("https://example.com", true),
        ("http://shop.example.com:8080", true),
        ("https://landing.partner.io", true),
        ("https://evil.com", false),
        ("https://example.com.evil.com", false),
        ("null", false),
    ] {
        let r = t.track_batch(origin, &client, vec![submission("a@b.co", "v1")]).await;
        assert_eq!(r.status().is_success(), ok, "{origin}: {}", r.status());
        if !ok {
            assert!(r.headers().get("access-control-allow-origin").is_none());
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["error"]["code"], "origin_not_allowed");
            let message = body["error"]["message"].as_str().unwrap();
            if origin == "null" {
                // No site can allow it: the message says why and what to do instead.
                assert!(message.contains("file://") && !message.contains("allowedOrigins"), "{message}");
            } else {
                assert!(message.contains("allowedOrigins") && message.contains(origin), "{message}");
            }
        }
    }
    // No Origin and no key: refused with a hint.
    let r = t
        .http
        .post(t.url("/v1/track/batch"))
        .json(&json!({"clientId": client, "events": [submission("a@b.co", "v")]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("X-API-Key"));

    let pre = |origin: &'static str| {
        t.http
            .request(reqwest::Method::OPTIONS, t.url("/v1/track/batch"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
    };
    let ok = pre("https://www.example.com").await.unwrap();
    assert_eq!(ok.status(), 204);
    assert_eq!(ok.headers()["access-control-allow-origin"], "https://www.example.com");
    assert!(ok.headers()["access-control-allow-methods"].to_str().unwrap().contains("POST"));
    assert!(ok.headers().get("access-control-allow-credentials").is_none());
    let refused = pre("https://evil.com").await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused.headers().get("access-control-allow-origin").is_none());
    t.stop().await;
}

async fn error_of(r: reqwest::Response) -> (u16, String, String) {
    let status = r.status().as_u16();
    let v: Value = r.json().await.unwrap();
    (status, v["error"]["code"].as_str().unwrap_or("").into(), v["error"]["message"].as_str().unwrap_or("").into())
}

#[tokio::test]
async fn every_limit_and_error_is_explained_and_stores_nothing() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    let ev = |fields: Value| json!({"id": event_id(), "type": "form_submission", "fields": fields});
    let cases: Vec<(Value, u16, &str, &str)> = vec![
        (
            json!({"clientId": client, "events": (0..51).map(|_| ev(json!({}))).collect::<Vec<_>>()}),
            413,
            "too_many_events",
            "limit is 50",
        ),
        (
            json!({"clientId": client, "events": [ev(Value::Object((0..51).map(|i| (format!("f{i}"), json!("x"))).collect()))]}),
            413,
            "too_many_fields",
            "at most 50",
        ),
        (
            json!({"clientId": client, "events": [ev(json!({"m": "x".repeat(4097)}))]}),
            413,
            "value_too_long",
            "events[0].fields.m",
        ),
        (json!({"clientId": client, "events": [{"type": "form_submission"}]}), 400, "invalid_event", "events[0].id"),
        (
            json!({"clientId": client, "events": [{"id": event_id(), "type": "pageview"}]}),
            400,
            "invalid_event",
            "unknown event type",
        ),
        (
            json!({"clientId": client, "events": [ev(json!({"email": "ok@ok.co"})), {"id": "x", "type": "form_submission"}]}),
            400,
            "invalid_event",
            "events[1].id",
        ),
        (
            json!({"clientId": client, "events": [ev(json!({"email": "ok@ok.co"})),
                {"id": event_id(), "type": "form_interaction", "fields": {"email": "b@ok.co"}, "formProgress": "half"}]}),
            400,
            "invalid_event",
            "events[1].formProgress: must be the number of fields",
        ),
        (json!({"events": [ev(json!({}))]}), 400, "client_id_required", "clientId is required"),
        (
            json!({"clientId": "0193a0b4-6f6a-7c3e-9d2a-5b1c2d3e4f50", "events": [ev(json!({}))]}),
            404,
            "not_found",
            "no site",
        ),
    ];
    for (body, status, code, needle) in cases {
        let r = t
            .http
            .post(t.url("/v1/track/batch"))
            .header("Origin", ORIGIN)
            .header("Content-Type", "text/plain")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let (s, c, m) = error_of(r).await;
        assert_eq!((s, c.as_str()), (status, code), "{m}");
        assert!(m.contains(needle), "{m:?} should mention {needle:?}");
    }
    let big = "x".repeat(64 * 1024 + 1);
    let r = t.http.post(t.url("/v1/track/batch")).header("Origin", ORIGIN).body(big).send().await.unwrap();
    assert_eq!(error_of(r).await.1, "body_too_large");
    let r = t.http.post(t.url("/v1/track/batch")).header("Origin", ORIGIN).body("{nope").send().await.unwrap();
    let (s, c, m) = error_of(r).await;
    assert_eq!((s, c.as_str()), (400, "invalid_event"));
    assert!(m.contains("not valid JSON"));
    let r = t
        .http
        .post(t.url("/v1/track/batch"))
        .header("Origin", ORIGIN)
        .header("Content-Type", "application/xml")
        .body("<x/>")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.0, 415);
    // JSON is UTF-8: another declared charset is refused up front, not as "not JSON".
    let body = json!({"clientId": client, "events": [submission("x@b.co", "vx")]}).to_string();
    let r = t
        .http
        .post(t.url("/v1/track/batch"))
        .header("Origin", ORIGIN)
        .header("Content-Type", "text/plain; charset=UTF-16")
        .body(body)
        .send()
        .await
        .unwrap();
    let (s, _, m) = error_of(r).await;
    assert_eq!(s, 415, "{m}");
    assert!(m.contains("utf-16") && m.contains("UTF-8"), "{m}");

    // The batch with one bad event stored nothing, not even its good event.
    assert!(leads(&t, &client).await.is_empty());
    assert!(t.get_json(&format!("/v1/events?clientId={client}")).await["items"].as_array().unwrap().is_empty());
    t.stop().await;
}

/// A UTF-8 byte-order mark before the JSON (some Windows tools write one) is not an error.
#[tokio::test]
async fn a_byte_order_mark_before_the_json_is_ignored() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    let body = format!("\u{feff}{}", json!({"clientId": client, "events": [submission("bom@b.co", "v1")]}));
    let r = t.http.post(t.url("/v1/track/batch")).header("Origin", ORIGIN).body(body).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(leads(&t, &client).await.len(), 1);
    let r = t
        .post("/v1/tokens")
        .header("Content-Type", "application/json; charset=utf-8")
        .body("\u{feff}{\"name\": \"bom\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let r = t
        .post("/v1/tokens")
        .header("Content-Type", "application/json; charset=latin1")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    t.stop().await;
}

#[tokio::test]
async fn inactive_site_is_refused() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    t.put(&format!("/v1/clients/{client}")).json(&json!({"isActive": false})).send().await.unwrap();
    let (s, c, _) = error_of(t.track_batch(ORIGIN, &client, vec![submission("a@b.co", "v")]).await).await;
    assert_eq!((s, c.as_str()), (403, "client_inactive"));
    t.stop().await;
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = crm_tracker::config::ServeConfig::for_tests(dir.path().join("d.redb"));
    config.rate_limits.per_ip_per_minute = 60;
    let t = spawn_with(config).await;
    let (client, _) = t.create_site("example.com").await;
    let mut statuses = Vec::new();
    for _ in 0..15 {
        let r = t.track_batch(ORIGIN, &client, vec![json!({"id": event_id(), "type": "tracker_initialized"})]).await;
        if r.status() == 429 {
            let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=60).contains(&retry));
            assert_eq!(r.headers()["access-control-allow-origin"], ORIGIN, "the tracker can read the 429");
        }
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 10, "burst of 10 then refused: {statuses:?}");
    assert!(statuses.contains(&429));
    t.stop().await;
}

#[tokio::test]
async fn configured_form_mappings_drive_the_lead() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    let form: Value = t
        .post_json(
            &format!("/v1/clients/{client}/forms"),
            json!({"formName": "Quote", "formSelector": "#quote", "pageUrl": "/quote"}),
        )
        .await;
    let form_id = form["formId"].as_str().unwrap();
    for (name, target, transform) in
        [("input_1", "Name", "splitName"), ("input_2", "Email", "lowercase"), ("input_3", "Company", "uppercase")]
    {
        let field: Value =
            t.post_json(&format!("/v1/forms/{form_id}/fields"), json!({"fieldName": name, "fieldType": "text"})).await;
        let r = t
            .post(&format!("/v1/fields/{}/mapping", field["fieldId"].as_str().unwrap()))
            .json(&json!({"targetEntity": "Lead", "targetField": target, "transform": transform}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let e = json!({"id": event_id(), "type": "form_submission", "visitorId": "v", "formId": form_id,
        "fields": {"input_1": "Grace Brewster Hopper", "input_2": "GRACE@NAVY.MIL", "input_3": "navy"}});
    t.track_batch(ORIGIN, &client, vec![e]).await;
    let lead = &leads(&t, &client).await[0];
    assert_eq!(lead["formId"], form_id);
    assert_eq!(lead["email"], "grace@navy.mil");
    assert_eq!(lead["firstName"], "Grace");
    assert_eq!(lead["lastName"], "Brewster Hopper");
    assert_eq!(lead["company"], "NAVY");
    t.stop().await;
}

#[tokio::test]
async fn data_survives_a_restart() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    let batch = vec![submission("keep@example.com", "v1")];
    t.track_batch(ORIGIN, &client, batch.clone()).await;
    let config = crm_tracker::config::ServeConfig::for_tests(t.data.clone());
    let dir = t.stop().await;

    let t2 = spawn_with(config).await;
    let stored = leads(&t2, &client).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["email"], "keep@example.com");
    // The site, its key and the dedup set came back too.
    let again: Value = t2.track_batch(ORIGIN, &client, batch).await.json().await.unwrap();
    assert_eq!(again["duplicates"], 1);
    t2.stop().await;
    drop(dir);
}

/// Sends each event alone; asserts a 400 `invalid_event` whose message starts with `needle`.
async fn assert_refused(t: &TestApp, client: &str, cases: Vec<(Value, &str)>) {
    for (event, needle) in cases {
        let r = t.track_batch(ORIGIN, client, vec![event.clone()]).await;
        let (s, c, m) = error_of(r).await;
        assert_eq!((s, c.as_str()), (400, "invalid_event"), "{event}: {m}");
        assert!(m.starts_with(needle), "{m:?} should start with {needle:?}");
    }
    assert!(leads(t, client).await.is_empty(), "a refused event stored a lead");
}

#[tokio::test]
async fn page_and_attribution_urls_must_be_web_urls() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    let ev = |member: &str, value: Value| {
        let mut e = submission("url@example.com", "v-url");
        e[member] = value;
        e
    };
    let cases = vec![
        (ev("page", json!("not a url")), "events[0].page: must be an absolute http(s) URL"),
        (ev("page", json!("javascript:alert(1)")), "events[0].page: must be an absolute http(s) URL"),
        (ev("page", json!({"url": 5})), "events[0].page.url: must be an absolute http(s) URL"),
        (ev("page", json!({"path": "/"})), "events[0].page.url: is required"),
        (ev("attribution", json!({"landingPage": 5})), "events[0].attribution.landingPage: must be"),
        (ev("attribution", json!({"landingPage": "javascript:x"})), "events[0].attribution.landingPage: must be"),
        (ev("attribution", json!({"referrer": 5})), "events[0].attribution.referrer: must be a string"),
    ];
    assert_refused(&t, &client, cases).await;

    let mut good = ev("page", json!("https://example.com/contact"));
    good["attribution"] = json!({"landingPage": "https://example.com/?utm_source=x", "referrer": ""});
    let r = t.track_batch(ORIGIN, &client, vec![good]).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    t.stop().await;
}

#[tokio::test]
async fn the_nil_uuid_is_not_an_event_id() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    let mut e = submission("nil@example.com", "v-nil");
    e["id"] = json!("00000000-0000-0000-0000-000000000000");
    assert_refused(&t, &client, vec![(e, "events[0].id: is the nil UUID")]).await;
    t.stop().await;
}

#[tokio::test]
async fn an_event_naming_another_site_than_its_batch_is_refused() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    let (other, _) = t.create_site("other.example.org").await;
    let mut e = submission("two@example.com", "v-two");
    e["clientId"] = json!(other);
    assert_refused(&t, &client, vec![(e.clone(), "events[0].clientId: ")]).await;

    // Repeating the batch's own clientId is fine.
    e["clientId"] = json!(client);
    let r = t.track_batch(ORIGIN, &client, vec![e.clone()]).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(leads(&t, &client).await.len(), 1);

    // A batch without its own clientId is for the site its events name: a key of another
    // site is refused (not stored under the key's site), events naming two sites are
    // refused, and a browser's batch is taken for the site its events name.
    let (_, other_key) = t.create_site("third.example.net").await;
    let mut for_other = submission("three@example.com", "v-three");
    for_other["clientId"] = json!(other);
    let keyed = |body: Value| t.http.post(t.url("/v1/track/batch")).header("X-API-Key", &other_key).json(&body);
    let r = keyed(json!({"events": [for_other.clone()]})).send().await.unwrap();
    let (status, code, message) = error_of(r).await;
    assert_eq!((status, code.as_str()), (400, "client_mismatch"), "{message}");
    let r = keyed(json!({"events": [e.clone(), for_other.clone()]})).send().await.unwrap();
    let (status, _, message) = error_of(r).await;
    assert_eq!(status, 400, "{message}");
    assert!(message.contains("events[1].clientId"), "{message}");
    let mut browser = submission("four@example.com", "v-four");
    browser["clientId"] = json!(client);
    let r = t
        .http
        .post(t.url("/v1/track/batch"))
        .header("Origin", ORIGIN)
        .json(&json!({"events": [browser]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(leads(&t, &client).await.len(), 2);
    assert_eq!(leads(&t, &other).await.len(), 0, "nothing stored for the other site");
    t.stop().await;
}

/// A shop's customer login (email as the user name; the tracker leaves the password out):
/// stored as events, no lead, not offered as a discovered form. The same person writing
/// through the contact form is a lead.
#[tokio::test]
async fn customer_sign_ins_are_events_not_leads() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    let login = |kind: &str| {
        json!({
            "id": event_id(), "type": kind, "visitorId": "v1", "formId": "customer_login",
            "fields": {"email": "ada@example.com"}, "page": "https://www.example.com/account/login"
        })
    };
    let devise = json!({
        "id": event_id(), "type": "form_submission", "visitorId": "v1", "formClass": "new_user",
        "fields": {"email": "ada@example.com", "remember_me": "1"}, "page": "https://www.example.com/users/sign_in"
    });
    let events = vec![login("form_interaction"), login("form_submission"), devise];
    assert_eq!(t.track_batch(ORIGIN, &client, events).await.status(), 200);
    assert!(leads(&t, &client).await.is_empty());
    let stored = t.get_json(&format!("/v1/events?clientId={client}")).await;
    assert_eq!(stored["items"].as_array().unwrap().len(), 3, "{stored}");
    let discovered = t.get_json(&format!("/v1/clients/{client}/discovered-forms")).await;
    assert_eq!(discovered["items"], json!([]), "{discovered}");

    assert_eq!(t.track_batch(ORIGIN, &client, vec![submission("ada@example.com", "v1")]).await.status(), 200);
    let leads = leads(&t, &client).await;
    assert_eq!(leads.len(), 1);
    assert_eq!(leads[0]["email"], "ada@example.com");
}

/// A lead's fields come back in the order the form had them (as the tracker sends them),
/// through every change of the lead: a partial, then the submission that adds fields.
#[tokio::test]
async fn fields_keep_the_forms_order() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    let send = |kind: &str, fields: &str| {
        let body = format!(
            r#"{{"clientId": "{client}", "events": [{{"id": "{}", "type": "{kind}", "visitorId": "v1", "fields": {fields}}}]}}"#,
            event_id()
        );
        t.http.post(t.url("/v1/track/batch")).header("Origin", ORIGIN).body(body).send()
    };
    // The partial went when the email was left: the name typed after it is not in it.
    let partial = r#"{"email": "ada@example.com", "card_password": "x"}"#;
    assert_eq!(send("form_interaction", partial).await.unwrap().status(), 200);
    let full = r#"{"your_name": "Ada", "email": "ada@example.com", "phone": "+1 202 555 0101", "budget": "10k", "message": "Hi"}"#;
    assert_eq!(send("form_submission", full).await.unwrap().status(), 200);
    let in_order = |text: &str| {
        let at: Vec<usize> = ["\"your_name\":", "\"email\":", "\"phone\":", "\"budget\":", "\"message\":"]
            .iter()
            .map(|k| text.find(k).unwrap_or_else(|| panic!("{k} in {text}")))
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "fields out of the form's order: {text}");
    };
    let list = t.get(&format!("/v1/leads?clientId={client}")).send().await.unwrap().text().await.unwrap();
    let fields = &list[list.find("\"fields\"").unwrap()..];
    in_order(fields);
    let id = leads(&t, &client).await[0]["leadId"].as_str().unwrap().to_string();
    let one = t.get(&format!("/v1/leads/{id}")).send().await.unwrap().text().await.unwrap();
    in_order(&one[one.find("\"fields\"").unwrap()..]);
    let csv = t.get(&format!("/v1/leads/export.csv?clientId={client}")).send().await.unwrap().text().await.unwrap();
    in_order(&csv.replace("\"\"", "\""));
}

/// Secrets in page addresses (a reset token, an OAuth access token in the fragment, a login
/// form sent with GET) never reach the data file; the rest of each address is kept.
#[tokio::test]
async fn credentials_in_page_addresses_are_dropped() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    let e = json!({
        "id": event_id(), "type": "form_submission", "visitorId": "v1",
        "fields": {"email": "ada@example.com", "message": "Hi"},
        "page": "https://www.example.com/contact?token=reset-secret-77&lang=en",
        "attribution": {"landingPage": "https://www.example.com/cb#access_token=oauth-secret-88&expires_in=3599",
                        "referrer": "https://idp.example.org/login?log=ada&pwd=get-secret-99"}
    });
    assert_eq!(t.track_batch(ORIGIN, &client, vec![e]).await.status(), 200);
    let lead = &leads(&t, &client).await[0];
    assert_eq!(lead["metadata"]["page"]["url"], "https://www.example.com/contact?lang=en", "{lead}");
    assert_eq!(lead["metadata"]["attribution"]["landingPage"], "https://www.example.com/cb#expires_in=3599");
    assert_eq!(lead["metadata"]["attribution"]["referrer"], "https://idp.example.org/login?log=ada");
    let events = t.get_json(&format!("/v1/events?clientId={client}")).await;
    let dir = t.stop().await.unwrap();
    let data = String::from_utf8_lossy(&std::fs::read(dir.path().join("data.redb")).unwrap()).into_owned();
    for secret in ["reset-secret-77", "oauth-secret-88", "get-secret-99"] {
        assert!(!lead.to_string().contains(secret) && !events.to_string().contains(secret), "{secret} served");
        assert!(!data.contains(secret), "{secret} found in the data file");
    }
}

/// Sends `event` as a page of `site` (example.org) would, then promotes the form it made
/// known by `selector`.
async fn discover_and_promote(t: &TestApp, site: &str, event: Value, selector: &str) -> reqwest::Response {
    let r = t.track_batch("https://example.org", site, vec![event]).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    t.post(&format!("/v1/clients/{site}/discovered-forms/promote"))
        .json(&json!({"selector": selector}))
        .send()
        .await
        .unwrap()
}

/// Any visitor can report forms, so a site keeps a bounded number of discovered ones (a
/// script inventing selectors cannot fill the data file or the dashboard), and the list
/// pages like the other lists.
#[tokio::test]
async fn discovered_forms_are_bounded_and_paged() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    let max = crm_tracker::store::ingest::MAX_DISCOVERED_FORMS;
    for batch in 0..(max + 50) / 50 {
        let events: Vec<Value> = (0..50)
            .map(|i| {
                json!({"id": event_id(), "type": "form_interaction", "visitorId": "v1",
                    "formSelector": format!("#f{}", batch * 50 + i), "fields": {"message": "hello"}})
            })
            .collect();
        let r = t.track_batch(ORIGIN, &client, events).await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
    let path = format!("/v1/clients/{client}/discovered-forms");
    let all = t.get_json(&path).await;
    assert_eq!(all["items"].as_array().unwrap().len(), max, "at most {max} kept");

    let mut seen = Vec::new();
    let mut next = format!("{path}?limit=150");
    loop {
        let page = t.get_json(&next).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 150);
        seen.extend(items.iter().map(|f| f["selector"].as_str().unwrap().to_string()));
        match page["nextCursor"].as_str() {
            Some(c) => next = format!("{path}?limit=150&cursor={}", c.replace('#', "%23")),
            None => break,
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), max, "every form once");
    for query in ["bogus=1", "limit=0"] {
        let r = t.get(&format!("{path}?{query}")).send().await.unwrap();
        assert_eq!(r.status(), 400, "{query}");
    }

    // A selector a page sent that a configured form may not have: promoting it names the
    // request's own field.
    let (site, _) = t.create_site("example.org").await;
    let odd = json!({"id": event_id(), "type": "form_interaction", "visitorId": "v1",
        "formSelector": "#1abc", "fields": {"message": "hello"}});
    let r = discover_and_promote(&t, &site, odd, "#1abc").await;
    assert_eq!(r.status(), 400);
    let error: Value = r.json().await.unwrap();
    assert_eq!(error["error"]["field"], "selector", "{error}");

    // What a visitor sent that a configured form or field would refuse (a form id over 200
    // characters, a page URL over 2,000, a field name over 200) is left out of the promoted
    // form instead of refusing it, or leaving it with half its fields.
    let long_name = "n".repeat(210);
    let long_url = format!("https://example.org/{}", "p".repeat(2100));
    let odd = json!({"id": event_id(), "type": "form_interaction", "visitorId": "v1", "formId": "r".repeat(250),
        "formSelector": "#long", "page": {"url": long_url}, "fields": {"message": "hello", &long_name: "x"}});
    let r = discover_and_promote(&t, &site, odd, "#long").await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let promoted: Value = r.json().await.unwrap();
    assert_eq!(promoted["formName"], "#long", "{promoted:#}");
    assert_eq!(promoted["pageUrl"], "", "{promoted:#}");
    let fields: Vec<&str> =
        promoted["fields"].as_array().unwrap().iter().map(|f| f["fieldName"].as_str().unwrap()).collect();
    assert_eq!(fields, ["message"]);
    t.stop().await;
}
