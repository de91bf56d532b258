//! Loopback stand-ins for the CRMs, implementing the endpoints the connectors use as the
//! public API documentation describes them, plus a Standard Webhooks receiver that
//! verifies signatures. Each runs on 127.0.0.1 port 0 and counts what it was asked.
#![allow(dead_code)]
// Handlers answer refusals early with a ready `Response`; its size does not matter here.
#![allow(clippy::result_large_err)]

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

use crm_tracker::app::App;
use crm_tracker::crm::worker::{Worker, WorkerSettings};

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

fn n(c: &AtomicUsize) -> usize {
    c.load(SeqCst)
}

// ---- Salesforce ----------------------------------------------------------------------

pub const SF_CLIENT_ID: &str = "3MVG9-consumer-key";
pub const SF_CLIENT_SECRET: &str = "sf-consumer-secret-0123456789";

#[derive(Default)]
pub struct Salesforce {
    pub base: Mutex<String>,
    pub records: Mutex<BTreeMap<String, Map<String, Value>>>,
    valid_tokens: Mutex<HashSet<String>>,
    pub tokens_issued: AtomicUsize,
    pub queries: AtomicUsize,
    pub creates: AtomicUsize,
    pub updates: AtomicUsize,
    pub deletes: AtomicUsize,
    /// The next API call finds its session expired (401 INVALID_SESSION_ID).
    pub expire_session: AtomicBool,
    /// Statuses to answer the next creates with instead of creating.
    pub fail_creates: Mutex<VecDeque<u16>>,
    /// The next create makes the record, then never answers (the caller dies waiting).
    pub hang_next_create: AtomicBool,
    pub create_hung: Notify,
    /// Answer creates with a 400 that echoes the bearer token (tests scrubbing).
    pub echo_token_in_errors: AtomicBool,
}

impl Salesforce {
    pub async fn start() -> Arc<Salesforce> {
        let state = Arc::new(Salesforce::default());
        let api = "/services/data/v60.0";
        let router = Router::new()
            .route("/services/oauth2/token", post(sf_token))
            .route(&format!("{api}/query"), get(sf_query))
            .route(&format!("{api}/sobjects/Lead/"), post(sf_create))
            .route(&format!("{api}/sobjects/Lead"), post(sf_create))
            .route(&format!("{api}/sobjects/Lead/{{id}}"), axum::routing::patch(sf_update).delete(sf_delete))
            .with_state(state.clone());
        *state.base.lock().unwrap() = serve(router).await;
        state
    }

    pub fn url(&self) -> String {
        self.base.lock().unwrap().clone()
    }

    pub fn connector(&self) -> Value {
        json!({"type": "salesforce", "loginUrl": self.url(), "clientId": SF_CLIENT_ID, "clientSecret": SF_CLIENT_SECRET})
    }

    pub fn creates(&self) -> usize {
        n(&self.creates)
    }

    pub fn calls(&self) -> usize {
        n(&self.tokens_issued) + n(&self.queries) + n(&self.creates) + n(&self.updates) + n(&self.deletes)
    }

    pub fn record_by_email(&self, email: &str) -> Option<(String, Map<String, Value>)> {
        let records = self.records.lock().unwrap();
        records.iter().find(|(_, r)| r.get("Email") == Some(&json!(email))).map(|(k, v)| (k.clone(), v.clone()))
    }
}

fn sf_errors(status: StatusCode, code: &str, message: &str) -> Response {
    (status, axum::Json(json!([{"message": message, "errorCode": code}]))).into_response()
}

