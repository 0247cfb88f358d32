//! Running an approved call: at most once, with the managed secret, recorded either way.
//!
//! The move `approved → executing` is committed (with an `execution_started` audit entry and
//! a lease owned by this replica) before anything is sent; only the task that made that move
//! sends, on whichever replica. While the call is in flight the replica renews the lease every
//! third of `[server] execution_lease`. An execution whose lease lapses (its replica died) is
//! never re-sent: any replica's [`supervise`] settles it as `execution_failed`, outcome
//! unknown, and picks up `approved` approvals nobody claimed.

use crate::state::AppState;
use crate::store::{ApprovalRecord, AuditDraft, Lease, Outcome, StoreError};
use countersign_core::api::{ExecutionFailure, FailureReason, UpstreamResponse};
use countersign_core::audit::AuditKind;
use countersign_core::encoding::sha256_hex;
use countersign_core::ApprovalStatus;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Instant;
use uuid::Uuid;

/// Response headers that describe the hop, not the provider's answer.
const HOP_HEADERS: [&str; 6] = [
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
];

/// Starts executing `id` in the background (tracked, so shutdown waits for it).
pub fn spawn(state: &AppState, id: Uuid) {
    let task_state = state.clone();
    state.executions.spawn(async move {
        if let Err(e) = execute(&task_state, id).await {
            tracing::error!(approval_id = %id, error = %e, "execution could not be recorded");
        }
    });
}

/// The audit draft of the move to `executing`.
pub fn started_draft(id: Uuid) -> AuditDraft {
    AuditDraft::approval(
        AuditKind::ExecutionStarted,
        id,
        "service",
        json!({"status": "executing"}),
    )
}

/// Executes an `approved` approval once and records the outcome. Does nothing when the
/// approval is not `approved` (another task won the race, or it was never approved).
pub async fn execute(state: &AppState, id: Uuid) -> Result<(), StoreError> {
    let started = state
        .store
        .claim_execution(id, &lease(state), started_draft(id), state.clock.now())
        .await?;
    if started.is_none() {
        return Ok(());
    }
    let Some(mut record) = state.store.approval(id).await? else {
        return Ok(());
    };
    let revoked = state
        .store
        .is_grant_revoked(&record.statement.grant)
        .await?;
    run_started(state, &mut record, revoked).await
}

/// A lease of this replica from now.
pub fn lease(state: &AppState) -> Lease {
    Lease {
        owner: state.replica_id.clone(),
        until_ms: state.clock.now_millis() + state.config.server.execution_lease.as_millis() as i64,
    }
}

/// Sends the call of an approval already committed as `executing` (unless `revoked`), records
/// the outcome (the event feed announces it), and updates `record` to match what was stored.
pub async fn run_started(
    state: &AppState,
    record: &mut ApprovalRecord,
    revoked: bool,
) -> Result<(), StoreError> {
    let id = record.id;
    let result = if revoked {
        Err(failure(
            FailureReason::GrantRevoked,
            "the grant was revoked before the call was sent",
        ))
    } else {
        send_renewing(state, record).await
    };
    let (to, outcome, kind, data) = match &result {
        Ok(response) => (
            ApprovalStatus::Succeeded,
            Outcome::Response(response),
            AuditKind::Executed,
            json!({
                "status": "succeeded",
                "http_status": response.status,
                "duration_ms": response.duration_ms,
                "body_sha256": sha256_hex(&response.body),
                "body_truncated": response.body_truncated,
            }),
        ),
        Err(f) => (
            ApprovalStatus::ExecutionFailed,
            Outcome::Failure(f),
            AuditKind::ExecutionFailed,
            json!({"status": "execution_failed", "reason": f.reason, "message": f.message, "http_status": f.status}),
        ),
    };
    let entry = state
        .store
        .transition(
            id,
            &[ApprovalStatus::Executing],
            to,
            outcome,
            AuditDraft::approval(kind, id, "service", data),
            state.clock.now(),
        )
        .await?;
    if entry.is_some() {
        record.status = to;
        match result {
            Ok(response) => record.response = Some(response),
            Err(f) => record.failure = Some(f),
        }
    }
    Ok(())
}

/// [`send`], renewing the lease every third of its length until the answer is in.
async fn send_renewing(
    state: &AppState,
    record: &ApprovalRecord,
) -> Result<UpstreamResponse, ExecutionFailure> {
    let every = state.config.server.execution_lease / 3;
    let sending = send(state, record);
    tokio::pin!(sending);
    let mut renew = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tokio::select! {
            result = &mut sending => return result,
            _ = renew.tick() => match state.store.renew_lease(record.id, &lease(state)).await {
                Ok(true) => {}
                Ok(false) => tracing::warn!(approval_id = %record.id, "the execution's lease was taken over; its outcome will not be recorded"),
                Err(e) => tracing::warn!(approval_id = %record.id, error = %e, "renewing the execution's lease failed"),
            },
        }
    }
}

