//! `POST /v1/proxy`: run a call now, or open an approval for it.

use super::extract::{ApiJson, AppAuth};
use super::openapi::{error_responses, APP_AUTH, JSON_BODY, STORE};
use super::views::approval_view;
use crate::call;
use crate::config::{AppConfig, GrantConfig, DEFAULT_WINDOW};
use crate::error::{ApiError, ErrorCode};
use crate::executor;
use crate::policy::{self, CallFacts, Outcome, RequiredGate};
use crate::state::AppState;
use crate::store::{AuditDraft, Created, NewApproval, RuleHit};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use countersign_core::api::{ApprovalView, PendingBody, PolicyMatch, ProxyRequestBody};
use countersign_core::audit::AuditKind;
use countersign_core::encoding::sha256_hex;
use countersign_core::{ApprovalStatus, DeepLink, Statement, PROTOCOL_VERSION};
use serde_json::json;
use uuid::Uuid;

error_responses!(
    /// The errors of `POST /v1/proxy`.
    ProxyErrors = [
        APP_AUTH,
        JSON_BODY,
        STORE,
        [
            ErrorCode::ShuttingDown,
            ErrorCode::UnknownGrant,
            ErrorCode::GrantRevoked,
            ErrorCode::GrantNotAllowed,
            ErrorCode::PolicyDenied,
            ErrorCode::InvalidMethod,
            ErrorCode::InvalidPath,
            ErrorCode::InvalidHeader,
            ErrorCode::ForbiddenHeader,
            ErrorCode::TooManyHeaders,
            ErrorCode::MissingReason,
            ErrorCode::ReasonTooLong,
            ErrorCode::BodyTooLarge,
            ErrorCode::BodyTooLargeForReview,
            ErrorCode::UnsupportedEncoding,
            ErrorCode::TooManyRequests,
            ErrorCode::TooManyPending,
        ],
    ]
);

/// Handles `POST /v1/proxy`.
#[utoipa::path(
    post,
    path = "/v1/proxy",
    tag = "app",
    operation_id = "proxy",
    summary = "Run a call now, or open an approval for it",
    description = "The grant's and the app's policies decide: a call that needs no approval \
        runs at once and is answered 200 with its outcome (`succeeded` with the provider's \
        `response`, or `execution_failed` with the `failure`); a call that needs approval is \
        answered 202 with the approval to wait on; a refused one 403.",
    request_body = ProxyRequestBody,
    responses(
        (status = 200, description = "The call needed no approval and ran", body = ApprovalView),
        (status = 202, description = "The call waits for approval", body = PendingBody),
        ProxyErrors,
    ),
    security(("app_key" = []), ("app_signature" = [])),
)]
#[tracing::instrument(skip_all, fields(app = %app, grant = %req.grant))]
pub async fn proxy(
    State(state): State<AppState>,
    AppAuth(app): AppAuth,
    ApiJson(req): ApiJson<ProxyRequestBody>,
) -> Result<Response, ApiError> {
    if state.shutdown.is_cancelled() {
        return Err(ApiError::shutting_down());
    }
    let grant = state.config.grant(&req.grant).ok_or_else(|| {
        ApiError::new(ErrorCode::UnknownGrant, format!("no grant {:?}", req.grant))
    })?;
    if state.store.is_grant_revoked(&grant.id).await? {
        return Err(ApiError::new(
            ErrorCode::GrantRevoked,
            format!("grant {:?} has been revoked", grant.id),
        ));
    }
    let checked = call::check(&req, grant, state.config.server.max_request_bytes)?;
    let app_config = state
        .config
        .app(&app)
        .ok_or_else(|| ApiError::internal(format!("no app {app} in the configuration")))?;
    let facts = CallFacts {
        method: &checked.method,
        path: &checked.path,
        content_type: checked.headers.get("content-type").map(String::as_str),
        body: &checked.body,
    };
    let id = Uuid::now_v7();
    // A rate-limited rule may fill up between counting and storing; the store refuses the
    // insert then, and the call is evaluated again with the new counts.
    for _attempt in 0..MAX_RATE_RETRIES {
        let now = state.clock.now();
        let counts = state
            .store
            .rule_hit_counts(
                &app,
                &rate_limited_rules(&state, app_config, grant, &facts),
                now,
            )
            .await?;
        let decision = policy::decide_call(&state.config, app_config, grant, &facts, &counts)
            .map_err(|e| match e {
                policy::Unbound::GrantNotAllowed { .. } => {
                    ApiError::new(ErrorCode::GrantNotAllowed, e.to_string())
                }
                policy::Unbound::UnknownPolicy(_) => ApiError::internal(e.to_string()),
            })?;
        let (requirement, window) = match &decision.outcome {
            Outcome::Deny { policy, rule } => {
                return Err(ApiError::policy_denied(policy, rule));
            }
            Outcome::Allow => (Vec::new(), DEFAULT_WINDOW),
            Outcome::Require { gates, window } => {
                // Before anything is stored or counted: approvers must be able to read it.
                call::check_reviewable(&checked, state.config.server.max_gated_body_bytes)?;
                (gates.clone(), *window)
            }
        };
        let statement = Statement {
            v: PROTOCOL_VERSION,
            service: state.service_id.clone(),
            approval_id: id,
            app: app.clone(),
            grant: grant.id.clone(),
            method: checked.method.clone(),
            url: checked.url.to_string(),
            headers: checked.headers.clone(),
            body_sha256: sha256_hex(&checked.body),
            body_size: checked.body.len() as u64,
            reason: checked.reason.clone(),
            created_at: now,
            expires_at: now.plus(window),
            policy_id: decision.policy_id(),
        };
        let hits: Vec<RuleHit> = decision
            .limited_rules()
            .map(|(policy, rule, limit)| RuleHit {
                policy: policy.to_string(),
                rule: rule.to_string(),
                app: app.clone(),
                count: limit.count,
                per_ms: limit.per.as_millis() as i64,
            })
            .collect();
        let matched = matches_of(&decision);
        if let Some(answer) = open(
            &state,
            &app,
            statement,
            &checked.body,
            requirement,
            matched,
            &hits,
        )
        .await?
        {
            return Ok(answer);
        }
    }
    Err(ApiError::too_many(
        "the policy's rate-limited rules are changing too fast; retry",
    ))
}

