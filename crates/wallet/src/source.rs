//! The Wallet's view of a paired service, as traits, so the inbox, the sync loop and the
//! decision flow can be tested without a network. The real implementations wrap the approver
//! client crate ([`crate::approver::ApproverClient`]): the only code that talks to a service.

use crate::approver::{ApproverClient, ApproverError, HttpClients, Pairing, Review};
use countersign_core::api::{DecisionResponse, PairPreview, WalletApprovalSummary, WalletEvent};
use countersign_core::keys::SigningKey;
use countersign_core::novelty::Novelty;
use countersign_core::{ServerUrl, Verdict};
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::StreamExt;
use std::sync::Arc;
use uuid::Uuid;

/// Live events of one service: `(sse id, event)`.
pub type EventStream = BoxStream<'static, Result<(u64, WalletEvent), ApproverError>>;

/// One paired service, with an authenticated session behind it.
pub trait ApprovalSource: Send + Sync + 'static {
    /// The pairing this source acts for.
    fn pairing(&self) -> &Pairing;
    /// One page of approvals addressed to this approver, newest first: `"pending"`, `"all"` or
    /// one status; at most `limit`, only those older than `before` when given (a service
    /// older than the cursor ignores it). [`list_all`] pages through them.
    fn list_page(
        &self,
        filter: &str,
        before: Option<Uuid>,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<WalletApprovalSummary>, ApproverError>>;
    /// Fetches one approval and verifies its digest and body locally.
    fn review(&self, id: Uuid) -> BoxFuture<'_, Result<Review, ApproverError>>;
    /// What is new in `review` compared with up to `max_items` past approved requests of the
    /// same kind (an older service answers 404).
    fn what_is_new<'a>(
        &'a self,
        review: &'a Review,
        max_items: usize,
    ) -> BoxFuture<'a, Result<Vec<Novelty>, ApproverError>>;
    /// Signs and sends a decision on a reviewed approval.
    fn decide<'a>(
        &'a self,
        review: &'a Review,
        verdict: Verdict,
        comment: Option<String>,
    ) -> BoxFuture<'a, Result<DecisionResponse, ApproverError>>;
    /// Opens the live event stream, resuming after `last_event_id`.
    fn events(
        &self,
        last_event_id: Option<u64>,
    ) -> BoxFuture<'_, Result<EventStream, ApproverError>>;
}

pub use countersign_approver::paging::LIST_PAGE;

/// Approvals addressed to this approver, newest first, up to `max`: page after page of
/// [`LIST_PAGE`], each asked `before` the last id of the previous one, so a flood of requests
/// cannot hide older ones behind one page. Stops at a short page, or at a page that brings
/// nothing older (a service older than the cursor answers the first page again: then only
/// that page is known).
pub async fn list_all(
    source: &dyn ApprovalSource,
    filter: &str,
    max: usize,
) -> Result<Vec<WalletApprovalSummary>, ApproverError> {
    list_each(source, filter, max, LIST_PAGE, &mut |_, _| {}).await
}

/// Rows asked for in the first page of a pending-list refresh: enough for the view's first
/// screen, small enough to arrive at once, so the inbox is drawn before a flood of 10,000
/// has been fetched ([`list_each`]).
pub const LIST_FIRST_PAGE: u32 = 100;

/// [`list_all`], with a first page of `first` rows (the later ones are of [`LIST_PAGE`]), and
/// `each` told every page as it arrives, before the next one is asked for, with the cursor it
/// was asked `before` (`None` for the first): the page holds every listed approval whose id
/// is in `page.last()..before` (only rows older than the cursor, newest first).
pub async fn list_each(
    source: &dyn ApprovalSource,
    filter: &str,
    max: usize,
    first: u32,
    each: &mut (dyn FnMut(&[WalletApprovalSummary], Option<Uuid>) + Send),
) -> Result<Vec<WalletApprovalSummary>, ApproverError> {
    countersign_approver::paging::collect_pages(
        max,
        first,
        |before, limit| source.list_page(filter, before, limit),
        each,
    )
    .await
}

