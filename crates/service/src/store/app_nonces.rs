//! The nonces of signed app requests: each works once per app, on every replica.
//!
//! A nonce is recorded only after its request's signature has verified, so requests without a
//! valid signature never write here. The primary key `(app_id, nonce)` makes the first insert
//! win and every later one (on any replica of a PostgreSQL install) a no-op: one statement,
//! no lock beyond the row's. Rows are kept until `expires_at` (the request's timestamp plus
//! the allowed skew, after which the service refuses the request as stale anyway) and a
//! further [`PURGE_SLACK_SECS`] for replicas whose clocks differ; a process purges at most
//! every [`PURGE_EVERY_SECS`].

use super::{Store, StoreError};
use countersign_core::Timestamp;
use std::sync::atomic::Ordering;

/// How long past its expiry a nonce is still kept, for replica clocks that differ.
pub const PURGE_SLACK_SECS: i64 = 300;
/// How often one process purges stale nonces at most.
pub const PURGE_EVERY_SECS: i64 = 30;

impl Store {
    /// Records `nonce` as used by `app` until `expires_at`; false when it was used before.
    pub async fn use_app_nonce(
        &self,
        app: &str,
        nonce: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.purge_app_nonces(now).await?;
        let inserted = sqlx::query(
            "INSERT INTO app_nonces (app_id, nonce, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (app_id, nonce) DO NOTHING",
        )
        .bind(app)
        .bind(nonce)
        .bind(expires_at.unix())
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    /// Deletes nonces stale for more than [`PURGE_SLACK_SECS`], unless this process did so
    /// within the last [`PURGE_EVERY_SECS`].
    async fn purge_app_nonces(&self, now: Timestamp) -> Result<(), StoreError> {
        let last = self.nonces_purged_at.load(Ordering::Relaxed);
        if now.unix() - last < PURGE_EVERY_SECS
            || self
                .nonces_purged_at
                .compare_exchange(last, now.unix(), Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return Ok(());
        }
        sqlx::query("DELETE FROM app_nonces WHERE expires_at < $1")
            .bind(now.unix() - PURGE_SLACK_SECS)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// How many used nonces are stored (tests and diagnostics).
    pub async fn app_nonce_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM app_nonces")
            .fetch_one(&self.reader)
            .await?)
    }
}
