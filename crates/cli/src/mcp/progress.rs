//! Progress notifications while a call waits for a person's decision: when the client sent a
//! progress token with its `tools/call`, the gateway tells it every
//! [`PROGRESS_EVERY`] that the call is still waiting (seconds waited out of the wait's
//! length), until the outcome or the end of the wait.

use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::service::{Peer, RequestContext, RoleServer};
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// How often a waiting call reports progress.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Where progress goes: the client and the token of its request.
#[derive(Clone)]
pub struct Reporter {
    peer: Peer<RoleServer>,
    token: ProgressToken,
}

impl Reporter {
    /// A reporter for the request of `context`, when the client asked for progress.
    pub fn for_request(context: &RequestContext<RoleServer>) -> Option<Self> {
        context.meta.get_progress_token().map(|token| Self {
            peer: context.peer.clone(),
            token,
        })
    }

    async fn report(&self, waited: Duration, total: Duration, message: &str) {
        let param = ProgressNotificationParam::new(self.token.clone(), round(waited))
            .with_total(round(total))
            .with_message(message);
        if let Err(error) = self.peer.notify_progress(param).await {
            tracing::debug!(%error, "could not send a progress notification");
        }
    }
}

/// Seconds with one decimal, so that each report's progress is larger than the last.
fn round(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 10.0).round() / 10.0
}

/// Runs `wait` (a wait of at most `total`), reporting progress with `message` every
/// [`PROGRESS_EVERY`] when there is a reporter; returns what `wait` returns.
pub async fn while_waiting<T>(
    reporter: Option<&Reporter>,
    total: Duration,
    message: &str,
    wait: impl Future<Output = T>,
) -> T {
    let Some(reporter) = reporter else {
        return wait.await;
    };
    let started = Instant::now();
    let mut ticks = tokio::time::interval_at(started + PROGRESS_EVERY, PROGRESS_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    tokio::pin!(wait);
    loop {
        tokio::select! {
            outcome = &mut wait => return outcome,
            _ = ticks.tick() => {
                let waited = started.elapsed().min(total);
                reporter.report(waited, total, message).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_is_in_tenths_of_seconds() {
        assert_eq!(round(Duration::from_millis(1049)), 1.0);
        assert_eq!(round(Duration::from_millis(1051)), 1.1);
        assert_eq!(round(Duration::from_secs(600)), 600.0);
    }

    #[tokio::test]
    async fn without_a_reporter_the_wait_is_returned_as_is() {
        let got = while_waiting(None, Duration::from_secs(5), "m", async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            7
        })
        .await;
        assert_eq!(got, 7);
    }
}