fn failure(reason: FailureReason, message: impl Into<String>) -> ExecutionFailure {
    ExecutionFailure {
        reason,
        message: message.into(),
        status: None,
        body: None,
    }
}

async fn send(
    state: &AppState,
    record: &ApprovalRecord,
) -> Result<UpstreamResponse, ExecutionFailure> {
    let s = &record.statement;
    let grant = state.config.grant(&s.grant).ok_or_else(|| {
        failure(
            FailureReason::GrantRevoked,
            "the grant is no longer configured",
        )
    })?;
    let secret = state
        .secrets
        .grant_secret(&s.grant)
        .ok_or_else(|| failure(FailureReason::GrantRevoked, "the grant has no secret"))?;
    let method = reqwest::Method::from_bytes(s.method.as_bytes())
        .map_err(|_| failure(FailureReason::Transport, "invalid method"))?;
    let timeout = grant
        .timeout
        .unwrap_or(state.config.server.upstream_timeout);
    let (inject_name, inject_value) = grant.inject.render(secret);
    let mut request = state
        .http
        .request(method, &s.url)
        .timeout(timeout)
        .header("idempotency-key", record.id.to_string())
        .header(inject_name, inject_value)
        .body(record.body.clone());
    for (name, value) in &s.headers {
        request = request.header(name, value);
    }
    let began = Instant::now();
    let mut response = request.send().await.map_err(transport_failure)?;
    let status = response.status().as_u16();
    let headers = response_headers(response.headers());
    let cap = state.config.server.max_response_bytes;
    let mut body = Vec::new();
    let mut body_truncated = false;
    while let Some(chunk) = response.chunk().await.map_err(transport_failure)? {
        let room = cap - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            body_truncated = true;
            break;
        }
        body.extend_from_slice(&chunk);
    }
    let duration_ms = began.elapsed().as_millis() as u64;
    if status >= 500 {
        return Err(ExecutionFailure {
            reason: FailureReason::ProviderError,
            message: format!("the provider answered {status}"),
            status: Some(status),
            body: Some(body),
        });
    }
    Ok(UpstreamResponse {
        status,
        headers,
        body,
        body_truncated,
        duration_ms,
    })
}

fn transport_failure(e: reqwest::Error) -> ExecutionFailure {
    if e.is_timeout() {
        failure(
            FailureReason::Timeout,
            "the provider did not answer in time",
        )
    } else {
        // reqwest's text names the URL (no secrets: those travel in headers).
        failure(FailureReason::Transport, format!("transport error: {e}"))
    }
}

fn response_headers(map: &reqwest::header::HeaderMap) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in map {
        if HOP_HEADERS.contains(&name.as_str()) {
            continue;
        }
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        out.entry(name.as_str().to_string())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    out
}

/// At start: one [`sweep`] (lapsed executions settled, unclaimed approved ones started).
pub async fn recover(state: &AppState) -> Result<(), StoreError> {
    sweep(state).await
}

/// Sweeps every third of the lease until shutdown, so a replica that died mid-call is settled
/// by the others and an approval nobody claimed runs.
pub async fn supervise(state: AppState) {
    let every = state.config.server.execution_lease / 3;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = state.shutdown.cancelled() => return,
        }
        if let Err(e) = sweep(&state).await {
            tracing::warn!(error = %e, "sweeping executions failed");
        }
    }
}

/// Settles executions whose lease has lapsed as `execution_failed` (outcome unknown; never
/// re-sent), and starts `approved` approvals that no task claimed (a replica that died between
/// the decision and the claim; the claim makes a race with their own replica harmless).
pub async fn sweep(state: &AppState) -> Result<(), StoreError> {
    let now_ms = state.clock.now_millis();
    for id in state.store.lapsed_executions(now_ms).await? {
        let f = failure(
            FailureReason::OutcomeUnknown,
            "the service running the call stopped while it was in flight; it was not re-sent",
        );
        let draft = AuditDraft::approval(
            AuditKind::ExecutionFailed,
            id,
            "service",
            json!({"status": "execution_failed", "reason": f.reason, "message": f.message}),
        );
        let settled = state
            .store
            .settle_lapsed(id, &f, draft, state.clock.now(), now_ms)
            .await?;
        if settled.is_some() {
            tracing::warn!(approval_id = %id, "execution outcome unknown: its lease lapsed");
        }
    }
    for id in state.store.ids_in_status(ApprovalStatus::Approved).await? {
        spawn(state, id);
    }
    Ok(())
}
