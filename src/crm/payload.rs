//! From a lead to what each connector sends. Pure: the dry run and the worker share it.
//!
//! The standard contact attributes come from the lead itself: configured mappings and
//! their transforms were applied when the lead was captured, and an admin may have
//! corrected a value since. A mapping to any other `targetField` (`Budget__c`) takes the
//! captured field's value through the mapping's transform. An `isRequired` mapping without
//! a value makes the lead impossible to send ([`PayloadError`]: the job is dead-lettered).

use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use thiserror::Error;

use crate::domain::mapping::{LeadAttr, Transform, Transformed};
use crate::domain::model::{Id, Lead};
use crate::domain::time::Timestamp;
use crate::store::queries::ClientBundle;

#[derive(Debug, Error, PartialEq)]
pub enum PayloadError {
    #[error(
        "mapping {target_field} is required but form field {field_name:?} has no value for this lead; fill it in (PUT /v1/leads/{{id}}) or make the mapping optional, then replay"
    )]
    MissingRequired { field_name: String, target_field: String },
}

/// A lead's values, ready to be named by a connector.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mapped {
    /// Email, FirstName, LastName, Phone, Company, Message: the lead's own values.
    pub attrs: BTreeMap<LeadAttr, String>,
    /// A Salesforce Lead field a mapping chose for a standard attribute (`MobilePhone`).
    pub salesforce_names: BTreeMap<LeadAttr, String>,
    /// `targetField` → value, for mappings to fields that are not standard attributes.
    pub custom: BTreeMap<String, String>,
}

