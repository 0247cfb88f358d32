//! [`KeyFile`]: the headless approver's device key and pairing in one JSON file.
//!
//! ```json
//! {
//!   "pairing": {"server": "...", "service_id": "...", "approver_id": "...",
//!               "approver_name": "...", "key_id": "..."},
//!   "secret_key": "<base64url, no padding, of the 32-byte Ed25519 seed>"
//! }
//! ```
//!
//! The file is created with mode 0600 and never overwritten. It is meant for scripts, tests
//! and servers without a keychain; the desktop Wallet stores its keys in the OS keychain
//! instead (see the protocol's "Pairing a Wallet") and does not use this module.

use crate::pairing::Pairing;
use countersign_core::encoding::{b64_decode, b64_encode};
use countersign_core::keys::SigningKey;
use serde::{Deserialize, Serialize};
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Reads and writes key files (see the module docs for the format).
#[derive(Debug, Clone, Copy)]
pub struct KeyFile;

/// Why a key file could not be created or loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// No file at the path.
    #[error("no key file at {}; pair this approver first", path.display())]
    Missing {
        /// The path.
        path: PathBuf,
    },
    /// A file already exists at the path; it was left as it was.
    #[error("a key file already exists at {}; it was not overwritten", path.display())]
    Exists {
        /// The path.
        path: PathBuf,
    },
    /// The file could not be read or written.
    #[error("cannot access key file {}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The file is not a key file.
    #[error("key file {} is malformed: {why}", path.display())]
    Malformed {
        /// The path.
        path: PathBuf,
        /// What is wrong (never the secret itself).
        why: String,
    },
}

#[derive(Serialize, Deserialize)]
struct Contents {
    pairing: Pairing,
    secret_key: String,
}

impl KeyFile {
    /// Writes a new key file at `path` with mode 0600 (on Unix). Refuses to replace an
    /// existing file; the parent directory must exist.
    pub fn create(
        path: impl AsRef<Path>,
        pairing: &Pairing,
        key: &SigningKey,
    ) -> Result<(), KeyFileError> {
        let path = path.as_ref();
        let contents = Contents {
            pairing: pairing.clone(),
            secret_key: b64_encode(key.to_bytes()),
        };
        let mut text = serde_json::to_string_pretty(&contents).expect("a key file serializes");
        text.push('\n');

        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(|source| match source.kind() {
            io::ErrorKind::AlreadyExists => KeyFileError::Exists {
                path: path.to_path_buf(),
            },
            _ => KeyFileError::Io {
                path: path.to_path_buf(),
                source,
            },
        })?;
        let written = file
            .write_all(text.as_bytes())
            .and_then(|()| file.sync_all());
        if let Err(source) = written {
            drop(file);
            let _ = fs::remove_file(path);
            return Err(KeyFileError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
        Ok(())
    }

    /// Reads the key file at `path`. A file readable by others than its owner is used but
    /// logged as a warning.
    pub fn load(path: impl AsRef<Path>) -> Result<(Pairing, SigningKey), KeyFileError> {
        let path = path.as_ref();
        let text = fs::read_to_string(path).map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => KeyFileError::Missing {
                path: path.to_path_buf(),
            },
            _ => KeyFileError::Io {
                path: path.to_path_buf(),
                source,
            },
        })?;
        warn_if_shared(path);
        let malformed = |why: String| KeyFileError::Malformed {
            path: path.to_path_buf(),
            why,
        };
        let contents: Contents =
            serde_json::from_str(&text).map_err(|e| malformed(e.to_string()))?;
        let seed = b64_decode(&contents.secret_key)
            .map_err(|_| malformed("secret_key is not base64url without padding".into()))?;
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| malformed("secret_key is not 32 bytes".into()))?;
        Ok((contents.pairing, SigningKey::from_bytes(&seed)))
    }
}

#[cfg(unix)]
fn warn_if_shared(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = fs::metadata(path) {
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = format_args!("{:o}", mode & 0o777),
                "the key file is accessible to other users; chmod 600 it"
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_shared(_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;
    use countersign_core::keys::generate_signing_key;
    use countersign_core::ServerUrl;

    fn pairing() -> Pairing {
        Pairing {
            server: ServerUrl::parse("http://127.0.0.1:8470").unwrap(),
            service_id: "svc_test".into(),
            approver_id: "alice".into(),
            approver_name: "Alice Example".into(),
            key_id: "key_0011223344556677".into(),
        }
    }

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("approver.json");
        let key = generate_signing_key();
        KeyFile::create(&path, &pairing(), &key).unwrap();
        let (p, k) = KeyFile::load(&path).unwrap();
        assert_eq!(p, pairing());
        assert_eq!(k.to_bytes(), key.to_bytes());

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn an_existing_file_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("approver.json");
        let first = generate_signing_key();
        KeyFile::create(&path, &pairing(), &first).unwrap();
        let err = KeyFile::create(&path, &pairing(), &generate_signing_key()).unwrap_err();
        assert!(matches!(err, KeyFileError::Exists { .. }), "{err}");
        assert_eq!(KeyFile::load(&path).unwrap().1.to_bytes(), first.to_bytes());

        // Not even a file that is not a key file.
        let other = dir.path().join("notes.txt");
        fs::write(&other, "keep me").unwrap();
        assert!(matches!(
            KeyFile::create(&other, &pairing(), &first),
            Err(KeyFileError::Exists { .. })
        ));
        assert_eq!(fs::read_to_string(&other).unwrap(), "keep me");
    }

    #[test]
    fn missing_and_malformed_files_say_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("approver.json");
        assert!(matches!(
            KeyFile::load(&path),
            Err(KeyFileError::Missing { .. })
        ));

        let cases = [
            ("not json", "expected"),
            (r#"{"secret_key":"AAAA"}"#, "pairing"),
            (
                &format!(
                    r#"{{"pairing":{},"secret_key":"AAAA"}}"#,
                    serde_json::to_string(&pairing()).unwrap()
                ),
                "32 bytes",
            ),
            (
                &format!(
                    r#"{{"pairing":{},"secret_key":"a+b/"}}"#,
                    serde_json::to_string(&pairing()).unwrap()
                ),
                "base64url",
            ),
        ];
        for (text, hint) in cases {
            fs::write(&path, text).unwrap();
            let err = KeyFile::load(&path).unwrap_err();
            assert!(
                matches!(&err, KeyFileError::Malformed { why, .. } if why.contains(hint)),
                "{text}: {err}"
            );
        }
    }

    #[test]
    fn a_missing_directory_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/dir/approver.json");
        assert!(matches!(
            KeyFile::create(&path, &pairing(), &generate_signing_key()),
            Err(KeyFileError::Io { .. })
        ));
    }
}
