//! Partial capture, its upgrade to a submission, the pagehide beacon, consent / GPC / DNT /
//! opt-out, and sensitive values (issue 3, points 4, 5, 8 and 12), in headless Chromium.

#[path = "common/browser.rs"]
mod browser;
mod common;
mod tracker_support;

use common::*;
use serde_json::json;
use std::time::{Duration, Instant};
use tracker_support::*;

const CONTACT: &str = r#"<form id="contact" action="/thanks" method="post">
  <label>Email <input type="email" name="email" id="email"></label>
  <label>Name <input name="name" id="name"></label>
  <label>Message <textarea name="message" id="message"></textarea></label>
  <button id="send">Send</button></form>
  <a href="/thanks" id="away">Elsewhere</a>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_blur_makes_a_partial_lead_that_the_submission_upgrades() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    let (site_url, _server) = browser::serve_pages(vec![("/", page(&t, &client, CONTACT))]).await;
    let page = open(&chrome, &format!("{site_url}/")).await;
    let started = Instant::now();
    page.fill("#email", "partial@example.com").await;
    page.press("Tab").await;
    flush(&page).await;
    let partial = wait_for_lead(&t, &client, "partial@example.com", |_| true).await;
    assert_eq!(partial["status"], "partial", "{partial:#}");
    assert_eq!(partial["quality"], "medium");
    let progress = &partial["metadata"]["formProgress"];
    assert_eq!(progress["totalFields"], 3, "{progress:#}");
    assert!(progress["completedFields"].as_array().is_some_and(|c| c.contains(&json!("email"))), "{progress:#}");

    // Focus is on the name field now (Tab moved it there).
    page.type_text("Mae Jemison").await;
    page.press("Tab").await;
    page.type_text("Ready to launch").await;
    sleep_until(started, Duration::from_millis(2100)).await; // a human takes ≥ 2 s
    page.click("#send").await;
    page.wait_for("location.pathname === '/thanks'", DEADLINE).await;
    let upgraded = wait_for_lead(&t, &client, "partial@example.com", |l| l["status"] == "submitted").await;
    assert_eq!(upgraded["leadId"], partial["leadId"], "the same lead is upgraded");
    assert_eq!(upgraded["quality"], "high", "{upgraded:#}");
    assert_eq!(upgraded["name"], "Mae Jemison");
    assert_eq!(upgraded["source"], "form_interaction", "the source says how the lead first arrived");
    assert_eq!(wait_for_leads(&t, &client, 1).await.len(), 1);
    assert!(!events(&t, &client, "form_interaction").await.is_empty());
    wait_for_events(&t, &client, "form_submission", 1).await;
    no_exceptions(&page);
    t.stop().await;
}

/// The automatic path: no flush(); closing the tab sends the in-progress form by beacon.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_tab_with_a_typed_email_delivers_a_partial_lead() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    let (site_url, _server) = browser::serve_pages(vec![("/", page(&t, &client, CONTACT))]).await;
    let page = open(&chrome, &format!("{site_url}/")).await;
    page.fill("#name", "Sally Ride").await;
    page.press("Tab").await; // away from the name: no email yet, nothing to send
    page.fill("#email", "closed@example.com").await; // still focused: no blur
    page.close().await;
    let lead = wait_for_lead(&t, &client, "closed@example.com", |_| true).await;
    assert_eq!(lead["status"], "partial", "{lead:#}");
    assert_eq!(lead["name"], "Sally Ride");
    assert_eq!(lead["metadata"]["trigger"], "pagehide", "{:#}", lead["metadata"]);
    no_exceptions(&page);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn navigating_away_with_a_typed_email_delivers_a_partial_lead() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    let (site_url, _server) = browser::serve_pages(vec![("/", page(&t, &client, CONTACT))]).await;
    let page = open(&chrome, &format!("{site_url}/")).await;
    page.fill("#email", "navigated@example.com").await;
    page.goto(&format!("{site_url}/thanks")).await; // typed in the address bar
    let lead = wait_for_lead(&t, &client, "navigated@example.com", |_| true).await;
    assert_eq!(lead["status"], "partial", "{lead:#}");
    no_exceptions(&page);
    t.stop().await;
}

