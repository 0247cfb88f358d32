//! Deep links: what the Wallet does with a `countersign://` URL.
//!
//! Parsing is the core crate's [`DeepLink`]; this module decides the action. Rules:
//! - a pairing link only ever leads to a confirmation screen; nothing is paired until the
//!   person confirms it there; a pairing link to plain `http://` on a host that is not a
//!   loopback address is refused at once ([`WalletError::InsecureServer`]);
//! - an approval link opens the request only when its server is paired; otherwise it is
//!   refused with [`WalletError::NotPaired`], and the Wallet never offers to pair from it;
//!   when several pairings (approvers) of that server exist, [`route`] names the first and
//!   the Wallet then picks the one that can still decide (`Wallet::open_link`);
//! - anything else is [`WalletError::MalformedLink`] with the parser's reason.
//!
//! Whether the approval id exists is only known after asking the service
//! ([`WalletError::UnknownApproval`]).

use crate::error::WalletError;
use crate::registry::Registered;
use countersign_core::{DeepLink, ServerUrl};
use serde::Serialize;
use ts_rs::TS;
use uuid::Uuid;

/// What a valid link asks the Wallet to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[derive(TS)]
pub enum LinkAction {
    /// Show the pairing confirmation screen for `server` (nothing is paired yet).
    ConfirmPairing {
        /// The service to pair with.
        server: ServerUrl,
        /// The one-time code (sent back by the view only if the person confirms).
        code: String,
    },
    /// Open the review of one approval of a paired service.
    OpenApproval {
        /// The pairing to open it as (its local id).
        pairing: String,
        /// The paired service.
        server: ServerUrl,
        /// The approval.
        approval_id: Uuid,
    },
}

/// Decides what `text` asks for, given the current pairings. An approval link is opened as
/// the first pairing of its server.
pub fn route(text: &str, pairings: &[Registered]) -> Result<LinkAction, WalletError> {
    match DeepLink::parse(text)? {
        DeepLink::Pair { server, code } => {
            server
                .require_secure_transport()
                .map_err(|e| WalletError::InsecureServer(e.to_string()))?;
            Ok(LinkAction::ConfirmPairing { server, code })
        }
        DeepLink::Approval {
            approval_id,
            server,
        } => match pairings.iter().find(|p| p.pairing.server == server) {
            Some(first) => Ok(LinkAction::OpenApproval {
                pairing: first.id.to_string(),
                server,
                approval_id,
            }),
            None => Err(WalletError::NotPaired { server }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::tests::pairing;
    use crate::registry::PairingId;

    const ID: &str = "019a0000-0000-7000-8000-000000000001";

    fn paired() -> Vec<Registered> {
        ["alice", "oncall"]
            .into_iter()
            .enumerate()
            .map(|(i, who)| Registered {
                id: PairingId::named(format!("p{i}")),
                pairing: pairing("http://127.0.0.1:8470", who),
                key_account: crate::keystore::KeyAccount::random(),
                fingerprint: None,
            })
            .collect()
    }

    #[test]
    fn approval_link_to_a_paired_server_opens_it() {
        // A different spelling of the same server still matches after normalisation.
        let link = format!("countersign://approval/{ID}?server=http%3A%2F%2F127.0.0.1%3A8470%2F");
        assert_eq!(
            route(&link, &paired()).unwrap(),
            LinkAction::OpenApproval {
                pairing: "p0".into(),
                server: ServerUrl::parse("http://127.0.0.1:8470").unwrap(),
                approval_id: ID.parse().unwrap(),
            }
        );
    }

    #[test]
    fn approval_link_to_another_server_is_refused_without_pairing() {
        let link = format!("countersign://approval/{ID}?server=http://127.0.0.1:9999");
        let err = route(&link, &paired()).unwrap_err();
        assert_eq!(err.code(), "not_paired");
        assert!(err.to_string().contains("127.0.0.1:9999"));
        // Same with no pairing at all.
        assert_eq!(route(&link, &[]).unwrap_err().code(), "not_paired");
    }

    #[test]
    fn pairing_link_only_asks_for_confirmation() {
        let link = "countersign://pair?server=http%3A%2F%2F127.0.0.1%3A8470&code=abcdefghijklmnop";
        assert!(matches!(
            route(link, &[]).unwrap(),
            LinkAction::ConfirmPairing { code, .. } if code == "abcdefghijklmnop"
        ));
    }

    #[test]
    fn a_pairing_link_over_plain_http_to_another_host_is_refused() {
        for server in [
            "http%3A%2F%2F192.168.1.20%3A8470",
            "http%3A%2F%2Fcs.example.com",
        ] {
            let link = format!("countersign://pair?server={server}&code=abcdefghijklmnop");
            assert_eq!(route(&link, &[]).unwrap_err().code(), "insecure_server");
        }
        for server in [
            "https%3A%2F%2Fcs.example.com",
            "http%3A%2F%2F%5B%3A%3A1%5D%3A8470",
        ] {
            let link = format!("countersign://pair?server={server}&code=abcdefghijklmnop");
            assert!(route(&link, &[]).is_ok(), "{server}");
        }
    }

    #[test]
    fn malformed_links_say_why() {
        for text in [
            "",
            "https://evil.example/approval/1",
            "countersign://approval/not-a-uuid?server=http://127.0.0.1:8470",
            "countersign://approval/{ID}",
            "countersign://pair?server=http://127.0.0.1:8470&code=short",
            "countersign://delete/everything",
            "countersign://approval/019a0000-0000-7000-8000-000000000001?server=javascript:alert(1)",
        ] {
            let err = route(text, &paired()).unwrap_err();
            assert_eq!(err.code(), "malformed_link", "{text}");
        }
    }
}
