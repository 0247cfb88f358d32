//! The inbox: every pending approval across pairings, newest first. Each pairing (one
//! approver of one service) has its own items: a request addressed to two of this Wallet's
//! approvers is two items, each decided by its own identity.
//!
//! The inbox is plain state with no I/O and no clock of its own: callers pass `now`, so tests
//! control time. Invariants:
//! - an item is in the inbox only while its last known status is `pending` and its window has
//!   not closed at `now` (a closed window hides the item even before the service says so);
//! - an item leaves the inbox on `approval.decided` unless the status is still `pending` (a
//!   quorum still open), and always on `approval.expired`, `.cancelled` and `.completed`;
//! - a full refresh of one pairing replaces exactly that pairing's items.

use crate::registry::PairingId;
use crate::reveal::{reveal, reveal_name, Revealed};
use countersign_core::api::{Progress, WalletApprovalSummary, WalletEvent, WalletEventKind};
use countersign_core::{ApprovalStatus, ServerUrl, Timestamp};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use ts_rs::TS;
use uuid::Uuid;

/// Whose an inbox item is: one pairing, with what its rows show of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// The pairing's local id.
    pub pairing: PairingId,
    /// Its service's base URL.
    pub server: ServerUrl,
    /// The approver's name, as the service sent it.
    pub approver_name: String,
}

/// One pending approval of one pairing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxItem {
    /// The pairing it belongs to.
    pub owner: Arc<Owner>,
    /// The row as the service listed it.
    pub summary: WalletApprovalSummary,
}

/// What applying an event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboxChange {
    /// A new item arrived (raise a notification).
    Added(InboxItem),
    /// An item left the inbox.
    Removed {
        /// The pairing.
        pairing: PairingId,
        /// The approval.
        approval_id: Uuid,
        /// Why: its new status.
        status: ApprovalStatus,
    },
    /// Nothing visible changed.
    None,
}

/// One inbox row as the view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct InboxRow {
    /// The pairing's local id (the key the review commands take).
    pub pairing: String,
    /// The service's base URL.
    pub server: String,
    /// Who it is addressed to: the pairing's approver name, revealed.
    pub approver: Revealed,
    /// The approval.
    pub approval_id: Uuid,
    /// The app's reason, hidden characters revealed.
    pub reason: Revealed,
    /// The app.
    pub app: Revealed,
    /// The grant.
    pub grant: Revealed,
    /// HTTP method.
    pub method: Revealed,
    /// The resolved upstream URL.
    pub url: Revealed,
    /// When it was requested.
    pub created_at: Timestamp,
    /// When its window closes.
    pub expires_at: Timestamp,
    /// Seconds left at the time the row was made (never negative).
    pub seconds_left: i64,
    /// Approvals counted and needed, for "2 of 3" (`None` from a service older than gates).
    pub progress: Option<Progress>,
}

impl InboxRow {
    /// The row of `item` at `now`.
    pub fn new(item: &InboxItem, now: Timestamp) -> Self {
        let s = &item.summary;
        Self {
            pairing: item.owner.pairing.to_string(),
            server: item.owner.server.to_string(),
            approver: reveal_name(&item.owner.approver_name),
            approval_id: s.approval_id,
            reason: reveal(&s.reason),
            app: reveal(&s.app),
            grant: reveal(&s.grant),
            method: reveal(&s.method),
            url: reveal(&s.url),
            created_at: s.created_at,
            expires_at: s.expires_at,
            seconds_left: now.seconds_until(&s.expires_at).max(0),
            progress: s.progress,
        }
    }
}

type Entry = (Arc<Owner>, WalletApprovalSummary);

/// Pending approvals of all pairings.
#[derive(Debug, Default)]
pub struct Inbox {
    items: BTreeMap<(PairingId, Uuid), Entry>,
}

impl Inbox {
    /// An empty inbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces everything known about `owner`'s pairing by `rows` (a full refresh); rows
    /// that are not pending are ignored. Returns the items that were not there before.
    pub fn replace_service(
        &mut self,
        owner: &Arc<Owner>,
        rows: Vec<WalletApprovalSummary>,
    ) -> Vec<InboxItem> {
        let before: HashSet<Uuid> = self.ids_of(&owner.pairing);
        self.forget_service(&owner.pairing);
        let mut added = Vec::new();
        for row in rows {
            if row.status != ApprovalStatus::Pending {
                continue;
            }
            if !before.contains(&row.approval_id) {
                added.push(InboxItem {
                    owner: owner.clone(),
                    summary: row.clone(),
                });
            }
            self.items.insert(
                (owner.pairing.clone(), row.approval_id),
                (owner.clone(), row),
            );
        }
        added
    }