/// `Err` is the answer to give instead of serving the call.
fn sf_auth(s: &Salesforce, headers: &HeaderMap) -> Result<String, Response> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .to_string();
    if s.expire_session.swap(false, SeqCst) {
        s.valid_tokens.lock().unwrap().clear();
    }
    if !s.valid_tokens.lock().unwrap().contains(&token) {
        return Err(sf_errors(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID", "Session expired or invalid"));
    }
    Ok(token)
}

async fn sf_token(State(s): State<Arc<Salesforce>>, body: Bytes) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let ok = form.get("grant_type").map(String::as_str) == Some("client_credentials")
        && form.get("client_id").map(String::as_str) == Some(SF_CLIENT_ID)
        && form.get("client_secret").map(String::as_str) == Some(SF_CLIENT_SECRET);
    if !ok {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid_client", "error_description": "invalid client credentials"})),
        )
            .into_response();
    }
    let i = s.tokens_issued.fetch_add(1, SeqCst) + 1;
    let token = format!("00Dxx0000001gPL!AR8AQ.token-{i}");
    s.valid_tokens.lock().unwrap().insert(token.clone());
    axum::Json(json!({
        "access_token": token, "instance_url": s.url(), "id": format!("{}/id/00Dxx0000001gPLEAY/005xx000001X8Uz", s.url()),
        "token_type": "Bearer", "issued_at": "1700000000000", "signature": "c2lnbmF0dXJl"
    }))
    .into_response()
}

/// The value of `WHERE {field} = '...'`, unescaped as SOQL does.
fn soql_where(q: &str) -> Option<(String, String)> {
    let rest = &q[q.find(" WHERE ")? + 7..];
    let (field, rest) = rest.split_once(" = '")?;
    let mut value = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                'n' => value.push('\n'),
                't' => value.push('\t'),
                'r' => value.push('\r'),
                other => value.push(other),
            },
            '\'' => return Some((field.to_string(), value)),
            c => value.push(c),
        }
    }
    None
}

async fn sf_query(
    State(s): State<Arc<Salesforce>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = sf_auth(&s, &headers) {
        return r;
    }
    s.queries.fetch_add(1, SeqCst);
    let Some((field, value)) = q.get("q").and_then(|q| soql_where(q)) else {
        return sf_errors(StatusCode::BAD_REQUEST, "MALFORMED_QUERY", "unexpected token");
    };
    let records = s.records.lock().unwrap();
    let found: Vec<Value> = records
        .iter()
        .filter(|(_, r)| r.get(&field) == Some(&json!(value)))
        .map(|(id, _)| json!({"attributes": {"type": "Lead", "url": format!("/services/data/v60.0/sobjects/Lead/{id}")}, "Id": id}))
        .collect();
    axum::Json(json!({"totalSize": found.len(), "done": true, "records": found})).into_response()
}

async fn sf_create(
    State(s): State<Arc<Salesforce>>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Map<String, Value>>,
) -> Response {
    let token = match sf_auth(&s, &headers) {
        Ok(t) => t,
        Err(r) => return r,
    };
    if s.echo_token_in_errors.load(SeqCst) {
        return sf_errors(StatusCode::BAD_REQUEST, "INVALID_FIELD", &format!("rejected for session {token}"));
    }
    if let Some(status) = s.fail_creates.lock().unwrap().pop_front() {
        return sf_errors(StatusCode::from_u16(status).unwrap(), "SERVER_UNAVAILABLE", "try again later");
    }
    for required in ["LastName", "Company"] {
        if body.get(required).and_then(Value::as_str).is_none_or(str::is_empty) {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!([{"message": format!("Required fields are missing: [{required}]"),
                "errorCode": "REQUIRED_FIELD_MISSING", "fields": [required]}])),
            )
                .into_response();
        }
    }
    let i = s.creates.fetch_add(1, SeqCst) + 1;
    let id = format!("00Q5g{i:013}");
    s.records.lock().unwrap().insert(id.clone(), body);
    if s.hang_next_create.swap(false, SeqCst) {
        s.create_hung.notify_one();
        std::future::pending::<()>().await;
    }
    (StatusCode::CREATED, axum::Json(json!({"id": id, "success": true, "errors": []}))).into_response()
}

