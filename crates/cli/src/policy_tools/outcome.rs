//! What a call comes to, as the tools print it: runs, needs gates, or is refused.

use super::{EXIT_ALLOW, EXIT_REFUSED, EXIT_REQUIRE};
use countersign_service::config::format_duration;
use countersign_service::policy::{Outcome, RequiredGate};
use countersign_service::store::approvals_needed;
use serde::Serialize;

/// A gate a call needs, with who may fill it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GateView {
    /// The policy the gate belongs to.
    pub policy: String,
    /// The gate id.
    pub gate: String,
    /// Distinct approvals needed.
    pub quorum: u32,
    /// Who is eligible, sorted.
    pub members: Vec<String>,
}

impl From<&RequiredGate> for GateView {
    fn from(g: &RequiredGate) -> Self {
        Self {
            policy: g.policy.clone(),
            gate: g.gate.clone(),
            quorum: g.quorum,
            members: g.members.clone(),
        }
    }
}

/// The final outcome of a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OutcomeView {
    /// It runs without approval.
    Allow,
    /// It needs every one of these gates within `window`.
    Require {
        /// The gates.
        gates: Vec<GateView>,
        /// How long the approval stays open (`1h`).
        window: String,
        /// Different people needed in all (one person counts toward one gate).
        people_needed: u32,
    },
    /// A rule refuses it: 403 `policy_denied`.
    Deny {
        /// The refusing policy.
        policy: String,
        /// The refusing rule.
        rule: String,
    },
    /// Refused before any rule decides (the app binding, or the proxy's checks).
    Refused {
        /// The HTTP status the app would get.
        status: u16,
        /// The error code.
        code: String,
        /// Why.
        message: String,
    },
}

impl From<&Outcome> for OutcomeView {
    fn from(outcome: &Outcome) -> Self {
        match outcome {
            Outcome::Allow => OutcomeView::Allow,
            Outcome::Require { gates, window } => OutcomeView::Require {
                gates: gates.iter().map(GateView::from).collect(),
                window: format_duration(*window),
                people_needed: approvals_needed(gates),
            },
            Outcome::Deny { policy, rule } => OutcomeView::Deny {
                policy: policy.clone(),
                rule: rule.clone(),
            },
        }
    }
}

impl OutcomeView {
    /// The exit code of `policy explain` for this outcome.
    pub fn exit_code(&self) -> u8 {
        match self {
            OutcomeView::Allow => EXIT_ALLOW,
            OutcomeView::Require { .. } => EXIT_REQUIRE,
            OutcomeView::Deny { .. } | OutcomeView::Refused { .. } => EXIT_REFUSED,
        }
    }

    /// One line: `runs without approval`, `needs approval: refunds/finance (1 of alice,
    /// bob)`, `refused by rule no-deletes of policy refunds (403 policy_denied)`, ….
    pub fn summary(&self) -> String {
        match self {
            OutcomeView::Allow => "runs without approval".to_string(),
            OutcomeView::Require { gates, window, .. } => {
                let gates: Vec<String> = gates.iter().map(gate_text).collect();
                format!("needs approval within {window}: {}", gates.join(" and "))
            }
            OutcomeView::Deny { policy, rule } => {
                format!("refused by rule {rule} of policy {policy} (403 policy_denied)")
            }
            OutcomeView::Refused {
                status,
                code,
                message,
            } => format!("refused before any rule ({status} {code}): {message}"),
        }
    }
}

/// `refunds/finance (1 of alice, bob, carol)`.
pub fn gate_text(g: &GateView) -> String {
    format!(
        "{}/{} ({} of {})",
        g.policy,
        g.gate,
        g.quorum,
        g.members.join(", ")
    )
}
