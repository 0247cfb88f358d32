//! The inbox (pending requests, from the live state) and the history (asked of each service),
//! both handed to the view a page at a time.

use super::{Wallet, HISTORY_MAX};
use crate::approver::ApproverError;
use crate::error::WalletError;
use crate::inbox::Owner;
use crate::model::{history_row, matches_query, HistoryPage, HistoryRow, InboxPage, InboxView};
use crate::source::{list_all, ApprovalSource};
use crate::sync::SyncStatus;
use countersign_core::api::WalletApprovalSummary;
use countersign_core::ApprovalStatus;
use std::sync::Arc;

/// The most rows handed to the view in one page of the inbox or the history.
pub const VIEW_PAGE_MAX: u32 = 500;

/// The rows of the last history search, which the view pages through.
pub(super) struct HistorySnapshot {
    search: u64,
    rows: Vec<HistoryRow>,
}

impl Wallet {
    /// The inbox now, every row (the view asks for pages: [`Wallet::inbox_page`]).
    pub fn inbox(&self) -> InboxView {
        let now = self.inner.clock.now();
        let inbox = self.inner.inbox.lock().expect("inbox lock");
        InboxView {
            rows: inbox.rows(now),
            count: inbox.count(now),
        }
    }

    /// Rows `offset..offset + limit` of the inbox now (newest first; `limit` at most
    /// [`VIEW_PAGE_MAX`]), and how many there are in all.
    pub fn inbox_page(&self, offset: u32, limit: u32) -> InboxPage {
        let syncing = self
            .inner
            .services
            .lock()
            .expect("services lock")
            .values()
            .any(|s| s.status == SyncStatus::Connecting);
        let now = self.inner.clock.now();
        let inbox = self.inner.inbox.lock().expect("inbox lock");
        let (rows, count) = inbox.page(now, offset as usize, limit.min(VIEW_PAGE_MAX) as usize);
        InboxPage {
            rows,
            offset,
            count: count as u32,
            syncing,
        }
    }

    /// Requests that are no longer pending, newest first, filtered by `query` (case-insensitive
    /// words, all of which must appear in the reason, app, grant, method, URL, status or id).
    /// Up to [`HISTORY_MAX`] finished requests per service are searched, however many are
    /// pending: pending ones are not listed.
    pub async fn history(&self, query: &str) -> Result<Vec<HistoryRow>, WalletError> {
        let sources: Vec<(Arc<Owner>, Arc<dyn ApprovalSource>)> = self
            .inner
            .services
            .lock()
            .expect("services lock")
            .values()
            .filter_map(|s| Some((s.owner.clone(), s.source.clone()?)))
            .collect();
        let now = self.inner.clock.now();
        let mut rows = Vec::new();
        for (owner, source) in sources {
            let server = owner.server.clone();
            let list = finished(&*source)
                .await
                .map_err(|e| WalletError::from_client(e, &server, None))?;
            rows.extend(
                list.into_iter()
                    .filter(|s| s.status != ApprovalStatus::Pending || s.expires_at <= now)
                    .filter(|s| matches_query(s, query))
                    .map(|s| history_row(&owner, s, now)),
            );
        }
        rows.sort_by(|a, b| {
            (b.row.created_at, b.row.approval_id).cmp(&(a.row.created_at, a.row.approval_id))
        });
        Ok(rows)
    }

    /// Runs a history search ([`Wallet::history`]) and keeps its rows for
    /// [`Wallet::history_page`] (replacing the previous search); returns the first `limit`.
    pub async fn history_search(
        &self,
        query: &str,
        limit: u32,
    ) -> Result<HistoryPage, WalletError> {
        let rows = self.history(query).await?;
        let mut kept = self.inner.history.lock().expect("history lock");
        let search = kept.as_ref().map_or(1, |k| k.search + 1);
        let snapshot = kept.insert(HistorySnapshot { search, rows });
        Ok(page_of(snapshot, 0, limit))
    }

    /// Rows `offset..offset + limit` (at most [`VIEW_PAGE_MAX`]) of the history search
    /// `search`; [`WalletError::HistoryGone`] when a newer search replaced it.
    pub fn history_page(
        &self,
        search: u64,
        offset: u32,
        limit: u32,
    ) -> Result<HistoryPage, WalletError> {
        let kept = self.inner.history.lock().expect("history lock");
        match kept.as_ref() {
            Some(s) if s.search == search => Ok(page_of(s, offset, limit)),
            _ => Err(WalletError::HistoryGone),
        }
    }
}

fn page_of(s: &HistorySnapshot, offset: u32, limit: u32) -> HistoryPage {
    let from = (offset as usize).min(s.rows.len());
    let to = (from + limit.min(VIEW_PAGE_MAX) as usize).min(s.rows.len());
    HistoryPage {
        search: s.search,
        rows: s.rows[from..to].to_vec(),
        offset,
        count: s.rows.len() as u32,
    }
}

/// The finished requests of one service (up to [`HISTORY_MAX`]) and those still in flight
/// (approved, executing), newest first. A service older than the `history` filter refuses it:
/// then its newest requests of any state are listed (pending ones can crowd those out).
async fn finished(
    source: &dyn ApprovalSource,
) -> Result<Vec<WalletApprovalSummary>, ApproverError> {
    let mut rows = match list_all(source, "history", HISTORY_MAX).await {
        Ok(rows) => rows,
        Err(e) if matches!(e.status(), Some(400 | 422)) => {
            return list_all(source, "all", HISTORY_MAX).await;
        }
        Err(e) => return Err(e),
    };
    for status in [ApprovalStatus::Approved, ApprovalStatus::Executing] {
        rows.extend(list_all(source, status.as_str(), HISTORY_MAX).await?);
    }
    Ok(rows)
}
