//! Who an app request comes from: a bearer API key, or a signed request
//! ([`countersign_core::app_request`]). A layer on the app endpoints only; the handlers read
//! the outcome through the [`AppAuth`](super::extract::AppAuth) extractor.
//!
//! A signed request is checked in this order, cheapest first, and nothing is written before
//! the signature verifies: the four headers (each exactly once, well formed, and no
//! `Authorization` beside them), the app (one that signs), the timestamp (within
//! [`MAX_SKEW_SECS`] of the service's clock), then the body is read (bounded as for the
//! handlers) and the signature checked over method, path and query as received, timestamp,
//! nonce and the body's SHA-256; only then is the nonce recorded, once per app across all
//! replicas.

use super::request_limit;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use countersign_core::app_request::{
    check_nonce, SignedRequest, HEADERS, HEADER_APP, HEADER_NONCE, HEADER_SIGNATURE,
    HEADER_TIMESTAMP, MAX_SKEW_SECS,
};
use countersign_core::Timestamp;
use std::time::Duration;

/// The app a request was authenticated as (a request extension set by [`authenticate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedApp(pub String);

/// The layer: answers 401 (or 413 for a body over the limit) unless the request carries a
/// valid bearer key or signature, and otherwise passes it on with [`AuthenticatedApp`].
pub async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match check(&state, request).await {
        Ok(request) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

async fn check(state: &AppState, request: Request) -> Result<Request, ApiError> {
    let (mut parts, body) = request.into_parts();
    let signed = HEADERS.iter().any(|h| parts.headers.contains_key(*h));
    if !signed {
        let app = bearer_app(state, &parts)?;
        parts.extensions.insert(AuthenticatedApp(app));
        return Ok(Request::from_parts(parts, body));
    }
    let bad = |message: &str| ApiError::new(ErrorCode::InvalidSignatureHeaders, message);
    if parts.headers.contains_key(header::AUTHORIZATION) {
        return Err(bad(
            "send either a signed request or an Authorization header, not both",
        ));
    }
    let app = one_header(&parts.headers, HEADER_APP)?;
    let timestamp_text = one_header(&parts.headers, HEADER_TIMESTAMP)?;
    let nonce = one_header(&parts.headers, HEADER_NONCE)?;
    let signature = one_header(&parts.headers, HEADER_SIGNATURE)?;
    let timestamp: Timestamp = timestamp_text.parse().map_err(|_| {
        bad("countersign-timestamp must be RFC 3339 UTC with whole seconds, e.g. 2026-11-24T12:00:00Z")
    })?;
    check_nonce(nonce).map_err(|e| bad(&format!("countersign-nonce: {e}")))?;

    let verifier = state.secrets.app_verifier(app).ok_or_else(|| {
        ApiError::new(
            ErrorCode::UnknownApp,
            format!("no app {app:?} that signs its requests is configured"),
        )
    })?;
    let now = state.clock.now();
    let skew = now.seconds_until(&timestamp);
    if skew.abs() > MAX_SKEW_SECS {
        return Err(ApiError::new(
            ErrorCode::StaleTimestamp,
            format!(
                "countersign-timestamp {timestamp} is {} s from the service's clock ({now}); at most {MAX_SKEW_SECS} s either way",
                skew.abs()
            ),
        ));
    }

    let limit = request_limit(state.config.server.max_request_bytes);
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| {
        if is_length_limit(&e) {
            ApiError::new(ErrorCode::RequestTooLarge, "the request body is too large")
        } else {
            ApiError::new(
                ErrorCode::UnreadableBody,
                "the request body could not be read",
            )
        }
    })?;
    let request = SignedRequest::new(
        app,
        parts.method.as_str(),
        parts.uri.path(),
        parts.uri.query().unwrap_or(""),
        timestamp,
        nonce,
        &bytes,
    );
    request.verify(verifier, signature).map_err(|_| {
        ApiError::new(
            ErrorCode::BadRequestSignature,
            "the signature does not verify over this request (method, path, query, timestamp, nonce, body) for this app",
        )
    })?;

    let expires_at = timestamp.plus(Duration::from_secs(MAX_SKEW_SECS.unsigned_abs()));
    if !state
        .store
        .use_app_nonce(app, nonce, expires_at, now)
        .await?
    {
        return Err(ApiError::new(
            ErrorCode::NonceReused,
            "this nonce was used before: every request needs a new one",
        ));
    }
    let app = app.to_string();
    parts.extensions.insert(AuthenticatedApp(app));
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// The value of a header that must be present exactly once, as visible ASCII.
fn one_header<'h>(headers: &'h HeaderMap, name: &str) -> Result<&'h str, ApiError> {
    let bad = |why: &str| {
        ApiError::new(
            ErrorCode::InvalidSignatureHeaders,
            format!(
                "{name} {why}; a signed request has each of {} exactly once",
                HEADERS.join(", ")
            ),
        )
    };
    let mut values = headers.get_all(name).iter();
    let value = values.next().ok_or_else(|| bad("is missing"))?;
    if values.next().is_some() {
        return Err(bad("is repeated"));
    }
    value
        .to_str()
        .ok()
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| bad("is not visible ASCII text"))
}

/// The app whose bearer key the request carries.
fn bearer_app(state: &AppState, parts: &Parts) -> Result<String, ApiError> {
    let signed_only = !state.config.server.allow_bearer_apps;
    let Some(key) = super::extract::bearer(parts) else {
        return Err(ApiError::unauthorized(if signed_only {
            "this service takes signed app requests only (countersign-app, countersign-timestamp, countersign-nonce, countersign-signature)"
        } else {
            "an app API key (Authorization: Bearer) or a signed request is required"
        }));
    };
    if signed_only {
        return Err(ApiError::new(
            ErrorCode::BearerNotAllowed,
            "bearer API keys are turned off on this service (server.allow_bearer_apps = false): sign the request",
        ));
    }
    state
        .secrets
        .app_for_key(key)
        .map(str::to_string)
        .ok_or_else(|| ApiError::unauthorized("unknown API key"))
}

/// Whether reading the body failed because it is over the limit.
fn is_length_limit(e: &axum::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cause = c.source();
    }
    false
}
