//! What the Wallet hands the view (screens' data and live updates) and the clock it reads.

use crate::inbox::{InboxItem, InboxRow, Owner};
use crate::reveal::Revealed;
use crate::sync::SyncStatus;
use countersign_core::api::WalletApprovalSummary;
use countersign_core::{ApprovalStatus, Timestamp};
use serde::Serialize;
use ts_rs::TS;
use uuid::Uuid;

/// Where time comes from (tests pass a fixed clock).
pub trait Clock: Send + Sync + 'static {
    /// Now.
    fn now(&self) -> Timestamp;

    /// How far the local clock is ahead of UTC at `at`, in seconds (for quiet hours). The
    /// default reads the system's time zone.
    fn utc_offset(&self, at: Timestamp) -> i32 {
        use chrono::{Offset, TimeZone};
        chrono::Local
            .from_utc_datetime(&at.as_datetime().naive_utc())
            .offset()
            .fix()
            .local_minus_utc()
    }
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// Something the view should know about now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[derive(TS)]
pub enum WalletUpdate {
    /// The inbox changed; `count` pending requests.
    InboxChanged {
        /// Pending requests.
        count: usize,
    },
    /// One request changed state (decided, expired, cancelled, completed), as one pairing
    /// sees it.
    ApprovalChanged {
        /// The pairing.
        pairing: String,
        /// Its service.
        server: String,
        /// The request.
        approval_id: Uuid,
        /// Its new state.
        status: ApprovalStatus,
    },
    /// A pairing's connection changed.
    Connection {
        /// The pairing.
        pairing: String,
        /// Its service.
        server: String,
        /// Its state.
        status: SyncStatus,
    },
    /// Bring the window forward on this request (a notification was clicked).
    Focus {
        /// The pairing it is addressed to.
        pairing: String,
        /// Its service.
        server: String,
        /// The request.
        approval_id: Uuid,
    },
    /// Bring the window forward on the inbox (a summary notification was clicked).
    ShowInbox,
}

/// Receives [`WalletUpdate`]s (the Tauri shell emits them to the view).
pub trait Observer: Send + Sync + 'static {
    /// Called from any thread.
    fn update(&self, update: WalletUpdate);
}

/// A pairing (one approver of one service), for the view. What the service told about itself
/// and the approver is untrusted text: each name is revealed on one line (`reveal_name`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct PairingView {
    /// The local id (the key the other commands take).
    pub id: String,
    /// The service's base URL.
    pub server: String,
    /// The service's id.
    pub service_id: Revealed,
    /// Who this Wallet approves as.
    pub approver_id: Revealed,
    /// Their name.
    pub approver_name: Revealed,
    /// The registered key's id.
    pub key_id: Revealed,
    /// The SHA-256 fingerprint of the public key, computed by this Wallet (`None` until the
    /// key of a pairing saved before fingerprints were recorded was loaded).
    pub fingerprint: Option<String>,
    /// The last successful exchange with the service for this pairing (since the Wallet
    /// started).
    pub last_contact: Option<Timestamp>,
    /// Whether its requests raise desktop notifications.
    pub notifications: bool,
    /// The connection.
    pub status: SyncStatus,
}

/// The pairing confirmation screen; the service's answers revealed as in [`PairingView`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct PairingPreviewView {
    /// The server the link points at.
    pub server: String,
    /// The service's id.
    pub service_id: Revealed,
    /// The approver the code pairs as.
    pub approver_id: Revealed,
    /// Their name.
    pub approver_name: Revealed,
    /// When the code stops working.
    pub expires_at: Timestamp,
    /// True when this approver of this service is paired already (confirming replaces that
    /// pairing's key; its history and settings stay).
    pub replaces_existing: bool,
    /// How many other approvers of this service this Wallet is paired as.
    pub other_identities: u32,
}

/// The inbox screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct InboxView {
    /// Pending requests, newest first.
    pub rows: Vec<InboxRow>,
    /// How many.
    pub count: usize,
}

/// A page of the inbox: what the view draws of a long list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct InboxPage {
    /// Rows `offset..offset + rows.len()`, newest first.
    pub rows: Vec<InboxRow>,
    /// The index of the first row.
    pub offset: u32,
    /// Pending requests in all.
    pub count: u32,
    /// True while a paired service's pending list is still being fetched (at start-up or
    /// after a reconnect): more rows may still arrive, and some shown may have been decided
    /// meanwhile (they leave once the list is complete).
    pub syncing: bool,
}

/// A page of a history search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct HistoryPage {
    /// The search these rows belong to (ask for more pages of it by this number).
    pub search: u64,
    /// Rows `offset..offset + rows.len()`, newest first.
    pub rows: Vec<HistoryRow>,
    /// The index of the first row.
    pub offset: u32,
    /// Rows the search found in all.
    pub count: u32,
}

/// One history row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct HistoryRow {
    /// The row.
    #[serde(flatten)]
    pub row: InboxRow,
    /// Its final or current state.
    pub status: ApprovalStatus,
}

pub(crate) fn history_row(
    owner: &std::sync::Arc<Owner>,
    s: WalletApprovalSummary,
    now: Timestamp,
) -> HistoryRow {
    let status = if s.status == ApprovalStatus::Pending && s.expires_at <= now {
        ApprovalStatus::Expired
    } else {
        s.status
    };
    HistoryRow {
        row: InboxRow::new(
            &InboxItem {
                owner: owner.clone(),
                summary: s,
            },
            now,
        ),
        status,
    }
}

/// True when every whitespace-separated word of `query` occurs in the row.
pub fn matches_query(s: &WalletApprovalSummary, query: &str) -> bool {
    let hay = format!(
        "{}\n{}\n{}\n{}\n{}\n{}\n{}",
        s.reason, s.app, s.grant, s.method, s.url, s.status, s.approval_id
    )
    .to_lowercase();
    query
        .split_whitespace()
        .all(|w| hay.contains(&w.to_lowercase()))
}

/// The settings screen: notifications per pairing and quiet hours. ("Start at login" is the
/// desktop's autostart entry, which the app shell reads and writes itself.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SettingsView {
    /// Each pairing, in the order they were made, with whether it notifies.
    pub pairings: Vec<PairingNotifications>,
    /// No desktop notification between these local times (`HH:MM`), if set.
    pub quiet_hours: Option<QuietHoursView>,
    /// True when it is quiet hours now.
    pub quiet_now: bool,
}

/// Whether one pairing's requests raise desktop notifications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct PairingNotifications {
    /// The pairing's local id.
    pub id: String,
    /// The service's base URL.
    pub server: String,
    /// The approver's name, revealed.
    pub approver_name: Revealed,
    /// The approver's id, revealed.
    pub approver_id: Revealed,
    /// On or off.
    pub notifications: bool,
}

/// Quiet hours as the view shows and sends them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, TS)]
pub struct QuietHoursView {
    /// Start, `HH:MM` local time.
    pub from: String,
    /// End, `HH:MM` local time (earlier than `from`: across midnight).
    pub to: String,
}
