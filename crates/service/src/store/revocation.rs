//! Revoking Wallet devices: the key stops signing in at once, and its decisions on approvals
//! still `pending` are withdrawn, so they no longer count towards any gate.
//!
//! Each revocation is one write transaction: the compare-and-set on `devices.revoked_at`, the
//! withdrawals, and their audit entries (`device_revoked`, then one `decision_withdrawn` per
//! approval). A withdrawn decision row is kept (`withdrawn_at` set): it is evidence, and since
//! decisions are keyed by `(approval_id, approver_id)` the same approver cannot decide that
//! approval again, not even from a newly paired device.

use super::audit::{append, AuditDraft};
use super::{corrupt, Store, StoreError};
use countersign_core::audit::{AuditEntry, AuditKind};
use countersign_core::{ApprovalStatus, Timestamp};
use serde_json::json;
use sqlx::AnyConnection;
use uuid::Uuid;

/// A row of the device listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    /// The key's id.
    pub key_id: String,
    /// Whose device it is.
    pub approver_id: String,
    /// The name the device gave itself when pairing (untrusted text).
    pub device_name: String,
    /// When it was paired.
    pub created_at: Timestamp,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
}

/// A decision withdrawn by a revocation.
#[derive(Debug, Clone)]
pub struct WithdrawnDecision {
    /// The approval, still `pending`.
    pub approval_id: Uuid,
    /// Its `decision_withdrawn` audit entry.
    pub entry: AuditEntry,
}

/// A device this call revoked.
#[derive(Debug, Clone)]
pub struct RevokedDevice {
    /// The key's id.
    pub key_id: String,
    /// Whose device it was.
    pub approver_id: String,
    /// Its name (untrusted text).
    pub device_name: String,
    /// The `device_revoked` audit entry.
    pub entry: AuditEntry,
    /// Its decisions on pending approvals, now withdrawn.
    pub withdrawn: Vec<WithdrawnDecision>,
}

/// What revoking an approver's devices did.
#[derive(Debug, Clone, Default)]
pub struct ApproverRevocation {
    /// The devices revoked (empty when none was live).
    pub devices: Vec<RevokedDevice>,
    /// Unused pairing codes cancelled.
    pub codes_cancelled: u64,
}

