// Settings: "start at login" (the Wallet's autostart entry, which starts it in the tray),
// followed by the other sections (notifications per pairing, quiet hours: notifications.ts).
import { h } from "../dom";

export function settingsView(
  startAtLogin: boolean,
  setStartAtLogin: (enabled: boolean) => void,
  ...sections: HTMLElement[]
): HTMLElement {
  const box = h("input", { type: "checkbox", id: "start-at-login", "data-testid": "start-at-login" }) as HTMLInputElement;
  box.checked = startAtLogin;
  box.addEventListener("change", () => setStartAtLogin(box.checked));
  return h(
    "section",
    { class: "settings", "data-testid": "settings" },
    h("h1", {}, "Settings"),
    h("p", {}, box, " ", h("label", { for: "start-at-login" }, "Start at login, in the tray")),
    h("p", { class: "muted" }, "Adds the Wallet to your desktop's startup applications, with its window hidden until a request arrives or you open it."),
    ...sections,
  );
}