/// How often a call is evaluated again when a rate limit filled meanwhile.
const MAX_RATE_RETRIES: usize = 8;

/// `(policy, rule, period)` of every rate-limited rule whose method and path match this
/// call (only those can need a count).
fn rate_limited_rules(
    state: &AppState,
    app: &AppConfig,
    grant: &GrantConfig,
    facts: &CallFacts<'_>,
) -> Vec<(String, String, i64)> {
    [Some(&grant.policy), app.policy.as_ref()]
        .into_iter()
        .flatten()
        .filter_map(|id| state.config.policy(id))
        .flat_map(|p| {
            p.rules
                .iter()
                .filter(|r| r.matches_request(facts.method, facts.path))
                .filter_map(|r| {
                    r.at_most
                        .map(|l| (p.id.clone(), r.id.clone(), l.per.as_millis() as i64))
                })
        })
        .collect()
}

/// The deciding rule of each policy, as the wire shows it.
pub fn matches_of(decision: &policy::CallDecision) -> Vec<PolicyMatch> {
    decision
        .evaluations
        .iter()
        .map(|e| PolicyMatch {
            policy: e.policy.clone(),
            rule: e.rule.clone(),
            action: match e.verdict {
                policy::Verdict::Allow => "allow",
                policy::Verdict::Require(_) => "require",
                policy::Verdict::Deny => "deny",
            }
            .to_string(),
        })
        .collect()
}

/// Stores the call and runs it (no gates) or answers 202 (gates); `None` when a rate limit
/// filled since it was counted.
async fn open(
    state: &AppState,
    app: &str,
    statement: Statement,
    body: &[u8],
    requirement: Vec<RequiredGate>,
    matched: Vec<PolicyMatch>,
    hits: &[RuleHit],
) -> Result<Option<Response>, ApiError> {
    let id = statement.approval_id;
    let needs_approval = !requirement.is_empty();
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
            "matched": matched,
            "requirement": requirement,
        }),
    )];
    if !needs_approval {
        audit.push(executor::started_draft(id));
    }
    let new = NewApproval {
        statement,
        request_digest,
        body: body.to_vec(),
        requirement,
        matched,
        status: stored_status,
        lease: (!needs_approval).then(|| executor::lease(state)),
    };
    let max_pending = state.config.server.max_pending_per_app;
    match state
        .store
        .create_approval(&new, hits, audit, max_pending)
        .await?
    {
        Created::Stored(_) => {}
        Created::RateLimitFilled => return Ok(None),
        Created::TooManyPending => {
            return Err(ApiError::new(
                ErrorCode::TooManyPending,
                format!(
                    "app {app:?} has {max_pending} approvals pending already (server.max_pending_per_app); wait for some to be decided, or cancel them"
                ),
            ))
        }
    };
    let mut record = new.record();

    if !needs_approval {
        executor::run_started(state, &mut record, false).await?;
        return Ok(Some(
            (StatusCode::OK, Json(approval_view(&record))).into_response(),
        ));
    }
    state.note_deadline(new.statement.expires_at);
    let pending = PendingBody {
        approval_id: id,
        approval_url: DeepLink::approval(&state.public_url, id),
        expires_at: new.statement.expires_at,
        status: ApprovalStatus::Pending,
    };
    Ok(Some((StatusCode::ACCEPTED, Json(pending)).into_response()))
}
