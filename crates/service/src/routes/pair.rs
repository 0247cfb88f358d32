//! `POST /v1/pair/preview` and `POST /v1/pair`: registering a Wallet device with a one-time code.

use super::extract::ApiJson;
use super::openapi::{error_responses, JSON_BODY, STORE};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::store::PairOutcome;
use axum::extract::State;
use axum::Json;
use countersign_core::api::{PairPreview, PairPreviewRequest, PairRequest, PairResponse};
use countersign_core::keys::decode_public_key;
use countersign_core::link::is_valid_pairing_code;
use countersign_core::pairing::verify_pair_request;

const MAX_DEVICE_NAME: usize = 100;

fn refused(outcome: PairOutcome) -> ApiError {
    match outcome {
        PairOutcome::Used => ApiError::new(
            ErrorCode::PairingCodeUsed,
            "this pairing code has been used already",
        ),
        PairOutcome::Expired => ApiError::new(
            ErrorCode::PairingCodeExpired,
            "this pairing code has expired; ask for a new one",
        ),
        PairOutcome::KeyTaken => ApiError::new(
            ErrorCode::KeyAlreadyPaired,
            "this public key is registered already",
        ),
        PairOutcome::Unknown | PairOutcome::Paired { .. } => {
            ApiError::new(ErrorCode::UnknownPairingCode, "no such pairing code")
        }
    }
}

fn check_code(code: &str) -> Result<(), ApiError> {
    if is_valid_pairing_code(code) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::UnknownPairingCode,
            "no such pairing code",
        ))
    }
}

fn approver_name(state: &AppState, approver_id: &str) -> Result<String, ApiError> {
    state
        .config
        .approver(approver_id)
        .map(|a| a.name.clone())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::UnknownApprover,
                format!("approver {approver_id:?} is no longer configured"),
            )
        })
}

error_responses!(
    /// The errors of `POST /v1/pair/preview`.
    PreviewErrors = [
        JSON_BODY,
        STORE,
        [
            ErrorCode::UnknownPairingCode,
            ErrorCode::PairingCodeUsed,
            ErrorCode::PairingCodeExpired,
            ErrorCode::UnknownApprover,
        ],
    ]
);

/// Handles `POST /v1/pair/preview`.
#[utoipa::path(
    post,
    path = "/v1/pair/preview",
    tag = "pairing",
    operation_id = "pair_preview",
    summary = "Who a pairing code pairs as, without using it up",
    request_body = PairPreviewRequest,
    responses(
        (status = 200, description = "The service and the approver of the code", body = PairPreview),
        PreviewErrors,
    ),
    security(()),
)]
pub async fn preview(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<PairPreviewRequest>,
) -> Result<Json<PairPreview>, ApiError> {
    check_code(&req.code)?;
    let preview = state
        .store
        .preview_pairing_code(&req.code, state.clock.now())
        .await?
        .map_err(refused)?;
    Ok(Json(PairPreview {
        service_id: state.service_id.clone(),
        approver_name: approver_name(&state, &preview.approver_id)?,
        approver_id: preview.approver_id,
        expires_at: preview.expires_at,
    }))
}

/// A request without the proof of possession comes from a client made before it was
/// required: say so instead of only naming the missing field.
fn explain_old_client(e: ApiError) -> ApiError {
    let message = &e.message;
    if e.code == ErrorCode::InvalidRequest
        && (message.contains("missing field `signature`")
            || message.contains("missing field `service_id`"))
    {
        ApiError::new(
            ErrorCode::InvalidRequest,
            format!(
                "{message}: pairing requests must carry service_id and signature (a proof that \
                 the device holds its key); update the Wallet or approver"
            ),
        )
    } else {
        e
    }
}

error_responses!(
    /// The errors of `POST /v1/pair`.
    PairErrors = [
        JSON_BODY,
        STORE,
        [
            ErrorCode::UnknownPairingCode,
            ErrorCode::InvalidPublicKey,
            ErrorCode::ServiceMismatch,
            ErrorCode::BadPairingSignature,
            ErrorCode::InvalidDeviceName,
            ErrorCode::PairingCodeUsed,
            ErrorCode::PairingCodeExpired,
            ErrorCode::KeyAlreadyPaired,
            ErrorCode::UnknownApprover,
        ],
    ]
);

/// Handles `POST /v1/pair`.
///
/// Before the code is looked up: the request must name this service and carry a signature by
/// the key it registers over its code, public key and service id (proof of possession).
#[utoipa::path(
    post,
    path = "/v1/pair",
    tag = "pairing",
    operation_id = "pair",
    summary = "Register a Wallet device key with a one-time code",
    description = "The request names this service and carries a proof of possession: an \
        Ed25519 signature by the registered key over its code, public key and service id.",
    request_body = PairRequest,
    responses(
        (status = 200, description = "The device is paired", body = PairResponse),
        PairErrors,
    ),
    security(()),
)]
pub async fn pair(
    State(state): State<AppState>,
    req: Result<ApiJson<PairRequest>, ApiError>,
) -> Result<Json<PairResponse>, ApiError> {
    let ApiJson(req) = req.map_err(explain_old_client)?;
    check_code(&req.code)?;
    let key = decode_public_key(&req.public_key)
        .map_err(|e| ApiError::new(ErrorCode::InvalidPublicKey, format!("public_key: {e}")))?;
    if req.service_id != state.service_id {
        return Err(ApiError::new(
            ErrorCode::ServiceMismatch,
            format!(
                "the request is for service {:?}, but this is {:?}",
                req.service_id, state.service_id
            ),
        ));
    }
    verify_pair_request(&req, &key).map_err(|e| {
        ApiError::new(
            ErrorCode::BadPairingSignature,
            format!("the pairing signature by public_key does not verify: {e}"),
        )
    })?;
    let name = req.device_name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_DEVICE_NAME
        || name.chars().any(char::is_control)
    {
        return Err(ApiError::new(
            ErrorCode::InvalidDeviceName,
            format!(
                "device_name must be 1 to {MAX_DEVICE_NAME} characters without control characters"
            ),
        ));
    }
    let now = state.clock.now();
    // Wrong, used and expired codes are answered from a read: only a plausible code takes the
    // store's single write lock (which checks again), so a flood of guesses never stalls
    // decisions and calls. A code issued to an approver since removed from the configuration
    // registers nothing (the configuration does not change while the service runs, so this
    // check holds until the code is redeemed below).
    let preview = state
        .store
        .preview_pairing_code(&req.code, now)
        .await?
        .map_err(refused)?;
    approver_name(&state, &preview.approver_id)?;
    match state
        .store
        .redeem_pairing_code(&req.code, &key, name, now)
        .await?
    {
        PairOutcome::Paired {
            approver_id,
            key_id,
        } => Ok(Json(PairResponse {
            service_id: state.service_id.clone(),
            approver_name: approver_name(&state, &approver_id)?,
            approver_id,
            key_id,
        })),
        other => Err(refused(other)),
    }
}
