//! Settings: notifications on or off per pairing, and quiet hours.

use super::sink::notifications_route;
use super::Wallet;
use crate::error::WalletError;
use crate::model::{PairingNotifications, QuietHoursView, SettingsView};
use crate::registry::PairingId;
use crate::reveal::reveal_name;
use crate::settings::{QuietHours, Route};

impl Wallet {
    /// The settings screen now.
    pub fn settings(&self) -> SettingsView {
        let pairings = self
            .inner
            .registry
            .lock()
            .expect("registry lock")
            .entries()
            .to_vec();
        let quiet_now = notifications_route(&self.inner, None) == Route::Quiet;
        let settings = self.inner.settings.lock().expect("settings lock");
        let s = settings.get();
        SettingsView {
            pairings: pairings
                .iter()
                .map(|e| PairingNotifications {
                    id: e.id.to_string(),
                    server: e.pairing.server.to_string(),
                    approver_name: reveal_name(&e.pairing.approver_name),
                    approver_id: reveal_name(&e.pairing.approver_id),
                    notifications: !s.muted.contains(&e.id),
                })
                .collect(),
            quiet_hours: s.quiet_hours.map(|q| QuietHoursView {
                from: q.from.to_string(),
                to: q.to.to_string(),
            }),
            quiet_now,
        }
    }

    /// Turns desktop notifications of pairing `id` on or off (its requests reach the inbox
    /// either way).
    pub fn set_notifications(
        &self,
        id: &PairingId,
        enabled: bool,
    ) -> Result<SettingsView, WalletError> {
        // Holding the registry lock: the pairing cannot be removed in between.
        let registry = self.inner.registry.lock().expect("registry lock");
        if registry.get(id).is_none() {
            return Err(WalletError::UnknownPairing {
                pairing: id.to_string(),
            });
        }
        self.inner
            .settings
            .lock()
            .expect("settings lock")
            .update(|s| {
                if enabled {
                    s.muted.remove(id);
                } else {
                    s.muted.insert(id.clone());
                }
            })?;
        drop(registry);
        Ok(self.settings())
    }

    /// Sets quiet hours (`HH:MM` to `HH:MM`, local time), or clears them with `None`.
    pub fn set_quiet_hours(
        &self,
        hours: Option<QuietHoursView>,
    ) -> Result<SettingsView, WalletError> {
        let quiet = match hours {
            Some(h) => Some(QuietHours::new(h.from.parse()?, h.to.parse()?)?),
            None => None,
        };
        self.inner
            .settings
            .lock()
            .expect("settings lock")
            .update(|s| s.quiet_hours = quiet)?;
        Ok(self.settings())
    }

    /// Drops the settings of a removed pairing.
    pub(super) fn forget_settings_of(&self, id: &PairingId) -> Result<(), WalletError> {
        let mut settings = self.inner.settings.lock().expect("settings lock");
        if settings.get().muted.contains(id) {
            settings.update(|s| {
                s.muted.remove(id);
            })?;
        }
        Ok(())
    }
}
