//! Admin input for sites, forms, fields and mappings: parsed into the records, with errors
//! that name the field at fault. Inputs are partial: `None` leaves a value as it is, so the
//! same input serves create (over defaults) and update (over the stored record).

use serde::Deserialize;
use serde_json::{Map, Value};
use thiserror::Error;

use super::mapping::Transform;
use super::model::{Client, ClientConfig, ConsentMode, DiscoveredForm, Field, FieldMapping, Form};
use super::origin;

#[derive(Debug, Error, PartialEq, Clone)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: String,
    pub message: String,
}

/// Tells "key absent" (`None`: leave as is) from "key is null" (`Some(None)`: clear it),
/// which plain `Option<Option<T>>` folds together.
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

fn invalid(field: &str, message: impl Into<String>) -> ValidationError {
    ValidationError { field: field.to_string(), message: message.into() }
}

fn text(field: &str, value: String, max: usize, required: bool) -> Result<String, ValidationError> {
    let value = value.trim().to_string();
    if required && value.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(invalid(field, format!("must be at most {max} characters")));
    }
    Ok(value)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigInput {
    pub allowed_origins: Option<Vec<String>>,
    pub partial_capture: Option<bool>,
    pub consent_mode: Option<ConsentMode>,
    pub retention_days: Option<u32>,
    pub chat_widget: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    pub honeypot_field: Option<Option<String>>,
    /// CRM connectors are edited through `/v1/clients/{id}/crm`; accepted and ignored here so
    /// a client read with GET can be sent back with PUT.
    #[serde(default)]
    pub crm: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientInput {
    pub domain: Option<String>,
    pub name: Option<String>,
    pub is_active: Option<bool>,
    pub config: Option<ConfigInput>,
}

pub fn apply_config(config: &mut ClientConfig, input: ConfigInput) -> Result<(), ValidationError> {
    if let Some(origins) = input.allowed_origins {
        let mut out = Vec::new();
        for (i, o) in origins.iter().enumerate() {
            if o.trim().is_empty() {
                continue;
            }
            let normalized = origin::normalize_origin(o).ok_or_else(|| {
                invalid(
                    &format!("config.allowedOrigins[{i}]"),
                    format!("{o:?} is not an origin like https://app.example.com"),
                )
            })?;
            if !out.contains(&normalized) {
                out.push(normalized);
            }
        }
        config.allowed_origins = out;
    }
    if let Some(p) = input.partial_capture {
        config.partial_capture = p;
    }
    if let Some(c) = input.consent_mode {
        config.consent_mode = c;
    }
    if let Some(days) = input.retention_days {
        if !(1..=3650).contains(&days) {
            return Err(invalid("config.retentionDays", "must be between 1 and 3650 days"));
        }
        config.retention_days = days;
    }
    if let Some(c) = input.chat_widget {
        config.chat_widget = c;
    }
    if let Some(h) = input.honeypot_field {
        config.honeypot_field = match h {
            Some(name) if !name.trim().is_empty() => {
                let name = text("config.honeypotField", name, 100, true)?;
                // Such fields are dropped before the lead rules look for the honeypot.
                if super::redact::is_dropped_key(&name) {
                    return Err(invalid(
                        "config.honeypotField",
                        "is a name the server drops as sensitive or machine-made (a password, card or CAPTCHA \
                         field), so the honeypot would never be seen; name it like website or url",
                    ));
                }
                Some(name)
            }
            _ => None,
        };
    }
    Ok(())
}

pub fn apply_client(client: &mut Client, input: ClientInput) -> Result<(), ValidationError> {
    if let Some(domain) = input.domain {
        client.domain = origin::normalize_domain(&domain)
            .ok_or_else(|| invalid("domain", format!("{domain:?} is not a domain name like example.com")))?;
        if let Some(problem) = origin::shared_suffix_problem(&client.domain) {
            return Err(invalid("domain", problem));
        }
    }
    if client.domain.is_empty() {
        return Err(invalid("domain", "is required, e.g. \"example.com\""));
    }
    if let Some(name) = input.name {
        client.name = text("name", name, 200, false)?;
    }
    if client.name.is_empty() {
        client.name = client.domain.clone();
    }
    if let Some(active) = input.is_active {
        client.is_active = active;
    }
    if let Some(config) = input.config {
        apply_config(&mut client.config, config)?;
    }
    Ok(())
}

/// CSS selectors are sent to browsers as data; their size and shape are checked here, so
/// that one a browser would refuse (and so never match) is refused when it is saved.
fn selector(field: &str, value: String) -> Result<String, ValidationError> {
    let value = text(field, value, 500, true)?;
    if value.contains(['{', '}', '<']) {
        return Err(invalid(field, "must be a CSS selector such as #contact or form.signup"));
    }
    if let Some(problem) = selector_problem(&value) {
        return Err(invalid(field, format!("is not a CSS selector a browser accepts: {problem}")));
    }
    Ok(value)
}

/// What makes browsers refuse a selector, found without a full CSS parser: unbalanced
/// brackets or quotes, an empty part of a list, a dangling combinator, or `#`/`.` without a
/// name (or with one starting with a digit, which CSS does not allow unescaped).
fn selector_problem(s: &str) -> Option<&'static str> {
    let mut quote: Option<char> = None;
    let mut open: Vec<char> = Vec::new();
    // Where each part of the list (between top-level commas) starts.
    let mut starts = vec![0];
    let mut chars = s.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c == '\\' {
            chars.next();
            continue;
        }
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '[' | '(' => open.push(c),
            ']' | ')' => {
                let expected = if c == ']' { '[' } else { '(' };
                if open.pop() != Some(expected) {
                    return Some("a ] or ) closes nothing");
                }
            }
            ',' if open.is_empty() => starts.push(at + 1),
            '#' | '.' if open.is_empty() => {
                let starts_name = chars
                    .peek()
                    .is_some_and(|&(_, n)| n.is_alphabetic() || matches!(n, '-' | '_' | '\\') || !n.is_ascii());
                if !starts_name {
                    return Some(
                        "# and . need a name that does not start with a digit (for id=\"123\" write [id=\"123\"])",
                    );
                }
            }
            _ => {}
        }
    }
    if quote.is_some() {
        return Some("a quote is not closed");
    }
    if !open.is_empty() {
        return Some("a [ or ( is not closed");
    }
    let ends = starts.iter().skip(1).map(|&next| next - 1).chain([s.len()]);
    for (start, end) in starts.iter().zip(ends) {
        let part = s[*start..end].trim();
        if part.is_empty() {
            return Some("a part of the list is empty (two commas, or one at an end)");
        }
        if part.starts_with(['>', '+', '~']) || part.ends_with(['>', '+', '~']) {
            return Some("it starts or ends with a combinator (>, + or ~)");
        }
    }
    None
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FormInput {
    pub form_name: Option<String>,
    pub page_url: Option<String>,
    pub form_selector: Option<String>,
    pub alternative_selectors: Option<Vec<String>>,
    pub is_active: Option<bool>,
    pub metadata: Option<Map<String, Value>>,
}

