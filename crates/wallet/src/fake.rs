//! Test doubles of a service: [`FakeSource`] and [`FakeConnector`] (unit tests only).

use crate::approver::{ApproverError, Pairing, Review};
use crate::source::{ApprovalSource, Connector, EventStream};
use countersign_core::api::{
    DecisionResponse, DecisionSummary, PairPreview, WalletApprovalDetail, WalletApprovalSummary,
    WalletEvent,
};
use countersign_core::keys::SigningKey;
use countersign_core::novelty::Novelty;
use countersign_core::{ApprovalStatus, ServerUrl, Verdict};
use futures::future::BoxFuture;
use futures::StreamExt;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use uuid::Uuid;

/// Sends scripted events into one connection of a [`FakeSource`].
pub type EventSender = mpsc::UnboundedSender<Result<(u64, WalletEvent), ApproverError>>;

/// One decision sent: (approval id, digest of the review, verdict, comment).
pub type SentDecision = (Uuid, String, Verdict, Option<String>);

/// A scripted service.
pub struct FakeSource {
    pub pairing: Pairing,
    /// What `list_page("pending")` and `list_page("all")` page through (newest id first, at
    /// most 1000 a page, like the service).
    pub rows: Mutex<Vec<WalletApprovalSummary>>,
    /// Ignore the `before` cursor (a service older than it).
    pub ignores_cursor: Mutex<bool>,
    /// Every `list_page` call: (filter, before, limit).
    pub pages: Mutex<Vec<(String, Option<Uuid>, u32)>>,
    /// When set, a `list_page` call with a `before` cursor (the second page on) waits for a
    /// permit of this semaphore: a test looks at the inbox between pages.
    pub held_pages: Mutex<Option<Arc<tokio::sync::Semaphore>>>,
    /// How many of the next `list` calls fail.
    pub failing_lists: Mutex<usize>,
    /// One receiver per future connection; when empty a connection stays silent.
    pub streams: Mutex<VecDeque<EventStream>>,
    /// The `last_event_id` of every `events` call.
    pub connects: Mutex<Vec<Option<u64>>>,
    /// What `review` fetches (verified like the real client does).
    pub details: Mutex<HashMap<Uuid, WalletApprovalDetail>>,
    /// Every decision sent.
    pub decided: Mutex<Vec<SentDecision>>,
    /// What `what_is_new` answers: `Err(status)` fails with that HTTP status (default 404,
    /// a service without the history endpoint).
    pub novelty: Mutex<Result<Vec<Novelty>, u16>>,
    /// The public key of the key this source was last connected with (what it signs with).
    pub key: Mutex<Option<[u8; 32]>>,
    /// The public key each decision was signed with, in order.
    pub signers: Mutex<Vec<[u8; 32]>>,
}

impl FakeSource {
    pub fn new(pairing: Pairing) -> Arc<Self> {
        Arc::new(Self {
            pairing,
            rows: Mutex::default(),
            ignores_cursor: Mutex::new(false),
            pages: Mutex::default(),
            held_pages: Mutex::default(),
            failing_lists: Mutex::new(0),
            streams: Mutex::default(),
            connects: Mutex::default(),
            details: Mutex::default(),
            decided: Mutex::default(),
            novelty: Mutex::new(Err(404)),
            key: Mutex::default(),
            signers: Mutex::default(),
        })
    }

    /// Queues a connection and returns its sender (drop it to end the stream).
    pub fn next_stream(&self) -> EventSender {
        let (tx, rx) = mpsc::unbounded_channel();
        let stream = futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })
        .boxed();
        self.streams.lock().unwrap().push_back(stream);
        tx
    }

    pub fn api_error(status: u16) -> ApproverError {
        ApproverError::Api {
            status,
            code: "test".into(),
            message: "scripted failure".into(),
        }
    }
}

impl ApprovalSource for FakeSource {
    fn pairing(&self) -> &Pairing {
        &self.pairing
    }

    fn list_page(
        &self,
        filter: &str,
        before: Option<Uuid>,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<WalletApprovalSummary>, ApproverError>> {
        let filter = filter.to_string();
        Box::pin(async move {
            self.pages
                .lock()
                .unwrap()
                .push((filter.clone(), before, limit));
            let gate = self.held_pages.lock().unwrap().clone();
            if let (Some(gate), Some(_)) = (gate, before) {
                gate.acquire().await.expect("gate open").forget();
            }
            {
                let mut failing = self.failing_lists.lock().unwrap();
                if *failing > 0 {
                    *failing -= 1;
                    return Err(Self::api_error(503));
                }
            }
            let before = before.filter(|_| !*self.ignores_cursor.lock().unwrap());
            let mut rows: Vec<_> = self
                .rows
                .lock()
                .unwrap()
                .iter()
                .filter(|r| match filter.as_str() {
                    "all" => true,
                    // The service's finished requests: not pending, approved or executing.
                    "history" => !matches!(
                        r.status,
                        ApprovalStatus::Pending
                            | ApprovalStatus::Approved
                            | ApprovalStatus::Executing
                    ),
                    status => r.status.as_str() == status,
                })
                .filter(|r| before.is_none_or(|b| r.approval_id < b))
                .cloned()
                .collect();
            rows.sort_by_key(|r| std::cmp::Reverse(r.approval_id));
            rows.truncate(limit.clamp(1, 1000) as usize);
            Ok(rows)
        })
    }

    fn review(&self, id: Uuid) -> BoxFuture<'_, Result<Review, ApproverError>> {
        Box::pin(async move {
            let detail = self
                .details
                .lock()
                .unwrap()
                .get(&id)
                .cloned()
                .ok_or_else(|| Self::api_error(404))?;
            Review::verify(detail, id, &self.pairing.service_id)
        })
    }

