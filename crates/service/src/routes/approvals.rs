//! `GET /v1/approvals/{id}` (with long poll) and `POST /v1/approvals/{id}/cancel`.

use super::extract::{approval_id, ApiQuery, AppAuth};
use super::openapi::{error_responses, APP_AUTH, STORE};
use super::views::approval_view;
use crate::error::{ApiError, ErrorCode};
use crate::expiry;
use crate::state::AppState;
use crate::store::{ApprovalRecord, AuditDraft, Outcome};
use axum::extract::{Path, State};
use axum::Json;
use countersign_core::api::ApprovalView;
use countersign_core::audit::AuditKind;
use countersign_core::ApprovalStatus;
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

/// The longest `?wait=` honoured, in seconds.
pub const MAX_WAIT_SECS: u64 = 25;

/// Query of the status endpoint.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WaitQuery {
    /// Seconds to hold the answer while the approval is not final (at most 25; default 0,
    /// answer at once).
    pub wait: Option<u64>,
}

async fn owned(state: &AppState, app: &str, id: Uuid) -> Result<ApprovalRecord, ApiError> {
    match state.store.approval(id).await? {
        Some(record) if record.statement.app == app => Ok(record),
        _ => Err(ApiError::new(
            ErrorCode::ApprovalNotFound,
            format!("no approval {id} for this app"),
        )),
    }
}

error_responses!(
    /// The errors of `GET /v1/approvals/{id}`.
    StatusErrors = [
        APP_AUTH,
        STORE,
        [
            ErrorCode::ApprovalNotFound,
            ErrorCode::InvalidQuery,
            ErrorCode::TooManyRequests,
        ],
    ]
);

/// Handles `GET /v1/approvals/{id}?wait=S`.
#[utoipa::path(
    get,
    path = "/v1/approvals/{id}",
    tag = "app",
    operation_id = "approval_status",
    summary = "An approval of this app, optionally after a long poll",
    description = "With `wait`, the answer is held until the approval is final or the time \
        is up, whichever comes first. At most a few long polls per app at once (429).",
    params(("id" = String, Path, description = "The approval id (a UUID)"), WaitQuery),
    responses(
        (status = 200, description = "The approval as it is now", body = ApprovalView),
        StatusErrors,
    ),
    security(("app_key" = []), ("app_signature" = [])),
)]
pub async fn status(
    State(state): State<AppState>,
    AppAuth(app): AppAuth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<WaitQuery>,
) -> Result<Json<ApprovalView>, ApiError> {
    let id = approval_id(&id)?;
    let wait = Duration::from_secs(q.wait.unwrap_or(0).min(MAX_WAIT_SECS));
    // A long poll holds one of the app's slots until it answers.
    let _slot = if wait.is_zero() {
        None
    } else {
        Some(state.long_polls.take(&app).ok_or_else(|| {
            ApiError::too_many(format!(
                "too many long polls for this app (at most {} at once); wait for one to answer",
                state.long_polls.cap()
            ))
        })?)
    };
    let deadline = tokio::time::Instant::now() + wait;
    // Subscribe before reading, so no change between the read and the wait is missed.
    let mut events = state.bus.subscribe();
    loop {
        let mut record = owned(&state, &app, id).await?;
        if record.status == ApprovalStatus::Pending
            && record.statement.expires_at <= state.clock.now()
        {
            // The expiry task may be a moment behind; make the answer exact.
            expiry::expire_due(&state).await?;
            record = owned(&state, &app, id).await?;
        }
        if record.status.is_final() || tokio::time::Instant::now() >= deadline {
            return Ok(Json(approval_view(&record)));
        }
        loop {
            tokio::select! {
                received = events.recv() => match received {
                    Ok(ev) if ev.event.approval_id == id => break,
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => break,
                    Err(RecvError::Closed) => return Ok(Json(approval_view(&record))),
                },
                _ = tokio::time::sleep_until(deadline) => break,
                _ = tokio::time::sleep(until_expiry(&state, &record)) => break,
                _ = state.shutdown.cancelled() => return Ok(Json(approval_view(&record))),
            }
        }
    }
}

fn until_expiry(state: &AppState, record: &ApprovalRecord) -> Duration {
    if record.status != ApprovalStatus::Pending {
        return Duration::from_secs(MAX_WAIT_SECS + 1);
    }
    let ms = record.statement.expires_at.unix() * 1000 - state.clock.now_millis();
    Duration::from_millis(ms.max(0) as u64)
}

error_responses!(
    /// The errors of `POST /v1/approvals/{id}/cancel`.
    CancelErrors = [
        APP_AUTH,
        STORE,
        [ErrorCode::ApprovalNotFound, ErrorCode::NotPending],
    ]
);

/// Handles `POST /v1/approvals/{id}/cancel`.
#[utoipa::path(
    post,
    path = "/v1/approvals/{id}/cancel",
    tag = "app",
    operation_id = "cancel_approval",
    summary = "Withdraw a pending approval of this app",
    params(("id" = String, Path, description = "The approval id (a UUID)")),
    responses(
        (status = 200, description = "The approval, now `cancelled`", body = ApprovalView),
        CancelErrors,
    ),
    security(("app_key" = []), ("app_signature" = [])),
)]
pub async fn cancel(
    State(state): State<AppState>,
    AppAuth(app): AppAuth,
    Path(id): Path<String>,
) -> Result<Json<ApprovalView>, ApiError> {
    let id = approval_id(&id)?;
    let mut record = owned(&state, &app, id).await?;
    if record.status == ApprovalStatus::Pending && record.statement.expires_at <= state.clock.now()
    {
        // Overdue: it expired, whether or not the expiry task has recorded that yet.
        expiry::expire_due(&state).await?;
        record = owned(&state, &app, id).await?;
    }
    let draft = AuditDraft::approval(
        AuditKind::Cancelled,
        id,
        format!("app:{app}"),
        json!({"status": "cancelled"}),
    );
    let cancelled = state
        .store
        .transition(
            id,
            &[ApprovalStatus::Pending],
            ApprovalStatus::Cancelled,
            Outcome::None,
            draft,
            state.clock.now(),
        )
        .await?;
    if cancelled.is_none() {
        return Err(ApiError::new(
            ErrorCode::NotPending,
            format!(
                "approval {id} is {} and can no longer be cancelled",
                record.status
            ),
        ));
    }
    let record = owned(&state, &app, id).await?;
    Ok(Json(approval_view(&record)))
}
