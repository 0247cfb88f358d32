//! Extractors: JSON bodies and query strings with protocol errors, the authenticated app,
//! wallet session tokens.

use super::app_auth::AuthenticatedApp;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::store::TokenLookup;
use crate::wallet_auth::WalletSession;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;

/// A JSON body; malformed → 400, too large → 413, wrong shape → 422.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e: BytesRejection| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(ErrorCode::RequestTooLarge, "the request body is too large")
                } else {
                    ApiError::new(ErrorCode::UnreadableBody, e.body_text())
                }
            })?;
        serde_json::from_slice(&bytes).map(ApiJson).map_err(|e| {
            use serde_json::error::Category;
            match e.classify() {
                Category::Data => ApiError::new(ErrorCode::InvalidRequest, e.to_string()),
                Category::Syntax | Category::Eof | Category::Io => ApiError::new(
                    ErrorCode::MalformedJson,
                    format!("the body is not valid JSON: {e}"),
                ),
            }
        })
    }
}

/// A query string; one that does not parse → 400 `invalid_query` (with the protocol's error
/// body, unlike axum's plain-text rejection).
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| ApiQuery(q))
            .map_err(|e| ApiError::new(ErrorCode::InvalidQuery, e.body_text()))
    }
}

/// The token of an `Authorization: Bearer` header.
pub(super) fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The app the request comes from, authenticated by the app endpoints' layer
/// ([`app_auth::authenticate`](super::app_auth::authenticate)): a bearer key or a signed
/// request.
pub struct AppAuth(pub String);

impl FromRequestParts<AppState> for AppAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<AuthenticatedApp>()
            .map(|app| AppAuth(app.0.clone()))
            .ok_or_else(|| {
                ApiError::internal("an app endpoint is served without the app authentication layer")
            })
    }
}

/// A Wallet device with a live session token whose key has not been revoked.
pub struct WalletAuth(pub WalletSession);

impl FromRequestParts<AppState> for WalletAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)
            .ok_or_else(|| ApiError::unauthorized("a wallet session token is required"))?;
        // One read joins the token with its device: devices are revoked in the database,
        // possibly by another replica or process (the admin CLI), and that holds at once.
        let session = match state.store.session(token, state.clock.now()).await? {
            TokenLookup::Live(session) => session,
            TokenLookup::Revoked => return Err(ApiError::unauthorized("device revoked")),
            TokenLookup::Unknown => {
                return Err(ApiError::unauthorized(
                    "the session token is unknown or expired; sign in again",
                ))
            }
        };
        Ok(WalletAuth(session))
    }
}

/// Parses an approval id path segment.
pub fn approval_id(text: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(text)
        .map_err(|_| ApiError::new(ErrorCode::ApprovalNotFound, format!("no approval {text:?}")))
}
