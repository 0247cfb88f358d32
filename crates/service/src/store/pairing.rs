//! Pairing codes, device keys and grant revocations.

use super::audit::{append, AuditDraft};
use super::{corrupt, Store, StoreError};
use countersign_core::audit::{AuditEntry, AuditKind};
use countersign_core::encoding::sha256_hex;
use countersign_core::keys::{decode_public_key, encode_public_key, key_id_for, VerifyingKey};
use countersign_core::Timestamp;
use serde_json::json;

/// A registered Wallet device key.
#[derive(Debug, Clone)]
pub struct Device {
    /// Its id.
    pub key_id: String,
    /// Whose it is.
    pub approver_id: String,
    /// The public key.
    pub public_key: VerifyingKey,
    /// True once revoked.
    pub revoked: bool,
}

/// Who an unused pairing code pairs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairingPreview {
    /// The approver.
    pub approver_id: String,
    /// When the code stops working.
    pub expires_at: Timestamp,
}

/// What became of a pairing attempt.
#[derive(Debug, Clone)]
pub enum PairOutcome {
    /// The device is registered.
    Paired {
        /// The approver.
        approver_id: String,
        /// The new key's id.
        key_id: String,
    },
    /// No such code.
    Unknown,
    /// The code was used already.
    Used,
    /// The code's 15 minutes are over.
    Expired,
    /// This public key is registered already.
    KeyTaken,
}

fn code_hash(code: &str) -> String {
    sha256_hex(code.as_bytes())
}

impl Store {
    /// Stores a one-time pairing code (only its hash) for `approver_id`.
    pub async fn create_pairing_code(
        &self,
        code: &str,
        approver_id: &str,
        now: Timestamp,
        expires_at: Timestamp,
        actor: &str,
    ) -> Result<AuditEntry, StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO pairing_codes (code_hash, approver_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(code_hash(code))
            .bind(approver_id)
            .bind(now.unix())
            .bind(expires_at.unix())
            .execute(&mut *tx)
            .await?;
        let draft = AuditDraft::general(
            AuditKind::PairingCodeCreated,
            actor,
            json!({"approver_id": approver_id, "expires_at": expires_at}),
        );
        let entry = append(&mut tx, draft, now).await?;
        self.commit(tx).await?;
        Ok(entry)
    }

    /// Who an unused, unexpired code pairs as.
    pub async fn preview_pairing_code(
        &self,
        code: &str,
        now: Timestamp,
    ) -> Result<Result<PairingPreview, PairOutcome>, StoreError> {
        let row: Option<(String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT approver_id, expires_at, used_at FROM pairing_codes WHERE code_hash = $1",
        )
        .bind(code_hash(code))
        .fetch_optional(&self.reader)
        .await?;
        Ok(match row {
            None => Err(PairOutcome::Unknown),
            Some((_, _, Some(_))) => Err(PairOutcome::Used),
            Some((_, expires_at, None)) if now.unix() >= expires_at => Err(PairOutcome::Expired),
            Some((approver_id, expires_at, None)) => Ok(PairingPreview {
                approver_id,
                expires_at: Timestamp::from_unix(expires_at)
                    .ok_or_else(|| corrupt("expires_at"))?,
            }),
        })
    }

    /// Uses a pairing code once to register `public_key` as a device of its approver.
    pub async fn redeem_pairing_code(
        &self,
        code: &str,
        public_key: &VerifyingKey,
        device_name: &str,
        now: Timestamp,
    ) -> Result<PairOutcome, StoreError> {
        let hash = code_hash(code);
        let mut tx = self.begin_write().await?;
        let row: Option<(String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT approver_id, expires_at, used_at FROM pairing_codes WHERE code_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(&mut *tx)
        .await?;
        let approver_id = match row {
            None => return Ok(PairOutcome::Unknown),
            Some((_, _, Some(_))) => return Ok(PairOutcome::Used),
            Some((_, expires_at, None)) if now.unix() >= expires_at => {
                return Ok(PairOutcome::Expired)
            }
            Some((approver_id, _, None)) => approver_id,
        };
        let key_text = encode_public_key(public_key);
        let taken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM devices WHERE public_key = $1")
            .bind(&key_text)
            .fetch_one(&mut *tx)
            .await?;
        if taken > 0 {
            return Ok(PairOutcome::KeyTaken);
        }
        let key_id = key_id_for(public_key);
        sqlx::query("UPDATE pairing_codes SET used_at = $1, key_id = $2 WHERE code_hash = $3 AND used_at IS NULL")
            .bind(now.unix())
            .bind(&key_id)
            .bind(&hash)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO devices (key_id, approver_id, public_key, device_name, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&key_id)
        .bind(&approver_id)
        .bind(&key_text)
        .bind(device_name)
        .bind(now.unix())
        .execute(&mut *tx)
        .await?;
        let draft = AuditDraft::general(
            AuditKind::DevicePaired,
            format!("approver:{approver_id}"),
            json!({"approver_id": approver_id, "key_id": key_id, "public_key": key_text, "device_name": device_name}),
        );
        append(&mut tx, draft, now).await?;
        self.commit(tx).await?;
        Ok(PairOutcome::Paired {
            approver_id,
            key_id,
        })
    }

    /// A device key by id.
    pub async fn device(&self, key_id: &str) -> Result<Option<Device>, StoreError> {
        let row: Option<(String, String, String, Option<i64>)> = sqlx::query_as(
            "SELECT key_id, approver_id, public_key, revoked_at FROM devices WHERE key_id = $1",
        )
        .bind(key_id)
        .fetch_optional(&self.reader)
        .await?;
        row.map(|(key_id, approver_id, public_key, revoked_at)| {
            Ok(Device {
                key_id,
                approver_id,
                public_key: decode_public_key(&public_key).map_err(corrupt)?,
                revoked: revoked_at.is_some(),
            })
        })
        .transpose()
    }

    /// Revokes a grant; executions after this fail, even approved ones.
    /// Returns false when it was revoked already.
    pub async fn revoke_grant(
        &self,
        grant_id: &str,
        now: Timestamp,
        actor: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO grant_revocations (grant_id, revoked_at) VALUES ($1, $2) ON CONFLICT (grant_id) DO NOTHING",
        )
        .bind(grant_id)
        .bind(now.unix())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(false);
        }
        append(
            &mut tx,
            AuditDraft::general(
                AuditKind::GrantRevoked,
                actor,
                json!({"grant_id": grant_id}),
            ),
            now,
        )
        .await?;
        self.commit(tx).await?;
        Ok(true)
    }

    /// True when the grant has been revoked.
    pub async fn is_grant_revoked(&self, grant_id: &str) -> Result<bool, StoreError> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM grant_revocations WHERE grant_id = $1")
                .bind(grant_id)
                .fetch_one(&self.reader)
                .await?;
        Ok(n > 0)
    }
}