/// A form's page: a web address or a path on the site, never another scheme (`javascript:`,
/// `data:`).
fn page_url(v: String) -> Result<String, ValidationError> {
    let v = text("pageUrl", v, 2000, false)?;
    let path = v.starts_with('/') && !v.starts_with("//");
    if !v.is_empty() && !path && !super::page_urls::is_web_url(&v) {
        return Err(invalid(
            "pageUrl",
            "must be an http:// or https:// address or a path on the site, e.g. \"/contact\"",
        ));
    }
    Ok(v)
}

/// What a configured form takes over from a discovered one, which visitors reported, so
/// anything may be in it: the name given, else the sender's form id or the selector, and the
/// page URL and field names, each only where a configured form or field accepts it (a page
/// URL over the limit is left out, not a reason to refuse the promotion, nor to leave a
/// form with half its fields).
pub fn promotion(found: &DiscoveredForm, name: Option<String>) -> (FormInput, Vec<String>) {
    let form_name = match name.filter(|n| !n.trim().is_empty()) {
        // The admin's own name: refused with its own error if it is not one.
        Some(name) => name,
        None => [found.form_ref.as_deref(), Some(found.selector.as_str())]
            .into_iter()
            .flatten()
            .find(|n| text("formName", n.to_string(), 200, true).is_ok())
            .map_or_else(|| "Discovered form".to_string(), str::to_string),
    };
    let input = FormInput {
        form_name: Some(form_name),
        page_url: found.page_url.clone().filter(|u| page_url(u.clone()).is_ok()),
        form_selector: Some(found.selector.clone()),
        ..Default::default()
    };
    let fields = found.field_names.iter().filter(|n| text("fieldName", n.to_string(), 200, true).is_ok()).cloned();
    (input, fields.collect())
}

