//! [`AppState`]: everything a handler or background task needs, in one place.

use crate::clock::SharedClock;
use crate::config::{Config, Secrets};
use crate::events::EventBus;
use crate::slots::Slots;
use crate::store::Store;
use countersign_core::ServerUrl;
use std::ops::Deref;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Shared service state (cheap to clone).
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The contents of [`AppState`].
pub struct Inner {
    /// The loaded configuration.
    pub config: Config,
    /// API key hashes and grant secrets.
    pub secrets: Secrets,
    /// The database.
    pub store: Store,
    /// This service's id (signed into statements).
    pub service_id: String,
    /// This replica's id, new at every start: the owner of the execution leases it holds.
    pub replica_id: String,
    /// Where approval links point.
    pub public_url: ServerUrl,
    /// Approval events for long polls and wallets.
    pub bus: EventBus,
    /// Open event streams per device key.
    pub streams: Slots,
    /// Long polls in progress per app.
    pub long_polls: Slots,
    /// The time source.
    pub clock: SharedClock,
    /// Client for upstream calls (no redirects).
    pub http: reqwest::Client,
    /// Wakes the expiry task when an earlier deadline appears.
    pub expiry_wakeup: Notify,
    /// The deadline (Unix ms) the expiry task sleeps towards; `i64::MAX` when none.
    pub expiry_target: AtomicI64,
    /// Cancelled when the service starts shutting down.
    pub shutdown: CancellationToken,
    /// Upstream executions in flight; shutdown waits for them.
    pub executions: TaskTracker,
}

impl AppState {
    /// Wraps the parts.
    pub fn new(inner: Inner) -> Self {
        Self(Arc::new(inner))
    }

    /// Tells the expiry task about a new deadline; wakes it only when the deadline is earlier
    /// than the one it is sleeping towards.
    pub fn note_deadline(&self, expires_at: countersign_core::Timestamp) {
        let ms = expires_at.unix().saturating_mul(1000);
        if ms < self.expiry_target.fetch_min(ms, Ordering::SeqCst) {
            self.expiry_wakeup.notify_one();
        }
    }
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
