//! `POST /v1/proxy`: run a call now, or open an approval for it.

use super::extract::{ApiJson, AppAuth};
use super::views::approval_view;
use crate::call;
use crate::error::ApiError;
use crate::executor;
use crate::state::AppState;
use crate::store::{AuditDraft, NewApproval};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use countersign_core::api::{PendingBody, ProxyRequestBody};
use countersign_core::audit::AuditKind;
use countersign_core::encoding::sha256_hex;
use countersign_core::{ApprovalStatus, DeepLink, Statement, PROTOCOL_VERSION};
use serde_json::json;
use uuid::Uuid;

/// Handles `POST /v1/proxy`.
#[tracing::instrument(skip_all, fields(app = %app, grant = %req.grant))]
pub async fn proxy(
    State(state): State<AppState>,
    AppAuth(app): AppAuth,
    ApiJson(req): ApiJson<ProxyRequestBody>,
) -> Result<Response, ApiError> {
    if state.shutdown.is_cancelled() {
        return Err(ApiError::shutting_down());
    }
    let grant = state
        .config
        .grant(&req.grant)
        .ok_or_else(|| ApiError::not_found("unknown_grant", format!("no grant {:?}", req.grant)))?;
    if state.store.is_grant_revoked(&grant.id).await? {
        return Err(ApiError::forbidden(
            "grant_revoked",
            format!("grant {:?} has been revoked", grant.id),
        ));
    }
    let checked = call::check(&req, grant, state.config.server.max_request_bytes)?;
    let policy = state
        .config
        .effective_policy(&app, &grant.id)
        .ok_or_else(|| {
            ApiError::internal(format!("no policy for app {app} and grant {}", grant.id))
        })?;
    let needs_approval = policy.needs_approval(&checked.method, &checked.path);

    let now = state.clock.now();
    let id = Uuid::now_v7();
    let statement = Statement {
        v: PROTOCOL_VERSION,
        service: state.service_id.clone(),
        approval_id: id,
        app: app.clone(),
        grant: grant.id.clone(),
        method: checked.method,
        url: checked.url.to_string(),
        headers: checked.headers,
        body_sha256: sha256_hex(&checked.body),
        body_size: checked.body.len() as u64,
        reason: checked.reason,
        created_at: now,
        expires_at: now.plus(policy.window),
        policy_id: policy.id.clone(),
    };
    let request_digest = statement.request_digest();
    // A call that needs no approval is committed straight to `executing`, with both audit
    // entries, before it is sent.
    let (recorded_status, stored_status) = if needs_approval {
        (ApprovalStatus::Pending, ApprovalStatus::Pending)
    } else {
        (ApprovalStatus::Approved, ApprovalStatus::Executing)
    };
    let mut audit = vec![AuditDraft::approval(
        AuditKind::Requested,
        id,
        format!("app:{app}"),
        json!({
            "statement": statement,
            "request_digest": request_digest,
            "approval_required": needs_approval,
            "status": recorded_status,
        }),
    )];
    if !needs_approval {
        audit.push(executor::started_draft(id));
    }
    let new = NewApproval {
        statement,
        request_digest,
        body: checked.body,
        quorum: policy.quorum,
        approvers: if needs_approval {
            policy.approvers.clone()
        } else {
            Vec::new()
        },
        status: stored_status,
    };
    let entry = state.store.create_approval(&new, audit).await?;
    let mut record = new.record();

    if !needs_approval {
        executor::run_started(&state, &mut record, false).await?;
        return Ok((StatusCode::OK, Json(approval_view(&record))).into_response());
    }
    state.bus.publish(&entry, &record);
    state.note_deadline(new.statement.expires_at);
    let pending = PendingBody {
        approval_id: id,
        approval_url: DeepLink::approval(&state.public_url, id),
        expires_at: new.statement.expires_at,
        status: ApprovalStatus::Pending,
    };
    Ok((StatusCode::ACCEPTED, Json(pending)).into_response())
}
