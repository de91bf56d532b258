//! Every redb table, in one place, with stable names. Renaming a table is a schema change.
//!
//! Ids are 16-byte UUIDs; composite index keys concatenate them (`client ++ lead`), so a
//! range scan over a 16-byte prefix lists one parent's children in id (= time) order.

use redb::TableDefinition;

pub type Id16 = [u8; 16];
pub type Pair = [u8; 32];

/// `schema_version` → u32 (little endian bytes).
pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

pub const CLIENTS: TableDefinition<Id16, &[u8]> = TableDefinition::new("clients");
/// Normalised domain → client id (domains are unique).
pub const CLIENTS_BY_DOMAIN: TableDefinition<&str, Id16> = TableDefinition::new("clients_by_domain");
/// SHA-256 of a client's secret key → client id.
pub const CLIENT_KEYS: TableDefinition<Pair, Id16> = TableDefinition::new("client_keys");

pub const FORMS: TableDefinition<Id16, &[u8]> = TableDefinition::new("forms");
/// client ++ form
pub const FORMS_BY_CLIENT: TableDefinition<Pair, ()> = TableDefinition::new("forms_by_client");
pub const FIELDS: TableDefinition<Id16, &[u8]> = TableDefinition::new("fields");
/// form ++ field
pub const FIELDS_BY_FORM: TableDefinition<Pair, ()> = TableDefinition::new("fields_by_form");
pub const MAPPINGS: TableDefinition<Id16, &[u8]> = TableDefinition::new("field_mappings");
/// field → its one mapping
pub const MAPPING_BY_FIELD: TableDefinition<Id16, Id16> = TableDefinition::new("mapping_by_field");

/// lead id (UUIDv7, so creation order) → lead
pub const LEADS: TableDefinition<Id16, &[u8]> = TableDefinition::new("leads");
/// client ++ lead: a client's leads by creation time (scan in reverse for newest first)
pub const LEADS_BY_CLIENT: TableDefinition<Pair, ()> = TableDefinition::new("leads_by_client");
/// client ++ email ++ 0x00 ++ lead
pub const LEADS_BY_EMAIL: TableDefinition<&[u8], ()> = TableDefinition::new("leads_by_email");
/// client ++ first 16 bytes of SHA-256(visitor ++ "\n" ++ form) → the newest lead that
/// visitor started on that form: how the next event from the same form finds a lead whose
/// email changed or never came (see `lead_rules::continues`).
pub const LEADS_BY_VISITOR_FORM: TableDefinition<Pair, Id16> = TableDefinition::new("leads_by_visitor_form");
/// lead status name → number of leads in it (kept in the same transactions as the leads)
pub const LEAD_COUNTS: TableDefinition<&str, u64> = TableDefinition::new("lead_counts");

/// client ++ first event id → a page of that site's events (see `event_pages`): events by
/// (client, arrival time)
pub const EVENT_PAGES: TableDefinition<Pair, &[u8]> = TableDefinition::new("event_pages");
/// lead ++ event
pub const EVENTS_BY_LEAD: TableDefinition<Pair, ()> = TableDefinition::new("events_by_lead");
/// client ++ sender's event id → arrival time (ms). A "seen" set, not an index of event
/// data: it outlives an erased event so a late retry of that event cannot bring it back.
/// The retention task prunes entries older than the tracker's retry horizon.
pub const SEEN_EVENT_IDS: TableDefinition<Pair, u64> = TableDefinition::new("seen_event_ids");

/// token id → token record; the hash index answers authentication.
pub const TOKENS: TableDefinition<Id16, &[u8]> = TableDefinition::new("api_tokens");
pub const TOKENS_BY_HASH: TableDefinition<Pair, Id16> = TableDefinition::new("api_tokens_by_hash");

/// username → dashboard user
pub const USERS: TableDefinition<&str, &[u8]> = TableDefinition::new("users");
/// SHA-256 of a session id → session
pub const SESSIONS: TableDefinition<Pair, &[u8]> = TableDefinition::new("sessions");

/// client ++ selector → forms the tracker saw that nobody configured
pub const DISCOVERED_FORMS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("discovered_forms");

/// job id (UUIDv7) → CRM sync job
pub const OUTBOX: TableDefinition<Id16, &[u8]> = TableDefinition::new("crm_outbox");
/// lead ++ attempt id → delivery attempt log entry
pub const SYNC_ATTEMPTS: TableDefinition<Pair, &[u8]> = TableDefinition::new("crm_sync_attempts");

/// Calls `$m!(TABLE)` for every table. The schema creates them all and backups copy them
/// all through this one list, so a new table cannot be left out of either.
#[macro_export]
macro_rules! for_each_table {
    ($m:ident) => {
        $m!(META);
        $m!(CLIENTS);
        $m!(CLIENTS_BY_DOMAIN);
        $m!(CLIENT_KEYS);
        $m!(FORMS);
        $m!(FORMS_BY_CLIENT);
        $m!(FIELDS);
        $m!(FIELDS_BY_FORM);
        $m!(MAPPINGS);
        $m!(MAPPING_BY_FIELD);
        $m!(LEADS);
        $m!(LEADS_BY_CLIENT);
        $m!(LEADS_BY_EMAIL);
        $m!(LEADS_BY_VISITOR_FORM);
        $m!(LEAD_COUNTS);
        $m!(EVENT_PAGES);
        $m!(EVENTS_BY_LEAD);
        $m!(SEEN_EVENT_IDS);
        $m!(TOKENS);
        $m!(TOKENS_BY_HASH);
        $m!(USERS);
        $m!(SESSIONS);
        $m!(DISCOVERED_FORMS);
        $m!(OUTBOX);
        $m!(SYNC_ATTEMPTS);
    };
}

pub fn pair(a: &Id16, b: &Id16) -> Pair {
    let mut out = [0u8; 32];
    out[..16].copy_from_slice(a);
    out[16..].copy_from_slice(b);
    out
}

/// The bounds (start inclusive, end exclusive) of one site's keys in [`DISCOVERED_FORMS`]:
/// the site's id, then the selector's UTF-8, which never holds the byte 0xff.
pub fn discovered_bounds(client: &Id16) -> (Vec<u8>, Vec<u8>) {
    let start = client.to_vec();
    let mut end = start.clone();
    end.push(0xff);
    (start, end)
}

/// The 32-byte key range holding every `prefix ++ *` entry.
pub fn prefix_range(prefix: &Id16) -> std::ops::RangeInclusive<Pair> {
    pair(prefix, &[0u8; 16])..=pair(prefix, &[0xffu8; 16])
}

pub fn second_half(key: &Pair) -> Id16 {
    let mut out = [0u8; 16];
    out.copy_from_slice(&key[16..]);
    out
}

pub fn email_key(client: &Id16, email: &str, lead: Option<&Id16>) -> Vec<u8> {
    let mut key = Vec::with_capacity(16 + email.len() + 17);
    key.extend_from_slice(client);
    key.extend_from_slice(email.as_bytes());
    key.push(0);
    if let Some(lead) = lead {
        key.extend_from_slice(lead);
    }
    key
}

/// The [`LEADS_BY_VISITOR_FORM`] key of a visitor's lead from a form.
pub fn visitor_form_key(client: &Id16, visitor: &str, form: &str) -> Pair {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(visitor.as_bytes());
    hash.update(b"\n");
    hash.update(form.as_bytes());
    let digest = hash.finalize();
    let mut second = [0u8; 16];
    second.copy_from_slice(&digest[..16]);
    pair(client, &second)
}
