//! Whether the Wallet needs its own per-user `countersign://` handler.
//!
//! An installed package ships a desktop entry (`/usr/share/applications/Countersign
//! Wallet.desktop`) whose `MimeType` lists `x-scheme-handler/countersign` and whose `Exec`
//! runs this very binary with the link (`%u`): the desktop already hands links to it. A
//! per-user handler written at start-up would shadow the package's entry and outlive the
//! package's removal, so the Wallet writes one ([`register_user_handler`]) only when no
//! system entry runs it, e.g. when it runs from a build directory.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The per-user handler's file name (as Tauri's deep-link plugin named it, so an entry
/// written before the split is replaced, not doubled).
pub const USER_ENTRY: &str = "countersign-wallet-handler.desktop";

/// A failure to register the per-user handler.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The executable's path cannot be written on an `Exec` line.
    #[error("the Wallet's path {0:?} cannot be used in a desktop entry")]
    UnusablePath(PathBuf),
    /// Writing the entry failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The entry.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// `xdg-mime default` failed or is missing.
    #[error("xdg-mime could not make the entry the default handler: {0}")]
    XdgMime(String),
}

/// Makes `exe` the user's handler of `scheme`: writes `<data_home>/applications/`
/// [`USER_ENTRY`] (`Exec="<exe>" %u`), refreshes that directory's database when
/// `update-desktop-database` exists, then `xdg-mime default`s it, as Tauri's deep-link plugin
/// did.
pub fn register_user_handler(
    data_home: &Path,
    exe: &Path,
    scheme: &str,
    name: &str,
) -> Result<PathBuf, HandlerError> {
    let path = write_user_entry(data_home, exe, scheme, name)?;
    let dir = data_home.join("applications");
    // Optional, as for the plugin: only refreshes a cache.
    let _ = Command::new("update-desktop-database").arg(&dir).status();
    let out = Command::new("xdg-mime")
        .args(["default", USER_ENTRY, &format!("x-scheme-handler/{scheme}")])
        .output()
        .map_err(|e| HandlerError::XdgMime(e.to_string()))?;
    if !out.status.success() {
        return Err(HandlerError::XdgMime(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    Ok(path)
}

/// Writes the per-user entry (see [`register_user_handler`]) and returns its path.
pub fn write_user_entry(
    data_home: &Path,
    exe: &Path,
    scheme: &str,
    name: &str,
) -> Result<PathBuf, HandlerError> {
    let exec = crate::autostart::exec_arg(exe)
        .ok_or_else(|| HandlerError::UnusablePath(exe.to_path_buf()))?;
    let dir = data_home.join("applications");
    let path = dir.join(USER_ENTRY);
    let io = |source| HandlerError::Io {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(io)?;
    let text = format!(
        "[Desktop Entry]\nType=Application\nName={name}\nExec={exec} %u\nTerminal=false\nNoDisplay=true\nMimeType=x-scheme-handler/{scheme}\n"
    );
    let tmp = dir.join(format!("{USER_ENTRY}.tmp"));
    std::fs::write(&tmp, text).map_err(io)?;
    std::fs::rename(&tmp, &path).map_err(io)?;
    Ok(path)
}

/// The user's data directory by the XDG rules: `$XDG_DATA_HOME` when absolute, else
/// `$HOME/.local/share`.
pub fn data_home(
    xdg_data_home: Option<std::ffi::OsString>,
    home: Option<std::ffi::OsString>,
) -> Option<PathBuf> {
    let absolute = |p: std::ffi::OsString| Some(PathBuf::from(p)).filter(|p| p.is_absolute());
    xdg_data_home
        .and_then(absolute)
        .or_else(|| home.and_then(absolute).map(|h| h.join(".local/share")))
}

/// The data directories to search (`$XDG_DATA_DIRS`, by default `/usr/local/share:/usr/share`).
/// The user's own `$XDG_DATA_HOME` is not one: a handler there is what the Wallet writes.
pub fn system_data_dirs(xdg_data_dirs: Option<&OsStr>) -> Vec<PathBuf> {
    let dirs: Vec<PathBuf> = xdg_data_dirs
        .map(|v| {
            std::env::split_paths(v)
                .filter(|p| p.is_absolute())
                .collect()
        })
        .unwrap_or_default();
    if dirs.is_empty() {
        vec!["/usr/local/share".into(), "/usr/share".into()]
    } else {
        dirs
    }
}

/// The first system desktop entry (in `<data dir>/applications/`) that handles `scheme` by
/// running `exe`; a bare program name in `Exec` is looked up in `path_var` (`$PATH`).
pub fn packaged_entry(
    data_dirs: &[PathBuf],
    exe: &Path,
    scheme: &str,
    path_var: Option<&OsStr>,
) -> Option<PathBuf> {
    let exe = std::fs::canonicalize(exe).ok()?;
    let mime = format!("x-scheme-handler/{scheme}");
    for dir in data_dirs {
        let Ok(entries) = std::fs::read_dir(dir.join("applications")) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension() == Some(OsStr::new("desktop")))
            .collect();
        files.sort();
        for file in files {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            let Some(entry) = DesktopEntry::parse(&text) else {
                continue;
            };
            if entry.mime_types.iter().any(|m| m == &mime)
                && resolve(&entry.program, path_var).as_deref() == Some(exe.as_path())
            {
                return Some(file);
            }
        }
    }
    None
}

/// What this module reads from a desktop entry's `[Desktop Entry]` group.
#[derive(Debug, PartialEq, Eq)]
struct DesktopEntry {
    /// The first argument of `Exec`, unquoted.
    program: String,
    mime_types: Vec<String>,
}

impl DesktopEntry {
    fn parse(text: &str) -> Option<Self> {
        let mut in_group = false;
        let (mut exec, mut mime) = (None, None);
        for line in text.lines().map(str::trim) {
            if line.starts_with('[') {
                in_group = line == "[Desktop Entry]";
            } else if in_group {
                if let Some(v) = line.strip_prefix("Exec=") {
                    exec = Some(v.to_string());
                } else if let Some(v) = line.strip_prefix("MimeType=") {
                    mime = Some(v.to_string());
                }
            }
        }
        Some(Self {
            program: first_arg(&exec?)?,
            mime_types: mime?
                .split(';')
                .filter(|m| !m.is_empty())
                .map(str::to_string)
                .collect(),
        })
    }
}

/// The first argument of an `Exec` value: a quoted one (escapes removed) or up to a space.
fn first_arg(exec: &str) -> Option<String> {
    let exec = exec.trim_start();
    if let Some(rest) = exec.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = rest.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => return Some(out),
                // The string escape (`\\` → `\`) and then the quoting escape (`\x` → `x`).
                '\\' => {
                    let mut next = chars.next()?;
                    if next == '\\' {
                        next = chars.next()?;
                        if next == '\\' {
                            chars.next()?;
                        }
                    }
                    out.push(next);
                }
                _ => out.push(c),
            }
        }
        None
    } else {
        exec.split_whitespace().next().map(str::to_string)
    }
}

