//! Lone UTF-16 surrogates in JSON text, replaced so the body can be read.
//!
//! A browser's `JSON.stringify` writes a string holding half of a surrogate pair (a page
//! script cut a text in the middle of an emoji, a pasted value) as `\ud83d` with no partner.
//! That is valid JSON text but not valid Unicode, and serde_json refuses the whole body. A
//! refused batch would lose every event in it over one broken character, so the lone half
//! becomes U+FFFD (what browsers show for it), as `\ufffd`: the same six bytes, so every
//! size limit sees the body as it came.

/// The body with each lone surrogate escape replaced by `\ufffd`, or `None` when it has none
/// (then its parse error is a real one).
pub fn repaired(body: &[u8]) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    let mut i = 0;
    while i < body.len() {
        if body[i] != b'\\' {
            i += 1;
            continue;
        }
        // An escape: `\uXXXX` is checked, any other (`\\`, `\"`) is skipped whole, so the
        // `u` of an escaped backslash followed by text is never taken for one.
        let Some(unit) = unit_at(body, i) else {
            i += 2;
            continue;
        };
        let pair =
            (0xD800..0xDC00).contains(&unit) && unit_at(body, i + 6).is_some_and(|l| (0xDC00..0xE000).contains(&l));
        if pair {
            i += 12;
        } else if (0xD800..0xE000).contains(&unit) {
            let out = out.get_or_insert_with(|| body.to_vec());
            out[i..i + 6].copy_from_slice(b"\\ufffd");
            i += 6;
        } else {
            i += 6;
        }
    }
    out
}

/// The UTF-16 code unit of the `\uXXXX` escape starting at `at`, if one does.
fn unit_at(body: &[u8], at: usize) -> Option<u32> {
    let escape = body.get(at..at + 6)?;
    if escape[0] != b'\\' || escape[1] != b'u' {
        return None;
    }
    let hex = std::str::from_utf8(&escape[2..]).ok()?;
    u32::from_str_radix(hex, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(s: &str) -> Option<String> {
        repaired(s.as_bytes()).map(|b| String::from_utf8(b).unwrap())
    }

    #[test]
    fn replaces_only_lone_halves() {
        assert_eq!(fix(r#"{"a":"x\ud800y"}"#).as_deref(), Some(r#"{"a":"x\ufffdy"}"#));
        assert_eq!(fix(r#"{"a":"\udc00"}"#).as_deref(), Some(r#"{"a":"\ufffd"}"#));
        // A high half followed by another high half: both lone.
        assert_eq!(fix(r#"["\uD83D\uD83D"]"#).as_deref(), Some(r#"["\ufffd\ufffd"]"#));
        // A high half at the very end of the text.
        assert_eq!(fix(r#"["\ud83d"#).as_deref(), Some(r#"["\ufffd"#));
        // Pairs, other escapes and an escaped backslash before "ud800" are left alone.
        assert_eq!(fix(r#"{"a":"\ud83d\ude00 \u00e9 \n \" \\ud800"}"#), None);
        assert_eq!(fix(r#"{"a":"plain"}"#), None);
    }

    #[test]
    fn the_repaired_body_parses_to_the_replacement_character() {
        let body = br#"{"k\udfff":"a\ud800b","ok":"\ud83d\ude00"}"#;
        assert!(serde_json::from_slice::<serde_json::Value>(body).is_err());
        let fixed = repaired(body).unwrap();
        assert_eq!(fixed.len(), body.len());
        let v: serde_json::Value = serde_json::from_slice(&fixed).unwrap();
        assert_eq!(v["k\u{fffd}"], "a\u{fffd}b");
        assert_eq!(v["ok"], "\u{1F600}");
    }
}
