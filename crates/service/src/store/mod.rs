//! The store: approvals, decisions, devices, pairing codes, revocations and the audit log;
//! [`History`] reads the requested calls read-only, for tools.
//!
//! Modules: `app_nonces` (nonces of signed app requests), `approvals` (approvals and decisions), `pairing` (codes, device keys, grant
//! revocation), `revocation` (revoking devices and withdrawing their decisions), `sessions`
//! (Wallet challenges and session tokens), `audit`, `unavailable` (which database errors mean
//! the database cannot be reached: [`StoreError::Unavailable`]).
//!
//! SQLite in WAL mode. Writes go through one connection and `BEGIN IMMEDIATE`, so every state
//! change is a compare-and-set in one transaction together with the audit entry that records
//! it: if the audit write fails, the change fails. Reads use a separate small pool.
//! Other processes (the admin CLI) may write the same file; SQLite's lock serialises them.

mod app_nonces;
mod approvals;
mod audit;
mod comparable;
mod export;
mod history;
mod pairing;
#[cfg(test)]
mod partition_tests;
mod postgres_session;
mod revocation;
pub mod scratch;
mod sessions;
#[cfg(test)]
mod tests;
mod unavailable;

pub use approvals::{
    approvals_needed, eligible_people, ApprovalHead, ApprovalRecord, Created, DecideOutcome, Lease,
    ListFilter, ListedApproval, NewApproval, Outcome, RuleHit,
};
pub use audit::AuditDraft;
pub use comparable::PastApproval;
pub use export::{ExportError, ExportReport};
pub use history::{History, RequestedRow};
pub use pairing::{Device, PairOutcome, PairingPreview};
pub use postgres_session::PostgresSession;
pub use revocation::{ApproverRevocation, DeviceRow, RevokedDevice, WithdrawnDecision};
pub use sessions::TokenLookup;

use crate::config::DatabaseUrl;
use countersign_core::encoding::random_bytes;
use futures::future::BoxFuture;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::pool::PoolConnectionMetadata;
use sqlx::{Any, AnyConnection, AnyPool, Executor, Transaction};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// The SQLite schema's migrations.
static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
/// The PostgreSQL schema's migrations (the same tables and rules in PostgreSQL's dialect).
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// The advisory lock every PostgreSQL write transaction takes first: writes are serialised
/// across replicas as SQLite's `BEGIN IMMEDIATE` serialises them across processes, so every
/// compare-and-set, count-then-insert and audit append sees the latest committed state.
const POSTGRES_WRITE_LOCK: i64 = 0x436f_756e_7465_7273; // "Counters"

/// A storage failure (never shown to clients).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached for now (connection refused or lost, no connection
    /// within the pool's acquire timeout, the server shutting down or refusing connections):
    /// worth retrying later; the pools reconnect by themselves.
    #[error("database unavailable: {0}")]
    Unavailable(sqlx::Error),
    /// The database answered with an error.
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value does not decode.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if unavailable::is_unavailable(&e) {
            StoreError::Unavailable(e)
        } else {
            StoreError::Database(e)
        }
    }
}

/// How long a request waits for a PostgreSQL connection (including opening one) before it
/// is answered `storage_unavailable`: short, so an outage is reported rather than queued.
const POSTGRES_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// Checks the LISTEN connection answers within `timeout`.
async fn probe(
    listener: &mut sqlx::postgres::PgListener,
    timeout: Duration,
) -> Result<(), sqlx::Error> {
    match tokio::time::timeout(timeout, sqlx::query("SELECT 1").execute(listener)).await {
        Ok(done) => done.map(drop),
        Err(_) => Err(sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "the LISTEN connection did not answer a probe",
        ))),
    }
}

/// Which database a [`Store`] is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file (one machine).
    Sqlite,
    /// A PostgreSQL database (any number of replicas).
    Postgres,
}

/// Handle to the database (cheap to clone).
///
/// The same SQL runs on both backends (numbered `$n` parameters, standard SQL); the schemas
/// differ only in their dialect (`migrations/sqlite`, `migrations/postgres`).
#[derive(Debug, Clone)]
pub struct Store {
    writer: AnyPool,
    reader: AnyPool,
    backend: Backend,
    /// Notified after every committed write of this process (see [`Store::appended`]).
    appended: Arc<Notify>,
    /// The PostgreSQL URL (session settings applied) and the settings, for the connection
    /// that listens for other replicas' appends.
    postgres: Option<(String, PostgresSession)>,
    /// SQLite: the connection that checkpoints the WAL in the background (see
    /// [`Store::checkpoint_wal`]), so no request waits for a checkpoint.
    checkpointer: Option<AnyPool>,
    /// When this process last purged stale app nonces (Unix seconds; see `app_nonces`).
    nonces_purged_at: Arc<std::sync::atomic::AtomicI64>,
}

