//! The HTTP API: one module per group of endpoints, and [`router`] that wires them.

mod approvals;
mod events;
pub mod extract;
mod health;
mod history;
mod pair;
mod proxy;
mod views;
mod wallet;

pub use approvals::MAX_WAIT_SECS;
pub use countersign_core::acceptance::MAX_CLOCK_SKEW_SECS;

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use tower_http::trace::TraceLayer;

/// Room for base64 (4/3) and the JSON around a body of the configured size.
fn request_limit(max_body: usize) -> usize {
    max_body / 3 * 4 + 64 * 1024
}

/// The service's routes on `state`.
pub fn router(state: AppState) -> Router {
    let limit = request_limit(state.config.server.max_request_bytes);
    Router::new()
        .route("/v1/proxy", post(proxy::proxy))
        .route("/v1/approvals/{id}", get(approvals::status))
        .route("/v1/approvals/{id}/cancel", post(approvals::cancel))
        .route("/v1/pair", post(pair::pair))
        .route("/v1/pair/preview", post(pair::preview))
        .route("/v1/wallet/challenge", post(wallet::challenge))
        .route("/v1/wallet/session", post(wallet::session))
        .route("/v1/wallet/approvals", get(wallet::list))
        .route("/v1/wallet/approvals/{id}", get(wallet::detail))
        .route("/v1/wallet/approvals/{id}/decision", post(wallet::decide))
        .route("/v1/wallet/approvals/{id}/history", get(history::history))
        .route("/v1/wallet/events", get(events::events))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .fallback(|| async { ApiError::new(ErrorCode::NoSuchEndpoint, "no such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                ErrorCode::MethodNotAllowed,
                "this endpoint does not take that method",
            )
        })
        .layer(DefaultBodyLimit::max(limit))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
