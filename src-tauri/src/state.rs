//! The state managed once at start-up: the Wallet and the links waiting for the view.

use countersign_wallet::Wallet;
use std::sync::Mutex;

/// Everything commands need.
pub struct AppState {
    /// The approver logic.
    pub wallet: Wallet,
    /// Links received before the view was ready.
    pub links: Mutex<LinkQueue>,
}

impl AppState {
    /// State around a started Wallet.
    pub fn new(wallet: Wallet) -> Self {
        Self {
            wallet,
            links: Mutex::new(LinkQueue::default()),
        }
    }
}

/// Links are queued until the view says it listens, then emitted as they come.
#[derive(Debug, Default)]
pub struct LinkQueue {
    /// True once the view listens for `open-link` events.
    pub ready: bool,
    /// Links received before that.
    pub queued: Vec<String>,
}

impl LinkQueue {
    /// Takes a link: returns it when it should be emitted now, or queues it.
    pub fn push(&mut self, link: String) -> Option<String> {
        if self.ready {
            Some(link)
        } else {
            if !self.queued.contains(&link) {
                self.queued.push(link);
            }
            None
        }
    }

    /// The view is listening: returns what was queued.
    pub fn mark_ready(&mut self) -> Vec<String> {
        self.ready = true;
        std::mem::take(&mut self.queued)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_wait_for_the_view_then_flow() {
        let mut q = LinkQueue::default();
        assert_eq!(q.push("a".into()), None);
        assert_eq!(q.push("a".into()), None);
        assert_eq!(q.mark_ready(), vec!["a".to_string()]);
        assert_eq!(q.push("b".into()), Some("b".into()));
    }
}
