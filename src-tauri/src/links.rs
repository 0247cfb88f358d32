//! `countersign://` links from the operating system. The link text goes to the view as is
//! (event `open-link`); the view asks the `open_link` command what it means, so malformed
//! links, unpaired servers and unknown ids all end on a screen that says so.

use crate::state::AppState;
use tauri::{Emitter, Manager, Runtime};

/// The URL scheme of Countersign links (`plugins.deep-link.desktop.schemes`).
pub const SCHEME: &str = "countersign";

/// The event carrying a link to the view.
pub const OPEN_LINK_EVENT: &str = "open-link";

/// A link arrived (at start-up or from a second launch).
pub fn received<R: Runtime>(app: &tauri::AppHandle<R>, link: &str) {
    tracing::info!("deep link received");
    let Some(state) = app.try_state::<AppState>() else {
        return;
    };
    let now = state
        .links
        .lock()
        .expect("link queue lock")
        .push(link.to_string());
    if let Some(link) = now {
        if let Err(e) = app.emit_to("main", OPEN_LINK_EVENT, link) {
            tracing::warn!("cannot pass a link to the view: {e}");
        }
    }
}
