//! Reviewing and deciding: fetch and verify a request, record its body seen, sign a decision
//! only for the request the person saw.

use super::{Wallet, MAX_COMMENT_CHARS, NOVELTY_HISTORY};
use crate::approver::{Pairing, Review};
use crate::body::cut_short;
use crate::error::WalletError;
use crate::model::WalletUpdate;
use crate::pages::{BodyPage, BodyPages, PageLedger};
use crate::registry::PairingId;
use crate::reveal::reveal_name;
use crate::review::{review_view, review_view_paged, BodyGate, ReviewView};
use countersign_core::{ApprovalStatus, Verdict};
use std::sync::Arc;
use uuid::Uuid;

impl Wallet {
    /// Fetches and verifies one request as pairing `pairing` and returns what the review
    /// screen shows. The verified request is kept (in memory, under that pairing) as the only
    /// thing [`Wallet::decide`] will sign, and only with that pairing's key.
    pub async fn review(
        &self,
        pairing: &PairingId,
        approval_id: Uuid,
    ) -> Result<ReviewView, WalletError> {
        let source = self.source(pairing).await?;
        let server = &source.pairing().server;
        let review = source
            .review(approval_id)
            .await
            .map_err(|e| WalletError::from_client(e, server, Some(approval_id)))?;
        verify_locally(&review, source.pairing(), approval_id)?;
        let pages = self.body_pages(pairing, &review).await;
        let mut view = review_view_paged(
            server,
            review.detail(),
            review.digest(),
            &source.pairing().approver_id,
            self.inner.clock.now(),
            &pages,
        );
        // The first page is in the view.
        self.serve_page(pairing, approval_id, review.digest(), &pages, 0);
        view.body_gate.seen |= self.is_seen(pairing, approval_id, review.digest());
        view.deciding_as = Some(reveal_name(&source.pairing().approver_name));
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
            .insert((pairing.clone(), approval_id), review);
        Ok(view)
    }

    /// The request body of `review` cut into pages: the ones kept for that approval when
    /// they are of the same digest, otherwise made (off the async threads: a megabyte of JSON
    /// takes a while) and kept, the least recently used beyond [`super::BODY_PAGES_KEPT`] dropped.
    async fn body_pages(&self, pairing: &PairingId, review: &Review) -> Arc<BodyPages> {
        let key = (pairing.clone(), review.detail().statement.approval_id);
        if let Some(p) = self.kept_pages(&key, review.digest()) {
            return p;
        }
        let owned = review.clone();
        let made = tokio::task::spawn_blocking(move || request_body(&owned))
            .await
            .map(Arc::new);
        let pages = match made {
            Ok(p) => p,
            // The blocking pool is gone (shutting down): make them here.
            Err(_) => Arc::new(request_body(review)),
        };
        let mut kept = self.inner.pages.lock().expect("pages lock");
        kept.insert(key, review.digest().to_string(), pages.clone());
        pages
    }

    fn kept_pages(&self, key: &(PairingId, Uuid), digest: &str) -> Option<Arc<BodyPages>> {
        self.inner
            .pages
            .lock()
            .expect("pages lock")
            .get(key, digest)
    }

    /// Records page `index` of the body of `digest` as handed to the view.
    fn serve_page(
        &self,
        pairing: &PairingId,
        approval_id: Uuid,
        digest: &str,
        pages: &BodyPages,
        index: u32,
    ) {
        self.inner
            .ledgers
            .lock()
            .expect("ledgers lock")
            .entry((pairing.clone(), approval_id, digest.to_string()))
            .or_insert_with(|| PageLedger::new(pages.pages()))
            .serve(index);
    }

