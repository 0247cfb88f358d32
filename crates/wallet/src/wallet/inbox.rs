//! The inbox (pending requests, from the live state) and the history (asked of each service).

use super::{Wallet, HISTORY_MAX};
use crate::error::WalletError;
use crate::model::{history_row, matches_query, HistoryRow, InboxView};
use crate::source::{list_all, ApprovalSource};
use countersign_core::ApprovalStatus;
use std::sync::Arc;

impl Wallet {
    /// The inbox now.
    pub fn inbox(&self) -> InboxView {
        let now = self.inner.clock.now();
        let inbox = self.inner.inbox.lock().expect("inbox lock");
        InboxView {
            rows: inbox.rows(now),
            count: inbox.count(now),
        }
    }

    /// Requests that are no longer pending, newest first, filtered by `query` (case-insensitive
    /// words, all of which must appear in the reason, app, grant, method, URL, status or id).
    pub async fn history(&self, query: &str) -> Result<Vec<HistoryRow>, WalletError> {
        let sources: Vec<Arc<dyn ApprovalSource>> = self
            .inner
            .services
            .lock()
            .expect("services lock")
            .values()
            .filter_map(|s| s.source.clone())
            .collect();
        let now = self.inner.clock.now();
        let mut rows = Vec::new();
        for source in sources {
            let server = source.pairing().server.clone();
            let list = list_all(&*source, "all", HISTORY_MAX)
                .await
                .map_err(|e| WalletError::from_client(e, &server, None))?;
            rows.extend(
                list.into_iter()
                    .filter(|s| s.status != ApprovalStatus::Pending || s.expires_at <= now)
                    .filter(|s| matches_query(s, query))
                    .map(|s| history_row(&server, s, now)),
            );
        }
        rows.sort_by(|a, b| {
            (b.row.created_at, b.row.approval_id).cmp(&(a.row.created_at, a.row.approval_id))
        });
        Ok(rows)
    }
}
