//! Support for the Wallet's end-to-end test (`tests/e2e.rs`, run by `scripts/wallet-e2e.sh`):
//! a minimal W3C WebDriver client ([`webdriver`]), a loopback Countersign stack
//! ([`stack`]: sample provider + service + pairing invitations) and the panel's side of the
//! tray icon ([`sni`]: a StatusNotifierWatcher and a dbusmenu client); [`script`]: what the
//! scripts running the tests hand them.

pub mod desktop;
pub mod measure;
pub mod script;
pub mod sni;
pub mod stack;
pub mod webdriver;
