//! The review screen's content, built in Rust from a fetched and verified approval.
//!
//! The view receives only display data. The digest shown (and its fingerprint) is the one the
//! Wallet recomputed with the core crate from the statement below it; the decision signed later
//! is bound to that same digest (see [`crate::wallet::Wallet::decide`]).

use crate::body::{body_view, BodyView};
use crate::reveal::{reveal, Revealed};
use countersign_core::api::{
    DecisionSummary, ExecutionFailure, UpstreamResponse, WalletApprovalDetail,
};
use countersign_core::statement::fingerprint;
use countersign_core::{ApprovalStatus, ServerUrl, Timestamp, Verdict};
use serde::Serialize;
use uuid::Uuid;

/// One request header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeaderView {
    /// Lower-case name.
    pub name: Revealed,
    /// Value.
    pub value: Revealed,
}

/// One decision so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecisionView {
    /// Who.
    pub approver_id: Revealed,
    /// Approve or deny.
    pub decision: Verdict,
    /// Their comment.
    pub comment: Option<Revealed>,
    /// When.
    pub decided_at: Timestamp,
}

/// Approvals needed and given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QuorumView {
    /// Approvals needed.
    pub needed: u32,
    /// Approvals given.
    pub approvals: u32,
    /// Denials given (one ends the request).
    pub denials: u32,
}

/// What happened to the call after the decisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutcomeView {
    /// The final or current state.
    pub status: ApprovalStatus,
    /// The provider's HTTP status, when it answered.
    pub provider_status: Option<u16>,
    /// The provider's body, when it answered.
    pub provider_body: Option<BodyView>,
    /// Why it failed, for people.
    pub failure: Option<Revealed>,
}

/// Everything the review screen shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewView {
    /// The service.
    pub server: String,
    /// The approval.
    pub approval_id: Uuid,
    /// The app's reason (shown first and large).
    pub reason: Revealed,
    /// The app.
    pub app: Revealed,
    /// The grant.
    pub grant: Revealed,
    /// HTTP method.
    pub method: Revealed,
    /// The resolved upstream URL.
    pub url: Revealed,
    /// Non-secret headers.
    pub headers: Vec<HeaderView>,
    /// The body.
    pub body: BodyView,
    /// The request digest the Wallet recomputed (full hex).
    pub digest: String,
    /// Its short fingerprint.
    pub fingerprint: String,
    /// When requested.
    pub created_at: Timestamp,
    /// When the window closes.
    pub expires_at: Timestamp,
    /// Seconds left when this view was made.
    pub seconds_left: i64,
    /// The approval's state.
    pub status: ApprovalStatus,
    /// Quorum progress.
    pub quorum: QuorumView,
    /// Decisions so far.
    pub decisions: Vec<DecisionView>,
    /// True while this Wallet may still decide (pending, window open, not decided by this key).
    pub can_decide: bool,
    /// The outcome, once there is one.
    pub outcome: Option<OutcomeView>,
    /// True when any shown text hid characters (the view shows a warning banner).
    pub warning: bool,
}

/// Builds the view of `detail` whose locally computed digest is `digest`.
pub fn review_view(
    server: &ServerUrl,
    detail: &WalletApprovalDetail,
    digest: &str,
    my_approver_id: &str,
    now: Timestamp,
) -> ReviewView {
    let st = &detail.statement;
    let headers: Vec<HeaderView> = st
        .headers
        .iter()
        .map(|(k, v)| HeaderView {
            name: reveal(k),
            value: reveal(v),
        })
        .collect();
    let content_type = st.headers.get("content-type").map(String::as_str);
    let body = body_view(&detail.body, content_type);
    let decisions: Vec<DecisionView> = detail.decisions.iter().map(decision_view).collect();
    let quorum = quorum_view(detail.quorum, &detail.decisions);
    let seconds_left = now.seconds_until(&st.expires_at).max(0);
    let already = detail
        .decisions
        .iter()
        .any(|d| d.approver_id == my_approver_id);
    let can_decide = detail.status == ApprovalStatus::Pending && seconds_left > 0 && !already;
    let outcome = outcome_view(
        detail.status,
        detail.response.as_ref(),
        detail.failure.as_ref(),
    );
    let mut view = ReviewView {
        server: server.to_string(),
        approval_id: st.approval_id,
        reason: reveal(&st.reason),
        app: reveal(&st.app),
        grant: reveal(&st.grant),
        method: reveal(&st.method),
        url: reveal(&st.url),
        headers,
        body,
        digest: digest.to_string(),
        fingerprint: fingerprint(digest),
        created_at: st.created_at,
        expires_at: st.expires_at,
        seconds_left,
        status: detail.status,
        quorum,
        decisions,
        can_decide,
        outcome,
        warning: false,
    };
    view.warning = any_warning(&view);
    view
}

fn any_warning(v: &ReviewView) -> bool {
    [
        &v.reason,
        &v.app,
        &v.grant,
        &v.method,
        &v.url,
        &v.body.display,
    ]
    .iter()
    .any(|r| r.warning)
        || v.headers.iter().any(|h| h.name.warning || h.value.warning)
}

fn decision_view(d: &DecisionSummary) -> DecisionView {
    DecisionView {
        approver_id: reveal(&d.approver_id),
        decision: d.decision,
        comment: d.comment.as_deref().map(reveal),
        decided_at: d.decided_at,
    }
}

