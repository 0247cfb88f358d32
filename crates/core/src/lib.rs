//! The Countersign protocol core: everything the service, the SDK and the Wallet must agree on.
//!
//! Layout:
//! - [`jcs`]: RFC 8785 canonical JSON, the byte form that is hashed and signed.
//! - [`time`]: [`Timestamp`], RFC 3339 UTC with whole seconds, the only time form on the wire.
//! - [`encoding`]: base64url (no padding) and hex helpers.
//! - [`keys`]: Ed25519 key generation, public key encoding and key ids.
//! - [`statement`]: the [`Statement`] an approver reviews and its `request_digest`.
//! - [`decision`]: the signed approve/deny [`Decision`].
//! - [`session`]: the Wallet's challenge–response session signature.
//! - [`pairing`]: the proof of possession a device signs when it pairs.
//! - [`app_request`]: signed app requests (HMAC-SHA256 or Ed25519 over method, path, query,
//!   timestamp, nonce and the body's SHA-256), made by the SDKs and checked by the service.
//! - [`link`]: `countersign://` deep links (pairing and approval).
//! - [`audit`]: the hash chain of the append-only audit log.
//! - [`api`]: request and response bodies of every endpoint.
//! - [`status`]: the approval lifecycle states.
//! - [`text`]: revealing bidi and invisible characters in untrusted text.
//!
//! No part of this crate performs I/O; it depends on neither axum nor Tauri.

pub mod acceptance;
pub mod api;
pub mod app_request;
pub mod audit;
pub mod body;
pub mod decision;
pub mod encoding;
pub mod jcs;
pub mod keys;
pub mod link;
pub mod novelty;
pub mod pairing;
pub mod session;
pub mod statement;
pub mod status;
pub mod text;
pub mod time;

pub use decision::{Decision, SignatureError, Verdict};
pub use link::{DeepLink, LinkError, ServerUrl};
pub use statement::Statement;
pub use status::ApprovalStatus;
pub use time::Timestamp;

/// The protocol version carried as `v` in statements and decisions.
pub const PROTOCOL_VERSION: u32 = 1;
