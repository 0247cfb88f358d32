// The only module that imports @tauri-apps: every other module calls these functions.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import {
  isWalletError,
  type BodyPage,
  type HistoryPage,
  type InboxPage,
  type LinkAction,
  type PairingPreview,
  type PairingView,
  type QuietHoursView,
  type ReviewView,
  type SettingsView,
  type WalletError,
  type WalletUpdate,
} from "./types";

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    if (isWalletError(e)) throw e;
    const err: WalletError = { code: "ipc", message: String(e) };
    throw err;
  }
}

/**
 * Where the view should go, kept by the Wallet while no view listened (src-tauri/src/state.rs,
 * `Navigation`): a countersign:// link, or a notification's click as a Wallet update.
 */
export type Navigation = { kind: "link"; link: string } | { kind: "update"; update: WalletUpdate };

export const api = {
  uiReady: () => call<Navigation[]>("ui_ready"),
  inbox: (offset: number, limit: number) => call<InboxPage>("inbox", { offset, limit }),
  pairings: () => call<PairingView[]>("pairings"),
  openLink: (link: string) => call<LinkAction>("open_link", { link }),
  previewPairing: (serverUrl: string, code: string) =>
    call<PairingPreview>("preview_pairing", { serverUrl, code }),
  confirmPairing: (serverUrl: string, code: string) =>
    call<PairingView>("confirm_pairing", { serverUrl, code }),
  removePairing: (pairing: string) => call<void>("remove_pairing", { pairing }),
  // A request is always named by the pairing (local id) it is shown to and the approval id.
  review: (pairing: string, approvalId: string) => call<ReviewView>("review", { pairing, approvalId }),
  bodyPage: (pairing: string, approvalId: string, shownDigest: string, index: number) =>
    call<BodyPage>("body_page", { pairing, approvalId, shownDigest, index }),
  bodySeen: (pairing: string, approvalId: string, shownDigest: string) =>
    call<void>("body_seen", { pairing, approvalId, shownDigest }),
  decide: (
    pairing: string,
    approvalId: string,
    verdict: "approve" | "deny",
    comment: string | null,
    shownDigest: string,
  ) => call<ReviewView>("decide", { pairing, approvalId, verdict, comment, shownDigest }),
  settings: () => call<SettingsView>("settings"),
  setNotifications: (pairing: string, enabled: boolean) =>
    call<SettingsView>("set_notifications", { pairing, enabled }),
  setQuietHours: (hours: QuietHoursView | null) => call<SettingsView>("set_quiet_hours", { hours }),
  history: (query: string, limit: number) => call<HistoryPage>("history", { query, limit }),
  historyPage: (search: number, offset: number, limit: number) =>
    call<HistoryPage>("history_page", { search, offset, limit }),
  startAtLogin: () => call<boolean>("start_at_login"),
  setStartAtLogin: (enabled: boolean) => call<boolean>("set_start_at_login", { enabled }),
};

export function onWalletUpdate(handler: (u: WalletUpdate) => void): Promise<UnlistenFn> {
  return listen<WalletUpdate>("wallet-update", (e) => handler(e.payload));
}

export function onOpenLink(handler: (link: string) => void): Promise<UnlistenFn> {
  return listen<string>("open-link", (e) => handler(e.payload));
}
