//! The chat widget (issue 3, point 9) in headless Chromium: loaded only when enabled,
//! used with the keyboard alone, isolated from the page's CSS, and a sent message is a
//! chat_inquiry lead.

#[path = "common/browser.rs"]
mod browser;
mod common;
mod tracker_support;

use common::*;
use serde_json::json;
use tracker_support::*;

/// Hostile page CSS: every rule would hide or restyle the widget if it reached it.
const HOST: &str = r#"<style>
  button, input, textarea, form, div, label, p { display: none !important; }
  * { font-size: 40px !important; }
</style>
<h2 id="heading">Our product</h2>
<a href="/docs" id="first">Docs</a>"#;

/// JS: the element holding the widget's shadow root.
const HOST_EL: &str = "[...document.querySelectorAll('body *')].find(e => e.shadowRoot)";

/// JS: the focused element inside the widget, if focus is there.
const FOCUSED: &str = "(() => { const h = [...document.querySelectorAll('body *')].find(e => e.shadowRoot); \
     return h && document.activeElement === h ? h.shadowRoot.activeElement : null; })()";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_widget_by_keyboard_becomes_a_chat_inquiry_lead() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    set_config(&t, &client, json!({"chatWidget": true})).await;
    let (site_url, _server) = browser::serve_pages(vec![("/", page(&t, &client, HOST))]).await;
    let page = open(&chrome, &format!("{site_url}/")).await;
    page.wait_for(&format!("{HOST_EL}?.shadowRoot.querySelector('button')"), DEADLINE).await;

    // Isolation: the page's rules do not hide the launcher, ours do not restyle the page.
    let launcher_box = page
        .eval(&format!(
            "(() => {{ const b = {HOST_EL}.shadowRoot.querySelector('button[aria-expanded]'); const r = b.getBoundingClientRect(); \
             return [getComputedStyle(b).display, r.width, r.height, getComputedStyle(b).fontSize]; }})()"
        ))
        .await;
    assert_ne!(launcher_box[0], "none", "the page's CSS hid the launcher: {launcher_box}");
    assert!(launcher_box[1].as_f64().unwrap() > 20.0 && launcher_box[2].as_f64().unwrap() > 10.0, "{launcher_box}");
    assert_ne!(launcher_box[3], "40px", "the page's font-size reached the widget: {launcher_box}");
    assert_ne!(
        page.eval("getComputedStyle(document.getElementById('heading')).marginTop").await,
        "0px",
        "the widget's h2 rule (margin:0) leaked into the page"
    );

    // Keyboard only: Tab to the launcher, Enter opens, focus goes into the form.
    let mut on_launcher = false;
    for _ in 0..6 {
        page.press("Tab").await;
        let f = page.eval(&format!("{FOCUSED}?.getAttribute('aria-expanded')")).await;
        if f == "false" {
            on_launcher = true;
            break;
        }
    }
    assert!(on_launcher, "Tab reaches the launcher");
    page.press("Enter").await;
    page.wait_for(&format!("{HOST_EL}.shadowRoot.querySelector('[role=dialog]:not([hidden])')"), DEADLINE).await;
    page.wait_for(&format!("{FOCUSED}?.tagName === 'INPUT'"), DEADLINE).await;
    page.type_text("Katherine Coleman").await;
    page.press("Tab").await;
    page.type_text("chat@example.com").await;
    page.press("Tab").await;
    page.type_text("Do you ship to Mars?").await;
    page.press("Tab").await;
    assert_eq!(page.eval(&format!("{FOCUSED}?.type")).await, "submit", "Tab reaches the send button");
    page.press("Enter").await;

    let lead = wait_for_lead(&t, &client, "chat@example.com", |_| true).await;
    assert_eq!(lead["status"], "chat_inquiry", "{lead:#}");
    assert_eq!(lead["name"], "Katherine Coleman");
    assert_eq!(lead["message"], "Do you ship to Mars?");
    wait_for_events(&t, &client, "chat_message_sent", 1).await;
    assert_eq!(page.eval("location.pathname").await, "/", "sending does not navigate the page");

    // Escape closes and gives focus back to the launcher.
    page.press("Escape").await;
    page.wait_for(&format!("{HOST_EL}.shadowRoot.querySelector('[role=dialog]').hidden"), DEADLINE).await;
    assert_eq!(page.eval(&format!("{FOCUSED}?.getAttribute('aria-expanded')")).await, "false");
    no_exceptions(&page);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_script_is_loaded_only_when_enabled() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    let body = r#"<form id="f"><input type="email" name="email" aria-label="Email"><button>Go</button></form>
      <p id="status"></p><script>document.getElementById('f').onsubmit = e => { e.preventDefault();
      document.getElementById('status').textContent = 'sent'; };</script>"#;
    let (site_url, _server) = browser::serve_pages(vec![("/", page(&t, &client, body))]).await;
    let page = chrome.new_page().await;
    record_network(&page).await;
    page.goto(&format!("{site_url}/")).await;
    ready(&page).await;
    // A submission is a marker that the tracker has run well past its start-up.
    page.fill("input", "nochat@example.com").await;
    page.press("Enter").await;
    wait_for_lead(&t, &client, "nochat@example.com", |_| true).await;
    let chat = page
        .events("Network.requestWillBeSent")
        .into_iter()
        .filter(|r| r["params"]["request"]["url"].as_str().is_some_and(|u| u.contains("chat")))
        .count();
    assert_eq!(chat, 0, "chat.js is not loaded for a site without the widget");
    assert_eq!(page.eval(&format!("!{HOST_EL}")).await, true);
    no_exceptions(&page);
    t.stop().await;
}
