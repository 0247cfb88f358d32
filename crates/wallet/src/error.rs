//! [`WalletError`]: every failure the Wallet can show, serialized for the view as
//! `{code, message}` so the view switches on a stable `code` and never parses messages.

use crate::approver::ApproverError;
use crate::keystore::KeyStoreError;
use crate::registry::RegistryError;
use countersign_core::{LinkError, ServerUrl};
use serde::{Serialize, Serializer};
use ts_rs::TS;
use uuid::Uuid;

/// A failure of a Wallet operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WalletError {
    /// The text is not a valid `countersign://` link.
    #[error("this link cannot be used: {0}")]
    MalformedLink(#[from] LinkError),
    /// An approval link names a server this Wallet is not paired with. (It never offers to pair.)
    #[error(
        "this Wallet is not paired with {server}; approval links only open for paired servers"
    )]
    NotPaired {
        /// The server the link named.
        server: ServerUrl,
    },
    /// The view named a pairing this Wallet does not have (removed meanwhile).
    #[error("this pairing no longer exists; it may have been removed")]
    UnknownPairing {
        /// The local id the view sent.
        pairing: String,
    },
    /// The service does not know the approval, or it is not addressed to this approver.
    #[error("approval {approval_id} is unknown to {server}, or not addressed to you")]
    UnknownApproval {
        /// The server asked.
        server: ServerUrl,
        /// The approval.
        approval_id: Uuid,
    },
    /// A decision was asked for a request the Wallet has not fetched and shown.
    #[error("open the request before deciding on it")]
    NotReviewed,
    /// The view asked to sign something other than what the Wallet last fetched and verified.
    #[error("the request changed since it was shown; review it again")]
    StaleReview,
    /// An approval was asked before the view reported the body seen to the end (for this
    /// digest).
    #[error("read the whole body first: it was not seen to the end; nothing was signed")]
    BodyNotSeen,
    /// The view reported the body seen while the Wallet had not handed it every page.
    #[error("the body was reported seen, but only {served} of its {pages} pages were fetched; read it to the end")]
    PagesNotFetched {
        /// Pages the view fetched.
        served: u32,
        /// Pages in all.
        pages: u32,
    },
    /// The view asked for a page past the end of the body.
    #[error("page {index} does not exist: the body has {pages} pages")]
    NoSuchPage {
        /// The page asked for (from 0).
        index: u32,
        /// Pages in all.
        pages: u32,
    },
    /// The view asked for a page of a history search that a newer search replaced.
    #[error("this history search was replaced by a newer one; search again")]
    HistoryGone,
    /// The body cannot be shown whole, so it cannot be approved here (it can be denied).
    #[error("{0}; nothing was signed")]
    BodyNotShown(String),
    /// The approval is no longer pending.
    #[error("this request is already {status}; nothing was signed")]
    NotPending {
        /// Its state.
        status: String,
    },
    /// The service's digest or body differs from what the Wallet recomputed: never signed.
    #[error(
        "the service sent a request whose digest does not match its content; it was not signed"
    )]
    Integrity(String),
    /// Pairing over plain `http://` with a host that is not a loopback address.
    #[error("{0}")]
    InsecureServer(String),
    /// The service answered a pairing with another key id, service or approver than the key
    /// this Wallet registered and the preview the person confirmed; nothing was kept.
    #[error("{0}")]
    PairingMismatch(String),
    /// The service id of a pairing belongs to a pairing with another server already.
    #[error("{server} says it is service {service_id}, which this Wallet reaches through {paired_with}; pairing refused")]
    ServiceAlreadyPaired {
        /// The server asked to pair with.
        server: ServerUrl,
        /// The service id it claims.
        service_id: String,
        /// The server already paired with that service id.
        paired_with: ServerUrl,
    },
    /// The server is paired as another service already (one URL speaks for one service).
    #[error("{server} is paired as service {paired_as} and now says it is {service_id}; pairing refused (remove its pairings first)")]
    ServerIsAnotherService {
        /// The server asked to pair with.
        server: ServerUrl,
        /// The service id it claims now.
        service_id: String,
        /// The service id its pairings have.
        paired_as: String,
    },
    /// A setting could not be read, written or changed.
    #[error(transparent)]
    Settings(#[from] crate::settings::SettingsError),
    /// The service could not be reached.
    #[error("cannot reach {server}: {why}")]
    Unreachable {
        /// The server.
        server: String,
        /// What failed.
        why: String,
    },
    /// The service refused the operation.
    #[error("the service refused: {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The service's code.
        code: String,
        /// The service's message.
        message: String,
    },
    /// The OS keychain failed.
    #[error(transparent)]
    KeyStore(#[from] KeyStoreError),
    /// The pairing list could not be read or written.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// Anything else from the approver client.
    #[error("approver client: {0}")]
    Client(String),
}

