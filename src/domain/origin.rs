//! Which browser origins may send events for a site.

use super::model::Client;

/// Splits `scheme://host[:port]` into (scheme, host, port-text).
fn split_origin(origin: &str) -> Option<(&str, &str, &str)> {
    let (scheme, rest) = origin.split_once("://")?;
    if rest.contains('/') || rest.is_empty() {
        return None;
    }
    // IPv6 literals keep their brackets; the port follows the closing bracket.
    let (host, port) = if rest.starts_with('[') {
        let end = rest.find(']')?;
        (&rest[..=end], rest[end + 1..].strip_prefix(':').unwrap_or(""))
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) => (h, p),
            None => (rest, ""),
        }
    };
    Some((scheme, host, port))
}

/// The domain as an admin may type it: `Example.com`, `https://example.com/`, `example.com:8080`.
pub fn normalize_domain(raw: &str) -> Option<String> {
    let mut d = raw.trim().to_ascii_lowercase();
    if let Some((_, rest)) = d.split_once("://") {
        d = rest.to_string();
    }
    let d = d.split('/').next().unwrap_or("").to_string();
    let host = match d.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h.to_string(),
        _ => d,
    };
    let host = host.trim_end_matches('.').to_string();
    let valid = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    valid.then_some(host)
}

/// Normalises an extra allowed origin (`https://app.example.org[:port]`).
pub fn normalize_origin(raw: &str) -> Option<String> {
    let o = raw.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, host, port) = split_origin(&o)?;
    if !(scheme == "http" || scheme == "https") || host.is_empty() {
        return None;
    }
    if !port.is_empty() && port.parse::<u16>().is_err() {
        return None;
    }
    Some(o)
}

/// True when a browser on `origin` may send events for `client`: the site's domain or any
/// subdomain of it (any scheme of http/https, any port), or one of its extra origins.
pub fn is_allowed(client: &Client, origin: &str) -> bool {
    let origin = origin.trim().to_ascii_lowercase();
    let Some((scheme, host, _port)) = split_origin(&origin) else {
        return false;
    };
    if scheme != "http" && scheme != "https" {
        return false;
    }
    let domain = client.domain.as_str();
    if host == domain || host.strip_suffix(domain).is_some_and(|prefix| prefix.ends_with('.')) {
        return true;
    }
    client.config.allowed_origins.contains(&origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(domain: &str, extra: &[&str]) -> Client {
        let mut c = Client { domain: domain.into(), ..Default::default() };
        c.config.allowed_origins = extra.iter().map(|s| s.to_string()).collect();
        c
    }

    #[test]
    fn domain_and_subdomains_any_port() {
        let c = client("example.com", &[]);
        assert!(is_allowed(&c, "https://example.com"));
        assert!(is_allowed(&c, "http://www.example.com:8080"));
        assert!(is_allowed(&c, "https://a.b.example.com"));
        assert!(!is_allowed(&c, "https://notexample.com"));
        assert!(!is_allowed(&c, "https://example.com.evil.net"));
        assert!(!is_allowed(&c, "null"));
        assert!(!is_allowed(&c, "file://example.com"));
    }

    #[test]
    fn extra_origins_match_exactly() {
        let c = client("example.com", &["https://app.other.io"]);
        assert!(is_allowed(&c, "https://app.other.io"));
        assert!(!is_allowed(&c, "http://app.other.io"));
        assert!(!is_allowed(&c, "https://x.app.other.io"));
    }

    #[test]
    fn localhost_and_ipv6() {
        assert!(is_allowed(&client("localhost", &[]), "http://localhost:5173"));
        assert!(is_allowed(&client("127.0.0.1", &[]), "http://127.0.0.1:9999"));
        assert!(!is_allowed(&client("localhost", &[]), "http://[::1]:80"));
    }

    #[test]
    fn domain_normalisation() {
        assert_eq!(normalize_domain(" https://Example.com/contact ").as_deref(), Some("example.com"));
        assert_eq!(normalize_domain("localhost:8080").as_deref(), Some("localhost"));
        assert_eq!(normalize_domain("exa mple.com"), None);
        assert_eq!(normalize_domain(""), None);
        assert_eq!(normalize_origin("https://App.io:8443/").as_deref(), Some("https://app.io:8443"));
        assert_eq!(normalize_origin("ftp://app.io"), None);
    }
}
