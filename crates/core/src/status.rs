//! The approval lifecycle states (see the protocol reference for the transitions).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where an approval is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ApprovalStatus {
    /// Waiting for decisions.
    Pending,
    /// Quorum reached; the call has not been sent yet.
    Approved,
    /// The call is being sent (committed before sending).
    Executing,
    /// The call ran; the provider's answer is stored.
    Succeeded,
    /// Approved, but the call failed or its outcome is unknown.
    ExecutionFailed,
    /// An approver denied it.
    Denied,
    /// The window closed before the quorum was reached.
    Expired,
    /// The app withdrew it.
    Cancelled,
}

impl ApprovalStatus {
    /// Every state, in lifecycle order.
    pub const ALL: [ApprovalStatus; 8] = [
        Self::Pending,
        Self::Approved,
        Self::Executing,
        Self::Succeeded,
        Self::ExecutionFailed,
        Self::Denied,
        Self::Expired,
        Self::Cancelled,
    ];

    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Executing => "executing",
            Self::Succeeded => "succeeded",
            Self::ExecutionFailed => "execution_failed",
            Self::Denied => "denied",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
        }
    }

    /// True once nothing more will happen to the approval.
    pub fn is_final(&self) -> bool {
        !matches!(self, Self::Pending | Self::Approved | Self::Executing)
    }
}

impl fmt::Display for ApprovalStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status name that is not one of the lifecycle states.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown approval status {0:?}")]
pub struct UnknownStatus(pub String);

impl FromStr for ApprovalStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for st in ApprovalStatus::ALL {
            assert_eq!(st.as_str().parse::<ApprovalStatus>().unwrap(), st);
            assert_eq!(serde_json::to_value(st).unwrap(), st.as_str());
        }
        assert!("done".parse::<ApprovalStatus>().is_err());
        assert!(!ApprovalStatus::Executing.is_final());
        assert!(ApprovalStatus::ExecutionFailed.is_final());
    }
}