    /// Applies one page of a refresh under way: `rows` are every approval of a pairing listed
    /// with an id from the last row's up to `before` (excluded; `None`: no upper bound). Items
    /// of that pairing in that range that the page does not list as pending are removed; the pending
    /// ones are added or updated; items outside the range are left alone (their page is still
    /// to come). Returns the items that were not there before.
    pub fn merge_service(
        &mut self,
        owner: &Arc<Owner>,
        rows: &[WalletApprovalSummary],
        before: Option<Uuid>,
    ) -> Vec<InboxItem> {
        let pairing = &owner.pairing;
        if let Some(last) = rows.last() {
            let listed: HashSet<Uuid> = rows
                .iter()
                .filter(|r| r.status == ApprovalStatus::Pending)
                .map(|r| r.approval_id)
                .collect();
            let floor = last.approval_id;
            self.items.retain(|(p, id), _| {
                p != pairing
                    || *id < floor
                    || before.is_some_and(|b| *id >= b)
                    || listed.contains(id)
            });
        }
        let mut added = Vec::new();
        for row in rows.iter().filter(|r| r.status == ApprovalStatus::Pending) {
            let key = (pairing.clone(), row.approval_id);
            if self
                .items
                .insert(key, (owner.clone(), row.clone()))
                .is_none()
            {
                added.push(InboxItem {
                    owner: owner.clone(),
                    summary: row.clone(),
                });
            }
        }
        added
    }

    /// Drops every item of `pairing` (it was removed).
    pub fn forget_service(&mut self, pairing: &PairingId) {
        self.items.retain(|(p, _), _| p != pairing);
    }

    fn ids_of(&self, pairing: &PairingId) -> HashSet<Uuid> {
        self.items
            .keys()
            .filter(|(p, _)| p == pairing)
            .map(|(_, id)| *id)
            .collect()
    }

    /// Applies one live event of `owner`'s pairing.
    pub fn apply(&mut self, owner: &Arc<Owner>, event: &WalletEvent) -> InboxChange {
        let key = (owner.pairing.clone(), event.approval_id);
        let stays = event.status == ApprovalStatus::Pending
            && matches!(
                event.kind,
                WalletEventKind::Created | WalletEventKind::Decided
            );
        if stays {
            if event.kind == WalletEventKind::Created && !self.items.contains_key(&key) {
                if let Some(row) = &event.approval {
                    let mut row = row.clone();
                    row.status = ApprovalStatus::Pending;
                    self.items.insert(key, (owner.clone(), row.clone()));
                    return InboxChange::Added(InboxItem {
                        owner: owner.clone(),
                        summary: row,
                    });
                }
            }
            return InboxChange::None;
        }
        match self.items.remove(&key) {
            Some(_) => InboxChange::Removed {
                pairing: owner.pairing.clone(),
                approval_id: event.approval_id,
                status: event.status,
            },
            None => InboxChange::None,
        }
    }

    /// Removes one item (e.g. right after this Wallet decided it). True when it was there.
    pub fn remove(&mut self, pairing: &PairingId, approval_id: Uuid) -> bool {
        self.items.remove(&(pairing.clone(), approval_id)).is_some()
    }

    /// Drops items whose window closed at `now`; returns how many.
    pub fn prune(&mut self, now: Timestamp) -> usize {
        let before = self.items.len();
        self.items.retain(|_, (_, s)| s.expires_at > now);
        before - self.items.len()
    }

    /// The open items at `now`, newest first (ties broken by id, newest UUIDv7 first).
    pub fn pending(&self, now: Timestamp) -> Vec<InboxItem> {
        let mut out: Vec<InboxItem> = self
            .items
            .iter()
            .filter(|(_, (_, s))| s.expires_at > now)
            .map(|(_, (owner, s))| InboxItem {
                owner: owner.clone(),
                summary: s.clone(),
            })
            .collect();
        out.sort_by(|a, b| {
            (
                b.summary.created_at,
                b.summary.approval_id,
                &a.owner.pairing,
            )
                .cmp(&(
                    a.summary.created_at,
                    a.summary.approval_id,
                    &b.owner.pairing,
                ))
        });
        out
    }