impl WalletError {
    /// The stable machine code the view switches on.
    pub fn code(&self) -> &'static str {
        match self {
            WalletError::MalformedLink(_) => "malformed_link",
            WalletError::NotPaired { .. } => "not_paired",
            WalletError::UnknownPairing { .. } => "unknown_pairing",
            WalletError::ServerIsAnotherService { .. } => "server_is_another_service",
            WalletError::Settings(crate::settings::SettingsError::BadTime(_)) => "bad_time",
            WalletError::Settings(crate::settings::SettingsError::EmptyQuietHours) => {
                "empty_quiet_hours"
            }
            WalletError::Settings(_) => "settings",
            WalletError::UnknownApproval { .. } => "unknown_approval",
            WalletError::NotReviewed => "not_reviewed",
            WalletError::StaleReview => "stale_review",
            WalletError::BodyNotSeen => "body_not_seen",
            WalletError::BodyNotShown(_) => "body_not_shown",
            WalletError::PagesNotFetched { .. } => "pages_not_fetched",
            WalletError::NoSuchPage { .. } => "no_such_page",
            WalletError::HistoryGone => "history_gone",
            WalletError::NotPending { .. } => "not_pending",
            WalletError::Integrity(_) => "integrity",
            WalletError::InsecureServer(_) => "insecure_server",
            WalletError::PairingMismatch(_) => "pairing_mismatch",
            WalletError::ServiceAlreadyPaired { .. } => "service_already_paired",
            WalletError::Unreachable { .. } => "unreachable",
            WalletError::Refused { .. } => "refused",
            WalletError::KeyStore(e) => e.code(),
            WalletError::Registry(_) => "registry",
            WalletError::Client(_) => "client",
        }
    }

    /// Maps an approver-client error for an operation on `server` (and `approval_id`, if any).
    pub fn from_client(err: ApproverError, server: &ServerUrl, approval_id: Option<Uuid>) -> Self {
        match err {
            ApproverError::Transport(e) => WalletError::Unreachable {
                server: server.to_string(),
                why: e.to_string(),
            },
            ApproverError::Api {
                status: 404,
                code,
                message,
            } => match approval_id {
                Some(approval_id) => WalletError::UnknownApproval {
                    server: server.clone(),
                    approval_id,
                },
                None => WalletError::Refused {
                    status: 404,
                    code,
                    message,
                },
            },
            ApproverError::Api {
                status,
                code,
                message,
            } => WalletError::Refused {
                status,
                code,
                message,
            },
            e @ ApproverError::InsecureServer(_) => WalletError::InsecureServer(e.to_string()),
            e @ ApproverError::PairingMismatch { .. } => {
                WalletError::PairingMismatch(e.to_string())
            }
            e if e.is_refused_content() => WalletError::Integrity(e.to_string()),
            other => WalletError::Client(other.to_string()),
        }
    }
}

/// What the view receives for every failed command: a stable code to switch on and a message
/// for people. (The TypeScript type is named `WalletError`.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, TS)]
#[ts(rename = "WalletError")]
pub struct ErrorBody {
    /// Stable, snake_case (see [`WalletError::code`]).
    pub code: String,
    /// For people.
    pub message: String,
}

impl Serialize for WalletError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ErrorBody {
            code: self.code().to_owned(),
            message: self.to_string(),
        }
        .serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_code_and_message() {
        let e = WalletError::NotPaired {
            server: ServerUrl::parse("http://127.0.0.1:1").unwrap(),
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["code"], "not_paired");
        assert!(v["message"].as_str().unwrap().contains("127.0.0.1:1"));
        assert_eq!(v.as_object().unwrap().len(), 2);
    }

    #[test]
    fn a_404_on_an_approval_is_unknown_approval() {
        let server = ServerUrl::parse("http://127.0.0.1:1").unwrap();
        let id = Uuid::nil();
        let e = WalletError::from_client(
            ApproverError::Api {
                status: 404,
                code: "not_found".into(),
                message: "no".into(),
            },
            &server,
            Some(id),
        );
        assert_eq!(e.code(), "unknown_approval");
    }
}
