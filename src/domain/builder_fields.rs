//! What form builders put among a form's fields that is theirs, not the visitor's: state
//! kept where the tracker cannot tell it from a field, and prefixes on the names the site
//! owner gave. A lead keeps the visitor's fields under the owner's names; the event keeps
//! what was sent.

use std::borrow::Cow;

use super::model::Fields;

/// Names of the state Zoho CRM's web forms keep in text inputs hidden by a style (not in
/// hidden inputs, which the tracker leaves out): the form's two keys, the module
/// (`TGVhZHM=`, "Leads" in base64) and the page to return to. Only a form with one of the
/// keys loses the other two names: `actionType` alone may be a field of another form.
const ZOHO_FORM_KEYS: &[&str] = &["xnQsjsdp", "xmIwtLD"];
const ZOHO_FORM_STATE: &[&str] = &["xnQsjsdp", "xmIwtLD", "actionType", "returnURL"];

/// Divi's contact form names a field `et_pb_contact_<field id>_<form number>`; the field id
/// is what the site owner called it (`email`, `phone`, `company_name`).
const DIVI_PREFIX: &str = "et_pb_contact_";

/// The fields of an event as a lead keeps them: without a builder's state, and, unless the
/// form is configured (its fields and CRM mappings name the fields as sent), under the names
/// the site owner gave them, in the order sent. A renamed field never replaces one sent
/// under that name. Borrowed, not copied, when there is nothing to change (almost every
/// form).
pub fn lead_fields(fields: &Fields, configured: bool) -> Cow<'_, Fields> {
    let is_in = |set: &[&str], name: &str| set.iter().any(|s| s.eq_ignore_ascii_case(name));
    let zoho = fields.keys().any(|k| is_in(ZOHO_FORM_KEYS, k));
    fn divi_id(name: &str, configured: bool) -> Option<&str> {
        if configured { None } else { divi_field_id(name) }
    }
    if !zoho && !fields.keys().any(|k| divi_id(k, configured).is_some()) {
        return Cow::Borrowed(fields);
    }
    let mut out = Fields::with_capacity(fields.len());
    for (name, value) in fields {
        if zoho && is_in(ZOHO_FORM_STATE, name) {
            continue;
        }
        let key = match divi_id(name, configured) {
            Some(id) if !fields.contains_key(id) && !out.contains_key(id) => id,
            _ => name.as_str(),
        };
        out.insert(key.to_string(), value.clone());
    }
    Cow::Owned(out)
}

/// `email` of `et_pb_contact_email_0`.
fn divi_field_id(name: &str) -> Option<&str> {
    let (id, number) = name.strip_prefix(DIVI_PREFIX)?.rsplit_once('_')?;
    (!id.is_empty() && !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit())).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::fields_of as fields;

    #[test]
    fn zoho_web_form_state_is_dropped_only_from_zoho_forms() {
        let zoho_sent = fields(&[
            ("xnqsjsdp", "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"),
            ("xmiwtld", "f6e5d4c3b2a1f6e5d4c3b2a1f6e5d4c3"),
            ("actiontype", "TGVhZHM="),
            ("returnurl", "https://example.com/thanks"),
            ("email", "zoho@example.com"),
            ("last_name", "Bartik"),
        ]);
        let zoho = lead_fields(&zoho_sent, false);
        assert_eq!(zoho.keys().collect::<Vec<_>>(), ["email", "last_name"]);
        let other_sent = fields(&[("actionType", "Quote"), ("email", "a@example.org")]);
        let other = lead_fields(&other_sent, false);
        assert_eq!(other.get("actionType").map(String::as_str), Some("Quote"));
    }

    #[test]
    fn divi_names_lose_their_prefix_and_form_number() {
        let divi_sent = fields(&[
            ("et_pb_contact_name_0", "Hedy Lamarr"),
            ("et_pb_contact_company_name_1", "MGM"),
            ("et_pb_contact_email_0", "hedy@example.com"),
            ("email", "other@example.com"),
            ("et_pb_contact_", "x"),
            ("et_pb_contact_notes", "y"),
        ]);
        let divi = lead_fields(&divi_sent, false);
        assert_eq!(divi.get("name").map(String::as_str), Some("Hedy Lamarr"));
        assert_eq!(divi.get("company_name").map(String::as_str), Some("MGM"));
        assert_eq!(divi.get("email").map(String::as_str), Some("other@example.com"), "a sent field stays");
        assert_eq!(divi.get("et_pb_contact_email_0").map(String::as_str), Some("hedy@example.com"));
        assert!(divi.contains_key("et_pb_contact_") && divi.contains_key("et_pb_contact_notes"), "{divi:?}");
        let order = ["name", "company_name", "et_pb_contact_email_0", "email", "et_pb_contact_", "et_pb_contact_notes"];
        assert_eq!(divi.keys().collect::<Vec<_>>(), order, "in the order sent");
        let plain = fields(&[("email", "a@example.org")]);
        assert!(matches!(lead_fields(&plain, false), Cow::Borrowed(_)), "nothing to change: not copied");
        // A configured form's fields and mappings name the fields as sent.
        let configured = lead_fields(&divi_sent, true);
        assert_eq!(configured.get("et_pb_contact_name_0").map(String::as_str), Some("Hedy Lamarr"));
        assert!(matches!(configured, Cow::Borrowed(_)));
    }
}
