//! The pairing registry: which services this Wallet is paired with, as a JSON file in the
//! app's data directory.
//!
//! Invariant: the file holds only public facts (server URL, ids, names, key id). Keys live in
//! the keychain ([`crate::keystore`]); session tokens live in memory only. The file is written
//! atomically (temporary file, then rename) and readable by its owner only.
//!
//! One pairing per server: pairing a server again replaces the earlier pairing.

use crate::approver::Pairing;
use countersign_core::ServerUrl;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The registry's file name inside the data directory.
pub const FILE_NAME: &str = "pairings.json";

/// The pairing list could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// Reading or writing the file failed.
    #[error("cannot access the pairing list {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a pairing list.
    #[error("the pairing list {path} is damaged: {source}")]
    Format {
        /// The file.
        path: PathBuf,
        /// The JSON error.
        source: serde_json::Error,
    },
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct FileForm {
    version: u32,
    pairings: Vec<Pairing>,
}

/// The paired services, loaded from and saved to one file.
#[derive(Debug)]
pub struct PairingRegistry {
    path: PathBuf,
    pairings: Vec<Pairing>,
}

impl PairingRegistry {
    /// Loads the registry in `data_dir` (empty when the file does not exist yet).
    pub fn load(data_dir: &Path) -> Result<Self, RegistryError> {
        let path = data_dir.join(FILE_NAME);
        let pairings = match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice::<FileForm>(&bytes)
                    .map_err(|source| RegistryError::Format {
                        path: path.clone(),
                        source,
                    })?
                    .pairings
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(source) => return Err(RegistryError::Io { path, source }),
        };
        Ok(Self { path, pairings })
    }

    /// The file behind this registry.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// All pairings, in the order they were made.
    pub fn all(&self) -> &[Pairing] {
        &self.pairings
    }

    /// The pairing for `server`, if any.
    pub fn get(&self, server: &ServerUrl) -> Option<&Pairing> {
        self.pairings.iter().find(|p| &p.server == server)
    }

    /// Adds `pairing` (replacing one for the same server) and saves. Returns the replaced one.
    pub fn upsert(&mut self, pairing: Pairing) -> Result<Option<Pairing>, RegistryError> {
        let old = self
            .pairings
            .iter()
            .position(|p| p.server == pairing.server)
            .map(|i| self.pairings.remove(i));
        self.pairings.push(pairing);
        self.save()?;
        Ok(old)
    }

    /// Removes the pairing for `server` and saves. Returns it.
    pub fn remove(&mut self, server: &ServerUrl) -> Result<Option<Pairing>, RegistryError> {
        let old = self
            .pairings
            .iter()
            .position(|p| &p.server == server)
            .map(|i| self.pairings.remove(i));
        if old.is_some() {
            self.save()?;
        }
        Ok(old)
    }

    fn save(&self) -> Result<(), RegistryError> {
        let io = |source| RegistryError::Io {
            path: self.path.clone(),
            source,
        };
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(io)?;
        let form = FileForm {
            version: 1,
            pairings: self.pairings.clone(),
        };
        let bytes = serde_json::to_vec_pretty(&form).expect("pairings always serialize");
        let tmp = self.path.with_extension("json.tmp");
        {
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut file = opts.open(&tmp).map_err(io)?;
            file.write_all(&bytes).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, &self.path).map_err(io)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn pairing(server: &str, approver: &str) -> Pairing {
        Pairing {
            server: ServerUrl::parse(server).unwrap(),
            service_id: "svc_test".into(),
            approver_id: approver.into(),
            approver_name: format!("{approver} (test)"),
            key_id: "key_0011223344556677".into(),
        }
    }

    #[test]
    fn saves_loads_replaces_and_removes() {
        let dir = tempfile::tempdir().unwrap();
        let mut reg = PairingRegistry::load(dir.path()).unwrap();
        assert!(reg.all().is_empty());
        reg.upsert(pairing("http://127.0.0.1:8470", "alice"))
            .unwrap();
        reg.upsert(pairing("http://127.0.0.1:9000", "bob")).unwrap();
        let old = reg
            .upsert(pairing("http://127.0.0.1:8470/", "carol"))
            .unwrap();
        assert_eq!(old.unwrap().approver_id, "alice");

        let again = PairingRegistry::load(dir.path()).unwrap();
        assert_eq!(again.all().len(), 2);
        let server = ServerUrl::parse("http://127.0.0.1:8470").unwrap();
        assert_eq!(again.get(&server).unwrap().approver_id, "carol");

        let mut again = again;
        assert!(again.remove(&server).unwrap().is_some());
        assert!(again.remove(&server).unwrap().is_none());
        assert_eq!(PairingRegistry::load(dir.path()).unwrap().all().len(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mut reg = PairingRegistry::load(dir.path()).unwrap();
        reg.upsert(pairing("http://127.0.0.1:8470", "alice"))
            .unwrap();
        let mode = std::fs::metadata(reg.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0);
    }

    #[test]
    fn a_damaged_file_is_an_error_not_an_empty_list() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), b"{not json").unwrap();
        assert!(matches!(
            PairingRegistry::load(dir.path()),
            Err(RegistryError::Format { .. })
        ));
    }
}
