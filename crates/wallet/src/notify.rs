//! Desktop notifications for new requests.
//!
//! A notification only says that a request is waiting: app and reason, and one action,
//! "Review", which brings the Wallet forward on that request. There is deliberately no
//! "Approve" action: approving always happens in the review view, after seeing the full
//! request (a defence against approval fatigue).
//!
//! Notification servers may render a subset of HTML in the body, so the body is escaped;
//! hidden characters are revealed as everywhere else. A missing notification daemon is not an
//! error for the Wallet: the request is in the inbox anyway, and [`NotifyError::NoDaemon`]
//! is only logged.

use crate::inbox::InboxItem;
use crate::model::WalletUpdate;
use crate::registry::PairingId;
use crate::reveal::{reveal, reveal_name};
use countersign_core::ServerUrl;
use std::sync::Arc;
use uuid::Uuid;

/// The application name notifications carry.
pub const APP_NAME: &str = "Countersign Wallet";
/// The identifier of the only action.
pub const REVIEW_ACTION: &str = "review";
/// At most this many characters of the reason appear in a notification.
pub const REASON_CHARS: usize = 200;

/// What one notification shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationContent {
    /// Title line, plain text.
    pub summary: String,
    /// Body, escaped for servers that understand markup.
    pub body: String,
    /// Actions as (identifier, label): only "Review".
    pub actions: Vec<(String, String)>,
    /// What "Review" opens: one request (the pairing it is addressed to, its service and
    /// id), or the inbox when `None`.
    pub target: Option<(PairingId, ServerUrl, Uuid)>,
}

impl NotificationContent {
    /// What choosing "Review" (or clicking the notification) tells the view: bring the window
    /// forward on the request ([`WalletUpdate::Focus`]), or on the inbox for a summary
    /// ([`WalletUpdate::ShowInbox`]).
    pub fn review_update(&self) -> WalletUpdate {
        match &self.target {
            Some((pairing, server, approval_id)) => WalletUpdate::Focus {
                pairing: pairing.to_string(),
                server: server.to_string(),
                approval_id: *approval_id,
            },
            None => WalletUpdate::ShowInbox,
        }
    }
}

/// The notification for a new inbox item.
pub fn content_for(item: &InboxItem) -> NotificationContent {
    let s = &item.summary;
    let app = reveal_name(&s.app).text;
    let full = reveal(&s.reason).text;
    let mut reason: String = full.chars().take(REASON_CHARS).collect();
    if full.chars().count() > REASON_CHARS {
        reason.push('…');
    }
    let method = reveal_name(&s.method).text;
    let url = reveal(&s.url).text;
    // Which of this Wallet's identities is asked (one service may be paired several times).
    let approver = reveal_name(&item.owner.approver_name).text;
    NotificationContent {
        summary: format!("Approval needed: {}", one_line(&app)),
        body: escape_markup(&format!("{reason}\n{method} {url}\nfor {approver}")),
        actions: vec![(REVIEW_ACTION.to_string(), "Review".to_string())],
        target: Some((
            item.owner.pairing.clone(),
            item.owner.server.clone(),
            s.approval_id,
        )),
    }
}

/// One notification standing for `count` requests that were not notified one by one.
pub fn summary_content(count: usize) -> NotificationContent {
    NotificationContent {
        summary: format!(
            "{count} more approval request{} waiting",
            if count == 1 { " is" } else { "s are" }
        ),
        body: "Open the Wallet to review them.".into(),
        actions: vec![(REVIEW_ACTION.to_string(), "Review".to_string())],
        target: None,
    }
}

/// Limits notifications to `burst` per `window`; the rest are counted and later shown as one
/// summary ([`summary_content`]), so a flood of requests neither floods the desktop nor
/// spawns a waiting thread per request.
#[derive(Debug)]
pub struct NotifyThrottle {
    burst: usize,
    window: std::time::Duration,
    sent: std::collections::VecDeque<std::time::Instant>,
    suppressed: usize,
}

impl NotifyThrottle {
    /// At most `burst` notifications per `window`.
    pub fn new(burst: usize, window: std::time::Duration) -> Self {
        Self {
            burst,
            window,
            sent: Default::default(),
            suppressed: 0,
        }
    }

    fn forget_old(&mut self, now: std::time::Instant) {
        while self
            .sent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            self.sent.pop_front();
        }
    }

    /// True when one more notification may be shown now; otherwise it is counted.
    pub fn admit(&mut self, now: std::time::Instant) -> bool {
        self.forget_old(now);
        if self.sent.len() < self.burst {
            self.sent.push_back(now);
            true
        } else {
            self.suppressed += 1;
            false
        }
    }

    /// The number of counted requests to summarise now (0 when none, or still too soon).
    pub fn take_summary(&mut self, now: std::time::Instant) -> usize {
        self.forget_old(now);
        if self.suppressed == 0 || self.sent.len() >= self.burst {
            return 0;
        }
        self.sent.push_back(now);
        std::mem::take(&mut self.suppressed)
    }
}

fn one_line(text: &str) -> String {
    text.replace(['\n', '\r', '\t'], " ")
}

/// Escapes `&`, `<` and `>` so a markup-capable server shows them as text.
pub fn escape_markup(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A notification could not be shown.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// No notification server owns `org.freedesktop.Notifications` (or no session bus).
    #[error("no notification daemon: {0}")]
    NoDaemon(String),
}

/// Shows notifications. Implementations must not block the caller for long.
pub trait Notifier: Send + Sync {
    /// Shows `content`.
    fn notify(&self, content: &NotificationContent) -> Result<(), NotifyError>;
}

