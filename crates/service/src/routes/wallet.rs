//! Wallet endpoints: sign in, list, review and decide.

use super::extract::{approval_id, ApiJson, ApiQuery, WalletAuth};
use super::openapi::{error_responses, AUTH, JSON_BODY, STORE};
use super::views::{progress, wallet_detail};
use crate::error::{ApiError, ErrorCode};
use crate::events::summary;
use crate::executor;
use crate::state::AppState;
use crate::store::{ApprovalRecord, DecideOutcome, ListFilter};
use crate::wallet_auth::WalletSession;
use axum::extract::{Path, State};
use axum::Json;
use countersign_core::acceptance::{check_decision, DeviceKey, Refusal, Sender, Target};
use countersign_core::api::{
    Challenge, ChallengeRequest, DecisionRequest, DecisionResponse, SessionRequest, SessionToken,
    WalletApprovalDetail, WalletApprovalList,
};
use countersign_core::session::verify_nonce;
use countersign_core::ApprovalStatus;
use serde::Deserialize;
use uuid::Uuid;

const DEFAULT_LIST_LIMIT: i64 = 200;
const MAX_LIST_LIMIT: i64 = 1000;

error_responses!(
    /// The errors of `POST /v1/wallet/challenge` and `POST /v1/wallet/session`.
    SignInErrors = [AUTH, JSON_BODY, STORE, [ErrorCode::TooManyRequests]]
);

/// Handles `POST /v1/wallet/challenge`.
#[utoipa::path(
    post,
    path = "/v1/wallet/challenge",
    tag = "wallet",
    operation_id = "wallet_challenge",
    summary = "A nonce for a device key to sign, to open a session",
    request_body = ChallengeRequest,
    responses(
        (status = 200, description = "The nonce to sign", body = Challenge),
        SignInErrors,
    ),
    security(()),
)]
pub async fn challenge(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<ChallengeRequest>,
) -> Result<Json<Challenge>, ApiError> {
    match state.store.device(&req.key_id).await? {
        Some(device) if !device.revoked => {}
        _ => return Err(ApiError::unauthorized("unknown or revoked device key")),
    }
    let (nonce, expires_at) = state
        .store
        .create_nonce(&req.key_id, state.clock.now())
        .await?
        .ok_or_else(|| {
            ApiError::too_many("too many outstanding challenges in all; retry shortly")
        })?;
    Ok(Json(Challenge { nonce, expires_at }))
}

/// Handles `POST /v1/wallet/session`.
#[utoipa::path(
    post,
    path = "/v1/wallet/session",
    tag = "wallet",
    operation_id = "wallet_session",
    summary = "A session token for a signed challenge nonce",
    request_body = SessionRequest,
    responses(
        (status = 200, description = "The session token", body = SessionToken),
        SignInErrors,
    ),
    security(()),
)]
pub async fn session(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<SessionRequest>,
) -> Result<Json<SessionToken>, ApiError> {
    let now = state.clock.now();
    if !state.store.take_nonce(&req.nonce, &req.key_id, now).await? {
        return Err(ApiError::unauthorized(
            "unknown, used or expired nonce; ask for a new challenge",
        ));
    }
    let device = match state.store.device(&req.key_id).await? {
        Some(device) if !device.revoked => device,
        _ => return Err(ApiError::unauthorized("unknown or revoked device key")),
    };
    verify_nonce(&device.public_key, &req.nonce, &req.signature)
        .map_err(|_| ApiError::unauthorized("the nonce signature does not verify"))?;
    let (token, session) = state
        .store
        .open_session(&device.approver_id, &device.key_id, now)
        .await?
        .ok_or_else(|| ApiError::too_many("too many live session tokens in all; retry later"))?;
    Ok(Json(SessionToken {
        token,
        expires_at: session.expires_at,
    }))
}

/// Query of the wallet listing.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `pending` (default), `history`, `all`, or a status name.
    pub status: Option<String>,
    /// At most this many rows (default 200, at most 1000).
    pub limit: Option<i64>,
    /// Only approvals older than this one (the last id of the previous page).
    pub before: Option<Uuid>,
}

fn list_filter(text: Option<&str>) -> Result<ListFilter, ApiError> {
    match text.unwrap_or("pending") {
        "pending" => Ok(ListFilter::Pending),
        "history" => Ok(ListFilter::Final),
        "all" => Ok(ListFilter::All),
        other => other
            .parse::<ApprovalStatus>()
            .map(ListFilter::Status)
            .map_err(|_| {
                ApiError::new(
                    ErrorCode::InvalidStatus,
                    format!("status {other:?}: use pending, history, all or a status name"),
                )
            }),
    }
}

