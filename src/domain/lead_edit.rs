//! Manual edits of a lead through the admin API.

use serde::Deserialize;

use super::email;
use super::model::{Lead, LeadQuality, LeadStatus};
use super::site::ValidationError;

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

/// Applies an admin's edit. An admin may set any status or quality: they know the lead.
pub fn apply(lead: &mut Lead, update: LeadUpdate) -> Result<(), ValidationError> {
    if let Some(s) = update.status {
        lead.status = s;
        if s == LeadStatus::Submitted && lead.submitted_at.is_none() {
            lead.submitted_at = Some(lead.updated_at);
        }
    }
    if let Some(q) = update.quality {
        lead.quality = q;
    }
    if let Some(e) = update.email {
        lead.email = match clean("email", e, 254)? {
            Some(raw) => Some(email::normalize(&raw).ok_or_else(|| ValidationError {
                field: "email".into(),
                message: format!("{raw:?} is not an email address"),
            })?),
            None => None,
        };
    }
    /// (field name, the edit, the lead's slot, max length)
    type Edit<'a> = (&'static str, Option<Option<String>>, &'a mut Option<String>, usize);
    let fields: [Edit<'_>; 6] = [
        ("name", update.name, &mut lead.name, 200),
        ("firstName", update.first_name, &mut lead.first_name, 200),
        ("lastName", update.last_name, &mut lead.last_name, 200),
        ("phone", update.phone, &mut lead.phone, 50),
        ("company", update.company, &mut lead.company, 200),
        ("message", update.message, &mut lead.message, 4000),
    ];
    for (name, value, slot, max) in fields {
        if let Some(v) = value {
            *slot = clean(name, v, max)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_validate_and_apply() {
        let mut lead = Lead::default();
        let u: LeadUpdate =
            serde_json::from_value(serde_json::json!({"status": "submitted", "email": " A@B.co", "phone": null}))
                .unwrap();
        apply(&mut lead, u).unwrap();
        assert_eq!(lead.status, LeadStatus::Submitted);
        assert_eq!(lead.email.as_deref(), Some("a@b.co"));
        let u: LeadUpdate = serde_json::from_value(serde_json::json!({"email": "nope"})).unwrap();
        assert_eq!(apply(&mut lead, u).unwrap_err().field, "email");
        assert!(serde_json::from_value::<LeadUpdate>(serde_json::json!({"status": "won"})).is_err());
    }
}
