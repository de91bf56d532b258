//! Server-side redaction. It always runs, whatever the tracker already did, because the
//! ingest endpoint is public and any sender may be careless or hostile.
//!
//! What is removed:
//! - a field whose *name* is sensitive (`password`, `user_pass`, `Kennwort`, `card_no`,
//!   `passport`…), judged on the name's words so that `company`, `passenger` or `compass`
//!   are kept;
//! - a field whose name is itself a sensitive value (a card number sent as a key). The
//!   field is dropped rather than renamed: two such keys would both become `[REDACTED]`,
//!   and a name that is a card number says nothing about the value anyway;
//! - a value that contains a card number, an SSN, an IBAN (its country's length and valid
//!   check digits), or a passport number in text that says passport: the whole value
//!   becomes [`REDACTED`]. Values are judged as the text they are
//!   stored as, so numbers count (`4111111111111111` sent as a JSON number) and so do lists,
//!   which are stored joined (`["4111", "1111", "1111", "1111"]`).
//!
//! What survives, deliberately: order numbers and phone numbers. A digit run is a card
//! only when it has a card network's prefix, a length that network issues and a valid Luhn
//! check digit, and never when it follows a `+` (an international phone number). An SSN
//! must be grouped exactly 3-2-4. Two capital letters and 6–8 digits count as a passport
//! number only next to the word passport, because order and reference numbers
//! (`PO123456`) have the same shape.
//!
//! Digit groups may be separated by any run of spaces, dashes, dots or slashes, and digits
//! and separators from other scripts (full-width `４１１１`, Arabic-Indic…) count as their
//! ASCII forms. Matching is stateless (no `/g` regex state, unlike the original design).

use serde_json::{Map, Number, Value};
use std::fmt::Write as _;

pub const REDACTED: &str = "[REDACTED]";

/// Words that make a field name sensitive. Compared against the name's whole words (split
/// on punctuation and camelCase; digits end a word, so `cvc2` is `cvc` and `pass1` is
/// `pass`), so `company` or `opinion` never match `pin` and `passenger`, `compass` or
/// `bypass` never match `pass`.
const SENSITIVE_WORDS: &[&str] = &[
    // Passwords, also as common form names in other languages (`user_pass` is WordPress's).
    "password",
    "passwd",
    "passwort",
    "pass",
    "pw",
    "pwd",
    "passcode",
    "passphrase",
    "kennwort",
    "contrasena",
    "contraseña",
    "senha",
    "wachtwoord",
    "mdp",
    "passord",
    "losenord",
    "lösenord",
    "salasana",
    "haslo",
    "hasło",
    "heslo",
    "пароль",
    "secret",
    "otp",
    "pin",
    "pincode",
    // One-time and second-factor codes (`totp`, `mfa_code`; `2fa` is matched on the raw
    // name, as its digit ends a word).
    "totp",
    // Cards and bank accounts.
    "cvv",
    "cvc",
    "ccv",
    "cvn",
    "cc",
    "card",
    "creditcard",
    "cardnumber",
    "cardnum",
    "cardno",
    "ccnumber",
    "ccnum",
    "ccno",
    "kartennummer",
    "iban",
    // Bank account numbers and the bank codes that travel with them (Australia's BSB), in
    // their one-word spellings.
    "bsb",
    "acctno",
    "accountno",
    "rekeningnummer",
    // National and travel documents. A field named like a passport is dropped whole: its
    // value is a passport number in some national format, which no shape check covers.
    // (The passport words are PASSPORT_WORDS, checked beside these.)
    "ssn",
    "sin",
    "tin",
    "cpf",
    "aadhaar",
    "aadhar",
    "personnummer",
    "tfn",
];

/// Words that make a field name sensitive only as the whole name: as one word among others
/// they are ordinary (`pan_size`, `mfa_program`, `aba_services`, `campaign_cid`). The card's
/// number as ISO 7812 calls it (in India also the tax card's number); the security code as
/// some gateways (`csc`) and American Express (`cid`) call it; the US ABA routing number; a
/// second-factor (`mfa`) code.
const SENSITIVE_ALONE: &[&str] = &["pan", "csc", "cid", "aba", "mfa"];

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
    // A card's expiry in parts (`exp_month`, `exp_year`) or as a placeholder names it.
    ("exp", "month"),
    ("exp", "year"),
    ("exp", "mm"),
    ("exp", "yy"),
    ("valid", "thru"),
    ("good", "thru"),
    ("verification", "value"),
    // One-time and second-factor codes, also each box of a code split over several inputs
    // when a label says so (`verification_code_digit_5`).
    ("verification", "code"),
    ("auth", "code"),
    ("authentication", "code"),
    ("authenticator", "code"),
    ("two", "factor"),
    ("fa", "code"),
    ("mfa", "code"),
    ("pan", "number"),
    ("security", "answer"),
    // Bank accounts.
    ("bank", "account"),
    ("account", "no"),
    ("acct", "no"),
    ("acct", "num"),
    ("acct", "number"),
    // National and tax identity numbers.
    ("national", "id"),
    ("national", "identity"),
    ("national", "insurance"),
    ("ni", "number"),
    ("social", "insurance"),
    ("identity", "number"),
    ("steuer", "id"),
    ("tax", "file"),
    ("drivers", "license"),
    ("driver", "license"),
    ("drivers", "licence"),
    ("driver", "licence"),
    ("driving", "licence"),
    ("driving", "license"),
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

/// Names written as one word that are still sensitive (`creditcardnumber`, `socialsecurity`,
/// `userpassword`), found inside the name's words joined (`mot_de_passe` → `motdepasse`).
/// Only words no ordinary name contains: `pass` is not here, or `passenger` would match.
/// Passwords, card numbers, security codes and expiry dates, in English and in the other
/// languages' spellings that ASCII can write.
const SENSITIVE_JOINED: &[&str] = &[
    "password",
    "passwort",
    "passphrase",
    "kennwort",
    "contrasena",
    "wachtwoord",
    "motdepasse",
    "creditcard",
    "cardnumber",
    "socialsecurity",
    "securitycode",
    "passport",
    "reisepass",
    "jelszo",
    "tarjeta",
    "kreditkarte",
    "kartenummer",
    "numerodecarte",
    "cartebancaire",
    "cartedecredit",
    "cartao",
    "cartadicredito",
    "kaartnummer",
    "pruefziffer",
    "pruefnummer",
    "cryptogramme",
    "sicherheitscode",
    "codigodeseguridad",
    "codicedisicurezza",
    "expiry",
    "expiration",
    "ablaufdatum",
    "gueltigbis",
    "gultigbis",
    "datedexpiration",
    "validade",
    "expdate",
    "validthru",
    "sortcode",
    "accountnumber",
    "acctnumber",
    "kontonummer",
    "bankaccount",
    "numerocarte",
    "numerocarta",
    "numerodellacarta",
    "onetimecode",
    "onetimepass",
    "onetimepin",
    "twofactor",
    "authcode",
    "verificationcode",
    "nationalid",
    "taxid",
    "steuerid",
    "socialinsurance",
    "nationalinsurance",
    "sozialversicherungsnummer",
    "driverslicen",
    "driverlicen",
    "drivinglicen",
];

