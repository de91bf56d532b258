//! Which browser origins may send events for a site.

use super::model::Client;

/// Parses an origin exactly as browsers serialise it: `scheme://host[:port]`, lower case,
/// nothing else (no user info, path, query or fragment), `host` a DNS name of letters,
/// digits and hyphens or a bracketed IPv6 literal, `port` a number up to 65535. Returns
/// (scheme, host, port) with the scheme's default port left out, so `https://a.io:443` and
/// `https://a.io` are the same origin. Anything looser is refused: an origin is echoed in
/// `Access-Control-Allow-Origin`, so only well-formed ones may pass.
fn split_origin(origin: &str) -> Option<(&str, &str, Option<u16>)> {
    let (scheme, rest) = origin.split_once("://")?;
    if !(scheme == "http" || scheme == "https") {
        return None;
    }
    let (host, port) = if rest.starts_with('[') {
        let end = rest.find(']')?;
        let inner = &rest[1..end];
        if inner.is_empty() || !inner.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.') {
            return None;
        }
        (&rest[..=end], &rest[end + 1..])
    } else {
        let cut = rest.find(':').unwrap_or(rest.len());
        let host = &rest[..cut];
        let dns = !host.is_empty()
            && host.len() <= 253
            && host.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            });
        if !dns {
            return None;
        }
        (host, &rest[cut..])
    };
    let port = match port {
        "" => None,
        p => {
            let digits = p.strip_prefix(':')?;
            if digits.is_empty() || digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some(digits.parse::<u16>().ok()?)
        }
    };
    let default = if scheme == "https" { 443 } else { 80 };
    Some((scheme, host, port.filter(|p| *p != default)))
}

