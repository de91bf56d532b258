//! A small Chrome DevTools Protocol driver for headless Chromium: real pages, real
//! keyboard and mouse input, no WebDriver.
//!
//! Chromium is looked up as `$CHROME`, `chromium`, `chromium-browser`, `google-chrome`.
//! When it is missing the test FAILS with instructions; set `CRM_SKIP_BROWSER_TESTS=1` to
//! skip browser tests explicitly on a machine without it (never set in CI).
#![allow(dead_code)]

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

fn find_chromium() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("CHROME") {
        return Some(PathBuf::from(p));
    }
    for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
        for dir in std::env::var("PATH").unwrap_or_default().split(':') {
            let p = PathBuf::from(dir).join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Returns `None` only when skipping was asked for explicitly.
pub fn chromium_or_fail() -> Option<PathBuf> {
    if let Some(p) = find_chromium() {
        return Some(p);
    }
    let skip = std::env::var("CRM_SKIP_BROWSER_TESTS").is_ok_and(|v| v == "1");
    if skip && std::env::var("CI").is_err() {
        eprintln!("SKIPPED: Chromium not found and CRM_SKIP_BROWSER_TESTS=1");
        return None;
    }
    panic!(
        "browser tests need Chromium and none was found (looked for $CHROME, chromium, chromium-browser, google-chrome). \
         Install it (Debian/Ubuntu: apt-get install -y chromium), or set CRM_SKIP_BROWSER_TESTS=1 to skip them outside CI."
    );
}

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>;
type Events = Arc<Mutex<HashMap<String, Vec<Value>>>>;

struct Conn {
    out: mpsc::UnboundedSender<Message>,
    pending: Pending,
    events: Events,
    next: AtomicU64,
}

impl Conn {
    async fn call(&self, session: Option<&str>, method: &str, params: Value) -> Result<Value, String> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, tx);
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        self.out.send(Message::Text(msg.to_string().into())).map_err(|e| e.to_string())?;
        let reply = tokio::time::timeout(Duration::from_secs(30), rx)
            .await
            .map_err(|_| format!("CDP {method} timed out"))?
            .map_err(|_| "CDP connection closed".to_string())?;
        match reply.get("error") {
            Some(e) => Err(format!("CDP {method}: {e}")),
            None => Ok(reply["result"].clone()),
        }
    }
}

