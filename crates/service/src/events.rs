//! The in-process event bus: every approval state change, as a wallet event with its audit seq,
//! published by the event feed (`crate::feed`) from the audit log.
//!
//! Long polls listen for their approval; wallet streams filter by approver. Events are derived
//! from audit entries, so a stream that missed some replays them from the audit log.

use crate::store::ApprovalHead;
use countersign_core::api::{Progress, WalletApprovalSummary, WalletEvent, WalletEventKind};
use countersign_core::audit::AuditEntry;
use countersign_core::{ApprovalStatus, Statement};
use std::sync::Arc;
use tokio::sync::broadcast;
use uuid::Uuid;

/// One published event.
#[derive(Debug, Clone)]
pub struct BusEvent {
    /// The audit seq that recorded it (the SSE id).
    pub seq: i64,
    /// Approvers who may see it.
    pub approvers: Arc<[String]>,
    /// The event itself.
    pub event: WalletEvent,
}

/// Broadcast of [`BusEvent`]s.
#[derive(Debug, Clone)]
pub struct EventBus(broadcast::Sender<BusEvent>);

impl EventBus {
    /// A bus keeping up to `capacity` events for slow listeners.
    pub fn new(capacity: usize) -> Self {
        Self(broadcast::channel(capacity).0)
    }

    /// Publishes the event recorded by `entry` about `record`, if it is one wallets see.
    /// Only the event feed (`crate::feed`) publishes, in audit order, whichever replica
    /// wrote the entry.
    pub fn publish(&self, entry: &AuditEntry, record: &ApprovalHead) {
        if let Some(event) = wallet_event(entry, record) {
            // No receivers is fine: nobody is waiting.
            let _ = self.0.send(BusEvent {
                seq: entry.seq,
                approvers: record.approvers.clone().into(),
                event,
            });
        }
    }

    /// A new listener.
    pub fn subscribe(&self) -> broadcast::Receiver<BusEvent> {
        self.0.subscribe()
    }
}

/// The wallet row of an approval.
pub fn summary(
    approval_id: Uuid,
    status: ApprovalStatus,
    s: &Statement,
    progress: Option<Progress>,
) -> WalletApprovalSummary {
    WalletApprovalSummary {
        approval_id,
        status,
        reason: s.reason.clone(),
        app: s.app.clone(),
        grant: s.grant.clone(),
        method: s.method.clone(),
        url: s.url.clone(),
        created_at: s.created_at,
        expires_at: s.expires_at,
        progress,
    }
}

/// The wallet event an audit entry stands for (`None` for entries wallets do not see).
/// The status is the one the entry recorded, so replays show history as it happened.
pub fn wallet_event(entry: &AuditEntry, record: &ApprovalHead) -> Option<WalletEvent> {
    if record.approvers.is_empty() {
        return None;
    }
    let kind = match entry.kind.as_str() {
        "requested" => WalletEventKind::Created,
        // A withdrawn decision changes an approval's progress as a decision does: Wallets
        // refresh it (its status stays `pending`).
        "decided" | "decision_withdrawn" => WalletEventKind::Decided,
        "expired" => WalletEventKind::Expired,
        "cancelled" => WalletEventKind::Cancelled,
        "executed" | "execution_failed" => WalletEventKind::Completed,
        _ => return None,
    };
    let status = entry
        .data
        .get("status")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or(record.status);
    let approval = (kind == WalletEventKind::Created).then(|| {
        summary(
            record.id,
            status,
            &record.statement,
            Some(Progress {
                approvals: 0,
                needed: record.quorum,
            }),
        )
    });
    Some(WalletEvent {
        kind,
        approval_id: record.id,
        status,
        approval,
    })
}
