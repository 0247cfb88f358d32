//! Where the view should go next: links and notification clicks wait here, in the tray
//! process, while no window process listens, and are handed to the next view when it says it
//! listens (`ui_ready`).

use countersign_wallet::WalletUpdate;
use serde::Serialize;

/// Somewhere the view should go: a `countersign://` link, or a notification's request or the
/// inbox ([`WalletUpdate::Focus`] / [`WalletUpdate::ShowInbox`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Navigation {
    /// A link, as received (the view asks `open_link` what it means).
    Link {
        /// The link text.
        link: String,
    },
    /// A Wallet update that moves the view.
    Update {
        /// The update.
        update: WalletUpdate,
    },
}

/// Navigations wait here while no view listens (no window, or one still loading) and are
/// handed to the view when it says it listens ([`ViewQueue::mark_ready`]); while it listens
/// they are emitted as they come. Closing the window makes the queue wait again, so a link or
/// a notification's click that starts a new window process is never lost on the way.
#[derive(Debug, Default)]
pub struct ViewQueue {
    ready: bool,
    queued: Vec<Navigation>,
}

impl ViewQueue {
    /// At most this many navigations wait (the oldest are dropped): only the last ones matter.
    pub const MAX: usize = 16;

    /// Takes a navigation: returns it when it should be emitted now, or queues it.
    pub fn push(&mut self, nav: Navigation) -> Option<Navigation> {
        if self.ready {
            return Some(nav);
        }
        self.queued.retain(|n| n != &nav);
        self.queued.push(nav);
        if self.queued.len() > Self::MAX {
            self.queued.remove(0);
        }
        None
    }

    /// The view is listening: returns what waited, oldest first.
    pub fn mark_ready(&mut self) -> Vec<Navigation> {
        self.ready = true;
        std::mem::take(&mut self.queued)
    }

    /// The view is gone (its window closed): navigations wait for the next one.
    pub fn view_closed(&mut self) {
        self.ready = false;
    }

    /// True while a view listens.
    pub fn ready(&self) -> bool {
        self.ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(s: &str) -> Navigation {
        Navigation::Link { link: s.into() }
    }

    #[test]
    fn navigations_wait_for_the_view_then_flow() {
        let mut q = ViewQueue::default();
        assert_eq!(q.push(link("a")), None);
        assert_eq!(q.push(link("a")), None);
        let inbox = Navigation::Update {
            update: WalletUpdate::ShowInbox,
        };
        assert_eq!(q.push(inbox.clone()), None);
        assert_eq!(q.mark_ready(), vec![link("a"), inbox]);
        assert_eq!(q.push(link("b")), Some(link("b")));
    }

    #[test]
    fn a_closed_view_makes_them_wait_again_for_the_next_one() {
        let mut q = ViewQueue::default();
        q.mark_ready();
        q.view_closed();
        assert!(!q.ready());
        assert_eq!(q.push(link("c")), None);
        assert_eq!(q.mark_ready(), vec![link("c")]);
        assert!(q.mark_ready().is_empty(), "handed over once");
    }

    #[test]
    fn a_repeated_navigation_moves_to_the_end_and_the_queue_is_bounded() {
        let mut q = ViewQueue::default();
        q.push(link("a"));
        q.push(link("b"));
        q.push(link("a"));
        assert_eq!(q.mark_ready(), vec![link("b"), link("a")]);
        q.view_closed();
        for i in 0..(ViewQueue::MAX + 5) {
            q.push(link(&i.to_string()));
        }
        let kept = q.mark_ready();
        assert_eq!(kept.len(), ViewQueue::MAX);
        assert_eq!(kept[0], link("5"));
    }

    #[test]
    fn navigations_reach_the_view_tagged() {
        let json = serde_json::to_value(link("countersign://x")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "link", "link": "countersign://x"})
        );
        let json = serde_json::to_value(Navigation::Update {
            update: WalletUpdate::ShowInbox,
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "update", "update": {"type": "show_inbox"}})
        );
    }
}
