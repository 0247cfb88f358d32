//! [`Wallet`]: the whole approver, without a window. The Tauri shell calls these methods from
//! its commands and forwards [`WalletUpdate`]s to the view.
//!
//! Security invariants kept here:
//! - a decision is signed only for a request this Wallet fetched, verified (digest recomputed
//!   with the core crate, body checked against the statement) and turned into the
//!   [`ReviewView`] the person saw; the view names the request and echoes the digest it showed,
//!   it never supplies what is signed;
//! - keys come from the [`KeyStore`] and go only to the approver client; session tokens stay
//!   inside the client; nothing secret is written to `data_dir`;
//! - pairing happens only in [`Wallet::confirm_pairing`], called after the person confirmed,
//!   over https (plain http only to a loopback address); the answer must name this device's
//!   key id and the previewed service and approver, and a service id another server's pairing
//!   has (or a server paired as another service) is refused;
//! - every identity (pairing: one approver of one service) has its own local id, key, session,
//!   event stream, inbox items, reviews and notifications; a review is kept under the pairing
//!   that fetched it and only that pairing's source (holding only its key) signs a decision
//!   on it; nothing a service sends removes a pairing (only [`Wallet::remove_pairing`], which
//!   the view calls with a local id);
//! - each pairing's key lives under a keychain account this Wallet named at random; no id a
//!   service sends ever names, overwrites or deletes a keychain entry, and a failed pairing
//!   deletes only the entry it made.

use crate::approver::Review;
use crate::contacts::ContactsFile;
use crate::error::WalletError;
use crate::inbox::{Inbox, Owner};
use crate::keystore::KeyStore;
pub use crate::model::{
    matches_query, Clock, HistoryPage, HistoryRow, InboxPage, InboxView, Observer,
    PairingPreviewView, PairingView, SystemClock, WalletUpdate,
};
use crate::notify::{Notifier, NotifyThrottle};
use crate::pages::{KeptPages, PageLedger};
use crate::registry::{PairingId, PairingRegistry};
use crate::settings::SettingsFile;
use crate::source::{ApprovalSource, Connector};
use crate::sync::{SyncConfig, SyncStatus};
use countersign_core::Timestamp;
use inbox::HistorySnapshot;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;
use uuid::Uuid;

/// At most this many notifications per 10 s; more requests are summarised in one.
pub const NOTIFY_BURST: usize = 5;

/// At most this many requests of one service (newest first, pending ones included) are
/// searched for the history.
pub const HISTORY_MAX: usize = 5_000;

/// At most this many past approvals are compared for "what is new".
pub const NOVELTY_HISTORY: usize = 10_000;

/// The pages of at most this many request bodies are kept (a megabyte of JSON is tens of
/// megabytes of pages); older ones are made again when asked for.
pub const BODY_PAGES_KEPT: usize = 4;

/// Longest accepted comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 2000;

/// The Wallet's fixed settings.
#[derive(Debug, Clone)]
pub struct WalletConfig {
    /// The app's data directory (pairings and settings; never secrets).
    pub data_dir: PathBuf,
    /// The name this device registers with, e.g. "Countersign Wallet on `host`".
    pub device_name: String,
    /// Reconnection timing.
    pub sync: SyncConfig,
}

/// One pairing's live side.
struct Service {
    owner: Arc<Owner>,
    /// None when the pairing cannot sync (its key could not be loaded).
    source: Option<Arc<dyn ApprovalSource>>,
    status: SyncStatus,
    task: Option<JoinHandle<()>>,
    /// The last successful exchange with the service.
    last_contact: Option<Timestamp>,
    /// The public key's fingerprint, computed when its key was loaded.
    fingerprint: Option<String>,
}

struct Inner {
    config: WalletConfig,
    connector: Arc<dyn Connector>,
    keys: Arc<dyn KeyStore>,
    notifier: Arc<dyn Notifier>,
    observer: Arc<dyn Observer>,
    clock: Arc<dyn Clock>,
    /// Lock order: registry, then services, then inbox.
    registry: Mutex<PairingRegistry>,
    settings: Mutex<SettingsFile>,
    /// Last contacts as written to the data directory (locked after services).
    contacts: Mutex<ContactsFile>,
    inbox: Mutex<Inbox>,
    services: Mutex<HashMap<PairingId, Service>>,
    /// The request each pairing fetched and verified, the only thing it signs.
    reviews: Mutex<HashMap<(PairingId, Uuid), Review>>,
    /// Bodies the view reported seen to the end: (pairing, approval, request digest).
    seen: Mutex<HashSet<(PairingId, Uuid, String)>>,
    /// Request bodies cut into pages, for the last few reviews.
    pages: Mutex<KeptPages<(PairingId, Uuid)>>,
    /// Which pages of each body (pairing, approval, request digest) the view fetched.
    ledgers: Mutex<HashMap<(PairingId, Uuid, String), PageLedger>>,
    /// The last history search, which the view pages through.
    history: Mutex<Option<HistorySnapshot>>,
    throttle: Mutex<NotifyThrottle>,
}

