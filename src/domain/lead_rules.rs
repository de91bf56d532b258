//! The lead rules (ARCHITECTURE.md "Lead rules"): which events make or update a lead, and
//! how a newer event merges into an existing lead.

use serde_json::{Map, Value};
use std::collections::HashMap;
use uuid::Uuid;

use super::builder_fields;
use super::email;
use super::event::TrackEvent;
use super::mapping::{self, FieldRule, LeadAttr};
use super::model::{EventType, Fields, Id, Lead, LeadStatus, SyncStatus};
use super::quality;
use super::redact::name_words;
use super::time::Timestamp;

/// A lead matches an event when they share client, email and visitor and the lead was
/// created less than this long ago.
pub const DEDUP_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// What the lead rules need to know about a site.
#[derive(Debug, Clone, Default)]
pub struct SiteRules {
    pub honeypot_field: Option<String>,
    /// Configured forms of the site and their field rules.
    pub forms: HashMap<Id, Vec<FieldRule>>,
    /// The site turned partial capture off. Its served script then sends no interactions,
    /// but a cached script or another sender still may: they make no lead either.
    pub partial_capture_off: bool,
}

/// What one event says about a lead, before it meets the stored leads.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadCandidate {
    pub status: LeadStatus,
    pub source: &'static str,
    pub contact: mapping::Contact,
    pub fields: Fields,
    pub form_id: Option<Id>,
    pub form_ref: Option<String>,
    pub session_id: Option<String>,
    pub visitor_id: Option<String>,
    pub spam_reasons: Vec<String>,
    /// page, attribution, formProgress from the event.
    pub metadata: Map<String, Value>,
    pub at: Timestamp,
}

impl LeadCandidate {
    pub fn email(&self) -> Option<&str> {
        self.contact.get(&LeadAttr::Email).map(String::as_str)
    }
}

/// The configured form an event names, if its `formId` is one of the site's forms.
pub fn configured_form(event: &TrackEvent, rules: &SiteRules) -> Option<Id> {
    let id = Uuid::parse_str(event.form_ref.as_deref()?).ok()?;
    rules.forms.contains_key(&id).then_some(id)
}

/// Fields a login form sends once the tracker has left its password out. A submission of
/// only these is someone signing in (often with their email as the user name), not a lead.
const LOGIN_FIELDS: &[&str] =
    &["log", "username", "user_login", "user_name", "login", "user", "rememberme", "remember", "remember_me"];
/// Of those, the ones that name the account: a login form has one.
const LOGIN_ID_FIELDS: &[&str] = &["log", "username", "user_login", "user_name", "login", "user"];
/// Fields of site search boxes, product pages (add to cart, options) and listing filters. A
/// submission of only these, with no email in any value, is shopping or searching, not a lead.
const SHOP_AND_SEARCH_FIELDS: &[&str] = &[
    "s",
    "q",
    "query",
    "search",
    "search_query",
    "searchterm",
    "search_term",
    "keyword",
    "keywords",
    "term",
    "quantity",
    "qty",
    "id",
    "product_id",
    "variant_id",
    "variation_id",
    "add_to_cart",
    "size",
    "color",
    "colour",
    "variant",
    "option",
    "options",
    "sort",
    "sort_by",
    "orderby",
    "order_by",
    "filter",
    "category",
    "product_cat",
    "post_type",
    "currency",
    "coupon",
    "coupon_code",
    "lang",
    "language",
];

/// True when an event's form is not one where people leave their details: a login or
/// sign-in form, a search box, an add-to-cart or filter form, a form of only ticked boxes
/// and switches (cookie preferences, a theme picker). Its submissions stay events only, and
/// it is not offered as a discovered form. `fields` are the event's fields as a lead would
/// keep them.
pub fn is_not_a_lead_form(event: &TrackEvent, fields: &Fields) -> bool {
    has_only_non_lead_fields(fields) || is_sign_in_form(event, fields)
}

/// The part of [`is_not_a_lead_form`] the fields alone decide.
fn has_only_non_lead_fields(fields: &Fields) -> bool {
    let names = || fields.iter().filter(|(_, v)| !v.trim().is_empty()).map(|(k, _)| k.as_str());
    let is_in = |set: &[&str], name: &str| set.iter().any(|s| s.eq_ignore_ascii_case(name));
    let all_in = |set: &[&str]| names().all(|n| is_in(set, n));
    if names().next().is_none() {
        return false;
    }
    if all_in(LOGIN_FIELDS) && names().any(|n| is_in(LOGIN_ID_FIELDS, n)) {
        return true;
    }
    // Toggles never name, reach or quote anyone (the mapping takes none of them), so such
    // a lead could only ever say "no contact data".
    if fields.values().all(|v| mapping::is_toggle_value(v)) {
        return true;
    }
    all_in(SHOP_AND_SEARCH_FIELDS) && !fields.values().any(|v| email::normalize(v).is_some())
}

