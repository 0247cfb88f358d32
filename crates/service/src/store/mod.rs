//! The store: approvals, decisions, devices, pairing codes, revocations and the audit log;
//! [`History`] reads the requested calls read-only, for tools.
//!
//! Modules: `approvals` (approvals and decisions), `pairing` (codes, device keys, grant
//! revocation), `revocation` (revoking devices and withdrawing their decisions), `audit`.
//!
//! SQLite in WAL mode. Writes go through one connection and `BEGIN IMMEDIATE`, so every state
//! change is a compare-and-set in one transaction together with the audit entry that records
//! it: if the audit write fails, the change fails. Reads use a separate small pool.
//! Other processes (the admin CLI) may write the same file; SQLite's lock serialises them.

mod approvals;
mod audit;
mod comparable;
mod history;
mod pairing;
mod revocation;
#[cfg(test)]
mod tests;

pub use approvals::{
    approvals_needed, eligible_people, ApprovalRecord, Created, DecideOutcome, ListFilter,
    ListedApproval, NewApproval, Outcome, RuleHit,
};
pub use audit::AuditDraft;
pub use comparable::PastApproval;
pub use history::{History, RequestedRow};
pub use pairing::{Device, PairOutcome, PairingPreview};
pub use revocation::{ApproverRevocation, DeviceRow, RevokedDevice, WithdrawnDecision};

use countersign_core::encoding::random_bytes;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::path::Path;
use std::time::Duration;

/// A storage failure (never shown to clients).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database answered with an error.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value does not decode.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
}

/// Handle to the database (cheap to clone).
#[derive(Debug, Clone)]
pub struct Store {
    writer: SqlitePool,
    reader: SqlitePool,
}

impl Store {
    /// Opens (creating if needed) the SQLite file at `path` and applies migrations.
    pub async fn open_sqlite(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        // Connections are local files: skip sqlx's ping before every checkout.
        let writer = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(1)
            .min_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        Ok(Self { writer, reader })
    }

    /// Closes both pools (checkpoints the WAL when this is the last connection).
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// This service's id, made on first use and kept in the database.
    pub async fn service_id(&self) -> Result<String, StoreError> {
        let candidate = format!("svc_{}", hex::encode(random_bytes::<8>()));
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT OR IGNORE INTO meta (key, value) VALUES ('service_id', ?)")
            .bind(&candidate)
            .execute(&mut *tx)
            .await?;
        let id: String = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'service_id'")
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A value from the `meta` table.
    pub async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.reader)
            .await?)
    }

    /// Sets a `meta` value and appends `audit` in the same transaction.
    pub async fn set_meta_audited(
        &self,
        key: &str,
        value: &str,
        audit: AuditDraft,
        now: countersign_core::Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&mut *tx)
            .await?;
        audit::append(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(())
    }
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// A store on a fresh file in a temporary directory (kept alive by the returned guard).
    pub(crate) async fn temp_store() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("t.db")).await.unwrap();
        (store, dir)
    }
}
