//! `GET /v1/wallet/approvals/{id}/history`: past approved requests of the same kind as the
//! one under review (same grant, method and path template), so the Wallet can show what is
//! new. Only approvals that named the same approver are included.

use super::extract::{approval_id, ApiQuery, WalletAuth};
use super::openapi::{error_responses, AUTH, STORE};
use super::wallet::named;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use countersign_core::api::{ApprovalHistory, HistoryItem};
use countersign_core::novelty::path_template;
use serde::Deserialize;
use uuid::Uuid;

const DEFAULT_LIMIT: i64 = 200;
const MAX_LIMIT: i64 = 1000;

/// Query of the history endpoint.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Only approvals older than this one (the previous page's `next_before`).
    pub before: Option<String>,
    /// Rows scanned per page (default 200, at most 1000).
    pub limit: Option<i64>,
}

fn template_of(url: &str) -> Option<String> {
    url::Url::parse(url).ok().map(|u| path_template(u.path()))
}

error_responses!(
    /// The errors of `GET /v1/wallet/approvals/{id}/history`.
    HistoryErrors = [
        AUTH,
        STORE,
        [ErrorCode::ApprovalNotFound, ErrorCode::InvalidQuery],
    ]
);

/// Handles `GET /v1/wallet/approvals/{id}/history?before=&limit=`.
#[utoipa::path(
    get,
    path = "/v1/wallet/approvals/{id}/history",
    tag = "wallet",
    operation_id = "wallet_history",
    summary = "Past approved requests of the same kind as this one, newest first",
    description = "Same grant, method and path template, approved before, and naming this \
        approver; for showing what is new in the request under review.",
    params(("id" = String, Path, description = "The approval under review (a UUID)"), HistoryQuery),
    responses(
        (status = 200, description = "One page of history", body = ApprovalHistory),
        HistoryErrors,
    ),
    security(("wallet_session" = [])),
)]
pub async fn history(
    State(state): State<AppState>,
    WalletAuth(session): WalletAuth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> Result<Json<ApprovalHistory>, ApiError> {
    let record = named(&state, &session, approval_id(&id)?).await?;
    let before = q
        .before
        .as_deref()
        .map(|b| {
            b.parse::<Uuid>().map_err(|_| {
                ApiError::new(ErrorCode::InvalidQuery, "before must be an approval id")
            })
        })
        .transpose()?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let statement = &record.statement;
    let template = template_of(&statement.url);
    let (rows, next_before) = state
        .store
        .approved_history(
            &session.approver_id,
            &statement.grant,
            &statement.method,
            before,
            limit,
        )
        .await?;
    let items = rows
        .into_iter()
        .filter(|p| p.id != record.id && template_of(&p.statement.url) == template)
        .map(|p| HistoryItem {
            approval_id: p.id,
            app: p.statement.app,
            url: p.statement.url,
            headers: p.statement.headers,
            body: p.body,
            created_at: p.statement.created_at,
        })
        .collect();
    Ok(Json(ApprovalHistory { items, next_before }))
}
