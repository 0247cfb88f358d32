//! The Countersign Wallet without a window: everything the desktop approver does, as a library
//! the Tauri shell (`src-tauri`) wraps in thin commands, and tests drive directly.
//!
//! Layout:
//! - [`wallet`]: [`Wallet`], the facade: pairings, live inbox, reviews, decisions, history.
//! - [`model`]: what the Wallet hands the view (screens' data, live updates) and its clock.
//! - [`registry`]: the pairing list (one entry per approver of a service), a JSON file with
//!   no secrets.
//! - [`settings`]: notifications per pairing and quiet hours, a JSON file with no secrets.
//! - [`contacts`]: each pairing's last contact with its service, kept across restarts.
//! - [`keystore`]: [`KeyStore`]: the OS keychain (Secret Service) and an in-memory store.
//! - [`inbox`]: pending requests across services, newest first (pure state).
//! - [`sync`]: one loop per service: SSE events, backoff, full refresh after reconnecting.
//! - [`source`]: the service as traits; the real one wraps the approver client.
//! - [`links`]: `countersign://` links to actions, with typed refusals.
//! - [`review`], [`body`], [`pages`]: what the review screen shows, built in Rust; the body
//!   cut into pages the view asks for one at a time.
//! - [`reveal`]: bidi and invisible characters made visible.
//! - [`notify`]: notification content and the desktop notifier.
//! - [`bindings`]: the view's TypeScript types (`ui/src/bindings/`), generated and checked.
//! - [`error`]: [`WalletError`], serialized as `{code, message}`.
//! - [`channel`]: the messages between the tray process and the window process, as JSON lines.
//!
//! Nothing here needs a display; talking to a service goes only through `countersign-approver`.

pub mod approver;
pub mod bindings;
pub mod body;
pub mod channel;
pub mod contacts;
pub mod error;
#[cfg(test)]
mod fake;
pub mod inbox;
pub mod keystore;
pub mod links;
pub mod model;
pub mod notify;
pub mod pages;
pub mod registry;
pub mod reveal;
pub mod review;
pub mod settings;
pub mod source;
pub mod sync;
pub mod wallet;

pub use error::WalletError;
pub use keystore::{KeyStore, KeychainStore, MemoryKeyStore};
pub use wallet::{Wallet, WalletConfig, WalletParts, WalletUpdate};
