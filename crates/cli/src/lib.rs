//! The `countersign` command's library: what the subcommands do, so tests can call them.
//!
//! - [`serve`]: run the service from a config file until Ctrl-C / SIGTERM.
//! - [`headless`]: the headless approver (key in a file) for scripts and tests.
//! - [`demo`]: the whole flow on loopback with a temporary database.
//! - [`sample_provider`], [`stack`]: the test kit's sample upstream and provider + service
//!   stack (`countersign-kit`), re-exported: the demo runs on them.
//! - [`display`]: printing untrusted text inertly in a terminal.
//! - [`devices`]: what `device list`, `device revoke` and `approver remove` print.
//! - [`mcp`]: `countersign mcp`, the MCP gateway over stdio.
//! - [`policy_tools`]: `policy explain` and `policy replay`, for people who write policies.

pub mod demo;
pub mod devices;
pub mod display;
pub mod headless;
pub mod mcp;
pub mod policy_tools;
pub mod serve;
pub use countersign_kit::{sample_provider, stack};
