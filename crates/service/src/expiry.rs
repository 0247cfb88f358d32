//! Expiring approvals on time, whether or not anyone is polling.
//!
//! The task sleeps until the earliest pending deadline (at most a minute), or until woken
//! because a new approval has an earlier one, then expires everything due.

use crate::state::AppState;
use crate::store::{AuditDraft, Outcome, StoreError};
use countersign_core::audit::AuditKind;
use countersign_core::ApprovalStatus;
use serde_json::json;
use std::time::Duration;

const MAX_SLEEP: Duration = Duration::from_secs(60);
const BATCH: i64 = 500;

/// Runs until shutdown.
pub async fn run(state: AppState) {
    loop {
        if let Err(e) = expire_due(&state).await {
            tracing::error!(error = %e, "expiry pass failed");
        }
        let sleep_for = match state.store.next_expiry().await {
            Ok(Some(deadline)) => {
                let ms = deadline.unix() * 1000 - state.clock.now_millis();
                Duration::from_millis(ms.max(0) as u64).min(MAX_SLEEP)
            }
            Ok(None) => MAX_SLEEP,
            Err(e) => {
                tracing::error!(error = %e, "reading the next expiry failed");
                Duration::from_secs(1)
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(sleep_for) => {}
            _ = state.expiry_wakeup.notified() => {}
            _ = state.shutdown.cancelled() => return,
        }
    }
}

/// Expires every pending approval whose window has closed; returns how many.
pub async fn expire_due(state: &AppState) -> Result<usize, StoreError> {
    let mut total = 0;
    loop {
        let now = state.clock.now();
        let due = state.store.due_for_expiry(now, BATCH).await?;
        for &id in &due {
            let draft = AuditDraft::approval(
                AuditKind::Expired,
                id,
                "service",
                json!({"status": "expired"}),
            );
            let entry = state
                .store
                .transition(
                    id,
                    &[ApprovalStatus::Pending],
                    ApprovalStatus::Expired,
                    Outcome::None,
                    draft,
                    now,
                )
                .await?;
            if let (Some(entry), Some(record)) = (entry, state.store.approval(id).await?) {
                state.bus.publish(&entry, &record);
                total += 1;
            }
        }
        if (due.len() as i64) < BATCH {
            return Ok(total);
        }
    }
}
