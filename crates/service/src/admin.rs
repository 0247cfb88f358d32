//! Administrative actions on the database, for the CLI: pairing codes, grant and device
//! revocation, removing an approver's devices, audit verification. They work on the file a
//! running service uses; changes take effect at once because the service reads revocations
//! and codes from the database (device keys on every wallet request).

use crate::config::Config;
use crate::server::open_store;
use crate::store::{ApproverRevocation, DeviceRow, RevokedDevice, Store, StoreError};
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

/// The actor of revocations made through [`Admin`].
pub const ADMIN_ACTOR: &str = "admin";
/// The reason recorded when none is given for `device revoke`.
pub const DEVICE_REVOKED_REASON: &str = "revoked by an administrator";
/// The reason recorded when none is given for `approver remove`.
pub const APPROVER_REMOVED_REASON: &str = "approver removed by an administrator";

/// What `revoke_device` found.
#[derive(Debug, Clone)]
pub enum DeviceRevocation {
    /// Revoked now.
    Revoked(RevokedDevice),
    /// Revoked before (nothing written).
    AlreadyRevoked(DeviceRow),
    /// No device has that key id.
    Unknown,
}

/// What `remove_approver` did.
#[derive(Debug, Clone)]
pub struct ApproverRemoval {
    /// The devices revoked and pairing codes cancelled.
    pub revocation: ApproverRevocation,
    /// True when the configuration still names the approver: an administrator can invite
    /// them again until the `[[approver]]` entry is deleted.
    pub still_configured: bool,
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

    /// Every device ever paired, oldest first.
    pub async fn devices(&self) -> Result<Vec<DeviceRow>, AdminError> {
        Ok(self.store.devices().await?)
    }

    /// Revokes one device key (withdrawing its decisions on pending approvals).
    pub async fn revoke_device(
        &self,
        key_id: &str,
        reason: Option<&str>,
    ) -> Result<DeviceRevocation, AdminError> {
        let reason = reason.unwrap_or(DEVICE_REVOKED_REASON);
        let revoked = self
            .store
            .revoke_device(key_id, Timestamp::now(), ADMIN_ACTOR, reason)
            .await?;
        if let Some(device) = revoked {
            return Ok(DeviceRevocation::Revoked(device));
        }
        Ok(match self.store.device_row(key_id).await? {
            Some(row) => DeviceRevocation::AlreadyRevoked(row),
            None => DeviceRevocation::Unknown,
        })
    }

    /// Revokes every device of `approver_id` and cancels its unused pairing codes. The
    /// approver need not be in the configuration (a removed approver's devices are revoked at
    /// the next start anyway; this does it at once).
    pub async fn remove_approver(
        &self,
        approver_id: &str,
        reason: Option<&str>,
    ) -> Result<ApproverRemoval, AdminError> {
        let reason = reason.unwrap_or(APPROVER_REMOVED_REASON);
        let revocation = self
            .store
            .revoke_approver_devices(approver_id, Timestamp::now(), ADMIN_ACTOR, reason)
            .await?;
        Ok(ApproverRemoval {
            revocation,
            still_configured: self.config.approver(approver_id).is_some(),
        })
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
