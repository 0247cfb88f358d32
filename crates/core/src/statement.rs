//! The [`Statement`]: what an approver reviews and what the decision's digest covers.

use crate::encoding::sha256_hex;
use crate::jcs;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// The reviewed description of one upstream call (protocol field names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// Protocol version, always 1.
    pub v: u32,
    /// The service's id, as given at pairing.
    pub service: String,
    /// The approval this statement belongs to.
    pub approval_id: Uuid,
    /// The app that asked.
    pub app: String,
    /// The grant whose secret the call will carry.
    pub grant: String,
    /// HTTP method, upper case.
    pub method: String,
    /// The resolved upstream URL, query included.
    pub url: String,
    /// Non-secret request headers, lower-case names.
    pub headers: BTreeMap<String, String>,
    /// SHA-256 of the request body, lowercase hex.
    pub body_sha256: String,
    /// Size of the request body in bytes.
    pub body_size: u64,
    /// The app's stated reason.
    pub reason: String,
    /// When the request was made.
    pub created_at: Timestamp,
    /// When the approval window closes.
    pub expires_at: Timestamp,
    /// The policy that required approval.
    pub policy_id: String,
}

/// A body that does not match its statement.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BodyMismatch {
    /// The size differs from `body_size`.
    #[error("body has {actual} bytes, the statement says {stated}")]
    Size {
        /// Bytes in the statement.
        stated: u64,
        /// Bytes received.
        actual: u64,
    },
    /// The SHA-256 differs from `body_sha256`.
    #[error("body SHA-256 differs from the statement's")]
    Digest,
}

impl Statement {
    /// The JCS bytes of this statement.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        jcs::to_canonical_bytes(self).expect("a statement always serializes")
    }

    /// `request_digest`: SHA-256 of the JCS form, lowercase hex.
    pub fn request_digest(&self) -> String {
        sha256_hex(self.canonical_bytes())
    }

    /// Checks that `body` is the body this statement describes.
    pub fn check_body(&self, body: &[u8]) -> Result<(), BodyMismatch> {
        let actual = body.len() as u64;
        if actual != self.body_size {
            return Err(BodyMismatch::Size {
                stated: self.body_size,
                actual,
            });
        }
        if sha256_hex(body) != self.body_sha256 {
            return Err(BodyMismatch::Digest);
        }
        Ok(())
    }
}

/// A short fingerprint of a digest for people to compare: the first 16 hex digits in groups of 4.
pub fn fingerprint(digest_hex: &str) -> String {
    digest_hex
        .chars()
        .take(16)
        .collect::<Vec<_>>()
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> Statement {
        Statement {
            v: 1,
            service: "svc_test".into(),
            approval_id: "019a0000-0000-7000-8000-000000000001".parse().unwrap(),
            app: "support-agent".into(),
            grant: "payments".into(),
            method: "POST".into(),
            url: "http://127.0.0.1:9000/v1/refunds".into(),
            headers: [("content-type".to_string(), "application/json".to_string())].into(),
            body_sha256: sha256_hex(b"{}"),
            body_size: 2,
            reason: "Refund order 42".into(),
            created_at: "2026-11-24T12:00:00Z".parse().unwrap(),
            expires_at: "2026-11-24T13:00:00Z".parse().unwrap(),
            policy_id: "refunds".into(),
        }
    }

    #[test]
    fn any_field_change_changes_the_digest() {
        let base = sample();
        let mut other = sample();
        other.reason.push('.');
        assert_ne!(base.request_digest(), other.request_digest());
        let mut other = sample();
        other.body_size = 3;
        assert_ne!(base.request_digest(), other.request_digest());
    }

    #[test]
    fn body_check_catches_size_and_content() {
        let s = sample();
        assert_eq!(s.check_body(b"{}"), Ok(()));
        assert_eq!(s.check_body(b"[]"), Err(BodyMismatch::Digest));
        assert!(matches!(
            s.check_body(b"{ }"),
            Err(BodyMismatch::Size { .. })
        ));
    }

    #[test]
    fn unknown_fields_are_refused() {
        let mut v = serde_json::to_value(sample()).unwrap();
        v["extra"] = serde_json::json!("hidden");
        assert!(serde_json::from_value::<Statement>(v).is_err());
    }

    #[test]
    fn fingerprint_groups_the_first_digits() {
        assert_eq!(fingerprint("0123456789abcdef0011"), "0123-4567-89ab-cdef");
    }
}
