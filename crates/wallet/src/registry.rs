//! The pairing registry: this Wallet's identities (pairings), as a JSON file in the app's data
//! directory.
//!
//! Invariant: the file holds only public facts (server URL, ids, names, key id, the public
//! key's fingerprint). Keys live in the keychain ([`crate::keystore`]); session tokens live in
//! memory only. The file is written atomically (temporary file, then rename) and readable by
//! its owner only.
//!
//! An identity is one approver of one service: a service may be paired several times, once per
//! approver (say personal and on-call), each pairing with its own local [`PairingId`], key and
//! keychain entry. Pairing the same approver of the same service again replaces that pairing's
//! key and keeps its local id (so its settings and the history shown stay). One service is
//! reached through one URL only: a pairing whose service id another server's pairing has
//! ([`RegistryError::ServiceTaken`]), or whose server is paired as another service
//! ([`RegistryError::ServerIsAnotherService`]), is refused, so no second server can pose as a
//! paired service and no server can speak for two.
//!
//! Each pairing records the keychain account of its key ([`KeyAccount`]), a name this Wallet
//! chose at random when pairing; pairings saved before that field existed use the legacy
//! `<service_id>/<approver_id>` name. Pairings saved before local ids existed get one when
//! loaded (and the file is written again).

use crate::approver::Pairing;
use crate::keystore::KeyAccount;
use countersign_core::encoding::random_bytes;
use countersign_core::ServerUrl;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The registry's file name inside the data directory.
pub const FILE_NAME: &str = "pairings.json";

/// The local id of one pairing: made by this Wallet at random when the approver was first
/// paired, kept when the same approver is paired again, never sent to a service nor taken
/// from one. The view names a pairing by it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PairingId(String);

impl PairingId {
    /// A fresh id: `p` and 12 random bytes in hex.
    pub fn random() -> Self {
        Self(format!("p{}", hex::encode(random_bytes::<12>())))
    }

