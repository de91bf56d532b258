//! From captured form fields to lead attributes: configured field mappings first, then
//! name heuristics, then (for email only) the shape of the value.
//!
//! The same [`Transform`]s serve the CRM connectors.

use std::collections::BTreeMap;
use thiserror::Error;

use super::email;
use super::redact::name_words;

/// The contact attributes a lead has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LeadAttr {
    Email,
    Name,
    FirstName,
    LastName,
    Phone,
    Company,
    Message,
}

impl LeadAttr {
    /// Reads a mapping's `targetField` (`Email`, `FirstName`, `first_name`, `MobilePhone`…).
    pub fn from_target_field(target: &str) -> Option<Self> {
        let key: String = target.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase();
        Some(match key.as_str() {
            "email" | "emailaddress" => LeadAttr::Email,
            "name" | "fullname" => LeadAttr::Name,
            "firstname" | "givenname" => LeadAttr::FirstName,
            "lastname" | "surname" | "familyname" => LeadAttr::LastName,
            "phone" | "mobilephone" | "mobile" | "telephone" => LeadAttr::Phone,
            "company" | "organization" | "organisation" | "account" | "accountname" => LeadAttr::Company,
            "message" | "description" | "comments" | "notes" => LeadAttr::Message,
            _ => return None,
        })
    }

    /// Guesses the attribute from a form field's name (`your-email`, `fname`, `tel`…).
    pub fn from_field_name(name: &str) -> Option<Self> {
        // The usual names first, without splitting into words.
        match name {
            "email" | "Email" | "EMAIL" => return Some(LeadAttr::Email),
            "name" | "Name" | "full_name" | "fullname" => return Some(LeadAttr::Name),
            "message" | "Message" | "comments" => return Some(LeadAttr::Message),
            "phone" | "Phone" | "tel" => return Some(LeadAttr::Phone),
            "company" | "Company" => return Some(LeadAttr::Company),
            "first_name" | "firstName" | "fname" => return Some(LeadAttr::FirstName),
            "last_name" | "lastName" | "lname" => return Some(LeadAttr::LastName),
            _ => {}
        }
        let words = name_words(name);
        let has = |w: &str| words.iter().any(|x| x == w);
        let any = |list: &[&str]| list.iter().any(|w| has(w));
        let joined = words.concat();
        // English first, then the words sites in other languages use most (German, French,
        // Spanish, Italian, Portuguese, Dutch), matched as whole words.
        if any(&["email", "mail", "correo", "courriel"]) || joined.contains("email") || joined == "epost" {
            return Some(LeadAttr::Email);
        }
        if any(&[
            "company",
            "organization",
            "organisation",
            "business",
            "org",
            "firma",
            "unternehmen",
            "entreprise",
            "societe",
            "société",
            "empresa",
            "azienda",
            "bedrijf",
        ]) || joined == "companyname"
        {
            return Some(LeadAttr::Company);
        }
        if any(&["first", "fname", "given", "vorname", "prenom", "prénom", "voornaam"])
            || joined == "firstname"
            || joined == "givenname"
        {
            return Some(LeadAttr::FirstName);
        }
        if any(&[
            "last",
            "lname",
            "surname",
            "family",
            "nachname",
            "apellido",
            "apellidos",
            "cognome",
            "achternaam",
            "sobrenome",
        ]) || joined == "lastname"
        {
            return Some(LeadAttr::LastName);
        }
        if any(&["tel", "mobile", "cell", "mobil", "movil", "móvil", "celular", "telefono", "teléfono", "telefone"])
            || joined.contains("phone")
            || joined.contains("telefon")
            || joined.contains("telefoon")
        {
            return Some(LeadAttr::Phone);
        }
        if any(&[
            "message",
            "comments",
            "comment",
            "msg",
            "inquiry",
            "enquiry",
            "question",
            "details",
            "help",
            "note",
            "notes",
            "description",
            "nachricht",
            "anfrage",
            "kommentar",
            "commentaire",
            "mensaje",
            "consulta",
            "comentario",
            "messaggio",
            "mensagem",
            "bericht",
        ]) {
            return Some(LeadAttr::Message);
        }
        let is_user = has("user") || has("username") || has("login") || has("file");
        if !is_user && (any(&["name", "nombre", "nom", "nome", "naam"]) || joined == "fullname" || joined == "yourname")
        {
            return Some(LeadAttr::Name);
        }
        None
    }
}

