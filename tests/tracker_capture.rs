//! Form capture in headless Chromium (issue 3, points 3 and 12): every kind of form a real
//! site has becomes a lead, typed, tabbed and clicked as a person would, checked through the
//! admin API. Pages come from another loopback origin than the tracker server.

#[path = "common/browser.rs"]
mod browser;
mod common;
mod tracker_support;

use common::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tracker_support::*;

/// Host-page JavaScript: `selector`'s forms are sent the way React/Vue/site builders do:
/// their own submit handler calls preventDefault() and posts with fetch, then shows "sent".
fn ajax(selector: &str) -> String {
    format!(
        "<p id=\"status\"></p><script>document.querySelectorAll({sel}).forEach(f => f.addEventListener('submit', e => {{ \
         e.preventDefault(); fetch('/thanks', {{method: 'POST', body: new FormData(f)}}) \
         .then(() => {{ document.getElementById('status').textContent = 'sent ' + (f.id || f.className); }}); }}));</script>",
        sel = serde_json::to_string(selector).unwrap()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_form_that_navigates_becomes_a_lead_with_first_touch_attribution() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    let html = page(
        &t,
        &client,
        r#"<h1>Contact</h1><form id="contact" action="/thanks" method="post">
        <label>Name <input name="name" autocomplete="name"></label>
        <label>Email <input type="email" name="email" required></label>
        <label>Phone <input type="tel" name="phone"></label>
        <label>Message <textarea name="message"></textarea></label>
        <button>Send</button></form>"#,
    );
    let landing = page(&t, &client, r#"<h1>Welcome</h1><a id="go" href="/contact">Contact us</a>"#);
    let (site_url, _server) = browser::serve_pages(vec![("/", landing), ("/contact", html)]).await;
    // Arrives from a campaign link on the home page, then follows a link to the form.
    let page = open(&chrome, &format!("{site_url}/?utm_source=newsletter&utm_campaign=spring")).await;
    page.click("#go").await;
    page.wait_for("location.pathname === '/contact' && document.readyState === 'complete'", DEADLINE).await;
    ready(&page).await;
    let started = Instant::now();
    page.fill("input[name=name]", "Ada Lovelace").await;
    page.press("Tab").await;
    page.type_text("ada@example.com").await;
    page.press("Tab").await;
    page.type_text("+44 20 7946 0958").await;
    page.press("Tab").await;
    page.type_text("Please call me back").await;
    sleep_until(started, Duration::from_millis(2100)).await;
    page.click("button").await;
    page.wait_for("location.pathname === '/thanks'", DEADLINE).await;

    // No flush: a submission goes out by itself, even though the page navigates away.
    let lead = wait_for_lead(&t, &client, "ada@example.com", |l| l["status"] == "submitted").await;
    assert_eq!(lead["quality"], "high", "{lead:#}");
    assert_eq!(lead["name"], "Ada Lovelace");
    assert_eq!(lead["phone"], "+44 20 7946 0958");
    assert_eq!(lead["message"], "Please call me back");
    assert_eq!(lead["formRef"], "contact");
    assert_eq!(lead["metadata"]["page"]["path"], "/contact", "{:#}", lead["metadata"]);
    assert_eq!(lead["metadata"]["attribution"]["utm_source"], "newsletter");
    assert_eq!(lead["metadata"]["attribution"]["utm_campaign"], "spring");
    assert!(
        lead["metadata"]["attribution"]["landingPage"].as_str().is_some_and(|l| l.contains("/?utm_source=newsletter")),
        "first touch: {:#}",
        lead["metadata"]["attribution"]
    );
    // Opened directly: the tracker sends document.referrer as it is (""), the server drops it.
    assert!(lead["metadata"]["attribution"].get("referrer").is_none(), "{:#}", lead["metadata"]["attribution"]);
    assert!(lead["visitorId"].as_str().is_some_and(|v| !v.is_empty()));
    assert!(lead["sessionId"].as_str().is_some_and(|v| !v.is_empty()));
    let subs = wait_for_events(&t, &client, "form_submission", 1).await;
    assert_eq!(subs[0]["payload"]["formSelector"], "#contact");
    assert_eq!(subs[0]["leadId"], lead["leadId"]);
    let meta = &subs[0]["payload"]["metadata"];
    assert!(meta["userAgent"].as_str().is_some_and(|u| u.contains("Chrome")), "metadata: {meta:#}");
    no_exceptions(&page);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn react_style_form_with_prevent_default_and_fetch() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    let body = format!(
        r#"<form id="signup"><label>Email <input type="email" name="email" required></label>
        <label>Company <input name="company"></label><button type="submit">Sign up</button></form>{}"#,
        ajax("#signup")
    );
    let (site_url, _server) = browser::serve_pages(vec![("/", page(&t, &client, &body))]).await;
    let page = open(&chrome, &format!("{site_url}/")).await;
    page.fill("input[name=email]", "react@example.com").await;
    page.press("Tab").await;
    page.type_text("Initech").await;
    page.press("Enter").await; // implicit submission from a text field
    // The host's own handler ran (the tracker did not break or replace it) …
    page.wait_for("document.getElementById('status').textContent === 'sent signup'", DEADLINE).await;
    assert_eq!(page.eval("location.pathname").await, "/");
    let lead = wait_for_lead(&t, &client, "react@example.com", |l| l["status"] == "submitted").await;
    assert_eq!(lead["company"], "Initech");
    wait_for_events(&t, &client, "form_submission", 1).await;
    no_exceptions(&page);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_added_to_the_dom_after_load() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    let body = r#"<button id="open" type="button">Get a demo</button><div id="modal"></div>
        <script>document.getElementById('open').onclick = () => setTimeout(() => {
          document.getElementById('modal').innerHTML = '<form class="demo-request" action="/thanks" method="post">' +
            '<label>Work email <input type="email" name="work_email"></label>' +
            '<label>Your name <input name="your_name"></label><button id="req">Request</button></form>';
        }, 200);</script>"#;
    let (site_url, _server) = browser::serve_pages(vec![("/", page(&t, &client, body))]).await;
    let page = open(&chrome, &format!("{site_url}/")).await;
    page.click("#open").await;
    page.wait_for("document.querySelector('form.demo-request')", DEADLINE).await;
    page.fill("input[name=work_email]", "late@example.com").await;
    page.press("Tab").await;
    page.type_text("Late Comer").await;
    page.click("#req").await;
    page.wait_for("location.pathname === '/thanks'", DEADLINE).await;
    let lead = wait_for_lead(&t, &client, "late@example.com", |l| l["status"] == "submitted").await;
    assert_eq!(lead["name"], "Late Comer");
    assert_eq!(lead["metadata"]["formSelector"], "form.demo-request", "{:#}", lead["metadata"]);
    no_exceptions(&page);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_step_form_keeps_values_of_removed_and_hidden_steps() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    // Step 1 is removed from the DOM when "Next" is pressed (as React renders only the
    // current step); step 2 is hidden, not removed, when step 3 shows.
    let body = r#"<form id="quote" action="/thanks" method="post">
        <div id="step1"><label>Email <input type="email" name="email" required></label>
          <label>Full name <input name="full_name"></label>
          <button type="button" id="next1">Next</button></div>
        <fieldset id="step2" hidden><label>Company <input name="company"></label>
          <label><input type="radio" name="size" value="1-10"> 1-10</label>
          <label><input type="radio" name="size" value="11-50"> 11-50</label>
          <button type="button" id="next2">Next</button></fieldset>
        <fieldset id="step3" hidden><label>Tell us more <textarea name="details"></textarea></label>
          <button id="send">Get my quote</button></fieldset></form>
        <script>
          document.getElementById('next1').onclick = () => { document.getElementById('step1').remove();
            document.getElementById('step2').hidden = false; };
          document.getElementById('next2').onclick = () => { document.getElementById('step2').hidden = true;
            document.getElementById('step3').hidden = false; };
        </script>"#;
    let (site_url, _server) = browser::serve_pages(vec![("/", page(&t, &client, body))]).await;
    let page = open(&chrome, &format!("{site_url}/")).await;
    page.fill("input[name=email]", "steps@example.com").await;
    page.press("Tab").await;
    page.type_text("Grace Hopper").await;
    page.click("#next1").await;
    page.wait_for("!document.querySelector('input[name=email]')", DEADLINE).await;
    page.fill("input[name=company]", "Navy Labs").await;
    page.click("input[value='11-50']").await;
    page.click("#next2").await;
    page.fill("textarea[name=details]", "Three offices").await;
    page.click("#send").await;
    page.wait_for("location.pathname === '/thanks'", DEADLINE).await;

    let lead = wait_for_lead(&t, &client, "steps@example.com", |l| l["status"] == "submitted").await;
    assert_eq!(lead["name"], "Grace Hopper", "values of the removed step are kept: {lead:#}");
    assert_eq!(lead["company"], "Navy Labs");
    assert_eq!(lead["fields"]["size"], "11-50");
    assert_eq!(field_containing(&lead, "detail").1, "Three offices");
    assert_eq!(wait_for_leads(&t, &client, 1).await.len(), 1);
    no_exceptions(&page);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_forms_on_one_page_are_told_apart() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    let body = format!(
        r#"<form class="newsletter"><input type="email" name="email" aria-label="Email" placeholder="you@example.com">
          <button id="sub">Subscribe</button></form>
        <form name="contact"><label>Name <input name="name"></label><label>Email <input type="email" name="email"></label>
          <button id="send">Send</button></form>{}"#,
        ajax("form")
    );
    let (site_url, _server) = browser::serve_pages(vec![("/", page(&t, &client, &body))]).await;
    let page = open(&chrome, &format!("{site_url}/")).await;
    page.fill("form.newsletter input", "news@example.com").await;
    page.click("#sub").await;
    page.fill("form[name=contact] input[name=name]", "Alan Turing").await;
    page.press("Tab").await;
    page.type_text("alan@example.com").await;
    page.click("#send").await;

    let subs = wait_for_events(&t, &client, "form_submission", 2).await;
    let leads = wait_for_leads(&t, &client, 2).await;
    let news = lead_by_email(&leads, "news@example.com");
    let contact = lead_by_email(&leads, "alan@example.com");
    assert_eq!(contact["name"], "Alan Turing");
    assert!(news["name"].is_null(), "the contact form's values do not leak into the newsletter lead: {news:#}");
    assert_ne!(news["formRef"], contact["formRef"]);
    let selectors: Vec<String> =
        subs.iter().map(|e| e["payload"]["formSelector"].as_str().unwrap_or("").to_string()).collect();
    assert_ne!(selectors[0], selectors[1]);
    // Each reported selector finds the very form that was sent.
    for e in &subs {
        let sel = serde_json::to_string(e["payload"]["formSelector"].as_str().unwrap()).unwrap();
        let email = e["payload"]["fields"]["email"].as_str().unwrap();
        let found =
            page.eval(&format!("document.querySelector({sel})?.querySelector('input[type=email]').value")).await;
        assert_eq!(found, email, "selector {sel}");
    }
    no_exceptions(&page);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_submit_from_a_custom_button() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    let body = r#"<form id="trial" action="/thanks" method="post">
        <label>Email <input type="email" name="email" required></label></form>
        <div role="button" tabindex="0" id="go" style="padding:8px;background:#333;color:#fff">Start trial</div>
        <script>document.getElementById('go').onclick = () => document.getElementById('trial').requestSubmit();</script>"#;
    let (site_url, _server) = browser::serve_pages(vec![("/", page(&t, &client, body))]).await;
    let page = open(&chrome, &format!("{site_url}/")).await;
    page.fill("input[name=email]", "rs@example.com").await;
    page.click("#go").await;
    page.wait_for("location.pathname === '/thanks'", DEADLINE).await;
    wait_for_lead(&t, &client, "rs@example.com", |l| l["status"] == "submitted").await;
    wait_for_events(&t, &client, "form_submission", 1).await;
    no_exceptions(&page);
    t.stop().await;
}

/// `form.submit()` fires no submit event. Sites call it from a link or button of their own
/// (older themes; jQuery's `.submit()` ends in it), and validation scripts stop the submit
/// event, check, then call it: the first is captured once, the second not twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_sent_with_form_submit_are_captured_once() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    // `name="submit"` shadows form.submit, so the link calls the prototype's, as such sites do.
    let link = r##"<form id="legacy" action="/thanks" method="post">
        <label>Email <input type="email" name="email"></label><input type="hidden" name="submit" value="1">
        <a href="#" id="go" onclick="HTMLFormElement.prototype.submit.call(document.getElementById('legacy')); return false">Send</a></form>"##;
    let validated = r#"<form id="checked" action="/thanks" method="post">
        <label>Email <input type="email" name="email"></label><label>Name <input name="name"></label>
        <button id="send">Send</button></form>
        <script>const f = document.getElementById('checked');
        f.addEventListener('submit', e => { e.preventDefault(); setTimeout(() => f.submit(), 50); });</script>"#;
    let (site_url, _server) =
        browser::serve_pages(vec![("/", page(&t, &client, link)), ("/validated", page(&t, &client, validated))]).await;
    let page = open(&chrome, &format!("{site_url}/")).await;
    page.fill("input[name=email]", "legacy@example.com").await;
    page.click("#go").await;
    page.wait_for("location.pathname === '/thanks'", DEADLINE).await;
    wait_for_lead(&t, &client, "legacy@example.com", |l| l["status"] == "submitted").await;

    page.goto(&format!("{site_url}/validated")).await;
    ready(&page).await;
    page.fill("input[name=email]", "checked@example.com").await;
    page.fill("input[name=name]", "Katherine Johnson").await;
    page.click("#send").await;
    page.wait_for("location.pathname === '/thanks'", DEADLINE).await;
    let lead = wait_for_lead(&t, &client, "checked@example.com", |l| l["status"] == "submitted").await;
    assert_eq!(lead["name"], "Katherine Johnson");
    // Back on a tracked page, whatever is still queued goes out; then there are two submissions.
    page.goto(&format!("{site_url}/")).await;
    ready(&page).await;
    flush_all(&page).await;
    let subs = wait_for_events(&t, &client, "form_submission", 2).await;
    let mut emails: Vec<&str> = subs.iter().map(|e| e["payload"]["fields"]["email"].as_str().unwrap()).collect();
    emails.sort();
    assert_eq!(emails, ["checked@example.com", "legacy@example.com"]);
    no_exceptions(&page);
    t.stop().await;
}

/// A repeated submission is sent once, but a submission whose values moved to another field
/// is a new one; a landing page URL over the server's value limit is cut, not refused (a
/// refused first-touch attribution would lose every later event of the visitor).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeats_are_sent_once_and_long_landing_urls_are_cut() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    let body = format!(
        r#"<form id="order"><label>Email <input type="email" name="email"></label>
        <label>Gift note <input name="note"></label><label>Message <input name="message"></label>
        <button id="send">Order</button></form>{}"#,
        ajax("#order")
    );
    let (site_url, _server) = browser::serve_pages(vec![("/", page(&t, &client, &body))]).await;
    let pad = "x".repeat(5000);
    let page = open(&chrome, &format!("{site_url}/?utm_source=mail&pad={pad}")).await;
    page.fill("input[name=email]", "repeat@example.com").await;
    page.fill("input[name=note]", "Happy birthday").await;
    for _ in 0..2 {
        page.click("#send").await; // the second click sends the same values: not again
        page.wait_for("document.getElementById('status').textContent.startsWith('sent')", DEADLINE).await;
        page.eval("document.getElementById('status').textContent = '', true").await;
    }
    page.eval("document.querySelector('input[name=note]').value = '', true").await;
    page.fill("input[name=message]", "Happy birthday").await;
    page.click("#send").await;
    page.wait_for("document.getElementById('status').textContent.startsWith('sent')", DEADLINE).await;
    flush_all(&page).await;
    let subs = wait_for_events(&t, &client, "form_submission", 2).await;
    let notes: Vec<(&Value, &Value)> =
        subs.iter().map(|e| (&e["payload"]["fields"]["note"], &e["payload"]["fields"]["message"])).collect();
    assert!(notes.contains(&(&json!("Happy birthday"), &Value::Null)), "{notes:?}");
    assert!(notes.contains(&(&Value::Null, &json!("Happy birthday"))), "{notes:?}");
    let attribution = &subs[0]["payload"]["attribution"];
    let landing = attribution["landingPage"].as_str().unwrap();
    assert!(landing.len() == 2000 && landing.contains("utm_source=mail"), "{} bytes", landing.len());
    assert_eq!(attribution["utm_source"], "mail");
    assert_eq!(subs[0]["payload"]["page"]["url"].as_str().unwrap().len(), 2000);
    no_exceptions(&page);
    t.stop().await;
}

