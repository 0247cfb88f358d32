//! Where device keys live: the [`KeyStore`] trait, the OS keychain behind it
//! ([`KeychainStore`]) and an in-memory one for tests ([`MemoryKeyStore`]).
//!
//! Invariant: a private key is only ever held by a `KeyStore` and by the approver client in
//! memory. It is never written to the Wallet's data directory, never serialized for the view,
//! and never logged (`SigningKey`'s `Debug` does not print the secret).
//!
//! Keychain entries use service `countersign` and an account name the Wallet makes itself, at
//! random, for each pairing (`pairing-<32 hex digits>`, recorded in the pairing list). Entries
//! are never named by ids a service asserts: a hostile service that answers with another
//! pairing's ids cannot make the Wallet overwrite or delete that pairing's key. (Pairings made
//! before this rule keep their old `<service_id>/<approver_id>` entry, see
//! [`KeyAccount::legacy`].) The secret is the 32-byte Ed25519 seed in base64url, so
//! `secret-tool lookup service countersign username <account>` finds it (and text-only
//! keychains such as KDE Wallet can hold it).

use countersign_core::encoding::{b64_decode, b64_encode, random_bytes};
use countersign_core::keys::SigningKey;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

/// The keychain service name of every Countersign key.
pub const KEYCHAIN_SERVICE: &str = "countersign";

/// Which key: the keychain account name of one pairing, chosen by this Wallet.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyAccount(String);

/// The prefix of the account names [`KeyAccount::random`] makes.
pub const ACCOUNT_PREFIX: &str = "pairing-";

impl KeyAccount {
    /// A fresh local name for a new pairing: `pairing-` and 16 random bytes in hex.
    pub fn random() -> Self {
        Self(format!(
            "{ACCOUNT_PREFIX}{}",
            hex::encode(random_bytes::<16>())
        ))
    }

    /// An account with this exact name (tools and tests).
    pub fn named(name: impl Into<String>) -> Self {
        Self(name.into())
    }

    /// The name pairings made before local names had: `<service_id>/<approver_id>`. Only
    /// used to find those pairings' keys; never for a new pairing.
    pub fn legacy(service_id: &str, approver_id: &str) -> Self {
        Self(format!("{service_id}/{approver_id}"))
    }

    /// The account name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A keychain failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyStoreError {
    /// No key is stored for the account.
    #[error("no key for {0} in the keychain")]
    NotFound(String),
    /// The keychain is absent, locked, or refused access.
    #[error("the keychain is not available: {0}")]
    Unavailable(String),
    /// The stored value is not an Ed25519 seed.
    #[error("the keychain entry for {0} is not a Countersign key")]
    Corrupt(String),
}

impl KeyStoreError {
    /// The stable code shown to the view.
    pub fn code(&self) -> &'static str {
        match self {
            KeyStoreError::NotFound(_) => "key_not_found",
            KeyStoreError::Unavailable(_) => "keychain_unavailable",
            KeyStoreError::Corrupt(_) => "key_corrupt",
        }
    }
}

/// Storage of device signing keys. Calls may block (D-Bus): call them off the async runtime.
pub trait KeyStore: Send + Sync {
    /// Stores `key` for `account`, replacing any previous one.
    fn save(&self, account: &KeyAccount, key: &SigningKey) -> Result<(), KeyStoreError>;
    /// Loads the key of `account`.
    fn load(&self, account: &KeyAccount) -> Result<SigningKey, KeyStoreError>;
    /// Deletes the key of `account`; deleting a missing key is not an error.
    fn delete(&self, account: &KeyAccount) -> Result<(), KeyStoreError>;
}

fn encode_seed(key: &SigningKey) -> String {
    b64_encode(key.to_bytes())
}

fn decode_seed(account: &KeyAccount, text: &str) -> Result<SigningKey, KeyStoreError> {
    let bytes = b64_decode(text.trim()).map_err(|_| KeyStoreError::Corrupt(account.to_string()))?;
    let seed: [u8; 32] = bytes
        .try_into()
        .map_err(|_| KeyStoreError::Corrupt(account.to_string()))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Keys in process memory only, for tests.
#[derive(Default)]
pub struct MemoryKeyStore {
    keys: Mutex<HashMap<KeyAccount, String>>,
}

impl MemoryKeyStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many keys it holds.
    pub fn len(&self) -> usize {
        self.keys.lock().expect("key store lock").len()
    }

    /// True when it holds no key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl KeyStore for MemoryKeyStore {
    fn save(&self, account: &KeyAccount, key: &SigningKey) -> Result<(), KeyStoreError> {
        self.keys
            .lock()
            .expect("key store lock")
            .insert(account.clone(), encode_seed(key));
        Ok(())
    }

    fn load(&self, account: &KeyAccount) -> Result<SigningKey, KeyStoreError> {
        let keys = self.keys.lock().expect("key store lock");
        let text = keys
            .get(account)
            .ok_or_else(|| KeyStoreError::NotFound(account.to_string()))?;
        decode_seed(account, text)
    }

    fn delete(&self, account: &KeyAccount) -> Result<(), KeyStoreError> {
        self.keys.lock().expect("key store lock").remove(account);
        Ok(())
    }
}

