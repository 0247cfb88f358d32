//! Wallet challenges and session tokens: their lifetimes and bounds, and [`WalletSession`].
//!
//! Both live in the database (see `store::sessions`), so every replica knows them: a device
//! that signs in through one replica is signed in on all of them, and survives a restart. A
//! nonce works once and for a minute; a token for fifteen minutes. A token is only as good as
//! its device: every request's lookup joins the device, so a revoked key's tokens stop working
//! at once (see `routes::extract::WalletAuth`).

use countersign_core::Timestamp;
use std::time::Duration;

/// How long a challenge nonce works.
pub const NONCE_TTL: Duration = Duration::from_secs(60);
/// How long a session token works.
pub const TOKEN_TTL: Duration = Duration::from_secs(15 * 60);
/// The most outstanding nonces, and the most live tokens, of all keys together (a storage
/// bound: beyond it new ones are refused until some expire).
pub const MAX_OUTSTANDING: usize = 10_000;
/// The most outstanding nonces of one device key; a new one drops its oldest, so one key's
/// flood never keeps another key from signing in (with room for a device signing in a few
/// dozen times at once).
pub const MAX_NONCES_PER_KEY: usize = 32;
/// The most live session tokens of one device key; a new sign-in drops its oldest, so one
/// key's sign-ins never fill the global bound.
pub const MAX_TOKENS_PER_KEY: usize = 64;

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
