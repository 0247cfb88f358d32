//! [`Client`]: the app's connection to a Countersign service.

use crate::credentials::Credentials;
use crate::error::{decode_json, Error};
use crate::outcome::{settle, ApprovalResult, PendingApproval, ProxyOutcome};
use crate::request::ProxyRequest;
use countersign_core::api::{ApprovalView, PendingBody};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{RequestBuilder, StatusCode};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use url::Url;
use uuid::Uuid;

/// Timeout of requests that are not long polls (`proxy_request` runs the provider call when
/// no approval is needed, so it gets room for that).
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(90);
/// Timeout of establishing a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Extra time a long poll is given beyond the time the service may hold it.
pub(crate) const POLL_GRACE: Duration = Duration::from_secs(10);
/// Answers larger than this are refused (the service caps provider bodies far below it).
const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;

/// The app's handle on a Countersign service. Cheap to clone (the state is shared).
///
/// ```no_run
/// let client = countersign_sdk::Client::new("https://countersign.example.com", "cs_live_…")?;
/// # Ok::<(), countersign_sdk::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    base: Url,
    credentials: Credentials,
    http: reqwest::Client,
    request_timeout: Duration,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base.as_str())
            .field("credentials", &self.inner.credentials)
            .field("request_timeout", &self.inner.request_timeout)
            .finish_non_exhaustive()
    }
}

/// A raw answer of the service.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) body: Vec<u8>,
}

impl Client {
    /// A client for the service at `base_url` (e.g. `https://countersign.example.com`, or
    /// with a path prefix) that authenticates with `api_key`.
    ///
    /// The URL must be `http` or `https`, without credentials, query or fragment. Use
    /// `https` for anything but a local service: the API key travels in every request.
    pub fn new(base_url: &str, api_key: impl Into<String>) -> Result<Self, Error> {
        Self::with_credentials(base_url, Credentials::api_key(api_key)?)
    }

