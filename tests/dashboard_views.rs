//! The dashboard's views in a real browser: creating a site and reading its snippet, a
//! lead typed into a tracked page on another origin showing up in the open leads list
//! without a reload, its detail page, keyboard-only use, 375 px screens, and a screenshot
//! of every main view under `target/screenshots/`.
//!
//! The login rate limiter is one per process and keyed by client IP (Chromium always
//! connects from 127.0.0.1), so this file signs in through the browser at most 4 times.

#[path = "common/browser.rs"]
mod browser;
mod common;
mod dashboard_support;

use browser::{Browser, Page};
use common::*;
use dashboard_support::*;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------
// Shared helpers: tests/dashboard_support/mod.rs

fn screenshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join("screenshots").join(format!("dashboard-{name}.png"))
}

/// Saves a PNG of the viewport and checks it is a real picture, not a blank page.
async fn shot(page: &Page, name: &str) {
    // Toasts left over from the previous step would hide part of the view.
    page.eval("document.getElementById('toasts')?.replaceChildren()").await;
    let path = screenshot_path(name);
    page.screenshot(&path).await;
    let len = std::fs::metadata(&path).unwrap().len();
    assert!(len > 8_000, "{name}: a {len}-byte screenshot is blank");
}

/// The page does not scroll sideways at a 375 px viewport.
async fn fits_375(page: &Page, at: &str) {
    let w = page
        .eval(
            "({ media375: matchMedia('(max-width: 375px) and (min-width: 375px)').matches, \
             doc: document.documentElement.scrollWidth, body: document.body.scrollWidth, inner: innerWidth, \
             wide: [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 376 \
               && !e.closest('.table-wrap') && e.getClientRects().length).slice(0, 5).map((e) => e.outerHTML.slice(0, 120)) })",
        )
        .await;
    assert_eq!(w["media375"], json!(true), "{at}: the layout is not 375 px wide: {w:#}");
    let fits = w["doc"].as_u64().unwrap() <= 375 && w["body"].as_u64().unwrap() <= 375 && w["inner"] == json!(375);
    assert!(fits, "{at} scrolls sideways: {w:#}");
}

async fn focused_testid(page: &Page) -> Value {
    page.eval("document.activeElement?.dataset?.testid ?? document.activeElement?.tagName").await
}

