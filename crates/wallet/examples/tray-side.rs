//! The tray side of a split Wallet, measured by scripts/wallet-bench.sh: the Wallet's Rust
//! part (pairing registry, live SSE sync, desktop notifications, keychain, signing) in a
//! process of its own, without GTK or WebKit. It is what a tray process of the split design
//! (crates/wallet/README.md, "Figures") would hold before it adds a tray icon and the local
//! socket to the window process.
//!
//! `tray-side <countersign://pair… link>`: pairs (data in `$COUNTERSIGN_WALLET_DATA_DIR`, the
//! key in the Secret Service), prints `paired`, then syncs and notifies until its standard
//! input closes. A notification's Review prints `review <update>`.

use countersign_wallet::notify::{DesktopNotifier, ReviewHandler};
use countersign_wallet::source::HttpConnector;
use countersign_wallet::sync::SyncConfig;
use countersign_wallet::wallet::{Observer, SystemClock};
use countersign_wallet::{KeychainStore, Wallet, WalletConfig, WalletParts, WalletUpdate};
use std::io::Read;
use std::sync::Arc;

/// Updates have no view to go to here.
struct NoView;

impl Observer for NoView {
    fn update(&self, _: WalletUpdate) {}
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

#[tokio::main]
async fn main() -> Result<()> {
    let link = std::env::args()
        .nth(1)
        .ok_or("usage: tray-side <countersign://pair… link>")?;
    let data_dir = std::env::var_os("COUNTERSIGN_WALLET_DATA_DIR")
        .ok_or("COUNTERSIGN_WALLET_DATA_DIR is not set")?;
    let on_review: ReviewHandler = Arc::new(|update| println!("review {update:?}"));
    let wallet = Wallet::start(WalletParts {
        config: WalletConfig {
            data_dir: data_dir.into(),
            device_name: "tray-side probe".into(),
            sync: SyncConfig::default(),
        },
        connector: Arc::new(HttpConnector::with_defaults()?),
        keys: Arc::new(KeychainStore::new()),
        notifier: Arc::new(DesktopNotifier::new(on_review)),
        observer: Arc::new(NoView),
        clock: Arc::new(SystemClock),
    })
    .await?;
    match wallet.open_link(&link).await? {
        countersign_wallet::links::LinkAction::ConfirmPairing { server, code } => {
            wallet.confirm_pairing(&server, &code).await?;
        }
        other => return Err(format!("not a pairing link: {other:?}").into()),
    }
    println!("paired");
    // Runs until the standard input closes (the bench holds it open).
    tokio::task::spawn_blocking(|| {
        let _ = std::io::stdin().read(&mut [0u8; 1]);
    })
    .await?;
    drop(wallet);
    Ok(())
}