    /// A client for the service at `base_url` that authenticates with `credentials`: a
    /// bearer key, or signed requests ([`Credentials::hmac`], [`Credentials::ed25519`]).
    ///
    /// ```no_run
    /// use countersign_sdk::{Client, Credentials};
    /// let secret = std::env::var("BATCH_SIGNING_SECRET").unwrap();
    /// let client = Client::with_credentials(
    ///     "https://countersign.example.com",
    ///     Credentials::hmac("batch", secret)?,
    /// )?;
    /// # Ok::<(), countersign_sdk::Error>(())
    /// ```
    pub fn with_credentials(base_url: &str, credentials: Credentials) -> Result<Self, Error> {
        let base = parse_base_url(base_url)?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            // The API key must never follow a redirect to another place.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("countersign-sdk/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            inner: Arc::new(Inner {
                base,
                credentials,
                http,
                request_timeout: DEFAULT_REQUEST_TIMEOUT,
            }),
        })
    }

    /// Uses `http` for all requests (proxies, custom TLS roots, …).
    ///
    /// Per-request timeouts are still set by this SDK. Prefer a client that does not follow
    /// redirects, so the API key is never sent anywhere else.
    pub fn with_http_client(self, http: reqwest::Client) -> Self {
        let mut inner = Arc::unwrap_or_clone(self.inner);
        inner.http = http;
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Sets the timeout of requests that are not long polls (default 90 s). It bounds
    /// [`proxy_request`](Self::proxy_request), which runs the provider call at once when no
    /// approval is needed.
    pub fn with_request_timeout(self, timeout: Duration) -> Self {
        let mut inner = Arc::unwrap_or_clone(self.inner);
        inner.request_timeout = timeout;
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The service's base URL (always ending with `/`).
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// Asks the service to make `request` with its grant (`POST /v1/proxy`).
    ///
    /// Returns [`ProxyOutcome::Completed`] when no approval was needed and the call ran, or
    /// [`ProxyOutcome::Pending`] when a person must approve it first. A call that ran but
    /// failed is [`Error::ExecutionFailed`]. This request is never retried by the SDK.
    pub async fn proxy_request(&self, request: ProxyRequest) -> Result<ProxyOutcome, Error> {
        let body = request.into_body()?;
        let url = self.endpoint("v1/proxy")?;
        tracing::debug!(grant = %body.grant, method = %body.method, path = %body.path, "proxy_request");
        let answer = self
            .send(
                self.inner
                    .http
                    .post(url)
                    .json(&body)
                    .timeout(self.inner.request_timeout),
            )
            .await?;
        match answer.status {
            StatusCode::OK => {
                let view: ApprovalView = decode_json(&answer.body)?;
                settle(view).map(ProxyOutcome::Completed)
            }
            StatusCode::ACCEPTED => {
                let pending: PendingBody = decode_json(&answer.body)?;
                Ok(ProxyOutcome::Pending(PendingApproval {
                    approval_id: pending.approval_id,
                    approval_url: pending.approval_url,
                    expires_at: pending.expires_at,
                    client: self.clone(),
                }))
            }
            status => Err(Error::from_response(status, &answer.body)),
        }
    }

    /// The approval's current state (`GET /v1/approvals/{id}`), without waiting.
    pub async fn approval(&self, approval_id: Uuid) -> Result<ApprovalView, Error> {
        let url = self.endpoint(&format!("v1/approvals/{approval_id}"))?;
        let answer = self
            .send(self.inner.http.get(url).timeout(self.inner.request_timeout))
            .await?;
        view_of(approval_id, answer)
    }

    /// Waits up to `timeout` for the approval's outcome.
    ///
    /// Long-polls `GET /v1/approvals/{id}?wait=S` (S ≤ 25 s) until the approval is final or
    /// the time is up, riding out 502/503/504, 429 and broken connections with capped,
    /// jittered exponential backoff. Works on any approval of this app, e.g. an id a worker
    /// persisted before a restart.
    ///
    /// - `succeeded` → `Ok(ApprovalResult)`
    /// - `denied` → [`Error::Denied`], `expired` → [`Error::Expired`],
    ///   `cancelled` → [`Error::Cancelled`], `execution_failed` → [`Error::ExecutionFailed`]
    /// - still open when `timeout` ends (or the service stayed unreachable) →
    ///   [`Error::Timeout`]; call `wait` again later.
    /// - any other refusal (e.g. 404, 401) → [`Error::Api`] at once.
    pub async fn wait(
        &self,
        approval_id: Uuid,
        timeout: Duration,
    ) -> Result<ApprovalResult, Error> {
        crate::wait::wait(self, approval_id, timeout).await
    }

    /// Withdraws a request that is still pending (`POST /v1/approvals/{id}/cancel`).
    ///
    /// Returns the approval, now `cancelled`. An approval that was already decided is
    /// refused with [`Error::Api`] (status 409).
    pub async fn cancel(&self, approval_id: Uuid) -> Result<ApprovalView, Error> {
        let url = self.endpoint(&format!("v1/approvals/{approval_id}/cancel"))?;
        let answer = self
            .send(
                self.inner
                    .http
                    .post(url)
                    .timeout(self.inner.request_timeout),
            )
            .await?;
        view_of(approval_id, answer)
    }

    /// One long poll: the service holds the answer up to `wait_secs` seconds.
    pub(crate) async fn poll(&self, approval_id: Uuid, wait_secs: u64) -> Result<Answer, Error> {
        let mut url = self.endpoint(&format!("v1/approvals/{approval_id}"))?;
        url.query_pairs_mut()
            .append_pair("wait", &wait_secs.to_string());
        let timeout = Duration::from_secs(wait_secs) + POLL_GRACE;
        self.send(self.inner.http.get(url).timeout(timeout)).await
    }

    fn endpoint(&self, relative: &str) -> Result<Url, Error> {
        self.inner
            .base
            .join(relative)
            .map_err(|e| Error::InvalidRequest(format!("cannot build URL {relative:?}: {e}")))
    }

    /// Sends with the credentials (a bearer key, or a signature made now over this very
    /// request) and reads the whole (bounded) answer.
    async fn send(&self, request: RequestBuilder) -> Result<Answer, Error> {
        let mut request = request.build()?;
        self.inner
            .credentials
            .apply(&mut request, &self.inner.base)?;
        let mut response = self.inner.http.execute(request).await?;
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(Error::decode(
                    format!("answer larger than {MAX_ANSWER_BYTES} bytes"),
                    &body,
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer {
            status,
            retry_after,
            body,
        })
    }
}

/// Reads an [`ApprovalView`] answer and checks it is about `approval_id`.
pub(crate) fn view_of(approval_id: Uuid, answer: Answer) -> Result<ApprovalView, Error> {
    if answer.status != StatusCode::OK {
        return Err(Error::from_response(answer.status, &answer.body));
    }
    let view: ApprovalView = decode_json(&answer.body)?;
    if view.approval_id != approval_id {
        return Err(Error::decode(
            format!(
                "asked about approval {approval_id}, got {}",
                view.approval_id
            ),
            &answer.body,
        ));
    }
    Ok(view)
}

/// `Retry-After` in seconds (the HTTP-date form is ignored).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs))
}

fn parse_base_url(text: &str) -> Result<Url, Error> {
    let invalid = |why: &str| Error::InvalidRequest(format!("base URL {text:?} {why}"));
    let mut url = Url::parse(text.trim()).map_err(|e| invalid(&format!("is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("must use http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("must not contain credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must not have a query or fragment"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    if url.scheme() == "http" && !is_loopback(&url) {
        tracing::warn!(base_url = %url, "Countersign base URL is plain http: the API key is sent unencrypted");
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn base_url_is_validated_and_normalised() {
        let c = Client::new("https://cs.example.com/prefix", "k").unwrap();
        assert_eq!(c.base_url().as_str(), "https://cs.example.com/prefix/");
        assert_eq!(
            c.endpoint("v1/proxy").unwrap().as_str(),
            "https://cs.example.com/prefix/v1/proxy"
        );
        for bad in [
            "",
            "cs.example.com",
            "ftp://cs.example.com",
            "https://user:pw@cs.example.com",
            "https://cs.example.com/?x=1",
            "https://cs.example.com/#frag",
        ] {
            assert!(
                matches!(Client::new(bad, "k"), Err(Error::InvalidRequest(_))),
                "{bad:?} was accepted"
            );
        }
        assert!(Client::new("http://127.0.0.1:1", " ").is_err());
        assert!(Client::new("http://127.0.0.1:1", "a\nb").is_err());
    }

    #[test]
    fn debug_never_shows_the_key() {
        let c = Client::new("http://localhost:8080", "cs_secret_value").unwrap();
        let c = c.with_request_timeout(Duration::from_secs(5));
        let shown = format!("{c:?} {:?}", c.clone());
        assert!(!shown.contains("cs_secret_value"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn retry_after_seconds() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), None);
    }
}
