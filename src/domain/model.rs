//! The records the product stores, shaped as the API shows them (camelCase, original §2.1).
//!
//! Every struct is `#[serde(default)]`, so a record written before a field existed still
//! reads (the missing field takes its default) and a record written by a newer build with an
//! extra field is read without error (unknown fields are ignored).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::time::Timestamp;

/// A form's fields, name → value as text, in the order the sender listed them: the form's
/// own order when the tracker sent them, so a lead reads like the form it came from. (A
/// `serde_json` object sorts its names.)
pub type Fields = indexmap::IndexMap<String, String>;

/// [`Fields`] from name–value pairs, in their order (the domain's unit tests build them so).
#[cfg(test)]
pub fn fields_of(pairs: &[(&str, &str)]) -> Fields {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

pub type Id = Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LeadStatus {
    #[default]
    Partial,
    ChatInquiry,
    Submitted,
}

impl LeadStatus {
    pub const ALL: [LeadStatus; 3] = [LeadStatus::Submitted, LeadStatus::Partial, LeadStatus::ChatInquiry];

    pub fn as_str(self) -> &'static str {
        match self {
            LeadStatus::Partial => "partial",
            LeadStatus::ChatInquiry => "chat_inquiry",
            LeadStatus::Submitted => "submitted",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        LeadStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// How far a lead has gone; a lead never moves to a lower rank by itself.
    pub fn rank(self) -> u8 {
        match self {
            LeadStatus::Partial => 0,
            LeadStatus::ChatInquiry => 1,
            LeadStatus::Submitted => 2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LeadQuality {
    Low,
    #[default]
    Medium,
    High,
}

impl LeadQuality {
    pub const ALL: [LeadQuality; 3] = [LeadQuality::High, LeadQuality::Medium, LeadQuality::Low];

    pub fn as_str(self) -> &'static str {
        match self {
            LeadQuality::Low => "low",
            LeadQuality::Medium => "medium",
            LeadQuality::High => "high",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        LeadQuality::ALL.into_iter().find(|q| q.as_str() == text)
    }

    pub fn lowered(self) -> Self {
        match self {
            LeadQuality::High => LeadQuality::Medium,
            _ => LeadQuality::Low,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    FormSubmission,
    #[default]
    FormInteraction,
    ChatMessageSent,
    TrackerInitialized,
}

impl EventType {
    pub const ALL: [EventType; 4] = [
        EventType::FormSubmission,
        EventType::FormInteraction,
        EventType::ChatMessageSent,
        EventType::TrackerInitialized,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::FormSubmission => "form_submission",
            EventType::FormInteraction => "form_interaction",
            EventType::ChatMessageSent => "chat_message_sent",
            EventType::TrackerInitialized => "tracker_initialized",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        EventType::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ConsentMode {
    /// Partial capture runs unless the visitor signals GPC or Do-Not-Track.
    #[default]
    None,
    /// Partial capture waits for `crmTracker.consent(true)`.
    Required,
}

/// Per-site settings; shown and edited through the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClientConfig {
    /// Extra origins (scheme://host[:port]) allowed to send events besides the domain.
    pub allowed_origins: Vec<String>,
    pub partial_capture: bool,
    pub consent_mode: ConsentMode,
    pub retention_days: u32,
    pub chat_widget: bool,
    /// Name of a hidden field real visitors leave empty.
    pub honeypot_field: Option<String>,
    /// CRM connectors. Stored with their secrets; shown by the API without them (see
    /// [`crate::crm::config`]). Edited through `PUT /v1/clients/{id}/crm`.
    pub crm: crate::crm::config::CrmConfig,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            allowed_origins: Vec::new(),
            partial_capture: true,
            consent_mode: ConsentMode::None,
            retention_days: 90,
            chat_widget: false,
            honeypot_field: None,
            crm: Default::default(),
        }
    }
}

/// A tracked website. `secret_key_hash` never leaves the server (see `ClientView`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Client {
    pub client_id: Id,
    pub name: String,
    pub domain: String,
    pub is_active: bool,
    pub config: ClientConfig,
    /// Hex SHA-256 of the secret key used by server-to-server senders.
    pub secret_key_hash: String,
    /// Bumped on every change to the client, its forms, fields or mappings; part of the
    /// tracker script's ETag.
    pub revision: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Form {
    pub form_id: Id,
    pub client_id: Id,
    pub form_name: String,
    pub page_url: String,
    pub form_selector: String,
    pub alternative_selectors: Vec<String>,
    pub is_active: bool,
    pub metadata: Map<String, Value>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Field {
    pub field_id: Id,
    pub form_id: Id,
    pub field_selector: String,
    pub field_name: String,
    pub field_type: String,
    pub label: Option<String>,
    pub is_required: bool,
    pub validation_rules: Map<String, Value>,
    pub order: i32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct FieldMapping {
    pub mapping_id: Id,
    pub field_id: Id,
    pub target_entity: String,
    pub target_field: String,
    pub transform: Option<String>,
    pub is_required: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SyncStatus {
    /// No CRM connector is configured for the lead's site.
    #[default]
    NotConfigured,
    Pending,
    Synced,
    Failed,
    DeadLetter,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Lead {
    pub lead_id: Id,
    pub client_id: Id,
    pub form_id: Option<Id>,
    /// The form as the tracker named it (configured id, element id or derived ref).
    pub form_ref: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub message: Option<String>,
    pub status: LeadStatus,
    pub quality: LeadQuality,
    /// Why the quality is below what the status gives (spam signals), e.g. `honeypot_filled`.
    pub quality_reasons: Vec<String>,
    pub source: String,
    pub session_id: Option<String>,
    pub visitor_id: Option<String>,
    /// Every captured (non-sensitive, redacted) field, newest value per name, in the order
    /// the form has them.
    pub fields: Fields,
    /// Page, attribution (referrer, landing page, utm_*) and form progress.
    pub metadata: Map<String, Value>,
    pub submitted_at: Option<Timestamp>,
    pub last_interaction_at: Option<Timestamp>,
    pub crm_synced_at: Option<Timestamp>,
    pub crm_id: Option<String>,
    pub sync_status: SyncStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Event {
    /// Server-made UUIDv7 (time-ordered by arrival).
    pub event_id: Id,
    /// The id the sender gave the event; retries repeat it.
    pub client_event_id: Id,
    pub client_id: Id,
    pub form_id: Option<Id>,
    pub form_ref: Option<String>,
    pub lead_id: Option<Id>,
    pub event_type: EventType,
    pub session_id: Option<String>,
    pub visitor_id: Option<String>,
    /// The event as received, after server-side redaction.
    pub payload: Map<String, Value>,
    /// When the sender says the event happened.
    pub timestamp: Timestamp,
    /// When the server stored it.
    pub created_at: Timestamp,
}

/// An admin API token. Only the SHA-256 of the token is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ApiToken {
    pub token_id: Id,
    pub name: String,
    /// Hex SHA-256 of the token; never shown (see the HTTP view).
    pub token_hash: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// A form the tracker reported that nobody configured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct DiscoveredForm {
    pub client_id: Id,
    pub selector: String,
    pub form_ref: Option<String>,
    pub page_url: Option<String>,
    pub field_names: Vec<String>,
    pub seen_count: u64,
    pub first_seen_at: Timestamp,
    pub last_seen_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SyncKind {
    /// Create the lead in the CRM, or update it when it already has a `crmId`.
    #[default]
    Upsert,
    /// Erase the person from the CRM (GDPR erasure).
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    #[default]
    Pending,
    Done,
    DeadLetter,
}

/// A CRM sync job in the outbox. Written in the same transaction as the lead change that
/// caused it, so a change is never stored without its job (or the job without the change).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct SyncJob {
    pub job_id: Id,
    pub client_id: Id,
    pub lead_id: Id,
    pub kind: SyncKind,
    /// For deletions: the CRM record to delete (the lead itself is gone by then).
    pub crm_id: Option<String>,
    /// For deletions: the email, for CRMs addressed by email.
    pub email: Option<String>,
    pub state: JobState,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    /// Sent to the CRM so a retried delivery is recognised as the same one.
    pub idempotency_key: String,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    #[default]
    Delivered,
    /// Failed in a way worth retrying (5xx, 429, timeout, connection refused).
    Retryable,
    /// Refused by the CRM (4xx other than 429) or impossible to build: dead letter.
    Rejected,
}

/// One delivery of a job to one connector (table `crm_sync_attempts`, key lead ++ attempt).
/// Holds no secret and at most a short excerpt of the CRM's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct SyncAttempt {
    pub attempt_id: Id,
    pub job_id: Id,
    pub lead_id: Id,
    pub kind: SyncKind,
    pub connector: String,
    /// Which delivery round of the job this was (1 = first).
    pub round: u32,
    pub at: Timestamp,
    pub status_code: Option<u16>,
    pub outcome: AttemptOutcome,
    /// At most 200 characters of the answer or error, with secrets and the email removed.
    pub excerpt: String,
    pub duration_ms: u64,
}
