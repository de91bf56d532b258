//! Script delivery (`GET /script/{clientId}.js`, `GET /script/chat.js`), the size budget
//! and the freshness of the committed build. No browser needed.

mod common;

use common::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};

async fn fetch(
    t: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = t.http.get(t.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().await.expect("request");
    let status = r.status();
    let h = r.headers().clone();
    (status, h, r.bytes().await.expect("body").to_vec())
}

fn h(map: &reqwest::header::HeaderMap, name: &str) -> String {
    map.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).expect("valid gzip");
    out
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(bytes, 4096).read_to_end(&mut out).expect("valid brotli");
    out
}

fn gzip_best(bytes: &[u8]) -> usize {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap().len()
}

/// The JSON config the server put into the script: the argument of the outer call.
fn served_config(script: &str) -> Value {
    let end = script.trim_end().trim_end_matches(';').trim_end_matches(')');
    // The config is the last top-level `(... )` argument; find its opening brace by trying
    // each `}({` / `}(` position from the end.
    for (i, _) in end.match_indices("}(").collect::<Vec<_>>().into_iter().rev() {
        if let Ok(v) = serde_json::from_str::<Value>(&end[i + 2..]) {
            return v;
        }
    }
    panic!("no JSON config found at the end of the served script: …{}", &script[script.len().saturating_sub(400)..]);
}

/// Asserts the common headers of a served script.
fn assert_script_headers(map: &reqwest::header::HeaderMap) {
    assert!(h(map, "content-type").starts_with("application/javascript"), "content-type {}", h(map, "content-type"));
    assert_eq!(h(map, "cache-control"), "public, max-age=300");
    assert_eq!(h(map, "x-content-type-options"), "nosniff");
    assert!(h(map, "vary").to_lowercase().contains("accept-encoding"), "vary: {}", h(map, "vary"));
    assert!(h(map, "etag").starts_with('"') || h(map, "etag").starts_with("W/\""), "etag: {}", h(map, "etag"));
}

#[tokio::test]
async fn site_script_has_config_etag_304_and_both_encodings() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    let path = format!("/script/{client}.js");

    let (status, plain_h, plain) = fetch(&t, &path, &[]).await;
    assert_eq!(status, 200);
    assert_script_headers(&plain_h);
    assert!(h(&plain_h, "content-encoding").is_empty(), "no Accept-Encoding: identity");
    let text = String::from_utf8(plain.clone()).expect("utf-8 script");
    assert!(!text.contains("__CRM_CONFIG__"), "the placeholder is replaced");
    assert!(text.starts_with("/*! crm-tracker"), "banner first: {}", &text[..80.min(text.len())]);
    let cfg = served_config(&text);
    assert_eq!(cfg["c"], client);
    assert_eq!(cfg["e"], t.base, "endpoint from the request's Host");

    let etag = h(&plain_h, "etag");
    let (status, h304, body) = fetch(&t, &path, &[("If-None-Match", &etag)]).await;
    assert_eq!(status, 304);
    assert!(body.is_empty());
    assert_eq!(h(&h304, "etag"), etag);
    let (status, _, _) = fetch(&t, &path, &[("If-None-Match", &format!("\"nope\", W/{etag}"))]).await;
    assert_eq!(status, 304, "a list and a weak validator match too");
    let (status, _, _) = fetch(&t, &path, &[("If-None-Match", "\"other\"")]).await;
    assert_eq!(status, 200);

    let (status, gz_h, gz) = fetch(&t, &path, &[("Accept-Encoding", "gzip, deflate")]).await;
    assert_eq!(status, 200);
    assert_eq!(h(&gz_h, "content-encoding"), "gzip");
    assert_script_headers(&gz_h);
    assert_eq!(h(&gz_h, "etag"), etag, "one ETag for the representation set");
    assert_eq!(gunzip(&gz), plain);
    assert!(gz.len() < plain.len());

    let (status, br_h, br) = fetch(&t, &path, &[("Accept-Encoding", "gzip, deflate, br")]).await;
    assert_eq!(status, 200);
    assert_eq!(h(&br_h, "content-encoding"), "br");
    assert_script_headers(&br_h);
    assert_eq!(unbrotli(&br), plain);

    let (_, refused_h, refused) = fetch(&t, &path, &[("Accept-Encoding", "br;q=0, gzip")]).await;
    assert_eq!(h(&refused_h, "content-encoding"), "gzip", "br;q=0 is a refusal");
    assert_eq!(gunzip(&refused), plain);

    // Compressed once: the same bytes every time.
    let (_, _, gz2) = fetch(&t, &path, &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(gz, gz2);
    t.stop().await;
}

