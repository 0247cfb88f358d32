//! `countersign-wallet [--tray] [countersign://…]`: the Wallet's tray process (see the
//! library). A second launch hands its arguments to the running one and exits.

use anyhow::Context;
use countersign_wallet::notify::{DesktopNotifier, ReviewHandler};
use countersign_wallet::source::HttpConnector;
use countersign_wallet::sync::SyncConfig;
use countersign_wallet::wallet::SystemClock;
use countersign_wallet::{KeychainStore, Wallet, WalletConfig, WalletParts};
use countersign_wallet_tray::window::{WindowExe, WINDOW_ENV};
use countersign_wallet_tray::{App, AppConfig, IDENTIFIER, PRODUCT_NAME};
use std::sync::Arc;

fn main() -> anyhow::Result<()> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .try_init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let handle = runtime.handle().clone();
    runtime.block_on(run(args, handle))
}

async fn run(args: Vec<String>, runtime: tokio::runtime::Handle) -> anyhow::Result<()> {
    let (opens_tx, mut opens) = tokio::sync::mpsc::unbounded_channel::<Vec<String>>();
    #[cfg(target_os = "linux")]
    let _bus = {
        use countersign_wallet_tray::instance::{claim, Claim};
        match claim(None, &args, opens_tx.clone()).await {
            Ok(Claim::Primary(connection)) => Some(connection),
            Ok(Claim::HandedOver) => {
                tracing::info!("handed over to the running Wallet");
                return Ok(());
            }
            Err(e) => {
                tracing::warn!("no single instance ({e}); running on");
                None
            }
        }
    };
    let _ = &opens_tx;

    let data_dir = countersign_wallet_tray::data_dir()
        .context("no data directory: set COUNTERSIGN_WALLET_DATA_DIR, XDG_DATA_HOME or HOME")?;
    let exe = std::env::current_exe().ok();
    let app = App::new(
        AppConfig {
            data_dir: data_dir.clone(),
            identifier: IDENTIFIER.into(),
            product_name: PRODUCT_NAME.into(),
            window: WindowExe::find(std::env::var_os(WINDOW_ENV), exe.as_deref()),
        },
        runtime,
    );
    let on_review: ReviewHandler = {
        let app = Arc::downgrade(&app);
        Arc::new(move |update| {
            if let Some(app) = app.upgrade() {
                app.forward(update);
            }
        })
    };
    let wallet = Wallet::start(WalletParts {
        config: WalletConfig {
            data_dir,
            device_name: countersign_wallet_tray::device_name(),
            sync: SyncConfig::default(),
        },
        connector: Arc::new(HttpConnector::with_defaults()?),
        keys: Arc::new(KeychainStore::new()),
        notifier: Arc::new(DesktopNotifier::new(on_review)),
        observer: app.observer(),
        clock: Arc::new(SystemClock),
    })
    .await
    .context("starting the Wallet")?;
    app.set_wallet(wallet);

    #[cfg(target_os = "linux")]
    if let Some(exe) = &exe {
        register_handler(exe);
    }
    #[cfg(target_os = "linux")]
    let _icon = countersign_wallet_tray::icon::show(app.clone()).await;

    if args
        .iter()
        .any(|a| a == countersign_wallet_tray::app::TRAY_FLAG)
    {
        tracing::info!("started in the tray");
    }
    app.handle_args(&args);
    loop {
        tokio::select! {
            Some(args) = opens.recv() => app.handle_args(&args),
            _ = app.quit_requested() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    if let Some(w) = app.wallet() {
        w.shutdown();
    }
    tracing::info!("quit");
    // The window process sees its channel close and exits with it.
    std::process::exit(0)
}

/// Registers a per-user `countersign://` handler for this binary, unless a system desktop
/// entry (an installed package's) already runs it for the scheme.
#[cfg(target_os = "linux")]
fn register_handler(exe: &std::path::Path) {
    use countersign_wallet_tray::app::SCHEME;
    use countersign_wallet_tray::handler;
    let dirs = handler::system_data_dirs(std::env::var_os("XDG_DATA_DIRS").as_deref());
    let path = std::env::var_os("PATH");
    if let Some(entry) = handler::packaged_entry(&dirs, exe, SCHEME, path.as_deref()) {
        tracing::info!(
            "countersign:// links reach this binary through {}",
            entry.display()
        );
        return;
    }
    let Some(home) =
        handler::data_home(std::env::var_os("XDG_DATA_HOME"), std::env::var_os("HOME"))
    else {
        tracing::warn!("no data home: cannot register the countersign:// handler");
        return;
    };
    match handler::register_user_handler(&home, exe, SCHEME, PRODUCT_NAME) {
        Ok(path) => tracing::info!("countersign:// handler: {}", path.display()),
        Err(e) => tracing::warn!("cannot register the countersign:// handler: {e}"),
    }
}