/// Classic theme scripts stop the submit in the button's click handler and post with
/// jQuery: no submit event ever fires. Whether the page sent the form cannot be known (such a
/// button may as well add a guest), so the form is captured as partial, with every field,
/// once the click is over. A submit that does follow its click is one submission, with no
/// partial capture of the same values beside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submit_stopped_in_the_buttons_click_handler_is_captured_as_partial() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    let body = format!(
        r#"<form id="contact" action="/mail.php" method="post">
        <input name="name" placeholder="Your name"><input type="email" name="email" placeholder="Email" required>
        <input name="phone" placeholder="Phone"><textarea name="message" placeholder="Message"></textarea>
        <button type="submit" id="send"><span class="icon">✉</span> Send</button></form><p id="status"></p>
        <form id="plain"><input type="email" name="email" aria-label="Email"><button id="go">Go</button></form>
        <script>const f = document.getElementById('contact');
        window.formdata = 0;
        f.addEventListener('formdata', () => window.formdata++);
        document.getElementById('send').addEventListener('click', e => {{
          e.preventDefault();
          if (!f.email.value) {{ document.getElementById('status').textContent = 'email missing'; return; }}
          fetch('/thanks', {{method: 'POST', body: new URLSearchParams({{email: f.email.value}})}})
            .then(() => {{ document.getElementById('status').textContent = 'sent'; f.reset(); }});
        }});</script>{}"#,
        ajax("#plain")
    );
    let (site_url, _server) = browser::serve_pages(vec![("/", page(&t, &client, &body))]).await;
    let page = open(&chrome, &format!("{site_url}/")).await;
    page.fill("input[name=name]", "Grace Hopper").await;
    // Typing builds no FormData of the page's form (a page may send from its `formdata`).
    assert_eq!(page.eval("window.formdata").await, 0);
    page.click("#send .icon").await; // no email yet: nothing to capture
    page.wait_for("document.getElementById('status').textContent === 'email missing'", DEADLINE).await;
    page.fill("#contact input[name=email]", "jquery@example.com").await;
    page.fill("input[name=phone]", "+1 202 555 0143").await;
    page.fill("textarea[name=message]", "Call me").await;
    page.click("#send .icon").await;
    page.wait_for("document.getElementById('status').textContent === 'sent'", DEADLINE).await;
    let lead = wait_for_lead(&t, &client, "jquery@example.com", |l| l["phone"] == "+1 202 555 0143").await;
    assert_eq!(lead["status"], "partial", "{lead:#}");
    assert_eq!((&lead["name"], &lead["message"]), (&json!("Grace Hopper"), &json!("Call me")), "{lead:#}");

    page.fill("#plain input", "plain@example.com").await;
    page.click("#go").await;
    page.wait_for("document.getElementById('status').textContent === 'sent plain'", DEADLINE).await;
    wait_for_lead(&t, &client, "plain@example.com", |l| l["status"] == "submitted").await;
    flush_all(&page).await;
    let clicks: Vec<Value> = events(&t, &client, "form_interaction")
        .await
        .into_iter()
        .filter(|e| e["payload"]["trigger"] == "click")
        .collect();
    // Only the stopped submit is captured on its click, not the plain form's, whose submit
    // followed. (One run in a few captures the contact form twice on click: the capture of
    // the first click, made with no email yet, waits on a timer, which headless Chromium under
    // load may run late, after the email was typed. The same visitor and form: one lead.)
    assert!(clicks.iter().all(|e| e["formRef"] == "contact"), "{clicks:#?}");
    assert!(!clicks.is_empty() && clicks.len() <= 2, "{clicks:#?}");
    assert!(clicks.iter().any(|e| e["payload"]["fields"]["email"] == "jquery@example.com"), "{clicks:#?}");
    assert_eq!(wait_for_events(&t, &client, "form_submission", 1).await.len(), 1);
    no_exceptions(&page);
    t.stop().await;
}

/// Ninja Forms' Submit is a plain button (type=button): its click handler sends the fields
/// with $.ajax and clears them, and no submit event ever fires. The click is captured, as
/// partial (the tracker cannot know the page sent the form), with the fields typed after
/// the email too, before the page clears them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_button_that_sends_and_clears_the_form_is_captured_on_its_click() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    let body = format!(
        "{NINJA}<p id=\"status\"></p><script>document.getElementById('nf-field-9').addEventListener('click', () => {{
          const fields = document.querySelectorAll('.nf-form-cont .ninja-forms-field:not([type=button])');
          if ([...fields].some(f => f.required && !f.value)) return;
          fetch('/thanks', {{method: 'POST', body: JSON.stringify([...fields].map(f => f.value))}}).then(() => {{
            fields.forEach(f => f.value = '');
            document.querySelector('.nf-response-msg').textContent = 'Your form has been successfully submitted.';
            document.getElementById('status').textContent = 'sent';
          }});
        }});</script>"
    );
    let (site_url, _server) = browser::serve_pages(vec![("/", page(&t, &client, &body))]).await;
    let page = open(&chrome, &format!("{site_url}/")).await;
    page.fill("#nf-field-5", "Dorothy Vaughan").await;
    page.fill("#nf-field-6", "ninja-forms@example.com").await;
    page.fill("#nf-field-8", "+1 202 555 0104").await;
    page.fill("#nf-field-7", "Training for 12 people").await;
    page.click("#nf-field-9").await;
    page.wait_for("document.getElementById('status').textContent === 'sent'", DEADLINE).await;
    assert_eq!(page.eval("document.getElementById('nf-field-7').value").await, "", "the page cleared its form");
    flush_all(&page).await;
    let lead =
        wait_for_lead(&t, &client, "ninja-forms@example.com", |l| l["message"] == "Training for 12 people").await;
    assert_eq!(lead["status"], "partial", "{lead:#}");
    assert_eq!((&lead["name"], &lead["phone"]), (&json!("Dorothy Vaughan"), &json!("+1 202 555 0104")), "{lead:#}");
    assert!(lead["fields"].get("nf_field_hp").is_none(), "{lead:#}");
    assert_eq!(wait_for_leads(&t, &client, 1).await.len(), 1);
    no_exceptions(&page);
    t.stop().await;
}

/// Plain buttons that do not send the form (a quantity stepper, "show password", Next and
/// Back) send a partial only when the form changed since it was last sent: clicking them
/// again and again sends the same values no more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clicks_on_plain_buttons_send_no_repeated_partials() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    let body = r#"<form id="order"><input type="email" name="email"><input name="qty" id="qty" value="1">
        <button type="button" id="plus" onclick="qty.value++">+</button><button type="button" id="note">Add a note</button>
        <textarea name="message"></textarea></form>"#;
    let (site_url, _server) = browser::serve_pages(vec![("/", page(&t, &client, body))]).await;
    let page = open(&chrome, &format!("{site_url}/")).await;
    page.fill("input[name=email]", "stepper@example.com").await;
    for _ in 0..3 {
        page.click("#plus").await;
    }
    page.click("#note").await;
    // The captures run once each click is over (a timer); let them run before typing on.
    page.wait_for("new Promise(r => setTimeout(() => r(true), 300))", DEADLINE).await;
    page.fill("textarea", "Gift wrap, please").await;
    page.wait_for("document.querySelector('textarea').value === 'Gift wrap, please'", DEADLINE).await;
    page.click("#note").await;
    page.click("#note").await;
    page.wait_for("new Promise(r => setTimeout(() => r(true), 300))", DEADLINE).await;
    flush_all(&page).await;
    let lead = wait_for_lead(&t, &client, "stepper@example.com", |l| l["message"] == "Gift wrap, please").await;
    assert_eq!(lead["status"], "partial", "{lead:#}");
    // One when the email was left (the first click), one after the message was typed.
    let sent = events(&t, &client, "form_interaction").await;
    assert_eq!(sent.len(), 2, "{sent:#?}");
    no_exceptions(&page);
    t.stop().await;
}

/// The privacy filter reads what a field is called, not what it offers: a select whose
/// options mention cards, a passenger count, a cardiology department, a nights-of-stay
/// field are ordinary fields; a card number field is still never sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ordinary_fields_near_sensitive_words_are_kept() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    let body = r#"<form id="booking" action="/thanks" method="post">
        <label> Your email <input type="email" name="your-email"></label>
        <label> Payment method <select name="payment"><option>Invoice</option><option>Credit card</option></select></label>
        <label> Department <select name="menu-dept"><option>Cardiology</option><option>Dermatology</option></select></label>
        <label> Number of passengers <input name="your-number"></label>
        <input name="accommodation" placeholder="Number of nights">
        <label> Card number <input name="cardnumber"></label>
        <input name="account" placeholder="Number">
        <button>Book</button></form>"#;
    let (site_url, _server) = browser::serve_pages(vec![("/", page(&t, &client, body))]).await;
    let page = open(&chrome, &format!("{site_url}/")).await;
    page.fill("input[name=your-email]", "booking@example.com").await;
    page.fill("input[name=your-number]", "3").await;
    page.fill("input[name=accommodation]", "2").await;
    page.fill("input[name=cardnumber]", "4111 1111 1111 1111").await;
    page.fill("input[name=account]", "70012345678").await;
    page.click("button").await;
    page.wait_for("location.pathname === '/thanks'", DEADLINE).await;
    let lead = wait_for_lead(&t, &client, "booking@example.com", |l| l["status"] == "submitted").await;
    let fields = &lead["fields"];
    assert_eq!(fields["payment"], "Invoice", "{fields:#}");
    assert_eq!(fields["menu_dept"], "Cardiology", "{fields:#}");
    assert_eq!(fields["your_number"], "3", "{fields:#}");
    assert_eq!(fields["accommodation"], "2", "{fields:#}");
    assert!(!fields.to_string().contains("4111"), "{fields:#}");
    assert!(!fields.to_string().contains("70012345678"), "an account number, named and placed apart: {fields:#}");
    no_exceptions(&page);
    t.stop().await;
}

