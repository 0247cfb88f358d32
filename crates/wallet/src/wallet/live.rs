//! The live inbox: one sync loop per paired service feeding the [`Sink`], connection states, and the
//! pruner that drops expired requests and shows the notification summary.

use super::sink::{set_status, show, Sink};
use super::{Service, Wallet};
use crate::approver::Pairing;
use crate::model::WalletUpdate;
use crate::notify::summary_content;
use crate::sync::{SyncSink, SyncStatus};
use countersign_core::ServerUrl;
use std::sync::Arc;

impl Wallet {
    pub(super) fn connect(&self, pairing: Pairing, key: countersign_core::keys::SigningKey) {
        let server = pairing.server.clone();
        let source = self.inner.connector.connect(pairing, key);
        let sink: Arc<dyn SyncSink> = Arc::new(Sink {
            inner: Arc::downgrade(&self.inner),
        });
        let task = tokio::spawn(crate::sync::run(
            source.clone(),
            sink,
            self.inner.config.sync,
        ));
        let old = self.inner.services.lock().expect("services lock").insert(
            server,
            Service {
                source: Some(source),
                status: SyncStatus::Connecting,
                task: Some(task),
            },
        );
        if let Some(task) = old.and_then(|s| s.task) {
            task.abort();
        }
    }

    pub(super) fn set_status(&self, server: &ServerUrl, status: SyncStatus) {
        self.inner
            .services
            .lock()
            .expect("services lock")
            .entry(server.clone())
            .or_insert(Service {
                source: None,
                status: status.clone(),
                task: None,
            });
        set_status(&self.inner, server, status);
    }

    /// Every few seconds, drops requests whose window closed and tells the view, and shows
    /// the summary of requests that were not notified one by one.
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
