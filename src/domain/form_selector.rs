//! The CSS selector of the form an event came from, when the sender gave the form's parts
//! instead of a selector.
//!
//! The tracker sends `formId` (the form's id, else its name), `formName` (its name
//! attribute, `null` when it has none) and `formClass` (its first class) rather than a
//! `formSelector`: building and escaping selectors took a fiftieth of its size budget, and
//! the server can do it for every visitor at once. The selector is the one the tracker
//! used to build: `#id`, else `form[name=…]`, else `form.class`, else `form`.

/// The selector for a form known by these parts, or `None` when there is none to make:
/// no parts at all (a server-side sender), or a `formId` that is a UUID (a form configured
/// on the server, which has its own selectors; discovery falls back to the id then).
pub fn derive(
    form_id: Option<&str>,
    form_name: Option<&str>,
    form_class: Option<&str>,
    tracker: bool,
) -> Option<String> {
    match (form_id, form_name) {
        (Some(id), Some(name)) if id == name => Some(format!("form[name={}]", css_ident(name))),
        (Some(id), _) if uuid::Uuid::parse_str(id).is_ok() => None,
        (Some(id), _) => Some(format!("#{}", css_ident(id))),
        (None, _) => match form_class {
            Some(class) => Some(format!("form.{}", css_ident(class))),
            None => tracker.then(|| "form".to_string()),
        },
    }
}

/// `s` escaped as a CSS identifier, as the browser's `CSS.escape` does (CSSOM "serialize an
/// identifier"), so a selector made here selects what the tracker's would have.
pub fn css_ident(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let leading_digit = c.is_ascii_digit() && (i == 0 || (i == 1 && chars[0] == '-'));
        match c {
            '\0' => out.push('\u{FFFD}'),
            '\u{1}'..='\u{1f}' | '\u{7f}' => {
                out.push_str(&format!("\\{:x} ", u32::from(c)));
            }
            _ if leading_digit => out.push_str(&format!("\\{:x} ", u32::from(c))),
            '-' if i == 0 && chars.len() == 1 => out.push_str("\\-"),
            _ if c >= '\u{80}' || c == '-' || c == '_' || c.is_ascii_alphanumeric() => out.push(c),
            _ => {
                out.push('\\');
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_the_browser_does() {
        // Expected values are what Chromium's CSS.escape returns for the same input.
        assert_eq!(css_ident("contact"), "contact");
        assert_eq!(css_ident("wpcf7-f12-p3"), "wpcf7-f12-p3");
        assert_eq!(css_ident("123"), "\\31 23");
        assert_eq!(css_ident("-1a"), "-\\31 a");
        assert_eq!(css_ident("-"), "\\-");
        assert_eq!(css_ident("a b.c#d"), "a\\ b\\.c\\#d");
        assert_eq!(css_ident("x\"]y"), "x\\\"\\]y");
        assert_eq!(css_ident("a\u{1}b"), "a\\1 b");
        assert_eq!(css_ident("a\0"), "a\u{FFFD}");
        assert_eq!(css_ident("формa"), "формa");
    }

    #[test]
    fn derives_the_trackers_selector() {
        assert_eq!(derive(Some("contact"), Some("c"), Some("x"), true).as_deref(), Some("#contact"));
        assert_eq!(
            derive(Some("newsletter"), Some("newsletter"), None, true).as_deref(),
            Some("form[name=newsletter]")
        );
        assert_eq!(derive(Some("1form"), None, None, true).as_deref(), Some("#\\31 form"));
        assert_eq!(derive(None, None, Some("wpcf7-form"), true).as_deref(), Some("form.wpcf7-form"));
        assert_eq!(derive(None, None, None, true).as_deref(), Some("form"));
        assert_eq!(derive(None, None, None, false), None);
        // A configured form's id: its selectors are the server's own.
        assert_eq!(derive(Some("0193a0b4-7a1b-7c3e-8d2a-6b1c2d3e4f51"), None, None, true), None);
    }
}
