//! Server-side enrichment of tracker events, so the tracker can stay small: what the server
//! can work out itself (a URL's path, the utm_* of the landing page, the browser's user
//! agent and language, form progress) the tracker does not send.
//!
//! Runs before redaction, so derived values are redacted like sent ones.

use serde_json::{Map, Value, json};

/// What the request itself says about the visitor's browser.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub user_agent: Option<String>,
    /// First tag of Accept-Language.
    pub language: Option<String>,
}

impl RequestContext {
    pub fn from_headers(user_agent: Option<&str>, accept_language: Option<&str>) -> Self {
        let language = accept_language
            .and_then(|l| l.split(',').next())
            .map(|l| l.split(';').next().unwrap_or("").trim().to_string())
            .filter(|l| !l.is_empty() && l.len() <= 35 && l != "*");
        RequestContext { user_agent: user_agent.map(|u| u.chars().take(512).collect()), language }
    }
}

/// The path and query of a URL (`https://x.io/a/b?c#d` → `/a/b`, `c`).
fn path_and_query(url: &str) -> (String, Option<&str>) {
    let no_fragment = url.split('#').next().unwrap_or("");
    let (before_query, query) = match no_fragment.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (no_fragment, None),
    };
    let after_scheme = before_query.split_once("://").map(|(_, r)| r).unwrap_or(before_query);
    let path = match after_scheme.find('/') {
        Some(i) => &after_scheme[i..],
        None => "/",
    };
    (path.to_string(), query)
}

/// Every `utm_*` parameter of a URL's query.
pub fn utm_params(url: &str) -> Map<String, Value> {
    let (_, query) = path_and_query(url);
    let mut out = Map::new();
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        if k.starts_with("utm_") && k.len() <= 64 && !v.is_empty() && !out.contains_key(k.as_ref()) {
            out.insert(k.into_owned(), Value::String(v.chars().take(512).collect()));
        }
    }
    out
}

/// Fills in what the server can derive. Never overwrites what the sender sent.
pub fn enrich(payload: &mut Map<String, Value>, fields: &[String], ctx: &RequestContext) {
    // `page` may be the URL alone.
    if let Some(Value::String(url)) = payload.get("page") {
        let url = url.clone();
        payload.insert("page".into(), json!({"url": url}));
    }
    if let Some(Value::Object(page)) = payload.get_mut("page")
        && !page.contains_key("path")
        && let Some(url) = page.get("url").and_then(Value::as_str)
    {
        let (path, _) = path_and_query(url);
        page.insert("path".into(), Value::String(path));
    }
    if let Some(Value::Object(attribution)) = payload.get_mut("attribution")
        && let Some(landing) = attribution.get("landingPage").and_then(Value::as_str).map(str::to_string)
    {
        for (k, v) in utm_params(&landing) {
            attribution.entry(k).or_insert(v);
        }
    }
    let has_metadata = matches!(payload.get("metadata"), Some(Value::Object(_)));
    if !has_metadata {
        payload.insert("metadata".into(), Value::Object(Map::new()));
    }
    if let Some(Value::Object(meta)) = payload.get_mut("metadata") {
        if let Some(ua) = &ctx.user_agent {
            meta.entry("userAgent").or_insert_with(|| Value::String(ua.clone()));
        }
        if let Some(lang) = &ctx.language {
            meta.entry("language").or_insert_with(|| Value::String(lang.clone()));
        }
    }
    // `formProgress: {totalFields}` (or just a number) → completed fields and percent.
    if let Some(Value::Number(n)) = payload.get("formProgress") {
        let n = n.clone();
        payload.insert("formProgress".into(), json!({"totalFields": n}));
    }
    if let Some(Value::Object(progress)) = payload.get_mut("formProgress") {
        if !progress.contains_key("completedFields") {
            progress.insert("completedFields".into(), json!(fields));
        }
        if !progress.contains_key("percentComplete")
            && let Some(total) = progress.get("totalFields").and_then(Value::as_u64).filter(|t| *t > 0)
        {
            let done = progress.get("completedFields").and_then(Value::as_array).map_or(0, |a| a.len() as u64);
            progress.insert("percentComplete".into(), json!((done.min(total) * 100) / total));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_what_the_tracker_left_out() {
        let mut p = json!({
            "page": "https://shop.example.com/contact/?x=1#top",
            "attribution": {"landingPage": "https://shop.example.com/?utm_source=news&utm_medium=email&utm_campaign=spring%20sale&q=1", "utm_source": "kept"},
            "formProgress": {"totalFields": 4}
        })
        .as_object()
        .unwrap()
        .clone();
        let ctx = RequestContext::from_headers(Some("Mozilla/5.0 Test"), Some("fr-CH, fr;q=0.9, en;q=0.8"));
        enrich(&mut p, &["email".into(), "name".into()], &ctx);
        assert_eq!(p["page"], json!({"url": "https://shop.example.com/contact/?x=1#top", "path": "/contact/"}));
        assert_eq!(p["attribution"]["utm_source"], "kept");
        assert_eq!(p["attribution"]["utm_medium"], "email");
        assert_eq!(p["attribution"]["utm_campaign"], "spring sale");
        assert!(p["attribution"].get("q").is_none());
        assert_eq!(p["metadata"], json!({"userAgent": "Mozilla/5.0 Test", "language": "fr-CH"}));
        assert_eq!(p["formProgress"]["completedFields"], json!(["email", "name"]));
        assert_eq!(p["formProgress"]["percentComplete"], 50);
    }

    #[test]
    fn sent_values_win_and_odd_urls_do_not_panic() {
        let mut p =
            json!({"page": {"url": "no-scheme", "path": "/given"}, "metadata": {"language": "de"}, "formProgress": 0})
                .as_object()
                .unwrap()
                .clone();
        enrich(&mut p, &[], &RequestContext::from_headers(None, Some("en")));
        assert_eq!(p["page"]["path"], "/given");
        assert_eq!(p["metadata"]["language"], "de");
        assert!(p["formProgress"].get("percentComplete").is_none());
        assert_eq!(path_and_query("https://x.io").0, "/");
        assert_eq!(path_and_query("").0, "/");
    }
}
