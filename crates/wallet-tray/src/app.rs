//! The tray process's state: the Wallet, where the next view should go, and the window
//! process (at most one; started on demand, gone when its window closes).
//!
//! Wallet updates and links arrive here ([`App::forward`], [`App::handle_args`]); those that
//! move the view are queued ([`ViewQueue`]) until the window process's view says it listens,
//! and start a window process when none runs. While one runs, updates go to it as events and
//! the pending count as its title.

use crate::views::{Navigation, ViewQueue};
use crate::window::{self, WindowExe};
use countersign_wallet::channel::{ToWindow, ViewEvent};
use countersign_wallet::wallet::Observer;
use countersign_wallet::{Wallet, WalletUpdate};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use tokio::sync::{mpsc, watch, Notify};

/// The URL scheme of Countersign links.
pub const SCHEME: &str = "countersign";

/// The argument that starts the Wallet with no window (tray only): the autostart entry's.
pub const TRAY_FLAG: &str = crate::autostart::TRAY_FLAG;

/// What the tray process is configured with.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The Wallet's data directory (pairings, settings).
    pub data_dir: PathBuf,
    /// The app id (`dev.countersign.wallet`): the autostart entry's name.
    pub identifier: String,
    /// "Countersign Wallet".
    pub product_name: String,
    /// The window process's executable.
    pub window: WindowExe,
}

/// The running window process, as the tray sees it.
#[derive(Debug)]
pub(crate) struct OpenWindow {
    /// Its outbox (events and answers, written in order).
    pub(crate) tx: mpsc::UnboundedSender<ToWindow>,
    /// Which start this is (a late close of an older one is ignored).
    #[cfg_attr(not(unix), allow(dead_code))]
    pub(crate) generation: u64,
}

/// The tray process's state.
pub struct App {
    config: AppConfig,
    wallet: OnceLock<Wallet>,
    views: Mutex<ViewQueue>,
    pub(crate) window: Mutex<Option<OpenWindow>>,
    #[cfg_attr(not(unix), allow(dead_code))]
    pub(crate) generations: std::sync::atomic::AtomicU64,
    #[cfg_attr(not(unix), allow(dead_code))]
    pub(crate) runtime: tokio::runtime::Handle,
    quit: Notify,
    /// The pending count as last reported (the tray icon's tool tip follows it).
    pending: watch::Sender<usize>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("config", &self.config).finish()
    }
}

impl App {
    /// State without a Wallet yet (see [`App::set_wallet`]); tasks run on `runtime`.
    pub fn new(config: AppConfig, runtime: tokio::runtime::Handle) -> Arc<Self> {
        Arc::new(Self {
            config,
            wallet: OnceLock::new(),
            views: Mutex::new(ViewQueue::default()),
            window: Mutex::new(None),
            generations: Default::default(),
            runtime,
            quit: Notify::new(),
            pending: watch::Sender::new(0),
        })
    }

    /// The observer to start the Wallet with: it forwards updates here.
    pub fn observer(self: &Arc<Self>) -> Arc<dyn Observer> {
        Arc::new(AppObserver(Arc::downgrade(self)))
    }

    /// Takes the started Wallet (once).
    pub fn set_wallet(&self, wallet: Wallet) {
        if self.wallet.set(wallet).is_err() {
            tracing::warn!("the Wallet was started twice");
        }
    }

    /// The Wallet, once started.
    pub fn wallet(&self) -> Option<&Wallet> {
        self.wallet.get()
    }

    /// The configuration.
    pub fn config(&self) -> &AppConfig {
        &self.config
    }

    /// The window's title for the current pending count.
    pub fn title(&self) -> String {
        title(
            self.wallet()
                .map_or(0, |w| w.inbox_page(0, 0).count as usize),
        )
    }

    /// A launch's arguments (this process's, or a second launch's handed over): each
    /// `countersign:` link goes to the view (opening the window); without a link, the window
    /// opens unless [`TRAY_FLAG`] asks for the tray only.
    pub fn handle_args<S: AsRef<str>>(self: &Arc<Self>, args: &[S]) {
        let mut linked = false;
        for arg in args.iter().map(AsRef::as_ref) {
            if arg
                .get(..SCHEME.len() + 1)
                .is_some_and(|p| p.eq_ignore_ascii_case(&format!("{SCHEME}:")))
            {
                tracing::info!("link received");
                self.navigate(Navigation::Link {
                    link: arg.to_string(),
                });
                linked = true;
            }
        }
        if !linked && !args.iter().any(|a| a.as_ref() == TRAY_FLAG) {
            self.open_window();
        }
    }

