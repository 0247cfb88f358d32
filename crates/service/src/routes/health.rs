//! `GET /healthz` (the process is up; never touches the database) and `GET /readyz` (the
//! database answers too), for load balancers and orchestrators.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use std::time::Duration;

/// How long `/readyz` waits for the database's answer.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Handles `GET /healthz`.
pub async fn healthz() -> &'static str {
    "ok"
}

/// Handles `GET /readyz`: `{"status": "ready"}` when the database answers a trivial query
/// within [`READY_TIMEOUT`], else 503 `storage_unavailable`.
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    match tokio::time::timeout(READY_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => Ok(Json(json!({"status": "ready"}))),
        Ok(Err(e)) => Err(ApiError::storage_unavailable(e)),
        Err(_) => Err(ApiError::storage_unavailable(format!(
            "no answer to a readiness query within {READY_TIMEOUT:?}"
        ))),
    }
}
