//! The HTTP API: one module per group of endpoints, and [`router`] that wires them.

mod app_auth;
mod approvals;
mod events;
pub mod extract;
mod health;
mod history;
pub mod openapi;
mod pair;
mod proxy;
mod views;
mod wallet;

pub use approvals::MAX_WAIT_SECS;
pub use countersign_core::acceptance::MAX_CLOCK_SKEW_SECS;

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::{Extension, Router};
use openapi::{ApiDoc, Document};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Room for base64 (4/3) and the JSON around a body of the configured size.
fn request_limit(max_body: usize) -> usize {
    max_body / 3 * 4 + 64 * 1024
}

/// Every route, each registered from its handler's `#[utoipa::path]`: the path and method
/// the router serves are the ones the document names. Register routes only in [`app_api`] and
/// [`other_api`], only with `routes!` (a test walks the router and fails on any route the
/// document does not name).
fn api() -> OpenApiRouter<AppState> {
    app_api().merge(other_api())
}

/// The app endpoints (authenticated by [`app_auth::authenticate`], layered on in [`router`]).
fn app_api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(proxy::proxy))
        .routes(routes!(approvals::status))
        .routes(routes!(approvals::cancel))
}

/// Every other endpoint.
fn other_api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(pair::pair))
        .routes(routes!(pair::preview))
        .routes(routes!(wallet::challenge))
        .routes(routes!(wallet::session))
        .routes(routes!(wallet::list))
        .routes(routes!(wallet::detail))
        .routes(routes!(wallet::decide))
        .routes(routes!(history::history))
        .routes(routes!(events::events))
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(openapi::openapi))
}

/// The OpenAPI 3.1 document of [`router`] (served at `GET /v1/openapi.json`).
pub fn document() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

/// The service's routes on `state`.
pub fn router(state: AppState) -> Router {
    let limit = request_limit(state.config.server.max_request_bytes);
    // The app endpoints: a bearer key or a signed request, checked before any handler runs.
    let app = app_api().route_layer(axum::middleware::from_fn_with_state(
        state.clone(),
        app_auth::authenticate,
    ));
    let (routes, document) = app.merge(other_api()).split_for_parts();
    routes
        .fallback(|| async { ApiError::new(ErrorCode::NoSuchEndpoint, "no such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                ErrorCode::MethodNotAllowed,
                "this endpoint does not take that method",
            )
        })
        .layer(Extension(Document::new(&document)))
        .layer(DefaultBodyLimit::max(limit))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
