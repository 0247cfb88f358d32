//! What a proxied call turns into: a result now, or an approval to wait on.

use crate::client::Client;
use crate::error::Error;
use countersign_core::api::{ApprovalView, UpstreamResponse};
use countersign_core::decision::Verdict;
use countersign_core::{ApprovalStatus, Timestamp};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::time::Duration;
use uuid::Uuid;

/// The answer of [`Client::proxy_request`].
#[derive(Debug)]
pub enum ProxyOutcome {
    /// No approval was needed: the call ran and this is the provider's answer.
    Completed(ApprovalResult),
    /// The call waits for a person's signed approval.
    Pending(PendingApproval),
}

/// The provider's answer to an executed call.
///
/// Any provider status is a result, including 4xx; check [`status`](Self::status). (A
/// provider 5xx is reported as [`Error::ExecutionFailed`] instead.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalResult {
    /// The approval (or, for calls that needed none, the record of the call).
    pub approval_id: Uuid,
    /// The provider's answer.
    pub response: UpstreamResponse,
}

impl ApprovalResult {
    /// The provider's HTTP status.
    pub fn status(&self) -> u16 {
        self.response.status
    }

    /// The provider's body (cut at the service's cap, see [`truncated`](Self::truncated)).
    pub fn body(&self) -> &[u8] {
        &self.response.body
    }

    /// The provider's headers (lower-case names).
    pub fn headers(&self) -> &BTreeMap<String, String> {
        &self.response.headers
    }

    /// One provider header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.response
            .headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// True when the service cut the body at its cap.
    pub fn truncated(&self) -> bool {
        self.response.body_truncated
    }

    /// Decodes the body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.response.body).map_err(|e| {
            let mut message = format!("provider body is not the expected JSON: {e}");
            if self.response.body_truncated {
                message.push_str(" (the body was truncated by the service)");
            }
            Error::decode(message, &self.response.body)
        })
    }
}

/// An approval that is waiting for a person (the `202` answer of `POST /v1/proxy`).
///
/// Persist [`approval_id`](Self::approval_id) if the process may stop before the outcome is
/// known; [`Client::wait`] picks it up again.
#[derive(Debug, Clone)]
pub struct PendingApproval {
    /// The approval to wait on.
    pub approval_id: Uuid,
    /// Deep link that opens the approval in the Wallet (give it to the approver).
    pub approval_url: String,
    /// When the approval window closes.
    pub expires_at: Timestamp,
    pub(crate) client: Client,
}

impl PendingApproval {
    /// Waits up to `timeout` for the outcome (see [`Client::wait`]).
    pub async fn wait(&self, timeout: Duration) -> Result<ApprovalResult, Error> {
        self.client.wait(self.approval_id, timeout).await
    }

    /// Withdraws the request (see [`Client::cancel`]).
    pub async fn cancel(&self) -> Result<ApprovalView, Error> {
        self.client.cancel(self.approval_id).await
    }

    /// The approval's current state, without waiting (see [`Client::approval`]).
    pub async fn status(&self) -> Result<ApprovalView, Error> {
        self.client.approval(self.approval_id).await
    }

    /// Time until the window closes by this machine's clock (zero once passed).
    ///
    /// Waiting a little longer than this covers the decision and the execution after it.
    pub fn expires_in(&self) -> Duration {
        let secs = Timestamp::now().seconds_until(&self.expires_at);
        Duration::from_secs(u64::try_from(secs).unwrap_or(0))
    }
}

