//! `GET /v1/wallet/events`: Server-Sent Events for one approver.
//!
//! The SSE id is the audit `seq` of the change. With `Last-Event-ID` the stream first replays
//! what the Wallet missed from the audit log, then follows the live bus. If the stream falls
//! behind the bus it replays again from the log, so nothing is lost. The stream ends when the
//! session token expires or the service shuts down; the Wallet reconnects.
//!
//! A stream is only as good as its device key. Keys are revoked in the database, possibly by
//! another process (the admin CLI), so the stream checks that its key is still live before it
//! delivers a live event and every [`TICK`]; a revoked key ends the stream, and reconnecting
//! answers 401. A device key holds at most [`MAX_STREAMS_PER_KEY`](crate::slots::MAX_STREAMS_PER_KEY) streams at once (more:
//! 429 `too_many_requests`). On each tick the stream also catches up with the audit log, so changes written
//! by another process (decisions withdrawn by a CLI revocation) reach Wallets within a tick.

use super::extract::WalletAuth;
use super::openapi::{error_responses, AUTH, STORE};
use crate::error::{ApiError, ErrorCode};
use crate::events::{wallet_event, BusEvent};
use crate::state::AppState;
use crate::store::StoreError;
use crate::wallet_auth::WalletSession;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use countersign_core::api::WalletEvent;
use futures::Stream;
use std::collections::BTreeSet;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

const REPLAY_PAGE: i64 = 500;
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How often a stream checks its device key and catches up with the log.
pub const TICK: Duration = Duration::from_secs(2);

error_responses!(
    /// The errors of `GET /v1/wallet/events`.
    EventsErrors = [
        AUTH,
        STORE,
        [ErrorCode::InvalidLastEventId, ErrorCode::TooManyRequests],
    ]
);

/// Handles `GET /v1/wallet/events`.
#[utoipa::path(
    get,
    path = "/v1/wallet/events",
    tag = "wallet",
    operation_id = "wallet_events",
    summary = "Server-Sent Events about the approvals that name this approver",
    description = "Each event's `event:` is a `WalletEventKind`, its `data:` a `WalletEvent` \
        (JSON) and its `id:` the audit sequence number that recorded it. With `Last-Event-ID` \
        the stream first replays what was missed. The stream ends when the session expires, \
        the device key is revoked or the service stops.",
    params((
        "Last-Event-ID" = Option<String>,
        Header,
        description = "The `id:` of the last event received (a number), to resume after it"
    )),
    responses(
        (status = 200, description = "The event stream", body = String, content_type = "text/event-stream"),
        EventsErrors,
    ),
    security(("wallet_session" = [])),
)]
pub async fn events(
    State(state): State<AppState>,
    WalletAuth(session): WalletAuth,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    // Held by the stream's task: freed when the stream ends or the Wallet goes away.
    let slot = state.streams.take(&session.key_id).ok_or_else(|| {
        ApiError::too_many(format!(
            "too many event streams for this device key (at most {} at once); close one",
            state.streams.cap()
        ))
    })?;
    let live = state.bus.subscribe();
    let head = state.store.audit_head().await?;
    let after = match headers.get("last-event-id").and_then(|v| v.to_str().ok()) {
        // An id beyond the log (a Wallet that saw another copy of this database, e.g. one
        // restored from a backup) resumes from now: taken as is, it would silence the stream
        // until the log grew past it, since live events at or below it count as replayed.
        Some(text) => text
            .trim()
            .parse::<i64>()
            .map_err(|_| {
                ApiError::new(
                    ErrorCode::InvalidLastEventId,
                    "Last-Event-ID must be a number",
                )
            })?
            .clamp(0, head),
        None => head,
    };
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let _slot = slot;
        let mut stream = ApproverStream { state, session, tx };
        if let Err(e) = stream.run(after, live).await {
            tracing::warn!(error = %e, "wallet event stream ended on a store error");
        }
    });
    Ok(Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

struct ApproverStream {
    state: AppState,
    session: WalletSession,
    tx: mpsc::Sender<Result<Event, Infallible>>,
}

/// The client went away; stop quietly.
struct Gone;

impl ApproverStream {
    async fn run(
        &mut self,
        after: i64,
        mut live: broadcast::Receiver<BusEvent>,
    ) -> Result<(), StoreError> {
        let mut replayed_to = match self.replay(after, &BTreeSet::new()).await? {
            Ok(seq) => seq,
            Err(Gone) => return Ok(()),
        };
        // Live events may arrive out of seq order; remember which ones were sent.
        let mut sent_live = BTreeSet::new();
        let token_left =
            (self.session.expires_at.unix() - self.state.clock.now().unix()).max(0) as u64;
        let session_end = tokio::time::sleep(Duration::from_secs(token_left));
        tokio::pin!(session_end);
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + TICK, TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                received = live.recv() => match received {
                    Ok(bus) => {
                        if bus.seq <= replayed_to || !bus.approvers.contains(&self.session.approver_id) {
                            continue;
                        }
                        if !self.live().await? || self.send(bus.seq, &bus.event).await.is_err() {
                            return Ok(());
                        }
                        sent_live.insert(bus.seq);
                    }
                    Err(RecvError::Lagged(_)) => {
                        replayed_to = match self.replay(replayed_to, &sent_live).await? {
                            Ok(seq) => seq,
                            Err(Gone) => return Ok(()),
                        };
                        sent_live.retain(|s| *s > replayed_to);
                    }
                    Err(RecvError::Closed) => return Ok(()),
                },
                _ = tick.tick() => {
                    replayed_to = match self.replay(replayed_to, &sent_live).await? {
                        Ok(seq) => seq,
                        Err(Gone) => return Ok(()),
                    };
                    sent_live.retain(|s| *s > replayed_to);
                }
                _ = &mut session_end => return Ok(()),
                _ = self.state.shutdown.cancelled() => return Ok(()),
                _ = self.tx.closed() => return Ok(()),
            }
        }
    }

    /// True while the session's device key is registered and not revoked.
    async fn live(&self) -> Result<bool, StoreError> {
        self.state.store.device_is_live(&self.session.key_id).await
    }

    /// Sends the events recorded after `after` (skipping `skip`); returns the last seq read.
    /// A revoked device key ends the stream (`Gone`) before anything is sent.
    async fn replay(
        &mut self,
        mut after: i64,
        skip: &BTreeSet<i64>,
    ) -> Result<Result<i64, Gone>, StoreError> {
        loop {
            if !self.live().await? {
                return Ok(Err(Gone));
            }
            let entries = self
                .state
                .store
                .audit_after_with_heads(after, REPLAY_PAGE)
                .await?;
            for (entry, head) in &entries {
                after = entry.seq;
                let Some(head) = head else {
                    continue;
                };
                if skip.contains(&entry.seq) || !head.approvers.contains(&self.session.approver_id)
                {
                    continue;
                }
                if let Some(event) = wallet_event(entry, head) {
                    if self.send(entry.seq, &event).await.is_err() {
                        return Ok(Err(Gone));
                    }
                }
            }
            if (entries.len() as i64) < REPLAY_PAGE {
                return Ok(Ok(after));
            }
        }
    }

    async fn send(&self, seq: i64, event: &WalletEvent) -> Result<(), Gone> {
        let data = serde_json::to_string(event).map_err(|_| Gone)?;
        let sse = Event::default()
            .id(seq.to_string())
            .event(event.kind.as_str())
            .data(data);
        self.tx.send(Ok(sse)).await.map_err(|_| Gone)
    }
}
