//! Pairing: the link preview, confirming (key made, registered, kept in the keychain),
//! removing, and the list of pairings.

use super::Wallet;
use crate::error::WalletError;
use crate::keystore::{KeyAccount, KeyStore};
use crate::links::{route, LinkAction};
use crate::model::{PairingPreviewView, PairingView, WalletUpdate};
use crate::registry::{Registered, RegistryError};
use crate::reveal::reveal_name;
use crate::sync::SyncStatus;
use countersign_core::api::PairPreview;
use countersign_core::keys::generate_signing_key;
use countersign_core::ServerUrl;

impl Wallet {
    pub(super) async fn load_key(
        &self,
        account: KeyAccount,
    ) -> Result<countersign_core::keys::SigningKey, WalletError> {
        let keys = self.inner.keys.clone();
        Ok(tokio::task::spawn_blocking(move || keys.load(&account))
            .await
            .map_err(|e| WalletError::Client(e.to_string()))??)
    }

    pub(super) fn is_paired(&self, server: &ServerUrl) -> bool {
        self.inner
            .registry
            .lock()
            .expect("registry lock")
            .get(server)
            .is_some()
    }

    /// The paired services with their connection state.
    pub fn pairings(&self) -> Vec<PairingView> {
        let registry = self.inner.registry.lock().expect("registry lock");
        let services = self.inner.services.lock().expect("services lock");
        registry
            .entries()
            .iter()
            .map(|Registered { pairing: p, .. }| PairingView {
                server: p.server.to_string(),
                service_id: reveal_name(&p.service_id),
                approver_id: reveal_name(&p.approver_id),
                approver_name: reveal_name(&p.approver_name),
                key_id: reveal_name(&p.key_id),
                status: services
                    .get(&p.server)
                    .map(|s| s.status.clone())
                    .unwrap_or(SyncStatus::Connecting),
            })
            .collect()
    }

    /// What a `countersign://` link asks for (pairing is only ever proposed, never done).
    pub fn open_link(&self, text: &str) -> Result<LinkAction, WalletError> {
        let registry = self.inner.registry.lock().expect("registry lock");
        route(text, &registry.all())
    }

    /// Who `code` pairs as on `server` (the code is not used up).
    pub(super) async fn fetch_preview(
        &self,
        server: &ServerUrl,
        code: &str,
    ) -> Result<PairPreview, WalletError> {
        server
            .require_secure_transport()
            .map_err(|e| WalletError::InsecureServer(e.to_string()))?;
        self.inner
            .connector
            .preview(server, code)
            .await
            .map_err(|e| WalletError::from_client(e, server, None))
    }

    /// The confirmation screen of a pairing link.
    pub async fn preview_pairing(
        &self,
        server: &ServerUrl,
        code: &str,
    ) -> Result<PairingPreviewView, WalletError> {
        let preview = self.fetch_preview(server, code).await?;
        self.refuse_service_elsewhere(server, &preview.service_id)?;
        let replaces_existing = self
            .inner
            .registry
            .lock()
            .expect("registry lock")
            .get(server)
            .is_some();
        Ok(PairingPreviewView {
            server: server.to_string(),
            service_id: reveal_name(&preview.service_id),
            approver_id: reveal_name(&preview.approver_id),
            approver_name: reveal_name(&preview.approver_name),
            expires_at: preview.expires_at,
            replaces_existing,
        })
    }

