//! The URLs an event states about where it happened: `page` (the URL, or an object with
//! `url`) and `attribution.landingPage` must be absolute http(s) URLs, and
//! `attribution.referrer` a string. They are shown to people (dashboard, exports, CRM), who
//! would follow them, so anything else is refused rather than stored.

use serde_json::{Map, Value};

/// A member that breaks the contract: its path under the event, and what it must be.
#[derive(Debug, PartialEq)]
pub struct Problem {
    pub member: &'static str,
    pub message: &'static str,
}

const WEB_URL: &str = "must be an absolute http(s) URL, like https://example.com/contact";

/// Checks the event's members (`null` counts as absent, as everywhere in the contract).
pub fn check(event: &Map<String, Value>) -> Result<(), Problem> {
    let problem = |member, message| Err(Problem { member, message });
    match event.get("page") {
        Some(Value::String(url)) if !is_web_url(url) => return problem("page", WEB_URL),
        Some(Value::Object(page)) => match page.get("url") {
            Some(Value::String(url)) if is_web_url(url) => {}
            None | Some(Value::Null) => {
                return problem("page.url", "is required when page is an object: the page's absolute http(s) URL");
            }
            Some(_) => return problem("page.url", WEB_URL),
        },
        _ => {}
    }
    if let Some(Value::Object(attribution)) = event.get("attribution") {
        match attribution.get("landingPage") {
            None | Some(Value::Null) => {}
            Some(Value::String(url)) if is_web_url(url) => {}
            Some(_) => return problem("attribution.landingPage", WEB_URL),
        }
        match attribution.get("referrer") {
            None | Some(Value::Null) | Some(Value::String(_)) => {}
            Some(_) => return problem("attribution.referrer", "must be a string (empty when there is none)"),
        }
    }
    Ok(())
}

/// The authority of a URL after its `scheme://`: up to the first `/`, `?`, `#` or `\`, which
/// browsers read as `/` in http(s) URLs. (Splitting only on `/` would take the host of
/// `http://evil.example\@good.example/` to be good.example; a browser goes to evil.example.)
pub fn authority(after_scheme: &str) -> &str {
    after_scheme.split(['/', '?', '#', '\\']).next().unwrap_or("")
}

/// `http://` or `https://` (any case), a host, and no whitespace or control characters.
pub fn is_web_url(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url[8..]
    } else if lower.starts_with("http://") {
        &url[7..]
    } else {
        return false;
    };
    let host = authority(rest).rsplit('@').next().unwrap_or("");
    !host.is_empty() && !host.starts_with(':') && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check_json(event: Value) -> Result<(), Problem> {
        check(event.as_object().unwrap())
    }

    #[test]
    fn web_urls_only() {
        for ok in ["https://x.io", "http://x.io/a?b#c", "HTTPS://X.IO/", "https://u@x.io:8080/p"] {
            assert!(is_web_url(ok), "{ok}");
        }
        for bad in [
            "",
            "not a url",
            "javascript:alert(1)",
            "https://",
            "http:///x",
            "https://:80/",
            "/path",
            "ftp://x.io",
            "https://x.io/a b",
            "data:text/html,x",
        ] {
            assert!(!is_web_url(bad), "{bad}");
        }
    }

    #[test]
    fn page_and_attribution_members_are_named() {
        let cases = [
            (json!({"page": "not a url"}), "page"),
            (json!({"page": "javascript:alert(1)"}), "page"),
            (json!({"page": {"url": 5}}), "page.url"),
            (json!({"page": {"title": "x"}}), "page.url"),
            (json!({"page": {"url": "javascript:x"}}), "page.url"),
            (json!({"attribution": {"landingPage": 5}}), "attribution.landingPage"),
            (json!({"attribution": {"landingPage": "/relative"}}), "attribution.landingPage"),
            (json!({"attribution": {"referrer": 5}}), "attribution.referrer"),
        ];
        for (event, member) in cases {
            assert_eq!(check_json(event.clone()).map_err(|p| p.member), Err(member), "{event}");
        }
        for event in [
            json!({}),
            json!({"page": null, "attribution": {"landingPage": null, "referrer": null}}),
            json!({"page": "https://x.io/", "attribution": {"landingPage": "https://x.io/?utm_source=a", "referrer": ""}}),
            json!({"page": {"url": "http://x.io/", "path": "/"}, "attribution": {"referrer": "android-app://x"}}),
        ] {
            assert_eq!(check_json(event.clone()), Ok(()), "{event}");
        }
    }
}