error_responses!(
    /// The errors of `GET /v1/wallet/approvals`.
    ListErrors = [
        AUTH,
        STORE,
        [ErrorCode::InvalidQuery, ErrorCode::InvalidStatus],
    ]
);

/// Handles `GET /v1/wallet/approvals`.
#[utoipa::path(
    get,
    path = "/v1/wallet/approvals",
    tag = "wallet",
    operation_id = "wallet_list",
    summary = "The approvals that name this approver, newest first",
    params(ListQuery),
    responses(
        (status = 200, description = "One page of approvals", body = WalletApprovalList),
        ListErrors,
    ),
    security(("wallet_session" = [])),
)]
pub async fn list(
    State(state): State<AppState>,
    WalletAuth(session): WalletAuth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<WalletApprovalList>, ApiError> {
    let filter = list_filter(q.status.as_deref())?;
    let limit = q
        .limit
        .unwrap_or(DEFAULT_LIST_LIMIT)
        .clamp(1, MAX_LIST_LIMIT);
    let rows = state
        .store
        .list_for_approver(
            &session.approver_id,
            filter,
            state.clock.now(),
            q.before,
            limit,
        )
        .await?;
    let approvals = rows
        .into_iter()
        .map(|row| {
            let progress = progress(&state.config, &row.requirement, &row.approved_by);
            summary(row.id, row.status, &row.statement, Some(progress))
        })
        .collect();
    Ok(Json(WalletApprovalList { approvals }))
}

/// The approval `id` if it named the session's approver (404 otherwise).
pub(super) async fn named(
    state: &AppState,
    session: &WalletSession,
    id: Uuid,
) -> Result<ApprovalRecord, ApiError> {
    match state.store.approval(id).await? {
        Some(record) if record.approvers.contains(&session.approver_id) => Ok(record),
        _ => Err(ApiError::new(
            ErrorCode::ApprovalNotFound,
            format!("no approval {id} for this approver"),
        )),
    }
}

error_responses!(
    /// The errors of `GET /v1/wallet/approvals/{id}`.
    DetailErrors = [AUTH, STORE, [ErrorCode::ApprovalNotFound]]
);

/// Handles `GET /v1/wallet/approvals/{id}`.
#[utoipa::path(
    get,
    path = "/v1/wallet/approvals/{id}",
    tag = "wallet",
    operation_id = "wallet_detail",
    summary = "An approval that names this approver, with its statement and body to review",
    params(("id" = String, Path, description = "The approval id (a UUID)")),
    responses(
        (status = 200, description = "The approval", body = WalletApprovalDetail),
        DetailErrors,
    ),
    security(("wallet_session" = [])),
)]
pub async fn detail(
    State(state): State<AppState>,
    WalletAuth(session): WalletAuth,
    Path(id): Path<String>,
) -> Result<Json<WalletApprovalDetail>, ApiError> {
    let record = named(&state, &session, approval_id(&id)?).await?;
    Ok(Json(wallet_detail(&state.config, &record)))
}

/// The most characters a decision's comment may have.
pub const MAX_COMMENT_CHARS: usize = 2000;

fn check_comment(comment: Option<&str>) -> Result<(), ApiError> {
    match comment {
        Some(c) if c.chars().count() > MAX_COMMENT_CHARS => Err(ApiError::new(
            ErrorCode::CommentTooLong,
            format!("the comment is over {MAX_COMMENT_CHARS} characters"),
        )),
        _ => Ok(()),
    }
}

/// The answer to a refused decision.
fn refusal(r: Refusal) -> ApiError {
    let code = match r {
        Refusal::ApprovalMismatch => ErrorCode::ApprovalMismatch,
        Refusal::UnsupportedVersion(_) => ErrorCode::UnsupportedVersion,
        Refusal::Misdirected => ErrorCode::MisdirectedDecision,
        Refusal::NotAnApprover => ErrorCode::NotAnApprover,
        Refusal::UnknownKey => ErrorCode::UnknownKey,
        Refusal::BadSignature(_) => ErrorCode::BadSignature,
        Refusal::DigestMismatch => ErrorCode::DigestMismatch,
        Refusal::ClockSkew => ErrorCode::ClockSkew,
        Refusal::Expired => ErrorCode::Expired,
    };
    debug_assert_eq!(code.as_str(), r.code());
    ApiError::new(code, r.to_string())
}

