//! Administrative actions on the database, for the CLI: pairing codes, grant revocation,
//! audit verification. They work on the file a running service uses; changes take effect at
//! once because the service reads revocations and codes from the database.

use crate::config::Config;
use crate::server::open_store;
use crate::store::{Store, StoreError};
use countersign_core::audit::ChainBreak;
use countersign_core::encoding::random_token;
use countersign_core::{DeepLink, Timestamp};
use std::time::Duration;

/// How long a pairing code works.
pub const PAIRING_CODE_TTL: Duration = Duration::from_secs(15 * 60);

/// An administrative action that failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The configuration has no such approver.
    #[error("no approver {0:?} in the configuration")]
    UnknownApprover(String),
    /// The configuration has no such grant.
    #[error("no grant {0:?} in the configuration")]
    UnknownGrant(String),
}

/// A fresh pairing invitation.
#[derive(Debug, Clone)]
pub struct Invite {
    /// `countersign://pair?server=…&code=…`
    pub link: String,
    /// When the code stops working.
    pub expires_at: Timestamp,
}

/// Administrative access to a service's database.
pub struct Admin {
    config: Config,
    store: Store,
}

impl Admin {
    /// Opens the database the configuration names.
    pub async fn open(config: Config) -> Result<Self, AdminError> {
        let store = open_store(&config).await?;
        Ok(Self { config, store })
    }

    /// Creates a one-time pairing code for `approver_id` and returns its link.
    pub async fn invite(&self, approver_id: &str) -> Result<Invite, AdminError> {
        if self.config.approver(approver_id).is_none() {
            return Err(AdminError::UnknownApprover(approver_id.to_string()));
        }
        let code = random_token();
        let now = Timestamp::now();
        let expires_at = now.plus(PAIRING_CODE_TTL);
        self.store
            .create_pairing_code(&code, approver_id, now, expires_at, "admin")
            .await?;
        Ok(Invite {
            link: DeepLink::pair(&self.config.server.public_url, &code),
            expires_at,
        })
    }

    /// Revokes a grant; false when it was revoked already.
    pub async fn revoke_grant(&self, grant_id: &str) -> Result<bool, AdminError> {
        if self.config.grant(grant_id).is_none() {
            return Err(AdminError::UnknownGrant(grant_id.to_string()));
        }
        Ok(self
            .store
            .revoke_grant(grant_id, Timestamp::now(), "admin")
            .await?)
    }

    /// Verifies the audit chain: `Ok(n)` entries, or where it breaks.
    pub async fn verify_audit(&self) -> Result<Result<u64, ChainBreak>, AdminError> {
        Ok(self.store.verify_audit().await?)
    }

    /// Closes the database.
    pub async fn close(self) {
        self.store.close().await;
    }
}
