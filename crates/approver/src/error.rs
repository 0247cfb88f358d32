//! [`ApproverError`]: everything that can go wrong talking to the service or checking what it
//! sent, kept apart so a caller (CLI or Wallet UI) can say precisely what happened.

use countersign_core::api::ErrorBody;
use countersign_core::statement::BodyMismatch;
use reqwest::StatusCode;
use uuid::Uuid;

/// The `code` of an [`ApproverError::Api`] whose body was not the protocol's error shape.
pub const UNDECODABLE_ERROR_CODE: &str = "undecodable_error";

/// At most this many characters of an undecodable error body are kept.
const RAW_ERROR_LIMIT: usize = 1000;

/// An error of the approver client.
///
/// The variants from [`DigestMismatch`](Self::DigestMismatch) to
/// [`UnsupportedVersion`](Self::UnsupportedVersion) mean the service sent something that must
/// not be signed: the client refused it before any decision was built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApproverError {
    /// The service could not be reached, or the connection broke.
    #[error("cannot talk to the service: {0}")]
    Transport(#[from] reqwest::Error),

    /// The service answered with an error status.
    ///
    /// `code` and `message` come from its `{"error": {"code", "message"}}` body; when the body
    /// had another shape, `code` is [`UNDECODABLE_ERROR_CODE`] and `message` holds the start of
    /// the raw text.
    #[error("the service refused (HTTP {status}, {code}): {message}")]
    Api {
        /// HTTP status code, e.g. 409.
        status: u16,
        /// The service's stable snake_case code.
        code: String,
        /// The service's message for people (or the raw body).
        message: String,
    },

    /// The service's `request_digest` is not the digest of the statement it sent.
    #[error("the service's request digest {service} differs from the digest of the statement shown ({local})")]
    DigestMismatch {
        /// What the service claimed.
        service: String,
        /// What this client computed from the statement.
        local: String,
    },

    /// The request body the service sent is not the one the statement describes.
    #[error("the request body does not match the statement: {0}")]
    BodyMismatch(#[from] BodyMismatch),

    /// The service answered with the statement of another approval than the one asked for.
    #[error("asked for approval {requested} but the service sent the statement of {got}")]
    WrongApproval {
        /// The approval asked for.
        requested: Uuid,
        /// The approval in the statement.
        got: Uuid,
    },

    /// The statement names another service than the one this device is paired with.
    #[error("the statement is for service {got:?}, but this device is paired with {expected:?}")]
    WrongService {
        /// The paired service's id.
        expected: String,
        /// The statement's `service`.
        got: String,
    },

    /// The statement has a protocol version this client does not know.
    #[error(
        "the statement has protocol version {got}; this client speaks version {}",
        countersign_core::PROTOCOL_VERSION
    )]
    UnsupportedVersion {
        /// The statement's `v`.
        got: u32,
    },

    /// The server URL is plain `http://` to a host that is not a loopback address.
    #[error("{0}")]
    InsecureServer(#[from] countersign_core::LinkError),

    /// The service's answer to `POST /v1/pair` names another key, service or approver than
    /// the key this device registered and the preview the person confirmed. Nothing may be
    /// stored for such a pairing.
    #[error("the service answered the pairing with {field} {got:?}, expected {expected:?}; the pairing was not kept")]
    PairingMismatch {
        /// Which field differs: `key_id`, `service_id` or `approver_id`.
        field: &'static str,
        /// What this device expected.
        expected: String,
        /// What the service answered.
        got: String,
    },

    /// A deep link that this client cannot act on (wrong kind, or a server it is not paired with).
    #[error("cannot use this link: {0}")]
    WrongLink(String),

    /// The service's answer could not be decoded.
    #[error("unexpected answer from the service: {0}")]
    Decode(String),
}

impl ApproverError {
    /// The HTTP status code of an [`Api`](Self::Api) error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The service's error code of an [`Api`](Self::Api) error.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// True when the service sent something this client refused to sign.
    pub fn is_refused_content(&self) -> bool {
        matches!(
            self,
            Self::DigestMismatch { .. }
                | Self::BodyMismatch(_)
                | Self::WrongApproval { .. }
                | Self::WrongService { .. }
                | Self::UnsupportedVersion { .. }
        )
    }

    /// Builds an [`Api`](Self::Api) error from an error answer's status and body.
    pub(crate) fn from_error_body(status: StatusCode, body: &[u8]) -> Self {
        match serde_json::from_slice::<ErrorBody>(body) {
            Ok(ErrorBody { error }) => Self::Api {
                status: status.as_u16(),
                code: error.code,
                message: error.message,
            },
            Err(_) => {
                let text = String::from_utf8_lossy(body);
                let text = text.trim();
                let message = if text.is_empty() {
                    status
                        .canonical_reason()
                        .unwrap_or("no message")
                        .to_string()
                } else {
                    text.chars().take(RAW_ERROR_LIMIT).collect()
                };
                Self::Api {
                    status: status.as_u16(),
                    code: UNDECODABLE_ERROR_CODE.to_string(),
                    message,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_error_bodies_are_decoded() {
        let e = ApproverError::from_error_body(
            StatusCode::CONFLICT,
            br#"{"error":{"code":"already_decided","message":"this approval was decided"}}"#,
        );
        assert_eq!(e.status(), Some(409));
        assert_eq!(e.code(), Some("already_decided"));
        assert!(e.to_string().contains("this approval was decided"));
    }

    #[test]
    fn other_bodies_are_kept_raw() {
        let e = ApproverError::from_error_body(StatusCode::BAD_GATEWAY, b"<html>proxy down</html>");
        assert!(matches!(
            &e,
            ApproverError::Api { code, message, .. }
                if code == UNDECODABLE_ERROR_CODE && message == "<html>proxy down</html>"
        ));
        let e = ApproverError::from_error_body(StatusCode::NOT_FOUND, b"");
        assert!(matches!(&e, ApproverError::Api { message, .. } if message == "Not Found"));
        let long = vec![b'x'; 5000];
        let e = ApproverError::from_error_body(StatusCode::INTERNAL_SERVER_ERROR, &long);
        assert!(
            matches!(&e, ApproverError::Api { message, .. } if message.len() == RAW_ERROR_LIMIT)
        );
    }
}
