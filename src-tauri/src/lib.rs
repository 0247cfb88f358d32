//! The Countersign Wallet's window process (`countersign-wallet-window`): the Tauri window
//! and its view, and nothing of the Wallet itself. The tray process (`countersign-wallet`)
//! starts it with one end of a socket pair (`--channel-fd <n>`); every command the view
//! invokes is forwarded over it by name ([`forward`]) and answered by the tray process, which
//! holds the keys and signs. Events (Wallet updates, links), the title and "raise" come back
//! the same way. Closing the window ends this process, and WebKit's processes with it.
//!
//! One file per concern:
//! - [`forward`]: the invoke handler forwarding the view's commands, and the tray's messages
//!   to the window;
//! - [`window`]: the one window, made from the `main` entry of `tauri.conf.json`;
//! - [`webkit`]: WebKitGTK settings that lower the window's memory;
//! - [`channel_fd`]: taking over the descriptor the tray process passed.

#[cfg(unix)]
pub mod channel_fd;
pub mod forward;
pub mod webkit;
pub mod window;

include!("../commands.rs.in");

/// Starts the window process: only built for Unix desktops (Windows would take a named
/// pipe's handle from the tray process; not built).
#[cfg(not(unix))]
pub fn run() {
    eprintln!("countersign-wallet-window: the window process is only built for Unix desktops");
    std::process::exit(2);
}

/// Starts the window process (blocks until its window closes or the tray process goes).
#[cfg(unix)]
pub fn run() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .try_init();
    let stream = match channel_fd::from_args(std::env::args().skip(1)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("countersign-wallet-window: {e}");
            std::process::exit(2);
        }
    };
    let app = tauri::Builder::default()
        .invoke_handler(forward::handler)
        .on_window_event(|window, event| {
            if let tauri::WindowEvent::CloseRequested { .. } = event {
                tracing::info!("window close requested");
                if let Some(tray) = tauri::Manager::try_state::<forward::Tray>(window) {
                    tray.closing();
                }
            }
        })
        .setup(move |app| {
            window::create(app.handle())?;
            forward::connect(app.handle(), stream)?;
            Ok(())
        })
        .build(tauri::generate_context!())
        .expect("cannot start the Wallet's window");
    // The window closed (the last one): the process ends, so does WebKit's.
    app.run(|_, _| {});
}
