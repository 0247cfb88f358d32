// Settings: desktop notifications on or off per pairing, and quiet hours (no desktop
// notification between two local times; the inbox still updates). A section of the settings
// screen, beside "start at login".
import { h, revealed } from "../dom";
import type { QuietHoursView, SettingsView } from "../types";

export interface NotificationActions {
  setNotifications: (pairing: string, enabled: boolean) => void;
  setQuietHours: (hours: QuietHoursView | null) => void;
}

export function notificationSettings(s: SettingsView, act: NotificationActions): HTMLElement {
  const root = h("div", { class: "notification-settings", "data-testid": "notification-settings" });
  root.appendChild(h("h2", {}, "Notifications"));
  if (s.pairings.length === 0) {
    root.appendChild(h("p", { class: "empty" }, "No pairing yet."));
  }
  for (const p of s.pairings) {
    const id = `notify-${p.id}`;
    const box = h("input", { type: "checkbox", id, "data-testid": "notify-toggle", "data-pairing": p.id }) as HTMLInputElement;
    box.checked = p.notifications;
    box.addEventListener("change", () => act.setNotifications(p.id, box.checked));
    root.appendChild(
      h(
        "p",
        { class: "setting" },
        box,
        " ",
        h("label", { for: id }, revealed(p.approver_name, "name"), " (", revealed(p.approver_id), `) at ${p.server}`),
      ),
    );
  }

  root.appendChild(h("h2", {}, "Quiet hours"));
  const from = h("input", { type: "time", value: s.quiet_hours?.from ?? "22:00", "data-testid": "quiet-from", "aria-label": "quiet from" }) as HTMLInputElement;
  const to = h("input", { type: "time", value: s.quiet_hours?.to ?? "07:00", "data-testid": "quiet-to", "aria-label": "quiet until" }) as HTMLInputElement;
  const on = h("input", { type: "checkbox", id: "quiet-on", "data-testid": "quiet-on" }) as HTMLInputElement;
  on.checked = s.quiet_hours !== null;
  const apply = () => act.setQuietHours(on.checked ? { from: from.value, to: to.value } : null);
  on.addEventListener("change", apply);
  from.addEventListener("change", () => on.checked && apply());
  to.addEventListener("change", () => on.checked && apply());
  root.appendChild(
    h("p", { class: "setting" }, on, " ", h("label", { for: "quiet-on" }, "No desktop notifications from "), from, " to ", to, " (local time)"),
  );
  root.appendChild(
    h(
      "p",
      { class: "muted", "data-testid": "quiet-state" },
      s.quiet_now ? "It is quiet hours now: requests arrive in the inbox without a notification." : "Requests always reach the inbox; these settings only silence the desktop.",
    ),
  );
  return root;
}