#[derive(Debug, Error, PartialEq)]
pub enum TransformError {
    #[error(
        "unknown transform {0:?}; use one of: lowercase, uppercase, trim, titleCase, digitsOnly, splitName, default:<value>, truncate:<length>"
    )]
    Unknown(String),
    #[error("transform truncate needs a positive length, as in truncate:80 (got {0:?})")]
    BadLength(String),
    #[error("transform default needs a value, as in default:Website")]
    EmptyDefault,
}

/// A value transform of a field mapping (original FieldMapping.transform).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transform {
    None,
    Lowercase,
    Uppercase,
    Trim,
    TitleCase,
    DigitsOnly,
    /// `Ada King Lovelace` → first name `Ada`, last name `King Lovelace`.
    SplitName,
    /// Used when the captured value is empty.
    Default(String),
    /// At most this many characters.
    Truncate(usize),
}

/// What a transform makes of one value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transformed {
    Value(String),
    Name { first: String, last: String },
    Empty,
}

impl Transform {
    pub fn parse(text: Option<&str>) -> Result<Self, TransformError> {
        let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(Transform::None);
        };
        if let Some(value) = text.strip_prefix("default:") {
            if value.is_empty() {
                return Err(TransformError::EmptyDefault);
            }
            return Ok(Transform::Default(value.to_string()));
        }
        if let Some(len) = text.strip_prefix("truncate:") {
            return match len.trim().parse::<usize>() {
                Ok(n) if n > 0 => Ok(Transform::Truncate(n)),
                _ => Err(TransformError::BadLength(len.to_string())),
            };
        }
        Ok(match text {
            "none" => Transform::None,
            "lowercase" => Transform::Lowercase,
            "uppercase" => Transform::Uppercase,
            "trim" => Transform::Trim,
            "titleCase" => Transform::TitleCase,
            "digitsOnly" => Transform::DigitsOnly,
            "splitName" => Transform::SplitName,
            other => return Err(TransformError::Unknown(other.to_string())),
        })
    }

    pub fn apply(&self, value: &str) -> Transformed {
        let out = match self {
            Transform::None => value.to_string(),
            Transform::Lowercase => value.to_lowercase(),
            Transform::Uppercase => value.to_uppercase(),
            Transform::Trim => value.trim().to_string(),
            Transform::TitleCase => value
                .split_whitespace()
                .map(|w| {
                    let mut chars = w.chars();
                    match chars.next() {
                        Some(c) => c.to_uppercase().chain(chars.flat_map(char::to_lowercase)).collect(),
                        None => String::new(),
                    }
                })
                .collect::<Vec<String>>()
                .join(" "),
            Transform::DigitsOnly => {
                let plus = value.trim_start().starts_with('+');
                let digits: String = value.chars().filter(char::is_ascii_digit).collect();
                if plus && !digits.is_empty() { format!("+{digits}") } else { digits }
            }
            Transform::SplitName => {
                let mut parts = value.split_whitespace();
                let first = parts.next().unwrap_or("").to_string();
                let last = parts.collect::<Vec<_>>().join(" ");
                if first.is_empty() {
                    return Transformed::Empty;
                }
                return Transformed::Name { first, last };
            }
            Transform::Default(default) => {
                if value.trim().is_empty() {
                    default.clone()
                } else {
                    value.to_string()
                }
            }
            Transform::Truncate(n) => value.chars().take(*n).collect(),
        };
        if out.is_empty() { Transformed::Empty } else { Transformed::Value(out) }
    }
}