impl Store {
    /// Opens the database `url` names and applies migrations.
    pub async fn open(url: &DatabaseUrl) -> Result<Self, StoreError> {
        match url {
            DatabaseUrl::Sqlite { path } => Self::open_sqlite(path).await,
            DatabaseUrl::Postgres { url } => Self::open_postgres(url.as_str()).await,
        }
    }

    /// Opens (creating if needed) the SQLite file at `path` and applies migrations.
    pub async fn open_sqlite(path: &Path) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        // Local files: skip sqlx's ping before every checkout.
        let writer = AnyPoolOptions::new()
            .test_before_acquire(false)
            .max_connections(1)
            .min_connections(1)
            .after_connect(sqlite_writer_settings)
            .connect(&sqlite_url(path, "rwc"))
            .await?;
        SQLITE_MIGRATIONS.run(&writer).await?;
        let reader = AnyPoolOptions::new()
            .test_before_acquire(false)
            .max_connections(4)
            .after_connect(sqlite_reader_settings)
            .connect(&sqlite_url(path, "ro"))
            .await?;
        let checkpointer = AnyPoolOptions::new()
            .test_before_acquire(false)
            .max_connections(1)
            .after_connect(sqlite_reader_settings)
            .connect(&sqlite_url(path, "rw"))
            .await?;
        Ok(Self {
            writer,
            reader,
            backend: Backend::Sqlite,
            appended: Arc::new(Notify::new()),
            postgres: None,
            checkpointer: Some(checkpointer),
            nonces_purged_at: Arc::default(),
        })
    }

    /// Connects to the PostgreSQL database at `url` and applies migrations (several replicas
    /// starting at once take turns: the migrator holds an advisory lock).
    pub async fn open_postgres(url: &str) -> Result<Self, StoreError> {
        Self::open_postgres_with(url, PostgresSession::default()).await
    }

    /// [`Store::open_postgres`] with other session limits (tests use short ones).
    pub async fn open_postgres_with(
        url: &str,
        session: PostgresSession,
    ) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        // Migrations on a session without the limits: a replica starting beside another
        // one's long migration waits its turn (the migrator's lock) rather than failing.
        let migrator = AnyPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(POSTGRES_ACQUIRE_TIMEOUT)
            .connect(url)
            .await?;
        let migrated = POSTGRES_MIGRATIONS.run(&migrator).await;
        migrator.close().await;
        migrated?;
        let url = &session
            .apply_to(url)
            .map_err(|e| StoreError::Database(sqlx::Error::Configuration(Box::new(e))))?;
        let writer = AnyPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(POSTGRES_ACQUIRE_TIMEOUT)
            .connect(url)
            .await?;
        let reader = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(POSTGRES_ACQUIRE_TIMEOUT)
            .connect(url)
            .await?;
        Ok(Self {
            writer,
            reader,
            backend: Backend::Postgres,
            appended: Arc::new(Notify::new()),
            postgres: Some((url.to_string(), session)),
            checkpointer: None,
            nonces_purged_at: Arc::default(),
        })
    }

    /// Commits a write transaction and wakes whoever waits on [`Store::appended`].
    async fn commit(&self, tx: Transaction<'static, Any>) -> Result<(), StoreError> {
        tx.commit().await?;
        self.appended.notify_one();
        Ok(())
    }

    /// Notified (one waiter, a permit kept) after this process commits a write, and — on
    /// PostgreSQL, once [`Store::listen_for_appends`] runs — after any replica appends to the
    /// audit log. A wake-up only: readers find what changed by reading from their cursor.
    pub fn appended(&self) -> Arc<Notify> {
        self.appended.clone()
    }

    /// On PostgreSQL, listens (on its own session-level connection: not through a
    /// transaction-mode pooler) for the notification every audit append sends, and wakes
    /// [`Store::appended`] for each, reconnecting until `stop` is cancelled; wakes once more
    /// after each reconnect, since notifications sent meanwhile are lost. On SQLite returns at
    /// once (one service process per file).
    pub async fn listen_for_appends(&self, stop: tokio_util::sync::CancellationToken) {
        let Some((url, session)) = &self.postgres else {
            return;
        };
        loop {
            let listened = async {
                let mut listener = sqlx::postgres::PgListener::connect(url).await?;
                listener.listen(audit::APPENDED_CHANNEL).await?;
                self.appended.notify_one();
                loop {
                    match tokio::time::timeout(session.listen_probe_after, listener.recv()).await {
                        Ok(received) => {
                            received?;
                            self.appended.notify_one();
                        }
                        // Quiet for a while: make sure the connection is alive (a silent
                        // partition would otherwise leave recv() waiting for ever).
                        Err(_) => probe(&mut listener, session.listen_probe_timeout).await?,
                    }
                }
                #[allow(unreachable_code)]
                Ok::<(), sqlx::Error>(())
            };
            tokio::select! {
                result = listened => {
                    if let Err(e) = result {
                        tracing::warn!(error = %e, "listening for audit appends failed; reconnecting");
                    }
                }
                _ = stop.cancelled() => return,
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = stop.cancelled() => return,
            }
        }
    }

    /// Checks that the database answers a trivial query (for readiness probes).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    /// The newest migration applied, and how many are applied.
    pub async fn schema_version(&self) -> Result<(i64, i64), StoreError> {
        Ok(sqlx::query_as(
            "SELECT COALESCE(MAX(version), 0), COUNT(*) FROM _sqlx_migrations WHERE success",
        )
        .fetch_one(&self.reader)
        .await?)
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pools (on SQLite, checkpoints the WAL when this is the last connection).
    pub async fn close(&self) {
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.close().await;
        }
        self.reader.close().await;
        self.writer.close().await;
    }

    /// SQLite: checkpoints the WAL every `every` on a connection of its own until `stop`
    /// is cancelled. The writing connection never checkpoints (`wal_autocheckpoint = 0`), so
    /// a checkpoint never lands on a request; a passive checkpoint waits for no one.
    /// PostgreSQL: returns at once.
    pub async fn checkpoint_wal(&self, every: Duration, stop: tokio_util::sync::CancellationToken) {
        let Some(checkpointer) = &self.checkpointer else {
            return;
        };
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.cancelled() => return,
            }
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_all(checkpointer)
                .await
            {
                tracing::warn!(error = %e, "checkpointing the WAL failed");
            }
        }
    }

    /// A write transaction that holds the database's write lock from its first statement.
    async fn begin_write(&self) -> Result<Transaction<'static, Any>, StoreError> {
        match self.backend {
            Backend::Sqlite => Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?),
            Backend::Postgres => {
                let mut tx = self.writer.begin().await?;
                sqlx::query("SELECT 1 FROM pg_advisory_xact_lock($1)")
                    .bind(POSTGRES_WRITE_LOCK)
                    .execute(&mut *tx)
                    .await?;
                Ok(tx)
            }
        }
    }

    /// This service's id, made on first use and kept in the database.
    pub async fn service_id(&self) -> Result<String, StoreError> {
        let candidate = format!("svc_{}", hex::encode(random_bytes::<8>()));
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ('service_id', $1) ON CONFLICT (key) DO NOTHING",
        )
        .bind(&candidate)
        .execute(&mut *tx)
        .await?;
        let id: String = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'service_id'")
            .fetch_one(&mut *tx)
            .await?;
        self.commit(tx).await?;
        Ok(id)
    }

    /// A value from the `meta` table.
    pub async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.reader)
            .await?)
    }

    /// Sets a `meta` value and appends `audit` in the same transaction, unless the value is
    /// set already (checked under the write lock, so replicas starting together record a
    /// change once); true when it was written.
    pub async fn set_meta_audited(
        &self,
        key: &str,
        value: &str,
        audit: AuditDraft,
        now: countersign_core::Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let current: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
        if current.as_deref() == Some(value) {
            return Ok(false);
        }
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&mut *tx)
            .await?;
        audit::append(&mut tx, audit, now).await?;
        self.commit(tx).await?;
        Ok(true)
    }
}

