//! Wallet challenges and session tokens, kept in memory only.
//!
//! A nonce works once and for a minute; a token for fifteen minutes. A restart forgets both,
//! and Wallets sign in again. A token is only as good as its device: every request also checks
//! in the database that the key has not been revoked (see `routes::extract::WalletAuth`).

use countersign_core::encoding::random_token;
use countersign_core::Timestamp;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// How long a challenge nonce works.
pub const NONCE_TTL: Duration = Duration::from_secs(60);
/// How long a session token works.
pub const TOKEN_TTL: Duration = Duration::from_secs(15 * 60);
const MAX_OUTSTANDING: usize = 10_000;

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
    nonces: Mutex<HashMap<String, (String, Timestamp)>>,
    tokens: Mutex<HashMap<String, WalletSession>>,
}

fn prune<V>(map: &mut HashMap<String, V>, now: Timestamp, expiry: impl Fn(&V) -> Timestamp) {
    if map.len() >= MAX_OUTSTANDING / 2 {
        map.retain(|_, v| expiry(v) > now);
    }
}

impl WalletSessions {
    /// A fresh nonce for `key_id`; `None` when too many are outstanding.
    pub fn challenge(&self, key_id: &str, now: Timestamp) -> Option<(String, Timestamp)> {
        let mut nonces = self.nonces.lock().expect("nonce map poisoned");
        prune(&mut nonces, now, |(_, exp)| *exp);
        if nonces.len() >= MAX_OUTSTANDING {
            return None;
        }
        let nonce = random_token();
        let expires_at = now.plus(NONCE_TTL);
        nonces.insert(nonce.clone(), (key_id.to_string(), expires_at));
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