/// [`SENSITIVE_JOINED`] written with letters beyond ASCII: German, French, Spanish and
/// Portuguese spellings, and the Japanese, Chinese, Korean, Turkish and Hungarian words a
/// field's label gives it (the tracker names a field after its label when its name says
/// nothing). Apart, so the allocation-free path for ASCII names, which no such word can
/// match, does not look for them.
const SENSITIVE_JOINED_UNICODE: &[&str] = &[
    "contraseña",
    "パスワード",
    "暗証番号",
    "密码",
    "密碼",
    "비밀번호",
    "şifre",
    "jelszó",
    "numérodecarte",
    "cartedecrédit",
    "cartão",
    "カード番号",
    "卡号",
    "卡號",
    "카드번호",
    "prüfziffer",
    "prüfnummer",
    "kartenprüf",
    "códigodeseguridad",
    "セキュリティコード",
    "安全码",
    "보안코드",
    "gültigbis",
    "有効期限",
    "유효기간",
];

const fn all_ascii(words: &[&str]) -> bool {
    let mut i = 0;
    while i < words.len() {
        if !words[i].is_ascii() {
            return false;
        }
        i += 1;
    }
    true
}
const _: () = assert!(all_ascii(SENSITIVE_JOINED), "non-ASCII words belong in SENSITIVE_JOINED_UNICODE");

/// True when a field with this name must never be stored.
pub fn is_sensitive_name(name: &str) -> bool {
    if is_known_safe(name) {
        return false;
    }
    // `2fa`: its digit ends a word, so the words see only `fa`. Only as a word of its own
    // (`2fa`, `2fa_code`, `user-2FA`), not inside a hex id (`email_c2fa`, `name_2fab`).
    let bytes = name.as_bytes();
    let is_2fa_at = |i: usize| {
        bytes[i..i + 3].eq_ignore_ascii_case(b"2fa")
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
            && bytes.get(i + 3).is_none_or(|b| !b.is_ascii_alphanumeric())
    };
    if bytes.len() >= 3 && (0..=bytes.len() - 3).any(is_2fa_at) {
        return true;
    }
    if name.len() <= MAX_ASCII_NAME && name.is_ascii() {
        return is_sensitive_ascii_name(name.as_bytes());
    }
    is_sensitive_name_by_words(name)
}

