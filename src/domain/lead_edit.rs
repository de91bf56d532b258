//! Manual edits of a lead through the admin API.

use serde::Deserialize;

use super::email;
use super::model::{Lead, LeadQuality, LeadStatus};
use super::site::ValidationError;
use super::time::Timestamp;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LeadUpdate {
    pub status: Option<LeadStatus>,
    pub quality: Option<LeadQuality>,
    #[serde(default, deserialize_with = "super::site::nullable")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::site::nullable")]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::site::nullable")]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::site::nullable")]
    pub last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::site::nullable")]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::site::nullable")]
    pub company: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::site::nullable")]
    pub message: Option<Option<String>>,
}

fn clean(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, ValidationError> {
    let value = value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    if value.as_ref().is_some_and(|v| v.chars().count() > max) {
        return Err(ValidationError { field: field.into(), message: format!("must be at most {max} characters") });
    }
    Ok(value)
}

/// Checks and cleans an admin's edit (trimmed, empty → cleared, emails normalised) without
/// looking at the lead: the edit is applied later, by the writer, to the lead as it is then,
/// so values that arrived in between (a submission filling in the company) are not reverted.
pub fn validate(mut update: LeadUpdate) -> Result<LeadUpdate, ValidationError> {
    if let Some(e) = update.email.take() {
        update.email = Some(match clean("email", e, 254)? {
            Some(raw) => Some(email::normalize(&raw).ok_or_else(|| ValidationError {
                field: "email".into(),
                message: format!("{raw:?} is not an email address"),
            })?),
            None => None,
        });
    }
    // (field name, the edit, max length)
    let fields: [(&'static str, &mut Option<Option<String>>, usize); 6] = [
        ("name", &mut update.name, 200),
        ("firstName", &mut update.first_name, 200),
        ("lastName", &mut update.last_name, 200),
        ("phone", &mut update.phone, 50),
        ("company", &mut update.company, 200),
        ("message", &mut update.message, 4000),
    ];
    for (name, edit, max) in fields {
        if let Some(v) = edit.take() {
            *edit = Some(clean(name, v, max)?);
        }
    }
    Ok(update)
}

/// Applies a [`validate`]d edit: only the members it names change. An admin may set any
/// status or quality: they know the lead.
pub fn apply(lead: &mut Lead, update: LeadUpdate, now: Timestamp) {
    if let Some(s) = update.status {
        lead.status = s;
        if s == LeadStatus::Submitted && lead.submitted_at.is_none() {
            lead.submitted_at = Some(now);
        }
    }
    if let Some(q) = update.quality {
        lead.quality = q;
    }
    let edits = [
        (update.email, &mut lead.email),
        (update.name, &mut lead.name),
        (update.first_name, &mut lead.first_name),
        (update.last_name, &mut lead.last_name),
        (update.phone, &mut lead.phone),
        (update.company, &mut lead.company),
        (update.message, &mut lead.message),
    ];
    for (edit, slot) in edits {
        if let Some(v) = edit {
            *slot = v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_validate_and_apply() {
        let mut lead =
            Lead { company: Some("Arrived meanwhile".into()), phone: Some("+1 555".into()), ..Default::default() };
        let u: LeadUpdate =
            serde_json::from_value(serde_json::json!({"status": "submitted", "email": " A@B.co", "phone": null}))
                .unwrap();
        apply(&mut lead, validate(u).unwrap(), Timestamp(42));
        assert_eq!(lead.status, LeadStatus::Submitted);
        assert_eq!(lead.submitted_at, Some(Timestamp(42)));
        assert_eq!(lead.email.as_deref(), Some("a@b.co"));
        assert_eq!(lead.phone, None, "null clears");
        assert_eq!(lead.company.as_deref(), Some("Arrived meanwhile"), "members the edit does not name stay");
        let u: LeadUpdate = serde_json::from_value(serde_json::json!({"email": "nope"})).unwrap();
        assert_eq!(validate(u).unwrap_err().field, "email");
        let u: LeadUpdate = serde_json::from_value(serde_json::json!({"company": "  "})).unwrap();
        assert_eq!(validate(u).unwrap().company, Some(None), "blank clears");
        assert!(serde_json::from_value::<LeadUpdate>(serde_json::json!({"status": "won"})).is_err());
    }
}
