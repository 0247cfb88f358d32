//! Whether a service may accept a signed decision: every check that needs no storage, in one
//! place and one order — the approval named, the protocol version, who signs, the key, the
//! signature, the digest, the clock and the window, and the approver's right under the
//! policy as it is now.

use crate::decision::Decision;
use crate::keys::VerifyingKey;
use crate::time::Timestamp;
use crate::PROTOCOL_VERSION;
use uuid::Uuid;

/// How far a decision's `decided_at` may be from the service's clock, in seconds.
pub const MAX_CLOCK_SKEW_SECS: i64 = 5 * 60;

/// The signed-in device that sends a decision.
#[derive(Debug, Clone, Copy)]
pub struct Sender<'a> {
    /// The approver the session belongs to.
    pub approver_id: &'a str,
    /// The key the session signed in with.
    pub key_id: &'a str,
}

/// The registered device whose key the decision names.
#[derive(Debug, Clone, Copy)]
pub struct DeviceKey<'a> {
    /// Its approver.
    pub approver_id: &'a str,
    /// Its public key.
    pub public_key: &'a VerifyingKey,
    /// True once revoked.
    pub revoked: bool,
}

/// What the service knows of the approval a decision is sent for.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The approval in the URL.
    pub approval_id: Uuid,
    /// The service's digest of its statement.
    pub request_digest: &'a str,
    /// When its window closes.
    pub expires_at: Timestamp,
    /// Whether the sender is eligible in a gate of its policy, as the policy is now.
    pub sender_eligible: bool,
}

/// Why a decision is refused; each has a stable error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The decision names another approval than the one it was sent for.
    #[error("the decision names another approval than the URL")]
    ApprovalMismatch,
    /// A protocol version this service does not speak.
    #[error("decision version {0} is not supported")]
    UnsupportedVersion(u32),
    /// The decision names another approver or key than the signed-in device.
    #[error("the decision names another approver or key than the signed-in device")]
    Misdirected,
    /// No gate of the approval's policy names the approver (now).
    #[error("no gate of this approval's policy names this approver")]
    NotAnApprover,
    /// The key is unknown, revoked, or another approver's.
    #[error("the key is not an active device of this approver")]
    UnknownKey,
    /// The signature does not verify.
    #[error("the decision signature does not verify: {0}")]
    BadSignature(String),
    /// The decision was signed over another request.
    #[error("the decision was signed over another request than this approval's")]
    DigestMismatch,
    /// `decided_at` is too far from the service's clock.
    #[error("decided_at is more than 5 minutes from the service's clock")]
    ClockSkew,
    /// Made after the window closed.
    #[error("the decision was made after the approval window closed")]
    Expired,
}

impl Refusal {
    /// The stable snake_case error code.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::ApprovalMismatch => "approval_mismatch",
            Refusal::UnsupportedVersion(_) => "unsupported_version",
            Refusal::Misdirected => "misdirected_decision",
            Refusal::NotAnApprover => "not_an_approver",
            Refusal::UnknownKey => "unknown_key",
            Refusal::BadSignature(_) => "bad_signature",
            Refusal::DigestMismatch => "digest_mismatch",
            Refusal::ClockSkew => "clock_skew",
            Refusal::Expired => "expired",
        }
    }
}

