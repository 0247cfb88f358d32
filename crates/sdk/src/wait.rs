//! The wait loop: long polls until the approval is final or the local deadline passes.

use crate::client::{view_of, Answer, Client};
use crate::error::Error;
use crate::outcome::{settle, ApprovalResult};
use reqwest::StatusCode;
use std::time::Duration;
use tokio::time::{sleep_until, Instant};
use uuid::Uuid;

/// The longest hold the protocol allows for `?wait=`.
pub(crate) const MAX_WAIT_SECS: u64 = 25;
/// The least time between two polls, even if a service answers an open approval at once.
const MIN_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// First backoff delay after a transient failure.
const BACKOFF_BASE: Duration = Duration::from_millis(250);
/// Largest backoff delay.
const BACKOFF_CAP: Duration = Duration::from_secs(8);

/// See [`Client::wait`].
pub(crate) async fn wait(
    client: &Client,
    approval_id: Uuid,
    timeout: Duration,
) -> Result<ApprovalResult, Error> {
    let deadline = Instant::now() + timeout;
    let mut backoff = Backoff::default();
    loop {
        let started = Instant::now();
        let left = deadline.saturating_duration_since(started);
        let wait_secs = left.as_secs().clamp(1, MAX_WAIT_SECS);
        match poll_once(client, approval_id, wait_secs).await {
            Polled::Final(outcome) => return outcome,
            Polled::Open(status) => {
                backoff.reset();
                tracing::debug!(%approval_id, %status, "approval still open");
                // A service should hold the answer; never spin if it does not.
                sleep_until((started + MIN_POLL_INTERVAL).min(deadline)).await;
            }
            Polled::Retry { cause, retry_after } => {
                // Honour Retry-After, but never retry faster than the backoff.
                let backoff_delay = backoff.next_delay();
                let delay = retry_after.map_or(backoff_delay, |r| r.max(backoff_delay));
                tracing::warn!(%approval_id, error = %cause, ?delay, "waiting for approval: service unavailable, retrying");
                sleep_until((Instant::now() + delay).min(deadline)).await;
            }
            Polled::Fatal(error) => return Err(error),
        }
        if Instant::now() >= deadline {
            return Err(Error::Timeout { approval_id });
        }
    }
}

/// What one poll said.
enum Polled {
    /// The approval is final: its result or outcome error.
    Final(Result<ApprovalResult, Error>),
    /// Still pending, approved or executing.
    Open(countersign_core::ApprovalStatus),
    /// The service could not answer now; try again.
    Retry {
        cause: Error,
        retry_after: Option<Duration>,
    },
    /// An error that waiting will not fix.
    Fatal(Error),
}

async fn poll_once(client: &Client, approval_id: Uuid, wait_secs: u64) -> Polled {
    let answer: Answer = match client.poll(approval_id, wait_secs).await {
        Ok(answer) => answer,
        Err(Error::Transport(e)) if is_transient(&e) => {
            return Polled::Retry {
                cause: Error::Transport(e),
                retry_after: None,
            }
        }
        Err(other) => return Polled::Fatal(other),
    };
    if is_retryable_status(answer.status) {
        return Polled::Retry {
            cause: Error::from_response(answer.status, &answer.body),
            retry_after: answer.retry_after,
        };
    }
    match view_of(approval_id, answer) {
        Ok(view) if view.status.is_final() => Polled::Final(settle(view)),
        Ok(view) => Polled::Open(view.status),
        Err(error) => Polled::Fatal(error),
    }
}

/// Gateway errors and rate limiting pass; other refusals do not.
fn is_retryable_status(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT
            | StatusCode::TOO_MANY_REQUESTS
    )
}

/// Connection refused or reset, a dropped connection, a timed-out poll, a body cut short.
fn is_transient(e: &reqwest::Error) -> bool {
    e.is_connect() || e.is_timeout() || e.is_request() || e.is_body() || e.is_decode()
}

/// Capped exponential backoff with jitter: the n-th delay is drawn from
/// `[d/2, d]` with `d = min(cap, base · 2ⁿ)`.
#[derive(Debug, Default)]
struct Backoff {
    attempt: u32,
}

impl Backoff {
    fn next_delay(&mut self) -> Duration {
        let ceiling = BACKOFF_BASE
            .saturating_mul(1u32 << self.attempt.min(16))
            .min(BACKOFF_CAP);
        self.attempt = self.attempt.saturating_add(1);
        let half = ceiling / 2;
        half + half.mul_f64(jitter())
    }

    fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// A uniform number in `[0, 1)`.
fn jitter() -> f64 {
    let bytes = countersign_core::encoding::random_bytes::<8>();
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let mut b = Backoff::default();
        let delays: Vec<Duration> = (0..20).map(|_| b.next_delay()).collect();
        assert!(delays[0] >= BACKOFF_BASE / 2 && delays[0] <= BACKOFF_BASE);
        assert!(delays.iter().all(|d| *d <= BACKOFF_CAP));
        assert!(delays[19] >= BACKOFF_CAP / 2);
        b.reset();
        assert!(b.next_delay() <= BACKOFF_BASE);
    }

    #[test]
    fn jitter_is_in_range() {
        for _ in 0..1000 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j));
        }
    }

    #[test]
    fn only_gateway_errors_and_429_are_retried() {
        assert!(is_retryable_status(StatusCode::SERVICE_UNAVAILABLE));
        assert!(is_retryable_status(StatusCode::TOO_MANY_REQUESTS));
        assert!(!is_retryable_status(StatusCode::NOT_FOUND));
        assert!(!is_retryable_status(StatusCode::INTERNAL_SERVER_ERROR));
    }
}
