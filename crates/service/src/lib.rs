//! The Countersign service: an HTTP API that holds an app's sensitive upstream call until
//! enough approvers have signed off, then runs it once with a secret the app never sees.
//!
//! Layout:
//! - [`config`]: the TOML configuration (apps, grants, policies, approvers) and secrets.
//! - [`server`]: [`Service`] start-up, serving and graceful shutdown.
//! - [`routes`]: the endpoints of the protocol, one module per group.
//! - [`call`]: checking a requested call and resolving it against its grant.
//! - [`executor`]: running an approved call at most once; crash recovery.
//! - [`expiry`]: closing approval windows on time.
//! - [`events`]: the in-process bus behind long polls and wallet event streams.
//! - [`wallet_auth`]: wallet challenges and session tokens: lifetimes and bounds (kept in
//!   the store, so shared by replicas).
//! - [`slots`]: caps on concurrent event streams per device key and long polls per app.
//! - [`store`]: SQLite or PostgreSQL persistence, every change with its audit entry in one
//!   transaction.
//! - [`admin`]: pairing codes, grant and device revocation, removing an approver's devices
//!   and audit verification for the CLI.
//! - [`clock`], [`error`], [`state`]: time source, error answers, shared state.

pub mod admin;
pub mod call;
pub mod clock;
pub mod config;
pub mod error;
pub mod events;
pub mod executor;
pub mod expiry;
pub mod feed;
pub mod policy;
pub mod routes;
pub mod server;
pub mod slots;
pub mod state;
pub mod store;
pub mod wallet_auth;

pub use admin::{Admin, AdminError, ApproverRemoval, DeviceRevocation, Invite};
pub use config::{Config, ConfigError, Secrets};
pub use server::{Service, ServiceError};
