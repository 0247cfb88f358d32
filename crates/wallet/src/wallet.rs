//! [`Wallet`]: the whole approver, without a window. The Tauri shell calls these methods from
//! its commands and forwards [`WalletUpdate`]s to the view.
//!
//! Security invariants kept here:
//! - a decision is signed only for a request this Wallet fetched, verified (digest recomputed
//!   with the core crate, body checked against the statement) and turned into the
//!   [`ReviewView`] the person saw; the view names the request and echoes the digest it showed,
//!   it never supplies what is signed;
//! - keys come from the [`KeyStore`] and go only to the approver client; session tokens stay
//!   inside the client; nothing secret is written to `data_dir`;
//! - pairing happens only in [`Wallet::confirm_pairing`], called after the person confirmed,
//!   over https (plain http only to a loopback address); the answer must name this device's
//!   key id and the previewed service and approver, and a service id another server's pairing
//!   has is refused;
//! - each pairing's key lives under a keychain account this Wallet named at random; no id a
//!   service sends ever names, overwrites or deletes a keychain entry, and a failed pairing
//!   deletes only the entry it made.

use crate::approver::{Pairing, Review};
use crate::body::{not_shown_whole, request_body_view};
use crate::error::WalletError;
use crate::inbox::Inbox;
use crate::keystore::{KeyAccount, KeyStore};
use crate::links::{route, LinkAction};
use crate::model::history_row;
pub use crate::model::{
    matches_query, Clock, HistoryRow, InboxView, Observer, PairingPreviewView, PairingView,
    SystemClock, WalletUpdate,
};
use crate::notify::{summary_content, Notifier, NotifyThrottle};
use crate::registry::{PairingRegistry, Registered, RegistryError};
use crate::reveal::reveal_name;
use crate::review::{review_view, BodyGate, ReviewView};
use crate::source::{ApprovalSource, Connector};
use crate::sync::{self, SyncConfig, SyncSink, SyncStatus};
use countersign_core::api::PairPreview;
use countersign_core::keys::generate_signing_key;
use countersign_core::{ApprovalStatus, ServerUrl, Verdict};
use sink::{set_status, show, Sink};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;
use uuid::Uuid;

/// At most this many notifications per 10 s; more requests are summarised in one.
pub const NOTIFY_BURST: usize = 5;

/// At most this many past approvals are compared for "what is new".
pub const NOVELTY_HISTORY: usize = 10_000;

/// Longest accepted comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 2000;

/// The Wallet's fixed settings.
#[derive(Debug, Clone)]
pub struct WalletConfig {
    /// The app's data directory (pairings only; never secrets).
    pub data_dir: PathBuf,
    /// The name this device registers with, e.g. "Countersign Wallet on `host`".
    pub device_name: String,
    /// Reconnection timing.
    pub sync: SyncConfig,
}

struct Service {
    /// None when the pairing cannot sync (its key could not be loaded).
    source: Option<Arc<dyn ApprovalSource>>,
    status: SyncStatus,
    task: Option<JoinHandle<()>>,
}

struct Inner {
    config: WalletConfig,
    connector: Arc<dyn Connector>,
    keys: Arc<dyn KeyStore>,
    notifier: Arc<dyn Notifier>,
    observer: Arc<dyn Observer>,
    clock: Arc<dyn Clock>,
    registry: Mutex<PairingRegistry>,
    inbox: Mutex<Inbox>,
    services: Mutex<HashMap<ServerUrl, Service>>,
    reviews: Mutex<HashMap<(ServerUrl, Uuid), Review>>,
    /// Bodies the view reported seen to the end: (server, approval, request digest).
    seen: Mutex<HashSet<(ServerUrl, Uuid, String)>>,
    throttle: Mutex<NotifyThrottle>,
}

/// The approver: pairings, live inbox, reviews and decisions. Cheap to clone.
#[derive(Clone)]
pub struct Wallet {
    inner: Arc<Inner>,
}

/// The parts a [`Wallet`] is made of (all replaceable in tests).
pub struct WalletParts {
    /// Settings.
    pub config: WalletConfig,
    /// Talks to services.
    pub connector: Arc<dyn Connector>,
    /// Holds keys.
    pub keys: Arc<dyn KeyStore>,
    /// Shows notifications.
    pub notifier: Arc<dyn Notifier>,
    /// Receives updates for the view.
    pub observer: Arc<dyn Observer>,
    /// Tells the time.
    pub clock: Arc<dyn Clock>,
}

