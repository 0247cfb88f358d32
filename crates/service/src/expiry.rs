//! Expiring approvals on time, whether or not anyone is polling.
//!
//! The task sleeps until the earliest pending deadline (at most a minute), or until woken
//! because a new approval has an earlier one, then expires everything due.

use crate::state::AppState;
use crate::store::{AuditDraft, Outcome, StoreError};
use countersign_core::audit::AuditKind;
use countersign_core::ApprovalStatus;
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::Duration;

const MAX_SLEEP: Duration = Duration::from_secs(60);
const BATCH: i64 = 500;

/// Runs until shutdown.
pub async fn run(state: AppState) {
    loop {
        // From here until the target is set below, any new deadline wakes the task (its
        // notification is kept as a permit), so none is missed while the next one is read.
        state.expiry_target.store(i64::MAX, Ordering::SeqCst);
        if let Err(e) = expire_due(&state).await {
            tracing::error!(error = %e, "expiry pass failed");
        }
        let now_ms = state.clock.now_millis();
        let next_ms = match state.store.next_expiry().await {
            Ok(Some(deadline)) => deadline.unix().saturating_mul(1000),
            Ok(None) => i64::MAX,
            Err(e) => {
                tracing::error!(error = %e, "reading the next expiry failed");
                now_ms + 1000
            }
        };
        let wake_at = next_ms.min(now_ms + MAX_SLEEP.as_millis() as i64);
        let wake_at = state
            .expiry_target
            .fetch_min(wake_at, Ordering::SeqCst)
            .min(wake_at);
        let sleep_for = Duration::from_millis((wake_at - now_ms).max(0) as u64);
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
            if entry.is_some() {
                total += 1;
            }
        }
        if (due.len() as i64) < BATCH {
            return Ok(total);
        }
    }
}
