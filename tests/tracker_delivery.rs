//! Delivery (issue 3, points 6 and 12): a server that is down and comes back on the same
//! port and data file gets every event exactly once with its original id, from the
//! localStorage queue after a reload and from the in-page retry; 429 + Retry-After is honoured.

#[path = "common/browser.rs"]
mod browser;
mod common;
mod tracker_support;

use common::*;
use crm_tracker::app::App;
use crm_tracker::config::ServeConfig;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tracker_support::*;

/// The real server on a port chosen by the test, so it can be stopped and started again on
/// the same address and data file (the common harness always binds a new port).
struct Server {
    base: String,
    token: String,
    http: reqwest::Client,
    app: App,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Admin for Server {
    fn admin_get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.token)
    }
}

impl Server {
    async fn start(addr: SocketAddr, data: &Path) -> Server {
        // The previous server's socket may linger for a moment.
        let deadline = Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match TcpListener::bind(addr).await {
                Ok(l) => break l,
                Err(e) => assert!(Instant::now() < deadline, "cannot bind {addr} again: {e}"),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let app = App::open(ServeConfig::for_tests(data.to_path_buf())).expect("open app");
        let (_, token) = app.create_token("tests").await.expect("token");
        let (stop, stopped) = oneshot::channel::<()>();
        let served = app.clone();
        let task = tokio::spawn(async move {
            crm_tracker::http::serve(listener, served, async {
                let _ = stopped.await;
            })
            .await
            .expect("serve");
        });
        Server { base: format!("http://{addr}"), token, http: reqwest::Client::new(), app, stop, task }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
        self.app.writer.shutdown();
    }

    async fn create_site(&self) -> String {
        let r = self
            .http
            .post(format!("{}/v1/clients", self.base))
            .bearer_auth(&self.token)
            .json(&json!({"domain": "127.0.0.1"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        r.json::<Value>().await.unwrap()["clientId"].as_str().unwrap().to_string()
    }
}

/// A server on an address and data file it can be started on again, one site, and two
/// pages of that site (`/` and `/next`) served from another origin.
struct Restartable {
    _dir: tempfile::TempDir,
    data: PathBuf,
    addr: SocketAddr,
    server: Server,
    client: String,
    site_url: String,
    _pages: tokio::task::JoinHandle<()>,
}

impl Restartable {
    async fn with_pages(first: &str, next: &str) -> Restartable {
        let dir = tempfile::tempdir().unwrap();
        let data: PathBuf = dir.path().join("data.redb");
        let addr = free_addr().await;
        let server = Server::start(addr, &data).await;
        let client = server.create_site().await;
        let (site_url, pages) = browser::serve_pages(vec![
            ("/", page_with(&server.base, &client, "", first)),
            ("/next", page_with(&server.base, &client, "", next)),
        ])
        .await;
        Restartable { _dir: dir, data, addr, server, client, site_url, _pages: pages }
    }
}

async fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap()
}

/// The ids the page sent for events of `kind` whose fields hold `email`, one per request
/// (a retried event appears once per attempt).
fn sent_ids(page: &browser::Page, kind: &str, email: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for r in track_requests(page) {
        let Some(body) = r["params"]["request"]["postData"].as_str() else { continue };
        let Ok(v) = serde_json::from_str::<Value>(body) else { continue };
        for e in v["events"].as_array().cloned().unwrap_or_else(|| vec![v.clone()]) {
            if e["type"] == kind && e["fields"].to_string().contains(email) {
                ids.push(e["id"].as_str().unwrap_or("").to_string());
            }
        }
    }
    ids
}

const FORM_PAGE: &str = r#"<form id="contact" action="/thanks" method="post">
  <label>Email <input type="email" name="email" id="email"></label>
  <label>Name <input name="name" id="name"></label><button id="send">Send</button></form>"#;

const AJAX_PAGE: &str = r#"<form id="later"><label>Email <input type="email" name="email" id="email"></label>
  <button id="send">Send</button></form><p id="status"></p>
  <script>document.getElementById('later').addEventListener('submit', e => { e.preventDefault();
    fetch('/thanks', {method: 'POST'}).then(() => document.getElementById('status').textContent = 'sent'); });</script>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_down_then_back_gets_each_event_exactly_once() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let Restartable { _dir, data, addr, server, client, site_url, _pages } =
        Restartable::with_pages(FORM_PAGE, AJAX_PAGE).await;

    let page = chrome.new_page().await;
    record_network(&page).await;
    page.goto(&format!("{site_url}/")).await;
    ready(&page).await;
    page.fill("#email", "offline@example.com").await;
    page.fill("#name", "Offline Olga").await;

    // The server goes down; the visitor submits; the site itself keeps working.
    server.stop().await;
    page.click("#send").await;
    page.wait_for("location.pathname === '/thanks'", DEADLINE).await;
    let tried = sent_ids(&page, "form_submission", "offline@example.com");
    assert!(!tried.is_empty(), "the tracker tried to send the submission while the server was down");

    // Back on the same port and data file; the visitor opens another page of the site.
    let server = Server::start(addr, &data).await;
    page.goto(&format!("{site_url}/next")).await;
    ready(&page).await;
    let lead = wait_for_lead(&server, &client, "offline@example.com", |l| l["status"] == "submitted").await;
    assert_eq!(lead["name"], "Offline Olga");
    let stored = wait_for_events(&server, &client, "form_submission", 1).await;
    let ids = sent_ids(&page, "form_submission", "offline@example.com");
    assert!(ids.len() > tried.len(), "it was sent again after the restart: {ids:?}");
    assert!(ids.iter().all(|id| *id == ids[0]), "the event kept its id across retries: {ids:?}");
    assert_eq!(stored[0]["clientEventId"], ids[0]);

    // Reloads do not send it again (it left the queue on the 2xx).
    let before = ids.len();
    page.goto(&format!("{site_url}/next")).await;
    ready(&page).await;
    flush(&page).await;

    // In-page retry: the server drops while this page is open, and comes back.
    page.fill("#email", "retry@example.com").await;
    server.stop().await;
    page.click("#send").await;
    page.wait_for("document.getElementById('status').textContent === 'sent'", DEADLINE).await;
    tokio::time::sleep(Duration::from_millis(300)).await; // down for a moment
    let server = Server::start(addr, &data).await;
    // No reload, no flush(): the tracker's own backoff retry delivers it.
    wait_for_lead(&server, &client, "retry@example.com", |l| l["status"] == "submitted").await;
    let subs = wait_for_events(&server, &client, "form_submission", 2).await;
    let retry_ids = sent_ids(&page, "form_submission", "retry@example.com");
    assert!(retry_ids.len() >= 2, "failed, then retried: {retry_ids:?}");
    assert!(retry_ids.iter().all(|id| *id == retry_ids[0]), "{retry_ids:?}");
    assert!(subs.iter().any(|e| e["clientEventId"] == retry_ids[0]));
    assert_eq!(
        sent_ids(&page, "form_submission", "offline@example.com").len(),
        before,
        "the delivered submission was not sent again"
    );
    assert_eq!(wait_for_leads(&server, &client, 2).await.len(), 2);
    no_exceptions(&page);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_sends_wait_for_retry_after() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServeConfig::for_tests(dir.path().join("data.redb"));
    config.rate_limits.per_ip_per_minute = 60; // bursts of 10, then one a second
    let t = spawn_with(config).await;
    let client = site(&t).await;
    let (site_url, _pages) = browser::serve_pages(vec![("/", page(&t, &client, AJAX_PAGE))]).await;
    let page = chrome.new_page().await;
    record_network(&page).await;
    page.goto(&format!("{site_url}/")).await;
    ready(&page).await;
    page.fill("#email", "limited@example.com").await;

    // Someone else on this IP keeps using up the allowance while the visitor submits.
    let hammering = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let (http, url, flag) = (t.http.clone(), t.url("/v1/track/batch"), hammering.clone());
    let hammer = tokio::spawn(async move {
        let mut refused = 0;
        while flag.load(std::sync::atomic::Ordering::Relaxed) {
            let r = http.post(&url).header("Content-Type", "text/plain").body("{}").send().await.unwrap();
            refused += usize::from(r.status() == 429);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        refused
    });
    poll("the allowance to be used up", || async {
        let r = t.track_batch("http://127.0.0.1", &client, vec![]).await;
        if r.status() == 429 { Ok(()) } else { Err(r.status().to_string()) }
    })
    .await;
    page.click("#send").await;
    let refused_429 = |page: &browser::Page| {
        page.events("Network.responseReceived").into_iter().find(|r| {
            r["params"]["response"]["url"].as_str().is_some_and(|u| u.contains("/v1/track"))
                && r["params"]["response"]["status"] == 429
        })
    };
    let refusal = poll("the tracker to be refused with 429", || async {
        refused_429(&page).ok_or_else(|| format!("{:#?}", page.events("Network.responseReceived")))
    })
    .await;
    hammering.store(false, std::sync::atomic::Ordering::Relaxed);
    assert!(hammer.await.unwrap() > 0);

    wait_for_lead(&t, &client, "limited@example.com", |l| l["status"] == "submitted").await;
    let requests = track_requests(&page);
    let headers = &refusal["params"]["response"]["headers"];
    let retry_after: f64 = headers
        .as_object()
        .and_then(|h| h.iter().find(|(k, _)| k.eq_ignore_ascii_case("retry-after")))
        .and_then(|(_, v)| v.as_str()?.parse().ok())
        .expect("Retry-After on the 429");
    let refused_at = refusal["params"]["timestamp"].as_f64().unwrap();
    let next = requests
        .iter()
        .filter_map(|r| r["params"]["timestamp"].as_f64())
        .find(|ts| *ts > refused_at)
        .expect("a retry after the 429");
    assert!(
        next - refused_at >= retry_after - 0.05,
        "retried {:.2} s after a 429 with Retry-After: {retry_after}",
        next - refused_at
    );
    let ids = sent_ids(&page, "form_submission", "limited@example.com");
    assert!(ids.len() >= 2 && ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    wait_for_events(&t, &client, "form_submission", 1).await;
    no_exceptions(&page);
    t.stop().await;
}

const LONG_FORM_PAGE: &str = r#"<form id="long"><label>Email <input type="email" name="email" id="email"></label>
  <textarea name="a"></textarea><textarea name="b"></textarea><textarea name="c"></textarea>
  <textarea name="d"></textarea><textarea name="e"></textarea>
  <button id="send">Send</button></form><p id="status"></p>
  <script>document.getElementById('long').addEventListener('submit', e => { e.preventDefault();
    document.getElementById('status').textContent = 'sent ' + document.getElementById('email').value; });</script>"#;

/// Events queued while the server was away can add up to more than the 64 KiB a request may
/// carry (the browser fails a keepalive fetch that large as if offline; the server would
/// answer 413): the tracker then sends them one per request, instead of failing with all
/// ten for ever or dropping them (each event alone is far below the limit).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_over_the_request_limit_is_delivered_one_event_at_a_time() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let Restartable { _dir, data, addr, server, client, site_url, _pages } =
        Restartable::with_pages(LONG_FORM_PAGE, "<p>next</p>").await;
    let page = chrome.new_page().await;
    page.goto(&format!("{site_url}/")).await;
    ready(&page).await;
    server.stop().await;

    // Five submissions of five 1,000-character Japanese answers (3 bytes each in UTF-8):
    // about 15 KB each, 75 KB together.
    page.eval("document.querySelectorAll('textarea').forEach(t => t.value = 'あ'.repeat(1000))").await;
    // Addresses far apart: one visitor's corrected typo would be one lead.
    let emails =
        ["alpha@example.com", "bravo@example.org", "charlie@example.net", "delta@example.io", "echo@example.dev"];
    for email in emails {
        page.eval("document.getElementById('email').value = ''").await;
        page.fill("#email", email).await;
        page.click("#send").await;
        page.wait_for(&format!("document.getElementById('status').textContent === 'sent {email}'"), DEADLINE).await;
    }
    let queued =
        page.eval("JSON.stringify(JSON.parse(localStorage.crm_u).q.filter(e => e.type == 'form_submission'))").await;
    let queued: Vec<Value> = serde_json::from_str(queued.as_str().unwrap()).unwrap();
    assert_eq!(queued.len(), 5, "all five waited in the queue");
    assert!(json!({"events": queued}).to_string().len() > 64 * 1024, "together they are over the request limit");

    let server = Server::start(addr, &data).await;
    page.goto(&format!("{site_url}/next")).await;
    ready(&page).await;
    let stored = wait_for_events(&server, &client, "form_submission", 5).await;
    assert_eq!(stored.len(), 5);
    for email in emails {
        let lead = wait_for_lead(&server, &client, email, |l| l["status"] == "submitted").await;
        assert_eq!(lead["fields"]["a"].as_str().map(|a| a.chars().count()), Some(1000), "{lead:#}");
    }
    page.wait_for("JSON.parse(localStorage.crm_u).q.length === 0", DEADLINE).await;
    no_exceptions(&page);
    server.stop().await;
}

/// One event the server refuses (a value over 4 KiB, sent through the chat widget's hook,
/// which does not cut values) refuses its whole request: the others in it are sent again
/// one per request and stored; only the refused one is dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_refused_on_its_own_does_not_take_its_batch_with_it() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    let (site_url, _pages) = browser::serve_pages(vec![("/", page(&t, &client, "<p>hello</p>"))]).await;
    let page = open(&chrome, &format!("{site_url}/")).await;
    flush(&page).await;
    // Not submissions, so both wait in the queue and go in one request.
    page.eval(
        "crmTracker._track('form_interaction', {trigger: 'blur', fields: {email: 'toolong@example.com', note: 'x'.repeat(5000)}}); \
         crmTracker._track('form_interaction', {trigger: 'blur', fields: {email: 'fine@example.com'}}); crmTracker.flush()",
    )
    .await;
    wait_for_lead(&t, &client, "fine@example.com", |l| l["status"] == "partial").await;
    page.wait_for("JSON.parse(localStorage.crm_u).q.length === 0", DEADLINE).await;
    let leads = leads(&t, &client).await;
    assert!(leads.iter().all(|l| l["email"] != "toolong@example.com"), "{leads:#?}");
    no_exceptions(&page);
    t.stop().await;
}