async fn sf_update(
    State(s): State<Arc<Salesforce>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::Json(body): axum::Json<Map<String, Value>>,
) -> Response {
    if let Err(r) = sf_auth(&s, &headers) {
        return r;
    }
    let mut records = s.records.lock().unwrap();
    match records.get_mut(&id) {
        Some(r) => {
            s.updates.fetch_add(1, SeqCst);
            r.extend(body);
            StatusCode::NO_CONTENT.into_response()
        }
        None => sf_errors(StatusCode::NOT_FOUND, "NOT_FOUND", "The requested resource does not exist"),
    }
}

async fn sf_delete(State(s): State<Arc<Salesforce>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(r) = sf_auth(&s, &headers) {
        return r;
    }
    match s.records.lock().unwrap().remove(&id) {
        Some(_) => {
            s.deletes.fetch_add(1, SeqCst);
            StatusCode::NO_CONTENT.into_response()
        }
        None => sf_errors(StatusCode::NOT_FOUND, "ENTITY_IS_DELETED", "entity is deleted"),
    }
}

// ---- HubSpot -------------------------------------------------------------------------

pub const HUBSPOT_TOKEN: &str = "pat-na1-11111111-2222-3333-4444-555555555555";

pub struct Hubspot {
    pub base: Mutex<String>,
    pub contacts: Mutex<BTreeMap<u64, Map<String, Value>>>,
    next_id: AtomicUsize,
    pub creates: AtomicUsize,
    pub updates: AtomicUsize,
    pub deletes: AtomicUsize,
    pub lookups: AtomicUsize,
    /// (status, Retry-After) to answer the next writes with.
    pub fail_next: Mutex<VecDeque<(u16, Option<u64>)>>,
    pub properties: Mutex<HashSet<String>>,
}

impl Hubspot {
    pub async fn start() -> Arc<Hubspot> {
        let props = ["email", "firstname", "lastname", "phone", "company", "message"];
        let state = Arc::new(Hubspot {
            base: Mutex::new(String::new()),
            contacts: Mutex::new(BTreeMap::new()),
            next_id: AtomicUsize::new(101),
            creates: AtomicUsize::new(0),
            updates: AtomicUsize::new(0),
            deletes: AtomicUsize::new(0),
            lookups: AtomicUsize::new(0),
            fail_next: Mutex::new(VecDeque::new()),
            properties: Mutex::new(props.iter().map(|p| p.to_string()).collect()),
        });
        let router = Router::new()
            .route("/crm/v3/objects/contacts", post(hs_create))
            .route("/crm/v3/objects/contacts/{id}", get(hs_get).patch(hs_update).delete(hs_delete))
            .with_state(state.clone());
        *state.base.lock().unwrap() = serve(router).await;
        state
    }

    pub fn url(&self) -> String {
        self.base.lock().unwrap().clone()
    }

    pub fn connector(&self) -> Value {
        json!({"type": "hubspot", "accessToken": HUBSPOT_TOKEN, "baseUrl": self.url()})
    }

    pub fn calls(&self) -> usize {
        n(&self.creates) + n(&self.updates) + n(&self.deletes) + n(&self.lookups)
    }

    /// Adds a contact directly, as if made earlier (by an interrupted delivery or by hand).
    pub fn insert(&self, props: Value) -> u64 {
        let id = self.next_id.fetch_add(1, SeqCst) as u64;
        self.contacts.lock().unwrap().insert(id, props.as_object().cloned().unwrap_or_default());
        id
    }

    pub fn by_email(&self, email: &str) -> Option<(u64, Map<String, Value>)> {
        let contacts = self.contacts.lock().unwrap();
        contacts.iter().find(|(_, c)| c.get("email") == Some(&json!(email))).map(|(k, v)| (*k, v.clone()))
    }
}

fn hs_error(status: StatusCode, category: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"status": "error", "message": message, "category": category, "correlationId": "c0ffee"})),
    )
        .into_response()
}

