//! Dashboard security in a real browser and over plain HTTP: signing in and out through the
//! form, hostile visitor text rendered only as text, CSV formula defusing, CSRF and
//! cross-origin refusals, logged-out refusals, the login rate limit and the response headers.
//!
//! The login rate limiter is one per process and keyed by client IP; Chromium always
//! connects from 127.0.0.1, so this file signs in through the browser at most 4 times and
//! the HTTP-level tests connect from other loopback addresses (127.0.0.2, .3, .4).

#[path = "common/browser.rs"]
mod browser;
mod common;
mod dashboard_support;

use browser::{Browser, Page};
use common::*;
use dashboard_support::*;
use serde_json::{Value, json};
use std::net::{IpAddr, Ipv4Addr};

// ---------------------------------------------------------------------------------------
// Shared helpers: tests/dashboard_support/mod.rs

/// An HTTP client connecting from another loopback address (its own login rate limit).
fn client_from(last_octet: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last_octet)))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn login_http(http: &reqwest::Client, t: &TestApp, password: &str) -> reqwest::Response {
    http.post(t.url("/v1/auth/login"))
        .json(&json!({"username": USER, "password": password}))
        .send()
        .await
        .expect("login request")
}

fn session_cookie(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("crm_session="))
        .map(str::to_string)
}

async fn error_code(r: reqwest::Response) -> String {
    let v: Value = r.json().await.unwrap_or(Value::Null);
    v["error"]["code"].as_str().unwrap_or("").to_string()
}

