//! Events that name a person without belonging to their lead: a shop's sign-in form (the
//! email is the user name, and sign-ins make no lead), a form the rules do not take as a
//! lead form, metadata a server-side sender added. A privacy request (export, erasure) must
//! find those too. Nothing indexes what events contain, so they are found by reading every
//! event of the site: seconds for a site with a million events, which a request made for
//! one person now and then can afford, and which keeps the ingest path free of another index.

use redb::ReadTransaction;
use serde_json::Value;

use super::Result;
use super::queries::{self, EventFilter};
use crate::domain::model::{Event, Id};

/// Every event of `client` with `email` (normalised: trimmed, lower-case) in one of its
/// values, newest first.
pub fn events_mentioning(txn: &ReadTransaction, client: Id, email: &str) -> Result<Vec<Event>> {
    let filter = EventFilter { client_id: Some(client), ..Default::default() };
    let mut found = Vec::new();
    let mut cursor = None;
    loop {
        let page = queries::list_events(txn, &filter, cursor, 500)?;
        found.extend(page.items.into_iter().filter(|e| e.payload.values().any(|v| mentions(v, email))));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(found),
        }
    }
}

fn mentions(value: &Value, email: &str) -> bool {
    match value {
        Value::String(s) => contains_address(s, email),
        Value::Array(items) => items.iter().any(|v| mentions(v, email)),
        Value::Object(map) => map.values().any(|v| mentions(v, email)),
        _ => false,
    }
}

/// Whether `text` holds the address `email` as a whole address, in any case: `a@b.co` is
/// not found in `xa@b.com` (another person's), but is in `Mail: A@B.co, thanks`.
fn contains_address(text: &str, email: &str) -> bool {
    if text.len() < email.len() {
        return false;
    }
    let lower = text.to_lowercase();
    let local_char = |c: char| c.is_alphanumeric() || "._%+-'!#$&*/=?^`{|}~".contains(c);
    let domain_char = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    lower.match_indices(email).any(|(at, _)| {
        let before = lower[..at].chars().next_back();
        let mut after = lower[at + email.len()..].chars();
        let next = after.next();
        // A dot ends an address only when no label follows it (`a@b.co.` at a sentence's end).
        let continues = match next {
            Some('.') => after.next().is_some_and(domain_char),
            Some(c) => domain_char(c),
            None => false,
        };
        !before.is_some_and(local_char) && !continues
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_found_whole_and_in_any_case() {
        for text in ["a@b.co", "A@B.co", "Mail: a@b.co, thanks", "<a@b.co>", "a@b.co.", "\"a@b.co\""] {
            assert!(contains_address(text, "a@b.co"), "{text}");
        }
        for text in ["xa@b.com", "a@b.com", "xa@b.co", "a@b.co.uk", "a.a@b.co", "a@b.co-op.org", "a@b"] {
            assert!(!contains_address(text, "a@b.co"), "{text}");
        }
    }

    #[test]
    fn values_anywhere_in_the_payload_count() {
        let payload = serde_json::json!({"fields": {"log": "Ada@Example.com"}, "list": [1, {"x": "ada@example.com"}]});
        assert!(mentions(&payload["fields"], "ada@example.com"));
        assert!(mentions(&payload["list"], "ada@example.com"));
        assert!(!mentions(&serde_json::json!({"n": 1, "b": true}), "ada@example.com"));
    }
}
