//! Email normalisation and the disposable-domain list.

/// Trims and lower-cases an address and checks its shape; `None` if it is not an email.
///
/// Deliberately permissive (RFC 5322 allows far more than sites accept) but strict enough
/// that a name or a phone number typed into an email box is not taken as an address.
pub fn normalize(raw: &str) -> Option<String> {
    let email = raw.trim().to_lowercase();
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control() || is_invisible_format(c)) {
        return None;
    }
    let (local, domain) = email.rsplit_once('@')?;
    if local.is_empty() || local.len() > 64 || local.contains('@') {
        return None;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let tld_ok = labels.last().is_some_and(|tld| tld.len() >= 2);
    let labels_ok = labels.iter().all(|l| {
        !l.is_empty() && !l.starts_with('-') && !l.ends_with('-') && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    });
    (labels.len() >= 2 && tld_ok && labels_ok).then_some(email)
}

/// Invisible formatting characters (Unicode's format class as it occurs in text): bidi
/// overrides and isolates make `\u{202e}moc.elpmaxe@ada` display as another address in the
/// dashboard, zero-width ones make two addresses that look the same. No mailbox has them.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{ad}' | '\u{61c}' | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206f}' | '\u{feff}')
}

/// Throw-away mailbox providers; an address there lowers a lead's quality.
const DISPOSABLE: &[&str] = &[
    "10minutemail.com",
    "10minutemail.net",
    "20minutemail.com",
    "33mail.com",
    "anonbox.net",
    "burnermail.io",
    "discard.email",
    "discardmail.com",
    "dispostable.com",
    "dropmail.me",
    "emailondeck.com",
    "fakeinbox.com",
    "fakemail.net",
    "getairmail.com",
    "getnada.com",
    "guerrillamail.biz",
    "guerrillamail.com",
    "guerrillamail.de",
    "guerrillamail.info",
    "guerrillamail.net",
    "guerrillamail.org",
    "guerrillamailblock.com",
    "harakirimail.com",
    "inboxbear.com",
    "incognitomail.org",
    "jetable.org",
    "mail-temp.com",
    "mailcatch.com",
    "maildrop.cc",
    "mailinator.com",
    "mailinator.net",
    "mailinator2.com",
    "mailnesia.com",
    "mailpoof.com",
    "mintemail.com",
    "moakt.com",
    "mohmal.com",
    "mytemp.email",
    "nada.email",
    "sharklasers.com",
    "spam4.me",
    "spambog.com",
    "spamgourmet.com",
    "temp-mail.io",
    "temp-mail.org",
    "tempail.com",
    "tempinbox.com",
    "tempmail.com",
    "tempmail.net",
    "tempmailo.com",
    "tempr.email",
    "throwawaymail.com",
    "trashmail.com",
    "trashmail.de",
    "trashmail.net",
    "yopmail.com",
    "yopmail.fr",
    "yopmail.net",
];

pub fn is_disposable(email: &str) -> bool {
    let Some((_, domain)) = email.rsplit_once('@') else {
        return false;
    };
    DISPOSABLE.iter().any(|d| {
        domain == *d
            || (domain.len() > d.len() && domain.ends_with(d) && domain.as_bytes()[domain.len() - d.len() - 1] == b'.')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_case_and_space() {
        assert_eq!(normalize("  Jo.Doe@Example.COM ").as_deref(), Some("jo.doe@example.com"));
    }

    #[test]
    fn rejects_non_addresses() {
        for bad in ["", "jo", "jo@", "@x.com", "jo@x", "jo doe@x.com", "jo@x..com", "jo@-x.com", "+1 555 0100"] {
            assert_eq!(normalize(bad), None, "{bad:?}");
        }
        // Bidi overrides and isolates, zero-width characters, a byte-order mark.
        for bad in ["\u{202e}u6@example.com", "jo\u{200b}@example.com", "jo@exa\u{2066}mple.com", "\u{feff}jo@x.com"] {
            assert_eq!(normalize(bad), None, "{bad:?}");
        }
        assert_eq!(normalize("jöe@exämple.de").as_deref(), Some("jöe@exämple.de"), "other letters stay");
    }

    #[test]
    fn disposable_domains() {
        assert!(is_disposable("a@mailinator.com"));
        assert!(is_disposable("a@eu.yopmail.com"));
        assert!(!is_disposable("a@example.com"));
        assert!(!is_disposable("a@notmailinator.com"));
    }
}
