//! The tray icon and menu (Open, Quit). The Wallet keeps running in the tray with its window
//! closed (see [`crate::window`]) so notifications still arrive; only Quit ends it.

use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::Runtime;

/// Creates the tray icon.
pub fn create<R: Runtime>(app: &tauri::AppHandle<R>) -> tauri::Result<()> {
    let open = MenuItem::with_id(app, "open", "Open Wallet", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&open, &quit])?;
    let mut tray = TrayIconBuilder::with_id("wallet")
        .tooltip("Countersign Wallet")
        .menu(&menu)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "open" => show_main(app),
            "quit" => app.exit(0),
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    Ok(())
}

/// Opens the main window (creating it when it was closed) and brings it forward.
pub fn show_main<R: Runtime>(app: &tauri::AppHandle<R>) {
    crate::window::open(app);
}
