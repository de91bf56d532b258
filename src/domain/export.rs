//! Lead export as CSV (RFC 4180) or NDJSON.
//!
//! CSV cells that a spreadsheet would run as a formula (starting with `= + - @`, tab or
//! carriage return) get a leading apostrophe: visitor-typed text must not execute when an
//! agency opens the export in Excel or Sheets.

use super::model::Lead;

pub const CSV_HEADER: &[&str] = &[
    "leadId",
    "clientId",
    "createdAt",
    "status",
    "quality",
    "qualityReasons",
    "email",
    "name",
    "firstName",
    "lastName",
    "phone",
    "company",
    "message",
    "source",
    "formId",
    "formRef",
    "visitorId",
    "submittedAt",
    "lastInteractionAt",
    "crmId",
    "syncStatus",
    "fields",
];

/// One CSV cell, defused and quoted as needed.
pub fn csv_cell(value: &str) -> String {
    let defused =
        if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.to_string() };
    if defused.contains([',', '"', '\n', '\r']) { format!("\"{}\"", defused.replace('"', "\"\"")) } else { defused }
}

pub fn csv_row(cells: &[String]) -> String {
    let mut line = cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

pub fn csv_header() -> String {
    csv_row(&CSV_HEADER.iter().map(|s| s.to_string()).collect::<Vec<_>>())
}

pub fn lead_csv(lead: &Lead) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let ts = |t: Option<super::time::Timestamp>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
    let status =
        serde_json::to_value(lead.sync_status).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    csv_row(&[
        lead.lead_id.to_string(),
        lead.client_id.to_string(),
        lead.created_at.to_rfc3339(),
        lead.status.as_str().to_string(),
        lead.quality.as_str().to_string(),
        lead.quality_reasons.join(" "),
        opt(&lead.email),
        opt(&lead.name),
        opt(&lead.first_name),
        opt(&lead.last_name),
        opt(&lead.phone),
        opt(&lead.company),
        opt(&lead.message),
        lead.source.clone(),
        lead.form_id.map(|f| f.to_string()).unwrap_or_default(),
        opt(&lead.form_ref),
        opt(&lead.visitor_id),
        ts(lead.submitted_at),
        ts(lead.last_interaction_at),
        opt(&lead.crm_id),
        status,
        serde_json::to_string(&lead.fields).unwrap_or_default(),
    ])
}

pub fn lead_ndjson(lead: &Lead) -> String {
    let mut line = serde_json::to_string(lead).unwrap_or_default();
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_quotes_escaped() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1 555"), "'+1 555");
        assert_eq!(csv_cell("-2"), "'-2");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(csv_cell("plain"), "plain");
    }

    #[test]
    fn a_lead_row_has_every_column() {
        let lead =
            Lead { email: Some("a@b.co".into()), message: Some("=cmd|' /C calc'!A0".into()), ..Default::default() };
        let row = lead_csv(&lead);
        assert!(row.contains("'=cmd"));
        assert!(row.ends_with("\r\n"));
    }
}
