//! Credentials in page addresses. The tracker sends the page's whole address with every
//! event, and some pages carry a secret in it: a password-reset or magic-link token, an
//! OAuth code or (in the fragment, for the implicit flow) an access token, an API key or a
//! signature, a session id, a login form sent with GET (`?log=…&pwd=…`), a user name and
//! password before the host. They are dropped from `page.url`, `attribution.landingPage` and
//! `attribution.referrer` before an event is stored; the rest of the address stays exactly
//! as sent (no re-encoding).
//!
//! A secret in the path itself (`/reset/<token>/`) cannot be told from an ordinary path and
//! stays.

use serde_json::{Map, Value};
use std::borrow::Cow;

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
    "sessionid",
    "sessid",
    "jsessionid",
    "phpsessid",
    "jwt",
    "otp",
    "nonce",
    "wpnonce",
    "password",
    "passwd",
    "pwd",
    // Firebase's reset and sign-in links (`oobCode`), CAS service tickets.
    "oobcode",
    "ticket",
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
    if let Some(clean) = without_user_info(url) {
        return Some(without_credentials(&clean).unwrap_or(clean));
    }
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

/// `https://ada:hunter2@x.io/` → `https://x.io/`: a user name and password in the address
/// itself. `None` when there is none.
fn without_user_info(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let at = super::page_urls::authority(rest).rfind('@')?;
    Some(format!("{scheme}://{}", &rest[at + 1..]))
}

/// `a=1&token=x&b=2` → `a=1&b=2`; `None` when nothing is dropped.
fn without_credential_params(params: &str) -> Option<String> {
    // Each pair as sent, with its decoded name and value.
    let pairs: Vec<(&str, Cow<'_, str>, Cow<'_, str>)> = params
        .split('&')
        .map(|pair| {
            let (name, value) = form_urlencoded::parse(pair.as_bytes()).next().unwrap_or_default();
            (pair, name, value)
        })
        .collect();
    // An OAuth authorization response: `code` travels with a random `state` (not a
    // shop's `state=TX&code=SUMMER10`).
    let oauth = pairs.iter().any(|(_, name, value)| name == "state" && value.len() >= 16);
    let dropped: Vec<bool> =
        pairs.iter().map(|(_, name, _)| is_credential(name) || (oauth && name == "code")).collect();
    if !dropped.contains(&true) {
        return None;
    }
    let kept: Vec<&str> =
        pairs.iter().zip(&dropped).filter(|(_, drop)| !**drop).map(|((pair, _, _), _)| *pair).collect();
    Some(kept.join("&"))
}

/// A credential's name, or a password's or card's: not every name a form field is dropped
/// for (a campaign's `cid` is no card code in an address).
fn is_credential(name: &str) -> bool {
    if name.is_empty() || name.starts_with("utm_") {
        return false;
    }
    let words = redact::name_words(name);
    // A word (`access_token`) or the whole name run together (`oobCode`, `session_id`).
    words.iter().any(|w| CREDENTIAL_WORDS.contains(&w.as_str()))
        || CREDENTIAL_WORDS.contains(&words.concat().as_str())
        || words.iter().any(|w| ["card", "cvv", "cvc", "iban", "ssn"].contains(&w.as_str()))
        || redact::is_sensitive_value(name)
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
            (
                "https://x.io/cb?code=4%2F0Ab&state=af0ifjsldkj3948d&scope=email",
                "https://x.io/cb?state=af0ifjsldkj3948d&scope=email",
            ),
            (
                "https://x.io/__/auth/action?mode=resetPassword&oobCode=ABC123",
                "https://x.io/__/auth/action?mode=resetPassword",
            ),
            ("https://x.io/cas?ticket=ST-1-abc", "https://x.io/cas"),
            ("https://ada:hunter2@x.io/page?token=t", "https://x.io/page"),
            ("https://ada@x.io/", "https://x.io/"),
            ("https://x.io/?PHPSESSID=s1&JSESSIONID=s2&session_id=s3", "https://x.io/"),
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
            "https://x.io/?cid=spring_email&utm_source=news",
            "https://x.io/?sid=aff123&session=morning",
            "https://x.io/shop?state=TX&code=SUMMER10",
            "https://x.io/a@b",
            // A browser reads `\` as `/`: the host is evil.example, and there is no user info.
            "http://evil.example\\@good.example/",
        ] {
            assert_eq!(without_credentials(url), None, "{url}");
        }
    }

    #[test]
    fn page_landing_page_and_referrer_are_scrubbed() {
        let mut payload = json!({
            "page": {"url": "https://x.io/welcome?token=t1", "path": "/welcome"},
            "attribution": {"landingPage": "https://x.io/?utm_source=a&key=k", "referrer": "https://idp.example/cb?code=c&state=s0mEr4nd0mSt4t3xyz"},
            "fields": {"token": "stays for redaction to judge"}
        });
        scrub(payload.as_object_mut().unwrap());
        assert_eq!(payload["page"]["url"], "https://x.io/welcome");
        assert_eq!(payload["attribution"]["landingPage"], "https://x.io/?utm_source=a");
        assert_eq!(payload["attribution"]["referrer"], "https://idp.example/cb?state=s0mEr4nd0mSt4t3xyz");
        assert_eq!(payload["fields"]["token"], "stays for redaction to judge");
    }
}