fn hs_check(s: &Hubspot, headers: &HeaderMap, props: Option<&Map<String, Value>>) -> Result<(), Response> {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    if auth != format!("Bearer {HUBSPOT_TOKEN}") {
        return Err(hs_error(
            StatusCode::UNAUTHORIZED,
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found.",
        ));
    }
    if let Some(props) = props {
        if let Some((status, retry)) = s.fail_next.lock().unwrap().pop_front() {
            let category = if status == 429 { "RATE_LIMITS" } else { "INTERNAL_ERROR" };
            let mut r = hs_error(StatusCode::from_u16(status).unwrap(), category, "try again");
            if let Some(secs) = retry {
                r.headers_mut().insert("retry-after", secs.to_string().parse().unwrap());
            }
            return Err(r);
        }
        let known = s.properties.lock().unwrap();
        if let Some(bad) = props.keys().find(|k| !known.contains(*k)) {
            return Err(hs_error(
                StatusCode::BAD_REQUEST,
                "VALIDATION_ERROR",
                &format!(
                    "Property values were not valid: [{{\"isValid\":false,\"message\":\"Property \\\"{bad}\\\" does not exist\",\"error\":\"PROPERTY_DOESNT_EXIST\",\"name\":\"{bad}\"}}]"
                ),
            ));
        }
    }
    Ok(())
}

fn hs_object(id: u64, props: &Map<String, Value>) -> Value {
    json!({"id": id.to_string(), "properties": props, "createdAt": "2025-10-22T10:30:45.123Z",
        "updatedAt": "2025-10-22T10:30:45.123Z", "archived": false})
}

/// Resolves `{contactId}` or, with `?idProperty=email`, an email.
fn hs_find(s: &Hubspot, key: &str, q: &HashMap<String, String>) -> Option<u64> {
    if q.get("idProperty").map(String::as_str) == Some("email") {
        return s.by_email(key).map(|(id, _)| id);
    }
    let id = key.parse::<u64>().ok()?;
    s.contacts.lock().unwrap().contains_key(&id).then_some(id)
}

async fn hs_create(State(s): State<Arc<Hubspot>>, headers: HeaderMap, axum::Json(body): axum::Json<Value>) -> Response {
    let props = body["properties"].as_object().cloned().unwrap_or_default();
    if let Err(r) = hs_check(&s, &headers, Some(&props)) {
        return r;
    }
    if let Some((existing, _)) = props.get("email").and_then(Value::as_str).and_then(|e| s.by_email(e)) {
        return hs_error(StatusCode::CONFLICT, "CONFLICT", &format!("Contact already exists. Existing ID: {existing}"));
    }
    s.creates.fetch_add(1, SeqCst);
    let id = s.insert(Value::Object(props.clone()));
    (StatusCode::CREATED, axum::Json(hs_object(id, &props))).into_response()
}

