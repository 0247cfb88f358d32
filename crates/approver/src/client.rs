//! [`ApproverClient`]: a paired device talking to the service's wallet endpoints.
//!
//! Every wallet request carries the session token (got by challenge–response with the device
//! key); a 401 renews the token once and retries the request once. Nothing is signed unless it
//! passed [`Review::verify`].

use crate::error::ApproverError;
use crate::events::EventStream;
use crate::http::HttpClients;
use crate::pairing::Pairing;
use crate::review::Review;
use crate::session::Session;
use countersign_core::api::{
    ApprovalHistory, DecisionRequest, DecisionResponse, WalletApprovalDetail, WalletApprovalList,
    WalletApprovalSummary,
};
use countersign_core::keys::{SigningKey, VerifyingKey};
use countersign_core::novelty::{compare, Novelty, Request as NoveltyRequest};
use countersign_core::{DeepLink, Timestamp, Verdict};
use reqwest::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::Arc;
use uuid::Uuid;

/// The `Last-Event-ID` request header of Server-Sent Events.
const LAST_EVENT_ID: &str = "Last-Event-ID";

pub use crate::paging::LIST_PAGE;

/// At most this many rows are listed by [`ApproverClient::list`].
pub const LIST_MAX: usize = 10_000;

/// Decodes a JSON answer, or turns an error status into [`ApproverError::Api`].
pub(crate) async fn read_json<T: DeserializeOwned>(answer: Response) -> Result<T, ApproverError> {
    let status = answer.status();
    let body = answer.bytes().await?;
    if !status.is_success() {
        return Err(ApproverError::from_error_body(status, &body));
    }
    // The body itself is left out of the message: it may hold a session token.
    serde_json::from_slice(&body).map_err(|e| {
        ApproverError::Decode(format!(
            "the {status} answer ({} bytes) is not the expected JSON: {e}",
            body.len()
        ))
    })
}

/// A paired device's client of the wallet endpoints. Cloning is cheap and clones share the
/// session.
///
/// The device key is passed in by the caller (from a [`KeyFile`](crate::KeyFile) for the
/// headless approver, from the OS keychain for the desktop Wallet) and never leaves memory.
///
/// Build it with [`with_clients`](Self::with_clients) and [`HttpClients`]: no redirects,
/// connect timeouts, an overall deadline for requests and none for the event stream.
#[derive(Clone)]
pub struct ApproverClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// The client of the event stream (no overall deadline).
    stream_http: reqwest::Client,
    pairing: Pairing,
    key: SigningKey,
    session: Session,
}