/// The executable `program` names: itself when it is a path, else the first match in `PATH`.
fn resolve(program: &str, path_var: Option<&OsStr>) -> Option<PathBuf> {
    let found = if program.contains('/') {
        PathBuf::from(program)
    } else {
        std::env::split_paths(path_var?)
            .filter(|d| d.is_absolute())
            .map(|d| d.join(program))
            .find(|p| p.is_file())?
    };
    std::fs::canonicalize(found).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let root = tempfile::tempdir().unwrap();
        let bin = root.path().join("bin");
        let share = root.path().join("share");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(share.join("applications")).unwrap();
        std::fs::write(bin.join("countersign-wallet"), "").unwrap();
        (root, bin, share)
    }

    fn entry(share: &Path, name: &str, text: &str) {
        std::fs::write(share.join("applications").join(name), text).unwrap();
    }

    #[test]
    fn the_packages_entry_is_found_for_the_installed_binary_only() {
        let (root, bin, share) = setup();
        entry(
            &share,
            "other.desktop",
            "[Desktop Entry]\nExec=countersign-wallet %u\n",
        );
        entry(
            &share,
            "Countersign Wallet.desktop",
            "[Desktop Entry]\nName=Countersign Wallet\nExec=countersign-wallet %u\nMimeType=x-scheme-handler/countersign\n",
        );
        let path = std::env::join_paths([&bin]).unwrap();
        let exe = bin.join("countersign-wallet");
        let dirs = [share.clone()];
        assert_eq!(
            packaged_entry(&dirs, &exe, "countersign", Some(&path)),
            Some(share.join("applications/Countersign Wallet.desktop"))
        );
        // Another binary (a build directory's) is not the one the entry runs.
        let other = root.path().join("target-countersign-wallet");
        std::fs::write(&other, "").unwrap();
        assert_eq!(
            packaged_entry(&dirs, &other, "countersign", Some(&path)),
            None
        );
        // Nor is another scheme, nor a PATH without the program.
        assert_eq!(packaged_entry(&dirs, &exe, "other", Some(&path)), None);
        assert_eq!(packaged_entry(&dirs, &exe, "countersign", None), None);
    }

    #[test]
    fn an_entry_with_an_absolute_quoted_exec_counts_and_other_groups_do_not() {
        let (_root, bin, share) = setup();
        let exe = bin.join("countersign-wallet");
        entry(
            &share,
            "actions.desktop",
            &format!(
                "[Desktop Entry]\nExec=/bin/true\nMimeType=text/plain\n[Desktop Action x]\nExec=\"{}\" %u\nMimeType=x-scheme-handler/countersign\n",
                exe.display()
            ),
        );
        let dirs = [share.clone()];
        assert_eq!(packaged_entry(&dirs, &exe, "countersign", None), None);
        entry(
            &share,
            "quoted.desktop",
            &format!(
                "[Desktop Entry]\nExec=\"{}\" %u\nMimeType=text/plain;x-scheme-handler/countersign;\n",
                exe.display()
            ),
        );
        assert_eq!(
            packaged_entry(&dirs, &exe, "countersign", None),
            Some(share.join("applications/quoted.desktop"))
        );
    }

    #[test]
    fn exec_arguments_are_unquoted() {
        assert_eq!(first_arg("wallet %u").as_deref(), Some("wallet"));
        assert_eq!(
            first_arg("\"/opt/My Apps/wallet\" %u").as_deref(),
            Some("/opt/My Apps/wallet")
        );
        assert_eq!(
            first_arg("\"/opt/a\\\\$b\\\\\\\\c\" %u").as_deref(),
            Some("/opt/a$b\\c")
        );
        assert_eq!(first_arg("\"unterminated"), None);
        assert_eq!(first_arg(""), None);
    }

    #[test]
    fn the_user_handler_entry_runs_the_binary_with_the_link() {
        let dir = tempfile::tempdir().unwrap();
        let exe = Path::new("/opt/My Wallet/countersign-wallet");
        let path = write_user_entry(dir.path(), exe, "countersign", "Countersign Wallet").unwrap();
        assert_eq!(path, dir.path().join("applications").join(USER_ENTRY));
        let text =
            std::fs::read_to_string(dir.path().join("applications").join(USER_ENTRY)).unwrap();
        let entry = DesktopEntry::parse(&text).unwrap();
        assert_eq!(entry.program, "/opt/My Wallet/countersign-wallet");
        assert_eq!(entry.mime_types, vec!["x-scheme-handler/countersign"]);
        assert!(text.contains("\nExec=\"/opt/My Wallet/countersign-wallet\" %u\n"));
        assert!(matches!(
            write_user_entry(dir.path(), Path::new("relative"), "countersign", "W"),
            Err(HandlerError::UnusablePath(_))
        ));
    }

    #[test]
    fn the_data_home_follows_the_xdg_rules() {
        let some = |s: &str| Some(std::ffi::OsString::from(s));
        assert_eq!(data_home(some("/x"), some("/h")), Some(PathBuf::from("/x")));
        assert_eq!(
            data_home(some("rel"), some("/h")),
            Some(PathBuf::from("/h/.local/share"))
        );
        assert_eq!(data_home(None, None), None);
    }

    #[test]
    fn data_dirs_default_to_the_xdg_ones() {
        assert_eq!(
            system_data_dirs(None),
            vec![
                PathBuf::from("/usr/local/share"),
                PathBuf::from("/usr/share")
            ]
        );
        assert_eq!(
            system_data_dirs(Some(OsStr::new("/a:relative:/b"))),
            vec![PathBuf::from("/a"), PathBuf::from("/b")]
        );
        assert_eq!(system_data_dirs(Some(OsStr::new(""))).len(), 2);
    }
}