/// True when the form is a sign-in form: its id, name or class says so (`customer_login`,
/// `loginForm`, `signin`), or it has a ticked "remember me" box (an unticked one is not
/// sent), or it has no id or name (nor a class naming a newsletter, contact or sign-up box)
/// and its page's path says so (`/users/sign_in`, `/wp-login.php`); and it holds nothing but
/// the account's email or user name (the tracker never sends the password) and ticked
/// boxes. Someone signing in to their account is a customer, not a lead, even when their
/// user name is their email. A newsletter box in the footer of a login page stays a lead.
fn is_sign_in_form(event: &TrackEvent, fields: &Fields) -> bool {
    // One pass: the first field that is neither a box nor the account ends it.
    let (mut account, mut remember_me) = (false, false);
    for (name, value) in fields {
        let words = name_words(name);
        // WordPress ticks its box as `rememberme=forever`: a box, whatever its value.
        if words.iter().any(|w| w.starts_with("remember")) || words.windows(2).any(|w| w == ["stay", "logged"]) {
            remember_me = true;
            continue;
        }
        if mapping::is_toggle_value(value) {
            continue;
        }
        if !(LOGIN_ID_FIELDS.iter().any(|l| l.eq_ignore_ascii_case(name))
            || LeadAttr::from_field_name(name) == Some(LeadAttr::Email))
        {
            return false;
        }
        account = true;
    }
    if !account {
        return false;
    }
    let form: Vec<Vec<String>> =
        [event.form_ref.as_deref(), event.form_selector.as_deref()].into_iter().flatten().map(name_words).collect();
    // `login-or-register`, a sign-up box on a login page: not (only) a sign-in.
    if form.iter().any(|words| names_other_purpose(words)) {
        return false;
    }
    let page_path = || event.payload.get("page")?.get("path")?.as_str();
    remember_me
        || form.iter().any(|words| names_sign_in(words))
        || (event.form_ref.is_none() && page_path().is_some_and(path_is_sign_in))
}

/// Whether a page's path is a sign-in page: its last part is made of sign-in words only
/// (`/login`, `/users/sign_in`, `/wp-login.php`, `/account/login/`), unlike a blog post
/// about one (`/blog/how-to-log-in-to-your-router`).
fn path_is_sign_in(path: &str) -> bool {
    const PAGE_WORDS: &[&str] = &[
        "log",
        "in",
        "on",
        "sign",
        "login",
        "logon",
        "signin",
        "wp",
        "user",
        "users",
        "account",
        "customer",
        "member",
        "my",
        "php",
        "html",
        "htm",
        "aspx",
        "jsp",
        "einloggen",
        "connexion",
        "inloggen",
        "accedi",
        "logowanie",
        "iniciar",
        "sesion",
        "sesión",
        "sessao",
        "sessão",
    ];
    let last = name_words(path.trim_end_matches('/').rsplit('/').next().unwrap_or_default());
    names_sign_in(&last) && last.iter().all(|w| PAGE_WORDS.contains(&w.as_str()))
}

/// Whether the words of a form's id, name or class say it is not the page's sign-in form: a
/// newsletter or contact box in the footer of a login page.
fn names_other_purpose(words: &[String]) -> bool {
    const WORDS: &[&str] =
        &["newsletter", "subscribe", "subscription", "signup", "register", "registration", "contact", "footer"];
    words.iter().any(|w| WORDS.iter().any(|s| w.contains(s))) || words.windows(2).any(|w| w == ["sign", "up"])
}

/// Whether the words of an id, class, name or path name signing in, in the words sites and site builders
/// use for it (`login`, `wp-login.php`, `loginform`, `sign_in`, `signin`, `logon`, `einloggen`,
/// `connexion`, `inloggen`, `accedi`, `logowanie`, `iniciar-sesion`).
fn names_sign_in(words: &[String]) -> bool {
    const WORDS: &[&str] = &["login", "logon", "signin", "einloggen", "connexion", "inloggen", "accedi", "logowanie"];
    let joined_pair = |a: &str, b: &str| words.windows(2).any(|w| w[0] == a && w[1] == b);
    // `customerlogin`, `loginform`; not `signing`.
    const SUFFIXES: &[&str] = &["", "form", "page", "box", "modal", "popup", "widget", "wrapper", "container"];
    let names = |w: &str, s: &str| w.ends_with(s) || w.strip_prefix(s).is_some_and(|rest| SUFFIXES.contains(&rest));
    words.iter().any(|w| WORDS.iter().any(|s| names(w, s)))
        || joined_pair("log", "in")
        || joined_pair("sign", "in")
        || ["sesion", "sesión", "sessao", "sessão"].iter().any(|s| joined_pair("iniciar", s))
}

/// A value a settings form holds: one short word or number (`dark`, `de`, `5`), not an
/// address, a number someone could be called on (`015112345678` under a name the mapping
/// does not know, like `whatsapp`), a web address or words.
fn is_setting_value(value: &str) -> bool {
    let v = value.trim();
    v.chars().count() <= 24
        && v.chars().filter(char::is_ascii_digit).count() <= 4
        && !v.chars().any(|c| c.is_whitespace() || matches!(c, '@' | '/' | ':' | '.'))
}

