//! Wallet challenges and session tokens, kept in memory only.
//!
//! A nonce works once and for a minute; a token for fifteen minutes. A restart forgets both,
//! and Wallets sign in again. A token is only as good as its device: every request also checks
//! in the database that the key has not been revoked (see `routes::extract::WalletAuth`).

use countersign_core::encoding::random_token;
use countersign_core::Timestamp;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

/// How long a challenge nonce works.
pub const NONCE_TTL: Duration = Duration::from_secs(60);
/// How long a session token works.
pub const TOKEN_TTL: Duration = Duration::from_secs(15 * 60);
/// The most nonces or tokens kept in all (a memory bound).
const MAX_OUTSTANDING: usize = 10_000;
/// The most outstanding nonces of one device key; a new one drops its oldest, so one key's
/// flood never keeps another key from signing in (with room for a device signing in a few
/// dozen times at once).
pub const MAX_NONCES_PER_KEY: usize = 32;

/// An authenticated Wallet device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletSession {
    /// The approver.
    pub approver_id: String,
    /// The device key that signed in.
    pub key_id: String,
    /// When the token stops working.
    pub expires_at: Timestamp,
}

/// Outstanding nonces and live tokens.
#[derive(Debug, Default)]
pub struct WalletSessions {
    nonces: Mutex<Nonces>,
    tokens: Mutex<HashMap<String, WalletSession>>,
}

/// Outstanding nonces, by nonce and by key (oldest first).
#[derive(Debug, Default)]
struct Nonces {
    by_nonce: HashMap<String, (String, Timestamp)>,
    by_key: HashMap<String, VecDeque<String>>,
    /// When expired nonces were last swept (at most once a second, so a flood costs no
    /// full scan per request).
    swept_at: Option<Timestamp>,
}

impl Nonces {
    fn remove(&mut self, nonce: &str) -> Option<(String, Timestamp)> {
        let (key, exp) = self.by_nonce.remove(nonce)?;
        if let Some(queue) = self.by_key.get_mut(&key) {
            queue.retain(|n| n != nonce);
            if queue.is_empty() {
                self.by_key.remove(&key);
            }
        }
        Some((key, exp))
    }

    fn prune(&mut self, now: Timestamp) {
        if self.by_nonce.len() >= MAX_OUTSTANDING / 2 && self.swept_at != Some(now) {
            self.swept_at = Some(now);
            self.by_nonce.retain(|_, (_, exp)| *exp > now);
            let live = &self.by_nonce;
            self.by_key.retain(|_, queue| {
                queue.retain(|n| live.contains_key(n));
                !queue.is_empty()
            });
        }
    }
}

fn prune<V>(map: &mut HashMap<String, V>, now: Timestamp, expiry: impl Fn(&V) -> Timestamp) {
    if map.len() >= MAX_OUTSTANDING / 2 {
        map.retain(|_, v| expiry(v) > now);
    }
}

impl WalletSessions {
    /// A fresh nonce for `key_id` (dropping the key's oldest beyond [`MAX_NONCES_PER_KEY`]);
    /// `None` when too many are outstanding in all.
    pub fn challenge(&self, key_id: &str, now: Timestamp) -> Option<(String, Timestamp)> {
        let mut nonces = self.nonces.lock().expect("nonce map poisoned");
        nonces.prune(now);
        let own = nonces.by_key.get(key_id).map_or(0, VecDeque::len);
        if own >= MAX_NONCES_PER_KEY {
            let oldest = nonces.by_key[key_id][0].clone();
            nonces.remove(&oldest);
        } else if nonces.by_nonce.len() >= MAX_OUTSTANDING {
            return None;
        }
        let nonce = random_token();
        let expires_at = now.plus(NONCE_TTL);
        nonces
            .by_nonce
            .insert(nonce.clone(), (key_id.to_string(), expires_at));
        nonces
            .by_key
            .entry(key_id.to_string())
            .or_default()
            .push_back(nonce.clone());
        Some((nonce, expires_at))
    }

    /// Uses up `nonce`; true when it was issued to `key_id` and is still valid.
    pub fn take_nonce(&self, nonce: &str, key_id: &str, now: Timestamp) -> bool {
        let mut nonces = self.nonces.lock().expect("nonce map poisoned");
        matches!(nonces.remove(nonce), Some((k, exp)) if k == key_id && now < exp)
    }