async fn hs_get(
    State(s): State<Arc<Hubspot>>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = hs_check(&s, &headers, None) {
        return r;
    }
    s.lookups.fetch_add(1, SeqCst);
    match hs_find(&s, &key, &q) {
        Some(id) => axum::Json(hs_object(id, &s.contacts.lock().unwrap()[&id])).into_response(),
        None => hs_error(StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND", "resource not found"),
    }
}

async fn hs_update(
    State(s): State<Arc<Hubspot>>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let props = body["properties"].as_object().cloned().unwrap_or_default();
    if let Err(r) = hs_check(&s, &headers, Some(&props)) {
        return r;
    }
    let Some(id) = hs_find(&s, &key, &q) else {
        return hs_error(StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND", "resource not found");
    };
    s.updates.fetch_add(1, SeqCst);
    let mut contacts = s.contacts.lock().unwrap();
    let contact = contacts.get_mut(&id).unwrap();
    contact.extend(props);
    axum::Json(hs_object(id, contact)).into_response()
}

async fn hs_delete(State(s): State<Arc<Hubspot>>, headers: HeaderMap, Path(key): Path<String>) -> Response {
    if let Err(r) = hs_check(&s, &headers, None) {
        return r;
    }
    let removed = key.parse::<u64>().ok().and_then(|id| s.contacts.lock().unwrap().remove(&id));
    match removed {
        Some(_) => {
            s.deletes.fetch_add(1, SeqCst);
            StatusCode::NO_CONTENT.into_response()
        }
        None => hs_error(StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND", "resource not found"),
    }
}

// ---- webhook receiver ----------------------------------------------------------------

/// A receiver that verifies Standard Webhooks signatures and drops repeated message ids.
#[derive(Default)]
pub struct Receiver {
    pub base: Mutex<String>,
    secret: Mutex<String>,
    /// Verified messages, first delivery of each id only.
    pub messages: Mutex<Vec<(String, Value)>>,
    pub deliveries: AtomicUsize,
    pub bad_signatures: AtomicUsize,
    /// Statuses to answer the next deliveries with (after verifying them).
    pub respond: Mutex<VecDeque<u16>>,
}

impl Receiver {
    pub async fn start() -> Arc<Receiver> {
        let state = Arc::new(Receiver::default());
        let router = Router::new().route("/hooks/crm", post(receive)).with_state(state.clone());
        *state.base.lock().unwrap() = serve(router).await;
        state
    }

    pub fn url(&self) -> String {
        format!("{}/hooks/crm", self.base.lock().unwrap())
    }

    pub fn set_secret(&self, secret: &str) {
        *self.secret.lock().unwrap() = secret.to_string();
    }

    pub fn messages(&self) -> Vec<(String, Value)> {
        self.messages.lock().unwrap().clone()
    }
}

/// Verification as the Standard Webhooks libraries do it.
fn verify(secret: &str, headers: &HeaderMap, body: &[u8]) -> Result<String, &'static str> {
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let (Some(id), Some(ts), Some(sigs)) = (h("webhook-id"), h("webhook-timestamp"), h("webhook-signature")) else {
        return Err("missing headers");
    };
    let ts_num: i64 = ts.parse().map_err(|_| "bad timestamp")?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    if (now - ts_num).abs() > 300 {
        return Err("timestamp too far from now");
    }
    let key = BASE64.decode(secret.strip_prefix("whsec_").ok_or("secret prefix")?).map_err(|_| "secret")?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(body);
    let expected = BASE64.encode(mac.finalize().into_bytes());
    let ok = sigs.split(' ').filter_map(|s| s.strip_prefix("v1,")).any(|s| s == expected);
    if ok { Ok(id) } else { Err("signature mismatch") }
}

async fn receive(State(s): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> Response {
    s.deliveries.fetch_add(1, SeqCst);
    let secret = s.secret.lock().unwrap().clone();
    let id = match verify(&secret, &headers, &body) {
        Ok(id) => id,
        Err(why) => {
            s.bad_signatures.fetch_add(1, SeqCst);
            return (StatusCode::UNAUTHORIZED, why).into_response();
        }
    };
    if let Some(status) = s.respond.lock().unwrap().pop_front() {
        return (StatusCode::from_u16(status).unwrap(), "not now").into_response();
    }
    let mut messages = s.messages.lock().unwrap();
    if !messages.iter().any(|(seen, _)| *seen == id) {
        messages.push((id, serde_json::from_slice(&body).unwrap_or(Value::Null)));
    }
    (StatusCode::OK, "ok").into_response()
}

// ---- helpers ---------------------------------------------------------------------------

/// Small delays and timeouts so tests stay fast; retries are driven with an explicit clock.
pub fn fast_settings() -> WorkerSettings {
    WorkerSettings {
        max_attempts: 4,
        base_backoff: Duration::from_secs(1),
        max_backoff: Duration::from_secs(4),
        batch: 50,
        idle_poll: Duration::from_millis(200),
        request_timeout: Duration::from_secs(3),
    }
}

pub fn worker(app: &App) -> Worker {
    Worker::new(app.clone(), fast_settings())
}

/// Lets the test binary print the product's logs (`cargo test -- --nocapture`).
pub fn logs() {
    let _ =
        tracing_subscriber::fmt().with_env_filter("crm_tracker=info").with_target(false).with_test_writer().try_init();
}
