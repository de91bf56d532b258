//! Server-side enrichment of tracker events, so the tracker can stay small: what the server
//! can work out itself (a URL's path, the utm_* of the landing page, the browser's user
//! agent and language, form progress) the tracker does not send.
//!
//! Runs before redaction, so derived values are redacted like sent ones.

use serde_json::{Map, Value};

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
fn path_and_query(url: &str) -> (&str, Option<&str>) {
    let (before_query, query) = split_query(url);
    // The first `://`, found from its colons: `split_once("://")` sets up a substring
    // searcher on every call.
    let after_scheme = before_query
        .match_indices(':')
        .find(|(i, _)| before_query[i + 1..].starts_with("//"))
        .map_or(before_query, |(i, _)| &before_query[i + 3..]);
    let path = match after_scheme.find('/') {
        Some(i) => &after_scheme[i..],
        None => "/",
    };
    (path, query)
}

/// A URL without its fragment, split at its query (`https://x.io/a?c#d` → `https://x.io/a`,
/// `c`).
fn split_query(url: &str) -> (&str, Option<&str>) {
    let no_fragment = url.split_once('#').map_or(url, |(u, _)| u);
    match no_fragment.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (no_fragment, None),
    }
}

/// Every `utm_*` parameter of a URL's query, the first of each name, in query order.
fn utm_pairs(url: &str) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = Vec::new();
    let Some(query) = split_query(url).1 else {
        return out;
    };
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        if k.starts_with("utm_") && k.len() <= 64 && !v.is_empty() && !out.iter().any(|(seen, _)| *seen == k) {
            // No more bytes than the limit means no more characters either.
            let v = if v.len() <= 512 { v.into_owned() } else { v.chars().take(512).collect() };
            out.push((k.into_owned(), Value::String(v)));
        }
    }
    out
}

/// Fills in what the server can derive. Never overwrites what the sender sent.
/// `completedFields` are the names of the event's non-blank `fields`, worked out only when
/// `formProgress` needs them.
pub fn enrich(payload: &mut Map<String, Value>, ctx: &RequestContext) {
    // Gathered before `enrich_with` borrows `payload` mutably, but only when it will use them.
    let (mut fields, mut needed) = (None, false);
    for (k, v) in payload.iter() {
        match (k.as_str(), v) {
            ("fields", Value::Object(map)) => fields = Some(map),
            ("formProgress", Value::Number(_)) => needed = true,
            ("formProgress", Value::Object(progress)) => needed = !progress.contains_key("completedFields"),
            _ => {}
        }
    }
    let completed = match fields {
        Some(fields) if needed => {
            fields.iter().filter(|(_, v)| !is_blank(v)).map(|(k, _)| Value::String(k.clone())).collect()
        }
        _ => Vec::new(),
    };
    enrich_with(payload, ctx, completed);
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// One pass over the payload's members rather than a lookup for each: this runs for every
/// event.
fn enrich_with(payload: &mut Map<String, Value>, ctx: &RequestContext, completed: Vec<Value>) {
    let mut completed = Some(completed);
    let mut has_metadata = false;
    for (k, v) in payload.iter_mut() {
        match k.as_str() {
            "page" => enrich_page(v),
            "attribution" => enrich_attribution(v),
            "metadata" => {
                if !v.is_object() {
                    *v = Value::Object(Map::new());
                }
                if let Value::Object(meta) = v {
                    enrich_metadata(meta, ctx);
                }
                has_metadata = true;
            }
            "formProgress" => {
                if let Some(completed) = completed.take() {
                    enrich_progress(v, completed);
                }
            }
            _ => {}
        }
    }
    if !has_metadata {
        let mut meta = Map::new();
        enrich_metadata(&mut meta, ctx);
        payload.insert("metadata".into(), Value::Object(meta));
    }
}

fn enrich_page(page: &mut Value) {
    // `page` may be the URL alone.
    if let Value::String(url) = page {
        let mut object = Map::new();
        object.insert("url".into(), Value::String(std::mem::take(url)));
        *page = Value::Object(object);
    }
    if let Value::Object(page) = page
        && !page.contains_key("path")
        && let Some(url) = page.get("url").and_then(Value::as_str)
    {
        let path = path_and_query(url).0.to_string();
        page.insert("path".into(), Value::String(path));
    }
}

fn enrich_attribution(attribution: &mut Value) {
    if let Value::Object(attribution) = attribution
        && let Some(landing) = attribution.get("landingPage").and_then(Value::as_str)
    {
        for (k, v) in utm_pairs(landing) {
            attribution.entry(k).or_insert(v);
        }
    }
}

/// The tracker sends `document.referrer` as it is (fewer bytes in every page): none is "",
/// and one on the landing page's own site is a page of the site, not where the visitor came
/// from, so both are dropped. Called before the size checks: a same-site referrer is the full
/// URL (browsers cut only cross-site ones to the origin), and one over the value limit would
/// otherwise have every event of that visitor refused, since attribution is first-touch.
pub fn drop_own_referrer(payload: &mut Map<String, Value>) {
    let Some(Value::Object(attribution)) = payload.get_mut("attribution") else { return };
    let own = match (attribution.get("referrer"), attribution.get("landingPage")) {
        (Some(Value::String(referrer)), _) if referrer.is_empty() => true,
        (Some(Value::String(referrer)), Some(Value::String(landing))) => {
            matches!((url_host(referrer), url_host(landing)), (Some(r), Some(l)) if r.eq_ignore_ascii_case(l))
        }
        _ => false,
    };
    if own {
        attribution.remove("referrer");
    }
}

/// The host (and port, if any) of an absolute URL, as a browser's `URL.host` gives it
/// (compare it ignoring ASCII case), without user info. `None` unless it starts with a scheme
/// (`https://`, not a `://` further in, as in a relative URL's query).
fn url_host(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    let mut scheme_chars = scheme.chars();
    let scheme_ok = scheme_chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme_chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return None;
    }
    let authority = super::page_urls::authority(rest);
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    (!host.is_empty()).then_some(host)
}