    fn what_is_new<'a>(
        &'a self,
        _review: &'a Review,
        _max_items: usize,
    ) -> BoxFuture<'a, Result<Vec<Novelty>, ApproverError>> {
        Box::pin(async move {
            self.novelty
                .lock()
                .unwrap()
                .clone()
                .map_err(Self::api_error)
        })
    }

    fn decide<'a>(
        &'a self,
        review: &'a Review,
        verdict: Verdict,
        comment: Option<String>,
    ) -> BoxFuture<'a, Result<DecisionResponse, ApproverError>> {
        Box::pin(async move {
            let id = review.approval_id();
            let signer = self.key.lock().unwrap().expect("connected with a key");
            self.signers.lock().unwrap().push(signer);
            self.decided.lock().unwrap().push((
                id,
                review.digest().to_string(),
                verdict,
                comment.clone(),
            ));
            let status = match verdict {
                Verdict::Approve => ApprovalStatus::Approved,
                Verdict::Deny => ApprovalStatus::Denied,
            };
            let decisions = vec![DecisionSummary {
                approver_id: self.pairing.approver_id.clone(),
                decision: verdict,
                comment,
                decided_at: review.statement().created_at,
            }];
            if let Some(d) = self.details.lock().unwrap().get_mut(&id) {
                d.status = status;
                d.decisions = decisions.clone();
            }
            Ok(DecisionResponse { status, decisions })
        })
    }

    fn events(
        &self,
        last_event_id: Option<u64>,
    ) -> BoxFuture<'_, Result<EventStream, ApproverError>> {
        self.connects.lock().unwrap().push(last_event_id);
        let stream = self
            .streams
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| futures::stream::pending().boxed());
        Box::pin(async move { Ok(stream) })
    }
}

/// A scripted pairing endpoint and a fixed set of sources.
pub struct FakeConnector {
    pub preview: Mutex<Option<PairPreview>>,
    pub pair_fails: Mutex<bool>,
    /// When set, `pair` answers with this pairing (a hostile or broken service).
    pub pair_answer: Mutex<Option<Pairing>>,
    /// Public keys registered by `pair`.
    pub registered: Mutex<Vec<[u8; 32]>>,
    /// Sources handed out by `connect`, by server and approver id (created on demand).
    pub sources: Mutex<HashMap<(ServerUrl, String), Arc<FakeSource>>>,
}

impl FakeConnector {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            preview: Mutex::default(),
            pair_fails: Mutex::new(false),
            pair_answer: Mutex::default(),
            registered: Mutex::default(),
            sources: Mutex::default(),
        })
    }

    pub fn source(&self, pairing: &Pairing) -> Arc<FakeSource> {
        self.sources
            .lock()
            .unwrap()
            .entry((pairing.server.clone(), pairing.approver_id.clone()))
            .or_insert_with(|| FakeSource::new(pairing.clone()))
            .clone()
    }

    /// The source of `approver` on `server`, if one was connected.
    pub fn fake(&self, server: &ServerUrl, approver: &str) -> Option<Arc<FakeSource>> {
        self.sources
            .lock()
            .unwrap()
            .get(&(server.clone(), approver.to_string()))
            .cloned()
    }
}

impl Connector for FakeConnector {
    fn preview<'a>(
        &'a self,
        _server: &'a ServerUrl,
        _code: &'a str,
    ) -> BoxFuture<'a, Result<PairPreview, ApproverError>> {
        Box::pin(async move {
            self.preview
                .lock()
                .unwrap()
                .clone()
                .ok_or_else(|| FakeSource::api_error(404))
        })
    }

    fn pair<'a>(
        &'a self,
        server: &'a ServerUrl,
        _code: &'a str,
        preview: &'a PairPreview,
        _device_name: &'a str,
        key: &'a SigningKey,
    ) -> BoxFuture<'a, Result<Pairing, ApproverError>> {
        Box::pin(async move {
            if *self.pair_fails.lock().unwrap() {
                return Err(FakeSource::api_error(409));
            }
            self.registered
                .lock()
                .unwrap()
                .push(key.verifying_key().to_bytes());
            if let Some(answer) = self.pair_answer.lock().unwrap().clone() {
                return Ok(answer);
            }
            let p = preview.clone();
            Ok(Pairing {
                server: server.clone(),
                service_id: p.service_id,
                approver_id: p.approver_id,
                approver_name: p.approver_name,
                key_id: countersign_core::keys::key_id_for(&key.verifying_key()),
            })
        })
    }

    fn connect(&self, pairing: Pairing, key: SigningKey) -> Arc<dyn ApprovalSource> {
        let source = self.source(&pairing);
        *source.key.lock().unwrap() = Some(key.verifying_key().to_bytes());
        source
    }
}