/// Checks `decision` (with `signature`) from `sender` against `device` (the registered key it
/// names, if any) and `target`, at `now`. Storage-side checks (still pending, one decision
/// per person, the device not revoked meanwhile) are the store's, in its transaction.
pub fn check_decision(
    decision: &Decision,
    signature: &str,
    sender: Sender<'_>,
    device: Option<DeviceKey<'_>>,
    target: Target<'_>,
    now: Timestamp,
) -> Result<(), Refusal> {
    if decision.approval_id != target.approval_id {
        return Err(Refusal::ApprovalMismatch);
    }
    if decision.v != PROTOCOL_VERSION {
        return Err(Refusal::UnsupportedVersion(decision.v));
    }
    if decision.approver_id != sender.approver_id || decision.key_id != sender.key_id {
        return Err(Refusal::Misdirected);
    }
    if !target.sender_eligible {
        return Err(Refusal::NotAnApprover);
    }
    let device = device
        .filter(|d| !d.revoked && d.approver_id == sender.approver_id)
        .ok_or(Refusal::UnknownKey)?;
    decision
        .verify(device.public_key, signature)
        .map_err(|e| Refusal::BadSignature(e.to_string()))?;
    if decision.request_digest != target.request_digest {
        return Err(Refusal::DigestMismatch);
    }
    if (decision.decided_at.unix() - now.unix()).abs() > MAX_CLOCK_SKEW_SECS {
        return Err(Refusal::ClockSkew);
    }
    if decision.decided_at >= target.expires_at {
        return Err(Refusal::Expired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::Verdict;
    use crate::keys::{generate_signing_key, SigningKey};

    struct Case {
        key: SigningKey,
        decision: Decision,
        now: Timestamp,
    }

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_unix(1_800_000_000 + secs).unwrap()
    }

    fn case() -> Case {
        Case {
            key: generate_signing_key(),
            decision: Decision {
                v: PROTOCOL_VERSION,
                approval_id: Uuid::from_u128(7),
                request_digest: "ab".repeat(32),
                decision: Verdict::Approve,
                comment: None,
                decided_at: t(10),
                approver_id: "alice".into(),
                key_id: "k1".into(),
            },
            now: t(12),
        }
    }

    fn check(c: &Case, signature: &str, eligible: bool, revoked: bool) -> Result<(), Refusal> {
        let public = c.key.verifying_key();
        check_decision(
            &c.decision,
            signature,
            Sender {
                approver_id: "alice",
                key_id: "k1",
            },
            Some(DeviceKey {
                approver_id: "alice",
                public_key: &public,
                revoked,
            }),
            Target {
                approval_id: Uuid::from_u128(7),
                request_digest: &"ab".repeat(32),
                expires_at: t(60),
                sender_eligible: eligible,
            },
            c.now,
        )
    }

    #[test]
    fn an_honest_decision_passes() {
        let c = case();
        let sig = c.decision.sign(&c.key);
        assert_eq!(check(&c, &sig, true, false), Ok(()));
    }

    #[test]
    fn each_check_refuses_with_its_code() {
        let c = case();
        let sig = c.decision.sign(&c.key);
        assert_eq!(
            check(&c, &sig, false, false).unwrap_err().code(),
            "not_an_approver"
        );
        assert_eq!(
            check(&c, &sig, true, true).unwrap_err().code(),
            "unknown_key"
        );
        let other = generate_signing_key();
        assert_eq!(
            check(&c, &c.decision.sign(&other), true, false)
                .unwrap_err()
                .code(),
            "bad_signature"
        );
        let mutate = |f: &dyn Fn(&mut Decision)| {
            let mut c = case();
            f(&mut c.decision);
            let sig = c.decision.sign(&c.key);
            check(&c, &sig, true, false).unwrap_err().code()
        };
        assert_eq!(
            mutate(&|d| d.approval_id = Uuid::from_u128(8)),
            "approval_mismatch"
        );
        assert_eq!(mutate(&|d| d.v = 2), "unsupported_version");
        assert_eq!(
            mutate(&|d| d.approver_id = "bob".into()),
            "misdirected_decision"
        );
        assert_eq!(mutate(&|d| d.key_id = "k2".into()), "misdirected_decision");
        assert_eq!(
            mutate(&|d| d.request_digest = "cd".repeat(32)),
            "digest_mismatch"
        );
        assert_eq!(
            mutate(&|d| d.decided_at = t(12 + MAX_CLOCK_SKEW_SECS + 1)),
            "clock_skew"
        );
        let mut late = case();
        late.decision.decided_at = t(60);
        late.now = t(61);
        let sig = late.decision.sign(&late.key);
        assert_eq!(
            check(&late, &sig, true, false).unwrap_err().code(),
            "expired"
        );
    }

    #[test]
    fn a_signature_moved_to_another_decision_fails() {
        let c = case();
        let sig = c.decision.sign(&c.key);
        let mut denied = case();
        denied.key = c.key.clone();
        denied.decision.decision = Verdict::Deny;
        assert_eq!(
            check(&denied, &sig, true, false).unwrap_err().code(),
            "bad_signature"
        );
    }
}
