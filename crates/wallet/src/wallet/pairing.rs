//! Pairing: the link preview, confirming (key made, registered, kept in the keychain),
//! removing, and the list of pairings.

use super::Wallet;
use crate::error::WalletError;
use crate::keystore::{KeyAccount, KeyStore};
use crate::links::{route, LinkAction};
use crate::model::{PairingPreviewView, PairingView, WalletUpdate};
use crate::registry::{fingerprint, PairingId, Registered, RegistryError};
use crate::reveal::reveal_name;
use crate::review::{can_decide, is_eligible};
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

    /// True while `entry` is recorded with its key account (not removed, not paired again).
    pub(super) fn has_key_account(&self, entry: &Registered) -> bool {
        self.inner
            .registry
            .lock()
            .expect("registry lock")
            .get(&entry.id)
            .is_some_and(|e| e.key_account == entry.key_account)
    }

    /// Every pairing (identity), in the order they were made, with its connection state, key
    /// fingerprint, last contact and whether it notifies.
    pub fn pairings(&self) -> Vec<PairingView> {
        let registry = self.inner.registry.lock().expect("registry lock");
        let muted = self
            .inner
            .settings
            .lock()
            .expect("settings lock")
            .get()
            .muted
            .clone();
        let services = self.inner.services.lock().expect("services lock");
        registry
            .entries()
            .iter()
            .map(|e| {
                let p = &e.pairing;
                let service = services.get(&e.id);
                PairingView {
                    id: e.id.to_string(),
                    server: p.server.to_string(),
                    service_id: reveal_name(&p.service_id),
                    approver_id: reveal_name(&p.approver_id),
                    approver_name: reveal_name(&p.approver_name),
                    key_id: reveal_name(&p.key_id),
                    fingerprint: e
                        .fingerprint
                        .clone()
                        .or_else(|| service.and_then(|s| s.fingerprint.clone())),
                    last_contact: service.and_then(|s| s.last_contact),
                    notifications: !muted.contains(&e.id),
                    status: service
                        .map(|s| s.status.clone())
                        .unwrap_or(SyncStatus::Connecting),
                }
            })
            .collect()
    }

    /// What a `countersign://` link asks for (pairing is only ever proposed, never done). An
    /// approval link of a service paired as several approvers opens as the first of them that
    /// can still decide on it (eligible, not decided, still pending), else the first that can
    /// see it, else the first.
    pub async fn open_link(&self, text: &str) -> Result<LinkAction, WalletError> {
        let (action, candidates) = {
            let registry = self.inner.registry.lock().expect("registry lock");
            let action = route(text, registry.entries())?;
            let candidates: Vec<Registered> = match &action {
                LinkAction::OpenApproval { server, .. } => {
                    registry.of_server(server).cloned().collect()
                }
                LinkAction::ConfirmPairing { .. } => Vec::new(),
            };
            (action, candidates)
        };
        match action {
            LinkAction::OpenApproval {
                server,
                approval_id,
                pairing,
            } if candidates.len() > 1 => Ok(LinkAction::OpenApproval {
                pairing: self
                    .choose_identity(&candidates, approval_id)
                    .await
                    .map_or(pairing, |id| id.to_string()),
                server,
                approval_id,
            }),
            other => Ok(other),
        }
    }

    /// Which of `candidates` (pairings of one server) to open `approval_id` as: asks the
    /// service as each of them (nothing is kept or signed).
    async fn choose_identity(
        &self,
        candidates: &[Registered],
        approval_id: uuid::Uuid,
    ) -> Option<PairingId> {
        let now = self.inner.clock.now();
        let mut visible = None;
        for entry in candidates {
            let Ok(source) = self.source(&entry.id).await else {
                continue;
            };
            let Ok(review) = source.review(approval_id).await else {
                continue;
            };
            let me = &entry.pairing.approver_id;
            if can_decide(review.detail(), me, now) && is_eligible(review.detail(), me) {
                return Some(entry.id.clone());
            }
            visible.get_or_insert_with(|| entry.id.clone());
        }
        visible
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
        let (replaces_existing, others) = {
            let registry = self.inner.registry.lock().expect("registry lock");
            let same = registry
                .of_server(server)
                .filter(|e| e.pairing.approver_id == preview.approver_id)
                .count();
            (same > 0, registry.of_server(server).count() - same)
        };
        Ok(PairingPreviewView {
            server: server.to_string(),
            service_id: reveal_name(&preview.service_id),
            approver_id: reveal_name(&preview.approver_id),
            approver_name: reveal_name(&preview.approver_name),
            expires_at: preview.expires_at,
            replaces_existing,
            other_identities: others as u32,
        })
    }

    /// Refuses a pairing with `server` whose service id another server's pairing has, or
    /// that says `server` is another service than its pairings are.
    pub(super) fn refuse_service_elsewhere(
        &self,
        server: &ServerUrl,
        service_id: &str,
    ) -> Result<(), WalletError> {
        let registry = self.inner.registry.lock().expect("registry lock");
        match registry.conflict(service_id, server) {
            Some(e) => Err(conflict_error(e, server, service_id)),
            None => Ok(()),
        }
    }

    /// Pairs after the person confirmed: makes a key, stores it in the keychain under a fresh
    /// local account name, registers its public half (signed, for the previewed service),
    /// checks the answer, records the pairing and starts syncing. An approver of this service
    /// paired already is paired again: its key is replaced (the old keychain entry deleted),
    /// its local id, settings and history stay. Another approver is a new pairing beside the
    /// others.
    ///
    /// Refused, touching no other pairing: plain http to a non-loopback host, a service id
    /// another server's pairing has, a server paired as another service, an answer naming
    /// another key id, service or approver than this key and the preview. A failed pairing
    /// deletes only the key it created.
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
        let id = match self.register(server, code, &preview, &key, &account).await {
            Ok((id, old)) => {
                if let Some(old) = old {
                    // The same approver paired again (the person confirmed the replacement):
                    // what was reviewed under the old key is forgotten, its entry deleted.
                    self.forget_reviews(&id);
                    let old_account = old.key_account;
                    if let Err(e) = self
                        .blocking_keys(move |keys| keys.delete(&old_account))
                        .await
                    {
                        tracing::warn!("the replaced key was not deleted: {e}");
                    }
                }
                id
            }
            Err(e) => {
                let _ = self.blocking_keys(move |keys| keys.delete(&account)).await;
                return Err(e);
            }
        };
        let entry = self
            .inner
            .registry
            .lock()
            .expect("registry lock")
            .get(&id)
            .cloned()
            .expect("just paired");
        self.connect(&entry, key);
        Ok(self
            .pairings()
            .into_iter()
            .find(|p| p.id == id.as_str())
            .expect("just paired"))
    }

    /// Drops what pairing `id` reviewed (nothing of it can be signed any more).
    fn forget_reviews(&self, id: &PairingId) {
        self.inner
            .reviews
            .lock()
            .expect("reviews lock")
            .retain(|(p, _), _| p != id);
        self.inner
            .seen
            .lock()
            .expect("seen lock")
            .retain(|(p, _, _)| p != id);
        self.inner
            .ledgers
            .lock()
            .expect("ledgers lock")
            .retain(|(p, _, _), _| p != id);
    }

    /// Registers `key` with the service, checks the answer and records the pairing; returns
    /// its local id and the pairing it replaced (same approver of the same service).
    pub(super) async fn register(
        &self,
        server: &ServerUrl,
        code: &str,
        preview: &PairPreview,
        key: &countersign_core::keys::SigningKey,
        account: &KeyAccount,
    ) -> Result<(PairingId, Option<Registered>), WalletError> {
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
        let service_id = pairing.service_id.clone();
        let mut registry = self.inner.registry.lock().expect("registry lock");
        registry
            .upsert(
                pairing,
                account.clone(),
                Some(fingerprint(&key.verifying_key())),
            )
            .map_err(|e| conflict_error(e, server, &service_id))
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

    /// Forgets pairing `id`: stops its sync loop, clears its requests and reviews, deletes its
    /// key from the keychain and its settings. The other pairings (of the same service too)
    /// go on as they were. Only the view calls this, with a local id: nothing a service sends
    /// leads here.
    pub async fn remove_pairing(&self, id: &PairingId) -> Result<(), WalletError> {
        let removed = self
            .inner
            .registry
            .lock()
            .expect("registry lock")
            .remove(id)?
            .ok_or_else(|| WalletError::UnknownPairing {
                pairing: id.to_string(),
            })?;
        let count = {
            let mut services = self.inner.services.lock().expect("services lock");
            if let Some(t) = services.remove(id).and_then(|s| s.task) {
                t.abort();
            }
            let mut inbox = self.inner.inbox.lock().expect("inbox lock");
            inbox.forget_service(id);
            inbox.count(self.inner.clock.now())
        };
        self.forget_reviews(id);
        self.inner
            .observer
            .update(WalletUpdate::InboxChanged { count });
        super::live::save_contacts(&self.inner, self.inner.clock.now(), true);
        if let Err(e) = self.forget_settings_of(id) {
            tracing::warn!("the removed pairing's settings were not cleared: {e}");
        }
        let key_account = removed.key_account;
        self.blocking_keys(move |keys| keys.delete(&key_account))
            .await?;
        Ok(())
    }
}

/// The view's error for a pairing the registry refused.
fn conflict_error(e: RegistryError, server: &ServerUrl, service_id: &str) -> WalletError {
    match e {
        RegistryError::ServiceTaken {
            service_id,
            server: paired_with,
        } => WalletError::ServiceAlreadyPaired {
            server: server.clone(),
            service_id,
            paired_with,
        },
        RegistryError::ServerIsAnotherService { server, paired_as } => {
            WalletError::ServerIsAnotherService {
                server,
                service_id: service_id.to_string(),
                paired_as,
            }
        }
        other => other.into(),
    }
}
