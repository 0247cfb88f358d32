//! "Start at login": an XDG autostart entry (`$XDG_CONFIG_HOME/autostart/<id>.desktop`, by
//! default `~/.config/autostart/`) that starts this executable in the tray ([`TRAY_FLAG`]).
//!
//! The entry itself is the setting: it is on while the file exists, so the desktop's own
//! "startup applications" tool and the Wallet never disagree. Only a file this Wallet wrote
//! (it carries [`MARKER`]) is ever removed; anything else at that path is left alone and
//! reported.

use std::path::{Path, PathBuf};

/// The argument that starts the Wallet with its window hidden (tray only).
pub const TRAY_FLAG: &str = "--tray";

/// The line that marks an autostart entry as written by the Wallet.
pub const MARKER: &str = "X-Countersign-Wallet-Autostart=true";

/// A failure to read or change the autostart entry.
#[derive(Debug, thiserror::Error)]
pub enum AutostartError {
    /// Start at login is an XDG autostart entry: Linux (and other XDG desktops) only.
    #[error("start at login is only available on Linux desktops (XDG autostart)")]
    Unsupported,
    /// Neither `XDG_CONFIG_HOME` nor `HOME` says where the configuration directory is.
    #[error("cannot find the configuration directory: neither XDG_CONFIG_HOME nor HOME is set")]
    NoConfigDir,
    /// The executable's path cannot be written on an `Exec` line.
    #[error("the Wallet's path {0:?} cannot be used in a desktop entry")]
    UnusablePath(PathBuf),
    /// A file the Wallet did not write is in the way.
    #[error("{0} exists and was not written by the Wallet; it was left unchanged")]
    NotOurs(PathBuf),
    /// Reading or writing the file failed.
    #[error("cannot change {path}: {source}")]
    Io {
        /// The entry's path.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
}

impl serde::Serialize for AutostartError {
    /// As every command error: `{code: "autostart", message}`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        countersign_wallet::error::ErrorBody {
            code: "autostart".into(),
            message: self.to_string(),
        }
        .serialize(s)
    }
}

/// The autostart entry of one app id, in one configuration directory.
#[derive(Debug, Clone)]
pub struct Autostart {
    path: PathBuf,
}

impl Autostart {
    /// The entry for `app_id` under `config_dir` (`<config_dir>/autostart/<app_id>.desktop`).
    pub fn new(config_dir: &Path, app_id: &str) -> Self {
        Self {
            path: config_dir
                .join("autostart")
                .join(format!("{app_id}.desktop")),
        }
    }

    /// The entry for `app_id` in the user's configuration directory (see [`config_dir`]).
    pub fn for_user(app_id: &str) -> Result<Self, AutostartError> {
        if cfg!(any(windows, target_os = "macos")) {
            return Err(AutostartError::Unsupported);
        }
        let dir = config_dir(
            std::env::var_os("XDG_CONFIG_HOME"),
            std::env::var_os("HOME"),
        )
        .ok_or(AutostartError::NoConfigDir)?;
        Ok(Self::new(&dir, app_id))
    }

    /// Where the entry lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True when the Wallet's entry is there.
    pub fn enabled(&self) -> bool {
        std::fs::read_to_string(&self.path).is_ok_and(|text| is_ours(&text))
    }

    /// Writes the entry so that the desktop starts `exe` in the tray at login.
    pub fn enable(&self, exe: &Path, name: &str) -> Result<(), AutostartError> {
        self.check_ours()?;
        let exec = exec_arg(exe).ok_or_else(|| AutostartError::UnusablePath(exe.into()))?;
        let text = format!(
            "[Desktop Entry]\nType=Application\nName={name}\nComment=Starts the Wallet in the tray at login\nExec={exec} {TRAY_FLAG}\nTerminal=false\nX-GNOME-Autostart-enabled=true\n{MARKER}\n"
        );
        let io = |source| AutostartError::Io {
            path: self.path.clone(),
            source,
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        // Written beside and renamed over, so a login never sees half an entry.
        let tmp = self.path.with_extension("desktop.tmp");
        std::fs::write(&tmp, text).map_err(io)?;
        std::fs::rename(&tmp, &self.path).map_err(io)
    }

    /// Removes the entry (nothing to do when there is none).
    pub fn disable(&self) -> Result<(), AutostartError> {
        self.check_ours()?;
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(AutostartError::Io {
                path: self.path.clone(),
                source: e,
            }),
            _ => Ok(()),
        }
    }

    /// Fails when a file the Wallet did not write is at the entry's path.
    fn check_ours(&self) -> Result<(), AutostartError> {
        match std::fs::read(&self.path) {
            Ok(bytes) if !is_ours(&String::from_utf8_lossy(&bytes)) => {
                Err(AutostartError::NotOurs(self.path.clone()))
            }
            Ok(_) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(AutostartError::Io {
                path: self.path.clone(),
                source: e,
            }),
        }
    }
}

