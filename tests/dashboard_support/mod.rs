//! Shared helpers of the dashboard browser tests (`tests/dashboard_*.rs`): signing in
//! through the form, and checks that a page ran no hostile script and logged no errors.
#![allow(dead_code)]

use crate::browser::{Browser, Page};
use crate::common::*;
use serde_json::{Value, json};
use std::time::Duration;

pub const USER: &str = "admin";
pub const PASS: &str = "correct horse battery";
pub const WAIT: Duration = Duration::from_secs(10);

/// A JS string literal.
pub fn js(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// A page that records console output, log entries (CSP reports among them) and
/// `securitypolicyviolation` events.
pub async fn watched_page(chrome: &Browser) -> Page {
    let page = chrome.new_page().await;
    page.call("Log.enable", json!({})).await.expect("Log.enable");
    page.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation', \
         (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`));",
    )
    .await;
    page.set_viewport(1280, 900).await;
    page
}

/// Exceptions, console errors, error log entries (except the 401s a signed-out dashboard
/// gets by design), JS dialogs and CSP violations seen so far.
pub async fn problems(page: &Page) -> Vec<String> {
    let mut out: Vec<String> = page.exceptions().iter().map(|e| format!("exception: {}", e["params"])).collect();
    for e in page.events("Runtime.consoleAPICalled") {
        if matches!(e["params"]["type"].as_str(), Some("error" | "assert")) {
            out.push(format!("console.{}: {}", e["params"]["type"], e["params"]["args"]));
        }
    }
    for e in page.events("Log.entryAdded") {
        let entry = &e["params"]["entry"];
        if entry["level"] != "error" {
            continue;
        }
        let url = entry["url"].as_str().unwrap_or("");
        let expected_401 = entry["source"] == "network"
            && entry["text"].as_str().unwrap_or("").contains("401")
            && (url.ends_with("/v1/auth/me") || url.ends_with("/v1/auth/login"));
        if !expected_401 {
            out.push(format!("log {}: {} {url}", entry["source"], entry["text"]));
        }
    }
    out.extend(page.dialogs().iter().map(|d| format!("dialog: {}", d["params"])));
    if let Ok(Value::Array(csp)) = page.try_eval("window.__csp || []").await {
        out.extend(csp.iter().map(|v| format!("CSP violation: {v}")));
    }
    out
}

pub async fn assert_clean(page: &Page, at: &str) {
    let p = problems(page).await;
    assert!(p.is_empty(), "{at}: {p:#?}");
}

/// Waits until the routed view with this `<h1>` has rendered (its first data loaded).
pub async fn wait_view(page: &Page, h1: &str) {
    page.wait_for(
        &format!(
            "(() => {{ const h = document.querySelector('main h1'); \
             return !!h && h.textContent.trim() === {} && !document.querySelector('main > [data-testid=loading]'); }})()",
            js(h1)
        ),
        WAIT,
    )
    .await;
}

pub async fn count(page: &Page, selector: &str) -> u64 {
    page.eval(&format!("document.querySelectorAll({}).length", js(selector))).await.as_u64().unwrap()
}

pub async fn text_of(page: &Page, selector: &str) -> String {
    page.eval(&format!("document.querySelector({})?.innerText ?? ''", js(selector))).await.as_str().unwrap().to_string()
}

/// Types the credentials into the login form and submits it with the button.
pub async fn sign_in(page: &Page, t: &TestApp) {
    page.goto(&t.url("/admin/")).await;
    page.wait_for("!!document.querySelector('[data-testid=login-form]')", WAIT).await;
    page.fill("[data-testid=login-username]", USER).await;
    page.fill("[data-testid=login-password]", PASS).await;
    page.click("[data-testid=login-submit]").await;
    wait_view(page, "Overview").await;
}

/// Clicks the middle of the first line of a (possibly wrapped) link, as a person aims at
/// its text; the centre of a two-line link's box can be empty cell space.
pub async fn click_link(page: &Page, selector: &str) {
    let at = page
        .eval(&format!(
            "(() => {{ const e = document.querySelector({}); if (!e) return null; e.scrollIntoView({{block: 'center'}}); \
             const r = e.getClientRects()[0]; return [r.x + r.width / 2, r.y + r.height / 2]; }})()",
            js(selector)
        ))
        .await;
    let (x, y) = match at.as_array() {
        Some(a) => (a[0].as_f64().unwrap(), a[1].as_f64().unwrap()),
        None => panic!("no element matches {selector}"),
    };
    for (kind, buttons) in [("mouseMoved", 0), ("mousePressed", 1), ("mouseReleased", 0)] {
        page.call(
            "Input.dispatchMouseEvent",
            json!({"type": kind, "x": x, "y": y, "button": "left", "buttons": buttons, "clickCount": 1}),
        )
        .await
        .expect("mouse");
    }
}

/// Presses Tab until the focused element matches `selector`.
pub async fn tab_to(page: &Page, selector: &str) {
    let test = format!("document.activeElement?.matches({}) ?? false", js(selector));
    for _ in 0..60 {
        if page.eval(&test).await == json!(true) {
            return;
        }
        page.press("Tab").await;
    }
    panic!("Tab never reached {selector}");
}