/// Maps a final approval to its result or error.
///
/// A state that is not final is an error here ([`Error::Decode`]); the wait loop only calls
/// this on final states.
pub(crate) fn settle(view: ApprovalView) -> Result<ApprovalResult, Error> {
    let approval_id = view.approval_id;
    match view.status {
        ApprovalStatus::Succeeded => match view.response {
            Some(response) => Ok(ApprovalResult {
                approval_id,
                response,
            }),
            None => Err(Error::decode(
                format!("approval {approval_id} succeeded but carries no response"),
                b"",
            )),
        },
        ApprovalStatus::ExecutionFailed => Err(match view.failure {
            Some(f) => Error::ExecutionFailed {
                approval_id,
                reason: f.reason,
                message: f.message,
                status: f.status,
                body: f.body,
            },
            None => Error::ExecutionFailed {
                approval_id,
                reason: countersign_core::api::FailureReason::OutcomeUnknown,
                message: "the service reported execution_failed without details".to_string(),
                status: None,
                body: None,
            },
        }),
        ApprovalStatus::Denied => {
            let deny = view
                .decisions
                .iter()
                .rev()
                .find(|d| d.decision == Verdict::Deny);
            Err(Error::Denied {
                approval_id,
                approver: deny.map(|d| d.approver_id.clone()).unwrap_or_default(),
                comment: deny.and_then(|d| d.comment.clone()),
                rule: view
                    .matched
                    .iter()
                    .find(|m| m.action == "require")
                    .and_then(|m| m.rule.clone()),
            })
        }
        ApprovalStatus::Expired => Err(Error::Expired { approval_id }),
        ApprovalStatus::Cancelled => Err(Error::Cancelled { approval_id }),
        open @ (ApprovalStatus::Pending | ApprovalStatus::Approved | ApprovalStatus::Executing) => {
            Err(Error::decode(
                format!("expected a final approval, got {open}"),
                b"",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use countersign_core::api::{DecisionSummary, ExecutionFailure, FailureReason};

    fn view(status: ApprovalStatus) -> ApprovalView {
        ApprovalView {
            approval_id: Uuid::nil(),
            status,
            expires_at: "2030-01-01T00:00:00Z".parse().unwrap(),
            decisions: vec![],
            matched: vec![],
            response: None,
            failure: None,
        }
    }

    #[test]
    fn denied_takes_the_deny_decision() {
        let mut v = view(ApprovalStatus::Denied);
        v.matched.push(countersign_core::api::PolicyMatch {
            policy: "refunds".into(),
            rule: Some("large-refunds".into()),
            action: "require".into(),
        });
        for (who, verdict) in [("alice", Verdict::Approve), ("bob", Verdict::Deny)] {
            v.decisions.push(DecisionSummary {
                approver_id: who.into(),
                decision: verdict,
                comment: Some(format!("{who} says")),
                decided_at: "2029-12-31T23:00:00Z".parse().unwrap(),
            });
        }
        match settle(v) {
            Err(Error::Denied {
                approver,
                comment,
                rule,
                ..
            }) => {
                assert_eq!(rule.as_deref(), Some("large-refunds"));
                assert_eq!(approver, "bob");
                assert_eq!(comment.as_deref(), Some("bob says"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn failures_and_open_states_map() {
        let mut v = view(ApprovalStatus::ExecutionFailed);
        v.failure = Some(ExecutionFailure {
            reason: FailureReason::ProviderError,
            message: "502 from provider".into(),
            status: Some(502),
            body: Some(b"oops".to_vec()),
        });
        assert!(matches!(
            settle(v),
            Err(Error::ExecutionFailed {
                reason: FailureReason::ProviderError,
                status: Some(502),
                ..
            })
        ));
        assert!(matches!(
            settle(view(ApprovalStatus::ExecutionFailed)),
            Err(Error::ExecutionFailed {
                reason: FailureReason::OutcomeUnknown,
                ..
            })
        ));
        assert!(matches!(
            settle(view(ApprovalStatus::Expired)),
            Err(Error::Expired { .. })
        ));
        assert!(matches!(
            settle(view(ApprovalStatus::Cancelled)),
            Err(Error::Cancelled { .. })
        ));
        assert!(matches!(
            settle(view(ApprovalStatus::Succeeded)),
            Err(Error::Decode { .. })
        ));
        assert!(matches!(
            settle(view(ApprovalStatus::Pending)),
            Err(Error::Decode { .. })
        ));
    }

    #[test]
    fn result_helpers() {
        let result = ApprovalResult {
            approval_id: Uuid::nil(),
            response: UpstreamResponse {
                status: 201,
                headers: BTreeMap::from([("x-id".to_string(), "7".to_string())]),
                body: br#"{"id":7}"#.to_vec(),
                body_truncated: false,
                duration_ms: 12,
            },
        };
        assert_eq!(result.status(), 201);
        assert_eq!(result.header("X-Id"), Some("7"));
        assert_eq!(result.json::<serde_json::Value>().unwrap()["id"], 7);
        assert!(matches!(
            result.json::<Vec<u8>>(),
            Err(Error::Decode { .. })
        ));
    }
}