/// Decides whether an event makes a lead, and with what.
pub fn candidate(event: &TrackEvent, rules: &SiteRules) -> Option<LeadCandidate> {
    let (status, source) = match event.event_type {
        EventType::FormSubmission => (LeadStatus::Submitted, "form_submission"),
        EventType::FormInteraction if rules.partial_capture_off => return None,
        EventType::FormInteraction => (LeadStatus::Partial, "form_interaction"),
        EventType::ChatMessageSent => (LeadStatus::ChatInquiry, "chat_message_sent"),
        EventType::TrackerInitialized => return None,
    };
    let form_id = configured_form(event, rules);
    let fields = builder_fields::lead_fields(&event.fields, form_id.is_some());
    // A configured form is a lead form: the site owner said so.
    if form_id.is_none() && event.event_type != EventType::ChatMessageSent && is_not_a_lead_form(event, &fields) {
        return None;
    }
    let field_rules = form_id.and_then(|id| rules.forms.get(&id)).map(Vec::as_slice).unwrap_or(&[]);
    let contact = mapping::extract_contact(&fields, field_rules);
    let has_email = contact.contains_key(&LeadAttr::Email);
    // Interactions and chat messages are leads only once they carry an email; a submission
    // is always a lead (its quality says when it has no way to reach the person).
    if !has_email && status != LeadStatus::Submitted {
        return None;
    }
    // A submission that neither reaches nor names anyone, brings no company or message and
    // holds only one-word values is a setting, not a lead: a theme picker's "dark", a
    // language switch, a star rating. (A message of one word still is one, and so is an
    // address the page's own check may refuse: "tim@exmaple".)
    let person = [
        LeadAttr::Email,
        LeadAttr::Phone,
        LeadAttr::Name,
        LeadAttr::FirstName,
        LeadAttr::LastName,
        LeadAttr::Company,
        LeadAttr::Message,
    ];
    if form_id.is_none()
        && !person.iter().any(|a| contact.contains_key(a))
        && fields.values().all(|v| is_setting_value(v))
    {
        return None;
    }

    let mut spam_reasons = Vec::new();
    if let Some(honeypot) = &rules.honeypot_field
        && event.fields.get(honeypot).is_some_and(|v| !v.trim().is_empty())
    {
        spam_reasons.push(quality::HONEYPOT_FILLED.to_string());
    }
    if status == LeadStatus::Submitted
        && let Some(started) = event.form_started_at
    {
        let took = event.timestamp.millis() - started.millis();
        if (0..quality::MIN_HUMAN_FILL_MS).contains(&took) {
            spam_reasons.push(quality::SUBMITTED_TOO_FAST.to_string());
        }
    }
    if contact.get(&LeadAttr::Email).is_some_and(|e| email::is_disposable(e)) {
        spam_reasons.push(quality::DISPOSABLE_EMAIL.to_string());
    }
    if !has_email && !contact.contains_key(&LeadAttr::Phone) {
        spam_reasons.push(quality::NO_CONTACT_DATA.to_string());
    }

    let mut metadata = Map::new();
    for key in ["page", "attribution", "formProgress", "trigger"] {
        if let Some(v) = event.payload.get(key) {
            metadata.insert(key.to_string(), v.clone());
        }
    }
    if let Some(selector) = &event.form_selector {
        metadata.insert("formSelector".into(), Value::String(selector.clone()));
    }

    Some(LeadCandidate {
        status,
        source,
        contact,
        fields: fields.into_owned(),
        form_id,
        form_ref: event.form_ref.clone(),
        session_id: event.session_id.clone(),
        visitor_id: event.visitor_id.clone(),
        spam_reasons,
        metadata,
        at: event.timestamp,
    })
}

/// How long after its last change a lead stays open to its visitor's next event from the
/// same form, whatever the emails say: a corrected address, a submission after the page's
/// own checks refused the first try.
pub const CONTINUE_WINDOW_MS: i64 = 30 * 60 * 1000;

/// The form an event or lead came from, on its page: the tracker's formId, else its form
/// selector, with the page's path (forms without an id share selectors across a site:
/// every Contact Form 7 form is `form.wpcf7-form`).
pub fn form_key(form_ref: Option<&str>, metadata: &Map<String, Value>) -> Option<String> {
    let form = form_ref.or_else(|| metadata.get("formSelector").and_then(Value::as_str)).filter(|k| !k.is_empty())?;
    let path = metadata.get("page").and_then(|p| p.get("path")).and_then(Value::as_str).unwrap_or("");
    Some(format!("{form}\n{path}"))
}

/// True when the candidate carries on `lead` though no email ties them: the same visitor on
/// the same form and page within [`CONTINUE_WINDOW_MS`] of the lead's last change, while the
/// lead is still open (partial, or without an email: a submission the page refused, then
/// fixed), and nothing says it is someone else: when both have an email, the new one is the
/// old one with a typo fixed; a name or phone both have is the same; and two submissions
/// without any email (a callback form) stay two leads. Anything else is another person
/// using the same browser: another lead. A submitted lead with an email is closed.
pub fn continues(lead: &Lead, candidate: &LeadCandidate, now: Timestamp) -> bool {
    let open = lead.status == LeadStatus::Partial || lead.email.is_none();
    let chat = candidate.status == LeadStatus::ChatInquiry || lead.status == LeadStatus::ChatInquiry;
    let emails_agree = match (lead.email.as_deref(), candidate.email()) {
        (Some(old), Some(new)) => is_typo_fix(old, new),
        (None, None) => false,
        _ => true,
    };
    let c = &candidate.contact;
    let agree = |stored: &Option<String>, a: LeadAttr, same: fn(&str, &str) -> bool| match (stored, attr(c, a)) {
        (Some(x), Some(y)) => same(x, &y),
        _ => true,
    };
    let same_text = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
    let same_digits =
        |a: &str, b: &str| a.chars().filter(char::is_ascii_digit).eq(b.chars().filter(char::is_ascii_digit));
    let same_person = emails_agree
        && agree(&lead.name, LeadAttr::Name, same_text)
        && agree(&lead.first_name, LeadAttr::FirstName, same_text)
        && agree(&lead.last_name, LeadAttr::LastName, same_text)
        && agree(&lead.phone, LeadAttr::Phone, same_digits);
    let form = form_key(candidate.form_ref.as_deref(), &candidate.metadata);
    open && !chat
        && same_person
        && candidate.visitor_id.as_deref().is_some_and(|v| !v.is_empty())
        && lead.visitor_id == candidate.visitor_id
        && form.is_some()
        && form == form_key(lead.form_ref.as_deref(), &lead.metadata)
        && now.millis() - lead.updated_at.millis() < CONTINUE_WINDOW_MS
        && now.millis() - lead.created_at.millis() < DEDUP_WINDOW_MS
}