impl fmt::Debug for ApproverClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApproverClient")
            .field("pairing", &self.inner.pairing)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl ApproverClient {
    /// A client for `pairing`, signing with `key`, talking through `clients` (requests with a
    /// deadline, the event stream without). No request is made until the first call.
    pub fn with_clients(clients: &HttpClients, pairing: Pairing, key: SigningKey) -> Self {
        Self::build(
            clients.requests.clone(),
            clients.stream.clone(),
            pairing,
            key,
        )
    }

    /// A client using one `http` client for everything, the event stream included: give it
    /// no overall timeout (a connect timeout is fine), or the stream is cut by it. Prefer
    /// [`with_clients`](Self::with_clients).
    pub fn new(http: reqwest::Client, pairing: Pairing, key: SigningKey) -> Self {
        Self::build(http.clone(), http, pairing, key)
    }

    fn build(
        http: reqwest::Client,
        stream_http: reqwest::Client,
        pairing: Pairing,
        key: SigningKey,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                http,
                stream_http,
                pairing,
                key,
                session: Session::new(),
            }),
        }
    }

    /// The pairing this client acts for.
    pub fn pairing(&self) -> &Pairing {
        &self.inner.pairing
    }

    /// The device's public key.
    pub fn public_key(&self) -> VerifyingKey {
        self.inner.key.verifying_key()
    }

    /// Signs in now (instead of on the first request) and returns the session's expiry;
    /// useful to check that the device is still registered.
    pub async fn sign_in(&self) -> Result<Timestamp, ApproverError> {
        let i = &self.inner;
        i.session.force(&i.http, &i.pairing, &i.key).await
    }

    /// Drops the session token held in memory.
    pub async fn sign_out(&self) {
        self.inner.session.clear().await;
    }

    /// The approval a `countersign://approval/…` link opens, if the link is for the server
    /// this device is paired with; any other link is refused with [`ApproverError::WrongLink`].
    pub fn approval_from_link(&self, link: &DeepLink) -> Result<Uuid, ApproverError> {
        match link {
            DeepLink::Approval {
                approval_id,
                server,
            } if *server == self.inner.pairing.server => Ok(*approval_id),
            DeepLink::Approval { server, .. } => Err(ApproverError::WrongLink(format!(
                "the link is for {server}, but this device is paired with {}",
                self.inner.pairing.server
            ))),
            DeepLink::Pair { .. } => Err(ApproverError::WrongLink(
                "this is a pairing link, not an approval link".to_string(),
            )),
        }
    }

    /// Approvals visible to this approver (`GET /v1/wallet/approvals?status=<filter>`):
    /// `filter` is `pending`, `history`, `all`, or a status name such as `denied`. Newest
    /// first, all of them up to [`LIST_MAX`]: page after page of [`LIST_PAGE`] ([`Self::list_page`]),
    /// each asked `before` the last id of the previous one, so a flood of requests does not
    /// hide older ones behind the service's first page. A service older than the cursor answers
    /// its first page again: paging stops there (only that page is known).
    pub async fn list(&self, filter: &str) -> Result<Vec<WalletApprovalSummary>, ApproverError> {
        crate::paging::collect_pages(
            LIST_MAX,
            LIST_PAGE,
            |before, limit| self.list_page(filter, before, limit),
            &mut |_, _| {},
        )
        .await
    }

    /// One page of approvals visible to this approver
    /// (`GET /v1/wallet/approvals?status=<filter>&limit=<limit>&before=<id>`), newest first:
    /// at most `limit` (the service allows up to 1000), only those older than `before` when
    /// given (the last id of the previous page). A service older than the cursor ignores
    /// `before` and answers the first page again.
    pub async fn list_page(
        &self,
        filter: &str,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<WalletApprovalSummary>, ApproverError> {
        let url = self.inner.pairing.server.endpoint("/v1/wallet/approvals");
        let mut query = vec![("status", filter.to_string()), ("limit", limit.to_string())];
        if let Some(before) = before {
            query.push(("before", before.to_string()));
        }
        let answer = self
            .send_authed(|http| http.get(&url).query(&query))
            .await?;
        let list: WalletApprovalList = read_json(answer).await?;
        Ok(list.approvals)
    }

    /// Fetches one approval (`GET /v1/wallet/approvals/{id}`) and verifies it (see
    /// [`Review::verify`]) before returning it.
    pub async fn review(&self, approval_id: Uuid) -> Result<Review, ApproverError> {
        let url = self
            .inner
            .pairing
            .server
            .endpoint(&format!("/v1/wallet/approvals/{approval_id}"));
        let answer = self.send_authed(|http| http.get(&url)).await?;
        let detail: WalletApprovalDetail = read_json(answer).await?;
        Review::verify(detail, approval_id, &self.inner.pairing.service_id)
    }

    /// One page of past approved requests of the same kind as `approval_id`
    /// (`GET /v1/wallet/approvals/{id}/history`), newest first.
    pub async fn history_page(
        &self,
        approval_id: Uuid,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<ApprovalHistory, ApproverError> {
        let url = self
            .inner
            .pairing
            .server
            .endpoint(&format!("/v1/wallet/approvals/{approval_id}/history"));
        let mut query = vec![("limit", limit.to_string())];
        if let Some(before) = before {
            query.push(("before", before.to_string()));
        }
        let answer = self
            .send_authed(|http| http.get(&url).query(&query))
            .await?;
        read_json(answer).await
    }

    /// What is new in `review` compared with up to `max_items` past approved requests of the
    /// same kind, fetched page by page from the service.
    pub async fn what_is_new(
        &self,
        review: &Review,
        max_items: usize,
    ) -> Result<Vec<Novelty>, ApproverError> {
        let mut items = Vec::new();
        let mut before = None;
        while items.len() < max_items {
            let page = self
                .history_page(review.statement().approval_id, before, 1000)
                .await?;
            items.extend(page.items);
            match page.next_before {
                Some(next) => before = Some(next),
                None => break,
            }
        }
        items.truncate(max_items);
        let statement = review.statement();
        let current = NoveltyRequest {
            app: &statement.app,
            headers: &statement.headers,
            body: review.body(),
        };
        let history: Vec<NoveltyRequest> = items
            .iter()
            .map(|i| NoveltyRequest {
                app: &i.app,
                headers: &i.headers,
                body: &i.body,
            })
            .collect();
        Ok(compare(&current, &history))
    }

    /// The signed decision on `review`, dated now, without sending it.
    ///
    /// Refuses a review of another service's statement (a review made by a client of another
    /// pairing).
    pub fn sign_decision(
        &self,
        review: &Review,
        verdict: Verdict,
        comment: Option<String>,
    ) -> Result<DecisionRequest, ApproverError> {
        let pairing = &self.inner.pairing;
        if review.statement().service != pairing.service_id {
            return Err(ApproverError::WrongService {
                expected: pairing.service_id.clone(),
                got: review.statement().service.clone(),
            });
        }
        let decision = review.decision(
            verdict,
            comment,
            &pairing.approver_id,
            &pairing.key_id,
            Timestamp::now(),
        );
        let signature = decision.sign(&self.inner.key);
        Ok(DecisionRequest {
            decision,
            signature,
        })
    }

    /// Signs and sends a decision on `review`
    /// (`POST /v1/wallet/approvals/{id}/decision`). The decision binds the digest computed
    /// locally from the reviewed statement, never the service's.
    pub async fn decide(
        &self,
        review: &Review,
        verdict: Verdict,
        comment: Option<String>,
    ) -> Result<DecisionResponse, ApproverError> {
        let request = self.sign_decision(review, verdict, comment)?;
        let url = self.inner.pairing.server.endpoint(&format!(
            "/v1/wallet/approvals/{}/decision",
            review.approval_id()
        ));
        let answer = self
            .send_authed(|http| http.post(&url).json(&request))
            .await?;
        read_json(answer).await
    }

    /// Opens the live event stream (`GET /v1/wallet/events`), resuming after
    /// `last_event_id` when given.
    ///
    /// Items are `(id, event)`, the id being what to pass here when reconnecting. A malformed
    /// event is an `Err` item and the stream goes on; a broken connection is an `Err` item and
    /// the stream ends. Reconnecting (with backoff, and a full [`list`](Self::list) after a
    /// gap) is the caller's job.
    pub async fn events(&self, last_event_id: Option<u64>) -> Result<EventStream, ApproverError> {
        let url = self.inner.pairing.server.endpoint("/v1/wallet/events");
        let answer = self
            .send_authed(|_| {
                let request = self
                    .inner
                    .stream_http
                    .get(&url)
                    .header(ACCEPT, "text/event-stream")
                    .header(CACHE_CONTROL, "no-cache");
                match last_event_id {
                    Some(id) => request.header(LAST_EVENT_ID, id.to_string()),
                    None => request,
                }
            })
            .await?;
        let status = answer.status();
        if !status.is_success() {
            let body = answer.bytes().await?;
            return Err(ApproverError::from_error_body(status, &body));
        }
        let content_type = answer
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !content_type.starts_with("text/event-stream") {
            return Err(ApproverError::Decode(format!(
                "the event stream has content type {content_type:?}, not text/event-stream"
            )));
        }
        Ok(EventStream::from_body(answer.bytes_stream()))
    }

    /// Sends a wallet request with the session token; on 401, renews the token and sends it
    /// once more. `build` makes the request (without authentication) each time.
    async fn send_authed(
        &self,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response, ApproverError> {
        let i = &self.inner;
        let token = i.session.token(&i.http, &i.pairing, &i.key).await?;
        let answer = build(&i.http).bearer_auth(&token).send().await?;
        if answer.status() != StatusCode::UNAUTHORIZED {
            return Ok(answer);
        }
        tracing::debug!("session token refused; signing in again");
        let token = i
            .session
            .replace(&token, &i.http, &i.pairing, &i.key)
            .await?;
        Ok(build(&i.http).bearer_auth(&token).send().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::tests::{approval_id, detail, SERVICE};
    use countersign_core::keys::generate_signing_key;
    use countersign_core::{ServerUrl, SignatureError};

    fn client(service_id: &str) -> ApproverClient {
        let pairing = Pairing {
            server: ServerUrl::parse("http://127.0.0.1:8470").unwrap(),
            service_id: service_id.into(),
            approver_id: "alice".into(),
            approver_name: "Alice".into(),
            key_id: "key_0011223344556677".into(),
        };
        ApproverClient::new(reqwest::Client::new(), pairing, generate_signing_key())
    }

    #[test]
    fn a_decision_from_a_review_binds_the_local_digest_and_verifies() {
        let client = client(SERVICE);
        let review = Review::verify(detail(), approval_id(), SERVICE).unwrap();
        for (verdict, comment) in [
            (Verdict::Approve, None),
            (Verdict::Deny, Some("not this amount".to_string())),
        ] {
            let request = client
                .sign_decision(&review, verdict, comment.clone())
                .unwrap();
            let d = &request.decision;
            assert_eq!(d.v, 1);
            assert_eq!(d.approval_id, approval_id());
            assert_eq!(d.request_digest, review.statement().request_digest());
            assert_eq!(d.decision, verdict);
            assert_eq!(d.comment, comment);
            assert_eq!(d.approver_id, "alice");
            assert_eq!(d.key_id, "key_0011223344556677");
            assert!(Timestamp::now().unix() - d.decided_at.unix() <= 1);
            assert_eq!(d.verify(&client.public_key(), &request.signature), Ok(()));

            let mut other = d.clone();
            other.decision = match verdict {
                Verdict::Approve => Verdict::Deny,
                Verdict::Deny => Verdict::Approve,
            };
            assert_eq!(
                other.verify(&client.public_key(), &request.signature),
                Err(SignatureError::Invalid)
            );
        }
    }

    #[test]
    fn a_review_of_another_service_is_not_signed() {
        let review = Review::verify(detail(), approval_id(), SERVICE).unwrap();
        assert!(matches!(
            client("svc_other").sign_decision(&review, Verdict::Approve, None),
            Err(ApproverError::WrongService { .. })
        ));
    }

    #[test]
    fn only_approval_links_for_the_paired_server_are_accepted() {
        let client = client(SERVICE);
        let mine = DeepLink::Approval {
            approval_id: approval_id(),
            server: ServerUrl::parse("http://127.0.0.1:8470/").unwrap(),
        };
        assert_eq!(client.approval_from_link(&mine).unwrap(), approval_id());
        let theirs = DeepLink::Approval {
            approval_id: approval_id(),
            server: ServerUrl::parse("https://evil.example").unwrap(),
        };
        assert!(matches!(
            client.approval_from_link(&theirs),
            Err(ApproverError::WrongLink(m)) if m.contains("evil.example")
        ));
        let pair = DeepLink::Pair {
            server: ServerUrl::parse("http://127.0.0.1:8470").unwrap(),
            code: "abcdefghijklmnop".into(),
        };
        assert!(client.approval_from_link(&pair).is_err());
    }

    #[test]
    fn debug_output_hides_the_key() {
        let text = format!("{:?}", client(SERVICE));
        assert!(text.contains("<redacted>") && text.contains("alice"));
    }
}
