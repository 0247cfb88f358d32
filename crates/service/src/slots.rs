//! [`Slots`]: caps on concurrent long-lived requests per key (event streams per device key,
//! long polls per app), so one client cannot hold every connection the service has.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Event streams one device key may hold open at once.
pub const MAX_STREAMS_PER_KEY: usize = 4;
/// Long polls (`?wait=`) one app may hold open at once.
pub const MAX_LONG_POLLS_PER_APP: usize = 64;

/// Up to `cap` concurrent holders per key.
#[derive(Debug)]
pub struct Slots {
    cap: usize,
    held: Arc<Mutex<HashMap<String, usize>>>,
}

/// One held slot; dropping it frees the slot.
#[derive(Debug)]
pub struct Slot {
    held: Arc<Mutex<HashMap<String, usize>>>,
    key: String,
}

impl Slots {
    /// At most `cap` per key.
    pub fn new(cap: usize) -> Self {
        Self {
            cap,
            held: Arc::default(),
        }
    }

    /// The cap.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// A slot for `key`; `None` when `key` holds `cap` already.
    pub fn take(&self, key: &str) -> Option<Slot> {
        let mut held = self.held.lock().expect("slot map poisoned");
        let n = held.entry(key.to_string()).or_default();
        if *n >= self.cap {
            return None;
        }
        *n += 1;
        Some(Slot {
            held: self.held.clone(),
            key: key.to_string(),
        })
    }

    /// How many `key` holds now.
    pub fn held(&self, key: &str) -> usize {
        let held = self.held.lock().expect("slot map poisoned");
        held.get(key).copied().unwrap_or(0)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut held = self.held.lock().expect("slot map poisoned");
        if let Some(n) = held.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_has_its_own_cap_and_dropping_frees() {
        let slots = Slots::new(2);
        let a1 = slots.take("a").unwrap();
        let a2 = slots.take("a").unwrap();
        assert!(slots.take("a").is_none());
        let _b = slots.take("b").expect("another key is not affected");
        drop(a1);
        assert_eq!(slots.held("a"), 1);
        let a3 = slots.take("a").unwrap();
        assert!(slots.take("a").is_none());
        drop(a3);
        drop(a2);
        assert_eq!(slots.held("a"), 0);
        assert!(
            !slots.held.lock().unwrap().contains_key("a"),
            "no leftovers"
        );
    }
}
