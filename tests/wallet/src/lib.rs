//! Support for the Wallet's end-to-end test (`tests/e2e.rs`, run by `scripts/wallet-e2e.sh`):
//! a minimal W3C WebDriver client ([`webdriver`]) and a loopback Countersign stack
//! ([`stack`]: sample provider + service + pairing invitations).

pub mod desktop;
pub mod measure;
pub mod stack;
pub mod webdriver;
