//! The live inbox: one sync loop per pairing feeding its own [`Sink`], connection states, and
//! the pruner that drops expired requests and shows the notification summary.

use super::sink::{notifications_route, set_status, show, Sink};
use super::{Service, Wallet};
use crate::inbox::Owner;
use crate::model::WalletUpdate;
use crate::notify::summary_content;
use crate::registry::{fingerprint, Registered};
use crate::settings::Route;
use crate::sync::{SyncSink, SyncStatus};
use std::sync::Arc;

/// Whose items a pairing's sync loop brings.
pub(super) fn owner_of(entry: &Registered) -> Arc<Owner> {
    Arc::new(Owner {
        pairing: entry.id.clone(),
        server: entry.pairing.server.clone(),
        approver_name: entry.pairing.approver_name.clone(),
    })
}

impl Wallet {
    /// Starts (or restarts, with a new key) the sync loop of pairing `entry`, with `key`.
    pub(super) fn connect(&self, entry: &Registered, key: countersign_core::keys::SigningKey) {
        let owner = owner_of(entry);
        let fingerprint = Some(fingerprint(&key.verifying_key()));
        let source = self.inner.connector.connect(entry.pairing.clone(), key);
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
                last_contact: None,
                fingerprint,
            },
        );
        if let Some(task) = old.and_then(|s| s.task) {
            task.abort();
        }
    }

    pub(super) fn set_status(&self, entry: &Registered, status: SyncStatus) {
        let owner = {
            let mut services = self.inner.services.lock().expect("services lock");
            services
                .entry(entry.id.clone())
                .or_insert_with(|| Service {
                    owner: owner_of(entry),
                    source: None,
                    status: status.clone(),
                    task: None,
                    last_contact: None,
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
