//! [`Error`]: every way a Countersign call can end without a result.

use countersign_core::api::{ErrorBody, FailureReason};
use reqwest::StatusCode;
use uuid::Uuid;

/// How much of an unexpected response body is kept in [`Error::Decode`] and [`Error::Api`].
const MAX_KEPT_BODY: usize = 4096;

/// The error of every SDK call.
///
/// The approval outcomes ([`Denied`](Error::Denied), [`Expired`](Error::Expired),
/// [`Cancelled`](Error::Cancelled), [`ExecutionFailed`](Error::ExecutionFailed)) are final:
/// nothing more will happen to that approval. [`Timeout`](Error::Timeout) is not: only the
/// local wait ended, and the approval can be waited on again with
/// [`Client::wait`](crate::Client::wait).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An approver denied the call; it was not sent.
    #[error("approval {approval_id} was denied by {approver}{}", comment_suffix(.comment))]
    Denied {
        /// The approval.
        approval_id: Uuid,
        /// The approver who denied it (empty if the service did not say).
        approver: String,
        /// The approver's comment.
        comment: Option<String>,
        /// The policy rule that required the approval (`None` when no rule matched and the
        /// policy's default requirement applied, or the service did not say).
        rule: Option<String>,
    },

    /// A policy rule refuses this call outright (403 `policy_denied`); nothing was stored
    /// or sent, and asking again gets the same answer.
    #[error("policy rule {rule:?} refuses this call: {message}")]
    PolicyDenied {
        /// The refusing rule.
        rule: String,
        /// For people; may change.
        message: String,
    },

    /// The approval window closed before enough approvers approved; the call was not sent.
    #[error("approval {approval_id} expired before it was approved")]
    Expired {
        /// The approval.
        approval_id: Uuid,
    },

    /// The app cancelled the approval; the call was not sent.
    #[error("approval {approval_id} was cancelled")]
    Cancelled {
        /// The approval.
        approval_id: Uuid,
    },

    /// The call was approved but did not produce a result.
    ///
    /// With [`FailureReason::OutcomeUnknown`] the call may or may not have reached the
    /// provider; it is never re-sent (the upstream request carried
    /// `Idempotency-Key: <approval_id>`).
    #[error("approved call {approval_id} failed ({reason:?}): {message}")]
    ExecutionFailed {
        /// The approval.
        approval_id: Uuid,
        /// Why it failed.
        reason: FailureReason,
        /// What happened, for people.
        message: String,
        /// The provider's status, when it answered.
        status: Option<u16>,
        /// The provider's body (capped), when it answered.
        body: Option<Vec<u8>>,
    },

    /// The local wait ended while the approval was still open (pending, approved or
    /// executing), or while the service could not be reached. The approval goes on; wait
    /// again later with [`Client::wait`](crate::Client::wait).
    #[error("approval {approval_id} is still open; the local wait ended (wait again later)")]
    Timeout {
        /// The approval to wait on again.
        approval_id: Uuid,
    },

    /// The service refused the request (`{"error": {"code", "message"}}`).
    ///
    /// When the body was not a Countersign error body, `code` is `"unknown"` and `message`
    /// holds the start of the raw body text.
    #[error("service answered {status} {code}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Stable snake_case code, e.g. `grant_not_found`.
        code: String,
        /// For people; may change.
        message: String,
    },

    /// The service could not be reached, or the connection broke.
    #[error("transport error: {0}")]
    Transport(#[from] reqwest::Error),

    /// The service answered something this SDK could not read.
    #[error("could not decode the service's answer: {message}")]
    Decode {
        /// What was wrong.
        message: String,
        /// The start of the body, as text.
        body: String,
    },

    /// The request was refused locally before anything was sent.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

impl Error {
    /// The approval this error is about, for the approval outcomes and [`Error::Timeout`].
    pub fn approval_id(&self) -> Option<Uuid> {
        match self {
            Error::Denied { approval_id, .. }
            | Error::Expired { approval_id }
            | Error::Cancelled { approval_id }
            | Error::ExecutionFailed { approval_id, .. }
            | Error::Timeout { approval_id } => Some(*approval_id),
            _ => None,
        }
    }

    /// True when only the local wait ended and the approval may still complete.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
    }

    /// Builds [`Error::Api`] from a non-success answer.
    pub(crate) fn from_response(status: StatusCode, body: &[u8]) -> Self {
        match serde_json::from_slice::<ErrorBody>(body) {
            Ok(parsed) if parsed.error.code == "policy_denied" => Error::PolicyDenied {
                rule: parsed.error.rule.unwrap_or_default(),
                message: parsed.error.message,
            },
            Ok(parsed) => Error::Api {
                status: status.as_u16(),
                code: parsed.error.code,
                message: parsed.error.message,
            },
            Err(_) => {
                let text = body_text(body);
                let message = if text.trim().is_empty() {
                    status.canonical_reason().unwrap_or("no body").to_string()
                } else {
                    text
                };
                Error::Api {
                    status: status.as_u16(),
                    code: "unknown".to_string(),
                    message,
                }
            }
        }
    }

    /// Builds [`Error::Decode`].
    pub(crate) fn decode(message: impl Into<String>, body: &[u8]) -> Self {
        Error::Decode {
            message: message.into(),
            body: body_text(body),
        }
    }
}