/// A checkout as gateways and plugins name their fields. The tracker never sends a field
/// named or labelled with a card word (`Card number`); the names it cannot tell from ids
/// within its budget (`ccnum`, `ccv`: a word starting with cc may be a form's hex GUID), a
/// `pan`, an expiry month, a sort code named by its label, a national ID and an IBAN in a
/// message the server never stores. Date of birth, company and account manager are
/// ordinary fields.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_card_code_bank_and_identity_fields_are_not_stored() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    let body = r#"<form id="checkout" action="/thanks" method="post">
        <label>Email <input type="email" name="email"></label>
        <label>Company <input name="company"></label>
        <label>Account manager <input name="account_manager"></label>
        <label>Date of birth <input name="date_of_birth"></label>
        <label>Long number <input name="ccnum" inputmode="numeric"></label>
        <label>Card number <input name="field_9" inputmode="numeric"></label>
        <label>CCV <input name="ccv" id="ccv" maxlength="4"></label>
        <label>PAN <input name="pan"></label>
        <label>Month <input name="exp_month"></label>
        <label for="input_4">Sort code</label><input id="input_4" name="input_4">
        <label>ID <input name="national_id"></label>
        <label>Message <textarea name="message"></textarea></label>
        <button id="send">Pay</button></form>"#;
    let (site_url, _server) = browser::serve_pages(vec![("/", page(&t, &client, body))]).await;
    let page = chrome.new_page().await;
    record_network(&page).await;
    page.goto(&format!("{site_url}/")).await;
    ready(&page).await;
    for (sel, text) in [
        ("input[name=email]", "gateway@example.com"),
        ("input[name=company]", "Acme Widgets"),
        ("input[name=account_manager]", "Jo Bloggs"),
        ("input[name=date_of_birth]", "1990-04-01"),
        ("input[name=ccnum]", "4012 8888 8888 1881"),
        ("input[name=field_9]", "5555 5555 5555 4444"),
        ("#ccv", "8317"),
        ("input[name=pan]", "ABCPE1234F"),
        ("input[name=exp_month]", "11"),
        ("#input_4", "40-47-84"),
        ("input[name=national_id]", "QQ123456C"),
        ("textarea", "Refund to GB82 WEST 1234 5698 7654 32 please"),
    ] {
        page.fill(sel, text).await;
    }
    page.click("#send").await;
    page.wait_for("location.pathname === '/thanks'", DEADLINE).await;
    let lead = wait_for_lead(&t, &client, "gateway@example.com", |l| l["status"] == "submitted").await;
    let fields = lead["fields"].as_object().unwrap();
    for (k, v) in [("company", "Acme Widgets"), ("account_manager", "Jo Bloggs"), ("date_of_birth", "1990-04-01")] {
        assert_eq!(fields.get(k), Some(&json!(v)), "{fields:#?}");
    }
    assert_eq!(fields.get("message"), Some(&json!("[REDACTED]")), "an IBAN in a message: {fields:#?}");
    for k in ["ccnum", "ccv", "card_number", "field_9", "pan", "exp_month", "sort_code", "national_id"] {
        assert!(fields.get(k).is_none(), "{k} is stored: {fields:#?}");
    }

    // What the browser sent: values as JSON strings (bare digits could be part of an id).
    let sent: String = track_requests(&page)
        .iter()
        .filter_map(|r| r["params"]["request"]["postData"].as_str().map(str::to_string))
        .collect();
    assert!(sent.contains("\"Jo Bloggs\""), "the payloads were recorded: {sent}");
    assert!(!sent.contains("5555 5555 5555 4444"), "the tracker sent the card number: {sent}");
    // What the server stored, anywhere in the data file.
    let data = t.data.clone();
    let _dir = t.stop().await;
    let bytes = std::fs::read(&data).expect("data file");
    let find = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(find("Jo Bloggs"), "the search can find stored values");
    for s in ["4012 8888 8888 1881", "5555 5555 5555 4444", "ABCPE1234F", "40-47-84", "QQ123456C", "WEST 1234"] {
        assert!(!find(s), "{s:?} is in the data file");
    }
    no_exceptions(&page);
}

/// Builders' generated names say nothing (Ninja Forms' nf-field-5, Webflow's "field" and
/// "field-2"): the label or placeholder names the field instead, and the lead gets its name,
/// company and message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meaningless_builder_names_take_their_labels() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    let body = r#"<form id="nf-form-1" action="/thanks" method="post">
        <label for="nf-field-5">Name</label><input id="nf-field-5" name="nf-field-5">
        <label for="nf-field-6">Email</label><input id="nf-field-6" name="nf-field-6" type="email">
        <label for="field-2">Company</label><input id="field-2" name="field-2">
        <textarea id="field" name="field" placeholder="How can we help?"></textarea>
        <button>Send</button></form>"#;
    let (site_url, _server) = browser::serve_pages(vec![("/", page(&t, &client, body))]).await;
    let page = open(&chrome, &format!("{site_url}/")).await;
    page.fill("#nf-field-5", "Mary Winston").await;
    page.fill("#nf-field-6", "ninja@example.com").await;
    page.fill("#field-2", "Winston Inns").await;
    page.fill("#field", "A quote for 3 rooms").await;
    page.click("button").await;
    page.wait_for("location.pathname === '/thanks'", DEADLINE).await;
    let lead = wait_for_lead(&t, &client, "ninja@example.com", |l| l["status"] == "submitted").await;
    assert_eq!((&lead["name"], &lead["message"]), (&json!("Mary Winston"), &json!("A quote for 3 rooms")), "{lead:#}");
    assert_eq!(lead["fields"]["how_can_we_help"], "A quote for 3 rooms", "{lead:#}");
    assert_eq!(lead["company"], "Winston Inns", "{lead:#}");
    no_exceptions(&page);
    t.stop().await;
}