/// Types `email` into `#email`, replacing what is there, and tabs away.
async fn retype_email(page: &browser::Page, email: &str) {
    page.click("#email").await;
    page.eval("document.activeElement.select(), true").await;
    page.type_text(email).await;
    page.press("Tab").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_required_means_no_partial_lead_until_consent() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    set_config(&t, &client, json!({"consentMode": "required"})).await;
    let (site_url, _server) = browser::serve_pages(vec![("/", page(&t, &client, CONTACT))]).await;
    let page = open(&chrome, &format!("{site_url}/")).await;
    page.fill("#email", "before-consent@example.com").await;
    page.press("Tab").await;
    flush(&page).await;

    page.eval("window.crmTracker.consent(true), true").await;
    retype_email(&page, "after-consent@example.com").await;
    flush(&page).await;
    // The later partial is the marker: the queue is sent in order, so an earlier one would be here too.
    let lead = wait_for_lead(&t, &client, "after-consent@example.com", |_| true).await;
    assert_eq!(lead["status"], "partial");
    let all = wait_for_leads(&t, &client, 1).await;
    assert_eq!(all[0]["email"], "after-consent@example.com");
    for e in events(&t, &client, "form_interaction").await {
        assert!(!e.to_string().contains("before-consent"), "sent before consent: {e:#}");
    }
    no_exceptions(&page);
    t.stop().await;
}

