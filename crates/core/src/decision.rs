//! The signed [`Decision`]: an approver's approve or deny, bound to one `request_digest`.
//!
//! Signed bytes: `"countersign/decision/v1\n"` followed by the JCS form of the decision.

use crate::jcs;
use crate::keys::{
    decode_signature, encode_signature, KeyError, Signature, SigningKey, VerifyingKey,
};
use crate::time::Timestamp;
use ed25519_dalek::Signer;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Domain separation prefix of decision signatures.
pub const DECISION_DOMAIN: &[u8] = b"countersign/decision/v1\n";

/// Approve or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Verdict {
    /// Let the call run (counts toward the quorum).
    Approve,
    /// Refuse the call; one deny ends the approval.
    Deny,
}

impl Verdict {
    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Approve => "approve",
            Verdict::Deny => "deny",
        }
    }
}

/// The object an approver signs (protocol field names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// Protocol version, always 1.
    pub v: u32,
    /// The approval decided.
    pub approval_id: Uuid,
    /// The digest of the statement the approver saw.
    pub request_digest: String,
    /// Approve or deny.
    pub decision: Verdict,
    /// The approver's comment, `null` when none.
    pub comment: Option<String>,
    /// When the approver decided.
    pub decided_at: Timestamp,
    /// Who decided.
    pub approver_id: String,
    /// With which device key.
    pub key_id: String,
}

/// A signature that does not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    /// The signature text is malformed.
    #[error("malformed signature: {0}")]
    Malformed(#[from] KeyError),
    /// The signature is well formed but does not verify for this key and message.
    #[error("signature does not verify")]
    Invalid,
}

impl Decision {
    /// The bytes that are signed: domain prefix and JCS form.
    pub fn signing_input(&self) -> Vec<u8> {
        let mut out = DECISION_DOMAIN.to_vec();
        out.extend(jcs::to_canonical_bytes(self).expect("a decision always serializes"));
        out
    }

    /// Signs with `key`; returns the wire form of the signature.
    pub fn sign(&self, key: &SigningKey) -> String {
        encode_signature(&key.sign(&self.signing_input()))
    }

    /// Verifies `signature` (wire form) by `key` over this decision (strict Ed25519).
    pub fn verify(&self, key: &VerifyingKey, signature: &str) -> Result<(), SignatureError> {
        let sig: Signature = decode_signature(signature)?;
        key.verify_strict(&self.signing_input(), &sig)
            .map_err(|_| SignatureError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::generate_signing_key;

    fn sample() -> Decision {
        Decision {
            v: 1,
            approval_id: "019a0000-0000-7000-8000-000000000001".parse().unwrap(),
            request_digest: "ab".repeat(32),
            decision: Verdict::Approve,
            comment: None,
            decided_at: "2026-11-24T12:01:00Z".parse().unwrap(),
            approver_id: "alice".into(),
            key_id: "key_0011223344556677".into(),
        }
    }

    #[test]
    fn a_signature_verifies_only_for_its_decision_and_key() {
        let key = generate_signing_key();
        let d = sample();
        let sig = d.sign(&key);
        assert_eq!(d.verify(&key.verifying_key(), &sig), Ok(()));

        let other_key = generate_signing_key();
        assert_eq!(
            d.verify(&other_key.verifying_key(), &sig),
            Err(SignatureError::Invalid)
        );

        let mut moved = d.clone();
        moved.approval_id = "019a0000-0000-7000-8000-000000000002".parse().unwrap();
        assert_eq!(
            moved.verify(&key.verifying_key(), &sig),
            Err(SignatureError::Invalid)
        );

        let mut flipped = d.clone();
        flipped.decision = Verdict::Deny;
        assert_eq!(
            flipped.verify(&key.verifying_key(), &sig),
            Err(SignatureError::Invalid)
        );

        assert!(matches!(
            d.verify(&key.verifying_key(), "short"),
            Err(SignatureError::Malformed(_))
        ));
    }

    #[test]
    fn signing_input_starts_with_the_domain() {
        let input = sample().signing_input();
        assert!(input.starts_with(b"countersign/decision/v1\n{\"approval_id\":"));
    }
}