/// Decodes a JSON answer, mapping failures to [`Error::Decode`].
pub(crate) fn decode_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| Error::decode(e.to_string(), body))
}

/// The first [`MAX_KEPT_BODY`] bytes of `body` as (lossy) text.
fn body_text(body: &[u8]) -> String {
    let cut = &body[..body.len().min(MAX_KEPT_BODY)];
    let mut text = String::from_utf8_lossy(cut).into_owned();
    if body.len() > MAX_KEPT_BODY {
        text.push('…');
    }
    text
}

fn comment_suffix(comment: &Option<String>) -> String {
    match comment {
        Some(c) if !c.is_empty() => format!(": {c}"),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_error_parses_the_error_body() {
        let body = br#"{"error":{"code":"grant_not_found","message":"no grant named x"}}"#;
        match Error::from_response(StatusCode::NOT_FOUND, body) {
            Error::Api {
                status,
                code,
                message,
            } => {
                assert_eq!(status, 404);
                assert_eq!(code, "grant_not_found");
                assert_eq!(message, "no grant named x");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn api_error_keeps_raw_text_when_not_json() {
        let body = vec![b'x'; MAX_KEPT_BODY + 10];
        match Error::from_response(StatusCode::BAD_GATEWAY, &body) {
            Error::Api { code, message, .. } => {
                assert_eq!(code, "unknown");
                assert!(message.starts_with("xxx") && message.ends_with('…'));
            }
            other => panic!("unexpected {other:?}"),
        }
        match Error::from_response(StatusCode::BAD_GATEWAY, b"") {
            Error::Api { message, .. } => assert_eq!(message, "Bad Gateway"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn approval_id_is_exposed_for_outcomes_only() {
        let id = Uuid::nil();
        assert_eq!(Error::Timeout { approval_id: id }.approval_id(), Some(id));
        assert_eq!(Error::InvalidRequest("x".into()).approval_id(), None);
        let denied = Error::Denied {
            approval_id: id,
            approver: "alice".into(),
            comment: Some("not today".into()),
            rule: Some("large-refunds".into()),
        };
        assert!(denied.to_string().ends_with("denied by alice: not today"));
    }

    #[test]
    fn policy_denied_carries_the_rule() {
        let body = br#"{"error":{"code":"policy_denied","message":"rule \"no-deletes\" of policy \"refunds\" refuses this call","rule":"no-deletes"}}"#;
        match Error::from_response(StatusCode::FORBIDDEN, body) {
            Error::PolicyDenied { rule, message } => {
                assert_eq!(rule, "no-deletes");
                assert!(message.contains("refuses"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