    /// The rows of the open items at `now`, newest first.
    pub fn rows(&self, now: Timestamp) -> Vec<InboxRow> {
        self.pending(now)
            .iter()
            .map(|i| InboxRow::new(i, now))
            .collect()
    }

    /// Rows `offset..offset + limit` of the open items at `now`, newest first, and how many
    /// are open: only the rows asked for are made.
    pub fn page(&self, now: Timestamp, offset: usize, limit: usize) -> (Vec<InboxRow>, usize) {
        let mut open: Vec<&Entry> = self
            .items
            .values()
            .filter(|(_, s)| s.expires_at > now)
            .collect();
        let count = open.len();
        // Newest first; one request seen by two pairings: by local id (a stable order).
        open.sort_unstable_by(|(oa, a), (ob, b)| {
            (b.created_at, b.approval_id, &oa.pairing).cmp(&(
                a.created_at,
                a.approval_id,
                &ob.pairing,
            ))
        });
        let rows = open
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|(owner, s)| {
                InboxRow::new(
                    &InboxItem {
                        owner: owner.clone(),
                        summary: s.clone(),
                    },
                    now,
                )
            })
            .collect();
        (rows, count)
    }

    /// How many items are open at `now`.
    pub fn count(&self, now: Timestamp) -> usize {
        self.items
            .values()
            .filter(|(_, s)| s.expires_at > now)
            .count()
    }

    /// One item, if it is open at `now`.
    pub fn get(&self, pairing: &PairingId, approval_id: Uuid, now: Timestamp) -> Option<InboxItem> {
        self.items
            .get(&(pairing.clone(), approval_id))
            .filter(|(_, s)| s.expires_at > now)
            .map(|(owner, s)| InboxItem {
                owner: owner.clone(),
                summary: s.clone(),
            })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn t(secs: i64) -> Timestamp {
        Timestamp::from_unix(1_800_000_000 + secs).unwrap()
    }

    pub(crate) fn summary(n: u128, created: i64, reason: &str) -> WalletApprovalSummary {
        WalletApprovalSummary {
            approval_id: Uuid::from_u128(n),
            status: ApprovalStatus::Pending,
            reason: reason.into(),
            app: "support-agent".into(),
            grant: "payments".into(),
            method: "POST".into(),
            url: "http://127.0.0.1:9000/v1/refunds".into(),
            created_at: t(created),
            expires_at: t(created + 3600),
            progress: None,
        }
    }

    pub(crate) fn owner(n: u16) -> Arc<Owner> {
        Arc::new(Owner {
            pairing: PairingId::named(format!("p{n}")),
            server: ServerUrl::parse(&format!("http://127.0.0.1:{n}")).unwrap(),
            approver_name: format!("approver {n}"),
        })
    }

    fn server(n: u16) -> Arc<Owner> {
        owner(n)
    }

    fn event(kind: WalletEventKind, n: u128, status: ApprovalStatus) -> WalletEvent {
        WalletEvent {
            kind,
            approval_id: Uuid::from_u128(n),
            status,
            approval: None,
        }
    }

    fn created(row: WalletApprovalSummary) -> WalletEvent {
        WalletEvent {
            kind: WalletEventKind::Created,
            approval_id: row.approval_id,
            status: ApprovalStatus::Pending,
            approval: Some(row),
        }
    }

    #[test]
    fn newest_first_across_services_with_count() {
        let mut inbox = Inbox::new();
        inbox.replace_service(&server(1), vec![summary(1, 0, "a"), summary(2, 20, "b")]);
        inbox.replace_service(&server(2), vec![summary(3, 10, "c")]);
        let reasons: Vec<String> = inbox
            .pending(t(30))
            .into_iter()
            .map(|i| i.summary.reason)
            .collect();
        assert_eq!(reasons, ["b", "c", "a"]);
        assert_eq!(inbox.count(t(30)), 3);
    }

    #[test]
    fn created_adds_once_and_reports_it() {
        let mut inbox = Inbox::new();
        let s = server(1);
        let change = inbox.apply(&s, &created(summary(1, 0, "refund")));
        assert!(matches!(change, InboxChange::Added(ref i) if i.summary.reason == "refund"));
        assert_eq!(
            inbox.apply(&s, &created(summary(1, 0, "refund"))),
            InboxChange::None
        );
        assert_eq!(inbox.count(t(1)), 1);
    }

    #[test]
    fn decided_expired_cancelled_and_completed_remove() {
        let mut inbox = Inbox::new();
        let s = server(1);
        inbox.replace_service(&s, (1..=4).map(|n| summary(n, n as i64, "x")).collect());
        let cases = [
            (WalletEventKind::Decided, 1, ApprovalStatus::Approved),
            (WalletEventKind::Decided, 2, ApprovalStatus::Denied),
            (WalletEventKind::Expired, 3, ApprovalStatus::Expired),
            (WalletEventKind::Cancelled, 4, ApprovalStatus::Cancelled),
        ];
        for (kind, n, status) in cases {
            let change = inbox.apply(&s, &event(kind, n, status));
            assert!(
                matches!(change, InboxChange::Removed { approval_id, .. } if approval_id == Uuid::from_u128(n))
            );
        }
        assert_eq!(inbox.count(t(10)), 0);
        assert_eq!(
            inbox.apply(
                &s,
                &event(WalletEventKind::Completed, 1, ApprovalStatus::Succeeded)
            ),
            InboxChange::None
        );
    }

    #[test]
    fn a_decision_under_an_open_quorum_keeps_the_item() {
        let mut inbox = Inbox::new();
        let s = server(1);
        inbox.replace_service(&s, vec![summary(1, 0, "x")]);
        let change = inbox.apply(
            &s,
            &event(WalletEventKind::Decided, 1, ApprovalStatus::Pending),
        );
        assert_eq!(change, InboxChange::None);
        assert_eq!(inbox.count(t(1)), 1);
    }

    #[test]
    fn a_closed_window_hides_the_item_before_the_event() {
        let mut inbox = Inbox::new();
        inbox.replace_service(&server(1), vec![summary(1, 0, "x")]);
        assert_eq!(inbox.count(t(3599)), 1);
        assert_eq!(inbox.count(t(3600)), 0);
        assert!(inbox.pending(t(3600)).is_empty());
        assert_eq!(inbox.prune(t(3600)), 1);
    }

    #[test]
    fn a_refresh_replaces_only_that_service_and_reports_new_items() {
        let mut inbox = Inbox::new();
        inbox.replace_service(&server(1), vec![summary(1, 0, "a"), summary(2, 1, "b")]);
        inbox.replace_service(&server(2), vec![summary(9, 0, "z")]);
        let mut gone = summary(3, 2, "not pending");
        gone.status = ApprovalStatus::Denied;
        let added = inbox.replace_service(
            &server(1),
            vec![summary(2, 1, "b"), summary(4, 3, "d"), gone],
        );
        assert_eq!(added.len(), 1);
        assert_eq!(added[0].summary.reason, "d");
        assert_eq!(inbox.count(t(5)), 3);
        inbox.forget_service(&server(1).pairing);
        assert_eq!(inbox.count(t(5)), 1);
    }

    #[test]
    fn rows_reveal_hidden_characters_and_count_down() {
        let mut inbox = Inbox::new();
        inbox.replace_service(&server(1), vec![summary(1, 0, "pay \u{202E}bob")]);
        let rows = inbox.rows(t(600));
        assert_eq!(rows[0].reason.text, "pay ⟨U+202E⟩bob");
        assert!(rows[0].reason.warning);
        assert_eq!(rows[0].seconds_left, 3000);
    }

    #[test]
    fn rows_carry_progress_when_the_service_sends_it() {
        let mut inbox = Inbox::new();
        let mut gated = summary(1, 0, "gated");
        gated.progress = Some(Progress {
            approvals: 2,
            needed: 3,
        });
        inbox.replace_service(&server(1), vec![gated, summary(2, 1, "older service")]);
        let rows = inbox.rows(t(10));
        assert_eq!(rows[0].reason.text, "older service");
        assert_eq!(rows[0].progress, None);
        assert_eq!(
            rows[1].progress,
            Some(Progress {
                approvals: 2,
                needed: 3
            })
        );
        let json = serde_json::to_value(&rows[1]).unwrap();
        assert_eq!(
            json["progress"],
            serde_json::json!({"approvals": 2, "needed": 3})
        );
        assert_eq!(
            serde_json::to_value(&rows[0]).unwrap()["progress"],
            serde_json::Value::Null
        );
    }

    #[test]
    fn a_page_of_a_refresh_settles_only_its_own_id_range() {
        let (a, b) = (server(1), server(2));
        let mut inbox = Inbox::new();
        inbox.replace_service(&a, (1..=6).map(|n| summary(n, n as i64, "old")).collect());
        inbox.replace_service(&b, vec![summary(5, 0, "other service")]);
        // The page covering ids 4.. (no upper bound): 6 gone, 5 approved, 7 new, 4 stays.
        let mut approved = summary(5, 5, "approved");
        approved.status = ApprovalStatus::Approved;
        let page = [summary(7, 7, "new"), approved, summary(4, 4, "still")];
        let added = inbox.merge_service(&a, &page, None);
        assert_eq!(added.len(), 1);
        assert_eq!(added[0].summary.reason, "new");
        let ids = |inbox: &Inbox, s: &Arc<Owner>| -> Vec<u128> {
            inbox
                .pending(t(1))
                .iter()
                .filter(|i| &i.owner == s)
                .map(|i| i.summary.approval_id.as_u128())
                .collect()
        };
        assert_eq!(
            ids(&inbox, &a),
            [7, 4, 3, 2, 1],
            "older ids wait for their page"
        );
        assert_eq!(ids(&inbox, &b), [5], "another service is untouched");
        // The next page covers 2..4 (excluded): 3 is gone.
        inbox.merge_service(&a, &[summary(2, 2, "still")], Some(Uuid::from_u128(4)));
        assert_eq!(ids(&inbox, &a), [7, 4, 2, 1]);
    }
}