/// The user's configuration directory by the XDG base directory rules: `$XDG_CONFIG_HOME`
/// when it is an absolute path (a relative one is ignored), else `$HOME/.config`.
pub fn config_dir(
    xdg_config_home: Option<std::ffi::OsString>,
    home: Option<std::ffi::OsString>,
) -> Option<PathBuf> {
    let absolute = |p: std::ffi::OsString| Some(PathBuf::from(p)).filter(|p| p.is_absolute());
    xdg_config_home
        .and_then(absolute)
        .or_else(|| home.and_then(absolute).map(|h| h.join(".config")))
}

fn is_ours(text: &str) -> bool {
    text.lines().any(|l| l.trim() == MARKER)
}

/// `exe` as the program of an `Exec` line (Desktop Entry Specification: a quoted argument,
/// with `"`, `` ` ``, `$` and `\` escaped by a backslash, and `%` doubled; the file format's
/// own escaping then doubles each backslash). None for a relative path or one with a control
/// character or invalid UTF-8, which no `Exec` line can carry safely.
pub fn exec_arg(exe: &Path) -> Option<String> {
    let text = exe.to_str()?;
    if !exe.is_absolute() || text.chars().any(char::is_control) {
        return None;
    }
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' | '`' | '$' => {
                out.push_str("\\\\");
                out.push(c);
            }
            '\\' => out.push_str("\\\\\\\\"),
            '%' => out.push_str("%%"),
            _ => out.push(c),
        }
    }
    out.push('"');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enabling_writes_an_entry_that_starts_the_wallet_in_the_tray_and_disabling_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        let a = Autostart::new(dir.path(), "dev.countersign.wallet");
        assert_eq!(
            a.path(),
            dir.path().join("autostart/dev.countersign.wallet.desktop")
        );
        assert!(!a.enabled());
        a.enable(
            Path::new("/usr/bin/countersign-wallet"),
            "Countersign Wallet",
        )
        .unwrap();
        assert!(a.enabled());
        let text = std::fs::read_to_string(a.path()).unwrap();
        assert!(text.starts_with("[Desktop Entry]\n"));
        assert!(text.contains("\nExec=\"/usr/bin/countersign-wallet\" --tray\n"));
        assert!(text.contains("\nName=Countersign Wallet\n"));
        // Enabling twice keeps one entry.
        a.enable(
            Path::new("/usr/bin/countersign-wallet"),
            "Countersign Wallet",
        )
        .unwrap();
        assert_eq!(
            std::fs::read_dir(a.path().parent().unwrap())
                .unwrap()
                .count(),
            1
        );
        a.disable().unwrap();
        assert!(!a.path().exists());
        assert!(!a.enabled());
        a.disable().unwrap();
    }

    #[test]
    fn a_file_the_wallet_did_not_write_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let a = Autostart::new(dir.path(), "dev.countersign.wallet");
        std::fs::create_dir_all(a.path().parent().unwrap()).unwrap();
        let theirs = "[Desktop Entry]\nType=Application\nExec=/bin/something-else\n";
        std::fs::write(a.path(), theirs).unwrap();
        assert!(!a.enabled());
        assert!(matches!(a.disable(), Err(AutostartError::NotOurs(_))));
        assert!(matches!(
            a.enable(
                Path::new("/usr/bin/countersign-wallet"),
                "Countersign Wallet"
            ),
            Err(AutostartError::NotOurs(_))
        ));
        assert_eq!(std::fs::read_to_string(a.path()).unwrap(), theirs);
    }

    #[test]
    fn exec_lines_quote_and_escape_the_path() {
        assert_eq!(
            exec_arg(Path::new("/opt/My Apps/wallet")).unwrap(),
            "\"/opt/My Apps/wallet\""
        );
        assert_eq!(
            exec_arg(Path::new("/opt/a$b\"c`d\\e%f")).unwrap(),
            "\"/opt/a\\\\$b\\\\\"c\\\\`d\\\\\\\\e%%f\""
        );
        assert_eq!(exec_arg(Path::new("relative/wallet")), None);
        assert_eq!(exec_arg(Path::new("/opt/a\nExec=/bin/sh")), None);
    }

    #[test]
    fn the_configuration_directory_follows_the_xdg_rules() {
        let some = |s: &str| Some(std::ffi::OsString::from(s));
        assert_eq!(
            config_dir(some("/x/config"), some("/home/a")),
            Some(PathBuf::from("/x/config"))
        );
        assert_eq!(
            config_dir(some("relative"), some("/home/a")),
            Some(PathBuf::from("/home/a/.config"))
        );
        assert_eq!(
            config_dir(None, some("/home/a")),
            Some(PathBuf::from("/home/a/.config"))
        );
        assert_eq!(config_dir(None, some("")), None);
        assert_eq!(config_dir(None, None), None);
    }
}