#[tokio::test]
async fn unknown_inactive_and_deleted_sites_get_404() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    for path in [
        "/script/0193a0b4-6f6a-7c3e-9d2a-5b1c2d3e4f50.js".to_string(),
        "/script/not-a-uuid.js".to_string(),
        format!("/script/{client}"),
    ] {
        let (status, map, _) = fetch(&t, &path, &[]).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(h(&map, "x-content-type-options"), "nosniff", "{path}");
    }
    let (status, _, _) = fetch(&t, &format!("/script/{client}.js"), &[]).await;
    assert_eq!(status, 200);

    let r = t.put(&format!("/v1/clients/{client}")).json(&json!({"isActive": false})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let (status, _, _) = fetch(&t, &format!("/script/{client}.js"), &[]).await;
    assert_eq!(status, 404, "an inactive site's script is not served (not even from the cache)");

    let r = t.put(&format!("/v1/clients/{client}")).json(&json!({"isActive": true})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let (status, _, _) = fetch(&t, &format!("/script/{client}.js"), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(t.delete(&format!("/v1/clients/{client}")).send().await.unwrap().status(), 204);
    let (status, _, _) = fetch(&t, &format!("/script/{client}.js"), &[]).await;
    assert_eq!(status, 404);
    t.stop().await;
}

#[tokio::test]
async fn settings_forms_and_fields_change_the_served_config_and_etag() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    let path = format!("/script/{client}.js");
    let etag_and_config = || async {
        let (status, map, body) = fetch(&t, &path, &[("Accept-Encoding", "gzip")]).await;
        assert_eq!(status, 200);
        (h(&map, "etag"), served_config(&String::from_utf8(gunzip(&body)).unwrap()))
    };
    let (etag0, cfg0) = etag_and_config().await;
    assert!(cfg0["f"].as_array().is_none_or(|f| f.is_empty()), "{cfg0}");
    assert_ne!(cfg0["partial"], false);
    assert_ne!(cfg0["consent"], "required");
    assert!(cfg0["chat"].is_null(), "no chat unless enabled: {cfg0}");

    let form: Value = t
        .post_json(
            &format!("/v1/clients/{client}/forms"),
            json!({"formName": "Quote", "formSelector": "#quote", "alternativeSelectors": ["form.quote"]}),
        )
        .await;
    let form_id = form["formId"].as_str().unwrap().to_string();
    let (etag1, cfg1) = etag_and_config().await;
    assert_ne!(etag1, etag0, "adding a form changes the ETag");
    let (status, _, _) = fetch(&t, &path, &[("If-None-Match", &etag0)]).await;
    assert_eq!(status, 200, "the old ETag no longer matches");
    let forms = cfg1["f"].as_array().expect("forms in config");
    assert_eq!(forms.len(), 1);
    assert_eq!(forms[0]["i"], form_id);
    assert_eq!(forms[0]["s"], json!(["#quote", "form.quote"]));

    let r = t
        .post(&format!("/v1/forms/{form_id}/fields"))
        .json(&json!({"fieldName": "email", "fieldType": "email", "fieldSelector": "#q-mail"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let (etag2, cfg2) = etag_and_config().await;
    assert_ne!(etag2, etag1, "adding a field changes the ETag");
    assert_eq!(cfg2["f"][0]["d"][0]["s"], "#q-mail");
    assert_eq!(cfg2["f"][0]["d"][0]["n"], "email");

    let r = t
        .put(&format!("/v1/clients/{client}"))
        .json(&json!({"config": {"partialCapture": false, "consentMode": "required", "chatWidget": true, "honeypotField": "website"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (etag3, cfg3) = etag_and_config().await;
    assert_ne!(etag3, etag2);
    assert_eq!(cfg3["partial"], false);
    assert_eq!(cfg3["consent"], "required");
    assert_eq!(cfg3["h"], "website");
    assert!(cfg3["chat"].is_object(), "{cfg3}");
    assert_eq!(cfg3["chatSrc"], format!("{}/script/chat.js", t.base));

    let r = t.put(&format!("/v1/forms/{form_id}")).json(&json!({"isActive": false})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let (etag4, cfg4) = etag_and_config().await;
    assert_ne!(etag4, etag3);
    assert!(cfg4["f"].as_array().is_none_or(|f| f.is_empty()), "an inactive form is not sent: {cfg4}");
    t.stop().await;
}

#[tokio::test]
async fn config_is_html_safe() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    let hostile = "</script><script>alert(1)//";
    let r = t
        .put(&format!("/v1/clients/{client}"))
        .json(&json!({"config": {"honeypotField": hostile}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = t
        .post(&format!("/v1/clients/{client}/forms"))
        .json(&json!({"formName": "x", "formSelector": "form[data-x=\"a&b\"] > .c"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let (_, _, body) = fetch(&t, &format!("/script/{client}.js"), &[]).await;
    let text = String::from_utf8(body).unwrap();
    assert!(!text.contains("</script"), "the config cannot close a <script> element");
    let cfg = served_config(&text);
    assert_eq!(cfg["h"], hostile, "escaped, not altered");
    assert_eq!(cfg["f"][0]["s"][0], "form[data-x=\"a&b\"] > .c");
    t.stop().await;
}

#[tokio::test]
async fn chat_script_is_served_with_the_same_rules() {
    let t = spawn_app().await;
    let (status, map, plain) = fetch(&t, "/script/chat.js", &[]).await;
    assert_eq!(status, 200);
    assert_script_headers(&map);
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tracker/dist/chat.min.js")).unwrap();
    // Verbatim but for the build banner's source hash, which only the staleness test needs.
    let (banner, code) = committed.split_once("*/").unwrap();
    let version = banner.split(" src-sha256:").next().unwrap();
    assert_eq!(String::from_utf8(plain.clone()).unwrap(), format!("{version} */{code}"), "chat.js is served as built");
    let (status, _, _) = fetch(&t, "/script/chat.js", &[("If-None-Match", &h(&map, "etag"))]).await;
    assert_eq!(status, 304);
    let (_, gz_h, gz) = fetch(&t, "/script/chat.js", &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(h(&gz_h, "content-encoding"), "gzip");
    assert_eq!(gunzip(&gz), plain);
    let (_, br_h, br) = fetch(&t, "/script/chat.js", &[("Accept-Encoding", "br")]).await;
    assert_eq!(h(&br_h, "content-encoding"), "br");
    assert_eq!(unbrotli(&br), plain);
    t.stop().await;
}

/// Issue 3 point 11: the served core script ≤ 2,048 bytes gzip (for a typical site: one
/// configured form with a field), chat ≤ 4,096.
#[tokio::test]
async fn size_budget() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("www.example-company.com").await;
    let form: Value = t
        .post_json(&format!("/v1/clients/{client}/forms"), json!({"formName": "Contact", "formSelector": "#contact"}))
        .await;
    let r = t
        .post(&format!("/v1/forms/{}/fields", form["formId"].as_str().unwrap()))
        .json(&json!({"fieldName": "email", "fieldType": "email", "fieldSelector": "#email"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = t
        .put(&format!("/v1/clients/{client}"))
        .json(&json!({"config": {"honeypotField": "website"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let (_, _, core) = fetch(&t, &format!("/script/{client}.js"), &[]).await;
    let (_, gz_h, served_gz) = fetch(&t, &format!("/script/{client}.js"), &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(h(&gz_h, "content-encoding"), "gzip");
    let (_, _, chat) = fetch(&t, "/script/chat.js", &[]).await;
    let (core_gz, chat_gz) = (gzip_best(&core), gzip_best(&chat));
    eprintln!(
        "core: {} bytes, {core_gz} gzip -9 (served gzip body {} bytes); chat: {} bytes, {chat_gz} gzip -9",
        core.len(),
        served_gz.len(),
        chat.len()
    );
    assert!(core_gz <= 2048, "the served core script is {core_gz} bytes gzip, over its 2,048-byte budget");
    assert!(chat_gz <= 4096, "chat.js is {chat_gz} bytes gzip, over its 4,096-byte budget");
    t.stop().await;
}

/// The committed builds were made from the committed sources (tracker/build.mjs writes the
/// source's SHA-256 into each build's banner).
#[test]
fn committed_build_is_not_older_than_its_source() {
    let root = env!("CARGO_MANIFEST_DIR");
    for name in ["tracker", "chat"] {
        let src = std::fs::read(format!("{root}/tracker/src/{name}.js")).unwrap();
        let dist = std::fs::read_to_string(format!("{root}/tracker/dist/{name}.min.js")).unwrap();
        let banner = dist.lines().next().unwrap_or("");
        let recorded = banner
            .split("src-sha256:")
            .nth(1)
            .map(|r| r.split(|c: char| !c.is_ascii_hexdigit()).next().unwrap_or(""))
            .unwrap_or_else(|| panic!("tracker/dist/{name}.min.js has no src-sha256 banner: {banner:.120}"));
        let actual = hex::encode(Sha256::digest(&src));
        assert_eq!(
            recorded, actual,
            "tracker/dist/{name}.min.js is stale: rebuild it with `cd tracker && npm ci && npm run build`"
        );
    }
}

#[tokio::test]
async fn scripts_for_many_hosts_vary_on_host_and_are_compressed_only_for_the_first_few() {
    let t = spawn_app().await;
    let (client, _) = t.create_site("example.com").await;
    let path = format!("/script/{client}.js");
    // The endpoint comes from Host: a shared cache must key on it.
    let (_, map, _) = fetch(&t, &path, &[]).await;
    let vary = h(&map, "vary").to_lowercase();
    assert!(vary.contains("host") && vary.contains("accept-encoding"), "vary: {vary}");

    // Any client picks its Host: the first few names (this test's own address was the first)
    // are compressed and cached, later ones cost only a plain build and are sent as they are.
    for i in 0..8 {
        let host = format!("h{i}.example");
        let (status, map, body) = fetch(&t, &path, &[("Host", &host), ("Accept-Encoding", "gzip, br")]).await;
        assert_eq!(status, 200);
        assert_script_headers(&map);
        assert!(h(&map, "vary").to_lowercase().contains("host"));
        let text = if i < 3 {
            assert_eq!(h(&map, "content-encoding"), "br", "host {i}");
            String::from_utf8(unbrotli(&body)).unwrap()
        } else {
            assert_eq!(h(&map, "content-encoding"), "", "host {i} is not compressed");
            String::from_utf8(body).unwrap()
        };
        assert_eq!(served_config(&text)["e"], format!("http://{host}"));
        // ETag and 304 stay right for the uncached ones.
        let etag = h(&map, "etag");
        let (status, _, _) = fetch(&t, &path, &[("Host", &host), ("If-None-Match", &etag)]).await;
        assert_eq!(status, 304, "host {i}");
        let (_, again, _) = fetch(&t, &path, &[("Host", &host)]).await;
        assert_eq!(h(&again, "etag"), etag, "host {i}");
    }
    t.stop().await;

    // With --public-url the script does not depend on Host, and a cache may share it.
    let dir = tempfile::tempdir().unwrap();
    let mut config = crm_tracker::config::ServeConfig::for_tests(dir.path().join("d.redb"));
    config.public_url = Some("https://t.example.net".into());
    let t = spawn_with(config).await;
    let (client, _) = t.create_site("example.com").await;
    let (_, map, body) = fetch(&t, &format!("/script/{client}.js"), &[("Host", "evil.example")]).await;
    assert_eq!(h(&map, "vary"), "Accept-Encoding");
    assert_eq!(served_config(&String::from_utf8(body).unwrap())["e"], "https://t.example.net");
    t.stop().await;
}
