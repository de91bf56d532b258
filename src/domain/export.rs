//! Lead export as CSV (RFC 4180) or NDJSON.
//!
//! CSV cells that a spreadsheet would run as a formula (starting with `= + - @`, tab or
//! carriage return) get a leading apostrophe: visitor-typed text must not execute when an
//! agency opens the export in Excel or Sheets. Control characters and bidirectional
//! overrides are dropped from cells first (see `is_dropped`).

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

/// Characters a cell never carries: C0 controls other than tab, line feed and carriage
/// return (NUL ends a string in some readers), and the bidirectional overrides and isolates,
/// which make a cell display text in another order than it holds (`exe.txt` shown for
/// `txt.exe`).
fn is_dropped(c: char) -> bool {
    (c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{7f}'))
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// One CSV cell, cleaned, defused and quoted as needed. Cleaning comes first, so a dropped
/// character cannot hide a formula from the check.
pub fn csv_cell(value: &str) -> String {
    let cleaned: String;
    let value = if value.contains(is_dropped) {
        cleaned = value.chars().filter(|c| !is_dropped(*c)).collect();
        &cleaned
    } else {
        value
    };
    let defused =
        if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.to_string() };
    // Quoted also when it holds `;` or a tab: a spreadsheet opening the file by double-click
    // splits on the locale's list separator (`;` in much of Europe), and an import may split
    // on tabs; unquoted, `x;=cmd|…` would then put a live formula in a cell of its own.
    if defused.contains([',', '"', '\n', '\r', ';', '\t']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
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
        // Whatever the reader splits on, a formula after a separator stays inside its cell.
        assert_eq!(csv_cell("x;=1+1;=cmd|' /C calc'!A0"), "\"x;=1+1;=cmd|' /C calc'!A0\"");
        assert_eq!(csv_cell("a\t=1+1"), "\"a\t=1+1\"");
    }

    #[test]
    fn controls_and_bidi_overrides_are_dropped() {
        assert_eq!(csv_cell("a\u{0}b\u{1b}[31mc\u{7}"), "ab[31mc");
        assert_eq!(csv_cell("invoice\u{202e}fdp.exe"), "invoicefdp.exe");
        for c in ['\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}'] {
            assert_eq!(csv_cell(&format!("x{c}y")), "xy", "{:?}", c);
        }
        // Tab, line breaks and other text stay; a formula behind a dropped character is defused.
        assert_eq!(csv_cell("a\tb"), "\"a\tb\"");
        assert_eq!(csv_cell("a\r\nb"), "\"a\r\nb\"");
        assert_eq!(csv_cell("\u{200f}שלום"), "\u{200f}שלום");
        assert_eq!(csv_cell("\u{0}=1+1"), "'=1+1");
        assert_eq!(csv_cell("\u{202e}@SUM(A1)"), "'@SUM(A1)");
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
