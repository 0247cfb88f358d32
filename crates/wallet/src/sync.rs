//! The sync loop of one paired service: live events over SSE, with reconnection.
//!
//! Each round: open the event stream (resuming after the last event id seen), take a full
//! refresh of the pending list, then apply events until the stream fails or ends. Any break
//! is followed by a delay from [`Backoff`] (exponential, capped, with jitter) and a new round,
//! so a reconnect always brings a full refresh: events lost in a gap cannot leave a stale item.
//! The backoff resets once a connection has stayed up for `stable_after`.
//!
//! A decision that leaves an approval pending changes its progress ("2 of 3"), which the
//! event does not carry: it is followed by a refresh too.

use crate::approver::ApproverError;
use crate::source::ApprovalSource;
use countersign_core::api::{WalletApprovalSummary, WalletEvent, WalletEventKind};
use countersign_core::{ApprovalStatus, ServerUrl};
use futures::StreamExt;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use ts_rs::TS;
use uuid::Uuid;

/// Timing of reconnections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncConfig {
    /// First delay after a failure.
    pub min_backoff: Duration,
    /// Largest delay.
    pub max_backoff: Duration,
    /// A connection up this long resets the delay to `min_backoff`.
    pub stable_after: Duration,
    /// Add up to 25 % random jitter to each delay.
    pub jitter: bool,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            min_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            stable_after: Duration::from_secs(30),
            jitter: true,
        }
    }
}

/// Exponential backoff: `min, 2·min, 4·min, …` up to `max`.
#[derive(Debug, Clone)]
pub struct Backoff {
    config: SyncConfig,
    next: Duration,
}

impl Backoff {
    /// Starts at `config.min_backoff`.
    pub fn new(config: SyncConfig) -> Self {
        Self {
            config,
            next: config.min_backoff,
        }
    }

    /// The delay to wait now; doubles the following one.
    pub fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(self.config.max_backoff);
        if self.config.jitter {
            let [r] = countersign_core::encoding::random_bytes::<1>();
            base + base.mul_f64(f64::from(r) / 255.0 / 4.0)
        } else {
            base
        }
    }

    /// Back to the first delay.
    pub fn reset(&mut self) {
        self.next = self.config.min_backoff;
    }
}

/// At most this many pending requests of one service are kept in the inbox (fetched page by
/// page, [`crate::source::list_all`]).
pub const PENDING_MAX: usize = 10_000;

/// The state of one service's connection, for the view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[derive(TS)]
pub enum SyncStatus {
    /// Opening the stream and refreshing.
    Connecting,
    /// Refreshed and receiving events.
    Live,
    /// Disconnected; the next attempt comes after `retry_in_ms`.
    Retrying {
        /// Why the last attempt ended.
        why: String,
        /// Delay before the next attempt.
        retry_in_ms: u64,
    },
    /// Cannot sync at all (e.g. the key is missing from the keychain).
    Failed {
        /// Why.
        why: String,
    },
}

/// Receives what the sync loop learns.
pub trait SyncSink: Send + Sync + 'static {
    /// One page of a refresh still under way: `rows` are every approval of `server` listed
    /// pending with an id from the last row's up to `before` (excluded; `None`: no bound), as
    /// listed just now. Older ones are left as they are until their page, or
    /// [`SyncSink::refreshed`] with the whole list.
    fn partial(&self, server: &ServerUrl, rows: &[WalletApprovalSummary], before: Option<Uuid>);
    /// A full refresh of `server`'s pending approvals.
    fn refreshed(&self, server: &ServerUrl, rows: Vec<WalletApprovalSummary>);
    /// One live event.
    fn event(&self, server: &ServerUrl, event: WalletEvent);
    /// The connection state changed.
    fn status(&self, server: &ServerUrl, status: SyncStatus);
}

/// Runs the sync loop of `source` forever (stop it by aborting its task).
pub async fn run(source: Arc<dyn ApprovalSource>, sink: Arc<dyn SyncSink>, config: SyncConfig) {
    let server = source.pairing().server.clone();
    let mut last_event_id: Option<u64> = None;
    let mut backoff = Backoff::new(config);
    loop {
        sink.status(&server, SyncStatus::Connecting);
        let why = match round(&*source, &*sink, &server, &mut last_event_id).await {
            Round::Ended { why, up_for } => {
                if up_for >= config.stable_after {
                    backoff.reset();
                }
                why
            }
            Round::RefreshFailed(e) => e.to_string(),
        };
        let delay = backoff.next_delay();
        tracing::info!(%server, ?delay, "wallet sync disconnected: {why}");
        sink.status(
            &server,
            SyncStatus::Retrying {
                why,
                retry_in_ms: delay.as_millis() as u64,
            },
        );
        tokio::time::sleep(delay).await;
    }
}

