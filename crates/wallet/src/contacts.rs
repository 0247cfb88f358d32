//! When each pairing last reached its service, kept across restarts so the pairing list
//! shows it before the first new contact. A JSON file in the data directory (`contacts.json`,
//! pairing id → time), written atomically and readable by its owner only; it never holds a
//! secret.
//!
//! Contacts happen with every sync event, so the file is not written on each: at most once
//! per [`WRITE_EVERY`], and only when a time changed. A Wallet that stops between two writes
//! loses at most that much of its last contacts. The file only informs the pairing list: a
//! damaged or missing one starts empty.

use crate::registry::{write_private, PairingId};
use countersign_core::Timestamp;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file's name inside the data directory.
pub const FILE_NAME: &str = "contacts.json";

/// The shortest time between two writes of the file.
pub const WRITE_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Each pairing's last contact, by pairing id.
pub type Contacts = BTreeMap<String, Timestamp>;

/// The contacts file: what it holds, and when it was last written.
#[derive(Debug)]
pub struct ContactsFile {
    path: PathBuf,
    saved: Contacts,
    written_at: Option<Timestamp>,
}

impl ContactsFile {
    /// Reads `contacts.json` in `data_dir`; a missing or damaged file reads as empty (and is
    /// replaced at the next write).
    pub fn load(data_dir: &Path) -> Self {
        let path = data_dir.join(FILE_NAME);
        let saved = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(
                    "{} is damaged, last contacts start empty: {e}",
                    path.display()
                );
                Contacts::new()
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Contacts::new(),
            Err(e) => {
                tracing::warn!("cannot read {}: {e}", path.display());
                Contacts::new()
            }
        };
        Self {
            path,
            saved,
            written_at: None,
        }
    }

    /// The last contact of pairing `id`, as last written.
    pub fn get(&self, id: &PairingId) -> Option<Timestamp> {
        self.saved.get(id.as_str()).copied()
    }

    /// Writes `current` (every pairing's last contact; pairings missing from it are dropped)
    /// when it differs from the file and the last write is at least [`WRITE_EVERY`] before
    /// `now`, or at once when `now_or_never` is set (a pairing was removed). Returns whether
    /// it wrote.
    pub fn save_if_due(
        &mut self,
        current: Contacts,
        now: Timestamp,
        now_or_never: bool,
    ) -> std::io::Result<bool> {
        if current == self.saved {
            return Ok(false);
        }
        let due = self
            .written_at
            .is_none_or(|at| at.seconds_until(&now) >= WRITE_EVERY.as_secs() as i64 || now < at);
        if !due && !now_or_never {
            return Ok(false);
        }
        let bytes = serde_json::to_vec_pretty(&current).expect("contacts always serialize");
        write_private(&self.path, &bytes)?;
        self.saved = current;
        self.written_at = Some(now);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_unix(1_800_000_000 + secs).unwrap()
    }

    fn contacts(pairs: &[(&str, i64)]) -> Contacts {
        pairs
            .iter()
            .map(|(id, s)| (id.to_string(), at(*s)))
            .collect()
    }

    #[test]
    fn writes_changes_at_most_once_a_minute_and_reads_them_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = ContactsFile::load(dir.path());
        assert_eq!(file.get(&PairingId::named("a")), None);

        assert!(file
            .save_if_due(contacts(&[("a", 0)]), at(0), false)
            .unwrap());
        // Changed, but too soon: not written.
        assert!(!file
            .save_if_due(contacts(&[("a", 30)]), at(30), false)
            .unwrap());
        assert_eq!(
            ContactsFile::load(dir.path()).get(&PairingId::named("a")),
            Some(at(0))
        );
        // A minute later it is.
        assert!(file
            .save_if_due(contacts(&[("a", 60), ("b", 59)]), at(60), false)
            .unwrap());
        // Unchanged: never written.
        assert!(!file
            .save_if_due(contacts(&[("a", 60), ("b", 59)]), at(600), false)
            .unwrap());

        let again = ContactsFile::load(dir.path());
        assert_eq!(again.get(&PairingId::named("a")), Some(at(60)));
        assert_eq!(again.get(&PairingId::named("b")), Some(at(59)));
    }

    #[test]
    fn a_removed_pairing_leaves_the_file_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = ContactsFile::load(dir.path());
        file.save_if_due(contacts(&[("a", 0), ("b", 0)]), at(0), false)
            .unwrap();
        assert!(file
            .save_if_due(contacts(&[("a", 0)]), at(1), true)
            .unwrap());
        let again = ContactsFile::load(dir.path());
        assert_eq!(again.get(&PairingId::named("b")), None);
        assert_eq!(again.get(&PairingId::named("a")), Some(at(0)));
    }

    #[test]
    fn a_damaged_file_reads_as_empty_and_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), b"{not json").unwrap();
        let mut file = ContactsFile::load(dir.path());
        assert_eq!(file.get(&PairingId::named("a")), None);
        assert!(file
            .save_if_due(contacts(&[("a", 5)]), at(5), false)
            .unwrap());
        assert_eq!(
            ContactsFile::load(dir.path()).get(&PairingId::named("a")),
            Some(at(5))
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mut file = ContactsFile::load(dir.path());
        file.save_if_due(contacts(&[("a", 0)]), at(0), false)
            .unwrap();
        let mode = std::fs::metadata(dir.path().join(FILE_NAME))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
