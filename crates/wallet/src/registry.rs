//! The pairing registry: which services this Wallet is paired with, as a JSON file in the
//! app's data directory.
//!
//! Invariant: the file holds only public facts (server URL, ids, names, key id). Keys live in
//! the keychain ([`crate::keystore`]); session tokens live in memory only. The file is written
//! atomically (temporary file, then rename) and readable by its owner only.
//!
//! One pairing per server: pairing a server again replaces the earlier pairing. One server per
//! service id: a pairing whose service id another server's pairing has is refused
//! ([`RegistryError::ServiceTaken`]), so one service can never be reached through two URLs nor
//! a second server pose as a paired one.
//!
//! Each pairing records the keychain account of its key ([`KeyAccount`]), a name this Wallet
//! chose at random when pairing; pairings saved before that field existed use the legacy
//! `<service_id>/<approver_id>` name.

use crate::approver::Pairing;
use crate::keystore::KeyAccount;
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
    /// Another server's pairing has this service id.
    #[error("service {service_id} is already paired through {server}; remove that pairing first")]
    ServiceTaken {
        /// The service id.
        service_id: String,
        /// The server already paired with it.
        server: ServerUrl,
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

/// One pairing and where its key is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    /// What the service answered (checked against the preview and the key when paired).
    pub pairing: Pairing,
    /// The keychain account of the device key.
    pub key_account: KeyAccount,
}

#[derive(Debug, Serialize, Deserialize)]
struct FileEntry {
    #[serde(flatten)]
    pairing: Pairing,
    /// Absent in files written before keychain accounts were local names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key_account: Option<KeyAccount>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct FileForm {
    version: u32,
    pairings: Vec<FileEntry>,
}

/// The paired services, loaded from and saved to one file.
#[derive(Debug)]
pub struct PairingRegistry {
    path: PathBuf,
    entries: Vec<Registered>,
}

impl PairingRegistry {
    /// Loads the registry in `data_dir` (empty when the file does not exist yet).
    pub fn load(data_dir: &Path) -> Result<Self, RegistryError> {
        let path = data_dir.join(FILE_NAME);
        let entries = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice::<FileForm>(&bytes)
                .map_err(|source| RegistryError::Format {
                    path: path.clone(),
                    source,
                })?
                .pairings
                .into_iter()
                .map(|e| Registered {
                    key_account: e.key_account.unwrap_or_else(|| {
                        KeyAccount::legacy(&e.pairing.service_id, &e.pairing.approver_id)
                    }),
                    pairing: e.pairing,
                })
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(source) => return Err(RegistryError::Io { path, source }),
        };
        Ok(Self { path, entries })
    }

    /// The file behind this registry.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// All pairings, in the order they were made.
    pub fn all(&self) -> Vec<Pairing> {
        self.entries.iter().map(|e| e.pairing.clone()).collect()
    }

    /// All pairings with their keychain accounts, in the order they were made.
    pub fn entries(&self) -> &[Registered] {
        &self.entries
    }

    /// The pairing for `server`, if any.
    pub fn get(&self, server: &ServerUrl) -> Option<&Registered> {
        self.entries.iter().find(|e| &e.pairing.server == server)
    }

    /// The pairing of another server than `server` that has `service_id`, if any.
    pub fn service_elsewhere(&self, service_id: &str, server: &ServerUrl) -> Option<&Registered> {
        self.entries
            .iter()
            .find(|e| e.pairing.service_id == service_id && &e.pairing.server != server)
    }

    /// Adds `entry` (replacing one for the same server) and saves. Returns the replaced one.
    /// Refused, changing nothing, when another server's pairing has the same service id.
    pub fn upsert(&mut self, entry: Registered) -> Result<Option<Registered>, RegistryError> {
        if let Some(other) =
            self.service_elsewhere(&entry.pairing.service_id, &entry.pairing.server)
        {
            return Err(RegistryError::ServiceTaken {
                service_id: entry.pairing.service_id.clone(),
                server: other.pairing.server.clone(),
            });
        }
        let old = self
            .entries
            .iter()
            .position(|e| e.pairing.server == entry.pairing.server)
            .map(|i| self.entries.remove(i));
        self.entries.push(entry);
        self.save()?;
        Ok(old)
    }

    /// Removes the pairing for `server` and saves. Returns it.
    pub fn remove(&mut self, server: &ServerUrl) -> Result<Option<Registered>, RegistryError> {
        let old = self
            .entries
            .iter()
            .position(|e| &e.pairing.server == server)
            .map(|i| self.entries.remove(i));
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
            version: 2,
            pairings: self
                .entries
                .iter()
                .map(|e| FileEntry {
                    pairing: e.pairing.clone(),
                    key_account: Some(e.key_account.clone()),
                })
                .collect(),
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

    fn entry(server: &str, service_id: &str, approver: &str) -> Registered {
        let mut pairing = pairing(server, approver);
        pairing.service_id = service_id.into();
        Registered {
            pairing,
            key_account: KeyAccount::random(),
        }
    }

    #[test]
    fn saves_loads_replaces_and_removes() {
        let dir = tempfile::tempdir().unwrap();
        let mut reg = PairingRegistry::load(dir.path()).unwrap();
        assert!(reg.all().is_empty());
        let alice = entry("http://127.0.0.1:8470", "svc_a", "alice");
        reg.upsert(alice.clone()).unwrap();
        reg.upsert(entry("http://127.0.0.1:9000", "svc_b", "bob"))
            .unwrap();
        let carol = entry("http://127.0.0.1:8470/", "svc_a", "carol");
        let old = reg.upsert(carol.clone()).unwrap();
        assert_eq!(old.unwrap(), alice);

        let again = PairingRegistry::load(dir.path()).unwrap();
        assert_eq!(again.all().len(), 2);
        let server = ServerUrl::parse("http://127.0.0.1:8470").unwrap();
        assert_eq!(again.get(&server).unwrap(), &carol, "with its key account");

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
        reg.upsert(entry("http://127.0.0.1:8470", "svc_a", "alice"))
            .unwrap();
        let mode = std::fs::metadata(reg.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0);
    }

    #[test]
    fn a_service_id_paired_through_another_server_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut reg = PairingRegistry::load(dir.path()).unwrap();
        reg.upsert(entry("https://one.example", "svc_a", "alice"))
            .unwrap();
        let err = reg
            .upsert(entry("https://two.example", "svc_a", "alice"))
            .unwrap_err();
        assert!(
            matches!(&err, RegistryError::ServiceTaken { server, .. } if server.as_str() == "https://one.example"),
            "{err}"
        );
        assert_eq!(PairingRegistry::load(dir.path()).unwrap().all().len(), 1);
    }

    #[test]
    fn a_file_from_before_key_accounts_finds_the_legacy_entry() {
        let dir = tempfile::tempdir().unwrap();
        let old = serde_json::json!({"version": 1, "pairings": [pairing("http://127.0.0.1:8470", "alice")]});
        std::fs::write(dir.path().join(FILE_NAME), old.to_string()).unwrap();
        let reg = PairingRegistry::load(dir.path()).unwrap();
        assert_eq!(
            reg.entries()[0].key_account,
            KeyAccount::legacy("svc_test", "alice")
        );
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
