//! Shared helpers of the tracker browser tests (`tests/tracker_*.rs`): a site whose domain
//! is `127.0.0.1` (so pages served from any loopback port may send), pages that load the
//! tracker from the server, and polling of the admin API with a deadline.
#![allow(dead_code)]

use crate::browser::{Browser, Page};
use crate::common::TestApp;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// How long anything the tracker sends may take to show up in the admin API.
pub const DEADLINE: Duration = Duration::from_secs(15);

/// A site for every loopback origin; returns its clientId.
pub async fn site(t: &TestApp) -> String {
    t.create_site("127.0.0.1").await.0
}

/// Changes the site's settings (`config` is merged by the server).
pub async fn set_config(t: &TestApp, client: &str, config: Value) {
    let r = t.put(&format!("/v1/clients/{client}")).json(&json!({ "config": config })).send().await.unwrap();
    assert_eq!(r.status(), 200, "PUT config: {}", r.text().await.unwrap_or_default());
}

/// A page of the site: `head` goes before the tracker snippet, `body` is the body.
pub fn page_with(base: &str, client: &str, head: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Test page</title>{head}\
         <script src=\"{base}/script/{client}.js\" async></script></head><body>{body}</body></html>"
    )
}

pub fn page(t: &TestApp, client: &str, body: &str) -> String {
    page_with(&t.base, client, "", body)
}

/// Opens `url` in a new tab and waits for the tracker to be running.
pub async fn open(chrome: &Browser, url: &str) -> Page {
    let page = chrome.new_page().await;
    page.goto(url).await;
    ready(&page).await;
    page
}

pub async fn ready(page: &Page) {
    page.wait_for("window.crmTracker && typeof window.crmTracker.flush === 'function'", DEADLINE).await;
}

/// Asks the tracker to send its queue now (instead of waiting for its 5 s batch timer).
pub async fn flush(page: &Page) {
    page.eval("window.crmTracker.flush(), true").await;
}

/// Sends the tracker's queue now and waits until the server has acknowledged all of it.
pub async fn flush_all(page: &Page) {
    flush(page).await;
    page.wait_for("JSON.parse(localStorage.crm_u).q.length === 0", DEADLINE).await;
}

/// Records the page's network requests (for the few checks the admin API cannot make).
pub async fn record_network(page: &Page) {
    page.call("Network.enable", json!({})).await.expect("Network.enable");
}

/// Requests the page made to the ingest endpoints (needs [`record_network`]).
pub fn track_requests(page: &Page) -> Vec<Value> {
    page.events("Network.requestWillBeSent")
        .into_iter()
        .filter(|e| e["params"]["request"]["url"].as_str().is_some_and(|u| u.contains("/v1/track")))
        .collect()
}

pub fn no_exceptions(page: &Page) {
    let ex = page.exceptions();
    assert!(ex.is_empty(), "the page threw: {ex:#?}");
}

/// Waits `d` since `from` (only for the server's "a human needs 2 s to fill a form" rule).
pub async fn sleep_until(from: Instant, d: Duration) {
    let until = from + d;
    let now = Instant::now();
    if until > now {
        tokio::time::sleep(until - now).await;
    }
}

// ---- admin API ----

/// A running server the admin API can be asked (the common harness, or a test's own).
pub trait Admin: Sync {
    fn admin_get(&self, path: &str) -> reqwest::RequestBuilder;
}

impl Admin for TestApp {
    fn admin_get(&self, path: &str) -> reqwest::RequestBuilder {
        self.get(path)
    }
}

pub async fn get_json(t: &impl Admin, path: &str) -> Value {
    let r = t.admin_get(path).send().await.expect("request");
    assert!(r.status().is_success(), "GET {path}: {}", r.status());
    r.json().await.expect("json")
}

pub async fn leads(t: &impl Admin, client: &str) -> Vec<Value> {
    get_json(t, &format!("/v1/leads?clientId={client}&limit=500")).await["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

pub async fn events(t: &impl Admin, client: &str, kind: &str) -> Vec<Value> {
    get_json(t, &format!("/v1/events?clientId={client}&type={kind}&limit=500")).await["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Polls until `check` returns `Some`, failing with `what` (and the last state) at the deadline.
pub async fn poll<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + DEADLINE;
    loop {
        match check().await {
            Ok(v) => return v,
            Err(state) => assert!(Instant::now() < deadline, "timed out waiting for {what}; last seen: {state}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the site has at least `n` leads; fails if it has more than `n`.
pub async fn wait_for_leads(t: &impl Admin, client: &str, n: usize) -> Vec<Value> {
    let found = poll(&format!("{n} lead(s)"), || async {
        let l = leads(t, client).await;
        if l.len() >= n { Ok(l) } else { Err(format!("{l:#?}")) }
    })
    .await;
    assert_eq!(found.len(), n, "expected exactly {n} lead(s): {found:#?}");
    found
}

/// Waits until a lead of the site has `email` and satisfies `ok`; returns it.
pub async fn wait_for_lead(t: &impl Admin, client: &str, email: &str, ok: impl Fn(&Value) -> bool) -> Value {
    poll(&format!("a lead for {email}"), || async {
        let l = leads(t, client).await;
        match l.iter().find(|l| l["email"] == email && ok(l)) {
            Some(lead) => Ok(lead.clone()),
            None => Err(format!("{l:#?}")),
        }
    })
    .await
}

/// Waits until the site has at least `n` events of `kind`; fails if it has more.
pub async fn wait_for_events(t: &impl Admin, client: &str, kind: &str, n: usize) -> Vec<Value> {
    let found = poll(&format!("{n} {kind} event(s)"), || async {
        let e = events(t, client, kind).await;
        if e.len() >= n { Ok(e) } else { Err(format!("{e:#?}")) }
    })
    .await;
    assert_eq!(found.len(), n, "expected exactly {n} {kind} event(s): {found:#?}");
    found
}

pub fn lead_by_email<'a>(leads: &'a [Value], email: &str) -> &'a Value {
    leads.iter().find(|l| l["email"] == email).unwrap_or_else(|| panic!("no lead for {email} in {leads:#?}"))
}

/// The captured field whose name contains `part`.
pub fn field_containing<'a>(lead: &'a Value, part: &str) -> (&'a String, &'a Value) {
    lead["fields"]
        .as_object()
        .and_then(|f| f.iter().find(|(k, _)| k.to_lowercase().contains(part)))
        .unwrap_or_else(|| panic!("no field named like {part:?} in {:#}", lead["fields"]))
}
