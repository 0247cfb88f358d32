//! Building answer bodies from stored records.

use crate::config::Config;
use crate::policy::{assign, RequiredGate, Seats};
use crate::store::ApprovalRecord;
use countersign_core::api::{
    ApprovalView, GateStatus, PolicyStatus, Progress, WalletApprovalDetail,
};
use countersign_core::Verdict;

/// What an app sees of its approval.
pub fn approval_view(record: &ApprovalRecord) -> ApprovalView {
    ApprovalView {
        approval_id: record.id,
        status: record.status,
        expires_at: record.statement.expires_at,
        decisions: record.decisions.clone(),
        matched: record.matched.clone(),
        response: record.response.clone(),
        failure: record.failure.clone(),
    }
}

/// What a Wallet sees of an approval it may decide.
pub fn wallet_detail(config: &Config, record: &ApprovalRecord) -> WalletApprovalDetail {
    WalletApprovalDetail {
        statement: record.statement.clone(),
        request_digest: record.request_digest.clone(),
        body: record.body.clone(),
        status: record.status,
        decisions: record.decisions.clone(),
        quorum: record.quorum,
        policy: policy_status(config, record),
        response: record.response.clone(),
        failure: record.failure.clone(),
    }
}

/// The rule that matched and each gate's progress, with who is eligible as the
/// configuration is now.
pub fn policy_status(config: &Config, record: &ApprovalRecord) -> PolicyStatus {
    let approvers: Vec<String> = record
        .decisions
        .iter()
        .filter(|d| d.decision == Verdict::Approve)
        .map(|d| d.approver_id.clone())
        .collect();
    PolicyStatus {
        matched: record.matched.clone(),
        gates: gate_statuses(&config.current_requirement(&record.requirement), &approvers),
    }
}

/// Each gate with whose approvals count toward it.
pub fn gate_statuses(gates: &[RequiredGate], approvers: &[String]) -> Vec<GateStatus> {
    let seats: Vec<Seats> = gates
        .iter()
        .map(|g| Seats {
            members: &g.members,
            quorum: g.quorum,
        })
        .collect();
    let filled = assign(&seats, approvers);
    gates
        .iter()
        .zip(filled)
        .map(|(g, approved_by)| GateStatus {
            policy: g.policy.clone(),
            gate: g.gate.clone(),
            quorum: g.quorum,
            eligible: g.members.clone(),
            approved_by,
        })
        .collect()
}

/// Approvals that count and approvals needed ("2 of 3").
pub fn progress(config: &Config, gates: &[RequiredGate], approvers: &[String]) -> Progress {
    PolicyStatus {
        matched: Vec::new(),
        gates: gate_statuses(&config.current_requirement(gates), approvers),
    }
    .progress()
}
