//! Starting the window process: `countersign-wallet-window --channel-fd <n>`, where `n` is
//! its end of a fresh `socketpair` (nothing on the file system to connect to, so no other
//! process can speak for the view). Only that descriptor is inherited: both ends are made
//! close-on-exec, and the child clears the flag on its own end just before `exec`.
//!
//! The tray serves the connection ([`countersign_wallet::channel::server`]) until the window
//! process closes it (its window closed, or it crashed), then forgets it and reaps the child.
//!
//! Windows would pass a named pipe's handle instead; not built (see crates/wallet/README.md).

use crate::app::{App, OpenWindow};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The window process's argument naming its end of the channel.
pub const CHANNEL_FD_ARG: &str = "--channel-fd";

/// Environment variable naming the window executable (tests, development).
pub const WINDOW_ENV: &str = "COUNTERSIGN_WALLET_WINDOW";

/// The window executable's file name.
pub const WINDOW_BIN: &str = "countersign-wallet-window";

/// Where a package may install the window executable besides the tray's own directory.
pub const PACKAGE_DIR: &str = "/usr/lib/countersign-wallet";

/// The window process's executable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowExe(pub PathBuf);

impl WindowExe {
    /// `$COUNTERSIGN_WALLET_WINDOW` when set; else `countersign-wallet-window` next to
    /// `tray_exe` when there; else in [`PACKAGE_DIR`] (where it may not exist: starting it
    /// then fails with a clear error).
    pub fn find(env: Option<std::ffi::OsString>, tray_exe: Option<&Path>) -> Self {
        if let Some(path) = env.filter(|p| !p.is_empty()) {
            return Self(path.into());
        }
        if let Some(beside) = tray_exe
            .and_then(Path::parent)
            .map(|dir| dir.join(WINDOW_BIN))
            .filter(|p| p.is_file())
        {
            return Self(beside);
        }
        Self(Path::new(PACKAGE_DIR).join(WINDOW_BIN))
    }
}

/// Why the window process could not be started.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Making the socket pair or spawning failed.
    #[error("cannot start {exe}: {source}")]
    Io {
        /// The executable.
        exe: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// This platform has no window process yet.
    #[error("the window process is only built for Unix desktops")]
    Unsupported,
}

/// Starts a window process and records it in `slot`.
#[cfg(unix)]
pub(crate) fn start(app: &Arc<App>, slot: &mut Option<OpenWindow>) -> Result<(), StartError> {
    use countersign_wallet::channel::{server, ToWindow};
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    use std::sync::atomic::Ordering;

    let exe = app.config().window.0.clone();
    let io = |source| StartError::Io {
        exe: exe.clone(),
        source,
    };
    // Both ends are close-on-exec (std makes them so).
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().map_err(io)?;
    let fd = theirs.as_raw_fd();
    let mut cmd = std::process::Command::new(&exe);
    cmd.arg(CHANNEL_FD_ARG).arg(fd.to_string());
    // SAFETY: runs in the child between fork and exec and only calls fcntl, which is
    // async-signal-safe; it touches no memory of the parent's.
    unsafe {
        cmd.pre_exec(move || {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags < 0 || libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let _entered = app.runtime.enter();
    let mut child = tokio::process::Command::from(cmd).spawn().map_err(io)?;
    drop(theirs);
    ours.set_nonblocking(true).map_err(io)?;
    let stream = tokio::net::UnixStream::from_std(ours).map_err(io)?;

    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let _ = tx.send(ToWindow::Title { title: app.title() });
    let generation = app.generations.fetch_add(1, Ordering::Relaxed) + 1;
    *slot = Some(OpenWindow {
        tx: tx.clone(),
        generation,
    });
    let app = app.clone();
    app.runtime.clone().spawn(async move {
        let serving = app.clone();
        let dispatch = move |command: String, args| {
            let app = serving.clone();
            async move { crate::dispatch::dispatch(&app, &command, args).await }
        };
        if let Err(e) = server::serve(stream, rx, dispatch).await {
            tracing::warn!("the window process broke the channel: {e}");
        }
        app.window_closed(generation);
        match child.wait().await {
            Ok(status) => tracing::info!("window process ended: {status}"),
            Err(e) => tracing::warn!("window process: {e}"),
        }
    });
    Ok(())
}

/// Starts a window process: not built for this platform.
#[cfg(not(unix))]
pub(crate) fn start(_app: &Arc<App>, _slot: &mut Option<OpenWindow>) -> Result<(), StartError> {
    Err(StartError::Unsupported)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_executable_is_found_by_env_then_beside_then_in_the_package_dir() {
        let dir = tempfile::tempdir().unwrap();
        let tray = dir.path().join("countersign-wallet");
        assert_eq!(
            WindowExe::find(Some("/x/w".into()), Some(&tray)),
            WindowExe("/x/w".into())
        );
        assert_eq!(
            WindowExe::find(None, Some(&tray)),
            WindowExe(Path::new(PACKAGE_DIR).join(WINDOW_BIN))
        );
        std::fs::write(dir.path().join(WINDOW_BIN), "").unwrap();
        assert_eq!(
            WindowExe::find(Some("".into()), Some(&tray)),
            WindowExe(dir.path().join(WINDOW_BIN))
        );
    }
}
