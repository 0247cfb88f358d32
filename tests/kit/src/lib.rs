//! Countersign's test kit: what the demo, the benchmarks and every test suite start a service
//! with, so there is one way to do it.
//!
//! - [`sample_provider`]: the tiny "payments" upstream (counts calls; can fail, slow down, hang).
//! - [`config`]: the demo's configuration (one approver, one app, one grant, a policy).
//! - [`database`]: the database a test runs on — a temporary SQLite file, or a new
//!   PostgreSQL database when `COUNTERSIGN_TEST_POSTGRES` names a server.
//! - [`stack`]: provider and service on loopback, on either backend, with N replicas (the
//!   demo, the benchmarks, the Wallet's end-to-end tests).
//! - [`latency`]: latency samples read as percentiles, for the benchmarks.
//! - [`process`]: waiting for a `countersign serve` child process to answer.
//! - [`app`]: [`app::TestApp`], the integration suite's service with every option it tests
//!   (several approvers and apps, gates, limits, a fake clock), raw HTTP helpers, and
//!   [`app::Replica`], a second service on the same database.

pub mod app;
pub mod config;
pub mod database;
pub mod latency;
pub mod process;
pub mod sample_provider;
pub mod serving;
pub mod stack;