pub fn apply_form(form: &mut Form, input: FormInput) -> Result<(), ValidationError> {
    if let Some(v) = input.form_name {
        form.form_name = text("formName", v, 200, true)?;
    }
    if let Some(v) = input.page_url {
        form.page_url = page_url(v)?;
    }
    if let Some(v) = input.form_selector {
        form.form_selector = selector("formSelector", v)?;
    }
    if let Some(list) = input.alternative_selectors {
        if list.len() > 20 {
            return Err(invalid("alternativeSelectors", "may hold at most 20 selectors"));
        }
        form.alternative_selectors = list
            .into_iter()
            .enumerate()
            .map(|(i, s)| selector(&format!("alternativeSelectors[{i}]"), s))
            .collect::<Result<_, _>>()?;
    }
    if let Some(v) = input.is_active {
        form.is_active = v;
    }
    if let Some(v) = input.metadata {
        form.metadata = v;
    }
    if form.form_name.is_empty() {
        return Err(invalid("formName", "is required"));
    }
    if form.form_selector.is_empty() {
        return Err(invalid("formSelector", "is required, e.g. \"#contact-form\""));
    }
    Ok(())
}

const FIELD_TYPES: &[&str] =
    &["text", "email", "phone", "tel", "number", "textarea", "select", "checkbox", "radio", "date", "url", "hidden"];

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldInput {
    pub field_selector: Option<String>,
    pub field_name: Option<String>,
    pub field_type: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub label: Option<Option<String>>,
    pub is_required: Option<bool>,
    pub validation_rules: Option<Map<String, Value>>,
    pub order: Option<i32>,
}

pub fn apply_field(field: &mut Field, input: FieldInput) -> Result<(), ValidationError> {
    if let Some(v) = input.field_selector {
        field.field_selector = selector("fieldSelector", v)?;
    }
    if let Some(v) = input.field_name {
        field.field_name = text("fieldName", v, 200, true)?;
    }
    if let Some(v) = input.field_type {
        let v = v.trim().to_ascii_lowercase();
        if !FIELD_TYPES.contains(&v.as_str()) {
            return Err(invalid("fieldType", format!("must be one of {}", FIELD_TYPES.join(", "))));
        }
        field.field_type = v;
    }
    if let Some(v) = input.label {
        field.label = v.map(|l| text("label", l, 200, false)).transpose()?.filter(|l| !l.is_empty());
    }
    if let Some(v) = input.is_required {
        field.is_required = v;
    }
    if let Some(v) = input.validation_rules {
        field.validation_rules = v;
    }
    if let Some(v) = input.order {
        field.order = v;
    }
    if field.field_name.is_empty() {
        return Err(invalid("fieldName", "is required"));
    }
    if field.field_selector.is_empty() {
        field.field_selector = format!("[name={}]", css_string(&field.field_name));
    }
    if field.field_type.is_empty() {
        field.field_type = "text".into();
    }
    Ok(())
}

/// `value` as a CSS string: in double quotes, with `\` and `"` escaped and line breaks as
/// hex escapes, so `[name=…]` matches the very name (a quote deleted instead would match
/// another, or none).
fn css_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\u{c}' => out.push_str(&format!("\\{:x} ", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MappingInput {
    pub target_entity: Option<String>,
    pub target_field: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub transform: Option<Option<String>>,
    pub is_required: Option<bool>,
}

fn crm_name(field: &str, value: String) -> Result<String, ValidationError> {
    let value = text(field, value, 100, true)?;
    if !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
        return Err(invalid(
            field,
            "may hold only letters, digits, '_' and '.' (a CRM API name such as Email or Budget__c)",
        ));
    }
    Ok(value)
}

pub fn apply_mapping(mapping: &mut FieldMapping, input: MappingInput) -> Result<(), ValidationError> {
    if let Some(v) = input.target_entity {
        mapping.target_entity = crm_name("targetEntity", v)?;
    }
    if let Some(v) = input.target_field {
        mapping.target_field = crm_name("targetField", v)?;
    }
    if let Some(v) = input.transform {
        let parsed = Transform::parse(v.as_deref()).map_err(|e| invalid("transform", e.to_string()))?;
        mapping.transform = if parsed == Transform::None { None } else { v.map(|t| t.trim().to_string()) };
    }
    if let Some(v) = input.is_required {
        mapping.is_required = v;
    }
    if mapping.target_entity.is_empty() {
        mapping.target_entity = "Lead".into();
    }
    if mapping.target_field.is_empty() {
        return Err(invalid("targetField", "is required, e.g. \"Email\""));
    }
    Ok(())
}

