//! Server-side redaction. It always runs, whatever the tracker already did, because the
//! ingest endpoint is public and any sender may be careless or hostile.
//!
//! Matching is stateless (no `/g` regex state, unlike the original design) and a digit run
//! is only a card number when it is 13–19 digits long *and* passes the Luhn check, so order
//! numbers and phone numbers survive.

use serde_json::{Map, Value};

pub const REDACTED: &str = "[REDACTED]";

/// Words that make a field name sensitive. Compared against the name's words (split on
/// punctuation and camelCase), so `company` or `opinion` never match `pin`.
const SENSITIVE_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passwort",
    "pwd",
    "passcode",
    "ssn",
    "cvv",
    "cvc",
    "cvv2",
    "cvc2",
    "cc",
    "card",
    "creditcard",
    "cardnumber",
    "ccnumber",
    "ccnum",
    "iban",
    "pin",
    "otp",
    "sin",
    "tin",
    "secret",
];

/// Word pairs that make a field name sensitive.
const SENSITIVE_PAIRS: &[(&str, &str)] = &[
    ("social", "security"),
    ("security", "code"),
    ("account", "number"),
    ("routing", "number"),
    ("sort", "code"),
    ("tax", "id"),
    ("credit", "card"),
    ("card", "number"),
    ("expiry", "date"),
    ("exp", "date"),
];

