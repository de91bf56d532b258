//! Record encoding: one format byte, then named-field MessagePack.
//!
//! Named fields make records self-describing, so a field can be added without rewriting
//! the file (old records read with the new field defaulted; see the model's
//! `#[serde(default)]`). The format byte lets a future encoding live beside this one.

use serde::{Serialize, de::DeserializeOwned};

use super::StoreError;

const FORMAT_MSGPACK_NAMED: u8 = 1;

pub fn encode<T: Serialize>(record: &T) -> Result<Vec<u8>, StoreError> {
    // Records are mostly a few hundred bytes: one allocation up front instead of the
    // Vec growing (and copying) from one byte, which showed in ingest profiles.
    let mut out = Vec::with_capacity(512);
    out.push(FORMAT_MSGPACK_NAMED);
    rmp_serde::encode::write_named(&mut out, record).map_err(|e| StoreError::Encode(e.to_string()))?;
    Ok(out)
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((&FORMAT_MSGPACK_NAMED, rest)) => {
            rmp_serde::from_slice(rest).map_err(|e| StoreError::Decode(e.to_string()))
        }
        Some((other, _)) => Err(StoreError::Decode(format!("unknown record format {other}"))),
        None => Err(StoreError::Decode("empty record".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::{Lead, LeadStatus};
    use serde::Deserialize;

    /// The shape a lead had before fields were added to it.
    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct OldLead {
        lead_id: uuid::Uuid,
        email: Option<String>,
        status: LeadStatus,
    }

    #[test]
    fn a_record_written_with_an_older_shape_still_reads() {
        let id = uuid::Uuid::now_v7();
        let old = OldLead { lead_id: id, email: Some("a@b.co".into()), status: LeadStatus::Submitted };
        let lead: Lead = decode(&encode(&old).unwrap()).unwrap();
        assert_eq!(lead.lead_id, id);
        assert_eq!(lead.email.as_deref(), Some("a@b.co"));
        assert_eq!(lead.status, LeadStatus::Submitted);
        assert!(lead.fields.is_empty() && lead.crm_id.is_none());
    }

    #[test]
    fn a_record_written_by_a_newer_shape_still_reads() {
        let lead = Lead { email: Some("a@b.co".into()), ..Default::default() };
        let old: OldLead = decode(&encode(&lead).unwrap()).unwrap();
        assert_eq!(old.email.as_deref(), Some("a@b.co"));
    }

    #[test]
    fn payloads_round_trip() {
        let mut lead = Lead::default();
        lead.metadata
            .insert("page".into(), serde_json::json!({"url": "https://x.io", "n": 3, "ok": true, "l": [1, null]}));
        let back: Lead = decode(&encode(&lead).unwrap()).unwrap();
        assert_eq!(back, lead);
    }

    #[test]
    fn unknown_format_is_an_error() {
        assert!(decode::<Lead>(&[9, 1, 2]).is_err());
        assert!(decode::<Lead>(&[]).is_err());
    }
}
