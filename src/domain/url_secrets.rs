//! Credentials in page addresses. The tracker sends the page's whole address with every
//! event, and some pages carry a secret in it: a password-reset or magic-link token, an
//! OAuth code or (in the fragment, for the implicit flow) an access token, an API key or a
//! signature, a session id, a login form sent with GET (`?log=…&pwd=…`). Such parameters are
//! dropped from `page.url`, `attribution.landingPage` and `attribution.referrer` before an
//! event is stored; the rest of the address stays exactly as sent (no re-encoding).
//!
//! A secret in the path itself (`/reset/<token>/`) cannot be told from an ordinary path and
//! stays.

use serde_json::{Map, Value};

use super::redact;

/// Words of a parameter's name that say it holds a credential (`token`, `access_token`,
/// `api_key`, `X-Amz-Signature`, `_wpnonce`, `sessionid`).
const CREDENTIAL_WORDS: &[&str] = &[
    "token",
    "auth",
    "key",
    "apikey",
    "secret",
    "sig",
    "signature",
    "session",
    "sessionid",
    "sid",
    "jwt",
    "otp",
    "nonce",
    "wpnonce",
    "password",
    "pwd",
];

/// Drops credential parameters from the event's page, landing-page and referrer addresses.
pub fn scrub(payload: &mut Map<String, Value>) {
    for (key, value) in payload.iter_mut() {
        let Value::Object(object) = value else { continue };
        let urls: &[&str] = match key.as_str() {
            "page" => &["url"],
            "attribution" => &["landingPage", "referrer"],
            _ => continue,
        };
        for url_key in urls {
            if let Some(Value::String(url)) = object.get_mut(*url_key)
                && let Some(clean) = without_credentials(url)
            {
                *url = clean;
            }
        }
    }
}

/// The address without its credential parameters, or `None` when it has none (the usual
/// case, found without allocating for an address with no query or fragment).
pub fn without_credentials(url: &str) -> Option<String> {
    if !url.contains(['?', '#']) {
        return None;
    }
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let (path, query) = match before_fragment.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (before_fragment, None),
    };
    let clean_query = query.and_then(without_credential_params);
    // A fragment is parameters only in the implicit flow's shape (`#access_token=…&…`); a
    // client-side route (`#/pricing`) has no `=` and is left alone.
    let clean_fragment = fragment.filter(|f| f.contains('=')).and_then(without_credential_params);
    if clean_query.is_none() && clean_fragment.is_none() {
        return None;
    }
    let mut out = String::with_capacity(url.len());
    out.push_str(path);
    if let Some(q) = clean_query.as_deref().or(query).filter(|q| !q.is_empty()) {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = clean_fragment.as_deref().or(fragment).filter(|f| !f.is_empty()) {
        out.push('#');
        out.push_str(f);
    }
    Some(out)
}

/// `a=1&token=x&b=2` → `a=1&b=2`; `None` when nothing is dropped.
fn without_credential_params(params: &str) -> Option<String> {
    let names: Vec<String> = params
        .split('&')
        .map(|pair| {
            form_urlencoded::parse(pair.as_bytes()).next().map(|(name, _)| name.into_owned()).unwrap_or_default()
        })
        .collect();
    // An OAuth authorization response: `code` travels with `state`.
    let oauth = names.iter().any(|n| n == "state");
    let credential = |name: &str| is_credential(name) || (oauth && name == "code");
    if !names.iter().any(|n| credential(n)) {
        return None;
    }
    let kept: Vec<&str> = params.split('&').zip(&names).filter(|(_, name)| !credential(name)).map(|(p, _)| p).collect();
    Some(kept.join("&"))
}

fn is_credential(name: &str) -> bool {
    if name.is_empty() || name.starts_with("utm_") {
        return false;
    }
    redact::name_words(name).iter().any(|w| CREDENTIAL_WORDS.contains(&w.as_str())) || redact::is_dropped_key(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn credential_parameters_are_dropped_and_the_rest_kept_as_sent() {
        for (url, clean) in [
            ("https://x.io/reset?token=abc123&lang=de", "https://x.io/reset?lang=de"),
            ("https://x.io/login?log=ada&pwd=hunter2", "https://x.io/login?log=ada"),
            ("https://x.io/cb?code=4%2F0Ab&state=xyz&scope=email", "https://x.io/cb?state=xyz&scope=email"),
            (
                "https://x.io/cb#access_token=ya29.a0&token_type=Bearer&expires_in=3599",
                "https://x.io/cb#expires_in=3599",
            ),
            ("https://x.io/f.pdf?X-Amz-Signature=ab12&X-Amz-Date=20251022", "https://x.io/f.pdf?X-Amz-Date=20251022"),
            ("https://x.io/wp-admin/?_wpnonce=1a2b3c", "https://x.io/wp-admin/"),
            ("https://x.io/?api_key=k1&utm_source=news#top", "https://x.io/?utm_source=news#top"),
            ("https://x.io/?sessionid=s1", "https://x.io/"),
            ("https://x.io/magic?t=1&auth%5Ftoken=x", "https://x.io/magic?t=1"),
            ("https://x.io/pay?card_number=4111&amount=5", "https://x.io/pay?amount=5"),
        ] {
            assert_eq!(without_credentials(url).as_deref(), Some(clean), "{url}");
        }
        for url in [
            "https://x.io/contact",
            "https://x.io/?utm_source=news&utm_campaign=fall%20sale",
            "https://x.io/search?q=keyboard+keys&page=2",
            "https://x.io/#/pricing",
            "https://x.io/shop?discount_code=SUMMER&code=SUMMER10",
            "https://x.io/?author=ada&monkey=1&keyword=seo",
        ] {
            assert_eq!(without_credentials(url), None, "{url}");
        }
    }

    #[test]
    fn page_landing_page_and_referrer_are_scrubbed() {
        let mut payload = json!({
            "page": {"url": "https://x.io/welcome?token=t1", "path": "/welcome"},
            "attribution": {"landingPage": "https://x.io/?utm_source=a&key=k", "referrer": "https://idp.example/cb?code=c&state=s"},
            "fields": {"token": "stays for redaction to judge"}
        });
        scrub(payload.as_object_mut().unwrap());
        assert_eq!(payload["page"]["url"], "https://x.io/welcome");
        assert_eq!(payload["attribution"]["landingPage"], "https://x.io/?utm_source=a");
        assert_eq!(payload["attribution"]["referrer"], "https://idp.example/cb?state=s");
        assert_eq!(payload["fields"]["token"], "stays for redaction to judge");
    }
}
