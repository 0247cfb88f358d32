//! Reading a whole listing page by page, newest first, with the `before` cursor, so a flood
//! of requests cannot hide older ones behind the service's first page.

use crate::ApproverError;
use countersign_core::api::WalletApprovalSummary;
use std::future::Future;
use uuid::Uuid;

/// Rows asked for per page after the first: the most the service's list endpoint gives (its
/// default is 200).
pub const LIST_PAGE: u32 = 1000;

/// Rows of a listing, newest first, up to `max`: a first page of `first` rows, then pages of
/// [`LIST_PAGE`], each fetched by `fetch(before, limit)` with `before` the last id of the page
/// before. `each` is told every page as it arrives, before the next is asked for, with the
/// cursor it was asked `before` (`None` for the first): the page holds every listed row whose
/// id is in `page.last()..before`. Stops at a short page, or at a page that brings nothing
/// older (a service older than the cursor answers its first page again: then only that page
/// is known).
pub async fn collect_pages<F, Fut>(
    max: usize,
    first: u32,
    mut fetch: F,
    each: &mut (dyn FnMut(&[WalletApprovalSummary], Option<Uuid>) + Send),
) -> Result<Vec<WalletApprovalSummary>, ApproverError>
where
    F: FnMut(Option<Uuid>, u32) -> Fut,
    Fut: Future<Output = Result<Vec<WalletApprovalSummary>, ApproverError>>,
{
    let mut rows: Vec<WalletApprovalSummary> = Vec::new();
    let mut before: Option<Uuid> = None;
    let mut limit = first.clamp(1, LIST_PAGE);
    while rows.len() < max {
        let page = fetch(before, limit).await?;
        let full = page.len() >= limit as usize;
        let mut older: Vec<_> = page
            .into_iter()
            .filter(|r| before.is_none_or(|b| r.approval_id < b))
            .collect();
        older.truncate(max - rows.len());
        let Some(last) = older.last() else { break };
        each(&older, before);
        before = Some(last.approval_id);
        rows.extend(older);
        limit = LIST_PAGE;
        if !full {
            break;
        }
    }
    Ok(rows)
}