    /// The id with this text (as the view sends it back; unknown ids match no pairing).
    pub fn named(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PairingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

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
    /// This server is paired as another service already.
    #[error("{server} is paired as service {paired_as}; remove those pairings first")]
    ServerIsAnotherService {
        /// The server.
        server: ServerUrl,
        /// The service id its pairings have.
        paired_as: String,
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
    /// Its local id.
    pub id: PairingId,
    /// What the service answered (checked against the preview and the key when paired).
    pub pairing: Pairing,
    /// The keychain account of the device key.
    pub key_account: KeyAccount,
    /// The SHA-256 fingerprint of the public key, computed here when paired (`None` for
    /// pairings saved before it was recorded).
    pub fingerprint: Option<String>,
}

impl Registered {
    /// True when `pairing` is the same identity: same server, service and approver.
    pub fn is_identity_of(&self, pairing: &Pairing) -> bool {
        self.pairing.server == pairing.server
            && self.pairing.service_id == pairing.service_id
            && self.pairing.approver_id == pairing.approver_id
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct FileEntry {
    /// Absent in files written before pairings had local ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<PairingId>,
    #[serde(flatten)]
    pairing: Pairing,
    /// Absent in files written before keychain accounts were local names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key_account: Option<KeyAccount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fingerprint: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct FileForm {
    version: u32,
    pairings: Vec<FileEntry>,
}

/// The pairings, loaded from and saved to one file.
#[derive(Debug)]
pub struct PairingRegistry {
    path: PathBuf,
    entries: Vec<Registered>,
}

impl PairingRegistry {
    /// Loads the registry in `data_dir` (empty when the file does not exist yet). Pairings
    /// without a local id get one, and the file is saved with it.
    pub fn load(data_dir: &Path) -> Result<Self, RegistryError> {
        let path = data_dir.join(FILE_NAME);
        let mut missing_ids = false;
        let entries = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice::<FileForm>(&bytes)
                .map_err(|source| RegistryError::Format {
                    path: path.clone(),
                    source,
                })?
                .pairings
                .into_iter()
                .map(|e| Registered {
                    id: e.id.unwrap_or_else(|| {
                        missing_ids = true;
                        PairingId::random()
                    }),
                    key_account: e.key_account.unwrap_or_else(|| {
                        KeyAccount::legacy(&e.pairing.service_id, &e.pairing.approver_id)
                    }),
                    pairing: e.pairing,
                    fingerprint: e.fingerprint,
                })
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(source) => return Err(RegistryError::Io { path, source }),
        };
        let registry = Self { path, entries };
        if missing_ids {
            registry.save()?;
        }
        Ok(registry)
    }

    /// The file behind this registry.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// All pairings, in the order they were made.
    pub fn all(&self) -> Vec<Pairing> {
        self.entries.iter().map(|e| e.pairing.clone()).collect()
    }

    /// All pairings with their local ids and keychain accounts, in the order they were made.
    pub fn entries(&self) -> &[Registered] {
        &self.entries
    }

    /// The pairing with local id `id`, if any.
    pub fn get(&self, id: &PairingId) -> Option<&Registered> {
        self.entries.iter().find(|e| &e.id == id)
    }

    /// The pairings through `server`, in the order they were made.
    pub fn of_server<'a>(&'a self, server: &'a ServerUrl) -> impl Iterator<Item = &'a Registered> {
        self.entries
            .iter()
            .filter(move |e| &e.pairing.server == server)
    }

    /// The pairing of the same identity as `pairing` (server, service, approver), if any.
    pub fn identity_of(&self, pairing: &Pairing) -> Option<&Registered> {
        self.entries.iter().find(|e| e.is_identity_of(pairing))
    }

    /// Why `service_id` may not be paired through `server`: another server's pairing has
    /// that service id, or this server's pairings are of another service.
    pub fn conflict(&self, service_id: &str, server: &ServerUrl) -> Option<RegistryError> {
        if let Some(other) = self
            .entries
            .iter()
            .find(|e| e.pairing.service_id == service_id && &e.pairing.server != server)
        {
            return Some(RegistryError::ServiceTaken {
                service_id: service_id.to_string(),
                server: other.pairing.server.clone(),
            });
        }
        self.entries
            .iter()
            .find(|e| &e.pairing.server == server && e.pairing.service_id != service_id)
            .map(|e| RegistryError::ServerIsAnotherService {
                server: server.clone(),
                paired_as: e.pairing.service_id.clone(),
            })
    }

    /// Records a pairing and saves; returns its local id and the entry it replaced. A pairing
    /// of an identity already paired (same server, service and approver) replaces that entry's
    /// key account, key id and fingerprint and keeps its local id and place; any other is
    /// added under a fresh id. Refused, changing nothing, when [`PairingRegistry::conflict`]
    /// finds one.
    pub fn upsert(
        &mut self,
        pairing: Pairing,
        key_account: KeyAccount,
        fingerprint: Option<String>,
    ) -> Result<(PairingId, Option<Registered>), RegistryError> {
        if let Some(e) = self.conflict(&pairing.service_id, &pairing.server) {
            return Err(e);
        }
        let entry = |id| Registered {
            id,
            pairing: pairing.clone(),
            key_account: key_account.clone(),
            fingerprint: fingerprint.clone(),
        };
        let (id, old) = match self.entries.iter().position(|e| e.is_identity_of(&pairing)) {
            Some(i) => {
                let id = self.entries[i].id.clone();
                let old = std::mem::replace(&mut self.entries[i], entry(id.clone()));
                (id, Some(old))
            }
            None => {
                let id = PairingId::random();
                self.entries.push(entry(id.clone()));
                (id, None)
            }
        };
        if let Err(e) = self.save() {
            // Leave memory as the file is.
            match &old {
                Some(old) => {
                    if let Some(slot) = self.entries.iter_mut().find(|e| e.id == id) {
                        *slot = old.clone();
                    }
                }
                None => self.entries.retain(|e| e.id != id),
            }
            return Err(e);
        }
        Ok((id, old))
    }

    /// Removes the pairing `id` and saves. Returns it.
    pub fn remove(&mut self, id: &PairingId) -> Result<Option<Registered>, RegistryError> {
        let Some(i) = self.entries.iter().position(|e| &e.id == id) else {
            return Ok(None);
        };
        let old = self.entries.remove(i);
        if let Err(e) = self.save() {
            self.entries.insert(i, old);
            return Err(e);
        }
        Ok(Some(old))
    }

    fn save(&self) -> Result<(), RegistryError> {
        let form = FileForm {
            version: 3,
            pairings: self
                .entries
                .iter()
                .map(|e| FileEntry {
                    id: Some(e.id.clone()),
                    pairing: e.pairing.clone(),
                    key_account: Some(e.key_account.clone()),
                    fingerprint: e.fingerprint.clone(),
                })
                .collect(),
        };
        let bytes = serde_json::to_vec_pretty(&form).expect("pairings always serialize");
        write_private(&self.path, &bytes).map_err(|source| RegistryError::Io {
            path: self.path.clone(),
            source,
        })
    }
}

/// Writes `bytes` to `path` atomically (a temporary file beside it, synced, then renamed),
/// readable by its owner only.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".tmp");
    let tmp = dir.join(tmp_name);
    {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut file = opts.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

/// The fingerprint shown for a public key: its SHA-256 in hex, in groups of four.
pub fn fingerprint(key: &countersign_core::keys::VerifyingKey) -> String {
    let hex = countersign_core::encoding::sha256_hex(key.as_bytes());
    let groups: Vec<&str> = (0..hex.len())
        .step_by(4)
        .map(|i| &hex[i..(i + 4).min(hex.len())])
        .collect();
    format!("SHA256:{}", groups.join(" "))
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

    fn of(server: &str, service_id: &str, approver: &str) -> Pairing {
        let mut p = pairing(server, approver);
        p.service_id = service_id.into();
        p
    }

    fn add(reg: &mut PairingRegistry, p: Pairing) -> Result<PairingId, RegistryError> {
        reg.upsert(p, KeyAccount::random(), None).map(|(id, _)| id)
    }

    #[test]
    fn saves_loads_replaces_and_removes() {
        let dir = tempfile::tempdir().unwrap();
        let mut reg = PairingRegistry::load(dir.path()).unwrap();
        assert!(reg.all().is_empty());
        let alice = add(&mut reg, of("http://127.0.0.1:8470", "svc_a", "alice")).unwrap();
        add(&mut reg, of("http://127.0.0.1:9000", "svc_b", "bob")).unwrap();
        let first_account = reg.get(&alice).unwrap().key_account.clone();
        // The same approver again (the URL spelled differently): same id, new key account.
        let mut again = of("http://127.0.0.1:8470/", "svc_a", "alice");
        again.key_id = "key_ffeeddccbbaa9988".into();
        let (id, old) = reg
            .upsert(again, KeyAccount::random(), Some("SHA256:ab".into()))
            .unwrap();
        assert_eq!(id, alice, "re-pairing keeps the local id");
        assert_eq!(old.unwrap().key_account, first_account);

        let loaded = PairingRegistry::load(dir.path()).unwrap();
        assert_eq!(loaded.all().len(), 2);
        let e = loaded.get(&alice).unwrap();
        assert_eq!(e.pairing.key_id, "key_ffeeddccbbaa9988");
        assert_ne!(e.key_account, first_account);
        assert_eq!(e.fingerprint.as_deref(), Some("SHA256:ab"));
        assert_eq!(loaded.entries()[0].id, alice, "keeps its place");

        let mut loaded = loaded;
        assert!(loaded.remove(&alice).unwrap().is_some());
        assert!(loaded.remove(&alice).unwrap().is_none());
        assert_eq!(PairingRegistry::load(dir.path()).unwrap().all().len(), 1);
    }

    #[test]
    fn two_approvers_of_one_service_are_two_pairings() {
        let dir = tempfile::tempdir().unwrap();
        let mut reg = PairingRegistry::load(dir.path()).unwrap();
        let personal = add(&mut reg, of("https://cs.example", "svc_a", "alice")).unwrap();
        let on_call = add(&mut reg, of("https://cs.example", "svc_a", "oncall")).unwrap();
        assert_ne!(personal, on_call);
        let server = ServerUrl::parse("https://cs.example").unwrap();
        let loaded = PairingRegistry::load(dir.path()).unwrap();
        let ids: Vec<_> = loaded.of_server(&server).map(|e| e.id.clone()).collect();
        assert_eq!(ids, [personal.clone(), on_call.clone()]);
        assert_ne!(
            loaded.get(&personal).unwrap().key_account,
            loaded.get(&on_call).unwrap().key_account
        );
        // Removing one leaves the other.
        let mut loaded = loaded;
        loaded.remove(&personal).unwrap();
        let again = PairingRegistry::load(dir.path()).unwrap();
        assert_eq!(again.entries().len(), 1);
        assert_eq!(again.entries()[0].id, on_call);
        assert_eq!(again.entries()[0].pairing.approver_id, "oncall");
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mut reg = PairingRegistry::load(dir.path()).unwrap();
        add(&mut reg, of("http://127.0.0.1:8470", "svc_a", "alice")).unwrap();
        let mode = std::fs::metadata(reg.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0);
    }

    #[test]
    fn a_service_id_paired_through_another_server_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut reg = PairingRegistry::load(dir.path()).unwrap();
        add(&mut reg, of("https://one.example", "svc_a", "alice")).unwrap();
        // Another approver changes nothing: one service, one URL.
        for approver in ["alice", "oncall"] {
            let err = add(&mut reg, of("https://two.example", "svc_a", approver)).unwrap_err();
            assert!(
                matches!(&err, RegistryError::ServiceTaken { server, .. } if server.as_str() == "https://one.example"),
                "{err}"
            );
        }
        assert_eq!(PairingRegistry::load(dir.path()).unwrap().all().len(), 1);
    }

    #[test]
    fn a_server_paired_as_one_service_cannot_speak_for_another() {
        let dir = tempfile::tempdir().unwrap();
        let mut reg = PairingRegistry::load(dir.path()).unwrap();
        add(&mut reg, of("https://one.example", "svc_a", "alice")).unwrap();
        let err = add(&mut reg, of("https://one.example", "svc_b", "oncall")).unwrap_err();
        assert!(
            matches!(&err, RegistryError::ServerIsAnotherService { paired_as, .. } if paired_as == "svc_a"),
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
    fn a_file_from_before_local_ids_gets_them_once() {
        let dir = tempfile::tempdir().unwrap();
        let old = serde_json::json!({"version": 2, "pairings": [pairing("http://127.0.0.1:8470", "alice")]});
        std::fs::write(dir.path().join(FILE_NAME), old.to_string()).unwrap();
        let first = PairingRegistry::load(dir.path()).unwrap().entries()[0]
            .id
            .clone();
        let second = PairingRegistry::load(dir.path()).unwrap().entries()[0]
            .id
            .clone();
        assert_eq!(first, second, "the id given at the first load was saved");
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

    #[test]
    fn fingerprints_are_the_whole_sha256_in_groups() {
        let key = countersign_core::keys::generate_signing_key().verifying_key();
        let f = fingerprint(&key);
        assert!(f.starts_with("SHA256:"));
        assert_eq!(f.split(' ').count(), 16);
        assert_eq!(f.replace(' ', "").len(), "SHA256:".len() + 64);
    }
}
