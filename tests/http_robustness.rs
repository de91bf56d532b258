//! The HTTP edge under clients that misbehave: wrong methods and malformed requests are
//! answered in the API's error shape; slow, stalled and idle connections are closed in
//! bounded time; and a stalled client cannot hold up shutdown.

mod common;
#[path = "common/process.rs"]
mod process;

use common::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the server closes the connection; `None` if it is still open after `limit`.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut out = Vec::new();
    match tokio::time::timeout(limit, stream.read_to_end(&mut out)).await {
        Ok(_) => Some(String::from_utf8_lossy(&out).into_owned()),
        Err(_) => None,
    }
}

/// The JSON body of a raw HTTP/1.1 answer (`Content-Length` framed, as the API's errors are).
fn json_body(answer: &str) -> Value {
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {answer}"))
}

async fn error_of(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string());
    assert_eq!(ct.as_deref(), Some("application/json"), "status {status}");
    (status, r.json::<Value>().await.unwrap()["error"].clone())
}

#[tokio::test]
async fn wrong_methods_answer_405_in_the_error_shape_with_allow() {
    let t = spawn_app().await;
    let lead = format!("/v1/leads/{}", uuid::Uuid::now_v7());
    for (method, path) in [("PATCH", lead.as_str()), ("POST", &lead), ("GET", "/v1/track"), ("OPTIONS", "/v1/leads")] {
        let r = t.http.request(method.parse().unwrap(), t.url(path)).bearer_auth(&t.token).send().await.unwrap();
        let allow = r.headers().get("allow").expect("Allow header").to_str().unwrap().to_string();
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        let (status, error) = error_of(r).await;
        assert_eq!(status, 405, "{method} {path}");
        assert_eq!(error["code"], "method_not_allowed", "{method} {path}");
        let message = error["message"].as_str().unwrap();
        for allowed in allow.split(',') {
            assert!(message.contains(allowed.trim()), "{message:?} should name {allowed} ({method} {path})");
        }
        assert!(!allow.contains(method), "{method} {path}: {allow}");
    }
    t.stop().await;
}