/// The general rule, on the words [`name_words`] makes.
fn is_sensitive_name_by_words(name: &str) -> bool {
    let words = name_words(name);
    if words.iter().any(|w| SENSITIVE_WORDS.iter().chain(PASSPORT_WORDS).any(|s| s == w)) {
        return true;
    }
    if let [word] = words.as_slice()
        && SENSITIVE_ALONE.contains(&word.as_str())
    {
        return true;
    }
    let joined: String = words.concat();
    if SENSITIVE_JOINED.iter().chain(SENSITIVE_JOINED_UNICODE).any(|w| joined.contains(w)) {
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
    if (0..words).any(|i| SENSITIVE_WORDS.iter().chain(PASSPORT_WORDS).any(|w| w.as_bytes() == word(i))) {
        return true;
    }
    if words == 1 && SENSITIVE_ALONE.iter().any(|w| w.as_bytes() == word(0)) {
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

/// True when a key of the event must not be stored, with its value: its name is sensitive,
/// it is itself a sensitive value (a card number sent as a field name), or it is machine-made.
/// Such a field never reaches the lead rules (a honeypot so named would never fire).
pub fn is_dropped_key(key: &str) -> bool {
    !is_known_safe(key) && (is_sensitive_name(key) || is_sensitive_value(key) || is_machine_field(key))
}

/// Fields a form carries for a machine, not from the visitor: CAPTCHA tokens and answers
/// (reCAPTCHA's `g-recaptcha-response` and hCaptcha's sit in a hidden textarea the tracker
/// cannot tell from a visible one; Cloudflare Turnstile's `cf-turnstile-response`). Noise on
/// a lead, and a token is a short-lived credential.
fn is_machine_field(key: &str) -> bool {
    let contains = |word: &[u8]| key.as_bytes().windows(word.len()).any(|w| w.eq_ignore_ascii_case(word));
    contains(b"captcha") || contains(b"turnstile")
}

/// True when the single-field `fieldName`, read after [`redact_map`], names a field that is
/// not stored: a sensitive name, or a name that was a sensitive value and so is now
/// [`REDACTED`].
pub fn is_dropped_field_name(name: &str) -> bool {
    name == REDACTED || is_sensitive_name(name)
}

/// Fewest digits any pattern needs (a passport number has six).
const MIN_DIGITS: usize = 6;

/// Most digits a card number has.
const MAX_CARD_DIGITS: usize = 19;

/// Card number prefixes (IIN ranges) and the lengths each network issues. Ranges overlap
/// (Maestro's 56–69 covers Discover and UnionPay); a number is a card if any row fits.
/// Without a known prefix a Luhn-valid run is not taken for a card: one run in ten passes
/// Luhn by chance, and phone, order and tracking numbers are mostly long digit runs.
const CARD_NETWORKS: &[CardNetwork] = &[
    CardNetwork { prefix_digits: 1, low: 4, high: 4, lengths: &[13, 16, 19] }, // Visa
    CardNetwork { prefix_digits: 2, low: 51, high: 55, lengths: &[16] },       // Mastercard
    CardNetwork { prefix_digits: 4, low: 2221, high: 2720, lengths: &[16] },   // Mastercard
    CardNetwork { prefix_digits: 2, low: 34, high: 34, lengths: &[15] },       // Amex
    CardNetwork { prefix_digits: 2, low: 37, high: 37, lengths: &[15] },       // Amex
    CardNetwork { prefix_digits: 4, low: 6011, high: 6011, lengths: &[16, 17, 18, 19] }, // Discover
    CardNetwork { prefix_digits: 3, low: 644, high: 649, lengths: &[16, 17, 18, 19] }, // Discover
    CardNetwork { prefix_digits: 2, low: 65, high: 65, lengths: &[16, 17, 18, 19] }, // Discover
    CardNetwork { prefix_digits: 4, low: 3528, high: 3589, lengths: &[16, 17, 18, 19] }, // JCB
    CardNetwork { prefix_digits: 3, low: 300, high: 305, lengths: &[14, 15, 16, 17, 18, 19] }, // Diners
    CardNetwork { prefix_digits: 2, low: 36, high: 36, lengths: &[14, 15, 16, 17, 18, 19] }, // Diners
    CardNetwork { prefix_digits: 2, low: 38, high: 39, lengths: &[16, 17, 18, 19] }, // Diners
    CardNetwork { prefix_digits: 2, low: 62, high: 62, lengths: &[16, 17, 18, 19] }, // UnionPay
    // Maestro issues 12–19 digits; shorter than 13 is too close to everything else.
    CardNetwork { prefix_digits: 2, low: 50, high: 50, lengths: &[13, 14, 15, 16, 17, 18, 19] },
    CardNetwork { prefix_digits: 2, low: 56, high: 69, lengths: &[13, 14, 15, 16, 17, 18, 19] },
];

struct CardNetwork {
    prefix_digits: usize,
    low: u32,
    high: u32,
    lengths: &'static [usize],
}

/// True when `digits` (values 0–9) is a card number some network issues.
fn is_card_number(digits: &[u8]) -> bool {
    let prefix = |n: usize| digits[..n].iter().fold(0u32, |acc, d| acc * 10 + u32::from(*d));
    CARD_NETWORKS.iter().any(|network| {
        network.lengths.contains(&digits.len()) && (network.low..=network.high).contains(&prefix(network.prefix_digits))
    }) && luhn_valid(digits)
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

/// What may stand between the digit groups of one number, repeated or mixed: people type
/// `4111 1111 1111 1111`, `4111-1111-…`, `4111.1111.…`, `123/45/6789`.
fn is_separator(b: u8) -> bool {
    matches!(b, b' ' | b'-' | b'.' | b'/')
}

/// The ASCII form of a character that is a digit, separator or ASCII character written
/// differently: full-width forms (`４`, `－`), digits of other scripts, other spaces and
/// dashes. Lets a number typed on a phone keyboard set to Arabic or Japanese be read as one.
fn ascii_equivalent(c: char) -> Option<u8> {
    /// The zero of each block of ten decimal digits in the Basic Multilingual Plane that
    /// forms commonly see (Arabic-Indic, Devanagari, Bengali, …, Thai, full-width).
    const DIGIT_ZEROS: [u32; 20] = [
        0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66, 0x0DE6, 0x0E50,
        0x0ED0, 0x0F20, 0x1040, 0x17E0, 0x1810, 0xFF10,
    ];
    let code = u32::from(c);
    match code {
        // Full-width `!`…`~`, which include the digits, letters and `+ - . /`.
        0xFF01..=0xFF5E => return u8::try_from(code - 0xFEE0).ok(),
        0x00A0 | 0x2000..=0x200A | 0x202F | 0x205F | 0x3000 => return Some(b' '),
        0x2010..=0x2015 | 0x2212 => return Some(b'-'),
        0x2044 | 0x2215 => return Some(b'/'),
        _ => {}
    }
    let zero = DIGIT_ZEROS.iter().rev().find(|zero| **zero <= code)?;
    u8::try_from(code - zero).ok().filter(|d| *d < 10).map(|d| b'0' + d)
}

fn is_digit_in_any_script(c: char) -> bool {
    c.is_ascii_digit() || (!c.is_ascii() && ascii_equivalent(c).is_some_and(|b| b.is_ascii_digit()))
}

/// A run of digits in a text, `text[start..end]`.
#[derive(Clone, Copy, Default)]
struct DigitGroup {
    start: usize,
    end: usize,
    /// Not glued to a letter or digit before it: a number can start here.
    open_start: bool,
}

impl DigitGroup {
    fn len(&self) -> usize {
        self.end - self.start
    }
}

/// How many digit groups of one run are remembered; a card number spans at most 19.
const GROUPS: usize = MAX_CARD_DIGITS + 1;

/// The digit groups of the current run (groups joined by separators), the `n`th kept at
/// `groups[n % GROUPS]`; the patterns are judged as each group ends, without allocating.
struct Run<'t> {
    text: &'t [u8],
    groups: [DigitGroup; GROUPS],
    len: usize,
    /// The run follows a `+`: it is an international phone number, however long, and
    /// neither a card number nor an SSN. (A sender can hide a card this way, but a careless
    /// one does not write `+` before a card number, and phone numbers are common.)
    phone: bool,
}

impl Run<'_> {
    /// Group `back` places before the last one (0 is the last).
    fn group(&self, back: usize) -> DigitGroup {
        self.groups[(self.len - 1 - back) % GROUPS]
    }

    /// The separator between group `back` and the one before it.
    fn separator_before(&self, back: usize) -> &[u8] {
        &self.text[self.group(back + 1).end..self.group(back).start]
    }

    /// True when some run of whole groups ending with the last group is a card number.
    /// Whole groups only: any 16 digits cut from a longer number are not a card, but a
    /// card followed by an expiry (`4111 1111 1111 1111 12/25`) still is one.
    fn card_ends_here(&self) -> bool {
        if self.phone {
            return false;
        }
        let mut count = 0;
        for back in 0..self.len.min(GROUPS) {
            let first = self.group(back);
            count += first.len();
            if count > MAX_CARD_DIGITS {
                return false;
            }
            // Every network's prefix starts with 2–6; checked first as it is cheap.
            if count < 13 || !first.open_start || !matches!(self.text[first.start], b'2'..=b'6') {
                continue;
            }
            let mut digits = [0u8; MAX_CARD_DIGITS];
            let mut k = 0;
            for b in (0..=back).rev() {
                let group = self.group(b);
                for d in &self.text[group.start..group.end] {
                    digits[k] = d - b'0';
                    k += 1;
                }
            }
            if is_card_number(&digits[..k]) {
                return true;
            }
        }
        false
    }

    /// True when the last three groups are an SSN: 3, 2 and 4 digits joined by one
    /// separator, none all zeros (never issued), and not part of a longer number grouped
    /// with that separator (`2025-123-45-6789` is an order number). `next` is the separator
    /// that joins the last group to a following one.
    fn ssn_ends_here(&self, next: Option<&[u8]>) -> bool {
        if self.len < 3 || self.phone {
            return false;
        }
        let (area, group, serial) = (self.group(2), self.group(1), self.group(0));
        if (area.len(), group.len(), serial.len()) != (3, 2, 4) || !area.open_start {
            return false;
        }
        let separator = self.separator_before(0);
        let all_zeros = |g: DigitGroup| self.text[g.start..g.end].iter().all(|b| *b == b'0');
        separator == self.separator_before(1)
            && (self.len == 3 || self.separator_before(2) != separator)
            && next != Some(separator)
            && ![area, group, serial].into_iter().any(all_zeros)
    }

    /// True when the last group, alone in its run, is two capital letters and 6–8 digits.
    fn passport_shape_ends_here(&self) -> bool {
        let DigitGroup { start, .. } = self.group(0);
        let t = self.text;
        self.len == 1
            && (6..=8).contains(&self.group(0).len())
            && start >= 2
            && t[start - 2].is_ascii_uppercase()
            && t[start - 1].is_ascii_uppercase()
            && (start == 2 || !is_word_byte(t[start - 3]))
    }
}

/// Words that make a passport-shaped token a passport number, matched anywhere in the same
/// value, ignoring case. The trade-off: `PO123456` in a message that also mentions a
/// passport is redacted, a passport number in a message that never says so is kept; the
/// shape alone would redact every order and reference number of that form.
const PASSPORT_WORDS: &[&str] = &[
    "passport",
    "reisepass",
    "passnummer",
    "passeport",
    "pasaporte",
    "passaporte",
    "passaporto",
    "paspoort",
    "paszport",
];

fn mentions_passport(text: &[u8]) -> bool {
    PASSPORT_WORDS.iter().any(|word| text.windows(word.len()).any(|w| w.eq_ignore_ascii_case(word.as_bytes())))
}

/// The pattern scan over ASCII-normalised bytes: one pass over the digit groups.
fn contains_pattern(text: &[u8]) -> bool {
    let mut run = Run { text, groups: [DigitGroup::default(); GROUPS], len: 0, phone: false };
    let mut i = 0;
    while i < text.len() {
        if !text[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < text.len() && text[i].is_ascii_digit() {
            i += 1;
        }
        let end = i;
        while i < text.len() && is_separator(text[i]) {
            i += 1;
        }
        let continues = i > end && i < text.len() && text[i].is_ascii_digit();
        if run.len == 0 {
            run.phone = start > 0 && text[start - 1] == b'+';
        }
        // A group glued to a letter or digit is part of an identifier (`x4111…`, `…1111x`).
        let open_start = run.len > 0 || start == 0 || !is_word_byte(text[start - 1]);
        let open_end = end == text.len() || !is_word_byte(text[end]);
        run.groups[run.len % GROUPS] = DigitGroup { start, end, open_start };
        run.len += 1;
        if open_end
            && (run.card_ends_here()
                || run.ssn_ends_here(continues.then(|| &text[end..i]))
                || (run.passport_shape_ends_here() && mentions_passport(text)))
        {
            return true;
        }
        if !continues {
            run.len = 0;
        }
    }
    contains_iban(text)
}

/// The length of an IBAN of each country that issues them (the ISO 13616 registry).
#[rustfmt::skip]
const IBAN_LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24), (b"AE", 23), (b"AL", 28), (b"AT", 20), (b"AZ", 28), (b"BA", 20), (b"BE", 16), (b"BG", 22),
    (b"BH", 22), (b"BI", 27), (b"BR", 29), (b"BY", 28), (b"CH", 21), (b"CR", 22), (b"CY", 28), (b"CZ", 24),
    (b"DE", 22), (b"DJ", 27), (b"DK", 18), (b"DO", 28), (b"EE", 20), (b"EG", 29), (b"ES", 24), (b"FI", 18),
    (b"FK", 18), (b"FO", 18), (b"FR", 27), (b"GB", 22), (b"GE", 22), (b"GI", 23), (b"GL", 18), (b"GR", 27),
    (b"GT", 28), (b"HN", 28), (b"HR", 21), (b"HU", 28), (b"IE", 22), (b"IL", 23), (b"IQ", 23), (b"IS", 26),
    (b"IT", 27), (b"JO", 30), (b"KW", 30), (b"KZ", 20), (b"LB", 28), (b"LC", 32), (b"LI", 21), (b"LT", 20),
    (b"LU", 20), (b"LV", 21), (b"LY", 25), (b"MC", 27), (b"MD", 24), (b"ME", 22), (b"MK", 19), (b"MN", 20),
    (b"MR", 27), (b"MT", 31), (b"MU", 30), (b"NI", 28), (b"NL", 18), (b"NO", 15), (b"OM", 23), (b"PK", 24),
    (b"PL", 28), (b"PS", 29), (b"PT", 25), (b"QA", 29), (b"RO", 24), (b"RS", 22), (b"RU", 33), (b"SA", 24),
    (b"SC", 31), (b"SD", 18), (b"SE", 24), (b"SI", 19), (b"SK", 24), (b"SM", 27), (b"SO", 23), (b"ST", 25),
    (b"SV", 28), (b"TL", 23), (b"TN", 24), (b"TR", 26), (b"UA", 29), (b"VA", 22), (b"VG", 24), (b"XK", 20),
    (b"YE", 30),
];

/// Longest IBAN (Russia's).
const MAX_IBAN: usize = 34;

/// True when the text holds an IBAN: a country's code and two check digits, then the rest
/// of that country's length in letters and digits, written as one run or in groups of four
/// split by single spaces (`DE89 3704 0044 0532 0130 00`, also in lower case), not
/// glued to a letter, digit or dash on either side, with at least [`MIN_DIGITS`] digits (as
/// every issued IBAN has, so the digit pre-check holds) and a valid ISO 7064 MOD 97-10
/// check. The country's exact length and the check leave about one in a hundred thousand
/// product or reference codes of that shape; a bank account typed into a message is not
/// stored. A phone number after a word that is a country code ("call me at 06 12 34 00 94")
/// is not grouped in fours, and a UUID's groups are split by dashes.
fn contains_iban(text: &[u8]) -> bool {
    (0..text.len().saturating_sub(1)).any(|start| iban_at(text, start))
}

fn iban_at(text: &[u8], start: usize) -> bool {
    if start > 0 && (text[start - 1].is_ascii_alphanumeric() || text[start - 1] == b'-') {
        return false;
    }
    // The check digits follow the country's code at once (no space before the fourth
    // character): most positions of a text end here, before the country table is searched.
    if !text[start..].get(2..4).is_some_and(|d| d.iter().all(u8::is_ascii_digit)) {
        return false;
    }
    let country = [text[start].to_ascii_uppercase(), text[start + 1].to_ascii_uppercase()];
    let Some(&(_, len)) = IBAN_LENGTHS.iter().find(|(c, _)| **c == country) else { return false };
    let mut chars = [0u8; MAX_IBAN];
    let (mut n, mut i) = (0, start);
    while n < len {
        match text.get(i) {
            Some(c) if c.is_ascii_alphanumeric() => {
                chars[n] = c.to_ascii_uppercase();
                n += 1;
            }
            // A space only between groups of four.
            Some(b' ') if n % 4 == 0 && text.get(i + 1).is_some_and(u8::is_ascii_alphanumeric) => {}
            _ => return false,
        }
        i += 1;
    }
    let chars = &chars[..len];
    if text.get(i).is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'-')
        || !chars[2..4].iter().all(u8::is_ascii_digit)
        || chars.iter().filter(|c| c.is_ascii_digit()).count() < MIN_DIGITS
    {
        return false;
    }
    // The check: the first four characters moved to the end, letters as 10–35, mod 97 is 1.
    let rem = chars[4..].iter().chain(&chars[..4]).fold(0u32, |rem, c| match c {
        b'0'..=b'9' => (rem * 10 + u32::from(c - b'0')) % 97,
        _ => (rem * 100 + u32::from(c - b'A') + 10) % 97,
    });
    rem == 1
}