    /// Refuses a pairing with `server` whose service id another server's pairing has.
    pub(super) fn refuse_service_elsewhere(
        &self,
        server: &ServerUrl,
        service_id: &str,
    ) -> Result<(), WalletError> {
        let registry = self.inner.registry.lock().expect("registry lock");
        match registry.service_elsewhere(service_id, server) {
            Some(other) => Err(WalletError::ServiceAlreadyPaired {
                server: server.clone(),
                service_id: service_id.to_string(),
                paired_with: other.pairing.server.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Pairs after the person confirmed: makes a key, stores it in the keychain under a fresh
    /// local account name, registers its public half (signed, for the previewed service),
    /// checks the answer, records the pairing and starts syncing.
    ///
    /// Refused, touching no other pairing: plain http to a non-loopback host, a service id
    /// another server's pairing has, an answer naming another key id, service or approver
    /// than this key and the preview. A failed pairing deletes only the key it created.
    pub async fn confirm_pairing(
        &self,
        server: &ServerUrl,
        code: &str,
    ) -> Result<PairingView, WalletError> {
        let preview = self.fetch_preview(server, code).await?;
        self.refuse_service_elsewhere(server, &preview.service_id)?;
        let key = generate_signing_key();
        // The key is in the keychain before the service knows it: a key the service accepted
        // is never lost. Its entry has a name no service chose, so saving it cannot replace
        // another pairing's key; if pairing fails, this entry (and only it) is removed again.
        let account = KeyAccount::random();
        self.blocking_keys({
            let (account, key) = (account.clone(), key.clone());
            move |keys| keys.save(&account, &key)
        })
        .await?;
        match self.register(server, code, &preview, &key, &account).await {
            Ok(old) => {
                if let Some(old) = old {
                    // The same server paired again (the person confirmed the replacement).
                    let old_account = old.key_account;
                    let _ = self
                        .blocking_keys(move |keys| keys.delete(&old_account))
                        .await;
                }
            }
            Err(e) => {
                let _ = self.blocking_keys(move |keys| keys.delete(&account)).await;
                return Err(e);
            }
        }
        self.connect(
            self.inner
                .registry
                .lock()
                .expect("registry lock")
                .get(server)
                .expect("just paired")
                .pairing
                .clone(),
            key,
        );
        Ok(self
            .pairings()
            .into_iter()
            .find(|p| p.server == server.to_string())
            .expect("just paired"))
    }

    /// Registers `key` with the service, checks the answer and records the pairing; returns
    /// the pairing it replaced (same server).
    pub(super) async fn register(
        &self,
        server: &ServerUrl,
        code: &str,
        preview: &PairPreview,
        key: &countersign_core::keys::SigningKey,
        account: &KeyAccount,
    ) -> Result<Option<Registered>, WalletError> {
        let device = self.inner.config.device_name.clone();
        let pairing = self
            .inner
            .connector
            .pair(server, code, preview, &device, key)
            .await
            .map_err(|e| WalletError::from_client(e, server, None))?;
        if &pairing.server != server {
            return Err(WalletError::PairingMismatch(format!(
                "the pairing answer is for {}, not {server}",
                pairing.server
            )));
        }
        pairing
            .check_against(preview, &key.verifying_key())
            .map_err(|e| WalletError::from_client(e, server, None))?;
        let entry = Registered {
            pairing,
            key_account: account.clone(),
        };
        let mut registry = self.inner.registry.lock().expect("registry lock");
        registry.upsert(entry).map_err(|e| match e {
            RegistryError::ServiceTaken {
                service_id,
                server: paired_with,
            } => WalletError::ServiceAlreadyPaired {
                server: server.clone(),
                service_id,
                paired_with,
            },
            other => other.into(),
        })
    }

    pub(super) async fn blocking_keys<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn KeyStore) -> Result<T, crate::keystore::KeyStoreError> + Send + 'static,
    ) -> Result<T, WalletError> {
        let keys = self.inner.keys.clone();
        Ok(tokio::task::spawn_blocking(move || f(&*keys))
            .await
            .map_err(|e| WalletError::Client(e.to_string()))??)
    }

    /// Forgets a pairing: stops syncing, clears its requests and deletes its key.
    pub async fn remove_pairing(&self, server: &ServerUrl) -> Result<(), WalletError> {
        let removed = self
            .inner
            .registry
            .lock()
            .expect("registry lock")
            .remove(server)?;
        if let Some(s) = self
            .inner
            .services
            .lock()
            .expect("services lock")
            .remove(server)
        {
            if let Some(t) = s.task {
                t.abort();
            }
        }
        self.inner
            .reviews
            .lock()
            .expect("reviews lock")
            .retain(|(s, _), _| s != server);
        self.inner
            .seen
            .lock()
            .expect("seen lock")
            .retain(|(s, _, _)| s != server);
        let count = {
            let mut inbox = self.inner.inbox.lock().expect("inbox lock");
            inbox.forget_service(server);
            inbox.count(self.inner.clock.now())
        };
        self.inner
            .observer
            .update(WalletUpdate::InboxChanged { count });
        if let Some(Registered { key_account, .. }) = removed {
            self.blocking_keys(move |keys| keys.delete(&key_account))
                .await?;
        }
        Ok(())
    }
}
