//! The view's commands, forwarded: the invoke handler sends each command the ACL let through
//! (one of [`crate::COMMANDS`]) to the tray process as `{id, command, args}` and resolves the
//! view's promise with the answer, `result` or `error` (`{code, message}`, as before the
//! split). The tray's other messages reach the window: events to the view, the title, raise.

use countersign_wallet::channel::client::Client;
#[cfg(unix)]
use countersign_wallet::channel::ToWindow;
use countersign_wallet::channel::{codes, error_body};
use std::sync::Arc;
use tauri::ipc::{Invoke, InvokeBody, InvokeError};
#[cfg(unix)]
use tauri::Emitter;
use tauri::{Manager, Runtime};

/// The connection to the tray process (managed state): the client and its socket's
/// descriptor.
pub struct Tray(pub Arc<Client>, pub i32);

impl Tray {
    /// The window is closing: tells the tray process at once (shuts the socket's sending
    /// side: it sees the end of the channel), so a link or notification arriving while this
    /// process winds down starts a new window process instead of going to this one.
    pub fn closing(&self) {
        #[cfg(unix)]
        // SAFETY: shutdown only changes the state of the socket this process owns (the
        // descriptor stays open until the stream is dropped).
        unsafe {
            libc::shutdown(self.1, libc::SHUT_WR);
        }
    }
}

/// The invoke handler: true when the command is one of the view's (then it is answered).
pub fn handler<R: Runtime>(invoke: Invoke<R>) -> bool {
    let command = invoke.message.command().to_string();
    if !crate::COMMANDS.contains(&command.as_str()) {
        return false;
    }
    let args = match invoke.message.payload() {
        InvokeBody::Json(v) => v.clone(),
        InvokeBody::Raw(_) => {
            invoke.resolver.reject(error_body(
                codes::BAD_ARGUMENTS,
                format!("{command} takes JSON arguments"),
            ));
            return true;
        }
    };
    let webview = invoke.message.webview();
    let Some(client) = webview.try_state::<Tray>().map(|t| t.0.clone()) else {
        invoke
            .resolver
            .reject(error_body(codes::CHANNEL, "not connected to the Wallet"));
        return true;
    };
    invoke.resolver.respond_async(async move {
        client
            .call(&command, args)
            .await
            .map_err(|e| InvokeError(serde_json::to_value(e).unwrap_or_default()))
    });
    true
}

/// Starts talking to the tray process on `stream`: its messages go to the window; when it
/// goes, this process ends.
#[cfg(unix)]
pub fn connect<R: Runtime>(
    app: &tauri::AppHandle<R>,
    stream: tokio::net::UnixStream,
) -> std::io::Result<()> {
    let on_message = {
        let app = app.clone();
        move |message| deliver(&app, message)
    };
    let on_close = {
        let app = app.clone();
        move |error: Option<countersign_wallet::channel::ChannelError>| {
            match error {
                Some(e) => tracing::warn!("the tray process broke the channel: {e}"),
                None => tracing::info!("the tray process is gone"),
            }
            app.exit(0);
        }
    };
    let fd = std::os::fd::AsRawFd::as_raw_fd(&stream);
    let client =
        tauri::async_runtime::block_on(async move { Client::start(stream, on_message, on_close) });
    app.manage(Tray(client, fd));
    Ok(())
}

#[cfg(unix)]
fn deliver<R: Runtime>(app: &tauri::AppHandle<R>, message: ToWindow) {
    let window = app.get_webview_window(crate::window::MAIN);
    match message {
        ToWindow::Event { event, payload } => {
            if let Err(e) = app.emit_to(crate::window::MAIN, event.name(), payload) {
                tracing::debug!("no view to tell: {e}");
            }
        }
        ToWindow::Title { title } => {
            if let Some(w) = window {
                let _ = w.set_title(&title);
            }
        }
        ToWindow::Raise => {
            if let Some(w) = window {
                let _ = w.show();
                let _ = w.unminimize();
                let _ = w.set_focus();
            }
        }
        // Answers are the client's.
        ToWindow::Answer(_) => {}
    }
}
