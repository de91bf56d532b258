//! Dashboard login: argon2id passwords, opaque session cookies (HttpOnly, SameSite=Strict,
//! Secure over HTTPS), and a CSRF token that state-changing requests must echo in
//! `X-CSRF-Token`.

use axum::extract::{ConnectInfo, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use governor::clock::{Clock, DefaultClock};

use serde::Deserialize;
use serde_json::json;
use std::net::SocketAddr;

use std::sync::OnceLock;

use super::error::{ApiError, ApiResult};
use super::extract::JsonBody;
use crate::app::{App, secrets};
use crate::domain::time::Timestamp;
use crate::store::accounts::{self, Session};

pub const COOKIE: &str = "crm_session";
const SESSION_MS: i64 = 7 * 24 * 3600 * 1000;

pub fn router() -> Router<App> {
    Router::new()
        .route("/v1/auth/login", post(login))
        .route("/v1/auth/logout", post(logout))
        .route("/v1/auth/me", get(me))
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

async fn load_session(app: &App, headers: &HeaderMap) -> ApiResult<Option<([u8; 32], Session)>> {
    let Some(id) = cookie_value(headers, COOKIE) else { return Ok(None) };
    let hash = secrets::hash(id);
    let session = app.read(move |txn| accounts::get_session(txn, &hash)).await?;
    Ok(session.filter(|s| s.expires_at > Timestamp::now()).map(|s| (hash, s)))
}

/// The origin this server is reached at, as a browser would name it.
fn own_origins(app: &App, headers: &HeaderMap) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(url) = &app.config.public_url {
        out.push(url.to_ascii_lowercase());
    }
    if let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
        out.push(format!("http://{}", host.to_ascii_lowercase()));
        out.push(format!("https://{}", host.to_ascii_lowercase()));
    }
    out
}

/// Authenticates a request by its session cookie. State-changing methods must also carry
/// the session's CSRF token and, when the browser names an origin, come from this server.
pub async fn authenticate(parts: &Parts, app: &App) -> ApiResult<Option<String>> {
    let Some((_, session)) = load_session(app, &parts.headers).await? else { return Ok(None) };
    let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe {
        let forbidden = |m: &str| ApiError::Forbidden { code: "csrf_failed", message: m.to_string() };
        if let Some(origin) = parts.headers.get(header::ORIGIN).and_then(|o| o.to_str().ok())
            && !own_origins(app, &parts.headers).contains(&origin.to_ascii_lowercase())
        {
            return Err(forbidden("cross-origin request refused"));
        }
        let sent = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
        if !secrets::equal(sent.as_bytes(), session.csrf_token.as_bytes()) {
            return Err(forbidden("missing or wrong X-CSRF-Token header"));
        }
    }
    Ok(Some(session.username))
}

#[derive(Deserialize)]
struct LoginBody {
    username: String,
    password: String,
}

fn is_https(app: &App, headers: &HeaderMap) -> bool {
    app.config.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
        || (app.config.trust_proxy
            && headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("https")))
}

/// Hashes a password with argon2id (OWASP parameters: 19 MiB, 2 passes, 1 lane).
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let salt = SaltString::encode_b64(&bytes).map_err(|e| e.to_string())?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash).is_ok_and(|h| argon2::Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A valid argon2id hash of nothing anyone types: verified against when the user does not
/// exist, so a login takes as long for an unknown user as for a wrong password.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password(&secrets::generate("")).unwrap_or_default())
}

async fn login(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<LoginBody>,
) -> ApiResult<Response> {
    let ip = super::track::client_ip(&app, &headers, peer);
    if let Err(not_until) = app.login_limiter.check_key(&ip) {
        let wait = not_until.wait_time_from(DefaultClock::default().now()).as_secs() + 1;
        return Err(ApiError::TooManyRequests {
            message: "too many login attempts; wait and try again".into(),
            retry_after_secs: wait,
        });
    }
    let username = body.username.trim().to_string();
    let lookup = username.clone();
    let user = app.read(move |txn| accounts::get_user(txn, &lookup)).await?;
    let password = body.password;
    let ok = tokio::task::spawn_blocking(move || match user {
        Some(u) => verify_password(&password, &u.password_hash),
        None => {
            verify_password(&password, dummy_hash());
            false
        }
    })
    .await
    .map_err(ApiError::internal)?;
    if !ok {
        return Err(ApiError::Unauthorized("wrong username or password".into()));
    }
    let session_id = secrets::generate("");
    let now = Timestamp::now();
    let session = Session {
        username: username.clone(),
        csrf_token: secrets::generate(""),
        created_at: now,
        expires_at: now.plus_millis(SESSION_MS),
    };
    let hash = secrets::hash(&session_id);
    let record = session.clone();
    app.write(move |txn| accounts::put_session(txn, hash, &record)).await?;
    let secure = if is_https(&app, &headers) { "; Secure" } else { "" };
    let cookie =
        format!("{COOKIE}={session_id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}", SESSION_MS / 1000);
    let mut response = Json(json!({"username": username, "csrfToken": session.csrf_token})).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    tracing::info!(user = %username, "dashboard login");
    Ok(response)
}

async fn logout(State(app): State<App>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some((hash, session)) = load_session(&app, &headers).await? {
        let sent = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
        if !secrets::equal(sent.as_bytes(), session.csrf_token.as_bytes()) {
            return Err(ApiError::Forbidden {
                code: "csrf_failed",
                message: "missing or wrong X-CSRF-Token header".into(),
            });
        }
        app.write(move |txn| accounts::delete_session(txn, hash)).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("crm_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(response)
}

async fn me(State(app): State<App>, headers: HeaderMap) -> ApiResult<Json<serde_json::Value>> {
    match load_session(&app, &headers).await? {
        Some((_, s)) => Ok(Json(json!({"username": s.username, "csrfToken": s.csrf_token}))),
        None => Err(ApiError::Unauthorized("not logged in".into())),
    }
}
