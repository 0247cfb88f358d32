//! Building answer bodies from stored records.

use crate::store::ApprovalRecord;
use countersign_core::api::{ApprovalView, WalletApprovalDetail};

/// What an app sees of its approval.
pub fn approval_view(record: &ApprovalRecord) -> ApprovalView {
    ApprovalView {
        approval_id: record.id,
        status: record.status,
        expires_at: record.statement.expires_at,
        decisions: record.decisions.clone(),
        response: record.response.clone(),
        failure: record.failure.clone(),
    }
}

/// What a Wallet sees of an approval it may decide.
pub fn wallet_detail(record: &ApprovalRecord) -> WalletApprovalDetail {
    WalletApprovalDetail {
        statement: record.statement.clone(),
        request_digest: record.request_digest.clone(),
        body: record.body.clone(),
        status: record.status,
        decisions: record.decisions.clone(),
        quorum: record.quorum,
        response: record.response.clone(),
        failure: record.failure.clone(),
    }
}