/// The approver: pairings, live inbox, reviews and decisions. Cheap to clone.
#[derive(Clone)]
pub struct Wallet {
    inner: Arc<Inner>,
}

/// The parts a [`Wallet`] is made of (all replaceable in tests).
pub struct WalletParts {
    /// Settings.
    pub config: WalletConfig,
    /// Talks to services.
    pub connector: Arc<dyn Connector>,
    /// Holds keys.
    pub keys: Arc<dyn KeyStore>,
    /// Shows notifications.
    pub notifier: Arc<dyn Notifier>,
    /// Receives updates for the view.
    pub observer: Arc<dyn Observer>,
    /// Tells the time.
    pub clock: Arc<dyn Clock>,
}

impl Wallet {
    /// Loads the pairings and starts syncing each paired service. Must run inside a Tokio
    /// runtime.
    pub async fn start(parts: WalletParts) -> Result<Self, WalletError> {
        let registry = PairingRegistry::load(&parts.config.data_dir)?;
        let pairings = registry.entries().to_vec();
        // A damaged settings file must not keep the approver from deciding: the defaults
        // apply (every notification on) until a setting is changed, which writes a good file.
        let settings = SettingsFile::load(&parts.config.data_dir).unwrap_or_else(|e| {
            tracing::warn!("settings not loaded, using the defaults: {e}");
            SettingsFile::defaults_in(&parts.config.data_dir)
        });
        let wallet = Wallet {
            inner: Arc::new(Inner {
                contacts: Mutex::new(ContactsFile::load(&parts.config.data_dir)),
                config: parts.config,
                connector: parts.connector,
                keys: parts.keys,
                notifier: parts.notifier,
                observer: parts.observer,
                clock: parts.clock,
                registry: Mutex::new(registry),
                settings: Mutex::new(settings),
                inbox: Mutex::new(Inbox::new()),
                services: Mutex::new(HashMap::new()),
                reviews: Mutex::new(HashMap::new()),
                seen: Mutex::new(HashSet::new()),
                pages: Mutex::new(KeptPages::new(BODY_PAGES_KEPT)),
                ledgers: Mutex::new(HashMap::new()),
                history: Mutex::new(None),
                throttle: Mutex::new(NotifyThrottle::new(
                    NOTIFY_BURST,
                    std::time::Duration::from_secs(10),
                )),
            }),
        };
        // Keys are loaded in the background: a locked keychain may prompt the person, and the
        // window must not wait for that.
        for entry in pairings {
            wallet.set_status(&entry, SyncStatus::Connecting);
            let wallet = wallet.clone();
            tokio::spawn(async move {
                match wallet.load_key(entry.key_account.clone()).await {
                    // Unless the pairing was removed or paired again meanwhile.
                    Ok(key) if wallet.has_key_account(&entry) => wallet.connect(&entry, key),
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(server = %entry.pairing.server, "cannot load the device key: {e}");
                        wallet.set_status(&entry, SyncStatus::Failed { why: e.to_string() });
                    }
                }
            });
        }
        wallet.spawn_pruner();
        Ok(wallet)
    }

    /// Stops every sync loop.
    pub fn shutdown(&self) {
        for (_, s) in self
            .inner
            .services
            .lock()
            .expect("services lock")
            .iter_mut()
        {
            if let Some(t) = s.task.take() {
                t.abort();
            }
        }
    }

    /// The source of pairing `id`, waiting (up to 20 s) while its key is still being loaded.
    async fn source(&self, id: &PairingId) -> Result<Arc<dyn ApprovalSource>, WalletError> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let why = {
                let services = self.inner.services.lock().expect("services lock");
                match services.get(id) {
                    Some(Service {
                        source: Some(source),
                        ..
                    }) => return Ok(source.clone()),
                    Some(Service {
                        status: SyncStatus::Failed { why },
                        ..
                    }) => Some(why.clone()),
                    Some(_) => None,
                    None => {
                        return Err(WalletError::UnknownPairing {
                            pairing: id.to_string(),
                        })
                    }
                }
            };
            if let Some(why) = why {
                return Err(WalletError::KeyStore(
                    crate::keystore::KeyStoreError::Unavailable(why),
                ));
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(WalletError::KeyStore(
                    crate::keystore::KeyStoreError::Unavailable(
                        "the device key is still being loaded from the keychain".into(),
                    ),
                ));
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

mod inbox;
mod live;
mod pairing;
mod review;
mod settings;
mod sink;

pub use review::verify_locally;

#[cfg(test)]
mod tests;
