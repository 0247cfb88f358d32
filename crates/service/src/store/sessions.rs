//! Wallet challenge nonces and session tokens, in the database so every replica knows them.
//!
//! A nonce works once, for the key it was issued to, until it expires; a key holds at most
//! [`MAX_NONCES_PER_KEY`] (a new one drops its oldest, so one key's flood never keeps another
//! key from signing in), and all keys together at most [`MAX_OUTSTANDING`] (then challenges are
//! refused until some expire). Tokens are kept by their SHA-256 only: the token is a bearer
//! secret and is never at rest. A key holds at most [`MAX_TOKENS_PER_KEY`] live tokens (a new
//! sign-in drops its oldest) and all keys together at most [`MAX_OUTSTANDING`]. Expired rows
//! are deleted whenever a new one is written. A token is only as good as its device: the
//! lookup joins the device, so a revoked device's tokens stop working at once, everywhere.

use super::{Store, StoreError};
use crate::wallet_auth::{
    WalletSession, MAX_NONCES_PER_KEY, MAX_OUTSTANDING, MAX_TOKENS_PER_KEY, NONCE_TTL, TOKEN_TTL,
};
use countersign_core::encoding::{random_token, sha256_hex};
use countersign_core::Timestamp;
use sqlx::{Any, Transaction};

/// What a session token stands for now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenLookup {
    /// A live token of a live device.
    Live(WalletSession),
    /// A live token whose device has been revoked (or is no longer registered).
    Revoked,
    /// No such token, or it has expired.
    Unknown,
}

/// A session joined with its device: approver, key, expiry, the device's key id (`None`:
/// not registered) and when it was revoked.
type SessionRow = (String, String, i64, Option<String>, Option<i64>);

/// The hash a token is stored by.
fn token_hash(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// One of the two tables of outstanding rows, for the bounds both share.
#[derive(Clone, Copy)]
enum Table {
    Nonces,
    Sessions,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Nonces => "wallet_nonces",
            Table::Sessions => "wallet_sessions",
        }
    }

    fn per_key(self) -> usize {
        match self {
            Table::Nonces => MAX_NONCES_PER_KEY,
            Table::Sessions => MAX_TOKENS_PER_KEY,
        }
    }
}

/// Makes room in `table` for one more row of `key_id` at `now`: deletes expired rows and the
/// key's oldest beyond its bound; false when all keys together hold [`MAX_OUTSTANDING`] rows.
async fn make_room(
    tx: &mut Transaction<'static, Any>,
    table: Table,
    key_id: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let name = table.name();
    sqlx::query(&format!("DELETE FROM {name} WHERE expires_at <= $1"))
        .bind(now.unix())
        .execute(&mut **tx)
        .await?;
    let own: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {name} WHERE key_id = $1"))
        .bind(key_id)
        .fetch_one(&mut **tx)
        .await?;
    let per_key = i64::try_from(table.per_key()).unwrap_or(i64::MAX);
    if own >= per_key {
        sqlx::query(&format!(
            "DELETE FROM {name} WHERE id IN \
             (SELECT id FROM {name} WHERE key_id = $1 ORDER BY id LIMIT $2)"
        ))
        .bind(key_id)
        .bind(own - per_key + 1)
        .execute(&mut **tx)
        .await?;
        return Ok(true);
    }
    let all: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {name}"))
        .fetch_one(&mut **tx)
        .await?;
    Ok(all < i64::try_from(MAX_OUTSTANDING).unwrap_or(i64::MAX))
}

impl Store {
    /// A fresh challenge nonce for `key_id` and when it expires (dropping the key's oldest
    /// beyond [`MAX_NONCES_PER_KEY`]); `None` when too many are outstanding in all.
    pub async fn create_nonce(
        &self,
        key_id: &str,
        now: Timestamp,
    ) -> Result<Option<(String, Timestamp)>, StoreError> {
        let mut tx = self.begin_write().await?;
        if !make_room(&mut tx, Table::Nonces, key_id, now).await? {
            return Ok(None);
        }
        let nonce = random_token();
        let expires_at = now.plus(NONCE_TTL);
        sqlx::query("INSERT INTO wallet_nonces (nonce, key_id, expires_at) VALUES ($1, $2, $3)")
            .bind(&nonce)
            .bind(key_id)
            .bind(expires_at.unix())
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await?;
        Ok(Some((nonce, expires_at)))
    }

    /// Uses up `nonce` (whoever presents it); true when it was issued to `key_id` and has not
    /// expired at `now`.
    pub async fn take_nonce(
        &self,
        nonce: &str,
        key_id: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let issued: Option<(String, i64)> = sqlx::query_as(
            "DELETE FROM wallet_nonces WHERE nonce = $1 RETURNING key_id, expires_at",
        )
        .bind(nonce)
        .fetch_optional(&mut *tx)
        .await?;
        self.commit(tx).await?;
        Ok(matches!(issued, Some((k, exp)) if k == key_id && now.unix() < exp))
    }

    /// Issues a session token for a verified device of `approver_id` (dropping the key's
    /// oldest beyond [`MAX_TOKENS_PER_KEY`]); `None` when too many are live in all. Only the
    /// token's SHA-256 is stored.
    pub async fn open_session(
        &self,
        approver_id: &str,
        key_id: &str,
        now: Timestamp,
    ) -> Result<Option<(String, WalletSession)>, StoreError> {
        let mut tx = self.begin_write().await?;
        if !make_room(&mut tx, Table::Sessions, key_id, now).await? {
            return Ok(None);
        }
        let token = random_token();
        let session = WalletSession {
            approver_id: approver_id.to_string(),
            key_id: key_id.to_string(),
            expires_at: now.plus(TOKEN_TTL),
        };
        sqlx::query(
            "INSERT INTO wallet_sessions (token_hash, approver_id, key_id, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash(&token))
        .bind(approver_id)
        .bind(key_id)
        .bind(session.expires_at.unix())
        .execute(&mut *tx)
        .await?;
        self.commit(tx).await?;
        Ok(Some((token, session)))
    }

    /// What `token` stands for at `now`: one read that joins the session with its device.
    pub async fn session(&self, token: &str, now: Timestamp) -> Result<TokenLookup, StoreError> {
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT s.approver_id, s.key_id, s.expires_at, d.key_id, d.revoked_at \
             FROM wallet_sessions s LEFT JOIN devices d ON d.key_id = s.key_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(token_hash(token))
        .bind(now.unix())
        .fetch_optional(&self.reader)
        .await?;
        let Some((approver_id, key_id, expires_at, device, revoked_at)) = row else {
            return Ok(TokenLookup::Unknown);
        };
        if device.is_none() || revoked_at.is_some() {
            return Ok(TokenLookup::Revoked);
        }
        let expires_at = Timestamp::from_unix(expires_at)
            .ok_or_else(|| super::corrupt(format!("session expiry {expires_at}")))?;
        Ok(TokenLookup::Live(WalletSession {
            approver_id,
            key_id,
            expires_at,
        }))
    }
}

#[cfg(test)]
#[path = "sessions_tests.rs"]
mod tests;