/// True when a value must be replaced by [`REDACTED`].
pub fn is_sensitive_value(text: &str) -> bool {
    // Cheap pre-check: every pattern needs several digits, and most values have few or none.
    let (mut digits, mut ascii) = (0, true);
    for &b in text.as_bytes() {
        digits += usize::from(b.is_ascii_digit());
        ascii &= b.is_ascii();
    }
    if ascii {
        return digits >= MIN_DIGITS && contains_pattern(text.as_bytes());
    }
    // Digits and separators from other scripts are read as ASCII ones, in a copy made only
    // when there are enough digits and something to convert.
    let mut converts = false;
    for c in text.chars().filter(|c| !c.is_ascii()) {
        if let Some(b) = ascii_equivalent(c) {
            digits += usize::from(b.is_ascii_digit());
            converts = true;
        }
    }
    if digits < MIN_DIGITS {
        return false;
    }
    if !converts {
        return contains_pattern(text.as_bytes());
    }
    let mut ascii_text = Vec::with_capacity(text.len());
    for c in text.chars() {
        match ascii_equivalent(c) {
            Some(b) => ascii_text.push(b),
            None => ascii_text.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    contains_pattern(&ascii_text)
}

/// A number's text as it is stored (`field_text` in event.rs writes it with `Display`),
/// on the stack: JSON numbers print in at most 24 bytes (`-1.7976931348623157e+308`).
#[derive(Default)]
struct NumberText {
    bytes: [u8; 32],
    len: usize,
}

impl std::fmt::Write for NumberText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// True when a JSON number, as the text it is stored as, must be replaced by [`REDACTED`].
fn is_sensitive_number(n: &Number) -> bool {
    // Fewer than six digits match nothing; most numbers (counts, sizes) stop here.
    if n.as_i64().is_some_and(|v| v.unsigned_abs() < 100_000) {
        return false;
    }
    let mut text = NumberText::default();
    if write!(text, "{n}").is_err() {
        return is_sensitive_value(&n.to_string());
    }
    contains_pattern(&text.bytes[..text.len])
}

/// What [`is_sensitive_value`] needs to know of a list before its text is built: how many
/// parts it is stored as, and (at least) how many digits they hold.
fn count_list_parts(items: &[Value], parts: &mut usize, digits: &mut usize) {
    for item in items {
        match item {
            Value::String(s) if !s.trim().is_empty() => {
                *parts += 1;
                *digits += s.chars().filter(|c| is_digit_in_any_script(*c)).count();
            }
            Value::Number(n) => {
                *parts += 1;
                // An upper bound is enough: a float's digits are not worth counting.
                *digits += n.as_u64().map_or(MAX_CARD_DIGITS, |v| v.checked_ilog10().map_or(1, |l| l as usize + 1));
            }
            Value::Bool(_) => *parts += 1,
            Value::Array(inner) => count_list_parts(inner, parts, digits),
            _ => {}
        }
    }
}

/// A list's parts as `field_text` in event.rs stores them (trimmed, nested lists
/// flattened, nulls and objects left out), but joined by a space rather than `, `: then a
/// number split across parts reads as one digit sequence, while anything the stored text
/// holds within one part is found in that part on its own.
fn join_list_parts(items: &[Value], out: &mut String) {
    for item in items {
        let start = out.len();
        if !out.is_empty() {
            out.push(' ');
        }
        match item {
            Value::String(s) if !s.trim().is_empty() => out.push_str(s.trim()),
            Value::Number(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Bool(b) => {
                let _ = write!(out, "{b}");
            }
            Value::Array(inner) => {
                out.truncate(start);
                join_list_parts(inner, out);
            }
            _ => out.truncate(start),
        }
    }
}

/// True when a list, read as the one text it is stored as, must be replaced by
/// [`REDACTED`] (`["4111", "1111", "1111", "1111"]`).
fn is_sensitive_list(items: &[Value]) -> bool {
    let (mut parts, mut digits) = (0, 0);
    count_list_parts(items, &mut parts, &mut digits);
    // One part is stored as that part alone, already judged.
    if parts < 2 || digits < MIN_DIGITS {
        return false;
    }
    let mut joined = String::new();
    join_list_parts(items, &mut joined);
    is_sensitive_value(&joined)
}

/// Redacts a JSON tree in place: drops object keys that are sensitive names or values, and
/// replaces sensitive strings, numbers and lists by the string [`REDACTED`]. Returns how
/// many values were dropped or replaced.
pub fn redact_value(value: &mut Value) -> usize {
    match value {
        Value::String(s) if is_sensitive_value(s) => {
            *s = REDACTED.to_string();
            1
        }
        Value::Number(n) if is_sensitive_number(n) => {
            *value = Value::String(REDACTED.to_string());
            1
        }
        Value::Array(items) => {
            // Parts first, so a list with one card among its choices keeps the others
            // unless the rest still reads as one.
            let count = items.iter_mut().map(redact_value).sum::<usize>();
            if !is_sensitive_list(items) {
                return count;
            }
            *value = Value::String(REDACTED.to_string());
            count + 1
        }
        Value::Object(map) => redact_map(map),
        _ => 0,
    }
}

pub fn redact_map(map: &mut Map<String, Value>) -> usize {
    let before = map.len();
    // `retain` walks the map as if removing; most maps have nothing to remove.
    if map.keys().any(|key| is_dropped_key(key)) {
        map.retain(|key, _| !is_dropped_key(key));
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
    use serde_json::json;

    #[test]
    fn captcha_tokens_are_dropped() {
        let mut map = json!({"g-recaptcha-response": "03AFcWeA…", "h_captcha_response": "P1_ey…",
            "cf-turnstile-response": "0.x", "Captcha": "8", "email": "ada@example.org"})
        .as_object()
        .unwrap()
        .clone();
        redact_map(&mut map);
        assert_eq!(map.keys().collect::<Vec<_>>(), ["email"]);
    }

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
    fn password_and_card_names_in_common_spellings_and_languages() {
        for name in [
            "pass",
            "user_pass",
            "pass1",
            "userPass",
            "passphrase",
            "mot_de_passe",
            "motDePasse",
            "Kennwort",
            "passwort",
            "contraseña",
            "contrasena",
            "senha",
            "wachtwoord",
            "hasło",
            "Пароль",
            "cvc2",
            "cvv2",
            "ccv",
            "card_no",
            "cardnum",
            "cardnumber",
            "ccnum",
            "Kartennummer",
            "passport",
            "passport_number",
            "Reisepass",
            "reisepassnummer",
            "numero_passeport",
            "pasaporte",
            "パスワード",
            "kennung_passwort",
            "numero_tarjeta",
            "Número de tarjeta",
            "Numéro de carte",
            "Kreditkartennummer",
            "Prüfziffer",
            "pruefziffer",
            "Cryptogramme visuel",
            "セキュリティコード",
            "Sicherheitscode",
            "Código de seguridad",
            "Gültig bis",
            "gueltig_bis",
            "expiry",
            "card_expiration",
            "Date d'expiration",
            "有効期限",
            "비밀번호",
        ] {
            assert!(is_sensitive_name(name), "{name} should be sensitive");
        }
        for name in [
            "passenger",
            "passengers",
            "compass",
            "bypass",
            "passage",
            "passive",
            "address",
            "email_address",
            "company",
            "spinach",
            "opinion",
            "passion",
            "message",
            "department",
        ] {
            assert!(!is_sensitive_name(name), "{name} should not be sensitive");
        }
    }

    /// Names the tracker let through in a probe of checkout, bank, sign-in and identity
    /// forms (as it sends them: the name, else the label, in lower_snake_case), and ordinary
    /// fields beside them that must stay.
    #[test]
    fn gateway_bank_code_and_identity_names() {
        for name in [
            // Cards: ISO's PAN, gateways' security code names, expiry in parts.
            "pan",
            "csc",
            "cid",
            "verification_value",
            "exp_month",
            "exp_year",
            "expMonth",
            "expdate",
            "valid_thru",
            "numeroCarte",
            "numero_della_carta",
            // One-time and second-factor codes.
            "totp",
            "mfa_code",
            "2fa",
            "2FA_code",
            "two_factor_code",
            "one_time_code",
            "verification_code",
            "verification_code_digit_5",
            "authCode",
            "authentication_code",
            "security_answer",
            // Bank accounts.
            "sortcode",
            "bsb",
            "aba",
            "bank_account",
            "bankAccount",
            "acct_no",
            "accountNo",
            "account_no",
            "accountnumber",
            "Kontonummer",
            // Identity and tax numbers.
            "national_id",
            "nationalId",
            "national_insurance_number",
            "ni_number",
            "social_insurance_number",
            "taxid",
            "steuer_id",
            "Steueridentifikationsnummer",
            "cpf",
            "aadhaar",
            "personnummer",
            "pan_number",
            "user-2FA",
            "drivers_license",
            "driving_licence_number",
        ] {
            assert!(is_sensitive_name(name), "{name} should be sensitive");
        }
        for name in [
            // Dates, and names holding the alone-only words among others or a hex id.
            "preferred_date_dd_mm_yyyy",
            "move_in_date_mm_yyyy",
            "has_your_child_received_aba_services_before",
            "mfa_program",
            "pan_size",
            "campaign_cid",
            "email_c2fa",
            "first_name_2fab",
            // Member, student and company (VAT) numbers are ordinary lead fields.
            "member_id_number",
            "student_id_number",
            "tax_number",
            "date_of_birth",
            "dob",
            "birthday",
            "account_manager",
            "account_name",
            "account_type",
            "accounting",
            "discount_code",
            "access_code",
            "promo_code",
            "panel",
            "company",
            "experience",
            "expected_date",
            "export_format",
            "occupation",
            "one_time_donation",
            "order_number",
            "bic",
            "bank_name",
            "mobile_number",
            "abandon_reason",
            "validation_status",
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
            "passport AB1234567",
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
    fn ibans_are_redacted_by_their_check_digits() {
        for value in [
            "DE89 3704 0044 0532 0130 00",
            "DE89370400440532013000",
            "please refund to de89 3704 0044 0532 0130 00, thanks",
            "GB82 WEST 1234 5698 7654 32",
            "IBAN: NL91ABNA0417164300.",
            "FR14 2004 1010 0505 0001 3M02 606",
            "ＤＥ８９３７０４００４４０５３２０１３０００",
        ] {
            assert!(is_sensitive_value(value), "{value} should be redacted");
        }
        for value in [
            // One check digit off, one character short or long, glued to a word.
            "DE89 3704 0044 0532 0130 01",
            "DE89 3704 0044 0532 0130 0",
            "DE89 3704 0044 0532 0130 000",
            "XDE89370400440532013000",
            // Not a country that issues IBANs; a reference that only looks like one.
            "AB12 3456 7890 1234 5678 90",
            "order GB12 ABCD 1234 5678 9012 34",
            // A phone number after a word that is a country code; a UUID (Estonia's code and
            // length, and by chance its check digits) split by dashes.
            "Please call me at 06 12 34 00 94 tomorrow",
            "https://app.example/orders/ee728b11-e002-435b-82c3-cb115d136823",
        ] {
            assert!(!is_sensitive_value(value), "{value} should stay");
        }
    }

    #[test]
    fn card_and_ssn_separators_are_any_run_of_space_dash_dot_or_slash() {
        for value in [
            "4111.1111.1111.1111",
            "4111/1111/1111/1111",
            "4111  1111  1111  1111",
            "4111 - 1111 - 1111 - 1111",
            "3782 822463 10005",
            "３７８２８２２４６３１０００５",
            "４１１１－１１１１－１１１１－１１１１",
            "card ٤١١١١١١١١١١١١١١١ thanks",
            "4111\u{a0}1111\u{a0}1111\u{a0}1111",
            "card 4111 1111 1111 1111 12/25",
            "123 45 6789",
            "123.45.6789",
            "123/45/6789",
            "123  45  6789",
            "SSN １２３－４５－６７８９",
            "123-45-6789 2025-10-22",
        ] {
            assert!(is_sensitive_value(value), "{value} should be redacted");
        }
    }

    #[test]
    fn order_and_phone_numbers_survive() {
        for value in [
            // Luhn-valid, but phone numbers.
            "+49 151 23456787",
            "+4915123456787",
            "＋49 151 23456787",
            // Luhn-valid runs without a card network's prefix, or of a length it does not issue.
            "1234567812345670",
            "9876543210123459",
            "7000 0000 0000 0009",
            "order 0000000000000000",
            "411111111111116",
            "37828224631000",
            // Passport-shaped, without the word passport.
            "Order PO123456",
            "Please check ref XY1234567 today",
            "AB1234567",
            // Dates and numbers grouped otherwise than an SSN.
            "2025/10/22",
            "22.10.2025",
            "2025-123-45-6789",
            "123-45-6789-01",
            "12.345.6789",
            "000-12-3456",
            "123-45 6789",
            "192.168.100.200",
        ] {
            assert!(!is_sensitive_value(value), "{value} should stay");
        }
    }

    #[test]
    fn card_networks_need_their_prefix_and_length() {
        fn with_check(prefix: &str) -> Vec<u8> {
            with_check_digit(&prefix.bytes().map(|b| b - b'0').collect::<Vec<_>>())
        }
        // Test numbers of each network, and a Visa of 13 and 19 digits.
        for card in [
            "4111111111111111",
            "4222222222222",
            "4111111111111111110",
            "5555555555554444",
            "2223003122003222",
            "378282246310005",
            "6011111111111117",
            "3530111333300000",
            "30569309025904",
            "36227206271667",
            "6200000000000005",
            "6759649826438453",
        ] {
            let digits: Vec<u8> = card.bytes().map(|b| b - b'0').collect();
            assert!(is_card_number(&digits), "{card} should be a card");
        }
        // Luhn-valid, with a prefix no network has or a length the network does not issue.
        for prefix in ["1234567890123", "41111111111111", "55555555555544", "3782822463100", "2721000000000"] {
            let digits = with_check(prefix);
            assert!(!is_card_number(&digits), "{digits:?} should not be a card");
        }
    }

    #[test]
    fn sensitive_numbers_and_lists_are_redacted_as_their_stored_text() {
        let mut v = json!({
            "fields": {
                "note": 4111111111111111u64,
                "amex": 378282246310005u64,
                "negative": -4111111111111111i64,
                "float": 4111111111111111.0,
                "list": [4111111111111111u64, "x"],
                "split": ["4111", "1111", "1111", "1111"],
                "split_numbers": [4111, 1111, 1111, 1111],
                "nested": [["4111", "1111"], ["1111", " 1111 "]],
                "parts": ["123", "45", "6789"],
                "age": 42,
                "zip": 94107,
                "tags": ["a", "b"],
                "scores": [4, 1, 1, 1],
                "started": 1_700_000_000_000u64
            },
            "fieldValue": 5555555555554444u64,
            "phone": 4111111111111111u64
        });
        let n = redact_value(&mut v);
        for key in ["note", "amex", "negative", "float", "split", "split_numbers", "nested", "parts"] {
            assert_eq!(v["fields"][key], REDACTED, "{key}");
        }
        assert_eq!(v["fields"]["list"], json!([REDACTED, "x"]));
        assert_eq!(v["fieldValue"], REDACTED);
        assert_eq!(v["phone"], REDACTED);
        assert_eq!(v["fields"]["age"], 42);
        assert_eq!(v["fields"]["zip"], 94107);
        assert_eq!(v["fields"]["tags"], json!(["a", "b"]));
        assert_eq!(v["fields"]["scores"], json!([4, 1, 1, 1]));
        assert_eq!(v["fields"]["started"], 1_700_000_000_000u64);
        assert_eq!(n, 11);
    }

    #[test]
    fn keys_that_are_sensitive_values_are_dropped() {
        let mut v = json!({"fields": {"4111111111111111": "x", "4111 1111 1111 1111": "y", "123-45-6789": "z", "email": "a@b.co"}});
        assert_eq!(redact_value(&mut v), 3);
        assert_eq!(v["fields"], json!({"email": "a@b.co"}));
        assert!(is_dropped_field_name(REDACTED));
        assert!(is_dropped_field_name("user_pass"));
        assert!(!is_dropped_field_name("email"));
    }

    #[test]
    fn passport_numbers_only_where_the_text_says_passport() {
        for value in [
            "passport AB1234567",
            "Passport no. AB123456",
            "Reisepass: CD1234567",
            "numéro de passeport AB1234567",
            "my PASSPORT is ＡＢ1234567",
        ] {
            assert!(is_sensitive_value(value), "{value} should be redacted");
        }
        for value in ["Order PO123456", "ref XY1234567", "AB12345 passport", "passport ABC1234567"] {
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
            "Mozilla/5.0 (X11; Linux x86_64) passport AB1234567",
            "v1.2.3 ssn 123-45-6789",
            "1 2 3 card 4111111111111111",
            "2025-10-22 Reisepass AB123456",
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

    #[test]
    fn other_scripts_have_ten_digits_each() {
        for zero in ['٠', '۰', '०', '০', '๐', '０'] {
            let digits: Vec<u8> =
                (0..10).filter_map(|d| char::from_u32(u32::from(zero) + d).and_then(ascii_equivalent)).collect();
            assert_eq!(digits, b"0123456789", "{zero}");
        }
        assert_eq!(ascii_equivalent('a'), None);
        assert_eq!(ascii_equivalent('é'), None);
        assert_eq!(ascii_equivalent('\u{3000}'), Some(b' '));
    }

    /// The pattern scan alone, without the cheap checks in front of it.
    fn matches_a_pattern(text: &str) -> bool {
        let mut ascii = Vec::new();
        for c in text.chars() {
            match ascii_equivalent(c) {
                Some(b) => ascii.push(b),
                None => ascii.extend_from_slice(c.to_string().as_bytes()),
            }
        }
        contains_pattern(&ascii)
    }

    /// Appends the one check digit that makes `prefix` Luhn-valid.
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

    /// A card number of some network: its prefix, one of its lengths, random digits, and the
    /// check digit.
    fn card_digits() -> impl Strategy<Value = Vec<u8>> {
        (0..CARD_NETWORKS.len(), any::<prop::sample::Index>(), proptest::collection::vec(0u8..10, 19)).prop_map(
            |(n, len, fill)| {
                let network = &CARD_NETWORKS[n];
                let len = *len.get(network.lengths);
                let low = network.low.to_string().into_bytes();
                let mut digits: Vec<u8> = low.iter().map(|b| b - b'0').collect();
                digits.extend_from_slice(&fill[..len - 1 - digits.len()]);
                with_check_digit(&digits)
            },
        )
    }

    fn separator() -> impl Strategy<Value = &'static str> {
        prop_oneof![Just(" "), Just("-"), Just("."), Just("/"), Just("  "), Just(" - "), Just("\u{3000}"), Just("－")]
    }

    /// Writes digits in groups of four, in ASCII or full-width digits.
    fn grouped(digits: &[u8], sep: &str, wide: bool) -> String {
        let mut number = String::new();
        for (i, d) in digits.iter().enumerate() {
            if i > 0 && i % 4 == 0 {
                number.push_str(sep);
            }
            let zero = if wide { '０' } else { '0' };
            number.push(char::from_u32(u32::from(zero) + u32::from(*d)).unwrap_or('?'));
        }
        number
    }

    proptest! {
        #[test]
        fn any_card_number_in_text_is_redacted(
            digits in card_digits(),
            sep in prop_oneof![Just(""), separator()],
            wide in any::<bool>(),
            before in "[a-zA-Z ,.:]{0,20}",
            after in "[a-zA-Z ,.:]{0,20}",
        ) {
            let text = format!("{before} {} {after}", grouped(&digits, sep, wide));
            prop_assert!(is_sensitive_value(&text), "{}", text);
        }

        #[test]
        fn luhn_valid_runs_without_a_card_prefix_stay(
            first in prop_oneof![Just(0u8), Just(1), Just(7), Just(8), Just(9)],
            rest in proptest::collection::vec(0u8..10, 11..=17),
            sep in prop_oneof![Just(""), separator()],
            before in "[a-z ,:]{0,20}",
        ) {
            let mut prefix = vec![first];
            prefix.extend(rest);
            let digits = with_check_digit(&prefix);
            // In groups of four (never the 3-2-4 of an SSN) only up to 16 digits: the groups
            // after the first of a longer number can be a card of their own.
            let sep = if digits.len() > 16 { "" } else { sep };
            let text = format!("{before} {}", grouped(&digits, sep, false));
            prop_assert!(!is_sensitive_value(&text), "{}", text);
        }

        #[test]
        fn international_phone_numbers_stay(
            country in "[1-9][0-9]{0,2}",
            national in proptest::collection::vec("[0-9]{1,4}", 1..=5),
            sep in separator(),
        ) {
            let text = format!("call +{country}{sep}{}", national.join(sep));
            prop_assert!(!is_sensitive_value(&text), "{}", text);
        }

        #[test]
        fn any_ssn_in_text_is_redacted(
            a in 1u32..1000, b in 1u32..100, c in 1u32..10000,
            sep in separator(),
            ctx in "[a-z ]{0,10}",
        ) {
            let text = format!("{ctx} {a:03}{sep}{b:02}{sep}{c:04} {ctx}");
            prop_assert!(is_sensitive_value(&text), "{}", text);
        }

        #[test]
        fn ssn_shapes_inside_longer_numbers_stay(
            a in 1u32..1000, b in 1u32..100, c in 1u32..10000,
            other in "[0-9]{1,3}",
            sep in separator(),
            other_first in any::<bool>(),
        ) {
            let ssn = format!("{a:03}{sep}{b:02}{sep}{c:04}");
            let text = if other_first { format!("ref {other}{sep}{ssn}") } else { format!("ref {ssn}{sep}{other}") };
            prop_assert!(!is_sensitive_value(&text), "{}", text);
        }

        #[test]
        fn passport_shapes_need_the_word_passport(
            letters in "[A-Z]{2}",
            digits in "[0-9]{6,8}",
            before in "[a-z ,:]{0,20}",
            word in prop_oneof![Just("passport"), Just("Reisepass"), Just("PASSEPORT"), Just("pasaporte")],
        ) {
            let text = format!("{before} {letters}{digits}");
            prop_assert!(!is_sensitive_value(&text), "{}", text);
            let text = format!("{before} {word} {letters}{digits}");
            prop_assert!(is_sensitive_value(&text), "{}", text);
        }

        #[test]
        fn card_numbers_sent_as_numbers_or_split_across_a_list_are_redacted(
            digits in card_digits(),
            cuts in proptest::collection::vec(1usize..6, 1..8),
        ) {
            let text: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
            let mut number = Value::Number(text.parse::<u64>().map_err(|e| TestCaseError::fail(e.to_string()))?.into());
            redact_value(&mut number);
            prop_assert_eq!(number, Value::String(REDACTED.into()));

            let mut parts = Vec::new();
            let mut rest = text.as_str();
            for cut in cuts {
                let (part, tail) = rest.split_at(cut.min(rest.len()));
                parts.push(Value::String(part.to_string()));
                rest = tail;
            }
            parts.push(Value::String(rest.to_string()));
            let mut list = Value::Array(parts);
            redact_value(&mut list);
            // The list as a whole, or (when one part alone was a card) that part.
            let mut stored = String::new();
            join_list_parts(std::slice::from_ref(&list), &mut stored);
            prop_assert!(!is_sensitive_value(&stored), "{}", stored);
            prop_assert!(!stored.contains(&text), "{}", stored);
        }

        #[test]
        fn text_with_few_digits_is_never_touched(text in "[^0-9\u{660}-\u{669}\u{6f0}-\u{6f9}\u{966}-\u{96f}\u{ff10}-\u{ff19}]{0,64}[0-9]{0,5}") {
            prop_assert!(!is_sensitive_value(&text));
        }

        #[test]
        fn pre_checks_never_change_the_answer(text in "([0-9A-Zab .+/-]|０|４|５|\u{a0}|－|passport){0,40}") {
            prop_assert_eq!(is_sensitive_value(&text), matches_a_pattern(&text));
        }

        #[test]
        fn ascii_names_are_judged_as_by_their_words(
            name in "(pass|word|card|number|social|security|code|pin|ssn|Card|Number|PIN|cc|exp|date|tax|id|Id|mot|de|passe|port|Pass|no|enger|[a-zA-Z]{1,4}|[-_ 0-9.]){0,8}"
        ) {
            prop_assert_eq!(is_sensitive_ascii_name(name.as_bytes()), is_sensitive_name_by_words(&name));
        }

        #[test]
        fn redaction_is_idempotent(text in "\\PC{0,80}", number in any::<i64>(), list in proptest::collection::vec("[0-9 ]{0,6}", 0..6)) {
            let mut v = json!({"text": text, "number": number, "list": list});
            redact_value(&mut v);
            let once = v.clone();
            redact_value(&mut v);
            prop_assert_eq!(once, v);
        }
    }
}
