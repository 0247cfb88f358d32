//! The event feed: reads the audit log from a cursor and publishes each entry, in order, to
//! this replica's event bus — entries this replica wrote and entries other replicas wrote
//! alike, so a long poll or Wallet stream held here wakes whichever replica took the change.
//!
//! The audit log is the truth; wake-ups only say "read again": this process's commits
//! ([`Store::appended`](crate::store::Store::appended)), PostgreSQL notifications from other
//! replicas, and a [`CATCH_UP`] timer for anything a lost notification (a dropped listening
//! connection, another process on the same SQLite file) did not announce. Entries that open
//! an approval also tell the expiry task about its deadline, so an approval created through
//! another replica expires on time here too.

use crate::state::AppState;
use crate::store::StoreError;
use countersign_core::audit::AuditKind;
use std::time::Duration;

/// The longest a change written elsewhere waits when its notification was lost.
pub const CATCH_UP: Duration = Duration::from_secs(1);
/// Entries read per query.
const PAGE: i64 = 500;

/// Publishes every entry after `cursor` until shutdown.
pub async fn run(state: AppState, mut cursor: i64) {
    let appended = state.store.appended();
    loop {
        match publish_after(&state, cursor).await {
            Ok(next) => cursor = next,
            Err(e) => tracing::warn!(error = %e, "reading the audit log for events failed"),
        }
        tokio::select! {
            _ = appended.notified() => {}
            _ = tokio::time::sleep(CATCH_UP) => {}
            _ = state.shutdown.cancelled() => return,
        }
    }
}

/// Publishes the entries after `cursor`; returns the last seq published.
async fn publish_after(state: &AppState, mut cursor: i64) -> Result<i64, StoreError> {
    loop {
        let page = state.store.audit_after_with_heads(cursor, PAGE).await?;
        for (entry, head) in &page {
            cursor = entry.seq;
            let Some(head) = head else { continue };
            if entry.kind == AuditKind::Requested.as_str() {
                state.note_deadline(head.statement.expires_at);
            }
            state.bus.publish(entry, head);
        }
        if (page.len() as i64) < PAGE {
            return Ok(cursor);
        }
    }
}
