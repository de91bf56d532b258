//! The admin API over real HTTP: auth, CRUD with cascades, lists, errors, operations.

mod common;

use common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn admin_routes_need_a_valid_token() {
    let t = spawn_app().await;
    for path in
        ["/v1/clients", "/v1/leads", "/v1/events", "/v1/tokens", "/metrics", "/v1/admin/backup", "/v1/stats/overview"]
    {
        let r = t.http.get(t.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path}");
        assert_eq!(r.headers()["www-authenticate"], "Bearer realm=\"crm-tracker\"", "{path}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "unauthorized");
        let r = t.http.get(t.url(path)).bearer_auth("crm_not-a-token").send().await.unwrap();
        assert_eq!(r.status(), 401, "{path}");
    }
    let r = t.http.post(t.url("/v1/clients")).json(&json!({"domain": "x.com"})).send().await.unwrap();
    assert_eq!(r.status(), 401);

    // A token works until it is revoked.
    let created: Value = t.post_json("/v1/tokens", json!({"name": "ci"})).await;
    let secret = created["token"].as_str().unwrap().to_string();
    assert_eq!(t.http.get(t.url("/v1/clients")).bearer_auth(&secret).send().await.unwrap().status(), 200);
    let list = t.get_json("/v1/tokens").await;
    assert!(list.to_string().contains("\"ci\"") && !list.to_string().contains(&secret), "secrets are never listed");
    let r = t.delete(&format!("/v1/tokens/{}", created["tokenId"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(t.http.get(t.url("/v1/clients")).bearer_auth(&secret).send().await.unwrap().status(), 401);
    // A site's secret key sent as a bearer token is named as such.
    let r = t.http.get(t.url("/v1/clients")).bearer_auth("sk_someones_site_key").send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("X-API-Key"));
    // A token without its scheme is named as such.
    let r = t.http.get(t.url("/v1/clients")).header("Authorization", &secret).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("Authorization: Bearer <token>"));
    t.stop().await;
}

#[tokio::test]
async fn clients_crud_and_validation() {
    let t = spawn_app().await;
    let r = t.post("/v1/clients").json(&json!({"domain": "Shop.Example.com", "name": "Shop"})).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let c: Value = r.json().await.unwrap();
    let id = c["clientId"].as_str().unwrap().to_string();
    assert!(c["secretKey"].as_str().unwrap().starts_with("sk_"));
    assert_eq!(c["domain"], "shop.example.com");
    assert!(c["snippet"].as_str().unwrap().contains(&format!("/script/{id}.js")));
    assert!(c.get("secretKeyHash").is_none());

    let shown = t.get_json(&format!("/v1/clients/{id}")).await;
    assert!(shown.get("secretKey").is_none(), "the secret key is shown once");
    // A Host no browser sends (a proxy passing on anything) does not go into the snippet.
    let r = t.get(&format!("/v1/clients/{id}")).header("Host", "x\"><script>alert(1)</script>").send().await.unwrap();
    let snippet = r.json::<Value>().await.unwrap()["snippet"].as_str().unwrap().to_string();
    assert!(!snippet.contains("alert") && snippet.contains(&format!("/script/{id}.js")), "{snippet}");
    assert_eq!(shown["config"]["retentionDays"], 90);

    // An internationalised domain is kept as browsers send it in Origin.
    let idn: Value = t.post_json("/v1/clients", json!({"domain": "Bücher.de"})).await;
    assert_eq!(idn["domain"], "xn--bcher-kva.de", "{idn}");
    let dup = t.post("/v1/clients").json(&json!({"domain": "shop.example.com"})).send().await.unwrap();
    assert_eq!(dup.status(), 409);
    for (body, field) in [
        (json!({"domain": "not a domain"}), "domain"),
        (json!({"domain": "com"}), "domain"),
        (json!({"domain": "https://co.uk/"}), "domain"),
        (json!({}), "domain"),
        (json!({"domain": "a.com", "config": {"retentionDays": 0}}), "config.retentionDays"),
        (json!({"domain": "a.com", "config": {"allowedOrigins": ["ftp://x"]}}), "config.allowedOrigins[0]"),
        (json!({"domain": "a.com", "config": {"consentMode": "maybe"}}), "config.consentMode"),
        (json!({"domain": "a.com", "colour": "red"}), "colour"),
    ] {
        let r = t.post("/v1/clients").json(&body).send().await.unwrap();
        assert_eq!(r.status(), 400, "{body}");
        let v: Value = r.json().await.unwrap();
        assert!(v["error"]["message"].as_str().unwrap().contains(field) || v["error"]["field"] == field, "{v}");
    }
    let r = t.post("/v1/clients").header("Content-Type", "text/plain").body("{}").send().await.unwrap();
    assert_eq!(r.status(), 415);

    let updated: Value = t
        .put_json(&format!("/v1/clients/{id}"), json!({"config": {"partialCapture": false, "consentMode": "required"}}))
        .await;
    assert_eq!(updated["config"]["partialCapture"], false);
    assert_eq!(updated["config"]["consentMode"], "required");
    assert_eq!(updated["name"], "Shop");

    let rotated: Value = t.post(&format!("/v1/clients/{id}/rotate-key")).send().await.unwrap().json().await.unwrap();
    let old = c["secretKey"].as_str().unwrap();
    let r = t
        .http
        .post(t.url("/v1/track/batch"))
        .header("X-API-Key", old)
        .json(&json!({"events": [submission("a@b.co", "v")]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "the old key stops working");
    let r = t
        .http
        .post(t.url("/v1/track/batch"))
        .header("X-API-Key", rotated["secretKey"].as_str().unwrap())
        .json(&json!({"events": [submission("a@b.co", "v")]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    assert_eq!(t.get("/v1/clients/not-a-uuid").send().await.unwrap().status(), 400);
    assert_eq!(t.get("/v1/clients/0193a0b4-6f6a-7c3e-9d2a-5b1c2d3e4f50").send().await.unwrap().status(), 404);
    t.stop().await;
}

#[tokio::test]
async fn forms_fields_mappings_and_cascades() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    let form: Value = t.post_json(&format!("/v1/clients/{client}/forms"), json!({"formName": "Contact", "formSelector": "#contact", "alternativeSelectors": ["form.contact"], "pageUrl": "/contact"})).await;
    let form_id = form["formId"].as_str().unwrap().to_string();
    let r = t.post(&format!("/v1/clients/{client}/forms")).json(&json!({"formName": "x"})).send().await.unwrap();
    assert_eq!(r.status(), 400);
    // One configured form per selector: a second would make the page form's formId arbitrary.
    let r = t
        .post(&format!("/v1/clients/{client}/forms"))
        .json(&json!({"formName": "Again", "formSelector": "#contact"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains(&form_id), "the conflict names the existing form");
    // Alternative selectors match page forms too: shared with another form's, either way.
    for body in [
        json!({"formName": "Alt", "formSelector": "#other", "alternativeSelectors": ["#contact"]}),
        json!({"formName": "Alt", "formSelector": "form.contact"}),
    ] {
        let r = t.post(&format!("/v1/clients/{client}/forms")).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 409, "{body}");
    }
    // A page address is a web address or a path on the site, never a script.
    for page in ["javascript:alert(1)", "data:text/html,x", "//evil.example/x"] {
        let r = t
            .post(&format!("/v1/clients/{client}/forms"))
            .json(&json!({"formName": "P", "formSelector": "#p", "pageUrl": page}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{page}");
        assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"], "pageUrl", "{page}");
    }

    let field: Value = t
        .post_json(
            &format!("/v1/forms/{form_id}/fields"),
            json!({"fieldName": "email", "fieldType": "email", "fieldSelector": "#email", "isRequired": true}),
        )
        .await;
    let field_id = field["fieldId"].as_str().unwrap().to_string();
    let r = t
        .post(&format!("/v1/forms/{form_id}/fields"))
        .json(&json!({"fieldName": "x", "fieldType": "blob"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    assert_eq!(t.get_json(&format!("/v1/fields/{field_id}/mapping")).await, Value::Null);
    let mapping: Value = t
        .post_json(
            &format!("/v1/fields/{field_id}/mapping"),
            json!({"targetEntity": "Lead", "targetField": "Email", "transform": "lowercase"}),
        )
        .await;
    let mapping_id = mapping["mappingId"].as_str().unwrap().to_string();
    let again =
        t.post(&format!("/v1/fields/{field_id}/mapping")).json(&json!({"targetField": "Email"})).send().await.unwrap();
    assert_eq!(again.status(), 409, "one mapping per field");
    let bad =
        t.put(&format!("/v1/mappings/{mapping_id}")).json(&json!({"transform": "truncate:zero"})).send().await.unwrap();
    assert_eq!(bad.status(), 400);
    let v: Value = bad.json().await.unwrap();
    assert_eq!(v["error"]["field"], "transform");
    let ok =
        t.put(&format!("/v1/mappings/{mapping_id}")).json(&json!({"transform": "truncate:80"})).send().await.unwrap();
    assert_eq!(ok.status(), 200);

    let detail = t.get_json(&format!("/v1/forms/{form_id}")).await;
    assert_eq!(detail["fields"][0]["mapping"]["transform"], "truncate:80");
    assert_eq!(t.get_json(&format!("/v1/clients/{client}/forms")).await["items"].as_array().unwrap().len(), 1);

    // An event and a lead of the configured form.
    let mut sent = submission("form@example.com", "v-form");
    sent["formId"] = json!(form_id);
    assert_eq!(t.track_batch(ORIGIN, &client, vec![sent]).await.status(), 200);
    let events = t.get_json(&format!("/v1/events?clientId={client}")).await;
    assert_eq!(events["items"][0]["formId"], form_id.as_str(), "{events}");
    let leads = t.get_json(&format!("/v1/leads?clientId={client}")).await;
    assert_eq!(leads["items"][0]["formId"], form_id.as_str(), "{leads}");

    // Deleting the form takes its fields and mappings with it; its leads and events stay,
    // no longer pointing at it (SET NULL).
    assert_eq!(t.delete(&format!("/v1/forms/{form_id}")).send().await.unwrap().status(), 204);
    assert_eq!(t.get(&format!("/v1/fields/{field_id}")).send().await.unwrap().status(), 404);
    assert_eq!(t.get(&format!("/v1/mappings/{mapping_id}")).send().await.unwrap().status(), 404);
    let events = t.get_json(&format!("/v1/events?clientId={client}")).await;
    assert_eq!(events["items"].as_array().unwrap().len(), 1, "{events}");
    assert!(events["items"][0]["formId"].is_null(), "{events}");
    let leads = t.get_json(&format!("/v1/leads?clientId={client}")).await;
    assert!(leads["items"][0]["formId"].is_null(), "{leads}");
    t.stop().await;
}

#[tokio::test]
async fn lead_list_filters_cursor_update_and_delete() {
    let t = spawn_app().await;
    let (a, _) = t.create_site("example.com").await;
    let (b, _) = t.create_site("other.org").await;
    for i in 0..7 {
        t.track_batch(ORIGIN, &a, vec![submission(&format!("p{i}@example.com"), &format!("v{i}"))]).await;
    }
    t.track_batch(ORIGIN, &a, vec![interaction("partial@example.com", "vp")]).await;
    t.track_batch("https://other.org", &b, vec![submission("b@other.org", "vb")]).await;

    // Cursor pages, newest first, no overlap.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = t.get_json(&format!("/v1/leads?clientId={a}&limit=3&cursor={cursor}")).await;
        for l in page["items"].as_array().unwrap() {
            seen.push(l["email"].as_str().unwrap().to_string());
        }
        match page["nextCursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 8);
    assert_eq!(seen[0], "partial@example.com");
    assert_eq!(seen[7], "p0@example.com");

    let partial = t.get_json(&format!("/v1/leads?clientId={a}&status=partial")).await;
    assert_eq!(partial["items"].as_array().unwrap().len(), 1);
    let by_email = t.get_json(&format!("/v1/leads?clientId={a}&email=P3@Example.com")).await;
    assert_eq!(by_email["items"].as_array().unwrap().len(), 1);
    let q = t.get_json("/v1/leads?q=OTHER.ORG").await;
    assert_eq!(q["items"].as_array().unwrap().len(), 1);
    let all = t.get_json("/v1/leads?quality=high&from=2000-01-01&to=2999-12-31").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 8);
    let none = t.get_json("/v1/leads?to=2000-01-01").await;
    assert!(none["items"].as_array().unwrap().is_empty());
    for bad in ["status=won", "quality=great", "limit=501", "limit=0", "from=yesterday", "clientId=nope", "cursor=zz"] {
        let r = t.get(&format!("/v1/leads?{bad}")).send().await.unwrap();
        assert_eq!(r.status(), 400, "{bad}");
        let v: Value = r.json().await.unwrap();
        let param = bad.split('=').next().unwrap();
        assert_eq!(v["error"]["field"], param, "{v}");
    }

    // Update and delete.
    let lead_id = by_email["items"][0]["leadId"].as_str().unwrap().to_string();
    let updated: Value =
        t.put_json(&format!("/v1/leads/{lead_id}"), json!({"status": "partial", "company": "Acme"})).await;
    assert_eq!((updated["status"].as_str(), updated["company"].as_str()), (Some("partial"), Some("Acme")));
    assert_eq!(
        t.put(&format!("/v1/leads/{lead_id}")).json(&json!({"email": "nope"})).send().await.unwrap().status(),
        400
    );
    let events = t.get_json(&format!("/v1/events?leadId={lead_id}")).await;
    assert_eq!(events["items"].as_array().unwrap().len(), 1);
    let r = t.delete(&format!("/v1/leads/{lead_id}/gdpr-delete")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(t.get(&format!("/v1/leads/{lead_id}")).send().await.unwrap().status(), 404);
    assert!(t.get_json(&format!("/v1/events?leadId={lead_id}")).await["items"].as_array().unwrap().is_empty());
    assert!(
        t.get_json(&format!("/v1/leads?clientId={a}&email=p3@example.com")).await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let ev_types = t.get_json(&format!("/v1/events?clientId={a}&type=form_interaction")).await;
    assert_eq!(ev_types["items"].as_array().unwrap().len(), 1);

    // Deleting a site takes its leads and events; the other site is untouched.
    assert_eq!(t.delete(&format!("/v1/clients/{a}")).send().await.unwrap().status(), 204);
    assert!(t.get_json(&format!("/v1/leads?clientId={a}")).await["items"].as_array().unwrap().is_empty());
    assert!(t.get_json(&format!("/v1/events?clientId={a}")).await["items"].as_array().unwrap().is_empty());
    assert_eq!(t.get_json("/v1/leads").await["items"].as_array().unwrap().len(), 1);
    let r = t.track_batch(ORIGIN, &a, vec![submission("late@example.com", "v")]).await;
    assert_eq!(r.status(), 404, "a deleted site no longer ingests");
    t.stop().await;
}

#[tokio::test]
async fn health_readiness_metrics_and_csv_export() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    let mut evil = submission("=cmd@example.com", "v1");
    evil["fields"]["name"] = json!("=HYPERLINK(\"http://evil\",\"x\")");
    t.track_batch(ORIGIN, &client, vec![evil, interaction("p@example.com", "v2")]).await;
    let r = t.http.get(t.url("/healthz")).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.text().await.unwrap().as_str()), (200, "ok"));
    assert_eq!(t.http.get(t.url("/readyz")).send().await.unwrap().status(), 200);
    let text = t.get("/metrics").send().await.unwrap().text().await.unwrap();
    for needle in [
        "crm_http_requests_total{method=\"POST\",route=\"/v1/track/batch\",status=\"200\"} 1",
        "crm_http_request_duration_seconds_bucket{method=\"POST\",route=\"/v1/track/batch\"",
        "crm_events_ingested_total 2",
        "crm_leads{status=\"submitted\"} 1",
        "crm_leads{status=\"partial\"} 1",
        "crm_writer_batch_events_count",
        "crm_writer_commit_seconds_bucket",
        "crm_writer_queue_depth 0",
    ] {
        assert!(text.contains(needle), "metrics lack {needle}\n{text}");
    }
    let csv = t.get(&format!("/v1/leads/export.csv?clientId={client}&status=submitted")).send().await.unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let body = csv.text().await.unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines.len(), 2, "{body}");
    assert!(lines[0].starts_with("leadId,clientId,createdAt,status"));
    assert!(lines[1].contains("'=HYPERLINK") && !lines[1].contains(",=HYPERLINK"), "{}", lines[1]);
    let overview = t.get_json(&format!("/v1/stats/overview?clientId={client}&days=7")).await;
    assert_eq!(overview["days"].as_array().unwrap().len(), 7);
    assert_eq!(overview["totals"]["leads"], 2);
    let r = t.get(&format!("/v1/stats/overview?clientId={}", uuid::Uuid::now_v7())).send().await.unwrap();
    assert_eq!(r.status(), 404, "an unknown site is not a site without leads");
    t.stop().await;
}

#[tokio::test]
async fn online_backup_is_consistent_and_passes_integrity_check() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    t.track_batch(ORIGIN, &client, vec![submission("a@b.co", "v1")]).await;
    let r = t.get("/v1/admin/backup").send().await.unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("copy.redb");
    std::fs::write(&path, &bytes).unwrap();
    assert!(crm_tracker::store::backup::verify(&path).unwrap());
    let copy = crm_tracker::store::Store::open(&path).unwrap();
    let leads = copy.read(|txn| crm_tracker::store::queries::list_leads(txn, &Default::default(), None, 10)).unwrap();
    assert_eq!(leads.items.len(), 1);
    t.stop().await;
}

#[tokio::test]
async fn unknown_routes_answer_json_404() {
    let t = spawn_app().await;
    let r = t.get("/v1/nope").send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "not_found");
    t.stop().await;
}

/// Events are stored in pages per site; the lists must still page through every event once,
/// newest first, within a site and across sites, with a type filter, and by lead.
#[tokio::test]
async fn event_lists_page_through_every_event_once() {
    let t = spawn_app().await;
    let (a, _) = t.create_site("example.com").await;
    let (b, _) = t.create_site("other.example").await;
    let visit = || json!({"id": event_id(), "type": "tracker_initialized", "sessionId": "s", "visitorId": "v"});
    for round in 0..6 {
        let r = t.track_batch("https://example.com", &a, (0..20).map(|_| visit()).collect()).await;
        assert_eq!(r.status(), 200);
        let events = vec![visit(), submission(&format!("p{round}@example.com"), "v"), visit()];
        let r = t.track_batch("https://other.example", &b, events).await;
        assert_eq!(r.status(), 200);
    }
    let walk = |query: String| {
        let t = &t;
        async move {
            let mut ids: Vec<String> = Vec::new();
            let mut cursor = String::new();
            loop {
                let page = t.get_json(&format!("/v1/events?limit=7{query}{cursor}")).await;
                ids.extend(
                    page["items"].as_array().unwrap().iter().map(|e| e["eventId"].as_str().unwrap().to_string()),
                );
                match page["nextCursor"].as_str() {
                    Some(c) => cursor = format!("&cursor={c}"),
                    None => return ids,
                }
            }
        }
    };
    let newest_first = |ids: &[String]| ids.windows(2).all(|w| w[0] > w[1]);
    let all = walk(String::new()).await;
    assert_eq!(all.len(), 6 * 23);
    assert!(newest_first(&all), "newest first, no repeats");
    let site_a = walk(format!("&clientId={a}")).await;
    assert_eq!(site_a.len(), 120);
    assert!(newest_first(&site_a));
    let submissions = walk(format!("&clientId={b}&type=form_submission")).await;
    assert_eq!(submissions.len(), 6);
    let lead = t.get_json(&format!("/v1/leads?clientId={b}&email=p3@example.com")).await;
    let lead_id = lead["items"][0]["leadId"].as_str().unwrap().to_string();
    let of_lead = walk(format!("&leadId={lead_id}")).await;
    assert_eq!(of_lead.len(), 1);
    assert!(submissions.contains(&of_lead[0]));
    t.stop().await;
}

/// Well-formed requests that do not fit say which field or parameter is wrong, never
/// "invalid JSON"; a parameter an endpoint does not take is refused (a typo would
/// otherwise drop a filter silently), and so is a time range that ends before it starts.
#[tokio::test]
async fn requests_that_do_not_fit_name_the_field_or_parameter() {
    let t = spawn_app().await;
    let check = |r: reqwest::Response, field: &'static str, says: &'static str| async move {
        assert_eq!(r.status(), 400);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "validation_failed", "{v}");
        assert_eq!(v["error"]["field"], field, "{v}");
        assert!(v["error"]["message"].as_str().unwrap().contains(says), "{v}");
    };
    check(t.post("/v1/tokens").json(&json!({})).send().await.unwrap(), "name", "is required").await;
    let lead = uuid::Uuid::now_v7();
    check(
        t.put(&format!("/v1/leads/{lead}")).json(&json!({"status": 5})).send().await.unwrap(),
        "status",
        "wrong type (a number)",
    )
    .await;
    // serde's words for a value, without the parser's position or Rust type names.
    let (client, _) = t.create_site("noise.example.com").await;
    for (config, field, says) in [
        (json!({"retentionDays": "x"}), "config.retentionDays", "expected a whole number 0 or more"),
        (json!({"consentMode": "bogus"}), "config.consentMode", "\"bogus\" is not one of: "),
    ] {
        let r = t.put(&format!("/v1/clients/{client}")).json(&json!({"config": config})).send().await.unwrap();
        assert_eq!(r.status(), 400);
        let v: Value = r.json().await.unwrap();
        let message = v["error"]["message"].as_str().unwrap_or_default();
        assert_eq!(v["error"]["field"], field, "{v}");
        assert!(message.contains(says) && !message.contains(" at line ") && !message.contains('`'), "{v}");
    }
    let r = t.put(&format!("/v1/leads/{lead}")).json(&json!([])).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (&v["error"]["code"], &v["error"]["message"]),
        (&json!("invalid_body"), &json!("the body must be a JSON object"))
    );

    check(t.get("/v1/leads?stauts=new").send().await.unwrap(), "stauts", "not a parameter of this endpoint").await;
    check(t.get("/v1/events?clientid=x").send().await.unwrap(), "clientid", "clientId").await;
    check(t.get("/v1/leads?from=2025-02-01&to=2025-01-01").send().await.unwrap(), "to", "before from").await;
    check(t.get("/v1/leads?from=2025-01-01T00:00:00+02:00").send().await.unwrap(), "from", "%2B").await;
    let r = t.get("/v1/leads?from=2025-01-01T00:00:00%2B02:00&to=2025-01-01").send().await.unwrap();
    assert_eq!(r.status(), 200, "the same day, through its end");
    t.stop().await;
}

/// A selector no browser accepts would never match a form: it is refused when saved,
/// saying why; an id that starts with a digit gets the form that works.
#[tokio::test]
async fn selectors_browsers_refuse_are_refused() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("sel.example.com").await;
    let create = |selector: &'static str| {
        t.post(&format!("/v1/clients/{client}/forms"))
            .json(&json!({"formName": "Contact", "formSelector": selector}))
            .send()
    };
    for (selector, says) in [("###[[", "browser accepts"), ("#123", "[id=\"123\"]"), ("form[name=x", "not closed")] {
        let r = create(selector).await.unwrap();
        assert_eq!(r.status(), 400, "{selector}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["field"], "formSelector", "{v}");
        assert!(v["error"]["message"].as_str().unwrap().contains(says), "{v}");
    }
    assert_eq!(create("[id=\"123\"]").await.unwrap().status(), 201);
    t.stop().await;
}

/// Every list pages the same way: `limit` items, then `nextCursor` to the rest.
#[tokio::test]
async fn short_lists_page_like_the_long_ones() {
    let t = spawn_app().await;
    for i in 0..5 {
        t.create_site(&format!("site{i}.example.com")).await;
    }
    let mut domains = Vec::new();
    let mut path = "/v1/clients?limit=2".to_string();
    loop {
        let v = t.get_json(&path).await;
        let items = v["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        domains.extend(items.iter().map(|c| c["domain"].as_str().unwrap().to_string()));
        match v["nextCursor"].as_str() {
            Some(c) => path = format!("/v1/clients?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(domains, (0..5).map(|i| format!("site{i}.example.com")).collect::<Vec<_>>());
    assert_eq!(t.get_json("/v1/clients").await["items"].as_array().unwrap().len(), 5);
    let tokens = t.get_json("/v1/tokens?limit=1").await;
    assert_eq!(tokens["items"].as_array().unwrap().len(), 1);
    assert!(tokens["nextCursor"].is_null(), "one token: {tokens}");
    let r = t.get("/v1/clients?limit=0").send().await.unwrap();
    assert_eq!(r.status(), 400);
    t.stop().await;
}

#[tokio::test]
async fn a_new_password_ends_the_users_sessions() {
    let t = spawn_app().await;
    t.app.create_user("bob", "a first password").await.unwrap();
    let login = |password: &'static str| {
        t.http.post(t.url("/v1/auth/login")).json(&json!({"username": "bob", "password": password})).send()
    };
    let r = login("a first password").await.unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("crm_session="))
        .and_then(|v| v.split(';').next())
        .expect("session cookie")
        .to_string();
    let me = || t.http.get(t.url("/v1/auth/me")).header(reqwest::header::COOKIE, &cookie).send();
    assert_eq!(me().await.unwrap().status(), 200);

    // The CLI's `user create` for an existing name: the old cookie stops working.
    t.app.create_user("bob", "a second password").await.unwrap();
    assert_eq!(me().await.unwrap().status(), 401, "a session of the old password outlived it");
    assert_eq!(login("a second password").await.unwrap().status(), 200);
}

#[tokio::test]
async fn the_csv_export_refuses_paging_and_names_its_own_parameters() {
    let t = spawn_app().await;
    for (query, name) in
        [("limit=2", "limit"), ("limit=abc", "limit"), ("cursor=x", "cursor"), ("status=partial&cursor=abc", "cursor")]
    {
        let r = t.get(&format!("/v1/leads/export.csv?{query}")).send().await.unwrap();
        assert_eq!(r.status(), 400, "{query}");
        let v: Value = r.json().await.unwrap();
        let message = v["error"]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with(&format!("{name}: ")) && message.contains("every lead matching"), "{query}: {v}");
    }
    let r = t.get("/v1/leads/export.csv?sort=x").send().await.unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    let message = v["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("clientId") && !message.contains("cursor") && !message.contains("limit"), "{v}");
    let r = t.get("/v1/leads/export.csv?status=partial").send().await.unwrap();
    assert_eq!(r.status(), 200);
    t.stop().await;
}
