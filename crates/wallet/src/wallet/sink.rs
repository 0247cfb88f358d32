//! The sink of the sync loops: applies what they learn to the inbox, raises notifications
//! (throttled) and tells the view. A child of [`crate::wallet`], sharing its state.

use super::{Inner, WalletUpdate};
use crate::inbox::{InboxChange, InboxItem};
use crate::notify::{content_for, NotificationContent};
use crate::sync::{SyncSink, SyncStatus};
use countersign_core::api::{WalletApprovalSummary, WalletEvent, WalletEventKind};
use countersign_core::ServerUrl;
use std::sync::{Arc, Weak};
use uuid::Uuid;

/// Shows a notification off the async runtime (a blocking D-Bus call); failures are logged.
pub(super) fn show(inner: &Inner, content: NotificationContent) {
    let notifier = inner.notifier.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = notifier.notify(&content) {
            tracing::warn!("notification not shown: {e}");
        }
    });
}

pub(super) fn set_status(inner: &Inner, server: &ServerUrl, status: SyncStatus) {
    if let Some(s) = inner
        .services
        .lock()
        .expect("services lock")
        .get_mut(server)
    {
        s.status = status.clone();
    }
    inner.observer.update(WalletUpdate::Connection {
        server: server.to_string(),
        status,
    });
}

/// Applies what the sync loops learn to the inbox, notifies, and tells the view.
pub(super) struct Sink {
    pub(super) inner: Weak<Inner>,
}

impl Sink {
    fn notify_new(inner: &Arc<Inner>, items: Vec<InboxItem>) {
        for item in items {
            let admitted = inner
                .throttle
                .lock()
                .expect("throttle lock")
                .admit(std::time::Instant::now());
            if admitted {
                show(inner, content_for(&item));
            }
        }
    }
}

impl Sink {
    /// Applies `change` to the inbox, notifies what it added (still open) and tells the view.
    fn changed(&self, change: impl FnOnce(&mut crate::inbox::Inbox) -> Vec<InboxItem>) {
        let Some(inner) = self.inner.upgrade() else {
            return;
        };
        let now = inner.clock.now();
        let (added, count) = {
            let mut inbox = inner.inbox.lock().expect("inbox lock");
            let added = change(&mut inbox);
            (added, inbox.count(now))
        };
        let added = added
            .into_iter()
            .filter(|i| i.summary.expires_at > now)
            .collect();
        Sink::notify_new(&inner, added);
        inner.observer.update(WalletUpdate::InboxChanged { count });
    }
}

impl SyncSink for Sink {
    fn partial(&self, server: &ServerUrl, rows: &[WalletApprovalSummary], before: Option<Uuid>) {
        self.changed(|inbox| inbox.merge_service(server, rows, before));
    }

    fn refreshed(&self, server: &ServerUrl, rows: Vec<WalletApprovalSummary>) {
        self.changed(|inbox| inbox.replace_service(server, rows));
    }

    fn event(&self, server: &ServerUrl, event: WalletEvent) {
        let Some(inner) = self.inner.upgrade() else {
            return;
        };
        let now = inner.clock.now();
        let (change, count) = {
            let mut inbox = inner.inbox.lock().expect("inbox lock");
            let change = inbox.apply(server, &event);
            (change, inbox.count(now))
        };
        match change {
            InboxChange::Added(item) => {
                if item.summary.expires_at > now {
                    Sink::notify_new(&inner, vec![item]);
                }
                inner.observer.update(WalletUpdate::InboxChanged { count });
            }
            InboxChange::Removed { .. } => {
                inner.observer.update(WalletUpdate::InboxChanged { count });
            }
            InboxChange::None => {}
        }
        if event.kind != WalletEventKind::Created {
            inner.observer.update(WalletUpdate::ApprovalChanged {
                server: server.to_string(),
                approval_id: event.approval_id,
                status: event.status,
            });
        }
    }

    fn status(&self, server: &ServerUrl, status: SyncStatus) {
        if let Some(inner) = self.inner.upgrade() {
            set_status(&inner, server, status);
        }
    }
}