pub struct Browser {
    child: Child,
    conn: Arc<Conn>,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts headless Chromium; `None` only when browser tests are skipped explicitly.
    pub async fn launch() -> Option<Browser> {
        let exe = chromium_or_fail()?;
        let profile = tempfile::tempdir().expect("profile dir");
        let mut child = Command::new(exe)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--disable-features=Translate,MediaRouter,OptimizationHints",
                "--remote-debugging-port=0",
                "--window-size=1280,900",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chromium");
        let stderr = child.stderr.take().expect("stderr");
        let (url_tx, url_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent && let Some(url) = line.split("DevTools listening on ").nth(1) {
                    let _ = url_tx.send(url.trim().to_string());
                    sent = true;
                }
            }
        });
        let ws_url = url_rx.recv_timeout(Duration::from_secs(30)).expect("chromium did not print its DevTools URL");
        let (ws, _) = tokio_tungstenite::connect_async(ws_url.as_str()).await.expect("connect to DevTools");
        let (mut sink, mut stream) = ws.split();
        let (out, mut out_rx) = mpsc::unbounded_channel::<Message>();
        tokio::spawn(async move {
            while let Some(m) = out_rx.recv().await {
                if sink.send(m).await.is_err() {
                    break;
                }
            }
        });
        let pending: Pending = Arc::default();
        let events: Events = Arc::default();
        let conn = Arc::new(Conn {
            out: out.clone(),
            pending: pending.clone(),
            events: events.clone(),
            next: AtomicU64::new(1),
        });
        let dialog_out = out.clone();
        tokio::spawn(async move {
            while let Some(Ok(msg)) = stream.next().await {
                let Message::Text(text) = msg else { continue };
                let Ok(v) = serde_json::from_str::<Value>(&text) else { continue };
                if let Some(id) = v.get("id").and_then(Value::as_u64) {
                    if let Some(tx) = pending.lock().unwrap().remove(&id) {
                        let _ = tx.send(v);
                    }
                    continue;
                }
                let session = v.get("sessionId").and_then(Value::as_str).unwrap_or("").to_string();
                // Any alert/confirm/prompt is dismissed and recorded: a test can assert that
                // hostile text never ran `alert(1)`.
                if v["method"] == "Page.javascriptDialogOpening" {
                    let m = json!({"id": 0, "sessionId": session, "method": "Page.handleJavaScriptDialog", "params": {"accept": false}});
                    let _ = dialog_out.send(Message::Text(m.to_string().into()));
                }
                events.lock().unwrap().entry(session).or_default().push(v);
            }
        });
        Some(Browser { child, conn, _profile: profile })
    }

    pub async fn new_page(&self) -> Page {
        let target =
            self.conn.call(None, "Target.createTarget", json!({"url": "about:blank"})).await.expect("createTarget");
        let target_id = target["targetId"].as_str().unwrap().to_string();
        let attached = self
            .conn
            .call(None, "Target.attachToTarget", json!({"targetId": target_id, "flatten": true}))
            .await
            .expect("attach");
        let session = attached["sessionId"].as_str().unwrap().to_string();
        let page = Page { conn: self.conn.clone(), session, target_id };
        page.call("Page.enable", json!({})).await.expect("Page.enable");
        page.call("Runtime.enable", json!({})).await.expect("Runtime.enable");
        page
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Page {
    conn: Arc<Conn>,
    session: String,
    target_id: String,
}

impl Page {
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, String> {
        self.conn.call(Some(&self.session), method, params).await
    }

    /// Evaluates an expression (promises awaited) and returns its JSON value.
    pub async fn eval(&self, expression: &str) -> Value {
        self.try_eval(expression).await.unwrap_or_else(|e| panic!("eval {expression:?}: {e}"))
    }

    pub async fn try_eval(&self, expression: &str) -> Result<Value, String> {
        let r = self
            .call("Runtime.evaluate", json!({"expression": expression, "returnByValue": true, "awaitPromise": true}))
            .await?;
        if let Some(ex) = r.get("exceptionDetails") {
            return Err(ex.to_string());
        }
        Ok(r["result"].get("value").cloned().unwrap_or(Value::Null))
    }

    /// Waits until `expression` is truthy.
    pub async fn wait_for(&self, expression: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.try_eval(expression).await.unwrap_or(Value::Null);
            if !(v.is_null() || v == json!(false) || v == json!(0) || v == json!("")) {
                return;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {expression}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Navigates and waits for the load to complete.
    pub async fn goto(&self, url: &str) {
        let r = self.call("Page.navigate", json!({"url": url})).await.expect("navigate");
        if let Some(err) = r.get("errorText").and_then(Value::as_str) {
            panic!("navigating to {url}: {err}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        self.wait_for("document.readyState === 'complete' && location.href !== 'about:blank'", Duration::from_secs(20))
            .await;
    }

    /// Runs a script in every document before its own scripts (e.g. to set GPC).
    pub async fn add_init_script(&self, source: &str) {
        self.call("Page.addScriptToEvaluateOnNewDocument", json!({"source": source})).await.expect("init script");
    }

    /// Clicks the centre of the element, as a mouse would.
    pub async fn click(&self, selector: &str) {
        let sel = serde_json::to_string(selector).unwrap();
        let rect = self
            .eval(&format!(
                "(() => {{ const e = document.querySelector({sel}); if (!e) return null; e.scrollIntoView({{block: 'center'}}); \
                 const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()"
            ))
            .await;
        let (x, y) = match rect.as_array() {
            Some(a) => (a[0].as_f64().unwrap(), a[1].as_f64().unwrap()),
            None => panic!("no element matches {selector}"),
        };
        for (kind, buttons) in [("mouseMoved", 0), ("mousePressed", 1), ("mouseReleased", 0)] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "buttons": buttons, "clickCount": 1}),
            )
            .await
            .expect("mouse");
        }
    }

    /// Types text key by key into the focused element.
    pub async fn type_text(&self, text: &str) {
        for ch in text.chars() {
            let s = ch.to_string();
            self.call("Input.dispatchKeyEvent", json!({"type": "keyDown", "text": s, "key": s, "unmodifiedText": s}))
                .await
                .expect("key");
            self.call("Input.dispatchKeyEvent", json!({"type": "keyUp", "key": s})).await.expect("key");
        }
    }

    /// Clicks a field then types into it.
    pub async fn fill(&self, selector: &str, text: &str) {
        self.click(selector).await;
        self.type_text(text).await;
    }

    /// Presses a named key: Tab, Enter, Escape, Space, ArrowDown, Backspace.
    pub async fn press(&self, key: &str) {
        let (code, vk, text) = match key {
            "Tab" => ("Tab", 9, ""),
            "Enter" => ("Enter", 13, "\r"),
            "Escape" => ("Escape", 27, ""),
            "Space" => ("Space", 32, " "),
            "ArrowDown" => ("ArrowDown", 40, ""),
            "Backspace" => ("Backspace", 8, ""),
            other => panic!("unknown key {other}"),
        };
        let name = if key == "Space" { " " } else { key };
        let mut down = json!({"type": "keyDown", "key": name, "code": code, "windowsVirtualKeyCode": vk, "nativeVirtualKeyCode": vk});
        if !text.is_empty() {
            down["text"] = json!(text);
        }
        self.call("Input.dispatchKeyEvent", down).await.expect("key down");
        self.call(
            "Input.dispatchKeyEvent",
            json!({"type": "keyUp", "key": name, "code": code, "windowsVirtualKeyCode": vk}),
        )
        .await
        .expect("key up");
    }

    pub async fn set_viewport(&self, width: u32, height: u32) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600}),
        )
        .await
        .expect("viewport");
    }

    pub async fn screenshot(&self, path: &std::path::Path) {
        let r = self
            .call("Page.captureScreenshot", json!({"format": "png", "captureBeyondViewport": false}))
            .await
            .expect("screenshot");
        let bytes = base64::engine::general_purpose::STANDARD.decode(r["data"].as_str().unwrap()).unwrap();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, bytes).unwrap();
    }

    /// Closes the tab as a person would (pagehide runs, beacons go out).
    pub async fn close(&self) {
        let _ = self.conn.call(None, "Target.closeTarget", json!({"targetId": self.target_id})).await;
    }

    /// Events Chromium reported for this page (console, exceptions, dialogs, …).
    pub fn events(&self, method: &str) -> Vec<Value> {
        self.conn
            .events
            .lock()
            .unwrap()
            .get(&self.session)
            .map(|v| v.iter().filter(|e| e["method"] == method).cloned().collect())
            .unwrap_or_default()
    }

    /// Uncaught exceptions and `alert()`s: a page under test should have none.
    pub fn exceptions(&self) -> Vec<Value> {
        self.events("Runtime.exceptionThrown")
    }

    pub fn dialogs(&self) -> Vec<Value> {
        self.events("Page.javascriptDialogOpening")
    }
}

/// A static web server on its own loopback port (another origin than the tracker server),
/// serving `pages` by path with `{{TRACKER}}` replaced by the script URL.
pub async fn serve_pages(pages: Vec<(&'static str, String)>) -> (String, tokio::task::JoinHandle<()>) {
    use axum::response::Html;
    let mut router = axum::Router::new();
    for (path, html) in pages {
        router = router.route(path, axum::routing::get(move || async move { Html(html) }));
    }
    let router = router
        .route("/thanks", axum::routing::any(|| async { Html("<!doctype html><title>thanks</title><p>thanks</p>") }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let handle = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    (base, handle)
}
