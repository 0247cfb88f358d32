//! The view's commands: each parses its arguments and calls the Wallet. Errors reach the view
//! as `{code, message}` ([`WalletError`]); no command returns a bare string error.
//!
//! Nothing here signs by itself: `decide` names a request the Wallet fetched and verified (by
//! the pairing's local id and the approval id), and echoes the digest the view showed; the
//! Wallet signs its own verified statement with that pairing's key.

use crate::autostart::{Autostart, AutostartError};
use crate::state::{AppState, Navigation};
use countersign_core::{ServerUrl, Verdict};
use countersign_wallet::links::LinkAction;
use countersign_wallet::model::{QuietHoursView, SettingsView};
use countersign_wallet::pages::BodyPage;
use countersign_wallet::registry::PairingId;
use countersign_wallet::review::ReviewView;
use countersign_wallet::wallet::{HistoryPage, InboxPage, PairingPreviewView, PairingView};
use countersign_wallet::WalletError;
use tauri::{AppHandle, Runtime, State};
use uuid::Uuid;

type Result<T> = std::result::Result<T, WalletError>;

fn server(text: &str) -> Result<ServerUrl> {
    Ok(ServerUrl::parse(text)?)
}

/// The view listens for events now: returns where it should go (links and notification
/// clicks that arrived before it listened, oldest first).
#[tauri::command]
pub fn ui_ready(state: State<'_, AppState>) -> Vec<Navigation> {
    state.views.lock().expect("view queue lock").mark_ready()
}

/// Pending requests `offset..offset + limit`, newest first, and how many there are.
#[tauri::command]
pub fn inbox(state: State<'_, AppState>, offset: u32, limit: u32) -> InboxPage {
    state.wallet.inbox_page(offset, limit)
}

/// Pairings (one per approver of a service), their connection state, key fingerprint and
/// last contact.
#[tauri::command]
pub fn pairings(state: State<'_, AppState>) -> Vec<PairingView> {
    state.wallet.pairings()
}

/// What a `countersign://` link asks for.
#[tauri::command]
pub async fn open_link(state: State<'_, AppState>, link: String) -> Result<LinkAction> {
    state.wallet.open_link(&link).await
}

/// The pairing confirmation screen's content.
#[tauri::command]
pub async fn preview_pairing(
    state: State<'_, AppState>,
    server_url: String,
    code: String,
) -> Result<PairingPreviewView> {
    state
        .wallet
        .preview_pairing(&server(&server_url)?, &code)
        .await
}

/// Pairs, after the person confirmed.
#[tauri::command]
pub async fn confirm_pairing(
    state: State<'_, AppState>,
    server_url: String,
    code: String,
) -> Result<PairingView> {
    state
        .wallet
        .confirm_pairing(&server(&server_url)?, &code)
        .await
}

/// Forgets a pairing and deletes its key.
#[tauri::command]
pub async fn remove_pairing(state: State<'_, AppState>, pairing: String) -> Result<()> {
    state
        .wallet
        .remove_pairing(&PairingId::named(pairing))
        .await
}

/// Fetches, verifies and shows one request.
#[tauri::command]
pub async fn review(
    state: State<'_, AppState>,
    pairing: String,
    approval_id: Uuid,
) -> Result<ReviewView> {
    state
        .wallet
        .review(&PairingId::named(pairing), approval_id)
        .await
}

/// The person saw the body of the request last shown to its end (the digest it showed).
/// The Wallet signs an approval only after this, for that digest.
#[tauri::command]
pub async fn body_seen(
    state: State<'_, AppState>,
    pairing: String,
    approval_id: Uuid,
    shown_digest: String,
) -> Result<()> {
    state
        .wallet
        .body_seen(&PairingId::named(pairing), approval_id, &shown_digest)
        .await
}

/// One page of the body of the request last shown (the Wallet records it as fetched).
#[tauri::command]
pub async fn body_page(
    state: State<'_, AppState>,
    pairing: String,
    approval_id: Uuid,
    shown_digest: String,
    index: u32,
) -> Result<BodyPage> {
    state
        .wallet
        .body_page(
            &PairingId::named(pairing),
            approval_id,
            &shown_digest,
            index,
        )
        .await
}

/// Approves or denies the request last shown.
#[tauri::command]
pub async fn decide(
    state: State<'_, AppState>,
    pairing: String,
    approval_id: Uuid,
    verdict: Verdict,
    comment: Option<String>,
    shown_digest: String,
) -> Result<ReviewView> {
    state
        .wallet
        .decide(
            &PairingId::named(pairing),
            approval_id,
            verdict,
            comment,
            &shown_digest,
        )
        .await
}

/// Searches finished requests for `query`: the first `limit` rows and how many matched.
#[tauri::command]
pub async fn history(state: State<'_, AppState>, query: String, limit: u32) -> Result<HistoryPage> {
    state.wallet.history_search(&query, limit).await
}

/// Rows `offset..offset + limit` of the history search `search`.
#[tauri::command]
pub fn history_page(
    state: State<'_, AppState>,
    search: u64,
    offset: u32,
    limit: u32,
) -> Result<HistoryPage> {
    state.wallet.history_page(search, offset, limit)
}

/// The settings screen: notifications per pairing and quiet hours.
#[tauri::command]
pub fn settings(state: State<'_, AppState>) -> SettingsView {
    state.wallet.settings()
}

/// Turns one pairing's desktop notifications on or off.
#[tauri::command]
pub fn set_notifications(
    state: State<'_, AppState>,
    pairing: String,
    enabled: bool,
) -> Result<SettingsView> {
    state
        .wallet
        .set_notifications(&PairingId::named(pairing), enabled)
}

/// Sets quiet hours (`HH:MM` local times), or clears them with `null`.
#[tauri::command]
pub fn set_quiet_hours(
    state: State<'_, AppState>,
    hours: Option<QuietHoursView>,
) -> Result<SettingsView> {
    state.wallet.set_quiet_hours(hours)
}

/// Whether the Wallet starts in the tray at login (its autostart entry exists).
#[tauri::command]
pub fn start_at_login<R: Runtime>(app: AppHandle<R>) -> std::result::Result<bool, AutostartError> {
    Ok(autostart_entry(&app)?.enabled())
}

/// Writes or removes the autostart entry; returns the setting as it now is.
#[tauri::command]
pub fn set_start_at_login<R: Runtime>(
    app: AppHandle<R>,
    enabled: bool,
) -> std::result::Result<bool, AutostartError> {
    let entry = autostart_entry(&app)?;
    if enabled {
        let exe = std::env::current_exe().map_err(|source| AutostartError::Io {
            path: "the Wallet's executable".into(),
            source,
        })?;
        let name = app
            .config()
            .product_name
            .clone()
            .unwrap_or_else(|| "Countersign Wallet".into());
        entry.enable(&exe, &name)?;
    } else {
        entry.disable()?;
    }
    Ok(entry.enabled())
}

fn autostart_entry<R: Runtime>(
    app: &AppHandle<R>,
) -> std::result::Result<Autostart, AutostartError> {
    Autostart::for_user(&app.config().identifier)
}
