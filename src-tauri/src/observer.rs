//! Wallet updates to the view: the `wallet-update` event, the window title with the pending
//! count, and opening the window when a notification's "Review" is chosen.

use crate::state::{AppState, Navigation};
use countersign_wallet::wallet::Observer;
use countersign_wallet::WalletUpdate;
use tauri::{Emitter, Manager, Runtime};

/// The event carrying a [`WalletUpdate`] to the view.
pub const UPDATE_EVENT: &str = "wallet-update";

/// The window title for `count` pending requests.
pub fn title(count: usize) -> String {
    match count {
        0 => "Countersign Wallet".to_string(),
        n => format!("Countersign Wallet ({n} pending)"),
    }
}

/// Forwards updates to the main window.
pub struct TauriObserver<R: Runtime> {
    app: tauri::AppHandle<R>,
}

impl<R: Runtime> TauriObserver<R> {
    /// An observer for `app`.
    pub fn new(app: tauri::AppHandle<R>) -> Self {
        Self { app }
    }

    /// Handles one update (also used for notification clicks). With no window, updates that
    /// only refresh the view are dropped (a new view reads the Wallet's state when it loads);
    /// one that moves the view opens the window and waits for its view.
    pub fn forward(&self, update: WalletUpdate) {
        match &update {
            WalletUpdate::InboxChanged { count } => {
                if let Some(w) = self.app.get_webview_window(crate::window::MAIN) {
                    let _ = w.set_title(&title(*count));
                }
            }
            WalletUpdate::Focus { .. } | WalletUpdate::ShowInbox => {
                self.navigate(update);
                return;
            }
            _ => {}
        }
        if self.app.get_webview_window(crate::window::MAIN).is_none() {
            return;
        }
        if let Err(e) = self.app.emit_to(crate::window::MAIN, UPDATE_EVENT, &update) {
            tracing::debug!("no view to update: {e}");
        }
    }

    fn navigate(&self, update: WalletUpdate) {
        let now = match self.app.try_state::<AppState>() {
            Some(state) => state
                .views
                .lock()
                .expect("view queue lock")
                .push(Navigation::Update { update }),
            None => return,
        };
        if let Some(Navigation::Update { update }) = now {
            if let Err(e) = self.app.emit_to(crate::window::MAIN, UPDATE_EVENT, &update) {
                tracing::debug!("no view to update: {e}");
            }
        }
        crate::window::open(&self.app);
    }
}

impl<R: Runtime> Observer for TauriObserver<R> {
    fn update(&self, update: WalletUpdate) {
        self.forward(update);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn title_shows_the_count() {
        assert_eq!(super::title(0), "Countersign Wallet");
        assert_eq!(super::title(3), "Countersign Wallet (3 pending)");
    }
}
