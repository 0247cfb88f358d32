//! [`ApiError`]: every error an endpoint answers, as `{"error": {"code", "message"}}`.
//!
//! Database and internal errors are logged and answered with a generic message; their text
//! never reaches clients. A database that cannot be reached is answered 503
//! `storage_unavailable` (retry later); any other database error 500 `internal`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use countersign_core::api::{ErrorBody, ErrorDetail};

use crate::store::StoreError;

mod code;

pub use code::ErrorCode;

/// An error answer: HTTP status, stable snake_case code, message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status (the code's).
    pub status: StatusCode,
    /// Stable machine code.
    pub code: ErrorCode,
    /// Human message.
    pub message: String,
    /// The policy rule that refused the call (`policy_denied` only).
    pub rule: Option<String>,
}

impl ApiError {
    /// An error with `code`, answered with the code's status.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status: code.status(),
            code,
            message: message.into(),
            rule: None,
        }
    }
    /// 403 `policy_denied`: a policy rule refuses the call.
    pub fn policy_denied(policy: &str, rule: &str) -> Self {
        Self {
            rule: Some(rule.to_string()),
            ..Self::new(
                ErrorCode::PolicyDenied,
                format!("rule {rule:?} of policy {policy:?} refuses this call"),
            )
        }
    }
    /// 401: no or wrong credentials.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }
    /// 429: too many.
    pub fn too_many(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::TooManyRequests, message)
    }
    /// 500: logs `cause` and answers without it.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(ErrorCode::Internal, "internal error; see the service log")
    }
    /// 503: the database cannot be reached for now; logs `cause` and answers without it.
    pub fn storage_unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::warn!(error = %cause, "database unavailable");
        Self::new(
            ErrorCode::StorageUnavailable,
            "the database cannot be reached; retry shortly",
        )
    }
    /// 503: the service is stopping.
    pub fn shutting_down() -> Self {
        Self::new(ErrorCode::ShuttingDown, "the service is shutting down")
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => ApiError::storage_unavailable(e),
            _ => ApiError::internal(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.as_str().to_string(),
                message: self.message,
                rule: self.rule,
            },
        };
        (self.status, Json(body)).into_response()
    }
}
