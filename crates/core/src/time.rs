//! [`Timestamp`]: a UTC instant with whole seconds, written `2026-11-24T12:00:00Z`.
//!
//! Timestamps are part of signed objects, so exactly one text form is accepted: parsing
//! refuses offsets, fractions and lower-case letters, and `parse(t.to_string()) == t`.

use chrono::{DateTime, SubsecRound, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

const FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

/// A UTC instant truncated to whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "string"))]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(
        value_type = String,
        format = DateTime,
        pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
        example = "2026-11-24T12:00:00Z"
    )
)]
pub struct Timestamp(DateTime<Utc>);

/// A timestamp that is not in the canonical `YYYY-MM-DDTHH:MM:SSZ` form.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "invalid timestamp {0:?}: expected RFC 3339 UTC with whole seconds, e.g. 2026-11-24T12:00:00Z"
)]
pub struct TimestampError(pub String);

impl Timestamp {
    /// The current time, truncated to whole seconds.
    pub fn now() -> Self {
        Self::from_datetime(Utc::now())
    }

    /// Truncates `dt` to whole seconds.
    pub fn from_datetime(dt: DateTime<Utc>) -> Self {
        Self(dt.trunc_subsecs(0))
    }

    /// Seconds since the Unix epoch.
    pub fn from_unix(secs: i64) -> Option<Self> {
        Utc.timestamp_opt(secs, 0).single().map(Self)
    }

    /// Seconds since the Unix epoch.
    pub fn unix(&self) -> i64 {
        self.0.timestamp()
    }

    /// The underlying chrono value.
    pub fn as_datetime(&self) -> DateTime<Utc> {
        self.0
    }

    /// This instant plus `d` (whole seconds of it; saturating at the far future).
    pub fn plus(&self, d: Duration) -> Self {
        let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 4);
        Self::from_unix(self.unix().saturating_add(secs)).unwrap_or(*self)
    }

    /// Signed seconds from `self` to `later` (negative when `later` is earlier).
    pub fn seconds_until(&self, later: &Timestamp) -> i64 {
        later.unix() - self.unix()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format(FORMAT))
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parsed = DateTime::parse_from_rfc3339(s).map_err(|_| TimestampError(s.to_string()))?;
        let ts = Self::from_datetime(parsed.with_timezone(&Utc));
        if ts.to_string() == s {
            Ok(ts)
        } else {
            Err(TimestampError(s.to_string()))
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_round_trips() {
        let t: Timestamp = "2026-11-24T12:00:00Z".parse().unwrap();
        assert_eq!(t.to_string(), "2026-11-24T12:00:00Z");
        assert_eq!(
            t.plus(Duration::from_secs(3600)).to_string(),
            "2026-11-24T13:00:00Z"
        );
    }

    #[test]
    fn other_forms_are_refused() {
        for bad in [
            "2026-11-24T12:00:00.5Z",
            "2026-11-24T12:00:00+00:00",
            "2026-11-24t12:00:00z",
            "2026-11-24 12:00:00Z",
            "yesterday",
        ] {
            assert!(bad.parse::<Timestamp>().is_err(), "{bad} was accepted");
        }
    }
}