/// Waits until the API lists a lead matching `pred`.
async fn wait_for_lead(t: &TestApp, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let leads = t.get_json("/v1/leads").await;
        if let Some(l) = leads["items"].as_array().unwrap().iter().find(|l| pred(l)) {
            return l.clone();
        }
        assert!(Instant::now() < deadline, "the lead was not stored: {leads}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---------------------------------------------------------------------------------------
// 2. sites: create, snippet, secret key once, settings

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_site_shows_its_snippet_and_its_secret_key_only_once() {
    let Some(chrome) = Browser::launch().await else { return };
    let t = spawn_app().await;
    t.app.create_user(USER, PASS).await.unwrap();
    let page = watched_page(&chrome).await;
    sign_in(&page, &t).await;
    page.click("[data-testid=nav-sites]").await;
    wait_view(&page, "Sites").await;
    assert!(text_of(&page, "main").await.contains("No sites yet"));

    // Pasting a full URL is forgiven: the form keeps the host.
    page.fill("[data-testid=site-domain]", "https://shop.example.org/contact").await;
    page.fill("[data-testid=site-name]", "Example Shop").await;
    page.click("[data-testid=site-create]").await;
    page.wait_for("!!document.querySelector('[data-testid=site-created]')", WAIT).await;

    let clients = t.get_json("/v1/clients").await;
    assert_eq!(clients["items"].as_array().unwrap().len(), 1, "{clients}");
    let c = &clients["items"][0];
    assert_eq!(c["domain"], "shop.example.org");
    assert_eq!(c["name"], "Example Shop");
    let id = c["clientId"].as_str().unwrap().to_string();
    let snippet = page.eval("document.querySelector('[data-testid=snippet-box]').value").await;
    assert_eq!(snippet, json!(format!(r#"<script src="{}/script/{id}.js" async></script>"#, t.base)));
    let r = t.http.get(t.url(&format!("/script/{id}.js"))).send().await.unwrap();
    assert_eq!(r.status(), 200, "the snippet's script exists");
    let key =
        page.eval("document.querySelector('[data-testid=secret-key-box]').value").await.as_str().unwrap().to_string();
    assert!(key.len() >= 20, "{key}");
    assert!(text_of(&page, "[data-testid=site-created]").await.contains("Shown only once"));
    assert!(!clients.to_string().contains(&key), "the API never returns the key");
    assert_eq!(page.eval("document.activeElement.id").await, json!("created-h"), "focus moves to the result");
    // The key shown is the site's real key: server-to-server ingest accepts it.
    let r = t
        .http
        .post(t.url("/v1/track/batch"))
        .header("X-API-Key", &key)
        .header("Content-Type", "text/plain;charset=UTF-8")
        .body(json!({"events": [submission("s2s@example.com", "v-s2s")]}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    // The list below shows the new site.
    page.wait_for(&format!("!!document.querySelector('[data-testid=site-row][data-client-id=\"{id}\"]')"), WAIT).await;
    assert!(text_of(&page, "[data-testid=sites-table]").await.contains("shop.example.org"));

    // Away and back: the key is gone for good.
    page.click("[data-testid=nav-leads]").await;
    wait_view(&page, "Leads").await;
    page.click("[data-testid=nav-sites]").await;
    wait_view(&page, "Sites").await;
    let gone = format!(
        "document.querySelectorAll('[data-testid=secret-key-box], [data-testid=site-created]').length === 0 \
         && !document.body.innerText.includes({0}) && ![...document.querySelectorAll('textarea, input')].some((e) => e.value.includes({0}))",
        js(&key)
    );
    assert_eq!(page.eval(&gone).await, json!(true), "the key is shown again after leaving the view");
    assert_eq!(count(&page, "[data-testid=site-row]").await, 1);
    page.eval("window.__before_reload = true").await;
    page.call("Page.reload", json!({})).await.unwrap();
    page.wait_for("window.__before_reload === undefined", WAIT).await;
    wait_view(&page, "Sites").await;
    assert_eq!(page.eval(&gone).await, json!(true), "the key is shown again after a reload");
    assert_eq!(count(&page, "[data-testid=site-row]").await, 1);

    // The site's page: the snippet again (never the key) and its settings.
    click_link(&page, &format!("[data-testid=site-row][data-client-id='{id}'] td a")).await;
    page.wait_for("!!document.querySelector('[data-testid=settings-form]')", WAIT).await;
    assert_eq!(page.eval("document.querySelector('[data-testid=snippet-box]').value").await, snippet);
    assert_eq!(page.eval(&gone).await, json!(true));
    page.fill("[data-testid=settings-name]", " Berlin").await;
    page.fill("[data-testid=settings-origins]", "https://landing.example.net").await;
    page.fill("[data-testid=settings-honeypot]", "website").await;
    page.click("[data-testid=settings-save]").await;
    let saved_toasts = |n: usize| {
        format!(
            "[...document.querySelectorAll('[data-testid=toast]')].filter((e) => e.textContent === 'Settings saved').length === {n}"
        )
    };
    page.wait_for(&saved_toasts(1), WAIT).await;
    assert_eq!(text_of(&page, "[data-testid=settings-error]").await, "");
    let saved = t.get_json(&format!("/v1/clients/{id}")).await;
    assert_eq!(saved["name"], "Example Shop Berlin");
    assert_eq!(saved["config"]["allowedOrigins"], json!(["https://landing.example.net"]));
    assert_eq!(saved["config"]["honeypotField"], "website");
    assert!(text_of(&page, "main h1").await.starts_with("Example Shop Berlin"));
    // Emptying a setting clears it.
    page.click("[data-testid=settings-honeypot]").await;
    for _ in "website".chars() {
        page.press("Backspace").await;
    }
    page.click("[data-testid=settings-save]").await;
    page.wait_for(&saved_toasts(2), WAIT).await;
    let saved = t.get_json(&format!("/v1/clients/{id}")).await;
    assert_eq!(saved["config"]["honeypotField"], Value::Null, "{saved}");
    assert_eq!(saved["config"]["allowedOrigins"], json!(["https://landing.example.net"]));

    assert_clean(&page, "sites").await;
    t.stop().await;
}

// ---------------------------------------------------------------------------------------
// 3. a lead from a tracked page appears live; its page shows everything

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_typed_on_a_tracked_page_appears_in_the_open_list_and_its_page_shows_everything() {
    let Some(chrome) = Browser::launch().await else { return };
    let t = spawn_app().await;
    t.app.create_user(USER, PASS).await.unwrap();
    let (client, _) = t.create_site("127.0.0.1").await;
    let html = format!(
        r#"<!doctype html><html><head><title>Contact us</title><script src="{}/script/{client}.js" async></script></head><body>
        <form id="contact" action="/thanks" method="post">
          <label>Name <input name="name" id="name"></label>
          <label>Email <input type="email" name="email" id="email" required></label>
          <label>Company <input name="company" id="company"></label>
          <label>Phone <input type="tel" name="phone" id="phone"></label>
          <label>Budget <select name="budget" id="budget"><option>small</option><option selected>large</option></select></label>
          <label>Message <textarea name="message" id="message"></textarea></label>
          <button id="send">Send</button></form></body></html>"#,
        t.base
    );
    let (site, _server) = browser::serve_pages(vec![("/contact", html)]).await;

    // The dashboard is open on the (empty) leads list.
    let dash = watched_page(&chrome).await;
    sign_in(&dash, &t).await;
    dash.click("[data-testid=nav-leads]").await;
    wait_view(&dash, "Leads").await;
    assert!(text_of(&dash, "[data-testid=empty]").await.contains("No leads yet"));
    dash.eval("window.__same_document = true").await;

    // A visitor fills in the form on the tracked site (another origin) at a human pace.
    let form = chrome.new_page().await;
    let landing = format!("{site}/contact?utm_source=newsletter&utm_medium=email&utm_campaign=spring");
    form.goto(&landing).await;
    form.wait_for("window.crmTracker", WAIT).await;
    let started = Instant::now();
    form.fill("#name", "Grace Hopper").await;
    form.fill("#email", "grace@example.com").await;
    form.fill("#company", "US Navy").await;
    form.fill("#phone", "+1 555 0100").await;
    form.fill("#message", "Please call me back").await;
    tokio::time::sleep(Duration::from_millis(2300).saturating_sub(started.elapsed())).await;
    form.click("#send").await;
    form.wait_for("location.pathname === '/thanks'", WAIT).await;
    form.close().await;
    dash.call("Page.bringToFront", json!({})).await.unwrap();

    let lead = wait_for_lead(&t, |l| l["email"] == "grace@example.com" && l["status"] == "submitted").await;
    let id = lead["leadId"].as_str().unwrap().to_string();
    // The open list shows it within one poll (5 s) and a margin, without reloading.
    let stored = Instant::now();
    dash.wait_for(
        &format!("!!document.querySelector('[data-testid=lead-row][data-lead-id=\"{id}\"]')"),
        Duration::from_secs(8),
    )
    .await;
    eprintln!("the lead appeared {:?} after it was stored", stored.elapsed());
    assert_eq!(dash.eval("window.__same_document === true").await, json!(true), "the page was reloaded");
    let row = text_of(&dash, &format!("[data-lead-id='{id}']")).await;
    assert!(row.contains("grace@example.com") && row.contains("Grace Hopper"), "{row}");
    assert!(text_of(&dash, "[data-testid=leads-live]").await.contains("1 new lead"), "the news is announced");

    // Its page.
    click_link(&dash, &format!("[data-lead-id='{id}'] [data-testid=lead-link]")).await;
    dash.wait_for("document.querySelector('[data-testid=lead-title]')?.textContent === 'grace@example.com'", WAIT)
        .await;
    let lead = t.get_json(&format!("/v1/leads/{id}")).await;
    let events = t.get_json(&format!("/v1/events?leadId={id}&limit=100")).await;
    let n = events["items"].as_array().unwrap().len();
    assert!(n >= 1, "{events}");
    dash.wait_for(&format!("document.querySelectorAll('[data-testid=timeline-event]').length === {n}"), WAIT).await;
    let timeline = text_of(&dash, "[data-testid=lead-timeline]").await;
    assert!(timeline.contains("Form submitted"), "{timeline}");

    let fields = text_of(&dash, "[data-testid=lead-fields]").await;
    let captured = lead["fields"].as_object().unwrap();
    for key in ["name", "email", "company", "phone", "budget", "message"] {
        assert!(captured.contains_key(key), "the tracker did not capture {key}: {lead}");
    }
    for (k, v) in captured {
        let v = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
        assert!(fields.contains(k.as_str()) && fields.contains(&v), "field {k}={v} is not shown: {fields}");
    }
    let badges = dash
        .eval("[...document.querySelectorAll('.badges .badge')].map((b) => [b.dataset.testid, b.textContent])")
        .await;
    assert_eq!(badges, json!([["status-badge", "submitted"], ["quality-badge", "high"]]));
    assert!(text_of(&dash, "[data-testid=lead-quality]").await.contains("No spam signals"));
    let contact = text_of(&dash, "[data-testid=lead-contact]").await;
    for s in ["grace@example.com", "Grace Hopper", "US Navy", "+1 555 0100", "Please call me back"] {
        assert!(contact.contains(s), "{s} missing from {contact}");
    }
    let attribution = text_of(&dash, "[data-testid=lead-attribution]").await;
    assert!(attribution.contains("newsletter") && attribution.contains("spring"), "{attribution}");
    let page_card = text_of(&dash, "[data-testid=lead-page]").await;
    // The tracker sends the page URL (the server derives the path); it does not send titles.
    assert!(page_card.contains(&landing) && page_card.contains("/contact"), "{page_card}");

    assert_clean(&dash, "live lead").await;
    t.stop().await;
}

// ---------------------------------------------------------------------------------------
// 6. keyboard only; 375 px

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_works_with_the_keyboard_alone_and_fits_a_375px_screen() {
    let Some(chrome) = Browser::launch().await else { return };
    let t = spawn_app().await;
    t.app.create_user(USER, PASS).await.unwrap();
    let (client, _) = t.create_site("www.example.com").await;
    let r = t
        .track_batch(ORIGIN, &client, vec![submission("ada@example.com", "v1"), submission("alan@example.com", "v2")])
        .await;
    assert_eq!(r.status(), 200);

    // Sign in: the username has focus; Tab to the password; Enter submits.
    let page = watched_page(&chrome).await;
    page.goto(&t.url("/admin/")).await;
    page.wait_for("document.activeElement?.dataset.testid === 'login-username'", WAIT).await;
    page.type_text(USER).await;
    page.press("Tab").await;
    assert_eq!(focused_testid(&page).await, json!("login-password"));
    page.type_text(PASS).await;
    page.press("Enter").await;
    wait_view(&page, "Overview").await;

    // To the leads, and into the first one.
    tab_to(&page, "[data-testid=nav-leads]").await;
    assert_eq!(
        page.eval("getComputedStyle(document.activeElement).outlineStyle").await,
        json!("solid"),
        "keyboard focus is visible"
    );
    page.press("Enter").await;
    wait_view(&page, "Leads").await;
    tab_to(&page, "[data-testid=lead-link]").await;
    let id = page
        .eval("document.activeElement.closest('[data-lead-id]').dataset.leadId")
        .await
        .as_str()
        .unwrap()
        .to_string();
    page.press("Enter").await;
    page.wait_for("!!document.querySelector('[data-testid=lead-title]')", WAIT).await;
    assert_eq!(page.eval("location.hash").await, json!(format!("#/leads/{id}")));

    // Change its status and save.
    tab_to(&page, "[data-testid=lead-status-select]").await;
    page.press("ArrowDown").await;
    assert_eq!(page.eval("document.activeElement.value").await, json!("partial"));
    tab_to(&page, "[data-testid=lead-save]").await;
    page.press("Enter").await;
    page.wait_for(
        "[...document.querySelectorAll('[data-testid=toast]')].some((e) => e.textContent === 'Lead updated')",
        WAIT,
    )
    .await;
    assert_eq!(t.get_json(&format!("/v1/leads/{id}")).await["status"], "partial");
    assert_eq!(
        page.eval("document.querySelector('.badges [data-testid=status-badge]').textContent").await,
        json!("partial")
    );

    // The erase dialog: Escape cancels and gives focus back; Tab, Enter confirms.
    tab_to(&page, "[data-testid=lead-gdpr-delete]").await;
    page.press("Enter").await;
    page.wait_for("document.querySelector('[data-testid=confirm-dialog]')?.open", WAIT).await;
    assert_eq!(focused_testid(&page).await, json!("confirm-cancel"), "the safe choice has focus");
    page.press("Escape").await;
    page.wait_for("!document.querySelector('[data-testid=confirm-dialog]')", WAIT).await;
    assert_eq!(focused_testid(&page).await, json!("lead-gdpr-delete"));
    assert_eq!(t.get(&format!("/v1/leads/{id}")).send().await.unwrap().status(), 200);
    page.press("Enter").await;
    page.wait_for("document.querySelector('[data-testid=confirm-dialog]')?.open", WAIT).await;
    page.press("Tab").await;
    assert_eq!(focused_testid(&page).await, json!("confirm-ok"));
    page.press("Enter").await;
    wait_view(&page, "Leads").await;
    page.wait_for("document.querySelectorAll('[data-testid=lead-row]').length === 1", WAIT).await;
    assert_eq!(t.get(&format!("/v1/leads/{id}")).send().await.unwrap().status(), 404);
    let other = t.get_json("/v1/leads").await["items"][0]["leadId"].as_str().unwrap().to_string();

    // 375 px: the menu collapses behind a button; no view scrolls sideways.
    page.set_viewport(375, 812).await;
    page.wait_for("matchMedia('(max-width: 375px)').matches", WAIT).await;
    assert_eq!(page.eval("getComputedStyle(document.getElementById('nav')).display").await, json!("none"));
    fits_375(&page, "leads").await;
    tab_to(&page, "[data-testid=menu-button]").await;
    page.press("Enter").await;
    assert_eq!(page.eval("document.activeElement.getAttribute('aria-expanded')").await, json!("true"));
    page.press("Escape").await;
    assert_eq!(page.eval("getComputedStyle(document.getElementById('nav')).display").await, json!("none"));
    assert_eq!(focused_testid(&page).await, json!("menu-button"));
    page.press("Enter").await;
    tab_to(&page, "[data-testid=nav-sites]").await;
    page.press("Enter").await;
    wait_view(&page, "Sites").await;
    assert_eq!(page.eval("getComputedStyle(document.getElementById('nav')).display").await, json!("none"));
    fits_375(&page, "sites").await;
    for (hash, ready) in [
        ("#/overview".to_string(), "document.querySelector('main h1')?.textContent === 'Overview'"),
        (format!("#/leads/{other}"), "document.querySelectorAll('[data-testid=timeline-event]').length > 0"),
        (format!("#/sites/{client}"), "!!document.querySelector('[data-testid=settings-form]')"),
        (format!("#/forms/{client}"), "!!document.querySelector('[data-testid=discovered-table]')"),
        ("#/tokens".to_string(), "!!document.querySelector('[data-testid=tokens-table]')"),
        ("#/leads".to_string(), "!!document.querySelector('[data-testid=leads-table]')"),
    ] {
        page.eval(&format!("location.hash = {}", js(&hash))).await;
        page.wait_for(ready, WAIT).await;
        fits_375(&page, &hash).await;
    }
    // Sign out from the menu; the login form fits too.
    tab_to(&page, "[data-testid=menu-button]").await;
    page.press("Enter").await;
    tab_to(&page, "[data-testid=logout]").await;
    page.press("Enter").await;
    page.wait_for("!!document.querySelector('[data-testid=login-form]')", WAIT).await;
    fits_375(&page, "login").await;

    assert_clean(&page, "keyboard").await;
    t.stop().await;
}

// ---------------------------------------------------------------------------------------
// 8. screenshots

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screenshots_of_every_main_view() {
    let Some(chrome) = Browser::launch().await else { return };
    let t = spawn_app().await;
    t.app.create_user(USER, PASS).await.unwrap();
    let r =
        t.post("/v1/clients").json(&json!({"domain": "www.example.com", "name": "Example Inc."})).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let client = r.json::<Value>().await.unwrap()["clientId"].as_str().unwrap().to_string();
    let person = |email: &str, visitor: &str, name: &str, company: &str| {
        let mut e = submission(email, visitor);
        e["fields"]["name"] = json!(name);
        e["fields"]["company"] = json!(company);
        e["timestamp"] = json!(now_iso());
        e
    };
    let mut newsletter = interaction("margaret@example.com", "v5");
    newsletter["formId"] = json!("newsletter");
    newsletter["formSelector"] = json!("form.newsletter");
    newsletter["page"] =
        json!({"url": "https://www.example.com/blog/launch", "path": "/blog/launch", "title": "Launch"});
    let chat = json!({
        "id": event_id(), "type": "chat_message_sent", "sessionId": "s6", "visitorId": "v6",
        "fields": {"email": "katherine@example.com", "name": "Katherine Johnson", "message": "Do you ship to Canada?"},
    });
    let events = vec![
        interaction("ada@example.com", "v1"),
        person("ada@example.com", "v1", "Ada Lovelace", "Analytical Engines Ltd"),
        person("grace@example.com", "v2", "Grace Hopper", "US Navy"),
        person("alan@example.com", "v3", "Alan Turing", "Bletchley Park"),
        interaction("linus@example.com", "v4"),
        newsletter,
        chat,
    ];
    let r = t.track_batch(ORIGIN, &client, events).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let ada = wait_for_lead(&t, |l| l["email"] == "ada@example.com").await["leadId"].as_str().unwrap().to_string();

    let page = watched_page(&chrome).await;
    page.goto(&t.url("/admin/")).await;
    page.wait_for("!!document.querySelector('[data-testid=login-form]')", WAIT).await;
    shot(&page, "login").await;

    page.fill("[data-testid=login-username]", USER).await;
    page.fill("[data-testid=login-password]", PASS).await;
    page.click("[data-testid=login-submit]").await;
    wait_view(&page, "Overview").await;
    page.wait_for("!!document.querySelector('[data-testid=leads-chart] rect.seg')", WAIT).await;
    assert_eq!(text_of(&page, "[data-testid=total-leads] .stat-value").await, "6");
    shot(&page, "overview").await;

    page.click("[data-testid=nav-leads]").await;
    wait_view(&page, "Leads").await;
    page.wait_for("document.querySelectorAll('[data-testid=lead-row]').length === 6", WAIT).await;
    let ada_row = text_of(&page, &format!("[data-lead-id='{ada}']")).await;
    assert!(ada_row.contains("contact-form"), "the form the tracker named is shown: {ada_row}");
    shot(&page, "leads").await;

    click_link(&page, &format!("[data-lead-id='{ada}'] [data-testid=lead-link]")).await;
    page.wait_for("document.querySelectorAll('[data-testid=timeline-event]').length === 2", WAIT).await;
    shot(&page, "lead-detail").await;

    page.click("[data-testid=nav-sites]").await;
    wait_view(&page, "Sites").await;
    page.fill("[data-testid=site-domain]", "shop.example.org").await;
    page.fill("[data-testid=site-name]", "Example Shop").await;
    page.click("[data-testid=site-create]").await;
    page.wait_for("!!document.querySelector('[data-testid=secret-key-box]')", WAIT).await;
    page.wait_for("document.querySelectorAll('[data-testid=site-row]').length === 2", WAIT).await;
    page.eval("window.scrollTo(0, 0)").await;
    shot(&page, "sites-snippet").await;

    click_link(&page, &format!("[data-client-id='{client}'] a[href^='#/forms/']")).await;
    wait_view(&page, "Forms").await;
    page.wait_for("document.querySelectorAll('[data-testid=discovered-row]').length === 2", WAIT).await;
    page.eval("document.getElementById('df-h').scrollIntoView({block: 'start'})").await;
    shot(&page, "forms-discovered").await;
    // Promote the contact form in one click: it becomes a configured form with its fields.
    click_link(
        &page,
        "[data-testid=discovered-row]:has(code) [data-testid=promote-button][aria-label='Promote #contact-form']",
    )
    .await;
    page.wait_for("document.querySelectorAll('[data-testid=form-card] [data-testid=field-row]').length >= 4", WAIT)
        .await;
    let forms = t.get_json(&format!("/v1/clients/{client}/forms")).await;
    assert_eq!(forms["items"][0]["formSelector"], "#contact-form", "{forms}");
    page.eval("window.scrollTo(0, 0)").await;
    shot(&page, "forms-promoted").await;

    page.click("[data-testid=nav-tokens]").await;
    wait_view(&page, "API tokens").await;
    page.fill("[data-testid=token-name]", "zapier-sync").await;
    page.click("[data-testid=token-create]").await;
    page.wait_for("!!document.querySelector('[data-testid=token-box]')", WAIT).await;
    page.wait_for("document.querySelectorAll('[data-testid=token-row]').length === 2", WAIT).await;
    shot(&page, "tokens").await;
    // The shown token works, then is revoked from its row.
    let token =
        page.eval("document.querySelector('[data-testid=token-box]').value").await.as_str().unwrap().to_string();
    let leads_with = |tok: String| t.http.get(t.url("/v1/leads")).bearer_auth(tok).send();
    assert_eq!(leads_with(token.clone()).await.unwrap().status(), 200);
    let tokens = t.get_json("/v1/tokens").await;
    let zapier = tokens["items"].as_array().unwrap().iter().find(|k| k["name"] == "zapier-sync").unwrap()["tokenId"]
        .as_str()
        .unwrap()
        .to_string();
    page.click(&format!("[data-token-id='{zapier}'] [data-testid=token-revoke]")).await;
    page.wait_for("document.querySelector('[data-testid=confirm-dialog]')?.open", WAIT).await;
    page.click("[data-testid=confirm-ok]").await;
    let row = format!("[data-token-id='{zapier}']");
    page.wait_for(&format!("!document.querySelector(\"{row} [data-testid=token-revoke]\")"), WAIT).await;
    assert!(text_of(&page, &row).await.to_lowercase().contains("revoked"), "a revoked token says so");
    assert_eq!(count(&page, "[data-testid=token-revoke]").await, 1, "only the active token can be revoked");
    assert_eq!(leads_with(token).await.unwrap().status(), 401);

    page.set_viewport(375, 812).await;
    page.eval("location.hash = '#/leads'").await;
    wait_view(&page, "Leads").await;
    page.wait_for("document.querySelectorAll('[data-testid=lead-row]').length === 6", WAIT).await;
    fits_375(&page, "leads").await;
    shot(&page, "leads-375").await;

    assert_clean(&page, "screenshots").await;
    t.stop().await;
}

fn now_iso() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap()
}
