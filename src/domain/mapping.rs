//! From captured form fields to lead attributes: configured field mappings first, then
//! name heuristics, then (for email only) the shape of the value.
//!
//! The same [`Transform`]s serve the CRM connectors.

use std::collections::BTreeMap;
use thiserror::Error;

use super::email;
use super::model::Fields;
use super::redact::name_words;

/// Words that make a field name about an attribute rather than the attribute itself:
/// `best_time_to_phone` (a select: "Morning"), `company_size` ("51-200"), `inquiry_type`,
/// a consent checkbox labelled "I agree my details may be used to answer my question",
/// `phone_code` (a country-code select, joined to the number instead).
const QUALIFIER_WORDS: &[&str] = &[
    "size",
    "time",
    "type",
    "best",
    "preferred",
    "consent",
    "agree",
    "accept",
    "privacy",
    "terms",
    "gdpr",
    "optin",
    "code",
    "prefix",
];

/// Words that add nothing to what a field name says: `your_phone` is `phone`,
/// `phone_number` is `phone`, `company_name` is `company`.
const FILLER_WORDS: &[&str] = &[
    "your", "ihre", "ihr", "votre", "tu", "su", "tuo", "il", "the", "name", "number", "nummer", "numero", "número",
    "address", "adresse", "no", "nr",
];

/// True when a name says what kind of box the field is, not what it holds, and the box is
/// the multi-line one: Tilda's `Textarea`, Forminator's `textarea-1`, Zoho Forms'
/// `MultiLine`, Wix's `long_answer_3524`. A contact form's multi-line box holds the message.
fn names_a_text_box(words: &[String]) -> bool {
    let has = |w: &str| words.iter().any(|x| x == w);
    has("textarea") || has("multiline") || (has("multi") && has("line")) || (has("long") && has("answer"))
}

/// Words of Japanese, Chinese and Korean labels, most specific first (`会社名` is the
/// company, not a name). These scripts do not space their words, so they are looked for
/// inside the name.
const CJK_WORDS: &[(&str, LeadAttr)] = &[
    ("メールアドレス", LeadAttr::Email),
    ("メール", LeadAttr::Email),
    ("邮箱", LeadAttr::Email),
    ("电子邮件", LeadAttr::Email),
    ("電子郵件", LeadAttr::Email),
    ("이메일", LeadAttr::Email),
    ("電話", LeadAttr::Phone),
    ("电话", LeadAttr::Phone),
    ("手机", LeadAttr::Phone),
    ("携帯", LeadAttr::Phone),
    ("전화", LeadAttr::Phone),
    ("会社", LeadAttr::Company),
    ("公司", LeadAttr::Company),
    ("企業", LeadAttr::Company),
    ("회사", LeadAttr::Company),
    ("お問い合わせ", LeadAttr::Message),
    ("問い合わせ", LeadAttr::Message),
    ("メッセージ", LeadAttr::Message),
    ("留言", LeadAttr::Message),
    ("消息", LeadAttr::Message),
    ("메시지", LeadAttr::Message),
    ("문의", LeadAttr::Message),
    ("お名前", LeadAttr::Name),
    ("名前", LeadAttr::Name),
    ("氏名", LeadAttr::Name),
    ("姓名", LeadAttr::Name),
    ("名字", LeadAttr::Name),
    ("이름", LeadAttr::Name),
    ("성명", LeadAttr::Name),
];

/// CJK words that make a label about an attribute, as [`QUALIFIER_WORDS`] do: inquiry
/// type, a time to call, company size, consent.
const CJK_QUALIFIERS: &[&str] =
    &["種別", "種類", "类型", "類型", "時間", "时间", "規模", "规模", "同意", "유형", "시간", "동의"];

/// The attribute a Japanese, Chinese or Korean label names. It is an exact match when
/// little is left around the word: an honorific or a suffix such as 番号 (number), 名
/// (name of) or 内容 (contents).
fn match_cjk_name(name: &str) -> Option<(LeadAttr, MatchStrength)> {
    match name {
        "姓" => return Some((LeadAttr::LastName, MatchStrength::Exact)),
        "名" => return Some((LeadAttr::FirstName, MatchStrength::Exact)),
        _ => {}
    }
    if CJK_QUALIFIERS.iter().any(|q| name.contains(q)) {
        return None;
    }
    let (word, attr) = CJK_WORDS.iter().find(|(word, _)| name.contains(word))?;
    let rest = name.chars().count() - word.chars().count();
    Some((*attr, if rest <= 2 { MatchStrength::Exact } else { MatchStrength::Contains }))
}

