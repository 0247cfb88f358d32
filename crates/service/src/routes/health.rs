//! `GET /healthz` (the process is up; never touches the database) and `GET /readyz` (the
//! database answers too), for load balancers and orchestrators.

use super::openapi::error_responses;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use std::time::Duration;

/// How long `/readyz` waits for the database's answer.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Handles `GET /healthz`.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "service",
    operation_id = "healthz",
    summary = "The process is up (never touches the database)",
    responses((status = 200, description = "`ok`", body = String, content_type = "text/plain")),
    security(()),
)]
pub async fn healthz() -> &'static str {
    "ok"
}

/// The answer of `GET /readyz`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Readiness {
    /// Always `ready`.
    #[schema(pattern = "^ready$")]
    pub status: &'static str,
}

error_responses!(
    /// The errors of `GET /readyz`.
    ReadyErrors = [[ErrorCode::StorageUnavailable]]
);

/// Handles `GET /readyz`: `{"status": "ready"}` when the database answers a trivial query
/// within [`READY_TIMEOUT`], else 503 `storage_unavailable`.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "service",
    operation_id = "readyz",
    summary = "The database answers too",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        ReadyErrors,
    ),
    security(()),
)]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Readiness>, ApiError> {
    match tokio::time::timeout(READY_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => Ok(Json(Readiness { status: "ready" })),
        Ok(Err(e)) => Err(ApiError::storage_unavailable(e)),
        Err(_) => Err(ApiError::storage_unavailable(format!(
            "no answer to a readiness query within {READY_TIMEOUT:?}"
        ))),
    }
}