/// True when `new` is `old` with a typo fixed: one edit anywhere, or two in the domain
/// (`gmial.con`). Two edits in a short name already make another person (`pam` → `nav`).
fn is_typo_fix(old: &str, new: &str) -> bool {
    let local = |e: &str| e.rsplit_once('@').map(|(l, _)| l.to_string());
    match typo_distance(old, new) {
        0 | 1 => true,
        2 => local(old) == local(new),
        _ => false,
    }
}

/// Edits (a character changed, dropped, added, or two neighbours swapped) between two
/// short strings; stops counting past 3.
fn typo_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 2 || a.len() > 254 || b.len() > 254 {
        return 3;
    }
    // Optimal string alignment distance, three rows.
    let mut before = vec![0usize; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0usize; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (previous[j] + 1).min(current[j - 1] + 1).min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            current[j] = d;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()].min(3)
}

/// True when the candidate updates `lead` instead of making a new one.
pub fn matches(lead: &Lead, candidate: &LeadCandidate, now: Timestamp) -> bool {
    let Some(email) = candidate.email() else {
        return false;
    };
    lead.email.as_deref() == Some(email)
        && lead.visitor_id == candidate.visitor_id
        && now.millis() - lead.created_at.millis() < DEDUP_WINDOW_MS
}

fn attr(contact: &mapping::Contact, a: LeadAttr) -> Option<String> {
    contact.get(&a).filter(|v| !v.trim().is_empty()).cloned()
}

/// A new lead from a candidate.
pub fn new_lead(candidate: &LeadCandidate, client_id: Id, lead_id: Id, now: Timestamp) -> Lead {
    let mut lead = Lead {
        lead_id,
        client_id,
        status: candidate.status,
        source: candidate.source.to_string(),
        session_id: candidate.session_id.clone(),
        visitor_id: candidate.visitor_id.clone(),
        created_at: now,
        updated_at: now,
        sync_status: SyncStatus::NotConfigured,
        ..Default::default()
    };
    merge(&mut lead, candidate, now);
    lead
}

