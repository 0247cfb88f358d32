//! The Countersign agent SDK: make sensitive HTTP calls that wait for a person's signed
//! approval.
//!
//! An app (an agent or a backend) never holds the provider's secret. It asks the Countersign
//! service to make a call with a named **grant**; when the grant's policy requires it, the
//! call pauses until enough approvers approve it in their Wallet, and then the service makes
//! it exactly once.
//!
//! # Tour
//!
//! - [`Client`]: the connection to the service (base URL and API key; cheap to clone).
//!   [`Client::with_credentials`] with [`Credentials::hmac`] or [`Credentials::ed25519`]
//!   signs every request instead of sending a bearer key.
//! - [`ProxyRequest`]: the call to make (grant, method, path, query, headers, body, and a
//!   reason the approver will read).
//! - [`Client::proxy_request`] answers a [`ProxyOutcome`]: [`Completed`](ProxyOutcome::Completed)
//!   when no approval was needed, or [`Pending`](ProxyOutcome::Pending) with a
//!   [`PendingApproval`] to wait on.
//! - [`PendingApproval::wait`] and [`Client::wait`] long-poll the service until the outcome
//!   is known or the local timeout ends, riding out restarts and gateway errors of the
//!   service.
//! - [`ApprovalResult`]: the provider's answer (any status, including 4xx).
//! - [`Error`]: every other ending — denied, expired, cancelled, execution failed, the local
//!   wait ended ([`Error::Timeout`]), or a refusal/transport problem.
//!
//! # Branch on pending vs immediate
//!
//! ```no_run
//! use countersign_sdk::{Client, ProxyOutcome, ProxyRequest};
//!
//! # async fn example() -> Result<(), countersign_sdk::Error> {
//! let client = Client::new("https://countersign.example.com", std::env::var("CS_KEY").unwrap())?;
//! let request = ProxyRequest::post("stripe", "/v1/refunds", "Refund order #1042 (damaged item)")
//!     .json(&serde_json::json!({"charge": "ch_123", "amount": 1500}))?;
//!
//! match client.proxy_request(request).await? {
//!     ProxyOutcome::Completed(result) => {
//!         println!("ran at once: {} {:?}", result.status(), result.body());
//!     }
//!     ProxyOutcome::Pending(pending) => {
//!         println!(
//!             "waiting for approval {} until {}: {}",
//!             pending.approval_id, pending.expires_at, pending.approval_url
//!         );
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Await inline with a timeout
//!
//! ```no_run
//! use countersign_sdk::{Client, ProxyOutcome, ProxyRequest};
//! use std::time::Duration;
//!
//! # async fn example(client: Client) -> Result<(), countersign_sdk::Error> {
//! let request = ProxyRequest::delete("github", "/repos/acme/old-service", "Archive retired repo");
//! let result = match client.proxy_request(request).await? {
//!     ProxyOutcome::Completed(result) => result,
//!     ProxyOutcome::Pending(pending) => pending.wait(Duration::from_secs(10 * 60)).await?,
//! };
//! #[derive(serde::Deserialize)]
//! struct Deleted {}
//! if result.status() < 300 {
//!     let _ = result.json::<Deleted>();
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Persist the approval id and resume in a worker after a restart
//!
//! Waiting can take hours. A worker can store the id, stop, and pick the wait up again:
//! `wait` works on any approval of this app, and [`Error::Timeout`] only means the local
//! wait ended.
//!
//! ```no_run
//! use countersign_sdk::{Client, Error, ProxyOutcome, ProxyRequest};
//! use std::time::Duration;
//! use uuid::Uuid;
//!
//! # fn save_job(_: Uuid) {}
//! # fn load_jobs() -> Vec<Uuid> { Vec::new() }
//! # fn finish_job(_: Uuid, _: Result<countersign_sdk::ApprovalResult, Error>) {}
//! # async fn example(client: Client) -> Result<(), Error> {
//! // Producer: ask, persist the id, move on.
//! let request = ProxyRequest::post("payroll", "/v2/payouts", "Monthly contractor payout");
//! if let ProxyOutcome::Pending(pending) = client.proxy_request(request).await? {
//!     save_job(pending.approval_id);
//! }
//!
//! // Worker, possibly after a restart: resume every stored approval.
//! for approval_id in load_jobs() {
//!     match client.wait(approval_id, Duration::from_secs(60)).await {
//!         Err(Error::Timeout { .. }) => continue, // still open: keep the job, poll later
//!         outcome => finish_job(approval_id, outcome),
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Handle each error
//!
//! ```no_run
//! use countersign_sdk::{Client, Error, FailureReason};
//! use std::time::Duration;
//! use uuid::Uuid;
//!
//! # async fn example(client: Client, approval_id: Uuid) {
//! match client.wait(approval_id, Duration::from_secs(300)).await {
//!     Ok(result) => println!("provider answered {}", result.status()),
//!     Err(Error::Denied { approver, comment, .. }) => {
//!         println!("{approver} denied it: {}", comment.unwrap_or_default());
//!     }
//!     Err(Error::Expired { .. }) => println!("nobody approved in time; ask again if still needed"),
//!     Err(Error::Cancelled { .. }) => println!("we withdrew the request"),
//!     Err(Error::ExecutionFailed { reason: FailureReason::OutcomeUnknown, .. }) => {
//!         println!("the call may or may not have reached the provider; check before retrying");
//!     }
//!     Err(Error::ExecutionFailed { reason, message, status, .. }) => {
//!         println!("approved, but the call failed ({reason:?}, {status:?}): {message}");
//!     }
//!     Err(Error::Timeout { approval_id }) => println!("still open; wait on {approval_id} later"),
//!     Err(Error::Api { status, code, message }) => println!("refused: {status} {code}: {message}"),
//!     Err(Error::Transport(e)) => println!("cannot reach the service: {e}"),
//!     Err(Error::Decode { message, .. }) => println!("unexpected answer: {message}"),
//!     Err(Error::InvalidRequest(why)) => println!("fix the request: {why}"),
//!     Err(other) => println!("{other}"), // `Error` is non-exhaustive
//! }
//! # }
//! ```
//!
//! # Security notes
//!
//! - The API key is sent only as `Authorization: Bearer` to the configured base URL; the
//!   SDK's default HTTP client does not follow redirects, and `Debug` output redacts the key.
//! - With signing [`Credentials`] no secret travels at all: each request carries a
//!   signature over its method, path, query, body, the time and a fresh nonce, which the
//!   service accepts once and for five minutes at most.
//! - [`Client::proxy_request`] is never retried by the SDK (a retry could ask twice).
//!   Only the read-only status polls of a wait are retried.

#![warn(missing_docs)]

mod client;
mod credentials;
mod error;
mod outcome;
mod request;
mod wait;

pub use client::Client;
pub use credentials::Credentials;
pub use error::Error;
pub use outcome::{ApprovalResult, PendingApproval, ProxyOutcome};
pub use request::ProxyRequest;

pub use countersign_core::api::{
    ApprovalView, DecisionSummary, ExecutionFailure, FailureReason, UpstreamResponse,
};
pub use countersign_core::{ApprovalStatus, Timestamp, Verdict};
