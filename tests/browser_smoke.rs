//! The browser harness itself: a page from another origin loads the tracker from the
//! server and a typed submission becomes a lead.

#[path = "common/browser.rs"]
mod browser;
mod common;

use common::*;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typed_submission_in_chromium_becomes_a_lead() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let (client, _) = t.create_site("127.0.0.1").await;
    let page_html = format!(
        r#"<!doctype html><html><head><script src="{}/script/{client}.js" async></script></head><body>
        <form id="contact" action="/thanks" method="post">
          <label>Email <input type="email" name="email" id="email" required></label>
          <label>Password <input type="password" name="password" id="pw"></label>
          <button id="send">Send</button></form></body></html>"#,
        t.base
    );
    let (site, _server) = browser::serve_pages(vec![("/", page_html)]).await;
    let page = chrome.new_page().await;
    page.goto(&format!("{site}/")).await;
    page.wait_for("window.crmTracker", Duration::from_secs(10)).await;
    page.fill("#email", "browser@example.com").await;
    page.fill("#pw", "s3cret-Passw0rd").await;
    page.click("#send").await;
    page.wait_for("location.pathname === '/thanks'", Duration::from_secs(10)).await;

    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let leads = t.get_json(&format!("/v1/leads?clientId={client}")).await;
        if let Some(lead) = leads["items"].as_array().and_then(|a| a.first()) {
            assert_eq!(lead["email"], "browser@example.com");
            assert_eq!(lead["status"], "submitted");
            assert!(!lead.to_string().contains("s3cret-Passw0rd"));
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no lead arrived");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(page.exceptions().is_empty(), "{:?}", page.exceptions());
    t.stop().await;
}