/// Settings of the SQLite connection that writes: WAL (readers never block the writer),
/// foreign keys, a wait for the lock another process holds, and no checkpoints (the
/// background task does them: [`Store::checkpoint_wal`]).
fn sqlite_writer_settings(
    conn: &mut AnyConnection,
    _: PoolConnectionMetadata,
) -> BoxFuture<'_, Result<(), sqlx::Error>> {
    Box::pin(async move {
        conn.execute(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
             PRAGMA wal_autocheckpoint = 0;",
        )
        .await
        .map(drop)
    })
}

/// Settings of a read-only SQLite connection: wait for a lock rather than fail.
pub(crate) fn sqlite_reader_settings(
    conn: &mut AnyConnection,
    _: PoolConnectionMetadata,
) -> BoxFuture<'_, Result<(), sqlx::Error>> {
    Box::pin(async move { conn.execute("PRAGMA busy_timeout = 10000;").await.map(drop) })
}

/// The URL of the SQLite file at `path` opened in `mode` (`rwc`, `ro`); every byte of the
/// path that a URL could misread is percent-encoded.
pub(crate) fn sqlite_url(path: &Path, mode: &str) -> String {
    use std::fmt::Write;
    let mut url = String::from("sqlite://");
    for &b in path.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            url.push(char::from(b));
        } else {
            let _ = write!(url, "%{b:02X}");
        }
    }
    url.push_str("?mode=");
    url.push_str(mode);
    url
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// A store on a fresh database (kept alive by the returned guard): a new file in a
    /// temporary directory, or a new PostgreSQL database when
    /// [`COUNTERSIGN_TEST_POSTGRES`](scratch::TEST_SERVER_ENV) names a server.
    pub(crate) async fn temp_store() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = match std::env::var(scratch::TEST_SERVER_ENV) {
            Ok(server) if !server.is_empty() => {
                let url = scratch::create_database(&server).await.unwrap();
                Store::open_postgres(&url).await.unwrap()
            }
            _ => Store::open_sqlite(&dir.path().join("t.db")).await.unwrap(),
        };
        (store, dir)
    }
}