    /// Issues a token for a verified device.
    pub fn open(&self, approver_id: &str, key_id: &str, now: Timestamp) -> (String, WalletSession) {
        let mut tokens = self.tokens.lock().expect("token map poisoned");
        prune(&mut tokens, now, |s| s.expires_at);
        let token = random_token();
        let session = WalletSession {
            approver_id: approver_id.to_string(),
            key_id: key_id.to_string(),
            expires_at: now.plus(TOKEN_TTL),
        };
        tokens.insert(token.clone(), session.clone());
        (token, session)
    }

    /// Drops a token (its device was revoked).
    pub fn forget(&self, token: &str) {
        self.tokens
            .lock()
            .expect("token map poisoned")
            .remove(token);
    }

    /// The session of a live token.
    pub fn lookup(&self, token: &str, now: Timestamp) -> Option<WalletSession> {
        let tokens = self.tokens.lock().expect("token map poisoned");
        tokens.get(token).filter(|s| now < s.expires_at).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_works_once_for_its_key_and_in_time() {
        let s = WalletSessions::default();
        let now = Timestamp::from_unix(1_800_000_000).unwrap();
        let (n, _) = s.challenge("k1", now).unwrap();
        assert!(!s.take_nonce(&n, "k2", now), "other key");
        let (n, _) = s.challenge("k1", now).unwrap();
        assert!(s.take_nonce(&n, "k1", now));
        assert!(!s.take_nonce(&n, "k1", now), "second use");
        let (n, _) = s.challenge("k1", now).unwrap();
        assert!(!s.take_nonce(&n, "k1", now.plus(NONCE_TTL)), "late");
    }

    #[test]
    fn one_key_flooding_drops_its_own_oldest_nonces_only() {
        let s = WalletSessions::default();
        let now = Timestamp::from_unix(1_800_000_000).unwrap();
        let (other, _) = s.challenge("k2", now).unwrap();
        let (first, _) = s.challenge("k1", now).unwrap();
        let mut last = String::new();
        for _ in 0..2 * MAX_OUTSTANDING {
            last = s.challenge("k1", now).unwrap().0;
        }
        {
            let nonces = s.nonces.lock().unwrap();
            assert_eq!(nonces.by_nonce.len(), MAX_NONCES_PER_KEY + 1);
            assert_eq!(nonces.by_key["k1"].len(), MAX_NONCES_PER_KEY);
        }
        assert!(!s.take_nonce(&first, "k1", now), "the oldest was dropped");
        assert!(s.take_nonce(&last, "k1", now));
        assert!(
            s.take_nonce(&other, "k2", now),
            "another key's nonce survives"
        );
        assert!(s.challenge("k3", now).is_some());
    }

    #[test]
    fn the_global_bound_holds_and_expired_nonces_make_room() {
        let s = WalletSessions::default();
        let now = Timestamp::from_unix(1_800_000_000).unwrap();
        for i in 0..MAX_OUTSTANDING {
            assert!(s.challenge(&format!("k{i}"), now).is_some());
        }
        assert!(s.challenge("one-more", now).is_none(), "memory bound");
        // Once they expire, there is room again, and the per-key index is pruned too.
        let later = now.plus(NONCE_TTL);
        let (n, _) = s.challenge("late", later).unwrap();
        let nonces = s.nonces.lock().unwrap();
        assert_eq!(nonces.by_nonce.len(), 1);
        assert_eq!(nonces.by_key.len(), 1);
        assert_eq!(nonces.by_key["late"][0], n);
    }

    #[test]
    fn tokens_expire() {
        let s = WalletSessions::default();
        let now = Timestamp::from_unix(1_800_000_000).unwrap();
        let (t, _) = s.open("alice", "k1", now);
        assert_eq!(s.lookup(&t, now).unwrap().approver_id, "alice");
        assert!(s.lookup(&t, now.plus(TOKEN_TTL)).is_none());
        assert!(s.lookup("nope", now).is_none());
        s.forget(&t);
        assert!(s.lookup(&t, now).is_none());
    }
}