    /// Page `index` (from 0) of the body of the request last shown by [`Wallet::review`],
    /// whose digest the view showed as `shown_digest`. Each page handed out is recorded:
    /// [`Wallet::body_seen`] accepts the end seen only once every page was.
    pub async fn body_page(
        &self,
        pairing: &PairingId,
        approval_id: Uuid,
        shown_digest: &str,
        index: u32,
    ) -> Result<BodyPage, WalletError> {
        let review = self.reviewed(pairing, approval_id)?;
        if review.digest() != shown_digest {
            return Err(WalletError::StaleReview);
        }
        let pages = self.body_pages(pairing, &review).await;
        let page = pages.page(index).ok_or(WalletError::NoSuchPage {
            index,
            pages: pages.pages(),
        })?;
        self.serve_page(pairing, approval_id, review.digest(), &pages, index);
        Ok(page)
    }

    fn reviewed(&self, pairing: &PairingId, approval_id: Uuid) -> Result<Review, WalletError> {
        self.inner
            .reviews
            .lock()
            .expect("reviews lock")
            .get(&(pairing.clone(), approval_id))
            .cloned()
            .ok_or(WalletError::NotReviewed)
    }

    pub(super) fn is_seen(&self, pairing: &PairingId, approval_id: Uuid, digest: &str) -> bool {
        self.inner.seen.lock().expect("seen lock").contains(&(
            pairing.clone(),
            approval_id,
            digest.to_string(),
        ))
    }

    /// The view reports that the person saw the body of the request last shown by
    /// [`Wallet::review`] to its end. `shown_digest` is the digest the view displayed; it must
    /// be the one the Wallet verified. Only a body shown whole can be marked seen, and only
    /// once the view fetched every one of its pages ([`Wallet::body_page`]). Approving
    /// ([`Wallet::decide`]) requires this mark for the digest signed.
    pub async fn body_seen(
        &self,
        pairing: &PairingId,
        approval_id: Uuid,
        shown_digest: &str,
    ) -> Result<(), WalletError> {
        let review = self.reviewed(pairing, approval_id)?;
        if review.digest() != shown_digest {
            return Err(WalletError::StaleReview);
        }
        let pages = self.body_pages(pairing, &review).await;
        let head = pages.head();
        if let Some(why) = cut_short(head.truncated, head.size) {
            return Err(WalletError::BodyNotShown(why));
        }
        let served = self
            .inner
            .ledgers
            .lock()
            .expect("ledgers lock")
            .get(&(pairing.clone(), approval_id, review.digest().to_string()))
            .map_or(0, |l| {
                if l.complete() {
                    pages.pages()
                } else {
                    l.served()
                }
            });
        if served < pages.pages() {
            return Err(WalletError::PagesNotFetched {
                served,
                pages: pages.pages(),
            });
        }
        self.inner.seen.lock().expect("seen lock").insert((
            pairing.clone(),
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
        pairing: &PairingId,
        approval_id: Uuid,
        verdict: Verdict,
        comment: Option<String>,
        shown_digest: &str,
    ) -> Result<ReviewView, WalletError> {
        let source = self.source(pairing).await?;
        let server = &source.pairing().server;
        let review = self.reviewed(pairing, approval_id)?;
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
            let gate = BodyGate::of(self.body_pages(pairing, &review).await.head());
            if let Some(why) = gate.why_not {
                return Err(WalletError::BodyNotShown(why));
            }
            if !gate.seen && !self.is_seen(pairing, approval_id, review.digest()) {
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
                inbox.remove(pairing, approval_id);
                inbox.count(now)
            };
            self.inner
                .observer
                .update(WalletUpdate::InboxChanged { count });
        }
        // Show the outcome: fetch again (execution may already be done); if that fails, show
        // what the decision answer said.
        match self.review(pairing, approval_id).await {
            Ok(view) => Ok(view),
            Err(e) => {
                tracing::warn!("refetch after decision failed: {e}");
                let mut detail = review.detail().clone();
                detail.status = response.status;
                detail.decisions = response.decisions;
                let mut view = review_view(
                    server,
                    &detail,
                    review.digest(),
                    &source.pairing().approver_id,
                    self.inner.clock.now(),
                );
                view.deciding_as = Some(reveal_name(&source.pairing().approver_name));
                Ok(view)
            }
        }
    }
}

/// The request body of `review` as the review screen's pages show it.
fn request_body(review: &Review) -> BodyPages {
    BodyPages::of(
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