/// The OS keychain through the keyring ecosystem (`keyring-core` with an explicitly chosen
/// store: the Secret Service over D-Bus on Linux and the BSDs, the login keychain on macOS,
/// Credential Manager on Windows). There is no silent fallback to a mock: when the store is
/// missing or locked, every call fails with [`KeyStoreError::Unavailable`]. Only the Secret
/// Service store is tested (here, against gnome-keyring); the others are compiled only.
pub struct KeychainStore {
    store: Mutex<Option<Arc<keyring_core::CredentialStore>>>,
}

impl Default for KeychainStore {
    fn default() -> Self {
        Self::new()
    }
}

impl KeychainStore {
    /// A store that connects to the keychain on first use (and again after a failure).
    pub fn new() -> Self {
        Self {
            store: Mutex::new(None),
        }
    }

    fn connect() -> Result<Arc<keyring_core::CredentialStore>, KeyStoreError> {
        #[cfg(all(
            unix,
            not(any(target_os = "macos", target_os = "ios", target_os = "android"))
        ))]
        {
            let store = zbus_secret_service_keyring_store::Store::new().map_err(unavailable)?;
            Ok(store)
        }
        #[cfg(target_os = "macos")]
        {
            // The user's login keychain (no provisioning profile needed).
            let store = apple_native_keyring_store::keychain::Store::new().map_err(unavailable)?;
            Ok(store)
        }
        #[cfg(windows)]
        {
            let store = windows_native_keyring_store::Store::new().map_err(unavailable)?;
            Ok(store)
        }
        #[cfg(not(any(all(unix, not(any(target_os = "ios", target_os = "android"))), windows)))]
        {
            Err(KeyStoreError::Unavailable(
                "no keychain store is built for this platform".into(),
            ))
        }
    }

    fn entry(&self, account: &KeyAccount) -> Result<keyring_core::Entry, KeyStoreError> {
        let mut guard = self.store.lock().expect("keychain lock");
        let store = match guard.as_ref() {
            Some(s) => s.clone(),
            None => {
                let s = Self::connect()?;
                *guard = Some(s.clone());
                s
            }
        };
        keyring_core::Entry::new_in_store(&store, KEYCHAIN_SERVICE, &account.to_string())
            .map_err(unavailable)
    }
}

fn unavailable(e: keyring_core::Error) -> KeyStoreError {
    KeyStoreError::Unavailable(e.to_string())
}

impl KeyStore for KeychainStore {
    fn save(&self, account: &KeyAccount, key: &SigningKey) -> Result<(), KeyStoreError> {
        self.entry(account)?
            .set_password(&encode_seed(key))
            .map_err(unavailable)
    }

    fn load(&self, account: &KeyAccount) -> Result<SigningKey, KeyStoreError> {
        match self.entry(account)?.get_password() {
            Ok(text) => decode_seed(account, &text),
            Err(keyring_core::Error::NoEntry) => Err(KeyStoreError::NotFound(account.to_string())),
            Err(keyring_core::Error::BadEncoding(_)) => {
                Err(KeyStoreError::Corrupt(account.to_string()))
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    fn delete(&self, account: &KeyAccount) -> Result<(), KeyStoreError> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use countersign_core::keys::generate_signing_key;

    #[test]
    fn memory_store_round_trips_and_deletes() {
        let store = MemoryKeyStore::new();
        let account = KeyAccount::random();
        assert!(account.as_str().starts_with(ACCOUNT_PREFIX));
        assert_eq!(account.as_str().len(), ACCOUNT_PREFIX.len() + 32);
        assert_ne!(account, KeyAccount::random());
        assert_eq!(KeyAccount::legacy("svc_1", "alice").as_str(), "svc_1/alice");
        assert!(matches!(
            store.load(&account),
            Err(KeyStoreError::NotFound(_))
        ));
        let key = generate_signing_key();
        store.save(&account, &key).unwrap();
        assert_eq!(store.load(&account).unwrap().to_bytes(), key.to_bytes());
        store.delete(&account).unwrap();
        store.delete(&account).unwrap();
        assert!(store.is_empty());
    }

    #[test]
    fn a_corrupt_entry_is_reported() {
        let account = KeyAccount::named("pairing-test");
        assert!(matches!(
            decode_seed(&account, "AAAA"),
            Err(KeyStoreError::Corrupt(_))
        ));
        assert!(matches!(
            decode_seed(&account, "not base64!"),
            Err(KeyStoreError::Corrupt(_))
        ));
    }

    /// Runs only where a Secret Service is up and unlocked (see scripts/wallet-keychain-check.sh).
    #[test]
    #[ignore = "needs an unlocked Secret Service on the session bus"]
    fn keychain_round_trip() {
        let store = KeychainStore::new();
        let account = KeyAccount::random();
        let key = generate_signing_key();
        store.save(&account, &key).unwrap();
        assert_eq!(store.load(&account).unwrap().to_bytes(), key.to_bytes());
        store.delete(&account).unwrap();
        assert!(matches!(
            store.load(&account),
            Err(KeyStoreError::NotFound(_))
        ));
    }
}
