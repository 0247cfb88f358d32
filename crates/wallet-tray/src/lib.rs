//! The Countersign Wallet's tray process (`countersign-wallet`): what runs all day, without
//! GTK or WebKit. It holds the [`countersign_wallet::Wallet`] (pairings, live sync,
//! notifications, the keychain, signing), owns the single instance and `countersign://` links,
//! shows the tray icon, and starts the window process (`countersign-wallet-window`, the Tauri
//! view) on demand, serving its commands over a socket pair. Closing the window ends that
//! process and WebKit's with it; this one runs on.
//!
//! One file per concern:
//! - [`app`]: the state: the Wallet, the view queue, the window process;
//! - [`dispatch`]: the view's commands by name;
//! - [`window`]: starting the window process with its end of the channel;
//! - [`views`]: where the next view should go (links, notification clicks);
//! - [`instance`]: one Wallet per session (a D-Bus name; a second launch hands over);
//! - [`icon`]: the tray icon (StatusNotifierItem);
//! - [`autostart`]: the "start at login" entry, which starts the Wallet in the tray;
//! - [`handler`]: the per-user `countersign://` handler, when no package installed one.

pub mod app;
pub mod autostart;
pub mod dispatch;
pub mod handler;
#[cfg(target_os = "linux")]
pub mod icon;
#[cfg(target_os = "linux")]
pub mod instance;
pub mod views;
pub mod window;

pub use app::{App, AppConfig};

/// Environment variable overriding the data directory (tests run isolated Wallets).
pub const DATA_DIR_ENV: &str = "COUNTERSIGN_WALLET_DATA_DIR";

/// The app id: the data directory's and the autostart entry's name.
pub const IDENTIFIER: &str = "dev.countersign.wallet";

/// The product's name.
pub const PRODUCT_NAME: &str = "Countersign Wallet";

/// The Wallet's data directory: `$COUNTERSIGN_WALLET_DATA_DIR`, else
/// `<XDG data home>/dev.countersign.wallet` (where the Tauri app kept it before the split).
pub fn data_dir() -> Option<std::path::PathBuf> {
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
        return Some(dir.into());
    }
    handler::data_home(std::env::var_os("XDG_DATA_HOME"), std::env::var_os("HOME"))
        .map(|d| d.join(IDENTIFIER))
}

/// "Countersign Wallet on <host>": the name this device registers with.
pub fn device_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this computer".into());
    format!("Countersign Wallet on {host}")
}