    /// Changes of the pending count (the Wallet's `InboxChanged`), for the tray icon.
    pub fn pending_changes(&self) -> watch::Receiver<usize> {
        self.pending.subscribe()
    }

    /// Handles one Wallet update (also a notification's click).
    pub fn forward(self: &Arc<Self>, update: WalletUpdate) {
        match &update {
            WalletUpdate::InboxChanged { count } => {
                self.pending.send_replace(*count);
                self.send(ToWindow::Title {
                    title: title(*count),
                });
            }
            WalletUpdate::Focus { .. } | WalletUpdate::ShowInbox => {
                self.navigate(Navigation::Update { update });
                return;
            }
            _ => {}
        }
        self.emit(ViewEvent::WalletUpdate, &update);
    }

    /// Queues a navigation for the view (or hands it to the listening view now) and opens the
    /// window.
    pub fn navigate(self: &Arc<Self>, nav: Navigation) {
        let now = self.views.lock().expect("view queue lock").push(nav);
        match now {
            Some(Navigation::Link { link }) => self.emit(ViewEvent::OpenLink, &link),
            Some(Navigation::Update { update }) => self.emit(ViewEvent::WalletUpdate, &update),
            None => {}
        }
        self.open_window();
    }

    /// The view listens: what waited for it, oldest first.
    pub fn view_ready(&self) -> Vec<Navigation> {
        self.views.lock().expect("view queue lock").mark_ready()
    }

    /// Brings the window forward, starting a window process when none runs.
    pub fn open_window(self: &Arc<Self>) {
        let mut slot = self.window.lock().expect("window lock");
        if let Some(open) = slot.as_ref() {
            if open.tx.send(ToWindow::Raise).is_ok() {
                return;
            }
        }
        match window::start(self, &mut slot) {
            Ok(()) => tracing::info!("window process started"),
            Err(e) => tracing::error!("cannot start the window process: {e}"),
        }
    }

    /// The window process `generation` closed its end: the view no longer listens.
    #[cfg_attr(not(unix), allow(dead_code))]
    pub(crate) fn window_closed(&self, generation: u64) {
        let mut slot = self.window.lock().expect("window lock");
        if slot.as_ref().is_some_and(|o| o.generation == generation) {
            *slot = None;
            self.views.lock().expect("view queue lock").view_closed();
            tracing::info!("window closed");
        }
    }

    /// True while a window process is connected.
    pub fn window_open(&self) -> bool {
        self.window.lock().expect("window lock").is_some()
    }

    fn emit<T: serde::Serialize>(&self, event: ViewEvent, payload: &T) {
        match serde_json::to_value(payload) {
            Ok(payload) => self.send(ToWindow::Event { event, payload }),
            Err(e) => tracing::warn!("cannot encode an event: {e}"),
        }
    }

    fn send(&self, message: ToWindow) {
        if let Some(open) = self.window.lock().expect("window lock").as_ref() {
            let _ = open.tx.send(message);
        }
    }

    /// Asks the tray process to end (the tray menu's Quit).
    pub fn quit(&self) {
        self.quit.notify_one();
    }

    /// Resolves once [`App::quit`] was called.
    pub async fn quit_requested(&self) {
        self.quit.notified().await;
    }
}

/// The window title for `count` pending requests.
pub fn title(count: usize) -> String {
    match count {
        0 => "Countersign Wallet".to_string(),
        n => format!("Countersign Wallet ({n} pending)"),
    }
}

struct AppObserver(Weak<App>);

impl Observer for AppObserver {
    fn update(&self, update: WalletUpdate) {
        if let Some(app) = self.0.upgrade() {
            app.forward(update);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_shows_the_count() {
        assert_eq!(title(0), "Countersign Wallet");
        assert_eq!(title(3), "Countersign Wallet (3 pending)");
    }
}