error_responses!(
    /// The errors of `POST /v1/wallet/approvals/{id}/decision`.
    DecideErrors = [
        AUTH,
        JSON_BODY,
        STORE,
        [
            ErrorCode::ApprovalNotFound,
            ErrorCode::CommentTooLong,
            ErrorCode::ApprovalMismatch,
            ErrorCode::UnsupportedVersion,
            ErrorCode::MisdirectedDecision,
            ErrorCode::NotAnApprover,
            ErrorCode::UnknownKey,
            ErrorCode::BadSignature,
            ErrorCode::DigestMismatch,
            ErrorCode::ClockSkew,
            ErrorCode::Expired,
            ErrorCode::AlreadyDecided,
            ErrorCode::DuplicateDecision,
        ],
    ]
);

/// Handles `POST /v1/wallet/approvals/{id}/decision`.
#[utoipa::path(
    post,
    path = "/v1/wallet/approvals/{id}/decision",
    tag = "wallet",
    operation_id = "wallet_decide",
    summary = "Record a signed approve or deny",
    description = "The decision is signed by the session's device key over the approval's \
        `request_digest` (see the protocol reference). An approval that reaches its quorum \
        runs once, in the background.",
    params(("id" = String, Path, description = "The approval id (a UUID)")),
    request_body = DecisionRequest,
    responses(
        (status = 200, description = "The decision is recorded", body = DecisionResponse),
        DecideErrors,
    ),
    security(("wallet_session" = [])),
)]
#[tracing::instrument(skip_all, fields(approval_id = %id, approver = %session.approver_id))]
pub async fn decide(
    State(state): State<AppState>,
    WalletAuth(session): WalletAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<DecisionRequest>,
) -> Result<Json<DecisionResponse>, ApiError> {
    let id = approval_id(&id)?;
    let d = &req.decision;
    check_comment(d.comment.as_deref())?;
    let record = match state.store.approval(id).await? {
        Some(record) => record,
        None => {
            return Err(ApiError::new(
                ErrorCode::ApprovalNotFound,
                format!("no approval {id}"),
            ))
        }
    };
    // Eligibility as the configuration is now: a person removed from a gate or from the
    // configuration no longer decides approvals created before.
    let gates = state.config.current_requirement(&record.requirement);
    let device = state.store.device(&d.key_id).await?;
    let now = state.clock.now();
    check_decision(
        d,
        &req.signature,
        Sender {
            approver_id: &session.approver_id,
            key_id: &session.key_id,
        },
        device.as_ref().map(|device| DeviceKey {
            approver_id: &device.approver_id,
            public_key: &device.public_key,
            revoked: device.revoked,
        }),
        Target {
            approval_id: id,
            request_digest: &record.request_digest,
            expires_at: record.statement.expires_at,
            sender_eligible: gates
                .iter()
                .any(|g| g.members.contains(&session.approver_id)),
        },
        now,
    )
    .map_err(refusal)?;
    match state.store.decide(d, &req.signature, &gates, now).await? {
        DecideOutcome::Recorded {
            status, decisions, ..
        } => {
            if status == ApprovalStatus::Approved {
                executor::spawn(&state, id);
            }
            Ok(Json(DecisionResponse { status, decisions }))
        }
        DecideOutcome::NotPending(ApprovalStatus::Expired) | DecideOutcome::Expired => Err(
            ApiError::new(ErrorCode::Expired, "the approval window has closed"),
        ),
        DecideOutcome::NotPending(status) => Err(ApiError::new(
            ErrorCode::AlreadyDecided,
            format!("the approval is {status}; it takes no more decisions"),
        )),
        DecideOutcome::Duplicate => Err(ApiError::new(
            ErrorCode::DuplicateDecision,
            "this approver has decided this approval already",
        )),
        DecideOutcome::Revoked => Err(ApiError::new(
            ErrorCode::UnknownKey,
            "the key is not an active device of this approver",
        )),
        DecideOutcome::Missing => Err(ApiError::new(
            ErrorCode::ApprovalNotFound,
            format!("no approval {id}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_capped_in_characters() {
        assert!(check_comment(None).is_ok());
        assert!(check_comment(Some("")).is_ok());
        // Characters, not bytes: 2,000 three-byte characters are fine.
        assert!(check_comment(Some(&"€".repeat(MAX_COMMENT_CHARS))).is_ok());
        let err = check_comment(Some(&"x".repeat(MAX_COMMENT_CHARS + 1))).unwrap_err();
        assert_eq!(err.code, "comment_too_long");
    }
}
