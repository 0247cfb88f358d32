//! The one window of the window process, made from the `main` entry of `tauri.conf.json`
//! (`"create": false` there, so nothing is made before the channel is taken over). Closing it
//! ends the process (Tauri exits when its last window is gone).

use tauri::{Runtime, WebviewWindowBuilder};

/// The label of the one window (`app.windows[].label` and the capability's `windows`).
pub const MAIN: &str = "main";

/// Creates the window from its configuration, shown and focused.
pub fn create<R: Runtime>(app: &tauri::AppHandle<R>) -> tauri::Result<()> {
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == MAIN)
        .cloned()
        .ok_or(tauri::Error::WindowNotFound)?;
    let window = WebviewWindowBuilder::from_config(app, &config)?
        .visible(true)
        .focused(true)
        .build()?;
    crate::webkit::tune(&window);
    tracing::info!("window created");
    Ok(())
}
