//! [`ErrorCode`]: every error code the service answers, each with its one HTTP status. The
//! table in `docs/protocol.md` is checked against this list by a test.

use axum::http::StatusCode;
use std::fmt;

macro_rules! error_codes {
    ($($(#[doc = $doc:literal])* $variant:ident = ($code:literal, $status:ident),)*) => {
        /// A stable snake_case error code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[doc = $doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, in the order of the documentation's table.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as sent.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            /// The HTTP status it is answered with.
            pub fn status(self) -> StatusCode {
                match self {
                    $(ErrorCode::$variant => StatusCode::$status,)*
                }
            }

            /// What it means: the variant's doc comment (for the OpenAPI document).
            pub fn description(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => concat!($($doc),*).trim_ascii(),)*
                }
            }
        }
    };
}

error_codes! {
    /// The body is not JSON.
    MalformedJson = ("malformed_json", BAD_REQUEST),
    /// The body could not be read.
    UnreadableBody = ("unreadable_body", BAD_REQUEST),
    /// A bad query string.
    InvalidQuery = ("invalid_query", BAD_REQUEST),
    /// A bad `Last-Event-ID`.
    InvalidLastEventId = ("invalid_last_event_id", BAD_REQUEST),
    /// No or wrong credentials.
    Unauthorized = ("unauthorized", UNAUTHORIZED),
    /// A signed app request's headers are missing, repeated or malformed (or come with an
    /// `Authorization` header as well).
    InvalidSignatureHeaders = ("invalid_signature_headers", UNAUTHORIZED),
    /// A signed app request names no app that signs its requests.
    UnknownApp = ("unknown_app", UNAUTHORIZED),
    /// A signed app request's timestamp is more than 5 minutes from the service's clock.
    StaleTimestamp = ("stale_timestamp", UNAUTHORIZED),
    /// A signed app request's signature does not verify over the request as received.
    BadRequestSignature = ("bad_request_signature", UNAUTHORIZED),
    /// A signed app request's nonce was used before.
    NonceReused = ("nonce_reused", UNAUTHORIZED),
    /// A bearer key, but the service takes signed app requests only.
    BearerNotAllowed = ("bearer_not_allowed", UNAUTHORIZED),
    /// The grant is revoked.
    GrantRevoked = ("grant_revoked", FORBIDDEN),
    /// The app may not use this grant.
    GrantNotAllowed = ("grant_not_allowed", FORBIDDEN),
    /// A policy rule refuses the call.
    PolicyDenied = ("policy_denied", FORBIDDEN),
    /// A decision names another approver or key than the session.
    MisdirectedDecision = ("misdirected_decision", FORBIDDEN),
    /// No gate names this approver.
    NotAnApprover = ("not_an_approver", FORBIDDEN),
    /// The key is not an active device of this approver.
    UnknownKey = ("unknown_key", FORBIDDEN),
    /// The signature does not verify.
    BadSignature = ("bad_signature", FORBIDDEN),
    /// No such approval (or not the caller's).
    ApprovalNotFound = ("approval_not_found", NOT_FOUND),
    /// No such grant.
    UnknownGrant = ("unknown_grant", NOT_FOUND),
    /// No such pairing code.
    UnknownPairingCode = ("unknown_pairing_code", NOT_FOUND),
    /// No such endpoint.
    NoSuchEndpoint = ("no_such_endpoint", NOT_FOUND),
    /// The endpoint does not take that method.
    MethodNotAllowed = ("method_not_allowed", METHOD_NOT_ALLOWED),
    /// The approval is decided already.
    AlreadyDecided = ("already_decided", CONFLICT),
    /// This approver or key decided it already.
    DuplicateDecision = ("duplicate_decision", CONFLICT),
    /// The window has closed.
    Expired = ("expired", CONFLICT),
    /// The approval is no longer pending.
    NotPending = ("not_pending", CONFLICT),
    /// The pairing code was used.
    PairingCodeUsed = ("pairing_code_used", CONFLICT),
    /// The pairing code expired.
    PairingCodeExpired = ("pairing_code_expired", CONFLICT),
    /// The public key is registered already.
    KeyAlreadyPaired = ("key_already_paired", CONFLICT),
    /// The code's approver is no longer in the configuration.
    UnknownApprover = ("unknown_approver", CONFLICT),
    /// The HTTP body is over the limit.
    RequestTooLarge = ("request_too_large", PAYLOAD_TOO_LARGE),
    /// The call's body is over the limit.
    BodyTooLarge = ("body_too_large", PAYLOAD_TOO_LARGE),
    /// The body of a call that needs approval is over the review limit.
    BodyTooLargeForReview = ("body_too_large_for_review", PAYLOAD_TOO_LARGE),
    /// JSON of the wrong shape.
    InvalidRequest = ("invalid_request", UNPROCESSABLE_ENTITY),
    /// A method the service does not send.
    InvalidMethod = ("invalid_method", UNPROCESSABLE_ENTITY),
    /// A path without one canonical spelling.
    InvalidPath = ("invalid_path", UNPROCESSABLE_ENTITY),
    /// A malformed header.
    InvalidHeader = ("invalid_header", UNPROCESSABLE_ENTITY),
    /// A header or parameter the app may not set.
    ForbiddenHeader = ("forbidden_header", UNPROCESSABLE_ENTITY),
    /// Too many headers.
    TooManyHeaders = ("too_many_headers", UNPROCESSABLE_ENTITY),
    /// No reason given.
    MissingReason = ("missing_reason", UNPROCESSABLE_ENTITY),
    /// The reason is too long.
    ReasonTooLong = ("reason_too_long", UNPROCESSABLE_ENTITY),
    /// A call that needs approval has a body its approvers cannot read (`content-encoding`).
    UnsupportedEncoding = ("unsupported_encoding", UNPROCESSABLE_ENTITY),
    /// The decision's comment is too long.
    CommentTooLong = ("comment_too_long", UNPROCESSABLE_ENTITY),
    /// Not an Ed25519 public key.
    InvalidPublicKey = ("invalid_public_key", UNPROCESSABLE_ENTITY),
    /// A bad device name.
    InvalidDeviceName = ("invalid_device_name", UNPROCESSABLE_ENTITY),
    /// The pairing request's proof of possession does not verify for its public key.
    BadPairingSignature = ("bad_pairing_signature", UNPROCESSABLE_ENTITY),
    /// The pairing request names another service than this one.
    ServiceMismatch = ("service_mismatch", UNPROCESSABLE_ENTITY),
    /// A bad status filter.
    InvalidStatus = ("invalid_status", UNPROCESSABLE_ENTITY),
    /// The decision names another approval.
    ApprovalMismatch = ("approval_mismatch", UNPROCESSABLE_ENTITY),
    /// An unsupported protocol version.
    UnsupportedVersion = ("unsupported_version", UNPROCESSABLE_ENTITY),
    /// The decision was signed over another request.
    DigestMismatch = ("digest_mismatch", UNPROCESSABLE_ENTITY),
    /// The decision's time is too far from the service's clock.
    ClockSkew = ("clock_skew", UNPROCESSABLE_ENTITY),
    /// Too many requests.
    TooManyRequests = ("too_many_requests", TOO_MANY_REQUESTS),
    /// The app has too many approvals pending.
    TooManyPending = ("too_many_pending", TOO_MANY_REQUESTS),
    /// An internal error (details only in the log).
    Internal = ("internal", INTERNAL_SERVER_ERROR),
    /// The service is stopping.
    ShuttingDown = ("shutting_down", SERVICE_UNAVAILABLE),
    /// The database cannot be reached for now; retry later.
    StorageUnavailable = ("storage_unavailable", SERVICE_UNAVAILABLE),
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    /// `status → codes` of the Errors table in docs/protocol.md.
    fn documented() -> BTreeMap<u16, BTreeSet<String>> {
        let doc = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/protocol.md"),
        )
        .unwrap();
        let section = &doc[doc.find("## Errors").expect("an Errors section")..];
        let mut table = BTreeMap::new();
        for line in section
            .lines()
            .skip(1)
            .take_while(|l| !l.starts_with("## "))
        {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let Some(status) = cells.get(1).and_then(|c| c.parse::<u16>().ok()) else {
                continue;
            };
            // Codes are the backticked snake_case words (not `?wait=` and the like).
            let codes: BTreeSet<String> = cells[2]
                .split('`')
                .skip(1)
                .step_by(2)
                .filter(|c| c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
                .map(str::to_string)
                .collect();
            table.insert(status, codes);
        }
        table
    }

    #[test]
    fn the_documented_table_is_exactly_the_codes() {
        let mut ours: BTreeMap<u16, BTreeSet<String>> = BTreeMap::new();
        for code in ErrorCode::ALL {
            ours.entry(code.status().as_u16())
                .or_default()
                .insert(code.as_str().to_string());
        }
        assert_eq!(
            documented(),
            ours,
            "docs/protocol.md's Errors table and ErrorCode differ"
        );
    }

    #[test]
    fn codes_are_unique() {
        let set: BTreeSet<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(set.len(), ErrorCode::ALL.len());
    }
}
