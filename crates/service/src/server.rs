//! [`Service`]: opening the store, recovering, serving, and shutting down without loss.

use crate::clock::{SharedClock, SystemClock};
use crate::config::{Config, Secrets};
use crate::events::EventBus;
use crate::slots::{Slots, MAX_LONG_POLLS_PER_APP, MAX_STREAMS_PER_KEY};
use crate::state::{AppState, Inner};
use crate::store::{AuditDraft, Store, StoreError};
use crate::{executor, expiry, feed, routes};
use countersign_core::audit::AuditKind;
use countersign_core::encoding::{random_bytes, sha256_hex};
use countersign_core::jcs;
use std::future::Future;
use std::sync::atomic::AtomicI64;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

const BUS_CAPACITY: usize = 4096;
/// Extra time shutdown gives in-flight executions beyond the upstream timeout.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A failure to start or run the service.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The database could not be opened or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Binding or serving failed.
    #[error("server I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The HTTP client for upstream calls could not be built.
    #[error("HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// Opens the store a configuration names.
pub async fn open_store(config: &Config) -> Result<Store, StoreError> {
    Store::open(&config.server.database).await
}

/// The actor of revocations made at start because the configuration no longer names the
/// approver.
pub const CONFIG_ACTOR: &str = "config";
/// Their reason.
pub const APPROVER_REMOVED: &str = "approver removed from the configuration";

/// How often the SQLite WAL is checkpointed in the background.
const WAL_CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// A started service: store open, devices of removed approvers revoked, crashed executions
/// settled, expiry running.
pub struct Service {
    state: AppState,
}

impl Service {
    /// Starts with the system clock.
    pub async fn start(config: Config, secrets: Secrets) -> Result<Self, ServiceError> {
        Self::start_with_clock(config, secrets, Arc::new(SystemClock)).await
    }

    /// Starts with the given clock.
    pub async fn start_with_clock(
        config: Config,
        secrets: Secrets,
        clock: SharedClock,
    ) -> Result<Self, ServiceError> {
        let store = open_store(&config).await?;
        let service_id = store.service_id().await?;
        // Events are published from the log after this point; what came before is replayed
        // by Wallet streams that ask for it (Last-Event-ID).
        let feed_from = store.audit_head().await?;
        record_config(&store, &config, &clock).await?;
        revoke_removed_approvers(&store, &config, &clock).await?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .build()?;
        let shutdown = CancellationToken::new();
        let listening_stop = shutdown.clone();
        let state = AppState::new(Inner {
            public_url: config.server.public_url.clone(),
            config,
            secrets,
            store,
            service_id,
            replica_id: format!("rep_{}", hex::encode(random_bytes::<8>())),
            bus: EventBus::new(BUS_CAPACITY),
            streams: Slots::new(MAX_STREAMS_PER_KEY),
            long_polls: Slots::new(MAX_LONG_POLLS_PER_APP),
            clock,
            http,
            expiry_wakeup: Notify::new(),
            expiry_target: AtomicI64::new(i64::MAX),
            shutdown,
            executions: TaskTracker::new(),
        });
        let listening = state.store.clone();
        tokio::spawn(async move { listening.listen_for_appends(listening_stop).await });
        let checkpointing = state.store.clone();
        let checkpoint_stop = state.shutdown.clone();
        tokio::spawn(async move {
            checkpointing
                .checkpoint_wal(WAL_CHECKPOINT_EVERY, checkpoint_stop)
                .await
        });
        tokio::spawn(feed::run(state.clone(), feed_from));
        executor::recover(&state).await?;
        tokio::spawn(executor::supervise(state.clone()));
        tokio::spawn(expiry::run(state.clone()));
        Ok(Self { state })
    }

    /// The shared state (for tests and embedding).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The HTTP API.
    pub fn router(&self) -> axum::Router {
        routes::router(self.state.clone())
    }

    /// Serves on `listener` until `shutdown` completes; then stops taking requests, ends long
    /// polls and event streams, waits for in-flight upstream calls to be recorded, and closes
    /// the store.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServiceError> {
        let token = self.state.shutdown.clone();
        let signal = async move {
            shutdown.await;
            token.cancel();
        };
        tracing::info!(addr = ?listener.local_addr().ok(), service_id = %self.state.service_id, "serving");
        axum::serve(listener, self.router())
            .with_graceful_shutdown(signal)
            .await?;
        self.stop().await;
        Ok(())
    }

    /// Stops background work and waits (bounded) for executions to be recorded.
    pub async fn stop(self) {
        self.state.shutdown.cancel();
        self.state.executions.close();
        let bound = self.state.config.server.upstream_timeout + SHUTDOWN_GRACE;
        if tokio::time::timeout(bound, self.state.executions.wait())
            .await
            .is_err()
        {
            tracing::warn!("shutdown: executions still in flight; they will be settled as outcome unknown at the next start");
        }
        self.state.store.close().await;
        tracing::info!("stopped");
    }
}

/// Appends `config_changed` when the secret-free description of the config differs from the
/// one recorded last.
async fn record_config(
    store: &Store,
    config: &Config,
    clock: &SharedClock,
) -> Result<(), StoreError> {
    let description = config.fingerprint_json();
    let digest = sha256_hex(jcs::canonicalize(&description));
    if store.meta("config_sha256").await?.as_deref() == Some(digest.as_str()) {
        return Ok(());
    }
    let draft = AuditDraft::general(
        AuditKind::ConfigChanged,
        "admin",
        serde_json::json!({"config": description, "sha256": digest}),
    );
    store
        .set_meta_audited("config_sha256", &digest, draft, clock.now())
        .await
        .map(drop)
}

/// Revokes the live devices of approvers the configuration no longer names (withdrawing their
/// decisions on pending approvals), each with its audit entries. Idempotent: once revoked, a
/// device is not revoked again, so an unchanged configuration writes nothing.
async fn revoke_removed_approvers(
    store: &Store,
    config: &Config,
    clock: &SharedClock,
) -> Result<(), StoreError> {
    let removed: std::collections::BTreeSet<String> = store
        .devices()
        .await?
        .into_iter()
        .filter(|d| d.revoked_at.is_none() && config.approver(&d.approver_id).is_none())
        .map(|d| d.approver_id)
        .collect();
    for approver_id in removed {
        let done = store
            .revoke_approver_devices(&approver_id, clock.now(), CONFIG_ACTOR, APPROVER_REMOVED)
            .await?;
        tracing::warn!(
            approver = %approver_id,
            devices = done.devices.len(),
            withdrawn = done.devices.iter().map(|d| d.withdrawn.len()).sum::<usize>(),
            "revoked the devices of an approver no longer in the configuration"
        );
    }
    Ok(())
}
