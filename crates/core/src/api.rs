//! Request and response bodies of every endpoint (protocol field names).

use crate::decision::{Decision, Verdict};
use crate::encoding::{b64_bytes, b64_bytes_opt};
use crate::statement::Statement;
use crate::status::ApprovalStatus;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// `POST /v1/proxy`: the call an app wants made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProxyRequestBody {
    /// The grant (upstream and secret) to use.
    pub grant: String,
    /// HTTP method.
    pub method: String,
    /// Path below the grant's base URL, starting with `/`.
    pub path: String,
    /// Query parameters, appended in name order.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub query: BTreeMap<String, String>,
    /// Extra request headers (never credentials).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Request body, base64url.
    #[serde(
        default,
        with = "b64_bytes_opt",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^[A-Za-z0-9_-]*$"))]
    pub body: Option<Vec<u8>>,
    /// Why the app needs this call; shown to the approver.
    pub reason: String,
}

/// The provider's answer to an executed call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpstreamResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers, lower-case names; repeated headers joined with `, `.
    pub headers: BTreeMap<String, String>,
    /// Response body (base64url), at most the service's cap.
    #[serde(with = "b64_bytes")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[A-Za-z0-9_-]*$"))]
    pub body: Vec<u8>,
    /// True when the body was cut at the cap.
    pub body_truncated: bool,
    /// Time from sending the request to the end of the body.
    pub duration_ms: u64,
}

/// Why an approved call did not produce a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// No connection, or it broke.
    Transport,
    /// The provider did not answer in time.
    Timeout,
    /// The grant was revoked before the call was sent.
    GrantRevoked,
    /// The provider answered 5xx.
    ProviderError,
    /// The service stopped while the call was in flight; it is never re-sent.
    OutcomeUnknown,
}

/// The failure of an approved call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExecutionFailure {
    /// Category.
    pub reason: FailureReason,
    /// What happened, for people.
    pub message: String,
    /// The provider's status, when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The provider's body (base64url, capped), when it answered.
    #[serde(
        default,
        with = "b64_bytes_opt",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^[A-Za-z0-9_-]*$"))]
    pub body: Option<Vec<u8>>,
}

/// `202` answer of `POST /v1/proxy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingBody {
    /// The approval to wait on.
    pub approval_id: Uuid,
    /// Deep link into the Wallet.
    pub approval_url: String,
    /// When the window closes.
    pub expires_at: Timestamp,
    /// Always `pending`.
    pub status: ApprovalStatus,
}

/// One accepted decision, as apps and Wallets see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecisionSummary {
    /// Who decided.
    pub approver_id: String,
    /// Approve or deny.
    pub decision: Verdict,
    /// The approver's comment.
    pub comment: Option<String>,
    /// When.
    pub decided_at: Timestamp,
}

/// `GET /v1/approvals/{id}` (and `200` of `POST /v1/proxy`, and cancel).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApprovalView {
    /// The approval.
    pub approval_id: Uuid,
    /// Its state.
    pub status: ApprovalStatus,
    /// When its window closes (closed).
    pub expires_at: Timestamp,
    /// Decisions so far.
    pub decisions: Vec<DecisionSummary>,
    /// The rule that decided in each policy of the call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matched: Vec<PolicyMatch>,
    /// The provider's answer, once `succeeded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<UpstreamResponse>,
    /// Why it failed, once `execution_failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<ExecutionFailure>,
}

/// Which rule of a policy decided a call (`rule` is `None` when no rule matched and the
/// policy's default requirement applied).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyMatch {
    /// The policy.
    pub policy: String,
    /// The deciding rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// `allow`, `require` or `deny`.
    pub action: String,
}

/// A gate an approval needs, and who has filled it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GateStatus {
    /// The policy the gate belongs to.
    pub policy: String,
    /// The gate.
    pub gate: String,
    /// Distinct approvals needed.
    pub quorum: u32,
    /// Who may approve in it (as the policy is now).
    pub eligible: Vec<String>,
    /// Whose approvals count toward it (each person counts toward one gate only).
    pub approved_by: Vec<String>,
}

/// The policy side of an approval: what matched, and each gate's progress.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyStatus {
    /// The deciding rule of each policy.
    pub matched: Vec<PolicyMatch>,
    /// The gates needed.
    pub gates: Vec<GateStatus>,
}

/// Approvals counted and needed, for "2 of 3".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Progress {
    /// Approvals that count.
    pub approvals: u32,
    /// Approvals needed.
    pub needed: u32,
}

impl PolicyStatus {
    /// Approvals that count and approvals needed, over all gates.
    pub fn progress(&self) -> Progress {
        Progress {
            approvals: self
                .gates
                .iter()
                .map(|g| (g.approved_by.len() as u32).min(g.quorum))
                .sum(),
            needed: self.gates.iter().map(|g| g.quorum).sum(),
        }
    }
}

/// `POST /v1/pair`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PairRequest {
    /// The one-time pairing code.
    pub code: String,
    /// The device's Ed25519 public key, base64url.
    pub public_key: String,
    /// A name for the device, shown in the audit log.
    pub device_name: String,
    /// The service the device pairs with: the `service_id` its preview of the code returned.
    pub service_id: String,
    /// Proof of possession: Ed25519 by the new key over `"countersign/pair/v1\n"` and the JCS
    /// form of `{code, public_key, service_id}`, base64url (see [`crate::pairing`]).
    pub signature: String,
}

/// Answer of `POST /v1/pair`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PairResponse {
    /// The service's id (signed into statements).
    pub service_id: String,
    /// The approver the device now belongs to.
    pub approver_id: String,
    /// The approver's display name.
    pub approver_name: String,
    /// The id of the registered key.
    pub key_id: String,
}