/// How well a field name matches an attribute; the stronger match wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MatchStrength {
    /// The attribute's word among others (`mobile_phone_alt`).
    Contains,
    /// The attribute's word alone, give or take filler (`phone`, `your_phone`, `tel`).
    Exact,
}

/// Checkbox and switch values (and an empty field): they say a box was ticked, never
/// who someone is or what they asked.
pub fn is_toggle_value(value: &str) -> bool {
    let v = value.trim();
    v.is_empty() || ["on", "off", "1", "0", "true", "false", "yes", "no"].iter().any(|t| v.eq_ignore_ascii_case(t))
}

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
        Self::match_field_name(name).map(|(attr, _)| attr)
    }

    /// Guesses the attribute from a form field's name, and how sure the guess is: `phone`
    /// and `your_phone` name the phone; `mobile_phone_alt` only mentions it. A name with a
    /// qualifier word (`best_time_to_phone`, `company_size`, `consent`) holds something
    /// about the attribute, not the attribute, and is no match.
    pub fn match_field_name(name: &str) -> Option<(Self, MatchStrength)> {
        // The usual names first, without splitting into words.
        let usual = match name {
            "email" | "Email" | "EMAIL" => Some(LeadAttr::Email),
            "name" | "Name" | "full_name" | "fullname" => Some(LeadAttr::Name),
            "message" | "Message" | "comments" => Some(LeadAttr::Message),
            "phone" | "Phone" | "tel" => Some(LeadAttr::Phone),
            "company" | "Company" => Some(LeadAttr::Company),
            "first_name" | "firstName" | "fname" => Some(LeadAttr::FirstName),
            "last_name" | "lastName" | "lname" => Some(LeadAttr::LastName),
            _ => None,
        };
        if let Some(attr) = usual {
            return Some((attr, MatchStrength::Exact));
        }
        let words = name_words(name);
        let Some(attr) = Self::classify_words(&words) else {
            return match_cjk_name(name);
        };
        // An email field is checked by its value, so a qualifier cannot mislead it.
        if attr != LeadAttr::Email && words.iter().any(|w| QUALIFIER_WORDS.contains(&w.as_str())) {
            return None;
        }
        let core = words.iter().filter(|w| !FILLER_WORDS.contains(&w.as_str())).count();
        // A box named after its kind only may hold the message: a field named so wins.
        if core > 1 || (attr == LeadAttr::Message && names_a_text_box(&words)) {
            return Some((attr, MatchStrength::Contains));
        }
        Some((attr, MatchStrength::Exact))
    }

    /// The attribute a field name's words mention, if any.
    fn classify_words(words: &[String]) -> Option<Self> {
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
        ]) || names_a_text_box(words)
        {
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

/// Fewest digits a value named like a phone needs to be taken as the lead's phone
/// (`1-800-FLOWERS` has four).
const MIN_PHONE_DIGITS: usize = 4;

/// Picks contact attributes. Configured mappings win; heuristics fill what is left; an
/// email-shaped value in an unnamed field (`input_3`) is taken as the email last.
pub fn extract_contact(fields: &Fields, rules: &[FieldRule]) -> Contact {
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
    // The strongest name match of each attribute wins; of equals, the first in `fields`'
    // order. That order is the names' (the JSON object is parsed into a sorted map, so the
    // form's own order is gone by now).
    let mut strength: BTreeMap<LeadAttr, MatchStrength> = BTreeMap::new();
    for (name, value) in fields {
        if mapped_names.contains(&name.as_str()) || is_toggle_value(value) {
            continue;
        }
        let Some((attr, found)) = LeadAttr::match_field_name(name) else {
            continue;
        };
        // A phone without digits is the option of a "contact me by" radio labelled Phone.
        if attr == LeadAttr::Phone && value.chars().filter(char::is_ascii_digit).count() < MIN_PHONE_DIGITS {
            continue;
        }
        let better = match (contact.contains_key(&attr), strength.get(&attr)) {
            (false, _) => true,
            // Set by a configured mapping: the site owner's word stands.
            (true, None) => false,
            (true, Some(held)) => found > *held,
        };
        if better {
            contact.insert(attr, value.clone());
            strength.insert(attr, found);
        }
    }
    if let Some(phone) = contact.get_mut(&LeadAttr::Phone) {
        join_dialling_codes(phone, fields);
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
    complete_names(&mut contact);
    contact
}

/// Forms often ask for the country code (a select: `+49`) or the area code apart from
/// the number; the lead's phone is the whole number: `+49 151 23456787`. A number that
/// already starts with `+` is whole.
fn join_dialling_codes(phone: &mut String, fields: &Fields) {
    if phone.trim_start().starts_with('+') {
        return;
    }
    let code_of = |kind: DiallingCode| {
        fields.iter().filter(|(name, _)| dialling_code_kind(name) == Some(kind)).find_map(|(_, v)| kind.parse(v))
    };
    if let Some(area) = code_of(DiallingCode::Area) {
        *phone = format!("{area} {}", phone.trim());
    }
    // A field holding nothing but a dialling code (`+49`, `DE (+49)`) is the country code
    // whatever its label says (Ländervorwahl, indicatif, prefijo…): if it is the only one,
    // and not a field the mapping took for something else (a "+1" vote is no country).
    let bare = || {
        let mut codes = fields
            .iter()
            .filter(|(name, _)| LeadAttr::match_field_name(name).is_none())
            .filter_map(|(_, v)| bare_country_code(v));
        let first = codes.next();
        if codes.next().is_some() { None } else { first }
    };
    if let Some(country) = code_of(DiallingCode::Country).or_else(bare) {
        // The national number's trunk 0 goes with the country code (0151… is +49 151…),
        // except in Italy, whose numbers keep it.
        let national = phone.trim();
        let national = match national.strip_prefix('0') {
            Some(rest) if country != "+39" && !rest.starts_with('0') => rest,
            _ => national,
        };
        *phone = format!("{country} {national}");
    }
}

/// `+49`, or `DE (+49)` / `Germany +49` (a country select's option): the code, if the value
/// is one and nothing more.
fn bare_country_code(value: &str) -> Option<String> {
    let value = value.trim();
    let at = value.find('+')?;
    let digits: String = value[at + 1..].chars().take_while(char::is_ascii_digit).collect();
    let rest = value[at + 1 + digits.len()..].trim_start_matches(')').trim();
    let before = value[..at].trim().trim_end_matches('(').trim();
    let label_like = before.chars().all(|c| c.is_alphabetic() || c == ' ') && before.chars().count() <= 40;
    // Country codes have one to three digits.
    (!digits.is_empty() && digits.len() <= 3 && rest.is_empty() && label_like).then(|| format!("+{digits}"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DiallingCode {
    Country,
    Area,
}

/// `country_code`, `dial_code`, `phone_code`, `vorwahl`, `prefix` hold a country code;
/// `area_code` an area code.
fn dialling_code_kind(name: &str) -> Option<DiallingCode> {
    let words = name_words(name);
    let has = |w: &str| words.iter().any(|x| x == w);
    if (has("area") && has("code")) || has("areacode") {
        return Some(DiallingCode::Area);
    }
    let country = ["country", "dial", "dialing", "dialling", "calling", "phone", "tel"].iter().any(|w| has(w))
        && has("code")
        || ["countrycode", "dialcode", "vorwahl", "prefix"].iter().any(|w| has(w));
    country.then_some(DiallingCode::Country)
}

impl DiallingCode {
    /// The code in a value: `+49`, `DE (+49)`, or bare digits (a country code gets its `+`).
    fn parse(self, value: &str) -> Option<String> {
        let value = value.trim();
        if let Some(at) = value.find('+') {
            let digits: String = value[at + 1..].chars().take_while(char::is_ascii_digit).collect();
            return (!digits.is_empty() && digits.len() <= 4).then(|| format!("+{digits}"));
        }
        let digits: String = value.chars().filter(|c| !matches!(c, '(' | ')' | ' ' | '-')).collect();
        if digits.is_empty() || digits.len() > 6 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        match self {
            // `0049` is `+49`; nothing left (`0`, `00`) is no code.
            DiallingCode::Country => {
                let code = digits.trim_start_matches('0');
                (!code.is_empty()).then(|| format!("+{code}"))
            }
            DiallingCode::Area => Some(digits),
        }
    }
}

/// Makes name, first name and last name agree. A name field next to a last-name field is
/// the first name (Jotform's full-name box labels its first part "Name"); a name field next
/// to a first-name field is the surname (French `nom` beside `prenom`). With both parts
/// known (`vorname`/`nachname`, `nombre`/`apellidos`, `nome`/`cognome`…), the name is
/// "First Last".
fn complete_names(contact: &mut Contact) {
    let get = |c: &Contact, a| c.get(&a).map(|v: &String| v.trim().to_string()).filter(|v| !v.is_empty());
    let (name, first, last) =
        (get(contact, LeadAttr::Name), get(contact, LeadAttr::FirstName), get(contact, LeadAttr::LastName));
    match (&name, &first, &last) {
        (Some(name), None, Some(last)) => {
            let first = strip_word_suffix(name, last).unwrap_or(name);
            if !first.is_empty() {
                contact.insert(LeadAttr::FirstName, first.to_string());
            }
        }
        (Some(name), Some(first), None) => {
            let last = strip_word_prefix(name, first).unwrap_or(name);
            if !last.is_empty() && !last.eq_ignore_ascii_case(first) {
                contact.insert(LeadAttr::LastName, last.to_string());
            }
        }
        // A full name alone still gives first and last names.
        (Some(name), None, None) => {
            if let Transformed::Name { first, last } = Transform::SplitName.apply(name) {
                contact.insert(LeadAttr::FirstName, first);
                if !last.is_empty() {
                    contact.insert(LeadAttr::LastName, last);
                }
            }
        }
        (None, Some(first), None) => {
            contact.insert(LeadAttr::Name, first.clone());
        }
        _ => {}
    }
    if let (Some(first), Some(last)) = (get(contact, LeadAttr::FirstName), get(contact, LeadAttr::LastName)) {
        contact.insert(LeadAttr::Name, format!("{first} {last}"));
    }
}

/// `Ada King` from `Ada King Lovelace` and `Lovelace`, ignoring case.
fn strip_word_suffix<'a>(text: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = text.len().checked_sub(suffix.len())?;
    let (head, tail) = (text.get(..cut)?, text.get(cut..)?);
    (tail.eq_ignore_ascii_case(suffix) && head.ends_with(char::is_whitespace)).then(|| head.trim_end())
}

/// `Lovelace` from `Ada Lovelace` and `Ada`, ignoring case.
fn strip_word_prefix<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let (head, tail) = (text.get(..prefix.len())?, text.get(prefix.len()..)?);
    (head.eq_ignore_ascii_case(prefix) && tail.starts_with(char::is_whitespace)).then(|| tail.trim_start())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::fields_of as fields;

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
            ("textarea", LeadAttr::Message),
            ("textarea_1", LeadAttr::Message),
            ("multiline", LeadAttr::Message),
            ("MultiLine", LeadAttr::Message),
            ("long_answer_3524", LeadAttr::Message),
            ("long_answer_3e9d", LeadAttr::Message),
        ];
        for (name, attr) in cases {
            assert_eq!(LeadAttr::from_field_name(name), Some(*attr), "{name}");
        }
        for name in ["username", "user_name", "file_name", "budget", "utm_source", "short_answer_1a2b"] {
            assert_eq!(LeadAttr::from_field_name(name), None, "{name}");
        }
    }

    /// A contact form with a size select, a best-time select and a consent box: each takes
    /// its attribute's word, but none of them is that attribute.
    #[test]
    fn exact_names_beat_qualified_ones_and_toggles_are_no_contact_data() {
        let c = extract_contact(
            &fields(&[
                ("your_name", "Ada Lovelace"),
                ("your_email", "ada@example.org"),
                ("your_organisation", "Analytical Engines Ltd"),
                ("company_size", "51-200"),
                ("your_message", "Please send a quote"),
                ("best_time_to_phone", "Morning"),
                ("consent", "1"),
            ]),
            &[],
        );
        let get = |a| c.get(&a).map(String::as_str);
        assert_eq!(get(LeadAttr::Name), Some("Ada Lovelace"));
        assert_eq!(get(LeadAttr::Company), Some("Analytical Engines Ltd"));
        assert_eq!(get(LeadAttr::Message), Some("Please send a quote"));
        assert_eq!(get(LeadAttr::Phone), None, "a time of day is no phone number");

        // A React form's consent checkbox, named after its label.
        let c = extract_contact(
            &fields(&[
                ("i_agree_my_details_may_be_used_to_answer_my_question", "on"),
                ("details", "Do you ship to Norway?"),
                ("email", "ada@example.org"),
            ]),
            &[],
        );
        assert_eq!(c.get(&LeadAttr::Message).map(String::as_str), Some("Do you ship to Norway?"));
        // A toggle never becomes contact data, whatever its name says.
        let c = extract_contact(&fields(&[("message", "on"), ("company", "true"), ("phone", "1")]), &[]);
        assert!(c.is_empty(), "{c:?}");
        // The exact name wins over one that only mentions the word, whichever sorts first.
        let c = extract_contact(&fields(&[("alt_mobile_phone", "+1 202 555 0199"), ("phone", "+1 202 555 0101")]), &[]);
        assert_eq!(c.get(&LeadAttr::Phone).map(String::as_str), Some("+1 202 555 0101"));
    }

    /// A multi-line box named after its kind holds the message, unless a field is named so.
    #[test]
    fn a_text_box_named_after_its_kind_is_the_message_unless_one_is_named_so() {
        let message = |pairs: &[(&str, &str)]| extract_contact(&fields(pairs), &[]).get(&LeadAttr::Message).cloned();
        assert_eq!(
            message(&[("textarea", "Quote for 3 rooms"), ("email", "a@b.co")]).as_deref(),
            Some("Quote for 3 rooms")
        );
        assert_eq!(message(&[("textarea", "Other notes"), ("your_message", "Quote")]).as_deref(), Some("Quote"));
    }

    /// Name boxes split in two, in the builders' and languages' spellings: the lead's name
    /// is the whole name, not one of its parts.
    #[test]
    fn first_and_last_names_make_the_name() {
        type Names<'a> = (&'a str, &'a str, &'a str);
        let cases: &[(&[(&str, &str)], Names)] = &[
            (&[("name", "Katherine"), ("last_name", "Johnson")], ("Katherine Johnson", "Katherine", "Johnson")),
            (&[("prenom", "Marie"), ("nom", "Poulain")], ("Marie Poulain", "Marie", "Poulain")),
            (&[("vorname", "Lena"), ("nachname", "Vogel")], ("Lena Vogel", "Lena", "Vogel")),
            (&[("nombre", "Lucía"), ("apellidos", "García López")], ("Lucía García López", "Lucía", "García López")),
            (&[("nome", "Giulia"), ("cognome", "Rossi")], ("Giulia Rossi", "Giulia", "Rossi")),
            (&[("name", "Ada Lovelace"), ("last_name", "Lovelace")], ("Ada Lovelace", "Ada", "Lovelace")),
            (&[("name", "Ada Lovelace"), ("first_name", "Ada")], ("Ada Lovelace", "Ada", "Lovelace")),
            (&[("name", "Ada King Lovelace")], ("Ada King Lovelace", "Ada", "King Lovelace")),
        ];
        for (pairs, (name, first, last)) in cases {
            let c = extract_contact(&fields(pairs), &[]);
            let get = |a| c.get(&a).map(String::as_str);
            assert_eq!(
                (get(LeadAttr::Name), get(LeadAttr::FirstName), get(LeadAttr::LastName)),
                (Some(*name), Some(*first), Some(*last)),
                "{pairs:?}"
            );
        }
    }

    #[test]
    fn japanese_chinese_and_korean_labels_are_mapped() {
        let cases: &[(&str, LeadAttr)] = &[
            ("お名前", LeadAttr::Name),
            ("氏名", LeadAttr::Name),
            ("名前", LeadAttr::Name),
            ("電話番号", LeadAttr::Phone),
            ("電話", LeadAttr::Phone),
            ("会社名", LeadAttr::Company),
            ("会社", LeadAttr::Company),
            ("お問い合わせ内容", LeadAttr::Message),
            ("お問い合わせ", LeadAttr::Message),
            ("メッセージ", LeadAttr::Message),
            ("メール", LeadAttr::Email),
            ("メールアドレス", LeadAttr::Email),
            ("姓名", LeadAttr::Name),
            ("电话", LeadAttr::Phone),
            ("公司", LeadAttr::Company),
            ("留言", LeadAttr::Message),
            ("消息", LeadAttr::Message),
            ("邮箱", LeadAttr::Email),
            ("이름", LeadAttr::Name),
            ("전화", LeadAttr::Phone),
            ("회사", LeadAttr::Company),
            ("메시지", LeadAttr::Message),
            ("이메일", LeadAttr::Email),
        ];
        for (name, attr) in cases {
            assert_eq!(LeadAttr::match_field_name(name), Some((*attr, MatchStrength::Exact)), "{name}");
        }
        assert_eq!(LeadAttr::from_field_name("お問い合わせ種別"), None, "an inquiry type is no message");
        let c = extract_contact(
            &fields(&[
                ("お名前", "山田 太郎"),
                ("会社名", "山田商事"),
                ("電話番号", "03-1234-5678"),
                ("お問い合わせ内容", "見積もり"),
            ]),
            &[],
        );
        let get = |a| c.get(&a).map(String::as_str);
        assert_eq!(
            (get(LeadAttr::Name), get(LeadAttr::Company), get(LeadAttr::Phone), get(LeadAttr::Message)),
            (Some("山田 太郎"), Some("山田商事"), Some("03-1234-5678"), Some("見積もり"))
        );
    }

    #[test]
    fn country_and_area_codes_are_joined_to_the_number() {
        let phone = |pairs: &[(&str, &str)]| extract_contact(&fields(pairs), &[]).get(&LeadAttr::Phone).cloned();
        for code in ["country_code", "dial_code", "phone_code", "vorwahl", "prefix"] {
            assert_eq!(
                phone(&[(code, "+49"), ("phone", "151 23456787")]).as_deref(),
                Some("+49 151 23456787"),
                "{code}"
            );
        }
        assert_eq!(phone(&[("country_code", "DE (+49)"), ("tel", "15123456787")]).as_deref(), Some("+49 15123456787"));
        assert_eq!(phone(&[("area_code", "202"), ("phone", "555 0101")]).as_deref(), Some("202 555 0101"));
        assert_eq!(
            phone(&[("country_code", "+1"), ("area_code", "202"), ("phone", "555 0101")]).as_deref(),
            Some("+1 202 555 0101")
        );
        // A number with its country code already is whole; a select left blank adds nothing.
        assert_eq!(
            phone(&[("country_code", "+49"), ("phone", "+44 20 7946 0958")]).as_deref(),
            Some("+44 20 7946 0958")
        );
        assert_eq!(phone(&[("country_code", ""), ("phone", "151 23456787")]).as_deref(), Some("151 23456787"));
        // The trunk 0 goes with the country code (not in Italy); an empty code adds nothing;
        // a "+1" the mapping took for something else is no country code.
        assert_eq!(phone(&[("country_code", "+49"), ("phone", "0151 2345678")]).as_deref(), Some("+49 151 2345678"));
        assert_eq!(phone(&[("country_code", "+39"), ("phone", "06 1234 5678")]).as_deref(), Some("+39 06 1234 5678"));
        assert_eq!(phone(&[("country_code", "00"), ("phone", "0151 2345678")]).as_deref(), Some("0151 2345678"));
        assert_eq!(phone(&[("message", "+1"), ("phone", "202 555 0101")]).as_deref(), Some("202 555 0101"));
        assert_eq!(phone(&[("a", "+1"), ("b", "+44"), ("phone", "202 555 0101")]).as_deref(), Some("202 555 0101"));
        // A radio labelled Phone ("contact me by: phone") is no number.
        assert_eq!(phone(&[("phone", "phone")]), None);
        assert_eq!(phone(&[("phone", "1-800-FLOWERS")]).as_deref(), Some("1-800-FLOWERS"));
        // Labelled in another language: the value alone says it is a dialling code.
        assert_eq!(
            phone(&[("ländervorwahl", "+49"), ("telefon", "151 23456788")]).as_deref(),
            Some("+49 151 23456788")
        );
        assert_eq!(phone(&[("pays", "France (+33)"), ("tel", "6 12 34 56 78")]).as_deref(), Some("+33 6 12 34 56 78"));
        // Not a code: a sum, a phone number of its own, a code inside text.
        assert_eq!(phone(&[("budget", "+5000"), ("phone", "555 0101")]).as_deref(), Some("555 0101"));
        assert_eq!(phone(&[("note", "call +49 later"), ("phone", "555 0101")]).as_deref(), Some("555 0101"));
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