#[cfg(test)]
mod tests {

    #[test]
    fn selectors_a_browser_refuses_are_refused() {
        for ok in [
            "#contact",
            "form.signup",
            "form[name=\"contact\"]",
            "form[data-x=\"a&b\"] > .c",
            "#hsForm_1a2b, .wpcf7-form",
            "div.x:not(.y) input[type=email]",
            "[id=\"123\"]",
            "#\\31 23",
            "form[action*='/contact']",
            "#kontakt-formular-é",
        ] {
            assert_eq!(selector_problem(ok), None, "{ok}");
        }
        for bad in ["###[[", "form[name=x", "form)", "#123", "form.", "a,,b", "a,", "> form", "form >", "[title='x]"] {
            assert!(selector_problem(bad).is_some(), "{bad}");
        }
    }
    use super::*;

    #[test]
    fn a_fields_default_selector_matches_its_very_name() {
        let mut field = Field::default();
        let input: FieldInput = serde_json::from_value(serde_json::json!({"fieldName": "say \"hi\" \\o/"})).unwrap();
        apply_field(&mut field, input).unwrap();
        assert_eq!(field.field_selector, r#"[name="say \"hi\" \\o/"]"#);
        assert_eq!(selector_problem(&field.field_selector), None);
        assert_eq!(css_string("a\nb"), "\"a\\a b\"");
    }

    #[test]
    fn client_input_names_the_bad_field() {
        let mut c = Client::default();
        let input: ClientInput = serde_json::from_value(serde_json::json!({"domain": "bad domain"})).unwrap();
        assert_eq!(apply_client(&mut c, input).unwrap_err().field, "domain");

        let input: ClientInput = serde_json::from_value(serde_json::json!({
            "domain": "Example.com", "config": {"allowedOrigins": ["https://ok.io", "nope"]}
        }))
        .unwrap();
        assert_eq!(apply_client(&mut c, input).unwrap_err().field, "config.allowedOrigins[1]");

        let input: ClientInput = serde_json::from_value(serde_json::json!({"domain": "https://Example.com/"})).unwrap();
        apply_client(&mut c, input).unwrap();
        assert_eq!((c.domain.as_str(), c.name.as_str()), ("example.com", "example.com"));
    }

    #[test]
    fn mapping_transform_is_checked() {
        let mut m = FieldMapping::default();
        let input: MappingInput =
            serde_json::from_value(serde_json::json!({"targetField": "Email", "transform": "shout"})).unwrap();
        let err = apply_mapping(&mut m, input).unwrap_err();
        assert_eq!(err.field, "transform");
        assert!(err.message.contains("unknown transform"));
        let input: MappingInput =
            serde_json::from_value(serde_json::json!({"targetField": "Email", "transform": "lowercase"})).unwrap();
        apply_mapping(&mut m, input).unwrap();
        assert_eq!((m.target_entity.as_str(), m.transform.as_deref()), ("Lead", Some("lowercase")));
    }

    #[test]
    fn null_clears_and_absent_keeps() {
        let mut c = Client { domain: "a.com".into(), ..Default::default() };
        c.config.honeypot_field = Some("website".into());
        let keep: ClientInput =
            serde_json::from_value(serde_json::json!({"config": {"partialCapture": false}})).unwrap();
        apply_client(&mut c, keep).unwrap();
        assert_eq!(c.config.honeypot_field.as_deref(), Some("website"));
        for dropped in ["captcha_answer", "password_confirm"] {
            let input: ClientInput =
                serde_json::from_value(serde_json::json!({"config": {"honeypotField": dropped}})).unwrap();
            assert_eq!(apply_client(&mut c.clone(), input).unwrap_err().field, "config.honeypotField", "{dropped}");
        }
        let clear: ClientInput =
            serde_json::from_value(serde_json::json!({"config": {"honeypotField": null, "crm": {"x": 1}}})).unwrap();
        apply_client(&mut c, clear).unwrap();
        assert_eq!(c.config.honeypot_field, None);
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(serde_json::from_value::<FormInput>(serde_json::json!({"formname": "x"})).is_err());
    }
}