#[tokio::test]
async fn path_query_and_body_rejections_answer_in_the_error_shape() {
    let t = spawn_app().await;
    let (status, error) = error_of(t.get("/v1/leads/%ff%fe").send().await.unwrap()).await;
    assert_eq!((status, error["code"].as_str()), (400, Some("validation_failed")), "{error}");
    assert_eq!(error["field"], "leadId");
    let (status, _) = error_of(t.http.get(t.url("/script/%ff%fe.js")).send().await.unwrap()).await;
    assert_eq!(status, 400);

    let lead = format!("/v1/leads/{}", uuid::Uuid::now_v7());
    let r = t.put(&lead).header("Content-Type", "application/json").body("{").send().await.unwrap();
    let (status, error) = error_of(r).await;
    assert_eq!((status, error["code"].as_str()), (400, Some("invalid_json")), "{error}");
    assert!(error.get("field").is_none(), "{error}");
    assert!(error["message"].as_str().unwrap().contains("line 1 column 1"), "{error}");
    // Two JSON values, or one followed by garbage, are not one body: nothing is created.
    for body in [r#"{"name":"x"}{"name":"y"}"#, r#"{"name":"x"}]]]garbage"#] {
        let r = t.post("/v1/tokens").header("Content-Type", "application/json").body(body).send().await.unwrap();
        let (status, error) = error_of(r).await;
        assert_eq!((status, error["code"].as_str()), (400, Some("invalid_json")), "{body}: {error}");
        assert!(error["message"].as_str().unwrap().contains("trailing characters"), "{error}");
    }
    let tokens: serde_json::Value = t.get("/v1/tokens").send().await.unwrap().json().await.unwrap();
    assert!(!tokens.to_string().contains(r#""name":"x""#), "no token was made: {tokens}");

    let (status, error) = error_of(t.get("/v1/leads?limit=1&limit=2").send().await.unwrap()).await;
    assert_eq!((status, error["field"].as_str()), (400, Some("limit")), "{error}");
    assert!(error["message"].as_str().unwrap().contains("more than once"), "{error}");

    for path in ["/v1/nope", "/v1/leads/a/b/c", "/v1/track/"] {
        let (status, error) = error_of(t.get(path).send().await.unwrap()).await;
        assert_eq!((status, error["code"].as_str()), (404, Some("not_found")), "{path}");
    }
    t.stop().await;
}

#[tokio::test]
async fn compressed_bodies_answer_415() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    let body = json!({"clientId": client, "events": [submission("gz@example.com", "v1")]}).to_string();
    for encoding in ["gzip", "br", "deflate"] {
        let r = t
            .http
            .post(t.url("/v1/track/batch"))
            .header("Origin", ORIGIN)
            .header("Content-Type", "text/plain")
            .header("Content-Encoding", encoding)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let (status, error) = error_of(r).await;
        assert_eq!((status, error["code"].as_str()), (415, Some("unsupported_media_type")), "{error}");
        assert!(error["message"].as_str().unwrap().contains(&format!("Content-Encoding {encoding}")), "{error}");
    }
    let r = t
        .post("/v1/clients")
        .header("Content-Encoding", "gzip")
        .json(&json!({"domain": "a.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.0, 415);
    // `identity` is no encoding at all.
    let r = t
        .http
        .post(t.url("/v1/track/batch"))
        .header("Origin", ORIGIN)
        .header("Content-Encoding", "identity")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    t.stop().await;
}

/// A client that declares a body and stops sending it gets 408 in the error shape, on the
/// ingest path and on an admin one, and its connection is closed.
#[tokio::test]
async fn a_stalled_body_answers_408() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    let stalled = |head: String, partial: &'static str| {
        let addr = t.addr;
        async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream.write_all(format!("{head}Content-Length: 1000\r\n\r\n{partial}").as_bytes()).await.unwrap();
            let started = Instant::now();
            let answer = read_until_closed(&mut stream, Duration::from_secs(60))
                .await
                .expect("the stalled body was never timed out");
            (answer, started.elapsed())
        }
    };
    let ingest = stalled(
        format!("POST /v1/track/batch HTTP/1.1\r\nHost: t\r\nOrigin: {ORIGIN}\r\nContent-Type: text/plain\r\n"),
        "{\"clientId\"",
    );
    let admin = stalled(
        format!(
            "PUT /v1/clients/{client} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\n",
            t.token
        ),
        "{\"name\": \"",
    );
    let ((ingest, ingest_after), (admin, admin_after)) = tokio::join!(ingest, admin);
    for (answer, after) in [(ingest, ingest_after), (admin, admin_after)] {
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert_eq!(json_body(&answer)["error"]["code"], "request_timeout", "{answer}");
        assert!(after >= Duration::from_secs(15), "timed out too early: {after:?}");
    }
    t.stop().await;
}

/// A connection that sends nothing, one that sends half a request head, and a keep-alive
/// connection left idle after its request are all closed by the server.
#[tokio::test]
async fn silent_slow_and_idle_connections_are_closed() {
    let t = spawn_app().await;
    let open = |sent: &'static str| {
        let addr = t.addr;
        async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream.write_all(sent.as_bytes()).await.unwrap();
            let started = Instant::now();
            let answer = read_until_closed(&mut stream, Duration::from_secs(45)).await;
            (sent, answer, started.elapsed())
        }
    };
    let (silent, slow, idle) = tokio::join!(
        open(""),
        open("POST /v1/track/batch HTTP/1.1\r\nHost: t\r\nContent-Ty"),
        open("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"),
    );
    for (sent, answer, after) in [silent, slow, idle] {
        let answer = answer.unwrap_or_else(|| panic!("still open after 45 s: {sent:?}"));
        assert!(after >= Duration::from_secs(8), "closed too early ({after:?}): {sent:?}");
        if sent.ends_with("\r\n\r\n") {
            assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        }
    }
    t.stop().await;
}

