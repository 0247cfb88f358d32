// Pairing: the confirmation screen (server and approver name, nothing happens before Confirm)
// and the list of pairings: one per approver of a service (say personal and on-call), each
// with its service, approver, key fingerprint and last contact.
import { h, revealed } from "../dom";
import { formatTime } from "../time";
import type { PairingPreview, PairingView } from "../types";

export function pairConfirmView(p: PairingPreview, confirm: () => void, cancel: () => void, busy: boolean): HTMLElement {
  return h(
    "section",
    { class: "pair-confirm", "data-testid": "pair-confirm" },
    h("h1", {}, "Pair this Wallet?"),
    h("p", {}, "You are about to approve requests as:"),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Approver"),
      h("dd", { "data-testid": "pair-approver" }, revealed(p.approver_name, "name"), h("span", { class: "muted" }, " (", revealed(p.approver_id), ")")),
      h("dt", {}, "Server"),
      h("dd", { "data-testid": "pair-server" }, p.server),
      h("dt", {}, "Service id"),
      h("dd", {}, revealed(p.service_id)),
      h("dt", {}, "Code valid until"),
      h("dd", {}, formatTime(p.expires_at)),
    ),
    p.approver_name.warning || p.approver_id.warning || p.service_id.warning
      ? h("p", { class: "warning-banner", role: "alert" }, "The service's answer contains hidden or direction-changing characters, shown as ⟨U+…⟩.")
      : null,
    p.replaces_existing
      ? h("p", { class: "warning-banner", "data-testid": "pair-replaces" }, "This Wallet is already paired as this approver of this service; confirming replaces that pairing's key (its history and settings stay).")
      : null,
    p.other_identities > 0
      ? h(
          "p",
          { class: "muted", "data-testid": "pair-beside" },
          `This Wallet is also paired with this service as ${p.other_identities} other approver${p.other_identities === 1 ? "" : "s"}; this pairing is added beside ${p.other_identities === 1 ? "it" : "them"}, with its own key.`,
        )
      : null,
    h("p", { class: "muted" }, "A new signing key is created and kept in your system keychain; only its public half is sent."),
    h(
      "div",
      { class: "buttons" },
      h("button", { onclick: cancel, "data-testid": "pair-cancel" }, "Cancel"),
      h("button", { class: "approve", disabled: busy, onclick: confirm, "data-testid": "pair-confirm-button" }, "Pair"),
    ),
  );
}

export function pairingsView(list: PairingView[], remove: (pairing: string) => void): HTMLElement {
  const root = h("section", { class: "pairings", "data-testid": "pairings" }, h("h1", {}, "Pairings"));
  if (list.length === 0) {
    root.appendChild(h("p", { class: "empty" }, "None yet. Open a countersign://pair link, or paste it above."));
    return root;
  }
  const ul = h("ul", { class: "rows" });
  for (const p of list) {
    const state = p.status.state === "retrying" ? `reconnecting (${p.status.why})` : p.status.state === "failed" ? `failed: ${p.status.why}` : p.status.state;
    ul.appendChild(
      h(
        "li",
        { class: "pairing", "data-testid": "pairing", "data-pairing": p.id },
        h("div", {}, h("strong", {}, revealed(p.approver_name, "name")), " (", revealed(p.approver_id, "approver-id"), `) at ${p.server}`),
        h("div", { class: "muted" }, "service ", revealed(p.service_id), " · key ", revealed(p.key_id), ` · ${state}`, p.notifications ? "" : " · notifications off"),
        h("div", { class: "muted fingerprint", "data-testid": "pairing-fingerprint", title: "SHA-256 of this device's public key for this pairing" }, p.fingerprint ?? "fingerprint shown once the key is loaded"),
        h(
          "div",
          { class: "muted", "data-testid": "pairing-contact" },
          p.last_contact ? `last contact ${formatTime(p.last_contact)}` : "no contact since the Wallet started",
        ),
        h("button", { class: "link danger", "data-testid": "pairing-remove", onclick: () => remove(p.id) }, "Remove pairing"),
      ),
    );
  }
  root.appendChild(ul);
  return root;
}