/// Splits a field name into lower-case words: `cardNumber` → `card number`,
/// `cc-exp` → `cc exp`, `your_password2` → `your password`.
pub fn name_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for ch in name.chars() {
        if ch.is_alphabetic() {
            if ch.is_uppercase() && prev_lower && !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            prev_lower = ch.is_lowercase();
            current.extend(ch.to_lowercase());
        } else {
            // Digits and punctuation end a word; trailing digits (`password2`) are dropped.
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            prev_lower = false;
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Keys the tracker and common forms send that are known not to be sensitive; checked
/// first because redaction looks at every key of every event. A `match` rather than a list
/// search, so each comparison is a length check and an inlined compare, not a `memcmp` call.
fn is_known_safe(name: &str) -> bool {
    matches!(
        name,
        "id" | "type"
            | "timestamp"
            | "sessionId"
            | "visitorId"
            | "formId"
            | "formSelector"
            | "formStartedAt"
            | "fields"
            | "trigger"
            | "page"
            | "url"
            | "path"
            | "title"
            | "referrer"
            | "attribution"
            | "landingPage"
            | "metadata"
            | "userAgent"
            | "language"
            | "timezone"
            | "screen"
            | "formProgress"
            | "totalFields"
            | "completedFields"
            | "percentComplete"
            | "fieldName"
            | "fieldType"
            | "fieldValue"
            | "email"
            | "name"
            | "message"
            | "phone"
            | "company"
            | "first_name"
            | "last_name"
            | "firstName"
            | "lastName"
            | "full_name"
            | "comments"
            | "utm_source"
            | "utm_medium"
            | "utm_campaign"
            | "utm_term"
            | "utm_content"
            | "website"
            | "subject"
            | "tel"
    )
}

/// Names written as one word that are still sensitive (`creditcardnumber`, `socialsecurity`).
const SENSITIVE_JOINED: &[&str] = &["password", "creditcard", "cardnumber", "socialsecurity", "securitycode"];

/// True when a field with this name must never be stored.
pub fn is_sensitive_name(name: &str) -> bool {
    if is_known_safe(name) {
        return false;
    }
    if name.len() <= MAX_ASCII_NAME && name.is_ascii() {
        return is_sensitive_ascii_name(name.as_bytes());
    }
    is_sensitive_name_by_words(name)
}

/// The general rule, on the words [`name_words`] makes.
fn is_sensitive_name_by_words(name: &str) -> bool {
    let words = name_words(name);
    if words.iter().any(|w| SENSITIVE_WORDS.contains(&w.as_str())) {
        return true;
    }
    let joined: String = words.concat();
    if SENSITIVE_JOINED.iter().any(|w| joined.contains(w)) {
        return true;
    }
    words.windows(2).any(|pair| SENSITIVE_PAIRS.iter().any(|(a, b)| pair[0] == *a && pair[1] == *b))
}

/// Longest name the allocation-free path takes; longer ones are rare enough for the
/// general one.
const MAX_ASCII_NAME: usize = 64;

/// [`is_sensitive_name_by_words`] for ASCII names, on a stack buffer: field names are
/// checked for every key of every event, and almost all of them are ASCII.
fn is_sensitive_ascii_name(name: &[u8]) -> bool {
    // The letters of the name, lower-cased (the words concatenated); word `i` is
    // `joined[bounds[i]..bounds[i + 1]]`. Split exactly as `name_words` splits.
    let mut joined = [0u8; MAX_ASCII_NAME];
    let mut len = 0;
    let mut bounds = [0u8; MAX_ASCII_NAME + 1];
    let mut words = 0;
    let mut prev_lower = false;
    for &b in name {
        let word_open = len > usize::from(bounds[words]);
        if b.is_ascii_alphabetic() {
            if word_open && b.is_ascii_uppercase() && prev_lower {
                words += 1;
                bounds[words] = len as u8;
            }
            prev_lower = b.is_ascii_lowercase();
            joined[len] = b.to_ascii_lowercase();
            len += 1;
        } else {
            if word_open {
                words += 1;
                bounds[words] = len as u8;
            }
            prev_lower = false;
        }
    }
    if len > usize::from(bounds[words]) {
        words += 1;
        bounds[words] = len as u8;
    }
    let joined = &joined[..len];
    let word = |i: usize| &joined[usize::from(bounds[i])..usize::from(bounds[i + 1])];
    if (0..words).any(|i| SENSITIVE_WORDS.iter().any(|w| w.as_bytes() == word(i))) {
        return true;
    }
    if SENSITIVE_JOINED.iter().any(|w| joined.windows(w.len()).any(|win| win == w.as_bytes())) {
        return true;
    }
    (1..words).any(|i| {
        let (a, b) = (word(i - 1), word(i));
        SENSITIVE_PAIRS.iter().any(|(x, y)| x.as_bytes() == a && y.as_bytes() == b)
    })
}

fn luhn_valid(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(*d);
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// A run of digits in which single spaces or dashes may separate groups, as people type
/// card numbers; Luhn-valid runs of 13–19 digits are cards.
fn contains_card_number(text: &[u8]) -> bool {
    let mut i = 0;
    while i < text.len() {
        if !text[i].is_ascii_digit() || (i > 0 && is_word_byte(text[i - 1])) {
            i += 1;
            continue;
        }
        // Only runs of at most 19 digits can be cards, so longer ones need not be kept.
        let mut digits = [0u8; 19];
        let mut count = 0;
        let mut j = i;
        while j < text.len() {
            let b = text[j];
            if b.is_ascii_digit() {
                if count < digits.len() {
                    digits[count] = b - b'0';
                }
                count += 1;
                j += 1;
            } else if (b == b' ' || b == b'-') && j + 1 < text.len() && text[j + 1].is_ascii_digit() {
                j += 1;
            } else {
                break;
            }
        }
        let bounded = j >= text.len() || !is_word_byte(text[j]);
        if bounded && (13..=19).contains(&count) && luhn_valid(&digits[..count]) {
            return true;
        }
        i = j.max(i + 1);
    }
    false
}

/// `ddd-dd-dddd` standing alone (US Social Security number pattern).
fn contains_ssn(text: &[u8]) -> bool {
    const SHAPE: &[u8] = b"ddd-dd-dddd";
    if text.len() < SHAPE.len() {
        return false;
    }
    (0..=text.len() - SHAPE.len()).any(|start| {
        let window = &text[start..start + SHAPE.len()];
        let shaped = window.iter().zip(SHAPE).all(|(b, s)| if *s == b'd' { b.is_ascii_digit() } else { b == s });
        let end = start + SHAPE.len();
        shaped && (start == 0 || !is_word_byte(text[start - 1])) && (end == text.len() || !is_word_byte(text[end]))
    })
}

/// Two capital letters then 6–8 digits standing alone (common passport number shape).
fn contains_passport(text: &[u8]) -> bool {
    let n = text.len();
    (0..n).any(|start| {
        if start > 0 && is_word_byte(text[start - 1]) {
            return false;
        }
        if start + 2 > n || !text[start].is_ascii_uppercase() || !text[start + 1].is_ascii_uppercase() {
            return false;
        }
        let digits = text[start + 2..].iter().take_while(|b| b.is_ascii_digit()).count();
        let end = start + 2 + digits;
        (6..=8).contains(&digits) && (end == n || !is_word_byte(text[end]))
    })
}

/// True when a value must be replaced by [`REDACTED`].
pub fn is_sensitive_value(text: &str) -> bool {
    let bytes = text.as_bytes();
    // Cheap pre-check: every pattern needs several digits (a passport six, an SSN nine, a
    // card thirteen), and most values have few or none.
    let digits = bytes.iter().filter(|b| b.is_ascii_digit()).count();
    if digits < 6 {
        return false;
    }
    // What each pattern needs beyond a digit count, found in one pass, so that values
    // with many scattered digits (a user agent, a date) skip the scans: an SSN has dashes,
    // a passport number six digits in a row.
    let (mut run, mut longest_run, mut dash) = (0, 0, false);
    for &b in bytes {
        if b.is_ascii_digit() {
            run += 1;
            longest_run = longest_run.max(run);
        } else {
            run = 0;
            dash |= b == b'-';
        }
    }
    (dash && digits >= 9 && contains_ssn(bytes))
        || (digits >= 13 && contains_card_number(bytes))
        || (longest_run >= 6 && contains_passport(bytes))
}

/// Redacts a JSON tree in place: drops object keys with sensitive names and replaces
/// sensitive string values. Returns how many values were dropped or replaced.
pub fn redact_value(value: &mut Value) -> usize {
    match value {
        Value::String(s) if is_sensitive_value(s) => {
            *s = REDACTED.to_string();
            1
        }
        Value::Array(items) => items.iter_mut().map(redact_value).sum(),
        Value::Object(map) => redact_map(map),
        _ => 0,
    }
}

pub fn redact_map(map: &mut Map<String, Value>) -> usize {
    let before = map.len();
    // `retain` walks the map as if removing; most maps have nothing to remove.
    if map.keys().any(|key| is_sensitive_name(key)) {
        map.retain(|key, _| !is_sensitive_name(key));
    }
    let mut count = before - map.len();
    for v in map.values_mut() {
        count += redact_value(v);
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sensitive_names() {
        for name in [
            "password",
            "confirm_password",
            "Password2",
            "pwd",
            "user-passwd",
            "ssn",
            "social_security_number",
            "socialSecurity",
            "credit_card",
            "card_number",
            "cardNumber",
            "cc_number",
            "cc-exp",
            "cvv",
            "cvc",
            "pin",
            "security_code",
            "iban",
            "creditcardnumber",
            "routing_number",
            "account number",
        ] {
            assert!(is_sensitive_name(name), "{name} should be sensitive");
        }
        for name in [
            "email",
            "name",
            "company",
            "opinion",
            "spinach",
            "phone",
            "message",
            "comments",
            "first_name",
            "discard_reason",
            "accounting_contact",
            "cardinal",
            "pinterest_url",
            "your-name",
            "utm_source",
        ] {
            assert!(!is_sensitive_name(name), "{name} should not be sensitive");
        }
    }

    #[test]
    fn sensitive_values() {
        for value in [
            "4111111111111111",
            "4111 1111 1111 1111",
            "4111-1111-1111-1111",
            "my card is 5500 0055 5555 5559 thanks",
            "378282246310005",
            "123-45-6789",
            "ssn: 123-45-6789.",
            "AB1234567",
        ] {
            assert!(is_sensitive_value(value), "{value} should be redacted");
        }
        for value in [
            "4111111111111112",
            "+1-555-0123",
            "+44 20 7946 0958",
            "order 1234567890",
            "2025-10-22",
            "1234-56-78901",
            "hello world",
            "ABC1234567",
            "zip 94107",
        ] {
            assert!(!is_sensitive_value(value), "{value} should stay");
        }
    }

    #[test]
    fn redacts_json_tree() {
        let mut v = serde_json::json!({
            "fields": {"email": "a@b.co", "password": "hunter2", "notes": "card 4111 1111 1111 1111"},
            "page": {"url": "https://x.io/?ssn=123-45-6789"},
            "list": ["ok", "4111111111111111"]
        });
        let n = redact_value(&mut v);
        assert_eq!(n, 4);
        assert_eq!(v["fields"]["email"], "a@b.co");
        assert!(v["fields"].get("password").is_none());
        assert_eq!(v["fields"]["notes"], REDACTED);
        assert_eq!(v["page"]["url"], REDACTED);
        assert_eq!(v["list"][1], REDACTED);
    }

    #[test]
    fn scattered_digits_neither_hide_nor_make_a_pattern() {
        for value in [
            "Mozilla/5.0 (X11; Linux x86_64) AB1234567",
            "v1.2.3 ssn 123-45-6789",
            "1 2 3 card 4111111111111111",
            "2025-10-22 AB123456",
        ] {
            assert!(is_sensitive_value(value), "{value} should be redacted");
        }
        for value in [
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            "2025-10-22T10:30:45.123Z",
            "AB12345 6789",
            "1-2-3-4-5-6-7-8-9",
        ] {
            assert!(!is_sensitive_value(value), "{value} should stay");
        }
    }

    /// The pattern scans alone, without the cheap checks in front of them.
    fn matches_a_pattern(text: &str) -> bool {
        let b = text.as_bytes();
        contains_ssn(b) || contains_card_number(b) || contains_passport(b)
    }

    /// Makes a Luhn-valid number of `len` digits from a random prefix.
    fn with_check_digit(prefix: &[u8]) -> Vec<u8> {
        for check in 0..10u8 {
            let mut d = prefix.to_vec();
            d.push(check);
            if luhn_valid(&d) {
                return d;
            }
        }
        unreachable!("one check digit always fits")
    }

    proptest! {
        #[test]
        fn any_luhn_valid_card_in_text_is_redacted(
            prefix in proptest::collection::vec(0u8..10, 12..=18),
            sep in prop_oneof![Just(""), Just(" "), Just("-")],
            before in "[a-zA-Z ,.:]{0,20}",
            after in "[a-zA-Z ,.:]{0,20}",
        ) {
            let digits = with_check_digit(&prefix);
            let mut number = String::new();
            for (i, d) in digits.iter().enumerate() {
                if i > 0 && i % 4 == 0 { number.push_str(sep); }
                number.push((b'0' + d) as char);
            }
            let text = format!("{before} {number} {after}");
            prop_assert!(is_sensitive_value(&text), "{}", text);
        }

        #[test]
        fn any_ssn_shape_is_redacted(a in 0u32..1000, b in 0u32..100, c in 0u32..10000, ctx in "[a-z ]{0,10}") {
            let text = format!("{ctx} {a:03}-{b:02}-{c:04} {ctx}");
            prop_assert!(is_sensitive_value(&text));
        }

        #[test]
        fn text_with_few_digits_is_never_touched(text in "[^0-9]{0,64}[0-9]{0,5}") {
            prop_assert!(!is_sensitive_value(&text));
        }

        #[test]
        fn pre_checks_never_change_the_answer(text in "[0-9A-Zab .-]{0,40}") {
            prop_assert_eq!(is_sensitive_value(&text), matches_a_pattern(&text));
        }

        #[test]
        fn ascii_names_are_judged_as_by_their_words(
            name in "(pass|word|card|number|social|security|code|pin|ssn|Card|Number|PIN|cc|exp|date|tax|id|Id|[a-zA-Z]{1,4}|[-_ 0-9.]){0,8}"
        ) {
            prop_assert_eq!(is_sensitive_ascii_name(name.as_bytes()), is_sensitive_name_by_words(&name));
        }

        #[test]
        fn redaction_is_idempotent(text in "\\PC{0,80}") {
            let mut v = Value::String(text);
            redact_value(&mut v);
            let once = v.clone();
            redact_value(&mut v);
            prop_assert_eq!(once, v);
        }
    }
}