/// Revokes one live device inside `tx`; `None` when it is unknown or revoked already.
async fn revoke_in(
    tx: &mut AnyConnection,
    key_id: &str,
    now: Timestamp,
    actor: &str,
    reason: &str,
) -> Result<Option<RevokedDevice>, StoreError> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT approver_id, device_name FROM devices WHERE key_id = $1 AND revoked_at IS NULL",
    )
    .bind(key_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((approver_id, device_name)) = row else {
        return Ok(None);
    };
    let changed =
        sqlx::query("UPDATE devices SET revoked_at = $1 WHERE key_id = $2 AND revoked_at IS NULL")
            .bind(now.unix())
            .bind(key_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    if changed != 1 {
        return Ok(None);
    }
    let entry = append(
        tx,
        AuditDraft::general(
            AuditKind::DeviceRevoked,
            actor,
            json!({"key_id": key_id, "approver_id": approver_id, "device_name": device_name, "reason": reason}),
        ),
        now,
    )
    .await?;
    // Pending approvals first (status index), then this key's decision on each (unique index).
    let decided: Vec<(String, String)> = sqlx::query_as(
        "SELECT d.approval_id, d.verdict FROM approvals a
         JOIN decisions d ON d.approval_id = a.id AND d.key_id = $1
         WHERE a.status = 'pending' AND d.withdrawn_at IS NULL
         ORDER BY d.approval_id",
    )
    .bind(key_id)
    .fetch_all(&mut *tx)
    .await?;
    let mut withdrawn = Vec::with_capacity(decided.len());
    for (approval_id, verdict) in decided {
        sqlx::query(
            "UPDATE decisions SET withdrawn_at = $1 WHERE approval_id = $2 AND key_id = $3 AND withdrawn_at IS NULL",
        )
        .bind(now.unix())
        .bind(&approval_id)
        .bind(key_id)
        .execute(&mut *tx)
        .await?;
        let id: Uuid = approval_id.parse().map_err(corrupt)?;
        let entry = append(
            tx,
            AuditDraft::approval(
                AuditKind::DecisionWithdrawn,
                id,
                actor,
                json!({
                    "key_id": key_id,
                    "approver_id": approver_id,
                    "decision": verdict,
                    "reason": reason,
                    "status": ApprovalStatus::Pending,
                }),
            ),
            now,
        )
        .await?;
        withdrawn.push(WithdrawnDecision {
            approval_id: id,
            entry,
        });
    }
    Ok(Some(RevokedDevice {
        key_id: key_id.to_string(),
        approver_id,
        device_name,
        entry,
        withdrawn,
    }))
}

fn device_row(
    (key_id, approver_id, device_name, created_at, revoked_at): (
        String,
        String,
        String,
        i64,
        Option<i64>,
    ),
) -> Result<DeviceRow, StoreError> {
    Ok(DeviceRow {
        key_id,
        approver_id,
        device_name,
        created_at: Timestamp::from_unix(created_at).ok_or_else(|| corrupt("created_at"))?,
        revoked_at: revoked_at
            .map(|t| Timestamp::from_unix(t).ok_or_else(|| corrupt("revoked_at")))
            .transpose()?,
    })
}

impl Store {
    /// Revokes the device `key_id` and withdraws its decisions on pending approvals, with
    /// their audit entries, in one transaction. `None` when the key is unknown or was revoked
    /// already (nothing written).
    pub async fn revoke_device(
        &self,
        key_id: &str,
        now: Timestamp,
        actor: &str,
        reason: &str,
    ) -> Result<Option<RevokedDevice>, StoreError> {
        let mut tx = self.begin_write().await?;
        let revoked = revoke_in(&mut tx, key_id, now, actor, reason).await?;
        if revoked.is_some() {
            self.commit(tx).await?;
        }
        Ok(revoked)
    }

    /// Revokes every live device of `approver_id` as [`Store::revoke_device`] does, and
    /// cancels the approver's unused pairing codes (so an invitation sent earlier cannot
    /// pair a new device), all in one transaction.
    pub async fn revoke_approver_devices(
        &self,
        approver_id: &str,
        now: Timestamp,
        actor: &str,
        reason: &str,
    ) -> Result<ApproverRevocation, StoreError> {
        let mut tx = self.begin_write().await?;
        let keys: Vec<String> = sqlx::query_scalar(
            "SELECT key_id FROM devices WHERE approver_id = $1 AND revoked_at IS NULL ORDER BY created_at, key_id",
        )
        .bind(approver_id)
        .fetch_all(&mut *tx)
        .await?;
        let mut revoked = Vec::with_capacity(keys.len());
        for key_id in keys {
            if let Some(device) = revoke_in(&mut tx, &key_id, now, actor, reason).await? {
                revoked.push(device);
            }
        }
        let cancelled = sqlx::query(
            "UPDATE pairing_codes SET expires_at = $1 WHERE approver_id = $2 AND used_at IS NULL AND expires_at > $3",
        )
        .bind(now.unix())
        .bind(approver_id)
        .bind(now.unix())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if cancelled > 0 {
            append(
                &mut tx,
                AuditDraft::general(
                    AuditKind::PairingCodesCancelled,
                    actor,
                    json!({"approver_id": approver_id, "count": cancelled, "reason": reason}),
                ),
                now,
            )
            .await?;
        }
        if !revoked.is_empty() || cancelled > 0 {
            self.commit(tx).await?;
        }
        Ok(ApproverRevocation {
            devices: revoked,
            codes_cancelled: cancelled,
        })
    }

    /// Every device ever paired, oldest first.
    pub async fn devices(&self) -> Result<Vec<DeviceRow>, StoreError> {
        let rows: Vec<(String, String, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT key_id, approver_id, device_name, created_at, revoked_at FROM devices ORDER BY created_at, key_id",
        )
        .fetch_all(&self.reader)
        .await?;
        rows.into_iter().map(device_row).collect()
    }

    /// One device's row.
    pub async fn device_row(&self, key_id: &str) -> Result<Option<DeviceRow>, StoreError> {
        let row: Option<(String, String, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT key_id, approver_id, device_name, created_at, revoked_at FROM devices WHERE key_id = $1",
        )
        .bind(key_id)
        .fetch_optional(&self.reader)
        .await?;
        row.map(device_row).transpose()
    }

    /// True when `key_id` is a registered device that has not been revoked (one lookup by
    /// primary key; wallet requests ask this every time).
    pub async fn device_is_live(&self, key_id: &str) -> Result<bool, StoreError> {
        let revoked_at: Option<Option<i64>> =
            sqlx::query_scalar("SELECT revoked_at FROM devices WHERE key_id = $1")
                .bind(key_id)
                .fetch_optional(&self.reader)
                .await?;
        Ok(matches!(revoked_at, Some(None)))
    }
}
