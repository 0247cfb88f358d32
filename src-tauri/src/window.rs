//! The window's life: created on demand, destroyed when closed.
//!
//! Closing the window destroys it and its WebView (WebKit's web process exits with it); the
//! Wallet keeps running in the tray with its Rust side only (sync connections,
//! notifications, keychain). Opening it again (tray, notification, `countersign://` link, a
//! second launch) creates a new window from the `main` entry of `tauri.conf.json` (same label,
//! so the same capability; `"create": false` there, so nothing is created before `setup`).
//!
//! Every step runs on the main thread, in order: an open asked for while the old window is
//! still being torn down (closed, not yet destroyed) is remembered and done once it is gone,
//! since a new window cannot take the label before then. Where the new view starts is not
//! decided here: the view asks for what is waiting when it is ready (see [`crate::state`]).

use crate::state::AppState;
use std::sync::Mutex;
use tauri::{Manager, Runtime, WebviewWindowBuilder, Window, WindowEvent};

/// The label of the one window (`app.windows[].label` and the capability's `windows`).
pub const MAIN: &str = "main";

/// Where the window is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Phase {
    /// No window (started in the tray, or closed and destroyed).
    #[default]
    Closed,
    /// A window exists.
    Open,
    /// Closed by the person; destroyed but its label not yet released.
    Closing,
}

/// The window's phase and whether an open waits for the old window to go.
#[derive(Debug, Default)]
pub struct Life {
    phase: Phase,
    reopen: bool,
}

/// What [`Life`] says to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Create a window.
    Create,
    /// Bring the existing window forward.
    Raise,
    /// Nothing now (the open happens once the old window is destroyed).
    Wait,
}

impl Life {
    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// An open was asked for.
    pub fn open(&mut self) -> Step {
        match self.phase {
            Phase::Closed => {
                self.phase = Phase::Open;
                Step::Create
            }
            Phase::Open => Step::Raise,
            Phase::Closing => {
                self.reopen = true;
                Step::Wait
            }
        }
    }

    /// The person closed the window (it is being destroyed).
    pub fn closing(&mut self) {
        self.phase = Phase::Closing;
    }

    /// The window is destroyed: returns true when an open asked for meanwhile should happen now.
    pub fn destroyed(&mut self) -> bool {
        self.phase = Phase::Closed;
        std::mem::take(&mut self.reopen)
    }

    /// Creating the window failed: nothing is open.
    pub fn failed(&mut self) {
        self.phase = Phase::Closed;
    }
}

/// The managed window state.
#[derive(Debug, Default)]
pub struct WindowState(pub Mutex<Life>);

/// Opens the window (creating it when there is none) and brings it forward. Any thread.
pub fn open<R: Runtime>(app: &tauri::AppHandle<R>) {
    let handle = app.clone();
    if let Err(e) = app.run_on_main_thread(move || open_now(&handle)) {
        tracing::warn!("cannot open the window: {e}");
    }
}

fn open_now<R: Runtime>(app: &tauri::AppHandle<R>) {
    let step = life(app).open();
    match step {
        Step::Create => {
            if let Err(e) = create(app) {
                tracing::warn!("cannot create the window: {e}");
                life(app).failed();
            }
        }
        Step::Raise => {
            if let Some(w) = app.get_webview_window(MAIN) {
                let _ = w.show();
                let _ = w.unminimize();
                let _ = w.set_focus();
            }
        }
        Step::Wait => tracing::debug!("the window opens once the closed one is gone"),
    }
}

fn life<R: Runtime>(app: &tauri::AppHandle<R>) -> std::sync::MutexGuard<'_, Life> {
    app.state::<WindowState>()
        .inner()
        .0
        .lock()
        .expect("window state lock")
}

/// Creates the window from its configuration, shown and focused.
fn create<R: Runtime>(app: &tauri::AppHandle<R>) -> tauri::Result<()> {
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == MAIN)
        .cloned()
        .ok_or_else(|| tauri::Error::WindowNotFound)?;
    let count = app
        .try_state::<AppState>()
        .map(|s| s.wallet.inbox_page(0, 0).count as usize)
        .unwrap_or(0);
    let window = WebviewWindowBuilder::from_config(app, &config)?
        .title(crate::observer::title(count))
        .visible(true)
        .focused(true)
        .build()?;
    crate::webkit::tune(&window);
    tracing::info!("window created");
    Ok(())
}

/// Window events: closing the main window lets it be destroyed (the view is no longer
/// listening from then on); once destroyed, memory is given back and a pending open happens.
pub fn on_window_event<R: Runtime>(window: &Window<R>, event: &WindowEvent) {
    if window.label() != MAIN {
        return;
    }
    let app = window.app_handle();
    match event {
        WindowEvent::CloseRequested { .. } => {
            life(app).closing();
            if let Some(state) = app.try_state::<AppState>() {
                state.views.lock().expect("view queue lock").view_closed();
            }
            tracing::info!("window closed: destroying it and its web view");
        }
        WindowEvent::Destroyed => {
            if let Some(state) = app.try_state::<AppState>() {
                state.views.lock().expect("view queue lock").view_closed();
            }
            let reopen = life(app).destroyed();
            crate::webkit::release_memory();
            if reopen {
                open_now(app);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_create_once_then_raise() {
        let mut l = Life::default();
        assert_eq!(l.open(), Step::Create);
        assert_eq!(l.open(), Step::Raise);
        assert_eq!(l.phase(), Phase::Open);
    }

    #[test]
    fn an_open_while_closing_waits_for_the_old_window_then_creates() {
        let mut l = Life::default();
        l.open();
        l.closing();
        assert_eq!(l.open(), Step::Wait);
        assert_eq!(l.open(), Step::Wait);
        assert!(l.destroyed(), "the open asked for meanwhile happens now");
        assert_eq!(l.open(), Step::Create);
    }

    #[test]
    fn a_close_without_a_later_open_stays_closed() {
        let mut l = Life::default();
        l.open();
        l.closing();
        assert!(!l.destroyed());
        assert_eq!(l.phase(), Phase::Closed);
        assert_eq!(l.open(), Step::Create);
        l.failed();
        assert_eq!(l.open(), Step::Create, "a failed creation can be retried");
    }
}
