//! `Timestamp`: milliseconds since the Unix epoch.
//!
//! Stored compactly as an integer in records (non-human-readable formats such as
//! MessagePack) and shown as RFC 3339 text in JSON.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        let now = OffsetDateTime::now_utc();
        Timestamp((now.unix_timestamp_nanos() / 1_000_000) as i64)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    pub fn plus_millis(self, ms: i64) -> Self {
        Timestamp(self.0.saturating_add(ms))
    }

    /// Parses RFC 3339 text (`2025-10-22T10:30:45.123Z`).
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let parsed = OffsetDateTime::parse(text, &Rfc3339).ok()?;
        Some(Timestamp((parsed.unix_timestamp_nanos() / 1_000_000) as i64))
    }

    /// Parses either RFC 3339 or a plain date (`2025-10-22`, taken as midnight UTC).
    pub fn parse_flexible(text: &str) -> Option<Self> {
        if let Some(ts) = Self::parse_rfc3339(text) {
            return Some(ts);
        }
        let date = time::Date::parse(text, time::macros::format_description!("[year]-[month]-[day]")).ok()?;
        let dt = date.midnight().assume_utc();
        Some(Timestamp((dt.unix_timestamp_nanos() / 1_000_000) as i64))
    }

    pub fn to_datetime(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(self.0 as i128 * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    pub fn to_rfc3339(self) -> String {
        let dt = self.to_datetime();
        // Millisecond precision, always `Z`: stable and sortable as text.
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            dt.millisecond()
        )
    }

    /// The UTC calendar date, `YYYY-MM-DD`.
    pub fn date_string(self) -> String {
        let dt = self.to_datetime();
        format!("{:04}-{:02}-{:02}", dt.year(), u8::from(dt.month()), dt.day())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() { s.serialize_str(&self.to_rfc3339()) } else { s.serialize_i64(self.0) }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let text = String::deserialize(d)?;
            Timestamp::parse_rfc3339(&text)
                .ok_or_else(|| serde::de::Error::custom(format!("invalid RFC 3339 time: {text:?}")))
        } else {
            Ok(Timestamp(i64::deserialize(d)?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip() {
        let ts = Timestamp::parse_rfc3339("2025-10-22T10:30:45.123Z").unwrap();
        assert_eq!(ts.to_rfc3339(), "2025-10-22T10:30:45.123Z");
        assert_eq!(ts.date_string(), "2025-10-22");
    }

    #[test]
    fn offsets_are_normalised_to_utc() {
        let ts = Timestamp::parse_rfc3339("2025-10-22T12:30:45+02:00").unwrap();
        assert_eq!(ts.to_rfc3339(), "2025-10-22T10:30:45.000Z");
    }

    #[test]
    fn plain_dates_parse_as_midnight() {
        let ts = Timestamp::parse_flexible("2025-10-22").unwrap();
        assert_eq!(ts.to_rfc3339(), "2025-10-22T00:00:00.000Z");
        assert!(Timestamp::parse_flexible("22/10/2025").is_none());
    }
}