/// Makes sources, and pairs new devices.
pub trait Connector: Send + Sync + 'static {
    /// Who a pairing code pairs as, without using it up.
    fn preview<'a>(
        &'a self,
        server: &'a ServerUrl,
        code: &'a str,
    ) -> BoxFuture<'a, Result<PairPreview, ApproverError>>;
    /// Registers `key`'s public half with the code, for the service `preview` named (the
    /// request carries the key's proof of possession over the code and that service id).
    fn pair<'a>(
        &'a self,
        server: &'a ServerUrl,
        code: &'a str,
        preview: &'a PairPreview,
        device_name: &'a str,
        key: &'a SigningKey,
    ) -> BoxFuture<'a, Result<Pairing, ApproverError>>;
    /// A source for an existing pairing.
    fn connect(&self, pairing: Pairing, key: SigningKey) -> Arc<dyn ApprovalSource>;
}

/// The real connector: HTTP through the approver client.
#[derive(Clone)]
pub struct HttpConnector {
    http: HttpClients,
}

impl HttpConnector {
    /// A connector sharing these HTTP clients (connection pools) for all services.
    pub fn new(http: HttpClients) -> Self {
        Self { http }
    }

    /// A connector with the approver's clients: no redirects, a connect timeout, an overall
    /// deadline for requests and none (a read timeout only) for event streams.
    pub fn with_defaults() -> Result<Self, reqwest::Error> {
        Ok(Self::new(HttpClients::new(concat!(
            "countersign-wallet/",
            env!("CARGO_PKG_VERSION")
        ))?))
    }
}

impl Connector for HttpConnector {
    fn preview<'a>(
        &'a self,
        server: &'a ServerUrl,
        code: &'a str,
    ) -> BoxFuture<'a, Result<PairPreview, ApproverError>> {
        Box::pin(ApproverClient::preview(&self.http.requests, server, code))
    }

    fn pair<'a>(
        &'a self,
        server: &'a ServerUrl,
        code: &'a str,
        preview: &'a PairPreview,
        device_name: &'a str,
        key: &'a SigningKey,
    ) -> BoxFuture<'a, Result<Pairing, ApproverError>> {
        Box::pin(ApproverClient::pair_previewed(
            &self.http.requests,
            server,
            code,
            preview,
            device_name,
            key,
        ))
    }

    fn connect(&self, pairing: Pairing, key: SigningKey) -> Arc<dyn ApprovalSource> {
        Arc::new(HttpSource {
            pairing: pairing.clone(),
            client: ApproverClient::with_clients(&self.http, pairing, key),
        })
    }
}

struct HttpSource {
    pairing: Pairing,
    client: ApproverClient,
}

impl ApprovalSource for HttpSource {
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
        Box::pin(async move { self.client.list_page(&filter, before, limit).await })
    }

    fn review(&self, id: Uuid) -> BoxFuture<'_, Result<Review, ApproverError>> {
        Box::pin(self.client.review(id))
    }

    fn what_is_new<'a>(
        &'a self,
        review: &'a Review,
        max_items: usize,
    ) -> BoxFuture<'a, Result<Vec<Novelty>, ApproverError>> {
        Box::pin(self.client.what_is_new(review, max_items))
    }

    fn decide<'a>(
        &'a self,
        review: &'a Review,
        verdict: Verdict,
        comment: Option<String>,
    ) -> BoxFuture<'a, Result<DecisionResponse, ApproverError>> {
        Box::pin(self.client.decide(review, verdict, comment))
    }

    fn events(
        &self,
        last_event_id: Option<u64>,
    ) -> BoxFuture<'_, Result<EventStream, ApproverError>> {
        Box::pin(async move {
            let stream = self.client.events(last_event_id).await?;
            Ok(stream.boxed())
        })
    }
}
