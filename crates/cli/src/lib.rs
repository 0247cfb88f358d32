//! The `countersign` command's library: what the subcommands do, so tests can call them.
//!
//! - [`serve`]: run the service from a config file until Ctrl-C / SIGTERM.
//! - [`headless`]: the headless approver (key in a file) for scripts and tests.
//! - [`demo`]: the whole flow on loopback with a temporary database.
//! - [`sample_provider`]: the tiny "payments" upstream the demo and tests call.
//! - [`stack`]: provider and service on loopback, for the demo and the benchmark.
//! - [`display`]: printing untrusted text inertly in a terminal.
//! - [`devices`]: what `device list`, `device revoke` and `approver remove` print.
//! - [`policy_tools`]: `policy explain` and `policy replay`, for people who write policies.

pub mod demo;
pub mod devices;
pub mod display;
pub mod headless;
pub mod policy_tools;
pub mod sample_provider;
pub mod serve;
pub mod stack;