/// Called when a person chose "Review" on a notification, with what to tell the view
/// ([`NotificationContent::review_update`]: that request, or the inbox for a summary).
pub type ReviewHandler = Arc<dyn Fn(WalletUpdate) + Send + Sync>;

/// Freedesktop notifications through notify-rust (D-Bus).
pub struct DesktopNotifier {
    on_review: ReviewHandler,
}

impl DesktopNotifier {
    /// A notifier that calls `on_review` when the person clicks a notification or "Review".
    pub fn new(on_review: ReviewHandler) -> Self {
        Self { on_review }
    }
}

impl Notifier for DesktopNotifier {
    fn notify(&self, content: &NotificationContent) -> Result<(), NotifyError> {
        let mut n = notify_rust::Notification::new();
        n.appname(APP_NAME)
            .summary(&content.summary)
            .body(&content.body)
            .icon("dialog-password")
            // Clicking the notification itself is the "default" action: also just review.
            .action("default", "Review");
        for (id, label) in &content.actions {
            n.action(id, label);
        }
        let handle = n.show().map_err(|e| NotifyError::NoDaemon(e.to_string()))?;
        let on_review = self.on_review.clone();
        let update = content.review_update();
        // Waiting for the person blocks: one small thread per visible notification.
        let spawned = std::thread::Builder::new()
            .name("notification-action".into())
            .spawn(move || {
                handle.wait_for_action(|action| {
                    if action == REVIEW_ACTION || action == "default" {
                        on_review(update.clone());
                    }
                })
            });
        if let Err(e) = spawned {
            tracing::warn!("cannot wait for notification actions: {e}");
        }
        Ok(())
    }
}

/// Records notifications instead of showing them (tests, and `--no-notifications`).
#[derive(Default)]
pub struct RecordingNotifier {
    shown: std::sync::Mutex<Vec<NotificationContent>>,
}

impl RecordingNotifier {
    /// What was "shown" so far.
    pub fn shown(&self) -> Vec<NotificationContent> {
        self.shown.lock().expect("notifier lock").clone()
    }
}

impl Notifier for RecordingNotifier {
    fn notify(&self, content: &NotificationContent) -> Result<(), NotifyError> {
        self.shown
            .lock()
            .expect("notifier lock")
            .push(content.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbox::tests::summary;

    fn item(reason: &str) -> InboxItem {
        InboxItem {
            owner: std::sync::Arc::new(crate::inbox::Owner {
                pairing: PairingId::named("p1"),
                server: ServerUrl::parse("http://127.0.0.1:8470").unwrap(),
                approver_name: "On call \u{202E}".into(),
            }),
            summary: summary(1, 0, reason),
        }
    }

    #[test]
    fn shows_app_and_reason_and_only_a_review_action() {
        let c = content_for(&item("Refund order 42"));
        assert_eq!(c.summary, "Approval needed: support-agent");
        assert!(c
            .body
            .starts_with("Refund order 42\nPOST http://127.0.0.1:9000/v1/refunds"));
        assert!(
            c.body.ends_with("\nfor On call ⟨U+202E⟩"),
            "names the identity asked: {}",
            c.body
        );
        assert_eq!(
            c.actions,
            vec![("review".to_string(), "Review".to_string())]
        );
        assert!(!c.actions.iter().any(|(id, label)| {
            let l = format!("{id} {label}").to_lowercase();
            l.contains("approve") || l.contains("deny")
        }));
    }

    #[test]
    fn review_on_a_request_focuses_it_and_on_a_summary_shows_the_inbox() {
        let i = item("Refund order 42");
        assert_eq!(
            content_for(&i).review_update(),
            WalletUpdate::Focus {
                pairing: "p1".into(),
                server: "http://127.0.0.1:8470".into(),
                approval_id: i.summary.approval_id,
            }
        );
        let summary = summary_content(7);
        assert_eq!(summary.target, None);
        assert_eq!(summary.review_update(), WalletUpdate::ShowInbox);
    }

    #[test]
    fn markup_and_hidden_characters_cannot_style_or_hide() {
        let c = content_for(&item("<b>urgent</b> & \u{202E}now"));
        assert!(c
            .body
            .starts_with("&lt;b&gt;urgent&lt;/b&gt; &amp; ⟨U+202E⟩now"));
    }

    #[test]
    fn long_reasons_are_cut() {
        let c = content_for(&item(&"x".repeat(10_000)));
        let first_line = c.body.lines().next().unwrap();
        assert_eq!(first_line.chars().count(), REASON_CHARS + 1);
        assert!(first_line.ends_with('…'));
    }

    #[test]
    fn a_flood_is_throttled_then_summarised() {
        use std::time::{Duration, Instant};
        let mut t = NotifyThrottle::new(3, Duration::from_secs(10));
        let t0 = Instant::now();
        let admitted = (0..10).filter(|_| t.admit(t0)).count();
        assert_eq!(admitted, 3);
        assert_eq!(t.take_summary(t0 + Duration::from_secs(1)), 0, "too soon");
        assert_eq!(t.take_summary(t0 + Duration::from_secs(10)), 7);
        assert_eq!(
            t.take_summary(t0 + Duration::from_secs(20)),
            0,
            "nothing left"
        );
        assert!(t.admit(t0 + Duration::from_secs(20)));
        let c = summary_content(7);
        assert_eq!(c.summary, "7 more approval requests are waiting");
        assert_eq!(c.target, None);
    }

    #[test]
    fn recording_notifier_records() {
        let n = RecordingNotifier::default();
        n.notify(&content_for(&item("a"))).unwrap();
        assert_eq!(n.shown().len(), 1);
    }
}