/// SIGTERM with a client stalled mid-request: the server exits 0 within the shutdown grace
/// period (plus slack), and every event it acknowledged before is in the data file.
#[tokio::test]
async fn a_stalled_client_does_not_hold_up_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("shutdown.redb");
    let (ok, out, err) = process::run(&data, &["client", "add", "--domain", "example.com"], None);
    assert!(ok, "{err}");
    let client = process::field(&out, "clientId:").to_string();
    let mut server = process::serve(&data, &[]);
    let http = reqwest::Client::new();
    let emails: Vec<String> = (0..3).map(|i| format!("before-shutdown-{i}@example.com")).collect();
    for (i, email) in emails.iter().enumerate() {
        let r = http
            .post(format!("{}/v1/track/batch", server.base))
            .header("Origin", "https://example.com")
            .body(json!({"clientId": client, "events": [submission(email, &format!("v{i}"))]}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let addr = server.base.trim_start_matches("http://").to_string();
    let mut stalled = TcpStream::connect(&addr).await.unwrap();
    let head =
        "POST /v1/track/batch HTTP/1.1\r\nHost: t\r\nOrigin: https://example.com\r\nContent-Length: 1000\r\n\r\n";
    stalled.write_all(format!("{head}{{\"clientId\"").as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let started = Instant::now();
    unsafe {
        libc::kill(server.child.id() as i32, libc::SIGTERM);
    }
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(40), "still running 40 s after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let took = started.elapsed();
    assert_eq!(status.code(), Some(0), "exit status {status:?}");
    assert!(took < Duration::from_secs(17), "shutdown took {took:?}, more than the 10 s grace plus slack");
    drop(stalled);

    let (ok, out, err) = process::run(&data, &["export", "leads", "--format", "ndjson"], None);
    assert!(ok, "{err}");
    for email in &emails {
        assert!(out.contains(email.as_str()), "{email} was acknowledged but is not stored: {out}");
    }
}

/// A body over the 64 KiB limit is read and dropped before the 413, so a sender still
/// writing it gets the answer (a browser would otherwise see a reset connection, which looks
/// like being offline) and the connection carries its next request.
#[tokio::test]
async fn an_oversized_body_gets_its_413_on_a_connection_that_stays_usable() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    let mut stream = TcpStream::connect(t.addr).await.unwrap();
    let body = format!("{{\"clientId\":\"{client}\",\"events\":[{{\"pad\":\"{}\"}}]}}", "x".repeat(300 * 1024));
    let head = format!(
        "POST /v1/track/batch HTTP/1.1\r\nHost: t\r\nOrigin: {ORIGIN}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // All of it, in pieces, as a slow uplink would send it.
    for chunk in body.as_bytes().chunks(16 * 1024) {
        stream.write_all(chunk).await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").await.unwrap();
    let answers = read_until_closed(&mut stream, Duration::from_secs(20)).await.expect("the server answered both");
    assert!(answers.starts_with("HTTP/1.1 413"), "{answers}");
    assert!(answers.contains("body_too_large"), "{answers}");
    assert!(answers.contains("access-control-allow-origin"), "the tracker can read it: {answers}");
    let second = answers.split("HTTP/1.1 ").nth(2).unwrap_or_else(|| panic!("no second answer: {answers}"));
    assert!(second.starts_with("200"), "{answers}");
    t.stop().await;
}

/// A chunked body whose framing is broken is not "too large": 413 would make the tracker
/// drop its events for good, so it is answered 400 and nothing is stored.
#[tokio::test]
async fn a_broken_chunked_body_is_unreadable_not_too_large() {
    let t = spawn_app().await;
    t.create_site("example.com").await;
    let mut stream = TcpStream::connect(t.addr).await.unwrap();
    let head = format!(
        "POST /v1/track HTTP/1.1\r\nHost: t\r\nOrigin: {ORIGIN}\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nZZ\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut stream, Duration::from_secs(20)).await.expect("the server answered");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert_eq!(json_body(&answer)["error"]["code"], "unreadable_body", "{answer}");
    let events = t.get_json("/v1/events").await;
    assert_eq!(events["items"].as_array().map(Vec::len), Some(0), "{events}");
    t.stop().await;
}

/// Admin answers (leads, new tokens, backups) are never kept by a cache; the tracker's
/// script stays cacheable.
#[tokio::test]
async fn admin_answers_are_not_stored_by_caches() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    for r in [
        t.get("/v1/leads").send().await.unwrap(),
        t.post("/v1/tokens").json(&serde_json::json!({"name": "ops"})).send().await.unwrap(),
        t.http.get(t.url("/v1/leads")).send().await.unwrap(), // refused: no token
    ] {
        let cache = r.headers().get("cache-control").map(|v| v.to_str().unwrap().to_string());
        assert_eq!(cache.as_deref(), Some("no-store"), "{}", r.url());
    }
    let script = t.http.get(t.url(&format!("/script/{client}.js"))).send().await.unwrap();
    let cache = script.headers().get("cache-control").unwrap().to_str().unwrap();
    assert!(cache.contains("max-age"), "{cache}");
    t.stop().await;
}
