//! The approver side of Countersign: pair a device, sign in, list and review approvals, sign
//! decisions, follow live events.
//!
//! Used by the headless approver (CLI, scripts, tests) and by the desktop Wallet. It never
//! decides where the device key lives: callers pass a
//! [`SigningKey`](countersign_core::keys::SigningKey) in. The headless approver keeps it in a
//! [`KeyFile`]; the desktop Wallet keeps it in the OS keychain.
//!
//! Layout:
//! - [`pairing`]: [`Pairing`] (what a device knows about its service) and
//!   [`ApproverClient::preview`] / [`ApproverClient::pair`] (`/v1/pair/preview`, `/v1/pair`).
//! - [`client`]: [`ApproverClient`], the paired device's client of `/v1/wallet/*`.
//! - `session`: challenge–response sign-in; the token stays in memory and is renewed before
//!   expiry and after a 401.
//! - [`progress`]: [`policy_progress`], what an approval still needs (each policy's deciding
//!   rule, each gate's approvals and who can still fill it), shared by every approver UI.
//! - [`review`]: [`Review`], an approval detail that passed local verification (approval id,
//!   service, version, recomputed digest, body). Decisions are only built from a `Review`.
//! - [`events`] and [`sse`]: the live event stream and the Server-Sent Events parser under it.
//! - [`http`]: [`HttpClients`], no redirects, connect timeouts, an overall deadline for
//!   requests and none (only a read timeout) for the event stream.
//! - [`keyfile`]: [`KeyFile`], the headless approver's key and pairing on disk (mode 0600).
//! - [`error`]: the [`ApproverError`] type and its helpers.
//!
//! A typical headless round:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use countersign_approver::{ApproverClient, KeyFile, Verdict};
//!
//! let (pairing, key) = KeyFile::load("approver.json")?;
//! let http = countersign_approver::HttpClients::new("my-approver")?;
//! let client = ApproverClient::with_clients(&http, pairing, key);
//! for row in client.list("pending").await? {
//!     let review = client.review(row.approval_id).await?; // verified here
//!     println!("{} {} — {} [{}]", review.statement().method, review.statement().url,
//!              review.statement().reason, review.fingerprint());
//!     client.decide(&review, Verdict::Approve, None).await?;
//! }
//! # Ok(()) }
//! ```

pub mod client;
pub mod error;
pub mod events;
pub mod http;
pub mod keyfile;
pub mod paging;
pub mod pairing;
pub mod progress;
pub mod review;
mod session;
pub mod sse;

pub use client::ApproverClient;
pub use error::ApproverError;
pub use events::EventStream;
pub use http::HttpClients;
pub use keyfile::{KeyFile, KeyFileError};
pub use pairing::Pairing;
pub use progress::{policy_progress, GateLine, GateState, PolicyLine, PolicyProgress, RuleMatch};
pub use review::Review;

pub use countersign_core::api::{
    DecisionResponse, PairPreview, WalletApprovalDetail, WalletApprovalSummary, WalletEvent,
    WalletEventKind,
};
pub use countersign_core::Verdict;
