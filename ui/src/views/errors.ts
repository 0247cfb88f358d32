// Error screens: one per error code that deserves its own words. Never a silent failure, and
// an approval link to an unknown server never leads to pairing.
import { h } from "../dom";
import type { WalletError } from "../types";

const TITLES: Record<string, string> = {
  malformed_link: "This link cannot be used",
  not_paired: "This Wallet is not paired with that server",
  unknown_approval: "Request not found",
  integrity: "Do not approve: this request failed verification",
  stale_review: "The request changed",
  not_pending: "This request is already decided",
  unreachable: "The service cannot be reached",
  refused: "The service refused",
  keychain_unavailable: "The system keychain is not available",
  key_not_found: "The signing key is missing",
};

const ADVICE: Record<string, string> = {
  not_paired:
    "Approval links only open for services this Wallet is paired with. Nothing was done. If you expected this request, ask your administrator for a pairing link for that server.",
  malformed_link: "The link is damaged or not a Countersign link. Nothing was done.",
  unknown_approval: "The service does not know this request, or it is not addressed to you.",
  integrity: "What the service sent does not match its own digest. Nothing was signed. Tell your administrator.",
  keychain_unavailable: "The Wallet keeps signing keys only in the system keychain. Unlock it and try again.",
};

export function errorView(e: WalletError, back: () => void): HTMLElement {
  return h(
    "section",
    { class: "error-screen", role: "alert", "data-testid": "error", "data-code": e.code },
    h("h1", {}, TITLES[e.code] ?? "Something went wrong"),
    h("p", { class: "error-message", "data-testid": "error-message" }, e.message),
    ADVICE[e.code] ? h("p", {}, ADVICE[e.code]) : null,
    h("button", { onclick: back }, "Back to the inbox"),
  );
}