/// Markup of framework forms (React, Vue, Angular leave boxes and radios unnamed), of a
/// WPForms honeypot labelled like a real field, of a "show password" button and of builders
/// whose names say nothing (Wufoo's Field4, Google Forms' entry.N).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unnamed_boxes_shared_names_shown_passwords_and_numbered_names() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    let body = r#"<form id="signup" action="/thanks" method="post">
        <p>How should we contact you?</p>
        <label><input type="radio" value="email" id="by-email"> Email</label><label><input type="radio" value="phone"> Phone</label>
        <label for="em">Email</label><input id="em" type="email">
        <label><input type="checkbox" id="news"> Yes, send me product updates</label>
        <label><input type="checkbox" id="terms"> I accept the terms</label>
        <div style="display:none"><label for="hp">Email</label><input type="text" name="wpforms[hp]" id="hp"></div>
        <label for="kw">Kennwort</label><input id="kw" type="password" name="kw">
        <button type="button" id="show" onclick="kw.type = kw.type === 'password' ? 'text' : 'password'">show</button>
        <label for="Field4">Phone Number</label><input id="Field4" name="Field4">
        <label for="g1">Company</label><input id="g1" name="entry.2005620554">
        <button id="send">Send</button></form>"#;
    let (site_url, _server) = browser::serve_pages(vec![("/", page(&t, &client, body))]).await;
    let page = chrome.new_page().await;
    record_network(&page).await;
    page.goto(&format!("{site_url}/")).await;
    ready(&page).await;
    page.click("#by-email").await;
    page.fill("#em", "fw@example.com").await;
    page.fill("#kw", "GeheimesKennwort7").await;
    page.click("#show").await;
    assert_eq!(page.eval("kw.type").await, "text");
    page.click("#terms").await;
    page.fill("#Field4", "555 0100").await;
    page.fill("#g1", "Acme").await;
    page.click("#send").await;
    page.wait_for("location.pathname === '/thanks'", DEADLINE).await;

    let lead = wait_for_lead(&t, &client, "fw@example.com", |l| l["status"] == "submitted").await;
    let fields = &lead["fields"];
    // Neither the empty honeypot after it nor the ticked radio labelled "Email" before it
    // took the address's place.
    assert_eq!(fields["email"], "fw@example.com", "{fields:#}");
    assert_eq!(fields["i_accept_the_terms"], "on", "{fields:#}");
    assert!(fields.get("yes_send_me_product_updates").is_none(), "an unticked box is not consent: {fields:#}");
    assert!(fields.get("phone").is_none(), "the unticked radio is not sent: {fields:#}");
    assert_eq!((&fields["phone_number"], &fields["company"]), (&json!("555 0100"), &json!("Acme")), "{fields:#}");
    assert_eq!((&lead["phone"], &lead["company"]), (&json!("555 0100"), &json!("Acme")), "{lead:#}");
    let sent: String = track_requests(&page)
        .iter()
        .filter_map(|r| r["params"]["request"]["postData"].as_str().map(str::to_string))
        .collect();
    assert!(sent.contains("fw@example.com"), "the payloads were recorded: {sent}");
    assert!(!sent.contains("GeheimesKennwort7"), "a password shown as text is still a password: {sent}");
    no_exceptions(&page);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_form_the_browser_refuses_records_no_submission() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    let body = r#"<form id="contact" action="/thanks" method="post">
        <label>Email <input type="email" name="email" required></label>
        <label>Name <input name="name" required></label><button id="send">Send</button></form>"#;
    let (site_url, _server) = browser::serve_pages(vec![("/", page(&t, &client, body))]).await;
    let page = open(&chrome, &format!("{site_url}/")).await;
    page.fill("input[name=email]", "invalid@example.com").await;
    page.click("#send").await; // name is empty: the browser refuses, no submit event
    page.wait_for("document.activeElement && document.activeElement.name === 'name'", DEADLINE).await;
    assert_eq!(page.eval("location.pathname").await, "/");
    flush(&page).await;
    // Now valid: the one submission is a marker; anything queued before it was sent with it.
    page.type_text("Valid Later").await;
    page.click("#send").await;
    page.wait_for("location.pathname === '/thanks'", DEADLINE).await;
    let lead = wait_for_lead(&t, &client, "invalid@example.com", |l| l["status"] == "submitted").await;
    assert_eq!(lead["name"], "Valid Later");
    let subs = wait_for_events(&t, &client, "form_submission", 1).await;
    assert_eq!(subs[0]["payload"]["fields"]["name"], "Valid Later", "the refused attempt was not recorded");
    no_exceptions(&page);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_without_name_are_named_from_label_aria_placeholder_and_id() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    let body = format!(
        r#"<form id="f"><label for="a">Work email</label><input id="a" type="email">
          <input aria-label="Full name" id="b">
          <input placeholder="Company" id="c">
          <input id="phone_number" type="tel">
          <button id="send">Send</button></form>{}"#,
        ajax("#f")
    );
    let (site_url, _server) = browser::serve_pages(vec![("/", page(&t, &client, &body))]).await;
    let page = open(&chrome, &format!("{site_url}/")).await;
    page.fill("#a", "noname@example.com").await;
    page.press("Tab").await;
    page.type_text("Katherine Johnson").await;
    page.press("Tab").await;
    page.type_text("NASA").await;
    page.press("Tab").await;
    page.type_text("555 0100").await;
    page.click("#send").await;
    let lead = wait_for_lead(&t, &client, "noname@example.com", |l| l["status"] == "submitted").await;
    let fields = lead["fields"].as_object().unwrap();
    let key_for = |v: &str| fields.iter().find(|(_, x)| *x == v).map(|(k, _)| k.to_lowercase()).unwrap_or_default();
    assert!(key_for("noname@example.com").contains("work"), "named from its <label>: {fields:?}");
    assert!(key_for("Katherine Johnson").contains("full"), "named from aria-label: {fields:?}");
    assert!(key_for("NASA").contains("company"), "named from placeholder: {fields:?}");
    assert!(key_for("555 0100").contains("phone"), "named from id: {fields:?}");
    assert_eq!(lead["name"], "Katherine Johnson");
    assert_eq!(lead["company"], "NASA");
    assert_eq!(lead["phone"], "555 0100");
    no_exceptions(&page);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_form_carries_its_form_id() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    let form: Value = t
        .post_json(
            &format!("/v1/clients/{client}/forms"),
            json!({"formName": "Quote", "formSelector": "#nope", "alternativeSelectors": ["form.quote-form"]}),
        )
        .await;
    let form_id = form["formId"].as_str().unwrap().to_string();
    let r = t
        .post(&format!("/v1/forms/{form_id}/fields"))
        .json(&json!({"fieldName": "email", "fieldType": "email", "fieldSelector": "#q1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    // Meaningless names: only the configured field says which one is the email.
    let body = format!(
        r#"<form class="quote-form" id="form-42"><label><input type="checkbox"> Send me news</label><input id="q1" name="q1" type="text">
          <input id="q2" name="q2" aria-label="Your name"><button id="send">Send</button></form>
          <form id="other"><label>Email <input type="email" name="email"></label><button id="send2">Go</button></form>{}"#,
        ajax("form")
    );
    let (site_url, _server) = browser::serve_pages(vec![("/", page(&t, &client, &body))]).await;
    let page = open(&chrome, &format!("{site_url}/")).await;
    page.fill("#q1", "configured@example.com").await;
    page.press("Tab").await;
    page.type_text("Hedy Lamarr").await;
    page.click("#send").await;
    page.fill("#other input", "unconfigured@example.com").await;
    page.click("#send2").await;
    let leads = wait_for_leads(&t, &client, 2).await;
    let lead = lead_by_email(&leads, "configured@example.com");
    assert_eq!(lead["formId"], form_id, "{lead:#}");
    // The unticked box before it (unconfigured) neither blanks the configured field nor is sent.
    assert_eq!(lead["fields"]["email"], "configured@example.com");
    assert!(lead["fields"].get("send_me_news").is_none(), "{lead:#}");
    let other = lead_by_email(&leads, "unconfigured@example.com");
    assert!(other["formId"].is_null(), "an unconfigured form has no formId: {other:#}");
    assert_eq!(other["formRef"], "other");
    no_exceptions(&page);
    t.stop().await;
}

/// Markup as the site builders render it (trimmed of scripts and styles).
const CF7: &str = r#"<div class="wpcf7 no-js" id="wpcf7-f12-p34-o1" lang="en-US" dir="ltr">
<form action="/contact/#wpcf7-f12-p34-o1" method="post" class="wpcf7-form init" aria-label="Contact form" novalidate="novalidate" data-status="init">
<div style="display: none;"><input type="hidden" name="_wpcf7" value="12" /><input type="hidden" name="_wpcf7_version" value="5.9.3" />
<input type="hidden" name="_wpcf7_locale" value="en_US" /><input type="hidden" name="_wpcf7_unit_tag" value="wpcf7-f12-p34-o1" />
<input type="hidden" name="_wpcf7_container_post" value="34" /><input type="hidden" name="_wpnonce" value="a1b2c3d4e5" /></div>
<p><label> Your name<br /><span class="wpcf7-form-control-wrap" data-name="your-name"><input size="40" maxlength="400" class="wpcf7-form-control wpcf7-text wpcf7-validates-as-required" autocomplete="name" aria-required="true" aria-invalid="false" value="" type="text" name="your-name" /></span> </label></p>
<p><label> Your email<br /><span class="wpcf7-form-control-wrap" data-name="your-email"><input size="40" maxlength="400" class="wpcf7-form-control wpcf7-email wpcf7-validates-as-required wpcf7-text wpcf7-validates-as-email" autocomplete="email" aria-required="true" aria-invalid="false" value="" type="email" name="your-email" /></span> </label></p>
<p><label> Subject<br /><span class="wpcf7-form-control-wrap" data-name="your-subject"><input size="40" maxlength="400" class="wpcf7-form-control wpcf7-text" aria-invalid="false" value="" type="text" name="your-subject" /></span> </label></p>
<p><label> Your message (optional)<br /><span class="wpcf7-form-control-wrap" data-name="your-message"><textarea cols="40" rows="10" maxlength="2000" class="wpcf7-form-control wpcf7-textarea" aria-invalid="false" name="your-message"></textarea></span> </label></p>
<p><input class="wpcf7-form-control wpcf7-submit has-spinner" type="submit" value="Submit" /><span class="wpcf7-spinner"></span></p>
<div class="wpcf7-response-output" aria-hidden="true"></div></form></div>"#;

/// HubSpot's ids carry the form's GUID (here one starting with "cc", as one in 256 do: it
/// must not read as a card word).
const HUBSPOT: &str = r#"<div class="hbspt-form" id="hbspt-form-ccb1f2e3-6e0b">
<form novalidate accept-charset="UTF-8" action="https://forms.hsforms.com/submissions/v3/public/submit/formsnext/multipart/123456/ccb1f2e3-6e0b" enctype="multipart/form-data" id="hsForm_ccb1f2e3-6e0b" method="POST" class="hs-form stacked hs-custom-form hs-form-private hsForm_ccb1f2e3-6e0b hs-form-ccb1f2e3-6e0b" data-form-id="ccb1f2e3-6e0b" data-portal-id="123456" target="target_iframe_ccb1f2e3-6e0b">
<fieldset class="form-columns-2"><div class="hs_firstname hs-firstname hs-fieldtype-text field hs-form-field"><label id="label-firstname-ccb1f2e3-6e0b" for="firstname-ccb1f2e3-6e0b"><span>First name</span></label><legend class="hs-field-desc" style="display: none;"></legend><div class="input"><input id="firstname-ccb1f2e3-6e0b" name="firstname" placeholder="" type="text" class="hs-input" inputmode="text" autocomplete="given-name" value=""></div></div>
<div class="hs_lastname hs-lastname hs-fieldtype-text field hs-form-field"><label id="label-lastname-ccb1f2e3-6e0b" for="lastname-ccb1f2e3-6e0b"><span>Last name</span></label><legend class="hs-field-desc" style="display: none;"></legend><div class="input"><input id="lastname-ccb1f2e3-6e0b" name="lastname" placeholder="" type="text" class="hs-input" inputmode="text" autocomplete="family-name" value=""></div></div></fieldset>
<fieldset class="form-columns-1"><div class="hs_email hs-email hs-fieldtype-text field hs-form-field"><label id="label-email-ccb1f2e3-6e0b" for="email-ccb1f2e3-6e0b"><span>Email</span><span class="hs-form-required">*</span></label><legend class="hs-field-desc" style="display: none;"></legend><div class="input"><input id="email-ccb1f2e3-6e0b" name="email" required="" placeholder="" type="email" class="hs-input" inputmode="email" autocomplete="email" value=""></div></div></fieldset>
<input name="hs_context" type="hidden" value="{&quot;embedAtTimestamp&quot;:&quot;1729590000000&quot;,&quot;formDefinitionUpdatedAt&quot;:&quot;1729000000000&quot;}">
<div class="hs_submit hs-submit"><div class="hs-field-desc" style="display: none;"></div><div class="actions"><input type="submit" class="hs-button primary large" value="Submit"></div></div>
</form></div>"#;

const GRAVITY: &str = r#"<div class='gf_browser_chrome gform_wrapper gravity-theme gform-theme--no-framework' data-form-theme='gravity-theme' data-form-index='0' id='gform_wrapper_1'>
<form method='post' enctype='multipart/form-data' id='gform_1' action='/thanks' data-formid='1' novalidate>
<div class='gform-body gform_body'><div id='gform_fields_1' class='gform_fields top_label form_sublabel_below description_below validation_below'>
<div id="field_1_1" class="gfield gfield--type-text gfield--input-type-text gfield_contains_required field_sublabel_below gfield--no-description field_description_below field_validation_below gfield_visibility_visible" data-js-reload="field_1_1"><label class='gfield_label gform-field-label' for='input_1_1'>Name<span class="gfield_required"><span class="gfield_required gfield_required_text">(Required)</span></span></label><div class='ginput_container ginput_container_text'><input name='input_1' id='input_1_1' type='text' value='' class='large' aria-required="true" aria-invalid="false" /></div></div>
<div id="field_1_2" class="gfield gfield--type-email gfield--input-type-email gfield_contains_required field_sublabel_below gfield--no-description field_description_below field_validation_below gfield_visibility_visible" data-js-reload="field_1_2"><label class='gfield_label gform-field-label' for='input_1_2'>Email<span class="gfield_required"><span class="gfield_required gfield_required_text">(Required)</span></span></label><div class='ginput_container ginput_container_email'><input name='input_2' id='input_1_2' type='email' value='' class='large' aria-required="true" aria-invalid="false" /></div></div>
<div id="field_1_3" class="gfield gfield--type-textarea gfield--input-type-textarea field_sublabel_below gfield--no-description field_description_below field_validation_below gfield_visibility_visible" data-js-reload="field_1_3"><label class='gfield_label gform-field-label' for='input_1_3'>Comments</label><div class='ginput_container ginput_container_textarea'><textarea name='input_3' id='input_1_3' class='textarea large' aria-invalid="false" rows='10' cols='50'></textarea></div></div>
</div></div>
<div class='gform-footer gform_footer top_label'><input type='submit' id='gform_submit_button_1' class='gform_button button' value='Submit' />
<input type='hidden' class='gform_hidden' name='gform_submission_method' data-js='gform_submission_method_1' value='postback' />
<input type='hidden' class='gform_hidden' name='is_submit_1' value='1' /><input type='hidden' class='gform_hidden' name='gform_submit' value='1' />
<input type='hidden' name='gform_unique_id' value='' /><input type='hidden' class='gform_hidden' name='state_1' value='WyJbXSIsIjZkOWQ4ZTJhMzA2MWY5ZTQ3ZjNlNmE0OWFkM2ZmOTU2Il0=' />
<input type='hidden' class='gform_hidden' name='gform_target_page_number_1' id='gform_target_page_number_1' value='0' />
<input type='hidden' class='gform_hidden' name='gform_source_page_number_1' id='gform_source_page_number_1' value='1' />
<input type='hidden' name='gform_field_values' value='' /></div></form></div>"#;

const WEBFLOW: &str = r#"<div class="w-form"><form id="wf-form-Contact-Form" name="wf-form-Contact-Form" data-name="Contact Form" method="get" class="contact-form" data-wf-page-id="6512a1b2c3d4e5f6a7b8c9d0" data-wf-element-id="1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d" aria-label="Contact Form">
<label for="Name">Name</label><input class="text-field w-input" maxlength="256" name="Name" data-name="Name" placeholder="" type="text" id="Name"/>
<label for="Email-2">Email Address</label><input class="text-field w-input" maxlength="256" name="Email-2" data-name="Email 2" placeholder="" type="email" id="Email-2" required=""/>
<label for="Message">Message</label><textarea id="Message" name="Message" maxlength="5000" data-name="Message" placeholder="" class="w-input"></textarea>
<input type="submit" data-wait="Please wait..." class="submit-button w-button" value="Submit"/></form>
<div class="w-form-done" tabindex="-1" role="region" aria-label="Contact Form success"><div>Thank you! Your submission has been received!</div></div>
<div class="w-form-fail" tabindex="-1" role="region" aria-label="Contact Form failure"><div>Oops! Something went wrong while submitting the form.</div></div></div>"#;

const ELEMENTOR: &str = r#"<div class="elementor-widget-container">
<form class="elementor-form" method="post" name="New Form" aria-label="New Form">
<input type="hidden" name="post_id" value="123"/><input type="hidden" name="form_id" value="4f5a6b7"/>
<input type="hidden" name="referer_title" value="Home" /><input type="hidden" name="queried_id" value="123"/>
<div class="elementor-form-fields-wrapper elementor-labels-above">
<div class="elementor-field-type-text elementor-field-group elementor-column elementor-field-group-name elementor-col-100"><label for="form-field-name" class="elementor-field-label">Name</label><input size="1" type="text" name="form_fields[name]" id="form-field-name" class="elementor-field elementor-size-sm  elementor-field-textual" placeholder="Name"></div>
<div class="elementor-field-type-email elementor-field-group elementor-column elementor-field-group-email elementor-col-100 elementor-field-required"><label for="form-field-email" class="elementor-field-label">Email</label><input size="1" type="email" name="form_fields[email]" id="form-field-email" class="elementor-field elementor-size-sm  elementor-field-textual" placeholder="Email" required="required" aria-required="true"></div>
<div class="elementor-field-type-textarea elementor-field-group elementor-column elementor-field-group-message elementor-col-100"><label for="form-field-message" class="elementor-field-label">Message</label><textarea class="elementor-field-textual elementor-field  elementor-size-sm" name="form_fields[message]" id="form-field-message" rows="4" placeholder="Message"></textarea></div>
<div class="elementor-field-group elementor-column elementor-field-type-submit elementor-col-100 e-form__buttons"><button type="submit" class="elementor-button elementor-size-sm"><span><span class="elementor-button-icon"></span><span class="elementor-button-text">Send</span></span></button></div>
</div></form></div>"#;

/// Ninja Forms 3 as its templates render it: a bare <form>, fields named nf-field-N, a
/// honeypot, and a Submit that is a plain button.
const NINJA: &str = r#"<div id="nf-form-2-cont" class="nf-form-cont" aria-live="polite" aria-labelledby="nf-form-title-2" aria-describedby="nf-form-errors-2" role="form">
<span id="nf-form-title-2" class="nf-form-title"><h3>Contact Me</h3></span>
<div class="nf-form-wrap ninja-forms-form-wrap"><div class="nf-response-msg"></div><div class="nf-debug-msg"></div>
<div class="nf-form-layout"><form><div><div class="nf-form-content "><nf-fields-wrap>
<nf-field><div id="nf-field-5-container" class="nf-field-container textbox-container label-above "><div class="nf-field"><div id="nf-field-5-wrap" class="field-wrap textbox-wrap" data-field-id="5"><div class="nf-field-label"><label for="nf-field-5" id="nf-label-field-5" class="">Name <span class="ninja-forms-req-symbol">*</span></label></div><div class="nf-field-element"><input type="text" value="" class="ninja-forms-field nf-element" id="nf-field-5" name="nf-field-5" aria-invalid="false" aria-describedby="nf-error-5" aria-labelledby="nf-label-field-5" required=""></div></div></div></div></nf-field>
<nf-field><div id="nf-field-6-container" class="nf-field-container email-container label-above "><div class="nf-field"><div id="nf-field-6-wrap" class="field-wrap email-wrap" data-field-id="6"><div class="nf-field-label"><label for="nf-field-6" id="nf-label-field-6" class="">Email <span class="ninja-forms-req-symbol">*</span></label></div><div class="nf-field-element"><input type="email" value="" class="ninja-forms-field nf-element" id="nf-field-6" name="nf-field-6" autocomplete="email" aria-invalid="false" aria-describedby="nf-error-6" aria-labelledby="nf-label-field-6" required=""></div></div></div></div></nf-field>
<nf-field><div id="nf-field-8-container" class="nf-field-container phone-container label-above "><div class="nf-field"><div id="nf-field-8-wrap" class="field-wrap phone-wrap" data-field-id="8"><div class="nf-field-label"><label for="nf-field-8" id="nf-label-field-8" class="">Phone</label></div><div class="nf-field-element"><input type="tel" value="" class="ninja-forms-field nf-element" id="nf-field-8" name="nf-field-8" autocomplete="tel" aria-invalid="false" aria-describedby="nf-error-8" aria-labelledby="nf-label-field-8"></div></div></div></div></nf-field>
<nf-field><div id="nf-field-7-container" class="nf-field-container textarea-container label-above "><div class="nf-field"><div id="nf-field-7-wrap" class="field-wrap textarea-wrap" data-field-id="7"><div class="nf-field-label"><label for="nf-field-7" id="nf-label-field-7" class="">Message <span class="ninja-forms-req-symbol">*</span></label></div><div class="nf-field-element"><textarea id="nf-field-7" name="nf-field-7" aria-invalid="false" aria-describedby="nf-error-7" class="ninja-forms-field nf-element" aria-labelledby="nf-label-field-7" required=""></textarea></div></div></div></div></nf-field>
<nf-field><div id="nf-field-9-container" class="nf-field-container submit-container label-above textbox-container"><div class="nf-field"><div id="nf-field-9-wrap" class="field-wrap submit-wrap textbox-wrap" data-field-id="9"><div class="nf-field-label"></div><div class="nf-field-element"><input id="nf-field-9" class="ninja-forms-field nf-element " type="button" value="Submit"></div></div></div></div></nf-field>
</nf-fields-wrap></div><div class="nf-after-form-content"><div id="nf-form-errors-2" class="nf-form-errors" role="alert"></div><div class="nf-form-hp"><label for="nf-field-hp-2" aria-hidden="true">If you are a human seeing this field, please leave it empty.<input id="nf-field-hp-2" name="nf-field-hp" class="nf-element nf-field-hp" type="text" value=""></label></div></div>
</div></form></div></div></div>"#;

/// Pardot (Account Engagement) names every field by its ids; the label says what it is.
const PARDOT: &str = r#"<form accept-charset="UTF-8" method="post" action="/thanks" class="form" id="pardot-form">
<p class="form-field  first_name pd-text required required-custom"><label class="field-label" for="861213_2312pi_861213_2312">First Name</label><input type="text" name="861213_2312pi_861213_2312" id="861213_2312pi_861213_2312" value="" class="text" size="30" maxlength="40" onchange="" onfocus="" /></p><div id="error_for_861213_2312pi_861213_2312" style="display:none"></div>
<p class="form-field  last_name pd-text required required-custom"><label class="field-label" for="861213_2314pi_861213_2314">Last Name</label><input type="text" name="861213_2314pi_861213_2314" id="861213_2314pi_861213_2314" value="" class="text" size="30" maxlength="80" onchange="" onfocus="" /></p><div id="error_for_861213_2314pi_861213_2314" style="display:none"></div>
<p class="form-field  email pd-text required required-custom"><label class="field-label" for="861213_2316pi_861213_2316">Email</label><input type="text" name="861213_2316pi_861213_2316" id="861213_2316pi_861213_2316" value="" class="text" size="30" maxlength="255" onchange="" onfocus="" /></p><div id="error_for_861213_2316pi_861213_2316" style="display:none"></div>
<p class="form-field  company pd-text  "><label class="field-label" for="861213_2318pi_861213_2318">Company</label><input type="text" name="861213_2318pi_861213_2318" id="861213_2318pi_861213_2318" value="" class="text" size="30" maxlength="255" onchange="" onfocus="" /></p>
<p class="form-field  comments pd-textarea  "><label class="field-label" for="861213_2322pi_861213_2322">Comments</label><textarea name="861213_2322pi_861213_2322" id="861213_2322pi_861213_2322" onchange="" cols="40" rows="10" class="standard"></textarea></p>
<p style="position:absolute; width:190px; left:-9999px; top: -9999px;visibility:hidden;"><label for="pi_extra_field">Comments</label><input type="text" name="pi_extra_field" id="pi_extra_field"/></p>
<input name="_utf8" type="hidden" value="&#9731;" /><p class="submit"><input type="submit" accesskey="s" value="Submit" /></p>
<input type="hidden" name="hiddenDependentFields" id="hiddenDependentFields" value="" /></form>"#;

/// Tilda names a multi-line box `Textarea`, Forminator `textarea-1`, Wix Forms
/// `long_answer_<id>`: the box after its kind, not its content.
const TILDA: &str = r#"<form id="form512345678" name="form512345678" role="form" action="" method="POST" data-formactiontype="2" data-inputbox=".t-input-group" class="t-form js-form-proccess t-form_inputs-total_4">
<input type="hidden" name="formservices[]" value="1a2b3c4d5e6f" class="js-formaction-services"><input type="hidden" name="tildaspec-formname" tabindex="-1" value="Contact">
<div class="t-form__inputsbox t-form__inputsbox_vertical-form t-form__inputsbox_inrow">
<div class="t-input-group t-input-group_nm" data-input-lid="1494858943227" data-field-type="nm"><label for="input_1494858943227" class="t-input-title t-descr t-descr_md" id="field-title_1494858943227">Your name</label><div class="t-input-block"><input type="text" autocomplete="name" name="Name" id="input_1494858943227" class="t-input js-tilda-rule" value="" data-tilda-req="1" aria-required="true" data-tilda-rule="name" aria-describedby="error_1494858943227"><div class="t-input-error" aria-live="polite" id="error_1494858943227"></div></div></div>
<div class="t-input-group t-input-group_em" data-input-lid="1494858943228" data-field-type="em"><label for="input_1494858943228" class="t-input-title t-descr t-descr_md" id="field-title_1494858943228">Your email</label><div class="t-input-block"><input type="text" autocomplete="email" name="Email" id="input_1494858943228" class="t-input js-tilda-rule" value="" data-tilda-req="1" aria-required="true" data-tilda-rule="email" aria-describedby="error_1494858943228"><div class="t-input-error" aria-live="polite" id="error_1494858943228"></div></div></div>
<div class="t-input-group t-input-group_ph" data-input-lid="1494858943229" data-field-type="ph"><label for="input_1494858943229" class="t-input-title t-descr t-descr_md" id="field-title_1494858943229">Your phone</label><div class="t-input-block"><input type="tel" autocomplete="tel" name="Phone" id="input_1494858943229" class="t-input js-tilda-rule js-tilda-mask" value="" data-tilda-rule="phone" pattern="[0-9]*" data-tilda-mask="+1 (999) 999-9999" aria-describedby="error_1494858943229"><div class="t-input-error" aria-live="polite" id="error_1494858943229"></div></div></div>
<div class="t-input-group t-input-group_ta" data-input-lid="1494858943230" data-field-type="ta"><label for="input_1494858943230" class="t-input-title t-descr t-descr_md" id="field-title_1494858943230">Comment</label><div class="t-input-block"><textarea name="Textarea" id="input_1494858943230" class="t-input js-tilda-rule" style="height:102px;" rows="3" aria-describedby="error_1494858943230"></textarea><div class="t-input-error" aria-live="polite" id="error_1494858943230"></div></div></div>
<div class="t-form__submit"><button type="submit" class="t-submit">Submit</button></div></div></form>"#;

const FORMINATOR: &str = r#"<form id="forminator-module-123" class="forminator-ui forminator-custom-form forminator-custom-form-123 forminator-design--default forminator_ajax" method="post" data-forminator-render="0" data-form-id="123" data-uid="64f1a2b3c4d5e" novalidate="novalidate">
<div class="forminator-row"><div id="name-1" class="forminator-field-name forminator-col forminator-col-12 "><div class="forminator-field"><label for="forminator-field-name-1_64f1a2b3c4d5e" id="forminator-field-name-1_64f1a2b3c4d5e-label" class="forminator-label">Name <span class="forminator-required">*</span></label><input type="text" name="name-1" value="" placeholder="E.g. John" id="forminator-field-name-1_64f1a2b3c4d5e" class="forminator-input forminator-name--field" aria-required="true" autocomplete="name" /></div></div></div>
<div class="forminator-row"><div id="email-1" class="forminator-field-email forminator-col forminator-col-12 "><div class="forminator-field"><label for="forminator-field-email-1_64f1a2b3c4d5e" id="forminator-field-email-1_64f1a2b3c4d5e-label" class="forminator-label">Email Address <span class="forminator-required">*</span></label><input type="email" name="email-1" value="" placeholder="E.g. john@doe.com" id="forminator-field-email-1_64f1a2b3c4d5e" class="forminator-input forminator-email--field" data-required="1" aria-required="true" autocomplete="email" /></div></div></div>
<div class="forminator-row"><div id="textarea-1" class="forminator-field-textarea forminator-col forminator-col-12 "><div class="forminator-field"><label for="forminator-field-textarea-1_64f1a2b3c4d5e" id="forminator-field-textarea-1_64f1a2b3c4d5e-label" class="forminator-label">Message</label><textarea name="textarea-1" placeholder="Enter your message..." id="forminator-field-textarea-1_64f1a2b3c4d5e" class="forminator-textarea" rows="6" style="min-height:140px;" maxlength="" ></textarea></div></div></div>
<input type="hidden" name="referer_url" value="" /><div class="forminator-row forminator-row-last"><div class="forminator-col"><div class="forminator-field"><button class="forminator-button forminator-button-submit">Send Message</button></div></div></div>
<input type="hidden" id="forminator_nonce" name="forminator_nonce" value="a1b2c3d4e5" /><input type="hidden" name="_wp_http_referer" value="/contact/" /><input type="hidden" name="form_id" value="123"><input type="hidden" name="page_id" value="45"><input type="hidden" name="form_type" value="default"><input type="hidden" name="current_url" value="https://example.com/contact/"><input type="hidden" name="render_id" value="0"><input type="hidden" name="action" value="forminator_submit_form_custom-forms">
</form>"#;

const WIX: &str = r#"<div id="comp-lq1a2b3c" class="comp-lq1a2b3c wixui-form"><form class="kuTaGy" data-hook="form" novalidate="">
<div class="k0IX5q" data-hook="first_name_8d1e-field"><label for="form-field-first_name_8d1e" class="ihfDRA">First name</label><input id="form-field-first_name_8d1e" name="first_name_8d1e" type="text" class="KvoMHf has-custom-focus wixui-text-input__input" maxlength="100" value=""></div>
<div class="k0IX5q" data-hook="email_4c7f-field"><label for="form-field-email_4c7f" class="ihfDRA">Email<span aria-hidden="true">*</span></label><input id="form-field-email_4c7f" name="email_4c7f" type="email" required="" class="KvoMHf" maxlength="250" value=""></div>
<div class="k0IX5q" data-hook="long_answer_3524-field"><label for="form-field-long_answer_3524" class="ihfDRA">Message</label><textarea id="form-field-long_answer_3524" name="long_answer_3524" class="KvoMHf"></textarea></div>
<div class="k0IX5q"><button type="submit" data-hook="submit-button" class="StylableButton2545352419__root wixui-button"><span class="StylableButton2545352419__label">Submit</span></button></div>
</form></div>"#;

/// Zoho CRM's web-to-lead form keeps its state in text inputs hidden by a style.
const ZOHO_CRM: &str = r#"<div id='crmWebToEntityForm' class='zcwf_lblLeft crmWebToEntityForm' style='background-color: white;color: black;max-width: 600px;'>
<form id='webform5000000000001' action='/thanks' name=WebToLeads5000000000001 method='POST' onSubmit='javascript:document.charset="UTF-8"; return checkMandatory5000000000001()' accept-charset='UTF-8'>
<input type='text' style='display:none;' name='xnQsjsdp' value='a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6'></input>
<input type='hidden' name='zc_gad' id='zc_gad' value=''></input>
<input type='text' style='display:none;' name='xmIwtLD' value='f6e5d4c3b2a1f6e5d4c3b2a1f6e5d4c3b2a1f6e5d4c3b2a1f6e5d4c3b2a1f6e5'></input>
<input type='text' style='display:none;' name='actionType' value='TGVhZHM='></input>
<input type='text' style='display:none;' name='returnURL' value='https&#x3a;&#x2f;&#x2f;example.com&#x2f;thanks' > </input>
<div class='zcwf_title' style='max-width: 600px;color: black;'>Contact us</div>
<div class='zcwf_row'><div class='zcwf_col_lab' style='font-size:12px; font-family: Arial;'><label for='First_Name'>First Name</label></div><div class='zcwf_col_fld'><input type='text' id='First_Name' aria-required='false' aria-label='First Name' name='First Name' aria-valuemax='40' maxlength='40'></input><div class='zcwf_col_help'></div></div></div>
<div class='zcwf_row'><div class='zcwf_col_lab' style='font-size:12px; font-family: Arial;'><label for='Last_Name'>Last Name<span style='color:red;'>*</span></label></div><div class='zcwf_col_fld'><input type='text' id='Last_Name' aria-required='true' aria-label='Last Name' name='Last Name' aria-valuemax='80' maxlength='80'></input><div class='zcwf_col_help'></div></div></div>
<div class='zcwf_row'><div class='zcwf_col_lab' style='font-size:12px; font-family: Arial;'><label for='Email'>Email</label></div><div class='zcwf_col_fld'><input type='text' ftype='email' autocomplete='false' id='Email' aria-required='false' aria-label='Email' name='Email' aria-valuemax='100' crmlabel='' maxlength='100'></input><div class='zcwf_col_help'></div></div></div>
<div class='zcwf_row'><div class='zcwf_col_lab' style='font-size:12px; font-family: Arial;'><label for='Company'>Company<span style='color:red;'>*</span></label></div><div class='zcwf_col_fld'><input type='text' id='Company' aria-required='true' aria-label='Company' name='Company' aria-valuemax='200' maxlength='200'></input><div class='zcwf_col_help'></div></div></div>
<div class='zcwf_row'><div class='zcwf_col_lab' style='font-size:12px; font-family: Arial;'><label for='Description'>Description</label></div><div class='zcwf_col_fld'><textarea id='Description' aria-required='false' aria-label='Description' name='Description'></textarea><div class='zcwf_col_help'></div></div></div>
<input type='text' type='hidden' style='display: none;' name='aG9uZXlwb3Q' value=''/>
<div class='zcwf_row'><div class='zcwf_col_lab' style='font-size:12px; font-family: Arial;'></div><div class='zcwf_col_fld'><input type='submit' id='formsubmit' role='button' class='formsubmit zcwf_button' value='Submit' aria-label='Submit' title='Submit'><input type='reset' class='zcwf_button' role='button' name='reset' value='Reset' aria-label='Reset' title='Reset'></div></div>
<script>function checkMandatory5000000000001() { return true; }</script></form></div>"#;

/// Zoho Forms' HTML embed: a multi-line box named MultiLine.
const ZOHO_FORMS: &str = r#"<div class="zf-templateWidth"><form action='/thanks' name='form' method='POST' onSubmit='javascript:document.charset="UTF-8"; return zf_ValidateAndSubmit();' accept-charset='UTF-8' enctype='multipart/form-data' id='form'>
<input type="hidden" name="zf_referrer_name" value=""><input type="hidden" name="zf_redirect_url" value=""><input type="hidden" name="zc_gad" value="">
<div class="zf-templateWrapper"><div class="zf-subContWrap zf-topAlign"><ul>
<li class="zf-tempFrmWrapper zf-name zf-namemedium"><label class="zf-labelName">Name<em class="zf-important">*</em></label><div class="zf-tempContDiv zf-twoType"><div class="zf-nameWrapper">
<span><input type="text" maxlength="255" name="Name_First" fieldType=7 placeholder=""/><label>First</label></span>
<span><input type="text" maxlength="255" name="Name_Last" fieldType=7 placeholder=""/><label>Last</label></span><div class="zf-clearBoth"></div></div></div></li>
<li class="zf-tempFrmWrapper zf-small"><label class="zf-labelName">Email<em class="zf-important">*</em></label><div class="zf-tempContDiv"><span><input type="text" maxlength="255" name="Email" value="" fieldType=9 placeholder=""/></span></div></li>
<li class="zf-tempFrmWrapper zf-large"><label class="zf-labelName">Message</label><div class="zf-tempContDiv"><span><textarea name="MultiLine" checktype="c1" maxlength="65535" placeholder=""></textarea></span></div></li>
</ul></div><ul><li class="zf-fmFooter"><button class="zf-submitColor">Submit</button></li></ul></div></form></div>
<script>function zf_ValidateAndSubmit() { return true; }</script>"#;

/// Divi's contact form: fields named et_pb_contact_<field id>_<form number>, a math captcha.
const DIVI: &str = r#"<div id="et_pb_contact_form_0" class="et_pb_module et_pb_contact_form_0 et_pb_contact_form_container clearfix" data-form_unique_num="0" data-form_unique_id="7f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b">
<h1 class="et_pb_contact_main_title">Get in touch</h1><div class="et-pb-contact-message"></div>
<div class="et_pb_contact"><form class="et_pb_contact_form clearfix" method="post" action="/contact/">
<p class="et_pb_contact_field et_pb_contact_field_0 et_pb_contact_field_half" data-id="name" data-type="input"><label for="et_pb_contact_name_0" class="et_pb_contact_form_label">Name</label><input type="text" id="et_pb_contact_name_0" class="input" value="" name="et_pb_contact_name_0" data-required_mark="required" data-field_type="input" data-original_id="name" placeholder="Name"></p>
<p class="et_pb_contact_field et_pb_contact_field_1 et_pb_contact_field_half et_pb_contact_field_last" data-id="email" data-type="email"><label for="et_pb_contact_email_0" class="et_pb_contact_form_label">Email Address</label><input type="text" id="et_pb_contact_email_0" class="input" value="" name="et_pb_contact_email_0" data-required_mark="required" data-field_type="email" data-original_id="email" placeholder="Email Address"></p>
<p class="et_pb_contact_field et_pb_contact_field_2 et_pb_contact_field_half" data-id="phone" data-type="input"><label for="et_pb_contact_phone_0" class="et_pb_contact_form_label">Phone</label><input type="text" id="et_pb_contact_phone_0" class="input" value="" name="et_pb_contact_phone_0" data-required_mark="not_required" data-field_type="input" data-original_id="phone" placeholder="Phone"></p>
<p class="et_pb_contact_field et_pb_contact_field_3 et_pb_contact_field_last" data-id="message" data-type="text"><label for="et_pb_contact_message_0" class="et_pb_contact_form_label">Message</label><textarea name="et_pb_contact_message_0" id="et_pb_contact_message_0" class="et_pb_contact_message input" data-required_mark="required" data-field_type="text" data-original_id="message" placeholder="Message"></textarea></p>
<input type="hidden" value="et_contact_proccess" name="et_pb_contactform_submit_0"/>
<div class="et_contact_bottom_container"><div class="et_pb_contact_right"><p class="clearfix"><span class="et_pb_contact_captcha_question">7 + 3</span> = <input type="text" size="2" class="input et_pb_contact_captcha" data-first_digit="7" data-second_digit="3" value="" name="et_pb_contact_captcha_0" data-required_mark="required" autocomplete="off"></p></div>
<button type="submit" name="et_builder_submit_button" class="et_pb_contact_submit et_pb_button">Submit</button></div>
<input type="hidden" id="_wpnonce-et-pb-contact-form-submitted-0" name="_wpnonce-et-pb-contact-form-submitted-0" value="a1b2c3d4e5" /><input type="hidden" name="_wp_http_referer" value="/contact/" />
</form></div></div>"#;

/// Shopify's contact form (Dawn theme): names are contact[<label>].
const SHOPIFY: &str = r#"<form method="post" action="/thanks" id="ContactForm" accept-charset="UTF-8" class="isolate"><input type="hidden" name="form_type" value="contact" /><input type="hidden" name="utf8" value="✓" />
<div class="contact__fields"><div class="field"><input class="field__input" autocomplete="name" type="text" id="ContactForm-name" name="contact[Name]" value="" placeholder="Name"><label class="field__label" for="ContactForm-name">Name</label></div>
<div class="field field--with-error"><input autocomplete="email" type="email" id="ContactForm-email" class="field__input" name="contact[email]" spellcheck="false" autocapitalize="off" value="" aria-required="true" placeholder="Email"><label class="field__label" for="ContactForm-email">Email <span aria-hidden="true">*</span></label></div></div>
<div class="field"><input type="tel" id="ContactForm-phone" class="field__input" autocomplete="tel" name="contact[Phone number]" pattern="[0-9\-]*" value="" placeholder="Phone number"><label class="field__label" for="ContactForm-phone">Phone number</label></div>
<div class="field"><textarea rows="10" id="ContactForm-body" class="text-area field__input" name="contact[Comment]" placeholder="Comment"></textarea><label class="form__label field__label" for="ContactForm-body">Comment</label></div>
<div class="contact__button"><button type="submit" class="button">Send</button></div></form>"#;

/// Mailchimp's embedded signup: merge tags for names, a GDPR box labelled Email, a bot trap.
const MAILCHIMP: &str = r#"<div id="mc_embed_shell"><div id="mc_embed_signup"><form action="/thanks" method="post" id="mc-embedded-subscribe-form" name="mc-embedded-subscribe-form" class="validate" novalidate="novalidate">
<div id="mc_embed_signup_scroll"><h2>Subscribe</h2><div class="indicates-required"><span class="asterisk">*</span> indicates required</div>
<div class="mc-field-group"><label for="mce-EMAIL">Email Address <span class="asterisk">*</span></label><input type="email" name="EMAIL" class="required email" id="mce-EMAIL" required="" value=""></div>
<div class="mc-field-group"><label for="mce-FNAME">First Name </label><input type="text" name="FNAME" class=" text" id="mce-FNAME" value=""></div>
<div class="mc-field-group"><label for="mce-LNAME">Last Name </label><input type="text" name="LNAME" class=" text" id="mce-LNAME" value=""></div>
<div class="mc-field-group size1of2"><label for="mce-PHONE">Phone Number </label><input type="text" name="PHONE" class="REQ_CSS" id="mce-PHONE" value=""></div>
<div id="mergeRow-gdpr" class="mergeRow gdpr-mergeRow content__gdprBlock mc-field-group"><div class="content__gdpr"><label>Marketing Permissions</label><p>Please select all the ways you would like to hear from us:</p>
<fieldset class="mc_fieldset gdprRequired mc-field-group" name="interestgroup_field"><label class="checkbox subfield" for="gdpr_1"><input type="checkbox" id="gdpr_1" name="gdpr[1]" class="gdpr" value="Y"><span>Email</span></label></fieldset></div></div>
<div hidden=""><input type="hidden" name="tags" value="2912345"></div>
<div id="mce-responses" class="clear foot"><div class="response" id="mce-error-response" style="display: none;"></div><div class="response" id="mce-success-response" style="display: none;"></div></div>
<div aria-hidden="true" style="position: absolute; left: -5000px;"><input type="text" name="b_1a2b3c4d5e6f7a8b9c0d1e2f3_4a5b6c7d8e" tabindex="-1" value=""></div>
<div class="optionalParent"><div class="clear foot"><input type="submit" name="subscribe" id="mc-embedded-subscribe" class="button" value="Subscribe"></div></div></div></form></div></div>"#;

/// WPForms: a name split in two under one label, wpforms[fields][N] names, a honeypot
/// labelled Email.
const WPFORMS: &str = r#"<div class="wpforms-container wpforms-container-full" id="wpforms-123"><form id="wpforms-form-123" class="wpforms-validate wpforms-form wpforms-ajax-form" data-formid="123" method="post" enctype="multipart/form-data" action="/contact/" data-token="0a1b2c3d4e5f" data-token-time="1700000000">
<noscript class="wpforms-error-noscript">Please enable JavaScript in your browser to complete this form.</noscript>
<div class="wpforms-field-container">
<div id="wpforms-123-field_0-container" class="wpforms-field wpforms-field-name" data-field-id="0"><label class="wpforms-field-label" for="wpforms-123-field_0">Name <span class="wpforms-required-label">*</span></label><div class="wpforms-field-row wpforms-field-medium"><div class="wpforms-field-row-block wpforms-first wpforms-one-half"><input type="text" id="wpforms-123-field_0" class="wpforms-field-name-first wpforms-field-required" name="wpforms[fields][0][first]" required><label for="wpforms-123-field_0" class="wpforms-field-sublabel after">First</label></div><div class="wpforms-field-row-block wpforms-one-half"><input type="text" id="wpforms-123-field_0-last" class="wpforms-field-name-last wpforms-field-required" name="wpforms[fields][0][last]" required><label for="wpforms-123-field_0-last" class="wpforms-field-sublabel after">Last</label></div></div></div>
<div id="wpforms-123-field_1-container" class="wpforms-field wpforms-field-email" data-field-id="1"><label class="wpforms-field-label" for="wpforms-123-field_1">Email <span class="wpforms-required-label">*</span></label><input type="email" id="wpforms-123-field_1" class="wpforms-field-medium wpforms-field-required" name="wpforms[fields][1]" spellcheck="false" required></div>
<div id="wpforms-123-field_3-container" class="wpforms-field wpforms-field-phone" data-field-id="3"><label class="wpforms-field-label" for="wpforms-123-field_3">Phone</label><input type="tel" id="wpforms-123-field_3" class="wpforms-field-medium wpforms-smart-phone-field" data-rule-smart-phone-field="true" name="wpforms[fields][3]" aria-errormessage="wpforms-123-field_3-error"></div>
<div id="wpforms-123-field_2-container" class="wpforms-field wpforms-field-textarea" data-field-id="2"><label class="wpforms-field-label" for="wpforms-123-field_2">Comment or Message</label><textarea id="wpforms-123-field_2" class="wpforms-field-medium" name="wpforms[fields][2]" ></textarea></div>
</div>
<div id="wpforms-123-field_4-container" class="wpforms-field wpforms-field-text" data-field-type="text" data-field-id="4" style="position: absolute !important; overflow: hidden !important; display: inline !important; height: 1px !important; width: 1px !important; z-index: -1000 !important; padding: 0 !important;"><label class="wpforms-field-label" for="wpforms-123-field_4">Email</label><input type="text" id="wpforms-123-field_4" class="wpforms-field-medium" name="wpforms[fields][4]" aria-errormessage="wpforms-123-field_4-error"></div>
<div class="wpforms-submit-container"><input type="hidden" name="wpforms[id]" value="123"><input type="hidden" name="page_title" value="Contact"><input type="hidden" name="page_url" value="https://example.com/contact/"><input type="hidden" name="url_referer" value=""><input type="hidden" name="page_id" value="45"><input type="hidden" name="wpforms[post_id]" value="45"><button type="submit" name="wpforms[submit]" id="wpforms-submit-123" class="wpforms-submit" data-alt-text="Sending..." data-submit-text="Submit" aria-live="assertive" value="wpforms-submit">Submit</button></div>
</form></div>"#;

/// Marketo Forms 2.0 as forms2.js renders it.
const MARKETO: &str = r#"<form id="mktoForm_1234" novalidate="novalidate" class="mktoForm mktoHasWidth mktoLayoutLeft" style="font-family: Helvetica, Arial, sans-serif; font-size: 13px; color: rgb(51, 51, 51); width: 471px;">
<div class="mktoFormRow"><div class="mktoFieldDescriptor mktoFormCol" style="margin-bottom: 10px;"><div class="mktoOffset" style="width: 10px;"></div><div class="mktoFieldWrap mktoRequiredField"><label for="FirstName" id="LblFirstName" class="mktoLabel mktoHasWidth" style="width: 100px;"><div class="mktoAsterix">*</div>First Name:</label><div class="mktoGutter mktoHasWidth" style="width: 10px;"></div><input id="FirstName" name="FirstName" maxlength="255" aria-labelledby="LblFirstName InstructFirstName" type="text" class="mktoField mktoTextField mktoHasWidth mktoRequired" aria-required="true" style="width: 150px;"><span id="InstructFirstName" tabindex="-1" class="mktoInstruction"></span><div class="mktoClear"></div></div><div class="mktoClear"></div></div><div class="mktoClear"></div></div>
<div class="mktoFormRow"><div class="mktoFieldDescriptor mktoFormCol" style="margin-bottom: 10px;"><div class="mktoOffset" style="width: 10px;"></div><div class="mktoFieldWrap mktoRequiredField"><label for="LastName" id="LblLastName" class="mktoLabel mktoHasWidth" style="width: 100px;"><div class="mktoAsterix">*</div>Last Name:</label><div class="mktoGutter mktoHasWidth" style="width: 10px;"></div><input id="LastName" name="LastName" maxlength="255" aria-labelledby="LblLastName InstructLastName" type="text" class="mktoField mktoTextField mktoHasWidth mktoRequired" aria-required="true" style="width: 150px;"><span id="InstructLastName" tabindex="-1" class="mktoInstruction"></span><div class="mktoClear"></div></div><div class="mktoClear"></div></div><div class="mktoClear"></div></div>
<div class="mktoFormRow"><div class="mktoFieldDescriptor mktoFormCol" style="margin-bottom: 10px;"><div class="mktoOffset" style="width: 10px;"></div><div class="mktoFieldWrap mktoRequiredField"><label for="Email" id="LblEmail" class="mktoLabel mktoHasWidth" style="width: 100px;"><div class="mktoAsterix">*</div>Email Address:</label><div class="mktoGutter mktoHasWidth" style="width: 10px;"></div><input id="Email" name="Email" maxlength="255" aria-labelledby="LblEmail InstructEmail" type="email" class="mktoField mktoEmailField mktoHasWidth mktoRequired" aria-required="true" style="width: 150px;"><span id="InstructEmail" tabindex="-1" class="mktoInstruction"></span><div class="mktoClear"></div></div><div class="mktoClear"></div></div><div class="mktoClear"></div></div>
<div class="mktoFormRow"><div class="mktoFieldDescriptor mktoFormCol" style="margin-bottom: 10px;"><div class="mktoOffset" style="width: 10px;"></div><div class="mktoFieldWrap"><label for="Phone" id="LblPhone" class="mktoLabel mktoHasWidth" style="width: 100px;"><div class="mktoAsterix">*</div>Phone Number:</label><div class="mktoGutter mktoHasWidth" style="width: 10px;"></div><input id="Phone" name="Phone" maxlength="255" aria-labelledby="LblPhone InstructPhone" type="tel" class="mktoField mktoTelField mktoHasWidth" style="width: 150px;"><span id="InstructPhone" tabindex="-1" class="mktoInstruction"></span><div class="mktoClear"></div></div><div class="mktoClear"></div></div><div class="mktoClear"></div></div>
<div class="mktoFormRow"><div class="mktoFieldDescriptor mktoFormCol" style="margin-bottom: 10px;"><div class="mktoOffset" style="width: 10px;"></div><div class="mktoFieldWrap"><label for="Company" id="LblCompany" class="mktoLabel mktoHasWidth" style="width: 100px;"><div class="mktoAsterix">*</div>Company Name:</label><div class="mktoGutter mktoHasWidth" style="width: 10px;"></div><input id="Company" name="Company" maxlength="255" aria-labelledby="LblCompany InstructCompany" type="text" class="mktoField mktoTextField mktoHasWidth" style="width: 150px;"><span id="InstructCompany" tabindex="-1" class="mktoInstruction"></span><div class="mktoClear"></div></div><div class="mktoClear"></div></div><div class="mktoClear"></div></div>
<div class="mktoFormRow"><div class="mktoFieldDescriptor mktoFormCol" style="margin-bottom: 10px;"><div class="mktoOffset" style="width: 10px;"></div><div class="mktoFieldWrap"><label for="Comments__c" id="LblComments__c" class="mktoLabel mktoHasWidth" style="width: 100px;"><div class="mktoAsterix">*</div>Comments:</label><div class="mktoGutter mktoHasWidth" style="width: 10px;"></div><textarea id="Comments__c" name="Comments__c" aria-labelledby="LblComments__c InstructComments__c" rows="2" class="mktoField mktoHasWidth" style="width: 150px;"></textarea><span id="InstructComments__c" tabindex="-1" class="mktoInstruction"></span><div class="mktoClear"></div></div><div class="mktoClear"></div></div><div class="mktoClear"></div></div>
<div class="mktoFormRow"><div class="mktoFieldDescriptor mktoFormCol" style="margin-bottom: 10px;"><div class="mktoFieldWrap"><input type="checkbox" name="Unsubscribed" id="mktoCheckbox_1234_0" value="yes" class="mktoField"><label for="mktoCheckbox_1234_0">Yes, send me updates</label></div></div></div>
<div class="mktoButtonRow"><span class="mktoButtonWrap mktoSimple" style="margin-left: 120px;"><button type="submit" class="mktoButton">Submit</button></span></div>
<input type="hidden" name="formid" class="mktoField mktoFieldDescriptor" value="1234"><input type="hidden" name="munchkinId" class="mktoField mktoFieldDescriptor" value="123-ABC-456"></form>"#;

/// Jotform's source-code embed: a full-name box whose first part has the field's label.
const JOTFORM: &str = r#"<form class="jotform-form" action="/thanks" method="post" name="form_231234567890123" id="231234567890123" accept-charset="utf-8" autocomplete="on">
<input type="hidden" name="formID" value="231234567890123" /><input type="hidden" id="JWTContainer" value="" /><input type="hidden" id="cardinalOrderNumber" value="" /><input type="hidden" id="jsExecutionTracker" name="jsExecutionTracker" value="build-date-1700000000000" /><input type="hidden" id="submitSource" name="submitSource" value="unknown" /><input type="hidden" id="buildDate" name="buildDate" value="1700000000000" />
<div role="main" class="form-all"><ul class="form-section page-section">
<li id="cid_1" class="form-input-wide" data-type="control_head"><div class="form-header-group  header-large"><div class="header-text httal htvam"><h1 id="header_1" class="form-header" data-component="header">Contact Us</h1></div></div></li>
<li class="form-line jf-required" data-type="control_fullname" id="id_3"><label class="form-label form-label-top form-label-auto" id="label_3" for="first_3" aria-hidden="false"> Name<span class="form-required">*</span> </label><div id="cid_3" class="form-input-wide jf-required" data-layout="full"><div data-wrapper-react="true"><span class="form-sub-label-container" style="vertical-align:top" data-input-type="first"><input type="text" id="first_3" name="q3_name[first]" class="form-textbox validate[required]" data-defaultvalue="" autoComplete="section-input_3 given-name" size="10" data-component="first" aria-labelledby="label_3 sublabel_3_first" required="" value="" /><label class="form-sub-label" for="first_3" id="sublabel_3_first" style="min-height:13px">First Name</label></span><span class="form-sub-label-container" style="vertical-align:top" data-input-type="last"><input type="text" id="last_3" name="q3_name[last]" class="form-textbox validate[required]" data-defaultvalue="" autoComplete="section-input_3 family-name" size="15" data-component="last" aria-labelledby="label_3 sublabel_3_last" required="" value="" /><label class="form-sub-label" for="last_3" id="sublabel_3_last" style="min-height:13px">Last Name</label></span></div></div></li>
<li class="form-line jf-required" data-type="control_email" id="id_4"><label class="form-label form-label-top form-label-auto" id="label_4" for="input_4" aria-hidden="false"> E-mail<span class="form-required">*</span> </label><div id="cid_4" class="form-input-wide jf-required" data-layout="half"><span class="form-sub-label-container" style="vertical-align:top"><input type="email" id="input_4" name="q4_email" class="form-textbox validate[required, Email]" data-defaultvalue="" autoComplete="section-input_4 email" style="width:310px" size="310" placeholder="ex: myname@example.com" data-component="email" aria-labelledby="label_4 sublabel_input_4" required="" value="" /><label class="form-sub-label" for="input_4" id="sublabel_input_4" style="min-height:13px">example@example.com</label></span></div></li>
<li class="form-line" data-type="control_phone" id="id_5"><label class="form-label form-label-top form-label-auto" id="label_5" for="input_5_full"> Phone Number </label><div id="cid_5" class="form-input-wide" data-layout="half"><span class="form-sub-label-container" style="vertical-align:top"><input type="tel" id="input_5_full" name="q5_phoneNumber[full]" data-type="mask-number" class="mask-phone-number form-textbox validate[Fill Mask]" data-defaultvalue="" autoComplete="section-input_5 tel-national" style="width:310px" data-masked="true" placeholder="(000) 000-0000" data-component="phone" aria-labelledby="label_5" value="" /></span></div></li>
<li class="form-line" data-type="control_textarea" id="id_6"><label class="form-label form-label-top form-label-auto" id="label_6" for="input_6" aria-hidden="false"> Message </label><div id="cid_6" class="form-input-wide" data-layout="full"><textarea id="input_6" class="form-textarea" name="q6_message" style="width:648px;height:163px" data-component="textarea" aria-labelledby="label_6"></textarea></div></li>
<li class="form-line" data-type="control_button" id="id_2"><div id="cid_2" class="form-input-wide" data-layout="full"><div data-align="auto" class="form-buttons-wrapper form-buttons-auto   jsTest-button-wrapperField"><button id="input_2" type="submit" class="form-submit-button submit-button jf-form-buttons jsTest-submitField" data-component="button" data-content="">Submit</button></div></div></li>
<li style="display:none">Should be Empty: <input type="text" name="website" value="" type="hidden" /></li>
</ul></div><input type="hidden" class="simple_spc" id="simple_spc" name="simple_spc" value="231234567890123-231234567890123" /></form>"#;

/// A Squarespace form block. Its legacy phone field is left out: four boxes with no name and
/// labels of no words ((###), ###, ####) all take the name "text", so only the last is kept.
const SQUARESPACE: &str = r#"<div class="sqs-block form-block sqs-block-form" data-block-type="9" id="block-yui_3_17_2_1_1700000000000_5000"><div class="sqs-block-content"><div class="form-wrapper"><div class="form-inner-wrapper">
<form data-form-id="6512a1b2c3d4e5f6a7b8c9d0" autocomplete="on" method="POST" action="" novalidate onsubmit="return false;">
<div class="field-list clear">
<fieldset id="name-yui_3_17_2_1_1700000000000_5100" class="form-item fields name required"><legend class="title">Name <span class="required" aria-hidden="true">*</span></legend>
<div class="field first-name"><label class="caption"><input class="field-element field-control" name="fname" x-autocompletetype="given-name" type="text" spellcheck="false" maxlength="30" data-title="First" aria-required="true"><span class="caption-text">First Name</span></label></div>
<div class="field last-name"><label class="caption"><input class="field-element field-control" name="lname" x-autocompletetype="surname" type="text" spellcheck="false" maxlength="30" data-title="Last" aria-required="true"><span class="caption-text">Last Name</span></label></div></fieldset>
<div id="email-yui_3_17_2_1_1700000000000_5200" class="form-item field email required"><label class="title" for="email-yui_3_17_2_1_1700000000000_5200-field">Email <span class="required" aria-hidden="true">*</span></label><input class="field-element" id="email-yui_3_17_2_1_1700000000000_5200-field" name="email" type="email" autocomplete="email" spellcheck="false" aria-required="true"></div>
<div id="textarea-yui_3_17_2_1_1700000000000_5400" class="form-item field textarea required"><label class="title" for="textarea-yui_3_17_2_1_1700000000000_5400-field">Message <span class="required" aria-hidden="true">*</span></label><textarea class="field-element " id="textarea-yui_3_17_2_1_1700000000000_5400-field" aria-required="true"></textarea></div>
</div>
<div data-animation-role="button" class="form-button-wrapper form-button-wrapper--align-left"><input class="button sqs-system-button sqs-editable-button sqs-button-element--primary" type="submit" value="Submit"/></div>
<div class="hidden form-submission-text">Thank you!</div><div class="hidden form-submission-html" data-submission-html=""></div>
</form></div></div></div></div>"#;

/// One site-builder page: its markup, how its script sends (`ajax` selector or a normal
/// post), the fields to type (selector, text), and the expected lead.
struct Builder {
    path: &'static str,
    markup: &'static str,
    ajax: Option<&'static str>,
    typed: &'static [(&'static str, &'static str)],
    submit: &'static str,
    expect: &'static [(&'static str, &'static str)],
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn site_builder_markups_become_leads() {
    let Some(chrome) = browser::Browser::launch().await else { return };
    let t = spawn_app().await;
    let client = site(&t).await;
    let builders = [
        Builder {
            path: "/cf7",
            markup: CF7,
            ajax: Some(".wpcf7-form"),
            typed: &[
                ("input[name=your-name]", "Mary Jackson"),
                ("input[name=your-email]", "cf7@example.com"),
                ("input[name=your-subject]", "Pricing"),
                ("textarea[name=your-message]", "How much?"),
            ],
            submit: ".wpcf7-submit",
            expect: &[("email", "cf7@example.com"), ("name", "Mary Jackson"), ("message", "How much?")],
        },
        Builder {
            path: "/hubspot",
            markup: HUBSPOT,
            ajax: Some(".hs-form"),
            typed: &[
                ("input[name=firstname]", "Dorothy"),
                ("input[name=lastname]", "Vaughan"),
                (".hs-form-field input[name=email]", "hubspot@example.com"),
            ],
            submit: ".hs-button",
            expect: &[("email", "hubspot@example.com"), ("firstName", "Dorothy"), ("lastName", "Vaughan")],
        },
        Builder {
            path: "/gravity",
            markup: GRAVITY,
            ajax: None,
            typed: &[
                ("#input_1_1", "Annie Easley"),
                ("#input_1_2", "gravity@example.com"),
                ("#input_1_3", "Call after 5pm"),
            ],
            submit: "#gform_submit_button_1",
            expect: &[("email", "gravity@example.com"), ("name", "Annie Easley")],
        },
        Builder {
            path: "/webflow",
            markup: WEBFLOW,
            ajax: Some("#wf-form-Contact-Form"),
            typed: &[("#Name", "Evelyn Boyd"), ("#Email-2", "webflow@example.com"), ("#Message", "Hello")],
            submit: ".w-button",
            expect: &[("email", "webflow@example.com"), ("name", "Evelyn Boyd")],
        },
        Builder {
            path: "/elementor",
            markup: ELEMENTOR,
            ajax: Some(".elementor-form"),
            typed: &[
                ("#form-field-name", "Christine Darden"),
                ("#form-field-email", "elementor@example.com"),
                ("#form-field-message", "Need a quote"),
            ],
            submit: ".elementor-button",
            expect: &[("email", "elementor@example.com"), ("name", "Christine Darden"), ("message", "Need a quote")],
        },
        Builder {
            path: "/pardot",
            markup: PARDOT,
            ajax: None,
            typed: &[
                ("[id='861213_2312pi_861213_2312']", "Frances"),
                ("[id='861213_2314pi_861213_2314']", "Allen"),
                ("[id='861213_2316pi_861213_2316']", "pardot@example.com"),
                ("[id='861213_2318pi_861213_2318']", "IBM"),
                ("[id='861213_2322pi_861213_2322']", "Optimising compilers"),
            ],
            submit: "p.submit input",
            expect: &[
                ("email", "pardot@example.com"),
                ("firstName", "Frances"),
                ("lastName", "Allen"),
                ("company", "IBM"),
                ("message", "Optimising compilers"),
            ],
        },
        Builder {
            path: "/tilda",
            markup: TILDA,
            ajax: Some(".t-form"),
            typed: &[
                ("input[name=Name]", "Sophie Wilson"),
                ("input[name=Email]", "tilda@example.com"),
                ("input[name=Phone]", "2025550110"),
                ("textarea[name=Textarea]", "Is the ARM course still open?"),
            ],
            submit: ".t-submit",
            expect: &[
                ("email", "tilda@example.com"),
                ("name", "Sophie Wilson"),
                ("phone", "2025550110"),
                ("message", "Is the ARM course still open?"),
            ],
        },
        Builder {
            path: "/forminator",
            markup: FORMINATOR,
            ajax: Some(".forminator-custom-form"),
            typed: &[
                ("input[name=name-1]", "Mary Kenneth Keller"),
                ("input[name=email-1]", "forminator@example.com"),
                ("textarea[name=textarea-1]", "Visiting on Monday"),
            ],
            submit: ".forminator-button-submit",
            expect: &[
                ("email", "forminator@example.com"),
                ("name", "Mary Kenneth Keller"),
                ("message", "Visiting on Monday"),
            ],
        },
        Builder {
            path: "/wix",
            markup: WIX,
            ajax: Some("form[data-hook=form]"),
            typed: &[
                ("input[name=first_name_8d1e]", "Grace"),
                ("input[name=email_4c7f]", "wix@example.com"),
                ("textarea", "A table for six"),
            ],
            submit: "button[data-hook=submit-button]",
            expect: &[("email", "wix@example.com"), ("firstName", "Grace"), ("message", "A table for six")],
        },
        Builder {
            path: "/zoho-crm",
            markup: ZOHO_CRM,
            ajax: None,
            typed: &[
                ("#First_Name", "Jean"),
                ("#Last_Name", "Bartik"),
                ("#Email", "zoho-crm@example.com"),
                ("#Company", "ENIAC"),
                ("#Description", "Six programmers"),
            ],
            submit: "#formsubmit",
            expect: &[
                ("email", "zoho-crm@example.com"),
                ("name", "Jean Bartik"),
                ("company", "ENIAC"),
                ("message", "Six programmers"),
            ],
        },
        Builder {
            path: "/zoho-forms",
            markup: ZOHO_FORMS,
            ajax: None,
            typed: &[
                ("input[name=Name_First]", "Kathleen"),
                ("input[name=Name_Last]", "Booth"),
                ("input[name=Email]", "zoho-forms@example.com"),
                ("textarea[name=MultiLine]", "Assembly language course"),
            ],
            submit: ".zf-submitColor",
            expect: &[
                ("email", "zoho-forms@example.com"),
                ("name", "Kathleen Booth"),
                ("message", "Assembly language course"),
            ],
        },
        Builder {
            path: "/divi",
            markup: DIVI,
            ajax: Some(".et_pb_contact_form"),
            typed: &[
                ("#et_pb_contact_name_0", "Hedy Lamarr"),
                ("#et_pb_contact_email_0", "divi@example.com"),
                ("#et_pb_contact_phone_0", "202-555-0106"),
                ("#et_pb_contact_message_0", "Frequency hopping"),
                (".et_pb_contact_captcha", "10"),
            ],
            submit: ".et_pb_contact_submit",
            expect: &[
                ("email", "divi@example.com"),
                ("name", "Hedy Lamarr"),
                ("phone", "202-555-0106"),
                ("message", "Frequency hopping"),
            ],
        },
        Builder {
            path: "/shopify",
            markup: SHOPIFY,
            ajax: None,
            typed: &[
                ("#ContactForm-name", "Mary Jackson"),
                ("#ContactForm-email", "shopify@example.com"),
                ("#ContactForm-phone", "202-555-0101"),
                ("#ContactForm-body", "Do you ship to Norway?"),
            ],
            submit: ".contact__button button",
            expect: &[
                ("email", "shopify@example.com"),
                ("name", "Mary Jackson"),
                ("phone", "202-555-0101"),
                ("message", "Do you ship to Norway?"),
            ],
        },
        Builder {
            path: "/mailchimp",
            markup: MAILCHIMP,
            ajax: Some("#mc-embedded-subscribe-form"),
            typed: &[
                ("#mce-EMAIL", "mailchimp@example.com"),
                ("#mce-FNAME", "Katherine"),
                ("#mce-LNAME", "Johnson"),
                ("#mce-PHONE", "202-555-0102"),
                ("#gdpr_1", ""),
            ],
            submit: "#mc-embedded-subscribe",
            expect: &[("email", "mailchimp@example.com"), ("name", "Katherine Johnson"), ("phone", "202-555-0102")],
        },
        Builder {
            path: "/wpforms",
            markup: WPFORMS,
            ajax: Some("#wpforms-form-123"),
            typed: &[
                ("#wpforms-123-field_0", "Annie"),
                ("#wpforms-123-field_0-last", "Easley"),
                ("#wpforms-123-field_1", "wpforms@example.com"),
                ("#wpforms-123-field_3", "202-555-0103"),
                ("#wpforms-123-field_2", "Quote for 3 rooms"),
            ],
            submit: "#wpforms-submit-123",
            expect: &[
                ("email", "wpforms@example.com"),
                ("name", "Annie Easley"),
                ("phone", "202-555-0103"),
                ("message", "Quote for 3 rooms"),
            ],
        },
        Builder {
            path: "/marketo",
            markup: MARKETO,
            ajax: Some(".mktoForm"),
            typed: &[
                ("#FirstName", "Margaret"),
                ("#LastName", "Hamilton"),
                ("#Email", "marketo@example.com"),
                ("#Phone", "202-555-0107"),
                ("#Company", "MIT"),
                ("#Comments__c", "Apollo guidance"),
            ],
            submit: ".mktoButton",
            expect: &[
                ("email", "marketo@example.com"),
                ("name", "Margaret Hamilton"),
                ("company", "MIT"),
                ("message", "Apollo guidance"),
            ],
        },
        Builder {
            path: "/jotform",
            markup: JOTFORM,
            ajax: None,
            typed: &[
                ("#first_3", "Joan"),
                ("#last_3", "Clarke"),
                ("#input_4", "jotform@example.com"),
                ("#input_5_full", "(202) 555-0116"),
                ("#input_6", "Bletchley Park"),
            ],
            submit: "#input_2",
            expect: &[
                ("email", "jotform@example.com"),
                ("name", "Joan Clarke"),
                ("phone", "(202) 555-0116"),
                ("message", "Bletchley Park"),
            ],
        },
        Builder {
            path: "/squarespace",
            markup: SQUARESPACE,
            ajax: Some("form[data-form-id]"),
            typed: &[
                ("input[name=fname]", "Ada"),
                ("input[name=lname]", "Lovelace"),
                ("input[name=email]", "squarespace@example.com"),
                ("textarea", "Notes on the engine"),
            ],
            submit: "input[type=submit]",
            expect: &[
                ("email", "squarespace@example.com"),
                ("name", "Ada Lovelace"),
                ("message", "Notes on the engine"),
            ],
        },
    ];
    // Builders' own state: HubSpot's and Elementor's hidden inputs, Zoho CRM's hidden by a style.
    const INTERNAL: &[&str] = &["hs_context", "post_id", "xnqsjsdp", "xmiwtld", "actiontype", "returnurl"];
    let pages = builders
        .iter()
        .map(|b| {
            let script = b.ajax.map(ajax).unwrap_or_default();
            (b.path, page(&t, &client, &format!("{}{script}", b.markup)))
        })
        .collect();
    let (site_url, _server) = browser::serve_pages(pages).await;
    let page = chrome.new_page().await;
    for b in &builders {
        page.goto(&format!("{site_url}{}", b.path)).await;
        ready(&page).await;
        for (sel, text) in b.typed {
            page.fill(sel, text).await;
        }
        page.click(b.submit).await;
        if b.ajax.is_some() {
            page.wait_for("document.getElementById('status').textContent.startsWith('sent')", DEADLINE).await;
        } else {
            page.wait_for("location.pathname === '/thanks'", DEADLINE).await;
        }
        let email = b.expect[0].1;
        let lead = wait_for_lead(&t, &client, email, |l| l["status"] == "submitted").await;
        for (key, want) in b.expect {
            assert_eq!(lead[*key], *want, "{}: {key} of {lead:#}", b.path);
        }
        let fields = lead["fields"].as_object().unwrap();
        assert!(
            !fields
                .keys()
                .any(|k| ["_wp", "gform", "et_pb"].iter().any(|p| k.starts_with(p)) || INTERNAL.contains(&k.as_str())),
            "{}: builder-internal hidden inputs are not captured: {fields:?}",
            b.path
        );
        assert!(
            !fields.keys().any(|k| k.starts_with(|c: char| c.is_ascii_digit())),
            "{}: fields are named after their labels, not the builder's ids: {fields:?}",
            b.path
        );
    }
    assert_eq!(wait_for_leads(&t, &client, builders.len()).await.len(), builders.len());
    no_exceptions(&page);
    t.stop().await;
}