// ---------------------------------------------------------------------------------------
// 1. login / logout through the form

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_and_out_through_the_form() {
    let Some(chrome) = Browser::launch().await else { return };
    let t = spawn_app().await;
    t.app.create_user(USER, PASS).await.unwrap();
    let page = watched_page(&chrome).await;

    page.goto(&t.url("/admin/")).await;
    page.wait_for("!!document.querySelector('[data-testid=login-form]')", WAIT).await;
    assert_eq!(page.eval("document.getElementById('topbar').hidden").await, json!(true), "no app chrome before login");
    assert_eq!(
        page.eval("document.getElementById('topbar').getBoundingClientRect().height").await,
        json!(0),
        "the navigation is not visible"
    );

    // A wrong password: an error, still the form, nothing signed in.
    page.fill("[data-testid=login-username]", USER).await;
    page.fill("[data-testid=login-password]", "wrong horse battery").await;
    page.click("[data-testid=login-submit]").await;
    page.wait_for("document.querySelector('[data-testid=login-error]').innerText.length > 0", WAIT).await;
    assert_eq!(text_of(&page, "[data-testid=login-error]").await, "Wrong username or password.");
    assert_eq!(page.eval("document.getElementById('topbar').hidden").await, json!(true));
    assert_eq!(page.eval("document.querySelector('[data-testid=login-password]').value").await, json!(""));
    assert_eq!(
        page.eval("document.activeElement.dataset.testid").await,
        json!("login-password"),
        "focus goes back to the password"
    );
    assert_eq!(page.eval("fetch('/v1/auth/me').then((r) => r.status)").await, json!(401));

    // The right one (typed into the focused field, sent with Enter) opens the app.
    page.type_text(PASS).await;
    page.press("Enter").await;
    wait_view(&page, "Overview").await;
    assert_eq!(page.eval("document.getElementById('topbar').hidden").await, json!(false));
    assert_eq!(text_of(&page, "[data-testid=current-user]").await, USER);
    assert_eq!(
        page.eval("document.querySelector('[data-testid=nav-overview]').getAttribute('aria-current')").await,
        json!("page")
    );
    assert_eq!(count(&page, "[data-testid=login-form]").await, 0);
    assert_eq!(page.eval("document.cookie").await, json!(""), "the session cookie is HttpOnly");

    // The session survives a reload.
    page.eval("window.__before_reload = true").await;
    page.call("Page.reload", json!({})).await.unwrap();
    page.wait_for("window.__before_reload === undefined && document.readyState === 'complete'", WAIT).await;
    wait_view(&page, "Overview").await;

    // Log out: back to the form, and the server forgot the session.
    let cookies = page.call("Network.getCookies", json!({"urls": [t.base]})).await.unwrap();
    let old = cookies["cookies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "crm_session")
        .expect("session cookie")["value"]
        .as_str()
        .unwrap()
        .to_string();
    page.click("[data-testid=logout]").await;
    page.wait_for("!!document.querySelector('[data-testid=login-form]')", WAIT).await;
    assert_eq!(text_of(&page, "[data-testid=login-message]").await, "You have been signed out.");
    assert_eq!(page.eval("document.getElementById('topbar').hidden").await, json!(true));
    let r = reqwest::Client::new()
        .get(t.url("/v1/leads"))
        .header("Cookie", format!("crm_session={old}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "the old session id no longer works");
    page.eval("window.__before_reload = true").await;
    page.call("Page.reload", json!({})).await.unwrap();
    page.wait_for("window.__before_reload === undefined && document.readyState === 'complete'", WAIT).await;
    page.wait_for("!!document.querySelector('[data-testid=login-form]')", WAIT).await;
    assert_eq!(page.eval("document.getElementById('topbar').hidden").await, json!(true));

    assert_clean(&page, "login/logout").await;
    t.stop().await;
}

// ---------------------------------------------------------------------------------------
// 4. hostile visitor text

const SCRIPT: &str = "<script>alert(1)</script>";
const IMG: &str = "<img src=x onerror=alert(1)>";
const JS_URL: &str = "javascript:alert(1)";
const SVG: &str = "\"><svg onload=alert(1)>";

/// Counts what an injection would have created, whether or not the CSP stopped it running.
const INJECTED: &str = r#"(() => {
  const direct = document.querySelectorAll('img[src=x], svg[onload], a[href^="javascript:"], iframe, object, embed').length;
  const handlers = [...document.querySelectorAll('*')].filter((el) => [...el.attributes].some((a) => a.name.startsWith('on'))).length;
  const links = [...document.links].filter((a) => !['http:', 'https:'].includes(a.protocol)).length;
  const scripts = [...document.scripts].filter((s) => !s.src || s.textContent.includes('alert')).length;
  return { direct, handlers, links, scripts };
})()"#;

async fn assert_nothing_injected(page: &Page, at: &str) {
    assert_eq!(
        page.eval(r#"document.querySelectorAll('img[src=x], svg[onload], a[href^="javascript:"]').length"#).await,
        json!(0),
        "{at}: hostile markup became elements"
    );
    assert_eq!(page.eval(INJECTED).await, json!({"direct": 0, "handlers": 0, "links": 0, "scripts": 0}), "{at}");
    assert!(page.dialogs().is_empty(), "{at}: alert() ran: {:?}", page.dialogs());
}

async fn assert_visible_text(page: &Page, at: &str, texts: &[&str]) {
    let body = page.eval("document.body.innerText").await.as_str().unwrap().to_string();
    let bidi = |c: char| matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    assert!(!body.contains(bidi), "{at}: a bidi override or isolate is shown: {body:?}");
    for s in texts {
        assert!(body.contains(s), "{at}: {s:?} is not shown as text");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_lead_fields_are_shown_as_text_and_run_nothing() {
    let Some(chrome) = Browser::launch().await else { return };
    let t = spawn_app().await;
    t.app.create_user(USER, PASS).await.unwrap();
    let (client, _) = t.create_site("www.example.com").await;

    let mut hostile = submission("xss@example.com", "v-xss");
    hostile["formSelector"] = json!(format!("form[name='{SVG}']"));
    hostile["formId"] = json!(IMG);
    hostile["fields"] = json!({
        "email": "xss@example.com",
        "name": SCRIPT,
        "company": SVG,
        "message": IMG,
        "website": JS_URL,
        IMG: SVG,
        "homepage": format!("https://evil.example/{SVG}"),
        // Bidi overrides would turn the page's own sentences around them backwards.
        "invoice\u{202e}gnp.exe": "x\u{2066}admin\u{2069}y",
    });
    // The server refuses a page or landing page that is not an http(s) URL; markup inside one
    // still reaches the dashboard.
    let hostile_url = format!("https://evil.example/{SCRIPT}");
    hostile["page"] = json!({"url": hostile_url, "path": format!("/{SCRIPT}"), "title": IMG, "referrer": JS_URL});
    hostile["attribution"] =
        json!({"utm_source": SCRIPT, "utm_campaign": SVG, "utm_content": IMG, "landingPage": hostile_url});
    let mut nameless = submission("ignored@example.com", SVG);
    nameless["fields"] = json!({"name": IMG, "phone": SCRIPT});
    nameless["sessionId"] = json!(SCRIPT);
    let r = t.track_batch(ORIGIN, &client, vec![hostile, nameless]).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let leads = t.get_json("/v1/leads").await;
    let items = leads["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{leads}");
    let id_of = |email: Option<&str>| {
        items.iter().find(|l| l["email"].as_str() == email).unwrap()["leadId"].as_str().unwrap().to_string()
    };
    let (with_email, without_email) = (id_of(Some("xss@example.com")), id_of(None));

    let page = watched_page(&chrome).await;
    sign_in(&page, &t).await;

    // The list.
    page.click("[data-testid=nav-leads]").await;
    wait_view(&page, "Leads").await;
    page.wait_for("document.querySelectorAll('[data-testid=lead-row]').length === 2", WAIT).await;
    assert_nothing_injected(&page, "leads list").await;
    assert_visible_text(&page, "leads list", &[SCRIPT, IMG]).await;

    // Each lead's page, with the raw event payloads unfolded.
    for (id, texts) in [(&with_email, vec![SCRIPT, IMG, JS_URL, SVG]), (&without_email, vec![SCRIPT, IMG, SVG])] {
        click_link(&page, &format!("[data-lead-id='{id}'] [data-testid=lead-link]")).await;
        page.wait_for(&format!("location.hash === '#/leads/{id}'"), WAIT).await;
        page.wait_for("!!document.querySelector('[data-testid=lead-title]')", WAIT).await;
        page.wait_for("document.querySelectorAll('[data-testid=timeline-event]').length > 0", WAIT).await;
        page.click("[data-testid=timeline-event] details summary").await;
        page.wait_for("document.querySelector('[data-testid=timeline-event] details').open", WAIT).await;
        assert_nothing_injected(&page, &format!("lead {id}")).await;
        assert_visible_text(&page, &format!("lead {id}"), &texts).await;
        let payload = text_of(&page, "[data-testid=timeline-event] pre").await;
        assert!(payload.contains(SCRIPT) && payload.contains(IMG), "{payload}");
        page.click("[data-testid=back-to-leads]").await;
        wait_view(&page, "Leads").await;
    }
    // Where each payload lands on the first lead's page.
    click_link(&page, &format!("[data-lead-id='{with_email}'] [data-testid=lead-link]")).await;
    page.wait_for("!!document.querySelector('[data-testid=lead-fields] dl')", WAIT).await;
    let fields = text_of(&page, "[data-testid=lead-fields]").await;
    for s in [SCRIPT, IMG, JS_URL, SVG] {
        assert!(fields.contains(s), "all fields card lacks {s:?}: {fields}");
    }
    assert!(text_of(&page, "[data-testid=lead-contact]").await.contains(SCRIPT));
    assert!(text_of(&page, "[data-testid=lead-attribution]").await.contains(SCRIPT));
    let page_card = text_of(&page, "[data-testid=lead-page]").await;
    assert!(page_card.contains(JS_URL) && page_card.contains(IMG), "{page_card}");
    assert_eq!(
        page.eval("[...document.querySelectorAll('[data-testid=lead-fields] a')].map((a) => a.protocol)").await,
        json!(["https:"]),
        "only the http(s) value is a link"
    );
    page.eval("document.querySelector('[data-testid=lead-contact]').scrollIntoView({block: 'start'})").await;
    let shot = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots/dashboard-xss-lead.png");
    page.screenshot(&shot).await;

    // The discovered form (hostile selector, field names, page URL) and the overview.
    page.click("[data-testid=nav-forms]").await;
    wait_view(&page, "Forms").await;
    page.wait_for("!!document.querySelector('[data-testid=discovered-table]')", WAIT).await;
    assert_nothing_injected(&page, "forms").await;
    assert_visible_text(&page, "forms", &[SVG, IMG, hostile_url.as_str()]).await;
    page.click("[data-testid=nav-overview]").await;
    wait_view(&page, "Overview").await;
    assert_nothing_injected(&page, "overview").await;

    assert_clean(&page, "xss").await;
    t.stop().await;
}

// ---------------------------------------------------------------------------------------
// 7. CSV export of the current filter

/// Splits RFC 4180 text into rows of cells.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    if !cell.is_empty() || !row.is_empty() {
        row.push(cell);
        rows.push(row);
    }
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_export_of_the_current_filter_defuses_formulas() {
    let Some(chrome) = Browser::launch().await else { return };
    let t = spawn_app().await;
    t.app.create_user(USER, PASS).await.unwrap();
    let (client, _) = t.create_site("www.example.com").await;
    let mut formula = submission("formula@example.com", "v1");
    formula["fields"] = json!({
        "email": "formula@example.com", "name": "=HYPERLINK(\"http://x\")",
        "company": "+SUM(A1:A2)", "message": "@cmd|' /C calc'!A0", "phone": "-1+1555010",
    });
    let partial = interaction("partial@example.com", "v2");
    let r = t.track_batch(ORIGIN, &client, vec![formula, partial]).await;
    assert_eq!(r.status(), 200);

    let page = watched_page(&chrome).await;
    sign_in(&page, &t).await;
    page.click("[data-testid=nav-leads]").await;
    wait_view(&page, "Leads").await;
    page.wait_for("document.querySelectorAll('[data-testid=lead-row]').length === 2", WAIT).await;

    // Filter by status with the keyboard: focus the select and pick the first status.
    tab_to(&page, "[data-testid=filter-status]").await;
    page.press("ArrowDown").await;
    page.wait_for("location.hash.includes('status=submitted')", WAIT).await;
    page.wait_for("document.querySelectorAll('[data-testid=lead-row]').length === 1", WAIT).await;
    assert!(text_of(&page, "[data-testid=leads-table]").await.contains("formula@example.com"));

    let link = page
        .eval("(() => { const a = document.querySelector('[data-testid=export-csv]'); return [a.getAttribute('href'), a.href, a.hasAttribute('download')]; })()")
        .await;
    let (rel, href) = (link[0].as_str().unwrap().to_string(), link[1].as_str().unwrap().to_string());
    assert!(rel.starts_with("/v1/leads/export.csv?") && rel.contains("status=submitted"), "{rel}");
    assert_eq!(link[2], json!(true), "the link downloads");

    // The browser's own (HttpOnly) session cookie.
    let cookies = page.call("Network.getCookies", json!({"urls": [t.base]})).await.unwrap();
    let cookie = cookies["cookies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "crm_session")
        .unwrap_or_else(|| panic!("no session cookie: {cookies}"))
        .clone();
    assert_eq!(cookie["httpOnly"], json!(true));
    assert_eq!(cookie["sameSite"], json!("Strict"));

    let r = reqwest::Client::new()
        .get(&href)
        .header("Cookie", format!("crm_session={}", cookie["value"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let body = r.text().await.unwrap();
    assert!(body.contains(r#""'=HYPERLINK(""http://x"")""#), "{body}");
    assert!(!body.contains("partial@example.com"), "the filter applies to the export: {body}");
    let rows = parse_csv(&body);
    assert_eq!(rows.len(), 2, "header and one lead: {body}");
    let cell = |name: &str| {
        let i = rows[0].iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
        rows[1][i].clone()
    };
    assert_eq!(cell("email"), "formula@example.com");
    assert_eq!(cell("name"), "'=HYPERLINK(\"http://x\")");
    assert_eq!(cell("company"), "'+SUM(A1:A2)");
    assert_eq!(cell("message"), "'@cmd|' /C calc'!A0");
    assert_eq!(cell("phone"), "'-1+1555010");
    for row in &rows {
        for c in row {
            assert!(!c.starts_with(['=', '+', '-', '@']), "formula cell {c:?}");
        }
    }

    // Without the cookie the same link is refused.
    let r = reqwest::get(&href).await.unwrap();
    assert_eq!(r.status(), 401);

    assert_clean(&page, "csv").await;
    t.stop().await;
}

// ---------------------------------------------------------------------------------------
// 5. CSRF, cross-origin and logged-out requests; headers (no browser)

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_responses_carry_the_strict_security_headers() {
    let t = spawn_app().await;
    let http = client_from(2);
    for path in ["/admin/", "/admin/leads/some-client-route", "/admin/app.js", "/admin/views/lead.js"] {
        let r = http.get(t.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let h = r.headers();
        let csp = h.get("content-security-policy").unwrap_or_else(|| panic!("{path}: no CSP")).to_str().unwrap();
        let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
        assert!(directives.contains(&"script-src 'self'"), "{path}: {csp}");
        assert!(directives.contains(&"frame-ancestors 'none'"), "{path}: {csp}");
        assert!(directives.contains(&"object-src 'none'") && directives.contains(&"base-uri 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{path}: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        let ct = h["content-type"].to_str().unwrap();
        if path.ends_with(".js") {
            assert!(ct.contains("javascript"), "{path}: {ct}");
        } else {
            assert!(ct.starts_with("text/html"), "{path}: {ct}");
        }
    }
    // API answers are nosniff too.
    let r = http.get(t.url("/v1/auth/me")).send().await.unwrap();
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_changes_need_this_origin_and_the_csrf_token_and_a_session() {
    let t = spawn_app().await;
    t.app.create_user(USER, PASS).await.unwrap();
    let http = client_from(2);
    let (client, _) = t.create_site("www.example.com").await;

    // Logged out: no cookie, no token.
    for (method, path) in [
        ("GET", "/v1/leads"),
        ("GET", "/v1/auth/me"),
        ("POST", "/v1/tokens"),
        ("PUT", &*format!("/v1/clients/{client}")),
    ] {
        let r = http
            .request(method.parse().unwrap(), t.url(path))
            .header("Origin", &t.base)
            .json(&json!({"name": "x", "domain": "evil.example"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{method} {path}");
        assert_eq!(error_code(r).await, "unauthorized");
    }
    let r = http.get(t.url("/v1/leads")).header("Cookie", "crm_session=forged").send().await.unwrap();
    assert_eq!(r.status(), 401, "an unknown session id");

    // Sign in: the cookie is HttpOnly, SameSite=Strict, whole-site, not Secure over http.
    let r = login_http(&http, &t, PASS).await;
    assert_eq!(r.status(), 200);
    let set_cookie = session_cookie(&r).expect("a session cookie");
    let attrs: Vec<String> = set_cookie.split(';').map(|a| a.trim().to_ascii_lowercase()).collect();
    assert!(attrs.contains(&"httponly".into()), "{set_cookie}");
    assert!(attrs.contains(&"samesite=strict".into()), "{set_cookie}");
    assert!(attrs.contains(&"path=/".into()), "{set_cookie}");
    assert!(!attrs.contains(&"secure".into()), "plain http: {set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    let me: Value = r.json().await.unwrap();
    let csrf = me["csrfToken"].as_str().unwrap().to_string();
    assert!(csrf.len() >= 20, "{me}");
    let me: Value =
        http.get(t.url("/v1/auth/me")).header("Cookie", &cookie).send().await.unwrap().json().await.unwrap();
    assert_eq!(me, json!({"username": USER, "csrfToken": csrf}));

    let tokens = || async { t.get_json("/v1/tokens").await["items"].as_array().unwrap().len() };
    let before = tokens().await;
    let create = |origin: Option<&str>, token: Option<&str>| {
        let mut rb = http.post(t.url("/v1/tokens")).header("Cookie", &cookie).json(&json!({"name": "from-session"}));
        if let Some(o) = origin {
            rb = rb.header("Origin", o);
        }
        if let Some(tok) = token {
            rb = rb.header("X-CSRF-Token", tok);
        }
        rb.send()
    };

    // Another origin, even with the right token: refused.
    for origin in ["https://evil.example", "null", "http://127.0.0.1:1", &t.base.replace("127.0.0.1", "localhost")] {
        let r = create(Some(origin), Some(&csrf)).await.unwrap();
        assert_eq!(r.status(), 403, "origin {origin}");
        assert_eq!(error_code(r).await, "csrf_failed");
    }
    // This origin without the token, or with a wrong one: refused.
    let r = create(Some(&t.base), None).await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(error_code(r).await, "csrf_failed");
    let r = create(Some(&t.base), Some("not-the-token")).await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(error_code(r).await, "csrf_failed");
    assert_eq!(tokens().await, before, "nothing was created by a refused request");

    // Other methods are checked as well.
    let r = http
        .put(t.url(&format!("/v1/clients/{client}")))
        .header("Cookie", &cookie)
        .header("Origin", "https://evil.example")
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"domain": "evil.example"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = http
        .delete(t.url(&format!("/v1/clients/{client}")))
        .header("Cookie", &cookie)
        .header("Origin", &t.base)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(t.get_json(&format!("/v1/clients/{client}")).await["domain"], "www.example.com");

    // The same request from this origin with the token succeeds (so the refusals above
    // were the checks, not a broken endpoint).
    let r = create(Some(&t.base), Some(&csrf)).await.unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(tokens().await, before + 1);

    // Logging out needs the token too; afterwards the old cookie is worthless.
    let r = http.post(t.url("/v1/auth/logout")).header("Cookie", &cookie).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = http.get(t.url("/v1/leads")).header("Cookie", &cookie).send().await.unwrap();
    assert_eq!(r.status(), 200, "a refused logout keeps the session");
    let r = http
        .post(t.url("/v1/auth/logout"))
        .header("Cookie", &cookie)
        .header("Origin", &t.base)
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let cleared = session_cookie(&r).expect("logout clears the cookie");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let r = http.get(t.url("/v1/leads")).header("Cookie", &cookie).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = create(Some(&t.base), Some(&csrf)).await.unwrap();
    assert_eq!(r.status(), 401);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failed_logins_are_rate_limited() {
    let t = spawn_app().await;
    t.app.create_user(USER, PASS).await.unwrap();
    let http = client_from(3);
    let mut statuses = Vec::new();
    let limited = loop {
        let r = login_http(&http, &t, "wrong horse battery").await;
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            break r;
        }
        assert!(statuses.len() < 12, "no 429 after {statuses:?}");
    };
    assert!(statuses.len() >= 4, "a few attempts are allowed before the limit: {statuses:?}");
    assert!(statuses[..statuses.len() - 1].iter().all(|s| *s == 401), "{statuses:?}");
    let retry: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert_eq!(error_code(limited).await, "rate_limited");

    // The right password does not get around the limit from that address…
    let r = login_http(&http, &t, PASS).await;
    assert_eq!(r.status(), 429);
    assert!(session_cookie(&r).is_none());
    // …while another address still signs in.
    let r = login_http(&client_from(4), &t, PASS).await;
    assert_eq!(r.status(), 200);
    t.stop().await;
}