/// The canonical text of a parsed origin.
fn origin_text(scheme: &str, host: &str, port: Option<u16>) -> String {
    match port {
        Some(p) => format!("{scheme}://{host}:{p}"),
        None => format!("{scheme}://{host}"),
    }
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
    // An internationalised name (bücher.de) is what browsers send as punycode
    // (xn--bcher-kva.de) in Origin: stored that way, or it would never match.
    let host = if host.is_ascii() { host } else { url::Host::parse(&host).ok()?.to_string() };
    let valid = !host.is_empty()
        && host.len() <= 253
        // Labels as DNS takes them: 1-63 letters, digits or hyphens, no hyphen at either end
        // (a browser never sends an Origin with any other, so such a site could get no event).
        && host.split('.').all(|l| {
            (1..=63).contains(&l.len())
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    valid.then_some(host)
}

/// Suffixes under which anyone can register a name: a site whose domain is one of them would
/// accept events from every site under it (`com` allows `https://evil.com`). Not the whole
/// public suffix list: the single labels (every top-level domain), and the shared suffixes
/// sites are most often given by mistake.
const SHARED_SUFFIXES: &[&str] = &[
    "co.uk",
    "org.uk",
    "ac.uk",
    "gov.uk",
    "me.uk",
    "ltd.uk",
    "plc.uk",
    "com.au",
    "net.au",
    "org.au",
    "co.nz",
    "org.nz",
    "co.za",
    "co.jp",
    "ne.jp",
    "or.jp",
    "co.kr",
    "co.in",
    "com.br",
    "com.mx",
    "com.ar",
    "com.cn",
    "com.tr",
    "com.sg",
    "com.hk",
    "co.il",
    "com.pl",
    "github.io",
    "gitlab.io",
    "herokuapp.com",
    "vercel.app",
    "netlify.app",
    "pages.dev",
    "workers.dev",
    "web.app",
    "firebaseapp.com",
    "azurewebsites.net",
    "cloudfront.net",
    "appspot.com",
    "blogspot.com",
    "wordpress.com",
    "wixsite.com",
    "squarespace.com",
    "myshopify.com",
    "webflow.io",
    "framer.website",
    "carrd.co",
    "glitch.me",
    "onrender.com",
    "fly.dev",
];

/// Why a (normalised) site domain cannot be a site's, if it cannot: a suffix shared by
/// unrelated sites.
pub fn shared_suffix_problem(domain: &str) -> Option<String> {
    let single_label = !domain.contains('.') && domain != "localhost";
    (single_label || SHARED_SUFFIXES.contains(&domain)).then(|| {
        format!(
            "{domain:?} is shared by every site under it, so each of them could send events for this site; \
             give the site's own domain, e.g. \"example.{domain}\""
        )
    })
}

/// Normalises an extra allowed origin (`https://app.example.org[:port]`): lower case, no
/// trailing slash, the default port left out (browsers never send it).
pub fn normalize_origin(raw: &str) -> Option<String> {
    let o = raw.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, host, port) = split_origin(&o)?;
    Some(origin_text(scheme, host, port))
}

/// True when a browser on `origin` may send events for `client`: the site's domain or any
/// subdomain of it (any scheme of http/https, any port), or one of its extra origins.
pub fn is_allowed(client: &Client, origin: &str) -> bool {
    let origin = origin.trim().to_ascii_lowercase();
    let Some((scheme, host, port)) = split_origin(&origin) else {
        return false;
    };
    let domain = client.domain.as_str();
    if host == domain || host.strip_suffix(domain).is_some_and(|prefix| prefix.ends_with('.')) {
        return true;
    }
    // Extras were saved normalised; a file from before normalisation may still hold
    // `:443`, so both sides are compared in canonical form.
    let canonical = origin_text(scheme, host, port);
    client.config.allowed_origins.iter().any(|o| normalize_origin(o).is_some_and(|o| o == canonical))
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
        // Not how a browser writes an origin: refused, never echoed back.
        for loose in [
            "https://evil.com@.example.com",
            "https://evil.com#.example.com",
            "https://evil.com?.example.com",
            "https://evil.com/.example.com",
            "https://.example.com",
            "https://example.com:abc",
            "https://example.com:99999",
            "https://example.com:",
            "https://exa mple.com",
            "https://*.example.com",
            "https://example.com.",
        ] {
            assert!(!is_allowed(&c, loose), "{loose}");
        }
    }

    #[test]
    fn extra_origins_match_exactly() {
        let c = client("example.com", &["https://app.other.io"]);
        assert!(is_allowed(&c, "https://app.other.io"));
        assert!(!is_allowed(&c, "http://app.other.io"));
        assert!(!is_allowed(&c, "https://x.app.other.io"));
        // A saved default port is the same origin as none.
        let c = client("example.com", &["https://app.other.io:443", "http://dev.other.io:80"]);
        assert!(is_allowed(&c, "https://app.other.io"));
        assert!(is_allowed(&c, "https://app.other.io:443"));
        assert!(is_allowed(&c, "http://dev.other.io"));
        assert!(!is_allowed(&c, "https://app.other.io:8443"));
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
        for bad in ["-bad-.io", "bad-.io", &format!("{}.io", "a".repeat(64))] {
            assert_eq!(normalize_domain(bad), None, "{bad}");
        }
        let longest = format!("{}.io", "a".repeat(63));
        assert_eq!(normalize_domain(&longest), Some(longest.clone()));
        assert_eq!(normalize_domain("https://Bücher.de/").as_deref(), Some("xn--bcher-kva.de"));
        assert_eq!(normalize_domain("xn--bcher-kva.de").as_deref(), Some("xn--bcher-kva.de"));
        assert_eq!(normalize_domain("bü cher.de"), None);
    }

    #[test]
    fn shared_suffixes_are_not_site_domains() {
        for shared in ["com", "uk", "co.uk", "github.io", "myshopify.com"] {
            let problem = shared_suffix_problem(shared).unwrap_or_else(|| panic!("{shared} was taken"));
            assert!(problem.contains("shared by every site under it"), "{problem}");
        }
        for own in ["localhost", "example.com", "shop.co.uk", "me.github.io", "127.0.0.1", "xn--bcher-kva.de"] {
            assert_eq!(shared_suffix_problem(own), None, "{own}");
        }
        assert_eq!(normalize_domain(""), None);
        assert_eq!(normalize_origin("https://App.io:8443/").as_deref(), Some("https://app.io:8443"));
        assert_eq!(normalize_origin("ftp://app.io"), None);
        assert_eq!(normalize_origin("https://app.io:443").as_deref(), Some("https://app.io"));
        assert_eq!(normalize_origin("http://app.io:80/").as_deref(), Some("http://app.io"));
        assert_eq!(normalize_origin("http://[::1]:8080").as_deref(), Some("http://[::1]:8080"));
        for bad in
            ["https://*.foo.com", "https://a b.com", "https://evil.com@x.io", "https://x.io:", "https://x.io/path"]
        {
            assert_eq!(normalize_origin(bad), None, "{bad}");
        }
    }
}
