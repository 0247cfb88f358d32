//! The Countersign Wallet desktop app: a thin Tauri shell over `countersign-wallet`.
//!
//! One file per concern:
//! - [`commands`]: the view's commands, each a short call into [`countersign_wallet::Wallet`];
//! - [`observer`]: Wallet updates to the view (events) and the window title;
//! - [`links`]: `countersign://` links from the OS (start-up and second launches);
//! - [`window`]: the window's life (created on demand, destroyed when closed);
//! - [`webkit`]: WebKitGTK settings that lower the window's memory;
//! - [`tray`]: the tray menu (Open, Quit);
//! - [`autostart`]: the "start at login" entry, which starts the Wallet in the tray;
//! - [`handler`]: whether a per-user `countersign://` handler is needed (not when a package
//!   installed one for this binary);
//! - [`state`]: the state managed once at start-up.
//!
//! Plugin order matters: single-instance is registered before deep-link, so a second launch
//! with a link hands it to the running Wallet and exits.

pub mod autostart;
pub mod commands;
pub mod handler;
pub mod links;
pub mod observer;
pub mod state;
pub mod tray;
pub mod webkit;
pub mod window;

use countersign_wallet::notify::{DesktopNotifier, ReviewHandler};
use countersign_wallet::source::HttpConnector;
use countersign_wallet::sync::SyncConfig;
use countersign_wallet::wallet::SystemClock;
use countersign_wallet::{KeychainStore, Wallet, WalletConfig, WalletParts};
use std::sync::Arc;
use tauri::{Manager, RunEvent, Runtime};
use tauri_plugin_deep_link::DeepLinkExt;

/// Environment variable overriding the data directory (tests run isolated Wallets).
pub const DATA_DIR_ENV: &str = "COUNTERSIGN_WALLET_DATA_DIR";

/// Starts the app (blocks until Quit).
pub fn run() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .try_init();
    let app = build(tauri::Builder::default())
        .build(tauri::generate_context!())
        .expect("cannot start the Wallet");
    app.run(|_, event| {
        // The last window closed: the Wallet keeps running in the tray. Quit asks with a code.
        if let RunEvent::ExitRequested {
            code: None, api, ..
        } = event
        {
            api.prevent_exit();
        }
    });
}

/// Registers plugins, state, commands, tray and links on `builder`.
pub fn build<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            // A second launch: its link (if any) arrives through the deep-link plugin. One
            // for the tray (a login while the Wallet runs) leaves the window as it is.
            if !starts_in_tray(argv.iter().skip(1)) {
                tray::show_main(app);
            }
        }))
        .plugin(tauri_plugin_deep_link::init())
        .invoke_handler(tauri::generate_handler![
            commands::ui_ready,
            commands::inbox,
            commands::pairings,
            commands::open_link,
            commands::preview_pairing,
            commands::confirm_pairing,
            commands::remove_pairing,
            commands::settings,
            commands::set_notifications,
            commands::set_quiet_hours,
            commands::review,
            commands::body_seen,
            commands::body_page,
            commands::decide,
            commands::history,
            commands::history_page,
            commands::start_at_login,
            commands::set_start_at_login,
        ])
        .on_window_event(window::on_window_event)
        .setup(|app| {
            setup(app.handle())?;
            Ok(())
        })
}

fn setup<R: Runtime>(app: &tauri::AppHandle<R>) -> Result<(), Box<dyn std::error::Error>> {
    app.manage(window::WindowState::default());
    let data_dir = match std::env::var_os(DATA_DIR_ENV) {
        Some(dir) => dir.into(),
        None => app.path().app_data_dir()?,
    };
    let observer = Arc::new(observer::TauriObserver::new(app.clone()));
    let on_review: ReviewHandler = {
        let observer = observer.clone();
        Arc::new(move |update| observer.forward(update))
    };
    let parts = WalletParts {
        config: WalletConfig {
            data_dir,
            device_name: device_name(),
            sync: SyncConfig::default(),
        },
        connector: Arc::new(HttpConnector::with_defaults()?),
        keys: Arc::new(KeychainStore::new()),
        notifier: Arc::new(DesktopNotifier::new(on_review)),
        observer,
        clock: Arc::new(SystemClock),
    };
    let wallet = tauri::async_runtime::block_on(Wallet::start(parts))?;
    app.manage(state::AppState::new(wallet));

    #[cfg(target_os = "linux")]
    register_handler(app);
    #[cfg(all(debug_assertions, windows))]
    if let Err(e) = app.deep_link().register_all() {
        tracing::warn!("cannot register the countersign:// handler: {e}");
    }
    let mut linked = false;
    if let Ok(Some(urls)) = app.deep_link().get_current() {
        for url in urls {
            links::received(app, url.as_str());
            linked = true;
        }
    }
    let handle = app.clone();
    app.deep_link().on_open_url(move |event| {
        for url in event.urls() {
            links::received(&handle, url.as_str());
        }
        tray::show_main(&handle);
    });
    tray::create(app)?;
    // No window is configured to be created at start (tauri.conf.json `"create": false`): one
    // is created now, unless started for the tray (then none until opened; a link opens it).
    if starts_in_tray(std::env::args().skip(1)) && !linked {
        tracing::info!("started in the tray ({})", autostart::TRAY_FLAG);
    } else {
        window::open(app);
    }
    Ok(())
}

/// True when the arguments (after the program's name) ask for the tray only.
fn starts_in_tray<S: AsRef<str>>(mut args: impl Iterator<Item = S>) -> bool {
    args.any(|a| a.as_ref() == autostart::TRAY_FLAG)
}

/// Registers a per-user `countersign://` handler for this binary, unless a system desktop
/// entry (an installed package's) already runs it for the scheme.
#[cfg(target_os = "linux")]
fn register_handler<R: Runtime>(app: &tauri::AppHandle<R>) {
    let dirs = handler::system_data_dirs(std::env::var_os("XDG_DATA_DIRS").as_deref());
    let path = std::env::var_os("PATH");
    let packaged = std::env::current_exe()
        .ok()
        .and_then(|exe| handler::packaged_entry(&dirs, &exe, links::SCHEME, path.as_deref()));
    match packaged {
        Some(entry) => tracing::info!(
            "countersign:// links reach this binary through {}",
            entry.display()
        ),
        None => {
            if let Err(e) = app.deep_link().register_all() {
                tracing::warn!("cannot register the countersign:// handler: {e}");
            }
        }
    }
}

/// "Countersign Wallet on <host>": the name this device registers with.
fn device_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this computer".into());
    format!("Countersign Wallet on {host}")
}
