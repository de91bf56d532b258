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
/// first because redaction looks at every key of every event.
const KNOWN_SAFE: &[&str] = &[
    "id",
    "type",
    "timestamp",
    "sessionId",
    "visitorId",
    "formId",
    "formSelector",
    "formStartedAt",
    "fields",
    "trigger",
    "page",
    "url",
    "path",
    "title",
    "referrer",
    "attribution",
    "landingPage",
    "metadata",
    "userAgent",
    "language",
    "timezone",
    "screen",
    "formProgress",
    "totalFields",
    "completedFields",
    "percentComplete",
    "fieldName",
    "fieldType",
    "fieldValue",
    "email",
    "name",
    "message",
    "phone",
    "company",
    "first_name",
    "last_name",
    "firstName",
    "lastName",
    "full_name",
    "comments",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "website",
    "subject",
    "tel",
];

/// True when a field with this name must never be stored.
pub fn is_sensitive_name(name: &str) -> bool {
    if KNOWN_SAFE.contains(&name) {
        return false;
    }
    let words = name_words(name);
    if words.iter().any(|w| SENSITIVE_WORDS.contains(&w.as_str())) {
        return true;
    }
    // A name written as one word (`creditcardnumber`, `socialsecurity`).
    let joined: String = words.concat();
    if ["password", "creditcard", "cardnumber", "socialsecurity", "securitycode"].iter().any(|w| joined.contains(w)) {
        return true;
    }
    words.windows(2).any(|pair| SENSITIVE_PAIRS.iter().any(|(a, b)| pair[0] == *a && pair[1] == *b))
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
        let mut digits = Vec::with_capacity(19);
        let mut j = i;
        while j < text.len() {
            let b = text[j];
            if b.is_ascii_digit() {
                digits.push(b - b'0');
                j += 1;
            } else if (b == b' ' || b == b'-') && j + 1 < text.len() && text[j + 1].is_ascii_digit() {
                j += 1;
            } else {
                break;
            }
        }
        let bounded = j >= text.len() || !is_word_byte(text[j]);
        if bounded && (13..=19).contains(&digits.len()) && luhn_valid(&digits) {
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
        let left_ok = start == 0 || !is_word_byte(text[start - 1]);
        let end = start + SHAPE.len();
        let right_ok = end == text.len() || !is_word_byte(text[end]);
        shaped && left_ok && right_ok
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
    // Cheap pre-check: all three patterns need at least six digits.
    if bytes.iter().filter(|b| b.is_ascii_digit()).count() < 6 {
        return false;
    }
    contains_ssn(bytes) || contains_card_number(bytes) || contains_passport(bytes)
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
    map.retain(|key, _| !is_sensitive_name(key));
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
        fn redaction_is_idempotent(text in "\\PC{0,80}") {
            let mut v = Value::String(text);
            redact_value(&mut v);
            let once = v.clone();
            redact_value(&mut v);
            prop_assert_eq!(once, v);
        }
    }
}