/// A configured field of a configured form, with its mapping when it has one.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRule {
    pub field_name: String,
    pub target_field: Option<String>,
    pub transform: Transform,
}

/// Contact attributes picked from a set of fields.
pub type Contact = BTreeMap<LeadAttr, String>;

fn set_from(contact: &mut Contact, attr: LeadAttr, out: Transformed) {
    match out {
        Transformed::Value(v) => {
            contact.insert(attr, v);
        }
        Transformed::Name { first, last } => {
            if attr == LeadAttr::Name {
                contact.insert(LeadAttr::Name, format!("{first} {last}").trim().to_string());
            }
            contact.insert(LeadAttr::FirstName, first);
            if !last.is_empty() {
                contact.insert(LeadAttr::LastName, last);
            }
        }
        Transformed::Empty => {}
    }
}

/// Picks contact attributes. Configured mappings win; heuristics fill what is left; an
/// email-shaped value in an unnamed field (`input_3`) is taken as the email last.
pub fn extract_contact(fields: &BTreeMap<String, String>, rules: &[FieldRule]) -> Contact {
    let mut contact = Contact::new();
    let mut mapped_names = Vec::new();
    for rule in rules {
        let Some(attr) = rule.target_field.as_deref().and_then(LeadAttr::from_target_field) else {
            continue;
        };
        let value = fields.get(&rule.field_name).map(String::as_str).unwrap_or("");
        set_from(&mut contact, attr, rule.transform.apply(value));
        mapped_names.push(rule.field_name.as_str());
    }
    for (name, value) in fields {
        if mapped_names.contains(&name.as_str()) {
            continue;
        }
        if let Some(attr) = LeadAttr::from_field_name(name) {
            // The first field of a kind wins (`email` before `email_confirm`).
            contact.entry(attr).or_insert_with(|| value.clone());
        }
    }
    let email_ok = contact.get(&LeadAttr::Email).and_then(|e| email::normalize(e));
    match email_ok {
        Some(e) => {
            contact.insert(LeadAttr::Email, e);
        }
        None => {
            contact.remove(&LeadAttr::Email);
            if let Some(found) = fields.values().find_map(|v| email::normalize(v)) {
                contact.insert(LeadAttr::Email, found);
            }
        }
    }
    // A full name alone still gives first and last names.
    if let Some(name) = contact.get(&LeadAttr::Name).cloned() {
        if !contact.contains_key(&LeadAttr::FirstName)
            && !contact.contains_key(&LeadAttr::LastName)
            && let Transformed::Name { first, last } = Transform::SplitName.apply(&name)
        {
            contact.insert(LeadAttr::FirstName, first);
            if !last.is_empty() {
                contact.insert(LeadAttr::LastName, last);
            }
        }
    } else if let Some(first) = contact.get(&LeadAttr::FirstName) {
        let full = match contact.get(&LeadAttr::LastName) {
            Some(last) => format!("{first} {last}"),
            None => first.clone(),
        };
        contact.insert(LeadAttr::Name, full);
    }
    contact
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn heuristics_cover_common_builders() {
        let cases: &[(&str, LeadAttr)] = &[
            ("email", LeadAttr::Email),
            ("your-email", LeadAttr::Email),
            ("EmailAddress", LeadAttr::Email),
            ("e_mail", LeadAttr::Email),
            ("name", LeadAttr::Name),
            ("your-name", LeadAttr::Name),
            ("full_name", LeadAttr::Name),
            ("fname", LeadAttr::FirstName),
            ("firstname", LeadAttr::FirstName),
            ("first_name", LeadAttr::FirstName),
            ("lname", LeadAttr::LastName),
            ("LastName", LeadAttr::LastName),
            ("phone", LeadAttr::Phone),
            ("tel", LeadAttr::Phone),
            ("mobile_phone", LeadAttr::Phone),
            ("company", LeadAttr::Company),
            ("company_name", LeadAttr::Company),
            ("organization", LeadAttr::Company),
            ("message", LeadAttr::Message),
            ("comments", LeadAttr::Message),
            ("your-message", LeadAttr::Message),
            ("how_can_we_help", LeadAttr::Message),
            ("additional_notes", LeadAttr::Message),
            ("project_description", LeadAttr::Message),
            ("telefon", LeadAttr::Phone),
            ("telefonnummer", LeadAttr::Phone),
            ("cellphone", LeadAttr::Phone),
            ("vorname", LeadAttr::FirstName),
            ("nachname", LeadAttr::LastName),
            ("prénom", LeadAttr::FirstName),
            ("nom", LeadAttr::Name),
            ("nom_entreprise", LeadAttr::Company),
            ("nombre", LeadAttr::Name),
            ("correo_electronico", LeadAttr::Email),
            ("ihre_nachricht", LeadAttr::Message),
            ("mensaje", LeadAttr::Message),
        ];
        for (name, attr) in cases {
            assert_eq!(LeadAttr::from_field_name(name), Some(*attr), "{name}");
        }
        for name in ["username", "user_name", "file_name", "budget", "utm_source"] {
            assert_eq!(LeadAttr::from_field_name(name), None, "{name}");
        }
    }

    #[test]
    fn email_found_by_value_when_names_say_nothing() {
        let c = extract_contact(&fields(&[("input_1", "Ada Lovelace"), ("input_2", " ADA@Example.org")]), &[]);
        assert_eq!(c.get(&LeadAttr::Email).map(String::as_str), Some("ada@example.org"));
    }

    #[test]
    fn configured_mapping_wins_and_split_name() {
        let rules = vec![
            FieldRule {
                field_name: "input_1".into(),
                target_field: Some("Name".into()),
                transform: Transform::SplitName,
            },
            FieldRule {
                field_name: "input_9".into(),
                target_field: Some("Company".into()),
                transform: Transform::Uppercase,
            },
        ];
        let c = extract_contact(
            &fields(&[("input_1", "Ada King Lovelace"), ("input_9", "acme"), ("company", "other")]),
            &rules,
        );
        assert_eq!(c.get(&LeadAttr::FirstName).map(String::as_str), Some("Ada"));
        assert_eq!(c.get(&LeadAttr::LastName).map(String::as_str), Some("King Lovelace"));
        assert_eq!(c.get(&LeadAttr::Name).map(String::as_str), Some("Ada King Lovelace"));
        assert_eq!(c.get(&LeadAttr::Company).map(String::as_str), Some("ACME"));
    }

    #[test]
    fn invalid_email_is_not_an_email() {
        let c = extract_contact(&fields(&[("email", "not-an-address")]), &[]);
        assert!(!c.contains_key(&LeadAttr::Email));
    }

    #[test]
    fn transforms_parse_and_apply() {
        assert_eq!(Transform::parse(Some("truncate:3")).unwrap().apply("abcdef"), Transformed::Value("abc".into()));
        assert_eq!(Transform::parse(Some("default:Web")).unwrap().apply(" "), Transformed::Value("Web".into()));
        assert_eq!(
            Transform::parse(Some("digitsOnly")).unwrap().apply("+1 (555) 010-0"),
            Transformed::Value("+15550100".into())
        );
        assert_eq!(
            Transform::parse(Some("titleCase")).unwrap().apply("ada LOVELACE"),
            Transformed::Value("Ada Lovelace".into())
        );
        assert_eq!(Transform::parse(None).unwrap(), Transform::None);
        assert!(matches!(Transform::parse(Some("shout")), Err(TransformError::Unknown(_))));
        assert!(matches!(Transform::parse(Some("truncate:x")), Err(TransformError::BadLength(_))));
        assert_eq!(Transform::parse(Some("default:")), Err(TransformError::EmptyDefault));
    }
}