enum Round {
    RefreshFailed(ApproverError),
    Ended { why: String, up_for: Duration },
}

async fn round(
    source: &dyn ApprovalSource,
    sink: &dyn SyncSink,
    server: &ServerUrl,
    last_event_id: &mut Option<u64>,
) -> Round {
    // Open the stream first, so nothing that happens during the refresh is missed.
    let mut events = match source.events(*last_event_id).await {
        Ok(events) => events,
        Err(e) => return Round::RefreshFailed(e),
    };
    if let Err(e) = refresh(source, sink, server).await {
        return Round::RefreshFailed(e);
    }
    sink.status(server, SyncStatus::Live);
    let started = tokio::time::Instant::now();
    let mut why = "the event stream ended".to_string();
    while let Some(item) = events.next().await {
        match item {
            Ok((id, event)) => {
                *last_event_id = Some(id);
                let progressed = event.kind == WalletEventKind::Decided
                    && event.status == ApprovalStatus::Pending;
                sink.event(server, event);
                if progressed {
                    if let Err(e) = refresh(source, sink, server).await {
                        return Round::RefreshFailed(e);
                    }
                }
            }
            // A broken connection is a last error item; an unreadable event is an error item
            // after which the stream goes on. Either way an event may be lost: refresh.
            Err(e) => {
                why = e.to_string();
                tracing::warn!(%server, "wallet event stream: {why}");
                if let Err(e) = refresh(source, sink, server).await {
                    return Round::RefreshFailed(e);
                }
            }
        }
    }
    Round::Ended {
        why,
        up_for: started.elapsed(),
    }
}