impl Wallet {
    /// Loads the pairings and starts syncing each paired service. Must run inside a Tokio
    /// runtime.
    pub async fn start(parts: WalletParts) -> Result<Self, WalletError> {
        let registry = PairingRegistry::load(&parts.config.data_dir)?;
        let pairings = registry.entries().to_vec();
        let wallet = Wallet {
            inner: Arc::new(Inner {
                config: parts.config,
                connector: parts.connector,
                keys: parts.keys,
                notifier: parts.notifier,
                observer: parts.observer,
                clock: parts.clock,
                registry: Mutex::new(registry),
                inbox: Mutex::new(Inbox::new()),
                services: Mutex::new(HashMap::new()),
                reviews: Mutex::new(HashMap::new()),
                seen: Mutex::new(HashSet::new()),
                throttle: Mutex::new(NotifyThrottle::new(
                    NOTIFY_BURST,
                    std::time::Duration::from_secs(10),
                )),
            }),
        };
        // Keys are loaded in the background: a locked keychain may prompt the person, and the
        // window must not wait for that.
        for Registered {
            pairing,
            key_account,
        } in pairings
        {
            wallet.set_status(&pairing.server, SyncStatus::Connecting);
            let wallet = wallet.clone();
            tokio::spawn(async move {
                match wallet.load_key(key_account).await {
                    // Unless the pairing was removed meanwhile.
                    Ok(key) if wallet.is_paired(&pairing.server) => wallet.connect(pairing, key),
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(server = %pairing.server, "cannot load the device key: {e}");
                        wallet
                            .set_status(&pairing.server, SyncStatus::Failed { why: e.to_string() });
                    }
                }
            });
        }
        wallet.spawn_pruner();
        Ok(wallet)
    }

    async fn load_key(
        &self,
        account: KeyAccount,
    ) -> Result<countersign_core::keys::SigningKey, WalletError> {
        let keys = self.inner.keys.clone();
        Ok(tokio::task::spawn_blocking(move || keys.load(&account))
            .await
            .map_err(|e| WalletError::Client(e.to_string()))??)
    }

    fn connect(&self, pairing: Pairing, key: countersign_core::keys::SigningKey) {
        let server = pairing.server.clone();
        let source = self.inner.connector.connect(pairing, key);
        let sink: Arc<dyn SyncSink> = Arc::new(Sink {
            inner: Arc::downgrade(&self.inner),
        });
        let task = tokio::spawn(sync::run(source.clone(), sink, self.inner.config.sync));
        let old = self.inner.services.lock().expect("services lock").insert(
            server,
            Service {
                source: Some(source),
                status: SyncStatus::Connecting,
                task: Some(task),
            },
        );
        if let Some(task) = old.and_then(|s| s.task) {
            task.abort();
        }
    }

    fn set_status(&self, server: &ServerUrl, status: SyncStatus) {
        self.inner
            .services
            .lock()
            .expect("services lock")
            .entry(server.clone())
            .or_insert(Service {
                source: None,
                status: status.clone(),
                task: None,
            });
        set_status(&self.inner, server, status);
    }

    fn is_paired(&self, server: &ServerUrl) -> bool {
        self.inner
            .registry
            .lock()
            .expect("registry lock")
            .get(server)
            .is_some()
    }

    /// Every few seconds, drops requests whose window closed and tells the view, and shows
    /// the summary of requests that were not notified one by one.
    fn spawn_pruner(&self) {
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(2));
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                let now = inner.clock.now();
                let (pruned, count) = {
                    let mut inbox = inner.inbox.lock().expect("inbox lock");
                    (inbox.prune(now), inbox.count(now))
                };
                if pruned > 0 {
                    inner.observer.update(WalletUpdate::InboxChanged { count });
                }
                let waiting = inner
                    .throttle
                    .lock()
                    .expect("throttle lock")
                    .take_summary(std::time::Instant::now());
                if waiting > 0 {
                    show(&inner, summary_content(waiting));
                }
            }
        });
    }

    /// Stops every sync loop.
    pub fn shutdown(&self) {
        for (_, s) in self
            .inner
            .services
            .lock()
            .expect("services lock")
            .iter_mut()
        {
            if let Some(t) = s.task.take() {
                t.abort();
            }
        }
    }

    /// The paired services with their connection state.
    pub fn pairings(&self) -> Vec<PairingView> {
        let registry = self.inner.registry.lock().expect("registry lock");
        let services = self.inner.services.lock().expect("services lock");
        registry
            .entries()
            .iter()
            .map(|Registered { pairing: p, .. }| PairingView {
                server: p.server.to_string(),
                service_id: reveal_name(&p.service_id),
                approver_id: reveal_name(&p.approver_id),
                approver_name: reveal_name(&p.approver_name),
                key_id: reveal_name(&p.key_id),
                status: services
                    .get(&p.server)
                    .map(|s| s.status.clone())
                    .unwrap_or(SyncStatus::Connecting),
            })
            .collect()
    }

    /// What a `countersign://` link asks for (pairing is only ever proposed, never done).
    pub fn open_link(&self, text: &str) -> Result<LinkAction, WalletError> {
        let registry = self.inner.registry.lock().expect("registry lock");
        route(text, &registry.all())
    }

    /// Who `code` pairs as on `server` (the code is not used up).
    async fn fetch_preview(
        &self,
        server: &ServerUrl,
        code: &str,
    ) -> Result<PairPreview, WalletError> {
        server
            .require_secure_transport()
            .map_err(|e| WalletError::InsecureServer(e.to_string()))?;
        self.inner
            .connector
            .preview(server, code)
            .await
            .map_err(|e| WalletError::from_client(e, server, None))
    }

    /// The confirmation screen of a pairing link.
    pub async fn preview_pairing(
        &self,
        server: &ServerUrl,
        code: &str,
    ) -> Result<PairingPreviewView, WalletError> {
        let preview = self.fetch_preview(server, code).await?;
        self.refuse_service_elsewhere(server, &preview.service_id)?;
        let replaces_existing = self
            .inner
            .registry
            .lock()
            .expect("registry lock")
            .get(server)
            .is_some();
        Ok(PairingPreviewView {
            server: server.to_string(),
            service_id: reveal_name(&preview.service_id),
            approver_id: reveal_name(&preview.approver_id),
            approver_name: reveal_name(&preview.approver_name),
            expires_at: preview.expires_at,
            replaces_existing,
        })
    }

    /// Refuses a pairing with `server` whose service id another server's pairing has.
    fn refuse_service_elsewhere(
        &self,
        server: &ServerUrl,
        service_id: &str,
    ) -> Result<(), WalletError> {
        let registry = self.inner.registry.lock().expect("registry lock");
        match registry.service_elsewhere(service_id, server) {
            Some(other) => Err(WalletError::ServiceAlreadyPaired {
                server: server.clone(),
                service_id: service_id.to_string(),
                paired_with: other.pairing.server.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Pairs after the person confirmed: makes a key, stores it in the keychain under a fresh
    /// local account name, registers its public half (signed, for the previewed service),
    /// checks the answer, records the pairing and starts syncing.
    ///
    /// Refused, touching no other pairing: plain http to a non-loopback host, a service id
    /// another server's pairing has, an answer naming another key id, service or approver
    /// than this key and the preview. A failed pairing deletes only the key it created.
    pub async fn confirm_pairing(
        &self,
        server: &ServerUrl,
        code: &str,
    ) -> Result<PairingView, WalletError> {
        let preview = self.fetch_preview(server, code).await?;
        self.refuse_service_elsewhere(server, &preview.service_id)?;
        let key = generate_signing_key();
        // The key is in the keychain before the service knows it: a key the service accepted
        // is never lost. Its entry has a name no service chose, so saving it cannot replace
        // another pairing's key; if pairing fails, this entry (and only it) is removed again.
        let account = KeyAccount::random();
        self.blocking_keys({
            let (account, key) = (account.clone(), key.clone());
            move |keys| keys.save(&account, &key)
        })
        .await?;
        match self.register(server, code, &preview, &key, &account).await {
            Ok(old) => {
                if let Some(old) = old {
                    // The same server paired again (the person confirmed the replacement).
                    let old_account = old.key_account;
                    let _ = self
                        .blocking_keys(move |keys| keys.delete(&old_account))
                        .await;
                }
            }
            Err(e) => {
                let _ = self.blocking_keys(move |keys| keys.delete(&account)).await;
                return Err(e);
            }
        }
        self.connect(
            self.inner
                .registry
                .lock()
                .expect("registry lock")
                .get(server)
                .expect("just paired")
                .pairing
                .clone(),
            key,
        );
        Ok(self
            .pairings()
            .into_iter()
            .find(|p| p.server == server.to_string())
            .expect("just paired"))
    }

    /// Registers `key` with the service, checks the answer and records the pairing; returns
    /// the pairing it replaced (same server).
    async fn register(
        &self,
        server: &ServerUrl,
        code: &str,
        preview: &PairPreview,
        key: &countersign_core::keys::SigningKey,
        account: &KeyAccount,
    ) -> Result<Option<Registered>, WalletError> {
        let device = self.inner.config.device_name.clone();
        let pairing = self
            .inner
            .connector
            .pair(server, code, preview, &device, key)
            .await
            .map_err(|e| WalletError::from_client(e, server, None))?;
        if &pairing.server != server {
            return Err(WalletError::PairingMismatch(format!(
                "the pairing answer is for {}, not {server}",
                pairing.server
            )));
        }
        pairing
            .check_against(preview, &key.verifying_key())
            .map_err(|e| WalletError::from_client(e, server, None))?;
        let entry = Registered {
            pairing,
            key_account: account.clone(),
        };
        let mut registry = self.inner.registry.lock().expect("registry lock");
        registry.upsert(entry).map_err(|e| match e {
            RegistryError::ServiceTaken {
                service_id,
                server: paired_with,
            } => WalletError::ServiceAlreadyPaired {
                server: server.clone(),
                service_id,
                paired_with,
            },
            other => other.into(),
        })
    }

    async fn blocking_keys<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn KeyStore) -> Result<T, crate::keystore::KeyStoreError> + Send + 'static,
    ) -> Result<T, WalletError> {
        let keys = self.inner.keys.clone();
        Ok(tokio::task::spawn_blocking(move || f(&*keys))
            .await
            .map_err(|e| WalletError::Client(e.to_string()))??)
    }

    /// Forgets a pairing: stops syncing, clears its requests and deletes its key.
    pub async fn remove_pairing(&self, server: &ServerUrl) -> Result<(), WalletError> {
        let removed = self
            .inner
            .registry
            .lock()
            .expect("registry lock")
            .remove(server)?;
        if let Some(s) = self
            .inner
            .services
            .lock()
            .expect("services lock")
            .remove(server)
        {
            if let Some(t) = s.task {
                t.abort();
            }
        }
        self.inner
            .reviews
            .lock()
            .expect("reviews lock")
            .retain(|(s, _), _| s != server);
        self.inner
            .seen
            .lock()
            .expect("seen lock")
            .retain(|(s, _, _)| s != server);
        let count = {
            let mut inbox = self.inner.inbox.lock().expect("inbox lock");
            inbox.forget_service(server);
            inbox.count(self.inner.clock.now())
        };
        self.inner
            .observer
            .update(WalletUpdate::InboxChanged { count });
        if let Some(Registered { key_account, .. }) = removed {
            self.blocking_keys(move |keys| keys.delete(&key_account))
                .await?;
        }
        Ok(())
    }

    /// The inbox now.
    pub fn inbox(&self) -> InboxView {
        let now = self.inner.clock.now();
        let inbox = self.inner.inbox.lock().expect("inbox lock");
        InboxView {
            rows: inbox.rows(now),
            count: inbox.count(now),
        }
    }

    /// The source of `server`, waiting (up to 20 s) while its key is still being loaded.
    async fn source(&self, server: &ServerUrl) -> Result<Arc<dyn ApprovalSource>, WalletError> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let why = {
                let services = self.inner.services.lock().expect("services lock");
                match services.get(server) {
                    Some(Service {
                        source: Some(source),
                        ..
                    }) => return Ok(source.clone()),
                    Some(Service {
                        status: SyncStatus::Failed { why },
                        ..
                    }) => Some(why.clone()),
                    Some(_) => None,
                    None => {
                        return Err(WalletError::NotPaired {
                            server: server.clone(),
                        })
                    }
                }
            };
            if let Some(why) = why {
                return Err(WalletError::KeyStore(
                    crate::keystore::KeyStoreError::Unavailable(why),
                ));
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(WalletError::KeyStore(
                    crate::keystore::KeyStoreError::Unavailable(
                        "the device key is still being loaded from the keychain".into(),
                    ),
                ));
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Fetches and verifies one request and returns what the review screen shows. The
    /// verified request is kept (in memory) as the only thing [`Wallet::decide`] will sign.
    pub async fn review(
        &self,
        server: &ServerUrl,
        approval_id: Uuid,
    ) -> Result<ReviewView, WalletError> {
        let source = self.source(server).await?;
        let review = source
            .review(approval_id)
            .await
            .map_err(|e| WalletError::from_client(e, server, Some(approval_id)))?;
        verify_locally(&review, source.pairing(), approval_id)?;
        let mut view = review_view(
            server,
            review.detail(),
            review.digest(),
            &source.pairing().approver_id,
            self.inner.clock.now(),
        );
        view.body_gate.seen |= self.is_seen(server, approval_id, review.digest());
        if view.status == ApprovalStatus::Pending {
            match source.what_is_new(&review, NOVELTY_HISTORY).await {
                Ok(found) => view.set_what_is_new(&found),
                // A service older than the history endpoint: nothing to compare with.
                Err(e) if e.status() == Some(404) => {}
                Err(e) => {
                    tracing::warn!(%server, %approval_id, "what is new: {e}");
                    view.what_is_new_note =
                        Some(format!("could not compare with past approvals: {e}"));
                }
            }
        }
        self.inner
            .reviews
            .lock()
            .expect("reviews lock")
            .insert((server.clone(), approval_id), review);
        Ok(view)
    }

    fn is_seen(&self, server: &ServerUrl, approval_id: Uuid, digest: &str) -> bool {
        self.inner.seen.lock().expect("seen lock").contains(&(
            server.clone(),
            approval_id,
            digest.to_string(),
        ))
    }

    /// The view reports that the person saw the body of the request last shown by
    /// [`Wallet::review`] to its end. `shown_digest` is the digest the view displayed; it must
    /// be the one the Wallet verified. Only a body shown whole can be marked seen. Approving
    /// ([`Wallet::decide`]) requires this mark for the digest signed.
    pub fn body_seen(
        &self,
        server: &ServerUrl,
        approval_id: Uuid,
        shown_digest: &str,
    ) -> Result<(), WalletError> {
        let review = self
            .inner
            .reviews
            .lock()
            .expect("reviews lock")
            .get(&(server.clone(), approval_id))
            .cloned()
            .ok_or(WalletError::NotReviewed)?;
        if review.digest() != shown_digest {
            return Err(WalletError::StaleReview);
        }
        if let Some(why) = not_shown_whole(&request_body(&review)) {
            return Err(WalletError::BodyNotShown(why));
        }
        self.inner.seen.lock().expect("seen lock").insert((
            server.clone(),
            approval_id,
            review.digest().to_string(),
        ));
        Ok(())
    }

    /// Signs and sends a decision on the request last shown by [`Wallet::review`].
    /// `shown_digest` is the digest the view displayed; it must equal the one the Wallet
    /// verified, or nothing is signed. An approval is signed only when the body is shown whole
    /// and was reported seen to the end for that digest ([`Wallet::body_seen`]); a denial
    /// always can be. Returns the review screen after the decision.
    pub async fn decide(
        &self,
        server: &ServerUrl,
        approval_id: Uuid,
        verdict: Verdict,
        comment: Option<String>,
        shown_digest: &str,
    ) -> Result<ReviewView, WalletError> {
        let source = self.source(server).await?;
        let review = self
            .inner
            .reviews
            .lock()
            .expect("reviews lock")
            .get(&(server.clone(), approval_id))
            .cloned()
            .ok_or(WalletError::NotReviewed)?;
        if review.digest() != shown_digest {
            return Err(WalletError::StaleReview);
        }
        verify_locally(&review, source.pairing(), approval_id)?;
        let now = self.inner.clock.now();
        if review.detail().status != ApprovalStatus::Pending {
            return Err(WalletError::NotPending {
                status: review.detail().status.to_string(),
            });
        }
        if now >= review.statement().expires_at {
            return Err(WalletError::NotPending {
                status: ApprovalStatus::Expired.to_string(),
            });
        }
        if verdict == Verdict::Approve {
            let gate = BodyGate::of(&request_body(&review));
            if let Some(why) = gate.why_not {
                return Err(WalletError::BodyNotShown(why));
            }
            if !gate.seen && !self.is_seen(server, approval_id, review.digest()) {
                return Err(WalletError::BodyNotSeen);
            }
        }
        let comment = comment
            .map(|c| c.trim().chars().take(MAX_COMMENT_CHARS).collect::<String>())
            .filter(|c| !c.is_empty());
        let response = source
            .decide(&review, verdict, comment)
            .await
            .map_err(|e| WalletError::from_client(e, server, Some(approval_id)))?;
        if response.status != ApprovalStatus::Pending {
            let count = {
                let mut inbox = self.inner.inbox.lock().expect("inbox lock");
                inbox.remove(server, approval_id);
                inbox.count(now)
            };
            self.inner
                .observer
                .update(WalletUpdate::InboxChanged { count });
        }
        // Show the outcome: fetch again (execution may already be done); if that fails, show
        // what the decision answer said.
        match self.review(server, approval_id).await {
            Ok(view) => Ok(view),
            Err(e) => {
                tracing::warn!("refetch after decision failed: {e}");
                let mut detail = review.detail().clone();
                detail.status = response.status;
                detail.decisions = response.decisions;
                Ok(review_view(
                    server,
                    &detail,
                    review.digest(),
                    &source.pairing().approver_id,
                    self.inner.clock.now(),
                ))
            }
        }
    }

    /// Requests that are no longer pending, newest first, filtered by `query` (case-insensitive
    /// words, all of which must appear in the reason, app, grant, method, URL, status or id).
    pub async fn history(&self, query: &str) -> Result<Vec<HistoryRow>, WalletError> {
        let sources: Vec<Arc<dyn ApprovalSource>> = self
            .inner
            .services
            .lock()
            .expect("services lock")
            .values()
            .filter_map(|s| s.source.clone())
            .collect();
        let now = self.inner.clock.now();
        let mut rows = Vec::new();
        for source in sources {
            let server = source.pairing().server.clone();
            let list = source
                .list("all")
                .await
                .map_err(|e| WalletError::from_client(e, &server, None))?;
            rows.extend(
                list.into_iter()
                    .filter(|s| s.status != ApprovalStatus::Pending || s.expires_at <= now)
                    .filter(|s| matches_query(s, query))
                    .map(|s| history_row(&server, s, now)),
            );
        }
        rows.sort_by(|a, b| {
            (b.row.created_at, b.row.approval_id).cmp(&(a.row.created_at, a.row.approval_id))
        });
        Ok(rows)
    }
}

/// The request body of `review` as the review screen shows it.
fn request_body(review: &Review) -> crate::body::BodyView {
    request_body_view(
        review.body(),
        countersign_core::body::content_type(&review.statement().headers),
    )
}

/// Re-checks a fetched request with the core crate, independently of the approver client:
/// right approval, right service, digest recomputed from the statement, body matching it.
pub fn verify_locally(
    review: &Review,
    pairing: &Pairing,
    approval_id: Uuid,
) -> Result<(), WalletError> {
    let st = review.statement();
    if st.approval_id != approval_id {
        return Err(WalletError::Integrity(format!(
            "asked for {approval_id}, the service answered with {}",
            st.approval_id
        )));
    }
    if st.service != pairing.service_id {
        return Err(WalletError::Integrity(format!(
            "the statement names service {:?}, this pairing is {:?}",
            st.service, pairing.service_id
        )));
    }
    let local = st.request_digest();
    if local != review.digest() || local != review.detail().request_digest {
        return Err(WalletError::Integrity(
            "the request digest does not match the statement".into(),
        ));
    }
    st.check_body(review.body())
        .map_err(|e| WalletError::Integrity(e.to_string()))
}

#[path = "wallet_sink.rs"]
mod sink;

#[cfg(test)]
#[path = "wallet_tests.rs"]
mod tests;