/// `POST /v1/pair/preview`: who a code pairs as, without using it up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PairPreviewRequest {
    /// The one-time pairing code.
    pub code: String,
}

/// Answer of `POST /v1/pair/preview`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PairPreview {
    /// The service's id.
    pub service_id: String,
    /// The approver the code pairs as.
    pub approver_id: String,
    /// The approver's display name.
    pub approver_name: String,
    /// When the code stops working.
    pub expires_at: Timestamp,
}

/// `POST /v1/wallet/challenge`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChallengeRequest {
    /// The device key that will sign.
    pub key_id: String,
}

/// Answer of `POST /v1/wallet/challenge`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Challenge {
    /// The text to sign.
    pub nonce: String,
    /// When the nonce stops working.
    pub expires_at: Timestamp,
}

/// `POST /v1/wallet/session`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    /// The device key.
    pub key_id: String,
    /// The nonce from the challenge.
    pub nonce: String,
    /// Session signature over the nonce, base64url.
    pub signature: String,
}

/// Answer of `POST /v1/wallet/session`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionToken {
    /// Bearer token for the wallet endpoints.
    pub token: String,
    /// When it stops working.
    pub expires_at: Timestamp,
}

/// One row of `GET /v1/wallet/approvals`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WalletApprovalSummary {
    /// The approval.
    pub approval_id: Uuid,
    /// Its state.
    pub status: ApprovalStatus,
    /// The app's reason.
    pub reason: String,
    /// The app.
    pub app: String,
    /// The grant.
    pub grant: String,
    /// HTTP method.
    pub method: String,
    /// Resolved upstream URL.
    pub url: String,
    /// When it was requested.
    pub created_at: Timestamp,
    /// When its window closes.
    pub expires_at: Timestamp,
    /// Approvals counted and needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<Progress>,
}

/// Answer of `GET /v1/wallet/approvals`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WalletApprovalList {
    /// Newest first.
    pub approvals: Vec<WalletApprovalSummary>,
}

/// Answer of `GET /v1/wallet/approvals/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WalletApprovalDetail {
    /// What is to be approved.
    pub statement: Statement,
    /// The service's digest of the statement (the Wallet recomputes it).
    pub request_digest: String,
    /// The request body, base64url.
    #[serde(with = "b64_bytes")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[A-Za-z0-9_-]*$"))]
    pub body: Vec<u8>,
    /// The approval's state.
    pub status: ApprovalStatus,
    /// Decisions so far.
    pub decisions: Vec<DecisionSummary>,
    /// Approvals needed.
    pub quorum: u32,
    /// The policy, the rule that matched and each gate's progress.
    #[serde(default)]
    pub policy: PolicyStatus,
    /// The provider's answer, once `succeeded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<UpstreamResponse>,
    /// Why it failed, once `execution_failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<ExecutionFailure>,
}

/// A past approved request of the same kind (grant, method, path template) as the one under
/// review, from `GET /v1/wallet/approvals/{id}/history`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryItem {
    /// The past approval.
    pub approval_id: Uuid,
    /// The app that asked.
    pub app: String,
    /// The URL it called.
    pub url: String,
    /// Its headers.
    pub headers: BTreeMap<String, String>,
    /// Its body, base64url.
    #[serde(with = "b64_bytes")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[A-Za-z0-9_-]*$"))]
    pub body: Vec<u8>,
    /// When it was requested.
    pub created_at: Timestamp,
}

/// Answer of `GET /v1/wallet/approvals/{id}/history?before=&limit=`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApprovalHistory {
    /// Past approved requests of the same kind.
    pub items: Vec<HistoryItem>,
    /// Pass as `before` for the next page; `None` at the end.
    pub next_before: Option<Uuid>,
}

/// `POST /v1/wallet/approvals/{id}/decision`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// The signed object.
    pub decision: Decision,
    /// Decision signature, base64url.
    pub signature: String,
}

/// Answer of `POST /v1/wallet/approvals/{id}/decision`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecisionResponse {
    /// The approval's state after this decision.
    pub status: ApprovalStatus,
    /// Decisions so far.
    pub decisions: Vec<DecisionSummary>,
}

/// The body of every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// A machine code and a human message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// snake_case, stable.
    pub code: String,
    /// For people; may change.
    pub message: String,
    /// The policy rule that refused the call (`policy_denied`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

/// The `event:` names of `GET /v1/wallet/events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum WalletEventKind {
    /// A new approval names this approver.
    #[serde(rename = "approval.created")]
    Created,
    /// A decision was accepted (the approval may still be pending under a quorum).
    #[serde(rename = "approval.decided")]
    Decided,
    /// The window closed.
    #[serde(rename = "approval.expired")]
    Expired,
    /// The app cancelled.
    #[serde(rename = "approval.cancelled")]
    Cancelled,
    /// The approved call ran (succeeded or execution_failed).
    #[serde(rename = "approval.completed")]
    Completed,
}

impl WalletEventKind {
    /// The SSE `event:` name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Created => "approval.created",
            Self::Decided => "approval.decided",
            Self::Expired => "approval.expired",
            Self::Cancelled => "approval.cancelled",
            Self::Completed => "approval.completed",
        }
    }
}

/// The `data:` of a wallet event. The SSE `id:` is the audit `seq` that recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WalletEvent {
    /// What happened.
    pub kind: WalletEventKind,
    /// The approval.
    pub approval_id: Uuid,
    /// Its state after the event.
    pub status: ApprovalStatus,
    /// The row, on `approval.created`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<WalletApprovalSummary>,
}
