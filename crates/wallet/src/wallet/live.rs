//! The live inbox: one sync loop per pairing feeding its own [`Sink`], connection states, and
//! the pruner that drops expired requests and shows the notification summary.

use super::sink::{notifications_route, set_status, show, Sink};
use super::{Inner, Service, Wallet};
use crate::contacts::Contacts;
use crate::inbox::Owner;
use crate::model::WalletUpdate;
use crate::notify::summary_content;
use crate::registry::{fingerprint, PairingId, Registered};
use crate::settings::Route;
use crate::sync::{SyncSink, SyncStatus};
use countersign_core::Timestamp;
use std::sync::Arc;

/// Whose items a pairing's sync loop brings.
pub(super) fn owner_of(entry: &Registered) -> Arc<Owner> {
    Arc::new(Owner {
        pairing: entry.id.clone(),
        server: entry.pairing.server.clone(),
        approver_name: entry.pairing.approver_name.clone(),
    })
}

/// Writes every registered pairing's last contact to the data directory when due (see
/// [`crate::contacts`]), or at once with `now_or_never` (a pairing was removed).
pub(super) fn save_contacts(inner: &Inner, now: Timestamp, now_or_never: bool) {
    let registry = inner.registry.lock().expect("registry lock");
    let services = inner.services.lock().expect("services lock");
    let mut file = inner.contacts.lock().expect("contacts lock");
    let current: Contacts = registry
        .entries()
        .iter()
        .filter_map(|e| {
            let known = services.get(&e.id).and_then(|s| s.last_contact);
            known
                .or_else(|| file.get(&e.id))
                .map(|t| (e.id.to_string(), t))
        })
        .collect();
    if let Err(e) = file.save_if_due(current, now, now_or_never) {
        tracing::warn!("the last contacts were not saved: {e}");
    }
}

impl Wallet {
    /// The last contact known for pairing `id`: this run's, else the one saved by an earlier
    /// run.
    fn known_contact(&self, id: &PairingId) -> Option<Timestamp> {
        let services = self.inner.services.lock().expect("services lock");
        let contacts = self.inner.contacts.lock().expect("contacts lock");
        services
            .get(id)
            .and_then(|s| s.last_contact)
            .or_else(|| contacts.get(id))
    }

    /// Starts (or restarts, with a new key) the sync loop of pairing `entry`, with `key`.
    pub(super) fn connect(&self, entry: &Registered, key: countersign_core::keys::SigningKey) {
        let owner = owner_of(entry);
        let fingerprint = Some(fingerprint(&key.verifying_key()));
        let source = self.inner.connector.connect(entry.pairing.clone(), key);
        let last_contact = self.known_contact(&entry.id);
        let sink: Arc<dyn SyncSink> = Arc::new(Sink {
            inner: Arc::downgrade(&self.inner),
            owner: owner.clone(),
        });
        let task = tokio::spawn(crate::sync::run(
            source.clone(),
            sink,
            self.inner.config.sync,
        ));
        let old = self.inner.services.lock().expect("services lock").insert(
            entry.id.clone(),
            Service {
                owner,
                source: Some(source),
                status: SyncStatus::Connecting,
                task: Some(task),
                last_contact,
                fingerprint,
            },
        );
        if let Some(task) = old.and_then(|s| s.task) {
            task.abort();
        }
    }

    pub(super) fn set_status(&self, entry: &Registered, status: SyncStatus) {
        let last_contact = self.known_contact(&entry.id);
        let owner = {
            let mut services = self.inner.services.lock().expect("services lock");
            services
                .entry(entry.id.clone())
                .or_insert_with(|| Service {
                    owner: owner_of(entry),
                    source: None,
                    status: status.clone(),
                    task: None,
                    last_contact,
                    fingerprint: None,
                })
                .owner
                .clone()
        };
        set_status(&self.inner, &owner, status);
    }

    /// Every few seconds, drops requests whose window closed and tells the view, and shows
    /// the summary of requests that were not notified one by one (not during quiet hours:
    /// it waits for their end).
    pub(super) fn spawn_pruner(&self) {
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(2));
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                let now = inner.clock.now();
                let (pruned, count) = {
                    let mut inbox = inner.inbox.lock().expect("inbox lock");
                    (inbox.prune(now), inbox.count(now))
                };
                if pruned > 0 {
                    inner.observer.update(WalletUpdate::InboxChanged { count });
                }
                save_contacts(&inner, now, false);
                if notifications_route(&inner, None) != Route::Show {
                    continue;
                }
                let waiting = inner
                    .throttle
                    .lock()
                    .expect("throttle lock")
                    .take_summary(std::time::Instant::now());
                if waiting > 0 {
                    show(&inner, summary_content(waiting));
                }
            }
        });
    }
}
