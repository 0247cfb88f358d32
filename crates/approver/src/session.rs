//! The Wallet session: a short-lived bearer token obtained by challenge–response with the
//! device key, held in memory only.
//!
//! `POST /v1/wallet/challenge {key_id}` gives a nonce; the device signs
//! `"countersign/session/v1\n" || nonce` ([`countersign_core::session::sign_nonce`]) and
//! `POST /v1/wallet/session {key_id, nonce, signature}` gives `{token, expires_at}`.
//!
//! The token is renewed shortly before its `expires_at` (by this machine's clock) and whenever
//! the service answers 401; one lock serialises sign-ins so concurrent requests share a token.

use crate::client::read_json;
use crate::error::ApproverError;
use crate::pairing::Pairing;
use countersign_core::api::{Challenge, ChallengeRequest, SessionRequest, SessionToken};
use countersign_core::keys::SigningKey;
use countersign_core::session::sign_nonce;
use countersign_core::Timestamp;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Signs in once: challenge, signature, token.
pub(crate) async fn sign_in(
    http: &reqwest::Client,
    pairing: &Pairing,
    key: &SigningKey,
) -> Result<SessionToken, ApproverError> {
    let challenge: Challenge = read_json(
        http.post(pairing.server.endpoint("/v1/wallet/challenge"))
            .json(&ChallengeRequest {
                key_id: pairing.key_id.clone(),
            })
            .send()
            .await?,
    )
    .await?;
    let signature = sign_nonce(key, &challenge.nonce);
    read_json(
        http.post(pairing.server.endpoint("/v1/wallet/session"))
            .json(&SessionRequest {
                key_id: pairing.key_id.clone(),
                nonce: challenge.nonce,
                signature,
            })
            .send()
            .await?,
    )
    .await
}

/// How long after receiving a token with `lifetime_secs` left to renew it: a tenth of the
/// lifetime early, at least 1 s and at most 60 s; at once when it is already (nearly) over.
pub(crate) fn renew_after(lifetime_secs: i64) -> Duration {
    let lifetime = u64::try_from(lifetime_secs).unwrap_or(0);
    let lead = (lifetime / 10).clamp(1, 60);
    Duration::from_secs(lifetime.saturating_sub(lead))
}

/// A token and when to stop using it. Deliberately not `Debug`: the token is a credential.
struct Token {
    value: String,
    expires_at: Timestamp,
    renew_at: Instant,
}

/// The session state of one client.
pub(crate) struct Session {
    current: Mutex<Option<Token>>,
}

impl Session {
    /// No token yet; the first request signs in.
    pub(crate) fn new() -> Self {
        Self {
            current: Mutex::new(None),
        }
    }

    /// A token to use now: the held one while it is fresh, else a new one.
    pub(crate) async fn token(
        &self,
        http: &reqwest::Client,
        pairing: &Pairing,
        key: &SigningKey,
    ) -> Result<String, ApproverError> {
        let mut current = self.current.lock().await;
        if let Some(token) = current.as_ref().filter(|t| Instant::now() < t.renew_at) {
            return Ok(token.value.clone());
        }
        Ok(Self::renew(&mut current, http, pairing, key).await?.0)
    }

    /// After the service refused `rejected` with 401: a new token, unless another request
    /// already replaced it, in which case the replacement.
    pub(crate) async fn replace(
        &self,
        rejected: &str,
        http: &reqwest::Client,
        pairing: &Pairing,
        key: &SigningKey,
    ) -> Result<String, ApproverError> {
        let mut current = self.current.lock().await;
        if let Some(token) = current.as_ref().filter(|t| t.value != rejected) {
            return Ok(token.value.clone());
        }
        Ok(Self::renew(&mut current, http, pairing, key).await?.0)
    }

    /// Signs in now, replacing any held token; returns its expiry.
    pub(crate) async fn force(
        &self,
        http: &reqwest::Client,
        pairing: &Pairing,
        key: &SigningKey,
    ) -> Result<Timestamp, ApproverError> {
        let mut current = self.current.lock().await;
        let (_, expires_at) = Self::renew(&mut current, http, pairing, key).await?;
        Ok(expires_at)
    }

    /// Forgets the token (e.g. when the device is being unpaired).
    pub(crate) async fn clear(&self) {
        *self.current.lock().await = None;
    }

    async fn renew(
        current: &mut Option<Token>,
        http: &reqwest::Client,
        pairing: &Pairing,
        key: &SigningKey,
    ) -> Result<(String, Timestamp), ApproverError> {
        *current = None;
        let token = Self::hold(sign_in(http, pairing, key).await?);
        let out = (token.value.clone(), token.expires_at);
        *current = Some(token);
        Ok(out)
    }

    fn hold(fresh: SessionToken) -> Token {
        let lifetime = Timestamp::now().seconds_until(&fresh.expires_at);
        Token {
            value: fresh.token,
            expires_at: fresh.expires_at,
            renew_at: Instant::now() + renew_after(lifetime),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_renewed_before_they_expire() {
        assert_eq!(renew_after(900), Duration::from_secs(840));
        assert_eq!(renew_after(300), Duration::from_secs(270));
        assert_eq!(renew_after(5), Duration::from_secs(4));
        assert_eq!(renew_after(1), Duration::ZERO);
        assert_eq!(renew_after(0), Duration::ZERO);
        // A clock ahead of the service's: renew every time rather than never.
        assert_eq!(renew_after(-30), Duration::ZERO);
    }
}