/// No partial capture (blur or pagehide) but the explicit submission is still captured.
async fn no_partial_but_submissions(init_script: Option<&str>, config: Option<serde_json::Value>) {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    if let Some(c) = config {
        set_config(&t, &client, c).await;
    }
    let (site_url, _server) = browser::serve_pages(vec![("/", page(&t, &client, CONTACT))]).await;
    let page = chrome.new_page().await;
    if let Some(s) = init_script {
        page.add_init_script(s).await;
    }
    page.goto(&format!("{site_url}/")).await;
    ready(&page).await;
    // Blur with an email, then leave with another typed email (pagehide).
    page.fill("#email", "blurred@example.com").await;
    page.press("Tab").await;
    flush(&page).await;
    retype_email(&page, "left@example.com").await;
    page.goto(&format!("{site_url}/")).await;
    ready(&page).await;
    // The submission on the next page is the marker.
    let started = Instant::now();
    page.fill("#email", "sent@example.com").await;
    page.press("Tab").await;
    page.type_text("Valentina T").await;
    sleep_until(started, Duration::from_millis(2100)).await;
    page.click("#send").await;
    page.wait_for("location.pathname === '/thanks'", DEADLINE).await;
    let lead = wait_for_lead(&t, &client, "sent@example.com", |l| l["status"] == "submitted").await;
    assert_eq!(lead["source"], "form_submission");
    assert_eq!(lead["quality"], "high");
    let all = wait_for_leads(&t, &client, 1).await;
    assert_eq!(all[0]["email"], "sent@example.com");
    let interactions = events(&t, &client, "form_interaction").await;
    assert!(interactions.is_empty(), "no partial capture: {interactions:#?}");
    no_exceptions(&page);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_privacy_control_stops_partial_capture_but_not_submissions() {
    no_partial_but_submissions(
        Some("Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})"),
        None,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn do_not_track_stops_partial_capture_but_not_submissions() {
    no_partial_but_submissions(
        Some("Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: () => '1'})"),
        None,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_capture_off_in_config() {
    no_partial_but_submissions(None, Some(json!({"partialCapture": false}))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opt_out_stops_everything() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    let (site_url, _server) = browser::serve_pages(vec![("/", page(&t, &client, CONTACT))]).await;
    let (other_origin, _other) = browser::serve_pages(vec![("/", page(&t, &client, CONTACT))]).await;
    let page = chrome.new_page().await;
    record_network(&page).await;
    page.goto(&format!("{site_url}/")).await;
    ready(&page).await;
    page.eval("window.crmTracker.optOut(), true").await;
    page.fill("#email", "optout@example.com").await;
    page.press("Tab").await;
    page.type_text("Opted Out").await;
    flush(&page).await;
    page.click("#send").await;
    page.wait_for("location.pathname === '/thanks'", DEADLINE).await;
    // Back on the site later: the opt-out is remembered.
    page.goto(&format!("{site_url}/")).await;
    ready(&page).await;
    page.fill("#email", "optout@example.com").await;
    page.click("#send").await;
    page.wait_for("location.pathname === '/thanks'", DEADLINE).await;

    // Marker: a visitor on another origin (its own storage, not opted out) submits.
    let other = open(&chrome, &format!("{other_origin}/")).await;
    other.fill("#email", "marker@example.com").await;
    other.click("#send").await;
    wait_for_lead(&t, &client, "marker@example.com", |l| l["status"] == "submitted").await;
    let all = wait_for_leads(&t, &client, 1).await;
    assert_eq!(all[0]["email"], "marker@example.com");
    for kind in ["form_submission", "form_interaction"] {
        for e in events(&t, &client, kind).await {
            assert!(!e.to_string().contains("optout@"), "sent after optOut: {e:#}");
        }
    }
    for r in track_requests(&page) {
        assert!(!r.to_string().contains("optout@"), "a request after optOut: {r:#}");
    }
    no_exceptions(&page);
    no_exceptions(&other);
    t.stop().await;
}

const SENSITIVE: &str = r#"<form id="checkout" action="/thanks" method="post">
  <input type="hidden" name="csrf_token" value="csrf-9f8e7d6c5b4a">
  <label>Email <input type="email" name="email" id="email"></label>
  <label>Password <input type="password" name="password" id="pw"></label>
  <label>Card <input name="payment" id="cc" autocomplete="cc-number" inputmode="numeric"></label>
  <label>Card number <input name="card_number" id="card"></label>
  <label>Social security number <input name="ident" id="ssn"></label>
  <label>PIN <input name="pin" id="pin"></label>
  <div data-crm-ignore><label>Internal note <input name="internal_note" id="ignored"></label></div>
  <label>Referral <input name="referral" id="referral" data-crm-ignore></label>
  <label>Message <textarea name="message" id="message"></textarea></label>
  <button id="send">Pay</button></form>"#;

const SECRETS: &[&str] = &[
    "Hunter2-Secret!",
    "4111 1111 1111 1111",
    "4111111111111111",
    "4111 1111",
    "5500 0000 0000 0004",
    "5500000000000004",
    "078-05-1120",
    "482913",
    "ignored-zebra-42",
    "ignored-yak-17",
    "csrf-9f8e7d6c5b4a",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sensitive_values_are_never_sent_nor_stored() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    let (site_url, _server) = browser::serve_pages(vec![("/", page(&t, &client, SENSITIVE))]).await;
    let page = chrome.new_page().await;
    record_network(&page).await;
    page.goto(&format!("{site_url}/")).await;
    ready(&page).await;
    for (sel, text) in [
        ("#pw", "Hunter2-Secret!"),
        ("#cc", "4111 1111 1111 1111"),
        ("#card", "5500 0000 0000 0004"),
        ("#ssn", "078-05-1120"),
        ("#pin", "482913"),
        ("#ignored", "ignored-zebra-42"),
        ("#referral", "ignored-yak-17"),
        ("#message", "visible-okapi-77"),
        ("#email", "sensitive@example.com"),
    ] {
        page.fill(sel, text).await;
    }
    page.press("Tab").await; // partial capture with every field filled
    flush(&page).await;
    wait_for_lead(&t, &client, "sensitive@example.com", |_| true).await;
    page.click("#send").await;
    page.wait_for("location.pathname === '/thanks'", DEADLINE).await;
    let lead = wait_for_lead(&t, &client, "sensitive@example.com", |l| l["status"] == "submitted").await;
    assert_eq!(lead["fields"]["message"], "visible-okapi-77");

    // What the browser sent.
    let requests = track_requests(&page);
    let bodies: String = requests.iter().filter_map(|r| r["params"]["request"]["postData"].as_str()).collect();
    assert!(bodies.contains("visible-okapi-77"), "request bodies are visible to the test: {requests:#?}");
    for s in SECRETS {
        assert!(!bodies.contains(s), "the tracker sent {s:?}: {bodies}");
    }

    // What the server stored, anywhere in the data file.
    let data = t.data.clone();
    let _dir = t.stop().await;
    let bytes = std::fs::read(&data).expect("data file");
    let find = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(find("visible-okapi-77") && find("sensitive@example.com"), "the search can find stored values");
    for s in SECRETS {
        assert!(!find(s), "{s:?} is in the data file");
    }
    no_exceptions(&page);
}
