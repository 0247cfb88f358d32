//! The sink of one pairing's sync loop: applies what it learns to that pairing's inbox items,
//! records the contact, raises notifications (per the settings, throttled) and tells the view.
//! A child of [`crate::wallet`], sharing its state.

use super::{Inner, WalletUpdate};
use crate::inbox::{InboxChange, InboxItem, Owner};
use crate::notify::{content_for, NotificationContent};
use crate::registry::PairingId;
use crate::settings::{route, LocalTime, Route};
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

/// Whether a notification of `pairing` (`None`: the summary) is shown now, per the settings
/// and the local time.
pub(super) fn notifications_route(inner: &Inner, pairing: Option<&PairingId>) -> Route {
    let now = inner.clock.now();
    let local = LocalTime::at(now, inner.clock.utc_offset(now));
    let settings = inner.settings.lock().expect("settings lock");
    route(settings.get(), pairing, local)
}

pub(super) fn set_status(inner: &Inner, owner: &Owner, status: SyncStatus) {
    if let Some(s) = inner
        .services
        .lock()
        .expect("services lock")
        .get_mut(&owner.pairing)
    {
        if status == SyncStatus::Live {
            s.last_contact = Some(inner.clock.now());
        }
        s.status = status.clone();
    }
    inner.observer.update(WalletUpdate::Connection {
        pairing: owner.pairing.to_string(),
        server: owner.server.to_string(),
        status,
    });
}

/// Applies what one pairing's sync loop learns to the inbox, notifies, and tells the view.
pub(super) struct Sink {
    pub(super) inner: Weak<Inner>,
    pub(super) owner: Arc<Owner>,
}

impl Sink {
    fn notify_new(inner: &Arc<Inner>, items: Vec<InboxItem>) {
        for item in items {
            // Muted or quiet: the inbox has it; the desktop is left alone (and it is not
            // counted for the summary either).
            if notifications_route(inner, Some(&item.owner.pairing)) != Route::Show {
                continue;
            }
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

    /// Applies `apply` to the inbox while this pairing is still the one syncing (a removed
    /// or re-paired pairing's late answers change nothing), and records the contact.
    fn apply<T>(
        &self,
        inner: &Inner,
        apply: impl FnOnce(&mut crate::inbox::Inbox) -> T,
    ) -> Option<(T, usize)> {
        let now = inner.clock.now();
        let mut services = inner.services.lock().expect("services lock");
        let service = services.get_mut(&self.owner.pairing)?;
        if !Arc::ptr_eq(&service.owner, &self.owner) {
            return None;
        }
        service.last_contact = Some(now);
        let mut inbox = inner.inbox.lock().expect("inbox lock");
        let out = apply(&mut inbox);
        Some((out, inbox.count(now)))
    }

    /// Applies `change` to the inbox, notifies what it added (still open) and tells the view.
    fn changed(&self, change: impl FnOnce(&mut crate::inbox::Inbox) -> Vec<InboxItem>) {
        let Some(inner) = self.inner.upgrade() else {
            return;
        };
        let Some((added, count)) = self.apply(&inner, change) else {
            return;
        };
        let now = inner.clock.now();
        let added = added
            .into_iter()
            .filter(|i| i.summary.expires_at > now)
            .collect();
        Sink::notify_new(&inner, added);
        inner.observer.update(WalletUpdate::InboxChanged { count });
    }
}

/// The `server` the sync loop passes is its source's; this sink knows its pairing already.
impl SyncSink for Sink {
    fn partial(&self, _server: &ServerUrl, rows: &[WalletApprovalSummary], before: Option<Uuid>) {
        let owner = self.owner.clone();
        self.changed(|inbox| inbox.merge_service(&owner, rows, before));
    }

    fn refreshed(&self, _server: &ServerUrl, rows: Vec<WalletApprovalSummary>) {
        let owner = self.owner.clone();
        self.changed(|inbox| inbox.replace_service(&owner, rows));
    }

    fn event(&self, _server: &ServerUrl, event: WalletEvent) {
        let Some(inner) = self.inner.upgrade() else {
            return;
        };
        let owner = self.owner.clone();
        let Some((change, count)) = self.apply(&inner, |inbox| inbox.apply(&owner, &event)) else {
            return;
        };
        let now = inner.clock.now();
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
                pairing: self.owner.pairing.to_string(),
                server: self.owner.server.to_string(),
                approval_id: event.approval_id,
                status: event.status,
            });
        }
    }

    fn status(&self, _server: &ServerUrl, status: SyncStatus) {
        let Some(inner) = self.inner.upgrade() else {
            return;
        };
        let current = inner
            .services
            .lock()
            .expect("services lock")
            .get(&self.owner.pairing)
            .is_some_and(|s| Arc::ptr_eq(&s.owner, &self.owner));
        if current {
            set_status(&inner, &self.owner, status);
        }
    }
}
