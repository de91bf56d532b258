//! Lead quality: the status gives the starting quality; spam signals can only lower it,
//! and the reasons are kept with the lead.

use super::model::{LeadQuality, LeadStatus};

pub const HONEYPOT_FILLED: &str = "honeypot_filled";
pub const SUBMITTED_TOO_FAST: &str = "submitted_too_fast";
pub const DISPOSABLE_EMAIL: &str = "disposable_email";
pub const NO_CONTACT_DATA: &str = "no_contact_data";

/// A human needs at least this long to fill a form.
pub const MIN_HUMAN_FILL_MS: i64 = 2_000;

pub fn base_quality(status: LeadStatus) -> LeadQuality {
    match status {
        LeadStatus::Submitted | LeadStatus::ChatInquiry => LeadQuality::High,
        LeadStatus::Partial => LeadQuality::Medium,
    }
}

/// The quality a lead with this status and these reasons has.
pub fn quality(status: LeadStatus, reasons: &[String]) -> LeadQuality {
    let mut q = base_quality(status);
    for reason in reasons {
        q = match reason.as_str() {
            HONEYPOT_FILLED | SUBMITTED_TOO_FAST | NO_CONTACT_DATA => LeadQuality::Low,
            DISPOSABLE_EMAIL => q.lowered(),
            _ => q,
        };
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_only_lower() {
        assert_eq!(quality(LeadStatus::Submitted, &[]), LeadQuality::High);
        assert_eq!(quality(LeadStatus::Partial, &[]), LeadQuality::Medium);
        assert_eq!(quality(LeadStatus::Submitted, &[DISPOSABLE_EMAIL.into()]), LeadQuality::Medium);
        assert_eq!(quality(LeadStatus::Partial, &[DISPOSABLE_EMAIL.into()]), LeadQuality::Low);
        assert_eq!(quality(LeadStatus::Submitted, &[HONEYPOT_FILLED.into()]), LeadQuality::Low);
        assert_eq!(quality(LeadStatus::Submitted, &["unknown".into()]), LeadQuality::High);
    }
}
