//! The tracker never breaks the host page (issue 3, point 8): no exceptions, a page that
//! already has `window.crmTracker`, the snippet included twice, forms whose inputs shadow
//! form properties, blocked storage and a wrapped `fetch`.

#[path = "common/browser.rs"]
mod browser;
mod common;
mod tracker_support;

use common::*;
use tracker_support::*;

const AJAX_FORM: &str = r#"<form id="f"><label>Email <input type="email" name="email" id="email"></label>
  <label>Name <input name="name" id="name"></label><button id="send">Send</button></form><p id="status"></p>
  <script>let sent = 0; document.getElementById('f').addEventListener('submit', e => { e.preventDefault();
    fetch('/thanks', {method: 'POST'}).then(() => document.getElementById('status').textContent = 'sent ' + (++sent)); });</script>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snippet_included_twice_captures_once() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    let again = format!("<script src=\"{}/script/{client}.js\"></script>", t.base);
    let html = page_with(&t.base, &client, &again, &format!("{AJAX_FORM}{again}"));
    let (site_url, _server) = browser::serve_pages(vec![("/", html)]).await;
    let page = open(&chrome, &format!("{site_url}/")).await;
    page.fill("#email", "twice@example.com").await;
    page.click("#send").await;
    page.wait_for("document.getElementById('status').textContent === 'sent 1'", DEADLINE).await;
    page.click("#name").await;
    page.type_text("Twice Tina").await;
    page.click("#send").await;
    page.wait_for("document.getElementById('status').textContent === 'sent 2'", DEADLINE).await;
    let lead = wait_for_lead(&t, &client, "twice@example.com", |l| l["name"] == "Twice Tina").await;
    assert_eq!(lead["status"], "submitted");
    // Two submissions, each captured once (a second copy would double them).
    let subs = wait_for_events(&t, &client, "form_submission", 2).await;
    assert_ne!(subs[0]["clientEventId"], subs[1]["clientEventId"]);
    // Event ids are UUID v7 (the time in ms in the first 48 bits): ids sent one after another
    // never go down (the server's dedup index then takes its keys in order). In send order:
    let mut ids: Vec<(&str, &str)> =
        subs.iter().map(|e| (e["eventId"].as_str().unwrap(), e["clientEventId"].as_str().unwrap())).collect();
    ids.sort();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    for (_, id) in &ids {
        assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7, "{id}");
        let ms = i64::from_str_radix(&id.replace('-', "")[..12], 16).unwrap();
        assert!((now - ms).abs() < 300_000, "{id} does not start with the time now ({now} ms)");
    }
    assert!(ids[0].1 <= ids[1].1, "event ids went down: {ids:?}");
    assert_eq!(wait_for_leads(&t, &client, 1).await.len(), 1);
    no_exceptions(&page);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_already_defines_crm_tracker_keeps_working() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    let head = "<script>window.crmTracker = {mine: true, hello: () => 'host'};</script>";
    let body = format!(
        "{AJAX_FORM}<script>window.addEventListener('load', () => \
         document.body.dataset.hello = window.crmTracker.hello());</script>"
    );
    let (site_url, _server) = browser::serve_pages(vec![("/", page_with(&t.base, &client, head, &body))]).await;
    let page = chrome.new_page().await;
    record_network(&page).await;
    page.goto(&format!("{site_url}/")).await;
    // The tracker script has run (loaded and executed) by the time load fires.
    page.wait_for("performance.getEntriesByType('resource').some(r => r.name.includes('/script/'))", DEADLINE).await;
    assert_eq!(page.eval("document.body.dataset.hello").await, "host", "the host's own crmTracker still works");
    assert_eq!(page.eval("window.crmTracker.mine").await, true);
    page.fill("#email", "predefined@example.com").await;
    page.click("#send").await;
    page.wait_for("document.getElementById('status').textContent === 'sent 1'", DEADLINE).await;
    no_exceptions(&page);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inputs_that_shadow_form_properties() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    // <input name="id"> makes form.id an element, name="action" form.action, and so on.
    let body = r#"<form id="legacy" name="legacy" action="/thanks" method="post">
      <input type="hidden" name="id" value="42"><input type="hidden" name="action" value="save">
      <label>Name <input name="name"></label><label>Email <input type="email" name="email" id="email"></label>
      <label>Method <input name="method"></label><label>Class <input name="className"></label>
      <button name="submit" id="send">Save</button></form>"#;
    let (site_url, _server) = browser::serve_pages(vec![("/", page(&t, &client, body))]).await;
    let page = open(&chrome, &format!("{site_url}/")).await;
    page.fill("input[name=name]", "Shadow Sam").await;
    page.fill("#email", "shadowed@example.com").await;
    page.fill("input[name=method]", "phone").await;
    page.click("#send").await;
    page.wait_for("location.pathname === '/thanks'", DEADLINE).await;
    let lead = wait_for_lead(&t, &client, "shadowed@example.com", |l| l["status"] == "submitted").await;
    assert_eq!(lead["name"], "Shadow Sam");
    assert_eq!(lead["formRef"], "legacy");
    // The server makes the selector from formId and formName; a form whose id and name are
    // the same is found by its name.
    assert_eq!(lead["metadata"]["formSelector"], "form[name=legacy]");
    no_exceptions(&page);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_storage_and_wrapped_fetch_do_not_break_capture() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    let (site_url, _server) = browser::serve_pages(vec![("/", page(&t, &client, AJAX_FORM))]).await;
    let page = chrome.new_page().await;
    // Storage blocked (as with some privacy settings) and fetch wrapped by another script.
    page.add_init_script(
        "for (const k of ['localStorage', 'sessionStorage']) Object.defineProperty(window, k, \
         {get() { throw new DOMException('denied', 'SecurityError'); }}); \
         const f = window.fetch; window.fetch = function (...a) { window.fetches = (window.fetches || 0) + 1; return f.apply(this, a); };",
    )
    .await;
    page.goto(&format!("{site_url}/")).await;
    ready(&page).await;
    page.fill("#email", "nostorage@example.com").await;
    page.click("#send").await;
    page.wait_for("document.getElementById('status').textContent === 'sent 1'", DEADLINE).await;
    wait_for_lead(&t, &client, "nostorage@example.com", |l| l["status"] == "submitted").await;
    no_exceptions(&page);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_unless_debug_is_asked_for() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    let (site_url, _server) = browser::serve_pages(vec![("/", page(&t, &client, AJAX_FORM))]).await;
    for (query, email) in [("", "quiet@example.com"), ("?crm_debug=1", "debug@example.com")] {
        let page = open(&chrome, &format!("{site_url}/{query}")).await;
        page.fill("#email", email).await;
        page.click("#send").await;
        page.wait_for("document.getElementById('status').textContent === 'sent 1'", DEADLINE).await;
        wait_for_lead(&t, &client, email, |l| l["status"] == "submitted").await;
        let logged = page.events("Runtime.consoleAPICalled");
        if query.is_empty() {
            assert!(logged.is_empty(), "the tracker is silent by default: {logged:#?}");
        } else {
            assert!(!logged.is_empty(), "?crm_debug=1 logs to the console");
        }
        no_exceptions(&page);
        page.close().await;
    }
    t.stop().await;
}