async fn refresh(
    source: &dyn ApprovalSource,
    sink: &dyn SyncSink,
    server: &ServerUrl,
) -> Result<(), ApproverError> {
    // Each page is applied as it arrives (newest first), so the inbox can be drawn from the
    // first one; requests gone since are removed only once the whole list is known.
    let rows = crate::source::list_each(
        source,
        "pending",
        PENDING_MAX,
        crate::source::LIST_FIRST_PAGE,
        &mut |page, before| sink.partial(server, page, before),
    )
    .await?;
    sink.refreshed(server, rows);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::FakeSource;
    use crate::inbox::tests::summary;
    use crate::inbox::Inbox;
    use crate::registry::tests::pairing;
    use countersign_core::api::Progress;
    use std::sync::Mutex;

    /// Applies updates to a real inbox and records statuses.
    #[derive(Default)]
    struct Recorder {
        inbox: Mutex<Inbox>,
        statuses: Mutex<Vec<SyncStatus>>,
    }

    /// One pairing per server in these tests.
    fn owner_of(server: &ServerUrl) -> Arc<crate::inbox::Owner> {
        Arc::new(crate::inbox::Owner {
            pairing: crate::registry::PairingId::named(server.as_str()),
            server: server.clone(),
            approver_name: "alice".into(),
        })
    }

    impl SyncSink for Recorder {
        fn partial(
            &self,
            server: &ServerUrl,
            rows: &[WalletApprovalSummary],
            before: Option<Uuid>,
        ) {
            self.inbox
                .lock()
                .unwrap()
                .merge_service(&owner_of(server), rows, before);
        }
        fn refreshed(&self, server: &ServerUrl, rows: Vec<WalletApprovalSummary>) {
            self.inbox
                .lock()
                .unwrap()
                .replace_service(&owner_of(server), rows);
        }
        fn event(&self, server: &ServerUrl, event: WalletEvent) {
            self.inbox.lock().unwrap().apply(&owner_of(server), &event);
        }
        fn status(&self, _server: &ServerUrl, status: SyncStatus) {
            self.statuses.lock().unwrap().push(status);
        }
    }

    impl Recorder {
        fn reasons(&self) -> Vec<String> {
            let now = crate::inbox::tests::t(1);
            let inbox = self.inbox.lock().unwrap();
            inbox
                .pending(now)
                .into_iter()
                .map(|i| i.summary.reason)
                .collect()
        }
    }

    fn config() -> SyncConfig {
        SyncConfig {
            min_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(8),
            stable_after: Duration::from_secs(60),
            jitter: false,
        }
    }

    async fn settle() {
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn live_events_then_reconnect_with_resume_and_full_refresh() {
        let source = FakeSource::new(pairing("http://127.0.0.1:8470", "alice"));
        source.rows.lock().unwrap().push(summary(1, 0, "first"));
        let first = source.next_stream();
        let second = source.next_stream();
        let sink = Arc::new(Recorder::default());
        let task = tokio::spawn(run(source.clone(), sink.clone(), config()));
        settle().await;
        assert_eq!(sink.reasons(), ["first"]);

        // A live event arrives.
        let row = summary(2, 1, "second");
        first
            .send(Ok((
                41,
                WalletEvent {
                    kind: WalletEventKind::Created,
                    approval_id: row.approval_id,
                    status: ApprovalStatus::Pending,
                    approval: Some(row.clone()),
                },
            )))
            .unwrap();
        settle().await;
        assert_eq!(sink.reasons(), ["second", "first"]);

        // The connection drops; meanwhile "first" was decided elsewhere (its event is lost).
        source.rows.lock().unwrap().retain(|r| r.reason != "first");
        source.rows.lock().unwrap().push(row);
        drop(first);
        settle().await;
        assert!(matches!(
            sink.statuses.lock().unwrap().last(),
            Some(SyncStatus::Retrying {
                retry_in_ms: 1000,
                ..
            })
        ));
        tokio::time::advance(Duration::from_millis(1001)).await;
        settle().await;
        // Resumed after the last id seen, and the refresh removed the stale item.
        assert_eq!(*source.connects.lock().unwrap(), [None, Some(41)]);
        assert_eq!(sink.reasons(), ["second"]);
        assert_eq!(
            sink.statuses.lock().unwrap().last(),
            Some(&SyncStatus::Live)
        );
        drop(second);
        task.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn a_decision_that_leaves_it_pending_refreshes_the_progress() {
        let source = FakeSource::new(pairing("http://127.0.0.1:8470", "alice"));
        let progress = |approvals| {
            Some(Progress {
                approvals,
                needed: 2,
            })
        };
        let mut row = summary(1, 0, "two gates");
        row.progress = progress(0);
        source.rows.lock().unwrap().push(row.clone());
        let stream = source.next_stream();
        let sink = Arc::new(Recorder::default());
        let task = tokio::spawn(run(source.clone(), sink.clone(), config()));
        settle().await;
        let shown = || {
            let inbox = sink.inbox.lock().unwrap();
            inbox.rows(crate::inbox::tests::t(1))[0].progress
        };
        assert_eq!(shown(), progress(0));

        // Bob approves elsewhere; the service now counts one of two.
        source.rows.lock().unwrap()[0].progress = progress(1);
        stream
            .send(Ok((
                7,
                WalletEvent {
                    kind: WalletEventKind::Decided,
                    approval_id: row.approval_id,
                    status: ApprovalStatus::Pending,
                    approval: None,
                },
            )))
            .unwrap();
        settle().await;
        assert_eq!(shown(), progress(1));
        assert_eq!(
            sink.statuses.lock().unwrap().last(),
            Some(&SyncStatus::Live)
        );
        assert_eq!(source.connects.lock().unwrap().len(), 1, "no reconnect");
        drop(stream);
        task.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn failed_refreshes_back_off_exponentially() {
        let source = FakeSource::new(pairing("http://127.0.0.1:8470", "alice"));
        *source.failing_lists.lock().unwrap() = 3;
        let sink = Arc::new(Recorder::default());
        let task = tokio::spawn(run(source.clone(), sink.clone(), config()));
        settle().await;
        for wait in [1000u64, 2000, 4000] {
            assert!(matches!(
                sink.statuses.lock().unwrap().last(),
                Some(SyncStatus::Retrying { retry_in_ms, .. }) if *retry_in_ms == wait
            ));
            tokio::time::advance(Duration::from_millis(wait + 1)).await;
            settle().await;
        }
        assert_eq!(
            sink.statuses.lock().unwrap().last(),
            Some(&SyncStatus::Live)
        );
        assert_eq!(source.connects.lock().unwrap().len(), 4);
        task.abort();
    }

    #[test]
    fn backoff_doubles_caps_and_resets() {
        let mut b = Backoff::new(SyncConfig {
            min_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(5),
            stable_after: Duration::from_secs(10),
            jitter: false,
        });
        let got: Vec<u64> = (0..5).map(|_| b.next_delay().as_secs()).collect();
        assert_eq!(got, [1, 2, 4, 5, 5]);
        b.reset();
        assert_eq!(b.next_delay().as_secs(), 1);
    }

    #[test]
    fn jitter_stays_within_a_quarter() {
        let mut b = Backoff::new(SyncConfig {
            jitter: true,
            ..SyncConfig::default()
        });
        for _ in 0..50 {
            b.reset();
            let d = b.next_delay();
            assert!(d >= Duration::from_millis(500) && d <= Duration::from_millis(625));
        }
    }
}
