//! Test harness: the real server on a loopback port with a fresh data file per test.
#![allow(dead_code)]

use crm_tracker::app::App;
use crm_tracker::config::ServeConfig;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::PathBuf;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const ORIGIN: &str = "https://www.example.com";

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub http: reqwest::Client,
    pub token: String,
    pub app: App,
    pub data: PathBuf,
    pub dir: Option<tempfile::TempDir>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data.redb");
    let mut t = spawn_with(ServeConfig::for_tests(data.clone())).await;
    t.dir = Some(dir);
    t
}

/// Starts a server on `config` (its data file may already hold data).
pub async fn spawn_with(config: ServeConfig) -> TestApp {
    let data = config.data.clone();
    let app = App::open(config).expect("open app");
    let (_, token) = app.create_token("tests").await.expect("token");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let served = app.clone();
    let server = tokio::spawn(async move {
        crm_tracker::http::serve(listener, served, async {
            let _ = stopped.await;
        })
        .await
        .expect("serve");
    });
    TestApp {
        addr,
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
        token,
        app,
        data,
        dir: None,
        stop: Some(stop),
        server: Some(server),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(self.url(path)).bearer_auth(&self.token)
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.post(self.url(path)).bearer_auth(&self.token)
    }

    pub fn put(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.put(self.url(path)).bearer_auth(&self.token)
    }

    pub fn delete(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.delete(self.url(path)).bearer_auth(&self.token)
    }

    /// POSTs a JSON body with the token and returns the JSON answer (whatever its status).
    pub async fn post_json(&self, path: &str, body: Value) -> Value {
        self.post(path).json(&body).send().await.expect("request").json().await.expect("json")
    }

    /// PUTs a JSON body with the token and returns the JSON answer (whatever its status).
    pub async fn put_json(&self, path: &str, body: Value) -> Value {
        self.put(path).json(&body).send().await.expect("request").json().await.expect("json")
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let r = self.get(path).send().await.expect("request");
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.expect("json")
    }

    /// Creates a site for `domain`; returns (clientId, secret key).
    pub async fn create_site(&self, domain: &str) -> (String, String) {
        let r = self.post("/v1/clients").json(&json!({"domain": domain})).send().await.expect("create site");
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.expect("json");
        (v["clientId"].as_str().unwrap().to_string(), v["secretKey"].as_str().unwrap().to_string())
    }

    /// Sends a batch as a browser on `origin` would (text/plain, no preflight).
    pub async fn track_batch(&self, origin: &str, client_id: &str, events: Vec<Value>) -> reqwest::Response {
        self.http
            .post(self.url("/v1/track/batch"))
            .header("Origin", origin)
            .header("Content-Type", "text/plain;charset=UTF-8")
            .body(json!({"clientId": client_id, "events": events}).to_string())
            .send()
            .await
            .expect("track")
    }

    /// Stops the server gracefully and closes the data file; returns the temp dir.
    pub async fn stop(mut self) -> Option<tempfile::TempDir> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.app.writer.shutdown();
        self.dir.take()
    }
}

pub fn event_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub fn submission(email: &str, visitor: &str) -> Value {
    json!({
        "id": event_id(), "type": "form_submission", "timestamp": "2025-10-22T10:30:45.123Z",
        "sessionId": "s1", "visitorId": visitor, "formId": "contact-form", "formSelector": "#contact-form",
        "fields": {"email": email, "name": "Ada Lovelace", "phone": "+1-555-0123", "message": "Interested"},
        "page": {"url": "https://www.example.com/contact?utm_source=news", "path": "/contact", "title": "Contact"},
        "attribution": {"utm_source": "news", "landingPage": "https://www.example.com/"}
    })
}

pub fn interaction(email: &str, visitor: &str) -> Value {
    json!({
        "id": event_id(), "type": "form_interaction", "trigger": "blur", "sessionId": "s1", "visitorId": visitor,
        "formId": "contact-form", "formSelector": "#contact-form", "fieldName": "email", "fieldValue": email,
        "fields": {"email": email},
        "formProgress": {"completedFields": ["email"], "totalFields": 4, "percentComplete": 25}
    })
}