#[cfg(test)]
mod identity_tests {
    use super::tests::{owner, summary, t};
    use super::*;

    /// Two pairings of one service (same server) both addressed by one request: two items,
    /// each its pairing's, removed and refreshed separately.
    #[test]
    fn two_pairings_of_one_service_keep_their_own_items() {
        let personal = owner(1);
        let on_call = Arc::new(Owner {
            pairing: PairingId::named("p2"),
            server: personal.server.clone(),
            approver_name: "On call".into(),
        });
        let mut inbox = Inbox::new();
        inbox.replace_service(
            &personal,
            vec![summary(1, 0, "shared"), summary(2, 1, "mine")],
        );
        inbox.replace_service(&on_call, vec![summary(1, 0, "shared")]);
        assert_eq!(inbox.count(t(5)), 3);
        let rows = inbox.rows(t(5));
        let shared: Vec<_> = rows.iter().filter(|r| r.reason.text == "shared").collect();
        assert_eq!(shared.len(), 2);
        assert_ne!(shared[0].pairing, shared[1].pairing);
        assert_eq!(shared[0].server, shared[1].server);
        assert!(rows.iter().any(|r| r.approver.text == "On call"));

        // The on-call approver decided: only its item leaves.
        let gone = inbox.apply(
            &on_call,
            &WalletEvent {
                kind: WalletEventKind::Decided,
                approval_id: Uuid::from_u128(1),
                status: ApprovalStatus::Approved,
                approval: None,
            },
        );
        assert!(
            matches!(gone, InboxChange::Removed { ref pairing, .. } if pairing == &on_call.pairing)
        );
        assert!(inbox
            .get(&personal.pairing, Uuid::from_u128(1), t(5))
            .is_some());
        assert!(inbox
            .get(&on_call.pairing, Uuid::from_u128(1), t(5))
            .is_none());

        // A refresh of one pairing leaves the other's items alone.
        inbox.replace_service(&personal, vec![]);
        inbox.replace_service(&on_call, vec![summary(3, 2, "new")]);
        assert_eq!(inbox.count(t(5)), 1);
        inbox.forget_service(&on_call.pairing);
        assert_eq!(inbox.count(t(5)), 0);
    }
}
