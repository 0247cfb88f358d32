//! [`Review`]: an approval's detail after this client checked it, the only thing a decision is
//! ever built from.
//!
//! The protocol's rule is that an approver never signs a digest it did not compute itself from
//! the statement it displays. [`Review::verify`] enforces it: the statement must be the one
//! asked for, name the paired service and protocol version 1, hash (JCS, SHA-256) to the
//! service's `request_digest`, and describe exactly the body that came with it. The digest a
//! decision carries is the locally computed one.

use crate::error::ApproverError;
use countersign_core::api::WalletApprovalDetail;
use countersign_core::statement::fingerprint;
use countersign_core::{Decision, Statement, Timestamp, Verdict, PROTOCOL_VERSION};
use uuid::Uuid;

/// A verified approval detail (see the module docs for what was checked).
///
/// Fields are private: a `Review` exists only after [`Review::verify`] succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    detail: WalletApprovalDetail,
    digest: String,
}

impl Review {
    /// Checks `detail`, fetched for `approval_id` from the service paired as `service_id`.
    ///
    /// Checks, in order: the statement's `approval_id`, its `service`, its `v`, the digest,
    /// the body. The first failure is returned.
    pub fn verify(
        detail: WalletApprovalDetail,
        approval_id: Uuid,
        service_id: &str,
    ) -> Result<Self, ApproverError> {
        let statement = &detail.statement;
        if statement.approval_id != approval_id {
            return Err(ApproverError::WrongApproval {
                requested: approval_id,
                got: statement.approval_id,
            });
        }
        if statement.service != service_id {
            return Err(ApproverError::WrongService {
                expected: service_id.to_string(),
                got: statement.service.clone(),
            });
        }
        if statement.v != PROTOCOL_VERSION {
            return Err(ApproverError::UnsupportedVersion { got: statement.v });
        }
        let local = statement.request_digest();
        if local != detail.request_digest {
            return Err(ApproverError::DigestMismatch {
                service: detail.request_digest.clone(),
                local,
            });
        }
        statement.check_body(&detail.body)?;
        Ok(Self {
            detail,
            digest: local,
        })
    }

    /// The approval.
    pub fn approval_id(&self) -> Uuid {
        self.detail.statement.approval_id
    }

    /// The verified statement: what to show the approver.
    pub fn statement(&self) -> &Statement {
        &self.detail.statement
    }

    /// The request body, checked against the statement's size and SHA-256.
    pub fn body(&self) -> &[u8] {
        &self.detail.body
    }

    /// Everything the service sent (status, decisions so far, quorum, outcome).
    pub fn detail(&self) -> &WalletApprovalDetail {
        &self.detail
    }