fn enrich_metadata(meta: &mut Map<String, Value>, ctx: &RequestContext) {
    if let Some(ua) = &ctx.user_agent
        && !meta.contains_key("userAgent")
    {
        meta.insert("userAgent".into(), Value::String(ua.clone()));
    }
    if let Some(lang) = &ctx.language
        && !meta.contains_key("language")
    {
        meta.insert("language".into(), Value::String(lang.clone()));
    }
}

/// `formProgress: {totalFields}` (or just a number) → completed fields and percent.
fn enrich_progress(progress: &mut Value, completed: Vec<Value>) {
    if let Value::Number(n) = progress {
        let mut object = Map::new();
        object.insert("totalFields".into(), Value::Number(n.clone()));
        *progress = Value::Object(object);
    }
    if let Value::Object(progress) = progress {
        if !progress.contains_key("completedFields") {
            progress.insert("completedFields".into(), Value::Array(completed));
        }
        if !progress.contains_key("percentComplete")
            && let Some(total) = progress.get("totalFields").and_then(Value::as_u64).filter(|t| *t > 0)
        {
            let done = progress.get("completedFields").and_then(Value::as_array).map_or(0, |a| a.len() as u64);
            progress.insert("percentComplete".into(), Value::from((done.min(total) * 100) / total));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn utm_params(url: &str) -> Map<String, Value> {
        utm_pairs(url).into_iter().collect()
    }

    #[test]
    fn derives_what_the_tracker_left_out() {
        let mut p = json!({
            "page": "https://shop.example.com/contact/?x=1#top",
            "attribution": {"landingPage": "https://shop.example.com/?utm_source=news&utm_medium=email&utm_campaign=spring%20sale&q=1", "utm_source": "kept"},
            "formProgress": {"totalFields": 4},
            "fields": {"email": "a@b.co", "name": "Ann", "note": " "}
        })
        .as_object()
        .unwrap()
        .clone();
        let ctx = RequestContext::from_headers(Some("Mozilla/5.0 Test"), Some("fr-CH, fr;q=0.9, en;q=0.8"));
        enrich(&mut p, &ctx);
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
    fn only_a_referrer_from_another_site_is_kept() {
        let referrer = |landing: &str, referrer: &str| {
            let mut p = json!({"attribution": {"landingPage": landing, "referrer": referrer}});
            drop_own_referrer(p.as_object_mut().unwrap());
            p["attribution"].get("referrer").cloned()
        };
        let shop = "https://shop.example.com/pricing?utm_source=x";
        assert_eq!(referrer(shop, "https://search.example/?q=shoes"), Some(json!("https://search.example/?q=shoes")));
        // The same site (any case, user info aside) is no referrer, nor is none at all.
        assert_eq!(referrer(shop, "https://shop.example.com/"), None);
        assert_eq!(referrer(shop, "https://user@SHOP.example.com#top"), None);
        assert_eq!(referrer(shop, ""), None);
        // Another port or subdomain is another site, as for the browser's URL.host.
        assert!(referrer(shop, "https://shop.example.com:8443/").is_some());
        assert!(referrer(shop, "https://blog.example.com/").is_some());
        assert!(referrer("https://[::1]:8080/", "https://[::1]:8080/a").is_none());
        assert!(referrer("https://[::1]:8080/", "https://[::1]:8081/a").is_some());
        // A relative landing page has no host, whatever its query holds: the referrer stays.
        assert!(referrer("/?next=https://search.example/", "https://search.example/").is_some());
        // So it does without a landing page to compare with.
        let mut p = json!({"attribution": {"referrer": "https://shop.example.com/"}});
        drop_own_referrer(p.as_object_mut().unwrap());
        assert_eq!(p["attribution"]["referrer"], "https://shop.example.com/");
    }

    #[test]
    fn sent_values_win_and_odd_urls_do_not_panic() {
        let mut p =
            json!({"page": {"url": "no-scheme", "path": "/given"}, "metadata": {"language": "de"}, "formProgress": 0})
                .as_object()
                .unwrap()
                .clone();
        enrich(&mut p, &RequestContext::from_headers(None, Some("en")));
        assert_eq!(p["page"]["path"], "/given");
        assert_eq!(p["metadata"]["language"], "de");
        assert!(p["formProgress"].get("percentComplete").is_none());
        assert_eq!(path_and_query("https://x.io").0, "/");
        assert_eq!(path_and_query("").0, "/");
        // The first `://` ends the scheme, colons before it or not.
        assert_eq!(path_and_query("https:x://y/p").0, "/p");
        assert_eq!(path_and_query("a://b://c/d").0, "//c/d");
        assert_eq!(path_and_query("x:/y?q://z").0, "/y");
    }

    #[test]
    fn utm_values_are_cut_at_512_characters() {
        let url = format!("https://x.io/?utm_term={}&utm_term=second&utm_x=", "%C3%A9".repeat(600));
        let utm = utm_params(&url);
        assert_eq!(utm["utm_term"].as_str().map(|v| v.chars().count()), Some(512));
        assert!(utm.get("utm_x").is_none());
        let url = format!("https://x.io/?utm_term={}", "a".repeat(512));
        assert_eq!(utm_params(&url)["utm_term"].as_str().map(str::len), Some(512));
    }
}