/// Merges a candidate into a lead: status only moves up (partial → chat inquiry →
/// submitted), newer non-empty values win, first-touch attribution is kept, spam reasons
/// accumulate and quality follows from status and reasons.
///
/// Values only move forward. A candidate older than the lead's last applied event (a
/// queued partial the browser sent late) and a partial reaching a submitted lead (what the
/// visitor typed is not what they sent) may fill what the lead lacks, never overwrite it.
pub fn merge(lead: &mut Lead, candidate: &LeadCandidate, now: Timestamp) {
    // A candidate that raises the status (the submission of what was a partial lead) brings
    // what was sent, which beats what was typed, however late it arrives.
    let fill_only = candidate.status.rank() <= lead.status.rank()
        && (lead.last_interaction_at.is_some_and(|last| candidate.at < last)
            || (candidate.status == LeadStatus::Partial && lead.status == LeadStatus::Submitted));
    // `source` stays how the lead first arrived, so partial → submitted conversion can be
    // measured later.
    if candidate.status.rank() > lead.status.rank() {
        lead.status = candidate.status;
    }
    if candidate.status == LeadStatus::Submitted && lead.submitted_at.is_none() {
        lead.submitted_at = Some(candidate.at);
    }
    let c = &candidate.contact;
    let set = |slot: &mut Option<String>, a: LeadAttr| {
        if fill_only && slot.is_some() {
            return;
        }
        if let Some(v) = attr(c, a) {
            *slot = Some(v);
        }
    };
    set(&mut lead.email, LeadAttr::Email);
    set(&mut lead.name, LeadAttr::Name);
    set(&mut lead.first_name, LeadAttr::FirstName);
    set(&mut lead.last_name, LeadAttr::LastName);
    set(&mut lead.phone, LeadAttr::Phone);
    set(&mut lead.company, LeadAttr::Company);
    set(&mut lead.message, LeadAttr::Message);
    // A new lead has no fields yet. Otherwise the newer event's fields come first, in its
    // order (the whole form, where a partial had what was typed before the email), then
    // fields only the lead had (steps a form no longer shows).
    if lead.fields.is_empty() {
        lead.fields = candidate.fields.clone();
    } else {
        let mut old = std::mem::take(&mut lead.fields);
        let mut fields = Fields::with_capacity(old.len() + candidate.fields.len());
        for (k, v) in &candidate.fields {
            let value = match old.shift_remove(k) {
                Some(previous) if fill_only => previous,
                _ => v.clone(),
            };
            fields.insert(k.clone(), value);
        }
        fields.extend(old);
        lead.fields = fields;
    }
    if candidate.form_id.is_some() && !(fill_only && lead.form_id.is_some()) {
        lead.form_id = candidate.form_id;
    }
    if candidate.form_ref.is_some() && !(fill_only && lead.form_ref.is_some()) {
        lead.form_ref = candidate.form_ref.clone();
    }
    if lead.session_id.is_none() {
        lead.session_id = candidate.session_id.clone();
    }
    if lead.metadata.is_empty() {
        lead.metadata = candidate.metadata.clone();
    } else {
        for (k, v) in &candidate.metadata {
            // First touch: the attribution a lead was created with is the one that brought them.
            if (fill_only || k == "attribution") && lead.metadata.contains_key(k) {
                continue;
            }
            lead.metadata.insert(k.clone(), v.clone());
        }
    }
    for reason in &candidate.spam_reasons {
        if !lead.quality_reasons.contains(reason) {
            lead.quality_reasons.push(reason.clone());
        }
    }
    // Contact data may have arrived since the lead was flagged as having none.
    if lead.email.is_some() || lead.phone.is_some() {
        lead.quality_reasons.retain(|r| r != quality::NO_CONTACT_DATA);
    }
    lead.quality = quality::quality(lead.status, &lead.quality_reasons);
    let latest = lead.last_interaction_at.map_or(candidate.at, |t| t.max(candidate.at));
    lead.last_interaction_at = Some(latest);
    lead.updated_at = now;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::parse_single;
    use crate::domain::model::LeadQuality;
    use serde_json::json;

    const T0: i64 = 1_700_000_000_000;

    fn event(v: Value) -> TrackEvent {
        let mut body = v;
        body["clientId"] = json!("c");
        body["id"] = json!(Uuid::new_v4().to_string());
        parse_single(body.to_string().as_bytes(), Timestamp(T0), &crate::domain::enrich::RequestContext::default())
            .unwrap()
            .events
            .remove(0)
    }

    #[test]
    fn interaction_without_email_is_no_lead() {
        let e = event(json!({"type": "form_interaction", "fields": {"name": "Ada"}, "visitorId": "v"}));
        assert!(candidate(&e, &SiteRules::default()).is_none());
        let e = event(json!({"type": "tracker_initialized"}));
        assert!(candidate(&e, &SiteRules::default()).is_none());
    }

    #[test]
    fn no_partial_leads_when_the_site_turned_partial_capture_off() {
        let off = SiteRules { partial_capture_off: true, ..Default::default() };
        let typed =
            event(json!({"type": "form_interaction", "fields": {"email": "ada@example.org"}, "visitorId": "v"}));
        assert!(candidate(&typed, &SiteRules::default()).is_some());
        assert!(candidate(&typed, &off).is_none());
        let sent = event(json!({"type": "form_submission", "fields": {"email": "ada@example.org"}, "visitorId": "v"}));
        assert!(candidate(&sent, &off).is_some(), "submissions still make leads");
    }

    /// Search boxes, add-to-cart and login forms on almost every shop and blog, cookie
    /// banners and theme pickers: their submissions are not people asking to be contacted.
    #[test]
    fn searches_carts_and_logins_are_no_leads() {
        let rules = SiteRules::default();
        for fields in [
            json!({"s": "blue shoes"}),
            json!({"q": "pricing"}),
            json!({"quantity": "1"}),
            json!({"quantity": "2", "size": "M", "color": "Blue"}),
            json!({"username": "customer.login@example.org"}),
            json!({"log": "admin", "rememberme": "forever"}),
            json!({"user_login": "ada"}),
            json!({"analytics": "1", "marketing": "1"}),
            json!({"necessary": "on", "analytics": "off", "marketing": ""}),
            json!({"dark_mode": "true"}),
            json!({"remember": "1"}),
        ] {
            let e = event(json!({"type": "form_submission", "fields": fields, "visitorId": "v"}));
            assert!(candidate(&e, &rules).is_none(), "{fields}");
            let e = event(json!({"type": "form_interaction", "fields": fields, "visitorId": "v"}));
            assert!(candidate(&e, &rules).is_none(), "{fields}");
        }
        // Anything more, or an email typed into a search box, and it is a lead again; so is
        // a newsletter signup, and a chat message whatever its fields.
        for fields in [
            json!({"s": "ada@example.org"}),
            json!({"quantity": "1", "email": "ada@example.org"}),
            json!({"username": "ada", "email": "ada@example.org"}),
            json!({"q": "x", "message": "Please call me"}),
            json!({"email": "ada@example.org"}),
            json!({"remember": "1", "name": "Ada"}),
            json!({"newsletter": "yes", "phone": "+1 202 555 0101"}),
        ] {
            let e = event(json!({"type": "form_submission", "fields": fields, "visitorId": "v"}));
            assert!(candidate(&e, &rules).is_some(), "{fields}");
        }
        let e = event(json!({"type": "chat_message_sent", "fields": {"q": "x", "email": "a@example.org"}}));
        assert!(candidate(&e, &rules).is_some());
    }

    /// Customers signing in with their email as the user name (the tracker drops the
    /// password, so the email is all the server sees): Shopify's customer_login, a form
    /// called loginForm, a "remember me" box, a form with no id on /users/sign_in.
    #[test]
    fn sign_in_forms_with_an_email_are_no_leads() {
        let rules = SiteRules::default();
        let signed_in = |extra: Value, fields: Value| {
            let mut e = json!({"type": "form_submission", "fields": fields, "visitorId": "v",
                "page": "https://shop.example/account"});
            e.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            event(e)
        };
        let email = json!({"email": "ada@example.org"});
        for (extra, fields) in [
            (json!({"formId": "customer_login"}), email.clone()),
            (json!({"formId": "loginForm"}), json!({"customer_email": "ada@example.org"})),
            (json!({"formName": "signin"}), email.clone()),
            (json!({"formClass": "woocommerce-form-login"}), json!({"username": "ada@example.org"})),
            (json!({"formId": "log-in"}), email.clone()),
            (json!({"formClass": "form"}), json!({"email": "ada@example.org", "remember_me": "on"})),
            (json!({"formClass": "form"}), json!({"email": "ada@example.org", "stayLoggedIn": "true"})),
            (json!({"page": "https://app.example/users/sign_in"}), email.clone()),
            (json!({"page": "https://blog.example/wp-login.php"}), json!({"log": "ada@example.org"})),
            (json!({"formId": "loginform"}), json!({"email": "ada@example.org", "rememberme": "forever"})),
            (json!({"page": "https://app.example/account/login/"}), email.clone()),
            (json!({"page": "https://shop.example/de/einloggen"}), json!({"e_mail": "ada@example.org"})),
            (json!({"formId": "iniciar-sesión"}), email.clone()),
        ] {
            let e = signed_in(extra.clone(), fields.clone());
            assert!(is_sign_in_form(&e, &e.fields), "{extra} {fields}");
            assert!(candidate(&e, &rules).is_none(), "{extra} {fields}");
            let mut partial = e.clone();
            partial.event_type = EventType::FormInteraction;
            assert!(candidate(&partial, &rules).is_none(), "{extra} {fields}");
        }
        // A sign-up or contact form, a newsletter box on a login page (its own id or class), a
        // blog's info box: leads.
        for (extra, fields) in [
            (json!({"formId": "customer_login"}), json!({"email": "ada@example.org", "name": "Ada"})),
            (json!({"formId": "signup"}), email.clone()),
            (json!({"formId": "newsletter", "page": "https://app.example/login"}), email.clone()),
            (json!({"formClass": "footer-signup", "page": "https://app.example/login"}), email.clone()),
            (json!({"formClass": "mc-newsletter", "page": "https://app.example/login"}), email.clone()),
            (json!({"formClass": "bloginfo"}), email.clone()),
            (json!({"formId": "catalog-in-print"}), email.clone()),
            (json!({"formClass": "e-signing-form"}), email.clone()),
            (json!({"formId": "login-or-register"}), email.clone()),
            (json!({"page": "https://blog.example/blog/how-to-log-in-to-your-router"}), email.clone()),
            (json!({"formClass": "form"}), json!({"email": "ada@example.org", "phone": "+1 202 555 0101"})),
        ] {
            let e = signed_in(extra.clone(), fields.clone());
            assert!(!is_sign_in_form(&e, &e.fields), "{extra} {fields}");
            assert!(candidate(&e, &rules).is_some(), "{extra} {fields}");
        }
    }

    /// The same visitor's next event from the same form carries on a lead no email ties it
    /// to, while that lead is open and recent; not a closed one, another form or visitor.
    #[test]
    fn an_open_lead_is_continued_by_its_visitor_on_its_form() {
        let rules = SiteRules::default();
        let cand = |v: Value| candidate(&event(v), &rules).unwrap();
        let typo = cand(json!({"type": "form_interaction", "visitorId": "v", "formId": "contact",
            "fields": {"email": "tina@exmaple.com"}}));
        let partial = new_lead(&typo, Uuid::nil(), Uuid::nil(), Timestamp(T0));
        let fixed = cand(json!({"type": "form_submission", "visitorId": "v", "formId": "contact",
            "fields": {"email": "tina@example.com"}}));
        assert!(continues(&partial, &fixed, Timestamp(T0 + 60_000)));
        assert!(!continues(&partial, &fixed, Timestamp(T0 + CONTINUE_WINDOW_MS)), "too late");
        let elsewhere = cand(json!({"type": "form_submission", "visitorId": "v", "formId": "quote",
            "fields": {"email": "tina@example.com"}}));
        assert!(!continues(&partial, &elsewhere, Timestamp(T0)), "another form");
        let other_page = cand(json!({"type": "form_submission", "visitorId": "v", "formId": "contact",
            "page": {"url": "https://example.com/newsletter", "path": "/newsletter"},
            "fields": {"email": "tina@example.com"}}));
        assert!(!continues(&partial, &other_page, Timestamp(T0)), "the same selector on another page");
        let colleague = cand(json!({"type": "form_submission", "visitorId": "v", "formId": "contact",
            "fields": {"email": "pam@example.com"}}));
        assert!(!continues(&partial, &colleague, Timestamp(T0)), "another address is another person");
        let someone = cand(json!({"type": "form_submission", "visitorId": "w", "formId": "contact",
            "fields": {"email": "tina@example.com"}}));
        assert!(!continues(&partial, &someone, Timestamp(T0)), "another visitor");

        // A submission the page refused (no email yet), then the fixed one: one lead.
        let refused = cand(json!({"type": "form_submission", "visitorId": "v", "formSelector": "form.wpcf7-form",
            "fields": {"your-email": "tim.typo@exmaple"}}));
        let mut lead = new_lead(&refused, Uuid::nil(), Uuid::nil(), Timestamp(T0));
        assert!(lead.email.is_none());
        let sent = cand(json!({"type": "form_submission", "visitorId": "v", "formSelector": "form.wpcf7-form",
            "fields": {"your-email": "tim@example.com"}}));
        assert!(continues(&lead, &sent, Timestamp(T0 + 30_000)));
        merge(&mut lead, &sent, Timestamp(T0 + 30_000));
        assert_eq!(lead.email.as_deref(), Some("tim@example.com"));
        assert!(!lead.quality_reasons.iter().any(|r| r == quality::NO_CONTACT_DATA), "{:?}", lead.quality_reasons);
        // Two people at one browser sending a form without email (a callback form): two
        // leads; and a name that differs says it is someone else.
        let call = |name: &str, phone: &str| {
            cand(json!({"type": "form_submission", "visitorId": "v", "formSelector": "form.callback",
                "fields": {"name": name, "phone": phone}}))
        };
        let first = new_lead(&call("Ann", "+1 202 555 0101"), Uuid::nil(), Uuid::nil(), Timestamp(T0));
        assert!(!continues(&first, &call("Bob", "+1 202 555 0199"), Timestamp(T0 + 60_000)));
        assert!(!continues(&first, &call("Ann", "+1 202 555 0101"), Timestamp(T0 + 60_000)), "no email at all");
        let named = cand(json!({"type": "form_submission", "visitorId": "v", "formSelector": "form.wpcf7-form",
            "fields": {"your-email": "kim@example.com", "name": "Kim"}}));
        let refused_tim = {
            let mut l = new_lead(&refused, Uuid::nil(), Uuid::nil(), Timestamp(T0));
            l.name = Some("Tim".into());
            l
        };
        assert!(!continues(&refused_tim, &named, Timestamp(T0 + 60_000)), "another name");
        // Submitted with an email, it is closed: another address is another lead.
        let other = cand(json!({"type": "form_submission", "visitorId": "v", "formSelector": "form.wpcf7-form",
            "fields": {"your-email": "colleague@example.com"}}));
        assert!(!continues(&lead, &other, Timestamp(T0 + 60_000)));
    }

    #[test]
    fn typos_are_a_few_edits_apart() {
        assert_eq!(typo_distance("tina@example.com", "tina@example.com"), 0);
        assert_eq!(typo_distance("tina@exmaple.com", "tina@example.com"), 1, "a swap");
        assert_eq!(typo_distance("tina@gmial.con", "tina@gmail.com"), 2);
        assert_eq!(typo_distance("tna@example.com", "tina@example.com"), 1);
        assert!(is_typo_fix("tina@exmaple.com", "tina@example.com"));
        assert!(is_typo_fix("tina@gmial.con", "tina@gmail.com"));
        assert!(!is_typo_fix("pam@example.com", "nav@example.com"), "two letters of a short name");
        assert!(!is_typo_fix("pam.partial@example.com", "nav.partial@example.com"));
        assert!(typo_distance("personal.x@gmail.com", "work.x@company.com") > 2);
    }

    #[test]
    fn partial_then_submission_upgrades_in_place() {
        let rules = SiteRules::default();
        let p = event(json!({"type": "form_interaction", "fields": {"email": "Ada@Example.org "}, "visitorId": "v"}));
        let cand = candidate(&p, &rules).unwrap();
        let mut lead = new_lead(&cand, Uuid::nil(), Uuid::nil(), Timestamp(T0));
        assert_eq!((lead.status, lead.quality), (LeadStatus::Partial, LeadQuality::Medium));
        assert_eq!(lead.email.as_deref(), Some("ada@example.org"));
        assert!(lead.submitted_at.is_none());

        let s = event(json!({"type": "form_submission", "visitorId": "v",
            "fields": {"email": "ada@example.org", "name": "Ada Lovelace", "message": "Hi"}}));
        let cand = candidate(&s, &rules).unwrap();
        assert!(matches(&lead, &cand, Timestamp(T0 + 1000)));
        merge(&mut lead, &cand, Timestamp(T0 + 1000));
        assert_eq!((lead.status, lead.quality), (LeadStatus::Submitted, LeadQuality::High));
        assert_eq!(lead.first_name.as_deref(), Some("Ada"));
        assert!(lead.submitted_at.is_some());

        // A later partial never downgrades.
        merge(&mut lead, &candidate(&p, &rules).unwrap(), Timestamp(T0 + 2000));
        assert_eq!(lead.status, LeadStatus::Submitted);
    }

    /// A partial the browser queued an hour earlier, sent after the submission, and a
    /// partial typed after it: neither changes what was submitted; they only fill gaps.
    #[test]
    fn late_and_partial_events_never_overwrite_a_submission() {
        let rules = SiteRules::default();
        const HOUR: i64 = 60 * 60 * 1000;
        let at = |ms: i64| json!(ms);
        let sent = event(json!({"type": "form_submission", "visitorId": "v", "timestamp": at(T0),
            "fields": {"email": "ada@example.org", "name": "Final Name", "message": "Hi"}}));
        let mut lead = new_lead(&candidate(&sent, &rules).unwrap(), Uuid::nil(), Uuid::nil(), Timestamp(T0));
        let old_partial = event(json!({"type": "form_interaction", "visitorId": "v", "timestamp": at(T0 - HOUR),
            "fields": {"email": "ada@example.org", "name": "Dra", "company": "Engines Ltd"}}));
        let cand = candidate(&old_partial, &rules).unwrap();
        assert!(matches(&lead, &cand, Timestamp(T0 + 1000)));
        merge(&mut lead, &cand, Timestamp(T0 + 1000));
        assert_eq!(lead.name.as_deref(), Some("Final Name"));
        assert_eq!(lead.fields["name"], "Final Name");
        assert_eq!(lead.company.as_deref(), Some("Engines Ltd"), "a gap is filled");
        assert_eq!(lead.last_interaction_at, Some(Timestamp(T0)));

        let new_partial = event(json!({"type": "form_interaction", "visitorId": "v", "timestamp": at(T0 + HOUR),
            "fields": {"email": "ada@example.org", "name": "Ada L", "phone": "+1 202 555 0101"}}));
        merge(&mut lead, &candidate(&new_partial, &rules).unwrap(), Timestamp(T0 + HOUR));
        assert_eq!(lead.name.as_deref(), Some("Final Name"));
        assert_eq!(lead.phone.as_deref(), Some("+1 202 555 0101"));
        assert_eq!(lead.status, LeadStatus::Submitted);

        // An older submission does not overwrite a newer one; a newer one does.
        let older = event(json!({"type": "form_submission", "visitorId": "v", "timestamp": at(T0 - HOUR),
            "fields": {"email": "ada@example.org", "message": "First try"}}));
        merge(&mut lead, &candidate(&older, &rules).unwrap(), Timestamp(T0 + HOUR));
        assert_eq!(lead.message.as_deref(), Some("Hi"));
        // A submission arriving after a partial typed later still brings what was sent.
        let typed = event(json!({"type": "form_interaction", "visitorId": "w", "timestamp": at(T0 + HOUR),
            "fields": {"email": "grace@example.org", "name": "Gr"}}));
        let mut upgraded =
            new_lead(&candidate(&typed, &rules).unwrap(), Uuid::nil(), Uuid::nil(), Timestamp(T0 + HOUR));
        let late_submission = event(json!({"type": "form_submission", "visitorId": "w", "timestamp": at(T0),
            "fields": {"email": "grace@example.org", "name": "Grace Hopper"}}));
        merge(&mut upgraded, &candidate(&late_submission, &rules).unwrap(), Timestamp(T0 + 2 * HOUR));
        assert_eq!(upgraded.status, LeadStatus::Submitted);
        assert_eq!(upgraded.name.as_deref(), Some("Grace Hopper"));

        let newer = event(json!({"type": "form_submission", "visitorId": "v", "timestamp": at(T0 + 2 * HOUR),
            "fields": {"email": "ada@example.org", "message": "Second thoughts"}}));
        merge(&mut lead, &candidate(&newer, &rules).unwrap(), Timestamp(T0 + 2 * HOUR));
        assert_eq!(lead.message.as_deref(), Some("Second thoughts"));
    }

    #[test]
    fn dedup_needs_same_visitor_and_24h() {
        let rules = SiteRules::default();
        let e = event(json!({"type": "form_submission", "fields": {"email": "a@b.co"}, "visitorId": "v1"}));
        let lead = new_lead(&candidate(&e, &rules).unwrap(), Uuid::nil(), Uuid::nil(), Timestamp(T0));
        let other = event(json!({"type": "form_submission", "fields": {"email": "a@b.co"}, "visitorId": "v2"}));
        assert!(!matches(&lead, &candidate(&other, &rules).unwrap(), Timestamp(T0)));
        assert!(matches(&lead, &candidate(&e, &rules).unwrap(), Timestamp(T0 + DEDUP_WINDOW_MS - 1)));
        assert!(!matches(&lead, &candidate(&e, &rules).unwrap(), Timestamp(T0 + DEDUP_WINDOW_MS)));
    }

    #[test]
    fn spam_signals_lower_quality_with_reasons() {
        let rules = SiteRules { honeypot_field: Some("website".into()), ..Default::default() };
        let e = event(json!({"type": "form_submission", "timestamp": "2023-01-01T00:00:01.000Z",
            "formStartedAt": "2023-01-01T00:00:00.500Z",
            "fields": {"email": "x@mailinator.com", "website": "http://spam"}}));
        let lead = new_lead(&candidate(&e, &rules).unwrap(), Uuid::nil(), Uuid::nil(), Timestamp(T0));
        assert_eq!(lead.quality, LeadQuality::Low);
        assert_eq!(
            lead.quality_reasons,
            vec![quality::HONEYPOT_FILLED, quality::SUBMITTED_TOO_FAST, quality::DISPOSABLE_EMAIL]
        );

        let e = event(json!({"type": "form_submission", "fields": {"message": "hello"}}));
        let lead = new_lead(&candidate(&e, &rules).unwrap(), Uuid::nil(), Uuid::nil(), Timestamp(T0));
        assert_eq!(lead.quality_reasons, vec![quality::NO_CONTACT_DATA]);
        assert_eq!(lead.quality, LeadQuality::Low);
    }

    #[test]
    fn settings_forms_make_no_lead_but_a_message_of_one_word_does() {
        let rules = SiteRules::default();
        for fields in
            [json!({"theme": "dark"}), json!({"theme": "dark", "compact": "1"}), json!({"lang": "de", "rating": "5"})]
        {
            let e = event(json!({"type": "form_submission", "fields": fields}));
            assert!(candidate(&e, &rules).is_none(), "{fields}");
        }
        for fields in [
            json!({"message": "hello"}),
            json!({"feedback": "Great work"}),
            json!({"name": "Ada"}),
            json!({"company": "Acme"}),
            json!({"whatsapp": "+4915112345678"}),
            json!({"website": "https://acme.example"}),
        ] {
            let e = event(json!({"type": "form_submission", "fields": fields}));
            assert!(candidate(&e, &rules).is_some(), "{fields}");
        }
    }

    #[test]
    fn chat_with_email_is_a_chat_inquiry() {
        let e = event(
            json!({"type": "chat_message_sent", "fields": {"name": "Jo", "email": "jo@x.io", "message": "Price?"}}),
        );
        let lead = new_lead(&candidate(&e, &SiteRules::default()).unwrap(), Uuid::nil(), Uuid::nil(), Timestamp(T0));
        assert_eq!(lead.status, LeadStatus::ChatInquiry);
        assert_eq!(lead.message.as_deref(), Some("Price?"));
    }

    #[test]
    fn attribution_is_first_touch() {
        let rules = SiteRules::default();
        let a = event(
            json!({"type": "form_interaction", "fields": {"email": "a@b.co"}, "attribution": {"utm_source": "google"}}),
        );
        let b = event(
            json!({"type": "form_submission", "fields": {"email": "a@b.co"}, "attribution": {"utm_source": "bing"},
            "page": {"url": "https://x.io/contact"}}),
        );
        let mut lead = new_lead(&candidate(&a, &rules).unwrap(), Uuid::nil(), Uuid::nil(), Timestamp(T0));
        merge(&mut lead, &candidate(&b, &rules).unwrap(), Timestamp(T0));
        assert_eq!(lead.metadata["attribution"]["utm_source"], "google");
        assert_eq!(lead.metadata["page"]["url"], "https://x.io/contact");
    }
}