/// Counts approvals and denials against the quorum.
pub fn quorum_view(needed: u32, decisions: &[DecisionSummary]) -> QuorumView {
    let count = |v: Verdict| decisions.iter().filter(|d| d.decision == v).count() as u32;
    QuorumView {
        needed: needed.max(1),
        approvals: count(Verdict::Approve),
        denials: count(Verdict::Deny),
    }
}

/// The outcome part, present once the request left `pending`.
pub fn outcome_view(
    status: ApprovalStatus,
    response: Option<&UpstreamResponse>,
    failure: Option<&ExecutionFailure>,
) -> Option<OutcomeView> {
    if status == ApprovalStatus::Pending {
        return None;
    }
    Some(OutcomeView {
        status,
        provider_status: response
            .map(|r| r.status)
            .or_else(|| failure.and_then(|f| f.status)),
        provider_body: response
            .map(|r| body_view(&r.body, r.headers.get("content-type").map(String::as_str)))
            .or_else(|| {
                failure
                    .and_then(|f| f.body.as_deref())
                    .map(|b| body_view(b, None))
            }),
        failure: failure.map(|f| reveal(&f.message)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use countersign_core::encoding::sha256_hex;
    use countersign_core::Statement;

    pub(crate) fn detail(reason: &str, body: &[u8]) -> WalletApprovalDetail {
        let statement = Statement {
            v: 1,
            service: "svc_test".into(),
            approval_id: "019a0000-0000-7000-8000-000000000001".parse().unwrap(),
            app: "support-agent".into(),
            grant: "payments".into(),
            method: "POST".into(),
            url: "http://127.0.0.1:9000/v1/refunds".into(),
            headers: [("content-type".to_string(), "application/json".to_string())].into(),
            body_sha256: sha256_hex(body),
            body_size: body.len() as u64,
            reason: reason.into(),
            created_at: "2026-11-24T12:00:00Z".parse().unwrap(),
            expires_at: "2026-11-24T13:00:00Z".parse().unwrap(),
            policy_id: "refunds".into(),
        };
        WalletApprovalDetail {
            request_digest: statement.request_digest(),
            statement,
            body: body.to_vec(),
            status: ApprovalStatus::Pending,
            decisions: vec![],
            quorum: 2,
            policy: Default::default(),
            response: None,
            failure: None,
        }
    }

    fn server() -> ServerUrl {
        ServerUrl::parse("http://127.0.0.1:8470").unwrap()
    }

    #[test]
    fn view_shows_the_recomputed_digest_and_its_fingerprint() {
        let d = detail("Refund order 42", br#"{"order":42}"#);
        let digest = d.statement.request_digest();
        let now = "2026-11-24T12:30:00Z".parse().unwrap();
        let v = review_view(&server(), &d, &digest, "alice", now);
        assert_eq!(v.digest, digest);
        assert_eq!(v.fingerprint, fingerprint(&digest));
        assert_eq!(v.fingerprint.len(), 19);
        assert_eq!(v.seconds_left, 1800);
        assert_eq!(v.body.display.text, "{\n  \"order\": 42\n}");
        assert!(v.can_decide);
        assert!(!v.warning);
        assert_eq!(v.outcome, None);
        assert_eq!(
            v.quorum,
            QuorumView {
                needed: 2,
                approvals: 0,
                denials: 0
            }
        );
    }

    #[test]
    fn hostile_reason_is_flagged_and_not_decidable_twice() {
        let mut d = detail("<script>x</script>\u{202E}evil", b"{}");
        d.decisions.push(DecisionSummary {
            approver_id: "alice".into(),
            decision: Verdict::Approve,
            comment: Some("ok\u{200B}".into()),
            decided_at: "2026-11-24T12:01:00Z".parse().unwrap(),
        });
        let now = "2026-11-24T12:30:00Z".parse().unwrap();
        let v = review_view(&server(), &d, &d.request_digest, "alice", now);
        assert!(v.warning);
        assert_eq!(v.reason.text, "<script>x</script>⟨U+202E⟩evil");
        assert!(!v.can_decide, "alice already decided");
        assert_eq!(v.quorum.approvals, 1);
        assert_eq!(v.decisions[0].comment.as_ref().unwrap().text, "ok⟨U+200B⟩");
        let bob = review_view(&server(), &d, &d.request_digest, "bob", now);
        assert!(bob.can_decide);
    }

    #[test]
    fn outcome_shows_the_provider_answer_or_failure() {
        let resp = UpstreamResponse {
            status: 201,
            headers: [("content-type".to_string(), "application/json".to_string())].into(),
            body: br#"{"id":"re_1"}"#.to_vec(),
            body_truncated: false,
            duration_ms: 12,
        };
        let o = outcome_view(ApprovalStatus::Succeeded, Some(&resp), None).unwrap();
        assert_eq!(o.provider_status, Some(201));
        assert!(o.provider_body.unwrap().display.text.contains("re_1"));
        let fail = ExecutionFailure {
            reason: countersign_core::api::FailureReason::ProviderError,
            message: "provider answered 502".into(),
            status: Some(502),
            body: None,
        };
        let o = outcome_view(ApprovalStatus::ExecutionFailed, None, Some(&fail)).unwrap();
        assert_eq!(o.provider_status, Some(502));
        assert_eq!(o.failure.unwrap().text, "provider answered 502");
        assert!(outcome_view(ApprovalStatus::Pending, None, None).is_none());
    }
}