fn lead_attr(lead: &Lead, attr: LeadAttr) -> Option<&str> {
    let v = match attr {
        LeadAttr::Email => &lead.email,
        LeadAttr::Name => &lead.name,
        LeadAttr::FirstName => &lead.first_name,
        LeadAttr::LastName => &lead.last_name,
        LeadAttr::Phone => &lead.phone,
        LeadAttr::Company => &lead.company,
        LeadAttr::Message => &lead.message,
    };
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Salesforce Lead fields a mapping may name for a standard attribute.
const SALESFORCE_LEAD_FIELDS: &[(&str, LeadAttr)] = &[
    ("Email", LeadAttr::Email),
    ("FirstName", LeadAttr::FirstName),
    ("LastName", LeadAttr::LastName),
    ("Phone", LeadAttr::Phone),
    ("MobilePhone", LeadAttr::Phone),
    ("Company", LeadAttr::Company),
    ("Description", LeadAttr::Message),
];

pub fn map_lead(lead: &Lead, bundle: &ClientBundle) -> Result<Mapped, PayloadError> {
    let mut mapped = Mapped::default();
    for attr in [
        LeadAttr::Email,
        LeadAttr::FirstName,
        LeadAttr::LastName,
        LeadAttr::Phone,
        LeadAttr::Company,
        LeadAttr::Message,
    ] {
        if let Some(v) = lead_attr(lead, attr) {
            mapped.attrs.insert(attr, v.to_string());
        }
    }
    // A full name alone still gives first and last names.
    if !mapped.attrs.contains_key(&LeadAttr::FirstName)
        && !mapped.attrs.contains_key(&LeadAttr::LastName)
        && let Some(Transformed::Name { first, last }) =
            lead_attr(lead, LeadAttr::Name).map(|n| Transform::SplitName.apply(n))
    {
        mapped.attrs.insert(LeadAttr::FirstName, first);
        if !last.is_empty() {
            mapped.attrs.insert(LeadAttr::LastName, last);
        }
    }

    let form = lead.form_id.and_then(|id| bundle.forms.iter().find(|f| f.form.form_id == id));
    for (field, mapping) in form.map(|f| f.fields.as_slice()).unwrap_or(&[]) {
        let Some(mapping) = mapping else { continue };
        let target = mapping.target_field.trim();
        let has_value = match LeadAttr::from_target_field(target) {
            Some(LeadAttr::Name) => {
                mapped.attrs.contains_key(&LeadAttr::FirstName) || mapped.attrs.contains_key(&LeadAttr::LastName)
            }
            Some(attr) => {
                if let Some((name, _)) = SALESFORCE_LEAD_FIELDS.iter().find(|(n, a)| *n == target && *a == attr) {
                    mapped.salesforce_names.insert(attr, name.to_string());
                }
                mapped.attrs.contains_key(&attr)
            }
            None => {
                // Transforms were validated when saved; an unreadable one maps as-is.
                let transform = Transform::parse(mapping.transform.as_deref()).unwrap_or(Transform::None);
                let raw = lead.fields.get(&field.field_name).map(String::as_str).unwrap_or("");
                match transform.apply(raw) {
                    Transformed::Value(v) => {
                        mapped.custom.insert(target.to_string(), v);
                        true
                    }
                    Transformed::Name { first, last } => {
                        mapped.custom.insert(target.to_string(), format!("{first} {last}").trim().to_string());
                        mapped.attrs.entry(LeadAttr::FirstName).or_insert(first);
                        if !last.is_empty() {
                            mapped.attrs.entry(LeadAttr::LastName).or_insert(last);
                        }
                        true
                    }
                    Transformed::Empty => false,
                }
            }
        };
        if mapping.is_required && !has_value {
            return Err(PayloadError::MissingRequired {
                field_name: field.field_name.clone(),
                target_field: target.to_string(),
            });
        }
    }
    Ok(mapped)
}

fn clip(value: &str, max: usize) -> String {
    value.chars().take(max).collect()
}

/// The Salesforce Lead record (sObject fields). `LastName` and `Company` are required by
/// Salesforce: they fall back to the email's local part and `Unknown`. Values are cut to
/// the standard fields' lengths so a long answer does not get the lead refused.
pub fn salesforce_lead(lead: &Lead, mapped: &Mapped, external_id_field: Option<&str>) -> Map<String, Value> {
    let standard: [(LeadAttr, &str, usize); 6] = [
        (LeadAttr::Email, "Email", 80),
        (LeadAttr::FirstName, "FirstName", 40),
        (LeadAttr::LastName, "LastName", 80),
        (LeadAttr::Phone, "Phone", 40),
        (LeadAttr::Company, "Company", 255),
        (LeadAttr::Message, "Description", 32_000),
    ];
    let mut out = Map::new();
    for (attr, default_name, max) in standard {
        if let Some(v) = mapped.attrs.get(&attr) {
            let name = mapped.salesforce_names.get(&attr).map(String::as_str).unwrap_or(default_name);
            out.insert(name.to_string(), json!(clip(v, max)));
        }
    }
    if !out.contains_key("LastName") {
        let local = lead.email.as_deref().and_then(|e| e.split('@').next()).filter(|l| !l.is_empty());
        out.insert("LastName".into(), json!(clip(local.unwrap_or("Unknown"), 80)));
    }
    if !out.contains_key("Company") {
        out.insert("Company".into(), json!("Unknown"));
    }
    out.insert("LeadSource".into(), json!("Web"));
    for (k, v) in &mapped.custom {
        out.insert(k.clone(), json!(v));
    }
    if let Some(field) = external_id_field {
        out.insert(field.to_string(), json!(lead.lead_id.to_string()));
    }
    out
}

/// HubSpot contact properties (CRM v3), by their internal names.
pub fn hubspot_properties(mapped: &Mapped) -> Map<String, Value> {
    let names = [
        (LeadAttr::Email, "email"),
        (LeadAttr::FirstName, "firstname"),
        (LeadAttr::LastName, "lastname"),
        (LeadAttr::Phone, "phone"),
        (LeadAttr::Company, "company"),
        (LeadAttr::Message, "message"),
    ];
    let mut out = Map::new();
    for (attr, name) in names {
        if let Some(v) = mapped.attrs.get(&attr) {
            out.insert(name.into(), json!(v));
        }
    }
    for (k, v) in &mapped.custom {
        out.insert(k.clone(), json!(v));
    }
    out
}

/// The webhook message for a created or changed lead (Standard Webhooks shape:
/// `type`, `timestamp`, `data`).
pub fn webhook_upsert(lead: &Lead, mapped: &Mapped, at: Timestamp) -> Value {
    let attr = |a: LeadAttr| mapped.attrs.get(&a).cloned();
    json!({
        "type": "lead.upserted",
        "timestamp": at,
        "data": {
            "leadId": lead.lead_id,
            "clientId": lead.client_id,
            "formId": lead.form_id,
            "formRef": lead.form_ref,
            "status": lead.status,
            "quality": lead.quality,
            "qualityReasons": lead.quality_reasons,
            "source": lead.source,
            "email": attr(LeadAttr::Email),
            "name": lead.name,
            "firstName": attr(LeadAttr::FirstName),
            "lastName": attr(LeadAttr::LastName),
            "phone": attr(LeadAttr::Phone),
            "company": attr(LeadAttr::Company),
            "message": attr(LeadAttr::Message),
            "mapped": mapped.custom,
            "fields": lead.fields,
            "metadata": lead.metadata,
            "crmId": lead.crm_id,
            "submittedAt": lead.submitted_at,
            "createdAt": lead.created_at,
            "updatedAt": lead.updated_at,
        }
    })
}

/// The webhook message for an erased lead: what the receiver needs to find the person.
pub fn webhook_erased(lead_id: Id, client_id: Id, email: Option<&str>, crm_id: Option<&str>, at: Timestamp) -> Value {
    json!({
        "type": "lead.erased",
        "timestamp": at,
        "data": {"leadId": lead_id, "clientId": client_id, "email": email, "crmId": crm_id}
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::{Client, Field, FieldMapping, Form};
    use crate::store::queries::FormBundle;

    fn bundle(form_id: Id, maps: &[(&str, &str, Option<&str>, bool)]) -> ClientBundle {
        let fields = maps
            .iter()
            .map(|(name, target, transform, required)| {
                (
                    Field { field_name: name.to_string(), ..Default::default() },
                    Some(FieldMapping {
                        target_field: target.to_string(),
                        transform: transform.map(str::to_string),
                        is_required: *required,
                        ..Default::default()
                    }),
                )
            })
            .collect();
        ClientBundle {
            client: Client::default(),
            forms: vec![FormBundle { form: Form { form_id, ..Default::default() }, fields }],
        }
    }

    fn lead(form_id: Id) -> Lead {
        let mut l = Lead {
            form_id: Some(form_id),
            email: Some("ada@example.org".into()),
            name: Some("Ada King Lovelace".into()),
            phone: Some("+1 555".into()),
            ..Default::default()
        };
        l.fields.insert("budget".into(), "  10k ".into());
        l.fields.insert("full".into(), "Grace Hopper".into());
        l
    }

    #[test]
    fn salesforce_gets_mappings_and_defaults() {
        let form = uuid::Uuid::now_v7();
        let b = bundle(form, &[("budget", "Budget__c", Some("trim"), false), ("tel", "MobilePhone", None, false)]);
        let l = lead(form);
        let m = map_lead(&l, &b).unwrap();
        let sf = salesforce_lead(&l, &m, Some("CrmTracker_Id__c"));
        assert_eq!(sf["FirstName"], "Ada");
        assert_eq!(sf["LastName"], "King Lovelace");
        assert_eq!(sf["Company"], "Unknown");
        assert_eq!(sf["MobilePhone"], "+1 555");
        assert!(!sf.contains_key("Phone"));
        assert_eq!(sf["Budget__c"], "10k");
        assert_eq!(sf["CrmTracker_Id__c"], l.lead_id.to_string());

        let bare = Lead { email: Some("x.y@z.io".into()), ..Default::default() };
        let sf = salesforce_lead(&bare, &map_lead(&bare, &b).unwrap(), None);
        assert_eq!((sf["LastName"].as_str(), sf["Company"].as_str()), (Some("x.y"), Some("Unknown")));
    }

    #[test]
    fn split_name_on_a_custom_target_yields_first_and_last() {
        let form = uuid::Uuid::now_v7();
        let b = bundle(form, &[("full", "Contact_Name__c", Some("splitName"), false)]);
        let mut l = lead(form);
        l.name = None;
        let m = map_lead(&l, &b).unwrap();
        let hs = hubspot_properties(&m);
        assert_eq!((hs["firstname"].as_str(), hs["lastname"].as_str()), (Some("Grace"), Some("Hopper")));
        assert_eq!(hs["Contact_Name__c"], "Grace Hopper");
        assert_eq!(hs["email"], "ada@example.org");
    }

    #[test]
    fn a_required_mapping_without_a_value_is_an_error() {
        let form = uuid::Uuid::now_v7();
        let b = bundle(form, &[("company", "Company", None, true)]);
        let err = map_lead(&lead(form), &b).unwrap_err();
        assert!(matches!(err, PayloadError::MissingRequired { ref target_field, .. } if target_field == "Company"));
        assert!(err.to_string().contains("\"company\""));
        let b = bundle(form, &[("missing", "Budget__c", None, true)]);
        assert!(map_lead(&lead(form), &b).is_err());
        let b = bundle(form, &[("missing", "Budget__c", Some("default:none given"), true)]);
        assert_eq!(map_lead(&lead(form), &b).unwrap().custom["Budget__c"], "none given");
    }
}