    /// The `request_digest` computed here from the statement (equal to the service's).
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// A short form of the digest for people to compare, e.g. `3f2a-91c0-77de-0b14`.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.digest)
    }

    /// The unsigned decision on this statement, binding the locally computed digest.
    pub fn decision(
        &self,
        verdict: Verdict,
        comment: Option<String>,
        approver_id: &str,
        key_id: &str,
        decided_at: Timestamp,
    ) -> Decision {
        Decision {
            v: PROTOCOL_VERSION,
            approval_id: self.approval_id(),
            request_digest: self.digest.clone(),
            decision: verdict,
            comment,
            decided_at,
            approver_id: approver_id.to_string(),
            key_id: key_id.to_string(),
        }
    }

    /// Gives back the detail.
    pub fn into_detail(self) -> WalletApprovalDetail {
        self.detail
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use countersign_core::encoding::sha256_hex;
    use countersign_core::statement::BodyMismatch;
    use countersign_core::ApprovalStatus;

    pub(crate) const SERVICE: &str = "svc_test";
    pub(crate) const BODY: &[u8] = br#"{"order":42,"amount":1999}"#;

    pub(crate) fn approval_id() -> Uuid {
        "019a0000-0000-7000-8000-0000000000aa".parse().unwrap()
    }

    pub(crate) fn statement() -> Statement {
        Statement {
            v: 1,
            service: SERVICE.into(),
            approval_id: approval_id(),
            app: "support-agent".into(),
            grant: "payments".into(),
            method: "POST".into(),
            url: "https://api.example.com/v1/refunds?order=42".into(),
            headers: [("content-type".to_string(), "application/json".to_string())].into(),
            body_sha256: sha256_hex(BODY),
            body_size: BODY.len() as u64,
            reason: "Refund order 42 \u{202e}".into(),
            created_at: "2026-11-24T12:00:00Z".parse().unwrap(),
            expires_at: "2026-11-24T13:00:00Z".parse().unwrap(),
            policy_id: "refunds".into(),
        }
    }

    /// An honest detail for `statement`.
    pub(crate) fn detail_for(statement: Statement, body: &[u8]) -> WalletApprovalDetail {
        WalletApprovalDetail {
            request_digest: statement.request_digest(),
            statement,
            body: body.to_vec(),
            status: ApprovalStatus::Pending,
            decisions: vec![],
            quorum: 1,
            policy: Default::default(),
            response: None,
            failure: None,
        }
    }

    pub(crate) fn detail() -> WalletApprovalDetail {
        detail_for(statement(), BODY)
    }

    #[test]
    fn an_honest_detail_is_accepted_with_the_local_digest() {
        let review = Review::verify(detail(), approval_id(), SERVICE).unwrap();
        assert_eq!(review.digest(), statement().request_digest());
        assert_eq!(review.body(), BODY);
        assert_eq!(review.fingerprint().len(), 19);
    }

    #[test]
    fn another_approval_is_refused() {
        let other: Uuid = "019a0000-0000-7000-8000-0000000000bb".parse().unwrap();
        let err = Review::verify(detail(), other, SERVICE).unwrap_err();
        assert!(
            matches!(err, ApproverError::WrongApproval { requested, got } if requested == other && got == approval_id())
        );
    }

    #[test]
    fn another_service_is_refused() {
        // Honest digest, but the statement was made for another service.
        let mut s = statement();
        s.service = "svc_other".into();
        let err = Review::verify(detail_for(s, BODY), approval_id(), SERVICE).unwrap_err();
        assert!(
            matches!(&err, ApproverError::WrongService { expected, got } if expected == SERVICE && got == "svc_other")
        );
        assert!(err.is_refused_content());
    }

    #[test]
    fn another_version_is_refused() {
        let mut s = statement();
        s.v = 2;
        let err = Review::verify(detail_for(s, BODY), approval_id(), SERVICE).unwrap_err();
        assert!(matches!(err, ApproverError::UnsupportedVersion { got: 2 }));
    }

    #[test]
    fn a_statement_tampered_after_digesting_is_refused() {
        // The service digests one statement and shows another: each field change is caught.
        let tamper: Vec<fn(&mut Statement)> = vec![
            |s| s.reason = "Refund order 42".into(),
            |s| s.url = "https://api.example.com/v1/refunds?order=43".into(),
            |s| s.method = "DELETE".into(),
            |s| {
                s.headers.insert("x-extra".into(), "1".into());
            },
            |s| s.expires_at = "2026-11-25T13:00:00Z".parse().unwrap(),
            |s| s.grant = "payments-admin".into(),
            |s| s.policy_id = "none".into(),
        ];
        for (i, change) in tamper.into_iter().enumerate() {
            let mut d = detail();
            change(&mut d.statement);
            let err = Review::verify(d, approval_id(), SERVICE).unwrap_err();
            assert!(
                matches!(&err, ApproverError::DigestMismatch { service, local }
                    if *service == statement().request_digest() && *local != *service),
                "change {i}: {err}"
            );
        }
    }

    #[test]
    fn a_wrong_service_digest_is_refused() {
        let mut d = detail();
        d.request_digest = "00".repeat(32);
        assert!(matches!(
            Review::verify(d.clone(), approval_id(), SERVICE),
            Err(ApproverError::DigestMismatch { .. })
        ));
        // Upper-case hex of the right digest is not the protocol's form either.
        d.request_digest = statement().request_digest().to_uppercase();
        assert!(matches!(
            Review::verify(d, approval_id(), SERVICE),
            Err(ApproverError::DigestMismatch { .. })
        ));
    }

    #[test]
    fn a_body_other_than_the_statement_describes_is_refused() {
        let mut d = detail();
        d.body = br#"{"order":42,"amount":9999}"#.to_vec(); // same size, other bytes
        assert!(matches!(
            Review::verify(d, approval_id(), SERVICE),
            Err(ApproverError::BodyMismatch(BodyMismatch::Digest))
        ));
        let mut d = detail();
        d.body.push(b' ');
        assert!(matches!(
            Review::verify(d, approval_id(), SERVICE),
            Err(ApproverError::BodyMismatch(BodyMismatch::Size { .. }))
        ));
    }

    #[test]
    fn an_empty_body_is_fine_when_the_statement_says_so() {
        let mut s = statement();
        s.method = "GET".into();
        s.body_sha256 = sha256_hex(b"");
        s.body_size = 0;
        assert!(Review::verify(detail_for(s, b""), approval_id(), SERVICE).is_ok());
    }

    #[test]
    fn a_detail_decoded_from_json_verifies() {
        let json = serde_json::to_string(&detail()).unwrap();
        let d: WalletApprovalDetail = serde_json::from_str(&json).unwrap();
        assert!(Review::verify(d, approval_id(), SERVICE).is_ok());
    }
}
